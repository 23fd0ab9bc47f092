//! Every value the vault sealed, listed and swapped one at a time, for `chatops rekey`
//! (re-sealing under the current key so the previous one can be retired), and which
//! key each app's webhook secret was registered under.
//!
//! A swap is one statement that only writes if the cell still holds what was read, so
//! a rekey interrupted anywhere, run twice, or racing a live re-seal loses nothing.

use anyhow::Context;

use super::{SealedColumn, Store};

/// Where a sealed value is, and what its vault context is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedPlace {
    /// A person's token.
    User {
        team_id: String,
        user_id: String,
        column: SealedColumn,
    },
    /// A workspace install's bot token.
    Workspace { team_id: String },
    /// A deploy's `response_url`.
    DeployResponseUrl { deploy_id: i64 },
    /// A deploy's 2FA code, kept until its first step uses it.
    DeployTwoFactor { deploy_id: i64 },
    /// An outbox body holding a sealed `response_url` (the value is the whole body).
    OutboxBody { message_id: i64, team_id: String },
}

/// A sealed value and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub place: SealedPlace,
    pub value: String,
}

/// An app the bot deployed, and who deployed it, newest first.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeployedApp {
    pub app_id: String,
    pub app_name: String,
    pub team_id: String,
    pub user_id: String,
}

/// A person's sealed tokens, as the users table holds them.
#[derive(sqlx::FromRow)]
struct TokenRow {
    team_id: String,
    user_id: String,
    heroku_access_token: Option<String>,
    heroku_refresh_token: Option<String>,
    github_token: Option<String>,
}

const TOKEN_COLUMNS: [SealedColumn; 3] = [
    SealedColumn::HerokuAccessToken,
    SealedColumn::HerokuRefreshToken,
    SealedColumn::GitHubToken,
];

impl Store {
    /// Every sealed value in the store.
    pub async fn sealed_values(&self) -> anyhow::Result<Vec<SealedValue>> {
        let mut values = self.sealed_tokens().await?;
        let workspaces: Vec<(String, String)> =
            sqlx::query_as("SELECT team_id, bot_token FROM workspaces")
                .fetch_all(&self.pool)
                .await
                .context("cannot list the sealed bot tokens")?;
        values.extend(workspaces.into_iter().map(|(team_id, value)| SealedValue {
            place: SealedPlace::Workspace { team_id },
            value,
        }));
        values.extend(self.sealed_in_deploys().await?);
        let bodies: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, team_id, body FROM outbox WHERE body LIKE '%\"response_url\":\"v1:%'",
        )
        .fetch_all(&self.pool)
        .await
        .context("cannot list the outbox's sealed values")?;
        values.extend(
            bodies
                .into_iter()
                .map(|(message_id, team_id, value)| SealedValue {
                    place: SealedPlace::OutboxBody {
                        message_id,
                        team_id,
                    },
                    value,
                }),
        );
        Ok(values)
    }

    async fn sealed_tokens(&self) -> anyhow::Result<Vec<SealedValue>> {
        let users: Vec<TokenRow> = sqlx::query_as(
            "SELECT team_id, user_id, heroku_access_token, heroku_refresh_token, \
             github_token FROM users",
        )
        .fetch_all(&self.pool)
        .await
        .context("cannot list the sealed tokens")?;
        let mut values = Vec::new();
        for user in users {
            let sealed = [
                user.heroku_access_token,
                user.heroku_refresh_token,
                user.github_token,
            ];
            for (column, value) in TOKEN_COLUMNS.into_iter().zip(sealed) {
                let place = SealedPlace::User {
                    team_id: user.team_id.clone(),
                    user_id: user.user_id.clone(),
                    column,
                };
                values.extend(value.map(|value| SealedValue { place, value }));
            }
        }
        Ok(values)
    }

    async fn sealed_in_deploys(&self) -> anyhow::Result<Vec<SealedValue>> {
        let deploys: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, response_url, two_factor_code FROM deploys \
             WHERE response_url LIKE 'v1:%' OR two_factor_code IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .context("cannot list the deploys' sealed values")?;
        let mut values = Vec::new();
        for (deploy_id, response_url, code) in deploys {
            if response_url.starts_with("v1:") {
                values.push(SealedValue {
                    place: SealedPlace::DeployResponseUrl { deploy_id },
                    value: response_url,
                });
            }
            values.extend(code.map(|value| SealedValue {
                place: SealedPlace::DeployTwoFactor { deploy_id },
                value,
            }));
        }
        Ok(values)
    }

    /// Replaces `sealed.value` by `resealed` if the cell still holds it; whether it did.
    pub async fn swap_sealed(&self, sealed: &SealedValue, resealed: &str) -> anyhow::Result<bool> {
        let user_sql;
        let sql = match &sealed.place {
            SealedPlace::User { column, .. } => {
                // The column name comes from the enum, never from input.
                user_sql = format!(
                    "UPDATE users SET {c} = $1 WHERE {c} = $2 AND team_id = $3 AND user_id = $4",
                    c = column.name()
                );
                user_sql.as_str()
            }
            SealedPlace::Workspace { .. } => {
                "UPDATE workspaces SET bot_token = $1 WHERE bot_token = $2 AND team_id = $3"
            }
            SealedPlace::DeployResponseUrl { .. } => {
                "UPDATE deploys SET response_url = $1 WHERE response_url = $2 AND id = $3"
            }
            SealedPlace::DeployTwoFactor { .. } => {
                "UPDATE deploys SET two_factor_code = $1 WHERE two_factor_code = $2 AND id = $3"
            }
            SealedPlace::OutboxBody { .. } => {
                "UPDATE outbox SET body = $1 WHERE body = $2 AND id = $3"
            }
        };
        let query = sqlx::query(sql).bind(resealed).bind(&sealed.value);
        let query = match &sealed.place {
            SealedPlace::User {
                team_id, user_id, ..
            } => query.bind(team_id).bind(user_id),
            SealedPlace::Workspace { team_id } => query.bind(team_id),
            SealedPlace::DeployResponseUrl { deploy_id }
            | SealedPlace::DeployTwoFactor { deploy_id } => query.bind(*deploy_id),
            SealedPlace::OutboxBody { message_id, .. } => query.bind(*message_id),
        };
        let done = query
            .execute(&self.pool)
            .await
            .context("cannot re-seal a value")?;
        Ok(done.rows_affected() == 1)
    }

    /// Every app a deploy touched, with its deployer, newest deploy first.
    pub async fn deployed_apps(&self) -> anyhow::Result<Vec<DeployedApp>> {
        sqlx::query_as(
            "SELECT app_id, app_name, team_id, user_id FROM deploys \
             WHERE app_id IS NOT NULL AND app_name IS NOT NULL ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .context("cannot list the deployed apps")
    }

    /// Which key (its id) `app_id`'s webhook secret was last registered under.
    pub async fn webhook_key(&self, app_id: &str) -> anyhow::Result<Option<String>> {
        sqlx::query_scalar("SELECT key_id FROM webhook_keys WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .context("cannot read a webhook's key")
    }

    /// Records that `app_id`'s webhook secret is now registered under `key_id`.
    pub async fn set_webhook_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO webhook_keys (app_id, key_id, registered_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id) DO UPDATE SET key_id = $2, registered_at = $3",
        )
        .bind(app_id)
        .bind(key_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .context("cannot record a webhook's key")?;
        Ok(())
    }
}
