//! `/h deploy` end to end: the real app over HTTP against the sandbox, on every
//! backend. Message texts are checked exactly, durations aside (`duration: Ns`).

use crate::common;

use std::time::Duration;

use chatops::store::DeployState;
use chatops_fakes::github::CiState;
use chatops_fakes::heroku::FakeHeroku;
use common::TestApp;
use common::deploys::{
    ALICE, DeployWorld, assert_state, expected_notes, finished_deploy, normalized, settle_outbox,
    thread_of_last_deploy,
};

async fn worlds() -> Vec<DeployWorld> {
    let mut worlds = Vec::new();
    for db in common::databases().await {
        worlds.push(DeployWorld::new(TestApp::spawn(db).await).await);
    }
    worlds
}

#[tokio::test]
async fn a_deploy_tells_its_story_in_one_parent_and_four_replies() {
    for world in worlds().await {
        let reply = world.command(ALICE, "deploy paipu to staging").await;
        assert_eq!(
            reply,
            "On it: deploying paipu to staging. Progress will show in this channel."
        );
        let deploy = finished_deploy(&world.app).await;
        assert_eq!(deploy.state, DeployState::Deployed, "{:?}", deploy.failure);
        settle_outbox(&world.app).await;

        let (parent, replies) = thread_of_last_deploy(&world.app);
        assert_eq!(normalized(&parent.text), "Deployed paipu-app-staging");
        assert_eq!(
            replies
                .iter()
                .map(|r| normalized(&r.text))
                .collect::<Vec<_>>(),
            [
                expected_notes(&world.app.sandbox, &deploy, "paipu-app-staging").as_str(),
                "Deploying paipu-app-staging ... duration: Ns",
                "Releasing paipu-app-staging ... duration: Ns",
                "Restarting paipu-app-staging ... duration: Ns",
                "Deployed paipu-app-staging ... duration: Ns",
            ]
        );
        let sha = world
            .app
            .sandbox
            .github
            .head("heroku/paipu-repo", "master")
            .unwrap();
        let context = parent.blocks[1]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            normalized(&context),
            format!(
                "heroku/paipu-repo - ref: master - SHA: {} - duration: Ns",
                &sha[..8]
            )
        );
        let builds = world.app.sandbox.heroku.builds("paipu-app-staging");
        let ours: Vec<_> = builds
            .iter()
            .filter(|b| b.source_blob.version.as_deref() == Some(sha.as_str()))
            .collect();
        assert_eq!(ours.len(), 1, "exactly one build of {sha}");
        let deployments = world
            .app
            .sandbox
            .github
            .deployments("heroku/paipu-repo")
            .unwrap();
        let states: Vec<_> = deployments
            .last()
            .unwrap()
            .statuses
            .iter()
            .map(|s| s.state.clone())
            .collect();
        assert_eq!(states, ["in_progress", "success"]);
        assert_eq!(
            world.app.db.store.app_locks().await.unwrap(),
            0,
            "the lock is released"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_failed_build_shows_the_log_tail_mentions_the_deployer_and_is_broadcast() {
    for world in worlds().await {
        world
            .app
            .sandbox
            .heroku
            .fail_next_build("paipu-app-staging");
        world.command(ALICE, "deploy paipu to staging").await;
        let deploy = finished_deploy(&world.app).await;
        assert_eq!(
            (deploy.state.as_str(), deploy.failure.as_deref()),
            ("failed", Some("the build failed"))
        );
        settle_outbox(&world.app).await;
        let (parent, replies) = thread_of_last_deploy(&world.app);
        assert_eq!(
            normalized(&parent.text),
            "Failed to deploy paipu-app-staging: the build failed"
        );
        let last = replies.last().unwrap();
        assert!(last.reply_broadcast);
        assert!(
            last.text
                .starts_with("<@U0ALICE> deploy of paipu-app-staging failed after "),
            "{}",
            last.text
        );
        assert!(
            last.text.contains("\n```\n"),
            "the log tail is shown: {}",
            last.text
        );
        assert_eq!(world.app.db.store.app_locks().await.unwrap(), 0);
        world.finish().await;
    }
}

#[tokio::test]
async fn refusals_before_anything_happens_are_answered_to_the_requester_alone() {
    for world in worlds().await {
        let builds_before = world.app.sandbox.heroku.builds("paipu-app-staging").len();
        let cases = [
            (
                "deploy nope to staging",
                "I can't find a pipeline called `nope` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy.",
            ),
            (
                "deploy paipu to development",
                "`paipu` has no app in its development stage. Its stages: production, staging.",
            ),
            (
                "deploy atlas to production",
                "The production stage of `atlas` has several apps: atlas-eu, atlas-us. Name one, e.g. `/h deploy atlas to production/atlas-eu`.",
            ),
            (
                "deploy atlas to production/atlas-mars",
                "`atlas-mars` is not an app of the production stage of `atlas`. Its apps there: atlas-eu, atlas-us.",
            ),
            (
                "deploy vault to production",
                "`vault` is not connected to a GitHub repository yet. Connect it once with `/h connect vault to <owner>/<repo>`, then deploy again.",
            ),
            (
                "deploy paipu/nope to staging",
                "There is no branch `nope` in heroku/paipu-repo (or you can't see it).",
            ),
        ];
        for (text, expected) in cases {
            world.command(ALICE, text).await;
            let deploy = finished_deploy(&world.app).await;
            assert_eq!(deploy.failure.as_deref(), Some(expected), "{text}");
            settle_outbox(&world.app).await;
            assert_eq!(world.last_response(), expected, "{text}");
        }
        let builds = world.app.sandbox.heroku.builds("paipu-app-staging");
        assert_eq!(builds.len(), builds_before, "no build was started");
        assert!(
            world
                .app
                .sandbox
                .slack
                .channel_messages("C0DEPLOYS")
                .is_empty(),
            "nothing was posted to the channel"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn pending_ci_refuses_with_the_checks_and_deploy_bang_goes_ahead() {
    for world in worlds().await {
        world
            .app
            .sandbox
            .github
            .set_ci("heroku/paipu-repo", "master", CiState::Pending)
            .unwrap();
        world.command(ALICE, "deploy paipu to staging").await;
        let sha = world
            .app
            .sandbox
            .github
            .head("heroku/paipu-repo", "master")
            .unwrap();
        let refused = finished_deploy(&world.app).await;
        assert_eq!(
            refused.failure.unwrap(),
            format!(
                "CI has not finished on heroku/paipu-repo@{} (master): waiting for ci/circleci, build. \
                 Try again when it is green, or deploy anyway with `/h deploy! paipu to staging`.",
                &sha[..8]
            )
        );
        world.command(ALICE, "deploy! paipu to staging").await;
        let forced = finished_deploy(&world.app).await;
        assert_eq!(forced.state, DeployState::Deployed, "{:?}", forced.failure);
        world.finish().await;
    }
}

#[tokio::test]
async fn a_two_factor_app_asks_for_the_code_and_accepts_it() {
    for world in worlds().await {
        world.command(ALICE, "connect vault to acme/vault").await;
        world.command(ALICE, "deploy vault to production").await;
        // Production asks first (tests/confirm.rs); the 2FA check comes after.
        world.answer_confirmation(1, ALICE, "confirm_go").await;
        let refused = finished_deploy(&world.app).await;
        assert_eq!(
            refused.failure.as_deref(),
            Some(
                // The confirmation stored the resolved app, so the hint names it.
                "vault-app-production is protected by two-factor authentication. Add a current code from your authenticator app at the end of the command: `/h deploy vault to production/vault-app-production 123456`."
            )
        );
        world
            .command(
                ALICE,
                &format!("deploy vault to production {}", FakeHeroku::TWO_FACTOR_CODE),
            )
            .await;
        world.answer_confirmation(2, ALICE, "confirm_go").await;
        let deployed = finished_deploy(&world.app).await;
        assert_state(&deployed, DeployState::Deployed);
        world.finish().await;
    }
}

#[tokio::test]
async fn a_second_deploy_to_a_busy_app_says_who_is_deploying() {
    for world in worlds().await {
        world
            .app
            .sandbox
            .heroku
            .set_build_duration("paipu-app-staging", Duration::from_secs(2));
        world.command(ALICE, "deploy paipu to staging").await;
        world.wait_for_state(1, DeployState::Building).await;
        world.command(ALICE, "deploy paipu to staging").await;
        let second = world.wait_finished(2).await;
        let sha = world
            .app
            .sandbox
            .github
            .head("heroku/paipu-repo", "master")
            .unwrap();
        let failure = second.failure.unwrap();
        let expected_start = "<@U0ALICE> is deploying paipu-app-staging (since ";
        assert!(failure.starts_with(expected_start), "{failure}");
        assert!(
            failure.ends_with(&format!(
                " UTC, sha {}). Try again when it is done.",
                &sha[..8]
            )),
            "{failure}"
        );
        assert_eq!(world.wait_finished(1).await.state, DeployState::Deployed);
        world.finish().await;
    }
}

#[tokio::test]
async fn a_failed_release_phase_and_a_crashed_dyno_end_the_deploy_with_the_reason() {
    for world in worlds().await {
        world
            .app
            .sandbox
            .heroku
            .fail_next_release("paipu-app-staging");
        world.command(ALICE, "deploy paipu to staging").await;
        let failed = finished_deploy(&world.app).await;
        let reason = failed.failure.unwrap();
        assert!(
            reason.starts_with("the release phase of v") && reason.ends_with(" failed"),
            "{reason}"
        );

        world
            .app
            .sandbox
            .heroku
            .crash_after_next_restart("paipu-app-staging", "web.1");
        world.command(ALICE, "deploy paipu to staging").await;
        let crashed = finished_deploy(&world.app).await;
        assert_eq!(
            crashed.failure.as_deref(),
            Some(
                "dyno web.1 crashed on the new release; `/h rollback paipu` brings back the previous one"
            )
        );
        settle_outbox(&world.app).await;
        let (parent, _) = thread_of_last_deploy(&world.app);
        assert_eq!(
            parent.text,
            "Failed to deploy paipu-app-staging: dyno web.1 crashed on the new release; `/h rollback paipu` brings back the previous one"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn red_ci_names_the_failing_checks() {
    for world in worlds().await {
        let sha = world
            .app
            .sandbox
            .github
            .set_ci("heroku/paipu-repo", "master", CiState::Red)
            .unwrap();
        world.command(ALICE, "deploy paipu").await;
        let refused = finished_deploy(&world.app).await;
        assert_eq!(
            refused.failure.unwrap(),
            format!(
                "CI is red on heroku/paipu-repo@{} (master) (failing: ci/circleci, build). Fix it, \
                 or deploy anyway with `/h deploy! paipu`.",
                &sha[..8]
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_person_without_heroku_access_is_told_so_and_nothing_starts() {
    for world in worlds().await {
        let bot = &world.app.state;
        chatops_sandbox::bot::link_user(
            bot,
            &world.app.sandbox,
            "T0SANDBOX",
            "U0BOB",
            "bob@example.com",
            "bob",
        )
        .await
        .unwrap();
        world.command("U0BOB", "deploy paipu to staging").await;
        let refused = finished_deploy(&world.app).await;
        assert_eq!(
            refused.failure.as_deref(),
            Some(
                "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy."
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn connect_checks_both_sides_before_linking_a_pipeline_to_a_repository() {
    for world in worlds().await {
        let cases = [
            (
                "connect vault to acme/vault",
                "Connected `vault` to acme/vault: `/h deploy vault` now builds its default branch (main).",
            ),
            (
                "connect nope to acme/vault",
                "I can't find a pipeline called `nope` on Heroku, or you can't see it. Run `/h pipelines` to list yours.",
            ),
            (
                "connect vault to acme/missing",
                "GitHub says acme/missing does not exist or you can't see it, so nothing was changed.",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(world.command(ALICE, text).await, expected, "{text}");
        }
        let repo = world
            .app
            .state
            .store
            .pipeline_repo("T0SANDBOX", "vault")
            .await
            .unwrap();
        assert_eq!(repo.as_deref(), Some("acme/vault"));
        world.finish().await;
    }
}

#[tokio::test]
async fn a_person_not_linked_is_asked_to_log_in_and_nothing_starts() {
    for world in worlds().await {
        let reply = world.command("U0CAROL", "deploy paipu to staging").await;
        assert!(
            reply.starts_with(
                "To run `/h deploy paipu to staging` I act as you on Heroku and GitHub"
            ),
            "{reply}"
        );
        assert!(world.app.state.store.deploys().await.unwrap().is_empty());
        world.finish().await;
    }
}
