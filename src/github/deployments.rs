//! GitHub deployments and their statuses: creating one (with its three non-error
//! outcomes: created, auto-merged, refused by the status check gate or a merge
//! conflict), posting statuses as a deploy moves, and listing both.
//!
//! Creating POSTs are [`Replay::Unsafe`]: a retry after GitHub acted would record a
//! second deployment or status.

use std::ops::ControlFlow;

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;

use super::client::{GitHubClient, json, repo_path, segment};
use super::error::{ErrorBody, GitHubError};
use super::types::{Deployment, DeploymentStatus, NewDeployment, NewDeploymentStatus, RepoName};
use crate::outbound::Replay;
use crate::when;

/// Pages of deployments read at most (100 each) when looking for one: a search this
/// deep means another tool is flooding the environment, and it stops there.
const MAX_DEPLOYMENT_PAGES: usize = 20;

/// Where to look for a deployment: one environment's deployments of one task, made at
/// `since` (Unix milliseconds) or later. GitHub lists newest first, so once a page
/// reaches back before `since`, older pages cannot hold it.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentSearch<'a> {
    pub environment: &'a str,
    pub task: &'a str,
    pub since: i64,
}

/// How `POST /repos/{owner}/{repo}/deployments` turned out, short of an error.
#[derive(Debug, Clone, PartialEq)]
pub enum DeploymentOutcome {
    /// 201: the deployment exists; build its `sha`.
    Created(Deployment),
    /// 202: with `auto_merge`, GitHub merged the default branch into the ref instead;
    /// no deployment was created and CI runs again on the merge commit.
    AutoMerged { message: String },
    /// 409: required contexts are not all `success`; GitHub lists the contexts it saw.
    ChecksFailed {
        message: String,
        contexts: Vec<ContextState>,
    },
    /// 409: the auto-merge of the default branch conflicted.
    MergeConflict { message: String },
}

/// One context of a refused deployment, as GitHub reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ContextState {
    pub context: String,
    pub state: String,
}

/// `errors[0]` of a 409 for failed status checks.
#[derive(Deserialize)]
struct RequiredContextsError {
    field: String,
    #[serde(default)]
    contexts: Vec<ContextState>,
}

impl GitHubClient {
    /// `POST /repos/{owner}/{repo}/deployments`.
    #[tracing::instrument(skip_all, fields(repo = %repo, git_ref = %deployment.git_ref, environment = %deployment.environment))]
    pub async fn create_deployment(
        &self,
        token: &SecretString,
        repo: &RepoName,
        deployment: &NewDeployment,
    ) -> Result<DeploymentOutcome, GitHubError> {
        let url = self.url(&format!("{}/deployments", repo_path(repo)));
        let sent = self
            .send(Replay::Unsafe, || {
                self.request(Method::POST, &url, token).json(deployment)
            })
            .await;
        match sent {
            Ok(response) if response.status() == StatusCode::ACCEPTED => {
                let body: ErrorBody = json("create deployment", response).await?;
                Ok(DeploymentOutcome::AutoMerged {
                    message: body.message,
                })
            }
            Ok(response) if response.status() == StatusCode::CREATED => Ok(
                DeploymentOutcome::Created(json("create deployment", response).await?),
            ),
            Ok(response) => Err(GitHubError::Unexpected {
                call: "create deployment",
                detail: format!("answered {}", response.status()),
            }),
            Err(GitHubError::Refused {
                status: StatusCode::CONFLICT,
                body,
            }) => Ok(conflict(body)),
            Err(error) => Err(error),
        }
    }

    /// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
    #[tracing::instrument(skip_all, fields(repo = %repo, deployment_id = deployment_id, state = ?status.state))]
    pub async fn create_deployment_status(
        &self,
        token: &SecretString,
        repo: &RepoName,
        deployment_id: u64,
        status: &NewDeploymentStatus,
    ) -> Result<DeploymentStatus, GitHubError> {
        let url = self.url(&format!(
            "{}/deployments/{deployment_id}/statuses",
            repo_path(repo)
        ));
        let response = self
            .send(Replay::Unsafe, || {
                self.request(Method::POST, &url, token).json(status)
            })
            .await?;
        json("create deployment status", response).await
    }

    /// `GET /repos/{owner}/{repo}/deployments/{id}/statuses`: newest first, up to 100.
    #[tracing::instrument(skip_all, fields(repo = %repo, deployment_id = deployment_id))]
    pub async fn deployment_statuses(
        &self,
        token: &SecretString,
        repo: &RepoName,
        deployment_id: u64,
    ) -> Result<Vec<DeploymentStatus>, GitHubError> {
        let path = format!(
            "{}/deployments/{deployment_id}/statuses?per_page=100",
            repo_path(repo)
        );
        self.get_json("deployment statuses", &path, token).await
    }

    /// `GET /repos/{owner}/{repo}/deployments[?environment=..]`: newest first, up to 100.
    #[tracing::instrument(skip_all, fields(repo = %repo, environment = ?environment))]
    pub async fn deployments(
        &self,
        token: &SecretString,
        repo: &RepoName,
        environment: Option<&str>,
    ) -> Result<Vec<Deployment>, GitHubError> {
        let filter = environment
            .map(|name| format!("&environment={}", segment(name)))
            .unwrap_or_default();
        let path = format!("{}/deployments?per_page=100{filter}", repo_path(repo));
        self.get_json("deployments", &path, token).await
    }

    /// The first deployment `wanted` picks among those `search` describes, reading
    /// page after page (`Link: rel="next"`) until it is found, a page reaches back
    /// before `search.since`, or [`MAX_DEPLOYMENT_PAGES`] were read.
    #[tracing::instrument(skip_all, fields(repo = %repo, environment = search.environment))]
    pub async fn find_deployment(
        &self,
        token: &SecretString,
        repo: &RepoName,
        search: DeploymentSearch<'_>,
        wanted: impl Fn(&Deployment) -> bool,
    ) -> Result<Option<Deployment>, GitHubError> {
        let path = format!(
            "{}/deployments?environment={}&task={}&per_page=100",
            repo_path(repo),
            segment(search.environment),
            segment(search.task)
        );
        let older = |oldest: &Deployment| {
            when::parse_utc(&oldest.created_at).is_some_and(|at| at < search.since)
        };
        let look = |mut page: Vec<Deployment>| match page.iter().position(&wanted) {
            Some(found) => ControlFlow::Break(Some(page.swap_remove(found))),
            None if page.last().is_none_or(older) => ControlFlow::Break(None),
            None => ControlFlow::Continue(()),
        };
        let found = self
            .visit_pages("deployments", &path, token, MAX_DEPLOYMENT_PAGES, look)
            .await?;
        Ok(found.flatten())
    }
}

/// A 409 is either the status check gate (`errors[0].field == "required_contexts"`) or
/// a merge conflict.
fn conflict(body: ErrorBody) -> DeploymentOutcome {
    let checks = body
        .errors
        .first()
        .and_then(|first| serde_json::from_value::<RequiredContextsError>(first.clone()).ok())
        .filter(|error| error.field == "required_contexts");
    match checks {
        Some(error) => DeploymentOutcome::ChecksFailed {
            message: body.message,
            contexts: error.contexts,
        },
        None => DeploymentOutcome::MergeConflict {
            message: body.message,
        },
    }
}
