//! Beatport client (API v4) and mappers (v4, and the retired v3 for saved answers).

use super::models::{Page, Track, V3Page, V3Track};
use super::{BeatportConfig, TOKEN_ENV};
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, note_missing_field};
use crate::mapping::normalize_isrc;
use crate::platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
use cratedigger_domain::{ArtistCredit, ArtistRole, ErrorClass, PlatformTrack};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// Platform id.
pub const ID: &str = "beatport";

/// What a person reads when Beatport answers 401/403 (the caller adds which sources remain).
pub const AUTH_REFUSED: &str =
    "Beatport refused the token: check CRATEDIGGER__PLATFORMS__BEATPORT__TOKEN";

/// Hard ceiling on pages followed, whatever the configuration says.
const MAX_PAGES_CEILING: usize = 200;

/// Items per page of list endpoints (charts); Beatport's maximum.
const LIST_PAGE: u32 = 100;

/// Public track pages live here (the API's own `url` fields point at the API).
const WEB: &str = "https://www.beatport.com";

/// Fields of a v4 track object the mapper relies on; an answer without one of them is
/// counted and logged once as probable API drift.
const RELIED_ON: &[&str] = &[
    "name",
    "mix_name",
    "artists",
    "remixers",
    "bpm",
    "key",
    "isrc",
    "length_ms",
    "genre",
    "release",
];

static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Beatport",
    // `/v4/catalog/tracks/?isrc=` filters by ISRC (not in Beatport's public docs, but used
    // by several clients); answers are checked against the ISRC asked for anyway.
    supports_isrc: true,
    needs_credentials: true,
    // Beatport publishes no limit; 2/s is what other clients settled on. Configurable.
    default_rate_limit: RateLimit {
        requests: 2,
        per: Duration::from_secs(1),
    },
};

/// Missing fields seen per field name since the process started (API drift).
static MISSING: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// How often each relied-on field was missing from a Beatport answer in this process, so
/// metrics and tests can see API drift instead of silently empty data.
pub fn missing_field_counts() -> Vec<(&'static str, u64)> {
    MISSING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect()
}

/// Counts the relied-on fields `raw` lacks: here (for [`missing_field_counts`]) and in the
/// shared drift metric, which also logs each field once with the request.
fn note_missing(raw: &serde_json::Value, request: &str) {
    let Some(obj) = raw.as_object() else {
        return;
    };
    for field in RELIED_ON {
        if obj.contains_key(*field) {
            continue;
        }
        *MISSING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(field)
            .or_insert(0) += 1;
        note_missing_field(ID, field, request);
    }
}

/// Beatport API v4 client. `Debug` shows the HTTP client, whose bearer header is redacted.
#[derive(Debug, Clone)]
pub struct Beatport {
    http: HttpClient,
    base: String,
    per_page: u32,
    max_pages: usize,
}

impl Beatport {
    /// Client from configuration with the process's shared layer (limiter, breaker,
    /// caches); fails (so the registry leaves Beatport out with the reason) when no token
    /// is configured.
    pub fn from_config(
        cfg: &BeatportConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        if cfg.token().is_none() {
            return Err(missing_token());
        }
        let client = ctx.http_client(
            &INFO,
            http.client_options(&http.user_agent, cfg.timeout_secs),
        )?;
        Self::with_client(client, cfg)
    }

    /// Client over a prepared HTTP client (tests inject a recording sleeper this way); takes
    /// the base URL, token and paging from `cfg` and installs the bearer header.
    pub fn with_client(http: HttpClient, cfg: &BeatportConfig) -> Result<Self, PlatformError> {
        let token = cfg.token().ok_or_else(missing_token)?;
        let http = http.with_header("authorization", &format!("Bearer {token}"), true)?;
        Ok(Self {
            http,
            base: cfg.base_url.trim_end_matches('/').to_string(),
            per_page: cfg.per_page.clamp(1, LIST_PAGE),
            max_pages: cfg.max_pages.clamp(1, MAX_PAGES_CEILING),
        })
    }

