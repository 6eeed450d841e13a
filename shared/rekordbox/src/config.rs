//! `[rekordbox]` configuration: where the library is, where backups go, how many to keep.
//! Loaded like every other section (defaults, then the TOML file, then
//! `CRATEDIGGER__REKORDBOX__*` variables); the database key comes from the environment only
//! (`CRATEDIGGER__REKORDBOX__DB_KEY`) and is never printed, serialised or logged.

use crate::error::{RekordboxError, Result};
use cratedigger_music::KeyNotation;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable holding the SQLCipher passphrase of master.db.
pub const KEY_ENV: &str = "CRATEDIGGER__REKORDBOX__DB_KEY";

/// Longest key accepted (the real one is 64 characters).
const MAX_KEY_LEN: usize = 512;

/// The SQLCipher passphrase of a master.db. Opaque on purpose: `Debug` prints `<redacted>`,
/// there is no `Display` or `Serialize`, so it cannot end up in a log line or a JSON answer.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(String);

impl DbKey {
    /// Validates a passphrase: not empty, at most 512 characters, no control characters.
    /// (The real Rekordbox key is 64 hex characters starting `402fd`; tests use their own.)
    pub fn new(key: impl Into<String>) -> Result<DbKey> {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            return Err(RekordboxError::InvalidKey {
                reason: "it is empty",
            });
        }
        if trimmed.chars().count() > MAX_KEY_LEN {
            return Err(RekordboxError::InvalidKey {
                reason: "it is longer than 512 characters",
            });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(RekordboxError::InvalidKey {
                reason: "it contains control characters",
            });
        }
        Ok(DbKey(trimmed.to_string()))
    }

    /// True when it has the shape of Rekordbox's own key (64 hex characters, `402fd...`):
    /// used only to word the wrong-key message.
    pub fn looks_like_rekordbox_key(&self) -> bool {
        self.0.len() == 64
            && self.0.starts_with("402fd")
            && self.0.chars().all(|c| c.is_ascii_hexdigit())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

/// How the database file is protected: the real library is always SQLCipher-encrypted;
/// `Plaintext` exists for decrypted test copies (and the pyrekordbox cross-check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cipher {
    /// SQLCipher 4 with default settings and this passphrase.
    Key(DbKey),
    /// Plain SQLite (test copies only).
    Plaintext,
}

/// The `[rekordbox]` section. Every path defaults to something next to master.db.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RekordboxConfig {
    /// master.db (`CRATEDIGGER__REKORDBOX__DB_PATH`). Defaults to Rekordbox's standard
    /// location on macOS and Windows; required elsewhere.
    pub db_path: Option<PathBuf>,
    /// The passphrase; environment only, never serialised.
    #[serde(skip)]
    pub db_key: Option<DbKey>,
    /// Open the file as plain SQLite (decrypted test copies only; real libraries are
    /// encrypted and are refused in this mode).
    pub plaintext: bool,
    /// `masterPlaylists6.xml`, kept in step with the playlists we add when it exists.
    /// Default: next to master.db.
    pub master_playlists_xml: Option<PathBuf>,
    /// Where backups are written. Default: `cratedigger-backups` next to master.db.
    pub backup_dir: Option<PathBuf>,
    /// Backups kept (oldest deleted first); at least 1.
    pub backup_keep: usize,
    /// Where an upgraded track's old file is moved (never deleted). Default:
    /// `cratedigger-replaced` next to master.db.
    pub replaced_dir: Option<PathBuf>,
    /// Key notation written into `djmdKey` (None: the CLI uses `matching.key_notation`;
    /// the writer falls back to Camelot).
    pub key_notation: Option<KeyNotation>,
    /// How long SQLite waits for a lock held by another program before giving up (ms).
    pub busy_timeout_ms: u64,
    /// How long a writer waits for the fleet-wide writer lock (s).
    pub lock_wait_secs: u64,
}

