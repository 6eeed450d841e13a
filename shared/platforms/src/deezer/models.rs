//! Serde models of the Deezer API shapes we read; tolerant (`Option` everywhere, unknown
//! fields ignored) because search, album and playlist answers carry fewer track fields than
//! a track lookup.

use serde::Deserialize;

/// A track (full in `/track/{id}`, abridged in searches and playlists).
#[derive(Debug, Clone, Deserialize)]
pub struct Track {
    /// Deezer id (negative for user uploads).
    pub id: i64,
    /// Full title, version included ("One More Time (Radio Edit)").
    pub title: Option<String>,
    /// Title without the version.
    pub title_short: Option<String>,
    /// Version, in brackets ("(Radio Edit)"), often empty.
    pub title_version: Option<String>,
    /// ISRC (track lookups only).
    pub isrc: Option<String>,
    /// Public page.
    pub link: Option<String>,
    /// Duration in seconds.
    pub duration: Option<u32>,
    /// Release date (track lookups only).
    pub release_date: Option<String>,
    /// BPM; 0 means unknown.
    pub bpm: Option<f64>,
    /// Credited artists with roles (track lookups only).
    pub contributors: Option<Vec<Contributor>>,
    /// Main artist.
    pub artist: Option<ArtistRef>,
    /// Album.
    pub album: Option<AlbumRef>,
}

/// A credited artist of a track.
#[derive(Debug, Clone, Deserialize)]
pub struct Contributor {
    /// Artist name.
    pub name: Option<String>,
    /// "Main" or "Featured".
    pub role: Option<String>,
}

/// An artist reference.
#[derive(Debug, Clone, Deserialize)]
pub struct ArtistRef {
    /// Artist name.
    pub name: Option<String>,
}

/// An album reference.
#[derive(Debug, Clone, Deserialize)]
pub struct AlbumRef {
    /// Album title.
    pub title: Option<String>,
    /// 1000x1000 cover.
    pub cover_xl: Option<String>,
    /// 500x500 cover.
    pub cover_big: Option<String>,
    /// Album release date.
    pub release_date: Option<String>,
}

/// A page of a list answer (search, playlist tracks). Items stay raw JSON so each keeps
/// its own object as provenance and a bad one is skipped alone.
#[derive(Debug, Clone, Deserialize)]
pub struct Page {
    /// The items.
    pub data: Option<Vec<serde_json::Value>>,
    /// Total items over all pages.
    pub total: Option<u64>,
    /// URL of the next page.
    pub next: Option<String>,
}

/// Deezer's error object, sent with HTTP 200:
/// `{"error":{"type":"DataException","message":"no data","code":800}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiError {
    /// Exception type ("DataException", "QuotaException", ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// Numeric code (see [`super::error_class`]).
    pub code: Option<i64>,
}

/// The envelope of an error answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ApiError,
}
