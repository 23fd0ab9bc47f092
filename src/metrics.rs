//! What the bot is doing, as metrics in the Prometheus text format (OpenMetrics),
//! served at `GET /metrics` by [`crate::edge::metrics`].
//!
//! Owns every metric's definition. The registry belongs to one [`crate::bot::Bot`],
//! never to the process, so the many bots a test binary runs side by side count
//! separately.
//! Counters are bumped where things happen (the request layer, the deploy worker,
//! the outbound retry loops); how many deploys are in each state and how many Slack
//! messages wait are read from the store at scrape time, so they are right even when
//! another process did the work.

use std::time::Duration;

use anyhow::Context;
use axum::http::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

use crate::store::{DeployState, Store};

/// What `GET /metrics` answers with: the OpenMetrics text format, which Prometheus
/// asks for and parses.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `route` of requests that matched no route, so scanners probing random paths
/// cannot create a series per path.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Every state a deploy row can be in, so each has a series even at zero.
const DEPLOY_STATES: [DeployState; 6] = [
    DeployState::Requested,
    DeployState::Building,
    DeployState::Releasing,
    DeployState::Restarting,
    DeployState::Deployed,
    DeployState::Failed,
];

/// An outside service the bot calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Heroku,
    GitHub,
    Slack,
}

impl Service {
    fn label(self) -> &'static str {
        match self {
            Service::Heroku => "heroku",
            Service::GitHub => "github",
            Service::Slack => "slack",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route template (`/slack/commands`), never the raw path.
    route: String,
    /// The status class: `2xx`, `4xx`, ...
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    from: &'static str,
    to: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: &'static str,
    /// The status class of the last attempt, `timeout`, `unreachable`, or (Slack's
    /// HTTP 200 with `ok: false`) `refused`, or (an answer not understood) `unexpected`.
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: &'static str,
}

/// One app's metrics and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    transitions: Family<TransitionLabels, Counter>,
    deploys: Family<StateLabels, Gauge>,
    outbox_depth: Gauge,
    calls: Family<CallLabels, Counter>,
    retries: Family<ServiceLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric, registered and at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let r = &mut registry;
        let requests = registered(
            r,
            "chatops_http_requests",
            "HTTP requests served, by route template and status class",
            Family::default(),
        );
        let latency = registered(
            r,
            "chatops_http_request_duration_seconds",
            "How long HTTP requests took to answer, by route template and status class",
            Family::new_with_constructor(latency_histogram as fn() -> Histogram),
        );
        let transitions = registered(
            r,
            "chatops_deploy_transitions",
            "Deploys that moved from one state to another",
            Family::default(),
        );
        let deploys = registered(
            r,
            "chatops_deploys",
            "Deploys in each state, read from the database at scrape time",
            Family::default(),
        );
        let outbox_depth = registered(
            r,
            "chatops_outbox_depth",
            "Slack messages waiting to be sent, read from the database at scrape time",
            Gauge::default(),
        );
        let calls = registered(
            r,
            "chatops_external_calls",
            "Calls to Heroku, GitHub and Slack, by the outcome of their last attempt",
            Family::default(),
        );
        let retries = registered(
            r,
            "chatops_external_retries",
            "Attempts repeated after a transient failure, by service",
            Family::default(),
        );
        Metrics {
            registry,
            requests,
            latency,
            transitions,
            deploys,
            outbox_depth,
            calls,
            retries,
        }
    }

    /// The counters a client of `service` bumps.
    pub fn calls(&self, service: Service) -> ExternalCalls {
        ExternalCalls {
            service,
            calls: self.calls.clone(),
            retries: self.retries.clone(),
        }
    }

    /// Counts a deploy that moved from state `from` to state `to`.
    pub fn deploy_moved(&self, from: DeployState, to: DeployState) {
        let labels = TransitionLabels {
            from: from.as_str(),
            to: to.as_str(),
        };
        self.transitions.get_or_create(&labels).inc();
    }

    pub fn request_served(&self, route: String, status: StatusCode, took: Duration) {
        let labels = RequestLabels {
            route,
            outcome: status_class(status.as_u16()),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Reads the store's gauges, then renders every metric.
    pub async fn render(&self, store: &Store) -> anyhow::Result<String> {
        let counts = store.count_deploys_by_state().await?;
        for state in DEPLOY_STATES {
            let count = counts
                .iter()
                .find(|(counted, _)| *counted == state)
                .map_or(0, |(_, count)| *count);
            self.deploys
                .get_or_create(&StateLabels {
                    state: state.as_str(),
                })
                .set(count);
        }
        self.outbox_depth.set(store.pending_messages().await?);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .context("cannot encode the metrics")?;
        Ok(text)
    }
}

/// Registers `metric` as `name` and returns the handle that updates it.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// From 1 ms to about 8 s: Slack wants an answer within 3 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

/// `2xx`, `4xx`, ...: the label for an HTTP status.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The counters of one service's outbound calls. Cheap to clone; clones count into
/// the same metrics.
#[derive(Debug, Clone)]
pub struct ExternalCalls {
    service: Service,
    calls: Family<CallLabels, Counter>,
    retries: Family<ServiceLabels, Counter>,
}

impl ExternalCalls {
    /// Counters in no registry, for a client built outside a [`crate::bot::Bot`] (a test of the
    /// client alone): they count, and nothing shows them.
    pub fn unregistered(service: Service) -> ExternalCalls {
        ExternalCalls {
            service,
            calls: Family::default(),
            retries: Family::default(),
        }
    }

    /// One attempt failed transiently and is about to be repeated.
    pub fn retried(&self) {
        let labels = ServiceLabels {
            service: self.service.label(),
        };
        self.retries.get_or_create(&labels).inc();
    }

    /// A call ended (after its retries) with `outcome`, e.g. from [`status_class`].
    pub fn finished(&self, outcome: &'static str) {
        let labels = CallLabels {
            service: self.service.label(),
            outcome,
        };
        self.calls.get_or_create(&labels).inc();
    }
}
