//! Serde models of the Spotify Web API shapes we read. Tolerant on purpose (`Option`
//! everywhere, unknown fields ignored): the recorded payloads span 2015 to 2026 and Spotify
//! keeps removing fields (`available_markets`, `popularity` in 2026) and renaming others
//! (`track` → `item` in playlist entries), so drift degrades one field, not the call.

use serde::Deserialize;

/// A track object (full from `/v1/tracks/{id}` and searches, simplified — no album, no
/// `external_ids` — in album track listings).
#[derive(Debug, Clone, Deserialize)]
pub struct Track {
    /// Base-62 id; `null` for local files in playlists.
    pub id: Option<String>,
    /// Title exactly as Spotify writes it, mix suffix included ("Strobe - Extended Mix").
    pub name: Option<String>,
    /// "track" or "episode" (playlists may hold podcast episodes).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Credited artists, main artist first.
    pub artists: Option<Vec<ArtistRef>>,
    /// Album the track is on (absent in album track listings).
    pub album: Option<AlbumRef>,
    /// Duration in milliseconds (0 in the placeholder Spotify sends for vanished tracks).
    pub duration_ms: Option<u64>,
    /// External ids; `isrc` is what matters to us.
    pub external_ids: Option<ExternalIds>,
    /// Public links; `spotify` is the track's page.
    pub external_urls: Option<ExternalUrls>,
    /// Local file added to a playlist from the user's disk (not on Spotify).
    pub is_local: Option<bool>,
}

/// An artist reference.
#[derive(Debug, Clone, Deserialize)]
pub struct ArtistRef {
    /// Artist id.
    pub id: Option<String>,
    /// Artist name.
    pub name: Option<String>,
}

/// A simplified album.
#[derive(Debug, Clone, Deserialize)]
pub struct AlbumRef {
    /// Album id.
    pub id: Option<String>,
    /// Album title.
    pub name: Option<String>,
    /// "YYYY", "YYYY-MM" or "YYYY-MM-DD" per `release_date_precision` ("0000" when unknown).
    pub release_date: Option<String>,
    /// Cover images, any order, sizes may be `null`.
    pub images: Option<Vec<Image>>,
}

/// One cover image.
#[derive(Debug, Clone, Deserialize)]
pub struct Image {
    /// Image URL.
    pub url: Option<String>,
    /// Width in pixels, when known.
    pub width: Option<u32>,
    /// Height in pixels, when known.
    pub height: Option<u32>,
}

/// External ids of a track.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalIds {
    /// International Standard Recording Code.
    pub isrc: Option<String>,
}

/// External URLs of an object.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalUrls {
    /// The object's page on open.spotify.com.
    pub spotify: Option<String>,
}

/// A paging object (`items` + `next`), used by searches, playlists and album listings.
/// Items stay raw JSON so each keeps its own object as provenance and a bad one is
/// skipped alone.
#[derive(Debug, Clone, Deserialize)]
pub struct Paging {
    /// The items of this page.
    pub items: Option<Vec<serde_json::Value>>,
    /// URL of the next page, `null` on the last one.
    pub next: Option<String>,
    /// Items over all pages.
    pub total: Option<u64>,
    /// Index of this page's first item.
    pub offset: Option<u64>,
    /// Page size asked for.
    pub limit: Option<u64>,
}

/// A search answer (`GET /v1/search?type=track`): the track results sit under `tracks`.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchAnswer {
    /// Track results.
    pub tracks: Option<Paging>,
}

/// One entry of a playlist page. Until 2026 the track sat in `track`; the `/items`
/// endpoint added `item` beside it (same object). Either may be `null` for a track that
/// is no longer available.
#[derive(Debug, Clone, Deserialize)]
pub struct PlaylistEntry {
    /// The track or episode (2026 shape).
    pub item: Option<serde_json::Value>,
    /// The track or episode (legacy shape).
    pub track: Option<serde_json::Value>,
    /// Whether the entry is a local file.
    pub is_local: Option<bool>,
}

/// Spotify's error body: `{"error":{"status":404,"message":"Resource not found"}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: Option<ErrorDetail>,
}

/// Status and message of an error body.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDetail {
    /// HTTP status repeated.
    pub status: Option<u16>,
    /// Message.
    pub message: Option<String>,
}

/// Answer of the Accounts service token endpoint (client-credentials flow). Shape from
/// Spotify's authorization guide: `{"access_token","token_type":"Bearer","expires_in":3600}`.
#[derive(Clone, Deserialize)]
pub struct TokenAnswer {
    /// The bearer token (a secret: never logged).
    pub access_token: String,
    /// "Bearer".
    pub token_type: Option<String>,
    /// Seconds the token stays valid.
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The Accounts service's OAuth error body: `{"error":"invalid_client","error_description":"..."}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenError {
    /// OAuth error code.
    pub error: Option<String>,
    /// Explanation.
    pub error_description: Option<String>,
}
