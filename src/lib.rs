//! chatops: a self-hostable Heroku ChatOps for Slack.
//!
//! The modules form layers; each uses only its own layer and the ones below, with no
//! cycle (tests/it/layers.rs checks it on every test run). Bottom to top:
//! - time and secrets: [`clock`], [`when`], [`lease`], [`vault`];
//! - clients and store: [`store`], [`metrics`], [`outbound`], [`heroku`], [`github`],
//!   [`slack`];
//! - settings: [`config`];
//! - vocabulary: [`command`] (the `/h` grammar), [`chat`] (invocations, replies,
//!   presses), [`pages`], [`resolver`] (pipeline -> stage -> apps);
//! - shared parts: [`bot`] (what every feature is handed);
//! - services: [`outbox`], [`webhooks`], [`workspaces`];
//! - shared features: [`accounts`], [`locks`], [`channels`];
//! - features: [`deploy`], [`pipelines`], [`history`], [`doctor`], [`home`] (the App Home
//!   dashboard);
//! - wiring: [`dispatch`], [`edge`] (the HTTP handlers), [`app`], [`cli`],
//!   [`rekey`], [`telemetry`].
//!
//! docs/ARCHITECTURE.md follows one `/h deploy` through them.

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
pub mod home;
pub mod lease;
pub mod locks;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod pages;
pub mod pipelines;
pub mod rekey;
pub mod resolver;
pub mod slack;
pub mod store;
pub mod sweeps;
pub mod telemetry;
pub mod vault;
pub mod webhooks;
pub mod when;
pub mod workspaces;
