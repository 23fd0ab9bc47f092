//! The deploy queue across processes: two bot processes share one PostgreSQL, both
//! looking at the same app's line; one is SIGKILLed while the first deploy runs and
//! started again. Each queued deploy must start once, in the order it was queued,
//! with exactly one Heroku build and one GitHub deployment, and its requester told.

use crate::common::{self, crash_world, outcomes};

use std::time::Duration;

use chatops::store::{DeployRow, DeployState};
use chatops_fakes::heroku::Timings;
use chatops_sandbox::process::BotProcess;
use common::deploys::{CHANNEL, expected_notes};
use crash_world::CrashWorld;

const APP: &str = "paipu-app-staging";
const BRUNO: &str = "U0BRUNO";
const DORA: &str = "U0DORA";
const WAITS: &str = "On it: deploying paipu to staging, waiting in line if the app is busy. Progress will show in this channel.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_on_one_postgresql_start_each_queued_deploy_once_in_order_across_a_kill() {
    let Some(db) = common::databases()
        .await
        .into_iter()
        .find(|db| db.backend_name() == "postgres")
    else {
        eprintln!("skipped: set TEST_DATABASE_URL to run two bots on one PostgreSQL");
        return;
    };
    let world = CrashWorld::new(db).await;
    // The crash tests' stage: long enough for a deploy's posts (six, at Slack's
    // pace) to go out while it releases, so the kill lands with the outbox idle.
    let stage = crash_world::STAGE;
    world.sandbox.heroku.set_timings(Timings {
        build: stage,
        release_phase: stage,
        restart: stage,
        promotion: Duration::from_millis(10),
    });
    let deploy: &[&str] = &["view", "deploy"];
    (world.sandbox.heroku).add_team_member("dora@example.com", &[(APP, deploy)]);
    world.link(BRUNO, "bruno@example.com", "bruno").await;
    world.link(DORA, "dora@example.com", "erin").await;
    let configs = [world.config.clone(), world.second_config()];
    let a = BotProcess::start("A", &configs[0]).await;
    let b = BotProcess::start("B", &configs[1]).await;

    world.command(&a, CHANNEL, "deploy paipu to staging").await;
    world
        .deploy_when(1, "deploy 1 building", |d| d.state == DeployState::Building)
        .await;
    for (n, (bot, user)) in [(&b, BRUNO), (&a, DORA)].into_iter().enumerate() {
        let text = "deploy paipu to staging queue";
        assert_eq!(world.command_as(bot, CHANNEL, user, text).await, WAITS);
        world
            .deploy_when(n + 2, "a queued deploy", |d| d.state == DeployState::Queued)
            .await;
    }

    // A dies while both look at the line; B and then a new A carry on.
    world.in_stage_and_quiet(1, DeployState::Releasing).await;
    a.kill();
    world
        .deploy_when(2, "bruno's turn", |d| d.state != DeployState::Queued)
        .await;
    let restarted = BotProcess::start("A restarted", &configs[0]).await;

    let deploys = outcomes::all_finished(&world.db.store, 3, crash_world::DEADLINE).await;
    outcomes::outbox_drained(&world.db.store, crash_world::DEADLINE).await;
    let store = &world.db.store;
    outcomes::assert_deployed_once(&world.sandbox, store, &deploys[0]).await;
    for d in &deploys[1..] {
        assert_started_once_from_the_line(&world, d).await;
    }
    world.before.assert_one_each(&world.sandbox, &deploys);
    world.assert_delivered_and_unlocked().await;
    let builds = world.sandbox.heroku.builds(APP);
    let order: Vec<usize> = (deploys.iter())
        .map(|d| {
            (builds.iter())
                .position(|b| Some(&b.id) == d.build_id.as_ref())
                .unwrap()
        })
        .collect();
    assert!(order.is_sorted(), "built in the order queued: {order:?}");
    for pair in deploys.windows(2) {
        assert!(
            pair[0].finished_at.unwrap() <= pair[1].stage_started_at,
            "deploy {} started after {} ended",
            pair[1].id,
            pair[0].id
        );
    }
    b.kill();
    restarted.kill();
    world.finish().await;
}

/// Deployed, its build of its sha, and a thread telling the deploy once with its
/// requester told which commit it read when its turn came.
async fn assert_started_once_from_the_line(world: &CrashWorld, d: &DeployRow) {
    assert_eq!(
        (d.state, d.failure.as_deref()),
        (DeployState::Deployed, None)
    );
    let sha = d.sha.as_deref().unwrap();
    let replies = [
        expected_notes(&world.sandbox, d, APP),
        format!("Deploying {APP} ... duration: Ns"),
        format!(
            "<@{}> your turn came: deploying master at {}, its head now.",
            d.user_id,
            &sha[..8]
        ),
        format!("Releasing {APP} ... duration: Ns"),
        format!("Restarting {APP} ... duration: Ns"),
        format!("Deployed {APP} ... duration: Ns"),
    ];
    let (slack, store) = (&world.sandbox.slack, &world.db.store);
    outcomes::assert_thread(slack, store, d.id, &format!("Deployed {APP}"), &replies).await;
}
