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
    /// Stores one command and returns its id.
    pub async fn record_command(&self, command: &NewCommand) -> anyhow::Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO commands (team_id, channel_id, user_id, text, parsed, error, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&command.team_id)
        .bind(&command.channel_id)
        .bind(&command.user_id)
        .bind(&command.text)
        .bind(&command.parsed)
        .bind(&command.error)
        .bind(command.received_at)
        .fetch_one(&self.pool)
        .await
        .context("cannot record the command")
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
