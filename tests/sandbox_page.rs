//! `chatops sandbox`'s page, started the way the command starts it: in headless
//! Chromium (type a deploy, watch the parent update in place and the four replies in
//! the thread, fail a build from the world panel and read the log tail, get help
//! only you can see), its event stream over plain HTTP, and the real binary printing
//! the one URL. Screenshots go to `$CARGO_TARGET_DIR/screenshots/` (or
//! `target/screenshots/`).

mod common;

use std::path::PathBuf;

use chatops::sandbox::heroku::Timings;
use chatops::sandbox::launch::{Ports, Running};
use chatops::sandbox::slack::{FakeSlack, Pacing};
use common::browser::Browser;
use common::deploys::normalized;
use common::{TestDb, databases};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const CHANNEL: &str = "C0DEPLOYS";

/// A sandbox started as `chatops sandbox` starts it, on free ports.
struct Started {
    running: Running,
    stop: oneshot::Sender<()>,
    db: TestDb,
}

impl Started {
    /// With the fakes at test speed: a deploy in a fraction of a second, and Slack
    /// unpaced (pacing is the outbox's business, proven in its own suites).
    async fn new(db: TestDb) -> Started {
        let (stop, stopped) = oneshot::channel::<()>();
        let ports = Ports { bot: 0, page: 0 };
        let running = Running::start(ports, &db.url, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        running.fakes.heroku.set_timings(Timings::FAST);
        running.fakes.slack.set_pacing(Pacing::unlimited());
        Started { running, stop, db }
    }

    async fn finish(self) {
        let _ = self.stop.send(());
        self.running.wait().await.unwrap();
        self.db.finish().await;
    }
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("screenshots")
}

/// Saves a screenshot and says where.
fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    let dir = screenshots();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
}

const PARENTS: &str = "#messages li.message:not(.ephemeral):not(:has(.broadcast-note))";
const REPLIES: &str = "#thread-replies li.message .content";

