//! What every fake GitHub API request goes through: the request log, GitHub's
//! request rules (a `User-Agent`, a supported API version), token authentication
//! (401 `Bad credentials`), the hourly rate limit with its
//! `x-ratelimit-*` headers (403 `API rate limit exceeded` when spent), repository
//! access (404 for repositories the caller may not see, as GitHub hides them), and
//! GitHub's error bodies.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::world::{RateWindow, World};

/// Where GitHub's error bodies point.
pub(super) const DOCS: &str = "https://docs.github.com/rest";

/// Requests per hour: GitHub's budgets for a user token and for anonymous callers.
pub(super) const USER_LIMIT: u32 = 5000;
const ANONYMOUS_LIMIT: u32 = 60;
const ANONYMOUS: &str = "";

/// Who is calling: the login behind the token, or `None` without one.
#[derive(Clone)]
pub(super) struct Caller(pub Option<String>);

/// What a handler needs to be allowed to do on a repository.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    Read,
    Write,
}

/// A GitHub error answer: a status and GitHub's JSON error body.
pub(super) struct Refusal {
    pub status: StatusCode,
    pub body: Value,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// `{"message", "documentation_url", "status"}`, as GitHub answers errors.
pub(super) fn error(status: StatusCode, message: &str) -> Refusal {
    Refusal {
        status,
        body: json!({"message": message, "documentation_url": DOCS, "status": status.as_str()}),
    }
}

pub(super) fn not_found() -> Refusal {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// A list answer: `body`, with GitHub's pagination `Link` header when more follow.
pub(super) fn listed(body: Value, link: Option<String>) -> Response {
    match link {
        Some(link) => ([(header::LINK, link)], Json(body)).into_response(),
        None => Json(body).into_response(),
    }
}

/// 422 with GitHub's validation shape.
pub(super) fn validation_failed(errors: Vec<Value>) -> Refusal {
    let body = json!({"message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422"});
    Refusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body,
    }
}

/// The repository `owner/name` if the caller may do `need` there. GitHub answers 404
/// both for a missing repository and for one the caller may not see or write to.
pub(super) fn repo_for(
    world: &World,
    caller: &Caller,
    owner: &str,
    name: &str,
    need: Need,
) -> Result<usize, Refusal> {
    let index = world.repo_index(owner, name).ok_or_else(not_found)?;
    let access = world.repos[index]
        .access(caller.0.as_deref())
        .ok_or_else(not_found)?;
    if need == Need::Write && !access.push {
        return Err(not_found());
    }
    Ok(index)
}

/// Logs every request, faulted ones included (installed outside the fault layer).
pub(super) async fn record(
    State(fake): State<FakeGitHub>,
    request: Request,
    next: Next,
) -> Response {
    let line = format!("{} {}", request.method(), request.uri().path());
    fake.world().requests.push(line);
    next.run(request).await
}

/// Authenticates and meters an API request, then stamps the rate-limit headers (on
/// refusals too, as GitHub does).
pub(super) async fn guard(
    State(fake): State<FakeGitHub>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = bearer(request.headers());
    let (grant, window) = {
        let mut world = fake.world();
        // `Some(None)`: a token was sent but GitHub does not know it.
        let grant = token.map(|token| {
            world
                .tokens
                .get(&token)
                .map(|grant| (grant.login.clone(), grant.scopes.clone()))
        });
        let login = grant.clone().flatten().map(|(login, _)| login);
        let window = spend(&mut world, login.as_deref());
        (grant, window)
    };
    let scopes = grant.clone().flatten().map(|(_, scopes)| scopes);
    let mut response = match grant {
        _ if !request.headers().contains_key(header::USER_AGENT) => {
            error(StatusCode::FORBIDDEN, NO_USER_AGENT).into_response()
        }
        _ if unsupported_version(request.headers()) => error(
            StatusCode::BAD_REQUEST,
            "Unsupported 'X-GitHub-Api-Version' header. Supported versions are: 2022-11-28",
        )
        .into_response(),
        Some(None) => error(StatusCode::UNAUTHORIZED, "Bad credentials").into_response(),
        _ if window.used > window.limit => {
            error(StatusCode::FORBIDDEN, RATE_LIMITED).into_response()
        }
        grant => {
            request
                .extensions_mut()
                .insert(Caller(grant.flatten().map(|(login, _)| login)));
            next.run(request).await
        }
    };
    stamp(response.headers_mut(), &window, scopes.as_deref());
    response
}

const NO_USER_AGENT: &str = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.";

/// GitHub answers 400 to a version it does not serve; no header means 2022-11-28.
fn unsupported_version(headers: &HeaderMap) -> bool {
    headers
        .get("x-github-api-version")
        .is_some_and(|version| version != "2022-11-28")
}

const RATE_LIMITED: &str =
    "API rate limit exceeded for this account. (Authenticated requests get a higher rate limit.)";

/// Counts one request against the caller's hourly budget (unknown tokens and no token
/// share the anonymous one) and returns the window after it.
fn spend(world: &mut World, login: Option<&str>) -> RateWindow {
    let limit = if login.is_some() {
        USER_LIMIT
    } else {
        ANONYMOUS_LIMIT
    };
    let now = world.now();
    let fresh = RateWindow {
        limit,
        used: 0,
        reset_at: now + 3600,
    };
    let window = world
        .rate
        .entry(login.unwrap_or(ANONYMOUS).to_owned())
        .or_insert(fresh);
    if now >= window.reset_at {
        *window = RateWindow {
            limit,
            used: 0,
            reset_at: now + 3600,
        };
    }
    // `used` may pass `limit` by one: that request is the refused one.
    window.used = (window.used + 1).min(window.limit + 1);
    RateWindow {
        limit: window.limit,
        used: window.used,
        reset_at: window.reset_at,
    }
}

fn stamp(headers: &mut HeaderMap, window: &RateWindow, scopes: Option<&str>) {
    let used = window.used.min(window.limit);
    let pairs = [
        ("x-ratelimit-limit", window.limit.to_string()),
        ("x-ratelimit-remaining", (window.limit - used).to_string()),
        ("x-ratelimit-used", used.to_string()),
        ("x-ratelimit-reset", window.reset_at.to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
        ("x-github-api-version-selected", "2022-11-28".to_owned()),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_str(&value).expect("ASCII header"));
    }
    if let Some(scopes) = scopes.and_then(|scopes| HeaderValue::from_str(scopes).ok()) {
        headers.insert("x-oauth-scopes", scopes);
    }
}

/// The token of `Authorization: Bearer …` or GitHub's older `token …`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    known.then(|| token.trim().to_owned())
}
