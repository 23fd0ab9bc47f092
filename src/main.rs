//! The `chatops` binary: parse the command line and run the task.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is a development convenience; in production the environment is set.
    let _ = dotenvy::dotenv();
    let result = chatops::cli::Cli::parse().run().await;
    chatops::cli::exit_code("chatops", result)
}
