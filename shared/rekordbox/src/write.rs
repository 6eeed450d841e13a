//! Writing filed tracks into master.db the way Rekordbox does (notes §1.5, §2).
//!
//! A write session is planned first, against the live database, into a list of
//! [`PlannedChange`]s — every row created, moved or deleted, each with the local USN it
//! will get. `--dry-run` prints that list and stops. Otherwise, in order:
//! 1. refuse if Rekordbox or rekordboxAgent runs;
//! 2. back up master.db (+ `-wal`, `-shm`) and masterPlaylists6.xml (rotated);
//! 3. one `BEGIN IMMEDIATE` transaction: apply the plan, advance `localUpdateCount` to the
//!    last USN, run `PRAGMA integrity_check` (a problem rolls everything back);
//!    dirty pages are never spilled to the file before `COMMIT` (`cache_spill = OFF`), so a
//!    failure at any point leaves master.db byte-for-byte as it was;
//! 4. stage masterPlaylists6.xml next to the real one, `COMMIT`, rename it into place;
//! 5. `PRAGMA quick_check` on the committed file (a problem puts the backup back);
//! 6. move the old files of upgraded tracks aside (never deleted).
//!
//! Blocking (SQLite and file I/O): from async code call it inside
//! `tokio::task::spawn_blocking`, holding the fleet-wide writer lock
//! ([`crate::import_pg::write_session_locked`] does both).

use crate::backup;
use crate::config::{Cipher, RekordboxConfig};
use crate::db::{self, OpenMode};
use crate::error::{RekordboxError, Result};
use crate::library::HOT_CUE_KINDS;
use crate::master_playlists::{self, PlaylistNode};
use crate::process::{ProcessProbe, SystemProbe};
use crate::schema;
use chrono::{DateTime, Utc};
use cratedigger_music::{Key, KeyNotation};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Longest text written into a `VARCHAR(255)` column; longer values are cut (with a warning).
const MAX_NAME_CHARS: usize = 255;
/// Longest comment written.
const MAX_COMMENT_CHARS: usize = 4096;
/// Longest path accepted.
const MAX_PATH_BYTES: usize = 4096;
/// Most cues per track.
const MAX_CUES: usize = 64;

/// Audio container/codec, for Rekordbox's `FileType` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    /// MPEG-1 Layer III.
    Mp3,
    /// AAC in an M4A container.
    M4a,
    /// Other MP4 (video container).
    Mp4,
    /// FLAC.
    Flac,
    /// Apple Lossless (in .m4a: say so explicitly, the extension cannot tell).
    Alac,
    /// WAV (PCM).
    Wav,
    /// AIFF (PCM).
    Aiff,
}

impl AudioFormat {
    /// `djmdContent.FileType` (pyrekordbox 0.5.0's enum).
    pub fn file_type_code(self) -> i64 {
        match self {
            AudioFormat::Mp3 => 1,
            AudioFormat::Mp4 => 3,
            AudioFormat::M4a => 4,
            AudioFormat::Flac => 5,
            AudioFormat::Alac => 6,
            AudioFormat::Wav => 11,
            AudioFormat::Aiff => 12,
        }
    }

    /// From a file extension (`mp3`, `m4a`, `aac`, `mp4`, `flac`, `wav`, `aif`, `aiff`);
    /// `None` for anything Rekordbox does not play.
    pub fn from_extension(ext: &str) -> Option<AudioFormat> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "mp3" => AudioFormat::Mp3,
            "m4a" | "aac" => AudioFormat::M4a,
            "mp4" => AudioFormat::Mp4,
            "flac" => AudioFormat::Flac,
            "wav" | "wave" => AudioFormat::Wav,
            "aif" | "aiff" => AudioFormat::Aiff,
            _ => return None,
        })
    }

    /// PCM formats store the PCM data rate as their bit rate.
    fn is_pcm(self) -> bool {
        matches!(self, AudioFormat::Wav | AudioFormat::Aiff)
    }
}

/// A cue point to write with a new track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CueSpec {
    /// Hot-cue slot, 0 = A ... 7 = H; `None` for a memory cue.
    pub hot_cue: Option<u8>,
    /// Start in milliseconds.
    pub start_ms: u64,
    /// Loop end in milliseconds (after `start_ms`); `None` for a plain cue.
    pub end_ms: Option<u64>,
    /// Colour: for a memory cue the index 0-7 of Rekordbox's memory-cue colours, for a hot
    /// cue the index into its hot-cue palette (`ColorTableIndex`, see [`crate::xml`]).
    pub color: Option<u8>,
    /// Name shown in Rekordbox.
    pub comment: Option<String>,
}

/// A track the fleet has filed (the file is in place) and wants in Rekordbox. Plain data so
/// the consolidator can build it from its own types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FiledTrack {
    /// Absolute path of the file, as Rekordbox will see it.
    pub path: PathBuf,
    /// Title (the file name when empty).
    pub title: String,
    /// Artist name (reused if Rekordbox knows it, created otherwise).
    pub artist: Option<String>,
    /// Album name.
    pub album: Option<String>,
    /// Label name.
    pub label: Option<String>,
    /// Genre name.
    pub genre: Option<String>,
    /// Beats per minute.
    pub bpm: Option<f64>,
    /// Key in any notation; written in the configured notation.
    pub key: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: Option<u64>,
    /// Bit rate in kbps (computed for WAV/AIFF when missing).
    pub bitrate_kbps: Option<u32>,
    /// Sample rate in Hz.
    pub sample_rate_hz: Option<u32>,
    /// Bits per sample (lossless formats).
    pub bit_depth: Option<u16>,
    /// Size in bytes (read from the file when missing and the file is here).
    pub file_size: Option<u64>,
    /// Format (from the extension when missing).
    pub format: Option<AudioFormat>,
    /// ISRC.
    pub isrc: Option<String>,
    /// Release year.
    pub release_year: Option<i32>,
    /// Comment (an upgraded track keeps the old comment).
    pub comment: Option<String>,
    /// Cue points to create.
    pub cues: Vec<CueSpec>,
    /// The file this one upgrades: its cues, hot cues, colours, comment, rating, play count
    /// and playlist memberships move to the new track, and the old file is moved aside.
    pub replaces: Option<PathBuf>,
}

/// One row the session creates, changes or deletes, with the local USN it gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// `rb_local_usn` given to the row (deletions consume one too).
    pub usn: i64,
    /// `created`, `updated`, `moved` or `deleted`.
    pub action: String,
    /// Table.
    pub table: String,
    /// Row ID.
    pub id: String,
    /// What it means, for people.
    pub detail: String,
    #[serde(skip)]
    op: Op,
}

impl fmt::Display for PlannedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "usn {:>8}  {:<7} {:<18} {:<12} {}",
            self.usn, self.action, self.table, self.id, self.detail
        )
    }
}

/// An upgrade that happened (or would happen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replacement {
    /// The old track's ID (deleted).
    pub old_content_id: String,
    /// The old file.
    pub old_path: String,
    /// Cues moved to the new track.
    pub cues_taken_over: usize,
    /// Playlist memberships moved.
    pub playlist_entries_taken_over: usize,
    /// Where the old file was moved (`None`: not moved, see warnings; always `None` in a
    /// dry run).
    pub old_file_moved_to: Option<PathBuf>,
}

/// One track of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrittenTrack {
    /// Its `FolderPath`.
    pub path: String,
    /// `djmdContent.ID` (new, or the existing one when already in the library).
    pub content_id: String,
    /// `added`, `already-present` or `updated-in-place`.
    pub outcome: String,
    /// Cues created for it.
    pub cues_created: usize,
    /// The upgrade, if it replaced a track.
    pub replaced: Option<Replacement>,
}

/// What a write session did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// The library.
    pub db_path: PathBuf,
    /// The sync's playlist ID.
    pub playlist_id: String,
    /// Its name.
    pub playlist_name: String,
    /// True when the playlist was (or would be) created.
    pub playlist_created: bool,
    /// Per track, in input order.
    pub tracks: Vec<WrittenTrack>,
    /// Artists, albums, labels, genres and keys created.
    pub rows_created: HashMap<String, usize>,
    /// `localUpdateCount` before.
    pub usn_before: i64,
    /// `localUpdateCount` after (equal to the last planned USN).
    pub usn_after: i64,
    /// Every change, in order.
    pub changes: Vec<PlannedChange>,
    /// The backup made before writing.
    pub backup_dir: Option<PathBuf>,
    /// `updated`, `missing` (no masterPlaylists6.xml next to the library) or `unchanged`.
    pub master_playlists_xml: String,
    /// Things a person should know that did not stop the session.
    pub warnings: Vec<String>,
}

