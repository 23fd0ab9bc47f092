//! Helpers for deploy tests: a world where alice is linked and the seeded pipelines
//! are connected, commands typed in the sandbox workspace, and waits on the outcome.

use std::time::{Duration, Instant};

use chatops::store::{DeployRow, DeployState};
use chatops_fakes::slack::ChannelMessage;
use chatops_fakes::{Fakes, SANDBOX_TEAM};

use super::{SECRET, TestApp, now, signed_headers};

/// The sandbox user with access to everything.
pub const ALICE: &str = "U0ALICE";
/// The channel commands are typed in.
pub const CHANNEL: &str = "C0DEPLOYS";

/// How long any wait may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);
/// How long the outbox may take to drain: Slack's pace lets a channel take a post a
/// second, and a test's few deploys make six each.
const OUTBOX_DEADLINE: Duration = Duration::from_secs(60);

/// A running app whose sandbox user alice is linked, with paipu and atlas connected.
pub struct DeployWorld {
    pub app: TestApp,
}

impl DeployWorld {
    pub async fn new(app: TestApp) -> DeployWorld {
        // Heroku moves in tens of milliseconds here; tests that need a slow stage say so.
        app.sandbox
            .heroku
            .set_timings(chatops_fakes::heroku::Timings::FAST);
        let bot = &app.state;
        chatops_sandbox::bot::link_user(
            bot,
            &app.sandbox,
            SANDBOX_TEAM,
            ALICE,
            "alice@example.com",
            "alice",
        )
        .await
        .expect("link alice");
        chatops_sandbox::bot::connect_pipelines(bot, SANDBOX_TEAM, ALICE)
            .await
            .expect("connect pipelines");
        DeployWorld { app }
    }

    /// Types `/h <text>` as `user` in #deploys; returns the immediate reply's text.
    pub async fn command(&self, user: &str, text: &str) -> String {
        let response_url = self
            .app
            .sandbox
            .slack
            .response_url(SANDBOX_TEAM, CHANNEL, user);
        let body = serde_urlencoded::to_string([
            ("team_id", SANDBOX_TEAM),
            ("channel_id", CHANNEL),
            ("user_id", user),
            ("command", "/h"),
            ("text", text),
            ("response_url", &response_url),
            ("trigger_id", &format!("{}.{}", now(), fastrand::u64(..))),
        ])
        .unwrap();
        let (status, reply) = self
            .app
            .post(
                "/slack/commands",
                &signed_headers(SECRET, now(), &body),
                body,
            )
            .await;
        assert_eq!(status, 200, "{reply}");
        let json: serde_json::Value = serde_json::from_str(&reply).unwrap();
        json["text"].as_str().unwrap().to_owned()
    }

    /// The text of the last answer sent through a `response_url`.
    pub fn last_response(&self) -> String {
        self.app
            .sandbox
            .slack
            .responses()
            .last()
            .expect("a response")
            .text
            .clone()
    }

    /// Waits until deploy number `n` (1-based, in creation order) is in `state`.
    pub async fn wait_for_state(&self, n: usize, state: DeployState) -> DeployRow {
        wait_for(&self.app, |deploys| {
            deploys.get(n - 1).filter(|d| d.state == state).cloned()
        })
        .await
    }

    /// Waits until deploy number `n` finished.
    pub async fn wait_finished(&self, n: usize) -> DeployRow {
        wait_for(&self.app, |deploys| {
            deploys
                .get(n - 1)
                .filter(|d| d.finished_at.is_some())
                .cloned()
        })
        .await
    }

    pub async fn finish(self) {
        self.app.finish().await;
    }
}

/// Waits until the newest deploy finished.
pub async fn finished_deploy(app: &TestApp) -> DeployRow {
    wait_for(app, |deploys| {
        deploys.last().filter(|d| d.finished_at.is_some()).cloned()
    })
    .await
}

