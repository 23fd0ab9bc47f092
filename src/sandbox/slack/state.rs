//! The fake's whole mutable state, behind one lock: the world, the records, pacing,
//! pending OAuth codes and minted `response_url`s, and the `ts` clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::SlackEvent;
use super::pacing::{Buckets, Pacing};
use super::records::Records;
use super::world::World;

/// Slack's OAuth codes expire after ten minutes.
pub(super) const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// A `response_url` takes five posts within thirty minutes.
pub(super) const RESPONSE_URL_USES: u32 = 5;
pub(super) const RESPONSE_URL_TTL: Duration = Duration::from_secs(30 * 60);

/// The Unix second the fake's `ts` values start from.
const EPOCH: u64 = 1_700_000_000;

/// A code handed out by the authorize page, waiting to be exchanged.
#[derive(Debug, Clone)]
pub(super) struct PendingCode {
    pub team: String,
    pub user: String,
    pub scope: String,
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
    pub response_urls: HashMap<String, ResponseUrl>,
    ticks: u64,
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
            response_urls: HashMap::new(),
            ticks: 0,
        }
    }

    /// The next `ts`: unique and increasing across the fake, in Slack's
    /// `seconds.micros` form, starting at `1700000000.000100`.
    pub fn next_ts(&mut self) -> String {
        self.ticks += 1;
        let micros = self.ticks * 100;
        format!("{}.{:06}", EPOCH + micros / 1_000_000, micros % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_values_increase_in_slacks_form() {
        let mut state = State::new(broadcast::channel(1).0);
        assert_eq!(state.next_ts(), "1700000000.000100");
        assert_eq!(state.next_ts(), "1700000000.000200");
        state.ticks = 9_999;
        assert_eq!(state.next_ts(), "1700000001.000000");
    }
}
