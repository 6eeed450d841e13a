//! Backups a nervous DJ can trust. A backup is a folder holding byte-for-byte copies of
//! `master.db`, its `-wal` and `-shm` (a WAL holds committed changes: without it the copy
//! loses them) and `masterPlaylists6.xml`, plus a `manifest.json` listing them with sizes.
//! The folder is written under a temporary name and renamed when complete, so a half-made
//! backup never looks like a backup. The oldest are deleted beyond `backup_keep`.
//!
//! A restore first proves the backup works (opens with the key, passes
//! `PRAGMA integrity_check`, has the Rekordbox tables), then backs up the current files,
//! then puts the backup in place — with the current `-wal`/`-shm` moved away, since a stale
//! WAL applied to a restored file corrupts it.

use crate::config::{Cipher, RekordboxConfig};
use crate::db::{self, OpenMode};
use crate::error::{RekordboxError, Result};
use crate::process::ProcessProbe;
use crate::schema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the manifest inside a backup folder.
pub const MANIFEST: &str = "manifest.json";

/// What a backup folder holds; written as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// When it was made (UTC, RFC 3339).
    pub created_at: String,
    /// Why: `manual`, `write-session`, `before-restore`.
    pub reason: String,
    /// The library it was taken from.
    pub source_db: String,
    /// Files copied: name in the folder and size in bytes.
    pub files: Vec<BackupFile>,
    /// cratedigger version that wrote it.
    pub cratedigger_version: String,
}

/// One file in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFile {
    /// File name (`master.db`, `master.db-wal`, `master.db-shm`, `masterPlaylists6.xml`).
    pub name: String,
    /// Bytes.
    pub size: u64,
}

/// A backup on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: BackupManifest,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// The backup put in place.
    pub restored_from: PathBuf,
    /// The backup of the files that were replaced (restore it to undo).
    pub previous_saved_to: PathBuf,
    /// Files written.
    pub files: Vec<String>,
}

/// The files next to master.db that belong to it, in the order they are copied.
fn library_files(cfg: &RekordboxConfig) -> Result<Vec<(String, PathBuf)>> {
    let db = cfg.db_path()?.to_path_buf();
    let db_name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.db".into());
    let with_suffix = |s: &str| {
        let mut p = db.clone().into_os_string();
        p.push(s);
        PathBuf::from(p)
    };
    Ok(vec![
        (db_name.clone(), db.clone()),
        (format!("{db_name}-wal"), with_suffix("-wal")),
        (format!("{db_name}-shm"), with_suffix("-shm")),
        (
            "masterPlaylists6.xml".to_string(),
            cfg.master_playlists_xml()?,
        ),
    ])
}

/// Copies master.db (+ `-wal`, `-shm`) and `masterPlaylists6.xml` into a new folder under
/// the backup directory, then deletes the oldest beyond `backup_keep`. `reason` is recorded
/// in the manifest and the folder name.
pub fn create_backup(cfg: &RekordboxConfig, reason: &str) -> Result<Backup> {
    let backup = copy_library(cfg, reason)?;
    rotate(&cfg.backup_dir()?, cfg.backup_keep.max(1))?;
    Ok(backup)
}

