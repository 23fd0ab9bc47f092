//! CI results on the fake's commits: commit statuses (appended; the latest per context
//! counts, as on GitHub) and check runs (one per name), the knobs tests turn, and the
//! two read endpoints, check runs paginated with a `Link` header like GitHub's.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::http::{Caller, Need, Refusal, error, listed, repo_for};
use super::shapes::{actions_app_json, minimal_repository_json};
use super::validate::ListQuery;
use super::world::{Repo, World, timestamp};

/// Contexts every seeded commit reports: a CircleCI status and a GitHub check run.
pub(super) const DEFAULT_STATUS: &str = "ci/circleci";
pub(super) const DEFAULT_CHECK: &str = "build";

/// The result a test gives a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiState {
    /// Status `success`; check run `completed` with conclusion `success`.
    Green,
    /// Status `pending`; check run `in_progress` without a conclusion.
    Pending,
    /// Status `failure`; check run `completed` with conclusion `failure`.
    Red,
}

impl CiState {
    fn status_state(self) -> &'static str {
        match self {
            CiState::Green => "success",
            CiState::Pending => "pending",
            CiState::Red => "failure",
        }
    }

    fn check_run(self) -> (&'static str, Option<&'static str>) {
        match self {
            CiState::Green => ("completed", Some("success")),
            CiState::Pending => ("in_progress", None),
            CiState::Red => ("completed", Some("failure")),
        }
    }
}

/// One commit status as posted.
pub(super) struct StatusRecord {
    pub id: u64,
    pub sha: String,
    pub context: String,
    pub state: &'static str,
    pub created_at: i64,
}

/// One check run, updated in place.
pub(super) struct CheckRunRecord {
    pub id: u64,
    pub sha: String,
    pub name: String,
    pub status: &'static str,
    pub conclusion: Option<&'static str>,
    pub started_at: i64,
}

impl World {
    /// Gives `sha` the default status and check run, both `state`.
    pub fn record_ci(&mut self, repo: usize, sha: &str, state: CiState) {
        self.set_status(repo, sha, DEFAULT_STATUS, state);
        self.set_check_run(repo, sha, DEFAULT_CHECK, state);
    }

    /// Posts a status for `context` on `sha` (it supersedes the earlier ones).
    pub fn set_status(&mut self, repo: usize, sha: &str, context: &str, state: CiState) {
        let (id, now) = (self.next_id(), self.now());
        let record = StatusRecord {
            id,
            sha: sha.into(),
            context: context.into(),
            state: state.status_state(),
            created_at: now,
        };
        self.repos[repo].statuses.push(record);
    }

    /// Creates or updates the check run `name` on `sha`.
    pub fn set_check_run(&mut self, repo: usize, sha: &str, name: &str, state: CiState) {
        let (id, now) = (self.next_id(), self.now());
        let (status, conclusion) = state.check_run();
        let runs = &mut self.repos[repo].check_runs;
        match runs
            .iter_mut()
            .find(|run| run.sha == sha && run.name == name)
        {
            Some(run) => (run.status, run.conclusion) = (status, conclusion),
            None => runs.push(CheckRunRecord {
                id,
                sha: sha.into(),
                name: name.into(),
                status,
                conclusion,
                started_at: now,
            }),
        }
    }

    /// Sets every status context and check run `sha` has to `state` (the defaults if it
    /// has none).
    pub fn set_all_ci(&mut self, repo: usize, sha: &str, state: CiState) {
        let contexts: Vec<String> = self.repos[repo]
            .latest_statuses(sha)
            .iter()
            .map(|s| s.context.clone())
            .collect();
        let runs: Vec<String> = self.repos[repo]
            .check_runs
            .iter()
            .filter(|run| run.sha == sha)
            .map(|run| run.name.clone())
            .collect();
        if contexts.is_empty() && runs.is_empty() {
            return self.record_ci(repo, sha, state);
        }
        contexts
            .iter()
            .for_each(|context| self.set_status(repo, sha, context, state));
        runs.iter()
            .for_each(|name| self.set_check_run(repo, sha, name, state));
    }
}

impl Repo {
    /// The latest status per context on `sha`, newest first.
    pub fn latest_statuses(&self, sha: &str) -> Vec<&StatusRecord> {
        let mut latest: Vec<&StatusRecord> = Vec::new();
        for status in self
            .statuses
            .iter()
            .rev()
            .filter(|status| status.sha == sha)
        {
            if !latest.iter().any(|seen| seen.context == status.context) {
                latest.push(status);
            }
        }
        latest
    }
}

