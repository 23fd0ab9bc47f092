//! Helpers of the deploy queue tests: worlds with a third person on paipu, the
//! answers people are told (text and buttons), queueing a deploy, and the checks of a
//! deploy that started from the line.

use chatops::store::{DeployRow, DeployState};
use chatops_fakes::SANDBOX_TEAM;

use super::TestClock;
use super::commands::{say, worlds_configured};
use super::deploys::{DeployWorld, assert_state, expected_notes, settle_outbox};
use super::outcomes::assert_thread;

/// 2026-12-02T14:02:10Z.
pub const AT_14_02: i64 = 1_796_083_200 + 14 * 3600 + 2 * 60 + 10;
/// A third person deploying paipu: a member of team acme on Heroku, erin on GitHub.
pub const DORA: &str = "U0DORA";
pub const APP: &str = "paipu-app-staging";
pub const REPO: &str = "heroku/paipu-repo";
pub const WAITS: &str = "On it: deploying paipu to staging, waiting in line if the app is busy. Progress will show in this channel.";
/// The end of every queued answer at 14:02 with the default one hour to wait.
pub const UNTIL_15_02: &str = "It starts when the app is free, with its branch's head at that time, or leaves the line at 15:02 UTC.";

/// Worlds (alice, bruno, bob and dora linked) configured by `configure` too.
pub async fn queue_worlds(
    configure: impl Fn(&mut chatops::config::Config),
) -> Vec<(DeployWorld, TestClock)> {
    let worlds = worlds_configured(AT_14_02, configure).await;
    for (world, _) in &worlds {
        let apps = ["paipu-app-staging", "paipu-app-production"];
        let deploy: &[&str] = &["view", "deploy"];
        (world.app.sandbox.heroku).add_team_member("dora@example.com", &apps.map(|a| (a, deploy)));
        chatops_sandbox::bot::link_user(
            &world.app.state,
            &world.app.sandbox,
            SANDBOX_TEAM,
            DORA,
            "dora@example.com",
            "erin",
        )
        .await
        .expect("link dora");
    }
    worlds
}

/// An ephemeral answer: its text and its buttons' `(action_id, value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub text: String,
    pub buttons: Vec<(String, String)>,
}

/// [`queue_worlds`] as configured by default (a queued deploy waits up to an hour).
pub async fn hour_worlds() -> Vec<(DeployWorld, TestClock)> {
    queue_worlds(|_| {}).await
}

/// The newest `response_url` answer `user` got, once the outbox is drained.
pub async fn told(world: &DeployWorld, user: &str) -> Seen {
    settle_outbox(&world.app).await;
    let responses = world.app.sandbox.slack.responses();
    let last = responses.iter().rev().find(|r| r.user == user);
    let last = last.unwrap_or_else(|| panic!("{user} was answered: {responses:#?}"));
    Seen {
        text: last.text.clone(),
        buttons: (last.blocks.iter())
            .filter(|block| block["type"] == "actions")
            .flat_map(|block| block["elements"].as_array().cloned().unwrap_or_default())
            .map(|button| {
                let field = |name: &str| button[name].as_str().unwrap_or_default().to_owned();
                (field("action_id"), field("value"))
            })
            .collect(),
    }
}

/// `/h <text>` as `user`, which must queue deploy number `n`; returns what `user` is
/// told about their place.
pub async fn queue(world: &DeployWorld, user: &str, text: &str, n: usize) -> Seen {
    assert_eq!(say(world, user, text).await.text, WAITS, "{text}");
    world.wait_for_state(n, DeployState::Queued).await;
    told(world, user).await
}

/// Checks deploy `d` went all the way after waiting in line, its requester told in
/// its thread which commit it read when its turn came.
pub async fn assert_deployed_from_the_line(world: &DeployWorld, d: &DeployRow, head: &str) {
    assert_state(d, DeployState::Deployed);
    settle_outbox(&world.app).await;
    assert_eq!(
        d.sha.as_deref(),
        Some(head),
        "deploy {} ships the head",
        d.id
    );
    let replies = [
        expected_notes(&world.app.sandbox, d, APP),
        format!("Deploying {APP} ... duration: Ns"),
        format!(
            "<@{}> your turn came: deploying master at {}, its head now.",
            d.user_id,
            &head[..8]
        ),
        format!("Releasing {APP} ... duration: Ns"),
        format!("Restarting {APP} ... duration: Ns"),
        format!("Deployed {APP} ... duration: Ns"),
    ];
    let (slack, store) = (&world.app.sandbox.slack, &world.app.state.store);
    assert_thread(slack, store, d.id, &format!("Deployed {APP}"), &replies).await;
}

/// The builds of the app made for `deploys`, in the order Heroku got them.
pub fn build_order(world: &DeployWorld, deploys: &[&DeployRow]) -> Vec<i64> {
    let builds = world.app.sandbox.heroku.builds(APP);
    let mut order: Vec<(usize, i64)> = deploys
        .iter()
        .map(|d| {
            let build = d.build_id.as_deref().expect("a build");
            let at = builds
                .iter()
                .position(|b| b.id == build)
                .expect("its build");
            (at, d.id)
        })
        .collect();
    order.sort();
    order.into_iter().map(|(_, id)| id).collect()
}
