//! Per-process telemetry: logs (`tracing`, JSON when asked), Prometheus metrics through the
//! `metrics` facade (one recorder for the whole process; see docs/adr/0002), and the
//! `/metrics`, `/healthz`, `/readyz` endpoints every binary serves.

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static READY: AtomicBool = AtomicBool::new(false);

/// Starts logging once per process. `CRATEDIGGER_LOG_FORMAT=json` gives JSON lines for
/// log collectors; `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("CRATEDIGGER_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Installs the process-wide Prometheus recorder (idempotent) and returns its handle.
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    &[
                        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                        300.0, 900.0, 3600.0,
                    ],
                )
                .expect("static bucket list is valid")
                .build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Marks the process ready (dependencies reachable, migrations applied).
pub fn set_ready(ready: bool) {
    READY.store(ready, Ordering::SeqCst);
}

/// Routes for `/metrics`, `/healthz` (alive) and `/readyz` (ready to take work); merged
/// into the scheduler's API and served alone by worker binaries.
pub fn ops_router() -> Router {
    let handle = metrics_handle();
    Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|| async {
                if READY.load(Ordering::SeqCst) {
                    (axum::http::StatusCode::OK, "ready")
                } else {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
                }
            }),
        )
}

/// Serves [`ops_router`] on `addr` in the background (workers' metrics port).
pub async fn serve_ops(addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    // Built (and the recorder installed) here, not in the spawned task: series the caller
    // registers right after this returns must reach the real recorder, not the no-op one.
    let router = ops_router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(bound)
}
