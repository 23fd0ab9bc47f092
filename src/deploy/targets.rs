//! A promotion after its launch: each target app goes releasing -> restarting ->
//! promoted on its own, with a thread reply at each move. The parent follows the
//! slowest target; the promotion is promoted once every target is, and failed once
//! every target has settled and any of them failed.

use super::StepError;
use super::gate::Tokens;
use super::messages::{self, Chapter};
use super::promote::promoted_release;
use super::steps::{Outcome, enter, fail, github_status, wait};
use super::watch::{Verdict, dynos_verdict, release_verdict};
use crate::bot::BotState;
use crate::github::DeploymentState;
use crate::store::{DeployRow, DeployState, DeployTarget, MessageKind};

/// releasing / restarting -> promoted, one look at every unsettled target.
pub(super) async fn watch(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let mut targets = app.store.deploy_targets(d.id).await?;
    let mut posts = Vec::new();
    for target in targets.iter_mut().filter(|t| !settled(t)) {
        if let Some(told) = advance(app, d, tokens, target).await? {
            let reply = messages::app_reply(d, &target.app_name, told, now);
            posts.push((MessageKind::Reply, reply));
        }
    }
    if targets.iter().all(settled) {
        return finish(app, d, tokens, targets, posts, now).await;
    }
    let slowest = if targets.iter().any(|t| t.state == DeployState::Releasing) {
        (DeployState::Releasing, Chapter::Releasing)
    } else {
        (DeployState::Restarting, Chapter::Restarting)
    };
    if slowest.0 == d.state {
        wait(app, d, now, "the promotion")?;
    } else {
        enter(d, slowest.0, now);
        posts.push((
            MessageKind::UpdateParent,
            messages::parent(d, slowest.1, now),
        ));
    }
    Ok(Outcome {
        posts,
        targets,
        ..Outcome::default()
    })
}

fn settled(target: &DeployTarget) -> bool {
    [DeployState::Promoted, DeployState::Failed].contains(&target.state)
}

/// Moves `target` on when Heroku says it moved; returns the chapter to tell.
async fn advance(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    target: &mut DeployTarget,
) -> Result<Option<Chapter>, StepError> {
    let Some(release_id) = release_of(app, d, tokens, target).await? else {
        return Ok(None);
    };
    let (verdict, next, told) = if target.state == DeployState::Releasing {
        let verdict = release_verdict(app, tokens, &target.app_name, &release_id).await?;
        (verdict, DeployState::Restarting, Chapter::Restarting)
    } else {
        let verdict =
            dynos_verdict(app, tokens, &target.app_name, &release_id, &d.pipeline).await?;
        (verdict, DeployState::Promoted, Chapter::Done)
    };
    match verdict {
        Verdict::Pending => Ok(None),
        Verdict::Succeeded => {
            target.state = next;
            Ok(Some(told))
        }
        Verdict::Failed(reason, _) => {
            target.state = DeployState::Failed;
            target.failure = Some(reason);
            Ok(None)
        }
    }
}

/// The release the promotion made on `target`: known, read from the promotion's
/// targets, or (a promotion found after a crash) recognised among the app's releases.
async fn release_of(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    target: &mut DeployTarget,
) -> Result<Option<String>, StepError> {
    if target.release_id.is_none() {
        target.release_id = match &d.promotion_id {
            Some(promotion_id) => app
                .heroku
                .promotion_targets(tokens.heroku, promotion_id)
                .await
                .map_err(|e| StepError::from_heroku("read the promotion's targets", e))?
                .into_iter()
                .find(|t| t.app.id == target.app_id)
                .and_then(|t| t.release)
                .map(|release| release.id),
            None => promoted_release(app, d, tokens, target).await?,
        };
    }
    Ok(target.release_id.clone())
}

/// Every target settled: promoted, or failed with each failed target's reason.
async fn finish(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    targets: Vec<DeployTarget>,
    mut posts: Vec<(MessageKind, crate::outbox::Post)>,
    now: i64,
) -> Result<Outcome, StepError> {
    let failures: Vec<String> = targets
        .iter()
        .filter(|t| t.state == DeployState::Failed)
        .map(|t| {
            format!(
                "{}: {}",
                crate::chat::escape(&t.app_name),
                t.failure.as_deref().unwrap_or("failed")
            )
        })
        .collect();
    if !failures.is_empty() {
        let mut outcome = fail(app, d, &failures.join("; "), None, now).await;
        posts.append(&mut outcome.posts);
        return Ok(Outcome {
            posts,
            targets,
            ..outcome
        });
    }
    github_status(app, d, tokens, DeploymentState::Success, "Promoted").await?;
    enter(d, DeployState::Promoted, now);
    d.finished_at = Some(now);
    posts.push((
        MessageKind::UpdateParent,
        messages::parent(d, Chapter::Done, now),
    ));
    Ok(Outcome {
        posts,
        targets,
        finished: true,
        ..Outcome::default()
    })
}
