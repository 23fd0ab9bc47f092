//! One step of a deploy: look at the row, call Heroku or GitHub as the deployer, and
//! say what changed. Steps are idempotent: a step repeated after a crash finds what its
//! interrupted run created (the GitHub deployment, the Heroku build) instead of
//! creating it again.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::gate::{self, Request, Tokens};
use super::messages::{self, Chapter, Post};
use super::{STAGE_TIMEOUT, StepError, state};
use crate::accounts::LinkError;
use crate::app::AppState;
use crate::github::{
    DeploymentOutcome, DeploymentState, NewDeployment, NewDeploymentStatus, RepoName,
};
use crate::heroku::{BuildStatus, NewSourceBlob, ReleaseStatus};
use crate::store::{AppLock, DeployRow, MessageKind};

/// What a step decided, besides the changes it made to the row.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Posts to send, in order.
    pub posts: Vec<(MessageKind, Post)>,
    /// The deploy ended (deployed or failed).
    pub finished: bool,
}

/// Advances `deploy` by one step at `now` (Unix ms).
pub async fn advance(app: &AppState, deploy: &mut DeployRow, now: i64) -> anyhow::Result<Outcome> {
    let linked = match crate::accounts::linked(app, &deploy.team_id, &deploy.user_id).await {
        Ok(linked) => linked,
        Err(LinkError::NotLinked(not_linked)) => {
            let names: Vec<_> = not_linked
                .missing
                .iter()
                .map(|(provider, _)| provider.name())
                .collect();
            let reason = format!(
                "your {} sign-in is gone (revoked or expired). Run `/h login`, then deploy again.",
                names.join(" and ")
            );
            return Ok(fail(app, deploy, &reason, None, now).await);
        }
        Err(error) => {
            tracing::warn!(deploy = deploy.id, %error, "cannot get the deployer's tokens yet");
            deploy.next_check_at = now + 2 * app.config.poll_interval.as_millis() as i64;
            return Ok(Outcome::default());
        }
    };
    let tokens = Tokens {
        heroku: &linked.heroku_token,
        github: &linked.github_token,
    };
    let result = match deploy.state.as_str() {
        state::REQUESTED => start(app, deploy, &tokens, now).await,
        state::BUILDING => watch_build(app, deploy, &tokens, now).await,
        state::RELEASING => watch_release(app, deploy, &tokens, now).await,
        state::RESTARTING => watch_dynos(app, deploy, &tokens, now).await,
        other => anyhow::bail!("deploy {} is {other}: nothing to do", deploy.id),
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(StepError::Refused(reason)) => Ok(fail(app, deploy, &reason, None, now).await),
        Err(StepError::Retry(error))
            if now - deploy.stage_started_at < STAGE_TIMEOUT.as_millis() as i64 =>
        {
            tracing::warn!(
                deploy = deploy.id,
                error = format!("{error:#}"),
                "deploy step will be retried"
            );
            deploy.next_check_at = now + 2 * app.config.poll_interval.as_millis() as i64;
            Ok(Outcome::default())
        }
        Err(StepError::Retry(error)) => {
            Ok(fail(app, deploy, &format!("gave up: {error:#}"), None, now).await)
        }
    }
}

/// requested -> building: resolve and gate, take the app's lock, record the GitHub
/// deployment, start the Heroku build; then tell the channel.
async fn start(
    app: &AppState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let request = Request {
        team_id: &d.team_id,
        pipeline: &d.pipeline,
        branch: d.branch.as_deref(),
        stage: d.stage.as_deref(),
        app: d.app_name.as_deref(),
        forced: d.forced != 0,
    };
    let resolved = gate::resolve(app, request, tokens).await?;
    let echo = gate::request_echo(request);
    take_lock(app, d, &resolved, now).await?;
    let code = two_factor_code(app, d);
    let code = code.as_ref().map(|c| c.expose_secret());
    super::webhooks::subscribe(app, tokens.heroku, &resolved.app_name, code).await;
    let deployment_id = github_deployment(app, d, tokens, &resolved).await?;
    (d.stage, d.app_id, d.app_name) = (
        Some(resolved.stage.clone()),
        Some(resolved.app_id.clone()),
        Some(resolved.app_name.clone()),
    );
    (d.repo, d.git_ref, d.sha) = (
        Some(resolved.repo.to_string()),
        Some(resolved.git_ref),
        Some(resolved.sha),
    );
    d.github_deployment_id = Some(deployment_id as i64);
    d.build_id = Some(create_build(app, d, tokens, &resolved.repo, &echo).await?);
    d.two_factor_code = None;
    github_status(
        app,
        d,
        tokens,
        DeploymentState::InProgress,
        "Building on Heroku",
    )
    .await;
    enter(d, state::BUILDING, now, app);
    Ok(Outcome {
        posts: vec![
            (
                MessageKind::Parent,
                messages::parent(d, Chapter::Deploying, now),
            ),
            (
                MessageKind::Reply,
                messages::reply(d, Chapter::Deploying, now),
            ),
        ],
        finished: false,
    })
}

