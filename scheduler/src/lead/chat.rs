//! `POST /v1/chat`: one message of a conversation in, a `text/event-stream` of what the
//! lead does out (`plan`, `tool`, `sync`, `progress`, `answer`, `done`); conversations,
//! messages and every decision stored in Postgres. Also the terminal client behind
//! `cratedigger chat`.

use super::{LeadCtx, LeadEvent, Planned, Session, compose_answer, follow, planner, run_rules};
use crate::api::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use cratedigger_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Longest message accepted (characters).
pub const MAX_MESSAGE_CHARS: usize = 20_000;
/// Earlier messages of the conversation given to the planner.
const HISTORY: i64 = 20;

/// Body of `POST /v1/chat`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// Continue this conversation; a new one is started when absent.
    #[serde(default)]
    pub conversation_id: Option<Uuid>,
    /// What the person wants, in plain words.
    pub message: String,
}

fn db(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "database error in chat");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the database is unavailable: {e}"),
    )
}

/// Starts a conversation.
pub async fn create_conversation(store: &Store) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO lead_conversations (id) VALUES ($1)")
        .bind(id)
        .execute(store.pool())
        .await?;
    Ok(id)
}

/// Whether the conversation exists.
pub async fn conversation_exists(store: &Store, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM lead_conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?
            .is_some(),
    )
}

/// The last messages of a conversation, oldest first, as `(role, content)`.
pub async fn history(store: &Store, id: Uuid) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT role, left(content, 4000) AS content FROM lead_messages
         WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(id)
    .bind(HISTORY)
    .fetch_all(store.pool())
    .await?;
    let mut out: Vec<(String, String)> = rows
        .iter()
        .filter_map(|r| Some((r.try_get("role").ok()?, r.try_get("content").ok()?)))
        .collect();
    out.reverse();
    Ok(out)
}

/// Stores a message; returns its id.
pub async fn add_message(
    store: &Store,
    conversation: Uuid,
    role: &str,
    content: &str,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "WITH m AS (INSERT INTO lead_messages (conversation_id, role, content) VALUES ($1, $2, $3) RETURNING id)
         , u AS (UPDATE lead_conversations SET updated_at = now() WHERE id = $1)
         SELECT id FROM m",
    )
    .bind(conversation)
    .bind(role)
    .bind(content)
    .fetch_one(store.pool())
    .await?;
    row.try_get("id")
}

/// The user's stored preferences as one JSON object (key → value).
pub async fn preferences(store: &Store) -> Result<Value, sqlx::Error> {
    let rows = sqlx::query("SELECT key, value FROM lead_preferences ORDER BY key LIMIT 100")
        .fetch_all(store.pool())
        .await?;
    Ok(Value::Object(super::prefs::as_map(rows)))
}

/// What the planner is given as data besides the conversation: the stored preferences and
/// what the memory knows (the labels the fleet has resolved tracks of). Empty when neither
/// holds anything.
pub async fn planner_context(store: &Store) -> Result<Value, sqlx::Error> {
    let prefs = preferences(store).await?;
    let labels = crate::memory::known_labels(store, 20).await?;
    let mut out = serde_json::Map::new();
    if prefs.as_object().is_some_and(|o| !o.is_empty()) {
        out.insert("preferences".into(), prefs);
    }
    if !labels.is_empty() {
        out.insert(
            "memory".into(),
            json!({ "labels": labels,
            "note": "label_catalog and artist_catalog tell more" }),
        );
    }
    Ok(Value::Object(out))
}

