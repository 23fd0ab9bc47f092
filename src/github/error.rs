//! What can go wrong talking to GitHub, classified once: GitHub said no (4xx, kept with
//! its own `message` and `documentation_url`), GitHub is rate limiting this token,
//! GitHub kept failing (5xx after retries), or GitHub could not be reached.
//!
//! No variant ever holds a token: texts are safe to log and to show in Slack.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;

/// GitHub's error body: `{"message", "documentation_url", "errors"?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub documentation_url: Option<String>,
    /// Validation details (422, 409); their shape varies by endpoint.
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

/// How long a rate-limited token must wait before asking again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// The hourly budget is spent (`x-ratelimit-remaining: 0`): wait until `reset_at`
    /// (Unix seconds, from `x-ratelimit-reset`).
    Primary { reset_at: Option<i64> },
    /// A secondary (abuse) limit: wait `retry_after` (GitHub says at least a minute
    /// when it sends no `retry-after`).
    Secondary { retry_after: Duration },
}

/// A failed GitHub call.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// GitHub understood the request and refused it (4xx other than rate limits).
    #[error("GitHub refused the request ({status}): {}", .body.message)]
    Refused { status: StatusCode, body: ErrorBody },
    /// This token is being rate limited; retrying now would make it worse.
    #[error("GitHub is rate limiting this account ({status}): {}", .body.message)]
    RateLimited {
        status: StatusCode,
        body: ErrorBody,
        limit: RateLimit,
    },
    /// GitHub kept answering 5xx through every retry.
    #[error("GitHub kept failing ({status}): {}", .body.message)]
    Unavailable { status: StatusCode, body: ErrorBody },
    /// No answer at all: connection refused, reset, or timed out through every retry.
    #[error("could not reach GitHub: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// An answer GitHub does not document for this call.
    #[error("GitHub sent an unexpected answer to {call}: {detail}")]
    Unexpected { call: &'static str, detail: String },
    /// The OAuth token endpoint refused the exchange (it says so with a 200 and an
    /// `error` field, e.g. `bad_verification_code`).
    #[error("GitHub refused the OAuth exchange: {error}: {description}")]
    OAuth { error: String, description: String },
}

impl GitHubError {
    /// The HTTP status GitHub answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            GitHubError::Refused { status, .. }
            | GitHubError::RateLimited { status, .. }
            | GitHubError::Unavailable { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// GitHub's own error body, if it sent one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            GitHubError::Refused { body, .. }
            | GitHubError::RateLimited { body, .. }
            | GitHubError::Unavailable { body, .. } => Some(body),
            _ => None,
        }
    }

    /// 404: the thing does not exist, or this token may not see it (GitHub answers
    /// the same for both, so private repositories do not leak).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 401: the token is unknown, expired or revoked; the user must link again.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// The wait a rate limit asks for, if this is one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            GitHubError::RateLimited { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    /// Whether trying again later may succeed (rate limits, 5xx, unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GitHubError::RateLimited { .. }
                | GitHubError::Unavailable { .. }
                | GitHubError::Unreachable(_)
        )
    }

    /// Classifies a non-success answer from its status, headers and raw body.
    pub(crate) fn from_answer(status: StatusCode, headers: &HeaderMap, raw: &[u8]) -> GitHubError {
        let body = serde_json::from_slice::<ErrorBody>(raw).unwrap_or_else(|_| ErrorBody {
            message: String::from_utf8_lossy(raw).chars().take(200).collect(),
            ..ErrorBody::default()
        });
        if let Some(limit) = rate_limit(status, headers, &body.message) {
            return GitHubError::RateLimited {
                status,
                body,
                limit,
            };
        }
        if status.is_server_error() {
            GitHubError::Unavailable { status, body }
        } else {
            GitHubError::Refused { status, body }
        }
    }
}

/// GitHub signals rate limits with 403 or 429 and either an exhausted budget, a
/// `retry-after`, or (secondary limits without headers) only its message.
fn rate_limit(status: StatusCode, headers: &HeaderMap, message: &str) -> Option<RateLimit> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header(RETRY_AFTER.as_str()).and_then(|v| v.parse().ok()) {
        return Some(RateLimit::Secondary {
            retry_after: Duration::from_secs(seconds),
        });
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset_at = header("x-ratelimit-reset").and_then(|v| v.parse().ok());
        return Some(RateLimit::Primary { reset_at });
    }
    let secondary = status == StatusCode::TOO_MANY_REQUESTS
        || message
            .to_ascii_lowercase()
            .contains("secondary rate limit");
    secondary.then_some(RateLimit::Secondary {
        retry_after: Duration::from_secs(60),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn exhausted_budget_is_a_primary_limit_until_reset() {
        let body = br#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest"}"#;
        let error = GitHubError::from_answer(
            StatusCode::FORBIDDEN,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000000"),
            ]),
            body,
        );
        assert_eq!(
            error.rate_limit(),
            Some(RateLimit::Primary {
                reset_at: Some(1_700_000_000)
            })
        );
        assert!(error.is_transient());
        assert_eq!(
            error.body().unwrap().documentation_url.as_deref(),
            Some("https://docs.github.com/rest")
        );
    }

    #[test]
    fn secondary_limits_come_with_retry_after_or_only_a_message() {
        let with_header = GitHubError::from_answer(
            StatusCode::FORBIDDEN,
            &headers(&[("retry-after", "30")]),
            b"{}",
        );
        assert_eq!(
            with_header.rate_limit(),
            Some(RateLimit::Secondary {
                retry_after: Duration::from_secs(30)
            })
        );
        let body = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes."}"#;
        let message_only = GitHubError::from_answer(StatusCode::FORBIDDEN, &HeaderMap::new(), body);
        assert_eq!(
            message_only.rate_limit(),
            Some(RateLimit::Secondary {
                retry_after: Duration::from_secs(60)
            })
        );
    }

    #[test]
    fn a_plain_403_is_a_refusal_not_a_rate_limit() {
        let body = br#"{"message":"Resource not accessible by integration"}"#;
        let error = GitHubError::from_answer(
            StatusCode::FORBIDDEN,
            &headers(&[("x-ratelimit-remaining", "4999")]),
            body,
        );
        assert!(matches!(error, GitHubError::Refused { .. }));
        assert!(!error.is_transient());
        assert_eq!(
            error.to_string(),
            "GitHub refused the request (403 Forbidden): Resource not accessible by integration"
        );
    }

    #[test]
    fn a_non_json_5xx_keeps_the_start_of_its_text() {
        let error = GitHubError::from_answer(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>bad gateway</html>",
        );
        assert!(matches!(error, GitHubError::Unavailable { .. }));
        assert_eq!(error.body().unwrap().message, "<html>bad gateway</html>");
    }
}
