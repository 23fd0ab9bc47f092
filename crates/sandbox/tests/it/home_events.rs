//! `POST /slack/events` attacked first: forged and tampered signatures, replays,
//! stale timestamps, oversized and ill-typed bodies, and genuine events that name
//! another workspace or another person. Then Slack's URL verification. The real app
//! over HTTP, on every backend; nothing refused may be recorded or published.

use crate::common;

use chatops_fakes::SANDBOX_TEAM;
use common::deploys::ALICE;
use common::{SECRET, TestApp, now};
use serde_json::{Value, json};

async fn apps() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in common::databases().await {
        apps.push(TestApp::spawn(db).await);
    }
    apps
}

/// An `app_home_opened` envelope like Slack's, unique per call (its `event_id`).
pub fn home_opened(team: &str, user: &str) -> String {
    json!({
        "token": "legacy-token-ignored",
        "team_id": team,
        "api_app_id": "A0CHATOPS01",
        "event": {"type": "app_home_opened", "user": user, "channel": "D0ALICE", "tab": "home",
                  "event_ts": format!("{}.000100", now())},
        "type": "event_callback",
        "event_id": format!("Ev{}", fastrand::u64(..)),
        "event_time": now(),
    })
    .to_string()
}

/// The headers Slack sends with a signed JSON body.
pub fn json_headers(secret: &str, timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = timestamp.to_string();
    let signature = chatops::slack::verify::sign(secret.as_bytes(), &timestamp, body);
    vec![
        ("content-type", "application/json".into()),
        ("x-slack-request-timestamp", timestamp),
        ("x-slack-signature", signature),
    ]
}

/// What a refused event must leave: no Home tab recorded, no view published.
async fn nothing_done(app: &TestApp) {
    let store = &app.db.store;
    assert_eq!(store.home_tab(SANDBOX_TEAM, ALICE).await.unwrap(), None);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.sandbox.slack.home(SANDBOX_TEAM, ALICE), None);
}

#[tokio::test]
async fn forged_tampered_stale_and_replayed_events_are_refused_and_leave_nothing() {
    for app in apps().await {
        let body = home_opened(SANDBOX_TEAM, ALICE);
        let forged = json_headers("not-the-secret", now(), body.as_bytes());
        let tampered = body.replace(ALICE, "U0MALLORY");
        let signed = json_headers(SECRET, now(), body.as_bytes());
        let cases = [(forged, body.clone()), (signed.clone(), tampered)];
        for (headers, body) in cases {
            let (status, text) = app.post("/slack/events", &headers, body).await;
            assert_eq!(
                (status, text.as_str()),
                (401, "X-Slack-Signature does not match the request body")
            );
        }
        for skew in [-301, 301] {
            let headers = json_headers(SECRET, now() + skew, body.as_bytes());
            let (status, text) = app.post("/slack/events", &headers, body.clone()).await;
            assert_eq!(
                (status, text.as_str()),
                (
                    401,
                    "X-Slack-Request-Timestamp is more than 5 minutes away from now"
                ),
                "skew {skew}"
            );
        }
        nothing_done(&app).await;
        // The genuine one once; never twice.
        let (first, _) = app.post("/slack/events", &signed, body.clone()).await;
        let (second, text) = app.post("/slack/events", &signed, body).await;
        assert_eq!(first, 200);
        assert_eq!(
            (second, text.as_str()),
            (
                401,
                "this request was already received once (replayed signature)"
            )
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn oversized_ill_typed_and_malformed_bodies_are_refused() {
    for app in apps().await {
        let padded = home_opened(SANDBOX_TEAM, ALICE).replacen(
            '{',
            &format!("{{\"pad\":\"{}\",", "x".repeat(64 * 1024)),
            1,
        );
        let cases: [(Vec<u8>, &str, u16, &str); 5] = [
            (
                padded.into_bytes(),
                "application/json",
                413,
                "request body is larger than 64 KiB",
            ),
            (
                home_opened(SANDBOX_TEAM, ALICE).into_bytes(),
                "application/x-www-form-urlencoded",
                415,
                "expected Content-Type: application/json",
            ),
            (
                b"{\"type\":".to_vec(),
                "application/json",
                400,
                "request body is not valid JSON: EOF while parsing a value at line 1 column 8",
            ),
            (
                br#"{"type":"event_callback","event":{"type":"app_home_opened"}}"#.to_vec(),
                "application/json",
                400,
                "request body is not valid JSON: an event_callback needs `team_id` and `event`",
            ),
            (
                br#"{"type":"url_verification"}"#.to_vec(),
                "application/json",
                400,
                "request body is not valid JSON: a url_verification needs `challenge`",
            ),
        ];
        for (body, content_type, status, reason) in cases {
            let mut headers = json_headers(SECRET, now(), &body);
            headers[0].1 = content_type.into();
            let (got, text) = app.post("/slack/events", &headers, body).await;
            assert_eq!((got, text.as_str()), (status, reason));
        }
        assert_eq!(app.rows().await, (0, 0), "no signature claimed");
        nothing_done(&app).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn url_verification_echoes_the_challenge_only_when_signed() {
    for app in apps().await {
        let body = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"})
            .to_string();
        let unsigned = vec![("content-type", "application/json".to_owned())];
        let (status, text) = app.post("/slack/events", &unsigned, body.clone()).await;
        assert_eq!(
            (status, text.as_str()),
            (401, "missing x-slack-request-timestamp header")
        );
        let headers = json_headers(SECRET, now(), body.as_bytes());
        let (status, text) = app.post("/slack/events", &headers, body).await;
        assert_eq!(status, 200);
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            answer,
            json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn other_events_and_the_messages_tab_are_acknowledged_and_ignored() {
    for app in apps().await {
        let messages_tab = home_opened(SANDBOX_TEAM, ALICE).replace("\"home\"", "\"messages\"");
        let other = json!({"type": "event_callback", "team_id": SANDBOX_TEAM,
                           "event": {"type": "app_mention", "user": ALICE, "text": "<@U0BOT> hi"}})
        .to_string();
        for body in [messages_tab, other] {
            let headers = json_headers(SECRET, now(), body.as_bytes());
            let (status, _) = app.post("/slack/events", &headers, body).await;
            assert_eq!(status, 200);
        }
        nothing_done(&app).await;
        app.finish().await;
    }
}
