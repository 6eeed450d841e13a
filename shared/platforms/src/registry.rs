//! The set of platforms a worker may query, built from configuration. A platform that is
//! disabled or cannot be built is left out with one clear line instead of crashing the worker.

use crate::config::PlatformsConfig;
use crate::context::PlatformContext;
use crate::deezer::Deezer;
use crate::musicbrainz::MusicBrainz;
use crate::platform::MetadataPlatform;
use std::sync::Arc;

/// A platform left out of the registry, and why (for the startup log and the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledPlatform {
    /// Platform id.
    pub id: String,
    /// Sentence for a person.
    pub reason: String,
}

/// Platforms by id, in registration order.
#[derive(Clone, Default)]
pub struct Registry {
    platforms: Vec<Arc<dyn MetadataPlatform>>,
    disabled: Vec<DisabledPlatform>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("enabled", &self.ids())
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl Registry {
    /// An empty registry (tests register their own platforms).
    pub fn new() -> Self {
        Self::default()
    }

    /// Every configured platform; one registration line per platform. `ctx` is the
    /// process's shared layer (fleet-wide limiter, breakers, caches): a platform builds its
    /// HTTP client with [`PlatformContext::http_client`].
    pub fn from_config(cfg: &PlatformsConfig, ctx: &PlatformContext) -> Registry {
        let mut reg = Registry::new();
        reg.try_register("musicbrainz", cfg.musicbrainz.enabled, || {
            MusicBrainz::from_config(&cfg.musicbrainz, &cfg.http, ctx)
        });
        reg.try_register("deezer", cfg.deezer.enabled, || {
            Deezer::from_config(&cfg.deezer, &cfg.http, ctx)
        });
        reg.try_register("discogs", cfg.discogs.enabled, || {
            crate::discogs::Discogs::from_config(&cfg.discogs, &cfg.http, ctx)
        });
        reg.try_register("beatport", cfg.beatport.enabled, || {
            crate::beatport::Beatport::from_config(&cfg.beatport, &cfg.http, ctx)
        });
        reg.try_register("spotify", cfg.spotify.enabled, || {
            crate::spotify::Spotify::from_config(&cfg.spotify, &cfg.http, ctx)
        });
        reg
    }

    fn try_register<P, F>(&mut self, id: &str, enabled: bool, build: F)
    where
        P: MetadataPlatform + 'static,
        F: FnOnce() -> Result<P, crate::http::PlatformError>,
    {
        if !enabled {
            tracing::info!(platform = id, "platform disabled in configuration");
            self.disabled.push(DisabledPlatform {
                id: id.into(),
                reason: "disabled in configuration".into(),
            });
            return;
        }
        match build() {
            Ok(p) => self.register(Arc::new(p)),
            Err(e) => {
                tracing::warn!(platform = id, reason = %e, "platform left out");
                self.disabled.push(DisabledPlatform {
                    id: id.into(),
                    reason: e.to_string(),
                });
            }
        }
    }

    /// Adds (or replaces, by id) a platform.
    pub fn register(&mut self, platform: Arc<dyn MetadataPlatform>) {
        let id = platform.info().id;
        self.platforms.retain(|p| p.info().id != id);
        self.platforms.push(platform);
    }

    /// The platform with this id, if enabled.
    pub fn get(&self, id: &str) -> Option<Arc<dyn MetadataPlatform>> {
        self.platforms.iter().find(|p| p.info().id == id).cloned()
    }

    /// Every enabled platform, in registration order.
    pub fn enabled(&self) -> Vec<Arc<dyn MetadataPlatform>> {
        self.platforms.clone()
    }

    /// Ids of the enabled platforms.
    pub fn ids(&self) -> Vec<&'static str> {
        self.platforms.iter().map(|p| p.info().id).collect()
    }

    /// Platforms left out, with the reason.
    pub fn disabled(&self) -> &[DisabledPlatform] {
        &self.disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_enabled_platforms_and_reports_disabled_ones() {
        let reg = Registry::from_config(&PlatformsConfig::default(), &PlatformContext::default());
        assert_eq!(reg.ids(), vec!["musicbrainz", "deezer"]);
        let mb = reg.get("musicbrainz").expect("musicbrainz registered");
        assert!(mb.info().supports_isrc);
        assert!(!mb.info().needs_credentials);
        assert!(reg.get("spotify").is_none());

        let mut cfg = PlatformsConfig::default();
        cfg.deezer.enabled = false;
        let reg = Registry::from_config(&cfg, &PlatformContext::local(&cfg));
        assert_eq!(reg.ids(), vec!["musicbrainz"]);
        assert_eq!(reg.disabled()[0].id, "deezer");
        assert_eq!(reg.enabled().len(), 1);
    }
}
