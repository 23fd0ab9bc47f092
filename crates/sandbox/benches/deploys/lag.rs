//! Lag from a state change in the fake Heroku to the Slack update that tells it.
//!
//! The moment of a change is when the fake's webhook delivery of it reaches a recorder
//! subscribed to every measured app beside the bot (each subscription is delivered
//! to on its own, so the two hear of a change at about the same moment; an update
//! sent before the recorder heard counts as no lag). The moment of the update
//! is when the fake Slack announces the parent's `chat.update` on its event stream.
//! Three changes per deploy: build succeeded -> "Releasing", release succeeded ->
//! "Restarting", dynos up -> "Deployed".
//!
//! The bot paces its own posts per channel (a burst of three, then one a second), and
//! a thread's update waits for the reply queued before it. So each lane deploys one
//! app at a time in one channel, lanes sharing a channel start apart, stages outlast
//! the pacing, and an update that still went out right behind its thread's previous
//! reply is counted as "behind a reply" (it stays in the figures).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::http::Method;
use chatops_fakes::slack::SlackEvent;
use chatops_fakes::{Failure, Fakes, FaultRule};
use secrecy::SecretString;

use crate::bot::{Bot, CHANNELS};
use crate::percentile::rank;
use crate::recorder::{self, Recorded};

/// Each lane starts deploys until this much time has passed.
const WINDOW: Duration = Duration::from_secs(40);
/// After a deploy's last reply, the channel's pacer gets a token back before the next.
const GAP: Duration = Duration::from_millis(1100);
/// Between the starts of lanes that share a channel.
const STAGGER: Duration = Duration::from_millis(1300);
/// An update held back by its thread's reply goes out within one outbox pass after it.
const RELEASED_BY_REPLY: Duration = Duration::from_millis(300);
const RELEASE_COMMAND: &str = "bundle exec rake db:migrate";

/// How the bot hears of changes in one measured run.
#[derive(Clone, Copy)]
pub struct Mode {
    pub label: &'static str,
    /// Names its pipelines (`lag-<key>-<n>`).
    pub key: &'static str,
    /// Whether the apps' webhooks may be created (otherwise `POST` answers 403).
    pub webhooks: bool,
    /// Whether the apps run a release command (without one, a release succeeds as it is
    /// created, together with the build).
    pub release_phase: bool,
    /// Lanes per channel.
    pub lanes: usize,
    /// Each stage (build, release phase, restart) takes a random time in this range.
    pub stage: (Duration, Duration),
    /// How long a deploy is expected to take, so none starts after the window.
    pub expected: Duration,
}

/// One change and the update that told it.
pub struct Sample {
    /// The chapter the change opens.
    pub chapter: &'static str,
    pub lag: Duration,
    /// The update had to wait for the thread's previous reply (channel pacing).
    pub behind_reply: bool,
}

#[derive(Clone)]
struct Seen<T> {
    at: Instant,
    what: T,
}

/// What the recorder and the Slack watcher saw, in arrival order.
#[derive(Clone)]
struct Log {
    heroku: Recorded,
    slack: Arc<Mutex<Vec<Seen<SlackEvent>>>>,
}

/// One app deployed over and over by one bot in one channel.
struct Lane {
    /// Lanes sharing a channel start apart, so their first posts do not queue up.
    start_after: Duration,
    pipeline: String,
    app: String,
    app_id: String,
    channel: &'static str,
}

/// Runs `mode` on `bot`; returns one sample per told change.
pub async fn measure(sandbox: &Fakes, bot: &Bot, mode: Mode) -> anyhow::Result<Vec<Sample>> {
    let (recorder, heroku) = recorder::start().await?;
    let log = Log {
        heroku,
        slack: Arc::default(),
    };
    let watcher = tokio::spawn(watch_slack(sandbox.slack.subscribe(), log.clone()));
    let lanes = add_lanes(sandbox, bot, mode, &recorder).await?;
    let started = Instant::now();
    let runs = lanes
        .iter()
        .map(|lane| run_lane(sandbox, bot, mode, lane, &log, started));
    let windows = futures_util::future::try_join_all(runs).await?;
    watcher.abort();
    let mut samples = Vec::new();
    for (lane, windows) in lanes.iter().zip(windows) {
        for window in windows {
            samples.extend(samples_of(&log, lane, window)?);
        }
    }
    anyhow::ensure!(!samples.is_empty(), "{}: no deploy finished", mode.label);
    Ok(samples)
}

