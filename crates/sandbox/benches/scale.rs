//! Scale-out: 1, 2 and 3 `chatops serve` processes on one PostgreSQL take 1,000
//! deploys typed at once over 50 channels, against the fakes at Slack's documented
//! pace. Per process count: deploys per second, the lag from a Heroku change to the
//! bot acting on it (webhooks), how long until the outbox is drained, the 429s Slack
//! answered, CPU per deploy and peak memory per process. Run with
//! `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench scale`;
//! `SCALE_PROCESSES=1,2,3` and `SCALE_DEPLOYS=1000` change the runs. Each run gets a
//! fresh database; without `BENCH_DATABASE_URL`, `SCALE_PROCESSES=1` runs one process
//! on SQLite.
//!
//! The bots are the real binary (`chatops-sandbox serve`, the bot's own `serve`) as
//! child processes, configured through the environment as in production and logging
//! JSON; the fakes, the webhook recorder and the typing run in this process, whose CPU
//! is reported apart from the bots'.
//!
//! Slack paces `chat.update` per workspace (about 50 a minute) and every deploy
//! updates its parent message a few times, so 1,000 deploys in one workspace would
//! take over half an hour to tell whatever the number of processes. The 50 channels
//! are therefore spread over 25 workspaces of 2 channels (a bot installed in many
//! workspaces, which is what scale-out serves); the fake keeps Slack's pace in each.
//! "Drained" is when no message of any kind is pending, posts and updates alike.

#[path = "shared/database.rs"]
mod database;
#[path = "scale/moves.rs"]
mod moves;
#[path = "shared/percentile.rs"]
mod percentile;
#[path = "shared/procfs.rs"]
mod procfs;
#[path = "shared/recorder.rs"]
mod recorder;
#[path = "scale/run.rs"]
mod run;
#[path = "scale/world.rs"]
mod world;

use percentile::rank;
use run::Row;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = std::env::var("BENCH_DATABASE_URL").ok();
    let processes: Vec<usize> = std::env::var("SCALE_PROCESSES")
        .unwrap_or_else(|_| "1,2,3".into())
        .split(',')
        .map(|count| count.trim().parse())
        .collect::<Result<_, _>>()?;
    let deploys: usize = std::env::var("SCALE_DEPLOYS")
        .unwrap_or_else(|_| "1000".into())
        .parse()?;
    anyhow::ensure!(
        server.is_some() || processes.iter().all(|&count| count == 1),
        "several processes need PostgreSQL: set BENCH_DATABASE_URL=postgres://... \
         (without it, SCALE_PROCESSES=1 runs one process on SQLite)"
    );
    print_header(deploys)?;
    for count in processes {
        let load = load_average()?;
        let row = run::run(server.as_deref(), count, deploys).await?;
        print_row(&row, &load, &load_average()?);
    }
    Ok(())
}

fn print_header(deploys: usize) -> anyhow::Result<()> {
    println!(
        "{deploys} deploys typed at once, one app each, over {} channels in {} workspaces; \
         Heroku stages: build {:?}, release phase {:?}, restart {:?}; fake Slack at Slack's \
         documented pace; bots poll every 5 s, webhooks on; {} cores, load average {}",
        world::WORKSPACES * world::CHANNELS_PER_WORKSPACE,
        world::WORKSPACES,
        world::STAGES.build,
        world::STAGES.release_phase,
        world::STAGES.restart,
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average()?
    );
    println!(
        "lag: from a Heroku change (build succeeded, release succeeded, dynos up) as the fake \
         Heroku published it, to the bot's state transition (its `deploy moved` log line), \
         both on the wall clock; webhooks: from the change to its delivery reaching a \
         recorder subscribed beside the bot"
    );
    println!(
        "{:<8} {:>5} {:>7} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>5} {:>10} {:>11} {:>17}",
        "backend",
        "procs",
        "deploys",
        "deployed s",
        "deploys/s",
        "lag p50",
        "lag p99",
        "lag max",
        "drain s",
        "429s",
        "bot CPU ms",
        "fakes CPU ms",
        "peak RSS MiB"
    );
    Ok(())
}

fn print_row(row: &Row, load_before: &str, load_after: &str) {
    let n = row.deploys as f64;
    let lags = &row.lags.sorted_ms;
    let peaks: Vec<String> = row.peak_mib.iter().map(|mib| format!("{mib:.0}")).collect();
    println!(
        "{:<8} {:>5} {:>7} {:>10.1} {:>9.2} {:>8.0} {:>8.0} {:>8.0} {:>8.1} {:>5} {:>10.1} {:>11.1} {:>17}",
        row.backend,
        row.processes,
        row.deploys,
        row.all_deployed.as_secs_f64(),
        n / row.all_deployed.as_secs_f64(),
        rank(lags, 0.50),
        rank(lags, 0.99),
        rank(lags, 1.0),
        row.drained.as_secs_f64(),
        row.slack_429s,
        row.bots_cpu.as_secs_f64() * 1e3 / n,
        row.bench_cpu.as_secs_f64() * 1e3 / n,
        peaks.join("/")
    );
    println!(
        "      {} lag samples, {} of the steps taken before their webhook reached the recorder; \
         webhook delivery p50/p99 {:.0}/{:.0} ms; per deploy: \
         {:.1} Heroku and {:.1} GitHub requests, {:.1} chat.postMessage and {:.1} chat.update; \
         load average {load_before} before, {load_after} after",
        lags.len(),
        row.lags.before_webhook,
        rank(&row.lags.delivery_ms, 0.5),
        rank(&row.lags.delivery_ms, 0.99),
        row.heroku_requests as f64 / n,
        row.github_requests as f64 / n,
        row.slack_posts as f64 / n,
        row.slack_updates as f64 / n,
    );
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> anyhow::Result<String> {
    let loadavg = std::fs::read_to_string("/proc/loadavg")?;
    Ok(loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" "))
}
