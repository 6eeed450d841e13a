//! Playlists and charts on the platforms as sync sources: `cratedigger sync <url>` and
//! `POST /v1/syncs {"url": ...}` recognise the address here, read every page through the
//! platform's client (so the fleet's limiter, breaker and caches apply) and get back one
//! [`WantedTrack`] per usable entry, with its position in the playlist as its line number
//! and the entries that are not tracks listed with a reason.
//!
//! Recognised: `https://open.spotify.com/playlist/<id>` (also `/intl-xx/playlist/<id>` and
//! `spotify:playlist:<id>`), `https://www.deezer.com/<lang>/playlist/<id>`,
//! `https://www.beatport.com/chart/<slug>/<id>`, and DJ sets' tracklists:
//! `https://www.1001tracklists.com/tracklist/<id>/<name>.html` and
//! `https://www.mixcloud.com/<user>/<show>/` (see [`crate::tracklists`] and
//! [`crate::mixcloud`] for what each gives). Short links (`deezer.page.link`,
//! `spotify.link`) are redirects that need a browser: refused with a sentence saying so.

use crate::beatport::Beatport;
use crate::config::PlatformsConfig;
use crate::context::PlatformContext;
use crate::deezer::{self, Deezer};
use crate::http::{HttpClient, PlatformError, RequestOptions};
use crate::mixcloud::Mixcloud;
use crate::platform::MetadataPlatform;
use crate::spotify::{PlaylistEntryOutcome, Spotify};
use crate::tracklists::Tracklists;
use cratedigger_domain::{ErrorClass, PlatformTrack, WantedTrack};
use std::collections::HashSet;

/// Most entries read from one source, whatever the platform (the product's largest sync).
pub const MAX_SOURCE_TRACKS: usize = 10_000;

/// Deezer entries asked for per page.
const DEEZER_PAGE: usize = 100;

/// Most Deezer pages read (10,000 entries at 100 a page).
const DEEZER_MAX_PAGES: usize = 100;

/// What the addresses look like, for error messages.
pub const SUPPORTED: &str = "https://open.spotify.com/playlist/<id>, spotify:playlist:<id>, https://www.deezer.com/<lang>/playlist/<id>, https://www.beatport.com/chart/<slug>/<id>, https://www.1001tracklists.com/tracklist/<id>/<name>.html, https://www.mixcloud.com/<user>/<show>/";

/// A recognised playlist or chart address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    /// A Spotify playlist (base-62 id).
    SpotifyPlaylist {
        /// Playlist id.
        id: String,
    },
    /// A Deezer playlist (numeric id).
    DeezerPlaylist {
        /// Playlist id.
        id: String,
    },
    /// A Beatport chart (numeric id; the slug is decoration).
    BeatportChart {
        /// Chart slug from the address.
        slug: String,
        /// Chart id.
        id: String,
    },
    /// A DJ set's tracklist page on 1001tracklists.
    TracklistsSet {
        /// Tracklist id (`/tracklist/<id>/…`).
        id: String,
        /// The page name without `.html`.
        slug: String,
    },
    /// A Mixcloud show (cloudcast) and its tracklist.
    MixcloudShow {
        /// `<user>/<show>`, each part validated (letters, digits, `-`, `_`, `.`).
        key: String,
    },
}

