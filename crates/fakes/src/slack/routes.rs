//! The fake's HTTP surface: the Web API under `/api/{method}` (GET or POST, JSON or
//! form), `response_url`s under `/response/{id}`, the OAuth and Sign in with Slack pages and Slack's JWKS, all
//! behind the fake's injectable faults.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

use super::params::{Answer, Params, Refusal, outcome, refusal_body, reply};
use super::state::State;
use super::{FakeSlack, chat, history, oauth, openid, respond, views};
use crate::faults;

pub(super) fn router(fake: FakeSlack) -> Router {
    Router::new()
        .route("/api/{method}", any(api))
        .route("/response/{id}", post(respond::post))
        .route("/oauth/v2/authorize", get(oauth::page).post(oauth::decide))
        .route(
            "/openid/connect/authorize",
            get(openid::page).post(openid::decide),
        )
        .route("/openid/connect/keys", get(openid::keys))
        .layer(axum::middleware::from_fn_with_state(
            fake.faults.clone(),
            faults::apply,
        ))
        .layer(axum::middleware::from_fn(slack_shaped_429))
        .with_state(fake)
}

/// Slack's 429 always carries `{"ok": false, "error": "ratelimited"}`, and clients
/// read it; an injected 429 (whose body is generic) is given that body too, keeping
/// its `Retry-After`.
async fn slack_shaped_429(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::TOO_MANY_REQUESTS {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, refusal_body("ratelimited")).into_response()
}

/// One Web API call, logged with its outcome whatever it was.
async fn api(
    AxumState(fake): AxumState<FakeSlack>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = fake.lock();
    let answer = Params::parse(&headers, query.as_deref(), &body)
        .and_then(|params| call(&mut state, &method, &params, &fake.base_url));
    let (status, error) = outcome(&answer);
    state.records.log(&method, status, error);
    reply(answer)
}

fn call(state: &mut State, method: &str, params: &Params, base_url: &str) -> Answer {
    match method {
        "chat.postMessage" => chat::post_message(state, params),
        "chat.update" => chat::update(state, params),
        "chat.postEphemeral" => chat::post_ephemeral(state, params),
        "conversations.replies" => history::replies(state, params),
        "conversations.history" => history::history(state, params),
        "oauth.v2.access" => oauth::access(state, params),
        "views.publish" => views::publish(state, params),
        "openid.connect.token" => openid::token(state, params, base_url),
        "openid.connect.userInfo" => openid::user_info(state, params),
        _ => Err(Refusal::Error("unknown_method")),
    }
}
