//! The metrics' HTTP side: every request counted and timed by the route it matched,
//! and `GET /metrics` in Prometheus' text format, behind `METRICS_TOKEN` when set.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::bot::BotState;
use crate::metrics::{CONTENT_TYPE, UNMATCHED_ROUTE};

/// Counts and times every request by the route it matched.
pub async fn track(State(app): State<BotState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics
        .request_served(route, response.status(), started.elapsed());
    response
}

/// `GET /metrics`
pub async fn scrape(State(app): State<BotState>, headers: HeaderMap) -> Response {
    if let Some(token) = &app.config.metrics_token
        && !bearer_matches(&headers, token)
    {
        tracing::warn!("a metrics scrape without the right METRICS_TOKEN was refused");
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "Metrics need `Authorization: Bearer <METRICS_TOKEN>`.\n",
        )
            .into_response();
    }
    match app.metrics.render(&app.store).await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot render the metrics");
            // Stale gauges would look like the truth; an error is honest.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Metrics are unavailable: the database did not answer.\n",
            )
                .into_response()
        }
    }
}

/// Whether the request carries `Authorization: Bearer <token>`. Both sides go through
/// HMAC-SHA256 first and the digests are compared in constant time, so neither the
/// token's bytes nor its length leak through timing.
fn bearer_matches(headers: &HeaderMap, token: &SecretString) -> bool {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let digest = |text: &str| {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"chatops metrics token")
            .expect("HMAC accepts keys of any length");
        mac.update(text.as_bytes());
        mac
    };
    let expected = digest(token.expose_secret()).finalize().into_bytes();
    digest(sent).verify_slice(&expected).is_ok()
}
