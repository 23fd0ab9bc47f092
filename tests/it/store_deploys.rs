//! The deploy rows' scheduling contract: leases, wakes from webhooks, the save that
//! gives the lease back, and the order the outbox sends a deploy's messages in. Run on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

use chatops::store::{
    DeployKind, DeployRow, DeployState, MessageKind, NewMessage, QueuedMessage, StepSave, Store,
};

const POLL: i64 = 5_000;

pub fn deploy(now: i64) -> DeployRow {
    DeployRow {
        id: 0,
        team_id: "T1".into(),
        channel_id: "C1".into(),
        user_id: "U1".into(),
        response_url: "http://127.0.0.1:9/response".into(),
        pipeline: "paipu".into(),
        branch: None,
        stage: Some("staging".into()),
        app_name: None,
        forced: false,
        two_factor_code: None,
        state: DeployState::Requested,
        app_id: None,
        repo: None,
        git_ref: None,
        sha: None,
        github_deployment_id: None,
        build_id: None,
        release_id: None,
        failure: None,
        created_at: now,
        stage_started_at: now,
        finished_at: None,
        next_check_at: now,
        kind: DeployKind::Deploy,
        source_stage: None,
        source_app: None,
        source_version: None,
        replaced_version: None,
        replaced_sha: None,
        promotion_id: None,
        confirmed: false,
        confirm_expires_at: None,
        promotion_requested_at: None,
        queue_if_busy: false,
        queued_at: None,
    }
}

/// A building deploy of app `A1`, leased by `owner` at `now`.
async fn leased_build(store: &Store, owner: &str, now: i64) -> DeployRow {
    let id = store.insert_deploy(&deploy(now)).await.unwrap();
    let claimed = store
        .claim_due_deploys(owner, now, now + 30_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed, [id]);
    let mut row = store.deploy(id).await.unwrap().unwrap();
    row.state = DeployState::Building;
    row.app_id = Some("A1".into());
    row.next_check_at = now + POLL;
    row
}

async fn save(store: &Store, row: &DeployRow, owner: &str, now: i64) -> bool {
    let save = StepSave {
        deploy: row,
        owner,
        messages: &[],
        targets: &[],
        release_lock: false,
        now,
    };
    store.save_step(save).await.unwrap()
}

async fn next_check(store: &Store, id: i64) -> i64 {
    store.deploy(id).await.unwrap().unwrap().next_check_at
}

#[tokio::test]
async fn a_wake_during_a_step_makes_its_save_check_again_at_once() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let mut row = leased_build(store, "w1", 1_000).await;
        // The app_id is first stored by a save; the next step runs under a new lease.
        assert!(save(store, &row, "w1", 1_000).await);
        let claimed = store.claim_due_deploys("w1", 6_000, 36_000, 10).await;
        assert_eq!(claimed.unwrap(), [row.id]);
        assert_eq!(store.wake_deploys_of_app("A1", 6_100).await.unwrap(), 1);
        row.next_check_at = 6_200 + POLL;
        assert!(save(store, &row, "w1", 6_200).await);
        assert_eq!(
            next_check(store, row.id).await,
            6_100,
            "{}",
            db.backend_name()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_wake_between_steps_makes_the_deploy_due_and_is_then_forgotten() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let mut row = leased_build(store, "w1", 1_000).await;
        assert!(save(store, &row, "w1", 1_000).await);
        assert_eq!(next_check(store, row.id).await, 1_000 + POLL);
        assert_eq!(store.wake_deploys_of_app("A1", 2_000).await.unwrap(), 1);
        assert_eq!(
            next_check(store, row.id).await,
            2_000,
            "{}",
            db.backend_name()
        );
        // The step that the wake caused has seen the change: it schedules as it likes.
        let claimed = store.claim_due_deploys("w2", 2_050, 32_050, 10).await;
        assert_eq!(claimed.unwrap(), [row.id]);
        row.next_check_at = 2_100 + POLL;
        assert!(save(store, &row, "w2", 2_100).await);
        assert_eq!(next_check(store, row.id).await, 2_100 + POLL);
        db.finish().await;
    }
}

