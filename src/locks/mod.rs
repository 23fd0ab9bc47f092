//! Sticky stage locks: `/h lock <pipeline> <stage>[/<app>] [for 2h] [reason]` and
//! `/h unlock[!] ...`. A lock stops deploys, promotions and rollbacks into the stage
//! (or the one app) until its owner unlocks it, someone forces it open with
//! `unlock!`, or it expires; an expiry is announced once in the channel where the lock
//! was set ([`sweep`]). Locks and their events live in the store (`stage_locks`,
//! `lock_events`), so `/h history` can tell them.
//!
//! # For the commands that change a stage
//!
//! Call [`refusal`] before anything is created; it returns the complete answer when
//! the stage is locked. Call [`lock_after_rollback`] once a rollback succeeded.

mod lock_unlock;
pub mod sweep;

use crate::bot::Bot;
use crate::chat::clock_time;
use crate::store::{DeployRow, StageLock};

pub use lock_unlock::{lock, unlock};

/// What a change of a stage is, for [`refusal`].
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub team_id: &'a str,
    pub pipeline: &'a str,
    /// Heroku's stage name, e.g. `production`.
    pub stage: &'a str,
    /// The app changed, when known (a lock of another app of the stage does not apply).
    pub app_name: Option<&'a str>,
    /// Who asks.
    pub user_id: &'a str,
    /// Typed with `!`: goes ahead through the asker's own lock (never someone else's).
    pub forced: bool,
    /// Unix milliseconds.
    pub now: i64,
}

impl<'a> Change<'a> {
    /// What deploy `d` (a deploy, promotion or rollback) changes: `app_name` of `stage`.
    pub fn by(d: &'a DeployRow, stage: &'a str, app_name: &'a str, now: i64) -> Change<'a> {
        Change {
            team_id: &d.team_id,
            pipeline: &d.pipeline,
            stage,
            app_name: Some(app_name),
            user_id: &d.user_id,
            forced: d.forced,
            now,
        }
    }
}

/// Why `change` may not happen, or `None` when no lock stops it. A lock stops
/// everyone, its owner included unless they forced the change with `!`. Database
/// errors are returned, so the caller retries instead of ignoring a lock.
pub async fn refusal(app: &Bot, change: Change<'_>) -> anyhow::Result<Option<String>> {
    Ok(blocking(app, change).await?.map(|(_, refusal)| refusal))
}

/// The lock that stops `change`, with the refusal [`refusal`] answers.
pub async fn blocking(
    app: &Bot,
    change: Change<'_>,
) -> anyhow::Result<Option<(StageLock, String)>> {
    let Some(lock) = lock_on(app, change).await? else {
        return Ok(None);
    };
    let target = target_of(&lock);
    if lock.owner_id != change.user_id {
        let refusal = format!(
            "{}. Ask <@{}>, or remove the lock with `/h unlock! {target}` (the channel is told).",
            describe(&lock),
            lock.owner_id
        );
        return Ok(Some((lock, refusal)));
    }
    if change.forced {
        return Ok(None);
    }
    let refusal = format!(
        "{} (your lock). Add `!` to the command to go ahead anyway, or `/h unlock {target}` first.",
        describe(&lock)
    );
    Ok(Some((lock, refusal)))
}

/// The lock in force on the stage (or app) `change` is about, whoever asks.
pub async fn lock_on(app: &Bot, change: Change<'_>) -> anyhow::Result<Option<StageLock>> {
    let locks = app
        .store
        .stage_locks(change.team_id, change.pipeline, change.stage)
        .await?;
    let applies = |lock: &StageLock| {
        lock.expires_at.is_none_or(|end| end > change.now)
            && (lock.app_name.is_empty() || Some(lock.app_name.as_str()) == change.app_name)
    };
    Ok(locks.into_iter().find(applies))
}

/// Makes the deploys queued behind `lock` due now: it ended.
pub(crate) async fn wake_queue(app: &Bot, lock: &StageLock, now: i64) {
    let woken = app
        .store
        .wake_queue_of_stage(
            &lock.team_id,
            &lock.pipeline,
            &lock.stage,
            &lock.app_name,
            now,
        )
        .await;
    match woken {
        Ok(()) => app.wakeups.deploys.notify_one(),
        // The queue still moves at the next poll.
        Err(error) => tracing::warn!(error = format!("{error:#}"), "cannot wake the queue"),
    }
}

/// What [`lock_after_rollback`] needs.
#[derive(Debug, Clone, Copy)]
pub struct RolledBack<'a> {
    pub team_id: &'a str,
    /// Where the rollback was asked for: the lock's notices go there.
    pub channel_id: &'a str,
    pub pipeline: &'a str,
    pub stage: &'a str,
    /// `None` locks the whole stage.
    pub app_name: Option<&'a str>,
    pub user_id: &'a str,
    /// The version that ran before the rollback.
    pub from_version: u64,
    /// Unix milliseconds.
    pub now: i64,
}

/// Locks the stage after a rollback (owner: whoever rolled back, no expiry), so the
/// reverted change is not deployed again by accident. Repeating it is harmless; a
/// lock someone else holds is kept.
pub async fn lock_after_rollback(app: &Bot, rolled_back: RolledBack<'_>) -> anyhow::Result<()> {
    let lock = StageLock {
        team_id: rolled_back.team_id.into(),
        pipeline: rolled_back.pipeline.into(),
        stage: rolled_back.stage.into(),
        app_name: rolled_back.app_name.unwrap_or_default().into(),
        owner_id: rolled_back.user_id.into(),
        channel_id: rolled_back.channel_id.into(),
        reason: Some(format!(
            "rolled back from v{}: revert before deploying",
            rolled_back.from_version
        )),
        since: rolled_back.now,
        expires_at: None,
    };
    app.store.take_stage_lock(&lock).await?;
    Ok(())
}

/// `paipu production` or `paipu staging/app2`: the lock's target as typed.
fn target_of(lock: &StageLock) -> String {
    if lock.app_name.is_empty() {
        format!("{} {}", lock.pipeline, lock.stage)
    } else {
        format!("{} {}/{}", lock.pipeline, lock.stage, lock.app_name)
    }
}

/// `paipu production is locked by <@U0BOB> since 14:02 UTC (until 16:02 UTC): release freeze`
fn describe(lock: &StageLock) -> String {
    let mut text = format!(
        "{} is locked by <@{}> since {} UTC",
        target_of(lock),
        lock.owner_id,
        clock_time(lock.since)
    );
    if let Some(end) = lock.expires_at {
        text.push_str(&format!(" (until {} UTC)", clock_time(end)));
    }
    if let Some(reason) = &lock.reason {
        text.push_str(&format!(": {reason}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock() -> StageLock {
        StageLock {
            team_id: "T1".into(),
            pipeline: "paipu".into(),
            stage: "production".into(),
            app_name: String::new(),
            owner_id: "U0BOB".into(),
            channel_id: "C1".into(),
            reason: Some("release freeze".into()),
            since: (14 * 60 + 2) * 60_000,
            expires_at: Some((16 * 60 + 2) * 60_000),
        }
    }

    #[test]
    fn a_lock_reads_with_owner_times_and_reason() {
        assert_eq!(
            describe(&lock()),
            "paipu production is locked by <@U0BOB> since 14:02 UTC (until 16:02 UTC): release freeze"
        );
        let app_lock = StageLock {
            app_name: "app2".into(),
            reason: None,
            expires_at: None,
            ..lock()
        };
        assert_eq!(
            describe(&app_lock),
            "paipu production/app2 is locked by <@U0BOB> since 14:02 UTC"
        );
    }
}
