//! A local HTTP server standing in for MusicBrainz, Deezer, Discogs, Spotify and Beatport,
//! serving ONLY real recorded payloads read in place from the reference kit
//! (`<kit>/fixtures/{musicbrainz,deezer,discogs,spotify,beatport}`), byte for byte. Where the kit has no recording for an answer, the server sends the
//! platform's documented "nothing here" shape (see each route), never an invented track.
//!
//! Routes (the paths the platform clients call):
//! - MusicBrainz: `GET /ws/2/recording/{mbid}` (the lookup fixture with that id, else 404
//!   with MusicBrainz's documented error body), `GET /ws/2/recording?query=` (the one
//!   recorded JSON recording search, for every query), `GET /ws/2/isrc/{isrc}` (404: the kit
//!   has no ISRC lookup), `GET /ws/2/release/{id}`, `GET /ws/2/release?query=`.
//! - Deezer: `GET /track/{id}`, `GET /track/isrc:{ISRC}` (fixture, else the real
//!   `error_track_not_found.json` with HTTP 200, as Deezer does), `GET /search/track` and
//!   `GET /search` (the recorded search whose tracks best contain the query's words, else
//!   an empty page), `GET /album/{id}`, `GET /playlist/{id}`, `GET /playlist/{id}/tracks`.
//! - Discogs: `GET /database/search` (the recorded Prodigy search when the query's words
//!   are found in its result titles, else Discogs' documented empty page), `GET
//!   /releases/{id}`, `GET /masters/{id}` (fixture, else 404 with Discogs' documented
//!   `{"message": ...}` body).
//! - Spotify: `GET /v1/search` (the recorded search containing the `isrc:` asked for, or
//!   whose tracks best contain the query's words, else Spotify's documented empty paging
//!   object), `GET /v1/tracks/{id}`, `GET /v1/playlists/{id}/tracks` (legacy) and
//!   `/items` (2026), `GET /v1/albums/{id}/tracks`, `GET /v1/audio-features/{id}` and
//!   `?ids=`; every `/v1` route wants a bearer token (401 with Spotify's documented error
//!   object otherwise). `POST /api/token` (client credentials) answers the token shape of
//!   Spotify's docs: the kit has no recorded token answer (gap).
//! - Beatport v4: `GET /v4/catalog/search/` (the recorded `strobe` search when the query's
//!   words match its tracks, else the same envelope with no tracks), `GET
//!   /v4/catalog/tracks/{id}/`, `GET /v4/catalog/tracks/?isrc=` (the recorded track inside a
//!   list envelope when the ISRC is the recorded one: no list answer is recorded, gap),
//!   `POST /v4/auth/o/token/` (token shape from Beatport's docs, gap); bearer required.
//! - Control: `GET /__stats` (requests per route family, and each request's arrival time
//!   in µs since the Unix epoch per route family, so a test can count the requests in any
//!   sliding window), `POST /__faults`
//!   (`{"status":500|429,"count":N,"retry_after":S}`: the next N platform requests get that
//!   status with an empty body and, when given, a `Retry-After` header; `count: 0` clears).

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// Why the fixture server could not start.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The kit directory lacks a platform folder or a required payload.
    #[error("fixture kit at {path} is incomplete: {what}")]
    Incomplete {
        /// Where we looked.
        path: PathBuf,
        /// What is missing.
        what: String,
    },
    /// A payload could not be read.
    #[error("could not read fixture {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A payload is not the JSON its name says.
    #[error("fixture {path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The listening socket could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// MusicBrainz's 404 body. Shape from the MusicBrainz ws/2 documentation (the kit has no
/// recorded error answer).
const MB_NOT_FOUND: &str = r#"{"error":"Not Found","help":"For usage, please see: https://musicbrainz.org/development/mmd"}"#;

/// An empty Deezer search page. Shape from Deezer's API docs (`data` + `total`); the kit
/// has no recorded empty search (gap).
const DEEZER_EMPTY_SEARCH: &str = r#"{"data":[],"total":0}"#;

/// One recorded payload, kept as the exact bytes of its file.
#[derive(Debug, Clone)]
struct Payload {
    file: String,
    bytes: Bytes,
}

/// A recorded Deezer search with the words of its tracks, for query matching.
#[derive(Debug, Clone)]
struct RecordedSearch {
    payload: Payload,
    /// Per track: words of its title and artist name.
    tracks: Vec<HashSet<String>>,
    /// Recorded from `/search/track` (advanced search) rather than `/search`.
    advanced: bool,
}

/// Everything the server can answer, indexed at start.
#[derive(Debug, Default)]
struct Fixtures {
    mb_recordings: HashMap<String, Payload>,
    mb_releases: HashMap<String, Payload>,
    mb_recording_search: Option<Payload>,
    mb_release_search: Option<Payload>,
    dz_tracks: HashMap<String, Payload>,
    dz_isrc: HashMap<String, Payload>,
    dz_albums: HashMap<String, Payload>,
    dz_playlists: HashMap<String, Payload>,
    dz_playlist_tracks: HashMap<String, Payload>,
    dz_searches: Vec<RecordedSearch>,
    dz_no_data: Option<Payload>,
    dc_search: Option<RecordedSearch>,
    dc_releases: HashMap<String, Payload>,
    dc_masters: HashMap<String, Payload>,
    sp_searches: Vec<RecordedSearch>,
    /// ISRCs of each recorded Spotify search (same order as `sp_searches`).
    sp_search_isrcs: Vec<HashSet<String>>,
    sp_tracks: HashMap<String, Payload>,
    sp_playlist_tracks: HashMap<String, Payload>,
    sp_playlist_items: HashMap<String, Payload>,
    sp_album_tracks: HashMap<String, Payload>,
    sp_audio_features: HashMap<String, Payload>,
    sp_audio_features_several: Option<(HashSet<String>, Payload)>,
    bp_search: Option<RecordedSearch>,
    bp_tracks: HashMap<String, Payload>,
    bp_isrc: HashMap<String, Payload>,
}

/// An injected failure for the next `remaining` platform requests.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    /// HTTP status to answer (e.g. 500 or 429).
    pub status: u16,
    /// How many requests get it.
    pub count: u32,
    /// `Retry-After` seconds to send, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Request counts, as `GET /__stats` returns them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// Platform requests received (control routes excluded).
    pub total: u64,
    /// Requests per route family ("musicbrainz.recording_search", "deezer.track", ...).
    pub routes: BTreeMap<String, u64>,
    /// Requests answered by an injected fault.
    pub faults_served: u64,
    /// Arrival time of every request (µs since the Unix epoch, taken before any injected
    /// latency), per route family, in arrival order.
    #[serde(default)]
    pub arrivals_us: BTreeMap<String, Vec<u64>>,
}

impl Stats {
    /// Arrival times of every route family whose name starts with `platform.`, sorted.
    pub fn platform_arrivals(&self, platform: &str) -> Vec<u64> {
        let prefix = format!("{platform}.");
        let mut all: Vec<u64> = self
            .arrivals_us
            .iter()
            .filter(|(family, _)| family.starts_with(&prefix))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        all.sort_unstable();
        all
    }

