//! The deploy queue: each app's line of `queued` deploy rows, oldest `queued_at` first.
//! A turn is taken in one transaction with the app's deploy lock, whose primary key
//! lets one deploy hold an app however many processes try, and only the head of the
//! line may take it, so no entry starts twice and none is skipped.

use anyhow::Context;
use sqlx::{Acquire, AnyConnection};

use super::Store;
use super::deploys::{COLUMNS, DeployRow};
use super::outbox::{NewMessage, insert_messages};

/// One deploy waiting in an app's line (what `/h queue` and the App Home show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub deploy_id: i64,
    /// 1 for the next to start.
    pub position: usize,
    pub user_id: String,
    pub pipeline: String,
    /// As typed; `None` is the repository's default branch, read when it starts.
    pub branch: Option<String>,
    pub app_name: Option<String>,
    /// Unix milliseconds.
    pub queued_at: i64,
}

impl Store {
    /// The line of `app_id` in `team_id`, next first.
    pub async fn queue_of_app(
        &self,
        team_id: &str,
        app_id: &str,
    ) -> anyhow::Result<Vec<QueueEntry>> {
        let rows: Vec<DeployRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM deploys WHERE state = 'queued' AND app_id = $1 \
             ORDER BY queued_at, id"
        ))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the app's queue")?;
        // Positions count every workspace's entries: the line is the app's.
        Ok(rows
            .into_iter()
            .enumerate()
            .filter(|(_, row)| row.team_id == team_id)
            .map(|(at, row)| QueueEntry {
                deploy_id: row.id,
                position: at + 1,
                user_id: row.user_id,
                pipeline: row.pipeline,
                branch: row.branch,
                app_name: row.app_name,
                queued_at: row.queued_at.unwrap_or(row.created_at),
            })
            .collect())
    }

    /// The queued deploys of `user_id` in `pipeline` of `team_id`, oldest first.
    pub async fn queued_deploys_of(
        &self,
        team_id: &str,
        pipeline: &str,
        user_id: &str,
    ) -> anyhow::Result<Vec<DeployRow>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM deploys WHERE state = 'queued' AND team_id = $1 \
             AND pipeline = $2 AND user_id = $3 ORDER BY queued_at, id"
        ))
        .bind(team_id)
        .bind(pipeline)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the queued deploys")
    }

    /// `queued` -> `requested` for `d` if it heads its app's line and the app's deploy
    /// lock is free (it is then taken for `d`, sha unknown yet), or already `d`'s.
    /// `false` when it is not its turn.
    pub async fn take_turn(&self, d: &DeployRow, now: i64) -> anyhow::Result<bool> {
        let app_id = d.app_id.as_deref().context("a queued deploy has an app")?;
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let head: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM deploys WHERE state = 'queued' AND app_id = $1 \
             ORDER BY queued_at, id LIMIT 1",
        )
        .bind(app_id)
        .fetch_optional(&mut *tx)
        .await
        .context("cannot read the head of the queue")?;
        let held_by = holder(&mut tx, app_id).await?;
        let mine = held_by == Some(d.id);
        if !mine && (held_by.is_some() || head != Some(d.id)) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO app_locks (app_id, deploy_id, app_name, user_id, sha, since) \
             VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (app_id) DO NOTHING",
        )
        .bind(app_id)
        .bind(d.id)
        .bind(d.app_name.as_deref().unwrap_or_default())
        .bind(&d.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("cannot take the app lock")?;
        let moved = sqlx::query(
            "UPDATE deploys SET state = 'requested', stage_started_at = $1, next_check_at = $1 \
             WHERE id = $2 AND state = 'queued'",
        )
        .bind(now)
        .bind(d.id)
        .execute(&mut *tx)
        .await
        .context("cannot start the queued deploy")?;
        // Another process took this lock or this row first: the transaction's writes go.
        if holder(&mut tx, app_id).await? != Some(d.id) || moved.rows_affected() != 1 {
            return Ok(false);
        }
        tx.commit().await.context("cannot commit the turn")?;
        Ok(true)
    }

    /// Ends the queued deploy `id` (taken out, or expired) with `reason`, and queues
    /// `told` with it. The lease is dropped, so a step running on the row cannot save
    /// it back into the line. `false` when it was no longer queued.
    pub async fn leave_queue(
        &self,
        id: i64,
        now: i64,
        reason: &str,
        told: &[NewMessage],
    ) -> anyhow::Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let left = sqlx::query(
            "UPDATE deploys SET state = 'failed', failure = $1, finished_at = $2, \
             lease_owner = NULL, lease_until = NULL WHERE id = $3 AND state = 'queued'",
        )
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("cannot take the deploy out of the queue")?;
        if left.rows_affected() != 1 {
            return Ok(false);
        }
        insert_messages(&mut tx, told, now).await?;
        tx.commit()
            .await
            .context("cannot commit leaving the queue")?;
        self.committed(told);
        Ok(true)
    }

    /// Makes the queued deploys of a stage (of one app of it when `app_name` is not
    /// empty) due now: a lock there ended.
    pub async fn wake_queue_of_stage(
        &self,
        team_id: &str,
        pipeline: &str,
        stage: &str,
        app_name: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE deploys SET next_check_at = $1 WHERE state = 'queued' AND team_id = $2 \
             AND pipeline = $3 AND stage = $4 AND ($5 = '' OR app_name = $5) AND next_check_at > $1",
        )
        .bind(now)
        .bind(team_id)
        .bind(pipeline)
        .bind(stage)
        .bind(app_name)
        .execute(&self.pool)
        .await
        .context("cannot wake the queue")?;
        Ok(())
    }
}

/// Makes `app_id`'s line due now (its deploy lock was released).
pub(super) async fn wake_line(
    conn: &mut AnyConnection,
    app_id: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    let Some(app_id) = app_id else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE deploys SET next_check_at = $1 WHERE state = 'queued' AND app_id = $2 \
         AND next_check_at > $1",
    )
    .bind(now)
    .bind(app_id)
    .execute(&mut *conn)
    .await
    .context("cannot wake the app's queue")?;
    Ok(())
}

async fn holder(conn: &mut AnyConnection, app_id: &str) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT deploy_id FROM app_locks WHERE app_id = $1")
        .bind(app_id)
        .fetch_optional(&mut *conn)
        .await
        .context("cannot read the app lock")
}
