//! The deploy worker, on every backend: it steps each deploy on its own, claiming
//! more as soon as a slot frees, so one deploy whose step waits on a slow service
//! holds up none of the others.

use crate::common;

use std::time::Duration;

use axum::http::Method;
use chatops::store::DeployState;
use common::commands::say;
use common::deploys::{ALICE, assert_state};
use common::queueing::{DORA, REPO, hour_worlds};

/// Longer than the tests' 2 s timeout of an outbound call.
const HANG: Duration = Duration::from_secs(8);

#[tokio::test]
async fn a_deploy_waiting_on_a_slow_github_holds_up_no_other() {
    for (world, _) in hour_worlds().await {
        let github = &world.app.sandbox.github;
        // Every try of alice's first step to read its branch hangs past the client's
        // 2 s timeout: the step takes about 6 s, three tries, then is retried later.
        let branch = format!("/repos/{REPO}/branches/feature-x");
        let tries = chatops_fakes::FaultRule::slow(Method::GET, &branch, HANG, 3);
        github.faults.inject(tries);
        say(&world, ALICE, "deploy paipu/feature-x to staging").await;
        let asked = format!("GET {branch}");
        while !github.requests().contains(&asked) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        say(&world, DORA, "deploy paipu to production").await;
        assert_state(&world.wait_finished(2).await, DeployState::Deployed);
        assert_eq!(
            github.faults.armed(),
            1,
            "dora's deploy went all the way while alice's step was still trying its branch"
        );
        assert_state(&world.wait_finished(1).await, DeployState::Deployed);
        world.finish().await;
    }
}
