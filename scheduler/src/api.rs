//! The scheduler's HTTP API (axum) and the web page (`crate::web`). Bound to loopback by
//! default; bound anywhere else it refuses every request without `Authorization: Bearer
//! <CRATEDIGGER__API__TOKEN>` or a page session (401), except the probes `/healthz`,
//! `/readyz`, the `/metrics` scrape and the page's own files (see `crate::session`).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cratedigger_domain::jobs::{Envelope, ResearchJob, queues};
use cratedigger_domain::{ItemState, Lane};
use cratedigger_platforms::sources::{SourceError, Sources};
use cratedigger_playlist::{MAX_PLAYLIST_BYTES, PlaylistError};
use cratedigger_store::{ItemFilter, NewItem, NewSync, SkippedLine, Store};
use cratedigger_workers::Fleet;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

/// Shared state of the API handlers.
#[derive(Clone)]
pub struct ApiState {
    /// Queues and settings.
    pub fleet: Fleet,
    /// Postgres.
    pub store: Store,
    /// Token required on every request (None when bound to loopback without a token).
    pub token: Option<Arc<str>>,
    /// Wrong tokens per client address (guessing is throttled).
    pub throttle: Arc<crate::throttle::TokenThrottle>,
}

/// An API error: a status and a sentence naming what was wrong (and the field, if any).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    field: Option<String>,
}

impl ApiError {
    /// 400 naming the offending field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            field: Some(field.into()),
        }
    }
    /// The request field the error names, if any.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
    /// Any status with a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<cratedigger_store::StoreError> for ApiError {
    fn from(e: cratedigger_store::StoreError) -> Self {
        tracing::error!(error = %e, "database error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the database is unavailable: {e}"),
        )
    }
}

impl From<cratedigger_fleet::QueueError> for ApiError {
    fn from(e: cratedigger_fleet::QueueError) -> Self {
        tracing::error!(error = %e, "redis error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the job queue is unavailable: {e}"),
        )
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// JSON form of `POST /v1/syncs` (the raw form sends the playlist bytes as the body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSyncJson {
    /// Playlist text (M3U, CSV or `Artist - Title` lines). Exactly one of `playlist` and
    /// `url` is given.
    #[serde(default)]
    pub playlist: Option<String>,
    /// A Spotify or Deezer playlist or Beatport chart address: the scheduler reads every
    /// page of it and the sync's source is the address.
    #[serde(default)]
    pub url: Option<String>,
    /// Name shown in lists; defaults to the source.
    #[serde(default)]
    pub name: Option<String>,
    /// File name or URL it came from; its extension picks the format.
    #[serde(default)]
    pub source: Option<String>,
    /// Priority lane; `batch` by default.
    #[serde(default)]
    pub lane: Option<Lane>,
}

/// Answer of `POST /v1/syncs`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SyncCreated {
    /// The new sync.
    pub sync_id: Uuid,
    /// Items created (one per usable line).
    pub items: usize,
    /// Format the playlist was read as.
    pub format: String,
    /// Lines that could not be used, with line numbers and reasons.
    pub skipped: Vec<SkippedLine>,
    /// Jobs enqueued now (the reconciler enqueues the rest if Redis was unavailable).
    pub enqueued: u64,
}

fn parse_params(params: &HashMap<String, String>, allowed: &[&str]) -> ApiResult<()> {
    for k in params.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad_field(
                k,
                format!(
                    "unknown query parameter '{k}' (allowed: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn param_lane(params: &HashMap<String, String>) -> ApiResult<Option<Lane>> {
    params
        .get("lane")
        .map(|l| {
            l.parse::<Lane>()
                .map_err(|e| ApiError::bad_field("lane", e.to_string()))
        })
        .transpose()
}

fn param_state(params: &HashMap<String, String>) -> ApiResult<Option<ItemState>> {
    params
        .get("state")
        .map(|s| {
            s.parse::<ItemState>()
                .map_err(|e| ApiError::bad_field("state", e.to_string()))
        })
        .transpose()
}

fn param_num(
    params: &HashMap<String, String>,
    name: &str,
    default: i64,
    max: i64,
) -> ApiResult<i64> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_field(
                name,
                format!("'{name}' must be a number from 0 to {max}, got '{v}'"),
            )),
        },
    }
}

