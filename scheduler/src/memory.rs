//! The lead agent's memory of music relations (issue 9): which tracks, releases and sets
//! the fleet has seen for a label or an artist, and which of them the person has (a file
//! the fleet filed, or a copy in an imported Rekordbox library) — "what else did this label
//! release that I don't have". Read-only: derived from `tracks`, `items` and `syncs`
//! through the `lead_memory_*` views (migration `20261127150000_lead_memory.sql`), so it
//! can never disagree with what the consolidator committed.
//!
//! Scope, said in every answer (`catalog_source`): the reference kit records no label or
//! artist discography listing (no Discogs `/labels/{id}/releases`, no MusicBrainz browse by
//! label), so no platform method reads one; the memory knows the releases and tracks the
//! fleet resolved, nothing beyond.

use crate::api::{ApiError, ApiState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cratedigger_store::Store;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Longest label or artist name looked up.
pub const MAX_NAME_CHARS: usize = 300;
/// Most tracks one answer lists.
pub const MAX_TRACKS: i64 = 500;
/// What every answer says about where its knowledge comes from.
pub const CATALOG_SOURCE: &str = "fleet: only releases and tracks the fleet has resolved are known (no platform discography listing is available)";

/// What was looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A record label, by name (case and surrounding spaces ignored).
    Label,
    /// An artist, by name (normalised, as the duplicate key does; also found among the
    /// artists of a collaboration).
    Artist,
}

/// A valid name: trimmed, non-empty, at most [`MAX_NAME_CHARS`], no control characters.
pub fn valid_name(raw: &str) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("the name is empty".into());
    }
    let n = v.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(format!(
            "the name is {n} characters long; at most {MAX_NAME_CHARS} are accepted"
        ));
    }
    if v.chars().any(char::is_control) {
        return Err("the name contains control characters".into());
    }
    Ok(v.to_string())
}

/// Everything the fleet knows about `name`: its tracks grouped by release, the related
/// labels or artists, the sets they were asked for in, and which tracks the person has or
/// lacks. `known` is false when the fleet has resolved nothing for it.
pub async fn lookup(store: &Store, subject: Subject, name: &str) -> Result<Value, sqlx::Error> {
    let rows = match subject {
        Subject::Label => {
            sqlx::query(
                "SELECT * FROM lead_memory_tracks WHERE label_key = lower(btrim($1))
                 ORDER BY release NULLS LAST, catalog_number NULLS LAST, artist, title LIMIT $2",
            )
            .bind(name)
            .bind(MAX_TRACKS)
            .fetch_all(store.pool())
            .await?
        }
        Subject::Artist => {
            let key = cratedigger_music::normalize::artist_key(name).replace('|', "");
            let norm = cratedigger_music::normalize::normalize_text(name);
            sqlx::query(
                "SELECT * FROM lead_memory_tracks
                 WHERE artist_key = $1
                    OR ($2 <> '' AND position(' ' || $2 || ' ' IN ' ' || norm_artist || ' ') > 0)
                 ORDER BY label NULLS LAST, release NULLS LAST, title LIMIT $3",
            )
            .bind(&key)
            .bind(&norm)
            .bind(MAX_TRACKS)
            .fetch_all(store.pool())
            .await?
        }
    };
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| r.try_get::<Uuid, _>("track_id").ok())
        .collect();
    // The sets (syncs) each track was asked for in.
    let set_rows = sqlx::query(
        "SELECT DISTINCT i.track_id, s.id, s.name, s.source, s.created_at
         FROM items i JOIN syncs s ON s.id = i.sync_id
         WHERE i.track_id = ANY($1) ORDER BY s.created_at DESC",
    )
    .bind(&ids)
    .fetch_all(store.pool())
    .await?;
    let mut sets_of: BTreeMap<Uuid, Vec<Value>> = BTreeMap::new();
    let mut all_sets: BTreeMap<Uuid, Value> = BTreeMap::new();
    for r in &set_rows {
        let (Ok(track), Ok(id)) = (r.try_get::<Uuid, _>("track_id"), r.try_get::<Uuid, _>("id"))
        else {
            continue;
        };
        let set = json!({ "sync_id": id, "name": r.try_get::<String, _>("name").ok(),
            "source": r.try_get::<String, _>("source").ok() });
        sets_of.entry(track).or_default().push(set.clone());
        all_sets.insert(id, set);
    }
    let mut releases: Vec<Value> = Vec::new();
    let mut release_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut related: BTreeMap<String, usize> = BTreeMap::new();
    let mut have = Vec::new();
    let mut missing = Vec::new();
    for r in &rows {
        let get = |c: &str| r.try_get::<Option<String>, _>(c).ok().flatten();
        let track_id: Option<Uuid> = r.try_get("track_id").ok();
        let filed = r.try_get::<bool, _>("filed").unwrap_or(false);
        let in_rekordbox = r.try_get::<bool, _>("in_rekordbox").unwrap_or(false);
        let in_library = filed || in_rekordbox;
        let track = json!({
            "track_id": track_id, "artist": get("artist"), "title": get("title"),
            "mix": get("mix"), "isrc": get("isrc"), "label": get("label"),
            "release": get("release"), "catalog_number": get("catalog_number"),
            "release_date": get("release_date"),
            "in_library": in_library, "filed": filed, "in_rekordbox": in_rekordbox,
            "sets": track_id.and_then(|t| sets_of.get(&t).cloned()).unwrap_or_default() });
        let other = match subject {
            Subject::Label => get("artist"),
            Subject::Artist => get("label"),
        };
        if let Some(o) = other {
            *related.entry(o).or_default() += 1;
        }
        let release_name = get("release");
        let key = format!(
            "{}|{}",
            release_name.as_deref().unwrap_or("").to_lowercase(),
            get("catalog_number").unwrap_or_default().to_lowercase()
        );
        let idx = *release_index.entry(key).or_insert_with(|| {
            releases.push(
                json!({ "release": release_name, "catalog_number": get("catalog_number"),
                "release_date": get("release_date"), "label": get("label"), "tracks": [],
                "in_library": 0, "missing": 0 }),
            );
            releases.len() - 1
        });
        let rel = &mut releases[idx];
        if let Some(list) = rel["tracks"].as_array_mut() {
            list.push(track.clone());
        }
        let counter = if in_library { "in_library" } else { "missing" };
        rel[counter] = json!(rel[counter].as_i64().unwrap_or(0) + 1);
        if in_library {
            have.push(track);
        } else {
            missing.push(track);
        }
    }
    let related_key = match subject {
        Subject::Label => "artists",
        Subject::Artist => "labels",
    };
    let related: Vec<Value> = related
        .into_iter()
        .map(|(name, tracks)| json!({ "name": name, "tracks": tracks }))
        .collect();
    let mut out = json!({
        "name": name,
        "kind": match subject { Subject::Label => "label", Subject::Artist => "artist" },
        "known": !rows.is_empty(),
        "tracks": rows.len(),
        "truncated": rows.len() as i64 >= MAX_TRACKS,
        "releases": releases,
        "in_library": have,
        "not_in_library": missing,
        "sets": all_sets.into_values().collect::<Vec<_>>(),
        "catalog_source": CATALOG_SOURCE,
    });
    out[related_key] = json!(related);
    Ok(out)
}

