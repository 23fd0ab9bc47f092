//! The deploy queue's store contract, on SQLite and (with TEST_DATABASE_URL)
//! PostgreSQL: only the head of an app's line takes its turn, only while the app's
//! deploy lock is free, once however many try at the same time; a deploy taken out of
//! the line cannot start; releasing the lock makes the line due at once.

use chatops::store::{DeployRow, DeployState, StepSave, Store};

use crate::store_deploys::deploy;

const LATER: i64 = 1_000_000;

/// A deploy of `user` waiting in app `A1`'s line since `at`.
async fn queued(store: &Store, user: &str, at: i64) -> DeployRow {
    let mut row = deploy(at);
    (row.user_id, row.state) = (user.into(), DeployState::Queued);
    row.id = store.insert_deploy(&row).await.unwrap();
    let claimed = store.claim_due_deploys("w", at, at + 1, 10).await.unwrap();
    assert_eq!(claimed, [row.id]);
    (row.app_id, row.app_name) = (Some("A1".into()), Some("app-one".into()));
    (row.queued_at, row.next_check_at) = (Some(at), LATER);
    assert!(save(store, &row, false, at).await);
    row
}

async fn save(store: &Store, row: &DeployRow, release_lock: bool, now: i64) -> bool {
    let save = StepSave {
        deploy: row,
        owner: "w",
        messages: &[],
        targets: &[],
        release_lock,
        now,
    };
    store.save_step(save).await.unwrap()
}

#[tokio::test]
async fn only_the_head_takes_its_turn_and_only_while_the_app_is_free() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let first = queued(store, "U1", 1_000).await;
        let second = queued(store, "U2", 2_000).await;
        let line = store.queue_of_app("T1", "A1").await.unwrap();
        let places: Vec<_> = line
            .iter()
            .map(|e| (e.position, e.user_id.as_str()))
            .collect();
        assert_eq!(places, [(1, "U1"), (2, "U2")]);
        assert!(store.queue_of_app("T2", "A1").await.unwrap().is_empty());

        assert!(
            !store.take_turn(&second, 3_000).await.unwrap(),
            "not the head"
        );
        let (a, b) = tokio::join!(
            store.take_turn(&first, 3_000),
            store.take_turn(&second, 3_000)
        );
        assert_eq!(
            (a.unwrap(), b.unwrap()),
            (true, false),
            "{}",
            db.backend_name()
        );
        let lock = store.app_lock("A1").await.unwrap().unwrap();
        assert_eq!((lock.deploy_id, lock.sha.as_str()), (first.id, ""));
        let started = store.deploy(first.id).await.unwrap().unwrap();
        assert_eq!(
            (started.state, started.next_check_at),
            (DeployState::Requested, 3_000)
        );
        assert!(
            !store.take_turn(&second, 3_500).await.unwrap(),
            "the app is held"
        );

        // The first deploy ends: the line is due at once and the second goes.
        store
            .claim_due_deploys("w", 4_000, 4_001, 10)
            .await
            .unwrap();
        let mut done = started;
        (done.state, done.finished_at) = (DeployState::Deployed, Some(4_000));
        assert!(save(store, &done, true, 4_000).await);
        assert_eq!(
            store
                .deploy(second.id)
                .await
                .unwrap()
                .unwrap()
                .next_check_at,
            4_000
        );
        assert!(store.take_turn(&second, 4_100).await.unwrap());
        assert!(store.queue_of_app("T1", "A1").await.unwrap().is_empty());
        db.finish().await;
    }
}

#[tokio::test]
async fn a_deploy_taken_out_of_the_line_never_starts() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let first = queued(store, "U1", 1_000).await;
        let second = queued(store, "U2", 2_000).await;
        assert!(
            store
                .leave_queue(first.id, 2_500, "taken out", &[])
                .await
                .unwrap()
        );
        assert!(
            !store
                .leave_queue(first.id, 2_600, "again", &[])
                .await
                .unwrap()
        );
        assert!(!store.take_turn(&first, 3_000).await.unwrap());
        let left = store.deploy(first.id).await.unwrap().unwrap();
        assert_eq!(
            (left.state, left.failure.as_deref(), left.finished_at),
            (DeployState::Failed, Some("taken out"), Some(2_500))
        );
        assert!(
            store.take_turn(&second, 3_000).await.unwrap(),
            "it moved up"
        );
        assert!(
            !store
                .leave_queue(second.id, 3_100, "too late", &[])
                .await
                .unwrap()
        );
        db.finish().await;
    }
}
