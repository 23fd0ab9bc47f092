//! The running service: shared state, the router, and serving with a graceful stop.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::vault::Vault;
use crate::clock::Clock;
use crate::config::Config;
use crate::github::{GitHubClient, GitHubOAuth};
use crate::heroku::{HerokuClient, HerokuOAuth};
use crate::metrics::{Metrics, Service};
use crate::outbound::{self, RetryPolicy};
use crate::slack::api::SlackApi;
use crate::slack::pacer::Pacer;
use crate::slack::verify::MAX_CLOCK_SKEW_SECS;
use crate::store::Store;
use crate::{slack, web};

/// Longer than any handler should take; Slack itself gives up after 3 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// After SIGTERM, in-flight requests get this long before the process exits anyway:
/// inside Heroku's 30 s before it sends SIGKILL.
const DRAIN_DEADLINE: Duration = Duration::from_secs(25);

/// How long the deploy worker and the outbox get to finish their current step.
const LOOP_STOP_DEADLINE: Duration = Duration::from_secs(4);

/// How often remembered signatures older than Slack's window are deleted.
const SIGNATURE_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Everything a handler needs, shared by all requests.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub clock: Clock,
    /// Seals and opens the tokens kept in the store.
    pub vault: Vault,
    pub heroku: HerokuClient,
    pub heroku_oauth: HerokuOAuth,
    pub github: GitHubClient,
    pub github_oauth: GitHubOAuth,
    pub slack: SlackApi,
    /// How patient outbound calls are (also paces outbox retries).
    pub patience: Patience,
    /// Wakes the background loops when there is work, instead of waiting a tick.
    pub wakeups: Wakeups,
    /// Keeps this process's posts within Slack's per-channel pace.
    pub pacer: Pacer,
    /// What `GET /metrics` shows; this app's own, so apps in one process count apart.
    pub metrics: Metrics,
}

/// Wake-up calls for the background loops.
#[derive(Debug, Default)]
pub struct Wakeups {
    /// A deploy became due (a new one, a webhook).
    pub deploys: Notify,
    /// Messages were queued.
    pub outbox: Notify,
}

/// How patient outbound calls are: production uses the defaults, tests shorter ones.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// Each request gives up after this long.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for Patience {
    fn default() -> Patience {
        Patience {
            timeout: outbound::REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

impl App {
    /// Builds the clients of every outside service from `config`.
    pub fn new(
        config: Config,
        store: Store,
        clock: Clock,
        patience: Patience,
    ) -> anyhow::Result<App> {
        let http = outbound::http_client(patience.timeout);
        let metrics = Metrics::new();
        let endpoints = &config.endpoints;
        let heroku_oauth = HerokuOAuth::new(
            http.clone(),
            &endpoints.heroku_oauth,
            &config.heroku_oauth.client_id,
            config.heroku_oauth.client_secret.clone(),
        )
        .with_retry(patience.retry)
        .with_calls(metrics.calls(Service::Heroku));
        let github_oauth = GitHubOAuth::new(
            http.clone(),
            &endpoints.github_oauth,
            &endpoints.github_api,
            &config.github_oauth.client_id,
            config.github_oauth.client_secret.clone(),
        )
        .with_calls(metrics.calls(Service::GitHub));
        let slack = SlackApi::new(&endpoints.slack, patience.timeout, patience.retry)
            .context("cannot set up the Slack client (are CA certificates installed?)")?
            .with_calls(metrics.calls(Service::Slack));
        Ok(App {
            vault: Vault::new(
                &config.encryption_key,
                config.encryption_key_previous.as_ref(),
            ),
            heroku: HerokuClient::new(http.clone(), &endpoints.heroku_api, patience.retry)
                .with_calls(metrics.calls(Service::Heroku)),
            github: GitHubClient::new(http, &endpoints.github_api, patience.retry)
                .with_calls(metrics.calls(Service::GitHub)),
            heroku_oauth,
            github_oauth,
            slack,
            config,
            store,
            clock,
            patience,
            wakeups: Wakeups::default(),
            pacer: Pacer::default(),
            metrics,
        })
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The cheap-to-clone handle axum passes to handlers.
#[derive(Debug, Clone)]
pub struct AppState(Arc<App>);

impl AppState {
    pub fn new(app: App) -> AppState {
        AppState(Arc::new(app))
    }
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// Every route the bot serves.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/slack/commands", post(slack::commands::slash_command))
        .route(
            "/slack/interactions",
            post(slack::interactions::interaction),
        )
        .route("/healthz", get(web::healthz))
        .route("/metrics", get(crate::metrics::scrape))
        .route(
            crate::deploy::webhooks::WEBHOOK_PATH,
            post(crate::deploy::webhooks::receive),
        )
        .merge(crate::accounts::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .with_state(state)
}

/// A request's span: method and path only. The query is left out because OAuth
/// callbacks carry codes and states in it.
/// Slash commands fill in who asked for what.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        team = tracing::field::Empty,
        user = tracing::field::Empty,
        command = tracing::field::Empty,
    )
}

/// Serves on `listener` until `shutdown` completes, then lets in-flight requests finish
/// for up to [`DRAIN_DEADLINE`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stopping, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stopping.send_replace(true);
    });
    let pruner = tokio::spawn(prune_signatures(state.clone()));
    let worker = tokio::spawn(crate::deploy::worker::run(state.clone(), stop.clone()));
    let outbox = tokio::spawn(crate::slack::outbox::run(state.clone(), stop.clone()));
    let lock_sweep = tokio::spawn(crate::locks::sweep::run(state.clone(), stop.clone()));
    let release_poll = tokio::spawn(crate::routes::announce::run(state.clone(), stop.clone()));
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(stopped(stop.clone()));
    let deadline = async move {
        stopped(stop).await;
        tokio::time::sleep(DRAIN_DEADLINE).await;
    };
    let result = tokio::select! {
        served = server => served.context("the HTTP server failed"),
        () = deadline => {
            tracing::warn!("in-flight requests did not finish within the drain deadline");
            Ok(())
        }
    };
    pruner.abort();
    // The loops finish their current step (its save is one transaction) and stop.
    for background in [worker, outbox, lock_sweep, release_poll] {
        if tokio::time::timeout(LOOP_STOP_DEADLINE, background)
            .await
            .is_err()
        {
            tracing::warn!("a background loop did not stop in time");
        }
    }
    result
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    // An Err means the sender is gone, which only happens once shutdown was sent.
    let _ = stop.wait_for(|stopping| *stopping).await;
}

async fn prune_signatures(state: AppState) {
    let mut tick = tokio::time::interval(SIGNATURE_PRUNE_INTERVAL);
    loop {
        tick.tick().await;
        let cutoff = state.clock.now() - 2 * MAX_CLOCK_SKEW_SECS;
        if let Err(error) = state.store.forget_signatures_before(cutoff).await {
            tracing::warn!(error = format!("{error:#}"), "pruning signatures failed");
        }
    }
}