    /// Requests of `platform` (all its route families).
    pub fn platform_total(&self, platform: &str) -> u64 {
        let prefix = format!("{platform}.");
        self.routes
            .iter()
            .filter(|(family, _)| family.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

/// The largest number of arrivals (µs, sorted) inside any window of `window_us`
/// (half-open: a request exactly `window_us` after another is in the next window).
pub fn max_in_window(sorted_us: &[u64], window_us: u64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted_us.len() {
        while sorted_us[end] - sorted_us[start] >= window_us {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[derive(Debug)]
struct AppState {
    fx: Fixtures,
    stats: Mutex<Stats>,
    fault: Mutex<Option<Fault>>,
    /// Tokens handed out by the token endpoints (each one different).
    tokens_issued: std::sync::atomic::AtomicU64,
    /// Added before every platform answer, to stand in for a real platform's latency.
    latency_ms: std::sync::atomic::AtomicU64,
}

/// A running fixture server.
#[derive(Debug)]
pub struct FixtureServer {
    addr: SocketAddr,
    handle: JoinHandle<()>,
    state: Arc<AppState>,
}

impl FixtureServer {
    /// The bound address (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, to put in `CRATEDIGGER__PLATFORMS__*__BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Request counts so far.
    pub fn stats(&self) -> Stats {
        self.state
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Makes the next `fault.count` platform requests fail with `fault.status`.
    pub fn inject(&self, fault: Fault) {
        set_fault(&self.state, fault);
    }

    /// Delays every platform answer by `latency` (a real platform is not instant; tests use
    /// it to have jobs in flight when they kill a worker).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.state.latency_ms.store(
            latency.as_millis() as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.handle.abort();
    }

    /// The serving task (await it to serve until the process is killed).
    pub fn into_handle(self) -> JoinHandle<()> {
        self.handle
    }
}

/// Loads the kit's MusicBrainz and Deezer payloads and serves them on `addr`
/// (`127.0.0.1:0` picks a free port; see [`FixtureServer::addr`]).
pub async fn serve(kit: PathBuf, addr: SocketAddr) -> Result<FixtureServer, FixtureError> {
    let state = Arc::new(AppState {
        fx: load(&kit)?,
        stats: Mutex::new(Stats::default()),
        fault: Mutex::new(None),
        tokens_issued: std::sync::atomic::AtomicU64::new(0),
        latency_ms: std::sync::atomic::AtomicU64::new(0),
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| FixtureError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| FixtureError::Bind { addr, source })?;
    // a fake slskd for the Soulseek source, base URL `<this server>/slskd`
    let slskd = crate::fake_slskd::FakeSlskd::for_kit(&kit).router();
    let app = router(state.clone()).nest("/slskd", slskd);
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "fixture server stopped");
        }
    });
    tracing::info!(addr = %bound, kit = %kit.display(), "fixture server listening");
    Ok(FixtureServer {
        addr: bound,
        handle,
        state,
    })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/database/search", get(dc_search))
        .route("/releases/{id}", get(dc_release))
        .route("/masters/{id}", get(dc_master))
        .route("/v1/search", get(sp_search))
        .route("/v1/tracks/{id}", get(sp_track))
        .route("/v1/playlists/{id}/tracks", get(sp_playlist_tracks))
        .route("/v1/playlists/{id}/items", get(sp_playlist_items))
        .route("/v1/albums/{id}/tracks", get(sp_album_tracks))
        .route("/v1/audio-features/{id}", get(sp_audio_features))
        .route("/v1/audio-features", get(sp_audio_features_several))
        .route("/api/token", post(sp_token))
        .route("/v4/catalog/search", get(bp_search))
        .route("/v4/catalog/search/", get(bp_search))
        .route("/v4/catalog/tracks", get(bp_tracks_by_isrc))
        .route("/v4/catalog/tracks/", get(bp_tracks_by_isrc))
        .route("/v4/catalog/tracks/{id}", get(bp_track))
        .route("/v4/catalog/tracks/{id}/", get(bp_track))
        .route("/v4/auth/o/token", post(bp_token))
        .route("/v4/auth/o/token/", post(bp_token))
        .route("/ws/2/recording", get(mb_recording_search))
        .route("/ws/2/recording/", get(mb_recording_search))
        .route("/ws/2/recording/{mbid}", get(mb_recording))
        .route("/ws/2/release", get(mb_release_search))
        .route("/ws/2/release/", get(mb_release_search))
        .route("/ws/2/release/{mbid}", get(mb_release))
        .route("/ws/2/isrc/{isrc}", get(mb_isrc))
        .route("/track/{id}", get(dz_track))
        .route("/search", get(dz_search))
        .route("/search/track", get(dz_search))
        .route("/album/{id}", get(dz_album))
        .route("/playlist/{id}", get(dz_playlist))
        .route("/playlist/{id}/tracks", get(dz_playlist_tracks))
        .route("/__stats", get(stats))
        .route("/__faults", post(faults))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_and_fault,
        ))
        .with_state(state)
}

// ---------- loading ----------

fn read(path: &Path) -> Result<Bytes, FixtureError> {
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|source| FixtureError::Read {
            path: path.to_path_buf(),
            source,
        })
}

