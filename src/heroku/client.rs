//! The request plumbing every Heroku call shares: the v3 `Accept` header, the acting
//! user's bearer token, the second factor, retries (through [`RetryPolicy`]), `Range`
//! pagination, error bodies, and the `RateLimit-Remaining` budget.

use std::sync::{Arc, Mutex};

use reqwest::{Method, Response, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::HerokuError;
use crate::metrics::{ExternalCalls, Service};
use crate::outbound::{Replay, Retrier, RetryPolicy};

/// The media type selecting version 3 of the Platform API.
const ACCEPT_V3: &str = "application/vnd.heroku+json; version=3";
/// Carries a user's one-time password for apps that demand a second factor.
const TWO_FACTOR_HEADER: &str = "Heroku-Two-Factor-Code";
/// Below this many remaining requests a warning is logged: the account's pool holds
/// 4500 and refills at about 75 a minute, so this leaves a few minutes of headroom.
pub const RATE_LIMIT_WARNING: u32 = 200;

/// A Heroku Platform API client. Holds no credentials: every call takes the token of
/// the person it acts for, so Heroku grants exactly what that person may do.
#[derive(Debug, Clone)]
pub struct HerokuClient {
    http: reqwest::Client,
    api_url: String,
    retry: Retrier,
    /// The last `RateLimit-Remaining` seen, shared by clones.
    rate_limit_remaining: Arc<Mutex<Option<u32>>>,
}

/// Where and how one request goes; the token travels separately.
pub(super) struct Call<'a, B: Serialize + ?Sized = ()> {
    pub method: Method,
    pub path: String,
    pub body: Option<&'a B>,
    pub two_factor_code: Option<&'a str>,
    pub range: Option<String>,
    pub replay: Replay,
}

impl Call<'_> {
    /// A GET of `path`.
    pub fn get(path: String) -> Self {
        Call {
            method: Method::GET,
            path,
            body: None,
            two_factor_code: None,
            range: None,
            replay: Replay::Safe,
        }
    }
}

impl HerokuClient {
    /// A client for the API at `api_url` (`https://api.heroku.com` in production).
    pub fn new(http: reqwest::Client, api_url: &str, retry: RetryPolicy) -> HerokuClient {
        HerokuClient {
            http,
            api_url: api_url.trim_end_matches('/').to_owned(),
            retry: Retrier::new(retry, Service::Heroku),
            rate_limit_remaining: Arc::default(),
        }
    }

    /// The same client, counting its calls in `calls` (the app's metrics).
    pub fn with_calls(mut self, calls: ExternalCalls) -> HerokuClient {
        self.retry.calls = calls;
        self
    }

    /// The `RateLimit-Remaining` of the last API response, if any carried one.
    pub fn rate_limit_remaining(&self) -> Option<u32> {
        *self.rate_limit_remaining.lock().expect("rate limit lock")
    }

    /// The shared HTTP client, for calls outside the API host (output streams).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The retry policy, for calls outside the API host.
    pub(super) fn retry(&self) -> &Retrier {
        &self.retry
    }

    /// Sends `call` and decodes the JSON answer.
    pub(super) async fn json<T, B>(
        &self,
        token: &SecretString,
        call: Call<'_, B>,
    ) -> Result<T, HerokuError>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        decode(self.send(token, &call).await?).await
    }

    /// GETs every page of a list, following `206 Partial Content` + `Next-Range`, until
    /// the list is complete or `max` items arrived.
    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: String,
        range: Option<String>,
        max: Option<usize>,
    ) -> Result<Vec<T>, HerokuError> {
        let mut call = Call {
            range,
            ..Call::get(path)
        };
        let mut items = Vec::new();
        loop {
            let response = self.send(token, &call).await?;
            let next = next_range(&response);
            items.extend(decode::<Vec<T>>(response).await?);
            if let Some(max) = max.filter(|max| items.len() >= *max) {
                items.truncate(max);
                return Ok(items);
            }
            match next {
                // A server repeating the same range would make this loop forever.
                Some(next) if call.range.as_deref() != Some(next.as_str()) => {
                    call.range = Some(next)
                }
                _ => return Ok(items),
            }
        }
    }

    /// Sends `call`, retrying what its replay class allows; a non-2xx answer becomes a
    /// [`HerokuError`].
    async fn send<B: Serialize + ?Sized>(
        &self,
        token: &SecretString,
        call: &Call<'_, B>,
    ) -> Result<Response, HerokuError> {
        let url = format!("{}{}", self.api_url, call.path);
        let response = self
            .retry
            .send(call.replay, || {
                let mut request = self
                    .http
                    .request(call.method.clone(), &url)
                    .header(header::ACCEPT, ACCEPT_V3)
                    .bearer_auth(token.expose_secret());
                if let Some(code) = call.two_factor_code {
                    request = request.header(TWO_FACTOR_HEADER, code);
                }
                if let Some(range) = &call.range {
                    request = request.header(header::RANGE, range);
                }
                match call.body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await
            .map_err(HerokuError::Unreachable)?;
        self.observe_rate_limit(&response);
        check(response).await
    }

    fn observe_rate_limit(&self, response: &Response) {
        let Some(remaining) =
            header_str(response, "RateLimit-Remaining").and_then(|value| value.parse().ok())
        else {
            return;
        };
        *self.rate_limit_remaining.lock().expect("rate limit lock") = Some(remaining);
        if remaining < RATE_LIMIT_WARNING {
            tracing::warn!(
                remaining,
                "Heroku rate limit running low: {remaining} requests left"
            );
        }
    }
}

/// Passes 2xx answers through and turns the rest into errors with Heroku's own body.
pub(super) async fn check(response: Response) -> Result<Response, HerokuError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let raw = response.bytes().await.map_err(HerokuError::Unreachable)?;
    Err(HerokuError::from_status(status.as_u16(), &raw))
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, HerokuError> {
    let raw = response.bytes().await.map_err(HerokuError::Unreachable)?;
    serde_json::from_slice(&raw).map_err(|error| HerokuError::Malformed(error.to_string()))
}

fn next_range(response: &Response) -> Option<String> {
    if response.status() != StatusCode::PARTIAL_CONTENT {
        return None;
    }
    header_str(response, "Next-Range").map(str::to_owned)
}

fn header_str<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
    response.headers().get(name)?.to_str().ok()
}

/// Percent-encodes one path segment, so a name typed in chat cannot change the path.
pub(super) fn segment(raw: &str) -> String {
    // URL parsers resolve `.`, `..` and their `%2E` spellings as dot segments; no
    // Heroku identity looks like that, so send something that simply is not found.
    if raw == "." || raw == ".." {
        return raw.replace('.', "%252E");
    }
    raw.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(segment("paipu-app-staging"), "paipu-app-staging");
        assert_eq!(segment("../account"), "..%2Faccount");
        assert_eq!(segment("a b?c"), "a%20b%3Fc");
        assert_eq!(segment(".."), "%252E%252E");
    }
}
