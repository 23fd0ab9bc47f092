//! Sticky locks end to end: `/h lock`, `/h unlock[!]`, deploys refused into a locked
//! stage, expiry announced once, and `/h history` telling it all. Each app's clock
//! starts at 14:02:10 UTC so the times in the texts are fixed.

use crate::common;

use chatops::store::DeployState;
use common::commands::{BOB, BRUNO, alice, channel_texts, say, wait_for_post, worlds};
use common::deploys::{
    ALICE, CHANNEL, DeployWorld, assert_state, finished_deploy, normalized, settle_outbox,
};

/// 2026-12-02T14:02:10Z.
const AT_14_02: i64 = 1_796_083_200 + 14 * 3600 + 2 * 60 + 10;

/// Deploys `text` as `user` and returns the refusal the requester was sent.
async fn refused(world: &DeployWorld, user: &str, text: &str) -> String {
    say(world, user, text).await;
    let deploy = finished_deploy(&world.app).await;
    assert_eq!(deploy.state, DeployState::Failed);
    settle_outbox(&world.app).await;
    world.last_response()
}

#[tokio::test]
async fn a_locked_stage_refuses_deploys_with_who_why_and_until() {
    for (world, _) in worlds(AT_14_02).await {
        let locked = say(&world, BRUNO, "lock paipu production for 2h release freeze").await;
        assert!(locked.in_channel);
        assert_eq!(
            locked.text,
            "<@U0BRUNO> locked paipu production until 16:02 UTC: release freeze. Deploys, promotions and rollbacks there are refused until it is unlocked (`/h unlock paipu production`)."
        );
        assert_eq!(
            refused(&world, ALICE, "deploy paipu to production").await,
            "paipu production is locked by <@U0BRUNO> since 14:02 UTC (until 16:02 UTC): release freeze. Ask <@U0BRUNO>, or remove the lock with `/h unlock! paipu production` (the channel is told)."
        );
        assert_eq!(
            refused(&world, ALICE, "deploy! paipu to production").await,
            "paipu production is locked by <@U0BRUNO> since 14:02 UTC (until 16:02 UTC): release freeze. Ask <@U0BRUNO>, or remove the lock with `/h unlock! paipu production` (the channel is told).",
            "someone else's `!` does not open a lock"
        );
        assert_eq!(
            refused(&world, BRUNO, "deploy paipu to production").await,
            "paipu production is locked by <@U0BRUNO> since 14:02 UTC (until 16:02 UTC): release freeze (your lock). Add `!` to the command to go ahead anyway, or `/h unlock paipu production` first."
        );
        say(&world, BRUNO, "deploy! paipu to production").await;
        let deploy = finished_deploy(&world.app).await;
        assert_eq!(deploy.state, DeployState::Deployed, "{:?}", deploy.failure);
        let production = world.app.sandbox.heroku.builds("paipu-app-production");
        assert_eq!(
            production
                .iter()
                .filter(|b| b.source_blob.version == deploy.sha)
                .count(),
            1,
            "only the owner's forced deploy built"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn only_the_owner_unlocks_unless_forced_and_bad_targets_are_explained() {
    for (world, _) in worlds(AT_14_02).await {
        say(
            &world,
            BRUNO,
            "lock paipu staging/paipu-app-staging Waiting for QA",
        )
        .await;
        let cases = [
            (
                "unlock paipu staging/paipu-app-staging",
                "paipu staging/paipu-app-staging is locked by <@U0BRUNO> since 14:02 UTC: Waiting for QA. Only <@U0BRUNO> can unlock it; `/h unlock! paipu staging/paipu-app-staging` removes it anyway (the channel is told).",
            ),
            (
                "lock paipu staging/paipu-app-staging mine now",
                "Already locked: paipu staging/paipu-app-staging is locked by <@U0BRUNO> since 14:02 UTC: Waiting for QA. Only <@U0BRUNO> can change it; `/h unlock! paipu staging/paipu-app-staging` removes it (the channel is told).",
            ),
            (
                "unlock paipu staging",
                "paipu staging is not locked, so there is nothing to unlock.",
            ),
            (
                "lock paipu review",
                "`paipu` has no app in its review stage. Its stages: staging, production.",
            ),
            (
                "lock paipu staging/nope",
                "`nope` is not an app of the staging stage of `paipu`. Its apps there: paipu-app-staging.",
            ),
        ];
        for (text, answer) in cases {
            assert_eq!(alice(&world, text).await, answer, "{text}");
        }
        assert_eq!(
            say(&world, BOB, "lock paipu production").await.text,
            "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
        );
        let forced = say(&world, ALICE, "unlock! paipu staging/paipu-app-staging").await;
        assert!(forced.in_channel);
        assert_eq!(
            forced.text,
            "<@U0ALICE> removed <@U0BRUNO>'s lock on paipu staging/paipu-app-staging (Waiting for QA)."
        );
        say(&world, BRUNO, "lock paipu production").await;
        assert_eq!(
            say(&world, BRUNO, "unlock paipu production").await.text,
            "<@U0BRUNO> unlocked paipu production."
        );
        assert_eq!(
            alice(&world, "history paipu").await,
            "History of paipu, newest first:\n\
             • just now: <@U0BRUNO> unlocked production\n\
             • just now: <@U0BRUNO> locked production\n\
             • just now: <@U0ALICE> removed <@U0BRUNO>'s lock on staging/paipu-app-staging\n\
             • just now: <@U0BRUNO> locked staging/paipu-app-staging: Waiting for QA"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn an_expired_lock_ends_and_is_announced_once_where_it_was_set() {
    for (world, clock) in worlds(AT_14_02).await {
        say(
            &world,
            BRUNO,
            "lock paipu production for 30m release freeze",
        )
        .await;
        clock.advance(31 * 60);
        let notice = "<@U0BRUNO>'s lock on paipu production ended at 14:32 UTC (release freeze): deploys, promotions and rollbacks there are allowed again.";
        wait_for_post(&world, CHANNEL, |text| text == notice).await;
        // Another sweep (as a second process would run) finds nothing left to end.
        assert_eq!(
            chatops::locks::sweep::sweep(&world.app.state)
                .await
                .unwrap(),
            0
        );
        settle_outbox(&world.app).await;
        let told = channel_texts(&world, CHANNEL);
        assert_eq!(told.iter().filter(|text| *text == notice).count(), 1);
        assert_eq!(
            alice(&world, "history paipu in production").await,
            "History of paipu in production, newest first:\n\
             • just now: <@U0BRUNO>'s lock on production expired\n\
             • 31m ago: <@U0BRUNO> locked production until 14:32 UTC: release freeze"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn history_tells_deploys_with_branch_sha_and_ending_and_refusals() {
    for (world, clock) in worlds(AT_14_02).await {
        assert_eq!(
            alice(&world, "history paipu").await,
            "Nothing was done to paipu from Slack yet."
        );
        alice(&world, "deploy paipu to staging").await;
        let deployed = finished_deploy(&world.app).await;
        let sha = deployed.sha.clone().unwrap();
        // The lock comes a minute later, so the timeline's order is not a tie.
        clock.advance(60);
        say(&world, BRUNO, "lock paipu production").await;
        refused(&world, ALICE, "deploy paipu to production").await;
        let history = normalized(&alice(&world, "history paipu").await);
        assert_eq!(
            history,
            format!(
                "History of paipu, newest first:\n\
                 • just now: <@U0ALICE> deploy of paipu to production: failed after Ns: paipu production is locked by <@U0BRUNO> since 14:03 UTC. Ask <@U0BRUNO>, or remove the lock with `/h unlock! paipu production` (the channel is told).\n\
                 • just now: <@U0BRUNO> locked production\n\
                 • 1m ago: <@U0ALICE> deploy of paipu/master ({}) to paipu-app-staging: deployed after Ns",
                &sha[..8]
            )
        );
        assert_eq!(
            normalized(&alice(&world, "history paipu in staging").await),
            format!(
                "History of paipu in staging, newest first:\n\
                 • 1m ago: <@U0ALICE> deploy of paipu/master ({}) to paipu-app-staging: deployed after Ns",
                &sha[..8]
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn promotions_and_rollbacks_respect_locks_and_a_rollback_locks_its_stage() {
    for (world, _) in worlds(AT_14_02).await {
        say(&world, BRUNO, "lock paipu production release freeze").await;
        assert_eq!(
            refused(&world, ALICE, "promote paipu").await,
            "paipu production is locked by <@U0BRUNO> since 14:02 UTC: release freeze. Ask <@U0BRUNO>, or remove the lock with `/h unlock! paipu production` (the channel is told)."
        );
        assert_eq!(
            refused(&world, ALICE, "rollback paipu").await,
            "paipu production is locked by <@U0BRUNO> since 14:02 UTC: release freeze. Ask <@U0BRUNO>, or remove the lock with `/h unlock! paipu production` (the channel is told)."
        );
        let running = world.app.sandbox.heroku.releases("paipu-app-staging");
        let running = running.iter().find(|r| r.current).unwrap().version;
        say(&world, ALICE, "rollback paipu in staging").await;
        let rollback = finished_deploy(&world.app).await;
        assert_state(&rollback, DeployState::RolledBack);
        assert_eq!(
            refused(&world, ALICE, "deploy paipu to staging").await,
            format!(
                "paipu staging is locked by <@U0ALICE> since 14:02 UTC: rolled back from v{running}: revert before deploying (your lock). Add `!` to the command to go ahead anyway, or `/h unlock paipu staging` first."
            )
        );
        world.finish().await;
    }
}
