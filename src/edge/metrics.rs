//! The metrics' HTTP side: every request counted and timed by the route it matched,
//! and `GET /metrics` in Prometheus' text format.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

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
pub async fn scrape(State(app): State<BotState>) -> Response {
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
