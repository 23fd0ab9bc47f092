//! Heroku OAuth (id.heroku.com): the authorize page a person is sent to by `/h login`,
//! exchanging the code it returns for tokens, and refreshing the short-lived access
//! token.

use reqwest::header;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::HerokuError;
use super::client::check;
use crate::metrics::{ExternalCalls, Service};
use crate::outbound::{Replay, Retrier, RetryPolicy};

/// The OAuth side of Heroku, for one registered OAuth client.
#[derive(Debug, Clone)]
pub struct HerokuOAuth {
    http: reqwest::Client,
    oauth_url: String,
    client_id: String,
    client_secret: SecretString,
    retry: Retrier,
}

/// What a successful token request returns.
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    /// Long-lived; trade it for a new access token with [`HerokuOAuth::refresh`].
    pub refresh_token: SecretString,
    /// Seconds the access token lives (8 hours on Heroku).
    pub expires_in: u64,
    /// The Heroku account's id.
    pub user_id: String,
    pub token_type: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    user_id: String,
    token_type: String,
}

impl From<TokenResponse> for OAuthTokens {
    fn from(raw: TokenResponse) -> OAuthTokens {
        OAuthTokens {
            access_token: raw.access_token.into(),
            refresh_token: raw.refresh_token.into(),
            expires_in: raw.expires_in,
            user_id: raw.user_id,
            token_type: raw.token_type,
        }
    }
}

impl HerokuOAuth {
    /// The OAuth client `client_id` at `oauth_url` (`https://id.heroku.com`).
    pub fn new(
        http: reqwest::Client,
        oauth_url: &str,
        client_id: &str,
        client_secret: SecretString,
    ) -> HerokuOAuth {
        HerokuOAuth {
            http,
            oauth_url: oauth_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            retry: Retrier::new(RetryPolicy::default(), Service::Heroku),
        }
    }

    /// The same client, retrying with `retry` (tests use fast ones).
    pub fn with_retry(mut self, retry: RetryPolicy) -> HerokuOAuth {
        self.retry.policy = retry;
        self
    }

    /// The same client, counting its calls in `calls` (the app's metrics).
    pub fn with_calls(mut self, calls: ExternalCalls) -> HerokuOAuth {
        self.retry.calls = calls;
        self
    }

    /// Where to send a person's browser: Heroku asks them to allow `scope` (e.g.
    /// `global`, `read write`) and redirects back with a code and `state`.
    pub fn authorize_url(&self, state: &str, scope: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("response_type", "code"),
            ("scope", scope),
            ("state", state),
        ])
        .expect("string pairs always encode");
        format!("{}/oauth/authorize?{query}", self.oauth_url)
    }

    /// Trades the code from the redirect for tokens. Codes are single-use, so a request
    /// Heroku may have seen is not sent again.
    #[tracing::instrument(skip_all)]
    pub async fn exchange_code(&self, code: &str) -> Result<OAuthTokens, HerokuError> {
        self.token(
            Replay::Unsafe,
            &[("grant_type", "authorization_code"), ("code", code)],
        )
        .await
    }

    /// A fresh access token for a refresh token (which stays valid).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<OAuthTokens, HerokuError> {
        let grant = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        self.token(Replay::Safe, &grant).await
    }

    async fn token(
        &self,
        replay: Replay,
        grant: &[(&str, &str)],
    ) -> Result<OAuthTokens, HerokuError> {
        let url = format!("{}/oauth/token", self.oauth_url);
        let mut form = grant.to_vec();
        form.push(("client_secret", self.client_secret.expose_secret()));
        let response = self
            .retry
            .send(replay, || {
                self.http
                    .post(&url)
                    .header(header::ACCEPT, "application/json")
                    .form(&form)
            })
            .await
            .map_err(HerokuError::Unreachable)?;
        let raw = check(response)
            .await?
            .bytes()
            .await
            .map_err(HerokuError::Unreachable)?;
        let tokens: TokenResponse = serde_json::from_slice(&raw)
            .map_err(|error| HerokuError::Malformed(error.to_string()))?;
        Ok(tokens.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_carries_client_scope_and_state_encoded() {
        let oauth = HerokuOAuth::new(
            reqwest::Client::new(),
            "https://id.heroku.com/",
            "abc-123",
            "s3cret".to_owned().into(),
        );
        assert_eq!(
            oauth.authorize_url("st ate&x", "read write"),
            "https://id.heroku.com/oauth/authorize?client_id=abc-123&response_type=code&scope=read+write&state=st+ate%26x"
        );
    }
}
