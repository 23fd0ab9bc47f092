//! Moving SQLite's write-ahead log into the database file off the request path.
//!
//! With `synchronous = NORMAL` a commit in WAL mode does not wait for the disk; only a
//! checkpoint does, when it copies the log into the database file and syncs it. By
//! default SQLite runs that checkpoint inside whichever commit pushes the log past
//! 1,000 pages, on the one pooled connection every request queues for, so every few
//! hundred acks one waited tens of milliseconds for an fsync. The pool's connection
//! has automatic checkpoints turned off, and this task checkpoints on a connection of
//! its own: a passive checkpoint never blocks the writer, so the fsync now costs a
//! background thread its time instead of a request.

use std::sync::Weak;
use std::time::Duration;

use sqlx::{AnyConnection, Connection, Executor};

/// How often the log is copied into the database file. The log grows by what is
/// written in this time (a few MB at the ack benchmark's peak), and a crash loses
/// nothing either way: committed frames stay in the log until copied.
const INTERVAL: Duration = Duration::from_millis(500);

/// The pool's connections run this: the background task checkpoints instead.
pub(super) const NO_AUTO_CHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 0;";

/// Starts checkpointing `url` until `alive` can no longer be upgraded (every handle
/// to the store is gone).
pub(super) fn start(url: String, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut conn = match AnyConnection::connect(&url).await {
            Ok(conn) => conn,
            Err(error) => {
                // Without this task the log still gets copied when the last
                // connection closes; it only grows meanwhile.
                tracing::warn!(error = %error, "cannot open the checkpoint connection");
                return;
            }
        };
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if alive.upgrade().is_none() {
                break;
            }
            if let Err(error) = conn.execute("PRAGMA wal_checkpoint(PASSIVE);").await {
                tracing::warn!(error = %error, "the WAL checkpoint failed; retrying later");
            }
        }
        let _ = conn.close().await;
    });
}
