//! `/h releases <pipeline> [in <stage>[/<app>]]`: the latest releases of one app,
//! each with the commit its slug was built from and the branch that commit was
//! deployed from (our deploys first, then GitHub deployments with the same sha).

use std::collections::HashMap;

use secrecy::SecretString;

use super::{RELEASES_SHOWN, release_sha};
use crate::accounts::Linked;
use crate::accounts::seen_by;
use crate::bot::{Bot, BotState};
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::chat::{escape, short_sha};
use crate::command::{Stage, Target};
use crate::github::RepoName;
use crate::heroku::Release;
use crate::resolver::{Asking, ResolveError};
use crate::when;

const RELEASES: Asking = Asking {
    command: "releases",
    preposition: "in",
};

/// Answers `/h releases`; without a stage, production's.
pub async fn releases(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    target: Option<Target>,
) -> Reply {
    let (linked, layout) = match seen_by(state, invocation, pipeline, RELEASES).await {
        Ok(seen) => seen,
        Err(reply) => return reply,
    };
    let target = target.unwrap_or(Target {
        stage: Stage::Production,
        app: None,
    });
    let token = &linked.heroku_token;
    let app_name = match layout.one_app(&target, RELEASES) {
        Ok(app) => app.name.clone(),
        Err(problem) => return Reply::ephemeral(problem.to_string()),
    };
    let releases = match state
        .heroku
        .releases(token, &app_name, RELEASES_SHOWN)
        .await
    {
        Ok(releases) => releases,
        Err(error) => {
            return Reply::ephemeral(ResolveError::heroku("list releases", error).to_string());
        }
    };
    if releases.is_empty() {
        return Reply::ephemeral(format!("{app_name} has no releases yet."));
    }
    let branches = branches_by_sha(state, invocation, &linked, pipeline, target.stage).await;
    let now = state.clock.now_millis();
    let mut lines = vec![format!(
        "Last {} releases of {app_name} ({pipeline} {}):",
        releases.len(),
        target.stage
    )];
    for release in &releases {
        let sha = release_sha(state, token, release).await;
        lines.push(release_line(release, sha.as_deref(), &branches, now));
    }
    Reply::ephemeral(lines.join("\n"))
}

/// `• v42 Deploy 576d16a — 576d16a9 (master) by alice@example.com, 3h ago`
fn release_line(
    release: &Release,
    sha: Option<&str>,
    branches: &HashMap<String, String>,
    now: i64,
) -> String {
    let commit = match sha {
        Some(sha) => match branches.get(sha) {
            Some(branch) => format!(" — {} ({})", short_sha(sha), escape(branch)),
            None => format!(" — {}", short_sha(sha)),
        },
        None => String::new(),
    };
    let status = match release.status {
        crate::heroku::ReleaseStatus::Succeeded => "",
        crate::heroku::ReleaseStatus::Pending => " [pending]",
        crate::heroku::ReleaseStatus::Failed => " [failed]",
        crate::heroku::ReleaseStatus::Expired => " [expired]",
    };
    format!(
        "• v{} {}{status}{commit} by {}, {}",
        release.version,
        escape(&release.description),
        escape(&release.user.email),
        when::ago_of(&release.created_at, now)
    )
}

/// sha -> the branch it was deployed from, as far as we know: our own deploys of the
/// pipeline, then the repository's GitHub deployments to the stage.
async fn branches_by_sha(
    app: &Bot,
    invocation: &Invocation,
    linked: &Linked,
    pipeline: &str,
    stage: Stage,
) -> HashMap<String, String> {
    let mut branches = HashMap::new();
    if let Some(repo) = connected(app, &invocation.team_id, pipeline).await {
        github_branches(app, &linked.github_token, &repo, stage, &mut branches).await;
    }
    match app
        .store
        .pipeline_deploys(&invocation.team_id, pipeline, Some(stage.as_str()), 200)
        .await
    {
        Ok(deploys) => {
            for deploy in deploys {
                if let (Some(sha), Some(git_ref)) = (deploy.sha, deploy.git_ref) {
                    branches.insert(sha, git_ref);
                }
            }
        }
        Err(error) => tracing::warn!(error = format!("{error:#}"), "cannot read our deploys"),
    }
    branches
}

async fn connected(app: &Bot, team_id: &str, pipeline: &str) -> Option<RepoName> {
    let repo = app.store.pipeline_repo(team_id, pipeline).await.ok()??;
    repo.parse().ok()
}

/// Deployments made by branch name (other tools do that; chatops pins the sha).
async fn github_branches(
    app: &Bot,
    token: &SecretString,
    repo: &RepoName,
    stage: Stage,
    branches: &mut HashMap<String, String>,
) {
    match app
        .github
        .deployments(token, repo, Some(stage.as_str()))
        .await
    {
        Ok(deployments) => {
            for deployment in deployments.into_iter().rev() {
                if deployment.git_ref != deployment.sha {
                    branches.insert(deployment.sha, deployment.git_ref);
                }
            }
        }
        Err(error) => tracing::info!(%error, "cannot read GitHub deployments"),
    }
}
