//! Test harness shared by the store and end-to-end suites.
//!
//! Every scenario runs once per backend: SQLite always (a fresh temp file), and
//! PostgreSQL when `TEST_DATABASE_URL` is set (a fresh database on that server, dropped
//! afterwards), so both backends pass the same tests.

pub mod accounts;
pub mod browser;
pub mod buttons;
pub mod commands;
pub mod crash_world;
pub mod deploys;
pub mod fault_plan;
pub mod files;
pub mod forms;
pub mod outcomes;
pub mod queueing;
pub mod sandbox;
pub mod walk;

use std::sync::atomic::{AtomicU32, Ordering};

pub use chatops_testdb::{TestDb, databases};

/// The signing secret every test app is configured with.
pub const SECRET: &str = chatops_sandbox::SANDBOX_SIGNING_SECRET;

/// Outbound calls in tests: short timeouts and quick retries, so fault tests are fast.
pub const PATIENCE: chatops::bot::Patience = chatops::bot::Patience {
    timeout: std::time::Duration::from_secs(2),
    retry: chatops::outbound::RetryPolicy {
        attempts: 3,
        base_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(200),
    },
};

/// The real app, serving on a loopback port, over a fresh database, wired to a fresh
/// sandbox.
pub struct TestApp {
    pub base_url: String,
    pub db: TestDb,
    pub sandbox: chatops_fakes::Fakes,
    pub http: reqwest::Client,
    /// The running app's state, for calling the library API as handlers do.
    pub state: chatops::bot::BotState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(db: TestDb) -> TestApp {
        TestApp::spawn_with_clock(db, chatops::clock::Clock::system()).await
    }

    /// Like [`TestApp::spawn`], with the app reading time from `clock`.
    pub async fn spawn_with_clock(db: TestDb, clock: chatops::clock::Clock) -> TestApp {
        TestApp::spawn_configured(db, clock, |_| {}).await
    }

    /// Like [`TestApp::spawn_with_clock`], with `configure` changing the configuration.
    pub async fn spawn_configured(
        db: TestDb,
        clock: chatops::clock::Clock,
        configure: impl FnOnce(&mut chatops::config::Config),
    ) -> TestApp {
        use chatops::bot::{Bot, BotState};
        let sandbox = chatops_fakes::Fakes::start().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let mut config = chatops_sandbox::bot_config(&sandbox, 0, &base_url, &db.url);
        configure(&mut config);
        let app = Bot::new(config, db.store.clone(), clock, PATIENCE).unwrap();
        let state = BotState::new(app);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(chatops::app::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        TestApp {
            base_url,
            db,
            sandbox,
            http: reqwest::Client::new(),
            state,
            stop: Some(stop),
            served,
        }
    }

    /// Stops the server, waits for it, and deletes the database.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.served).await.unwrap().unwrap();
        self.db.finish().await;
    }

    /// POSTs `body` to `path` with the given headers, returning (status, body text).
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: impl Into<reqwest::Body>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Sends `/h <text>` exactly as Slack would, signed now with the right secret; its
    /// `response_url` is under the fake Slack but answers nothing there.
    pub async fn command(&self, text: &str) -> (u16, String) {
        let response_url = format!("{}/commands/T0TEST/1/x", self.sandbox.slack_url);
        let body = slash_body_as("T0TEST", "C0DEPLOYS", "U0ALICE", &response_url, text);
        self.post(
            "/slack/commands",
            &signed_headers(SECRET, now(), &body),
            body,
        )
        .await
    }

    /// Sends `/h <text>` as `user` in `channel` of `team`, with a live `response_url`
    /// minted by the fake Slack (so follow-ups land in its records).
    pub async fn command_as(
        &self,
        team: &str,
        channel: &str,
        user: &str,
        text: &str,
    ) -> (u16, String) {
        let response_url = self.sandbox.slack.response_url(team, channel, user);
        let body = slash_body_as(team, channel, user, &response_url, text);
        // Signed at the app's time, which a test may have moved.
        let timestamp = self.state.clock.now();
        self.post(
            "/slack/commands",
            &signed_headers(SECRET, timestamp, &body),
            body,
        )
        .await
    }

