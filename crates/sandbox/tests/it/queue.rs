//! The deploy queue end to end, on every backend: deploys waiting in an app's line
//! behind a lock or a running deploy, started first come first served with the
//! branch's head at that time, each requester told; `/h queue`; leaving the line by
//! `/h dequeue`, the Cancel button (someone else's refused) or expiry; the Queue it
//! button of a refusal (someone else's refused). Each app's clock starts at
//! 14:02:10 UTC so the times in the texts are fixed.

use crate::common;

use std::time::Duration;

use axum::http::Method;
use chatops::store::DeployState;
use chatops_fakes::FaultRule;
use chatops_fakes::heroku::Timings;
use common::commands::{BOB, BRUNO, alice, say, wait_for_post};
use common::deploys::{ALICE, CHANNEL, assert_state, settle_outbox};
use common::queueing::{
    APP, DORA, REPO, UNTIL_15_02, WAITS, assert_deployed_from_the_line, build_order, hour_worlds,
    queue, queue_worlds, told,
};

#[tokio::test]
async fn three_people_wait_behind_a_lock_and_deploy_once_each_in_order_with_the_head_then() {
    for (world, _) in hour_worlds().await {
        say(&world, BRUNO, "lock paipu staging for 2h QA").await;
        let first = queue(&world, ALICE, "deploy paipu to staging queue", 1).await;
        assert_eq!(
            first.text,
            format!(
                "1st in line for {APP}, behind <@U0BRUNO>'s lock on paipu staging. {UNTIL_15_02}"
            )
        );
        let id = world.wait_for_state(1, DeployState::Queued).await.id;
        assert_eq!(first.buttons, [("queue_cancel".to_owned(), id.to_string())]);
        let second = queue(&world, DORA, "deploy paipu to staging queue", 2).await;
        assert_eq!(
            second.text,
            format!("2nd in line for {APP}, behind <@U0ALICE>'s deploy of paipu. {UNTIL_15_02}")
        );
        let third = queue(&world, BRUNO, "deploy paipu to stg queue", 3).await;
        assert_eq!(
            third.text,
            format!("3rd in line for {APP}, behind <@U0DORA>'s deploy of paipu. {UNTIL_15_02}")
        );

        // Not even the lock's owner, forcing through his own lock, goes before the line.
        say(&world, BRUNO, "deploy! paipu to staging").await;
        let skipping = world.wait_finished(4).await;
        assert_state(&skipping, DeployState::Failed);
        let refusal = told(&world, BRUNO).await;
        assert_eq!(
            refusal.text,
            format!(
                "Others are waiting in line for {APP} (next: <@U0ALICE>'s deploy of paipu), so yours would go behind them. Queue it, or see the line with `/h queue paipu in staging`."
            )
        );
        assert_eq!(
            refusal.buttons,
            [("queue_it".to_owned(), skipping.id.to_string())]
        );
        assert_eq!(
            alice(&world, "queue paipu").await,
            format!(
                "Deploys waiting in line for paipu:\n{APP}, held by <@U0BRUNO>'s lock on paipu staging:\n\
                 1. <@U0ALICE>'s deploy of paipu, queued at 14:02 UTC\n\
                 2. <@U0DORA>'s deploy of paipu, queued at 14:02 UTC\n\
                 3. <@U0BRUNO>'s deploy of paipu, queued at 14:02 UTC"
            )
        );

        // Pushed while they wait: each reads the branch when its turn comes.
        let github = &world.app.sandbox.github;
        let head = github
            .push_commit(REPO, "master", "Fix the queue page", "alice")
            .unwrap();
        let builds_before = world.app.sandbox.heroku.builds(APP).len();
        assert_eq!(
            say(&world, BRUNO, "unlock paipu staging").await.text,
            "<@U0BRUNO> unlocked paipu staging."
        );
        let mut done = Vec::new();
        for n in 1..=3 {
            done.push(world.wait_finished(n).await);
        }
        settle_outbox(&world.app).await;
        for d in &done {
            assert_deployed_from_the_line(&world, d, &head).await;
        }
        assert_eq!(
            world.app.sandbox.heroku.builds(APP).len(),
            builds_before + 3
        );
        let ids: Vec<i64> = done.iter().map(|d| d.id).collect();
        assert_eq!(build_order(&world, &done.iter().collect::<Vec<_>>()), ids);
        for pair in done.windows(2) {
            assert!(
                pair[0].finished_at.unwrap() <= pair[1].stage_started_at,
                "one at a time: {} ended before {} started",
                pair[0].id,
                pair[1].id
            );
        }
        assert_eq!(
            alice(&world, "queue paipu").await,
            "Nobody is waiting in line for paipu."
        );
        assert_eq!(world.app.state.store.app_locks().await.unwrap(), 0);
        world.finish().await;
    }
}

