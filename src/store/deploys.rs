//! Deploys and pipeline -> repository links; the per-app lock is [`super::app_locks`].
//!
//! A deploy row is claimed with a lease before a step runs and saved with a fence on
//! that lease, so exactly one process drives a deploy at a time and a process that
//! lost its lease (it stalled, another took over) cannot overwrite newer progress.

use anyhow::Context;
use sqlx::Acquire;

use super::outbox::{NewMessage, insert_messages};
use super::targets::{DeployTarget, save_targets};
use super::{Backend, Flag, Store};

stored_text! {
    /// Where a deploy row (or a promotion's target app) is in its lifecycle.
    DeployState, "deploy state" {
        Requested = "requested",
        Queued = "queued",
        Confirming = "confirming",
        Building = "building",
        Releasing = "releasing",
        Restarting = "restarting",
        Deployed = "deployed",
        Promoted = "promoted",
        RolledBack = "rolled_back",
        Failed = "failed",
    }
}

stored_text! {
    /// What a deploy row does: build and release a branch, copy a stage's slug to the
    /// next stage, or make an earlier release current again.
    DeployKind, "deploy kind" {
        Deploy = "deploy",
        Promote = "promote",
        Rollback = "rollback",
    }
}

impl DeployKind {
    /// The state a successful one ends in.
    pub fn done_state(self) -> DeployState {
        match self {
            DeployKind::Deploy => DeployState::Deployed,
            DeployKind::Promote => DeployState::Promoted,
            DeployKind::Rollback => DeployState::RolledBack,
        }
    }
}

/// A deploy as stored. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeployRow {
    pub id: i64,
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    /// Sealed (`outbox::seal_response_url`): it lets anyone post into the channel.
    pub response_url: String,
    pub pipeline: String,
    pub branch: Option<String>,
    pub stage: Option<String>,
    pub app_name: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub forced: bool,
    /// Sealed by the vault; cleared once the build is created.
    pub two_factor_code: Option<String>,
    pub state: DeployState,
    pub app_id: Option<String>,
    pub repo: Option<String>,
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub github_deployment_id: Option<i64>,
    pub build_id: Option<String>,
    pub release_id: Option<String>,
    pub failure: Option<String>,
    pub created_at: i64,
    pub stage_started_at: i64,
    pub finished_at: Option<i64>,
    pub next_check_at: i64,
    pub kind: DeployKind,
    /// promote: the stage and app copied from.
    pub source_stage: Option<String>,
    pub source_app: Option<String>,
    /// promote: the source release's version; rollback: the version restored.
    pub source_version: Option<i64>,
    /// The version the app ran before this change, 0 if none (for a promotion, its
    /// first target's): read once before anything is created, for the release notes.
    pub replaced_version: Option<i64>,
    /// The commit of `replaced_version`, when its slug says.
    pub replaced_sha: Option<String>,
    pub promotion_id: Option<String>,
    /// Once the requester pressed Deploy on the production confirmation.
    #[sqlx(try_from = "Flag")]
    pub confirmed: bool,
    /// While `confirming`: when the buttons stop working.
    pub confirm_expires_at: Option<i64>,
    /// promote: when Heroku was last asked for the promotion (Unix ms).
    pub promotion_requested_at: Option<i64>,
    /// A busy app queues this deploy instead of refusing it (`/h deploy ... queue`).
    #[sqlx(try_from = "Flag")]
    pub queue_if_busy: bool,
    /// When it joined its app's line (Unix ms; kept once set, so it keeps its place).
    pub queued_at: Option<i64>,
}

pub(super) const COLUMNS: &str = "id, team_id, channel_id, user_id, response_url, pipeline, branch, stage, \
    app_name, forced, two_factor_code, state, app_id, repo, git_ref, sha, github_deployment_id, \
    build_id, release_id, failure, created_at, stage_started_at, finished_at, next_check_at, kind, \
    source_stage, source_app, source_version, replaced_version, replaced_sha, promotion_id, \
    confirmed, confirm_expires_at, promotion_requested_at, queue_if_busy, queued_at";

/// A step's outcome, written atomically with the messages it announces.
#[derive(Debug)]
pub struct StepSave<'a> {
    pub deploy: &'a DeployRow,
    /// The lease the step ran under; the save is refused if it was lost.
    pub owner: &'a str,
    pub messages: &'a [NewMessage],
    /// A promotion's target apps, as the step left them.
    pub targets: &'a [DeployTarget],
    /// The deploy ended: its app lock goes with it.
    pub release_lock: bool,
    pub now: i64,
}

