//! `GET /api/events?user=U…`: the channel as one person sees it, live. The stream
//! opens with a `snapshot` (channel messages, threads, that person's ephemerals, the
//! bot's immediate answers to them, and their app Home view), then sends each fake Slack event as it
//! happens. The snapshot is taken after subscribing, so nothing falls between the
//! two; an event may repeat what the snapshot showed, and the page applies both
//! idempotently, by `ts`.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::typing::{self, Said};
use super::{CHANNEL, Page, PageError, person};
use chatops_fakes::SANDBOX_TEAM;
use chatops_fakes::slack::{ChannelMessage, Ephemeral, SlackEvent};
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(super) struct Viewer {
    user: String,
}

/// The channel as `user` sees it now.
#[derive(Debug, Serialize)]
struct Snapshot {
    messages: Vec<ChannelMessage>,
    /// Each parent's replies, by the parent's `ts`.
    threads: BTreeMap<String, Vec<ChannelMessage>>,
    ephemerals: Vec<Ephemeral>,
    said: Vec<Said>,
    /// Their app Home view, once the bot published one.
    home: Option<Value>,
}

pub(super) async fn events(
    State(page): State<Page>,
    Query(viewer): Query<Viewer>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let user = person(&viewer.user)?.id;
    let live = page.slack.subscribe();
    let first = event("snapshot", &snapshot(&page, user));
    let later = stream::unfold(live, move |mut live| async move {
        loop {
            let next = match live.recv().await {
                Ok(change) if seen_by(&change, user) => event("slack", &change),
                Ok(_) => continue,
                // Fell too far behind: the page starts over from a new snapshot.
                Err(RecvError::Lagged(_)) => Event::default().event("resync").data("lagged"),
                Err(RecvError::Closed) => return None,
            };
            return Some((next, live));
        }
    });
    let all = stream::once(async { first }).chain(later);
    Ok(Sse::new(all.map(Ok)).keep_alive(KeepAlive::default()))
}

/// Whether `user` looking at #deploys (or at their Home tab) sees `change`.
/// `response_url` answers are left out: the fake Slack also records each as the message or ephemeral it became.
fn seen_by(change: &SlackEvent, user: &str) -> bool {
    match change {
        SlackEvent::Posted(message) | SlackEvent::Updated(message) => message.channel == CHANNEL,
        SlackEvent::Ephemeral(ephemeral) => ephemeral.channel == CHANNEL && ephemeral.user == user,
        SlackEvent::HomePublished(home) => home.team == SANDBOX_TEAM && home.user == user,
        SlackEvent::Responded(_) | SlackEvent::Installed { .. } => false,
    }
}

fn snapshot(page: &Page, user: &str) -> Snapshot {
    let messages = page.slack.channel_messages(CHANNEL);
    let threads = messages
        .iter()
        .filter(|message| message.thread_ts.is_none())
        .map(|parent| (parent.ts.clone(), page.slack.thread(CHANNEL, &parent.ts)))
        .filter(|(_, replies)| !replies.is_empty())
        .collect();
    Snapshot {
        messages,
        threads,
        ephemerals: page.slack.ephemerals(CHANNEL, user),
        said: typing::said_to(page, user),
        home: page.slack.home(SANDBOX_TEAM, user).map(|home| home.view),
    }
}

/// Everything the page renders is JSON; a value that cannot be (none today) is sent
/// as an `error` event rather than dropped silently.
fn event(name: &str, value: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(value)
        .unwrap_or_else(|error| Event::default().event("error").data(error.to_string()))
}
