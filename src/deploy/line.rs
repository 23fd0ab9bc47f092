//! The deploy queue as people see and change it: `/h queue` shows each app's line,
//! `/h dequeue` and a queued answer's Cancel button take one's own deploys out of it,
//! and a busy refusal's Queue it button asks for the same deploy again, in line. The
//! line itself moves in the state machine ([`super::queue`]).

use super::confirm;
use super::queue::{entry_words, holder_words, what};
use super::requested;
use crate::accounts::seen_by;
use crate::bot::BotState;
use crate::chat::{Invocation, Press, Reply, clock_time, escape};
use crate::command::{DeployRequest, Stage, Target};
use crate::heroku::App;
use crate::locks::{self, Change};
use crate::resolver::Asking;
use crate::store::{DeployKind, DeployRow, DeployState};

const QUEUE: Asking = Asking {
    command: "queue",
    preposition: "in",
};

const DATABASE_TROUBLE: &str =
    "I could not read the queue just now (the database did not answer). Try again in a minute.";

/// Answers `/h queue <pipeline> [in <stage>[/<app>]]`.
pub async fn show(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    target: Option<Target>,
) -> Reply {
    let layout = match seen_by(state, invocation, pipeline, QUEUE).await {
        Ok((_, layout)) => layout,
        Err(reply) => return reply,
    };
    let apps: Vec<(&str, &App)> = match &target {
        Some(target) => match layout.apps_of(target) {
            Ok(apps) => (apps.into_iter())
                .map(|app| (target.stage.as_str(), app))
                .collect(),
            Err(problem) => return Reply::ephemeral(problem.to_string()),
        },
        None => (layout.stages.iter())
            .flat_map(|s| s.apps.iter().map(move |app| (s.stage.as_str(), app)))
            .collect(),
    };
    let scope = scope(pipeline, target.as_ref());
    match lines(state, invocation, pipeline, &apps).await {
        Ok(lines) if lines.is_empty() => {
            Reply::ephemeral(format!("Nobody is waiting in line for {scope}."))
        }
        Ok(lines) => Reply::ephemeral(format!(
            "Deploys waiting in line for {scope}:\n{}",
            lines.join("\n")
        )),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot read the queue");
            Reply::ephemeral(DATABASE_TROUBLE)
        }
    }
}

/// Each app with a line: what holds it, then its entries in order.
async fn lines(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    apps: &[(&str, &App)],
) -> anyhow::Result<Vec<String>> {
    let now = state.clock.now_millis();
    let mut lines = Vec::new();
    for (stage, app) in apps {
        let line = state
            .store
            .queue_of_app(&invocation.team_id, &app.id)
            .await?;
        if line.is_empty() {
            continue;
        }
        let app_lock = state.store.app_lock(&app.id).await?;
        let change = Change {
            team_id: &invocation.team_id,
            pipeline,
            stage,
            app_name: Some(&app.name),
            user_id: &invocation.user_id,
            forced: false,
            now,
        };
        let stage_lock = locks::lock_on(state, change).await?;
        let name = escape(&app.name);
        lines.push(match holder_words(app_lock.as_ref(), stage_lock.as_ref()) {
            Some(holder) => format!("{name}, held by {holder}:"),
            None => format!("{name}, free (the first starts in a moment):"),
        });
        lines.extend(line.iter().map(|entry| {
            format!(
                "{}. {}, queued at {} UTC",
                entry.position,
                entry_words(entry),
                clock_time(entry.queued_at)
            )
        }));
    }
    Ok(lines)
}

/// Answers `/h dequeue <pipeline> [in <stage>[/<app>]]`: the asker's own entries only.
pub async fn dequeue(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    target: Option<Target>,
) -> Reply {
    let (team, user) = (&invocation.team_id, &invocation.user_id);
    let mine = match state.store.queued_deploys_of(team, pipeline, user).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot read the queue");
            return Reply::ephemeral(DATABASE_TROUBLE);
        }
    };
    let mine: Vec<DeployRow> = (mine.into_iter())
        .filter(|d| target.as_ref().is_none_or(|t| is_in(d, t)))
        .collect();
    let scope = scope(pipeline, target.as_ref());
    if mine.is_empty() {
        return Reply::ephemeral(format!("You have nothing waiting in line for {scope}."));
    }
    let now = state.clock.now_millis();
    let reason = format!("taken out of the line by <@{user}>");
    let mut told = Vec::new();
    for d in &mine {
        match state.store.leave_queue(d.id, now, &reason, &[]).await {
            Ok(true) => told.push(taken_out(d)),
            // Its turn came meanwhile: it is a deploy now, not a place in line.
            Ok(false) => {}
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "cannot leave the queue");
                return Reply::ephemeral(DATABASE_TROUBLE);
            }
        }
    }
    if told.is_empty() {
        return Reply::ephemeral(format!(
            "Your deploy for {scope} is no longer in line: its turn came."
        ));
    }
    Reply::ephemeral(told.join("\n"))
}

