//! Metadata platform clients behind one resilient HTTP layer.
//!
//! Each platform lives in its own folder (`client.rs`, `models.rs`, `mod.rs`), implements
//! [`MetadataPlatform`], and is registered in [`Registry::from_config`]: adding a platform is
//! one folder plus one registration line. Every client goes through [`http::HttpClient`], which
//! classifies failures ([`PlatformError`]) and applies the product's retry policy.

pub mod config;
pub mod deezer;
pub mod http;
pub mod mapping;
pub mod musicbrainz;
pub mod platform;
pub mod registry;

pub use config::{DeezerConfig, HttpConfig, MusicBrainzConfig, PlatformsConfig};
pub use http::{Fetched, HttpClient, PlatformError, RetryPolicy};
pub use platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
pub use registry::{DisabledPlatform, Registry};
