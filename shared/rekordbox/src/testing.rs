//! Test support (feature `testing`): realistic libraries built from the reference kit's real
//! Rekordbox schema and seed rows, read in place from `../shared/rekordbox` (never copied).

use crate::config::{Cipher, DbKey, RekordboxConfig};
use crate::db;
use crate::error::Result;
use std::path::{Path, PathBuf};

/// The passphrase test libraries are encrypted with (not Rekordbox's key).
pub const TEST_KEY: &str = "cratedigger-test-key-not-the-rekordbox-one";

/// `../shared/rekordbox` seen from this crate (`CRATEDIGGER_REKORDBOX_KIT` overrides it).
pub fn kit_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRATEDIGGER_REKORDBOX_KIT") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rekordbox")
}

/// The kit's schema and seed scripts. Panics naming where it looked when the kit is absent:
/// a test without its fixture cannot say anything useful.
pub fn kit_scripts() -> (String, String) {
    let dir = kit_dir();
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "the Rekordbox reference kit is missing: cannot read {} ({e}); it lives in \
                 ../shared/rekordbox next to the repository (or set CRATEDIGGER_REKORDBOX_KIT)",
                p.display()
            )
        })
    };
    (
        read("master_db_schema.sql"),
        read("master_db_seed_reference_rows.sql"),
    )
}

/// The test key as a [`Cipher`].
pub fn test_cipher() -> Cipher {
    Cipher::Key(DbKey::new(TEST_KEY).expect("the test key is valid"))
}

/// Creates a library at `path` from the kit (Rekordbox 6.6.2's DDL and default rows).
pub fn create_library(path: &Path, cipher: &Cipher) -> Result<()> {
    let (schema, seed) = kit_scripts();
    db::create_from_sql(path, cipher, &[&schema, &seed])
}

/// A fresh folder with `master.db` built from the kit and the configuration pointing at it
/// (backups, replaced files and masterPlaylists6.xml all inside the folder).
pub fn fresh_library(tag: &str, cipher: Cipher) -> (PathBuf, RekordboxConfig) {
    let dir = std::env::temp_dir().join(format!(
        "cd-rekordbox-{tag}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db_path = dir.join("master.db");
    create_library(&db_path, &cipher).expect("test library builds from the kit");
    let cfg = RekordboxConfig::for_path(&db_path, cipher);
    (dir, cfg)
}

/// A masterPlaylists6.xml in the shape the notes describe (§1.5; the kit has none): the
/// special `Cloud Library Sync` node only.
pub const MASTER_PLAYLISTS_TEMPLATE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MASTER_PLAYLIST Version=\"3.0.0\" AutomaticSync=\"0\">\n  <PRODUCT Name=\"rekordbox\" Version=\"6.6.2\" Company=\"Pioneer DJ\"/>\n  <PLAYLISTS>\n    <NODE Id=\"186A0\" ParentId=\"0\" Attribute=\"-128\" Timestamp=\"1649540314311\" Lib_Type=\"0\" CheckType=\"0\"/>\n  </PLAYLISTS>\n</MASTER_PLAYLIST>\n";
