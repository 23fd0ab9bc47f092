//! From `/h deploy paipu/feature-x to staging/app2` to a gated commit: the stage's app
//! (found by [`crate::resolver`]) -> the connected repository -> branch -> sha -> CI
//! verdict. Every refusal says what was wrong and what to type instead.

use secrecy::SecretString;

use super::StepError;
use crate::bot::Bot;
use crate::chat::escape;
use crate::github::{CiVerdict, RepoName};
use crate::resolver::{Asking, Resolver};

/// What a deploy builds and where, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub stage: String,
    pub app_id: String,
    pub app_name: String,
    pub repo: RepoName,
    pub git_ref: String,
    pub sha: String,
    /// Branch protection's required status checks (passed to the GitHub deployment).
    pub required_contexts: Vec<String>,
}

/// What the person asked for, as the grammar parsed it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `deploy`, `promote` or `rollback`: what the person typed, for the hints.
    pub command: &'a str,
    /// How the command names a stage: `to`, `in`, `from`.
    pub preposition: &'a str,
    pub team_id: &'a str,
    pub pipeline: &'a str,
    pub branch: Option<&'a str>,
    pub stage: Option<&'a str>,
    pub app: Option<&'a str>,
    pub forced: bool,
}

/// The user's tokens for the two services.
pub struct Tokens<'a> {
    pub heroku: &'a SecretString,
    pub github: &'a SecretString,
}

impl<'a> Request<'a> {
    /// The command and preposition, for the resolver's hints.
    pub(super) fn asking(self) -> Asking<'a> {
        Asking {
            command: self.command,
            preposition: self.preposition,
        }
    }
}

/// Resolves names on Heroku as the person whose `tokens` these are.
pub(super) fn resolver<'a>(app: &'a Bot, tokens: &Tokens<'a>, asking: Asking<'a>) -> Resolver<'a> {
    Resolver {
        heroku: &app.heroku,
        token: tokens.heroku,
        asking,
    }
}

/// Where a deploy goes: its stage and that stage's one app (named when it has
/// several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub stage: String,
    pub app_id: String,
    pub app_name: String,
}

/// Finds where a deploy request goes, before anything about its commit is read: a
/// busy app is known then, and a queued deploy reads its commit only when it starts.
pub async fn place(
    app: &Bot,
    request: Request<'_>,
    tokens: &Tokens<'_>,
) -> Result<Place, StepError> {
    let resolver = resolver(app, tokens, request.asking());
    let seen = resolver.pipeline(request.pipeline).await?;
    let stage = seen.stage(request.stage)?;
    let target = (resolver.stage_apps(&seen, stage).await?)
        .one(&seen.pipeline.name, request.app, request.asking())?
        .clone();
    Ok(Place {
        stage: stage.as_str().into(),
        app_id: target.id,
        app_name: target.name,
    })
}

/// Gates a deploy request going to `place`: the connected repository, the branch's
/// head now, and its CI verdict.
pub async fn gate(
    app: &Bot,
    request: Request<'_>,
    tokens: &Tokens<'_>,
    place: Place,
) -> Result<Resolved, StepError> {
    let repo = connected_repo(app, request).await?;
    let (git_ref, sha, required_contexts) = branch_head(app, request, tokens, &repo).await?;
    if !request.forced {
        let at = format!(
            "{repo}@{} ({})",
            crate::chat::short_sha(&sha),
            escape(&git_ref)
        );
        let hint = format!("/h deploy! {}", request_echo(request));
        ci_gate(app, tokens, &repo, &sha, &required_contexts, &at, &hint).await?;
    }
    Ok(Resolved {
        stage: place.stage,
        app_id: place.app_id,
        app_name: place.app_name,
        repo,
        git_ref,
        sha,
        required_contexts,
    })
}

