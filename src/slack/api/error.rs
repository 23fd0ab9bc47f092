//! What can go wrong calling Slack, classified once: Slack said no (`ok: false` with
//! its own error code, e.g. `channel_not_found`), Slack is pacing us (429 with
//! `Retry-After`), Slack answered with an error status, Slack could not be reached or
//! did not answer in time, or Slack's answer made no sense.
//!
//! No variant holds a token or a response body: texts are safe to log and to show.

use std::time::Duration;

use slack_morphism::errors::SlackClientError;

/// Slack's `ok: false` codes that say "try again later" rather than "never".
const TRANSIENT_CODES: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "service_unavailable",
    "internal_error",
    "request_timeout",
    "fatal_error",
];

/// What Slack sends (or we assume) when a 429 carries no `Retry-After`: its documented
/// pace for posting is one message per second per channel.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// A failed Slack call; `method` is the Web API method (or `response_url`).
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// Slack answered HTTP 200 with `ok: false` and this error code. Never retried here.
    #[error("Slack refused {method}: {code}")]
    Api { method: &'static str, code: String },
    /// HTTP 429: this method is over its pace; ask again after `retry_after`.
    #[error("Slack is rate limiting {method}; retry in {}s", .retry_after.as_secs())]
    RateLimited {
        method: &'static str,
        retry_after: Duration,
    },
    /// Another error status (5xx after every retry, or a 4xx such as an expired
    /// `response_url`), with the `error` code from its body when it had one.
    #[error("Slack answered {method} with HTTP {status}{}", .code.as_deref().map(|c| format!(": {c}")).unwrap_or_default())]
    Http {
        method: &'static str,
        status: u16,
        code: Option<String>,
    },
    /// No answer: connection refused or broken.
    #[error("could not reach Slack for {method}: {detail}")]
    Unreachable {
        method: &'static str,
        detail: String,
    },
    /// No answer within the call's timeout.
    #[error("Slack did not answer {method} within {}ms", .after.as_millis())]
    TimedOut {
        method: &'static str,
        after: Duration,
    },
    /// An answer that is not what Slack documents for this method.
    #[error("Slack's answer to {method} was not understood: {detail}")]
    Unexpected {
        method: &'static str,
        detail: String,
    },
}

impl SlackError {
    /// Classifies slack-morphism's error for `method`, dropping the bodies it keeps.
    pub(super) fn from_client(method: &'static str, error: SlackClientError) -> SlackError {
        match error {
            SlackClientError::ApiError(error) => SlackError::Api {
                method,
                code: error.code,
            },
            SlackClientError::RateLimitError(error) => SlackError::RateLimited {
                method,
                retry_after: error.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
            },
            SlackClientError::HttpError(error) => SlackError::Http {
                method,
                status: error.status_code.as_u16(),
                code: error.http_response_body.as_deref().and_then(error_code),
            },
            SlackClientError::HttpProtocolError(error) => SlackError::Unreachable {
                method,
                detail: error
                    .cause
                    .map_or_else(|| "connection failed".to_owned(), |cause| cause.to_string()),
            },
            // On the hyper client this is the body breaking off mid-answer.
            SlackClientError::SystemError(error) => SlackError::Unreachable {
                method,
                detail: error.cause.map_or_else(
                    || "the answer broke off".to_owned(),
                    |cause| cause.to_string(),
                ),
            },
            // serde's message can quote values from the body (an access token, say), so
            // only its category and position are kept.
            SlackClientError::ProtocolError(error) => SlackError::Unexpected {
                method,
                detail: format!(
                    "{:?} error at line {} column {}",
                    error.json_error.classify(),
                    error.json_error.line(),
                    error.json_error.column()
                ),
            },
            other => SlackError::Unexpected {
                method,
                detail: other.to_string(),
            },
        }
    }

    /// Slack's own error code, when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            SlackError::Http { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// How long to wait when Slack is pacing this call.
    pub fn is_rate_limited(&self) -> Option<Duration> {
        match self {
            SlackError::RateLimited { retry_after, .. } => Some(*retry_after),
            SlackError::Api { code, .. } if code == "ratelimited" || code == "rate_limited" => {
                Some(DEFAULT_RETRY_AFTER)
            }
            _ => None,
        }
    }

    /// Whether the same call may succeed later (the outbox keeps it), as opposed to
    /// never (a wrong channel, a revoked token, a malformed message).
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::RateLimited { .. }
            | SlackError::Unreachable { .. }
            | SlackError::TimedOut { .. } => true,
            SlackError::Http { status, .. } => *status >= 500,
            SlackError::Api { code, .. } => TRANSIENT_CODES.contains(&code.as_str()),
            SlackError::Unexpected { .. } => false,
        }
    }
}

/// The `error` field of a JSON body, if the body is one.
fn error_code(body: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(body.get("error")?.as_str()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str) -> SlackError {
        SlackError::Api {
            method: "chat.postMessage",
            code: code.into(),
        }
    }

    #[test]
    fn refusals_are_permanent_unless_slack_says_later() {
        assert!(!api("channel_not_found").is_transient());
        assert!(!api("invalid_auth").is_transient());
        assert!(api("service_unavailable").is_transient());
        assert_eq!(
            api("ratelimited").is_rate_limited(),
            Some(Duration::from_secs(1))
        );
        assert_eq!(api("not_in_channel").is_rate_limited(), None);
    }

    #[test]
    fn statuses_split_at_500() {
        let http = |status| SlackError::Http {
            method: "chat.update",
            status,
            code: None,
        };
        assert!(http(503).is_transient());
        assert!(!http(404).is_transient());
    }

    #[test]
    fn an_error_status_keeps_the_code_in_its_body() {
        assert_eq!(
            error_code(r#"{"ok":false,"error":"used_url"}"#).as_deref(),
            Some("used_url")
        );
        assert_eq!(error_code("<html>bad gateway</html>"), None);
        let error = SlackError::Http {
            method: "response_url",
            status: 404,
            code: Some("used_url".into()),
        };
        assert_eq!(
            error.to_string(),
            "Slack answered response_url with HTTP 404: used_url"
        );
    }
}