    /// URL of a track search for free text (one page).
    pub fn search_url(&self, query: &str) -> String {
        format!(
            "{}/v4/catalog/search/?q={}&type=tracks&per_page={}",
            self.base,
            urlencoding::encode(&search_text(query)),
            self.per_page
        )
    }

    /// URL of the tracks carrying `isrc`.
    pub fn isrc_url(&self, isrc: &str) -> String {
        format!(
            "{}/v4/catalog/tracks/?isrc={}&per_page={}",
            self.base,
            urlencoding::encode(isrc),
            self.per_page
        )
    }

    /// URL of a track lookup (`id` must be numeric, see [`Beatport::track`]).
    pub fn track_url(&self, id: &str) -> String {
        format!(
            "{}/v4/catalog/tracks/{}/",
            self.base,
            urlencoding::encode(id)
        )
    }

    /// URL of the first page of a chart's tracks.
    pub fn chart_tracks_url(&self, chart_id: &str) -> String {
        format!(
            "{}/v4/catalog/charts/{}/tracks/?per_page={LIST_PAGE}",
            self.base,
            urlencoding::encode(chart_id)
        )
    }

    /// Searches tracks by artist and title (the title may carry the mix in brackets; its
    /// words are searched too). One page of [`BeatportConfig::per_page`] hits.
    pub async fn search_tracks(
        &self,
        artist: &str,
        title: &str,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let url = self.search_url(&format!("{artist} {title}"));
        match self.page(&url).await {
            Ok(page) => Ok(self.map_items(page.tracks.or(page.results), &url)),
            Err(e) if e.class == ErrorClass::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Every hit of a free-text track search, following `next` for up to `max_pages`
    /// pages (also bounded by the configured `max_pages`).
    pub async fn search_all(
        &self,
        query: &str,
        max_pages: usize,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        self.collect_pages(self.search_url(query), max_pages.min(self.max_pages))
            .await
    }

    /// Tracks carrying `isrc`. Hits whose own ISRC differs are dropped (and logged), so a
    /// filter the server ignored never becomes a false exact match.
    pub async fn tracks_by_isrc(&self, isrc: &str) -> Result<Vec<PlatformTrack>, PlatformError> {
        let wanted = normalize_isrc(isrc).ok_or_else(|| {
            PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!("'{isrc}' is not a valid ISRC"),
            )
        })?;
        let url = self.isrc_url(&wanted);
        let page = match self.page(&url).await {
            Ok(p) => p,
            Err(e) if e.class == ErrorClass::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let all = self.map_items(page.results.or(page.tracks), &url);
        let total = all.len();
        let hits: Vec<PlatformTrack> = all
            .into_iter()
            .filter(|t| t.isrc.as_deref() == Some(wanted.as_str()))
            .collect();
        if hits.len() < total {
            tracing::warn!(
                platform = ID,
                isrc = %wanted,
                dropped = total - hits.len(),
                "Beatport's ISRC lookup returned tracks with another ISRC; they were dropped"
            );
        }
        Ok(hits)
    }

    /// One track by Beatport id; `None` when Beatport does not know it (404). A non-numeric
    /// id is refused without a call.
    pub async fn track(&self, id: &str) -> Result<Option<PlatformTrack>, PlatformError> {
        let id = id.trim();
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!("'{id}' is not a Beatport track id (digits only)"),
            ));
        }
        let url = self.track_url(id);
        match self
            .http
            .get_json_with_retry::<serde_json::Value>(&url)
            .await
        {
            Ok(f) => {
                note_missing(&f.body, &url);
                map_track(f.body).map(Some)
            }
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(explain(e)),
        }
    }

    /// Every track of a chart (a sync source), following `next` for up to the configured
    /// `max_pages` pages.
    pub async fn chart_tracks(&self, chart_id: &str) -> Result<Vec<PlatformTrack>, PlatformError> {
        let id = chart_id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!("'{chart_id}' is not a Beatport chart id (digits only)"),
            ));
        }
        self.collect_pages(self.chart_tracks_url(id), self.max_pages)
            .await
    }

    /// Follows `next` (rebased onto our base URL, so a local server keeps serving) until
    /// there is none, a page adds nothing new, `count` is reached, a link repeats, or
    /// `max_pages` pages were read.
    async fn collect_pages(
        &self,
        first: String,
        max_pages: usize,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let mut url = first;
        let mut out: Vec<PlatformTrack> = Vec::new();
        let mut seen_ids = HashSet::new();
        let mut seen_urls = HashSet::new();
        for _ in 0..max_pages.max(1) {
            seen_urls.insert(url.clone());
            let page = self.page(&url).await?;
            let before = out.len();
            for t in self.map_items(page.tracks.or(page.results), &url) {
                if seen_ids.insert(t.platform_id.clone()) {
                    out.push(t);
                }
            }
            let done =
                out.len() == before || page.count.is_some_and(|total| out.len() as u64 >= total);
            match page.next.filter(|n| !n.is_empty()).map(|n| self.rebase(&n)) {
                Some(next) if !done && !seen_urls.contains(&next) => url = next,
                _ => break,
            }
        }
        Ok(out)
    }

    async fn page(&self, url: &str) -> Result<Page, PlatformError> {
        self.http
            .get_json_with_retry::<Page>(url)
            .await
            .map(|f| f.body)
            .map_err(explain)
    }

    fn map_items(&self, items: Option<Vec<serde_json::Value>>, url: &str) -> Vec<PlatformTrack> {
        items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| {
                note_missing(&v, url);
                match map_track(v) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        tracing::warn!(error = %e, request = url, "skipping a Beatport track that does not map");
                        None
                    }
                }
            })
            .collect()
    }

    /// Puts a `next` link's path and query onto our base URL. Beatport writes some links
    /// without a scheme (`api.beatport.com/v4/...`); relative ones (`/v4/...`) work too.
    fn rebase(&self, link: &str) -> String {
        let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        format!("{}{}", self.base, path)
    }
}

