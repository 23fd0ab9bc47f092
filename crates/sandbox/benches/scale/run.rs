//! One scale-out run: `processes` bot processes on a fresh PostgreSQL database, the
//! deploys typed to each in turn, watched until every deploy is deployed and every
//! Slack message sent; what it measured, as one row of the table.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use chatops::store::DeployState;
use chatops_sandbox::SANDBOX_SIGNING_SECRET;
use chatops_sandbox::budgets::keep_budgets_full;
use chatops_sandbox::process::BotProcess;
use chatops_sandbox::slash::{SlashSender, Typist};
use futures_util::StreamExt;

use crate::database::Database;
use crate::moves::{self, Clocks, Lags};
use crate::procfs::{cpu_time, memory_mib, reset_peak_memory};
use crate::world::{ALICE, World};

/// Commands in flight at once while the deploys are typed.
const TYPISTS: usize = 16;
/// A guard against a run that never finishes.
const DEADLINE: Duration = Duration::from_secs(45 * 60);

/// What one run measured.
pub struct Row {
    pub backend: &'static str,
    pub processes: usize,
    pub deploys: usize,
    /// From the first command to the last deploy `deployed`.
    pub all_deployed: Duration,
    /// From the first command to no Slack message pending.
    pub drained: Duration,
    pub lags: Lags,
    pub slack_429s: usize,
    /// User plus system CPU of the bot processes, summed, from start to drained.
    pub bots_cpu: Duration,
    /// This process's meanwhile: the fakes, the recorder, the typing and watching.
    pub bench_cpu: Duration,
    /// `VmHWM` of each bot process.
    pub peak_mib: Vec<f64>,
    /// Requests per deploy each service received, from the fakes' own logs.
    pub heroku_requests: u64,
    pub github_requests: usize,
    pub slack_posts: usize,
    pub slack_updates: usize,
}

/// Runs `processes` bots on a fresh database on `server` (PostgreSQL), or on SQLite
/// without one (one process only: SQLite serves one).
pub async fn run(server: Option<&str>, processes: usize, deploys: usize) -> anyhow::Result<Row> {
    let database = match server {
        Some(server) => Database::postgres(server).await?,
        None => Database::sqlite()?,
    };
    let world = World::new(&database, deploys).await?;
    let mut bots = Vec::new();
    for n in 0..processes {
        bots.push(BotProcess::start(&format!("bot {n}"), &world.process_config()).await);
    }
    let sandbox = &world.sandbox;
    let refill = tokio::spawn(keep_budgets_full(
        sandbox.heroku.clone(),
        sandbox.github.clone(),
    ));
    let heroku_before = sandbox.heroku.requests_total();
    let github_before = sandbox.github.requests().len();
    let pids: Vec<String> = bots.iter().map(|bot| bot.pid().to_string()).collect();
    let cpu_of = |pids: &[String]| -> anyhow::Result<Duration> {
        pids.iter().map(|pid| cpu_time(pid)).sum()
    };
    let bots_before = cpu_of(&pids)?;
    reset_peak_memory()?;
    let bench_before = cpu_time("self")?;
    let started = Instant::now();
    let origin = (started, SystemTime::now());
    type_all(&world, &bots).await?;
    let (all_deployed, drained) = wait_done(&database, deploys, started).await?;
    let bots_cpu = cpu_of(&pids)? - bots_before;
    let bench_cpu = cpu_time("self")? - bench_before;
    refill.abort();
    let peak_mib = pids
        .iter()
        .map(|pid| memory_mib(pid, "VmHWM:"))
        .collect::<anyhow::Result<_>>()?;
    let store = &world.setup.store;
    let mut app_ids = HashMap::new();
    for deploy in store.deploys().await? {
        anyhow::ensure!(
            deploy.state == DeployState::Deployed,
            "deploy {} ended {}: {:?}",
            deploy.id,
            deploy.state,
            deploy.failure
        );
        app_ids.insert(deploy.id, deploy.app_id.unwrap_or_default());
    }
    let lines: Vec<String> = bots.iter().flat_map(BotProcess::log_lines).collect();
    let published: HashMap<String, Instant> = sandbox
        .heroku
        .deliveries()
        .into_iter()
        .map(|delivery| (delivery.id, delivery.published))
        .collect();
    let clocks = Clocks {
        origin,
        published: &published,
    };
    let lags = moves::measure(&lines, &app_ids, &world.recorded.snapshot(), &clocks)?;
    let calls = sandbox.slack.api_calls();
    let count = |method: &str| calls.iter().filter(|call| call.method == method).count();
    let row = Row {
        backend: database.backend,
        processes,
        deploys,
        all_deployed,
        drained,
        lags,
        slack_429s: calls.iter().filter(|call| call.status == 429).count(),
        bots_cpu,
        bench_cpu,
        peak_mib,
        heroku_requests: sandbox.heroku.requests_total() - heroku_before,
        github_requests: sandbox.github.requests().len() - github_before,
        slack_posts: count("chat.postMessage"),
        slack_updates: count("chat.update"),
    };
    for bot in bots {
        bot.terminate();
    }
    world.finish().await;
    database.drop_it().await?;
    Ok(row)
}

/// `/h deploy <pipeline> to staging` for every target, in its workspace and channel,
/// to each process in turn, [`TYPISTS`] at a time.
async fn type_all(world: &World, bots: &[BotProcess]) -> anyhow::Result<()> {
    let senders: Vec<SlashSender> = bots
        .iter()
        .map(|bot| {
            SlashSender::new(
                &format!("{}/slack/commands", bot.url),
                SANDBOX_SIGNING_SECRET,
            )
        })
        .collect();
    let slack = &world.sandbox.slack;
    let typed: Vec<anyhow::Result<()>> =
        futures_util::stream::iter(world.targets.iter().enumerate())
            .map(|(n, target)| {
                let sender = &senders[n % senders.len()];
                async move {
                    let response_url = slack.response_url(&target.team, &target.channel, ALICE);
                    let typist = Typist {
                        team: &target.team,
                        channel: &target.channel,
                        user: ALICE,
                        response_url: &response_url,
                    };
                    let text = format!("deploy {} to staging", target.pipeline);
                    let reply = sender.send(typist, &text).await?;
                    anyhow::ensure!(
                        reply.starts_with("On it: deploying"),
                        "`/h {text}` was refused: {reply}"
                    );
                    Ok(())
                }
            })
            .buffer_unordered(TYPISTS)
            .collect()
            .await;
    typed.into_iter().collect()
}

/// Watches over a connection of its own, with cheap counts every 100 ms, until every
/// deploy finished and no message is pending; returns when each happened, counted
/// from `started`.
async fn wait_done(
    database: &Database,
    deploys: usize,
    started: Instant,
) -> anyhow::Result<(Duration, Duration)> {
    let watcher = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database.url)
        .await?;
    let count = async |query: &str| -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(query).fetch_one(&watcher).await?)
    };
    let mut all_deployed = None;
    let done = loop {
        let finished = count("SELECT COUNT(*) FROM deploys WHERE finished_at IS NOT NULL").await?;
        if all_deployed.is_none() && finished >= deploys as i64 {
            all_deployed = Some(started.elapsed());
        }
        if let Some(deployed) = all_deployed
            && count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").await? == 0
        {
            break (deployed, started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < DEADLINE,
            "the run did not finish in {DEADLINE:?}: {finished} of {deploys} deploys finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    watcher.close().await;
    Ok(done)
}
