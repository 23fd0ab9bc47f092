//! Sign in with Slack in front of every link: `GET /auth/{heroku,github}/start` sends
//! the browser to Slack's OpenID Connect authorize page first, and
//! `GET /auth/slack/callback` lets it go on to the provider only if Slack's ID token
//! says this browser is the Slack user (and workspace) the link was made for.
//!
//! Without it a link was a bearer token: whoever opened carol's "Connect Heroku" link
//! linked *their* Heroku account to carol (login CSRF), so carol's commands ran with
//! their tokens. Now opening someone else's link ends on a page saying so, with nothing
//! changed: the state is not used up and no cookie lets the provider's callback accept
//! it. The ID token's `nonce` is kept in this browser's cookie, so a code or ID token
//! from another sign-in (or the same one, replayed) is refused.
//!
//! Register `{BASE_URL}/auth/slack/callback` as a redirect URL of the Slack app, with
//! the user scopes `openid` and `profile`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::flow::{self, CallbackQuery, LinkFailure, incomplete, not_allowed, redirect};
use super::states::{self, Origin, Purpose, StateError};
use super::{Provider, cookies};
use crate::bot::{Bot, BotState};
use crate::pages::Page;
use crate::slack::openid::{SignInError, SlackIdentity};

/// Where Slack sends the browser back to.
pub fn callback_url(app: &Bot) -> String {
    format!("{}/auth/slack/callback", app.config.base_url)
}

/// Sends the browser to sign in with Slack before linking `provider` with `state`,
/// which was made for `origin`.
pub fn start(app: &Bot, provider: Provider, state: &str, origin: &Origin) -> Response {
    let Some(sign_in) = &app.slack_sign_in else {
        return unconfigured();
    };
    let nonce = states::random();
    let location = sign_in.authorize_url(state, &nonce, &origin.team_id, &callback_url(app));
    redirect(&location, cookies::bind_sign_in(app, provider, &nonce))
}

/// `GET /auth/slack/callback`
pub async fn callback(
    State(app): State<BotState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let mut page = signed_in(&app, &headers, query).await;
    page.headers_mut()
        .append(header::SET_COOKIE, cookies::clear_sign_in(&app));
    page
}

async fn signed_in(app: &Bot, headers: &HeaderMap, query: CallbackQuery) -> Response {
    let Some((provider, nonce)) = cookies::sign_in(headers) else {
        // The state does not say which browser started; without the cookie this one
        // did not, or the sign-in was already finished here.
        return StateError::OtherBrowser.page(Purpose::Link(Provider::Heroku));
    };
    let purpose = Purpose::Link(provider);
    let state = query.state.as_deref().unwrap_or_default();
    let origin = match states::pending(app, purpose, Some(state)).await {
        Ok(origin) => origin,
        Err(error) => return error.page(purpose),
    };
    if let Some(error) = &query.error {
        return not_allowed(error);
    }
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return incomplete(purpose);
    };
    let Some(sign_in) = &app.slack_sign_in else {
        return unconfigured();
    };
    let identity = match sign_in.identify(code, &callback_url(app), nonce).await {
        Ok(identity) => identity,
        Err(error) => {
            let transient = matches!(error, SignInError::Unavailable(_));
            return LinkFailure::new("Slack", transient, &error).page(purpose);
        }
    };
    if (identity.team_id.as_str(), identity.user_id.as_str())
        != (origin.team_id.as_str(), origin.user_id.as_str())
    {
        return someone_else(&origin, &identity);
    }
    flow::to_provider(app, provider, state)
}

/// The page for a browser signed in to Slack as someone other than the link's owner.
fn someone_else(origin: &Origin, identity: &SlackIdentity) -> Response {
    tracing::warn!(
        link_team = %origin.team_id,
        link_user = %origin.user_id,
        signed_in_team = %identity.team_id,
        signed_in_user = %identity.user_id,
        "a link was opened by another Slack user: refused"
    );
    let name = identity.name.as_deref().unwrap_or(&identity.user_id);
    let team = identity.team_name.as_deref().unwrap_or(&identity.team_id);
    Page::new("This link is for someone else")
        .paragraph(format!(
            "This link was made for Slack user {} in workspace {}; you are signed in to \
             Slack as @{name} in {team}. Nothing was changed.",
            origin.user_id, origin.team_id
        ))
        .paragraph(
            "A link connects accounts only for the person who ran `/h login`. \
             Run `/h login` in Slack for a link of your own.",
        )
        .respond(StatusCode::FORBIDDEN)
}

fn unconfigured() -> Response {
    tracing::error!(
        "linking needs Sign in with Slack: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"
    );
    Page::new("Linking is not set up")
        .paragraph(
            "This bot signs people in with Slack before linking accounts, and has no Slack \
             client id and secret to do it. Nothing was changed.",
        )
        .paragraph("Ask whoever runs it to set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET.")
        .respond(StatusCode::SERVICE_UNAVAILABLE)
}
