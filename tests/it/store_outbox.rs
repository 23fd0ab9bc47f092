//! Several processes on one database as one bot, at the store: the outbox's ready
//! messages under racing deliverers, the shared Slack pace, and sweep turns. Run on
//! SQLite and (with TEST_DATABASE_URL) PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatops::slack::pacer::Pacer;
use chatops::store::{MessageKind, NewMessage, QueuedMessage, Store};

const THREADS: usize = 30;
/// Each thread's messages, in the order queued: updates may pass replies, nothing
/// else passes anything.
const KINDS: [MessageKind; 6] = [
    MessageKind::Parent,
    MessageKind::Reply,
    MessageKind::UpdateParent,
    MessageKind::Reply,
    MessageKind::UpdateParent,
    MessageKind::Reply,
];

/// Message `seq` of thread `thread`; its body names both.
fn message(thread: usize, seq: usize) -> NewMessage {
    NewMessage {
        thread_key: format!("thread-{thread}"),
        team_id: "T1".into(),
        channel_id: "C1".into(),
        kind: KINDS[seq],
        body: format!("{thread}:{seq}"),
    }
}

fn parse(queued: &QueuedMessage) -> (usize, usize) {
    let (thread, seq) = queued.message.body.split_once(':').unwrap();
    (thread.parse().unwrap(), seq.parse().unwrap())
}

/// The messages `seq` of a thread waits for.
fn blockers(seq: usize) -> impl Iterator<Item = usize> {
    (0..seq).filter(move |&earlier| {
        KINDS[seq] != MessageKind::UpdateParent || KINDS[earlier] != MessageKind::Reply
    })
}

/// Four deliverers claim and send at once while the threads' later halves are still
/// being queued: every message goes exactly once, never before what it waits for,
/// and none is left behind because two deliverers finished its predecessors at the
/// same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_deliverers_send_every_message_once_in_thread_order() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let first_half: Vec<_> = (0..THREADS)
            .flat_map(|thread| (0..3).map(move |seq| message(thread, seq)))
            .collect();
        store.queue_messages(&first_half, 0).await.unwrap();
        let started: Arc<Mutex<HashSet<(usize, usize)>>> = Arc::default();
        let all_queued = Arc::new(AtomicBool::new(false));
        let deliverers: Vec<_> = (0..4)
            .map(|_| {
                let deliverer =
                    deliver_until_drained(store.clone(), started.clone(), all_queued.clone());
                tokio::spawn(deliverer)
            })
            .collect();
        for thread in 0..THREADS {
            let second_half: Vec<_> = (3..KINDS.len()).map(|seq| message(thread, seq)).collect();
            store.queue_messages(&second_half, 0).await.unwrap();
        }
        all_queued.store(true, Ordering::SeqCst);
        let mut claimed = Vec::new();
        for deliverer in deliverers {
            claimed.extend(deliverer.await.unwrap());
        }
        let left = store.pending_messages().await.unwrap();
        assert_eq!(left, 0, "{}: messages left behind", db.backend_name());
        let mut seen = HashSet::new();
        for message in &claimed {
            assert!(seen.insert(*message), "{message:?} was claimed twice");
        }
        assert_eq!(seen.len(), THREADS * KINDS.len(), "{}", db.backend_name());
        db.finish().await;
    }
}

/// Claims and sends until everything was queued and nothing is pending; checks each
/// claim against what was already started, and returns every message it claimed.
async fn deliver_until_drained(
    store: Store,
    started: Arc<Mutex<HashSet<(usize, usize)>>>,
    all_queued: Arc<AtomicBool>,
) -> Vec<(usize, usize)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut claimed = Vec::new();
    while !all_queued.load(Ordering::SeqCst) || store.pending_messages().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        let batch = store.claim_messages(1, 60_000, 4).await.unwrap();
        for queued in &batch {
            let (thread, seq) = parse(queued);
            let started = &mut started.lock().unwrap();
            for blocker in blockers(seq) {
                let blocker = (thread, blocker);
                assert!(
                    started.contains(&blocker),
                    "{thread}:{seq} before {blocker:?}"
                );
            }
            started.insert((thread, seq));
            claimed.push((thread, seq));
        }
        let sends = batch
            .iter()
            .map(|queued| store.message_sent(queued, Some("1.0")));
        for sent in futures_util::future::join_all(sends).await {
            sent.unwrap();
        }
        tokio::task::yield_now().await;
    }
    claimed
}

