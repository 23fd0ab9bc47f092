//! Reading back what the bot posted: `conversations.replies` (a thread) and
//! `conversations.history` (a channel's top level), with message metadata, so the
//! outbox can tell whether Slack already took a post whose answer was lost.
//!
//! The posts are tagged with [`OUTBOX_EVENT_TYPE`] metadata carrying the outbox id
//! (see [`SlackApi::post_message`]); only those fields are read here.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::client::bot_token;
use super::{SlackApi, SlackError};
use crate::outbound::Replay;

/// The `event_type` of the metadata every outbox post carries.
pub const OUTBOX_EVENT_TYPE: &str = "chatops_outbox";
/// The `event_payload` field holding the outbox id.
pub(super) const OUTBOX_ID: &str = "outbox_id";

const REPLIES: &str = "conversations.replies";
const HISTORY: &str = "conversations.history";
/// Messages asked for per call: Slack advises at most 200.
const PAGE: &str = "200";

/// A message read back from Slack: its `ts`, its thread, and the outbox id it was
/// tagged with (`None` for messages not posted by the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub ts: String,
    pub thread_ts: Option<String>,
    pub outbox_id: Option<i64>,
}

/// The part of a `conversations.*` answer we use.
#[derive(Deserialize)]
struct Page {
    messages: Vec<RawMessage>,
}

#[derive(Deserialize)]
struct RawMessage {
    ts: String,
    thread_ts: Option<String>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    event_type: String,
    #[serde(default)]
    event_payload: Map<String, Value>,
}

impl From<RawMessage> for PostedMessage {
    fn from(raw: RawMessage) -> PostedMessage {
        let outbox_id = raw
            .metadata
            .filter(|metadata| metadata.event_type == OUTBOX_EVENT_TYPE)
            .and_then(|metadata| outbox_id(metadata.event_payload.get(OUTBOX_ID)?));
        PostedMessage {
            ts: raw.ts,
            thread_ts: raw.thread_ts,
            outbox_id,
        }
    }
}

/// Posted as a string (slack-morphism's payload is a string map), read as either.
fn outbox_id(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

impl SlackApi {
    /// `conversations.replies`: the thread under `ts` (its parent first, then the
    /// replies, oldest first), with metadata.
    #[tracing::instrument(skip_all, fields(channel = %channel, ts = %ts))]
    pub async fn conversations_replies(
        &self,
        token: &SecretString,
        channel: &str,
        ts: &str,
    ) -> Result<Vec<PostedMessage>, SlackError> {
        self.read(REPLIES, token, &[("channel", channel), ("ts", ts)])
            .await
    }

    /// `conversations.history`: the channel's top-level messages (and broadcast
    /// replies) after `oldest`, newest first, with metadata.
    #[tracing::instrument(skip_all, fields(channel = %channel, oldest = %oldest))]
    pub async fn conversations_history(
        &self,
        token: &SecretString,
        channel: &str,
        oldest: &str,
    ) -> Result<Vec<PostedMessage>, SlackError> {
        self.read(HISTORY, token, &[("channel", channel), ("oldest", oldest)])
            .await
    }

    async fn read(
        &self,
        method: &'static str,
        token: &SecretString,
        args: &[(&str, &str)],
    ) -> Result<Vec<PostedMessage>, SlackError> {
        let token = bot_token(token);
        let session = self.client.open_session(&token);
        let mut params: Vec<(&str, Option<&str>)> = args
            .iter()
            .map(|(name, value)| (*name, Some(*value)))
            .collect();
        params.extend([
            ("include_all_metadata", Some("true")),
            ("limit", Some(PAGE)),
        ]);
        let page: Page = self
            .attempts(method, Replay::Safe, || {
                session.http_session_api.http_get(method, &params, None)
            })
            .await?;
        Ok(page.messages.into_iter().map(PostedMessage::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(message: Value) -> PostedMessage {
        serde_json::from_value::<RawMessage>(message)
            .unwrap()
            .into()
    }

    #[test]
    fn only_outbox_metadata_names_an_outbox_id() {
        let tagged = |payload| json!({"ts": "1.2", "metadata": {"event_type": OUTBOX_EVENT_TYPE, "event_payload": payload}});
        assert_eq!(read(tagged(json!({"outbox_id": 7}))).outbox_id, Some(7));
        assert_eq!(read(tagged(json!({"outbox_id": "8"}))).outbox_id, Some(8));
        assert_eq!(read(tagged(json!({"outbox_id": "x"}))).outbox_id, None);
        let other = json!({"ts": "1.2", "thread_ts": "1.1", "metadata": {"event_type": "other", "event_payload": {"outbox_id": 7}}});
        assert_eq!(
            read(other),
            PostedMessage {
                ts: "1.2".into(),
                thread_ts: Some("1.1".into()),
                outbox_id: None
            }
        );
    }
}
