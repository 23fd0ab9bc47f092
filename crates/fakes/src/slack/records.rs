//! Everything the fake Slack was asked to show, in order: channel messages (with
//! their threads and edit history), ephemerals, `response_url` posts, each person's
//! Home tab, and a log of
//! every Web API call with its outcome. Each change is also broadcast as a
//! [`SlackEvent`] for whoever watches live (the sandbox page).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

/// Who a slash command's answer was shown to, as its `response_type` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Ephemeral,
    InChannel,
}

/// A message in a channel, as it reads now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelMessage {
    pub channel: String,
    pub ts: String,
    /// The parent's `ts` for a thread reply.
    pub thread_ts: Option<String>,
    /// A reply also shown in the channel.
    pub reply_broadcast: bool,
    /// The bot user that posted it.
    pub user: String,
    pub text: String,
    pub blocks: Vec<Value>,
}

/// What one `chat.update` set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    pub text: String,
    pub blocks: Vec<Value>,
}

/// A message only `user` saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub message_ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Vec<Value>,
}

/// A post to a `response_url`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponsePost {
    pub team: String,
    pub channel: String,
    /// Who ran the command the URL belongs to.
    pub user: String,
    pub response_type: ResponseType,
    pub replace_original: bool,
    pub text: String,
    pub blocks: Vec<Value>,
}

/// The Home tab a `views.publish` set for `user` of `team`: the view as Slack stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HomeView {
    pub team: String,
    pub user: String,
    /// The view object, as `views.publish` answered it (`id`, `hash`, `blocks`, ...).
    pub view: Value,
}

/// One Web API call that reached the fake, and how it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCall {
    pub method: String,
    pub status: u16,
    /// Slack's error code (`ratelimited` for a 429); `None` when `ok: true`.
    pub error: Option<String>,
}

/// A change, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SlackEvent {
    Posted(ChannelMessage),
    /// The message after the update.
    Updated(ChannelMessage),
    Ephemeral(Ephemeral),
    Responded(ResponsePost),
    /// The app was installed (or reinstalled) in `team`.
    Installed {
        team: String,
    },
    /// A Home tab was published.
    HomePublished(HomeView),
}

#[derive(Debug)]
pub(super) struct Records {
    messages: Vec<(ChannelMessage, Vec<Edit>)>,
    /// The `metadata` a message was posted with, by its `ts` (unique in the fake).
    metadata: HashMap<String, Value>,
    ephemerals: Vec<Ephemeral>,
    responses: Vec<ResponsePost>,
    /// The last Home view per `(team, user)`.
    homes: HashMap<(String, String), HomeView>,
    calls: Vec<ApiCall>,
    events: broadcast::Sender<SlackEvent>,
}

impl Records {
    pub fn new(events: broadcast::Sender<SlackEvent>) -> Records {
        Records {
            messages: Vec::new(),
            metadata: HashMap::new(),
            ephemerals: Vec::new(),
            responses: Vec::new(),
            homes: HashMap::new(),
            calls: Vec::new(),
            events,
        }
    }

    pub fn post(&mut self, message: ChannelMessage) {
        self.messages.push((message.clone(), Vec::new()));
        self.emit(SlackEvent::Posted(message));
    }

    /// Keeps the `metadata` the message at `ts` was posted with.
    pub fn tag(&mut self, ts: &str, metadata: Value) {
        self.metadata.insert(ts.to_owned(), metadata);
    }

    /// The `metadata` the message at `ts` was posted with.
    pub fn metadata(&self, ts: &str) -> Option<&Value> {
        self.metadata.get(ts)
    }

    /// Replaces a message's content, keeping the edit; `None` if there is no such message.
    pub fn update(&mut self, channel: &str, ts: &str, edit: Edit) -> Option<ChannelMessage> {
        let (message, edits) = self
            .messages
            .iter_mut()
            .find(|(m, _)| m.channel == channel && m.ts == ts)?;
        message.text.clone_from(&edit.text);
        message.blocks.clone_from(&edit.blocks);
        edits.push(edit);
        let updated = message.clone();
        self.emit(SlackEvent::Updated(updated.clone()));
        Some(updated)
    }

    pub fn ephemeral(&mut self, ephemeral: Ephemeral) {
        self.ephemerals.push(ephemeral.clone());
        self.emit(SlackEvent::Ephemeral(ephemeral));
    }

    pub fn respond(&mut self, response: ResponsePost) {
        self.responses.push(response.clone());
        self.emit(SlackEvent::Responded(response));
    }

    /// Keeps `home` as its person's Home tab, replacing the one before.
    pub fn publish_home(&mut self, home: HomeView) {
        let key = (home.team.clone(), home.user.clone());
        self.homes.insert(key, home.clone());
        self.emit(SlackEvent::HomePublished(home));
    }

    /// `user`'s Home tab in `team`, if one was published.
    pub fn home(&self, team: &str, user: &str) -> Option<HomeView> {
        self.homes.get(&(team.to_owned(), user.to_owned())).cloned()
    }

    pub fn installed(&mut self, team: &str) {
        self.emit(SlackEvent::Installed { team: team.into() });
    }

    pub fn log(&mut self, method: &str, status: u16, error: Option<&str>) {
        self.calls.push(ApiCall {
            method: method.into(),
            status,
            error: error.map(str::to_owned),
        });
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<&ChannelMessage> {
        self.messages
            .iter()
            .map(|(m, _)| m)
            .find(|m| m.channel == channel && m.ts == ts)
    }

    /// Top-level messages and broadcast replies, oldest first.
    pub fn channel_messages(&self, channel: &str) -> Vec<ChannelMessage> {
        self.in_channel(channel)
            .filter(|m| m.thread_ts.is_none() || m.reply_broadcast)
            .cloned()
            .collect()
    }

    /// The replies under `ts`, oldest first.
    pub fn thread(&self, channel: &str, ts: &str) -> Vec<ChannelMessage> {
        self.in_channel(channel)
            .filter(|m| m.thread_ts.as_deref() == Some(ts))
            .cloned()
            .collect()
    }

    pub fn updates_of(&self, channel: &str, ts: &str) -> Vec<Edit> {
        let found = self
            .messages
            .iter()
            .find(|(m, _)| m.channel == channel && m.ts == ts);
        found.map(|(_, edits)| edits.clone()).unwrap_or_default()
    }

    pub fn ephemerals(&self, channel: &str, user: &str) -> Vec<Ephemeral> {
        self.ephemerals
            .iter()
            .filter(|e| e.channel == channel && e.user == user)
            .cloned()
            .collect()
    }

    pub fn responses(&self) -> Vec<ResponsePost> {
        self.responses.clone()
    }

    pub fn calls(&self) -> Vec<ApiCall> {
        self.calls.clone()
    }

    fn in_channel<'a>(&'a self, channel: &'a str) -> impl Iterator<Item = &'a ChannelMessage> + 'a {
        self.messages
            .iter()
            .map(|(m, _)| m)
            .filter(move |m| m.channel == channel)
    }

    /// Nobody watching is fine: the send fails and the record stays.
    fn emit(&self, event: SlackEvent) {
        let _ = self.events.send(event);
    }
}
