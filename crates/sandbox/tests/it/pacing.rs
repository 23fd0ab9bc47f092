//! Slack pacing: 50 deploys typed into one channel at once. The fake Slack keeps
//! Slack's documented pace (a burst of 3, then one `chat.postMessage` a second per
//! channel; `chat.update` 50 a minute per workspace) and answers 429 beyond it. The
//! bot must never go over it, and deliver every message: each deploy's thread
//! complete, in order, nothing twice.
//!
//! Slack's pace makes this slow by nature: five posts per deploy at one a second is
//! about four minutes for 50. `PACING_DEPLOYS=<n>` runs another count.

use crate::common::{self, outcomes};

use std::time::{Duration, Instant};

use chatops_fakes::SANDBOX_TEAM;
use common::deploys::{ALICE, CHANNEL, DeployWorld};
use common::{TestApp, databases};
use outcomes::{Before, all_finished, assert_deployed_once, outbox_drained};

const REPO: &str = "heroku/paipu-repo";

fn deploy_count() -> usize {
    std::env::var("PACING_DEPLOYS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(50)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_deploys_in_one_channel_keep_slacks_pace_and_deliver_every_message_once() {
    let count = deploy_count();
    for db in databases().await {
        let world = DeployWorld::new(TestApp::spawn(db).await).await;
        let app = &world.app;
        let mut apps = Vec::new();
        for n in 0..count {
            let (pipeline, name) = (format!("pace-{n}"), format!("pace-{n}-staging"));
            app.sandbox
                .heroku
                .add_pipeline(&pipeline, &[("staging", name.as_str())]);
            let now = app.state.clock.now();
            app.db
                .store
                .set_pipeline_repo(SANDBOX_TEAM, &pipeline, REPO, ALICE, now)
                .await
                .unwrap();
            apps.push((pipeline, name));
        }
        let names: Vec<&str> = apps.iter().map(|(_, name)| name.as_str()).collect();
        let before = Before::count(&app.sandbox, &names, &[REPO]);
        let started = Instant::now();
        let shared = &world;
        let typed = apps.iter().map(|(pipeline, _)| async move {
            let answer = shared
                .command(ALICE, &format!("deploy {pipeline} to staging"))
                .await;
            assert_eq!(
                answer,
                format!(
                    "On it: deploying {pipeline} to staging. Progress will show in this channel."
                )
            );
        });
        futures_util::future::join_all(typed).await;
        // Six posts a deploy (the parent, the release notes and four stages) at one a
        // second, and some room on a loaded machine.
        let deadline = Duration::from_secs(60 + 10 * count as u64);
        let deploys = all_finished(&app.db.store, count, deadline).await;
        outbox_drained(&app.db.store, deadline).await;
        let took = started.elapsed();
        for deploy in &deploys {
            assert_deployed_once(&app.sandbox, &app.db.store, deploy).await;
        }
        before.assert_one_each(&app.sandbox, &deploys);
        let calls = app.sandbox.slack.api_calls();
        let limited: Vec<_> = calls.iter().filter(|call| call.status == 429).collect();
        let posts = calls
            .iter()
            .filter(|call| call.method == "chat.postMessage")
            .count();
        eprintln!(
            "{}: {count} deploys in one channel, {posts} posts, {} Slack calls, {} answered 429, {:.1}s",
            app.db.backend_name(),
            calls.len(),
            limited.len(),
            took.as_secs_f64()
        );
        assert!(
            limited.is_empty(),
            "the bot went over Slack's pace: {limited:?}"
        );
        let parents = app.sandbox.slack.channel_messages(CHANNEL);
        assert_eq!(parents.len(), count, "one parent message per deploy");
        world.finish().await;
    }
}
