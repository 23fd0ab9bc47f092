//! The chaos run: three real bot processes on one PostgreSQL take N concurrent
//! deploys, one app each, and a promotion to production of every third pipeline as
//! soon as its staging deploy is done; meanwhile the fakes (in this process) answer
//! with storms of 5xx, 429s, dropped connections, hangs and lost answers (promotion
//! requests included), and a driver SIGKILLs a random process every few seconds and
//! starts it again. Every deploy must end deployed, with exactly one Heroku build and
//! one GitHub deployment; every promotion promoted, with exactly one Heroku promotion
//! and one release of its target; each thread complete, in order and without a
//! duplicate, and nothing left in the outbox.
//!
//! The short run (30 deploys) is a normal test; the full run (300) is
//! `cargo test --test chaos -- --ignored`. Both need `TEST_DATABASE_URL` (PostgreSQL)
//! and print their figures (run with `--nocapture` to see them).

use crate::common::{self, crash_world, fault_plan, outcomes};
use chatops_sandbox::budgets;
use chatops_sandbox::process as processes;

use std::time::{Duration, Instant};

use axum::http::Method;
use chatops::config::Config;
use chatops::store::{DeployKind, DeployState};
use chatops_fakes::heroku::Timings;
use chatops_fakes::{Failure, Fakes, FaultRule, Faults, SANDBOX_TEAM};
use common::deploys::ALICE;
use crash_world::CrashWorld;
use outcomes::{
    Before, Peek, all_finished, assert_deployed_once, assert_promoted_once, outbox_drained,
};
use processes::BotProcess;

