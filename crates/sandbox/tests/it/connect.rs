//! `/h connect` is a write (issue 14, section 2): it needs push access to the
//! repository and the deploy permission on every app of the pipeline, each read with
//! the person's own tokens; a refusal says what is missing and changes nothing; a
//! changed mapping is announced once (in the routed channel, or where the command
//! was run) and recorded in `/h history`. Over HTTP against the sandbox, on every
//! backend.

use crate::common;

use chatops_fakes::SANDBOX_TEAM;
use common::TestApp;
use common::commands::{GENERAL, alice, channel_texts, say};
use common::deploys::{CHANNEL, DeployWorld, settle_outbox};

/// Deploys every paipu app on Heroku; reads acme/atlas (public) on GitHub as `bob`.
const DORA: &str = "U0DORA";
/// Deploys paipu's test and staging apps but only views production; pushes to
/// acme/atlas on GitHub as `erin`.
const VIC: &str = "U0VIC";
/// Only views paipu's apps, and reads acme/atlas as `bob`.
const VERA: &str = "U0VERA";

/// A deploy world per backend (Alice linked, paipu and atlas connected), with three
/// more team members on Heroku, linked in the sandbox workspace.
async fn worlds() -> Vec<DeployWorld> {
    let mut worlds = Vec::new();
    for db in common::databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let heroku = &world.app.sandbox.heroku;
        let apps = [
            "paipu-app-test",
            "paipu-app-staging",
            "paipu-app-production",
        ];
        let deploy: &[&str] = &["view", "deploy"];
        let view: &[&str] = &["view"];
        heroku.add_team_member("dora@example.com", &apps.map(|app| (app, deploy)));
        heroku.add_team_member(
            "vic@example.com",
            &[(apps[0], deploy), (apps[1], deploy), (apps[2], view)],
        );
        heroku.add_team_member("vera@example.com", &apps.map(|app| (app, view)));
        for (user, email, login) in [
            (DORA, "dora@example.com", "bob"),
            (VIC, "vic@example.com", "erin"),
            (VERA, "vera@example.com", "olga"),
        ] {
            chatops_sandbox::bot::link_user(
                &world.app.state,
                &world.app.sandbox,
                SANDBOX_TEAM,
                user,
                email,
                login,
            )
            .await
            .expect("link a team member");
        }
        worlds.push(world);
    }
    worlds
}

async fn paipu_repo(world: &DeployWorld) -> Option<String> {
    let store = &world.app.state.store;
    store.pipeline_repo(SANDBOX_TEAM, "paipu").await.unwrap()
}

#[tokio::test]
async fn members_without_push_or_deploy_rights_are_refused_and_nothing_changes() {
    for world in worlds().await {
        let cases = [
            (
                DORA,
                "You need push access to acme/atlas to connect it; you have read access.",
            ),
            (
                VIC,
                "You need the deploy permission on every app of `paipu` to connect it; you lack it \
                 on paipu-app-production (you have: view).",
            ),
            (
                VERA,
                "You need push access to acme/atlas to connect it; you have read access. You need \
                 the deploy permission on every app of `paipu` to connect it; you lack it on \
                 paipu-app-staging (you have: view), paipu-app-production (you have: view).",
            ),
        ];
        for (user, expected) in cases {
            let answer = say(&world, user, "connect paipu to acme/atlas").await;
            assert!(!answer.in_channel);
            assert_eq!(answer.text, expected, "{user}");
        }
        assert_eq!(
            paipu_repo(&world).await.as_deref(),
            Some("heroku/paipu-repo")
        );
        settle_outbox(&world.app).await;
        assert_eq!(channel_texts(&world, CHANNEL), Vec::<String>::new());
        assert_eq!(
            alice(&world, "history paipu").await,
            "Nothing was done to paipu from Slack yet."
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_mapping_change_is_announced_once_in_the_routed_channel_and_kept_in_history() {
    for world in worlds().await {
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        let connected = "Connected `paipu` to acme/atlas: `/h deploy paipu` now builds its default branch (main).";
        assert_eq!(
            say(&world, VIC, "connect paipu to acme/vault").await.text,
            "GitHub says acme/vault does not exist or you can't see it, so nothing was changed."
        );
        assert_eq!(
            alice(&world, "connect paipu to acme/atlas").await,
            connected
        );
        assert_eq!(
            alice(&world, "connect paipu to acme/atlas").await,
            "`paipu` already builds from acme/atlas; nothing was changed. `/h deploy paipu` now builds its default branch (main)."
        );
        assert_eq!(paipu_repo(&world).await.as_deref(), Some("acme/atlas"));
        settle_outbox(&world.app).await;
        assert_eq!(
            channel_texts(&world, GENERAL),
            [
                "<@U0ALICE> connected `paipu` to acme/atlas: its deploys now build acme/atlas instead of heroku/paipu-repo."
            ]
        );
        assert_eq!(channel_texts(&world, CHANNEL), Vec::<String>::new());
        assert_eq!(
            alice(&world, "history paipu").await,
            "History of paipu, newest first:\n\
             • just now: <@U0ALICE> connected paipu to acme/atlas (it built heroku/paipu-repo before)"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn an_unrouted_pipeline_announces_its_change_where_the_command_was_run() {
    for world in worlds().await {
        assert_eq!(
            say(&world, DORA, "connect atlas to heroku/paipu-repo")
                .await
                .text,
            "I can't find a pipeline called `atlas` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
        );
        assert_eq!(
            alice(&world, "connect atlas to heroku/paipu-repo").await,
            "Connected `atlas` to heroku/paipu-repo: `/h deploy atlas` now builds its default branch (master)."
        );
        settle_outbox(&world.app).await;
        assert_eq!(
            channel_texts(&world, CHANNEL),
            [
                "<@U0ALICE> connected `atlas` to heroku/paipu-repo: its deploys now build heroku/paipu-repo instead of acme/atlas."
            ]
        );
        world.finish().await;
    }
}
