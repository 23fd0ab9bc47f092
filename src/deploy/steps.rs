//! One step of a deploy: look at the row, call Heroku or GitHub as the deployer, and
//! say what changed. Steps are idempotent: a step repeated after a crash finds what its
//! interrupted run created (the GitHub deployment, the Heroku build) instead of
//! creating it again. [`start`] begins a deploy, [`watch`] follows it on Heroku; this
//! file dispatches and holds what both share.

use super::gate::Tokens;
use super::messages::{self, Chapter};
use super::{STAGE_TIMEOUT, StepError, confirm, promote, queue, rollback, targets};
use crate::accounts::LinkError;
use crate::bot::BotState;
use crate::github::{DeploymentState, NewDeploymentStatus, RepoName};
use crate::outbox::Post;
use crate::store::{DeployKind, DeployRow, DeployState, DeployTarget, MessageKind};

use super::start::start;
use super::watch::{watch_build, watch_dynos, watch_release};

/// What a step decided, besides the changes it made to the row.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Posts to send, in order.
    pub posts: Vec<(MessageKind, Post)>,
    /// A promotion's targets to save with the step.
    pub targets: Vec<DeployTarget>,
    /// The deploy ended (deployed or failed).
    pub finished: bool,
    /// The deploy gives its app's lock back without ending: it went back in line.
    pub release_lock: bool,
}

/// Advances `deploy` by one step at `now` (Unix ms).
pub async fn advance(app: &BotState, deploy: &mut DeployRow, now: i64) -> anyhow::Result<Outcome> {
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
    let result = match (deploy.kind, deploy.state) {
        (_, DeployState::Confirming) => Ok(confirm::expire(deploy, now)),
        (DeployKind::Deploy, DeployState::Requested) => start(app, deploy, &tokens, now).await,
        (DeployKind::Deploy, DeployState::Queued) => queue::turn(app, deploy, now).await,
        (DeployKind::Promote, DeployState::Requested) => {
            promote::start(app, deploy, &tokens, now).await
        }
        (DeployKind::Rollback, DeployState::Requested) => {
            rollback::start(app, deploy, &tokens, now).await
        }
        (DeployKind::Promote, DeployState::Releasing | DeployState::Restarting) => {
            targets::watch(app, deploy, &tokens, now).await
        }
        (_, DeployState::Building) => watch_build(app, deploy, &tokens, now).await,
        (_, DeployState::Releasing) => watch_release(app, deploy, &tokens, now).await,
        (_, DeployState::Restarting) => watch_dynos(app, deploy, &tokens, now).await,
        (_, other) => anyhow::bail!("deploy {} is {other}: nothing to do", deploy.id),
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

/// Moves to `next`, announcing `told` in the parent and the thread.
pub(super) fn chapter(d: &mut DeployRow, next: DeployState, told: Chapter, now: i64) -> Outcome {
    enter(d, next, now);
    let posts = vec![
        (MessageKind::UpdateParent, messages::parent(d, told, now)),
        (MessageKind::Reply, messages::reply(d, told, now)),
    ];
    Outcome {
        posts,
        ..Outcome::default()
    }
}

/// Moves to stage `next` and checks it at once: Heroku has often finished it already
/// (a release without a release phase succeeds with its build).
pub(super) fn enter(d: &mut DeployRow, next: DeployState, now: i64) {
    d.state = next;
    d.stage_started_at = now;
    d.next_check_at = now;
}

/// Refuses a change into a stage (or app) someone locked; see [`crate::locks::refusal`].
pub(super) async fn refuse_if_locked(
    app: &BotState,
    d: &DeployRow,
    stage: &str,
    app_name: &str,
    now: i64,
) -> Result<(), StepError> {
    let change = crate::locks::Change::by(d, stage, app_name, now);
    match crate::locks::refusal(app, change).await? {
        Some(locked) => Err(StepError::Refused(locked)),
        None => Ok(()),
    }
}

/// Checks again after the poll interval, unless the stage ran out of time.
pub(super) fn wait(
    app: &BotState,
    d: &mut DeployRow,
    now: i64,
    what: &str,
) -> Result<Outcome, StepError> {
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
pub(super) async fn fail(
    app: &BotState,
    d: &mut DeployRow,
    reason: &str,
    log_tail: Option<&str>,
    now: i64,
) -> Outcome {
    let unannounced = [
        DeployState::Requested,
        DeployState::Queued,
        DeployState::Confirming,
    ];
    let announced = !unannounced.contains(&d.state);
    if d.github_deployment_id.is_some() {
        if let Ok(linked) = crate::accounts::linked(app, &d.team_id, &d.user_id).await {
            let tokens = Tokens {
                heroku: &linked.heroku_token,
                github: &linked.github_token,
            };
            // The deploy ends here either way; a failure status GitHub could not take
            // now is logged, not retried (the thread already tells the story).
            if let Err(StepError::Retry(error)) =
                github_status(app, d, &tokens, DeploymentState::Failure, reason).await
            {
                tracing::warn!(
                    deploy = d.id,
                    error = format!("{error:#}"),
                    "the failure status did not reach GitHub"
                );
            }
        }
    }
    d.state = DeployState::Failed;
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
        ..Outcome::default()
    }
}

/// Posts a GitHub deployment status. GitHub being unavailable retries the step (which
/// is idempotent, so the status is posted again); GitHub refusing it is only logged: a
/// status is information and must not fail the deploy.
pub(super) async fn github_status(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    state: DeploymentState,
    description: &str,
) -> Result<(), StepError> {
    let (Some(repo), Some(id)) = (
        d.repo.as_deref().and_then(|r| r.parse::<RepoName>().ok()),
        d.github_deployment_id,
    ) else {
        return Ok(());
    };
    let app_name = d.app_name.as_deref();
    let status = NewDeploymentStatus {
        state,
        log_url: d.build_id.as_ref().zip(app_name).map(|(build, app_name)| {
            format!("https://dashboard.heroku.com/apps/{app_name}/activity/builds/{build}")
        }),
        environment_url: app_name.map(|app_name| format!("https://{app_name}.herokuapp.com")),
        description: Some(description.chars().take(140).collect()),
        auto_inactive: None,
    };
    match app
        .github
        .create_deployment_status(tokens.github, &repo, id as u64, &status)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.is_transient() => {
            Err(StepError::from_github("post the deployment status", error))
        }
        Err(error) => {
            tracing::warn!(deploy = d.id, %error, "GitHub refused the deployment status");
            Ok(())
        }
    }
}
