//! Revoking tokens at the providers: a person's on `/h logout`, and the ones just
//! issued for a link refused because someone else holds the account, so a token the
//! bot will not keep does not stay alive at Heroku or GitHub.
//!
//! Each answers whether the provider no longer accepts the token; a failure is logged
//! (never the token) and left to the caller to report.

use secrecy::SecretString;

use crate::bot::Bot;
use crate::heroku::Revocation;

/// Where a person revokes the bot's Heroku authorization by hand.
pub const HEROKU_APPLICATIONS: &str = "https://dashboard.heroku.com/account/applications";
/// Where a person revokes the bot's GitHub token by hand.
pub const GITHUB_APPLICATIONS: &str = "https://github.com/settings/applications";

/// Deletes the Heroku authorization holding `access` (or `refresh`).
pub async fn heroku(app: &Bot, access: &SecretString, refresh: &SecretString) -> bool {
    match app.heroku.revoke(access, refresh).await {
        Ok(Revocation::Revoked) => true,
        Ok(Revocation::NotFound) => {
            tracing::warn!("no Heroku authorization holds the token, so it was not revoked");
            false
        }
        Err(error) => {
            tracing::warn!(%error, "revoking a Heroku authorization failed");
            false
        }
    }
}

/// Revokes a GitHub token (already gone, GitHub's 404, counts as revoked).
pub async fn github(app: &Bot, token: &SecretString) -> bool {
    match app.github_oauth.revoke(token).await {
        Ok(()) => true,
        Err(error) if error.is_not_found() => true,
        Err(error) => {
            tracing::warn!(%error, "revoking a GitHub token failed");
            false
        }
    }
}
