//! The JSON bodies the bot answers Slack with.

use serde::Serialize;

/// Who sees a reply: only the person who typed the command, or the whole channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Ephemeral,
    InChannel,
}

/// An immediate answer to a slash command, sent as the HTTP response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub response_type: ResponseType,
    pub text: String,
}

impl Reply {
    /// A reply only the requester sees.
    pub fn ephemeral(text: impl Into<String>) -> Reply {
        Reply {
            response_type: ResponseType::Ephemeral,
            text: text.into(),
        }
    }
}
