//! The fake's read endpoints for accounts and repositories: `/user`, a repository, a
//! branch with its protection, and compare; plus the JSON rendering of commits.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::FakeGitHub;
use super::http::{Caller, Need, Refusal, error, not_found, repo_for};
use super::shapes::{account_json, full_repository_json, private_user_json};
use super::world::{Commit, Repo, World, timestamp};

/// `GET /user`.
pub(super) async fn user(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let Some(account) = caller.0.as_deref().and_then(|login| world.account(login)) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Requires authentication"));
    };
    Ok(Json(private_user_json(&fake.base_url, account)).into_response())
}

/// `GET /repos/{owner}/{repo}`.
pub(super) async fn repo(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let repo = &world.repos[repo_for(&world, &caller, &owner, &name, Need::Read)?];
    let access = repo
        .access(caller.0.as_deref())
        .expect("repo_for checked access");
    Ok(Json(full_repository_json(&fake.base_url, repo, access)).into_response())
}

/// `GET /repos/{owner}/{repo}/branches/{branch}`.
pub(super) async fn branch(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, branch)): Path<(String, String, String)>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let repo = &world.repos[repo_for(&world, &caller, &owner, &name, Need::Read)?];
    let Some(state) = repo.branches.get(&branch) else {
        return Err(error(StatusCode::NOT_FOUND, "Branch not found"));
    };
    let head = repo.commit(&state.head).expect("branch heads are commits");
    let contexts = state.required_contexts.clone().unwrap_or_default();
    let checks: Vec<Value> = contexts
        .iter()
        .map(|context| json!({"context": context, "app_id": null}))
        .collect();
    let enforcement = if state.required_contexts.is_some() {
        "non_admins"
    } else {
        "off"
    };
    let branch_url = format!(
        "{}/repos/{}/branches/{branch}",
        fake.base_url,
        repo.full_name()
    );
    Ok(Json(json!({
        "name": branch,
        "commit": commit_json(&fake.base_url, &world, repo, head),
        "_links": {"self": branch_url, "html": format!("https://github.com/{}/tree/{branch}", repo.full_name())},
        "protected": state.required_contexts.is_some(),
        "protection": {
            "enabled": state.required_contexts.is_some(),
            "required_status_checks": {"enforcement_level": enforcement, "contexts": contexts, "checks": checks},
        },
        "protection_url": format!("{branch_url}/protection"),
    }))
    .into_response())
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
pub(super) async fn compare(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, basehead)): Path<(String, String, String)>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let repo = &world.repos[repo_for(&world, &caller, &owner, &name, Need::Read)?];
    let Some((base, head)) = basehead
        .split_once("...")
        .or_else(|| basehead.split_once(".."))
    else {
        return Err(not_found());
    };
    let (Some(base), Some(head)) = (repo.resolve(base), repo.resolve(head)) else {
        return Err(not_found());
    };
    let (ahead, behind) = (repo.only_in(&head, &base), repo.only_in(&base, &head));
    let status = match (ahead.is_empty(), behind.is_empty()) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    let commits: Vec<Value> = ahead
        .iter()
        .map(|commit| commit_json(&fake.base_url, &world, repo, commit))
        .collect();
    let base_commit = repo.commit(&base).expect("resolved shas are commits");
    let merge_base = merge_base(repo, &base, &head).unwrap_or(base_commit);
    let html_url = format!("https://github.com/{}/compare/{basehead}", repo.full_name());
    Ok(Json(json!({
        "url": format!("{}/repos/{}/compare/{basehead}", fake.base_url, repo.full_name()),
        "html_url": html_url,
        "permalink_url": format!("https://github.com/{}/compare/{}...{}", repo.full_name(), base_commit.sha, head),
        "diff_url": format!("{html_url}.diff"),
        "patch_url": format!("{html_url}.patch"),
        "merge_base_commit": commit_json(&fake.base_url, &world, repo, merge_base),
        "status": status,
        "ahead_by": ahead.len(),
        "behind_by": behind.len(),
        "total_commits": ahead.len(),
        "base_commit": commit_json(&fake.base_url, &world, repo, base_commit),
        "commits": commits,
        "files": [],
    }))
    .into_response())
}

/// The newest commit both `base` and `head` descend from.
fn merge_base<'a>(repo: &'a Repo, base: &str, head: &str) -> Option<&'a Commit> {
    let (base, head) = (repo.ancestry(base), repo.ancestry(head));
    repo.commits
        .iter()
        .rev()
        .find(|commit| base.contains(&commit.sha) && head.contains(&commit.sha))
}

/// A commit as the branch and compare endpoints show it.
fn commit_json(base: &str, world: &World, repo: &Repo, commit: &Commit) -> Value {
    let account = world.account(&commit.author);
    let git_author = json!({
        "name": account.map_or(commit.author.as_str(), |account| account.name),
        "email": account.map_or_else(|| format!("{}@example.com", commit.author), |account| account.email.clone()),
        "date": timestamp(commit.date),
    });
    let url = format!("{base}/repos/{}/commits/{}", repo.full_name(), commit.sha);
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|parent| json!({"sha": parent, "url": format!("{base}/repos/{}/commits/{parent}", repo.full_name())}))
        .collect();
    // The fake keeps no trees; a commit's tree sha is derived from its own.
    let tree = hex::encode(Sha256::digest(format!("tree {}", commit.sha)))[..40].to_owned();
    let git_url = format!(
        "{base}/repos/{}/git/commits/{}",
        repo.full_name(),
        commit.sha
    );
    json!({
        "sha": commit.sha,
        "node_id": format!("C_{}", commit.sha),
        "url": url,
        "html_url": format!("https://github.com/{}/commit/{}", repo.full_name(), commit.sha),
        "comments_url": format!("{url}/comments"),
        "commit": {
            "url": git_url, "message": commit.message, "author": git_author,
            "committer": git_author, "comment_count": 0,
            "tree": {"sha": tree, "url": format!("{base}/repos/{}/git/trees/{tree}", repo.full_name())},
        },
        "author": account.map(|account| account_json(base, account)),
        "committer": account.map(|account| account_json(base, account)),
        "parents": parents,
    })
}
