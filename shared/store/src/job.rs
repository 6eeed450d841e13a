//! Consolidator side: one job applied in one transaction that also records the job id, so a
//! redelivered job changes nothing (at-least-once delivery, exactly-once effect).

use crate::error::{Result, StoreError, db};
use crate::sync::get;
use crate::{Store, parse_state, to_i32};
use cratedigger_domain::{ItemState, PlatformTrack};
use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

/// Trigram similarity above which [`JobTx::similar_tracks`] returns a stored track as a
/// candidate duplicate. Loose on purpose: the caller rescores the candidates in process with
/// the music crate's matcher and makes the decision.
pub const SIMILARITY_THRESHOLD: f32 = 0.6;

/// A job being applied. Every write goes through this transaction; nothing is visible to
/// others until [`JobTx::commit`], and dropping it without committing rolls everything back,
/// including the job id, so the redelivered job is applied again. Runs at READ COMMITTED,
/// which [`JobTx::insert_track`] relies on to see a track another consolidator just stored.
#[derive(Debug)]
pub struct JobTx {
    tx: Transaction<'static, Postgres>,
    job_id: Uuid,
}

/// What the duplicate check looks up, computed by the music crate from a candidate track.
#[derive(Debug, Clone, Default)]
pub struct DuplicateProbe {
    /// ISRC, if the candidate has one: one ISRC is one recording.
    pub isrc: Option<String>,
    /// Normalised "artist|title|mix" key.
    pub dedup_key: String,
    /// Normalised artist (used by [`JobTx::similar_tracks`]).
    pub norm_artist: String,
    /// Normalised title (used by [`JobTx::similar_tracks`]).
    pub norm_title: String,
    /// Catalog number. Not a match on its own (one number covers a whole EP); kept so the
    /// caller's rescoring has it.
    pub catalog_number: Option<String>,
}

/// Why a stored track is taken for the same recording.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same ISRC.
    SameIsrc,
    /// Same normalised artist/title/mix key.
    SameKey,
    /// Close enough by trigram similarity (decided by the caller after rescoring).
    Similar {
        /// Trigram similarity of "artist title", 0..1.
        similarity: f32,
    },
}

impl DuplicateReason {
    /// A sentence fragment for the item's reason ("already in the library: same ISRC").
    pub fn describe(&self) -> String {
        match self {
            DuplicateReason::SameIsrc => "same ISRC".into(),
            DuplicateReason::SameKey => "same artist, title and mix".into(),
            DuplicateReason::Similar { similarity } => {
                format!(
                    "similar artist and title ({:.0}% alike)",
                    similarity * 100.0
                )
            }
        }
    }
}

/// A stored track the candidate duplicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateHit {
    /// The stored track.
    pub track_id: Uuid,
    /// Why it is the same.
    pub reason: DuplicateReason,
    /// Its artist, for the message to the user.
    pub artist: String,
    /// Its title.
    pub title: String,
    /// Its mix.
    pub mix: Option<String>,
}

/// A stored track whose normalised "artist title" is close to the probe's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimilarTrack {
    /// The stored track.
    pub track_id: Uuid,
    /// Artist.
    pub artist: String,
    /// Title.
    pub title: String,
    /// Mix.
    pub mix: Option<String>,
    /// Its dedup key (so the caller can compare mixes).
    pub dedup_key: String,
    /// Trigram similarity, 0..1.
    pub similarity: f32,
}

/// A canonical track to store (the consolidator's merge of the platforms' records).
#[derive(Debug, Clone, Default)]
pub struct NewTrack {
    /// Normalised "artist|title|mix" key; unique.
    pub dedup_key: String,
    /// ISRC; unique when present. Upper-cased and stripped of hyphens before storing.
    pub isrc: Option<String>,
    /// Artist(s) as shown.
    pub artist: String,
    /// Title without mix.
    pub title: String,
    /// Mix name.
    pub mix: Option<String>,
    /// Album / release.
    pub album: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Catalog number.
    pub catalog_number: Option<String>,
    /// Release date as a platform wrote it.
    pub release_date: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: Option<u32>,
    /// BPM.
    pub bpm: Option<f32>,
    /// Musical key (normalised notation).
    pub key: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Cover art URL.
    pub artwork_url: Option<String>,
    /// Normalised artist, for the trigram index.
    pub norm_artist: String,
    /// Normalised title, for the trigram index.
    pub norm_title: String,
    /// Merged fields with which source said what (`null` is stored as `{}`).
    pub metadata: serde_json::Value,
    /// Per-platform records.
    pub sources: Vec<NewTrackSource>,
}

