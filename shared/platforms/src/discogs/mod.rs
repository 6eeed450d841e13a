//! Discogs API: release search (paginated), release and master lookups whose tracklists
//! become candidate tracks. Needs a personal access token
//! (`CRATEDIGGER__PLATFORMS__DISCOGS__TOKEN`): Discogs answers database searches only to
//! authenticated clients, so without one the platform is left out of the registry with one
//! clear line. Discogs has no ISRC search: `lookup_isrc` answers "nothing found" without a
//! call, and [`crate::PlatformInfo::supports_isrc`] is false so planners never ask.

mod client;
pub mod models;

pub use client::{
    AUTH_REFUSED, Discogs, ID, ReleaseSearch, map_release, missing_field_counts, parse_duration,
};

use serde::{Deserialize, Serialize};

/// Environment variable holding the personal access token (the `config` crate maps it onto
/// `platforms.discogs.token`).
pub const TOKEN_ENV: &str = "CRATEDIGGER__PLATFORMS__DISCOGS__TOKEN";

/// Discogs settings. The token is a secret: never serialised, redacted in `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiscogsConfig {
    /// Off removes the platform from the registry.
    pub enabled: bool,
    /// Scheme and host (tests point it at a local server).
    pub base_url: String,
    /// Personal access token, sent as `Authorization: Discogs token=…`. Environment only.
    #[serde(skip_serializing)]
    pub token: Option<String>,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
    /// Hits asked for per search page (Discogs allows up to 100).
    pub per_page: u32,
    /// Most search pages followed through `pagination.urls.next`.
    pub max_pages: usize,
    /// Releases of a search whose tracklists are fetched to make candidate tracks (each is
    /// one request against Discogs' 60/min).
    pub tracklist_lookups: usize,
}

impl Default for DiscogsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://api.discogs.com".into(),
            token: None,
            timeout_secs: 15,
            per_page: 25,
            max_pages: 3,
            tracklist_lookups: 3,
        }
    }
}

impl DiscogsConfig {
    /// The configured token, if it is not blank.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

impl std::fmt::Debug for DiscogsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscogsConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("per_page", &self.per_page)
            .field("max_pages", &self.max_pages)
            .field("tracklist_lookups", &self.tracklist_lookups)
            .finish()
    }
}
