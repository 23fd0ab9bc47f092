//! Linked accounts: who a Slack user is on Heroku and GitHub, and their tokens, kept
//! sealed by the [`vault`].

pub mod vault;