/// One platform's record of a track (provenance).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTrackSource {
    /// Platform id.
    pub platform: String,
    /// The platform's own id.
    pub platform_id: String,
    /// Public page.
    pub url: Option<String>,
    /// The platform's raw JSON.
    pub raw: Option<serde_json::Value>,
}

impl From<&PlatformTrack> for NewTrackSource {
    /// The consolidator stores each accepted platform record as a source.
    fn from(t: &PlatformTrack) -> Self {
        NewTrackSource {
            platform: t.platform.clone(),
            platform_id: t.platform_id.clone(),
            url: t.url.clone(),
            raw: t.raw.clone(),
        }
    }
}

/// What [`JobTx::insert_track`] did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InsertOutcome {
    /// Stored as a new track (sources stored too).
    Inserted(Uuid),
    /// Another track with the same dedup key or ISRC exists (typically stored by another
    /// consolidator meanwhile); nothing was written. Link the item to it as a duplicate.
    Existing {
        /// The track that was there.
        track_id: Uuid,
        /// Which unique key it shares.
        reason: DuplicateReason,
    },
}

impl InsertOutcome {
    /// The track id either way.
    pub fn track_id(&self) -> Uuid {
        match self {
            InsertOutcome::Inserted(id) | InsertOutcome::Existing { track_id: id, .. } => *id,
        }
    }
}

/// ISRCs compared and stored in one spelling: upper case, no hyphens or spaces. Empty means
/// none.
fn normalize_isrc(isrc: Option<&str>) -> Option<String> {
    let s: String = isrc?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!s.is_empty()).then_some(s)
}

/// State names for a `state = ANY($n)` bind.
pub(crate) fn state_names(states: &[ItemState]) -> Vec<&'static str> {
    states.iter().map(|s| s.as_str()).collect()
}

/// The guarded state change shared by [`JobTx::transition`] and the reconciler: the row is
/// locked, updated only when its state is one of `$2`, and the event is written from the
/// state it really had. Returns one row when it changed.
pub(crate) const TRANSITION_SQL: &str = "
    WITH cur AS (
        SELECT id, state FROM items WHERE id = $1 AND state = ANY($2::text[]) FOR UPDATE
    ), upd AS (
        UPDATE items i SET state = $3, reason = $4, state_changed_at = now()
        FROM cur WHERE i.id = cur.id
        RETURNING cur.state AS from_state
    )
    INSERT INTO item_events (item_id, from_state, to_state, reason, job_id, detail)
    SELECT $1, from_state, $3, $4, $5, $6 FROM upd";

impl Store {
    /// Starts applying job `job_id` from `queue`: opens a transaction and records the job id
    /// in it. `Ok(None)` means the id was already recorded, i.e. this is a redelivery of a job
    /// whose effect is committed: ack it and do nothing. If another consolidator is applying
    /// the same job right now, this waits for it and then returns `None` (it committed) or a
    /// transaction (it rolled back).
    pub async fn begin_job(
        &self,
        job_id: Uuid,
        queue: &str,
        item_id: Option<Uuid>,
    ) -> Result<Option<JobTx>> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(db("begin_job: begin", "job"))?;
        let inserted = sqlx::query(
            "INSERT INTO processed_jobs (job_id, queue, item_id) VALUES ($1, $2, $3)
             ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(job_id)
        .bind(queue)
        .bind(item_id)
        .execute(&mut *tx)
        .await
        .map_err(db("begin_job: record job id", "processed job"))?
        .rows_affected();
        if inserted == 0 {
            tx.rollback()
                .await
                .map_err(db("begin_job: rollback", "job"))?;
            return Ok(None);
        }
        Ok(Some(JobTx { tx, job_id }))
    }
}

impl JobTx {
    /// The job being applied (recorded on the events this transaction writes).
    pub fn job_id(&self) -> Uuid {
        self.job_id
    }

