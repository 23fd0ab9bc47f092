//! The GitHub REST client: request conventions (headers, versions, the acting user's
//! token), retries through [`RetryPolicy`], error classification, and the repository
//! calls (user, repository, branch, tarball link, compare). CI and deployments live in
//! their own files as further `impl` blocks.

use std::ops::ControlFlow;

use reqwest::header::{ACCEPT, HeaderMap, LINK, LOCATION, USER_AGENT};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::error::GitHubError;
use super::types::{Branch, Comparison, RepoName, Repository, User};
use crate::metrics::{ExternalCalls, Service};
use crate::outbound::{self, Replay, Retrier, RetryPolicy};

/// The API version every request pins, so GitHub's answers keep their shape.
pub const API_VERSION: &str = "2022-11-28";

/// `GET /user` and what its headers tell about the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCheck {
    pub user: User,
    /// `None` when GitHub did not list scopes (fine-grained and app tokens).
    pub scopes: Option<Vec<String>>,
    pub rate_remaining: Option<u32>,
}

/// The production API base URL.
pub const API_URL: &str = "https://api.github.com";

/// A GitHub REST client. It holds no token: every call takes the acting user's own.
#[derive(Debug, Clone)]
pub struct GitHubClient {
    http: reqwest::Client,
    api_url: String,
    retry: Retrier,
}

impl GitHubClient {
    /// A client for the API at `api_url` (`https://api.github.com`, or a fake's URL).
    pub fn new(http: reqwest::Client, api_url: &str, retry: RetryPolicy) -> GitHubClient {
        GitHubClient {
            http,
            api_url: api_url.trim_end_matches('/').into(),
            retry: Retrier::new(retry, Service::GitHub),
        }
    }

    /// The same client, counting its calls in `calls` (the app's metrics).
    pub fn with_calls(mut self, calls: ExternalCalls) -> GitHubClient {
        self.retry.calls = calls;
        self
    }

    /// `GET /user`: who the token belongs to.
    #[tracing::instrument(skip_all)]
    pub async fn user(&self, token: &SecretString) -> Result<User, GitHubError> {
        self.get_json("user", "/user", token).await
    }

    /// `GET /user`, with what its headers say about the token: the OAuth scopes it
    /// carries (`X-OAuth-Scopes`; absent for fine-grained tokens) and the requests left
    /// this hour (`X-RateLimit-Remaining`).
    #[tracing::instrument(skip_all)]
    pub async fn token_check(&self, token: &SecretString) -> Result<TokenCheck, GitHubError> {
        let url = self.url("/user");
        let response = self
            .send(Replay::Safe, || self.request(Method::GET, &url, token))
            .await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let scopes = header("x-oauth-scopes").map(|scopes| {
            scopes
                .split(',')
                .map(|scope| scope.trim().to_owned())
                .filter(|scope| !scope.is_empty())
                .collect()
        });
        let rate_remaining = header("x-ratelimit-remaining").and_then(|left| left.parse().ok());
        let user = json("user", response).await?;
        Ok(TokenCheck {
            user,
            scopes,
            rate_remaining,
        })
    }

    /// `GET /repos/{owner}/{repo}`: default branch, visibility and the user's permissions.
    #[tracing::instrument(skip_all, fields(repo = %repo))]
    pub async fn repo(
        &self,
        token: &SecretString,
        repo: &RepoName,
    ) -> Result<Repository, GitHubError> {
        self.get_json("repo", &repo_path(repo), token).await
    }

    /// `GET /repos/{owner}/{repo}/branches/{branch}`: head sha and protection, whose
    /// required contexts [`Branch::required_contexts`] returns.
    #[tracing::instrument(skip_all, fields(repo = %repo, branch = %branch))]
    pub async fn branch(
        &self,
        token: &SecretString,
        repo: &RepoName,
        branch: &str,
    ) -> Result<Branch, GitHubError> {
        let path = format!("{}/branches/{}", repo_path(repo), segment(branch));
        self.get_json("branch", &path, token).await
    }

