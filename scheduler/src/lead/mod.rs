//! The lead agent behind `POST /v1/chat` (issue 9): a person writes what they want, a
//! planner turns it into calls of OUR tools ([`tools`]), each validated before anything
//! happens; the tools that act create ordinary syncs (the same path as `POST /v1/syncs`:
//! stored, research jobs enqueued, visible in the CLI, API and metrics), whose items the
//! fleet's scouts research concurrently. The lead follows the syncs and answers.
//!
//! Two planners: the LLM one ([`planner`], any OpenAI-compatible endpoint through
//! `async-openai`, with budgets of tool calls, tokens and wall time) and the rule-based one
//! ([`rules`]), which handles every request when no endpoint is configured and takes over
//! when the endpoint is down, slow, failing or over budget — and says so.
//!
//! Guardrails: no tool approves, downloads, writes the library, or takes SQL or a path;
//! text from outside (track names, playlist titles) reaches the model only inside tool
//! results, as JSON data, never in the system prompt.

pub mod chat;
pub mod planner;
pub mod prefs;
pub mod rules;
pub mod tools;

use crate::api::research_job;
use cratedigger_domain::Lane;
use cratedigger_platforms::sources::{SourceError, Sources, parse_source_url};
use cratedigger_store::{ItemFilter, NewItem, NewSync, SkippedLine, Store};
use cratedigger_workers::Fleet;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tools::{ErrorRecord, Tool};
use uuid::Uuid;

/// One server-sent event: its name (`plan`, `tool`, `sync`, `progress`, `answer`, `done`)
/// and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadEvent {
    /// Event name.
    pub kind: &'static str,
    /// Event data.
    pub data: Value,
}

/// What the lead works with: the fleet's queues and settings, and Postgres.
#[derive(Clone)]
pub struct LeadCtx {
    /// Queues, settings, platform layer.
    pub fleet: Fleet,
    /// Postgres.
    pub store: Store,
    /// The acquisition policy of this request (the person's words and stored preferences,
    /// [`prefs`]); stored on every sync the request creates, where the consolidator can
    /// only tighten the configured policy with it. `None`: the configured policy.
    pub policy: Option<cratedigger_workers::sync_policy::SyncPolicy>,
}

/// A sync a tool created.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncInfo {
    /// The sync.
    pub sync_id: Uuid,
    /// Items created.
    pub items: usize,
    /// Lane its jobs run in.
    pub lane: Lane,
    /// Where its tracks came from (`chat` or the address read).
    pub source: String,
}

/// The outcome of one executed tool.
#[derive(Debug, Clone)]
pub struct ToolOutcome {
    /// What the model is given (JSON data).
    pub result: Value,
    /// The failure, as the agent sees it.
    pub error: Option<ErrorRecord>,
    /// The sync created, if the tool created one.
    pub sync: Option<SyncInfo>,
}

impl ToolOutcome {
    fn ok(result: Value) -> Self {
        Self {
            result,
            error: None,
            sync: None,
        }
    }
    fn failed(e: ErrorRecord) -> Self {
        Self {
            result: json!({ "error": e }),
            error: Some(e),
            sync: None,
        }
    }
}

/// Stores a sync and enqueues its research jobs: what `POST /v1/syncs` does, so a chat's
/// work is an ordinary sync.
async fn create_and_enqueue(
    ctx: &LeadCtx,
    name: String,
    source: String,
    lane: Lane,
    items: Vec<NewItem>,
    skipped: Vec<SkippedLine>,
) -> Result<SyncInfo, ErrorRecord> {
    let created = ctx
        .store
        .create_sync(NewSync {
            name,
            source: source.clone(),
            lane,
            items,
            skipped,
        })
        .await
        .map_err(|e| ErrorRecord {
            class: "unavailable".into(),
            tool: "search_tracks".into(),
            platform: None,
            field: None,
            attempt: 1,
            alternatives: Vec::new(),
            next_action: "stop and tell the user the database is unavailable".into(),
            message: format!("the sync could not be stored: {e}"),
        })?;
    if let Some(p) = ctx.policy.as_ref().filter(|p| !p.is_empty()) {
        // Before the jobs are enqueued, so every stage of these items sees it.
        if let Err(e) = sqlx::query("UPDATE syncs SET policy = $2 WHERE id = $1")
            .bind(created.sync_id)
            .bind(json!(p))
            .execute(ctx.store.pool())
            .await
        {
            tracing::warn!(error = %e, sync_id = %created.sync_id, "could not store the sync's policy; the configured one applies");
        }
    }
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
    if let Err(e) = ctx.fleet.research.push_batch(lane, &jobs).await {
        tracing::warn!(error = %e, sync_id = %created.sync_id, "could not enqueue; the reconciler will");
    }
    metrics::counter!("cratedigger_syncs_created_total", "lane" => lane.as_str()).increment(1);
    metrics::counter!("cratedigger_lead_syncs_total").increment(1);
    Ok(SyncInfo {
        sync_id: created.sync_id,
        items: created.items.len(),
        lane,
        source,
    })
}

