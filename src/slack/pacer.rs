//! Slack's pace, kept by this process so the outbox does not bounce off 429s: posts
//! (`chat.postMessage`) about one a second per channel after a short burst, and parent
//! updates (`chat.update`, Tier 3) about fifty a minute per workspace.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::{MessageKind, NewMessage};

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

/// One token bucket per channel (posts) and per workspace (updates).
#[derive(Debug, Default)]
pub struct Pacer(Mutex<HashMap<String, Bucket>>);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: i64,
    /// The next slot not yet promised to a waiting message.
    free_slot: i64,
}

impl Pacer {
    /// `None` when `message` may go at `now` (taking a token), else when to come back.
    pub fn book(&self, message: &NewMessage, now: i64) -> Option<i64> {
        let (key, pace) = bucket_of(message)?;
        self.take(&key, pace, now)
    }

    /// Slack answered `message` 429 at `now`, to come back at `until`: its bucket is
    /// empty whatever this one thought, so no message of the bucket goes before
    /// `until`, and they go one gap apart after it.
    pub fn slowed(&self, message: &NewMessage, now: i64, until: i64) {
        let Some((key, pace)) = bucket_of(message) else {
            return;
        };
        let mut buckets = self.0.lock().expect("pacer lock");
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: 0.0,
            at: now,
            free_slot: now,
        });
        // One token is due at `until`: zero tokens a gap before it.
        bucket.tokens = 0.0;
        bucket.at = until - pace.gap_ms;
        bucket.free_slot = bucket.free_slot.max(until);
    }

    /// Takes a token of bucket `key`, or promises the next free slot. Each waiting
    /// message gets a slot of its own, a gap after the previous one, so they do not
    /// all come back at the same instant to be paced again.
    fn take(&self, key: &str, pace: Pace, now: i64) -> Option<i64> {
        let gap = pace.gap_ms as f64;
        let mut buckets = self.0.lock().expect("pacer lock");
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: pace.burst,
            at: now,
            free_slot: now,
        });
        bucket.tokens = (bucket.tokens + (now - bucket.at) as f64 / gap).min(pace.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return None;
        }
        let refilled = now + ((1.0 - bucket.tokens) * gap).ceil() as i64;
        let slot = refilled.max(bucket.free_slot);
        bucket.free_slot = slot + pace.gap_ms;
        Some(slot)
    }
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

    #[test]
    fn posts_get_a_burst_then_one_slot_a_second_per_channel() {
        let pacer = Pacer::default();
        let reply = message(MessageKind::Reply, "T1", "C1");
        let booked: Vec<_> = (0..4).map(|_| pacer.book(&reply, 10_000)).collect();
        assert_eq!(booked, [None, None, Some(11_100), Some(12_200)]);
        let elsewhere = message(MessageKind::Parent, "T1", "C2");
        assert_eq!(
            pacer.book(&elsewhere, 10_000),
            None,
            "channels are paced apart"
        );
        assert_eq!(pacer.book(&reply, 11_100), None, "the first waiter's slot");
        assert_eq!(
            pacer.book(&reply, 11_500),
            Some(13_300),
            "after the promised slots"
        );
        assert_eq!(pacer.book(&reply, 12_200), None, "the second waiter's slot");
    }

    #[test]
    fn a_429_empties_the_bucket_until_slack_said() {
        let pacer = Pacer::default();
        let post = message(MessageKind::Parent, "T1", "C1");
        assert_eq!(pacer.book(&post, 0), None, "a full bucket");
        pacer.slowed(&post, 100, 3_000);
        assert_eq!(pacer.book(&post, 2_999), Some(3_000), "nothing before");
        assert_eq!(pacer.book(&post, 3_000), None, "the 429'd post goes at 3 s");
        assert_eq!(pacer.book(&post, 3_000), Some(4_100), "then a gap apart");
        let response = message(MessageKind::Response, "T1", "C1");
        pacer.slowed(&response, 0, 10_000);
        assert_eq!(pacer.book(&response, 1), None, "responses are not paced");
    }

    #[test]
    fn updates_are_paced_per_workspace_and_responses_not_at_all() {
        let pacer = Pacer::default();
        for n in 0..19 {
            let update = message(MessageKind::UpdateParent, "T1", &format!("C{n}"));
            assert_eq!(pacer.book(&update, 0), None, "update {n} is in the burst");
        }
        let update = message(MessageKind::UpdateParent, "T1", "C1");
        assert_eq!(pacer.book(&update, 0), Some(1_320));
        let other_team = message(MessageKind::UpdateParent, "T2", "C1");
        assert_eq!(pacer.book(&other_team, 0), None);
        let reply = message(MessageKind::Reply, "T1", "C1");
        assert_eq!(pacer.book(&reply, 0), None, "posts have their own bucket");
        let response = message(MessageKind::Response, "T1", "C1");
        assert!((0..10).all(|_| pacer.book(&response, 0).is_none()));
    }
}
