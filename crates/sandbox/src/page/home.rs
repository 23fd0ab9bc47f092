//! The app's Home tab, as Slack shows it. Opening it makes the fake Slack send the bot
//! a signed `app_home_opened`, as Slack does; the view the bot publishes comes back
//! through the live feed. Its buttons are clicked through `/api/clicks` like any
//! other, with the payload Slack sends for a view: no channel, no `response_url`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Page, PageError, person};
use crate::slash::trigger_id;
use chatops_fakes::SANDBOX_TEAM;

#[derive(Debug, Deserialize)]
pub(super) struct Opener {
    user: String,
}

/// `POST /api/home`: `{"user"}` opens the Home tab. Answers the view published so
/// far (the bot publishes the fresh one shortly) and a `note` when the bot refused
/// the event.
pub(super) async fn open(
    State(page): State<Page>,
    Json(opener): Json<Opener>,
) -> Result<Json<Value>, PageError> {
    let user = person(&opener.user)?.id;
    let status = (page.slack.open_home(SANDBOX_TEAM, user).await).map_err(PageError::Bot)?;
    let note = (!(200..300).contains(&status))
        .then(|| format!("The bot answered {status} to app_home_opened."));
    let view = page.slack.home(SANDBOX_TEAM, user).map(|home| home.view);
    Ok(Json(json!({ "view": view, "note": note })))
}

/// The `block_actions` payload Slack sends for a click in `who`'s Home view
/// `view_id`, carrying `action`.
pub(super) fn block_actions(who: &super::Person, view_id: &str, action: Value) -> Value {
    json!({
        "type": "block_actions",
        "team": {"id": SANDBOX_TEAM, "domain": "sandbox"},
        "user": {"id": who.id, "username": who.name, "name": who.name, "team_id": SANDBOX_TEAM},
        "api_app_id": "A0CHATOPS01",
        "container": {"type": "view", "view_id": view_id},
        "view": {"id": view_id, "type": "home", "team_id": SANDBOX_TEAM},
        "trigger_id": trigger_id(),
        "actions": [action],
    })
}
