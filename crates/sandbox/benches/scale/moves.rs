//! Progress lag, across processes: from a Heroku change to the `deploy moved` line of
//! whichever bot process acted on it (the wall-clock timestamp of its JSON log line).
//! Measured to the bot's state transition, not to the Slack message that tells it,
//! since Slack's pace delays the messages themselves.
//!
//! The moment of a change is when the fake Heroku published it (the `published` of
//! its deliveries, found through the recorder's copy of the event), not when the
//! recorder received it: with 1,000 deploys at once deliveries can fall behind, and
//! then the bot's own 5 s poll finds changes before their webhooks arrive. How far
//! the deliveries fell behind, and how many steps the bot took before the webhook
//! reached the recorder, are reported beside the lag.
//!
//! Three changes per deploy: build succeeded (building -> releasing), release
//! succeeded (releasing -> restarting), dynos up (restarting -> deployed).

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::Value;

use crate::recorder::Received;

/// Each step: the transition, and the change (entity, field, value) that causes it.
const STEPS: [(&str, &str, (&str, &str, &str)); 3] = [
    ("building", "releasing", ("build", "status", "succeeded")),
    (
        "releasing",
        "restarting",
        ("release", "status", "succeeded"),
    ),
    ("restarting", "deployed", ("dyno", "state", "up")),
];

/// What the matching found, in ms, each sorted.
pub struct Lags {
    /// From each change to the step that acted on it.
    pub sorted_ms: Vec<f64>,
    /// From each change to its webhook reaching the recorder.
    pub delivery_ms: Vec<f64>,
    /// Steps taken before the change's webhook reached the recorder.
    pub before_webhook: usize,
}

/// When a change happened, and when the recorder heard of it (Unix seconds).
#[derive(Clone, Copy)]
struct Change {
    published: f64,
    received: f64,
}

/// The clocks of one run: one moment on both, to put this process's instants on the
/// wall clock of the log lines; and when the fake published each delivery, by id.
pub struct Clocks<'a> {
    pub origin: (Instant, SystemTime),
    pub published: &'a HashMap<String, Instant>,
}

impl Clocks<'_> {
    fn unix(&self, at: Instant) -> f64 {
        let (instant, wall) = self.origin;
        let at = if at >= instant {
            wall + (at - instant)
        } else {
            wall - (instant - at)
        };
        at.duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    }
}

/// Matches each `deploy moved` line in `lines` with the recorded change that caused
/// it; `app_ids` maps each deploy to its Heroku app id.
pub fn measure(
    lines: &[String],
    app_ids: &HashMap<i64, String>,
    received: &[Received],
    clocks: &Clocks,
) -> anyhow::Result<Lags> {
    let changes = first_changes(received, clocks)?;
    let (mut sorted_ms, mut before_webhook) = (Vec::new(), 0);
    for line in lines {
        let Ok(line) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if line["message"] != "deploy moved" {
            continue;
        }
        let Some(step) = STEPS
            .iter()
            .position(|(from, to, _)| line["from"] == *from && line["to"] == *to)
        else {
            continue;
        };
        let deploy = line["deploy"]
            .as_i64()
            .context("deploy moved without a deploy")?;
        let app = app_ids.get(&deploy).context("a moved deploy with no app")?;
        let change = changes
            .get(&(app.clone(), step))
            .with_context(|| format!("no webhook for step {step} of deploy {deploy}"))?;
        let moved = line["timestamp"].as_str().and_then(unix_seconds);
        let moved = moved.context("a log line without a timestamp")?;
        if moved < change.received {
            before_webhook += 1;
        }
        // Two clocks read a few microseconds apart: never below zero.
        sorted_ms.push(((moved - change.published) * 1e3).max(0.0));
    }
    sorted_ms.sort_by(f64::total_cmp);
    let mut delivery_ms: Vec<f64> = changes
        .values()
        .map(|change| (change.received - change.published) * 1e3)
        .collect();
    delivery_ms.sort_by(f64::total_cmp);
    Ok(Lags {
        sorted_ms,
        delivery_ms,
        before_webhook,
    })
}

/// Each `(app id, step)` change the recorder heard of, the first time.
fn first_changes(
    received: &[Received],
    clocks: &Clocks,
) -> anyhow::Result<HashMap<(String, usize), Change>> {
    let mut changes = HashMap::new();
    for seen in received {
        let event = &seen.event;
        for (step, (_, _, (entity, field, value))) in STEPS.iter().enumerate() {
            if event["resource"] != *entity || event["data"][field] != *value {
                continue;
            }
            let app = event["data"]["app"]["id"].as_str().unwrap_or_default();
            let delivery = event["webhook_metadata"]["delivery"]["id"].as_str();
            let published = delivery
                .and_then(|id| clocks.published.get(id))
                .context("a recorded event the fake did not deliver")?;
            changes
                .entry((app.to_owned(), step))
                .or_insert_with(|| Change {
                    published: clocks.unix(*published),
                    received: clocks.unix(seen.at),
                });
        }
    }
    Ok(changes)
}

/// A UTC RFC 3339 timestamp as `tracing` writes it (`2026-12-06T10:15:02.123456Z`),
/// in Unix seconds: the whole seconds as the bot reads Heroku's, plus the fraction.
fn unix_seconds(stamp: &str) -> Option<f64> {
    let whole = chatops::when::parse_utc(stamp)? as f64 / 1e3;
    let fraction = match stamp.strip_suffix('Z')?.split_once('.') {
        Some((_, digits)) => format!("0.{digits}").parse::<f64>().ok()?,
        None => 0.0,
    };
    Some(whole + fraction)
}