#[tokio::test]
async fn wakes_skip_other_apps_and_finished_deploys() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let mut row = leased_build(store, "w1", 1_000).await;
        row.finished_at = Some(1_000);
        row.state = DeployState::Deployed;
        assert!(save(store, &row, "w1", 1_000).await);
        assert_eq!(store.wake_deploys_of_app("A1", 2_000).await.unwrap(), 0);
        assert_eq!(store.wake_deploys_of_app("A2", 2_000).await.unwrap(), 0);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_save_under_a_lost_lease_writes_nothing() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let mut row = leased_build(store, "w1", 1_000).await;
        row.state = DeployState::Releasing;
        assert!(!save(store, &row, "someone-else", 1_000).await);
        let (stored, backend) = (store.deploy(row.id).await.unwrap(), db.backend_name());
        assert_eq!(stored.unwrap().state, DeployState::Requested, "{backend}");
        db.finish().await;
    }
}

#[tokio::test]
async fn every_state_kind_and_flag_round_trips() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        for (i, &state) in DeployState::ALL.iter().enumerate() {
            let mut row = deploy(1_000);
            row.state = state;
            row.kind = DeployKind::ALL[i % DeployKind::ALL.len()];
            row.forced = i % 2 == 0;
            row.id = store.insert_deploy(&row).await.unwrap();
            let stored = store.deploy(row.id).await.unwrap().unwrap();
            assert_eq!(stored, row, "{}", db.backend_name());
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn an_unknown_stored_value_is_an_error_naming_its_column_and_value() {
    for db in chatops_testdb::databases().await {
        let raw = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&db.url)
            .await
            .unwrap();
        for (column, value, told) in [
            ("kind", "'teleport'", r#""teleport" is not a deploy kind"#),
            ("state", "'exploded'", r#""exploded" is not a deploy state"#),
            ("forced", "2", "2 is not a flag"),
            ("confirmed", "-1", "-1 is not a flag"),
        ] {
            let id = db.store.insert_deploy(&deploy(1_000)).await.unwrap();
            let sql = format!("UPDATE deploys SET {column} = {value} WHERE id = $1");
            sqlx::query(&sql).bind(id).execute(&raw).await.unwrap();
            let error = format!("{:#}", db.store.deploy(id).await.unwrap_err());
            let (name, backend) = (format!("column \"{column}\""), db.backend_name());
            assert!(error.contains(&name), "{backend}: {error}");
            assert!(error.contains(told), "{backend}: {error}");
        }
        raw.close().await;
        db.finish().await;
    }
}

fn message(kind: MessageKind, text: &str) -> NewMessage {
    NewMessage {
        thread_key: "deploy-1".into(),
        team_id: "T1".into(),
        channel_id: "C1".into(),
        kind,
        body: format!(r#"{{"text":"{text}"}}"#),
    }
}

/// What the next claim at `now` leases, as message bodies.
async fn claim(store: &Store, now: i64) -> Vec<QueuedMessage> {
    store.claim_messages(now, now + 30_000, 32).await.unwrap()
}

fn bodies(claimed: &[QueuedMessage]) -> Vec<&str> {
    claimed.iter().map(|q| q.message.body.as_str()).collect()
}

#[tokio::test]
async fn a_threads_messages_go_in_order_but_updates_do_not_wait_for_replies() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let row = leased_build(store, "w1", 1_000).await;
        let messages = [
            message(MessageKind::Parent, "parent"),
            message(MessageKind::Reply, "deploying"),
            message(MessageKind::UpdateParent, "releasing"),
            message(MessageKind::Reply, "releasing"),
        ];
        let save = StepSave {
            deploy: &row,
            owner: "w1",
            messages: &messages,
            targets: &[],
            release_lock: false,
            now: 1_000,
        };
        assert!(store.save_step(save).await.unwrap());
        let first = claim(store, 1_000).await;
        assert_eq!(
            bodies(&first),
            [r#"{"text":"parent"}"#],
            "{}",
            db.backend_name()
        );
        store.message_sent(&first[0], Some("1.0001")).await.unwrap();
        let second = claim(store, 1_001).await;
        let expected = [r#"{"text":"deploying"}"#, r#"{"text":"releasing"}"#];
        assert_eq!(bodies(&second), expected, "{}", db.backend_name());
        assert_eq!(second[1].message.kind, MessageKind::UpdateParent);
        // The reply is paced: it gives its claim back, and the next reply still waits.
        store
            .message_deferred(second[0].id, 2_000, "paced")
            .await
            .unwrap();
        store
            .message_sent(&second[1], Some("1.0001"))
            .await
            .unwrap();
        assert!(claim(store, 1_500).await.is_empty());
        let again = claim(store, 2_000).await;
        assert_eq!(bodies(&again), [r#"{"text":"deploying"}"#]);
        assert_eq!(again[0].claims, 1, "a deferral is not counted as a claim");
        db.finish().await;
    }
}

/// The metrics read how many deploys are in each state from counts kept as rows
/// move, not from a count over every deploy ever made: an inserted, moved or
/// finished deploy changes its two counts, and the read returns what is kept.
#[tokio::test]
async fn deploy_counts_by_state_are_kept_as_rows_move_not_counted_at_each_read() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let building = leased_build(store, "w1", 1_000).await;
        assert!(save(store, &building, "w1", 1_000).await);
        let mut finished = leased_build(store, "w1", 1_000).await;
        (finished.state, finished.finished_at) = (DeployState::Deployed, Some(1_000));
        assert!(save(store, &finished, "w1", 1_000).await);
        store.insert_deploy(&deploy(1_000)).await.unwrap();
        let mut counts = store.count_deploys_by_state().await.unwrap();
        counts.retain(|(_, count)| *count != 0);
        counts.sort_by_key(|(state, _)| state.as_str());
        let expected = [
            (DeployState::Building, 1),
            (DeployState::Deployed, 1),
            (DeployState::Requested, 1),
        ];
        assert_eq!(counts, expected, "{}", db.backend_name());

        let raw = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&db.url)
            .await
            .unwrap();
        sqlx::query("UPDATE deploy_state_counts SET deploys = 1000000 WHERE state = 'deployed'")
            .execute(&raw)
            .await
            .unwrap();
        raw.close().await;
        let counts = store.count_deploys_by_state().await.unwrap();
        assert!(
            counts.contains(&(DeployState::Deployed, 1_000_000)),
            "{counts:?}"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_repository_change_is_recorded_and_announced_with_the_mapping_once() {
    use chatops::store::RepoChange;
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let change = |repo: &str, at: i64| RepoChange {
            team_id: "T1".into(),
            pipeline: "paipu".into(),
            repo: repo.into(),
            previous_repo: None,
            set_by: "U1".into(),
            at,
        };
        let announce = |previous: Option<&str>| {
            Ok(previous
                .map(|before| message(MessageKind::Parent, &format!("was {before}")))
                .into_iter()
                .collect())
        };
        let first = store
            .change_pipeline_repo(&change("a/one", 10), announce)
            .await;
        assert_eq!(first.unwrap(), Some(change("a/one", 10)));
        assert_eq!(
            store.pending_messages().await.unwrap(),
            0,
            "a first connection is not news"
        );
        let second = store
            .change_pipeline_repo(&change("b/two", 20), announce)
            .await;
        let expected = RepoChange {
            previous_repo: Some("a/one".into()),
            ..change("b/two", 20)
        };
        assert_eq!(second.unwrap(), Some(expected.clone()));
        let same = store
            .change_pipeline_repo(&change("b/two", 30), announce)
            .await;
        assert_eq!(
            same.unwrap(),
            None,
            "the same repository again changes nothing"
        );
        assert_eq!(store.pending_messages().await.unwrap(), 1);
        let repo = store.pipeline_repo("T1", "paipu").await.unwrap();
        assert_eq!(repo.as_deref(), Some("b/two"));
        let history = store.repo_changes("T1", "paipu", 10).await.unwrap();
        assert_eq!(history, [expected, change("a/one", 10)]);
        db.finish().await;
    }
}
