//! Test support: finding the reference kit (read in place, never copied) and small local
//! HTTP servers (axum, 127.0.0.1:0) that answer from a script and record what they were asked.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use cratedigger_platforms::http::{HttpClient, HttpClientOptions, RetryPolicy, Sleeper};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `<kit>/fixtures`: `$CRATEDIGGER_KIT_DIR` when set, else `../shared` beside the workspace
/// root (this crate is `<root>/shared/platforms`). Panics naming where it looked.
pub fn fixtures_dir() -> PathBuf {
    let looked: Vec<PathBuf> =
        match std::env::var_os("CRATEDIGGER_KIT_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => vec![PathBuf::from(dir)],
            None => vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")],
        };
    for kit in &looked {
        let fx = kit.join("fixtures");
        if fx.join("musicbrainz").is_dir() && fx.join("deezer").is_dir() {
            return fx;
        }
    }
    panic!(
        "reference kit not found (need fixtures/musicbrainz and fixtures/deezer); looked in: {}; set CRATEDIGGER_KIT_DIR",
        looked
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The bytes of a kit payload, e.g. `fixture("deezer/track_3135556.json")`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn json(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            body,
            retry_after: None,
        }
    }
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: Vec::new(),
            retry_after: None,
        }
    }
    pub fn retry_after(mut self, v: &str) -> Self {
        self.retry_after = Some(v.to_string());
        self
    }
    fn into_response(self) -> Response {
        let mut r = Response::new(Body::from(self.body));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(v) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_str(&v).unwrap());
        }
        r
    }
}

type Route = Arc<dyn Fn(&Uri) -> Reply + Send + Sync>;

/// An axum server: first the scripted replies in order, then `route` for every request.
pub struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub async fn start(
        script: Vec<Reply>,
        route: impl Fn(&Uri) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let route: Route = Arc::new(route);
        let rec = requests.clone();
        let app = Router::new().fallback(move |uri: Uri| {
            let rec = rec.clone();
            let script = script.clone();
            let route = route.clone();
            async move {
                rec.lock().unwrap().push(uri.to_string());
                let next = script.lock().unwrap().pop_front();
                next.unwrap_or_else(|| route(&uri)).into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, requests }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A raw TCP server that drops the first `drops` connections without answering (reset /
/// "connection closed before message completed"), then answers 200 with `body`.
pub async fn dropping_server(drops: usize, body: Vec<u8>) -> (SocketAddr, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(0usize));
    let count = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let n = {
                let mut c = count.lock().unwrap();
                *c += 1;
                *c
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                if n <= drops {
                    drop(sock);
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (addr, seen)
}

/// A server that accepts and never answers (client timeouts).
pub async fn silent_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    addr
}

/// A sleeper that records every wait and returns at once, so tests assert the schedule
/// against a real socket without sleeping.
pub fn recording_sleeper() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let sleeper = Sleeper::from_fn(move |d| {
        w.lock().unwrap().push(d);
        async {}
    });
    (sleeper, waits)
}

/// An HTTP client for `platform` with the product policy (jitter as given), a short timeout
/// and a recording sleeper.
pub fn client(platform: &str, jitter: bool) -> (HttpClient, Arc<Mutex<Vec<Duration>>>) {
    client_with(
        platform,
        HttpClientOptions {
            timeout: Duration::from_secs(5),
            policy: RetryPolicy {
                jitter,
                ..RetryPolicy::default()
            },
            ..HttpClientOptions::default()
        },
    )
}

/// Like [`client`] with explicit options.
pub fn client_with(
    platform: &str,
    opts: HttpClientOptions,
) -> (HttpClient, Arc<Mutex<Vec<Duration>>>) {
    let (sleeper, waits) = recording_sleeper();
    (
        HttpClient::new(platform, opts)
            .unwrap()
            .with_sleeper(sleeper),
        waits,
    )
}

pub fn secs(waits: &Arc<Mutex<Vec<Duration>>>) -> Vec<u64> {
    waits.lock().unwrap().iter().map(|d| d.as_secs()).collect()
}

/// Requests seen: path+query and `Authorization` header.
pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A local server answering each request from a routing function (status, JSON body),
/// recording each request's path+query and its `Authorization` header: the platforms'
/// contract tests check both which URLs a client asks for and which credential it sends.
pub struct RoutedServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    seen: Seen,
}

impl RoutedServer {
    /// Serves `route` on a free loopback port until the test ends.
    pub async fn start(
        route: impl Fn(&Uri) -> (u16, Vec<u8>) + Send + Sync + 'static,
    ) -> RoutedServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rec = seen.clone();
        let route = Arc::new(route);
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let rec = rec.clone();
            let route = route.clone();
            async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                rec.lock().unwrap().push((uri.to_string(), auth));
                let (status, body) = route(&uri);
                let mut r = Response::new(Body::from(body));
                *r.status_mut() = StatusCode::from_u16(status).unwrap();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RoutedServer {
            base: format!("http://{addr}"),
            seen,
        }
    }

    /// Path and query of every request, in order.
    pub fn paths(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The `Authorization` header of every request, in order.
    pub fn auth_headers(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, a)| a.clone())
            .collect()
    }
}