/// The Cancel button of a queued answer: its requester takes it out of the line.
pub async fn dequeue_pressed(state: &BotState, press: &Press) -> anyhow::Result<()> {
    let Some(d) = pressed_deploy(state, press).await? else {
        let text =
            "I can't find the deploy this button was for; `/h queue <pipeline>` shows the line.";
        return confirm::answer(state, press, 0, text).await;
    };
    let text = if d.user_id != press.user_id {
        format!(
            "Only <@{}> can take their deploy out of the line.",
            d.user_id
        )
    } else if d.state == DeployState::Queued {
        let said = taken_out(&d);
        let told = confirm::message(state, press, d.id, &said)?;
        let (now, reason) = (
            state.clock.now_millis(),
            format!("taken out of the line by <@{}>", press.user_id),
        );
        if state.store.leave_queue(d.id, now, &reason, &[told]).await? {
            return Ok(());
        }
        no_longer_queued()
    } else {
        no_longer_queued()
    };
    confirm::answer(state, press, d.id, &text).await
}

/// The Queue it button of a busy refusal: the same deploy, asked again by its
/// requester, waiting in line this time.
pub async fn queue_pressed(state: &BotState, press: &Press) -> anyhow::Result<()> {
    let found = (pressed_deploy(state, press).await?).filter(|d| d.kind == DeployKind::Deploy);
    let Some(refused) = found else {
        let text = "I can't find the deploy this button was for; add `queue` to the command, like `/h deploy paipu to staging queue`.";
        return confirm::answer(state, press, 0, text).await;
    };
    if refused.user_id != press.user_id {
        let text = format!(
            "Only <@{}> can queue this deploy; add `queue` to your own `/h deploy` to wait in line.",
            refused.user_id
        );
        return confirm::answer(state, press, refused.id, &text).await;
    }
    let invocation = Invocation {
        team_id: press.team_id.clone(),
        channel_id: refused.channel_id.clone(),
        user_id: press.user_id.clone(),
        response_url: press.response_url.clone(),
        text: String::new(),
    };
    let request = DeployRequest {
        pipeline: refused.pipeline.clone(),
        branch: refused.branch.clone(),
        target: (refused.stage.as_deref().and_then(Stage::from_word)).map(|stage| Target {
            stage,
            app: refused.app_name.clone(),
        }),
        two_factor_code: None,
        forced: refused.forced,
        queue: true,
    };
    let reply = requested::deploy(state, &invocation, request).await;
    confirm::answer(state, press, refused.id, &reply.text).await
}

/// The deploy of this team a button carries the id of.
async fn pressed_deploy(state: &BotState, press: &Press) -> anyhow::Result<Option<DeployRow>> {
    let found = match press.value.parse::<i64>() {
        Ok(id) => state.store.deploy(id).await?,
        Err(_) => None,
    };
    Ok(found.filter(|d| d.team_id == press.team_id))
}

fn no_longer_queued() -> String {
    "That deploy is no longer in line: its turn came, or it left.".to_owned()
}

/// `Took your deploy of paipu/feature-x to paipu-app-staging out of the line. ...`
fn taken_out(d: &DeployRow) -> String {
    format!(
        "Took your deploy of {} to {} out of the line; nothing was deployed.",
        what(&d.pipeline, d.branch.as_deref()),
        escape(d.app_name.as_deref().unwrap_or("its app"))
    )
}

/// Whether queued deploy `d` goes where `target` says.
fn is_in(d: &DeployRow, target: &Target) -> bool {
    d.stage.as_deref() == Some(target.stage.as_str())
        && (target.app.as_ref()).is_none_or(|app| d.app_name.as_deref() == Some(app.as_str()))
}

/// `paipu`, `paipu in staging`, `paipu in staging/app2`.
fn scope(pipeline: &str, target: Option<&Target>) -> String {
    match target {
        Some(target) => format!("{pipeline} in {target}"),
        None => pipeline.to_owned(),
    }
}
