//! Deezer client and mapper.

use super::models::{ErrorEnvelope, Page, Track};
use crate::config::{DeezerConfig, HttpConfig};
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, RequestOptions, note_missing_key_fields};
use crate::mapping::{normalize_isrc, split_mix, strip_brackets};
use crate::platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
use cratedigger_domain::{ArtistCredit, ArtistRole, ErrorClass, PlatformTrack};
use std::time::Duration;

/// Platform id.
pub const ID: &str = "deezer";

/// Hits asked for per search.
const SEARCH_LIMIT: u32 = 25;

/// Most pages followed for one playlist (2,500 tracks at 25 a page); a server that keeps
/// sending `next` cannot keep us looping.
const MAX_PAGES: usize = 100;

static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Deezer",
    supports_isrc: true,
    needs_credentials: false,
    default_rate_limit: RateLimit {
        requests: 50,
        per: Duration::from_secs(5),
    },
};

/// Class of a Deezer error code, per Deezer's API docs (errors page): 4 quota, 100 items
/// limit, 200 permission, 300 invalid token, 500/501 parameter, 600 invalid query,
/// 700 service busy, 800 no data, 901 individual account not allowed.
pub fn error_class(code: i64) -> ErrorClass {
    match code {
        4 => ErrorClass::RateLimit,
        200 | 300 | 901 => ErrorClass::Auth,
        700 => ErrorClass::Server,
        800 => ErrorClass::NotFound,
        100 | 500 | 501 | 600 => ErrorClass::BadRequest,
        _ => ErrorClass::Server,
    }
}

/// Detects Deezer's HTTP-200 error object (installed as the HTTP client's body check).
/// A quota error asks for the 5-second window to pass.
pub fn error_in_body(body: &[u8]) -> Option<(ErrorClass, String, Option<Duration>)> {
    // cheap pre-check: a real answer without an "error" key is never parsed twice
    if !body.windows(7).any(|w| w == b"\"error\"") {
        return None;
    }
    let env: ErrorEnvelope = serde_json::from_slice(body).ok()?;
    let code = env.error.code.unwrap_or(-1);
    let class = error_class(code);
    let detail = format!(
        "Deezer error {code} {}: {}",
        env.error.kind.unwrap_or_default(),
        env.error.message.unwrap_or_default()
    );
    let wait = (class == ErrorClass::RateLimit).then_some(Duration::from_secs(5));
    Some((class, detail, wait))
}

/// Deezer API client.
#[derive(Debug, Clone)]
pub struct Deezer {
    http: HttpClient,
    base: String,
}

impl Deezer {
    /// Client from configuration, with the process's shared layer (limiter, breaker, caches).
    pub fn from_config(
        cfg: &DeezerConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        let client = ctx.http_client(
            &INFO,
            http.client_options(&http.user_agent, cfg.timeout_secs),
        )?;
        Ok(Self::with_client(client, &cfg.base_url))
    }

