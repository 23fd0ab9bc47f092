//! Telling the person in Slack that linking is done (and which command to run again),
//! through the `response_url` of the command that started it, or, when that is gone
//! (30 minutes, 5 uses), an ephemeral message from the bot in the same channel.

use super::states::Origin;
use crate::bot::BotState;
use crate::chat::{ResponseType, escape};
use crate::slack::api::Message;
use crate::workspaces::bot_token;

/// The message once both accounts are linked.
pub fn all_set_text(origin: &Origin, heroku_email: &str, github_login: &str) -> String {
    let mut text = format!(
        "You're all set: you're {} on Heroku and {} on GitHub.",
        escape(heroku_email),
        escape(github_login)
    );
    if let Some(command) = &origin.pending_command {
        text.push_str(&format!("\nRun `/h {command}` again to do what you asked."));
    }
    text
}

/// Sends [`all_set_text`] in the background: the browser's page does not wait for
/// Slack.
pub fn all_set(app: BotState, origin: Origin, heroku_email: &str, github_login: &str) {
    let message = Message::text(all_set_text(&origin, heroku_email, github_login));
    tokio::spawn(async move { tell(&app, &origin, &message).await });
}

async fn tell(app: &BotState, origin: &Origin, message: &Message) {
    if let Some(url) = &origin.response_url {
        match app
            .slack
            .respond(url, message, ResponseType::Ephemeral)
            .await
        {
            Ok(()) => return,
            Err(error) => {
                tracing::info!(%error, "the response_url failed; posting an ephemeral instead")
            }
        }
    }
    let Some(token) = bot_token(app, &origin.team_id).await else {
        tracing::warn!(team = %origin.team_id, "no bot token for this team: cannot say linking is done");
        return;
    };
    let posted = app
        .slack
        .post_ephemeral(&token, &origin.channel_id, &origin.user_id, message)
        .await;
    if let Err(error) = posted {
        tracing::warn!(team = %origin.team_id, %error, "cannot say linking is done");
    }
}
