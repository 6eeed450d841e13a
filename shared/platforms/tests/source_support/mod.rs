//! Test support for the acquisition and discovery sources: a local site that answers from a
//! routing function with the content type of each answer (HTML pages, JSON, audio) and
//! records every request, a fresh staging directory, and a generated WAV file.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One answer of the local site.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn html(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=UTF-8",
            body,
        }
    }
    pub fn json(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type: "application/json; charset=utf-8",
            body,
        }
    }
    pub fn audio(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            body,
        }
    }
    pub fn status(status: u16) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: b"no".to_vec(),
        }
    }
}

/// A local site on 127.0.0.1 answering every request from `route` (path and query).
pub struct Site {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Site {
    pub async fn start(route: impl Fn(&Uri) -> Answer + Send + Sync + 'static) -> Self {
        Self::start_at(move |_, uri| route(uri)).await
    }

    /// Like [`Site::start`], the route also getting the site's own base address (for
    /// answers that link back to the site).
    pub async fn start_at(route: impl Fn(&str, &Uri) -> Answer + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rec = seen.clone();
        let route = Arc::new(route);
        let app = Router::new().fallback(move |uri: Uri| {
            let rec = rec.clone();
            let route = route.clone();
            let base = base.clone();
            async move {
                rec.lock().unwrap().push(uri.to_string());
                let a = route(&base, &uri);
                let mut r = Response::new(Body::from(a.body));
                *r.status_mut() = StatusCode::from_u16(a.status).unwrap();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                );
                r
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, seen }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, as path and query.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// A fresh, empty staging directory.
pub fn staging(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cratedigger-src-{name}-{}-{}",
        std::process::id(),
        ulid::Ulid::new()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// File names in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A 16-bit stereo 44.1 kHz WAV of `seconds` of a 440 Hz tone, made here (no payload).
pub fn wav(seconds: f32) -> Vec<u8> {
    let rate = 44_100u32;
    let frames = (rate as f32 * seconds) as u32;
    let data_len = frames * 4;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&2u16.to_le_bytes()); // stereo
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 4).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = ((i as f32 / rate as f32 * 440.0 * std::f32::consts::TAU).sin() * 12_000.0) as i16;
        out.extend_from_slice(&s.to_le_bytes());
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}
