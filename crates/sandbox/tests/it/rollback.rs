//! `/h rollback` end to end, and the Rollback button of a failed deploy's card: the
//! real app over HTTP against the sandbox, on every backend, texts checked exactly.

use crate::common;

use chatops::store::DeployState;
use common::TestApp;
use common::deploys::{
    ALICE, DeployWorld, assert_state, finished_deploy, normalized, settle_outbox,
    thread_of_last_deploy,
};

async fn worlds() -> Vec<DeployWorld> {
    let mut worlds = Vec::new();
    for db in common::databases().await {
        worlds.push(DeployWorld::new(TestApp::spawn(db).await).await);
    }
    worlds
}

/// The release `app` runs now in the fake.
fn current(world: &DeployWorld, app: &str) -> chatops_fakes::heroku::Release {
    let releases = world.app.sandbox.heroku.releases(app);
    releases
        .into_iter()
        .find(|r| r.current)
        .expect("a current release")
}

fn release(world: &DeployWorld, app: &str, version: u64) -> chatops_fakes::heroku::Release {
    let releases = world.app.sandbox.heroku.releases(app);
    releases
        .into_iter()
        .find(|r| r.version == version)
        .expect("that version")
}

#[tokio::test]
async fn a_rollback_restores_the_previous_release_and_tells_the_story() {
    for world in worlds().await {
        let before = current(&world, "paipu-app-staging");
        let reply = world.command(ALICE, "rollback paipu in staging").await;
        assert_eq!(
            reply,
            "On it: rolling back paipu in staging to the previous release. Progress will show in this channel."
        );
        let rollback = finished_deploy(&world.app).await;
        assert_state(&rollback, DeployState::RolledBack);
        settle_outbox(&world.app).await;
        let previous = before.version - 1;
        let (parent, replies) = thread_of_last_deploy(&world.app);
        assert_eq!(
            parent.text,
            format!("Rolled back paipu-app-staging to v{previous}")
        );
        let context = parent.blocks[1]["elements"][0]["text"].as_str().unwrap();
        let restored = release(&world, "paipu-app-staging", previous);
        let slug = world
            .app
            .sandbox
            .heroku
            .slug(restored.slug_id.as_deref().unwrap())
            .unwrap();
        let restored_sha = slug.commit.unwrap();
        assert_eq!(
            normalized(context),
            format!(
                "paipu-app-staging - from v{} to v{previous} - SHA: {} - duration: Ns",
                before.version,
                &restored_sha[..8]
            )
        );
        let heroku = &world.app.sandbox.heroku;
        let replaced_sha = heroku
            .slug(before.slug_id.as_deref().unwrap())
            .unwrap()
            .commit
            .unwrap();
        assert_eq!(
            replies
                .iter()
                .map(|r| normalized(&r.text))
                .collect::<Vec<_>>(),
            [
                // Both are commits of the Heroku seed's own history, which the GitHub
                // fake does not have.
                format!(
                    "*What this takes out of paipu-app-staging:* release notes unavailable: GitHub \
                     can't compare {} with {} in heroku/paipu-repo (404 Not Found).",
                    &restored_sha[..8],
                    &replaced_sha[..8]
                ),
                format!("Rolling back paipu-app-staging to v{previous} ... duration: Ns"),
                "Releasing paipu-app-staging ... duration: Ns".into(),
                "Restarting paipu-app-staging ... duration: Ns".into(),
                format!("Rolled back paipu-app-staging to v{previous} ... duration: Ns"),
            ]
        );
        let now = current(&world, "paipu-app-staging");
        assert_eq!(
            (now.version, now.description.as_str(), now.slug_id),
            (
                before.version + 1,
                format!("Rollback to v{previous}").as_str(),
                restored.slug_id
            )
        );
        assert_eq!(world.app.db.store.app_locks().await.unwrap(), 0);
        world.finish().await;
    }
}

/// Asks for the production confirmation of rollback `n`, checks the question, and
/// shows that someone else's press and the wait itself change nothing on Heroku.
async fn confirmation_asked(world: &DeployWorld, n: usize, running: u64, restores: u64) -> String {
    let releases = world.app.sandbox.heroku.releases(PRODUCTION).len();
    let asking = world.wait_for_state(n, DeployState::Confirming).await;
    settle_outbox(&world.app).await;
    let title = format!("Roll back {PRODUCTION} to v{restores}?");
    let responses = world.app.sandbox.slack.responses();
    // A button's acknowledgement may arrive after the question: find it by its title.
    let question = responses.iter().rev().find(|r| r.text == title).unwrap();
    assert_eq!(question.text, title);
    let slug = release(world, PRODUCTION, restores).slug_id.unwrap();
    let commit = world
        .app
        .sandbox
        .heroku
        .slug(&slug)
        .unwrap()
        .commit
        .unwrap();
    assert_eq!(
        question.blocks[0]["text"]["text"].as_str().unwrap(),
        format!(
            "*{title}*\n{PRODUCTION} runs v{running} now; this restores v{restores} ({}).",
            &commit[..8]
        )
    );
    let id = asking.id.to_string();
    assert_eq!(question.blocks[2]["elements"][0]["value"], id.as_str());
    assert_eq!(world.press("U0BOB", "confirm_go", &id).await, 200);
    settle_outbox(&world.app).await;
    assert_eq!(world.last_response(), "Only <@U0ALICE> can confirm this.");
    let waiting = world.wait_for_state(n, DeployState::Confirming).await;
    assert_eq!(waiting.release_id, None);
    assert_eq!(
        world.app.sandbox.heroku.releases(PRODUCTION).len(),
        releases,
        "nothing was rolled back before the confirmation"
    );
    id
}

