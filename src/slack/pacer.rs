//! Slack's pace, kept for the whole bot so the outbox does not bounce off 429s: posts
//! (`chat.postMessage`) about one a second per channel after a short burst, and parent
//! updates (`chat.update`, Tier 3) about fifty a minute per workspace.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::{Backend, MessageKind, NewMessage, PaceLevel, Store};

/// A token bucket's shape: `burst` calls at once, then one per `gap_ms`.
#[derive(Debug, Clone, Copy)]
struct Pace {
    gap_ms: i64,
    burst: f64,
}

// The buckets are a little smaller and slower than Slack's (a burst of 3 posts, then
// one a second; 20 updates, then 50 a minute). A message is booked here when it is
// claimed but Slack counts it when it arrives, and sends overlap: one that was slow
// to leave can land just before the next one's slot. Booking at Slack's exact pace,
// one token and a tenth of a gap of margin absorb that jitter.
const POST_PACE: Pace = Pace {
    gap_ms: 1_100,
    burst: 2.0,
};
const UPDATE_PACE: Pace = Pace {
    gap_ms: 1_320,
    burst: 19.0,
};

/// One token bucket per channel (posts) and per workspace (updates): in this process
/// (SQLite: one process), or in the database (PostgreSQL: several processes share
/// each bucket, so together they keep one bot's pace).
#[derive(Debug)]
pub struct Pacer(Buckets);

#[derive(Debug)]
enum Buckets {
    InProcess(Mutex<HashMap<String, PaceLevel>>),
    Shared(Store),
}

impl Pacer {
    /// The pacer for a bot on `store`: shared through PostgreSQL, which several
    /// processes may use at once; in this process on SQLite, which one process uses
    /// (and where a booking in memory costs no write).
    pub fn for_store(store: &Store) -> Pacer {
        match store.backend() {
            Backend::Postgres => Pacer::shared(store.clone()),
            Backend::Sqlite => Pacer::in_process(),
        }
    }

    /// Buckets kept by this process alone.
    pub fn in_process() -> Pacer {
        Pacer(Buckets::InProcess(Mutex::default()))
    }

    /// Buckets in `store`, shared with every process on it.
    pub fn shared(store: Store) -> Pacer {
        Pacer(Buckets::Shared(store))
    }

    /// `None` when `message` may go at `now` (taking a token), else when to come back.
    /// Each waiting message gets a slot of its own, a gap after the previous one, so
    /// they do not all come back at the same instant to be paced again.
    pub async fn book(&self, message: &NewMessage, now: i64) -> anyhow::Result<Option<i64>> {
        let Some((key, pace)) = bucket_of(message) else {
            return Ok(None);
        };
        self.change(&key, pace, now, |level| take(level, pace, now))
            .await
    }

    /// Slack answered `message` 429 at `now`, to come back at `until`: its bucket is
    /// empty whatever this one thought, so no message of the bucket goes before
    /// `until`, and they go one gap apart after it.
    pub async fn slowed(&self, message: &NewMessage, now: i64, until: i64) -> anyhow::Result<()> {
        let Some((key, pace)) = bucket_of(message) else {
            return Ok(());
        };
        self.change(&key, pace, now, |level| {
            // One token is due at `until`: zero tokens a gap before it.
            let slowed = PaceLevel {
                tokens: 0.0,
                refilled_at: until - pace.gap_ms,
                free_slot: level.free_slot.max(until),
            };
            (slowed, ())
        })
        .await
    }

    /// Applies `change` to bucket `key` (full if it is new).
    async fn change<R>(
        &self,
        key: &str,
        pace: Pace,
        now: i64,
        change: impl FnOnce(PaceLevel) -> (PaceLevel, R),
    ) -> anyhow::Result<R> {
        let full = PaceLevel {
            tokens: pace.burst,
            refilled_at: now,
            free_slot: now,
        };
        match &self.0 {
            Buckets::InProcess(buckets) => {
                let mut buckets = buckets.lock().expect("pacer lock");
                let level = buckets.entry(key.to_owned()).or_insert(full);
                let (changed, answer) = change(*level);
                *level = changed;
                Ok(answer)
            }
            Buckets::Shared(store) => store.change_pace(key, full, change).await,
        }
    }
}

