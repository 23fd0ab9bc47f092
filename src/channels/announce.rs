//! Releases made outside chat, announced once in the pipeline's routed channel:
//! "v42 of paipu-app-production released by bob@example.com: Deploy 576d16a9".
//!
//! Two ways in, one way out: signed `api:release` webhook deliveries ([`on_delivery`],
//! called by `/webhooks/heroku`), and a poller ([`run`]) that reads the newest
//! releases of every routed pipeline's apps as the person who routed it, for
//! deliveries that never came. Both end in [`announce`], where the store's
//! `release_announcements` key makes the announcement exactly-once, whichever comes
//! first and however many processes run. Releases of our own deploys (the deploy
//! thread tells those) and releases older than the route are not announced.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::watch;

use crate::bot::{Bot, BotState};
use crate::chat::escape;
use crate::heroku::ReleaseStatus;
use crate::resolver::{ResolveError, Resolver};
use crate::store::Route;
use crate::when;

/// Releases read per app and poll: more than are made between two polls.
const RELEASES_PER_POLL: usize = 5;

/// Polls this many deploy-poll intervals apart (5 minutes with the default 5 s):
/// webhooks are the fast path, this only catches what they missed.
const POLL_FACTOR: u32 = 60;

/// A release as a webhook delivery or the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRelease {
    pub release_id: String,
    pub app_id: String,
    pub app_name: String,
    pub version: u64,
    pub description: String,
    pub user_email: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub succeeded: bool,
}

#[derive(Deserialize)]
struct Delivery {
    resource: String,
    data: ReleaseData,
}

#[derive(Deserialize)]
struct ReleaseData {
    id: String,
    version: u64,
    status: ReleaseStatus,
    description: String,
    user: Email,
    app: AppRef,
    created_at: String,
}

#[derive(Deserialize)]
struct Email {
    email: String,
}

#[derive(Deserialize)]
struct AppRef {
    id: String,
    name: String,
}

/// A verified webhook delivery: announces it if it is a finished release of a routed
/// pipeline. Anything else is not for us and is ignored.
pub async fn on_delivery(app: &Bot, body: &[u8]) -> anyhow::Result<()> {
    let Ok(delivery) = serde_json::from_slice::<Delivery>(body) else {
        return Ok(());
    };
    if delivery.resource != "release" {
        return Ok(());
    }
    let data = delivery.data;
    let seen = SeenRelease {
        release_id: data.id,
        app_id: data.app.id,
        app_name: data.app.name,
        version: data.version,
        description: data.description,
        user_email: data.user.email,
        created_at: when::parse_utc(&data.created_at).unwrap_or(0),
        succeeded: data.status == ReleaseStatus::Succeeded,
    };
    for routed in app.store.routed_app(&seen.app_id).await? {
        if let Some(route) = app.store.route(&routed.team_id, &routed.pipeline).await? {
            announce(app, &route, &seen).await?;
        }
    }
    Ok(())
}

/// Queues the announcement of `seen` in `route`'s channel unless it is ours, not
/// finished, older than the route, or announced already. Returns whether it did.
pub async fn announce(app: &Bot, route: &Route, seen: &SeenRelease) -> anyhow::Result<bool> {
    // Heroku's times have whole seconds: a release in the second the route was set counts.
    let route_second = route.set_at.div_euclid(1000) * 1000;
    if !seen.succeeded || seen.created_at < route_second {
        return Ok(false);
    }
    if app
        .store
        .is_our_release(&seen.app_id, &seen.release_id)
        .await?
    {
        return Ok(false);
    }
    // Whoever made the release wrote its description: data, not markup.
    let text = format!(
        "v{} of {} released by {}: {}",
        seen.version,
        escape(&seen.app_name),
        escape(&seen.user_email),
        escape(&seen.description)
    );
    let key = format!("release:{}:{}:{}", route.team_id, seen.app_id, seen.version);
    let notice = crate::outbox::notice(&route.team_id, &route.channel, &key, &text)?;
    let announced = app
        .store
        .announce_release(
            &route.team_id,
            &seen.app_id,
            seen.version as i64,
            std::slice::from_ref(&notice),
            app.clock.now_millis(),
        )
        .await?;
    if announced {
        tracing::info!(app = %seen.app_name, version = seen.version, "release announced");
    }
    Ok(announced)
}

/// Polls routed pipelines until `stop` says so.
pub async fn run(state: BotState, stop: watch::Receiver<bool>) {
    let every: Duration = state.config.poll_interval * POLL_FACTOR;
    crate::sweeps::run(&state, "release poll", every, stop, || async {
        poll(&state).await.map(drop)
    })
    .await;
}

/// Reads the newest releases of every routed pipeline's apps once and announces the
/// new ones; returns how many it announced.
pub async fn poll(app: &BotState) -> anyhow::Result<usize> {
    let mut announced = 0;
    for route in app.store.all_routes().await? {
        match poll_route(app, &route).await {
            Ok(count) => announced += count,
            Err(problem) => {
                tracing::info!(pipeline = %route.pipeline, %problem, "cannot poll a routed pipeline")
            }
        }
    }
    Ok(announced)
}

/// Polls one route as the person who set it, refreshing its apps on the way.
async fn poll_route(app: &BotState, route: &Route) -> Result<usize, String> {
    let linked = crate::accounts::linked(app, &route.team_id, &route.set_by)
        .await
        .map_err(|error| error.to_string())?;
    let token = &linked.heroku_token;
    let resolver = Resolver {
        heroku: &app.heroku,
        token,
        asking: super::ROUTE,
    };
    let layout = (resolver.layout(&route.pipeline).await).map_err(|problem| problem.to_string())?;
    let apps = super::routed_apps(&layout, &route.team_id);
    let database = |error: anyhow::Error| format!("{error:#}");
    app.store
        .set_routed_apps(&route.team_id, &route.pipeline, &apps)
        .await
        .map_err(database)?;
    let mut announced = 0;
    for routed in &apps {
        let releases = app
            .heroku
            .releases(token, &routed.app_name, RELEASES_PER_POLL)
            .await
            .map_err(|error| ResolveError::heroku("list releases", error).to_string())?;
        for release in releases.into_iter().rev() {
            let seen = SeenRelease {
                created_at: when::parse_utc(&release.created_at).unwrap_or(0),
                succeeded: release.status == ReleaseStatus::Succeeded,
                release_id: release.id,
                app_id: routed.app_id.clone(),
                app_name: release.app.name,
                version: release.version,
                description: release.description,
                user_email: release.user.email,
            };
            announced += usize::from(announce(app, route, &seen).await.map_err(database)?);
        }
    }
    Ok(announced)
}
