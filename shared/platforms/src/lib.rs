//! Metadata platform clients behind one resilient HTTP layer.
//!
//! Each platform lives in its own folder (`client.rs`, `models.rs`, `mod.rs`), implements
//! [`MetadataPlatform`], and is registered in [`Registry::from_config`]: adding a platform is
//! one folder plus one registration line. Every client goes through [`http::HttpClient`], which
//! classifies failures ([`PlatformError`]) and applies the product's retry policy; built with
//! [`PlatformContext::http_client`] it also gets the fleet-wide rate limiter ([`limiter`]),
//! the circuit breaker ([`breaker`]) and the response caches ([`cache`]).

pub mod acquisition;
pub mod bandcamp;
pub mod beatport;
pub mod breaker;
pub mod cache;
pub mod config;
pub mod context;
pub mod deezer;
pub mod discogs;
pub mod download;
pub mod http;
pub mod inspect;
pub mod limiter;
pub mod mapping;
pub mod mixcloud;
pub mod musicbrainz;
pub mod platform;
pub mod registry;
pub mod soulseek;
pub mod soundcloud;
pub mod sources;
pub mod sources_config;
pub mod spotify;
pub mod stores;
pub mod tracklists;
pub mod youtube;

pub use acquisition::{
    AcquisitionSource, DisabledSource, DownloadLimits, DownloadedFile, ProgressFn, SourceInfo,
    SourceRegistry,
};
pub use config::{DeezerConfig, HttpConfig, MusicBrainzConfig, PlatformsConfig};
pub use context::PlatformContext;
pub use http::{
    Fetched, HttpClient, PlatformError, RequestOptions, RetryPolicy, note_missing_field,
    note_missing_key_fields,
};
pub use platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
pub use registry::{DisabledPlatform, Registry};
pub use sources_config::{SourcesConfig, build_sources};