#[tokio::test]
async fn an_abandoned_update_lets_what_waited_for_it_go() {
    for db in chatops_testdb::databases().await {
        let store = &db.store;
        let thread = |kind, body: &str| NewMessage {
            kind,
            body: body.into(),
            ..message(0, 0)
        };
        store
            .queue_messages(&[thread(MessageKind::Parent, "parent")], 0)
            .await
            .unwrap();
        let parent = store.claim_messages(0, 60_000, 10).await.unwrap();
        store.message_sent(&parent[0], Some("1.0")).await.unwrap();
        let later = [
            thread(MessageKind::UpdateParent, "building"),
            thread(MessageKind::Reply, "deploying"),
            thread(MessageKind::UpdateParent, "releasing"),
        ];
        store.queue_messages(&later, 1).await.unwrap();
        let due = store.claim_messages(1, 60_000, 10).await.unwrap();
        let bodies: Vec<_> = due.iter().map(|q| q.message.body.as_str()).collect();
        assert_eq!(bodies, ["building"], "a reply waits for updates before it");
        store
            .message_abandoned(&due[0], "superseded", "a newer update is queued")
            .await
            .unwrap();
        let next = store.claim_messages(2, 60_000, 10).await.unwrap();
        let mut bodies: Vec<_> = next.iter().map(|q| q.message.body.as_str()).collect();
        bodies.sort_unstable();
        assert_eq!(bodies, ["deploying", "releasing"], "{}", db.backend_name());
        db.finish().await;
    }
}

fn post(channel: &str) -> NewMessage {
    NewMessage {
        channel_id: channel.into(),
        ..message(0, 1)
    }
}

/// Two processes booking one channel's posts get what one process would: a burst of
/// two, then one slot every 1.1 s, each slot promised once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_one_channels_pace() {
    for db in chatops_testdb::databases().await {
        let other = Store::connect(&db.url).await.unwrap();
        let pacers = [
            Pacer::shared(db.store.clone()),
            Pacer::shared(other.clone()),
        ];
        let c1 = post("C1");
        let bookings = (0..12).map(|n| pacers[n % 2].book(&c1, 10_000));
        let booked = futures_util::future::try_join_all(bookings).await.unwrap();
        let mut slots: Vec<_> = booked.iter().flatten().copied().collect();
        slots.sort_unstable();
        let expected: Vec<_> = (1..=10).map(|n| 10_000 + 1_100 * n).collect();
        assert_eq!(slots, expected, "{}", db.backend_name());
        assert_eq!(booked.iter().filter(|slot| slot.is_none()).count(), 2);
        assert_eq!(
            pacers[1].book(&post("C2"), 10_000).await.unwrap(),
            None,
            "another channel has its own bucket"
        );
        pacers[0].slowed(&post("C2"), 10_000, 13_000).await.unwrap();
        let after_429 = pacers[1].book(&post("C2"), 12_000).await.unwrap();
        assert_eq!(after_429, Some(13_000), "a 429 seen by one is kept by all");
        other.close().await;
        db.finish().await;
    }
}

/// However many processes ask for a sweep's turn at once, one gets it; the next turn
/// comes `every` later.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_sweep_turn_goes_to_exactly_one_process() {
    for db in chatops_testdb::databases().await {
        let takers = (0..16).map(|_| db.store.take_sweep_turn("lock expiry", 1_000, 500));
        let taken = futures_util::future::try_join_all(takers).await.unwrap();
        let backend = db.backend_name();
        assert_eq!(taken.iter().filter(|t| **t).count(), 1, "{backend}");
        let store = &db.store;
        assert!(
            !store
                .take_sweep_turn("lock expiry", 1_499, 500)
                .await
                .unwrap()
        );
        assert!(
            store
                .take_sweep_turn("release poll", 1_499, 500)
                .await
                .unwrap()
        );
        assert!(
            store
                .take_sweep_turn("lock expiry", 1_500, 500)
                .await
                .unwrap()
        );
        let mut turns = HashMap::new();
        for at in (1_500..4_000).step_by(100) {
            let taken = store.take_sweep_turn("lock expiry", at, 500).await.unwrap();
            turns.insert(at, taken);
        }
        let mut taken_at: Vec<_> = turns
            .into_iter()
            .filter(|(_, t)| *t)
            .map(|(at, _)| at)
            .collect();
        taken_at.sort_unstable();
        assert_eq!(taken_at, [2_000, 2_500, 3_000, 3_500], "{backend}");
        db.finish().await;
    }
}
