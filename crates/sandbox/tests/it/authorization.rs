//! Authorization: nobody acts through another person's links. Bob is linked to his
//! own Heroku account, which sees none of Alice's pipelines; whatever he types or
//! presses, every Heroku request made for him carries his token, and he gets the
//! answer a stranger to those pipelines should get. Confirming someone else's
//! production deploy and removing someone else's lock are in tests/confirm.rs and
//! tests/locks.rs; this file checks the links behind every command and button.

use crate::common;

use chatops::store::DeployState;
use chatops_fakes::heroku::ActedRequest;
use common::commands::{BOB, BRUNO, say, worlds};
use common::deploys::{ALICE, DeployWorld, assert_state, finished_deploy, settle_outbox};
use common::now;

const BOB_ACCOUNT: &str = "bob@example.com";

/// The accounts the fake Heroku saw acting since request number `since`.
fn accounts_since(world: &DeployWorld, since: usize) -> Vec<ActedRequest> {
    world.app.sandbox.heroku.admitted().split_off(since)
}

fn assert_only_bob(world: &DeployWorld, since: usize, what: &str) {
    let acted = accounts_since(world, since);
    assert!(!acted.is_empty(), "{what}: Heroku was asked, as Bob");
    let others: Vec<_> = acted
        .iter()
        .filter(|request| request.account != BOB_ACCOUNT)
        .collect();
    assert!(
        others.is_empty(),
        "{what}: Heroku was called for someone else: {others:?}"
    );
}

#[tokio::test]
async fn commands_act_only_through_the_typists_own_links() {
    let cannot_see = "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list yours.";
    let cases = [
        ("releases paipu", cannot_see),
        ("info paipu", cannot_see),
        ("lock paipu staging", cannot_see),
        ("unlock! paipu staging", cannot_see),
        ("history paipu", cannot_see),
        ("route paipu to <#C0GENERAL|general>", cannot_see),
        (
            "pipelines",
            "Your Heroku account (bob@example.com) can't see any pipelines. Ask a pipeline's owner to add you to its team or apps.",
        ),
        (
            "whoami",
            "You're bob@example.com on Heroku.\nYou're bob on GitHub.",
        ),
    ];
    for (world, _) in worlds(now()).await {
        for (text, expected) in cases {
            let since = world.app.sandbox.heroku.admitted().len();
            let answer = say(&world, BOB, text).await;
            assert_eq!(answer.text, expected, "{text}");
            assert!(!answer.in_channel, "{text} is answered to Bob alone");
            assert_only_bob(&world, since, text);
        }
        world.finish().await;
    }
}

#[tokio::test]
async fn deploys_promotions_and_rollbacks_start_only_as_the_requester() {
    let refusal = "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy.";
    let cases = [
        (
            "deploy paipu to staging",
            "On it: deploying paipu to staging. Progress will show in this channel.",
        ),
        (
            "deploy! paipu to production",
            "On it: deploying paipu to production. CI checks are skipped (forced). Progress will show in this channel.",
        ),
        (
            "promote paipu",
            "On it: promoting paipu to production. Progress will show in this channel.",
        ),
        (
            "rollback paipu in staging",
            "On it: rolling back paipu in staging to the previous release. Progress will show in this channel.",
        ),
    ];
    for (world, _) in worlds(now()).await {
        let builds = world.app.sandbox.heroku.builds("paipu-app-staging").len();
        let releases = world.app.sandbox.heroku.releases("paipu-app-staging").len();
        for (n, (text, accepted)) in cases.into_iter().enumerate() {
            let since = world.app.sandbox.heroku.admitted().len();
            assert_eq!(world.command(BOB, text).await, accepted);
            let refused = world.wait_finished(n + 1).await;
            assert_eq!(refused.failure.as_deref(), Some(refusal), "{text}");
            assert_only_bob(&world, since, text);
        }
        let heroku = &world.app.sandbox.heroku;
        assert_eq!(heroku.builds("paipu-app-staging").len(), builds);
        assert_eq!(heroku.releases("paipu-app-staging").len(), releases);
        assert!(heroku.promotions().is_empty());
        world.finish().await;
    }
}

/// A failed deploy's Rollback button is in the channel for everyone to see; pressing
/// it acts as the presser, so Bob's press changes nothing and Bruno's (on Alice's
/// accounts) rolls back.
#[tokio::test]
async fn a_rollback_button_acts_as_whoever_presses_it() {
    let refusal = "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy.";
    for (world, _) in worlds(now()).await {
        let app = "paipu-app-staging";
        world
            .app
            .sandbox
            .heroku
            .crash_after_next_restart(app, "web.1");
        world.command(ALICE, "deploy paipu to staging").await;
        assert_eq!(finished_deploy(&world.app).await.state, DeployState::Failed);
        settle_outbox(&world.app).await;
        let (_, replies) = common::deploys::thread_of_last_deploy(&world.app);
        let card = replies.last().expect("a failure card");
        let button = &card.blocks.last().expect("buttons")["elements"][0];
        let value = button["value"].as_str().expect("a button value").to_owned();
        let releases = world.app.sandbox.heroku.releases(app).len();

        let since = world.app.sandbox.heroku.admitted().len();
        assert_eq!(world.press(BOB, "rollback", &value).await, 200);
        let refused = world.wait_finished(2).await;
        assert_eq!(refused.failure.as_deref(), Some(refusal));
        settle_outbox(&world.app).await;
        assert_eq!(world.last_response(), refusal, "Bob is told, alone");
        assert_only_bob(&world, since, "Bob's press");
        assert_eq!(world.app.sandbox.heroku.releases(app).len(), releases);

        assert_eq!(world.press(BRUNO, "rollback", &value).await, 200);
        let rolled_back = world.wait_finished(3).await;
        assert_state(&rolled_back, DeployState::RolledBack);
        assert_eq!(world.app.sandbox.heroku.releases(app).len(), releases + 1);
        world.finish().await;
    }
}
