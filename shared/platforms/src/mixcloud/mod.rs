//! Mixcloud for discovery: a show's (cloudcast's) tracklist becomes a sync
//! (`cratedigger sync https://www.mixcloud.com/<user>/<show>/`).
//!
//! What the public API gives: `GET https://api.mixcloud.com/<user>/<show>/` answers the
//! show's name, owner, length and tags, and — only when the uploader published one and
//! Mixcloud lets the API show it — `sections`, the tracklist (`track.artist.name`,
//! `track.name`, `position`, `section_type`). Many shows since Mixcloud's licensing changes
//! carry no `sections`; such a show is refused with a sentence saying so, never read as an
//! empty sync. The API gives no label, mix field, duration or identifier per track: the mix
//! comes from the title's bracket ("(X Remix)"). The kit's payloads are from 2014-2019.

mod client;

pub use client::{ID, Mixcloud, tracklist_entries};

use serde::{Deserialize, Serialize};

/// Mixcloud settings (`CRATEDIGGER__PLATFORMS__MIXCLOUD__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MixcloudConfig {
    /// Off refuses Mixcloud addresses with a sentence.
    pub enabled: bool,
    /// API scheme and host (tests point it at a local server).
    pub base_url: String,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
}

impl Default for MixcloudConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://api.mixcloud.com".into(),
            timeout_secs: 15,
        }
    }
}
