//! The worker runtime: drives one queue's jobs through an apalis-core worker.
//!
//! apalis-core gives us the worker loop, tower layering (concurrency limit) and graceful
//! stop; our [`crate::queue`] is plugged in as a `CustomBackend` whose fetch stream takes
//! jobs in strict lane order. Around it this module adds what apalis-redis 1.0.0 gets wrong
//! for us: unique worker names, leases renewed every few seconds (a killed worker's jobs
//! come back within the lease, not 300 s), pub/sub wake-up plus a re-arming idle poll (no
//! 28 s stalls), bounded attempts per error class with backoff and jitter, a dead-letter
//! list, batched acks, and release of prefetched jobs on a clean stop.

use crate::queue::{DeadReason, Delivery, Queue, now_ms};
use crate::retry::{self, Next};
use apalis_core::backend::custom::BackendBuilder;
use apalis_core::error::BoxDynError;
use apalis_core::task::Task;
use apalis_core::task::data::Data;
use apalis_core::worker::builder::WorkerBuilder;
use apalis_core::worker::context::WorkerContext;
use cratedigger_domain::ErrorClass;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt, stream};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tracing::Instrument;

/// A job failure as a handler reports it: the class picks the retry policy.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{class}: {message}")]
pub struct JobError {
    /// Error class (drives attempts and backoff).
    pub class: ErrorClass,
    /// What failed, for logs and the dead-letter record.
    pub message: String,
    /// A wait the other side asked for.
    pub retry_after: Option<Duration>,
}

impl JobError {
    /// A failure of class `class`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// What a worker role does with one job. Implemented by each worker binary.
pub trait JobHandler: Send + Sync + 'static {
    /// Handles one delivery. `Ok` acknowledges it; `Err` retries it or gives it up by class.
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>>;

    /// Called once when a job is given up (dead-lettered), so the role can tell the
    /// consolidator the item failed and why. Errors here are logged, not retried.
    fn on_give_up(&self, _job: Delivery, _error: JobError) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// Knobs of one worker process on one queue.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Role name (`metadata-scout`), used in the unique worker name and metrics.
    pub role: String,
    /// Jobs handled at once.
    pub concurrency: usize,
    /// Jobs reserved per fetch (kept <= concurrency so few jobs wait in a buffer).
    pub batch: usize,
    /// Fallback poll period when idle and no push notification arrived.
    pub idle_poll: Duration,
    /// Lease renewal period (well under the queue's lease).
    pub renew_every: Duration,
    /// After a stop request, how long jobs in hand may still run. Jobs still running then
    /// are left to their leases (peers take them over when the lease expires), so the
    /// process exits before Kubernetes' `terminationGracePeriodSeconds` ends in SIGKILL.
    pub shutdown_timeout: Duration,
}

