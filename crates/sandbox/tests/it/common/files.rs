//! Reading the files that set the bot up for real (`app.json`,
//! `slack-app-manifest.yml`, `Procfile`, `docs/SETUP.md`), for the suites that check
//! them against Heroku's and Slack's formats and against the code.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::TestApp;

/// Where the manifest and SETUP.md say the bot lives, for users to replace.
pub const PLACEHOLDER: &str = "https://YOUR-APP.herokuapp.com";

/// The repository's root: this crate lives in `crates/sandbox`.
pub const REPO_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub fn repo_file(path: &str) -> String {
    let full = format!("{REPO_ROOT}/{path}");
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

pub fn app_json() -> Map<String, Value> {
    serde_json::from_str(&repo_file("app.json")).expect("app.json is JSON")
}

pub fn manifest() -> Value {
    serde_norway::from_str(&repo_file("slack-app-manifest.yml")).expect("the manifest is YAML")
}

/// The keys of `object` (a JSON object, or the test fails naming `what`).
pub fn keys<'v>(value: &'v Value, what: &str) -> BTreeSet<&'v str> {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object"));
    object.keys().map(String::as_str).collect()
}

pub fn assert_keys_within(value: &Value, allowed: &[&str], what: &str) {
    let unknown: Vec<_> = keys(value, what)
        .into_iter()
        .filter(|key| !allowed.contains(key))
        .collect();
    assert!(
        unknown.is_empty(),
        "{what} has keys the schema lacks: {unknown:?}"
    );
}

pub fn string<'v>(value: &'v Value, what: &str) -> &'v str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
}

pub fn slash_commands(manifest: &Value) -> &Vec<Value> {
    manifest["features"]["slash_commands"]
        .as_array()
        .expect("slash_commands is a list")
}

/// The status the running bot answers `method path` with: an empty form, unsigned.
pub async fn status(app: &TestApp, method: reqwest::Method, path: &str) -> u16 {
    let url = format!("{}{path}", app.base_url);
    let request = super::no_redirects().request(method, url);
    let form = request.header("content-type", "application/x-www-form-urlencoded");
    form.send().await.unwrap().status().as_u16()
}
