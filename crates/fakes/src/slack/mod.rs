//! The fake Slack: the Web API methods the bot calls (`chat.postMessage` with threads
//! and metadata, `chat.update`, `chat.postEphemeral`, `conversations.replies`,
//! `conversations.history`, `oauth.v2.access`, `views.publish`), `response_url`s, the
//! OAuth v2 install page, and Sign in with Slack (`openid/connect/authorize`,
//! `openid.connect.token`, `openid.connect.userInfo`, the JWKS), and the Events API
//! it sends the app (`app_home_opened`, signed), over a seeded in-memory world of two
//! workspaces.
//!
//! It answers as Slack does: HTTP 200 with `ok: false` and Slack's error code for
//! refusals (`invalid_auth`, `channel_not_found`, `not_in_channel`, `no_text`,
//! `invalid_blocks`, ...), HTTP 429 with `Retry-After` when a channel or workspace
//! goes over its pace. It records everything it was asked to show, in order, for
//! tests to inspect and for the sandbox page to watch live ([`FakeSlack::subscribe`]).

mod blocks;
mod chat;
mod events;
mod history;
mod oauth;
mod openid;
mod pacing;
mod params;
mod records;
mod respond;
mod routes;
mod signing;
mod state;
mod views;
mod world;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use tokio::sync::broadcast;

pub use pacing::{Bucket, Pacing};
pub use records::{
    ApiCall, ChannelMessage, Edit, Ephemeral, HomeView, ResponsePost, ResponseType, SlackEvent,
};
pub use world::AppCredentials;

use super::Faults;
use state::State;

/// Something wrong with the next ID token `openid.connect.token` hands out, as a
/// compromised or confused token endpoint (or someone in the middle) would send: the
/// bot must refuse each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Signed with a key the JWKS does not hold.
    OtherKey,
    /// A `nonce` other than the one the authorize page was given.
    Nonce,
    /// Issued to another app (`aud`).
    Audience,
    /// Expired an hour ago.
    Expired,
    /// The previous genuine ID token, again.
    Replay,
}

/// How many unread events a slow watcher may fall behind by.
const EVENT_BACKLOG: usize = 1024;

/// The fake Slack and its world; clones share both.
#[derive(Clone)]
pub struct FakeSlack {
    /// Faults injected into this fake's endpoints.
    pub faults: Faults,
    base_url: String,
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<SlackEvent>,
}

impl FakeSlack {
    /// A fake serving at `base_url` (the Web API is under `{base_url}/api`), with the
    /// seeded world: `T0SANDBOX` "Sandbox" (channels `C0DEPLOYS` #deploys and
    /// `C0GENERAL` #general, and `C0INCIDENTS` #incidents which the bot is not in;
    /// users `U0ALICE`, `U0BOB`, `U0CAROL`) and `T0OTHER` (`C0OTHERGEN`, `U0DAVE`),
    /// both with the app installed.
    pub fn new(base_url: &str) -> FakeSlack {
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        // The signing key takes a moment to generate: start now, not at the first
        // sign-in, whose caller would wait for it.
        std::thread::spawn(signing::published);
        FakeSlack {
            faults: Faults::default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            state: Arc::new(Mutex::new(State::new(events.clone()))),
            events,
        }
    }

    /// Its routes.
    pub fn router(&self) -> Router {
        routes::router(self.clone())
    }

    /// The OAuth client the fake knows (the secret is random per fake).
    pub fn app(&self) -> AppCredentials {
        self.lock().world.app.clone()
    }

    /// The live bot token of workspace `team`.
    ///
    /// # Panics
    /// If `team` is not a seeded workspace or its token was revoked: a test mistake.
    pub fn token_for_team(&self, team: &str) -> String {
        self.lock()
            .world
            .bot_token(team)
            .unwrap_or_else(|| panic!("no live bot token for team {team}"))
    }

    /// Adds workspace `team` named `name`, with `people` and `channels` (each as
    /// `(id, name)`; everyone, the bot included, is in every channel), and installs the
    /// app there, as a bot serving many workspaces sees; returns its bot token. Pacing
    /// applies to it as to any workspace.
    pub fn add_workspace(
        &self,
        team: &str,
        name: &str,
        people: &[(&str, &str)],
        channels: &[(&str, &str)],
    ) -> String {
        self.lock()
            .world
            .add_workspace(team, name, people, channels)
    }

    /// Revokes a token, as uninstalling the app does; calls with it then answer
    /// `token_revoked`, and the next install mints a new one. False if unknown.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.lock().world.revoke(token)
    }

    /// Changes the pacing (and forgets how full the buckets were).
    pub fn set_pacing(&self, pacing: Pacing) {
        let mut state = self.lock();
        state.pacing = pacing;
        state.buckets.reset();
    }

    /// How long an OAuth code stays exchangeable (Slack: ten minutes).
    pub fn set_code_ttl(&self, ttl: Duration) {
        self.lock().code_ttl = ttl;
    }

    /// Makes the next ID token wrong in the way `tamper` says.
    pub fn tamper_next_id_token(&self, tamper: Tamper) {
        if tamper == Tamper::OtherKey {
            // Made now rather than while the bot waits for its token.
            signing::unpublished();
        }
        self.lock().tamper = Some(tamper);
    }

    /// A fresh `response_url` for a command `user` ran in `channel` of `team`.
    pub fn response_url(&self, team: &str, channel: &str, user: &str) -> String {
        let id = respond::mint(&mut self.lock(), team, channel, user);
        format!("{}/response/{id}", self.base_url)
    }

    /// The channel's top-level messages (and broadcast replies) as they read now,
    /// oldest first.
    pub fn channel_messages(&self, channel: &str) -> Vec<ChannelMessage> {
        self.lock().records.channel_messages(channel)
    }

    /// The replies in the thread under `ts`, oldest first.
    pub fn thread(&self, channel: &str, ts: &str) -> Vec<ChannelMessage> {
        self.lock().records.thread(channel, ts)
    }

    /// What `user` alone saw in `channel` (`chat.postEphemeral` and ephemeral
    /// `response_url` answers), oldest first.
    pub fn ephemerals(&self, channel: &str, user: &str) -> Vec<Ephemeral> {
        self.lock().records.ephemerals(channel, user)
    }

    /// Every accepted `response_url` post, oldest first.
    pub fn responses(&self) -> Vec<ResponsePost> {
        self.lock().records.responses()
    }

    /// What each `chat.update` of the message at `ts` set, in order.
    pub fn updates_of(&self, channel: &str, ts: &str) -> Vec<Edit> {
        self.lock().records.updates_of(channel, ts)
    }

    /// `user`'s Home tab in `team` as last published, if any.
    pub fn home(&self, team: &str, user: &str) -> Option<HomeView> {
        self.lock().records.home(team, user)
    }

    /// Every Web API call that reached the fake (faults injected before it did not),
    /// with its outcome, in order.
    pub fn api_calls(&self) -> Vec<ApiCall> {
        self.lock().records.calls()
    }

    /// Changes from now on, as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<SlackEvent> {
        self.events.subscribe()
    }

    /// Handlers hold the lock only between awaits, never across one.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake Slack state lock")
    }
}
