//! `app.json`, `Procfile` and `docs/SETUP.md` against Heroku's formats and the code:
//! the variables it reads and requires, its processes, and the callback URLs it really
//! sends. The Slack manifest has its own suite, `tests/slack_manifest.rs`.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Mutex;

use common::TestApp;
use common::files::{
    PLACEHOLDER, app_json, assert_keys_within, keys, manifest, repo_file, status, string,
};
use common::walk::{Walker, button_url, split_url, walk_provider};
use serde_json::Value;

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

#[test]
fn heroku_builds_the_bot_alone_the_binary_the_procfile_runs() {
    let flags: Vec<_> = repo_file("RustConfig")
        .lines()
        .filter_map(|line| line.strip_prefix("RUST_CARGO_BUILD_FLAGS="))
        .map(|value| value.trim_matches('"').to_owned())
        .collect();
    assert_eq!(flags, ["--release --locked -p chatops --bin chatops"]);
    let manifest = repo_file("Cargo.toml");
    assert!(
        manifest.contains("[package]\nname = \"chatops\"")
            && manifest.contains("[[bin]]\nname = \"chatops\""),
        "the root package must be the bot, with a binary called chatops"
    );
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
    let to_github = browser.start(&github_start).await;
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
    for path in callbacks.iter().map(String::as_str).chain([
        "/slack/commands",
        "/slack/interactions",
        "/slack/events",
    ]) {
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