fn parse(path: &Path, bytes: &[u8]) -> Result<serde_json::Value, FixtureError> {
    serde_json::from_slice(bytes).map_err(|source| FixtureError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// JSON files of a platform folder, sorted by name (deterministic choices).
fn json_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, FixtureError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FixtureError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
        .collect();
    out.sort();
    Ok(out)
}

fn load(kit: &Path) -> Result<Fixtures, FixtureError> {
    let fixtures = kit.join("fixtures");
    let mb_dir = fixtures.join("musicbrainz");
    let dz_dir = fixtures.join("deezer");
    let dc_dir = fixtures.join("discogs");
    let sp_dir = fixtures.join("spotify");
    let bp_dir = fixtures.join("beatport");
    for dir in [&mb_dir, &dz_dir, &dc_dir, &sp_dir, &bp_dir] {
        if !dir.is_dir() {
            return Err(FixtureError::Incomplete {
                path: kit.to_path_buf(),
                what: format!("no directory {}", dir.display()),
            });
        }
    }
    let mut fx = Fixtures::default();

    for (name, path) in json_files(&mb_dir)? {
        let bytes = read(&path)?;
        let payload = Payload {
            file: name.clone(),
            bytes: bytes.clone(),
        };
        if name.starts_with("recording_search") {
            fx.mb_recording_search = Some(payload);
        } else if name.starts_with("release_search") {
            fx.mb_release_search = Some(payload);
        } else if name.starts_with("recording_lookup") || name.starts_with("release_lookup") {
            let json = parse(&path, &bytes)?;
            let Some(id) = json.get("id").and_then(|v| v.as_str()) else {
                continue;
            };
            let map = if name.starts_with("recording") {
                &mut fx.mb_recordings
            } else {
                &mut fx.mb_releases
            };
            map.insert(id.to_ascii_lowercase(), payload);
        }
    }

    for (name, path) in json_files(&dz_dir)? {
        let bytes = read(&path)?;
        let payload = Payload {
            file: name.clone(),
            bytes: bytes.clone(),
        };
        let stem = name.trim_end_matches(".json");
        if name.starts_with("error_track_not_found") {
            fx.dz_no_data = Some(payload);
        } else if let Some(id) = stem.strip_prefix("track_") {
            let json = parse(&path, &bytes)?;
            if let Some(isrc) = json.get("isrc").and_then(|v| v.as_str()) {
                fx.dz_isrc
                    .insert(isrc.to_ascii_uppercase(), payload.clone());
            }
            fx.dz_tracks.insert(id.to_string(), payload);
        } else if let Some(id) = stem.strip_prefix("album_") {
            fx.dz_albums.insert(id.to_string(), payload);
        } else if let Some(rest) = stem.strip_prefix("playlist_") {
            match rest.strip_suffix("_tracks") {
                Some(id) => fx.dz_playlist_tracks.insert(id.to_string(), payload),
                None => fx.dz_playlists.insert(rest.to_string(), payload),
            };
        } else if name.starts_with("search") {
            let json = parse(&path, &bytes)?;
            let tracks = json
                .get("data")
                .and_then(|d| d.as_array())
                .map(|items| items.iter().map(track_words).collect())
                .unwrap_or_default();
            fx.dz_searches.push(RecordedSearch {
                payload,
                tracks,
                advanced: name.starts_with("search-track"),
            });
        }
    }

    load_discogs(&dc_dir, &mut fx)?;
    load_spotify(&sp_dir, &mut fx)?;
    load_beatport(&bp_dir, &mut fx)?;

    if fx.dz_no_data.is_none() {
        return Err(FixtureError::Incomplete {
            path: kit.to_path_buf(),
            what: "fixtures/deezer/error_track_not_found.json is missing".into(),
        });
    }
    if fx.mb_recording_search.is_none() {
        return Err(FixtureError::Incomplete {
            path: kit.to_path_buf(),
            what: "no fixtures/musicbrainz/recording_search_*.json".into(),
        });
    }
    Ok(fx)
}

fn payload_of(name: &str, bytes: &Bytes) -> Payload {
    Payload {
        file: name.to_string(),
        bytes: bytes.clone(),
    }
}

fn load_discogs(dir: &Path, fx: &mut Fixtures) -> Result<(), FixtureError> {
    for (name, path) in json_files(dir)? {
        let bytes = read(&path)?;
        let payload = payload_of(&name, &bytes);
        let stem = name.trim_end_matches(".json");
        if name.starts_with("database_search") {
            let json = parse(&path, &bytes)?;
            // a Discogs result title is "Artist - Release"
            let tracks = json
                .get("results")
                .and_then(|r| r.as_array())
                .map(|items| {
                    items
                        .iter()
                        .map(|r| {
                            r.get("title")
                                .and_then(|t| t.as_str())
                                .map(|t| words(t).collect())
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .unwrap_or_default();
            fx.dc_search = Some(RecordedSearch {
                payload,
                tracks,
                advanced: true,
            });
        } else if let Some(id) = stem.strip_prefix("release_") {
            fx.dc_releases.insert(id.to_string(), payload);
        } else if let Some(id) = stem.strip_prefix("master_") {
            fx.dc_masters.insert(id.to_string(), payload);
        }
    }
    Ok(())
}

/// Words of a Spotify or Beatport track object: its name and its artists' names.
fn named_track_words(track: &serde_json::Value) -> HashSet<String> {
    // Beatport keeps the mix apart from the name (`mix_name`) and credits remixers apart
    // from artists; a search for "Strobe (… Extended Remix)" matches on them too.
    let mut out: HashSet<String> = ["name", "mix_name"]
        .iter()
        .filter_map(|k| track.get(*k).and_then(|v| v.as_str()))
        .flat_map(|s| words(s).collect::<Vec<_>>())
        .collect();
    for a in ["artists", "remixers"]
        .iter()
        .filter_map(|k| track.get(*k).and_then(|a| a.as_array()))
        .flatten()
    {
        if let Some(n) = a.get("name").and_then(|n| n.as_str()) {
            out.extend(words(n));
        }
    }
    out
}

fn load_spotify(dir: &Path, fx: &mut Fixtures) -> Result<(), FixtureError> {
    for (name, path) in json_files(dir)? {
        let bytes = read(&path)?;
        let payload = payload_of(&name, &bytes);
        let stem = name.trim_end_matches(".json");
        if name.starts_with("search_") {
            let json = parse(&path, &bytes)?;
            let items: Vec<serde_json::Value> = json
                .pointer("/tracks/items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default();
            let isrcs = items
                .iter()
                .filter_map(|t| t.pointer("/external_ids/isrc").and_then(|i| i.as_str()))
                .map(|i| i.to_ascii_uppercase())
                .collect();
            fx.sp_searches.push(RecordedSearch {
                payload,
                tracks: items.iter().map(named_track_words).collect(),
                advanced: true,
            });
            fx.sp_search_isrcs.push(isrcs);
        } else if let Some(id) = stem.strip_prefix("track_") {
            fx.sp_tracks.insert(id.to_string(), payload);
        } else if let Some(rest) = stem.strip_prefix("playlist_") {
            if let Some(id) = rest.strip_suffix("_tracks") {
                fx.sp_playlist_tracks.insert(id.to_string(), payload);
            } else if let Some((id, _)) = rest.split_once("_items") {
                fx.sp_playlist_items.insert(id.to_string(), payload);
            }
        } else if let Some(rest) = stem.strip_prefix("album_") {
            if let Some((id, _)) = rest.split_once("_tracks") {
                fx.sp_album_tracks.insert(id.to_string(), payload);
            }
        } else if name.starts_with("audio_features_several") {
            let json = parse(&path, &bytes)?;
            let ids = json
                .get("audio_features")
                .and_then(|a| a.as_array())
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("id").and_then(|i| i.as_str()))
                .map(str::to_string)
                .collect();
            fx.sp_audio_features_several = Some((ids, payload));
        } else if let Some(id) = stem.strip_prefix("audio_features_") {
            fx.sp_audio_features.insert(id.to_string(), payload);
        }
    }
    Ok(())
}

fn load_beatport(dir: &Path, fx: &mut Fixtures) -> Result<(), FixtureError> {
    // only API v4 is served: v3 is retired (its files are for mapper tests of old fields)
    for (name, path) in json_files(dir)? {
        let bytes = read(&path)?;
        let payload = payload_of(&name, &bytes);
        let stem = name.trim_end_matches(".json");
        if name.starts_with("v4_catalog_search") {
            let json = parse(&path, &bytes)?;
            let tracks = json
                .get("tracks")
                .and_then(|t| t.as_array())
                .map(|items| items.iter().map(named_track_words).collect())
                .unwrap_or_default();
            fx.bp_search = Some(RecordedSearch {
                payload,
                tracks,
                advanced: true,
            });
        } else if let Some(id) = stem.strip_prefix("v4_catalog_track_") {
            let json = parse(&path, &bytes)?;
            if let Some(isrc) = json.get("isrc").and_then(|v| v.as_str()) {
                fx.bp_isrc
                    .insert(isrc.to_ascii_uppercase(), payload.clone());
            }
            fx.bp_tracks.insert(id.to_string(), payload);
        }
    }
    Ok(())
}

/// Lower-case alphanumeric words of `s`.
fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

fn track_words(track: &serde_json::Value) -> HashSet<String> {
    // Title and artist only: album words would let "The joke" (album "Soliloquy") answer a
    // search for the track "Soliloquy", which Deezer would not do.
    let fields = [
        track.get("title"),
        track.get("artist").and_then(|a| a.get("name")),
    ];
    fields
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .flat_map(|s| words(s).collect::<Vec<_>>())
        .collect()
}

/// Words of a Deezer query that identify a track: field prefixes (`artist:`), quotes and
/// filler words removed.
fn query_words(q: &str) -> Vec<String> {
    const FIELDS: [&str; 8] = [
        "artist:", "track:", "album:", "label:", "dur_min:", "dur_max:", "bpm_min:", "bpm_max:",
    ];
    const FILLER: [&str; 8] = ["the", "a", "an", "and", "of", "feat", "ft", "featuring"];
    let mut q = q.to_lowercase();
    for f in FIELDS {
        q = q.replace(f, " ");
    }
    let mut out: Vec<String> = Vec::new();
    for w in words(&q) {
        if !FILLER.contains(&w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

// ---------- middleware and control routes ----------

/// Route family of a platform path, for `/__stats`.
fn family(path: &str) -> &'static str {
    let p = path.trim_end_matches('/');
    if let Some(sp) = p.strip_prefix("/v1/") {
        return match sp.split('/').next().unwrap_or("") {
            "search" => "spotify.search",
            "tracks" => "spotify.track",
            "playlists" => "spotify.playlist",
            "albums" => "spotify.album",
            "audio-features" => "spotify.audio_features",
            _ => "spotify.other",
        };
    }
    if p == "/api/token" {
        return "spotify.token";
    }
    if let Some(bp) = p.strip_prefix("/v4/") {
        return if bp.starts_with("auth/") {
            "beatport.token"
        } else if bp == "catalog/search" {
            "beatport.search"
        } else if bp == "catalog/tracks" {
            "beatport.isrc"
        } else if bp.starts_with("catalog/tracks/") {
            "beatport.track"
        } else {
            "beatport.other"
        };
    }
    if p == "/database/search" {
        return "discogs.search";
    } else if p.starts_with("/releases/") {
        return "discogs.release";
    } else if p.starts_with("/masters/") {
        return "discogs.master";
    }
    if p == "/ws/2/recording" {
        "musicbrainz.recording_search"
    } else if p.starts_with("/ws/2/recording/") {
        "musicbrainz.recording"
    } else if p == "/ws/2/release" {
        "musicbrainz.release_search"
    } else if p.starts_with("/ws/2/release/") {
        "musicbrainz.release"
    } else if p.starts_with("/ws/2/isrc/") {
        "musicbrainz.isrc"
    } else if p.starts_with("/track/isrc:") {
        "deezer.isrc"
    } else if p.starts_with("/track/") {
        "deezer.track"
    } else if p == "/search" || p.starts_with("/search/") {
        "deezer.search"
    } else if p.starts_with("/album/") {
        "deezer.album"
    } else if p.starts_with("/playlist/") {
        "deezer.playlist"
    } else {
        "unknown"
    }
}

async fn count_and_fault(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__") {
        return next.run(req).await;
    }
    let arrived_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let fam = family(&path);
    if let Ok(mut stats) = state.stats.lock() {
        stats.total += 1;
        *stats.routes.entry(fam.to_string()).or_default() += 1;
        stats
            .arrivals_us
            .entry(fam.to_string())
            .or_default()
            .push(arrived_us);
    }
    let latency = state.latency_ms.load(std::sync::atomic::Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let fault = state.fault.lock().ok().and_then(|mut slot| {
        let f = slot.as_mut()?;
        if f.count == 0 {
            *slot = None;
            return None;
        }
        f.count -= 1;
        let served = *f;
        if f.count == 0 {
            *slot = None;
        }
        Some(served)
    });
    if let Some(f) = fault {
        if let Ok(mut stats) = state.stats.lock() {
            stats.faults_served += 1;
        }
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = status;
        if let Some(secs) = f.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return resp;
    }
    next.run(req).await
}

fn set_fault(state: &AppState, fault: Fault) {
    if let Ok(mut slot) = state.fault.lock() {
        *slot = (fault.count > 0).then_some(fault);
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Stats> {
    Json(state.stats.lock().map(|s| s.clone()).unwrap_or_default())
}

async fn faults(State(state): State<Arc<AppState>>, Json(fault): Json<Fault>) -> Response {
    if !(100..=599).contains(&fault.status) {
        return (
            StatusCode::BAD_REQUEST,
            format!("status {} is not an HTTP status", fault.status),
        )
            .into_response();
    }
    set_fault(&state, fault);
    Json(fault).into_response()
}

// ---------- platform routes ----------

/// The exact bytes of a payload, as JSON.
fn json_bytes(status: StatusCode, bytes: Bytes) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

fn serve_payload(p: &Payload) -> Response {
    tracing::debug!(file = %p.file, "serving fixture");
    json_bytes(StatusCode::OK, p.bytes.clone())
}

fn mb_not_found() -> Response {
    json_bytes(
        StatusCode::NOT_FOUND,
        Bytes::from_static(MB_NOT_FOUND.as_bytes()),
    )
}

/// Deezer's real "no data" error object, with HTTP 200 as Deezer sends it.
fn dz_no_data(state: &AppState) -> Response {
    match &state.fx.dz_no_data {
        Some(p) => serve_payload(p),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn mb_recording(State(s): State<Arc<AppState>>, UrlPath(mbid): UrlPath<String>) -> Response {
    match s.fx.mb_recordings.get(&mbid.to_ascii_lowercase()) {
        Some(p) => serve_payload(p),
        None => mb_not_found(),
    }
}

/// The kit's only JSON recording search (Fleetwood Mac) answers every query; the matcher
/// downstream rejects the hits that do not fit the wanted track.
async fn mb_recording_search(State(s): State<Arc<AppState>>) -> Response {
    match &s.fx.mb_recording_search {
        Some(p) => serve_payload(p),
        None => mb_not_found(),
    }
}

async fn mb_release(State(s): State<Arc<AppState>>, UrlPath(mbid): UrlPath<String>) -> Response {
    match s.fx.mb_releases.get(&mbid.to_ascii_lowercase()) {
        Some(p) => serve_payload(p),
        None => mb_not_found(),
    }
}

async fn mb_release_search(State(s): State<Arc<AppState>>) -> Response {
    match &s.fx.mb_release_search {
        Some(p) => serve_payload(p),
        None => mb_not_found(),
    }
}

/// The kit has no recorded ISRC lookup (gap): every ISRC is unknown (404), as MusicBrainz
/// answers for an ISRC it does not know.
async fn mb_isrc(UrlPath(_isrc): UrlPath<String>) -> Response {
    mb_not_found()
}

async fn dz_track(State(s): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    let found = match id.strip_prefix("isrc:") {
        Some(isrc) => s.fx.dz_isrc.get(&isrc.to_ascii_uppercase()),
        None => s.fx.dz_tracks.get(&id),
    };
    match found {
        Some(p) => serve_payload(p),
        None => dz_no_data(&s),
    }
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

async fn dz_search(
    State(s): State<Arc<AppState>>,
    Query(params): Query<SearchParams>,
    req_uri: axum::http::Uri,
) -> Response {
    let advanced = req_uri.path().trim_end_matches('/') == "/search/track";
    match best_search(&s.fx.dz_searches, &params.q, advanced) {
        Some(p) => serve_payload(p),
        None => json_bytes(
            StatusCode::OK,
            Bytes::from_static(DEEZER_EMPTY_SEARCH.as_bytes()),
        ),
    }
}

/// The recorded search whose best track contains the most query words; at least half of
/// them (and one) must be found. Ties go to the payload recorded from the same endpoint,
/// then to file-name order.
fn best_search<'a>(searches: &'a [RecordedSearch], q: &str, advanced: bool) -> Option<&'a Payload> {
    let wanted = query_words(q);
    if wanted.is_empty() {
        return None;
    }
    let need = wanted.len().div_ceil(2).max(1);
    searches
        .iter()
        .map(|s| {
            let score = s
                .tracks
                .iter()
                .map(|t| wanted.iter().filter(|w| t.contains(*w)).count())
                .max()
                .unwrap_or(0);
            (score, s.advanced == advanced, s)
        })
        .filter(|(score, _, _)| *score >= need)
        // max_by_key keeps the last maximum; iterate reversed so file order wins ties
        .rev()
        .max_by_key(|(score, same_endpoint, _)| (*score, *same_endpoint))
        .map(|(_, _, s)| &s.payload)
}

async fn dz_album(State(s): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    match s.fx.dz_albums.get(&id) {
        Some(p) => serve_payload(p),
        None => dz_no_data(&s),
    }
}

async fn dz_playlist(State(s): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    match s.fx.dz_playlists.get(&id) {
        Some(p) => serve_payload(p),
        None => dz_no_data(&s),
    }
}

/// Only the first page of a playlist's tracks is recorded; it answers every `index`
/// (clients stop when a page adds nothing new).
async fn dz_playlist_tracks(
    State(s): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    match s.fx.dz_playlist_tracks.get(&id) {
        Some(p) => serve_payload(p),
        None => dz_no_data(&s),
    }
}

// ---------- Discogs ----------

/// Discogs' 404 body. Shape from the Discogs API docs (`{"message": ...}`); the kit has no
/// recorded error answer (gap).
fn dc_not_found(what: &str) -> Response {
    json_bytes(
        StatusCode::NOT_FOUND,
        Bytes::from(format!(r#"{{"message": "{what} not found."}}"#)),
    )
}

/// An empty Discogs search page. Shape from the Discogs API docs (pagination + results);
/// the kit has no recorded empty search (gap).
const DISCOGS_EMPTY_SEARCH: &str = r#"{"pagination": {"per_page": 50, "items": 0, "page": 1, "urls": {}, "pages": 0}, "results": []}"#;

#[derive(Debug, Default, Deserialize)]
struct DiscogsSearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    artist: String,
    #[serde(default)]
    track: String,
    #[serde(default)]
    release_title: String,
}

/// The recorded search (2014, `q=prodigy`) answers a query whose words are found in its
/// result titles; other queries get an empty page.
async fn dc_search(
    State(s): State<Arc<AppState>>,
    Query(p): Query<DiscogsSearchParams>,
) -> Response {
    let q = format!("{} {} {} {}", p.q, p.artist, p.track, p.release_title);
    let found =
        s.fx.dc_search
            .as_ref()
            .and_then(|rec| best_search(std::slice::from_ref(rec), &q, true));
    match found {
        Some(p) => serve_payload(p),
        None => json_bytes(
            StatusCode::OK,
            Bytes::from_static(DISCOGS_EMPTY_SEARCH.as_bytes()),
        ),
    }
}

async fn dc_release(State(s): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    match s.fx.dc_releases.get(&id) {
        Some(p) => serve_payload(p),
        None => dc_not_found("Release"),
    }
}

async fn dc_master(State(s): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    match s.fx.dc_masters.get(&id) {
        Some(p) => serve_payload(p),
        None => dc_not_found("Master Release"),
    }
}

// ---------- Spotify ----------

/// Spotify's regular error object. Shape from the Spotify Web API docs; the kit has no
/// recorded error answer (gap).
fn sp_error(status: StatusCode, message: &str) -> Response {
    json_bytes(
        status,
        Bytes::from(format!(
            r#"{{"error": {{"status": {}, "message": "{message}"}}}}"#,
            status.as_u16()
        )),
    )
}

/// Spotify (and Beatport) answer nothing without a bearer token.
fn has_bearer(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// An empty Spotify track search. Shape from the Spotify Web API docs (a paging object
/// under `tracks`); the kit has no recorded empty search (gap).
const SPOTIFY_EMPTY_SEARCH: &str = r#"{"tracks": {"href": "https://api.spotify.com/v1/search?offset=0&limit=10&query=&type=track", "items": [], "limit": 10, "next": null, "offset": 0, "previous": null, "total": 0}}"#;

async fn sp_search(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Query(p): Query<SearchParams>,
) -> Response {
    if !has_bearer(&headers) {
        return sp_error(StatusCode::UNAUTHORIZED, "No token provided");
    }
    let q = p.q.trim();
    // `isrc:XXX` answers the recorded search that contains that ISRC
    let isrc = q
        .split_whitespace()
        .find_map(|w| w.strip_prefix("isrc:"))
        .map(|i| i.trim_matches('"').to_ascii_uppercase());
    let found = match isrc {
        Some(isrc) => {
            s.fx.sp_search_isrcs
                .iter()
                .position(|isrcs| isrcs.contains(&isrc))
                .and_then(|i| s.fx.sp_searches.get(i))
                .map(|r| &r.payload)
        }
        None => best_search(&s.fx.sp_searches, q, true),
    };
    match found {
        Some(p) => serve_payload(p),
        None => json_bytes(
            StatusCode::OK,
            Bytes::from_static(SPOTIFY_EMPTY_SEARCH.as_bytes()),
        ),
    }
}

fn sp_lookup(
    map: &HashMap<String, Payload>,
    headers: &axum::http::HeaderMap,
    id: &str,
) -> Response {
    if !has_bearer(headers) {
        return sp_error(StatusCode::UNAUTHORIZED, "No token provided");
    }
    match map.get(id) {
        Some(p) => serve_payload(p),
        None => sp_error(StatusCode::NOT_FOUND, "Resource not found"),
    }
}

async fn sp_track(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    sp_lookup(&s.fx.sp_tracks, &headers, &id)
}

/// Legacy `/tracks` page; only the first page is recorded and answers every offset.
async fn sp_playlist_tracks(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    sp_lookup(&s.fx.sp_playlist_tracks, &headers, &id)
}

/// 2026 `/items` page; only one page is recorded and answers every offset.
async fn sp_playlist_items(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    sp_lookup(&s.fx.sp_playlist_items, &headers, &id)
}

/// Only the last page (offset 50) of the album is recorded; it answers every offset.
async fn sp_album_tracks(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    sp_lookup(&s.fx.sp_album_tracks, &headers, &id)
}

async fn sp_audio_features(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    sp_lookup(&s.fx.sp_audio_features, &headers, &id)
}

#[derive(Debug, Deserialize)]
struct IdsParams {
    #[serde(default)]
    ids: String,
}

/// The docs' example of several audio features answers when every id asked is in it.
async fn sp_audio_features_several(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Query(p): Query<IdsParams>,
) -> Response {
    if !has_bearer(&headers) {
        return sp_error(StatusCode::UNAUTHORIZED, "No token provided");
    }
    let asked: Vec<&str> = p.ids.split(',').filter(|i| !i.is_empty()).collect();
    match &s.fx.sp_audio_features_several {
        Some((ids, payload)) if !asked.is_empty() && asked.iter().all(|a| ids.contains(*a)) => {
            serve_payload(payload)
        }
        _ => sp_error(StatusCode::NOT_FOUND, "Resource not found"),
    }
}

/// Client-credentials token. Shape from Spotify's authorization guide
/// (`access_token`, `token_type`, `expires_in`); the kit has no recorded token answer
/// (gap). Wants HTTP Basic client credentials and `grant_type=client_credentials`, else the
/// guide's `invalid_client` / `unsupported_grant_type` error.
async fn sp_token(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "));
    if !basic {
        return json_bytes(
            StatusCode::BAD_REQUEST,
            Bytes::from_static(
                br#"{"error":"invalid_client","error_description":"Invalid client"}"#,
            ),
        );
    }
    let form = String::from_utf8_lossy(&body);
    if !form
        .split('&')
        .any(|kv| kv == "grant_type=client_credentials")
    {
        return json_bytes(
            StatusCode::BAD_REQUEST,
            Bytes::from_static(br#"{"error":"unsupported_grant_type","error_description":"grant_type parameter is missing"}"#),
        );
    }
    let n = s
        .tokens_issued
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    json_bytes(
        StatusCode::OK,
        Bytes::from(format!(
            r#"{{"access_token":"fixture-spotify-token-{n}","token_type":"Bearer","expires_in":3600}}"#
        )),
    )
}

// ---------- Beatport v4 ----------

/// Beatport v4 (Django REST framework) error body; shape from DRF's documented defaults, the
/// kit has no recorded error answer (gap).
fn bp_error(status: StatusCode, detail: &str) -> Response {
    json_bytes(status, Bytes::from(format!(r#"{{"detail": "{detail}"}}"#)))
}

fn bp_unauthorized() -> Response {
    bp_error(
        StatusCode::UNAUTHORIZED,
        "Authentication credentials were not provided.",
    )
}

/// An empty v4 track search: the recorded search payload's envelope keys with no tracks
/// (no empty search is recorded; gap).
const BEATPORT_EMPTY_SEARCH: &str = r#"{"tracks": [], "order": [], "next": null, "previous": null, "count": 0, "page": "1/0", "per_page": 25}"#;

async fn bp_search(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Query(p): Query<SearchParams>,
) -> Response {
    if !has_bearer(&headers) {
        return bp_unauthorized();
    }
    let found =
        s.fx.bp_search
            .as_ref()
            .and_then(|rec| best_search(std::slice::from_ref(rec), &p.q, true));
    match found {
        Some(p) => serve_payload(p),
        None => json_bytes(
            StatusCode::OK,
            Bytes::from_static(BEATPORT_EMPTY_SEARCH.as_bytes()),
        ),
    }
}

async fn bp_track(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if !has_bearer(&headers) {
        return bp_unauthorized();
    }
    match s.fx.bp_tracks.get(id.trim_end_matches('/')) {
        Some(p) => serve_payload(p),
        None => bp_error(StatusCode::NOT_FOUND, "Not found."),
    }
}

#[derive(Debug, Deserialize)]
struct IsrcParams {
    #[serde(default)]
    isrc: String,
}

/// `/v4/catalog/tracks/?isrc=`: no list answer is recorded (gap). The recorded track object
/// (its exact bytes) is put into a list envelope with the keys of Beatport's paged answers
/// (`results`, `count`, `next`, `previous`, `page`, `per_page`); other ISRCs get it empty.
async fn bp_tracks_by_isrc(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Query(p): Query<IsrcParams>,
) -> Response {
    if !has_bearer(&headers) {
        return bp_unauthorized();
    }
    let (items, count): (&[u8], u32) = match s.fx.bp_isrc.get(&p.isrc.to_ascii_uppercase()) {
        Some(track) => (&track.bytes, 1),
        None => (b"", 0),
    };
    let mut body = Vec::with_capacity(items.len() + 128);
    body.extend_from_slice(br#"{"results": ["#);
    body.extend_from_slice(items);
    body.extend_from_slice(
        format!(
            r#"], "count": {count}, "next": null, "previous": null, "page": "1/{count}", "per_page": 25}}"#
        )
        .as_bytes(),
    );
    json_bytes(StatusCode::OK, Bytes::from(body))
}

/// OAuth token. Shape from Beatport's v4 API docs (`access_token`, `expires_in`,
/// `token_type`, `scope`); the kit has no recorded token answer (gap).
async fn bp_token(State(s): State<Arc<AppState>>) -> Response {
    let n = s
        .tokens_issued
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    json_bytes(
        StatusCode::OK,
        Bytes::from(format!(
            r#"{{"access_token":"fixture-beatport-token-{n}","expires_in":36000,"token_type":"Bearer","scope":"app:locker user:dj"}}"#
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::kit_dir;

    async fn start() -> (FixtureServer, PathBuf) {
        let kit = kit_dir();
        let server = serve(kit.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("fixture server starts");
        (server, kit)
    }

    async fn get(server: &FixtureServer, path: &str) -> (u16, String, Vec<u8>) {
        let resp = reqwest::get(format!("{}{}", server.base_url(), path))
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, ct, resp.bytes().await.unwrap().to_vec())
    }

    fn kit_file(kit: &Path, rel: &str) -> Vec<u8> {
        std::fs::read(kit.join("fixtures").join(rel)).unwrap()
    }

    #[tokio::test]
    async fn musicbrainz_lookups_serve_the_recorded_bytes() {
        let (server, kit) = start().await;
        let (status, ct, body) = get(
            &server,
            "/ws/2/recording/ab80a174-1b7d-41c8-bddb-5edfd849d512?fmt=json",
        )
        .await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("application/json"), "{ct}");
        assert_eq!(
            body,
            kit_file(
                &kit,
                "musicbrainz/recording_lookup_ab80a174_inc-isrcs-artist-credits-releases.json"
            )
        );
        let (status, _, body) = get(
            &server,
            "/ws/2/release/58558cec-d9f1-40e4-a857-f7af88883c12?fmt=json",
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            kit_file(
                &kit,
                "musicbrainz/release_lookup_58558cec_heroes_inc-recordings-labels.json"
            )
        );
        let (status, _, body) = get(
            &server,
            "/ws/2/recording/00000000-0000-0000-0000-000000000000",
        )
        .await;
        assert_eq!(status, 404);
        let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(err["error"], "Not Found");
    }

    #[tokio::test]
    async fn musicbrainz_search_answers_every_query_and_isrc_is_a_gap() {
        let (server, kit) = start().await;
        let search = kit_file(
            &kit,
            "musicbrainz/recording_search_query-artist-fleetwood-mac_limit-100.json",
        );
        for q in [
            "artist:%22Bicep%22%20AND%20recording:%22Glue%22",
            "anything",
        ] {
            let (status, _, body) =
                get(&server, &format!("/ws/2/recording?query={q}&fmt=json")).await;
            assert_eq!(status, 200);
            assert_eq!(body, search);
        }
        let (status, _, _) = get(&server, "/ws/2/isrc/GBAYE1000004?fmt=json").await;
        assert_eq!(status, 404);
        let stats = server.stats();
        assert_eq!(stats.routes["musicbrainz.recording_search"], 2);
        assert_eq!(stats.routes["musicbrainz.isrc"], 1);
    }

    #[tokio::test]
    async fn deezer_tracks_by_id_and_isrc_or_the_real_error_object() {
        let (server, kit) = start().await;
        let track = kit_file(&kit, "deezer/track_3135556.json");
        let no_data = kit_file(&kit, "deezer/error_track_not_found.json");
        assert_eq!(get(&server, "/track/3135556").await.2, track);
        assert_eq!(get(&server, "/track/isrc:GBDUW0000059").await.2, track);
        assert_eq!(get(&server, "/track/isrc:gbduw0000059").await.2, track);
        let (status, _, body) = get(&server, "/track/-1").await;
        assert_eq!((status, body), (200, no_data.clone()));
        let (status, _, body) = get(&server, "/track/isrc:XXXXX0000000").await;
        assert_eq!((status, body), (200, no_data.clone()));
        assert_eq!(
            get(&server, "/album/302127").await.2,
            kit_file(&kit, "deezer/album_302127.json")
        );
        assert_eq!(get(&server, "/album/1").await.2, no_data);
        assert_eq!(
            get(&server, "/playlist/908622995").await.2,
            kit_file(&kit, "deezer/playlist_908622995.json")
        );
        assert_eq!(
            get(&server, "/playlist/9200461/tracks?index=25").await.2,
            kit_file(&kit, "deezer/playlist_9200461_tracks.json")
        );
        let stats = server.stats();
        assert_eq!(stats.routes["deezer.isrc"], 3);
        assert_eq!(stats.routes["deezer.track"], 2);
    }

    #[tokio::test]
    async fn deezer_search_picks_the_best_recorded_page_or_an_empty_one() {
        let (server, kit) = start().await;
        let joke = kit_file(
            &kit,
            "deezer/search-track_artist-lou-doillon_track-joke.json",
        );
        let (_, _, body) = get(
            &server,
            "/search/track?q=artist%3A%22Lou%20Doillon%22%20track%3A%22Joke%22&limit=25",
        )
        .await;
        assert_eq!(body, joke);
        let (_, _, body) = get(&server, "/search?q=Billy+Jean").await;
        assert_eq!(
            body,
            kit_file(&kit, "deezer/search_q-billy-jean_limit-2.json")
        );
        let (_, _, body) = get(&server, "/search?q=Soliloquy").await;
        assert_eq!(body, kit_file(&kit, "deezer/search_q-soliloquy.json"));
        let (status, _, body) = get(
            &server,
            "/search/track?q=artist%3A%22Bicep%22%20track%3A%22Glue%22",
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body, DEEZER_EMPTY_SEARCH.as_bytes());
        assert_eq!(
            get(&server, "/search/track").await.2,
            DEEZER_EMPTY_SEARCH.as_bytes()
        );
    }

    #[tokio::test]
    async fn faults_apply_to_the_next_requests_only() {
        let (server, kit) = start().await;
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{}/__faults", server.base_url()))
            .json(&serde_json::json!({"status": 429, "count": 2, "retry_after": 7}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        for _ in 0..2 {
            let resp = reqwest::get(format!("{}/track/3135556", server.base_url()))
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 429);
            assert_eq!(resp.headers()["retry-after"], "7");
        }
        assert_eq!(
            get(&server, "/track/3135556").await.2,
            kit_file(&kit, "deezer/track_3135556.json")
        );
        server.inject(Fault {
            status: 500,
            count: 1,
            retry_after: None,
        });
        assert_eq!(get(&server, "/ws/2/recording?query=x").await.0, 500);
        assert_eq!(get(&server, "/ws/2/recording?query=x").await.0, 200);

        let stats: Stats = reqwest::get(format!("{}/__stats", server.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stats.total, 5);
        assert_eq!(stats.faults_served, 3);
        assert_eq!(stats.routes["deezer.track"], 3);
        let bad = client
            .post(format!("{}/__faults", server.base_url()))
            .json(&serde_json::json!({"status": 42, "count": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status().as_u16(), 400);
    }

    #[tokio::test]
    async fn an_incomplete_kit_is_refused_with_its_path() {
        let err = serve(
            PathBuf::from("/nonexistent-kit"),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("/nonexistent-kit"), "{err}");
    }

    #[test]
    fn query_words_drop_fields_quotes_and_filler() {
        assert_eq!(
            query_words(r#"artist:"The Notwist" track:"This Room (Four Tet remix)""#),
            vec!["notwist", "this", "room", "four", "tet", "remix"]
        );
        assert_eq!(family("/track/isrc:X"), "deezer.isrc");
        assert_eq!(family("/ws/2/recording/"), "musicbrainz.recording_search");
    }

    async fn get_auth(server: &FixtureServer, path: &str) -> (u16, Vec<u8>) {
        let resp = reqwest::Client::new()
            .get(format!("{}{}", server.base_url(), path))
            .bearer_auth("t")
            .send()
            .await
            .expect("request");
        (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
    }

    #[tokio::test]
    async fn discogs_routes_serve_the_recorded_bytes() {
        let (server, kit) = start().await;
        let search = kit_file(
            &kit,
            "discogs/database_search_q-prodigy_type-release_page-1.json",
        );
        assert_eq!(
            get(&server, "/database/search?q=prodigy&type=release")
                .await
                .2,
            search
        );
        assert_eq!(
            get(
                &server,
                "/database/search?artist=The+Prodigy&track=Firestarter"
            )
            .await
            .2,
            search
        );
        let (status, _, body) = get(&server, "/database/search?q=Bicep+Glue").await;
        assert_eq!(status, 200);
        let empty: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(empty["results"], serde_json::json!([]));
        assert_eq!(
            get(&server, "/releases/1503102").await.2,
            kit_file(&kit, "discogs/release_1503102.json")
        );
        assert_eq!(
            get(&server, "/masters/33687").await.2,
            kit_file(&kit, "discogs/master_33687.json")
        );
        assert_eq!(get(&server, "/releases/1").await.0, 404);
        let stats = server.stats();
        assert_eq!(stats.platform_total("discogs"), 6);
        assert_eq!(stats.routes["discogs.search"], 3);
    }

    #[tokio::test]
    async fn spotify_routes_want_a_token_and_serve_the_recorded_bytes() {
        let (server, kit) = start().await;
        assert_eq!(
            get(&server, "/v1/tracks/04zxGiXcmNQ0m9oDXtwo18").await.0,
            401
        );
        assert_eq!(
            get_auth(&server, "/v1/tracks/04zxGiXcmNQ0m9oDXtwo18")
                .await
                .1,
            kit_file(&kit, "spotify/track_04zxGiXcmNQ0m9oDXtwo18.json")
        );
        let rick = kit_file(
            &kit,
            "spotify/search_type-track_q-never-gonna-give-you-up_2026.json",
        );
        assert_eq!(
            get_auth(&server, "/v1/search?q=isrc:GBARL9300135&type=track")
                .await
                .1,
            rick
        );
        assert_eq!(
            get_auth(
                &server,
                "/v1/search?q=artist%3A%22Rick%20Astley%22%20track%3A%22Never%20Gonna%20Give%20You%20Up%22&type=track"
            )
            .await
            .1,
            rick
        );
        let (status, body) = get_auth(&server, "/v1/search?q=isrc:XX0000000000&type=track").await;
        assert_eq!(status, 200);
        let empty: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(empty["tracks"]["items"], serde_json::json!([]));
        assert_eq!(
            get_auth(
                &server,
                "/v1/playlists/5LkNhFidYyyjRWwnkcMbQs/tracks?offset=0"
            )
            .await
            .1,
            kit_file(&kit, "spotify/playlist_5LkNhFidYyyjRWwnkcMbQs_tracks.json")
        );
        assert_eq!(
            get_auth(&server, "/v1/playlists/1Cp6VQCKf2VL4sP09jN9oX/items")
                .await
                .1,
            kit_file(
                &kit,
                "spotify/playlist_1Cp6VQCKf2VL4sP09jN9oX_items_2026.json"
            )
        );
        assert_eq!(
            get_auth(
                &server,
                "/v1/albums/32nryzA6XBCX9ZUspVc1yz/tracks?offset=50"
            )
            .await
            .1,
            kit_file(
                &kit,
                "spotify/album_32nryzA6XBCX9ZUspVc1yz_tracks_offset-50.json"
            )
        );
        assert_eq!(
            get_auth(&server, "/v1/audio-features/11dFghVXANMlKmJXsNCbNl")
                .await
                .1,
            kit_file(&kit, "spotify/audio_features_11dFghVXANMlKmJXsNCbNl.json")
        );
        assert_eq!(
            get_auth(
                &server,
                "/v1/audio-features?ids=4JpKVNYnVcJ8tuMKjAj50A,2NRANZE9UCmPAS5XVbXL40"
            )
            .await
            .1,
            kit_file(&kit, "spotify/audio_features_several_docs-example.json")
        );
        let (status, body) = get_auth(&server, "/v1/tracks/nope").await;
        assert_eq!(status, 404);
        let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(err["error"]["status"], 404);

        // client credentials: Basic auth + grant type, a new token each time
        let client = reqwest::Client::new();
        let token = |auth: bool| {
            let mut r = client
                .post(format!("{}/api/token", server.base_url()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials");
            if auth {
                r = r.basic_auth("id", Some("secret"));
            }
            r.send()
        };
        let t1: serde_json::Value = token(true).await.unwrap().json().await.unwrap();
        let t2: serde_json::Value = token(true).await.unwrap().json().await.unwrap();
        assert_eq!(t1["token_type"], "Bearer");
        assert_eq!(t1["expires_in"], 3600);
        assert_ne!(t1["access_token"], t2["access_token"]);
        assert_eq!(token(false).await.unwrap().status().as_u16(), 400);
        assert_eq!(server.stats().routes["spotify.token"], 3);
    }

    #[tokio::test]
    async fn beatport_v4_routes_serve_the_recorded_bytes() {
        let (server, kit) = start().await;
        let track = kit_file(&kit, "beatport/v4_catalog_track_19431036.json");
        assert_eq!(get(&server, "/v4/catalog/tracks/19431036/").await.0, 401);
        assert_eq!(
            get_auth(&server, "/v4/catalog/tracks/19431036/").await.1,
            track
        );
        assert_eq!(get_auth(&server, "/v4/catalog/tracks/1/").await.0, 404);
        assert_eq!(
            get_auth(
                &server,
                "/v4/catalog/search/?q=deadmau5%20Strobe&type=tracks"
            )
            .await
            .1,
            kit_file(
                &kit,
                "beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json"
            )
        );
        let (_, body) = get_auth(&server, "/v4/catalog/search/?q=Bicep%20Glue&type=tracks").await;
        let empty: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(empty["tracks"], serde_json::json!([]));
        // the ISRC list wraps the recorded track object, byte for byte
        let (_, body) = get_auth(&server, "/v4/catalog/tracks/?isrc=GBTDG1302861").await;
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let recorded: serde_json::Value = serde_json::from_slice(&track).unwrap();
        assert_eq!(list["results"][0], recorded);
        assert_eq!(list["count"], 1);
        let (_, body) = get_auth(&server, "/v4/catalog/tracks/?isrc=XX0000000000").await;
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(list["count"], 0);
        let tok: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v4/auth/o/token/", server.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(tok["token_type"], "Bearer");
        assert_eq!(server.stats().platform_total("beatport"), 8);
    }

    #[tokio::test]
    async fn stats_keep_every_arrival_time_per_route_family() {
        let (server, _) = start().await;
        for _ in 0..3 {
            get(&server, "/track/3135556").await;
        }
        get(&server, "/ws/2/recording?query=x").await;
        let stats: Stats = reqwest::get(format!("{}/__stats", server.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let dz = &stats.arrivals_us["deezer.track"];
        assert_eq!(dz.len(), 3);
        assert!(dz.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(stats.platform_arrivals("deezer"), *dz);
        assert_eq!(stats.platform_arrivals("musicbrainz").len(), 1);
    }

    #[test]
    fn max_in_window_counts_any_sliding_window() {
        assert_eq!(max_in_window(&[], 1_000_000), 0);
        assert_eq!(max_in_window(&[0, 200, 400, 600, 800, 1000], 1000), 5);
        assert_eq!(max_in_window(&[0, 200, 400, 600, 800, 999], 1000), 6);
        assert_eq!(max_in_window(&[0, 5000, 5001, 5002], 1000), 3);
    }
}
