//! Reads for `/h history` and `/h releases`: a pipeline's deploys, newest first. The
//! lock half of the audit trail is in [`super::locks`].

use anyhow::Context;

use super::Store;
use super::deploys::{COLUMNS, DeployRow};

impl Store {
    /// A team's deploys of `pipeline` (to `stage` when given), newest first.
    pub async fn pipeline_deploys(
        &self,
        team_id: &str,
        pipeline: &str,
        stage: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeployRow>> {
        let query = match stage {
            Some(_) => format!(
                "SELECT {COLUMNS} FROM deploys WHERE team_id = $1 AND pipeline = $2 AND stage = $3 \
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            ),
            None => format!(
                "SELECT {COLUMNS} FROM deploys WHERE team_id = $1 AND pipeline = $2 \
                 ORDER BY created_at DESC, id DESC LIMIT $3"
            ),
        };
        let query = sqlx::query_as(&query).bind(team_id).bind(pipeline);
        let query = match stage {
            Some(stage) => query.bind(stage),
            None => query,
        };
        query
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .context("cannot read the pipeline's deploys")
    }
}
