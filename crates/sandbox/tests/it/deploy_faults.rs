//! Faults: many deploys at once through a sandbox whose three services fail the ways
//! they do (5xx, 429 with `Retry-After`, requests that hang until the client times
//! out, dropped connections, and answers lost after the service acted), on every
//! backend. Every deploy must end, every thread must be complete and no build,
//! GitHub deployment or Slack reply may exist twice.

use crate::common::{self, fault_plan, outcomes};

use std::time::{Duration, Instant};

use axum::http::Method;
use chatops::github::{DeploymentOutcome, GitHubClient, NewDeployment};
use chatops::outbound::RetryPolicy;
use chatops::outbox::deploy_thread;
use chatops::store::{DeployRow, DeployState};
use chatops_fakes::heroku::Timings;
use chatops_fakes::{Failure, Fakes, FaultRule, SANDBOX_TEAM};
use common::deploys::{ALICE, DeployWorld, expected_notes, settle_outbox, thread_of_last_deploy};
use common::{TestApp, TestDb};
use fault_plan::{TARGETS, Target, arm_faults, armed};
use outcomes::{Before, Peek, all_finished, assert_deployed_once, outbox_drained};
use secrecy::SecretString;
use tokio::task::JoinSet;

/// The repository of the paipu pipeline.
const PAIPU: &str = "heroku/paipu-repo";
/// How many deploys are asked for at once.
const DEPLOYS: usize = 200;
/// Commands in flight at once, as a busy workspace sends them.
const COMMANDS_IN_FLIGHT: usize = 20;
/// Everything must be over by then: Slack's pace (one post per second per channel)
/// is what takes longest.
const DEADLINE: Duration = Duration::from_secs(120);

/// Types the [`DEPLOYS`] commands round-robin over the targets, a few at a time;
/// each is acknowledged.
async fn send_all(app: &TestApp) {
    let mut next = 0;
    let mut in_flight = JoinSet::new();
    while next < DEPLOYS || !in_flight.is_empty() {
        while next < DEPLOYS && in_flight.len() < COMMANDS_IN_FLIGHT {
            let t = &TARGETS[next % TARGETS.len()];
            let (http, url, slack) = (
                app.http.clone(),
                app.base_url.clone(),
                app.sandbox.slack.clone(),
            );
            in_flight.spawn(async move {
                outcomes::send_command(&http, &url, &slack, t.channel, t.command).await
            });
            next += 1;
        }
        let answer = in_flight.join_next().await.unwrap().unwrap();
        assert!(answer.starts_with("On it: deploying "), "{answer}");
    }
}

/// 200 deploys under faults on `db`: all end, each app is deployed at least once,
/// every other deploy was told who holds the app, and nothing happened twice.
async fn many_deploys_under_faults(db: TestDb) {
    let started = Instant::now();
    // Production deploys here go straight ahead: the confirmation has its own tests.
    let no_confirmation = |config: &mut chatops::config::Config| config.production_confirm = false;
    let app = TestApp::spawn_configured(db, chatops::clock::Clock::system(), no_confirmation);
    let world = DeployWorld::new(app.await).await;
    let (app, store) = (&world.app, &world.app.db.store);
    let sandbox = &app.sandbox;
    store
        .set_pipeline_repo(SANDBOX_TEAM, "vault", "acme/vault", ALICE, common::now())
        .await
        .unwrap();
    sandbox.heroku.set_timings(Timings {
        build: Duration::from_millis(1000),
        release_phase: Duration::from_millis(500),
        restart: Duration::from_millis(500),
        promotion: Duration::from_millis(10),
    });
    let apps: Vec<_> = TARGETS.iter().map(|t| t.app).collect();
    let before = Before::count(sandbox, &apps, &fault_plan::repos());
    let rules = arm_faults(sandbox);

    send_all(app).await;
    let deploys = all_finished(store, DEPLOYS, DEADLINE).await;
    outbox_drained(store, DEADLINE).await;

    let deployed = check_each_deploy(app, &deploys).await;
    for (i, t) in TARGETS.iter().enumerate() {
        assert!(deployed[i] >= 1, "{} was deployed at least once", t.app);
    }
    before.assert_one_each(sandbox, &deploys);
    assert_channels_hold_only_the_deploys(app, &deploys);
    assert_every_refusal_answered_once(app, &deploys);
    assert_outbox_delivered_through_faults(&app.db.url).await;
    assert_eq!(store.app_locks().await.unwrap(), 0, "every lock released");
    let left = armed(&sandbox.heroku.faults) + armed(&sandbox.github.faults);
    let left = left + armed(&sandbox.slack.faults);
    assert_eq!(left, 0, "all {rules} faults struck");
    eprintln!(
        "{}: {DEPLOYS} deploys ({} deployed) under {rules} faults in {:?}",
        app.db.backend_name(),
        deployed.iter().sum::<usize>(),
        started.elapsed()
    );
    world.finish().await;
}

