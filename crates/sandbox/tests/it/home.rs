//! The App Home dashboard end to end: a signed `app_home_opened` in, a `views.publish`
//! out, read with the person's own tokens, on every backend, with exact texts. The
//! app's clock is set 30 minutes after the fake's newest seeded release, so ages are
//! fixed. Other people and other workspaces are tried first.

use std::time::{Duration, Instant};

use crate::common;
use crate::home_events::{home_opened, json_headers};

use chatops::store::DeployState;
use chatops_fakes::SANDBOX_TEAM;
use common::SECRET;
use common::commands::{BOB, BRUNO, SEED_EPOCH, release_sha, say, worlds};
use common::deploys::{ALICE, CHANNEL, DeployWorld, assert_state, finished_deploy, settle_outbox};
use serde_json::Value;

/// 30 minutes and 30 seconds after `paipu-app-staging`'s current release (v230).
const NOW: i64 = SEED_EPOCH + 1_123_200 + 30 * 60 + 30;

const CONTEXT: &str = "Kept up to date while you look at it. `/h help` lists every command.";

/// `user` opens the app's Home tab in `team`: the event Slack sends, signed at the
/// app's time (the fake Slack signs at the wall clock, which these tests moved).
pub async fn open_home(world: &DeployWorld, team: &str, user: &str) {
    let body = home_opened(team, user);
    let headers = json_headers(SECRET, world.app.state.clock.now(), body.as_bytes());
    let (status, text) = world.app.post("/slack/events", &headers, body).await;
    assert_eq!(status, 200, "{text}");
}

