//! `/h lock` and `/h unlock[!]`: checked against what the person can see on Heroku,
//! stored with their audit event, and said in the channel.

use super::{describe, target_of};
use crate::accounts::seen_by;
use crate::bot::BotState;
use crate::chat::Invocation;
use crate::chat::clock_time;
use crate::chat::{Reply, ResponseType};
use crate::command::{LockRequest, Target};
use crate::resolver::Asking;
use crate::store::{LockRemoval, StageLock};

const DATABASE_TROUBLE: &str = "I could not save that (the database did not answer), so nothing was changed. Try again in a minute.";

/// `/h lock <pipeline> <stage>[/<app>] [for <duration>] [<reason>]`.
pub async fn lock(state: &BotState, invocation: &Invocation, request: LockRequest) -> Reply {
    if let Err(reply) = check_target(state, invocation, &request.pipeline, &request.target).await {
        return reply;
    }
    let now = state.clock.now_millis();
    let wanted = StageLock {
        team_id: invocation.team_id.clone(),
        pipeline: request.pipeline.clone(),
        stage: request.target.stage.as_str().into(),
        app_name: request.target.app.clone().unwrap_or_default(),
        owner_id: invocation.user_id.clone(),
        channel_id: invocation.channel_id.clone(),
        reason: request.reason.clone(),
        since: now,
        expires_at: request
            .duration_secs
            .map(|secs| now + i64::try_from(secs).unwrap_or(i64::MAX / 2_000) * 1000),
    };
    let holder = match state.store.take_stage_lock(&wanted).await {
        Ok(holder) => holder,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot set a lock");
            return Reply::ephemeral(DATABASE_TROUBLE);
        }
    };
    if holder != wanted {
        return Reply::ephemeral(format!(
            "Already locked: {}. Only <@{}> can change it; `/h unlock! {}` removes it (the channel is told).",
            describe(&holder),
            holder.owner_id,
            target_of(&holder)
        ));
    }
    let until = wanted
        .expires_at
        .map(|end| format!(" until {} UTC", clock_time(end)))
        .unwrap_or_default();
    let reason = wanted
        .reason
        .as_ref()
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default();
    in_channel(format!(
        "<@{}> locked {target}{until}{reason}. Deploys, promotions and rollbacks there are \
         refused until it is unlocked (`/h unlock {target}`).",
        wanted.owner_id,
        target = target_of(&wanted),
    ))
}

/// `/h unlock[!] <pipeline> <stage>[/<app>]`: the owner's unlock, or anyone's with `!`.
pub async fn unlock(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    target: &Target,
    forced: bool,
) -> Reply {
    if let Err(reply) = check_target(state, invocation, pipeline, target).await {
        return reply;
    }
    let now = state.clock.now_millis();
    let app_name = target.app.clone().unwrap_or_default();
    let locks = match state
        .store
        .stage_locks(&invocation.team_id, pipeline, target.stage.as_str())
        .await
    {
        Ok(locks) => locks,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot read locks");
            return Reply::ephemeral(DATABASE_TROUBLE);
        }
    };
    let Some(lock) = locks
        .into_iter()
        .find(|lock| lock.app_name == app_name && lock.expires_at.is_none_or(|end| end > now))
    else {
        return Reply::ephemeral(format!(
            "{pipeline} {target} is not locked, so there is nothing to unlock."
        ));
    };
    let by_owner = lock.owner_id == invocation.user_id;
    if !by_owner && !forced {
        return Reply::ephemeral(format!(
            "{}. Only <@{}> can unlock it; `/h unlock! {}` removes it anyway (the channel is told).",
            describe(&lock),
            lock.owner_id,
            target_of(&lock)
        ));
    }
    let text = if by_owner {
        format!("<@{}> unlocked {}.", invocation.user_id, target_of(&lock))
    } else {
        format!(
            "<@{}> removed <@{}>'s lock on {}{}.",
            invocation.user_id,
            lock.owner_id,
            target_of(&lock),
            lock.reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )
    };
    remove(state, invocation, &lock, !by_owner, &text, now).await
}

/// Removes `lock` for the invoker; the lock's own channel is told too when it is not
/// this one.
async fn remove(
    state: &BotState,
    invocation: &Invocation,
    lock: &StageLock,
    forced: bool,
    text: &str,
    now: i64,
) -> Reply {
    let mut messages = Vec::new();
    if lock.channel_id != invocation.channel_id {
        let key = format!("unlock:{}:{}:{}", lock.team_id, lock.since, now);
        match crate::outbox::notice(&lock.team_id, &lock.channel_id, &key, text) {
            Ok(message) => messages.push(message),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "cannot word a notice"),
        }
    }
    let removal = LockRemoval {
        action: "unlocked",
        actor_id: Some(&invocation.user_id),
        forced,
        messages: &messages,
        now,
    };
    match state.store.remove_stage_lock(lock, removal).await {
        Ok(true) => {
            super::wake_queue(state, lock, now).await;
            in_channel(text)
        }
        Ok(false) => Reply::ephemeral(format!(
            "The lock on {} changed while I was removing it. Run the command again to see who holds it now.",
            target_of(lock)
        )),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot remove a lock");
            Reply::ephemeral(DATABASE_TROUBLE)
        }
    }
}

/// Refuses unless the person can see the pipeline and the stage (or app) has apps.
async fn check_target(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    target: &Target,
) -> Result<(), Reply> {
    let asking = Asking {
        command: "lock",
        preposition: "in",
    };
    let (_, layout) = seen_by(state, invocation, pipeline, asking).await?;
    let apps = layout.apps_of(target);
    apps.map_err(|problem| Reply::ephemeral(problem.to_string()))?;
    Ok(())
}

fn in_channel(text: impl Into<String>) -> Reply {
    Reply {
        response_type: ResponseType::InChannel,
        ..Reply::ephemeral(text)
    }
}