/// Checks every deploy either went through exactly once or was refused as busy;
/// returns how many were deployed per target.
async fn check_each_deploy(app: &TestApp, deploys: &[DeployRow]) -> Vec<usize> {
    let mut deployed = vec![0; TARGETS.len()];
    for deploy in deploys {
        let t = Target::of(deploy);
        assert_eq!(deploy.channel_id, t.channel, "deploy {}", deploy.id);
        if deploy.state == DeployState::Deployed {
            assert_deployed_once(&app.sandbox, &app.db.store, deploy).await;
            deployed[TARGETS.iter().position(|x| std::ptr::eq(x, t)).unwrap()] += 1;
        } else {
            assert_refused_as_busy(app, deploy, t).await;
        }
    }
    deployed
}

/// Every Slack message went out (updates made pointless by a newer one aside), and
/// some only after Slack had refused them.
async fn assert_outbox_delivered_through_faults(url: &str) {
    let peek = Peek::connect(url).await;
    let states = peek.outbox_states().await;
    let delivered = |(state, _): &(String, i64)| ["sent", "superseded"].contains(&state.as_str());
    assert!(
        states.iter().all(delivered),
        "every Slack message was delivered: {states:?}"
    );
    assert!(peek.retried_messages().await > 0, "Slack faults struck");
    peek.close().await;
}

/// A deploy that lost the race for its app: refused before anything was posted.
async fn assert_refused_as_busy(app: &TestApp, deploy: &DeployRow, t: &Target) {
    let failure = deploy.failure.as_deref().unwrap_or_default();
    let busy = format!("<@{ALICE}> is deploying {} (since ", t.app);
    assert!(
        failure.starts_with(&busy) && failure.ends_with(". Try again when it is done."),
        "deploy {} ({}): {failure}",
        deploy.id,
        deploy.state
    );
    let thread = app.db.store.thread_parent(&deploy_thread(deploy.id)).await;
    assert_eq!(thread.unwrap(), None, "deploy {} posted nothing", deploy.id);
}

/// Each channel shows one parent per deploy that went ahead there, and nothing else.
fn assert_channels_hold_only_the_deploys(app: &TestApp, deploys: &[DeployRow]) {
    for channel in ["C0DEPLOYS", "C0GENERAL"] {
        let shown = app.sandbox.slack.channel_messages(channel);
        let went_ahead = deploys
            .iter()
            .filter(|d| d.channel_id == channel && d.state == DeployState::Deployed)
            .count();
        assert_eq!(shown.len(), went_ahead, "{channel}: {shown:#?}");
        assert!(shown.iter().all(|m| m.thread_ts.is_none()), "{channel}");
    }
}