/// Waits until the fake Slack's #deploys has the parents `expected` (text, number of
/// replies), so the
/// page is then only given [`common::browser::PATIENCE`] to show what is there: a
/// loaded machine slows the deploy, which is not the page's doing.
async fn slack_reaches(slack: &FakeSlack, expected: &[(&str, usize)]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let texts: Vec<(String, usize)> = slack
            .channel_messages(CHANNEL)
            .iter()
            .filter(|message| message.thread_ts.is_none())
            .map(|parent| (parent.text.clone(), slack.thread(CHANNEL, &parent.ts).len()))
            .collect();
        let reached = texts
            .iter()
            .map(|(text, replies)| (text.as_str(), *replies));
        if reached.eq(expected.iter().copied()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "#deploys stayed at {texts:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn type_command(browser: &Browser, text: &str) {
    let input = browser.find("#message-input").await;
    browser.type_and_enter(&input, text).await;
}

#[tokio::test]
async fn a_deploy_typed_in_the_page_is_watched_to_deployed_then_a_failed_build_shows_its_log() {
    let browser = Browser::start().await;
    for db in databases().await {
        let backend = db.backend_name();
        let sandbox = Started::new(db).await;
        browser.goto(&sandbox.running.page_url).await;
        assert_eq!(browser.title().await, "#deploys · Sandbox · chatops");
        browser.wait_for_text("#connection", "live").await;

        type_command(&browser, "/h deploy paipu to staging").await;
        browser
            .wait_for_text(
                "#messages li.ephemeral .content",
                "On it: deploying paipu to staging. Progress will show in this channel.",
            )
            .await;
        let slack = &sandbox.running.fakes.slack;
        slack_reaches(slack, &[("Deployed paipu-app-staging", 4)]).await;
        let parents = browser
            .wait_for_texts(&format!("{PARENTS} .section"), |texts| {
                texts == ["Deployed paipu-app-staging"]
            })
            .await;
        assert_eq!(parents.len(), 1, "one parent, updated in place");
        let parent = &slack.channel_messages(CHANNEL)[0];
        let edits = slack.updates_of(CHANNEL, &parent.ts);
        assert_eq!(
            normalized(&edits.last().expect("the parent was updated").text),
            "Deployed paipu-app-staging",
            "the parent reached Deployed by chat.update, not by a new post"
        );
        let shown = browser.find(PARENTS).await;
        assert_eq!(
            browser.attribute(&shown, "data-ts").await,
            Some(parent.ts.clone())
        );
        let context = browser
            .text(&browser.find(&format!("{PARENTS} .context")).await)
            .await;
        let sha = sandbox
            .running
            .fakes
            .github
            .head("heroku/paipu-repo", "master")
            .unwrap();
        assert_eq!(
            normalized(&context),
            format!(
                "heroku/paipu-repo - ref: master - SHA: {} - duration: Ns\ndeployed by @alice",
                &sha[..8]
            )
        );

        browser
            .wait_for_text(&format!("{PARENTS} button.replies"), "4 replies")
            .await;
        browser
            .click(&browser.find(&format!("{PARENTS} button.replies")).await)
            .await;
        let replies = browser
            .wait_for_texts(REPLIES, |texts| texts.len() == 4)
            .await;
        assert_eq!(
            replies
                .iter()
                .map(|reply| normalized(reply))
                .collect::<Vec<_>>(),
            [
                "Deploying paipu-app-staging ... duration: Ns",
                "Releasing paipu-app-staging ... duration: Ns",
                "Restarting paipu-app-staging ... duration: Ns",
                "Deployed paipu-app-staging ... duration: Ns",
            ]
        );
        save(
            &format!("sandbox-page-deployed-{backend}.png"),
            &browser.screenshot().await,
        );

        browser
            .click(&browser.find("button[data-play=fail_next_build]").await)
            .await;
        browser
            .wait_for_text(
                "#world-status",
                "The next build of paipu-app-staging fails.",
            )
            .await;
        type_command(&browser, "/h deploy paipu to staging").await;
        let failed = "Failed to deploy paipu-app-staging: the build failed";
        slack_reaches(slack, &[("Deployed paipu-app-staging", 4), (failed, 2)]).await;
        browser
            .wait_for_texts(&format!("{PARENTS} .section"), |texts| {
                texts
                    == [
                        "Deployed paipu-app-staging",
                        "Failed to deploy paipu-app-staging: the build failed",
                    ]
            })
            .await;
        browser
            .wait_for_texts(&format!("{PARENTS} button.replies"), |texts| {
                texts == ["4 replies", "2 replies"]
            })
            .await;
        let buttons = browser.find_all(&format!("{PARENTS} button.replies")).await;
        browser.click(&buttons[1]).await;
        let replies = browser
            .wait_for_texts(REPLIES, |texts| texts.len() == 2)
            .await;
        assert_eq!(
            normalized(&replies[0]),
            "Deploying paipu-app-staging ... duration: Ns"
        );
        assert_eq!(
            normalized(replies[1].lines().next().unwrap()),
            "@alice deploy of paipu-app-staging failed after Ns: the build failed"
        );
        let failed = &slack.channel_messages(CHANNEL)[1];
        let failure = slack.thread(CHANNEL, &failed.ts).pop().unwrap();
        let tail = failure.text.split("```").nth(1).unwrap().trim();
        let log = browser
            .text(&browser.find("#thread-replies li.message pre").await)
            .await;
        assert_eq!(log, tail);
        assert!(
            log.ends_with(" !     Push rejected, failed to compile Ruby app.\n !     Push failed"),
            "{log}"
        );
        let broadcast = browser
            .find("#messages li.message:has(.broadcast-note) .content")
            .await;
        assert_eq!(
            browser.text(&broadcast).await,
            replies[1],
            "also sent to the channel"
        );
        save(
            &format!("sandbox-page-failed-build-{backend}.png"),
            &browser.screenshot().await,
        );

        browser.click(&browser.find("#thread-close").await).await;
        type_command(&browser, "/h help").await;
        let help = "#messages li.ephemeral:has(.typed) ";
        let typed = browser
            .wait_for_texts(&format!("{help}.typed"), |texts| texts.len() == 3)
            .await;
        assert_eq!(typed[2], "You typed /h help");
        let marks = browser
            .wait_for_texts(&format!("{help}.only-you"), |t| t.len() == 3)
            .await;
        assert_eq!(marks[2], "Only visible to you");
        save(
            &format!("sandbox-page-help-{backend}.png"),
            &browser.screenshot().await,
        );
        sandbox.finish().await;
    }
    browser.quit().await;
}

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
            json!({"messages": [], "threads": {}, "ephemerals": [], "said": []})
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
    let (status, body) = post(
        &format!("{page}api/commands"),
        json!({"user": "U0ALICE", "text": "deploy paipu"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            400,
            Some(
                "\"deploy paipu\" is not a command: this channel only knows /h, e.g. /h deploy paipu to staging"
            )
        )
    );
    let (status, body) = post(
        &format!("{page}api/commands"),
        json!({"user": "U0EVE", "text": "/h help"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            400,
            Some(
                "there is no \"U0EVE\" in the Sandbox workspace: pick alice (U0ALICE), bob (U0BOB) or carol (U0CAROL)"
            )
        )
    );
    let (status, body) = post(
        &format!("{page}api/world"),
        json!({"action": "fail_next_build", "app": "paipu-app-mars"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "there is no app \"paipu-app-mars\": pick one of paipu-app-test, paipu-app-staging, \
         paipu-app-production, atlas-staging, atlas-eu, atlas-us"
    );
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
async fn carol_gets_a_login_button_to_the_sandbox_oauth_pages_and_a_click_is_signed_as_slack_signs()
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
    let authorize = common::no_redirects().get(start).send().await.unwrap();
    assert!(
        authorize.status().is_redirection(),
        "{}",
        authorize.status()
    );
    let location = authorize.headers()["location"].to_str().unwrap();
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
    // Until the bot takes interactions it answers 404, and the page says so; once it
    // does, a click signed as Slack signs it is accepted. Anything else (a refused
    // signature, a payload it cannot read) is a failure.
    let not_yet = "This button's action is not available in this version: the bot does \
                   not take button clicks yet (its /slack/interactions answered 404).";
    assert!(
        clicked["note"].is_null() || clicked["note"] == not_yet,
        "{clicked}"
    );
    sandbox.finish().await;
}

#[test]
fn chatops_sandbox_prints_one_url_and_the_page_answers_there() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatops"))
        .arg("sandbox")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([("PORT", "0"), ("SANDBOX_PAGE_PORT", "0")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    for _ in 0..2 {
        stdout.read_line(&mut printed).unwrap();
    }
    let urls: Vec<&str> = printed
        .split_whitespace()
        .filter(|word| word.starts_with("http://"))
        .collect();
    assert_eq!(urls.len(), 1, "one URL in {printed:?}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, page) = runtime.block_on(async {
        let response = reqwest::get(urls[0]).await.unwrap();
        (response.status(), response.text().await.unwrap())
    });
    assert_eq!(status, 200);
    assert!(
        page.contains("<title>#deploys · Sandbox · chatops</title>"),
        "{page}"
    );
    // Stopped as an operator (or Heroku) stops it: SIGTERM.
    let killed = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success(), "a clean stop on SIGTERM");
}