/// Takes a token from `level` at `now`, or promises the next free slot.
fn take(level: PaceLevel, pace: Pace, now: i64) -> (PaceLevel, Option<i64>) {
    let gap = pace.gap_ms as f64;
    let refilled = level.tokens + (now - level.refilled_at) as f64 / gap;
    let mut level = PaceLevel {
        tokens: refilled.min(pace.burst),
        refilled_at: now,
        ..level
    };
    if level.tokens >= 1.0 {
        level.tokens -= 1.0;
        return (level, None);
    }
    let refilled_at = now + ((1.0 - level.tokens) * gap).ceil() as i64;
    let slot = refilled_at.max(level.free_slot);
    level.free_slot = slot + pace.gap_ms;
    (level, Some(slot))
}

/// The bucket `message` is paced by, if any.
fn bucket_of(message: &NewMessage) -> Option<(String, Pace)> {
    match message.kind {
        MessageKind::Parent | MessageKind::Reply => {
            Some((format!("post {}", message.channel_id), POST_PACE))
        }
        MessageKind::UpdateParent => Some((format!("update {}", message.team_id), UPDATE_PACE)),
        // A response_url has its own limit (five uses), not a pace.
        MessageKind::Response => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: MessageKind, team: &str, channel: &str) -> NewMessage {
        NewMessage {
            thread_key: "t".into(),
            team_id: team.into(),
            channel_id: channel.into(),
            kind,
            body: "{}".into(),
        }
    }

    #[tokio::test]
    async fn posts_get_a_burst_then_one_slot_a_second_per_channel() {
        let pacer = Pacer::in_process();
        let reply = message(MessageKind::Reply, "T1", "C1");
        let mut booked = Vec::new();
        for _ in 0..4 {
            booked.push(pacer.book(&reply, 10_000).await.unwrap());
        }
        assert_eq!(booked, [None, None, Some(11_100), Some(12_200)]);
        let elsewhere = message(MessageKind::Parent, "T1", "C2");
        assert_eq!(
            pacer.book(&elsewhere, 10_000).await.unwrap(),
            None,
            "channels are paced apart"
        );
        assert_eq!(
            pacer.book(&reply, 11_100).await.unwrap(),
            None,
            "the first waiter's slot"
        );
        assert_eq!(
            pacer.book(&reply, 11_500).await.unwrap(),
            Some(13_300),
            "after the promised slots"
        );
        assert_eq!(
            pacer.book(&reply, 12_200).await.unwrap(),
            None,
            "the second waiter's slot"
        );
    }

    #[tokio::test]
    async fn a_429_empties_the_bucket_until_slack_said() {
        let pacer = Pacer::in_process();
        let post = message(MessageKind::Parent, "T1", "C1");
        assert_eq!(pacer.book(&post, 0).await.unwrap(), None, "a full bucket");
        pacer.slowed(&post, 100, 3_000).await.unwrap();
        assert_eq!(
            pacer.book(&post, 2_999).await.unwrap(),
            Some(3_000),
            "nothing before"
        );
        assert_eq!(
            pacer.book(&post, 3_000).await.unwrap(),
            None,
            "the 429'd post goes at 3 s"
        );
        assert_eq!(
            pacer.book(&post, 3_000).await.unwrap(),
            Some(4_100),
            "then a gap apart"
        );
        let response = message(MessageKind::Response, "T1", "C1");
        pacer.slowed(&response, 0, 10_000).await.unwrap();
        assert_eq!(
            pacer.book(&response, 1).await.unwrap(),
            None,
            "responses are not paced"
        );
    }

    #[tokio::test]
    async fn updates_are_paced_per_workspace_and_responses_not_at_all() {
        let pacer = Pacer::in_process();
        for n in 0..19 {
            let update = message(MessageKind::UpdateParent, "T1", &format!("C{n}"));
            assert_eq!(
                pacer.book(&update, 0).await.unwrap(),
                None,
                "update {n} is in the burst"
            );
        }
        let update = message(MessageKind::UpdateParent, "T1", "C1");
        assert_eq!(pacer.book(&update, 0).await.unwrap(), Some(1_320));
        let other_team = message(MessageKind::UpdateParent, "T2", "C1");
        assert_eq!(pacer.book(&other_team, 0).await.unwrap(), None);
        let reply = message(MessageKind::Reply, "T1", "C1");
        assert_eq!(
            pacer.book(&reply, 0).await.unwrap(),
            None,
            "posts have their own bucket"
        );
        let response = message(MessageKind::Response, "T1", "C1");
        for _ in 0..10 {
            assert_eq!(pacer.book(&response, 0).await.unwrap(), None);
        }
    }
}
