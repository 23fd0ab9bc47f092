//! App webhooks: Heroku pushing build, release and dyno changes to the bot, signed
//! with a shared secret, so deploys move without waiting for the next poll.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::{Call, segment};
use super::types::NamedRef;
use super::{HerokuClient, HerokuError};
use crate::outbound::Replay;

/// A webhook subscription of an app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppWebhook {
    pub id: String,
    pub app: NamedRef,
    /// Entities delivered: `api:build`, `api:release`, `dyno`, ...
    pub include: Vec<String>,
    pub level: WebhookLevel,
    pub url: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `notify`: one attempt per event; `sync`: retried until delivered or a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookLevel {
    Notify,
    Sync,
}

/// A subscription to create.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub include: Vec<String>,
    pub level: WebhookLevel,
    pub url: String,
    /// Signs every delivery (`Heroku-Webhook-Hmac-SHA256`); Heroku makes one up if absent.
    pub secret: Option<SecretString>,
    /// Sent back as the `Authorization` header of every delivery.
    pub authorization: Option<SecretString>,
}

impl NewWebhook {
    fn body(&self) -> serde_json::Value {
        let mut body = json!({"include": self.include, "level": self.level, "url": self.url});
        if let Some(secret) = &self.secret {
            body["secret"] = secret.expose_secret().into();
        }
        if let Some(authorization) = &self.authorization {
            body["authorization"] = authorization.expose_secret().into();
        }
        body
    }
}

impl HerokuClient {
    /// `POST /apps/{app}/webhooks`. Not retried once Heroku may have acted on it.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn create_webhook(
        &self,
        token: &SecretString,
        app: &str,
        webhook: &NewWebhook,
        two_factor_code: Option<&str>,
    ) -> Result<AppWebhook, HerokuError> {
        let body = webhook.body();
        let call = Call {
            method: Method::POST,
            path: format!("/apps/{}/webhooks", segment(app)),
            body: Some(&body),
            two_factor_code,
            range: None,
            replay: Replay::Unsafe,
        };
        self.json(token, call).await
    }

    /// `GET /apps/{app}/webhooks`.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn webhooks(
        &self,
        token: &SecretString,
        app: &str,
    ) -> Result<Vec<AppWebhook>, HerokuError> {
        self.list(
            token,
            format!("/apps/{}/webhooks", segment(app)),
            None,
            None,
        )
        .await
    }

    /// `DELETE /apps/{app}/webhooks/{id}`; answers the deleted subscription.
    #[tracing::instrument(skip_all, fields(app = %app, webhook_id = %webhook_id))]
    pub async fn delete_webhook(
        &self,
        token: &SecretString,
        app: &str,
        webhook_id: &str,
        two_factor_code: Option<&str>,
    ) -> Result<AppWebhook, HerokuError> {
        let call: Call<'_> = Call {
            method: Method::DELETE,
            path: format!("/apps/{}/webhooks/{}", segment(app), segment(webhook_id)),
            two_factor_code,
            ..Call::get(String::new())
        };
        self.json(token, call).await
    }
}