impl fmt::Debug for RekordboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RekordboxConfig")
            .field("db_path", &self.db_path)
            .field("db_key", &self.db_key.as_ref().map(|_| "<redacted>"))
            .field("plaintext", &self.plaintext)
            .field("master_playlists_xml", &self.master_playlists_xml)
            .field("backup_dir", &self.backup_dir)
            .field("backup_keep", &self.backup_keep)
            .field("replaced_dir", &self.replaced_dir)
            .field("key_notation", &self.key_notation)
            .field("busy_timeout_ms", &self.busy_timeout_ms)
            .field("lock_wait_secs", &self.lock_wait_secs)
            .finish()
    }
}

impl Default for RekordboxConfig {
    fn default() -> Self {
        Self {
            db_path: default_db_path(),
            db_key: None,
            plaintext: false,
            master_playlists_xml: None,
            backup_dir: None,
            backup_keep: 10,
            replaced_dir: None,
            key_notation: None,
            busy_timeout_ms: 2_000,
            lock_wait_secs: 30,
        }
    }
}

/// Rekordbox's default master.db location on this platform (pyrekordbox and the notes in
/// `../shared/notes/rekordbox.md` §1.3); `None` on Linux. A moved library is configured
/// explicitly.
fn default_db_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        home.map(|h| h.join("Library/Pioneer/rekordbox/master.db"))
    } else if cfg!(windows) {
        std::env::var_os("APPDATA").map(|a| PathBuf::from(a).join("Pioneer/rekordbox/master.db"))
    } else {
        None
    }
}

impl RekordboxConfig {
    /// A configuration for the library at `db_path` opened with `cipher`, everything else
    /// default: what tests and benchmarks use.
    pub fn for_path(db_path: impl Into<PathBuf>, cipher: Cipher) -> RekordboxConfig {
        let mut c = RekordboxConfig {
            db_path: Some(db_path.into()),
            ..RekordboxConfig::default()
        };
        match cipher {
            Cipher::Key(k) => c.db_key = Some(k),
            Cipher::Plaintext => c.plaintext = true,
        }
        c
    }

