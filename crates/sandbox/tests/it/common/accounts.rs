//! Helpers of the account-linking tests: who sends commands, reading replies and
//! stored tokens, waiting for Slack follow-ups, and checking refusal pages.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatops::accounts::{self, LinkError, MissingReason, Provider};
use chatops::chat::Invocation;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::TestApp;
use super::walk::{Hop, Walker};

/// The sandbox workspace, and people in it: (team, channel, user).
pub const TEAM: &str = "T0SANDBOX";
pub const ALICE: (&str, &str, &str) = (TEAM, "C0DEPLOYS", "U0ALICE");
pub const BOB: (&str, &str, &str) = (TEAM, "C0DEPLOYS", "U0BOB");
/// Under every connect button.
pub const LINK_NOTE: &str = "The link works once, within 10 minutes.";
/// A Heroku access token's lifetime.
pub const HOURS_8: i64 = 8 * 3600;

/// The JSON reply to `/h <text>` sent by `who`.
pub async fn reply(app: &TestApp, (team, channel, user): (&str, &str, &str), text: &str) -> Value {
    let (status, body) = app.command_as(team, channel, user, text).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The text of that reply.
pub async fn text(app: &TestApp, who: (&str, &str, &str), text: &str) -> String {
    reply(app, who, text).await["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `probe` for up to five seconds.
pub async fn eventually<T>(what: &str, probe: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "never saw {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The token in a sealed column of Alice's row, opened with the app's key.
pub async fn stored_token(app: &TestApp, column: &str) -> String {
    let row = app
        .db
        .store
        .account(TEAM, "U0ALICE")
        .await
        .unwrap()
        .unwrap();
    let sealed = match column {
        "heroku_access_token" => row.heroku_access_token,
        "heroku_refresh_token" => row.heroku_refresh_token,
        _ => row.github_token,
    };
    let opened = app
        .state
        .vault
        .open(&sealed.unwrap(), &format!("{column}:{TEAM}:U0ALICE"))
        .unwrap();
    opened.secret.expose_secret().to_owned()
}

/// An invocation as the dispatcher would pass it.
pub fn invocation(
    (team, channel, user): (&str, &str, &str),
    response_url: &str,
    text: &str,
) -> Invocation {
    Invocation {
        team_id: team.into(),
        channel_id: channel.into(),
        user_id: user.into(),
        response_url: response_url.into(),
        text: text.into(),
    }
}

/// What is missing, from a result that must be `NotLinked`.
pub fn not_linked(result: Result<accounts::Linked, LinkError>) -> Vec<(Provider, MissingReason)> {
    match result {
        Err(LinkError::NotLinked(not_linked)) => not_linked.missing,
        other => panic!("expected NotLinked, got {other:?}"),
    }
}

/// Query parameters, as `split_url` returns them.
pub fn params(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Requests each of `urls` in `browser`, expecting `status` and `heading`.
pub async fn refused(browser: &mut Walker, urls: &[impl AsRef<str>], status: u16, heading: &str) {
    for url in urls {
        let url = url.as_ref();
        let page: Hop = browser.get(url).await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (status, heading),
            "{url}"
        );
        let paragraphs = page.paragraphs();
        assert!(
            paragraphs[0].ends_with("Nothing was changed."),
            "{paragraphs:?}"
        );
        assert_eq!(paragraphs[1], "Run `/h login` in Slack for a fresh link.");
    }
}

/// Collects every log line the bot writes on this (current-thread) test's runtime.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
