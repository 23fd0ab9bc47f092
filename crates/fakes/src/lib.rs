//! Stateful fakes of Heroku, GitHub and Slack that speak the real wire formats, for the
//! tests, the benchmarks and the sandbox. This crate knows nothing of the bot (it does
//! not depend on it), so the fakes can only be talked to over HTTP, as the real
//! services are, and the bot's binary never contains them.
//!
//! Each fake is an axum router over an in-memory world, served on its own loopback
//! port, with [`faults`] injectable per endpoint. The fakes enforce what the real
//! services enforce (tokens, access, pacing) and fail the way they fail; they never
//! answer what a caller hopes to hear.

pub mod clients;
pub mod faults;
pub mod github;
pub mod heroku;
pub mod slack;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Failure, FaultRule, Faults};

/// The three fakes, each serving on its own loopback port.
pub struct Fakes {
    pub heroku: heroku::FakeHeroku,
    pub heroku_url: String,
    pub github: github::FakeGitHub,
    pub github_url: String,
    pub slack: slack::FakeSlack,
    pub slack_url: String,
    servers: Vec<JoinHandle<()>>,
}

impl Fakes {
    /// Starts every fake on a free loopback port, with the seeded world.
    pub async fn start() -> anyhow::Result<Fakes> {
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
        Ok(Fakes {
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

/// The Slack team the seeded world is: every sandbox command comes from it.
pub const SANDBOX_TEAM: &str = "T0SANDBOX";

impl Drop for Fakes {
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
