//! Who opened the bot's App Home tab and whether its view is owed: the durable half of
//! the Home dashboard (the `home` feature decides what it shows). Several processes
//! share the table; claiming an owed view is a conditional update, so one publishes it.
//! Times are Unix milliseconds, like deploys'.

use anyhow::Context;
use sqlx::Acquire;

use super::Store;
use super::deploys::{COLUMNS, DeployRow};

/// One person's Home tab, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HomeTab {
    pub team_id: String,
    pub user_id: String,
    pub opened_at: i64,
    /// Set while a publish is owed: when it was first wished for.
    pub wanted_at: Option<i64>,
    /// When the last publish started.
    pub tried_at: Option<i64>,
}

/// An `app_home_opened` event as the handler accepts it.
#[derive(Debug, Clone, Copy)]
pub struct HomeOpening<'a> {
    /// The event's Slack signature, claimed in the same transaction.
    pub signature: &'a str,
    /// When the signature was verified (Unix seconds, as signatures are kept).
    pub signed_at: i64,
    pub team_id: &'a str,
    pub user_id: &'a str,
    pub now: i64,
}

impl Store {
    /// Claims the event's signature and records that the person opened Home, owing
    /// them a publish. `false` (and nothing written) for a replayed signature.
    pub async fn home_opened(&self, opening: HomeOpening<'_>) -> anyhow::Result<bool> {
        let mut conn = (self.pool.acquire().await).context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let claimed = sqlx::query(
            "INSERT INTO seen_signatures (signature, seen_at) VALUES ($1, $2) \
             ON CONFLICT (signature) DO NOTHING",
        )
        .bind(opening.signature)
        .bind(opening.signed_at)
        .execute(&mut *tx)
        .await
        .context("cannot record the request signature")?;
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO home_tabs (team_id, user_id, opened_at, wanted_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (team_id, user_id) DO UPDATE SET opened_at = excluded.opened_at, \
             wanted_at = COALESCE(home_tabs.wanted_at, excluded.wanted_at)",
        )
        .bind(opening.team_id)
        .bind(opening.user_id)
        .bind(opening.now)
        .execute(&mut *tx)
        .await
        .context("cannot record the Home opening")?;
        tx.commit()
            .await
            .context("cannot commit the Home opening")?;
        Ok(true)
    }

    /// Owes a publish to everyone who opened Home since `opened_since` and whose last
    /// publish started no later than a change in their workspace: a deploy created,
    /// moved to its next step or finished, or a lock taken, released or expired.
    pub async fn mark_changed_homes(&self, opened_since: i64, now: i64) -> anyhow::Result<u64> {
        let marked = sqlx::query(
            "UPDATE home_tabs SET wanted_at = $2 \
             WHERE wanted_at IS NULL AND tried_at IS NOT NULL AND opened_at >= $1 AND ( \
               EXISTS (SELECT 1 FROM deploys d WHERE d.team_id = home_tabs.team_id AND ( \
                 d.created_at >= home_tabs.tried_at OR d.stage_started_at >= home_tabs.tried_at \
                 OR d.finished_at >= home_tabs.tried_at)) \
               OR EXISTS (SELECT 1 FROM lock_events l WHERE l.team_id = home_tabs.team_id \
                 AND l.at >= home_tabs.tried_at))",
        )
        .bind(opened_since)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("cannot mark changed Home tabs")?;
        Ok(marked.rows_affected())
    }

    /// Owed Home tabs whose last publish started before `tried_before`, oldest wish
    /// first.
    pub async fn due_homes(&self, tried_before: i64, limit: i64) -> anyhow::Result<Vec<HomeTab>> {
        sqlx::query_as(
            "SELECT team_id, user_id, opened_at, wanted_at, tried_at FROM home_tabs \
             WHERE wanted_at IS NOT NULL AND (tried_at IS NULL OR tried_at < $1) \
             ORDER BY wanted_at LIMIT $2",
        )
        .bind(tried_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the Home tabs to publish")
    }

    /// Takes an owed Home tab to publish at `now`; `false` when another process took it.
    pub async fn claim_home(&self, tab: &HomeTab, now: i64) -> anyhow::Result<bool> {
        let claimed = sqlx::query(
            "UPDATE home_tabs SET wanted_at = NULL, tried_at = $3 \
             WHERE team_id = $1 AND user_id = $2 AND wanted_at = $4",
        )
        .bind(&tab.team_id)
        .bind(&tab.user_id)
        .bind(now)
        .bind(tab.wanted_at)
        .execute(&self.pool)
        .await
        .context("cannot claim a Home tab")?;
        Ok(claimed.rows_affected() == 1)
    }

    /// A publish that failed: owed again, from when it was first wished for.
    pub async fn home_still_owed(&self, tab: &HomeTab) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE home_tabs SET wanted_at = COALESCE(wanted_at, $3) \
             WHERE team_id = $1 AND user_id = $2",
        )
        .bind(&tab.team_id)
        .bind(&tab.user_id)
        .bind(tab.wanted_at)
        .execute(&self.pool)
        .await
        .context("cannot mark a Home tab owed again")?;
        Ok(())
    }

    /// One person's Home tab, if they ever opened it.
    pub async fn home_tab(&self, team_id: &str, user_id: &str) -> anyhow::Result<Option<HomeTab>> {
        sqlx::query_as(
            "SELECT team_id, user_id, opened_at, wanted_at, tried_at FROM home_tabs \
             WHERE team_id = $1 AND user_id = $2",
        )
        .bind(team_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read a Home tab")
    }

    /// Whether the bot has heard of `team_id`: an install, a linked person or a
    /// command from it. Events from any other workspace are not acted on.
    pub async fn team_known(&self, team_id: &str) -> anyhow::Result<bool> {
        let known: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM workspaces WHERE team_id = $1) \
             + (SELECT COUNT(*) FROM users WHERE team_id = $1) \
             + (SELECT COUNT(*) FROM commands WHERE team_id = $1)",
        )
        .bind(team_id)
        .fetch_one(&self.pool)
        .await
        .context("cannot tell whether the workspace is known")?;
        Ok(known > 0)
    }

    /// A team's deploys that have started and not finished (those waiting in line are
    /// the queue's), oldest first.
    pub async fn running_deploys(&self, team_id: &str) -> anyhow::Result<Vec<DeployRow>> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM deploys WHERE team_id = $1 AND finished_at IS NULL \
             AND state <> 'queued' ORDER BY created_at, id"
        ))
        .bind(team_id)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the running deploys")
    }
}