pub(super) async fn connected_repo(app: &Bot, request: Request<'_>) -> Result<RepoName, StepError> {
    let repo = app
        .store
        .pipeline_repo(request.team_id, request.pipeline)
        .await
        .map_err(StepError::Retry)?
        .ok_or_else(|| {
            StepError::refused(format!(
                "`{pipeline}` is not connected to a GitHub repository yet. Connect it once with \
                 `/h connect {pipeline} to <owner>/<repo>`, then {command} again.",
                pipeline = request.pipeline,
                command = request.command
            ))
        })?;
    repo.parse()
        .map_err(|error: String| StepError::refused(escape(&error)))
}

/// The branch (default: the repository's default branch), its head sha, and the
/// status checks its protection requires.
pub(super) async fn branch_head(
    app: &Bot,
    request: Request<'_>,
    tokens: &Tokens<'_>,
    repo: &RepoName,
) -> Result<(String, String, Vec<String>), StepError> {
    let git_ref = match request.branch {
        Some(branch) => branch.to_owned(),
        None => {
            let found = app.github.repo(tokens.github, repo).await.map_err(|error| {
                if error.is_not_found() {
                    StepError::refused(format!(
                        "GitHub says {repo} does not exist or you can't see it. Ask for access, or \
                         reconnect the pipeline with `/h connect {} to <owner>/<repo>`.",
                        request.pipeline
                    ))
                } else {
                    StepError::from_github("read the repository", error)
                }
            })?;
            found.default_branch
        }
    };
    let branch = app
        .github
        .branch(tokens.github, repo, &git_ref)
        .await
        .map_err(|error| {
            if error.is_not_found() {
                StepError::refused(format!(
                    "There is no branch `{}` in {repo} (or you can't see it).",
                    escape(&git_ref)
                ))
            } else {
                StepError::from_github("read the branch", error)
            }
        })?;
    let required = branch.required_contexts();
    Ok((git_ref, branch.commit.sha, required))
}

/// Refuses `sha` unless CI is green on it; `at` names the commit (mrkdwn), `forced`
/// is the command that skips the gate.
pub(super) async fn ci_gate(
    app: &Bot,
    tokens: &Tokens<'_>,
    repo: &RepoName,
    sha: &str,
    required: &[String],
    at: &str,
    forced: &str,
) -> Result<(), StepError> {
    let verdict = app
        .github
        .ci_verdict(tokens.github, repo, sha, required)
        .await
        .map_err(|error| StepError::from_github("read the commit's checks", error))?;
    let forced_hint = format!("or {} anyway with `{forced}`.", request_verb(forced));
    match verdict {
        CiVerdict::Green => Ok(()),
        CiVerdict::Pending { pending } => Err(StepError::refused(format!(
            "CI has not finished on {at}: waiting for {}. Try again when it is green, {forced_hint}",
            escape(&pending.join(", "))
        ))),
        CiVerdict::Red { failing, pending } => {
            let mut checks = format!("failing: {}", escape(&failing.join(", ")));
            if !pending.is_empty() {
                checks.push_str(&format!("; still running: {}", escape(&pending.join(", "))));
            }
            Err(StepError::refused(format!(
                "CI is red on {at} ({checks}). Fix it, {forced_hint}"
            )))
        }
    }
}

/// `deploy` for `/h deploy! ...`: the verb of a forced command.
fn request_verb(forced: &str) -> &str {
    forced
        .trim_start_matches("/h ")
        .split('!')
        .next()
        .unwrap_or("deploy")
}

/// The request as the user would type it again, e.g. `paipu/feature-x to staging/app2`
/// (mrkdwn: the branch escaped).
pub fn request_echo(request: Request<'_>) -> String {
    let mut echo = request.pipeline.to_owned();
    if let Some(branch) = request.branch {
        echo.push_str(&format!("/{}", escape(branch)));
    }
    if let Some(stage) = request.stage {
        echo.push_str(&format!(" to {stage}"));
        if let Some(app) = request.app {
            echo.push_str(&format!("/{app}"));
        }
    }
    echo
}
