//! Scheduler side: storing a new sync with its items, and reading progress and items back for
//! the API, the CLI and `--json` output.

use crate::error::{Result, StoreError, db};
use crate::{Store, from_json, parse_lane, parse_state, to_i32};
use chrono::{DateTime, Utc};
use cratedigger_domain::item::ALL_STATES;
use cratedigger_domain::{ItemState, Lane, WantedTrack};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::PgRow;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Rows per `INSERT ... SELECT FROM UNNEST` statement in [`Store::create_sync`]: large enough
/// that 10,000 items take two round trips, small enough to keep one statement's memory modest.
const INSERT_CHUNK: usize = 5_000;

/// A request to store: what the scheduler parsed from a playlist (or one typed track).
#[derive(Debug, Clone)]
pub struct NewSync {
    /// Name shown to people (playlist title or file name).
    pub name: String,
    /// File name or URL the items came from, for the record.
    pub source: String,
    /// Priority lane of every job of this sync.
    pub lane: Lane,
    /// The lines that parsed, in playlist order.
    pub items: Vec<NewItem>,
    /// The lines that did not parse, kept so the user can be told which and why.
    pub skipped: Vec<SkippedLine>,
}

/// One parsed playlist line.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Line of the input it came from (from 1), so messages can point at it.
    pub line_no: u32,
    /// The line as written, shown next to the result.
    pub input_line: String,
    /// What the line asks for.
    pub wanted: WantedTrack,
}

/// An input line that could not be parsed: reported with its line number, not stored as an
/// item (the rest of the playlist still syncs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedLine {
    /// Line number in the input (from 1).
    pub line_no: u32,
    /// The line as written.
    pub input: String,
    /// Why it was skipped, as a sentence for a person.
    pub reason: String,
}

/// What [`Store::create_sync`] stored: the ids the scheduler needs to enqueue research jobs
/// without reading anything back.
#[derive(Debug, Clone)]
pub struct CreatedSync {
    /// The new sync.
    pub sync_id: Uuid,
    /// Each item's id with its wanted track, in playlist order.
    pub items: Vec<(Uuid, WantedTrack)>,
}

/// Progress of one sync, for `GET /syncs/{id}` and the CLI progress bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncProgress {
    /// The sync.
    pub sync_id: Uuid,
    /// Name shown to people.
    pub name: String,
    /// File name or URL.
    pub source: String,
    /// Priority lane.
    pub lane: Lane,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Number of items.
    pub total: i64,
    /// Items per state, every state listed (zeros included) so clients need no key checks.
    pub counts: BTreeMap<String, i64>,
    /// True when every item is settled ([`ItemState::is_settled`]: final or waiting for a
    /// person's approval): `--wait` stops.
    pub finished: bool,
    /// Lines that were not parsed: `[{"line_no", "input", "reason"}]`.
    pub skipped_lines: serde_json::Value,
}

/// One line of the sync list (`cratedigger status`, `GET /syncs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncSummary {
    /// The sync.
    pub sync_id: Uuid,
    /// Name shown to people.
    pub name: String,
    /// File name or URL.
    pub source: String,
    /// Priority lane.
    pub lane: Lane,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Number of items.
    pub total: i64,
    /// Items per state, every state listed.
    pub counts: BTreeMap<String, i64>,
    /// True when every item is settled (final or waiting for approval).
    pub finished: bool,
    /// Number of input lines that were skipped as unparseable.
    pub skipped: i64,
}

/// Which items [`Store::list_items`] returns. `limit` and `offset` page through the result.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Only items of this sync (ordered by position when set).
    pub sync_id: Option<Uuid>,
    /// Only items in this state.
    pub state: Option<ItemState>,
    /// At most this many items (negative counts as 0).
    pub limit: i64,
    /// Skip this many first.
    pub offset: i64,
}

/// One item as the API, `items --state` and `sync --json` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemView {
    /// The item.
    pub id: Uuid,
    /// Its sync.
    pub sync_id: Uuid,
    /// Place in the sync, from 1.
    pub position: u32,
    /// Line of the input it came from.
    pub line_no: u32,
    /// The input line as written.
    pub input_line: String,
    /// Where it stands.
    pub state: ItemState,
    /// Why (failed, duplicate of what), a sentence for a person.
    pub reason: Option<String>,
    /// Re-enqueues / research attempts so far.
    pub attempts: i32,
    /// What was asked for.
    pub wanted: WantedTrack,
    /// The research plan, once made.
    pub plan: Option<serde_json::Value>,
    /// Platforms that gave nothing, and why.
    pub skipped_sources: serde_json::Value,
    /// Score breakdown of the accepted candidate.
    pub r#match: Option<serde_json::Value>,
    /// When the state last changed (or the reconciler last re-enqueued it).
    pub state_changed_at: DateTime<Utc>,
    /// The resolved (or duplicate) track, when linked.
    pub track: Option<TrackView>,
}

