//! OAuth authorizations on the Platform API, which is how a token is revoked: deleting
//! the authorization kills its access and refresh tokens at once.
//!
//! id.heroku.com's token endpoint does not say which authorization it issued a token
//! under, so the bot finds it the way the Heroku CLI's own logout does: list the
//! account's authorizations and pick the one holding the token.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::client::{Call, segment};
use super::{HerokuClient, HerokuError};
use crate::outbound::Replay;

/// `GET /oauth/authorizations`: one authorization, as far as revoking needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct Authorization {
    pub id: String,
    pub access_token: Option<TokenRef>,
    pub refresh_token: Option<TokenRef>,
}

/// A token an authorization holds; only ever compared, never shown.
#[derive(Clone, Deserialize)]
pub struct TokenRef {
    token: Option<String>,
}

impl TokenRef {
    fn is(&self, wanted: &SecretString) -> bool {
        self.token.as_deref() == Some(wanted.expose_secret())
    }
}

impl std::fmt::Debug for TokenRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenRef([REDACTED])")
    }
}

/// What revoking found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The authorization is deleted (or the token already no longer works).
    Revoked,
    /// No authorization of the account holds the token.
    NotFound,
}

impl HerokuClient {
    /// `GET /oauth/authorizations`: the token's account's authorizations.
    #[tracing::instrument(skip_all)]
    pub async fn authorizations(
        &self,
        token: &SecretString,
    ) -> Result<Vec<Authorization>, HerokuError> {
        self.list(token, "/oauth/authorizations".to_owned(), None, None)
            .await
    }

    /// `DELETE /oauth/authorizations/{id}`.
    #[tracing::instrument(skip_all)]
    pub async fn delete_authorization(
        &self,
        token: &SecretString,
        id: &str,
    ) -> Result<(), HerokuError> {
        let call = Call {
            method: Method::DELETE,
            replay: Replay::Safe,
            ..Call::get(format!("/oauth/authorizations/{}", segment(id)))
        };
        self.json::<serde_json::Value, ()>(token, call).await?;
        Ok(())
    }

    /// Revokes the authorization holding `access` (or `refresh`), acting as it. A
    /// token Heroku already refuses, or an authorization already gone, counts as
    /// revoked.
    pub async fn revoke(
        &self,
        access: &SecretString,
        refresh: &SecretString,
    ) -> Result<Revocation, HerokuError> {
        let listed = match self.authorizations(access).await {
            Ok(listed) => listed,
            Err(error) if error.is_unauthorized() => return Ok(Revocation::Revoked),
            Err(error) => return Err(error),
        };
        let holds = |found: &&Authorization| {
            found.access_token.as_ref().is_some_and(|t| t.is(access))
                || found.refresh_token.as_ref().is_some_and(|t| t.is(refresh))
        };
        let Some(found) = listed.iter().find(holds) else {
            return Ok(Revocation::NotFound);
        };
        match self.delete_authorization(access, &found.id).await {
            Ok(()) => Ok(Revocation::Revoked),
            Err(error) if error.is_not_found() || error.is_unauthorized() => {
                Ok(Revocation::Revoked)
            }
            Err(error) => Err(error),
        }
    }
}
