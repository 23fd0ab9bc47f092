//! Production confirmation. A deploy, promotion or rollback in `production` stops,
//! once resolved and gated (planned, for a rollback), in `confirming`: the requester
//! alone gets a summary of what would change (the repository it builds from, since
//! `/h connect` can change it, and GitHub's compare between what production runs and
//! what would run; the two versions, for a rollback) with Deploy, Promote or Roll back
//! and Cancel buttons, good for [`CONFIRM_WINDOW`]. The buttons arrive at
//! `/slack/interactions` ([`pressed`]); the stored row is the confirmation, so it
//! survives restarts and works once.

use std::time::Duration;

use super::StepError;
use super::gate::Tokens;
use super::messages::subject;
use super::notes;
use super::steps::Outcome;
use crate::bot::BotState;
use crate::chat::{CANCEL_ACTION, CONFIRM_ACTION, Press, clock_time, short_sha};
use crate::github::RepoName;
use crate::outbox::{self, Post};
use crate::slack::api::{Button, ButtonStyle, Message};
use crate::store::{DeployKind, DeployRow, DeployState, MessageKind, NewMessage};

/// How long the buttons work.
pub const CONFIRM_WINDOW: Duration = Duration::from_secs(5 * 60);

/// What production runs now and what would run instead.
pub struct Change<'a> {
    pub repo: &'a RepoName,
    pub running: Option<&'a str>,
    pub shipping: &'a str,
}

/// Whether `d` must be confirmed before it touches `stage`.
pub(super) fn needed(app: &BotState, d: &DeployRow, stage: &str) -> bool {
    stage == "production" && app.config.production_confirm && !d.confirmed
}

/// -> confirming: sends the requester `summary` (what would change) and the buttons.
pub(super) fn ask(d: &mut DeployRow, summary: &str, now: i64) -> Outcome {
    let expires = now + CONFIRM_WINDOW.as_millis() as i64;
    d.state = DeployState::Confirming;
    (d.confirm_expires_at, d.next_check_at) = (Some(expires), expires);
    let title = format!("{} {}?", verb(d), subject(d));
    let message = Message::text(title.clone())
        .section(format!("*{title}*\n{summary}"))
        .context([format!(
            "This confirmation expires at {} UTC.",
            clock_time(expires)
        )])
        .actions(
            format!("confirm:{}", d.id),
            vec![
                Button::new(CONFIRM_ACTION, verb(d), d.id.to_string()).style(ButtonStyle::Primary),
                Button::new(CANCEL_ACTION, "Cancel", d.id.to_string()),
            ],
        );
    let post = Post {
        message,
        broadcast: false,
        response_url: Some(d.response_url.clone()),
        ephemeral_to: Some(d.user_id.clone()),
    };
    Outcome {
        posts: vec![(MessageKind::Response, post)],
        ..Outcome::default()
    }
}

fn verb(d: &DeployRow) -> &'static str {
    match d.kind {
        DeployKind::Deploy => "Deploy",
        DeployKind::Promote => "Promote",
        DeployKind::Rollback => "Roll back",
    }
}

/// A deploy's or promotion's summary: the repository it builds from and the commits
/// between what runs and what would.
pub(super) async fn changes(
    app: &BotState,
    tokens: &Tokens<'_>,
    change: &Change<'_>,
) -> Result<String, StepError> {
    let commits = commits(app, tokens, change).await?;
    Ok(format!("Repository: {}\n{commits}", change.repo))
}

/// The commits between what runs and what would, as the summary lists them.
async fn commits(
    app: &BotState,
    tokens: &Tokens<'_>,
    change: &Change<'_>,
) -> Result<String, StepError> {
    let shipping = short_sha(change.shipping);
    let Some(running) = change.running else {
        return Ok(format!(
            "Production runs no release I can trace to a commit; this ships {shipping}."
        ));
    };
    if running == change.shipping {
        return Ok(format!(
            "Production already runs {shipping}: no new commits."
        ));
    }
    let compared = app
        .github
        .compare(tokens.github, change.repo, running, change.shipping)
        .await;
    match compared {
        Ok(comparison) => Ok(notes::listed(&comparison, short_sha(running), shipping)),
        Err(error) if error.is_transient() => Err(StepError::from_github("compare commits", error)),
        Err(_) => Ok(format!(
            "GitHub can't compare what production runs ({}) with {shipping}, so I can't list the commits.",
            short_sha(running)
        )),
    }
}

