//! The `chatops-sandbox` binary: parse the command line and run the task.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is a development convenience, as in the bot's binary.
    let _ = dotenvy::dotenv();
    let result = chatops_sandbox::cli::Cli::parse().run().await;
    chatops::cli::exit_code("chatops-sandbox", result)
}
