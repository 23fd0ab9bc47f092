//! Release notes end to end: the first reply of every deploy, promotion and rollback
//! thread tells the commits it ships (or takes out), from GitHub's compare between
//! what the app ran and what it runs next; the GitHub deployment's description and
//! payload and the Heroku build's source description carry the short form. Texts are
//! checked exactly, on every backend.

use crate::common;

use axum::http::Method;
use chatops::store::{DeployRow, DeployState};
use chatops_fakes::github::DeploymentRecord;
use chatops_fakes::{Failure, FaultRule, SANDBOX_TEAM};
use common::TestApp;
use common::deploys::{
    ALICE, DeployWorld, assert_state, finished_deploy, settle_outbox, thread_of_last_deploy,
};
use serde_json::json;

const REPO: &str = "heroku/paipu-repo";
const STAGING: &str = "paipu-app-staging";

async fn worlds() -> Vec<DeployWorld> {
    let mut worlds = Vec::new();
    for db in common::databases().await {
        worlds.push(DeployWorld::new(TestApp::spawn(db).await).await);
    }
    worlds
}

/// Types `command`, waits for the change to end in `state`; returns it once its
/// messages are out.
async fn run(world: &DeployWorld, command: &str, state: DeployState) -> DeployRow {
    world.command(ALICE, command).await;
    let done = finished_deploy(&world.app).await;
    assert_state(&done, state);
    settle_outbox(&world.app).await;
    done
}

/// Pushes `commits` (message, author login) on master; returns the new head.
fn push(world: &DeployWorld, commits: &[(&str, &str)]) -> String {
    let github = &world.app.sandbox.github;
    let mut head = String::new();
    for (message, author) in commits {
        head = github.push_commit(REPO, "master", message, author).unwrap();
    }
    head
}

/// The first reply of the newest thread.
fn notes(world: &DeployWorld) -> String {
    let (_, replies) = thread_of_last_deploy(&world.app);
    replies.first().expect("a first reply").text.clone()
}

fn last_deployment(world: &DeployWorld) -> DeploymentRecord {
    let deployments = world.app.sandbox.github.deployments(REPO).unwrap();
    deployments.last().unwrap().clone()
}

/// The source description of `deploy`'s build, as Heroku keeps it.
fn build_description(world: &DeployWorld, deploy: &DeployRow) -> String {
    let builds = world.app.sandbox.heroku.builds(STAGING);
    let build = builds
        .iter()
        .find(|b| Some(&b.id) == deploy.build_id.as_ref())
        .expect("the deploy's build");
    build.source_blob.version_description.clone().unwrap()
}

fn compare_link(from: &str, to: &str) -> String {
    format!("<https://github.com/{REPO}/compare/{from}...{to}|Compare on GitHub>")
}

