//! Runs a parsed `/h` command, or a press of one of the bot's buttons, as the person
//! who typed or pressed it, by handing it to the feature that owns its noun (accounts,
//! deploys, locks, ...) or its action. Owns only the routing.

use crate::bot::BotState;
use crate::chat::{
    CANCEL_ACTION, CONFIRM_ACTION, DEQUEUE_ACTION, HOME_DEPLOY_ACTION, HOME_PROMOTE_ACTION,
    Invocation, Press, QUEUE_ACTION, ROLLBACK_ACTION, Reply,
};
use crate::command::{self, Command};

/// The immediate reply to `command`. Failures are answered in the reply, never as an
/// HTTP error: Slack would only show "/h failed".
pub async fn run(state: &BotState, invocation: &Invocation, command: Command) -> Reply {
    match command {
        Command::Help { topic: None } => Reply::ephemeral(command::help_index()),
        Command::Help { topic: Some(topic) } => {
            Reply::ephemeral(command::help_for(&topic).unwrap_or_else(|error| error.to_string()))
        }
        Command::Login => crate::accounts::login::login(state, invocation).await,
        Command::Logout => crate::accounts::login::logout(state, invocation).await,
        Command::Whoami => crate::accounts::login::whoami(state, invocation).await,
        Command::Deploy(request) => {
            crate::deploy::requested::deploy(state, invocation, request).await
        }
        Command::Promote(request) => {
            crate::deploy::requested::promote(state, invocation, request).await
        }
        Command::Rollback(request) => {
            crate::deploy::requested::rollback(state, invocation, request).await
        }
        Command::Connect { pipeline, repo } => {
            crate::deploy::connect::connect(state, invocation, &pipeline, &repo).await
        }
        Command::Pipelines => crate::pipelines::pipelines(state, invocation).await,
        Command::Info { pipeline } => crate::pipelines::info(state, invocation, &pipeline).await,
        Command::Releases { pipeline, target } => {
            crate::pipelines::releases(state, invocation, &pipeline, target).await
        }
        Command::Queue { pipeline, target } => {
            crate::deploy::line::show(state, invocation, &pipeline, target).await
        }
        Command::Dequeue { pipeline, target } => {
            crate::deploy::line::dequeue(state, invocation, &pipeline, target).await
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
        } => crate::channels::set(state, invocation, &pipeline, &channel).await,
        Command::Route { .. } => crate::channels::list(state, invocation).await,
        Command::Doctor { pipeline } => {
            crate::doctor::doctor(state, invocation, pipeline.as_deref()).await
        }
    }
}

/// Answers a press of one of the bot's buttons by handing it to the feature that showed
/// the button. An unknown action (an old message's button) is logged and ignored.
pub async fn press(state: &BotState, press: &Press) -> anyhow::Result<()> {
    match press.action_id.as_str() {
        CONFIRM_ACTION | CANCEL_ACTION => crate::deploy::confirm::pressed(state, press).await,
        ROLLBACK_ACTION => crate::deploy::requested::rollback_pressed(state, press).await,
        QUEUE_ACTION => crate::deploy::line::queue_pressed(state, press).await,
        DEQUEUE_ACTION => crate::deploy::line::dequeue_pressed(state, press).await,
        HOME_DEPLOY_ACTION | HOME_PROMOTE_ACTION => crate::home::pressed(state, press).await,
        other => {
            tracing::warn!(action = other, "an unknown button was pressed");
            Ok(())
        }
    }
}
