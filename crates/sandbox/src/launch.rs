//! `chatops-sandbox sandbox` wired up, for the command and for the tests that start it
//! in-process: the fakes with their seeded world, the real bot on loopback wired to
//! them, its people linked and pipelines connected, and the Slack-like page.
//!
//! The page has its own listener rather than routes in the bot: the bot then serves
//! exactly what it serves in production (the page reaches it over HTTP, signed, as
//! Slack does), and the page's long-lived event stream is not cut by the bot's
//! per-request timeout.

use std::future::Future;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use chatops::app;
use chatops::bot::BotState;
use chatops::config::DEFAULT_PORT;
use chatops_fakes::{Fakes, SANDBOX_TEAM};

use crate::page::{self, PEOPLE, Page};
use crate::slash::SlashSender;
use crate::{SANDBOX_SIGNING_SECRET, bot, bot_config};

/// Where the page listens unless `SANDBOX_PAGE_PORT` says otherwise.
pub const DEFAULT_PAGE_PORT: u16 = DEFAULT_PORT + 1;

/// The loopback ports of the bot and the page; 0 picks a free one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub bot: u16,
    pub page: u16,
}

impl Ports {
    /// `PORT` (default 5000) for the bot, so `chatops-sandbox send` finds it, and
    /// `SANDBOX_PAGE_PORT` (default 5001) for the page.
    pub fn from_env() -> anyhow::Result<Ports> {
        Ok(Ports {
            bot: port_from_env("PORT", DEFAULT_PORT)?,
            page: port_from_env("SANDBOX_PAGE_PORT", DEFAULT_PAGE_PORT)?,
        })
    }
}

fn port_from_env(name: &str, default: u16) -> anyhow::Result<u16> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(raw) => raw.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "{name} must be a port number from 0 to 65535 (got {raw:?}), e.g. {name}={default}"
            )
        }),
    }
}

/// A running sandbox.
pub struct Running {
    /// The fakes, for tests to play the world directly.
    pub fakes: Fakes,
    /// The bot's state (store, clients), as its handlers see it.
    pub bot: BotState,
    /// The one URL to open.
    pub page_url: String,
    pub bot_url: String,
    served: JoinHandle<anyhow::Result<()>>,
    page: JoinHandle<()>,
}

impl Running {
    /// Starts everything on `ports`, the bot storing in `database_url`, until
    /// `shutdown` completes (then see [`Running::wait`]).
    pub async fn start(
        ports: Ports,
        database_url: &str,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<Running> {
        let fakes = Fakes::start().await?;
        let (bot_listener, bot_url) = bind(ports.bot).await?;
        let config = bot_config(
            &fakes,
            bot_listener.local_addr()?.port(),
            &bot_url,
            database_url,
        );
        let bot = chatops::cli::open_app(config).await?;
        seed_people(&bot, &fakes).await?;
        let (page_listener, page_url) = bind(ports.page).await?;
        let sender = SlashSender::new(&format!("{bot_url}/slack/commands"), SANDBOX_SIGNING_SECRET);
        let page = Page::new(&fakes, sender, &format!("{bot_url}/slack/interactions"));
        Ok(Running {
            served: tokio::spawn(app::serve(bot_listener, bot.clone(), shutdown)),
            page: tokio::spawn(page::serve(page_listener, page)),
            fakes,
            bot,
            page_url: format!("{page_url}/"),
            bot_url,
        })
    }

    /// Waits for the bot to stop (after `shutdown`), then stops the page.
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.served.await.context("the bot stopped");
        self.page.abort();
        served?
    }
}

/// Links everyone [`PEOPLE`] says is linked and connects the seeded pipelines, so the
/// first deploy needs no setup.
async fn seed_people(bot: &BotState, fakes: &Fakes) -> anyhow::Result<()> {
    for person in PEOPLE {
        if let Some((email, login)) = person.linked_as {
            bot::link_user(bot, fakes, SANDBOX_TEAM, person.id, email, login).await?;
        }
    }
    bot::connect_pipelines(bot, SANDBOX_TEAM, PEOPLE[0].id).await
}

async fn bind(port: u16) -> anyhow::Result<(TcpListener, String)> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((listener, url))
}
