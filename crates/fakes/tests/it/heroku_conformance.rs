//! The fake Heroku's answers, fetched over HTTP, checked against the official Platform
//! API hyper-schema (`tests/specs/heroku-platform-api.schema.json`): for every resource
//! the client reads, the `targetSchema` of the link that returns it, compiled as draft 4
//! with formats checked.
//!
//! The schema marks most resources `strictProperties` (prmd's word for "every listed
//! property is present, nothing else is"), which draft 4 does not know; it is spelled
//! out here as `required` + `additionalProperties: false`. Heroku's serializers also
//! send every property of a resource (null when unset), so each checked resource
//! requires all of its properties too. A fake answer missing a field, with a wrong
//! type, or out of an enum fails.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use chatops_fakes::heroku::{FakeHeroku, Timings};
use serde_json::{Value, json};

const SCHEMA: &str = include_str!("../specs/heroku-platform-api.schema.json");
const GZIP: &[u8] = &[
    0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
const SHA: &str = "0f4b5e2cd3a1b2c3d4e5f60718293a4b5c6d7e8f";

/// A link of a resource and the schema of what it returns.
struct Target {
    method: String,
    href: String,
    schema: Value,
}

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("the schema is JSON")
}

fn target(schema: &Value, resource: &str, title: &str) -> Target {
    let links = schema["definitions"][resource]["links"]
        .as_array()
        .unwrap_or_else(|| panic!("no resource {resource}"));
    let link = links
        .iter()
        .find(|link| link["title"] == title)
        .unwrap_or_else(|| panic!("{resource} has no link {title}"));
    Target {
        method: link["method"].as_str().expect("a method").to_owned(),
        href: link["href"].as_str().expect("an href").to_owned(),
        schema: link["targetSchema"].clone(),
    }
}

/// Spells out `strictProperties` and drops the hyper-schema `$schema` markers, which
/// are not draft-4 meta-schemas.
fn draft4(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("$schema");
            let strict = object.get("strictProperties") == Some(&Value::Bool(true));
            let names = property_names(object.get("properties"));
            // Draft 4 wants `required` non-empty.
            if strict && !names.is_empty() {
                object.insert("required".into(), Value::Array(names));
                object
                    .entry("additionalProperties")
                    .or_insert(Value::Bool(false));
            }
            object.values_mut().for_each(draft4);
        }
        Value::Array(items) => items.iter_mut().for_each(draft4),
        _ => {}
    }
}

fn property_names(properties: Option<&Value>) -> Vec<Value> {
    let properties = properties.and_then(Value::as_object);
    properties
        .map(|properties| properties.keys().cloned().map(Value::String).collect())
        .unwrap_or_default()
}

