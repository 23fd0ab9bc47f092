//! Installing the app in a workspace (Slack OAuth v2): its bot token is stored sealed
//! for [`crate::workspaces`] to post with.
//!
//! `GET /slack/install` sends the installer to Slack's authorize page (scopes
//! [`SLACK_SCOPES`]) with a signed state ([`install_state`], nothing stored);
//! `GET /slack/oauth/callback` checks it and trades the code for the workspace's
//! bot token with `oauth.v2.access` and stores it sealed. Register
//! `{BASE_URL}/slack/oauth/callback` as a Redirect URL of the Slack app. A single
//! workspace can skip all this and set `SLACK_BOT_TOKEN`, which is used for any team
//! without an install of its own.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;

use super::cookies;
use super::flow::{CallbackQuery, LinkFailure, redirect};
use super::install_state;
use super::provider::SLACK_SCOPES;
use super::states::Purpose;
use crate::bot::{Bot, BotState};
use crate::pages::Page;
use crate::store::StoredWorkspace;

/// `GET /slack/install`
pub async fn start(State(app): State<BotState>) -> Response {
    let Some(slack_app) = &app.config.slack_app else {
        return Page::new("Installing is not set up")
            .paragraph(
                "This bot serves one workspace. To install it in others, set \
                 `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`.",
            )
            .respond(StatusCode::NOT_FOUND);
    };
    let state = install_state::issue(&app);
    let location = app.slack.authorize_url(
        &slack_app.client_id,
        SLACK_SCOPES,
        &callback_url(&app),
        &state,
    );
    redirect(&location, cookies::bind(&app, Purpose::Install, &state))
}

fn callback_url(app: &Bot) -> String {
    format!("{}/slack/oauth/callback", app.config.base_url)
}

/// `GET /slack/oauth/callback`
pub async fn callback(
    State(app): State<BotState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(slack_app) = &app.config.slack_app else {
        return Page::new("Installing is not set up").respond(StatusCode::NOT_FOUND);
    };
    if let Err(refused) = install_state::verify(&app, query.state.as_deref(), &headers).await {
        return refused.page(Purpose::Install);
    }
    if let Some(refusal) = not_granted(&query) {
        return refusal;
    }
    let granted = app
        .slack
        .oauth_v2_access(
            &slack_app.client_id,
            &slack_app.client_secret,
            query.code.as_deref().unwrap_or_default(),
            Some(&callback_url(&app)),
        )
        .await;
    let mut page = match granted {
        Ok(installation) => {
            let team_id = installation.team_id.clone();
            let team_name = installation
                .team_name
                .clone()
                .unwrap_or_else(|| team_id.clone());
            let workspace = StoredWorkspace {
                bot_token: app.vault.seal(
                    installation.access_token.expose_secret(),
                    &crate::workspaces::sealed_for(&team_id),
                ),
                team_id,
                team_name: installation.team_name,
                bot_user_id: installation.bot_user_id,
                scope: installation.scope,
                installer_user_id: installation.installer_user_id,
                installed_at: app.clock.now(),
            };
            match app.store.install_workspace(&workspace).await {
                Ok(()) => installed_page(&workspace.team_id, &team_name),
                Err(error) => LinkFailure::Store(error).page(Purpose::Install),
            }
        }
        Err(error) => {
            LinkFailure::new("Slack", error.is_transient(), &error).page(Purpose::Install)
        }
    };
    page.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&app, Purpose::Install));
    page
}

/// The installer said no at Slack, or the callback carries no code.
fn not_granted(query: &CallbackQuery) -> Option<Response> {
    let (status, title, why) = if query.error.is_some() {
        tracing::info!(error = ?query.error, "the installer did not allow the app");
        (
            StatusCode::OK,
            "The app was not installed",
            "You chose not to allow it",
        )
    } else if query.code.as_deref().is_none_or(str::is_empty) {
        (
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "It carries no authorization code",
        )
    } else {
        return None;
    };
    Some(
        Page::new(title)
            .paragraph(format!("{why}, so nothing was changed."))
            .paragraph(Purpose::Install.retry_hint())
            .respond(status),
    )
}

fn installed_page(team_id: &str, team_name: &str) -> Response {
    tracing::info!(team = %team_id, "installed in a workspace");
    Page::new(format!("Installed in {team_name}"))
        .paragraph("Type `/h help` in any channel to see what the bot can do.")
        .paragraph(
            "Everyone then runs `/h login` once to connect their Heroku and GitHub accounts.",
        )
        .respond(StatusCode::OK)
}
