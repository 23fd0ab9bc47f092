//! Throughput: [`DEPLOYS`] deploys typed at once, one app each, with builds, release
//! phases and restarts taking no time; how long until every one is deployed, and the
//! CPU time and peak memory of this process meanwhile.
//!
//! "Completed" means the deploy row reached `deployed`. The Slack story of a deploy
//! runs behind it: the bot posts at most about one message per second per channel (as
//! Slack allows), so 1,000 threads in two channels take far longer to tell than to
//! happen; what is still queued at the end is printed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chatops::store::DeployState;
use chatops_fakes::Fakes;
use chatops_fakes::heroku::Timings;
use chatops_fakes::slack::Pacing;
use futures_util::StreamExt;

use crate::bot::{Bot, CHANNELS};
use crate::database::Database;
use crate::procfs::{cpu_time, memory_mib, reset_peak_memory};
use chatops_sandbox::budgets::keep_budgets_full;

/// Concurrent deploys, one app each.
pub const DEPLOYS: usize = 1000;
/// How long the process is watched after the last deploy finished.
const AFTERWARDS: Duration = Duration::from_secs(2);
/// Commands in flight at once while the deploys are typed.
const TYPISTS: usize = 16;
/// Builds, release phases and restarts finish as soon as the fake can run them.
const INSTANT: Timings = Timings {
    build: Duration::ZERO,
    release_phase: Duration::ZERO,
    restart: Duration::ZERO,
    promotion: Duration::ZERO,
};

/// What one run measured.
pub struct Run {
    backend: &'static str,
    poll: Duration,
    wall: Duration,
    cpu: Duration,
    rss_before: f64,
    peak: f64,
    deliveries_queued: usize,
    deliveries: usize,
    slack_calls: BTreeMap<String, usize>,
    outbox_pending: i64,
    github_requests: usize,
    /// Cores busy in the [`AFTERWARDS`] after the last deploy finished: the outbox
    /// working through its queue, the fake Heroku through its deliveries.
    afterwards: f64,
}

pub fn print_header() {
    println!(
        "{DEPLOYS} deploys typed at once, one app each, over {} channels; fake Heroku at zero \
         latency, fake Slack unpaced, webhooks on; bot and fakes in this process ({} cores)",
        CHANNELS.len(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "{:<9} {:>7} {:>7} {:>10} {:>7} {:>9} {:>11} {:>9}",
        "backend", "poll", "wall s", "deploys/s", "CPU s", "CPU ms/d", "start MiB", "peak MiB"
    );
}

impl Run {
    pub fn print(&self) {
        let n = DEPLOYS as f64;
        println!(
            "{:<9} {:>7} {:>7.2} {:>10.1} {:>7.2} {:>9.2} {:>11.1} {:>9.1}",
            self.backend,
            format!("{} ms", self.poll.as_millis()),
            self.wall.as_secs_f64(),
            n / self.wall.as_secs_f64(),
            self.cpu.as_secs_f64(),
            self.cpu.as_secs_f64() * 1e3 / n,
            self.rss_before,
            self.peak
        );
        let calls: Vec<String> = self
            .slack_calls
            .iter()
            .map(|(method, count)| format!("{method} {count}"))
            .collect();
        println!(
            "    when the last deploy finished: {} of {} webhook deliveries still queued in the \
             fake; {} posts queued in the outbox; Slack calls so far: {}; {:.1} GitHub requests \
             per deploy; with no deploy left, the next {} s took {:.0}% of a core",
            self.deliveries_queued,
            self.deliveries,
            self.outbox_pending,
            calls.join(", "),
            self.github_requests as f64 / n,
            AFTERWARDS.as_secs(),
            self.afterwards * 100.0
        );
    }
}

/// Types [`DEPLOYS`] deploys at once on a fresh sandbox and database, and waits until
/// every one is deployed.
pub async fn run(database: &Database, poll: Duration) -> anyhow::Result<Run> {
    let sandbox = Fakes::start().await?;
    sandbox.slack.set_pacing(Pacing::unlimited());
    let names: Vec<String> = (1..=DEPLOYS).map(|n| format!("bench-{n:04}")).collect();
    for name in &names {
        let app = format!("{name}-staging");
        sandbox
            .heroku
            .add_pipeline(name, &[("staging", app.as_str())]);
    }
    sandbox.heroku.set_timings(INSTANT);
    let bot = Bot::start(&sandbox, database, poll).await?;
    for name in &names {
        bot.connect(name).await?;
    }
    let refill = tokio::spawn(keep_budgets_full(
        sandbox.heroku.clone(),
        sandbox.github.clone(),
    ));
    let github_before = sandbox.github.requests().len();
    let rss_before = memory_mib("self", "VmRSS:")?;
    reset_peak_memory()?;
    let cpu_before = cpu_time("self")?;
    let started = Instant::now();
    type_all(&bot, &sandbox, &names).await?;
    bot.wait_finished(DEPLOYS).await?;
    let (wall, cpu, peak) = (
        started.elapsed(),
        cpu_time("self")? - cpu_before,
        memory_mib("self", "VmHWM:")?,
    );
    let deliveries = sandbox.heroku.deliveries();
    let idle_from = cpu_time("self")?;
    tokio::time::sleep(AFTERWARDS).await;
    let afterwards = (cpu_time("self")? - idle_from).as_secs_f64() / AFTERWARDS.as_secs_f64();
    refill.abort();
    if let Some(failed) = bot
        .state
        .store
        .deploys()
        .await?
        .iter()
        .find(|d| d.state != DeployState::Deployed)
    {
        anyhow::bail!(
            "deploy {} ended {}: {:?}",
            failed.id,
            failed.state,
            failed.failure
        );
    }
    let mut slack_calls = BTreeMap::new();
    for call in sandbox.slack.api_calls() {
        *slack_calls.entry(call.method).or_insert(0) += 1;
    }
    let run = Run {
        backend: database.backend,
        poll,
        wall,
        cpu,
        rss_before,
        peak,
        deliveries_queued: deliveries.iter().filter(|d| d.attempts == 0).count(),
        deliveries: deliveries.len(),
        slack_calls,
        outbox_pending: bot.state.store.pending_messages().await?,
        github_requests: sandbox.github.requests().len() - github_before,
        afterwards,
    };
    bot.stop().await?;
    Ok(run)
}

/// `/h deploy <name> to staging` for every name, [`TYPISTS`] at a time, alternating
/// channels.
async fn type_all(bot: &Bot, sandbox: &Fakes, names: &[String]) -> anyhow::Result<()> {
    let typed: Vec<anyhow::Result<()>> = futures_util::stream::iter(names.iter().enumerate())
        .map(|(n, name)| async move {
            let text = format!("deploy {name} to staging");
            bot.command(sandbox, CHANNELS[n % CHANNELS.len()], &text)
                .await
        })
        .buffer_unordered(TYPISTS)
        .collect()
        .await;
    typed.into_iter().collect()
}
