//! The slskd client: search → candidates, and download → a file at the caller's `dest`.
//!
//! Reads (`GET`) go through the shared HTTP layer ([`PlatformContext::http_client`]:
//! breaker, limiter, retries by class, metrics), never cached: a search or a transfer
//! changes from one read to the next. The layer sends only `GET` and form posts, so the
//! JSON `POST`s and the `DELETE`s of slskd's API use a plain client with the same timeouts,
//! body cap and error classes; they are never retried here (the budget decides when the
//! next search may go, the scout when to retry).
//!
//! Everything a peer sends (user names, paths, folder names) is untrusted: it is mapped to
//! display fields and to the verbatim [`DownloadRef::Soulseek`] slskd needs, and it reaches
//! the file system only through [`safe_component`], which reduces each name to one safe
//! path component before it is joined under slskd's downloads directory.

use super::budget::{BudgetConfig, SearchBudget, SearchOutcome, paused_error, until_from_now};
use super::models::{
    EnqueueResponse, PeerResponse, QueueDownloadRequest, SearchRequest, SearchState, ServerState,
    SharedFile, Transfer, UserTransfers, has_flag,
};
use super::{API_KEY_ENV, SoulseekConfig};
use crate::acquisition::{
    AcquisitionSource, DownloadLimits, DownloadedFile, ProgressFn, SourceInfo,
};
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{
    HttpClient, PlatformError, RequestOptions, classify_status, note_missing_field,
    parse_retry_after,
};
use crate::mapping::split_mix;
use crate::platform::{PlatformFuture, PlatformInfo, RateLimit};
use cratedigger_domain::acquisition::{Availability, DownloadRef, PeerInfo, SourceCandidate};
use cratedigger_domain::{ErrorClass, WantedTrack};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Source id.
pub const ID: &str = "soulseek";

/// What a person reads when slskd answers 401/403.
pub const AUTH_REFUSED: &str =
    "slskd refused the API key: check CRATEDIGGER__SOURCES__SOULSEEK__API_KEY";

/// Audio file extensions kept as candidates (cover art, playlists, cue sheets are not).
const AUDIO_EXTENSIONS: &[&str] = &[
    "flac", "mp3", "wav", "aiff", "aif", "m4a", "alac", "ogg", "opus", "wma", "ape", "wv", "aac",
];

/// Longest peer path accepted; longer ones are skipped (no file system keeps them anyway).
const MAX_REMOTE_PATH: usize = 4096;

/// Longest title or folder shown (a hostile peer can send megabytes of name).
const MAX_DISPLAY_CHARS: usize = 300;

/// Longest file name component on common file systems, in bytes.
const MAX_COMPONENT_BYTES: usize = 255;

/// Words in one search at most (Soulseek matches every word; fewer find more).
const MAX_SEARCH_WORDS: usize = 10;

/// Wait slskd asks for with a 429 when it sends no `Retry-After`.
const DEFAULT_429_WAIT: Duration = Duration::from_secs(5);

/// How long a finished file may take to appear in the downloads directory: slskd marks the
/// transfer succeeded before it moves the file out of its incomplete directory.
const APPEAR_TIMEOUT: Duration = Duration::from_secs(10);

static INFO: SourceInfo = SourceInfo {
    id: ID,
    display_name: "Soulseek",
    can_download: true,
    needs_credentials: true,
    default_rate_limit: RateLimit {
        requests: 34,
        per: Duration::from_secs(220),
    },
    // anonymous peers: files are verified after download, and fakes count against the peer
    trust: 0.5,
};

/// The HTTP layer's view of slskd: a local daemon, so a generous request budget (the
/// Soulseek search budget is separate, in [`SearchBudget`]).
static HTTP_INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Soulseek (slskd)",
    supports_isrc: false,
    needs_credentials: true,
    default_rate_limit: RateLimit {
        requests: 20,
        per: Duration::from_secs(1),
    },
};

/// Where a transfer stands, from slskd's flag string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    /// Asked for, not yet queued.
    Requested,
    /// Queued locally or at the peer.
    Queued,
    /// Connecting to the peer.
    Initializing,
    /// Bytes are flowing.
    InProgress,
    /// Done and saved.
    Succeeded,
    /// Cancelled (by us or in slskd).
    Cancelled,
    /// Timed out in slskd.
    TimedOut,
    /// Failed in slskd.
    Errored,
    /// The peer refused (file not shared, banned, …).
    Rejected,
    /// slskd aborted it (e.g. a duplicate request).
    Aborted,
    /// A state this client does not know (kept, so a new slskd does not break us).
    Other(String),
}

impl TransferState {
    /// Parses slskd's flags ("Completed, Succeeded", "Queued, Remotely", "InProgress").
    pub fn parse(state: &str) -> Self {
        let f = |flag| has_flag(state, flag);
        if f("Completed") || f("Succeeded") {
            return if f("Succeeded") {
                TransferState::Succeeded
            } else if f("Rejected") {
                TransferState::Rejected
            } else if f("Cancelled") {
                TransferState::Cancelled
            } else if f("TimedOut") {
                TransferState::TimedOut
            } else if f("Aborted") {
                TransferState::Aborted
            } else {
                TransferState::Errored
            };
        }
        if f("InProgress") {
            TransferState::InProgress
        } else if f("Initializing") {
            TransferState::Initializing
        } else if f("Queued") {
            TransferState::Queued
        } else if f("Requested") || f("None") || state.trim().is_empty() {
            TransferState::Requested
        } else {
            TransferState::Other(state.to_string())
        }
    }

    /// Whether slskd is done with the transfer (successfully or not).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TransferState::Succeeded
                | TransferState::Cancelled
                | TransferState::TimedOut
                | TransferState::Errored
                | TransferState::Rejected
                | TransferState::Aborted
        )
    }
}

