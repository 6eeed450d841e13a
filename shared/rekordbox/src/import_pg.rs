//! The Postgres side: the library mirror written by `rekordbox import`
//! (`migrations/20261127120000_rekordbox_library.sql`) and the fleet-wide writer lock.
//!
//! **Why a Postgres advisory lock and not a Redis lock** (ADR 0003): a session-level
//! advisory lock lives exactly as long as the connection that took it, so a writer that
//! crashes or loses the network releases it at once, and a slow write can never outlive it.
//! A Redis lock needs a TTL: too short and a long session (a 10,000-track sync) loses the
//! lock while still writing; too long and a crash blocks every writer until it expires, and
//! making it safe needs fencing tokens the SQLite file cannot check. Postgres is also the
//! ground state of the fleet (Redis may be flushed), and the import writes there anyway.

use crate::config::RekordboxConfig;
use crate::error::{RekordboxError, Result};
use crate::library::{Library, LibraryCounts};
use crate::write::{FiledTrack, RekordboxWriter, WriteReport};
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Advisory lock key of the single Rekordbox writer ("rekordbx" in ASCII).
pub const WRITER_LOCK_KEY: i64 = 0x7265_6b6f_7264_6278;

/// Rows per `INSERT ... SELECT FROM UNNEST(...)` statement.
const CHUNK: usize = 5_000;

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// `rekordbox_import_runs.id`.
    pub run_id: Uuid,
    /// `djmdProperty.DBID` of the library.
    pub library_id: String,
    /// The file read.
    pub db_path: String,
    /// `localUpdateCount` at the time.
    pub local_update_count: i64,
    /// What was found.
    pub counts: LibraryCounts,
}

fn pg(context: &'static str) -> impl FnOnce(sqlx::Error) -> RekordboxError {
    move |source| RekordboxError::Postgres { context, source }
}