    /// Makes the job's effects and its id visible together.
    pub async fn commit(self) -> Result<()> {
        self.tx
            .commit()
            .await
            .map_err(db("commit job transaction", "job"))
    }

    /// Abandons the job's effects and its id (the job will be applied again when redelivered).
    /// Dropping the `JobTx` does the same; this just reports errors.
    pub async fn rollback(self) -> Result<()> {
        self.tx
            .rollback()
            .await
            .map_err(db("rollback job transaction", "job"))
    }

    /// The transaction's connection, for a query this type has no method for yet.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// The item's current state, with the row locked until commit so two consolidators never
    /// decide on the same item at once. `None` when the item does not exist.
    pub async fn item_state(&mut self, item_id: Uuid) -> Result<Option<ItemState>> {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM items WHERE id = $1 FOR UPDATE")
                .bind(item_id)
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(db("item_state", "item"))?;
        state.as_deref().map(parse_state).transpose()
    }

    /// Moves the item to `to` if its state is one of `from` (an empty `from` never matches),
    /// sets `reason` (replacing the previous one; `None` clears it) and `state_changed_at`,
    /// and writes an `item_events` row with `job_id` and `detail`. Returns false, writing
    /// nothing, when the item is in another state (a stale or out-of-order job) or missing.
    /// `job_id` is normally [`JobTx::job_id`].
    pub async fn transition(
        &mut self,
        item_id: Uuid,
        from: &[ItemState],
        to: ItemState,
        reason: Option<&str>,
        detail: Option<serde_json::Value>,
        job_id: Uuid,
    ) -> Result<bool> {
        let written = sqlx::query(TRANSITION_SQL)
            .bind(item_id)
            .bind(state_names(from))
            .bind(to.as_str())
            .bind(reason)
            .bind(job_id)
            .bind(detail)
            .execute(&mut *self.tx)
            .await
            .map_err(db("transition", "item event"))?
            .rows_affected();
        Ok(written == 1)
    }

