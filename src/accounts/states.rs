//! OAuth `state` values: the anti-forgery token every sign-in carries to the provider
//! and back.
//!
//! A state is 256 bits from the OS CSPRNG, handed out once in a Slack message (or by
//! the install page) and stored only as its SHA-256, bound to its purpose (which
//! provider, or a workspace install) and to the Slack team and user it was made for.
//! It works once, for [`LIFETIME_SECS`]. Before a link goes to the provider, the
//! person signs in with Slack ([`super::slack_sign_in`]) as the user the state was made
//! for; only then is it put in a cookie ([`cookies`]), which the callback insists on.
//!
//! Every refusal happens before anything is written, and explains itself on a page.

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::{Provider, cookies};
use crate::bot::Bot;
use crate::pages::Page;
use crate::store::{NewOAuthState, StoredOAuthState};

/// A state works for ten minutes, as long as the providers' own codes.
pub const LIFETIME_SECS: i64 = 600;

/// Used and expired states are kept this long, so a late click is told "already used"
/// or "expired" rather than "not issued", then deleted.
const KEPT_SECS: i64 = 24 * 3600;

const STATE_BYTES: usize = 32;

/// What a state may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Link(Provider),
    /// Installing the app in a workspace (Slack OAuth v2); bound to no user.
    Install,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Purpose::Link(provider) => provider.key(),
            Purpose::Install => "slack",
        }
    }

    fn from_key(key: &str) -> Option<Purpose> {
        match key {
            "heroku" => Some(Purpose::Link(Provider::Heroku)),
            "github" => Some(Purpose::Link(Provider::GitHub)),
            "slack" => Some(Purpose::Install),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Purpose::Link(provider) => provider.name(),
            Purpose::Install => "installing in Slack",
        }
    }

    /// What to do to try again.
    pub fn retry_hint(self) -> &'static str {
        match self {
            Purpose::Link(_) => "Run `/h login` in Slack for a fresh link.",
            Purpose::Install => "Open the install link again to start over.",
        }
    }
}

/// Where a sign-in started in Slack, so the bot can answer there when it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub team_id: String,
    pub user_id: String,
    pub channel_id: String,
    /// The command's `response_url` (in clear here; sealed in the store).
    pub response_url: Option<String>,
    /// The `/h` text that needed the link, to offer running it again.
    pub pending_command: Option<String>,
}

/// Why a state was refused. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("no state")]
    Missing,
    #[error("unknown state")]
    Unknown,
    #[error("state for another purpose")]
    WrongPurpose { expected: Purpose, actual: Purpose },
    #[error("state already used")]
    Used,
    #[error("state expired")]
    Expired,
    #[error("state cookie missing or different")]
    OtherBrowser,
    #[error("cannot check the state: {0:#}")]
    Internal(anyhow::Error),
}

/// Hands out a new state for `purpose`, started from `origin` (none for an install).
pub async fn issue(app: &Bot, purpose: Purpose, origin: Option<&Origin>) -> anyhow::Result<String> {
    let now = app.clock.now();
    if let Err(error) = app.store.forget_oauth_states_before(now - KEPT_SECS).await {
        tracing::warn!(
            error = format!("{error:#}"),
            "pruning old OAuth states failed"
        );
    }
    let state = random();
    let state_hash = hash(&state);
    let response_url = origin
        .and_then(|origin| origin.response_url.as_deref())
        .map(|url| app.vault.seal(url, &response_url_context(&state_hash)));
    app.store
        .insert_oauth_state(&NewOAuthState {
            purpose: purpose.key().into(),
            team_id: origin.map(|origin| origin.team_id.clone()),
            user_id: origin.map(|origin| origin.user_id.clone()),
            channel_id: origin.map(|origin| origin.channel_id.clone()),
            response_url,
            pending_command: origin.and_then(|origin| origin.pending_command.clone()),
            created_at: now,
            expires_at: now + LIFETIME_SECS,
            state_hash,
        })
        .await?;
    Ok(state)
}

/// The page that starts linking `provider` with `state`.
pub fn start_url(app: &Bot, provider: Provider, state: &str) -> String {
    format!(
        "{}/auth/{}/start?state={state}",
        app.config.base_url,
        provider.key()
    )
}

/// Checks that `state` could be claimed for `purpose` now, changing nothing.
pub async fn check(app: &Bot, purpose: Purpose, state: Option<&str>) -> Result<(), StateError> {
    claimable(app, purpose, state).await.map(drop)
}

/// Where `state` started, if it could be claimed for `purpose` now; changes nothing.
pub async fn pending(
    app: &Bot,
    purpose: Purpose,
    state: Option<&str>,
) -> Result<Origin, StateError> {
    let stored = claimable(app, purpose, state).await?;
    origin(app, stored).ok_or(StateError::Unknown)
}

async fn claimable(
    app: &Bot,
    purpose: Purpose,
    state: Option<&str>,
) -> Result<StoredOAuthState, StateError> {
    let state = state
        .filter(|state| !state.is_empty())
        .ok_or(StateError::Missing)?;
    let stored = app
        .store
        .oauth_state(&hash(state))
        .await
        .map_err(StateError::Internal)?;
    explain(stored, purpose, app.clock.now())
}

