//! Bandcamp as an acquisition source: the site's search page finds track and album pages,
//! whose `data-tralbum` JSON says what the artist offers. Every matching track becomes a
//! `Purchase` candidate (the track page, with the price as the page states it) with the
//! 128 kbit/s stream as its preview; a track the artist gives away without asking for an
//! e-mail address (`freeDownloadPage` set) becomes a `Download` candidate.
//!
//! The free download itself follows the site's own steps, reverse-engineered by yt-dlp's
//! Bandcamp extractor and free-bandcamp-downloader (there is no public API and the kit has
//! no recorded free-download page): the download page's `#pagedata[data-blob]` lists
//! `digital_items[0].downloads` by format; the best format's address is asked through
//! `/statdownload/` for a fresh `retry_url`, which is the file. Name-your-price items with
//! a zero minimum that need an e-mail address, and album downloads (zip files), stay links.
//!
//! HTML is parsed with a real parser (`scraper`), never with regular expressions; pages
//! larger than [`MAX_PAGE_BYTES`] are refused; only `bandcamp.com` hosts are fetched.

mod client;
pub mod page;

pub use client::{Bandcamp, ID};

use serde::{Deserialize, Serialize};

/// Largest HTML page read (the kit's pages are ~200 KB).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Bandcamp settings (`CRATEDIGGER__SOURCES__BANDCAMP__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BandcampConfig {
    /// Off removes the source.
    pub enabled: bool,
    /// Scheme and host of the site (tests point it at a local server; every page address,
    /// artist subdomains included, is then fetched from there by its path).
    pub base_url: String,
    /// Whole-request timeout for pages, in seconds.
    pub timeout_secs: u64,
    /// Most track/album pages fetched per wanted track after the search (each is one
    /// request).
    pub max_pages: usize,
    /// Offer the artist's free downloads as `Download` candidates (otherwise they are links).
    pub free_downloads: bool,
}

impl Default for BandcampConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://bandcamp.com".into(),
            timeout_secs: 15,
            max_pages: 3,
            free_downloads: true,
        }
    }
}
