//! The Heroku client against the fake Heroku over real HTTP on loopback: every call,
//! Heroku's refusals (401, 403, 404, 2FA, 422), pagination, rate limits, retries under
//! injected faults, a whole deploy, promotions, rollbacks, OAuth and signed webhooks.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::routing::{get, post};
use base64::Engine;
use chatops::heroku::*;
use chatops::outbound::{RetryPolicy, http_client};
use chatops_fakes::heroku::{FakeHeroku, TWO_FACTOR_MESSAGE, Timings};
use chatops_fakes::{Failure, FaultRule};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const ERIN: &str = "erin@example.com";
const SHA: &str = "576d16a9e0b8a8a2c9c6e4b0d3f1a2b3c4d5e6f7";
/// The smallest valid gzip stream (empty content): what the fake checks a tarball for.
const GZIP: &[u8] = &[
    0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

struct Harness {
    fake: FakeHeroku,
    url: String,
    client: HerokuClient,
    /// Serves source tarballs, as GitHub's codeload does.
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

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

async fn start() -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let fake = FakeHeroku::seeded(&url);
    fake.set_timings(Timings::FAST);
    let router = fake.router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serving") });
    let source =
        serve(Router::new().route("/acme/{repo}/legacy.tar.gz/{sha}", get(|| async { GZIP })))
            .await;
    let client = HerokuClient::new(http_client(Duration::from_millis(300)), &url, fast_retry());
    Harness {
        fake,
        url,
        client,
        source,
    }
}

impl Harness {
    fn token(&self, email: &str) -> SecretString {
        self.fake.token_for(email).into()
    }

    fn source_blob(&self, repo: &str) -> NewSourceBlob {
        NewSourceBlob {
            url: format!("{}/acme/{repo}/legacy.tar.gz/{SHA}", self.source),
            version: SHA.into(),
            version_description: Some(format!("acme/{repo}:{SHA}")),
        }
    }

    async fn settled_build(&self, token: &SecretString, app: &str, id: &str) -> Build {
        eventually("the build to finish", || async {
            Some(self.client.build(token, app, id).await.unwrap())
                .filter(|build| build.status != BuildStatus::Pending)
        })
        .await
    }

    async fn settled_release(&self, token: &SecretString, app: &str, id: &str) -> Release {
        eventually("the release phase to end", || async {
            Some(self.client.release(token, app, id).await.unwrap())
                .filter(|release| release.status != ReleaseStatus::Pending)
        })
        .await
    }

    /// The formation's dynos once all of them run `release_id` and none is starting.
    async fn restarted(&self, token: &SecretString, app: &str, release_id: &str) -> Vec<Dyno> {
        eventually("the dynos to restart", || async {
            let dynos: Vec<Dyno> = self
                .client
                .dynos(token, app)
                .await
                .unwrap()
                .into_iter()
                .filter(|dyno| !dyno.is_one_off())
                .collect();
            let settled = dynos
                .iter()
                .all(|dyno| dyno.release.id == release_id && dyno.state != DynoState::Starting);
            Some(dynos).filter(|_| settled)
        })
        .await
    }
}

/// Polls `probe` every 10 ms until it answers, for at most five seconds.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn account_and_rate_limit_budget() {
    let h = start().await;
    let alice = h.token(ALICE);
    h.fake.set_rate_limit_remaining(ALICE, 100);
    let account = h.client.account(&alice).await.unwrap();
    assert_eq!(
        (account.email.as_str(), account.name.as_deref()),
        (ALICE, Some("Alice Anders"))
    );
    assert!(account.two_factor_authentication);
    assert_eq!(
        account.default_team.map(|team| team.name).as_deref(),
        Some("acme")
    );
    assert_eq!(h.client.rate_limit_remaining(), Some(99));
    // Reading the budget is free: it still says 99.
    assert_eq!(h.client.rate_limits(&alice).await.unwrap().remaining, 99);
    assert_eq!(h.client.rate_limit_remaining(), Some(99));
    h.client.app(&alice, "paipu-app-staging").await.unwrap();
    assert_eq!(h.client.rate_limit_remaining(), Some(98));
}