/// Uses up `state` for `purpose` if it is valid and this browser started it; returns
/// where it came from (`None` for an install).
pub async fn claim(
    app: &Bot,
    purpose: Purpose,
    state: Option<&str>,
    headers: &HeaderMap,
) -> Result<Option<Origin>, StateError> {
    check(app, purpose, state).await?;
    let state = state.unwrap_or_default();
    if cookies::bound(headers, purpose) != Some(state) {
        return Err(StateError::OtherBrowser);
    }
    let state_hash = hash(state);
    let claimed = app
        .store
        .claim_oauth_state(&state_hash, purpose.key(), app.clock.now())
        .await
        .map_err(StateError::Internal)?
        // Checked a moment ago: another request claimed it in between.
        .ok_or(StateError::Used)?;
    Ok(origin(app, claimed))
}

fn origin(app: &Bot, stored: StoredOAuthState) -> Option<Origin> {
    let response_url = stored.response_url.and_then(|sealed| {
        let context = response_url_context(&stored.state_hash);
        app.vault
            .open(&sealed, &context)
            .inspect_err(|error| tracing::warn!(%error, "cannot open a stored response_url"))
            .ok()
            .map(|opened| opened.secret.expose_secret().to_owned())
    });
    Some(Origin {
        team_id: stored.team_id?,
        user_id: stored.user_id?,
        channel_id: stored.channel_id.unwrap_or_default(),
        response_url,
        pending_command: stored.pending_command,
    })
}

fn explain(
    stored: Option<StoredOAuthState>,
    purpose: Purpose,
    now: i64,
) -> Result<StoredOAuthState, StateError> {
    let stored = stored.ok_or(StateError::Unknown)?;
    let actual = Purpose::from_key(&stored.purpose).ok_or(StateError::Unknown)?;
    if actual != purpose {
        return Err(StateError::WrongPurpose {
            expected: purpose,
            actual,
        });
    }
    if stored.used_at.is_some() {
        return Err(StateError::Used);
    }
    if stored.expires_at <= now {
        return Err(StateError::Expired);
    }
    Ok(stored)
}

/// 256 bits from the OS CSPRNG, URL-safe: a state, or a sign-in's nonce.
pub fn random() -> String {
    let mut bytes = [0u8; STATE_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn response_url_context(state_hash: &str) -> String {
    format!("oauth_state_response_url:{state_hash}")
}

impl StateError {
    /// The page explaining the refusal of a state meant for `purpose`.
    pub fn page(&self, purpose: Purpose) -> Response {
        let (status, title, why) = match self {
            StateError::Missing => (
                StatusCode::BAD_REQUEST,
                "This link is incomplete".to_owned(),
                "It carries no sign-in state, so there is no way to tell who it is for.".to_owned(),
            ),
            StateError::Unknown => (
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid".to_owned(),
                "This bot did not issue it, or it was changed on the way.".to_owned(),
            ),
            StateError::WrongPurpose { expected, actual } => (
                StatusCode::BAD_REQUEST,
                format!(
                    "This link is for {}, not {}",
                    actual.name(),
                    expected.name()
                ),
                format!("It cannot be used for {}.", expected.name()),
            ),
            StateError::Used => (
                StatusCode::GONE,
                "This sign-in link was already used".to_owned(),
                "Each link works once.".to_owned(),
            ),
            StateError::Expired => (
                StatusCode::GONE,
                "This sign-in link expired".to_owned(),
                "Links work for 10 minutes.".to_owned(),
            ),
            StateError::OtherBrowser => (
                StatusCode::FORBIDDEN,
                "This sign-in was started in another browser".to_owned(),
                "Finish it in the browser where you opened the link, or start again.".to_owned(),
            ),
            StateError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "cannot check an OAuth state");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong".to_owned(),
                    "The sign-in could not be checked just now.".to_owned(),
                )
            }
        };
        tracing::warn!(purpose = purpose.key(), reason = %self, "OAuth state refused");
        Page::new(title)
            .paragraph(format!("{why} Nothing was changed."))
            .paragraph(purpose.retry_hint())
            .respond(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(purpose: &str, used_at: Option<i64>, expires_at: i64) -> StoredOAuthState {
        StoredOAuthState {
            state_hash: "h".into(),
            purpose: purpose.into(),
            team_id: Some("T1".into()),
            user_id: Some("U1".into()),
            channel_id: None,
            response_url: None,
            pending_command: None,
            created_at: 0,
            expires_at,
            used_at,
        }
    }

    #[test]
    fn a_state_is_refused_for_each_reason_in_turn() {
        let heroku = Purpose::Link(Provider::Heroku);
        assert!(matches!(
            explain(None, heroku, 10),
            Err(StateError::Unknown)
        ));
        assert!(matches!(
            explain(Some(stored("github", None, 100)), heroku, 10),
            Err(StateError::WrongPurpose {
                actual: Purpose::Link(Provider::GitHub),
                ..
            })
        ));
        assert!(matches!(
            explain(Some(stored("heroku", Some(5), 100)), heroku, 10),
            Err(StateError::Used)
        ));
        assert!(matches!(
            explain(Some(stored("heroku", None, 10)), heroku, 10),
            Err(StateError::Expired)
        ));
        assert!(explain(Some(stored("heroku", None, 11)), heroku, 10).is_ok());
    }
}