/// The texts of a published Home view's blocks (sections, then each context element).
pub fn texts(view: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    for block in view["blocks"].as_array().unwrap() {
        match block["type"].as_str().unwrap() {
            "section" => texts.push(block["text"]["text"].as_str().unwrap().to_owned()),
            "context" => texts.extend(
                block["elements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["text"].as_str().unwrap().to_owned()),
            ),
            "actions" => texts.push(buttons(block)),
            other => texts.push(format!("({other})")),
        }
    }
    texts
}

/// A row of buttons as `[text|action_id|value] …`.
fn buttons(block: &Value) -> String {
    let buttons = block["elements"].as_array().unwrap().iter().map(|button| {
        format!(
            "[{}|{}|{}]",
            button["text"]["text"].as_str().unwrap(),
            button["action_id"].as_str().unwrap(),
            button["value"].as_str().unwrap()
        )
    });
    buttons.collect::<Vec<_>>().join(" ")
}

/// Waits until `user`'s published Home tab satisfies `done`; returns its texts.
pub async fn home_until(
    world: &DeployWorld,
    team: &str,
    user: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let home = world.app.sandbox.slack.home(team, user);
        let texts = home
            .as_ref()
            .map(|home| texts(&home.view))
            .unwrap_or_default();
        if home.is_some() && done(&texts) {
            return texts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out; the Home tab of {user} reads {texts:#?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn sha8(world: &DeployWorld, app: &str, version: u64) -> String {
    release_sha(world, app, version)[..8].to_owned()
}

fn app_line(world: &DeployWorld, app: &str, version: u64, who: &str, age: &str) -> String {
    format!(
        "• {app}: v{version} · {} · {who} · {age}",
        sha8(world, app, version)
    )
}

#[tokio::test]
async fn home_shows_each_pipeline_stage_and_what_its_apps_run() {
    for (world, _) in worlds(NOW).await {
        open_home(&world, SANDBOX_TEAM, ALICE).await;
        let texts = home_until(&world, SANDBOX_TEAM, ALICE, |_| true).await;
        let alice = "alice@example.com";
        let erin = "erin@example.com";
        assert_eq!(
            texts,
            [
                "*Pipelines alice@example.com can see*".to_owned(),
                "*atlas*".into(),
                format!(
                    "_staging_\n{}",
                    app_line(&world, "atlas-staging", 14, alice, "18d ago")
                ),
                format!(
                    "_production_\n{}\n{}",
                    app_line(&world, "atlas-eu", 10, alice, "18d ago"),
                    app_line(&world, "atlas-us", 10, alice, "18d ago")
                ),
                "Deploy it once with `/h deploy atlas` in a channel; its buttons then post there."
                    .into(),
                "*paipu*".into(),
                format!(
                    "_staging_\n{}",
                    app_line(&world, "paipu-app-staging", 230, alice, "30m ago")
                ),
                format!(
                    "_production_\n{}",
                    app_line(&world, "paipu-app-production", 42, alice, "15d ago")
                ),
                "Deploy it once with `/h deploy paipu` in a channel; its buttons then post there."
                    .into(),
                "*vault*".into(),
                format!(
                    "_staging_\n{}",
                    app_line(&world, "vault-app-staging", 8, erin, "18d ago")
                ),
                format!(
                    "_production_\n{}",
                    app_line(&world, "vault-app-production", 7, erin, "18d ago")
                ),
                "Deploy it once with `/h deploy vault` in a channel; its buttons then post there."
                    .into(),
                CONTEXT.into(),
            ]
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn other_people_see_only_their_own_and_other_workspaces_are_ignored() {
    for (world, _) in worlds(NOW).await {
        // A genuine event naming Alice in a workspace the bot never heard of: her
        // sandbox links must not answer it, and nothing is published anywhere.
        open_home(&world, "T0OTHER", ALICE).await;
        open_home(&world, SANDBOX_TEAM, BOB).await;
        open_home(&world, SANDBOX_TEAM, "U0CAROL").await;
        assert_eq!(
            home_until(&world, SANDBOX_TEAM, BOB, |_| true).await,
            [
                "*Pipelines bob@example.com can see*",
                "None yet: ask a pipeline's owner to add you to its team or apps.",
                CONTEXT,
            ]
        );
        assert_eq!(
            home_until(&world, SANDBOX_TEAM, "U0CAROL", |_| true).await,
            [
                "*Welcome to chatops.*\nThis tab shows the Heroku pipelines you can see, read with your own Heroku and GitHub accounts, which are not linked yet.\nType `/h login` in any channel to link them, then open this tab again."
            ]
        );
        let slack = &world.app.sandbox.slack;
        assert_eq!(slack.home("T0OTHER", ALICE), None);
        assert_eq!(slack.home(SANDBOX_TEAM, ALICE), None);
        let store = &world.app.db.store;
        assert_eq!(store.home_tab("T0OTHER", ALICE).await.unwrap(), None);
        world.finish().await;
    }
}

#[tokio::test]
async fn home_is_republished_with_locks_and_the_last_deploy_when_they_change() {
    for (world, _) in worlds(NOW).await {
        open_home(&world, SANDBOX_TEAM, ALICE).await;
        home_until(&world, SANDBOX_TEAM, ALICE, |_| true).await;
        let publishes = || {
            let calls = world.app.sandbox.slack.api_calls();
            calls.iter().filter(|c| c.method == "views.publish").count()
        };
        assert_eq!(publishes(), 1);
        say(
            &world,
            BRUNO,
            "lock paipu production for 2h <!channel> freeze <https://evil|x>",
        )
        .await;
        say(&world, ALICE, "deploy paipu to staging").await;
        let deploy = finished_deploy(&world.app).await;
        assert_state(&deploy, DeployState::Deployed);
        settle_outbox(&world.app).await;
        let parent = world.app.sandbox.slack.channel_messages(CHANNEL)[0].clone();
        let staging = |texts: &[String]| texts.iter().any(|t| t.contains("v231"));
        let texts = home_until(&world, SANDBOX_TEAM, ALICE, staging).await;
        let sha = deploy.sha.unwrap();
        let link = format!(
            "{}/archives/{CHANNEL}/p{}",
            world.app.sandbox.slack_url,
            parent.ts.replace('.', "")
        );
        let paipu = texts.iter().position(|t| t == "*paipu*").unwrap();
        assert_eq!(
            texts[paipu + 1..paipu + 6],
            [
                format!(
                    "_staging_\n• paipu-app-staging: v231 · {} (master) · alice@example.com · just now\n<{link}|Last deploy's thread>",
                    &sha[..8]
                ),
                "[Deploy to staging|home_deploy|deploy paipu to staging] \
                 [Promote to production|home_promote|promote paipu from staging to production]"
                    .to_owned(),
                format!(
                    "_production_\n{}\n:lock: locked by <@U0BRUNO>: &lt;!channel&gt; freeze &lt;https://evil|x&gt;",
                    app_line(
                        &world,
                        "paipu-app-production",
                        42,
                        "alice@example.com",
                        "15d ago"
                    )
                ),
                "[Deploy to production|home_deploy|deploy paipu to production]".to_owned(),
                format!("Its buttons post in <#{CHANNEL}>, where its last deploy was announced."),
            ]
        );
        // The lock, then each step of the deploy, came within the debounce of each
        // other: a handful of publishes, not one per change.
        assert!(publishes() <= 4, "{} publishes", publishes());
        world.finish().await;
    }
}

#[tokio::test]
async fn a_running_deploy_and_the_line_behind_it_show_in_their_stage() {
    for (world, _) in worlds(NOW).await {
        let heroku = &world.app.sandbox.heroku;
        heroku.set_timings(chatops_fakes::heroku::Timings {
            build: Duration::from_secs(60),
            ..chatops_fakes::heroku::Timings::FAST
        });
        say(&world, ALICE, "deploy paipu to staging").await;
        let building = world.wait_for_state(1, DeployState::Building).await;
        let queued = say(&world, BRUNO, "deploy paipu/feature-x to staging queue").await;
        assert_eq!(
            queued.text,
            "On it: deploying paipu/feature-x to staging, waiting in line if the app is busy. \
             Progress will show in this channel."
        );
        world.wait_for_state(2, DeployState::Queued).await;
        open_home(&world, SANDBOX_TEAM, ALICE).await;
        let running = |texts: &[String]| texts.iter().any(|t| t.contains(":busstop:"));
        let texts = home_until(&world, SANDBOX_TEAM, ALICE, running).await;
        let staging = texts.iter().find(|t| t.contains(":hourglass:")).unwrap();
        let parent = world.app.sandbox.slack.channel_messages(CHANNEL)[0].clone();
        let link = format!(
            "{}/archives/{CHANNEL}/p{}",
            world.app.sandbox.slack_url,
            parent.ts.replace('.', "")
        );
        assert_eq!(
            *staging,
            format!(
                "_staging_\n{}\n:hourglass: <@U0ALICE> is deploying master ({}): building, started just now\n\
                 :busstop: 1st in line for paipu-app-staging: <@U0BRUNO>'s deploy of paipu/feature-x, queued just now\n\
                 <{link}|Last deploy's thread>",
                app_line(
                    &world,
                    "paipu-app-staging",
                    230,
                    "alice@example.com",
                    "30m ago"
                ),
                &building.sha.unwrap()[..8]
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_publish_slack_could_not_take_is_retried_and_a_refused_one_is_not() {
    use chatops_fakes::{Failure, FaultRule};
    for (world, _) in worlds(NOW).await {
        let slack = &world.app.sandbox.slack;
        // Every attempt of the first publish gets a 503; the next one goes through.
        let attempts = common::PATIENCE.retry.attempts;
        let down = FaultRule::failing(
            axum::http::Method::POST,
            "/api/views.publish",
            Failure::Status(503),
            attempts,
        );
        slack.faults.inject(down);
        open_home(&world, SANDBOX_TEAM, ALICE).await;
        home_until(&world, SANDBOX_TEAM, ALICE, |_| true).await;
        assert_eq!(slack.faults.armed(), 0);
        // Bruno is linked, but Slack knows no U0BRUNO here: refused once, not again.
        open_home(&world, SANDBOX_TEAM, BRUNO).await;
        let refused = || {
            let calls = slack.api_calls();
            let refused = calls
                .iter()
                .filter(|c| c.error.as_deref() == Some("invalid_arguments"));
            refused.count()
        };
        let started = Instant::now();
        while refused() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "never published"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(chatops::home::DEBOUNCE + Duration::from_millis(500)).await;
        assert_eq!(refused(), 1);
        world.finish().await;
    }
}
