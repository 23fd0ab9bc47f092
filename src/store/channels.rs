//! Notification routes (`/h route`): which channel a pipeline's news goes to, the apps
//! of routed pipelines, and which releases made outside chat were already announced.

use anyhow::Context;
use sqlx::{Acquire, AnyConnection};

use super::Store;
use super::outbox::{NewMessage, insert_messages};

/// A pipeline's notification channel. `set_at` is Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Route {
    pub team_id: String,
    pub pipeline: String,
    /// What chat.postMessage takes: an id, or `#name`.
    pub channel: String,
    /// How to show it: `<#C123>` or `#deploys`.
    pub label: String,
    pub set_by: String,
    pub set_at: i64,
}

/// An app of a routed pipeline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoutedApp {
    pub app_id: String,
    pub team_id: String,
    pub pipeline: String,
    pub app_name: String,
}

const ROUTE_COLUMNS: &str = "team_id, pipeline, channel, label, set_by, set_at";

impl Store {
    /// Routes a pipeline to a channel (replacing its earlier route), with its apps.
    pub async fn set_route(&self, route: &Route, apps: &[RoutedApp]) -> anyhow::Result<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        sqlx::query(
            "INSERT INTO pipeline_routes (team_id, pipeline, channel, label, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (team_id, pipeline) DO UPDATE \
             SET channel = $3, label = $4, set_by = $5, set_at = $6",
        )
        .bind(&route.team_id)
        .bind(&route.pipeline)
        .bind(&route.channel)
        .bind(&route.label)
        .bind(&route.set_by)
        .bind(route.set_at)
        .execute(&mut *tx)
        .await
        .context("cannot save the route")?;
        replace_apps(&mut tx, &route.team_id, &route.pipeline, apps).await?;
        tx.commit().await.context("cannot commit the route")
    }

    /// Replaces the remembered apps of a routed pipeline.
    pub async fn set_routed_apps(
        &self,
        team_id: &str,
        pipeline: &str,
        apps: &[RoutedApp],
    ) -> anyhow::Result<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        replace_apps(&mut tx, team_id, pipeline, apps).await?;
        tx.commit().await.context("cannot commit the routed apps")
    }

    /// A pipeline's route, if it has one.
    pub async fn route(&self, team_id: &str, pipeline: &str) -> anyhow::Result<Option<Route>> {
        sqlx::query_as(&format!(
            "SELECT {ROUTE_COLUMNS} FROM pipeline_routes WHERE team_id = $1 AND pipeline = $2"
        ))
        .bind(team_id)
        .bind(pipeline)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read the route")
    }

    /// Every route of a team, by pipeline.
    pub async fn routes(&self, team_id: &str) -> anyhow::Result<Vec<Route>> {
        sqlx::query_as(&format!(
            "SELECT {ROUTE_COLUMNS} FROM pipeline_routes WHERE team_id = $1 ORDER BY pipeline"
        ))
        .bind(team_id)
        .fetch_all(&self.pool)
        .await
        .context("cannot list routes")
    }

    /// Every route of every team (the release poller).
    pub async fn all_routes(&self) -> anyhow::Result<Vec<Route>> {
        sqlx::query_as(&format!(
            "SELECT {ROUTE_COLUMNS} FROM pipeline_routes ORDER BY team_id, pipeline"
        ))
        .fetch_all(&self.pool)
        .await
        .context("cannot list routes")
    }

    /// The routed pipelines an app belongs to (one per workspace that routed it).
    pub async fn routed_app(&self, app_id: &str) -> anyhow::Result<Vec<RoutedApp>> {
        sqlx::query_as(
            "SELECT app_id, team_id, pipeline, app_name FROM routed_apps WHERE app_id = $1",
        )
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .context("cannot read the routed app")
    }

    /// Queues `messages` announcing release `version` of `app_id` to a team, unless
    /// it was announced before. Returns whether this call announced it.
    pub async fn announce_release(
        &self,
        team_id: &str,
        app_id: &str,
        version: i64,
        messages: &[NewMessage],
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("no database connection")?;
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        let claimed = sqlx::query(
            "INSERT INTO release_announcements (team_id, app_id, version, announced_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (team_id, app_id, version) DO NOTHING",
        )
        .bind(team_id)
        .bind(app_id)
        .bind(version)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("cannot claim the announcement")?;
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        insert_messages(&mut tx, messages, now).await?;
        tx.commit()
            .await
            .context("cannot commit the announcement")?;
        self.committed(messages);
        Ok(true)
    }

    /// Whether a deploy of ours made (or is making) release `release_id` of `app_id`:
    /// it recorded the release, or it is still running there.
    pub async fn is_our_release(&self, app_id: &str, release_id: &str) -> anyhow::Result<bool> {
        let ours: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deploys WHERE app_id = $1 AND (release_id = $2 OR finished_at IS NULL)",
        )
        .bind(app_id)
        .bind(release_id)
        .fetch_one(&self.pool)
        .await
        .context("cannot look for our deploys")?;
        Ok(ours > 0)
    }

    /// The channel of a thread's queued parent, if one was queued.
    pub async fn thread_channel(&self, thread_key: &str) -> anyhow::Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT channel_id FROM outbox WHERE thread_key = $1 AND kind = 'parent' LIMIT 1",
        )
        .bind(thread_key)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read the thread's channel")
    }
}

async fn replace_apps(
    conn: &mut AnyConnection,
    team_id: &str,
    pipeline: &str,
    apps: &[RoutedApp],
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM routed_apps WHERE team_id = $1 AND pipeline = $2")
        .bind(team_id)
        .bind(pipeline)
        .execute(&mut *conn)
        .await
        .context("cannot forget the routed apps")?;
    for app in apps {
        sqlx::query(
            "INSERT INTO routed_apps (app_id, team_id, pipeline, app_name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (app_id, team_id) DO UPDATE SET pipeline = $3, app_name = $4",
        )
        .bind(&app.app_id)
        .bind(team_id)
        .bind(pipeline)
        .bind(&app.app_name)
        .execute(&mut *conn)
        .await
        .context("cannot remember a routed app")?;
    }
    Ok(())
}