/// The `POST /v1/chat` handler.
pub async fn chat_route(State(st): State<ApiState>, body: Bytes) -> Result<Response, ApiError> {
    let req: ChatRequest = crate::api::json_body(&body)?;
    let message = req.message.trim().to_string();
    if message.is_empty() {
        return Err(ApiError::bad_field("message", "the message is empty"));
    }
    let n = message.chars().count();
    if n > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad_field(
            "message",
            format!("the message is {n} characters long; at most {MAX_MESSAGE_CHARS} are accepted"),
        ));
    }
    let store = st.store.clone();
    let conversation = match req.conversation_id {
        Some(id) => {
            if !conversation_exists(&store, id).await.map_err(db)? {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no conversation with id {id}"),
                ));
            }
            id
        }
        None => create_conversation(&store).await.map_err(db)?,
    };
    let past = history(&store, conversation).await.map_err(db)?;
    // Preferences stated in the person's own words (never in tracklists or tool results)
    // are kept and make this request's acquisition policy; they can only tighten it.
    let stated = super::prefs::parse(&message);
    let before = super::prefs::stored(&store).await.map_err(db)?;
    if !stated.is_empty() {
        super::prefs::store(&store, &stated, "chat", false)
            .await
            .map_err(db)?;
    }
    let policy = super::prefs::merged(&before, &stated);
    let prefs = planner_context(&store).await.map_err(db)?;
    let message_id = add_message(&store, conversation, "user", &message)
        .await
        .map_err(db)?;
    metrics::counter!("cratedigger_lead_requests_total").increment(1);
    let (tx, rx) = mpsc::channel::<LeadEvent>(64);
    let ctx = LeadCtx {
        fleet: st.fleet.clone(),
        store,
        policy: (!policy.is_empty()).then_some(policy),
    };
    tokio::spawn(answer(
        ctx,
        tx,
        conversation,
        message_id,
        past,
        prefs,
        message,
    ));
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|ev| {
            let e = Event::default().event(ev.kind).data(ev.data.to_string());
            (Ok::<_, Infallible>(e), rx)
        })
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Plans, runs and follows one message, then answers; every step is an event.
pub async fn answer(
    ctx: LeadCtx,
    tx: mpsc::Sender<LeadEvent>,
    conversation: Uuid,
    message_id: i64,
    past: Vec<(String, String)>,
    prefs: Value,
    message: String,
) {
    let settings = ctx.fleet.settings.lead.clone();
    let deadline = Instant::now() + Duration::from_secs(settings.wall_time_secs.max(1));
    let mut session = Session::new(ctx.clone(), tx, conversation, message_id);
    let planned = if settings.llm_configured() {
        let p = planner::run(&mut session, &settings, &past, &prefs, &message, deadline).await;
        match p.fallback {
            Some(reason) if session.syncs.is_empty() => {
                tracing::warn!(%reason, "LLM planner unavailable; rule-based planner handles the request");
                metrics::counter!("cratedigger_lead_fallbacks_total").increment(1);
                run_rules(&mut session, &message, &reason, true).await;
                Planned {
                    llm_text: None,
                    fallback: Some(format!(
                        "{reason}; the rule-based planner handled this request"
                    )),
                }
            }
            Some(reason) => {
                metrics::counter!("cratedigger_lead_fallbacks_total").increment(1);
                let why = format!(
                    "{reason}; the LLM planner stopped and the lead answers with what was done"
                );
                session
                    .plan(
                        "llm",
                        json!({ "planner": "llm", "fallback": true, "reason": why }),
                    )
                    .await;
                Planned {
                    llm_text: p.llm_text,
                    fallback: Some(why),
                }
            }
            None => p,
        }
    } else {
        run_rules(
            &mut session,
            &message,
            "no LLM endpoint is configured (CRATEDIGGER__LEAD__BASE_URL)",
            false,
        )
        .await;
        Planned::default()
    };
    follow(&session, deadline).await;
    let mut finished = true;
    for s in &session.syncs {
        if let Ok(Some(p)) = ctx.store.sync_progress(s.sync_id).await {
            finished &= p.finished;
        }
    }
    let answer = compose_answer(&session, &planned, !finished).await;
    let text = answer["text"].as_str().unwrap_or_default().to_string();
    if let Err(e) = add_message(&ctx.store, conversation, "assistant", &text).await {
        tracing::warn!(error = %e, "could not store the answer");
    }
    session.emit("answer", answer).await;
    session
        .emit(
            "done",
            json!({ "conversation_id": conversation, "finished": finished,
                "syncs": session.syncs.iter().map(|s| s.sync_id).collect::<Vec<_>>() }),
        )
        .await;
}

