//! Store links as acquisition options: Beatport and Bandcamp (where the user can buy the
//! track) and Deezer and Spotify (where the user can listen to it). No audio is fetched and
//! nothing is circumvented: every candidate is a link a person opens.
//!
//! Given only a wanted track ([`AcquisitionSource::find`]), each store gets a search link;
//! given the metadata scout's resolved platform tracks ([`StoreLinks::from_platform_tracks`]),
//! a track a store itself described gets its real page. Deezer and Spotify sell nothing, so
//! their links are `Stream`, never `Purchase`.
//!
//! Also home of the small text helpers the HTML and JSON sources share: untrusted text is
//! cleaned and bounded ([`clean_text`]) before it is stored or shown, and search queries are
//! built from the wanted track ([`search_query`]).

use crate::acquisition::{
    AcquisitionSource, DownloadLimits, DownloadedFile, ProgressFn, SourceInfo,
};
use crate::http::PlatformError;
use crate::platform::{PlatformFuture, RateLimit};
use cratedigger_domain::acquisition::{Availability, SourceCandidate};
use cratedigger_domain::{ErrorClass, PlatformTrack, WantedTrack};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Source id.
pub const ID: &str = "stores";

/// Longest text kept from a source (titles, artists, prices): enough for any real title,
/// small enough that a hostile page cannot bloat a row.
pub const MAX_TEXT_CHARS: usize = 300;

static INFO: SourceInfo = SourceInfo {
    id: ID,
    display_name: "Store links",
    can_download: false,
    needs_credentials: false,
    // no request is ever sent: links are built locally
    default_rate_limit: RateLimit {
        requests: 1000,
        per: Duration::from_secs(1),
    },
    // a store's own page: the most trustworthy place to get the real release
    trust: 0.9,
};

/// Store links settings (`CRATEDIGGER__SOURCES__STORES__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoresConfig {
    /// Off removes the source.
    pub enabled: bool,
    /// Stores offered, by id: any of "beatport", "bandcamp", "deezer", "spotify".
    pub stores: Vec<String>,
}

impl Default for StoresConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            stores: KNOWN_STORES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Every store this source can link to.
pub const KNOWN_STORES: [&str; 4] = ["beatport", "bandcamp", "deezer", "spotify"];

/// The store-links source.
#[derive(Debug, Clone)]
pub struct StoreLinks {
    stores: Vec<&'static str>,
}

impl StoreLinks {
    /// From configuration; an unknown store id is an error naming the known ones.
    pub fn from_config(cfg: &StoresConfig) -> Result<Self, PlatformError> {
        let mut stores = Vec::new();
        for s in &cfg.stores {
            let id = KNOWN_STORES
                .iter()
                .find(|k| k.eq_ignore_ascii_case(s.trim()))
                .ok_or_else(|| {
                    PlatformError::new(
                        ID,
                        ErrorClass::BadRequest,
                        format!(
                            "unknown store '{}' in CRATEDIGGER__SOURCES__STORES__STORES; known: {}",
                            clean_text(s, 40),
                            KNOWN_STORES.join(", ")
                        ),
                    )
                })?;
            if !stores.contains(id) {
                stores.push(*id);
            }
        }
        Ok(Self { stores })
    }

    /// One search link per configured store.
    pub fn search_links(&self, target: &WantedTrack) -> Vec<SourceCandidate> {
        let q = search_query(target);
        if q.is_empty() {
            return Vec::new();
        }
        let enc = urlencoding::encode(&q);
        self.stores
            .iter()
            .map(|store| {
                let (name, url, availability) = match *store {
                    "beatport" => (
                        "Beatport",
                        format!("https://www.beatport.com/search/tracks?q={enc}"),
                        Availability::Purchase,
                    ),
                    "bandcamp" => (
                        "Bandcamp",
                        format!("https://bandcamp.com/search?q={enc}&item_type=t"),
                        Availability::Purchase,
                    ),
                    "deezer" => (
                        "Deezer",
                        format!("https://www.deezer.com/search/{enc}/track"),
                        Availability::Stream,
                    ),
                    _ => (
                        "Spotify",
                        format!("https://open.spotify.com/search/{enc}/tracks"),
                        Availability::Stream,
                    ),
                };
                SourceCandidate {
                    source: ID.into(),
                    source_key: format!("{store}:search:{}", q.to_lowercase()),
                    title: format!("Search {name} for \u{201c}{q}\u{201d}"),
                    availability,
                    url: Some(url),
                    ..Default::default()
                }
            })
            .collect()
    }

