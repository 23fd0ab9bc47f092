//! Deploys, promotions and rollbacks: from the command to Deployed (Promoted, Rolled
//! back), as one durable state machine. The three are kinds ([`crate::store::DeployKind`]) of the
//! same row, whose states are [`crate::store::DeployState`]s.
//!
//! A deploy is a row ([`crate::store::DeployRow`]), never just a task in memory. The
//! [`worker`] leases due rows and advances each by one idempotent [`steps`] call:
//! requested (resolve, gate, lock, GitHub deployment, Heroku build) -> building ->
//! releasing -> restarting -> deployed, or failed. External ids are saved before the
//! next step can observe them, and creating calls first look for what an interrupted
//! attempt may already have created, so a crash never builds twice. Every Slack post
//! goes through the outbox in the same transaction as the state change it tells, the
//! release notes ([`notes`]) first.
//! A promotion follows each of its target apps ([`targets`]); a rollback is a deploy
//! whose release is an earlier one's slug ([`rollback`]). Into production, each
//! first waits for the requester's confirmation ([`confirm`]). Which repository a
//! pipeline builds from is set, with the rights to do so checked, by [`connect`].
//! A deploy into a busy app may wait in its app's line as `queued` ([`queue`]) and
//! start, first come first served, when the app is free; [`line`] shows the line and
//! takes people's own deploys out of it.

pub mod confirm;
pub mod connect;
mod gate;
pub mod line;
pub mod messages;
mod notes;
mod promote;
mod queue;
pub mod requested;
mod rollback;
mod start;
mod steps;
mod targets;
mod watch;
pub mod worker;

pub use start::two_factor_context;

use std::time::Duration;

use crate::chat::escape;
use crate::github::GitHubError;
use crate::heroku::HerokuError;
use crate::resolver::ResolveError;

/// Each stage gives up after this long (slash-heroku's defaults: builds and restarts
/// rarely take longer, and a stuck one must end in a clear failure).
pub const STAGE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Why a step could not go on.
#[derive(Debug)]
pub enum StepError {
    /// For good: the reason, written for the person who asked.
    Refused(String),
    /// For now (a service unreachable or overloaded): try the step again later.
    Retry(anyhow::Error),
}

impl StepError {
    pub fn refused(reason: impl Into<String>) -> StepError {
        StepError::Refused(reason.into())
    }

    /// Heroku's answer while trying to `what`: transient answers are retried; others
    /// are explained with Heroku's own message.
    pub fn from_heroku(what: &str, error: HerokuError) -> StepError {
        if error.is_transient() {
            return StepError::Retry(
                anyhow::Error::new(error).context(format!("cannot {what} on Heroku")),
            );
        }
        if error.is_unauthorized() {
            return StepError::refused(
                "Heroku no longer accepts your login. Run `/h login` to link your account again.",
            );
        }
        let detail = error
            .body()
            .map_or_else(|| error.to_string(), |body| body.message.clone());
        StepError::Refused(format!("Heroku refused to {what}: {}", escape(&detail)))
    }

    /// GitHub's answer while trying to `what`, handled like Heroku's.
    pub fn from_github(what: &str, error: GitHubError) -> StepError {
        if error.is_transient() {
            return StepError::Retry(
                anyhow::Error::new(error).context(format!("cannot {what} on GitHub")),
            );
        }
        if error.is_unauthorized() {
            return StepError::refused(
                "GitHub no longer accepts your login. Run `/h login` to link your account again.",
            );
        }
        let detail = error
            .body()
            .map_or_else(|| error.to_string(), |body| body.message.clone());
        StepError::Refused(format!("GitHub refused to {what}: {}", escape(&detail)))
    }
}

impl From<ResolveError> for StepError {
    /// Heroku's failures are retried or explained like any other step's; the rest are
    /// refusals, in the resolver's words.
    fn from(error: ResolveError) -> StepError {
        match error {
            ResolveError::Heroku { what, source } => StepError::from_heroku(what, source),
            refused => StepError::Refused(refused.to_string()),
        }
    }
}

impl From<anyhow::Error> for StepError {
    fn from(error: anyhow::Error) -> StepError {
        StepError::Retry(error)
    }
}