/// One parsed server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// `event:` name.
    pub event: String,
    /// `data:` lines joined, parsed as JSON (Null when not JSON).
    pub data: Value,
}

/// Splits complete events off the front of `buf` (an SSE byte stream read so far).
pub fn drain_events(buf: &mut String) -> Vec<SseEvent> {
    let mut out = Vec::new();
    while let Some(end) = buf.find("\n\n") {
        let block: String = buf.drain(..end + 2).collect();
        let mut event = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if data.is_empty() && event == "message" {
            continue; // keep-alive comment
        }
        out.push(SseEvent {
            event,
            data: serde_json::from_str(&data).unwrap_or(Value::Null),
        });
    }
    out
}

/// One line for a person per event.
pub fn render(e: &SseEvent) -> String {
    let d = &e.data;
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match e.event.as_str() {
        "plan" => {
            let mut line = format!("plan ({}): {}", s(&d["planner"]), s(&d["why"]));
            if d["fallback"].as_bool() == Some(true) {
                line = format!("plan ({}): {}", s(&d["planner"]), s(&d["reason"]));
            }
            line
        }
        "tool" => format!("tool {}: {}", s(&d["name"]), s(&d["summary"])),
        "sync" => format!(
            "sync {}: {} track(s) queued ({})",
            s(&d["sync_id"]),
            d["items"],
            s(&d["lane"])
        ),
        "progress" => d["syncs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let counts: Vec<String> = p["counts"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                format!("progress {}: {}", s(&p["sync_id"]), counts.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "answer" => format!("\n{}\n", s(&d["text"])),
        "done" => format!(
            "conversation {} (continue it with --conversation {})",
            s(&d["conversation_id"]),
            s(&d["conversation_id"])
        ),
        other => format!("{other}: {d}"),
    }
}

/// `cratedigger chat`: sends the message and prints the events as they arrive (as JSON
/// lines with `json`). Returns the events seen.
pub async fn run_cli(
    base: &str,
    token: Option<&str>,
    message: &str,
    conversation: Option<&str>,
    json_out: bool,
) -> anyhow::Result<Vec<SseEvent>> {
    let mut body = json!({ "message": message });
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat", base.trim_end_matches('/')))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut resp = req.send().await.map_err(|e| {
        crate::cli::CliError(format!(
            "cannot reach the cratedigger scheduler at {base} ({e}). Start it with `cratedigger up` or set --api / CRATEDIGGER__API__URL"
        ))
    })?;
    if !resp.status().is_success() {
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        return Err(crate::cli::CliError(format!(
            "the scheduler refused the request ({status}): {}",
            v["error"].as_str().unwrap_or("no details")
        ))
        .into());
    }
    let mut buf = String::new();
    let mut seen = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        for e in drain_events(&mut buf) {
            if json_out {
                println!("{}", json!({ "event": e.event, "data": e.data }));
            } else {
                println!("{}", render(&e));
            }
            let done = e.event == "done";
            seen.push(e);
            if done {
                return Ok(seen);
            }
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_and_keepalives_skipped() {
        let mut buf = String::from(
            "event: plan\ndata: {\"planner\":\"rules\",\"why\":\"1 line\"}\n\n:\n\nevent: done\ndata: {\"conversation_id\":\"x\"}\n\nevent: tool\ndata: {\"na",
        );
        let ev = drain_events(&mut buf);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].event, "plan");
        assert_eq!(ev[0].data["why"], "1 line");
        assert!(render(&ev[0]).contains("rules"));
        assert_eq!(ev[1].event, "done");
        assert!(buf.starts_with("event: tool"));
    }
}
