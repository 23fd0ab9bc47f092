//! The sandbox page's API over plain HTTP: its event stream (a snapshot, then what
//! the bot posts, each person seeing only their own ephemerals), its refusals, the
//! world panel, and the commands and clicks it signs as Slack does.

use crate::common;

use common::databases;
use common::sandbox::{CHANNEL, Started};
use serde_json::{Value, json};

/// Server-sent events read off one response, as `(event, data)`.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(page_url: &str, user: &str) -> EventStream {
        let response = reqwest::get(format!("{page_url}api/events?user={user}"))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event with a name (keep-alive comments are skipped).
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .map(str::to_owned)
                };
                if let (Some(event), Some(data)) = (field("event: "), field("data: ")) {
                    return (event, serde_json::from_str(&data).unwrap());
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Skips events until one `wanted` takes.
    async fn until(&mut self, wanted: impl Fn(&str, &Value) -> bool) -> Value {
        loop {
            let (event, data) = self.next().await;
            if wanted(&event, &data) {
                return data;
            }
        }
    }
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_event_stream_opens_with_a_snapshot_then_sends_what_the_bot_posts() {
    for db in databases().await {
        let sandbox = Started::new(db).await;
        let page = sandbox.running.page_url.clone();
        let mut alice = EventStream::open(&page, "U0ALICE").await;
        let (event, snapshot) = alice.next().await;
        assert_eq!(event, "snapshot");
        assert_eq!(
            snapshot,
            json!({"messages": [], "threads": {}, "ephemerals": [], "said": [], "home": null})
        );
        let mut bob = EventStream::open(&page, "U0BOB").await;
        assert_eq!(bob.next().await.0, "snapshot");

        let (status, said) = post(
            &format!("{page}api/commands"),
            json!({"user": "U0ALICE", "text": "/h deploy paipu to staging"}),
        )
        .await;
        assert_eq!(status, 200, "{said}");
        assert_eq!(
            (
                said["command"].as_str(),
                said["text"].as_str(),
                said["in_channel"].as_bool()
            ),
            (
                Some("/h deploy paipu to staging"),
                Some("On it: deploying paipu to staging. Progress will show in this channel."),
                Some(false)
            )
        );
        let posted = alice
            .until(|event, data| event == "slack" && data["event"] == "posted")
            .await;
        assert_eq!(
            (posted["channel"].as_str(), posted["text"].as_str()),
            (Some(CHANNEL), Some("Deploying paipu-app-staging"))
        );
        let seen_by_bob = bob.until(|event, _| event == "slack").await;
        assert_eq!(seen_by_bob, posted, "everyone in the channel sees the post");

        let mut late = EventStream::open(&page, "U0ALICE").await;
        let (_, snapshot) = late.next().await;
        assert_eq!(snapshot["messages"][0]["ts"], posted["ts"]);
        assert_eq!(snapshot["said"][0]["text"], said["text"]);
        let (_, bobs) = EventStream::open(&page, "U0BOB").await.next().await;
        assert_eq!(
            bobs["said"],
            json!([]),
            "alice's ephemeral answer is hers alone"
        );
        sandbox.finish().await;
    }
}

#[tokio::test]
async fn the_page_refuses_strangers_and_lines_that_are_not_commands_saying_why() {
    let sandbox = Started::new(databases().await.remove(0)).await;
    let page = sandbox.running.page_url.clone();
    let cases = [
        (
            "api/commands",
            json!({"user": "U0ALICE", "text": "deploy paipu"}),
            "\"deploy paipu\" is not a command: this channel only knows /h, e.g. /h deploy \
             paipu to staging",
        ),
        (
            "api/commands",
            json!({"user": "U0EVE", "text": "/h help"}),
            "there is no \"U0EVE\" in the Sandbox workspace: pick alice (U0ALICE), bob \
             (U0BOB) or carol (U0CAROL)",
        ),
        (
            "api/world",
            json!({"action": "fail_next_build", "app": "paipu-app-mars"}),
            "there is no app \"paipu-app-mars\": pick one of paipu-app-test, \
             paipu-app-staging, paipu-app-production, atlas-staging, atlas-eu, atlas-us",
        ),
    ];
    for (path, body, expected) in cases {
        let (status, answer) = post(&format!("{page}{path}"), body).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some(expected)));
    }
    sandbox.finish().await;
}

