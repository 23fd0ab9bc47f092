//! The GitHub client against the fake GitHub over real HTTP on loopback: every call,
//! the CI verdict, the deployment outcomes, tarball links, the OAuth flow, errors, and
//! behaviour under injected faults (retried on GETs, never repeated on creating POSTs).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::http::Method;
use chatops::github::*;
use chatops::outbound::{RetryPolicy, http_client};
use chatops_fakes::github::{CiState, FakeGitHub, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};
use chatops_fakes::{Failure, FaultRule};
use secrecy::SecretString;
use serde_json::json;

const PAIPU: &str = "heroku/paipu-repo";
const ATLAS: &str = "acme/atlas";

struct Harness {
    fake: FakeGitHub,
    client: GitHubClient,
    base: String,
    /// The fake's clock, in Unix seconds; tests move it instead of sleeping.
    now: Arc<AtomicI64>,
}

impl Harness {
    fn token(&self, login: &str) -> SecretString {
        SecretString::from(self.fake.token_for(login))
    }

    fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }

    /// How many requests the fake received for `METHOD /path`.
    fn count(&self, line: &str) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|seen| *seen == line)
            .count()
    }

    fn oauth(&self, secret: &str) -> GitHubOAuth {
        let http = http_client(Duration::from_millis(300));
        GitHubOAuth::new(
            http,
            &self.base,
            &self.base,
            OAUTH_CLIENT_ID,
            SecretString::from(secret),
        )
    }
}

async fn start() -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeGitHub::seeded(&base);
    let now = Arc::new(AtomicI64::new(1_750_000_000));
    let clock_now = now.clone();
    fake.set_clock(move || clock_now.load(Ordering::SeqCst));
    tokio::spawn(axum::serve(listener, fake.router()).into_future());
    let retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    let client = GitHubClient::new(http_client(Duration::from_millis(300)), &base, retry);
    Harness {
        fake,
        client,
        base,
        now,
    }
}

fn repo(full_name: &str) -> RepoName {
    full_name.parse().unwrap()
}

fn deployment(git_ref: &str, environment: &str) -> NewDeployment {
    NewDeployment {
        git_ref: git_ref.into(),
        task: "deploy".into(),
        auto_merge: false,
        required_contexts: vec!["ci/circleci".into()],
        environment: environment.into(),
        description: "Shipped from chat".into(),
        payload: json!({"notify": {"room": "C123", "user": "U42"}}),
        transient_environment: false,
        production_environment: environment == "production",
    }
}

#[tokio::test]
async fn user_is_the_token_owner() {
    let h = start().await;
    let user = h.client.user(&h.token("alice")).await.unwrap();
    assert_eq!((user.login.as_str(), user.id), ("alice", 1));
    assert_eq!(user.name.as_deref(), Some("Alice Admin"));
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
}

#[tokio::test]
async fn repo_reports_default_branch_visibility_and_the_callers_permissions() {
    let h = start().await;
    let paipu = h
        .client
        .repo(&h.token("alice"), &repo(PAIPU))
        .await
        .unwrap();
    assert_eq!(
        (
            paipu.full_name.as_str(),
            paipu.default_branch.as_str(),
            paipu.private
        ),
        (PAIPU, "master", true)
    );
    assert_eq!(
        paipu.permissions,
        Some(Permissions {
            admin: true,
            push: true,
            pull: true
        })
    );
    let as_erin = h.client.repo(&h.token("erin"), &repo(PAIPU)).await.unwrap();
    assert_eq!(
        as_erin.permissions,
        Some(Permissions {
            admin: false,
            push: true,
            pull: true
        })
    );
    let atlas = h.client.repo(&h.token("bob"), &repo(ATLAS)).await.unwrap();
    assert_eq!(
        (atlas.default_branch.as_str(), atlas.private),
        ("main", false)
    );
    assert_eq!(
        atlas.permissions,
        Some(Permissions {
            admin: false,
            push: false,
            pull: true
        })
    );
}

