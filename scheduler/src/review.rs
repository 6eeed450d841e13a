//! Approval: the ranked candidates of items waiting for a person, and the approve / reject
//! decisions, over HTTP (`/v1/review`, `/v1/items/{id}/candidates|approve|reject`) and in the
//! terminal (`cratedigger review`, `approve`, `reject`, `candidates`).
//!
//! The API never changes an item itself (only the consolidator does): it checks the request
//! against what is stored — the item waits for approval, the rank exists and can be
//! downloaded — and hands the decision to the consolidator as a job in the interactive
//! lane, answering 202. A decision that raced with another one is ignored by the
//! consolidator's state guard.

use crate::api::{ApiError, ApiState};
use crate::cli::{CliError, Client};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use cratedigger_domain::ItemState;
use cratedigger_domain::Lane;
use cratedigger_domain::jobs::{ConsolidateJob, Envelope};
use cratedigger_store::{CandidateRow, CandidateState, ItemView};
use cratedigger_workers::fleet::enqueue;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::BufRead;
use uuid::Uuid;

/// Longest "by" or "reason" text accepted (it ends up in the item's history).
const MAX_NOTE: usize = 500;

fn parse_item_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::bad_field("id", format!("'{id}' is not an item id")))
}

async fn item_or_404(st: &ApiState, item_id: Uuid) -> Result<ItemView, ApiError> {
    st.store.item(item_id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("item {item_id} does not exist"),
        )
    })
}

/// An item with its candidates: ranked downloadable ones (`rank` 1 = best) first, then buy /
/// listen options and those filtered out by a required condition.
pub fn review_view(item: &ItemView, candidates: &[CandidateRow], top_n: usize) -> Value {
    let ranked: Vec<&CandidateRow> = candidates.iter().filter(|c| c.rank.is_some()).collect();
    let options: Vec<&CandidateRow> = candidates
        .iter()
        .filter(|c| c.rank.is_none() && c.rejected.is_none())
        .collect();
    let filtered = candidates.iter().filter(|c| c.rejected.is_some()).count();
    json!({
        "item": item,
        "top": ranked.iter().take(top_n.max(1)).collect::<Vec<_>>(),
        "more_ranked": ranked.len().saturating_sub(top_n.max(1)),
        "options": options,
        "filtered_out": filtered,
    })
}

/// `GET /v1/items/{id}/candidates`: every candidate of the item with its score breakdown.
pub async fn candidates_route(
    State(st): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let item_id = parse_item_id(&id)?;
    let item = item_or_404(&st, item_id).await?;
    let candidates = st.store.item_candidates(item_id).await?;
    let mut v = review_view(&item, &candidates, st.fleet.settings.acquisition.top_n);
    v["all"] = json!(candidates);
    Ok(Json(v))
}

/// `GET /v1/review?sync=&limit=`: items waiting for approval, oldest first, each with its
/// top candidates.
pub async fn review_route(
    State(st): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let sync = match params.get("sync") {
        Some(s) => Some(
            Uuid::parse_str(s)
                .map_err(|_| ApiError::bad_field("sync", format!("'{s}' is not a sync id")))?,
        ),
        None => None,
    };
    let limit = match params.get("limit") {
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::bad_field("limit", "limit must be a number from 1 to 500"))?,
        None => 50,
    };
    let top_n = st.fleet.settings.acquisition.top_n;
    let mut out = Vec::new();
    for id in st.store.awaiting_items(sync, limit).await? {
        if let Some(item) = st.store.item(id).await? {
            let candidates = st.store.item_candidates(id).await?;
            out.push(review_view(&item, &candidates, top_n));
        }
    }
    Ok(Json(json!({ "items": out })))
}

/// Body of `POST /v1/items/{id}/approve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Rank of the candidate (1 = best; default 1).
    #[serde(default)]
    pub rank: Option<u32>,
    /// Who decided (shown in the item's history; default "api").
    #[serde(default)]
    pub by: Option<String>,
}

/// Body of `POST /v1/items/{id}/reject`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (shown in the item's history).
    #[serde(default)]
    pub reason: Option<String>,
    /// Who decided.
    #[serde(default)]
    pub by: Option<String>,
}

fn note(field: &str, v: Option<String>, default: &str) -> Result<String, ApiError> {
    let v = v.unwrap_or_else(|| default.to_string());
    let v = v.trim();
    if v.chars().count() > MAX_NOTE || v.chars().any(|c| c.is_control()) {
        return Err(ApiError::bad_field(
            field,
            format!("{field} must be at most {MAX_NOTE} characters without control characters"),
        ));
    }
    Ok(if v.is_empty() {
        default.to_string()
    } else {
        v.to_string()
    })
}

