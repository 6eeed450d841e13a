//! A read-only snapshot of a Rekordbox library: what the import copies into Postgres and the
//! XML export writes out. Values are kept as Rekordbox stores them (BPM x 100, whole
//! seconds, raw cue `Kind`), with small helpers for the derived meaning.

use crate::config::Cipher;
use crate::db::{self, OpenMode};
use crate::error::{RekordboxError, Result};
use crate::schema;
use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Everything the import needs from one master.db.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Library {
    /// `djmdProperty.DBID`: identifies this library (a DJ may have several).
    pub library_id: String,
    /// `agentRegistry.localUpdateCount`: the last local USN handed out.
    pub local_update_count: i64,
    /// `djmdContent`.
    pub tracks: Vec<Track>,
    /// `djmdArtist`.
    pub artists: Vec<Named>,
    /// `djmdAlbum`.
    pub albums: Vec<Album>,
    /// `djmdLabel`.
    pub labels: Vec<Named>,
    /// `djmdGenre`.
    pub genres: Vec<Named>,
    /// `djmdKey`.
    pub keys: Vec<KeyRow>,
    /// `djmdPlaylist` (folders, playlists, smart playlists).
    pub playlists: Vec<Playlist>,
    /// `djmdSongPlaylist`.
    pub playlist_entries: Vec<PlaylistEntry>,
    /// `djmdCue` (memory cues, hot cues, loops).
    pub cues: Vec<Cue>,
}

/// A row of `djmdArtist`, `djmdLabel` or `djmdGenre`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// Rekordbox ID (a decimal string).
    pub id: String,
    /// Name as stored.
    pub name: String,
}

/// A row of `djmdAlbum`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Album {
    /// Rekordbox ID.
    pub id: String,
    /// Album title.
    pub name: String,
    /// `AlbumArtistID` (an artist ID), when set.
    pub album_artist_id: Option<String>,
}

/// A row of `djmdKey`: a key spelling as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    /// Rekordbox ID.
    pub id: String,
    /// Free text (`Am`, `8A`, `Emin`, ...).
    pub scale_name: String,
    /// Ordering.
    pub seq: Option<i64>,
}

/// A row of `djmdContent`, the fields cratedigger uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Rekordbox ID (decimal string).
    pub id: String,
    /// `UUID`; cues refer to it too.
    pub uuid: Option<String>,
    /// `FolderPath`: the full path of the file, forward slashes.
    pub path: String,
    /// `FileNameL`.
    pub file_name: Option<String>,
    /// `Title`.
    pub title: Option<String>,
    /// `ArtistID`.
    pub artist_id: Option<String>,
    /// `AlbumID`.
    pub album_id: Option<String>,
    /// `GenreID`.
    pub genre_id: Option<String>,
    /// `LabelID`.
    pub label_id: Option<String>,
    /// `KeyID` (`None` for Rekordbox's `'0'`, no key).
    pub key_id: Option<String>,
    /// `RemixerID`.
    pub remixer_id: Option<String>,
    /// `BPM`: beats per minute x 100.
    pub bpm_x100: Option<i64>,
    /// `Length`: whole seconds.
    pub length_secs: Option<i64>,
    /// `TrackNo`.
    pub track_no: Option<i64>,
    /// `BitRate` in kbps.
    pub bitrate: Option<i64>,
    /// `BitDepth`.
    pub bit_depth: Option<i64>,
    /// `SampleRate` in Hz.
    pub sample_rate: Option<i64>,
    /// `FileType` code (1 MP3, 4 M4A, 5 FLAC, 6 ALAC, 11 WAV, 12 AIFF, ...).
    pub file_type: Option<i64>,
    /// `FileSize` in bytes.
    pub file_size: Option<i64>,
    /// `Rating` (stars).
    pub rating: Option<i64>,
    /// `DJPlayCount`.
    pub play_count: Option<i64>,
    /// `Commnt`.
    pub comment: Option<String>,
    /// `ColorID` (`None` for `'0'`, no colour; `1`-`8` Pink ... Purple).
    pub color_id: Option<String>,
    /// `ISRC`.
    pub isrc: Option<String>,
    /// `ReleaseYear`.
    pub release_year: Option<i64>,
    /// `StockDate` (`YYYY-MM-DD`).
    pub stock_date: Option<String>,
    /// `DateCreated` (`YYYY-MM-DD`).
    pub date_created: Option<String>,
    /// `rb_local_usn`.
    pub rb_local_usn: Option<i64>,
    /// `created_at` as stored (text).
    pub created_at: Option<String>,
    /// `updated_at` as stored (text).
    pub updated_at: Option<String>,
}