#[tokio::test]
async fn branch_reports_its_head_and_required_contexts() {
    let h = start().await;
    let alice = h.token("alice");
    let master = h
        .client
        .branch(&alice, &repo(PAIPU), "master")
        .await
        .unwrap();
    assert_eq!(master.commit.sha, h.fake.head(PAIPU, "master").unwrap());
    assert!(master.protected);
    assert_eq!(master.required_contexts(), ["ci/circleci"]);
    let feature = h
        .client
        .branch(&alice, &repo(PAIPU), "feature-x")
        .await
        .unwrap();
    assert_eq!(
        (feature.protected, feature.required_contexts()),
        (false, Vec::<String>::new())
    );
    let missing = h
        .client
        .branch(&alice, &repo(PAIPU), "nope")
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(missing.body().unwrap().message, "Branch not found");
}

#[tokio::test]
async fn an_unknown_token_is_unauthorized_and_not_retried() {
    let h = start().await;
    let error = h
        .client
        .user(&SecretString::from("gho_not_a_token"))
        .await
        .unwrap_err();
    assert!(error.is_unauthorized());
    assert!(!error.is_transient());
    let body = error.body().unwrap();
    assert_eq!(body.message, "Bad credentials");
    assert_eq!(
        body.documentation_url.as_deref(),
        Some("https://docs.github.com/rest")
    );
    assert!(
        !error.to_string().contains("gho_"),
        "the token stays out of error texts: {error}"
    );
    assert_eq!(h.count("GET /user"), 1);
}

#[tokio::test]
async fn a_private_repository_without_access_is_not_found_and_not_retried() {
    let h = start().await;
    let bob = h
        .client
        .repo(&h.token("bob"), &repo(PAIPU))
        .await
        .unwrap_err();
    assert!(bob.is_not_found());
    assert_eq!(bob.body().unwrap().message, "Not Found");
    let erin = h
        .client
        .repo(&h.token("erin"), &repo("acme/vault"))
        .await
        .unwrap_err();
    assert!(erin.is_not_found());
    assert_eq!(h.count("GET /repos/heroku/paipu-repo"), 1);
    // Reading a public repository is not writing to it.
    let refused = h
        .client
        .create_deployment(
            &h.token("bob"),
            &repo(ATLAS),
            &deployment("main", "staging"),
        )
        .await;
    assert!(refused.unwrap_err().is_not_found());
}

#[tokio::test]
async fn every_answer_carries_rate_limit_headers() {
    let h = start().await;
    let http = reqwest::Client::builder()
        .user_agent("test")
        .build()
        .unwrap();
    let alice = h.fake.token_for("alice");
    let answer = http
        .get(format!("{}/user", h.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let header = |answer: &reqwest::Response, name: &str| {
        answer.headers()[name].to_str().unwrap().to_owned()
    };
    assert_eq!(
        (
            header(&answer, "x-ratelimit-limit"),
            header(&answer, "x-ratelimit-remaining")
        ),
        ("5000".into(), "4999".into())
    );
    assert_eq!(
        header(&answer, "x-ratelimit-reset"),
        (1_750_000_000 + 3600).to_string()
    );
    assert_eq!(header(&answer, "x-oauth-scopes"), "repo,read:user");
    let refused = http
        .get(format!("{}/user", h.base))
        .bearer_auth("bad")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        (
            header(&refused, "x-ratelimit-limit"),
            header(&refused, "x-ratelimit-remaining")
        ),
        ("60".into(), "59".into())
    );
}

#[tokio::test]
async fn a_spent_budget_is_a_primary_rate_limit() {
    let h = start().await;
    let alice = h.token("alice");
    h.fake.set_rate_limit_remaining("alice", 1);
    h.client.user(&alice).await.unwrap();
    let error = h.client.user(&alice).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        error.rate_limit(),
        Some(RateLimit::Primary {
            reset_at: Some(1_750_000_000 + 3600)
        })
    );
    assert!(error.is_transient());
    assert!(
        error
            .body()
            .unwrap()
            .message
            .starts_with("API rate limit exceeded")
    );
}

