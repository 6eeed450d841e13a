//! The shared streaming download (`download.rs`) against local servers: a complete file
//! arrives byte for byte and is renamed from `.part`; a stalled transfer, a file over the
//! size limit (announced or not), an overall timeout, an HTTP error and a cancelled call
//! each fail with a sentence and leave no partial file in the staging directory.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use cratedigger_domain::ErrorClass;
use cratedigger_platforms::config::HttpConfig;
use cratedigger_platforms::download::{Downloader, FinalName};
use cratedigger_platforms::platform::{PlatformInfo, RateLimit};
use cratedigger_platforms::{DownloadLimits, PlatformContext};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static INFO: PlatformInfo = PlatformInfo {
    id: "dltest",
    display_name: "Download test",
    supports_isrc: false,
    needs_credentials: false,
    default_rate_limit: RateLimit {
        requests: 1000,
        per: Duration::from_secs(1),
    },
};

fn downloader() -> Downloader {
    Downloader::new(
        &PlatformContext::default(),
        &INFO,
        &HttpConfig::default(),
        "cratedigger-test",
    )
    .unwrap()
}

/// A fresh staging directory under the system temp dir.
fn staging(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cratedigger-dl-{name}-{}-{}",
        std::process::id(),
        ulid::Ulid::new()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Deterministic bytes that are not all one value (so a mix-up shows).
fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

async fn serve(body: Vec<u8>, content_type: &'static str, announce_length: bool) -> SocketAddr {
    let body = Arc::new(body);
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move {
            let mut r = if announce_length {
                Response::new(Body::from((*body).clone()))
            } else {
                // a stream without Content-Length: the limit must hold while it arrives
                let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                    body.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
                Response::new(Body::from_stream(futures::stream::iter(chunks)))
            };
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Announces `len` bytes, sends `send` of them, then holds the connection open.
async fn stalling_server(len: usize, send: usize) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let held = Arc::new(Mutex::new(Vec::new()));
        while let Ok((mut sock, _)) = listener.accept().await {
            let held = held.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: audio/flac\r\ncontent-length: {len}\r\n\r\n"
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&payload(send)).await;
                let _ = sock.flush().await;
                held.lock().unwrap().push(sock);
            });
        }
    });
    addr
}

fn limits(stall_ms: u64, max_bytes: u64, overall_ms: u64) -> DownloadLimits {
    DownloadLimits {
        stall_timeout: Duration::from_millis(stall_ms),
        max_bytes,
        overall_timeout: Duration::from_millis(overall_ms),
    }
}

#[tokio::test]
async fn a_complete_file_arrives_byte_for_byte_and_reports_progress() {
    let body = payload(300_000);
    let addr = serve(body.clone(), "audio/flac", true).await;
    let dir = staging("ok");
    let dest = dir.join("item-1.bin");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = seen.clone();
    let progress = move |b: u64, t: Option<u64>| rec.lock().unwrap().push((b, t));
    let got = downloader()
        .fetch(
            &format!("http://{addr}/file"),
            &dest,
            FinalName::FromContentType,
            &limits(5_000, 10_000_000, 30_000),
            &progress,
        )
        .await
        .unwrap();
    assert_eq!(
        got.path,
        dir.join("item-1.flac"),
        "extension from Content-Type"
    );
    assert_eq!(got.bytes, 300_000);
    assert_eq!(std::fs::read(&got.path).unwrap(), body);
    assert_eq!(files_in(&dir), vec!["item-1.flac"], "no .part left");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.last(), Some(&(300_000, Some(300_000))));
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress never goes back"
    );
}

#[tokio::test]
async fn an_unknown_content_type_keeps_the_callers_name() {
    let addr = serve(payload(1000), "application/octet-stream", true).await;
    let dir = staging("name");
    let dest = dir.join("x.flac");
    let got = downloader()
        .fetch(
            &format!("http://{addr}/f"),
            &dest,
            FinalName::FromContentType,
            &limits(5_000, 10_000, 30_000),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(got.path, dest);
}

#[tokio::test]
async fn a_stalled_transfer_fails_and_leaves_no_partial_file() {
    let addr = stalling_server(1_000_000, 50_000).await;
    let dir = staging("stall");
    let started = std::time::Instant::now();
    let e = downloader()
        .fetch(
            &format!("http://{addr}/slow"),
            &dir.join("a.flac"),
            FinalName::AsGiven,
            &limits(700, 10_000_000, 30_000),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Network);
    assert!(e.to_string().contains("stalled"), "{e}");
    assert!(e.to_string().contains("50000 bytes"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
}

#[tokio::test]
async fn an_announced_file_over_the_limit_is_refused_before_writing() {
    let addr = serve(payload(200_000), "audio/flac", true).await;
    let dir = staging("big-announced");
    let e = downloader()
        .fetch(
            &format!("http://{addr}/big"),
            &dir.join("b.flac"),
            FinalName::AsGiven,
            &limits(5_000, 100_000, 30_000),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::BadRequest);
    assert!(
        e.to_string()
            .contains("larger than the download limit of 100000 bytes"),
        "{e}"
    );
    assert!(files_in(&dir).is_empty());
}

#[tokio::test]
async fn a_streamed_file_over_the_limit_is_cut_and_removed() {
    let addr = serve(payload(500_000), "audio/flac", false).await;
    let dir = staging("big-streamed");
    let e = downloader()
        .fetch(
            &format!("http://{addr}/big"),
            &dir.join("c.flac"),
            FinalName::AsGiven,
            &limits(5_000, 100_000, 30_000),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::BadRequest, "{e}");
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
}

#[tokio::test]
async fn the_overall_timeout_stops_a_slow_but_moving_transfer() {
    // bytes keep coming (so no stall), but slower than the overall limit allows
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
                    .await;
                for _ in 0..100 {
                    if sock.write_all(&[7u8; 100]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
    });
    let dir = staging("overall");
    let e = downloader()
        .fetch(
            &format!("http://{addr}/trickle"),
            &dir.join("d.flac"),
            FinalName::AsGiven,
            &limits(2_000, 10_000_000, 800),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("overall limit"), "{e}");
    assert!(files_in(&dir).is_empty());
}

#[tokio::test]
async fn http_errors_are_classified_and_nothing_is_written() {
    let app = Router::new().fallback(|| async {
        let mut r = Response::new(Body::from("gone"));
        *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
        r
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = staging("404");
    let e = downloader()
        .fetch(
            &format!("http://{addr}/missing?sig=SECRET"),
            &dir.join("e.flac"),
            FinalName::AsGiven,
            &limits(2_000, 1_000, 5_000),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::NotFound);
    assert!(
        !e.to_string().contains("SECRET"),
        "signed queries stay out of errors: {e}"
    );
    assert!(files_in(&dir).is_empty());
}

#[tokio::test]
async fn a_cancelled_download_leaves_no_partial_file() {
    let addr = stalling_server(1_000_000, 10_000).await;
    let dir = staging("cancel");
    let dest = dir.join("f.flac");
    let dl = downloader();
    let lim = limits(30_000, 10_000_000, 60_000);
    let url = format!("http://{addr}/slow");
    let fut = dl.fetch(&url, &dest, FinalName::AsGiven, &lim, &|_, _| {});
    // the transfer is running (the .part exists) when the caller gives up
    let res = tokio::time::timeout(Duration::from_millis(700), fut).await;
    assert!(res.is_err(), "the stalling server never completes");
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
}