#[tokio::test]
async fn queue_it_and_cancel_work_for_their_requester_only() {
    for (world, _) in hour_worlds().await {
        say(&world, BRUNO, "lock paipu staging QA").await;
        say(&world, ALICE, "deploy paipu to staging").await;
        let refused = world.wait_finished(1).await;
        assert_state(&refused, DeployState::Failed);
        let refusal = told(&world, ALICE).await;
        assert_eq!(
            refusal.text,
            "paipu staging is locked by <@U0BRUNO> since 14:02 UTC: QA. Ask <@U0BRUNO>, or remove the lock with `/h unlock! paipu staging` (the channel is told)."
        );
        let queue_it = ("queue_it".to_owned(), refused.id.to_string());
        assert_eq!(refusal.buttons, std::slice::from_ref(&queue_it));

        // A press Slack did not sign, and someone else's Queue it, queue nothing.
        let forged = world.press_signed("not-the-secret", ALICE, &queue_it.0, &queue_it.1);
        assert_eq!(forged.await, 401);
        assert_eq!(world.press(DORA, &queue_it.0, &queue_it.1).await, 200);
        assert_eq!(
            told(&world, DORA).await.text,
            "Only <@U0ALICE> can queue this deploy; add `queue` to your own `/h deploy` to wait in line."
        );
        assert_eq!(world.app.state.store.deploys().await.unwrap().len(), 1);

        assert_eq!(world.press(ALICE, &queue_it.0, &queue_it.1).await, 200);
        let queued = world.wait_for_state(2, DeployState::Queued).await;
        settle_outbox(&world.app).await;
        let answers: Vec<String> = (world.app.sandbox.slack.responses().into_iter())
            .filter(|r| r.user == ALICE)
            .map(|r| r.text)
            .collect();
        assert_eq!(
            answers[answers.len() - 2..],
            [
                WAITS.to_owned(),
                format!(
                    "1st in line for {APP}, behind <@U0BRUNO>'s lock on paipu staging. {UNTIL_15_02}"
                )
            ]
        );
        // A second press asks again; one place in line per person and app.
        assert_eq!(world.press(ALICE, &queue_it.0, &queue_it.1).await, 200);
        assert_state(&world.wait_finished(3).await, DeployState::Failed);
        assert_eq!(
            told(&world, ALICE).await.text,
            format!(
                "You are already in line for {APP} (1st). Take that deploy out with `/h dequeue paipu in staging` to queue another."
            )
        );
        queue(&world, DORA, "deploy paipu to staging queue", 4).await;

        let cancel = ("queue_cancel", queued.id.to_string());
        assert_eq!(world.press(DORA, cancel.0, &cancel.1).await, 200);
        assert_eq!(
            told(&world, DORA).await.text,
            "Only <@U0ALICE> can take their deploy out of the line."
        );
        assert_eq!(
            world.wait_for_state(2, DeployState::Queued).await.id,
            queued.id
        );
        assert_eq!(world.press(ALICE, cancel.0, &cancel.1).await, 200);
        let left = world.wait_finished(2).await;
        assert_eq!(
            left.failure.as_deref(),
            Some("taken out of the line by <@U0ALICE>")
        );
        assert_eq!(
            told(&world, ALICE).await.text,
            format!("Took your deploy of paipu to {APP} out of the line; nothing was deployed.")
        );
        assert_eq!(world.press(ALICE, cancel.0, &cancel.1).await, 200);
        assert_eq!(
            told(&world, ALICE).await.text,
            "That deploy is no longer in line: its turn came, or it left."
        );

        assert_eq!(
            alice(&world, "dequeue paipu").await,
            "You have nothing waiting in line for paipu."
        );
        assert_eq!(
            say(&world, BOB, "queue paipu").await.text,
            "I can't find a pipeline called `paipu` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
        );
        assert_eq!(
            say(&world, DORA, "queue paipu in staging").await.text,
            format!(
                "Deploys waiting in line for paipu in staging:\n{APP}, held by <@U0BRUNO>'s lock on paipu staging:\n\
                 1. <@U0DORA>'s deploy of paipu, queued at 14:02 UTC"
            )
        );
        assert_eq!(
            say(&world, DORA, "dequeue paipu in staging").await.text,
            format!("Took your deploy of paipu to {APP} out of the line; nothing was deployed.")
        );
        assert_eq!(
            say(&world, DORA, "queue paipu in staging").await.text,
            "Nobody is waiting in line for paipu in staging."
        );
        let deploys = world.app.state.store.deploys().await.unwrap();
        assert!(
            deploys.iter().all(|d| d.state == DeployState::Failed),
            "{deploys:#?}"
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_deploy_whose_turn_does_not_come_in_time_leaves_the_line_and_its_requester_is_told() {
    for (world, clock) in
        queue_worlds(|config| config.deploy_queue_ttl = Duration::from_secs(10 * 60)).await
    {
        say(&world, BRUNO, "lock paipu staging for 2h QA").await;
        let waiting = queue(&world, ALICE, "deploy paipu to staging queue", 1).await;
        assert_eq!(
            waiting.text,
            format!(
                "1st in line for {APP}, behind <@U0BRUNO>'s lock on paipu staging. It starts when the app is free, with its branch's head at that time, or leaves the line at 14:12 UTC."
            )
        );
        clock.advance(11 * 60);
        let notice = format!(
            "<@U0ALICE> your deploy of paipu to {APP} waited in line until 14:12 UTC without its turn, so it left the line: nothing was deployed. `/h deploy paipu to staging/{APP} queue` queues it again."
        );
        wait_for_post(&world, CHANNEL, |text| text == notice).await;
        let left = world.wait_finished(1).await;
        assert_eq!(
            left.failure.as_deref(),
            Some("left the line at 14:12 UTC without its turn; nothing was deployed")
        );
        assert_eq!(
            alice(&world, "queue paipu").await,
            "Nobody is waiting in line for paipu."
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_lock_set_while_a_deploy_runs_holds_the_line_until_it_expires() {
    for (world, clock) in hour_worlds().await {
        let heroku = &world.app.sandbox.heroku;
        // Long enough for the line and the lock to form while it builds.
        heroku.set_timings(Timings {
            build: Duration::from_millis(5000),
            ..Timings::FAST
        });
        say(&world, ALICE, "deploy paipu to staging").await;
        let running = world.wait_for_state(1, DeployState::Building).await;
        let sha = running.sha.clone().unwrap();
        let waiting = queue(&world, DORA, "deploy paipu to staging queue", 2).await;
        assert_eq!(
            waiting.text,
            format!(
                "1st in line for {APP}, behind <@U0ALICE>'s deploy of {}. {UNTIL_15_02}",
                &sha[..8]
            )
        );
        say(&world, BRUNO, "lock paipu staging for 30m release check").await;
        assert_eq!(
            world
                .wait_for_state(1, DeployState::Building)
                .await
                .finished_at,
            None,
            "the lock came while the deploy ran"
        );
        assert_state(&world.wait_finished(1).await, DeployState::Deployed);
        heroku.set_timings(Timings::FAST);
        // The app is free but locked: the line waits (several polls of 50 ms).
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            world.wait_for_state(2, DeployState::Queued).await.app_id,
            running.app_id
        );
        assert_eq!(
            alice(&world, "queue paipu in staging").await,
            format!(
                "Deploys waiting in line for paipu in staging:\n{APP}, held by <@U0BRUNO>'s lock on paipu staging:\n\
                 1. <@U0DORA>'s deploy of paipu, queued at 14:02 UTC"
            )
        );
        clock.advance(31 * 60);
        let started = world.wait_finished(2).await;
        settle_outbox(&world.app).await;
        assert_deployed_from_the_line(&world, &started, &sha).await;
        world.finish().await;
    }
}

/// Two deploys typed a moment apart are stepped together, and both find the app
/// free; the first takes it while the second, which asked to wait, still reads its
/// branch. The second goes in line behind the first, as if it had come a moment
/// later, rather than being refused.
#[tokio::test]
async fn a_deploy_asked_to_wait_that_loses_a_free_app_to_another_goes_in_line() {
    for (world, _) in hour_worlds().await {
        let (github, heroku) = (&world.app.sandbox.github, &world.app.sandbox.heroku);
        heroku.set_timings(Timings {
            build: Duration::from_millis(3000),
            ..Timings::FAST
        });
        // Bruno's deploy of a branch that is not there holds the worker for 1.5 s, so
        // alice's and dora's are stepped together after it. Alice's reads its branch
        // for 1 s, dora's for 2 s: both find the app free, and alice's takes it first.
        let branches = format!("/repos/{REPO}/branches/");
        for (branch, millis) in [
            ("no-such-branch", 1500),
            ("feature-x", 1000),
            ("master", 2000),
        ] {
            let (path, delay) = (branches.clone() + branch, Duration::from_millis(millis));
            (github.faults).inject(FaultRule::slow(Method::GET, &path, delay, 1));
        }
        say(&world, BRUNO, "deploy paipu/no-such-branch to staging").await;
        while github.faults.armed() == 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        say(&world, ALICE, "deploy paipu/feature-x to staging").await;
        let typed = say(&world, DORA, "deploy paipu to staging queue").await;
        assert_eq!(typed.text, WAITS);
        world.wait_for_state(3, DeployState::Queued).await;
        let sha = world.wait_for_state(2, DeployState::Building).await.sha;
        let sha = sha.expect("the running deploy's sha");
        assert_eq!(
            told(&world, DORA).await.text,
            format!(
                "1st in line for {APP}, behind <@U0ALICE>'s deploy of {}. {UNTIL_15_02}",
                &sha[..8]
            )
        );
        assert_state(&world.wait_finished(2).await, DeployState::Deployed);
        let started = world.wait_finished(3).await;
        assert_state(&started, DeployState::Deployed);
        assert_eq!(started.sha, Some(github.head(REPO, "master").unwrap()));
        world.finish().await;
    }
}
