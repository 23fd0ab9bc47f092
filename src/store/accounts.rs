//! Linked accounts, OAuth states and workspace installs.
//!
//! Token columns only ever receive values the caller sealed with the token vault: this
//! module moves opaque strings and never sees a token in clear. OAuth states are keyed
//! by their hash, and claiming one is a single conditional `UPDATE`, so it is
//! single-use across every process sharing the database.

use anyhow::Context;

use super::Store;
use super::account_holders::ProviderAccount;

/// A person's linked accounts as stored (token columns sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAccount {
    pub team_id: String,
    pub user_id: String,
    pub heroku_user_id: Option<String>,
    pub heroku_email: Option<String>,
    pub heroku_access_token: Option<String>,
    pub heroku_refresh_token: Option<String>,
    /// Unix seconds when the Heroku access token stops working.
    pub heroku_expires_at: Option<i64>,
    pub github_user_id: Option<i64>,
    pub github_login: Option<String>,
    pub github_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A Heroku link to store; both tokens sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HerokuLink {
    pub heroku_user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: i64,
}

/// A GitHub link to store; the token sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubLink {
    pub github_user_id: i64,
    pub login: String,
    pub token: String,
}

/// A column holding a sealed token, for re-sealing after a key rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    HerokuAccessToken,
    HerokuRefreshToken,
    GitHubToken,
}

impl SealedColumn {
    /// The column name, which is also the vault context's prefix.
    pub fn name(self) -> &'static str {
        match self {
            SealedColumn::HerokuAccessToken => "heroku_access_token",
            SealedColumn::HerokuRefreshToken => "heroku_refresh_token",
            SealedColumn::GitHubToken => "github_token",
        }
    }
}

