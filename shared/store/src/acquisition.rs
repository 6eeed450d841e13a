//! Acquisition rows: ranked candidates per item, peer reputation, filed library files. The
//! consolidator writes them inside its job transaction ([`JobTx`]); the scheduler reads them
//! for `cratedigger review`, the API and the reconciler.

use crate::error::{Result, StoreError, db};
use crate::job::JobTx;
use crate::sync::get;
use crate::{Store, from_json};
use chrono::{DateTime, Utc};
use cratedigger_domain::WantedTrack;
use cratedigger_domain::acquisition::{RankedCandidate, ScoreFactor, SourceCandidate, TrackTags};
use serde::Serialize;
use sqlx::postgres::PgRow;
use std::collections::HashMap;
use uuid::Uuid;

/// Where a candidate stands. Stored as text; only the consolidator changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateState {
    /// Ranked and shown; nothing done with it yet.
    Offered,
    /// Approved and being fetched.
    Downloading,
    /// In staging, being verified.
    Downloaded,
    /// The download failed (peer offline, stalled, refused).
    Failed,
    /// The file arrived but failed verification (corrupt, fake lossless, wrong duration).
    RejectedFile,
    /// Verified, tagged and in the library.
    Filed,
}

impl CandidateState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateState::Offered => "offered",
            CandidateState::Downloading => "downloading",
            CandidateState::Downloaded => "downloaded",
            CandidateState::Failed => "failed",
            CandidateState::RejectedFile => "rejected_file",
            CandidateState::Filed => "filed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "offered" => CandidateState::Offered,
            "downloading" => CandidateState::Downloading,
            "downloaded" => CandidateState::Downloaded,
            "failed" => CandidateState::Failed,
            "rejected_file" => CandidateState::RejectedFile,
            "filed" => CandidateState::Filed,
            other => {
                return Err(StoreError::Undecodable {
                    what: "candidate state",
                    detail: format!("unknown state '{other}'"),
                });
            }
        })
    }
}

/// One stored candidate, as review, the API and the consolidator see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateRow {
    /// Row id (the download and analysis jobs name it).
    pub id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// 1 = best downloadable; `None` for buy/listen options and rejected ones.
    pub rank: Option<i32>,
    /// Score (comparable within the item only).
    pub score: f32,
    /// What the source offered.
    pub candidate: SourceCandidate,
    /// Why it scored as it did.
    pub factors: Vec<ScoreFactor>,
    /// The required condition that filtered it out.
    pub rejected: Option<String>,
    /// Where it stands.
    pub state: CandidateState,
    /// Why the download or verification failed.
    pub failure: Option<String>,
    /// Where its download landed in staging.
    pub staged_path: Option<String>,
}

/// Counts the fleet keeps about one peer; the ranking turns them into a score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PeerRecord {
    /// Transfers that arrived and verified.
    pub completed: i32,
    /// Transfers that failed (refused, offline, errors).
    pub failures: i32,
    /// Transfers that stalled.
    pub stalls: i32,
    /// Files that failed verification (fake lossless, corrupt).
    pub fakes: i32,
}

/// What happened with a peer, to add to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerOutcome {
    /// A verified file.
    Completed,
    /// A failed transfer.
    Failure,
    /// A stalled transfer.
    Stall,
    /// A file that failed verification.
    Fake,
}

/// A verified file moved into the library.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLibraryFile {
    /// The item it was fetched for.
    pub item_id: Uuid,
    /// The canonical track, when research resolved one.
    pub track_id: Option<Uuid>,
    /// The candidate it came from.
    pub candidate_id: Uuid,
    /// Absolute path inside the library root.
    pub path: String,
    /// Codec family ("flac", "mp3").
    pub format: Option<String>,
    /// Average bitrate.
    pub bitrate_kbps: Option<i32>,
    /// Sample rate.
    pub sample_rate_hz: Option<i32>,
    /// Bit depth (lossless).
    pub bit_depth: Option<i32>,
    /// Decoded duration.
    pub duration_ms: Option<i32>,
    /// Size on disk.
    pub size_bytes: Option<i64>,
    /// The quality assessor's full report.
    pub verify: serde_json::Value,
}

