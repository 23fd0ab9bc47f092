//! The running bot's shared parts: configuration, store, clock, vault, the clients of
//! every outside service, the Slack pacer, metrics and the loops' wake-ups. Built once
//! by the wiring (`cli`) and handed to every feature as a [`BotState`]; it owns no
//! behaviour of its own.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::github::{GitHubClient, GitHubOAuth};
use crate::heroku::{HerokuClient, HerokuOAuth};
use crate::lease::Lease;
use crate::metrics::{Metrics, Service};
use crate::outbound::{self, RetryPolicy};
use crate::slack::api::SlackApi;
use crate::slack::openid::SlackSignIn;
use crate::slack::pacer::Pacer;
use crate::store::Store;
use crate::vault::Vault;

/// Everything a feature needs, shared by every request and background loop.
pub struct Bot {
    pub config: Config,
    pub store: Store,
    pub clock: Clock,
    /// Seals and opens the tokens kept in the store.
    pub vault: Vault,
    pub heroku: HerokuClient,
    pub heroku_oauth: HerokuOAuth,
    pub github: GitHubClient,
    pub github_oauth: GitHubOAuth,
    pub slack: SlackApi,
    /// Sign in with Slack, which proves who links accounts; needs the Slack app's
    /// client id and secret (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`).
    pub slack_sign_in: Option<SlackSignIn>,
    /// How patient outbound calls are (also paces outbox retries).
    pub patience: Patience,
    /// Wakes the background loops when there is work, instead of waiting a tick.
    pub wakeups: Wakeups,
    /// Keeps this process's posts within Slack's per-channel pace.
    pub pacer: Pacer,
    /// What `GET /metrics` shows; this app's own, so apps in one process count apart.
    pub metrics: Metrics,
}

/// Wake-up calls for the background loops.
#[derive(Debug, Default)]
pub struct Wakeups {
    /// A deploy became due (a new one, a webhook).
    pub deploys: Notify,
    /// Someone opened the App Home tab: their view is owed.
    pub homes: Notify,
}

/// How patient outbound calls are: production uses the defaults, tests shorter ones.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// Each request gives up after this long.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for Patience {
    fn default() -> Patience {
        Patience {
            timeout: outbound::REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

impl Bot {
    /// Builds the clients of every outside service from `config`.
    pub fn new(
        config: Config,
        store: Store,
        clock: Clock,
        patience: Patience,
    ) -> anyhow::Result<Bot> {
        let http = outbound::http_client(patience.timeout);
        let metrics = Metrics::new();
        let endpoints = &config.endpoints;
        let heroku_oauth = HerokuOAuth::new(
            http.clone(),
            &endpoints.heroku_oauth,
            &config.heroku_oauth.client_id,
            config.heroku_oauth.client_secret.clone(),
        )
        .with_retry(patience.retry)
        .with_calls(metrics.calls(Service::Heroku));
        let github_oauth = GitHubOAuth::new(
            http.clone(),
            &endpoints.github_oauth,
            &endpoints.github_api,
            &config.github_oauth.client_id,
            config.github_oauth.client_secret.clone(),
        )
        .with_calls(metrics.calls(Service::GitHub));
        let slack = SlackApi::new(&endpoints.slack, patience.timeout, patience.retry)
            .context("cannot set up the Slack client (are CA certificates installed?)")?
            .with_calls(metrics.calls(Service::Slack));
        let slack_sign_in = config.slack_app.as_ref().map(|slack_app| {
            SlackSignIn::new(
                http.clone(),
                &endpoints.slack,
                &slack_app.client_id,
                slack_app.client_secret.clone(),
            )
        });
        let pacer = Pacer::for_store(&store);
        Ok(Bot {
            vault: Vault::new(
                &config.encryption_key,
                config.encryption_key_previous.as_ref(),
            ),
            heroku: HerokuClient::new(http.clone(), &endpoints.heroku_api, patience.retry)
                .with_calls(metrics.calls(Service::Heroku)),
            github: GitHubClient::new(http, &endpoints.github_api, patience.retry)
                .with_calls(metrics.calls(Service::GitHub)),
            heroku_oauth,
            github_oauth,
            slack,
            slack_sign_in,
            config,
            store,
            clock,
            patience,
            wakeups: Wakeups::default(),
            pacer,
            metrics,
        })
    }
}

impl Bot {
    /// A lease of the configured length on this bot's clock: what the deploy worker
    /// and the outbox hold a row with while they work on it.
    pub fn lease(&self) -> Lease {
        Lease::new(self.clock.clone(), self.config.deploy_lease)
    }
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The cheap-to-clone handle axum passes to handlers.
#[derive(Debug, Clone)]
pub struct BotState(Arc<Bot>);

impl BotState {
    pub fn new(app: Bot) -> BotState {
        BotState(Arc::new(app))
    }
}

impl Deref for BotState {
    type Target = Bot;
    fn deref(&self) -> &Bot {
        &self.0
    }
}
