//! Progress lag with webhooks, across processes: from the moment a Heroku change's
//! webhook reached the recorder (this process's wall clock) to the `deploy moved` line
//! of whichever bot process acted on it (the wall-clock timestamp of its JSON log
//! line). Measured to the bot's state transition, not to the Slack message that
//! tells it, since Slack's pace delays the messages themselves.
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

/// The lags of every step, in ms, sorted.
pub struct Lags {
    pub sorted_ms: Vec<f64>,
    /// Steps the bot took before the recorder heard of the change (its 5 s poll found
    /// it first); they count as 0 ms.
    pub before_webhook: usize,
}

/// Matches each `deploy moved` line in `lines` with the recorded change that caused
/// it; `app_ids` maps each deploy to its Heroku app id. `origin` is one moment on both
/// clocks, to put the recorder's receipts on the wall clock of the log lines.
pub fn measure(
    lines: &[String],
    app_ids: &HashMap<i64, String>,
    received: &[Received],
    origin: (Instant, SystemTime),
) -> anyhow::Result<Lags> {
    let changed = first_changes(received, origin);
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
        let heard = changed
            .get(&(app.clone(), step))
            .with_context(|| format!("no webhook for step {step} of deploy {deploy}"))?;
        let moved = line["timestamp"].as_str().and_then(unix_seconds);
        let lag_ms = (moved.context("a log line without a timestamp")? - heard) * 1e3;
        if lag_ms < 0.0 {
            before_webhook += 1;
        }
        sorted_ms.push(lag_ms.max(0.0));
    }
    sorted_ms.sort_by(f64::total_cmp);
    Ok(Lags {
        sorted_ms,
        before_webhook,
    })
}

/// When the recorder first heard of each `(app id, step)` change, in Unix seconds.
fn first_changes(
    received: &[Received],
    (instant, wall): (Instant, SystemTime),
) -> HashMap<(String, usize), f64> {
    let mut changed = HashMap::new();
    for seen in received {
        let event = &seen.event;
        for (step, (_, _, (entity, field, value))) in STEPS.iter().enumerate() {
            if event["resource"] == *entity && event["data"][field] == *value {
                let app = event["data"]["app"]["id"].as_str().unwrap_or_default();
                changed
                    .entry((app.to_owned(), step))
                    .or_insert_with(|| unix(wall + seen.at.duration_since(instant)));
            }
        }
    }
    changed
}

fn unix(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
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
