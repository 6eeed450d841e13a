//! A small fake of slskd (the Soulseek daemon's REST API, `/api/v0`) for the Soulseek
//! contract tests and the end-to-end tests.
//!
//! **Recorded vs built from docs.** The search responses (`GET
//! /api/v0/searches/{id}/responses`) are the kit's one real recording,
//! `<kit>/fixtures/slskd/searches_responses_demdike-stare-tryptych.json`, served byte for
//! byte for every search (read in place, never edited). The kit records nothing else of
//! slskd (its README names the gap), so every other shape here is BUILT FROM SLSKD'S SOURCE
//! AND API DOCS, not recorded: `SearchesController` (POST answers the `Search` object; 429
//! "Only one concurrent operation is permitted…" while another request is in flight; 409
//! when the client is not connected; `PUT` stops, `DELETE` answers 204), `Search` (`state`
//! flags "InProgress" / "Completed, TimedOut" / "Completed, Errored", `isComplete`),
//! `TransfersController` (POST `downloads/{username}` answers 201 with `{enqueued,
//! failed}` as slskd >= 0.24 does; GET `downloads/{username}` answers `{username,
//! directories:[{directory, fileCount, files:[Transfer]}]}`; GET/DELETE
//! `downloads/{username}/{id}[?remove=true]`), `Transfer` (`state` "Queued, Locally",
//! "Queued, Remotely", "Initializing", "InProgress", "Completed, Succeeded", "Completed,
//! Rejected", "Completed, Cancelled"; `bytesTransferred`, `percentComplete`, `exception`)
//! and `ServerState` (`state` "Connected, LoggedIn" / "Disconnected", `isConnected`,
//! `isLoggedIn`).
//!
//! **Behaviour.** A search completes `search_ms` after it was created. A transfer is queued
//! for a moment, then its content (the local file registered for its remote name) is
//! written in `chunks` chunks, one every `chunk_ms`, into `<incomplete>/<parent>/<name>`;
//! like slskd, the transfer is marked "Completed, Succeeded" first and the file is then
//! moved to `<downloads>/<parent>/<name>` (with slskd's `_<ticks>` suffix when the name is
//! taken). A remote name with no registered file is refused like a peer does ("File not
//! shared."). Unlike real slskd, names that would leave the directory (`..`, empty) are
//! written as `_`, so the fake never writes outside its test directories.
//!
//! **Controls** (JSON, also as methods): `POST /__slskd/files` `{"filename": remote, "path":
//! local}` registers a transfer's content; `POST /__slskd/faults` `{"search_429": N,
//! "enqueue_429": N, "ban": bool, "search_errored": bool, "empty": bool, "stall_filename":
//! remote, "reject_filename": remote, "offline_user": name}` (replaces the faults; `ban`
//! drops the server connection: searches get 409 and `GET /api/v0/server` says
//! "Disconnected"); `POST /__slskd/config` `{"api_key", "downloads_dir", "incomplete_dir",
//! "search_ms", "chunk_ms", "chunks"}`; `GET /__slskd/stats` answers the counters
//! ([`SlskdStats`]).
//!
//! **Starting it.** In process: `FakeSlskd::new(options)?.start("127.0.0.1:0")` and point
//! `CRATEDIGGER__SOURCES__SOULSEEK__BASE_URL` at [`RunningFakeSlskd::base_url`]. The
//! fixture server also serves one under `/slskd` (base URL `<fixture server>/slskd`), with
//! temporary directories until `POST /slskd/__slskd/config` sets the shared downloads
//! directory.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The recorded search responses, relative to the kit directory.
pub const RECORDED_RESPONSES: &str =
    "fixtures/slskd/searches_responses_demdike-stare-tryptych.json";

/// slskd's 429 text (SearchesController / TransfersController).
const TOO_MANY: &str =
    "Only one concurrent operation is permitted. Wait until the previous request completes";

