//! Rekordbox 6/7 integration: the DJ opens Rekordbox and the tracks cratedigger filed are
//! there, in a playlist named after the sync, with the right BPM and key — and nothing in
//! their library is ever corrupted or lost.
//!
//! - [`Library::read`] reads master.db read-only (tracks, artists, albums, labels, genres,
//!   keys, playlists, cue points); [`import_pg::import_library`] mirrors it into Postgres.
//! - [`RekordboxWriter`] writes filed tracks the way Rekordbox does: content rows, lookup rows
//!   reused or created, cues, a playlist per sync, the local USN protocol, masterPlaylists6.xml
//!   kept in step, cues and curation taken over on upgrades. One transaction per session,
//!   a backup before it, an integrity check after, never while Rekordbox runs.
//! - [`backup`]: backups and verified restores; [`xml`]: Rekordbox XML export and parsing.
//!
//! Everything that touches master.db is blocking (SQLite): async callers use
//! `tokio::task::spawn_blocking`, or [`import_pg::write_session_locked`] which also holds the
//! fleet-wide writer lock. The format, the USN protocol and what breaks libraries are
//! documented in `../shared/notes/rekordbox.md`; the user-facing side in `docs/rekordbox.md`.
//!
//! Invariant: master.db is opened read-write only inside a write session or a restore, and
//! only after the Rekordbox process check; every other path opens it read-only.

#![warn(missing_docs)]

pub mod backup;
pub mod config;
pub mod db;
mod error;
pub mod import_pg;
pub mod library;
pub mod master_playlists;
pub mod process;
pub mod schema;
#[cfg(feature = "testing")]
pub mod testing;
pub mod write;
pub mod xml;

pub use config::{Cipher, DbKey, RekordboxConfig};
pub use error::{RekordboxError, Result};
pub use library::{Cue, Library, LibraryCounts, Track};
pub use process::{FixedProbe, ProcessProbe, SystemProbe};
pub use write::{AudioFormat, CueSpec, FiledTrack, RekordboxWriter, WriteReport};
