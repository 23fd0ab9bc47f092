//! `GET /metrics` end to end: after real requests and a deploy through the sandbox, the
//! scrape is parsed as the Prometheus text format and its numbers checked.

use crate::common;

use std::collections::BTreeMap;

use axum::http::Method;
use chatops::store::DeployState;
use chatops_fakes::{Failure, FaultRule};
use common::TestApp;
use common::deploys::{ALICE, DeployWorld, finished_deploy, settle_outbox};

/// One sample line: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Every sample of an exposition, failing the test on a line that is not one.
fn samples(text: &str) -> Vec<Sample> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "OpenMetrics ends with # EOF");
    lines
        .iter()
        .filter(|line| !line.starts_with('#'))
        .map(|line| sample(line).unwrap_or_else(|| panic!("not a sample line: {line:?}")))
        .collect()
}

fn sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, labels(rest.strip_suffix('}')?)?),
        None => (series, BTreeMap::new()),
    };
    let value = match value {
        "+Inf" => f64::INFINITY,
        number => number.parse().ok()?,
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `a="x",b="y"` (the values here never contain quotes or commas).
fn labels(text: &str) -> Option<BTreeMap<String, String>> {
    text.split(',')
        .map(|pair| {
            let (key, quoted) = pair.split_once('=')?;
            let value = quoted.strip_prefix('"')?.strip_suffix('"')?;
            Some((key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The value of the one sample named `name` with exactly `labels`, or 0 when the
/// series was never created.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<_> = samples
        .iter()
        .filter(|s| s.name == name && s.labels == wanted)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} appears twice");
    found.first().map_or(0.0, |s| s.value)
}

/// `GET /metrics`: the content type and the parsed samples.
async fn scrape(app: &TestApp) -> (String, Vec<Sample>) {
    let response = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, samples(&response.text().await.unwrap()))
}

#[tokio::test]
async fn metrics_count_requests_deploys_outbox_and_outside_calls() {
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let app = &world.app;
        // The first pipeline lookup fails once: the deploy goes on after one retry.
        app.sandbox.heroku.faults.inject(FaultRule::failing(
            Method::GET,
            "/pipelines",
            Failure::Status(503),
            1,
        ));
        let (status, _) = app.command("help").await;
        assert_eq!(status, 200);
        world.command(ALICE, "deploy paipu to staging").await;
        let deploy = finished_deploy(app).await;
        assert_eq!(deploy.state, DeployState::Deployed, "{:?}", deploy.failure);
        settle_outbox(app).await;
        let stray = app.http.get(format!("{}/no/such/page", app.base_url));
        assert_eq!(stray.send().await.unwrap().status(), 404);

        let (content_type, samples) = scrape(app).await;
        assert_eq!(
            content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let commands = [("outcome", "2xx"), ("route", "/slack/commands")];
        assert_eq!(
            value(&samples, "chatops_http_requests_total", &commands),
            2.0
        );
        assert_latency_histogram(&samples, &commands, 2.0);
        let unmatched = [("outcome", "4xx"), ("route", "unmatched")];
        assert_eq!(
            value(&samples, "chatops_http_requests_total", &unmatched),
            1.0
        );
        assert!(
            !samples
                .iter()
                .any(|s| s.labels.get("route").is_some_and(|r| r.contains("such"))),
            "raw paths never become labels"
        );

        let moves = [
            ("requested", "building"),
            ("building", "releasing"),
            ("releasing", "restarting"),
            ("restarting", "deployed"),
        ];
        for (from, to) in moves {
            let labels = [("from", from), ("to", to)];
            let moved = value(&samples, "chatops_deploy_transitions_total", &labels);
            assert_eq!(moved, 1.0, "{from} -> {to}");
        }
        for (state, count) in [("deployed", 1.0), ("failed", 0.0), ("building", 0.0)] {
            let deploys = value(&samples, "chatops_deploys", &[("state", state)]);
            assert_eq!(deploys, count, "deploys {state}");
        }
        assert_eq!(value(&samples, "chatops_outbox_depth", &[]), 0.0);

        for service in ["heroku", "github", "slack"] {
            let labels = [("outcome", "2xx"), ("service", service)];
            let calls = value(&samples, "chatops_external_calls_total", &labels);
            assert!(calls > 0.0, "{service} calls: {calls}");
        }
        let retries = |service| {
            value(
                &samples,
                "chatops_external_retries_total",
                &[("service", service)],
            )
        };
        assert_eq!(retries("heroku"), 1.0);
        assert_eq!(retries("github"), 0.0);
        world.finish().await;
    }
}

/// The latency histogram of `labels` holds `count` observations in cumulative buckets.
fn assert_latency_histogram(samples: &[Sample], labels: &[(&str, &str)], count: f64) {
    let name = "chatops_http_request_duration_seconds";
    assert_eq!(value(samples, &format!("{name}_count"), labels), count);
    assert!(value(samples, &format!("{name}_sum"), labels) > 0.0);
    let buckets: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == format!("{name}_bucket")
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(buckets.len() > 5, "{buckets:?}");
    let last = buckets.last().unwrap();
    assert_eq!(last.labels["le"], "+Inf");
    assert_eq!(last.value, count);
    assert!(
        buckets
            .windows(2)
            .all(|pair| pair[0].value <= pair[1].value),
        "buckets are cumulative: {buckets:?}"
    );
}

/// With `METRICS_TOKEN` set, a scrape without it, with another token, with more or
/// less than it, or without the `Bearer` scheme gets 401 and no numbers.
#[tokio::test]
async fn a_metrics_token_when_set_is_the_only_way_in() {
    const TOKEN: &str = "scrape-me-with-this-token";
    for db in common::databases().await {
        let configure = |config: &mut chatops::config::Config| {
            config.metrics_token = Some(TOKEN.to_owned().into());
        };
        let app = TestApp::spawn_configured(db, chatops::clock::Clock::system(), configure).await;
        let refused = [
            None,
            Some("Bearer wrong".to_owned()),
            Some(format!("Bearer {TOKEN}x")),
            Some(format!("Bearer {}", &TOKEN[..10])),
            Some(TOKEN.to_owned()),
            Some(format!("Basic {TOKEN}")),
        ];
        for authorization in refused {
            let mut request = app.http.get(format!("{}/metrics", app.base_url));
            if let Some(value) = &authorization {
                request = request.header("authorization", value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{authorization:?}");
            assert_eq!(
                response.text().await.unwrap(),
                "Metrics need `Authorization: Bearer <METRICS_TOKEN>`.\n"
            );
        }
        let response = app
            .http
            .get(format!("{}/metrics", app.base_url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let samples = samples(&response.text().await.unwrap());
        let refusals = [("outcome", "4xx"), ("route", "/metrics")];
        assert_eq!(
            value(&samples, "chatops_http_requests_total", &refusals),
            6.0
        );
        app.finish().await;
    }
}
