//! Sends what Slack sends, exactly as Slack does: form bodies signed with the v0
//! scheme, posted to the bot. `/h` commands go to its `/slack/commands`; button
//! clicks (`block_actions` payloads) to its `/slack/interactions`. Used by
//! `chatops-sandbox send` and the sandbox page, so what they show is the real product path.

use anyhow::Context;
use reqwest::StatusCode;
use serde_json::Value;

use chatops::clock::Clock;
use chatops::outbound::{REQUEST_TIMEOUT, http_client};
use chatops::slack::verify::sign;

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
            http: http_client(REQUEST_TIMEOUT),
            url: url.into(),
            secret: secret.into(),
        }
    }

    /// Sends `/h <text>` as `typist`; returns the text of the bot's immediate reply.
    pub async fn send(&self, typist: Typist<'_>, text: &str) -> anyhow::Result<String> {
        let reply = self.reply(typist, text).await?;
        Ok(reply["text"].as_str().unwrap_or_default().to_owned())
    }

    /// Sends `/h <text>` as `typist`; returns the bot's immediate reply as Slack reads
    /// it (`text`, `blocks`, `response_type`). A reply that is not JSON is its `text`.
    pub async fn reply(&self, typist: Typist<'_>, text: &str) -> anyhow::Result<Value> {
        let body = serde_urlencoded::to_string([
            ("team_id", typist.team),
            ("channel_id", typist.channel),
            ("user_id", typist.user),
            ("command", "/h"),
            ("text", text),
            ("response_url", typist.response_url),
            ("trigger_id", &trigger_id()),
        ])?;
        let (status, reply) = self.post_signed(&self.url, body).await?;
        let reply = serde_json::from_str::<Value>(&reply)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| serde_json::json!({ "text": reply }));
        anyhow::ensure!(
            status.is_success(),
            "the bot answered {status}: {}",
            reply["text"].as_str().unwrap_or_default()
        );
        Ok(reply)
    }

    /// Posts an interaction `payload` (e.g. `block_actions`) to `url` as Slack does: a
    /// signed form with one `payload` field; returns the bot's status and body.
    pub async fn interact(
        &self,
        url: &str,
        payload: &Value,
    ) -> anyhow::Result<(StatusCode, String)> {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())])?;
        self.post_signed(url, body).await
    }

    async fn post_signed(&self, url: &str, body: String) -> anyhow::Result<(StatusCode, String)> {
        let timestamp = Clock::system().now().to_string();
        let signature = sign(self.secret.as_bytes(), &timestamp, body.as_bytes());
        let response = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the bot at {url}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .context("cannot read the bot's reply")?;
        Ok((status, text))
    }
}

/// A fresh `trigger_id`, shaped like Slack's (`<millis>.<random>`).
pub fn trigger_id() -> String {
    format!("{}.{}", Clock::system().now_millis(), fastrand::u32(..))
}
