//! The command line: `serve` (the default), `migrate`, `sandbox`, and `send`.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{self, App, AppState, Patience};
use crate::clock::Clock;
use crate::config::{Config, LogFormat};
use crate::sandbox::launch::{Ports, Running};
use crate::sandbox::slash::{SlashSender, Typist};
use crate::sandbox::{SANDBOX_SIGNING_SECRET, SANDBOX_TEAM};
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
    /// Run the bot locally with no setup (a throw-away SQLite file, fakes of Heroku,
    /// GitHub and Slack) and a Slack-like page to use it from: bot on $PORT (5000),
    /// page on $SANDBOX_PAGE_PORT (5001), both on 127.0.0.1.
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
    // Quiet by default: the page shows the conversation, not the bot's logs.
    telemetry::init_with_default(LogFormat::Text, "warn");
    let database = std::env::temp_dir().join(format!("chatops-sandbox-{}.db", std::process::id()));
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    let running = Running::start(Ports::from_env()?, &database_url, shutdown_signal()).await?;
    println!(
        "chatops sandbox: open {url} to use #deploys as alice (switch user there).\n\
         The bot answers on {bot}, wired to fake Heroku, GitHub and Slack. Ctrl-C stops it.",
        url = running.page_url,
        bot = running.bot_url.trim_start_matches("http://"),
    );
    let stopped = running.wait().await;
    // A throw-away world: its database goes with it.
    let _ = std::fs::remove_file(&database);
    stopped
}

/// Checks the specs, opens (and migrates) the store, and builds the app.
pub(crate) async fn open_app(config: Config) -> anyhow::Result<AppState> {
    // Parse the embedded command specs now: a malformed one fails the boot, not a
    // user's first command.
    crate::command::specs();
    let store = open_store(&config).await?;
    let app = App::new(config, store, Clock::system(), Patience::default())?;
    Ok(AppState::new(app))
}

async fn run_bot(config: Config, address: SocketAddr) -> anyhow::Result<()> {
    let state = open_app(config).await?;
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
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
        // Follow-ups are not shown here; the sandbox page shows them.
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
