//! Reads what a person's Home tab shows, as that person: their own Heroku token lists
//! the pipelines and apps they can see (as `/h pipelines` and `/h info` do), and the
//! bot's own records add locks, running deploys and the last deploy's thread. Every
//! outside text is escaped here, before the view builder sees it.

use std::collections::HashMap;

use secrecy::SecretString;

use super::press;
use super::view::{Dashboard, Part, PipelineView};
use crate::accounts::{LinkError, Linked};
use crate::bot::{Bot, BotState};
use crate::chat::{escape, ordinal, short_sha};
use crate::pipelines::{current_release, release_sha};
use crate::resolver::{Asking, ResolveError, Resolver, StageApps};
use crate::slack::api::Button;
use crate::store::{DeployRow, DeployState, QueueEntry, StageLock};
use crate::when;

const HOME: Asking = Asking {
    command: "pipelines",
    preposition: "in",
};

/// How many of a stage's deploys are read for branch names and the last thread.
const DEPLOYS_READ: i64 = 50;

/// The dashboard of `user_id` in `team_id`.
pub async fn dashboard(state: &BotState, team_id: &str, user_id: &str) -> Dashboard {
    let linked = match crate::accounts::linked(state, team_id, user_id).await {
        Ok(linked) => linked,
        Err(LinkError::NotLinked(_)) => return Dashboard::NotLinked,
        Err(error) => return Dashboard::Unavailable(escape(&error.to_string())),
    };
    let mut found = match state.heroku.pipelines(&linked.heroku_token).await {
        Ok(found) => found,
        Err(error) => {
            let problem = ResolveError::heroku("list pipelines", error);
            return Dashboard::Unavailable(escape(&problem.to_string()));
        }
    };
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let running = match state.store.running_deploys(team_id).await {
        Ok(running) => running,
        Err(error) => return Dashboard::Unavailable(escape(&format!("{error:#}"))),
    };
    let reads = found
        .iter()
        .map(|pipeline| pipeline_view(state, team_id, &linked, &pipeline.name, &running));
    Dashboard::Linked {
        heroku_email: escape(&linked.heroku_email),
        pipelines: futures_util::future::join_all(reads).await,
    }
}

async fn pipeline_view(
    app: &Bot,
    team_id: &str,
    linked: &Linked,
    name: &str,
    running: &[DeployRow],
) -> PipelineView {
    let resolver = Resolver {
        heroku: &app.heroku,
        token: &linked.heroku_token,
        asking: HOME,
    };
    let channel = (press::channel_of(app, team_id, name).await).unwrap_or_else(|error| {
        tracing::warn!(
            error = format!("{error:#}"),
            "cannot read a pipeline's last deploy"
        );
        None
    });
    let mut parts = match resolver.layout(name).await {
        Ok(layout) if layout.stages.is_empty() => vec![Part::Problem("No apps yet.".into())],
        Ok(layout) => {
            let token = &linked.heroku_token;
            let stages = layout.stages.iter().enumerate().map(|(i, stage)| {
                let on_stage: Vec<&DeployRow> = (running.iter())
                    .filter(|d| {
                        d.pipeline == name && d.stage.as_deref() == Some(stage.stage.as_str())
                    })
                    .collect();
                let next = layout.stages.get(i + 1).map(|next| next.stage.as_str());
                let buttons = match channel {
                    Some(_) => press::buttons(name, stage.stage.as_str(), next),
                    None => Vec::new(),
                };
                stage_part(app, team_id, token, name, stage, on_stage, buttons)
            });
            futures_util::future::join_all(stages).await
        }
        Err(problem) => vec![Part::Problem(escape(&problem.to_string()))],
    };
    parts.push(Part::Note(buttons_note(name, channel.as_deref())));
    PipelineView {
        name: escape(name),
        parts,
    }
}

/// Where a pipeline's buttons post, or why it has none yet.
fn buttons_note(pipeline: &str, channel: Option<&str>) -> String {
    match channel {
        Some(channel) => {
            format!("Its buttons post in <#{channel}>, where its last deploy was announced.")
        }
        None => format!(
            "Deploy it once with `/h deploy {}` in a channel; its buttons then post there.",
            escape(pipeline)
        ),
    }
}

