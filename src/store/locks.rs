//! Sticky stage locks (`/h lock`) and their audit events. Every change of a lock and
//! its event (and, for an expiry, its Slack notice) are written in one transaction.

use anyhow::Context;
use sqlx::{Acquire, AnyConnection};

use super::Store;
use super::outbox::{NewMessage, insert_messages};

/// A stage (or one app of it) and its lock. `app_name` is empty for the whole stage.
/// Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StageLock {
    pub team_id: String,
    pub pipeline: String,
    pub stage: String,
    pub app_name: String,
    pub owner_id: String,
    pub channel_id: String,
    pub reason: Option<String>,
    pub since: i64,
    pub expires_at: Option<i64>,
}

/// One line of the lock audit trail.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LockEvent {
    pub stage: String,
    pub app_name: String,
    /// `locked`, `unlocked` or `expired`.
    pub action: String,
    pub actor_id: Option<String>,
    pub owner_id: String,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub forced: i64,
    pub at: i64,
}

const LOCK_COLUMNS: &str =
    "team_id, pipeline, stage, app_name, owner_id, channel_id, reason, since, expires_at";

impl Store {
    /// Sets `lock` unless someone else holds that stage (or app): the holder's lock
    /// is returned then. A lock of the same owner is replaced (new reason, expiry).
    pub async fn take_stage_lock(&self, lock: &StageLock) -> anyhow::Result<StageLock> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        // An expired lock is over even before the sweep removes it: it can be taken.
        sqlx::query(
            "INSERT INTO stage_locks (team_id, pipeline, stage, app_name, owner_id, channel_id, \
             reason, since, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (team_id, pipeline, stage, app_name) DO UPDATE SET owner_id = $5, \
             channel_id = $6, reason = $7, since = $8, expires_at = $9 \
             WHERE stage_locks.owner_id = $5 OR stage_locks.expires_at <= $8",
        )
        .bind(&lock.team_id)
        .bind(&lock.pipeline)
        .bind(&lock.stage)
        .bind(&lock.app_name)
        .bind(&lock.owner_id)
        .bind(&lock.channel_id)
        .bind(&lock.reason)
        .bind(lock.since)
        .bind(lock.expires_at)
        .execute(&mut *tx)
        .await
        .context("cannot set the lock")?;
        let holder = read_lock(&mut tx, lock)
            .await?
            .context("the lock vanished")?;
        if holder == *lock {
            insert_event(
                &mut tx,
                lock,
                "locked",
                Some(&lock.owner_id),
                false,
                lock.since,
            )
            .await?;
        }
        tx.commit().await.context("cannot commit the lock")?;
        Ok(holder)
    }

    /// The locks of a team's pipeline stage (whole-stage and per-app).
    pub async fn stage_locks(
        &self,
        team_id: &str,
        pipeline: &str,
        stage: &str,
    ) -> anyhow::Result<Vec<StageLock>> {
        sqlx::query_as(&format!(
            "SELECT {LOCK_COLUMNS} FROM stage_locks WHERE team_id = $1 AND pipeline = $2 \
             AND stage = $3 ORDER BY app_name"
        ))
        .bind(team_id)
        .bind(pipeline)
        .bind(stage)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the stage's locks")
    }

    /// Removes `lock` (as read: a lock replaced since is left alone) and records who
    /// removed it, with `messages` in the same transaction. `false` if it was gone.
    pub async fn remove_stage_lock(
        &self,
        lock: &StageLock,
        removal: LockRemoval<'_>,
    ) -> anyhow::Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let removed = sqlx::query(
            "DELETE FROM stage_locks WHERE team_id = $1 AND pipeline = $2 AND stage = $3 \
             AND app_name = $4 AND owner_id = $5 AND since = $6",
        )
        .bind(&lock.team_id)
        .bind(&lock.pipeline)
        .bind(&lock.stage)
        .bind(&lock.app_name)
        .bind(&lock.owner_id)
        .bind(lock.since)
        .execute(&mut *tx)
        .await
        .context("cannot remove the lock")?;
        if removed.rows_affected() != 1 {
            return Ok(false);
        }
        insert_event(
            &mut tx,
            lock,
            removal.action,
            removal.actor_id,
            removal.forced,
            removal.now,
        )
        .await?;
        insert_messages(&mut tx, removal.messages, removal.now).await?;
        tx.commit().await.context("cannot commit the unlock")?;
        self.committed(removal.messages);
        Ok(true)
    }

    /// Locks whose time is up at `now`, oldest first.
    pub async fn expired_stage_locks(&self, now: i64) -> anyhow::Result<Vec<StageLock>> {
        sqlx::query_as(&format!(
            "SELECT {LOCK_COLUMNS} FROM stage_locks WHERE expires_at <= $1 ORDER BY expires_at"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("cannot read expired locks")
    }

    /// The lock events of a team's pipeline, newest first.
    pub async fn lock_events(
        &self,
        team_id: &str,
        pipeline: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<LockEvent>> {
        sqlx::query_as(
            "SELECT stage, app_name, action, actor_id, owner_id, reason, expires_at, forced, at \
             FROM lock_events WHERE team_id = $1 AND pipeline = $2 ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(team_id)
        .bind(pipeline)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("cannot read lock events")
    }
}

/// How a lock ends: `unlocked` by someone (`forced` when not its owner) or `expired`.
#[derive(Debug, Clone, Copy)]
pub struct LockRemoval<'a> {
    pub action: &'a str,
    pub actor_id: Option<&'a str>,
    pub forced: bool,
    /// Told in the same transaction (the expiry notice).
    pub messages: &'a [NewMessage],
    pub now: i64,
}

async fn read_lock(conn: &mut AnyConnection, key: &StageLock) -> anyhow::Result<Option<StageLock>> {
    sqlx::query_as(&format!(
        "SELECT {LOCK_COLUMNS} FROM stage_locks WHERE team_id = $1 AND pipeline = $2 \
         AND stage = $3 AND app_name = $4"
    ))
    .bind(&key.team_id)
    .bind(&key.pipeline)
    .bind(&key.stage)
    .bind(&key.app_name)
    .fetch_optional(&mut *conn)
    .await
    .context("cannot read the lock")
}

async fn insert_event(
    conn: &mut AnyConnection,
    lock: &StageLock,
    action: &str,
    actor_id: Option<&str>,
    forced: bool,
    at: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO lock_events (team_id, pipeline, stage, app_name, action, actor_id, owner_id, \
         reason, expires_at, forced, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&lock.team_id)
    .bind(&lock.pipeline)
    .bind(&lock.stage)
    .bind(&lock.app_name)
    .bind(action)
    .bind(actor_id)
    .bind(&lock.owner_id)
    .bind(&lock.reason)
    .bind(lock.expires_at)
    .bind(i64::from(forced))
    .bind(at)
    .execute(&mut *conn)
    .await
    .context("cannot record the lock event")?;
    Ok(())
}
