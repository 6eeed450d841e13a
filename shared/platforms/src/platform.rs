//! The trait every metadata platform implements, so the metadata scout can query any set of
//! them concurrently through `Arc<dyn MetadataPlatform>`.

use crate::http::PlatformError;
use cratedigger_domain::PlatformTrack;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Boxed future returned by [`MetadataPlatform`] methods (keeps the trait object-safe
/// without the async-trait crate).
pub type PlatformFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, PlatformError>> + Send + 'a>>;

/// A platform's default request budget; the fleet-wide limiter uses it unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// Window length.
    pub per: Duration,
}

/// How a platform describes itself to the planner and the scout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformInfo {
    /// Stable id used in plans, reports and config keys ("musicbrainz").
    pub id: &'static str,
    /// Name shown to people ("MusicBrainz").
    pub display_name: &'static str,
    /// Whether [`MetadataPlatform::lookup_isrc`] can answer (otherwise it returns nothing).
    pub supports_isrc: bool,
    /// Whether the platform is unusable without credentials.
    pub needs_credentials: bool,
    /// The platform's published limit.
    pub default_rate_limit: RateLimit,
}

/// One metadata platform. Every method maps the platform's answer to [`PlatformTrack`]s,
/// keeping the raw JSON for provenance. "Nothing found" is `Ok(vec![])` / `Ok(None)`, not an
/// error, so the scout can tell an empty answer from a failed call.
pub trait MetadataPlatform: Send + Sync {
    /// Who this platform is and what it can answer.
    fn info(&self) -> &PlatformInfo;

    /// Exact lookup by ISRC (normalised: 12 upper-case characters, no hyphens).
    fn lookup_isrc<'a>(&'a self, isrc: &'a str) -> PlatformFuture<'a, Vec<PlatformTrack>>;

    /// Fuzzy search by artist and title; the consolidator's matcher judges the candidates.
    fn search<'a>(
        &'a self,
        artist: &'a str,
        title: &'a str,
    ) -> PlatformFuture<'a, Vec<PlatformTrack>>;

    /// Lookup by the platform's own id (to fill fields a search answer lacks).
    fn lookup_id<'a>(&'a self, id: &'a str) -> PlatformFuture<'a, Option<PlatformTrack>>;
}
