//! `/h history <pipeline> [in <stage>[/<app>]]`: one timeline, newest first, of what
//! was done to a pipeline from Slack, read from the audit trail: deploys (who, which
//! branch and sha, where, forced or not, how it ended), locks (set, removed,
//! expired) and changes of the repository it builds from (`/h connect`).
//!
//! Each source becomes [`Entry`] rows (time, stage, app, sentence) and the timeline is
//! their merge. A new kind of change (promotions, rollbacks) joins by adding one more
//! source function returning entries; nothing else changes.

use crate::accounts::seen_by;
use crate::bot::BotState;
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::chat::{clock_time, duration, escape, short_sha};
use crate::command::Target;
use crate::resolver::Asking;
use crate::store::{DeployRow, LockEvent, RepoChange};
use crate::when;

/// Entries shown at most.
pub const SHOWN: usize = 15;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unix milliseconds.
    pub at: i64,
    pub stage: String,
    /// Empty when the entry is about the whole stage.
    pub app_name: String,
    /// Who did what, e.g. `<@U0ALICE> deploy of paipu/master (576d16a9) to ...`.
    pub sentence: String,
}

const HISTORY: Asking = Asking {
    command: "history",
    preposition: "in",
};

/// Answers `/h history`.
pub async fn history(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    target: Option<Target>,
) -> Reply {
    let layout = match seen_by(state, invocation, pipeline, HISTORY).await {
        Ok((_, layout)) => layout,
        Err(reply) => return reply,
    };
    if let Some(target) = &target {
        if let Err(problem) = layout.apps_of(target) {
            return Reply::ephemeral(problem.to_string());
        }
    }
    let entries = match timeline(state, &invocation.team_id, pipeline, target.as_ref()).await {
        Ok(entries) => entries,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot read the audit trail");
            return Reply::ephemeral(
                "I could not read the history just now. Try again in a minute.",
            );
        }
    };
    let scope = target
        .as_ref()
        .map(|target| format!("{pipeline} in {target}"))
        .unwrap_or_else(|| pipeline.to_owned());
    if entries.is_empty() {
        return Reply::ephemeral(format!("Nothing was done to {scope} from Slack yet."));
    }
    let now = state.clock.now_millis();
    let mut lines = vec![format!("History of {scope}, newest first:")];
    lines.extend(
        entries
            .iter()
            .map(|entry| format!("• {}: {}", when::ago(entry.at, now), entry.sentence)),
    );
    Reply::ephemeral(lines.join("\n"))
}

/// The newest [`SHOWN`] entries of every source, newest first.
pub async fn timeline(
    state: &BotState,
    team_id: &str,
    pipeline: &str,
    target: Option<&Target>,
) -> anyhow::Result<Vec<Entry>> {
    let stage = target.map(|target| target.stage.as_str());
    let limit = SHOWN as i64;
    let deploys = state
        .store
        .pipeline_deploys(team_id, pipeline, stage, limit)
        .await?;
    let locks = state
        .store
        .lock_events(team_id, pipeline, 4 * limit)
        .await?;
    let repos = state.store.repo_changes(team_id, pipeline, limit).await?;
    let mut entries: Vec<Entry> = deploys.iter().map(deploy_entry).collect();
    entries.extend(locks.iter().map(lock_entry));
    entries.extend(repos.iter().map(repo_entry));
    entries.retain(|entry| in_scope(entry, target));
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.at));
    entries.truncate(SHOWN);
    Ok(entries)
}

fn in_scope(entry: &Entry, target: Option<&Target>) -> bool {
    let Some(target) = target else { return true };
    entry.stage == target.stage.as_str()
        && target
            .app
            .as_ref()
            .is_none_or(|app| entry.app_name.is_empty() || &entry.app_name == app)
}

/// `<@U0ALICE> deploy of paipu/master (576d16a9) to paipu-app-staging, forced: deployed after 43s`
fn deploy_entry(d: &DeployRow) -> Entry {
    let mut what = d.pipeline.clone();
    if let Some(git_ref) = d.git_ref.as_ref().or(d.branch.as_ref()) {
        what.push_str(&format!("/{}", escape(git_ref)));
    }
    if let Some(sha) = &d.sha {
        what.push_str(&format!(" ({})", short_sha(sha)));
    }
    let place = escape(
        d.app_name
            .as_deref()
            .or(d.stage.as_deref())
            .unwrap_or("its default stage"),
    );
    let forced = if d.forced { ", forced" } else { "" };
    let ending = match (&d.failure, d.finished_at) {
        (Some(reason), Some(end)) => {
            format!("failed after {}: {reason}", duration(d.created_at, end))
        }
        (None, Some(end)) => format!("deployed after {}", duration(d.created_at, end)),
        (_, None) => format!("still {}", d.state),
    };
    Entry {
        at: d.created_at,
        stage: d.stage.clone().unwrap_or_default(),
        app_name: d.app_name.clone().unwrap_or_default(),
        sentence: format!(
            "<@{}> deploy of {what} to {place}{forced}: {ending}",
            d.user_id
        ),
    }
}

/// `<@U0ALICE> connected paipu to acme/atlas (it built heroku/paipu-repo before)`: a
/// change for every stage, so shown only in the whole pipeline's history.
fn repo_entry(change: &RepoChange) -> Entry {
    let before = change
        .previous_repo
        .as_ref()
        .map(|previous| format!(" (it built {} before)", escape(previous)))
        .unwrap_or_default();
    Entry {
        at: change.at,
        stage: String::new(),
        app_name: String::new(),
        sentence: format!(
            "<@{}> connected {} to {}{before}",
            change.set_by,
            change.pipeline,
            escape(&change.repo)
        ),
    }
}

/// `<@U0BOB> locked production until 16:02 UTC: release freeze`, and its endings.
fn lock_entry(event: &LockEvent) -> Entry {
    let place = if event.app_name.is_empty() {
        event.stage.clone()
    } else {
        format!("{}/{}", event.stage, event.app_name)
    };
    let actor = event.actor_id.as_deref().unwrap_or(&event.owner_id);
    let sentence = match event.action.as_str() {
        "locked" => {
            let until = event
                .expires_at
                .map(|end| format!(" until {} UTC", clock_time(end)))
                .unwrap_or_default();
            let reason = event
                .reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            format!("<@{actor}> locked {place}{until}{reason}")
        }
        "unlocked" if event.forced != 0 => {
            format!("<@{actor}> removed <@{}>'s lock on {place}", event.owner_id)
        }
        "unlocked" => format!("<@{actor}> unlocked {place}"),
        _ => format!("<@{}>'s lock on {place} expired", event.owner_id),
    };
    Entry {
        at: event.at,
        stage: event.stage.clone(),
        app_name: event.app_name.clone(),
        sentence,
    }
}