    /// The store pages among the metadata scout's resolved tracks (a Beatport or Deezer
    /// match with its `url`): a real page beats a search link. Tracks of other platforms,
    /// stores not configured, and addresses that are not http(s) on the store's own host
    /// are left out.
    pub fn from_platform_tracks(&self, tracks: &[PlatformTrack]) -> Vec<SourceCandidate> {
        let mut out: Vec<SourceCandidate> = Vec::new();
        for t in tracks {
            let Some(store) = self.stores.iter().find(|s| **s == t.platform) else {
                continue;
            };
            let Some(url) = t.url.as_deref().filter(|u| store_host_ok(store, u)) else {
                continue;
            };
            if out.iter().any(|c| c.url.as_deref() == Some(url)) {
                continue;
            }
            let availability = match *store {
                "beatport" | "bandcamp" => Availability::Purchase,
                _ => Availability::Stream,
            };
            let title = match &t.mix {
                Some(m) => format!("{} ({m})", t.title),
                None => t.title.clone(),
            };
            out.push(SourceCandidate {
                source: ID.into(),
                source_key: format!("{store}:{}", clean_text(&t.platform_id, 64)),
                title: clean_text(&title, MAX_TEXT_CHARS),
                artist: Some(clean_text(&t.main_artist(), MAX_TEXT_CHARS))
                    .filter(|a| !a.is_empty()),
                release: t
                    .release_title
                    .as_deref()
                    .map(|r| clean_text(r, MAX_TEXT_CHARS)),
                availability,
                url: Some(url.to_string()),
                duration_ms: t.duration_ms,
                ..Default::default()
            });
        }
        out
    }
}

/// Whether `url` is http(s) on the store's own host (a platform's `url` field is its word;
/// a link elsewhere is not offered as that store).
fn store_host_ok(store: &str, url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return false;
    }
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let domain = match store {
        "beatport" => "beatport.com",
        "bandcamp" => "bandcamp.com",
        "deezer" => "deezer.com",
        _ => "spotify.com",
    };
    host == domain || host.ends_with(&format!(".{domain}"))
}

impl AcquisitionSource for StoreLinks {
    fn info(&self) -> &SourceInfo {
        &INFO
    }

    fn find<'a>(&'a self, target: &'a WantedTrack) -> PlatformFuture<'a, Vec<SourceCandidate>> {
        Box::pin(async move { Ok(self.search_links(target)) })
    }

    fn download<'a>(
        &'a self,
        _candidate: &'a SourceCandidate,
        _dest: &'a Path,
        _limits: &'a DownloadLimits,
        _progress: &'a ProgressFn,
    ) -> PlatformFuture<'a, DownloadedFile> {
        Box::pin(async {
            Err(PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                "store links are pages to buy or listen on; they are never downloaded",
            ))
        })
    }
}

