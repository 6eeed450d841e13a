//! Spotify client (client-credentials token, bearer GETs through the shared HTTP layer)
//! and the mappers shared by the scout, the sync sources and `cratedigger inspect`.

use super::SpotifyConfig;
use super::models::{Paging, PlaylistEntry, SearchAnswer, TokenAnswer, TokenError, Track};
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, RequestOptions};
use crate::mapping::{is_featuring, normalize_isrc};
use crate::platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cratedigger_domain::{ArtistCredit, ArtistRole, ErrorClass, PlatformTrack};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Platform id.
pub const ID: &str = "spotify";

/// Hits asked for per search: since February 2026 Spotify caps `limit` at 10 for
/// development-mode apps, and the matcher needs no more.
const SEARCH_LIMIT: u32 = 10;

/// Playlist entries asked for per page (the `/items` endpoint's maximum).
const PLAYLIST_PAGE: u32 = 50;

/// A cached token is renewed this long before Spotify says it expires, so a request never
/// leaves with a token that dies on the way.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

/// Lifetime assumed when the token answer has no `expires_in` (Spotify's is one hour).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Where the credentials come from, for the sentences people read.
pub const CREDENTIAL_VARS: &str =
    "CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_ID and CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_SECRET";

static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Spotify",
    supports_isrc: true,
    needs_credentials: true,
    // Spotify publishes no number (a rolling 30 s window); 90 per 30 s stays well below what
    // apps observe before 429s. Override with CRATEDIGGER__PLATFORMS__LIMITS__SPOTIFY__*.
    default_rate_limit: RateLimit {
        requests: 90,
        per: Duration::from_secs(30),
    },
};

/// A bearer token and when to stop using it.
#[derive(Clone)]
struct CachedToken {
    value: String,
    expires_at: Instant,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CachedToken(<redacted>)")
    }
}

struct Inner {
    http: HttpClient,
    api_base: String,
    accounts_base: String,
    /// `Basic base64(id:secret)`, sent only to the token endpoint; never printed.
    basic: String,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    max_playlist_tracks: usize,
    max_playlist_pages: usize,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spotify")
            .field("api_base", &self.api_base)
            .field("accounts_base", &self.accounts_base)
            .field("credentials", &"<redacted>")
            .finish()
    }
}

/// Spotify Web API client. Cheap to clone; clones share the cached token.
#[derive(Debug, Clone)]
pub struct Spotify {
    inner: Arc<Inner>,
}

/// What one playlist entry became: a track, or a reason it was left out.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaylistEntryOutcome {
    /// A Spotify track, mapped.
    Track(Box<PlatformTrack>),
    /// Not a usable track (local file, episode, removed track, unreadable object).
    Skipped {
        /// What the entry showed, for the person reading the skip list.
        label: String,
        /// Why it was left out, as a sentence.
        reason: String,
    },
}

/// One page of a playlist (either the legacy `/tracks` or the 2026 `/items` shape).
#[derive(Debug, Clone, PartialEq)]
pub struct PlaylistPage {
    /// Entries in playlist order.
    pub entries: Vec<PlaylistEntryOutcome>,
    /// URL of the next page, as Spotify wrote it.
    pub next: Option<String>,
    /// Entries over all pages.
    pub total: Option<u64>,
}

/// A whole playlist as read: every entry in order, plus how the read went.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaylistRead {
    /// Entries in playlist order (position = index + 1).
    pub entries: Vec<PlaylistEntryOutcome>,
    /// Entries Spotify says the playlist has.
    pub total: Option<u64>,
    /// Pages fetched.
    pub pages: usize,
    /// Why reading stopped before `total`, if it did (track or page cap, a repeated page).
    pub stopped_early: Option<String>,
}

fn missing_credentials() -> PlatformError {
    PlatformError::new(ID, ErrorClass::Auth, "no client id and secret configured").with_headline(
        format!(
            "Spotify is left out: no app credentials are configured; set {CREDENTIAL_VARS} to use it"
        ),
    )
}

