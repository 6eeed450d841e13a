//! Beatport API v4: track search, ISRC lookup, track lookup, chart tracks (a sync source).
//! Needs an OAuth bearer token (`CRATEDIGGER__PLATFORMS__BEATPORT__TOKEN`); without one the
//! platform is left out of the registry with one clear line. Beatport's mix names
//! ("Original Mix", "Extended Mix") are kept as written: the music crate decides what they
//! mean. The retired v3 API is mapped too ([`map_v3_track`]) so saved v3 answers still read.

mod client;
pub mod models;

pub use client::{
    AUTH_REFUSED, Beatport, ID, decode_html_entities, map_track, map_v3_page, map_v3_track,
    missing_field_counts,
};

use serde::{Deserialize, Serialize};

/// Environment variable holding the bearer token (the `config` crate maps it onto
/// `platforms.beatport.token`).
pub const TOKEN_ENV: &str = "CRATEDIGGER__PLATFORMS__BEATPORT__TOKEN";

/// Beatport settings. The token is a secret: never serialised, redacted in `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BeatportConfig {
    /// Off removes the platform from the registry.
    pub enabled: bool,
    /// Scheme and host, without `/v4` (tests point it at a local server).
    pub base_url: String,
    /// OAuth bearer token for API v4. Environment only.
    #[serde(skip_serializing)]
    pub token: Option<String>,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
    /// Hits asked for per search / list page (Beatport allows up to 100).
    pub per_page: u32,
    /// Most pages followed for one chart or paged search; a server that keeps sending
    /// `next` cannot keep us looping.
    pub max_pages: usize,
}

impl Default for BeatportConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://api.beatport.com".into(),
            token: None,
            timeout_secs: 15,
            per_page: 25,
            max_pages: 20,
        }
    }
}

impl BeatportConfig {
    /// The configured token, if it is not blank.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

impl std::fmt::Debug for BeatportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeatportConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("per_page", &self.per_page)
            .field("max_pages", &self.max_pages)
            .finish()
    }
}
