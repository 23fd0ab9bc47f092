//! Runs a parsed `/h` command as the person who typed it, by handing it to the module
//! that owns its noun (accounts, deploys, locks, ...). Owns only the routing.

use crate::bot::BotState;
use crate::command::{self, Command};
use crate::slack::reply::Reply;

/// Who typed a command, where, and how to answer them later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    /// Slack's `response_url`: up to 5 follow-ups within 30 minutes.
    pub response_url: String,
    /// The text after `/h`, as typed.
    pub text: String,
}

/// The immediate reply to `command`. Failures are answered in the reply, never as an
/// HTTP error: Slack would only show "/h failed".
pub async fn run(state: &BotState, invocation: &Invocation, command: Command) -> Reply {
    match command {
        Command::Help { topic: None } => Reply::ephemeral(command::help_index()),
        Command::Help { topic: Some(topic) } => {
            Reply::ephemeral(command::help_for(&topic).unwrap_or_else(|error| error.to_string()))
        }
        Command::Login => crate::accounts::commands::login(state, invocation).await,
        Command::Logout => crate::accounts::commands::logout(state, invocation).await,
        Command::Whoami => crate::accounts::commands::whoami(state, invocation).await,
        Command::Deploy(request) => {
            crate::deploy::commands::deploy(state, invocation, request).await
        }
        Command::Promote(request) => {
            crate::deploy::commands::promote(state, invocation, request).await
        }
        Command::Rollback(request) => {
            crate::deploy::commands::rollback(state, invocation, request).await
        }
        Command::Connect { pipeline, repo } => {
            crate::deploy::commands::connect(state, invocation, &pipeline, &repo).await
        }
        Command::Pipelines => crate::pipelines::pipelines(state, invocation).await,
        Command::Info { pipeline } => crate::pipelines::info(state, invocation, &pipeline).await,
        Command::Releases { pipeline, target } => {
            crate::pipelines::releases(state, invocation, &pipeline, target).await
        }
        Command::History { pipeline, target } => {
            crate::history::history(state, invocation, &pipeline, target).await
        }
        Command::Lock(request) => crate::locks::lock(state, invocation, request).await,
        Command::Unlock {
            pipeline,
            target,
            forced,
        } => crate::locks::unlock(state, invocation, &pipeline, &target, forced).await,
        Command::Route {
            pipeline: Some(pipeline),
            channel: Some(channel),
        } => crate::routes::set(state, invocation, &pipeline, &channel).await,
        Command::Route { .. } => crate::routes::list(state, invocation).await,
        Command::Doctor { pipeline } => {
            crate::doctor::doctor(state, invocation, pipeline.as_deref()).await
        }
    }
}
