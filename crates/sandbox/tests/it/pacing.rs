//! Slack pacing: 50 deploys typed into one channel at once. The fake Slack keeps
//! Slack's documented pace (a burst of 3, then one `chat.postMessage` a second per
//! channel; `chat.update` 50 a minute per workspace) and answers 429 beyond it. The
//! bot must never go over it, and deliver every message: each deploy's thread
//! complete, in order, nothing twice. On SQLite one bot (in this process) takes the
//! deploys; on PostgreSQL three `chatops serve` processes share them, and must
//! together keep the pace of one.
//!
//! Slack's pace makes this slow by nature: six posts per deploy at one a second is
//! about five and a half minutes for 50. `PACING_DEPLOYS=<n>` runs another count.

use crate::common::{self, crash_world, outcomes};

use std::time::{Duration, Instant};

use chatops::store::{DeployRow, Store};
use chatops_fakes::heroku::Timings;
use chatops_fakes::{Fakes, SANDBOX_TEAM};
use chatops_sandbox::process::BotProcess;
use common::deploys::{ALICE, CHANNEL, DeployWorld};
use common::{TestApp, databases};
use crash_world::CrashWorld;
use outcomes::{Before, all_finished, assert_deployed_once, outbox_drained};

const REPO: &str = "heroku/paipu-repo";

fn deploy_count() -> usize {
    std::env::var("PACING_DEPLOYS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(50)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_deploys_in_one_channel_keep_slacks_pace_and_deliver_every_message_once() {
    let count = deploy_count();
    for db in databases().await {
        if db.backend_name() == "postgres" {
            three_processes(CrashWorld::new(db).await, count).await;
            continue;
        }
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let app = &world.app;
        let apps = add_apps(&app.sandbox, &app.db.store, count).await;
        let before = Before::count(&app.sandbox, &names(&apps), &[REPO]);
        let started = Instant::now();
        let shared = &world;
        let typed = apps.iter().map(|(pipeline, _)| async move {
            let answer = shared
                .command(ALICE, &format!("deploy {pipeline} to staging"))
                .await;
            assert_eq!(answer, on_it(pipeline));
        });
        futures_util::future::join_all(typed).await;
        let deploys = delivered(&app.db.store, count).await;
        check(&app.sandbox, &app.db.store, &before, &deploys, count).await;
        print_figures(&app.sandbox, app.db.backend_name(), 1, count, started);
        world.finish().await;
    }
}

/// Three bot processes on one PostgreSQL take the deploys, typed to each in turn.
async fn three_processes(owned: CrashWorld, count: usize) {
    let world = &owned;
    world.sandbox.heroku.set_timings(Timings::FAST);
    let apps = add_apps(&world.sandbox, &world.db.store, count).await;
    let before = Before::count(&world.sandbox, &names(&apps), &[REPO]);
    let configs = [
        world.config.clone(),
        world.second_config(),
        world.second_config(),
    ];
    let mut bots = Vec::new();
    for (n, config) in configs.iter().enumerate() {
        bots.push(BotProcess::start(&format!("bot {n}"), config).await);
    }
    let started = Instant::now();
    let running = &bots;
    let typed = apps
        .iter()
        .enumerate()
        .map(|(n, (pipeline, _))| async move {
            let bot = &running[n % running.len()];
            let text = format!("deploy {pipeline} to staging");
            assert_eq!(world.command(bot, CHANNEL, &text).await, on_it(pipeline));
        });
    futures_util::future::join_all(typed).await;
    let deploys = delivered(&world.db.store, count).await;
    check(&world.sandbox, &world.db.store, &before, &deploys, count).await;
    print_figures(&world.sandbox, "postgres", bots.len(), count, started);
    drop(bots);
    owned.finish().await;
}

/// `pace-<n>` pipelines with one staging app each, connected to [`REPO`].
async fn add_apps(sandbox: &Fakes, store: &Store, count: usize) -> Vec<(String, String)> {
    let mut apps = Vec::new();
    for n in 0..count {
        let (pipeline, name) = (format!("pace-{n}"), format!("pace-{n}-staging"));
        sandbox
            .heroku
            .add_pipeline(&pipeline, &[("staging", name.as_str())]);
        let now = chatops::clock::Clock::system().now();
        store
            .set_pipeline_repo(SANDBOX_TEAM, &pipeline, REPO, ALICE, now)
            .await
            .unwrap();
        apps.push((pipeline, name));
    }
    apps
}

fn names(apps: &[(String, String)]) -> Vec<&str> {
    apps.iter().map(|(_, name)| name.as_str()).collect()
}

fn on_it(pipeline: &str) -> String {
    format!("On it: deploying {pipeline} to staging. Progress will show in this channel.")
}

/// Waits for every deploy to finish and every message to be sent.
async fn delivered(store: &Store, count: usize) -> Vec<DeployRow> {
    // Six posts a deploy (the parent, the release notes and four stages) at one a
    // second, and some room on a loaded machine.
    let deadline = Duration::from_secs(60 + 10 * count as u64);
    let deploys = all_finished(store, count, deadline).await;
    outbox_drained(store, deadline).await;
    deploys
}

/// Each deploy went through once, none of Slack's answers was a 429, and each
/// deploy has its parent message.
async fn check(
    sandbox: &Fakes,
    store: &Store,
    before: &Before,
    deploys: &[DeployRow],
    count: usize,
) {
    for deploy in deploys {
        assert_deployed_once(sandbox, store, deploy).await;
    }
    before.assert_one_each(sandbox, deploys);
    let calls = sandbox.slack.api_calls();
    let limited: Vec<_> = calls.iter().filter(|call| call.status == 429).collect();
    assert!(
        limited.is_empty(),
        "the bot went over Slack's pace: {limited:?}"
    );
    let parents = sandbox.slack.channel_messages(CHANNEL);
    assert_eq!(parents.len(), count, "one parent message per deploy");
}

fn print_figures(sandbox: &Fakes, backend: &str, processes: usize, count: usize, started: Instant) {
    let calls = sandbox.slack.api_calls();
    let posts = calls
        .iter()
        .filter(|call| call.method == "chat.postMessage")
        .count();
    let limited = calls.iter().filter(|call| call.status == 429).count();
    eprintln!(
        "{backend}, {processes} process(es): {count} deploys in one channel, {posts} posts, {} Slack calls, {limited} answered 429, {:.1}s",
        calls.len(),
        started.elapsed().as_secs_f64()
    );
}