#[tokio::test]
async fn the_ci_verdict_reads_statuses_and_check_runs_by_name() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let sha = h.fake.head(PAIPU, "master").unwrap();
    let verdict = |required: Vec<String>| {
        let (client, alice, paipu, sha) = (&h.client, &alice, &paipu, &sha);
        async move {
            client
                .ci_verdict(alice, paipu, sha, &required)
                .await
                .unwrap()
        }
    };
    assert_eq!(verdict(vec!["ci/circleci".into()]).await, CiVerdict::Green);
    assert_eq!(
        verdict(vec!["ci/other".into()]).await,
        CiVerdict::Pending {
            pending: vec!["ci/other".into()]
        }
    );
    h.fake
        .set_status(PAIPU, &sha, "ci/circleci", CiState::Pending)
        .unwrap();
    assert_eq!(
        verdict(vec![]).await,
        CiVerdict::Pending {
            pending: vec!["ci/circleci".into()]
        }
    );
    h.fake
        .set_check_run(PAIPU, &sha, "build", CiState::Red)
        .unwrap();
    let red = CiVerdict::Red {
        failing: vec!["build".into()],
        pending: vec!["ci/circleci".into()],
    };
    assert_eq!(verdict(vec![]).await, red);
    h.fake.set_ci(PAIPU, &sha, CiState::Green).unwrap();
    assert_eq!(
        verdict(vec!["ci/circleci".into(), "build".into()]).await,
        CiVerdict::Green
    );
}

#[tokio::test]
async fn combined_status_keeps_the_latest_status_per_context() {
    let h = start().await;
    let sha = h.fake.head(PAIPU, "master").unwrap();
    h.fake
        .set_status(PAIPU, "master", "ci/circleci", CiState::Red)
        .unwrap();
    h.fake
        .set_status(PAIPU, "master", "codeclimate", CiState::Green)
        .unwrap();
    let combined = h
        .client
        .combined_status(&h.token("alice"), &repo(PAIPU), "master")
        .await
        .unwrap();
    assert_eq!(
        (combined.state, combined.sha.as_str(), combined.total_count),
        (StatusState::Failure, sha.as_str(), 2)
    );
    let states: Vec<(&str, StatusState)> = combined
        .statuses
        .iter()
        .map(|s| (s.context.as_str(), s.state))
        .collect();
    assert_eq!(
        states,
        [
            ("codeclimate", StatusState::Success),
            ("ci/circleci", StatusState::Failure)
        ]
    );
}

#[tokio::test]
async fn check_runs_are_read_across_pages() {
    let h = start().await;
    let sha = h.fake.head(ATLAS, "main").unwrap();
    for n in 0..150 {
        h.fake
            .set_check_run(ATLAS, &sha, &format!("lint-{n:03}"), CiState::Green)
            .unwrap();
    }
    let runs = h
        .client
        .check_runs(&h.token("alice"), &repo(ATLAS), &sha)
        .await
        .unwrap();
    assert_eq!(runs.len(), 151);
    assert_eq!(
        (runs[0].name.as_str(), runs[150].name.as_str()),
        ("build", "lint-149")
    );
    assert!(
        runs.iter()
            .all(|run| run.head_sha == sha && run.conclusion == Some(CheckConclusion::Success))
    );
    assert_eq!(
        h.count(&format!("GET /repos/acme/atlas/commits/{sha}/check-runs")),
        2
    );
}

