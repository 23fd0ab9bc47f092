//! Following a deploy on Heroku: the build, then the release phase, then the dynos
//! restarting on the new release.

use super::gate::Tokens;
use super::messages::{self, Chapter};
use super::steps::{Outcome, chapter, fail, github_status, wait};
use super::{StepError, state};
use crate::app::AppState;
use crate::github::DeploymentState;
use crate::heroku::{BuildStatus, DynoState, ReleaseStatus};
use crate::store::DeployRow;

/// building -> releasing, once the build succeeded.
pub(super) async fn watch_build(
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
            Ok(chapter(d, state::RELEASING, Chapter::Releasing, now))
        }
        (BuildStatus::Succeeded, None) => Ok(wait(app, d, now, "the build's release")?),
        (BuildStatus::Failed, _) => {
            let tail = log_tail(app, build.output_stream_url.as_deref()).await;
            Ok(fail(app, d, "the build failed", tail.as_deref(), now).await)
        }
    }
}

/// releasing -> restarting, once the release phase succeeded.
pub(super) async fn watch_release(
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
        ReleaseStatus::Succeeded => Ok(chapter(d, state::RESTARTING, Chapter::Restarting, now)),
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
pub(super) async fn watch_dynos(
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
        .find(|dyno| dyno.state == DynoState::Crashed)
    {
        let reason = format!(
            "dyno {} crashed on the new release; `/h rollback {}` brings back the previous one",
            crashed.name, d.pipeline
        );
        return Ok(fail(app, d, &reason, None, now).await);
    }
    if serving
        .iter()
        .all(|dyno| on_release(&dyno) && dyno.state == DynoState::Up)
    {
        github_status(app, d, tokens, DeploymentState::Success, "Deployed").await?;
        let mut outcome = chapter(d, state::DEPLOYED, Chapter::Deployed, now);
        d.finished_at = Some(now);
        outcome.finished = true;
        return Ok(outcome);
    }
    wait(app, d, now, "the dynos to restart")
}

/// The last lines of a build's or release's output, if it can be read.
async fn log_tail(app: &AppState, url: Option<&str>) -> Option<String> {
    app.heroku
        .output_tail(url?, messages::LOG_TAIL_LINES)
        .await
        .ok()
}