fn source_record(url: &str, e: &SourceError) -> ErrorRecord {
    let class = match e {
        SourceError::Unsupported { .. } => "unsupported_url",
        SourceError::NotFound { .. } => "not_found",
        SourceError::Refused { .. } => "refused",
        SourceError::Unavailable { .. } => "platform_not_configured",
        SourceError::PlatformFailed { .. } => "platform_failed",
    };
    let platform = parse_source_url(url).ok().map(|s| s.platform().to_string());
    ErrorRecord {
        class: class.into(),
        tool: "read_tracklist".into(),
        platform,
        field: Some("url".into()),
        attempt: 1,
        alternatives: vec![
            "search_tracks with the tracks' artists and titles, if the user named them".into(),
            "read_tracklist with another Spotify or Deezer playlist or Beatport chart address of the same set".into(),
        ],
        next_action: match class {
            "platform_failed" => "try again once, then ask the user for the track names".into(),
            _ => "ask the user for the track names or another address".into(),
        },
        message: e.to_string(),
    }
}

/// Runs one validated tool. Only `search_tracks` and `read_tracklist` have an effect, and
/// that effect is an ordinary sync.
pub async fn execute(ctx: &LeadCtx, tool: &Tool) -> ToolOutcome {
    match tool {
        Tool::SearchTracks { tracks, lane } => {
            let items: Vec<NewItem> = tracks
                .iter()
                .enumerate()
                .map(|(i, t)| NewItem {
                    line_no: i as u32 + 1,
                    input_line: match &t.mix {
                        Some(m) => format!("{} - {} ({m})", t.artist, t.title),
                        None => format!("{} - {}", t.artist, t.title),
                    },
                    wanted: Tool::wanted(t),
                })
                .collect();
            let first: String = items
                .first()
                .map(|i| i.input_line.chars().take(80).collect())
                .unwrap_or_default();
            let name = if items.len() > 1 {
                format!("chat: {first} and {} more", items.len() - 1)
            } else {
                format!("chat: {first}")
            };
            match create_and_enqueue(ctx, name, "chat".into(), *lane, items, Vec::new()).await {
                Ok(s) => ToolOutcome {
                    result: json!({ "sync_id": s.sync_id, "items": s.items, "lane": s.lane,
                        "note": "the fleet's scouts now research these items in parallel; the lead reports their outcome" }),
                    error: None,
                    sync: Some(s),
                },
                Err(e) => ToolOutcome::failed(e),
            }
        }
        Tool::ReadTracklist { url } => {
            let sources = Sources::from_config(&ctx.fleet.settings.platforms, &ctx.fleet.platforms);
            let read = match sources.fetch(url).await {
                Ok(r) => r,
                Err(e) => return ToolOutcome::failed(source_record(url, &e)),
            };
            let skipped: Vec<SkippedLine> = read
                .skipped
                .into_iter()
                .map(|s| SkippedLine {
                    line_no: s.line_no,
                    input: s.input,
                    reason: s.reason,
                })
                .collect();
            if read.entries.is_empty() {
                let mut e = source_record(
                    url,
                    &SourceError::Unsupported {
                        url: url.to_string(),
                        why: "no track in it".into(),
                    },
                );
                e.class = "empty".into();
                e.message = format!("{url} holds no track cratedigger can look up");
                return ToolOutcome::failed(e);
            }
            // Titles from outside go to the model as data (this JSON), nothing else.
            let tracks: Vec<String> = read
                .entries
                .iter()
                .take(50)
                .map(|e| e.input.clone())
                .collect();
            let items = read
                .entries
                .into_iter()
                .map(|e| NewItem {
                    line_no: e.line_no,
                    input_line: e.input,
                    wanted: e.wanted,
                })
                .collect();
            match create_and_enqueue(
                ctx,
                format!("chat: {}", url.chars().take(200).collect::<String>()),
                url.clone(),
                Lane::Interactive,
                items,
                skipped,
            )
            .await
            {
                Ok(s) => ToolOutcome {
                    result: json!({ "sync_id": s.sync_id, "items": s.items, "lane": s.lane,
                        "tracks_data": tracks }),
                    error: None,
                    sync: Some(s),
                },
                Err(mut e) => {
                    e.tool = "read_tracklist".into();
                    ToolOutcome::failed(e)
                }
            }
        }
        Tool::CheckLibrary { artist, title } => match check_library(&ctx.store, artist, title).await
        {
            Ok(v) => ToolOutcome::ok(v),
            Err(e) => ToolOutcome::failed(ErrorRecord {
                class: "unavailable".into(),
                tool: "check_library".into(),
                platform: None,
                field: None,
                attempt: 1,
                alternatives: Vec::new(),
                next_action:
                    "continue without the library check; the consolidator checks duplicates anyway"
                        .into(),
                message: format!("the library could not be read: {e}"),
            }),
        },
        Tool::ExplainItem { item_id } => match ctx.store.item(*item_id).await {
            Ok(Some(item)) => ToolOutcome::ok(json!({
                "item_id": item.id, "state": item.state.as_str(), "reason": item.reason,
                "input_line": item.input_line, "attempts": item.attempts, "plan": item.plan,
                "track": item.track.as_ref().map(|t| json!({
                    "artist": t.artist, "title": t.title, "mix": t.mix, "isrc": t.isrc,
                    "bpm": t.bpm, "key": t.key, "label": t.label,
                    "platforms": t.sources.iter().map(|s| s.platform.clone()).collect::<Vec<_>>() })) })),
            Ok(None) => ToolOutcome::failed(not_found("explain_item", *item_id)),
            Err(e) => {
                ToolOutcome::failed(*ErrorRecord::invalid("explain_item", None, e.to_string()))
            }
        },
        Tool::LookupIsrc { isrc } => lookup_isrc(ctx, isrc).await,
        Tool::FindSources { item_id } => match find_sources(&ctx.store, *item_id).await {
            Ok(Some(v)) => ToolOutcome::ok(v),
            Ok(None) => ToolOutcome::failed(not_found("find_sources", *item_id)),
            Err(e) => ToolOutcome::failed(unavailable("find_sources", &e)),
        },
        Tool::LabelCatalog { label } => {
            match crate::memory::lookup(&ctx.store, crate::memory::Subject::Label, label).await {
                Ok(v) => ToolOutcome::ok(v),
                Err(e) => ToolOutcome::failed(unavailable("label_catalog", &e)),
            }
        }
        Tool::ArtistCatalog { artist } => {
            match crate::memory::lookup(&ctx.store, crate::memory::Subject::Artist, artist).await {
                Ok(v) => ToolOutcome::ok(v),
                Err(e) => ToolOutcome::failed(unavailable("artist_catalog", &e)),
            }
        }
        Tool::ListCandidates { item_id } => match ctx.store.item_candidates(*item_id).await {
            Ok(rows) => ToolOutcome::ok(
                json!({ "item_id": item_id, "candidates": top_candidates(&rows, 5) }),
            ),
            Err(e) => ToolOutcome::failed(*ErrorRecord::invalid(
                "list_candidates",
                None,
                e.to_string(),
            )),
        },
    }
}

