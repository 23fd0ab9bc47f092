//! The periodic sweeps every process runs a loop for (lock expiry, signature pruning,
//! release polling), each turn done by one process only: whichever first moves the
//! sweep's next turn forward in the database (`sweep_turns`). The sweeps are safe to
//! run twice (each announcement is fenced in its own transaction); taking turns keeps
//! N processes from doing N times the work and spending a person's Heroku budget N
//! times on the same poll.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::bot::BotState;

/// Every `every`, until `stop` says so, takes `name`'s turn if it is due and runs
/// `sweep` with it. A failure is logged, and the next turn tries again.
pub async fn run<F>(
    state: &BotState,
    name: &str,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    mut sweep: impl FnMut() -> F,
) where
    F: Future<Output = anyhow::Result<()>>,
{
    let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    loop {
        let now = state.clock.now_millis();
        match state.store.take_sweep_turn(name, now, every_ms).await {
            Ok(true) => {
                if let Err(error) = sweep().await {
                    tracing::error!(sweep = name, error = format!("{error:#}"), "sweep failed");
                }
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(
                    sweep = name,
                    error = format!("{error:#}"),
                    "cannot take a sweep's turn"
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
    }
}