/// Takes the app's deploy lock for `d`, or explains who holds it.
async fn take_lock(
    app: &AppState,
    d: &DeployRow,
    resolved: &gate::Resolved,
    now: i64,
) -> Result<(), StepError> {
    let wanted = AppLock {
        app_id: resolved.app_id.clone(),
        deploy_id: d.id,
        app_name: resolved.app_name.clone(),
        user_id: d.user_id.clone(),
        sha: resolved.sha.clone(),
        since: now,
    };
    let holder = app.store.take_app_lock(&wanted).await?;
    if holder.deploy_id == d.id {
        return Ok(());
    }
    Err(StepError::refused(format!(
        "<@{}> is deploying {} (since {} UTC, sha {}). Try again when it is done.",
        holder.user_id,
        holder.app_name,
        messages::clock_time(holder.since),
        messages::short_sha(&holder.sha)
    )))
}

/// The GitHub deployment of this deploy: the one an interrupted run created, or a new one.
async fn github_deployment(
    app: &AppState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    resolved: &gate::Resolved,
) -> Result<u64, StepError> {
    let existing = app
        .github
        .deployments(tokens.github, &resolved.repo, Some(&resolved.stage))
        .await
        .map_err(|e| StepError::from_github("list deployments", e))?;
    if let Some(found) = existing
        .iter()
        .find(|dep| dep.payload["chatops_deploy_id"] == d.id)
    {
        return Ok(found.id);
    }
    let forced = d.forced != 0;
    let request = NewDeployment {
        git_ref: resolved.sha.clone(),
        task: "deploy".into(),
        auto_merge: false,
        required_contexts: if forced {
            Vec::new()
        } else {
            resolved.required_contexts.clone()
        },
        environment: resolved.stage.clone(),
        description: format!("Deployed from Slack by chatops to {}", resolved.app_name),
        payload: json!({"chatops_deploy_id": d.id, "app": resolved.app_name, "forced": forced}),
        transient_environment: false,
        production_environment: resolved.stage == "production",
    };
    match app
        .github
        .create_deployment(tokens.github, &resolved.repo, &request)
        .await
    {
        Ok(DeploymentOutcome::Created(deployment)) => Ok(deployment.id),
        Ok(DeploymentOutcome::ChecksFailed { contexts, .. }) => {
            let missing: Vec<_> = resolved
                .required_contexts
                .iter()
                .filter(|required| {
                    !contexts
                        .iter()
                        .any(|c| &c.context == *required && c.state == "success")
                })
                .map(String::as_str)
                .collect();
            Err(StepError::refused(format!(
                "GitHub refused the deployment: required checks are not green ({}). Deploy anyway with `/h deploy!`.",
                missing.join(", ")
            )))
        }
        Ok(
            DeploymentOutcome::AutoMerged { message }
            | DeploymentOutcome::MergeConflict { message },
        ) => Err(StepError::refused(format!(
            "GitHub did not create a deployment: {message}"
        ))),
        Err(error) => Err(StepError::from_github("create the deployment", error)),
    }
}

/// Marks a build as this deploy's, so a repeated step recognises it.
fn build_marker(d: &DeployRow) -> String {
    format!("chatops deploy #{}", d.id)
}