#[tokio::test]
async fn pipelines_couplings_and_apps() {
    let h = start().await;
    let alice = h.token(ALICE);
    let mut names: Vec<String> = h
        .client
        .pipelines(&alice)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    assert_eq!(names, ["atlas", "paipu", "vault"]);
    let erin = h.token(ERIN);
    let erins: Vec<String> = h
        .client
        .pipelines(&erin)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(erins, ["vault"]);

    let atlas = h.client.pipeline(&alice, "atlas").await.unwrap();
    assert_eq!(h.client.pipeline(&alice, &atlas.id).await.unwrap(), atlas);
    assert_eq!(
        atlas.owner.as_ref().map(|owner| owner.kind.as_str()),
        Some("team")
    );
    let couplings = h
        .client
        .pipeline_couplings(&alice, &atlas.id)
        .await
        .unwrap();
    let mut production: Vec<String> = couplings
        .iter()
        .filter(|c| c.stage == Stage::Production)
        .map(|c| c.app.id.clone())
        .collect();
    production.sort();
    let mut expected = vec![h.fake.app("atlas-eu").id, h.fake.app("atlas-us").id];
    expected.sort();
    assert_eq!(production, expected);
    assert_eq!(
        couplings
            .iter()
            .filter(|c| c.stage == Stage::Staging)
            .count(),
        1
    );
    assert!(couplings.iter().all(|c| c.pipeline.id == atlas.id));
    // Couplings are listed by pipeline id only.
    assert!(
        h.client
            .pipeline_couplings(&alice, "atlas")
            .await
            .unwrap_err()
            .is_not_found()
    );

    let paipu = h.client.pipeline(&alice, "paipu").await.unwrap();
    let stages: Vec<Stage> = h
        .client
        .pipeline_couplings(&alice, &paipu.id)
        .await
        .unwrap()
        .iter()
        .map(|c| c.stage)
        .collect();
    assert!(
        stages.contains(&Stage::Test)
            && stages.contains(&Stage::Staging)
            && stages.contains(&Stage::Production)
    );

    let app = h.client.app(&alice, "paipu-app-staging").await.unwrap();
    assert_eq!(app.id, h.fake.app("paipu-app-staging").id);
    assert_eq!(
        h.client.app(&alice, &app.id).await.unwrap().name,
        "paipu-app-staging"
    );
    assert_eq!(app.team.map(|team| team.name).as_deref(), Some("acme"));
    assert_eq!(
        (app.region.name.as_str(), app.owner.email.as_str()),
        ("us", "acme@herokumanager.com")
    );
    let vault = h.client.app(&erin, "vault-app-production").await.unwrap();
    assert_eq!((vault.team, vault.owner.email.as_str()), (None, ERIN));
}