/// Each refused deploy got its answer through its `response_url`, exactly once.
fn assert_every_refusal_answered_once(app: &TestApp, deploys: &[DeployRow]) {
    let mut told: Vec<String> = app
        .sandbox
        .slack
        .responses()
        .into_iter()
        .map(|r| r.text)
        .collect();
    let mut refused: Vec<String> = deploys.iter().filter_map(|d| d.failure.clone()).collect();
    told.sort();
    refused.sort();
    assert_eq!(told, refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_deploys_under_faults_all_end_with_complete_threads_on_sqlite() {
    let sqlite = common::databases().await.remove(0);
    assert_eq!(sqlite.backend_name(), "sqlite");
    many_deploys_under_faults(sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_deploys_under_faults_all_end_with_complete_threads_on_postgresql() {
    let databases = common::databases().await;
    let Some(postgres) = databases
        .into_iter()
        .find(|db| db.backend_name() == "postgres")
    else {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    };
    many_deploys_under_faults(postgres).await;
}

/// One deploy of paipu to staging on every backend, after `arm` prepared the fakes;
/// `check` then looks at the finished deploy and what it left.
async fn one_deploy(arm: impl Fn(&Fakes), check: impl AsyncFn(&DeployWorld, &DeployRow)) {
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        world.app.sandbox.heroku.set_timings(Timings::FAST);
        arm(&world.app.sandbox);
        world.command(ALICE, "deploy paipu to staging").await;
        let deploy = common::deploys::finished_deploy(&world.app).await;
        settle_outbox(&world.app).await;
        check(&world, &deploy).await;
        world.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_reply_whose_answer_was_lost_is_not_posted_twice() {
    // The first reply reaches Slack, which posts it; its answer never comes back.
    let lost = FaultRule::failing(Method::POST, "/api/chat.postMessage", Failure::Hang, 1);
    one_deploy(
        |sandbox| {
            // The parent goes first; the rule then waits for the release notes.
            let parent = FaultRule::slow(Method::POST, "/api/chat.postMessage", Duration::ZERO, 1);
            sandbox.slack.faults.inject(parent);
            sandbox.slack.faults.inject(lost.clone().after_handling());
        },
        async |world, deploy| {
            assert_eq!(deploy.state, DeployState::Deployed);
            let (_, replies) = thread_of_last_deploy(&world.app);
            let texts: Vec<_> = replies
                .iter()
                .map(|r| common::deploys::normalized(&r.text))
                .collect();
            assert_eq!(
                texts,
                [
                    expected_notes(&world.app.sandbox, deploy, "paipu-app-staging").as_str(),
                    "Deploying paipu-app-staging ... duration: Ns",
                    "Releasing paipu-app-staging ... duration: Ns",
                    "Restarting paipu-app-staging ... duration: Ns",
                    "Deployed paipu-app-staging ... duration: Ns",
                ]
            );
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_status_github_failed_to_take_is_posted_again() {
    one_deploy(
        |sandbox| {
            // The in_progress status meets one 502 (GitHub did not record it).
            let statuses = "/repos/heroku/paipu-repo/deployments/";
            let failing = FaultRule::failing(Method::POST, statuses, Failure::Status(502), 1);
            sandbox.github.faults.inject(failing);
        },
        async |world, deploy| {
            assert_eq!(deploy.state, DeployState::Deployed);
            let github = &world.app.sandbox.github;
            let deployments = github.deployments("heroku/paipu-repo").unwrap();
            let id = deploy.github_deployment_id.expect("a GitHub deployment") as u64;
            let ours = deployments
                .iter()
                .find(|d| d.id == id)
                .expect("the deploy's GitHub deployment");
            let states: Vec<_> = ours.statuses.iter().map(|s| s.state.as_str()).collect();
            assert_eq!(states, ["in_progress", "success"]);
        },
    )
    .await;
}

/// Other tools' deployments to staging made while `fake` holds chatops' own: it is far
/// down GitHub's list by the time the bot looks again.
const OTHER_DEPLOYMENTS: usize = 120;

/// Once the deploy's GitHub deployment exists, makes [`OTHER_DEPLOYMENTS`] more of
/// paipu to staging as alice, the way another deploy tool would.
async fn crowd_out_once_created(fake: chatops_fakes::github::FakeGitHub) {
    let ours =
        |d: &chatops_fakes::github::DeploymentRecord| d.payload["chatops_deploy"].is_string();
    while !fake.deployments(PAIPU).unwrap().iter().any(ours) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let http = chatops::outbound::http_client(Duration::from_secs(2));
    let client = GitHubClient::new(http, fake.base_url(), RetryPolicy::default());
    let (token, repo) = (
        SecretString::from(fake.token_for("alice")),
        PAIPU.parse().unwrap(),
    );
    let other = NewDeployment {
        git_ref: "master".into(),
        task: "deploy".into(),
        auto_merge: false,
        required_contexts: Vec::new(),
        environment: "staging".into(),
        description: "Deployed by another tool".into(),
        payload: serde_json::json!({}),
        transient_environment: false,
        production_environment: false,
    };
    for _ in 0..OTHER_DEPLOYMENTS {
        let made = client.create_deployment(&token, &repo, &other).await;
        assert!(
            matches!(made, Ok(DeploymentOutcome::Created(_))),
            "{made:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_deployment_whose_answer_was_lost_is_found_however_far_down_the_list() {
    let create = "/repos/heroku/paipu-repo/deployments";
    one_deploy(
        |sandbox| {
            // GitHub records the deployment; its answer never comes back.
            let lost = FaultRule::failing(Method::POST, create, Failure::Hang, 1);
            sandbox.github.faults.inject(lost.after_handling());
            tokio::spawn(crowd_out_once_created(sandbox.github.clone()));
        },
        async |world, deploy| {
            assert_eq!(deploy.state, DeployState::Deployed);
            let github = &world.app.sandbox.github;
            let ours: Vec<_> = github
                .deployments(PAIPU)
                .unwrap()
                .into_iter()
                .filter(|d| d.payload["chatops_deploy"].is_string())
                .collect();
            assert_eq!(ours.len(), 1, "one GitHub deployment: {ours:#?}");
            assert_eq!(Some(ours[0].id as i64), deploy.github_deployment_id);
            // The bot looked again only after the others were made (else this test
            // would prove nothing): its second list came after all 121 creations.
            let requests = github.requests();
            let list = format!("GET {create}");
            let second_look = requests
                .iter()
                .enumerate()
                .filter(|(_, line)| **line == list)
                .nth(1)
                .expect("a second look")
                .0;
            let made_before = requests[..second_look]
                .iter()
                .filter(|line| **line == format!("POST {create}"))
                .count();
            assert_eq!(made_before, OTHER_DEPLOYMENTS + 1);
        },
    )
    .await;
}
