//! The intake of slash commands: each accepted command claims its request signature
//! and is recorded, and commands arriving together are written together.
//!
//! Acks are the hot path (Slack gives up after 3 s, and a team types in bursts). One
//! transaction per command made every request wait for its own commit on the one
//! SQLite writer, so under concurrency latency was mostly queueing for commits. Here a
//! task takes whatever commands are waiting, claims all their signatures with one
//! statement and stores all the new commands with another, in one transaction: four
//! round trips for the batch, whatever its size.

use std::collections::HashSet;

use anyhow::Context;
use sqlx::{Acquire, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::NewCommand;

/// Commands written in one transaction at most (7 bound values each, well within
/// either backend's limit).
const MAX_BATCH: usize = 64;
/// Commands waiting for the intake at most; more wait to be queued.
const QUEUE: usize = 1024;

/// Sends commands to the intake task.
#[derive(Debug, Clone)]
pub(super) struct Intake(mpsc::Sender<Pending>);

struct Pending {
    signature: String,
    command: NewCommand,
    /// `true` when recorded, `false` when its signature was already used.
    done: oneshot::Sender<Result<bool, String>>,
}

impl Intake {
    /// Starts the task writing to `pool`; it stops when the last sender is dropped.
    pub fn start(pool: AnyPool) -> Intake {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, receiver));
        Intake(sender)
    }

    /// Claims `signature` and records `command`: `false` (nothing written) for a
    /// replay.
    pub async fn accept(&self, signature: &str, command: &NewCommand) -> anyhow::Result<bool> {
        let (done, outcome) = oneshot::channel();
        let pending = Pending {
            signature: signature.to_owned(),
            command: command.clone(),
            done,
        };
        self.0
            .send(pending)
            .await
            .map_err(|_| anyhow::anyhow!("the command intake has stopped"))?;
        let outcome = outcome.await.context("the command intake has stopped")?;
        outcome.map_err(|error| anyhow::anyhow!(error))
    }
}

async fn run(pool: AnyPool, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write(&pool, &batch).await {
            Ok(recorded) => {
                for (pending, recorded) in batch.drain(..).zip(recorded) {
                    let _ = pending.done.send(Ok(recorded));
                }
            }
            Err(error) => {
                let error = format!("{error:#}");
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Writes a batch in one transaction; for each, whether it was recorded.
async fn write(pool: &AnyPool, batch: &[Pending]) -> anyhow::Result<Vec<bool>> {
    let mut conn = pool.acquire().await.context("no database connection")?;
    let mut tx = conn.begin().await.context("cannot begin a transaction")?;
    let claim_sql = claim_sql(batch.len());
    let mut claim = sqlx::query_scalar::<_, String>(&claim_sql);
    for pending in batch {
        claim = claim
            .bind(&pending.signature)
            .bind(pending.command.received_at);
    }
    let mut claimed: HashSet<String> = claim
        .fetch_all(&mut *tx)
        .await
        .context("cannot record the request signatures")?
        .into_iter()
        .collect();
    // A signature sent twice in one batch is claimed by its first request only.
    let recorded: Vec<bool> = batch
        .iter()
        .map(|pending| claimed.remove(&pending.signature))
        .collect();
    let new: Vec<&NewCommand> = batch
        .iter()
        .zip(&recorded)
        .filter(|(_, recorded)| **recorded)
        .map(|(pending, _)| &pending.command)
        .collect();
    if !new.is_empty() {
        let insert_sql = insert_sql(new.len());
        let mut insert = sqlx::query(&insert_sql);
        for command in new {
            insert = insert
                .bind(&command.team_id)
                .bind(&command.channel_id)
                .bind(&command.user_id)
                .bind(&command.text)
                .bind(&command.parsed)
                .bind(&command.error)
                .bind(command.received_at);
        }
        insert
            .execute(&mut *tx)
            .await
            .context("cannot record the commands")?;
    }
    tx.commit().await.context("cannot commit the commands")?;
    Ok(recorded)
}

fn claim_sql(rows: usize) -> String {
    format!(
        "INSERT INTO seen_signatures (signature, seen_at) VALUES {} \
         ON CONFLICT (signature) DO NOTHING RETURNING signature",
        placeholders(rows, 2)
    )
}

fn insert_sql(rows: usize) -> String {
    format!(
        "INSERT INTO commands (team_id, channel_id, user_id, text, parsed, error, received_at) \
         VALUES {}",
        placeholders(rows, 7)
    )
}

/// `($1, $2), ($3, $4)` for two rows of two columns.
fn placeholders(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let values: Vec<String> = (1..=columns)
            .map(|c| format!("${}", r * columns + c))
            .collect();
        format!("({})", values.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_once_row_by_row() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(3, 2), "($1, $2), ($3, $4), ($5, $6)");
    }
}
