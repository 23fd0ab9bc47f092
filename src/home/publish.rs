//! Publishes the Home tabs that are owed: on opening, and again when something changes
//! in the workspace (a deploy moves, a lock is taken or released) for everyone who
//! opened theirs in the last hour. Debounced per person, and paced per workspace under
//! Slack's limit for `views.publish` (Tier 4, 100+ a minute per workspace), leaving
//! room for a second process. A publish Slack could not take just now stays owed and
//! is tried again; one it refused is dropped until the next opening or change.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;

use super::{read, view};
use crate::bot::BotState;
use crate::slack::api::SlackError;
use crate::store::HomeTab;

/// At most one publish per person this often: a deploy moving through its steps
/// republishes once, not at every step.
pub const DEBOUNCE: Duration = Duration::from_secs(3);
/// A change republishes the Home of everyone who opened it this recently.
pub const REFRESH_WINDOW: Duration = Duration::from_secs(60 * 60);
/// Publishes per workspace per minute from one process.
const PER_WORKSPACE_PER_MINUTE: usize = 50;
/// Home tabs taken per pass.
const BATCH: i64 = 20;
/// How often changes are looked for: well under the debounce, and one small write a
/// second whatever the deploy loop's poll interval.
const TICK: Duration = Duration::from_secs(1);

/// Publishes every [`TICK`], or at once when someone opens Home, until `stop`.
pub async fn run(state: BotState, mut stop: watch::Receiver<bool>) {
    let mut pace = Pace::default();
    loop {
        if let Err(error) = publish_due(&state, &mut pace).await {
            tracing::error!(error = format!("{error:#}"), "publishing Home tabs failed");
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = state.wakeups.homes.notified() => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
    }
}

/// Marks the Home tabs a change made stale, then publishes those due; returns how
/// many were published.
pub async fn publish_due(state: &BotState, pace: &mut Pace) -> anyhow::Result<usize> {
    let now = state.clock.now_millis();
    let window = REFRESH_WINDOW.as_millis() as i64;
    state.store.mark_changed_homes(now - window, now).await?;
    let debounce = DEBOUNCE.as_millis() as i64;
    let mut published = 0;
    for tab in state.store.due_homes(now - debounce, BATCH).await? {
        if !pace.take(&tab.team_id, Instant::now()) || !state.store.claim_home(&tab, now).await? {
            continue;
        }
        match publish(state, &tab).await {
            Ok(()) => published += 1,
            Err(error) => {
                tracing::warn!(team = %tab.team_id, user = %tab.user_id, error = format!("{error:#}"), "cannot publish a Home tab");
                if transient(&error) {
                    state.store.home_still_owed(&tab).await?;
                }
            }
        }
    }
    Ok(published)
}

/// Slack down, slow or pacing us: worth another try. A refusal (a person Slack does
/// not know, a bad token) would be refused again; the next opening or change tries.
fn transient(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<SlackError>()
        .is_some_and(SlackError::is_transient)
}

async fn publish(state: &BotState, tab: &HomeTab) -> anyhow::Result<()> {
    let token = crate::workspaces::bot_token(state, &tab.team_id)
        .await
        .context("no bot token for the workspace")?;
    let dashboard = read::dashboard(state, &tab.team_id, &tab.user_id).await;
    state
        .slack
        .publish_home(&token, &tab.user_id, &view::blocks(&dashboard))
        .await?;
    Ok(())
}

/// This process's publishes in the last minute, per workspace.
#[derive(Debug, Default)]
pub struct Pace(HashMap<String, VecDeque<Instant>>);

impl Pace {
    /// Takes one publish for `team_id` at `now`, or `false` when its minute is full.
    fn take(&mut self, team_id: &str, now: Instant) -> bool {
        let recent = self.0.entry(team_id.to_owned()).or_default();
        while recent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(60))
        {
            recent.pop_front();
        }
        if recent.len() >= PER_WORKSPACE_PER_MINUTE {
            return false;
        }
        recent.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_gets_at_most_its_share_a_minute() {
        let mut pace = Pace::default();
        let start = Instant::now();
        for _ in 0..PER_WORKSPACE_PER_MINUTE {
            assert!(pace.take("T1", start));
        }
        assert!(!pace.take("T1", start + Duration::from_secs(59)));
        assert!(pace.take("T2", start), "another workspace has its own");
        assert!(pace.take("T1", start + Duration::from_secs(60)));
    }
}
