//! Serde models of the Beatport shapes we read. Tolerant (`Option` everywhere, unknown fields
//! ignored) so an answer that lost a field maps with that field empty instead of failing.
//!
//! API v4 (`api.beatport.com/v4/catalog/...`, snake_case) is what the client calls. The
//! legacy v3 shapes (`api.beatport.com/catalog/3/...`, camelCase, retired) are kept only so
//! saved v3 answers can still be mapped (e.g. by `cratedigger inspect`).

use serde::Deserialize;

/// A v4 track (`/v4/catalog/tracks/{id}/`, and each item of a search or list page).
#[derive(Debug, Clone, Deserialize)]
pub struct Track {
    /// Beatport track id.
    pub id: u64,
    /// Title without the mix ("Strobe").
    pub name: Option<String>,
    /// Mix name as Beatport writes it ("Original Mix", "Extended Mix", "X Remix").
    pub mix_name: Option<String>,
    /// URL slug, used for the public page.
    pub slug: Option<String>,
    /// Main artists.
    pub artists: Option<Vec<ArtistRef>>,
    /// Remixers of this version.
    pub remixers: Option<Vec<ArtistRef>>,
    /// Tempo; may be absent or 0 for unanalysed tracks.
    pub bpm: Option<f64>,
    /// Key ("Ab Minor").
    pub key: Option<Key>,
    /// ISRC.
    pub isrc: Option<String>,
    /// Catalog number of the release.
    pub catalog_number: Option<String>,
    /// Duration in milliseconds.
    pub length_ms: Option<u64>,
    /// Release date of this version ("2024-09-13").
    pub new_release_date: Option<String>,
    /// Date the track went on sale.
    pub publish_date: Option<String>,
    /// Genre.
    pub genre: Option<Named>,
    /// Release the track is on (with its label and cover).
    pub release: Option<ReleaseRef>,
}

/// An artist reference.
#[derive(Debug, Clone, Deserialize)]
pub struct ArtistRef {
    /// Artist name.
    pub name: Option<String>,
}

/// A named reference (genre, label).
#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    /// The name.
    pub name: Option<String>,
}

/// A v4 key object; `name` is what DJs read ("Ab Minor"), the Camelot parts are extra.
#[derive(Debug, Clone, Deserialize)]
pub struct Key {
    /// Key as Beatport writes it.
    pub name: Option<String>,
}

/// An image reference.
#[derive(Debug, Clone, Deserialize)]
pub struct Image {
    /// Fixed-size image URL.
    pub uri: Option<String>,
}

/// The release a v4 track is on.
#[derive(Debug, Clone, Deserialize)]
pub struct ReleaseRef {
    /// Release title.
    pub name: Option<String>,
    /// Cover art.
    pub image: Option<Image>,
    /// Label.
    pub label: Option<Named>,
    /// Catalog number (present on release objects; track objects carry their own).
    pub catalog_number: Option<String>,
}

/// A v4 list page: `/v4/catalog/search/` puts the items under `tracks`, list endpoints
/// (`/v4/catalog/tracks/?isrc=`, chart tracks) under `results`. Items stay raw JSON so each
/// keeps its own object as provenance and a bad one is skipped alone.
#[derive(Debug, Clone, Deserialize)]
pub struct Page {
    /// Search answer items (type=tracks).
    pub tracks: Option<Vec<serde_json::Value>>,
    /// List endpoint items.
    pub results: Option<Vec<serde_json::Value>>,
    /// Next page; Beatport sometimes writes it without a scheme
    /// (`api.beatport.com/v4/catalog/search/?...&page=2`).
    pub next: Option<String>,
    /// Items over all pages.
    pub count: Option<u64>,
}

/// A legacy v3 track (`/catalog/3/tracks?id=`, and `type: "track"` items of a v3 search).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V3Track {
    /// Beatport track id (the same ids as v4).
    pub id: u64,
    /// Title without the mix.
    pub name: Option<String>,
    /// Mix name ("Original Mix").
    pub mix_name: Option<String>,
    /// URL slug.
    pub slug: Option<String>,
    /// ISRC.
    pub isrc: Option<String>,
    /// Release date.
    pub release_date: Option<String>,
    /// On-sale date.
    pub publish_date: Option<String>,
    /// Duration in milliseconds.
    pub length_ms: Option<u64>,
    /// Tempo.
    pub bpm: Option<f64>,
    /// Key; `shortName` carries HTML entities ("D&#9839;maj").
    pub key: Option<V3Key>,
    /// Credited artists, each with `type` "artist" or "remixer".
    pub artists: Option<Vec<V3Artist>>,
    /// Genres.
    pub genres: Option<Vec<Named>>,
    /// Release.
    pub release: Option<Named>,
    /// Label.
    pub label: Option<Named>,
    /// Images by size.
    pub images: Option<V3Images>,
}

/// A v3 key.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V3Key {
    /// Short name with HTML entities for sharps and flats ("D&#9839;maj").
    pub short_name: Option<String>,
}

/// A v3 credited artist.
#[derive(Debug, Clone, Deserialize)]
pub struct V3Artist {
    /// Name.
    pub name: Option<String>,
    /// "artist" or "remixer".
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// v3 images by size.
#[derive(Debug, Clone, Deserialize)]
pub struct V3Images {
    /// 500x500 cover.
    pub large: Option<V3Image>,
}

/// One v3 image.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V3Image {
    /// HTTP URL.
    pub url: Option<String>,
    /// HTTPS URL.
    pub secure_url: Option<String>,
}

/// A v3 list answer (`{"metadata":{...},"results":[...]}`).
#[derive(Debug, Clone, Deserialize)]
pub struct V3Page {
    /// Mixed items (track, release, label, ...), told apart by `type`.
    pub results: Option<Vec<serde_json::Value>>,
}