#[tokio::test]
async fn the_tarball_link_is_read_not_followed_and_serves_a_real_tarball() {
    let h = start().await;
    let sha = h.fake.head(PAIPU, "master").unwrap();
    let location = h
        .client
        .tarball_url(&h.token("alice"), &repo(PAIPU), &sha)
        .await
        .unwrap();
    let prefix = format!(
        "{}/codeload/heroku/paipu-repo/legacy.tar.gz/{sha}?token=",
        h.base
    );
    assert!(location.starts_with(&prefix), "{location}");
    assert_eq!(
        h.count(&format!(
            "GET /codeload/heroku/paipu-repo/legacy.tar.gz/{sha}"
        )),
        0
    );
    let gzipped = reqwest::get(&location)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&gzipped[..]));
    let top = format!("heroku-paipu-repo-{}/", &sha[..7]);
    let mut paths = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path.ends_with("REVISION") {
            let mut revision = String::new();
            entry.read_to_string(&mut revision).unwrap();
            assert_eq!(revision, format!("{sha}\n"));
        }
        paths.push(path);
    }
    let expected =
        ["", "bin/", "Procfile", "bin/web", "README.md", "REVISION"].map(|p| format!("{top}{p}"));
    assert_eq!(paths, expected);
}

#[tokio::test]
async fn a_tarball_link_expires_after_five_minutes() {
    let h = start().await;
    let sha = h.fake.head(PAIPU, "master").unwrap();
    let location = h
        .client
        .tarball_url(&h.token("alice"), &repo(PAIPU), &sha)
        .await
        .unwrap();
    h.advance(299);
    assert_eq!(reqwest::get(&location).await.unwrap().status(), 200);
    h.advance(1);
    assert_eq!(reqwest::get(&location).await.unwrap().status(), 404);
    let forged = location.replace("token=", "token=x");
    h.advance(-300);
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_deployment_is_created_and_its_statuses_recorded_in_order() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let DeploymentOutcome::Created(created) = h
        .client
        .create_deployment(&alice, &paipu, &deployment("master", "staging"))
        .await
        .unwrap()
    else {
        panic!("a green, up-to-date master deploys");
    };
    assert_eq!(created.sha, h.fake.head(PAIPU, "master").unwrap());
    assert_eq!(
        (created.git_ref.as_str(), created.environment.as_str()),
        ("master", "staging")
    );
    assert_eq!(
        (
            created.production_environment,
            created.creator.as_ref().unwrap().login.as_str()
        ),
        (false, "alice")
    );
    assert_eq!(
        created.payload,
        json!({"notify": {"room": "C123", "user": "U42"}})
    );
    for (state, description) in [
        (DeploymentState::InProgress, "Build running."),
        (DeploymentState::Success, "Deployed"),
    ] {
        let status = NewDeploymentStatus {
            state,
            log_url: Some("https://dashboard.heroku.com/apps/paipu-staging/activity".into()),
            environment_url: Some("https://paipu-staging.herokuapp.com".into()),
            description: Some(description.into()),
            auto_inactive: None,
        };
        let posted = h
            .client
            .create_deployment_status(&alice, &paipu, created.id, &status)
            .await
            .unwrap();
        assert_eq!(
            (posted.state, posted.environment.as_deref()),
            (state, Some("staging"))
        );
    }
    let listed = h
        .client
        .deployment_statuses(&alice, &paipu, created.id)
        .await
        .unwrap();
    let states: Vec<DeploymentState> = listed.iter().map(|status| status.state).collect();
    assert_eq!(
        states,
        [DeploymentState::Success, DeploymentState::InProgress]
    );
    let recorded = h.fake.deployments(PAIPU).unwrap();
    let recorded_states: Vec<&str> = recorded[0]
        .statuses
        .iter()
        .map(|status| status.state.as_str())
        .collect();
    assert_eq!(
        (recorded.len(), recorded_states),
        (1, vec!["in_progress", "success"])
    );
    let staging = h
        .client
        .deployments(&alice, &paipu, Some("staging"))
        .await
        .unwrap();
    assert_eq!(
        staging.iter().map(|d| d.id).collect::<Vec<_>>(),
        [created.id]
    );
    assert!(
        h.client
            .deployments(&alice, &paipu, Some("production"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// 251 deployments of paipu to staging a second apart, the oldest marked, among
/// promotions and production deployments; returns the marked one's creation time.
async fn crowded_staging(h: &Harness) -> i64 {
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let marked_at = h.now.load(Ordering::SeqCst);
    let create = async |request: NewDeployment| {
        let outcome = h.client.create_deployment(&alice, &paipu, &request).await;
        assert!(
            matches!(outcome, Ok(DeploymentOutcome::Created(_))),
            "{outcome:?}"
        );
    };
    let marked = NewDeployment {
        payload: json!({"chatops_deploy": "T1.7.1"}),
        ..deployment("master", "staging")
    };
    create(marked).await;
    for n in 0..250 {
        h.advance(1);
        create(deployment("master", "staging")).await;
        if n % 10 == 0 {
            create(deployment("master", "production")).await;
            let promotion = NewDeployment {
                task: "promote".into(),
                ..deployment("master", "staging")
            };
            create(promotion).await;
        }
    }
    marked_at
}

#[tokio::test]
async fn a_deployment_is_found_pages_back_and_the_search_stops_at_its_start() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let marked_at = crowded_staging(&h).await;
    let search = |since: i64| DeploymentSearch {
        environment: "staging",
        task: "deploy",
        since: since * 1000,
    };
    let marked = |d: &Deployment| d.payload["chatops_deploy"] == "T1.7.1";
    let list = "GET /repos/heroku/paipu-repo/deployments";
    let found = h
        .client
        .find_deployment(&alice, &paipu, search(marked_at), marked)
        .await
        .unwrap()
        .expect("the marked deployment, on the third page");
    assert_eq!(
        (found.environment.as_str(), found.task.as_str()),
        ("staging", "deploy")
    );
    assert_eq!(h.count(list), 3);
    // Searching from 200 s after it, the first page (the newest 100, from 151 s on)
    // already reaches back far enough.
    let missing = h
        .client
        .find_deployment(&alice, &paipu, search(marked_at + 200), marked)
        .await
        .unwrap();
    assert!(missing.is_none());
    assert_eq!(h.count(list), 4);
}

#[tokio::test]
async fn failing_required_statuses_refuse_the_deployment_with_409() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    h.fake
        .set_status(PAIPU, "master", "ci/circleci", CiState::Red)
        .unwrap();
    let outcome = h
        .client
        .create_deployment(&alice, &paipu, &deployment("master", "staging"))
        .await
        .unwrap();
    let refused = DeploymentOutcome::ChecksFailed {
        message: "Conflict: Commit status checks failed for master.".into(),
        contexts: vec![ContextState {
            context: "ci/circleci".into(),
            state: "failure".into(),
        }],
    };
    assert_eq!(outcome, refused);
    assert!(h.fake.deployments(PAIPU).unwrap().is_empty());
    // Check runs do not count for the deployments API, as on GitHub.
    h.fake
        .set_status(PAIPU, "master", "ci/circleci", CiState::Green)
        .unwrap();
    h.fake
        .set_check_run(PAIPU, "master", "build", CiState::Red)
        .unwrap();
    let outcome = h
        .client
        .create_deployment(&alice, &paipu, &deployment("master", "staging"))
        .await
        .unwrap();
    assert!(matches!(outcome, DeploymentOutcome::Created(_)));
}

#[tokio::test]
async fn auto_merge_of_a_branch_behind_the_default_answers_202_and_creates_nothing() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let behind = h.fake.head(PAIPU, "feature-x").unwrap();
    let on_sha = NewDeployment {
        auto_merge: true,
        ..deployment(&behind, "staging")
    };
    let conflict = h
        .client
        .create_deployment(&alice, &paipu, &on_sha)
        .await
        .unwrap();
    let message = format!("Conflict merging master into {behind}.");
    assert_eq!(conflict, DeploymentOutcome::MergeConflict { message });
    let request = NewDeployment {
        auto_merge: true,
        ..deployment("feature-x", "staging")
    };
    let outcome = h
        .client
        .create_deployment(&alice, &paipu, &request)
        .await
        .unwrap();
    let message = "Auto-merged master into feature-x on deployment.".to_owned();
    assert_eq!(outcome, DeploymentOutcome::AutoMerged { message });
    assert!(h.fake.deployments(PAIPU).unwrap().is_empty());
    let merged = h.fake.head(PAIPU, "feature-x").unwrap();
    let comparison = h
        .client
        .compare(&alice, &paipu, "master", &merged)
        .await
        .unwrap();
    assert_eq!(
        (comparison.status, comparison.ahead_by, comparison.behind_by),
        (CompareStatus::Ahead, 3, 0)
    );
    let again = h
        .client
        .create_deployment(&alice, &paipu, &request)
        .await
        .unwrap();
    assert!(matches!(again, DeploymentOutcome::Created(created) if created.sha == merged));
}

#[tokio::test]
async fn invalid_bodies_get_githubs_422() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let unknown = h
        .client
        .create_deployment(&alice, &paipu, &deployment("no-such-ref", "staging"))
        .await
        .unwrap_err();
    assert_eq!(unknown.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(
        unknown.body().unwrap().message,
        "No ref found for: no-such-ref"
    );
    let Ok(DeploymentOutcome::Created(created)) = h
        .client
        .create_deployment(&alice, &paipu, &deployment("master", "qa"))
        .await
    else {
        panic!("master deploys");
    };
    let long = NewDeploymentStatus {
        state: DeploymentState::Success,
        log_url: None,
        environment_url: None,
        description: Some("x".repeat(141)),
        auto_inactive: Some(false),
    };
    let error = h
        .client
        .create_deployment_status(&alice, &paipu, created.id, &long)
        .await
        .unwrap_err();
    let body = error.body().unwrap();
    assert_eq!(
        (error.status().map(|s| s.as_u16()), body.message.as_str()),
        (Some(422), "Validation Failed")
    );
    assert_eq!(body.errors[0]["field"], "description");
    assert_eq!(
        h.count(&format!(
            "POST /repos/heroku/paipu-repo/deployments/{}/statuses",
            created.id
        )),
        1
    );
}

#[tokio::test]
async fn compare_lists_exactly_the_new_commits_oldest_first() {
    let h = start().await;
    let (alice, atlas) = (h.token("alice"), repo(ATLAS));
    let base = h.fake.head(ATLAS, "main").unwrap();
    let first = h
        .fake
        .push_commit(ATLAS, "main", "Add the legend", "erin")
        .unwrap();
    let second = h
        .fake
        .push_commit(
            ATLAS,
            "main",
            "Fix the scale\n\nIt was off by ten.",
            "alice",
        )
        .unwrap();
    let comparison = h
        .client
        .compare(&alice, &atlas, &base, &second)
        .await
        .unwrap();
    assert_eq!(
        (
            comparison.status,
            comparison.ahead_by,
            comparison.behind_by,
            comparison.total_commits
        ),
        (CompareStatus::Ahead, 2, 0, 2)
    );
    let shas: Vec<&str> = comparison.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, [first.as_str(), second.as_str()]);
    let first_commit = &comparison.commits[0];
    assert_eq!(first_commit.commit.message, "Add the legend");
    let author = first_commit.commit.author.as_ref().unwrap();
    assert_eq!(
        (author.name.as_str(), author.email.as_str()),
        ("Erin Engineer", "erin@example.com")
    );
    assert_eq!(first_commit.author.as_ref().unwrap().login, "erin");
    let back = h
        .client
        .compare(&alice, &atlas, &second, &base)
        .await
        .unwrap();
    assert_eq!(
        (
            back.status,
            back.ahead_by,
            back.behind_by,
            back.commits.len()
        ),
        (CompareStatus::Behind, 0, 2, 0)
    );
    let diverged = h
        .client
        .compare(&alice, &repo(PAIPU), "master", "feature-x")
        .await
        .unwrap();
    assert_eq!(
        (diverged.status, diverged.ahead_by, diverged.behind_by),
        (CompareStatus::Diverged, 2, 1)
    );
}