/// Writes filed tracks into one library. Cheap to keep around; every session opens its own
/// connection. Blocking: see the module docs.
pub struct RekordboxWriter {
    cfg: RekordboxConfig,
    path: PathBuf,
    cipher: Cipher,
    probe: Arc<dyn ProcessProbe>,
    fail_after: Option<u64>,
}

impl fmt::Debug for RekordboxWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RekordboxWriter")
            .field("path", &self.path)
            .field("fail_after", &self.fail_after)
            .finish_non_exhaustive()
    }
}

impl RekordboxWriter {
    /// Checks the configuration, opens the library read-only once to prove the key and the
    /// schema (every table and column the writer uses), and returns a writer. Nothing is
    /// written here.
    pub fn open(cfg: RekordboxConfig) -> Result<RekordboxWriter> {
        let path = cfg.db_path()?.to_path_buf();
        let cipher = cfg.cipher()?;
        let conn = db::open(&path, &cipher, OpenMode::ReadOnly, busy(&cfg))?;
        db::check_schema(&conn, &path, schema::READ)?;
        db::check_schema(&conn, &path, schema::WRITE)?;
        drop(conn);
        Ok(RekordboxWriter {
            cfg,
            path,
            cipher,
            probe: Arc::new(SystemProbe),
            fail_after: None,
        })
    }

    /// Replaces the "is Rekordbox running?" check (tests; callers that know better).
    pub fn with_probe(mut self, probe: Arc<dyn ProcessProbe>) -> RekordboxWriter {
        self.probe = probe;
        self
    }

    /// Fault injection for tests: the session fails after applying `n` changes, inside the
    /// transaction, and must leave the library untouched.
    #[doc(hidden)]
    pub fn fail_after_changes(mut self, n: u64) -> RekordboxWriter {
        self.fail_after = Some(n);
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &RekordboxConfig {
        &self.cfg
    }

    /// Adds `tracks` to the library and to the playlist `playlist_name` (created at the top
    /// level when no playlist of that name exists there; otherwise appended to). Tracks whose
    /// path is already in the library are not added again (re-running a session is safe) but
    /// do join the playlist. With `dry_run`, nothing is written and the report lists every
    /// planned change.
    pub fn write_session(
        &self,
        tracks: &[FiledTrack],
        playlist_name: &str,
        dry_run: bool,
    ) -> Result<WriteReport> {
        let playlist_name = playlist_name.trim();
        if playlist_name.is_empty() || playlist_name.chars().count() > MAX_NAME_CHARS {
            return Err(RekordboxError::InvalidTrack {
                index: 0,
                path: String::new(),
                reason: format!(
                    "the playlist name must be 1 to {MAX_NAME_CHARS} characters (got '{playlist_name}')"
                ),
            });
        }
        let inputs = validate(tracks)?;
        if !dry_run {
            let running = self.probe.rekordbox_processes();
            if !running.is_empty() {
                return Err(RekordboxError::RekordboxRunning { names: running });
            }
        }
        let mode = if dry_run {
            OpenMode::ReadOnly
        } else {
            OpenMode::ReadWrite
        };
        let mut conn = db::open(&self.path, &self.cipher, mode, busy(&self.cfg))?;
        db::check_schema(&conn, &self.path, schema::READ)?;
        db::check_schema(&conn, &self.path, schema::WRITE)?;
        let now = Utc::now();
        let xml_path = self.cfg.master_playlists_xml()?;

        if dry_run {
            let plan = plan(&conn, &self.path, &inputs, playlist_name, &self.cfg, now)?;
            let xml_status = if xml_path.is_file() {
                "would be updated"
            } else {
                "missing"
            };
            return Ok(plan.into_report(&self.path, true, None, xml_status.into()));
        }

        let backup = backup::create_backup(&self.cfg, "write-session")?;
        // Dirty pages stay in memory until COMMIT, so nothing reaches the file (or the WAL)
        // before the transaction is complete.
        conn.pragma_update(None, "cache_spill", false)
            .map_err(|e| RekordboxError::from_sqlite(&self.path, "configuring the session", e))?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| {
                RekordboxError::from_sqlite(&self.path, "starting the write transaction", e)
            })?;
        // Planned inside the transaction: nobody can change the library between plan and write.
        let mut plan = plan(&tx, &self.path, &inputs, playlist_name, &self.cfg, now)?;
        apply(&tx, &self.path, &plan, self.fail_after)?;
        let problems = db::integrity_problems(&tx, &self.path, false)?;
        if !problems.is_empty() {
            drop(tx);
            return Err(RekordboxError::IntegrityCheckFailed {
                path: self.path.clone(),
                detail: problems.into_iter().take(3).collect::<Vec<_>>().join("; "),
                action: "the write session was rolled back, nothing was changed".into(),
            });
        }
        // masterPlaylists6.xml is staged before COMMIT and renamed after it.
        let staged_xml = stage_master_playlists(&xml_path, &plan.xml_nodes)?;
        if let Err(e) = tx.commit() {
            if let Some(s) = &staged_xml {
                let _ = std::fs::remove_file(s);
            }
            return Err(RekordboxError::from_sqlite(&self.path, "committing", e));
        }
        let xml_status = match staged_xml {
            Some(staged) => match std::fs::rename(&staged, &xml_path) {
                Ok(()) => "updated".to_string(),
                Err(e) => {
                    plan.warnings.push(format!(
                        "masterPlaylists6.xml could not be updated ({e}); Rekordbox may not show \
                         the playlist until it re-syncs. The staged copy is {}",
                        staged.display()
                    ));
                    "stale".to_string()
                }
            },
            None if xml_path.is_file() => "unchanged".into(),
            None => "missing".into(),
        };
        let problems = db::integrity_problems(&conn, &self.path, true)?;
        drop(conn);
        if !problems.is_empty() {
            let action = match backup::restore_backup(&self.cfg, &backup.dir, self.probe.as_ref()) {
                Ok(_) => format!("the backup {} was put back", backup.dir.display()),
                Err(e) => format!(
                    "putting the backup {} back failed too ({e}); restore it with \
                     `cratedigger rekordbox restore`",
                    backup.dir.display()
                ),
            };
            return Err(RekordboxError::IntegrityCheckFailed {
                path: self.path.clone(),
                detail: problems.into_iter().take(3).collect::<Vec<_>>().join("; "),
                action,
            });
        }
        self.move_replaced_files(&mut plan, now);
        tracing::info!(
            db = %self.path.display(),
            tracks = plan.tracks.len(),
            changes = plan.changes.len(),
            usn_before = plan.usn_before,
            usn_after = plan.usn,
            backup = %backup.dir.display(),
            "rekordbox write session committed"
        );
        Ok(plan.into_report(&self.path, false, Some(backup.dir), xml_status))
    }

    /// Moves the old files of upgraded tracks into `replaced_dir/<time>/` (rename, or copy
    /// then remove across filesystems). Failures are warnings: the library already points at
    /// the new file.
    fn move_replaced_files(&self, plan: &mut Plan, now: DateTime<Utc>) {
        let Ok(root) = self.cfg.replaced_dir() else {
            return;
        };
        let dir = root.join(now.format("%Y%m%dT%H%M%SZ").to_string());
        for t in &mut plan.tracks {
            let Some(r) = &mut t.replaced else {
                continue;
            };
            let old = PathBuf::from(&r.old_path);
            if !old.is_file() {
                plan.warnings.push(format!(
                    "the replaced file {} is not on this machine; nothing was moved",
                    r.old_path
                ));
                continue;
            }
            match move_aside(&old, &dir) {
                Ok(dest) => r.old_file_moved_to = Some(dest),
                Err(e) => plan.warnings.push(format!(
                    "the replaced file {} was left in place: {e}",
                    r.old_path
                )),
            }
        }
    }
}

fn busy(cfg: &RekordboxConfig) -> Duration {
    Duration::from_millis(cfg.busy_timeout_ms)
}

