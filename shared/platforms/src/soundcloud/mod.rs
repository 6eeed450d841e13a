//! SoundCloud (api-v2, the API the website uses) as an acquisition source. It needs a client
//! id (`CRATEDIGGER__SOURCES__SOUNDCLOUD__CLIENT_ID`, the one the website sends): without it
//! the source is left out with one line saying so.
//!
//! Only what the uploader allows is fetched: a track marked `downloadable` with
//! `has_downloads_left` becomes a `Download` candidate, fetched through
//! `/tracks/{id}/download`, whose answer `{"redirectUri": …}` is the original file (shape
//! from yt-dlp's SoundCloud extractor; the kit has no recorded answer). Every other track is
//! a link: the artist's `purchase_url` as `Purchase`, else the track page as `Stream`.
//! Streams (HLS, 30-second Go+ snippets) are never downloaded.
//!
//! The client id travels in the query string (api-v2 takes it nowhere else), so requests
//! are never cached and the id is removed from every error before it is returned or logged.

mod client;

pub use client::{ID, SoundCloud, map_track};

use serde::{Deserialize, Serialize};

/// Environment variable holding the client id (mapped by the `config` crate onto
/// `sources.soundcloud.client_id`).
pub const CLIENT_ID_ENV: &str = "CRATEDIGGER__SOURCES__SOUNDCLOUD__CLIENT_ID";

/// SoundCloud settings. The client id is never serialised and redacted in `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoundCloudConfig {
    /// Off removes the source.
    pub enabled: bool,
    /// api-v2 scheme and host (tests point it at a local server).
    pub base_url: String,
    /// The client id. Environment only.
    #[serde(skip_serializing)]
    pub client_id: Option<String>,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
    /// Tracks asked for per search.
    pub search_limit: u32,
}

impl Default for SoundCloudConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://api-v2.soundcloud.com".into(),
            client_id: None,
            timeout_secs: 15,
            search_limit: 10,
        }
    }
}

impl SoundCloudConfig {
    /// The configured client id, if it is not blank.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

impl std::fmt::Debug for SoundCloudConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoundCloudConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("search_limit", &self.search_limit)
            .finish()
    }
}
