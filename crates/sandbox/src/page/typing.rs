//! What you do in the channel: type `/h …`, sent to the bot's `/slack/commands` with
//! a fresh `response_url` exactly as Slack sends it, and click buttons, sent to its
//! `/slack/interactions` as Slack's `block_actions` payload.

use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BOT_USER, CHANNEL, Page, PageError, person};
use crate::slash::{Typist, trigger_id};
use chatops_fakes::SANDBOX_TEAM;
use chatops_fakes::slack::ChannelMessage;

/// The bot's immediate answer to a command, as Slack shows it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Said {
    /// Who typed the command.
    user: String,
    /// When, in Slack's `seconds.micros` form, to order it among the messages.
    ts: String,
    /// What they typed.
    command: String,
    /// `in_channel` answers are seen by everyone, others only by who typed.
    in_channel: bool,
    text: String,
    blocks: Vec<Value>,
}

/// What `user` sees of the bot's immediate answers.
pub(super) fn said_to(page: &Page, user: &str) -> Vec<Said> {
    let said = page.said.lock().expect("page lock");
    said.iter()
        .filter(|said| said.in_channel || said.user == user)
        .cloned()
        .collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct Typed {
    user: String,
    text: String,
}

/// `POST /api/commands`: `{"user", "text": "/h …"}`; answers the bot's reply.
pub(super) async fn command(
    State(page): State<Page>,
    Json(typed): Json<Typed>,
) -> Result<Json<Said>, PageError> {
    let user = person(&typed.user)?.id;
    let text = after_slash_h(&typed.text)?;
    let response_url = page.slack.response_url(SANDBOX_TEAM, CHANNEL, user);
    let typist = Typist {
        team: SANDBOX_TEAM,
        channel: CHANNEL,
        user,
        response_url: &response_url,
    };
    let reply = page.bot.reply(typist, text).await.map_err(PageError::Bot)?;
    let said = Said {
        user: user.into(),
        ts: now_ts(),
        command: format!("/h {text}").trim_end().to_owned(),
        in_channel: reply["response_type"] == "in_channel",
        text: reply["text"].as_str().unwrap_or_default().to_owned(),
        blocks: reply["blocks"].as_array().cloned().unwrap_or_default(),
    };
    page.said.lock().expect("page lock").push(said.clone());
    Ok(Json(said))
}

/// The command's text after `/h`, or why the line is not a `/h` command.
fn after_slash_h(line: &str) -> Result<&str, PageError> {
    let line = line.trim();
    match line.strip_prefix("/h") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => Ok(rest.trim()),
        _ => Err(PageError::BadRequest(format!(
            "{line:?} is not a command: this channel only knows /h, e.g. /h deploy paipu to staging"
        ))),
    }
}

/// Now in Slack's `ts` form.
fn now_ts() -> String {
    let micros = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_micros());
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

#[derive(Debug, Deserialize)]
pub(super) struct Click {
    user: String,
    /// The `ts` of the message the button is on.
    message_ts: String,
    /// Whether that message is an ephemeral one.
    ephemeral: bool,
    block_id: String,
    action_id: String,
    value: Option<String>,
    /// The button's label.
    text: String,
    /// The Home view the button is in, instead of a message.
    #[serde(default)]
    view_id: Option<String>,
}

/// `POST /api/clicks`: a button without a `url` was clicked. Answers a `note` to
/// show when the bot could not act on it.
pub(super) async fn click(
    State(page): State<Page>,
    Json(click): Json<Click>,
) -> Result<Json<Value>, PageError> {
    let who = person(&click.user)?;
    let payload = match &click.view_id {
        Some(view_id) => super::home::block_actions(who, view_id, action(&click)),
        None => {
            let message = if click.ephemeral {
                None
            } else {
                Some(find_message(&page, &click.message_ts)?)
            };
            let response_url = page.slack.response_url(SANDBOX_TEAM, CHANNEL, who.id);
            block_actions(who, &click, message.as_ref(), &response_url)
        }
    };
    let (status, body) = page
        .bot
        .interact(&page.interactions_url, &payload)
        .await
        .map_err(PageError::Bot)?;
    let note = match status {
        status if status.is_success() => None,
        StatusCode::NOT_FOUND => Some(
            "This button's action is not available in this version: the bot does not take \
             button clicks yet (its /slack/interactions answered 404)."
                .to_owned(),
        ),
        status => Some(format!("The bot answered {status} to the click: {body}")),
    };
    Ok(Json(json!({ "note": note })))
}

fn find_message(page: &Page, ts: &str) -> Result<ChannelMessage, PageError> {
    let top = page.slack.channel_messages(CHANNEL);
    let replies = top
        .iter()
        .flat_map(|parent| page.slack.thread(CHANNEL, &parent.ts));
    top.iter()
        .cloned()
        .chain(replies)
        .find(|message| message.ts == ts)
        .ok_or_else(|| PageError::BadRequest(format!("there is no message {ts} in #deploys")))
}

/// The button clicked, as a `block_actions` payload names it.
fn action(click: &Click) -> Value {
    let mut action = json!({
        "type": "button",
        "action_id": click.action_id,
        "block_id": click.block_id,
        "text": {"type": "plain_text", "text": click.text, "emoji": true},
        "action_ts": now_ts(),
    });
    // Slack leaves `value` out for a button that has none (a link button).
    if let Some(value) = &click.value {
        action["value"] = json!(value);
    }
    action
}

/// The `block_actions` payload Slack sends for a click on a message's button.
fn block_actions(
    who: &super::Person,
    click: &Click,
    message: Option<&ChannelMessage>,
    response_url: &str,
) -> Value {
    let mut payload = json!({
        "type": "block_actions",
        "team": {"id": SANDBOX_TEAM, "domain": "sandbox"},
        "user": {"id": who.id, "username": who.name, "name": who.name, "team_id": SANDBOX_TEAM},
        "api_app_id": "A0CHATOPS01",
        "container": {
            "type": "message",
            "message_ts": click.message_ts,
            "channel_id": CHANNEL,
            "is_ephemeral": click.ephemeral,
        },
        "trigger_id": trigger_id(),
        "channel": {"id": CHANNEL, "name": "deploys"},
        "response_url": response_url,
        "actions": [action(click)],
    });
    // Slack sends the message only for messages in the channel, not for ephemerals.
    if let Some(message) = message {
        payload["message"] = json!({
            "type": "message",
            "user": BOT_USER,
            "ts": message.ts,
            "thread_ts": message.thread_ts,
            "text": message.text,
            "blocks": message.blocks,
        });
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slash_h_lines_are_commands() {
        assert_eq!(after_slash_h(" /h deploy paipu ").unwrap(), "deploy paipu");
        assert_eq!(after_slash_h("/h").unwrap(), "");
        let refused = after_slash_h("/hdeploy").unwrap_err().to_string();
        assert_eq!(
            refused,
            "\"/hdeploy\" is not a command: this channel only knows /h, e.g. /h deploy paipu to staging"
        );
    }
}
