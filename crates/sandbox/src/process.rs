//! The bot as its own operating-system process, the way it runs in production:
//! `serve` configured through environment variables only, so a test or a benchmark
//! can SIGKILL it mid-deploy and start another one on the same database while the
//! fakes (in the caller's process) live on. The binary is `chatops-sandbox`, whose
//! `serve` is the bot's own task: the tests and benchmarks that call this are built
//! beside it, in the same target directory.
//!
//! A [`BotProcess`] is killed when dropped, failed test or not, and its log lines are
//! kept so a failing test shows what the bot said last.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatops::config::{Config, LogFormat};
use secrecy::ExposeSecret;

/// The `chatops-sandbox` binary Cargo built next to the running test or benchmark
/// (which lives in `target/<profile>/deps/`).
fn sandbox_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the running executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<exe>");
    let binary = profile_dir.join("chatops-sandbox");
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build -p chatops-sandbox)",
        binary.display()
    );
    binary
}

/// How long a process may take to migrate and start listening.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// Log lines shown when a test fails while the process runs.
const TAIL_ON_FAILURE: usize = 40;

/// The environment that makes `chatops serve` read exactly `config`.
pub fn env_of(config: &Config) -> Vec<(&'static str, String)> {
    let endpoints = &config.endpoints;
    let mut env = vec![
        ("PORT", config.port.to_string()),
        ("BASE_URL", config.base_url.clone()),
        ("DATABASE_URL", config.database_url.clone()),
        (
            "SLACK_SIGNING_SECRET",
            config.slack_signing_secret.expose_secret().to_owned(),
        ),
        ("HEROKU_OAUTH_ID", config.heroku_oauth.client_id.clone()),
        (
            "HEROKU_OAUTH_SECRET",
            config.heroku_oauth.client_secret.expose_secret().to_owned(),
        ),
        ("GITHUB_CLIENT_ID", config.github_oauth.client_id.clone()),
        (
            "GITHUB_CLIENT_SECRET",
            config.github_oauth.client_secret.expose_secret().to_owned(),
        ),
        (
            "ENCRYPTION_KEY",
            config.encryption_key.expose_secret().to_owned(),
        ),
        ("HEROKU_API_URL", endpoints.heroku_api.clone()),
        ("HEROKU_OAUTH_URL", endpoints.heroku_oauth.clone()),
        ("GITHUB_API_URL", endpoints.github_api.clone()),
        ("GITHUB_OAUTH_URL", endpoints.github_oauth.clone()),
        ("SLACK_URL", endpoints.slack.clone()),
        (
            "POLL_INTERVAL_MS",
            config.poll_interval.as_millis().to_string(),
        ),
        (
            "DEPLOY_LEASE_MS",
            config.deploy_lease.as_millis().to_string(),
        ),
        (
            "DEPLOY_QUEUE_TTL_MS",
            config.deploy_queue_ttl.as_millis().to_string(),
        ),
        ("PRODUCTION_CONFIRM", config.production_confirm.to_string()),
        (
            "LOG_FORMAT",
            match config.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }
            .to_owned(),
        ),
    ];
    if let Some(token) = &config.slack_bot_token {
        env.push(("SLACK_BOT_TOKEN", token.expose_secret().to_owned()));
    }
    if let Some(app) = &config.slack_app {
        env.push(("SLACK_CLIENT_ID", app.client_id.clone()));
        env.push((
            "SLACK_CLIENT_SECRET",
            app.client_secret.expose_secret().to_owned(),
        ));
    }
    if let Some(previous) = &config.encryption_key_previous {
        env.push((
            "ENCRYPTION_KEY_PREVIOUS",
            previous.expose_secret().to_owned(),
        ));
    }
    if let Some(token) = &config.metrics_token {
        env.push(("METRICS_TOKEN", token.expose_secret().to_owned()));
    }
    env
}

/// A loopback port nobody listens on right now. The bot binds it a moment later; a
/// fixed port lets a restarted bot keep the `BASE_URL` its webhooks point at.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("a local address").port()
}

/// A running `chatops serve`.
pub struct BotProcess {
    /// Names the process in failure output (`first`, `restarted`, ...).
    pub name: String,
    /// Where it serves.
    pub url: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl BotProcess {
    /// Starts `chatops serve` with `config` (logging JSON, whatever `config` says, so
    /// its lines can be read) and waits until it listens.
    pub async fn start(name: &str, config: &Config) -> BotProcess {
        let workdir = std::env::temp_dir();
        let mut child = Command::new(sandbox_binary())
            .arg("serve")
            // Nothing from the test's own environment (or a stray .env) leaks in.
            .env_clear()
            .current_dir(workdir)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env_of(config))
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the chatops binary");
        let lines = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().expect("piped stdout"), lines.clone());
        collect(child.stderr.take().expect("piped stderr"), lines.clone());
        let mut process = BotProcess {
            name: name.to_owned(),
            url: format!("http://127.0.0.1:{}", config.port),
            child,
            lines,
        };
        process.wait_listening().await;
        process
    }

    async fn wait_listening(&mut self) {
        let started = Instant::now();
        while !self.logged(|line| line["message"] == "listening") {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                panic!(
                    "bot {} exited ({status}) before listening:\n{}",
                    self.name,
                    self.tail(TAIL_ON_FAILURE)
                );
            }
            assert!(
                started.elapsed() < START_DEADLINE,
                "bot {} did not start listening in time:\n{}",
                self.name,
                self.tail(TAIL_ON_FAILURE)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Its process id (deploy leases are owned by `<pid>-<random>`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether `owner` (a deploy's `lease_owner`) is this process.
    pub fn owns(&self, owner: &str) -> bool {
        owner.split('-').next() == Some(self.pid().to_string().as_str())
    }

    /// SIGKILL, as a crash or an OOM kill: no drain, no goodbye.
    pub fn kill(mut self) {
        self.stop();
    }

    /// SIGTERM, as Heroku sends before a restart: the bot drains and exits. Returns
    /// once it has exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {} failed", self.pid());
        self.child.wait().expect("wait for the bot to exit")
    }

    /// How many JSON log lines satisfy `wanted`.
    pub fn count_logged(&self, wanted: impl Fn(&serde_json::Value) -> bool) -> usize {
        let lines = self.lines.lock().expect("log lines lock");
        lines
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| wanted(line))
            .count()
    }

    /// Every line it wrote so far, stdout and stderr.
    pub fn log_lines(&self) -> Vec<String> {
        self.lines.lock().expect("log lines lock").clone()
    }

    fn logged(&self, wanted: impl Fn(&serde_json::Value) -> bool) -> bool {
        self.count_logged(wanted) > 0
    }

    fn tail(&self, count: usize) -> String {
        let lines = self.lines.lock().expect("log lines lock");
        lines[lines.len().saturating_sub(count)..].join("\n")
    }

    fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // `Child::kill` is SIGKILL on Unix.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let running = self.child.try_wait().ok().flatten().is_none();
        self.stop();
        if running && std::thread::panicking() {
            eprintln!(
                "--- last log lines of bot {} (pid {}):\n{}",
                self.name,
                self.pid(),
                self.tail(TAIL_ON_FAILURE)
            );
        }
    }
}

/// Keeps every line `stream` writes, on a thread of its own so the pipe never fills.
fn collect(stream: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            lines.lock().expect("log lines lock").push(line);
        }
    });
}