impl Spotify {
    /// Client from configuration over the process's shared layer (fleet-wide limiter,
    /// breaker, caches). Missing credentials are an error whose sentence says which
    /// variables to set; the registry turns it into one startup line.
    pub fn from_config(
        cfg: &SpotifyConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        if cfg.credentials().is_none() {
            return Err(missing_credentials());
        }
        let client = ctx.http_client(
            &INFO,
            http.client_options(&http.user_agent, cfg.timeout_secs),
        )?;
        Self::with_client(client, cfg)
    }

    /// Client over a prepared HTTP client (tests inject a recording sleeper this way); takes
    /// the URLs, credentials and playlist caps from `cfg`.
    pub fn with_client(http: HttpClient, cfg: &SpotifyConfig) -> Result<Self, PlatformError> {
        let (id, secret) = cfg.credentials().ok_or_else(missing_credentials)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base: cfg.base_url.trim_end_matches('/').to_string(),
                accounts_base: cfg.accounts_url.trim_end_matches('/').to_string(),
                basic: format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
                token: tokio::sync::Mutex::new(None),
                max_playlist_tracks: cfg.max_playlist_tracks.max(1),
                max_playlist_pages: cfg.max_playlist_pages.max(1),
            }),
        })
    }

    /// URL of a track search by artist and title (`artist:"A" track:"T"`).
    pub fn search_url(&self, artist: &str, title: &str) -> String {
        let q = format!(
            "artist:\"{}\" track:\"{}\"",
            unquote(artist),
            unquote(title)
        );
        self.search_query_url(&q)
    }

    /// URL of an ISRC lookup (a search with the `isrc:` filter).
    pub fn isrc_url(&self, isrc: &str) -> String {
        self.search_query_url(&format!("isrc:{isrc}"))
    }

    fn search_query_url(&self, q: &str) -> String {
        format!(
            "{}/v1/search?q={}&type=track&limit={SEARCH_LIMIT}",
            self.inner.api_base,
            urlencoding::encode(q)
        )
    }

    /// URL of a track lookup.
    pub fn track_url(&self, id: &str) -> String {
        format!(
            "{}/v1/tracks/{}",
            self.inner.api_base,
            urlencoding::encode(id)
        )
    }

    /// URL of a playlist's first page (the `/items` endpoint, tracks and episodes).
    pub fn playlist_items_url(&self, id: &str) -> String {
        format!(
            "{}/v1/playlists/{}/items?limit={PLAYLIST_PAGE}&additional_types=track%2Cepisode",
            self.inner.api_base,
            urlencoding::encode(id)
        )
    }

    /// URL of a playlist's first page on the legacy `/tracks` endpoint (before 2026).
    pub fn playlist_tracks_url(&self, id: &str) -> String {
        format!(
            "{}/v1/playlists/{}/tracks?limit={PLAYLIST_PAGE}&additional_types=track%2Cepisode",
            self.inner.api_base,
            urlencoding::encode(id)
        )
    }

    /// Track search by artist and title; the consolidator's matcher judges the hits.
    pub async fn search_tracks(
        &self,
        artist: &str,
        title: &str,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let answer: serde_json::Value = self.get_json(&self.search_url(artist, title)).await?;
        Ok(map_search(answer)?
            .into_iter()
            .filter_map(|r| r.ok())
            .collect())
    }

    /// Tracks carrying `isrc`. Hits whose own ISRC differs are dropped, so a fuzzy answer
    /// never becomes a false exact match.
    pub async fn tracks_by_isrc(&self, isrc: &str) -> Result<Vec<PlatformTrack>, PlatformError> {
        let wanted = normalize_isrc(isrc).ok_or_else(|| {
            PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!("'{isrc}' is not a valid ISRC"),
            )
        })?;
        let answer: serde_json::Value = self.get_json(&self.isrc_url(&wanted)).await?;
        Ok(map_search(answer)?
            .into_iter()
            .filter_map(|r| r.ok())
            .filter(|t| t.isrc.as_deref() == Some(wanted.as_str()))
            .collect())
    }

    /// One track by Spotify id (or `spotify:track:<id>`); `None` when Spotify does not
    /// know it (404).
    pub async fn track(&self, id: &str) -> Result<Option<PlatformTrack>, PlatformError> {
        let id = id.strip_prefix("spotify:track:").unwrap_or(id);
        check_id(id, "track")?;
        match self
            .get_json::<serde_json::Value>(&self.track_url(id))
            .await
        {
            Ok(v) => map_track(v).map(Some),
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every entry of a playlist in order, following `next` (rebased onto the configured
    /// base URL) until the total is reached, a page is empty or repeated, or the track or
    /// page cap is hit. Reads the 2026 `/items` endpoint and falls back to the legacy
    /// `/tracks` endpoint when `/items` answers 404. Pages bypass the response caches: a
    /// playlist read twice must show its current entries.
    pub async fn playlist(&self, id: &str) -> Result<PlaylistRead, PlatformError> {
        check_id(id, "playlist")?;
        let first_url = self.playlist_items_url(id);
        let (mut url, first) = match self
            .get_json_opts::<serde_json::Value>(&first_url, false)
            .await
        {
            Ok(v) => (first_url, v),
            Err(e) if e.class == ErrorClass::NotFound => {
                let legacy = self.playlist_tracks_url(id);
                tracing::debug!(playlist = id, "no /items answer, trying the legacy /tracks");
                let v = self
                    .get_json_opts::<serde_json::Value>(&legacy, false)
                    .await?;
                (legacy, v)
            }
            Err(e) => return Err(e),
        };
        let max_tracks = self.inner.max_playlist_tracks;
        let max_pages = self.inner.max_playlist_pages;
        let mut read = PlaylistRead {
            entries: Vec::new(),
            total: None,
            pages: 0,
            stopped_early: None,
        };
        let mut seen = HashSet::new();
        let mut body = first;
        loop {
            read.pages += 1;
            seen.insert(url.clone());
            let page = map_playlist_page(body)?;
            read.total = page.total.or(read.total);
            let got = page.entries.len();
            for e in page.entries {
                if read.entries.len() >= max_tracks {
                    read.stopped_early = Some(format!(
                        "the playlist has more than {max_tracks} entries; only the first {max_tracks} were read"
                    ));
                    return Ok(read);
                }
                read.entries.push(e);
            }
            let complete = read.total.is_some_and(|t| read.entries.len() as u64 >= t);
            let next = page.next.map(|n| rebase(&self.inner.api_base, &n));
            match next {
                _ if got == 0 || complete => break,
                None => break,
                Some(n) if seen.contains(&n) => {
                    read.stopped_early = Some(
                        "Spotify sent a page link it had already sent; reading stopped".into(),
                    );
                    break;
                }
                Some(_) if read.pages >= max_pages => {
                    read.stopped_early = Some(format!(
                        "the playlist has more than {max_pages} pages; only the first {max_pages} were read"
                    ));
                    break;
                }
                Some(n) => {
                    body = self.get_json_opts(&n, false).await?;
                    url = n;
                }
            }
        }
        if read.stopped_early.is_none()
            && let Some(total) = read.total
            && (read.entries.len() as u64) < total
        {
            read.stopped_early = Some(format!(
                "Spotify said the playlist has {total} entries but sent {}",
                read.entries.len()
            ));
        }
        Ok(read)
    }

    /// GET `url` as JSON with the bearer token through the shared layer (cached).
    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, PlatformError> {
        self.get_json_opts(url, true).await
    }

    /// GET `url` as JSON with the bearer token through the shared layer, from the response
    /// caches when `cached` (playlists change, so their pages are always read live); on 401
    /// the token is fetched again once, and a second 401 is a final auth error.
    async fn get_json_opts<T: DeserializeOwned>(
        &self,
        url: &str,
        cached: bool,
    ) -> Result<T, PlatformError> {
        let opts = |token: &str| {
            let o = RequestOptions::new().bearer(token);
            if cached { o } else { o.uncached() }
        };
        let token = self.token(None).await?;
        let first = match self.inner.http.get_json_with::<T>(url, &opts(&token)).await {
            Ok(f) => return Ok(f.body),
            Err(e) if is_unauthorized(&e) => e,
            Err(e) => return Err(e),
        };
        tracing::info!(
            platform = ID,
            "token refused (HTTP 401), fetching a new one"
        );
        let fresh = self.token(Some(&token)).await?;
        match self
            .inner
            .http
            .get_json_with::<T>(url, &opts(&fresh))
            .await
        {
            Ok(f) => Ok(f.body),
            Err(e) if is_unauthorized(&e) => Err(PlatformError {
                detail: format!("{} (the token before it was refused too: {})", e.detail, first.detail),
                ..e
            }
            .with_headline(format!(
                "Spotify refused a freshly issued token: check {CREDENTIAL_VARS}; continuing with the other platforms"
            ))),
            Err(e) => Err(e),
        }
    }

    /// The cached token, or a new one when there is none, it is about to expire, or it is
    /// `stale` (just refused). Callers queue on the lock, so one fetch serves them all.
    async fn token(&self, stale: Option<&str>) -> Result<String, PlatformError> {
        let mut cached = self.inner.token.lock().await;
        if let Some(t) = cached.as_ref() {
            let fresh = Instant::now() + TOKEN_MARGIN < t.expires_at;
            let refused = stale.is_some_and(|s| s == t.value);
            if fresh && !refused {
                return Ok(t.value.clone());
            }
        }
        let t = self.fetch_token().await?;
        let value = t.value.clone();
        *cached = Some(t);
        Ok(value)
    }

    /// POST `<accounts>/api/token` with `grant_type=client_credentials` and HTTP Basic auth
    /// (through the layer's breaker, limiter and retries; never cached).
    async fn fetch_token(&self) -> Result<CachedToken, PlatformError> {
        let url = format!("{}/api/token", self.inner.accounts_base);
        let answer: TokenAnswer = match self
            .inner
            .http
            .post_form_json(
                &url,
                &[("grant_type", "client_credentials")],
                &RequestOptions::new().header("authorization", self.inner.basic.clone(), true),
            )
            .await
        {
            Ok(f) => f.body,
            Err(e) if matches!(e.class, ErrorClass::Auth | ErrorClass::BadRequest) => {
                let why = e
                    .detail
                    .find('{')
                    .and_then(|i| serde_json::from_str::<TokenError>(&e.detail[i..]).ok())
                    .map(|t| {
                        format!(
                            " ({}: {})",
                            t.error.unwrap_or_default(),
                            t.error_description.unwrap_or_default()
                        )
                    })
                    .unwrap_or_default();
                return Err(PlatformError {
                    class: ErrorClass::Auth,
                    ..e
                }
                .with_headline(format!(
                    "Spotify refused the app credentials{why}: check {CREDENTIAL_VARS}; continuing with the other platforms"
                )));
            }
            Err(e) => return Err(e),
        };
        if answer.access_token.trim().is_empty() {
            return Err(PlatformError::new(
                ID,
                ErrorClass::Malformed,
                format!("the token answer of POST {url} has an empty `access_token`"),
            ));
        }
        let lifetime = answer
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok(CachedToken {
            value: answer.access_token,
            expires_at: Instant::now() + lifetime,
        })
    }
}

impl MetadataPlatform for Spotify {
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

/// A 401 from the API (the token is no longer accepted), as opposed to a 403 (refused).
fn is_unauthorized(e: &PlatformError) -> bool {
    e.class == ErrorClass::Auth && e.status == Some(401)
}

/// Spotify ids are base 62; anything else is refused before a call is made.
fn check_id(id: &str, what: &str) -> Result<(), PlatformError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(PlatformError::new(
            ID,
            ErrorClass::BadRequest,
            format!("'{id}' is not a Spotify {what} id (expected letters and digits only)"),
        ))
    }
}

/// Puts a `next` link's path and query onto our base URL, so a local server keeps serving.
fn rebase(base: &str, link: &str) -> String {
    let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    format!("{base}{path}")
}

/// Double quotes would end the quoted field value early; drop them.
fn unquote(s: &str) -> String {
    s.replace('"', " ").trim().to_string()
}

fn malformed(what: &str, err: serde_path_to_error::Error<serde_json::Error>) -> PlatformError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let field = if path == "." {
        String::new()
    } else {
        format!(" at field `{path}`")
    };
    PlatformError::new(
        ID,
        ErrorClass::Malformed,
        format!("{what} does not have the expected shape{field}: {inner}"),
    )
}

