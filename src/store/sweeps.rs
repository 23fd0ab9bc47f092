//! Turns of the periodic sweeps (lock expiry, signature pruning, release polling), so
//! that however many processes run, each turn of a sweep runs in one of them.

use anyhow::Context;

use super::Store;

impl Store {
    /// Whether this process takes sweep `sweep`'s turn due at `now`; the next turn is
    /// then `every` later. Of several processes asking for one turn, exactly one gets it.
    pub async fn take_sweep_turn(&self, sweep: &str, now: i64, every: i64) -> anyhow::Result<bool> {
        let taken = sqlx::query(
            "INSERT INTO sweep_turns (sweep, next_turn_at) VALUES ($1, $2) \
             ON CONFLICT (sweep) DO UPDATE SET next_turn_at = excluded.next_turn_at \
             WHERE sweep_turns.next_turn_at <= $3",
        )
        .bind(sweep)
        .bind(now + every)
        .bind(now)
        .execute(&self.pool)
        .await
        .with_context(|| format!("cannot take the {sweep} sweep's turn"))?;
        Ok(taken.rows_affected() == 1)
    }
}