/// A stored canonical track as shown with an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackView {
    /// Track id.
    pub id: Uuid,
    /// Artist(s).
    pub artist: String,
    /// Title without mix.
    pub title: String,
    /// Mix name.
    pub mix: Option<String>,
    /// Album / release.
    pub album: Option<String>,
    /// ISRC.
    pub isrc: Option<String>,
    /// BPM.
    pub bpm: Option<f32>,
    /// Musical key.
    pub key: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Catalog number.
    pub catalog_number: Option<String>,
    /// Release date as a platform wrote it.
    pub release_date: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: Option<u32>,
    /// Genre.
    pub genre: Option<String>,
    /// Cover art.
    pub artwork_url: Option<String>,
    /// Fields on which the platforms disagreed, each with the value kept, the other
    /// readings and how it was settled (from the consolidator's merge).
    #[serde(default)]
    pub conflicts: Vec<serde_json::Value>,
    /// A field was left empty because its only readings could not be used (an unknown key,
    /// an absurd BPM): a person should look at the track.
    #[serde(default)]
    pub needs_review: bool,
    /// Where the platforms know it, ordered by platform.
    pub sources: Vec<SourceView>,
}

/// One platform's id for a track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceView {
    /// Platform id ("musicbrainz", "deezer").
    pub platform: String,
    /// The platform's own id.
    pub platform_id: String,
    /// Public page.
    pub url: Option<String>,
}

/// A map with every state at zero, so counts always list all states.
fn zero_counts() -> BTreeMap<String, i64> {
    ALL_STATES
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect()
}

/// Total and "every item settled" (final, or waiting for a person's approval) from per-state
/// counts. A state this binary does not know (newer release) counts as not settled.
fn total_and_finished(counts: &BTreeMap<String, i64>) -> (i64, bool) {
    let total: i64 = counts.values().sum();
    let done: i64 = counts
        .iter()
        .filter(|(k, _)| k.parse::<ItemState>().is_ok_and(|s| s.is_settled()))
        .map(|(_, v)| v)
        .sum();
    (total, done == total)
}