async fn create_sync(
    State(st): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SyncCreated>)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (bytes, name, source, lane, url) = if is_json {
        parse_params(&params, &[])?;
        let req: CreateSyncJson = json_body(&body)?;
        match (req.playlist, req.url) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_field(
                    "url",
                    "send either `playlist` (the playlist text) or `url` (a playlist or chart address), not both",
                ));
            }
            (None, None) => {
                return Err(ApiError::bad_field(
                    "playlist",
                    "missing field `playlist` (the playlist text); or send `url` with a Spotify or Deezer playlist or Beatport chart address",
                ));
            }
            (None, Some(_)) if req.source.is_some() => {
                return Err(ApiError::bad_field(
                    "source",
                    "`source` names where `playlist` text came from; with `url` the source is the address itself",
                ));
            }
            (Some(p), None) => (p.into_bytes(), req.name, req.source, req.lane, None),
            (None, Some(u)) => (Vec::new(), req.name, None, req.lane, Some(u)),
        }
    } else {
        parse_params(&params, &["name", "source", "lane"])?;
        (
            body.to_vec(),
            params.get("name").cloned(),
            params.get("source").cloned(),
            param_lane(&params)?,
            None,
        )
    };
    let (source, format, items, skipped) = match url {
        Some(url) => read_source_url(&st, &url).await?,
        None => {
            let source = source.unwrap_or_else(|| "playlist.txt".into());
            let parsed = cratedigger_playlist::parse(&source, &bytes).map_err(|e| {
                let status = match e {
                    PlaylistError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError {
                    status,
                    message: e.to_string(),
                    field: Some("playlist".into()),
                }
            })?;
            let items = parsed
                .entries
                .iter()
                .map(|e| NewItem {
                    line_no: e.line_no,
                    input_line: e.input.clone(),
                    wanted: e.wanted.clone(),
                })
                .collect();
            let skipped = parsed
                .skipped
                .iter()
                .map(|s| SkippedLine {
                    line_no: s.line_no,
                    input: s.input.clone(),
                    reason: s.reason.clone(),
                })
                .collect();
            (source, parsed.format.to_string(), items, skipped)
        }
    };
    let lane = lane.unwrap_or(Lane::Batch);
    let name = name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| source.clone());
    if name.chars().count() > 300 {
        return Err(ApiError::bad_field(
            "name",
            "name is longer than 300 characters",
        ));
    }
    let created = st
        .store
        .create_sync(NewSync {
            name,
            source: source.clone(),
            lane,
            items,
            skipped: skipped.clone(),
        })
        .await?;
    let jobs: Vec<(String, Vec<u8>)> = created
        .items
        .iter()
        .map(|(item_id, wanted)| {
            let env = research_job(created.sync_id, *item_id, wanted.clone());
            (
                env.job_id.to_string(),
                serde_json::to_vec(&env).unwrap_or_default(),
            )
        })
        .collect();
    let enqueued = match st.fleet.research.push_batch(lane, &jobs).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, sync_id = %created.sync_id, "could not enqueue; the reconciler will");
            0
        }
    };
    metrics::counter!("cratedigger_syncs_created_total", "lane" => lane.as_str()).increment(1);
    Ok((
        StatusCode::CREATED,
        Json(SyncCreated {
            sync_id: created.sync_id,
            items: created.items.len(),
            format,
            skipped,
            enqueued,
        }),
    ))
}

