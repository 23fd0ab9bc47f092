//! The command line: `serve` (the default), `migrate`, `sandbox`, and `send`.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{self, App, AppState, Patience};
use crate::clock::Clock;
use crate::config::{Config, DEFAULT_PORT, LogFormat};
use crate::sandbox::{SANDBOX_SIGNING_SECRET, SANDBOX_TEAM, Sandbox};
use crate::store::Store;
use crate::{slack, telemetry};

/// Heroku ChatOps for Slack, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "chatops", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Task>,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Apply migrations, then answer Slack on $PORT (the default task).
    Serve,
    /// Apply pending database migrations and exit (Heroku's release phase).
    Migrate,
    /// Run the bot locally with no setup: a throw-away SQLite file and a built-in
    /// signing secret, on 127.0.0.1.
    Sandbox,
    /// Sign a `/h` command as Slack would, post it to a running bot, print the reply.
    Send(SendArgs),
}

#[derive(Debug, clap::Args)]
struct SendArgs {
    /// The bot's slash-command URL.
    #[arg(long, default_value = "http://127.0.0.1:5000/slack/commands")]
    url: String,
    /// Slack team (workspace) id to send as.
    #[arg(long, default_value = SANDBOX_TEAM)]
    team: String,
    /// Slack user id to send as.
    #[arg(long, default_value = "U0ALICE")]
    user: String,
    /// Slack channel id the command is typed in.
    #[arg(long, default_value = "C0DEPLOYS")]
    channel: String,
    /// The text after `/h`, e.g. `deploy paipu to staging`.
    #[arg(required = true, trailing_var_arg = true)]
    text: Vec<String>,
}

impl Cli {
    /// Runs the chosen task to completion.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command.unwrap_or(Task::Serve) {
            Task::Serve => serve(load_config()?).await,
            Task::Migrate => migrate(load_config()?).await,
            Task::Sandbox => sandbox().await,
            Task::Send(args) => send(args).await,
        }
    }
}

fn load_config() -> anyhow::Result<Config> {
    Config::from_env().map_err(|errors| anyhow::anyhow!("invalid configuration:\n{errors}"))
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    open_store(&config).await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let address = SocketAddr::from((Ipv4Addr::UNSPECIFIED, config.port));
    run_bot(config, address).await
}

async fn sandbox() -> anyhow::Result<()> {
    telemetry::init(LogFormat::Text);
    let database = std::env::temp_dir().join(format!("chatops-sandbox-{}.db", std::process::id()));
    let base_url = format!("http://127.0.0.1:{DEFAULT_PORT}");
    let fakes = Sandbox::start().await?;
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    let config = fakes.bot_config(DEFAULT_PORT, &base_url, &database_url);
    println!(
        "chatops sandbox\n\
         \x20 bot (answers /h):  {base_url}/slack/commands\n\
         \x20 fake Heroku:       {heroku}\n\
         \x20 fake GitHub:       {github}\n\
         \x20 fake Slack:        {slack}\n\
         \x20 database:          {database}\n\
         try it from another terminal:\n  cargo run --release -- send help\n  \
         cargo run --release -- send deploy paipu to staging",
        heroku = fakes.heroku_url,
        github = fakes.github_url,
        slack = fakes.slack_url,
        database = database.display()
    );
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
    run_bot(config, address).await
}

async fn run_bot(config: Config, address: SocketAddr) -> anyhow::Result<()> {
    // Parse the embedded command specs now: a malformed one fails the boot, not a
    // user's first command.
    crate::command::specs();
    let store = open_store(&config).await?;
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let app = App::new(config, store, Clock::system(), Patience::default())?;
    let state = AppState::new(app);
    app::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn send(args: SendArgs) -> anyhow::Result<()> {
    let secret =
        std::env::var("SLACK_SIGNING_SECRET").unwrap_or_else(|_| SANDBOX_SIGNING_SECRET.into());
    let text = args.text.join(" ");
    let body = serde_urlencoded::to_string([
        ("team_id", args.team.as_str()),
        ("channel_id", &args.channel),
        ("user_id", &args.user),
        ("command", "/h"),
        ("text", &text),
        ("response_url", "http://127.0.0.1:1/unused"),
        ("trigger_id", &format!("{}.send", Clock::system().now())),
    ])?;
    let timestamp = Clock::system().now().to_string();
    let signature = slack::verify::sign(secret.as_bytes(), &timestamp, body.as_bytes());
    let response = reqwest::Client::new()
        .post(&args.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach the bot at {}", args.url))?;
    let status = response.status();
    let reply = response
        .text()
        .await
        .context("cannot read the bot's reply")?;
    let shown = serde_json::from_str::<serde_json::Value>(&reply)
        .ok()
        .and_then(|json| json["text"].as_str().map(str::to_owned))
        .unwrap_or(reply);
    anyhow::ensure!(status.is_success(), "the bot answered {status}: {shown}");
    println!("{shown}");
    Ok(())
}

/// Completes on SIGTERM (Heroku stopping a dyno) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
