//! The attempt loop around every Slack call: a timeout on each attempt, and bounded
//! retries with the shared [`RetryPolicy`]'s parameters on what Slack documents as
//! passing (429 after its `Retry-After`, 5xx, no answer). `ok: false` answers are
//! final: repeating `channel_not_found` cannot change it. A call that creates
//! something ([`Replay::Unsafe`]: `chat.postMessage`) is repeated only after a 429,
//! the one failure that proves Slack did not act; after a 5xx or no answer it may
//! have, and the caller (the outbox) looks before posting again.
//!
//! Except the outbox's own calls, `chat.postMessage` and `chat.update`: their 429
//! goes back to the outbox, which keeps Slack's pace for the channel (and workspace)
//! and slows all of its messages down. Retrying here would send one more call Slack
//! has not budgeted for, past the pacer, and the next message in line would then
//! meet a 429 of its own: 50 deploys in one channel met 83 that way.
//!
//! slack-morphism's own retrying only covers 429 and also throttles proactively at
//! Slack's nominal pace, so it stays off and this loop decides.

use std::future::Future;
use std::time::Duration;

use slack_morphism::ClientResult;

use super::SlackError;
use super::client::{POST_MESSAGE, UPDATE};
use crate::metrics::status_class;
use crate::outbound::{Replay, Retrier, RetryPolicy};

/// Runs `call` until it succeeds, fails for good, or the policy's attempts are spent;
/// each attempt is abandoned after `timeout`. Each retry and the call's end are counted.
pub(super) async fn with_retries<T, F, Fut>(
    retrier: &Retrier,
    timeout: Duration,
    method: &'static str,
    replay: Replay,
    call: F,
) -> Result<T, SlackError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ClientResult<T>>,
{
    let policy = &retrier.policy;
    let mut attempt = 1;
    loop {
        let error = match tokio::time::timeout(timeout, call()).await {
            Ok(Ok(answer)) => {
                retrier.calls.finished("2xx");
                return Ok(answer);
            }
            Ok(Err(error)) => SlackError::from_client(method, error),
            Err(_) => SlackError::TimedOut {
                method,
                after: timeout,
            },
        };
        match retry_in(policy, replay, &error, attempt) {
            Some(delay) if attempt < policy.attempts => {
                tracing::debug!(method, attempt, delay_ms = delay.as_millis() as u64, %error, "retrying");
                retrier.calls.retried();
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            _ => {
                retrier.calls.finished(outcome(&error));
                return Err(error);
            }
        }
    }
}

/// The metrics label of a call that failed with `error`.
fn outcome(error: &SlackError) -> &'static str {
    match error {
        SlackError::Api { .. } => "refused",
        SlackError::RateLimited { .. } => "4xx",
        SlackError::Http { status, .. } => status_class(*status),
        SlackError::Unreachable { .. } => "unreachable",
        SlackError::TimedOut { .. } => "timeout",
        SlackError::Unexpected { .. } => "unexpected",
    }
}

/// How long to wait before trying again after `error`, or `None` to give up now.
fn retry_in(
    policy: &RetryPolicy,
    replay: Replay,
    error: &SlackError,
    attempt: u32,
) -> Option<Duration> {
    match error {
        SlackError::RateLimited { method, .. } if [POST_MESSAGE, UPDATE].contains(method) => None,
        SlackError::RateLimited { retry_after, .. } => Some((*retry_after).min(policy.max_delay)),
        _ if replay == Replay::Unsafe => None,
        SlackError::Http { status, .. } if *status >= 500 => Some(policy.backoff(attempt)),
        SlackError::Unreachable { .. } | SlackError::TimedOut { .. } => {
            Some(policy.backoff(attempt))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(700),
    };

    #[test]
    fn only_passing_failures_are_retried() {
        let method = "conversations.replies";
        let limited = SlackError::RateLimited {
            method,
            retry_after: Duration::from_secs(30),
        };
        assert_eq!(
            retry_in(&POLICY, Replay::Safe, &limited, 1),
            Some(POLICY.max_delay),
            "Retry-After is capped"
        );
        let unavailable = SlackError::Http {
            method,
            status: 503,
            code: None,
        };
        assert!(
            retry_in(&POLICY, Replay::Safe, &unavailable, 1)
                .is_some_and(|d| d <= Duration::from_millis(100))
        );
        let gone = SlackError::Http {
            method,
            status: 404,
            code: Some("used_url".into()),
        };
        assert_eq!(retry_in(&POLICY, Replay::Safe, &gone, 1), None);
        let refused = SlackError::Api {
            method,
            code: "channel_not_found".into(),
        };
        assert_eq!(retry_in(&POLICY, Replay::Safe, &refused, 1), None);
        assert_eq!(
            retry_in(&POLICY, Replay::Unsafe, &unavailable, 1),
            None,
            "a post may have been made"
        );
        assert_eq!(
            retry_in(&POLICY, Replay::Unsafe, &limited, 1),
            Some(POLICY.max_delay)
        );
    }

    #[test]
    fn the_outboxs_paced_calls_hand_their_429_back() {
        for method in [POST_MESSAGE, UPDATE] {
            let limited = SlackError::RateLimited {
                method,
                retry_after: Duration::from_secs(1),
            };
            assert_eq!(
                retry_in(&POLICY, Replay::Safe, &limited, 1),
                None,
                "{method}"
            );
        }
    }
}