    /// Client over a prepared HTTP client; installs the error-object check.
    pub fn with_client(http: HttpClient, base_url: &str) -> Self {
        Self {
            http: http.with_body_check(error_in_body),
            base: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// URL of an advanced track search (`artist:"A" track:"T"`).
    pub fn search_url(&self, artist: &str, title: &str) -> String {
        let q = format!(
            "artist:\"{}\" track:\"{}\"",
            unquote(artist),
            unquote(title)
        );
        format!(
            "{}/search/track?q={}&limit={SEARCH_LIMIT}",
            self.base,
            urlencoding::encode(&q)
        )
    }

    /// URL of an ISRC lookup.
    pub fn isrc_url(&self, isrc: &str) -> String {
        format!("{}/track/isrc:{}", self.base, urlencoding::encode(isrc))
    }

    /// URL of a track lookup.
    pub fn track_url(&self, id: &str) -> String {
        format!("{}/track/{}", self.base, urlencoding::encode(id))
    }

    /// Advanced search by artist and title.
    pub async fn search_tracks(
        &self,
        artist: &str,
        title: &str,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let url = self.search_url(artist, title);
        match self.http.get_json_with_retry::<Page>(&url).await {
            Ok(f) => {
                let tracks = map_many(f.body.data.unwrap_or_default());
                for t in &tracks {
                    note_missing_key_fields(t, &url);
                }
                Ok(tracks)
            }
            Err(e) if e.class == ErrorClass::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The track with this ISRC; empty when Deezer answers "no data" (code 800).
    pub async fn track_by_isrc(&self, isrc: &str) -> Result<Vec<PlatformTrack>, PlatformError> {
        let wanted = normalize_isrc(isrc).ok_or_else(|| {
            PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!("'{isrc}' is not a valid ISRC"),
            )
        })?;
        Ok(self
            .fetch_track(&self.isrc_url(&wanted))
            .await?
            .into_iter()
            .collect())
    }

    /// One track by Deezer id; `None` on "no data".
    pub async fn track(&self, id: &str) -> Result<Option<PlatformTrack>, PlatformError> {
        self.fetch_track(&self.track_url(id)).await
    }

    async fn fetch_track(&self, url: &str) -> Result<Option<PlatformTrack>, PlatformError> {
        match self
            .http
            .get_json_with_retry::<serde_json::Value>(url)
            .await
        {
            Ok(f) => map_track(f.body).map(|t| {
                note_missing_key_fields(&t, url);
                Some(t)
            }),
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every track of a playlist, following `next` (rebased onto the configured base URL,
    /// so a local server keeps serving) until the total is reached, a page adds nothing new,
    /// or [`MAX_PAGES`] pages were read.
    pub async fn playlist_tracks(&self, id: &str) -> Result<Vec<PlatformTrack>, PlatformError> {
        let mut url = format!("{}/playlist/{}/tracks", self.base, urlencoding::encode(id));
        let mut out: Vec<PlatformTrack> = Vec::new();
        let mut seen_urls = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            seen_urls.insert(url.clone());
            // playlists change: always asked fresh
            let page: Page = self
                .http
                .get_json_with(&url, &RequestOptions::new().uncached())
                .await?
                .body;
            let before = out.len();
            for t in map_many(page.data.unwrap_or_default()) {
                if !out.iter().any(|o| o.platform_id == t.platform_id) {
                    out.push(t);
                }
            }
            let done =
                out.len() == before || page.total.is_some_and(|total| out.len() as u64 >= total);
            match page.next.map(|n| self.rebase(&n)) {
                Some(next) if !done && !seen_urls.contains(&next) => url = next,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Puts a `next` link's path and query onto our base URL.
    fn rebase(&self, link: &str) -> String {
        let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        format!("{}{}", self.base, path)
    }
}

impl MetadataPlatform for Deezer {
    fn info(&self) -> &PlatformInfo {
        &INFO
    }

    fn lookup_isrc<'a>(&'a self, isrc: &'a str) -> PlatformFuture<'a, Vec<PlatformTrack>> {
        Box::pin(self.track_by_isrc(isrc))
    }

    fn search<'a>(
        &'a self,
        artist: &'a str,
        title: &'a str,
    ) -> PlatformFuture<'a, Vec<PlatformTrack>> {
        Box::pin(self.search_tracks(artist, title))
    }

    fn lookup_id<'a>(&'a self, id: &'a str) -> PlatformFuture<'a, Option<PlatformTrack>> {
        Box::pin(self.track(id))
    }
}

/// Double quotes would end Deezer's quoted field value early; drop them.
fn unquote(s: &str) -> String {
    s.replace('"', " ").trim().to_string()
}

fn map_many(raw: Vec<serde_json::Value>) -> Vec<PlatformTrack> {
    raw.into_iter()
        .filter(|v| {
            v.get("type")
                .and_then(|t| t.as_str())
                .is_none_or(|t| t == "track")
        })
        .filter_map(|v| match map_track(v) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a Deezer track that does not map");
                None
            }
        })
        .collect()
}

/// Maps one Deezer track object to a [`PlatformTrack`], keeping the object as `raw`:
/// `title_version` becomes the mix, contributors give roles (the main `artist` when there
/// are none), `bpm: 0` is unknown, duration seconds become milliseconds.
pub fn map_track(raw: serde_json::Value) -> Result<PlatformTrack, PlatformError> {
    let t: Track = serde::Deserialize::deserialize(&raw).map_err(|e| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("track object does not have the expected shape: {e}"),
        )
    })?;
    let version = t.title_version.as_deref().and_then(strip_brackets);
    let (title, mix) = match (t.title_short.filter(|s| !s.trim().is_empty()), version) {
        (Some(short), Some(v)) => (short.trim().to_string(), Some(v)),
        (Some(short), None) => split_mix(&short),
        (None, v) => {
            let (title, mix) = split_mix(t.title.as_deref().unwrap_or_default());
            (title, v.or(mix))
        }
    };

    let mut artists: Vec<ArtistCredit> = t
        .contributors
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| {
            let role = match c.role.as_deref() {
                Some(r) if r.eq_ignore_ascii_case("featured") => ArtistRole::Featured,
                _ => ArtistRole::Main,
            };
            c.name
                .filter(|n| !n.is_empty())
                .map(|name| ArtistCredit { name, role })
        })
        .collect();
    if let Some(main) = t.artist.and_then(|a| a.name).filter(|n| !n.is_empty())
        && !artists.iter().any(|a| a.name == main)
    {
        artists.insert(
            0,
            ArtistCredit {
                name: main,
                role: ArtistRole::Main,
            },
        );
    }

    let album = t.album;
    Ok(PlatformTrack {
        platform: ID.into(),
        platform_id: t.id.to_string(),
        title,
        mix,
        artists,
        isrc: t.isrc.as_deref().and_then(normalize_isrc),
        release_title: album.as_ref().and_then(|a| a.title.clone()),
        release_date: t
            .release_date
            .or_else(|| album.as_ref().and_then(|a| a.release_date.clone()))
            .filter(|d| !d.is_empty() && d != "0000-00-00"),
        duration_ms: t.duration.map(|s| s.saturating_mul(1000)),
        bpm: t.bpm.filter(|b| *b > 0.0).map(|b| b as f32),
        artwork_url: album.and_then(|a| a.cover_xl.or(a.cover_big)),
        url: t.link,
        raw: Some(raw),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_follow_the_docs() {
        assert_eq!(error_class(800), ErrorClass::NotFound);
        assert_eq!(error_class(4), ErrorClass::RateLimit);
        assert_eq!(error_class(300), ErrorClass::Auth);
        assert_eq!(error_class(600), ErrorClass::BadRequest);
        assert_eq!(error_class(700), ErrorClass::Server);
    }

    #[test]
    fn body_check_sees_only_error_objects() {
        assert!(error_in_body(br#"{"id":1,"title":"x"}"#).is_none());
        assert!(error_in_body(br#"{"title":"\"error\""}"#).is_none());
        // Quota shape per Deezer docs (no recorded quota payload in the kit).
        let (class, detail, wait) = error_in_body(
            br#"{"error":{"type":"Exception","message":"Quota limit exceeded","code":4}}"#,
        )
        .unwrap();
        assert_eq!(class, ErrorClass::RateLimit);
        assert!(detail.contains("Quota limit exceeded"), "{detail}");
        assert_eq!(wait, Some(Duration::from_secs(5)));
    }

    #[test]
    fn urls_use_advanced_search_syntax() {
        let d = Deezer::from_config(
            &DeezerConfig {
                base_url: "http://127.0.0.1:9".into(),
                ..Default::default()
            },
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap();
        assert_eq!(
            d.search_url("Lou Doillon", "Joke"),
            "http://127.0.0.1:9/search/track?q=artist%3A%22Lou%20Doillon%22%20track%3A%22Joke%22&limit=25"
        );
        assert_eq!(
            d.isrc_url("GBDUW0000059"),
            "http://127.0.0.1:9/track/isrc:GBDUW0000059"
        );
        assert_eq!(
            d.rebase("https://api.deezer.com/playlist/9200461/tracks?index=25"),
            "http://127.0.0.1:9/playlist/9200461/tracks?index=25"
        );
    }

    #[test]
    fn zero_bpm_is_unknown_and_versions_become_mixes() {
        let t = map_track(serde_json::json!({
            "id": 1, "title": "One More Time (Radio Edit)", "title_short": "One More Time",
            "title_version": "(Radio Edit)", "bpm": 0, "duration": 10,
            "artist": {"name": "Daft Punk"}
        }))
        .unwrap();
        assert_eq!(t.title, "One More Time");
        assert_eq!(t.mix.as_deref(), Some("Radio Edit"));
        assert_eq!(t.bpm, None);
        assert_eq!(t.duration_ms, Some(10_000));
        assert_eq!(t.main_artist(), "Daft Punk");
    }
}