/// The copy itself, without rotation (a restore must not rotate away the backup it is
/// about to read).
fn copy_library(cfg: &RekordboxConfig, reason: &str) -> Result<Backup> {
    let db = cfg.db_path()?;
    if !db.is_file() {
        return Err(RekordboxError::NotFound {
            path: db.to_path_buf(),
        });
    }
    let root = cfg.backup_dir()?;
    std::fs::create_dir_all(&root).map_err(|e| RekordboxError::io("cannot create", &root, e))?;
    let now = chrono::Utc::now();
    let reason_slug: String = reason
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(32)
        .collect();
    let mut name = format!("master-{}-{reason_slug}", now.format("%Y%m%dT%H%M%S%.3fZ"));
    let mut n = 1;
    while root.join(&name).exists() {
        n += 1;
        name = format!(
            "master-{}-{reason_slug}-{n}",
            now.format("%Y%m%dT%H%M%S%.3fZ")
        );
    }
    let tmp = root.join(format!(".partial-{name}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| RekordboxError::io("cannot create", &tmp, e))?;
    let mut files = Vec::new();
    for (file_name, src) in library_files(cfg)? {
        if !src.is_file() {
            continue;
        }
        let dst = tmp.join(&file_name);
        let size = copy_synced(&src, &dst)?;
        files.push(BackupFile {
            name: file_name,
            size,
        });
    }
    let manifest = BackupManifest {
        created_at: now.to_rfc3339(),
        reason: reason.to_string(),
        source_db: db.display().to_string(),
        files,
        cratedigger_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let manifest_path = tmp.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    std::fs::write(&manifest_path, json)
        .map_err(|e| RekordboxError::io("cannot write", &manifest_path, e))?;
    let dir = root.join(&name);
    std::fs::rename(&tmp, &dir).map_err(|e| RekordboxError::io("cannot finish backup", &dir, e))?;
    Ok(Backup { dir, manifest })
}

/// Copies a file and flushes it to disk; returns its size.
fn copy_synced(src: &Path, dst: &Path) -> Result<u64> {
    let size = std::fs::copy(src, dst).map_err(|e| RekordboxError::io("cannot copy", src, e))?;
    std::fs::File::open(dst)
        .and_then(|f| f.sync_all())
        .map_err(|e| RekordboxError::io("cannot flush", dst, e))?;
    Ok(size)
}

/// Backups under `root`, newest first (folders with a readable manifest only).
pub fn list_backups(root: &Path) -> Result<Vec<Backup>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RekordboxError::io("cannot list", root, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !dir.is_dir() || name.starts_with('.') {
            continue;
        }
        if let Ok(manifest) = read_manifest(&dir) {
            out.push(Backup { dir, manifest });
        }
    }
    // Folder names start with the UTC time, so name order is age order.
    out.sort_by(|a, b| b.dir.file_name().cmp(&a.dir.file_name()));
    Ok(out)
}

fn read_manifest(dir: &Path) -> Result<BackupManifest> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| RekordboxError::io("cannot read", &path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| RekordboxError::BadBackup {
        path: dir.to_path_buf(),
        reason: format!("its {MANIFEST} is not readable ({e})"),
    })
}

/// Deletes the oldest backups beyond `keep` (only folders with our manifest).
fn rotate(root: &Path, keep: usize) -> Result<()> {
    for old in list_backups(root)?.into_iter().skip(keep) {
        std::fs::remove_dir_all(&old.dir)
            .map_err(|e| RekordboxError::io("cannot delete old backup", &old.dir, e))?;
    }
    Ok(())
}

/// Resolves what the user typed: a folder path, or a backup's folder name under the backup
/// directory.
pub fn resolve_backup(cfg: &RekordboxConfig, which: &str) -> Result<PathBuf> {
    let as_path = PathBuf::from(which);
    if as_path.is_dir() {
        return Ok(as_path);
    }
    let under = cfg.backup_dir()?.join(which);
    if under.is_dir() {
        return Ok(under);
    }
    Err(RekordboxError::BadBackup {
        path: as_path,
        reason: format!(
            "no such backup folder (looked at it as a path and under {})",
            cfg.backup_dir()?.display()
        ),
    })
}

/// Checks a backup without touching the library: the manifest's files are there with their
/// sizes, and its master.db opens with the key, has the Rekordbox tables and passes
/// `PRAGMA integrity_check`. The check runs on a scratch copy (opening a WAL database can
/// write its `-shm`), so the backup itself stays byte-for-byte as made.
pub fn verify_backup(cfg: &RekordboxConfig, dir: &Path) -> Result<BackupManifest> {
    let manifest = read_manifest(dir)?;
    let bad = |reason: String| RekordboxError::BadBackup {
        path: dir.to_path_buf(),
        reason,
    };
    for f in &manifest.files {
        if f.name.contains(['/', '\\']) || f.name.starts_with('.') {
            return Err(bad(format!(
                "its manifest names an unsafe file '{}'",
                f.name
            )));
        }
        let p = dir.join(&f.name);
        let size = std::fs::metadata(&p)
            .map_err(|_| bad(format!("{} is missing", f.name)))?
            .len();
        if size != f.size {
            return Err(bad(format!(
                "{} is {size} bytes, the manifest says {}",
                f.name, f.size
            )));
        }
    }
    let db_name = db_file_name(cfg)?;
    if !manifest.files.iter().any(|f| f.name == db_name) {
        return Err(bad(format!("it holds no {db_name}")));
    }
    let scratch = std::env::temp_dir().join(format!("cratedigger-verify-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| RekordboxError::io("cannot create", &scratch, e))?;
    let result = (|| {
        for f in &manifest.files {
            if f.name.starts_with(&db_name) {
                copy_synced(&dir.join(&f.name), &scratch.join(&f.name))?;
            }
        }
        let copy = scratch.join(&db_name);
        check_database(&copy, &cfg.cipher()?, cfg.busy_timeout_ms).map_err(|e| bad(e.to_string()))
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    Ok(manifest)
}

/// Opens `path`, checks the Rekordbox tables and `PRAGMA integrity_check`.
pub fn check_database(path: &Path, cipher: &Cipher, busy_ms: u64) -> Result<()> {
    let conn = db::open(
        path,
        cipher,
        OpenMode::ReadOnly,
        Duration::from_millis(busy_ms),
    )?;
    db::check_schema(&conn, path, schema::READ)?;
    let problems = db::integrity_problems(&conn, path, false)?;
    if !problems.is_empty() {
        return Err(RekordboxError::Corrupt {
            path: path.to_path_buf(),
            detail: problems.into_iter().take(3).collect::<Vec<_>>().join("; "),
        });
    }
    Ok(())
}

fn db_file_name(cfg: &RekordboxConfig) -> Result<String> {
    Ok(cfg
        .db_path()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.db".into()))
}

/// Puts a backup back: refuses while Rekordbox runs, verifies the backup, backs up the
/// current files (`before-restore`), moves the current `-wal`/`-shm` away, then copies the
/// backup's files into place (each via a temporary file and a rename) and checks the result.
pub fn restore_backup(
    cfg: &RekordboxConfig,
    backup_dir: &Path,
    probe: &dyn ProcessProbe,
) -> Result<RestoreReport> {
    let running = probe.rekordbox_processes();
    if !running.is_empty() {
        return Err(RekordboxError::RekordboxRunning { names: running });
    }
    let manifest = verify_backup(cfg, backup_dir)?;
    // Not rotated: rotation could delete the backup being restored, or this one.
    let previous = copy_library(cfg, "before-restore")?;
    let targets = library_files(cfg)?;
    let db_path = cfg.db_path()?.to_path_buf();
    // 1. Stage every file next to its target (same filesystem, so the rename is atomic).
    let mut staged = Vec::new();
    for (name, target) in &targets {
        if manifest.files.iter().any(|f| &f.name == name) {
            let tmp = staging_name(target);
            copy_synced(&backup_dir.join(name), &tmp)?;
            staged.push((tmp, target.clone(), name.clone()));
        }
    }
    // 2. A WAL or SHM of the current file would be applied to the restored one: move them
    //    away (they are in `previous`).
    for (name, target) in &targets {
        let is_sidecar = name.ends_with("-wal") || name.ends_with("-shm");
        if is_sidecar && target.exists() {
            std::fs::remove_file(target)
                .map_err(|e| RekordboxError::io("cannot move away", target, e))?;
        }
    }
    // 3. Rename into place.
    let mut files = Vec::new();
    for (tmp, target, name) in staged {
        std::fs::rename(&tmp, &target)
            .map_err(|e| RekordboxError::io("cannot restore", &target, e))?;
        files.push(name);
    }
    check_database(&db_path, &cfg.cipher()?, cfg.busy_timeout_ms)?;
    Ok(RestoreReport {
        restored_from: backup_dir.to_path_buf(),
        previous_saved_to: previous.dir,
        files,
    })
}

fn staging_name(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_os_string();
    s.push(format!(".cratedigger-restore-{}", std::process::id()));
    PathBuf::from(s)
}
