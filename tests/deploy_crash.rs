//! Crash tests: the bot runs as its own process (the built binary, configured through
//! its environment) while the fakes live in the test. It is SIGKILLed inside each
//! stage of a deploy and started again on the same database, or one of two processes
//! sharing a PostgreSQL is killed. Every deploy must still end deployed, with one
//! Heroku build, one GitHub deployment and a thread of exactly four replies.

mod common;
#[path = "common/outcomes.rs"]
mod outcomes;
#[path = "common/processes.rs"]
mod processes;

use std::time::{Duration, Instant};

use axum::http::Method;
use chatops::app::App;
use chatops::clock::Clock;
use chatops::config::Config;
use chatops::sandbox::heroku::Timings;
use chatops::sandbox::{Failure, FaultRule, SANDBOX_TEAM, Sandbox};
use chatops::store::DeployRow;
use common::deploys::{ALICE, CHANNEL};
use common::{PATIENCE, TestDb};
use outcomes::{Peek, all_finished, assert_deployed_once, eventually, outbox_drained};
use processes::{BotProcess, free_port};

const APP: &str = "paipu-app-staging";
const COMMAND: &str = "deploy paipu to staging";
const ACK: &str = "On it: deploying paipu to staging. Progress will show in this channel.";
/// Each Heroku stage (build, release phase, restart) takes this long, so a test can
/// see the deploy in it and kill the bot there.
const STAGE: Duration = Duration::from_millis(1500);
/// How long a slowed request is held by a fake: the bot is killed meanwhile.
const HOLD: Duration = Duration::from_secs(2);
/// A restarted bot takes a dead one's deploys over after this long.
const LEASE: Duration = Duration::from_millis(1000);
/// Any wait in this suite.
const DEADLINE: Duration = Duration::from_secs(30);
/// A message a dead bot was sending should go out about as soon as its deploys are
/// taken over (LEASE), not minutes later.
const REPLY_DEADLINE: Duration = Duration::from_secs(10);

/// The fakes, a database with alice linked, and the configuration bots start with.
struct CrashWorld {
    sandbox: Sandbox,
    db: TestDb,
    config: Config,
    peek: Peek,
    http: reqwest::Client,
}

impl CrashWorld {
    async fn new(db: TestDb) -> CrashWorld {
        let sandbox = Sandbox::start().await.unwrap();
        sandbox.heroku.set_timings(Timings {
            build: STAGE,
            release_phase: STAGE,
            restart: STAGE,
            promotion: Duration::from_millis(10),
        });
        let port = free_port();
        let mut config = sandbox.bot_config(port, &format!("http://127.0.0.1:{port}"), &db.url);
        config.deploy_lease = LEASE;
        // Linked through the same store and key the bot processes will use.
        let app = App::new(config.clone(), db.store.clone(), Clock::system(), PATIENCE).unwrap();
        chatops::sandbox::bot::link_user(
            &app,
            &sandbox,
            SANDBOX_TEAM,
            ALICE,
            "alice@example.com",
            "alice",
        )
        .await
        .expect("link alice");
        chatops::sandbox::bot::connect_pipelines(&app, SANDBOX_TEAM, ALICE)
            .await
            .expect("connect pipelines");
        let peek = Peek::connect(&db.url).await;
        CrashWorld {
            sandbox,
            db,
            config,
            peek,
            http: reqwest::Client::new(),
        }
    }

    /// The configuration of another process on the same database, on its own port.
    fn second_config(&self) -> Config {
        let port = free_port();
        Config {
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            ..self.config.clone()
        }
    }

    async fn command(&self, bot: &BotProcess, channel: &str, text: &str) -> String {
        let slack = &self.sandbox.slack;
        outcomes::send_command(&self.http, &bot.url, slack, channel, text).await
    }

    /// Waits until deploy number `n` (1-based) satisfies `wanted`.
    async fn deploy_when(
        &self,
        n: usize,
        what: &str,
        wanted: impl Fn(&DeployRow) -> bool,
    ) -> DeployRow {
        let store = &self.db.store;
        eventually(what, DEADLINE, async || {
            let deploys = store.deploys().await.unwrap();
            deploys.get(n - 1).filter(|d| wanted(d)).cloned()
        })
        .await
    }

