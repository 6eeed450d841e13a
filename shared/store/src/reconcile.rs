//! Reconciler side: Redis only holds work in flight, so after a lost job (or a `FLUSHALL`)
//! the database is what tells which items need their job again.

use crate::error::{Result, db};
use crate::job::{TRANSITION_SQL, state_names};
use crate::sync::get;
use crate::{Store, from_json, parse_lane, parse_state};
use chrono::{DateTime, Utc};
use cratedigger_domain::item::ALL_STATES;
use cratedigger_domain::{ItemState, Lane, WantedTrack};
use serde::Serialize;
use std::time::Duration;
use uuid::Uuid;

/// An item whose state has not changed for longer than its deadline: everything the
/// reconciler needs to enqueue its next job again without another read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StuckItem {
    /// The item.
    pub item_id: Uuid,
    /// Its sync.
    pub sync_id: Uuid,
    /// The state it is stuck in (decides which job to enqueue).
    pub state: ItemState,
    /// What was asked for.
    pub wanted: WantedTrack,
    /// The research plan, once made (to re-run the scouts without planning again).
    pub plan: Option<serde_json::Value>,
    /// The sync's lane, so the job goes back to the same priority.
    pub lane: Lane,
    /// Re-enqueues so far; past the reconciler's maximum, fail the item instead.
    pub attempts: i32,
    /// When its state last changed (or it was last re-enqueued).
    pub state_changed_at: DateTime<Utc>,
    /// What discovery looks for (acquisition states).
    pub acquisition_target: Option<WantedTrack>,
    /// The candidate being downloaded or verified.
    pub candidate_id: Option<Uuid>,
    /// The resolved track, when linked.
    pub track_id: Option<Uuid>,
}

/// Every state that is not final, i.e. where the fleet still owes the item some work.
fn non_final_states() -> Vec<ItemState> {
    ALL_STATES.into_iter().filter(|s| !s.is_final()).collect()
}

impl Store {
    /// Non-final items in one of `states` (all non-final states when empty; final states
    /// given are ignored) whose `state_changed_at` is older than `older_than`, oldest first,
    /// at most `limit`. The deadline is measured with the database clock, so the reconciler's
    /// host clock does not matter.
    pub async fn stuck_items(
        &self,
        older_than: Duration,
        states: &[ItemState],
        limit: i64,
    ) -> Result<Vec<StuckItem>> {
        let states: Vec<ItemState> = if states.is_empty() {
            non_final_states()
        } else {
            states.iter().copied().filter(|s| !s.is_final()).collect()
        };
        let rows = sqlx::query(
            "SELECT i.id, i.sync_id, i.state, i.wanted, i.plan, i.attempts,
                    i.state_changed_at, s.lane, i.acquisition_target, i.candidate_id,
                    i.track_id
             FROM items i JOIN syncs s ON s.id = i.sync_id
             WHERE i.state = ANY($1::text[])
               AND i.state_changed_at < now() - make_interval(secs => $2)
             ORDER BY i.state_changed_at, i.id
             LIMIT $3",
        )
        .bind(state_names(&states))
        .bind(older_than.as_secs_f64())
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db("stuck_items", "item"))?;
        rows.iter()
            .map(|r| {
                let state: String = get(r, "state")?;
                let lane: String = get(r, "lane")?;
                Ok(StuckItem {
                    item_id: get(r, "id")?,
                    sync_id: get(r, "sync_id")?,
                    state: parse_state(&state)?,
                    wanted: from_json("wanted track", get(r, "wanted")?)?,
                    plan: get(r, "plan")?,
                    lane: parse_lane(&lane)?,
                    attempts: get(r, "attempts")?,
                    state_changed_at: get(r, "state_changed_at")?,
                    acquisition_target: get::<Option<serde_json::Value>>(r, "acquisition_target")?
                        .map(|v| from_json("acquisition target", v))
                        .transpose()?,
                    candidate_id: get(r, "candidate_id")?,
                    track_id: get(r, "track_id")?,
                })
            })
            .collect()
    }

    /// Records that the reconciler re-enqueued the item's job: bumps `state_changed_at`
    /// (without changing the state) so the next sweep leaves it alone until the deadline
    /// passes again, adds one to `attempts` (the re-enqueue count the reconciler compares with
    /// its maximum), and writes an `item_events` row with `from_state = to_state` and reason
    /// "re-enqueued by the reconciler" so the item's history shows the lost job. Returns the
    /// new attempts count, or `None` (nothing written) when the item is missing or already
    /// final (the consolidator finished it meanwhile).
    pub async fn touch_item(&self, item_id: Uuid) -> Result<Option<i32>> {
        sqlx::query_scalar(
            "WITH upd AS (
                 UPDATE items SET state_changed_at = now(), attempts = attempts + 1
                 WHERE id = $1 AND state = ANY($2::text[])
                 RETURNING state, attempts
             )
             INSERT INTO item_events (item_id, from_state, to_state, reason, detail)
             SELECT $1, state, state, 're-enqueued by the reconciler: no progress before the deadline',
                    jsonb_build_object('kind', 'reenqueued', 'attempts', attempts)
             FROM upd
             RETURNING (detail->>'attempts')::int4",
        )
        .bind(item_id)
        .bind(state_names(&non_final_states()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db("touch_item", "item"))
    }

    /// Fails an item outside any job, for the reconciler only: the item exceeded its maximum
    /// re-enqueues, so no job will ever report on it. Moves it from any non-final state to
    /// `failed` with `reason` and an event row (no job id). Returns false when the item is
    /// missing or already final (then nothing is written).
    pub async fn fail_item_direct(&self, item_id: Uuid, reason: &str) -> Result<bool> {
        let written = sqlx::query(TRANSITION_SQL)
            .bind(item_id)
            .bind(state_names(&non_final_states()))
            .bind(ItemState::Failed.as_str())
            .bind(reason)
            .bind(None::<Uuid>)
            .bind(serde_json::json!({ "by": "reconciler" }))
            .execute(&self.pool)
            .await
            .map_err(db("fail_item_direct", "item event"))?
            .rows_affected();
        Ok(written == 1)
    }

    /// Forgets processed job ids older than `older_than`: they only guard against
    /// redelivery, and no job lives in Redis for days, so the table stays small.
    /// Deletes at most `limit` rows per call (bounded work). Returns how many went.
    pub async fn trim_processed_jobs(&self, older_than: Duration, limit: i64) -> Result<u64> {
        let secs = older_than.as_secs_f64();
        let done = sqlx::query(
            "DELETE FROM processed_jobs WHERE job_id IN (
                 SELECT job_id FROM processed_jobs
                 WHERE processed_at < now() - make_interval(secs => $1)
                 ORDER BY processed_at LIMIT $2)",
        )
        .bind(secs)
        .bind(limit)
        .execute(&self.pool)
        .await
        .map_err(db("trim_processed_jobs", "processed job"))?
        .rows_affected();
        Ok(done)
    }
}