#[tokio::test]
async fn no_access_is_answered_as_heroku_does_and_never_retried() {
    let h = start().await;
    let bob = h.token(BOB);
    assert!(h.client.pipelines(&bob).await.unwrap().is_empty());
    let hidden = h.client.pipeline(&bob, "paipu").await.unwrap_err();
    assert!(hidden.is_not_found(), "{hidden}");
    assert_eq!(
        hidden.body().map(|b| (b.id.as_str(), b.message.as_str())),
        Some(("not_found", "Couldn't find that pipeline."))
    );
    let forbidden = h.client.app(&bob, "paipu-app-staging").await.unwrap_err();
    assert!(
        forbidden.is_forbidden() && !forbidden.is_transient(),
        "{forbidden}"
    );
    assert_eq!(
        forbidden.body().unwrap().message,
        "You do not have access to the app paipu-app-staging."
    );
    assert_eq!(h.fake.count_requests("GET", "/apps/paipu-app-staging"), 1);
    let erin = h.token(ERIN);
    assert!(
        h.client
            .app(&erin, "paipu-app-production")
            .await
            .unwrap_err()
            .is_forbidden()
    );
    assert!(
        h.client
            .app(&erin, "no-such-app")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let build = h
        .client
        .create_build(&bob, "paipu-app-staging", &h.source_blob("paipu"), None)
        .await
        .unwrap_err();
    assert!(build.is_forbidden());
    assert_eq!(h.fake.builds("paipu-app-staging").len(), 228);
}

#[tokio::test]
async fn unknown_and_expired_tokens_are_unauthorized() {
    let h = start().await;
    let bogus: SecretString = "HRKU-not-a-token".to_owned().into();
    let error = h.client.account(&bogus).await.unwrap_err();
    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(
        error.body().unwrap().message,
        "Invalid credentials provided."
    );
    assert!(!error.to_string().contains("HRKU-not-a-token"));
    h.fake.set_token_lifetime(Duration::ZERO);
    let expired = h.token(ALICE);
    assert!(
        h.client
            .account(&expired)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    assert_eq!(h.fake.count_requests("GET", "/account"), 2);
}

#[tokio::test]
async fn protected_apps_need_the_second_factor() {
    let h = start().await;
    let erin = h.token(ERIN);
    let app = "vault-app-production";
    let blob = h.source_blob("vault");
    for code in [None, Some("000000")] {
        let error = h
            .client
            .create_build(&erin, app, &blob, code)
            .await
            .unwrap_err();
        assert!(error.is_two_factor() && !error.is_forbidden(), "{error}");
        let body = error.body().unwrap();
        assert_eq!(
            (body.message.as_str(), body.url.as_deref()),
            (
                TWO_FACTOR_MESSAGE,
                Some("https://devcenter.heroku.com/articles/two-factor-authentication")
            )
        );
    }
    assert_eq!(h.fake.builds(app).len(), 5);
    let build = h
        .client
        .create_build(&erin, app, &blob, Some(FakeHeroku::TWO_FACTOR_CODE))
        .await
        .unwrap();
    assert_eq!(build.status, BuildStatus::Pending);
    assert_eq!(h.fake.builds(app).len(), 6);
    // Reading a protected app needs no second factor.
    assert_eq!(h.client.app(&erin, app).await.unwrap().name, app);
}

#[tokio::test]
async fn a_build_without_a_source_url_is_invalid() {
    let h = start().await;
    let alice = h.token(ALICE);
    let blob = NewSourceBlob {
        url: String::new(),
        ..h.source_blob("paipu")
    };
    let error = h
        .client
        .create_build(&alice, "paipu-app-staging", &blob, None)
        .await
        .unwrap_err();
    assert!(error.is_invalid_params(), "{error}");
    assert_eq!(
        error.body().map(|b| (b.id.as_str(), b.message.as_str())),
        Some(("invalid_params", "source_blob.url is required."))
    );
    assert_eq!(
        h.fake
            .count_requests("POST", "/apps/paipu-app-staging/builds"),
        1
    );
    assert_eq!(h.fake.builds("paipu-app-staging").len(), 228);
}

#[tokio::test]
async fn a_deploy_builds_releases_and_restarts() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "paipu-app-staging";
    let build = h
        .client
        .create_build(&alice, app, &h.source_blob("paipu"), None)
        .await
        .unwrap();
    assert_eq!(
        (build.status, build.release.as_ref()),
        (BuildStatus::Pending, None)
    );
    assert_eq!(build.source_blob.version.as_deref(), Some(SHA));
    assert_eq!(build.user.email, ALICE);
    let build = h.settled_build(&alice, app, &build.id).await;
    assert_eq!(build.status, BuildStatus::Succeeded);
    let slug = h
        .client
        .slug(&alice, app, &build.slug.unwrap().id)
        .await
        .unwrap();
    assert_eq!(slug.commit.as_deref(), Some(SHA));
    let log = h
        .client
        .output_stream(build.output_stream_url.as_deref().unwrap())
        .await
        .unwrap();
    assert!(log.starts_with("-----> Building on the Heroku-24 stack\n-----> Using buildpack: heroku/ruby\n-----> Ruby app detected\n"), "{log}");
    let web_url = h.client.app(&alice, app).await.unwrap().web_url.unwrap();
    assert!(
        log.ends_with(&format!(
            "       Released v231\n       {web_url} deployed to Heroku\n"
        )),
        "{log}"
    );

    let release_id = build.release.unwrap().id;
    let release = h.settled_release(&alice, app, &release_id).await;
    assert_eq!(
        (release.status, release.version, release.current),
        (ReleaseStatus::Succeeded, 231, true)
    );
    assert_eq!(release.description, "Deploy 576d16a");
    let phase = h
        .client
        .output_stream(release.output_stream_url.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        phase.starts_with("Running release command: bundle exec rake db:migrate\n"),
        "{phase}"
    );
    assert_eq!(
        h.client.release(&alice, app, "231").await.unwrap().id,
        release_id
    );

    let dynos = h.restarted(&alice, app, &release_id).await;
    let mut names: Vec<&str> = dynos.iter().map(|dyno| dyno.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["web.1", "web.2", "worker.1"]);
    assert!(
        dynos
            .iter()
            .all(|dyno| dyno.state == DynoState::Up && dyno.release.version == 231)
    );
    assert_eq!(
        h.client.releases(&alice, app, 1).await.unwrap()[0].id,
        release_id
    );
    let recorded = h.fake.builds(app).pop().unwrap();
    assert_eq!(
        recorded.source_blob.version_description.as_deref(),
        Some(format!("acme/paipu:{SHA}").as_str())
    );
}

#[tokio::test]
async fn lists_follow_next_range_across_pages() {
    let h = start().await;
    let alice = h.token(ALICE);
    let builds = h.client.builds(&alice, "paipu-app-staging").await.unwrap();
    assert_eq!(builds.len(), 228);
    let mut ids: Vec<&str> = builds.iter().map(|build| build.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 228, "no build twice");
    // 200 on the first page (206), 28 on the second (200).
    assert_eq!(
        h.fake
            .count_requests("GET", "/apps/paipu-app-staging/builds"),
        2
    );
    let versions: Vec<u64> = h
        .client
        .releases(&alice, "paipu-app-staging", 5)
        .await
        .unwrap()
        .iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, [230, 229, 228, 227, 226]);
    let all = h
        .client
        .releases(&alice, "paipu-app-staging", 500)
        .await
        .unwrap();
    assert_eq!((all.len(), all[0].version, all[229].version), (230, 230, 1));
    assert!(all[0].current && !all[1].current);
}

