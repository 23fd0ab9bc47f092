//! The bad-input matrix: every endpoint the bot serves, fed what an attacker, a broken
//! proxy or a confused client sends (missing, duplicated, oversized and non-ASCII
//! headers, wrong methods and content types, truncated and non-UTF-8 bodies, stale and
//! future timestamps, replayed signatures, a signature for another body, forged OAuth
//! states). Each case names the status and the exact answer it gets, and the whole
//! database must read the same before and after it: a refusal writes nothing.

use crate::common;

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::accounts::{ALICE, reply};
use common::walk::{Hop, button_url, split_url};
use common::{SECRET, TestApp, databases, dump, now, slash_body};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const FORM: &str = "application/x-www-form-urlencoded";
const NOT_A_FORM: &str = "expected Content-Type: application/x-www-form-urlencoded";
const MISMATCH: &str = "X-Slack-Signature does not match the request body";
const STALE: &str = "X-Slack-Request-Timestamp is more than 5 minutes away from now";
const NOT_A_TIME: &str = "X-Slack-Request-Timestamp is not a Unix time in seconds";
const NOT_HEX: &str = "X-Slack-Signature is not of the form v0=<64 lowercase hex digits>";
const UNSIGNED: &str = "missing or malformed Heroku-Webhook-Hmac-SHA256 header";
const FORGED_STATE: &str = "This sign-in link is not valid";
const LINK_AGAIN: &str = "Run `/h login` in Slack for a fresh link.";
const INSTALL_AGAIN: &str = "Open the install link again to start over.";

/// One request and what it must get.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    status: u16,
    answer: Answer,
}

/// The body a refused request must get.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    /// Plain text, exactly.
    Text(String),
    /// An HTML page: its heading, and its last paragraph (what to do next).
    Page(String, String),
}

fn text(answer: &str) -> Answer {
    Answer::Text(answer.to_owned())
}

fn page(heading: &str, hint: &str) -> Answer {
    Answer::Page(heading.to_owned(), hint.to_owned())
}

