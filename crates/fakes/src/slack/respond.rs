//! `response_url`s: minted per command, good for five posts within thirty minutes.
//! An `in_channel` answer becomes a channel message; an `ephemeral` one (the
//! default) is seen only by the person who ran the command.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::FakeSlack;
use super::blocks::content;
use super::params::{Params, Refusal, refusal_body};
use super::records::ResponseType;
use super::records::{ChannelMessage, Ephemeral, ResponsePost};
use super::state::{RESPONSE_URL_TTL, RESPONSE_URL_USES, ResponseUrl, State};
use super::world::random_alphanumeric;

/// Mints a `response_url` id for a command `user` ran in `channel` of `team`.
pub(super) fn mint(state: &mut State, team: &str, channel: &str, user: &str) -> String {
    let id = random_alphanumeric(24);
    let url = ResponseUrl {
        team: team.into(),
        channel: channel.into(),
        user: user.into(),
        uses: 0,
        minted: Instant::now(),
    };
    state.response_urls.insert(id.clone(), url);
    id
}

/// `POST /response/{id}`.
pub(super) async fn post(
    AxumState(fake): AxumState<FakeSlack>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = fake.lock();
    match respond(&mut state, &id, &headers, &body) {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err((status, code)) => (status, refusal_body(code)).into_response(),
    }
}

fn respond(
    state: &mut State,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), (StatusCode, &'static str)> {
    let url = state
        .response_urls
        .get(id)
        .ok_or((StatusCode::NOT_FOUND, "no_service"))?;
    if url.minted.elapsed() > RESPONSE_URL_TTL {
        return Err((StatusCode::NOT_FOUND, "expired_url"));
    }
    if url.uses >= RESPONSE_URL_USES {
        return Err((StatusCode::NOT_FOUND, "used_url"));
    }
    let params = Params::parse(headers, None, body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "invalid_payload"))?;
    let content = content(&params).map_err(|refusal| match refusal {
        Refusal::Error(code) | Refusal::Explained(code, _) => (StatusCode::BAD_REQUEST, code),
        Refusal::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
    })?;
    let url = state.response_urls.get_mut(id).expect("looked up above");
    url.uses += 1;
    let url = url.clone();
    let response = ResponsePost {
        team: url.team,
        channel: url.channel,
        user: url.user,
        response_type: match params.str("response_type") {
            Some("in_channel") => ResponseType::InChannel,
            _ => ResponseType::Ephemeral,
        },
        replace_original: params.flag("replace_original"),
        text: content.text,
        blocks: content.blocks.unwrap_or_default(),
    };
    show(state, &response);
    state.records.respond(response);
    Ok(())
}

/// What the answer looks like in the channel.
fn show(state: &mut State, response: &ResponsePost) {
    match response.response_type {
        ResponseType::InChannel => {
            let bot = state
                .world
                .workspace(&response.team)
                .map(|w| w.bot_user_id.clone())
                .unwrap_or_default();
            let message = ChannelMessage {
                channel: response.channel.clone(),
                ts: state.next_ts(),
                thread_ts: None,
                reply_broadcast: false,
                user: bot,
                text: response.text.clone(),
                blocks: response.blocks.clone(),
            };
            state.records.post(message);
        }
        ResponseType::Ephemeral => {
            let ephemeral = Ephemeral {
                channel: response.channel.clone(),
                user: response.user.clone(),
                message_ts: state.next_ts(),
                thread_ts: None,
                text: response.text.clone(),
                blocks: response.blocks.clone(),
            };
            state.records.ephemeral(ephemeral);
        }
    }
}