impl MetadataPlatform for Beatport {
    fn info(&self) -> &PlatformInfo {
        &INFO
    }

    fn lookup_isrc<'a>(&'a self, isrc: &'a str) -> PlatformFuture<'a, Vec<PlatformTrack>> {
        Box::pin(self.tracks_by_isrc(isrc))
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

fn missing_token() -> PlatformError {
    PlatformError::missing_credential(
        ID,
        "Beatport",
        TOKEN_ENV,
        "bearer token",
        "API v4 answers only requests with an OAuth bearer token",
    )
}

/// A refused token gets the sentence a person can act on.
fn explain(e: PlatformError) -> PlatformError {
    e.explain_auth(AUTH_REFUSED)
}

/// Search text: brackets and quotes become spaces, whitespace collapses.
fn search_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '(' | ')' | '[' | ']' | '"') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Decodes HTML character references (`&#9839;`, `&#x266D;`, `&amp;`, `&sharp;`...):
/// Beatport v3 wrote key names as "D&#9839;maj". Unknown or malformed references are kept
/// as written; never panics on any input.
pub fn decode_html_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(j, _)| j);
        if let Some(end) = end
            && let Some(c) = entity_char(&tail[1..end])
        {
            out.push(c);
            rest = &tail[end + 1..];
            continue;
        }
        out.push('&');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

fn entity_char(name: &str) -> Option<char> {
    let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse::<u32>().ok()?
    } else {
        return match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            "sharp" => Some('\u{266f}'),
            "flat" => Some('\u{266d}'),
            "natural" => Some('\u{266e}'),
            _ => None,
        };
    };
    char::from_u32(code).filter(|c| *c != '\0')
}

/// Trimmed, entity-decoded, `None` when empty.
fn text(s: Option<String>) -> Option<String> {
    s.map(|s| decode_html_entities(s.trim()))
        .filter(|s| !s.is_empty())
}

fn web_url(slug: Option<&str>, id: u64) -> String {
    let slug = slug
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("track");
    format!("{WEB}/track/{slug}/{id}")
}

fn push_artist(artists: &mut Vec<ArtistCredit>, name: Option<String>, role: ArtistRole) {
    if let Some(name) = text(name)
        && !artists.iter().any(|a| a.name == name && a.role == role)
    {
        artists.push(ArtistCredit { name, role });
    }
}