impl Store {
    /// Stores a sync and all its items (state `pending`, one `item_events` row each) in ONE
    /// transaction: either the whole playlist is stored or nothing is. Items are inserted with
    /// `UNNEST` over arrays, a few statements for 10,000 items rather than 10,000 round trips.
    /// Ids are UUIDv7 (time ordered, kind to the b-tree).
    pub async fn create_sync(&self, new: NewSync) -> Result<CreatedSync> {
        let sync_id = Uuid::now_v7();
        let item_count = i32::try_from(new.items.len()).map_err(|_| {
            StoreError::InvalidInput(format!("{} items is too many", new.items.len()))
        })?;
        let skipped = serde_json::to_value(&new.skipped)
            .map_err(|e| StoreError::InvalidInput(format!("skipped lines: {e}")))?;

        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(db("create_sync: begin", "sync"))?;
        sqlx::query(
            "INSERT INTO syncs (id, name, source, lane, item_count, skipped_lines)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sync_id)
        .bind(&new.name)
        .bind(&new.source)
        .bind(new.lane.as_str())
        .bind(item_count)
        .bind(&skipped)
        .execute(&mut *tx)
        .await
        .map_err(db("create_sync: insert sync", "sync"))?;

        let mut created = Vec::with_capacity(new.items.len());
        let mut items = new.items.into_iter().enumerate().peekable();
        while items.peek().is_some() {
            let chunk: Vec<(usize, NewItem)> = items.by_ref().take(INSERT_CHUNK).collect();
            let mut ids = Vec::with_capacity(chunk.len());
            let mut positions = Vec::with_capacity(chunk.len());
            let mut line_nos = Vec::with_capacity(chunk.len());
            let mut inputs = Vec::with_capacity(chunk.len());
            let mut wanteds = Vec::with_capacity(chunk.len());
            for (idx, item) in &chunk {
                ids.push(Uuid::now_v7());
                positions.push(
                    i32::try_from(idx + 1)
                        .map_err(|_| StoreError::InvalidInput("too many items".into()))?,
                );
                line_nos.push(to_i32("line number", item.line_no)?);
                inputs.push(item.input_line.as_str());
                wanteds.push(
                    serde_json::to_value(&item.wanted)
                        .map_err(|e| StoreError::InvalidInput(format!("wanted track: {e}")))?,
                );
            }
            sqlx::query(
                "INSERT INTO items (id, sync_id, position, line_no, input_line, wanted, state)
                 SELECT u.id, $1, u.position, u.line_no, u.input_line, u.wanted, 'pending'
                 FROM UNNEST($2::uuid[], $3::int4[], $4::int4[], $5::text[], $6::jsonb[])
                      AS u(id, position, line_no, input_line, wanted)",
            )
            .bind(sync_id)
            .bind(&ids)
            .bind(&positions)
            .bind(&line_nos)
            .bind(&inputs)
            .bind(&wanteds)
            .execute(&mut *tx)
            .await
            .map_err(db("create_sync: insert items", "item"))?;
            sqlx::query(
                "INSERT INTO item_events (item_id, from_state, to_state)
                 SELECT u.id, NULL, 'pending' FROM UNNEST($1::uuid[]) AS u(id)",
            )
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(db("create_sync: insert item events", "item event"))?;
            drop(inputs);
            created.extend(
                ids.into_iter()
                    .zip(chunk.into_iter().map(|(_, i)| i.wanted)),
            );
        }
        tx.commit()
            .await
            .map_err(db("create_sync: commit", "sync"))?;
        Ok(CreatedSync {
            sync_id,
            items: created,
        })
    }

    /// Progress of one sync: counts per state (zeros included) and whether it is finished.
    /// `None` when no such sync exists (the API answers 404).
    pub async fn sync_progress(&self, sync_id: Uuid) -> Result<Option<SyncProgress>> {
        let Some(row) = sqlx::query(
            "SELECT id, name, source, lane, created_at, skipped_lines FROM syncs WHERE id = $1",
        )
        .bind(sync_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("sync_progress: read sync", "sync"))?
        else {
            return Ok(None);
        };
        let mut counts = zero_counts();
        let rows =
            sqlx::query("SELECT state, count(*) AS n FROM items WHERE sync_id = $1 GROUP BY state")
                .bind(sync_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db("sync_progress: count items", "item"))?;
        for r in rows {
            counts.insert(get(&r, "state")?, get(&r, "n")?);
        }
        let (total, finished) = total_and_finished(&counts);
        let lane: String = get(&row, "lane")?;
        Ok(Some(SyncProgress {
            sync_id: get(&row, "id")?,
            name: get(&row, "name")?,
            source: get(&row, "source")?,
            lane: parse_lane(&lane)?,
            created_at: get(&row, "created_at")?,
            total,
            counts,
            finished,
            skipped_lines: get(&row, "skipped_lines")?,
        }))
    }

    /// The newest `limit` syncs, newest first, each with its counts per state.
    pub async fn list_syncs(&self, limit: i64) -> Result<Vec<SyncSummary>> {
        let rows = sqlx::query(
            "SELECT id, name, source, lane, created_at,
                    jsonb_array_length(skipped_lines)::int8 AS skipped
             FROM syncs ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db("list_syncs: read syncs", "sync"))?;
        let ids: Vec<Uuid> = rows.iter().map(|r| get(r, "id")).collect::<Result<_>>()?;
        let count_rows = sqlx::query(
            "SELECT sync_id, state, count(*) AS n FROM items
             WHERE sync_id = ANY($1::uuid[]) GROUP BY sync_id, state",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db("list_syncs: count items", "item"))?;
        let mut per_sync: BTreeMap<Uuid, BTreeMap<String, i64>> = BTreeMap::new();
        for r in count_rows {
            per_sync
                .entry(get(&r, "sync_id")?)
                .or_insert_with(zero_counts)
                .insert(get(&r, "state")?, get(&r, "n")?);
        }
        rows.iter()
            .map(|r| {
                let id: Uuid = get(r, "id")?;
                let counts = per_sync.remove(&id).unwrap_or_else(zero_counts);
                let (total, finished) = total_and_finished(&counts);
                let lane: String = get(r, "lane")?;
                Ok(SyncSummary {
                    sync_id: id,
                    name: get(r, "name")?,
                    source: get(r, "source")?,
                    lane: parse_lane(&lane)?,
                    created_at: get(r, "created_at")?,
                    total,
                    counts,
                    finished,
                    skipped: get(r, "skipped")?,
                })
            })
            .collect()
    }

    /// Items per state over the whole fleet (every state listed), for `status` and metrics.
    pub async fn state_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows = sqlx::query("SELECT state, count(*) AS n FROM items GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(db("state_counts", "item"))?;
        let mut counts = zero_counts();
        for r in rows {
            counts.insert(get(&r, "state")?, get(&r, "n")?);
        }
        Ok(counts)
    }

    /// Items matching `filter`, each with its linked track and the track's sources. Ordered by
    /// position within a sync when `sync_id` is set (stable paging through a playlist);
    /// otherwise most recently changed first (what a person wants from `items --state failed`).
    pub async fn list_items(&self, filter: ItemFilter) -> Result<Vec<ItemView>> {
        self.items_where(None, filter).await
    }

    /// One item with its track, as [`Store::list_items`] shows it.
    pub async fn item(&self, item_id: Uuid) -> Result<Option<ItemView>> {
        let filter = ItemFilter {
            limit: 1,
            ..Default::default()
        };
        Ok(self.items_where(Some(item_id), filter).await?.pop())
    }

    async fn items_where(
        &self,
        item_id: Option<Uuid>,
        filter: ItemFilter,
    ) -> Result<Vec<ItemView>> {
        // The WHERE clause is built per filter shape (not `$1 IS NULL OR ...`) so the planner
        // can use the (sync_id, state) and (state, state_changed_at) indexes.
        let mut conditions = Vec::new();
        let mut n = 0;
        if item_id.is_some() {
            n += 1;
            conditions.push(format!("i.id = ${n}"));
        }
        if filter.sync_id.is_some() {
            n += 1;
            conditions.push(format!("i.sync_id = ${n}"));
        }
        if filter.state.is_some() {
            n += 1;
            conditions.push(format!("i.state = ${n}"));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let order = if filter.sync_id.is_some() {
            "i.position"
        } else {
            "i.state_changed_at DESC, i.id"
        };
        let sql = format!(
            "SELECT i.id, i.sync_id, i.position, i.line_no, i.input_line, i.state, i.reason,
                    i.attempts, i.wanted, i.plan, i.skipped_sources, i.match,
                    i.state_changed_at,
                    CASE WHEN t.id IS NULL THEN NULL ELSE jsonb_build_object(
                        'id', t.id, 'artist', t.artist, 'title', t.title, 'mix', t.mix,
                        'album', t.album, 'isrc', t.isrc, 'bpm', t.bpm, 'key', t.key,
                        'label', t.label, 'catalog_number', t.catalog_number,
                        'release_date', t.release_date, 'duration_ms', t.duration_ms,
                        'genre', t.genre, 'artwork_url', t.artwork_url,
                        'conflicts', t.conflicts, 'needs_review', t.needs_review,
                        'sources', COALESCE((
                            SELECT jsonb_agg(jsonb_build_object(
                                       'platform', s.platform, 'platform_id', s.platform_id,
                                       'url', s.url) ORDER BY s.platform, s.platform_id)
                            FROM track_sources s WHERE s.track_id = t.id), '[]'::jsonb)
                    ) END AS track
             FROM items i LEFT JOIN tracks t ON t.id = i.track_id
             {where_clause}
             ORDER BY {order}
             LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query(&sql);
        if let Some(id) = item_id {
            q = q.bind(id);
        }
        if let Some(sync_id) = filter.sync_id {
            q = q.bind(sync_id);
        }
        if let Some(state) = filter.state {
            q = q.bind(state.as_str());
        }
        let rows = q
            .bind(filter.limit.max(0))
            .bind(filter.offset.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(db("list_items", "item"))?;
        rows.iter().map(item_view).collect()
    }
}

/// Decodes one row of [`Store::list_items`].
fn item_view(r: &PgRow) -> Result<ItemView> {
    let state: String = get(r, "state")?;
    let position: i32 = get(r, "position")?;
    let line_no: i32 = get(r, "line_no")?;
    let track: Option<serde_json::Value> = get(r, "track")?;
    Ok(ItemView {
        id: get(r, "id")?,
        sync_id: get(r, "sync_id")?,
        position: position.max(0) as u32,
        line_no: line_no.max(0) as u32,
        input_line: get(r, "input_line")?,
        state: parse_state(&state)?,
        reason: get(r, "reason")?,
        attempts: get(r, "attempts")?,
        wanted: from_json("wanted track", get(r, "wanted")?)?,
        plan: get(r, "plan")?,
        skipped_sources: get(r, "skipped_sources")?,
        r#match: get(r, "match")?,
        state_changed_at: get(r, "state_changed_at")?,
        track: track.map(|t| from_json("track", t)).transpose()?,
    })
}

/// Reads one column, naming it when the type does not fit (a schema drift, not a user error).
pub(crate) fn get<'r, T>(row: &'r PgRow, column: &'static str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(|e| StoreError::Undecodable {
        what: column,
        detail: e.to_string(),
    })
}
