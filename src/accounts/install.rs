//! Installing the app in a workspace (Slack OAuth v2): its bot token is stored sealed
//! for [`crate::workspaces`] to post with.
//!
//! `GET /slack/install` sends the installer to Slack's authorize page (scopes
//! [`SLACK_SCOPES`]); `GET /slack/oauth/callback` trades the code for the workspace's
//! bot token with `oauth.v2.access` and stores it sealed. Register
//! `{BASE_URL}/slack/oauth/callback` as a Redirect URL of the Slack app. A single
//! workspace can skip all this and set `SLACK_BOT_TOKEN`, which is used for any team
//! without an install of its own.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;

use super::cookies;
use super::flow::{CallbackQuery, LinkFailure, claimed, redirect};
use super::provider::SLACK_SCOPES;
use super::states::{self, Purpose};
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
    let state = match states::issue(&app, Purpose::Install, None).await {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot issue an OAuth state");
            return Page::new("Something went wrong")
                .paragraph("The install could not be started. Try again in a moment.")
                .respond(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
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
    if let Err(refusal) = claimed(&app, Purpose::Install, &headers, &query).await {
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

fn installed_page(team_id: &str, team_name: &str) -> Response {
    tracing::info!(team = %team_id, "installed in a workspace");
    Page::new(format!("Installed in {team_name}"))
        .paragraph("Type `/h help` in any channel to see what the bot can do.")
        .paragraph(
            "Everyone then runs `/h login` once to connect their Heroku and GitHub accounts.",
        )
        .respond(StatusCode::OK)
}
