//! The Slack Web API client against the fake Slack over real HTTP on loopback: what
//! each call leaves in the fake, Slack's refusals, pacing and injected faults, and
//! the OAuth v2 install from the authorize page to a working bot token.

use std::time::Duration;

use axum::http::Method;
use chatops::chat::ResponseType::{self, Ephemeral as Private, InChannel};
use chatops::outbound::{RetryPolicy, http_client};
use chatops::slack::api::{Button, ButtonStyle, Installation, Message, Posted, SlackApi};
use chatops::slack::api::{PostedMessage, SlackError};
use chatops_fakes::slack::ResponseType as Seen;
use chatops_fakes::slack::{ApiCall, Bucket, ChannelMessage, Edit, Ephemeral, FakeSlack};
use chatops_fakes::slack::{Pacing, SlackEvent};
use chatops_fakes::{Failure, FaultRule};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base_delay: Duration::from_millis(5),
    max_delay: Duration::from_millis(40),
};
const DEPLOYS: &str = "C0DEPLOYS";
const REDIRECT_URI: &str = "http://127.0.0.1:9/slack/oauth/callback";

struct Slack {
    fake: FakeSlack,
    api: SlackApi,
    url: String,
}

impl Slack {
    async fn start(retry: RetryPolicy) -> Slack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeSlack::new(&url);
        fake.set_pacing(Pacing::unlimited());
        let router = fake.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let api = SlackApi::new(&url, Duration::from_millis(300), retry).unwrap();
        Slack { fake, api, url }
    }

    fn token(&self) -> SecretString {
        self.fake.token_for_team("T0SANDBOX").into()
    }

    async fn post(&self, channel: &str, message: &Message) -> Result<Posted, SlackError> {
        self.api
            .post_message(&self.token(), channel, message, None, false, None)
            .await
    }

    async fn reply(&self, ts: &str, text: &str, broadcast: bool) -> Result<Posted, SlackError> {
        let message = Message::text(text);
        let token = self.token();
        self.api
            .post_message(&token, DEPLOYS, &message, Some(ts), broadcast, None)
            .await
    }

    async fn update(&self, ts: &str, message: &Message) -> Result<Posted, SlackError> {
        self.api.update(&self.token(), DEPLOYS, ts, message).await
    }

    async fn ephemeral(&self, user: &str, message: &Message) -> Result<(), SlackError> {
        self.api
            .post_ephemeral(&self.token(), DEPLOYS, user, message)
            .await
    }

    async fn respond(&self, url: &str, text: &str, kind: ResponseType) -> Result<(), SlackError> {
        self.api.respond(url, &Message::text(text), kind).await
    }

    /// Opens the authorize page as a browser would, then Allows or Cancels as alice;
    /// the `Location` Slack redirects to.
    async fn install(&self, decision: &str) -> String {
        let client_id = self.fake.app().client_id;
        let scopes = ["commands", "chat:write"];
        let page = self
            .api
            .authorize_url(&client_id, &scopes, REDIRECT_URI, "st4te");
        let browser = http_client(Duration::from_secs(2));
        let html = browser
            .get(&page)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Sandbox as alice"), "{html}");
        assert!(html.contains("<code>commands,chat:write</code>"), "{html}");
        let form = [
            ("client_id", client_id.as_str()),
            ("scope", "commands,chat:write"),
            ("redirect_uri", REDIRECT_URI),
            ("state", "st4te"),
            ("install_as", "T0SANDBOX/U0ALICE"),
            ("decision", decision),
        ];
        let answer = browser
            .post(format!("{}/oauth/v2/authorize", self.url))
            .form(&form);
        let answer = answer.send().await.unwrap();
        assert_eq!(answer.status(), 302);
        answer.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn exchange(&self, secret: &str, code: &str) -> Result<Installation, SlackError> {
        let (client_id, secret) = (self.fake.app().client_id, SecretString::from(secret));
        self.api
            .oauth_v2_access(&client_id, &secret, code, Some(REDIRECT_URI))
            .await
    }
}