/// Maps a search answer (`{"tracks": {"items": [...]}}`): one result per item, in order,
/// so a caller can report which item failed and why.
pub fn map_search(
    raw: serde_json::Value,
) -> Result<Vec<Result<PlatformTrack, PlatformError>>, PlatformError> {
    let answer: SearchAnswer =
        serde_path_to_error::deserialize(raw).map_err(|e| malformed("the search answer", e))?;
    let tracks = answer.tracks.ok_or_else(|| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            "the search answer has no `tracks` field (was it asked with type=track?)",
        )
    })?;
    let items = tracks.items.ok_or_else(|| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            "the search answer has no `tracks.items` field",
        )
    })?;
    Ok(items
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .map(|(i, v)| {
            map_track(v).map_err(|mut e| {
                e.detail = format!("tracks.items[{i}]: {}", e.detail);
                e
            })
        })
        .inspect(|r| {
            if let Err(e) = r {
                tracing::warn!(error = %e, "skipping a Spotify track that does not map");
            }
        })
        .collect())
}

/// Maps a paging object of track objects (an album's track listing): one result per item.
pub fn map_track_page(
    raw: serde_json::Value,
) -> Result<Vec<Result<PlatformTrack, PlatformError>>, PlatformError> {
    let page: Paging =
        serde_path_to_error::deserialize(raw).map_err(|e| malformed("the track page", e))?;
    let items = page.items.ok_or_else(|| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            "the track page has no `items` field",
        )
    })?;
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            map_track(v).map_err(|mut e| {
                e.detail = format!("items[{i}]: {}", e.detail);
                e
            })
        })
        .collect())
}

