//! The deploy queue inside the state machine. An app is busy when a lock stops the
//! deploy, another deploy holds the app, or others already wait in its line. A busy
//! app refuses a deploy with a Queue it button, or, when the deploy asked to wait
//! (`/h deploy ... queue`), puts it in line as `queued` ([`hold`]). A queued deploy
//! takes its turn ([`turn`]) when it heads its app's line and the app is free: it
//! becomes `requested` holding the app, and starts as any deploy does, reading its
//! branch's head then, gated by CI and confirmed in production. It leaves the line
//! if its turn has not come within `DEPLOY_QUEUE_TTL_MS`.

use super::StepError;
use super::gate::{self, Place};
use super::start::{deploying, request};
use super::steps::{Outcome, enter, fail};
use crate::bot::BotState;
use crate::chat::{DEQUEUE_ACTION, QUEUE_ACTION, clock_time, escape, ordinal, short_sha};
use crate::locks::{self, Change};
use crate::outbox::Post;
use crate::slack::api::{Button, ButtonStyle, Message};
use crate::store::{AppLock, DeployRow, DeployState, MessageKind, QueueEntry, StageLock};

/// Why an app cannot take a deploy now.
struct Busy {
    /// The refusal, for a deploy that did not ask to wait.
    refusal: String,
    /// Whether waiting in line can help (not behind one's own lock).
    offer: bool,
    /// The line as it is, next first.
    line: Vec<QueueEntry>,
    /// The entries ahead of this deploy.
    ahead: usize,
    app_lock: Option<AppLock>,
    stage_lock: Option<StageLock>,
}

/// `None` when `d` may go to `place` now; otherwise the step's outcome: `d` refused
/// (with a Queue it button), or in line and told its place.
pub(super) async fn hold(
    app: &BotState,
    d: &mut DeployRow,
    place: &Place,
    now: i64,
) -> Result<Option<Outcome>, StepError> {
    let Some(busy) = busy(app, d, place, now).await? else {
        return Ok(None);
    };
    if !d.queue_if_busy {
        let mut refused = fail(app, d, &busy.refusal, None, now).await;
        if busy.offer {
            // Nothing was announced yet: the one post is the answer to the requester.
            refused.posts = vec![(MessageKind::Response, offer(d, &busy.refusal))];
        }
        return Ok(Some(refused));
    }
    if let Some(mine) = busy
        .line
        .iter()
        .find(|e| e.user_id == d.user_id && e.deploy_id != d.id)
    {
        let refusal = format!(
            "You are already in line for {} ({}). Take that deploy out with `/h dequeue {} in {}` to queue another.",
            escape(&place.app_name),
            ordinal(mine.position),
            d.pipeline,
            place.stage
        );
        return Ok(Some(fail(app, d, &refusal, None, now).await));
    }
    Ok(Some(enqueue(app, d, place, &busy, now)))
}

/// Why `d` cannot go to `place` now, if it cannot.
async fn busy(
    app: &BotState,
    d: &DeployRow,
    place: &Place,
    now: i64,
) -> Result<Option<Busy>, StepError> {
    let change = Change::by(d, &place.stage, &place.app_name, now);
    let blocking = locks::blocking(app, change).await?;
    let line = app.store.queue_of_app(&d.team_id, &place.app_id).await?;
    let ahead = line.iter().filter(|e| is_ahead(e, d)).count();
    let app_lock = (app.store.app_lock(&place.app_id).await?).filter(|l| l.deploy_id != d.id);
    let (refusal, offer) = match (&blocking, &app_lock) {
        (Some((lock, refusal)), _) => (refusal.clone(), lock.owner_id != d.user_id),
        (None, Some(holder)) => (deploying(holder), true),
        (None, None) if ahead > 0 => (waiting(d, place, &line[0]), true),
        (None, None) => return Ok(None),
    };
    Ok(Some(Busy {
        refusal,
        offer,
        line,
        ahead,
        app_lock,
        stage_lock: blocking.map(|(lock, _)| lock),
    }))
}

/// Whether `entry` is ahead of `d` in line (everyone is, until `d` joins it).
fn is_ahead(entry: &QueueEntry, d: &DeployRow) -> bool {
    match d.queued_at {
        None => entry.deploy_id != d.id,
        Some(at) => (entry.queued_at, entry.deploy_id) < (at, d.id),
    }
}

