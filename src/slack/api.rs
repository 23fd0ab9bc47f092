//! The Slack Web API client: `chat.postMessage` (threads included), `chat.update`,
//! `chat.postEphemeral`, `conversations.replies`/`.history` (to find posts by their
//! outbox metadata), `views.publish` (the App Home tab), `response_url` posts and the
//! OAuth v2 code exchange, over slack-morphism, with timeouts and bounded retries. Knows nothing of deploys: callers
//! hand it a channel, a token and a [`Message`].

mod client;
mod conversations;
mod error;
mod message;
mod retry;
mod views;

pub use client::{Installation, Posted, SLACK_URL, SlackApi};
pub use conversations::{OUTBOX_EVENT_TYPE, PostedMessage};
pub use error::SlackError;
pub use message::{Block, Button, ButtonStyle, Confirm, Message, ResponseType};
