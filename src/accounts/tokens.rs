//! A person's tokens out of the store and back: opening sealed columns (re-sealing
//! the ones still under `ENCRYPTION_KEY_PREVIOUS`), sealing new ones, and refreshing
//! the short-lived Heroku access token before it runs out.
//!
//! Each value is sealed for `"{column}:{team}:{user}"`, so a sealed token copied into
//! another person's row does not open.

use secrecy::{ExposeSecret, SecretString};

use crate::bot::Bot;
use crate::heroku::{HerokuError, OAuthTokens};
use crate::store::{GitHubLink, HerokuLink, SealedColumn, StoredAccount};

/// Refresh when the access token has less than this left, so a deploy that starts
/// now does not see it expire halfway.
pub const REFRESH_MARGIN_SECS: i64 = 5 * 60;

/// A Heroku link, opened.
#[derive(Debug)]
pub struct HerokuTokens {
    pub access: SecretString,
    pub refresh: SecretString,
    pub email: String,
    pub expires_at: i64,
}

/// A GitHub link, opened.
#[derive(Debug)]
pub struct GitHubTokens {
    pub token: SecretString,
    pub login: String,
}

/// What a person has linked, opened; `None` for what is not linked (or no longer
/// opens).
#[derive(Debug, Default)]
pub struct OpenedAccount {
    pub heroku: Option<HerokuTokens>,
    pub github: Option<GitHubTokens>,
}

/// Why no fresh Heroku token could be had.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Heroku refused the refresh token (revoked): the link was forgotten.
    #[error("Heroku refused to refresh the token")]
    Refused,
    /// Heroku did not answer; the link is kept for another try.
    #[error("{0}")]
    Unavailable(HerokuError),
    #[error("{0:#}")]
    Store(anyhow::Error),
}

/// The vault context of one sealed column of one person.
pub fn context(column: SealedColumn, team_id: &str, user_id: &str) -> String {
    format!("{}:{team_id}:{user_id}", column.name())
}

/// When a token issued at `now` that lives `expires_in` seconds stops working.
pub fn expiry(now: i64, expires_in: u64) -> i64 {
    now.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX))
}

/// Seals `secret` for `column` of this person.
pub fn seal(app: &Bot, column: SealedColumn, team_id: &str, user_id: &str, secret: &str) -> String {
    app.vault.seal(secret, &context(column, team_id, user_id))
}

/// Opens everything `user_id` of `team_id` linked.
pub async fn open_account(
    app: &Bot,
    team_id: &str,
    user_id: &str,
) -> anyhow::Result<OpenedAccount> {
    let Some(row) = app.store.account(team_id, user_id).await? else {
        return Ok(OpenedAccount::default());
    };
    let heroku = open_heroku(app, &row).await;
    let github = match (&row.github_token, &row.github_login) {
        (Some(sealed), Some(login)) => open(app, &row, SealedColumn::GitHubToken, sealed)
            .await
            .map(|token| GitHubTokens {
                token,
                login: login.clone(),
            }),
        _ => None,
    };
    Ok(OpenedAccount { heroku, github })
}

async fn open_heroku(app: &Bot, row: &StoredAccount) -> Option<HerokuTokens> {
    let (Some(access), Some(refresh), Some(email), Some(expires_at)) = (
        &row.heroku_access_token,
        &row.heroku_refresh_token,
        &row.heroku_email,
        row.heroku_expires_at,
    ) else {
        return None;
    };
    Some(HerokuTokens {
        access: open(app, row, SealedColumn::HerokuAccessToken, access).await?,
        refresh: open(app, row, SealedColumn::HerokuRefreshToken, refresh).await?,
        email: email.clone(),
        expires_at,
    })
}