/// The labels the fleet knows most tracks of, with how many the person has: the memory's
/// summary given to the planner.
pub async fn known_labels(store: &Store, limit: i64) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT min(label) AS label, count(*) AS tracks,
                count(*) FILTER (WHERE filed OR in_rekordbox) AS in_library
         FROM lead_memory_tracks WHERE label_key IS NOT NULL AND label_key <> ''
         GROUP BY label_key ORDER BY count(*) DESC, label_key LIMIT $1",
    )
    .bind(limit.clamp(1, 100))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({ "label": r.try_get::<String, _>("label").ok(),
                "tracks": r.try_get::<i64, _>("tracks").unwrap_or(0),
                "in_library": r.try_get::<i64, _>("in_library").unwrap_or(0) })
        })
        .collect())
}

fn db(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "database error in memory lookup");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the database is unavailable: {e}"),
    )
}

async fn route(st: ApiState, subject: Subject, raw: String) -> Result<Json<Value>, ApiError> {
    let name = valid_name(&raw).map_err(|e| ApiError::bad_field("name", e))?;
    let v = lookup(&st.store, subject, &name).await.map_err(db)?;
    if v["known"] != json!(true) {
        let what = if subject == Subject::Label {
            "label"
        } else {
            "artist"
        };
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the fleet has resolved no track of the {what} '{name}' yet"),
        ));
    }
    Ok(Json(v))
}

/// `GET /v1/memory/labels/{name}`: releases and tracks the fleet knows for a label, which
/// the person has and which not.
pub async fn label_route(
    State(st): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    route(st, Subject::Label, name).await
}

/// `GET /v1/memory/artists/{name}`: the same for an artist (with the labels it released on).
pub async fn artist_route(
    State(st): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    route(st, Subject::Artist, name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_clean() {
        assert_eq!(valid_name("  mau5trap ").unwrap(), "mau5trap");
        assert!(valid_name("   ").is_err());
        assert!(valid_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(valid_name("a\u{0}b").is_err());
        assert_eq!(
            valid_name(&"é".repeat(MAX_NAME_CHARS))
                .unwrap()
                .chars()
                .count(),
            300
        );
    }
}
