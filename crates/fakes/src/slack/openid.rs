//! Sign in with Slack (OpenID Connect), as Slack documents it: the
//! `/openid/connect/authorize` page (here: one click on the person you are, in the
//! requested workspace, or any when it does not know that one), `openid.connect.token`, which trades the code for a user
//! token and an RS256 ID token carrying the `nonce` and Slack's
//! `https://slack.com/team_id` and `https://slack.com/user_id` claims,
//! `openid.connect.userInfo`, and the JWKS at `/openid/connect/keys`.
//!
//! Codes are single-use and expire; the client is checked by id and secret, and the
//! `redirect_uri` must be the one the authorize page was given. The issuer is the
//! fake's own URL, as `https://slack.com` is Slack's.

use std::time::{Instant, SystemTime};

use axum::Json;
use axum::extract::{Form, Query, State as AxumState};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::oauth::{client_credentials, escape, redirect, refused_page};
use super::params::{Answer, Params, Refusal, object};
use super::signing::{published, unpublished};
use super::state::{PendingSignIn, State};
use super::world::{World, random_alphanumeric};
use super::{FakeSlack, Tamper};

/// How long an ID token is good for (Slack: an hour).
const ID_TOKEN_SECS: u64 = 3600;

/// The authorize page's query (and the hidden fields of its form).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Authorize {
    response_type: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    /// The workspace to sign in to, when the client knows it.
    team: Option<String>,
}

/// Who the person said they are, or Cancel.
#[derive(Debug, Deserialize)]
pub(super) struct Decision {
    #[serde(flatten)]
    request: Authorize,
    /// `team/user`, e.g. `T0SANDBOX/U0ALICE`.
    sign_in_as: Option<String>,
}

/// `GET /openid/connect/authorize`.
pub(super) async fn page(
    AxumState(fake): AxumState<FakeSlack>,
    Query(request): Query<Authorize>,
) -> Response {
    let state = fake.lock();
    match checked(&state.world, &request) {
        Ok(()) => Html(sign_in_page(&state.world, &request)).into_response(),
        Err(problem) => refused_page(problem),
    }
}

/// `POST /openid/connect/authorize`: a person picked, or Cancel.
pub(super) async fn decide(
    AxumState(fake): AxumState<FakeSlack>,
    Form(decision): Form<Decision>,
) -> Response {
    let mut state = fake.lock();
    let request = &decision.request;
    if let Err(problem) = checked(&state.world, request) {
        return refused_page(problem);
    }
    let redirect_uri = request.redirect_uri.clone().unwrap_or_default();
    let state_param = request.state.as_deref();
    let Some(who) = decision.sign_in_as.as_deref() else {
        return redirect(&redirect_uri, &[("error", "access_denied")], state_param);
    };
    let Some((team, user)) = who
        .split_once('/')
        .filter(|(team, user)| is_member(&state.world, team, user))
    else {
        return refused_page("pick who you are");
    };
    let code = random_alphanumeric(40);
    let pending = PendingSignIn {
        team: team.to_owned(),
        user: user.to_owned(),
        nonce: request.nonce.clone(),
        redirect_uri: redirect_uri.clone(),
        minted: Instant::now(),
    };
    state.sign_in_codes.insert(code.clone(), pending);
    redirect(&redirect_uri, &[("code", &code)], state_param)
}

/// `openid.connect.token`.
pub(super) fn token(state: &mut State, params: &Params, issuer: &str) -> Answer {
    let client_id = client_credentials(state, params)?;
    if params
        .str("grant_type")
        .is_some_and(|g| g != "authorization_code")
    {
        return Err(Refusal::Error("unsupported_grant_type"));
    }
    let code = params.str("code").ok_or(Refusal::Error("invalid_code"))?;
    let pending = state
        .sign_in_codes
        .remove(code)
        .ok_or(Refusal::Error("invalid_code"))?;
    if pending.minted.elapsed() >= state.code_ttl {
        return Err(Refusal::Error("invalid_code"));
    }
    if params.str("redirect_uri") != Some(pending.redirect_uri.as_str()) {
        return Err(Refusal::Error("bad_redirect_uri"));
    }
    let access_token = format!("xoxp-{}", random_alphanumeric(40));
    let claims = claims(state, &pending, &client_id, issuer, &access_token);
    let genuine = published().sign(&claims);
    let id_token = match state.tamper.take() {
        None => genuine.clone(),
        Some(tamper) => tampered(state, tamper, claims),
    };
    state.last_id_token = Some(genuine);
    state
        .user_tokens
        .insert(access_token.clone(), (pending.team, pending.user));
    Ok(object(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "id_token": id_token,
    })))
}

/// `openid.connect.userInfo`: who the user token belongs to.
pub(super) fn user_info(state: &State, params: &Params) -> Answer {
    let token = params.token().ok_or(Refusal::Error("not_authed"))?;
    let (team, user) = state
        .user_tokens
        .get(token)
        .ok_or(Refusal::Error("invalid_auth"))?;
    let mut info = profile(&state.world, team, user);
    info.insert("sub".into(), json!(user));
    Ok(info)
}

