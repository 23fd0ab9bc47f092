//! `chatops rekey` after a key rotation: every sealed value (tokens, a workspace's bot
//! token, deploys' response_urls, queued answers) is sealed again under the new key,
//! so it opens without the previous one, and the app's Heroku webhook is registered
//! again with the secret the new key derives; a second run changes nothing. On every
//! backend.

use crate::common;

use chatops::bot::{Bot, BotState};
use chatops::store::{DeployState, SealedPlace};
use common::deploys::{ALICE, DeployWorld, finished_deploy, settle_outbox};
use common::{PATIENCE, TestApp};
use secrecy::SecretString;

const STAGING: &str = "paipu-app-staging";

/// The world's bot, on the same database, keyed by `key` (and `previous`).
fn keyed(world: &DeployWorld, key: &str, previous: Option<SecretString>) -> BotState {
    let app = &world.app;
    let mut config = chatops_sandbox::bot_config(&app.sandbox, 0, &app.base_url, &app.db.url);
    config.encryption_key = key.to_owned().into();
    config.encryption_key_previous = previous;
    let bot = Bot::new(
        config,
        app.db.store.clone(),
        app.state.clock.clone(),
        PATIENCE,
    );
    BotState::new(bot.unwrap())
}

#[tokio::test]
async fn rekey_reseals_everything_under_the_new_key_and_reregisters_webhooks_once() {
    let new_key = "c3".repeat(32);
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        world.command(ALICE, "deploy paipu to staging").await;
        assert_eq!(
            finished_deploy(&world.app).await.state,
            DeployState::Deployed
        );
        // A production confirmation and its answer: answers queued with a sealed
        // response_url.
        world.command(ALICE, "deploy paipu to production").await;
        world.answer_confirmation(2, ALICE, "confirm_cancel").await;
        settle_outbox(&world.app).await;
        let old_secret = chatops::webhooks::delivery_secret(&world.app.state);
        let hooks = world.app.sandbox.heroku.webhooks(STAGING);
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].secret, old_secret);
        let before = world.app.db.store.sealed_values().await.unwrap();
        let count =
            |wanted: fn(&SealedPlace) -> bool| before.iter().filter(|v| wanted(&v.place)).count();
        let tokens = count(|p| matches!(p, SealedPlace::User { .. }));
        let deploys = count(|p| matches!(p, SealedPlace::DeployResponseUrl { .. }));
        let answers = count(|p| matches!(p, SealedPlace::OutboxBody { .. }));
        assert!(tokens >= 2 && deploys == 2 && answers >= 2, "{before:?}");

        let old_key = world.app.state.config.encryption_key.clone();
        let rotated = keyed(&world, &new_key, Some(old_key));
        let report = chatops::rekey::rekey(&rotated).await.unwrap();
        assert_eq!(
            report.to_string(),
            format!(
                "re-sealed {tokens} tokens, 0 workspace bot tokens, 2 deploy values and {answers} \
                 queued answers; re-registered 1 webhooks"
            )
        );
        let hooks = world.app.sandbox.heroku.webhooks(STAGING);
        assert_eq!(hooks.len(), 1, "the old subscription was replaced");
        assert_eq!(
            hooks[0].secret,
            chatops::webhooks::delivery_secret(&rotated)
        );
        assert_ne!(hooks[0].secret, old_secret);

        let again = chatops::rekey::rekey(&rotated).await.unwrap();
        assert_eq!(
            again.to_string(),
            "re-sealed 0 tokens, 0 workspace bot tokens, 0 deploy values and 0 queued answers; \
             re-registered 0 webhooks"
        );

        // The previous key retired: everything opens with the new one alone.
        let retired = keyed(&world, &new_key, None);
        assert_eq!(
            chatops::rekey::rekey(&retired).await.unwrap(),
            Default::default()
        );
        let linked = chatops::accounts::linked(&retired, chatops_fakes::SANDBOX_TEAM, ALICE).await;
        assert!(linked.is_ok(), "{:?}", linked.err());
        world.finish().await;
    }
}
