//! What can go wrong talking to Heroku: the service saying no (kept with its own error
//! id, message and link), the service failing until the retries ran out, or no answer
//! at all. Tokens never appear here: errors are built from statuses and response bodies.

use serde::Deserialize;

/// The error body Heroku sends with every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable id (`two_factor`, `forbidden`, `not_found`, ...): match on
    /// this, never on `message`. The OAuth endpoints call it `error`.
    #[serde(alias = "error")]
    pub id: String,
    /// Human-readable explanation.
    #[serde(default, alias = "error_description")]
    pub message: String,
    /// A Dev Center article about the error, when Heroku gives one.
    #[serde(default)]
    pub url: Option<String>,
}

impl ErrorBody {
    /// The body for an answer that carried no readable error JSON.
    fn unreadable(status: u16) -> ErrorBody {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("unexpected status");
        ErrorBody {
            id: "unknown".into(),
            message: reason.into(),
            url: None,
        }
    }

    /// Parses an error body, tolerating the bodies proxies send instead of JSON.
    pub(crate) fn parse(status: u16, raw: &[u8]) -> ErrorBody {
        serde_json::from_slice(raw).unwrap_or_else(|_| ErrorBody::unreadable(status))
    }
}

/// A failed Heroku call.
#[derive(Debug, thiserror::Error)]
pub enum HerokuError {
    /// Heroku understood the request and refused it (a 4xx other than 429): sending it
    /// again will not help.
    #[error("Heroku refused the request ({status} {}): {}", body.id, body.message)]
    Refused { status: u16, body: ErrorBody },
    /// Heroku kept answering 5xx or 429 until the retries ran out.
    #[error("Heroku kept failing ({status} {}): {}", body.id, body.message)]
    Failing { status: u16, body: ErrorBody },
    /// No answer: could not connect, timed out, or the connection broke.
    #[error("could not reach Heroku: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// A 2xx answer whose body is not what the API documents.
    #[error("Heroku sent a response this client cannot read: {0}")]
    Malformed(String),
}

impl HerokuError {
    /// The error for a non-2xx answer with this status and body.
    pub(crate) fn from_status(status: u16, raw: &[u8]) -> HerokuError {
        let body = ErrorBody::parse(status, raw);
        if status == 429 || status >= 500 {
            HerokuError::Failing { status, body }
        } else {
            HerokuError::Refused { status, body }
        }
    }

    /// The HTTP status Heroku answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HerokuError::Refused { status, .. } | HerokuError::Failing { status, .. } => {
                Some(*status)
            }
            HerokuError::Unreachable(_) | HerokuError::Malformed(_) => None,
        }
    }

    /// Heroku's own error (id, message, url), if it answered with one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            HerokuError::Refused { body, .. } | HerokuError::Failing { body, .. } => Some(body),
            HerokuError::Unreachable(_) | HerokuError::Malformed(_) => None,
        }
    }

    /// Heroku's error id (`two_factor`, `not_found`, ...), if it answered with one.
    pub fn id(&self) -> Option<&str> {
        self.body().map(|body| body.id.as_str())
    }

    /// The app is protected: the call needs a `Heroku-Two-Factor-Code`.
    pub fn is_two_factor(&self) -> bool {
        self.id() == Some("two_factor")
    }

    /// 404: the thing does not exist, or Heroku hides it from this user.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 403 for lack of access (a missing second factor is [`HerokuError::is_two_factor`]).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403) && !self.is_two_factor()
    }

    /// 401: the token is unknown, revoked or expired.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// 422: Heroku rejected the request's parameters.
    pub fn is_invalid_params(&self) -> bool {
        self.status() == Some(422)
    }

    /// 429: this account's request budget is spent.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// Worth trying again later: Heroku was unreachable or kept failing.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HerokuError::Failing { .. } | HerokuError::Unreachable(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_factor_is_not_reported_as_plain_forbidden() {
        let raw = br#"{"id":"two_factor","message":"A second factor is required.","url":"https://devcenter.heroku.com/articles/two-factor-authentication"}"#;
        let error = HerokuError::from_status(403, raw);
        assert!(error.is_two_factor());
        assert!(!error.is_forbidden());
        assert!(!error.is_transient());
        assert_eq!(
            error.body().and_then(|body| body.url.as_deref()),
            Some("https://devcenter.heroku.com/articles/two-factor-authentication")
        );
    }

    #[test]
    fn server_errors_and_rate_limits_are_transient_and_bodies_may_be_html() {
        let error = HerokuError::from_status(503, b"<html>Service Unavailable</html>");
        assert!(error.is_transient());
        assert_eq!(error.id(), Some("unknown"));
        assert_eq!(
            error.body().map(|body| body.message.as_str()),
            Some("Service Unavailable")
        );
        assert!(
            HerokuError::from_status(429, br#"{"id":"rate_limit","message":"slow down"}"#)
                .is_rate_limited()
        );
    }

    #[test]
    fn oauth_style_errors_are_read_too() {
        let error = HerokuError::from_status(
            400,
            br#"{"error":"invalid_grant","error_description":"bad code"}"#,
        );
        assert_eq!(error.id(), Some("invalid_grant"));
        assert_eq!(
            error.to_string(),
            "Heroku refused the request (400 invalid_grant): bad code"
        );
    }
}
