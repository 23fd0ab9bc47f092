//! Reading the configuration: what each variable accepts and how it is refused.

use super::*;
use secrecy::ExposeSecret;

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const MINIMAL: &[(&str, &str)] = &[
    ("SLACK_SIGNING_SECRET", "s3cret"),
    ("SLACK_BOT_TOKEN", "xoxb-1"),
    ("HEROKU_OAUTH_ID", "h-id"),
    ("HEROKU_OAUTH_SECRET", "h-secret"),
    ("GITHUB_CLIENT_ID", "g-id"),
    ("GITHUB_CLIENT_SECRET", "g-secret"),
    ("ENCRYPTION_KEY", KEY),
];

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    MINIMAL.iter().chain(extra).copied().collect()
}

#[test]
fn defaults_fill_everything_optional() {
    let config = config(MINIMAL).unwrap();
    assert_eq!(config.port, 5000);
    assert_eq!(config.base_url, "http://127.0.0.1:5000");
    assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.endpoints, Endpoints::default());
    assert_eq!(config.slack_signing_secret.expose_secret(), "s3cret");
    assert!(config.slack_app.is_none());
    assert!(config.encryption_key_previous.is_none());
    assert!(config.production_confirm);
}

#[test]
fn production_confirmation_can_be_turned_off_and_a_typo_is_named() {
    let off = config(&with(&[("PRODUCTION_CONFIRM", "false")])).unwrap();
    assert!(!off.production_confirm);
    let typo = config(&with(&[("PRODUCTION_CONFIRM", "nope")])).unwrap_err();
    assert_eq!(
        typo.0,
        ["PRODUCTION_CONFIRM must be true or false (got \"nope\"), e.g. PRODUCTION_CONFIRM=false"]
    );
}

#[test]
fn every_problem_is_reported_on_its_own_line() {
    let errors = config(&[
        ("PORT", "http"),
        ("DATABASE_URL", "mysql://x"),
        ("LOG_FORMAT", "xml"),
        ("SLACK_CLIENT_ID", "only-half"),
        ("ENCRYPTION_KEY", "short"),
        ("GITHUB_API_URL", "api.github.com"),
    ])
    .unwrap_err();
    assert_eq!(
        errors.0,
        [
            "PORT must be a port number from 0 to 65535 (got \"http\"), e.g. PORT=5000",
            "DATABASE_URL must start with sqlite: or postgres:// (e.g. postgres://user:pass@host/db); \
             leave it unset to use the local file chatops.db",
            "SLACK_SIGNING_SECRET is required: find it under Basic Information > App Credentials in your Slack app",
            "SLACK_CLIENT_SECRET is required when SLACK_CLIENT_ID is set: they come as a pair",
            "SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET \
             (installable in many) is required: find them in your Slack app",
            "HEROKU_OAUTH_ID is required: register a client at dashboard.heroku.com/account/applications",
            "HEROKU_OAUTH_SECRET is required: register a client at dashboard.heroku.com/account/applications",
            "GITHUB_CLIENT_ID is required: register an OAuth App at github.com/settings/developers",
            "GITHUB_CLIENT_SECRET is required: register an OAuth App at github.com/settings/developers",
            "ENCRYPTION_KEY must be 32 random bytes as 64 hex characters or base64, \
             e.g. from `openssl rand -hex 32` (got 5 characters that are neither hex nor base64: \
             a passphrase is not a key)",
            "GITHUB_API_URL must be an http(s) URL (got \"api.github.com\"), e.g. https://example.com",
            "LOG_FORMAT must be text or json (got \"xml\")",
        ]
    );
}

#[test]
fn a_passphrase_is_not_a_key_now_or_before_a_rotation() {
    let errors = config(&with(&[
        ("ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"),
        (
            "ENCRYPTION_KEY_PREVIOUS",
            "my very long and secret passphrase",
        ),
    ]))
    .unwrap_err();
    let expected = "must be 32 random bytes as 64 hex characters or base64, \
                    e.g. from `openssl rand -hex 32`";
    assert_eq!(
        errors.0,
        [
            format!("ENCRYPTION_KEY {expected} (got 32 hex characters instead of 64)"),
            format!(
                "ENCRYPTION_KEY_PREVIOUS {expected} (got 34 characters that are neither hex \
                 nor base64: a passphrase is not a key)"
            ),
        ]
    );
    let base64 = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    let rotated = config(&with(&[("ENCRYPTION_KEY_PREVIOUS", base64)])).unwrap();
    assert!(rotated.encryption_key_previous.is_some());
}

#[test]
fn a_multi_workspace_install_needs_no_bot_token() {
    let vars: Vec<_> = with(&[("SLACK_CLIENT_ID", "c"), ("SLACK_CLIENT_SECRET", "s")])
        .into_iter()
        .filter(|(k, _)| *k != "SLACK_BOT_TOKEN")
        .collect();
    let config = config(&vars).unwrap();
    assert_eq!(config.slack_app.unwrap().client_id, "c");
    assert!(config.slack_bot_token.is_none());
}

#[test]
fn endpoints_can_be_pointed_elsewhere_without_trailing_slashes() {
    let config = config(&with(&[(
        "GITHUB_API_URL",
        "https://ghe.example.com/api/v3/",
    )]))
    .unwrap();
    assert_eq!(
        config.endpoints.github_api,
        "https://ghe.example.com/api/v3"
    );
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let config = config(MINIMAL).unwrap();
    let debug = format!("{config:?}");
    for (_, secret) in MINIMAL {
        if secret.contains("secret") || secret.starts_with("xoxb") || secret.starts_with("0123") {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
    }
}
