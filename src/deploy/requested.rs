//! `/h deploy`, `/h promote`, `/h rollback` (and the Rollback button of a failed
//! deploy): what happens in the 3 seconds Slack gives a command.
//! Each is checked for linked accounts, stored as `requested` and acknowledged; the
//! worker does the rest and tells the channel.

use super::confirm;
use super::start::two_factor_context;
use crate::chat::Press;

use crate::bot::BotState;
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::command::{DeployRequest, PromoteRequest, RollbackRequest, Stage, Target};
use crate::outbox;
use crate::store::{DeployKind, DeployRow, DeployState};

/// Starts a deploy, or says why it cannot start.
pub async fn deploy(state: &BotState, invocation: &Invocation, request: DeployRequest) -> Reply {
    let mut row = new_row(
        invocation,
        DeployKind::Deploy,
        &request.pipeline,
        state.clock.now_millis(),
    );
    row.branch = request.branch.clone();
    (row.stage, row.app_name) = split(request.target.as_ref());
    row.forced = request.forced;
    row.queue_if_busy = request.queue;
    let code = request.two_factor_code.as_deref();
    submit(state, invocation, row, code, acknowledgement(&request)).await
}

/// Starts a promotion, or says why it cannot start.
pub async fn promote(state: &BotState, invocation: &Invocation, request: PromoteRequest) -> Reply {
    let mut row = new_row(
        invocation,
        DeployKind::Promote,
        &request.pipeline,
        state.clock.now_millis(),
    );
    (row.stage, row.app_name) = split(request.to.as_ref());
    (row.source_stage, row.source_app) = split(request.from.as_ref());
    row.forced = request.forced;
    let mut what = request.pipeline.clone();
    if let Some(from) = &request.from {
        what.push_str(&format!(" from {from}"));
    }
    match &request.to {
        Some(to) => what.push_str(&format!(" to {to}")),
        None => what.push_str(" to production"),
    }
    let ack = format!(
        "On it: promoting {what}.{} Progress will show in this channel.",
        forced_note(request.forced)
    );
    submit(
        state,
        invocation,
        row,
        request.two_factor_code.as_deref(),
        ack,
    )
    .await
}

/// Starts a rollback, or says why it cannot start.
pub async fn rollback(
    state: &BotState,
    invocation: &Invocation,
    request: RollbackRequest,
) -> Reply {
    let mut row = new_row(
        invocation,
        DeployKind::Rollback,
        &request.pipeline,
        state.clock.now_millis(),
    );
    (row.stage, row.app_name) = split(request.target.as_ref());
    row.source_version = request.version.map(i64::from);
    row.forced = request.forced;
    let stage = request
        .target
        .as_ref()
        .map_or("production".to_owned(), ToString::to_string);
    let version = request
        .version
        .map_or("the previous release".to_owned(), |v| format!("v{v}"));
    let ack = format!(
        "On it: rolling back {} in {stage} to {version}. Progress will show in this channel.",
        request.pipeline
    );
    submit(
        state,
        invocation,
        row,
        request.two_factor_code.as_deref(),
        ack,
    )
    .await
}

/// Checks the person is linked, stores the row as `requested` and acknowledges it.
async fn submit(
    state: &BotState,
    invocation: &Invocation,
    mut row: DeployRow,
    two_factor_code: Option<&str>,
    acknowledgement: String,
) -> Reply {
    if let Err(not_linked) =
        crate::accounts::linked(state, &invocation.team_id, &invocation.user_id).await
    {
        return not_linked.reply(state, invocation).await;
    }
    row.two_factor_code =
        two_factor_code.map(|code| state.vault.seal(code, &two_factor_context(&row)));
    row.response_url = outbox::seal_response_url(&state.vault, &row.team_id, &row.response_url);
    match state.store.insert_deploy(&row).await {
        Ok(id) => {
            tracing::info!(deploy = id, kind = %row.kind, pipeline = %row.pipeline, "deploy requested");
            state.wakeups.deploys.notify_one();
            Reply::ephemeral(acknowledgement)
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot store a deploy");
            Reply::ephemeral(
                "I could not record that (the database did not answer), so nothing was started. Try again in a minute.",
            )
        }
    }
}

/// A target's stage and app, as stored.
fn split(target: Option<&Target>) -> (Option<String>, Option<String>) {
    (
        target.map(|target| target.stage.as_str().to_owned()),
        target.and_then(|target| target.app.clone()),
    )
}

fn new_row(invocation: &Invocation, kind: DeployKind, pipeline: &str, now: i64) -> DeployRow {
    DeployRow {
        id: 0,
        team_id: invocation.team_id.clone(),
        channel_id: invocation.channel_id.clone(),
        user_id: invocation.user_id.clone(),
        response_url: invocation.response_url.clone(),
        pipeline: pipeline.to_owned(),
        branch: None,
        stage: None,
        app_name: None,
        forced: false,
        two_factor_code: None,
        state: DeployState::Requested,
        app_id: None,
        repo: None,
        git_ref: None,
        sha: None,
        github_deployment_id: None,
        build_id: None,
        release_id: None,
        failure: None,
        created_at: now,
        stage_started_at: now,
        finished_at: None,
        next_check_at: now,
        kind,
        source_stage: None,
        source_app: None,
        source_version: None,
        replaced_version: None,
        replaced_sha: None,
        promotion_id: None,
        confirmed: false,
        confirm_expires_at: None,
        promotion_requested_at: None,
        queue_if_busy: false,
        queued_at: None,
    }
}

fn forced_note(forced: bool) -> &'static str {
    if forced {
        " CI checks are skipped (forced)."
    } else {
        ""
    }
}

/// `On it: deploying paipu/feature-x to staging/app2. ...`
fn acknowledgement(request: &DeployRequest) -> String {
    let mut what = request.pipeline.clone();
    if let Some(branch) = &request.branch {
        what.push_str(&format!("/{branch}"));
    }
    match &request.target {
        Some(target) => what.push_str(&format!(" to {target}")),
        None => what.push_str(" to its default stage"),
    }
    let waits = if request.queue {
        ", waiting in line if the app is busy"
    } else {
        ""
    };
    format!(
        "On it: deploying {what}{waits}.{} Progress will show in this channel.",
        forced_note(request.forced)
    )
}

/// The Rollback button of a failed deploy's card: `/h rollback <pipeline> in
/// <stage>/<app>` as whoever pressed it, answered to them alone.
pub async fn rollback_pressed(state: &BotState, press: &Press) -> anyhow::Result<()> {
    let found = match press.value.parse::<i64>() {
        Ok(id) => state.store.deploy(id).await?,
        Err(_) => None,
    };
    let Some((failed, stage)) = found.filter(|d| d.team_id == press.team_id).and_then(|d| {
        d.stage
            .as_deref()
            .and_then(Stage::from_word)
            .map(|stage| (d, stage))
    }) else {
        let text = "I can't find the deploy this button was for; use `/h rollback <pipeline>`.";
        return confirm::answer(state, press, 0, text).await;
    };
    let invocation = Invocation {
        team_id: press.team_id.clone(),
        channel_id: failed.channel_id.clone(),
        user_id: press.user_id.clone(),
        response_url: press.response_url.clone(),
        text: String::new(),
    };
    let request = RollbackRequest {
        pipeline: failed.pipeline.clone(),
        target: Some(Target {
            stage,
            app: failed.app_name.clone(),
        }),
        version: None,
        two_factor_code: None,
        forced: false,
    };
    let reply = rollback(state, &invocation, request).await;
    confirm::answer(state, press, failed.id, &reply.text).await
}
