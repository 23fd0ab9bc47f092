//! The `chatops` binary as an operator runs it: configuration errors, migrate, serve,
//! and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chatops() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatops"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// The binary with every required variable set to something valid.
fn configured() -> Command {
    let mut command = chatops();
    command.envs([
        ("SLACK_SIGNING_SECRET", "x"),
        ("SLACK_BOT_TOKEN", "xoxb-test"),
        ("HEROKU_OAUTH_ID", "h"),
        ("HEROKU_OAUTH_SECRET", "hs"),
        ("GITHUB_CLIENT_ID", "g"),
        ("GITHUB_CLIENT_SECRET", "gs"),
        (
            "ENCRYPTION_KEY",
            "8f3c1e0a9b7d5c4e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e",
        ),
    ]);
    command
}

#[test]
fn serve_names_every_missing_or_bad_variable_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let output = configured()
        .current_dir(dir.path())
        .args(["serve"])
        .env("PORT", "eighty")
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("GITHUB_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "chatops: invalid configuration:\n\
         PORT must be a port number from 0 to 65535 (got \"eighty\"), e.g. PORT=5000\n\
         SLACK_SIGNING_SECRET is required: find it under Basic Information > App Credentials \
         in your Slack app\n\
         GITHUB_CLIENT_SECRET is required: register an OAuth App at github.com/settings/developers\n"
    );
    assert!(
        !dir.path().join("chatops.db").exists(),
        "nothing is written on a bad config"
    );
}

#[test]
fn a_passphrase_as_encryption_key_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let output = configured()
        .current_dir(dir.path())
        .arg("migrate")
        .env("ENCRYPTION_KEY", "my-32-character-long-passphrase!")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "chatops: invalid configuration:\n\
         ENCRYPTION_KEY must be 32 random bytes as 64 hex characters or base64, \
         e.g. from `openssl rand -hex 32` (got 32 characters that are neither hex nor base64: \
         a passphrase is not a key)\n"
    );
    assert!(!dir.path().join("chatops.db").exists());
}

#[test]
fn migrate_creates_the_default_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let status = configured()
        .current_dir(dir.path())
        .arg("migrate")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dir.path().join("chatops.db").exists());
}

#[test]
fn serve_answers_health_checks_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = configured()
        .current_dir(dir.path())
        .arg("serve")
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let json: serde_json::Value = serde_json::from_str(&line).ok()?;
            (json["message"] == "listening").then(|| json["address"].as_str().unwrap().to_owned())
        })
        .expect("a 'listening' log line with the address");
    let port = address.rsplit(':').next().unwrap();
    let health = get_text(&format!("http://127.0.0.1:{port}/healthz"));
    assert_eq!(health, "ok");

    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|line| line.contains("\"stopped\"")),
        "{rest:?}"
    );
}

/// A GET on a throw-away runtime, so the test itself can stay synchronous.
fn get_text(url: &str) -> String {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}