/// A pipeline with one app per lane (with a release phase if `mode` says), watched by
/// the recorder; the bot's webhook subscriptions are refused unless `mode` allows them.
async fn add_lanes(
    sandbox: &Fakes,
    bot: &Bot,
    mode: Mode,
    recorder: &str,
) -> anyhow::Result<Vec<Lane>> {
    let token: SecretString = sandbox.heroku.token_for("alice@example.com").into();
    let mut lanes = Vec::new();
    for index in 0..mode.lanes * CHANNELS.len() {
        let pipeline = format!("lag-{}-{index}", mode.key);
        let app = format!("{pipeline}-staging");
        sandbox
            .heroku
            .add_pipeline(&pipeline, &[("staging", app.as_str())]);
        if mode.release_phase {
            sandbox
                .heroku
                .set_release_command(&app, Some(RELEASE_COMMAND));
        }
        bot.connect(&pipeline).await?;
        recorder::subscribe(&bot.state.heroku, &token, &app, recorder).await?;
        if !mode.webhooks {
            let path = format!("/apps/{app}/webhooks");
            let refuse = FaultRule::failing(Method::POST, &path, Failure::Status(403), 1);
            sandbox.heroku.faults.inject(refuse.forever());
        }
        lanes.push(Lane {
            start_after: STAGGER * (index / CHANNELS.len()) as u32,
            app_id: sandbox.heroku.app(&app).id,
            pipeline,
            app,
            channel: CHANNELS[index % CHANNELS.len()],
        });
    }
    Ok(lanes)
}

/// Deploys the lane's app one deploy at a time; returns each deploy's time window.
async fn run_lane(
    sandbox: &Fakes,
    bot: &Bot,
    mode: Mode,
    lane: &Lane,
    log: &Log,
    started: Instant,
) -> anyhow::Result<Vec<(Instant, Instant)>> {
    let mut windows = Vec::new();
    tokio::time::sleep(lane.start_after).await;
    while started.elapsed() + mode.expected < WINDOW {
        let heroku = &sandbox.heroku;
        heroku.set_build_duration(&lane.app, random_in(mode.stage));
        heroku.set_release_phase_duration(&lane.app, random_in(mode.stage));
        heroku.set_restart_duration(&lane.app, random_in(mode.stage));
        let from = Instant::now();
        let text = format!("deploy {} to staging", lane.pipeline);
        bot.command(sandbox, lane.channel, &text).await?;
        let done = format!("Deployed {} ...", lane.app);
        let to = wait_for_reply(log, from, &done).await?;
        windows.push((from, to));
        tokio::time::sleep(GAP).await;
    }
    Ok(windows)
}

fn random_in((low, high): (Duration, Duration)) -> Duration {
    low + (high - low).mul_f64(fastrand::f64())
}

