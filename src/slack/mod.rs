//! Everything that speaks Slack: request verification, the slash-command endpoint,
//! and the shape of the replies. Knows nothing about Heroku or GitHub.

pub mod api;
pub mod commands;
pub mod interactions;
pub mod outbox;
pub mod pacer;
pub mod signed;
pub mod verify;
