//! Leased work, as the deploy worker and the Slack outbox both do it.
//!
//! Owns the loop's timing (a pass again at once after a busy one, otherwise on a
//! wake-up or a tick, none once stopped), claiming due rows under a lease and working
//! them side by side, and keeping a row's lease while it is worked: renewed every
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

/// Runs `pass` until `stop` turns true: again at once when it says it was busy
/// (`true`), otherwise once `wake` is notified or `interval` passed.
pub async fn run<P>(
    wake: &Notify,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
    mut pass: impl FnMut() -> P,
) where
    P: Future<Output = bool>,
{
    loop {
        if pass().await {
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
    }
}

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

    /// Claims the due rows with `claim(now, lease_until)` and runs `work` on each, all
    /// at once; returns how many were claimed once every one is done.
    pub async fn work_due<T, C, W>(
        &self,
        claim: impl FnOnce(i64, i64) -> C,
        work: impl Fn(T) -> W,
    ) -> anyhow::Result<usize>
    where
        C: Future<Output = anyhow::Result<Vec<T>>>,
        W: Future<Output = ()> + Send + 'static,
    {
        let now = self.clock.now_millis();
        let due = claim(now, self.until(now)).await?;
        let claimed = due.len();
        let mut running = JoinSet::new();
        for row in due {
            running.spawn(work(row));
        }
        running.join_all().await;
        Ok(claimed)
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