fn bot_message(ts: &str, thread_ts: Option<&str>, text: &str) -> ChannelMessage {
    ChannelMessage {
        channel: DEPLOYS.into(),
        ts: ts.into(),
        thread_ts: thread_ts.map(Into::into),
        reply_broadcast: false,
        user: "U0BOTSANDBOX".into(),
        text: text.into(),
        blocks: vec![],
    }
}

fn error_code(result: Result<impl std::fmt::Debug, SlackError>) -> String {
    result
        .unwrap_err()
        .code()
        .expect("Slack named an error")
        .to_owned()
}

#[tokio::test]
async fn a_post_and_its_thread_are_recorded_as_posted() {
    let slack = Slack::start(FAST).await;
    let mut events = slack.fake.subscribe();
    let cancel = Button::new("deploy_cancel", "Cancel", "1").style(ButtonStyle::Danger);
    let parent = Message::text("Deploying paipu")
        .section("*Deploying* paipu-staging")
        .actions("deploy:1", vec![cancel]);
    let posted = slack.post(DEPLOYS, &parent).await.unwrap();
    assert_eq!(posted.channel, DEPLOYS);
    let step = slack.reply(&posted.ts, "Releasing", false).await.unwrap();
    // A reply to a reply lands under the parent, as in Slack.
    let done = slack.reply(&step.ts, "Deployed", true).await.unwrap();
    let micros = |ts: &str| ts.replace('.', "").parse::<u64>().unwrap();
    assert!(micros(&posted.ts) < micros(&step.ts) && micros(&step.ts) < micros(&done.ts));

    let recorded_parent = ChannelMessage {
        blocks: vec![
            json!({"type": "section", "text": {"type": "mrkdwn", "text": "*Deploying* paipu-staging"}}),
            json!({"type": "actions", "block_id": "deploy:1", "elements": [{"type": "button",
                "action_id": "deploy_cancel", "value": "1", "style": "danger",
                "text": {"type": "plain_text", "text": "Cancel"}}]}),
        ],
        ..bot_message(&posted.ts, None, "Deploying paipu")
    };
    let first = bot_message(&step.ts, Some(&posted.ts), "Releasing");
    let broadcast = ChannelMessage {
        reply_broadcast: true,
        ..bot_message(&done.ts, Some(&posted.ts), "Deployed")
    };
    let in_channel = slack.fake.channel_messages(DEPLOYS);
    assert_eq!(in_channel, vec![recorded_parent.clone(), broadcast.clone()]);
    assert_eq!(
        slack.fake.thread(DEPLOYS, &posted.ts),
        vec![first, broadcast]
    );
    assert_eq!(
        events.recv().await.unwrap(),
        SlackEvent::Posted(recorded_parent)
    );
}

#[tokio::test]
async fn an_update_replaces_the_message_and_keeps_its_history() {
    let slack = Slack::start(FAST).await;
    let posted = slack
        .post(DEPLOYS, &Message::text("Deploying").section("building"))
        .await
        .unwrap();
    let releasing = Message::text("Releasing").section("releasing");
    assert_eq!(slack.update(&posted.ts, &releasing).await.unwrap(), posted);
    slack
        .update(&posted.ts, &Message::text("Deployed"))
        .await
        .unwrap();

    let current = bot_message(&posted.ts, None, "Deployed");
    assert_eq!(slack.fake.channel_messages(DEPLOYS), vec![current]);
    let block = json!({"type": "section", "text": {"type": "mrkdwn", "text": "releasing"}});
    let first = Edit {
        text: "Releasing".into(),
        blocks: vec![block],
    };
    let second = Edit {
        text: "Deployed".into(),
        blocks: vec![],
    };
    assert_eq!(
        slack.fake.updates_of(DEPLOYS, &posted.ts),
        vec![first, second]
    );
    let unknown = slack.update("1699999999.000100", &releasing).await;
    assert_eq!(error_code(unknown), "message_not_found");

    slack
        .ephemeral("U0BOB", &Message::text("only bob"))
        .await
        .unwrap();
    let ephemeral_ts = slack.fake.ephemerals(DEPLOYS, "U0BOB")[0]
        .message_ts
        .clone();
    let of_ephemeral = slack.update(&ephemeral_ts, &releasing).await;
    assert_eq!(
        error_code(of_ephemeral),
        "message_not_found",
        "ephemerals cannot be updated"
    );
}

