//! Opening master.db: recognise the file before SQLCipher touches it (empty, plain SQLite,
//! cut short), set the key before any other statement, and turn SQLite's error codes into
//! the sentences of [`RekordboxError`]. Also the schema check and `PRAGMA integrity_check`.

use crate::config::Cipher;
use crate::error::{RekordboxError, Result};
use crate::schema;
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// SQLCipher 4's default page size: an encrypted library is a whole number of these.
pub const CIPHER_PAGE_SIZE: u64 = 4096;

/// Header of a plain SQLite 3 file. An encrypted file starts with its random salt instead.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Read-only for import and export; read-write only inside a write session or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `SQLITE_OPEN_READ_ONLY`: nothing can be written through this connection.
    ReadOnly,
    /// Read-write (never creates the file).
    ReadWrite,
}

/// Opens an existing library, checks the key by reading the schema, and sets a busy
/// timeout. Does not check the Rekordbox tables (see [`check_schema`]).
pub fn open(path: &Path, cipher: &Cipher, mode: OpenMode, busy: Duration) -> Result<Connection> {
    preflight(path, cipher)?;
    let flags = match mode {
        OpenMode::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        OpenMode::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| RekordboxError::from_sqlite(path, "opening the database", e))?;
    apply_key(&conn, cipher, path)?;
    conn.busy_timeout(busy)
        .map_err(|e| RekordboxError::from_sqlite(path, "setting the busy timeout", e))?;
    // The first read decrypts page 1: a wrong key fails here, not later.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| RekordboxError::from_sqlite(path, "reading the schema", e))?;
    Ok(conn)
}

/// Sets the SQLCipher passphrase: must be the first statement on the connection, or
/// SQLCipher treats the file as plain SQLite. No cipher pragmas: Rekordbox uses the
/// SQLCipher 4 defaults, and changing them on a real file would destroy it.
pub(crate) fn apply_key(conn: &Connection, cipher: &Cipher, path: &Path) -> Result<()> {
    if let Cipher::Key(key) = cipher {
        conn.pragma_update(None, "key", key.expose())
            .map_err(|e| RekordboxError::from_sqlite(path, "setting the key", e))?;
    }
    Ok(())
}

/// Looks at the file before SQLite does, so the common mistakes get their own sentence.
fn preflight(path: &Path, cipher: &Cipher) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RekordboxError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(RekordboxError::io("cannot read", path, e)),
    };
    if !meta.is_file() {
        return Err(RekordboxError::NotFound {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Err(RekordboxError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| RekordboxError::io("cannot read", path, e))?;
    let plain = n == 16 && &head == SQLITE_HEADER;
    match cipher {
        Cipher::Key(_) => {
            if plain {
                return Err(RekordboxError::NotEncrypted {
                    path: path.to_path_buf(),
                });
            }
            if meta.len() % CIPHER_PAGE_SIZE != 0 {
                return Err(RekordboxError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!(
                        "{} bytes is not a whole number of {CIPHER_PAGE_SIZE}-byte pages",
                        meta.len()
                    ),
                });
            }
        }
        Cipher::Plaintext => {
            if !plain {
                return Err(RekordboxError::NotPlainSqlite {
                    path: path.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

/// Compares the live schema with the columns `needed` (table, columns); missing ones are
/// refused by name, extra ones (a newer Rekordbox) are fine: every statement names its
/// columns, so extras keep their defaults.
pub fn check_schema(conn: &Connection, path: &Path, needed: &[schema::TableColumns]) -> Result<()> {
    let mut missing = Vec::new();
    for (table, cols) in needed {
        let present = table_columns(conn, path, table)?;
        if present.is_empty() {
            missing.push((*table).to_string());
            continue;
        }
        for c in *cols {
            if !present.iter().any(|p| p == c) {
                missing.push(format!("{table}.{c}"));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RekordboxError::SchemaMismatch {
            path: path.to_path_buf(),
            missing,
        })
    }
}

/// Column names of `table` (`PRAGMA table_info`); empty when the table does not exist.
pub fn table_columns(conn: &Connection, path: &Path, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(|e| RekordboxError::from_sqlite(path, "reading the schema", e))?;
    let rows = stmt
        .query_map([table], |r| r.get::<_, String>(0))
        .map_err(|e| RekordboxError::from_sqlite(path, "reading the schema", e))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| RekordboxError::from_sqlite(path, "reading the schema", e))
}

/// Runs `PRAGMA integrity_check` (or `quick_check`) and returns the problems it reports
/// (empty = "ok"). Corruption that stops the check itself is returned as an error.
pub fn integrity_problems(conn: &Connection, path: &Path, quick: bool) -> Result<Vec<String>> {
    let sql = if quick {
        "PRAGMA quick_check"
    } else {
        "PRAGMA integrity_check"
    };
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| RekordboxError::from_sqlite(path, "checking integrity", e))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| RekordboxError::from_sqlite(path, "checking integrity", e))?;
    let lines = rows
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| RekordboxError::from_sqlite(path, "checking integrity", e))?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

/// Creates a new library file from SQL scripts (Rekordbox's DDL and seed rows), encrypted
/// with `cipher`: how tests, benchmarks and `rekordbox create-test-db` build a realistic
/// master.db without a real library. Refuses to overwrite an existing file.
pub fn create_from_sql(path: &Path, cipher: &Cipher, scripts: &[&str]) -> Result<()> {
    if path.exists() {
        return Err(RekordboxError::Inconsistent {
            path: path.to_path_buf(),
            reason: "the file already exists and a new library would overwrite it".into(),
        });
    }
    let conn = Connection::open(path)
        .map_err(|e| RekordboxError::from_sqlite(path, "creating the database", e))?;
    apply_key(&conn, cipher, path)?;
    for script in scripts {
        conn.execute_batch(script)
            .map_err(|e| RekordboxError::from_sqlite(path, "running the schema script", e))?;
    }
    conn.close()
        .map_err(|(_, e)| RekordboxError::from_sqlite(path, "closing the database", e))?;
    Ok(())
}
