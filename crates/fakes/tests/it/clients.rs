//! Real third-party clients, written by others, driven against the fakes: PyGithub
//! against the fake GitHub, slack_sdk's `WebClient` against the fake Slack, heroku3
//! (and `requests` with Heroku's `Accept` header where heroku3 has no call) against the
//! fake Heroku. Each script in `tests/clients/` asserts what the client read and exits
//! non-zero on any error; a failure here shows the script's output.
//!
//! The clients come from a virtualenv made once under the target dir (see
//! [`chatops_fakes::clients`]).

use std::path::Path;

use chatops_fakes::Fakes;
use chatops_fakes::github::CiState;
use chatops_fakes::heroku::Timings;

/// Runs `tests/clients/{script}` with `env`; panics with its output unless it passes.
async fn script(script: &str, env: &[(&str, &str)]) {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    match chatops_fakes::clients::run_script(root, script, env).await {
        Ok(output) => println!("{output}"),
        Err(error) => panic!("{error:#}"),
    }
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
