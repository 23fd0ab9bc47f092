//! The OAuth v2 install: the authorize page (pick a workspace and who you are, then
//! Allow or Cancel, redirected back with a `code` or `error=access_denied`), and
//! `oauth.v2.access`, which trades a code for the workspace's bot token. Codes are
//! single-use and expire; the client is checked by id and secret, from HTTP basic
//! auth or from the arguments, as Slack accepts both.

use axum::extract::{Form, Query, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::FakeSlack;
use super::params::{Answer, Params, Refusal, object};
use super::state::{PendingCode, State};
use super::world::{World, random_alphanumeric};

/// The authorize page's query (and the hidden fields of its form).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Authorize {
    client_id: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

/// What the person chose on the page.
#[derive(Debug, Deserialize)]
pub(super) struct Decision {
    #[serde(flatten)]
    request: Authorize,
    /// `team/user`, e.g. `T0SANDBOX/U0ALICE`.
    install_as: Option<String>,
    decision: String,
}

/// `GET /oauth/v2/authorize`.
pub(super) async fn page(
    AxumState(fake): AxumState<FakeSlack>,
    Query(request): Query<Authorize>,
) -> Response {
    let state = fake.lock();
    match checked(&state.world, &request) {
        Ok(scope) => Html(install_page(&state.world, &request, scope)).into_response(),
        Err(problem) => refused_page(problem),
    }
}

/// `POST /oauth/v2/authorize`: Allow or Cancel.
pub(super) async fn decide(
    AxumState(fake): AxumState<FakeSlack>,
    Form(decision): Form<Decision>,
) -> Response {
    let mut state = fake.lock();
    let scope = match checked(&state.world, &decision.request) {
        Ok(scope) => scope.to_owned(),
        Err(problem) => return refused_page(problem),
    };
    let redirect_uri = decision.request.redirect_uri.clone().unwrap_or_default();
    let back =
        |pairs: &[(&str, &str)]| redirect(&redirect_uri, pairs, decision.request.state.as_deref());
    if decision.decision != "allow" {
        return back(&[("error", "access_denied")]);
    }
    let Some((team, user)) = chosen(&state.world, decision.install_as.as_deref()) else {
        return refused_page("pick a workspace to install in");
    };
    let code = random_alphanumeric(40);
    let pending = PendingCode {
        team,
        user,
        scope,
        redirect_uri: redirect_uri.clone(),
        minted: std::time::Instant::now(),
    };
    state.codes.insert(code.clone(), pending);
    back(&[("code", &code)])
}

/// `oauth.v2.access`.
pub(super) fn access(state: &mut State, params: &Params) -> Answer {
    client_credentials(state, params)?;
    let code = params.str("code").ok_or(Refusal::Error("invalid_code"))?;
    let pending = state
        .codes
        .remove(code)
        .ok_or(Refusal::Error("invalid_code"))?;
    if pending.minted.elapsed() >= state.code_ttl {
        return Err(Refusal::Error("invalid_code"));
    }
    if params.str("redirect_uri") != Some(pending.redirect_uri.as_str()) {
        return Err(Refusal::Error("bad_redirect_uri"));
    }
    let token = state.world.install(&pending.team);
    state.records.installed(&pending.team);
    let workspace = state
        .world
        .workspace(&pending.team)
        .ok_or(Refusal::Error("invalid_code"))?;
    Ok(object(json!({
        "app_id": state.world.app.app_id,
        "authed_user": {"id": pending.user},
        "scope": pending.scope,
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": workspace.bot_user_id,
        "team": {"id": workspace.id, "name": workspace.name},
        "enterprise": null,
        "is_enterprise_install": false
    })))
}

/// The client's id, if the call carries the app's id and secret (from HTTP basic auth
/// or the arguments, as Slack accepts both).
pub(super) fn client_credentials(state: &State, params: &Params) -> Result<String, Refusal> {
    let from_arguments = || {
        Some((
            params.str("client_id")?.to_owned(),
            params.str("client_secret")?.to_owned(),
        ))
    };
    let (client_id, secret) = params
        .basic
        .clone()
        .or_else(from_arguments)
        .ok_or(Refusal::Error("invalid_client_id"))?;
    if client_id != state.world.app.client_id {
        return Err(Refusal::Error("invalid_client_id"));
    }
    if secret != state.world.app.client_secret {
        return Err(Refusal::Error("bad_client_secret"));
    }
    Ok(client_id)
}

/// The requested scope, if the request is one Slack would show a page for.
fn checked<'a>(world: &World, request: &'a Authorize) -> Result<&'a str, &'static str> {
    if request.client_id.as_deref() != Some(world.app.client_id.as_str()) {
        return Err("invalid_client_id: no app has this client_id");
    }
    let redirect_uri = request.redirect_uri.as_deref().unwrap_or_default();
    if !(redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://")) {
        return Err("bad_redirect_uri: redirect_uri must be an http(s) URL");
    }
    request
        .scope
        .as_deref()
        .filter(|scope| !scope.is_empty())
        .ok_or("invalid_scope: no scope requested")
}

/// The `(team, user)` chosen, if that person is in that workspace.
fn chosen(world: &World, install_as: Option<&str>) -> Option<(String, String)> {
    let (team, user) = install_as?.split_once('/')?;
    let workspace = world.workspace(team)?;
    workspace
        .users
        .iter()
        .any(|(id, _)| id == user)
        .then(|| (team.to_owned(), user.to_owned()))
}

pub(super) fn redirect(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
) -> Response {
    let mut pairs = pairs.to_vec();
    pairs.extend(state.map(|state| ("state", state)));
    let query = serde_urlencoded::to_string(&pairs).expect("string pairs always encode");
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{redirect_uri}{separator}{query}"),
        )],
    )
        .into_response()
}

fn install_page(world: &World, request: &Authorize, scope: &str) -> String {
    let hidden: String = [
        ("client_id", &request.client_id),
        ("scope", &request.scope),
        ("redirect_uri", &request.redirect_uri),
        ("state", &request.state),
    ]
    .iter()
    .map(|(name, value)| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            escape(value.as_deref().unwrap_or_default())
        )
    })
    .collect();
    let choices: String = world
        .workspaces
        .iter()
        .flat_map(|w| w.users.iter().map(move |(id, name)| (w, id, name)))
        .enumerate()
        .map(|(index, (w, id, name))| {
            let checked = if index == 0 { " checked" } else { "" };
            format!(
                r#"<label><input type="radio" name="install_as" value="{}/{id}"{checked}> {} as {name}</label><br>"#,
                w.id,
                escape(&w.name)
            )
        })
        .collect();
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Install chatops</title></head><body>
<h1>chatops is requesting permission to access a Slack workspace</h1>
<p>It will be able to use: <code>{}</code></p>
<form method="post" action="/oauth/v2/authorize">{hidden}
<fieldset><legend>Install in</legend>{choices}</fieldset>
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Cancel</button>
</form></body></html>"#,
        escape(scope)
    )
}

pub(super) fn refused_page(problem: &str) -> Response {
    let body = format!(
        "<!doctype html><html><body><h1>Something went wrong</h1><p>{}</p></body></html>",
        escape(problem)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
