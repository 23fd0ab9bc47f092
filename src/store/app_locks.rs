//! The per-app deploy lock: at most one deploy (or a queued deploy taking its turn,
//! [`super::queue`]) drives an app at a time, and the table's primary key makes taking
//! it atomic across processes. A deploy's last save releases it
//! ([`Store::save_step`]).

use anyhow::Context;

use super::Store;

const APP_LOCK_COLUMNS: &str = "app_id, deploy_id, app_name, user_id, sha, since";

/// Who holds an app's deploy lock.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppLock {
    pub app_id: String,
    pub deploy_id: i64,
    pub app_name: String,
    pub user_id: String,
    pub sha: String,
    pub since: i64,
}

impl Store {
    /// Takes `lock.app_id` for `lock.deploy_id`. Returns the holder: the lock itself
    /// when taken (or already held by this deploy, which then records `lock.sha`: a
    /// queued deploy takes its turn before it knows its commit), someone else's otherwise.
    pub async fn take_app_lock(&self, lock: &AppLock) -> anyhow::Result<AppLock> {
        sqlx::query(
            "INSERT INTO app_locks (app_id, deploy_id, app_name, user_id, sha, since) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app_id) DO UPDATE SET sha = $5 \
             WHERE app_locks.deploy_id = $2",
        )
        .bind(&lock.app_id)
        .bind(lock.deploy_id)
        .bind(&lock.app_name)
        .bind(&lock.user_id)
        .bind(&lock.sha)
        .bind(lock.since)
        .execute(&self.pool)
        .await
        .context("cannot take the app lock")?;
        (self.app_lock(&lock.app_id).await?).context("the app lock vanished as it was taken")
    }

    /// Who holds `app_id`'s deploy lock, if anyone.
    pub async fn app_lock(&self, app_id: &str) -> anyhow::Result<Option<AppLock>> {
        sqlx::query_as(&format!(
            "SELECT {APP_LOCK_COLUMNS} FROM app_locks WHERE app_id = $1"
        ))
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read the app lock")
    }

    /// How many app locks are held (tests, metrics).
    pub async fn app_locks(&self) -> anyhow::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM app_locks")
            .fetch_one(&self.pool)
            .await
            .context("cannot count app locks")
    }
}
