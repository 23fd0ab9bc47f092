//! Ends expired locks. Each removal, its `expired` event and its notice to the lock's
//! channel are one transaction, fenced on the lock as read, so a lock expires and is
//! announced exactly once however many processes sweep.

use tokio::sync::watch;

use super::target_of;
use crate::bot::{Bot, BotState};
use crate::chat::clock_time;
use crate::store::{LockRemoval, StageLock};

/// Sweeps every poll interval, one process a turn, until `stop` says so.
pub async fn run(state: BotState, stop: watch::Receiver<bool>) {
    let every = state.config.poll_interval;
    crate::sweeps::run(&state, "lock expiry", every, stop, || async {
        sweep(&state).await.map(drop)
    })
    .await;
}

/// Ends every lock whose time is up; returns how many this call ended.
pub async fn sweep(app: &Bot) -> anyhow::Result<usize> {
    let now = app.clock.now_millis();
    let mut ended = 0;
    for lock in app.store.expired_stage_locks(now).await? {
        let notice = crate::outbox::notice(
            &lock.team_id,
            &lock.channel_id,
            &format!(
                "lock-expired:{}:{}:{}",
                lock.team_id,
                target_of(&lock),
                lock.since
            ),
            &expiry_text(&lock),
        )?;
        let removal = LockRemoval {
            action: "expired",
            actor_id: None,
            forced: false,
            messages: std::slice::from_ref(&notice),
            now,
        };
        if app.store.remove_stage_lock(&lock, removal).await? {
            tracing::info!(lock = %target_of(&lock), "lock expired");
            super::wake_queue(app, &lock, now).await;
            ended += 1;
        }
    }
    Ok(ended)
}

/// `<@U0BOB>'s lock on paipu production ended at 16:02 UTC (release freeze): ...`
fn expiry_text(lock: &StageLock) -> String {
    let reason = lock
        .reason
        .as_ref()
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default();
    format!(
        "<@{}>'s lock on {} ended at {} UTC{reason}: deploys, promotions and rollbacks there are allowed again.",
        lock.owner_id,
        target_of(lock),
        clock_time(lock.expires_at.unwrap_or(lock.since))
    )
}
