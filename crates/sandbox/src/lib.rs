//! The sandbox: the real bot wired to the fakes, with its people linked and pipelines
//! connected, and a Slack-like page to use it from. It is what `cargo run -- sandbox`
//! starts, and what the end-to-end tests and benchmarks drive. Nothing here ships in the
//! bot's own binary.

pub mod bot;
pub mod budgets;
pub mod cli;
pub mod launch;
pub mod page;
pub mod process;
pub mod slash;

use chatops::config::{Config, Endpoints, LogFormat, OAuthApp};
use chatops_fakes::{Fakes, SANDBOX_TEAM};

/// The signing secret of the local sandbox. It protects nothing: the sandbox only
/// listens on loopback and talks to fakes.
pub const SANDBOX_SIGNING_SECRET: &str = "sandbox-signing-secret";

/// The bot's configuration wired to `fakes`: their URLs, OAuth clients registered with
/// each (redirecting to `base_url`), the fake Slack's events sent to `base_url`, and
/// the sandbox team's bot token.
pub fn bot_config(fakes: &Fakes, port: u16, base_url: &str, database_url: &str) -> Config {
    let heroku_oauth = OAuthApp {
        client_id: "sandbox-heroku-client".into(),
        client_secret: "sandbox-heroku-secret".into(),
    };
    fakes.heroku.register_oauth_client(
        &heroku_oauth.client_id,
        "sandbox-heroku-secret",
        &format!("{base_url}/auth/heroku/callback"),
    );
    let slack_app = fakes.slack.app();
    fakes
        .slack
        .set_events_endpoint(&format!("{base_url}/slack/events"), SANDBOX_SIGNING_SECRET);
    Config {
        port,
        base_url: base_url.into(),
        database_url: database_url.into(),
        slack_signing_secret: SANDBOX_SIGNING_SECRET.into(),
        slack_bot_token: Some(fakes.slack.token_for_team(SANDBOX_TEAM).into()),
        slack_app: Some(OAuthApp {
            client_id: slack_app.client_id,
            client_secret: slack_app.client_secret.into(),
        }),
        heroku_oauth,
        github_oauth: OAuthApp {
            client_id: chatops_fakes::github::OAUTH_CLIENT_ID.into(),
            client_secret: chatops_fakes::github::OAUTH_CLIENT_SECRET.into(),
        },
        // 32 bytes in hex, as production needs; public, as everything in the sandbox.
        encryption_key: "5a4e44424f582d4e4f542d412d5345435245542d414e59574845524521212121".into(),
        encryption_key_previous: None,
        endpoints: Endpoints {
            heroku_api: fakes.heroku_url.clone(),
            heroku_oauth: fakes.heroku_url.clone(),
            github_api: fakes.github_url.clone(),
            github_oauth: fakes.github_url.clone(),
            slack: fakes.slack_url.clone(),
        },
        // The fakes move in milliseconds to seconds: check often.
        poll_interval: std::time::Duration::from_millis(50),
        deploy_lease: chatops::config::DEFAULT_DEPLOY_LEASE,
        deploy_queue_ttl: chatops::config::DEFAULT_DEPLOY_QUEUE_TTL,
        log_format: LogFormat::Text,
        production_confirm: true,
        metrics_token: None,
    }
}
