//! App webhooks: subscriptions (`/apps/{app}/webhooks`), the events builds, releases
//! and dynos publish, and their delivery: the envelope POSTed to the subscriber, signed
//! `Heroku-Webhook-Hmac-SHA256: base64(HMAC-SHA256(secret, body))`, once for `notify`
//! and retried for `sync`.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use super::activity::{Delivery, Webhook};
use super::errors::ApiError;
use super::gate::{Actor, json_body, two_factor_code};
use super::ids::{new_id, now, rfc3339, secret};
use super::paging::{self, BY_ID};
use super::read::Answer;
use super::world::World;
use super::{FakeHeroku, Inner};

/// The entities an app webhook can include.
const ENTITIES: &[&str] = &[
    "api:addon-attachment",
    "api:addon",
    "api:app",
    "api:build",
    "api:collaborator",
    "api:domain",
    "api:dyno",
    "api:formation",
    "api:release",
    "api:sni-endpoint",
    "dyno",
];
/// Attempts per `sync` delivery; `notify` gets one.
const SYNC_ATTEMPTS: u32 = 3;
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A delivery waiting for the sender.
pub(super) struct Outgoing {
    delivery_id: String,
    /// Deliveries of one subscription go out in order, one at a time.
    webhook_id: String,
    url: String,
    secret: String,
    authorization: Option<String>,
    attempts: u32,
    body: String,
}

#[derive(Deserialize)]
struct NewWebhook {
    include: Option<Vec<String>>,
    level: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    authorization: Option<String>,
}

pub(super) async fn create(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        World::check_two_factor(app, two_factor_code(&headers))?;
        let request: NewWebhook = json_body(&body)?;
        let (include, level, url) = validate(&request)?;
        if world
            .webhooks
            .iter()
            .any(|webhook| webhook.app_id == app.id && webhook.url == url)
        {
            return Err(ApiError::invalid_params("Url has already been taken."));
        }
        let generated = request.secret.is_none();
        let webhook = Webhook {
            id: new_id(),
            app_id: app.id.clone(),
            include,
            level,
            url,
            secret: request.secret.unwrap_or_else(|| secret("")),
            authorization: request.authorization,
            created_at: now(),
            updated_at: now(),
        };
        let mut response =
            (StatusCode::CREATED, Json(world.webhook_json(&webhook))).into_response();
        // Heroku hands back the secret it made up, once, in a header.
        if let (true, Ok(value)) = (generated, HeaderValue::from_str(&webhook.secret)) {
            response
                .headers_mut()
                .insert("Heroku-Webhook-Secret", value);
        }
        world.webhooks.push(webhook);
        Ok(response)
    })
}

fn validate(request: &NewWebhook) -> Result<(Vec<String>, String, String), ApiError> {
    let include = request
        .include
        .clone()
        .filter(|include| !include.is_empty())
        .ok_or_else(|| ApiError::invalid_params("include is required."))?;
    if let Some(unknown) = include
        .iter()
        .find(|entity| !ENTITIES.contains(&entity.as_str()))
    {
        return Err(ApiError::invalid_params(format!(
            "include contains an unknown entity: {unknown}."
        )));
    }
    let level = request
        .level
        .clone()
        .filter(|level| level == "notify" || level == "sync");
    let level = level.ok_or_else(|| ApiError::invalid_params("level must be notify or sync."))?;
    let url = request
        .url
        .clone()
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"));
    let url = url.ok_or_else(|| ApiError::invalid_params("url must be an http or https URL."))?;
    Ok((include, level, url))
}

pub(super) async fn list(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let webhooks = world
            .webhooks
            .iter()
            .filter(|webhook| webhook.app_id == app.id);
        paging::respond(
            webhooks
                .map(|webhook| world.webhook_json(webhook))
                .collect(),
            &headers,
            BY_ID,
        )
    })
}

pub(super) async fn delete(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        World::check_two_factor(app, two_factor_code(&headers))?;
        let app_id = app.id.clone();
        let index = world
            .webhooks
            .iter()
            .position(|webhook| webhook.app_id == app_id && webhook.id == id);
        let index = index.ok_or_else(|| ApiError::not_found("app webhook"))?;
        let data = world.webhook_json(&world.webhooks[index]);
        world.webhooks.remove(index);
        Ok(Json(data).into_response())
    })
}

