//! The vocabulary of acquisition: where a copy of a track can be had, how good it looks
//! before download, and how it was ranked. These types travel in jobs (discovery scout →
//! consolidator → acquisition scout → quality assessor) and are stored as JSON on the
//! candidate rows, so the job-payload rules apply: add optional fields only.
//!
//! Everything a source says about a file (names, folders, bitrates) is **untrusted**: it is
//! shown to people and scored, never used as a path (see `cratedigger_music::filing`).

use serde::{Deserialize, Serialize};

/// What the user can do with a candidate. Only `Download` candidates can become a file;
/// the others are shown as options (buy it, listen to it) and never fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// The fleet can fetch the file (a Soulseek share, a free Bandcamp/SoundCloud download,
    /// yt-dlp when the user enabled it).
    Download,
    /// A store page where the user can buy it (Beatport, Bandcamp, Deezer/Spotify links).
    Purchase,
    /// Listen-only (a stream page); useful for previews and for confirming a version. The
    /// default, because it is the one that can never cause a download.
    #[default]
    Stream,
}

impl Availability {
    /// Stable lowercase name used in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Download => "download",
            Availability::Purchase => "purchase",
            Availability::Stream => "stream",
        }
    }
}

/// How the acquisition scout fetches a `Download` candidate. Kept separate from the display
/// fields so that nothing shown to a person is ever used to build a request or a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DownloadRef {
    /// A file shared by a Soulseek peer, fetched through the user's slskd.
    Soulseek {
        /// Peer user name.
        username: String,
        /// The peer's full path of the file, exactly as the peer sent it (slskd needs it
        /// verbatim to enqueue the transfer).
        filename: String,
        /// Size in bytes as the peer announced it.
        size: u64,
    },
    /// A direct HTTP(S) file URL the artist offers for free (Bandcamp free / name-your-price,
    /// SoundCloud downloadable originals).
    Http {
        /// The file URL.
        url: String,
    },
    /// A page handed to the external `yt-dlp` (off unless the user enabled it).
    YtDlp {
        /// The page URL.
        url: String,
    },
}

/// What a Soulseek peer told about itself with its search response; feeds the ranking
/// (a free slot and a short queue mean the download starts now).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Peer user name.
    pub username: String,
    /// Whether the peer has a free upload slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_free_slot: Option<bool>,
    /// Length of the peer's upload queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_length: Option<u32>,
    /// Announced upload speed in bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_speed_bps: Option<u64>,
}

/// One place where a copy of the wanted track may be had, with what the source says about
/// its audio before anything is downloaded. Unknown properties stay `None`: unknown is not bad.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SourceCandidate {
    /// Source id: "soulseek", "bandcamp", "soundcloud", "youtube", "beatport", "deezer", …
    pub source: String,
    /// Stable id of this candidate within its source (peer + path, or the page URL), so a
    /// repeated discovery finds the same row.
    pub source_key: String,
    /// What the source calls it: a file name without folders for Soulseek, a listing title
    /// elsewhere. Untrusted; for display and matching only.
    pub title: String,
    /// Artist as the source lists it, when separate from the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    /// Release / folder name, when the source shows one (untrusted, display only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Download, purchase or stream.
    pub availability: Availability,
    /// How to fetch it, for `Download` candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<DownloadRef>,
    /// Public page (store link, track page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A short audio preview a person can listen to before approving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
    /// Price as the store writes it ("€1.99", "name your price").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// Format as the source announces it ("flac", "mp3", "wav", "aiff", "m4a", …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Announced bitrate in kbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
    /// Announced sample rate in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate_hz: Option<u32>,
    /// Announced bit depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u8>,
    /// Announced duration in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
    /// Announced size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The Soulseek peer offering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerInfo>,
}

impl SourceCandidate {
    /// True when the fleet can turn this candidate into a file.
    pub fn is_downloadable(&self) -> bool {
        self.availability == Availability::Download && self.download.is_some()
    }
}

/// One factor of a candidate's score, so a person can see why it ranks where it does
/// ("format flac +30", "duration 7 s off −12", "peer queue unknown 0").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreFactor {
    /// Factor name ("format", "bitrate", "duration", "title", "mix", "peer", "trust", …).
    pub factor: String,
    /// Points this factor contributed (may be negative).
    pub points: f32,
    /// Readable detail ("FLAC 16/44.1", "unknown").
    pub detail: String,
}

/// A candidate with its score and the reasons, as the ranking left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedCandidate {
    /// The candidate.
    pub candidate: SourceCandidate,
    /// Total score (higher is better); only comparable within one item.
    pub score: f32,
    /// The explainable breakdown.
    pub factors: Vec<ScoreFactor>,
    /// Set when a required condition filtered it out (with the condition, readable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// The tags a filed file gets, from the canonical track (plain strings, so the tag writer
/// needs nothing from the workers).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrackTags {
    /// Title without the mix.
    pub title: String,
    /// Main artists as DJ software shows them ("Bicep, Hammer").
    pub artist: String,
    /// Mix name ("Extended Mix").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
    /// Remixers, when credited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remixers: Vec<String>,
    /// Release title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Catalog number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_number: Option<String>,
    /// ISRC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isrc: Option<String>,
    /// BPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpm: Option<f32>,
    /// Key, already in the notation the user configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Genre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Release date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Cover art URL (fetched with a size cap when tagging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artwork_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_download_candidates_with_a_ref_are_downloadable() {
        let mut c = SourceCandidate {
            source: "bandcamp".into(),
            source_key: "https://x.bandcamp.com/track/y".into(),
            title: "Y".into(),
            availability: Availability::Purchase,
            ..Default::default()
        };
        assert!(!c.is_downloadable());
        c.availability = Availability::Download;
        assert!(!c.is_downloadable(), "no download ref yet");
        c.download = Some(DownloadRef::Http {
            url: "https://x/y.flac".into(),
        });
        assert!(c.is_downloadable());
    }

    #[test]
    fn download_ref_is_tagged_for_rolling_upgrades() {
        let r = DownloadRef::Soulseek {
            username: "peer".into(),
            filename: "@@a\\b.flac".into(),
            size: 3,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "soulseek");
        let back: DownloadRef = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