#[tokio::test]
async fn a_failing_build_explains_itself_in_its_log_tail() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "paipu-app-staging";
    h.fake.fail_next_build(app);
    let build = h
        .client
        .create_build(&alice, app, &h.source_blob("paipu"), None)
        .await
        .unwrap();
    let build = h.settled_build(&alice, app, &build.id).await;
    assert_eq!(
        (build.status, build.release, build.slug),
        (BuildStatus::Failed, None, None)
    );
    let tail = h
        .client
        .output_tail(build.output_stream_url.as_deref().unwrap(), 2)
        .await
        .unwrap();
    assert_eq!(
        tail,
        " !     Push rejected, failed to compile Ruby app.\n !     Push failed"
    );
    assert_eq!(h.fake.releases(app).len(), 230);
}

#[tokio::test]
async fn a_build_whose_source_cannot_be_fetched_fails_with_a_clear_line() {
    let h = start().await;
    let alice = h.token(ALICE);
    let blob = NewSourceBlob {
        url: format!("{}/missing.tar.gz?token=SECRET", h.source),
        ..h.source_blob("paipu")
    };
    let build = h
        .client
        .create_build(&alice, "paipu-app-staging", &blob, None)
        .await
        .unwrap();
    let build = h
        .settled_build(&alice, "paipu-app-staging", &build.id)
        .await;
    assert_eq!(build.status, BuildStatus::Failed);
    let tail = h
        .client
        .output_tail(build.output_stream_url.as_deref().unwrap(), 2)
        .await
        .unwrap();
    let expected = format!(
        " !     Unable to fetch source from {}/missing.tar.gz: the server answered HTTP 404 Not Found\n !     Push failed",
        h.source
    );
    assert_eq!(tail, expected);
}

#[tokio::test]
async fn rate_limits_are_retried_and_reported() {
    let h = start().await;
    let bob = h.token(BOB);
    h.fake.faults.inject(FaultRule::failing(
        Method::GET,
        "/account",
        Failure::RateLimited {
            retry_after_secs: 0,
        },
        1,
    ));
    assert_eq!(h.client.account(&bob).await.unwrap().email, BOB);
    assert_eq!(h.fake.count_requests("GET", "/account"), 2);

    h.fake.set_rate_limit_remaining(BOB, 0);
    let error = h.client.pipelines(&bob).await.unwrap_err();
    assert!(error.is_rate_limited() && error.is_transient(), "{error}");
    assert_eq!(error.id(), Some("rate_limit"));
    assert_eq!(
        h.fake.count_requests("GET", "/pipelines"),
        3,
        "retried until the attempts ran out"
    );
    assert_eq!(h.client.rate_limit_remaining(), Some(0));
}

#[tokio::test]
async fn reads_are_retried_through_5xx_hangs_and_drops() {
    let h = start().await;
    let alice = h.token(ALICE);
    let path = "/apps/paipu-app-staging";
    let faults = [
        (Failure::Status(503), 2),
        (Failure::Hang, 1),
        (Failure::Drop, 1),
    ];
    for (round, (failure, times)) in faults.into_iter().enumerate() {
        h.fake.faults.inject(FaultRule::failing(
            Method::GET,
            path,
            failure.clone(),
            times,
        ));
        let app = h.client.app(&alice, "paipu-app-staging").await;
        assert_eq!(
            app.map(|app| app.name).ok().as_deref(),
            Some("paipu-app-staging"),
            "{failure:?}"
        );
        let expected: usize = [3, 5, 7][round];
        assert_eq!(h.fake.count_requests("GET", path), expected, "{failure:?}");
    }
    h.fake
        .faults
        .inject(FaultRule::failing(Method::GET, path, Failure::Status(500), 1).forever());
    let error = h.client.app(&alice, "paipu-app-staging").await.unwrap_err();
    assert!(
        matches!(error, HerokuError::Failing { status: 500, .. }) && error.is_transient(),
        "{error}"
    );
    assert_eq!(h.fake.count_requests("GET", path), 10);
}

