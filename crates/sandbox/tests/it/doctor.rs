//! `/h doctor` end to end: each check's `ok` or what to fix, with exact texts. Request
//! budgets are set just before each command so the numbers shown are known (Heroku's,
//! which refills every second, is shown as `N`).

use crate::common;

use common::commands::{BOB, alice, say, worlds};
use common::deploys::DeployWorld;

const SETUP_OK: &str = "Checks for your setup:\n\
    • ok: Heroku account alice@example.com, token works; N API requests left.\n\
    • ok: GitHub account alice, token works; 3999 API requests left this hour.";

/// Alice's `/h <text>`, Heroku's budget masked.
async fn doctor(world: &DeployWorld, text: &str) -> String {
    let answer = alice(world, text).await;
    let marker = "alice@example.com, token works; ";
    let Some(at) = answer.find(marker) else {
        return answer;
    };
    let start = at + marker.len();
    let end = start + answer[start..].find(' ').unwrap();
    format!("{}N{}", &answer[..start], &answer[end..])
}

/// Leaves Alice 4000 requests on each service (the doctor's own first call spends one).
fn budgets(world: &DeployWorld) {
    let sandbox = &world.app.sandbox;
    sandbox
        .heroku
        .set_rate_limit_remaining("alice@example.com", 4000);
    sandbox.github.set_rate_limit_remaining("alice", 4000);
}

#[tokio::test]
async fn doctor_checks_links_tokens_and_headroom() {
    for (world, _) in worlds(common::now()).await {
        budgets(&world);
        assert_eq!(doctor(&world, "doctor").await, SETUP_OK);
        world
            .app
            .sandbox
            .github
            .set_rate_limit_remaining("alice", 120);
        let low = doctor(&world, "doctor").await;
        assert_eq!(
            low.lines().nth(2).unwrap(),
            "• fix: GitHub account alice: only 119 API requests left this hour (X-RateLimit-Remaining)."
        );
        world
            .app
            .sandbox
            .heroku
            .set_rate_limit_remaining("alice@example.com", 100);
        let heroku = alice(&world, "doctor")
            .await
            .lines()
            .nth(1)
            .unwrap()
            .to_owned();
        assert!(
            heroku.starts_with("• fix: Heroku account alice@example.com: only ")
                && heroku.ends_with(
                    " API requests left (RateLimit-Remaining); deploys may stall until it refills."
                ),
            "{heroku}"
        );
        assert_eq!(
            say(&world, "U0NOBODY", "doctor").await.text,
            "Checks for your setup:\n\
             • fix: your Heroku account is not linked: run `/h login`.\n\
             • fix: your GitHub account is not linked: run `/h login`."
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn doctor_checks_a_pipeline_and_says_what_to_fix() {
    for (world, _) in worlds(common::now()).await {
        budgets(&world);
        assert_eq!(
            doctor(&world, "doctor paipu").await,
            format!(
                "{SETUP_OK}\n\
                 • ok: you can see `paipu`: staging paipu-app-staging · production paipu-app-production.\n\
                 • ok: `paipu` builds from heroku/paipu-repo (default branch master), which you can push to.\n\
                 • ok: master is protected; deploys wait for ci/circleci.\n\
                 • fix: no chatops webhook on paipu-app-staging, paipu-app-production: releases there are seen by polling only, minutes late. Routing the pipeline (`/h route paipu to #<channel>`) subscribes them; apps protected by 2FA are subscribed by a deploy with a code.\n\
                 • fix: no notification channel: releases made outside Slack are not announced. `/h route paipu to #<channel>`."
            )
        );
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        budgets(&world);
        let after = doctor(&world, "doctor paipu").await;
        assert_eq!(
            after.lines().skip(6).collect::<Vec<_>>(),
            [
                "• ok: every app sends its releases to chatops (app webhooks).",
                "• ok: notifications go to #general.",
            ]
        );
        budgets(&world);
        let atlas = alice(&world, "doctor atlas").await;
        assert_eq!(
            atlas.lines().nth(5).unwrap(),
            "• fix: main requires no status checks, so deploys are not gated by CI: protect it on GitHub and require your CI's check."
        );
        budgets(&world);
        assert_eq!(
            alice(&world, "doctor vault").await.lines().nth(4).unwrap(),
            "• fix: `vault` is not connected to a GitHub repository: `/h connect vault to <owner>/<repo>`."
        );
        let bob = say(&world, BOB, "doctor paipu").await.text;
        assert_eq!(
            bob.lines().last().unwrap(),
            "• fix: I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
        );
        world.finish().await;
    }
}
