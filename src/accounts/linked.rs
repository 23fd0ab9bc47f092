//! What the rest of the bot asks of accounts: "give me this person's tokens" ([`linked`]),
//! "this token just got a 401" ([`forget`]), and the answer to send when accounts are
//! missing ([`LinkError::reply`]).

use std::fmt;

use secrecy::SecretString;

use super::Provider;
use super::connect::{self, rerunnable};
use super::states::Origin;
use super::tokens::{RefreshError, fresh_heroku_token, open_account};
use crate::bot::BotState;
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::heroku::HerokuError;
use crate::resolver::{Asking, Layout, Resolver};

/// Everything needed to act as a person. Tokens are fresh: the Heroku one is good for
/// at least five more minutes.
#[derive(Debug)]
pub struct Linked {
    pub heroku_token: SecretString,
    pub heroku_email: String,
    pub github_token: SecretString,
    pub github_login: String,
}

/// Why an account is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingReason {
    /// The person never linked it (or logged out).
    NotConnected,
    /// It was linked, but the provider refused it (revoked, or a refused refresh), so
    /// the bot forgot it.
    StoppedWorking,
}

/// The accounts a person still has to link, in linking order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLinked {
    pub missing: Vec<(Provider, MissingReason)>,
}

/// Why [`linked`] gave no tokens.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{0}")]
    NotLinked(NotLinked),
    /// Heroku did not answer while refreshing the token; the link is kept.
    #[error("Heroku did not answer while refreshing the token: {0}")]
    Unavailable(HerokuError),
    #[error("cannot read linked accounts: {0:#}")]
    Internal(anyhow::Error),
}

impl fmt::Display for NotLinked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.missing.iter().map(|(p, _)| p.name()).collect();
        write!(f, "not linked: {}", names.join(", "))
    }
}

/// The person's fresh tokens, refreshing the Heroku one first when it expires within
/// five minutes. A refused refresh forgets the Heroku link (it reports as
/// [`MissingReason::StoppedWorking`]); a Heroku that does not answer is
/// [`LinkError::Unavailable`] and forgets nothing.
pub async fn linked(state: &BotState, team_id: &str, user_id: &str) -> Result<Linked, LinkError> {
    let opened = open_account(state, team_id, user_id)
        .await
        .map_err(LinkError::Internal)?;
    let mut missing = Vec::new();
    let mut unavailable = None;
    let heroku = match &opened.heroku {
        None => {
            missing.push((Provider::Heroku, MissingReason::NotConnected));
            None
        }
        Some(heroku) => match fresh_heroku_token(state, team_id, user_id, heroku).await {
            Ok(token) => Some((token, heroku.email.clone())),
            Err(RefreshError::Refused) => {
                missing.push((Provider::Heroku, MissingReason::StoppedWorking));
                None
            }
            Err(RefreshError::Unavailable(error)) => {
                unavailable = Some(error);
                None
            }
            Err(RefreshError::Store(error)) => return Err(LinkError::Internal(error)),
        },
    };
    if opened.github.is_none() {
        missing.push((Provider::GitHub, MissingReason::NotConnected));
    }
    let (Some((heroku_token, heroku_email)), Some(github)) = (heroku, opened.github) else {
        // What the person must do comes first; a Heroku hiccup only matters otherwise.
        return Err(match unavailable {
            Some(error) if missing.is_empty() => LinkError::Unavailable(error),
            _ => LinkError::NotLinked(NotLinked { missing }),
        });
    };
    Ok(Linked {
        heroku_token,
        heroku_email,
        github_token: github.token,
        github_login: github.login,
    })
}

/// Forgets one linked account of a person, e.g. after its token got a 401. The token
/// is not revoked (it already does not work); the person is asked to link again next
/// time.
pub async fn forget(
    state: &BotState,
    team_id: &str,
    user_id: &str,
    provider: Provider,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    match provider {
        Provider::Heroku => state.store.unlink_heroku(team_id, user_id, now).await?,
        Provider::GitHub => state.store.unlink_github(team_id, user_id, now).await?,
    }
    tracing::info!(team = %team_id, user = %user_id, %provider, "forgot a linked account");
    Ok(())
}

impl LinkError {
    /// The ephemeral answer to the command in `invocation` that needed the accounts.
    pub async fn reply(&self, state: &BotState, invocation: &Invocation) -> Reply {
        match self {
            LinkError::NotLinked(not_linked) => not_linked.reply(state, invocation).await,
            LinkError::Unavailable(error) => {
                tracing::warn!(%error, "Heroku token refresh failed for now");
                Reply::ephemeral(
                    "Heroku did not answer while I refreshed your sign-in, so nothing was done. \
                     Try again in a minute.",
                )
            }
            LinkError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "cannot read linked accounts");
                Reply::ephemeral(
                    "I could not read your linked accounts just now, so nothing was done. \
                     Try again in a minute.",
                )
            }
        }
    }
}

impl NotLinked {
    /// "To run `/h …` I need …": the connect button for the first missing account. The
    /// command is remembered, and offered again once everything is linked.
    pub async fn reply(&self, state: &BotState, invocation: &Invocation) -> Reply {
        let command = rerunnable(&invocation.text);
        let mut lines = vec![format!(
            "To run `/h {command}` I act as you on Heroku and GitHub, with your own permissions."
        )];
        lines.extend(self.missing.iter().map(|(provider, reason)| match reason {
            MissingReason::NotConnected => {
                format!("Your {provider} account is not connected yet.")
            }
            MissingReason::StoppedWorking => format!(
                "Your {provider} sign-in stopped working (revoked or expired), so I forgot it."
            ),
        }));
        lines.push(format!(
            "When you're done, I'll remind you to run `/h {command}` again."
        ));
        let missing: Vec<Provider> = self.missing.iter().map(|(provider, _)| *provider).collect();
        let origin = Origin::of(invocation, Some(command));
        connect::prompt(state, &origin, &missing, &lines).await
    }
}

/// The person's fresh tokens, or the reply asking them to link their accounts.
pub async fn acting_as(state: &BotState, invocation: &Invocation) -> Result<Linked, Reply> {
    match linked(state, &invocation.team_id, &invocation.user_id).await {
        Ok(linked) => Ok(linked),
        Err(error) => Err(error.reply(state, invocation).await),
    }
}

/// The person's tokens and the pipeline as they see it, or the reply saying why not.
pub async fn seen_by(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    asking: Asking<'_>,
) -> Result<(Linked, Layout), Reply> {
    let linked = acting_as(state, invocation).await?;
    let resolver = Resolver {
        heroku: &state.heroku,
        token: &linked.heroku_token,
        asking,
    };
    let layout =
        (resolver.layout(pipeline).await).map_err(|error| Reply::ephemeral(error.to_string()))?;
    Ok((linked, layout))
}
