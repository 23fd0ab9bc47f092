//! The "connect your account" prompt in Slack: the lines saying what is known, then a
//! button (and, in the fallback text, a link) that starts linking the next account.

use serde_json::json;

use super::Provider;
use super::states::{self, Origin, Purpose};
use crate::bot::Bot;
use crate::chat::Invocation;
use crate::chat::Reply;

/// Under every connect button.
pub const LINK_NOTE: &str = "The link works once, within 10 minutes.";

/// Replaces the 2FA code in a command's text: it is spent by the time the person
/// runs the command again, and it has no business in the database.
const FRESH_CODE: &str = "<2FA code>";

impl Origin {
    /// Where `invocation` was typed; `pending` is the command to offer again.
    pub fn of(invocation: &Invocation, pending: Option<String>) -> Origin {
        Origin {
            team_id: invocation.team_id.clone(),
            user_id: invocation.user_id.clone(),
            channel_id: invocation.channel_id.clone(),
            response_url: Some(invocation.response_url.clone()).filter(|url| !url.is_empty()),
            pending_command: pending,
        }
    }
}

/// The command text to offer running again, without its 2FA code.
pub fn rerunnable(text: &str) -> String {
    let code = crate::command::parse(text)
        .ok()
        .and_then(|command| command.two_factor_code().map(str::to_ascii_lowercase));
    text.split_whitespace()
        .map(|word| match &code {
            Some(code) if word.to_ascii_lowercase() == *code => FRESH_CODE,
            _ => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `lines`, then a button that starts linking the first of `missing` (the others follow
/// from its last page), for the person at `origin`.
pub async fn prompt(app: &Bot, origin: &Origin, missing: &[Provider], lines: &[String]) -> Reply {
    let provider = missing.first().copied().unwrap_or(Provider::Heroku);
    let state = match states::issue(app, Purpose::Link(provider), Some(origin)).await {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot issue an OAuth state");
            return Reply::ephemeral(
                "I could not prepare a sign-in link just now (the database did not answer). \
                 Nothing was changed: try again in a moment.",
            );
        }
    };
    let url = states::start_url(app, provider, &state);
    let ask = match missing {
        [first, second, ..] => format!("Connect your {first} account, then {second}"),
        _ => format!("Connect your {provider} account"),
    };
    let known = lines.join("\n");
    let label = format!("Connect {provider}");
    let text = format!("{known}\n{ask}: <{url}|{label}>\n{LINK_NOTE}");
    let blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("{known}\n{ask}.")}}),
        json!({"type": "actions", "block_id": "accounts_connect", "elements": [{
            "type": "button",
            "action_id": format!("accounts_connect_{}", provider.key()),
            "text": {"type": "plain_text", "text": label},
            "url": url,
            "style": "primary",
        }]}),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": LINK_NOTE}]}),
    ];
    Reply::ephemeral(text).with_blocks(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rerun_drops_the_spent_2fa_code_and_extra_spaces() {
        assert_eq!(
            rerunnable("  deploy  paipu to production 123456 "),
            "deploy paipu to production <2FA code>"
        );
        assert_eq!(
            rerunnable("deploy paipu to staging"),
            "deploy paipu to staging"
        );
    }
}