/// The JSON pointer a target's `$ref` (or its `items.$ref`) names.
fn pointer(target: &Value) -> String {
    let reference = target["$ref"]
        .as_str()
        .or_else(|| target["items"]["$ref"].as_str())
        .expect("targets refer to a definition");
    reference.trim_start_matches('#').to_owned()
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| {
            if [8, 13, 18, 23].contains(&index) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn validator(target: &Target) -> jsonschema::Validator {
    let mut document = json!({"definitions": schema()["definitions"].clone()});
    draft4(&mut document);
    // Heroku sends every property of the resource itself.
    let resource = document
        .pointer_mut(&pointer(&target.schema))
        .expect("the target exists");
    resource["required"] = Value::Array(property_names(resource.get("properties")));
    document["$ref"] = target.schema["$ref"].clone();
    if document["$ref"].is_null() {
        document["type"] = json!(["array"]);
        document["items"] = target.schema["items"].clone();
        document.as_object_mut().expect("an object").remove("$ref");
    }
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .with_format("uuid", is_uuid)
        .build(&document)
        .expect("the schema compiles as draft 4")
}

/// The schema errors of `instance` as the answer of `resource`'s link `title`.
fn errors(resource: &str, title: &str, instance: &Value) -> Vec<String> {
    let target = target(&schema(), resource, title);
    println!(
        "{resource}: {} {} ({title}) targetSchema {}",
        target.method, target.href, target.schema
    );
    validator(&target)
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

fn check(resource: &str, title: &str, instance: &Value) {
    let errors = errors(resource, title, instance);
    assert!(
        errors.is_empty(),
        "{resource} {title} does not match the schema:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

struct Fake {
    fake: FakeHeroku,
    url: String,
    http: reqwest::Client,
    token: String,
    source: String,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serving") });
    url
}

async fn start() -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let fake = FakeHeroku::seeded(&url);
    fake.set_timings(Timings::FAST);
    let router = fake.router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serving") });
    let source = serve(Router::new().route("/source.tar.gz", get(|| async { GZIP }))).await;
    let token = fake.token_for("alice@example.com");
    Fake {
        fake,
        url,
        http: reqwest::Client::new(),
        token,
        source,
    }
}

impl Fake {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.heroku+json; version=3");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the fake answers");
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
        response.json().await.expect("a JSON body")
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// GETs `path` until `done` holds for the answer (at most five seconds).
    async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let value = self.get(path).await;
            if done(&value) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out polling {path}: {value}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn accounts_pipelines_and_apps_match_the_schema() {
    let f = start().await;
    check("account", "Info", &f.get("/account").await);
    check("rate-limit", "Info", &f.get("/account/rate-limits").await);
    check("pipeline", "List", &f.get("/pipelines").await);
    let pipeline = f.get("/pipelines/atlas").await;
    check("pipeline", "Info", &pipeline);
    let couplings = f
        .get(&format!(
            "/pipelines/{}/pipeline-couplings",
            pipeline["id"].as_str().unwrap()
        ))
        .await;
    check("pipeline-coupling", "List By Pipeline", &couplings);
    for app in ["paipu-app-staging", "vault-app-production", "atlas-eu"] {
        check("app", "Info", &f.get(&format!("/apps/{app}")).await);
    }
    check(
        "formation",
        "List",
        &f.get("/apps/paipu-app-production/formation").await,
    );
    check(
        "dyno",
        "List",
        &f.get("/apps/paipu-app-production/dynos").await,
    );
}

/// Heroku takes the token as HTTP Basic's password too (heroku3, `curl -n`, netrc).
#[tokio::test]
async fn a_token_sent_as_basic_auth_reads_the_account() {
    let f = start().await;
    let response = f
        .http
        .get(format!("{}/account", f.url))
        .basic_auth("", Some(&f.token))
        .header("Accept", "application/vnd.heroku+json; version=3")
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let account: Value = response.json().await.expect("a JSON body");
    assert_eq!(account["email"], json!("alice@example.com"));
    check("account", "Info", &account);
}

#[tokio::test]
async fn builds_releases_slugs_and_dynos_match_the_schema() {
    let f = start().await;
    let app = "paipu-app-staging";
    let blob =
        json!({"source_blob": {"url": format!("{}/source.tar.gz", f.source), "version": SHA}});
    let created = f.post(&format!("/apps/{app}/builds"), blob).await;
    check("build", "Create", &created);
    let build_path = format!("/apps/{app}/builds/{}", created["id"].as_str().unwrap());
    let build = f
        .until(&build_path, |build| build["status"] != "pending")
        .await;
    check("build", "Info", &build);
    check(
        "build",
        "List",
        &f.get(&format!("/apps/{app}/builds")).await,
    );
    let release_path = format!(
        "/apps/{app}/releases/{}",
        build["release"]["id"].as_str().unwrap()
    );
    check("release", "Info", &f.get(&release_path).await);
    let release = f
        .until(&release_path, |release| release["status"] != "pending")
        .await;
    check("release", "Info", &release);
    check(
        "release",
        "List",
        &f.get(&format!("/apps/{app}/releases")).await,
    );
    check(
        "slug",
        "Info",
        &f.get(&format!(
            "/apps/{app}/slugs/{}",
            build["slug"]["id"].as_str().unwrap()
        ))
        .await,
    );
    let dynos = f
        .until(&format!("/apps/{app}/dynos"), |dynos| {
            dynos.as_array().unwrap().iter().all(|d| d["state"] == "up")
        })
        .await;
    check("dyno", "List", &dynos);
    let earlier = f.get(&format!("/apps/{app}/releases/229")).await;
    let rollback = f
        .post(
            &format!("/apps/{app}/releases"),
            json!({"release": earlier["id"]}),
        )
        .await;
    check("release", "Rollback", &rollback);
    let created = f
        .post(
            &format!("/apps/{app}/releases"),
            json!({"slug": build["slug"]["id"], "description": "Deploy by hand"}),
        )
        .await;
    check("release", "Create", &created);
    f.fake
        .add_team_member("vic@example.com", &[(app, &["view", "deploy"][..])]);
    check(
        "collaborator",
        "List",
        &f.get(&format!("/apps/{app}/collaborators")).await,
    );
}

#[tokio::test]
async fn promotions_and_webhooks_match_the_schema() {
    let f = start().await;
    let id = |app: &str| f.fake.app(app).id;
    let request = json!({
        "pipeline": {"id": f.fake.pipeline("atlas").id},
        "source": {"app": {"id": id("atlas-staging")}},
        "targets": [{"app": {"id": id("atlas-eu")}}, {"app": {"id": id("atlas-us")}}],
    });
    let promotion = f.post("/pipeline-promotions", request).await;
    check("pipeline-promotion", "Create", &promotion);
    let path = format!("/pipeline-promotions/{}", promotion["id"].as_str().unwrap());
    check(
        "pipeline-promotion-target",
        "List",
        &f.get(&format!("{path}/promotion-targets")).await,
    );
    check(
        "pipeline-promotion",
        "Info",
        &f.until(&path, |promotion| promotion["status"] == "completed")
            .await,
    );
    check(
        "pipeline-promotion-target",
        "List",
        &f.get(&format!("{path}/promotion-targets")).await,
    );

    let hook = json!({"include": ["api:build", "api:release", "dyno"], "level": "sync", "url": "https://hooks.example.com/heroku"});
    let webhook = f.post("/apps/atlas-eu/webhooks", hook).await;
    check("app-webhook", "Create", &webhook);
    check(
        "app-webhook",
        "List",
        &f.get("/apps/atlas-eu/webhooks").await,
    );
    let deleted = f
        .call(
            reqwest::Method::DELETE,
            &format!(
                "/apps/atlas-eu/webhooks/{}",
                webhook["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    check("app-webhook", "Delete", &deleted);
}

/// A token from the web flow, as a client gets it: allow, then exchange the code.
async fn web_flow_token(f: &Fake) -> Value {
    let client = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    f.fake
        .register_oauth_client(client, "s3cret", "https://bot.example/auth/heroku/callback");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("client_id", client),
        ("scope", "global"),
        ("state", "st"),
        ("email", "alice@example.com"),
        ("decision", "allow"),
    ];
    let allowed = no_redirects
        .post(format!("{}/oauth/authorize", f.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = allowed.headers()["location"].to_str().unwrap();
    let code = reqwest::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap()
        .1
        .into_owned();
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_secret", "s3cret"),
    ];
    let response = f.http.post(format!("{}/oauth/token", f.url)).form(&grant);
    response.send().await.unwrap().json().await.unwrap()
}

/// Deleting an authorization revokes it: its access and refresh tokens stop working.
#[tokio::test]
async fn oauth_authorizations_match_the_schema_and_delete_revokes_them() {
    let f = start().await;
    let tokens = web_flow_token(&f).await;
    let list = f.get("/oauth/authorizations").await;
    check("oauth-authorization", "List", &list);
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "token_for's and the web flow's"
    );
    let web = list
        .as_array()
        .unwrap()
        .iter()
        .find(|found| found["access_token"]["token"] == tokens["access_token"])
        .expect("the web flow's authorization lists its token");
    assert_eq!(web["refresh_token"]["token"], tokens["refresh_token"]);
    let path = format!("/oauth/authorizations/{}", web["id"].as_str().unwrap());
    check("oauth-authorization", "Info", &f.get(&path).await);

    let as_web = Fake {
        token: tokens["access_token"].as_str().unwrap().to_owned(),
        ..f
    };
    let deleted = as_web.call(reqwest::Method::DELETE, &path, None).await;
    check("oauth-authorization", "Delete", &deleted);
    let refused = as_web
        .http
        .get(format!("{}/account", as_web.url))
        .bearer_auth(&as_web.token)
        .header("Accept", "application/vnd.heroku+json; version=3")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("client_secret", "s3cret"),
    ];
    let refreshed = as_web
        .http
        .post(format!("{}/oauth/token", as_web.url))
        .form(&refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(as_web.fake.authorization_count("alice@example.com"), 1);
}

#[tokio::test]
async fn the_checks_catch_missing_fields_wrong_types_and_strays() {
    let f = start().await;
    let build = f.get("/apps/paipu-app-staging/builds").await[0].clone();
    check("build", "Info", &build);
    let mut missing = build.clone();
    missing.as_object_mut().unwrap().remove("status");
    assert!(
        !errors("build", "Info", &missing).is_empty(),
        "a build without status passed"
    );
    let mut undated = build.clone();
    undated["created_at"] = json!("yesterday");
    assert!(
        !errors("build", "Info", &undated).is_empty(),
        "a created_at that is no date-time passed"
    );
    let release = f.get("/apps/paipu-app-staging/releases/230").await;
    let mut wrong_type = release.clone();
    wrong_type["version"] = json!("230");
    assert!(
        !errors("release", "Info", &wrong_type).is_empty(),
        "a string version passed"
    );
    let mut stray = f.get("/account").await;
    stray["password"] = json!("hunter2");
    assert!(
        !errors("account", "Info", &stray).is_empty(),
        "an unknown account field passed"
    );
    let mut pipeline = f.get("/pipelines/paipu").await;
    pipeline.as_object_mut().unwrap().remove("generation");
    assert!(
        !errors("pipeline", "Info", &pipeline).is_empty(),
        "a pipeline without generation passed"
    );
    let mut coupling = f
        .get(&format!(
            "/pipelines/{}/pipeline-couplings",
            f.fake.pipeline("paipu").id
        ))
        .await;
    coupling[0]["stage"] = json!("qa");
    assert!(
        !errors("pipeline-coupling", "List By Pipeline", &coupling).is_empty(),
        "an unknown stage passed"
    );
    let mut dyno = f.get("/apps/atlas-us/dynos").await;
    dyno[0]["id"] = json!("web.1");
    assert!(
        !errors("dyno", "List", &dyno).is_empty(),
        "a dyno id that is no uuid passed"
    );
}