impl SourceRef {
    /// Platform id ("spotify", "deezer", "beatport").
    pub fn platform(&self) -> &'static str {
        match self {
            SourceRef::SpotifyPlaylist { .. } => "spotify",
            SourceRef::DeezerPlaylist { .. } => "deezer",
            SourceRef::BeatportChart { .. } => "beatport",
            SourceRef::TracklistsSet { .. } => crate::tracklists::ID,
            SourceRef::MixcloudShow { .. } => crate::mixcloud::ID,
        }
    }

    /// Name people read ("Spotify").
    pub fn display_platform(&self) -> &'static str {
        match self {
            SourceRef::SpotifyPlaylist { .. } => "Spotify",
            SourceRef::DeezerPlaylist { .. } => "Deezer",
            SourceRef::BeatportChart { .. } => "Beatport",
            SourceRef::TracklistsSet { .. } => "1001Tracklists",
            SourceRef::MixcloudShow { .. } => "Mixcloud",
        }
    }

    /// "playlist" or "chart".
    pub fn what(&self) -> &'static str {
        match self {
            SourceRef::BeatportChart { .. } => "chart",
            SourceRef::TracklistsSet { .. } | SourceRef::MixcloudShow { .. } => "tracklist",
            _ => "playlist",
        }
    }

    /// The platform's id of the playlist or chart.
    pub fn id(&self) -> &str {
        match self {
            SourceRef::SpotifyPlaylist { id }
            | SourceRef::DeezerPlaylist { id }
            | SourceRef::BeatportChart { id, .. }
            | SourceRef::TracklistsSet { id, .. } => id,
            SourceRef::MixcloudShow { key } => key,
        }
    }

    /// The sync's format label ("spotify-playlist", "deezer-playlist", "beatport-chart").
    pub fn format(&self) -> &'static str {
        match self {
            SourceRef::SpotifyPlaylist { .. } => "spotify-playlist",
            SourceRef::DeezerPlaylist { .. } => "deezer-playlist",
            SourceRef::BeatportChart { .. } => "beatport-chart",
            SourceRef::TracklistsSet { .. } => "1001tracklists-tracklist",
            SourceRef::MixcloudShow { .. } => "mixcloud-tracklist",
        }
    }
}

/// Why a source could not be read; every message names the address and what failed.
/// The API reports each under the field `url`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// Not an address of a playlist or chart we can read.
    #[error(
        "'{url}' is not a playlist or chart address cratedigger can read: {why}. Supported: {SUPPORTED}"
    )]
    Unsupported {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The platform is not configured or switched off.
    #[error("{platform} playlists cannot be read here: {reason}")]
    Unavailable {
        /// Platform name.
        platform: &'static str,
        /// Why (missing credentials, disabled).
        reason: String,
    },
    /// The playlist does not exist, or is private.
    #[error("{platform} has no {what} '{id}', or it is private ({detail})")]
    NotFound {
        /// Platform name.
        platform: &'static str,
        /// "playlist" or "chart".
        what: &'static str,
        /// Its id.
        id: String,
        /// What the platform said.
        detail: String,
    },
    /// The platform refused to show it (a private playlist).
    #[error("{platform} refused to show {what} '{id}': {detail}")]
    Refused {
        /// Platform name.
        platform: &'static str,
        /// "playlist" or "chart".
        what: &'static str,
        /// Its id.
        id: String,
        /// The platform's sentence and what to do.
        detail: String,
    },
    /// The platform could not be reached, failed or refused our credentials (network,
    /// server, rate limit, auth, an answer we could not read).
    #[error("{platform} could not be read: {error}")]
    PlatformFailed {
        /// Platform name.
        platform: &'static str,
        /// The classified failure.
        error: PlatformError,
    },
}

impl SourceError {
    /// The request field the error is about (always the address).
    pub fn field(&self) -> &'static str {
        "url"
    }
}

/// One usable entry of a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceEntry {
    /// Position in the playlist or chart (from 1), used as the item's line number.
    pub line_no: u32,
    /// "Artist - Title (Mix)", shown next to the result.
    pub input: String,
    /// What to look for.
    pub wanted: WantedTrack,
    /// The platform's track id (provenance).
    pub platform_id: String,
    /// The track's page on the platform (provenance).
    pub url: Option<String>,
}

/// An entry that is not a track we can look for, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSkip {
    /// Position in the playlist or chart (from 1).
    pub line_no: u32,
    /// What the entry showed.
    pub input: String,
    /// Why it was skipped, as a sentence.
    pub reason: String,
}

/// A source as read.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePlaylist {
    /// What was read.
    pub source: SourceRef,
    /// Usable entries in order.
    pub entries: Vec<SourceEntry>,
    /// Entries left out, in order.
    pub skipped: Vec<SourceSkip>,
    /// Why reading stopped before the platform's total, if it did.
    pub note: Option<String>,
}

/// Whether the text is meant as an address (`http(s)://…` or `spotify:…`) rather than a
/// file name: the CLI sends such arguments to the API instead of reading a file.
pub fn is_url(s: &str) -> bool {
    let s = s.trim();
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("spotify:")
}