/// A filed file as listed by the API and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LibraryFileView {
    /// Row id.
    pub id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// The track.
    pub track_id: Option<Uuid>,
    /// Where it is.
    pub path: String,
    /// Codec family.
    pub format: Option<String>,
    /// Average bitrate.
    pub bitrate_kbps: Option<i32>,
    /// When it was filed.
    pub filed_at: DateTime<Utc>,
}

const CANDIDATE_COLUMNS: &str =
    "id, item_id, rank, score, candidate, factors, rejected, state, failure, staged_path";

fn candidate_row(r: &PgRow) -> Result<CandidateRow> {
    let state: String = get(r, "state")?;
    Ok(CandidateRow {
        id: get(r, "id")?,
        item_id: get(r, "item_id")?,
        rank: get(r, "rank")?,
        score: get(r, "score")?,
        candidate: from_json("candidate", get(r, "candidate")?)?,
        factors: from_json("candidate score factors", get(r, "factors")?)?,
        rejected: get(r, "rejected")?,
        state: CandidateState::parse(&state)?,
        failure: get(r, "failure")?,
        staged_path: get(r, "staged_path")?,
    })
}

fn json<T: Serialize>(what: &'static str, v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::InvalidInput(format!("{what}: {e}")))
}

/// The tags of a stored track (key in the user's notation, as the merge stored it).
async fn track_tags(conn: &mut sqlx::PgConnection, track_id: Uuid) -> Result<Option<TrackTags>> {
    let r = sqlx::query(
        "SELECT artist, title, mix, album, label, catalog_number, isrc, bpm, genre,
                release_date, artwork_url, metadata
         FROM tracks WHERE id = $1",
    )
    .bind(track_id)
    .fetch_optional(conn)
    .await
    .map_err(db("track_tags", "track"))?;
    let Some(r) = r else { return Ok(None) };
    let metadata: serde_json::Value = get(&r, "metadata")?;
    // The key in the user's notation, as the merge stored it.
    let key = metadata
        .pointer("/key/display")
        .or_else(|| metadata.pointer("/key/standard"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok(Some(TrackTags {
        artist: get(&r, "artist")?,
        title: get(&r, "title")?,
        mix: get(&r, "mix")?,
        remixers: Vec::new(),
        album: get(&r, "album")?,
        label: get(&r, "label")?,
        catalog_number: get(&r, "catalog_number")?,
        isrc: get(&r, "isrc")?,
        bpm: get(&r, "bpm")?,
        key,
        genre: get(&r, "genre")?,
        date: get(&r, "release_date")?,
        artwork_url: get(&r, "artwork_url")?,
    }))
}

impl JobTx {
    /// Stores what discovery looks for, so the reconciler can repeat discovery without the
    /// research round.
    pub async fn set_acquisition_target(&mut self, item_id: Uuid, t: &WantedTrack) -> Result<()> {
        let v = json("acquisition target", t)?;
        let n = sqlx::query("UPDATE items SET acquisition_target = $2 WHERE id = $1")
            .bind(item_id)
            .bind(v)
            .execute(self.conn())
            .await
            .map_err(db("set_acquisition_target", "item"))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::ItemNotFound(item_id));
        }
        Ok(())
    }

    /// The stored discovery target and the candidate in hand, with the item's sync.
    pub async fn acquisition_state(
        &mut self,
        item_id: Uuid,
    ) -> Result<Option<(Uuid, Option<WantedTrack>, Option<Uuid>, Option<Uuid>)>> {
        let row = sqlx::query(
            "SELECT sync_id, acquisition_target, candidate_id, track_id FROM items WHERE id = $1",
        )
        .bind(item_id)
        .fetch_optional(self.conn())
        .await
        .map_err(db("acquisition_state", "item"))?;
        let Some(r) = row else { return Ok(None) };
        let target: Option<serde_json::Value> = get(&r, "acquisition_target")?;
        let target = target
            .map(|v| from_json::<WantedTrack>("acquisition target", v))
            .transpose()?;
        Ok(Some((
            get(&r, "sync_id")?,
            target,
            get(&r, "candidate_id")?,
            get(&r, "track_id")?,
        )))
    }

    /// Replaces the item's candidates with a new ranking (a repeated discovery keeps the
    /// rows' ids for candidates it finds again). `ranks[i]` is the rank of `ranked[i]`.
    /// Returns the row ids in the same order.
    pub async fn store_candidates(
        &mut self,
        item_id: Uuid,
        ranked: &[RankedCandidate],
        ranks: &[Option<i32>],
    ) -> Result<Vec<Uuid>> {
        sqlx::query("UPDATE candidates SET rank = NULL WHERE item_id = $1")
            .bind(item_id)
            .execute(self.conn())
            .await
            .map_err(db("store_candidates: clear ranks", "candidate"))?;
        let mut ids = Vec::with_capacity(ranked.len());
        for (rc, rank) in ranked.iter().zip(ranks) {
            let c = &rc.candidate;
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO candidates (id, item_id, source, source_key, rank, score,
                     availability, candidate, factors, rejected, peer)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (item_id, source, source_key) DO UPDATE SET
                     rank = EXCLUDED.rank, score = EXCLUDED.score,
                     availability = EXCLUDED.availability, candidate = EXCLUDED.candidate,
                     factors = EXCLUDED.factors, rejected = EXCLUDED.rejected,
                     updated_at = now()
                 RETURNING id",
            )
            .bind(Uuid::now_v7())
            .bind(item_id)
            .bind(&c.source)
            .bind(&c.source_key)
            .bind(*rank)
            .bind(if rc.score.is_finite() { rc.score } else { 0.0 })
            .bind(c.availability.as_str())
            .bind(json("candidate", c)?)
            .bind(json("candidate score factors", &rc.factors)?)
            .bind(rc.rejected.as_deref())
            .bind(c.peer.as_ref().map(|p| p.username.as_str()))
            .fetch_one(self.conn())
            .await
            .map_err(db("store_candidates", "candidate"))?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// The item's candidate of rank `rank`.
    pub async fn candidate_by_rank(
        &mut self,
        item_id: Uuid,
        rank: i32,
    ) -> Result<Option<CandidateRow>> {
        let sql =
            format!("SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE item_id = $1 AND rank = $2");
        let r = sqlx::query(&sql)
            .bind(item_id)
            .bind(rank)
            .fetch_optional(self.conn())
            .await
            .map_err(db("candidate_by_rank", "candidate"))?;
        r.as_ref().map(candidate_row).transpose()
    }

    /// One candidate by id.
    pub async fn candidate(&mut self, id: Uuid) -> Result<Option<CandidateRow>> {
        let sql = format!("SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE id = $1");
        let r = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await
            .map_err(db("candidate", "candidate"))?;
        r.as_ref().map(candidate_row).transpose()
    }

    /// The best-ranked candidate of the item not tried yet (degraded mode: after a failed
    /// download or a rejected file the item falls through to it).
    pub async fn next_candidate(&mut self, item_id: Uuid) -> Result<Option<CandidateRow>> {
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM candidates
             WHERE item_id = $1 AND rank IS NOT NULL AND state = 'offered'
             ORDER BY rank LIMIT 1"
        );
        let r = sqlx::query(&sql)
            .bind(item_id)
            .fetch_optional(self.conn())
            .await
            .map_err(db("next_candidate", "candidate"))?;
        r.as_ref().map(candidate_row).transpose()
    }

    /// Moves a candidate to `state`, with the failure sentence when it failed.
    pub async fn set_candidate_state(
        &mut self,
        id: Uuid,
        state: CandidateState,
        failure: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE candidates SET state = $2, failure = $3, updated_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(failure)
        .execute(self.conn())
        .await
        .map_err(db("set_candidate_state", "candidate"))?;
        Ok(())
    }

    /// Records which candidate the item is fetching or verifying now (`None` when none).
    pub async fn set_item_candidate(&mut self, item_id: Uuid, id: Option<Uuid>) -> Result<()> {
        sqlx::query("UPDATE items SET candidate_id = $2 WHERE id = $1")
            .bind(item_id)
            .bind(id)
            .execute(self.conn())
            .await
            .map_err(db("set_item_candidate", "item"))?;
        Ok(())
    }

    /// Reputation records of `usernames` on `source` (peers never seen are absent).
    pub async fn peer_records(
        &mut self,
        source: &str,
        usernames: &[String],
    ) -> Result<HashMap<String, PeerRecord>> {
        if usernames.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(
            "SELECT username, completed, failures, stalls, fakes FROM peer_reputation
             WHERE source = $1 AND username = ANY($2::text[])",
        )
        .bind(source)
        .bind(usernames)
        .fetch_all(self.conn())
        .await
        .map_err(db("peer_records", "peer"))?;
        rows.iter()
            .map(|r| {
                Ok((
                    get::<String>(r, "username")?,
                    PeerRecord {
                        completed: get(r, "completed")?,
                        failures: get(r, "failures")?,
                        stalls: get(r, "stalls")?,
                        fakes: get(r, "fakes")?,
                    },
                ))
            })
            .collect()
    }

    /// Adds one outcome to a peer's record.
    pub async fn record_peer(
        &mut self,
        source: &str,
        username: &str,
        outcome: PeerOutcome,
    ) -> Result<()> {
        let (c, f, s, k) = match outcome {
            PeerOutcome::Completed => (1, 0, 0, 0),
            PeerOutcome::Failure => (0, 1, 0, 0),
            PeerOutcome::Stall => (0, 0, 1, 0),
            PeerOutcome::Fake => (0, 0, 0, 1),
        };
        sqlx::query(
            "INSERT INTO peer_reputation (source, username, completed, failures, stalls, fakes)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (source, username) DO UPDATE SET
                 completed = peer_reputation.completed + EXCLUDED.completed,
                 failures = peer_reputation.failures + EXCLUDED.failures,
                 stalls = peer_reputation.stalls + EXCLUDED.stalls,
                 fakes = peer_reputation.fakes + EXCLUDED.fakes,
                 updated_at = now()",
        )
        .bind(source)
        .bind(username)
        .bind(c)
        .bind(f)
        .bind(s)
        .bind(k)
        .execute(self.conn())
        .await
        .map_err(db("record_peer", "peer"))?;
        Ok(())
    }

    /// The tags a filed file gets, from the item's canonical track (`None` when the track
    /// does not exist: the caller tags from the discovery target).
    pub async fn track_tags(&mut self, track_id: Uuid) -> Result<Option<TrackTags>> {
        track_tags(self.conn(), track_id).await
    }

    /// Records where a candidate's download landed in staging.
    pub async fn set_staged_path(&mut self, id: Uuid, path: &str) -> Result<()> {
        sqlx::query("UPDATE candidates SET staged_path = $2 WHERE id = $1")
            .bind(id)
            .bind(path)
            .execute(self.conn())
            .await
            .map_err(db("set_staged_path", "candidate"))?;
        Ok(())
    }

    /// Records a filed file (a repeat with the same path changes nothing).
    pub async fn insert_library_file(&mut self, f: &NewLibraryFile) -> Result<Uuid> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO library_files (id, item_id, track_id, candidate_id, path, format,
                 bitrate_kbps, sample_rate_hz, bit_depth, duration_ms, size_bytes, verify)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (path) DO NOTHING RETURNING id",
        )
        .bind(Uuid::now_v7())
        .bind(f.item_id)
        .bind(f.track_id)
        .bind(f.candidate_id)
        .bind(&f.path)
        .bind(f.format.as_deref())
        .bind(f.bitrate_kbps)
        .bind(f.sample_rate_hz)
        .bind(f.bit_depth)
        .bind(f.duration_ms)
        .bind(f.size_bytes)
        .bind(&f.verify)
        .fetch_optional(self.conn())
        .await
        .map_err(db("insert_library_file", "library file"))?;
        match id {
            Some(id) => Ok(id),
            None => sqlx::query_scalar("SELECT id FROM library_files WHERE path = $1")
                .bind(&f.path)
                .fetch_one(self.conn())
                .await
                .map_err(db("insert_library_file: existing", "library file")),
        }
    }

    /// Whether a library path is taken by another item's file (the filing step picks
    /// another name then).
    pub async fn library_path_owner(&mut self, path: &str) -> Result<Option<Uuid>> {
        sqlx::query_scalar("SELECT item_id FROM library_files WHERE path = $1")
            .bind(path)
            .fetch_optional(self.conn())
            .await
            .map_err(db("library_path_owner", "library file"))
    }
}

