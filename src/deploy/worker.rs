//! The loop that drives deploys: lease the due rows, advance each by one step, save
//! the step with its messages, repeat. Several processes can run it on one PostgreSQL:
//! leases make each deploy driven by one process at a time, and a lease left by a
//! crashed process expires and is taken over.

use tokio::sync::watch;

use super::steps;
use crate::bot::BotState;
use crate::outbox::{self, Post};
use crate::store::{MessageKind, NewMessage, StepSave};

/// Deploys advanced at once by one process.
const SLOTS: usize = 64;

/// Drives deploys until `stop` says so.
pub async fn run(state: BotState, stop: watch::Receiver<bool>) {
    let owner = format!("{}-{:08x}", std::process::id(), fastrand::u32(..));
    let wake = (&state.wakeups.deploys, state.config.poll_interval);
    let (state, owner) = (&state, &owner);
    let claim = |now, until, free| async move {
        (state.store.claim_due_deploys(owner, now, until, free).await).unwrap_or_else(|error| {
            tracing::error!(error = format!("{error:#}"), "claiming due deploys failed");
            Vec::new()
        })
    };
    let work = |id| {
        let (state, owner) = (state.clone(), owner.to_owned());
        async move {
            if let Err(error) = step(&state, &owner, id).await {
                tracing::error!(
                    deploy = id,
                    error = format!("{error:#}"),
                    "deploy step failed"
                );
            }
        }
    };
    state.lease().work_due(wake, stop, SLOTS, claim, work).await;
}

/// Deploy rows are leased for `deploy_lease`.
async fn step(state: &BotState, owner: &str, id: i64) -> anyhow::Result<()> {
    let Some(mut deploy) = state.store.deploy(id).await? else {
        anyhow::bail!("deploy {id} vanished");
    };
    let before = deploy.state;
    let now = state.clock.now_millis();
    // The lease is renewed while the step runs, so it can be short (a crashed process's
    // deploys are taken over quickly) without a slow step losing it halfway.
    let advance = steps::advance(state, &mut deploy, now);
    let renew = |until| state.store.renew_deploy_lease(id, owner, until);
    let lost = || anyhow::anyhow!("another process holds deploy {id}");
    let outcome = match state.lease().hold(advance, renew, lost).await {
        Ok(outcome) => outcome?,
        Err(lost) => {
            tracing::warn!(
                deploy = id,
                error = format!("{lost:#}"),
                "lost the lease mid-step; abandoning the step"
            );
            return Ok(());
        }
    };
    let mut messages: Vec<NewMessage> = outcome
        .posts
        .iter()
        .map(|(kind, post)| to_message(&deploy, *kind, post))
        .collect::<anyhow::Result<_>>()?;
    messages.extend(crate::channels::routed_copies(state, &deploy, &messages).await?);
    let save = StepSave {
        deploy: &deploy,
        owner,
        messages: &messages,
        targets: &outcome.targets,
        release_lock: outcome.finished || outcome.release_lock,
        now,
    };
    if !state.store.save_step(save).await? {
        tracing::warn!(
            deploy = id,
            "lost the lease; another process took this deploy over"
        );
        return Ok(());
    }
    if before != deploy.state {
        tracing::info!(deploy = id, from = %before, to = %deploy.state, "deploy moved");
        state.metrics.deploy_moved(before, deploy.state);
    }
    // A step that planned without acting (a promotion's targets, a rollback's
    // versions, a queued deploy's turn) is due again at once, and so is the line of
    // an app this step freed.
    let freed = outcome.finished || outcome.release_lock;
    if freed || (deploy.finished_at.is_none() && deploy.next_check_at <= now) {
        state.wakeups.deploys.notify_one();
    }
    Ok(())
}

/// The outbox row of one post of a deploy's thread.
fn to_message(
    deploy: &crate::store::DeployRow,
    kind: MessageKind,
    post: &Post,
) -> anyhow::Result<NewMessage> {
    outbox::queued(
        &deploy.team_id,
        &deploy.channel_id,
        &outbox::deploy_thread(deploy.id),
        kind,
        post,
    )
}