fn unsupported(url: &str, why: impl Into<String>) -> SourceError {
    SourceError::Unsupported {
        url: url.to_string(),
        why: why.into(),
    }
}

fn base62(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A 1001tracklists tracklist id: a short lowercase base-36 code ("1gz59x6t").
fn tracklist_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A page name, Mixcloud user or show: letters, digits, `-`, `_`, `.` (no `..`).
fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// First path parts of mixcloud.com that are site pages, not users.
const MIXCLOUD_RESERVED: [&str; 8] = [
    "discover",
    "upload",
    "live",
    "select",
    "settings",
    "dashboard",
    "categories",
    "tag",
];

fn digits(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Recognises a playlist or chart address; anything else is [`SourceError::Unsupported`]
/// with a sentence saying why.
pub fn parse_source_url(raw: &str) -> Result<SourceRef, SourceError> {
    let text = raw.trim();
    if text.len() > 2048 {
        return Err(unsupported(
            &text.chars().take(80).collect::<String>(),
            "the address is longer than 2,048 characters",
        ));
    }
    if let Some(rest) = text.strip_prefix("spotify:") {
        let parts: Vec<&str> = rest.split(':').collect();
        return match parts.as_slice() {
            ["playlist", id] | ["user", _, "playlist", id] if base62(id) => {
                Ok(SourceRef::SpotifyPlaylist { id: id.to_string() })
            }
            [kind, ..] if *kind != "playlist" && *kind != "user" => Err(unsupported(
                text,
                format!("it is a Spotify {kind}; only playlists can be synced"),
            )),
            _ => Err(unsupported(text, "the Spotify playlist id is not valid")),
        };
    }
    let url = reqwest::Url::parse(text)
        .map_err(|e| unsupported(text, format!("it is not a web address ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(unsupported(text, "only http and https addresses are read"));
    }
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches("www.")
        .to_ascii_lowercase();
    let segs: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    match host.as_str() {
        "open.spotify.com" | "play.spotify.com" => {
            // /playlist/<id>, /intl-de/playlist/<id>, /user/<u>/playlist/<id>
            let segs: Vec<&str> = segs
                .into_iter()
                .skip_while(|s| s.starts_with("intl-"))
                .collect();
            match segs.as_slice() {
                ["playlist", id, ..] | ["user", _, "playlist", id, ..] if base62(id) => {
                    Ok(SourceRef::SpotifyPlaylist { id: id.to_string() })
                }
                ["playlist", ..] => Err(unsupported(text, "the Spotify playlist id is not valid")),
                [kind, ..] => Err(unsupported(
                    text,
                    format!("it is a Spotify {kind} page; only playlists can be synced"),
                )),
                [] => Err(unsupported(text, "it names no Spotify playlist")),
            }
        }
        "spotify.link" | "spotify.app.link" => Err(unsupported(
            text,
            "it is a Spotify short link, a redirect cratedigger does not follow; open it in a browser and paste the open.spotify.com/playlist/… address it leads to",
        )),
        "deezer.com" => {
            let segs: Vec<&str> = match segs.first() {
                Some(lang) if lang.len() == 2 && lang.chars().all(|c| c.is_ascii_alphabetic()) => {
                    segs[1..].to_vec()
                }
                _ => segs,
            };
            match segs.as_slice() {
                ["playlist", id, ..] if digits(id) => {
                    Ok(SourceRef::DeezerPlaylist { id: id.to_string() })
                }
                ["playlist", ..] => {
                    Err(unsupported(text, "the Deezer playlist id is not a number"))
                }
                [kind, ..] => Err(unsupported(
                    text,
                    format!("it is a Deezer {kind} page; only playlists can be synced"),
                )),
                [] => Err(unsupported(text, "it names no Deezer playlist")),
            }
        }
        "deezer.page.link" | "link.deezer.com" | "dzr.page.link" => Err(unsupported(
            text,
            "it is a Deezer short link, a redirect cratedigger does not follow; open it in a browser and paste the deezer.com/…/playlist/… address it leads to",
        )),
        "beatport.com" => {
            let segs: Vec<&str> = match segs.first() {
                Some(lang) if lang.len() == 2 && lang.chars().all(|c| c.is_ascii_alphabetic()) => {
                    segs[1..].to_vec()
                }
                _ => segs,
            };
            match segs.as_slice() {
                ["chart", slug, id, ..] if digits(id) => Ok(SourceRef::BeatportChart {
                    slug: slug.to_string(),
                    id: id.to_string(),
                }),
                ["chart", ..] => Err(unsupported(
                    text,
                    "a Beatport chart address ends in /chart/<name>/<number>",
                )),
                [kind, ..] => Err(unsupported(
                    text,
                    format!("it is a Beatport {kind} page; only charts can be synced"),
                )),
                [] => Err(unsupported(text, "it names no Beatport chart")),
            }
        }
        "1001tracklists.com" => match segs.as_slice() {
            ["tracklist", id, page, ..] if tracklist_id(id) => {
                let slug = page.strip_suffix(".html").unwrap_or(page);
                if !slug_ok(slug) {
                    return Err(unsupported(
                        text,
                        "the 1001tracklists page name is not valid",
                    ));
                }
                Ok(SourceRef::TracklistsSet {
                    id: id.to_ascii_lowercase(),
                    slug: slug.to_string(),
                })
            }
            ["tracklist", ..] => Err(unsupported(
                text,
                "a 1001tracklists tracklist address ends in /tracklist/<id>/<name>.html",
            )),
            [kind, ..] => Err(unsupported(
                text,
                format!("it is a 1001tracklists {kind} page; only tracklists can be synced"),
            )),
            [] => Err(unsupported(text, "it names no 1001tracklists tracklist")),
        },
        "mixcloud.com" | "m.mixcloud.com" => match segs.as_slice() {
            [user, show] if slug_ok(user) && slug_ok(show) => {
                if MIXCLOUD_RESERVED.contains(&user.to_ascii_lowercase().as_str()) {
                    return Err(unsupported(
                        text,
                        format!("mixcloud.com/{user}/ is a Mixcloud page, not a show"),
                    ));
                }
                Ok(SourceRef::MixcloudShow {
                    key: format!("{user}/{show}"),
                })
            }
            [_] => Err(unsupported(
                text,
                "it is a Mixcloud profile; a show's address is mixcloud.com/<user>/<show>/",
            )),
            _ => Err(unsupported(
                text,
                "a Mixcloud show's address is mixcloud.com/<user>/<show>/ (letters, digits, '-', '_' and '.')",
            )),
        },
        "" => Err(unsupported(text, "it has no host")),
        other => Err(unsupported(
            text,
            format!("{other} is not Spotify, Deezer, Beatport, 1001tracklists or Mixcloud"),
        )),
    }
}

/// What to look for, from a platform's track: its main artists, title and mix as the
/// platform writes them, plus every identifier it gave (ISRC first of all).
pub fn wanted_from(track: &PlatformTrack) -> WantedTrack {
    WantedTrack {
        artist: track.main_artist(),
        title: track.title.clone(),
        mix: track.mix.clone(),
        album: track.release_title.clone(),
        isrc: track.isrc.clone(),
        catalog: track.catalog_number.clone(),
        label: track.label.clone(),
        duration_ms: track.duration_ms,
    }
}

/// The Deezer reader: the platform's HTTP client (same limiter, breaker and cache as the
/// Deezer scout), with Deezer's HTTP-200 error check.
#[derive(Debug, Clone)]
struct DeezerReader {
    http: HttpClient,
    base: String,
}

/// Reads sources; built once from configuration. A platform that cannot be built is kept
/// as the sentence saying why, returned when someone asks for one of its playlists.
#[derive(Debug, Clone)]
pub struct Sources {
    spotify: Result<Spotify, String>,
    deezer: Result<DeezerReader, String>,
    beatport: Result<Beatport, String>,
    tracklists: Result<Tracklists, String>,
    mixcloud: Result<Mixcloud, String>,
    max_tracks: usize,
}

fn disabled(var: &str) -> String {
    format!("the platform is switched off in configuration ({var}=false)")
}

impl Sources {
    /// Readers for every platform, over the process's shared layer.
    pub fn from_config(cfg: &PlatformsConfig, ctx: &PlatformContext) -> Self {
        let spotify = if cfg.spotify.enabled {
            Spotify::from_config(&cfg.spotify, &cfg.http, ctx).map_err(|e| e.to_string())
        } else {
            Err(disabled("CRATEDIGGER__PLATFORMS__SPOTIFY__ENABLED"))
        };
        let deezer = if cfg.deezer.enabled {
            Deezer::from_config(&cfg.deezer, &cfg.http, ctx)
                .and_then(|d| {
                    let opts = cfg
                        .http
                        .client_options(&cfg.http.user_agent, cfg.deezer.timeout_secs);
                    ctx.http_client(d.info(), opts)
                })
                .map(|http| DeezerReader {
                    http: http.with_body_check(deezer::error_in_body),
                    base: cfg.deezer.base_url.trim_end_matches('/').to_string(),
                })
                .map_err(|e| e.to_string())
        } else {
            Err(disabled("CRATEDIGGER__PLATFORMS__DEEZER__ENABLED"))
        };
        let beatport = if cfg.beatport.enabled {
            Beatport::from_config(&cfg.beatport, &cfg.http, ctx).map_err(|e| e.to_string())
        } else {
            Err(disabled("CRATEDIGGER__PLATFORMS__BEATPORT__ENABLED"))
        };
        let tracklists = if cfg.tracklists.enabled {
            Tracklists::from_config(&cfg.tracklists, &cfg.http, ctx).map_err(|e| e.to_string())
        } else {
            Err(disabled("CRATEDIGGER__PLATFORMS__TRACKLISTS__ENABLED"))
        };
        let mixcloud = if cfg.mixcloud.enabled {
            Mixcloud::from_config(&cfg.mixcloud, &cfg.http, ctx).map_err(|e| e.to_string())
        } else {
            Err(disabled("CRATEDIGGER__PLATFORMS__MIXCLOUD__ENABLED"))
        };
        Self {
            spotify,
            deezer,
            beatport,
            tracklists,
            mixcloud,
            max_tracks: MAX_SOURCE_TRACKS,
        }
    }

    /// Recognises `url` and reads every page of it.
    pub async fn fetch(&self, url: &str) -> Result<SourcePlaylist, SourceError> {
        let source = parse_source_url(url)?;
        self.fetch_source(source).await
    }

    /// Reads every page of a recognised source.
    pub async fn fetch_source(&self, source: SourceRef) -> Result<SourcePlaylist, SourceError> {
        let platform = source.display_platform();
        let unavailable = |reason: &String| SourceError::Unavailable {
            platform,
            reason: reason.clone(),
        };
        let read = match &source {
            SourceRef::SpotifyPlaylist { id } => {
                let sp = self.spotify.as_ref().map_err(unavailable)?;
                self.read_spotify(sp, id).await
            }
            SourceRef::DeezerPlaylist { id } => {
                let dz = self.deezer.as_ref().map_err(unavailable)?;
                self.read_deezer(dz, id).await
            }
            SourceRef::BeatportChart { id, .. } => {
                let bp = self.beatport.as_ref().map_err(unavailable)?;
                bp.chart_tracks(id).await.map(|tracks| {
                    let outcomes = tracks
                        .into_iter()
                        .map(|t| PlaylistEntryOutcome::Track(Box::new(t)))
                        .collect();
                    (outcomes, None)
                })
            }
            SourceRef::TracklistsSet { id, slug } => {
                let tl = self.tracklists.as_ref().map_err(unavailable)?;
                tl.tracklist(id, slug).await.map(|e| (e, None))
            }
            SourceRef::MixcloudShow { key } => {
                let mc = self.mixcloud.as_ref().map_err(unavailable)?;
                let (user, show) = key.split_once('/').unwrap_or((key.as_str(), ""));
                mc.show_tracklist(user, show).await.map(|e| (e, None))
            }
        };
        let (outcomes, note) = read.map_err(|e| classify(&source, e))?;
        Ok(assemble(source, outcomes, note))
    }

    async fn read_spotify(
        &self,
        sp: &Spotify,
        id: &str,
    ) -> Result<(Vec<PlaylistEntryOutcome>, Option<String>), PlatformError> {
        let mut read = sp.playlist(id).await?;
        if read.entries.len() > self.max_tracks {
            read.entries.truncate(self.max_tracks);
            read.stopped_early.get_or_insert_with(|| {
                format!("only the first {} entries were read", self.max_tracks)
            });
        }
        Ok((read.entries, read.stopped_early))
    }

    /// Every page of a Deezer playlist (`/playlist/{id}/tracks`, following `next` rebased
    /// onto the configured base), keeping each entry's position. Stops at the total, on an
    /// empty page, on a page identical to the one before (a server repeating itself), or
    /// at the entry and page caps, and says why when that is before the total.
    async fn read_deezer(
        &self,
        dz: &DeezerReader,
        id: &str,
    ) -> Result<(Vec<PlaylistEntryOutcome>, Option<String>), PlatformError> {
        let mut url = format!(
            "{}/playlist/{}/tracks?limit={DEEZER_PAGE}",
            dz.base,
            urlencoding::encode(id)
        );
        let mut out: Vec<PlaylistEntryOutcome> = Vec::new();
        let mut seen_urls = HashSet::new();
        let mut previous_ids: Vec<i64> = Vec::new();
        let mut total: Option<u64> = None;
        let mut note = None;
        for page_no in 1..=DEEZER_MAX_PAGES {
            seen_urls.insert(url.clone());
            // live, never from the response caches: a playlist read twice must show its
            // current entries
            let page: deezer::models::Page = dz
                .http
                .get_json_with(&url, &RequestOptions::new().uncached())
                .await?
                .body;
            total = page.total.or(total);
            let items = page.data.unwrap_or_default();
            let ids: Vec<i64> = items
                .iter()
                .filter_map(|v| v.get("id").and_then(|i| i.as_i64()))
                .collect();
            if items.is_empty() {
                break;
            }
            if !previous_ids.is_empty() && ids == previous_ids {
                note = Some(format!(
                    "Deezer sent the same page twice after {} entries; reading stopped",
                    out.len()
                ));
                break;
            }
            for v in items {
                if out.len() >= self.max_tracks {
                    return Ok((
                        out,
                        Some(format!(
                            "the playlist has more than {0} entries; only the first {0} were read",
                            self.max_tracks
                        )),
                    ));
                }
                out.push(deezer_entry(v));
            }
            previous_ids = ids;
            if total.is_some_and(|t| out.len() as u64 >= t) {
                break;
            }
            match page.next.map(|n| rebase(&dz.base, &n)) {
                Some(next) if !seen_urls.contains(&next) => {
                    if page_no == DEEZER_MAX_PAGES {
                        note = Some(format!(
                            "the playlist has more than {DEEZER_MAX_PAGES} pages; only the first {DEEZER_MAX_PAGES} were read"
                        ));
                    }
                    url = next;
                }
                _ => break,
            }
        }
        if note.is_none()
            && let Some(t) = total
            && (out.len() as u64) < t
        {
            note = Some(format!(
                "Deezer said the playlist has {t} entries but sent {}",
                out.len()
            ));
        }
        Ok((out, note))
    }
}

/// One Deezer playlist entry: a track mapped with the scout's mapper, or the reason not.
fn deezer_entry(v: serde_json::Value) -> PlaylistEntryOutcome {
    let label = {
        let artist = v
            .pointer("/artist/name")
            .and_then(|a| a.as_str())
            .unwrap_or_default();
        let title = v.get("title").and_then(|t| t.as_str()).unwrap_or_default();
        match (artist.is_empty(), title.is_empty()) {
            (false, false) => format!("{artist} - {title}"),
            (true, false) => title.to_string(),
            _ => "(untitled entry)".to_string(),
        }
    };
    if v.get("type")
        .and_then(|t| t.as_str())
        .is_some_and(|t| t != "track")
    {
        return PlaylistEntryOutcome::Skipped {
            label,
            reason: "not a music track".into(),
        };
    }
    match deezer::map_track(v) {
        Ok(t) => PlaylistEntryOutcome::Track(Box::new(t)),
        Err(e) => PlaylistEntryOutcome::Skipped {
            label,
            reason: e.to_string(),
        },
    }
}

/// Puts a `next` link's path and query onto our base URL, so a local server keeps serving.
fn rebase(base: &str, link: &str) -> String {
    let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    format!("{base}{path}")
}

/// Turns a platform failure into what a person needs to hear about the address.
fn classify(source: &SourceRef, e: PlatformError) -> SourceError {
    let platform = source.display_platform();
    let what = source.what();
    let id = source.id().to_string();
    match e.class {
        ErrorClass::NotFound | ErrorClass::BadRequest => SourceError::NotFound {
            platform,
            what,
            id,
            detail: e.detail,
        },
        ErrorClass::Auth
            if e.detail.starts_with("HTTP 403")
                || e.detail.contains("Permission")
                || e.detail.contains("OAuthException") =>
        {
            let detail = if source.platform() == "spotify" {
                format!(
                    "it is private, or the Spotify app is in Development Mode, which since 2026 may only read playlists its owner owns ({})",
                    e.detail
                )
            } else {
                format!("it is private ({})", e.detail)
            };
            SourceError::Refused {
                platform,
                what,
                id,
                detail,
            }
        }
        _ => SourceError::PlatformFailed { platform, error: e },
    }
}

/// Numbers the entries by position and splits tracks from skips.
fn assemble(
    source: SourceRef,
    outcomes: Vec<PlaylistEntryOutcome>,
    note: Option<String>,
) -> SourcePlaylist {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for (i, outcome) in outcomes.into_iter().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match outcome {
            PlaylistEntryOutcome::Track(t) => {
                let wanted = wanted_from(&t);
                if wanted.artist.trim().is_empty() || wanted.title.trim().is_empty() {
                    skipped.push(SourceSkip {
                        line_no,
                        input: wanted.display(),
                        reason: "the platform gives this track no artist or no title".into(),
                    });
                    continue;
                }
                entries.push(SourceEntry {
                    line_no,
                    input: wanted.display(),
                    wanted,
                    platform_id: t.platform_id.clone(),
                    url: t.url.clone(),
                });
            }
            PlaylistEntryOutcome::Skipped { label, reason } => skipped.push(SourceSkip {
                line_no,
                input: label,
                reason,
            }),
        }
    }
    SourcePlaylist {
        source,
        entries,
        skipped,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> SourceRef {
        parse_source_url(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn why(s: &str) -> String {
        match parse_source_url(s) {
            Err(SourceError::Unsupported { why, .. }) => why,
            other => panic!("{s} must be unsupported, got {other:?}"),
        }
    }

    #[test]
    fn spotify_addresses() {
        let want = SourceRef::SpotifyPlaylist {
            id: "37i9dQZF1DXcBWIGoYBM5M".into(),
        };
        for s in [
            "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M",
            "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=1cbd1dd0e67342fc",
            "  https://open.spotify.com/intl-de/playlist/37i9dQZF1DXcBWIGoYBM5M/ ",
            "http://open.spotify.com/user/spotify/playlist/37i9dQZF1DXcBWIGoYBM5M",
            "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M",
            "spotify:user:spotify:playlist:37i9dQZF1DXcBWIGoYBM5M",
        ] {
            assert_eq!(ok(s), want, "{s}");
        }
        assert!(why("https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy").contains("album"));
        assert!(why("spotify:track:4PTG3Z6ehGkBFwjybzWkR8").contains("track"));
        assert!(why("https://open.spotify.com/playlist/bad%20id").contains("not valid"));
        assert!(why("https://spotify.link/AbCdEf").contains("short link"));
    }

    #[test]
    fn deezer_addresses() {
        for s in [
            "https://www.deezer.com/fr/playlist/908622995",
            "https://www.deezer.com/playlist/908622995",
            "https://deezer.com/en/playlist/908622995?utm_source=deezer",
        ] {
            assert_eq!(
                ok(s),
                SourceRef::DeezerPlaylist {
                    id: "908622995".into()
                },
                "{s}"
            );
        }
        let w = why("https://deezer.page.link/AbCdEf123");
        assert!(w.contains("short link") && w.contains("browser"), "{w}");
        assert!(why("https://www.deezer.com/en/album/302127").contains("album"));
        assert!(why("https://www.deezer.com/en/playlist/abc").contains("number"));
    }

    #[test]
    fn beatport_addresses() {
        assert_eq!(
            ok("https://www.beatport.com/chart/deep-house-essentials/12345"),
            SourceRef::BeatportChart {
                slug: "deep-house-essentials".into(),
                id: "12345".into()
            }
        );
        assert!(why("https://www.beatport.com/track/strobe/19431036").contains("track"));
        assert!(why("https://www.beatport.com/chart/no-id").contains("/chart/"));
    }

    #[test]
    fn tracklist_addresses() {
        assert_eq!(
            ok(
                "https://www.1001tracklists.com/tracklist/1gz59x6t/bicep-the-warehouse-project-rdm-rotterdam-netherlands-2023-04-28.html"
            ),
            SourceRef::TracklistsSet {
                id: "1gz59x6t".into(),
                slug: "bicep-the-warehouse-project-rdm-rotterdam-netherlands-2023-04-28".into()
            }
        );
        assert!(why("https://www.1001tracklists.com/dj/bicep/index.html").contains("dj"));
        assert!(
            why("https://www.1001tracklists.com/tracklist/x%2F..%2Fy/z.html")
                .contains("/tracklist/")
        );
        assert_eq!(
            ok("https://www.mixcloud.com/NTSRadio/knee-deep-26th-august-2014/"),
            SourceRef::MixcloudShow {
                key: "NTSRadio/knee-deep-26th-august-2014".into()
            }
        );
        assert_eq!(
            ok("https://www.mixcloud.com/NTSRadio/knee-deep-26th-august-2014/").what(),
            "tracklist"
        );
        assert!(why("https://www.mixcloud.com/NTSRadio/").contains("profile"));
        assert!(why("https://www.mixcloud.com/discover/techno/").contains("not a show"));
        assert!(why("https://www.mixcloud.com/a/b/c/").contains("<user>/<show>"));
    }

    #[test]
    fn other_addresses_are_refused_with_the_supported_list() {
        let e = parse_source_url("https://soundcloud.com/x/sets/y").unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains(
                "soundcloud.com is not Spotify, Deezer, Beatport, 1001tracklists or Mixcloud"
            ),
            "{s}"
        );
        assert!(s.contains("open.spotify.com/playlist"), "{s}");
        assert_eq!(e.field(), "url");
        assert!(why("ftp://open.spotify.com/playlist/x").contains("http"));
        assert!(why("not a url at all").contains("not a web address"));
    }

    #[test]
    fn failures_are_told_apart_for_people() {
        let src = SourceRef::SpotifyPlaylist { id: "x".into() };
        let e = classify(
            &src,
            PlatformError::new("spotify", ErrorClass::Network, "GET … could not connect"),
        );
        assert!(matches!(e, SourceError::PlatformFailed { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("Spotify could not be read: spotify could not be reached"),
            "{e}"
        );
        let e = classify(
            &src,
            PlatformError::new("spotify", ErrorClass::Auth, "HTTP 403 Forbidden for GET …"),
        );
        assert!(matches!(e, SourceError::Refused { .. }), "{e:?}");
        let e = classify(
            &src,
            PlatformError::new("spotify", ErrorClass::Auth, "HTTP 400 for POST …/api/token")
                .with_headline("Spotify refused the app credentials: check X"),
        );
        assert!(matches!(e, SourceError::PlatformFailed { .. }), "{e:?}");
        assert!(e.to_string().contains("check X"), "{e}");
        let e = classify(
            &SourceRef::DeezerPlaylist { id: "9".into() },
            PlatformError::new("deezer", ErrorClass::NotFound, "Deezer error 800"),
        );
        assert_eq!(
            e.to_string(),
            "Deezer has no playlist '9', or it is private (Deezer error 800)"
        );
    }

    #[test]
    fn urls_are_told_from_files() {
        assert!(is_url("https://open.spotify.com/playlist/x"));
        assert!(is_url("HTTP://x"));
        assert!(is_url("spotify:playlist:x"));
        assert!(!is_url("playlist.m3u"));
        assert!(!is_url("-"));
        assert!(!is_url("https"));
    }
}
