//! Every environment variable the bot reads, parsed once at start (12-factor).
//!
//! Nothing else in the crate calls `std::env::var`: handlers and workers receive a
//! [`Config`]. Secrets are [`SecretString`] so they never reach a log line by accident.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

/// The SQLite file used when `DATABASE_URL` is unset, so `cargo run` needs no setup.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://chatops.db?mode=rwc";

/// The port Heroku's router would give us when `PORT` is unset.
pub const DEFAULT_PORT: u16 = 5000;

/// How often a running deploy is checked when no webhook says it moved.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// How long a crashed process's deploys wait before another process takes them over.
pub const DEFAULT_DEPLOY_LEASE: Duration = Duration::from_secs(15);
/// How long a queued deploy waits for its turn before it is dropped.
pub const DEFAULT_DEPLOY_QUEUE_TTL: Duration = Duration::from_secs(3600);

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Text,
    /// One JSON object per line, for log drains.
    Json,
}

/// An OAuth client registered with a provider (Heroku, GitHub, Slack).
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Where the outside services are. The defaults are the real ones; tests and the
/// sandbox point them at the fakes, GitHub Enterprise users at their own host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `HEROKU_API_URL`
    pub heroku_api: String,
    /// `HEROKU_OAUTH_URL`
    pub heroku_oauth: String,
    /// `GITHUB_API_URL`
    pub github_api: String,
    /// `GITHUB_OAUTH_URL`
    pub github_oauth: String,
    /// `SLACK_URL`: the Web API is under `{url}/api`.
    pub slack: String,
}

impl Default for Endpoints {
    fn default() -> Endpoints {
        Endpoints {
            heroku_api: "https://api.heroku.com".into(),
            heroku_oauth: "https://id.heroku.com".into(),
            github_api: crate::github::API_URL.into(),
            github_oauth: crate::github::OAUTH_URL.into(),
            slack: crate::slack::api::SLACK_URL.into(),
        }
    }
}

/// The validated configuration of one `chatops serve` process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`: where the HTTP server listens.
    pub port: u16,
    /// `BASE_URL`: the bot's public URL, for OAuth redirects and links.
    pub base_url: String,
    /// `DATABASE_URL`: `sqlite:` or `postgres://`; a local SQLite file when unset.
    pub database_url: String,
    /// `SLACK_SIGNING_SECRET`: verifies that requests come from Slack.
    pub slack_signing_secret: SecretString,
    /// `SLACK_BOT_TOKEN`: the bot token of a single-workspace install.
    pub slack_bot_token: Option<SecretString>,
    /// `SLACK_CLIENT_ID` / `SLACK_CLIENT_SECRET`: the OAuth v2 install flow for many
    /// workspaces.
    pub slack_app: Option<OAuthApp>,
    /// `HEROKU_OAUTH_ID` / `HEROKU_OAUTH_SECRET`
    pub heroku_oauth: OAuthApp,
    /// `GITHUB_CLIENT_ID` / `GITHUB_CLIENT_SECRET`
    pub github_oauth: OAuthApp,
    /// `ENCRYPTION_KEY`: seals tokens at rest.
    pub encryption_key: SecretString,
    /// `ENCRYPTION_KEY_PREVIOUS`: still opens tokens sealed before a key rotation.
    pub encryption_key_previous: Option<SecretString>,
    pub endpoints: Endpoints,
    /// `POLL_INTERVAL_MS`: how often a running deploy is checked on Heroku (webhooks,
    /// when they arrive, wake it sooner).
    pub poll_interval: Duration,
    /// `DEPLOY_LEASE_MS`: how long a deploy (or a Slack message being sent) stays
    /// claimed by a process that stopped renewing it (crashed) before another process
    /// takes it over.
    pub deploy_lease: Duration,
    /// `DEPLOY_QUEUE_TTL_MS`: how long a queued deploy waits for its turn before it is
    /// taken out of the line, its requester told (default one hour).
    pub deploy_queue_ttl: Duration,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `PRODUCTION_CONFIRM`: deploys, promotions and rollbacks in production first ask
    /// the requester to confirm (default `true`; `false` turns it off).
    pub production_confirm: bool,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs `Authorization: Bearer <it>`.
    pub metrics_token: Option<SecretString>,
}