#[tokio::test]
async fn an_ephemeral_reaches_only_its_user() {
    let slack = Slack::start(FAST).await;
    let message = Message::text("Your Heroku account is not linked").context(["run `/h login`"]);
    slack.ephemeral("U0BOB", &message).await.unwrap();
    let ephemerals = slack.fake.ephemerals(DEPLOYS, "U0BOB");
    let message_ts = ephemerals.first().map(|e| e.message_ts.clone());
    let seen = Ephemeral {
        channel: DEPLOYS.into(),
        user: "U0BOB".into(),
        message_ts: message_ts.unwrap_or_default(),
        thread_ts: None,
        text: "Your Heroku account is not linked".into(),
        blocks: vec![
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": "run `/h login`"}]}),
        ],
    };
    assert_eq!(ephemerals, vec![seen]);
    assert_eq!(slack.fake.ephemerals(DEPLOYS, "U0ALICE"), vec![]);
    assert_eq!(slack.fake.channel_messages(DEPLOYS), vec![]);
    let stranger = slack.ephemeral("U0DAVE", &message).await;
    assert_eq!(error_code(stranger), "user_not_in_channel");
}

#[tokio::test]
async fn response_url_posts_are_recorded_and_used_up_after_five() {
    let slack = Slack::start(FAST).await;
    let url = slack.fake.response_url("T0SANDBOX", DEPLOYS, "U0ALICE");
    assert!(
        url.starts_with(&format!("{}/response/", slack.url)),
        "{url}"
    );
    slack
        .respond(&url, "Deploying paipu", InChannel)
        .await
        .unwrap();
    slack
        .respond(&url, "Unknown pipeline", Private)
        .await
        .unwrap();

    let responses = slack.fake.responses();
    let kinds: Vec<_> = responses
        .iter()
        .map(|r| (r.response_type, r.text.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Seen::InChannel, "Deploying paipu"),
            (Seen::Ephemeral, "Unknown pipeline")
        ]
    );
    let origin = ("T0SANDBOX", DEPLOYS, "U0ALICE");
    for response in &responses {
        assert_eq!(
            (
                response.team.as_str(),
                response.channel.as_str(),
                response.user.as_str()
            ),
            origin
        );
        assert!(!response.replace_original);
    }
    let shown: Vec<_> = slack
        .fake
        .channel_messages(DEPLOYS)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(shown, ["Deploying paipu"]);
    let to_alice: Vec<_> = slack
        .fake
        .ephemerals(DEPLOYS, "U0ALICE")
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(to_alice, ["Unknown pipeline"]);

    for _ in 0..3 {
        slack.respond(&url, "more", Private).await.unwrap();
    }
    let sixth = slack.respond(&url, "too many", Private).await.unwrap_err();
    assert!(
        matches!(&sixth, SlackError::Http { status: 404, .. }),
        "{sixth:?}"
    );
    assert_eq!(
        (sixth.code(), sixth.is_transient()),
        (Some("used_url"), false)
    );
    assert_eq!(slack.fake.responses().len(), 5);
}

