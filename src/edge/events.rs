//! `POST /slack/events`: the Events API, signed like slash commands but with a JSON
//! body. Answers Slack's URL verification challenge (sent when the Request URL is
//! set) and hands `app_home_opened` to the Home dashboard. Slack wants a 200 within
//! 3 s and retries otherwise, so the handler only records the opening; the view is
//! published by the Home loop. Every other event is acknowledged and ignored.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::signed::{Encoding, SlackForm, Verified};
use crate::bot::BotState;
use crate::edge::RequestError;

/// The events the bot acts on: what the Slack app manifest subscribes to.
pub const HANDLED_EVENTS: &[&str] = &[APP_HOME_OPENED];

const APP_HOME_OPENED: &str = "app_home_opened";

/// The envelope of every Events API request; unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub struct EventBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    team_id: String,
    event: Option<Event>,
}

/// The inner event of an `event_callback`.
#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user: String,
    /// `home` or `messages`: which tab of the app was opened.
    #[serde(default)]
    tab: String,
}

impl SlackForm for EventBody {
    const ENCODING: Encoding = Encoding::Json;

    fn validate(&self) -> Result<(), RequestError> {
        let missing = match self.kind.as_str() {
            "url_verification" if self.challenge.is_empty() => {
                "a url_verification needs `challenge`"
            }
            "event_callback" if self.team_id.is_empty() || self.event.is_none() => {
                "an event_callback needs `team_id` and `event`"
            }
            _ => return Ok(()),
        };
        Err(RequestError::MalformedJson(missing.into()))
    }
}

/// Answers one Events API request.
pub async fn event(
    State(state): State<BotState>,
    verified: Verified<EventBody>,
) -> Result<Response, RequestError> {
    let Verified {
        form: body,
        signature,
        now,
    } = verified;
    if let Some(user) = home_opened_by(&body) {
        let span = tracing::Span::current();
        span.record("team", body.team_id.as_str());
        span.record("user", user);
        if !crate::home::opened(&state, &signature, now, &body.team_id, user).await? {
            return Err(RequestError::Replayed);
        }
        return Ok(().into_response());
    }
    if !state.store.claim_signature(&signature, now).await? {
        return Err(RequestError::Replayed);
    }
    if body.kind == "url_verification" {
        return Ok(Json(serde_json::json!({ "challenge": body.challenge })).into_response());
    }
    Ok(().into_response())
}

/// Who opened the app's Home tab, when that is what the event says.
fn home_opened_by(body: &EventBody) -> Option<&str> {
    let event = body.event.as_ref()?;
    let home = body.kind == "event_callback"
        && event.kind == APP_HOME_OPENED
        && event.tab == "home"
        && !event.user.is_empty();
    home.then_some(event.user.as_str())
}
