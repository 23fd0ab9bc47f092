//! The outbox: Slack posts stored in the same transaction as the state change they
//! announce, then delivered in order per thread until Slack has them.

use anyhow::Context;
use sqlx::AnyConnection;

use super::{Backend, Store};

/// What a message does in its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// The thread's parent, posted to the channel.
    Parent,
    /// A reply under the parent.
    Reply,
    /// Replaces the parent's content.
    UpdateParent,
    /// An ephemeral answer through the command's `response_url`.
    Response,
}

impl MessageKind {
    fn as_str(self) -> &'static str {
        match self {
            MessageKind::Parent => "parent",
            MessageKind::Reply => "reply",
            MessageKind::UpdateParent => "update",
            MessageKind::Response => "response",
        }
    }

    fn parse(kind: &str) -> anyhow::Result<MessageKind> {
        Ok(match kind {
            "parent" => MessageKind::Parent,
            "reply" => MessageKind::Reply,
            "update" => MessageKind::UpdateParent,
            "response" => MessageKind::Response,
            other => anyhow::bail!("unknown outbox message kind {other:?}"),
        })
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Messages of one thread go out in the order they were stored.
    pub thread_key: String,
    pub team_id: String,
    pub channel_id: String,
    pub kind: MessageKind,
    /// JSON the deliverer understands (text, blocks, broadcast, response URL).
    pub body: String,
}

/// A message leased for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: i64,
    pub attempts: i64,
    /// How many times it was claimed, this time included. Above one, an earlier
    /// deliverer (perhaps one that crashed mid-call) may already have posted it.
    pub claims: i64,
    /// When it was queued (Unix milliseconds): a lost post is no older.
    pub created_at: i64,
    pub message: NewMessage,
}

#[derive(sqlx::FromRow)]
struct QueuedRow {
    id: i64,
    thread_key: String,
    team_id: String,
    channel_id: String,
    kind: String,
    body: String,
    attempts: i64,
    claims: i64,
    created_at: i64,
}

/// Stores `messages` on `conn` (inside the caller's transaction), each ready at once
/// unless an earlier message of its thread holds it back.
pub async fn insert_messages(
    conn: &mut AnyConnection,
    messages: &[NewMessage],
    now: i64,
) -> anyhow::Result<()> {
    for message in messages {
        lock_thread(conn, &message.thread_key).await?;
        sqlx::query(
            "INSERT INTO outbox (thread_key, team_id, channel_id, kind, body, state, attempts, \
             next_attempt_at, created_at, ready) SELECT $1, $2, $3, $4, $5, 'pending', 0, $6, $6, \
             CASE WHEN EXISTS (SELECT 1 FROM outbox e WHERE e.thread_key = $1 \
             AND e.state = 'pending' AND ($4 <> 'update' OR e.kind <> 'reply')) THEN 0 ELSE 1 END",
        )
        .bind(&message.thread_key)
        .bind(&message.team_id)
        .bind(&message.channel_id)
        .bind(message.kind.as_str())
        .bind(&message.body)
        .bind(now)
        .execute(&mut *conn)
        .await
        .context("cannot queue a Slack message")?;
    }
    Ok(())
}

/// Holds `thread_key`'s row until the transaction ends. Whoever adds or finishes a
/// message of the thread takes it first, so readiness is always decided on the
/// thread as it is, never on a snapshot another transaction is changing.
async fn lock_thread(conn: &mut AnyConnection, thread_key: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO outbox_threads (thread_key) VALUES ($1) \
         ON CONFLICT (thread_key) DO UPDATE SET thread_key = excluded.thread_key",
    )
    .bind(thread_key)
    .execute(&mut *conn)
    .await
    .context("cannot lock the message's thread")?;
    Ok(())
}

/// Marks ready the messages of `thread_key` that nothing holds back any more: no
/// earlier pending message, except that an update of the parent does not wait for
/// replies (the parent shows the latest state at once; replies follow in order).
async fn mark_ready(conn: &mut AnyConnection, thread_key: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET ready = 1 WHERE thread_key = $1 AND state = 'pending' \
         AND ready = 0 AND NOT EXISTS (SELECT 1 FROM outbox e \
         WHERE e.thread_key = outbox.thread_key AND e.state = 'pending' AND e.id < outbox.id \
         AND (outbox.kind <> 'update' OR e.kind <> 'reply'))",
    )
    .bind(thread_key)
    .execute(&mut *conn)
    .await
    .context("cannot mark the thread's next message ready")?;
    Ok(())
}

impl Store {
    /// Leases up to `limit` due messages that are their thread's turn (`ready`): a
    /// thread's later messages wait until its earlier ones are sent. Found through the
    /// `outbox_ready` index, so a claim costs the same with ten queued messages or
    /// ten thousand.
    pub async fn claim_messages(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<QueuedMessage>> {
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_until = $1, claims = claims + 1 WHERE id IN (\
             SELECT id FROM outbox WHERE state = 'pending' AND ready = 1 \
             AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2) \
             ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
             RETURNING id, thread_key, team_id, channel_id, kind, body, attempts, claims, created_at"
        );
        let rows: Vec<QueuedRow> = sqlx::query_as(&sql)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .context("cannot claim Slack messages")?;
        rows.into_iter()
            .map(|row| {
                Ok(QueuedMessage {
                    id: row.id,
                    attempts: row.attempts,
                    claims: row.claims,
                    created_at: row.created_at,
                    message: NewMessage {
                        kind: MessageKind::parse(&row.kind)?,
                        thread_key: row.thread_key,
                        team_id: row.team_id,
                        channel_id: row.channel_id,
                        body: row.body,
                    },
                })
            })
            .collect()
    }

