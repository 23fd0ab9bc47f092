//! GitHub's request and response shapes, with the field names and types of the REST
//! API (version 2022-11-28), reduced to the fields the bot reads or sends.
//!
//! Enums GitHub may extend (states, conclusions) fall back to `Unknown`, because new
//! values ship without a new API version.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl FromStr for RepoName {
    type Err = String;

    /// Parses `owner/name`; both parts non-empty, nothing else.
    fn from_str(full_name: &str) -> Result<RepoName, String> {
        match full_name.split_once('/') {
            Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(RepoName {
                    owner: owner.into(),
                    name: name.into(),
                })
            }
            _ => Err(format!(
                "`{full_name}` is not a GitHub repository of the form owner/name"
            )),
        }
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A GitHub account as it appears inside other objects (`creator`, `author`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Actor {
    pub login: String,
    pub id: u64,
}

/// `GET /user`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub login: String,
    /// Stable across renames, unlike `login`: the key to store.
    pub id: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub html_url: String,
}

/// `permissions` of a repository, as seen by the token's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Permissions {
    pub admin: bool,
    pub push: bool,
    pub pull: bool,
}

/// `GET /repos/{owner}/{repo}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    pub id: u64,
    pub full_name: String,
    pub default_branch: String,
    pub private: bool,
    pub html_url: String,
    /// Present when the request is authenticated.
    pub permissions: Option<Permissions>,
}

/// `GET /repos/{owner}/{repo}/branches/{branch}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Branch {
    pub name: String,
    pub commit: BranchCommit,
    pub protected: bool,
    pub protection: Option<BranchProtection>,
}

impl Branch {
    /// The status check contexts branch protection requires (empty when unprotected):
    /// the `required_contexts` of a deployment from this branch.
    pub fn required_contexts(&self) -> Vec<String> {
        self.protection
            .as_ref()
            .filter(|protection| protection.enabled)
            .and_then(|protection| protection.required_status_checks.as_ref())
            .map(|checks| checks.contexts.clone())
            .unwrap_or_default()
    }
}

/// The head commit of a branch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BranchCommit {
    pub sha: String,
}

/// `protection` of a branch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BranchProtection {
    pub enabled: bool,
    pub required_status_checks: Option<RequiredStatusChecks>,
}

/// `protection.required_status_checks`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RequiredStatusChecks {
    #[serde(default)]
    pub contexts: Vec<String>,
}

/// The state of one commit status, or of them all combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    Success,
    Pending,
    Failure,
    Error,
    #[serde(other)]
    Unknown,
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest status per context.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CombinedStatus {
    pub state: StatusState,
    pub sha: String,
    pub total_count: u64,
    pub statuses: Vec<CommitStatus>,
}

/// One context of a combined status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitStatus {
    pub id: u64,
    pub context: String,
    pub state: StatusState,
    pub description: Option<String>,
    pub target_url: Option<String>,
}

/// `status` of a check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Queued,
    InProgress,
    Completed,
    Waiting,
    Requested,
    Pending,
    #[serde(other)]
    Unknown,
}

/// `conclusion` of a completed check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckConclusion {
    Success,
    Failure,
    Neutral,
    Cancelled,
    Skipped,
    TimedOut,
    ActionRequired,
    Stale,
    StartupFailure,
    #[serde(other)]
    Unknown,
}

/// One page of `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CheckRunPage {
    pub check_runs: Vec<CheckRun>,
}

/// One check run on a commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: CheckStatus,
    pub conclusion: Option<CheckConclusion>,
    pub details_url: Option<String>,
}

/// The body of `POST /repos/{owner}/{repo}/deployments`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewDeployment {
    /// Branch, tag or sha; GitHub resolves it to the deployment's `sha`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    /// `false` for the bot: a 202 merge would deploy something nobody gated.
    pub auto_merge: bool,
    /// Contexts whose commit statuses must be `success`; `[]` skips the check.
    pub required_contexts: Vec<String>,
    pub environment: String,
    pub description: String,
    pub payload: serde_json::Value,
    pub transient_environment: bool,
    pub production_environment: bool,
}

/// A GitHub deployment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub url: String,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub description: Option<String>,
    pub payload: serde_json::Value,
    pub creator: Option<Actor>,
    pub created_at: String,
    pub transient_environment: bool,
    pub production_environment: bool,
}

/// The state of a deployment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Queued,
    Pending,
    InProgress,
    Success,
    Failure,
    Error,
    Inactive,
    /// A state added after this was written; never sent.
    #[serde(other, skip_serializing)]
    Unknown,
}

/// The body of `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewDeploymentStatus {
    pub state: DeploymentState,
    /// Also becomes `target_url`, as GitHub documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
    /// At most 140 characters, or GitHub answers 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `None` keeps GitHub's default (`true`: older deployments to the same
    /// environment become inactive on `success`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_inactive: Option<bool>,
}

/// One deployment status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: DeploymentState,
    pub description: Option<String>,
    pub environment: Option<String>,
    pub log_url: Option<String>,
    pub environment_url: Option<String>,
    pub creator: Option<Actor>,
    pub created_at: String,
}

/// `status` of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareStatus {
    Ahead,
    Behind,
    Diverged,
    Identical,
    #[serde(other)]
    Unknown,
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comparison {
    /// The comparison's page on GitHub.
    pub html_url: String,
    pub status: CompareStatus,
    pub ahead_by: u64,
    pub behind_by: u64,
    pub total_commits: u64,
    /// The commits in `head` and not in `base`, oldest first.
    pub commits: Vec<CommitSummary>,
}

/// One commit of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitSummary {
    pub sha: String,
    pub commit: GitCommit,
    /// The GitHub account of the author, when GitHub could match the email.
    pub author: Option<Actor>,
}

/// The git data of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitCommit {
    pub message: String,
    pub author: Option<GitAuthor>,
}

/// A git author line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GitAuthor {
    pub name: String,
    pub email: String,
    pub date: String,
}
