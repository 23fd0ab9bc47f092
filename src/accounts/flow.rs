//! The linking pages: `GET /auth/{heroku,github}/start` has the person sign in with
//! Slack ([`slack_sign_in`]), which then sends the browser to the provider's authorize
//! page; `GET /auth/{heroku,github}/callback` brings it back with
//! a code, which is exchanged for tokens; the identity is read (`GET /account`,
//! `GET /user`), stored sealed, and the next step shown: connect the other account, or
//! "You're all set", with a note in Slack. A token that cannot be stored (someone else
//! holds the account) is revoked at the provider, not just dropped.
//!
//! Register these callback URLs with the providers: `{BASE_URL}/auth/heroku/callback`
//! (Heroku OAuth client) and `{BASE_URL}/auth/github/callback` (GitHub OAuth Bot).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

// Where the install flow (and the sign-in) have always found it.
pub use super::link_failure::LinkFailure;
use super::provider::{GITHUB_SCOPES, HEROKU_SCOPE};
use super::states::{self, Origin, Purpose, StateError};
use super::tokens::{open_account, save_github, save_heroku};
use super::{Provider, cookies, notify, revoke, slack_sign_in};
use crate::bot::{Bot, BotState};
use crate::pages::Page;

/// `?state=` of a start link.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    state: Option<String>,
}

/// What a provider sends back: `code` and `state`, or `error` when the person said no.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// `GET /auth/heroku/start`
pub async fn heroku_start(
    State(app): State<BotState>,
    Query(query): Query<StartQuery>,
) -> Response {
    start(&app, Provider::Heroku, query).await
}

/// `GET /auth/github/start`
pub async fn github_start(
    State(app): State<BotState>,
    Query(query): Query<StartQuery>,
) -> Response {
    start(&app, Provider::GitHub, query).await
}

/// `GET /auth/heroku/callback`
pub async fn heroku_callback(
    State(app): State<BotState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    callback(&app, Provider::Heroku, &headers, query).await
}

/// `GET /auth/github/callback`
pub async fn github_callback(
    State(app): State<BotState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    callback(&app, Provider::GitHub, &headers, query).await
}

/// Where `provider` sends the browser back to.
pub fn callback_url(app: &Bot, provider: Provider) -> String {
    format!("{}/auth/{}/callback", app.config.base_url, provider.key())
}

/// Checks the state, then has the person sign in with Slack first.
async fn start(app: &Bot, provider: Provider, query: StartQuery) -> Response {
    let purpose = Purpose::Link(provider);
    let state = query.state.as_deref();
    match states::pending(app, purpose, state).await {
        Ok(origin) => slack_sign_in::start(app, provider, state.unwrap_or_default(), &origin),
        Err(error) => error.page(purpose),
    }
}

/// Sends this browser, now known to be the person `state` was made for, to the
/// provider's authorize page, bound to `state` by a cookie.
pub fn to_provider(app: &Bot, provider: Provider, state: &str) -> Response {
    let bound = cookies::bind(app, Purpose::Link(provider), state);
    match provider {
        Provider::Heroku => redirect(&app.heroku_oauth.authorize_url(state, HEROKU_SCOPE), bound),
        Provider::GitHub => {
            // PKCE (S256): the verifier stays in this browser, the challenge goes to GitHub.
            let verifier = states::random();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            let redirect_uri = callback_url(app, Provider::GitHub);
            let location =
                app.github_oauth
                    .authorize_url(state, GITHUB_SCOPES, &redirect_uri, &challenge);
            let mut response = redirect(&location, bound);
            response.headers_mut().append(
                header::SET_COOKIE,
                cookies::bind_pkce(app, provider, &verifier),
            );
            response
        }
    }
}

/// A `302 Found` to `location` that also sets `cookie`.
pub fn redirect(location: &str, cookie: HeaderValue) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        tracing::error!("an authorize URL is not a valid header value");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::SET_COOKIE, cookie),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
    )
        .into_response()
}

async fn callback(
    app: &BotState,
    provider: Provider,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Response {
    let purpose = Purpose::Link(provider);
    let origin = match claimed(app, purpose, headers, &query).await {
        Ok(Some(origin)) => origin,
        // Link states always have an origin; one without cannot be for this.
        Ok(None) => return StateError::Unknown.page(purpose),
        Err(refusal) => return refusal,
    };
    let code = query.code.unwrap_or_default();
    let verifier = cookies::pkce(headers, provider).unwrap_or_default();
    let linked = match provider {
        Provider::Heroku => link_heroku(app, &origin, &code).await,
        Provider::GitHub => link_github(app, &origin, &code, verifier).await,
    };
    let mut page = match linked {
        Ok(who) => next_step(app, &origin, provider, &who).await,
        Err(failure) => failure.page(purpose),
    };
    page.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(app, purpose));
    if provider == Provider::GitHub {
        page.headers_mut()
            .append(header::SET_COOKIE, cookies::clear_pkce(app, provider));
    }
    page
}

