//! Accepting connections, with the limits that keep slow or greedy clients from taking
//! the bot down for everyone else.
//!
//! - A header read timeout: a connection that trickles its request head (or sends
//!   nothing, or idles between keep-alive requests) is closed after
//!   [`HEADER_READ_TIMEOUT`]. Slack and Heroku's router send a whole head at once.
//! - A cap on open connections: past it, a new connection is closed at once instead of
//!   being served, so a flood of idle sockets can never take the file descriptors that
//!   the database pool and outbound calls need. The cap leaves [`RESERVED_DESCRIPTORS`]
//!   of the process's descriptor limit for those.
//!
//! The body has its own limit: the router's request timeout covers reading it.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Time a client gets to send a request's whole head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Descriptors kept out of the connection cap: the database pool, outbound HTTPS to
/// Slack, Heroku and GitHub, the log, and headroom.
const RESERVED_DESCRIPTORS: u64 = 1024;

/// The fewest connections served, even under a low descriptor limit.
const MIN_CONNECTIONS: u64 = 64;

/// Refused connections are reported at most this often, so a flood does not also
/// flood the log.
const REFUSAL_REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// How long to wait before accepting again after `accept` itself failed (usually out
/// of descriptors), rather than spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// The limits one listener serves under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// Raises this process's soft descriptor limit to its hard limit, then caps
    /// connections at what is left after [`RESERVED_DESCRIPTORS`].
    pub fn for_this_process() -> Limits {
        let descriptors = match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => limit,
            Err(error) => {
                tracing::warn!(%error, "could not read or raise the open-file limit");
                RESERVED_DESCRIPTORS + MIN_CONNECTIONS
            }
        };
        let cap = descriptors
            .saturating_sub(RESERVED_DESCRIPTORS)
            .max(MIN_CONNECTIONS);
        Limits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: usize::try_from(cap).unwrap_or(usize::MAX),
        }
    }
}

/// Serves `router` on `listener` under `limits` until `stop` completes, then waits
/// for open connections to finish their requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    tracing::info!(
        max_connections = limits.max_connections,
        header_read_timeout_secs = limits.header_read_timeout.as_secs(),
        "serving HTTP"
    );
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut refusals = Refusals::default();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refusals.record(limits.max_connections);
            continue; // dropping the stream closes it
        };
        spawn_connection(&http, &graceful, &router, stream, permit);
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection; its permit is given back when the connection closes.
fn spawn_connection(
    http: &http1::Builder,
    graceful: &GracefulShutdown,
    router: &Router,
    stream: TcpStream,
    permit: OwnedSemaphorePermit,
) {
    let service = TowerToHyperService::new(router.clone());
    let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
    tokio::spawn(async move {
        // Timeouts and clients hanging up end connections all the time; not news.
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection ended with an error");
        }
        drop(permit);
    });
}

/// Counts connections closed for being over the cap, and says so now and then.
#[derive(Default)]
struct Refusals {
    since_report: u64,
    reported_at: Option<Instant>,
}

impl Refusals {
    fn record(&mut self, cap: usize) {
        self.since_report += 1;
        let due = self
            .reported_at
            .is_none_or(|at| at.elapsed() >= REFUSAL_REPORT_INTERVAL);
        if due {
            tracing::warn!(
                refused = self.since_report,
                max_connections = cap,
                "closed connections over the cap"
            );
            self.since_report = 0;
            self.reported_at = Some(Instant::now());
        }
    }
}