#[tokio::test]
async fn the_world_panel_plays_the_fakes_and_says_what_changed() {
    let sandbox = Started::new(databases().await.remove(0)).await;
    let world = format!("{}api/world", sandbox.running.page_url);
    let github = &sandbox.running.fakes.github;
    let sha = github.head("heroku/paipu-repo", "master").unwrap();
    let plays = [
        (
            json!({"action": "ci", "pipeline": "paipu", "state": "red"}),
            format!("CI of heroku/paipu-repo master ({}) is red.", &sha[..8]),
        ),
        (
            json!({"action": "fail_next_release", "app": "atlas-staging"}),
            "The next release phase of atlas-staging fails (atlas-staging had none; it now \
             runs bin/release)."
                .to_owned(),
        ),
        (
            json!({"action": "crash_dyno", "app": "atlas-us"}),
            "After its next restart, web.1 of atlas-us crashes.".to_owned(),
        ),
        (
            json!({"action": "pace", "slow": true}),
            "The platform is slow: builds take 20s, release phases 8s, restarts 8s.".to_owned(),
        ),
    ];
    for (play, expected) in plays {
        let (status, done) = post(&world, play).await;
        assert_eq!(
            (status, done["done"].as_str()),
            (200, Some(expected.as_str()))
        );
    }
    let heroku = &sandbox.running.fakes.heroku;
    assert_eq!(
        heroku.app("atlas-staging").release_command.as_deref(),
        Some("bin/release")
    );
    post(
        &format!("{}api/commands", sandbox.running.page_url),
        json!({"user": "U0ALICE", "text": "/h deploy paipu to staging"}),
    )
    .await;
    let refusal = format!(
        "CI is red on heroku/paipu-repo@{} (master) (failing: ci/circleci, build). Fix it, \
         or deploy anyway with `/h deploy! paipu to staging`.",
        &sha[..8]
    );
    let slack = &sandbox.running.fakes.slack;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !slack
        .ephemerals(CHANNEL, "U0ALICE")
        .iter()
        .any(|ephemeral| ephemeral.text == refusal)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "alice was never told {refusal:?}: {:?}",
            slack.ephemerals(CHANNEL, "U0ALICE")
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sandbox.finish().await;
}

#[tokio::test]
async fn carol_gets_a_login_button_to_slack_sign_in_then_the_oauth_pages_and_a_click_is_signed_as_slack_signs()
 {
    let sandbox = Started::new(databases().await.remove(0)).await;
    let page = sandbox.running.page_url.clone();
    let (status, said) = post(
        &format!("{page}api/commands"),
        json!({"user": "U0CAROL", "text": "/h login"}),
    )
    .await;
    assert_eq!(status, 200, "{said}");
    let button = &said["blocks"][1]["elements"][0];
    assert_eq!(button["text"]["text"], "Connect Heroku");
    let start = button["url"].as_str().unwrap();
    assert!(
        start.starts_with(&format!("{}/auth/", sandbox.running.bot_url)),
        "{start}"
    );
    // Carol signs in to the sandbox Slack with one click, then goes on to Heroku.
    let mut carol = common::walk::Walker::signed_in_as("carol (Sandbox)");
    let to_heroku = carol.start(start).await;
    let location = to_heroku.redirect();
    assert!(
        location.starts_with(&format!(
            "{}/oauth/authorize?",
            sandbox.running.fakes.heroku_url
        )),
        "{location}"
    );

    let (status, clicked) = post(
        &format!("{page}api/clicks"),
        json!({
            "user": "U0CAROL", "message_ts": said["ts"], "ephemeral": true,
            "block_id": "accounts_connect", "action_id": "accounts_connect_heroku",
            "value": null, "text": "Connect Heroku",
        }),
    )
    .await;
    assert_eq!(status, 200, "{clicked}");
    // A click signed as Slack signs it is accepted by the bot's /slack/interactions;
    // a refused signature or a payload it cannot read would come back as a note.
    assert!(clicked["note"].is_null(), "{clicked}");
    sandbox.finish().await;
}
