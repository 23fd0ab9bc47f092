//! The JSON bodies the bot answers Slack with.

use serde::Serialize;

use crate::slack::api::ResponseType;

/// An immediate answer to a slash command, sent as the HTTP response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub response_type: ResponseType,
    /// The notification text, and the whole message when there are no blocks.
    pub text: String,
    /// Block Kit blocks shown instead of `text` (e.g. a button); left out when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<serde_json::Value>,
}

impl Reply {
    /// A reply only the requester sees.
    pub fn ephemeral(text: impl Into<String>) -> Reply {
        Reply {
            response_type: ResponseType::Ephemeral,
            text: text.into(),
            blocks: Vec::new(),
        }
    }

    /// The same reply, shown as these Block Kit blocks (`text` stays the fallback).
    pub fn with_blocks(self, blocks: Vec<serde_json::Value>) -> Reply {
        Reply { blocks, ..self }
    }
}