/// A confirming row whose time ran out: it ends, having done nothing. Woken before
/// then (a webhook of another deploy of its app), it goes on waiting.
pub(super) fn expire(d: &mut DeployRow, now: i64) -> Outcome {
    if let Some(expires) = d.confirm_expires_at.filter(|&expires| expires > now) {
        d.next_check_at = expires;
        return Outcome::default();
    }
    let at = clock_time(d.confirm_expires_at.unwrap_or(now));
    d.state = DeployState::Failed;
    d.failure = Some(format!(
        "the confirmation expired at {at} UTC; nothing was done"
    ));
    // `confirm_expires_at` stays: a press after this is told it expired.
    (d.finished_at, d.two_factor_code) = (Some(now), None);
    Outcome {
        finished: true,
        ..Outcome::default()
    }
}

const ALREADY_ANSWERED: &str =
    "This confirmation was already answered; run the command again to start over.";

/// Answers a press: confirms, cancels, or says why it can't.
pub async fn pressed(app: &BotState, press: &Press) -> anyhow::Result<()> {
    let now = app.clock.now_millis();
    let found = match press.value.parse::<i64>() {
        Ok(id) => app.store.deploy(id).await?,
        Err(_) => None,
    };
    let Some(d) = found.filter(|d| d.team_id == press.team_id) else {
        return answer(
            app,
            press,
            0,
            "I can't find what this button was for; run the command again.",
        )
        .await;
    };
    let text = if press.user_id != d.user_id {
        format!("Only <@{}> can confirm this.", d.user_id)
    } else if d.confirm_expires_at.is_some_and(|at| at <= now) {
        expired(&d, now)
    } else if d.state != DeployState::Confirming {
        ALREADY_ANSWERED.into()
    } else if press.action_id == CANCEL_ACTION {
        let reason = format!("cancelled by <@{}>", press.user_id);
        let said = format!("Cancelled: {} was not started.", subject(&d));
        if app
            .store
            .cancel_deploy(d.id, now, &reason, &message(app, press, d.id, &said)?)
            .await?
        {
            return Ok(());
        }
        ALREADY_ANSWERED.into()
    } else {
        let said = format!(
            "Confirmed: {} is starting. Progress will show in this channel.",
            subject(&d)
        );
        if app
            .store
            .confirm_deploy(d.id, now, &message(app, press, d.id, &said)?)
            .await?
        {
            app.wakeups.deploys.notify_one();
            return Ok(());
        }
        expired(&d, now)
    };
    answer(app, press, d.id, &text).await
}

fn expired(d: &DeployRow, now: i64) -> String {
    format!(
        "This confirmation expired at {}; run the command again.",
        clock_time(d.confirm_expires_at.unwrap_or(now))
    )
}

/// An ephemeral answer to whoever pressed, through the outbox.
pub(super) async fn answer(
    app: &BotState,
    press: &Press,
    deploy_id: i64,
    text: &str,
) -> anyhow::Result<()> {
    let message = message(app, press, deploy_id, text)?;
    app.store
        .queue_messages(&[message], app.clock.now_millis())
        .await?;
    Ok(())
}

pub(super) fn message(
    app: &BotState,
    press: &Press,
    deploy_id: i64,
    text: &str,
) -> anyhow::Result<NewMessage> {
    let url = outbox::seal_response_url(&app.vault, &press.team_id, &press.response_url);
    let post = Post {
        message: Message::text(text),
        broadcast: false,
        response_url: Some(url),
        ephemeral_to: Some(press.user_id.clone()),
    };
    outbox::queued(
        &press.team_id,
        "",
        &outbox::deploy_thread(deploy_id),
        MessageKind::Response,
        &post,
    )
}
