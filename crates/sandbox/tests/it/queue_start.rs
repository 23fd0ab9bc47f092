//! A queued deploy starts as any deploy does, on every backend: the CI gate judges the
//! branch's head when its turn comes (a refused head leaves the line moving), and
//! into production its requester confirms then, the app held for them meanwhile.

use crate::common;

use chatops::store::DeployState;
use chatops_fakes::github::CiState;
use common::commands::{BRUNO, say};
use common::deploys::{ALICE, assert_state};
use common::queueing::{
    DORA, REPO, UNTIL_15_02, assert_deployed_from_the_line, hour_worlds, queue, queue_worlds, told,
};

const PRODUCTION: &str = "paipu-app-production";
const WAITS: &str = "On it: deploying paipu to production, waiting in line if the app is busy. Progress will show in this channel.";

#[tokio::test]
async fn the_ci_gate_judges_a_queued_deploy_when_its_turn_comes_and_the_line_moves_on() {
    for (world, _) in hour_worlds().await {
        say(&world, BRUNO, "lock paipu staging QA").await;
        queue(&world, ALICE, "deploy paipu to staging queue", 1).await;
        // Forced past CI, not past someone else's lock: it waits too.
        assert_eq!(
            say(&world, DORA, "deploy! paipu to staging queue")
                .await
                .text,
            "On it: deploying paipu to staging, waiting in line if the app is busy. CI checks are skipped (forced). Progress will show in this channel."
        );
        world.wait_for_state(2, DeployState::Queued).await;
        let sha = (world.app.sandbox.github)
            .set_ci(REPO, "master", CiState::Red)
            .unwrap();
        say(&world, BRUNO, "unlock paipu staging").await;
        let refused = world.wait_finished(1).await;
        let reason = format!(
            "CI is red on heroku/paipu-repo@{} (master) (failing: ci/circleci, build). Fix it, \
             or deploy anyway with `/h deploy! paipu to staging/paipu-app-staging`.",
            &sha[..8]
        );
        assert_eq!(refused.failure.as_deref(), Some(reason.as_str()));
        assert_eq!(told(&world, ALICE).await.text, reason);
        let forced = world.wait_finished(2).await;
        assert_deployed_from_the_line(&world, &forced, &sha).await;
        world.finish().await;
    }
}

#[tokio::test]
async fn a_queued_production_deploy_is_confirmed_by_its_requester_when_its_turn_comes() {
    for (world, _) in queue_worlds(|config| config.production_confirm = true).await {
        say(&world, BRUNO, "lock paipu production release freeze").await;
        assert_eq!(
            say(&world, ALICE, "deploy paipu to production queue")
                .await
                .text,
            WAITS
        );
        world.wait_for_state(1, DeployState::Queued).await;
        assert_eq!(
            told(&world, ALICE).await.text,
            format!(
                "1st in line for {PRODUCTION}, behind <@U0BRUNO>'s lock on paipu production. {UNTIL_15_02}"
            )
        );
        say(&world, BRUNO, "unlock paipu production").await;
        world.wait_for_state(1, DeployState::Confirming).await;
        assert_eq!(
            told(&world, ALICE).await.text,
            "Deploy paipu-app-production?"
        );
        // Asking, it holds the app: the next one waits behind it.
        assert_eq!(
            say(&world, DORA, "deploy paipu to production queue")
                .await
                .text,
            WAITS
        );
        world.wait_for_state(2, DeployState::Queued).await;
        assert_eq!(
            told(&world, DORA).await.text,
            format!(
                "1st in line for {PRODUCTION}, behind <@U0ALICE>'s deploy, starting now. {UNTIL_15_02}"
            )
        );
        world.answer_confirmation(1, ALICE, "confirm_go").await;
        assert_state(&world.wait_finished(1).await, DeployState::Deployed);
        world.answer_confirmation(2, DORA, "confirm_go").await;
        assert_state(&world.wait_finished(2).await, DeployState::Deployed);
        world.finish().await;
    }
}
