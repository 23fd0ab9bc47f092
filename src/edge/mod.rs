//! The HTTP edge: every handler the router serves (slash commands, button presses,
//! Slack events, Heroku's webhooks, health, metrics), the signed-form extractor they share, and the
//! error type they return. Handlers check the request and hand it to the dispatcher or
//! a feature; they hold no feature's logic. `connections` accepts the connections they
//! are served on, under limits against slow and greedy clients.
//!
//! Errors here are the only `thiserror` enum that turns into a response: each variant
//! picks its status and a short plain reason; internal failures are logged in full and
//! shown to the caller only as "internal error".

pub mod connections;
pub mod events;
pub mod heroku_webhooks;
pub mod interactions;
pub mod metrics;
pub mod signed;
pub mod slash;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::bot::BotState;
use crate::slack::verify::SignatureError;

/// Why a request was refused. The text is safe to show: no secret, no signature.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("expected Content-Type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("the {0} header was sent more than once")]
    DuplicateHeader(&'static str),
    #[error("the {0} header is not visible ASCII")]
    MalformedHeader(&'static str),
    #[error("request body is larger than 64 KiB")]
    BodyTooLarge,
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("this request was already received once (replayed signature)")]
    Replayed,
    #[error("request body is not UTF-8")]
    NotUtf8,
    #[error("request body is not a valid form: {0}")]
    MalformedForm(String),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the response_url is not Slack's (it points at {0}); nothing was done")]
    ForeignResponseUrl(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl RequestError {
    fn status(&self) -> StatusCode {
        use RequestError::*;
        match self {
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MissingHeader(_) | Signature(_) | Replayed => StatusCode::UNAUTHORIZED,
            DuplicateHeader(_)
            | MalformedHeader(_)
            | NotUtf8
            | MalformedForm(_)
            | MalformedJson(_)
            | ForeignResponseUrl(_) => StatusCode::BAD_REQUEST,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            RequestError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed")
            }
            refused => {
                tracing::warn!(status = status.as_u16(), reason = %refused, "request refused")
            }
        }
        (status, self.to_string()).into_response()
    }
}

/// Refuses a payload's `response_url` that is not Slack's (an empty one means no
/// follow-ups and passes): the bot would otherwise post wherever a forged payload
/// says. Only the URL's origin is logged and shown: its path is a credential.
fn check_response_url(state: &BotState, url: &str) -> Result<(), RequestError> {
    if url.is_empty() || state.slack.is_response_url(url) {
        return Ok(());
    }
    let origin = reqwest::Url::parse(url)
        .map(|parsed| parsed.origin().ascii_serialization())
        .unwrap_or_else(|_| "something that is not a URL".into());
    Err(RequestError::ForeignResponseUrl(origin))
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<BotState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