fn i32c(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Reads the configured library (read-only, on a blocking thread) and imports it.
pub async fn import_from_config(pool: &PgPool, cfg: &RekordboxConfig) -> Result<ImportSummary> {
    let path = cfg.db_path()?.to_path_buf();
    let cipher = cfg.cipher()?;
    let busy = Duration::from_millis(cfg.busy_timeout_ms);
    let read_path = path.clone();
    let lib = tokio::task::spawn_blocking(move || Library::read(&read_path, &cipher, busy))
        .await
        .map_err(|e| RekordboxError::Inconsistent {
            path: path.clone(),
            reason: format!("the reading task failed ({e})"),
        })??;
    import_library(pool, &lib, &path.display().to_string()).await
}

/// Replaces the mirror of `lib` (rows of its `library_id`) in one transaction and records
/// the run. Another library's rows are not touched.
pub async fn import_library(pool: &PgPool, lib: &Library, db_path: &str) -> Result<ImportSummary> {
    let run_id = Uuid::now_v7();
    let counts = lib.counts();
    let lid = lib.library_id.as_str();
    let mut tx = pool.begin().await.map_err(pg("starting the import"))?;
    sqlx::query(
        "INSERT INTO rekordbox_import_runs (id, library_id, db_path, started_at, local_update_count) \
         VALUES ($1, $2, $3, now(), $4)",
    )
    .bind(run_id)
    .bind(lid)
    .bind(db_path)
    .bind(lib.local_update_count)
    .execute(&mut *tx)
    .await
    .map_err(pg("recording the import run"))?;
    for table in [
        "rekordbox_cues",
        "rekordbox_playlist_entries",
        "rekordbox_playlists",
        "rekordbox_tracks",
        "rekordbox_keys",
        "rekordbox_genres",
        "rekordbox_labels",
        "rekordbox_albums",
        "rekordbox_artists",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE library_id = $1"))
            .bind(lid)
            .execute(&mut *tx)
            .await
            .map_err(pg("clearing the previous import"))?;
    }

    for (table, rows) in [
        ("rekordbox_artists", &lib.artists),
        ("rekordbox_labels", &lib.labels),
        ("rekordbox_genres", &lib.genres),
    ] {
        for chunk in rows.chunks(CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
            let names: Vec<&str> = chunk.iter().map(|r| r.name.as_str()).collect();
            sqlx::query(&format!(
                "INSERT INTO {table} (library_id, rb_id, name, import_run_id) \
                 SELECT $1, u.id, u.name, $2 FROM UNNEST($3::text[], $4::text[]) AS u(id, name) \
                 ON CONFLICT DO NOTHING"
            ))
            .bind(lid)
            .bind(run_id)
            .bind(&ids)
            .bind(&names)
            .execute(&mut *tx)
            .await
            .map_err(pg("importing names"))?;
        }
    }
    for chunk in lib.albums.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
        let names: Vec<&str> = chunk.iter().map(|r| r.name.as_str()).collect();
        let artists: Vec<Option<&str>> =
            chunk.iter().map(|r| r.album_artist_id.as_deref()).collect();
        sqlx::query(
            "INSERT INTO rekordbox_albums (library_id, rb_id, name, album_artist_id, import_run_id) \
             SELECT $1, u.id, u.name, u.artist, $2 \
             FROM UNNEST($3::text[], $4::text[], $5::text[]) AS u(id, name, artist) ON CONFLICT DO NOTHING",
        )
        .bind(lid)
        .bind(run_id)
        .bind(&ids)
        .bind(&names)
        .bind(&artists)
        .execute(&mut *tx)
        .await
        .map_err(pg("importing albums"))?;
    }
    for chunk in lib.keys.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
        let names: Vec<&str> = chunk.iter().map(|r| r.scale_name.as_str()).collect();
        let seqs: Vec<Option<i64>> = chunk.iter().map(|r| r.seq).collect();
        sqlx::query(
            "INSERT INTO rekordbox_keys (library_id, rb_id, scale_name, seq, import_run_id) \
             SELECT $1, u.id, u.name, u.seq, $2 \
             FROM UNNEST($3::text[], $4::text[], $5::int8[]) AS u(id, name, seq) ON CONFLICT DO NOTHING",
        )
        .bind(lid)
        .bind(run_id)
        .bind(&ids)
        .bind(&names)
        .bind(&seqs)
        .execute(&mut *tx)
        .await
        .map_err(pg("importing keys"))?;
    }
    for chunk in lib.tracks.chunks(CHUNK) {
        let s = |f: fn(&crate::library::Track) -> Option<&str>| -> Vec<Option<&str>> {
            chunk.iter().map(f).collect()
        };
        let n = |f: fn(&crate::library::Track) -> Option<i64>| -> Vec<Option<i64>> {
            chunk.iter().map(f).collect()
        };
        let ids: Vec<&str> = chunk.iter().map(|t| t.id.as_str()).collect();
        let paths: Vec<&str> = chunk.iter().map(|t| t.path.as_str()).collect();
        sqlx::query(
            "INSERT INTO rekordbox_tracks (library_id, rb_id, uuid, folder_path, file_name, title, \
             artist_id, album_id, genre_id, label_id, key_id, remixer_id, bpm_x100, length_secs, \
             track_no, bitrate, bit_depth, sample_rate, file_type, file_size, rating, play_count, \
             comment, color_id, isrc, release_year, stock_date, date_created, rb_local_usn, \
             rb_created_at, rb_updated_at, import_run_id) \
             SELECT $1, u.id, u.uuid, u.path, u.file_name, u.title, u.artist, u.album, u.genre, \
             u.label, u.key, u.remixer, u.bpm::int4, u.len::int4, u.track_no::int4, u.bitrate::int4, \
             u.bit_depth::int4, u.sample_rate::int4, u.file_type::int4, u.size, u.rating::int4, \
             u.plays::int4, u.comment, u.color, u.isrc, u.year::int4, u.stock, u.created_date, u.usn, \
             u.created, u.updated, $2 \
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
             $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int8[], $15::int8[], \
             $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::int8[], $22::int8[], \
             $23::int8[], $24::text[], $25::text[], $26::text[], $27::int8[], $28::text[], $29::text[], \
             $30::int8[], $31::text[], $32::text[]) \
             AS u(id, uuid, path, file_name, title, artist, album, genre, label, key, remixer, bpm, \
             len, track_no, bitrate, bit_depth, sample_rate, file_type, size, rating, plays, comment, \
             color, isrc, year, stock, created_date, usn, created, updated) ON CONFLICT DO NOTHING",
        )
        .bind(lid)
        .bind(run_id)
        .bind(&ids)
        .bind(s(|t| t.uuid.as_deref()))
        .bind(&paths)
        .bind(s(|t| t.file_name.as_deref()))
        .bind(s(|t| t.title.as_deref()))
        .bind(s(|t| t.artist_id.as_deref()))
        .bind(s(|t| t.album_id.as_deref()))
        .bind(s(|t| t.genre_id.as_deref()))
        .bind(s(|t| t.label_id.as_deref()))
        .bind(s(|t| t.key_id.as_deref()))
        .bind(s(|t| t.remixer_id.as_deref()))
        .bind(n(|t| t.bpm_x100))
        .bind(n(|t| t.length_secs))
        .bind(n(|t| t.track_no))
        .bind(n(|t| t.bitrate))
        .bind(n(|t| t.bit_depth))
        .bind(n(|t| t.sample_rate))
        .bind(n(|t| t.file_type))
        .bind(n(|t| t.file_size))
        .bind(n(|t| t.rating))
        .bind(n(|t| t.play_count))
        .bind(s(|t| t.comment.as_deref()))
        .bind(s(|t| t.color_id.as_deref()))
        .bind(s(|t| t.isrc.as_deref()))
        .bind(n(|t| t.release_year))
        .bind(s(|t| t.stock_date.as_deref()))
        .bind(s(|t| t.date_created.as_deref()))
        .bind(n(|t| t.rb_local_usn))
        .bind(s(|t| t.created_at.as_deref()))
        .bind(s(|t| t.updated_at.as_deref()))
        .execute(&mut *tx)
        .await
        .map_err(pg("importing tracks"))?;
    }
    for chunk in lib.playlists.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|p| p.id.as_str()).collect();
        let names: Vec<&str> = chunk.iter().map(|p| p.name.as_str()).collect();
        let parents: Vec<&str> = chunk.iter().map(|p| p.parent_id.as_str()).collect();
        let attrs: Vec<i64> = chunk.iter().map(|p| p.attribute).collect();
        let seqs: Vec<Option<i64>> = chunk.iter().map(|p| p.seq).collect();
        sqlx::query(
            "INSERT INTO rekordbox_playlists (library_id, rb_id, name, parent_id, attribute, seq, import_run_id) \
             SELECT $1, u.id, u.name, u.parent, u.attr::int4, u.seq, $2 \
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::int8[], $7::int8[]) \
             AS u(id, name, parent, attr, seq) ON CONFLICT DO NOTHING",
        )
        .bind(lid)
        .bind(run_id)
        .bind(&ids)
        .bind(&names)
        .bind(&parents)
        .bind(&attrs)
        .bind(&seqs)
        .execute(&mut *tx)
        .await
        .map_err(pg("importing playlists"))?;
    }
    for chunk in lib.playlist_entries.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
        let pls: Vec<&str> = chunk.iter().map(|e| e.playlist_id.as_str()).collect();
        let cs: Vec<&str> = chunk.iter().map(|e| e.content_id.as_str()).collect();
        let nos: Vec<Option<i64>> = chunk.iter().map(|e| e.track_no).collect();
        sqlx::query(
            "INSERT INTO rekordbox_playlist_entries (library_id, rb_id, playlist_id, content_id, track_no, import_run_id) \
             SELECT $1, u.id, u.pl, u.c, u.no, $2 \
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::int8[]) AS u(id, pl, c, no) \
             ON CONFLICT DO NOTHING",
        )
        .bind(lid)
        .bind(run_id)
        .bind(&ids)
        .bind(&pls)
        .bind(&cs)
        .bind(&nos)
        .execute(&mut *tx)
        .await
        .map_err(pg("importing playlist entries"))?;
    }
    for chunk in lib.cues.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
        let cs: Vec<&str> = chunk.iter().map(|c| c.content_id.as_str()).collect();
        let uuids: Vec<Option<&str>> = chunk.iter().map(|c| c.content_uuid.as_deref()).collect();
        let kinds: Vec<i64> = chunk.iter().map(|c| c.kind).collect();
        let slots: Vec<Option<i64>> = chunk
            .iter()
            .map(|c| c.hot_cue_slot().map(i64::from))
            .collect();
        let ins: Vec<i64> = chunk.iter().map(|c| c.in_msec).collect();
        let outs: Vec<Option<i64>> = chunk.iter().map(|c| c.out_msec).collect();
        let colors: Vec<Option<i64>> = chunk.iter().map(|c| c.color).collect();
        let cti: Vec<Option<i64>> = chunk.iter().map(|c| c.color_table_index).collect();
        let active: Vec<Option<i64>> = chunk.iter().map(|c| c.active_loop).collect();
        let comments: Vec<Option<&str>> = chunk.iter().map(|c| c.comment.as_deref()).collect();
        let bls: Vec<Option<i64>> = chunk.iter().map(|c| c.beat_loop_size).collect();
        sqlx::query(
            "INSERT INTO rekordbox_cues (library_id, rb_id, content_id, content_uuid, kind, hot_cue_slot, \
             in_msec, out_msec, color, color_table_index, active_loop, comment, beat_loop_size, import_run_id) \
             SELECT $1, u.id, u.c, u.cu, u.kind::int4, u.slot::int2, u.i, u.o, u.color::int4, u.cti::int4, \
             u.active::int4, u.comment, u.bls, $2 \
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::int8[], $7::int8[], $8::int8[], \
             $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::text[], $14::int8[]) \
             AS u(id, c, cu, kind, slot, i, o, color, cti, active, comment, bls) ON CONFLICT DO NOTHING",
        )
        .bind(lid)
        .bind(run_id)
        .bind(&ids)
        .bind(&cs)
        .bind(&uuids)
        .bind(&kinds)
        .bind(&slots)
        .bind(&ins)
        .bind(&outs)
        .bind(&colors)
        .bind(&cti)
        .bind(&active)
        .bind(&comments)
        .bind(&bls)
        .execute(&mut *tx)
        .await
        .map_err(pg("importing cues"))?;
    }
    sqlx::query(
        "UPDATE rekordbox_import_runs SET finished_at = now(), tracks = $2, artists = $3, albums = $4, \
         labels = $5, genres = $6, keys = $7, playlists = $8, playlist_entries = $9, cues = $10, \
         hot_cues = $11, memory_cues = $12, loops = $13 WHERE id = $1",
    )
    .bind(run_id)
    .bind(i32c(counts.tracks))
    .bind(i32c(counts.artists))
    .bind(i32c(counts.albums))
    .bind(i32c(counts.labels))
    .bind(i32c(counts.genres))
    .bind(i32c(counts.keys))
    .bind(i32c(counts.playlists))
    .bind(i32c(counts.playlist_entries))
    .bind(i32c(counts.cues))
    .bind(i32c(counts.hot_cues))
    .bind(i32c(counts.memory_cues))
    .bind(i32c(counts.loops))
    .execute(&mut *tx)
    .await
    .map_err(pg("recording the import run"))?;
    tx.commit().await.map_err(pg("committing the import"))?;
    Ok(ImportSummary {
        run_id,
        library_id: lib.library_id.clone(),
        db_path: db_path.to_string(),
        local_update_count: lib.local_update_count,
        counts,
    })
}

