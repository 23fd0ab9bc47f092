//! Startup time to the first accepted request on SQLite: spawns the bot's `serve`
//! (as the `chatops-sandbox` binary built beside this benchmark runs it; configured through its environment, as in production) and polls `GET
//! /healthz` every millisecond until it answers 200. Measured on a fresh database
//! (the run includes the migrations) and on one already migrated. Run with
//! `cargo bench --bench startup`; `STARTUP_RUNS=<n>` changes the count (default 20).
//! Target: under 100 ms.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chatops_fakes::Fakes;
use chatops_sandbox::process as processes;

/// A run that has not answered by then has failed.
const GIVE_UP: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("STARTUP_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(20);
    let sandbox = Fakes::start().await?;
    let http = reqwest::Client::new();
    let mut fresh = Vec::new();
    let mut migrated = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("startup.db").display()
        );
        fresh.push(first_answer(&sandbox, &http, &url).await?);
        migrated.push(first_answer(&sandbox, &http, &url).await?);
    }
    println!("startup to the first 200 from GET /healthz, SQLite, {runs} runs each");
    println!(
        "{:>22} {:>8} {:>8} {:>8}",
        "database", "min ms", "p50 ms", "max ms"
    );
    report("fresh (migrates)", fresh);
    report("already migrated", migrated);
    Ok(())
}

/// Starts the bot on `database_url`; how long until `/healthz` said 200.
async fn first_answer(
    sandbox: &Fakes,
    http: &reqwest::Client,
    database_url: &str,
) -> anyhow::Result<Duration> {
    let port = processes::free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let config = chatops_sandbox::bot_config(sandbox, port, &base_url, database_url);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatops-sandbox"))
        .arg("serve")
        .env_clear()
        .current_dir(std::env::temp_dir())
        .envs(processes::env_of(&config))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let health = format!("{base_url}/healthz");
    let answered = loop {
        let ok = http
            .get(&health)
            .send()
            .await
            .is_ok_and(|response| response.status() == 200);
        if ok {
            break Ok(started.elapsed());
        }
        if started.elapsed() > GIVE_UP {
            break Err(anyhow::anyhow!(
                "no answer from {health} within {GIVE_UP:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    child.kill()?;
    child.wait()?;
    answered
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:>22} {:>8.1} {:>8.1} {:>8.1}",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}