/// Maps one page of a playlist, legacy (`track`) or 2026 (`item`) shape. Entries that are
/// not usable tracks are kept as [`PlaylistEntryOutcome::Skipped`] with the reason, so
/// positions stay the playlist's positions.
pub fn map_playlist_page(raw: serde_json::Value) -> Result<PlaylistPage, PlatformError> {
    let page: Paging =
        serde_path_to_error::deserialize(raw).map_err(|e| malformed("the playlist page", e))?;
    let items = page.items.ok_or_else(|| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            "the playlist page has no `items` field",
        )
    })?;
    Ok(PlaylistPage {
        entries: items.into_iter().map(map_playlist_entry).collect(),
        next: page.next,
        total: page.total,
    })
}

fn skipped(label: impl Into<String>, reason: impl Into<String>) -> PlaylistEntryOutcome {
    PlaylistEntryOutcome::Skipped {
        label: label.into(),
        reason: reason.into(),
    }
}

fn map_playlist_entry(raw: serde_json::Value) -> PlaylistEntryOutcome {
    let entry: PlaylistEntry = match serde_json::from_value(raw) {
        Ok(e) => e,
        Err(e) => {
            return skipped(
                "(unreadable entry)",
                format!("the entry could not be read: {e}"),
            );
        }
    };
    let object = entry
        .item
        .filter(|v| !v.is_null())
        .or(entry.track.filter(|v| !v.is_null()));
    let Some(object) = object else {
        return skipped(
            "(unavailable track)",
            "Spotify sends this entry without a track: it was removed from Spotify",
        );
    };
    let kind = object
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("track");
    let name = object
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_string();
    let artist = object
        .get("artists")
        .and_then(|a| a.get(0))
        .and_then(|a| a.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_string();
    let label = match (artist.is_empty(), name.is_empty()) {
        (false, false) => format!("{artist} - {name}"),
        (true, false) => name.clone(),
        _ => "(untitled entry)".to_string(),
    };
    if kind == "episode" {
        return skipped(label, "a podcast episode, not a music track");
    }
    if kind != "track" {
        return skipped(label, format!("a Spotify {kind}, not a music track"));
    }
    let local = entry.is_local == Some(true)
        || object.get("is_local").and_then(|l| l.as_bool()) == Some(true);
    if local {
        return skipped(
            label,
            "a local file from the playlist owner's computer, not a track on Spotify",
        );
    }
    if name.trim().is_empty() && artist.trim().is_empty() {
        return skipped(
            label,
            "Spotify sends this track without title or artist: it is no longer available",
        );
    }
    match map_track(object) {
        Ok(t) => PlaylistEntryOutcome::Track(Box::new(t)),
        Err(e) => skipped(label, e.to_string()),
    }
}

/// Maps one Spotify track object to a [`PlatformTrack`], keeping the object as `raw`.
///
/// The title stays exactly as Spotify writes it ("Strobe - Extended Mix"): splitting the
/// mix off is the music crate's job. Every credited artist is main, except one named in a
/// "feat." part of the title (featured) or in a remix part (remixer). No BPM or key
/// (Spotify's track objects have none). Release date "0000" and duration 0, which Spotify
/// sends for vanished tracks, are unknown.
pub fn map_track(raw: serde_json::Value) -> Result<PlatformTrack, PlatformError> {
    let t: Track =
        serde_path_to_error::deserialize(&raw).map_err(|e| malformed("the track object", e))?;
    let id = t.id.filter(|i| !i.is_empty()).ok_or_else(|| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            "the track object has no `id` (local files have none)",
        )
    })?;
    if let Some(kind) = t.kind.as_deref().filter(|k| *k != "track") {
        return Err(PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("field `type` is \"{kind}\": this is not a track object"),
        ));
    }
    let title = t.name.ok_or_else(|| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            "the track object has no `name` field",
        )
    })?;
    let artists = credit_roles(
        &title,
        t.artists
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| a.name)
            .filter(|n| !n.trim().is_empty()),
    );
    let album = t.album;
    let artwork_url = album
        .as_ref()
        .and_then(|a| a.images.as_ref())
        .and_then(|imgs| {
            imgs.iter()
                .filter(|i| i.url.as_deref().is_some_and(|u| !u.is_empty()))
                .max_by_key(|i| u64::from(i.width.unwrap_or(0)) * u64::from(i.height.unwrap_or(0)))
        })
        .and_then(|i| i.url.clone());
    Ok(PlatformTrack {
        platform: ID.into(),
        url: t
            .external_urls
            .and_then(|u| u.spotify)
            .or_else(|| Some(format!("https://open.spotify.com/track/{id}"))),
        platform_id: id,
        title,
        mix: None,
        artists,
        isrc: t
            .external_ids
            .and_then(|x| x.isrc)
            .as_deref()
            .and_then(normalize_isrc),
        release_title: album
            .as_ref()
            .and_then(|a| a.name.clone())
            .filter(|n| !n.is_empty()),
        release_date: album
            .as_ref()
            .and_then(|a| a.release_date.clone())
            .filter(|d| !d.is_empty() && !d.starts_with("0000")),
        duration_ms: t
            .duration_ms
            .filter(|d| *d > 0)
            .and_then(|d| u32::try_from(d).ok()),
        artwork_url,
        raw: Some(raw),
        ..Default::default()
    })
}

