//! Linked accounts: who a Slack user is on Heroku and GitHub, and their tokens, kept
//! sealed by the [`vault`](crate::vault). Owns the linking flow (`/h login`, the OAuth pages, the
//! Slack follow-up), proving with Sign in with Slack that whoever opens a link is the
//! person it was made for, token refresh, logout, and workspace installs; it does not decide
//! what a token is used for.
//!
//! An identity is per Slack `(team_id, user_id)`: the same person in another
//! workspace links again. The rest of the bot calls [`linked`] for a person's fresh
//! tokens, [`forget`] when a provider answers 401 later, [`LinkError::reply`] to ask
//! the person to link (remembering the command, to offer it again when done), and
//! [`seen_by`] for the pipeline as the person sees it.
//!
//! # What to register with each provider
//!
//! | provider | callback URL | scopes |
//! |---|---|---|
//! | Heroku OAuth client | `{BASE_URL}/auth/heroku/callback` | [`HEROKU_SCOPE`] (`global`) |
//! | GitHub OAuth App | `{BASE_URL}/auth/github/callback` | [`GITHUB_SCOPES`] (`repo read:user`) |
//! | Slack app (multi-workspace) | `{BASE_URL}/slack/oauth/callback` | [`SLACK_SCOPES`] |
//! | Slack app (Sign in with Slack) | `{BASE_URL}/auth/slack/callback` | user scopes `openid profile` |

mod connect;
mod cookies;
mod flow;
mod install;
mod install_state;
mod link_failure;
mod linked;
pub mod login;
mod notify;
mod provider;
mod revoke;
mod slack_sign_in;
mod states;
mod tokens;

use axum::Router;
use axum::routing::get;

use crate::bot::BotState;

pub use flow::CallbackQuery;
pub use linked::{LinkError, Linked, MissingReason, NotLinked, acting_as, forget, linked, seen_by};
pub use provider::{GITHUB_SCOPES, HEROKU_SCOPE, Provider, SLACK_SCOPES};
pub use states::LIFETIME_SECS as STATE_LIFETIME_SECS;
pub use tokens::{REFRESH_MARGIN_SECS, context as token_context, save_github, save_heroku};

/// The linking and install pages.
pub fn routes() -> Router<BotState> {
    Router::new()
        .route("/auth/heroku/start", get(flow::heroku_start))
        .route("/auth/heroku/callback", get(flow::heroku_callback))
        .route("/auth/github/start", get(flow::github_start))
        .route("/auth/github/callback", get(flow::github_callback))
        .route("/auth/slack/callback", get(slack_sign_in::callback))
        .route("/slack/install", get(install::start))
        .route("/slack/oauth/callback", get(install::callback))
}
