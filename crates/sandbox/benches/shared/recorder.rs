//! A webhook recorder: an HTTP endpoint subscribed to an app's Heroku changes beside
//! the bot (the fake, like Heroku, delivers to each subscription on its own, so the
//! recorder and the bot hear of a change at about the same moment), keeping every
//! event with when it arrived. Its receipt times are the moment
//! of a change when a benchmark measures how long the bot took to act on it. Shared by
//! the benchmarks that include it (`deploys`, `scale`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use chatops::heroku::{HerokuClient, NewWebhook, WebhookLevel};
use secrecy::SecretString;
use serde_json::Value;

/// One delivery, with when it arrived.
#[derive(Clone)]
pub struct Received {
    pub at: Instant,
    pub event: Value,
}

/// What a recorder received, in arrival order; clones share it.
#[derive(Clone, Default)]
pub struct Recorded(Arc<Mutex<Vec<Received>>>);

impl Recorded {
    pub fn snapshot(&self) -> Vec<Received> {
        self.0.lock().expect("recorder lock").clone()
    }
}

/// Serves a recorder on a free loopback port; returns the URL to subscribe and what
/// it will receive.
pub async fn start() -> anyhow::Result<(String, Recorded)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/events", listener.local_addr()?);
    let recorded = Recorded::default();
    let router = axum::Router::new()
        .route("/events", axum::routing::post(record))
        .with_state(recorded.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((url, recorded))
}

/// Subscribes the recorder at `url` to `app`'s builds, releases and dynos, with the
/// token of a collaborator.
pub async fn subscribe(
    heroku: &HerokuClient,
    token: &SecretString,
    app: &str,
    url: &str,
) -> anyhow::Result<()> {
    let hook = NewWebhook {
        include: ["api:build", "api:release", "dyno"]
            .map(String::from)
            .to_vec(),
        level: WebhookLevel::Notify,
        url: url.to_owned(),
        secret: None,
        authorization: None,
    };
    heroku.create_webhook(token, app, &hook, None).await?;
    Ok(())
}

async fn record(State(recorded): State<Recorded>, Json(event): Json<Value>) {
    let received = Received {
        at: Instant::now(),
        event,
    };
    recorded.0.lock().expect("recorder lock").push(received);
}
