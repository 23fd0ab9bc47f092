//! Sends `/h` commands exactly as Slack does: a form body signed with the v0 scheme,
//! posted to the bot's `/slack/commands`. Used by `chatops send` and the sandbox
//! console, so what they show is the real product path.

use anyhow::Context;

use crate::clock::Clock;
use crate::slack::verify::sign;

/// Who types a command, and where.
#[derive(Debug, Clone, Copy)]
pub struct Typist<'a> {
    pub team: &'a str,
    pub channel: &'a str,
    pub user: &'a str,
    /// Where the bot's follow-ups go (a fake Slack `response_url` in the sandbox).
    pub response_url: &'a str,
}

/// Posts signed commands to one bot.
#[derive(Debug, Clone)]
pub struct SlashSender {
    http: reqwest::Client,
    url: String,
    secret: String,
}

impl SlashSender {
    /// A sender to the bot's slash-command `url`, signing with `secret`.
    pub fn new(url: &str, secret: &str) -> SlashSender {
        SlashSender {
            http: reqwest::Client::new(),
            url: url.into(),
            secret: secret.into(),
        }
    }

    /// Sends `/h <text>` as `typist`; returns the text of the bot's immediate reply.
    pub async fn send(&self, typist: Typist<'_>, text: &str) -> anyhow::Result<String> {
        let clock = Clock::system();
        let body = serde_urlencoded::to_string([
            ("team_id", typist.team),
            ("channel_id", typist.channel),
            ("user_id", typist.user),
            ("command", "/h"),
            ("text", text),
            ("response_url", typist.response_url),
            (
                "trigger_id",
                &format!("{}.{}", clock.now_millis(), fastrand::u32(..)),
            ),
        ])?;
        let timestamp = clock.now().to_string();
        let signature = sign(self.secret.as_bytes(), &timestamp, body.as_bytes());
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the bot at {}", self.url))?;
        let status = response.status();
        let reply = response
            .text()
            .await
            .context("cannot read the bot's reply")?;
        let shown = serde_json::from_str::<serde_json::Value>(&reply)
            .ok()
            .and_then(|json| json["text"].as_str().map(str::to_owned))
            .unwrap_or(reply);
        anyhow::ensure!(status.is_success(), "the bot answered {status}: {shown}");
        Ok(shown)
    }
}