/// Reads a playlist or chart address through the platform sources (every page, through
/// the fleet's limiter, breakers and caches): the sync's source (the address), its format
/// label, one item per track in playlist order and the entries that are not tracks.
/// Nothing is stored when the address cannot be read or holds no track.
async fn read_source_url(
    st: &ApiState,
    url: &str,
) -> ApiResult<(String, String, Vec<NewItem>, Vec<SkippedLine>)> {
    let sources = Sources::from_config(&st.fleet.settings.platforms, &st.fleet.platforms);
    let read = sources.fetch(url).await.map_err(source_error)?;
    let mut skipped: Vec<SkippedLine> = read
        .skipped
        .into_iter()
        .map(|s| SkippedLine {
            line_no: s.line_no,
            input: s.input,
            reason: s.reason,
        })
        .collect();
    if read.entries.is_empty() {
        return Err(ApiError::bad_field(
            "url",
            format!(
                "the {} {} at {} holds no track cratedigger can look up ({} entries left out); nothing was stored",
                read.source.display_platform(),
                read.source.what(),
                url.trim(),
                skipped.len()
            ),
        ));
    }
    if let Some(note) = read.note {
        let last = read
            .entries
            .iter()
            .map(|e| e.line_no)
            .chain(skipped.iter().map(|s| s.line_no))
            .max()
            .unwrap_or(0);
        skipped.push(SkippedLine {
            line_no: last.saturating_add(1),
            input: "(the rest of the playlist)".into(),
            reason: note,
        });
    }
    let items = read
        .entries
        .into_iter()
        .map(|e| NewItem {
            line_no: e.line_no,
            input_line: e.input,
            wanted: e.wanted,
        })
        .collect();
    Ok((
        url.trim().to_string(),
        read.source.format().to_string(),
        items,
        skipped,
    ))
}

/// A source failure as an answer naming the field `url`: 400 for an address we cannot
/// read, 404 for a missing playlist, 403 for a private one, 503 when the platform is not
/// configured here, 502 when the platform failed or refused our credentials.
fn source_error(e: SourceError) -> ApiError {
    let status = match &e {
        SourceError::Unsupported { .. } => StatusCode::BAD_REQUEST,
        SourceError::NotFound { .. } => StatusCode::NOT_FOUND,
        SourceError::Refused { .. } => StatusCode::FORBIDDEN,
        SourceError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        SourceError::PlatformFailed { .. } => StatusCode::BAD_GATEWAY,
    };
    if status.is_server_error() {
        tracing::warn!(error = %e, "could not read a sync source");
    }
    ApiError {
        status,
        message: e.to_string(),
        field: Some(e.field().into()),
    }
}

/// The research job of an item; its id is stable so re-enqueueing it is idempotent.
pub fn research_job(
    sync_id: Uuid,
    item_id: Uuid,
    wanted: cratedigger_domain::WantedTrack,
) -> Envelope<ResearchJob> {
    Envelope::with_stable_id(
        &format!("item:{item_id}:research"),
        ResearchJob {
            sync_id,
            item_id,
            wanted,
        },
    )
}

async fn list_syncs(
    State(st): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    parse_params(&params, &["limit"])?;
    let limit = param_num(&params, "limit", 50, 1000)?;
    Ok(Json(st.store.list_syncs(limit).await?))
}

fn parse_uuid(field: &str, raw: &str) -> ApiResult<Uuid> {
    raw.parse()
        .map_err(|_| ApiError::bad_field(field, format!("'{raw}' is not a valid id")))
}

async fn get_sync(
    State(st): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_uuid("sync_id", &id)?;
    match st.store.sync_progress(id).await? {
        Some(p) => Ok(Json(p)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no sync with id {id}"),
        )),
    }
}

async fn sync_items(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    parse_params(&params, &["state", "limit", "offset"])?;
    let id = parse_uuid("sync_id", &id)?;
    if st.store.sync_progress(id).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no sync with id {id}"),
        ));
    }
    let filter = ItemFilter {
        sync_id: Some(id),
        state: param_state(&params)?,
        limit: param_num(&params, "limit", 1000, 100_000)?,
        offset: param_num(&params, "offset", 0, i64::MAX)?,
    };
    Ok(Json(st.store.list_items(filter).await?))
}

