//! `chat.postMessage` (keeping its `metadata`), `chat.update` and `chat.postEphemeral`, with Slack's checks in
//! Slack's order (token, channel, pace, content, thread) and its answers' shapes.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::blocks::content;
use super::pacing::Bucket;
use super::params::{Answer, Params, Refusal, object};
use super::records::{ChannelMessage, Edit, Ephemeral};
use super::state::State;
use super::world::Workspace;

pub(super) fn post_message(state: &mut State, params: &Params) -> Answer {
    let workspace = state.world.authenticate(params.token())?.clone();
    let channel = workspace
        .postable_channel(params.str("channel"))?
        .id
        .clone();
    pace(
        state,
        format!("chat.postMessage:{channel}"),
        state.pacing.post_message,
    )?;
    let content = content(params)?;
    let metadata = metadata(params)?;
    let thread_ts = params
        .str("thread_ts")
        .map(|ts| thread_root(state, &channel, ts))
        .transpose()?;
    let message = ChannelMessage {
        reply_broadcast: thread_ts.is_some() && params.flag("reply_broadcast"),
        thread_ts,
        ts: state.next_ts(),
        channel,
        user: workspace.bot_user_id.clone(),
        text: content.text,
        blocks: content.blocks.unwrap_or_default(),
    };
    let shown = posted_message(&workspace, &state.world.app.app_id, &message);
    if let Some(metadata) = metadata {
        state.records.tag(&message.ts, metadata);
    }
    state.records.post(message.clone());
    Ok(object(
        json!({"channel": message.channel, "ts": message.ts, "message": shown}),
    ))
}

/// Text without blocks removes the blocks (as Slack does); blocks without text keep
/// the old text as the notification fallback.
pub(super) fn update(state: &mut State, params: &Params) -> Answer {
    let workspace = state.world.authenticate(params.token())?.clone();
    let channel = workspace
        .postable_channel(params.str("channel"))?
        .id
        .clone();
    pace(
        state,
        format!("chat.update:{}", workspace.id),
        state.pacing.update,
    )?;
    let ts = params
        .str("ts")
        .ok_or(Refusal::Error("message_not_found"))?;
    let current = state
        .records
        .message(&channel, ts)
        .ok_or(Refusal::Error("message_not_found"))?;
    if current.user != workspace.bot_user_id {
        return Err(Refusal::Error("cant_update_message"));
    }
    let old_text = current.text.clone();
    let content = content(params)?;
    let text_only = content.blocks.is_none();
    let text = if content.text.is_empty() {
        old_text
    } else {
        content.text
    };
    let edit = Edit {
        text,
        blocks: content.blocks.unwrap_or_default(),
    };
    let updated = state
        .records
        .update(&channel, ts, edit)
        .ok_or(Refusal::Error("message_not_found"))?;
    let mut shown = bot_message(&workspace, &state.world.app.app_id, &updated);
    // Slack marks text edits as edited, but not block edits.
    if text_only {
        shown.insert(
            "edited".into(),
            json!({"user": workspace.bot_user_id, "ts": state.next_ts()}),
        );
    }
    Ok(object(
        json!({"channel": channel, "ts": updated.ts, "text": updated.text, "message": shown}),
    ))
}

pub(super) fn post_ephemeral(state: &mut State, params: &Params) -> Answer {
    let workspace = state.world.authenticate(params.token())?.clone();
    let channel = workspace.postable_channel(params.str("channel"))?;
    let user = params
        .str("user")
        .filter(|user| channel.members.iter().any(|member| member == user));
    let user = user
        .ok_or(Refusal::Error("user_not_in_channel"))?
        .to_owned();
    let content = content(params)?;
    let ephemeral = Ephemeral {
        channel: channel.id.clone(),
        user,
        message_ts: state.next_ts(),
        thread_ts: params.str("thread_ts").map(str::to_owned),
        text: content.text,
        blocks: content.blocks.unwrap_or_default(),
    };
    let message_ts = ephemeral.message_ts.clone();
    state.records.ephemeral(ephemeral);
    Ok(object(json!({"message_ts": message_ts})))
}

/// `metadata`: an object with an `event_type` (and maybe an `event_payload` object),
/// or (in forms) a string holding one.
fn metadata(params: &Params) -> Result<Option<Value>, Refusal> {
    let invalid = Refusal::Error("invalid_metadata_format");
    let metadata = match params.value("metadata") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|_| invalid)?,
        Some(other) => other.clone(),
    };
    let typed = metadata.get("event_type").is_some_and(Value::is_string);
    let payload = metadata.get("event_payload");
    if !typed || payload.is_some_and(|payload| !payload.is_object()) {
        return Err(invalid);
    }
    Ok(Some(metadata))
}

/// Takes a token from a bucket, or answers 429.
pub(super) fn pace(state: &mut State, key: String, bucket: Option<Bucket>) -> Result<(), Refusal> {
    state
        .buckets
        .take(key, bucket, Instant::now())
        .map_err(|retry_after_secs| Refusal::RateLimited { retry_after_secs })
}

/// Replies go under the thread's parent, even when `thread_ts` names another reply.
fn thread_root(state: &State, channel: &str, ts: &str) -> Result<String, Refusal> {
    let parent = state
        .records
        .message(channel, ts)
        .ok_or(Refusal::Error("thread_not_found"))?;
    Ok(parent
        .thread_ts
        .clone()
        .unwrap_or_else(|| parent.ts.clone()))
}

/// The `message` object of a `chat.postMessage` answer.
pub(super) fn posted_message(
    workspace: &Workspace,
    app_id: &str,
    message: &ChannelMessage,
) -> Map<String, Value> {
    let mut shown = bot_message(workspace, app_id, message);
    shown.insert("ts".into(), json!(message.ts));
    if let Some(thread_ts) = &message.thread_ts {
        shown.insert("thread_ts".into(), json!(thread_ts));
        shown.insert("parent_user_id".into(), json!(workspace.bot_user_id));
        if message.reply_broadcast {
            shown.insert("subtype".into(), json!("thread_broadcast"));
        }
    }
    shown
}

/// A message as Slack describes one the bot wrote.
fn bot_message(
    workspace: &Workspace,
    app_id: &str,
    message: &ChannelMessage,
) -> Map<String, Value> {
    let mut shown = object(json!({
        "type": "message",
        "user": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "app_id": app_id,
        "team": workspace.id,
        "text": message.text,
        "bot_profile": {
            "id": workspace.bot_id,
            "app_id": app_id,
            "name": "chatops",
            "deleted": false,
            "updated": 1_700_000_000,
            "team_id": workspace.id,
            "icons": {
                "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
                "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
                "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png"
            }
        }
    }));
    if !message.blocks.is_empty() {
        shown.insert("blocks".into(), Value::Array(message.blocks.clone()));
    }
    shown
}
