//! Delivers the outbox: every queued Slack post, in order per thread, retried on 429
//! (after `Retry-After`) and transient failures, paced per channel, never dropped
//! while Slack may still take it, and marked sent only once Slack has it. A post
//! whose answer was lost is looked up by its outbox id before it is posted again, so
//! it never shows twice.

use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::watch;

use crate::bot::BotState;
use crate::chat::ResponseType;
use crate::outbox::Post;
use crate::slack::api::SlackError;
use crate::store::{MessageKind, QueuedMessage};

/// How far Slack's clock may be behind ours when looking for a post in its history.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Messages sent at once by one process.
const SLOTS: usize = 32;
/// Tries of a `response_url` post before it is given up.
const MAX_RESPONSE_ATTEMPTS: i64 = 6;
/// Sends queued messages until `stop` says so. A message sent may ready the next
/// of its thread, which the next claim finds (once a quarter of the slots are free).
pub async fn run(state: BotState, stop: watch::Receiver<bool>) {
    let wake = (state.store.messages_queued(), Duration::from_millis(250));
    let state = &state;
    let claim = |now, until, free| async move {
        (state.store.claim_messages(now, until, free).await).unwrap_or_else(|error| {
            tracing::error!(
                error = format!("{error:#}"),
                "claiming outbox messages failed"
            );
            Vec::new()
        })
    };
    let work = |queued: QueuedMessage| {
        let state = state.clone();
        async move {
            if let Err(error) = deliver(&state, &queued).await {
                tracing::error!(
                    message = queued.id,
                    error = format!("{error:#}"),
                    "outbox message failed"
                );
            }
        }
    };
    state.lease().work_due(wake, stop, SLOTS, claim, work).await;
}

/// Messages are leased for `deploy_lease`, like deploys.
async fn deliver(state: &BotState, queued: &QueuedMessage) -> anyhow::Result<()> {
    let now = state.clock.now_millis();
    let message = &queued.message;
    if message.kind == MessageKind::UpdateParent && state.store.has_newer_update(queued).await? {
        return state
            .store
            .message_abandoned(queued, "superseded", "a newer update is queued")
            .await;
    }
    if let Some(at) = state.pacer.book(message, now).await? {
        return state.store.message_deferred(queued.id, at, "paced").await;
    }
    let post: Post = serde_json::from_str(&message.body)?;
    // The lease is renewed while Slack is being called (it may retry for a while), so
    // it can be short: a message a crashed process was sending goes out soon after.
    let id = queued.id;
    let renew = |until| state.store.renew_message_lease(id, until);
    let lost = || anyhow::anyhow!("message {id} is no longer pending");
    let sent = match state
        .lease()
        .hold(send(state, queued, &post), renew, lost)
        .await
    {
        Ok(sent) => sent,
        Err(lost) => {
            tracing::warn!(
                message = id,
                error = format!("{lost:#}"),
                "lost the message's lease"
            );
            return Ok(());
        }
    };
    match sent {
        Ok(ts) => state.store.message_sent(queued, ts.as_deref()).await,
        Err(Failure::NotYet(reason)) => {
            let at = now + state.config.poll_interval.as_millis() as i64;
            state.store.message_deferred(queued.id, at, &reason).await
        }
        Err(Failure::Slack(error)) => settle(state, queued, &error, now).await,
        Err(Failure::Invalid(reason)) => {
            state
                .store
                .message_abandoned(queued, "failed", &reason)
                .await
        }
    }
}

enum Failure {
    /// The message cannot go yet (its thread's parent is not posted).
    NotYet(String),
    /// The stored message cannot be sent at all.
    Invalid(String),
    Slack(SlackError),
}

