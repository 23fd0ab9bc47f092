//! The fake GitHub's answers, fetched over HTTP as the bot's client asks for them,
//! checked against GitHub's official REST description (see `github_spec.rs`): every
//! response the bot reads, its status, its body and the headers the operation
//! declares (`Link` paging, `Location`, the rate-limit trio), refusals included.
//!
//! Run with `--nocapture` to see which operation and status each check used.

use chatops_fakes::github::{CiState, FakeGitHub, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use super::github_spec::{Answer, Spec};

const REPO: &str = "/repos/{owner}/{repo}";
const DEPLOYMENTS: &str = "/repos/{owner}/{repo}/deployments";
const STATUSES: &str = "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses";

struct Fake {
    fake: FakeGitHub,
    url: String,
    http: Client,
    token: String,
}

impl Fake {
    async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeGitHub::seeded(&url);
        let router = fake.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let token = fake.token_for("alice");
        Fake {
            fake,
            url,
            // Like the bot's client: a redirect is read, not followed.
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            token,
        }
    }

    /// A request with the bot's conventions (version, user agent, bearer token).
    fn request(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header("User-Agent", "chatops-conformance")
            .bearer_auth(token)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.request(method, path, &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::read(request.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }
}

fn expect(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
}

#[tokio::test]
async fn user_repository_branches_and_ci_match_the_spec() {
    let (spec, gh) = (Spec::load(), Fake::start().await);
    let user = gh.get("/user").await;
    expect(&user, 200);
    spec.check("get", "/user", &user);
    let repo = gh.get("/repos/heroku/paipu-repo").await;
    expect(&repo, 200);
    assert_eq!(repo.json()["permissions"]["push"], json!(true));
    spec.check("get", REPO, &repo);
    for branch in ["master", "feature-x"] {
        let answer = gh
            .get(&format!("/repos/heroku/paipu-repo/branches/{branch}"))
            .await;
        expect(&answer, 200);
        spec.check("get", "/repos/{owner}/{repo}/branches/{branch}", &answer);
    }
    let status = gh
        .get("/repos/heroku/paipu-repo/commits/master/status")
        .await;
    expect(&status, 200);
    spec.check("get", "/repos/{owner}/{repo}/commits/{ref}/status", &status);
    gh.fake
        .set_check_run("heroku/paipu-repo", "master", "lint", CiState::Pending)
        .unwrap();
    let runs = gh
        .get("/repos/heroku/paipu-repo/commits/master/check-runs?per_page=1")
        .await;
    expect(&runs, 200);
    assert!(runs.header("link").is_some(), "two runs, one per page");
    spec.check(
        "get",
        "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        &runs,
    );
    let compare = gh
        .get("/repos/heroku/paipu-repo/compare/master...feature-x")
        .await;
    expect(&compare, 200);
    assert_eq!(compare.json()["status"], json!("diverged"));
    spec.check("get", "/repos/{owner}/{repo}/compare/{basehead}", &compare);
}

#[tokio::test]
async fn the_tarball_link_is_a_302_with_a_location() {
    let (spec, gh) = (Spec::load(), Fake::start().await);
    let sha = gh.fake.head("heroku/paipu-repo", "master").unwrap();
    let answer = gh
        .get(&format!("/repos/heroku/paipu-repo/tarball/{sha}"))
        .await;
    expect(&answer, 302);
    spec.check("get", "/repos/{owner}/{repo}/tarball/{ref}", &answer);
    let location = answer.header("location").unwrap();
    let tarball = gh.http.get(location).send().await.unwrap();
    assert_eq!(tarball.status(), 200);
}

#[tokio::test]
async fn deployments_and_their_statuses_match_the_spec() {
    let (spec, gh) = (Spec::load(), Fake::start().await);
    let path = "/repos/heroku/paipu-repo/deployments";
    let new = |git_ref: &str| json!({"ref": git_ref, "environment": "staging", "auto_merge": false, "payload": {"app": "paipu-app-staging"}});
    let mut created = gh.post(path, new("master")).await;
    expect(&created, 201);
    spec.check("post", DEPLOYMENTS, &created);
    for _ in 0..2 {
        created = gh.post(path, new("master")).await;
        expect(&created, 201);
    }
    let listed = gh.get(&format!("{path}?per_page=2")).await;
    expect(&listed, 200);
    assert!(listed.header("link").unwrap().contains("rel=\"next\""));
    spec.check("get", DEPLOYMENTS, &listed);

    let statuses = format!("{path}/{}/statuses", created.json()["id"]);
    for state in ["in_progress", "success"] {
        let body = json!({"state": state, "log_url": "https://chatops.example.com/deploys/1", "environment_url": "https://paipu-app-staging.herokuapp.com", "auto_inactive": true});
        let status = gh.post(&statuses, body).await;
        expect(&status, 201);
        spec.check("post", STATUSES, &status);
    }
    let listed = gh.get(&format!("{statuses}?per_page=1")).await;
    expect(&listed, 200);
    assert!(listed.header("link").is_some());
    spec.check("get", STATUSES, &listed);

    // `feature-x` lacks master's head: GitHub merges master in and answers 202.
    let merged = gh
        .post(path, json!({"ref": "feature-x", "environment": "staging"}))
        .await;
    expect(&merged, 202);
    spec.check("post", DEPLOYMENTS, &merged);
    gh.fake
        .set_ci("heroku/paipu-repo", "master", CiState::Red)
        .unwrap();
    let red = gh.post(path, new("master")).await;
    expect(&red, 409);
    spec.check("post", DEPLOYMENTS, &red);
    let unknown = gh.post(path, new("no-such-branch")).await;
    expect(&unknown, 422);
    spec.check("post", DEPLOYMENTS, &unknown);
    let invalid = gh.post(path, json!({"environment": "staging"})).await;
    expect(&invalid, 422);
    spec.check("post", DEPLOYMENTS, &invalid);
    let bad_state = gh.post(&statuses, json!({"state": "shipped"})).await;
    expect(&bad_state, 422);
    spec.check("post", STATUSES, &bad_state);
}

#[tokio::test]
async fn refusals_carry_githubs_error_bodies() {
    let (spec, gh) = (Spec::load(), Fake::start().await);
    let bogus = gh
        .request(Method::GET, "/user", "gho_bogus")
        .send()
        .await
        .unwrap();
    let bogus = Answer::read(bogus).await;
    expect(&bogus, 401);
    spec.check("get", "/user", &bogus);
    let bob = gh.fake.token_for("bob");
    let hidden = gh
        .request(Method::GET, "/repos/acme/vault", &bob)
        .send()
        .await
        .unwrap();
    let hidden = Answer::read(hidden).await;
    expect(&hidden, 404);
    spec.check("get", REPO, &hidden);
    let branch = gh.get("/repos/acme/atlas/branches/nope").await;
    expect(&branch, 404);
    spec.check("get", "/repos/{owner}/{repo}/branches/{branch}", &branch);
    let compare = gh.get("/repos/acme/atlas/compare/main...nope").await;
    expect(&compare, 404);
    spec.check("get", "/repos/{owner}/{repo}/compare/{basehead}", &compare);
    gh.fake.set_rate_limit_remaining("alice", 0);
    let spent = gh.get("/user").await;
    expect(&spent, 403);
    assert_eq!(spent.header("x-ratelimit-remaining"), Some("0"));
    spec.check("get", "/user", &spent);
}

#[tokio::test]
async fn oauth_token_revocation_matches_the_spec() {
    let (spec, gh) = (Spec::load(), Fake::start().await);
    let path = format!("/applications/{OAUTH_CLIENT_ID}/token");
    let revoke = |body: Value| {
        gh.http
            .delete(format!("{}{path}", gh.url))
            .header("Accept", "application/vnd.github+json")
            .header("User-Agent", "chatops-conformance")
            .basic_auth(OAUTH_CLIENT_ID, Some(OAUTH_CLIENT_SECRET))
            .json(&body)
            .send()
    };
    let revoked = Answer::read(revoke(json!({"access_token": gh.token})).await.unwrap()).await;
    expect(&revoked, 204);
    spec.check("delete", "/applications/{client_id}/token", &revoked);
    let missing = Answer::read(revoke(json!({})).await.unwrap()).await;
    expect(&missing, 422);
    spec.check("delete", "/applications/{client_id}/token", &missing);
    let gone = gh.get("/user").await;
    expect(&gone, 401);
}

/// What a mutation breaks, and the mutation.
type Mutation = (&'static str, fn(&mut Value));

#[tokio::test]
async fn the_checks_catch_missing_fields_wrong_types_strays_and_headers() {
    let (spec, gh) = (Spec::load(), Fake::start().await);
    let repo = gh.get("/repos/acme/atlas").await;
    let schema = spec.body_schema("get", REPO, 200);
    assert!(spec.errors(&schema, repo.json()).is_empty());
    let mutations: [Mutation; 4] = [
        ("no permissions.push", |repo| {
            repo["permissions"].as_object_mut().unwrap().remove("push");
        }),
        ("a string id", |repo| repo["id"] = json!("1")),
        ("a made-up field", |repo| repo["secret"] = json!("x")),
        ("a created_at that is no date-time", |repo| {
            repo["created_at"] = json!("yesterday")
        }),
    ];
    for (what, mutate) in mutations {
        let mut body = repo.json().clone();
        mutate(&mut body);
        assert!(!spec.errors(&schema, &body).is_empty(), "{what} passed");
    }
    let runs = gh
        .get("/repos/acme/atlas/commits/main/check-runs")
        .await
        .json()
        .clone();
    let schema = spec.body_schema("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs", 200);
    let mut unknown = runs.clone();
    unknown["check_runs"][0]["conclusion"] = json!("great");
    assert!(
        !spec.errors(&schema, &unknown).is_empty(),
        "an unknown conclusion passed"
    );
    let tarball = gh.get("/repos/acme/atlas/tarball/main").await;
    let mut headless = Answer {
        status: tarball.status,
        headers: tarball.headers.clone(),
        body: None,
    };
    headless.headers.remove("location");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        spec.check("get", "/repos/{owner}/{repo}/tarball/{ref}", &headless)
    }));
    assert!(caught.is_err(), "a 302 without a Location passed");
}
