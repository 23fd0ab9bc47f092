//! Production confirmations: a deploy waiting in `confirming` until its requester
//! presses Deploy or Cancel, or its time runs out. Each answer is one conditional
//! update (so a button works once, and not after expiry) written with the message
//! that tells it; it drops the row's lease, so a step running on the row meanwhile
//! (woken by a webhook) cannot save the old state over the answer.

use anyhow::Context;
use sqlx::Acquire;

use super::Store;
use super::outbox::{NewMessage, insert_messages};

impl Store {
    /// `confirming` -> `requested` (confirmed, due now), if still confirming and not
    /// expired at `now`; queues `answer` with it. `false` when the button is spent.
    pub async fn confirm_deploy(
        &self,
        id: i64,
        now: i64,
        answer: &NewMessage,
    ) -> anyhow::Result<bool> {
        self.answer_confirmation(
            "UPDATE deploys SET state = 'requested', confirmed = 1, confirm_expires_at = NULL, \
             next_check_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE id = $2 AND state = 'confirming' AND confirm_expires_at > $1",
            (id, now, None),
            answer,
        )
        .await
    }

    /// `confirming` -> `failed` with `reason`, if still confirming; queues `answer`.
    pub async fn cancel_deploy(
        &self,
        id: i64,
        now: i64,
        reason: &str,
        answer: &NewMessage,
    ) -> anyhow::Result<bool> {
        self.answer_confirmation(
            "UPDATE deploys SET state = 'failed', failure = $3, finished_at = $1, \
             confirm_expires_at = NULL, lease_owner = NULL, lease_until = NULL \
             WHERE id = $2 AND state = 'confirming'",
            (id, now, Some(reason)),
            answer,
        )
        .await
    }

    async fn answer_confirmation(
        &self,
        sql: &str,
        (id, now, reason): (i64, i64, Option<&str>),
        answer: &NewMessage,
    ) -> anyhow::Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let mut query = sqlx::query(sql).bind(now).bind(id);
        if let Some(reason) = reason {
            query = query.bind(reason);
        }
        let updated = query
            .execute(&mut *tx)
            .await
            .context("cannot answer the confirmation")?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        insert_messages(&mut tx, std::slice::from_ref(answer), now).await?;
        tx.commit().await.context("cannot commit the answer")?;
        self.committed(std::slice::from_ref(answer));
        Ok(true)
    }

    /// Queues `messages` on their own (answers that change nothing else), in one
    /// transaction: each is queued with its thread held (`outbox::insert_messages`).
    pub async fn queue_messages(&self, messages: &[NewMessage], now: i64) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await.context("cannot begin")?;
        insert_messages(&mut tx, messages, now).await?;
        tx.commit()
            .await
            .context("cannot commit the queued messages")?;
        self.committed(messages);
        Ok(())
    }
}