/// The refusal when only the line is in the way.
fn waiting(d: &DeployRow, place: &Place, next: &QueueEntry) -> String {
    format!(
        "Others are waiting in line for {} (next: {}), so yours would go behind them. Queue it, or see the line with `/h queue {} in {}`.",
        escape(&place.app_name),
        entry_words(next),
        d.pipeline,
        place.stage
    )
}

/// -> queued: `d` joins the line of `place` (keeping its place if it had one) and its
/// requester is told where, with a Cancel button.
fn enqueue(app: &BotState, d: &mut DeployRow, place: &Place, busy: &Busy, now: i64) -> Outcome {
    let queued_at = *d.queued_at.get_or_insert(now);
    d.state = DeployState::Queued;
    (d.stage, d.app_id, d.app_name) = (
        Some(place.stage.clone()),
        Some(place.app_id.clone()),
        Some(place.app_name.clone()),
    );
    let leaves = queued_at + app.config.deploy_queue_ttl.as_millis() as i64;
    d.next_check_at = (now + app.config.poll_interval.as_millis() as i64).min(leaves);
    let position = busy
        .line
        .get(busy.ahead.wrapping_sub(1))
        .map_or(1, |e| e.position + 1);
    let behind = match busy.ahead {
        0 => holder_words(busy.app_lock.as_ref(), busy.stage_lock.as_ref()),
        n => Some(entry_words(&busy.line[n - 1])),
    };
    let behind = behind.map_or_else(|| ", next to start".to_owned(), |b| format!(", behind {b}"));
    let text = format!(
        "{} in line for {}{behind}. It starts when the app is free, with its branch's head at that time, or leaves the line at {} UTC.",
        ordinal(position),
        escape(&place.app_name),
        clock_time(leaves)
    );
    let cancel = Button::new(DEQUEUE_ACTION, "Cancel", d.id.to_string());
    let post = Post {
        message: Message::text(text.clone())
            .section(text)
            .actions(format!("queued:{}", d.id), vec![cancel]),
        broadcast: false,
        response_url: Some(d.response_url.clone()),
        ephemeral_to: None,
    };
    Outcome {
        posts: vec![(MessageKind::Response, post)],
        // After a turn taken and lost to a new lock, the app is given back.
        release_lock: true,
        ..Outcome::default()
    }
}

/// A queued deploy's check: it leaves the line when its time is up, takes its turn
/// when it heads the line and the app is free, and waits otherwise.
pub(super) async fn turn(
    app: &BotState,
    d: &mut DeployRow,
    now: i64,
) -> Result<Outcome, StepError> {
    let queued_at = d.queued_at.unwrap_or(d.created_at);
    let leaves = queued_at + app.config.deploy_queue_ttl.as_millis() as i64;
    if now >= leaves {
        return Ok(expire(d, leaves, now));
    }
    let (stage, app_name) = (
        d.stage.clone().unwrap_or_default(),
        d.app_name.clone().unwrap_or_default(),
    );
    let locked = locks::blocking(app, Change::by(d, &stage, &app_name, now)).await?;
    if locked.is_none() && app.store.take_turn(d, now).await? {
        tracing::info!(deploy = d.id, app = %app_name, "a queued deploy takes its turn");
        enter(d, DeployState::Requested, now);
        return Ok(Outcome::default());
    }
    d.next_check_at = (now + app.config.poll_interval.as_millis() as i64).min(leaves);
    Ok(Outcome::default())
}

/// -> failed: the turn did not come in time. The requester is told in the channel
/// (their command's `response_url` is good for 30 minutes only).
fn expire(d: &mut DeployRow, left_at: i64, now: i64) -> Outcome {
    let app_name = escape(d.app_name.as_deref().unwrap_or(&d.pipeline));
    let at = clock_time(left_at);
    d.state = DeployState::Failed;
    d.failure = Some(format!(
        "left the line at {at} UTC without its turn; nothing was deployed"
    ));
    (d.finished_at, d.two_factor_code) = (Some(now), None);
    let text = format!(
        "<@{}> your deploy of {} to {app_name} waited in line until {at} UTC without its turn, so it left the line: nothing was deployed. `/h deploy {} queue` queues it again.",
        d.user_id,
        what(d.pipeline.as_str(), d.branch.as_deref()),
        gate::request_echo(request(d))
    );
    let post = Post {
        message: Message::text(text.clone()).section(text),
        broadcast: false,
        response_url: None,
        ephemeral_to: None,
    };
    Outcome {
        posts: vec![(MessageKind::Parent, post)],
        finished: true,
        ..Outcome::default()
    }
}