#[tokio::test]
async fn refusals_keep_slacks_code_and_are_not_retried() {
    let slack = Slack::start(FAST).await;
    let hello = Message::text("hello");
    let bogus = SecretString::from("xoxb-1-2-not-a-token");
    let cases = [
        (
            "invalid_auth",
            slack
                .api
                .post_message(&bogus, DEPLOYS, &hello, None, false, None)
                .await,
        ),
        ("channel_not_found", slack.post("C0NOWHERE", &hello).await),
        ("channel_not_found", slack.post("C0OTHERGEN", &hello).await),
        ("not_in_channel", slack.post("C0INCIDENTS", &hello).await),
        ("no_text", slack.post(DEPLOYS, &Message::text("")).await),
        (
            "invalid_blocks",
            slack.post(DEPLOYS, &Message::text("x").section("")).await,
        ),
        (
            "msg_too_long",
            slack
                .post(DEPLOYS, &Message::text("x".repeat(40_001)))
                .await,
        ),
        (
            "thread_not_found",
            slack.reply("1699999999.000100", "hello", false).await,
        ),
    ];
    let expected: Vec<_> = cases.iter().map(|(code, _)| code.to_string()).collect();
    let got: Vec<_> = cases
        .into_iter()
        .map(|(_, result)| error_code(result))
        .collect();
    assert_eq!(got, expected);

    let revoked = slack.token();
    assert!(slack.fake.revoke_token(revoked.expose_secret()));
    let error = slack
        .api
        .post_message(&revoked, DEPLOYS, &hello, None, false, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SlackError::Api { code, .. } if code == "token_revoked"),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert!(
        !error.to_string().contains(revoked.expose_secret()),
        "{error}"
    );

    let calls = slack.fake.api_calls();
    assert_eq!(calls.len(), 9, "one request per refused call: {calls:?}");
    let refused = |call: &ApiCall| call.status == 200 && call.error.is_some();
    assert!(
        calls
            .iter()
            .all(|call| call.method == "chat.postMessage" && refused(call))
    );
}

#[tokio::test]
async fn ten_posts_at_once_past_the_pace_hand_their_429_back_unrepeated() {
    let slack = Slack::start(RetryPolicy {
        attempts: 100,
        ..FAST
    })
    .await;
    let per_channel = Bucket {
        burst: 3,
        per_second: 25.0,
    };
    slack.fake.set_pacing(Pacing {
        post_message: Some(per_channel),
        ..Pacing::unlimited()
    });
    let messages: Vec<_> = (0..10).map(|n| Message::text(n.to_string())).collect();
    let posts = messages.iter().map(|message| slack.post(DEPLOYS, message));
    let posted = futures_util::future::join_all(posts).await;
    // The outbox paces posts and retries a 429 itself, for the whole channel; the
    // client must not send one more call past it.
    let limited = posted
        .iter()
        .filter(|post| matches!(post, Err(SlackError::RateLimited { .. })))
        .count();
    let landed = posted.iter().filter(|post| post.is_ok()).count();
    assert_eq!(landed + limited, 10, "{posted:?}");
    assert!(limited > 0, "the fake paced the burst");
    assert_eq!(slack.fake.channel_messages(DEPLOYS).len(), landed);
    let calls = slack.fake.api_calls();
    assert_eq!(calls.len(), 10, "each post was sent once");
    let paced = |call: &ApiCall| call.error.as_deref() == Some("ratelimited");
    assert!(calls.iter().all(|call| call.status == 200 || paced(call)));
}