impl WorkerOptions {
    /// Defaults for `role`: 16 at once, fetch 16, idle poll 500 ms, renew every 3 s,
    /// 30 s to finish the jobs in hand after a stop request.
    pub fn new(role: &str) -> Self {
        Self {
            role: role.into(),
            concurrency: 16,
            batch: 16,
            idle_poll: Duration::from_millis(500),
            renew_every: Duration::from_secs(3),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// A worker name unique per process and start (`role-host-ULID`), so a restarted or
/// duplicated pod never collides with its predecessor's registration.
pub fn unique_worker_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("POD_NAME"))
        .unwrap_or_else(|_| "local".into());
    format!("{role}-{host}-{}", ulid::Ulid::new())
}

struct Shared {
    queue: Queue,
    worker: String,
    handler: Arc<dyn JobHandler>,
    in_hand: Mutex<HashSet<String>>,
    acks: mpsc::UnboundedSender<String>,
}

/// Subscribes to the queue's push channel and wakes idle fetchers. Best effort: the idle
/// poll covers a lost subscription.
async fn watch_pushes(
    redis_url: String,
    channel: String,
    notify: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let client = match redis::Client::open(redis_url.as_str()) {
            Ok(c) => c,
            Err(_) => return,
        };
        if let Ok(mut pubsub) = client.get_async_pubsub().await
            && pubsub.subscribe(&channel).await.is_ok()
        {
            let mut messages = pubsub.on_message();
            loop {
                tokio::select! {
                    m = messages.next() => match m {
                        Some(_) => notify.notify_waiters(),
                        None => break,
                    },
                    _ = stop.changed() => return,
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {},
            _ = stop.changed() => return,
        }
    }
}

fn run_job(
    delivery: Delivery,
    shared: Data<Arc<Shared>>,
) -> BoxFuture<'static, Result<(), BoxDynError>> {
    let s = shared.0.clone();
    let span = job_span(&s.worker, s.queue.name(), &delivery);
    Box::pin(run_job_inner(delivery, s).instrument(span))
}

async fn run_job_inner(delivery: Delivery, s: Arc<Shared>) -> Result<(), BoxDynError> {
    let qid = delivery.qid.clone();
    let attempt = delivery.attempt;
    let started = std::time::Instant::now();
    // The handler runs as its own task so jobs use every core; the apalis worker future
    // itself is polled on the caller's task. Every log line of the job carries its ids.
    let result = match tokio::spawn(s.handler.handle(delivery.clone()).in_current_span()).await {
        Ok(r) => r,
        Err(join) => Err(JobError::new(
            ErrorClass::Internal,
            format!("handler panicked: {join}"),
        )),
    };
    let queue = s.queue.name().to_string();
    metrics::histogram!("cratedigger_job_duration_seconds", "queue" => queue.clone())
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => {
            metrics::counter!("cratedigger_jobs_total", "queue" => queue, "outcome" => "done")
                .increment(1);
            let _ = s.acks.send(qid);
        }
        Err(err) => {
            s.in_hand.lock().map(|mut h| h.remove(&qid)).ok();
            let class = err.class.as_str();
            match retry::next(err.class, attempt, err.retry_after) {
                Next::RetryAfter(wait) => {
                    tracing::warn!(queue, qid, attempt, class, wait_ms = wait.as_millis() as u64,
                        error = %err.message, "job failed; retrying after backoff");
                    metrics::counter!("cratedigger_jobs_total", "queue" => queue, "outcome" => "retried", "class" => class)
                        .increment(1);
                    s.queue.retry_later(&qid, wait).await?;
                }
                Next::GiveUp => {
                    tracing::error!(queue, qid, attempt, class, error = %err.message,
                        "job gave up; moved to the dead-letter list");
                    metrics::counter!("cratedigger_jobs_total", "queue" => queue, "outcome" => "dead", "class" => class)
                        .increment(1);
                    let reason = DeadReason {
                        reason: err.message.clone(),
                        class: class.to_string(),
                        attempts: attempt,
                        worker: s.worker.clone(),
                        at_ms: now_ms(),
                    };
                    s.handler.on_give_up(delivery, err).await;
                    s.queue.dead_letter(&qid, &reason).await?;
                }
            }
        }
    }
    Ok(())
}