fn unavailable(tool: &str, e: &dyn std::fmt::Display) -> ErrorRecord {
    ErrorRecord {
        class: "unavailable".into(),
        tool: tool.into(),
        platform: None,
        field: None,
        attempt: 1,
        alternatives: Vec::new(),
        next_action: "continue without it and tell the user this could not be read".into(),
        message: format!("the database could not be read: {e}"),
    }
}

/// Longest a read-only ISRC lookup waits for the platforms.
const ISRC_LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);

/// Asks every enabled platform that looks up by ISRC, concurrently, through the shared
/// platform layer (rate limits, breakers, caches); read-only: nothing is stored or enqueued.
async fn lookup_isrc(ctx: &LeadCtx, isrc: &str) -> ToolOutcome {
    let registry = cratedigger_platforms::Registry::from_config(
        &ctx.fleet.settings.platforms,
        &ctx.fleet.platforms,
    );
    let platforms: Vec<_> = registry
        .enabled()
        .into_iter()
        .filter(|p| p.info().supports_isrc)
        .collect();
    if platforms.is_empty() {
        return ToolOutcome::failed(ErrorRecord {
            class: "platform_not_configured".into(),
            tool: "lookup_isrc".into(),
            platform: None,
            field: None,
            attempt: 1,
            alternatives: vec![
                "search_tracks with the artist and title, if the user named them".into(),
            ],
            next_action: "ask the user for the artist and title".into(),
            message: "no enabled platform looks tracks up by ISRC".into(),
        });
    }
    let calls = platforms.iter().map(|p| async move {
        let id = p.info().id;
        match tokio::time::timeout(ISRC_LOOKUP_TIMEOUT, p.lookup_isrc(isrc)).await {
            Ok(Ok(tracks)) => (id, Ok(tracks)),
            Ok(Err(e)) => (id, Err(e.to_string())),
            Err(_) => (
                id,
                Err(format!(
                    "no answer within {} s",
                    ISRC_LOOKUP_TIMEOUT.as_secs()
                )),
            ),
        }
    });
    let answers = futures::future::join_all(calls).await;
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for (platform, a) in answers {
        match a {
            Ok(tracks) => found.extend(tracks.into_iter().take(5).map(|t| {
                json!({ "platform": t.platform, "platform_id": t.platform_id,
                    "artist": t.main_artist(), "title": t.title, "mix": t.mix,
                    "isrc": t.isrc, "label": t.label, "release": t.release_title,
                    "release_date": t.release_date, "duration_ms": t.duration_ms })
            })),
            Err(e) => failed.push(json!({ "platform": platform, "error": e })),
        }
    }
    let asked: Vec<&str> = platforms.iter().map(|p| p.info().id).collect();
    if found.is_empty() && !failed.is_empty() && failed.len() == asked.len() {
        return ToolOutcome::failed(ErrorRecord {
            class: "platform_failed".into(),
            tool: "lookup_isrc".into(),
            platform: failed[0]["platform"].as_str().map(str::to_string),
            field: None,
            attempt: 1,
            alternatives: vec![
                "search_tracks with the artist and title, if the user named them".into(),
            ],
            next_action: "try again once, then ask the user for the artist and title".into(),
            message: format!("no platform could look up {isrc}"),
        });
    }
    ToolOutcome::ok(
        json!({ "isrc": isrc, "asked": asked, "found": found, "failed": failed,
        "note": "read-only: nothing was created; use search_tracks with the artist and title to look the track up" }),
    )
}

