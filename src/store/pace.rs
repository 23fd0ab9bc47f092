//! Slack's pace kept in the database, so every process books from the same token
//! buckets (`slack_pace`): N processes together send no faster than one.

use anyhow::Context;

use super::Store;

/// A token bucket's level, as the pacer computes it (`src/slack/pacer.rs`).
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct PaceLevel {
    pub tokens: f64,
    /// When `tokens` was last brought up to date (Unix ms).
    pub refilled_at: i64,
    /// The next slot not yet promised to a waiting message (Unix ms).
    pub free_slot: i64,
}

impl Store {
    /// Changes bucket `bucket` with `change`, which gets its level (`initial` if it is
    /// new) and returns the new level and an answer. The bucket's row is locked from
    /// the read to the write, so two processes never spend the same token.
    pub async fn change_pace<R>(
        &self,
        bucket: &str,
        initial: PaceLevel,
        change: impl FnOnce(PaceLevel) -> (PaceLevel, R),
    ) -> anyhow::Result<R> {
        let mut tx = self.pool.begin().await.context("cannot begin")?;
        // An upsert that changes nothing still locks the row, and returns it.
        let level: PaceLevel = sqlx::query_as(
            "INSERT INTO slack_pace (bucket, tokens, refilled_at, free_slot) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (bucket) DO UPDATE SET bucket = excluded.bucket \
             RETURNING tokens, refilled_at, free_slot",
        )
        .bind(bucket)
        .bind(initial.tokens)
        .bind(initial.refilled_at)
        .bind(initial.free_slot)
        .fetch_one(&mut *tx)
        .await
        .context("cannot read Slack's pace")?;
        let (level, answer) = change(level);
        sqlx::query(
            "UPDATE slack_pace SET tokens = $1, refilled_at = $2, free_slot = $3 WHERE bucket = $4",
        )
        .bind(level.tokens)
        .bind(level.refilled_at)
        .bind(level.free_slot)
        .bind(bucket)
        .execute(&mut *tx)
        .await
        .context("cannot book Slack's pace")?;
        tx.commit().await.context("cannot commit Slack's pace")?;
        Ok(answer)
    }
}
