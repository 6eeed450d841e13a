//! What a user wants, and what a platform says about a recording.

use serde::{Deserialize, Serialize};

/// One wanted track, as a person or a playlist described it. Every field but artist and
/// title is optional because playlists rarely carry more.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WantedTrack {
    /// Main artist(s) as written in the input, e.g. "Bicep" or "Bicep & Hammer".
    pub artist: String,
    /// Title as written, possibly with the mix in brackets.
    pub title: String,
    /// Mix name when given separately ("Extended Mix").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
    /// Album / release title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// ISRC when known: one exact lookup beats five fuzzy searches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isrc: Option<String>,
    /// Label catalog number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// Label name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Duration in milliseconds (M3U `#EXTINF` gives seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
}

impl WantedTrack {
    /// "Artist - Title (Mix)" for messages to people.
    pub fn display(&self) -> String {
        match &self.mix {
            Some(m) if !m.is_empty() => format!("{} - {} ({})", self.artist, self.title, m),
            _ => format!("{} - {}", self.artist, self.title),
        }
    }
}

/// The role an artist plays on a recording; remixers matter to DJs ("X Remix").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtistRole {
    /// Credited main artist.
    Main,
    /// "feat." artist.
    Featured,
    /// Remixer of this version.
    Remixer,
}

/// One credited artist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtistCredit {
    /// Name as the platform writes it.
    pub name: String,
    /// Role on this recording.
    pub role: ArtistRole,
}

/// One platform's description of one recording, mapped to our vocabulary. The raw payload
/// is kept for provenance ("which source said what").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlatformTrack {
    /// Platform id, e.g. "musicbrainz", "deezer".
    pub platform: String,
    /// The platform's own id for the recording / track.
    pub platform_id: String,
    /// Title without the mix name.
    pub title: String,
    /// Mix name if the platform gives one ("Extended Mix").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
    /// Credited artists with roles.
    #[serde(default)]
    pub artists: Vec<ArtistCredit>,
    /// Record label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Label catalog number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_number: Option<String>,
    /// ISRC (validated 12 chars, upper case, no hyphens) when the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isrc: Option<String>,
    /// Release (album / single / EP) title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_title: Option<String>,
    /// Release date as the platform writes it (YYYY, YYYY-MM or YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    /// Duration in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
    /// BPM; `None` when unknown (Deezer writes 0 for unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpm: Option<f32>,
    /// Key as the platform writes it; normalised by the music crate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Genre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Cover art URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artwork_url: Option<String>,
    /// Public page of the track on the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The platform's own JSON for this record, for provenance and re-mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<serde_json::Value>,
}

impl PlatformTrack {
    /// Main artists joined the way DJ software shows them.
    pub fn main_artist(&self) -> String {
        let mains: Vec<&str> = self
            .artists
            .iter()
            .filter(|a| a.role == ArtistRole::Main)
            .map(|a| a.name.as_str())
            .collect();
        if mains.is_empty() {
            self.artists
                .first()
                .map(|a| a.name.clone())
                .unwrap_or_default()
        } else {
            mains.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_mix_only_when_present() {
        let mut w = WantedTrack {
            artist: "Bicep".into(),
            title: "Glue".into(),
            ..Default::default()
        };
        assert_eq!(w.display(), "Bicep - Glue");
        w.mix = Some("Extended Mix".into());
        assert_eq!(w.display(), "Bicep - Glue (Extended Mix)");
    }

    #[test]
    fn main_artist_prefers_main_role() {
        let t = PlatformTrack {
            artists: vec![
                ArtistCredit {
                    name: "Guest".into(),
                    role: ArtistRole::Featured,
                },
                ArtistCredit {
                    name: "Bicep".into(),
                    role: ArtistRole::Main,
                },
                ArtistCredit {
                    name: "Hammer".into(),
                    role: ArtistRole::Main,
                },
            ],
            ..Default::default()
        };
        assert_eq!(t.main_artist(), "Bicep, Hammer");
    }
}
