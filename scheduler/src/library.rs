//! What the web page needs beyond the CLI's endpoints: `GET /v1/library` (search what the
//! fleet resolved and filed, and the duplicates it found) and `POST /v1/items/{id}/retry`
//! (a failed item goes round again).
//!
//! Retry is the one place besides the reconciler where the scheduler changes an item after
//! creating it: like sync creation it puts the item back at the start of a stage with a
//! guarded update (`failed` only, one transaction with its history row) and enqueues that
//! stage's job; from there the consolidator is the only writer again. The item's processed
//! job ids are forgotten in the same transaction, since the stage's jobs have stable ids
//! and would otherwise be taken for redeliveries.

use crate::api::{ApiError, ApiState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use cratedigger_domain::{Lane, WantedTrack};
use cratedigger_workers::fleet::enqueue;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;

/// Longest search text accepted.
const MAX_QUERY_CHARS: usize = 200;
/// Most rows per list.
const MAX_LIMIT: i64 = 200;

fn db(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "database error in library");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the database is unavailable: {e}"),
    )
}

/// `q` as an ILIKE pattern matching it anywhere, with `%`, `_` and `\` taken literally.
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `GET /v1/library?q=&limit=`: files the fleet filed (newest first, with what verification
/// measured; a file whose line no metadata platform knew has no track) whose path, input
/// line, artist or title contains `q`; tracks the fleet resolved (with their newest file)
/// whose artist, title, mix, label or ISRC contains `q`; items found to be duplicates of the library, with the reason; and
/// upgrades (none are detected yet: the answer says so rather than listing nothing).
pub async fn library_route(
    State(st): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    for k in params.keys() {
        if !matches!(k.as_str(), "q" | "limit") {
            return Err(ApiError::bad_field(
                k,
                format!("unknown query parameter '{k}' (allowed: q, limit)"),
            ));
        }
    }
    let q = params.get("q").map(|s| s.trim()).unwrap_or("");
    if q.chars().count() > MAX_QUERY_CHARS || q.chars().any(|c| c.is_control()) {
        return Err(ApiError::bad_field(
            "q",
            format!("q must be at most {MAX_QUERY_CHARS} characters without control characters"),
        ));
    }
    let limit = match params.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_field(
                    "limit",
                    format!("limit must be a number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let pattern = like_pattern(q);
    // every section is one query over ($1 = the LIKE pattern, $2 = the limit)
    let search = async |sql: &'static str| {
        sqlx::query(sql)
            .bind(&pattern)
            .bind(limit)
            .fetch_all(st.store.pool())
            .await
            .map_err(db)
    };
    let tracks = search(
        "SELECT t.id, t.artist, t.title, t.mix, t.isrc, t.bpm, t.key, t.label, t.created_at,
                f.path, f.format, f.bitrate_kbps, f.duration_ms AS file_duration_ms,
                f.verify, f.filed_at
         FROM tracks t
         LEFT JOIN LATERAL (
             SELECT path, format, bitrate_kbps, duration_ms, verify, filed_at
             FROM library_files WHERE track_id = t.id ORDER BY filed_at DESC LIMIT 1
         ) f ON true
         WHERE $1 = '%%' OR t.artist ILIKE $1 OR t.title ILIKE $1 OR t.mix ILIKE $1
               OR t.label ILIKE $1 OR t.isrc ILIKE $1
         ORDER BY t.created_at DESC, t.id
         LIMIT $2",
    )
    .await?;
    let mut track_list = Vec::with_capacity(tracks.len());
    for r in &tracks {
        let file = match r.try_get::<Option<String>, _>("path").map_err(db)? {
            Some(path) => json!({
                "path": path,
                "format": r.try_get::<Option<String>, _>("format").map_err(db)?,
                "bitrate_kbps": r.try_get::<Option<i32>, _>("bitrate_kbps").map_err(db)?,
                "duration_ms": r.try_get::<Option<i32>, _>("file_duration_ms").map_err(db)?,
                "verify": r.try_get::<Option<Value>, _>("verify").map_err(db)?,
                "filed_at": r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("filed_at").map_err(db)?,
            }),
            None => Value::Null,
        };
        track_list.push(json!({
            "id": r.try_get::<Uuid, _>("id").map_err(db)?,
            "artist": r.try_get::<String, _>("artist").map_err(db)?,
            "title": r.try_get::<String, _>("title").map_err(db)?,
            "mix": r.try_get::<Option<String>, _>("mix").map_err(db)?,
            "isrc": r.try_get::<Option<String>, _>("isrc").map_err(db)?,
            "bpm": r.try_get::<Option<f32>, _>("bpm").map_err(db)?,
            "key": r.try_get::<Option<String>, _>("key").map_err(db)?,
            "label": r.try_get::<Option<String>, _>("label").map_err(db)?,
            "file": file,
        }));
    }
    let files = search(
        "SELECT f.id, f.item_id, f.path, f.format, f.bitrate_kbps, f.duration_ms, f.verify,
                f.filed_at, i.input_line, t.artist, t.title, t.mix
         FROM library_files f
         JOIN items i ON i.id = f.item_id
         LEFT JOIN tracks t ON t.id = f.track_id
         WHERE $1 = '%%' OR f.path ILIKE $1 OR i.input_line ILIKE $1 OR t.artist ILIKE $1
               OR t.title ILIKE $1
         ORDER BY f.filed_at DESC, f.id
         LIMIT $2",
    )
    .await?;
    let mut file_list = Vec::with_capacity(files.len());
    for r in &files {
        file_list.push(json!({
            "id": r.try_get::<Uuid, _>("id").map_err(db)?,
            "item_id": r.try_get::<Uuid, _>("item_id").map_err(db)?,
            "path": r.try_get::<String, _>("path").map_err(db)?,
            "format": r.try_get::<Option<String>, _>("format").map_err(db)?,
            "bitrate_kbps": r.try_get::<Option<i32>, _>("bitrate_kbps").map_err(db)?,
            "duration_ms": r.try_get::<Option<i32>, _>("duration_ms").map_err(db)?,
            "verify": r.try_get::<Value, _>("verify").map_err(db)?,
            "filed_at": r.try_get::<chrono::DateTime<chrono::Utc>, _>("filed_at").map_err(db)?,
            "input_line": r.try_get::<String, _>("input_line").map_err(db)?,
            "artist": r.try_get::<Option<String>, _>("artist").map_err(db)?,
            "title": r.try_get::<Option<String>, _>("title").map_err(db)?,
            "mix": r.try_get::<Option<String>, _>("mix").map_err(db)?,
        }));
    }
    let dups = search(
        "SELECT i.id, i.sync_id, i.input_line, i.reason, i.state_changed_at,
                t.artist, t.title, t.mix
         FROM items i LEFT JOIN tracks t ON t.id = i.track_id
         WHERE i.state = 'duplicate' AND ($1 = '%%' OR i.input_line ILIKE $1)
         ORDER BY i.state_changed_at DESC, i.id
         LIMIT $2",
    )
    .await?;
    let mut dup_list = Vec::with_capacity(dups.len());
    for r in &dups {
        dup_list.push(json!({
            "item_id": r.try_get::<Uuid, _>("id").map_err(db)?,
            "sync_id": r.try_get::<Uuid, _>("sync_id").map_err(db)?,
            "input_line": r.try_get::<String, _>("input_line").map_err(db)?,
            "reason": r.try_get::<Option<String>, _>("reason").map_err(db)?,
            "at": r.try_get::<chrono::DateTime<chrono::Utc>, _>("state_changed_at").map_err(db)?,
            "existing": {
                "artist": r.try_get::<Option<String>, _>("artist").map_err(db)?,
                "title": r.try_get::<Option<String>, _>("title").map_err(db)?,
                "mix": r.try_get::<Option<String>, _>("mix").map_err(db)?,
            },
        }));
    }
    Ok(Json(json!({
        "q": q,
        "files": file_list,
        "tracks": track_list,
        "duplicates": dup_list,
        "upgrades": [],
        "upgrades_note": "upgrade detection (a better copy of a track already filed) is not implemented yet; every library hit is reported as a duplicate",
    })))
}

/// `POST /v1/items/{id}/retry`: a `failed` item goes round again — from discovery when it
/// had got that far (acquisition on: what to look for is kept), else from research
/// (`pending`), exactly as sync creation enqueues it. 409 when the item is not failed.
pub async fn retry_route(
    State(st): State<ApiState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let item_id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::bad_field("id", format!("'{id}' is not an item id")))?;
    let acquisition = st.fleet.settings.acquisition.enabled;
    let mut tx = st.store.pool().begin().await.map_err(db)?;
    let row = sqlx::query(
        "SELECT i.state, i.sync_id, i.wanted, i.track_id, i.acquisition_target, s.lane
         FROM items i JOIN syncs s ON s.id = i.sync_id WHERE i.id = $1 FOR UPDATE OF i",
    )
    .bind(item_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("item {item_id} does not exist"),
        )
    })?;
    let state: String = row.try_get("state").map_err(db)?;
    if state != "failed" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("item {item_id} is {state}, not failed; nothing was changed"),
        ));
    }
    let sync_id: Uuid = row.try_get("sync_id").map_err(db)?;
    let lane: Lane = row
        .try_get::<String, _>("lane")
        .map_err(db)?
        .parse()
        .unwrap_or(Lane::Batch);
    let track_id: Option<Uuid> = row.try_get("track_id").map_err(db)?;
    let wanted: WantedTrack =
        serde_json::from_value(row.try_get("wanted").map_err(db)?).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the item's wanted track cannot be read: {e}"),
            )
        })?;
    let target: Option<Value> = row.try_get("acquisition_target").map_err(db)?;
    let target: Option<WantedTrack> = target.and_then(|t| serde_json::from_value(t).ok());
    let (to, stage) = match (target, track_id) {
        (Some(t), _) if acquisition => ("discovering", Some(t)),
        (_, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "item {item_id} failed after it was resolved and acquisition is off here; nothing to retry"
                ),
            ));
        }
        _ => ("pending", None),
    };
    sqlx::query(
        "UPDATE items SET state = $2, reason = NULL, attempts = 0, candidate_id = NULL,
                state_changed_at = now()
         WHERE id = $1",
    )
    .bind(item_id)
    .bind(to)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "INSERT INTO item_events (item_id, from_state, to_state, reason, detail)
         VALUES ($1, 'failed', $2, 'retried by a person', jsonb_build_object('by', 'api', 'kind', 'retry'))",
    )
    .bind(item_id)
    .bind(to)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query("DELETE FROM processed_jobs WHERE item_id = $1")
        .bind(item_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    // Enqueued after the commit: a worker that takes the job at once finds the new state.
    // If Redis is down (or the job id is still held in the dead-letter list) the reconciler
    // enqueues it once the item is stuck past its deadline.
    let enqueued = match stage {
        Some(t) => {
            let env = cratedigger_workers::acquisition::discovery_job(sync_id, item_id, t);
            enqueue(&st.fleet.discovery, lane, &env).await
        }
        None => {
            let env = crate::api::research_job(sync_id, item_id, wanted);
            enqueue(&st.fleet.research, lane, &env).await
        }
    };
    let enqueued = match enqueued {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, %item_id, "retry: could not enqueue; the reconciler will");
            false
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "item": item_id, "state": to, "enqueued": enqueued })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_literal() {
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(like_pattern("50% off_"), "%50\\% off\\_%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
    }
}
