//! The bench's bot: the real app served in this process against a sandbox (as
//! `serve` runs it: deploy worker, outbox, webhook receiver), alice linked, commands
//! typed as Slack sends them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chatops::app;
use chatops::bot::{BotState, Patience};
use chatops::clock::Clock;
use chatops::store::Store;
use chatops_fakes::{Fakes, SANDBOX_TEAM};
use chatops_sandbox::SANDBOX_SIGNING_SECRET;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::database::Database;

/// The sandbox user every deploy is typed by.
pub const ALICE: &str = "U0ALICE";
/// The two channels of the sandbox workspace the bot may post in.
pub const CHANNELS: [&str; 2] = ["C0DEPLOYS", "C0GENERAL"];
/// The repository every added pipeline builds from.
pub const REPO: &str = "heroku/paipu-repo";

static NEXT_TRIGGER: AtomicU64 = AtomicU64::new(0);

/// A running bot.
pub struct Bot {
    pub state: BotState,
    database_url: String,
    commands_url: String,
    http: reqwest::Client,
    stop: oneshot::Sender<()>,
    served: JoinHandle<anyhow::Result<()>>,
}

impl Bot {
    /// Serves a bot on a free loopback port, polling Heroku every `poll`, with alice
    /// linked to the sandbox's accounts.
    pub async fn start(
        sandbox: &Fakes,
        database: &Database,
        poll: Duration,
    ) -> anyhow::Result<Bot> {
        let store = Store::connect(&database.url).await?;
        store.migrate().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mut config = chatops_sandbox::bot_config(sandbox, 0, &base_url, &database.url);
        config.poll_interval = poll;
        let state = BotState::new(chatops::bot::Bot::new(
            config,
            store,
            Clock::system(),
            Patience::default(),
        )?);
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(app::serve(listener, state.clone(), async {
            stopped.await.ok();
        }));
        chatops_sandbox::bot::link_user(
            &state,
            sandbox,
            SANDBOX_TEAM,
            ALICE,
            "alice@example.com",
            "alice",
        )
        .await?;
        Ok(Bot {
            state,
            database_url: database.url.clone(),
            commands_url: format!("{base_url}/slack/commands"),
            http: reqwest::Client::new(),
            stop,
            served,
        })
    }

    /// Connects `pipeline` to [`REPO`], as `/h connect` would.
    pub async fn connect(&self, pipeline: &str) -> anyhow::Result<()> {
        let now = self.state.clock.now();
        self.state
            .store
            .set_pipeline_repo(SANDBOX_TEAM, pipeline, REPO, ALICE, now)
            .await
    }

    /// Types `/h <text>` as alice in `channel`; fails unless the deploy was accepted.
    pub async fn command(&self, sandbox: &Fakes, channel: &str, text: &str) -> anyhow::Result<()> {
        let response_url = sandbox.slack.response_url(SANDBOX_TEAM, channel, ALICE);
        let trigger = NEXT_TRIGGER.fetch_add(1, Ordering::Relaxed).to_string();
        let body = serde_urlencoded::to_string([
            ("team_id", SANDBOX_TEAM),
            ("channel_id", channel),
            ("user_id", ALICE),
            ("command", "/h"),
            ("text", text),
            ("response_url", &response_url),
            ("trigger_id", &trigger),
        ])?;
        let timestamp = Clock::system().now().to_string();
        let signature = chatops::slack::verify::sign(
            SANDBOX_SIGNING_SECRET.as_bytes(),
            &timestamp,
            body.as_bytes(),
        );
        let reply = self
            .http
            .post(&self.commands_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await?
            .text()
            .await?;
        anyhow::ensure!(
            reply.contains("On it: deploying"),
            "`/h {text}` was refused: {reply}"
        );
        Ok(())
    }

    /// Waits until `count` deploys have finished. Watched over a connection of its own
    /// with a cheap count every 50 ms, so the watching costs the bot next to nothing.
    pub async fn wait_finished(&self, count: usize) -> anyhow::Result<()> {
        let watcher = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.database_url)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(100);
        loop {
            let finished: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM deploys WHERE finished_at IS NOT NULL")
                    .fetch_one(&watcher)
                    .await?;
            if finished >= count as i64 {
                watcher.close().await;
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "only {finished} of {count} deploys finished in time"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops serving and waits for the loops to finish their current step.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.send(()).ok();
        self.served.await.context("the bot panicked")??;
        self.state.store.close().await;
        Ok(())
    }
}