/// Searches slskd >= 0.24 runs at once; one more is answered 429.
const MAX_CONCURRENT_SEARCHES: usize = 2;

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeSlskdError {
    /// The recorded responses could not be read.
    #[error("could not read the recorded slskd search responses at {path}: {source}")]
    Read {
        /// Where we looked.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A directory could not be created.
    #[error("could not create the fake slskd directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The socket could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How the fake starts.
#[derive(Debug, Clone)]
pub struct FakeSlskdOptions {
    /// The reference kit (its recorded responses are served). `None`: every search finds
    /// nothing (`[]`).
    pub kit: Option<PathBuf>,
    /// Where finished files go (slskd's downloads directory).
    pub downloads_dir: PathBuf,
    /// Where partial files are written (slskd's incomplete directory).
    pub incomplete_dir: PathBuf,
    /// Required `X-API-Key`; `None` accepts any request.
    pub api_key: Option<String>,
    /// How long a search runs.
    pub search_ms: u64,
    /// Delay between two chunks of a transfer.
    pub chunk_ms: u64,
    /// Chunks per transfer.
    pub chunks: u32,
}

impl FakeSlskdOptions {
    /// Options with both directories under `root` (`root/downloads`, `root/incomplete`).
    pub fn in_dir(root: &Path, kit: Option<PathBuf>) -> Self {
        Self {
            kit,
            downloads_dir: root.join("downloads"),
            incomplete_dir: root.join("incomplete"),
            api_key: None,
            search_ms: 150,
            chunk_ms: 40,
            chunks: 8,
        }
    }
}

/// Faults to inject (`POST /__slskd/faults` replaces them all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next N searches are answered 429.
    pub search_429: u32,
    /// The next N enqueue requests are answered 429.
    pub enqueue_429: u32,
    /// The Soulseek server dropped us: searches get 409, the server state is "Disconnected".
    pub ban: bool,
    /// Searches end "Completed, Errored" while connected.
    pub search_errored: bool,
    /// Searches find nothing.
    pub empty: bool,
    /// This remote file stops halfway and never progresses again.
    pub stall_filename: Option<String>,
    /// The peer refuses this remote file ("File not shared.").
    pub reject_filename: Option<String>,
    /// Enqueueing from this user fails: the user is offline.
    pub offline_user: Option<String>,
}

/// Settings changed at run time (`POST /__slskd/config`); absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigUpdate {
    /// Required `X-API-Key` (an empty string accepts any request).
    pub api_key: Option<String>,
    /// New downloads directory.
    pub downloads_dir: Option<PathBuf>,
    /// New incomplete directory.
    pub incomplete_dir: Option<PathBuf>,
    /// How long a search runs.
    pub search_ms: Option<u64>,
    /// Delay between chunks.
    pub chunk_ms: Option<u64>,
    /// Chunks per transfer.
    pub chunks: Option<u32>,
}

/// A transfer's content: `POST /__slskd/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRegistration {
    /// The peer's path, as in the search response and the enqueue request.
    pub filename: String,
    /// A local file whose bytes the transfer delivers.
    pub path: PathBuf,
}

/// What the fake saw, as `GET /__slskd/stats` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlskdStats {
    /// Searches created.
    pub searches_posted: u64,
    /// Searches answered 429 (injected or over slskd's concurrency).
    pub searches_refused: u64,
    /// Searches answered 409 (server connection dropped).
    pub searches_conflict: u64,
    /// Searches deleted.
    pub searches_deleted: u64,
    /// Searches stopped (`PUT`).
    pub searches_stopped: u64,
    /// Most searches in progress at once.
    pub max_concurrent_searches: u64,
    /// `GET /api/v0/server` reads.
    pub server_reads: u64,
    /// Transfers enqueued.
    pub enqueued: u64,
    /// Enqueue requests answered 429.
    pub enqueue_refused: u64,
    /// Transfers cancelled (`DELETE`).
    pub cancelled: u64,
    /// Transfer records removed (`remove=true`).
    pub removed: u64,
    /// Transfers completed successfully.
    pub completed: u64,
    /// Transfers the "peer" refused.
    pub rejected: u64,
    /// Requests refused for a wrong or missing API key.
    pub unauthorized: u64,
}

