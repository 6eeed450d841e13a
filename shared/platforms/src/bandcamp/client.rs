//! The Bandcamp source: search page → track/album pages → candidates; free downloads.

use super::page::{self, ResultKind, SearchResult};
use super::{BandcampConfig, MAX_PAGE_BYTES};
use crate::acquisition::{
    AcquisitionSource, DownloadLimits, DownloadedFile, ProgressFn, SourceInfo,
};
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::download::{Downloader, FinalName, redact};
use crate::http::{HttpClient, PlatformError, RequestOptions};
use crate::platform::{PlatformFuture, PlatformInfo, RateLimit};
use crate::stores::{loosely_matches, search_query};
use cratedigger_domain::acquisition::{DownloadRef, SourceCandidate};
use cratedigger_domain::{ErrorClass, WantedTrack};
use std::path::Path;
use std::time::Duration;

/// Source id.
pub const ID: &str = "bandcamp";

/// Bandcamp publishes no limit; one page a second keeps us a polite visitor.
const RATE: RateLimit = RateLimit {
    requests: 30,
    per: Duration::from_secs(30),
};

static INFO: SourceInfo = SourceInfo {
    id: ID,
    display_name: "Bandcamp",
    can_download: true,
    needs_credentials: false,
    default_rate_limit: RATE,
    // the artist's or label's own store: the real file, as they released it
    trust: 0.85,
};

static PLATFORM: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Bandcamp",
    supports_isrc: false,
    needs_credentials: false,
    default_rate_limit: RATE,
};

/// The Bandcamp source. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Bandcamp {
    http: HttpClient,
    downloader: Downloader,
    base: String,
    /// True when `base` is the real site: addresses are fetched as they are (bandcamp.com
    /// hosts only); otherwise (tests) their path is fetched from `base`.
    live: bool,
    max_pages: usize,
    free_downloads: bool,
}