impl Store {
    /// Stores a new deploy (state and times as given) and returns its id.
    pub async fn insert_deploy(&self, deploy: &DeployRow) -> anyhow::Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO deploys (team_id, channel_id, user_id, response_url, pipeline, branch, stage, \
             app_name, forced, two_factor_code, state, created_at, stage_started_at, next_check_at, \
             kind, source_stage, source_app, source_version, queue_if_busy) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             RETURNING id",
        )
        .bind(&deploy.team_id)
        .bind(&deploy.channel_id)
        .bind(&deploy.user_id)
        .bind(&deploy.response_url)
        .bind(&deploy.pipeline)
        .bind(&deploy.branch)
        .bind(&deploy.stage)
        .bind(&deploy.app_name)
        .bind(i64::from(deploy.forced))
        .bind(&deploy.two_factor_code)
        .bind(deploy.state)
        .bind(deploy.created_at)
        .bind(deploy.stage_started_at)
        .bind(deploy.next_check_at)
        .bind(deploy.kind)
        .bind(&deploy.source_stage)
        .bind(&deploy.source_app)
        .bind(deploy.source_version)
        .bind(i64::from(deploy.queue_if_busy))
        .fetch_one(&self.pool)
        .await
        .context("cannot store the deploy")
    }

    /// One deploy by id.
    pub async fn deploy(&self, id: i64) -> anyhow::Result<Option<DeployRow>> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM deploys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("cannot read the deploy")
    }

    /// Every deploy, oldest first (tests, history).
    pub async fn deploys(&self) -> anyhow::Result<Vec<DeployRow>> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM deploys ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .context("cannot list deploys")
    }

    /// Leases up to `limit` unfinished deploys that are due, for `owner`, until
    /// `lease_until`; returns their ids. Expired leases (a crashed process) are taken.
    pub async fn claim_due_deploys(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<i64>> {
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE deploys SET lease_owner = $1, lease_until = $2, woken_at = NULL WHERE id IN (\
             SELECT id FROM deploys WHERE finished_at IS NULL AND next_check_at <= $3 \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_check_at LIMIT $4{skip_locked}) \
             RETURNING id"
        );
        sqlx::query_scalar(&sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .context("cannot claim due deploys")
    }

    /// Saves a step's outcome and its messages in one transaction and gives the lease
    /// back. Returns `false` (and writes nothing) when `owner` no longer holds it.
    pub async fn save_step(&self, save: StepSave<'_>) -> anyhow::Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let d = save.deploy;
        let updated = sqlx::query(
            "UPDATE deploys SET stage = $1, app_name = $2, two_factor_code = $3, state = $4, \
             app_id = $5, repo = $6, git_ref = $7, sha = $8, github_deployment_id = $9, \
             build_id = $10, release_id = $11, failure = $12, stage_started_at = $13, \
             finished_at = $14, source_app = $18, source_version = $19, \
             replaced_version = $20, promotion_id = $21, confirm_expires_at = $22, source_stage = $23, \
             queued_at = $24, replaced_sha = $25, lease_owner = NULL, lease_until = NULL, woken_at = NULL, \
             next_check_at = CASE WHEN woken_at IS NOT NULL AND woken_at < $15 THEN woken_at ELSE $15 END \
             WHERE id = $16 AND lease_owner = $17",
        )
        .bind(&d.stage)
        .bind(&d.app_name)
        .bind(&d.two_factor_code)
        .bind(d.state)
        .bind(&d.app_id)
        .bind(&d.repo)
        .bind(&d.git_ref)
        .bind(&d.sha)
        .bind(d.github_deployment_id)
        .bind(&d.build_id)
        .bind(&d.release_id)
        .bind(&d.failure)
        .bind(d.stage_started_at)
        .bind(d.finished_at)
        .bind(d.next_check_at)
        .bind(d.id)
        .bind(save.owner)
        .bind(&d.source_app)
        .bind(d.source_version)
        .bind(d.replaced_version)
        .bind(&d.promotion_id)
        .bind(d.confirm_expires_at)
        .bind(&d.source_stage)
        .bind(d.queued_at)
        .bind(&d.replaced_sha)
        .execute(&mut *tx)
        .await
        .context("cannot save the deploy")?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        save_targets(&mut tx, save.targets).await?;
        insert_messages(&mut tx, save.messages, save.now).await?;
        if save.release_lock {
            let released = sqlx::query("DELETE FROM app_locks WHERE deploy_id = $1")
                .bind(d.id)
                .execute(&mut *tx)
                .await
                .context("cannot release the app lock")?;
            // The app is free: its line is looked at now, not a poll interval later.
            if released.rows_affected() > 0 {
                super::queue::wake_line(&mut tx, d.app_id.as_deref(), save.now).await?;
            }
        }
        tx.commit().await.context("cannot commit the deploy step")?;
        self.committed(save.messages);
        Ok(true)
    }

    /// Makes every unfinished deploy of `app_id` due now (a webhook said it moved). A
    /// deploy whose step is running keeps the wake in `woken_at` for that step's save:
    /// the step may have read Heroku just before the change.
    pub async fn wake_deploys_of_app(&self, app_id: &str, now: i64) -> anyhow::Result<u64> {
        let woken = sqlx::query(
            "UPDATE deploys SET woken_at = $1, \
             next_check_at = CASE WHEN next_check_at > $1 THEN $1 ELSE next_check_at END \
             WHERE app_id = $2 AND finished_at IS NULL",
        )
        .bind(now)
        .bind(app_id)
        .execute(&self.pool)
        .await
        .context("cannot wake deploys")?;
        Ok(woken.rows_affected())
    }

    /// The repository `/h connect` linked to a pipeline.
    pub async fn pipeline_repo(
        &self,
        team_id: &str,
        pipeline: &str,
    ) -> anyhow::Result<Option<String>> {
        sqlx::query_scalar("SELECT repo FROM pipeline_repos WHERE team_id = $1 AND pipeline = $2")
            .bind(team_id)
            .bind(pipeline)
            .fetch_optional(&self.pool)
            .await
            .context("cannot read the pipeline's repository")
    }

    /// Links (or relinks) a pipeline to a repository.
    pub async fn set_pipeline_repo(
        &self,
        team_id: &str,
        pipeline: &str,
        repo: &str,
        set_by: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO pipeline_repos (team_id, pipeline, repo, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (team_id, pipeline) DO UPDATE SET repo = $3, set_by = $4, set_at = $5",
        )
        .bind(team_id)
        .bind(pipeline)
        .bind(repo)
        .bind(set_by)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("cannot link the pipeline to its repository")?;
        Ok(())
    }
}