fn move_aside(old: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = old
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "replaced".into());
    let mut dest = dir.join(&name);
    let mut n = 1;
    while dest.exists() {
        n += 1;
        let mut s = name.clone();
        s.push(format!(".{n}"));
        dest = dir.join(s);
    }
    if std::fs::rename(old, &dest).is_err() {
        std::fs::copy(old, &dest)?;
        std::fs::remove_file(old)?;
    }
    Ok(dest)
}

/// Writes the updated masterPlaylists6.xml next to the real one; `None` when there is none
/// (Rekordbox rebuilds it) or nothing to change.
fn stage_master_playlists(xml_path: &Path, nodes: &[PlaylistNode]) -> Result<Option<PathBuf>> {
    if nodes.is_empty() || !xml_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(xml_path)
        .map_err(|e| RekordboxError::io("cannot read", xml_path, e))?;
    let updated = master_playlists::upsert_nodes(&text, nodes)?;
    let mut staged = xml_path.as_os_str().to_os_string();
    staged.push(".cratedigger-new");
    let staged = PathBuf::from(staged);
    std::fs::write(&staged, updated).map_err(|e| RekordboxError::io("cannot write", &staged, e))?;
    Ok(Some(staged))
}

// ---------------------------------------------------------------------------------------
// Validation

/// A track after validation: the strings the database gets.
#[derive(Debug, Clone)]
struct Input {
    folder_path: String,
    file_name: String,
    title: String,
    artist: Option<String>,
    album: Option<String>,
    label: Option<String>,
    genre: Option<String>,
    bpm_x100: Option<i64>,
    key: Option<String>,
    length_secs: Option<i64>,
    bitrate: Option<i64>,
    sample_rate: Option<i64>,
    bit_depth: Option<i64>,
    file_size: Option<i64>,
    format: AudioFormat,
    isrc: Option<String>,
    release_year: Option<i64>,
    comment: Option<String>,
    cues: Vec<CueSpec>,
    replaces: Option<String>,
    warnings: Vec<String>,
}

/// `FolderPath` form of a path: UTF-8, forward slashes, absolute (`/...` or `C:/...`).
pub fn folder_path(path: &Path) -> std::result::Result<String, String> {
    let s = path
        .to_str()
        .ok_or_else(|| "the path is not valid UTF-8".to_string())?
        .replace('\\', "/");
    if s.len() > MAX_PATH_BYTES {
        return Err(format!("the path is longer than {MAX_PATH_BYTES} bytes"));
    }
    if s.chars().any(char::is_control) {
        return Err("the path contains control characters".into());
    }
    let b = s.as_bytes();
    let drive = b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/';
    if !(s.starts_with('/') || drive) {
        return Err("the path is not absolute".into());
    }
    if s.ends_with('/') {
        return Err("the path names a folder, not a file".into());
    }
    Ok(s)
}

fn clip(s: Option<&str>, max: usize, what: &str, warnings: &mut Vec<String>) -> Option<String> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() > max {
        warnings.push(format!("{what} was cut to {max} characters"));
        Some(s.chars().take(max).collect())
    } else {
        Some(s)
    }
}