/// An OAuth state to remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOAuthState {
    /// SHA-256 (hex) of the state handed out; the state itself is never stored.
    pub state_hash: String,
    /// `heroku`, `github` or `slack` (a workspace install).
    pub purpose: String,
    pub team_id: Option<String>,
    pub user_id: Option<String>,
    pub channel_id: Option<String>,
    /// Sealed: a `response_url` lets anyone post to the channel for 30 minutes.
    pub response_url: Option<String>,
    /// The `/h` text that needed the link, to offer running it again.
    pub pending_command: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A remembered OAuth state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredOAuthState {
    pub state_hash: String,
    pub purpose: String,
    pub team_id: Option<String>,
    pub user_id: Option<String>,
    pub channel_id: Option<String>,
    pub response_url: Option<String>,
    pub pending_command: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A workspace that installed the app (bot token sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredWorkspace {
    pub team_id: String,
    pub team_name: Option<String>,
    pub bot_token: String,
    pub bot_user_id: String,
    pub scope: String,
    pub installer_user_id: String,
    pub installed_at: i64,
}

const ACCOUNT_COLUMNS: &str = "team_id, user_id, heroku_user_id, heroku_email, \
    heroku_access_token, heroku_refresh_token, heroku_expires_at, github_user_id, \
    github_login, github_token, created_at, updated_at";

const STATE_COLUMNS: &str = "state_hash, purpose, team_id, user_id, channel_id, \
    response_url, pending_command, created_at, expires_at, used_at";

impl Store {
    /// The linked accounts of `user_id` in `team_id`, if any were ever linked.
    pub async fn account(
        &self,
        team_id: &str,
        user_id: &str,
    ) -> anyhow::Result<Option<StoredAccount>> {
        sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users WHERE team_id = $1 AND user_id = $2"
        ))
        .bind(team_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read linked accounts")
    }

    /// Stores (or replaces) the Heroku link of a person; [`AlreadyLinked`](super::AlreadyLinked) if another
    /// person of the workspace holds that Heroku account.
    pub async fn link_heroku(
        &self,
        team_id: &str,
        user_id: &str,
        link: &HerokuLink,
        now: i64,
    ) -> anyhow::Result<()> {
        let account = ProviderAccount::Heroku(&link.heroku_user_id);
        self.refuse_if_held(team_id, user_id, account).await?;
        let written = sqlx::query(
            "INSERT INTO users (team_id, user_id, heroku_user_id, heroku_email, \
             heroku_access_token, heroku_refresh_token, heroku_expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (team_id, user_id) DO UPDATE SET \
             heroku_user_id = excluded.heroku_user_id, heroku_email = excluded.heroku_email, \
             heroku_access_token = excluded.heroku_access_token, \
             heroku_refresh_token = excluded.heroku_refresh_token, \
             heroku_expires_at = excluded.heroku_expires_at, updated_at = excluded.updated_at",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(&link.heroku_user_id)
        .bind(&link.email)
        .bind(&link.access_token)
        .bind(&link.refresh_token)
        .bind(link.expires_at)
        .bind(now)
        .execute(&self.pool)
        .await;
        self.stored_unless_held(written, (team_id, user_id), account)
            .await
    }

    /// Stores (or replaces) the GitHub link of a person; [`AlreadyLinked`](super::AlreadyLinked) if another
    /// person of the workspace holds that GitHub account.
    pub async fn link_github(
        &self,
        team_id: &str,
        user_id: &str,
        link: &GitHubLink,
        now: i64,
    ) -> anyhow::Result<()> {
        let account = ProviderAccount::GitHub(link.github_user_id);
        self.refuse_if_held(team_id, user_id, account).await?;
        let written = sqlx::query(
            "INSERT INTO users (team_id, user_id, github_user_id, github_login, github_token, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (team_id, user_id) DO UPDATE SET \
             github_user_id = excluded.github_user_id, github_login = excluded.github_login, \
             github_token = excluded.github_token, updated_at = excluded.updated_at",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(link.github_user_id)
        .bind(&link.login)
        .bind(&link.token)
        .bind(now)
        .execute(&self.pool)
        .await;
        self.stored_unless_held(written, (team_id, user_id), account)
            .await
    }

    /// Replaces the Heroku tokens after a refresh (both sealed).
    pub async fn refresh_heroku(
        &self,
        team_id: &str,
        user_id: &str,
        access_token: &str,
        refresh_token: &str,
        expires_at: i64,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE users SET heroku_access_token = $3, heroku_refresh_token = $4, \
             heroku_expires_at = $5, updated_at = $6 \
             WHERE team_id = $1 AND user_id = $2 AND heroku_access_token IS NOT NULL",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(access_token)
        .bind(refresh_token)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("cannot store the refreshed Heroku token")?;
        Ok(())
    }

    /// Replaces one sealed token with the same token sealed again (key rotation).
    pub async fn reseal(
        &self,
        team_id: &str,
        user_id: &str,
        column: SealedColumn,
        sealed: &str,
    ) -> anyhow::Result<()> {
        // The column name comes from the enum, never from input.
        let column = column.name();
        sqlx::query(&format!(
            "UPDATE users SET {column} = $3 WHERE team_id = $1 AND user_id = $2 \
             AND {column} IS NOT NULL"
        ))
        .bind(team_id)
        .bind(user_id)
        .bind(sealed)
        .execute(&self.pool)
        .await
        .context("cannot re-seal a token")?;
        Ok(())
    }

    /// Forgets the Heroku link of a person (tokens and identity).
    pub async fn unlink_heroku(
        &self,
        team_id: &str,
        user_id: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        self.unlink(
            "heroku_user_id = NULL, heroku_email = NULL, heroku_access_token = NULL, \
             heroku_refresh_token = NULL, heroku_expires_at = NULL",
            team_id,
            user_id,
            now,
        )
        .await
    }

    /// Forgets the GitHub link of a person (token and identity).
    pub async fn unlink_github(
        &self,
        team_id: &str,
        user_id: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        self.unlink(
            "github_user_id = NULL, github_login = NULL, github_token = NULL",
            team_id,
            user_id,
            now,
        )
        .await
    }

    async fn unlink(
        &self,
        assignments: &'static str,
        team_id: &str,
        user_id: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "UPDATE users SET {assignments}, updated_at = $3 WHERE team_id = $1 AND user_id = $2"
        ))
        .bind(team_id)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("cannot forget a linked account")?;
        Ok(())
    }

    /// Deletes everything stored about a person's links; whether there was anything.
    pub async fn forget_account(&self, team_id: &str, user_id: &str) -> anyhow::Result<bool> {
        let deleted = sqlx::query("DELETE FROM users WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .context("cannot forget the linked accounts")?;
        Ok(deleted.rows_affected() > 0)
    }
}

impl Store {
    /// Remembers a state handed out.
    pub async fn insert_oauth_state(&self, state: &NewOAuthState) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "INSERT INTO oauth_states ({STATE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)"
        ))
        .bind(&state.state_hash)
        .bind(&state.purpose)
        .bind(&state.team_id)
        .bind(&state.user_id)
        .bind(&state.channel_id)
        .bind(&state.response_url)
        .bind(&state.pending_command)
        .bind(state.created_at)
        .bind(state.expires_at)
        .execute(&self.pool)
        .await
        .context("cannot store an OAuth state")?;
        Ok(())
    }

    /// The state with this hash, used or not.
    pub async fn oauth_state(&self, state_hash: &str) -> anyhow::Result<Option<StoredOAuthState>> {
        sqlx::query_as(&format!(
            "SELECT {STATE_COLUMNS} FROM oauth_states WHERE state_hash = $1"
        ))
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read an OAuth state")
    }

    /// Marks the state used at `now` if it is for `purpose`, unused and unexpired, and
    /// returns it; `None` (and no change) otherwise. Atomic across processes.
    pub async fn claim_oauth_state(
        &self,
        state_hash: &str,
        purpose: &str,
        now: i64,
    ) -> anyhow::Result<Option<StoredOAuthState>> {
        sqlx::query_as(&format!(
            "UPDATE oauth_states SET used_at = $3 \
             WHERE state_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
             RETURNING {STATE_COLUMNS}"
        ))
        .bind(state_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .context("cannot claim an OAuth state")
    }

    /// Deletes states that expired before `cutoff`; how many.
    pub async fn forget_oauth_states_before(&self, cutoff: i64) -> anyhow::Result<u64> {
        let deleted = sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .context("cannot prune old OAuth states")?;
        Ok(deleted.rows_affected())
    }
}