/// How far a failed search got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not created in slskd (not sent, 429, refused as invalid).
    NotSent,
    /// slskd refused to start it (409 not logged in, 5xx): a ban sign.
    Refused,
    /// Created in slskd, failed later (it gets deleted).
    Started,
}

/// A plain answer of slskd (status, body, `Retry-After`), for the calls the layer cannot send.
struct Reply {
    status: u16,
    body: Vec<u8>,
    retry_after: Option<Duration>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect::<String>()
            .trim()
            .to_string()
    }
}

/// The Soulseek source: slskd's REST API plus the fleet's Soulseek budget.
#[derive(Clone)]
pub struct Soulseek {
    http: HttpClient,
    raw: reqwest::Client,
    key: reqwest::header::HeaderValue,
    base: String,
    cfg: SoulseekConfig,
    budget: SearchBudget,
    max_body: usize,
}

impl std::fmt::Debug for Soulseek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Soulseek")
            .field("base", &self.base)
            .field("cfg", &self.cfg)
            .field("budget", &self.budget)
            .finish()
    }
}

fn missing_key() -> PlatformError {
    PlatformError::missing_credential(
        ID,
        "Soulseek",
        API_KEY_ENV,
        "slskd API key",
        "slskd answers its API only with its key",
    )
}

fn err(class: ErrorClass, detail: impl Into<String>) -> PlatformError {
    PlatformError::new(ID, class, detail)
}

impl Soulseek {
    /// Client from configuration with the process's shared layer and the fleet's budget;
    /// fails (so the registry leaves Soulseek out with one clear line) without an API key.
    pub fn from_config(
        cfg: &SoulseekConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        let key = cfg.api_key().ok_or_else(missing_key)?;
        let opts = http.client_options(&http.user_agent, cfg.timeout_secs);
        let client =
            ctx.http_client(&HTTP_INFO, opts.clone())?
                .with_header("x-api-key", key, true)?;
        let raw = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .build()
            .map_err(|e| {
                err(
                    ErrorClass::Internal,
                    format!("could not build the HTTP client for slskd: {e}"),
                )
            })?;
        let mut key = reqwest::header::HeaderValue::from_str(key).map_err(|_| {
            err(
                ErrorClass::BadRequest,
                format!("the configured slskd API key ({API_KEY_ENV}) is not a valid header value"),
            )
        })?;
        key.set_sensitive(true);
        Ok(Self {
            http: client,
            raw,
            key,
            base: cfg.base_url.trim_end_matches('/').to_string(),
            cfg: cfg.clone(),
            budget: SearchBudget::new(ctx, BudgetConfig::from_soulseek(cfg)),
            max_body: opts.max_body_bytes,
        })
    }

    /// The fleet's Soulseek budget this client draws from.
    pub fn budget(&self) -> &SearchBudget {
        &self.budget
    }

