//! The fake id.heroku.com: an authorize page where a person picks a seeded account and
//! presses Allow (redirecting to the client's registered callback with `code` and
//! `state`), and `POST /oauth/token`, which trades codes and refresh tokens for access
//! tokens that expire.

use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::FakeHeroku;
use super::errors::ApiError;
use super::ids::secret;
use super::world::World;

/// How long an authorization code may wait to be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// Heroku's web-flow access tokens live 8 hours.
pub(super) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// A registered OAuth client.
#[derive(Debug, Clone)]
pub(super) struct OAuthClient {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// What a code or refresh token stands for.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub user_id: String,
    pub scope: String,
    pub client_id: String,
    pub expires_at: Option<Instant>,
}

#[derive(Deserialize)]
pub(super) struct AuthorizeQuery {
    client_id: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    redirect_uri: Option<String>,
}

/// `GET /oauth/authorize`: the consent page.
pub(super) async fn page(
    State(fake): State<FakeHeroku>,
    Query(query): Query<AuthorizeQuery>,
) -> Response {
    fake.with_world(|world| match world.check_authorize(&query) {
        Ok(client) => Html(consent_page(world, &client.id, &query)).into_response(),
        Err(problem) => (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<h1>Authorization failed</h1><p>{}</p>",
                escape(&problem)
            )),
        )
            .into_response(),
    })
}

fn consent_page(world: &World, client_id: &str, query: &AuthorizeQuery) -> String {
    let hidden = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            escape(value)
        )
    };
    let accounts: String = world
        .users
        .iter()
        .enumerate()
        .map(|(index, user)| {
            let checked = if index == 0 { " checked" } else { "" };
            format!(r#"<label><input type="radio" name="email" value="{0}"{checked}> {0} ({1})</label><br>"#, escape(&user.email), escape(&user.name))
        })
        .collect();
    let scope = query.scope.as_deref().unwrap_or("global");
    format!(
        "<!doctype html><html><head><title>Heroku | Authorize</title></head><body>\
         <h1>Authorize {client}</h1><p>This application is asking for <b>{scope_html}</b> access to your Heroku account.</p>\
         <form method=\"post\" action=\"/oauth/authorize\">{client_field}{scope_field}{state_field}{accounts}\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form></body></html>",
        client = escape(client_id),
        scope_html = escape(scope),
        client_field = hidden("client_id", client_id),
        scope_field = hidden("scope", scope),
        state_field = hidden("state", query.state.as_deref().unwrap_or("")),
    )
}

#[derive(Deserialize)]
pub(super) struct Decision {
    client_id: String,
    scope: String,
    state: String,
    email: Option<String>,
    decision: String,
}

/// `POST /oauth/authorize`: the person's answer; back to the client either way.
pub(super) async fn decide(
    State(fake): State<FakeHeroku>,
    Form(decision): Form<Decision>,
) -> Response {
    fake.with_world(|world| {
        let Some(client) = world
            .oauth_clients
            .iter()
            .find(|client| client.id == decision.client_id)
            .cloned()
        else {
            return (
                StatusCode::BAD_REQUEST,
                Html("<h1>Unknown OAuth client</h1>".to_owned()),
            )
                .into_response();
        };
        let user = decision
            .email
            .as_deref()
            .and_then(|email| world.user_by_email(email))
            .map(|user| user.id.clone());
        let outcome = match (decision.decision.as_str(), user) {
            ("allow", Some(user_id)) => {
                let code = secret("");
                let grant = Grant {
                    user_id,
                    scope: decision.scope,
                    client_id: client.id,
                    expires_at: Some(Instant::now() + CODE_LIFETIME),
                };
                world.codes.insert(code.clone(), grant);
                [("code", code), ("state", decision.state)]
            }
            _ => [
                ("error", "access_denied".to_owned()),
                ("state", decision.state),
            ],
        };
        let query = serde_urlencoded::to_string(outcome).unwrap_or_default();
        let joiner = if client.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        // id.heroku.com answers 302 Found.
        (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("{}{joiner}{query}", client.redirect_uri),
            )],
        )
            .into_response()
    })
}

#[derive(Deserialize)]
pub(super) struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth/token` (form-encoded).
pub(super) async fn token(
    State(fake): State<FakeHeroku>,
    Form(request): Form<TokenRequest>,
) -> Response {
    fake.with_world(|world| match world.grant_tokens(request) {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => error.into_response(),
    })
}

impl World {
    fn check_authorize(&self, query: &AuthorizeQuery) -> Result<&OAuthClient, String> {
        let client_id = query.client_id.as_deref().ok_or("client_id is missing.")?;
        let client = self
            .oauth_clients
            .iter()
            .find(|client| client.id == client_id)
            .ok_or_else(|| format!("Unknown OAuth client {client_id}."))?;
        if query.response_type.as_deref() != Some("code") {
            return Err("response_type must be code.".into());
        }
        if query
            .redirect_uri
            .as_deref()
            .is_some_and(|uri| uri != client.redirect_uri)
        {
            return Err("redirect_uri does not match the client's registered callback.".into());
        }
        Ok(client)
    }

    fn grant_tokens(&mut self, request: TokenRequest) -> Result<serde_json::Value, ApiError> {
        let secret = request.client_secret.unwrap_or_default();
        let client = self
            .oauth_clients
            .iter()
            .find(|client| client.secret == secret)
            .cloned();
        let client =
            client.ok_or_else(|| ApiError::unauthorized_because("Invalid OAuth client secret."))?;
        let (grant, refresh_token, access_token) = match request.grant_type.as_deref() {
            Some("authorization_code") => {
                let code = request.code.unwrap_or_default();
                let grant = self.codes.remove(&code).filter(|grant| {
                    grant.client_id == client.id
                        && grant.expires_at.is_none_or(|at| at > Instant::now())
                });
                let grant = grant.ok_or_else(|| {
                    ApiError::unauthorized_because("Invalid OAuth authorization code.")
                })?;
                let refresh_token = secret_token();
                self.refresh_tokens.insert(
                    refresh_token.clone(),
                    Grant {
                        expires_at: None,
                        ..grant.clone()
                    },
                );
                let access_token = self.authorize(
                    &grant.user_id,
                    &grant.scope,
                    Some(client),
                    Some(refresh_token.clone()),
                );
                (grant, refresh_token, access_token)
            }
            Some("refresh_token") => {
                let refresh_token = request.refresh_token.unwrap_or_default();
                let grant = self
                    .refresh_tokens
                    .get(&refresh_token)
                    .filter(|grant| grant.client_id == client.id)
                    .cloned();
                let held = grant.zip(self.authorization_by_refresh(&refresh_token));
                let (grant, authorization) = held.ok_or_else(|| {
                    ApiError::unauthorized_because("Invalid OAuth refresh token.")
                })?;
                let access_token = self.issue_token(&authorization);
                (grant, refresh_token, access_token)
            }
            _ => {
                return Err(ApiError::bad_request(
                    "grant_type must be authorization_code or refresh_token.",
                ));
            }
        };
        Ok(json!({
            "access_token": access_token, "expires_in": self.token_lifetime.as_secs(), "refresh_token": refresh_token,
            "token_type": "Bearer", "user_id": grant.user_id, "session_nonce": null,
        }))
    }
}

fn secret_token() -> String {
    secret("HRKU-")
}

fn escape(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