/// A row of `djmdPlaylist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playlist {
    /// Rekordbox ID.
    pub id: String,
    /// Position among its siblings (1-based).
    pub seq: Option<i64>,
    /// Name.
    pub name: String,
    /// 0 playlist, 1 folder, 4 smart playlist, -128 special.
    pub attribute: i64,
    /// Parent folder ID or `root`.
    pub parent_id: String,
}

impl Playlist {
    /// A folder holds playlists, not tracks.
    pub fn is_folder(&self) -> bool {
        self.attribute == 1
    }
}

/// A row of `djmdSongPlaylist`: a track at a position in a playlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistEntry {
    /// Row ID (a uuid).
    pub id: String,
    /// `PlaylistID`.
    pub playlist_id: String,
    /// `ContentID`.
    pub content_id: String,
    /// 1-based position.
    pub track_no: Option<i64>,
}

/// A row of `djmdCue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cue {
    /// Rekordbox ID.
    pub id: String,
    /// `ContentID`.
    pub content_id: String,
    /// `ContentUUID` (must equal the track's UUID).
    pub content_uuid: Option<String>,
    /// Start in ms.
    pub in_msec: i64,
    /// Loop end in ms; `None` when not a loop (Rekordbox stores -1).
    pub out_msec: Option<i64>,
    /// Raw `Kind`: 0 memory cue, otherwise a hot-cue slot (see [`hot_cue_slot`]).
    pub kind: i64,
    /// `Color`: memory-cue colour index 0-7, -1 none.
    pub color: Option<i64>,
    /// `ColorTableIndex`: hot-cue colour in Rekordbox's hot-cue palette.
    pub color_table_index: Option<i64>,
    /// `ActiveLoop`.
    pub active_loop: Option<i64>,
    /// `Comment`: the cue's name.
    pub comment: Option<String>,
    /// `BeatLoopSize`.
    pub beat_loop_size: Option<i64>,
}

impl Cue {
    /// The hot-cue slot (0 = A ... 7 = H), `None` for memory cues or a `Kind` we do not know.
    pub fn hot_cue_slot(&self) -> Option<u8> {
        hot_cue_slot(self.kind)
    }

    /// True for a loop (an end after the start).
    pub fn is_loop(&self) -> bool {
        self.out_msec.is_some()
    }
}

/// Hot-cue slot → `djmdCue.Kind`, as CueGen writes them (A=1, B=2, C=3, D=5 ... H=9; 4 is
/// skipped). [unverified against a library with hot cues A-H: see the notes §2.2.]
pub const HOT_CUE_KINDS: [i64; 8] = [1, 2, 3, 5, 6, 7, 8, 9];

/// `Kind` → hot-cue slot (0 = A), `None` for memory cues (0, and 4 which CueGen uses for
/// memory loops) and unknown values.
pub fn hot_cue_slot(kind: i64) -> Option<u8> {
    HOT_CUE_KINDS
        .iter()
        .position(|k| *k == kind)
        .and_then(|i| u8::try_from(i).ok())
}

/// Counts printed by `rekordbox import`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryCounts {
    /// Tracks.
    pub tracks: usize,
    /// Artists.
    pub artists: usize,
    /// Albums.
    pub albums: usize,
    /// Labels.
    pub labels: usize,
    /// Genres.
    pub genres: usize,
    /// Keys.
    pub keys: usize,
    /// Playlists and folders.
    pub playlists: usize,
    /// Playlist entries.
    pub playlist_entries: usize,
    /// All cues.
    pub cues: usize,
    /// Hot cues among them.
    pub hot_cues: usize,
    /// Memory cues among them.
    pub memory_cues: usize,
    /// Loops (hot or memory).
    pub loops: usize,
}

impl Library {
    /// Reads the library at `path` read-only: the file cannot be changed through this
    /// connection, whatever happens.
    pub fn read(path: &Path, cipher: &Cipher, busy: Duration) -> Result<Library> {
        let conn = db::open(path, cipher, OpenMode::ReadOnly, busy)?;
        db::check_schema(&conn, path, schema::READ)?;
        Library::read_from(&conn, path)
    }