    /// Waits until deploy `n` is in `state` with nothing being sent to Slack, so a
    /// kill lands in the stage and not in the middle of a Slack post (that case has
    /// its own test below).
    async fn in_stage_and_quiet(&self, n: usize, state: &str) -> DeployRow {
        let store = &self.db.store;
        eventually(
            &format!("deploy {n} {state} with an idle outbox"),
            DEADLINE,
            async || {
                let deploy = store.deploys().await.unwrap().get(n - 1).cloned()?;
                let quiet = store.pending_messages().await.unwrap() == 0;
                (deploy.state == state && quiet).then_some(deploy)
            },
        )
        .await
    }

    /// Waits for every deploy to finish and its messages to be sent; checks each went
    /// through exactly once.
    async fn assert_all_deployed_once(&self, expected: usize) -> Vec<DeployRow> {
        let deploys = all_finished(&self.db.store, expected, DEADLINE).await;
        outbox_drained(&self.db.store, DEADLINE).await;
        for deploy in &deploys {
            assert_deployed_once(&self.sandbox, &self.db.store, deploy).await;
        }
        let states = self.peek.outbox_states().await;
        assert!(
            states
                .iter()
                .all(|(state, _)| ["sent", "superseded"].contains(&state.as_str())),
            "every Slack message was delivered: {states:?}"
        );
        assert_eq!(
            self.db.store.app_locks().await.unwrap(),
            0,
            "locks released"
        );
        deploys
    }

    async fn finish(self) {
        self.peek.close().await;
        self.db.finish().await;
    }
}

/// Where in a deploy the bot is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Still `requested`: the GitHub deployment exists, the build request is on its
    /// way to Heroku (held there until after the kill).
    BeforeTheBuild,
    /// Still `requested`: the GitHub deployment and the build both exist, and the row
    /// knows neither (the bot dies while posting the `in_progress` status).
    AfterTheBuild,
    Building,
    Releasing,
    Restarting,
}

impl KillPoint {
    /// Holds the request the bot will be killed during, if the point needs one.
    fn arm(self, sandbox: &Sandbox) {
        match self {
            KillPoint::BeforeTheBuild => sandbox.heroku.faults.inject(FaultRule::slow(
                Method::POST,
                &format!("/apps/{APP}/builds"),
                HOLD,
                1,
            )),
            KillPoint::AfterTheBuild => sandbox.github.faults.inject(FaultRule::slow(
                Method::POST,
                "/repos/heroku/paipu-repo/deployments/",
                HOLD,
                1,
            )),
            _ => {}
        }
    }

    /// Waits until the first deploy is at this point.
    async fn reach(self, world: &CrashWorld) {
        let (heroku, github) = (&world.sandbox.heroku, &world.sandbox.github);
        let state = match self {
            KillPoint::BeforeTheBuild => {
                eventually("the build request", DEADLINE, async || {
                    (heroku.count_requests("POST", &format!("/apps/{APP}/builds")) == 1)
                        .then_some(())
                })
                .await;
                let deploy = world.deploy_when(1, "the deploy", |_| true).await;
                let created = github.deployments("heroku/paipu-repo").unwrap();
                assert!(
                    created
                        .iter()
                        .any(|d| d.payload["chatops_deploy_id"] == deploy.id)
                );
                return;
            }
            KillPoint::AfterTheBuild => {
                eventually("the in_progress status post", DEADLINE, async || {
                    github
                        .requests()
                        .iter()
                        .any(|r| r.starts_with("POST ") && r.ends_with("/statuses"))
                        .then_some(())
                })
                .await;
                let deploy = world.deploy_when(1, "the deploy", |_| true).await;
                assert_eq!(
                    (deploy.state.as_str(), deploy.build_id),
                    ("requested", None)
                );
                let marker = outcomes::build_marker(deploy.id);
                let builds = heroku.builds(APP);
                assert!(builds.iter().any(|b| {
                    b.source_blob
                        .version_description
                        .as_deref()
                        .is_some_and(|v| v.ends_with(&marker))
                }));
                return;
            }
            KillPoint::Building => "building",
            KillPoint::Releasing => "releasing",
            KillPoint::Restarting => "restarting",
        };
        world.in_stage_and_quiet(1, state).await;
    }
}

