//! What a deploy must have left behind once it finished, checked where it shows: the
//! Slack fake's channel and thread, the Heroku fake's builds, the GitHub fake's
//! deployments, and the bot's own tables. Also the waits (polling with a deadline) and
//! the signed commands the durability suites share. Test binaries include it next to
//! `mod common;` (`#[path = "common/outcomes.rs"] mod outcomes;`).

use std::time::{Duration, Instant};

use chatops::outbox::deploy_thread;
use chatops::store::{DeployRow, DeployState, Store};
use chatops_fakes::github::DeploymentRecord;
use chatops_fakes::slack::FakeSlack;
use chatops_fakes::{Fakes, SANDBOX_TEAM};
use sqlx::Row;

use crate::common::deploys::{ALICE, expected_notes, normalized};
use crate::common::{SECRET, now, signed_headers, slash_body_as};

/// Polls `probe` every 20 ms until it returns something; fails the test after
/// `deadline`, naming `what` it waited for.
pub async fn eventually<T>(
    what: &str,
    deadline: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every deploy in the store finished; returns them, oldest first.
pub async fn all_finished(store: &Store, expected: usize, deadline: Duration) -> Vec<DeployRow> {
    eventually("every deploy to finish", deadline, async || {
        let deploys = store.deploys().await.unwrap();
        let done = deploys.iter().filter(|d| d.finished_at.is_some()).count();
        (deploys.len() == expected && done == expected).then_some(deploys)
    })
    .await
}

/// Waits until the outbox has nothing left to send.
pub async fn outbox_drained(store: &Store, deadline: Duration) {
    eventually("the outbox to drain", deadline, async || {
        (store.pending_messages().await.unwrap() == 0).then_some(())
    })
    .await;
}

/// Types `/h <text>` as alice in `channel`, signed as Slack signs it, at the bot
/// serving at `bot_url`; returns the immediate answer's text.
pub async fn send_command(
    http: &reqwest::Client,
    bot_url: &str,
    slack: &FakeSlack,
    channel: &str,
    text: &str,
) -> String {
    send_command_as(http, (bot_url, slack), channel, ALICE, text).await
}

/// [`send_command`] typed by `user`.
pub async fn send_command_as(
    http: &reqwest::Client,
    (bot_url, slack): (&str, &FakeSlack),
    channel: &str,
    user: &str,
    text: &str,
) -> String {
    let response_url = slack.response_url(SANDBOX_TEAM, channel, user);
    let body = slash_body_as(SANDBOX_TEAM, channel, user, &response_url, text);
    let mut request = http
        .post(format!("{bot_url}/slack/commands"))
        .body(body.clone());
    for (name, value) in signed_headers(SECRET, now(), &body) {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("the bot answers the command");
    assert_eq!(response.status(), 200, "{text}");
    let json: serde_json::Value = response.json().await.expect("a JSON answer");
    json["text"].as_str().expect("an answer text").to_owned()
}

/// Reads the bot's tables where [`Store`] has no query for what a test checks.
pub struct Peek(sqlx::AnyPool);

impl Peek {
    pub async fn connect(url: &str) -> Peek {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .expect("connect to the test database");
        Peek(pool)
    }

    /// Who holds deploy `id`'s lease now, if anyone (a lease may have expired).
    pub async fn lease_owner(&self, id: i64) -> Option<String> {
        sqlx::query_scalar("SELECT lease_owner FROM deploys WHERE id = $1")
            .bind(id)
            .fetch_one(&self.0)
            .await
            .expect("read the lease")
    }

    /// How many outbox messages are in each state, e.g. `[("sent", 12)]`.
    pub async fn outbox_states(&self) -> Vec<(String, i64)> {
        sqlx::query("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(&self.0)
            .await
            .expect("count outbox states")
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    }

    /// Every pending outbox message, a line each: what a drain that timed out left.
    pub async fn pending_report(&self) -> Vec<String> {
        let rows = sqlx::query(
            "SELECT id, thread_key, kind, ready, attempts, claims, next_attempt_at, \
             lease_until, error FROM outbox WHERE state = 'pending' ORDER BY id",
        )
        .fetch_all(&self.0)
        .await
        .expect("read the pending messages");
        rows.iter()
            .map(|row| {
                format!(
                    "#{} {} {} ready={} attempts={} claims={} next={} lease={:?} error={:?}",
                    row.get::<i64, _>(0),
                    row.get::<String, _>(1),
                    row.get::<String, _>(2),
                    row.get::<i64, _>(3),
                    row.get::<i64, _>(4),
                    row.get::<i64, _>(5),
                    row.get::<i64, _>(6),
                    row.get::<Option<i64>, _>(7),
                    row.get::<Option<String>, _>(8),
                )
            })
            .collect()
    }

    /// Outbox messages a process has claimed and not yet settled (sent, retried).
    pub async fn claimed_messages(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND lease_until IS NOT NULL",
        )
        .fetch_one(&self.0)
        .await
        .expect("count claimed messages")
    }

    /// Outbox messages that failed at least once with something other than pacing.
    pub async fn retried_messages(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND error IS NOT NULL AND error <> 'paced'",
        )
        .fetch_one(&self.0)
        .await
        .expect("count retried messages")
    }

    pub async fn close(self) {
        self.0.close().await;
    }
}

/// How many builds and GitHub deployments the fakes held before a test's deploys, so
/// the test can count exactly what its deploys created.
pub struct Before {
    builds: Vec<(String, usize)>,
    deployments: Vec<(String, usize)>,
}

impl Before {
    /// Counts now the builds of `apps` and the deployments of `repos`.
    pub fn count(sandbox: &Fakes, apps: &[&str], repos: &[&str]) -> Before {
        Before {
            builds: apps
                .iter()
                .map(|app| (app.to_string(), sandbox.heroku.builds(app).len()))
                .collect(),
            deployments: repos
                .iter()
                .map(|repo| (repo.to_string(), deployments(sandbox, repo).len()))
                .collect(),
        }
    }

    /// Builds of `app` created since.
    pub fn new_builds(&self, sandbox: &Fakes, app: &str) -> usize {
        let before = self
            .builds
            .iter()
            .find(|(a, _)| a == app)
            .expect("a counted app");
        sandbox.heroku.builds(app).len() - before.1
    }

    /// GitHub deployments of `repo` created since.
    pub fn new_deployments(&self, sandbox: &Fakes, repo: &str) -> usize {
        let before = self
            .deployments
            .iter()
            .find(|(r, _)| r == repo)
            .expect("a counted repo");
        deployments(sandbox, repo).len() - before.1
    }

    /// Checks that the deployed ones of `deploys` account for every build created
    /// since, and with the promoted ones for every GitHub deployment, each having its
    /// own.
    pub fn assert_one_each(&self, sandbox: &Fakes, deploys: &[DeployRow]) {
        let deployed: Vec<_> = deploys
            .iter()
            .filter(|d| d.state == DeployState::Deployed)
            .collect();
        let shipped: Vec<_> = deploys
            .iter()
            .filter(|d| d.state == DeployState::Deployed || d.state == DeployState::Promoted)
            .collect();
        for (app, _) in &self.builds {
            let expected = deployed
                .iter()
                .filter(|d| d.app_name.as_deref() == Some(app))
                .count();
            assert_eq!(
                self.new_builds(sandbox, app),
                expected,
                "{app}: one build per deploy"
            );
        }
        for (repo, _) in &self.deployments {
            let expected = shipped
                .iter()
                .filter(|d| d.repo.as_deref() == Some(repo))
                .count();
            let created = self.new_deployments(sandbox, repo);
            assert_eq!(
                created, expected,
                "{repo}: one GitHub deployment per deploy"
            );
        }
        let mut builds: Vec<_> = deployed.iter().map(|d| d.build_id.clone()).collect();
        let mut github: Vec<_> = shipped.iter().map(|d| d.github_deployment_id).collect();
        builds.sort();
        builds.dedup();
        github.sort();
        github.dedup();
        assert_eq!(builds.len(), deployed.len(), "no two deploys share a build");
        assert_eq!(
            github.len(),
            shipped.len(),
            "no two deploys or promotions share a GitHub deployment"
        );
    }
}

fn deployments(sandbox: &Fakes, repo: &str) -> Vec<DeploymentRecord> {
    sandbox
        .github
        .deployments(repo)
        .expect("a seeded repository")
}

/// Checks that `deploy` went all the way: deployed; its build is of its sha; its
/// thread's parent reads `Deployed <app>` with exactly its release notes and the four
/// stage replies, in order, none twice; its GitHub deployment is of its sha and its statuses end with
/// `success` (`inactive` aside: see below). That nothing was created twice is [`Before::assert_one_each`]'s part.
pub async fn assert_deployed_once(sandbox: &Fakes, store: &Store, deploy: &DeployRow) {
    let id = deploy.id;
    assert_eq!(
        (deploy.state.as_str(), deploy.failure.as_deref()),
        ("deployed", None),
        "deploy {id}"
    );
    let app = deploy.app_name.as_deref().expect("a deployed app");
    let sha = deploy.sha.as_deref().expect("a deployed sha");
    let build_id = deploy.build_id.as_deref().expect("a deployed build");
    let build = sandbox
        .heroku
        .builds(app)
        .into_iter()
        .find(|b| b.id == build_id)
        .unwrap_or_else(|| panic!("deploy {id}: its build {build_id} is not on {app}"));
    assert_eq!(
        build.source_blob.version.as_deref(),
        Some(sha),
        "deploy {id}: the build is of the sha the deploy records and shows"
    );
    let stages = ["Deploying", "Releasing", "Restarting", "Deployed"];
    let mut replies = vec![expected_notes(sandbox, deploy, app)];
    replies.extend(stages.map(|stage| format!("{stage} {app} ... duration: Ns")));
    let parent = format!("Deployed {app}");
    assert_thread(&sandbox.slack, store, id, &parent, &replies).await;
    assert_github_deployment(sandbox, deploy, sha);
}

/// Checks that promotion `promotion` of `source` into the single app `target` of
/// the production stage went all the way: promoted; exactly one Heroku promotion
/// from `source`, whose one new release on `target` runs the promoted slug; its
/// thread tells the release notes, the promotion and the target's story once each,
/// in order.
pub async fn assert_promoted_once(
    sandbox: &Fakes,
    store: &Store,
    promotion: &DeployRow,
    target: &str,
) {
    let id = promotion.id;
    assert_eq!(
        (promotion.state.as_str(), promotion.failure.as_deref()),
        ("promoted", None),
        "promotion {id}"
    );
    let source = promotion.source_app.as_deref().expect("a source app");
    let source_id = sandbox.heroku.app(source).id;
    let made: Vec<_> = sandbox
        .heroku
        .promotions()
        .into_iter()
        .filter(|p| p.source_app_id == source_id)
        .collect();
    assert_eq!(
        made.len(),
        1,
        "promotion {id}: one Heroku promotion of {source}"
    );
    let releases = sandbox.heroku.releases(target);
    assert_eq!(releases.len(), 1, "promotion {id}: one release of {target}");
    let promoted = sandbox
        .heroku
        .slug(releases[0].slug_id.as_deref().expect("a promoted slug"))
        .expect("the promoted slug");
    assert_eq!(
        promoted.commit, promotion.sha,
        "promotion {id}: {target} runs the promoted commit"
    );
    let replies = [
        expected_notes(sandbox, promotion, target),
        format!("Promoting {source} to production ... duration: Ns"),
        format!("Releasing {target} ... duration: Ns"),
        format!("Restarting {target} ... duration: Ns"),
        format!("Promoted {target} ... duration: Ns"),
    ];
    let parent = format!("Promoted {source} to production");
    assert_thread(&sandbox.slack, store, id, &parent, &replies).await;
}

pub async fn assert_thread(
    slack: &FakeSlack,
    store: &Store,
    id: i64,
    parent_text: &str,
    expected: &[String],
) {
    let (channel, ts) = store
        .thread_parent(&deploy_thread(id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("deploy {id} has no thread"));
    let parent = slack
        .channel_messages(&channel)
        .into_iter()
        .find(|m| m.ts == ts)
        .unwrap_or_else(|| panic!("deploy {id}: its parent is not in {channel}"));
    assert_eq!(parent.text, parent_text, "deploy {id}");
    let replies: Vec<_> = slack
        .thread(&channel, &ts)
        .iter()
        .map(|r| normalized(&r.text))
        .collect();
    assert_eq!(replies, expected, "deploy {id}: its thread");
}

fn assert_github_deployment(sandbox: &Fakes, deploy: &DeployRow, sha: &str) {
    let id = deploy.id;
    let repo = deploy.repo.as_deref().expect("a deployed repo");
    let wanted = deploy.github_deployment_id.expect("a GitHub deployment") as u64;
    let ours = deployments(sandbox, repo)
        .into_iter()
        .find(|d| d.id == wanted)
        .unwrap_or_else(|| panic!("deploy {id}: GitHub deployment {wanted} is not in {repo}"));
    assert_eq!(ours.sha, sha, "deploy {id}: the GitHub deployment's sha");
    // GitHub marks a deployment `inactive` when another one to the same environment
    // succeeds; many apps of one repo share the `staging` environment (the chaos and
    // pacing suites), so that may come before or after this deploy's own `success`.
    let states: Vec<_> = ours
        .statuses
        .iter()
        .map(|s| s.state.as_str())
        .filter(|state| *state != "inactive")
        .collect();
    assert_eq!(
        states.last(),
        Some(&"success"),
        "deploy {id}: statuses {states:?}"
    );
    assert!(
        states
            .iter()
            .all(|s| ["in_progress", "success"].contains(s)),
        "deploy {id}: statuses {states:?}"
    );
}
