//! `GET /v1/events`: what changed, as server-sent events, so the page updates without
//! reloading. `item` events are the item state changes (`item_events` rows newer than the
//! last one sent, polled every 500 ms, at most [`BATCH`] per poll), `queues` the queue
//! depths (every 2 s, only when they changed).
//!
//! Cost when nobody listens: nothing (each stream polls only while its client is
//! connected; dropping the connection drops the stream). While listening: one indexed
//! primary-key range query per client per 500 ms and a Redis pipeline per 2 s. At most
//! [`MAX_LISTENERS`] streams are open at once (503 beyond), so a misbehaving client cannot
//! multiply the load. `Last-Event-ID` (sent by `EventSource` when it reconnects) resumes
//! after that event; without it the stream starts at the newest event.

use crate::api::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;
use sqlx::Row;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Most item events sent per poll (a burst is spread over the following polls).
pub const BATCH: i64 = 200;
/// Most event streams open at once per scheduler.
pub const MAX_LISTENERS: usize = 32;
/// How often the item events are polled.
const POLL: Duration = Duration::from_millis(500);
/// Queue depths are sent every this many polls.
const QUEUES_EVERY: u32 = 4;

static LISTENERS: AtomicUsize = AtomicUsize::new(0);

/// Counts an open stream; dropped (with the stream) when the client goes.
struct Listener;

impl Listener {
    fn try_new() -> Option<Listener> {
        LISTENERS
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_LISTENERS).then_some(n + 1)
            })
            .ok()
            .map(|_| Listener)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        LISTENERS.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Cursor {
    st: ApiState,
    last_id: i64,
    ticks: u32,
    last_queues: Option<serde_json::Value>,
    _listener: Listener,
}

/// Item events after `after`, oldest first, at most [`BATCH`].
async fn item_events(
    st: &ApiState,
    after: i64,
) -> Result<Vec<(i64, serde_json::Value)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT e.id, e.item_id, i.sync_id, e.from_state, e.to_state, e.reason, e.at
         FROM item_events e JOIN items i ON i.id = e.item_id
         WHERE e.id > $1 ORDER BY e.id LIMIT $2",
    )
    .bind(after)
    .bind(BATCH)
    .fetch_all(st.store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("id")?;
        out.push((
            id,
            json!({
                "id": id,
                "item_id": r.try_get::<uuid::Uuid, _>("item_id")?,
                "sync_id": r.try_get::<uuid::Uuid, _>("sync_id")?,
                "from": r.try_get::<Option<String>, _>("from_state")?,
                "to": r.try_get::<String, _>("to_state")?,
                "reason": r.try_get::<Option<String>, _>("reason")?,
                "at": r.try_get::<chrono::DateTime<chrono::Utc>, _>("at")?,
            }),
        ));
    }
    Ok(out)
}

async fn queues(st: &ApiState) -> Option<serde_json::Value> {
    let mut out = Vec::new();
    for q in st.fleet.all_queues() {
        out.push(q.depth().await.ok()?);
    }
    serde_json::to_value(out).ok()
}

/// One poll: the events to send now (possibly none).
async fn step(c: &mut Cursor) -> Vec<Event> {
    let mut out = Vec::new();
    if c.ticks > 0 {
        tokio::time::sleep(POLL).await;
    }
    if c.ticks.is_multiple_of(QUEUES_EVERY)
        && let Some(q) = queues(&c.st).await
        && c.last_queues.as_ref() != Some(&q)
    {
        out.push(Event::default().event("queues").data(q.to_string()));
        c.last_queues = Some(q);
    }
    c.ticks = c.ticks.wrapping_add(1);
    match item_events(&c.st, c.last_id).await {
        Ok(evs) => {
            for (id, v) in evs {
                c.last_id = id;
                out.push(
                    Event::default()
                        .event("item")
                        .id(id.to_string())
                        .data(v.to_string()),
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "events: could not read item events"),
    }
    out
}

/// The `GET /v1/events` handler.
pub async fn events_route(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(listener) = Listener::try_new() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{MAX_LISTENERS} event streams are open already; try again later"),
        ));
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0);
    let last_id = match resume {
        Some(n) => n,
        None => sqlx::query_scalar::<_, Option<i64>>("SELECT max(id) FROM item_events")
            .fetch_one(st.store.pool())
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the database is unavailable: {e}"),
                )
            })?
            .unwrap_or(0),
    };
    let hello = Event::default()
        .event("hello")
        .id(last_id.to_string())
        .data(json!({ "last_id": last_id, "poll_ms": POLL.as_millis() as u64 }).to_string());
    let cursor = Cursor {
        st,
        last_id,
        ticks: 0,
        last_queues: None,
        _listener: listener,
    };
    let body = futures::stream::unfold(cursor, |mut c| async move {
        let evs = step(&mut c).await;
        Some((futures::stream::iter(evs), c))
    })
    .flatten()
    .map(Ok::<_, Infallible>);
    let stream = futures::stream::once(async move { Ok::<_, Infallible>(hello) }).chain(body);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_capped_and_released() {
        let before = LISTENERS.load(Ordering::SeqCst);
        let held: Vec<Listener> = std::iter::from_fn(Listener::try_new).take(1000).collect();
        assert_eq!(held.len(), MAX_LISTENERS - before);
        assert!(Listener::try_new().is_none());
        drop(held);
        let again = Listener::try_new();
        assert!(again.is_some());
    }
}
