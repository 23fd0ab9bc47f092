//! The secrets scan: the real bot process (the built binary, logging JSON) goes
//! through a login over the sandbox's OAuth pages, a deploy, a failed deploy, and
//! refused requests (a bad signature, a replay, a stale timestamp, a forged OAuth
//! state). Then no secret of its configuration, no token, OAuth code or state the
//! sandbox issued, no signature sent and no `response_url` may appear in any line it
//! logged or in any error answer it gave; and no token or secret may sit in clear in any
//! text column of the database.

use crate::common::{self, outcomes};

use std::time::Duration;

use chatops::bot::{Bot, BotState};
use chatops::clock::Clock;
use chatops::config::Config;
use chatops_fakes::heroku::Timings;
use chatops_fakes::{Fakes, SANDBOX_TEAM};
use chatops_sandbox::process::{BotProcess, free_port};
use common::walk::{Walker, button_url, split_url};
use common::{PATIENCE, SECRET, TestDb, databases, dump, now, signed_headers, slash_body_as};
use outcomes::{all_finished, outbox_drained};
use secrecy::ExposeSecret;

const ALICE: &str = "U0ALICE";
const CHANNEL: &str = "C0DEPLOYS";
const DEADLINE: Duration = Duration::from_secs(30);

/// What the scan looks for, and where.
#[derive(Default)]
struct Scan {
    /// Every value that must not leak, with what it is.
    secrets: Vec<(String, String)>,
    /// Every error answer the bot gave (status 400 and up): its status and body.
    /// Successful answers are left out: they are how a state reaches its owner.
    answers: Vec<String>,
}

impl Scan {
    fn secret(&mut self, what: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        assert!(value.len() >= 8, "too short to scan for: {value}");
        self.secrets.push((what.into(), value));
    }

    /// The secrets that `text` contains, named.
    fn leaks_in(&self, text: &str) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|(_, value)| text.contains(value.as_str()))
            .map(|(what, _)| what.clone())
            .collect()
    }
}

/// The world: the fakes in this process, the bot in its own.
struct World {
    sandbox: Fakes,
    config: Config,
    bot: BotProcess,
    http: reqwest::Client,
    scan: Scan,
}

impl World {
    async fn start(db: &TestDb) -> World {
        let sandbox = Fakes::start().await.unwrap();
        sandbox.heroku.set_timings(Timings::FAST);
        let port = free_port();
        let config = chatops_sandbox::bot_config(
            &sandbox,
            port,
            &format!("http://127.0.0.1:{port}"),
            &db.url,
        );
        let bot = BotProcess::start("bot", &config).await;
        let mut scan = Scan::default();
        configured_secrets(&config, &mut scan);
        World {
            sandbox,
            config,
            bot,
            http: reqwest::Client::new(),
            scan,
        }
    }

    /// Sends `/h <text>` as alice, signed, and returns the JSON answer.
    async fn command(&mut self, text: &str) -> serde_json::Value {
        let response_url = self
            .sandbox
            .slack
            .response_url(SANDBOX_TEAM, CHANNEL, ALICE);
        self.scan.secret("a response_url", response_url.clone());
        let body = slash_body_as(SANDBOX_TEAM, CHANNEL, ALICE, &response_url, text);
        let headers = signed_headers(SECRET, now(), &body);
        let (status, answer) = self.post("/slack/commands", &headers, body).await;
        assert_eq!(status, 200, "{text}: {answer}");
        serde_json::from_str(&answer).unwrap()
    }