type Headers = Vec<(&'static str, Vec<u8>)>;

/// Slack's headers for `body` signed at `timestamp`.
fn slack_signed(body: &[u8], timestamp: i64) -> Headers {
    let timestamp = timestamp.to_string();
    let signature = chatops::slack::verify::sign(SECRET.as_bytes(), &timestamp, body);
    vec![
        ("content-type", FORM.into()),
        ("x-slack-request-timestamp", timestamp.into_bytes()),
        ("x-slack-signature", signature.into_bytes()),
    ]
}

fn without(headers: &Headers, name: &str) -> Headers {
    headers
        .iter()
        .filter(|(n, _)| *n != name)
        .cloned()
        .collect()
}

fn replaced(headers: &Headers, name: &'static str, value: impl Into<Vec<u8>>) -> Headers {
    let mut headers = without(headers, name);
    headers.push((name, value.into()));
    headers
}

fn doubled(headers: &Headers, name: &'static str, value: impl Into<Vec<u8>>) -> Headers {
    let mut headers = headers.clone();
    headers.push((name, value.into()));
    headers
}

/// A POST to `path`.
fn post_case(
    path: &str,
    (what, headers, body): (&'static str, Headers, &[u8]),
    status: u16,
    answer: &str,
) -> Case {
    Case {
        what,
        method: Method::POST,
        path: path.into(),
        headers,
        body: body.to_vec(),
        status,
        answer: text(answer),
    }
}

fn slack_case(
    what: &'static str,
    headers: Headers,
    body: &[u8],
    status: u16,
    answer: &str,
) -> Case {
    post_case("/slack/commands", (what, headers, body), status, answer)
}

/// `/slack/commands`, signed correctly except for what each case breaks.
fn slack_cases(replayed: &(Headers, Vec<u8>)) -> Vec<Case> {
    let body = slash_body("help").into_bytes();
    let good = slack_signed(&body, now());
    let signature = String::from_utf8(good[2].1.clone()).unwrap();
    let other = slack_signed(slash_body("whoami").as_bytes(), now());
    let truncated = &body[..body.len() / 2];
    let long_form = format!("{}&pad={}", slash_body("help"), "x".repeat(64 * 1024));
    let signed = |body: &[u8]| slack_signed(body, now());
    vec![
        slack_case(
            "no content type",
            without(&good, "content-type"),
            &body,
            415,
            NOT_A_FORM,
        ),
        slack_case(
            "JSON",
            replaced(&good, "content-type", "application/json"),
            &body,
            415,
            NOT_A_FORM,
        ),
        slack_case(
            "multipart",
            replaced(&good, "content-type", "multipart/form-data; boundary=x"),
            &body,
            415,
            NOT_A_FORM,
        ),
        slack_case(
            "two content types",
            doubled(&good, "content-type", FORM),
            &body,
            415,
            NOT_A_FORM,
        ),
        slack_case(
            "no signature",
            without(&good, "x-slack-signature"),
            &body,
            401,
            "missing x-slack-signature header",
        ),
        slack_case(
            "no timestamp",
            without(&good, "x-slack-request-timestamp"),
            &body,
            401,
            "missing x-slack-request-timestamp header",
        ),
        slack_case(
            "two timestamps",
            doubled(&good, "x-slack-request-timestamp", now().to_string()),
            &body,
            400,
            "the x-slack-request-timestamp header was sent more than once",
        ),
        slack_case(
            "a non-ASCII signature",
            replaced(&good, "x-slack-signature", b"v0=\xe9t\xe9".to_vec()),
            &body,
            400,
            "the x-slack-signature header is not visible ASCII",
        ),
        slack_case(
            "a 32 KiB signature",
            replaced(
                &good,
                "x-slack-signature",
                format!("v0={}", "a".repeat(32 * 1024)),
            ),
            &body,
            401,
            NOT_HEX,
        ),
        slack_case(
            "an uppercase signature",
            replaced(
                &good,
                "x-slack-signature",
                signature.to_ascii_uppercase().replace("V0=", "v0="),
            ),
            &body,
            401,
            NOT_HEX,
        ),
        slack_case(
            "a 6 minutes old timestamp",
            slack_signed(&body, now() - 360),
            &body,
            401,
            STALE,
        ),
        slack_case(
            "a timestamp 6 minutes ahead",
            slack_signed(&body, now() + 360),
            &body,
            401,
            STALE,
        ),
        slack_case(
            "the earliest timestamp",
            slack_signed(&body, i64::MIN),
            &body,
            401,
            STALE,
        ),
        slack_case(
            "a timestamp in milliseconds",
            replaced(&good, "x-slack-request-timestamp", format!("{}000", now())),
            &body,
            401,
            STALE,
        ),
        slack_case(
            "a timestamp past i64",
            replaced(&good, "x-slack-request-timestamp", "99999999999999999999"),
            &body,
            401,
            NOT_A_TIME,
        ),
        slack_case(
            "a fractional timestamp",
            replaced(&good, "x-slack-request-timestamp", format!("{}.5", now())),
            &body,
            401,
            NOT_A_TIME,
        ),
        slack_case(
            "the signature of another body",
            replaced(&good, "x-slack-signature", other[2].1.clone()),
            &body,
            401,
            MISMATCH,
        ),
        slack_case(
            "the signature under another secret",
            replaced(
                &good,
                "x-slack-signature",
                chatops::slack::verify::sign(b"not the secret", &now().to_string(), &body),
            ),
            &body,
            401,
            MISMATCH,
        ),
        slack_case("a body cut in half", good.clone(), truncated, 401, MISMATCH),
        slack_case("an empty body", good.clone(), b"", 401, MISMATCH),
        slack_case(
            "a replayed request",
            replayed.0.clone(),
            &replayed.1,
            401,
            "this request was already received once (replayed signature)",
        ),
        slack_case(
            "a body over 64 KiB",
            signed(long_form.as_bytes()),
            long_form.as_bytes(),
            413,
            "request body is larger than 64 KiB",
        ),
        slack_case(
            "a non-UTF-8 body",
            signed(b"team_id=T\xff&channel_id=C&user_id=U"),
            b"team_id=T\xff&channel_id=C&user_id=U",
            400,
            "request body is not UTF-8",
        ),
        slack_case(
            "no user",
            signed(b"team_id=T&channel_id=C&text=help"),
            b"team_id=T&channel_id=C&text=help",
            400,
            "request body is not a valid form: missing field `user_id`",
        ),
        slack_case(
            "an empty channel",
            signed(b"team_id=T&channel_id=&user_id=U"),
            b"team_id=T&channel_id=&user_id=U",
            400,
            "request body is not a valid form: missing field `channel_id`",
        ),
        slack_case(
            "two texts",
            signed(b"team_id=T&channel_id=C&user_id=U&text=a&text=b"),
            b"team_id=T&channel_id=C&user_id=U&text=a&text=b",
            400,
            "request body is not a valid form: duplicate field `text`",
        ),
        Case {
            what: "GET",
            method: Method::GET,
            path: "/slack/commands".into(),
            headers: good,
            body: Vec::new(),
            status: 405,
            answer: text(""),
        },
    ]
}

/// A button press's form body: `payload` holding `json`.
fn interaction_body(json: &str) -> Vec<u8> {
    serde_urlencoded::to_string([("payload", json)])
        .unwrap()
        .into_bytes()
}

/// A well-formed `block_actions` press of a button no deploy has, answered at
/// `response_url`.
fn a_press(response_url: &str) -> String {
    serde_json::json!({
        "type": "block_actions",
        "user": {"id": "U0ALICE"},
        "team": {"id": chatops_fakes::SANDBOX_TEAM},
        "response_url": response_url,
        "actions": [{"action_id": "confirm_go", "value": "999999", "type": "button"}],
    })
    .to_string()
}

/// `/slack/interactions`: signed like commands, and its one field must hold Slack's
/// interaction JSON. A refused press claims no signature and answers nobody.
fn interaction_cases(replayed: &(Headers, Vec<u8>)) -> Vec<Case> {
    let body = interaction_body(&a_press("https://hooks.slack.com/actions/T/1/x"));
    let good = slack_signed(&body, now());
    let signed = |body: &[u8]| slack_signed(body, now());
    let interaction_case = |what, headers, body: &[u8], status, answer: &str| {
        post_case("/slack/interactions", (what, headers, body), status, answer)
    };
    let malformed = |body: &[u8], reason: &str| {
        (
            signed(body),
            body.to_vec(),
            format!(
                "request body is not a valid form: `payload` must be Slack's interaction JSON, with type, user.id and team.id: {reason}"
            ),
        )
    };
    let no_payload = malformed(b"token=x", "EOF while parsing a value at line 1 column 0");
    let not_json = malformed(
        &interaction_body("{type"),
        "key must be a string at line 1 column 2",
    );
    let no_user = malformed(
        &interaction_body(r#"{"type":"block_actions","team":{"id":"T0SANDBOX"}}"#),
        "missing field `user` at line 1 column 50",
    );
    let null_team = malformed(
        &interaction_body(r#"{"type":"block_actions","user":{"id":"U0ALICE"},"team":null}"#),
        "invalid type: null, expected struct Id at line 1 column 59",
    );
    let big = interaction_body(&"x".repeat(64 * 1024));
    let mut cases = vec![
        interaction_case(
            "a press sent as JSON",
            replaced(&good, "content-type", "application/json"),
            &body,
            415,
            NOT_A_FORM,
        ),
        interaction_case(
            "an unsigned press",
            without(&good, "x-slack-signature"),
            &body,
            401,
            "missing x-slack-signature header",
        ),
        interaction_case(
            "a press signed 6 minutes ago",
            slack_signed(&body, now() - 360),
            &body,
            401,
            STALE,
        ),
        interaction_case(
            "a press under another body's signature",
            replaced(
                &good,
                "x-slack-signature",
                signed(b"payload=%7B%7D")[2].1.clone(),
            ),
            &body,
            401,
            MISMATCH,
        ),
        interaction_case(
            "a replayed press",
            replayed.0.clone(),
            &replayed.1,
            401,
            "this request was already received once (replayed signature)",
        ),
        interaction_case(
            "a press over 64 KiB",
            signed(&big),
            &big,
            413,
            "request body is larger than 64 KiB",
        ),
    ];
    for (what, (headers, body, reason)) in [
        ("a form without payload", no_payload),
        ("a payload that is not JSON", not_json),
        ("a payload without user", no_user),
        ("a payload whose team is null", null_team),
    ] {
        cases.push(interaction_case(what, headers, &body, 400, &reason));
    }
    cases
}

/// Heroku's header for `body`, signed with `secret`.
fn heroku_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn webhook_case(
    what: &'static str,
    headers: Headers,
    body: &[u8],
    status: u16,
    answer: &str,
) -> Case {
    let path = chatops::webhooks::WEBHOOK_PATH;
    post_case(path, (what, headers, body), status, answer)
}

/// `/webhooks/heroku`. A genuine delivery only wakes deploys, so the signed ones here
/// (about no running deploy, or about nothing) must write nothing either.
fn webhook_cases(secret: &str) -> Vec<Case> {
    let body = br#"{"resource":"build","action":"update","data":{"app":{"id":"no-such-app"}}}"#;
    let sign = |body: &[u8]| -> Headers {
        vec![
            ("content-type", b"application/json".to_vec()),
            (
                "heroku-webhook-hmac-sha256",
                heroku_signature(secret, body).into_bytes(),
            ),
        ]
    };
    let good = sign(body);
    let other = heroku_signature(secret, b"{}");
    let big = vec![b'x'; 3 * 1024 * 1024];
    const HEADER: &str = "heroku-webhook-hmac-sha256";
    vec![
        webhook_case("no signature", without(&good, HEADER), body, 401, UNSIGNED),
        webhook_case(
            "a signature that is not base64",
            replaced(&good, HEADER, "not base64!"),
            body,
            401,
            UNSIGNED,
        ),
        webhook_case(
            "a non-ASCII signature",
            replaced(&good, HEADER, b"\xe9\xe9".to_vec()),
            body,
            401,
            UNSIGNED,
        ),
        webhook_case(
            "two signatures",
            doubled(&good, HEADER, other.clone()),
            body,
            401,
            "the Heroku-Webhook-Hmac-SHA256 header was sent more than once",
        ),
        webhook_case(
            "the signature of another body",
            replaced(&good, HEADER, other),
            body,
            401,
            "Heroku-Webhook-Hmac-SHA256 does not match the body",
        ),
        webhook_case(
            "a body cut in half",
            good.clone(),
            &body[..body.len() / 2],
            401,
            "Heroku-Webhook-Hmac-SHA256 does not match the body",
        ),
        webhook_case(
            "a body over 2 MiB",
            sign(&big),
            &big,
            413,
            "Failed to buffer the request body: length limit exceeded",
        ),
        webhook_case(
            "a signed delivery about no running deploy",
            good.clone(),
            body,
            200,
            "no running deploy",
        ),
        webhook_case(
            "a signed body that is not JSON",
            sign(b"\xff\xfe"),
            b"\xff\xfe",
            200,
            "ignored",
        ),
        webhook_case(
            "a signed delivery without an app",
            sign(b"{\"data\":{}}"),
            b"{\"data\":{}}",
            200,
            "ignored",
        ),
        Case {
            what: "PUT",
            method: Method::PUT,
            path: chatops::webhooks::WEBHOOK_PATH.into(),
            headers: good,
            body: body.to_vec(),
            status: 405,
            answer: text(""),
        },
    ]
}

fn get(
    what: &'static str,
    path: String,
    cookie: Option<String>,
    status: u16,
    answer: Answer,
) -> Case {
    Case {
        what,
        method: Method::GET,
        path,
        headers: cookie
            .map(|c| ("cookie", c.into_bytes()))
            .into_iter()
            .collect(),
        body: Vec::new(),
        status,
        answer,
    }
}

/// The OAuth pages, with `state` a genuine Heroku state issued to alice (whose browser
/// never opened it, so it has no cookie for it) and with forged ones.
fn oauth_cases(state: &str) -> Vec<Case> {
    let forged = "Zm9yZ2VkIHN0YXRlIGZvcmdlZCBzdGF0ZSBmb3JnZWQ";
    let huge = "A".repeat(48 * 1024);
    let incomplete = || page("This link is incomplete", LINK_AGAIN);
    let not_valid = || page(FORGED_STATE, LINK_AGAIN);
    let cookie = |value: &str| Some(format!("chatops_oauth_heroku={value}"));
    vec![
        get(
            "start without a state",
            "/auth/heroku/start".into(),
            None,
            400,
            incomplete(),
        ),
        get(
            "start with an empty state",
            "/auth/heroku/start?state=".into(),
            None,
            400,
            incomplete(),
        ),
        get(
            "start with a forged state",
            format!("/auth/github/start?state={forged}"),
            None,
            400,
            not_valid(),
        ),
        get(
            "start with a 48 KiB state",
            format!("/auth/heroku/start?state={huge}"),
            None,
            400,
            not_valid(),
        ),
        get(
            "start with two states",
            format!("/auth/heroku/start?state={state}&state={forged}"),
            None,
            400,
            text("Failed to deserialize query string: duplicate field `state`"),
        ),
        get(
            "GitHub's start with Heroku's state",
            format!("/auth/github/start?state={state}"),
            None,
            400,
            page("This link is for Heroku, not GitHub", LINK_AGAIN),
        ),
        get(
            "a callback with a forged state",
            format!("/auth/heroku/callback?code=c0de&state={forged}"),
            cookie(forged),
            400,
            not_valid(),
        ),
        get(
            "a refusal with a forged state",
            format!("/auth/heroku/callback?error=access_denied&state={forged}"),
            None,
            400,
            not_valid(),
        ),
        get(
            "a callback with no state",
            "/auth/github/callback?code=c0de".into(),
            None,
            400,
            incomplete(),
        ),
        get(
            "a callback with no code",
            format!("/auth/heroku/callback?state={state}"),
            cookie(state),
            400,
            incomplete(),
        ),
        get(
            "a callback from another browser",
            format!("/auth/heroku/callback?code=c0de&state={state}"),
            None,
            403,
            page("This sign-in was started in another browser", LINK_AGAIN),
        ),
        get(
            "a callback with another state's cookie",
            format!("/auth/heroku/callback?code=c0de&state={state}"),
            cookie(forged),
            403,
            page("This sign-in was started in another browser", LINK_AGAIN),
        ),
        get(
            "a callback with a non-UTF-8 state",
            "/auth/heroku/callback?code=c0de&state=%FF%FE".into(),
            cookie("%FF%FE"),
            400,
            not_valid(),
        ),
        get(
            "an install callback with a forged state",
            format!("/slack/oauth/callback?code=c0de&state={forged}"),
            None,
            400,
            page(FORGED_STATE, INSTALL_AGAIN),
        ),
        get(
            "an install callback with a sign-in state",
            format!("/slack/oauth/callback?code=c0de&state={state}"),
            None,
            400,
            page(
                "This link is for Heroku, not installing in Slack",
                INSTALL_AGAIN,
            ),
        ),
        Case {
            what: "POST to a callback",
            method: Method::POST,
            path: format!("/auth/heroku/callback?code=c0de&state={state}"),
            headers: cookie(state)
                .map(|c| ("cookie", c.into_bytes()))
                .into_iter()
                .collect(),
            body: Vec::new(),
            status: 405,
            answer: text(""),
        },
    ]
}

/// `/healthz` and what is not served at all.
fn other_cases() -> Vec<Case> {
    let post = |what, path: &str, status| Case {
        what,
        method: Method::POST,
        path: path.into(),
        headers: Vec::new(),
        body: b"x".to_vec(),
        status,
        answer: text(""),
    };
    vec![
        post("POST /healthz", "/healthz", 405),
        post("an unknown path", "/slack/../healthz/x", 404),
        get(
            "healthz with a query",
            "/healthz?x=%FF&x=1".into(),
            None,
            200,
            text("ok"),
        ),
        Case {
            what: "a 100-header request",
            headers: (0..101).map(|_| ("x-padding", b"x".to_vec())).collect(),
            ..get("", "/healthz".into(), None, 431, text(""))
        },
    ]
}

/// Sends `case`, returning its status and what its body says.
async fn send(app: &TestApp, case: &Case) -> (u16, Answer) {
    let mut request = app
        .http
        .request(
            case.method.clone(),
            format!("{}{}", app.base_url, case.path),
        )
        .body(case.body.clone());
    for (name, value) in &case.headers {
        let value = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let is_page = response
        .headers()
        .get("content-type")
        .is_some_and(|value| value.to_str().unwrap().starts_with("text/html"));
    let body = response.text().await.unwrap();
    if !is_page {
        return (status, Answer::Text(body));
    }
    let hop = Hop {
        status,
        location: None,
        set_cookies: Vec::new(),
        body,
    };
    let paragraphs = hop.paragraphs();
    assert!(
        paragraphs[0].ends_with("Nothing was changed."),
        "{}: {paragraphs:?}",
        case.what
    );
    let hint = paragraphs.last().cloned().unwrap_or_default();
    (status, Answer::Page(hop.heading(), hint))
}

#[tokio::test]
async fn every_bad_request_gets_its_status_and_reason_and_writes_nothing() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let login = reply(&app, ALICE, "login").await;
        let state = split_url(&button_url(&login)).1["state"].clone();
        let body = slash_body("help").into_bytes();
        let replayed = (slack_signed(&body, now()), body);
        let (status, _) = app
            .post(
                "/slack/commands",
                &as_strings(&replayed.0),
                replayed.1.clone(),
            )
            .await;
        assert_eq!(status, 200, "the request replayed below was accepted once");
        let response_url =
            app.sandbox
                .slack
                .response_url(chatops_fakes::SANDBOX_TEAM, "C0DEPLOYS", "U0ALICE");
        let press = interaction_body(&a_press(&response_url));
        let replayed_press = (slack_signed(&press, now()), press);
        let (status, _) = app
            .post(
                "/slack/interactions",
                &as_strings(&replayed_press.0),
                replayed_press.1.clone(),
            )
            .await;
        assert_eq!(status, 200, "the press replayed below was accepted once");
        // Its answer ("I can't find what this button was for") is delivered first.
        while app.state.store.pending_messages().await.unwrap() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let secret = chatops::webhooks::delivery_secret(&app.state);
        let cases = [
            slack_cases(&replayed),
            interaction_cases(&replayed_press),
            webhook_cases(&secret),
            oauth_cases(&state),
            other_cases(),
        ];
        let backend = app.db.backend_name();
        let mut failures = Vec::new();
        for case in cases.iter().flatten() {
            let before = dump(&app.db).await;
            let got = send(&app, case).await;
            if got != (case.status, case.answer.clone()) {
                failures.push(format!(
                    "{backend}, {}: got {got:?}, expected {} {:?}",
                    case.what, case.status, case.answer
                ));
            }
            let after = dump(&app.db).await;
            assert_eq!(
                before, after,
                "{backend}, {}: the database changed",
                case.what
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let count = cases.iter().flatten().count();
        eprintln!("{backend}: {count} bad requests, each answered as documented, none writing");
        app.finish().await;
    }
}

fn as_strings(headers: &Headers) -> Vec<(&'static str, String)> {
    headers
        .iter()
        .map(|(name, value)| (*name, String::from_utf8(value.clone()).unwrap()))
        .collect()
}
