//! `/h promote` end to end: the real app over HTTP against the sandbox, on every
//! backend. Staging is deployed first (so it runs a commit GitHub knows), then
//! promoted; message texts are checked exactly, durations aside.

use crate::common;

use chatops::store::DeployState;
use chatops_fakes::github::CiState;
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

/// Deploys `pipeline`'s default branch to staging; returns the sha now running there.
async fn staging_runs_master(
    world: &DeployWorld,
    pipeline: &str,
    repo: &str,
    branch: &str,
) -> String {
    world
        .command(ALICE, &format!("deploy {pipeline} to staging"))
        .await;
    let deployed = finished_deploy(&world.app).await;
    assert_state(&deployed, DeployState::Deployed);
    world.app.sandbox.github.head(repo, branch).unwrap()
}

fn texts(replies: &[chatops_fakes::slack::ChannelMessage]) -> Vec<String> {
    replies.iter().map(|r| normalized(&r.text)).collect()
}

#[tokio::test]
async fn a_promotion_to_a_two_app_stage_tells_each_targets_story() {
    for world in worlds().await {
        let sha = staging_runs_master(&world, "atlas", "acme/atlas", "main").await;
        let reply = world.command(ALICE, "promote atlas").await;
        assert_eq!(
            reply,
            "On it: promoting atlas to production. Progress will show in this channel."
        );
        world.answer_confirmation(2, ALICE, "confirm_go").await;
        let promotion = finished_deploy(&world.app).await;
        assert_state(&promotion, DeployState::Promoted);
        settle_outbox(&world.app).await;

        let (parent, replies) = thread_of_last_deploy(&world.app);
        assert_eq!(parent.text, "Promoted atlas-staging to production");
        let context = parent.blocks[1]["elements"][0]["text"].as_str().unwrap();
        assert_eq!(
            normalized(context),
            format!(
                "acme/atlas - release: atlas-staging v{} - SHA: {} - duration: Ns",
                promotion.source_version.unwrap(),
                &sha[..8]
            )
        );
        let texts = texts(&replies);
        assert_eq!(
            texts[..2],
            [
                expected_notes(&world.app.sandbox, &promotion, "atlas-eu"),
                "Promoting atlas-staging to production ... duration: Ns".into()
            ]
        );
        assert_eq!(texts.len(), 8, "{texts:?}");
        for target in ["atlas-eu", "atlas-us"] {
            let story: Vec<_> = texts[2..].iter().filter(|t| t.contains(target)).collect();
            assert_eq!(
                story,
                [
                    &format!("Releasing {target} ... duration: Ns"),
                    &format!("Restarting {target} ... duration: Ns"),
                    &format!("Promoted {target} ... duration: Ns"),
                ]
            );
        }
        let heroku = &world.app.sandbox.heroku;
        assert_eq!(heroku.promotions().len(), 1, "exactly one promotion");
        for target in ["atlas-eu", "atlas-us"] {
            let current = heroku
                .releases(target)
                .into_iter()
                .find(|r| r.current)
                .unwrap();
            let slug = heroku.slug(current.slug_id.as_deref().unwrap()).unwrap();
            assert_eq!(
                slug.commit.as_deref(),
                Some(sha.as_str()),
                "{target} runs {sha}"
            );
        }
        let deployments = world.app.sandbox.github.deployments("acme/atlas").unwrap();
        let promoted = deployments.last().unwrap();
        assert_eq!(
            (
                promoted.task.as_str(),
                promoted.environment.as_str(),
                promoted.sha.as_str()
            ),
            ("promote", "production", sha.as_str())
        );
        let states: Vec<_> = promoted.statuses.iter().map(|s| s.state.as_str()).collect();
        assert_eq!(states, ["in_progress", "success"]);
        world.finish().await;
    }
}