/// Maps one v4 track object to a [`PlatformTrack`], keeping the object as `raw`. `name` is
/// the title and `mix_name` the mix, both as Beatport writes them ("Original Mix" stays);
/// `artists` are main artists and `remixers` remixers; the key keeps Beatport's spelling
/// ("Ab Minor"); a missing or zero BPM is unknown; the cover is the release image.
pub fn map_track(raw: serde_json::Value) -> Result<PlatformTrack, PlatformError> {
    let t: Track = serde::Deserialize::deserialize(&raw).map_err(|e| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("track object does not have the expected shape: {e}"),
        )
    })?;
    let mut artists = Vec::new();
    for a in t.artists.unwrap_or_default() {
        push_artist(&mut artists, a.name, ArtistRole::Main);
    }
    for a in t.remixers.unwrap_or_default() {
        push_artist(&mut artists, a.name, ArtistRole::Remixer);
    }
    let release = t.release;
    Ok(PlatformTrack {
        platform: ID.into(),
        platform_id: t.id.to_string(),
        url: Some(web_url(t.slug.as_deref(), t.id)),
        title: text(t.name).unwrap_or_default(),
        mix: text(t.mix_name),
        artists,
        label: release
            .as_ref()
            .and_then(|r| r.label.as_ref())
            .and_then(|l| text(l.name.clone())),
        catalog_number: text(t.catalog_number).or_else(|| {
            release
                .as_ref()
                .and_then(|r| text(r.catalog_number.clone()))
        }),
        isrc: t.isrc.as_deref().and_then(normalize_isrc),
        release_title: release.as_ref().and_then(|r| text(r.name.clone())),
        release_date: text(t.new_release_date).or_else(|| text(t.publish_date)),
        duration_ms: t.length_ms.and_then(|ms| u32::try_from(ms).ok()),
        bpm: t
            .bpm
            .filter(|b| b.is_finite() && *b > 0.0 && *b < 1000.0)
            .map(|b| b as f32),
        key: t.key.and_then(|k| text(k.name)),
        genre: t.genre.and_then(|g| text(g.name)),
        artwork_url: release
            .and_then(|r| r.image)
            .and_then(|i| i.uri)
            .filter(|u| !u.trim().is_empty()),
        raw: Some(raw),
    })
}

/// Maps one legacy v3 track object (`/catalog/3/tracks`, v3 search items of type "track").
/// v3 wrote keys with HTML entities ("D&#9839;maj"): they are decoded ("D♯maj") and
/// otherwise kept as written; artists of type "remixer" are remixers.
pub fn map_v3_track(raw: serde_json::Value) -> Result<PlatformTrack, PlatformError> {
    let t: V3Track = serde::Deserialize::deserialize(&raw).map_err(|e| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("v3 track object does not have the expected shape: {e}"),
        )
    })?;
    let mut artists = Vec::new();
    for a in t.artists.unwrap_or_default() {
        let role = if a.kind.as_deref() == Some("remixer") {
            ArtistRole::Remixer
        } else {
            ArtistRole::Main
        };
        push_artist(&mut artists, a.name, role);
    }
    let image = t.images.and_then(|i| i.large);
    Ok(PlatformTrack {
        platform: ID.into(),
        platform_id: t.id.to_string(),
        url: Some(web_url(t.slug.as_deref(), t.id)),
        title: text(t.name).unwrap_or_default(),
        mix: text(t.mix_name),
        artists,
        label: t.label.and_then(|l| text(l.name)),
        catalog_number: None,
        isrc: t.isrc.as_deref().and_then(normalize_isrc),
        release_title: t.release.and_then(|r| text(r.name)),
        release_date: text(t.release_date).or_else(|| text(t.publish_date)),
        duration_ms: t.length_ms.and_then(|ms| u32::try_from(ms).ok()),
        bpm: t
            .bpm
            .filter(|b| b.is_finite() && *b > 0.0 && *b < 1000.0)
            .map(|b| b as f32),
        key: t.key.and_then(|k| text(k.short_name)),
        genre: t
            .genres
            .and_then(|g| g.into_iter().next())
            .and_then(|g| text(g.name)),
        artwork_url: image.and_then(|i| i.secure_url.or(i.url)),
        raw: Some(raw),
    })
}

