//! Wiring shared by every binary: connections, queues, and running one or more roles in a
//! process until SIGTERM / Ctrl-C.

use crate::settings::Settings;
use cratedigger_domain::jobs::{self, Envelope, queues};
use cratedigger_domain::{ErrorClass, Lane};
use cratedigger_fleet::{
    Delivery, JobError, JobHandler, Queue, QueueError, WorkerOptions, run_worker,
};
use cratedigger_platforms::{PlatformContext, Registry, SourceRegistry};
use cratedigger_store::Store;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A worker role: one queue, one binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Plans research for a wanted track.
    ResearchLead,
    /// Queries metadata platforms.
    MetadataScout,
    /// The single writer.
    Consolidator,
    /// Asks every acquisition source where a copy can be had.
    DiscoveryScout,
    /// Downloads approved candidates into staging.
    AcquisitionScout,
    /// Verifies (decode, fake-lossless check) and tags staged files.
    QualityAssessor,
}

impl Role {
    /// Every role `cratedigger up` runs (the acquisition roles idle unless acquisition is on).
    pub const ALL: [Role; 6] = [
        Role::ResearchLead,
        Role::MetadataScout,
        Role::Consolidator,
        Role::DiscoveryScout,
        Role::AcquisitionScout,
        Role::QualityAssessor,
    ];

    /// Binary / metrics name.
    pub fn name(self) -> &'static str {
        match self {
            Role::ResearchLead => "research-lead",
            Role::MetadataScout => "metadata-scout",
            Role::Consolidator => "consolidator",
            Role::DiscoveryScout => "discovery-scout",
            Role::AcquisitionScout => "acquisition-scout",
            Role::QualityAssessor => "quality-assessor",
        }
    }

    /// The queue the role consumes.
    pub fn queue(self) -> &'static str {
        match self {
            Role::ResearchLead => queues::RESEARCH,
            Role::MetadataScout => queues::METADATA,
            Role::Consolidator => queues::CONSOLIDATE,
            Role::DiscoveryScout => queues::DISCOVERY,
            Role::AcquisitionScout => queues::DOWNLOAD,
            Role::QualityAssessor => queues::ANALYSIS,
        }
    }
}

/// Makes `/readyz` ask Redis (PING on the fleet's connection) and PostgreSQL (`SELECT 1` on a
/// one-connection lazy pool of its own, so a saturated job pool cannot make a healthy
/// database look down) on every probe: every role needs both to finish a job.
fn register_readiness_checks(settings: &Settings, conn: &redis::aio::ConnectionManager) {
    use cratedigger_fleet::telemetry::add_readiness_check;
    let redis_conn = conn.clone();
    add_readiness_check(
        "redis",
        Arc::new(move || {
            let mut c = redis_conn.clone();
            Box::pin(async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("Redis does not answer PING ({e})"))
            })
        }),
    );
    match sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(cratedigger_fleet::telemetry::READINESS_CHECK_TIMEOUT)
        .idle_timeout(Some(std::time::Duration::from_secs(60)))
        .connect_lazy(&settings.database.url)
    {
        Ok(pool) => add_readiness_check(
            "postgres",
            Arc::new(move || {
                let pool = pool.clone();
                Box::pin(async move {
                    sqlx::query("SELECT 1")
                        .execute(&pool)
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("PostgreSQL does not answer ({e})"))
                })
            }),
        ),
        Err(e) => {
            let sentence = format!("CRATEDIGGER__DATABASE__URL is not usable ({e})");
            add_readiness_check(
                "postgres",
                Arc::new(move || {
                    let sentence = sentence.clone();
                    Box::pin(async move { Err(sentence) })
                }),
            )
        }
    }
}

/// Connections and queue handles of one process. Cheap to clone.
#[derive(Clone)]
pub struct Fleet {
    /// Loaded settings.
    pub settings: Arc<Settings>,
    /// `research` queue.
    pub research: Queue,
    /// `metadata` queue.
    pub metadata: Queue,
    /// `consolidate` queue.
    pub consolidate: Queue,
    /// `discovery` queue.
    pub discovery: Queue,
    /// `download` queue.
    pub download: Queue,
    /// `analysis` queue.
    pub analysis: Queue,
    /// The platform layer shared by every role of this process: fleet-wide rate limits in
    /// Redis, circuit breakers, response caches (L3 in PostgreSQL, connected on first use).
    pub platforms: PlatformContext,
}

