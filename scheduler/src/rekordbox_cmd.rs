//! `cratedigger rekordbox ...`: the DJ's side of the Rekordbox integration. Runs locally on
//! the machine that has the library (no scheduler needed); `import` and `write` also use
//! Postgres (the mirror, and the fleet-wide writer lock).
//!
//! Configuration: `[rekordbox]` (db_path, backup_dir, backup_keep, ...) in the config file or
//! `CRATEDIGGER__REKORDBOX__*`; the key only from `CRATEDIGGER__REKORDBOX__DB_KEY`. Keys are
//! written in `rekordbox.key_notation`, or `matching.key_notation` when that is not set.

use clap::Subcommand;
use cratedigger_rekordbox::backup::{self, Backup};
use cratedigger_rekordbox::import_pg::{import_from_config, write_session_locked};
use cratedigger_rekordbox::xml::{collection_from_library, write_xml};
use cratedigger_rekordbox::{
    FiledTrack, Library, RekordboxConfig, RekordboxWriter, SystemProbe, WriteReport,
};
use cratedigger_store::Store;
use cratedigger_workers::Settings;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Largest `write --tracks` file read (a 10,000-track session is ~10 MB of JSON).
const MAX_TRACKS_FILE: u64 = 64 * 1024 * 1024;

/// `rekordbox` actions.
#[derive(Debug, Subcommand)]
pub enum RekordboxAction {
    /// Read the library (read-only) into Postgres: tracks, artists, albums, labels, genres,
    /// keys, playlists and cue points. Prints what it found.
    Import {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Write filed tracks (a JSON list of FiledTrack) into the library and into a playlist:
    /// refused while Rekordbox runs; backs up first; one transaction.
    Write {
        /// JSON file: `[{"path": "/Music/a.flac", "title": ..., "cues": [...]}, ...]`.
        #[arg(long)]
        tracks: PathBuf,
        /// Playlist the tracks go into (created at the top level if missing).
        #[arg(long)]
        playlist: String,
        /// Print every planned change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Export the library as Rekordbox XML (collection, cues with hot-cue colours, playlists),
    /// for importing through Rekordbox's "rekordbox xml" node. Works while Rekordbox runs.
    ExportXml {
        /// Output file (`-` or nothing: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Back up master.db (+ -wal, -shm) and masterPlaylists6.xml now, and verify the copy.
    Backup {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Put a backup back (a folder path, or a name from the list). Without BACKUP: list the
    /// backups, newest first.
    Restore {
        /// The backup folder or its name.
        backup: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Create an empty library from Rekordbox's schema scripts (for trying cratedigger, and
    /// end-to-end tests); encrypted with the configured key unless `plaintext` is set.
    #[command(hide = true)]
    CreateTestDb {
        /// Where to create it (must not exist).
        path: PathBuf,
        /// The DDL (e.g. ../shared/rekordbox/master_db_schema.sql).
        #[arg(long)]
        schema: PathBuf,
        /// Seed rows (e.g. ../shared/rekordbox/master_db_seed_reference_rows.sql).
        #[arg(long)]
        seed: PathBuf,
    },
}

/// Runs one action. Errors are sentences from the rekordbox crate.
pub async fn run(
    action: RekordboxAction,
    config_file: Option<&Path>,
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let mut cfg = RekordboxConfig::load(config_file)?;
    if cfg.key_notation.is_none() {
        cfg.key_notation = Some(settings.matching.key_notation);
    }
    match action {
        RekordboxAction::Import { json } => {
            let store = Store::connect(&settings.database.url, 2).await?;
            store.migrate().await?;
            let s = import_from_config(store.pool(), &cfg).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                let c = &s.counts;
                println!(
                    "imported {} (library {}), read-only",
                    s.db_path, s.library_id
                );
                println!(
                    "  tracks {}, artists {}, albums {}, labels {}, genres {}, keys {}",
                    c.tracks, c.artists, c.albums, c.labels, c.genres, c.keys
                );
                println!(
                    "  playlists {} ({} entries), cues {} (hot {}, memory {}, loops {})",
                    c.playlists, c.playlist_entries, c.cues, c.hot_cues, c.memory_cues, c.loops
                );
                println!("  import run {}", s.run_id);
            }
        }
        RekordboxAction::Write {
            tracks,
            playlist,
            dry_run,
            json,
        } => {
            let filed = read_tracks(&tracks)?;
            let open_cfg = cfg.clone();
            let writer =
                tokio::task::spawn_blocking(move || RekordboxWriter::open(open_cfg)).await??;
            let writer = Arc::new(writer);
            let report = if dry_run {
                tokio::task::spawn_blocking(move || writer.write_session(&filed, &playlist, true))
                    .await??
            } else {
                let store = Store::connect(&settings.database.url, 2).await?;
                write_session_locked(store.pool(), writer, filed, playlist, false).await?
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", render_report(&report));
            }
        }
        RekordboxAction::ExportXml { out } => {
            let path = cfg.db_path()?.to_path_buf();
            let cipher = cfg.cipher()?;
            let busy = Duration::from_millis(cfg.busy_timeout_ms);
            let lib =
                tokio::task::spawn_blocking(move || Library::read(&path, &cipher, busy)).await??;
            let xml = write_xml(&collection_from_library(&lib), env!("CARGO_PKG_VERSION"))?;
            match out.filter(|p| p.as_os_str() != "-") {
                None => print!("{xml}"),
                Some(p) => {
                    let tmp = p.with_extension("xml.partial");
                    std::fs::write(&tmp, &xml)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
                    std::fs::rename(&tmp, &p)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
                    eprintln!(
                        "wrote {} ({} tracks); import it in Rekordbox through the \"rekordbox xml\" node",
                        p.display(),
                        lib.tracks.len()
                    );
                }
            }
        }
        RekordboxAction::Backup { json } => {
            let b = tokio::task::spawn_blocking(move || -> anyhow::Result<Backup> {
                let running =
                    cratedigger_rekordbox::ProcessProbe::rekordbox_processes(&SystemProbe);
                if !running.is_empty() {
                    anyhow::bail!(
                        "{} is running: a copy taken while it writes may be inconsistent. Close \
                         Rekordbox and run the backup again (nothing was copied)",
                        running.join(" and ")
                    );
                }
                let b = backup::create_backup(&cfg, "manual")?;
                backup::verify_backup(&cfg, &b.dir)?;
                Ok(b)
            })
            .await??;
            if json {
                println!("{}", serde_json::to_string_pretty(&b)?);
            } else {
                println!("backed up to {}", b.dir.display());
                for f in &b.manifest.files {
                    println!("  {} ({} bytes)", f.name, f.size);
                }
                println!("verified: it opens with the key and passes SQLite's integrity check");
                println!(
                    "restore it with: cratedigger rekordbox restore '{}'",
                    b.dir.display()
                );
            }
        }
        RekordboxAction::Restore { backup: None, json } => {
            let list = backup::list_backups(&cfg.backup_dir()?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no backups in {}", cfg.backup_dir()?.display());
            } else {
                println!("backups in {} (newest first):", cfg.backup_dir()?.display());
                for b in &list {
                    let size: u64 = b.manifest.files.iter().map(|f| f.size).sum();
                    println!(
                        "  {}  {}  {}  {} files, {} bytes",
                        b.dir
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default(),
                        b.manifest.created_at,
                        b.manifest.reason,
                        b.manifest.files.len(),
                        size
                    );
                }
                println!("restore one with: cratedigger rekordbox restore <name>");
            }
        }
        RekordboxAction::Restore {
            backup: Some(which),
            json,
        } => {
            let r = tokio::task::spawn_blocking(move || {
                let dir = backup::resolve_backup(&cfg, &which)?;
                backup::restore_backup(&cfg, &dir, &SystemProbe)
            })
            .await??;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "restored {} from {} (verified before and after)",
                    r.files.join(", "),
                    r.restored_from.display()
                );
                println!(
                    "the library it replaced was saved to {}; undo with: cratedigger rekordbox restore '{}'",
                    r.previous_saved_to.display(),
                    r.previous_saved_to.display()
                );
            }
        }
        RekordboxAction::CreateTestDb { path, schema, seed } => {
            let read = |p: &Path| {
                std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
            };
            let (schema, seed) = (read(&schema)?, read(&seed)?);
            cratedigger_rekordbox::db::create_from_sql(&path, &cfg.cipher()?, &[&schema, &seed])?;
            println!("created {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and validates the `--tracks` JSON (bounded; errors name the field).
fn read_tracks(path: &Path) -> anyhow::Result<Vec<FiledTrack>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if meta.len() > MAX_TRACKS_FILE {
        anyhow::bail!(
            "{} is {} bytes, more than the {} MiB a track list may have; nothing was changed",
            path.display(),
            meta.len(),
            MAX_TRACKS_FILE / 1024 / 1024
        );
    }
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a list of filed tracks (at {}: {}); nothing was changed",
            path.display(),
            e.path(),
            e.inner()
        )
    })
}

/// The human summary of a write session; a dry run lists every planned change.
pub fn render_report(r: &WriteReport) -> String {
    let mut s = String::new();
    let verb = if r.dry_run { "would write" } else { "wrote" };
    let added = r.tracks.iter().filter(|t| t.outcome == "added").count();
    let present = r
        .tracks
        .iter()
        .filter(|t| t.outcome == "already-present")
        .count();
    let upgraded = r.tracks.iter().filter(|t| t.replaced.is_some()).count();
    s.push_str(&format!(
        "{verb} {} tracks into {} ({} new, {} already there, {} upgrades) in playlist '{}'{}\n",
        r.tracks.len(),
        r.db_path.display(),
        added,
        present,
        upgraded,
        r.playlist_name,
        if r.playlist_created { " (new)" } else { "" }
    ));
    s.push_str(&format!(
        "local update count {} -> {} ({} changes)\n",
        r.usn_before,
        r.usn_after,
        r.changes.len()
    ));
    if r.dry_run {
        s.push_str("planned changes:\n");
        for c in &r.changes {
            s.push_str(&format!("  {c}\n"));
        }
        s.push_str("dry run: nothing was written\n");
    } else {
        if let Some(b) = &r.backup_dir {
            s.push_str(&format!("backup before writing: {}\n", b.display()));
        }
        s.push_str(&format!(
            "masterPlaylists6.xml: {}\n",
            r.master_playlists_xml
        ));
        for t in &r.tracks {
            if let Some(rep) = &t.replaced {
                s.push_str(&format!(
                    "  upgraded {} -> {}: {} cues and {} playlist entries kept; old file {}\n",
                    rep.old_path,
                    t.path,
                    rep.cues_taken_over,
                    rep.playlist_entries_taken_over,
                    rep.old_file_moved_to
                        .as_ref()
                        .map(|p| format!("moved to {}", p.display()))
                        .unwrap_or_else(|| "not moved".into())
                ));
            }
        }
    }
    for w in &r.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}
