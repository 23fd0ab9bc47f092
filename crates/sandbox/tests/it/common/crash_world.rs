//! The world of a crash test: the fakes in the test process, a database where alice
//! is linked, and the configuration bot processes start with; plus the waits and the
//! final check those tests share. Included by `tests/deploy_crash.rs` next to its
//! `outcomes` and `processes` modules.

use std::time::Duration;

use chatops::bot::Bot;
use chatops::clock::Clock;
use chatops::config::Config;
use chatops::store::{DeployRow, DeployState};
use chatops_fakes::heroku::Timings;
use chatops_fakes::{Fakes, SANDBOX_TEAM};

use crate::common::deploys::ALICE;
use crate::common::outcomes::{self, Before, Peek, all_finished, assert_deployed_once, eventually};
use crate::common::{PATIENCE, TestDb};
use chatops_sandbox::process::{BotProcess, free_port};

/// Each Heroku stage (build, release phase, restart) takes this long, so a test can
/// see the deploy in it, with its messages delivered, and kill the bot there. After a
/// kill, the dead bot's messages wait out its 1 s lease and are looked up in Slack
/// before they are posted at the channel's pace; 1.5 s was too short for that on a
/// loaded machine (CI, ten crash tests at once).
pub const STAGE: Duration = Duration::from_secs(3);
/// A restarted bot takes a dead one's deploys over after this long.
pub const LEASE: Duration = Duration::from_millis(1000);
/// The apps and repositories crash tests deploy.
const APPS: [&str; 2] = ["paipu-app-staging", "atlas-staging"];
const REPOS: [&str; 2] = ["heroku/paipu-repo", "acme/atlas"];
/// Any wait in a crash test: a guard against hangs, generous for a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The fakes, a database with alice linked, and the configuration bots start with.
pub struct CrashWorld {
    pub sandbox: Fakes,
    pub db: TestDb,
    /// What the first bot runs with.
    pub config: Config,
    pub peek: Peek,
    /// What the fakes held before any deploy.
    pub before: Before,
    http: reqwest::Client,
}

impl CrashWorld {
    pub async fn new(db: TestDb) -> CrashWorld {
        let sandbox = Fakes::start().await.unwrap();
        sandbox.heroku.set_timings(Timings {
            build: STAGE,
            release_phase: STAGE,
            restart: STAGE,
            promotion: Duration::from_millis(10),
        });
        let port = free_port();
        let mut config = chatops_sandbox::bot_config(
            &sandbox,
            port,
            &format!("http://127.0.0.1:{port}"),
            &db.url,
        );
        config.deploy_lease = LEASE;
        // Linked through the same store and key the bot processes will use.
        let app = Bot::new(config.clone(), db.store.clone(), Clock::system(), PATIENCE).unwrap();
        chatops_sandbox::bot::link_user(
            &app,
            &sandbox,
            SANDBOX_TEAM,
            ALICE,
            "alice@example.com",
            "alice",
        )
        .await
        .expect("link alice");
        chatops_sandbox::bot::connect_pipelines(&app, SANDBOX_TEAM, ALICE)
            .await
            .expect("connect pipelines");
        let peek = Peek::connect(&db.url).await;
        let before = Before::count(&sandbox, &APPS, &REPOS);
        CrashWorld {
            sandbox,
            db,
            config,
            peek,
            before,
            http: reqwest::Client::new(),
        }
    }

    /// The configuration of another process on the same database, on its own port.
    pub fn second_config(&self) -> Config {
        let port = free_port();
        Config {
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            ..self.config.clone()
        }
    }

    pub async fn command(&self, bot: &BotProcess, channel: &str, text: &str) -> String {
        self.command_as(bot, channel, ALICE, text).await
    }

    /// [`CrashWorld::command`] typed by `user`.
    pub async fn command_as(
        &self,
        bot: &BotProcess,
        channel: &str,
        user: &str,
        text: &str,
    ) -> String {
        let to = (bot.url.as_str(), &self.sandbox.slack);
        outcomes::send_command_as(&self.http, to, channel, user, text).await
    }

    /// Links Slack user `user` to the fakes' `email` and `login`, as [`CrashWorld::new`]
    /// links alice.
    pub async fn link(&self, user: &str, email: &str, login: &str) {
        let app = Bot::new(
            self.config.clone(),
            self.db.store.clone(),
            Clock::system(),
            PATIENCE,
        )
        .unwrap();
        chatops_sandbox::bot::link_user(&app, &self.sandbox, SANDBOX_TEAM, user, email, login)
            .await
            .expect("link a user");
    }

    /// Waits until deploy number `n` (1-based) satisfies `wanted`.
    pub async fn deploy_when(
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
    pub async fn in_stage_and_quiet(&self, n: usize, state: DeployState) -> DeployRow {
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
    pub async fn assert_all_deployed_once(&self, expected: usize) -> Vec<DeployRow> {
        let deploys = all_finished(&self.db.store, expected, DEADLINE).await;
        self.outbox_drained().await;
        for deploy in &deploys {
            assert_deployed_once(&self.sandbox, &self.db.store, deploy).await;
        }
        self.before.assert_one_each(&self.sandbox, &deploys);
        self.assert_delivered_and_unlocked().await;
        deploys
    }

    /// Waits until the outbox has nothing left to send; if it still has after
    /// [`DEADLINE`], fails with every pending message and the time, to see which
    /// stuck and why.
    pub async fn outbox_drained(&self) {
        let started = std::time::Instant::now();
        while self.db.store.pending_messages().await.unwrap() > 0 {
            if started.elapsed() > DEADLINE {
                let now = chatops::clock::Clock::system().now_millis();
                let pending = self.peek.pending_report().await.join("\n");
                panic!("the outbox did not drain within {DEADLINE:?}; at {now}:\n{pending}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Checks that every Slack message was delivered and no app is left locked.
    pub async fn assert_delivered_and_unlocked(&self) {
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
    }

    pub async fn finish(self) {
        self.peek.close().await;
        self.db.finish().await;
    }
}
