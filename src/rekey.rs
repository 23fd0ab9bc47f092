//! `chatops rekey`: after a key rotation (a new `ENCRYPTION_KEY`, the old one as
//! `ENCRYPTION_KEY_PREVIOUS`), re-seals every sealed value in the store under the new
//! key and registers each app's Heroku webhook again with the secret the new key
//! derives, so the previous key can be retired.
//!
//! Each value is swapped alone, and only if it still holds what was read
//! ([`crate::store::Store::swap_sealed`]); each webhook's new key is recorded once it
//! is registered. Interrupted anywhere, it is run again; a run with nothing left to do
//! changes nothing and says so.

use std::collections::HashSet;
use std::fmt;

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::bot::BotState;
use crate::outbox::{self, Post};
use crate::store::{SealedPlace, SealedValue};
use crate::vault::{Vault, VaultError};

/// What a run changed, and what it could not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// People's Heroku and GitHub tokens.
    pub tokens: usize,
    /// Workspace installs' bot tokens.
    pub bot_tokens: usize,
    /// Deploys' `response_url`s and 2FA codes.
    pub deploy_values: usize,
    /// Outbox answers holding a sealed `response_url`.
    pub queued_answers: usize,
    pub webhooks: usize,
    /// Values that open with neither key: left as they are.
    pub unopened: usize,
    /// Apps whose webhook could not be registered again (logged).
    pub webhook_failures: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "re-sealed {} tokens, {} workspace bot tokens, {} deploy values and {} queued answers; \
             re-registered {} webhooks",
            self.tokens, self.bot_tokens, self.deploy_values, self.queued_answers, self.webhooks
        )?;
        if self.unopened > 0 {
            write!(
                f,
                "; {} values open with neither key and were left as they are",
                self.unopened
            )?;
        }
        if self.webhook_failures > 0 {
            write!(
                f,
                "; {} webhooks could not be registered again (see the log; run rekey again)",
                self.webhook_failures
            )?;
        }
        Ok(())
    }
}

/// Re-seals everything and re-registers the webhooks; what it did.
pub async fn rekey(app: &BotState) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for sealed in app.store.sealed_values().await? {
        let resealed = match resealed(app, &sealed).await {
            Ok(resealed) => resealed,
            Err(error) => {
                tracing::warn!(place = kind(&sealed.place), %error, "a sealed value does not open");
                report.unopened += 1;
                continue;
            }
        };
        if let Some(resealed) = resealed
            && app.store.swap_sealed(&sealed, &resealed).await?
        {
            *counter(&mut report, &sealed.place) += 1;
        }
    }
    reregister_webhooks(app, &mut report).await?;
    Ok(report)
}

/// `sealed` sealed again under the current key, or `None` when it already is.
async fn resealed(app: &BotState, sealed: &SealedValue) -> anyhow::Result<Option<String>> {
    let vault = &app.vault;
    let context = match &sealed.place {
        SealedPlace::User {
            team_id,
            user_id,
            column,
        } => crate::accounts::token_context(*column, team_id, user_id),
        SealedPlace::Workspace { team_id } => crate::workspaces::sealed_for(team_id),
        SealedPlace::DeployResponseUrl { deploy_id }
        | SealedPlace::DeployTwoFactor { deploy_id } => {
            let deploy = app
                .store
                .deploy(*deploy_id)
                .await?
                .context("the deploy is gone")?;
            match sealed.place {
                SealedPlace::DeployTwoFactor { .. } => crate::deploy::two_factor_context(&deploy),
                _ => outbox::response_url_context(&deploy.team_id),
            }
        }
        SealedPlace::OutboxBody { team_id, .. } => {
            let mut post: Post = serde_json::from_str(&sealed.value)?;
            let context = outbox::response_url_context(team_id);
            let url = post.response_url.as_deref().unwrap_or_default();
            let Some(url) = again(vault, url, &context)? else {
                return Ok(None);
            };
            post.response_url = Some(url);
            return Ok(Some(serde_json::to_string(&post)?));
        }
    };
    Ok(again(vault, &sealed.value, &context)?)
}

/// `value` sealed again for `context` if the previous key sealed it.
fn again(vault: &Vault, value: &str, context: &str) -> Result<Option<String>, VaultError> {
    let opened = vault.open(value, context)?;
    Ok(opened
        .needs_reseal
        .then(|| vault.seal(opened.secret.expose_secret(), context)))
}

fn counter<'r>(report: &'r mut Report, place: &SealedPlace) -> &'r mut usize {
    match place {
        SealedPlace::User { .. } => &mut report.tokens,
        SealedPlace::Workspace { .. } => &mut report.bot_tokens,
        SealedPlace::DeployResponseUrl { .. } | SealedPlace::DeployTwoFactor { .. } => {
            &mut report.deploy_values
        }
        SealedPlace::OutboxBody { .. } => &mut report.queued_answers,
    }
}

/// Where a value is, for the log (never the value).
fn kind(place: &SealedPlace) -> &'static str {
    match place {
        SealedPlace::User { column, .. } => column.name(),
        SealedPlace::Workspace { .. } => "workspaces.bot_token",
        SealedPlace::DeployResponseUrl { .. } => "deploys.response_url",
        SealedPlace::DeployTwoFactor { .. } => "deploys.two_factor_code",
        SealedPlace::OutboxBody { .. } => "outbox.body",
    }
}

/// Registers every deployed app's webhook again under the current key, as the app's
/// newest deployer, unless that was already done for this key.
async fn reregister_webhooks(app: &BotState, report: &mut Report) -> anyhow::Result<()> {
    let key_id = crate::webhooks::key_id(app);
    let mut seen = HashSet::new();
    for deployed in app.store.deployed_apps().await? {
        if !seen.insert(deployed.app_id.clone())
            || app.store.webhook_key(&deployed.app_id).await?.as_deref() == Some(&key_id)
        {
            continue;
        }
        let registered =
            match crate::accounts::linked(app, &deployed.team_id, &deployed.user_id).await {
                Ok(linked) => {
                    crate::webhooks::reregister(app, &linked.heroku_token, &deployed.app_name).await
                }
                Err(error) => Err(anyhow::anyhow!("its deployer's tokens: {error}")),
            };
        match registered {
            Ok(had_one) => {
                let now = app.clock.now();
                app.store
                    .set_webhook_key(&deployed.app_id, &key_id, now)
                    .await?;
                report.webhooks += usize::from(had_one);
            }
            Err(error) => {
                tracing::warn!(app = %deployed.app_name, error = format!("{error:#}"), "cannot register the webhook again");
                report.webhook_failures += 1;
            }
        }
    }
    Ok(())
}
