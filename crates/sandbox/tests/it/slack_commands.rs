//! `/slack/commands` end to end: the real app over HTTP, on every backend.

use crate::common;

use common::{SECRET, TestApp, now, signed_headers, slash_body};

async fn apps() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in common::databases().await {
        apps.push(TestApp::spawn(db).await);
    }
    apps
}

fn reply_text(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).expect("a JSON reply");
    assert_eq!(json["response_type"], "ephemeral", "{body}");
    json["text"].as_str().expect("a text field").to_owned()
}

#[tokio::test]
async fn signed_help_gets_the_help_text_and_is_recorded() {
    for app in apps().await {
        let (status, body) = app.command("help").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(reply_text(&body), chatops::command::help_index());
        assert_eq!(app.rows().await, (1, 1));
        let recorded = &app.db.store.recent_commands("T0TEST", 1).await.unwrap()[0];
        assert_eq!(
            (recorded.channel_id.as_str(), recorded.user_id.as_str()),
            ("C0DEPLOYS", "U0ALICE")
        );
        assert_eq!(recorded.text, "help");
        assert_eq!(recorded.parsed.as_deref(), Some(r#"{"command":"help"}"#));
        app.finish().await;
    }
}

#[tokio::test]
async fn help_for_one_command_gets_its_details() {
    for app in apps().await {
        let (status, body) = app.command("help deploy").await;
        assert_eq!(status, 200);
        assert_eq!(
            reply_text(&body),
            chatops::command::help_for("deploy").unwrap()
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_typo_gets_a_suggestion_and_is_recorded_as_an_error() {
    for app in apps().await {
        let (status, body) = app.command("deplyo paipu").await;
        assert_eq!(status, 200);
        let expected = chatops::command::parse("deplyo paipu")
            .unwrap_err()
            .to_string();
        assert!(expected.contains("deploy"), "{expected}");
        assert_eq!(reply_text(&body), expected);
        let recorded = &app.db.store.recent_commands("T0TEST", 1).await.unwrap()[0];
        assert_eq!(recorded.parsed, None);
        assert_eq!(recorded.error.as_deref(), Some(expected.as_str()));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_tampered_body_is_refused_and_leaves_no_row() {
    for app in apps().await {
        let body = slash_body("help");
        let headers = signed_headers(SECRET, now(), &body);
        let tampered = body.replace("U0ALICE", "U0MALLORY");
        let (status, text) = app.post("/slack/commands", &headers, tampered).await;
        assert_eq!(
            (status, text.as_str()),
            (401, "X-Slack-Signature does not match the request body")
        );
        assert_eq!(app.rows().await, (0, 0));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_leaves_no_row() {
    for app in apps().await {
        let body = slash_body("help");
        let headers = signed_headers("not-the-secret", now(), &body);
        let (status, text) = app.post("/slack/commands", &headers, body).await;
        assert_eq!(
            (status, text.as_str()),
            (401, "X-Slack-Signature does not match the request body")
        );
        assert_eq!(app.rows().await, (0, 0));
        app.finish().await;
    }
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused_and_leave_no_row() {
    for app in apps().await {
        for skew in [-301, 301, -86_400] {
            let body = slash_body("help");
            let headers = signed_headers(SECRET, now() + skew, &body);
            let (status, text) = app.post("/slack/commands", &headers, body).await;
            assert_eq!(
                (status, text.as_str()),
                (
                    401,
                    "X-Slack-Request-Timestamp is more than 5 minutes away from now"
                ),
                "skew {skew}"
            );
        }
        assert_eq!(app.rows().await, (0, 0));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_replayed_request_is_refused_and_leaves_no_second_row() {
    for app in apps().await {
        let body = slash_body("help");
        let headers = signed_headers(SECRET, now(), &body);
        let (first, _) = app.post("/slack/commands", &headers, body.clone()).await;
        let (second, text) = app.post("/slack/commands", &headers, body).await;
        assert_eq!(first, 200);
        assert_eq!(
            (second, text.as_str()),
            (
                401,
                "this request was already received once (replayed signature)"
            )
        );
        assert_eq!(app.rows().await, (1, 1));
        app.finish().await;
    }
}

#[tokio::test]
async fn ill_formed_requests_get_a_short_reason_and_leave_no_row() {
    for app in apps().await {
        let body = slash_body("help");
        let good = signed_headers(SECRET, now(), &body);
        let without = |name: &str| {
            good.iter()
                .filter(|(n, _)| *n != name)
                .cloned()
                .collect::<Vec<_>>()
        };
        let replaced = |name: &'static str, value: &str| {
            let mut headers = without(name);
            headers.push((name, value.to_owned()));
            headers
        };
        let cases = [
            (
                without("x-slack-signature"),
                body.clone(),
                401,
                "missing x-slack-signature header",
            ),
            (
                without("x-slack-request-timestamp"),
                body.clone(),
                401,
                "missing x-slack-request-timestamp header",
            ),
            (
                replaced("x-slack-request-timestamp", "yesterday"),
                body.clone(),
                401,
                "X-Slack-Request-Timestamp is not a Unix time in seconds",
            ),
            (
                replaced("x-slack-signature", "sha256=abc"),
                body.clone(),
                401,
                "X-Slack-Signature is not of the form v0=<64 lowercase hex digits>",
            ),
            (
                replaced("content-type", "application/json"),
                body.clone(),
                415,
                "expected Content-Type: application/x-www-form-urlencoded",
            ),
            (
                without("content-type"),
                body.clone(),
                415,
                "expected Content-Type: application/x-www-form-urlencoded",
            ),
        ];
        for (headers, body, status, reason) in cases {
            let (got, text) = app.post("/slack/commands", &headers, body).await;
            assert_eq!((got, text.as_str()), (status, reason));
        }
        let mut doubled = good.clone();
        doubled.push(good[2].clone());
        let (got, text) = app.post("/slack/commands", &doubled, body).await;
        assert_eq!(
            (got, text.as_str()),
            (400, "the x-slack-signature header was sent more than once")
        );
        assert_eq!(app.rows().await, (0, 0));
        app.finish().await;
    }
}

#[tokio::test]
async fn bodies_that_are_too_large_not_utf8_or_not_a_form_are_refused() {
    for app in apps().await {
        let cases: [(Vec<u8>, u16, &str); 4] = [
            (
                format!("{}&pad={}", slash_body("help"), "x".repeat(64 * 1024)).into_bytes(),
                413,
                "request body is larger than 64 KiB",
            ),
            (
                b"team_id=T1&text=\xff\xfe".to_vec(),
                400,
                "request body is not UTF-8",
            ),
            (
                b"team_id=T1&team_id=T2&channel_id=C&user_id=U".to_vec(),
                400,
                "request body is not a valid form: duplicate field `team_id`",
            ),
            (
                b"channel_id=C&user_id=U&text=help".to_vec(),
                400,
                "request body is not a valid form: missing field `team_id`",
            ),
        ];
        for (body, status, reason) in cases {
            let headers = signed_body_headers(&body);
            let (got, text) = app.post("/slack/commands", &headers, body).await;
            assert_eq!((got, text.as_str()), (status, reason));
        }
        assert_eq!(app.rows().await, (0, 0));
        app.finish().await;
    }
}

fn signed_body_headers(body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = now().to_string();
    let signature = chatops::slack::verify::sign(SECRET.as_bytes(), &timestamp, body);
    vec![
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ),
        ("x-slack-request-timestamp", timestamp),
        ("x-slack-signature", signature),
    ]
}

#[tokio::test]
async fn slacks_certificate_check_gets_an_empty_200() {
    for app in apps().await {
        let body = "ssl_check=1&token=legacy".to_owned();
        let headers = signed_headers(SECRET, now(), &body);
        let (status, text) = app.post("/slack/commands", &headers, body).await;
        assert_eq!((status, text.as_str()), (200, ""));
        assert_eq!(app.rows().await, (0, 1));
        app.finish().await;
    }
}

#[tokio::test]
async fn healthz_answers_ok() {
    for app in apps().await {
        let response = app
            .http
            .get(format!("{}/healthz", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "ok");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_two_factor_code_is_never_stored() {
    for app in apps().await {
        let (status, _) = app.command("deploy vault to production 123456").await;
        assert_eq!(status, 200);
        let recorded = &app.db.store.recent_commands("T0TEST", 1).await.unwrap()[0];
        assert_eq!(recorded.text, "deploy vault to production ******");
        let parsed = recorded.parsed.as_deref().unwrap();
        assert!(!parsed.contains("123456"), "{parsed}");
        assert!(parsed.contains(r#""two_factor_code":"******""#), "{parsed}");
        app.finish().await;
    }
}
