//! The fake Slack's answers checked against Slack's own OpenAPI document
//! (tests/specs/slack-web-api.openapi.json, Swagger 2.0, last changed October 2020),
//! with the `jsonschema` crate as JSON Schema draft 4. Each response schema is checked
//! with the spec's `definitions` embedded so its `#/definitions/...` refs resolve.
//!
//! The document is from 2020 and Slack has moved on. Where they differ the fake
//! follows today's Slack, and the schema is patched in `Spec::load`, one commented
//! line per difference. Nothing else is relaxed.
//!
//! Run with `--nocapture` to see which path, method and status schema each check used.

use std::time::Duration;

use chatops_fakes::slack::{Bucket, FakeSlack, Pacing};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/slack-web-api.openapi.json"
);

/// Error codes the fake sends that the 2020 enums lack, each exercised below.
const TODAYS_ERRORS: &[(&str, &[&str])] = &[
    // `ratelimited` comes with HTTP 429 (the 2020 enum has only the older
    // `rate_limited`); `invalid_blocks` is a Block Kit refusal and `token_revoked` a
    // revoked install, both in today's chat.postMessage table. `thread_not_found` is
    // the project's choice for an unknown `thread_ts` (refused rather than posted to
    // the channel, so a lost parent is noticed); Slack's table does not list it.
    (
        "/chat.postMessage",
        &[
            "ratelimited",
            "invalid_blocks",
            "token_revoked",
            "thread_not_found",
        ],
    ),
    // `invalid_blocks` as above; `not_in_channel` because the fake applies
    // chat.postMessage's membership rule to updates too.
    ("/chat.update", &["invalid_blocks", "not_in_channel"]),
];

struct Spec(Value);

impl Spec {
    fn load() -> Spec {
        let mut spec: Value =
            serde_json::from_str(&std::fs::read_to_string(SPEC).unwrap()).unwrap();
        // Today's bot messages carry `app_id` (slack-morphism models it too); the 2020
        // message object forbids unknown properties and does not know it.
        spec["definitions"]["objs_message"]["properties"]["app_id"] =
            json!({"$ref": "#/definitions/defs_app_id"});
        // chat.update's message says `blocks` is an object; Slack sends the array of
        // blocks, as the spec itself says for every other message.
        let update = &mut spec["paths"]["/chat.update"]["post"]["responses"]["200"]["schema"];
        update["properties"]["message"]["properties"]["blocks"] =
            json!({"$ref": "#/definitions/blocks"});
        // Message metadata (2022) postdates the spec; messages read with
        // `include_all_metadata` carry it as `{event_type, event_payload}`.
        spec["definitions"]["objs_message"]["properties"]["metadata"] = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["event_type"],
            "properties": {"event_type": {"type": "string"}, "event_payload": {"type": "object"}}
        });
        // conversations.replies describes its messages as a tuple of a user's parent
        // and a user's reply, without a bot's fields (`bot_id`, `bot_profile`,
        // `blocks`, `subtype`...); they are messages like any other.
        let replies = &mut spec["paths"]["/conversations.replies"]["get"]["responses"]["200"];
        replies["schema"]["properties"]["messages"] =
            json!({"type": "array", "items": {"$ref": "#/definitions/objs_message"}});
        // Today's Slack pages both reads by cursor (`response_metadata.next_cursor`
        // while `has_more`); the 2020 document predates cursors there.
        for path in ["/conversations.replies", "/conversations.history"] {
            let answer = &mut spec["paths"][path]["get"]["responses"]["200"]["schema"];
            answer["properties"]["response_metadata"] = json!({
                "type": "object", "additionalProperties": false, "required": ["next_cursor"],
                "properties": {"next_cursor": {"type": "string", "minLength": 1}}
            });
        }
        for (path, codes) in TODAYS_ERRORS {
            let schema = &mut spec["paths"][*path]["post"]["responses"]["default"]["schema"];
            let known = schema["properties"]["error"]["enum"]
                .as_array_mut()
                .unwrap();
            known.extend(codes.iter().map(|code| json!(code)));
        }
        Spec(spec)
    }

    /// Validates `body` against the response schema of `method path` for `status`
    /// (`"200"` or `"default"`), printing which one was used.
    fn check(&self, method: &str, path: &str, status: &str, body: &Value) {
        let response = &self.0["paths"][path][method]["responses"][status]["schema"];
        assert!(
            response.is_object(),
            "the spec has no {method} {path} {status} schema"
        );
        let mut schema = response.clone();
        schema["definitions"] = self.0["definitions"].clone();
        let validator = jsonschema::draft4::new(&schema).expect("the spec's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        println!(
            "{} {path} {status} \"{}\": {}",
            method.to_uppercase(),
            response["title"].as_str().unwrap_or(""),
            body
        );
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:#?}\nbody: {body}"
        );
    }
}

