//! One error type for the crate. Every message is a sentence a DJ can act on: what is wrong,
//! which file, and — for anything that stops a write — that nothing was changed.

use std::path::PathBuf;

/// Why a Rekordbox operation did not happen (or, for [`RekordboxError::IntegrityCheckFailed`]
/// after a commit, what was done about it).
#[derive(Debug, thiserror::Error)]
pub enum RekordboxError {
    /// No `rekordbox.db_path` configured (there is no default on this platform).
    #[error(
        "no Rekordbox library configured: set CRATEDIGGER__REKORDBOX__DB_PATH (or [rekordbox] \
         db_path) to your master.db; nothing was changed"
    )]
    NoDatabasePath,
    /// No key in the environment.
    #[error(
        "no Rekordbox database key: set CRATEDIGGER__REKORDBOX__DB_KEY in the environment \
         (it is never read from a file); nothing was changed"
    )]
    NoKey,
    /// A key was put in a configuration file, where it could be committed or shared.
    #[error(
        "{file} sets rekordbox.db_key: the database key is a secret and is only read from the \
         environment (CRATEDIGGER__REKORDBOX__DB_KEY); remove it from the file. Nothing was changed"
    )]
    KeyInConfigFile {
        /// The configuration file.
        file: String,
    },
    /// The key is empty, too long or contains control characters.
    #[error("the Rekordbox database key is not usable: {reason}; nothing was changed")]
    InvalidKey {
        /// What is wrong with it (never the key itself).
        reason: &'static str,
    },
    /// Configuration could not be read.
    #[error("Rekordbox configuration is invalid: {0}")]
    Config(String),
    /// The database file does not exist.
    #[error("{} does not exist; nothing was changed", path.display())]
    NotFound {
        /// The path looked at.
        path: PathBuf,
    },
    /// Empty file.
    #[error("{} is empty, so it is not a Rekordbox library; nothing was changed", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// SQLCipher could not decrypt page 1: a wrong key or a file that is not a Rekordbox
    /// library (the two cannot be told apart: both fail the page HMAC).
    #[error(
        "{} could not be opened with the configured key: either the key is wrong or the file \
         is not a Rekordbox library (master.db); nothing was changed",
        path.display()
    )]
    WrongKeyOrNotRekordbox {
        /// The file.
        path: PathBuf,
    },
    /// A plain (unencrypted) SQLite file where an encrypted library was expected.
    #[error(
        "{} is an unencrypted SQLite database, but Rekordbox libraries are encrypted; it is not \
         a real master.db (set rekordbox.plaintext = true only for test copies). Nothing was changed",
        path.display()
    )]
    NotEncrypted {
        /// The file.
        path: PathBuf,
    },
    /// `plaintext = true` but the file is not plain SQLite.
    #[error(
        "{} is not a plain SQLite database (rekordbox.plaintext is set): it is encrypted or not a \
         database at all; nothing was changed",
        path.display()
    )]
    NotPlainSqlite {
        /// The file.
        path: PathBuf,
    },
    /// The file is cut short or damaged.
    #[error(
        "{} is truncated or damaged ({detail}); nothing was changed. Restore a backup with \
         `cratedigger rekordbox restore`",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        detail: String,
    },
    /// The database opened but is not a Rekordbox library, or a newer Rekordbox changed a
    /// table this code writes.
    #[error(
        "{} does not have the Rekordbox tables and columns cratedigger uses (missing: {}); it is \
         not a Rekordbox library or it comes from a newer Rekordbox. Nothing was changed",
        path.display(),
        missing.join(", ")
    )]
    SchemaMismatch {
        /// The file.
        path: PathBuf,
        /// `table` or `table.column` entries that are missing.
        missing: Vec<String>,
    },
    /// Another program holds a lock on the database.
    #[error(
        "{} is locked by another program (is Rekordbox or a sync tool using it?); nothing was \
         changed. Close it and try again",
        path.display()
    )]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// Rekordbox or its agent is running.
    #[error(
        "{} is running; close Rekordbox (and rekordboxAgent) before cratedigger writes to the \
         library. Nothing was changed. (The Rekordbox XML export works while it runs)",
        names.join(" and ")
    )]
    RekordboxRunning {
        /// The matching process names.
        names: Vec<String>,
    },
    /// Another cratedigger process holds the fleet-wide writer lock.
    #[error(
        "another cratedigger process is writing to a Rekordbox library (waited {waited_secs} s for \
         the writer lock); nothing was changed. Try again when it has finished"
    )]
    WriterBusy {
        /// How long we waited.
        waited_secs: u64,
    },
    /// One of the tracks handed to the writer cannot be written.
    #[error("track {index} ({path}) cannot be written: {reason}; nothing was changed")]
    InvalidTrack {
        /// Position in the batch (0-based).
        index: usize,
        /// Its path as given.
        path: String,
        /// Why.
        reason: String,
    },
    /// The library contains something the writer will not build on.
    #[error("{} cannot be written safely: {reason}; nothing was changed", path.display())]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What was found.
        reason: String,
    },
    /// `PRAGMA integrity_check` failed inside the write transaction (rolled back) or right
    /// after it (the backup was put back).
    #[error("integrity check of {} failed ({detail}); {action}", path.display())]
    IntegrityCheckFailed {
        /// The file.
        path: PathBuf,
        /// First lines SQLite reported.
        detail: String,
        /// What was done: rolled back, or restored from the backup.
        action: String,
    },
    /// A fault injected by a test (see `RekordboxWriter::fail_after_changes`).
    #[error(
        "injected failure after {changes} changes; the write session was rolled back, nothing was changed"
    )]
    InjectedFailure {
        /// Changes applied before the failure.
        changes: u64,
    },
    /// A backup cannot be used for a restore.
    #[error("{} cannot be restored: {reason}; the current library was not touched", path.display())]
    BadBackup {
        /// The backup folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Rekordbox XML could not be read.
    #[error("Rekordbox XML is invalid: {0}")]
    Xml(String),
    /// A file operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What we were doing ("cannot read", "cannot copy", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite reported an error not covered above.
    #[error("SQLite error on {} while {context}: {source}; nothing was changed", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What we were doing.
        context: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
    /// Postgres (the import target or the writer lock) failed.
    #[error("Postgres error while {context}: {source}")]
    Postgres {
        /// What we were doing.
        context: &'static str,
        /// The cause.
        source: sqlx::Error,
    },
}

impl RekordboxError {
    /// Maps a SQLite error on `path` to the sentence for its kind (wrong key, locked,
    /// corrupt), falling back to [`RekordboxError::Sqlite`] with `context`.
    pub(crate) fn from_sqlite(
        path: &std::path::Path,
        context: &'static str,
        e: rusqlite::Error,
    ) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => RekordboxError::WrongKeyOrNotRekordbox { path },
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                RekordboxError::Locked { path }
            }
            Some(ErrorCode::DatabaseCorrupt) => RekordboxError::Corrupt {
                path,
                detail: e.to_string(),
            },
            _ => RekordboxError::Sqlite {
                path,
                context,
                source: e,
            },
        }
    }

    pub(crate) fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        RekordboxError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = RekordboxError> = std::result::Result<T, E>;
