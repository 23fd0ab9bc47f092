//! The fake's OAuth App flow: an authorize page where you pick a seeded account and
//! press Authorize (or Cancel), single-use codes that expire after ten minutes, the
//! code-for-token exchange (which, like GitHub's, refuses with a 200 and an `error`),
//! and revoking a token with the app's basic credentials.

use std::collections::HashMap;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::FakeGitHub;
use super::http::{Refusal, error, not_found, validation_failed};
use super::world::{OAuthCode, random_alphanumeric};

/// The sandbox's OAuth App: configure the bot with these.
pub const OAUTH_CLIENT_ID: &str = "sandbox-github-client-id";
pub const OAUTH_CLIENT_SECRET: &str = "sandbox-github-client-secret";

/// How long an authorization code can be exchanged, as on GitHub.
pub(super) const CODE_LIFETIME_SECS: i64 = 10 * 60;

/// The authorize request, from the bot's link (query) or the page's form.
#[derive(Deserialize)]
pub(super) struct Authorize {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    /// The account chosen on the page; absent when the user pressed Cancel.
    login: Option<String>,
    /// PKCE (S256 only, as GitHub).
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// `GET /login/oauth/authorize`: the consent page.
pub(super) async fn page(
    State(fake): State<FakeGitHub>,
    Query(request): Query<Authorize>,
) -> Response {
    let redirect_uri = match checked(&request) {
        Ok(redirect_uri) => redirect_uri,
        Err(refusal) => return refusal.into_response(),
    };
    let logins: Vec<&str> = fake
        .world()
        .accounts
        .iter()
        .map(|account| account.login)
        .collect();
    let buttons: String = logins
        .iter()
        .map(|login| {
            format!("<button name=\"login\" value=\"{login}\">Authorize as {login}</button>\n")
        })
        .collect();
    let hidden: String = [
        ("client_id", OAUTH_CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("scope", &request.scope),
        ("state", &request.state),
        (
            "code_challenge",
            request.code_challenge.as_deref().unwrap_or(""),
        ),
        (
            "code_challenge_method",
            request.code_challenge_method.as_deref().unwrap_or(""),
        ),
    ]
    .iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            escape(value)
        )
    })
    .collect();
    Html(format!(
        "<!doctype html>\n<title>Authorize application</title>\n<h1>Authorize chatops (sandbox)</h1>\n\
         <p>It asks for: <code>{}</code></p>\n<form method=\"post\" action=\"/login/oauth/authorize\">\n{hidden}{buttons}\
         <button>Cancel</button>\n</form>\n",
        escape(&request.scope)
    ))
    .into_response()
}

/// `POST /login/oauth/authorize`: the button press; back to the app with a code (or
/// with `error=access_denied`).
pub(super) async fn authorize(
    State(fake): State<FakeGitHub>,
    Form(request): Form<Authorize>,
) -> Response {
    let redirect_uri = match checked(&request) {
        Ok(redirect_uri) => redirect_uri.to_owned(),
        Err(refusal) => return refusal.into_response(),
    };
    let mut world = fake.world();
    let Some(login) = request.login.filter(|login| world.account(login).is_some()) else {
        let denied = [
            ("error", "access_denied"),
            (
                "error_description",
                "The user has denied your application access.",
            ),
            ("state", &request.state),
        ];
        return back_to(&redirect_uri, &denied);
    };
    let code = random_alphanumeric(20);
    let expires_at = world.now() + CODE_LIFETIME_SECS;
    let scopes = request
        .scope
        .split([' ', ','])
        .filter(|scope| !scope.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    world.codes.insert(
        code.clone(),
        OAuthCode {
            login,
            redirect_uri: redirect_uri.clone(),
            scopes,
            expires_at,
            challenge: request.code_challenge.filter(|c| !c.is_empty()),
        },
    );
    back_to(&redirect_uri, &[("code", &code), ("state", &request.state)])
}

/// The `redirect_uri` of a request for the sandbox app, or the page GitHub shows.
fn checked(request: &Authorize) -> Result<&str, (StatusCode, Html<&'static str>)> {
    if request.client_id.as_deref() != Some(OAUTH_CLIENT_ID) {
        return Err((
            StatusCode::NOT_FOUND,
            Html("<h1>404</h1><p>This is not a known OAuth application.</p>"),
        ));
    }
    let method = request.code_challenge_method.as_deref();
    if request.code_challenge.is_some() && method.is_some_and(|m| m != "S256") {
        return Err((
            StatusCode::BAD_REQUEST,
            Html("<p>Only the S256 code_challenge_method is supported.</p>"),
        ));
    }
    match request.redirect_uri.as_deref() {
        Some(uri) if uri.starts_with("http://") || uri.starts_with("https://") => Ok(uri),
        _ => Err((
            StatusCode::BAD_REQUEST,
            Html("<p>The redirect_uri is missing or not an http(s) URL.</p>"),
        )),
    }
}

fn back_to(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string(params).expect("strings encode");
    // GitHub redirects with 302 Found.
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{redirect_uri}{separator}{query}"),
        )],
    )
        .into_response()
}