#[tokio::test]
async fn injected_5xx_429_drops_and_timeouts_are_retried() {
    let slack = Slack::start(FAST).await;
    let (faults, post, update) = (
        &slack.fake.faults,
        "/api/chat.postMessage",
        "/api/chat.update",
    );
    // A post is never repeated here: after a 5xx or no answer Slack may have made
    // it (the outbox looks before posting again), and a post's or an update's 429
    // goes back to the outbox, which keeps the channel's pace.
    let limited = || Failure::RateLimited {
        retry_after_secs: 1,
    };
    faults.inject(FaultRule::failing(Method::POST, post, limited(), 1));
    let refused = slack.post(DEPLOYS, &Message::text("after a 429")).await;
    assert!(
        matches!(&refused, Err(SlackError::RateLimited { retry_after, .. }) if *retry_after == Duration::from_secs(1)),
        "a post's 429 goes back to the outbox's pacer: {refused:?}"
    );
    let posted = slack
        .post(DEPLOYS, &Message::text("after a 429"))
        .await
        .unwrap();

    faults.inject(FaultRule::failing(
        Method::POST,
        update,
        Failure::Status(503),
        1,
    ));
    faults.inject(FaultRule::failing(Method::POST, update, Failure::Drop, 1));
    faults.inject(FaultRule::slow(
        Method::POST,
        update,
        Duration::from_secs(2),
        1,
    ));
    let text = "through a 503, a reset and a timeout";
    slack
        .update(&posted.ts, &Message::text(text))
        .await
        .unwrap();

    let methods: Vec<_> = slack
        .fake
        .api_calls()
        .into_iter()
        .map(|call| call.method)
        .collect();
    assert_eq!(
        methods,
        ["chat.postMessage", "chat.update"],
        "the faults struck first"
    );
    let edit = Edit {
        text: text.into(),
        blocks: vec![],
    };
    assert_eq!(slack.fake.updates_of(DEPLOYS, &posted.ts), vec![edit]);
}

