//! The target apps of a promotion: one row each, saved in the same transaction as the
//! promotion's step, so a target's progress and the reply telling it never part.

use anyhow::Context;
use sqlx::AnyConnection;

use super::Store;
use super::deploys::DeployState;

/// One target app of a promotion.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeployTarget {
    pub deploy_id: i64,
    pub app_id: String,
    pub app_name: String,
    /// `Releasing`, `Restarting`, `Promoted` or `Failed`.
    pub state: DeployState,
    /// The version the app ran when the promotion was planned.
    pub previous_version: i64,
    /// The release the promotion made on this app, once known.
    pub release_id: Option<String>,
    pub failure: Option<String>,
}

/// Inserts or updates `targets` on `conn` (inside the caller's transaction).
pub async fn save_targets(
    conn: &mut AnyConnection,
    targets: &[DeployTarget],
) -> anyhow::Result<()> {
    for t in targets {
        sqlx::query(
            "INSERT INTO deploy_targets (deploy_id, app_id, app_name, state, previous_version, \
             release_id, failure) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (deploy_id, app_id) DO UPDATE SET state = $4, release_id = $6, failure = $7",
        )
        .bind(t.deploy_id)
        .bind(&t.app_id)
        .bind(&t.app_name)
        .bind(t.state)
        .bind(t.previous_version)
        .bind(&t.release_id)
        .bind(&t.failure)
        .execute(&mut *conn)
        .await
        .context("cannot save a promotion target")?;
    }
    Ok(())
}

impl Store {
    /// The targets of a promotion, by app name.
    pub async fn deploy_targets(&self, deploy_id: i64) -> anyhow::Result<Vec<DeployTarget>> {
        sqlx::query_as(
            "SELECT deploy_id, app_id, app_name, state, previous_version, release_id, failure \
             FROM deploy_targets WHERE deploy_id = $1 ORDER BY app_name",
        )
        .bind(deploy_id)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the promotion's targets")
    }
}