impl Fleet {
    /// Connects to Redis and builds the queue handles.
    pub async fn connect(settings: Settings) -> anyhow::Result<Fleet> {
        let conn = cratedigger_fleet::queue::connect(&settings.redis.url)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot reach Redis at {} ({e}); start it or set CRATEDIGGER__REDIS__URL",
                    settings.redis.url
                )
            })?;
        register_readiness_checks(&settings, &conn);
        let q = |name| Queue::new(conn.clone(), name, settings.queue.clone());
        let l3 = cratedigger_platforms::cache::lazy_pool(&settings.database.url, 2)
            .map_err(|e| tracing::warn!(error = %e, "platform cache L3 disabled: CRATEDIGGER__DATABASE__URL is not usable"))
            .ok();
        let platforms = PlatformContext::new(
            &settings.platforms,
            Some(conn.clone()),
            l3,
            &settings.queue.prefix,
        );
        Ok(Fleet {
            platforms,
            research: q(queues::RESEARCH),
            metadata: q(queues::METADATA),
            consolidate: q(queues::CONSOLIDATE),
            discovery: q(queues::DISCOVERY),
            download: q(queues::DOWNLOAD),
            analysis: q(queues::ANALYSIS),
            settings: Arc::new(settings),
        })
    }

    /// The handle of queue `name`, if it is one of ours.
    pub fn queue(&self, name: &str) -> Option<&Queue> {
        match name {
            queues::RESEARCH => Some(&self.research),
            queues::METADATA => Some(&self.metadata),
            queues::CONSOLIDATE => Some(&self.consolidate),
            queues::DISCOVERY => Some(&self.discovery),
            queues::DOWNLOAD => Some(&self.download),
            queues::ANALYSIS => Some(&self.analysis),
            _ => None,
        }
    }

    /// Every queue, for depth reports.
    pub fn all_queues(&self) -> [&Queue; 6] {
        [
            &self.research,
            &self.metadata,
            &self.consolidate,
            &self.discovery,
            &self.download,
            &self.analysis,
        ]
    }

    /// Connects to Postgres and applies the embedded migrations (additive only, so old and
    /// new binaries can run side by side during a rolling upgrade).
    pub async fn store(&self) -> anyhow::Result<Store> {
        let url = &self.settings.database.url;
        let store = Store::connect(url, self.settings.database.max_connections)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot reach PostgreSQL ({e}); check CRATEDIGGER__DATABASE__URL")
            })?;
        store.migrate().await?;
        Ok(store)
    }

    /// The metadata platforms enabled by configuration (the registry logs one line per
    /// disabled one).
    pub fn registry(&self) -> Registry {
        Registry::from_config(&self.settings.platforms, &self.platforms)
    }

    /// The acquisition sources enabled by configuration (one line per disabled one).
    pub fn sources(&self) -> SourceRegistry {
        cratedigger_platforms::sources_config::build_sources(
            &self.settings.sources,
            &self.settings.platforms.http,
            &self.platforms,
        )
    }
}

/// Pushes one job, wrapped in its envelope, onto `queue`.
pub async fn enqueue<T: Serialize>(
    queue: &Queue,
    lane: Lane,
    envelope: &Envelope<T>,
) -> Result<bool, QueueError> {
    let payload = serde_json::to_vec(envelope).unwrap_or_default();
    queue
        .push(lane, &envelope.job_id.to_string(), &payload)
        .await
}

/// Reads a delivery's envelope; an unreadable or newer-schema job is `Malformed` (fails
/// fast to the dead-letter list, and the item fails with the reason).
pub fn decode_job<T: serde::de::DeserializeOwned>(job: &Delivery) -> Result<Envelope<T>, JobError> {
    jobs::decode(&job.payload).map_err(|e| JobError::new(ErrorClass::Malformed, e.to_string()))
}

/// Enqueues the next step of an item from a handler; a Redis failure retries the handler.
pub async fn enqueue_next<T: Serialize>(
    queue: &Queue,
    lane: Lane,
    envelope: &Envelope<T>,
) -> Result<(), JobError> {
    enqueue(queue, lane, envelope)
        .await
        .map(|_| ())
        .map_err(|e| JobError::new(ErrorClass::Network, e.to_string()))
}

