//! Changes of which repository a pipeline builds from (`/h connect`): the mapping
//! itself lives in `pipeline_repos` ([`super::deploys`]); every change is also a row
//! of `repo_changes`, the connection half of `/h history`, written in the same
//! transaction as the mapping and the announcement of the change.

use anyhow::Context;
use sqlx::Acquire;

use super::Store;
use super::outbox::{NewMessage, insert_messages};

/// One `/h connect` that changed a pipeline's repository.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepoChange {
    pub team_id: String,
    pub pipeline: String,
    pub repo: String,
    /// `None` for the pipeline's first connection.
    pub previous_repo: Option<String>,
    pub set_by: String,
    pub at: i64,
}

impl Store {
    /// Points `change.pipeline` at `change.repo` unless it already builds from it.
    /// The repository it built from is read in the transaction and handed to
    /// `announce`, whose messages are queued with the change. Returns the change as
    /// made (`previous_repo` filled in), or `None` when nothing changed.
    pub async fn change_pipeline_repo(
        &self,
        change: &RepoChange,
        announce: impl FnOnce(Option<&str>) -> anyhow::Result<Vec<NewMessage>>,
    ) -> anyhow::Result<Option<RepoChange>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT repo FROM pipeline_repos WHERE team_id = $1 AND pipeline = $2",
        )
        .bind(&change.team_id)
        .bind(&change.pipeline)
        .fetch_optional(&mut *tx)
        .await
        .context("cannot read the pipeline's repository")?;
        if previous.as_deref() == Some(change.repo.as_str()) {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO pipeline_repos (team_id, pipeline, repo, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (team_id, pipeline) DO UPDATE SET repo = $3, set_by = $4, set_at = $5",
        )
        .bind(&change.team_id)
        .bind(&change.pipeline)
        .bind(&change.repo)
        .bind(&change.set_by)
        .bind(change.at)
        .execute(&mut *tx)
        .await
        .context("cannot link the pipeline to its repository")?;
        sqlx::query(
            "INSERT INTO repo_changes (team_id, pipeline, repo, previous_repo, set_by, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&change.team_id)
        .bind(&change.pipeline)
        .bind(&change.repo)
        .bind(&previous)
        .bind(&change.set_by)
        .bind(change.at)
        .execute(&mut *tx)
        .await
        .context("cannot record the repository change")?;
        let messages = announce(previous.as_deref())?;
        insert_messages(&mut tx, &messages, change.at).await?;
        tx.commit()
            .await
            .context("cannot commit the repository change")?;
        self.committed(&messages);
        Ok(Some(RepoChange {
            previous_repo: previous,
            ..change.clone()
        }))
    }

    /// A team's changes of `pipeline`'s repository, newest first.
    pub async fn repo_changes(
        &self,
        team_id: &str,
        pipeline: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<RepoChange>> {
        sqlx::query_as(
            "SELECT team_id, pipeline, repo, previous_repo, set_by, at FROM repo_changes \
             WHERE team_id = $1 AND pipeline = $2 ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(team_id)
        .bind(pipeline)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("cannot read repository changes")
    }
}