    /// POSTs to the bot; keeps the answer and the signature sent for the scan.
    async fn post(
        &mut self,
        path: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> (u16, String) {
        let mut request = self.http.post(format!("{}{path}", self.bot.url)).body(body);
        for (name, value) in headers {
            if *name == "x-slack-signature" && value.len() > 8 {
                self.scan.secret("a request signature", value.clone());
            }
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let answer = response.text().await.unwrap();
        if status >= 400 {
            self.scan.answers.push(format!("{status} {answer}"));
        }
        (status, answer)
    }

    /// `/h login`, then through both providers' pages as a browser.
    async fn login(&mut self) {
        let start = button_url(&self.command("login").await);
        let mut browser = Walker::new();
        let heroku_authorize = browser.start(&start).await.redirect().to_owned();
        let heroku_back = browser.authorize(&heroku_authorize, None, "Allow").await;
        let linked_heroku = browser.get(&heroku_back).await;
        let github_start = linked_heroku.action().expect("a Connect GitHub button").1;
        let github_authorize = browser.start(&github_start).await.redirect().to_owned();
        let github_back = browser
            .authorize(&github_authorize, None, "Authorize as alice")
            .await;
        let done = browser.get(&github_back).await;
        assert_eq!(done.heading(), "You're all set");
        for url in [&start, &heroku_back, &github_start, &github_back] {
            for (name, value) in split_url(url).1 {
                if name == "code" || name == "state" {
                    self.scan.secret(format!("an OAuth {name}"), value);
                }
            }
        }
        // The callback used up the state: the same link again is refused on a page.
        let again = browser.get(&github_back).await;
        self.scan
            .answers
            .push(format!("{} {}", again.status, again.body));
        self.scan.answers.push(done.body);
    }

    /// Requests the bot must refuse, each carrying something secret-looking.
    async fn refused_requests(&mut self) {
        let response_url = self
            .sandbox
            .slack
            .response_url(SANDBOX_TEAM, CHANNEL, ALICE);
        let body = slash_body_as(SANDBOX_TEAM, CHANNEL, ALICE, &response_url, "help");
        let wrong = signed_headers("not-the-signing-secret", now(), &body);
        let stale = signed_headers(SECRET, now() - 3600, &body);
        let good = signed_headers(SECRET, now(), &body);
        for (headers, status) in [(wrong, 401), (stale, 401), (good.clone(), 200), (good, 401)] {
            let (got, answer) = self.post("/slack/commands", &headers, body.clone()).await;
            assert_eq!(got, status, "{answer}");
        }
        let forged = "/auth/heroku/callback?code=forged-code-value&state=forged-state-value";
        let page = self
            .http
            .get(format!("{}{forged}", self.bot.url))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 400);
        self.scan.answers.push(page.text().await.unwrap());
    }
}

/// Every secret the bot is configured with, and the webhook secret derived from one.
fn configured_secrets(config: &Config, scan: &mut Scan) {
    let expose = |secret: &secrecy::SecretString| secret.expose_secret().to_owned();
    scan.secret("the signing secret", expose(&config.slack_signing_secret));
    scan.secret("the encryption key", expose(&config.encryption_key));
    scan.secret(
        "the Heroku client secret",
        expose(&config.heroku_oauth.client_secret),
    );
    scan.secret(
        "the GitHub client secret",
        expose(&config.github_oauth.client_secret),
    );
    let slack_app = config
        .slack_app
        .as_ref()
        .expect("the sandbox configures one");
    scan.secret("the Slack client secret", expose(&slack_app.client_secret));
    let bot_token = config
        .slack_bot_token
        .as_ref()
        .expect("the sandbox gives one");
    scan.secret("the Slack bot token", expose(bot_token));
}

/// alice's tokens, opened from the store with the bot's key.
async fn issued_tokens(app: &BotState, scan: &mut Scan) {
    let linked = chatops::accounts::linked(app, SANDBOX_TEAM, ALICE)
        .await
        .expect("alice is linked");
    scan.secret(
        "the Heroku access token",
        linked.heroku_token.expose_secret(),
    );
    scan.secret("the GitHub token", linked.github_token.expose_secret());
    let row = app
        .store
        .account(SANDBOX_TEAM, ALICE)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.heroku_refresh_token.expect("a refresh token");
    let context = format!("heroku_refresh_token:{SANDBOX_TEAM}:{ALICE}");
    let refresh = app
        .vault
        .open(&sealed, &context)
        .expect("opens with the key");
    scan.secret("the Heroku refresh token", refresh.secret.expose_secret());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_an_answer_or_a_clear_column() {
    for db in databases().await {
        let mut world = World::start(&db).await;
        world.login().await;
        let app = BotState::new(
            Bot::new(
                world.config.clone(),
                db.store.clone(),
                Clock::system(),
                PATIENCE,
            )
            .unwrap(),
        );
        chatops_sandbox::bot::connect_pipelines(&app, SANDBOX_TEAM, ALICE)
            .await
            .expect("connect the pipelines");
        issued_tokens(&app, &mut world.scan).await;
        world.command("deploy paipu to staging").await;
        world.sandbox.heroku.fail_next_build("atlas-staging");
        world.command("deploy atlas to staging").await;
        let deploys = all_finished(&db.store, 2, DEADLINE).await;
        outbox_drained(&db.store, DEADLINE).await;
        let states: Vec<&str> = deploys.iter().map(|d| d.state.as_str()).collect();
        assert_eq!(
            states,
            ["deployed", "failed"],
            "one deploy of each kind ran"
        );
        world.refused_requests().await;

        let scan = &world.scan;
        let lines = world.bot.log_lines();
        assert!(lines.len() > 20, "the bot logged its work: {lines:?}");
        for line in &lines {
            let leaks = scan.leaks_in(line);
            assert!(leaks.is_empty(), "{leaks:?} logged: {line}");
        }
        for answer in &scan.answers {
            let leaks = scan.leaks_in(answer);
            assert!(leaks.is_empty(), "{leaks:?} in an answer: {answer}");
        }
        let cells = dump(&db).await;
        assert!(cells.len() > 20, "the database was read: {cells:?}");
        for (table, column, value) in cells {
            let leaks: Vec<String> = scan
                .leaks_in(&value)
                .into_iter()
                .filter(|what| {
                    what.contains("token") || what.contains("secret") || what.contains("key")
                })
                .collect();
            assert!(leaks.is_empty(), "{leaks:?} in clear in {table}.{column}");
        }
        eprintln!(
            "{}: {} secrets, {} log lines, {} answers scanned",
            db.backend_name(),
            scan.secrets.len(),
            lines.len(),
            scan.answers.len()
        );
        drop(world);
        db.finish().await;
    }
}