/// Every candidate discovery found for an item (downloads, buy and listen links, ranked or
/// filtered out, with why) and the platforms' pages of its track. `None`: no such item.
pub async fn find_sources(
    store: &Store,
    item_id: Uuid,
) -> Result<Option<Value>, cratedigger_store::StoreError> {
    let Some(item) = store.item(item_id).await? else {
        return Ok(None);
    };
    let rows = store.item_candidates(item_id).await?;
    let candidates: Vec<Value> = rows
        .iter()
        .take(50)
        .map(|r| {
            json!({ "rank": r.rank, "score": r.score, "source": r.candidate.source,
                "availability": r.candidate.availability, "title": r.candidate.title,
                "artist": r.candidate.artist, "format": r.candidate.format,
                "bitrate_kbps": r.candidate.bitrate_kbps, "url": r.candidate.url,
                "price": r.candidate.price, "rejected": r.rejected, "state": r.state.as_str() })
        })
        .collect();
    let pages: Vec<Value> = item
        .track
        .as_ref()
        .map(|t| {
            t.sources
                .iter()
                .map(|s| json!({ "platform": s.platform, "platform_id": s.platform_id, "url": s.url }))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(
        json!({ "item_id": item_id, "state": item.state.as_str(),
        "candidates": candidates, "platform_pages": pages,
        "note": if candidates.is_empty() { "discovery has not run for this item (acquisition off, or not resolved yet)" } else { "" } }),
    ))
}

fn not_found(tool: &str, id: Uuid) -> ErrorRecord {
    ErrorRecord {
        class: "not_found".into(),
        tool: tool.into(),
        platform: None,
        field: Some("item_id".into()),
        attempt: 1,
        alternatives: Vec::new(),
        next_action: "use an item id from a sync this conversation created".into(),
        message: format!("no item with id {id}"),
    }
}

/// The best `n` ranked candidates, in the compact form the answer and the model get.
pub fn top_candidates(rows: &[cratedigger_store::CandidateRow], n: usize) -> Vec<Value> {
    let mut ranked: Vec<&cratedigger_store::CandidateRow> =
        rows.iter().filter(|r| r.rank.is_some()).collect();
    ranked.sort_by_key(|r| r.rank);
    ranked
        .into_iter()
        .take(n)
        .map(|r| {
            json!({ "rank": r.rank, "score": r.score, "source": r.candidate.source,
                "title": r.candidate.title, "artist": r.candidate.artist,
                "format": r.candidate.format, "bitrate_kbps": r.candidate.bitrate_kbps,
                "state": r.state.as_str() })
        })
        .collect()
}

/// Read-only duplicate check: the same normalised artist/title key, else tracks whose
/// "artist title" is trigram-similar (the consolidator's full check runs on every item
/// anyway; this one answers the model's question before anything is created).
pub async fn check_library(store: &Store, artist: &str, title: &str) -> Result<Value, sqlx::Error> {
    let key = cratedigger_music::normalize::dedup_key(artist, title, None);
    let needle = format!(
        "{} {}",
        cratedigger_music::normalize::normalize_text(artist),
        cratedigger_music::normalize::normalize_text(title)
    );
    let rows = sqlx::query(
        "SELECT id, artist, title, mix, 1.0::real AS sim FROM tracks WHERE dedup_key = $1
         UNION ALL
         SELECT id, artist, title, mix, similarity(norm_artist || ' ' || norm_title, $2) AS sim
         FROM tracks WHERE dedup_key <> $1 AND similarity(norm_artist || ' ' || norm_title, $2) >= 0.5
         ORDER BY sim DESC LIMIT 5",
    )
    .bind(&key)
    .bind(&needle)
    .fetch_all(store.pool())
    .await?;
    let matches: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "track_id": r.try_get::<Uuid, _>("id").ok(),
                "artist": r.try_get::<String, _>("artist").ok(),
                "title": r.try_get::<String, _>("title").ok(),
                "mix": r.try_get::<Option<String>, _>("mix").ok().flatten(),
                "similarity": r.try_get::<f32, _>("sim").ok() })
        })
        .collect();
    let exact = matches
        .first()
        .and_then(|m| m["similarity"].as_f64())
        .is_some_and(|s| s >= 0.999);
    Ok(json!({ "in_library": exact, "matches": matches }))
}

