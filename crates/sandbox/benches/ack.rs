//! Ack latency of signed `/h help` over loopback: requests/s and p50/p99 at 1, 16 and
//! 64 concurrent connections. Run with `cargo bench --bench ack`.
//!
//! The bot runs in this process exactly as `serve` builds it (signature check, replay
//! claim and command row in SQLite, INFO logging formatted into a sink); each client
//! connection sends one request at a time, every request freshly signed.
//!
//! A second table holds thousands of idle connections open (each sends nothing, as a
//! flood would) while one client measures: the edge's connection cap and header read
//! timeout keep the bot answering. Idle levels stop below 10,000 because this process
//! holds both ends of every connection within its descriptor limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chatops::app;
use chatops::bot::{Bot, BotState, Patience};
use chatops::clock::Clock;
use chatops::store::Store;
use chatops_fakes::Fakes;
use chatops_sandbox::SANDBOX_SIGNING_SECRET as SECRET;

const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
/// Shorter than the header read timeout, which closes the idle connections.
const IDLE_MEASURE: Duration = Duration::from_secs(2);
const IDLE_LEVELS: [usize; 4] = [0, 2_000, 5_000, 8_000];
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);
static HELP_ANSWER_LENGTH: AtomicU64 = AtomicU64::new(0);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .try_init()
        .ok();
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or(url);
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let base = start_bot(&url, store).await?;
    check_help_answer(&base).await?;
    println!(
        "signed /h help over loopback, {:?} backend, {}s per level",
        backend(&url),
        MEASURE.as_secs()
    );
    println!(
        "{:>12} {:>10} {:>10} {:>10} {:>10}",
        "connections", "requests", "req/s", "p50 ms", "p99 ms"
    );
    for connections in [1, 16, 64] {
        run_level(&base, connections, WARMUP).await?;
        let (latencies, elapsed) = run_level(&base, connections, MEASURE).await?;
        report(connections, latencies, elapsed);
    }
    println!("\nthe same at 1 connection, with idle connections held open");
    println!(
        "{:>12} {:>10} {:>10} {:>10} {:>10}",
        "idle", "requests", "req/s", "p50 ms", "p99 ms"
    );
    chatops::edge::connections::Limits::for_this_process();
    for idle in IDLE_LEVELS {
        let held = hold_idle(&base, idle).await?;
        let (latencies, elapsed) = run_level(&base, 1, IDLE_MEASURE).await?;
        report(idle, latencies, elapsed);
        drop(held);
        // Let the bot see them close before the next level.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Opens `count` connections to the bot that never send a byte.
async fn hold_idle(base: &str, count: usize) -> anyhow::Result<Vec<tokio::net::TcpStream>> {
    let address = base
        .trim_start_matches("http://")
        .trim_end_matches("/slack/commands");
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        held.push(tokio::net::TcpStream::connect(address).await?);
    }
    Ok(held)
}

fn backend(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    }
}

async fn start_bot(url: &str, store: Store) -> anyhow::Result<String> {
    let fakes = Fakes::start().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let config = chatops_sandbox::bot_config(&fakes, 0, &base_url, url);
    let app = Bot::new(config, store, Clock::system(), Patience::default())?;
    // The fakes must outlive the benchmark; leaking them is the simplest way.
    std::mem::forget(fakes);
    tokio::spawn(app::serve(
        listener,
        BotState::new(app),
        std::future::pending(),
    ));
    Ok(format!("{base_url}/slack/commands"))
}

/// Drives `connections` sequential clients for `duration`; returns every latency.
async fn run_level(
    base: &str,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|worker| tokio::spawn(client_loop(base.to_owned(), worker, started + duration)))
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    Ok((latencies, started.elapsed()))
}

async fn client_loop(base: String, worker: usize, until: Instant) -> anyhow::Result<Vec<Duration>> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let sent = Instant::now();
        let answer = ask_help(&http, &base, worker).await?;
        latencies.push(sent.elapsed());
        // Same length as the checked help answer: not a refusal measured by mistake.
        anyhow::ensure!(
            answer.len() == HELP_ANSWER_LENGTH.load(Ordering::Relaxed) as usize,
            "not the help answer: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(latencies)
}

/// Asks once, outside the measurement, and checks the answer is `/h help`'s text.
async fn check_help_answer(base: &str) -> anyhow::Result<()> {
    let answer = ask_help(&reqwest::Client::new(), base, usize::MAX).await?;
    let reply: serde_json::Value = serde_json::from_slice(&answer)?;
    anyhow::ensure!(
        reply["text"] == chatops::command::help_index(),
        "the bot did not answer with the help text: {reply}"
    );
    HELP_ANSWER_LENGTH.store(answer.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// One freshly signed `/h help`, as Slack sends it; the answer's body.
async fn ask_help(http: &reqwest::Client, base: &str, worker: usize) -> anyhow::Result<Vec<u8>> {
    // Unique per request across levels, so no two requests share a signature.
    let sequence = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    let body = format!(
        "team_id=T0BENCH&channel_id=C0BENCH&user_id=U0BENCH&command=%2Fh&text=help\
         &response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0BENCH%2F1%2Fx\
         &trigger_id={worker}.{sequence}"
    );
    let timestamp = Clock::system().now().to_string();
    let signature = chatops::slack::verify::sign(SECRET.as_bytes(), &timestamp, body.as_bytes());
    let response = http
        .post(base)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == 200,
        "bot answered {}",
        response.status()
    );
    Ok(response.bytes().await?.to_vec())
}

fn report(connections: usize, mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    let at =
        |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{:>12} {:>10} {:>10.0} {:>10.2} {:>10.2}",
        connections,
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99)
    );
}