#[derive(Debug, Clone)]
struct SearchRec {
    id: String,
    text: String,
    started: Instant,
    stopped: bool,
    errored: bool,
    empty: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct TransferRec {
    id: String,
    username: String,
    direction: &'static str,
    filename: String,
    size: u64,
    start_offset: u64,
    state: String,
    requested_at: String,
    enqueued_at: Option<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
    bytes_transferred: u64,
    average_speed: f64,
    place_in_queue: Option<u64>,
    exception: Option<String>,
    percent_complete: f64,
    bytes_remaining: u64,
}

#[derive(Debug)]
struct Inner {
    recorded: Result<Bytes, String>,
    opts: FakeSlskdOptions,
    faults: Faults,
    files: HashMap<String, PathBuf>,
    searches: Vec<SearchRec>,
    transfers: Vec<TransferRec>,
    tasks: HashMap<String, JoinHandle<()>>,
    stats: SlskdStats,
}

/// The fake. Cheap to clone; clones share it.
#[derive(Debug, Clone)]
pub struct FakeSlskd {
    inner: Arc<Mutex<Inner>>,
}

/// A fake listening on a socket.
#[derive(Debug)]
pub struct RunningFakeSlskd {
    addr: SocketAddr,
    fake: FakeSlskd,
    handle: JoinHandle<()>,
}

impl RunningFakeSlskd {
    /// `http://127.0.0.1:PORT`, slskd's base URL (without `/api/v0`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fake behind the socket (controls and counters).
    pub fn fake(&self) -> &FakeSlskd {
        &self.fake
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.handle.abort();
    }
}

static INSTANCES: AtomicU64 = AtomicU64::new(0);

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl FakeSlskd {
    /// A fake with `opts`; creates both directories. Fails when a kit is given and its
    /// recorded responses cannot be read (the error says where it looked).
    pub fn new(opts: FakeSlskdOptions) -> Result<Self, FakeSlskdError> {
        let recorded = match &opts.kit {
            Some(kit) => {
                let path = kit.join(RECORDED_RESPONSES);
                Ok(Bytes::from(
                    std::fs::read(&path).map_err(|source| FakeSlskdError::Read { path, source })?,
                ))
            }
            None => Ok(Bytes::from_static(b"[]")),
        };
        for dir in [&opts.downloads_dir, &opts.incomplete_dir] {
            std::fs::create_dir_all(dir).map_err(|source| FakeSlskdError::Dir {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(Self::with(recorded, opts))
    }

    fn with(recorded: Result<Bytes, String>, opts: FakeSlskdOptions) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                recorded,
                opts,
                faults: Faults::default(),
                files: HashMap::new(),
                searches: Vec::new(),
                transfers: Vec::new(),
                tasks: HashMap::new(),
                stats: SlskdStats::default(),
            })),
        }
    }

    /// The fake the fixture server nests under `/slskd`: never fails to start. Its
    /// directories are fresh temporary ones until `POST /__slskd/config` changes them; when
    /// the kit lacks the recording, searches answer 500 saying where it looked.
    pub fn for_kit(kit: &Path) -> Self {
        let root = std::env::temp_dir().join(format!(
            "cratedigger-fake-slskd-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        ));
        let opts = FakeSlskdOptions::in_dir(&root, Some(kit.to_path_buf()));
        let path = kit.join(RECORDED_RESPONSES);
        let recorded = std::fs::read(&path).map(Bytes::from).map_err(|e| {
            format!(
                "the fake slskd has no recorded search responses: could not read {}: {e}",
                path.display()
            )
        });
        // the directories are created on first use (a fixture server that never sees a
        // transfer leaves nothing behind)
        Self::with(recorded, opts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers the local file a transfer of `remote` delivers.
    pub fn register_file(&self, remote: &str, local: &Path) {
        self.lock()
            .files
            .insert(remote.to_string(), local.to_path_buf());
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Changes settings at run time.
    pub fn configure(&self, update: ConfigUpdate) {
        let mut g = self.lock();
        if let Some(k) = update.api_key {
            g.opts.api_key = Some(k).filter(|k| !k.is_empty());
        }
        if let Some(d) = update.downloads_dir {
            let _ = std::fs::create_dir_all(&d);
            g.opts.downloads_dir = d;
        }
        if let Some(d) = update.incomplete_dir {
            let _ = std::fs::create_dir_all(&d);
            g.opts.incomplete_dir = d;
        }
        if let Some(v) = update.search_ms {
            g.opts.search_ms = v;
        }
        if let Some(v) = update.chunk_ms {
            g.opts.chunk_ms = v;
        }
        if let Some(v) = update.chunks {
            g.opts.chunks = v.max(1);
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> SlskdStats {
        self.lock().stats.clone()
    }

    /// slskd's downloads directory.
    pub fn downloads_dir(&self) -> PathBuf {
        self.lock().opts.downloads_dir.clone()
    }

    /// slskd's incomplete directory.
    pub fn incomplete_dir(&self) -> PathBuf {
        self.lock().opts.incomplete_dir.clone()
    }

    /// Where the fake writes `remote` under `base` (slskd's `<parent>/<name>` rule).
    pub fn local_path(base: &Path, remote: &str) -> PathBuf {
        let parts: Vec<&str> = remote
            .split(['\\', '/'])
            .filter(|p| !p.is_empty())
            .collect();
        let clean = |s: &str| {
            let s: String = s.chars().map(|c| if c == '\0' { '_' } else { c }).collect();
            if s.is_empty() || s == "." || s == ".." {
                "_".to_string()
            } else {
                s
            }
        };
        let name = clean(parts.last().copied().unwrap_or(""));
        match parts.len().checked_sub(2).and_then(|i| parts.get(i)) {
            Some(parent) => base.join(clean(parent)).join(name),
            None => base.join(name),
        }
    }

    /// The fake's routes (`/api/v0/...` and `/__slskd/...`).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/v0/searches", post(post_search))
            .route(
                "/api/v0/searches/{id}",
                get(get_search).delete(delete_search).put(stop_search),
            )
            .route("/api/v0/searches/{id}/responses", get(get_responses))
            .route("/api/v0/server", get(get_server))
            .route(
                "/api/v0/transfers/downloads/{username}",
                post(enqueue).get(user_transfers),
            )
            .route(
                "/api/v0/transfers/downloads/{username}/{id}",
                get(get_transfer).delete(cancel_transfer),
            )
            .route("/__slskd/files", post(ctl_files))
            .route("/__slskd/faults", post(ctl_faults))
            .route("/__slskd/config", post(ctl_config))
            .route("/__slskd/stats", get(ctl_stats))
            .with_state(self.clone())
    }

    /// Serves the fake on `addr` (`127.0.0.1:0` picks a free port).
    pub async fn start(self, addr: &str) -> Result<RunningFakeSlskd, FakeSlskdError> {
        let want: SocketAddr = addr
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(want)
            .await
            .map_err(|source| FakeSlskdError::Bind { addr: want, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| FakeSlskdError::Bind { addr: want, source })?;
        let app = self.router();
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake slskd stopped");
            }
        });
        Ok(RunningFakeSlskd {
            addr: bound,
            fake: self,
            handle,
        })
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let mut g = self.lock();
        let Some(want) = g.opts.api_key.clone() else {
            return true;
        };
        let ok = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|k| k == want);
        if !ok {
            g.stats.unauthorized += 1;
        }
        ok
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

impl SearchRec {
    fn complete(&self, search_ms: u64) -> bool {
        self.stopped || self.errored || self.started.elapsed() >= Duration::from_millis(search_ms)
    }

    fn to_json(&self, search_ms: u64, responses: usize, files: usize) -> Value {
        let done = self.complete(search_ms);
        let state = if self.errored {
            "Completed, Errored"
        } else if self.stopped {
            "Completed, Cancelled"
        } else if done {
            "Completed, TimedOut"
        } else {
            "InProgress"
        };
        let (responses, files) = if done && !self.empty && !self.errored {
            (responses, files)
        } else {
            (0, 0)
        };
        json!({
            "fileCount": files,
            "id": self.id,
            "isComplete": done,
            "lockedFileCount": 0,
            "responseCount": responses,
            "responses": [],
            "searchText": self.text,
            "startedAt": now_iso(),
            "state": state,
            "token": 52206,
        })
    }
}

fn recorded_counts(recorded: &Result<Bytes, String>) -> (usize, usize) {
    let Ok(bytes) = recorded else { return (0, 0) };
    let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let list = v.as_array().cloned().unwrap_or_default();
    let files = list
        .iter()
        .map(|r| r.get("files").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    (list.len(), files)
}

async fn post_search(State(f): State<FakeSlskd>, headers: HeaderMap, body: Bytes) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(search_text) = req
        .get("searchText")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
    else {
        return text(StatusCode::BAD_REQUEST, "SearchText is required");
    };
    let id = req
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut g = f.lock();
    if g.faults.search_429 > 0 {
        g.faults.search_429 -= 1;
        g.stats.searches_refused += 1;
        return text(StatusCode::TOO_MANY_REQUESTS, TOO_MANY);
    }
    if g.faults.ban {
        g.stats.searches_conflict += 1;
        return text(
            StatusCode::CONFLICT,
            "The server connection must be connected and logged in to perform a search",
        );
    }
    let search_ms = g.opts.search_ms;
    let running = g.searches.iter().filter(|s| !s.complete(search_ms)).count();
    if running >= MAX_CONCURRENT_SEARCHES {
        g.stats.searches_refused += 1;
        return text(StatusCode::TOO_MANY_REQUESTS, TOO_MANY);
    }
    if g.searches.iter().any(|s| s.id == id) {
        return text(
            StatusCode::BAD_REQUEST,
            "A search with this id already exists",
        );
    }
    g.stats.searches_posted += 1;
    g.stats.max_concurrent_searches = g.stats.max_concurrent_searches.max(running as u64 + 1);
    let rec = SearchRec {
        id,
        text: search_text.to_string(),
        started: Instant::now(),
        stopped: false,
        errored: g.faults.search_errored,
        empty: g.faults.empty,
    };
    let body = rec.to_json(search_ms, 0, 0);
    g.searches.push(rec);
    Json(body).into_response()
}

async fn get_search(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let g = f.lock();
    let (responses, files) = recorded_counts(&g.recorded);
    match g.searches.iter().find(|s| s.id == id) {
        Some(s) => Json(s.to_json(g.opts.search_ms, responses, files)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn get_responses(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let g = f.lock();
    let Some(s) = g.searches.iter().find(|s| s.id == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if s.empty || s.errored || !s.complete(g.opts.search_ms) {
        return ([(header::CONTENT_TYPE, "application/json")], "[]").into_response();
    }
    match &g.recorded {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn delete_search(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let mut g = f.lock();
    let before = g.searches.len();
    g.searches.retain(|s| s.id != id);
    if g.searches.len() == before {
        return StatusCode::NOT_FOUND.into_response();
    }
    g.stats.searches_deleted += 1;
    StatusCode::NO_CONTENT.into_response()
}

async fn stop_search(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let mut g = f.lock();
    let Some(s) = g.searches.iter_mut().find(|s| s.id == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    s.stopped = true;
    g.stats.searches_stopped += 1;
    StatusCode::OK.into_response()
}

async fn get_server(State(f): State<FakeSlskd>, headers: HeaderMap) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let mut g = f.lock();
    g.stats.server_reads += 1;
    let up = !g.faults.ban;
    Json(json!({
        "address": "vps.slsknet.org:2271",
        "ipEndPoint": "208.76.170.59:2271",
        "state": if up { "Connected, LoggedIn" } else { "Disconnected" },
        "username": "cratedigger-test",
        "isConnected": up,
        "isLoggedIn": up,
        "isTransitioning": false,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct QueueRequest {
    filename: String,
    #[serde(default)]
    size: u64,
}

impl TransferRec {
    fn set(&mut self, state: &str) {
        self.state = state.to_string();
    }

    fn progress(&mut self, bytes: u64) {
        self.bytes_transferred = bytes;
        self.bytes_remaining = self.size.saturating_sub(bytes);
        self.percent_complete = if self.size == 0 {
            0.0
        } else {
            bytes as f64 * 100.0 / self.size as f64
        };
    }
}

async fn enqueue(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath(username): UrlPath<String>,
    body: Bytes,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let Ok(requests) = serde_json::from_slice::<Vec<QueueRequest>>(&body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "a list of {filename, size} is required",
        );
    };
    if requests.is_empty() {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "At least one file is required",
        );
    }
    let mut enqueued = Vec::new();
    {
        let mut g = f.lock();
        if g.faults.enqueue_429 > 0 {
            g.faults.enqueue_429 -= 1;
            g.stats.enqueue_refused += 1;
            return text(StatusCode::TOO_MANY_REQUESTS, TOO_MANY);
        }
        if g.faults.offline_user.as_deref() == Some(username.as_str()) {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("User {username} appears to be offline"),
            );
        }
        for r in requests {
            let rec = TransferRec {
                id: uuid::Uuid::new_v4().to_string(),
                username: username.clone(),
                direction: "Download",
                filename: r.filename,
                size: r.size,
                start_offset: 0,
                state: "Queued, Locally".into(),
                requested_at: now_iso(),
                enqueued_at: None,
                started_at: None,
                ended_at: None,
                bytes_transferred: 0,
                average_speed: 0.0,
                place_in_queue: None,
                exception: None,
                percent_complete: 0.0,
                bytes_remaining: r.size,
            };
            g.stats.enqueued += 1;
            enqueued.push(rec.clone());
            g.transfers.push(rec);
        }
    }
    for rec in &enqueued {
        let task = tokio::spawn(run_transfer(f.clone(), rec.id.clone()));
        f.lock().tasks.insert(rec.id.clone(), task);
    }
    (
        StatusCode::CREATED,
        Json(json!({ "enqueued": enqueued, "failed": [] })),
    )
        .into_response()
}

/// Runs one transfer: queued, then chunks into the incomplete directory, then succeeded and
/// moved to the downloads directory (or refused / stalled as the faults say).
async fn run_transfer(f: FakeSlskd, id: String) {
    let update = |apply: &dyn Fn(&mut TransferRec)| {
        let mut g = f.lock();
        if let Some(t) = g.transfers.iter_mut().find(|t| t.id == id) {
            apply(t);
        }
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    update(&|t| {
        t.set("Queued, Remotely");
        t.enqueued_at = Some(now_iso());
        t.place_in_queue = Some(0);
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (remote, source, faults, chunk_ms, chunks, incomplete, downloads) = {
        let g = f.lock();
        let Some(t) = g.transfers.iter().find(|t| t.id == id) else {
            return;
        };
        (
            t.filename.clone(),
            g.files.get(&t.filename).cloned(),
            g.faults.clone(),
            g.opts.chunk_ms,
            g.opts.chunks.max(1),
            g.opts.incomplete_dir.clone(),
            g.opts.downloads_dir.clone(),
        )
    };
    let content = match source {
        Some(p) if faults.reject_filename.as_deref() != Some(remote.as_str()) => {
            match std::fs::read(&p) {
                Ok(b) => Some(b),
                Err(e) => {
                    tracing::warn!(path = %p.display(), error = %e, "fake slskd cannot read a registered file");
                    None
                }
            }
        }
        _ => None,
    };
    let Some(content) = content else {
        update(&|t| {
            t.set("Completed, Rejected");
            t.exception = Some("File not shared.".into());
            t.ended_at = Some(now_iso());
        });
        f.lock().stats.rejected += 1;
        return;
    };
    let size = content.len() as u64;
    update(&|t| {
        t.size = size;
        t.set("Initializing");
    });
    let partial = FakeSlskd::local_path(&incomplete, &remote);
    if let Some(dir) = partial.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut file = match std::fs::File::create(&partial) {
        Ok(f) => f,
        Err(e) => {
            let msg = format!("cannot write {}: {e}", partial.display());
            update(&|t| {
                t.set("Completed, Errored");
                t.exception = Some(msg.clone());
            });
            return;
        }
    };
    update(&|t| {
        t.set("InProgress");
        t.started_at = Some(now_iso());
    });
    let stall = faults.stall_filename.as_deref() == Some(remote.as_str());
    let chunk = content.len().div_ceil(chunks as usize).max(1);
    let mut written = 0usize;
    for (i, piece) in content.chunks(chunk).enumerate() {
        if stall && i >= (chunks as usize).div_ceil(2) {
            // no byte ever again, until someone cancels
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(chunk_ms)).await;
        use std::io::Write;
        if file.write_all(piece).is_err() {
            update(&|t| t.set("Completed, Errored"));
            return;
        }
        written += piece.len();
        let w = written as u64;
        update(&|t| {
            t.progress(w);
            t.average_speed = w as f64;
        });
    }
    drop(file);
    // slskd marks the transfer succeeded first, then moves the file out of incomplete
    update(&|t| {
        t.set("Completed, Succeeded");
        t.ended_at = Some(now_iso());
        t.progress(size);
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut target = FakeSlskd::local_path(&downloads, &remote);
    if let Some(dir) = target.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if target.exists() {
        let stem = target
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let ticks = chrono::Utc::now().timestamp_micros() * 10;
        target = target.with_file_name(format!("{stem}_{ticks}{ext}"));
    }
    if std::fs::rename(&partial, &target).is_err() && std::fs::copy(&partial, &target).is_ok() {
        let _ = std::fs::remove_file(&partial);
    }
    if let Some(dir) = partial.parent()
        && dir != incomplete
    {
        let _ = std::fs::remove_dir(dir);
    }
    let mut g = f.lock();
    g.stats.completed += 1;
    g.tasks.remove(&id);
}

async fn user_transfers(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath(username): UrlPath<String>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let g = f.lock();
    let mine: Vec<&TransferRec> = g
        .transfers
        .iter()
        .filter(|t| t.username == username)
        .collect();
    if mine.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut dirs: Vec<(String, Vec<&TransferRec>)> = Vec::new();
    for t in mine {
        let dir = t
            .filename
            .rsplit_once('\\')
            .map_or(String::new(), |(d, _)| d.to_string());
        match dirs.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, v)) => v.push(t),
            None => dirs.push((dir, vec![t])),
        }
    }
    Json(json!({
        "username": username,
        "directories": dirs.into_iter().map(|(d, files)| json!({
            "directory": d,
            "fileCount": files.len(),
            "files": files,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn get_transfer(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath((username, id)): UrlPath<(String, String)>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let g = f.lock();
    match g
        .transfers
        .iter()
        .find(|t| t.id == id && t.username == username)
    {
        Some(t) => Json(t).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct RemoveQuery {
    #[serde(default)]
    remove: bool,
}

async fn cancel_transfer(
    State(f): State<FakeSlskd>,
    headers: HeaderMap,
    UrlPath((username, id)): UrlPath<(String, String)>,
    Query(q): Query<RemoveQuery>,
) -> Response {
    if !f.authorized(&headers) {
        return unauthorized();
    }
    let mut g = f.lock();
    let Some(pos) = g
        .transfers
        .iter()
        .position(|t| t.id == id && t.username == username)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(task) = g.tasks.remove(&id) {
        task.abort();
    }
    let t = &mut g.transfers[pos];
    if !t.state.starts_with("Completed") {
        t.set("Completed, Cancelled");
        t.exception = Some("Operation cancelled".into());
        t.ended_at = Some(now_iso());
        g.stats.cancelled += 1;
    }
    if q.remove {
        g.transfers.remove(pos);
        g.stats.removed += 1;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FilesBody {
    One(FileRegistration),
    Many { files: Vec<FileRegistration> },
}

async fn ctl_files(State(f): State<FakeSlskd>, Json(body): Json<FilesBody>) -> Response {
    let list = match body {
        FilesBody::One(r) => vec![r],
        FilesBody::Many { files } => files,
    };
    let n = list.len();
    for r in list {
        f.register_file(&r.filename, &r.path);
    }
    Json(json!({ "registered": n })).into_response()
}

async fn ctl_faults(State(f): State<FakeSlskd>, Json(faults): Json<Faults>) -> Response {
    f.set_faults(faults);
    StatusCode::NO_CONTENT.into_response()
}

async fn ctl_config(State(f): State<FakeSlskd>, Json(update): Json<ConfigUpdate>) -> Response {
    f.configure(update);
    let g = f.lock();
    Json(json!({
        "downloads_dir": g.opts.downloads_dir,
        "incomplete_dir": g.opts.incomplete_dir,
        "search_ms": g.opts.search_ms,
        "chunk_ms": g.opts.chunk_ms,
        "chunks": g.opts.chunks,
    }))
    .into_response()
}

async fn ctl_stats(State(f): State<FakeSlskd>) -> Response {
    Json(f.stats()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_never_writes_outside_its_directory() {
        let base = Path::new("/tmp/fake/downloads");
        for hostile in ["..\\..\\etc\\passwd", "\\..", "/", "a\\..\\..", "x\0y"] {
            let p = FakeSlskd::local_path(base, hostile);
            assert!(p.starts_with(base), "{hostile:?} -> {}", p.display());
            assert!(
                !p.strip_prefix(base)
                    .unwrap()
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir)),
                "{hostile:?} -> {}",
                p.display()
            );
        }
        assert_eq!(
            FakeSlskd::local_path(base, "@@x\\Music\\Album\\01.flac"),
            base.join("Album").join("01.flac")
        );
    }
}