/// Sends one message; returns the `ts` Slack gave it (parents and replies).
async fn send(
    state: &BotState,
    queued: &QueuedMessage,
    post: &Post,
) -> Result<Option<String>, Failure> {
    let message = &queued.message;
    let url = match (message.kind, post.response_url.as_deref()) {
        (MessageKind::Response, Some(stored)) => Some(
            super::open_response_url(&state.vault, &message.team_id, stored).map_err(|error| {
                Failure::Invalid(format!("the response_url does not open: {error}"))
            })?,
        ),
        _ => None,
    };
    if let Some(url) = url.filter(|url| !url.is_empty()) {
        state
            .slack
            .respond(&url, &post.message, ResponseType::Ephemeral)
            .await
            .map_err(Failure::Slack)?;
        return Ok(None);
    }
    let Some(token) = crate::workspaces::bot_token(state, &message.team_id).await else {
        return Err(Failure::NotYet(format!(
            "no bot token for team {}",
            message.team_id
        )));
    };
    if message.kind == MessageKind::Response {
        // Asked from the App Home tab, which has no response_url.
        let user = (post.ephemeral_to.as_deref())
            .ok_or_else(|| Failure::Invalid("a response without a response_url".into()))?;
        (state.slack)
            .post_ephemeral(&token, &message.channel_id, user, &post.message)
            .await
            .map_err(Failure::Slack)?;
        return Ok(None);
    }
    let parent = || async {
        match state.store.thread_parent(&message.thread_key).await {
            Ok(Some((_, ts))) => Ok(ts),
            Ok(None) => Err(Failure::NotYet(
                "the thread's parent is not posted yet".into(),
            )),
            Err(error) => Err(Failure::NotYet(format!("{error:#}"))),
        }
    };
    match message.kind {
        MessageKind::Parent => post_once(state, &token, queued, post, None).await,
        MessageKind::Reply => {
            let ts = parent().await?;
            post_once(state, &token, queued, post, Some(&ts)).await
        }
        MessageKind::UpdateParent => {
            let ts = parent().await?;
            let updated = state
                .slack
                .update(&token, &message.channel_id, &ts, &post.message)
                .await;
            updated
                .map(|posted| Some(posted.ts))
                .map_err(Failure::Slack)
        }
        MessageKind::Response => Err(Failure::Invalid("responses are sent above".into())),
    }
}

/// Posts a parent (no `thread_ts`) or a reply, tagged with its outbox id, unless an
/// earlier attempt already did: Slack may have taken it and lost the answer.
async fn post_once(
    state: &BotState,
    token: &SecretString,
    queued: &QueuedMessage,
    post: &Post,
    thread_ts: Option<&str>,
) -> Result<Option<String>, Failure> {
    if queued.claims > 1 {
        // A failed look is retried later like a failed post: posting blind could
        // duplicate.
        let found = already_posted(state, token, queued, thread_ts).await;
        if let Some(ts) = found.map_err(Failure::Slack)? {
            tracing::info!(message = queued.id, %ts, "already in Slack; not posting again");
            return Ok(Some(ts));
        }
    }
    let broadcast = thread_ts.is_some() && post.broadcast;
    let channel = &queued.message.channel_id;
    let posted = state
        .slack
        .post_message(
            token,
            channel,
            &post.message,
            thread_ts,
            broadcast,
            Some(queued.id),
        )
        .await;
    posted.map(|posted| Some(posted.ts)).map_err(Failure::Slack)
}

/// The `ts` of the post tagged with `queued`'s id: among the thread's replies, or
/// the channel's messages since it was queued.
async fn already_posted(
    state: &BotState,
    token: &SecretString,
    queued: &QueuedMessage,
    thread_ts: Option<&str>,
) -> Result<Option<String>, SlackError> {
    let channel = &queued.message.channel_id;
    let found = match thread_ts {
        Some(parent) => {
            state
                .slack
                .conversations_replies(token, channel, parent)
                .await?
        }
        None => {
            let since = (queued.created_at - CLOCK_SKEW.as_millis() as i64).max(0) / 1000;
            let oldest = format!("{since}.000000");
            state
                .slack
                .conversations_history(token, channel, &oldest)
                .await?
        }
    };
    let ours = found.into_iter().find(|m| m.outbox_id == Some(queued.id));
    Ok(ours.map(|message| message.ts))
}

/// After Slack refused: wait and retry what may pass, give up on what never will.
async fn settle(
    state: &BotState,
    queued: &QueuedMessage,
    error: &SlackError,
    now: i64,
) -> anyhow::Result<()> {
    if let Some(wait) = error.is_rate_limited() {
        let until = now + wait.as_millis() as i64;
        state.pacer.slowed(&queued.message, now, until).await?;
        return state
            .store
            .message_retry(queued.id, until, &error.to_string())
            .await;
    }
    // A response_url lives 30 minutes and takes 5 posts; one that keeps failing is
    // dead, and the person already got the command's immediate answer.
    let dead_response_url = queued.message.kind == MessageKind::Response
        && queued.attempts + 1 >= MAX_RESPONSE_ATTEMPTS;
    if error.is_transient() && !dead_response_url {
        let attempt = u32::try_from(queued.attempts + 1).unwrap_or(u32::MAX);
        let wait = state.patience.retry.backoff(attempt.min(8));
        return state
            .store
            .message_retry(queued.id, now + wait.as_millis() as i64, &error.to_string())
            .await;
    }
    tracing::error!(message = queued.id, channel = %queued.message.channel_id, %error, "Slack refused a message for good");
    state
        .store
        .message_abandoned(queued, "failed", &error.to_string())
        .await
}