/// Kills the bot at `point` of a deploy, lets `while_down` change the world, and
/// starts another bot on the same database, on every backend; the deploy must finish
/// exactly once.
async fn crash_and_restart_at(point: KillPoint, while_down: impl Fn(&Sandbox)) {
    for db in common::databases().await {
        let backend = db.backend_name();
        let world = CrashWorld::new(db).await;
        point.arm(&world.sandbox);
        let builds_before = world.sandbox.heroku.builds(APP).len();
        let bot = BotProcess::start("first", &world.config).await;
        assert_eq!(world.command(&bot, CHANNEL, COMMAND).await, ACK);
        point.reach(&world).await;
        let killed_at = Instant::now();
        bot.kill();
        while_down(&world.sandbox);
        // A held request is answered (or dropped) by the fake after HOLD; restarting
        // before then would race a build the dead process asked for.
        if matches!(point, KillPoint::BeforeTheBuild | KillPoint::AfterTheBuild) {
            tokio::time::sleep((killed_at + HOLD).saturating_duration_since(Instant::now())).await;
        }
        let restarted = BotProcess::start("restarted", &world.config).await;
        world.assert_all_deployed_once(1).await;
        assert_eq!(
            world.sandbox.heroku.builds(APP).len(),
            builds_before + 1,
            "{backend}, killed at {point:?}: exactly one build"
        );
        restarted.kill();
        world.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_requested_before_the_build_exists_the_restarted_bot_builds_once() {
    crash_and_restart_at(KillPoint::BeforeTheBuild, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_requested_after_the_build_was_created_the_restarted_bot_finds_it() {
    crash_and_restart_at(KillPoint::AfterTheBuild, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_building_the_restarted_bot_finishes_the_deploy() {
    crash_and_restart_at(KillPoint::Building, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_releasing_the_restarted_bot_finishes_the_deploy() {
    crash_and_restart_at(KillPoint::Releasing, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_restarting_the_restarted_bot_finishes_the_deploy() {
    crash_and_restart_at(KillPoint::Restarting, |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_on_one_postgresql_finish_the_deploys_of_whichever_is_killed() {
    let Some(db) = common::databases()
        .await
        .into_iter()
        .find(|db| db.backend_name() == "postgres")
    else {
        eprintln!("skipped: set TEST_DATABASE_URL to run two bots on one PostgreSQL");
        return;
    };
    let world = CrashWorld::new(db).await;
    let heroku = &world.sandbox.heroku;
    // The first poll of the build is held, so the bot making it holds the deploy's
    // lease when it is killed.
    let poll = FaultRule::slow(Method::GET, &format!("/apps/{APP}/builds/"), HOLD, 1);
    heroku.faults.inject(poll);
    let configs = [world.config.clone(), world.second_config()];
    let a = BotProcess::start("A", &configs[0]).await;
    let b = BotProcess::start("B", &configs[1]).await;
    assert_eq!(world.command(&a, CHANNEL, COMMAND).await, ACK);
    assert_eq!(
        world
            .command(&b, "C0GENERAL", "deploy atlas to staging")
            .await,
        "On it: deploying atlas to staging. Progress will show in this channel."
    );
    let building = world
        .deploy_when(1, "deploy 1 building", |d| d.state == "building")
        .await;
    let build_poll = format!("/apps/{APP}/builds/{}", building.build_id.clone().unwrap());
    let owner = eventually("the held build poll", DEADLINE, async || {
        if heroku.count_requests("GET", &build_poll) == 0 {
            return None;
        }
        world.peek.lease_owner(building.id).await
    })
    .await;
    let (holder, survivor, holder_config) = if a.owns(&owner) {
        (a, b, &configs[0])
    } else {
        (b, a, &configs[1])
    };
    assert!(holder.owns(&owner), "lease owner {owner} is neither bot");
    let holder_name = holder.name.clone();
    holder.kill();

    // The survivor takes the deploy over once the dead bot's lease expires.
    world
        .deploy_when(1, "the survivor to move deploy 1 on", |d| {
            d.state != "building"
        })
        .await;
    let moved = survivor.count_logged(|line| {
        line["message"] == "deploy moved"
            && line["deploy"] == building.id
            && line["from"] == "building"
    });
    assert_eq!(moved, 1, "{} moved deploy 1 out of building", survivor.name);

    // Then the survivor dies too, and the restarted first bot finishes both deploys.
    let restarted = BotProcess::start(&format!("{holder_name} restarted"), holder_config).await;
    world.in_stage_and_quiet(1, "restarting").await;
    survivor.kill();
    world.assert_all_deployed_once(2).await;
    restarted.kill();
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_while_the_bot_is_down_does_not_split_the_deploy_across_two_commits() {
    crash_and_restart_at(KillPoint::AfterTheBuild, |sandbox| {
        let github = &sandbox.github;
        github
            .push_commit(
                "heroku/paipu-repo",
                "master",
                "Pushed while the bot is down",
                "alice",
            )
            .unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_being_sent_when_the_bot_dies_is_sent_soon_after_the_restart() {
    for db in common::databases().await {
        let world = CrashWorld::new(db).await;
        let slack = &world.sandbox.slack;
        let bot = BotProcess::start("first", &world.config).await;
        assert_eq!(world.command(&bot, CHANNEL, COMMAND).await, ACK);
        eventually("the parent message", DEADLINE, async || {
            (!slack.channel_messages(CHANNEL).is_empty()).then_some(())
        })
        .await;
        // The next post, the Deploying reply, never gets an answer (nor reaches Slack).
        let hang = FaultRule::failing(Method::POST, "/api/chat.postMessage", Failure::Hang, 1);
        slack.faults.inject(hang);
        eventually("the reply to be on its way", DEADLINE, async || {
            (world.peek.claimed_messages().await > 0).then_some(())
        })
        .await;
        bot.kill();
        let restarted = BotProcess::start("restarted", &world.config).await;
        let started = Instant::now();
        eventually(
            "the Deploying reply after the restart",
            REPLY_DEADLINE,
            async || {
                let parent = slack.channel_messages(CHANNEL).first().cloned()?;
                (!slack.thread(CHANNEL, &parent.ts).is_empty()).then_some(())
            },
        )
        .await;
        eprintln!("the reply came {:?} after the restart", started.elapsed());
        world.assert_all_deployed_once(1).await;
        restarted.kill();
        world.finish().await;
    }
}

#[tokio::test]
async fn the_bot_process_reads_back_the_configuration_it_is_given() {
    use secrecy::ExposeSecret;
    let sandbox = Sandbox::start().await.unwrap();
    let mut config = sandbox.bot_config(4321, "http://127.0.0.1:4321", "sqlite://x.db?mode=rwc");
    config.deploy_lease = LEASE;
    let env = processes::env_of(&config);
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let read = Config::from_lookup(lookup).expect("a valid environment");
    assert_eq!(
        (
            read.port,
            read.base_url.as_str(),
            read.database_url.as_str()
        ),
        (4321, "http://127.0.0.1:4321", "sqlite://x.db?mode=rwc")
    );
    assert_eq!(read.endpoints, config.endpoints);
    assert_eq!(
        (read.poll_interval, read.deploy_lease, read.log_format),
        (config.poll_interval, LEASE, config.log_format)
    );
    let secrets = |c: &Config| {
        let slack_app = c.slack_app.as_ref().unwrap();
        [
            c.slack_signing_secret.expose_secret().to_owned(),
            c.slack_bot_token
                .as_ref()
                .unwrap()
                .expose_secret()
                .to_owned(),
            format!(
                "{}:{}",
                slack_app.client_id,
                slack_app.client_secret.expose_secret()
            ),
            format!(
                "{}:{}",
                c.heroku_oauth.client_id,
                c.heroku_oauth.client_secret.expose_secret()
            ),
            format!(
                "{}:{}",
                c.github_oauth.client_id,
                c.github_oauth.client_secret.expose_secret()
            ),
            c.encryption_key.expose_secret().to_owned(),
        ]
    };
    assert_eq!(secrets(&read), secrets(&config));
}
