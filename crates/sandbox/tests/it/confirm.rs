//! Production confirmation end to end: the summary the requester alone gets, the
//! Deploy and Cancel buttons through `/slack/interactions`, who may press them, their
//! expiry and single use, and `PRODUCTION_CONFIRM=false`; on every backend.

use crate::common;

use chatops::chat::clock_time;
use chatops::store::DeployState;
use common::deploys::{ALICE, DeployWorld, assert_state, finished_deploy, settle_outbox};
use common::{TestApp, TestClock};

const REPO: &str = "heroku/paipu-repo";
const APP: &str = "paipu-app-production";

/// A world per backend, each with its own clock (commands are signed at the real
/// time, so a moved clock must not outlive its world).
async fn worlds(confirm: bool) -> Vec<(DeployWorld, TestClock)> {
    let mut worlds = Vec::new();
    for db in common::databases().await {
        let clock = TestClock::default();
        let configure = |config: &mut chatops::config::Config| config.production_confirm = confirm;
        let app = TestApp::spawn_configured(db, clock.clock(), configure).await;
        worlds.push((DeployWorld::new(app).await, clock));
    }
    worlds
}

/// The section text of the newest `response_url` post.
fn last_section(world: &DeployWorld) -> String {
    let responses = world.app.sandbox.slack.responses();
    let blocks = &responses.last().expect("a response").blocks;
    blocks[0]["text"]["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_production_deploy_first_shows_the_requester_the_commits_it_ships() {
    for (world, _) in worlds(true).await {
        world.command(ALICE, "deploy paipu to production").await;
        world.answer_confirmation(1, ALICE, "confirm_go").await;
        assert_eq!(
            finished_deploy(&world.app).await.state,
            DeployState::Deployed
        );
        let github = &world.app.sandbox.github;
        let running = github.head(REPO, "master").unwrap();
        github
            .push_commit(
                REPO,
                "master",
                "Fix the login form\n\nIt lost the email.",
                "alice",
            )
            .unwrap();
        let head = github
            .push_commit(REPO, "master", "Speed up search", "erin")
            .unwrap();

        world.command(ALICE, "deploy paipu to production").await;
        let asking = world.wait_for_state(2, DeployState::Confirming).await;
        settle_outbox(&world.app).await;
        let responses = world.app.sandbox.slack.responses();
        let question = responses.last().unwrap();
        assert_eq!(question.text, "Deploy paipu-app-production?");
        assert_eq!(
            last_section(&world),
            format!(
                "*Deploy paipu-app-production?*\nRepository: heroku/paipu-repo\n2 commits from {} to {}, by Alice Admin, Erin Engineer:\n\
                 • Fix the login form (Alice Admin)\n• Speed up search (Erin Engineer)",
                &running[..8],
                &head[..8]
            )
        );
        let expires = clock_time(asking.confirm_expires_at.unwrap());
        assert_eq!(
            question.blocks[1]["elements"][0]["text"].as_str(),
            Some(format!("This confirmation expires at {expires} UTC.").as_str())
        );
        let buttons = &question.blocks[2]["elements"];
        let id = asking.id.to_string();
        assert_eq!(
            [
                &buttons[0]["action_id"],
                &buttons[0]["value"],
                &buttons[1]["action_id"]
            ],
            ["confirm_go", id.as_str(), "confirm_cancel"]
        );
        assert!(world.app.sandbox.slack.channel_messages("C0DEPLOYS").len() == 1);

        assert_eq!(world.press(ALICE, "confirm_go", &id).await, 200);
        let deployed = finished_deploy(&world.app).await;
        assert_state(&deployed, DeployState::Deployed);
        assert_eq!(deployed.sha.as_deref(), Some(head.as_str()));
        settle_outbox(&world.app).await;
        let texts: Vec<_> = world
            .app
            .sandbox
            .slack
            .responses()
            .into_iter()
            .map(|r| r.text)
            .collect();
        assert!(
            texts.contains(
                &"Confirmed: paipu-app-production is starting. Progress will show in this channel."
                    .to_owned()
            ),
            "{texts:?}"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn only_the_requester_may_confirm_cancel_starts_nothing_and_a_button_works_once() {
    for (world, _) in worlds(true).await {
        let builds = world.app.sandbox.heroku.builds(APP).len();
        world.command(ALICE, "deploy! paipu to production").await;
        let asking = world.wait_for_state(1, DeployState::Confirming).await;
        let id = asking.id.to_string();
        let answers = [
            ("U0BOB", "confirm_go", "Only <@U0ALICE> can confirm this."),
            (
                ALICE,
                "confirm_cancel",
                "Cancelled: paipu-app-production was not started.",
            ),
            (
                ALICE,
                "confirm_go",
                "This confirmation was already answered; run the command again to start over.",
            ),
        ];
        for (user, action, expected) in answers {
            assert_eq!(world.press(user, action, &id).await, 200);
            settle_outbox(&world.app).await;
            assert_eq!(world.last_response(), expected, "{user} pressed {action}");
        }
        let cancelled = finished_deploy(&world.app).await;
        assert_eq!(
            (cancelled.state.as_str(), cancelled.failure.as_deref()),
            ("failed", Some("cancelled by <@U0ALICE>"))
        );
        assert_eq!(
            world.app.sandbox.heroku.builds(APP).len(),
            builds,
            "nothing was built"
        );
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
async fn an_expired_confirmation_says_when_it_expired_and_ends_having_done_nothing() {
    for (world, clock) in worlds(true).await {
        world.command(ALICE, "deploy paipu to production").await;
        let asking = world.wait_for_state(1, DeployState::Confirming).await;
        clock.advance(5 * 60 + 1);
        let expired = finished_deploy(&world.app).await;
        let at = clock_time(asking.confirm_expires_at.unwrap());
        assert_eq!(
            expired.failure,
            Some(format!(
                "the confirmation expired at {at} UTC; nothing was done"
            ))
        );
        assert_eq!(
            world
                .press(ALICE, "confirm_go", &asking.id.to_string())
                .await,
            200
        );
        settle_outbox(&world.app).await;
        assert_eq!(
            world.last_response(),
            format!("This confirmation expired at {at}; run the command again.")
        );
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
async fn production_confirm_false_deploys_to_production_at_once() {
    for (world, _) in worlds(false).await {
        world.command(ALICE, "deploy paipu to production").await;
        let deployed = finished_deploy(&world.app).await;
        assert_state(&deployed, DeployState::Deployed);
        assert_eq!(deployed.confirm_expires_at, None, "it never asked");
        world.finish().await;
    }
}

#[tokio::test]
async fn a_malformed_interaction_payload_is_refused_and_writes_nothing() {
    for (world, _) in worlds(true).await {
        let body = "payload=%7Bnot-json";
        let headers = common::signed_headers(common::SECRET, world.app.state.clock.now(), body);
        let (status, text) = world.app.post("/slack/interactions", &headers, body).await;
        assert_eq!(status, 400);
        assert!(
            text.starts_with(
                "request body is not a valid form: `payload` must be Slack's interaction JSON"
            ),
            "{text}"
        );
        assert_eq!(world.app.rows().await.1, 0, "the signature was not claimed");
        world.finish().await;
    }
}