/// Untrusted text made safe to store and show: control characters dropped, whitespace runs
/// collapsed to one space, trimmed, and cut to `max_chars` characters.
pub fn clean_text(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut count = 0usize;
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        {
            continue;
        }
        if pending_space {
            if count + 1 >= max_chars {
                break;
            }
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        if count >= max_chars {
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// "Artist Title Mix" for a search box: cleaned, at most 200 characters.
pub fn search_query(target: &WantedTrack) -> String {
    let mut q = format!("{} {}", target.artist, target.title);
    if let Some(mix) = target.mix.as_deref().filter(|m| !m.trim().is_empty()) {
        q.push(' ');
        q.push_str(mix);
    }
    clean_text(&q, 200)
}

/// Lower-case alphanumeric words of `s` (accents kept; punctuation dropped), for loose
/// matching of listing titles against the wanted track.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Whether every word of the shorter text occurs in the longer one: a cheap filter so a
/// source only fetches pages that may be the track; the quality assessor ranks properly.
pub fn loosely_matches(a: &str, b: &str) -> bool {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return false;
    }
    let (short, long) = if wa.len() <= wb.len() {
        (wa, wb)
    } else {
        (wb, wa)
    };
    short.iter().all(|w| long.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> WantedTrack {
        WantedTrack {
            artist: "Bicep".into(),
            title: "Glue".into(),
            mix: Some("Original Mix".into()),
            ..Default::default()
        }
    }

    #[test]
    fn search_links_cover_every_configured_store_and_never_download() {
        let s = StoreLinks::from_config(&StoresConfig::default()).unwrap();
        let links = s.search_links(&wanted());
        assert_eq!(links.len(), 4);
        let bp = &links[0];
        assert_eq!(
            bp.url.as_deref(),
            Some("https://www.beatport.com/search/tracks?q=Bicep%20Glue%20Original%20Mix")
        );
        assert_eq!(bp.availability, Availability::Purchase);
        assert!(
            links
                .iter()
                .all(|c| !c.is_downloadable() && c.download.is_none())
        );
        assert_eq!(
            links[2].availability,
            Availability::Stream,
            "Deezer sells nothing"
        );
        assert_eq!(
            links[3].availability,
            Availability::Stream,
            "Spotify sells nothing"
        );
    }

    #[test]
    fn unknown_stores_are_refused_with_the_known_list() {
        let e = StoreLinks::from_config(&StoresConfig {
            enabled: true,
            stores: vec!["itunes".into()],
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("beatport, bandcamp, deezer, spotify"),
            "{e}"
        );
    }

    #[test]
    fn resolved_store_tracks_give_their_real_pages_only_on_the_store_host() {
        let s = StoreLinks::from_config(&StoresConfig::default()).unwrap();
        let bp = PlatformTrack {
            platform: "beatport".into(),
            platform_id: "19431036".into(),
            title: "Strobe".into(),
            mix: Some("Original Mix".into()),
            url: Some("https://www.beatport.com/track/strobe/19431036".into()),
            ..Default::default()
        };
        let evil = PlatformTrack {
            platform: "deezer".into(),
            platform_id: "1".into(),
            title: "X".into(),
            url: Some("https://deezer.com.evil.example/track/1".into()),
            ..Default::default()
        };
        let mb = PlatformTrack {
            platform: "musicbrainz".into(),
            url: Some("https://musicbrainz.org/recording/x".into()),
            ..Default::default()
        };
        let c = s.from_platform_tracks(&[bp, evil, mb]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].availability, Availability::Purchase);
        assert_eq!(c[0].title, "Strobe (Original Mix)");
        assert_eq!(c[0].source_key, "beatport:19431036");
    }

    #[test]
    fn clean_text_drops_controls_and_bounds_length() {
        assert_eq!(clean_text("  a\u{0}b\n\tc  ", 10), "ab c");
        assert_eq!(clean_text("../../x\u{202e}gpj", 50), "../../xgpj");
        assert_eq!(clean_text(&"é".repeat(500), 300).chars().count(), 300);
    }

    #[test]
    fn loose_matching_is_word_containment() {
        assert!(loosely_matches("Glue", "Bicep - Glue (Original Mix)"));
        assert!(!loosely_matches("Glue", "Apricots"));
        assert!(!loosely_matches("", "x"));
    }
}
