//! Every environment variable the bot reads, parsed once at start (12-factor).
//!
//! Nothing else in the crate calls `std::env::var`: handlers and workers receive a
//! [`Config`]. Secrets are [`SecretString`] so they never reach a log line by accident.

use std::fmt;

use secrecy::SecretString;

/// The SQLite file used when `DATABASE_URL` is unset, so `cargo run` needs no setup.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://chatops.db?mode=rwc";

/// The port Heroku's router would give us when `PORT` is unset.
pub const DEFAULT_PORT: u16 = 5000;

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Text,
    /// One JSON object per line, for log drains.
    Json,
}

/// The validated configuration of one `chatops serve` process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`: where the HTTP server listens.
    pub port: u16,
    /// `DATABASE_URL`: `sqlite:` or `postgres://`; a local SQLite file when unset.
    pub database_url: String,
    /// `SLACK_SIGNING_SECRET`: verifies that requests come from Slack.
    pub slack_signing_secret: SecretString,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
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

impl Config {
    /// Reads the process environment (after `.env`, which `main` loads in development).
    pub fn from_env() -> Result<Config, ConfigErrors> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let value = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let port = match value("PORT") {
            None => DEFAULT_PORT,
            Some(raw) => raw.trim().parse().unwrap_or_else(|_| {
                errors.push(format!(
                    "PORT must be a port number from 0 to 65535 (got {raw:?}), e.g. PORT=5000"
                ));
                DEFAULT_PORT
            }),
        };
        let database_url = value("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !is_supported_database_url(&database_url) {
            errors.push(
                "DATABASE_URL must start with sqlite: or postgres:// (e.g. postgres://user:pass@host/db); \
                 leave it unset to use the local file chatops.db"
                    .into(),
            );
        }
        let slack_signing_secret = value("SLACK_SIGNING_SECRET").unwrap_or_else(|| {
            errors.push(
                "SLACK_SIGNING_SECRET is required: find it under Basic Information > App Credentials \
                 in your Slack app"
                    .into(),
            );
            String::new()
        });
        let log_format = match value("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                errors.push(format!("LOG_FORMAT must be text or json (got {other:?})"));
                LogFormat::Text
            }
        };

        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Config {
            port,
            database_url,
            slack_signing_secret: slack_signing_secret.into(),
            log_format,
        })
    }
}

fn is_supported_database_url(url: &str) -> bool {
    ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_need_only_the_signing_secret() {
        let config = config(&[("SLACK_SIGNING_SECRET", "s3cret")]).unwrap();
        assert_eq!(config.port, 5000);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.slack_signing_secret.expose_secret(), "s3cret");
    }

    #[test]
    fn every_problem_is_reported_on_its_own_line() {
        let errors = config(&[
            ("PORT", "http"),
            ("DATABASE_URL", "mysql://x"),
            ("LOG_FORMAT", "xml"),
        ])
        .unwrap_err();
        assert_eq!(
            errors.to_string(),
            "PORT must be a port number from 0 to 65535 (got \"http\"), e.g. PORT=5000\n\
             DATABASE_URL must start with sqlite: or postgres:// (e.g. postgres://user:pass@host/db); \
             leave it unset to use the local file chatops.db\n\
             SLACK_SIGNING_SECRET is required: find it under Basic Information > App Credentials \
             in your Slack app\n\
             LOG_FORMAT must be text or json (got \"xml\")"
        );
    }

    #[test]
    fn the_secret_is_redacted_in_debug_output() {
        let config = config(&[("SLACK_SIGNING_SECRET", "s3cret")]).unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