/// Runs one worker on `queue` until `stop` turns true, then finishes the jobs in hand,
/// gives back prefetched ones and flushes acknowledgements. Returns an error only when
/// the worker could not keep running (the process should then exit non-zero).
///
/// The returned future is not `Send` (apalis-core's worker future cannot be proven so):
/// await it from the process' main task, e.g. `tokio::join!` several workers; job
/// handlers themselves run as spawned tasks on all cores.
pub async fn run_worker(
    redis_url: String,
    queue: Queue,
    handler: Arc<dyn JobHandler>,
    opts: WorkerOptions,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let worker = unique_worker_name(&opts.role);
    tracing::info!(
        worker,
        queue = queue.name(),
        concurrency = opts.concurrency,
        "worker starting"
    );
    // Exists from the start (0), so a dashboard or rate() sees no gap before the first reclaim.
    metrics::counter!("cratedigger_jobs_reclaimed_total", "queue" => queue.name().to_string())
        .increment(0);
    let notify = Arc::new(Notify::new());
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<String>();
    let shared = Arc::new(Shared {
        queue: queue.clone(),
        worker: worker.clone(),
        handler,
        in_hand: Mutex::new(HashSet::new()),
        acks: ack_tx,
    });
    let buffer: Arc<Mutex<VecDeque<Delivery>>> = Arc::new(Mutex::new(VecDeque::new()));

    let watcher = tokio::spawn(watch_pushes(
        redis_url,
        queue.notify_channel().to_string(),
        notify.clone(),
        stop.clone(),
    ));

    // Acks are flushed in batches: one script call for everything finished meanwhile.
    let ack_queue = queue.clone();
    let ack_shared = shared.clone();
    let acker = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(512);
        let mut closing = false;
        while let Some(first) = ack_rx.recv().await {
            // An empty id is the stop marker: flush what is here and end.
            closing |= first.is_empty();
            batch.push(first);
            while batch.len() < 1000 {
                match ack_rx.try_recv() {
                    Ok(q) => {
                        closing |= q.is_empty();
                        batch.push(q);
                    }
                    Err(_) => break,
                }
            }
            batch.retain(|q| !q.is_empty());
            let mut delay = Duration::from_millis(100);
            while !batch.is_empty() {
                match ack_queue.ack(&batch).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "ack failed; retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
            }
            if let Ok(mut h) = ack_shared.in_hand.lock() {
                for q in &batch {
                    h.remove(q);
                }
            }
            batch.clear();
            if closing {
                return;
            }
        }
    });

    // Leases of everything in hand (running or buffered) are renewed well before expiry.
    let renew_shared = shared.clone();
    let mut renew_stop = stop.clone();
    let renew_every = opts.renew_every;
    let renewer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(renew_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {},
                _ = renew_stop.changed() => {},
            }
            let ids: Vec<String> = renew_shared
                .in_hand
                .lock()
                .map(|h| h.iter().cloned().collect())
                .unwrap_or_default();
            if let Err(e) = renew_shared.queue.renew(&renew_shared.worker, &ids).await {
                tracing::warn!(error = %e, "lease renewal failed");
            }
            if *renew_stop.borrow() {
                return;
            }
        }
    });

    let state = FetchState {
        shared: shared.clone(),
        buffer: buffer.clone(),
        notify: notify.clone(),
        stop: stop.clone(),
        batch: opts.batch.max(1),
        idle_poll: opts.idle_poll,
    };
    let backend = BackendBuilder::new()
        .database(state)
        .fetcher(fetch_stream)
        .sink(discard_sink)
        .build()
        .map_err(|e| anyhow::anyhow!("building the queue backend: {e}"))?;

    let apalis_worker = WorkerBuilder::new(worker.as_str())
        .backend(backend)
        .layer(tower::limit::ConcurrencyLimitLayer::new(
            opts.concurrency.max(1),
        ))
        .data(shared.clone())
        .build(run_job);
    let mut stop_signal = stop.clone();
    let signal: BoxFuture<'static, Result<(), std::io::Error>> = Box::pin(async move {
        let _ = stop_signal.wait_for(|s| *s).await;
        Ok(())
    });
    // After the stop request the jobs in hand get `shutdown_timeout` to finish.
    let mut deadline_stop = stop.clone();
    let shutdown_timeout = opts.shutdown_timeout;
    let deadline = async move {
        let _ = deadline_stop.wait_for(|s| *s).await;
        tokio::time::sleep(shutdown_timeout).await;
    };
    let result = tokio::select! {
        r = apalis_worker.run_until(signal) => r,
        () = deadline => {
            let buffered = buffer.lock().map(|b| b.len()).unwrap_or(0);
            let running = shared.in_hand.lock().map(|h| h.len()).unwrap_or(0).saturating_sub(buffered);
            tracing::warn!(worker, running, timeout_secs = shutdown_timeout.as_secs(),
                "shutdown timeout elapsed with jobs still running; their leases expire and other workers take them over");
            Ok(())
        }
    };

    // Clean stop: give back jobs fetched but never started, flush acks, deregister.
    let leftover: Vec<String> = buffer
        .lock()
        .map(|mut b| b.drain(..).map(|d| d.qid).collect())
        .unwrap_or_default();
    if !leftover.is_empty() {
        match queue.release(&leftover).await {
            Ok(n) => tracing::info!(released = n, "gave prefetched jobs back to the queue"),
            Err(e) => {
                tracing::warn!(error = %e, "could not release prefetched jobs; their leases will expire")
            }
        }
    }
    let _ = shared.acks.send(String::new());
    let _ = tokio::time::timeout(Duration::from_secs(10), acker).await;
    renewer.abort();
    watcher.abort();
    let _ = queue.deregister(&worker).await;
    tracing::info!(worker, "worker stopped");
    result.map_err(|e| anyhow::anyhow!("worker {worker} stopped with an error: {e}"))
}

