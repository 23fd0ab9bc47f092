//! GitHub's OAuth web flow for an OAuth App: the authorize link a user follows, the
//! code-for-token exchange, and revoking a token on logout.
//!
//! The web endpoints live on `https://github.com`, not the API host, hence two base
//! URLs. The exchange answers 200 even when it refuses, with an `error` field.

use reqwest::header::{ACCEPT, USER_AGENT};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::client::{API_VERSION, error_from, json};
use super::error::GitHubError;
use crate::metrics::{ExternalCalls, Service};
use crate::outbound::{self, Replay, Retrier, RetryPolicy};

/// Where GitHub's OAuth pages live in production.
pub const OAUTH_URL: &str = "https://github.com";

/// A token GitHub granted.
#[derive(Debug)]
pub struct GitHubToken {
    pub access_token: SecretString,
    /// `bearer`.
    pub token_type: String,
    /// The scopes granted, which may be fewer than those asked for.
    pub scopes: Vec<String>,
}

/// The token endpoint's answer: a token, or `error` + `error_description`.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    token_type: Option<String>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The OAuth App's side of the flow.
#[derive(Debug, Clone)]
pub struct GitHubOAuth {
    http: reqwest::Client,
    oauth_url: String,
    api_url: String,
    client_id: String,
    client_secret: SecretString,
    retry: Retrier,
}

impl GitHubOAuth {
    /// The app `client_id` with its secret; `oauth_url` is [`OAUTH_URL`] in
    /// production, `api_url` the API base (for revoking).
    pub fn new(
        http: reqwest::Client,
        oauth_url: &str,
        api_url: &str,
        client_id: &str,
        client_secret: SecretString,
    ) -> GitHubOAuth {
        GitHubOAuth {
            http,
            oauth_url: oauth_url.trim_end_matches('/').into(),
            api_url: api_url.trim_end_matches('/').into(),
            client_id: client_id.into(),
            client_secret,
            retry: Retrier::new(RetryPolicy::default(), Service::GitHub),
        }
    }

    /// The same client, counting its calls in `calls` (the app's metrics).
    pub fn with_calls(mut self, calls: ExternalCalls) -> GitHubOAuth {
        self.retry.calls = calls;
        self
    }

    /// The page to send the user to. `state` is the single-use anti-forgery value the
    /// callback must bring back; `scopes` are joined with spaces, as GitHub expects;
    /// `code_challenge` is PKCE's S256 challenge of the verifier the exchange will send.
    pub fn authorize_url(
        &self,
        state: &str,
        scopes: &[&str],
        redirect_uri: &str,
        code_challenge: &str,
    ) -> String {
        let base = format!("{}/login/oauth/authorize", self.oauth_url);
        let params = [
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", &scopes.join(" ")),
            ("state", state),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ];
        Url::parse_with_params(&base, params).map_or(base, String::from)
    }

    /// `POST /login/oauth/access_token`: trades the callback's `code` for a token.
    /// Codes are single-use, so only failures that prove GitHub never saw the request
    /// are retried.
    #[tracing::instrument(skip_all)]
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<GitHubToken, GitHubError> {
        let url = format!("{}/login/oauth/access_token", self.oauth_url);
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        let build = || {
            self.http
                .post(&url)
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, outbound::USER_AGENT)
                .form(&form)
        };
        let response = self
            .retry
            .send(Replay::Unsafe, build)
            .await
            .map_err(GitHubError::Unreachable)?;
        if !response.status().is_success() {
            return Err(error_from(response).await);
        }
        token_from(json("oauth exchange", response).await?)
    }

    /// `DELETE /applications/{client_id}/token`: revokes `token` (on logout), so it
    /// stops working at once. Authenticated as the app, not the user.
    #[tracing::instrument(skip_all)]
    pub async fn revoke(&self, token: &SecretString) -> Result<(), GitHubError> {
        let url = format!("{}/applications/{}/token", self.api_url, self.client_id);
        let body = serde_json::json!({"access_token": token.expose_secret()});
        let build = || {
            self.http
                .request(Method::DELETE, &url)
                .header(ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", API_VERSION)
                .header(USER_AGENT, outbound::USER_AGENT)
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .json(&body)
        };
        let response = self
            .retry
            .send(Replay::Safe, build)
            .await
            .map_err(GitHubError::Unreachable)?;
        match response.status() {
            StatusCode::NO_CONTENT => Ok(()),
            _ => Err(error_from(response).await),
        }
    }
}

fn token_from(answer: TokenAnswer) -> Result<GitHubToken, GitHubError> {
    if let Some(error) = answer.error {
        return Err(GitHubError::OAuth {
            error,
            description: answer.error_description.unwrap_or_default(),
        });
    }
    let Some(access_token) = answer.access_token else {
        return Err(GitHubError::Unexpected {
            call: "oauth exchange",
            detail: "neither a token nor an error".into(),
        });
    };
    let scopes = answer.scope.unwrap_or_default();
    Ok(GitHubToken {
        access_token: SecretString::from(access_token),
        token_type: answer.token_type.unwrap_or_else(|| "bearer".into()),
        scopes: scopes
            .split(',')
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .map(String::from)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_url_carries_every_parameter_encoded() {
        let oauth = GitHubOAuth::new(
            reqwest::Client::new(),
            "https://github.com/",
            "https://api.github.com",
            "Iv1.abc",
            SecretString::from("s3cret"),
        );
        let url = oauth.authorize_url(
            "st/ate",
            &["repo", "read:user"],
            "https://bot.example/auth/github/callback",
            "ch4llenge",
        );
        assert_eq!(
            url,
            "https://github.com/login/oauth/authorize?client_id=Iv1.abc\
             &redirect_uri=https%3A%2F%2Fbot.example%2Fauth%2Fgithub%2Fcallback\
             &scope=repo+read%3Auser&state=st%2Fate\
             &code_challenge=ch4llenge&code_challenge_method=S256"
        );
    }

    #[test]
    fn granted_scopes_are_split_on_commas() {
        let answer = TokenAnswer {
            access_token: Some("gho_x".into()),
            token_type: Some("bearer".into()),
            scope: Some("repo,read:user".into()),
            error: None,
            error_description: None,
        };
        let token = token_from(answer).unwrap();
        assert_eq!(token.scopes, ["repo", "read:user"]);
        assert_eq!(token.access_token.expose_secret(), "gho_x");
    }
}
