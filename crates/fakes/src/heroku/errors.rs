//! The errors the fake answers with, in Heroku's shape (`{"id", "message"[, "url"]}`)
//! and with Heroku's ids, statuses and wording.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The message Heroku gives when a protected app needs a second factor.
pub const TWO_FACTOR_MESSAGE: &str = "A second authentication factor or pre-authorization is required for this request. Your account has either two-factor or a Heroku Connect enabled.";
const TWO_FACTOR_URL: &str = "https://devcenter.heroku.com/articles/two-factor-authentication";

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub id: &'static str,
    pub message: String,
    pub url: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            id,
            message: message.into(),
            url: None,
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::unauthorized_because("Invalid credentials provided.")
    }

    pub fn unauthorized_because(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn no_access_to_app(app: &str) -> ApiError {
        ApiError::forbidden(format!("You do not have access to the app {app}."))
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("Couldn't find that {what}."),
        )
    }

    /// Unknown paths, wrong methods, and requests without the v3 `Accept` header.
    pub fn no_such_endpoint() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?",
        )
    }

    pub fn two_factor() -> ApiError {
        ApiError {
            url: Some(TWO_FACTOR_URL),
            ..ApiError::new(StatusCode::FORBIDDEN, "two_factor", TWO_FACTOR_MESSAGE)
        }
    }

    pub fn invalid_params(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_params", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn bad_range(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "requested_range_not_satisfiable",
            message,
        )
    }

    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit",
            "Your account reached the API rate limit\nPlease wait a few minutes before making new requests",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"id": self.id, "message": self.message});
        if let Some(url) = self.url {
            body["url"] = url.into();
        }
        (self.status, Json(body)).into_response()
    }
}
