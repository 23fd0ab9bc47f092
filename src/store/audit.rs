//! Every `/h` command that passed signature verification: the start of the audit trail.

use anyhow::Context;

use super::Store;

/// A command as it arrived, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommand {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    /// The text after `/h`, exactly as Slack sent it.
    pub text: String,
    /// The parsed command as JSON, or `None` when it did not parse.
    pub parsed: Option<String>,
    /// The message the user was shown when the text did not parse.
    pub error: Option<String>,
    pub received_at: i64,
}

/// A stored command with its id.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordedCommand {
    pub id: i64,
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    pub text: String,
    pub parsed: Option<String>,
    pub error: Option<String>,
    pub received_at: i64,
}

impl Store {
    /// Claims the request's `signature` and stores its command, in one transaction
    /// with the commands that arrived at the same time: `false` (and nothing written)
    /// when the signature was already used.
    pub async fn accept_command(
        &self,
        signature: &str,
        command: &NewCommand,
    ) -> anyhow::Result<bool> {
        self.intake.accept(signature, command).await
    }

    /// The latest `limit` commands of a team, newest first.
    pub async fn recent_commands(
        &self,
        team_id: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<RecordedCommand>> {
        sqlx::query_as(
            "SELECT id, team_id, channel_id, user_id, text, parsed, error, received_at \
             FROM commands WHERE team_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(team_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("cannot read recent commands")
    }

    /// How many commands are stored in all (for tests and metrics).
    pub async fn count_commands(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM commands")
            .fetch_one(&self.pool)
            .await
            .context("cannot count commands")
    }
}
