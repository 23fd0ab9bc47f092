//! Notification routes end to end: `/h route`, deploys from chat shown in the routed
//! channel too, and releases made outside chat announced there exactly once, through
//! Heroku's webhook and through the polling fallback.

use crate::common;

use axum::http::Method;
use chatops::store::DeployState;
use chatops_fakes::{Failure, FaultRule};
use secrecy::SecretString;

use common::commands::{BOB, GENERAL, alice, channel_texts, say, wait_for_post, worlds};
use common::deploys::{DeployWorld, finished_deploy, normalized, settle_outbox};

const ROUTED: &str = "<@U0ALICE> routed `paipu` to #general: deploys started from Slack and releases made elsewhere (CLI, dashboard, git push) are posted there.";

/// Rolls `app` back to `version` with Alice's Heroku token, as the CLI would.
async fn rollback_outside_chat(world: &DeployWorld, app: &str, version: u64) {
    let heroku = &world.app.sandbox.heroku;
    let token: SecretString = heroku.token_for("alice@example.com").into();
    let target = heroku
        .releases(app)
        .into_iter()
        .find(|release| release.version == version)
        .unwrap();
    world
        .app
        .state
        .heroku
        .rollback(&token, app, &target.id, None)
        .await
        .unwrap();
}

async fn announced_once(world: &DeployWorld, text: &str) {
    wait_for_post(world, GENERAL, |posted| posted == text).await;
    // A poll after the fact (as another process would run) finds nothing new.
    chatops::channels::announce::poll(&world.app.state)
        .await
        .unwrap();
    settle_outbox(&world.app).await;
    let posts = channel_texts(world, GENERAL);
    assert_eq!(
        posts.iter().filter(|posted| *posted == text).count(),
        1,
        "{posts:#?}"
    );
}

#[tokio::test]
async fn route_sets_the_channel_subscribes_the_apps_and_lists_what_comes_here() {
    for (world, _) in worlds(common::now()).await {
        let routed = say(
            &world,
            common::deploys::ALICE,
            "route paipu to <#C0GENERAL|general>",
        )
        .await;
        assert!(routed.in_channel);
        assert_eq!(routed.text, ROUTED);
        assert_eq!(
            alice(&world, "route").await,
            "No pipeline's notifications come to this channel. Send one here with `/h route <pipeline> to #<channel>`."
        );
        alice(&world, "route atlas to <#C0DEPLOYS|deploys>").await;
        assert_eq!(
            alice(&world, "route").await,
            "Notifications of `atlas` come to this channel."
        );
        assert_eq!(
            say(&world, BOB, "route paipu to #general").await.text,
            "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
        );
        let url = format!("{}/webhooks/heroku", world.app.base_url);
        for app in ["paipu-app-staging", "paipu-app-production"] {
            let hooks = world.app.sandbox.heroku.webhooks(app);
            assert!(
                hooks.iter().any(|hook| hook.url == url),
                "{app} is subscribed"
            );
        }
        world.finish().await;
    }
}

#[tokio::test]
async fn a_deploy_from_chat_also_shows_in_the_routed_channel_and_is_not_announced_again() {
    for (world, _) in worlds(common::now()).await {
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        alice(&world, "deploy paipu to staging").await;
        let deploy = finished_deploy(&world.app).await;
        assert_eq!(deploy.state, DeployState::Deployed, "{:?}", deploy.failure);
        settle_outbox(&world.app).await;
        assert_eq!(
            chatops::channels::announce::poll(&world.app.state)
                .await
                .unwrap(),
            0,
            "our own release is told by the deploy thread, not announced"
        );
        settle_outbox(&world.app).await;
        let general: Vec<String> = channel_texts(&world, GENERAL)
            .iter()
            .map(|t| normalized(t))
            .collect();
        assert_eq!(general, ["Deployed paipu-app-staging"]);
        world.finish().await;
    }
}

#[tokio::test]
async fn a_release_made_outside_chat_is_announced_once_through_the_webhook() {
    for (world, _) in worlds(common::now()).await {
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        rollback_outside_chat(&world, "paipu-app-staging", 229).await;
        announced_once(
            &world,
            "v231 of paipu-app-staging released by alice@example.com: Rollback to v229",
        )
        .await;
        let deliveries = world.app.sandbox.heroku.deliveries();
        assert!(
            deliveries
                .iter()
                .any(|d| d.include == "api:release" && d.succeeded),
            "the webhook delivered: {deliveries:#?}"
        );
        assert!(
            channel_texts(&world, GENERAL)
                .iter()
                .all(|text| !text.contains("v230")),
            "releases older than the route are not announced"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_release_the_webhook_missed_is_announced_once_by_polling() {
    for (world, _) in worlds(common::now()).await {
        let heroku = &world.app.sandbox.heroku;
        heroku.faults.inject(
            FaultRule::failing(
                Method::POST,
                "/apps/paipu-app-production/webhooks",
                Failure::Status(503),
                1,
            )
            .forever(),
        );
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        assert!(heroku.webhooks("paipu-app-production").is_empty());
        rollback_outside_chat(&world, "paipu-app-production", 41).await;
        let text = "v43 of paipu-app-production released by alice@example.com: Rollback to v41";
        // The background poller may get there first; either way it is told once.
        chatops::channels::announce::poll(&world.app.state)
            .await
            .unwrap();
        announced_once(&world, text).await;
        world.finish().await;
    }
}
