//! Slack request signatures already accepted, so a replayed request is refused by every
//! process sharing the database, not just the one that saw it first.

use anyhow::Context;

use super::Store;

impl Store {
    /// Remembers `signature` as used at `now`. Returns `false` when it was already
    /// there: the request is a replay. The primary key makes this atomic across
    /// processes.
    pub async fn claim_signature(&self, signature: &str, now: i64) -> anyhow::Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO seen_signatures (signature, seen_at) VALUES ($1, $2) \
             ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("cannot record the request signature")?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Forgets signatures seen before `cutoff`: Slack's timestamp window already
    /// refuses those requests, so the rows are no longer needed.
    pub async fn forget_signatures_before(&self, cutoff: i64) -> anyhow::Result<u64> {
        let deleted = sqlx::query("DELETE FROM seen_signatures WHERE seen_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .context("cannot prune old request signatures")?;
        Ok(deleted.rows_affected())
    }

    /// How many signatures are remembered (for tests and metrics).
    pub async fn count_signatures(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM seen_signatures")
            .fetch_one(&self.pool)
            .await
            .context("cannot count request signatures")
    }
}
