//! `/h pipelines`, `/h info` and `/h releases` end to end: the real app over HTTP
//! against the sandbox, on every backend, with exact texts. The app's clock is set
//! 30 minutes after the fake's newest seeded release, so ages are fixed.

use crate::common;

use chatops::store::DeployState;
use common::commands::{BOB, SEED_EPOCH, alice, release_sha, say, worlds};
use common::deploys::{DeployWorld, finished_deploy};

/// `paipu-app-staging`'s current release (v230) was made at this time.
const NEWEST_RELEASE: i64 = SEED_EPOCH + 1_123_200;

/// 30 minutes and 30 seconds after the newest release: ages are mid-minute.
const NOW: i64 = NEWEST_RELEASE + 30 * 60 + 30;

fn sha8(world: &DeployWorld, app: &str, version: u64) -> String {
    release_sha(world, app, version)[..8].to_owned()
}

#[tokio::test]
async fn pipelines_lists_what_the_person_can_see_with_repositories_and_apps() {
    for (world, _) in worlds(NOW).await {
        assert_eq!(
            alice(&world, "pipelines").await,
            "Pipelines alice@example.com can see:\n\
             • *atlas* (acme/atlas): staging atlas-staging · production atlas-eu, atlas-us\n\
             • *paipu* (heroku/paipu-repo): staging paipu-app-staging · production paipu-app-production\n\
             • *vault* (not connected: `/h connect vault to <owner>/<repo>`): staging vault-app-staging · production vault-app-production"
        );
        assert_eq!(
            say(&world, BOB, "pipelines").await.text,
            "Your Heroku account (bob@example.com) can't see any pipelines. Ask a pipeline's owner to add you to its team or apps."
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn info_shows_repository_checks_and_what_each_app_runs() {
    for (world, _) in worlds(NOW).await {
        assert_eq!(
            alice(&world, "info paipu").await,
            format!(
                "*paipu*: heroku/paipu-repo, default branch master, required checks: ci/circleci\n\
                 • staging: paipu-app-staging runs v230 ({}) by alice@example.com, 30m ago\n\
                 • production: paipu-app-production runs v42 ({}) by alice@example.com, 15d ago",
                sha8(&world, "paipu-app-staging", 230),
                sha8(&world, "paipu-app-production", 42),
            )
        );
        assert_eq!(
            alice(&world, "info atlas").await,
            format!(
                "*atlas*: acme/atlas, default branch main, no required checks\n\
                 • staging: atlas-staging runs v14 ({}) by alice@example.com, 18d ago\n\
                 • production: atlas-eu runs v10 ({}) by alice@example.com, 18d ago\n\
                 • production: atlas-us runs v10 ({}) by alice@example.com, 18d ago",
                sha8(&world, "atlas-staging", 14),
                sha8(&world, "atlas-eu", 10),
                sha8(&world, "atlas-us", 10),
            )
        );
        assert_eq!(
            alice(&world, "info vault").await,
            format!(
                "*vault*: not connected to a GitHub repository yet: `/h connect vault to <owner>/<repo>`\n\
                 • staging: vault-app-staging runs v8 ({}) by erin@example.com, 18d ago\n\
                 • production: vault-app-production runs v7 ({}) by erin@example.com, 18d ago",
                sha8(&world, "vault-app-staging", 8),
                sha8(&world, "vault-app-production", 7),
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn unknown_and_unreachable_pipelines_are_answered_the_same_way() {
    for (world, _) in worlds(NOW).await {
        for (who, text, pipeline) in [
            (common::deploys::ALICE, "info nope", "nope"),
            (BOB, "info paipu", "paipu"),
            (BOB, "releases paipu", "paipu"),
        ] {
            assert_eq!(
                say(&world, who, text).await.text,
                format!(
                    "I can't find a pipeline called `{pipeline}` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
                ),
                "{text}"
            );
        }
        let stranger = say(&world, "U0NOBODY", "info paipu").await.text;
        assert!(
            stranger.starts_with("To run `/h info paipu` I act as you on Heroku and GitHub"),
            "{stranger}"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn releases_lists_the_last_ten_with_sha_who_and_age() {
    for (world, _) in worlds(NOW).await {
        let mut expected =
            vec!["Last 10 releases of paipu-app-staging (paipu staging):".to_owned()];
        for back in 0..10u64 {
            let version = 230 - back;
            let sha = release_sha(&world, "paipu-app-staging", version);
            let age = match back {
                0 => "30m ago".to_owned(),
                _ => format!("{}h ago", 2 * back),
            };
            expected.push(format!(
                "• v{version} Deploy {} — {} by alice@example.com, {age}",
                &sha[..7],
                &sha[..8]
            ));
        }
        assert_eq!(
            alice(&world, "releases paipu in staging").await,
            expected.join("\n")
        );
        let production = alice(&world, "releases paipu").await;
        assert!(
            production.starts_with(
                "Last 10 releases of paipu-app-production (paipu production):\n• v42 "
            ),
            "production is the default: {production}"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_release_of_our_deploy_shows_the_branch_it_came_from() {
    for (world, _) in worlds(NOW).await {
        alice(&world, "deploy paipu to staging").await;
        let deploy = finished_deploy(&world.app).await;
        assert_eq!(deploy.state, DeployState::Deployed, "{:?}", deploy.failure);
        let sha = deploy.sha.unwrap();
        let releases = alice(&world, "releases paipu in staging").await;
        let newest = releases.lines().nth(1).unwrap();
        // The fake stamps its own (real) time on the new release: newer than the app's clock.
        assert_eq!(
            newest,
            format!(
                "• v231 Deploy {} — {} (master) by alice@example.com, just now",
                &sha[..7],
                &sha[..8]
            )
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn stages_without_apps_and_stages_of_several_apps_are_explained() {
    for (world, _) in worlds(NOW).await {
        let cases = [
            (
                "releases paipu in review",
                "`paipu` has no app in its review stage. Its stages: staging, production.",
            ),
            (
                "releases atlas",
                "The production stage of `atlas` has several apps: atlas-eu, atlas-us. Name one, e.g. `/h releases atlas in production/atlas-eu`.",
            ),
            (
                "releases atlas in production/atlas-xx",
                "`atlas-xx` is not an app of the production stage of `atlas`. Its apps there: atlas-eu, atlas-us.",
            ),
        ];
        for (text, answer) in cases {
            assert_eq!(alice(&world, text).await, answer, "{text}");
        }
        let eu = alice(&world, "releases atlas in production/atlas-eu").await;
        assert!(
            eu.starts_with("Last 10 releases of atlas-eu (atlas production):\n• v10 "),
            "{eu}"
        );
        world.finish().await;
    }
}