/// Maps the tracks of a v3 list answer (track lookup or mixed search), skipping items of
/// other types (labels, releases, ...) and tracks that do not map.
pub fn map_v3_page(raw: serde_json::Value) -> Result<Vec<PlatformTrack>, PlatformError> {
    let page: V3Page = serde_json::from_value(raw).map_err(|e| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("v3 answer does not have the expected shape: {e}"),
        )
    })?;
    Ok(page
        .results
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.get("type").and_then(|t| t.as_str()) == Some("track"))
        .filter_map(|v| match map_v3_track(v) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a Beatport v3 track that does not map");
                None
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp() -> Beatport {
        Beatport::from_config(
            &BeatportConfig {
                base_url: "http://127.0.0.1:9/".into(),
                token: Some("t0k3n".into()),
                ..Default::default()
            },
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap()
    }

    #[test]
    fn urls_follow_the_v4_paths() {
        let b = bp();
        assert_eq!(
            b.search_url("deadmau5 Strobe (Layton Giordani Extended Remix)"),
            "http://127.0.0.1:9/v4/catalog/search/?q=deadmau5%20Strobe%20Layton%20Giordani%20Extended%20Remix&type=tracks&per_page=25"
        );
        assert_eq!(
            b.isrc_url("GBTDG1302861"),
            "http://127.0.0.1:9/v4/catalog/tracks/?isrc=GBTDG1302861&per_page=25"
        );
        assert_eq!(
            b.track_url("19431036"),
            "http://127.0.0.1:9/v4/catalog/tracks/19431036/"
        );
        assert_eq!(
            b.rebase("api.beatport.com/v4/catalog/search/?q=strobe&type=tracks&page=2&per_page=3"),
            "http://127.0.0.1:9/v4/catalog/search/?q=strobe&type=tracks&page=2&per_page=3"
        );
        assert_eq!(
            b.rebase("https://evil.example/v4/x/?page=2"),
            "http://127.0.0.1:9/v4/x/?page=2",
            "a next link never leaves our base URL"
        );
    }

    #[test]
    fn html_entities_decode_and_bad_ones_stay() {
        assert_eq!(decode_html_entities("D&#9839;maj"), "D\u{266f}maj");
        assert_eq!(decode_html_entities("A&#9837; major"), "A\u{266d} major");
        assert_eq!(decode_html_entities("B&#x266D;min"), "B\u{266d}min");
        assert_eq!(decode_html_entities("Above &amp; Beyond"), "Above & Beyond");
        assert_eq!(decode_html_entities("Tom & Jerry"), "Tom & Jerry");
        assert_eq!(decode_html_entities("&#99999999999;"), "&#99999999999;");
        assert_eq!(decode_html_entities("&#0;&bogus;&"), "&#0;&bogus;&");
        assert_eq!(decode_html_entities("&é;&#xD800;"), "&é;&#xD800;");
    }

    #[tokio::test]
    async fn invalid_ids_and_isrcs_are_refused_without_a_call() {
        let b = bp();
        assert_eq!(
            b.track("../users/me").await.unwrap_err().class,
            ErrorClass::BadRequest
        );
        assert_eq!(
            b.tracks_by_isrc("nope").await.unwrap_err().class,
            ErrorClass::BadRequest
        );
        assert_eq!(
            b.chart_tracks("x").await.unwrap_err().class,
            ErrorClass::BadRequest
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let b = bp();
        let shown = format!("{b:?}");
        assert!(!shown.contains("t0k3n"), "{shown}");
        let cfg = BeatportConfig {
            token: Some("t0k3n".into()),
            ..Default::default()
        };
        assert!(!format!("{cfg:?}").contains("t0k3n"));
        assert!(!serde_json::to_string(&cfg).unwrap().contains("t0k3n"));
    }

    #[test]
    fn blank_token_is_missing() {
        let err = Beatport::from_config(
            &BeatportConfig {
                token: Some("  ".into()),
                ..Default::default()
            },
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::Auth);
        assert!(err.to_string().contains(TOKEN_ENV), "{err}");
    }
}