/// Where a request's decisions are stored.
#[derive(Clone)]
pub struct Recorder {
    store: Store,
    conversation_id: Uuid,
    message_id: i64,
}

impl Recorder {
    /// Records one decision; a failure is logged, never fails the request.
    #[allow(clippy::too_many_arguments)]
    pub async fn decision(
        &self,
        kind: &str,
        planner: &str,
        tool: Option<&str>,
        args: Option<Value>,
        result: Option<Value>,
        error: Option<Value>,
        sync_id: Option<Uuid>,
    ) {
        let r = sqlx::query(
            "INSERT INTO lead_decisions (conversation_id, message_id, kind, planner, tool, args, result, error, sync_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(self.conversation_id)
        .bind(self.message_id)
        .bind(kind)
        .bind(planner)
        .bind(tool)
        .bind(args)
        .bind(result)
        .bind(error)
        .bind(sync_id)
        .execute(self.store.pool())
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record a lead decision");
        }
    }
}

/// One chat request in progress: events out, decisions stored, what was done so far.
pub struct Session {
    /// Fleet and store.
    pub ctx: LeadCtx,
    tx: mpsc::Sender<LeadEvent>,
    rec: Recorder,
    /// Syncs created so far.
    pub syncs: Vec<SyncInfo>,
    /// Tool failures so far (for the answer's "what failed and why").
    pub failures: Vec<ErrorRecord>,
    attempts: HashMap<String, u32>,
    /// The conversation.
    pub conversation_id: Uuid,
}