async fn items(
    State(st): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    parse_params(&params, &["state", "sync_id", "limit", "offset"])?;
    let filter = ItemFilter {
        sync_id: params
            .get("sync_id")
            .map(|s| parse_uuid("sync_id", s))
            .transpose()?,
        state: param_state(&params)?,
        limit: param_num(&params, "limit", 100, 100_000)?,
        offset: param_num(&params, "offset", 0, i64::MAX)?,
    };
    Ok(Json(st.store.list_items(filter).await?))
}

async fn queue_depths(fleet: &Fleet) -> ApiResult<Vec<cratedigger_fleet::QueueDepth>> {
    let mut out = Vec::new();
    for q in fleet.all_queues() {
        out.push(q.depth().await?);
    }
    Ok(out)
}

async fn queues_route(State(st): State<ApiState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(queue_depths(&st.fleet).await?))
}

async fn status(State(st): State<ApiState>) -> ApiResult<impl IntoResponse> {
    let states = st.store.state_counts().await?;
    let queues = queue_depths(&st.fleet).await?;
    Ok(Json(json!({ "items": states, "queues": queues })))
}

fn pick_queues<'a>(
    fleet: &'a Fleet,
    name: Option<&String>,
) -> ApiResult<Vec<&'a cratedigger_fleet::Queue>> {
    match name {
        None => Ok(fleet.all_queues().to_vec()),
        Some(n) => fleet.queue(n).map(|q| vec![q]).ok_or_else(|| {
            ApiError::bad_field(
                "queue",
                format!(
                    "unknown queue '{n}' (expected one of: {})",
                    queues::ALL.join(", ")
                ),
            )
        }),
    }
}

async fn dlq_list(
    State(st): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    parse_params(&params, &["queue", "limit"])?;
    let limit = param_num(&params, "limit", 100, 10_000)? as usize;
    let mut out = Vec::new();
    for q in pick_queues(&st.fleet, params.get("queue"))? {
        out.extend(q.dead_jobs(limit).await?);
    }
    Ok(Json(out))
}

/// Body of `POST /v1/dlq/redrive`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedriveRequest {
    /// Only this queue (all by default).
    #[serde(default)]
    pub queue: Option<String>,
    /// At most this many jobs per queue (default 1000).
    #[serde(default)]
    pub max: Option<u64>,
}

/// Parses a JSON request body; a bad one is a 400 naming the field (its path, or the
/// unknown/missing field's name for a top-level error) and what was wrong.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            inner.split('`').nth(1).unwrap_or("body").to_string()
        } else {
            path
        };
        ApiError::bad_field(&field, format!("invalid request body: {inner}"))
    })
}

async fn dlq_redrive(State(st): State<ApiState>, body: Bytes) -> ApiResult<impl IntoResponse> {
    let req: RedriveRequest = if body.is_empty() {
        RedriveRequest::default()
    } else {
        json_body(&body)?
    };
    let max = req.max.unwrap_or(1000);
    let mut redriven = serde_json::Map::new();
    for q in pick_queues(&st.fleet, req.queue.as_ref())? {
        redriven.insert(q.name().to_string(), json!(q.redrive(max).await?));
    }
    Ok(Json(json!({ "redriven": redriven })))
}

async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /v1/openapi.json",
    )
}

