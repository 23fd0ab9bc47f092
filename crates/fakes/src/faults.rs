//! Faults injectable into any sandbox fake, per endpoint: the failures real services
//! have (5xx, 429 storms, slow answers, hangs, dropped connections), so clients and the
//! deploy orchestrator are proven against them.
//!
//! A rule matches a method and a path prefix, fires a bounded number of times (or
//! forever), and acts either before the handler (the service never saw the request)
//! or after it (the service acted, then the answer was lost: the case that tempts a
//! client into doing things twice).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How a request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Answer with this status and a short JSON error body.
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    RateLimited { retry_after_secs: u64 },
    /// Never answer (until the client gives up).
    Hang,
    /// Start a response, then break the connection.
    Drop,
}

/// When a failure strikes relative to the service doing its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// The request never reaches the handler: nothing changes.
    Before,
    /// The handler runs (state changes), then the response is replaced by the failure.
    After,
}

/// One injected fault: a delay, a failure, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// `None` matches every method.
    pub method: Option<Method>,
    /// Matches request paths starting with this (`""` matches everything).
    pub path_prefix: String,
    /// Waited before anything else happens.
    pub delay: Duration,
    /// `None`: after the delay the request is handled normally.
    pub failure: Option<Failure>,
    pub timing: Timing,
    /// How many more requests it strikes; `None` for every one.
    pub remaining: Option<u32>,
}

impl FaultRule {
    /// The next `times` requests to `method path_prefix…` fail before the handler.
    pub fn failing(method: Method, path_prefix: &str, failure: Failure, times: u32) -> FaultRule {
        FaultRule {
            method: Some(method),
            path_prefix: path_prefix.into(),
            delay: Duration::ZERO,
            failure: Some(failure),
            timing: Timing::Before,
            remaining: Some(times),
        }
    }

    /// The next `times` requests to `method path_prefix…` are answered after `delay`.
    pub fn slow(method: Method, path_prefix: &str, delay: Duration, times: u32) -> FaultRule {
        FaultRule {
            delay,
            failure: None,
            ..FaultRule::failing(method, path_prefix, Failure::Hang, times)
        }
    }

    /// The same fault, striking after the handler has done its work.
    pub fn after_handling(self) -> FaultRule {
        FaultRule {
            timing: Timing::After,
            ..self
        }
    }

    /// The same fault on every matching request, with no end.
    pub fn forever(self) -> FaultRule {
        FaultRule {
            remaining: None,
            ..self
        }
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && path.starts_with(&self.path_prefix)
    }
}

/// The fault rules of one fake service, shared with whoever injects them.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<Vec<FaultRule>>>);

impl Faults {
    /// Adds a rule; rules are tried in the order they were added.
    pub fn inject(&self, rule: FaultRule) {
        self.0.lock().expect("faults lock").push(rule);
    }

    /// How many rules have strikes left.
    pub fn armed(&self) -> usize {
        self.0.lock().expect("faults lock").len()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.0.lock().expect("faults lock").clear();
    }

    /// The first matching rule, consuming one of its strikes.
    fn take(&self, method: &Method, path: &str) -> Option<FaultRule> {
        let mut rules = self.0.lock().expect("faults lock");
        let index = rules.iter().position(|rule| rule.matches(method, path))?;
        let rule = rules[index].clone();
        match rules[index].remaining.as_mut() {
            Some(1) => {
                rules.remove(index);
            }
            Some(left) => *left -= 1,
            None => {}
        }
        Some(rule)
    }
}

/// axum middleware applying the fake's faults; install with
/// `axum::middleware::from_fn_with_state(faults, faults::apply)`.
pub async fn apply(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let Some(rule) = faults.take(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let handles = rule.failure.is_none() || rule.timing == Timing::After;
    if !handles {
        tokio::time::sleep(rule.delay).await;
        return respond_with(rule.failure.expect("a failure before handling")).await;
    }
    // A real service acts on a request it has received even when the client hangs up
    // while waiting (a bot killed mid-request): the handler runs in a task of its own,
    // which the connection closing cannot cancel.
    let delay = rule.delay;
    let handled = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        next.run(request).await
    });
    let answer = handled
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    match rule.failure {
        None => answer,
        Some(failure) => respond_with(failure).await,
    }
}

/// The response (or non-response) that replaces the service's answer.
async fn respond_with(failure: Failure) -> Response {
    match failure {
        Failure::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({"id": "injected_fault", "message": format!("injected {status}")});
            (status, axum::Json(body)).into_response()
        }
        Failure::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            axum::Json(serde_json::json!({"id": "rate_limit", "message": "Your account reached the API rate limit"})),
        )
            .into_response(),
        Failure::Hang => std::future::pending().await,
        Failure::Drop => {
            // A body that errors makes hyper abort the connection mid-response, which
            // the client sees as a reset, like a crashed load balancer.
            let broken = futures_util::stream::once(async {
                Err::<axum::body::Bytes, _>(std::io::Error::other("injected connection drop"))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_LENGTH, "1024")
                .body(Body::from_stream(broken))
                .expect("a valid response")
        }
    }
}