#[tokio::test]
async fn a_promotion_to_one_named_app_leaves_the_others_alone() {
    for world in worlds().await {
        staging_runs_master(&world, "atlas", "acme/atlas", "main").await;
        let us_before = world.app.sandbox.heroku.releases("atlas-us").len();
        world
            .command(ALICE, "promote atlas from staging to production/atlas-eu")
            .await;
        world.answer_confirmation(2, ALICE, "confirm_go").await;
        let promotion = finished_deploy(&world.app).await;
        assert_state(&promotion, DeployState::Promoted);
        settle_outbox(&world.app).await;
        let (parent, replies) = thread_of_last_deploy(&world.app);
        assert_eq!(parent.text, "Promoted atlas-staging to production/atlas-eu");
        assert_eq!(
            texts(&replies),
            [
                expected_notes(&world.app.sandbox, &promotion, "atlas-eu").as_str(),
                "Promoting atlas-staging to production/atlas-eu ... duration: Ns",
                "Releasing atlas-eu ... duration: Ns",
                "Restarting atlas-eu ... duration: Ns",
                "Promoted atlas-eu ... duration: Ns",
            ]
        );
        assert_eq!(
            world.app.sandbox.heroku.releases("atlas-us").len(),
            us_before
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn refusals_name_what_was_wrong_and_nothing_is_promoted() {
    for world in worlds().await {
        let bot = &world.app.state;
        let sandbox = &world.app.sandbox;
        sandbox.heroku.add_pipeline(
            "empty",
            &[("staging", "empty-staging"), ("production", "empty-prod")],
        );
        chatops_sandbox::bot::link_user(
            bot,
            sandbox,
            "T0SANDBOX",
            "U0BOB",
            "bob@example.com",
            "bob",
        )
        .await
        .unwrap();
        let cases = [
            (
                ALICE,
                "promote nope",
                "I can't find a pipeline called `nope` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy.",
            ),
            (
                "U0BOB",
                "promote atlas",
                "I can't find a pipeline called `atlas` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy.",
            ),
            (
                ALICE,
                "promote paipu from staging to development",
                "`paipu` has no app in its development stage. Its stages: production, staging.",
            ),
            (
                ALICE,
                "promote atlas from staging to production/atlas-mars",
                "`atlas-mars` is not an app of the production stage of `atlas`. Its apps there: atlas-eu, atlas-us.",
            ),
            (
                ALICE,
                "promote empty",
                "empty-staging has no release to promote yet. Deploy to it first: `/h deploy empty to staging/empty-staging`.",
            ),
        ];
        for (user, text, expected) in cases {
            world.command(user, text).await;
            let refused = finished_deploy(&world.app).await;
            assert_eq!(refused.failure.as_deref(), Some(expected), "{text}");
            settle_outbox(&world.app).await;
            assert_eq!(world.last_response(), expected, "{text}");
        }
        assert!(world.app.sandbox.heroku.promotions().is_empty());
        assert!(
            world
                .app
                .sandbox
                .slack
                .channel_messages("C0DEPLOYS")
                .is_empty()
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn red_ci_on_the_promoted_commit_refuses_and_promote_bang_goes_ahead() {
    for world in worlds().await {
        let sha = staging_runs_master(&world, "paipu", "heroku/paipu-repo", "master").await;
        let github = &world.app.sandbox.github;
        github
            .set_ci("heroku/paipu-repo", "master", CiState::Red)
            .unwrap();
        world.command(ALICE, "promote paipu").await;
        let refused = finished_deploy(&world.app).await;
        let staging = world.app.sandbox.heroku.releases("paipu-app-staging");
        let version = staging.iter().find(|r| r.current).unwrap().version;
        assert_eq!(
            refused.failure.unwrap(),
            format!(
                "CI is red on heroku/paipu-repo@{} (paipu-app-staging v{version}) (failing: ci/circleci, build). \
                 Fix it, or promote anyway with `/h promote! paipu`.",
                &sha[..8]
            )
        );
        world.command(ALICE, "promote! paipu").await;
        world.answer_confirmation(3, ALICE, "confirm_go").await;
        let forced = finished_deploy(&world.app).await;
        assert_eq!(forced.state, DeployState::Promoted, "{:?}", forced.failure);
        world.finish().await;
    }
}