/// Compares secrets in time independent of where they differ (tokens, CSRF tokens).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The API router with its middleware.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/syncs", post(create_sync).get(list_syncs))
        .route("/v1/syncs/{id}", get(get_sync))
        .route("/v1/syncs/{id}/items", get(sync_items))
        .route("/v1/items", get(items))
        .route(
            "/v1/items/{id}/candidates",
            get(crate::review::candidates_route),
        )
        .route("/v1/items/{id}/approve", post(crate::review::approve_route))
        .route("/v1/items/{id}/reject", post(crate::review::reject_route))
        .route("/v1/review", get(crate::review::review_route))
        .route("/v1/queues", get(queues_route))
        .route("/v1/status", get(status))
        .route("/v1/dlq", get(dlq_list))
        .route("/v1/dlq/redrive", post(dlq_redrive))
        .route("/v1/chat", post(crate::lead::chat::chat_route))
        .route("/v1/memory/labels/{name}", get(crate::memory::label_route))
        .route(
            "/v1/memory/artists/{name}",
            get(crate::memory::artist_route),
        )
        .route(
            "/v1/preferences",
            get(crate::lead::prefs::get_route).put(crate::lead::prefs::put_route),
        )
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/items/{id}/retry", post(crate::library::retry_route))
        .route("/v1/library", get(crate::library::library_route))
        .route("/v1/events", get(crate::events::events_route))
        .route(
            "/v1/session",
            get(crate::session::get_session)
                .post(crate::session::login)
                .delete(crate::session::logout),
        )
        .route("/", get(crate::web::serve_asset))
        .route("/index.html", get(crate::web::serve_asset))
        .route("/assets/{file}", get(crate::web::serve_asset))
        .with_state(state.clone())
        .merge(cratedigger_fleet::telemetry::ops_router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_PLAYLIST_BYTES + 64 * 1024))
        .layer(middleware::from_fn_with_state(
            state,
            crate::session::require_auth,
        ))
        .layer(middleware::from_fn(crate::web::security_headers))
}

/// Whether an address is loopback-only (token optional there).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Decides the token policy for a bind address: beyond loopback a token is mandatory.
pub fn token_policy(addr: &SocketAddr, token: Option<&str>) -> anyhow::Result<Option<Arc<str>>> {
    match token.filter(|t| !t.is_empty()) {
        Some(t) if t.len() < 16 => {
            anyhow::bail!("CRATEDIGGER__API__TOKEN is too short: use at least 16 characters")
        }
        Some(t) => Ok(Some(t.into())),
        None if is_loopback(addr) => Ok(None),
        None => anyhow::bail!(
            "refusing to listen on {addr} without an API token: set CRATEDIGGER__API__TOKEN, or bind to 127.0.0.1"
        ),
    }
}

/// Exports queue depth per queue and lane, dead-letter size and items per state as gauges
/// (what KEDA and the alerts read), every few seconds.
pub async fn export_gauges(
    fleet: Fleet,
    store: Store,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Counters that move only on rare events exist from the start, so rate() and the
    // dashboard see 0 rather than nothing.
    metrics::counter!("cratedigger_reconciler_requeued_total").increment(0);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            _ = stop.changed() => return,
        }
        for q in fleet.all_queues() {
            if let Ok(d) = q.depth().await {
                for (lane, n) in &d.lanes {
                    metrics::gauge!("cratedigger_queue_depth", "queue" => d.queue.clone(), "lane" => lane.clone()).set(*n as f64);
                }
                metrics::gauge!("cratedigger_queue_inflight", "queue" => d.queue.clone())
                    .set(d.inflight as f64);
                metrics::gauge!("cratedigger_queue_delayed", "queue" => d.queue.clone())
                    .set(d.delayed as f64);
                metrics::gauge!("cratedigger_dead_letter_size", "queue" => d.queue.clone())
                    .set(d.dead as f64);
            }
        }
        if let Ok(counts) = store.state_counts().await {
            for (state, n) in counts {
                metrics::gauge!("cratedigger_items", "state" => state).set(n as f64);
            }
        }
        // Disk of the library and staging volumes, and the last file that arrived: the
        // download role scales to zero, so the singleton scheduler exports these.
        cratedigger_workers::volumes::export(&fleet.settings.acquisition);
        if let Ok(t) = store.last_successful_download().await {
            // 0 before the first download: "no download while downloads are queued" then
            // fires after its `for`, which is what an operator wants to hear.
            metrics::gauge!("cratedigger_last_successful_download_timestamp_seconds")
                .set(t.unwrap_or(0.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_needs_a_token() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(token_policy(&lo, None).unwrap().is_none());
        let err = token_policy(&any, None).unwrap_err().to_string();
        assert!(err.contains("CRATEDIGGER__API__TOKEN"), "{err}");
        assert!(token_policy(&any, Some("short")).is_err());
        assert!(
            token_policy(&any, Some("0123456789abcdef"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
