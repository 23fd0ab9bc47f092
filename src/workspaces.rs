//! The Slack bot token to post in a workspace with: its own install's (sealed in the
//! store, written by the install flow in `accounts`), else `SLACK_BOT_TOKEN`.

use secrecy::{ExposeSecret, SecretString};

use crate::bot::{Bot, BotState};

/// The bot token to post in `team_id` with: the workspace's own install, else
/// `SLACK_BOT_TOKEN`. `None` when there is neither (or the store cannot be read, which
/// is logged).
pub async fn bot_token(state: &BotState, team_id: &str) -> Option<SecretString> {
    match installed_token(state, team_id).await {
        Ok(Some(token)) => return Some(token),
        Ok(None) => {}
        Err(error) => {
            tracing::error!(team = %team_id, error = format!("{error:#}"), "cannot read the workspace install");
        }
    }
    state.config.slack_bot_token.clone()
}

/// What a workspace's bot token is sealed for.
pub fn sealed_for(team_id: &str) -> String {
    format!("slack_bot_token:{team_id}")
}

async fn installed_token(app: &Bot, team_id: &str) -> anyhow::Result<Option<SecretString>> {
    let Some(workspace) = app.store.workspace(team_id).await? else {
        return Ok(None);
    };
    let opened = app.vault.open(&workspace.bot_token, &sealed_for(team_id))?;
    if opened.needs_reseal {
        let resealed = app
            .vault
            .seal(opened.secret.expose_secret(), &sealed_for(team_id));
        app.store.reseal_bot_token(team_id, &resealed).await?;
    }
    Ok(Some(opened.secret))
}