/// A stage: each app with what it runs, then its locks, the deploys running into it,
/// and a link to the thread of its last deploy.
async fn stage_part(
    app: &Bot,
    team_id: &str,
    token: &SecretString,
    pipeline: &str,
    stage: &StageApps,
    running: Vec<&DeployRow>,
    buttons: Vec<Button>,
) -> Part {
    let stage_name = stage.stage.as_str();
    let deploys = (app.store)
        .pipeline_deploys(team_id, pipeline, Some(stage_name), DEPLOYS_READ)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(
                error = format!("{error:#}"),
                "cannot read a stage's deploys"
            );
            Vec::new()
        });
    let branches: HashMap<&str, &str> = deploys
        .iter()
        .filter_map(|d| Some((d.sha.as_deref()?, d.git_ref.as_deref()?)))
        .collect();
    let now = app.clock.now_millis();
    let mut lines = Vec::new();
    for heroku_app in &stage.apps {
        lines.push(app_line(app, token, &heroku_app.name, &branches, now).await);
    }
    let locks = (app.store.stage_locks(team_id, pipeline, stage_name).await).unwrap_or_default();
    lines.extend(locks.iter().map(lock_line));
    lines.extend(running.iter().map(|deploy| running_line(deploy, now)));
    for heroku_app in &stage.apps {
        let line = (app.store.queue_of_app(team_id, &heroku_app.id).await).unwrap_or_default();
        lines.extend(line.iter().map(|entry| queued_line(entry, now)));
    }
    // A deploy waiting in line has no thread yet: the link is to the last one that ran.
    let last = deploys.iter().find(|d| d.state != DeployState::Queued);
    if let Some(link) = last_thread(app, last).await {
        lines.push(link);
    }
    Part::Stage {
        stage: stage_name.to_owned(),
        lines,
        buttons,
    }
}

/// `• paipu-app-staging: v230 · 576d16a9 (master) · alice@example.com · 30m ago`
async fn app_line(
    app: &Bot,
    token: &SecretString,
    app_name: &str,
    branches: &HashMap<&str, &str>,
    now: i64,
) -> String {
    let name = escape(app_name);
    let release = match current_release(app, token, app_name).await {
        Ok(Some(release)) => release,
        Ok(None) => return format!("• {name}: no release yet"),
        Err(error) => {
            return format!(
                "• {name}: Heroku did not say what it runs ({})",
                escape(&error.to_string())
            );
        }
    };
    let commit = match release_sha(app, token, &release).await {
        Some(sha) => match branches.get(sha.as_str()) {
            Some(branch) => format!(" · {} ({})", short_sha(&sha), escape(branch)),
            None => format!(" · {}", short_sha(&sha)),
        },
        None => String::new(),
    };
    format!(
        "• {name}: v{}{commit} · {} · {}",
        release.version,
        escape(&release.user.email),
        when::ago_of(&release.created_at, now)
    )
}

/// `:lock: locked by <@U0ALICE>: hotfix in progress` (the app named for an app lock).
fn lock_line(lock: &StageLock) -> String {
    let what = if lock.app_name.is_empty() {
        String::new()
    } else {
        format!(" {}", escape(&lock.app_name))
    };
    let reason = lock
        .reason
        .as_deref()
        .map(|reason| format!(": {}", escape(reason)))
        .unwrap_or_default();
    format!(":lock:{what} locked by <@{}>{reason}", lock.owner_id)
}

/// `:hourglass: <@U0ALICE> is deploying master (576d16a9): building, 2m ago`
fn running_line(deploy: &DeployRow, now: i64) -> String {
    let what = match (&deploy.git_ref, &deploy.sha) {
        (Some(git_ref), Some(sha)) => format!("{} ({})", escape(git_ref), short_sha(sha)),
        (Some(git_ref), None) => escape(git_ref),
        (None, _) => escape(deploy.branch.as_deref().unwrap_or("the default branch")),
    };
    format!(
        ":hourglass: <@{}> is {} {what}: {}, started {}",
        deploy.user_id,
        verb(deploy),
        deploy.state,
        when::ago(deploy.created_at, now)
    )
}

/// `:busstop: 1st in line for paipu-app-staging: <@U0BOB>'s deploy of paipu/feature-x, queued 2m ago`
fn queued_line(entry: &QueueEntry, now: i64) -> String {
    let what = match &entry.branch {
        Some(branch) => format!("{}/{}", escape(&entry.pipeline), escape(branch)),
        None => escape(&entry.pipeline),
    };
    format!(
        ":busstop: {} in line for {}: <@{}>'s deploy of {what}, queued {}",
        ordinal(entry.position),
        escape(entry.app_name.as_deref().unwrap_or("the app")),
        entry.user_id,
        when::ago(entry.queued_at, now)
    )
}

fn verb(deploy: &DeployRow) -> &'static str {
    match deploy.kind {
        crate::store::DeployKind::Deploy => "deploying",
        crate::store::DeployKind::Promote => "promoting",
        crate::store::DeployKind::Rollback => "rolling back to",
    }
}

/// `<https://slack.com/archives/C0DEPLOYS/p1700000000000100|Last deploy's thread>`, once
/// its parent message was posted.
async fn last_thread(app: &Bot, last: Option<&DeployRow>) -> Option<String> {
    let thread_key = crate::outbox::deploy_thread(last?.id);
    let (channel, ts) = app.store.thread_parent(&thread_key).await.ok()??;
    Some(format!(
        "<{}|Last deploy's thread>",
        app.slack.archive_url(&channel, &ts)
    ))
}
