//! The files that set the bot up for real — `app.json`, `slack-app-manifest.yml`,
//! `Procfile`, `docs/SETUP.md` — agree with Heroku's and Slack's formats and with the
//! code: the variables it reads, the routes it serves, the Slack methods it calls.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;

use common::TestApp;
use common::walk::{Walker, button_url, split_url, walk_provider};
use serde_json::{Map, Value};

/// Where the manifest and SETUP.md say the bot lives, for users to replace.
const PLACEHOLDER: &str = "https://YOUR-APP.herokuapp.com";

/// Read by the code but set by Heroku itself, so app.json must not declare them:
/// `PORT` is given to every web dyno by the router, and `DATABASE_URL` is attached by
/// the `heroku-postgresql` add-on (declaring it would clash with the attachment).
const PROVIDED_BY_HEROKU: [&str; 2] = ["PORT", "DATABASE_URL"];

/// Optional in the code (it defaults to loopback, for local runs) but required on
/// Heroku, where OAuth callbacks and webhooks must reach the app's public URL.
const REQUIRED_ONLY_ON_HEROKU: [&str; 1] = ["BASE_URL"];

/// The top-level keys of Heroku's app.json schema (Dev Center, "app.json Schema").
const APP_JSON_KEYS: [&str; 15] = [
    "name",
    "description",
    "keywords",
    "website",
    "repository",
    "logo",
    "success_url",
    "scripts",
    "env",
    "formation",
    "image",
    "addons",
    "buildpacks",
    "environments",
    "stack",
];

/// The keys of one `env` entry in that schema.
const ENV_KEYS: [&str; 4] = ["description", "value", "required", "generator"];

/// The scopes each Slack Web API method the bot calls needs (Slack's method
/// reference): `conversations.*` read back the bot's own posts in public
/// (`channels:`) and private (`groups:`) channels. A method missing here fails the
/// test, so a new call cannot ship without its scope.
const METHOD_SCOPES: [(&str, &[&str]); 6] = [
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
];

fn repo_file(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

fn app_json() -> Map<String, Value> {
    serde_json::from_str(&repo_file("app.json")).expect("app.json is JSON")
}

fn manifest() -> Value {
    serde_norway::from_str(&repo_file("slack-app-manifest.yml")).expect("the manifest is YAML")
}

/// The keys of `object` (a JSON object, or the test fails naming `what`).
fn keys<'v>(value: &'v Value, what: &str) -> BTreeSet<&'v str> {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object"));
    object.keys().map(String::as_str).collect()
}

fn assert_keys_within(value: &Value, allowed: &[&str], what: &str) {
    let unknown: Vec<_> = keys(value, what)
        .into_iter()
        .filter(|key| !allowed.contains(key))
        .collect();
    assert!(
        unknown.is_empty(),
        "{what} has keys the schema lacks: {unknown:?}"
    );
}

fn string<'v>(value: &'v Value, what: &str) -> &'v str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
}

/// Every variable `Config` looks up, seen by giving it a lookup that records names.
fn variables_the_code_reads() -> BTreeSet<String> {
    let seen = Mutex::new(BTreeSet::new());
    let _ = chatops::config::Config::from_lookup(|name| {
        seen.lock().unwrap().insert(name.to_owned());
        None
    });
    let mut seen = seen.into_inner().unwrap();
    // Read by the log setup (tracing's filter), not by Config.
    seen.insert(tracing_subscriber::EnvFilter::DEFAULT_ENV.to_owned());
    seen
}

/// The variables `Config` refuses to start without, from its own error lines.
fn variables_the_code_requires() -> BTreeSet<String> {
    let errors = chatops::config::Config::from_lookup(|_| None).unwrap_err();
    errors
        .0
        .iter()
        .filter_map(|line| line.split_once(" is required:").map(|(name, _)| name))
        .filter(|name| !name.contains(' '))
        .map(str::to_owned)
        .collect()
}