/// `GET /openid/connect/keys`.
pub(super) async fn keys() -> Json<Value> {
    Json(json!({ "keys": [published().jwk()] }))
}

fn tampered(state: &State, tamper: Tamper, mut claims: Value) -> String {
    match tamper {
        Tamper::OtherKey => return unpublished().sign(&claims),
        Tamper::Replay => {
            if let Some(last) = &state.last_id_token {
                return last.clone();
            }
        }
        Tamper::Nonce => claims["nonce"] = json!(random_alphanumeric(22)),
        Tamper::Audience => claims["aud"] = json!("another-app"),
        Tamper::Expired => {
            let past = now_secs() - 2 * ID_TOKEN_SECS;
            claims["iat"] = json!(past);
            claims["auth_time"] = json!(past);
            claims["exp"] = json!(past + ID_TOKEN_SECS);
        }
    }
    published().sign(&claims)
}

fn claims(
    state: &State,
    pending: &PendingSignIn,
    client_id: &str,
    issuer: &str,
    access_token: &str,
) -> Value {
    let now = now_secs();
    // OpenID Connect's at_hash: the left half of the token's SHA-256, base64url.
    let digest = Sha256::digest(access_token.as_bytes());
    let mut claims = profile(&state.world, &pending.team, &pending.user);
    claims.extend(object(json!({
        "iss": issuer,
        "sub": pending.user,
        "aud": client_id,
        "exp": now + ID_TOKEN_SECS,
        "iat": now,
        "auth_time": now,
        "at_hash": URL_SAFE_NO_PAD.encode(&digest[..16]),
    })));
    if let Some(nonce) = &pending.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    Value::Object(claims)
}

/// The `profile` scope's claims, with Slack's own.
fn profile(world: &World, team: &str, user: &str) -> serde_json::Map<String, Value> {
    let workspace = world.workspace(team);
    let name = workspace
        .and_then(|w| w.users.iter().find(|(id, _)| id == user))
        .map_or(user, |(_, name)| name.as_str());
    let team_name = workspace.map_or(team, |w| w.name.as_str());
    object(json!({
        "https://slack.com/user_id": user,
        "https://slack.com/team_id": team,
        "name": name,
        "given_name": name,
        "family_name": "",
        "locale": "en-US",
        "https://slack.com/team_name": team_name,
        "https://slack.com/team_domain": team_name.to_lowercase().replace(' ', "-"),
    }))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn is_member(world: &World, team: &str, user: &str) -> bool {
    world
        .workspace(team)
        .is_some_and(|w| w.users.iter().any(|(id, _)| id == user))
}

/// Whether Slack would show the page for this request.
fn checked(world: &World, request: &Authorize) -> Result<(), &'static str> {
    if request.client_id.as_deref() != Some(world.app.client_id.as_str()) {
        return Err("invalid_client_id: no app has this client_id");
    }
    if request.response_type.as_deref() != Some("code") {
        return Err("unsupported_response_type: response_type must be code");
    }
    let scopes = request.scope.as_deref().unwrap_or_default();
    if !scopes.split([' ', ',']).any(|scope| scope == "openid") {
        return Err("invalid_scope: Sign in with Slack needs the openid scope");
    }
    let redirect_uri = request.redirect_uri.as_deref().unwrap_or_default();
    if !(redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://")) {
        return Err("bad_redirect_uri: redirect_uri must be an http(s) URL");
    }
    Ok(())
}

fn sign_in_page(world: &World, request: &Authorize) -> String {
    let hidden: String = [
        ("response_type", &request.response_type),
        ("client_id", &request.client_id),
        ("scope", &request.scope),
        ("redirect_uri", &request.redirect_uri),
        ("state", &request.state),
        ("nonce", &request.nonce),
        ("team", &request.team),
    ]
    .iter()
    .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    .map(|(name, value)| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            escape(value)
        )
    })
    .collect();
    // Slack signs the person in to the requested workspace; one it does not know gets
    // the workspace picker, here everyone.
    let known = |team: &String| world.workspace(team).is_some();
    let team = request.team.as_ref().filter(|team| known(team));
    let people: String = world
        .workspaces
        .iter()
        .filter(|w| team.is_none_or(|team| *team == w.id))
        .flat_map(|w| w.users.iter().map(move |(id, name)| (w, id, name)))
        .map(|(w, id, name)| {
            format!(
                r#"<button name="sign_in_as" value="{}/{id}">Continue as {} ({})</button><br>"#,
                w.id,
                escape(name),
                escape(&w.name)
            )
        })
        .collect();
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Sign in with Slack</title></head><body>
<h1>Sign in with Slack</h1>
<p>chatops wants to know who you are on Slack. Pick yourself:</p>
<form method="post" action="/openid/connect/authorize">{hidden}
{people}<button name="cancel" value="cancel">Cancel</button>
</form></body></html>"#
    )
}