/// The build of this deploy: found by its marker, or created from the commit's tarball.
async fn create_build(
    app: &AppState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    repo: &RepoName,
    echo: &str,
) -> Result<String, StepError> {
    let app_name = d.app_name.as_deref().unwrap_or_default();
    let sha = d.sha.clone().unwrap_or_default();
    let builds = app
        .heroku
        .builds(tokens.heroku, app_name)
        .await
        .map_err(|e| StepError::from_heroku("list builds", e))?;
    let marker = build_marker(d);
    if let Some(build) = builds.iter().find(|b| {
        b.source_blob
            .version_description
            .as_deref()
            .is_some_and(|v| v.ends_with(&marker))
    }) {
        return Ok(build.id.clone());
    }
    let url = app
        .github
        .tarball_url(tokens.github, repo, &sha)
        .await
        .map_err(|e| StepError::from_github("link the source tarball", e))?;
    let source = NewSourceBlob {
        url,
        version: sha.clone(),
        version_description: Some(format!("{repo}@{} {marker}", messages::short_sha(&sha))),
    };
    let code = two_factor_code(app, d);
    match app
        .heroku
        .create_build(
            tokens.heroku,
            app_name,
            &source,
            code.as_ref().map(|c| c.expose_secret()),
        )
        .await
    {
        Ok(build) => Ok(build.id),
        Err(error) if error.is_two_factor() => Err(StepError::refused(format!(
            "{app_name} is protected by two-factor authentication{}. Add a current code from your \
             authenticator app at the end of the command: `/h deploy {echo} 123456`.",
            if code.is_some() {
                " and the code you gave was not accepted"
            } else {
                ""
            }
        ))),
        Err(error) => Err(StepError::from_heroku("create the build", error)),
    }
}

fn two_factor_code(app: &AppState, d: &DeployRow) -> Option<SecretString> {
    let sealed = d.two_factor_code.as_deref()?;
    app.vault
        .open(sealed, &two_factor_context(d))
        .ok()
        .map(|opened| opened.secret)
}

/// What binds a sealed 2FA code to its deploy.
pub fn two_factor_context(d: &DeployRow) -> String {
    format!(
        "two_factor_code:{}:{}:{}",
        d.team_id, d.user_id, d.created_at
    )
}

/// building -> releasing, once the build succeeded.
async fn watch_build(
    app: &AppState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let (app_name, build_id) = (
        d.app_name.clone().unwrap_or_default(),
        d.build_id.clone().unwrap_or_default(),
    );
    let build = app
        .heroku
        .build(tokens.heroku, &app_name, &build_id)
        .await
        .map_err(|e| StepError::from_heroku("read the build", e))?;
    match (build.status, build.release) {
        (BuildStatus::Pending, _) => Ok(wait(app, d, now, "the build")?),
        (BuildStatus::Succeeded, Some(release)) => {
            d.release_id = Some(release.id);
            Ok(chapter(app, d, state::RELEASING, Chapter::Releasing, now))
        }
        (BuildStatus::Succeeded, None) => Ok(wait(app, d, now, "the build's release")?),
        (BuildStatus::Failed, _) => {
            let tail = log_tail(app, build.output_stream_url.as_deref()).await;
            Ok(fail(app, d, "the build failed", tail.as_deref(), now).await)
        }
    }
}

/// releasing -> restarting, once the release phase succeeded.
async fn watch_release(
    app: &AppState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let (app_name, release_id) = (
        d.app_name.clone().unwrap_or_default(),
        d.release_id.clone().unwrap_or_default(),
    );
    let release = app
        .heroku
        .release(tokens.heroku, &app_name, &release_id)
        .await
        .map_err(|e| StepError::from_heroku("read the release", e))?;
    match release.status {
        ReleaseStatus::Pending => Ok(wait(app, d, now, "the release phase")?),
        ReleaseStatus::Succeeded => {
            Ok(chapter(app, d, state::RESTARTING, Chapter::Restarting, now))
        }
        ReleaseStatus::Failed | ReleaseStatus::Expired => {
            let tail = log_tail(app, release.output_stream_url.as_deref()).await;
            Ok(fail(
                app,
                d,
                &format!("the release phase of v{} failed", release.version),
                tail.as_deref(),
                now,
            )
            .await)
        }
    }
}

/// restarting -> deployed, once every long-running dyno is up on the new release.
async fn watch_dynos(
    app: &AppState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let (app_name, release_id) = (
        d.app_name.clone().unwrap_or_default(),
        d.release_id.clone().unwrap_or_default(),
    );
    let dynos = app
        .heroku
        .dynos(tokens.heroku, &app_name)
        .await
        .map_err(|e| StepError::from_heroku("read the dynos", e))?;
    let serving: Vec<_> = dynos.iter().filter(|dyno| !dyno.is_one_off()).collect();
    let on_release = |dyno: &&&crate::heroku::Dyno| dyno.release.id == release_id;
    if let Some(crashed) = serving
        .iter()
        .filter(on_release)
        .find(|dyno| dyno.state == crate::heroku::DynoState::Crashed)
    {
        let reason = format!(
            "dyno {} crashed on the new release; `/h rollback {}` brings back the previous one",
            crashed.name, d.pipeline
        );
        return Ok(fail(app, d, &reason, None, now).await);
    }
    if serving
        .iter()
        .all(|dyno| on_release(&dyno) && dyno.state == crate::heroku::DynoState::Up)
    {
        github_status(app, d, tokens, DeploymentState::Success, "Deployed").await;
        let mut outcome = chapter(app, d, state::DEPLOYED, Chapter::Deployed, now);
        d.finished_at = Some(now);
        outcome.finished = true;
        return Ok(outcome);
    }
    wait(app, d, now, "the dynos to restart")
}

