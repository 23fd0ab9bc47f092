//! Crash tests: the bot runs as its own process (the built binary, configured through
//! its environment) while the fakes live in the test. It is SIGKILLed inside each
//! stage of a deploy and started again on the same database, or one of two processes
//! sharing a PostgreSQL is killed. Every deploy must still end deployed, with one
//! Heroku build, one GitHub deployment and a thread of exactly four replies.

use crate::common::{self, crash_world, outcomes};
use chatops_sandbox::process as processes;

use std::time::{Duration, Instant};

use axum::http::Method;
use chatops::config::Config;
use chatops::store::DeployState;
use chatops_fakes::{Failure, Fakes, FaultRule};
use common::deploys::CHANNEL;
use crash_world::{CrashWorld, DEADLINE, LEASE};
use outcomes::eventually;
use processes::BotProcess;

const APP: &str = "paipu-app-staging";
const COMMAND: &str = "deploy paipu to staging";
const ACK: &str = "On it: deploying paipu to staging. Progress will show in this channel.";
/// How long a slowed request is held by a fake: the bot is killed meanwhile.
const HOLD: Duration = Duration::from_secs(2);
/// A message a dead bot was sending should go out about as soon as its deploys are
/// taken over (LEASE), not a fixed minute later; 30 s leaves room for a loaded CI box.
const REPLY_DEADLINE: Duration = Duration::from_secs(30);

/// Where in a deploy the bot is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Still `requested`: the GitHub deployment exists, the build request is on its
    /// way to Heroku (held there until after the kill).
    BeforeTheBuild,
    /// Still `requested`: the GitHub deployment and the build both exist, and the row
    /// knows neither (the bot dies while posting the `in_progress` status).
    AfterTheBuild,
    Building,
    Releasing,
    Restarting,
}

impl KillPoint {
    /// Holds the request the bot will be killed during, if the point needs one.
    fn arm(self, sandbox: &Fakes) {
        match self {
            KillPoint::BeforeTheBuild => sandbox.heroku.faults.inject(FaultRule::slow(
                Method::POST,
                &format!("/apps/{APP}/builds"),
                HOLD,
                1,
            )),
            KillPoint::AfterTheBuild => sandbox.github.faults.inject(FaultRule::slow(
                Method::POST,
                "/repos/heroku/paipu-repo/deployments/",
                HOLD,
                1,
            )),
            _ => {}
        }
    }

    /// The deploy's state at this point.
    fn state(self) -> DeployState {
        match self {
            KillPoint::BeforeTheBuild | KillPoint::AfterTheBuild => DeployState::Requested,
            KillPoint::Building => DeployState::Building,
            KillPoint::Releasing => DeployState::Releasing,
            KillPoint::Restarting => DeployState::Restarting,
        }
    }

    /// Waits until the first deploy is at this point.
    async fn reach(self, world: &CrashWorld) {
        let (heroku, github) = (&world.sandbox.heroku, &world.sandbox.github);
        match self {
            KillPoint::BeforeTheBuild => {
                let build_path = format!("/apps/{APP}/builds");
                eventually("the build request", DEADLINE, async || {
                    (heroku.count_requests("POST", &build_path) == 1).then_some(())
                })
                .await;
                let sandbox = &world.sandbox;
                let created = world.before.new_deployments(sandbox, "heroku/paipu-repo");
                let built = world.before.new_builds(sandbox, APP);
                assert_eq!((created, built), (1, 0), "GitHub deployment, no build yet");
            }
            KillPoint::AfterTheBuild => {
                eventually("the in_progress status post", DEADLINE, async || {
                    let requests = github.requests();
                    let posting = |r: &String| r.starts_with("POST ") && r.ends_with("/statuses");
                    requests.iter().any(posting).then_some(())
                })
                .await;
                let deploy = world.deploy_when(1, "the deploy", |_| true).await;
                assert_eq!(
                    (deploy.state.as_str(), deploy.build_id),
                    ("requested", None)
                );
                let built = world.before.new_builds(&world.sandbox, APP);
                assert_eq!(built, 1, "the build exists before the bot dies");
            }
            _ => {
                world.in_stage_and_quiet(1, self.state()).await;
            }
        }
    }
}

