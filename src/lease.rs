//! Leased work, as the deploy worker and the Slack outbox both do it.
//!
//! Owns the loop's timing (a claim once a quarter of the slots are free, on a wake-up
//! or on a tick, none once stopped), claiming due rows under a lease and working a bounded
//! number side by side, and keeping a row's lease while it is worked: renewed every
//! third of its length, the work dropped unfinished as soon as a renewal fails, so a
//! process that lost a row (it stalled, another took over) stops acting on it. What is
//! claimed, the work and the renewal are the caller's: this module knows no table.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;

// The callers' parts are plain closures returning futures, not async closures: the
// future of an async closure is not provably `Send`, and these loops run in spawned
// tasks.

/// A lease's length, on the clock that times it.
#[derive(Debug, Clone)]
pub struct Lease {
    clock: Clock,
    length: Duration,
}

impl Lease {
    pub fn new(clock: Clock, length: Duration) -> Lease {
        Lease { clock, length }
    }

    /// When a lease taken at `now` ends (Unix ms).
    fn until(&self, now: i64) -> i64 {
        now + self.length.as_millis() as i64
    }

    /// Works due rows until `stop` turns true, up to `slots` at once. It claims
    /// `claim(now, lease_until, free slots)` when a row's work ends, `wake` is
    /// notified or `interval` passes, so a slow row holds up no other (as a batch
    /// worked to its end before the next claim did). While most slots are busy it
    /// waits for a quarter of them to free: a claim per row ended cost a fifth more
    /// CPU per deploy in the scale bench. Once stopping, it waits for the rows in hand.
    pub async fn work_due<T, C, W>(
        &self,
        (wake, interval): (&Notify, Duration),
        mut stop: watch::Receiver<bool>,
        slots: usize,
        mut claim: impl FnMut(i64, i64, i64) -> C,
        work: impl Fn(T) -> W,
    ) where
        C: Future<Output = Vec<T>>,
        W: Future<Output = ()> + Send + 'static,
    {
        let mut running = JoinSet::new();
        loop {
            let free = slots.saturating_sub(running.len());
            if free > 0 && free * 4 >= slots {
                let now = self.clock.now_millis();
                for row in claim(now, self.until(now), free as i64).await {
                    running.spawn(work(row));
                }
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {
                    // Rows that ended together free their slots in one claim.
                    while running.try_join_next().is_some() {}
                }
                () = wake.notified() => {}
                () = tokio::time::sleep(interval) => {}
                _ = stop.wait_for(|stopping| *stopping) => break,
            }
        }
        running.join_all().await;
    }

    /// Runs `work` while renewing its row's lease every third of the lease's length
    /// with `renew(until)`, which says `false` once the row is no longer ours. Long
    /// work cannot outlive the lease that way, and the lease can stay short so a
    /// crashed process's rows are taken over soon. `Err` when a renewal failed (the
    /// work is dropped unfinished): `lost` tells whose lease it was.
    pub async fn hold<T, R>(
        &self,
        work: impl Future<Output = T>,
        mut renew: impl FnMut(i64) -> R,
        lost: impl FnOnce() -> anyhow::Error,
    ) -> Result<T, anyhow::Error>
    where
        R: Future<Output = anyhow::Result<bool>>,
    {
        let keep = async {
            loop {
                tokio::time::sleep(self.length / 3).await;
                match renew(self.until(self.clock.now_millis())).await {
                    Ok(true) => {}
                    Ok(false) => return lost(),
                    Err(error) => return error,
                }
            }
        };
        tokio::select! {
            done = work => Ok(done),
            lost = keep => Err(lost),
        }
    }
}