    /// Reads from an open connection (also used inside a write session's transaction).
    pub fn read_from(conn: &Connection, path: &Path) -> Result<Library> {
        let err = |e| RekordboxError::from_sqlite(path, "reading the library", e);
        let library_id: String = conn
            .query_row("SELECT DBID FROM djmdProperty LIMIT 1", [], |r| r.get(0))
            .map_err(err)?;
        let local_update_count: i64 = conn
            .query_row(
                "SELECT COALESCE(int_1, 0) FROM agentRegistry WHERE registry_id = 'localUpdateCount'",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        let tracks = collect(conn, path, TRACK_SELECT, track_from_row)?;
        let named = |table: &str| {
            collect(
                conn,
                path,
                &format!("SELECT ID, Name FROM {table} ORDER BY ID"),
                |r| {
                    Ok(Named {
                        id: r.get(0)?,
                        name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    })
                },
            )
        };
        let artists = named("djmdArtist")?;
        let labels = named("djmdLabel")?;
        let genres = named("djmdGenre")?;
        let albums = collect(
            conn,
            path,
            "SELECT ID, Name, AlbumArtistID FROM djmdAlbum ORDER BY ID",
            |r| {
                Ok(Album {
                    id: r.get(0)?,
                    name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    album_artist_id: none_if_zero(r.get(2)?),
                })
            },
        )?;
        let keys = collect(
            conn,
            path,
            "SELECT ID, ScaleName, Seq FROM djmdKey ORDER BY ID",
            |r| {
                Ok(KeyRow {
                    id: r.get(0)?,
                    scale_name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    seq: r.get(2)?,
                })
            },
        )?;
        let playlists = collect(
            conn,
            path,
            "SELECT ID, Seq, Name, COALESCE(Attribute, 0), COALESCE(ParentID, 'root') \
             FROM djmdPlaylist ORDER BY ParentID, Seq, ID",
            |r| {
                Ok(Playlist {
                    id: r.get(0)?,
                    seq: r.get(1)?,
                    name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    attribute: r.get(3)?,
                    parent_id: r.get(4)?,
                })
            },
        )?;
        let playlist_entries = collect(
            conn,
            path,
            "SELECT ID, PlaylistID, ContentID, TrackNo FROM djmdSongPlaylist \
             WHERE PlaylistID IS NOT NULL AND ContentID IS NOT NULL ORDER BY PlaylistID, TrackNo, ID",
            |r| {
                Ok(PlaylistEntry {
                    id: r.get(0)?,
                    playlist_id: r.get(1)?,
                    content_id: r.get(2)?,
                    track_no: r.get(3)?,
                })
            },
        )?;
        let cues = collect(conn, path, CUE_SELECT, cue_from_row)?;
        Ok(Library {
            library_id,
            local_update_count,
            tracks,
            artists,
            albums,
            labels,
            genres,
            keys,
            playlists,
            playlist_entries,
            cues,
        })
    }

    /// What the import prints.
    pub fn counts(&self) -> LibraryCounts {
        LibraryCounts {
            tracks: self.tracks.len(),
            artists: self.artists.len(),
            albums: self.albums.len(),
            labels: self.labels.len(),
            genres: self.genres.len(),
            keys: self.keys.len(),
            playlists: self.playlists.len(),
            playlist_entries: self.playlist_entries.len(),
            cues: self.cues.len(),
            hot_cues: self
                .cues
                .iter()
                .filter(|c| c.hot_cue_slot().is_some())
                .count(),
            memory_cues: self
                .cues
                .iter()
                .filter(|c| c.hot_cue_slot().is_none())
                .count(),
            loops: self.cues.iter().filter(|c| c.is_loop()).count(),
        }
    }

    /// The track stored at `path` (exact `FolderPath`).
    pub fn track_by_path(&self, path: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.path == path)
    }

    /// Cues of one track, by start time.
    pub fn cues_of(&self, content_id: &str) -> Vec<&Cue> {
        let mut v: Vec<&Cue> = self
            .cues
            .iter()
            .filter(|c| c.content_id == content_id)
            .collect();
        v.sort_by_key(|c| (c.in_msec, c.kind));
        v
    }
}