fn must_await(item: &ItemView) -> Result<(), ApiError> {
    if item.state != ItemState::AwaitingApproval {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "item {} is {}, not waiting for approval; nothing was changed",
                item.id, item.state
            ),
        ));
    }
    Ok(())
}

/// `POST /v1/items/{id}/approve {"rank": N}`: hands the decision to the consolidator.
pub async fn approve_route(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    body: Option<Json<ApproveBody>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let item_id = parse_item_id(&id)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let rank = body.rank.unwrap_or(1);
    let by = note("by", body.by, "api")?;
    let item = item_or_404(&st, item_id).await?;
    must_await(&item)?;
    let candidates = st.store.item_candidates(item_id).await?;
    let Some(c) = candidates.iter().find(|c| c.rank == Some(rank as i32)) else {
        let n = candidates.iter().filter(|c| c.rank.is_some()).count();
        return Err(ApiError::bad_field(
            "rank",
            format!("item {item_id} has {n} ranked candidates; rank {rank} is not one of them"),
        ));
    };
    if c.state != CandidateState::Offered {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "candidate #{rank} was already tried ({:?}); pick another",
                c.state
            ),
        ));
    }
    let env = Envelope::new(ConsolidateJob::Approved { item_id, rank, by });
    enqueue(&st.fleet.consolidate, Lane::Interactive, &env).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "item": item_id, "rank": rank, "queued": true, "candidate": c })),
    ))
}

/// `POST /v1/items/{id}/reject {"reason": "..."}`: the item fails, nothing is downloaded.
pub async fn reject_route(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    body: Option<Json<RejectBody>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let item_id = parse_item_id(&id)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let by = note("by", body.by, "api")?;
    let reason = note("reason", body.reason, "")?;
    let item = item_or_404(&st, item_id).await?;
    must_await(&item)?;
    let env = Envelope::new(ConsolidateJob::Rejected {
        item_id,
        by,
        reason: Some(reason).filter(|r| !r.is_empty()),
    });
    enqueue(&st.fleet.consolidate, Lane::Interactive, &env).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "item": item_id, "queued": true })),
    ))
}

// ---------------------------------------------------------------- terminal

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or("")
}

/// One candidate in a line or two: rank, score, what and where, then the reasons.
pub fn describe_candidate(c: &Value, with_factors: bool) -> String {
    let cand = &c["candidate"];
    let rank = c.get("rank").and_then(|r| r.as_i64());
    let head = match rank {
        Some(r) => format!("#{r}"),
        None => "  ".into(),
    };
    let mut what = String::new();
    if !s(cand, "artist").is_empty() {
        what.push_str(&format!("{} - ", s(cand, "artist")));
    }
    what.push_str(s(cand, "title"));
    let mut props = Vec::new();
    if !s(cand, "format").is_empty() {
        props.push(s(cand, "format").to_ascii_uppercase());
    }
    if let Some(b) = cand.get("bitrate_kbps").and_then(|b| b.as_u64()) {
        props.push(format!("{b} kbps"));
    }
    if let Some(d) = cand.get("duration_ms").and_then(|d| d.as_u64()) {
        props.push(format!("{}:{:02}", d / 60_000, (d / 1000) % 60));
    }
    if let Some(p) = cand.get("peer") {
        let mut peer = format!("peer {}", s(p, "username"));
        if let Some(q) = p.get("queue_length").and_then(|q| q.as_u64()) {
            peer.push_str(&format!(" (queue {q})"));
        }
        props.push(peer);
    }
    if !s(cand, "price").is_empty() {
        props.push(s(cand, "price").to_string());
    }
    let score = c.get("score").and_then(|x| x.as_f64()).unwrap_or(0.0);
    let mut out = format!(
        "{head:>3} {score:>6.1}  [{}] {what}  {}",
        s(cand, "source"),
        props.join(" · ")
    );
    if rank.is_none() && !s(cand, "url").is_empty() {
        out.push_str(&format!(
            "\n            {} {}",
            s(cand, "availability"),
            s(cand, "url")
        ));
    }
    if with_factors && let Some(f) = c.get("factors").and_then(|f| f.as_array()) {
        let parts: Vec<String> = f
            .iter()
            .map(|x| {
                format!(
                    "{} {:+.0} ({})",
                    s(x, "factor"),
                    x.get("points").and_then(|p| p.as_f64()).unwrap_or(0.0),
                    s(x, "detail")
                )
            })
            .collect();
        if !parts.is_empty() {
            out.push_str(&format!("\n            {}", parts.join(", ")));
        }
    }
    if !s(c, "failure").is_empty() {
        out.push_str(&format!("\n            tried: {}", s(c, "failure")));
    }
    out
}

