//! Every kind of bad library gets its own sentence saying what is wrong and that nothing was
//! changed — and nothing is changed.

mod common;

use common::{bytes, sample_tracks};
use cratedigger_rekordbox::db::{self, OpenMode};
use cratedigger_rekordbox::testing::{fresh_library, test_cipher};
use cratedigger_rekordbox::{
    Cipher, DbKey, FixedProbe, Library, RekordboxConfig, RekordboxError, RekordboxWriter,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn read(path: &Path, cipher: &Cipher) -> Result<Library, RekordboxError> {
    Library::read(path, cipher, Duration::from_millis(200))
}

fn assert_refused(err: &RekordboxError, needle: &str) {
    let msg = err.to_string();
    assert!(msg.contains(needle), "'{msg}' should mention '{needle}'");
    assert!(
        msg.contains("nothing was changed") || msg.contains("Nothing was changed"),
        "{msg}"
    );
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("cd-rb-bad-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn wrong_key() {
    let (dir, cfg) = fresh_library("wrongkey", test_cipher());
    let path = cfg.db_path().unwrap().to_path_buf();
    let before = bytes(&path);
    let wrong = Cipher::Key(DbKey::new("not-the-key").unwrap());
    let err = read(&path, &wrong).unwrap_err();
    assert!(
        matches!(err, RekordboxError::WrongKeyOrNotRekordbox { .. }),
        "{err:?}"
    );
    assert_refused(&err, "key is wrong");
    let mut bad_cfg = cfg.clone();
    bad_cfg.db_key = Some(DbKey::new("not-the-key").unwrap());
    let err = RekordboxWriter::open(bad_cfg).unwrap_err();
    assert!(
        matches!(err, RekordboxError::WrongKeyOrNotRekordbox { .. }),
        "{err:?}"
    );
    assert_eq!(bytes(&path), before);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_that_is_not_a_rekordbox_library() {
    let dir = scratch("notrb");
    // Random bytes, page-sized: SQLCipher cannot tell this from a wrong key.
    let noise = dir.join("noise.db");
    let data: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&noise, &data).unwrap();
    let err = read(&noise, &test_cipher()).unwrap_err();
    assert!(
        matches!(err, RekordboxError::WrongKeyOrNotRekordbox { .. }),
        "{err:?}"
    );
    assert_refused(&err, "not a Rekordbox library");
    assert_eq!(bytes(&noise), data);
    // An MP3 (odd size) is refused before SQLCipher looks at it.
    let mp3 = dir.join("track.mp3");
    std::fs::write(&mp3, b"ID3\x04\x00\x00\x00\x00\x00\x00 not a database").unwrap();
    let err = read(&mp3, &test_cipher()).unwrap_err();
    assert!(matches!(err, RekordboxError::Corrupt { .. }), "{err:?}");
    assert_refused(&err, "not a whole number");
    // A plain SQLite database of something else.
    let other = dir.join("other.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
            .unwrap();
    }
    let err = read(&other, &test_cipher()).unwrap_err();
    assert!(
        matches!(err, RekordboxError::NotEncrypted { .. }),
        "{err:?}"
    );
    assert_refused(&err, "unencrypted");
    let err = read(&other, &Cipher::Plaintext).unwrap_err();
    assert!(
        matches!(&err, RekordboxError::SchemaMismatch { missing, .. } if missing.contains(&"djmdContent".to_string())),
        "{err:?}"
    );
    assert_refused(&err, "djmdContent");
    // An encrypted library opened as plaintext.
    let (libdir, cfg) = fresh_library("asplain", test_cipher());
    let err = read(cfg.db_path().unwrap(), &Cipher::Plaintext).unwrap_err();
    assert!(
        matches!(err, RekordboxError::NotPlainSqlite { .. }),
        "{err:?}"
    );
    // Empty and missing files.
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert_refused(&read(&empty, &test_cipher()).unwrap_err(), "empty");
    assert_refused(
        &read(&dir.join("missing.db"), &test_cipher()).unwrap_err(),
        "does not exist",
    );
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(libdir);
}

#[test]
fn a_truncated_database() {
    let (dir, cfg) = fresh_library("trunc", test_cipher());
    let path = cfg.db_path().unwrap().to_path_buf();
    let full = bytes(&path);
    assert!(
        full.len() > 8 * 4096,
        "the kit's schema makes a multi-page file"
    );
    // Cut mid-page: refused before opening.
    std::fs::write(&path, &full[..full.len() / 2 + 100]).unwrap();
    let err = read(&path, &test_cipher()).unwrap_err();
    assert!(matches!(err, RekordboxError::Corrupt { .. }), "{err:?}");
    assert_refused(&err, "truncated");
    // Cut on a page boundary: SQLite finds the missing pages.
    let cut = (full.len() / 2) / 4096 * 4096;
    std::fs::write(&path, &full[..cut]).unwrap();
    let err = read(&path, &test_cipher()).unwrap_err();
    assert!(matches!(err, RekordboxError::Corrupt { .. }), "{err:?}");
    assert_refused(&err, "truncated or damaged");
    let mut cfg2 = cfg.clone();
    cfg2.busy_timeout_ms = 200;
    assert!(RekordboxWriter::open(cfg2).is_err());
    assert_eq!(bytes(&path).len(), cut, "nothing was written");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_newer_schema_missing_a_column_is_refused_by_name() {
    let (dir, cfg) = fresh_library("schema", test_cipher());
    let path = cfg.db_path().unwrap().to_path_buf();
    {
        let c = db::open(
            &path,
            &test_cipher(),
            OpenMode::ReadWrite,
            Duration::from_secs(1),
        )
        .unwrap();
        c.execute_batch(
            "ALTER TABLE djmdCue DROP COLUMN BeatLoopSize; DROP TABLE djmdSongSampler;",
        )
        .unwrap();
    }
    let before = bytes(&path);
    let err = RekordboxWriter::open(cfg.clone()).unwrap_err();
    match &err {
        RekordboxError::SchemaMismatch { missing, .. } => {
            assert!(
                missing.contains(&"djmdCue.BeatLoopSize".to_string()),
                "{missing:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_refused(&err, "djmdCue.BeatLoopSize");
    assert_refused(&err, "newer Rekordbox");
    // The import reads djmdCue.BeatLoopSize too.
    assert!(matches!(
        read(&path, &test_cipher()),
        Err(RekordboxError::SchemaMismatch { .. })
    ));
    // A write session checks again at the start (the file may have changed since `open`).
    assert_eq!(bytes(&path), before);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_table_only_the_writer_needs_is_named_too() {
    let (dir, cfg) = fresh_library("schema2", test_cipher());
    let path = cfg.db_path().unwrap().to_path_buf();
    {
        let c = db::open(
            &path,
            &test_cipher(),
            OpenMode::ReadWrite,
            Duration::from_secs(1),
        )
        .unwrap();
        c.execute_batch("DROP TABLE djmdSongSampler;").unwrap();
    }
    // Import still works (it does not read it) ...
    assert!(read(&path, &test_cipher()).is_ok());
    // ... the writer refuses, naming it.
    let err = RekordboxWriter::open(cfg).unwrap_err();
    assert!(
        matches!(&err, RekordboxError::SchemaMismatch { missing, .. } if missing == &vec!["djmdSongSampler".to_string()]),
        "{err:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_locked_file() {
    let (dir, mut cfg) = fresh_library("locked", test_cipher());
    cfg.busy_timeout_ms = 100;
    let path = cfg.db_path().unwrap().to_path_buf();
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe::default()));
    let before = bytes(&path);
    // Another program holds an exclusive lock (as Rekordbox does while it writes).
    let holder = db::open(
        &path,
        &test_cipher(),
        OpenMode::ReadWrite,
        Duration::from_secs(1),
    )
    .unwrap();
    holder
        .execute_batch("BEGIN EXCLUSIVE; UPDATE djmdProperty SET Reserved1 = 'x';")
        .unwrap();
    let tracks = sample_tracks(&dir, 2, "locked");
    let err = w.write_session(&tracks, "locked", false).unwrap_err();
    assert!(matches!(err, RekordboxError::Locked { .. }), "{err:?}");
    assert_refused(&err, "locked by another program");
    holder.execute_batch("ROLLBACK;").unwrap();
    drop(holder);
    assert_eq!(bytes(&path), before);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rekordbox_running_refuses_the_write() {
    let (dir, cfg) = fresh_library("running", test_cipher());
    let path = cfg.db_path().unwrap().to_path_buf();
    let before = bytes(&path);
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe(vec!["rekordboxAgent".into()])));
    let err = w
        .write_session(&sample_tracks(&dir, 1, "running"), "x", false)
        .unwrap_err();
    assert!(
        matches!(err, RekordboxError::RekordboxRunning { .. }),
        "{err:?}"
    );
    assert_refused(&err, "rekordboxAgent is running");
    assert_eq!(bytes(&path), before);
    assert!(
        !cfg.backup_dir().unwrap().exists(),
        "refused before the backup"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn configuration_errors_are_sentences() {
    let cfg = RekordboxConfig {
        db_path: None,
        ..RekordboxConfig::default()
    };
    assert_refused(&RekordboxWriter::open(cfg).unwrap_err(), "DB_PATH");
    let cfg = RekordboxConfig::for_path("/nowhere/master.db", test_cipher());
    let mut no_key = cfg.clone();
    no_key.db_key = None;
    assert_refused(
        &RekordboxWriter::open(no_key).unwrap_err(),
        "CRATEDIGGER__REKORDBOX__DB_KEY",
    );
    assert_refused(&RekordboxWriter::open(cfg).unwrap_err(), "does not exist");
}