/// When a reply starting with `text` was posted after `from`.
async fn wait_for_reply(log: &Log, from: Instant, text: &str) -> anyhow::Result<Instant> {
    let deadline = from + Duration::from_secs(60);
    loop {
        if let Some(at) = posted(log, from, text) {
            return Ok(at);
        }
        anyhow::ensure!(Instant::now() < deadline, "no `{text}` reply within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn posted(log: &Log, from: Instant, text: &str) -> Option<Instant> {
    let slack = log.slack.lock().expect("log lock");
    slack
        .iter()
        .filter(|seen| seen.at >= from)
        .find(|seen| matches!(&seen.what, SlackEvent::Posted(m) if m.text.starts_with(text)))
        .map(|seen| seen.at)
}

/// The chapters a parent goes through, in order.
const CHAPTERS: [&str; 4] = ["Deploying", "Releasing", "Restarting", "Deployed"];

/// The change that opens each chapter after the first: which entity, which field, and
/// the value it takes (the first event with it, whatever the action).
const CHANGES: [(&str, &str, &str); 3] = [
    ("build", "status", "succeeded"),
    ("release", "status", "succeeded"),
    ("dyno", "state", "up"),
];

/// The three told changes of the deploy in `window`. A change is told by the first
/// update to its chapter or a later one (an update superseded before it went out is
/// never shown).
fn samples_of(
    log: &Log,
    lane: &Lane,
    (from, to): (Instant, Instant),
) -> anyhow::Result<Vec<Sample>> {
    let heroku = log.heroku.snapshot();
    let slack = log.slack.lock().expect("log lock").clone();
    let mut samples = Vec::new();
    for (chapter, (entity, field, value)) in CHANGES.iter().enumerate() {
        let changed = heroku
            .iter()
            .find(|seen| {
                seen.at >= from
                    && seen.event["resource"] == *entity
                    && seen.event["data"]["app"]["id"] == lane.app_id.as_str()
                    && seen.event["data"][field] == *value
            })
            .with_context(|| format!("no {entity} {value} event for {}", lane.app))?
            .at;
        let telling: Vec<String> = CHAPTERS[chapter + 1..]
            .iter()
            .map(|word| format!("{word} {}", lane.app))
            .collect();
        let updated = slack
            .iter()
            .find(|seen| {
                (from..=to).contains(&seen.at)
                    && matches!(&seen.what, SlackEvent::Updated(m) if telling.contains(&m.text))
            })
            .with_context(|| format!("no update told {}", telling[0]))?
            .at;
        let before = format!("{} {} ...", CHAPTERS[chapter], lane.app);
        let reply = posted(log, from, &before).with_context(|| format!("no `{before}` reply"))?;
        samples.push(Sample {
            chapter: CHAPTERS[chapter + 1],
            lag: updated.saturating_duration_since(changed),
            behind_reply: reply > changed && updated < reply + RELEASED_BY_REPLY,
        });
    }
    Ok(samples)
}

pub fn print_header() {
    println!();
    println!(
        "lag from a Heroku change (build succeeded, release succeeded, dynos up; when its \
         webhook reached a recorder) to the chat.update of the parent that tells it"
    );
    println!(
        "{:<40} {:>7} {:>8} {:>8} {:>8} {:>14}",
        "mode", "samples", "p50 ms", "p99 ms", "max ms", "behind a reply"
    );
}

/// One row, then the same by chapter.
pub fn print(label: &str, samples: Vec<Sample>) {
    let behind = samples.iter().filter(|s| s.behind_reply).count();
    let all = sorted_ms(samples.iter());
    println!(
        "{:<40} {:>7} {:>8.1} {:>8.1} {:>8.1} {:>14}",
        label,
        all.len(),
        rank(&all, 0.50),
        rank(&all, 0.99),
        rank(&all, 1.0),
        behind
    );
    let chapters: Vec<String> = CHAPTERS[1..]
        .iter()
        .map(|chapter| {
            let lags = sorted_ms(samples.iter().filter(|s| s.chapter == *chapter));
            format!("{chapter} {:.1}/{:.1}", rank(&lags, 0.5), rank(&lags, 1.0))
        })
        .collect();
    println!("    by chapter, p50/max ms: {}", chapters.join(", "));
}

fn sorted_ms<'a>(samples: impl Iterator<Item = &'a Sample>) -> Vec<f64> {
    let mut lags: Vec<f64> = samples.map(|s| s.lag.as_secs_f64() * 1e3).collect();
    lags.sort_by(f64::total_cmp);
    lags
}

async fn watch_slack(mut events: tokio::sync::broadcast::Receiver<SlackEvent>, log: Log) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(event) => {
                let seen = Seen {
                    at: Instant::now(),
                    what: event,
                };
                log.slack.lock().expect("log lock").push(seen);
            }
            // A missed update shows as a missing sample, which fails the run.
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}