    /// How many commands and signatures the database holds.
    pub async fn rows(&self) -> (i64, i64) {
        let store = &self.db.store;
        (
            store.count_commands().await.unwrap(),
            store.count_signatures().await.unwrap(),
        )
    }
}

/// The Unix time now, in seconds.
pub fn now() -> i64 {
    chatops::clock::Clock::system().now()
}

/// A slash-command form body like Slack's, unique per call so signatures differ. Its
/// `response_url` is Slack's form: only for commands answered in the reply alone.
pub fn slash_body(text: &str) -> String {
    slash_body_as(
        "T0TEST",
        "C0DEPLOYS",
        "U0ALICE",
        "https://hooks.slack.com/commands/T0TEST/1/x",
        text,
    )
}

/// [`slash_body`] from `user` in `channel` of `team`, answering to `response_url`.
pub fn slash_body_as(
    team: &str,
    channel: &str,
    user: &str,
    response_url: &str,
    text: &str,
) -> String {
    static TRIGGER: AtomicU32 = AtomicU32::new(0);
    let trigger = format!(
        "{}.{}",
        std::process::id(),
        TRIGGER.fetch_add(1, Ordering::Relaxed)
    );
    serde_urlencoded::to_string([
        ("token", "legacy-token-ignored"),
        ("team_id", team),
        ("team_domain", "testteam"),
        ("channel_id", channel),
        ("channel_name", "deploys"),
        ("user_id", user),
        ("user_name", "alice"),
        ("command", "/h"),
        ("text", text),
        ("api_app_id", "A0TEST"),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger.as_str()),
    ])
    .unwrap()
}

/// The headers Slack sends with a signed form body.
pub fn signed_headers(secret: &str, timestamp: i64, body: &str) -> Vec<(&'static str, String)> {
    let timestamp = timestamp.to_string();
    let signature = chatops::slack::verify::sign(secret.as_bytes(), &timestamp, body.as_bytes());
    vec![
        ("content-type", "application/x-www-form-urlencoded".into()),
        ("x-slack-request-timestamp", timestamp),
        ("x-slack-signature", signature),
    ]
}

/// A clock tests can move forward; it starts at the system time.
#[derive(Clone, Default)]
pub struct TestClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl TestClock {
    /// The app's view of it.
    pub fn clock(&self) -> chatops::clock::Clock {
        let offset = self.0.clone();
        chatops::clock::Clock::from_fn(move || now() + offset.load(Ordering::SeqCst))
    }

    /// Moves time forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// An HTTP client that, like a test inspecting each hop, does not follow redirects.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The background loops' own bookkeeping: when each sweep next runs, and Slack's pace.
/// They change on their own while a test watches, and hold nothing anyone typed.
const CLOCKWORK: [&str; 2] = ["sweep_turns", "slack_pace"];

/// Every non-binary cell of every table but the [`CLOCKWORK`], as text: `(table,
/// column, value)`. What a dump of the database would show.
pub async fn dump(db: &TestDb) -> Vec<(String, String, String)> {
    use sqlx::Row;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .expect("connect to the test database");
    let (tables, columns) = match db.backend_name() {
        "sqlite" => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "SELECT name, type FROM pragma_table_info($1)",
        ),
        _ => (
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        ),
    };
    let tables: Vec<String> = sqlx::query_scalar(tables).fetch_all(&pool).await.unwrap();
    let mut cells = Vec::new();
    for table in tables
        .into_iter()
        .filter(|t| !CLOCKWORK.contains(&t.as_str()))
    {
        let rows = sqlx::query(columns)
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap();
        for row in rows {
            let (column, kind): (String, String) = (row.get(0), row.get(1));
            if ["blob", "bytea"].contains(&kind.to_ascii_lowercase().as_str()) {
                continue;
            }
            let query = format!("SELECT CAST({column} AS TEXT) FROM {table}");
            let values: Vec<Option<String>> =
                sqlx::query_scalar(&query).fetch_all(&pool).await.unwrap();
            cells.extend(
                values
                    .into_iter()
                    .flatten()
                    .map(|value| (table.clone(), column.clone(), value)),
            );
        }
    }
    pool.close().await;
    cells
}