    /// Runs an `UPDATE items SET ... WHERE id = $1` with one bound value, failing with
    /// [`StoreError::ItemNotFound`] when no row matched.
    async fn update_item<'q, T>(
        &mut self,
        op: &'static str,
        sql: &'q str,
        item_id: Uuid,
        value: T,
    ) -> Result<()>
    where
        T: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send,
    {
        let n = sqlx::query(sql)
            .bind(item_id)
            .bind(value)
            .execute(&mut *self.tx)
            .await
            .map_err(db(op, "item"))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::ItemNotFound(item_id));
        }
        Ok(())
    }

    /// Stores the research lead's plan on the item (shown with the item; read back by the
    /// reconciler to re-enqueue the scouts without planning again).
    pub async fn set_plan(&mut self, item_id: Uuid, plan: serde_json::Value) -> Result<()> {
        self.update_item(
            "set_plan",
            "UPDATE items SET plan = $2 WHERE id = $1",
            item_id,
            plan,
        )
        .await
    }

    /// Stores which platforms gave nothing and why (circuit open, rate limited, ...).
    pub async fn set_skipped_sources(
        &mut self,
        item_id: Uuid,
        skipped: serde_json::Value,
    ) -> Result<()> {
        self.update_item(
            "set_skipped_sources",
            "UPDATE items SET skipped_sources = $2 WHERE id = $1",
            item_id,
            skipped,
        )
        .await
    }

    /// Stores the score breakdown of the accepted candidate, so a person can see why it won.
    pub async fn set_match(&mut self, item_id: Uuid, r#match: serde_json::Value) -> Result<()> {
        self.update_item(
            "set_match",
            "UPDATE items SET match = $2 WHERE id = $1",
            item_id,
            r#match,
        )
        .await
    }

    /// Links the item to its canonical track (resolved or duplicate). A track id that does
    /// not exist fails with [`StoreError::MissingReference`].
    pub async fn link_track(&mut self, item_id: Uuid, track_id: Uuid) -> Result<()> {
        self.update_item(
            "link_track",
            "UPDATE items SET track_id = $2 WHERE id = $1",
            item_id,
            track_id,
        )
        .await
    }

    /// Adds one to the item's attempts and returns the new count (the consolidator counts
    /// research rounds; the reconciler's re-enqueues count there too, see
    /// [`Store::touch_item`]).
    pub async fn bump_attempts(&mut self, item_id: Uuid) -> Result<i32> {
        let n: Option<i32> = sqlx::query_scalar(
            "UPDATE items SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
        )
        .bind(item_id)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db("bump_attempts", "item"))?;
        n.ok_or(StoreError::ItemNotFound(item_id))
    }

    /// Exact duplicate check: a stored track with the same ISRC first, then the same dedup
    /// key. Fuzzy matches are not decided here: get them from [`JobTx::similar_tracks`] and
    /// rescore them in process.
    pub async fn find_duplicate(&mut self, probe: &DuplicateProbe) -> Result<Option<DuplicateHit>> {
        if let Some(isrc) = normalize_isrc(probe.isrc.as_deref()) {
            let row = sqlx::query("SELECT id, artist, title, mix FROM tracks WHERE isrc = $1")
                .bind(&isrc)
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(db("find_duplicate: by isrc", "track"))?;
            if let Some(r) = row {
                return Ok(Some(DuplicateHit {
                    track_id: get(&r, "id")?,
                    reason: DuplicateReason::SameIsrc,
                    artist: get(&r, "artist")?,
                    title: get(&r, "title")?,
                    mix: get(&r, "mix")?,
                }));
            }
        }
        let row = sqlx::query("SELECT id, artist, title, mix FROM tracks WHERE dedup_key = $1")
            .bind(&probe.dedup_key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db("find_duplicate: by key", "track"))?;
        row.map(|r| {
            Ok(DuplicateHit {
                track_id: get(&r, "id")?,
                reason: DuplicateReason::SameKey,
                artist: get(&r, "artist")?,
                title: get(&r, "title")?,
                mix: get(&r, "mix")?,
            })
        })
        .transpose()
    }

    /// Up to `limit` stored tracks whose normalised "artist title" is trigram-similar
    /// (>= [`SIMILARITY_THRESHOLD`]) to the given one, most similar first. Uses the GIN
    /// trigram index through the `%` operator.
    pub async fn similar_tracks(
        &mut self,
        norm_artist: &str,
        norm_title: &str,
        limit: i64,
    ) -> Result<Vec<SimilarTrack>> {
        self.similar_tracks_with_threshold(norm_artist, norm_title, limit, SIMILARITY_THRESHOLD)
            .await
    }

    /// [`JobTx::similar_tracks`] with another threshold (0..1), set for this transaction only.
    pub async fn similar_tracks_with_threshold(
        &mut self,
        norm_artist: &str,
        norm_title: &str,
        limit: i64,
        threshold: f32,
    ) -> Result<Vec<SimilarTrack>> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(StoreError::InvalidInput(format!(
                "similarity threshold {threshold} is not between 0 and 1"
            )));
        }
        // SET LOCAL: the threshold of `%` lasts until the end of this transaction only.
        sqlx::query("SELECT set_config('pg_trgm.similarity_threshold', $1, true)")
            .bind(threshold.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(db("similar_tracks: set threshold", "track"))?;
        let needle = format!("{norm_artist} {norm_title}");
        let rows = sqlx::query(
            "SELECT id, artist, title, mix, dedup_key,
                    similarity(norm_artist || ' ' || norm_title, $1) AS sim
             FROM tracks
             WHERE (norm_artist || ' ' || norm_title) % $1
             ORDER BY sim DESC, id
             LIMIT $2",
        )
        .bind(&needle)
        .bind(limit.max(0))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db("similar_tracks", "track"))?;
        rows.iter()
            .map(|r| {
                Ok(SimilarTrack {
                    track_id: get(r, "id")?,
                    artist: get(r, "artist")?,
                    title: get(r, "title")?,
                    mix: get(r, "mix")?,
                    dedup_key: get(r, "dedup_key")?,
                    similarity: get(r, "sim")?,
                })
            })
            .collect()
    }

    /// Stores a canonical track and its sources. If a track with the same dedup key or ISRC
    /// exists (also one another consolidator committed while this one was deciding: the
    /// insert waits for it), nothing is written and [`InsertOutcome::Existing`] names it.
    /// Uses `ON CONFLICT DO NOTHING`, so the transaction stays usable either way.
    pub async fn insert_track(&mut self, t: NewTrack) -> Result<InsertOutcome> {
        let isrc = normalize_isrc(t.isrc.as_deref());
        let duration_ms = t.duration_ms.map(|d| to_i32("duration", d)).transpose()?;
        let metadata = if t.metadata.is_null() {
            serde_json::json!({})
        } else {
            t.metadata
        };
        // A conflicting row can vanish between the insert and the look-up only if a track was
        // deleted meanwhile; try again a couple of times before reporting it.
        for _ in 0..3 {
            let inserted: Option<Uuid> = sqlx::query_scalar(
                "INSERT INTO tracks (id, dedup_key, isrc, artist, title, mix, album, label,
                     catalog_number, release_date, duration_ms, bpm, key, genre, artwork_url,
                     norm_artist, norm_title, metadata)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                     $16, $17, $18)
                 ON CONFLICT DO NOTHING
                 RETURNING id",
            )
            .bind(Uuid::now_v7())
            .bind(&t.dedup_key)
            .bind(&isrc)
            .bind(&t.artist)
            .bind(&t.title)
            .bind(&t.mix)
            .bind(&t.album)
            .bind(&t.label)
            .bind(&t.catalog_number)
            .bind(&t.release_date)
            .bind(duration_ms)
            .bind(t.bpm)
            .bind(&t.key)
            .bind(&t.genre)
            .bind(&t.artwork_url)
            .bind(&t.norm_artist)
            .bind(&t.norm_title)
            .bind(&metadata)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db("insert_track", "track"))?;
            if let Some(id) = inserted {
                self.add_track_sources(id, &t.sources).await?;
                return Ok(InsertOutcome::Inserted(id));
            }
            let existing = sqlx::query(
                "SELECT id, COALESCE(isrc = $2, false) AS same_isrc FROM tracks
                 WHERE dedup_key = $1 OR ($2::text IS NOT NULL AND isrc = $2)
                 ORDER BY same_isrc DESC LIMIT 1",
            )
            .bind(&t.dedup_key)
            .bind(&isrc)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db("insert_track: find existing", "track"))?;
            if let Some(r) = existing {
                let same_isrc: bool = get(&r, "same_isrc")?;
                return Ok(InsertOutcome::Existing {
                    track_id: get(&r, "id")?,
                    reason: if same_isrc {
                        DuplicateReason::SameIsrc
                    } else {
                        DuplicateReason::SameKey
                    },
                });
            }
        }
        Err(StoreError::AlreadyExists {
            what: "track",
            constraint: "tracks_dedup_key_unique or tracks_isrc_unique (row vanished)".into(),
        })
    }

    /// Adds platform records to a stored track; records already there are left as they are.
    /// [`JobTx::insert_track`] calls it for a new track; call it for an
    /// [`InsertOutcome::Existing`] track to keep the new platform ids too.
    pub async fn add_track_sources(
        &mut self,
        track_id: Uuid,
        sources: &[NewTrackSource],
    ) -> Result<()> {
        if sources.is_empty() {
            return Ok(());
        }
        let platforms: Vec<&str> = sources.iter().map(|s| s.platform.as_str()).collect();
        let ids: Vec<&str> = sources.iter().map(|s| s.platform_id.as_str()).collect();
        let urls: Vec<Option<&str>> = sources.iter().map(|s| s.url.as_deref()).collect();
        let raws: Vec<Option<serde_json::Value>> = sources.iter().map(|s| s.raw.clone()).collect();
        sqlx::query(
            "INSERT INTO track_sources (track_id, platform, platform_id, url, raw)
             SELECT $1, u.platform, u.platform_id, u.url, u.raw
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::jsonb[])
                  AS u(platform, platform_id, url, raw)
             ON CONFLICT DO NOTHING",
        )
        .bind(track_id)
        .bind(&platforms)
        .bind(&ids)
        .bind(&urls)
        .bind(&raws)
        .execute(&mut *self.tx)
        .await
        .map_err(db("add_track_sources", "track source"))?;
        Ok(())
    }
}
