//! The command line: `serve` (the default), `migrate`, `sandbox`, and `send`.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{self, App, AppState, Patience};
use crate::clock::Clock;
use crate::config::{Config, DEFAULT_PORT, LogFormat};
use crate::sandbox::slash::{SlashSender, Typist};
use crate::sandbox::{SANDBOX_SIGNING_SECRET, SANDBOX_TEAM, Sandbox, bot, console};
use crate::store::Store;
use crate::telemetry;

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
    // Quiet by default: the console shows the conversation, not the bot's logs.
    telemetry::init_with_default(LogFormat::Text, "warn");
    let database = std::env::temp_dir().join(format!("chatops-sandbox-{}.db", std::process::id()));
    let base_url = format!("http://127.0.0.1:{DEFAULT_PORT}");
    let fakes = Sandbox::start().await?;
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    let config = fakes.bot_config(DEFAULT_PORT, &base_url, &database_url);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
    let (listener, state) = prepare_bot(config, address).await?;
    bot::link_user(
        &state,
        &fakes,
        SANDBOX_TEAM,
        console::USER,
        "alice@example.com",
        "alice",
    )
    .await?;
    bot::connect_pipelines(&state, SANDBOX_TEAM, console::USER).await?;
    println!(
        "chatops sandbox: the bot, fake Heroku ({heroku}), GitHub ({github}) and Slack ({slack}).\n\
         You are alice in #deploys, linked to Heroku and GitHub; pipelines paipu and atlas are connected.\n\
         Type a command and press Enter, e.g.\n  /h deploy paipu to staging\n  /h help\n\
         (From another terminal: cargo run --release -- send help)",
        heroku = fakes.heroku_url,
        github = fakes.github_url,
        slack = fakes.slack_url,
    );
    tokio::spawn(console::print_slack(fakes.slack.clone()));
    let sender = SlashSender::new(
        &format!("{base_url}/slack/commands"),
        SANDBOX_SIGNING_SECRET,
    );
    let served = tokio::spawn(app::serve(listener, state, shutdown_signal()));
    console::read_commands(&fakes, sender).await;
    served.await.context("the bot stopped")?
}

/// Checks the specs, opens (and migrates) the store, binds, and builds the app.
async fn prepare_bot(
    config: Config,
    address: SocketAddr,
) -> anyhow::Result<(TcpListener, AppState)> {
    // Parse the embedded command specs now: a malformed one fails the boot, not a
    // user's first command.
    crate::command::specs();
    let store = open_store(&config).await?;
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let app = App::new(config, store, Clock::system(), Patience::default())?;
    Ok((listener, AppState::new(app)))
}

async fn run_bot(config: Config, address: SocketAddr) -> anyhow::Result<()> {
    let (listener, state) = prepare_bot(config, address).await?;
    app::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn send(args: SendArgs) -> anyhow::Result<()> {
    let secret =
        std::env::var("SLACK_SIGNING_SECRET").unwrap_or_else(|_| SANDBOX_SIGNING_SECRET.into());
    let typist = Typist {
        team: &args.team,
        channel: &args.channel,
        user: &args.user,
        // Follow-ups are not shown here; the sandbox console shows them.
        response_url: "http://127.0.0.1:9/unused",
    };
    let reply = SlashSender::new(&args.url, &secret)
        .send(typist, &args.text.join(" "))
        .await?;
    println!("{reply}");
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
