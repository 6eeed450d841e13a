//! Serde models of the Discogs API shapes we read. Tolerant (`Option` everywhere, unknown
//! fields ignored): the 2014 and 2026 answers differ (`year` is a string in searches and a
//! number in releases, `released` may be missing), and a field that vanished must map to an
//! empty value, not an error.

use serde::Deserialize;

/// A page of `/database/search`.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchPage {
    /// Where this page sits; `urls.next` links the next one.
    pub pagination: Option<Pagination>,
    /// The hits, kept raw so each keeps its own object and a bad one is skipped alone.
    pub results: Option<Vec<serde_json::Value>>,
}

/// Discogs' `pagination` object.
#[derive(Debug, Clone, Deserialize)]
pub struct Pagination {
    /// This page's number (1-based).
    pub page: Option<u64>,
    /// Pages in all.
    pub pages: Option<u64>,
    /// Hits per page.
    pub per_page: Option<u64>,
    /// Hits in all.
    pub items: Option<u64>,
    /// Links to other pages.
    pub urls: Option<PageUrls>,
}

/// Links of a page.
#[derive(Debug, Clone, Deserialize)]
pub struct PageUrls {
    /// Next page, absent on the last one.
    pub next: Option<String>,
    /// Last page.
    pub last: Option<String>,
}

/// One search hit (a release summary: no tracklist).
#[derive(Debug, Clone, Deserialize)]
pub struct SearchHit {
    /// Release (or master, artist, label) id.
    pub id: u64,
    /// "release", "master", "artist" or "label".
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// "Artist - Release title".
    pub title: Option<String>,
    /// Catalog number ("none" when the release has none).
    pub catno: Option<String>,
    /// Label names.
    pub label: Option<Vec<String>>,
    /// Year, a string in search answers ("1997").
    pub year: Option<serde_json::Value>,
    /// Genres.
    pub genre: Option<Vec<String>>,
    /// Styles (finer than genres: "Big Beat").
    pub style: Option<Vec<String>>,
    /// Page on discogs.com (relative in 2014 answers).
    pub uri: Option<String>,
    /// API URL of the release.
    pub resource_url: Option<String>,
    /// The hit as Discogs sent it, for provenance (filled by the client).
    #[serde(skip)]
    pub raw: serde_json::Value,
}

/// A release (`/releases/{id}`) or a master (`/masters/{id}`, which has `main_release` and
/// no labels). The tracklist is read item by item from the raw body.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    /// Release or master id.
    pub id: u64,
    /// Release title.
    pub title: Option<String>,
    /// Release artists (used for tracks that credit none of their own).
    pub artists: Option<Vec<Credit>>,
    /// Release-wide credits, each with the positions it applies to (`tracks`).
    pub extraartists: Option<Vec<Credit>>,
    /// Labels with catalog numbers.
    pub labels: Option<Vec<LabelRef>>,
    /// Release date ("1987", "2016-06-03", "1987-00-00").
    pub released: Option<String>,
    /// Year (0 when unknown).
    pub year: Option<serde_json::Value>,
    /// Genres.
    pub genres: Option<Vec<String>>,
    /// Styles.
    pub styles: Option<Vec<String>>,
    /// Images (the "primary" one is the cover).
    pub images: Option<Vec<ImageRef>>,
    /// Small cover.
    pub thumb: Option<String>,
    /// Page on discogs.com.
    pub uri: Option<String>,
    /// Set on masters only.
    pub main_release: Option<u64>,
}

/// An artist credit.
#[derive(Debug, Clone, Deserialize)]
pub struct Credit {
    /// Artist name, with a " (2)" suffix when Discogs disambiguates.
    pub name: Option<String>,
    /// Join phrase to the next credit ("&", "Feat.", ",").
    pub join: Option<String>,
    /// Role of an extra artist ("Remix", "Featuring [Articulations]", "Written-By").
    pub role: Option<String>,
    /// Positions a release-wide credit applies to ("A1 to B2", "A, B1"; empty = all).
    pub tracks: Option<String>,
}

/// A label with the release's catalog number on it.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelRef {
    /// Label name.
    pub name: Option<String>,
    /// Catalog number ("none" when there is none).
    pub catno: Option<String>,
}

/// An image.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageRef {
    /// "primary" or "secondary".
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Full-size URL.
    pub uri: Option<String>,
}

/// One tracklist entry: a track, a heading, or an index track with `sub_tracks`.
#[derive(Debug, Clone, Deserialize)]
pub struct TrackEntry {
    /// Position on the release ("A", "B1", "1", "C1.1"); may be empty.
    pub position: Option<String>,
    /// "track", "heading" or "index".
    pub type_: Option<String>,
    /// Title, mix in brackets ("Never Gonna Give You Up (Cake Mix)").
    pub title: Option<String>,
    /// Duration "m:ss" or "h:mm:ss"; often empty.
    pub duration: Option<String>,
    /// Track artists (compilations); empty means the release artists.
    pub artists: Option<Vec<Credit>>,
    /// Track credits (remixers, featured artists, writers...).
    pub extraartists: Option<Vec<Credit>>,
    /// Parts of an index track.
    pub sub_tracks: Option<Vec<TrackEntry>>,
}
