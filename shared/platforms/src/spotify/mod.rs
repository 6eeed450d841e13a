//! Spotify Web API: track search (`artist:"A" track:"T"`), ISRC lookup (search
//! `isrc:XXXX`), track lookup, playlist items (all pages) and album tracks.
//!
//! Credentials: the client-credentials flow (app id and secret from
//! `CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_ID` / `__CLIENT_SECRET`); the token is cached
//! until shortly before it expires and fetched again once when the API answers 401.
//! Without credentials the platform is left out of the registry with one clear line.
//!
//! No BPM or key: track objects never carried them, and `audio-features` (tempo, key,
//! mode) has been closed to new apps since November 2024, so Spotify contributes
//! title, artists, album, release date, duration, ISRC, artwork and its link.

mod client;
pub mod models;

pub use client::{
    ID, PlaylistEntryOutcome, PlaylistPage, PlaylistRead, Spotify, map_playlist_page, map_search,
    map_track, map_track_page,
};

use serde::{Deserialize, Serialize};

/// Most tracks read from one playlist: a 10,000-track sync is the product's largest.
pub const DEFAULT_MAX_PLAYLIST_TRACKS: usize = 10_000;

/// Most pages read from one playlist (10,000 tracks at 50 a page), so a server that keeps
/// sending `next` cannot keep us looping.
pub const DEFAULT_MAX_PLAYLIST_PAGES: usize = 200;

/// Spotify settings. The secrets come from the environment only and are never serialised
/// or printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpotifyConfig {
    /// Off removes the platform from the registry (it is also left out without credentials).
    pub enabled: bool,
    /// Web API scheme and host, without `/v1` (tests point it at a local server).
    pub base_url: String,
    /// Accounts service scheme and host; the token comes from `<accounts_url>/api/token`.
    pub accounts_url: String,
    /// App client id (`CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_ID`).
    #[serde(skip_serializing)]
    pub client_id: Option<String>,
    /// App client secret (`CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_SECRET`).
    #[serde(skip_serializing)]
    pub client_secret: Option<String>,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
    /// Most tracks read from one playlist.
    pub max_playlist_tracks: usize,
    /// Most pages read from one playlist.
    pub max_playlist_pages: usize,
}

impl Default for SpotifyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://api.spotify.com".into(),
            accounts_url: "https://accounts.spotify.com".into(),
            client_id: None,
            client_secret: None,
            timeout_secs: 10,
            max_playlist_tracks: DEFAULT_MAX_PLAYLIST_TRACKS,
            max_playlist_pages: DEFAULT_MAX_PLAYLIST_PAGES,
        }
    }
}

impl std::fmt::Debug for SpotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("SpotifyConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("accounts_url", &self.accounts_url)
            .field("client_id", &redact(&self.client_id))
            .field("client_secret", &redact(&self.client_secret))
            .field("timeout_secs", &self.timeout_secs)
            .field("max_playlist_tracks", &self.max_playlist_tracks)
            .field("max_playlist_pages", &self.max_playlist_pages)
            .finish()
    }
}

impl SpotifyConfig {
    /// The client id and secret when both are set and non-empty.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        let id = self
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())?;
        let secret = self
            .client_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())?;
        Some((id, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_printed_or_serialised() {
        let cfg = SpotifyConfig {
            client_id: Some("id-0123456789".into()),
            client_secret: Some("s3cret-abcdef".into()),
            ..Default::default()
        };
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("s3cret") && !dbg.contains("id-0123"), "{dbg}");
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(
            !json.contains("s3cret") && !json.contains("id-0123"),
            "{json}"
        );
        assert_eq!(cfg.credentials(), Some(("id-0123456789", "s3cret-abcdef")));
    }

    #[test]
    fn both_credentials_are_needed() {
        let mut cfg = SpotifyConfig {
            client_id: Some("id".into()),
            ..Default::default()
        };
        assert_eq!(cfg.credentials(), None);
        cfg.client_secret = Some("  ".into());
        assert_eq!(cfg.credentials(), None);
        let c: SpotifyConfig =
            serde_json::from_str(r#"{"client_id":"a","client_secret":"b"}"#).unwrap();
        assert_eq!(c.credentials(), Some(("a", "b")));
        assert_eq!(c.base_url, "https://api.spotify.com");
        assert_eq!(c.accounts_url, "https://accounts.spotify.com");
    }
}
