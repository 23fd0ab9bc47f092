//! `/h info <pipeline>`: the connected repository, its default branch and required
//! checks, then what each app of each stage runs now (version, commit, who, when).

use secrecy::SecretString;

use super::{current_release, release_sha};
use crate::accounts::seen_by;
use crate::bot::{Bot, BotState};
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::chat::{escape, short_sha};
use crate::github::RepoName;
use crate::resolver::Asking;
use crate::when;

const INFO: Asking = Asking {
    command: "info",
    preposition: "in",
};

/// Answers `/h info <pipeline>`.
pub async fn info(state: &BotState, invocation: &Invocation, pipeline: &str) -> Reply {
    let (linked, layout) = match seen_by(state, invocation, pipeline, INFO).await {
        Ok(seen) => seen,
        Err(reply) => return reply,
    };
    let mut lines = vec![format!(
        "*{pipeline}*: {}",
        repo_line(state, invocation, &linked.github_token, pipeline).await
    )];
    if layout.stages.is_empty() {
        lines.push("It has no apps yet: add some on Heroku.".into());
    }
    let now = state.clock.now_millis();
    for stage in &layout.stages {
        for app in &stage.apps {
            let running = running_line(state, &linked.heroku_token, &app.name, now).await;
            lines.push(format!("• {}: {} {running}", stage.stage, app.name));
        }
    }
    Reply::ephemeral(lines.join("\n"))
}

/// `heroku/paipu-repo, default branch master, required checks: ci/circleci`
async fn repo_line(
    app: &Bot,
    invocation: &Invocation,
    token: &SecretString,
    pipeline: &str,
) -> String {
    let connect = format!("`/h connect {pipeline} to <owner>/<repo>`");
    let repo = match app.store.pipeline_repo(&invocation.team_id, pipeline).await {
        Ok(Some(repo)) => repo,
        Ok(None) => return format!("not connected to a GitHub repository yet: {connect}"),
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "cannot read a pipeline's repository"
            );
            return "its repository could not be read from the database just now".into();
        }
    };
    let Ok(name) = repo.parse::<RepoName>() else {
        return format!(
            "connected to `{}`, which is not a repository name: {connect}",
            escape(&repo)
        );
    };
    let found = match app.github.repo(token, &name).await {
        Ok(found) => found,
        Err(error) if error.is_not_found() => {
            return format!("{repo} (GitHub says it does not exist or you can't see it)");
        }
        Err(error) => {
            return format!(
                "{repo} (GitHub did not answer: {})",
                escape(&error.to_string())
            );
        }
    };
    let checks = match app.github.branch(token, &name, &found.default_branch).await {
        Ok(branch) => match branch.required_contexts() {
            contexts if contexts.is_empty() => "no required checks".to_owned(),
            contexts => format!("required checks: {}", escape(&contexts.join(", "))),
        },
        Err(error) => format!("required checks unknown ({})", escape(&error.to_string())),
    };
    format!(
        "{repo}, default branch {}, {checks}",
        escape(&found.default_branch)
    )
}

/// `runs v42 (576d16a9) by alice@example.com, 3h ago`
async fn running_line(app: &Bot, token: &SecretString, app_name: &str, now: i64) -> String {
    let release = match current_release(app, token, app_name).await {
        Ok(Some(release)) => release,
        Ok(None) => return "has no release yet".into(),
        Err(error) => {
            let error = escape(&error.to_string());
            return format!("(Heroku did not say what it runs: {error})");
        }
    };
    let sha = release_sha(app, token, &release)
        .await
        .map(|sha| format!(" ({})", short_sha(&sha)))
        .unwrap_or_default();
    format!(
        "runs v{}{sha} by {}, {}",
        release.version,
        escape(&release.user.email),
        when::ago_of(&release.created_at, now)
    )
}