struct Fake {
    fake: FakeSlack,
    url: String,
    http: Client,
    token: String,
}

impl Fake {
    async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeSlack::new(&url);
        fake.set_pacing(Pacing::unlimited());
        let router = fake.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let token = fake.token_for_team("T0SANDBOX");
        Fake {
            fake,
            url,
            // Like the bot's client: a redirect is looked at, not followed.
            http: Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            token,
        }
    }

    /// A JSON call as slack-morphism makes it; the status and the body.
    async fn call(&self, method: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}/api/{method}", self.url))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn ok(&self, method: &str, body: Value) -> Value {
        let (status, answer) = self.call(method, Some(&self.token), body).await;
        assert_eq!(
            (status, &answer["ok"]),
            (StatusCode::OK, &json!(true)),
            "{answer}"
        );
        answer
    }

    /// A refusal, checked to be the one expected.
    async fn refused(
        &self,
        method: &str,
        token: Option<&str>,
        body: Value,
        code: &str,
    ) -> (StatusCode, Value) {
        let (status, answer) = self.call(method, token, body).await;
        assert_eq!(answer, json!({"ok": false, "error": code}));
        (status, answer)
    }
}

fn section(text: &str) -> Value {
    json!([{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
}

#[tokio::test]
async fn chat_post_message_answers_match_the_spec() {
    let (spec, slack) = (Spec::load(), Fake::start().await);
    let token = Some(slack.token.as_str());
    let parent = slack
        .ok(
            "chat.postMessage",
            json!({"channel": "C0DEPLOYS", "text": "Deploying", "blocks": section("*Deploying*")}),
        )
        .await;
    spec.check("post", "/chat.postMessage", "200", &parent);
    let reply = json!({"channel": "C0DEPLOYS", "text": "Deployed", "thread_ts": parent["ts"], "reply_broadcast": true});
    spec.check(
        "post",
        "/chat.postMessage",
        "200",
        &slack.ok("chat.postMessage", reply).await,
    );

    let refusals = [
        (
            None,
            json!({"channel": "C0DEPLOYS", "text": "hi"}),
            "not_authed",
        ),
        (
            Some("xoxb-0-0-unknown"),
            json!({"channel": "C0DEPLOYS", "text": "hi"}),
            "invalid_auth",
        ),
        (
            token,
            json!({"channel": "C0NOWHERE", "text": "hi"}),
            "channel_not_found",
        ),
        (
            token,
            json!({"channel": "C0INCIDENTS", "text": "hi"}),
            "not_in_channel",
        ),
        (token, json!({"channel": "C0DEPLOYS"}), "no_text"),
        (
            token,
            json!({"channel": "C0DEPLOYS", "text": "x".repeat(40_001)}),
            "msg_too_long",
        ),
        (
            token,
            json!({"channel": "C0DEPLOYS", "blocks": [{"type": "section"}]}),
            "invalid_blocks",
        ),
        (
            token,
            json!({"channel": "C0DEPLOYS", "text": "hi", "thread_ts": "1699999999.000100"}),
            "thread_not_found",
        ),
    ];
    for (token, body, code) in refusals {
        let (_, answer) = slack.refused("chat.postMessage", token, body, code).await;
        spec.check("post", "/chat.postMessage", "default", &answer);
    }

    slack.fake.set_pacing(Pacing {
        post_message: Some(Bucket {
            burst: 1,
            per_second: 0.1,
        }),
        ..Pacing::unlimited()
    });
    slack
        .ok(
            "chat.postMessage",
            json!({"channel": "C0GENERAL", "text": "first"}),
        )
        .await;
    let over_pace = json!({"channel": "C0GENERAL", "text": "second"});
    let (status, answer) = slack
        .refused("chat.postMessage", token, over_pace, "ratelimited")
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    spec.check("post", "/chat.postMessage", "default", &answer);

    let revoked = slack.token.clone();
    slack.fake.revoke_token(&revoked);
    let (_, answer) = slack
        .refused(
            "chat.postMessage",
            Some(&revoked),
            json!({"channel": "C0DEPLOYS", "text": "hi"}),
            "token_revoked",
        )
        .await;
    spec.check("post", "/chat.postMessage", "default", &answer);
}

#[tokio::test]
async fn chat_update_answers_match_the_spec() {
    let (spec, slack) = (Spec::load(), Fake::start().await);
    let posted = slack
        .ok(
            "chat.postMessage",
            json!({"channel": "C0DEPLOYS", "text": "Deploying"}),
        )
        .await;
    let with_blocks = json!({"channel": "C0DEPLOYS", "ts": posted["ts"], "text": "Releasing", "blocks": section("*Releasing*")});
    let updated = slack.ok("chat.update", with_blocks).await;
    assert_eq!(updated["message"]["blocks"], section("*Releasing*"));
    spec.check("post", "/chat.update", "200", &updated);
    let text_only = slack
        .ok(
            "chat.update",
            json!({"channel": "C0DEPLOYS", "ts": posted["ts"], "text": "Deployed"}),
        )
        .await;
    assert!(
        text_only["message"]["edited"].is_object() && text_only["message"].get("blocks").is_none(),
        "{text_only}"
    );
    spec.check("post", "/chat.update", "200", &text_only);

    let token = Some(slack.token.as_str());
    let refusals = [
        (
            json!({"channel": "C0DEPLOYS", "ts": "1699999999.000100", "text": "x"}),
            "message_not_found",
        ),
        (
            json!({"channel": "C0INCIDENTS", "ts": posted["ts"], "text": "x"}),
            "not_in_channel",
        ),
        (
            json!({"channel": "C0DEPLOYS", "ts": posted["ts"], "blocks": [{"type": "nope"}]}),
            "invalid_blocks",
        ),
    ];
    for (body, code) in refusals {
        let (_, answer) = slack.refused("chat.update", token, body, code).await;
        spec.check("post", "/chat.update", "default", &answer);
    }
}

#[tokio::test]
async fn chat_post_ephemeral_answers_match_the_spec() {
    let (spec, slack) = (Spec::load(), Fake::start().await);
    let answer = slack
        .ok(
            "chat.postEphemeral",
            json!({"channel": "C0DEPLOYS", "user": "U0BOB", "text": "only you"}),
        )
        .await;
    let message_ts = slack.fake.ephemerals("C0DEPLOYS", "U0BOB")[0]
        .message_ts
        .clone();
    assert_eq!(answer, json!({"ok": true, "message_ts": message_ts}));
    spec.check("post", "/chat.postEphemeral", "200", &answer);
    let token = Some(slack.token.as_str());
    let refusals = [
        (
            json!({"channel": "C0DEPLOYS", "user": "U0DAVE", "text": "hi"}),
            "user_not_in_channel",
        ),
        (
            json!({"channel": "C0NOWHERE", "user": "U0BOB", "text": "hi"}),
            "channel_not_found",
        ),
    ];
    for (body, code) in refusals {
        let (_, answer) = slack.refused("chat.postEphemeral", token, body, code).await;
        spec.check("post", "/chat.postEphemeral", "default", &answer);
    }
}

#[tokio::test]
async fn oauth_v2_access_answers_match_the_spec() {
    let (spec, slack) = (Spec::load(), Fake::start().await);
    let app = slack.fake.app();
    let redirect_uri = "https://bot.example.com/slack/oauth/callback";
    let form = [
        ("client_id", app.client_id.as_str()),
        ("scope", "commands,chat:write"),
        ("redirect_uri", redirect_uri),
        ("install_as", "T0OTHER/U0DAVE"),
        ("decision", "allow"),
    ];
    let allowed = slack
        .http
        .post(format!("{}/oauth/v2/authorize", slack.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = allowed.headers()["location"].to_str().unwrap().to_owned();
    let code = location
        .strip_prefix(&format!("{redirect_uri}?code="))
        .expect("redirected with a code");

    // As the spec declares it: GET with query arguments, the client by basic auth.
    let exchange = |code: &str| {
        let query = [("code", code), ("redirect_uri", redirect_uri)];
        let url = format!("{}/api/oauth.v2.access", slack.url);
        slack
            .http
            .get(url)
            .query(&query)
            .basic_auth(&app.client_id, Some(&app.client_secret))
            .send()
    };
    let granted: Value = exchange(code).await.unwrap().json().await.unwrap();
    assert_eq!(
        granted["team"],
        json!({"id": "T0OTHER", "name": "Other Workspace"})
    );
    assert_eq!(
        (&granted["token_type"], &granted["authed_user"]),
        (&json!("bot"), &json!({"id": "U0DAVE"}))
    );
    assert_eq!(
        granted["access_token"],
        json!(slack.fake.token_for_team("T0OTHER"))
    );
    spec.check("get", "/oauth.v2.access", "200", &granted);

    let reused: Value = exchange(code).await.unwrap().json().await.unwrap();
    assert_eq!(reused, json!({"ok": false, "error": "invalid_code"}));
    spec.check("get", "/oauth.v2.access", "default", &reused);
    // As `curl -F` does it: a form with the client in the arguments.
    let bad_secret = [
        ("client_id", app.client_id.as_str()),
        ("client_secret", "nope"),
        ("code", "whatever"),
    ];
    let refused = slack
        .http
        .post(format!("{}/api/oauth.v2.access", slack.url))
        .form(&bad_secret)
        .send()
        .await
        .unwrap();
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused, json!({"ok": false, "error": "bad_client_secret"}));
    spec.check("get", "/oauth.v2.access", "default", &refused);
}

#[tokio::test]
async fn conversations_replies_and_history_answers_match_the_spec() {
    let (spec, slack) = (Spec::load(), Fake::start().await);
    let tag = json!({"event_type": "chatops_outbox", "event_payload": {"outbox_id": "7"}});
    let parent = slack
        .ok(
            "chat.postMessage",
            json!({"channel": "C0DEPLOYS", "text": "Deploying", "metadata": tag}),
        )
        .await;
    let reply = json!({"channel": "C0DEPLOYS", "text": "Built", "thread_ts": parent["ts"], "reply_broadcast": true});
    slack.ok("chat.postMessage", reply).await;
    let read = |ts: &Value| json!({"channel": "C0DEPLOYS", "ts": ts, "include_all_metadata": true});

    let thread = slack.ok("conversations.replies", read(&parent["ts"])).await;
    assert_eq!(thread["messages"][0]["metadata"], tag, "{thread}");
    assert_eq!(thread["messages"][1]["thread_ts"], parent["ts"]);
    spec.check("get", "/conversations.replies", "200", &thread);
    let paged = |cursor: &Value| json!({"channel": "C0DEPLOYS", "ts": parent["ts"], "limit": 1, "cursor": cursor});
    let first = slack.ok("conversations.replies", paged(&json!(""))).await;
    assert_eq!(first["has_more"], json!(true), "{first}");
    spec.check("get", "/conversations.replies", "200", &first);
    let cursor = &first["response_metadata"]["next_cursor"];
    let second = slack.ok("conversations.replies", paged(cursor)).await;
    assert_eq!(second["messages"][0]["ts"], thread["messages"][1]["ts"]);
    assert!(second.get("response_metadata").is_none(), "{second}");
    spec.check("get", "/conversations.replies", "200", &second);
    let history = slack.ok("conversations.history", read(&json!(null))).await;
    assert_eq!(
        history["messages"].as_array().unwrap().len(),
        2,
        "{history}"
    );
    assert_eq!(history["messages"][1]["metadata"], tag);
    spec.check("get", "/conversations.history", "200", &history);
    let bare = json!({"channel": "C0DEPLOYS"});
    let bare = slack.ok("conversations.history", bare).await;
    assert!(bare["messages"][1].get("metadata").is_none(), "{bare}");

    let token = Some(slack.token.as_str());
    let unknown = json!({"channel": "C0DEPLOYS", "ts": "1699999999.000100"});
    let (_, answer) = slack
        .refused("conversations.replies", token, unknown, "thread_not_found")
        .await;
    spec.check("get", "/conversations.replies", "default", &answer);
    for (method, channel, code) in [
        ("conversations.history", "C0NOWHERE", "channel_not_found"),
        ("conversations.replies", "C0NOWHERE", "channel_not_found"),
    ] {
        let body = json!({"channel": channel, "ts": parent["ts"]});
        let (_, answer) = slack.refused(method, token, body, code).await;
        spec.check("get", &format!("/{method}"), "default", &answer);
    }
    let (_, answer) = slack
        .refused(
            "conversations.history",
            Some("xoxb-bogus"),
            json!({"channel": "C0DEPLOYS"}),
            "invalid_auth",
        )
        .await;
    spec.check("get", "/conversations.history", "default", &answer);
}

/// The JSON type of a value, to compare a view with the spec's example view.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[tokio::test]
async fn views_publish_answers_match_the_spec() {
    let (spec, slack) = (Spec::load(), Fake::start().await);
    let view = json!({"type": "home", "blocks": section("*Pipelines*")});
    let answer = slack
        .ok("views.publish", json!({"user_id": "U0ALICE", "view": view}))
        .await;
    spec.check("get", "/views.publish", "200", &answer);
    // The schema only says `ok`; the example shows the view object Slack returns: the
    // fake's has the same fields, each of the same JSON type.
    let example = &spec.0["paths"]["/views.publish"]["get"]["responses"]["200"]["examples"]["application/json"]
        ["view"];
    let shown = &answer["view"];
    let fields = |view: &Value| -> Vec<(String, &'static str)> {
        let mut fields: Vec<_> = (view.as_object().unwrap().iter())
            .map(|(name, value)| (name.clone(), json_type(value)))
            .collect();
        fields.sort();
        fields
    };
    assert_eq!(fields(shown), fields(example), "{shown}");
    assert_eq!(
        (&shown["type"], &shown["team_id"], &shown["root_view_id"]),
        (&json!("home"), &json!("T0SANDBOX"), &shown["id"])
    );
    assert_eq!(
        shown["blocks"][0]["text"],
        json!({"type": "mrkdwn", "text": "*Pipelines*", "verbatim": false})
    );
    assert_eq!(
        slack.fake.home("T0SANDBOX", "U0ALICE").unwrap().view,
        *shown
    );

    // As the spec describes the call: form fields, the view as JSON text; it replaces
    // the person's view.
    let form = [
        ("user_id", "U0ALICE".to_owned()),
        (
            "view",
            json!({"type": "home", "blocks": section("second")}).to_string(),
        ),
    ];
    let response = (slack.http.post(format!("{}/api/views.publish", slack.url)))
        .bearer_auth(&slack.token)
        .form(&form)
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    spec.check("get", "/views.publish", "200", &answer);
    let kept = slack.fake.home("T0SANDBOX", "U0ALICE").unwrap().view;
    assert_eq!(kept["blocks"][0]["text"]["text"], "second");

    let too_many: Vec<Value> = (0..101).map(|_| json!({"type": "divider"})).collect();
    let refusals = [
        (
            json!({"user_id": "U0DAVE", "view": view}),
            "invalid `user_id`",
        ),
        (json!({"view": view}), "invalid `user_id`"),
        (
            json!({"user_id": "U0ALICE"}),
            "[ERROR] missing required field: view",
        ),
        (
            json!({"user_id": "U0ALICE", "view": {"type": "modal", "blocks": []}}),
            "[ERROR] must be a valid enum value [json-pointer:/view/type]",
        ),
        (
            json!({"user_id": "U0ALICE", "view": {"type": "home"}}),
            "[ERROR] missing required field: blocks [json-pointer:/view]",
        ),
        (
            json!({"user_id": "U0ALICE", "view": {"type": "home", "blocks": too_many}}),
            "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            json!({"user_id": "U0ALICE", "view": {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}}]}}),
            "[ERROR] invalid blocks [json-pointer:/view/blocks]",
        ),
    ];
    for (body, message) in refusals {
        let (status, answer) = slack.call("views.publish", Some(&slack.token), body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            answer,
            json!({"ok": false, "error": "invalid_arguments", "response_metadata": {"messages": [message]}})
        );
        spec.check("get", "/views.publish", "default", &answer);
    }
    let (_, answer) = slack
        .refused(
            "views.publish",
            None,
            json!({"user_id": "U0ALICE", "view": view}),
            "not_authed",
        )
        .await;
    spec.check("get", "/views.publish", "default", &answer);
    assert_eq!(
        slack.fake.home("T0SANDBOX", "U0ALICE").unwrap().view,
        kept,
        "a refused publish leaves the view as it was"
    );
}
