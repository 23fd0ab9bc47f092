//! The `chatops` binary: parse the command line and run the task.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is a development convenience; in production the environment is set.
    let _ = dotenvy::dotenv();
    match chatops::cli::Cli::parse().run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chatops: {error:#}");
            ExitCode::FAILURE
        }
    }
}
