//! The HTTP service: the router, the background loops, and serving with a graceful
//! stop.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::bot::BotState;
use crate::edge;
use crate::slack::verify::MAX_CLOCK_SKEW_SECS;

/// Longer than any handler should take; Slack itself gives up after 3 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// After SIGTERM, in-flight requests get this long before the process exits anyway:
/// inside Heroku's 30 s before it sends SIGKILL.
const DRAIN_DEADLINE: Duration = Duration::from_secs(25);

/// How long the deploy worker and the outbox get to finish their current step.
const LOOP_STOP_DEADLINE: Duration = Duration::from_secs(4);

/// How often remembered signatures older than Slack's window are deleted.
const SIGNATURE_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Every route the bot serves.
pub fn router(state: BotState) -> Router {
    Router::new()
        .route("/slack/commands", post(edge::slash::slash_command))
        .route("/slack/interactions", post(edge::interactions::interaction))
        .route("/slack/events", post(edge::events::event))
        .route("/healthz", get(edge::healthz))
        .route("/metrics", get(crate::edge::metrics::scrape))
        .route(
            crate::webhooks::WEBHOOK_PATH,
            post(crate::edge::heroku_webhooks::receive),
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
            crate::edge::metrics::track,
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
    state: BotState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stopping, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stopping.send_replace(true);
    });
    let pruner = tokio::spawn(prune_signatures(state.clone(), stop.clone()));
    let worker = tokio::spawn(crate::deploy::worker::run(state.clone(), stop.clone()));
    let outbox = tokio::spawn(crate::outbox::run(state.clone(), stop.clone()));
    let lock_sweep = tokio::spawn(crate::locks::sweep::run(state.clone(), stop.clone()));
    let release_poll = tokio::spawn(crate::channels::announce::run(state.clone(), stop.clone()));
    let homes = tokio::spawn(crate::home::run(state.clone(), stop.clone()));
    let limits = edge::connections::Limits::for_this_process();
    let server = edge::connections::serve(listener, router(state), limits, stopped(stop.clone()));
    let deadline = async move {
        stopped(stop).await;
        tokio::time::sleep(DRAIN_DEADLINE).await;
    };
    tokio::select! {
        () = server => {}
        () = deadline => {
            tracing::warn!("in-flight requests did not finish within the drain deadline");
        }
    }
    pruner.abort();
    // The loops finish their current step (its save is one transaction) and stop.
    for background in [worker, outbox, lock_sweep, release_poll, homes] {
        if tokio::time::timeout(LOOP_STOP_DEADLINE, background)
            .await
            .is_err()
        {
            tracing::warn!("a background loop did not stop in time");
        }
    }
    Ok(())
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    // An Err means the sender is gone, which only happens once shutdown was sent.
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Forgets signatures too old to be replayed (they fall outside the window anyway).
async fn prune_signatures(state: BotState, stop: watch::Receiver<bool>) {
    crate::sweeps::run(
        &state,
        "signature pruning",
        SIGNATURE_PRUNE_INTERVAL,
        stop,
        || async {
            let cutoff = state.clock.now() - 2 * MAX_CLOCK_SKEW_SECS;
            state.store.forget_signatures_before(cutoff).await.map(drop)
        },
    )
    .await;
}