#[test]
fn app_json_uses_only_the_schema_and_its_types() {
    let app = Value::Object(app_json());
    assert_keys_within(&app, &APP_JSON_KEYS, "app.json");
    let name = string(&app["name"], "name");
    assert!((3..=30).contains(&name.len()), "name is 3 to 30 characters");
    string(&app["description"], "description");
    for keyword in app["keywords"].as_array().expect("keywords is an array") {
        string(keyword, "a keyword");
    }
    for (var, entry) in app["env"].as_object().expect("env is an object") {
        assert_keys_within(entry, &ENV_KEYS, var);
        string(&entry["description"], &format!("{var}.description"));
        assert!(
            entry["required"].is_boolean(),
            "{var}.required is a boolean"
        );
        if let Some(value) = entry.get("value") {
            string(value, &format!("{var}.value"));
        }
        if let Some(generator) = entry.get("generator") {
            assert_eq!(generator, "secret", "{var}: the only generator is secret");
        }
    }
    for addon in app["addons"].as_array().expect("addons is an array") {
        assert_keys_within(addon, &["plan", "as", "options"], "an add-on");
        assert!(string(&addon["plan"], "plan").starts_with("heroku-postgresql"));
    }
    for buildpack in app["buildpacks"]
        .as_array()
        .expect("buildpacks is an array")
    {
        assert_keys_within(buildpack, &["url"], "a buildpack");
        assert!(string(&buildpack["url"], "url").starts_with("https://"));
    }
    let web = &app["formation"]["web"];
    assert_keys_within(web, &["quantity", "size"], "formation.web");
    assert_eq!(web["quantity"], 1);
    string(&web["size"], "formation.web.size");
}

#[test]
fn app_json_declares_every_variable_the_code_reads_and_no_other() {
    let env = app_json()["env"].as_object().unwrap().clone();
    let declared: BTreeSet<String> = env.keys().cloned().collect();
    let mut expected = variables_the_code_reads();
    for provided in PROVIDED_BY_HEROKU {
        assert!(
            expected.remove(provided),
            "the code no longer reads {provided}"
        );
    }
    assert_eq!(declared, expected);

    let required: BTreeSet<String> = env
        .iter()
        .filter(|(_, entry)| entry["required"] == true)
        .map(|(name, _)| name.clone())
        .collect();
    let mut expected = variables_the_code_requires();
    expected.extend(REQUIRED_ONLY_ON_HEROKU.map(String::from));
    assert_eq!(required, expected);
    assert_eq!(env["ENCRYPTION_KEY"]["generator"], "secret");
}

#[test]
fn the_procfile_migrates_in_the_release_phase_and_serves_on_web() {
    let procfile = repo_file("Procfile");
    let processes: Vec<_> = procfile.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        processes,
        [
            "release: ./target/release/chatops migrate",
            "web: ./target/release/chatops serve",
        ]
    );
    let process_types: BTreeSet<_> = keys(&app_json()["formation"], "formation")
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(process_types, BTreeSet::from(["web".to_owned()]));
}

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

fn slash_commands(manifest: &Value) -> &Vec<Value> {
    manifest["features"]["slash_commands"]
        .as_array()
        .expect("slash_commands is a list")
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
    let dir = format!("{}/src/slack/api", env!("CARGO_MANIFEST_DIR"));
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
    let commands = slash_commands(&manifest);
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["command"], "/h");
    string(&commands[0]["usage_hint"], "usage_hint");
    string(&commands[0]["description"], "description");
}

/// `https://YOUR-APP.herokuapp.com/x` -> `/x`, failing on any other host.
fn placeholder_path(url: &str) -> &str {
    url.strip_prefix(PLACEHOLDER)
        .unwrap_or_else(|| panic!("{url} is not under {PLACEHOLDER}"))
}