/// Prints one review entry (item + top candidates + options).
pub fn print_review(v: &Value) {
    let item = &v["item"];
    println!(
        "\n{}  line {}  {}",
        s(item, "id"),
        item.get("line_no").and_then(|l| l.as_u64()).unwrap_or(0),
        s(item, "input_line")
    );
    if let Some(top) = v["top"].as_array() {
        for c in top {
            println!("{}", describe_candidate(c, true));
        }
    }
    let more = v["more_ranked"].as_u64().unwrap_or(0);
    if more > 0 {
        println!(
            "    … {more} more ranked (cratedigger candidates {})",
            s(item, "id")
        );
    }
    if let Some(opts) = v["options"].as_array().filter(|o| !o.is_empty()) {
        println!("    buy / listen:");
        for c in opts.iter().take(3) {
            println!("{}", describe_candidate(c, false));
        }
    }
}

/// `cratedigger review`: goes through waiting items one by one; a number approves that
/// candidate, `r` rejects, `s` skips, `q` stops. Reads answers from standard input, so it
/// works in a terminal and from a script.
pub async fn review_interactive(
    client: &Client,
    sync: Option<&str>,
) -> Result<(usize, usize), CliError> {
    let path = match sync {
        Some(id) => format!("/v1/review?sync={id}&limit=500"),
        None => "/v1/review?limit=500".to_string(),
    };
    let list = client.get(&path).await?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!("Nothing waits for approval.");
        return Ok((0, 0));
    }
    println!("{} items wait for approval.", items.len());
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let (mut approved, mut rejected) = (0, 0);
    for v in &items {
        print_review(v);
        let id = s(&v["item"], "id").to_string();
        let max = v["top"].as_array().map(|a| a.len()).unwrap_or(0);
        loop {
            println!("approve [1-{max}], r reject, s skip, q quit > ");
            let Some(Ok(answer)) = lines.next() else {
                return Ok((approved, rejected));
            };
            match answer.trim() {
                "q" => return Ok((approved, rejected)),
                "s" | "" => break,
                "r" => {
                    client
                        .post_json(
                            &format!("/v1/items/{id}/reject"),
                            &json!({ "by": "cli review" }),
                        )
                        .await?;
                    rejected += 1;
                    println!("rejected");
                    break;
                }
                n => match n.parse::<u32>() {
                    Ok(rank) if rank >= 1 && (rank as usize) <= max => {
                        client
                            .post_json(
                                &format!("/v1/items/{id}/approve"),
                                &json!({ "rank": rank, "by": "cli review" }),
                            )
                            .await?;
                        approved += 1;
                        println!("approved #{rank}: downloading");
                        break;
                    }
                    _ => println!("'{n}' is not one of the choices"),
                },
            }
        }
    }
    Ok((approved, rejected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_lines_show_what_a_dj_decides_on() {
        let c = json!({
            "rank": 1, "score": 87.5, "state": "offered",
            "candidate": {"source": "soulseek", "title": "1-03 Quiet Sky", "format": "mp3",
                          "bitrate_kbps": 236, "duration_ms": 217000,
                          "peer": {"username": "weirdo1982", "queue_length": 0}},
            "factors": [{"factor": "format", "points": 20.0, "detail": "MP3 236 kbps"}]
        });
        let line = describe_candidate(&c, true);
        assert!(line.contains("#1"), "{line}");
        assert!(
            line.contains("MP3 · 236 kbps · 3:37 · peer weirdo1982 (queue 0)"),
            "{line}"
        );
        assert!(line.contains("format +20 (MP3 236 kbps)"), "{line}");
        let buy = json!({"rank": null, "score": 10.0,
            "candidate": {"source": "bandcamp", "title": "Quiet Sky", "availability": "purchase",
                          "url": "https://x.bandcamp.com/track/quiet-sky", "price": "€1"}});
        let line = describe_candidate(&buy, false);
        assert!(
            line.contains("purchase https://x.bandcamp.com/track/quiet-sky"),
            "{line}"
        );
    }

    #[test]
    fn notes_are_bounded_and_printable() {
        assert_eq!(note("by", None, "api").unwrap(), "api");
        assert_eq!(note("by", Some("  ".into()), "api").unwrap(), "api");
        assert!(note("reason", Some("x".repeat(501)), "").is_err());
        let err = note("reason", Some("a\u{1b}[31m".into()), "").unwrap_err();
        assert_eq!(err.field(), Some("reason"));
    }
}
