//! The trait every acquisition source implements (Soulseek through slskd, Bandcamp,
//! SoundCloud, YouTube through yt-dlp, store links), so the discovery scout can ask every
//! enabled source about an item concurrently and the acquisition scout can fetch the approved
//! candidate without per-source code. Sources use the same HTTP layer as the metadata
//! platforms (fleet-wide limits, retries by error class, breaker).

use crate::http::PlatformError;
use crate::platform::{PlatformFuture, RateLimit};
use cratedigger_domain::WantedTrack;
use cratedigger_domain::acquisition::SourceCandidate;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How a source describes itself to the discovery scout, the ranking and the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Stable id used in candidates, config keys and metrics ("soulseek", "bandcamp").
    pub id: &'static str,
    /// Name shown to people.
    pub display_name: &'static str,
    /// Whether the source can produce `Download` candidates at all (store links cannot).
    pub can_download: bool,
    /// Whether the source is unusable without credentials (slskd API key, SoundCloud client id).
    pub needs_credentials: bool,
    /// The source's request budget when none is configured.
    pub default_rate_limit: RateLimit,
    /// How much the ranking trusts files from this source, 0..=1 (a store or the artist's
    /// own Bandcamp is trusted more than an anonymous peer).
    pub trust: f32,
}

/// Progress callback for a running download: bytes so far and the total when known.
pub type ProgressFn = dyn Fn(u64, Option<u64>) + Send + Sync;

/// Limits every download obeys, from the acquisition configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadLimits {
    /// Give up when no byte arrived for this long (the transfer is stalled).
    pub stall_timeout: Duration,
    /// Refuse files larger than this (a 10-minute 24/192 FLAC is ~400 MB).
    pub max_bytes: u64,
    /// Give up on one transfer after this long in total (queued at the peer included).
    pub overall_timeout: Duration,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self {
            stall_timeout: Duration::from_secs(60),
            max_bytes: 1024 * 1024 * 1024,
            overall_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// A file a source fetched into the staging directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    /// Where the file is now (the `dest` the caller gave, possibly with another extension
    /// when the source only learns the real format while downloading).
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
}

/// One acquisition source. "Nothing found" is `Ok(vec![])`, not an error, so the scout can
/// tell an empty answer from a failed call. Errors carry an [`ErrorClass`] like every
/// platform error, so the retry table and the degraded-mode record apply unchanged.
///
/// [`ErrorClass`]: cratedigger_domain::ErrorClass
pub trait AcquisitionSource: Send + Sync {
    /// Who this source is and what it can do.
    fn info(&self) -> &SourceInfo;

    /// Every place this source offers the wanted track (downloadable files, store pages,
    /// streams), with what it announces about the audio. The ranking judges them.
    fn find<'a>(&'a self, target: &'a WantedTrack) -> PlatformFuture<'a, Vec<SourceCandidate>>;

    /// Fetches a `Download` candidate of this source to `dest` (a path the caller chose
    /// inside the staging directory; never derived from anything the source said). A
    /// partial file is removed on failure. Sources that cannot download answer with a
    /// `BadRequest` error.
    fn download<'a>(
        &'a self,
        candidate: &'a SourceCandidate,
        dest: &'a Path,
        limits: &'a DownloadLimits,
        progress: &'a ProgressFn,
    ) -> PlatformFuture<'a, DownloadedFile>;
}

/// A source left out at start-up, and why (one line in the log, listed by the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledSource {
    /// Source id.
    pub id: String,
    /// Sentence for a person.
    pub reason: String,
}

/// The enabled acquisition sources, in registration order.
#[derive(Clone, Default)]
pub struct SourceRegistry {
    sources: Vec<Arc<dyn AcquisitionSource>>,
    disabled: Vec<DisabledSource>,
}

impl std::fmt::Debug for SourceRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRegistry")
            .field("enabled", &self.ids())
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl SourceRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a source built from configuration, or records why it was left out.
    pub fn try_register<S, F>(&mut self, id: &str, enabled: bool, build: F)
    where
        S: AcquisitionSource + 'static,
        F: FnOnce() -> Result<S, PlatformError>,
    {
        if !enabled {
            tracing::info!(source = id, "acquisition source disabled in configuration");
            self.disabled.push(DisabledSource {
                id: id.into(),
                reason: "disabled in configuration".into(),
            });
            return;
        }
        match build() {
            Ok(s) => self.register(Arc::new(s)),
            Err(e) => {
                tracing::warn!(source = id, reason = %e, "acquisition source left out");
                self.disabled.push(DisabledSource {
                    id: id.into(),
                    reason: e.to_string(),
                });
            }
        }
    }

    /// Adds (or replaces, by id) a source.
    pub fn register(&mut self, source: Arc<dyn AcquisitionSource>) {
        let id = source.info().id;
        self.sources.retain(|s| s.info().id != id);
        self.sources.push(source);
    }

    /// The source with this id, if enabled.
    pub fn get(&self, id: &str) -> Option<Arc<dyn AcquisitionSource>> {
        self.sources.iter().find(|s| s.info().id == id).cloned()
    }

    /// Every enabled source.
    pub fn enabled(&self) -> Vec<Arc<dyn AcquisitionSource>> {
        self.sources.clone()
    }

    /// Ids of the enabled sources.
    pub fn ids(&self) -> Vec<&'static str> {
        self.sources.iter().map(|s| s.info().id).collect()
    }

    /// Sources left out, with the reason.
    pub fn disabled(&self) -> &[DisabledSource] {
        &self.disabled
    }
}
