//! The Events API as Slack sends it to an app: an `event_callback` envelope, signed
//! with the app's signing secret (v0: `HMAC-SHA256(secret, "v0:{ts}:{body}")`),
//! posted as JSON to the app's events Request URL. The fake sends `app_home_opened`
//! when someone opens the app's Home tab, carrying the view last published for them,
//! as Slack does.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::FakeSlack;
use super::world::random_alphanumeric;

/// Where the app's events go, and the secret they are signed with.
#[derive(Debug, Clone)]
pub(super) struct EventsEndpoint {
    pub url: String,
    pub signing_secret: String,
}

/// A signed event, ready to post.
#[derive(Debug)]
struct Outgoing {
    url: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl FakeSlack {
    /// Sends the app's events to `url`, signed with `signing_secret`.
    pub fn set_events_endpoint(&self, url: &str, signing_secret: &str) {
        self.lock().events_endpoint = Some(EventsEndpoint {
            url: url.to_owned(),
            signing_secret: signing_secret.to_owned(),
        });
    }

    /// `user` opens the app's Home tab in `team`: Slack sends `app_home_opened`.
    /// Returns the app's HTTP status.
    ///
    /// # Errors
    /// No events endpoint was set, `user` is not in `team`, or the app did not answer.
    pub async fn open_home(&self, team: &str, user: &str) -> anyhow::Result<u16> {
        let outgoing = self.home_opened(team, user)?;
        let response = reqwest::Client::new()
            .post(&outgoing.url)
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", &outgoing.timestamp)
            .header("x-slack-signature", &outgoing.signature)
            .body(outgoing.body)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    fn home_opened(&self, team: &str, user: &str) -> anyhow::Result<Outgoing> {
        let mut state = self.lock();
        let endpoint = (state.events_endpoint.clone())
            .ok_or_else(|| anyhow::anyhow!("no events endpoint set"))?;
        let workspace = (state.world.workspace(team))
            .filter(|w| w.users.iter().any(|(id, _)| id == user))
            .ok_or_else(|| anyhow::anyhow!("{user} is not in {team}"))?
            .clone();
        let event_ts = state.next_ts();
        let mut event = json!({
            "type": "app_home_opened",
            "user": user,
            "channel": format!("D{}", &user[1..]),
            "tab": "home",
            "event_ts": event_ts,
        });
        if let Some(home) = state.records.home(team, user) {
            event["view"] = home.view;
        }
        let envelope = json!({
            "token": "legacy-verification-token-unused",
            "team_id": team,
            "api_app_id": state.world.app.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": format!("Ev{}", random_alphanumeric(10)),
            "event_time": event_ts.split('.').next().unwrap_or_default().parse::<i64>().unwrap_or_default(),
            "authorizations": [{
                "enterprise_id": Value::Null,
                "team_id": team,
                "user_id": workspace.bot_user_id,
                "is_bot": true,
                "is_enterprise_install": false,
            }],
            "is_ext_shared_channel": false,
        });
        let body = envelope.to_string();
        let timestamp = event_ts.split('.').next().unwrap_or_default().to_owned();
        Ok(Outgoing {
            signature: sign(&endpoint.signing_secret, &timestamp, &body),
            url: endpoint.url,
            timestamp,
            body,
        })
    }
}

/// Slack's v0 request signature.
fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}
