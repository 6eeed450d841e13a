//! A fake OpenAI-compatible endpoint (`POST /v1/chat/completions`) that plays a script, for
//! the lead agent's tests: replies with `tool_calls`, final messages, errors and slow
//! answers, and records every request it was sent.
//!
//! **Built from the public API reference, not recorded**: the reference kit holds no
//! OpenAI recording (its fixtures are music platforms only), so the shapes follow the
//! chat completions reference: a `chat.completion` object with `choices[].message`
//! (`role`, `content`, `tool_calls: [{id, type: "function", function: {name, arguments}}]`
//! where `arguments` is a JSON document in a string), `finish_reason` (`tool_calls` /
//! `stop`) and `usage` (`prompt_tokens`, `completion_tokens`, `total_tokens`); errors are
//! `{"error": {"message", "type", "param", "code"}}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Answer this `chat.completion` body.
    Reply(Value),
    /// Wait, then answer.
    Slow(Duration, Value),
    /// Answer every request from now on with this HTTP status and an error body (clients
    /// retry 5xx, so a one-shot error would be hidden by the retry).
    FailAlways(u16),
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Scripted>>,
    requests: Mutex<Vec<Value>>,
    auth: Mutex<Vec<String>>,
    arrivals: Mutex<Vec<Instant>>,
    seq: AtomicU64,
}

/// A running fake endpoint; stops when dropped.
pub struct FakeOpenAi {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeOpenAi {
    /// Starts on 127.0.0.1 (any free port) with `script`.
    pub async fn start(script: Vec<Scripted>) -> std::io::Result<FakeOpenAi> {
        let inner = Arc::new(Inner {
            script: Mutex::new(script.into()),
            ..Default::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeOpenAi { addr, inner, task })
    }

    /// The base URL to configure (`…/v1`, as async-openai expects).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.inner
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// When each request arrived, in order (the benchmark's clock for the LLM's part).
    pub fn arrivals(&self) -> Vec<Instant> {
        self.inner
            .arrivals
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Appends answers to the script (the benchmark scripts one request at a time).
    pub fn push(&self, more: impl IntoIterator<Item = Scripted>) {
        if let Ok(mut s) = self.inner.script.lock() {
            s.extend(more);
        }
    }

    /// The `Authorization` headers received.
    pub fn auth_headers(&self) -> Vec<String> {
        self.inner
            .auth
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

fn completion(id: u64, message: Value, finish: &str) -> Value {
    json!({
        "id": format!("chatcmpl-fake{id}"),
        "object": "chat.completion",
        "created": 1_764_000_000u32,
        "model": "fake-model",
        "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
        "usage": { "prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150 }
    })
}

/// A reply asking for these tool calls (`arguments` serialised as the API does).
pub fn tool_calls(calls: &[(&str, Value)]) -> Value {
    let raw: Vec<(&str, String)> = calls.iter().map(|(n, a)| (*n, a.to_string())).collect();
    tool_calls_raw(&raw)
}

/// A reply asking for tool calls with raw `arguments` strings (to send malformed ones).
pub fn tool_calls_raw(calls: &[(&str, String)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| {
            json!({ "id": format!("call_{i}_{name}"), "type": "function",
                "function": { "name": name, "arguments": args } })
        })
        .collect();
    completion(
        0,
        json!({ "role": "assistant", "content": null, "tool_calls": calls }),
        "tool_calls",
    )
}

/// A final reply in words.
pub fn final_message(text: &str) -> Value {
    completion(0, json!({ "role": "assistant", "content": text }), "stop")
}

async fn completions(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let arrived = Instant::now();
    let n = inner.seq.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut a) = inner.arrivals.lock() {
        a.push(arrived);
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Ok(mut r) = inner.requests.lock() {
        r.push(body);
    }
    if let (Ok(mut a), Some(h)) = (
        inner.auth.lock(),
        headers.get("authorization").and_then(|v| v.to_str().ok()),
    ) {
        a.push(h.to_string());
    }
    let next = inner.script.lock().ok().and_then(|mut s| match s.front() {
        Some(Scripted::FailAlways(_)) => s.front().cloned(),
        _ => s.pop_front(),
    });
    let with_id = |mut v: Value| {
        v["id"] = json!(format!("chatcmpl-fake{n}"));
        axum::Json(v).into_response()
    };
    match next {
        None => with_id(final_message("(the script has ended)")),
        Some(Scripted::Reply(v)) => with_id(v),
        Some(Scripted::Slow(d, v)) => {
            tokio::time::sleep(d).await;
            with_id(v)
        }
        Some(Scripted::FailAlways(status)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(json!({ "error": { "message": "The server had an error while processing your request.",
                "type": "server_error", "param": null, "code": null } })),
        )
            .into_response(),
    }
}