/// Opens one sealed column, re-sealing it under the current key when it was sealed
/// under the previous one. A value that opens with neither key counts as not linked.
async fn open(
    app: &Bot,
    row: &StoredAccount,
    column: SealedColumn,
    sealed: &str,
) -> Option<SecretString> {
    let context = context(column, &row.team_id, &row.user_id);
    let opened = match app.vault.open(sealed, &context) {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(
                team = %row.team_id,
                user = %row.user_id,
                column = column.name(),
                %error,
                "a stored token does not open: was ENCRYPTION_KEY changed without ENCRYPTION_KEY_PREVIOUS?"
            );
            return None;
        }
    };
    if opened.needs_reseal {
        let resealed = app.vault.seal(opened.secret.expose_secret(), &context);
        match app
            .store
            .reseal(&row.team_id, &row.user_id, column, &resealed)
            .await
        {
            Ok(()) => tracing::info!(
                column = column.name(),
                "re-sealed a token with the current key"
            ),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "re-sealing a token failed"),
        }
    }
    Some(opened.secret)
}

/// An access token good for at least [`REFRESH_MARGIN_SECS`]: the stored one, or a
/// refreshed one (stored before it is returned). A refused refresh forgets the link.
pub async fn fresh_heroku_token(
    app: &Bot,
    team_id: &str,
    user_id: &str,
    heroku: &HerokuTokens,
) -> Result<SecretString, RefreshError> {
    let now = app.clock.now();
    if heroku.expires_at - now > REFRESH_MARGIN_SECS {
        return Ok(heroku.access.clone());
    }
    let refreshed = match app.heroku_oauth.refresh(&heroku.refresh).await {
        Ok(refreshed) => refreshed,
        Err(error) if error.is_transient() => return Err(RefreshError::Unavailable(error)),
        Err(error) => {
            tracing::info!(team = %team_id, user = %user_id, %error, "Heroku refused a refresh: forgetting the link");
            app.store
                .unlink_heroku(team_id, user_id, now)
                .await
                .map_err(RefreshError::Store)?;
            return Err(RefreshError::Refused);
        }
    };
    let access = seal(
        app,
        SealedColumn::HerokuAccessToken,
        team_id,
        user_id,
        refreshed.access_token.expose_secret(),
    );
    let refresh = seal(
        app,
        SealedColumn::HerokuRefreshToken,
        team_id,
        user_id,
        refreshed.refresh_token.expose_secret(),
    );
    let expires_at = expiry(now, refreshed.expires_in);
    app.store
        .refresh_heroku(team_id, user_id, &access, &refresh, expires_at, now)
        .await
        .map_err(RefreshError::Store)?;
    tracing::info!(team = %team_id, user = %user_id, "refreshed a Heroku token");
    Ok(refreshed.access_token)
}

/// Stores a person's Heroku link with its tokens sealed: what the OAuth callback does
/// once the code is exchanged and `GET /account` answered (the sandbox may call it to
/// pre-link a seeded account).
pub async fn save_heroku(
    app: &Bot,
    team_id: &str,
    user_id: &str,
    heroku_user_id: &str,
    email: &str,
    tokens: &OAuthTokens,
) -> anyhow::Result<()> {
    let now = app.clock.now();
    let seal =
        |column, secret: &SecretString| seal(app, column, team_id, user_id, secret.expose_secret());
    let link = HerokuLink {
        heroku_user_id: heroku_user_id.to_owned(),
        email: email.to_owned(),
        access_token: seal(SealedColumn::HerokuAccessToken, &tokens.access_token),
        refresh_token: seal(SealedColumn::HerokuRefreshToken, &tokens.refresh_token),
        expires_at: expiry(now, tokens.expires_in),
    };
    app.store.link_heroku(team_id, user_id, &link, now).await?;
    tracing::info!(team = %team_id, user = %user_id, "linked a Heroku account");
    Ok(())
}

/// Stores a person's GitHub link with its token sealed (see [`save_heroku`]).
pub async fn save_github(
    app: &Bot,
    team_id: &str,
    user_id: &str,
    github_user_id: u64,
    login: &str,
    token: &SecretString,
) -> anyhow::Result<()> {
    let link = GitHubLink {
        github_user_id: i64::try_from(github_user_id)?,
        login: login.to_owned(),
        token: seal(
            app,
            SealedColumn::GitHubToken,
            team_id,
            user_id,
            token.expose_secret(),
        ),
    };
    app.store
        .link_github(team_id, user_id, &link, app.clock.now())
        .await?;
    tracing::info!(team = %team_id, user = %user_id, "linked a GitHub account");
    Ok(())
}
