//! Per-process telemetry: logs (`tracing`, JSON when asked), Prometheus metrics through the
//! `metrics` facade (one recorder for the whole process; see docs/adr/0002), and the
//! `/metrics`, `/healthz`, `/readyz` endpoints every binary serves.

use axum::Router;
use axum::routing::get;
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static READY: AtomicBool = AtomicBool::new(false);
static CHECKS: RwLock<Vec<(&'static str, ReadinessCheck)>> = RwLock::new(Vec::new());

/// How long one dependency may take to answer a readiness probe. Kubernetes' default probe
/// timeout is 1 s and ours is 3 s (k8s/base): a check must give up before the kubelet does,
/// so the answer names the dependency instead of being a bare probe timeout.
pub const READINESS_CHECK_TIMEOUT: Duration = Duration::from_millis(2500);

/// A dependency the process needs before it can take work (Redis, PostgreSQL), asked again
/// on every `/readyz` so a pod that loses its database leaves the Service instead of taking
/// jobs it cannot finish. `Err` carries a sentence naming what is unreachable.
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

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

/// Marks the start-up done (connections made, migrations applied, handlers built). Until
/// then `/readyz` answers 503 "starting" whatever the dependency checks say.
pub fn set_ready(ready: bool) {
    READY.store(ready, Ordering::SeqCst);
}

/// Registers a dependency check run by every `/readyz` (replacing one of the same name, so a
/// process that connects twice does not probe twice).
pub fn add_readiness_check(name: &'static str, check: ReadinessCheck) {
    let mut checks = CHECKS.write().unwrap_or_else(|e| e.into_inner());
    checks.retain(|(n, _)| *n != name);
    checks.push((name, check));
}

/// Runs the registered checks concurrently, each bounded by [`READINESS_CHECK_TIMEOUT`]; the
/// failures as `"name: sentence"`, empty when every dependency answered.
pub async fn readiness_failures() -> Vec<String> {
    let checks: Vec<_> = CHECKS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(n, c)| (*n, c.clone()))
        .collect();
    let runs = checks.into_iter().map(|(name, check)| async move {
        match tokio::time::timeout(READINESS_CHECK_TIMEOUT, check()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{name}: {e}")),
            Err(_) => Some(format!(
                "{name}: no answer within {} ms",
                READINESS_CHECK_TIMEOUT.as_millis()
            )),
        }
    });
    futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// `/readyz`: 503 "starting" before [`set_ready`], 503 naming each unreachable dependency
/// (and logged, since the kubelet does not keep probe bodies), else 200 "ready".
async fn readyz() -> (axum::http::StatusCode, String) {
    if !READY.load(Ordering::SeqCst) {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "starting".into(),
        );
    }
    let failures = readiness_failures().await;
    metrics::gauge!("cratedigger_ready").set(if failures.is_empty() { 1.0 } else { 0.0 });
    if failures.is_empty() {
        (axum::http::StatusCode::OK, "ready".into())
    } else {
        let body = format!("not ready: {}", failures.join("; "));
        tracing::warn!(failures = %failures.join("; "), "readiness check failed; this process stays out of service until its dependencies answer");
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, body)
    }
}

/// Routes for `/metrics`, `/healthz` (alive) and `/readyz` (ready to take work); merged
/// into the scheduler's API and served alone by worker binaries.
pub fn ops_router() -> Router {
    let handle = metrics_handle();
    Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
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
