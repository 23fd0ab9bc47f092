//! The fake's front door for API routes: records every request, checks the bearer
//! token (unknown or expired: 401), its OAuth scope, and the account's request budget
//! (429 when spent), and stamps `RateLimit-Remaining` on the answer.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;

use super::FakeHeroku;
use super::activity::{ActedRequest, SeenRequest};
use super::errors::ApiError;
use super::ids::new_id;
use super::world::World;

/// How many requests the log keeps: plenty for a test, bounded for a long sandbox run.
const REQUEST_LOG_LIMIT: usize = 10_000;

/// The account a request acts for, put into the request by [`authenticate`].
#[derive(Debug, Clone)]
pub(super) struct Actor {
    pub user_id: String,
}

/// Records what arrived, before faults or authentication can intervene, so tests can
/// count attempts.
pub(super) async fn record(
    State(fake): State<FakeHeroku>,
    request: Request,
    next: Next,
) -> Response {
    let seen = SeenRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    };
    fake.with_world(|world| {
        world.requests_total += 1;
        keep(&mut world.requests, seen);
    });
    next.run(request).await
}

/// Appends to a bounded log.
fn keep<T>(log: &mut std::collections::VecDeque<T>, entry: T) {
    if log.len() == REQUEST_LOG_LIMIT {
        log.pop_front();
    }
    log.push_back(entry);
}

/// Admits API requests with a valid token and budget left.
pub(super) async fn authenticate(
    State(fake): State<FakeHeroku>,
    mut request: Request,
    next: Next,
) -> Response {
    if !asks_for_v3(&request) {
        return stamp(ApiError::no_such_endpoint().into_response(), None);
    }
    let token = bearer(&request);
    let admitted = fake
        .with_world(|world| world.admit(token.as_deref(), request.method(), request.uri().path()));
    let (response, remaining) = match admitted {
        Ok((actor, remaining)) => {
            request.extensions_mut().insert(actor);
            (next.run(request).await, Some(remaining))
        }
        Err((error, remaining)) => (error.into_response(), remaining),
    };
    stamp(response, remaining)
}

/// Heroku routes by the version in `Accept`; without it there is no such endpoint.
fn asks_for_v3(request: &Request) -> bool {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    accept.contains("application/vnd.heroku+json") && accept.replace(' ', "").contains("version=3")
}

fn bearer(request: &Request) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        return Some(token.trim().to_owned());
    }
    // Heroku also takes the token as the password of HTTP Basic (any user), as
    // heroku3, `curl -n` and the CLI's netrc send it.
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (_, token) = decoded.split_once(':')?;
    Some(token.to_owned())
}

fn stamp(mut response: Response, remaining: Option<u32>) -> Response {
    let headers = response.headers_mut();
    if let Some(remaining) = remaining {
        headers.insert("RateLimit-Remaining", HeaderValue::from(remaining));
    }
    if let Ok(id) = HeaderValue::from_str(&new_id()) {
        headers.insert("Request-Id", id);
    }
    response
}

/// The one-time password a write carries, if any.
pub(super) fn two_factor_code(headers: &HeaderMap) -> Option<&str> {
    headers.get("Heroku-Two-Factor-Code")?.to_str().ok()
}

/// A JSON request body, or Heroku's 400 for one that is not JSON.
pub(super) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("Request body is not valid JSON: {error}.")))
}

type Refusal = (ApiError, Option<u32>);

impl World {
    /// Who the token acts for and the budget left after this request.
    fn admit(
        &mut self,
        token: Option<&str>,
        method: &Method,
        path: &str,
    ) -> Result<(Actor, u32), Refusal> {
        let token = token
            .and_then(|token| self.tokens.get(token))
            .filter(|token| token.expires_at > Instant::now())
            .cloned()
            .ok_or((ApiError::unauthorized(), None))?;
        let user = self
            .users
            .iter_mut()
            .find(|user| user.id == token.user_id)
            .expect("tokens belong to known users");
        // Heroku does not count reading the budget against it.
        let remaining = if path == "/account/rate-limits" {
            user.budget.remaining()
        } else {
            user.budget
                .spend()
                .ok_or((ApiError::rate_limited(), Some(0)))?
        };
        if !scope_allows(&token.scope, method, path) {
            let message = format!(
                "This OAuth authorization's scope ({}) does not allow {method} {path}.",
                token.scope
            );
            return Err((ApiError::forbidden(message), Some(remaining)));
        }
        let acted = ActedRequest {
            account: user.email.clone(),
            method: method.to_string(),
            path: path.to_owned(),
        };
        keep(&mut self.admitted, acted);
        Ok((
            Actor {
                user_id: token.user_id,
            },
            remaining,
        ))
    }
}

/// Heroku's OAuth scopes: `identity` reads only the account, `read` only reads,
/// `write` everything but the account's own OAuth authorizations, which take `global`.
fn scope_allows(scope: &str, method: &Method, path: &str) -> bool {
    scope.split([' ', ',']).any(|scope| match scope {
        _ if path.starts_with("/oauth/") => scope == "global",
        "global" | "write" | "write-protected" => true,
        "read" | "read-protected" => method == Method::GET,
        "identity" => method == Method::GET && path == "/account",
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_limit_what_a_token_may_do() {
        assert!(scope_allows("global", &Method::POST, "/apps/x/builds"));
        assert!(scope_allows("read write", &Method::POST, "/apps/x/builds"));
        assert!(scope_allows("read", &Method::GET, "/apps/x"));
        assert!(!scope_allows("read", &Method::POST, "/apps/x/builds"));
        assert!(scope_allows("identity", &Method::GET, "/account"));
        assert!(!scope_allows("identity", &Method::GET, "/pipelines"));
        assert!(scope_allows(
            "global",
            &Method::DELETE,
            "/oauth/authorizations/x"
        ));
        assert!(!scope_allows(
            "write",
            &Method::GET,
            "/oauth/authorizations"
        ));
    }
}
