//! `POST /slack/commands`: a signed `/h` slash command in, an immediate reply out.
//!
//! The handler decodes the form, parses the text with the grammar, records the command
//! (the audit trail starts here), and hands the command to the dispatcher, whose reply
//! goes back within Slack's 3 s.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::signed::{SlackForm, Verified};
use crate::bot::BotState;
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::command::{self, Command};
use crate::dispatch;
use crate::edge::RequestError;
use crate::store::NewCommand;

/// The fields of Slack's slash-command form that the bot uses. Unknown fields (token,
/// team_domain, api_app_id, ...) are ignored; Slack adds new ones from time to time.
#[derive(Debug, Deserialize)]
pub struct SlashCommandForm {
    #[serde(default)]
    pub team_id: String,
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub response_url: String,
    /// Present (and `1`) on Slack's periodic certificate checks, which carry no command.
    pub ssl_check: Option<String>,
}

impl SlackForm for SlashCommandForm {
    /// Every command names its team, channel and user; certificate checks name none.
    fn validate(&self) -> Result<(), RequestError> {
        if self.ssl_check.is_some() {
            return Ok(());
        }
        for (name, value) in [
            ("team_id", &self.team_id),
            ("channel_id", &self.channel_id),
            ("user_id", &self.user_id),
        ] {
            if value.is_empty() {
                return Err(RequestError::MalformedForm(format!(
                    "missing field `{name}`"
                )));
            }
        }
        Ok(())
    }
}

/// Answers one slash command.
pub async fn slash_command(
    State(state): State<BotState>,
    verified: Verified<SlashCommandForm>,
) -> Result<Response, RequestError> {
    let Verified {
        form,
        signature,
        now,
    } = verified;
    if form.ssl_check.is_some() {
        // Nothing to record, but a replay of it is still refused.
        if !state.store.claim_signature(&signature, now).await? {
            return Err(RequestError::Replayed);
        }
        return Ok(().into_response());
    }
    if let Err(refused) = super::check_response_url(&state, &form.response_url) {
        tracing::warn!(reason = %refused, "slash command refused");
        return Ok(Json(Reply::ephemeral(format!(
            "I did not run this command: {refused}."
        )))
        .into_response());
    }
    let parsed = command::parse(&form.text);
    let record = to_record(&form, &parsed, now);
    if !state.store.accept_command(&signature, &record).await? {
        return Err(RequestError::Replayed);
    }
    // Carried by the request's one log line (see `app::request_span`).
    let span = tracing::Span::current();
    span.record("team", form.team_id.as_str());
    span.record("user", form.user_id.as_str());
    span.record("command", parsed.as_ref().map_or("unparsed", Command::name));
    let reply = match parsed {
        Ok(command) => dispatch::run(&state, &invocation(form), command).await,
        Err(error) => Reply::ephemeral(error.to_string()),
    };
    Ok(Json(reply).into_response())
}

fn invocation(form: SlashCommandForm) -> Invocation {
    Invocation {
        team_id: form.team_id,
        channel_id: form.channel_id,
        user_id: form.user_id,
        response_url: form.response_url,
        text: form.text,
    }
}

fn to_record(
    form: &SlashCommandForm,
    parsed: &Result<Command, command::ParseError>,
    now: i64,
) -> NewCommand {
    let (text, parsed, error) = match parsed {
        Ok(command) => (
            command.redacted_text(&form.text),
            serde_json::to_string(&command.redacted()).ok(),
            None,
        ),
        Err(error) => (form.text.clone(), None, Some(error.to_string())),
    };
    NewCommand {
        team_id: form.team_id.clone(),
        channel_id: form.channel_id.clone(),
        user_id: form.user_id.clone(),
        text,
        parsed,
        error,
        received_at: now,
    }
}
