//! Outbound HTTP shared by the Heroku, GitHub and Slack clients: one `reqwest::Client`
//! with timeouts, and bounded retries with capped exponential backoff and jitter,
//! each call's outcome and each retry counted per service ([`crate::metrics`]).
//!
//! What counts as transient is decided here once: connection failures, timeouts, 5xx
//! and 429 (honouring `Retry-After`). A request that may have changed something on the
//! server (a POST that timed out or got a 5xx) is retried only when the caller says
//! repeating it is harmless, so a retry never creates a second build.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode, header};

use crate::metrics::{ExternalCalls, Service, status_class};

/// How long one request may take by default, connecting included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The `User-Agent` GitHub requires and the others log.
pub const USER_AGENT: &str = concat!("chatops/", env!("CARGO_PKG_VERSION"));

/// The client every outbound call shares, giving up on a request after `timeout`
/// (tests use short ones). Redirects are not followed: GitHub's tarball endpoint
/// answers 302 and the bot needs the `Location`, not the tarball.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the TLS backend initialises")
}

/// Whether sending a request twice has the same effect as sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// GET, PUT, DELETE, or a POST the server deduplicates: retry any transient failure.
    Safe,
    /// A POST that creates something: retry only failures that prove the server did not
    /// act on it (could not connect, 429).
    Unsafe,
}

/// How many times and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubled each time.
    pub base_delay: Duration,
    /// No delay (backoff or `Retry-After`) is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// A [`RetryPolicy`] applied to one service's calls, counting how each call ended
/// and every retry.
#[derive(Debug, Clone)]
pub struct Retrier {
    pub policy: RetryPolicy,
    pub calls: ExternalCalls,
}

impl Retrier {
    /// Retries by `policy`, counted in no registry until [`Retrier::calls`] is set.
    pub fn new(policy: RetryPolicy, service: Service) -> Retrier {
        Retrier {
            policy,
            calls: ExternalCalls::unregistered(service),
        }
    }

    /// Sends the request built by `build` until it succeeds, fails for good, or the
    /// attempts run out; returns the last response or transport error.
    pub async fn send(
        &self,
        replay: Replay,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, reqwest::Error> {
        let policy = &self.policy;
        let mut attempt = 1;
        loop {
            let outcome = build().send().await;
            let retry_in = match &outcome {
                Ok(response) => policy.delay_for_status(replay, response, attempt),
                Err(error) => policy.delay_for_error(replay, error, attempt),
            };
            match retry_in {
                Some(delay) if attempt < policy.attempts => {
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
                    self.calls.retried();
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => {
                    self.calls.finished(call_outcome(&outcome));
                    return outcome;
                }
            }
        }
    }
}

/// The metrics label of a finished call.
fn call_outcome(outcome: &Result<Response, reqwest::Error>) -> &'static str {
    match outcome {
        Ok(response) => status_class(response.status().as_u16()),
        Err(error) if error.is_timeout() => "timeout",
        Err(_) => "unreachable",
    }
}

impl RetryPolicy {
    fn delay_for_status(
        &self,
        replay: Replay,
        response: &Response,
        attempt: u32,
    ) -> Option<Duration> {
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let asked = retry_after(response).unwrap_or_else(|| self.backoff(attempt));
            return Some(asked.min(self.max_delay));
        }
        (status.is_server_error() && replay == Replay::Safe).then(|| self.backoff(attempt))
    }

    fn delay_for_error(
        &self,
        replay: Replay,
        error: &reqwest::Error,
        attempt: u32,
    ) -> Option<Duration> {
        let never_sent = error.is_connect();
        let transient = never_sent || error.is_timeout() || error.is_request();
        match replay {
            Replay::Safe => transient.then(|| self.backoff(attempt)),
            Replay::Unsafe => never_sent.then(|| self.backoff(attempt)),
        }
    }

    /// The delay before retry number `attempt` (1-based): exponential backoff with
    /// jitter, so clients that failed together do not retry together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self.base_delay.saturating_mul(1 << (attempt - 1).min(16));
        let capped = exponential.min(self.max_delay);
        capped.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// `Retry-After` in seconds (the only form Slack, GitHub and Heroku send).
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let policy = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for (attempt, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            for _ in 0..50 {
                let delay = policy.backoff(attempt).as_millis() as u64;
                assert!(
                    (full / 2..=full).contains(&delay),
                    "attempt {attempt}: {delay}ms"
                );
            }
        }
    }
}