#[tokio::test]
async fn a_deploy_of_three_commits_lists_them_with_their_authors_everywhere() {
    for world in worlds().await {
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let ran = world.app.sandbox.github.head(REPO, "master").unwrap();
        let head = push(
            &world,
            &[
                ("Fix the login form\n\nIt lost the email.", "alice"),
                ("Speed up search", "erin"),
                ("Tidy the logs", "alice"),
            ],
        );
        let deploy = run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let (from, to) = (&ran[..8], &head[..8]);
        assert_eq!(
            notes(&world),
            format!(
                "*What this ships to paipu-app-staging:* 3 commits from {from} to {to}, by Alice \
                 Admin, Erin Engineer:\n• Fix the login form (Alice Admin)\n• Speed up search \
                 (Erin Engineer)\n• Tidy the logs (Alice Admin)\n{}",
                compare_link(&ran, &head)
            )
        );
        let short = format!("3 commits by Alice Admin, Erin Engineer ({from}...{to})");
        let deployment = last_deployment(&world);
        assert_eq!(
            deployment.description,
            format!("Deployed from Slack by chatops to paipu-app-staging: {short}")
        );
        assert_eq!(
            deployment.payload["release_notes"],
            json!({
                "summary": short, "from": ran, "to": head, "total_commits": 3,
                "compare_url": format!("https://github.com/{REPO}/compare/{ran}...{head}"),
            })
        );
        assert_eq!(
            build_description(&world, &deploy),
            format!(
                "{REPO}@{to}: {short} [{SANDBOX_TEAM}.{}] chatops deploy #{}",
                deploy.created_at, deploy.id
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_deploy_of_twelve_commits_lists_ten_and_counts_the_rest() {
    for world in worlds().await {
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let ran = world.app.sandbox.github.head(REPO, "master").unwrap();
        let messages: Vec<String> = (1..=12).map(|n| format!("Change {n}")).collect();
        let commits: Vec<(&str, &str)> = messages.iter().map(|m| (m.as_str(), "erin")).collect();
        let head = push(&world, &commits);
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let listed: Vec<String> = (1..=10)
            .map(|n| format!("• Change {n} (Erin Engineer)"))
            .collect();
        assert_eq!(
            notes(&world),
            format!(
                "*What this ships to paipu-app-staging:* 12 commits from {} to {}, by Erin \
                 Engineer:\n{}\n• … and 2 more\n{}",
                &ran[..8],
                &head[..8],
                listed.join("\n"),
                compare_link(&ran, &head)
            )
        );
        assert_eq!(
            last_deployment(&world).description,
            format!(
                "Deployed from Slack by chatops to paipu-app-staging: 12 commits by Erin Engineer ({}...{})",
                &ran[..8],
                &head[..8]
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_first_deploy_says_there_is_nothing_to_compare_with() {
    for world in worlds().await {
        let app = &world.app;
        app.sandbox
            .heroku
            .add_pipeline("fresh", &[("staging", "fresh-staging")]);
        let now = app.state.clock.now();
        app.db
            .store
            .set_pipeline_repo(SANDBOX_TEAM, "fresh", REPO, ALICE, now)
            .await
            .unwrap();
        let deploy = run(&world, "deploy fresh to staging", DeployState::Deployed).await;
        let head = &app.sandbox.github.head(REPO, "master").unwrap()[..8];
        assert_eq!(
            notes(&world),
            format!(
                "*What this ships to fresh-staging:* {head}, its first release: there is nothing \
                 earlier to compare with."
            )
        );
        assert_eq!(
            (deploy.replaced_version, deploy.replaced_sha.as_deref()),
            (Some(0), None)
        );
        let deployment = last_deployment(&world);
        assert_eq!(
            deployment.description,
            format!("Deployed from Slack by chatops to fresh-staging: {head}, the first release")
        );
        assert_eq!(deployment.payload["release_notes"]["from"], json!(null));
        world.finish().await;
    }
}

#[tokio::test]
async fn a_commit_message_cannot_mention_anyone_or_disguise_a_link() {
    for world in worlds().await {
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let ran = world.app.sandbox.github.head(REPO, "master").unwrap();
        let message = "Ship it <!channel> <https://evil.example|x>\n\n<!here> <@U0ALICE>";
        let head = push(&world, &[(message, "erin")]);
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        assert_eq!(
            notes(&world),
            format!(
                "*What this ships to paipu-app-staging:* 1 commit from {} to {}, by Erin \
                 Engineer:\n• Ship it &lt;!channel&gt; &lt;https://evil.example|x&gt; (Erin \
                 Engineer)\n{}",
                &ran[..8],
                &head[..8],
                compare_link(&ran, &head)
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_promotion_lists_what_it_brings_to_production() {
    for world in worlds().await {
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let ran = world.app.sandbox.github.head(REPO, "master").unwrap();
        world.command(ALICE, "promote paipu").await;
        world.answer_confirmation(2, ALICE, "confirm_go").await;
        assert_state(&world.wait_finished(2).await, DeployState::Promoted);
        let head = push(
            &world,
            &[("Add dark mode", "erin"), ("Fix dark mode", "alice")],
        );
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        world.command(ALICE, "promote paipu").await;
        world.answer_confirmation(4, ALICE, "confirm_go").await;
        assert_state(&world.wait_finished(4).await, DeployState::Promoted);
        settle_outbox(&world.app).await;
        let (from, to) = (&ran[..8], &head[..8]);
        assert_eq!(
            notes(&world),
            format!(
                "*What this ships to paipu-app-production:* 2 commits from {from} to {to}, by \
                 Erin Engineer, Alice Admin:\n• Add dark mode (Erin Engineer)\n• Fix dark mode \
                 (Alice Admin)\n{}",
                compare_link(&ran, &head)
            )
        );
        let deployment = last_deployment(&world);
        assert_eq!(
            (deployment.task.as_str(), deployment.description.as_str()),
            (
                "promote",
                format!(
                    "Promoted from Slack by chatops to paipu-app-production: 2 commits by Erin \
                     Engineer, Alice Admin ({from}...{to})"
                )
                .as_str()
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_rollback_lists_what_it_takes_out() {
    for world in worlds().await {
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let restored = world.app.sandbox.github.head(REPO, "master").unwrap();
        let head = push(
            &world,
            &[("Break the cart", "erin"), ("Break it more", "alice")],
        );
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        run(&world, "rollback paipu in staging", DeployState::RolledBack).await;
        assert_eq!(
            notes(&world),
            format!(
                "*What this takes out of paipu-app-staging:* 2 commits from {} to {}, by Erin \
                 Engineer, Alice Admin:\n• Break the cart (Erin Engineer)\n• Break it more \
                 (Alice Admin)\n{}",
                &restored[..8],
                &head[..8],
                compare_link(&restored, &head)
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_compare_github_cannot_make_leaves_the_notes_unavailable_and_the_deploy_goes_on() {
    for world in worlds().await {
        run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        let ran = world.app.sandbox.github.head(REPO, "master").unwrap();
        let head = push(&world, &[("Speed up search", "erin")]);
        let down = FaultRule::failing(
            Method::GET,
            &format!("/repos/{REPO}/compare/"),
            Failure::Status(502),
            1,
        )
        .forever();
        world.app.sandbox.github.faults.inject(down);
        let deploy = run(&world, "deploy paipu to staging", DeployState::Deployed).await;
        world.app.sandbox.github.faults.clear();
        assert_eq!(deploy.sha.as_deref(), Some(head.as_str()));
        let (from, to) = (&ran[..8], &head[..8]);
        assert_eq!(
            notes(&world),
            format!(
                "*What this ships to paipu-app-staging:* release notes unavailable: GitHub can't \
                 compare {from} with {to} in {REPO} (502 Bad Gateway: injected 502 Bad Gateway)."
            )
        );
        assert_eq!(
            last_deployment(&world).description,
            format!(
                "Deployed from Slack by chatops to paipu-app-staging: release notes unavailable: \
                 GitHub can't compare {from} with {to}"
            )
        );
        world.finish().await;
    }
}
