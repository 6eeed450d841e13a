//! Files the fleet filed go into Rekordbox: every `rekordbox_interval_secs` the scheduler (a
//! singleton, so one writer per fleet besides the Postgres writer lock) collects the library
//! files not yet written, groups them by sync, and writes each group in one Rekordbox write
//! session into a playlist named after the sync — backup first, one transaction, integrity
//! check after, refused while Rekordbox runs (`cratedigger-rekordbox` does all of that). A
//! session that fails leaves the files pending; the next sweep tries again.

use cratedigger_rekordbox::import_pg::write_session_locked;
use cratedigger_rekordbox::{FiledTrack, RekordboxConfig, RekordboxWriter};
use cratedigger_store::Store;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Most files written per sweep (one session per sync among them).
const MAX_PER_SWEEP: i64 = 2000;

/// Files filed but not yet in Rekordbox, with what Rekordbox shows, grouped by sync.
const PENDING_SQL: &str = "
    SELECT f.id, f.path, f.format, f.bitrate_kbps, f.sample_rate_hz, f.bit_depth,
           f.duration_ms, f.size_bytes, s.id AS sync_id, s.name AS sync_name,
           COALESCE(t.artist, i.acquisition_target->>'artist', i.wanted->>'artist') AS artist,
           COALESCE(t.title, i.acquisition_target->>'title', i.wanted->>'title') AS title,
           COALESCE(t.mix, i.acquisition_target->>'mix') AS mix,
           t.album, t.label, t.genre, t.bpm::float8 AS bpm, t.isrc, t.release_date,
           COALESCE(t.metadata #>> '{key,display}', t.key) AS key
    FROM library_files f
    JOIN items i ON i.id = f.item_id
    JOIN syncs s ON s.id = i.sync_id
    LEFT JOIN tracks t ON t.id = f.track_id
    WHERE f.rekordbox_written_at IS NULL
    ORDER BY f.filed_at, f.id
    LIMIT $1";

/// One sweep: what was written (tracks) per playlist.
pub async fn sweep(
    store: &Store,
    writer: Arc<RekordboxWriter>,
) -> anyhow::Result<BTreeMap<String, usize>> {
    let rows = sqlx::query(PENDING_SQL)
        .bind(MAX_PER_SWEEP)
        .fetch_all(store.pool())
        .await?;
    let mut by_sync: BTreeMap<Uuid, (String, Vec<Uuid>, Vec<FiledTrack>)> = BTreeMap::new();
    for r in &rows {
        let int = |c: &str| r.try_get::<Option<i32>, _>(c).ok().flatten();
        let title: String = r.try_get::<Option<String>, _>("title")?.unwrap_or_default();
        let mix: Option<String> = r.try_get("mix")?;
        let display = match mix.as_deref().filter(|m| !m.trim().is_empty()) {
            Some(m) => format!("{title} ({m})"),
            None => title,
        };
        let track = FiledTrack {
            path: PathBuf::from(r.try_get::<String, _>("path")?),
            title: display,
            artist: r.try_get("artist")?,
            album: r.try_get("album")?,
            label: r.try_get("label")?,
            genre: r.try_get("genre")?,
            bpm: r.try_get("bpm")?,
            key: r.try_get("key")?,
            duration_ms: int("duration_ms").and_then(|d| u64::try_from(d).ok()),
            bitrate_kbps: int("bitrate_kbps").and_then(|d| u32::try_from(d).ok()),
            sample_rate_hz: int("sample_rate_hz").and_then(|d| u32::try_from(d).ok()),
            bit_depth: int("bit_depth").and_then(|d| u16::try_from(d).ok()),
            file_size: r
                .try_get::<Option<i64>, _>("size_bytes")?
                .and_then(|s| u64::try_from(s).ok()),
            format: None,
            isrc: r.try_get("isrc")?,
            release_year: r
                .try_get::<Option<String>, _>("release_date")?
                .and_then(|d| d.get(..4).and_then(|y| y.parse().ok())),
            comment: Some("filed by cratedigger".into()),
            cues: Vec::new(),
            replaces: None,
        };
        let entry = by_sync.entry(r.try_get("sync_id")?).or_insert_with(|| {
            (
                r.try_get("sync_name").unwrap_or_default(),
                Vec::new(),
                Vec::new(),
            )
        });
        entry.1.push(r.try_get("id")?);
        entry.2.push(track);
    }
    let mut written = BTreeMap::new();
    for (_, (name, ids, tracks)) in by_sync {
        let playlist = playlist_name(&name);
        let n = tracks.len();
        match write_session_locked(
            store.pool(),
            writer.clone(),
            tracks,
            playlist.clone(),
            false,
        )
        .await
        {
            Ok(report) => {
                sqlx::query(
                    "UPDATE library_files SET rekordbox_written_at = now() WHERE id = ANY($1)",
                )
                .bind(&ids)
                .execute(store.pool())
                .await?;
                metrics::counter!("cratedigger_rekordbox_tracks_written_total").increment(n as u64);
                tracing::info!(playlist = %playlist, tracks = n, usn_after = report.usn_after, "written into Rekordbox");
                written.insert(playlist, n);
            }
            Err(e) => {
                // The library is unchanged (one transaction); the files stay pending.
                metrics::counter!("cratedigger_rekordbox_write_failures_total").increment(1);
                tracing::warn!(playlist = %playlist, tracks = n, error = %e, "Rekordbox write skipped; will try again");
            }
        }
    }
    Ok(written)
}

/// The playlist of a sync: its name, bounded and on one line.
pub fn playlist_name(sync_name: &str) -> String {
    let clean: String = sync_name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let clean: String = clean.chars().take(100).collect();
    if clean.is_empty() {
        "cratedigger".into()
    } else {
        clean
    }
}

/// Runs [`sweep`] every `interval` until `stop`. Opening the library fails with a sentence
/// (wrong key, not a Rekordbox file, newer schema) and the loop does not start.
pub async fn run(
    store: Store,
    cfg: RekordboxConfig,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    metrics::counter!("cratedigger_rekordbox_tracks_written_total").increment(0);
    let writer = match RekordboxWriter::open(cfg) {
        Ok(w) => Arc::new(w),
        Err(e) => {
            tracing::error!(error = %e, "Rekordbox writing is on but the library cannot be opened; filed tracks are not written into Rekordbox");
            return;
        }
    };
    let mut tick = tokio::time::interval(interval.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            _ = stop.changed() => return,
        }
        if let Err(e) = sweep(&store, writer.clone()).await {
            tracing::warn!(error = %e, "Rekordbox sweep failed; will try again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playlist_names_are_one_bounded_line() {
        assert_eq!(playlist_name("Friday\nset\t2026"), "Friday set 2026");
        assert_eq!(playlist_name("  "), "cratedigger");
        assert_eq!(playlist_name(&"x".repeat(300)).chars().count(), 100);
    }
}