const TRACK_SELECT: &str = "SELECT ID, UUID, FolderPath, FileNameL, Title, ArtistID, AlbumID, \
    GenreID, LabelID, KeyID, RemixerID, BPM, Length, TrackNo, BitRate, BitDepth, SampleRate, \
    FileType, FileSize, Rating, DJPlayCount, Commnt, ColorID, ISRC, ReleaseYear, StockDate, \
    DateCreated, rb_local_usn, created_at, updated_at FROM djmdContent ORDER BY ID";

const CUE_SELECT: &str = "SELECT ID, ContentID, ContentUUID, InMsec, OutMsec, Kind, Color, \
    ColorTableIndex, ActiveLoop, Comment, BeatLoopSize FROM djmdCue \
    WHERE ContentID IS NOT NULL ORDER BY ContentID, InMsec, ID";

fn collect<T>(
    conn: &Connection,
    path: &Path,
    sql: &str,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let err = |e| RekordboxError::from_sqlite(path, "reading the library", e);
    let mut stmt = conn.prepare(sql).map_err(err)?;
    let rows = stmt.query_map([], map).map_err(err)?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(err)
}

/// Rekordbox writes `'0'` (and sometimes `''`) for "no reference".
fn none_if_zero(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty() && s != "0")
}

/// Reads an integer column that some writers fill with text (`DJPlayCount` is VARCHAR in
/// pyrekordbox's models): integers, numeric text, or nothing.
fn lenient_int(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => Some(f.round() as i64),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok()),
        _ => None,
    })
}

/// Reads a text column that may hold an integer (IDs written by other tools).
fn lenient_text(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        _ => None,
    })
}

fn track_from_row(r: &Row<'_>) -> rusqlite::Result<Track> {
    Ok(Track {
        id: lenient_text(r, 0)?.unwrap_or_default(),
        uuid: r.get(1)?,
        path: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        file_name: r.get(3)?,
        title: r.get(4)?,
        artist_id: none_if_zero(lenient_text(r, 5)?),
        album_id: none_if_zero(lenient_text(r, 6)?),
        genre_id: none_if_zero(lenient_text(r, 7)?),
        label_id: none_if_zero(lenient_text(r, 8)?),
        key_id: none_if_zero(lenient_text(r, 9)?),
        remixer_id: none_if_zero(lenient_text(r, 10)?),
        bpm_x100: lenient_int(r, 11)?,
        length_secs: lenient_int(r, 12)?,
        track_no: lenient_int(r, 13)?,
        bitrate: lenient_int(r, 14)?,
        bit_depth: lenient_int(r, 15)?,
        sample_rate: lenient_int(r, 16)?,
        file_type: lenient_int(r, 17)?,
        file_size: lenient_int(r, 18)?,
        rating: lenient_int(r, 19)?,
        play_count: lenient_int(r, 20)?,
        comment: r.get(21)?,
        color_id: none_if_zero(lenient_text(r, 22)?),
        isrc: r.get::<_, Option<String>>(23)?.filter(|s| !s.is_empty()),
        release_year: lenient_int(r, 24)?,
        stock_date: r.get(25)?,
        date_created: r.get(26)?,
        rb_local_usn: lenient_int(r, 27)?,
        created_at: lenient_text(r, 28)?,
        updated_at: lenient_text(r, 29)?,
    })
}

fn cue_from_row(r: &Row<'_>) -> rusqlite::Result<Cue> {
    Ok(Cue {
        id: lenient_text(r, 0)?.unwrap_or_default(),
        content_id: lenient_text(r, 1)?.unwrap_or_default(),
        content_uuid: r.get(2)?,
        in_msec: lenient_int(r, 3)?.unwrap_or(0),
        out_msec: lenient_int(r, 4)?.filter(|v| *v > 0),
        kind: lenient_int(r, 5)?.unwrap_or(0),
        color: lenient_int(r, 6)?,
        color_table_index: lenient_int(r, 7)?,
        active_loop: lenient_int(r, 8)?,
        comment: r.get(9)?,
        beat_loop_size: lenient_int(r, 10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_cue_kinds_round_trip() {
        for slot in 0u8..8 {
            assert_eq!(hot_cue_slot(HOT_CUE_KINDS[slot as usize]), Some(slot));
        }
        assert_eq!(hot_cue_slot(0), None);
        assert_eq!(hot_cue_slot(4), None);
        assert_eq!(hot_cue_slot(42), None);
    }
}