    /// When the fleet's Soulseek pause ends, if paused.
    pub async fn paused_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.budget
            .paused()
            .await
            .map(|(left, _)| until_from_now(left))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v0{path}", self.base)
    }

    fn poll(&self) -> Duration {
        Duration::from_millis(self.cfg.poll_interval_ms.max(10))
    }

    /// A read through the shared layer (never cached).
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, PlatformError> {
        self.http
            .get_json_with(&self.url(path), &RequestOptions::new().uncached())
            .await
            .map(|f| f.body)
            .map_err(|e| e.explain_auth(AUTH_REFUSED))
    }

    /// One plain request; only transport failures are errors here, statuses are the
    /// caller's to judge.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Reply, PlatformError> {
        let url = self.url(path);
        let m = method.as_str().to_string();
        let mut req = self
            .raw
            .request(method, &url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header("x-api-key", self.key.clone());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let started = std::time::Instant::now();
        let res = req.send().await;
        metrics::histogram!("cratedigger_platform_request_duration_seconds", "platform" => ID)
            .record(started.elapsed().as_secs_f64());
        let mut resp = res.map_err(|e| {
            count(ErrorClass::Network.as_str());
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            err(
                ErrorClass::Network,
                format!("{m} {url} {what}: {e} (is slskd running at {}?)", self.base),
            )
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let mut out = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if out.len() + chunk.len() > self.max_body {
                        return Err(err(
                            ErrorClass::Malformed,
                            format!("{m} {url} returned more than {} bytes", self.max_body),
                        ));
                    }
                    out.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(err(
                        ErrorClass::Network,
                        format!("{m} {url}: the answer was cut short: {e}"),
                    ));
                }
            }
        }
        count(classify_status(status).map_or("ok", |c| c.as_str()));
        Ok(Reply {
            status,
            body: out,
            retry_after,
        })
    }

    /// The error for a status slskd answered that the caller has no special meaning for.
    fn status_error(&self, what: &str, reply: &Reply) -> PlatformError {
        let class = classify_status(reply.status).unwrap_or(ErrorClass::Malformed);
        let e = err(
            class,
            format!(
                "{what}: slskd answered HTTP {}: {}",
                reply.status,
                reply.text()
            ),
        )
        .with_retry_after(reply.retry_after);
        match class {
            ErrorClass::Auth => e.explain_auth(AUTH_REFUSED),
            ErrorClass::RateLimit => {
                e.with_retry_after(reply.retry_after.or(Some(DEFAULT_429_WAIT)))
            }
            _ => e,
        }
    }

    // ---------- search ----------

    /// Every audio file peers offer for `target`, after one search under the fleet's budget.
    pub async fn search(
        &self,
        target: &WantedTrack,
    ) -> Result<Vec<SourceCandidate>, PlatformError> {
        let text = search_text(target);
        if text.is_empty() {
            return Err(err(
                ErrorClass::BadRequest,
                format!(
                    "nothing to search Soulseek for: {:?} has no usable words",
                    target.display()
                ),
            ));
        }
        let permit = self.budget.acquire_search().await?;
        let id = new_search_id();
        let result = self.run_search(&id, &text).await;
        let outcome = match &result {
            Ok((state, candidates)) => {
                if state.as_deref().is_some_and(|s| has_flag(s, "Errored")) {
                    SearchOutcome::Errored
                } else if candidates.is_empty() {
                    SearchOutcome::Empty
                } else {
                    SearchOutcome::Found
                }
            }
            Err(_) => SearchOutcome::Aborted,
        };
        self.budget.finish(permit, outcome).await;
        match result {
            Ok((state, candidates)) => {
                self.delete_search(&id).await;
                if outcome != SearchOutcome::Errored {
                    self.budget.clear_errors().await;
                    return Ok(candidates);
                }
                let state = state.unwrap_or_default();
                if let Some(paused) = self.check_ban(&format!("a search ended {state:?}")).await {
                    return Err(paused);
                }
                if candidates.is_empty() {
                    return Err(err(
                        ErrorClass::Server,
                        format!("slskd reported the search {text:?} as {state:?}"),
                    ));
                }
                Ok(candidates)
            }
            Err((e, stage)) => {
                if stage == Stage::Started {
                    self.delete_search(&id).await;
                }
                // only slskd's own refusal is a ban sign (not slskd being down or slow)
                if stage == Stage::Refused
                    && let Some(paused) = self
                        .check_ban(&format!("slskd could not start a search ({})", e.detail))
                        .await
                {
                    return Err(paused);
                }
                Err(e)
            }
        }
    }

    /// Creates the search, follows it to its end (or our deadline) and maps its responses.
    /// The error side says how far it got (a started search gets deleted; a refused one
    /// is a ban sign).
    async fn run_search(
        &self,
        id: &str,
        text: &str,
    ) -> Result<(Option<String>, Vec<SourceCandidate>), (PlatformError, Stage)> {
        let body = SearchRequest {
            id: id.to_string(),
            search_text: text.to_string(),
            search_timeout: self.cfg.search_timeout_secs.max(1),
            response_limit: self.cfg.response_limit.max(1),
            file_limit: self.cfg.file_limit.max(1),
            filter_responses: true,
            minimum_response_file_count: 1,
        };
        let body = serde_json::to_value(&body)
            .map_err(|e| (err(ErrorClass::Internal, e.to_string()), Stage::NotSent))?;
        let reply = self
            .send(reqwest::Method::POST, "/searches", Some(body))
            .await
            .map_err(|e| (e, Stage::NotSent))?;
        match reply.status {
            200 | 201 => {}
            429 => {
                return Err((
                    err(
                        ErrorClass::RateLimit,
                        format!(
                            "slskd refused the search because another one was in flight (HTTP 429: {})",
                            reply.text()
                        ),
                    )
                    .with_retry_after(reply.retry_after.or(Some(DEFAULT_429_WAIT))),
                    Stage::NotSent,
                ));
            }
            // slskd: 409 = the client is not connected / logged in, 500 = the search failed
            409 | 500..=599 => {
                return Err((
                    err(
                        ErrorClass::Server,
                        format!("slskd answered HTTP {}: {}", reply.status, reply.text()),
                    ),
                    Stage::Refused,
                ));
            }
            _ => {
                return Err((
                    self.status_error("starting a search", &reply),
                    Stage::NotSent,
                ));
            }
        }
        let mut state: SearchState = serde_json::from_slice(&reply.body).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(self.cfg.search_deadline_secs.max(1));
        let path = format!("/searches/{id}");
        while !search_done(&state) {
            if Instant::now() >= deadline {
                // stop it in slskd and read what arrived
                let _ = self.send(reqwest::Method::PUT, &path, None).await;
                break;
            }
            tokio::time::sleep(self.poll()).await;
            match self.get::<SearchState>(&path).await {
                Ok(s) => state = s,
                Err(e) if e.class == ErrorClass::NotFound => break,
                Err(e) => return Err((e, Stage::Started)),
            }
        }
        let responses_path = format!("/searches/{id}/responses");
        let raw: Vec<serde_json::Value> = self
            .get(&responses_path)
            .await
            .map_err(|e| (e, Stage::Started))?;
        let candidates = map_responses(raw, self.cfg.max_candidates, &self.url(&responses_path));
        Ok((state.state, candidates))
    }

    async fn delete_search(&self, id: &str) {
        if let Err(e) = self
            .send(reqwest::Method::DELETE, &format!("/searches/{id}"), None)
            .await
        {
            tracing::debug!(error = %e, "could not delete a finished search in slskd");
        }
    }

    /// After a failed search: counts it, asks slskd about its server connection, and pauses
    /// the fleet when slskd is no longer logged in or searches keep failing.
    async fn check_ban(&self, what: &str) -> Option<PlatformError> {
        let errors = self.budget.note_error().await;
        let server = self.get::<ServerState>("/server").await;
        let logged_out = matches!(&server, Ok(s) if !s.logged_in());
        let limit = self.budget.config().ban_after_errors;
        if !logged_out && errors < limit {
            return None;
        }
        let server_said = match &server {
            Ok(s) => format!(
                "slskd's server state: {}",
                s.state.as_deref().unwrap_or("unknown")
            ),
            Err(e) => format!("slskd's server state unknown: {}", e.detail),
        };
        let why = format!("{what}; {errors} failed searches in a row; {server_said}");
        let left = self.budget.pause(&why).await;
        let until = until_from_now(left);
        metrics::gauge!("cratedigger_soulseek_paused_until_seconds").set(until.timestamp() as f64);
        tracing::warn!(reason = %why, "{}", super::budget::pause_sentence(until));
        Some(paused_error(left, &why))
    }

    // ---------- download ----------

    /// Enqueues the file at its peer, follows the transfer and moves the finished file to
    /// `dest`; cancels (and removes the partial file) on stall, timeout or size overrun.
    pub async fn fetch(
        &self,
        candidate: &SourceCandidate,
        dest: &Path,
        limits: &DownloadLimits,
        progress: &ProgressFn,
    ) -> Result<DownloadedFile, PlatformError> {
        let Some(DownloadRef::Soulseek {
            username,
            filename,
            size,
        }) = &candidate.download
        else {
            return Err(err(
                ErrorClass::BadRequest,
                "this candidate is not a Soulseek file (no Soulseek download reference)",
            ));
        };
        if username.trim().is_empty()
            || filename.trim().is_empty()
            || filename.len() > MAX_REMOTE_PATH
            || username.len() > MAX_COMPONENT_BYTES
        {
            return Err(err(
                ErrorClass::BadRequest,
                "the Soulseek download reference has an empty or oversized user or file name",
            ));
        }
        if *size > limits.max_bytes {
            return Err(err(
                ErrorClass::BadRequest,
                format!(
                    "refused: the peer announces {size} bytes, more than the {} bytes a download may have",
                    limits.max_bytes
                ),
            ));
        }
        let permit = self.budget.acquire_enqueue().await?;
        let enqueued = self.enqueue(username, filename, *size).await;
        self.budget.release(permit).await;
        let mut id = enqueued?;

        let started = Instant::now();
        let mut last_bytes: u64 = 0;
        let mut last_change = Instant::now();
        let mut total: Option<u64> = Some(*size).filter(|s| *s > 0);
        let done: Transfer = loop {
            tokio::time::sleep(self.poll()).await;
            match self.transfer(username, filename, id.as_deref()).await {
                Ok(Some(t)) => {
                    if id.is_none() {
                        id = t.id.clone();
                    }
                    if let Some(s) = t
                        .size
                        .and_then(|s| u64::try_from(s).ok())
                        .filter(|s| *s > 0)
                    {
                        total = Some(s);
                    }
                    let bytes = t
                        .bytes_transferred
                        .and_then(|b| u64::try_from(b).ok())
                        .unwrap_or(0);
                    if bytes > last_bytes {
                        last_bytes = bytes;
                        last_change = Instant::now();
                        progress(bytes, total);
                    }
                    if total.is_some_and(|t| t > limits.max_bytes) || bytes > limits.max_bytes {
                        self.abandon(username, filename, id.as_deref()).await;
                        return Err(err(
                            ErrorClass::BadRequest,
                            format!(
                                "cancelled: the file from {username:?} is larger than the {} bytes a download may have",
                                limits.max_bytes
                            ),
                        ));
                    }
                    let state = TransferState::parse(t.state.as_deref().unwrap_or_default());
                    if state == TransferState::Succeeded {
                        break t;
                    }
                    if state.is_final() {
                        self.remove_partial(filename);
                        self.forget(username, id.as_deref()).await;
                        return Err(transfer_failed(username, filename, &state, &t));
                    }
                }
                Ok(None) => {}
                Err(e) if matches!(e.class, ErrorClass::Auth | ErrorClass::BadRequest) => {
                    self.abandon(username, filename, id.as_deref()).await;
                    return Err(e);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reading a Soulseek transfer failed; still following it");
                }
            }
            let now = Instant::now();
            if now - last_change >= limits.stall_timeout {
                self.abandon(username, filename, id.as_deref()).await;
                return Err(err(
                    ErrorClass::Network,
                    format!(
                        "stalled: no byte from {username:?} for {} s ({last_bytes} of {} bytes received); the transfer was cancelled",
                        limits.stall_timeout.as_secs(),
                        total.map_or_else(|| "?".to_string(), |t| t.to_string())
                    ),
                ));
            }
            if now - started >= limits.overall_timeout {
                self.abandon(username, filename, id.as_deref()).await;
                return Err(err(
                    ErrorClass::Network,
                    format!(
                        "timed out: the transfer from {username:?} took longer than {} s; it was cancelled",
                        limits.overall_timeout.as_secs()
                    ),
                ));
            }
        };

        let expected = done
            .size
            .and_then(|s| u64::try_from(s).ok())
            .filter(|s| *s > 0)
            .or(total);
        let src = self.wait_for_file(filename, expected).await?;
        let dest_owned = dest.to_path_buf();
        let src_owned = src.clone();
        let bytes = tokio::task::spawn_blocking(move || move_file(&src_owned, &dest_owned))
            .await
            .map_err(|e| {
                err(
                    ErrorClass::Internal,
                    format!("the file move task failed: {e}"),
                )
            })?
            .map_err(|e| {
                err(
                    ErrorClass::Internal,
                    format!(
                        "could not move the downloaded file from {} to {}: {e}",
                        src.display(),
                        dest.display()
                    ),
                )
            })?;
        // slskd leaves the folder it created; remove it when it is empty now
        if let Some(parent) = src.parent()
            && parent != self.cfg.downloads_dir
        {
            let _ = std::fs::remove_dir(parent);
        }
        self.forget(username, id.as_deref()).await;
        progress(bytes, Some(bytes));
        Ok(DownloadedFile {
            path: dest.to_path_buf(),
            bytes,
        })
    }

    /// `POST /transfers/downloads/{username}`; the transfer id when slskd tells it.
    async fn enqueue(
        &self,
        username: &str,
        filename: &str,
        size: u64,
    ) -> Result<Option<String>, PlatformError> {
        let body = serde_json::to_value([QueueDownloadRequest {
            filename: filename.to_string(),
            size,
        }])
        .map_err(|e| err(ErrorClass::Internal, e.to_string()))?;
        let path = format!("/transfers/downloads/{}", urlencoding::encode(username));
        let reply = self.send(reqwest::Method::POST, &path, Some(body)).await?;
        match reply.status {
            200..=299 => {
                if reply.body.iter().all(u8::is_ascii_whitespace) {
                    // slskd < 0.24 answers 201 without a body
                    return Ok(None);
                }
                let r: EnqueueResponse = serde_json::from_slice(&reply.body).unwrap_or_default();
                if let Some(t) = r.enqueued.first() {
                    return Ok(t.id.clone());
                }
                match r.failed.first() {
                    Some(f) => {
                        let why = f.exception.clone().unwrap_or_default();
                        if why.to_ascii_lowercase().contains("already") {
                            // a transfer of this file is under way: follow that one
                            Ok(None)
                        } else {
                            Err(err(
                                ErrorClass::NotFound,
                                format!("slskd could not queue {filename:?} from {username:?}: {why}"),
                            ))
                        }
                    }
                    None => Ok(None),
                }
            }
            429 => Err(err(
                ErrorClass::RateLimit,
                format!(
                    "slskd refused the download request because another one was in flight (HTTP 429: {})",
                    reply.text()
                ),
            )
            .with_retry_after(reply.retry_after.or(Some(DEFAULT_429_WAIT)))),
            404 | 500 => {
                let text = reply.text();
                let lower = text.to_ascii_lowercase();
                if reply.status == 404
                    || ["offline", "not exist", "not found", "not shared", "reject"]
                        .iter()
                        .any(|w| lower.contains(w))
                {
                    Err(err(
                        ErrorClass::NotFound,
                        format!("the peer {username:?} cannot give us this file: {text}"),
                    ))
                } else {
                    Err(self.status_error("queueing a download", &reply))
                }
            }
            _ => Err(self.status_error("queueing a download", &reply)),
        }
    }

    /// The transfer of `filename` from `username`: by id when known, else the latest one
    /// with that remote name in the user's list.
    async fn transfer(
        &self,
        username: &str,
        filename: &str,
        id: Option<&str>,
    ) -> Result<Option<Transfer>, PlatformError> {
        let user = urlencoding::encode(username);
        if let Some(id) = id {
            return match self
                .get::<Transfer>(&format!(
                    "/transfers/downloads/{user}/{}",
                    urlencoding::encode(id)
                ))
                .await
            {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.class == ErrorClass::NotFound => Ok(None),
                Err(e) => Err(e),
            };
        }
        match self
            .get::<UserTransfers>(&format!("/transfers/downloads/{user}"))
            .await
        {
            Ok(list) => Ok(list
                .directories
                .into_iter()
                .flat_map(|d| d.files)
                .filter(|t| t.filename.as_deref() == Some(filename))
                .max_by(|a, b| a.requested_at.cmp(&b.requested_at))),
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Cancels the transfer in slskd and removes the partial file.
    async fn abandon(&self, username: &str, filename: &str, id: Option<&str>) {
        let id = match id {
            Some(id) => Some(id.to_string()),
            None => self
                .transfer(username, filename, None)
                .await
                .ok()
                .flatten()
                .and_then(|t| t.id),
        };
        self.forget(username, id.as_deref()).await;
        self.remove_partial(filename);
    }

    /// `DELETE /transfers/downloads/{username}/{id}?remove=true`: cancels a running transfer
    /// and drops its record, so slskd's list stays clean.
    async fn forget(&self, username: &str, id: Option<&str>) {
        let Some(id) = id else {
            return;
        };
        let path = format!(
            "/transfers/downloads/{}/{}?remove=true",
            urlencoding::encode(username),
            urlencoding::encode(id)
        );
        match self.send(reqwest::Method::DELETE, &path, None).await {
            Ok(r) if r.status < 300 || r.status == 404 => {}
            Ok(r) => tracing::debug!(status = r.status, "slskd did not cancel a transfer"),
            Err(e) => tracing::debug!(error = %e, "could not cancel a transfer in slskd"),
        }
    }

    /// Removes slskd's partial file of `filename` from the incomplete directory (when the
    /// fleet shares it), by the same safe path rule as the downloads directory.
    fn remove_partial(&self, filename: &str) {
        let Some(dir) = &self.cfg.incomplete_dir else {
            return;
        };
        let path = local_path_in(dir, filename);
        if let Ok(p) = checked(dir, &path)
            && std::fs::remove_file(&p).is_ok()
        {
            tracing::debug!(path = %p.display(), "removed a partial Soulseek download");
            if let Some(parent) = p.parent()
                && parent != dir.as_path()
            {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }

    /// Waits (bounded) for the finished file to appear where slskd saves it.
    async fn wait_for_file(
        &self,
        filename: &str,
        expected: Option<u64>,
    ) -> Result<PathBuf, PlatformError> {
        let base = &self.cfg.downloads_dir;
        let until = Instant::now() + APPEAR_TIMEOUT;
        loop {
            let (b, f) = (base.clone(), filename.to_string());
            let found = tokio::task::spawn_blocking(move || find_saved(&b, &f, expected))
                .await
                .map_err(|e| {
                    err(
                        ErrorClass::Internal,
                        format!("the file lookup task failed: {e}"),
                    )
                })?;
            match found {
                Ok(Some(p)) => return Ok(p),
                Ok(None) if Instant::now() < until => tokio::time::sleep(self.poll()).await,
                Ok(None) => {
                    return Err(err(
                        ErrorClass::Internal,
                        format!(
                            "slskd reported the download finished, but the file is not at {} (is {} the directory slskd saves to, shared with this worker?)",
                            local_path_in(base, filename).display(),
                            base.display()
                        ),
                    ));
                }
                Err(detail) => return Err(err(ErrorClass::Internal, detail)),
            }
        }
    }
}

fn count(outcome: &str) {
    metrics::counter!("cratedigger_platform_requests_total", "platform" => ID, "outcome" => outcome.to_string())
        .increment(1);
}

/// Whether a search has ended in slskd.
fn search_done(s: &SearchState) -> bool {
    s.is_complete == Some(true)
        || s.state
            .as_deref()
            .is_some_and(|st| has_flag(st, "Completed"))
}

/// The error for a transfer slskd ended without success.
fn transfer_failed(
    username: &str,
    filename: &str,
    state: &TransferState,
    t: &Transfer,
) -> PlatformError {
    let why: String = t
        .exception
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let lower = why.to_ascii_lowercase();
    let refused = *state == TransferState::Rejected
        || [
            "not shared",
            "rejected",
            "not available",
            "denied",
            "banned",
        ]
        .iter()
        .any(|w| lower.contains(w));
    let name = file_name_of(filename);
    if refused {
        return err(
            ErrorClass::NotFound,
            format!("the peer {username:?} refused {name:?}: {why}"),
        );
    }
    let what = match state {
        TransferState::TimedOut => "timed out in slskd",
        TransferState::Cancelled => "was cancelled in slskd",
        TransferState::Aborted => "was aborted by slskd",
        _ => "failed in slskd",
    };
    err(
        ErrorClass::Network,
        format!("the transfer of {name:?} from {username:?} {what}: {why}"),
    )
}

/// A random search id in slskd's GUID form (version 4).
fn new_search_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// What to ask Soulseek for: artist, title and the mix name (an "Original Mix" adds
/// nothing), reduced to plain words: Soulseek matches every word, treats a leading `-` as
/// "exclude", and ignores punctuation, so only letters and digits are kept.
pub fn search_text(target: &WantedTrack) -> String {
    let (title, mix_in_title) = split_mix(&target.title);
    let mix = target
        .mix
        .clone()
        .filter(|m| !m.trim().is_empty())
        .or(mix_in_title)
        .filter(|m| !m.to_lowercase().contains("original"));
    let mut seen = HashSet::new();
    let mut words = Vec::new();
    for part in [
        target.artist.as_str(),
        title.as_str(),
        mix.as_deref().unwrap_or(""),
    ] {
        let cleaned: String = part
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        for w in cleaned.split_whitespace() {
            let lower = w.to_lowercase();
            if matches!(lower.as_str(), "feat" | "ft" | "featuring") {
                continue;
            }
            if seen.insert(lower) && words.len() < MAX_SEARCH_WORDS {
                words.push(w.to_string());
            }
        }
    }
    words.join(" ")
}

/// The components of a peer path, split on both separators (peers send `\`, some `/`).
fn components(remote: &str) -> Vec<&str> {
    remote
        .split(['\\', '/'])
        .filter(|c| !c.is_empty())
        .collect()
}

/// The file name of a peer path (its last component).
fn file_name_of(remote: &str) -> &str {
    components(remote).last().copied().unwrap_or("")
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Maps slskd's search responses to candidates: audio files only, locked files left out,
/// at most `max`, deduplicated by peer and path. Malformed entries are skipped and counted
/// as API drift (`url` names the request in the log).
pub fn map_responses(raw: Vec<serde_json::Value>, max: usize, url: &str) -> Vec<SourceCandidate> {
    let mut out = Vec::new();
    let mut keys = HashSet::new();
    for value in raw {
        if out.len() >= max {
            break;
        }
        let resp: PeerResponse = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "skipping a slskd search response of an unexpected shape");
                note_missing_field(ID, "response", url);
                continue;
            }
        };
        let Some(username) = resp.username.clone().filter(|u| !u.trim().is_empty()) else {
            note_missing_field(ID, "response.username", url);
            continue;
        };
        if username.len() > MAX_COMPONENT_BYTES {
            continue;
        }
        let Some(files) = &resp.files else {
            note_missing_field(ID, "response.files", url);
            continue;
        };
        let peer = PeerInfo {
            username: username.clone(),
            has_free_slot: resp.has_free_upload_slot,
            queue_length: resp.queue_length.and_then(|q| u32::try_from(q).ok()),
            upload_speed_bps: resp.upload_speed.and_then(|s| u64::try_from(s).ok()),
        };
        for f in files {
            if out.len() >= max {
                break;
            }
            if let Some(c) = map_file(&username, &peer, f, url)
                && keys.insert(c.source_key.clone())
            {
                out.push(c);
            }
        }
    }
    out
}

fn map_file(username: &str, peer: &PeerInfo, f: &SharedFile, url: &str) -> Option<SourceCandidate> {
    if f.is_locked == Some(true) {
        return None;
    }
    let Some(filename) = f.filename.as_deref().filter(|n| !n.trim().is_empty()) else {
        note_missing_field(ID, "file.filename", url);
        return None;
    };
    if filename.len() > MAX_REMOTE_PATH {
        return None;
    }
    let Some(size) = f.size.and_then(|s| u64::try_from(s).ok()) else {
        note_missing_field(ID, "file.size", url);
        return None;
    };
    let parts = components(filename);
    let name = *parts.last()?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && (1..=5).contains(&ext.len()) => {
            (stem, ext.to_ascii_lowercase())
        }
        _ => return None,
    };
    if !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
        return None;
    }
    let format = match ext.as_str() {
        "aif" => "aiff".to_string(),
        _ => ext,
    };
    // the folder holding the file, unless it is the share's root alias ("@@abcde")
    let release = parts
        .len()
        .checked_sub(2)
        .and_then(|i| parts.get(i))
        .filter(|p| !p.starts_with("@@"))
        .map(|p| truncate_chars(p, MAX_DISPLAY_CHARS));
    Some(SourceCandidate {
        source: ID.into(),
        source_key: format!("{username}|{filename}"),
        title: truncate_chars(stem, MAX_DISPLAY_CHARS),
        artist: None,
        release,
        availability: Availability::Download,
        download: Some(DownloadRef::Soulseek {
            username: username.to_string(),
            filename: filename.to_string(),
            size,
        }),
        format: Some(format),
        bitrate_kbps: f
            .bit_rate
            .and_then(|b| u32::try_from(b).ok())
            .filter(|b| *b > 0),
        sample_rate_hz: f
            .sample_rate
            .and_then(|r| u32::try_from(r).ok())
            .filter(|r| *r > 0),
        bit_depth: f
            .bit_depth
            .and_then(|d| u8::try_from(d).ok())
            .filter(|d| (1..=64).contains(d)),
        duration_ms: f
            .length
            .and_then(|l| u32::try_from(l).ok())
            .filter(|l| *l > 0)
            .map(|l| l.saturating_mul(1000)),
        size_bytes: Some(size),
        peer: Some(peer.clone()),
        ..Default::default()
    })
}

