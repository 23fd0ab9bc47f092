//! A `response_url` is where the bot posts answers, so a payload naming any other URL
//! than Slack's would make the bot post (with the answer's contents) wherever a forged
//! or tampered payload says. Such commands and presses are refused, and a listener
//! standing in for the outside host sees nothing arrive; on every backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common;

use chatops_fakes::SANDBOX_TEAM;
use common::deploys::{ALICE, CHANNEL, DeployWorld, settle_outbox};
use common::{SECRET, TestApp, now, signed_headers, slash_body_as};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback listener standing in for `https://evil.example`: its URL, and how
/// many connections it accepted.
async fn outside_host() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0; 4096];
            let _ = stream.read(&mut buffer).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await;
        }
    });
    (url, hits)
}

/// Gives the worker and the outbox time to do whatever they would, then checks
/// that nothing reached the outside host.
async fn assert_nothing_sent(world: &DeployWorld, hits: &AtomicUsize) {
    settle_outbox(&world.app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    settle_outbox(&world.app).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the bot called the outside URL"
    );
}

#[tokio::test]
async fn a_command_with_a_response_url_outside_slack_is_refused_and_never_called() {
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let (outside, hits) = outside_host().await;
        for (url, shown) in [
            (format!("{outside}/commands/T0/1/x"), outside.clone()),
            (
                "https://evil.example/x".into(),
                "https://evil.example".into(),
            ),
            (
                "https://hooks.slack.com.evil.example/x".into(),
                "https://hooks.slack.com.evil.example".into(),
            ),
        ] {
            let body = slash_body_as(
                SANDBOX_TEAM,
                CHANNEL,
                ALICE,
                &url,
                "deploy paipu to production",
            );
            let headers = signed_headers(SECRET, now(), &body);
            let (status, reply) = world.app.post("/slack/commands", &headers, body).await;
            assert_eq!(status, 200);
            let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
            assert_eq!(
                reply["text"],
                format!(
                    "I did not run this command: the response_url is not Slack's (it points at {shown}); nothing was done."
                )
            );
            assert_eq!(reply["response_type"], "ephemeral");
        }
        assert!(
            world.app.state.store.deploy(1).await.unwrap().is_none(),
            "no deploy was started"
        );
        assert_nothing_sent(&world, &hits).await;
        world.finish().await;
    }
}

#[tokio::test]
async fn a_button_press_with_a_response_url_outside_slack_is_refused_and_never_called() {
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let (outside, hits) = outside_host().await;
        let payload = json!({
            "type": "block_actions",
            "user": {"id": ALICE},
            "team": {"id": SANDBOX_TEAM},
            "response_url": format!("{outside}/actions/T0/1/x"),
            "actions": [{"action_id": "confirm_go", "value": "1", "type": "button"}],
        });
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        let headers = signed_headers(SECRET, now(), &body);
        let (status, text) = world.app.post("/slack/interactions", &headers, body).await;
        assert_eq!(
            (status, text.as_str()),
            (
                400,
                format!(
                    "the response_url is not Slack's (it points at {outside}); nothing was done"
                )
                .as_str()
            )
        );
        assert_nothing_sent(&world, &hits).await;
        world.finish().await;
    }
}

/// A `response_url` lets whoever holds it post into the channel for 30 minutes, so a
/// dump of the database must not show one: the deploy's and the queued answers' are
/// sealed, and still reach the person.
#[tokio::test]
async fn response_urls_are_sealed_in_the_deploys_and_the_outbox() {
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let slack = &world.app.sandbox.slack;
        let url = slack.response_url(SANDBOX_TEAM, CHANNEL, ALICE);
        let body = slash_body_as(
            SANDBOX_TEAM,
            CHANNEL,
            ALICE,
            &url,
            "deploy paipu to production",
        );
        let headers = signed_headers(SECRET, now(), &body);
        assert_eq!(
            world.app.post("/slack/commands", &headers, body).await.0,
            200
        );
        world.answer_confirmation(1, ALICE, "confirm_cancel").await;
        settle_outbox(&world.app).await;
        let texts: Vec<_> = slack.responses().into_iter().map(|r| r.text).collect();
        assert_eq!(
            texts,
            [
                "Deploy paipu-app-production?",
                "Cancelled: paipu-app-production was not started."
            ]
        );
        let cells = common::dump(&world.app.db).await;
        let sealed: Vec<_> = cells
            .iter()
            .filter(|(table, column, _)| table == "deploys" && column == "response_url")
            .collect();
        assert_eq!(sealed.len(), 1);
        assert!(sealed[0].2.starts_with("v1:"), "{sealed:?}");
        let path = url.split("/response/").nth(1).unwrap();
        for (table, column, value) in &cells {
            assert!(
                !value.contains(path),
                "{table}.{column} holds a response_url in clear: {value}"
            );
        }
        world.finish().await;
    }
}
