//! Settings of the acquisition sources (`[sources]` in the configuration file,
//! `CRATEDIGGER__SOURCES__<SOURCE>__<KEY>` in the environment) and [`build_sources`], which
//! turns them into the registry the discovery and acquisition scouts use: one field and one
//! registration line per source.

use crate::acquisition::SourceRegistry;
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use serde::{Deserialize, Serialize};

/// Every acquisition source's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourcesConfig {
    /// Soulseek through the user's slskd (API key from
    /// `CRATEDIGGER__SOURCES__SOULSEEK__API_KEY`).
    pub soulseek: crate::soulseek::SoulseekConfig,
    /// Bandcamp search, buy links and the artist's free downloads
    /// (`CRATEDIGGER__SOURCES__BANDCAMP__*`).
    pub bandcamp: crate::bandcamp::BandcampConfig,
    /// SoundCloud api-v2 (client id from `CRATEDIGGER__SOURCES__SOUNDCLOUD__CLIENT_ID`).
    pub soundcloud: crate::soundcloud::SoundCloudConfig,
    /// YouTube through yt-dlp, off by default (`CRATEDIGGER__SOURCES__YOUTUBE__*`).
    pub youtube: crate::youtube::YouTubeConfig,
    /// Store links: Beatport, Bandcamp, Deezer, Spotify (`CRATEDIGGER__SOURCES__STORES__*`).
    pub stores: crate::stores::StoresConfig,
}

/// The enabled sources, built with the process's shared layer (`ctx`: fleet-wide limits,
/// breakers, caches, and the Soulseek budget in Redis). A source that is disabled or cannot
/// be built (a missing credential) is left out with one clear line in the log and a reason
/// in [`SourceRegistry::disabled`].
pub fn build_sources(
    cfg: &SourcesConfig,
    http: &HttpConfig,
    ctx: &PlatformContext,
) -> SourceRegistry {
    let mut reg = SourceRegistry::new();
    reg.try_register("soulseek", cfg.soulseek.enabled, || {
        crate::soulseek::Soulseek::from_config(&cfg.soulseek, http, ctx)
    });
    reg.try_register("bandcamp", cfg.bandcamp.enabled, || {
        crate::bandcamp::Bandcamp::from_config(&cfg.bandcamp, http, ctx)
    });
    reg.try_register("soundcloud", cfg.soundcloud.enabled, || {
        crate::soundcloud::SoundCloud::from_config(&cfg.soundcloud, http, ctx)
    });
    reg.try_register("youtube", cfg.youtube.enabled, || {
        crate::youtube::YouTube::from_config(&cfg.youtube)
    });
    reg.try_register("stores", cfg.stores.enabled, || {
        crate::stores::StoreLinks::from_config(&cfg.stores)
    });
    reg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soulseek_without_a_key_is_left_out_with_the_variable_named() {
        let reg = build_sources(
            &SourcesConfig::default(),
            &HttpConfig::default(),
            &PlatformContext::default(),
        );
        assert!(reg.get("soulseek").is_none());
        let d = reg
            .disabled()
            .iter()
            .find(|d| d.id == "soulseek")
            .expect("soulseek listed as disabled");
        assert!(
            d.reason
                .contains("CRATEDIGGER__SOURCES__SOULSEEK__API_KEY is not set"),
            "{}",
            d.reason
        );

        let mut cfg = SourcesConfig::default();
        cfg.soulseek.api_key = Some("key".into());
        let reg = build_sources(&cfg, &HttpConfig::default(), &PlatformContext::default());
        assert!(reg.ids().contains(&"soulseek"));
        let s = reg.get("soulseek").unwrap();
        assert!(s.info().can_download && s.info().needs_credentials);

        cfg.soulseek.enabled = false;
        let reg = build_sources(&cfg, &HttpConfig::default(), &PlatformContext::default());
        assert!(!reg.ids().contains(&"soulseek"));
        assert_eq!(reg.disabled()[0].reason, "disabled in configuration");
    }

    #[test]
    fn web_sources_default_to_bandcamp_and_store_links_only() {
        let reg = build_sources(
            &SourcesConfig::default(),
            &HttpConfig::default(),
            &PlatformContext::default(),
        );
        assert!(reg.get("bandcamp").is_some() && reg.get("stores").is_some());
        let why = |id: &str| {
            reg.disabled()
                .iter()
                .find(|d| d.id == id)
                .map(|d| d.reason.clone())
                .unwrap_or_default()
        };
        assert!(
            why("soundcloud").contains("CRATEDIGGER__SOURCES__SOUNDCLOUD__CLIENT_ID is not set"),
            "{}",
            why("soundcloud")
        );
        assert_eq!(
            why("youtube"),
            "disabled in configuration",
            "off by default"
        );
    }
}
