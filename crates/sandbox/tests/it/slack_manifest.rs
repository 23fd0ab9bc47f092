//! `slack-app-manifest.yml` against Slack's manifest format and the code: only known
//! fields, exactly the scopes the Slack methods the bot calls need, and URLs the
//! running bot serves.

use crate::common;

use std::collections::BTreeSet;

use common::TestApp;
use common::files::{
    PLACEHOLDER, REPO_ROOT, app_json, assert_keys_within, manifest, slash_commands, status, string,
};
use serde_json::Value;

/// The scopes each Slack Web API method the bot calls needs (Slack's method
/// reference): `conversations.*` read back the bot's own posts in public
/// (`channels:`) and private (`groups:`) channels. A method missing here fails the
/// test, so a new call cannot ship without its scope.
const METHOD_SCOPES: [(&str, &[&str]); 7] = [
    ("chat.postMessage", &["chat:write"]),
    ("chat.update", &["chat:write"]),
    ("chat.postEphemeral", &["chat:write"]),
    (
        "conversations.history",
        &["channels:history", "groups:history"],
    ),
    (
        "conversations.replies",
        &["channels:history", "groups:history"],
    ),
    ("oauth.v2.access", &[]),
    // The Home tab; Slack asks no scope for it (the OpenAPI document says `none`).
    ("views.publish", &[]),
];

/// The manifest's keys, per section, from Slack's app manifest reference (see
/// `shared/reference/slack.md` §4).
#[test]
fn the_manifest_uses_only_slack_manifest_fields() {
    let manifest = manifest();
    let sections = [
        "_metadata",
        "display_information",
        "features",
        "oauth_config",
        "settings",
    ];
    assert_keys_within(&manifest, &sections, "the manifest");
    assert_keys_within(
        &manifest["_metadata"],
        &["major_version", "minor_version"],
        "_metadata",
    );
    let display = [
        "name",
        "description",
        "long_description",
        "background_color",
    ];
    assert_keys_within(
        &manifest["display_information"],
        &display,
        "display_information",
    );
    let features = [
        "bot_user",
        "app_home",
        "slash_commands",
        "shortcuts",
        "unfurl_domains",
    ];
    assert_keys_within(&manifest["features"], &features, "features");
    let bot_user = ["display_name", "always_online"];
    assert_keys_within(&manifest["features"]["bot_user"], &bot_user, "bot_user");
    let app_home = [
        "home_tab_enabled",
        "messages_tab_enabled",
        "messages_tab_read_only_enabled",
    ];
    assert_keys_within(&manifest["features"]["app_home"], &app_home, "app_home");
    let events = ["request_url", "bot_events", "user_events"];
    assert_keys_within(
        &manifest["settings"]["event_subscriptions"],
        &events,
        "event_subscriptions",
    );
    let command = [
        "command",
        "description",
        "url",
        "usage_hint",
        "should_escape",
    ];
    for slash in slash_commands(&manifest) {
        assert_keys_within(slash, &command, "a slash command");
    }
    let oauth = ["scopes", "redirect_urls", "token_management_enabled"];
    assert_keys_within(&manifest["oauth_config"], &oauth, "oauth_config");
    let scopes = ["bot", "user", "bot_optional", "user_optional"];
    assert_keys_within(&manifest["oauth_config"]["scopes"], &scopes, "scopes");
    let settings = [
        "interactivity",
        "event_subscriptions",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
        "allowed_ip_address_ranges",
    ];
    assert_keys_within(&manifest["settings"], &settings, "settings");
    let interactivity = ["is_enabled", "request_url", "message_menu_options_url"];
    assert_keys_within(
        &manifest["settings"]["interactivity"],
        &interactivity,
        "interactivity",
    );
    for flag in [
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
    ] {
        assert_eq!(manifest["settings"][flag], false, "{flag}");
    }
}

fn bot_scopes(manifest: &Value) -> BTreeSet<String> {
    manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .expect("bot scopes are a list")
        .iter()
        .map(|scope| string(scope, "a scope").to_owned())
        .collect()
}

/// The Web API methods named in the Slack client's source: every quoted
/// `family.method` literal under `src/slack/api/`.
fn slack_methods_called() -> BTreeSet<String> {
    let dir = format!("{REPO_ROOT}/src/slack/api");
    let mut methods = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for literal in source.split('"').skip(1).step_by(2) {
            if is_method_name(literal) {
                methods.insert(literal.to_owned());
            }
        }
    }
    methods
}

