//! The outbox claim's cost against the backlog: 10, 1,000 and 10,000 queued messages,
//! in threads of five (a parent, then replies and updates), each thread's head paced
//! into the future but for two, which are due. Every claim therefore finds the same
//! two messages, whatever waits behind; the question is what finding them costs.
//! Each claimed message is given back (`message_deferred`, untimed) so the backlog
//! stays as it is.
//!
//! Beside `Store::claim_messages` (ready heads, through the `outbox_ready` index) it
//! times the claim as it was before: the same lease-taking `UPDATE`, choosing each
//! thread's first pending message by a scan of the due ones.
//!
//! `cargo bench --bench outbox` (SQLite); with
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test` PostgreSQL too.
//! `OUTBOX_CLAIMS=<n>` claims per size (default 2,000).

use std::time::{Duration, Instant};

use chatops::store::{MessageKind, NewMessage, Store};

const SIZES: [usize; 3] = [10, 1_000, 10_000];
const THREAD_LENGTH: usize = 5;
const DUE_HEADS: usize = 2;
/// Paced heads come back long after the run.
const LATER: i64 = 1 << 40;

/// The claim before the `ready` column (PostgreSQL adds `FOR UPDATE SKIP LOCKED` to
/// the inner select; one connection here, so it would change nothing).
const SCAN: &str = "UPDATE outbox SET lease_until = $1, claims = claims + 1 WHERE id IN (\
     SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $2 \
     AND (o.lease_until IS NULL OR o.lease_until < $2) \
     AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.thread_key = o.thread_key \
     AND e.state = 'pending' AND e.id < o.id AND (o.kind <> 'update' OR e.kind <> 'reply')) \
     ORDER BY o.id LIMIT 32) RETURNING id";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let claims: usize = std::env::var("OUTBOX_CLAIMS")
        .ok()
        .and_then(|claims| claims.parse().ok())
        .unwrap_or(2_000);
    println!("outbox claims, {DUE_HEADS} due heads, {claims} claims per row");
    println!(
        "{:>9} {:>8} {:>22} {:>10} {:>10} {:>10}",
        "backend", "queued", "claim", "claims/s", "ms/claim", "msgs/claim"
    );
    for size in SIZES {
        for db in chatops_testdb::databases().await {
            let backend = db.backend_name();
            fill(&db.store, size).await?;
            let indexed = time_claims(&db.store, claims).await?;
            print_row(backend, size, "ready index (now)", indexed);
            let scan = time_scan(&db.store, &db.url, claims).await?;
            print_row(backend, size, "scan (before)", scan);
            db.finish().await;
        }
    }
    Ok(())
}

/// Queues `size` messages in threads of [`THREAD_LENGTH`], and paces every thread's
/// head but [`DUE_HEADS`] into the future.
async fn fill(store: &Store, size: usize) -> anyhow::Result<()> {
    let kinds = [
        MessageKind::Parent,
        MessageKind::Reply,
        MessageKind::UpdateParent,
        MessageKind::Reply,
        MessageKind::Reply,
    ];
    let messages: Vec<_> = (0..size)
        .map(|n| NewMessage {
            thread_key: format!("deploy-{}", n / THREAD_LENGTH),
            team_id: "T1".into(),
            channel_id: format!("C{}", n % 50),
            kind: kinds[n % THREAD_LENGTH],
            body: r#"{"message":{"text":"Deploying"}}"#.into(),
        })
        .collect();
    for chunk in messages.chunks(500) {
        store.queue_messages(chunk, 0).await?;
    }
    let heads = store.claim_messages(0, 1, i64::MAX).await?;
    for head in heads.iter().skip(DUE_HEADS) {
        store.message_deferred(head.id, LATER, "paced").await?;
    }
    for head in heads.iter().take(DUE_HEADS) {
        store.message_deferred(head.id, 0, "due").await?;
    }
    Ok(())
}

/// What a run of claims cost.
struct Timed {
    claims: usize,
    messages: usize,
    took: Duration,
}

async fn time_claims(store: &Store, claims: usize) -> anyhow::Result<Timed> {
    let (mut messages, mut took) = (0, Duration::ZERO);
    for n in 0..claims {
        let now = 10 + n as i64;
        let started = Instant::now();
        let claimed = store.claim_messages(now, now + 1, 32).await?;
        took += started.elapsed();
        messages += claimed.len();
        for queued in &claimed {
            store.message_deferred(queued.id, 0, "given back").await?;
        }
    }
    Ok(Timed {
        claims,
        messages,
        took,
    })
}

async fn time_scan(store: &Store, url: &str, claims: usize) -> anyhow::Result<Timed> {
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let (mut messages, mut took) = (0, Duration::ZERO);
    for n in 0..claims {
        let now = 10 + n as i64;
        let started = Instant::now();
        let claimed: Vec<i64> = sqlx::query_scalar(SCAN)
            .bind(now + 1)
            .bind(now)
            .fetch_all(&pool)
            .await?;
        took += started.elapsed();
        messages += claimed.len();
        for id in claimed {
            store.message_deferred(id, 0, "given back").await?;
        }
    }
    pool.close().await;
    Ok(Timed {
        claims,
        messages,
        took,
    })
}

fn print_row(backend: &str, size: usize, claim: &str, timed: Timed) {
    let seconds = timed.took.as_secs_f64();
    println!(
        "{backend:>9} {size:>8} {claim:>22} {:>10.0} {:>10.3} {:>10.1}",
        timed.claims as f64 / seconds,
        seconds * 1_000.0 / timed.claims as f64,
        timed.messages as f64 / timed.claims as f64
    );
}