fn validate(tracks: &[FiledTrack]) -> Result<Vec<Input>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(tracks.len());
    for (index, t) in tracks.iter().enumerate() {
        let shown = t.path.display().to_string();
        let bad = |reason: String| RekordboxError::InvalidTrack {
            index,
            path: shown.clone(),
            reason,
        };
        let fp = folder_path(&t.path).map_err(&bad)?;
        if !seen.insert(fp.clone()) {
            return Err(bad("the same path is given twice in this session".into()));
        }
        let file_name = fp.rsplit('/').next().unwrap_or_default().to_string();
        let ext = file_name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let format = match t.format.or_else(|| AudioFormat::from_extension(ext)) {
            Some(f) => f,
            None => {
                return Err(bad(format!(
                    "Rekordbox does not play '.{ext}' files (mp3, m4a, flac, wav, aiff only)"
                )));
            }
        };
        let mut warnings = Vec::new();
        let title = clip(Some(&t.title), MAX_NAME_CHARS, "the title", &mut warnings)
            .unwrap_or_else(|| {
                file_name
                    .rsplit_once('.')
                    .map(|(stem, _)| stem.to_string())
                    .unwrap_or_else(|| file_name.clone())
            });
        let bpm_x100 = match t.bpm {
            None => None,
            Some(b) if b.is_finite() && b > 0.0 && b < 1000.0 => Some((b * 100.0).round() as i64),
            Some(b) => return Err(bad(format!("BPM {b} is not between 0 and 1000"))),
        };
        let sample_rate = t.sample_rate_hz.map(i64::from);
        let bit_depth = t.bit_depth.map(i64::from);
        let bitrate = t.bitrate_kbps.map(i64::from).or_else(|| {
            // WAV/AIFF: Rekordbox shows the PCM data rate (2 channels assumed).
            match (format.is_pcm(), sample_rate, bit_depth) {
                (true, Some(sr), Some(bd)) => Some(sr * bd * 2 / 1000),
                _ => None,
            }
        });
        let file_size = match t.file_size {
            Some(s) => i64::try_from(s).ok(),
            None => std::fs::metadata(&t.path)
                .ok()
                .and_then(|m| i64::try_from(m.len()).ok()),
        };
        if t.cues.len() > MAX_CUES {
            return Err(bad(format!(
                "{} cues is more than {MAX_CUES}",
                t.cues.len()
            )));
        }
        for (i, c) in t.cues.iter().enumerate() {
            if let Some(slot) = c.hot_cue
                && usize::from(slot) >= HOT_CUE_KINDS.len()
            {
                return Err(bad(format!(
                    "cue {i}: hot-cue slot {slot} is beyond H (0-7)"
                )));
            }
            if let Some(end) = c.end_ms
                && end <= c.start_ms
            {
                return Err(bad(format!("cue {i}: the loop ends before it starts")));
            }
            if c.hot_cue.is_none() && c.color.is_some_and(|k| k > 7) {
                return Err(bad(format!("cue {i}: memory-cue colour index must be 0-7")));
            }
            if c.start_ms > i64::MAX as u64 / 1000 {
                return Err(bad(format!("cue {i}: start is out of range")));
            }
        }
        let replaces = match &t.replaces {
            None => None,
            Some(p) => Some(folder_path(p).map_err(|e| bad(format!("replaces: {e}")))?),
        };
        out.push(Input {
            folder_path: fp,
            file_name,
            title,
            artist: clip(
                t.artist.as_deref(),
                MAX_NAME_CHARS,
                "the artist",
                &mut warnings,
            ),
            album: clip(
                t.album.as_deref(),
                MAX_NAME_CHARS,
                "the album",
                &mut warnings,
            ),
            label: clip(
                t.label.as_deref(),
                MAX_NAME_CHARS,
                "the label",
                &mut warnings,
            ),
            genre: clip(
                t.genre.as_deref(),
                MAX_NAME_CHARS,
                "the genre",
                &mut warnings,
            ),
            bpm_x100,
            key: clip(t.key.as_deref(), 64, "the key", &mut warnings),
            length_secs: t.duration_ms.map(|ms| ((ms + 500) / 1000) as i64),
            bitrate,
            sample_rate,
            bit_depth,
            file_size,
            format,
            isrc: clip(t.isrc.as_deref(), 32, "the ISRC", &mut warnings),
            release_year: t
                .release_year
                .map(i64::from)
                .filter(|y| (1..=9999).contains(y)),
            comment: clip(
                t.comment.as_deref(),
                MAX_COMMENT_CHARS,
                "the comment",
                &mut warnings,
            ),
            cues: t.cues.clone(),
            replaces,
            warnings,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Planning

/// A row write, ready to execute.
#[derive(Debug, Clone, PartialEq, Default)]
enum Op {
    #[default]
    None,
    InsertNamed {
        table: &'static str,
        id: String,
        name: String,
    },
    InsertAlbum {
        id: String,
        name: String,
        artist_id: Option<String>,
    },
    InsertKey {
        id: String,
        name: String,
        seq: i64,
    },
    InsertContent(Box<ContentRow>),
    UpdateContentFile {
        id: String,
        row: Box<ContentRow>,
    },
    InsertCue(Box<CueRow>),
    InsertPlaylist {
        id: String,
        name: String,
        seq: i64,
    },
    TouchPlaylist {
        id: String,
    },
    InsertEntry {
        id: String,
        playlist_id: String,
        content_id: String,
        track_no: i64,
    },
    Repoint {
        table: &'static str,
        id: String,
        to_content: String,
        to_uuid: Option<String>,
        is_cue: bool,
    },
    RewriteContentCue {
        id: String,
        to_content: String,
        cues_json: Option<String>,
    },
    Delete {
        table: &'static str,
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
struct ContentRow {
    id: String,
    uuid: String,
    folder_path: String,
    file_name: String,
    title: String,
    artist_id: Option<String>,
    album_id: Option<String>,
    genre_id: Option<String>,
    label_id: Option<String>,
    key_id: String,
    bpm_x100: Option<i64>,
    length_secs: Option<i64>,
    bitrate: Option<i64>,
    bit_depth: Option<i64>,
    sample_rate: Option<i64>,
    file_type: i64,
    file_size: Option<i64>,
    rating: Option<i64>,
    play_count: Option<i64>,
    comment: Option<String>,
    color_id: String,
    isrc: String,
    release_year: Option<i64>,
    date: String,
    content_link: Option<i64>,
    device_id: Option<String>,
    master_db_id: Option<String>,
    rb_file_id: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct CueRow {
    id: String,
    uuid: String,
    content_id: String,
    content_uuid: String,
    in_msec: i64,
    out_msec: i64,
    kind: i64,
    color: i64,
    color_table_index: i64,
    active_loop: i64,
    comment: String,
}

/// The old track an upgrade replaces.
#[derive(Debug, Clone)]
struct OldTrack {
    id: String,
    uuid: Option<String>,
    comment: Option<String>,
    rating: Option<i64>,
    play_count: Option<i64>,
    color_id: Option<String>,
}

/// The planned session.
#[derive(Debug)]
struct Plan {
    usn_before: i64,
    usn: i64,
    changes: Vec<PlannedChange>,
    playlist_id: String,
    playlist_name: String,
    playlist_created: bool,
    tracks: Vec<WrittenTrack>,
    rows_created: HashMap<String, usize>,
    xml_nodes: Vec<PlaylistNode>,
    warnings: Vec<String>,
    now: String,
}

impl Plan {
    fn push(&mut self, action: &str, table: &str, id: &str, detail: String, op: Op) {
        self.usn += 1;
        self.changes.push(PlannedChange {
            usn: self.usn,
            action: action.into(),
            table: table.into(),
            id: id.into(),
            detail,
            op,
        });
    }

    fn into_report(
        self,
        path: &Path,
        dry_run: bool,
        backup_dir: Option<PathBuf>,
        xml: String,
    ) -> WriteReport {
        WriteReport {
            dry_run,
            db_path: path.to_path_buf(),
            playlist_id: self.playlist_id,
            playlist_name: self.playlist_name,
            playlist_created: self.playlist_created,
            tracks: self.tracks,
            rows_created: self.rows_created,
            usn_before: self.usn_before,
            usn_after: self.usn,
            changes: self.changes,
            backup_dir,
            master_playlists_xml: xml,
            warnings: self.warnings,
        }
    }
}

/// `created_at` / `updated_at` text as Rekordbox writes it: UTC, milliseconds, `+00:00`.
pub fn rekordbox_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f +00:00").to_string()
}

/// Reads name → ID of a lookup table (the first ID wins for duplicate names).
fn name_map(conn: &Connection, path: &Path, sql: &str) -> Result<HashMap<String, String>> {
    let err = |e| RekordboxError::from_sqlite(path, "reading the library", e);
    let mut stmt = conn.prepare(sql).map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut map = HashMap::new();
    while let Some(r) = rows.next().map_err(err)? {
        let id: Option<String> = r.get(0).map_err(err)?;
        let name: Option<String> = r.get(1).map_err(err)?;
        if let (Some(id), Some(name)) = (id, name) {
            map.entry(name).or_insert(id);
        }
    }
    Ok(map)
}

/// Fresh decimal IDs the way pyrekordbox makes them (28-bit, >= 100), never one already in
/// the table or planned in this session.
struct IdGen<'c> {
    conn: &'c Connection,
    path: PathBuf,
    used: HashSet<(&'static str, &'static str, String)>,
    /// Values of unindexed columns (`rb_file_id`), read once instead of scanned per ID.
    scanned: HashMap<(&'static str, &'static str), HashSet<String>>,
}

impl IdGen<'_> {
    fn fresh(&mut self, table: &'static str, column: &'static str) -> Result<String> {
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let n = rng.random::<u32>() >> 4;
            if n < 100 {
                continue;
            }
            let id = n.to_string();
            if self.used.contains(&(table, column, id.clone())) {
                continue;
            }
            if !self.taken(table, column, &id)? {
                self.used.insert((table, column, id.clone()));
                return Ok(id);
            }
        }
        Err(RekordboxError::Inconsistent {
            path: self.path.clone(),
            reason: format!("no free ID found in {table} after 1000 tries"),
        })
    }

    fn taken(&mut self, table: &'static str, column: &'static str, id: &str) -> Result<bool> {
        let err = |e| RekordboxError::from_sqlite(&self.path, "choosing an ID", e);
        if column == "ID" {
            // The primary key: an index lookup.
            return self
                .conn
                .prepare_cached(&format!("SELECT 1 FROM {table} WHERE ID = ?1 LIMIT 1"))
                .and_then(|mut s| s.exists([id]))
                .map_err(err);
        }
        if !self.scanned.contains_key(&(table, column)) {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
                ))
                .map_err(err)?;
            let values = stmt
                .query_map([], |r| {
                    Ok(match r.get_ref(0)? {
                        rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                        v => String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned(),
                    })
                })
                .map_err(err)?
                .collect::<std::result::Result<HashSet<String>, _>>()
                .map_err(err)?;
            self.scanned.insert((table, column), values);
        }
        Ok(self.scanned[&(table, column)].contains(id))
    }
}

