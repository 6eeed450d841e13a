//! Backup and restore: what a nervous DJ relies on.

mod common;

use common::{bytes, sample_tracks};
use cratedigger_rekordbox::backup::{
    self, create_backup, list_backups, restore_backup, verify_backup,
};
use cratedigger_rekordbox::db::{self, OpenMode};
use cratedigger_rekordbox::testing::{MASTER_PLAYLISTS_TEMPLATE, fresh_library, test_cipher};
use cratedigger_rekordbox::{FixedProbe, Library, RekordboxError, RekordboxWriter};
use std::sync::Arc;
use std::time::Duration;

fn lib(cfg: &cratedigger_rekordbox::RekordboxConfig) -> Library {
    Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap()
}

#[test]
fn restore_puts_the_library_back_and_keeps_the_current_one_aside() {
    let (dir, cfg) = fresh_library("restore", test_cipher());
    std::fs::write(
        cfg.master_playlists_xml().unwrap(),
        MASTER_PLAYLISTS_TEMPLATE,
    )
    .unwrap();
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe::default()));
    w.write_session(&sample_tracks(&dir, 3, "a"), "first", false)
        .unwrap();
    let manual = create_backup(&cfg, "manual").unwrap();
    assert_eq!(manual.manifest.reason, "manual");
    let names: Vec<_> = manual
        .manifest
        .files
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["master.db", "masterPlaylists6.xml"]);
    let at_backup = lib(&cfg);
    let xml_at_backup = std::fs::read_to_string(cfg.master_playlists_xml().unwrap()).unwrap();

    w.write_session(&sample_tracks(&dir, 4, "b"), "second", false)
        .unwrap();
    let changed = lib(&cfg);
    assert_eq!(changed.tracks.len(), 7);

    // Refused while Rekordbox runs.
    let err = restore_backup(&cfg, &manual.dir, &FixedProbe(vec!["rekordbox".into()])).unwrap_err();
    assert!(
        matches!(err, RekordboxError::RekordboxRunning { .. }),
        "{err}"
    );

    let report = restore_backup(&cfg, &manual.dir, &FixedProbe::default()).unwrap();
    assert_eq!(report.files, ["master.db", "masterPlaylists6.xml"]);
    assert_eq!(lib(&cfg), at_backup);
    assert_eq!(
        std::fs::read_to_string(cfg.master_playlists_xml().unwrap()).unwrap(),
        xml_at_backup
    );
    assert_eq!(
        bytes(cfg.db_path().unwrap()),
        bytes(&manual.dir.join("master.db"))
    );
    // The state we replaced is itself a backup, and restoring it brings the 7 tracks back.
    let previous = backup::list_backups(&cfg.backup_dir().unwrap())
        .unwrap()
        .into_iter()
        .find(|b| b.dir == report.previous_saved_to)
        .expect("the replaced files were backed up");
    assert_eq!(previous.manifest.reason, "before-restore");
    restore_backup(&cfg, &previous.dir, &FixedProbe::default()).unwrap();
    assert_eq!(lib(&cfg), changed);
    // The backup restored from is unchanged (verification ran on a scratch copy).
    verify_backup(&cfg, &manual.dir).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_damaged_backup_is_refused_and_the_library_is_not_touched() {
    let (dir, cfg) = fresh_library("badbackup", test_cipher());
    let b = create_backup(&cfg, "manual").unwrap();
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe::default()));
    w.write_session(&sample_tracks(&dir, 2, "x"), "x", false)
        .unwrap();
    let current = bytes(cfg.db_path().unwrap());
    // Flip bytes in the middle of the backup's database: the page HMAC fails.
    let copy = b.dir.join("master.db");
    let mut data = bytes(&copy);
    let mid = data.len() / 2;
    for x in &mut data[mid..mid + 64] {
        *x ^= 0xFF;
    }
    std::fs::write(&copy, &data).unwrap();
    let err = restore_backup(&cfg, &b.dir, &FixedProbe::default()).unwrap_err();
    assert!(matches!(err, RekordboxError::BadBackup { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("the current library was not touched"),
        "{err}"
    );
    assert_eq!(bytes(cfg.db_path().unwrap()), current);
    // A size that disagrees with the manifest, and a backup made with another key.
    std::fs::write(&copy, &data[..4096]).unwrap();
    let err = verify_backup(&cfg, &b.dir).unwrap_err();
    assert!(err.to_string().contains("the manifest says"), "{err}");
    let mut other_key = cfg.clone();
    other_key.db_key = Some(cratedigger_rekordbox::DbKey::new("another key").unwrap());
    let good = create_backup(&cfg, "manual").unwrap();
    let err = verify_backup(&other_key, &good.dir).unwrap_err();
    assert!(err.to_string().contains("key is wrong"), "{err}");
    // Not a backup at all.
    let err = backup::resolve_backup(&cfg, "no-such-backup").unwrap_err();
    assert!(err.to_string().contains("no such backup"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_wal_library_is_backed_up_and_restored_with_its_wal() {
    let (dir, cfg) = fresh_library("wal", test_cipher());
    let path = cfg.db_path().unwrap().to_path_buf();
    // Newer Rekordbox libraries run in WAL mode; committed rows can live only in the -wal.
    let conn = db::open(
        &path,
        &test_cipher(),
        OpenMode::ReadWrite,
        Duration::from_secs(1),
    )
    .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")
        .unwrap();
    conn.execute(
        "INSERT INTO djmdArtist (ID, Name, created_at, updated_at) VALUES ('777', 'Only In The WAL', 'x', 'x')",
        [],
    )
    .unwrap();
    let wal = dir.join("master.db-wal");
    assert!(wal.is_file() && std::fs::metadata(&wal).unwrap().len() > 0);
    let b = create_backup(&cfg, "manual").unwrap();
    let names: Vec<_> = b.manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["master.db", "master.db-wal", "master.db-shm"]);
    conn.execute("DELETE FROM djmdArtist WHERE ID = '777'", [])
        .unwrap();
    drop(conn);
    assert!(!lib(&cfg).artists.iter().any(|a| a.id == "777"));
    restore_backup(&cfg, &b.dir, &FixedProbe::default()).unwrap();
    assert!(
        lib(&cfg)
            .artists
            .iter()
            .any(|a| a.name == "Only In The WAL"),
        "the WAL came back"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn listing_is_newest_first_and_ignores_other_folders() {
    let (dir, mut cfg) = fresh_library("list", test_cipher());
    cfg.backup_keep = 3;
    let root = cfg.backup_dir().unwrap();
    std::fs::create_dir_all(root.join("not-a-backup")).unwrap();
    for _ in 0..5 {
        create_backup(&cfg, "manual").unwrap();
    }
    let all = list_backups(&root).unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        all.windows(2)
            .all(|w| w[0].dir.file_name() > w[1].dir.file_name())
    );
    assert!(
        root.join("not-a-backup").is_dir(),
        "rotation only deletes our backups"
    );
    let _ = std::fs::remove_dir_all(dir);
}
