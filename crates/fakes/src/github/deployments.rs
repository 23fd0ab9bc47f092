//! Deployments and deployment statuses on the fake, with GitHub's rules: `ref`
//! resolved to a sha (422 `No ref found for`), `auto_merge` merging the default branch
//! into a ref behind it (202, no deployment), `required_contexts` checked against
//! commit statuses only (409 `Conflict: Commit status checks failed for <ref>.`),
//! statuses appended in order, and `auto_inactive` retiring older deployments.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::http::{Caller, DOCS, Need, Refusal, error, listed, not_found, repo_for};
use super::shapes::account_json;
use super::validate::{ListQuery, NewDeployment, NewStatus};
use super::world::{Repo, World, timestamp};

/// A deployment as recorded, with its statuses oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRecord {
    pub id: u64,
    pub sha: String,
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub description: String,
    pub payload: Value,
    /// The login that created it.
    pub creator: String,
    pub created_at: i64,
    pub transient_environment: bool,
    pub production_environment: bool,
    pub statuses: Vec<DeploymentStatusRecord>,
}

/// One deployment status as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentStatusRecord {
    pub id: u64,
    pub state: String,
    pub description: String,
    pub environment: String,
    pub log_url: Option<String>,
    pub environment_url: Option<String>,
    pub creator: String,
    pub created_at: i64,
}

/// `POST /repos/{owner}/{repo}/deployments`.
pub(super) async fn create(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let mut world = fake.world();
    let repo = repo_for(&world, &caller, &owner, &name, Need::Write)?;
    let new = NewDeployment::parse(&body)?;
    let Some(sha) = world.repos[repo].resolve(&new.git_ref) else {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No ref found for: {}", new.git_ref),
        ));
    };
    let login = caller.0.expect("writers are signed in");
    if new.auto_merge {
        if let Some(answer) = auto_merge(&mut world, repo, &new.git_ref, &sha, &login) {
            return answer;
        }
    }
    status_gate(&world.repos[repo], &new, &sha)?;
    let record = DeploymentRecord {
        id: world.next_id(),
        sha,
        production_environment: new
            .production_environment
            .unwrap_or(new.environment == "production"),
        git_ref: new.git_ref,
        task: new.task,
        environment: new.environment,
        description: new.description,
        payload: new.payload,
        creator: login,
        created_at: world.now(),
        transient_environment: new.transient_environment,
        statuses: Vec::new(),
    };
    let body = deployment_json(&fake.base_url, &world, &world.repos[repo], &record);
    world.repos[repo].deployments.push(record);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// When the ref lacks the default branch's head, GitHub merges it in and answers 202
/// (a branch), or refuses with 409 (a sha, which cannot take a merge).
fn auto_merge(
    world: &mut World,
    repo: usize,
    git_ref: &str,
    sha: &str,
    login: &str,
) -> Option<Result<Response, Refusal>> {
    let default_branch = world.repos[repo].default_branch.clone();
    let default_head = world.repos[repo].branches[&default_branch].head.clone();
    if world.repos[repo].ancestry(sha).contains(&default_head) {
        return None;
    }
    let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
    if !world.repos[repo].branches.contains_key(branch) {
        let message = format!("Conflict merging {default_branch} into {git_ref}.");
        return Some(Err(error(StatusCode::CONFLICT, &message)));
    }
    let message = format!("Auto-merged {default_branch} into {git_ref} on deployment.");
    let now = world.now();
    let merge = world.repos[repo]
        .commit_on(branch, &message, login, now, Some(default_head))
        .expect("branch exists");
    let ci = world.new_commit_ci;
    world.record_ci(repo, &merge, ci);
    Some(Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": message})),
    )
        .into_response()))
}

/// Every required context (by default every context reported) must have a latest
/// status of `success`. Check runs do not count here, as on GitHub.
fn status_gate(repo: &Repo, new: &NewDeployment, sha: &str) -> Result<(), Refusal> {
    let mut latest = repo.latest_statuses(sha);
    latest.reverse();
    let required = new
        .required_contexts
        .clone()
        .unwrap_or_else(|| latest.iter().map(|s| s.context.clone()).collect());
    let passed = |context: &String| {
        latest
            .iter()
            .any(|status| &status.context == context && status.state == "success")
    };
    if required.iter().all(passed) {
        return Ok(());
    }
    let contexts: Vec<Value> = latest
        .iter()
        .map(|status| json!({"context": status.context, "state": status.state}))
        .collect();
    let body = json!({
        "message": format!("Conflict: Commit status checks failed for {}.", new.git_ref),
        "errors": [{"resource": "Deployment", "field": "required_contexts", "code": "invalid", "contexts": contexts}],
        "documentation_url": DOCS,
        "status": "409",
    });
    Err(Refusal {
        status: StatusCode::CONFLICT,
        body,
    })
}

/// `GET /repos/{owner}/{repo}/deployments?environment&sha&ref&task&per_page&page`,
/// newest first.
pub(super) async fn list(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let repo = &world.repos[repo_for(&world, &caller, &owner, &name, Need::Read)?];
    let matching: Vec<_> = repo
        .deployments
        .iter()
        .rev()
        .filter(|deployment| query.matches(deployment))
        .collect();
    let url = format!("{}/repos/{}/deployments", fake.base_url, repo.full_name());
    let (page, link) = query.paged(&url, matching);
    let page: Vec<Value> = page
        .into_iter()
        .map(|deployment| deployment_json(&fake.base_url, &world, repo, deployment))
        .collect();
    Ok(listed(Value::Array(page), link))
}

/// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
pub(super) async fn create_status(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let mut world = fake.world();
    let repo = repo_for(&world, &caller, &owner, &name, Need::Write)?;
    let Some(position) = world.repos[repo]
        .deployments
        .iter()
        .position(|deployment| deployment.id == id)
    else {
        return Err(not_found());
    };
    let new = NewStatus::parse(&body)?;
    let login = caller.0.expect("writers are signed in");
    let (status_id, now) = (world.next_id(), world.now());
    let deployment = &world.repos[repo].deployments[position];
    let record = DeploymentStatusRecord {
        id: status_id,
        environment: new
            .environment
            .unwrap_or_else(|| deployment.environment.clone()),
        state: new.state.clone(),
        description: new.description,
        log_url: new.log_url,
        environment_url: new.environment_url,
        creator: login.clone(),
        created_at: now,
    };
    let body = status_json(
        &fake.base_url,
        &world,
        &world.repos[repo],
        deployment,
        &record,
    );
    if new.state == "success" && new.auto_inactive {
        retire_older(&mut world, repo, position, &login);
    }
    world.repos[repo].deployments[position]
        .statuses
        .push(record);
    // GitHub points `Location` at the new status, as its description declares.
    let location = body["url"].as_str().unwrap_or_default().to_owned();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// GitHub's `auto_inactive`: older non-transient, non-production deployments to the
/// same environment become `inactive` when a newer one succeeds.
fn retire_older(world: &mut World, repo: usize, position: usize, login: &str) {
    let environment = world.repos[repo].deployments[position].environment.clone();
    for index in 0..position {
        let older = &world.repos[repo].deployments[index];
        let active = older
            .statuses
            .last()
            .is_some_and(|status| status.state != "inactive");
        if older.environment != environment
            || older.transient_environment
            || older.production_environment
            || !active
        {
            continue;
        }
        let (id, now) = (world.next_id(), world.now());
        let record = DeploymentStatusRecord {
            id,
            state: "inactive".into(),
            description: String::new(),
            environment: environment.clone(),
            log_url: None,
            environment_url: None,
            creator: login.into(),
            created_at: now,
        };
        world.repos[repo].deployments[index].statuses.push(record);
    }
}

/// `GET /repos/{owner}/{repo}/deployments/{id}/statuses`, newest first.
pub(super) async fn list_statuses(
    State(fake): State<FakeGitHub>,
    Extension(caller): Extension<Caller>,
    Path((owner, name, id)): Path<(String, String, u64)>,
    Query(query): Query<ListQuery>,
) -> Result<Response, Refusal> {
    let world = fake.world();
    let repo = &world.repos[repo_for(&world, &caller, &owner, &name, Need::Read)?];
    let Some(deployment) = repo
        .deployments
        .iter()
        .find(|deployment| deployment.id == id)
    else {
        return Err(not_found());
    };
    let url = format!(
        "{}/repos/{}/deployments/{id}/statuses",
        fake.base_url,
        repo.full_name()
    );
    let (statuses, link) = query.paged(&url, deployment.statuses.iter().rev().collect());
    let page: Vec<Value> = statuses
        .into_iter()
        .map(|status| status_json(&fake.base_url, &world, repo, deployment, status))
        .collect();
    Ok(listed(Value::Array(page), link))
}

fn creator_json(base: &str, world: &World, login: &str) -> Value {
    world
        .account(login)
        .map_or(Value::Null, |account| account_json(base, account))
}

fn deployment_json(base: &str, world: &World, repo: &Repo, deployment: &DeploymentRecord) -> Value {
    let url = format!(
        "{base}/repos/{}/deployments/{}",
        repo.full_name(),
        deployment.id
    );
    json!({
        "url": url,
        "id": deployment.id,
        "node_id": format!("DE_{}", deployment.id),
        "sha": deployment.sha,
        "ref": deployment.git_ref,
        "task": deployment.task,
        "payload": deployment.payload,
        "original_environment": deployment.environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": creator_json(base, world, &deployment.creator),
        "created_at": timestamp(deployment.created_at),
        "updated_at": timestamp(deployment.statuses.last().map_or(deployment.created_at, |status| status.created_at)),
        "statuses_url": format!("{url}/statuses"),
        "repository_url": format!("{base}/repos/{}", repo.full_name()),
        "transient_environment": deployment.transient_environment,
        "production_environment": deployment.production_environment,
    })
}

fn status_json(
    base: &str,
    world: &World,
    repo: &Repo,
    deployment: &DeploymentRecord,
    status: &DeploymentStatusRecord,
) -> Value {
    let deployment_url = format!(
        "{base}/repos/{}/deployments/{}",
        repo.full_name(),
        deployment.id
    );
    json!({
        "url": format!("{deployment_url}/statuses/{}", status.id),
        "id": status.id,
        "node_id": format!("DES_{}", status.id),
        "state": status.state,
        "creator": creator_json(base, world, &status.creator),
        "description": status.description,
        "environment": status.environment,
        // GitHub sends "" for an unset URL, though its description says `format: uri`.
        "target_url": status.log_url.clone().unwrap_or_default(),
        "log_url": status.log_url.clone().unwrap_or_default(),
        "environment_url": status.environment_url.clone().unwrap_or_default(),
        "created_at": timestamp(status.created_at),
        "updated_at": timestamp(status.created_at),
        "deployment_url": deployment_url,
        "repository_url": format!("{base}/repos/{}", repo.full_name()),
    })
}
