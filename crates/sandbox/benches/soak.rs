//! Soak: one real bot process (the built `chatops serve`) on SQLite takes signed
//! commands at a steady rate (help, help for a command, whoami, a typo) and a deploy
//! every few seconds through the sandbox, for `SOAK_SECS` (default 600). Every
//! `SAMPLE` it prints the bot's resident memory (`VmRSS`), open file descriptors and
//! sockets, and the ack latency of the commands answered since the last row. Halfway
//! it sends the bot SIGTERM and starts another on the same database, then checks
//! that nothing accepted was lost: every command answered 200 has its row, and every
//! deploy accepted finishes deployed. alice's Heroku and GitHub budgets are kept full:
//! at this rate one person would spend them within minutes, and then every call waits
//! on 429s (the soak measures the bot, not the quotas).
//!
//! Run with `cargo bench --bench soak`; `SOAK_SECS=60` for a short run,
//! `SOAK_RATE=<commands per second>` (default 20), `BENCH_DATABASE_URL=postgres://...`
//! for PostgreSQL (a fresh database on that server is not made: give an empty one).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chatops::bot::{Bot, Patience};
use chatops::clock::Clock;
use chatops::store::{DeployState, Store};
use chatops_fakes::heroku::Timings;
use chatops_fakes::{Fakes, SANDBOX_TEAM};
use chatops_sandbox::SANDBOX_SIGNING_SECRET;
use chatops_sandbox::process::{BotProcess, free_port};

const ALICE: &str = "U0ALICE";
const CHANNELS: [&str; 2] = ["C0DEPLOYS", "C0GENERAL"];
const REPO: &str = "heroku/paipu-repo";
/// The commands typed at the steady rate, in turn.
const MIX: [&str; 4] = ["help", "help deploy", "whoami", "dpeloy paipu"];
/// Apps deployed in turn, so no deploy waits on another's lock for long.
const APPS: usize = 8;
const DEPLOY_EVERY: Duration = Duration::from_secs(4);
const SAMPLE: Duration = Duration::from_secs(5);
const SETTLE: Duration = Duration::from_secs(180);

/// What the load loops saw.
#[derive(Default)]
struct Seen {
    /// Commands answered 200, of any kind.
    acked: AtomicUsize,
    /// Requests that got no 200 (the bot restarting, mostly).
    unanswered: AtomicUsize,
    deploys_accepted: AtomicUsize,
    /// Ack latencies since the last sample, in microseconds.
    window: Mutex<Vec<u64>>,
    all: Mutex<Vec<u64>>,
    next_trigger: AtomicU64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs = env_number("SOAK_SECS", 600);
    let rate = env_number("SOAK_RATE", 20);
    let sandbox = Fakes::start().await?;
    sandbox.heroku.set_timings(Timings::FAST);
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("soak.db").display());
    let database_url = std::env::var("BENCH_DATABASE_URL").unwrap_or(sqlite);
    let store = Store::connect(&database_url).await?;
    store.migrate().await?;
    let port = free_port();
    let config = chatops_sandbox::bot_config(
        &sandbox,
        port,
        &format!("http://127.0.0.1:{port}"),
        &database_url,
    );
    prepare(&sandbox, &config, &store).await?;
    let mut bot = BotProcess::start("soak", &config).await;
    let url = bot.url.clone();
    let seen = Arc::new(Seen::default());
    let sandbox = Arc::new(sandbox);
    let commands = tokio::spawn(steady_commands(
        url.clone(),
        sandbox.clone(),
        seen.clone(),
        rate,
    ));
    let deploys = tokio::spawn(steady_deploys(url, sandbox.clone(), seen.clone()));
    let budgets = tokio::spawn(chatops_sandbox::budgets::keep_budgets_full(
        sandbox.heroku.clone(),
        sandbox.github.clone(),
    ));

    println!(
        "soak: {secs}s, {rate} commands/s plus a deploy every {DEPLOY_EVERY:?}, one bot process"
    );
    println!(
        "{:>6} {:>8} {:>5} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "t s", "RSS MiB", "fds", "sockets", "acked", "p50 ms", "p99 ms", "deployed"
    );
    let started = Instant::now();
    let mut terminated = false;
    let mut restart_gap = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(SAMPLE).await;
        sample(started, &bot, &seen, &store).await?;
        if !terminated && started.elapsed() >= Duration::from_secs(secs / 2) {
            let stopping = Instant::now();
            let status = bot.terminate();
            bot = BotProcess::start("soak after SIGTERM", &config).await;
            restart_gap = stopping.elapsed();
            println!(
                "-- SIGTERM: the bot exited ({status}); another answered {restart_gap:?} after the signal"
            );
            terminated = true;
        }
    }
    commands.abort();
    deploys.abort();
    budgets.abort();
    settle(&store).await?;
    summary(&seen, &store, restart_gap).await
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Links alice and gives her [`APPS`] pipelines to deploy.
async fn prepare(
    sandbox: &Fakes,
    config: &chatops::config::Config,
    store: &Store,
) -> anyhow::Result<()> {
    let app = Bot::new(
        config.clone(),
        store.clone(),
        Clock::system(),
        Patience::default(),
    )?;
    chatops_sandbox::bot::link_user(
        &app,
        sandbox,
        SANDBOX_TEAM,
        ALICE,
        "alice@example.com",
        "alice",
    )
    .await?;
    for n in 0..APPS {
        let pipeline = format!("soak-{n}");
        let app_name = format!("soak-{n}-staging");
        sandbox
            .heroku
            .add_pipeline(&pipeline, &[("staging", app_name.as_str())]);
        store
            .set_pipeline_repo(SANDBOX_TEAM, &pipeline, REPO, ALICE, Clock::system().now())
            .await?;
    }
    Ok(())
}

