//! `POST /slack/interactions`: button presses (`block_actions`), signed like slash
//! commands. The payload is a JSON document in the form field `payload`; it is
//! decoded before the signature is claimed, so a malformed one writes nothing. Each
//! press is handed to the module owning its button, which answers the presser through
//! the outbox; Slack itself only needs a quick 200.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::signed::{SignedForm, SlackForm};
use crate::bot::BotState;
use crate::chat::Press;
use crate::edge::RequestError;

/// The form Slack posts: one field, `payload`.
#[derive(Debug, Deserialize)]
pub struct InteractionForm {
    #[serde(default)]
    pub payload: String,
}

/// The parts of a `block_actions` payload the bot uses. Public (its fields are not)
/// so the `interaction_payload` fuzz target can decode it as the handler does.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct Payload {
    #[serde(rename = "type")]
    kind: String,
    user: Id,
    team: Id,
    #[serde(default)]
    response_url: String,
    #[serde(default)]
    actions: Vec<Action>,
}

#[derive(Debug, PartialEq, Eq, Deserialize)]
struct Id {
    id: String,
}

#[derive(Debug, PartialEq, Eq, Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: String,
}

impl InteractionForm {
    /// The JSON in `payload`, or why it is not Slack's interaction JSON (a 400). Both
    /// `validate` and the handler decode with this.
    pub fn decoded(&self) -> Result<Payload, RequestError> {
        serde_json::from_str(&self.payload).map_err(|error| {
            RequestError::MalformedForm(format!(
                "`payload` must be Slack's interaction JSON, with type, user.id and team.id: {error}"
            ))
        })
    }
}

impl SlackForm for InteractionForm {
    fn validate(&self) -> Result<(), RequestError> {
        self.decoded().map(drop)
    }
}

/// Answers one interaction: 200 at once, the presser's answer through the outbox.
pub async fn interaction(
    State(state): State<BotState>,
    SignedForm(form): SignedForm<InteractionForm>,
) -> Result<StatusCode, RequestError> {
    let payload = form.decoded()?;
    if payload.kind != "block_actions" {
        return Ok(StatusCode::OK);
    }
    let span = tracing::Span::current();
    span.record("team", payload.team.id.as_str());
    span.record("user", payload.user.id.as_str());
    super::check_response_url(&state, &payload.response_url)?;
    for action in payload.actions {
        let press = Press {
            team_id: payload.team.id.clone(),
            user_id: payload.user.id.clone(),
            action_id: action.action_id,
            value: action.value,
            response_url: payload.response_url.clone(),
        };
        crate::dispatch::press(&state, &press).await?;
    }
    Ok(StatusCode::OK)
}
