//! Discogs client and mapper: searches return releases, and a release's tracklist entries
//! become candidate tracks.

use super::models::{Credit, Release, SearchHit, SearchPage, TrackEntry};
use super::{DiscogsConfig, TOKEN_ENV};
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, note_missing_field};
use crate::mapping::{is_featuring, split_mix};
use crate::platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
use cratedigger_domain::{ArtistCredit, ArtistRole, ErrorClass, PlatformTrack};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// Platform id.
pub const ID: &str = "discogs";

/// What a person reads when Discogs answers 401/403 (the caller adds which sources remain).
pub const AUTH_REFUSED: &str =
    "Discogs refused the token: check CRATEDIGGER__PLATFORMS__DISCOGS__TOKEN";

/// Hard ceiling on search pages followed, whatever the configuration says.
const MAX_PAGES_CEILING: usize = 50;

/// Hard ceiling on tracklists fetched per search.
const MAX_LOOKUPS_CEILING: usize = 10;

/// Tracks mapped from one release at most (a 500-track box set is not a candidate list).
const MAX_TRACKS_PER_RELEASE: usize = 500;

/// Public pages live here (2014 answers give relative `uri`s).
const WEB: &str = "https://www.discogs.com";

/// Fields the mapper relies on, per object kind (JSON key, metric label); an answer
/// lacking one is counted and logged once as probable API drift.
type Relied = &'static [(&'static str, &'static str)];
const RELEASE_FIELDS: Relied = &[
    ("title", "release.title"),
    ("artists", "release.artists"),
    ("labels", "release.labels"),
    ("tracklist", "release.tracklist"),
    ("year", "release.year"),
];
const MASTER_FIELDS: Relied = &[
    ("title", "master.title"),
    ("artists", "master.artists"),
    ("tracklist", "master.tracklist"),
    ("year", "master.year"),
];
const ENTRY_FIELDS: Relied = &[
    ("position", "track.position"),
    ("title", "track.title"),
    ("duration", "track.duration"),
];
const SEARCH_FIELDS: Relied = &[
    ("pagination", "search.pagination"),
    ("results", "search.results"),
];

static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Discogs",
    // Discogs' database search has no ISRC parameter.
    supports_isrc: false,
    needs_credentials: true,
    // 60 requests per minute for authenticated clients (Discogs API docs, "Rate Limiting").
    default_rate_limit: RateLimit {
        requests: 60,
        per: Duration::from_secs(60),
    },
};

/// Missing fields seen per "kind.field" since the process started (API drift).
static MISSING: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// How often each relied-on field ("release.labels", "track.duration", ...) was missing
/// from a Discogs answer in this process, so API drift is visible instead of silent.
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
fn note_missing(raw: &Value, fields: Relied, request: &str) {
    let Some(obj) = raw.as_object() else {
        return;
    };
    for (key, label) in fields {
        if obj.contains_key(*key) {
            continue;
        }
        *MISSING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(label)
            .or_insert(0) += 1;
        note_missing_field(ID, label, request);
    }
}

/// The hits of a paginated release search.
#[derive(Debug, Clone)]
pub struct ReleaseSearch {
    /// Distinct hits in Discogs' order.
    pub hits: Vec<SearchHit>,
    /// Hits in all, as Discogs counts them (`pagination.items`).
    pub total: Option<u64>,
    /// Pages requested.
    pub pages_read: usize,
}

/// Discogs API client. `Debug` shows the HTTP client, whose token header is redacted.
#[derive(Debug, Clone)]
pub struct Discogs {
    http: HttpClient,
    base: String,
    per_page: u32,
    max_pages: usize,
    tracklist_lookups: usize,
}