/// What the fetch stream needs; apalis hands it back to [`fetch_stream`] as the backend's
/// "database".
#[derive(Clone)]
struct FetchState {
    shared: Arc<Shared>,
    buffer: Arc<Mutex<VecDeque<Delivery>>>,
    notify: Arc<Notify>,
    stop: watch::Receiver<bool>,
    batch: usize,
    idle_poll: Duration,
}

type TaskStream = BoxStream<'static, Result<Option<Task<Delivery>>, BoxDynError>>;
type DiscardSink = futures::sink::SinkMapErr<
    futures::sink::Drain<Task<Delivery>>,
    fn(std::convert::Infallible) -> BoxDynError,
>;

fn never(e: std::convert::Infallible) -> BoxDynError {
    match e {}
}

/// Jobs are pushed through [`Queue`], never through apalis' sink.
fn discard_sink(_: &mut FetchState, _: &()) -> DiscardSink {
    futures::sink::drain().sink_map_err(never as fn(std::convert::Infallible) -> BoxDynError)
}

/// The stream apalis polls: yields buffered jobs, fetches a batch when the buffer is empty,
/// and when the queue is empty waits for a push notification or the idle poll.
fn fetch_stream(st: &mut FetchState, _: &(), _: &WorkerContext) -> TaskStream {
    stream::unfold(st.clone(), |mut st| async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            if *st.stop.borrow() {
                return None;
            }
            let next = st.buffer.lock().ok().and_then(|mut b| b.pop_front());
            if let Some(job) = next {
                return Some((Ok(Some(Task::new(job))), st));
            }
            let notified = st.notify.notified();
            match st.shared.queue.fetch(&st.shared.worker, st.batch).await {
                Ok(fetched) => {
                    if fetched.reclaimed > 0 {
                        tracing::warn!(
                            queue = st.shared.queue.name(),
                            reclaimed = fetched.reclaimed,
                            "reclaimed jobs whose lease expired (a worker died or stalled)"
                        );
                        metrics::counter!("cratedigger_jobs_reclaimed_total", "queue" => st.shared.queue.name().to_string())
                            .increment(fetched.reclaimed);
                    }
                    backoff = Duration::from_millis(100);
                    if fetched.jobs.is_empty() {
                        tokio::select! {
                            _ = notified => {},
                            _ = tokio::time::sleep(st.idle_poll) => {},
                            _ = st.stop.changed() => {},
                        }
                        continue;
                    }
                    if let Ok(mut h) = st.shared.in_hand.lock() {
                        h.extend(fetched.jobs.iter().map(|j| j.qid.clone()));
                    }
                    if let Ok(mut b) = st.buffer.lock() {
                        b.extend(fetched.jobs);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, wait_ms = backoff.as_millis() as u64, "fetch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {},
                        _ = st.stop.changed() => {},
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    })
    .boxed()
}

/// The ids a job's log lines carry, read leniently from the envelope (`job_id`,
/// `body.sync_id`, `body.item_id`); a payload without them still gets queue, job and worker.
#[derive(serde::Deserialize, Default)]
struct EnvelopeIds {
    #[serde(default)]
    job_id: Option<String>,
    #[serde(default)]
    body: Option<BodyIds>,
}

#[derive(serde::Deserialize, Default)]
struct BodyIds {
    #[serde(default)]
    sync_id: Option<String>,
    #[serde(default)]
    item_id: Option<String>,
}

fn job_span(worker: &str, queue: &str, d: &Delivery) -> tracing::Span {
    let ids: EnvelopeIds = serde_json::from_slice(&d.payload).unwrap_or_default();
    let body = ids.body.unwrap_or_default();
    tracing::info_span!(
        "job",
        queue,
        worker,
        qid = %d.qid,
        attempt = d.attempt,
        job_id = ids.job_id.as_deref().unwrap_or(""),
        sync_id = body.sync_id.as_deref().unwrap_or(""),
        item_id = body.item_id.as_deref().unwrap_or(""),
    )
}