/// Walks the authorize page as a person would: open it, press "Authorize as alice",
/// and return the code the redirect carries.
async fn authorize_as(h: &Harness, login: &str, redirect_uri: &str) -> String {
    let challenge = s256(VERIFIER);
    let url = h.oauth(OAUTH_CLIENT_SECRET).authorize_url(
        "st4te",
        &["repo", "read:user"],
        redirect_uri,
        &challenge,
    );
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(
        page.contains(&format!("value=\"{login}\">Authorize as {login}</button>")),
        "{page}"
    );
    assert!(page.contains("name=\"state\" value=\"st4te\""));
    let form = [
        ("client_id", OAUTH_CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("scope", "repo read:user"),
        ("state", "st4te"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("login", login),
    ];
    let http = http_client(Duration::from_secs(2));
    let pressed = http
        .post(format!("{}/login/oauth/authorize", h.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 302);
    let location = reqwest::Url::parse(pressed.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect_uri));
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("st4te"));
    param("code").expect("a code")
}

const CALLBACK: &str = "http://127.0.0.1:9/auth/github/callback";

/// The PKCE verifier the exchanges send, and its S256 challenge.
const VERIFIER: &str = "a-pkce-verifier-of-at-least-forty-three-characters";

fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

#[tokio::test]
async fn a_code_is_refused_with_a_wrong_pkce_verifier_and_kept_for_the_right_one() {
    let h = start().await;
    let code = authorize_as(&h, "erin", CALLBACK).await;
    let oauth = h.oauth(OAUTH_CLIENT_SECRET);
    let stolen = oauth
        .exchange_code(&code, CALLBACK, "someone-elses-verifier")
        .await
        .unwrap_err();
    assert_eq!(
        stolen.to_string(),
        "GitHub refused the OAuth exchange: bad_verification_code: \
         The code_verifier does not match the code_challenge."
    );
    let token = oauth
        .exchange_code(&code, CALLBACK, VERIFIER)
        .await
        .unwrap();
    assert_eq!(
        h.client.user(&token.access_token).await.unwrap().login,
        "erin"
    );
}

#[tokio::test]
async fn the_oauth_flow_links_the_account_and_refuses_a_reused_code() {
    let h = start().await;
    let code = authorize_as(&h, "erin", CALLBACK).await;
    let oauth = h.oauth(OAUTH_CLIENT_SECRET);
    let token = oauth
        .exchange_code(&code, CALLBACK, VERIFIER)
        .await
        .unwrap();
    assert_eq!(
        (token.token_type.as_str(), token.scopes.clone()),
        ("bearer", vec!["repo".into(), "read:user".into()])
    );
    assert_eq!(
        h.client.user(&token.access_token).await.unwrap().login,
        "erin"
    );
    let reused = oauth
        .exchange_code(&code, CALLBACK, VERIFIER)
        .await
        .unwrap_err();
    assert!(
        matches!(reused, GitHubError::OAuth { ref error, .. } if error == "bad_verification_code"),
        "{reused}"
    );
}

#[tokio::test]
async fn the_exchange_refuses_a_wrong_secret_and_an_expired_code() {
    let h = start().await;
    let code = authorize_as(&h, "alice", CALLBACK).await;
    let wrong = h
        .oauth("not-the-secret")
        .exchange_code(&code, CALLBACK, VERIFIER)
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, GitHubError::OAuth { ref error, .. } if error == "incorrect_client_credentials"),
        "{wrong}"
    );
    assert!(!wrong.to_string().contains("not-the-secret"));
    h.advance(10 * 60);
    let expired = h
        .oauth(OAUTH_CLIENT_SECRET)
        .exchange_code(&code, CALLBACK, VERIFIER)
        .await
        .unwrap_err();
    assert!(
        matches!(expired, GitHubError::OAuth { ref error, .. } if error == "bad_verification_code"),
        "{expired}"
    );
}