impl Bandcamp {
    /// The source from configuration, over the process's shared layer.
    pub fn from_config(
        cfg: &BandcampConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        let mut opts = http.client_options(&http.user_agent, cfg.timeout_secs);
        opts.max_body_bytes = opts.max_body_bytes.min(MAX_PAGE_BYTES);
        let client = ctx.http_client(&PLATFORM, opts)?.with_header(
            "accept",
            "text/html,application/json;q=0.9,*/*;q=0.5",
            false,
        )?;
        let base = cfg.base_url.trim_end_matches('/').to_string();
        let live = reqwest::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case("bandcamp.com")))
            .unwrap_or(false);
        Ok(Self {
            http: client,
            downloader: Downloader::new(ctx, &PLATFORM, http, &http.user_agent)?,
            base,
            live,
            max_pages: cfg.max_pages,
            free_downloads: cfg.free_downloads,
        })
    }

    fn err(&self, class: ErrorClass, detail: impl Into<String>) -> PlatformError {
        PlatformError::new(ID, class, detail)
    }

    /// The address to request for a Bandcamp address: as is on the real site (only
    /// `bandcamp.com` and its subdomains, plus `bcbits.com` when `files` is set), its path
    /// and query on `base` otherwise.
    fn address(&self, url: &str, files: bool) -> Result<String, PlatformError> {
        let u = reqwest::Url::parse(url).map_err(|_| {
            self.err(
                ErrorClass::BadRequest,
                format!("'{}' is not an address", redact(url)),
            )
        })?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(self.err(ErrorClass::BadRequest, "only http(s) addresses are fetched"));
        }
        if !self.live {
            let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            return Ok(format!("{}{}{query}", self.base, u.path()));
        }
        let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
        let ok = host == "bandcamp.com"
            || host.ends_with(".bandcamp.com")
            || (files && (host == "bcbits.com" || host.ends_with(".bcbits.com")));
        if !ok {
            return Err(self.err(
                ErrorClass::BadRequest,
                format!(
                    "{host} is not a Bandcamp host; cratedigger only fetches bandcamp.com pages (artist pages on their own domains are skipped)"
                ),
            ));
        }
        Ok(u.to_string())
    }

    async fn get_text(&self, url: &str, files: bool) -> Result<String, PlatformError> {
        let addr = self.address(url, files)?;
        let body = self
            .http
            .get_bytes_with(&addr, &RequestOptions::new().uncached())
            .await?
            .body;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// The search results for the wanted track (one page of the site's search).
    pub async fn search(&self, target: &WantedTrack) -> Result<Vec<SearchResult>, PlatformError> {
        let q = search_query(target);
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let url = format!("{}/search?q={}&page=1", self.base, urlencoding::encode(&q));
        let html = match self
            .http
            .get_bytes_with(&url, &RequestOptions::new().uncached())
            .await
        {
            Ok(f) => String::from_utf8_lossy(&f.body).into_owned(),
            Err(e) if e.class == ErrorClass::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(page::parse_search(&html))
    }

    /// The pages worth fetching: matching tracks first, then albums by the wanted artist,
    /// at most `max_pages`.
    pub fn pick_pages(&self, results: &[SearchResult], target: &WantedTrack) -> Vec<String> {
        let artist_ok = |r: &SearchResult| {
            target.artist.trim().is_empty()
                || r.artist
                    .as_deref()
                    .is_some_and(|a| loosely_matches(a, &target.artist))
        };
        let tracks = results.iter().filter(|r| {
            r.kind == ResultKind::Track && artist_ok(r) && loosely_matches(&r.title, &target.title)
        });
        let albums = results.iter().filter(|r| {
            r.kind == ResultKind::Album
                && artist_ok(r)
                && target
                    .album
                    .as_deref()
                    .is_none_or(|a| loosely_matches(&r.title, a))
        });
        let mut out: Vec<String> = Vec::new();
        for r in tracks.chain(albums) {
            if out.len() >= self.max_pages {
                break;
            }
            if !out.contains(&r.url) {
                out.push(r.url.clone());
            }
        }
        out
    }

    /// Candidates of one track or album page.
    pub async fn page_candidates(
        &self,
        url: &str,
        target: &WantedTrack,
    ) -> Result<Vec<SourceCandidate>, PlatformError> {
        let html = self.get_text(url, false).await?;
        let parsed = page::parse_tralbum_page(&html)
            .map_err(|e| self.err(ErrorClass::Malformed, format!("{}: {e}", redact(url))))?;
        Ok(page::candidates(&parsed, url, target, self.free_downloads))
    }

    async fn find_all(&self, target: &WantedTrack) -> Result<Vec<SourceCandidate>, PlatformError> {
        let results = self.search(target).await?;
        let pages = self.pick_pages(&results, target);
        let mut out: Vec<SourceCandidate> = Vec::new();
        let mut first_error = None;
        for url in pages {
            match self.page_candidates(&url, target).await {
                Ok(cands) => {
                    for c in cands {
                        if !out.iter().any(|o| o.source_key == c.source_key) {
                            out.push(c);
                        }
                    }
                }
                Err(e) if e.class == ErrorClass::NotFound => {}
                Err(e) => {
                    tracing::warn!(source = ID, page = %redact(&url), error = %e, "a Bandcamp page could not be read");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    }

    async fn download_free(
        &self,
        candidate: &SourceCandidate,
        dest: &Path,
        limits: &DownloadLimits,
        progress: &ProgressFn,
    ) -> Result<DownloadedFile, PlatformError> {
        let page_url = match (&candidate.download, candidate.source.as_str()) {
            (Some(DownloadRef::Http { url }), ID) => url.clone(),
            _ => {
                return Err(self.err(
                    ErrorClass::BadRequest,
                    "not a Bandcamp free-download candidate (only the artist's free downloads are fetched; everything else is a link to buy)",
                ));
            }
        };
        let html = self.get_text(&page_url, false).await?;
        let file = page::parse_free_download_page(&html)
            .map_err(|e| self.err(ErrorClass::Malformed, format!("{}: {e}", redact(&page_url))))?;
        if file.item_type.as_deref() == Some("a") {
            return Err(self.err(
                ErrorClass::BadRequest,
                "this free download is a whole album (a zip file); cratedigger fetches single tracks, so open the page instead",
            ));
        }
        let ext = page::extension_for_format(&file.format).ok_or_else(|| {
            self.err(
                ErrorClass::Malformed,
                "the offered format has no known extension",
            )
        })?;
        // Bandcamp's own page asks /statdownload/ for a fresh address before fetching
        // (reverse-engineered by yt-dlp); the first address is kept when it gives none.
        let stat = stat_url(&file.url);
        let file_url = match stat {
            Some(stat) => match self.get_text(&stat, true).await {
                Ok(body) => page::parse_stat_answer(&body).unwrap_or_else(|| file.url.clone()),
                Err(e) => {
                    tracing::debug!(source = ID, error = %e, "statdownload failed; trying the first address");
                    file.url.clone()
                }
            },
            None => file.url.clone(),
        };
        let addr = self.address(&file_url, true)?;
        let dest = dest.with_extension(ext);
        self.downloader
            .fetch(&addr, &dest, FinalName::AsGiven, limits, progress)
            .await
    }
}

/// `/download/…` → `/statdownload/…` with the cache-busting `.rand` and `.vrs=1` the site's
/// script adds; `None` when the address has no `/download/` path.
fn stat_url(url: &str) -> Option<String> {
    let mut u = reqwest::Url::parse(url).ok()?;
    let path = u.path().to_string();
    let rest = path.strip_prefix("/download/")?;
    u.set_path(&format!("/statdownload/{rest}"));
    let rand: u32 = rand::random();
    u.query_pairs_mut()
        .append_pair(".rand", &rand.to_string())
        .append_pair(".vrs", "1");
    Some(u.to_string())
}

impl AcquisitionSource for Bandcamp {
    fn info(&self) -> &SourceInfo {
        &INFO
    }

    fn find<'a>(&'a self, target: &'a WantedTrack) -> PlatformFuture<'a, Vec<SourceCandidate>> {
        Box::pin(self.find_all(target))
    }

    fn download<'a>(
        &'a self,
        candidate: &'a SourceCandidate,
        dest: &'a Path,
        limits: &'a DownloadLimits,
        progress: &'a ProgressFn,
    ) -> PlatformFuture<'a, DownloadedFile> {
        Box::pin(self.download_free(candidate, dest, limits, progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_addresses_follow_the_site_script() {
        let s =
            stat_url("https://popplers5.bandcamp.com/download/track?enc=flac&id=1&sig=x").unwrap();
        assert!(
            s.starts_with(
                "https://popplers5.bandcamp.com/statdownload/track?enc=flac&id=1&sig=x&.rand="
            ),
            "{s}"
        );
        assert!(s.ends_with("&.vrs=1"), "{s}");
        assert_eq!(stat_url("https://p4.bcbits.com/file.flac"), None);
    }

    #[test]
    fn only_bandcamp_hosts_are_fetched_on_the_real_site() {
        let b = Bandcamp::from_config(
            &BandcampConfig::default(),
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap();
        assert!(
            b.address("https://c418.bandcamp.com/album/one", false)
                .is_ok()
        );
        assert!(
            b.address("https://bandcamp.com.evil.example/x", false)
                .is_err()
        );
        assert!(b.address("https://p4.bcbits.com/x.flac", false).is_err());
        assert!(b.address("https://p4.bcbits.com/x.flac", true).is_ok());
        assert!(b.address("http://127.0.0.1/admin", true).is_err());
        assert!(b.address("file:///etc/passwd", false).is_err());
    }
}