    /// Loads `[rekordbox]` from `file` (or `CRATEDIGGER_CONFIG`) and the environment, the
    /// same order as the fleet's settings. A key found in the file is refused.
    pub fn load(file: Option<&Path>) -> Result<RekordboxConfig> {
        let env_file = std::env::var("CRATEDIGGER_CONFIG").ok().map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        if let Some(path) = &file {
            let only_file = config::Config::builder()
                .add_source(config::File::from(path.clone()).required(true))
                .build()
                .map_err(|e| RekordboxError::Config(e.to_string()))?;
            if only_file.get_string("rekordbox.db_key").is_ok() {
                return Err(RekordboxError::KeyInConfigFile {
                    file: path.display().to_string(),
                });
            }
        }
        let mut builder = config::Config::builder();
        if let Some(path) = &file {
            builder = builder.add_source(config::File::from(path.clone()).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("CRATEDIGGER")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let built = builder
            .build()
            .map_err(|e| RekordboxError::Config(e.to_string()))?;
        let mut cfg = match built.get::<RekordboxConfig>("rekordbox") {
            Ok(c) => c,
            Err(config::ConfigError::NotFound(_)) => RekordboxConfig::default(),
            Err(e) => return Err(RekordboxError::Config(e.to_string())),
        };
        if cfg.db_path.is_none() {
            cfg.db_path = default_db_path();
        }
        cfg.db_key = match std::env::var(KEY_ENV) {
            Ok(k) if !k.trim().is_empty() => Some(DbKey::new(k)?),
            _ => None,
        };
        Ok(cfg)
    }

    /// The configured master.db, or the error telling the user to set it.
    pub fn db_path(&self) -> Result<&Path> {
        self.db_path
            .as_deref()
            .ok_or(RekordboxError::NoDatabasePath)
    }

    /// How to open the file: the key, or plain SQLite for test copies.
    pub fn cipher(&self) -> Result<Cipher> {
        if self.plaintext {
            return Ok(Cipher::Plaintext);
        }
        self.db_key
            .clone()
            .map(Cipher::Key)
            .ok_or(RekordboxError::NoKey)
    }

    /// Folder of master.db (where Rekordbox keeps its other files).
    pub fn db_dir(&self) -> Result<PathBuf> {
        let p = self.db_path()?;
        Ok(p.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")))
    }

    /// `masterPlaylists6.xml` (configured, or next to master.db).
    pub fn master_playlists_xml(&self) -> Result<PathBuf> {
        match &self.master_playlists_xml {
            Some(p) => Ok(p.clone()),
            None => Ok(self.db_dir()?.join("masterPlaylists6.xml")),
        }
    }

    /// Backup folder (configured, or `cratedigger-backups` next to master.db).
    pub fn backup_dir(&self) -> Result<PathBuf> {
        match &self.backup_dir {
            Some(p) => Ok(p.clone()),
            None => Ok(self.db_dir()?.join("cratedigger-backups")),
        }
    }

    /// Folder for replaced files (configured, or `cratedigger-replaced` next to master.db).
    pub fn replaced_dir(&self) -> Result<PathBuf> {
        match &self.replaced_dir {
            Some(p) => Ok(p.clone()),
            None => Ok(self.db_dir()?.join("cratedigger-replaced")),
        }
    }

    /// The notation keys are written in.
    pub fn key_notation(&self) -> KeyNotation {
        self.key_notation.unwrap_or(KeyNotation::Camelot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_never_printed() {
        let mut c = RekordboxConfig::for_path("/x/master.db", Cipher::Plaintext);
        c.db_key = Some(DbKey::new("s3cret-passphrase").unwrap());
        let dbg = format!("{c:?} {:?}", c.db_key);
        assert!(!dbg.contains("s3cret"), "{dbg}");
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(DbKey::new("  ").is_err());
        assert!(DbKey::new("a\u{0}b").is_err());
        assert!(DbKey::new("x".repeat(600)).is_err());
        let k = DbKey::new(format!("402fd{}", "a".repeat(59))).unwrap();
        assert!(k.looks_like_rekordbox_key());
        assert!(!DbKey::new("test-key").unwrap().looks_like_rekordbox_key());
    }

    #[test]
    fn paths_default_next_to_the_database() {
        let c = RekordboxConfig::for_path("/lib/rb/master.db", Cipher::Plaintext);
        assert_eq!(
            c.backup_dir().unwrap(),
            Path::new("/lib/rb/cratedigger-backups")
        );
        assert_eq!(
            c.master_playlists_xml().unwrap(),
            Path::new("/lib/rb/masterPlaylists6.xml")
        );
        assert_eq!(
            c.replaced_dir().unwrap(),
            Path::new("/lib/rb/cratedigger-replaced")
        );
        let none = RekordboxConfig {
            db_path: None,
            ..RekordboxConfig::default()
        };
        assert!(matches!(
            none.db_path(),
            Err(RekordboxError::NoDatabasePath)
        ));
        assert!(matches!(none.cipher(), Err(RekordboxError::NoKey)));
    }

    #[test]
    fn key_in_a_config_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("cd-rb-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[rekordbox]\ndb_key = \"oops\"\n").unwrap();
        let err = RekordboxConfig::load(Some(&bad)).unwrap_err();
        assert!(
            matches!(err, RekordboxError::KeyInConfigFile { .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("oops"));
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "[rekordbox]\ndb_path = \"/music/master.db\"\nbackup_keep = 3\nkey_notation = \"open_key\"\n",
        )
        .unwrap();
        let c = RekordboxConfig::load(Some(&good)).unwrap();
        assert_eq!(c.db_path.as_deref(), Some(Path::new("/music/master.db")));
        assert_eq!(c.backup_keep, 3);
        assert_eq!(c.key_notation(), KeyNotation::OpenKey);
    }
}