/// The status the running bot answers `method path` with: an empty form, unsigned.
async fn status(app: &TestApp, method: reqwest::Method, path: &str) -> u16 {
    let url = format!("{}{path}", app.base_url);
    let request = common::no_redirects().request(method, url);
    let form = request.header("content-type", "application/x-www-form-urlencoded");
    form.send().await.unwrap().status().as_u16()
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
    let redirects = manifest["oauth_config"]["redirect_urls"]
        .as_array()
        .unwrap();
    assert_eq!(
        redirects.len(),
        1,
        "only the Slack install returns to Slack's redirect"
    );
    let redirect = placeholder_path(string(&redirects[0], "a redirect URL"));
    let install = status(&app, reqwest::Method::GET, redirect).await;
    assert!(![404, 405].contains(&install), "{redirect}: {install}");
    let interactivity = &manifest["settings"]["interactivity"];
    if interactivity["is_enabled"] == true {
        let path = placeholder_path(string(&interactivity["request_url"], "request_url"));
        let answer = status(&app, reqwest::Method::POST, path).await;
        assert!(![404, 405].contains(&answer), "{path}: {answer}");
    }
    let success = string(&app_json()["success_url"], "success_url").to_owned();
    assert_eq!(status(&app, reqwest::Method::GET, &success).await, 200);
    app.finish().await;
}

/// The callback URL the bot hands each provider, as it really sends them: the Slack
/// install's `redirect_uri`, GitHub's `redirect_uri` (met after linking Heroku), and
/// the Heroku callback route (Heroku takes it from the client registration).
async fn callback_paths(app: &TestApp) -> Vec<String> {
    let mut browser = Walker::new();
    let to_slack = browser
        .get(&format!("{}/slack/install", app.base_url))
        .await;
    let slack = split_url(to_slack.redirect()).1["redirect_uri"].clone();
    let login = common::accounts::reply(app, common::accounts::ALICE, "login").await;
    let heroku_done = walk_provider(
        &mut browser,
        &button_url(&login),
        Some(("email", "alice@example.com")),
        "Allow",
    )
    .await;
    let (_, github_start) = heroku_done.action().expect("a Connect GitHub button");
    let to_github = browser.get(&github_start).await;
    let github = split_url(to_github.redirect()).1["redirect_uri"].clone();
    let heroku = "/auth/heroku/callback";
    assert_eq!(status(app, reqwest::Method::GET, heroku).await, 400);
    let under_base = |url: String| url.strip_prefix(&app.base_url).unwrap().to_owned();
    vec![heroku.to_owned(), under_base(github), under_base(slack)]
}

#[tokio::test]
async fn setup_md_names_every_callback_and_every_variable_to_set() {
    let setup = repo_file("docs/SETUP.md");
    let app = TestApp::spawn(common::databases().await.remove(0)).await;
    let callbacks = callback_paths(&app).await;
    app.finish().await;
    assert_eq!(
        callbacks,
        [
            "/auth/heroku/callback",
            "/auth/github/callback",
            "/slack/oauth/callback"
        ]
    );
    for path in callbacks
        .iter()
        .map(String::as_str)
        .chain(["/slack/commands"])
    {
        let url = format!("{PLACEHOLDER}{path}");
        assert!(setup.contains(&url), "SETUP.md does not mention {url}");
    }
    let heroku = format!("heroku clients:create \"chatops\" {PLACEHOLDER}/auth/heroku/callback");
    assert!(
        setup.contains(&heroku),
        "SETUP.md registers the Heroku client"
    );
    let manifest_redirect = manifest()["oauth_config"]["redirect_urls"][0].clone();
    assert_eq!(manifest_redirect, format!("{PLACEHOLDER}{}", callbacks[2]));

    let env = app_json()["env"].as_object().unwrap().clone();
    let slack_choice = ["SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"];
    let to_set = env
        .iter()
        .filter(|(_, entry)| entry["required"] == true)
        .map(|(name, _)| name.as_str())
        .chain(slack_choice);
    for name in to_set {
        assert!(setup.contains(name), "SETUP.md does not mention {name}");
    }
}
