//! 1001tracklists for discovery: a DJ set's tracklist page becomes a sync
//! (`cratedigger sync https://www.1001tracklists.com/tracklist/<id>/<name>.html`).
//!
//! The page is HTML (no public API). Each played track is a `div.tlpItem` row carrying
//! schema.org microdata — `meta[itemprop=name]` "Artist - Title (X Remix)",
//! `byArtist`, `publisher` (the label, when the site knows it), `duration`, `url` — which
//! is what we read, with a real HTML parser. Unidentified tracks ("ID - ID", "Bicep - ID")
//! are listed as skipped with the reason. The DJ's own edits ("(Live Edit)" beside the
//! title) are not release versions and are ignored.
//!
//! 1001tracklists often answers a script-less client with an anti-bot page ("Please wait,
//! you will be forwarded…", a hidden `captcha` field) and HTTP 200. That page is recognised
//! and reported as "1001tracklists blocked the request with an anti-bot challenge" (class
//! `RateLimit`, so the job is retried later), never as an empty tracklist. Nothing is done
//! to get past it.

mod client;
pub mod parse;

pub use client::{BLOCKED, ID, Tracklists};

use serde::{Deserialize, Serialize};

/// 1001tracklists settings (`CRATEDIGGER__PLATFORMS__TRACKLISTS__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TracklistsConfig {
    /// Off refuses 1001tracklists addresses with a sentence.
    pub enabled: bool,
    /// Site scheme and host (tests point it at a local server).
    pub base_url: String,
    /// Whole-request timeout in seconds.
    pub timeout_secs: u64,
}

impl Default for TracklistsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://www.1001tracklists.com".into(),
            timeout_secs: 20,
        }
    }
}