/// The state of a callback, used up; or the page refusing it. Checked before anything
/// else, so a forged callback learns nothing, not even whether the person said no.
pub async fn claimed(
    app: &Bot,
    purpose: Purpose,
    headers: &HeaderMap,
    query: &CallbackQuery,
) -> Result<Option<Origin>, Response> {
    let state = query.state.as_deref();
    states::check(app, purpose, state)
        .await
        .map_err(|error| error.page(purpose))?;
    if let Some(error) = &query.error {
        return Err(not_allowed(error));
    }
    if query.code.as_deref().is_none_or(str::is_empty) {
        return Err(incomplete(purpose));
    }
    states::claim(app, purpose, state, headers)
        .await
        .map_err(|error| error.page(purpose))
}

/// The page for a person who said no (`error` from the provider) on its page.
pub fn not_allowed(error: &str) -> Response {
    tracing::info!(error = ?error, "the person did not allow access");
    Page::new("Access was not allowed")
        .paragraph("You chose not to allow access, so nothing was changed.")
        .paragraph("You can use the same link again within 10 minutes, or ask for a new one.")
        .respond(StatusCode::OK)
}

/// The page for a callback without a code.
pub fn incomplete(purpose: Purpose) -> Response {
    Page::new("This link is incomplete")
        .paragraph("It carries no authorization code. Nothing was changed.")
        .paragraph(purpose.retry_hint())
        .respond(StatusCode::BAD_REQUEST)
}

/// Exchanges a Heroku code, reads the account, stores the link; the account's email.
async fn link_heroku(app: &Bot, origin: &Origin, code: &str) -> Result<String, LinkFailure> {
    let heroku_failure = |error: crate::heroku::HerokuError| {
        LinkFailure::new("Heroku", error.is_transient(), &error)
    };
    let tokens = app
        .heroku_oauth
        .exchange_code(code)
        .await
        .map_err(heroku_failure)?;
    let account = app
        .heroku
        .account(&tokens.access_token)
        .await
        .map_err(heroku_failure)?;
    let saved = save_heroku(
        app,
        &origin.team_id,
        &origin.user_id,
        &account.id,
        &account.email,
        &tokens,
    )
    .await;
    if let Err(error) = saved {
        // The bot keeps no copy, so the token must not stay alive at Heroku.
        revoke::heroku(app, &tokens.access_token, &tokens.refresh_token).await;
        return Err(LinkFailure::unsaved(error, "Heroku", &account.email));
    }
    Ok(account.email)
}

/// Exchanges a GitHub code, reads the user, stores the link; the user's login.
async fn link_github(
    app: &Bot,
    origin: &Origin,
    code: &str,
    verifier: &str,
) -> Result<String, LinkFailure> {
    let github_failure = |error: crate::github::GitHubError| {
        LinkFailure::new("GitHub", error.is_transient(), &error)
    };
    let redirect_uri = callback_url(app, Provider::GitHub);
    let token = app
        .github_oauth
        .exchange_code(code, &redirect_uri, verifier)
        .await
        .map_err(github_failure)?;
    let user = app
        .github
        .user(&token.access_token)
        .await
        .map_err(github_failure)?;
    let saved = save_github(
        app,
        &origin.team_id,
        &origin.user_id,
        user.id,
        &user.login,
        &token.access_token,
    )
    .await;
    if let Err(error) = saved {
        revoke::github(app, &token.access_token).await;
        return Err(LinkFailure::unsaved(error, "GitHub", &user.login));
    }
    Ok(user.login)
}

/// After `provider` was linked as `who`: the next account to connect, or "all set".
async fn next_step(app: &BotState, origin: &Origin, provider: Provider, who: &str) -> Response {
    let title = format!("{provider} connected as {who}");
    let opened = match open_account(app, &origin.team_id, &origin.user_id).await {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot read linked accounts");
            return Page::new(title)
                .paragraph("Run `/h login` in Slack to see what is left to connect.")
                .respond(StatusCode::OK);
        }
    };
    let (heroku, github) = match (opened.heroku, opened.github) {
        (Some(heroku), Some(github)) => (heroku.email, github.login),
        (heroku, _) => {
            let next = if heroku.is_none() {
                Provider::Heroku
            } else {
                Provider::GitHub
            };
            return connect_next(app, origin, title, next).await;
        }
    };
    notify::all_set(app.clone(), origin.clone(), &heroku, &github);
    Page::new("You're all set")
        .paragraph(format!(
            "Go back to Slack: your commands now act as {heroku} on Heroku and {github} on GitHub."
        ))
        .paragraph("You can close this tab.")
        .respond(StatusCode::OK)
}

async fn connect_next(app: &Bot, origin: &Origin, title: String, next: Provider) -> Response {
    let why = match next {
        Provider::GitHub => "so deploys can read your repositories and record GitHub deployments",
        Provider::Heroku => "so deploys can build and release your apps",
    };
    let page = Page::new(title).paragraph(format!("Next: connect {next}, {why}."));
    match states::issue(app, Purpose::Link(next), Some(origin)).await {
        Ok(state) => page
            .action(
                format!("Connect {next}"),
                states::start_url(app, next, &state),
            )
            .respond(StatusCode::OK),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot issue an OAuth state");
            page.paragraph(format!("Run `/h login` in Slack to connect {next}."))
                .respond(StatusCode::OK)
        }
    }
}
