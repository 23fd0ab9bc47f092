//! The sandbox's command line: `sandbox` (the default) runs everything locally, `send`
//! signs one `/h` command for a running bot, and the bot's own tasks (`serve`,
//! `migrate`) run as they would in the bot's binary, for tests that start bot processes.

use chatops::cli::shutdown_signal;
use chatops::config::LogFormat;
use chatops::telemetry;
use chatops_fakes::SANDBOX_TEAM;
use clap::{Parser, Subcommand};

use crate::SANDBOX_SIGNING_SECRET;
use crate::launch::{Ports, Running};
use crate::slash::{SlashSender, Typist};

/// chatops with nothing to set up: the bot, fakes of Heroku, GitHub and Slack, and a
/// Slack-like page, on loopback.
#[derive(Debug, Parser)]
#[command(name = "chatops-sandbox", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Task>,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run the bot locally with no setup (a throw-away SQLite file, fakes of Heroku,
    /// GitHub and Slack) and a Slack-like page to use it from: bot on $PORT (5000),
    /// page on $SANDBOX_PAGE_PORT (5001), both on 127.0.0.1. The default.
    Sandbox,
    /// Sign a `/h` command as Slack would, post it to a running bot, print the reply.
    Send(SendArgs),
    #[command(flatten)]
    Bot(chatops::cli::Task),
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
        match self.command.unwrap_or(Task::Sandbox) {
            Task::Sandbox => sandbox().await,
            Task::Send(args) => send(args).await,
            Task::Bot(task) => task.run().await,
        }
    }
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

async fn send(args: SendArgs) -> anyhow::Result<()> {
    let secret =
        std::env::var("SLACK_SIGNING_SECRET").unwrap_or_else(|_| SANDBOX_SIGNING_SECRET.into());
    let typist = Typist {
        team: &args.team,
        channel: &args.channel,
        user: &args.user,
        // None: follow-ups are not shown here (the sandbox page shows them), and the
        // bot refuses a response_url that is not Slack's.
        response_url: "",
    };
    let reply = SlashSender::new(&args.url, &secret)
        .send(typist, &args.text.join(" "))
        .await?;
    println!("{reply}");
    Ok(())
}