/// The fleet-wide "one Rekordbox writer at a time" lock: a Postgres session advisory lock on
/// its own connection. [`WriterLock::release`] unlocks and returns the connection; if the
/// guard is dropped instead (panic, cancelled task), the connection is closed, which
/// releases the lock on the server.
#[derive(Debug)]
pub struct WriterLock {
    conn: Option<PoolConnection<Postgres>>,
}

impl WriterLock {
    /// Takes the lock, retrying every 250 ms for up to `wait`.
    pub async fn acquire(pool: &PgPool, wait: Duration) -> Result<WriterLock> {
        let start = Instant::now();
        let mut conn = pool
            .acquire()
            .await
            .map_err(pg("connecting for the writer lock"))?;
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(WRITER_LOCK_KEY)
                .fetch_one(&mut *conn)
                .await
                .map_err(pg("taking the writer lock"))?;
            if got {
                return Ok(WriterLock { conn: Some(conn) });
            }
            if start.elapsed() >= wait {
                return Err(RekordboxError::WriterBusy {
                    waited_secs: start.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Unlocks and hands the connection back to the pool.
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(WRITER_LOCK_KEY)
                .execute(&mut *conn)
                .await
                .map_err(pg("releasing the writer lock"))?;
        }
        Ok(())
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Closing the session is what releases a session-level advisory lock.
            drop(conn.detach());
        }
    }
}

/// The call for async code (the consolidator): takes the fleet-wide writer lock (not for a
/// dry run), runs the blocking write session on tokio's blocking pool, releases the lock.
pub async fn write_session_locked(
    pool: &PgPool,
    writer: Arc<RekordboxWriter>,
    tracks: Vec<FiledTrack>,
    playlist_name: String,
    dry_run: bool,
) -> Result<WriteReport> {
    let lock = if dry_run {
        None
    } else {
        let wait = Duration::from_secs(writer.config().lock_wait_secs);
        Some(WriterLock::acquire(pool, wait).await?)
    };
    let path = writer.config().db_path.clone().unwrap_or_default();
    let result =
        tokio::task::spawn_blocking(move || writer.write_session(&tracks, &playlist_name, dry_run))
            .await
            .map_err(|e| RekordboxError::Inconsistent {
                path,
                reason: format!("the write task failed ({e}); the transaction was rolled back"),
            });
    if let Some(lock) = lock {
        lock.release().await?;
    }
    result?
}
