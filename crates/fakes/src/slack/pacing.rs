//! Slack's pacing, as token buckets: `chat.postMessage` about one message per second
//! per channel with short bursts, `chat.update` Tier 3 (50+ a minute) per workspace,
//! `views.publish` Tier 4 (100+ a minute) per workspace.
//! Over the pace, Slack answers 429 with `Retry-After`; so does the fake.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A token bucket: `burst` calls at once, then `per_second` on average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub burst: u32,
    pub per_second: f64,
}

/// The limits the fake enforces; `None` lets a method through unpaced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Per channel.
    pub post_message: Option<Bucket>,
    /// Per workspace.
    pub update: Option<Bucket>,
    /// Per workspace.
    pub views_publish: Option<Bucket>,
}

impl Default for Pacing {
    /// Slack's documented pace.
    fn default() -> Pacing {
        Pacing {
            post_message: Some(Bucket {
                burst: 3,
                per_second: 1.0,
            }),
            update: Some(Bucket {
                burst: 20,
                per_second: 50.0 / 60.0,
            }),
            views_publish: Some(Bucket {
                burst: 20,
                per_second: 100.0 / 60.0,
            }),
        }
    }
}

impl Pacing {
    /// No limits, for benchmarks.
    pub fn unlimited() -> Pacing {
        Pacing {
            post_message: None,
            update: None,
            views_publish: None,
        }
    }
}

/// The fill level of every bucket in use, by key (method and channel or workspace).
#[derive(Debug, Default)]
pub(super) struct Buckets(HashMap<String, (f64, Instant)>);

impl Buckets {
    /// Takes one token from the bucket `key`, or says how many whole seconds until
    /// one is there (at least 1, since `Retry-After` counts seconds).
    pub fn take(&mut self, key: String, bucket: Option<Bucket>, now: Instant) -> Result<(), u64> {
        let Some(bucket) = bucket else { return Ok(()) };
        let capacity = f64::from(bucket.burst.max(1));
        let (tokens, since) = self.0.entry(key).or_insert((capacity, now));
        let refilled =
            *tokens + now.saturating_duration_since(*since).as_secs_f64() * bucket.per_second;
        *tokens = refilled.min(capacity);
        *since = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait =
            Duration::from_secs_f64((1.0 - *tokens) / bucket.per_second.max(f64::MIN_POSITIVE));
        Err(wait.as_secs_f64().ceil().max(1.0) as u64)
    }

    /// Forgets every level (the pacing changed).
    pub fn reset(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_second() {
        let mut buckets = Buckets::default();
        let bucket = Some(Bucket {
            burst: 3,
            per_second: 1.0,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(buckets.take("c".into(), bucket, start), Ok(()));
        }
        assert_eq!(buckets.take("c".into(), bucket, start), Err(1));
        assert_eq!(
            buckets.take("other".into(), bucket, start),
            Ok(()),
            "buckets are per key"
        );
        assert_eq!(
            buckets.take("c".into(), bucket, start + Duration::from_millis(1000)),
            Ok(())
        );
        assert_eq!(
            buckets.take("c".into(), bucket, start + Duration::from_millis(1500)),
            Err(1)
        );
    }

    #[test]
    fn a_slow_bucket_asks_for_more_seconds() {
        let mut buckets = Buckets::default();
        let bucket = Some(Bucket {
            burst: 1,
            per_second: 0.25,
        });
        let now = Instant::now();
        assert_eq!(buckets.take("c".into(), bucket, now), Ok(()));
        assert_eq!(buckets.take("c".into(), bucket, now), Err(4));
        assert_eq!(
            buckets.take("c".into(), None, now),
            Ok(()),
            "no bucket, no limit"
        );
    }
}
