//! Stateful fakes of Heroku, GitHub and Slack that speak the real wire formats, for the
//! tests, the benchmarks and `chatops sandbox`. Nothing here is used when serving real
//! traffic.
//!
//! Each fake is an axum router over an in-memory world, served on its own loopback
//! port, with [`faults`] injectable per endpoint. The fakes enforce what the real
//! services enforce (tokens, access, pacing) and fail the way they fail; they never
//! answer what a caller hopes to hear.

pub mod bot;
pub mod faults;
pub mod github;
pub mod heroku;
pub mod launch;
pub mod page;
pub mod slack;
pub mod slash;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Failure, FaultRule, Faults};

use crate::config::{Config, Endpoints, LogFormat, OAuthApp};

/// The three fakes, each serving on its own loopback port.
pub struct Sandbox {
    pub heroku: heroku::FakeHeroku,
    pub heroku_url: String,
    pub github: github::FakeGitHub,
    pub github_url: String,
    pub slack: slack::FakeSlack,
    pub slack_url: String,
    servers: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts every fake on a free loopback port, with the seeded world.
    pub async fn start() -> anyhow::Result<Sandbox> {
        let (heroku_listener, heroku_url) = bind().await?;
        let (github_listener, github_url) = bind().await?;
        let (slack_listener, slack_url) = bind().await?;
        let heroku = heroku::FakeHeroku::seeded(&heroku_url);
        let github = github::FakeGitHub::seeded(&github_url);
        let slack = slack::FakeSlack::new(&slack_url);
        let servers = vec![
            serve(heroku_listener, heroku.router()),
            serve(github_listener, github.router()),
            serve(slack_listener, slack.router()),
        ];
        Ok(Sandbox {
            heroku,
            heroku_url,
            github,
            github_url,
            slack,
            slack_url,
            servers,
        })
    }
}

/// The team every sandbox command comes from.
pub const SANDBOX_TEAM: &str = "T0SANDBOX";

/// The signing secret of the local sandbox. It protects nothing: the sandbox only
/// listens on loopback and talks to fakes.
pub const SANDBOX_SIGNING_SECRET: &str = "sandbox-signing-secret";

impl Sandbox {
    /// The bot's configuration wired to these fakes: their URLs, OAuth clients
    /// registered with each (redirecting to `base_url`), and the sandbox team's bot
    /// token.
    pub fn bot_config(&self, port: u16, base_url: &str, database_url: &str) -> Config {
        let heroku_oauth = OAuthApp {
            client_id: "sandbox-heroku-client".into(),
            client_secret: "sandbox-heroku-secret".into(),
        };
        self.heroku.register_oauth_client(
            &heroku_oauth.client_id,
            "sandbox-heroku-secret",
            &format!("{base_url}/auth/heroku/callback"),
        );
        let slack_app = self.slack.app();
        Config {
            port,
            base_url: base_url.into(),
            database_url: database_url.into(),
            slack_signing_secret: SANDBOX_SIGNING_SECRET.into(),
            slack_bot_token: Some(self.slack.token_for_team(SANDBOX_TEAM).into()),
            slack_app: Some(OAuthApp {
                client_id: slack_app.client_id,
                client_secret: slack_app.client_secret.into(),
            }),
            heroku_oauth,
            github_oauth: OAuthApp {
                client_id: github::OAUTH_CLIENT_ID.into(),
                client_secret: github::OAUTH_CLIENT_SECRET.into(),
            },
            encryption_key: "sandbox-encryption-key-not-a-secret-anywhere".into(),
            encryption_key_previous: None,
            endpoints: Endpoints {
                heroku_api: self.heroku_url.clone(),
                heroku_oauth: self.heroku_url.clone(),
                github_api: self.github_url.clone(),
                github_oauth: self.github_url.clone(),
                slack: self.slack_url.clone(),
            },
            // The fakes move in milliseconds to seconds: check often.
            poll_interval: std::time::Duration::from_millis(50),
            deploy_lease: crate::config::DEFAULT_DEPLOY_LEASE,
            log_format: LogFormat::Text,
            production_confirm: true,
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

async fn bind() -> anyhow::Result<(TcpListener, String)> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind a loopback port for a sandbox fake")?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((listener, url))
}

fn serve(listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "a sandbox fake stopped");
        }
    })
}
