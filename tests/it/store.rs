//! The store's contract, run on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

use chatops::store::NewCommand;

fn command(team: &str, text: &str, at: i64) -> NewCommand {
    NewCommand {
        team_id: team.into(),
        channel_id: "C1".into(),
        user_id: "U1".into(),
        text: text.into(),
        parsed: Some(r#"{"command":"help"}"#.into()),
        error: None,
        received_at: at,
    }
}

/// Stores `command` under a fresh `signature`.
async fn accept(store: &chatops::store::Store, signature: &str, command: &NewCommand) {
    let accepted = store.accept_command(signature, command).await.unwrap();
    assert!(accepted, "a fresh signature is accepted");
}

#[tokio::test]
async fn a_signature_can_be_claimed_once() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        assert!(
            store.claim_signature("v0=aa", 100).await.unwrap(),
            "{}",
            db.backend_name()
        );
        assert!(
            !store.claim_signature("v0=aa", 101).await.unwrap(),
            "{}",
            db.backend_name()
        );
        assert!(store.claim_signature("v0=bb", 101).await.unwrap());
        assert_eq!(store.count_signatures().await.unwrap(), 2);
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_claims_of_one_signature_admit_exactly_one() {
    for db in chatops_testdb::databases().await {
        let claims = (0..16).map(|_| {
            let store = db.store.clone();
            tokio::spawn(async move { store.claim_signature("v0=race", 5).await.unwrap() })
        });
        let mut admitted = 0;
        for claim in claims {
            admitted += usize::from(claim.await.unwrap());
        }
        assert_eq!(admitted, 1, "{}", db.backend_name());
        db.finish().await;
    }
}

#[tokio::test]
async fn old_signatures_are_forgotten_and_new_ones_kept() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        store.claim_signature("v0=old", 100).await.unwrap();
        store.claim_signature("v0=new", 1000).await.unwrap();
        assert_eq!(store.forget_signatures_before(500).await.unwrap(), 1);
        assert!(!store.claim_signature("v0=new", 1001).await.unwrap());
        assert!(store.claim_signature("v0=old", 1001).await.unwrap());
        db.finish().await;
    }
}

#[tokio::test]
async fn commands_are_recorded_with_their_parse_and_read_back_newest_first() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        accept(store, "v0=a1", &command("T1", "help", 10)).await;
        let failed = NewCommand {
            parsed: None,
            error: Some("`deplyo` is not a /h command".into()),
            ..command("T1", "deplyo", 11)
        };
        accept(store, "v0=a2", &failed).await;
        accept(store, "v0=a3", &command("T2", "help", 12)).await;

        let recent = store.recent_commands("T1", 10).await.unwrap();
        let texts: Vec<_> = recent
            .iter()
            .map(|c| (c.text.as_str(), c.received_at))
            .collect();
        assert_eq!(
            texts,
            [("deplyo", 11), ("help", 10)],
            "{}",
            db.backend_name()
        );
        assert_eq!(recent[0].parsed, None);
        assert_eq!(
            recent[0].error.as_deref(),
            Some("`deplyo` is not a /h command")
        );
        assert_eq!(recent[1].parsed.as_deref(), Some(r#"{"command":"help"}"#));
        assert_eq!(store.count_commands().await.unwrap(), 3);
        db.finish().await;
    }
}

#[tokio::test]
async fn text_is_stored_byte_for_byte() {
    for db in chatops_testdb::databases().await {
        let text = "deploy paipu/feat-ü to staging 'quoted' \"double\" ; DROP TABLE commands; --";
        accept(&db.store, "v0=b1", &command("T1", text, 1)).await;
        let recent = db.store.recent_commands("T1", 1).await.unwrap();
        assert_eq!(recent[0].text, text);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_command_under_a_used_signature_is_not_recorded() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        accept(store, "v0=c1", &command("T1", "help", 10)).await;
        let replay = command("T1", "whoami", 11);
        let accepted = store.accept_command("v0=c1", &replay).await.unwrap();
        assert!(!accepted, "{}", db.backend_name());
        assert!(!store.claim_signature("v0=c1", 12).await.unwrap());
        assert_eq!(store.count_commands().await.unwrap(), 1);
        assert_eq!(store.count_signatures().await.unwrap(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn commands_arriving_together_are_each_recorded_once_per_signature() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        // 150 requests at once, every signature sent three times: more than one batch,
        // and duplicates inside a batch.
        let attempts = (0..150).map(|n| {
            let command = command("T1", &format!("help {}", n % 50), n);
            async move {
                store
                    .accept_command(&format!("v0=d{}", n % 50), &command)
                    .await
            }
        });
        let accepted = futures_util::future::join_all(attempts).await;
        let accepted = accepted
            .into_iter()
            .filter(|a| *a.as_ref().unwrap())
            .count();
        assert_eq!(accepted, 50, "{}", db.backend_name());
        assert_eq!(store.count_commands().await.unwrap(), 50);
        assert_eq!(store.count_signatures().await.unwrap(), 50);
        db.finish().await;
    }
}

#[tokio::test]
async fn migrating_twice_is_harmless() {
    for db in chatops_testdb::databases().await {
        db.store.migrate().await.unwrap();
        db.store.ping().await.unwrap();
        db.finish().await;
    }
}

/// The pool's connection never checkpoints (that fsync was the ack's tail latency);
/// a background task does. Proof it runs: the database file itself grows while the
/// store stays open, which only a checkpoint makes happen in WAL mode.
#[tokio::test]
async fn sqlite_copies_its_write_ahead_log_into_the_database_in_the_background() {
    let db = chatops_testdb::databases().await.remove(0);
    let file = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let size = || std::fs::metadata(&file).unwrap().len();
    let before = size();
    let long_text = "x".repeat(2_000);
    for n in 0..500 {
        accept(
            &db.store,
            &format!("v0=w{n}"),
            &command("T1", &long_text, n),
        )
        .await;
    }
    let started = std::time::Instant::now();
    while size() < before + 500 * 2_000 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the database file stayed at {} bytes (was {before}): nothing checkpointed",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    db.finish().await;
}