#[tokio::test]
async fn a_revoked_token_is_unauthorized() {
    let h = start().await;
    let code = authorize_as(&h, "alice", CALLBACK).await;
    let oauth = h.oauth(OAUTH_CLIENT_SECRET);
    let token = oauth
        .exchange_code(&code, CALLBACK, VERIFIER)
        .await
        .unwrap()
        .access_token;
    h.client.user(&token).await.unwrap();
    oauth.revoke(&token).await.unwrap();
    assert!(h.client.user(&token).await.unwrap_err().is_unauthorized());
    assert!(oauth.revoke(&token).await.unwrap_err().is_not_found());
    let other = h.token("bob");
    assert!(
        h.oauth("wrong")
            .revoke(&other)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    assert_eq!(
        h.client.user(&other).await.unwrap().login,
        "bob",
        "a refused revoke revokes nothing"
    );
}

#[tokio::test]
async fn gets_are_retried_through_5xx_hangs_and_drops() {
    let h = start().await;
    let alice = h.token("alice");
    let faults = &h.fake.faults;
    faults.inject(FaultRule::failing(
        Method::GET,
        "/repos/heroku/paipu-repo",
        Failure::Status(502),
        2,
    ));
    assert_eq!(
        h.client
            .repo(&alice, &repo(PAIPU))
            .await
            .unwrap()
            .default_branch,
        "master"
    );
    assert_eq!(h.count("GET /repos/heroku/paipu-repo"), 3);
    faults.inject(FaultRule::failing(Method::GET, "/user", Failure::Hang, 1));
    faults.inject(FaultRule::failing(Method::GET, "/user", Failure::Drop, 1));
    assert_eq!(h.client.user(&alice).await.unwrap().login, "alice");
    assert_eq!(h.count("GET /user"), 3);
}

#[tokio::test]
async fn persistent_failures_end_as_unavailable_or_rate_limited() {
    let h = start().await;
    let alice = h.token("alice");
    h.fake.faults.inject(FaultRule::failing(
        Method::GET,
        "/user",
        Failure::Status(503),
        3,
    ));
    let error = h.client.user(&alice).await.unwrap_err();
    assert!(
        matches!(error, GitHubError::Unavailable { .. }) && error.is_transient(),
        "{error}"
    );
    h.fake.faults.inject(FaultRule::failing(
        Method::GET,
        "/user",
        Failure::RateLimited {
            retry_after_secs: 0,
        },
        3,
    ));
    let limited = h.client.user(&alice).await.unwrap_err();
    assert_eq!(
        limited.rate_limit(),
        Some(RateLimit::Secondary {
            retry_after: Duration::ZERO
        })
    );
    assert_eq!(h.count("GET /user"), 6);
}

#[tokio::test]
async fn a_deployment_post_is_never_repeated_after_github_acted() {
    let h = start().await;
    let (alice, paipu) = (h.token("alice"), repo(PAIPU));
    let rule = FaultRule::failing(
        Method::POST,
        "/repos/heroku/paipu-repo/deployments",
        Failure::Status(500),
        1,
    );
    h.fake.faults.inject(rule.after_handling());
    let error = h
        .client
        .create_deployment(&alice, &paipu, &deployment("master", "staging"))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(h.fake.deployments(PAIPU).unwrap().len(), 1);
    assert_eq!(h.count("POST /repos/heroku/paipu-repo/deployments"), 1);
    // A 429 proves GitHub did nothing, so that one is retried.
    let limited = FaultRule::failing(
        Method::POST,
        "/repos/heroku/paipu-repo/deployments",
        Failure::RateLimited {
            retry_after_secs: 0,
        },
        1,
    );
    h.fake.faults.inject(limited);
    let outcome = h
        .client
        .create_deployment(&alice, &paipu, &deployment("master", "production"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, DeploymentOutcome::Created(created) if created.production_environment)
    );
    assert_eq!(h.fake.deployments(PAIPU).unwrap().len(), 2);
}
