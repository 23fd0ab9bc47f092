//! The outbox: every Slack post, update and `response_url` answer the bot makes is a
//! row first, written in the same transaction as the change it tells (the store wakes
//! the sender once that commits), then delivered in order per thread, paced, retried
//! and never lost ([`delivery`]). This module owns the message body ([`Post`]) and
//! builds every queued message, so no feature writes an outbox row by hand.

mod delivery;

pub use delivery::run;

use serde::{Deserialize, Serialize};

use crate::slack::api::Message;
use crate::store::{MessageKind, NewMessage};
use crate::vault::{Vault, VaultError};
use secrecy::ExposeSecret;

/// The outbox body of a Slack post: what to say and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub message: Message,
    /// A thread reply also shown in the channel (failures: edits do not notify).
    #[serde(default)]
    pub broadcast: bool,
    /// Set for ephemeral answers through the command's `response_url`, sealed
    /// ([`seal_response_url`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_url: Option<String>,
    /// Who an ephemeral answer is for. Slack gives a press in the App Home tab no
    /// `response_url`; such an answer is shown to this person alone in the message's
    /// channel with `chat.postEphemeral` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_to: Option<String>,
}

/// A `response_url` as the outbox and the deploys table keep it: sealed for its team,
/// since whoever reads it can post into the channel for 30 minutes.
pub fn seal_response_url(vault: &Vault, team_id: &str, url: &str) -> String {
    vault.seal(url, &response_url_context(team_id))
}

/// The URL in a stored `response_url`. One stored before they were sealed is used as
/// it is (and the Slack client still refuses any URL that is not Slack's).
fn open_response_url(vault: &Vault, team_id: &str, stored: &str) -> Result<String, VaultError> {
    match vault.open(stored, &response_url_context(team_id)) {
        Ok(opened) => Ok(opened.secret.expose_secret().to_owned()),
        Err(VaultError::Malformed) if !stored.starts_with("v1:") => Ok(stored.to_owned()),
        Err(error) => Err(error),
    }
}

/// What a team's `response_url`s are sealed for.
pub fn response_url_context(team_id: &str) -> String {
    format!("response_url:{team_id}")
}

/// The outbox thread of a deploy: its parent and replies in its own channel.
pub fn deploy_thread(deploy_id: i64) -> String {
    format!("deploy:{deploy_id}")
}

/// The queued form of `post`, for thread `thread_key` in `channel_id` of `team_id`.
pub fn queued(
    team_id: &str,
    channel_id: &str,
    thread_key: &str,
    kind: MessageKind,
    post: &Post,
) -> anyhow::Result<NewMessage> {
    Ok(NewMessage {
        thread_key: thread_key.into(),
        team_id: team_id.into(),
        channel_id: channel_id.into(),
        kind,
        body: serde_json::to_string(post)?,
    })
}

/// A plain parent message posted to `channel` of `team_id` as thread `thread_key`.
pub fn notice(
    team_id: &str,
    channel: &str,
    thread_key: &str,
    text: &str,
) -> anyhow::Result<NewMessage> {
    let post = Post {
        message: Message::text(text).section(text),
        broadcast: false,
        response_url: None,
        ephemeral_to: None,
    };
    queued(team_id, channel, thread_key, MessageKind::Parent, &post)
}