#[tokio::test]
async fn a_build_post_is_not_repeated_once_heroku_may_have_acted() {
    let h = start().await;
    let alice = h.token(ALICE);
    let (app, path) = ("paipu-app-staging", "/apps/paipu-app-staging/builds");
    h.fake
        .faults
        .inject(FaultRule::failing(Method::POST, path, Failure::Status(500), 1).after_handling());
    let error = h
        .client
        .create_build(&alice, app, &h.source_blob("paipu"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, HerokuError::Failing { status: 500, .. }),
        "{error}"
    );
    assert_eq!(h.fake.count_requests("POST", path), 1);
    assert_eq!(
        h.fake.builds(app).len(),
        229,
        "exactly one build was created"
    );
    // A 429 proves Heroku did nothing, so that one is retried.
    h.fake.faults.inject(FaultRule::failing(
        Method::POST,
        path,
        Failure::RateLimited {
            retry_after_secs: 0,
        },
        1,
    ));
    h.client
        .create_build(&alice, app, &h.source_blob("paipu"), None)
        .await
        .unwrap();
    assert_eq!(
        (
            h.fake.count_requests("POST", path),
            h.fake.builds(app).len()
        ),
        (3, 230)
    );
}

#[tokio::test]
async fn formation_and_one_off_dynos() {
    let h = start().await;
    let alice = h.token(ALICE);
    let formation = h
        .client
        .formation(&alice, "paipu-app-production")
        .await
        .unwrap();
    let scale: Vec<(&str, u32)> = formation
        .iter()
        .map(|f| (f.kind.as_str(), f.quantity))
        .collect();
    assert_eq!(scale.len(), 2);
    assert!(scale.contains(&("web", 2)) && scale.contains(&("worker", 1)));
    let dynos = h
        .client
        .dynos(&alice, "paipu-app-production")
        .await
        .unwrap();
    assert_eq!(dynos.len(), 4);
    let console = dynos.iter().find(|dyno| dyno.name == "run.4821").unwrap();
    assert!(console.is_one_off());
    assert_eq!(
        dynos
            .iter()
            .filter(|dyno| !dyno.is_one_off() && dyno.state == DynoState::Up)
            .count(),
        3
    );
}

#[tokio::test]
async fn a_dyno_can_crash_after_the_restart() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "atlas-staging";
    h.fake.crash_after_next_restart(app, "web.1");
    let build = h
        .client
        .create_build(&alice, app, &h.source_blob("atlas"), None)
        .await
        .unwrap();
    let release_id = h
        .settled_build(&alice, app, &build.id)
        .await
        .release
        .unwrap()
        .id;
    // atlas has no release phase: the release is live at once.
    let release = h.client.release(&alice, app, &release_id).await.unwrap();
    assert_eq!(
        (release.status, release.output_stream_url),
        (ReleaseStatus::Succeeded, None)
    );
    let dynos = h.restarted(&alice, app, &release_id).await;
    let states: Vec<(&str, DynoState)> = dynos.iter().map(|d| (d.name.as_str(), d.state)).collect();
    assert!(
        states.contains(&("web.1", DynoState::Crashed))
            && states.contains(&("web.2", DynoState::Up)),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_failed_release_phase_keeps_the_old_release_running() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "paipu-app-staging";
    h.fake.fail_next_release(app);
    let build = h
        .client
        .create_build(&alice, app, &h.source_blob("paipu"), None)
        .await
        .unwrap();
    let release_id = h
        .settled_build(&alice, app, &build.id)
        .await
        .release
        .unwrap()
        .id;
    let release = h.settled_release(&alice, app, &release_id).await;
    assert_eq!(
        (release.status, release.current),
        (ReleaseStatus::Failed, false)
    );
    let tail = h
        .client
        .output_tail(release.output_stream_url.as_deref().unwrap(), 1)
        .await
        .unwrap();
    assert_eq!(
        tail,
        "Release command failed: the release was not deployed and the previous one keeps running."
    );
    let latest = h.client.releases(&alice, app, 2).await.unwrap();
    assert_eq!((latest[0].version, latest[0].current), (231, false));
    assert_eq!((latest[1].version, latest[1].current), (230, true));
    let dynos = h.client.dynos(&alice, app).await.unwrap();
    assert!(dynos.iter().all(|dyno| dyno.release.version == 230));
}

#[tokio::test]
async fn rollback_releases_an_earlier_slug() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "paipu-app-production";
    let previous = h.client.release(&alice, app, "41").await.unwrap();
    let rollback = h
        .client
        .rollback(&alice, app, &previous.id, None)
        .await
        .unwrap();
    assert_eq!(
        (rollback.version, rollback.description.as_str()),
        (43, "Rollback to v41")
    );
    assert_eq!(rollback.slug, previous.slug);
    let settled = h.settled_release(&alice, app, &rollback.id).await;
    assert_eq!(
        (settled.status, settled.current),
        (ReleaseStatus::Succeeded, true)
    );
    h.restarted(&alice, app, &rollback.id).await;
    let missing = h
        .client
        .rollback(&alice, app, "00000000-0000-4000-8000-000000000000", None)
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
}