/// The repository every chaos app builds from.
const REPO: &str = "heroku/paipu-repo";
const CHANNELS: [&str; 2] = ["C0DEPLOYS", "C0GENERAL"];
/// How often the driver kills a bot.
const KILL_EVERY: Duration = Duration::from_secs(3);
/// A killed bot's deploys are taken over after this long.
const CHAOS_LEASE: Duration = Duration::from_secs(5);
/// Each Heroku stage takes this long: long enough for kills to land inside them.
const STAGE: Duration = Duration::from_millis(400);
/// The full run's deploys: it must draw no 429 from Slack's pacing (the short run,
/// in CI, prints its count; `pacing.rs` holds three processes to none).
const FULL_RUN: usize = 300;
/// Every this many pipelines one has a production app and is promoted.
const PROMOTE_EVERY: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_deploys_survive_three_bots_being_killed_under_faults() {
    chaos(30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the full chaos run takes about 18 minutes: cargo test --test chaos -- --ignored"]
async fn three_hundred_deploys_survive_three_bots_being_killed_under_faults() {
    chaos(FULL_RUN).await;
}

/// What a run did, printed at its end.
#[derive(Default)]
struct Figures {
    deploys: usize,
    promotions: usize,
    kills: usize,
    faults_armed: usize,
    /// Answered by the fake Slack's pacing (the storms' 429s never reach it).
    slack_pacing_429s: usize,
    retried_messages: i64,
    seconds_to_finish: f64,
    seconds_to_drain: f64,
    /// Posts into the busiest channel.
    busiest_channel_posts: usize,
}

impl Figures {
    /// The least time Slack's pace (a burst of 3, then one post a second per channel)
    /// allows for the busiest channel's posts.
    fn seconds_slack_allows(&self) -> f64 {
        self.busiest_channel_posts.saturating_sub(3) as f64
    }

    /// The least time the bot's own pace (a burst of 2, then a post every 1.1 s per
    /// channel: Slack's with a margin, `src/slack/pacer.rs`) takes for them.
    fn seconds_bot_pace_takes(&self) -> f64 {
        self.busiest_channel_posts.saturating_sub(2) as f64 * 1.1
    }

    fn print(&self) {
        eprintln!(
            "chaos run: {} deploys and {} promotions, 3 bots, {} kills, {} fault rules armed; \
             all finished after {:.1}s, outbox drained after {:.1}s ({} posts into the \
             busiest channel, which Slack's pace allows in {:.0}s at the least: {:+.1}%; \
             the bot's pace in {:.0}s: {:+.1}%); \
             {} Slack calls answered 429 by its pacing, {} messages retried after a failure",
            self.deploys,
            self.promotions,
            self.kills,
            self.faults_armed,
            self.seconds_to_finish,
            self.seconds_to_drain,
            self.busiest_channel_posts,
            self.seconds_slack_allows(),
            (self.seconds_to_drain / self.seconds_slack_allows() - 1.0) * 100.0,
            self.seconds_bot_pace_takes(),
            (self.seconds_to_drain / self.seconds_bot_pace_takes() - 1.0) * 100.0,
            self.slack_pacing_429s,
            self.retried_messages
        );
    }
}

async fn chaos(count: usize) {
    let Some(db) = common::databases()
        .await
        .into_iter()
        .find(|db| db.backend_name() == "postgres")
    else {
        eprintln!("skipped: set TEST_DATABASE_URL to run three bots on one PostgreSQL");
        return;
    };
    let world = CrashWorld::new(db).await;
    world.sandbox.heroku.set_timings(Timings {
        build: STAGE,
        release_phase: STAGE,
        restart: STAGE,
        promotion: Duration::from_millis(10),
    });
    // 300 deploys and 100 promotions typed by one person within minutes spend her
    // hourly Heroku and GitHub budgets many times over; the storms' 429s are the
    // rate limits this run injects.
    let budgets = tokio::spawn(budgets::keep_budgets_full(
        world.sandbox.heroku.clone(),
        world.sandbox.github.clone(),
    ));
    let apps = add_apps(&world, count).await;
    let app_names: Vec<&str> = apps.iter().map(|(_, app)| app.as_str()).collect();
    let before = Before::count(&world.sandbox, &app_names, &[REPO]);
    // The crash tests' 1 s lease is too short here: on a loaded 2-core machine a step
    // can wait seconds for a database connection, outlive its lease and be abandoned,
    // over and over. Production's default is 15 s.
    // Production confirmation is a person's click (tests/confirm.rs); here the
    // promotions go straight ahead.
    let lease = |config: Config| Config {
        deploy_lease: CHAOS_LEASE,
        production_confirm: false,
        ..config
    };
    let configs = [
        lease(world.config.clone()),
        lease(world.second_config()),
        lease(world.second_config()),
    ];
    let mut bots = Vec::new();
    for (n, config) in configs.iter().enumerate() {
        bots.push(Some(BotProcess::start(&format!("bot {n}"), config).await));
    }
    send_commands(&world, &bots, &apps).await;
    let mut to_promote: Vec<String> = apps
        .iter()
        .step_by(PROMOTE_EVERY)
        .map(|(pipeline, _)| pipeline.clone())
        .collect();
    let total = count + to_promote.len();

    let mut figures = Figures {
        deploys: count,
        promotions: to_promote.len(),
        faults_armed: arm_storms(&world.sandbox, count),
        ..Figures::default()
    };
    let started = Instant::now();
    let deadline = Duration::from_secs(60 + 3 * count as u64);
    while unfinished(&world).await > 0 || !to_promote.is_empty() {
        assert!(
            started.elapsed() < deadline,
            "{} deploys unfinished after {deadline:?}",
            unfinished(&world).await
        );
        tokio::time::sleep(KILL_EVERY).await;
        restart_one(&mut bots, &configs, figures.kills).await;
        figures.kills += 1;
        promote_deployed(&world, &bots, &mut to_promote).await;
    }
    figures.seconds_to_finish = started.elapsed().as_secs_f64();
    let deploys = all_finished(&world.db.store, total, deadline).await;
    // Six posts a deploy (the parent, the release notes, four stages), at Slack's
    // pace of one a second in each of two channels, after the 429 storms: the
    // slowest part of the run.
    let drain = Duration::from_secs(120 + 6 * count as u64);
    outbox_drained(&world.db.store, drain).await;
    figures.seconds_to_drain = started.elapsed().as_secs_f64();
    for deploy in &deploys {
        if deploy.kind == DeployKind::Promote {
            let target = format!("{}-production", deploy.pipeline);
            assert_promoted_once(&world.sandbox, &world.db.store, deploy, &target).await;
        } else {
            assert_deployed_once(&world.sandbox, &world.db.store, deploy).await;
        }
    }
    before.assert_one_each(&world.sandbox, &deploys);
    world.assert_delivered_and_unlocked().await;
    figures.slack_pacing_429s = slack_429s(&world.sandbox);
    figures.busiest_channel_posts = CHANNELS
        .iter()
        .map(|channel| posts_into(&world.sandbox, channel))
        .max()
        .unwrap_or(0);
    figures.retried_messages = Peek::connect(&world.db.url).await.retried_messages().await;
    figures.print();
    if count >= FULL_RUN {
        assert_eq!(figures.slack_pacing_429s, 0, "three bots keep one pace");
    }
    budgets.abort();
    drop(bots);
    world.finish().await;
}

/// A pipeline per deploy, `chaos-<n>` with the app `chaos-<n>-staging` (and, every
/// [`PROMOTE_EVERY`], `chaos-<n>-production`), connected to [`REPO`]; returns
/// (pipeline, staging app) pairs.
async fn add_apps(world: &CrashWorld, count: usize) -> Vec<(String, String)> {
    let mut apps = Vec::new();
    for n in 0..count {
        let (pipeline, app) = (format!("chaos-{n}"), format!("chaos-{n}-staging"));
        let production = format!("{pipeline}-production");
        let mut stages = vec![("staging", app.as_str())];
        if n % PROMOTE_EVERY == 0 {
            stages.push(("production", production.as_str()));
        }
        world.sandbox.heroku.add_pipeline(&pipeline, &stages);
        let now = chatops::clock::Clock::system().now();
        world
            .db
            .store
            .set_pipeline_repo(SANDBOX_TEAM, &pipeline, REPO, ALICE, now)
            .await
            .unwrap();
        apps.push((pipeline, app));
    }
    apps
}

/// Types every deploy at once, spread over the bots and the two channels.
async fn send_commands(world: &CrashWorld, bots: &[Option<BotProcess>], apps: &[(String, String)]) {
    let sends = apps
        .iter()
        .enumerate()
        .map(|(n, (pipeline, _))| async move {
            let bot = bots[n % bots.len()].as_ref().unwrap();
            let text = format!("deploy {pipeline} to staging");
            let answer = world
                .command(bot, CHANNELS[n % CHANNELS.len()], &text)
                .await;
            assert_eq!(
                answer,
                format!(
                    "On it: deploying {pipeline} to staging. Progress will show in this channel."
                )
            );
        });
    futures_util::future::join_all(sends).await;
}

/// Promotes each pipeline of `waiting` whose staging deploy has finished, through
/// a bot chosen at random (all are up between kills).
async fn promote_deployed(
    world: &CrashWorld,
    bots: &[Option<BotProcess>],
    waiting: &mut Vec<String>,
) {
    let deploys = world.db.store.deploys().await.unwrap();
    let deployed = |pipeline: &String| {
        deploys
            .iter()
            .any(|d| &d.pipeline == pipeline && d.state == DeployState::Deployed)
    };
    let ready: Vec<String> = waiting.iter().filter(|p| deployed(p)).cloned().collect();
    waiting.retain(|pipeline| !deployed(pipeline));
    for (n, pipeline) in ready.iter().enumerate() {
        let bot = bots[fastrand::usize(..bots.len())].as_ref().unwrap();
        let channel = CHANNELS[n % CHANNELS.len()];
        let answer = world
            .command(bot, channel, &format!("promote {pipeline}"))
            .await;
        assert_eq!(
            answer,
            format!(
                "On it: promoting {pipeline} to production. Progress will show in this channel."
            )
        );
    }
}

async fn unfinished(world: &CrashWorld) -> usize {
    let deploys = world.db.store.deploys().await.unwrap();
    deploys.iter().filter(|d| d.finished_at.is_none()).count()
}

/// SIGKILLs a random bot and starts it again on its port.
async fn restart_one(bots: &mut [Option<BotProcess>], configs: &[Config], kills: usize) {
    let victim = fastrand::usize(..bots.len());
    if let Some(bot) = bots[victim].take() {
        bot.kill();
    }
    let name = format!("bot {victim} after kill {}", kills + 1);
    bots[victim] = Some(BotProcess::start(&name, &configs[victim]).await);
}

/// Arms storms on every fake, sized to the run; returns how many rules were armed.
/// Each rule strikes a bounded number of times, so progress is certain; hangs are
/// few because each costs a 20 s timeout.
fn arm_storms(sandbox: &Fakes, deploys: usize) -> usize {
    use Failure::{Drop, Hang, RateLimited, Status};
    let many = (deploys / 2).max(5) as u32;
    let limited = || RateLimited {
        retry_after_secs: 1,
    };
    let rule = |faults: &Faults, method: Method, path: &str, failure: Failure, times: u32| {
        faults.inject(FaultRule::failing(method, path, failure, times));
    };
    let lost = |faults: &Faults, path: &str, times: u32| {
        let rule = FaultRule::failing(Method::POST, path, Status(503), times);
        faults.inject(rule.after_handling());
    };
    let heroku = &sandbox.heroku.faults;
    rule(heroku, Method::GET, "/apps/", Status(503), many);
    rule(heroku, Method::GET, "/apps/", limited(), many);
    rule(heroku, Method::GET, "/apps/", Drop, many / 2);
    rule(heroku, Method::GET, "/apps/", Hang, 1);
    lost(heroku, "/apps/", many / 4);
    lost(heroku, "/pipeline-promotions", 2);
    let github = &sandbox.github.faults;
    rule(github, Method::GET, "/repos/", Status(502), many);
    rule(github, Method::GET, "/repos/", limited(), many / 2);
    rule(github, Method::POST, "/repos/", Drop, many / 4);
    lost(github, "/repos/", many / 4);
    let slack = &sandbox.slack.faults;
    rule(
        slack,
        Method::POST,
        "/api/chat.postMessage",
        limited(),
        many,
    );
    rule(
        slack,
        Method::POST,
        "/api/chat.postMessage",
        Status(503),
        many / 2,
    );
    rule(slack, Method::POST, "/api/chat.update", limited(), many / 2);
    rule(
        slack,
        Method::POST,
        "/api/chat.update",
        Status(500),
        many / 4,
    );
    rule(slack, Method::POST, "/response/", Status(503), 3);
    [heroku, github, slack]
        .into_iter()
        .map(fault_plan::armed)
        .sum()
}

/// How many Slack Web API calls were answered 429, by the storms or the pacing.
/// Parents and replies posted into `channel`.
fn posts_into(sandbox: &Fakes, channel: &str) -> usize {
    let slack = &sandbox.slack;
    let parents: Vec<_> = slack
        .channel_messages(channel)
        .into_iter()
        .filter(|message| message.thread_ts.is_none())
        .collect();
    let replies: usize = parents
        .iter()
        .map(|parent| slack.thread(channel, &parent.ts).len())
        .sum();
    parents.len() + replies
}

fn slack_429s(sandbox: &Fakes) -> usize {
    let calls = sandbox.slack.api_calls();
    calls.iter().filter(|call| call.status == 429).count()
}