impl Store {
    /// Records that Heroku is being asked for deploy `id`'s promotion at `at` (Unix
    /// ms), before the request goes out.
    pub async fn promotion_requested(&self, id: i64, at: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE deploys SET promotion_requested_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await
            .context("cannot record the promotion request")?;
        Ok(())
    }

    /// Records what deploy `id`'s app ran before it (`version` 0: nothing), before the
    /// deploy creates anything, so a step repeated after a crash still knows.
    pub async fn record_replaced(
        &self,
        id: i64,
        version: i64,
        sha: Option<&str>,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE deploys SET replaced_version = $1, replaced_sha = $2 WHERE id = $3")
            .bind(version)
            .bind(sha)
            .bind(id)
            .execute(&self.pool)
            .await
            .context("cannot record what the app ran before the deploy")?;
        Ok(())
    }

    /// Extends `owner`'s lease on a deploy; `false` when it is no longer `owner`'s.
    pub async fn renew_deploy_lease(
        &self,
        id: i64,
        owner: &str,
        until: i64,
    ) -> anyhow::Result<bool> {
        let renewed =
            sqlx::query("UPDATE deploys SET lease_until = $1 WHERE id = $2 AND lease_owner = $3")
                .bind(until)
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await
                .context("cannot renew a deploy lease")?;
        Ok(renewed.rows_affected() == 1)
    }

    /// How many deploys are in each state (metrics): the counts triggers keep as rows
    /// move, a few rows however many deploys the table holds.
    pub async fn count_deploys_by_state(&self) -> anyhow::Result<Vec<(DeployState, i64)>> {
        sqlx::query_as("SELECT state, deploys FROM deploy_state_counts")
            .fetch_all(&self.pool)
            .await
            .context("cannot count deploys by state")
    }
}
