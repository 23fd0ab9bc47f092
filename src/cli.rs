//! The command line: `serve` (the default), `migrate` and `rekey`.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app;
use crate::bot::{Bot, BotState, Patience};
use crate::clock::Clock;
use crate::config::Config;
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
pub enum Task {
    /// Apply migrations, then answer Slack on $PORT (the bot's default task).
    Serve,
    /// Apply pending database migrations and exit (Heroku's release phase).
    Migrate,
    /// After setting a new ENCRYPTION_KEY (the old one as ENCRYPTION_KEY_PREVIOUS):
    /// re-seal every stored secret under the new key and re-register the apps'
    /// Heroku webhooks, so ENCRYPTION_KEY_PREVIOUS can be removed. Safe to rerun.
    Rekey,
}

impl Cli {
    /// Runs the chosen task to completion.
    pub async fn run(self) -> anyhow::Result<()> {
        self.command.unwrap_or(Task::Serve).run().await
    }
}

impl Task {
    /// Runs this task to completion.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            Task::Serve => serve(load_config()?).await,
            Task::Migrate => migrate(load_config()?).await,
            Task::Rekey => rekey(load_config()?).await,
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

async fn rekey(config: Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let app = open_app(config).await?;
    let report = crate::rekey::rekey(&app).await?;
    println!("{report}");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let address = SocketAddr::from((Ipv4Addr::UNSPECIFIED, config.port));
    run_bot(config, address).await
}

/// Checks the specs, opens (and migrates) the store, and builds the app.
pub async fn open_app(config: Config) -> anyhow::Result<BotState> {
    // Parse the embedded command specs now: a malformed one fails the boot, not a
    // user's first command.
    crate::command::specs();
    let store = open_store(&config).await?;
    let app = Bot::new(config, store, Clock::system(), Patience::default())?;
    Ok(BotState::new(app))
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

/// The process's exit code for `result`, printing the error (with its causes) first,
/// as `program` says it.
pub fn exit_code(program: &str, result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM (Heroku stopping a dyno) or Ctrl-C.
pub async fn shutdown_signal() {
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