/// Sends `/h <text>` signed as Slack would; the answer's text, if it was a 200.
async fn send(
    http: &reqwest::Client,
    url: &str,
    sandbox: &Fakes,
    seen: &Seen,
    channel: &str,
    text: &str,
) -> Option<String> {
    let response_url = sandbox.slack.response_url(SANDBOX_TEAM, channel, ALICE);
    let trigger = seen
        .next_trigger
        .fetch_add(1, Ordering::Relaxed)
        .to_string();
    let body = serde_urlencoded::to_string([
        ("team_id", SANDBOX_TEAM),
        ("channel_id", channel),
        ("user_id", ALICE),
        ("command", "/h"),
        ("text", text),
        ("response_url", &response_url),
        ("trigger_id", &trigger),
    ])
    .ok()?;
    let timestamp = Clock::system().now().to_string();
    let signature = chatops::slack::verify::sign(
        SANDBOX_SIGNING_SECRET.as_bytes(),
        &timestamp,
        body.as_bytes(),
    );
    let sent = Instant::now();
    let response = http
        .post(format!("{url}/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await;
    let answer = match response {
        Ok(response) if response.status() == 200 => response.text().await.ok(),
        _ => None,
    };
    let Some(answer) = answer else {
        seen.unanswered.fetch_add(1, Ordering::Relaxed);
        return None;
    };
    let micros = sent.elapsed().as_micros() as u64;
    seen.acked.fetch_add(1, Ordering::Relaxed);
    seen.window.lock().unwrap().push(micros);
    seen.all.lock().unwrap().push(micros);
    Some(answer)
}

async fn steady_commands(url: String, sandbox: Arc<Fakes>, seen: Arc<Seen>, rate: u64) {
    let http = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    for n in 0.. {
        tick.tick().await;
        let (http, url, sandbox, seen) = (http.clone(), url.clone(), sandbox.clone(), seen.clone());
        tokio::spawn(async move {
            send(
                &http,
                &url,
                &sandbox,
                &seen,
                CHANNELS[0],
                MIX[n % MIX.len()],
            )
            .await;
        });
    }
}

async fn steady_deploys(url: String, sandbox: Arc<Fakes>, seen: Arc<Seen>) {
    let http = reqwest::Client::new();
    let mut tick = tokio::time::interval(DEPLOY_EVERY);
    for n in 0.. {
        tick.tick().await;
        let text = format!("deploy soak-{} to staging", n % APPS);
        let answer = send(&http, &url, &sandbox, &seen, CHANNELS[n % 2], &text).await;
        if answer.is_some_and(|answer| answer.contains("On it: deploying")) {
            seen.deploys_accepted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Prints one row: the bot's memory, descriptors and sockets, and the window's acks.
async fn sample(
    started: Instant,
    bot: &BotProcess,
    seen: &Seen,
    store: &Store,
) -> anyhow::Result<()> {
    let pid = bot.pid();
    let rss_kib = std::fs::read_to_string(format!("/proc/{pid}/status"))?
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or_default();
    let (fds, sockets) = descriptors(pid)?;
    let mut window = std::mem::take(&mut *seen.window.lock().unwrap());
    let deployed = store
        .deploys()
        .await?
        .iter()
        .filter(|deploy| deploy.state == DeployState::Deployed)
        .count();
    println!(
        "{:>6.0} {:>8.1} {:>5} {:>7} {:>8} {:>8.2} {:>8.2} {:>8}",
        started.elapsed().as_secs_f64(),
        rss_kib / 1024.0,
        fds,
        sockets,
        seen.acked.load(Ordering::Relaxed),
        percentile(&mut window, 50.0),
        percentile(&mut window, 99.0),
        deployed
    );
    Ok(())
}

/// Open file descriptors of `pid`, and how many of them are sockets.
fn descriptors(pid: u32) -> anyhow::Result<(usize, usize)> {
    let mut fds = 0;
    let mut sockets = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        fds += 1;
        let target = std::fs::read_link(entry?.path()).unwrap_or_default();
        if target.to_string_lossy().starts_with("socket:") {
            sockets += 1;
        }
    }
    Ok((fds, sockets))
}

/// The `p`th percentile of `micros`, in milliseconds (0 when empty).
fn percentile(micros: &mut [u64], p: f64) -> f64 {
    if micros.is_empty() {
        return 0.0;
    }
    micros.sort_unstable();
    let rank = ((p / 100.0) * (micros.len() - 1) as f64).round() as usize;
    micros[rank] as f64 / 1000.0
}

/// Waits until every deploy finished and the outbox is empty.
async fn settle(store: &Store) -> anyhow::Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let deploys = store.deploys().await?;
        let running = deploys.iter().filter(|d| d.finished_at.is_none()).count();
        let pending = store.pending_messages().await?;
        if running == 0 && pending == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{running} deploys still running and {pending} messages unsent after {SETTLE:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints what was lost (nothing, or the run fails) and the latency over the run.
async fn summary(seen: &Seen, store: &Store, restart_gap: Duration) -> anyhow::Result<()> {
    let acked = seen.acked.load(Ordering::Relaxed);
    let rows = store.count_commands().await? as usize;
    let deploys = store.deploys().await?;
    let deployed = deploys
        .iter()
        .filter(|d| d.state == DeployState::Deployed)
        .count();
    let accepted = seen.deploys_accepted.load(Ordering::Relaxed);
    let mut all = std::mem::take(&mut *seen.all.lock().unwrap());
    println!(
        "commands answered 200: {acked}, unanswered (restart): {}, command rows: {rows}",
        seen.unanswered.load(Ordering::Relaxed)
    );
    println!(
        "deploys accepted: {accepted}, deploy rows: {}, deployed: {deployed}; restart gap {restart_gap:?}",
        deploys.len()
    );
    println!(
        "ack latency over the run: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&mut all, 50.0),
        percentile(&mut all, 99.0),
        percentile(&mut all, 100.0)
    );
    anyhow::ensure!(
        rows >= acked,
        "{} answered commands have no row",
        acked - rows
    );
    anyhow::ensure!(
        deploys.len() == accepted && deployed == accepted,
        "of {accepted} accepted deploys, {} have rows and {deployed} deployed",
        deploys.len()
    );
    Ok(())
}