impl Session {
    /// A session answering one message of `conversation_id`.
    pub fn new(
        ctx: LeadCtx,
        tx: mpsc::Sender<LeadEvent>,
        conversation_id: Uuid,
        message_id: i64,
    ) -> Self {
        let rec = Recorder {
            store: ctx.store.clone(),
            conversation_id,
            message_id,
        };
        Self {
            ctx,
            tx,
            rec,
            syncs: Vec::new(),
            failures: Vec::new(),
            attempts: HashMap::new(),
            conversation_id,
        }
    }

    /// Sends an event (a gone client is not an error: the work goes on).
    pub async fn emit(&self, kind: &'static str, data: Value) {
        let _ = self.tx.send(LeadEvent { kind, data }).await;
    }

    /// Emits and records a plan decision.
    pub async fn plan(&self, planner: &str, data: Value) {
        let kind = if data["fallback"].as_bool() == Some(true) {
            "fallback"
        } else {
            "plan"
        };
        self.rec
            .decision(kind, planner, None, None, Some(data.clone()), None, None)
            .await;
        let mut data = data;
        data["conversation_id"] = json!(self.conversation_id);
        self.emit("plan", data).await;
    }

    /// Records, counts and reports the outcome of a tool (executed or refused).
    pub async fn report(
        &mut self,
        planner: &str,
        name: &str,
        args: Value,
        mut outcome: ToolOutcome,
    ) -> Value {
        let attempt = {
            let n = self.attempts.entry(name.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        if let Some(e) = outcome.error.as_mut() {
            e.attempt = attempt;
            outcome.result = json!({ "error": e });
        }
        self.rec
            .decision(
                "tool_call",
                planner,
                Some(name),
                Some(args.clone()),
                Some(outcome.result.clone()),
                outcome.error.as_ref().map(|e| json!(e)),
                outcome.sync.as_ref().map(|s| s.sync_id),
            )
            .await;
        metrics::counter!("cratedigger_lead_tool_calls_total", "tool" => name.to_string(),
            "outcome" => if outcome.error.is_some() { "error" } else { "ok" })
        .increment(1);
        let summary = match (&outcome.error, &outcome.sync) {
            (Some(e), _) => e.message.clone(),
            (None, Some(s)) => format!("sync {} created with {} item(s)", s.sync_id, s.items),
            (None, None) => "done".to_string(),
        };
        self.emit(
            "tool",
            json!({ "planner": planner, "name": name, "args": args, "summary": summary,
                "result": outcome.result, "error": outcome.error }),
        )
        .await;
        if let Some(e) = outcome.error.clone() {
            self.failures.push(e);
        }
        if let Some(s) = outcome.sync.clone() {
            self.rec
                .decision(
                    "sync",
                    planner,
                    Some(name),
                    None,
                    Some(json!(s)),
                    None,
                    Some(s.sync_id),
                )
                .await;
            self.emit("sync", json!(s)).await;
            self.syncs.push(s);
        }
        outcome.result
    }
}

/// How a request was planned, for the answer.
#[derive(Debug, Default)]
pub struct Planned {
    /// The LLM's own final text, when it gave one.
    pub llm_text: Option<String>,
    /// Why the rule-based planner took over, when it did.
    pub fallback: Option<String>,
}

/// Runs the rule-based planner over `message` in `session`; `because` says why it, not the
/// LLM, plans this request, and `fallback` whether the LLM was tried and failed.
pub async fn run_rules(session: &mut Session, message: &str, because: &str, fallback: bool) {
    let plan = rules::plan(message);
    let mut data = json!({ "planner": "rules", "why": plan.why, "because": because,
        "tools": plan.tools.iter().map(|t| t.name()).collect::<Vec<_>>() });
    if fallback {
        data["fallback"] = json!(true);
        data["reason"] = json!(format!(
            "{because}; the rule-based planner handled this request"
        ));
    }
    session.plan("rules", data).await;
    for tool in plan.tools {
        let args = json!(tool);
        let outcome = execute(&session.ctx, &tool).await;
        session.report("rules", tool.name(), args, outcome).await;
    }
}

/// Follows the created syncs, one `progress` event per change, until every item is final
/// or `deadline`.
pub async fn follow(session: &Session, deadline: Instant) {
    if session.syncs.is_empty() {
        return;
    }
    let mut last: Option<Value> = None;
    loop {
        let mut all_done = true;
        let mut syncs = Vec::new();
        for s in &session.syncs {
            match session.ctx.store.sync_progress(s.sync_id).await {
                Ok(Some(p)) => {
                    all_done &= p.finished;
                    let counts: BTreeMap<&String, &i64> =
                        p.counts.iter().filter(|(_, n)| **n > 0).collect();
                    syncs.push(json!({ "sync_id": p.sync_id, "total": p.total,
                        "finished": p.finished, "counts": counts }));
                }
                _ => all_done = false,
            }
        }
        let now = json!({ "syncs": syncs });
        if last.as_ref() != Some(&now) {
            session.emit("progress", now.clone()).await;
            last = Some(now);
        }
        if all_done || Instant::now() >= deadline || session.tx.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The final answer: the LLM's text (if any), each track's outcome with the top options
/// when candidates exist, what failed and why.
pub async fn compose_answer(session: &Session, planned: &Planned, timed_out: bool) -> Value {
    let mut lines: Vec<String> = Vec::new();
    if let Some(t) = planned.llm_text.as_deref().filter(|t| !t.trim().is_empty()) {
        lines.push(t.trim().to_string());
    }
    if let Some(r) = &planned.fallback {
        lines.push(format!("Note: {r}."));
    }
    let policy = session.ctx.policy.as_ref().filter(|p| !p.is_empty());
    if let Some(p) = policy
        && !session.syncs.is_empty()
    {
        lines.push(format!(
            "Your preferences for these syncs: {} (they can only make the configured acquisition policy stricter).",
            prefs::describe(p)
        ));
    }
    let mut tracks = Vec::new();
    for s in &session.syncs {
        let items = session
            .ctx
            .store
            .list_items(ItemFilter {
                sync_id: Some(s.sync_id),
                state: None,
                limit: 500,
                offset: 0,
            })
            .await
            .unwrap_or_default();
        lines.push(format!("Sync {} ({} track(s)):", s.sync_id, s.items));
        for item in items {
            let mut line = format!("- {}: {}", item.input_line, item.state.as_str());
            if let Some(t) = &item.track {
                let mut facts = Vec::new();
                if let Some(l) = &t.label {
                    facts.push(l.clone());
                }
                if let Some(b) = t.bpm {
                    facts.push(format!("{b:.0} BPM"));
                }
                if let Some(k) = &t.key {
                    facts.push(k.clone());
                }
                line.push_str(&format!(" — {} - {}", t.artist, t.title));
                if let Some(m) = &t.mix {
                    line.push_str(&format!(" ({m})"));
                }
                if !facts.is_empty() {
                    line.push_str(&format!(" [{}]", facts.join(", ")));
                }
            }
            if let Some(r) = &item.reason {
                line.push_str(&format!(" ({r})"));
            }
            lines.push(line);
            let options = session
                .ctx
                .store
                .item_candidates(item.id)
                .await
                .map(|rows| top_candidates(&rows, 5))
                .unwrap_or_default();
            for o in &options {
                lines.push(format!(
                    "    option #{}: {} from {} ({}{})",
                    o["rank"],
                    o["title"].as_str().unwrap_or("?"),
                    o["source"].as_str().unwrap_or("?"),
                    o["format"].as_str().unwrap_or("?"),
                    o["bitrate_kbps"]
                        .as_u64()
                        .map(|b| format!(", {b} kbps"))
                        .unwrap_or_default()
                ));
            }
            tracks.push(json!({ "item_id": item.id, "input": item.input_line,
                "state": item.state.as_str(), "reason": item.reason, "options": options }));
        }
    }
    if timed_out {
        lines.push("The wall-time budget ended before every track was final; follow the rest with `cratedigger items --sync <id>`.".into());
    }
    for f in &session.failures {
        lines.push(format!(
            "Could not {}: {}",
            f.tool.replace('_', " "),
            f.message
        ));
    }
    if session.syncs.is_empty() && session.failures.is_empty() && planned.llm_text.is_none() {
        lines.push(rules::HELP.to_string());
    }
    json!({ "text": lines.join("\n"), "tracks": tracks, "failures": session.failures,
        "syncs": session.syncs, "policy": policy })
}
