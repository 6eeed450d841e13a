//! Platform configuration. The lead loads it with the `config` crate (defaults, then a file,
//! then `CRATEDIGGER__PLATFORMS__<NAME>__<KEY>` variables), so tests and the demo point the
//! fleet at a local server by setting a base URL, without code changes.

use crate::http::{DEFAULT_MAX_BODY_BYTES, HttpClientOptions, RetryPolicy};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// User-Agent with a contact, as MusicBrainz requires of every client.
pub const DEFAULT_USER_AGENT: &str = "cratedigger/0.1 ( https://github.com/cratedigger )";

/// Every platform's settings plus the shared HTTP layer's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlatformsConfig {
    /// MusicBrainz ws/2.
    pub musicbrainz: MusicBrainzConfig,
    /// Deezer public API.
    pub deezer: DeezerConfig,
    /// Discogs API (personal token from the environment).
    pub discogs: crate::discogs::DiscogsConfig,
    /// Beatport API v4 (bearer token from the environment).
    pub beatport: crate::beatport::BeatportConfig,
    /// Spotify Web API (client credentials from the environment).
    pub spotify: crate::spotify::SpotifyConfig,
    /// Mixcloud API, read for show tracklists as sync sources (`CRATEDIGGER__PLATFORMS__MIXCLOUD__*`).
    pub mixcloud: crate::mixcloud::MixcloudConfig,
    /// 1001tracklists pages, read as sync sources (`CRATEDIGGER__PLATFORMS__TRACKLISTS__*`).
    pub tracklists: crate::tracklists::TracklistsConfig,
    /// Settings shared by every platform's HTTP client.
    pub http: HttpConfig,
    /// Rate limit overrides by platform id (`CRATEDIGGER__PLATFORMS__LIMITS__<ID>__REQUESTS`,
    /// `__PER_SECS`, `__BURST`); a platform not listed keeps its published default.
    pub limits: std::collections::BTreeMap<String, crate::limiter::RateLimitConfig>,
    /// Response caches L1/L2/L3 (`CRATEDIGGER__PLATFORMS__CACHE__*`).
    pub cache: crate::cache::CacheConfig,
    /// Circuit breaker per platform (`CRATEDIGGER__PLATFORMS__BREAKER__*`).
    pub breaker: crate::breaker::BreakerConfig,
}

/// MusicBrainz settings (no credentials; a User-Agent with contact is mandatory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MusicBrainzConfig {
    /// Off removes the platform from the registry.
    pub enabled: bool,
    /// Scheme and host, without `/ws/2` (tests point it at the fixture server).
    pub base_url: String,
    /// User-Agent with contact, per MusicBrainz's rules.
    pub user_agent: String,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
}

impl Default for MusicBrainzConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://musicbrainz.org".into(),
            user_agent: DEFAULT_USER_AGENT.into(),
            timeout_secs: 15,
        }
    }
}

/// Deezer settings (public API, no credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeezerConfig {
    /// Off removes the platform from the registry.
    pub enabled: bool,
    /// Scheme and host (tests point it at the fixture server).
    pub base_url: String,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
}

impl Default for DeezerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://api.deezer.com".into(),
            timeout_secs: 10,
        }
    }
}

/// Settings of the shared HTTP layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// Longest `Retry-After` slept inside a job; longer ones return the rate-limit error at
    /// once so the caller can park the platform.
    pub max_wait_secs: u64,
    /// TCP/TLS connect timeout in seconds.
    pub connect_timeout_secs: u64,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
    /// User-Agent for platforms that have no setting of their own.
    pub user_agent: String,
    /// Extra spacing the rate limiter adds between requests, in percent of the limit's
    /// spacing: platforms count arrivals on their side, after network jitter.
    pub rate_margin_pct: f64,
    /// Least allowance, in ms, for the delay between a request leaving the limiter and
    /// reaching the platform (network jitter): the sliding log of send times spans the
    /// limit's window plus the allowance, so a late sender cannot put one request too many
    /// into the platform's window. The allowance grows with how late this process wakes up
    /// (a busy CPU: `rate_lateness_factor` x the decaying peak lateness of its rate-limit
    /// waits), up to `rate_jitter_max_ms`; it is paid in throughput (1/s with 200 ms becomes
    /// 1 per 1.2 s).
    pub rate_jitter_ms: u64,
    /// Most allowance, in ms, however late the process wakes up.
    pub rate_jitter_max_ms: u64,
    /// Safety factor on the measured lateness (see `rate_jitter_ms`): lower is faster on a
    /// busy machine and riskier (docs/benchmarks.md has the measurements).
    pub rate_lateness_factor: f64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_wait_secs: 60,
            connect_timeout_secs: 5,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: DEFAULT_USER_AGENT.into(),
            rate_margin_pct: 5.0,
            rate_jitter_ms: 50,
            rate_jitter_max_ms: 400,
            rate_lateness_factor: crate::limiter::LATENESS_FACTOR,
        }
    }
}

impl HttpConfig {
    /// Client options for one platform with its own timeout and User-Agent.
    pub fn client_options(&self, user_agent: &str, timeout_secs: u64) -> HttpClientOptions {
        HttpClientOptions {
            user_agent: user_agent.to_string(),
            timeout: Duration::from_secs(timeout_secs.max(1)),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.max(1)),
            max_body_bytes: self.max_body_bytes,
            policy: RetryPolicy::default().with_max_wait(Duration::from_secs(self.max_wait_secs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_the_real_platforms() {
        let c = PlatformsConfig::default();
        assert_eq!(c.musicbrainz.base_url, "https://musicbrainz.org");
        assert_eq!(c.deezer.base_url, "https://api.deezer.com");
        assert!(c.musicbrainz.enabled && c.deezer.enabled);
        assert_eq!(c.http.max_wait_secs, 60);
        assert_eq!(c.http.max_body_bytes, 8 * 1024 * 1024);
    }

    #[test]
    fn partial_documents_fill_in_defaults() {
        let c: PlatformsConfig = serde_json::from_str(
            r#"{"musicbrainz":{"base_url":"http://127.0.0.1:9"},"deezer":{"enabled":false}}"#,
        )
        .unwrap();
        assert_eq!(c.musicbrainz.base_url, "http://127.0.0.1:9");
        assert_eq!(c.musicbrainz.user_agent, DEFAULT_USER_AGENT);
        assert!(!c.deezer.enabled);
        assert_eq!(c.deezer.base_url, "https://api.deezer.com");
    }
}