const PRODUCTION: &str = "paipu-app-production";

#[tokio::test]
async fn a_production_rollback_waits_for_the_requesters_confirmation() {
    for world in worlds().await {
        let before = current(&world, PRODUCTION);
        world.command(ALICE, "rollback paipu to v30").await;
        let id = confirmation_asked(&world, 1, before.version, 30).await;
        assert_eq!(world.press(ALICE, "confirm_go", &id).await, 200);
        let rollback = finished_deploy(&world.app).await;
        assert_state(&rollback, DeployState::RolledBack);
        let now = current(&world, PRODUCTION);
        assert_eq!(
            (now.version, now.description.as_str()),
            (before.version + 1, "Rollback to v30")
        );
        assert_eq!(now.slug_id, release(&world, PRODUCTION, 30).slug_id);
        world.finish().await;
    }
}

#[tokio::test]
async fn the_rollback_button_in_production_asks_the_presser_to_confirm() {
    for world in worlds().await {
        world
            .app
            .sandbox
            .heroku
            .crash_after_next_restart(PRODUCTION, "web.1");
        let before = current(&world, PRODUCTION);
        world.command(ALICE, "deploy paipu to production").await;
        world.answer_confirmation(1, ALICE, "confirm_go").await;
        assert_eq!(world.wait_finished(1).await.state, DeployState::Failed);
        settle_outbox(&world.app).await;
        let (_, replies) = thread_of_last_deploy(&world.app);
        let button = &replies.last().unwrap().blocks.last().unwrap()["elements"][0];
        let value = button["value"].as_str().unwrap().to_owned();
        assert_eq!(world.press(ALICE, "rollback", &value).await, 200);
        let id = confirmation_asked(&world, 2, before.version + 1, before.version).await;
        assert_eq!(world.press(ALICE, "confirm_go", &id).await, 200);
        assert_state(&world.wait_finished(2).await, DeployState::RolledBack);
        let now = current(&world, PRODUCTION);
        assert_eq!(now.description, format!("Rollback to v{}", before.version));
        world.finish().await;
    }
}

#[tokio::test]
async fn refusals_say_what_cannot_be_rolled_back_and_nothing_is_created() {
    for world in worlds().await {
        let before = world
            .app
            .sandbox
            .heroku
            .releases("paipu-app-production")
            .len();
        let running = current(&world, "paipu-app-production").version;
        let cases = [
            (
                "rollback nope".to_owned(),
                "I can't find a pipeline called `nope` on Heroku, or you can't see it. Run `/h pipelines` to list the ones you can deploy.".to_owned(),
            ),
            (
                "rollback atlas".into(),
                "The production stage of `atlas` has several apps: atlas-eu, atlas-us. Name one, e.g. `/h rollback atlas in production/atlas-eu`.".into(),
            ),
            (
                format!("rollback paipu to v{running}"),
                format!("paipu-app-production already runs v{running}: there is nothing to roll back."),
            ),
            (
                "rollback paipu to v1".into(),
                "v1 of paipu-app-production has no slug (it only changed config), so it cannot be rolled back to.".into(),
            ),
            (
                "rollback paipu to v999".into(),
                format!("paipu-app-production has no release v999 among its last 50; it runs v{running} now."),
            ),
        ];
        for (text, expected) in cases {
            world.command(ALICE, &text).await;
            let refused = finished_deploy(&world.app).await;
            assert_eq!(
                refused.failure.as_deref(),
                Some(expected.as_str()),
                "{text}"
            );
            settle_outbox(&world.app).await;
            assert_eq!(world.last_response(), expected, "{text}");
        }
        let after = world
            .app
            .sandbox
            .heroku
            .releases("paipu-app-production")
            .len();
        assert_eq!(after, before, "no release was created");
        world.finish().await;
    }
}

#[tokio::test]
async fn the_rollback_button_of_a_failed_deploy_rolls_its_app_back() {
    for world in worlds().await {
        let before = current(&world, "paipu-app-staging");
        let heroku = &world.app.sandbox.heroku;
        heroku.crash_after_next_restart("paipu-app-staging", "web.1");
        world.command(ALICE, "deploy paipu to staging").await;
        let failed = finished_deploy(&world.app).await;
        assert_eq!(failed.state, DeployState::Failed);
        settle_outbox(&world.app).await;
        let (_, replies) = thread_of_last_deploy(&world.app);
        let card = replies.last().unwrap();
        let button = &card.blocks.last().unwrap()["elements"][0];
        assert_eq!(
            (
                button["action_id"].as_str(),
                button["text"]["text"].as_str()
            ),
            (Some("rollback"), Some("Rollback"))
        );
        let value = button["value"].as_str().unwrap();
        assert_eq!(world.press(ALICE, "rollback", value).await, 200);
        let rollback = world.wait_finished(2).await;
        assert_state(&rollback, DeployState::RolledBack);
        settle_outbox(&world.app).await;
        let acks: Vec<_> = world.app.sandbox.slack.responses();
        assert_eq!(
            acks.last().unwrap().text,
            "On it: rolling back paipu in staging/paipu-app-staging to the previous release. Progress will show in this channel."
        );
        let now = current(&world, "paipu-app-staging");
        assert_eq!(now.description, format!("Rollback to v{}", before.version));
        assert_eq!(now.slug_id, before.slug_id);
        world.finish().await;
    }
}