#[tokio::test]
async fn a_post_slack_may_have_made_is_not_repeated_and_other_calls_are_bounded() {
    let slack = Slack::start(FAST).await;
    let path = "/api/chat.postMessage";
    let broken = FaultRule::failing(Method::POST, path, Failure::Status(500), 1);
    slack.fake.faults.inject(broken.after_handling().forever());
    let error = slack
        .post("C0GENERAL", &Message::text("hello"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SlackError::Http { status: 500, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    let handled = ApiCall {
        method: "chat.postMessage".into(),
        status: 200,
        error: None,
    };
    assert_eq!(slack.fake.api_calls(), vec![handled.clone()]);
    let posted = &slack.fake.channel_messages("C0GENERAL")[0].ts;

    slack.fake.faults.clear();
    let update = "/api/chat.update";
    let broken = FaultRule::failing(Method::POST, update, Failure::Status(500), 1);
    slack.fake.faults.inject(broken.after_handling().forever());
    let x = Message::text("x");
    let token = slack.token();
    let error = slack.api.update(&token, "C0GENERAL", posted, &x);
    let error = error.await.unwrap_err();
    assert!(
        matches!(error, SlackError::Http { status: 500, .. }),
        "{error:?}"
    );
    let updated = ApiCall {
        method: "chat.update".into(),
        ..handled.clone()
    };
    let mut calls = vec![handled];
    calls.extend(vec![updated; FAST.attempts as usize]);
    assert_eq!(slack.fake.api_calls(), calls, "an update is safe to repeat");

    slack.fake.faults.clear();
    slack
        .fake
        .faults
        .inject(FaultRule::failing(Method::POST, update, Failure::Hang, 1).forever());
    let twice = RetryPolicy {
        attempts: 2,
        ..FAST
    };
    let impatient = SlackApi::new(&slack.url, Duration::from_millis(100), twice).unwrap();
    let started = std::time::Instant::now();
    let hello = Message::text("hello");
    let error = impatient
        .update(&slack.token(), "C0GENERAL", posted, &hello)
        .await;
    let error = error.unwrap_err();
    assert!(matches!(error, SlackError::TimedOut { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "two attempts of 100ms, not forever"
    );
}

#[tokio::test]
async fn an_oauth_install_yields_a_working_bot_token_once_per_code() {
    let slack = Slack::start(FAST).await;
    let denied = slack.install("deny").await;
    assert_eq!(
        denied,
        format!("{REDIRECT_URI}?error=access_denied&state=st4te")
    );
    let location = slack.install("allow").await;
    let code = location
        .strip_prefix(&format!("{REDIRECT_URI}?code="))
        .unwrap();
    let code = code.strip_suffix("&state=st4te").unwrap();

    assert_eq!(
        error_code(slack.exchange("not-the-secret", code).await),
        "bad_client_secret"
    );
    let installed = slack
        .exchange(&slack.fake.app().client_secret, code)
        .await
        .unwrap();
    let team = (installed.team_id.as_str(), installed.team_name.as_deref());
    assert_eq!(team, ("T0SANDBOX", Some("Sandbox")));
    let bot = (installed.bot_user_id.as_str(), installed.scope.as_str());
    assert_eq!(bot, ("U0BOTSANDBOX", "commands,chat:write"));
    assert_eq!(installed.installer_user_id, "U0ALICE");
    assert_eq!(
        installed.access_token.expose_secret(),
        slack.fake.token_for_team("T0SANDBOX")
    );
    let hello = Message::text("installed");
    let token = &installed.access_token;
    slack
        .api
        .post_message(token, DEPLOYS, &hello, None, false, None)
        .await
        .unwrap();

    let reused = slack.exchange(&slack.fake.app().client_secret, code).await;
    assert_eq!(error_code(reused), "invalid_code");
}

#[tokio::test]
async fn posts_are_found_again_by_their_outbox_id() {
    let slack = Slack::start(FAST).await;
    let (token, api) = (slack.token(), &slack.api);
    let (first, second) = (Message::text("parent"), Message::text("reply"));
    let parent = api.post_message(&token, DEPLOYS, &first, None, false, Some(41));
    let parent = parent.await.unwrap();
    let in_thread = Some(parent.ts.as_str());
    let reply = api.post_message(&token, DEPLOYS, &second, in_thread, false, Some(42));
    let reply = reply.await.unwrap();
    let untagged = slack.reply(&parent.ts, "untagged", false).await.unwrap();
    let found = |posted: &Posted, thread_ts: Option<&str>, outbox_id| PostedMessage {
        ts: posted.ts.clone(),
        thread_ts: thread_ts.map(str::to_owned),
        outbox_id,
    };
    let thread = vec![
        found(&parent, None, Some(41)),
        found(&reply, in_thread, Some(42)),
        found(&untagged, in_thread, None),
    ];
    let replies = || api.conversations_replies(&token, DEPLOYS, &parent.ts);
    assert_eq!(replies().await.unwrap(), thread);
    // Its ts is Slack's clock: the outbox looks back from when it queued the post.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let since = format!("{}.000000", now.unwrap().as_secs() - 300);
    let history = api.conversations_history(&token, DEPLOYS, &since);
    assert_eq!(history.await.unwrap(), vec![found(&parent, None, Some(41))]);
    let later = api.conversations_history(&token, DEPLOYS, &parent.ts).await;
    assert_eq!(later.unwrap(), vec![], "oldest is exclusive");

    // Reads are safe to repeat: retried through a 502 and a reset.
    let path = "/api/conversations.replies";
    let faults = &slack.fake.faults;
    faults.inject(FaultRule::failing(
        Method::GET,
        path,
        Failure::Status(502),
        1,
    ));
    faults.inject(FaultRule::failing(Method::GET, path, Failure::Drop, 1));
    assert_eq!(replies().await.unwrap(), thread);

    let calls_before = slack.fake.api_calls().len();
    let unknown = api.conversations_replies(&token, DEPLOYS, "1699999999.000100");
    assert_eq!(error_code(unknown.await), "thread_not_found");
    let outside = api.conversations_history(&token, "C0INCIDENTS", "0");
    assert_eq!(error_code(outside.await), "not_in_channel");
    let nowhere = api.conversations_history(&token, "C0NOWHERE", "0");
    assert_eq!(error_code(nowhere.await), "channel_not_found");
    let bogus = SecretString::from("xoxb-bogus");
    let forged = api.conversations_replies(&bogus, DEPLOYS, &parent.ts);
    assert_eq!(error_code(forged.await), "invalid_auth");
    assert_eq!(
        slack.fake.api_calls().len(),
        calls_before + 4,
        "refusals are not retried"
    );
}
