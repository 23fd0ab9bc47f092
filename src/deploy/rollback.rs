//! A rollback's first steps, both while `requested`. Planning picks the app and the
//! version to restore (the one asked for, or the newest earlier release with a slug)
//! and saves it with the version running now (and both commits, for the release notes
//! of what it takes out), creating nothing. Launching takes the app's lock and asks
//! Heroku for the rollback release, unless an interrupted launch already made it: a
//! release newer than the replaced one, `Rollback to v<N>`. From there a rollback is
//! watched like a deploy: releasing -> restarting -> rolled back.

use secrecy::ExposeSecret;

use super::gate::{self, Tokens};
use super::messages::{self, Chapter};
use super::notes;
use super::promote::slug_commit;
use super::start::{take_lock, two_factor_code, two_factor_refusal};
use super::steps::{Outcome, enter, refuse_if_locked};
use super::{StepError, confirm};
use crate::bot::BotState;
use crate::chat::{escape, short_sha};
use crate::github::RepoName;
use crate::heroku::Release;
use crate::resolver::Asking;
use crate::store::{DeployRow, DeployState, MessageKind};

/// Releases read to find the current one and what came before.
const RECENT_RELEASES: usize = 50;

/// requested -> requested (planned) -> releasing.
pub(super) async fn start(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    if d.replaced_version.is_none() {
        plan(app, d, tokens, now).await
    } else {
        launch(app, d, tokens, now).await
    }
}

async fn plan(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let asking = Asking {
        command: "rollback",
        preposition: "in",
    };
    let resolver = gate::resolver(app, tokens, asking);
    let seen = resolver.pipeline(&d.pipeline).await?;
    let stage = seen.stage(Some(d.stage.as_deref().unwrap_or("production")))?;
    let target = (resolver.stage_apps(&seen, stage).await?)
        .one(&seen.pipeline.name, d.app_name.as_deref(), asking)?
        .clone();
    let (app_id, app_name) = (target.id, target.name);
    refuse_if_locked(app, d, stage.as_str(), &app_name, now).await?;
    let releases = app
        .heroku
        .releases(tokens.heroku, &app_name, RECENT_RELEASES)
        .await
        .map_err(|e| StepError::from_heroku("list releases", e))?;
    let (current, wanted) = versions(d, &app_name, &releases)?;
    d.sha = slug_commit(app, tokens, &app_name, wanted).await?;
    d.replaced_sha = slug_commit(app, tokens, &app_name, current).await?;
    // The repository the release notes compare in, when the pipeline has one.
    d.repo = app.store.pipeline_repo(&d.team_id, &d.pipeline).await?;
    let current = current.version;
    (d.source_version, d.replaced_version) = (Some(wanted.version as i64), Some(current as i64));
    d.stage = Some(stage.as_str().into());
    d.next_check_at = now;
    let code = d.sha.as_deref().map_or("no known commit", short_sha);
    let summary = format!(
        "{} runs v{current} now; this restores v{} ({code}).",
        escape(&app_name),
        wanted.version
    );
    (d.app_id, d.app_name) = (Some(app_id), Some(app_name));
    if confirm::needed(app, d, stage.as_str()) {
        return Ok(confirm::ask(d, &summary, now));
    }
    Ok(Outcome::default())
}

/// The release running now and the one to restore, or why there is none.
fn versions<'r>(
    d: &DeployRow,
    app_name: &str,
    releases: &'r [Release],
) -> Result<(&'r Release, &'r Release), StepError> {
    let current = releases
        .iter()
        .find(|release| release.current)
        .ok_or_else(|| {
            StepError::refused(format!("{app_name} has no release to roll back from."))
        })?;
    let wanted = match d.source_version {
        Some(version) => releases
            .iter()
            .find(|release| release.version as i64 == version)
            .ok_or_else(|| {
                StepError::refused(format!(
                    "{app_name} has no release v{version} among its last {RECENT_RELEASES}; it runs v{} now.",
                    current.version
                ))
            })?,
        None => releases
            .iter()
            .filter(|release| release.version < current.version && release.slug.is_some())
            .max_by_key(|release| release.version)
            .ok_or_else(|| {
                StepError::refused(format!(
                    "{app_name} has no earlier release with code to roll back to."
                ))
            })?,
    };
    if wanted.version == current.version {
        return Err(StepError::refused(format!(
            "{app_name} already runs v{}: there is nothing to roll back.",
            wanted.version
        )));
    }
    if wanted.slug.is_none() {
        return Err(StepError::refused(format!(
            "v{} of {app_name} has no slug (it only changed config), so it cannot be rolled back to.",
            wanted.version
        )));
    }
    Ok((current, wanted))
}

async fn launch(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let (app_id, app_name) = (
        d.app_id.clone().unwrap_or_default(),
        d.app_name.clone().unwrap_or_default(),
    );
    let sha = d.sha.clone().unwrap_or_default();
    // A confirmation may have taken minutes: the stage may have been locked since.
    let stage = d.stage.clone().unwrap_or_default();
    refuse_if_locked(app, d, &stage, &app_name, now).await?;
    take_lock(app, d, (&app_id, &app_name), &sha, now).await?;
    d.release_id = Some(match existing(app, d, tokens, &app_name).await? {
        Some(release_id) => release_id,
        None => create(app, d, tokens, &app_name).await?,
    });
    d.two_factor_code = None;
    let repo = d.repo.as_deref().and_then(|r| r.parse::<RepoName>().ok());
    let notes = notes::takes_out(app, tokens, d, repo.as_ref()).await;
    enter(d, DeployState::Releasing, now);
    Ok(Outcome {
        posts: vec![
            (
                MessageKind::Parent,
                messages::parent(d, Chapter::Started, now),
            ),
            (MessageKind::Reply, notes.post()),
            (
                MessageKind::Reply,
                messages::reply(d, Chapter::Started, now),
            ),
            (
                MessageKind::Reply,
                messages::reply(d, Chapter::Releasing, now),
            ),
        ],
        ..Outcome::default()
    })
}

/// The rollback release an interrupted launch created, if any.
async fn existing(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    app_name: &str,
) -> Result<Option<String>, StepError> {
    let releases = app
        .heroku
        .releases(tokens.heroku, app_name, RECENT_RELEASES)
        .await
        .map_err(|e| StepError::from_heroku("list releases", e))?;
    let description = format!("Rollback to v{}", d.source_version.unwrap_or_default());
    let replaced = d.replaced_version.unwrap_or_default();
    Ok(releases
        .into_iter()
        .find(|r| r.version as i64 > replaced && r.description == description)
        .map(|release| release.id))
}

/// `POST /apps/{app}/releases {"release": <id of vN>}`.
async fn create(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    app_name: &str,
) -> Result<String, StepError> {
    let version = d.source_version.unwrap_or_default();
    let wanted = app
        .heroku
        .release(tokens.heroku, app_name, &version.to_string())
        .await
        .map_err(|e| StepError::from_heroku("read the release to restore", e))?;
    let code = two_factor_code(app, d);
    match app
        .heroku
        .rollback(
            tokens.heroku,
            app_name,
            &wanted.id,
            code.as_ref().map(|c| c.expose_secret()),
        )
        .await
    {
        Ok(release) => Ok(release.id),
        Err(error) if error.is_two_factor() => {
            let stage = d.stage.as_deref().unwrap_or("production");
            let retry = format!("/h rollback {} in {stage} to v{version}", d.pipeline);
            Err(two_factor_refusal(app_name, code.is_some(), &retry))
        }
        Err(error) => Err(StepError::from_heroku("roll back", error)),
    }
}