fn plan(
    conn: &Connection,
    path: &Path,
    inputs: &[Input],
    playlist_name: &str,
    cfg: &RekordboxConfig,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let err = |e| RekordboxError::from_sqlite(path, "planning the write session", e);
    let inconsistent = |reason: &str| RekordboxError::Inconsistent {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let usn_before: i64 = conn
        .query_row(
            "SELECT int_1 FROM agentRegistry WHERE registry_id = 'localUpdateCount'",
            [],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()
        .map_err(err)?
        .flatten()
        .ok_or_else(|| inconsistent("agentRegistry has no localUpdateCount row"))?;
    let (device_id, master_db_id): (Option<String>, Option<String>) = conn
        .query_row("SELECT ID, MasterDBID FROM djmdDevice LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(err)?
        .ok_or_else(|| inconsistent("djmdDevice has no row (is this a Rekordbox library?)"))?;
    let content_link: Option<i64> = conn
        .query_row(
            "SELECT rb_local_usn FROM djmdMenuItems WHERE Name = 'TRACK' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?
        .flatten();

    let mut artists = name_map(conn, path, "SELECT ID, Name FROM djmdArtist")?;
    let mut albums = name_map(conn, path, "SELECT ID, Name FROM djmdAlbum")?;
    let mut labels = name_map(conn, path, "SELECT ID, Name FROM djmdLabel")?;
    let mut genres = name_map(conn, path, "SELECT ID, Name FROM djmdGenre")?;
    let mut keys = name_map(conn, path, "SELECT ID, ScaleName FROM djmdKey")?;
    let mut key_seq: i64 = conn
        .query_row("SELECT COALESCE(MAX(Seq), 0) FROM djmdKey", [], |r| {
            r.get(0)
        })
        .map_err(err)?;

    let notation: KeyNotation = cfg.key_notation();
    let ts = rekordbox_timestamp(now);
    let date = now.format("%Y-%m-%d").to_string();
    let mut ids = IdGen {
        conn,
        path: path.to_path_buf(),
        used: HashSet::new(),
        scanned: HashMap::new(),
    };
    let mut plan = Plan {
        usn_before,
        usn: usn_before,
        changes: Vec::new(),
        playlist_id: String::new(),
        playlist_name: playlist_name.to_string(),
        playlist_created: false,
        tracks: Vec::new(),
        rows_created: HashMap::new(),
        xml_nodes: Vec::new(),
        warnings: Vec::new(),
        now: ts.clone(),
    };

    // The sync's playlist: a top-level playlist of that name, or a new one.
    let existing: Option<String> = conn
        .query_row(
            "SELECT ID FROM djmdPlaylist WHERE ParentID = 'root' AND Attribute = 0 AND Name = ?1 \
             ORDER BY Seq, ID LIMIT 1",
            [playlist_name],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    let mut members: HashSet<String> = HashSet::new();
    let mut next_track_no: i64;
    match existing {
        Some(id) => {
            let mut stmt = conn
                .prepare("SELECT ContentID, TrackNo FROM djmdSongPlaylist WHERE PlaylistID = ?1")
                .map_err(err)?;
            let rows = stmt
                .query_map([&id], |r| {
                    Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?))
                })
                .map_err(err)?;
            let mut max_no = 0;
            for row in rows {
                let (c, n) = row.map_err(err)?;
                if let Some(c) = c {
                    members.insert(c);
                }
                max_no = max_no.max(n.unwrap_or(0));
            }
            next_track_no = max_no + 1;
            plan.push(
                "updated",
                "djmdPlaylist",
                &id,
                format!("playlist '{playlist_name}' (tracks appended)"),
                Op::TouchPlaylist { id: id.clone() },
            );
            plan.playlist_id = id;
        }
        None => {
            let id = ids.fresh("djmdPlaylist", "ID")?;
            let seq: i64 = conn
                .query_row(
                    "SELECT COALESCE(MAX(Seq), 0) + 1 FROM djmdPlaylist WHERE ParentID = 'root'",
                    [],
                    |r| r.get(0),
                )
                .map_err(err)?;
            plan.push(
                "created",
                "djmdPlaylist",
                &id,
                format!("playlist '{playlist_name}' at the top level, position {seq}"),
                Op::InsertPlaylist {
                    id: id.clone(),
                    name: playlist_name.to_string(),
                    seq,
                },
            );
            plan.playlist_id = id;
            plan.playlist_created = true;
            next_track_no = 1;
        }
    }
    plan.xml_nodes.push(PlaylistNode {
        id: plan.playlist_id.clone(),
        parent_id: "root".into(),
        attribute: 0,
        timestamp_ms: now.timestamp_millis(),
    });

    // FolderPath has no index in Rekordbox's schema: read path -> ID once.
    let mut by_path: HashMap<String, String> = HashMap::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT FolderPath, ID FROM djmdContent WHERE FolderPath IS NOT NULL ORDER BY ID",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        for row in rows {
            let (fp, id) = row.map_err(err)?;
            by_path.entry(fp).or_insert(id);
        }
    }
    let mut content_stmt = conn
        .prepare(
            "SELECT ID, UUID, Commnt, Rating, DJPlayCount, ColorID FROM djmdContent WHERE ID = ?1",
        )
        .map_err(err)?;
    let mut find_content = |fp: &str| -> Result<Option<OldTrack>> {
        let Some(id) = by_path.get(fp) else {
            return Ok(None);
        };
        content_stmt
            .query_row([id], |r| {
                Ok(OldTrack {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    comment: r.get(2)?,
                    rating: r.get(3)?,
                    play_count: r.get::<_, rusqlite::types::Value>(4).map(|v| match v {
                        rusqlite::types::Value::Integer(n) => Some(n),
                        rusqlite::types::Value::Text(t) => t.trim().parse().ok(),
                        _ => None,
                    })?,
                    color_id: r.get(5)?,
                })
            })
            .optional()
            .map_err(err)
    };

    for input in inputs {
        plan.warnings.extend(
            input
                .warnings
                .iter()
                .map(|w| format!("{}: {w}", input.folder_path)),
        );
        if let Some(present) = find_content(&input.folder_path)? {
            let in_place = input.replaces.as_deref() == Some(input.folder_path.as_str());
            let mut row = content_row(input, &present.id, "", &date);
            row.uuid = present.uuid.clone().unwrap_or_default();
            if in_place {
                plan.push(
                    "updated",
                    "djmdContent",
                    &present.id,
                    format!(
                        "{} replaced in place: file type, bit rate, sample rate, size, length; cues kept",
                        input.folder_path
                    ),
                    Op::UpdateContentFile {
                        id: present.id.clone(),
                        row: Box::new(row),
                    },
                );
            }
            if !members.contains(&present.id) {
                add_entry(
                    &mut plan,
                    &mut ids,
                    &present.id,
                    &input.folder_path,
                    &mut next_track_no,
                )?;
                members.insert(present.id.clone());
            }
            if !in_place && input.replaces.is_some() {
                plan.warnings.push(format!(
                    "{} is already in the library; the track it replaces was left alone",
                    input.folder_path
                ));
            }
            plan.tracks.push(WrittenTrack {
                path: input.folder_path.clone(),
                content_id: present.id,
                outcome: if in_place {
                    "updated-in-place"
                } else {
                    "already-present"
                }
                .into(),
                cues_created: 0,
                replaced: None,
            });
            continue;
        }

        // Lookup rows: reuse by exact name, create otherwise.
        let artist_id = lookup(
            &mut plan,
            &mut ids,
            &mut artists,
            "djmdArtist",
            input.artist.as_deref(),
            |id, name| Op::InsertNamed {
                table: "djmdArtist",
                id,
                name,
            },
        )?;
        let album_id = match input.album.as_deref() {
            None => None,
            Some(name) => match albums.get(name) {
                Some(id) => Some(id.clone()),
                None => {
                    let id = ids.fresh("djmdAlbum", "ID")?;
                    albums.insert(name.to_string(), id.clone());
                    *plan.rows_created.entry("djmdAlbum".into()).or_default() += 1;
                    plan.push(
                        "created",
                        "djmdAlbum",
                        &id,
                        format!("album '{name}'"),
                        Op::InsertAlbum {
                            id: id.clone(),
                            name: name.to_string(),
                            artist_id: artist_id.clone(),
                        },
                    );
                    Some(id)
                }
            },
        };
        let label_id = lookup(
            &mut plan,
            &mut ids,
            &mut labels,
            "djmdLabel",
            input.label.as_deref(),
            |id, name| Op::InsertNamed {
                table: "djmdLabel",
                id,
                name,
            },
        )?;
        let genre_id = lookup(
            &mut plan,
            &mut ids,
            &mut genres,
            "djmdGenre",
            input.genre.as_deref(),
            |id, name| Op::InsertNamed {
                table: "djmdGenre",
                id,
                name,
            },
        )?;
        let key_id = match input.key.as_deref() {
            None => "0".to_string(),
            Some(text) => match Key::parse(text) {
                Err(e) => {
                    plan.warnings.push(format!(
                        "{}: key '{text}' was not written ({e})",
                        input.folder_path
                    ));
                    "0".to_string()
                }
                Ok(k) => {
                    let spelled = k.format(notation);
                    match keys.get(&spelled) {
                        Some(id) => id.clone(),
                        None => {
                            let id = ids.fresh("djmdKey", "ID")?;
                            key_seq += 1;
                            keys.insert(spelled.clone(), id.clone());
                            *plan.rows_created.entry("djmdKey".into()).or_default() += 1;
                            plan.push(
                                "created",
                                "djmdKey",
                                &id,
                                format!("key '{spelled}' ({notation})"),
                                Op::InsertKey {
                                    id: id.clone(),
                                    name: spelled,
                                    seq: key_seq,
                                },
                            );
                            id
                        }
                    }
                }
            },
        };

        let old = match &input.replaces {
            None => None,
            Some(rp) => {
                let found = find_content(rp)?;
                if found.is_none() {
                    plan.warnings.push(format!(
                        "{}: the track it replaces ({rp}) is not in the library; added as a new track",
                        input.folder_path
                    ));
                }
                found
            }
        };

        let content_id = ids.fresh("djmdContent", "ID")?;
        let mut row = content_row(input, &content_id, &uuid::Uuid::new_v4().to_string(), &date);
        row.artist_id = artist_id;
        row.album_id = album_id;
        row.label_id = label_id;
        row.genre_id = genre_id;
        row.key_id = key_id;
        row.content_link = content_link;
        row.device_id = device_id.clone();
        row.master_db_id = master_db_id.clone();
        row.rb_file_id = ids.fresh("djmdContent", "rb_file_id")?;
        if let Some(o) = &old {
            // The user's curation of the old copy wins over the fresh metadata.
            if o.comment.as_deref().is_some_and(|c| !c.is_empty()) {
                row.comment = o.comment.clone();
            }
            row.rating = o.rating;
            row.play_count = o.play_count;
            if let Some(c) = o.color_id.clone().filter(|c| !c.is_empty()) {
                row.color_id = c;
            }
        }
        let content_uuid = row.uuid.clone();
        plan.push(
            "created",
            "djmdContent",
            &content_id,
            format!(
                "track '{}' ({}), BPM x100 {}, {} s",
                row.title,
                input.folder_path,
                row.bpm_x100
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
                row.length_secs
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
            Op::InsertContent(Box::new(row)),
        );

        // Upgrade: the old track's rows move over, its file-specific rows go with it.
        let mut replaced = None;
        let mut old_cues: Vec<(Option<i64>, i64)> = Vec::new();
        let mut old_in_sync_playlist = false;
        if let Some(o) = &old {
            let taken = plan_takeover(conn, path, &mut plan, o, &content_id, &content_uuid)?;
            old_cues = taken.cue_points;
            if members.contains(&o.id) {
                old_in_sync_playlist = true;
                members.remove(&o.id);
                members.insert(content_id.clone());
            }
            replaced = Some(Replacement {
                old_content_id: o.id.clone(),
                old_path: input.replaces.clone().unwrap_or_default(),
                cues_taken_over: taken.cues_moved,
                playlist_entries_taken_over: taken.entries_moved,
                old_file_moved_to: None,
            });
        }

        // New cues, unless the old copy already has one in that slot / at that point.
        let mut cues_created = 0;
        for c in &input.cues {
            let kind = c
                .hot_cue
                .map(|s| HOT_CUE_KINDS[usize::from(s)])
                .unwrap_or(0);
            let start = c.start_ms as i64;
            let clash = old_cues.iter().any(|(k, s)| match c.hot_cue {
                Some(_) => *k == Some(kind),
                None => k.unwrap_or(0) == 0 && (s - start).abs() <= 5,
            });
            if clash {
                plan.warnings.push(format!(
                    "{}: cue at {start} ms not added, the replaced track's cue there was kept",
                    input.folder_path
                ));
                continue;
            }
            let id = ids.fresh("djmdCue", "ID")?;
            let cue = CueRow {
                id: id.clone(),
                uuid: uuid::Uuid::new_v4().to_string(),
                content_id: content_id.clone(),
                content_uuid: content_uuid.clone(),
                in_msec: start,
                out_msec: c.end_ms.map(|e| e as i64).unwrap_or(-1),
                kind,
                color: match c.hot_cue {
                    None => c.color.map(i64::from).unwrap_or(-1),
                    Some(_) => -1,
                },
                color_table_index: match c.hot_cue {
                    Some(_) => c.color.map(i64::from).unwrap_or(0),
                    None => 0,
                },
                active_loop: 0,
                comment: c.comment.clone().unwrap_or_default(),
            };
            let what = match c.hot_cue {
                Some(s) => format!("hot cue {}", (b'A' + s) as char),
                None => "memory cue".to_string(),
            };
            let looped = if c.end_ms.is_some() { " loop" } else { "" };
            plan.push(
                "created",
                "djmdCue",
                &id,
                format!(
                    "{what}{looped} at {:.3} s of track {content_id}",
                    start as f64 / 1000.0
                ),
                Op::InsertCue(Box::new(cue)),
            );
            cues_created += 1;
        }

        if !old_in_sync_playlist && !members.contains(&content_id) {
            add_entry(
                &mut plan,
                &mut ids,
                &content_id,
                &input.folder_path,
                &mut next_track_no,
            )?;
            members.insert(content_id.clone());
        }
        plan.tracks.push(WrittenTrack {
            path: input.folder_path.clone(),
            content_id,
            outcome: "added".into(),
            cues_created,
            replaced,
        });
    }
    Ok(plan)
}

fn lookup(
    plan: &mut Plan,
    ids: &mut IdGen<'_>,
    map: &mut HashMap<String, String>,
    table: &'static str,
    name: Option<&str>,
    op: impl FnOnce(String, String) -> Op,
) -> Result<Option<String>> {
    let Some(name) = name else {
        return Ok(None);
    };
    if let Some(id) = map.get(name) {
        return Ok(Some(id.clone()));
    }
    let id = ids.fresh(table, "ID")?;
    map.insert(name.to_string(), id.clone());
    *plan.rows_created.entry(table.into()).or_default() += 1;
    let what = table.trim_start_matches("djmd").to_ascii_lowercase();
    plan.push(
        "created",
        table,
        &id,
        format!("{what} '{name}'"),
        op(id.clone(), name.to_string()),
    );
    Ok(Some(id))
}

fn add_entry(
    plan: &mut Plan,
    ids: &mut IdGen<'_>,
    content_id: &str,
    shown: &str,
    next_track_no: &mut i64,
) -> Result<()> {
    let _ = ids; // entry IDs are uuids, as pyrekordbox makes them
    let id = uuid::Uuid::new_v4().to_string();
    let track_no = *next_track_no;
    *next_track_no += 1;
    let playlist_id = plan.playlist_id.clone();
    plan.push(
        "created",
        "djmdSongPlaylist",
        &id,
        format!("{shown} at position {track_no} of playlist {playlist_id}"),
        Op::InsertEntry {
            id: id.clone(),
            playlist_id,
            content_id: content_id.to_string(),
            track_no,
        },
    );
    Ok(())
}

fn content_row(input: &Input, id: &str, uuid: &str, date: &str) -> ContentRow {
    ContentRow {
        id: id.to_string(),
        uuid: uuid.to_string(),
        folder_path: input.folder_path.clone(),
        file_name: input.file_name.clone(),
        title: input.title.clone(),
        key_id: "0".into(),
        bpm_x100: input.bpm_x100,
        length_secs: input.length_secs,
        bitrate: input.bitrate,
        bit_depth: input.bit_depth,
        sample_rate: input.sample_rate,
        file_type: input.format.file_type_code(),
        file_size: input.file_size,
        rating: Some(0),
        play_count: Some(0),
        comment: input.comment.clone(),
        color_id: "0".into(),
        isrc: input.isrc.clone().unwrap_or_default(),
        release_year: input.release_year,
        date: date.to_string(),
        ..ContentRow::default()
    }
}

/// Plans moving every row of the old track to the new one.
fn plan_takeover(
    conn: &Connection,
    path: &Path,
    plan: &mut Plan,
    old: &OldTrack,
    new_id: &str,
    new_uuid: &str,
) -> Result<Takeover> {
    let err = |e| RekordboxError::from_sqlite(path, "planning the upgrade", e);
    let mut cues_moved = 0;
    let mut entries_moved = 0;
    let mut cue_points = Vec::new();
    for (table, has_uuid) in schema::TAKE_OVER {
        if *table == "contentCue" {
            let mut stmt = conn
                .prepare("SELECT ID, Cues FROM contentCue WHERE ContentID = ?1")
                .map_err(err)?;
            let rows: Vec<(String, Option<String>)> = stmt
                .query_map([&old.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(err)?
                .collect::<std::result::Result<_, _>>()
                .map_err(err)?;
            for (id, cues) in rows {
                let cues_json = cues
                    .map(|j| rewrite_cue_json(&j, &old.id, old.uuid.as_deref(), new_id, new_uuid));
                plan.push(
                    "moved",
                    "contentCue",
                    &id,
                    format!("cue list copy of track {} to track {new_id}", old.id),
                    Op::RewriteContentCue {
                        id: id.clone(),
                        to_content: new_id.to_string(),
                        cues_json,
                    },
                );
            }
            continue;
        }
        let is_cue = *table == "djmdCue";
        let sql = if is_cue {
            "SELECT ID, Kind, InMsec FROM djmdCue WHERE ContentID = ?1 ORDER BY InMsec, ID"
                .to_string()
        } else {
            format!("SELECT ID, NULL, NULL FROM {table} WHERE ContentID = ?1 ORDER BY ID")
        };
        let mut stmt = conn.prepare(&sql).map_err(err)?;
        let rows: Vec<(String, Option<i64>, Option<i64>)> = stmt
            .query_map([&old.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?
            .collect::<std::result::Result<_, _>>()
            .map_err(err)?;
        for (id, kind, in_msec) in rows {
            let detail = if is_cue {
                cues_moved += 1;
                cue_points.push((kind, in_msec.unwrap_or(0)));
                let what = match kind.and_then(crate::library::hot_cue_slot) {
                    Some(s) => format!("hot cue {}", (b'A' + s) as char),
                    None => "memory cue".into(),
                };
                format!(
                    "{what} at {:.3} s from track {} to track {new_id}",
                    in_msec.unwrap_or(0) as f64 / 1000.0,
                    old.id
                )
            } else {
                if *table == "djmdSongPlaylist" {
                    entries_moved += 1;
                }
                format!("from track {} to track {new_id}", old.id)
            };
            plan.push(
                "moved",
                table,
                &id,
                detail,
                Op::Repoint {
                    table,
                    id: id.clone(),
                    to_content: new_id.to_string(),
                    to_uuid: has_uuid.then(|| new_uuid.to_string()),
                    is_cue,
                },
            );
        }
    }
    for table in schema::DROP_WITH_OLD_FILE {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT ID FROM {table} WHERE ContentID = ?1 ORDER BY ID"
            ))
            .map_err(err)?;
        let rows: Vec<String> = stmt
            .query_map([&old.id], |r| r.get(0))
            .map_err(err)?
            .collect::<std::result::Result<_, _>>()
            .map_err(err)?;
        for id in rows {
            plan.push(
                "deleted",
                table,
                &id,
                format!("analysis data of the replaced file (track {})", old.id),
                Op::Delete {
                    table,
                    id: id.clone(),
                },
            );
        }
    }
    plan.push(
        "deleted",
        "djmdContent",
        &old.id,
        "the replaced track (its file is moved aside, not deleted)".into(),
        Op::Delete {
            table: "djmdContent",
            id: old.id.clone(),
        },
    );
    Ok(Takeover {
        cues_moved,
        entries_moved,
        cue_points,
    })
}

/// What moving an old track's rows planned.
struct Takeover {
    cues_moved: usize,
    entries_moved: usize,
    /// (`Kind`, `InMsec`) of the moved cues, so new cues do not double them.
    cue_points: Vec<(Option<i64>, i64)>,
}

/// `contentCue.Cues` is a JSON copy of the track's cue rows (CueGen's shape): point its
/// `ContentID`/`ContentUUID` fields at the new track. Text that is not JSON is kept as is.
fn rewrite_cue_json(
    json: &str,
    old_id: &str,
    old_uuid: Option<&str>,
    new_id: &str,
    new_uuid: &str,
) -> String {
    fn walk(
        v: &mut serde_json::Value,
        old_id: &str,
        old_uuid: Option<&str>,
        new_id: &str,
        new_uuid: &str,
    ) {
        match v {
            serde_json::Value::Array(a) => a
                .iter_mut()
                .for_each(|x| walk(x, old_id, old_uuid, new_id, new_uuid)),
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    match (k.as_str(), &*x) {
                        ("ContentID", serde_json::Value::String(s)) if s == old_id => {
                            *x = serde_json::Value::String(new_id.into());
                        }
                        ("ContentUUID", serde_json::Value::String(s))
                            if Some(s.as_str()) == old_uuid =>
                        {
                            *x = serde_json::Value::String(new_uuid.into());
                        }
                        _ => walk(x, old_id, old_uuid, new_id, new_uuid),
                    }
                }
            }
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(mut v) => {
            walk(&mut v, old_id, old_uuid, new_id, new_uuid);
            v.to_string()
        }
        Err(_) => json.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Applying

fn apply(conn: &Connection, path: &Path, plan: &Plan, fail_after: Option<u64>) -> Result<()> {
    let err = |e| RekordboxError::from_sqlite(path, "writing the session", e);
    let ts = plan.now.as_str();
    let mut applied = 0u64;
    for ch in &plan.changes {
        if fail_after == Some(applied) {
            return Err(RekordboxError::InjectedFailure { changes: applied });
        }
        let usn = ch.usn;
        match &ch.op {
            Op::None => {}
            Op::InsertNamed { table, id, name } => {
                let sql = format!(
                    "INSERT INTO {table} (ID, Name, UUID, rb_data_status, rb_local_data_status, \
                     rb_local_deleted, rb_local_synced, usn, rb_local_usn, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, 0, 0, 0, 0, NULL, ?4, ?5, ?5)"
                );
                conn.prepare_cached(&sql)
                    .and_then(|mut s| {
                        s.execute(params![id, name, uuid::Uuid::new_v4().to_string(), usn, ts])
                    })
                    .map_err(err)?;
            }
            Op::InsertAlbum {
                id,
                name,
                artist_id,
            } => {
                conn.prepare_cached(
                    "INSERT INTO djmdAlbum (ID, Name, AlbumArtistID, UUID, rb_data_status, \
                     rb_local_data_status, rb_local_deleted, rb_local_synced, usn, rb_local_usn, \
                     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 0, 0, 0, 0, NULL, ?5, ?6, ?6)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id,
                        name,
                        artist_id,
                        uuid::Uuid::new_v4().to_string(),
                        usn,
                        ts
                    ])
                })
                .map_err(err)?;
            }
            Op::InsertKey { id, name, seq } => {
                conn.prepare_cached(
                    "INSERT INTO djmdKey (ID, ScaleName, Seq, UUID, rb_data_status, \
                     rb_local_data_status, rb_local_deleted, rb_local_synced, usn, rb_local_usn, \
                     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 0, 0, 0, 0, NULL, ?5, ?6, ?6)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id,
                        name,
                        seq,
                        uuid::Uuid::new_v4().to_string(),
                        usn,
                        ts
                    ])
                })
                .map_err(err)?;
            }
            Op::InsertContent(r) => {
                conn.prepare_cached(
                    "INSERT INTO djmdContent (ID, FolderPath, FileNameL, FileNameS, Title, ArtistID, \
                     AlbumID, GenreID, LabelID, KeyID, BPM, Length, BitRate, BitDepth, SampleRate, \
                     FileType, FileSize, Rating, DJPlayCount, Commnt, ColorID, ISRC, ReleaseYear, \
                     StockDate, DateCreated, ContentLink, DeviceID, MasterDBID, MasterSongID, \
                     HotCueAutoLoad, rb_file_id, UUID, rb_data_status, rb_local_data_status, \
                     rb_local_deleted, rb_local_synced, usn, rb_local_usn, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                     ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?23, ?24, ?25, ?26, ?1, 'on', ?27, ?28, \
                     0, 0, 0, 0, NULL, ?29, ?30, ?30)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        r.id,
                        r.folder_path,
                        r.file_name,
                        r.title,
                        r.artist_id,
                        r.album_id,
                        r.genre_id,
                        r.label_id,
                        r.key_id,
                        r.bpm_x100,
                        r.length_secs,
                        r.bitrate,
                        r.bit_depth,
                        r.sample_rate,
                        r.file_type,
                        r.file_size,
                        r.rating,
                        r.play_count,
                        r.comment,
                        r.color_id,
                        r.isrc,
                        r.release_year,
                        r.date,
                        r.content_link,
                        r.device_id,
                        r.master_db_id,
                        r.rb_file_id,
                        r.uuid,
                        usn,
                        ts
                    ])
                })
                .map_err(err)?;
            }
            Op::UpdateContentFile { id, row } => {
                conn.prepare_cached(
                    "UPDATE djmdContent SET FileType = ?2, BitRate = COALESCE(?3, BitRate), \
                     BitDepth = COALESCE(?4, BitDepth), SampleRate = COALESCE(?5, SampleRate), \
                     FileSize = COALESCE(?6, FileSize), Length = COALESCE(?7, Length), \
                     rb_local_usn = ?8, updated_at = ?9 WHERE ID = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id,
                        row.file_type,
                        row.bitrate,
                        row.bit_depth,
                        row.sample_rate,
                        row.file_size,
                        row.length_secs,
                        usn,
                        ts
                    ])
                })
                .map_err(err)?;
            }
            Op::InsertCue(c) => {
                conn.prepare_cached(
                    "INSERT INTO djmdCue (ID, ContentID, InMsec, InFrame, InMpegFrame, InMpegAbs, \
                     OutMsec, OutFrame, OutMpegFrame, OutMpegAbs, Kind, Color, ColorTableIndex, \
                     ActiveLoop, Comment, BeatLoopSize, CueMicrosec, ContentUUID, UUID, \
                     rb_data_status, rb_local_data_status, rb_local_deleted, rb_local_synced, usn, \
                     rb_local_usn, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6, 0, \
                     0, ?7, ?8, ?9, ?10, ?11, 0, 0, ?12, ?13, 0, 0, 0, 0, NULL, ?14, ?15, ?15)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        c.id,
                        c.content_id,
                        c.in_msec,
                        frames_150(c.in_msec),
                        c.out_msec,
                        if c.out_msec > 0 { frames_150(c.out_msec) } else { 0 },
                        c.kind,
                        c.color,
                        c.color_table_index,
                        c.active_loop,
                        c.comment,
                        c.content_uuid,
                        c.uuid,
                        usn,
                        ts
                    ])
                })
                .map_err(err)?;
            }
            Op::InsertPlaylist { id, name, seq } => {
                conn.prepare_cached(
                    "INSERT INTO djmdPlaylist (ID, Seq, Name, ImagePath, Attribute, ParentID, \
                     SmartList, UUID, rb_data_status, rb_local_data_status, rb_local_deleted, \
                     rb_local_synced, usn, rb_local_usn, created_at, updated_at) VALUES (?1, ?2, ?3, \
                     NULL, 0, 'root', NULL, ?4, 0, 0, 0, 0, NULL, ?5, ?6, ?6)",
                )
                .and_then(|mut s| s.execute(params![id, seq, name, uuid::Uuid::new_v4().to_string(), usn, ts]))
                .map_err(err)?;
            }
            Op::TouchPlaylist { id } => {
                conn.prepare_cached(
                    "UPDATE djmdPlaylist SET rb_local_usn = ?2, updated_at = ?3 WHERE ID = ?1",
                )
                .and_then(|mut s| s.execute(params![id, usn, ts]))
                .map_err(err)?;
            }
            Op::InsertEntry {
                id,
                playlist_id,
                content_id,
                track_no,
            } => {
                conn.prepare_cached(
                    "INSERT INTO djmdSongPlaylist (ID, PlaylistID, ContentID, TrackNo, UUID, \
                     rb_data_status, rb_local_data_status, rb_local_deleted, rb_local_synced, usn, \
                     rb_local_usn, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, 0, \
                     NULL, ?6, ?7, ?7)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id,
                        playlist_id,
                        content_id,
                        track_no,
                        uuid::Uuid::new_v4().to_string(),
                        usn,
                        ts
                    ])
                })
                .map_err(err)?;
            }
            Op::Repoint {
                table,
                id,
                to_content,
                to_uuid,
                is_cue,
            } => {
                // Seek offsets into the old MPEG file mean nothing in the new file.
                let mpeg = if *is_cue {
                    "InMpegFrame = 0, InMpegAbs = 0, OutMpegFrame = 0, OutMpegAbs = 0, "
                } else {
                    ""
                };
                let result = match to_uuid {
                    Some(u) => conn
                        .prepare_cached(&format!(
                            "UPDATE {table} SET ContentID = ?2, ContentUUID = ?3, {mpeg}\
                             rb_local_usn = ?4, updated_at = ?5 WHERE ID = ?1"
                        ))
                        .and_then(|mut s| s.execute(params![id, to_content, u, usn, ts])),
                    None => conn
                        .prepare_cached(&format!(
                            "UPDATE {table} SET ContentID = ?2, {mpeg}rb_local_usn = ?3, \
                             updated_at = ?4 WHERE ID = ?1"
                        ))
                        .and_then(|mut s| s.execute(params![id, to_content, usn, ts])),
                };
                result.map_err(err)?;
            }
            Op::RewriteContentCue {
                id,
                to_content,
                cues_json,
            } => {
                conn.prepare_cached(
                    "UPDATE contentCue SET ContentID = ?2, Cues = COALESCE(?3, Cues), \
                     rb_local_usn = ?4, updated_at = ?5 WHERE ID = ?1",
                )
                .and_then(|mut s| s.execute(params![id, to_content, cues_json, usn, ts]))
                .map_err(err)?;
            }
            Op::Delete { table, id } => {
                conn.prepare_cached(&format!("DELETE FROM {table} WHERE ID = ?1"))
                    .and_then(|mut s| s.execute([id]))
                    .map_err(err)?;
            }
        }
        applied += 1;
    }
    if fail_after == Some(applied) {
        return Err(RekordboxError::InjectedFailure { changes: applied });
    }
    conn.prepare_cached(
        "UPDATE agentRegistry SET int_1 = ?1, updated_at = ?2 WHERE registry_id = 'localUpdateCount'",
    )
    .and_then(|mut s| s.execute(params![plan.usn, ts]))
    .map_err(err)?;
    Ok(())
}

