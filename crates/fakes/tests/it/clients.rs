//! Real third-party clients, written by others, driven against the fakes: PyGithub
//! against the fake GitHub, slack_sdk's `WebClient` against the fake Slack, heroku3
//! (and `requests` with Heroku's `Accept` header where heroku3 has no call) against the
//! fake Heroku. Each script in `tests/clients/` asserts what the client read and exits
//! non-zero on any error; a failure here shows the script's output.
//!
//! The clients live in a Python virtualenv under the target dir, made once from the
//! pinned `tests/clients/requirements.txt` (named by its hash, so a change of pins
//! makes a new one) under a file lock, so parallel tests and test binaries share it.
//! A fresh machine needs only `python3` and the package registry.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chatops_fakes::Fakes;
use chatops_fakes::github::CiState;
use chatops_fakes::heroku::Timings;
use sha2::{Digest, Sha256};

const CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

/// The virtualenv's directory, made on first use.
fn venv() -> &'static Path {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(prepare) {
        Ok(path) => path,
        Err(error) => panic!("cannot prepare the clients' virtualenv: {error}"),
    }
}

fn prepare() -> Result<PathBuf, String> {
    let requirements = Path::new(CLIENTS).join("requirements.txt");
    let pins = std::fs::read(&requirements).map_err(|e| e.to_string())?;
    let hash = hex::encode(Sha256::digest(&pins));
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = root.join(format!("clients-venv-{}", &hash[..12]));
    let lock = File::create(root.join("clients-venv.lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let ready = dir.join("ready");
    if ready.exists() {
        return Ok(dir);
    }
    // A half-made one (an interrupted run) is started over.
    let _ = std::fs::remove_dir_all(&dir);
    run(Command::new("python3").arg("-m").arg("venv").arg(&dir))?;
    run(Command::new(dir.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    std::fs::write(&ready, "").map_err(|e| e.to_string())?;
    Ok(dir)
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?}: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Runs `tests/clients/{script}` with `env`; panics with its output unless it passes.
async fn script(script: &str, env: &[(&str, &str)]) {
    let python = tokio::task::spawn_blocking(|| venv().join("bin/python"))
        .await
        .unwrap();
    let output = tokio::process::Command::new(python)
        .arg(Path::new(CLIENTS).join(script))
        .envs(env.iter().copied())
        .output()
        .await
        .expect("python runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    println!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}{stderr}",
        output.status
    );
}

#[tokio::test]
async fn pygithub_reads_and_writes_the_fake_github() {
    let fakes = Fakes::start().await.unwrap();
    // Past one page of 100 check runs.
    for n in 0..105 {
        let name = format!("job-{n}");
        let github = &fakes.github;
        github
            .set_check_run("acme/atlas", "main", &name, CiState::Green)
            .unwrap();
    }
    let (token, bob) = (
        fakes.github.token_for("alice"),
        fakes.github.token_for("bob"),
    );
    let env = [
        ("GITHUB_URL", fakes.github_url.as_str()),
        ("GITHUB_TOKEN", token.as_str()),
        ("GITHUB_BOB_TOKEN", bob.as_str()),
    ];
    script("github_client.py", &env).await;
}

#[tokio::test]
async fn slack_sdk_talks_to_the_fake_slack() {
    let fakes = Fakes::start().await.unwrap();
    let token = fakes.slack.token_for_team(chatops_fakes::SANDBOX_TEAM);
    let env = [
        ("SLACK_URL", fakes.slack_url.as_str()),
        ("SLACK_TOKEN", token.as_str()),
    ];
    script("slack_client.py", &env).await;
}

#[tokio::test]
async fn heroku3_and_requests_drive_the_fake_heroku() {
    let fakes = Fakes::start().await.unwrap();
    fakes.heroku.set_timings(Timings::FAST);
    let token = fakes.heroku.token_for("alice@example.com");
    // A source tarball the fake Heroku can download: the fake GitHub's link.
    let github = fakes.github.token_for("alice");
    let link = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/repos/heroku/paipu-repo/tarball/master",
            fakes.github_url
        ))
        .bearer_auth(github)
        .header("User-Agent", "chatops-clients")
        .send()
        .await
        .unwrap();
    let source = link.headers()["location"].to_str().unwrap().to_owned();
    let sha = fakes.github.head("heroku/paipu-repo", "master").unwrap();
    let env = [
        ("HEROKU_URL", fakes.heroku_url.as_str()),
        ("HEROKU_TOKEN", token.as_str()),
        ("SOURCE_URL", source.as_str()),
        ("SOURCE_SHA", sha.as_str()),
    ];
    script("heroku_client.py", &env).await;
}