impl Store {
    /// Every candidate of an item, ranked ones first by rank, then buy/listen options and
    /// rejected ones by score.
    pub async fn item_candidates(&self, item_id: Uuid) -> Result<Vec<CandidateRow>> {
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE item_id = $1
             ORDER BY rank NULLS LAST, score DESC, id"
        );
        let rows = sqlx::query(&sql)
            .bind(item_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db("item_candidates", "candidate"))?;
        rows.iter().map(candidate_row).collect()
    }

    /// Items waiting for a person's approval, oldest first (optionally of one sync).
    pub async fn awaiting_items(&self, sync_id: Option<Uuid>, limit: i64) -> Result<Vec<Uuid>> {
        sqlx::query_scalar(
            "SELECT id FROM items WHERE state = 'awaiting_approval'
               AND ($1::uuid IS NULL OR sync_id = $1)
             ORDER BY state_changed_at, id LIMIT $2",
        )
        .bind(sync_id)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db("awaiting_items", "item"))
    }

    /// Files filed for a sync's items (or the latest ones).
    pub async fn library_files(
        &self,
        sync_id: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<LibraryFileView>> {
        let rows = sqlx::query(
            "SELECT f.id, f.item_id, f.track_id, f.path, f.format, f.bitrate_kbps, f.filed_at
             FROM library_files f JOIN items i ON i.id = f.item_id
             WHERE ($1::uuid IS NULL OR i.sync_id = $1)
             ORDER BY f.filed_at DESC, f.id LIMIT $2",
        )
        .bind(sync_id)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db("library_files", "library file"))?;
        rows.iter()
            .map(|r: &PgRow| {
                Ok(LibraryFileView {
                    id: get(r, "id")?,
                    item_id: get(r, "item_id")?,
                    track_id: get(r, "track_id")?,
                    path: get(r, "path")?,
                    format: get(r, "format")?,
                    bitrate_kbps: get(r, "bitrate_kbps")?,
                    filed_at: get(r, "filed_at")?,
                })
            })
            .collect()
    }

    /// When the last download arrived (a file reached staging), as Unix seconds; `None`
    /// before the first. Exported for the "no successful download while downloads are
    /// queued" alert.
    pub async fn last_successful_download(&self) -> Result<Option<f64>> {
        sqlx::query_scalar(
            "SELECT extract(epoch FROM max(updated_at))::float8 FROM candidates
             WHERE state IN ('downloaded', 'rejected_file', 'filed')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db("last_successful_download", "candidate"))
    }

    /// One candidate by id (the reconciler re-enqueues its download or verification).
    pub async fn candidate(&self, id: Uuid) -> Result<Option<CandidateRow>> {
        let sql = format!("SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE id = $1");
        let r = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("candidate", "candidate"))?;
        r.as_ref().map(candidate_row).transpose()
    }

    /// The tags of a stored track (see [`JobTx::track_tags`]).
    pub async fn track_tags(&self, track_id: Uuid) -> Result<Option<TrackTags>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db("track_tags: connection", "track"))?;
        track_tags(&mut conn, track_id).await
    }

    /// Reputation of one peer (for `cratedigger explain` and the API).
    pub async fn peer_record(&self, source: &str, username: &str) -> Result<Option<PeerRecord>> {
        let r = sqlx::query(
            "SELECT completed, failures, stalls, fakes FROM peer_reputation
             WHERE source = $1 AND username = $2",
        )
        .bind(source)
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("peer_record", "peer"))?;
        r.map(|r| {
            Ok(PeerRecord {
                completed: get(&r, "completed")?,
                failures: get(&r, "failures")?,
                stalls: get(&r, "stalls")?,
                fakes: get(&r, "fakes")?,
            })
        })
        .transpose()
    }
}
