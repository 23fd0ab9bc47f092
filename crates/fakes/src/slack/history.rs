//! `conversations.replies` and `conversations.history`, read back from the records:
//! Slack's checks (token, channel, bot membership, thread), its paging (`limit`,
//! `has_more`, and `cursor` / `response_metadata.next_cursor`), and each message's
//! `metadata` only when `include_all_metadata` asks for it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::chat::posted_message;
use super::params::{Answer, Params, Refusal, object};
use super::records::ChannelMessage;
use super::state::State;
use super::world::Workspace;

/// Slack's default `limit` of each method.
const REPLIES_LIMIT: usize = 1000;
const HISTORY_LIMIT: usize = 100;

/// The thread `ts` belongs to: its parent first, then the replies, oldest first.
pub(super) fn replies(state: &mut State, params: &Params) -> Answer {
    let (workspace, channel) = readable(state, params)?;
    let ts = params.str("ts").ok_or(Refusal::Error("thread_not_found"))?;
    let message = state
        .records
        .message(&channel, ts)
        .ok_or(Refusal::Error("thread_not_found"))?;
    let root = message
        .thread_ts
        .clone()
        .unwrap_or_else(|| message.ts.clone());
    let parent = state.records.message(&channel, &root).cloned();
    let thread = parent
        .into_iter()
        .chain(state.records.thread(&channel, &root));
    let messages = thread.filter(|m| after(m, params.str("oldest"))).collect();
    page(state, &workspace, params, messages, REPLIES_LIMIT)
}

/// The channel's top level (and broadcast replies) after `oldest`, newest first.
pub(super) fn history(state: &mut State, params: &Params) -> Answer {
    let (workspace, channel) = readable(state, params)?;
    let mut messages: Vec<_> = state
        .records
        .channel_messages(&channel)
        .into_iter()
        .filter(|m| after(m, params.str("oldest")))
        .collect();
    messages.reverse();
    let mut answer = page(state, &workspace, params, messages, HISTORY_LIMIT)?;
    // Slack sends these with every history page, pins or not.
    answer.extend(object(json!({
        "pin_count": 0,
        "channel_actions_ts": null,
        "channel_actions_count": 0,
    })));
    Ok(answer)
}

/// The bot reads only channels it is in, as it posts only there.
fn readable(state: &State, params: &Params) -> Result<(Workspace, String), Refusal> {
    let workspace = state.world.authenticate(params.token())?.clone();
    let channel = workspace
        .postable_channel(params.str("channel"))?
        .id
        .clone();
    Ok((workspace, channel))
}

/// Slack's `oldest` is exclusive (no `inclusive` is sent).
fn after(message: &ChannelMessage, oldest: Option<&str>) -> bool {
    oldest.is_none_or(|oldest| ts_order(&message.ts) > ts_order(oldest))
}

/// A `ts` as a number that orders like it (`seconds.micros`).
fn ts_order(ts: &str) -> (u64, u64) {
    let (seconds, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    let micros = format!("{micros:0<6}");
    (
        seconds.parse().unwrap_or(0),
        micros.get(..6).and_then(|m| m.parse().ok()).unwrap_or(0),
    )
}

fn page(
    state: &State,
    workspace: &Workspace,
    params: &Params,
    mut messages: Vec<ChannelMessage>,
    default_limit: usize,
) -> Answer {
    let limit = params
        .number("limit")
        .and_then(|limit| usize::try_from(limit).ok())
        .filter(|limit| *limit > 0)
        .unwrap_or(default_limit);
    let start = match params.str("cursor").filter(|cursor| !cursor.is_empty()) {
        Some(cursor) => cursor_ts(cursor)
            .and_then(|ts| messages.iter().position(|message| message.ts == ts))
            .ok_or(Refusal::Error("invalid_cursor"))?,
        None => 0,
    };
    messages.drain(..start);
    let next_cursor = messages.get(limit).map(|next| cursor_for(&next.ts));
    messages.truncate(limit);
    let with_metadata = params.flag("include_all_metadata");
    let shown: Vec<Value> = messages
        .iter()
        .map(|message| {
            let mut shown = posted_message(workspace, &state.world.app.app_id, message);
            let metadata = state
                .records
                .metadata(&message.ts)
                .filter(|_| with_metadata);
            if let Some(metadata) = metadata {
                shown.insert("metadata".into(), metadata.clone());
            }
            Value::Object(shown)
        })
        .collect();
    let mut answer = object(json!({"messages": shown, "has_more": next_cursor.is_some()}));
    if let Some(next_cursor) = next_cursor {
        answer.insert(
            "response_metadata".into(),
            json!({"next_cursor": next_cursor}),
        );
    }
    Ok(answer)
}

/// Slack's cursors are opaque base64; its own spell `next_ts:<ts of the next one>`.
fn cursor_for(ts: &str) -> String {
    STANDARD.encode(format!("next_ts:{ts}"))
}

fn cursor_ts(cursor: &str) -> Option<String> {
    let decoded = String::from_utf8(STANDARD.decode(cursor).ok()?).ok()?;
    decoded.strip_prefix("next_ts:").map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_values_order_by_seconds_then_micros() {
        assert!(ts_order("1700000001.000000") > ts_order("1700000000.999900"));
        assert!(ts_order("1700000000.0002") > ts_order("1700000000.000100"));
        assert_eq!(ts_order("1700000000"), (1_700_000_000, 0));
    }
}