/// GitHub's combination: `failure` if any context failed or errored, `pending` if
/// there are none or any is pending, else `success`.
fn combined_state(latest: &[&StatusRecord]) -> &'static str {
    if latest
        .iter()
        .any(|status| matches!(status.state, "failure" | "error"))
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|status| status.state == "pending") {
        "pending"
    } else {
        "success"
    }
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`.
pub(super) async fn combined_status(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, git_ref)): Path<(String, String, String)>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let (repo, sha) = commit_of(&world, &caller, &owner, &name, &git_ref)?;
    let repo = &world.repos[repo];
    let latest = repo.latest_statuses(&sha);
    let statuses: Vec<Value> = latest
        .iter()
        .map(|status| status_json(&fake.base_url, repo, status))
        .collect();
    Ok(Json(json!({
        "state": combined_state(&latest),
        "sha": sha,
        "total_count": statuses.len(),
        "statuses": statuses,
        "repository": minimal_repository_json(&fake.base_url, repo),
        "commit_url": format!("{}/repos/{}/commits/{sha}", fake.base_url, repo.full_name()),
        "url": format!("{}/repos/{}/commits/{sha}/status", fake.base_url, repo.full_name()),
    }))
    .into_response())
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs?per_page&page`.
pub(super) async fn check_runs(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, git_ref)): Path<(String, String, String)>,
    Query(query): Query<ListQuery>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let (repo, sha) = commit_of(&world, &caller, &owner, &name, &git_ref)?;
    let repo = &world.repos[repo];
    let runs: Vec<&CheckRunRecord> = repo
        .check_runs
        .iter()
        .filter(|run| run.sha == sha)
        .collect();
    let total = runs.len();
    let url = format!(
        "{}/repos/{}/commits/{sha}/check-runs",
        fake.base_url,
        repo.full_name()
    );
    let (page, link) = query.paged(&url, runs);
    let shown: Vec<Value> = page
        .into_iter()
        .map(|run| check_run_json(&fake.base_url, repo, run))
        .collect();
    Ok(listed(
        json!({"total_count": total, "check_runs": shown}),
        link,
    ))
}

/// The readable repository and the sha `git_ref` names, or GitHub's 422 for a ref it
/// cannot find (GitHub's description declares only 200 for the check runs list, but
/// GitHub answers an unknown ref there with this 422 too).
fn commit_of(
    world: &World,
    caller: &Caller,
    owner: &str,
    name: &str,
    git_ref: &str,
) -> Result<(usize, String), Refusal> {
    let repo = repo_for(world, caller, owner, name, Need::Read)?;
    let sha = world.repos[repo].resolve(git_ref);
    let refusal = || {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {git_ref}"),
        )
    };
    Ok((repo, sha.ok_or_else(refusal)?))
}

fn status_json(base: &str, repo: &Repo, status: &StatusRecord) -> Value {
    json!({
        "id": status.id,
        "node_id": format!("SC_{}", status.id),
        "url": format!("{base}/repos/{}/statuses/{}", repo.full_name(), status.sha),
        "avatar_url": "https://avatars.githubusercontent.com/oa/4808",
        "state": status.state,
        "context": status.context,
        "description": format!("The {} build is {}", status.context, status.state),
        "target_url": format!("https://circleci.com/gh/{}/{}", repo.full_name(), status.id),
        "created_at": timestamp(status.created_at),
        "updated_at": timestamp(status.created_at),
    })
}

fn check_run_json(base: &str, repo: &Repo, run: &CheckRunRecord) -> Value {
    let completed = (run.status == "completed").then(|| timestamp(run.started_at));
    let url = format!("{base}/repos/{}/check-runs/{}", repo.full_name(), run.id);
    json!({
        "id": run.id,
        "node_id": format!("CR_{}", run.id),
        "external_id": "",
        "name": run.name,
        "head_sha": run.sha,
        "status": run.status,
        "conclusion": run.conclusion,
        "url": url,
        "html_url": format!("https://github.com/{}/runs/{}", repo.full_name(), run.id),
        "details_url": format!("https://github.com/{}/actions/runs/{}", repo.full_name(), run.id),
        "started_at": timestamp(run.started_at),
        "completed_at": completed,
        "output": {"title": null, "summary": null, "text": null, "annotations_count": 0, "annotations_url": format!("{url}/annotations")},
        "check_suite": {"id": run.id},
        "app": actions_app_json(base),
        "pull_requests": [],
    })
}
