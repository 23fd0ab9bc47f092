//! `views.publish`: a person's App Home tab, checked as Slack checks it (the token,
//! a `user_id` of the token's workspace, a `view` of type `home` with a `blocks` array
//! within 100 well-formed blocks, Tier 4 pace per workspace), refused with Slack's
//! `invalid_arguments` and its explanation; kept as the person's last view and
//! answered with the view object Slack returns.

use serde_json::{Map, Value, json};

use super::blocks::valid_blocks;
use super::chat::pace;
use super::params::{Answer, Params, Refusal, object};
use super::records::HomeView;
use super::state::State;

/// Slack refuses a Home view with more blocks than this.
const MAX_VIEW_BLOCKS: usize = 100;
/// `private_metadata` and `callback_id`, as Slack bounds them.
const MAX_PRIVATE_METADATA: usize = 3000;
const MAX_CALLBACK_ID: usize = 255;

pub(super) fn publish(state: &mut State, params: &Params) -> Answer {
    let workspace = state.world.authenticate(params.token())?.clone();
    let user = params
        .str("user_id")
        .filter(|user| workspace.users.iter().any(|(id, _)| id == user))
        .ok_or(Refusal::Explained("invalid_arguments", "invalid `user_id`"))?
        .to_owned();
    pace(
        state,
        format!("views.publish:{}", workspace.id),
        state.pacing.views_publish,
    )?;
    let view = home_view(params)?;
    let id = format!("V{}", super::world::random_alphanumeric(10));
    let mut shown = object(json!({
        "id": id,
        "team_id": workspace.id,
        "type": "home",
        "blocks": view["blocks"],
        "private_metadata": view.get("private_metadata").cloned().unwrap_or(json!("")),
        "callback_id": view.get("callback_id").cloned().unwrap_or(json!("")),
        "external_id": view.get("external_id").cloned().unwrap_or(json!("")),
        "state": {"values": {}},
        "hash": format!("{}.{}", state.next_ts().replace('.', ""), super::world::random_alphanumeric(8)),
        "clear_on_close": false,
        "notify_on_close": false,
        "close": null,
        "submit": null,
        "previous_view_id": null,
        "root_view_id": id,
        "app_id": state.world.app.app_id,
        "bot_id": workspace.bot_id,
    }));
    with_block_ids(&mut shown);
    let home = HomeView {
        team: workspace.id.clone(),
        user,
        view: Value::Object(shown.clone()),
    };
    state.records.publish_home(home);
    Ok(object(json!({ "view": shown })))
}

/// The `view` argument (a JSON object, or in forms a string holding one), checked.
fn home_view(params: &Params) -> Result<Map<String, Value>, Refusal> {
    let view = match params.value("view") {
        None | Some(Value::Null) => {
            return Err(Refusal::Explained(
                "invalid_arguments",
                "[ERROR] missing required field: view",
            ));
        }
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|_| {
            Refusal::Explained("invalid_arguments", "[ERROR] view must be a JSON object")
        })?,
        Some(other) => other.clone(),
    };
    let Value::Object(view) = view else {
        return Err(Refusal::Explained(
            "invalid_arguments",
            "[ERROR] view must be a JSON object",
        ));
    };
    if view.get("type").and_then(Value::as_str) != Some("home") {
        return Err(Refusal::Explained(
            "invalid_arguments",
            "[ERROR] must be a valid enum value [json-pointer:/view/type]",
        ));
    }
    let Some(blocks) = view.get("blocks").and_then(Value::as_array) else {
        return Err(Refusal::Explained(
            "invalid_arguments",
            "[ERROR] missing required field: blocks [json-pointer:/view]",
        ));
    };
    if blocks.len() > MAX_VIEW_BLOCKS {
        return Err(Refusal::Explained(
            "invalid_arguments",
            "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]",
        ));
    }
    if !valid_blocks(blocks, MAX_VIEW_BLOCKS) {
        return Err(Refusal::Explained(
            "invalid_arguments",
            "[ERROR] invalid blocks [json-pointer:/view/blocks]",
        ));
    }
    let within = |name: &str, most: usize| {
        view.get(name)
            .is_none_or(|v| v.as_str().is_some_and(|s| s.chars().count() <= most))
    };
    if !within("private_metadata", MAX_PRIVATE_METADATA) || !within("callback_id", MAX_CALLBACK_ID)
    {
        return Err(Refusal::Explained(
            "invalid_arguments",
            "[ERROR] must be a string of at most 3000 characters [json-pointer:/view/private_metadata]",
        ));
    }
    Ok(view)
}

/// Slack gives every block without one a `block_id`, and marks mrkdwn texts
/// `verbatim: false`, in the views it returns.
fn with_block_ids(view: &mut Map<String, Value>) {
    let Some(Value::Array(blocks)) = view.get_mut("blocks") else {
        return;
    };
    for block in blocks.iter_mut().filter_map(Value::as_object_mut) {
        block
            .entry("block_id")
            .or_insert_with(|| json!(super::world::random_alphanumeric(5)));
        if let Some(Value::Object(text)) = block.get_mut("text") {
            if text.get("type") == Some(&json!("mrkdwn")) {
                text.entry("verbatim").or_insert(json!(false));
            }
        }
    }
}