impl Discogs {
    /// Client from configuration with the process's shared layer (limiter, breaker,
    /// caches); fails (so the registry leaves Discogs out with the reason) when no token is
    /// configured.
    pub fn from_config(
        cfg: &DiscogsConfig,
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
    /// the base URL, token and bounds from `cfg` and installs the token header.
    pub fn with_client(http: HttpClient, cfg: &DiscogsConfig) -> Result<Self, PlatformError> {
        let token = cfg.token().ok_or_else(missing_token)?;
        let http = http.with_header("authorization", &format!("Discogs token={token}"), true)?;
        Ok(Self {
            http,
            base: cfg.base_url.trim_end_matches('/').to_string(),
            per_page: cfg.per_page.clamp(1, 100),
            max_pages: cfg.max_pages.clamp(1, MAX_PAGES_CEILING),
            tracklist_lookups: cfg.tracklist_lookups.min(MAX_LOOKUPS_CEILING),
        })
    }

    /// URL of a release search with these parameters (`type=release` and `per_page` added).
    pub fn search_url(&self, params: &[(&str, &str)]) -> String {
        let mut url = format!("{}/database/search?type=release", self.base);
        for (k, v) in params {
            url.push('&');
            url.push_str(&urlencoding::encode(k));
            url.push('=');
            url.push_str(&urlencoding::encode(v.trim()));
        }
        url.push_str(&format!("&per_page={}", self.per_page));
        url
    }

    /// URL of a release lookup.
    pub fn release_url(&self, id: u64) -> String {
        format!("{}/releases/{id}", self.base)
    }

    /// URL of a master lookup.
    pub fn master_url(&self, id: u64) -> String {
        format!("{}/masters/{id}", self.base)
    }

    /// Searches releases, following `pagination.urls.next` (rebased onto our base URL) for
    /// up to `max_pages` pages (also bounded by the configured `max_pages`). Stops early on
    /// the last page, when a page adds nothing new, or when a link repeats.
    pub async fn search_releases(
        &self,
        params: &[(&str, &str)],
        max_pages: usize,
    ) -> Result<ReleaseSearch, PlatformError> {
        let mut url = self.search_url(params);
        let mut out = ReleaseSearch {
            hits: Vec::new(),
            total: None,
            pages_read: 0,
        };
        let mut seen_ids = HashSet::new();
        let mut seen_urls = HashSet::new();
        for _ in 0..max_pages.clamp(1, self.max_pages) {
            seen_urls.insert(url.clone());
            let raw: Value = match self.http.get_json_with_retry::<Value>(&url).await {
                Ok(f) => f.body,
                Err(e) if e.class == ErrorClass::NotFound => break,
                Err(e) => return Err(explain(e)),
            };
            out.pages_read += 1;
            note_missing(&raw, SEARCH_FIELDS, &url);
            let page: SearchPage = serde_json::from_value(raw).map_err(|e| {
                PlatformError::new(
                    ID,
                    ErrorClass::Malformed,
                    format!("search page from {url} does not have the expected shape: {e}"),
                )
            })?;
            let before = out.hits.len();
            for v in page.results.unwrap_or_default() {
                match serde_json::from_value::<SearchHit>(v.clone()) {
                    Ok(mut hit) => {
                        if seen_ids.insert(hit.id) {
                            hit.raw = v;
                            out.hits.push(hit);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, request = %url, "skipping a Discogs search hit that does not map")
                    }
                }
            }
            let p = page.pagination;
            if let Some(items) = p.as_ref().and_then(|p| p.items) {
                out.total = Some(items);
            }
            let last_page = p
                .as_ref()
                .is_some_and(|p| matches!((p.page, p.pages), (Some(a), Some(b)) if a >= b));
            let next = p
                .and_then(|p| p.urls)
                .and_then(|u| u.next)
                .filter(|n| !n.is_empty())
                .map(|n| self.rebase(&n));
            match next {
                Some(next)
                    if !last_page && out.hits.len() > before && !seen_urls.contains(&next) =>
                {
                    url = next
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// A release's raw body; `None` when Discogs does not know it (404).
    pub async fn release_raw(&self, id: u64) -> Result<Option<Value>, PlatformError> {
        self.fetch(&self.release_url(id), RELEASE_FIELDS).await
    }

    /// Every track of a release's tracklist; empty when Discogs does not know the release.
    pub async fn release_tracks(&self, id: u64) -> Result<Vec<PlatformTrack>, PlatformError> {
        match self.release_raw(id).await? {
            Some(raw) => map_release(raw),
            None => Ok(Vec::new()),
        }
    }

    /// Every track of a master's tracklist; empty when Discogs does not know the master.
    pub async fn master_tracks(&self, id: u64) -> Result<Vec<PlatformTrack>, PlatformError> {
        match self.fetch(&self.master_url(id), MASTER_FIELDS).await? {
            Some(raw) => map_release(raw),
            None => Ok(Vec::new()),
        }
    }

    async fn fetch(&self, url: &str, fields: Relied) -> Result<Option<Value>, PlatformError> {
        match self.http.get_json_with_retry::<Value>(url).await {
            Ok(f) => {
                note_missing(&f.body, fields, url);
                if let Some(list) = f.body.get("tracklist").and_then(|t| t.as_array()) {
                    for entry in list.iter().filter(|e| {
                        e.get("type_").and_then(|t| t.as_str()).unwrap_or("track") == "track"
                    }) {
                        note_missing(entry, ENTRY_FIELDS, url);
                    }
                }
                Ok(Some(f.body))
            }
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(explain(e)),
        }
    }

    /// Candidate tracks for artist and title: a release search (`artist`, `track` = the
    /// title without its mix), then the tracklists of the first
    /// [`DiscogsConfig::tracklist_lookups`] releases, keeping the entries whose title
    /// (without its mix) contains the wanted one or is contained in it. Every version of
    /// the title stays; the matcher downstream picks the mix. Each tracklist costs one
    /// request against Discogs' 60/min, so the lookups stop at the first release that has
    /// the wanted version (same title and mix) with a duration: nothing later can add
    /// what the matcher needs.
    pub async fn search_tracks(
        &self,
        artist: &str,
        title: &str,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let (base_title, wanted_mix) = split_mix(title);
        let wanted_mix = norm(wanted_mix.as_deref().unwrap_or(""));
        let wanted_version = |t: &PlatformTrack| {
            t.duration_ms.is_some()
                && norm(&t.title) == norm(&base_title)
                && norm(t.mix.as_deref().unwrap_or("")) == wanted_mix
        };
        let found = self
            .search_releases(&[("artist", artist), ("track", &base_title)], 1)
            .await?;
        let wanted = norm(&base_title);
        let mut out: Vec<PlatformTrack> = Vec::new();
        let mut seen = HashSet::new();
        let ids: Vec<u64> = found
            .hits
            .iter()
            .filter(|h| h.kind.as_deref().is_none_or(|k| k == "release"))
            .map(|h| h.id)
            .take(self.tracklist_lookups)
            .collect();
        for id in ids {
            for t in self.release_tracks(id).await? {
                if title_matches(&wanted, &t.title) && seen.insert(t.platform_id.clone()) {
                    out.push(t);
                }
            }
            if out.iter().any(wanted_version) {
                break;
            }
        }
        Ok(out)
    }

    /// One track by our Discogs track id: `RELEASE#POSITION` ("1503102#B1"),
    /// `mMASTER#POSITION` for a master's tracklist, `RELEASE#~N` for the N-th track of a
    /// release whose positions are empty. `None` when the release or the position is
    /// unknown; a malformed id is refused without a call.
    pub async fn track(&self, id: &str) -> Result<Option<PlatformTrack>, PlatformError> {
        let bad = || {
            PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!(
                    "'{id}' is not a Discogs track id (expected RELEASE#POSITION, e.g. 1503102#B1)"
                ),
            )
        };
        let (release, _) = id.split_once('#').ok_or_else(bad)?;
        let (master, number) = match release.strip_prefix('m') {
            Some(n) => (true, n),
            None => (false, release),
        };
        if number.is_empty() || number.len() > 12 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number: u64 = number.parse().map_err(|_| bad())?;
        let tracks = if master {
            self.master_tracks(number).await?
        } else {
            self.release_tracks(number).await?
        };
        Ok(tracks.into_iter().find(|t| t.platform_id == id))
    }

    /// Puts a link's path and query onto our base URL (Discogs' 2014 answers link
    /// `http://api.discogs.com/...`); a link never leaves the configured host.
    fn rebase(&self, link: &str) -> String {
        let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        format!("{}{}", self.base, path)
    }
}

impl MetadataPlatform for Discogs {
    fn info(&self) -> &PlatformInfo {
        &INFO
    }

    /// Discogs has no ISRC search: always "nothing found" (`Ok(vec![])`), without a call.
    fn lookup_isrc<'a>(&'a self, _isrc: &'a str) -> PlatformFuture<'a, Vec<PlatformTrack>> {
        Box::pin(async { Ok(Vec::new()) })
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
        "Discogs",
        TOKEN_ENV,
        "personal access token",
        "Discogs answers database searches only with a personal access token",
    )
}

/// A refused token gets the sentence a person can act on.
fn explain(e: PlatformError) -> PlatformError {
    e.explain_auth(AUTH_REFUSED)
}

/// Lower-case alphanumeric words joined by single spaces, for loose title comparison.
fn norm(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a tracklist title (mix already split off) is a version of the wanted title.
fn title_matches(wanted_norm: &str, entry_title: &str) -> bool {
    if wanted_norm.is_empty() {
        return true;
    }
    let e = norm(entry_title);
    !e.is_empty()
        && (e.contains(wanted_norm)
            || (wanted_norm.contains(&e) && e.len() * 2 >= wanted_norm.len()))
}

/// Parses a Discogs duration ("5:48", "1:02:03", " 3:32 "); `None` when empty or not a
/// duration, and for absurd values (over 24 hours).
pub fn parse_duration(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let mut secs: u64 = 0;
    for (i, p) in parts.iter().enumerate() {
        let p = p.trim();
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u64 = p.parse().ok()?;
        // minutes and seconds after the first part stay below 60
        if i > 0 && v >= 60 {
            return None;
        }
        secs = secs * 60 + v;
    }
    (secs > 0 && secs <= 24 * 3600).then(|| (secs * 1000) as u32)
}

/// A Discogs artist name without the " (2)" disambiguation suffix.
fn clean_name(name: Option<&str>) -> Option<String> {
    let n = name?.trim();
    let n = match n.rsplit_once(" (") {
        Some((head, tail))
            if tail.ends_with(')')
                && tail.len() > 1
                && tail[..tail.len() - 1].bytes().all(|b| b.is_ascii_digit()) =>
        {
            head.trim_end()
        }
        _ => n,
    };
    (!n.is_empty()).then(|| n.to_string())
}

/// The role an extra-artist credit gives on a track, if it is one DJs care about.
fn credit_role(role: &str) -> Option<ArtistRole> {
    role.split(',').find_map(|r| {
        let base = r.split('[').next().unwrap_or_default().trim();
        if base.eq_ignore_ascii_case("remix") {
            Some(ArtistRole::Remixer)
        } else if base.eq_ignore_ascii_case("featuring") {
            Some(ArtistRole::Featured)
        } else {
            None
        }
    })
}

/// Whether a release-wide credit's `tracks` ("A1 to B2", "A, B1", "" = all) covers `pos`.
fn credit_covers(tracks: &str, pos: &str, positions: &[String]) -> bool {
    let tracks = tracks.trim();
    if tracks.is_empty() {
        return true;
    }
    if pos.is_empty() {
        return false;
    }
    let index = |p: &str| positions.iter().position(|x| x == p);
    tracks.split(',').any(|part| {
        let part = part.trim();
        match part.split_once(" to ") {
            Some((from, to)) => match (index(from.trim()), index(to.trim()), index(pos)) {
                (Some(a), Some(b), Some(i)) => a.min(b) <= i && i <= a.max(b),
                _ => false,
            },
            None => part == pos,
        }
    })
}

/// Appends credits as main artists, switching to featured after a "feat." join phrase.
fn push_credits(artists: &mut Vec<ArtistCredit>, credits: &[Credit]) {
    let mut featured = false;
    for c in credits {
        if let Some(name) = clean_name(c.name.as_deref()) {
            let role = if featured {
                ArtistRole::Featured
            } else {
                ArtistRole::Main
            };
            push_unique(artists, name, role);
        }
        if c.join.as_deref().is_some_and(is_featuring) {
            featured = true;
        }
    }
}

fn push_unique(artists: &mut Vec<ArtistCredit>, name: String, role: ArtistRole) {
    if !artists.iter().any(|a| a.name == name && a.role == role) {
        artists.push(ArtistCredit { name, role });
    }
}

/// "1987" stays, "2016-06-03" stays, "1987-00-00" becomes "1987", "2016-06-00" "2016-06";
/// anything else is dropped.
fn release_date(released: Option<&str>, year: Option<&Value>) -> Option<String> {
    if let Some(r) = released.map(str::trim).filter(|r| !r.is_empty()) {
        let parts: Vec<&str> = r
            .split('-')
            .take(3)
            .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        let kept: Vec<&str> = parts
            .iter()
            .enumerate()
            .take_while(|(i, p)| *i == 0 || p.parse::<u32>().is_ok_and(|v| v > 0))
            .map(|(_, p)| *p)
            .collect();
        if kept.first().is_some_and(|y| y.len() == 4 && *y != "0000") {
            return Some(kept.join("-"));
        }
    }
    let y = match year? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (1000..=9999).contains(&y).then(|| y.to_string())
}

fn absolute(uri: Option<&str>) -> Option<String> {
    let u = uri?.trim();
    if u.is_empty() {
        None
    } else if u.starts_with('/') {
        Some(format!("{WEB}{u}"))
    } else {
        Some(u.to_string())
    }
}

/// What every track of one release shares.
struct ReleaseCtx {
    id_prefix: String,
    artists: Vec<ArtistCredit>,
    extras: Vec<Credit>,
    positions: Vec<String>,
    label: Option<String>,
    catalog_number: Option<String>,
    title: Option<String>,
    date: Option<String>,
    genre: Option<String>,
    artwork: Option<String>,
    url: Option<String>,
    provenance: Value,
}

/// Maps a release (or master) body to one track per tracklist entry, keeping for each the
/// entry, its position and the release's identifying fields as `raw`. Headings are
/// skipped; an index track (with `sub_tracks`) is one track. Titles split into title and
/// mix ("Never Gonna Give You Up (Cake Mix)"); track artists fall back to the release
/// artists ("Various" dropped); "Remix" credits are remixers and "Featuring" credits or
/// artists after a "feat." join are featured; the first label gives label and catalog
/// number ("none" is none); the genre is the first style, else the first genre.
pub fn map_release(raw: Value) -> Result<Vec<PlatformTrack>, PlatformError> {
    let r: Release = serde::Deserialize::deserialize(&raw).map_err(|e| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("release object does not have the expected shape: {e}"),
        )
    })?;
    let is_master = r.main_release.is_some() || raw.get("main_release").is_some();
    let entries: Vec<(Value, TrackEntry)> = raw
        .get("tracklist")
        .and_then(|t| t.as_array())
        .map(|list| {
            list.iter()
                .take(MAX_TRACKS_PER_RELEASE)
                .filter_map(|v| match serde_json::from_value::<TrackEntry>(v.clone()) {
                    Ok(e) => Some((v.clone(), e)),
                    Err(err) => {
                        tracing::warn!(error = %err, release = r.id, "skipping a Discogs tracklist entry that does not map");
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();

    let mut release_artists = Vec::new();
    let credits: Vec<Credit> = r
        .artists
        .unwrap_or_default()
        .into_iter()
        .filter(|c| clean_name(c.name.as_deref()).is_some_and(|n| n != "Various"))
        .collect();
    push_credits(&mut release_artists, &credits);

    let mut positions = Vec::new();
    for (_, e) in &entries {
        if let Some(p) = e
            .position
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            positions.push(p.to_string());
        }
        for s in e.sub_tracks.iter().flatten() {
            if let Some(p) = s
                .position
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                positions.push(p.to_string());
            }
        }
    }

    let first_label = r.labels.as_ref().and_then(|l| l.first());
    let ctx = ReleaseCtx {
        id_prefix: if is_master {
            format!("m{}", r.id)
        } else {
            r.id.to_string()
        },
        artists: release_artists,
        extras: r
            .extraartists
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.role.as_deref().and_then(credit_role).is_some())
            .collect(),
        positions,
        label: first_label.and_then(|l| clean_name(l.name.as_deref())),
        catalog_number: first_label
            .and_then(|l| l.catno.as_deref())
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"))
            .map(str::to_string),
        title: r.title.clone().filter(|t| !t.trim().is_empty()),
        date: release_date(r.released.as_deref(), r.year.as_ref()),
        genre: r
            .styles
            .as_ref()
            .and_then(|s| s.first())
            .or_else(|| r.genres.as_ref().and_then(|g| g.first()))
            .filter(|g| !g.trim().is_empty())
            .cloned(),
        artwork: r
            .images
            .as_ref()
            .and_then(|imgs| {
                imgs.iter()
                    .find(|i| i.kind.as_deref() == Some("primary"))
                    .or_else(|| imgs.first())
            })
            .and_then(|i| i.uri.clone())
            .or(r.thumb.clone())
            .filter(|u| !u.trim().is_empty()),
        url: absolute(r.uri.as_deref()),
        provenance: json!({
            "kind": if is_master { "master" } else { "release" },
            "id": r.id,
            "title": raw.get("title"),
            "uri": raw.get("uri"),
            "resource_url": raw.get("resource_url"),
            "labels": raw.get("labels"),
            "released": raw.get("released"),
            "year": raw.get("year"),
            "genres": raw.get("genres"),
            "styles": raw.get("styles"),
        }),
    };

    let mut out = Vec::new();
    for (entry_raw, e) in entries {
        let index = match e.type_.as_deref().unwrap_or("track") {
            "track" => false,
            "index" => true,
            _ => continue,
        };
        let ordinal = out.len() + 1;
        out.push(map_entry(&ctx, entry_raw, e, index, ordinal));
    }
    Ok(out)
}

fn map_entry(
    ctx: &ReleaseCtx,
    entry_raw: Value,
    e: TrackEntry,
    index: bool,
    ordinal: usize,
) -> PlatformTrack {
    let subs = e.sub_tracks.unwrap_or_default();
    let mut position = e
        .position
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if position.is_empty() && index {
        // "C1.1", "C1.2" -> "C1"
        if let Some(p) = subs.first().and_then(|s| s.position.as_deref()) {
            position = p.split('.').next().unwrap_or_default().trim().to_string();
        }
    }
    let platform_id = if position.is_empty() {
        format!("{}#~{ordinal}", ctx.id_prefix)
    } else {
        format!("{}#{position}", ctx.id_prefix)
    };

    let (title, mix) = split_mix(e.title.as_deref().unwrap_or_default());

    let mut artists = Vec::new();
    let own: Vec<Credit> = e.artists.unwrap_or_default();
    if own.iter().any(|c| clean_name(c.name.as_deref()).is_some()) {
        push_credits(&mut artists, &own);
    } else {
        artists.extend(ctx.artists.iter().cloned());
    }
    for c in e.extraartists.unwrap_or_default() {
        if let (Some(role), Some(name)) = (
            c.role.as_deref().and_then(credit_role),
            clean_name(c.name.as_deref()),
        ) {
            push_unique(&mut artists, name, role);
        }
    }
    for c in &ctx.extras {
        if credit_covers(
            c.tracks.as_deref().unwrap_or_default(),
            &position,
            &ctx.positions,
        ) && let (Some(role), Some(name)) = (
            c.role.as_deref().and_then(credit_role),
            clean_name(c.name.as_deref()),
        ) {
            push_unique(&mut artists, name, role);
        }
    }

    let duration_ms = e.duration.as_deref().and_then(parse_duration).or_else(|| {
        if !index || subs.is_empty() {
            return None;
        }
        subs.iter().try_fold(0u32, |acc, s| {
            s.duration
                .as_deref()
                .and_then(parse_duration)
                .and_then(|d| acc.checked_add(d))
        })
    });

    PlatformTrack {
        platform: ID.into(),
        platform_id,
        title,
        mix,
        artists,
        label: ctx.label.clone(),
        catalog_number: ctx.catalog_number.clone(),
        isrc: None,
        release_title: ctx.title.clone(),
        release_date: ctx.date.clone(),
        duration_ms,
        bpm: None,
        key: None,
        genre: ctx.genre.clone(),
        artwork_url: ctx.artwork.clone(),
        url: ctx.url.clone(),
        raw: Some(json!({
            "position": position,
            "track": entry_raw,
            "release": ctx.provenance,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc() -> Discogs {
        Discogs::from_config(
            &DiscogsConfig {
                base_url: "http://127.0.0.1:9/".into(),
                token: Some("s3cr3t".into()),
                ..Default::default()
            },
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap()
    }

    #[test]
    fn urls_follow_the_docs() {
        let d = dc();
        assert_eq!(
            d.search_url(&[
                ("artist", "Rick Astley"),
                ("track", "Never Gonna Give You Up")
            ]),
            "http://127.0.0.1:9/database/search?type=release&artist=Rick%20Astley&track=Never%20Gonna%20Give%20You%20Up&per_page=25"
        );
        assert_eq!(
            d.release_url(1503102),
            "http://127.0.0.1:9/releases/1503102"
        );
        assert_eq!(
            d.rebase(
                "http://api.discogs.com/database/search?q=prodigy&per_page=50&type=release&page=2"
            ),
            "http://127.0.0.1:9/database/search?q=prodigy&per_page=50&type=release&page=2"
        );
    }

    #[test]
    fn durations_parse_or_stay_unknown() {
        assert_eq!(parse_duration("5:48"), Some(348_000));
        assert_eq!(parse_duration(" 3:32 "), Some(212_000));
        assert_eq!(parse_duration("1:02:03"), Some(3_723_000));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5:75"), None);
        assert_eq!(parse_duration("a:bc"), None);
        assert_eq!(parse_duration("0:00"), None);
        assert_eq!(parse_duration("99999:00"), None);
        assert_eq!(parse_duration("٣:٣٣"), None);
    }

    #[test]
    fn names_dates_roles_and_ranges() {
        assert_eq!(clean_name(Some("Prodigy (2)")).as_deref(), Some("Prodigy"));
        assert_eq!(
            clean_name(Some("Sunday (Remix)")).as_deref(),
            Some("Sunday (Remix)")
        );
        assert_eq!(clean_name(Some("  ")), None);
        assert_eq!(
            release_date(Some("1987-00-00"), None).as_deref(),
            Some("1987")
        );
        assert_eq!(
            release_date(Some("2016-06-00"), None).as_deref(),
            Some("2016-06")
        );
        assert_eq!(
            release_date(Some("2016-06-03"), None).as_deref(),
            Some("2016-06-03")
        );
        assert_eq!(release_date(None, Some(&json!(0))), None);
        assert_eq!(
            release_date(None, Some(&json!("1997"))).as_deref(),
            Some("1997")
        );
        assert_eq!(credit_role("Remix [Uncredited]"), Some(ArtistRole::Remixer));
        assert_eq!(
            credit_role("Featuring [Articulations]"),
            Some(ArtistRole::Featured)
        );
        assert_eq!(credit_role("Written-By"), None);
        let pos: Vec<String> = ["A1", "A2", "B1", "B2", "C1"].map(String::from).to_vec();
        assert!(credit_covers("A1 to B2", "B1", &pos));
        assert!(!credit_covers("A1 to B2", "C1", &pos));
        assert!(credit_covers("A2, C1", "C1", &pos));
        assert!(credit_covers("", "C1", &pos));
        assert!(!credit_covers("A2", "", &pos));
    }

    #[test]
    fn titles_match_versions_loosely() {
        let w = norm("Never Gonna Give You Up");
        assert!(title_matches(&w, "Never Gonna Give You Up"));
        assert!(title_matches(&w, "never gonna give you up!"));
        assert!(!title_matches(&w, "Whenever You Need Somebody"));
        assert!(!title_matches(&w, "Up"));
    }

    #[tokio::test]
    async fn malformed_ids_are_refused_and_isrc_is_never_asked() {
        let d = dc();
        for id in ["1503102", "abc#A", "#A", "m#A"] {
            assert_eq!(
                d.track(id).await.unwrap_err().class,
                ErrorClass::BadRequest,
                "{id}"
            );
        }
        assert!(d.lookup_isrc("GBARL9300135").await.unwrap().is_empty());
        assert!(!d.info().supports_isrc);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let d = dc();
        assert!(!format!("{d:?}").contains("s3cr3t"), "{d:?}");
        let cfg = DiscogsConfig {
            token: Some("s3cr3t".into()),
            ..Default::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cr3t"));
        assert!(!serde_json::to_string(&cfg).unwrap().contains("s3cr3t"));
    }
}
