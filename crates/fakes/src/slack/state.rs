//! The fake's whole mutable state, behind one lock: the world, the records, pacing,
//! pending OAuth and sign-in codes, what to do to the next ID token, minted
//! `response_url`s, where the app's events go, and the `ts` clock.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::broadcast;

use super::events::EventsEndpoint;
use super::pacing::{Buckets, Pacing};
use super::records::Records;
use super::world::World;
use super::{SlackEvent, Tamper};

/// Slack's OAuth codes expire after ten minutes.
pub(super) const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// A `response_url` takes five posts within thirty minutes.
pub(super) const RESPONSE_URL_USES: u32 = 5;
pub(super) const RESPONSE_URL_TTL: Duration = Duration::from_secs(30 * 60);

/// A code handed out by the authorize page, waiting to be exchanged.
#[derive(Debug, Clone)]
pub(super) struct PendingCode {
    pub team: String,
    pub user: String,
    pub scope: String,
    pub redirect_uri: String,
    pub minted: Instant,
}

/// A Sign in with Slack code, waiting to be exchanged for an ID token.
#[derive(Debug, Clone)]
pub(super) struct PendingSignIn {
    pub team: String,
    pub user: String,
    pub nonce: Option<String>,
    pub redirect_uri: String,
    pub minted: Instant,
}

/// A `response_url` the fake minted for a command.
#[derive(Debug, Clone)]
pub(super) struct ResponseUrl {
    pub team: String,
    pub channel: String,
    pub user: String,
    pub uses: u32,
    pub minted: Instant,
}

#[derive(Debug)]
pub(super) struct State {
    pub world: World,
    pub records: Records,
    pub pacing: Pacing,
    pub buckets: Buckets,
    pub codes: HashMap<String, PendingCode>,
    pub code_ttl: Duration,
    pub sign_in_codes: HashMap<String, PendingSignIn>,
    /// Sign in with Slack user tokens: `(team, user)`.
    pub user_tokens: HashMap<String, (String, String)>,
    /// The last genuine ID token handed out, for [`Tamper::Replay`].
    pub last_id_token: Option<String>,
    /// What to do wrong with the next ID token.
    pub tamper: Option<Tamper>,
    pub response_urls: HashMap<String, ResponseUrl>,
    /// Where the app's events go, once the app said.
    pub events_endpoint: Option<EventsEndpoint>,
    /// The last `ts` handed out, in Unix microseconds.
    last_ts: u64,
}

impl State {
    pub fn new(events: broadcast::Sender<SlackEvent>) -> State {
        State {
            world: World::seeded(),
            records: Records::new(events),
            pacing: Pacing::default(),
            buckets: Buckets::default(),
            codes: HashMap::new(),
            code_ttl: CODE_TTL,
            sign_in_codes: HashMap::new(),
            user_tokens: HashMap::new(),
            last_id_token: None,
            tamper: None,
            response_urls: HashMap::new(),
            events_endpoint: None,
            last_ts: 0,
        }
    }

    /// The next `ts`: the wall-clock time, as Slack's are (clients look for their
    /// posts by time with `oldest`), kept unique and increasing across the fake by
    /// 100µs steps, in Slack's `seconds.micros` form.
    pub fn next_ts(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_micros() as u64);
        self.last_ts = now.max(self.last_ts + 100);
        format!(
            "{}.{:06}",
            self.last_ts / 1_000_000,
            self.last_ts % 1_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_values_increase_in_slacks_form() {
        let mut state = State::new(broadcast::channel(1).0);
        // Far ahead of the clock, so each is the previous one plus 100µs.
        state.last_ts = 4_000_000_000_999_800;
        assert_eq!(state.next_ts(), "4000000000.999900");
        assert_eq!(state.next_ts(), "4000000001.000000");
        let mut fresh = State::new(broadcast::channel(1).0);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let seconds: u64 = fresh.next_ts()[..10].parse().unwrap();
        assert!(seconds.abs_diff(now) <= 1, "{seconds} is not now ({now})");
    }
}