/// Milliseconds → Rekordbox's 1/150-second frames.
fn frames_150(ms: i64) -> i64 {
    ms * 150 / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_paths_are_absolute_with_forward_slashes() {
        assert_eq!(
            folder_path(Path::new("/Users/a/b c.mp3")).unwrap(),
            "/Users/a/b c.mp3"
        );
        assert_eq!(
            folder_path(Path::new("C:\\Music\\x.flac")).unwrap(),
            "C:/Music/x.flac"
        );
        assert!(folder_path(Path::new("relative/x.mp3")).is_err());
        assert!(folder_path(Path::new("/x/")).is_err());
        assert!(folder_path(Path::new("/a\nb.mp3")).is_err());
    }

    #[test]
    fn file_types_follow_the_extension() {
        assert_eq!(
            AudioFormat::from_extension("MP3").unwrap().file_type_code(),
            1
        );
        assert_eq!(
            AudioFormat::from_extension("m4a").unwrap().file_type_code(),
            4
        );
        assert_eq!(
            AudioFormat::from_extension("flac")
                .unwrap()
                .file_type_code(),
            5
        );
        assert_eq!(AudioFormat::Alac.file_type_code(), 6);
        assert_eq!(
            AudioFormat::from_extension("wav").unwrap().file_type_code(),
            11
        );
        assert_eq!(
            AudioFormat::from_extension("aiff")
                .unwrap()
                .file_type_code(),
            12
        );
        assert!(AudioFormat::from_extension("ogg").is_none());
    }

    #[test]
    fn validation_refuses_bad_tracks_by_index() {
        let good = FiledTrack {
            path: "/m/a.wav".into(),
            title: "A".into(),
            sample_rate_hz: Some(44_100),
            bit_depth: Some(24),
            bpm: Some(127.996),
            duration_ms: Some(172_499),
            ..FiledTrack::default()
        };
        let v = validate(std::slice::from_ref(&good)).unwrap();
        assert_eq!(v[0].bitrate, Some(2116));
        assert_eq!(v[0].bpm_x100, Some(12800));
        assert_eq!(v[0].length_secs, Some(172));
        assert_eq!(v[0].format, AudioFormat::Wav);
        let cases = [
            FiledTrack {
                path: "/m/a.ogg".into(),
                ..good.clone()
            },
            FiledTrack {
                bpm: Some(f64::NAN),
                ..good.clone()
            },
            FiledTrack {
                cues: vec![CueSpec {
                    hot_cue: Some(9),
                    ..CueSpec::default()
                }],
                ..good.clone()
            },
            FiledTrack {
                cues: vec![CueSpec {
                    start_ms: 10,
                    end_ms: Some(5),
                    ..CueSpec::default()
                }],
                ..good.clone()
            },
        ];
        for (i, bad) in cases.iter().enumerate() {
            let e = validate(&[good.clone(), bad.clone()]);
            assert!(
                matches!(e, Err(RekordboxError::InvalidTrack { index: 1, .. })),
                "case {i}: {e:?}"
            );
        }
        let dup = validate(&[good.clone(), good.clone()]).unwrap_err();
        assert!(dup.to_string().contains("twice"), "{dup}");
    }

    #[test]
    fn timestamps_look_like_rekordbox_ones() {
        let t = DateTime::parse_from_rfc3339("2022-04-09T21:37:45.685Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rekordbox_timestamp(t), "2022-04-09 21:37:45.685 +00:00");
    }

    #[test]
    fn cue_json_is_repointed() {
        let j = r#"[{"ID":"1","ContentID":"10","ContentUUID":"u-old","InMsec":5}]"#;
        let out = rewrite_cue_json(j, "10", Some("u-old"), "20", "u-new");
        assert!(out.contains("\"ContentID\":\"20\""), "{out}");
        assert!(out.contains("\"ContentUUID\":\"u-new\""), "{out}");
        assert_eq!(
            rewrite_cue_json("not json", "10", None, "20", "x"),
            "not json"
        );
    }
}