    /// `GET /repos/{owner}/{repo}/tarball/{sha}`: the temporary (5 minutes for private
    /// repositories) download link GitHub redirects to. The redirect is read, not
    /// followed: Heroku downloads the tarball itself.
    #[tracing::instrument(skip_all, fields(repo = %repo, sha = %sha))]
    pub async fn tarball_url(
        &self,
        token: &SecretString,
        repo: &RepoName,
        sha: &str,
    ) -> Result<String, GitHubError> {
        let url = self.url(&format!("{}/tarball/{}", repo_path(repo), segment(sha)));
        let response = self
            .send(Replay::Safe, || self.request(Method::GET, &url, token))
            .await?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok());
        match (response.status(), location) {
            (StatusCode::FOUND, Some(location)) => Ok(location.to_owned()),
            (status, _) => Err(GitHubError::Unexpected {
                call: "tarball",
                detail: format!("expected a 302 with a Location, got {status}"),
            }),
        }
    }

    /// `GET /repos/{owner}/{repo}/compare/{base}...{head}`: what `head` adds to `base`.
    #[tracing::instrument(skip_all, fields(repo = %repo, base = %base, head = %head))]
    pub async fn compare(
        &self,
        token: &SecretString,
        repo: &RepoName,
        base: &str,
        head: &str,
    ) -> Result<Comparison, GitHubError> {
        let path = format!(
            "{}/compare/{}...{}",
            repo_path(repo),
            segment(base),
            segment(head)
        );
        self.get_json("compare", &path, token).await
    }

    /// `api_url` + `path`.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_url)
    }

    /// Whether `url` points into this client's API, so a token is never sent elsewhere
    /// (pagination links come from response headers).
    pub(super) fn is_own_url(&self, url: &str) -> bool {
        url.strip_prefix(&self.api_url)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// A request with GitHub's conventions and the acting user's token.
    pub(super) fn request(
        &self,
        method: Method,
        url: &str,
        token: &SecretString,
    ) -> RequestBuilder {
        self.http
            .request(method, url)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .header(USER_AGENT, outbound::USER_AGENT)
            .bearer_auth(token.expose_secret())
    }

    /// Sends with retries; any answer other than 2xx or 3xx becomes a [`GitHubError`].
    pub(super) async fn send(
        &self,
        replay: Replay,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, GitHubError> {
        let response = self
            .retry
            .send(replay, build)
            .await
            .map_err(GitHubError::Unreachable)?;
        let status = response.status();
        if status.is_success() || status.is_redirection() {
            Ok(response)
        } else {
            Err(error_from(response).await)
        }
    }

    /// A GET whose answer is JSON of type `T`.
    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        call: &'static str,
        path: &str,
        token: &SecretString,
    ) -> Result<T, GitHubError> {
        let url = self.url(path);
        let response = self
            .send(Replay::Safe, || self.request(Method::GET, &url, token))
            .await?;
        json(call, response).await
    }

    /// Reads the list at `path` page by page (following `Link: rel="next"`, only into
    /// this API), handing each page to `visit` until it breaks, the pages run out or
    /// `max_pages` were read; what `visit` broke with, if it did.
    pub(super) async fn visit_pages<T: DeserializeOwned, B>(
        &self,
        call: &'static str,
        path: &str,
        token: &SecretString,
        max_pages: usize,
        mut visit: impl FnMut(T) -> ControlFlow<B>,
    ) -> Result<Option<B>, GitHubError> {
        let mut next = Some(self.url(path));
        for _ in 0..max_pages {
            let Some(url) = next.take() else {
                return Ok(None);
            };
            let response = self
                .send(Replay::Safe, || self.request(Method::GET, &url, token))
                .await?;
            next = next_link(response.headers()).filter(|next| self.is_own_url(next));
            if let ControlFlow::Break(found) = visit(json(call, response).await?) {
                return Ok(Some(found));
            }
        }
        if next.is_some() {
            tracing::warn!(call, max_pages, "stopped reading a list after its page cap");
        }
        Ok(None)
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| param.trim() == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// The error a non-success `response` stands for.
pub(super) async fn error_from(response: Response) -> GitHubError {
    let status = response.status();
    let headers = response.headers().clone();
    match response.bytes().await {
        Ok(raw) => GitHubError::from_answer(status, &headers, &raw),
        Err(error) => GitHubError::Unreachable(error),
    }
}

/// The body of `response` as JSON of type `T`.
pub(super) async fn json<T: DeserializeOwned>(
    call: &'static str,
    response: Response,
) -> Result<T, GitHubError> {
    let raw = response.bytes().await.map_err(GitHubError::Unreachable)?;
    serde_json::from_slice(&raw).map_err(|error| GitHubError::Unexpected {
        call,
        detail: error.to_string(),
    })
}

/// `/repos/{owner}/{repo}`, each part encoded.
pub(super) fn repo_path(repo: &RepoName) -> String {
    format!("/repos/{}/{}", segment(&repo.owner), segment(&repo.name))
}

/// One path segment, percent-encoded: branch names may hold `/`, `#` or spaces.
pub(super) fn segment(raw: &str) -> String {
    raw.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_unreserved_characters_and_encode_the_rest() {
        assert_eq!(segment("feature/x y#1"), "feature%2Fx%20y%231");
        assert_eq!(segment("v1.2_rc-3~"), "v1.2_rc-3~");
    }

    #[test]
    fn only_urls_under_the_api_base_count_as_its_own() {
        let client = GitHubClient::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/",
            RetryPolicy::default(),
        );
        assert!(client.is_own_url("http://127.0.0.1:9/repos/a/b/commits/c/check-runs?page=2"));
        assert!(!client.is_own_url("http://127.0.0.1:99/repos"));
        assert!(!client.is_own_url("https://evil.example/repos"));
    }

    #[test]
    fn the_next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        let link = r#"<http://gh/x?page=1>; rel="prev", <http://gh/x?page=3>; rel="next", <http://gh/x?page=9>; rel="last""#;
        headers.insert(LINK, link.parse().unwrap());
        assert_eq!(next_link(&headers).as_deref(), Some("http://gh/x?page=3"));
        headers.insert(
            LINK,
            r#"<http://gh/x?page=1>; rel="first""#.parse().unwrap(),
        );
        assert_eq!(next_link(&headers), None);
    }
}