impl Store {
    /// Stores (or replaces, on a reinstall) a workspace install.
    pub async fn install_workspace(&self, workspace: &StoredWorkspace) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO workspaces (team_id, team_name, bot_token, bot_user_id, scope, \
             installer_user_id, installed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (team_id) DO UPDATE SET team_name = excluded.team_name, \
             bot_token = excluded.bot_token, bot_user_id = excluded.bot_user_id, \
             scope = excluded.scope, installer_user_id = excluded.installer_user_id, \
             installed_at = excluded.installed_at",
        )
        .bind(&workspace.team_id)
        .bind(&workspace.team_name)
        .bind(&workspace.bot_token)
        .bind(&workspace.bot_user_id)
        .bind(&workspace.scope)
        .bind(&workspace.installer_user_id)
        .bind(workspace.installed_at)
        .execute(&self.pool)
        .await
        .context("cannot store the workspace install")?;
        Ok(())
    }

    /// The install of `team_id`, if it installed the app through OAuth.
    pub async fn workspace(&self, team_id: &str) -> anyhow::Result<Option<StoredWorkspace>> {
        sqlx::query_as(
            "SELECT team_id, team_name, bot_token, bot_user_id, scope, installer_user_id, \
             installed_at FROM workspaces WHERE team_id = $1",
        )
        .bind(team_id)
        .fetch_optional(&self.pool)
        .await
        .context("cannot read the workspace install")
    }

    /// Replaces a workspace's sealed bot token with the same token sealed again.
    pub async fn reseal_bot_token(&self, team_id: &str, sealed: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE workspaces SET bot_token = $2 WHERE team_id = $1")
            .bind(team_id)
            .bind(sealed)
            .execute(&self.pool)
            .await
            .context("cannot re-seal a bot token")?;
        Ok(())
    }
}
