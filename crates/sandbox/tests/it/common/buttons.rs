//! Pressing the bot's buttons as Slack would: a signed `block_actions` payload posted
//! to `/slack/interactions`, with a live `response_url` minted by the fake Slack.

use chatops::store::DeployState;
use chatops_fakes::SANDBOX_TEAM;
use serde_json::json;

use super::deploys::{CHANNEL, DeployWorld};
use super::{SECRET, now, signed_headers};

impl DeployWorld {
    /// Presses the button `action_id` carrying `value` as `user`; returns the HTTP status.
    pub async fn press(&self, user: &str, action_id: &str, value: &str) -> u16 {
        self.press_signed(SECRET, user, action_id, value).await
    }

    /// [`DeployWorld::press`] signed with `secret` (a forger's, in attack tests).
    pub async fn press_signed(
        &self,
        secret: &str,
        user: &str,
        action_id: &str,
        value: &str,
    ) -> u16 {
        let slack = &self.app.sandbox.slack;
        let payload = json!({
            "type": "block_actions",
            "user": {"id": user, "username": "someone"},
            "team": {"id": SANDBOX_TEAM},
            "channel": {"id": CHANNEL},
            "response_url": slack.response_url(SANDBOX_TEAM, CHANNEL, user),
            "trigger_id": format!("{}.{}", now(), fastrand::u64(..)),
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        });
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        let timestamp = self.app.state.clock.now();
        let headers = signed_headers(secret, timestamp, &body);
        let (status, _) = self.app.post("/slack/interactions", &headers, body).await;
        status
    }

    /// Waits until deploy number `n` asks for confirmation, then presses `action_id`
    /// (`confirm_go` or `confirm_cancel`) on it as `user`.
    pub async fn answer_confirmation(&self, n: usize, user: &str, action_id: &str) {
        let asking = self.wait_for_state(n, DeployState::Confirming).await;
        let status = self.press(user, action_id, &asking.id.to_string()).await;
        assert_eq!(status, 200);
    }
}