/// Words that make a bracketed or dashed part of a title a remix credit.
const REMIX_WORDS: &[&str] = &[
    "remix", "rework", "re-work", "edit", "mix", "dub", "bootleg", "flip", "version", "vip",
];

/// Roles for Spotify's flat artist list, read from the title's parts: the first artist is
/// main; a later one named in a "feat." part is featured, in a remix part a remixer.
fn credit_roles(title: &str, names: impl Iterator<Item = String>) -> Vec<ArtistCredit> {
    let parts = title_parts(title);
    names
        .enumerate()
        .map(|(i, name)| {
            let lower = name.to_lowercase();
            let role = if i == 0 {
                ArtistRole::Main
            } else if let Some(part) = parts.iter().find(|p| p.contains(&lower)) {
                if is_featuring(part) || part.starts_with("with ") {
                    ArtistRole::Featured
                } else if part
                    .split(|c: char| !c.is_alphanumeric() && c != '-')
                    .any(|w| REMIX_WORDS.contains(&w))
                {
                    ArtistRole::Remixer
                } else {
                    ArtistRole::Main
                }
            } else {
                ArtistRole::Main
            };
            ArtistCredit { name, role }
        })
        .collect()
}

/// Lower-cased bracketed parts of a title and the parts after " - ".
fn title_parts(title: &str) -> Vec<String> {
    let lower = title.to_lowercase();
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in lower.chars() {
        match c {
            '(' | '[' => {
                if depth > 0 {
                    current.push(c);
                }
                depth += 1;
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    parts.push(std::mem::take(&mut current).trim().to_string());
                } else {
                    current.push(c);
                }
            }
            _ if depth > 0 => current.push(c),
            _ => {}
        }
    }
    parts.extend(lower.split(" - ").skip(1).map(|s| s.trim().to_string()));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sp() -> Spotify {
        let cfg = crate::PlatformsConfig::default();
        Spotify::from_config(
            &SpotifyConfig {
                base_url: "http://127.0.0.1:9/".into(),
                client_id: Some("id".into()),
                client_secret: Some("secret".into()),
                ..Default::default()
            },
            &cfg.http,
            &PlatformContext::local(&cfg),
        )
        .unwrap()
    }

    #[test]
    fn urls_follow_the_web_api_reference() {
        let s = sp();
        assert_eq!(
            s.search_url("Bicep", "Glue \"x\""),
            "http://127.0.0.1:9/v1/search?q=artist%3A%22Bicep%22%20track%3A%22Glue%20%20x%22&type=track&limit=10"
        );
        assert_eq!(
            s.isrc_url("GBARL9300135"),
            "http://127.0.0.1:9/v1/search?q=isrc%3AGBARL9300135&type=track&limit=10"
        );
        assert_eq!(
            s.playlist_items_url("1Cp6VQCKf2VL4sP09jN9oX"),
            "http://127.0.0.1:9/v1/playlists/1Cp6VQCKf2VL4sP09jN9oX/items?limit=50&additional_types=track%2Cepisode"
        );
        assert_eq!(
            rebase(
                "http://127.0.0.1:9",
                "https://api.spotify.com/v1/playlists/x/items?offset=50&limit=50"
            ),
            "http://127.0.0.1:9/v1/playlists/x/items?offset=50&limit=50"
        );
    }

    #[test]
    fn missing_credentials_name_the_variables() {
        let err = Spotify::from_config(
            &SpotifyConfig::default(),
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::Auth);
        assert!(err.to_string().contains(CREDENTIAL_VARS), "{err}");
    }

    #[tokio::test]
    async fn bad_ids_and_isrcs_are_refused_without_a_call() {
        let s = sp();
        assert_eq!(
            s.track("../etc").await.unwrap_err().class,
            ErrorClass::BadRequest
        );
        assert_eq!(
            s.playlist("a b").await.unwrap_err().class,
            ErrorClass::BadRequest
        );
        assert_eq!(
            s.tracks_by_isrc("nope").await.unwrap_err().class,
            ErrorClass::BadRequest
        );
    }

    #[test]
    fn roles_come_from_the_title_parts() {
        let roles = |title: &str, names: &[&str]| {
            credit_roles(title, names.iter().map(|s| s.to_string()))
                .into_iter()
                .map(|a| a.role)
                .collect::<Vec<_>>()
        };
        use ArtistRole::*;
        assert_eq!(
            roles(
                "Praise The Lord (Da Shine) (feat. Skepta)",
                &["A$AP Rocky", "Skepta"]
            ),
            vec![Main, Featured]
        );
        assert_eq!(
            roles("Test & Recognise (Flume Re-work)", &["Seekae", "Flume"]),
            vec![Main, Remixer]
        );
        assert_eq!(
            roles(
                "Strobe - Layton Giordani Extended Remix",
                &["deadmau5", "Layton Giordani"]
            ),
            vec![Main, Remixer]
        );
        assert_eq!(roles("Timber", &["Pitbull", "Ke$ha"]), vec![Main, Main]);
    }

    #[test]
    fn a_track_without_id_or_with_a_wrong_type_names_the_field() {
        let err = map_track(json!({"name": "x", "is_local": true})).unwrap_err();
        assert!(err.detail.contains("`id`"), "{}", err.detail);
        let err = map_track(json!({"id": "a", "name": "x", "duration_ms": "long"})).unwrap_err();
        assert_eq!(err.class, ErrorClass::Malformed);
        assert!(err.detail.contains("`duration_ms`"), "{}", err.detail);
        let err = map_track(json!({"id": "a", "type": "audio_features"})).unwrap_err();
        assert!(err.detail.contains("`type`"), "{}", err.detail);
        let err = map_track(json!({"id": "a"})).unwrap_err();
        assert!(err.detail.contains("`name`"), "{}", err.detail);
    }
}
