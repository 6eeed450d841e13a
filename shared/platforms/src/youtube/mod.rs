//! YouTube through the external `yt-dlp` program, **off by default**: the user turns it on
//! (`CRATEDIGGER__SOURCES__YOUTUBE__ENABLED=true`) and is responsible for that choice and
//! for respecting the terms of the sites involved. cratedigger passes no option that
//! touches DRM: yt-dlp itself refuses DRM-protected formats, and nothing here works around
//! that. YouTube audio is lossy (Opus/AAC), so its candidates carry a low trust and the
//! ranking puts them below any store or lossless file.
//!
//! `find` runs `yt-dlp --flat-playlist --dump-json "ytsearch5:<artist title mix>"`;
//! `describe` runs `--dump-json` on one page address (a manual pick); `download` runs
//! `yt-dlp -x --audio-format best -o <staging>/<our name>.%(ext)s` with the download limits
//! (stall, size, overall time). Every run has a timeout, bounded output, and the process is
//! killed when the call is dropped; a failed download leaves no file behind. Nothing yt-dlp
//! prints is used as a path: the output name is ours, and the finished file is found by it.

mod client;

pub use client::{ID, YouTube, map_entry};

use serde::{Deserialize, Serialize};

/// How to install yt-dlp, for error messages.
pub const INSTALL_HINT: &str = "install it with `pip install yt-dlp` (or your system's package) or set CRATEDIGGER__SOURCES__YOUTUBE__YTDLP_PATH";

/// YouTube settings (`CRATEDIGGER__SOURCES__YOUTUBE__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct YouTubeConfig {
    /// Off by default: downloading from YouTube is the user's decision.
    pub enabled: bool,
    /// The yt-dlp program: a name looked up in `PATH`, or a path.
    pub ytdlp_path: String,
    /// Search hits asked for (`ytsearchN:`).
    pub search_results: u32,
    /// Longest a search (or a `describe`) may run, in seconds.
    pub find_timeout_secs: u64,
    /// Most bytes of yt-dlp output read from one search.
    pub max_output_bytes: usize,
}

impl Default for YouTubeConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ytdlp_path: "yt-dlp".into(),
            search_results: 5,
            find_timeout_secs: 60,
            max_output_bytes: 4 * 1024 * 1024,
        }
    }
}