/// `chat.postMessage`, `oauth.v2.access`: lowercase family, dot-separated words.
fn is_method_name(literal: &str) -> bool {
    let mut parts = literal.split('.');
    let family = parts.next().unwrap_or_default();
    let rest: Vec<_> = parts.collect();
    !family.is_empty()
        && family.chars().all(|c| c.is_ascii_lowercase())
        && !rest.is_empty()
        && rest
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[test]
fn the_manifest_asks_for_exactly_the_scopes_the_code_needs() {
    let methods = slack_methods_called();
    assert!(methods.contains("chat.postMessage"), "{methods:?}");
    let mut needed = BTreeSet::from(["commands".to_owned()]);
    for method in &methods {
        let (_, scopes) = METHOD_SCOPES
            .iter()
            .find(|(name, _)| name == method)
            .unwrap_or_else(|| panic!("{method} is called: add its scopes to METHOD_SCOPES"));
        needed.extend(scopes.iter().map(|scope| scope.to_string()));
    }
    let manifest = manifest();
    assert_eq!(bot_scopes(&manifest), needed);
    let install: BTreeSet<String> = chatops::accounts::SLACK_SCOPES
        .iter()
        .map(|scope| scope.to_string())
        .collect();
    assert_eq!(
        install, needed,
        "the OAuth install asks for the manifest's scopes"
    );
    let user_scopes: Vec<&str> = manifest["oauth_config"]["scopes"]["user"]
        .as_array()
        .expect("user scopes are a list")
        .iter()
        .map(|scope| string(scope, "a scope"))
        .collect();
    let sign_in: Vec<&str> = chatops::slack::openid::SIGN_IN_SCOPES.split(' ').collect();
    assert_eq!(
        user_scopes, sign_in,
        "Sign in with Slack asks for the manifest's user scopes"
    );
    let commands = slash_commands(&manifest);
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["command"], "/h");
    string(&commands[0]["usage_hint"], "usage_hint");
    string(&commands[0]["description"], "description");
}

/// The bot subscribes to exactly the events its `/slack/events` acts on, with the
/// Home tab on for `app_home_opened`; and those events need no scope beyond the ones
/// the methods need (checked above).
#[test]
fn the_manifest_subscribes_to_exactly_the_events_the_code_handles() {
    let manifest = manifest();
    let events = &manifest["settings"]["event_subscriptions"];
    let subscribed: Vec<&str> = events["bot_events"]
        .as_array()
        .expect("bot_events is a list")
        .iter()
        .map(|event| string(event, "an event"))
        .collect();
    assert_eq!(subscribed, chatops::edge::events::HANDLED_EVENTS);
    assert_eq!(
        events.get("user_events"),
        None,
        "no user events are handled"
    );
    assert_eq!(manifest["features"]["app_home"]["home_tab_enabled"], true);
}

/// `https://YOUR-APP.herokuapp.com/x` -> `/x`, failing on any other host.
fn placeholder_path(url: &str) -> &str {
    url.strip_prefix(PLACEHOLDER)
        .unwrap_or_else(|| panic!("{url} is not under {PLACEHOLDER}"))
}

#[tokio::test]
async fn every_url_in_the_manifest_and_app_json_is_a_route_the_bot_serves() {
    let manifest = manifest();
    let app = TestApp::spawn(common::databases().await.remove(0)).await;
    let command_url = string(&slash_commands(&manifest)[0]["url"], "url");
    let path = placeholder_path(command_url);
    assert_eq!(path, "/slack/commands");
    // Unsigned, so refused; but refused by the route, not missing.
    assert_eq!(status(&app, reqwest::Method::POST, path).await, 401);
    let redirects: Vec<&str> = manifest["oauth_config"]["redirect_urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|url| placeholder_path(string(url, "a redirect URL")))
        .collect();
    assert_eq!(
        redirects,
        ["/slack/oauth/callback", "/auth/slack/callback"],
        "the Slack install and Sign in with Slack return to Slack's redirects"
    );
    for redirect in redirects {
        let answer = status(&app, reqwest::Method::GET, redirect).await;
        assert!(![404, 405].contains(&answer), "{redirect}: {answer}");
    }
    let interactivity = &manifest["settings"]["interactivity"];
    if interactivity["is_enabled"] == true {
        let path = placeholder_path(string(&interactivity["request_url"], "request_url"));
        let answer = status(&app, reqwest::Method::POST, path).await;
        assert!(![404, 405].contains(&answer), "{path}: {answer}");
    }
    let events = &manifest["settings"]["event_subscriptions"];
    let path = placeholder_path(string(&events["request_url"], "request_url"));
    assert_eq!(path, "/slack/events");
    let answer = status(&app, reqwest::Method::POST, path).await;
    assert!(![404, 405].contains(&answer), "{path}: {answer}");
    let success = string(&app_json()["success_url"], "success_url").to_owned();
    assert_eq!(status(&app, reqwest::Method::GET, &success).await, 200);
    app.finish().await;
}