impl World {
    /// Queues an event for every subscription of `app_id` that includes `include`.
    pub fn publish(
        &mut self,
        app_id: &str,
        include: &str,
        action: &str,
        actor_id: &str,
        data: Value,
        previous_data: Value,
    ) {
        let resource = include.trim_start_matches("api:");
        let (event_id, stamp, published) = (new_id(), rfc3339(now()), Instant::now());
        let user = self.user(actor_id);
        let actor = json!({"email": user.email, "id": user.id});
        let subscribed = self.webhooks.iter().filter(|webhook| {
            webhook.app_id == app_id && webhook.include.iter().any(|entity| entity == include)
        });
        let mut queued = Vec::new();
        for webhook in subscribed {
            let delivery_id = new_id();
            let body = json!({
                "id": event_id, "action": action, "actor": actor, "created_at": stamp, "updated_at": stamp,
                "published_at": stamp, "sequence": null, "resource": resource,
                "version": "application/vnd.heroku+json; version=3", "data": data, "previous_data": previous_data,
                "webhook_metadata": {
                    "attempt": {"id": new_id()}, "delivery": {"id": delivery_id},
                    "event": {"id": event_id, "include": include}, "webhook": {"id": webhook.id},
                },
            });
            let attempts = if webhook.level == "sync" {
                SYNC_ATTEMPTS
            } else {
                1
            };
            let delivery = Delivery {
                id: delivery_id.clone(),
                webhook_id: webhook.id.clone(),
                include: include.to_owned(),
                action: action.to_owned(),
                attempts: 0,
                last_status: None,
                succeeded: false,
                published,
            };
            let outgoing = Outgoing {
                delivery_id,
                webhook_id: webhook.id.clone(),
                url: webhook.url.clone(),
                secret: webhook.secret.clone(),
                authorization: webhook.authorization.clone(),
                attempts,
                body: body.to_string(),
            };
            queued.push((delivery, outgoing));
        }
        for (delivery, outgoing) in queued {
            self.deliveries.push(delivery);
            self.outbox.push(outgoing);
        }
    }
}

/// Hands each delivery to its subscription's sender, until the fake is dropped. Heroku
/// delivers to many subscribers at once; a sender per subscription keeps each one's
/// deliveries in the order the events happened, and a slow subscriber holds up only
/// its own.
pub(super) async fn send_all(inner: Weak<Inner>, mut queue: mpsc::UnboundedReceiver<Outgoing>) {
    let mut senders: HashMap<String, mpsc::UnboundedSender<Outgoing>> = HashMap::new();
    while let Some(outgoing) = queue.recv().await {
        let sender = senders
            .entry(outgoing.webhook_id.clone())
            .or_insert_with(|| {
                let (sender, deliveries) = mpsc::unbounded_channel();
                tokio::spawn(send_in_order(inner.clone(), deliveries));
                sender
            });
        // The receiver lives as long as the fake does.
        let _ = sender.send(outgoing);
    }
}

/// Sends one subscription's deliveries one at a time, each retried as its level says.
async fn send_in_order(inner: Weak<Inner>, mut queue: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some(outgoing) = queue.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        for attempt in 1..=outgoing.attempts {
            let status = post(&inner.http, &outgoing).await;
            let succeeded = status.is_some_and(|status| (200..300).contains(&status));
            inner.record_attempt(&outgoing.delivery_id, attempt, status, succeeded);
            if succeeded {
                break;
            }
            if attempt < outgoing.attempts {
                tokio::time::sleep(Duration::from_millis(100) * attempt).await;
            }
        }
    }
}

async fn post(http: &reqwest::Client, outgoing: &Outgoing) -> Option<u16> {
    let mut request = http
        .post(&outgoing.url)
        .timeout(DELIVERY_TIMEOUT)
        .header("Content-Type", "application/json")
        .header(
            "Heroku-Webhook-Hmac-SHA256",
            sign(&outgoing.secret, &outgoing.body),
        )
        .header("Heroku-Webhook-Id", &outgoing.delivery_id)
        .header("Heroku-Webhook-Sent-At", rfc3339(now()))
        .body(outgoing.body.clone());
    if let Some(authorization) = &outgoing.authorization {
        request = request.header("Authorization", authorization);
    }
    request
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

/// `base64(HMAC-SHA256(secret, body))`.
pub(super) fn sign(secret: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn signature_is_base64_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }
}
