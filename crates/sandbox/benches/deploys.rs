//! Deploys through the sandbox: how many complete per second when the services answer
//! at once, the CPU time and peak memory of 1,000 concurrent deploys, and the lag from
//! a Heroku state change to the Slack update that tells it, with webhooks and with
//! polling alone. Run with `cargo bench --bench deploys` (about a minute); set
//! `BENCH_DATABASE_URL=postgres://...` to also measure throughput on PostgreSQL, and
//! `DEPLOYS_BENCH=lag` or `DEPLOYS_BENCH=throughput` to run only one half.
//!
//! Everything runs in this process: the bot exactly as `serve` runs it (deploy worker,
//! outbox, webhook receiver, INFO logging formatted into a sink) and the three fakes,
//! whose CPU time and memory are therefore part of the figures.

#[path = "deploys/bot.rs"]
mod bot;
#[path = "shared/database.rs"]
mod database;
#[path = "deploys/lag.rs"]
mod lag;
#[path = "shared/percentile.rs"]
mod percentile;
#[path = "shared/procfs.rs"]
mod procfs;
#[path = "shared/recorder.rs"]
mod recorder;
#[path = "deploys/throughput.rs"]
mod throughput;

use std::time::Duration;

use bot::Bot;
use chatops_fakes::Fakes;
use chatops_fakes::slack::Pacing;
use database::Database;

/// Production's `POLL_INTERVAL_MS` default.
const PRODUCTION_POLL: Duration = Duration::from_secs(5);
/// The sandbox's: deploys are checked so often that the bot never idles.
const SANDBOX_POLL: Duration = Duration::from_millis(50);

/// Names the one throughput run a child process of this benchmark performs, as
/// `<backend> <poll ms>`: each run gets a process of its own, so its CPU time and peak
/// memory are its own too.
const RUN: &str = "CHATOPS_DEPLOYS_BENCH_RUN";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .try_init()
        .ok();
    if let Ok(run) = std::env::var(RUN) {
        return one_run(&run).await;
    }
    // `DEPLOYS_BENCH=lag` (or `throughput`) runs one half, to measure it on its own.
    let only = std::env::var("DEPLOYS_BENCH").unwrap_or_default();
    if only != "lag" {
        throughput_runs().await?;
    }
    if only != "throughput" {
        latency().await?;
    }
    Ok(())
}

/// The throughput runs, each in a child process of its own.
async fn throughput_runs() -> anyhow::Result<()> {
    throughput::print_header();
    let mut backends = vec!["sqlite"];
    if std::env::var("BENCH_DATABASE_URL").is_ok() {
        backends.push("postgres");
    }
    for backend in backends {
        for poll in [SANDBOX_POLL, PRODUCTION_POLL] {
            let status = tokio::process::Command::new(std::env::current_exe()?)
                .env(RUN, format!("{backend} {}", poll.as_millis()))
                .status()
                .await?;
            anyhow::ensure!(status.success(), "the {backend} run failed: {status}");
        }
    }
    Ok(())
}

/// One throughput run on a fresh database, printed as a row.
async fn one_run(run: &str) -> anyhow::Result<()> {
    let (backend, poll) = run.split_once(' ').unwrap_or((run, "50"));
    let poll = Duration::from_millis(poll.parse()?);
    let database = match backend {
        "postgres" => Database::postgres(&std::env::var("BENCH_DATABASE_URL")?).await?,
        _ => Database::sqlite()?,
    };
    throughput::run(&database, poll).await?.print();
    database.drop_it().await
}

/// The lag runs, all at once, each with its own bot (and so its own Slack pacer) on
/// one sandbox; each bot polls at the production interval.
async fn latency() -> anyhow::Result<()> {
    let sandbox = Fakes::start().await?;
    sandbox.slack.set_pacing(Pacing::unlimited());
    let stage = |low, high| (Duration::from_millis(low), Duration::from_millis(high));
    let modes = [
        lag::Mode {
            label: "webhooks, app with a release phase",
            key: "hooks",
            webhooks: true,
            release_phase: true,
            lanes: 1,
            stage: stage(1300, 2300),
            expected: Duration::from_secs(7),
        },
        lag::Mode {
            label: "webhooks, app without a release phase",
            key: "plain",
            webhooks: true,
            release_phase: false,
            lanes: 1,
            stage: stage(1300, 2300),
            expected: Duration::from_secs(6),
        },
        lag::Mode {
            label: "polling every 5 s, webhooks refused",
            key: "polls",
            webhooks: false,
            release_phase: true,
            lanes: 2,
            stage: stage(500, 4500),
            expected: Duration::from_secs(14),
        },
    ];
    let mut runs = Vec::new();
    for mode in modes {
        let database = Database::sqlite()?;
        let bot = Bot::start(&sandbox, &database, PRODUCTION_POLL).await?;
        runs.push((mode, bot, database));
    }
    let measured = runs
        .iter()
        .map(|(mode, bot, _)| lag::measure(&sandbox, bot, *mode));
    let samples = futures_util::future::try_join_all(measured).await?;
    lag::print_header();
    for ((mode, bot, database), samples) in runs.into_iter().zip(samples) {
        lag::print(mode.label, samples);
        bot.stop().await?;
        database.drop_it().await?;
    }
    Ok(())
}