/// Every problem found in the environment, one line each, so an operator fixes them
/// all in one go instead of one per restart.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads variables through a lookup function and collects every problem.
struct Env<F> {
    lookup: F,
    errors: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The trimmed value, `None` when unset or blank.
    fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn required(&mut self, name: &str, hint: &str) -> String {
        self.optional(name).unwrap_or_else(|| {
            self.errors.push(format!("{name} is required: {hint}"));
            String::new()
        })
    }

    fn secret(&mut self, name: &str, hint: &str) -> SecretString {
        self.required(name, hint).into()
    }

    /// Both variables of a pair, or neither; one alone is a mistake worth naming.
    fn pair(&mut self, id: &str, secret: &str) -> Option<OAuthApp> {
        match (self.optional(id), self.optional(secret)) {
            (Some(client_id), Some(client_secret)) => Some(OAuthApp {
                client_id,
                client_secret: client_secret.into(),
            }),
            (None, None) => None,
            (Some(_), None) => self.missing_half(secret, id),
            (None, Some(_)) => self.missing_half(id, secret),
        }
    }

    fn missing_half(&mut self, missing: &str, given: &str) -> Option<OAuthApp> {
        self.errors.push(format!(
            "{missing} is required when {given} is set: they come as a pair"
        ));
        None
    }

    fn url(&mut self, name: &str, default: &str) -> String {
        let url = self.optional(name).unwrap_or_else(|| default.into());
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            self.errors.push(format!(
                "{name} must be an http(s) URL (got {url:?}), e.g. https://example.com"
            ));
        }
        url.trim_end_matches('/').to_owned()
    }
}

