//! Import into Postgres (a fresh database per test) and the fleet-wide writer lock.

mod common;

use common::sample_tracks;
use cratedigger_rekordbox::import_pg::{WriterLock, import_from_config, write_session_locked};
use cratedigger_rekordbox::testing::{fresh_library, test_cipher};
use cratedigger_rekordbox::{FixedProbe, Library, RekordboxError, RekordboxWriter};
use cratedigger_store::testing::fresh_store;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn import_mirrors_the_library_and_replaces_it_on_reimport() {
    let (store, _db) = fresh_store().await;
    let pool = store.pool();
    let (dir, cfg) = fresh_library("pg", test_cipher());
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe::default()));
    w.write_session(&sample_tracks(&dir, 7, "pg"), "pg sync", false)
        .unwrap();
    let lib = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();

    let summary = import_from_config(pool, &cfg).await.unwrap();
    assert_eq!(summary.library_id, "3546525630");
    assert_eq!(summary.counts, lib.counts());
    assert_eq!(summary.counts.tracks, 7);
    assert_eq!(summary.counts.cues, 56);
    assert_eq!(summary.counts.hot_cues, 28);
    assert_eq!(summary.counts.loops, 14);
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
    };
    assert_eq!(count("rekordbox_tracks").await, 7);
    assert_eq!(count("rekordbox_cues").await, 56);
    assert_eq!(count("rekordbox_artists").await, lib.artists.len() as i64);
    assert_eq!(count("rekordbox_keys").await, lib.keys.len() as i64);
    assert_eq!(count("rekordbox_playlists").await, 1);
    assert_eq!(count("rekordbox_playlist_entries").await, 7);
    // Field by field for one track, through the view.
    let t = &lib.tracks[0];
    let row: (String, Option<String>, Option<String>, Option<i32>, i64) = sqlx::query_as(
        "SELECT folder_path, artist, key, file_type, cue_count FROM rekordbox_track_view WHERE rb_id = $1",
    )
    .bind(&t.id)
    .fetch_one(pool)
    .await
    .unwrap();
    let artist = lib
        .artists
        .iter()
        .find(|a| Some(&a.id) == t.artist_id.as_ref())
        .unwrap();
    let key = lib
        .keys
        .iter()
        .find(|k| Some(&k.id) == t.key_id.as_ref())
        .unwrap();
    assert_eq!(row.0, t.path);
    assert_eq!(row.1.as_deref(), Some(artist.name.as_str()));
    assert_eq!(row.2.as_deref(), Some(key.scale_name.as_str()));
    assert_eq!(row.3.map(i64::from), t.file_type);
    assert_eq!(row.4, 8);
    let slots: Vec<Option<i16>> = sqlx::query_scalar(
        "SELECT hot_cue_slot FROM rekordbox_cues WHERE content_id = $1 ORDER BY in_msec",
    )
    .bind(&t.id)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        slots,
        vec![Some(0), Some(1), Some(2), Some(3), None, None, None, None]
    );

    // More tracks, import again: the mirror follows, the runs are recorded.
    w.write_session(&sample_tracks(&dir, 2, "pg2"), "pg sync", false)
        .unwrap();
    let again = import_from_config(pool, &cfg).await.unwrap();
    assert_eq!(again.counts.tracks, 9);
    assert!(again.local_update_count > summary.local_update_count);
    assert_eq!(count("rekordbox_tracks").await, 9);
    let runs: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT tracks, cues FROM rekordbox_import_runs WHERE finished_at IS NOT NULL ORDER BY started_at",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(runs, vec![(7, 56), (9, 72)]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn one_writer_at_a_time_across_the_fleet() {
    let (store, _db) = fresh_store().await;
    let pool = store.pool();
    let first = WriterLock::acquire(pool, Duration::from_secs(1))
        .await
        .unwrap();
    let err = WriterLock::acquire(pool, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, RekordboxError::WriterBusy { .. }), "{err}");
    assert!(err.to_string().contains("nothing was changed"));
    first.release().await.unwrap();
    let second = WriterLock::acquire(pool, Duration::from_secs(1))
        .await
        .unwrap();
    // Dropped without release (a crashed writer): closing its connection frees the lock.
    drop(second);
    let third = WriterLock::acquire(pool, Duration::from_secs(10))
        .await
        .unwrap();
    third.release().await.unwrap();

    // The async entry point: lock, blocking write on the blocking pool, unlock.
    let (dir, cfg) = fresh_library("pglock", test_cipher());
    let writer = Arc::new(
        RekordboxWriter::open(cfg.clone())
            .unwrap()
            .with_probe(Arc::new(FixedProbe::default())),
    );
    let held = WriterLock::acquire(pool, Duration::from_secs(1))
        .await
        .unwrap();
    let mut busy_cfg = cfg.clone();
    busy_cfg.lock_wait_secs = 0;
    let busy_writer = Arc::new(
        RekordboxWriter::open(busy_cfg)
            .unwrap()
            .with_probe(Arc::new(FixedProbe::default())),
    );
    let err = write_session_locked(
        pool,
        busy_writer.clone(),
        sample_tracks(&dir, 1, "a"),
        "s".into(),
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RekordboxError::WriterBusy { .. }), "{err}");
    // A dry run does not need the lock.
    let dry = write_session_locked(
        pool,
        busy_writer,
        sample_tracks(&dir, 1, "a"),
        "s".into(),
        true,
    )
    .await
    .unwrap();
    assert!(dry.dry_run);
    held.release().await.unwrap();
    let report = write_session_locked(pool, writer, sample_tracks(&dir, 3, "b"), "s".into(), false)
        .await
        .unwrap();
    assert_eq!(report.tracks.len(), 3);
    let _ = std::fs::remove_dir_all(dir);
}