/// Reduces one name a peer sent to a single safe path component, as close as possible to
/// what slskd writes (it replaces the characters its OS forbids in file names, NUL and `/`
/// on Linux, with `_`): separators and NUL become `_`, a name that would mean "here" or
/// "up" (empty, `.`, `..`) becomes `_`, and overlong names are cut to 255 bytes.
/// Written here because the library's sanitiser (`cratedigger_music::filing`) was not
/// available to this crate; this one only has to keep lookups inside slskd's directories.
pub fn safe_component(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() || s == "." || s == ".." {
        s = "_".to_string();
    }
    if s.len() > MAX_COMPONENT_BYTES {
        let mut cut = MAX_COMPONENT_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Where slskd saves a peer's file under `base`: `<base>/<parent folder>/<file name>`
/// (slskd's `ToLocalFilename`), with both names reduced by [`safe_component`], so no peer
/// path — `..\..\etc\passwd`, an absolute path, a device name — leads outside `base`.
pub fn local_path_in(base: &Path, remote: &str) -> PathBuf {
    let parts = components(remote);
    let name = safe_component(parts.last().copied().unwrap_or(""));
    match parts.len().checked_sub(2).and_then(|i| parts.get(i)) {
        Some(parent) => base.join(safe_component(parent)).join(name),
        None => base.join(name),
    }
}

/// `path` after resolving links, if it is a regular file inside `base`.
fn checked(base: &Path, path: &Path) -> Result<PathBuf, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let real = path.canonicalize().map_err(|e| e.to_string())?;
    let root = base.canonicalize().map_err(|e| e.to_string())?;
    if !real.starts_with(&root) {
        return Err(format!(
            "{} resolves outside {}; not touched",
            path.display(),
            base.display()
        ));
    }
    Ok(real)
}

/// The file slskd saved for `remote` under `base`: its usual place, or the renamed copy
/// slskd makes when the name was taken (`<stem>_<ticks><ext>`, same folder, right size).
/// `Ok(None)` while it is not there yet; `Err` when something there must not be touched.
fn find_saved(base: &Path, remote: &str, expected: Option<u64>) -> Result<Option<PathBuf>, String> {
    let usual = local_path_in(base, remote);
    let size_ok = |p: &Path| {
        expected.is_none_or(|want| {
            std::fs::metadata(p)
                .map(|m| m.len() == want)
                .unwrap_or(false)
        })
    };
    if std::fs::symlink_metadata(&usual).is_ok() {
        let real = checked(base, &usual)?;
        if size_ok(&real) {
            return Ok(Some(real));
        }
    }
    let (Some(dir), Some(name)) = (usual.parent(), usual.file_name().and_then(|n| n.to_str()))
    else {
        return Ok(None);
    };
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s, format!(".{e}")),
        None => (name, String::new()),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for entry in entries.flatten().take(10_000) {
        let n = entry.file_name();
        let Some(n) = n.to_str() else { continue };
        let Some(rest) = n
            .strip_prefix(stem)
            .and_then(|r| r.strip_prefix('_'))
            .and_then(|r| r.strip_suffix(ext.as_str()))
        else {
            continue;
        };
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let p = entry.path();
        let Ok(real) = checked(base, &p) else {
            continue;
        };
        if !size_ok(&real) {
            continue;
        }
        let modified = std::fs::metadata(&real)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        if best.as_ref().is_none_or(|(t, _)| modified > *t) {
            best = Some((modified, real));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// Moves `src` to `dest` (creating `dest`'s folder): a rename on one file system, else a
/// copy to a hidden temporary name beside `dest`, renamed into place, then the source
/// removed. A failed copy leaves neither a partial `dest` nor the temporary file.
pub(crate) fn move_file(src: &Path, dest: &Path) -> std::io::Result<u64> {
    if let Some(parent) = dest.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::rename(src, dest) {
        Ok(()) => Ok(std::fs::metadata(dest)?.len()),
        Err(e)
            if e.kind() == std::io::ErrorKind::CrossesDevices || e.raw_os_error() == Some(18) =>
        {
            copy_then_remove(src, dest)
        }
        Err(e) => Err(e),
    }
}

/// The cross-file-system half of [`move_file`].
pub(crate) fn copy_then_remove(src: &Path, dest: &Path) -> std::io::Result<u64> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let tmp = dest.with_file_name(format!(".{name}.part"));
    let result = (|| {
        let bytes = std::fs::copy(src, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, dest)?;
        std::fs::remove_file(src)?;
        Ok(bytes)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// When the fleet's Soulseek pause ends, if Soulseek is paused (for the API and metrics);
/// reads the marker in Redis, or this process's state without Redis.
pub async fn soulseek_paused_until(ctx: &PlatformContext) -> Option<chrono::DateTime<chrono::Utc>> {
    SearchBudget::new(ctx, BudgetConfig::default())
        .paused()
        .await
        .map(|(left, _)| until_from_now(left))
}

/// A short status of the Soulseek source for the API: paused or not, and until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SoulseekStatus {
    /// End of the fleet's pause, if paused.
    pub paused_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The sentence a person reads while paused.
    pub message: Option<String>,
}

impl SoulseekStatus {
    /// The status of the fleet behind `ctx`.
    pub async fn read(ctx: &PlatformContext) -> Self {
        let paused_until = soulseek_paused_until(ctx).await;
        Self {
            paused_until,
            message: paused_until.map(super::budget::pause_sentence),
        }
    }
}

impl AcquisitionSource for Soulseek {
    fn info(&self) -> &SourceInfo {
        &INFO
    }

    fn find<'a>(&'a self, target: &'a WantedTrack) -> PlatformFuture<'a, Vec<SourceCandidate>> {
        Box::pin(self.search(target))
    }

    fn download<'a>(
        &'a self,
        candidate: &'a SourceCandidate,
        dest: &'a Path,
        limits: &'a DownloadLimits,
        progress: &'a ProgressFn,
    ) -> PlatformFuture<'a, DownloadedFile> {
        Box::pin(self.fetch(candidate, dest, limits, progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_states_follow_slskd_flags() {
        assert_eq!(
            TransferState::parse("Completed, Succeeded"),
            TransferState::Succeeded
        );
        assert_eq!(
            TransferState::parse("Completed, Rejected"),
            TransferState::Rejected
        );
        assert_eq!(
            TransferState::parse("Completed, Errored"),
            TransferState::Errored
        );
        assert_eq!(
            TransferState::parse("Queued, Remotely"),
            TransferState::Queued
        );
        assert_eq!(
            TransferState::parse("InProgress"),
            TransferState::InProgress
        );
        assert_eq!(TransferState::parse("Requested"), TransferState::Requested);
        assert!(matches!(
            TransferState::parse("Teleporting"),
            TransferState::Other(_)
        ));
        assert!(TransferState::parse("Completed, Cancelled").is_final());
        assert!(!TransferState::parse("Initializing").is_final());
    }

    #[test]
    fn search_text_keeps_plain_words_only() {
        let t = WantedTrack {
            artist: "Bicep & Hammer".into(),
            title: "Rain (Extended Mix)".into(),
            ..Default::default()
        };
        assert_eq!(search_text(&t), "Bicep Hammer Rain Extended Mix");
        let t = WantedTrack {
            artist: "-Exclude".into(),
            title: "Title feat. Someone (Original Mix)".into(),
            ..Default::default()
        };
        assert_eq!(search_text(&t), "Exclude Title Someone");
        let t = WantedTrack {
            artist: "!!!".into(),
            title: "???".into(),
            ..Default::default()
        };
        assert_eq!(search_text(&t), "");
    }

    #[test]
    fn search_ids_look_like_guids() {
        let id = new_search_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_ne!(id, new_search_id());
    }

    #[test]
    fn hostile_peer_paths_stay_inside_the_base() {
        let base = Path::new("/srv/slskd/downloads");
        for hostile in [
            "..\\..\\etc\\passwd",
            "..\\..",
            "/etc/passwd",
            "C:\\Windows\\System32\\drivers\\etc\\hosts",
            "\\\\?\\C:\\x\\..",
            "@@share\\..\\..\\..\\x.flac",
            "@@share\\CON\\NUL.flac",
            "@@share\\. \\...",
            "",
            "a/../../b",
            "x\0y\\z\0.mp3",
        ] {
            let p = local_path_in(base, hostile);
            assert!(p.starts_with(base), "{hostile:?} gave {}", p.display());
            let rel = p.strip_prefix(base).unwrap();
            assert!(
                rel.components().count() <= 2,
                "{hostile:?} gave {}",
                p.display()
            );
            for c in rel.components() {
                assert!(
                    matches!(c, std::path::Component::Normal(_)),
                    "{hostile:?} gave the component {c:?}"
                );
            }
        }
        assert_eq!(
            local_path_in(base, "@@abc\\Music\\Album\\01 Track.flac"),
            base.join("Album").join("01 Track.flac")
        );
        assert_eq!(safe_component(&"é".repeat(200)).len(), 254);
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_linked_outside_the_downloads_directory_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("cd-slskd-link-{}", new_search_id()));
        let (base, outside) = (dir.join("downloads"), dir.join("outside"));
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("t.flac"), b"secret").unwrap();
        std::os::unix::fs::symlink(&outside, base.join("Album")).unwrap();
        let found = find_saved(&base, "@@x\\Album\\t.flac", None);
        assert!(
            found.as_ref().is_err_and(|e| e.contains("outside")),
            "{found:?}"
        );
        // a regular file inside is found, and slskd's renamed copy when the name was taken
        std::fs::create_dir_all(base.join("Real")).unwrap();
        std::fs::write(base.join("Real").join("t_638400000000000000.flac"), b"abc").unwrap();
        let found = find_saved(&base, "@@x\\Real\\t.flac", Some(3)).unwrap();
        assert!(found.is_some_and(|p| p.ends_with("Real/t_638400000000000000.flac")));
        assert_eq!(
            find_saved(&base, "@@x\\Real\\t.flac", Some(4)).unwrap(),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn copy_then_remove_moves_the_bytes_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("cd-slskd-move-{}", new_search_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("src.flac");
        std::fs::write(&src, b"abcdef").unwrap();
        let dest = dir.join("staging").join("dest.flac");
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        assert_eq!(copy_then_remove(&src, &dest).unwrap(), 6);
        assert_eq!(std::fs::read(&dest).unwrap(), b"abcdef");
        assert!(!src.exists());
        assert!(!dest.with_file_name(".dest.flac.part").exists());
        // a failing copy (source gone) leaves nothing behind
        assert!(copy_then_remove(&src, &dir.join("staging").join("other.flac")).is_err());
        assert!(!dir.join("staging").join(".other.flac.part").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
