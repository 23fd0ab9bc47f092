//! Heroku app webhooks: progress pushed instead of polled. At the start of a deploy
//! the app is subscribed (best effort) to `api:build`, `api:release` and `dyno` events
//! at `POST /webhooks/heroku`; each signed delivery wakes that app's running deploys,
//! so the thread moves within moments of the change. Polling still runs underneath,
//! so a lost delivery only costs time.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use crate::bot::Bot;
use crate::heroku::{NewWebhook, WebhookLevel};

/// Where Heroku delivers, under the bot's `BASE_URL`.
pub const WEBHOOK_PATH: &str = "/webhooks/heroku";

/// The entities whose changes move a deploy.
const EVENTS: [&str; 3] = ["api:build", "api:release", "dyno"];

/// The secret deliveries are signed with, derived from `ENCRYPTION_KEY` so every
/// process agrees without another variable.
pub fn delivery_secret(app: &Bot) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(app.config.encryption_key.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
    mac.update(b"chatops heroku webhook secret v1");
    hex::encode(mac.finalize().into_bytes())
}

/// An id of the key [`delivery_secret`] derives from (not the key, nor the secret):
/// what `chatops rekey` records to re-register each webhook once per key.
pub fn key_id(app: &Bot) -> String {
    let digest = <Sha256 as sha2::Digest>::digest(delivery_secret(app).as_bytes());
    hex::encode(&digest[..8])
}

/// Registers `app_name`'s webhook again with the current [`delivery_secret`] (after a
/// key rotation); whether it had one. Heroku's webhooks cannot be read back, so the
/// old subscription is deleted and a new one created.
pub async fn reregister(app: &Bot, token: &SecretString, app_name: &str) -> anyhow::Result<bool> {
    let url = format!("{}{WEBHOOK_PATH}", app.config.base_url);
    let hooks = app.heroku.webhooks(token, app_name).await?;
    let Some(old) = hooks.iter().find(|hook| hook.url == url) else {
        return Ok(false);
    };
    app.heroku
        .delete_webhook(token, app_name, &old.id, None)
        .await?;
    app.heroku
        .create_webhook(token, app_name, &new_webhook(app, url), None)
        .await?;
    Ok(true)
}

fn new_webhook(app: &Bot, url: String) -> NewWebhook {
    NewWebhook {
        include: EVENTS.map(String::from).to_vec(),
        level: WebhookLevel::Notify,
        url,
        secret: Some(delivery_secret(app).into()),
        authorization: None,
    }
}

/// Subscribes `app_name` to deploy events unless it already is. Failures are only
/// logged: polling covers for a missing webhook.
pub async fn subscribe(
    app: &Bot,
    token: &SecretString,
    app_name: &str,
    two_factor_code: Option<&str>,
) {
    let url = format!("{}{WEBHOOK_PATH}", app.config.base_url);
    match app.heroku.webhooks(token, app_name).await {
        Ok(hooks) if hooks.iter().any(|hook| hook.url == url) => return,
        Ok(_) => {}
        Err(error) => {
            tracing::info!(app = app_name, %error, "cannot list app webhooks; polling only");
            return;
        }
    }
    let hook = new_webhook(app, url);
    if let Err(error) = app
        .heroku
        .create_webhook(token, app_name, &hook, two_factor_code)
        .await
    {
        tracing::info!(app = app_name, %error, "cannot subscribe to app webhooks; polling only");
    }
}

/// The header Heroku signs each delivery in.
const SIGNATURE_HEADER: &str = "heroku-webhook-hmac-sha256";

/// Why a delivery was refused; the text is the whole answer to Heroku.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryRefused {
    #[error("missing or malformed Heroku-Webhook-Hmac-SHA256 header")]
    MalformedSignature,
    #[error("the Heroku-Webhook-Hmac-SHA256 header was sent more than once")]
    DuplicateSignature,
    #[error("Heroku-Webhook-Hmac-SHA256 does not match the body")]
    Mismatch,
}

#[derive(Deserialize)]
struct Delivery {
    data: DeliveryData,
}

#[derive(Deserialize)]
struct DeliveryData {
    app: DeliveryApp,
}

#[derive(Deserialize)]
struct DeliveryApp {
    id: String,
}

/// Checks one delivery: `signature` is the raw header value (base64 of the body's
/// HMAC-SHA256 under `secret`, compared in constant time). Returns the id of the app
/// it is about, or `None` for a genuine delivery about something without an app.
pub fn verify_delivery(
    secret: &[u8],
    signature: &str,
    body: &[u8],
) -> Result<Option<String>, DeliveryRefused> {
    let sent = STANDARD
        .decode(signature)
        .map_err(|_| DeliveryRefused::MalformedSignature)?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&sent)
        .map_err(|_| DeliveryRefused::Mismatch)?;
    Ok(serde_json::from_slice::<Delivery>(body)
        .ok()
        .map(|delivery| delivery.data.app.id))
}

/// The one signature header of a request, as visible ASCII.
pub fn signature_header(headers: &HeaderMap) -> Result<&str, DeliveryRefused> {
    let mut values = headers.get_all(SIGNATURE_HEADER).iter();
    let value = values.next().ok_or(DeliveryRefused::MalformedSignature)?;
    if values.next().is_some() {
        return Err(DeliveryRefused::DuplicateSignature);
    }
    value
        .to_str()
        .map_err(|_| DeliveryRefused::MalformedSignature)
}
