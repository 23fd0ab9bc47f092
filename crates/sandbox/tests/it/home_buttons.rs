//! The Home tab's Deploy and Promote buttons end to end: a signed `block_actions`
//! from the Home view (which Slack sends without a `response_url`), run as whoever
//! pressed it, with their own tokens and the production confirmation, answered to
//! them alone in the channel of the pipeline's last deploy. Forged values and people
//! who cannot see the pipeline are tried first. On every backend.

use crate::common;
use crate::home::{home_until, open_home};

use chatops::store::DeployState;
use chatops_fakes::SANDBOX_TEAM;
use common::commands::BOB;
use common::deploys::{ALICE, CHANNEL, DeployWorld, assert_state, finished_deploy, settle_outbox};
use common::{SECRET, TestApp, signed_headers};
use serde_json::json;

/// A world per backend, production confirmation on, every pipeline deployed once by
/// Alice in #deploys (so their buttons post there), and Bob linked to the fakes' bob,
/// who sees no pipeline.
async fn worlds() -> Vec<DeployWorld> {
    let mut worlds = Vec::new();
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        chatops_sandbox::bot::link_user(
            &world.app.state,
            &world.app.sandbox,
            SANDBOX_TEAM,
            BOB,
            "bob@example.com",
            "bob",
        )
        .await
        .unwrap();
        world.command(ALICE, "deploy paipu to staging").await;
        assert_state(&finished_deploy(&world.app).await, DeployState::Deployed);
        worlds.push(world);
    }
    worlds
}

/// `user` presses a button of their Home tab: Slack's payload for a view, which has a
/// `view` and a `container` but no `response_url` and no `channel`.
async fn press_home(world: &DeployWorld, user: &str, action_id: &str, value: &str) -> u16 {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "team_id": SANDBOX_TEAM},
        "team": {"id": SANDBOX_TEAM, "domain": "sandbox"},
        "api_app_id": "A0CHATOPS01",
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME", "type": "home", "team_id": SANDBOX_TEAM},
        "trigger_id": format!("{}.{}", common::now(), fastrand::u64(..)),
        "actions": [{"action_id": action_id, "block_id": "home:paipu:staging", "value": value,
                     "type": "button", "action_ts": "1.2"}],
    });
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let headers = signed_headers(SECRET, world.app.state.clock.now(), &body);
    let (status, _) = world.app.post("/slack/interactions", &headers, body).await;
    status
}

/// What `user` alone saw in #deploys, oldest first.
fn ephemerals(world: &DeployWorld, user: &str) -> Vec<String> {
    let slack = &world.app.sandbox.slack;
    slack
        .ephemerals(CHANNEL, user)
        .into_iter()
        .map(|e| e.text)
        .collect()
}

#[tokio::test]
async fn forged_values_and_people_who_cannot_see_the_pipeline_start_nothing() {
    for world in worlds().await {
        let before = world.app.state.store.deploys().await.unwrap().len();
        for (action, value) in [
            ("home_deploy", "deploy! paipu to production"),
            ("home_deploy", "deploy paipu to production 123456"),
            ("home_deploy", "lock paipu production"),
            ("home_deploy", "promote paipu"),
            ("home_promote", "deploy paipu to staging"),
            ("home_deploy", "deploy nope to staging"),
        ] {
            assert_eq!(
                press_home(&world, ALICE, action, value).await,
                200,
                "{value}"
            );
        }
        assert_eq!(
            press_home(&world, BOB, "home_deploy", "deploy paipu to staging").await,
            200
        );
        settle_outbox(&world.app).await;
        assert_eq!(
            world.app.state.store.deploys().await.unwrap().len(),
            before + 1,
            "only Bob's press was a button's value"
        );
        let bobs = finished_deploy(&world.app).await;
        assert_eq!(
            (bobs.user_id.as_str(), bobs.state),
            (BOB, DeployState::Failed)
        );
        settle_outbox(&world.app).await;
        assert_eq!(ephemerals(&world, ALICE), Vec::<String>::new());
        assert_eq!(
            ephemerals(&world, BOB),
            [
                "On it: deploying paipu to staging. Progress will show in this channel.",
                "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy."
            ]
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn deploy_and_promote_from_home_run_as_the_presser_with_the_production_confirmation() {
    for world in worlds().await {
        open_home(&world, SANDBOX_TEAM, ALICE).await;
        let buttons = "[Deploy to staging|home_deploy|deploy paipu to staging] \
                       [Promote to production|home_promote|promote paipu from staging to production]";
        home_until(&world, SANDBOX_TEAM, ALICE, |t| {
            t.iter().any(|t| t == buttons)
        })
        .await;
        assert_eq!(
            press_home(&world, ALICE, "home_deploy", "deploy paipu to staging").await,
            200
        );
        let deploy = world.wait_finished(2).await;
        assert_state(&deploy, DeployState::Deployed);
        assert_eq!(
            (deploy.user_id.as_str(), deploy.channel_id.as_str()),
            (ALICE, CHANNEL)
        );

        let promote = "promote paipu from staging to production";
        assert_eq!(
            press_home(&world, ALICE, "home_promote", promote).await,
            200
        );
        let asking = world.wait_for_state(3, DeployState::Confirming).await;
        settle_outbox(&world.app).await;
        let slack = &world.app.sandbox.slack;
        let card = slack.ephemerals(CHANNEL, ALICE).pop().unwrap();
        assert_eq!(card.text, "Promote paipu-app-staging to production?");
        assert_eq!(card.blocks[2]["elements"][0]["action_id"], "confirm_go");
        // The card's buttons come back with a response_url, as any message's do.
        assert_eq!(
            world
                .press(ALICE, "confirm_go", &asking.id.to_string())
                .await,
            200
        );
        assert_state(&world.wait_finished(3).await, DeployState::Promoted);
        settle_outbox(&world.app).await;
        assert_eq!(
            ephemerals(&world, ALICE)[..2],
            [
                "On it: deploying paipu to staging. Progress will show in this channel.",
                "On it: promoting paipu from staging to production. Progress will show in this channel.",
            ]
        );
        world.finish().await;
    }
}