/// `POST /login/oauth/access_token`: form or JSON in; JSON out when asked for
/// (`Accept: application/json`), else form-encoded, GitHub's default.
pub(super) async fn exchange(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"))
    };
    let params: HashMap<String, String> = if is_json(header::CONTENT_TYPE) {
        serde_json::from_slice(&body).unwrap_or_default()
    } else {
        serde_urlencoded::from_bytes(&body).unwrap_or_default()
    };
    let param = |name: &str| params.get(name).map(String::as_str);
    let answer = fake.exchange(
        param("client_id"),
        param("client_secret"),
        param("code"),
        param("redirect_uri"),
        param("code_verifier"),
    );
    if is_json(header::ACCEPT) {
        axum::Json(answer).into_response()
    } else {
        let pairs: Vec<(String, String)> = answer
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into()))
            .collect();
        let form = serde_urlencoded::to_string(pairs).expect("strings encode");
        (
            [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
            form,
        )
            .into_response()
    }
}

impl FakeGitHub {
    /// The exchange's answer: a token, or GitHub's `error` object.
    fn exchange(
        &self,
        client_id: Option<&str>,
        secret: Option<&str>,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> serde_json::Value {
        let refusal = |error: &str, description: &str| json!({"error": error, "error_description": description, "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"});
        if client_id != Some(OAUTH_CLIENT_ID) || secret != Some(OAUTH_CLIENT_SECRET) {
            return refusal(
                "incorrect_client_credentials",
                "The client_id and/or client_secret passed are incorrect.",
            );
        }
        let mut world = self.world();
        let now = world.now();
        let Some(pending) = code
            .and_then(|code| world.codes.get(code))
            .filter(|pending| now < pending.expires_at)
        else {
            return refusal(
                "bad_verification_code",
                "The code passed is incorrect or expired.",
            );
        };
        if redirect_uri.is_some_and(|uri| uri != pending.redirect_uri) {
            return refusal(
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            );
        }
        if let Some(challenge) = &pending.challenge
            && verifier.map(s256).as_ref() != Some(challenge)
        {
            return refusal(
                "bad_verification_code",
                "The code_verifier does not match the code_challenge.",
            );
        }
        let pending = world
            .codes
            .remove(code.expect("found above"))
            .expect("found above");
        let token = world.mint_token(&pending.login, &pending.scopes);
        json!({"access_token": token, "token_type": "bearer", "scope": pending.scopes})
    }
}

/// PKCE's S256: the verifier's SHA-256, base64url without padding.
fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// `DELETE /applications/{client_id}/token` with the app's basic credentials and
/// `{"access_token": …}`: 204, and the token stops working.
pub(super) async fn revoke(
    State(fake): State<FakeGitHub>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    if client_id != OAUTH_CLIENT_ID {
        return Err(not_found());
    }
    if basic_credentials(&headers).as_deref()
        != Some(&format!("{OAUTH_CLIENT_ID}:{OAUTH_CLIENT_SECRET}"))
    {
        return Err(error(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|body| body["access_token"].as_str().map(String::from));
    let Some(token) = token else {
        return Err(validation_failed(vec![
            json!({"resource": "OauthAccess", "field": "access_token", "code": "missing_field"}),
        ]));
    };
    match fake.world().tokens.remove(&token) {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        // GitHub answers 404 for a token it does not know; its description lists
        // only 204 and 422 for this operation.
        None => Err(not_found()),
    }
}

/// `user:password` of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(decoded).ok()
}

/// Text made safe inside HTML attributes and elements.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