/// Kills the bot at `point` of a deploy, lets `while_down` change the world, and
/// starts another bot on the same database, on every backend; the deploy must finish
/// exactly once.
async fn crash_and_restart_at(point: KillPoint, while_down: impl Fn(&Fakes)) {
    for db in common::databases().await {
        let world = CrashWorld::new(db).await;
        point.arm(&world.sandbox);
        let bot = BotProcess::start("first", &world.config).await;
        assert_eq!(world.command(&bot, CHANNEL, COMMAND).await, ACK);
        point.reach(&world).await;
        let killed_at = Instant::now();
        bot.kill();
        while_down(&world.sandbox);
        // A held request is answered (or dropped) by the fake after HOLD; restarting
        // before then would race a build the dead process asked for.
        if matches!(point, KillPoint::BeforeTheBuild | KillPoint::AfterTheBuild) {
            tokio::time::sleep((killed_at + HOLD).saturating_duration_since(Instant::now())).await;
        }
        let restarted = BotProcess::start("restarted", &world.config).await;
        world.assert_all_deployed_once(1).await;
        let moved_on = restarted.count_logged(|line| {
            line["message"] == "deploy moved" && line["from"] == point.state().as_str()
        });
        assert_eq!(
            moved_on,
            1,
            "the restarted bot moved the deploy out of {}",
            point.state()
        );
        restarted.kill();
        world.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_requested_before_the_build_exists_the_restarted_bot_builds_once() {
    crash_and_restart_at(KillPoint::BeforeTheBuild, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_requested_after_the_build_was_created_the_restarted_bot_finds_it() {
    crash_and_restart_at(KillPoint::AfterTheBuild, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_building_the_restarted_bot_finishes_the_deploy() {
    crash_and_restart_at(KillPoint::Building, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_releasing_the_restarted_bot_finishes_the_deploy() {
    crash_and_restart_at(KillPoint::Releasing, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_restarting_the_restarted_bot_finishes_the_deploy() {
    crash_and_restart_at(KillPoint::Restarting, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_on_one_postgresql_finish_the_deploys_of_whichever_is_killed() {
    let Some(db) = common::databases()
        .await
        .into_iter()
        .find(|db| db.backend_name() == "postgres")
    else {
        eprintln!("skipped: set TEST_DATABASE_URL to run two bots on one PostgreSQL");
        return;
    };
    let world = CrashWorld::new(db).await;
    let heroku = &world.sandbox.heroku;
    // The first poll of the build is held, so the bot making it holds the deploy's
    // lease when it is killed.
    let poll = FaultRule::slow(Method::GET, &format!("/apps/{APP}/builds/"), HOLD, 1);
    heroku.faults.inject(poll);
    let configs = [world.config.clone(), world.second_config()];
    let a = BotProcess::start("A", &configs[0]).await;
    let b = BotProcess::start("B", &configs[1]).await;
    assert_eq!(world.command(&a, CHANNEL, COMMAND).await, ACK);
    assert_eq!(
        world
            .command(&b, "C0GENERAL", "deploy atlas to staging")
            .await,
        "On it: deploying atlas to staging. Progress will show in this channel."
    );
    let building = world
        .deploy_when(1, "deploy 1 building", |d| d.state == DeployState::Building)
        .await;
    let build_poll = format!("/apps/{APP}/builds/{}", building.build_id.clone().unwrap());
    let owner = eventually("the held build poll", DEADLINE, async || {
        if heroku.count_requests("GET", &build_poll) == 0 {
            return None;
        }
        world.peek.lease_owner(building.id).await
    })
    .await;
    let (holder, survivor, holder_config) = if a.owns(&owner) {
        (a, b, &configs[0])
    } else {
        (b, a, &configs[1])
    };
    assert!(holder.owns(&owner), "lease owner {owner} is neither bot");
    let holder_name = holder.name.clone();
    holder.kill();

    // The survivor takes the deploy over once the dead bot's lease expires.
    world
        .deploy_when(1, "the survivor to move deploy 1 on", |d| {
            d.state != DeployState::Building
        })
        .await;
    let moved = survivor.count_logged(|line| {
        line["message"] == "deploy moved"
            && line["deploy"] == building.id
            && line["from"] == "building"
    });
    assert_eq!(moved, 1, "{} moved deploy 1 out of building", survivor.name);

    // Then the survivor dies too, and the restarted first bot finishes both deploys.
    let restarted = BotProcess::start(&format!("{holder_name} restarted"), holder_config).await;
    world.in_stage_and_quiet(1, DeployState::Restarting).await;
    survivor.kill();
    world.assert_all_deployed_once(2).await;
    restarted.kill();
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_while_the_bot_is_down_does_not_split_the_deploy_across_two_commits() {
    crash_and_restart_at(KillPoint::AfterTheBuild, |sandbox| {
        let github = &sandbox.github;
        github
            .push_commit(
                "heroku/paipu-repo",
                "master",
                "Pushed while the bot is down",
                "alice",
            )
            .unwrap();
    })
    .await;
}

/// Kills the bot while its first reply (the release notes) hangs in chat.postMessage, before Slack
/// saw it or (`slack_took_it`) after Slack posted it; the restarted bot must post it
/// soon, and only if Slack does not have it yet.
async fn kill_while_a_reply_hangs(slack_took_it: bool) {
    for db in common::databases().await {
        let world = CrashWorld::new(db).await;
        let slack = &world.sandbox.slack;
        // The parent goes through; the next post, the release notes, never gets an
        // answer. (Armed before the deploy: the reply follows the parent at once.)
        let post = "/api/chat.postMessage";
        slack
            .faults
            .inject(FaultRule::slow(Method::POST, post, Duration::ZERO, 1));
        let hang = FaultRule::failing(Method::POST, post, Failure::Hang, 1);
        slack.faults.inject(if slack_took_it {
            hang.after_handling()
        } else {
            hang
        });
        let bot = BotProcess::start("first", &world.config).await;
        assert_eq!(world.command(&bot, CHANNEL, COMMAND).await, ACK);
        let replies = || {
            let parent = slack.channel_messages(CHANNEL).first().cloned();
            parent.map_or(0, |parent| slack.thread(CHANNEL, &parent.ts).len())
        };
        // Both faults struck: the reply reached Slack and hangs there. (Claimed alone
        // is not enough: on a loaded machine the kill could come before the send, and
        // the restarted bot's send would meet the hang instead.)
        eventually("the reply to be on its way", DEADLINE, async || {
            let claimed = world.peek.claimed_messages().await > 0;
            let sent = slack.faults.armed() == 0;
            (claimed && sent && replies() == usize::from(slack_took_it)).then_some(())
        })
        .await;
        bot.kill();
        let restarted = BotProcess::start("restarted", &world.config).await;
        let started = Instant::now();
        eventually(
            "the release notes after the restart",
            REPLY_DEADLINE,
            async || (replies() > 0 && world.peek.claimed_messages().await == 0).then_some(()),
        )
        .await;
        eprintln!(
            "the reply was settled {:?} after the restart",
            started.elapsed()
        );
        world.assert_all_deployed_once(1).await;
        restarted.kill();
        world.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_being_sent_when_the_bot_dies_is_sent_soon_after_the_restart() {
    kill_while_a_reply_hangs(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_slack_took_just_before_the_bot_died_is_not_posted_again() {
    kill_while_a_reply_hangs(true).await;
}

#[tokio::test]
async fn the_bot_process_reads_back_the_configuration_it_is_given() {
    use secrecy::ExposeSecret;
    let sandbox = Fakes::start().await.unwrap();
    let mut config = chatops_sandbox::bot_config(
        &sandbox,
        4321,
        "http://127.0.0.1:4321",
        "sqlite://x.db?mode=rwc",
    );
    config.deploy_lease = LEASE;
    let env = processes::env_of(&config);
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let read = Config::from_lookup(lookup).expect("a valid environment");
    assert_eq!(
        (
            read.port,
            read.base_url.as_str(),
            read.database_url.as_str()
        ),
        (4321, "http://127.0.0.1:4321", "sqlite://x.db?mode=rwc")
    );
    assert_eq!(read.endpoints, config.endpoints);
    assert_eq!(
        (read.poll_interval, read.deploy_lease, read.log_format),
        (config.poll_interval, LEASE, config.log_format)
    );
    let secrets = |c: &Config| {
        let slack_app = c.slack_app.as_ref().unwrap();
        [
            c.slack_signing_secret.expose_secret().to_owned(),
            c.slack_bot_token
                .as_ref()
                .unwrap()
                .expose_secret()
                .to_owned(),
            format!(
                "{}:{}",
                slack_app.client_id,
                slack_app.client_secret.expose_secret()
            ),
            format!(
                "{}:{}",
                c.heroku_oauth.client_id,
                c.heroku_oauth.client_secret.expose_secret()
            ),
            format!(
                "{}:{}",
                c.github_oauth.client_id,
                c.github_oauth.client_secret.expose_secret()
            ),
            c.encryption_key.expose_secret().to_owned(),
        ]
    };
    assert_eq!(secrets(&read), secrets(&config));
}
