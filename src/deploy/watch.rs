//! Following a deploy on Heroku: the build, then the release phase, then the dynos
//! restarting on the new release.

use super::StepError;
use super::gate::Tokens;
use super::messages::{self, Chapter};
use super::steps::{Outcome, chapter, fail, github_status, wait};
use crate::bot::BotState;
use crate::github::DeploymentState;
use crate::heroku::{BuildStatus, DynoState, ReleaseStatus};
use crate::store::{DeployKind, DeployRow, DeployState};

/// building -> releasing, once the build succeeded.
pub(super) async fn watch_build(
    app: &BotState,
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
            Ok(chapter(d, DeployState::Releasing, Chapter::Releasing, now))
        }
        (BuildStatus::Succeeded, None) => Ok(wait(app, d, now, "the build's release")?),
        (BuildStatus::Failed, _) => {
            let tail = log_tail(app, build.output_stream_url.as_deref()).await;
            Ok(fail(app, d, "the build failed", tail.as_deref(), now).await)
        }
    }
}

/// Where a release (or the dynos restarting on it) stands.
pub(super) enum Verdict {
    Pending,
    Succeeded,
    /// Why, and the last lines of its output when there are any.
    Failed(String, Option<String>),
}

/// releasing -> restarting, once the release phase succeeded.
pub(super) async fn watch_release(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let (app_name, release_id) = (
        d.app_name.clone().unwrap_or_default(),
        d.release_id.clone().unwrap_or_default(),
    );
    match release_verdict(app, tokens, &app_name, &release_id).await? {
        Verdict::Pending => Ok(wait(app, d, now, "the release phase")?),
        Verdict::Succeeded => Ok(chapter(
            d,
            DeployState::Restarting,
            Chapter::Restarting,
            now,
        )),
        Verdict::Failed(reason, tail) => Ok(fail(app, d, &reason, tail.as_deref(), now).await),
    }
}

/// Whether the release phase of `release_id` on `app_name` is done.
pub(super) async fn release_verdict(
    app: &BotState,
    tokens: &Tokens<'_>,
    app_name: &str,
    release_id: &str,
) -> Result<Verdict, StepError> {
    let release = app
        .heroku
        .release(tokens.heroku, app_name, release_id)
        .await
        .map_err(|e| StepError::from_heroku("read the release", e))?;
    Ok(match release.status {
        ReleaseStatus::Pending => Verdict::Pending,
        ReleaseStatus::Succeeded => Verdict::Succeeded,
        ReleaseStatus::Failed | ReleaseStatus::Expired => {
            let tail = log_tail(app, release.output_stream_url.as_deref()).await;
            let reason = format!("the release phase of v{} failed", release.version);
            Verdict::Failed(reason, tail)
        }
    })
}

/// restarting -> deployed (promoted, rolled back), once every long-running dyno is up
/// on the new release.
pub(super) async fn watch_dynos(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let (app_name, release_id) = (
        d.app_name.clone().unwrap_or_default(),
        d.release_id.clone().unwrap_or_default(),
    );
    match dynos_verdict(app, tokens, &app_name, &release_id, &d.pipeline).await? {
        Verdict::Pending => wait(app, d, now, "the dynos to restart"),
        Verdict::Failed(reason, tail) => Ok(fail(app, d, &reason, tail.as_deref(), now).await),
        Verdict::Succeeded => {
            github_status(app, d, tokens, DeploymentState::Success, "Deployed").await?;
            if d.kind == DeployKind::Rollback {
                lock_rolled_back_stage(app, d, now).await?;
            }
            let done = d.kind.done_state();
            let mut outcome = chapter(d, done, Chapter::Done, now);
            d.finished_at = Some(now);
            outcome.finished = true;
            Ok(outcome)
        }
    }
}

/// Whether every long-running dyno of `app_name` is up on `release_id`.
pub(super) async fn dynos_verdict(
    app: &BotState,
    tokens: &Tokens<'_>,
    app_name: &str,
    release_id: &str,
    pipeline: &str,
) -> Result<Verdict, StepError> {
    let dynos = app
        .heroku
        .dynos(tokens.heroku, app_name)
        .await
        .map_err(|e| StepError::from_heroku("read the dynos", e))?;
    let serving: Vec<_> = dynos.iter().filter(|dyno| !dyno.is_one_off()).collect();
    let on_release = |dyno: &&&crate::heroku::Dyno| dyno.release.id == release_id;
    if let Some(crashed) = serving
        .iter()
        .filter(on_release)
        .find(|dyno| dyno.state == DynoState::Crashed)
    {
        let reason = format!(
            "dyno {} crashed on the new release; `/h rollback {pipeline}` brings back the previous one",
            crashed.name
        );
        return Ok(Verdict::Failed(reason, None));
    }
    let all_up = serving
        .iter()
        .all(|dyno| on_release(&dyno) && dyno.state == DynoState::Up);
    Ok(if all_up {
        Verdict::Succeeded
    } else {
        Verdict::Pending
    })
}

/// Locks the stage a rollback restored, as Shipit does: deploying again would bring
/// back what was rolled back. Repeating it (a step retried after a crash) is harmless.
async fn lock_rolled_back_stage(app: &BotState, d: &DeployRow, now: i64) -> anyhow::Result<()> {
    let rolled_back = crate::locks::RolledBack {
        team_id: &d.team_id,
        channel_id: &d.channel_id,
        pipeline: &d.pipeline,
        stage: d.stage.as_deref().unwrap_or_default(),
        app_name: None,
        user_id: &d.user_id,
        from_version: d.replaced_version.unwrap_or_default() as u64,
        now,
    };
    crate::locks::lock_after_rollback(app, rolled_back).await
}

/// The last lines of a build's or release's output, if it can be read.
async fn log_tail(app: &BotState, url: Option<&str>) -> Option<String> {
    app.heroku
        .output_tail(url?, messages::LOG_TAIL_LINES)
        .await
        .ok()
}
