//! From `/h deploy paipu/feature-x to staging/app2` to a gated commit: pipeline ->
//! couplings -> the stage's app -> the connected repository -> branch -> sha -> CI
//! verdict. Every refusal says what was wrong and what to type instead.

use secrecy::SecretString;

use super::StepError;
use crate::app::App;
use crate::github::{CiVerdict, RepoName};
use crate::heroku::{PipelineCoupling, Stage};

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

/// Resolves and gates a deploy request.
pub async fn resolve(
    app: &App,
    request: Request<'_>,
    tokens: &Tokens<'_>,
) -> Result<Resolved, StepError> {
    let (_, couplings) = pipeline(app, request, tokens).await?;
    let stage = pick_stage(request, &couplings)?;
    let apps = stage_apps(app, request, tokens, &couplings, stage).await?;
    let (app_id, app_name) = pick_app(request, stage, apps)?;
    let repo = connected_repo(app, request).await?;
    let (git_ref, sha, required_contexts) = branch_head(app, request, tokens, &repo).await?;
    if !request.forced {
        let at = format!("{repo}@{} ({git_ref})", super::messages::short_sha(&sha));
        let hint = format!("/h deploy! {}", request_echo(request));
        ci_gate(app, tokens, &repo, &sha, &required_contexts, &at, &hint).await?;
    }
    Ok(Resolved {
        stage: stage.as_str().into(),
        app_id,
        app_name,
        repo,
        git_ref,
        sha,
        required_contexts,
    })
}

/// The pipeline's id and couplings, or why it cannot be seen.
pub(super) async fn pipeline(
    app: &App,
    request: Request<'_>,
    tokens: &Tokens<'_>,
) -> Result<(String, Vec<PipelineCoupling>), StepError> {
    let pipeline = app
        .heroku
        .pipeline(tokens.heroku, request.pipeline)
        .await
        .map_err(|error| {
            if error.is_not_found() || error.is_forbidden() {
                StepError::refused(format!(
                    "I can't find a pipeline called `{}` on Heroku, or you can't see it. \
                 Run `/h pipelines` to list the ones you can deploy.",
                    request.pipeline
                ))
            } else {
                StepError::from_heroku("read the pipeline", error)
            }
        })?;
    let couplings = app
        .heroku
        .pipeline_couplings(tokens.heroku, &pipeline.id)
        .await
        .map_err(|error| StepError::from_heroku("read the pipeline's apps", error))?;
    Ok((pipeline.id, couplings))
}

/// The stage asked for, or the pipeline's default: the alphabetically last stage with
/// apps (slash-heroku's rule; it is `staging` for the usual pipeline).
pub(super) fn pick_stage(
    request: Request<'_>,
    couplings: &[PipelineCoupling],
) -> Result<Stage, StepError> {
    let stages_with_apps = |c: &PipelineCoupling| c.stage != Stage::Test;
    if let Some(wanted) = request.stage {
        return couplings
            .iter()
            .filter(|c| stages_with_apps(c))
            .map(|c| c.stage)
            .find(|stage| stage.as_str() == wanted)
            .ok_or_else(|| {
                StepError::refused(format!(
                    "`{}` has no app in its {wanted} stage. {}",
                    request.pipeline,
                    stage_list(couplings)
                ))
            });
    }
    couplings
        .iter()
        .filter(|c| stages_with_apps(c))
        .map(|c| c.stage)
        .max_by_key(|stage| stage.as_str())
        .ok_or_else(|| {
            StepError::refused(format!("`{}` has no apps to deploy to.", request.pipeline))
        })
}

pub(super) fn stage_list(couplings: &[PipelineCoupling]) -> String {
    let mut stages: Vec<&str> = couplings
        .iter()
        .filter(|c| c.stage != Stage::Test)
        .map(|c| c.stage.as_str())
        .collect();
    stages.sort_unstable();
    stages.dedup();
    format!("Its stages: {}.", stages.join(", "))
}

/// The apps of `stage`, by name, once the person shows they can see each.
pub(super) async fn stage_apps(
    app: &App,
    request: Request<'_>,
    tokens: &Tokens<'_>,
    couplings: &[PipelineCoupling],
    stage: Stage,
) -> Result<Vec<(String, String)>, StepError> {
    let mut apps = Vec::new();
    for coupling in couplings.iter().filter(|c| c.stage == stage) {
        let found = app.heroku.app(tokens.heroku, &coupling.app.id).await.map_err(|error| {
            if error.is_not_found() || error.is_forbidden() {
                StepError::refused(format!(
                    "You don't have access to the {} apps of `{}` on Heroku. Ask an owner of the \
                     pipeline to add you as a collaborator.",
                    stage.as_str(),
                    request.pipeline
                ))
            } else {
                StepError::from_heroku("read the app", error)
            }
        })?;
        apps.push((found.id, found.name));
    }
    apps.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(apps)
}

/// The stage's only app, or the one named; with several and none named, the choice.
pub(super) fn pick_app(
    request: Request<'_>,
    stage: Stage,
    mut apps: Vec<(String, String)>,
) -> Result<(String, String), StepError> {
    let names = apps
        .iter()
        .map(|(_, name)| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match request.app {
        Some(wanted) => apps
            .iter()
            .find(|(_, name)| name == wanted)
            .cloned()
            .ok_or_else(|| {
                StepError::refused(format!(
                    "`{wanted}` is not an app of the {} stage of `{}`. Its apps there: {names}.",
                    stage.as_str(),
                    request.pipeline,
                ))
            }),
        None if apps.len() == 1 => Ok(apps.remove(0)),
        None => Err(StepError::refused(format!(
            "The {stage} stage of `{pipeline}` has several apps: {names}. Name one, e.g. \
             `/h {command} {pipeline} {preposition} {stage}/{first}`.",
            stage = stage.as_str(),
            pipeline = request.pipeline,
            command = request.command,
            preposition = request.preposition,
            first = apps.first().map_or("", |(_, name)| name.as_str())
        ))),
    }
}

pub(super) async fn connected_repo(app: &App, request: Request<'_>) -> Result<RepoName, StepError> {
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
        .map_err(|error: String| StepError::refused(error))
}

/// The branch (default: the repository's default branch), its head sha, and the
/// status checks its protection requires.
pub(super) async fn branch_head(
    app: &App,
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
                    "There is no branch `{git_ref}` in {repo} (or you can't see it)."
                ))
            } else {
                StepError::from_github("read the branch", error)
            }
        })?;
    let required = branch.required_contexts();
    Ok((git_ref, branch.commit.sha, required))
}

/// Refuses `sha` unless CI is green on it; `at` names the commit, `forced` is the
/// command that skips the gate.
pub(super) async fn ci_gate(
    app: &App,
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
            pending.join(", ")
        ))),
        CiVerdict::Red { failing, pending } => {
            let mut checks = format!("failing: {}", failing.join(", "));
            if !pending.is_empty() {
                checks.push_str(&format!("; still running: {}", pending.join(", ")));
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

/// The request as the user would type it again, e.g. `paipu/feature-x to staging/app2`.
pub fn request_echo(request: Request<'_>) -> String {
    let mut echo = request.pipeline.to_owned();
    if let Some(branch) = request.branch {
        echo.push_str(&format!("/{branch}"));
    }
    if let Some(stage) = request.stage {
        echo.push_str(&format!(" to {stage}"));
        if let Some(app) = request.app {
            echo.push_str(&format!("/{app}"));
        }
    }
    echo
}