/// Moves to `next`, announcing `told` in the parent and the thread.
fn chapter(app: &AppState, d: &mut DeployRow, next: &str, told: Chapter, now: i64) -> Outcome {
    enter(d, next, now, app);
    let posts = vec![
        (MessageKind::UpdateParent, messages::parent(d, told, now)),
        (MessageKind::Reply, messages::reply(d, told, now)),
    ];
    Outcome {
        posts,
        finished: false,
    }
}

fn enter(d: &mut DeployRow, next: &str, now: i64, app: &AppState) {
    d.state = next.into();
    d.stage_started_at = now;
    d.next_check_at = now + app.config.poll_interval.as_millis() as i64;
}

/// Checks again after the poll interval, unless the stage ran out of time.
fn wait(app: &AppState, d: &mut DeployRow, now: i64, what: &str) -> Result<Outcome, StepError> {
    if now - d.stage_started_at > STAGE_TIMEOUT.as_millis() as i64 {
        return Err(StepError::refused(format!(
            "{what} did not finish within {} minutes",
            STAGE_TIMEOUT.as_secs() / 60
        )));
    }
    d.next_check_at = now + app.config.poll_interval.as_millis() as i64;
    Ok(Outcome::default())
}

/// Ends the deploy as failed: before anything was posted, the reason goes to the
/// requester alone; after, to the thread (broadcast) and the parent.
async fn fail(
    app: &AppState,
    d: &mut DeployRow,
    reason: &str,
    log_tail: Option<&str>,
    now: i64,
) -> Outcome {
    let announced = d.state != state::REQUESTED;
    if d.github_deployment_id.is_some() {
        if let Ok(linked) = crate::accounts::linked(app, &d.team_id, &d.user_id).await {
            let tokens = Tokens {
                heroku: &linked.heroku_token,
                github: &linked.github_token,
            };
            github_status(app, d, &tokens, DeploymentState::Failure, reason).await;
        }
    }
    d.state = state::FAILED.into();
    d.failure = Some(reason.into());
    d.finished_at = Some(now);
    d.two_factor_code = None;
    let posts = if announced {
        vec![
            (
                MessageKind::UpdateParent,
                messages::failed_parent(d, reason, now),
            ),
            (
                MessageKind::Reply,
                messages::failure_reply(d, reason, log_tail, now),
            ),
        ]
    } else {
        vec![(MessageKind::Response, messages::response(d, reason))]
    };
    Outcome {
        posts,
        finished: true,
    }
}

/// The last lines of a build's or release's output, if it can be read.
async fn log_tail(app: &AppState, url: Option<&str>) -> Option<String> {
    app.heroku
        .output_tail(url?, messages::LOG_TAIL_LINES)
        .await
        .ok()
}

/// Best effort: a GitHub status that fails to post must not fail the deploy.
async fn github_status(
    app: &AppState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    state: DeploymentState,
    description: &str,
) {
    let (Some(repo), Some(id)) = (
        d.repo.as_deref().and_then(|r| r.parse::<RepoName>().ok()),
        d.github_deployment_id,
    ) else {
        return;
    };
    let app_name = d.app_name.as_deref().unwrap_or_default();
    let status = NewDeploymentStatus {
        state,
        log_url: d.build_id.as_ref().map(|build| {
            format!("https://dashboard.heroku.com/apps/{app_name}/activity/builds/{build}")
        }),
        environment_url: Some(format!("https://{app_name}.herokuapp.com")),
        description: Some(description.chars().take(140).collect()),
        auto_inactive: None,
    };
    if let Err(error) = app
        .github
        .create_deployment_status(tokens.github, &repo, id as u64, &status)
        .await
    {
        tracing::warn!(deploy = d.id, %error, "could not post the GitHub deployment status");
    }
}
