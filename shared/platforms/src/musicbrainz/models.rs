//! Serde models of the ws/2 JSON shapes we read. Tolerant on purpose: every field the
//! MusicBrainz docs call optional (or that the recorded payloads show as `null`) is an
//! `Option`, and unknown fields are ignored, so API drift degrades one field, not the call.

use serde::Deserialize;

/// A recording, as found in lookups, searches and ISRC answers.
#[derive(Debug, Clone, Deserialize)]
pub struct Recording {
    /// MBID.
    pub id: String,
    /// Title as credited.
    pub title: Option<String>,
    /// Length in milliseconds.
    pub length: Option<u64>,
    /// Search relevance (searches only).
    pub score: Option<u32>,
    /// Disambiguation comment.
    pub disambiguation: Option<String>,
    /// First release date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[serde(rename = "first-release-date")]
    pub first_release_date: Option<String>,
    /// Credited artists with join phrases (`inc=artist-credits`).
    #[serde(rename = "artist-credit")]
    pub artist_credit: Option<Vec<ArtistCredit>>,
    /// ISRCs (`inc=isrcs`).
    pub isrcs: Option<Vec<String>>,
    /// Releases the recording appears on (`inc=releases`).
    pub releases: Option<Vec<Release>>,
    /// Relationships (`inc=artist-rels` etc.); remixers come from here.
    pub relations: Option<Vec<Relation>>,
}

/// One artist credit; `joinphrase` links it to the next one (" feat. ", " & ").
#[derive(Debug, Clone, Deserialize)]
pub struct ArtistCredit {
    /// Name as credited on this recording.
    pub name: Option<String>,
    /// Text between this credit and the next (absent in search answers).
    pub joinphrase: Option<String>,
    /// The artist entity.
    pub artist: Option<ArtistRef>,
}

/// An artist entity reference.
#[derive(Debug, Clone, Deserialize)]
pub struct ArtistRef {
    /// MBID.
    pub id: Option<String>,
    /// Canonical name.
    pub name: Option<String>,
}

/// A release the recording is on.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    /// MBID.
    pub id: Option<String>,
    /// Release title.
    pub title: Option<String>,
    /// Release date.
    pub date: Option<String>,
    /// Official, Promotion, Bootleg, ...
    pub status: Option<String>,
    /// Labels and catalog numbers (release lookups with `inc=labels`).
    #[serde(rename = "label-info")]
    pub label_info: Option<Vec<LabelInfo>>,
}

/// A label and catalog number of a release.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelInfo {
    /// Catalog number.
    #[serde(rename = "catalog-number")]
    pub catalog_number: Option<String>,
    /// The label.
    pub label: Option<LabelRef>,
}

/// A label entity reference.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelRef {
    /// Label name.
    pub name: Option<String>,
}

/// A relationship of the recording.
#[derive(Debug, Clone, Deserialize)]
pub struct Relation {
    /// Relationship type ("remixer", "producer", ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Target artist, for artist relationships.
    pub artist: Option<ArtistRef>,
}

/// A recording search page (`GET /ws/2/recording?query=...`). Recordings stay raw JSON so
/// each one's object can be kept as provenance and a bad one skipped alone.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordingSearch {
    /// When MusicBrainz produced the answer.
    pub created: Option<String>,
    /// Total hits.
    pub count: Option<u64>,
    /// Offset of this page.
    pub offset: Option<u64>,
    /// The hits.
    pub recordings: Option<Vec<serde_json::Value>>,
}

/// An ISRC lookup answer (`GET /ws/2/isrc/{isrc}`). Shape from the MusicBrainz ws/2 docs
/// (`{"isrc": "...", "recordings": [...]}`): the kit has no recorded JSON ISRC lookup (gap).
#[derive(Debug, Clone, Deserialize)]
pub struct IsrcLookup {
    /// The ISRC asked for.
    pub isrc: Option<String>,
    /// Recordings carrying it.
    pub recordings: Option<Vec<serde_json::Value>>,
}