/// For a deploy that waited in line, the thread reply that tells its requester it
/// started and which commit it read.
pub(super) fn turn_came(d: &DeployRow) -> Option<Post> {
    d.queued_at?;
    let text = format!(
        "<@{}> your turn came: deploying {} at {}, its head now.",
        d.user_id,
        escape(d.git_ref.as_deref().unwrap_or("?")),
        short_sha(d.sha.as_deref().unwrap_or("?"))
    );
    Some(Post {
        message: Message::text(text.clone()).section(text),
        broadcast: false,
        response_url: None,
        ephemeral_to: None,
    })
}

/// A refusal for a busy app, with the Queue it button.
fn offer(d: &DeployRow, refusal: &str) -> Post {
    let queue_it =
        Button::new(QUEUE_ACTION, "Queue it", d.id.to_string()).style(ButtonStyle::Primary);
    Post {
        message: Message::text(refusal)
            .section(refusal)
            .actions(format!("busy:{}", d.id), vec![queue_it]),
        broadcast: false,
        response_url: Some(d.response_url.clone()),
        ephemeral_to: None,
    }
}

/// What holds an app: `<@U0BRUNO>'s deploy of 576d16a9`, `<@U0BRUNO>'s lock on paipu
/// staging`; `None` when nothing does (the line's head is about to start).
pub(super) fn holder_words(
    app_lock: Option<&AppLock>,
    stage_lock: Option<&StageLock>,
) -> Option<String> {
    Some(match (app_lock, stage_lock) {
        (Some(lock), _) if lock.sha.is_empty() => {
            format!("<@{}>'s deploy, starting now", lock.user_id)
        }
        (Some(lock), _) => format!("<@{}>'s deploy of {}", lock.user_id, short_sha(&lock.sha)),
        (None, Some(lock)) => format!(
            "<@{}>'s lock on {} {}",
            lock.owner_id, lock.pipeline, lock.stage
        ),
        (None, None) => return None,
    })
}

/// `<@U0ALICE>'s deploy of paipu/feature-x`.
pub(super) fn entry_words(entry: &QueueEntry) -> String {
    format!(
        "<@{}>'s deploy of {}",
        entry.user_id,
        what(&entry.pipeline, entry.branch.as_deref())
    )
}

/// `paipu/feature-x` (the branch escaped), or `paipu` for its default branch.
pub(super) fn what(pipeline: &str, branch: Option<&str>) -> String {
    match branch {
        Some(branch) => format!("{pipeline}/{}", escape(branch)),
        None => pipeline.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{deploying, holder_words};
    use crate::chat::ordinal;
    use crate::store::AppLock;

    #[test]
    fn an_app_held_by_a_deploy_that_just_took_its_turn_reads_as_starting() {
        let mut lock = AppLock {
            app_id: "A1".into(),
            deploy_id: 7,
            app_name: "paipu-app-staging".into(),
            user_id: "U0ALICE".into(),
            sha: String::new(),
            since: (14 * 60 + 2) * 60_000,
        };
        assert_eq!(
            deploying(&lock),
            "<@U0ALICE> is deploying paipu-app-staging (since 14:02 UTC, starting). Try again when it is done."
        );
        assert_eq!(
            holder_words(Some(&lock), None).as_deref(),
            Some("<@U0ALICE>'s deploy, starting now")
        );
        lock.sha = "576d16a9e0c4b3f7a8d2e1c0b9a8f7e6d5c4b3a2".into();
        assert_eq!(
            deploying(&lock),
            "<@U0ALICE> is deploying paipu-app-staging (since 14:02 UTC, sha 576d16a9). Try again when it is done."
        );
        assert_eq!(
            holder_words(Some(&lock), None).as_deref(),
            Some("<@U0ALICE>'s deploy of 576d16a9")
        );
        assert_eq!(holder_words(None, None), None);
    }

    #[test]
    fn places_in_line_read_as_ordinals() {
        let words: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            words,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }
}