async fn wait_for(app: &TestApp, found: impl Fn(&[DeployRow]) -> Option<DeployRow>) -> DeployRow {
    let started = Instant::now();
    loop {
        let deploys = app.state.store.deploys().await.unwrap();
        if let Some(deploy) = found(&deploys) {
            return deploy;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "timed out; deploys: {deploys:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the outbox has delivered everything; fails with what is still pending.
pub async fn settle_outbox(app: &TestApp) {
    let started = Instant::now();
    while app.state.store.pending_messages().await.unwrap() > 0 {
        if started.elapsed() > OUTBOX_DEADLINE {
            let peek = super::outcomes::Peek::connect(&app.db.url).await;
            let pending = peek.pending_report().await.join("\n");
            let now = app.state.clock.now_millis();
            let backend = app.db.backend_name();
            panic!("{backend}: the outbox did not drain by {now}:\n{pending}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The newest parent message in #deploys and the replies under it.
pub fn thread_of_last_deploy(app: &TestApp) -> (ChannelMessage, Vec<ChannelMessage>) {
    let slack = &app.sandbox.slack;
    let parent = slack
        .channel_messages(CHANNEL)
        .into_iter()
        .rev()
        .find(|message| message.thread_ts.is_none())
        .expect("a parent message");
    let replies = slack.thread(CHANNEL, &parent.ts);
    (parent, replies)
}

/// `text` with every duration (`43s`, `2m 5s`) after `duration: ` or `after ` as `Ns`.
pub fn normalized(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = ["duration: ", "after "]
        .iter()
        .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
        .min()
    {
        let (index, len) = at;
        out.push_str(&rest[..index + len]);
        rest = &rest[index + len..];
        let span = rest
            .find(|c: char| !(c.is_ascii_digit() || c == 'm' || c == 's' || c == ' '))
            .unwrap_or(rest.len());
        let number = rest[..span].trim_end();
        if number.ends_with('s') && number.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            out.push_str("Ns");
            rest = &rest[number.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// The release notes that open the thread of `deploy` (or promotion) to `app`, in the
/// cases the sandbox's world gives without a test pushing commits: an app the test
/// added runs nothing before its first deploy; a seeded app runs a commit of the
/// Heroku seed's own history, which the GitHub fake does not have, so GitHub can't
/// compare (404); a deploy of what already runs ships nothing. A deploy that ships
/// commits must check its notes itself.
///
/// What the bot recorded as the app's release before the deploy is checked against
/// the Heroku fake's history first: the release right after it is the deploy's own,
/// so a step repeated after a crash did not take the deploy's release for the base.
pub fn expected_notes(sandbox: &Fakes, deploy: &DeployRow, app: &str) -> String {
    assert_base(sandbox, deploy, app);
    let sha = deploy.sha.as_deref().expect("a deploy with a sha");
    let repo = deploy.repo.as_deref().expect("a deploy with a repo");
    let ships = format!("*What this ships to {app}:*");
    match deploy.replaced_sha.as_deref() {
        None if deploy.replaced_version == Some(0) => format!(
            "{ships} {}, its first release: there is nothing earlier to compare with.",
            &sha[..8]
        ),
        Some(ran) if ran == sha => format!(
            "{ships} nothing: the release it replaces runs the same commit, {}.",
            &sha[..8]
        ),
        Some(ran) if !sandbox.github.has_commit(repo, ran).unwrap() => format!(
            "{ships} release notes unavailable: GitHub can't compare {} with {} in {repo} (404 Not Found).",
            &ran[..8],
            &sha[..8]
        ),
        other => panic!(
            "deploy {} replaced {other:?} (v{:?}) with {sha}: check its notes in the test",
            deploy.id, deploy.replaced_version
        ),
    }
}

/// Checks `deploy`'s recorded base (`replaced_version`, `replaced_sha`) against the
/// releases of `app` in the Heroku fake.
fn assert_base(sandbox: &Fakes, deploy: &DeployRow, app: &str) {
    let heroku = &sandbox.heroku;
    let releases = heroku.releases(app);
    let commit = |version: i64| {
        let release = releases.iter().find(|r| r.version as i64 == version)?;
        heroku.slug(release.slug_id.as_deref()?)?.commit
    };
    let (id, before) = (deploy.id, deploy.replaced_version);
    let before = before.unwrap_or_else(|| panic!("deploy {id} recorded no base"));
    assert_eq!(
        commit(before + 1).as_deref(),
        deploy.sha.as_deref(),
        "deploy {id}: the release after v{before} on {app} is its own"
    );
    if before > 0 {
        assert_eq!(
            commit(before),
            deploy.replaced_sha,
            "deploy {id}: the commit {app} ran"
        );
    }
}

/// Asserts that `deploy` is in `state`, showing why it failed otherwise.
#[track_caller]
pub fn assert_state(deploy: &DeployRow, state: DeployState) {
    assert_eq!(deploy.state, state, "{:?}", deploy.failure);
}