#[tokio::test]
async fn promotion_copies_the_slug_to_every_target() {
    let h = start().await;
    let alice = h.token(ALICE);
    let ids = |name: &str| h.fake.app(name).id;
    let pipeline = h.client.pipeline(&alice, "atlas").await.unwrap();
    let request = NewPromotion {
        pipeline_id: pipeline.id,
        source_app_id: ids("atlas-staging"),
        target_app_ids: vec![ids("atlas-eu"), ids("atlas-us")],
    };
    let promotion = h
        .client
        .create_promotion(&alice, &request, None)
        .await
        .unwrap();
    assert_eq!(promotion.status, PromotionStatus::Pending);
    let source = h
        .client
        .releases(&alice, "atlas-staging", 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(promotion.source.release.id, source.id);
    eventually("the promotion to complete", || async {
        Some(h.client.promotion(&alice, &promotion.id).await.unwrap())
            .filter(|p| p.status == PromotionStatus::Completed)
    })
    .await;
    let targets = h
        .client
        .promotion_targets(&alice, &promotion.id)
        .await
        .unwrap();
    assert_eq!(targets.len(), 2);
    for target in targets {
        assert_eq!(
            (target.status, target.error_message),
            (TargetStatus::Succeeded, None)
        );
        let release = h
            .client
            .release(&alice, &target.app.id, &target.release.unwrap().id)
            .await
            .unwrap();
        assert_eq!(release.slug, source.slug);
        assert_eq!(
            release.description,
            format!(
                "Promote atlas-staging v14 {}",
                &source.description["Deploy ".len()..]
            )
        );
    }
}

#[tokio::test]
async fn promoting_onto_a_protected_app_needs_the_second_factor() {
    let h = start().await;
    let erin = h.token(ERIN);
    let request = NewPromotion {
        pipeline_id: h.fake.pipeline("vault").id,
        source_app_id: h.fake.app("vault-app-staging").id,
        target_app_ids: vec![h.fake.app("vault-app-production").id],
    };
    assert!(
        h.client
            .create_promotion(&erin, &request, None)
            .await
            .unwrap_err()
            .is_two_factor()
    );
    assert!(h.fake.promotions().is_empty());
    h.client
        .create_promotion(&erin, &request, Some(FakeHeroku::TWO_FACTOR_CODE))
        .await
        .unwrap();
    assert_eq!(h.fake.promotions().len(), 1);
}

/// Receives webhook deliveries: (headers, raw body) in arrival order.
type Deliveries = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn webhook_receiver() -> (String, Deliveries) {
    let received = Deliveries::default();
    let sink = received.clone();
    let router = Router::new().route(
        "/hooks",
        post(move |headers: HeaderMap, body: Bytes| async move {
            sink.lock().unwrap().push((headers, body))
        }),
    );
    (format!("{}/hooks", serve(router).await), received)
}

fn verified(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    headers
        .get("Heroku-Webhook-Hmac-SHA256")
        .and_then(|value| value.to_str().ok())
        == Some(expected.as_str())
}

/// A subscriber that takes 2 s to answer each delivery holds up only its own: another
/// app's subscriber hears of its build at once, and each gets its events in order.
#[tokio::test]
async fn each_subscription_is_delivered_to_on_its_own_and_in_order() {
    let h = start().await;
    let alice = h.token(ALICE);
    let (fast_url, fast) = webhook_receiver().await;
    let slow = Deliveries::default();
    let sink = slow.clone();
    let slow_router = Router::new().route(
        "/hooks",
        post(move |headers: HeaderMap, body: Bytes| async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            sink.lock().unwrap().push((headers, body))
        }),
    );
    let slow_url = format!("{}/hooks", serve(slow_router).await);
    for (app, url) in [("paipu-app-staging", slow_url), ("atlas-staging", fast_url)] {
        let request = NewWebhook {
            include: vec!["api:build".into()],
            level: WebhookLevel::Notify,
            url,
            secret: Some("whsec-order".to_owned().into()),
            authorization: None,
        };
        h.client
            .create_webhook(&alice, app, &request, None)
            .await
            .unwrap();
    }
    for (app, repo) in [("paipu-app-staging", "paipu"), ("atlas-staging", "atlas")] {
        let build = (h.client)
            .create_build(&alice, app, &h.source_blob(repo), None)
            .await
            .unwrap();
        h.settled_build(&alice, app, &build.id).await;
    }
    let actions = |deliveries: &Deliveries| -> Vec<String> {
        let deliveries = deliveries.lock().unwrap().clone();
        let events = deliveries.iter().map(|(_, body)| {
            let event: serde_json::Value = serde_json::from_slice(body).unwrap();
            format!("{} {}", event["action"], event["data"]["status"])
        });
        events.collect()
    };
    let both = eventually("the fast subscriber's two deliveries", || async {
        Some(actions(&fast)).filter(|fast| fast.len() == 2)
    })
    .await;
    assert_eq!(both, [r#""create" "pending""#, r#""update" "succeeded""#]);
    assert!(
        actions(&slow).len() < 2,
        "the slow one is still on its first"
    );
    let slow_ones = eventually("the slow subscriber's two deliveries", || async {
        Some(actions(&slow)).filter(|slow| slow.len() == 2)
    })
    .await;
    assert_eq!(slow_ones, both, "in the order the events happened");
}

#[tokio::test]
async fn webhooks_deliver_signed_events_for_builds_releases_and_dynos() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "atlas-staging";
    let (url, received) = webhook_receiver().await;
    let include = ["api:build", "api:release", "dyno"]
        .map(String::from)
        .to_vec();
    let secret = "whsec-3f9c";
    let request = NewWebhook {
        include: include.clone(),
        level: WebhookLevel::Notify,
        url: url.clone(),
        secret: Some(secret.to_owned().into()),
        authorization: None,
    };
    let webhook = h
        .client
        .create_webhook(&alice, app, &request, None)
        .await
        .unwrap();
    assert_eq!(
        (
            webhook.include,
            webhook.level,
            webhook.url.as_str(),
            webhook.app.name.as_str()
        ),
        (include, WebhookLevel::Notify, url.as_str(), app)
    );
    assert_eq!(h.client.webhooks(&alice, app).await.unwrap().len(), 1);

    let build = h
        .client
        .create_build(&alice, app, &h.source_blob("atlas"), None)
        .await
        .unwrap();
    let release_id = h
        .settled_build(&alice, app, &build.id)
        .await
        .release
        .unwrap()
        .id;
    h.restarted(&alice, app, &release_id).await;
    // Build created and updated, release created (live at once: no release phase),
    // three dynos starting and three up.
    let deliveries = eventually("nine deliveries", || async {
        let deliveries = received.lock().unwrap().clone();
        Some(deliveries).filter(|deliveries| deliveries.len() == 9)
    })
    .await;
    let events: Vec<serde_json::Value> = deliveries
        .iter()
        .map(|(_, body)| serde_json::from_slice(body).unwrap())
        .collect();
    for ((headers, body), event) in deliveries.iter().zip(&events) {
        assert!(verified(secret, headers, body), "signature of {event}");
        assert!(
            headers.contains_key("Heroku-Webhook-Id")
                && headers.contains_key("Heroku-Webhook-Sent-At")
        );
        assert_eq!(
            (event["actor"]["email"].as_str(), event["version"].as_str()),
            (Some(ALICE), Some("application/vnd.heroku+json; version=3"))
        );
        assert_eq!(
            event["webhook_metadata"]["webhook"]["id"],
            serde_json::json!(webhook.id)
        );
        assert!(
            event["id"].is_string()
                && event["created_at"].is_string()
                && event["previous_data"].is_object()
        );
    }
    let summary: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["resource"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        &summary[..3],
        [
            ("build", "create"),
            ("release", "create"),
            ("build", "update")
        ]
    );
    assert_eq!(
        (
            events[2]["data"]["id"].as_str(),
            events[2]["data"]["status"].as_str()
        ),
        (Some(build.id.as_str()), Some("succeeded"))
    );
    assert_eq!(events[2]["previous_data"]["status"], "pending");
    let up = events
        .iter()
        .filter(|e| e["resource"] == "dyno" && e["data"]["state"] == "up")
        .count();
    assert_eq!(up, 3);

    let deleted = h
        .client
        .delete_webhook(&alice, app, &webhook.id, None)
        .await
        .unwrap();
    assert_eq!(deleted.id, webhook.id);
    assert!(h.client.webhooks(&alice, app).await.unwrap().is_empty());
    assert!(
        h.fake
            .deliveries()
            .iter()
            .all(|delivery| delivery.succeeded && delivery.last_status == Some(200))
    );
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn query_value(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

/// Plays the browser: opens the authorize page, picks `email` and presses `decision`.
async fn authorize(
    h: &Harness,
    oauth: &HerokuOAuth,
    scope: &str,
    email: &str,
    decision: &str,
) -> String {
    let browser = http_client(Duration::from_secs(2));
    let page = browser
        .get(oauth.authorize_url("state-42", scope))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for account in [ALICE, BOB, ERIN] {
        assert!(
            html.contains(&format!(r#"name="email" value="{account}""#)),
            "{html}"
        );
    }
    assert!(html.contains(r#"name="state" value="state-42""#) && html.contains(r#"value="allow""#));
    let form = [
        ("client_id", "chatops-test"),
        ("scope", scope),
        ("state", "state-42"),
        ("email", email),
        ("decision", decision),
    ];
    let answer = browser
        .post(format!("{}/oauth/authorize", h.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = location(&answer);
    assert!(
        location.starts_with("https://chatops.example/auth/heroku/callback?"),
        "{location}"
    );
    assert_eq!(query_value(&location, "state").as_deref(), Some("state-42"));
    location
}

#[tokio::test]
async fn oauth_authorize_exchange_and_refresh() {
    let h = start().await;
    h.fake.register_oauth_client(
        "chatops-test",
        "client-secret-1",
        "https://chatops.example/auth/heroku/callback",
    );
    let oauth = HerokuOAuth::new(
        http_client(Duration::from_millis(300)),
        &h.url,
        "chatops-test",
        "client-secret-1".to_owned().into(),
    )
    .with_retry(fast_retry());
    let code = query_value(
        &authorize(&h, &oauth, "global", ERIN, "allow").await,
        "code",
    )
    .unwrap();
    let tokens = oauth.exchange_code(&code).await.unwrap();
    assert_eq!(
        (tokens.expires_in, tokens.token_type.as_str()),
        (28_800, "Bearer")
    );
    let account = h.client.account(&tokens.access_token).await.unwrap();
    assert_eq!(
        (account.email.as_str(), tokens.user_id.as_str()),
        (ERIN, account.id.as_str())
    );
    let reused = oauth.exchange_code(&code).await.unwrap_err();
    assert!(reused.is_unauthorized(), "codes are single-use: {reused}");

    let refreshed = oauth.refresh(&tokens.refresh_token).await.unwrap();
    use secrecy::ExposeSecret;
    assert_ne!(
        refreshed.access_token.expose_secret(),
        tokens.access_token.expose_secret()
    );
    assert_eq!(
        h.client
            .account(&refreshed.access_token)
            .await
            .unwrap()
            .email,
        ERIN
    );

    let wrong = HerokuOAuth::new(
        http_client(Duration::from_millis(300)),
        &h.url,
        "chatops-test",
        "not-the-secret".to_owned().into(),
    );
    assert!(
        wrong
            .refresh(&tokens.refresh_token)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    let denied = authorize(&h, &oauth, "global", ALICE, "deny").await;
    assert_eq!(
        (
            query_value(&denied, "error").as_deref(),
            query_value(&denied, "code")
        ),
        (Some("access_denied"), None)
    );
}

#[tokio::test]
async fn an_identity_scoped_token_reads_only_the_account() {
    let h = start().await;
    h.fake.register_oauth_client(
        "chatops-test",
        "client-secret-1",
        "https://chatops.example/auth/heroku/callback",
    );
    let oauth = HerokuOAuth::new(
        http_client(Duration::from_millis(300)),
        &h.url,
        "chatops-test",
        "client-secret-1".to_owned().into(),
    );
    let code = query_value(
        &authorize(&h, &oauth, "identity", ALICE, "allow").await,
        "code",
    )
    .unwrap();
    let token = oauth.exchange_code(&code).await.unwrap().access_token;
    assert_eq!(h.client.account(&token).await.unwrap().email, ALICE);
    assert!(h.client.pipelines(&token).await.unwrap_err().is_forbidden());
}

#[tokio::test]
async fn the_build_log_grows_while_the_build_runs_and_ends_with_it() {
    let h = start().await;
    let alice = h.token(ALICE);
    let app = "paipu-app-staging";
    h.fake.set_build_duration(app, Duration::from_millis(600));
    let build = h
        .client
        .create_build(&alice, app, &h.source_blob("paipu"), None)
        .await
        .unwrap();
    let browser = http_client(Duration::from_secs(3));
    let mut stream = browser
        .get(build.output_stream_url.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"-----> Building on the Heroku-24 stack\n"));
    let status = h.client.build(&alice, app, &build.id).await.unwrap().status;
    assert_eq!(
        status,
        BuildStatus::Pending,
        "the first lines arrive while the build runs"
    );
    let mut rest = Vec::new();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert!(String::from_utf8(rest).unwrap().contains("Released v231"));
    let status = h.client.build(&alice, app, &build.id).await.unwrap().status;
    assert_eq!(
        status,
        BuildStatus::Succeeded,
        "the stream ends when the build does"
    );
}

#[tokio::test]
async fn without_the_v3_accept_header_or_with_a_wrong_method_there_is_no_endpoint() {
    let h = start().await;
    let raw = http_client(Duration::from_secs(2));
    let token = h.fake.token_for(ALICE);
    let no_version = raw
        .get(format!("{}/account", h.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let wrong_method = raw
        .put(format!("{}/account/rate-limits", h.url))
        .bearer_auth(&token)
        .header("Accept", "application/vnd.heroku+json; version=3")
        .send()
        .await
        .unwrap();
    for response in [no_version, wrong_method] {
        assert_eq!(response.status(), 404);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["id"], "not_found");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("The requested API endpoint was not found.")
        );
    }
}
