//! The 1001tracklists reader: one page fetch through the shared layer, then the parser.

use super::TracklistsConfig;
use super::parse::{Page, parse_page};
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, RequestOptions};
use crate::platform::{PlatformInfo, RateLimit};
use crate::spotify::PlaylistEntryOutcome;
use cratedigger_domain::ErrorClass;
use std::time::Duration;

/// Platform id.
pub const ID: &str = "1001tracklists";

/// What a person reads when the site answered with its anti-bot page.
pub const BLOCKED: &str = "1001tracklists blocked the request with an anti-bot challenge (a \"please wait, you will be forwarded\" page instead of the tracklist); cratedigger does not get past such pages, so try again later or copy the tracklist into a text file and sync that";

/// Largest page read (the kit's tracklist page is 225 KB).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The site is quick to block; a page every 5 s at most, fleet-wide.
static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "1001Tracklists",
    supports_isrc: false,
    needs_credentials: false,
    default_rate_limit: RateLimit {
        requests: 12,
        per: Duration::from_secs(60),
    },
};

/// The 1001tracklists reader. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Tracklists {
    http: HttpClient,
    base: String,
}

impl Tracklists {
    /// The reader from configuration, over the process's shared layer.
    pub fn from_config(
        cfg: &TracklistsConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        let mut opts = http.client_options(&http.user_agent, cfg.timeout_secs);
        opts.max_body_bytes = opts.max_body_bytes.min(MAX_PAGE_BYTES);
        let http = ctx.http_client(&INFO, opts)?.with_header(
            "accept",
            "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            false,
        )?;
        Ok(Self {
            http,
            base: cfg.base_url.trim_end_matches('/').to_string(),
        })
    }

    /// The entries of tracklist `<id>/<slug>` (both validated by the caller), live. The
    /// anti-bot page is a `RateLimit` error saying so ([`BLOCKED`]).
    pub async fn tracklist(
        &self,
        id: &str,
        slug: &str,
    ) -> Result<Vec<PlaylistEntryOutcome>, PlatformError> {
        let url = format!(
            "{}/tracklist/{}/{}.html",
            self.base,
            urlencoding::encode(id),
            urlencoding::encode(slug)
        );
        let body = self
            .http
            .get_bytes_with(&url, &RequestOptions::new().uncached())
            .await?
            .body;
        let html = String::from_utf8_lossy(&body);
        match parse_page(&html, "https://www.1001tracklists.com") {
            Page::Tracklist(entries) => Ok(entries),
            Page::Challenge => {
                // the request itself was counted `ok` by the HTTP layer; this says why
                // it gave nothing
                metrics::counter!("cratedigger_platform_challenges_total", "platform" => ID)
                    .increment(1);
                Err(PlatformError::new(
                    ID,
                    ErrorClass::RateLimit,
                    format!("GET {url} answered HTTP 200 with the anti-bot challenge page"),
                )
                .with_headline(BLOCKED))
            }
        }
    }
}
