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

const POST_PACE: Pace = Pace {
    gap_ms: 1_000,
    burst: 3.0,
};
const UPDATE_PACE: Pace = Pace {
    gap_ms: 1_200,
    burst: 20.0,
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
        match message.kind {
            MessageKind::Parent | MessageKind::Reply => {
                self.take(&format!("post {}", message.channel_id), POST_PACE, now)
            }
            MessageKind::UpdateParent => {
                self.take(&format!("update {}", message.team_id), UPDATE_PACE, now)
            }
            // A response_url has its own limit (five uses), not a pace.
            MessageKind::Response => None,
        }
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
        let booked: Vec<_> = (0..5).map(|_| pacer.book(&reply, 10_000)).collect();
        assert_eq!(booked, [None, None, None, Some(11_000), Some(12_000)]);
        let elsewhere = message(MessageKind::Parent, "T1", "C2");
        assert_eq!(
            pacer.book(&elsewhere, 10_000),
            None,
            "channels are paced apart"
        );
        assert_eq!(pacer.book(&reply, 11_000), None, "the first waiter's slot");
        assert_eq!(
            pacer.book(&reply, 11_500),
            Some(13_000),
            "after the promised slots"
        );
        assert_eq!(pacer.book(&reply, 12_000), None, "the second waiter's slot");
    }

    #[test]
    fn updates_are_paced_per_workspace_and_responses_not_at_all() {
        let pacer = Pacer::default();
        for n in 0..20 {
            let update = message(MessageKind::UpdateParent, "T1", &format!("C{n}"));
            assert_eq!(pacer.book(&update, 0), None, "update {n} is in the burst");
        }
        let update = message(MessageKind::UpdateParent, "T1", "C1");
        assert_eq!(pacer.book(&update, 0), Some(1_200));
        let other_team = message(MessageKind::UpdateParent, "T2", "C1");
        assert_eq!(pacer.book(&other_team, 0), None);
        let reply = message(MessageKind::Reply, "T1", "C1");
        assert_eq!(pacer.book(&reply, 0), None, "posts have their own bucket");
        let response = message(MessageKind::Response, "T1", "C1");
        assert!((0..10).all(|_| pacer.book(&response, 0).is_none()));
    }
}
