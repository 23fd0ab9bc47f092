//! chatops: a self-hostable Heroku ChatOps for Slack.
//!
//! `/h` commands arrive signed at [`slack`], are parsed by [`command`], recorded by
//! [`store`], and answered; [`app`] wires the routes and serves them.

pub mod accounts;
pub mod app;
pub mod bot;
pub mod channels;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod command;
pub mod config;
pub mod deploy;
pub mod dispatch;
pub mod doctor;
pub mod edge;
pub mod github;
pub mod heroku;
pub mod history;
pub mod lease;
pub mod locks;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod pages;
pub mod pipelines;
pub mod resolver;
pub mod slack;
pub mod store;
pub mod telemetry;
pub mod vault;
pub mod webhooks;
pub mod when;
pub mod workspaces;