    /// Marks a message delivered, and readies its thread's next; a parent's `ts`
    /// becomes its thread's.
    pub async fn message_sent(
        &self,
        queued: &QueuedMessage,
        ts: Option<&str>,
    ) -> anyhow::Result<()> {
        let thread_key = &queued.message.thread_key;
        let mut tx = self.pool.begin().await.context("cannot begin")?;
        lock_thread(&mut tx, thread_key).await?;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_ts = $1, lease_until = NULL WHERE id = $2",
        )
        .bind(ts)
        .bind(queued.id)
        .execute(&mut *tx)
        .await
        .context("cannot mark a Slack message sent")?;
        if let (MessageKind::Parent, Some(ts)) = (queued.message.kind, ts) {
            sqlx::query(
                "INSERT INTO threads (thread_key, channel_id, parent_ts) VALUES ($1, $2, $3) \
                 ON CONFLICT (thread_key) DO NOTHING",
            )
            .bind(thread_key)
            .bind(&queued.message.channel_id)
            .bind(ts)
            .execute(&mut *tx)
            .await
            .context("cannot remember the thread's parent")?;
        }
        mark_ready(&mut tx, thread_key).await?;
        tx.commit().await.context("cannot commit a sent message")
    }

    /// Extends the lease of a message being sent; `false` once it is no longer pending.
    pub async fn renew_message_lease(&self, id: i64, until: i64) -> anyhow::Result<bool> {
        let renewed =
            sqlx::query("UPDATE outbox SET lease_until = $1 WHERE id = $2 AND state = 'pending'")
                .bind(until)
                .bind(id)
                .execute(&self.pool)
                .await
                .context("cannot renew a message lease")?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Puts a message back for another try at `next_attempt_at`.
    pub async fn message_retry(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, error = $2, \
             lease_until = NULL WHERE id = $3",
        )
        .bind(next_attempt_at)
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await
        .context("cannot reschedule a Slack message")?;
        Ok(())
    }

    /// Puts a message back for `next_attempt_at` without it having reached Slack (paced,
    /// or its parent not posted yet): the claim is given back, so its next send is not
    /// taken for a retry that must first look in Slack for an earlier copy.
    pub async fn message_deferred(
        &self,
        id: i64,
        next_attempt_at: i64,
        reason: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET claims = claims - 1, next_attempt_at = $1, error = $2, \
             lease_until = NULL WHERE id = $3",
        )
        .bind(next_attempt_at)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await
        .context("cannot defer a Slack message")?;
        Ok(())
    }

    /// Gives up on a message Slack refuses for good (`channel_not_found`, ...), or one
    /// made pointless by a newer one (`superseded`), and readies its thread's next.
    pub async fn message_abandoned(
        &self,
        queued: &QueuedMessage,
        state: &str,
        error: &str,
    ) -> anyhow::Result<()> {
        let thread_key = &queued.message.thread_key;
        let mut tx = self.pool.begin().await.context("cannot begin")?;
        lock_thread(&mut tx, thread_key).await?;
        sqlx::query("UPDATE outbox SET state = $1, error = $2, lease_until = NULL WHERE id = $3")
            .bind(state)
            .bind(error)
            .bind(queued.id)
            .execute(&mut *tx)
            .await
            .context("cannot abandon a Slack message")?;
        mark_ready(&mut tx, thread_key).await?;
        tx.commit()
            .await
            .context("cannot commit an abandoned message")
    }

    /// Whether a later update of the same parent is already queued, making this one
    /// pointless: the parent only ever shows the latest state.
    pub async fn has_newer_update(&self, queued: &QueuedMessage) -> anyhow::Result<bool> {
        let newer: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE thread_key = $1 AND kind = 'update' \
             AND state = 'pending' AND id > $2",
        )
        .bind(&queued.message.thread_key)
        .bind(queued.id)
        .fetch_one(&self.pool)
        .await
        .context("cannot look for newer updates")?;
        Ok(newer > 0)
    }

    /// The channel and `ts` of a thread's parent, once posted.
    pub async fn thread_parent(
        &self,
        thread_key: &str,
    ) -> anyhow::Result<Option<(String, String)>> {
        sqlx::query_as("SELECT channel_id, parent_ts FROM threads WHERE thread_key = $1")
            .bind(thread_key)
            .fetch_optional(&self.pool)
            .await
            .context("cannot read the thread's parent")
    }

    /// How many messages are waiting (metrics, tests).
    pub async fn pending_messages(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await
            .context("cannot count pending Slack messages")
    }
}
