//! Helpers of the pipeline, lock, route and doctor tests: a deploy world with a second
//! Slack user who is Alice's teammate on Heroku and GitHub (two people of one team)
//! and one on Bob's (who can see nothing), commands signed at the app's own time, and waits on the channel.

use std::time::{Duration, Instant};

use chatops_fakes::SANDBOX_TEAM;

use super::deploys::{ALICE, DeployWorld};
use super::{TestApp, TestClock};

/// A teammate of Alice: his own Heroku and GitHub accounts (one account belongs to one
/// person), with Alice's access to paipu and atlas.
pub const BRUNO: &str = "U0BRUNO";
/// Linked to the fakes' `bob`, who can see no pipeline.
pub const BOB: &str = "U0BOB";
/// The channel routed notifications go to in these tests.
pub const GENERAL: &str = "C0GENERAL";

/// 2024-03-01T09:00:00Z, where the fake Heroku's seeded history is anchored.
pub const SEED_EPOCH: i64 = 1_709_283_600;

/// The immediate answer to a command: who sees it and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub in_channel: bool,
    pub text: String,
}

/// Deploy worlds on every backend, with Bruno and Bob linked, each reading time from
/// its own clock, set to Unix time `at` when the world is made. Deploys to production
/// go ahead without the confirmation (tests/confirm.rs covers it).
pub async fn worlds(at: i64) -> Vec<(DeployWorld, TestClock)> {
    worlds_configured(at, |_| {}).await
}

/// [`worlds`], each app's configuration changed by `configure` too.
pub async fn worlds_configured(
    at: i64,
    configure: impl Fn(&mut chatops::config::Config),
) -> Vec<(DeployWorld, TestClock)> {
    let mut worlds = Vec::new();
    for db in super::databases().await {
        let clock = TestClock::default();
        clock.advance(at - super::now());
        let no_confirmation = |config: &mut chatops::config::Config| {
            config.production_confirm = false;
            configure(config);
        };
        let app = TestApp::spawn_configured(db, clock.clock(), no_confirmation).await;
        let world = DeployWorld::new(app).await;
        for (user, email, login) in [
            (BRUNO, "bruno@example.com", "bruno"),
            (BOB, "bob@example.com", "bob"),
        ] {
            chatops_sandbox::bot::link_user(
                &world.app.state,
                &world.app.sandbox,
                SANDBOX_TEAM,
                user,
                email,
                login,
            )
            .await
            .expect("link a test user");
        }
        worlds.push((world, clock));
    }
    worlds
}

/// `/h <text>` typed by `user` in #deploys, signed at the app's time.
pub async fn say(world: &DeployWorld, user: &str, text: &str) -> Answer {
    let (status, body) = world
        .app
        .command_as(SANDBOX_TEAM, super::deploys::CHANNEL, user, text)
        .await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    Answer {
        in_channel: json["response_type"] == "in_channel",
        text: json["text"].as_str().unwrap().to_owned(),
    }
}

/// The text of [`say`] by Alice.
pub async fn alice(world: &DeployWorld, text: &str) -> String {
    say(world, ALICE, text).await.text
}

/// The texts of the parent messages of `channel`, oldest first.
pub fn channel_texts(world: &DeployWorld, channel: &str) -> Vec<String> {
    world
        .app
        .sandbox
        .slack
        .channel_messages(channel)
        .into_iter()
        .filter(|message| message.thread_ts.is_none())
        .map(|message| message.text)
        .collect()
}

/// Waits until `channel` has a parent message for which `found` holds.
pub async fn wait_for_post(world: &DeployWorld, channel: &str, found: impl Fn(&str) -> bool) {
    let started = Instant::now();
    loop {
        let texts = channel_texts(world, channel);
        if texts.iter().any(|text| found(text)) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out; {channel} has {texts:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The fake Heroku's sha of an app's release `version`.
pub fn release_sha(world: &DeployWorld, app: &str, version: u64) -> String {
    let heroku = &world.app.sandbox.heroku;
    let release = heroku
        .releases(app)
        .into_iter()
        .find(|release| release.version == version)
        .expect("the release exists");
    let slug = heroku.slug(release.slug_id.as_deref().unwrap()).unwrap();
    slug.commit.unwrap()
}