/// When every answer of a fan-out (platform queries, acquisition sources) failed for a
/// reason that may pass (rate limit, network, server), the whole job is retried and the most
/// conservative class decides the backoff; otherwise what was found is reported. `answers`
/// holds one entry per query/source: its failure, or `None` when it answered.
pub fn retry_if_all_failed_transiently<'a>(
    answers: impl IntoIterator<Item = Option<&'a jobs::PlatformFailure>>,
    what: &str,
) -> Option<JobError> {
    let mut failures = Vec::new();
    for a in answers {
        failures.push(a?);
    }
    let transient = |c: ErrorClass| {
        matches!(
            c,
            ErrorClass::RateLimit | ErrorClass::Server | ErrorClass::Network
        )
    };
    if failures.is_empty() || !failures.iter().all(|f| transient(f.class)) {
        return None;
    }
    let class = [
        ErrorClass::RateLimit,
        ErrorClass::Server,
        ErrorClass::Network,
    ]
    .into_iter()
    .find(|c| failures.iter().any(|f| f.class == *c))
    .unwrap_or(ErrorClass::Network);
    let detail = failures
        .iter()
        .map(|f| f.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Some(JobError::new(
        class,
        format!("every {what} failed: {detail}"),
    ))
}

/// Builds the handler of a role.
pub async fn handler_for(fleet: &Fleet, role: Role) -> anyhow::Result<Arc<dyn JobHandler>> {
    Ok(match role {
        Role::ResearchLead => Arc::new(crate::research_lead::ResearchLead::new(
            fleet.clone(),
            &fleet.registry(),
        )),
        Role::MetadataScout => Arc::new(crate::metadata_scout::MetadataScout::new(
            fleet.clone(),
            fleet.registry(),
        )),
        Role::Consolidator => Arc::new(crate::consolidator::Consolidator::new(
            fleet.clone(),
            fleet.store().await?,
        )),
        Role::DiscoveryScout => Arc::new(crate::discovery_scout::DiscoveryScout::new(
            fleet.clone(),
            fleet.sources(),
        )),
        Role::AcquisitionScout => Arc::new(crate::acquisition_scout::AcquisitionScout::new(
            fleet.clone(),
            fleet.sources(),
        )),
        Role::QualityAssessor => {
            Arc::new(crate::quality_assessor::QualityAssessor::new(fleet.clone()))
        }
    })
}

/// Runs `roles` in this process until `stop` turns true.
pub async fn run_roles(
    fleet: &Fleet,
    roles: &[Role],
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let handlers = build_handlers(fleet, roles).await?;
    run_handlers(fleet, handlers, stop).await
}

/// Builds the handlers of `roles` (connections made, per-source metric series registered),
/// so a process is only announced ready once it can take jobs.
pub async fn build_handlers(
    fleet: &Fleet,
    roles: &[Role],
) -> anyhow::Result<Vec<(Role, Arc<dyn JobHandler>)>> {
    let mut out = Vec::new();
    for role in roles {
        out.push((*role, handler_for(fleet, *role).await?));
    }
    Ok(out)
}

/// Runs built handlers until `stop` turns true.
pub async fn run_handlers(
    fleet: &Fleet,
    handlers: Vec<(Role, Arc<dyn JobHandler>)>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for (role, handler) in handlers {
        let queue = fleet
            .queue(role.queue())
            .expect("role queues exist")
            .clone();
        let mut opts = WorkerOptions::new(role.name());
        opts.concurrency = fleet.settings.workers.concurrency.max(1);
        opts.batch = match fleet.settings.workers.fetch_batch {
            0 => opts.concurrency,
            n => n,
        };
        opts.idle_poll = Duration::from_millis(fleet.settings.workers.idle_poll_ms.max(10));
        opts.shutdown_timeout = Duration::from_secs(fleet.settings.workers.shutdown_timeout_secs);
        runs.push(run_worker(
            fleet.settings.redis.url.clone(),
            queue,
            handler,
            opts,
            stop.clone(),
        ));
    }
    for r in futures::future::join_all(runs).await {
        r?;
    }
    Ok(())
}

/// A stop signal that turns true on SIGTERM or Ctrl-C (Kubernetes sends SIGTERM, then waits
/// `terminationGracePeriodSeconds` while jobs in hand finish).
pub fn stop_on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler can be installed");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stop requested; finishing the jobs in hand");
        let _ = tx.send(true);
    });
    rx
}

/// `main` of a worker binary: settings, logs, metrics endpoint, the role until a signal.
pub async fn worker_main(role: Role) -> anyhow::Result<()> {
    cratedigger_fleet::telemetry::init_logging();
    let settings = Settings::load(None)?;
    let addr: std::net::SocketAddr = settings.workers.metrics_bind.parse().map_err(|e| {
        anyhow::anyhow!(
            "CRATEDIGGER__WORKERS__METRICS_BIND '{}' is not an address: {e}",
            settings.workers.metrics_bind
        )
    })?;
    let fleet = Fleet::connect(settings).await?;
    let bound = cratedigger_fleet::telemetry::serve_ops(addr).await?;
    let stop = stop_on_signal();
    let handlers = build_handlers(&fleet, &[role]).await?;
    tracing::info!(role = role.name(), metrics = %bound, "serving /metrics, /healthz, /readyz");
    cratedigger_fleet::telemetry::set_ready(true);
    run_handlers(&fleet, handlers, stop).await
}