impl Config {
    /// Reads the process environment (after `.env`, which `main` loads in development).
    pub fn from_env() -> Result<Config, ConfigErrors> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut env = Env {
            lookup,
            errors: Vec::new(),
        };
        let port = env.port();
        let base_url = env.url("BASE_URL", &format!("http://127.0.0.1:{port}"));
        let database_url = env.database_url();
        let slack_signing_secret = env.secret(
            "SLACK_SIGNING_SECRET",
            "find it under Basic Information > App Credentials in your Slack app",
        );
        let slack_bot_token = env.optional("SLACK_BOT_TOKEN").map(SecretString::from);
        let slack_app = env.pair("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET");
        if slack_bot_token.is_none() && slack_app.is_none() {
            env.errors.push(
                "SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET \
                 (installable in many) is required: find them in your Slack app"
                    .into(),
            );
        }
        let heroku_oauth = env.oauth_app(
            "HEROKU_OAUTH_ID",
            "HEROKU_OAUTH_SECRET",
            "register a client at dashboard.heroku.com/account/applications",
        );
        let github_oauth = env.oauth_app(
            "GITHUB_CLIENT_ID",
            "GITHUB_CLIENT_SECRET",
            "register an OAuth App at github.com/settings/developers",
        );
        let encryption_key = env.encryption_key("ENCRYPTION_KEY");
        let encryption_key_previous = env
            .optional("ENCRYPTION_KEY_PREVIOUS")
            .is_some()
            .then(|| env.encryption_key("ENCRYPTION_KEY_PREVIOUS"));
        let defaults = Endpoints::default();
        let endpoints = Endpoints {
            heroku_api: env.url("HEROKU_API_URL", &defaults.heroku_api),
            heroku_oauth: env.url("HEROKU_OAUTH_URL", &defaults.heroku_oauth),
            github_api: env.url("GITHUB_API_URL", &defaults.github_api),
            github_oauth: env.url("GITHUB_OAUTH_URL", &defaults.github_oauth),
            slack: env.url("SLACK_URL", &defaults.slack),
        };
        let poll_interval = env.millis("POLL_INTERVAL_MS", DEFAULT_POLL_INTERVAL, 10);
        let deploy_lease = env.millis("DEPLOY_LEASE_MS", DEFAULT_DEPLOY_LEASE, 300);
        let deploy_queue_ttl = env.millis("DEPLOY_QUEUE_TTL_MS", DEFAULT_DEPLOY_QUEUE_TTL, 1000);
        let log_format = env.log_format();
        let production_confirm = env.flag("PRODUCTION_CONFIRM", true);
        let metrics_token = env.optional("METRICS_TOKEN").map(SecretString::from);
        if !env.errors.is_empty() {
            return Err(ConfigErrors(env.errors));
        }
        Ok(Config {
            port,
            base_url,
            database_url,
            slack_signing_secret,
            slack_bot_token,
            slack_app,
            heroku_oauth,
            github_oauth,
            encryption_key,
            encryption_key_previous,
            endpoints,
            poll_interval,
            deploy_lease,
            deploy_queue_ttl,
            log_format,
            production_confirm,
            metrics_token,
        })
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn port(&mut self) -> u16 {
        match self.optional("PORT") {
            None => DEFAULT_PORT,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.errors.push(format!(
                    "PORT must be a port number from 0 to 65535 (got {raw:?}), e.g. PORT=5000"
                ));
                DEFAULT_PORT
            }),
        }
    }

    fn database_url(&mut self) -> String {
        let url = self
            .optional("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let supported = ["sqlite:", "postgres://", "postgresql://"];
        if !supported.iter().any(|scheme| url.starts_with(scheme)) {
            self.errors.push(
                "DATABASE_URL must start with sqlite: or postgres:// (e.g. postgres://user:pass@host/db); \
                 leave it unset to use the local file chatops.db"
                    .into(),
            );
        }
        url
    }

    fn oauth_app(&mut self, id: &str, secret: &str, hint: &str) -> OAuthApp {
        OAuthApp {
            client_id: self.required(id, hint),
            client_secret: self.secret(secret, hint),
        }
    }

    fn encryption_key(&mut self, name: &str) -> SecretString {
        const EXPECTED: &str = "32 random bytes as 64 hex characters or base64, \
                                e.g. from `openssl rand -hex 32`";
        let key = self.required(name, EXPECTED);
        if let (false, Err(wrong)) = (key.is_empty(), crate::vault::check_key(&key)) {
            self.errors
                .push(format!("{name} must be {EXPECTED} ({wrong})"));
        }
        key.into()
    }

    /// A duration in milliseconds, at least `min`.
    fn millis(&mut self, name: &str, default: Duration, min: u64) -> Duration {
        let Some(raw) = self.optional(name) else {
            return default;
        };
        match raw.parse::<u64>() {
            Ok(ms) if ms >= min => Duration::from_millis(ms),
            _ => {
                self.errors.push(format!(
                    "{name} must be a number of milliseconds, at least {min} (got {raw:?}), e.g. {}",
                    default.as_millis()
                ));
                default
            }
        }
    }

    /// `true` or `false`, `default` when unset.
    fn flag(&mut self, name: &str, default: bool) -> bool {
        match self
            .optional(name)
            .map(|raw| raw.to_ascii_lowercase())
            .as_deref()
        {
            None => default,
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                self.errors.push(format!(
                    "{name} must be true or false (got {other:?}), e.g. {name}=false"
                ));
                default
            }
        }
    }

    fn log_format(&mut self) -> LogFormat {
        match self.optional("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                self.errors
                    .push(format!("LOG_FORMAT must be text or json (got {other:?})"));
                LogFormat::Text
            }
        }
    }
}

#[cfg(test)]
mod tests;
