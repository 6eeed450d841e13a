//! Job queues over Redis with strict priority lanes.
//!
//! Why our own backend instead of apalis-redis 1.0.0: see `docs/adr/0001-queue-backend.md`.
//! In short, strict priority lanes need a different Redis layout, and every defect measured
//! in apalis-redis (unbounded promotion, O(N) `LREM`, fixed 25 retries, untrimmed done sets,
//! 300 s orphan recovery) is avoided by construction here: every script does bounded work,
//! attempts are ours, finished jobs leave nothing behind, and leases expire in seconds.
//!
//! Layout for queue `Q` under prefix `P` (the `{P:Q}` hash tag keeps a queue in one slot):
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `{P:Q}:lane:interactive` / `:batch` / `:background` | LIST | queued job ids, FIFO (LPUSH, RPOP) |
//! | `{P:Q}:jobs` | HASH | id -> payload, while the job is live |
//! | `{P:Q}:attempts` | HASH | id -> deliveries so far |
//! | `{P:Q}:inflight` | ZSET | id -> lease deadline (ms); expired leases are reclaimed |
//! | `{P:Q}:delayed` | ZSET | id -> due time (ms); retries waiting for their backoff |
//! | `{P:Q}:dead` / `:dead:reason` | LIST / HASH | dead-letter list and why |
//! | `{P:Q}:workers` | ZSET | worker name -> last heartbeat (ms) |
//! | `{P:Q}:stats` | HASH | pushed / done / retried / dead counters |
//!
//! A job id is `<lane letter>|<job id>`, so the lane travels with the id and no lookup
//! is needed to put a retried or reclaimed job back where it belongs.

use cratedigger_domain::Lane;
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Largest number of jobs sent in one script call; keeps every call far below Lua's
/// `unpack` limit (~8,000) and short enough not to stall Redis.
pub const PUSH_CHUNK: usize = 1000;

static PUSH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/push.lua")));
static FETCH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/fetch.lua")));
static ACK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/ack.lua")));
static RETRY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/retry.lua")));
static DEAD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/dead.lua")));
static RENEW: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/renew.lua")));
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/release.lua")));
static REDRIVE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/redrive.lua")));

/// Failures of the queue layer. Redis being unreachable is the only real one; callers
/// retry with backoff (the worker runtime does) or report it (the scheduler answers 503).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis refused or dropped the command.
    #[error("redis queue '{queue}' unavailable: {source}")]
    Redis {
        /// Queue name.
        queue: String,
        /// Underlying error.
        #[source]
        source: redis::RedisError,
    },
    /// A queue id in Redis does not have our shape (written by something else).
    #[error("queue '{queue}' holds a malformed entry: {detail}")]
    Corrupt {
        /// Queue name.
        queue: String,
        /// What was wrong.
        detail: String,
    },
}

/// Tunables of one queue. Defaults follow `../shared/notes/apalis-redis.md`: leases of
/// seconds (not 300 s), bounded maintenance steps, a bounded dead-letter list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueSettings {
    /// Key prefix; tests use a unique one each so they run in parallel on one Redis.
    pub prefix: String,
    /// How long a fetched job stays reserved without a lease renewal.
    pub lease_ms: u64,
    /// Upper bound of ids promoted or reclaimed per fetch call.
    pub maintenance_step: u32,
    /// Dead-letter list bound.
    pub max_dead: u64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            prefix: "cratedigger".into(),
            lease_ms: 10_000,
            maintenance_step: 500,
            max_dead: 100_000,
        }
    }
}

/// A job as a worker receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Queue id (`<lane letter>|<job id>`).
    pub qid: String,
    /// Lane it came from.
    pub lane: Lane,
    /// Deliveries so far, this one included (1 on the first run).
    pub attempt: u32,
    /// The raw payload (a versioned JSON envelope).
    pub payload: Vec<u8>,
}

/// One dead-lettered job, for `cratedigger dlq list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadJob {
    /// Queue name.
    pub queue: String,
    /// Queue id.
    pub qid: String,
    /// Why it was given up (JSON written by the runtime).
    pub reason: serde_json::Value,
    /// The payload, as text.
    pub payload: String,
}

/// Why a job was dead-lettered; stored next to it and shown by `dlq list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadReason {
    /// Sentence for a person.
    pub reason: String,
    /// Error class name.
    pub class: String,
    /// Deliveries made.
    pub attempts: u32,
    /// Worker that gave up.
    pub worker: String,
    /// Unix time in ms.
    pub at_ms: u64,
}

/// Depth of one queue, per lane, as the scheduler exports it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueDepth {
    /// Queue name.
    pub queue: String,
    /// Waiting jobs per lane.
    pub lanes: std::collections::BTreeMap<String, u64>,
    /// Jobs held by workers.
    pub inflight: u64,
    /// Jobs waiting for a retry backoff.
    pub delayed: u64,
    /// Dead-lettered jobs.
    pub dead: u64,
    /// Lifetime counters (pushed, done, retried, dead).
    pub stats: std::collections::BTreeMap<String, u64>,
}

/// Names of the Redis keys of one queue.
#[derive(Debug, Clone)]
struct Keys {
    jobs: String,
    attempts: String,
    inflight: String,
    delayed: String,
    workers: String,
    dead: String,
    dead_reason: String,
    stats: String,
    notify: String,
    lanes: [String; 3],
}

impl Keys {
    fn new(prefix: &str, queue: &str) -> Self {
        let base = format!("{{{prefix}:{queue}}}");
        Self {
            jobs: format!("{base}:jobs"),
            attempts: format!("{base}:attempts"),
            inflight: format!("{base}:inflight"),
            delayed: format!("{base}:delayed"),
            workers: format!("{base}:workers"),
            dead: format!("{base}:dead"),
            dead_reason: format!("{base}:dead:reason"),
            stats: format!("{base}:stats"),
            notify: format!("{prefix}:notify:{queue}"),
            lanes: Lane::ALL.map(|l| format!("{base}:lane:{}", l.as_str())),
        }
    }

    fn lane(&self, lane: Lane) -> &str {
        &self.lanes[lane as usize]
    }
}

fn lane_letter(lane: Lane) -> char {
    match lane {
        Lane::Interactive => 'i',
        Lane::Batch => 'b',
        Lane::Background => 'g',
    }
}

fn lane_of(qid: &str) -> Option<Lane> {
    match qid.as_bytes().first() {
        Some(b'i') => Some(Lane::Interactive),
        Some(b'b') => Some(Lane::Batch),
        Some(b'g') => Some(Lane::Background),
        _ => None,
    }
}

/// Builds the queue id for a job id in a lane.
pub fn queue_id(lane: Lane, job_id: &str) -> String {
    format!("{}|{job_id}", lane_letter(lane))
}

/// Milliseconds since the Unix epoch (for records; leases use Redis' clock).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One named queue. Cheap to clone; all clones share one multiplexed connection.
#[derive(Clone)]
pub struct Queue {
    name: Arc<str>,
    keys: Arc<Keys>,
    settings: Arc<QueueSettings>,
    conn: ConnectionManager,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("name", &self.name).finish()
    }
}

/// Opens a managed (auto-reconnecting) Redis connection with a response timeout far above
/// redis-rs' 500 ms default, which under load turns a slow reply into a fatal error.
pub async fn connect(url: &str) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let cfg = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(3);
    ConnectionManager::new_with_config(client, cfg).await
}

impl Queue {
    /// A handle on queue `name` over an existing connection.
    pub fn new(conn: ConnectionManager, name: &str, settings: QueueSettings) -> Self {
        Self {
            name: name.into(),
            keys: Arc::new(Keys::new(&settings.prefix, name)),
            settings: Arc::new(settings),
            conn,
        }
    }

    /// Queue name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Pub/sub channel announcing pushes, so idle workers wake at once.
    pub fn notify_channel(&self) -> &str {
        &self.keys.notify
    }

    /// Settings in force.
    pub fn settings(&self) -> &QueueSettings {
        &self.settings
    }

    fn err(&self, source: redis::RedisError) -> QueueError {
        QueueError::Redis {
            queue: self.name.to_string(),
            source,
        }
    }

    /// Enqueues one job; returns false if a live job with that id already exists.
    pub async fn push(&self, lane: Lane, job_id: &str, payload: &[u8]) -> Result<bool, QueueError> {
        Ok(self
            .push_batch(lane, &[(job_id.to_string(), payload.to_vec())])
            .await?
            == 1)
    }

    /// Enqueues many jobs in chunks of [`PUSH_CHUNK`] per script call (one round trip each).
    /// Returns how many were new.
    pub fn push_batch<'a>(
        &'a self,
        lane: Lane,
        jobs: &'a [(String, Vec<u8>)],
    ) -> BoxFuture<'a, Result<u64, QueueError>> {
        Box::pin(self.push_batch_inner(lane, jobs))
    }

    async fn push_batch_inner(
        &self,
        lane: Lane,
        jobs: &[(String, Vec<u8>)],
    ) -> Result<u64, QueueError> {
        let mut added = 0u64;
        let mut conn = self.conn.clone();
        for chunk in jobs.chunks(PUSH_CHUNK) {
            let mut inv = PUSH.key(&self.keys.jobs);
            inv.key(self.keys.lane(lane))
                .key(&self.keys.stats)
                .arg(&self.keys.notify);
            for (id, payload) in chunk {
                inv.arg(queue_id(lane, id)).arg(payload.as_slice());
            }
            let n: u64 = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
            added += n;
        }
        Ok(added)
    }

    /// Reserves up to `max` jobs for `worker`, interactive lane first. Also promotes due
    /// retries and reclaims expired leases, a bounded number per call.
    pub fn fetch<'a>(
        &'a self,
        worker: &'a str,
        max: usize,
    ) -> BoxFuture<'a, Result<Fetched, QueueError>> {
        Box::pin(self.fetch_inner(worker, max))
    }

    async fn fetch_inner(&self, worker: &str, max: usize) -> Result<Fetched, QueueError> {
        let mut conn = self.conn.clone();
        let k = &self.keys;
        let raw: Vec<redis::Value> = FETCH
            .key(&k.jobs)
            .key(&k.attempts)
            .key(&k.inflight)
            .key(&k.delayed)
            .key(&k.workers)
            .key(&k.lanes[0])
            .key(&k.lanes[1])
            .key(&k.lanes[2])
            .arg(max)
            .arg(self.settings.lease_ms)
            .arg(self.settings.maintenance_step)
            .arg(worker)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        self.parse_fetch(raw)
    }

    fn parse_fetch(&self, raw: Vec<redis::Value>) -> Result<Fetched, QueueError> {
        let corrupt = |detail: String| QueueError::Corrupt {
            queue: self.name.to_string(),
            detail,
        };
        let mut it = raw.into_iter();
        let reclaimed: u64 = match it.next() {
            Some(v) => redis::from_redis_value(v).map_err(|e| corrupt(e.to_string()))?,
            None => 0,
        };
        let mut jobs = Vec::new();
        while let Some(qid) = it.next() {
            let qid: String = redis::from_redis_value(qid).map_err(|e| corrupt(e.to_string()))?;
            let attempt: u32 = it
                .next()
                .map(redis::from_redis_value)
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?
                .unwrap_or(1);
            let payload: Vec<u8> = it
                .next()
                .map(redis::from_redis_value)
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?
                .unwrap_or_default();
            let lane = lane_of(&qid).ok_or_else(|| corrupt(format!("job id '{qid}'")))?;
            jobs.push(Delivery {
                qid,
                lane,
                attempt,
                payload,
            });
        }
        Ok(Fetched { reclaimed, jobs })
    }

    /// Marks jobs finished: nothing of them stays in Redis but the `done` counter.
    pub fn ack<'a>(&'a self, qids: &'a [String]) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(self.ack_inner(qids))
    }

    async fn ack_inner(&self, qids: &[String]) -> Result<(), QueueError> {
        if qids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        for chunk in qids.chunks(PUSH_CHUNK) {
            let mut inv = ACK.key(&self.keys.jobs);
            inv.key(&self.keys.attempts)
                .key(&self.keys.inflight)
                .key(&self.keys.stats);
            for q in chunk {
                inv.arg(q);
            }
            let _: u64 = inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Schedules another attempt of a job after `delay`.
    pub fn retry_later<'a>(
        &'a self,
        qid: &'a str,
        delay: Duration,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(self.retry_later_inner(qid, delay))
    }

    async fn retry_later_inner(&self, qid: &str, delay: Duration) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let _: u64 = RETRY
            .key(&self.keys.jobs)
            .key(&self.keys.inflight)
            .key(&self.keys.delayed)
            .key(&self.keys.stats)
            .arg(qid)
            .arg(delay.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Moves a job to the dead-letter list with its reason.
    pub fn dead_letter<'a>(
        &'a self,
        qid: &'a str,
        reason: &'a DeadReason,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(self.dead_letter_inner(qid, reason))
    }

    async fn dead_letter_inner(&self, qid: &str, reason: &DeadReason) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let k = &self.keys;
        let reason = serde_json::to_string(reason).unwrap_or_else(|_| "{}".into());
        let _: u64 = DEAD
            .key(&k.jobs)
            .key(&k.attempts)
            .key(&k.inflight)
            .key(&k.dead)
            .key(&k.dead_reason)
            .key(&k.stats)
            .arg(qid)
            .arg(reason)
            .arg(self.settings.max_dead)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Extends the leases of jobs `worker` still holds; also its heartbeat.
    pub fn renew<'a>(
        &'a self,
        worker: &'a str,
        qids: &'a [String],
    ) -> BoxFuture<'a, Result<u64, QueueError>> {
        Box::pin(self.renew_inner(worker, qids))
    }

    async fn renew_inner(&self, worker: &str, qids: &[String]) -> Result<u64, QueueError> {
        let mut conn = self.conn.clone();
        let mut inv = RENEW.key(&self.keys.inflight);
        inv.key(&self.keys.workers)
            .arg(self.settings.lease_ms)
            .arg(worker);
        for q in qids {
            inv.arg(q);
        }
        inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))
    }

    /// Returns fetched-but-not-started jobs to the front of their lanes (graceful stop).
    pub fn release<'a>(&'a self, qids: &'a [String]) -> BoxFuture<'a, Result<u64, QueueError>> {
        Box::pin(self.release_inner(qids))
    }

    async fn release_inner(&self, qids: &[String]) -> Result<u64, QueueError> {
        if qids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn.clone();
        let k = &self.keys;
        let mut inv = RELEASE.key(&k.attempts);
        inv.key(&k.inflight)
            .key(&k.lanes[0])
            .key(&k.lanes[1])
            .key(&k.lanes[2]);
        for q in qids {
            inv.arg(q);
        }
        inv.invoke_async(&mut conn).await.map_err(|e| self.err(e))
    }

    /// Removes a worker from the registry when it stops cleanly.
    pub async fn deregister(&self, worker: &str) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let _: u64 = conn
            .zrem(&self.keys.workers, worker)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Waiting, in-flight, delayed and dead counts.
    pub async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let mut conn = self.conn.clone();
        let k = &self.keys;
        let (i, b, g, inflight, delayed, dead, stats): (
            u64,
            u64,
            u64,
            u64,
            u64,
            u64,
            std::collections::BTreeMap<String, u64>,
        ) = redis::pipe()
            .llen(&k.lanes[0])
            .llen(&k.lanes[1])
            .llen(&k.lanes[2])
            .zcard(&k.inflight)
            .zcard(&k.delayed)
            .llen(&k.dead)
            .hgetall(&k.stats)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        let mut lanes = std::collections::BTreeMap::new();
        for (lane, n) in Lane::ALL.iter().zip([i, b, g]) {
            lanes.insert(lane.as_str().to_string(), n);
        }
        Ok(QueueDepth {
            queue: self.name.to_string(),
            lanes,
            inflight,
            delayed,
            dead,
            stats,
        })
    }

    /// The newest `limit` dead-lettered jobs with their reasons.
    pub async fn dead_jobs(&self, limit: usize) -> Result<Vec<DeadJob>, QueueError> {
        let mut conn = self.conn.clone();
        let k = &self.keys;
        let ids: Vec<String> = conn
            .lrange(&k.dead, 0, limit.saturating_sub(1) as isize)
            .await
            .map_err(|e| self.err(e))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (reasons, payloads): (Vec<Option<String>>, Vec<Option<Vec<u8>>>) = redis::pipe()
            .cmd("HMGET")
            .arg(&k.dead_reason)
            .arg(&ids)
            .cmd("HMGET")
            .arg(&k.jobs)
            .arg(&ids)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(ids
            .into_iter()
            .zip(reasons.into_iter().zip(payloads))
            .map(|(qid, (reason, payload))| DeadJob {
                queue: self.name.to_string(),
                qid,
                reason: reason
                    .and_then(|r| serde_json::from_str(&r).ok())
                    .unwrap_or(serde_json::Value::Null),
                payload: payload
                    .map(|p| String::from_utf8_lossy(&p).into_owned())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Re-queues up to `max` dead-lettered jobs with a fresh attempt budget.
    pub fn redrive<'a>(&'a self, max: u64) -> BoxFuture<'a, Result<u64, QueueError>> {
        Box::pin(self.redrive_inner(max))
    }

    async fn redrive_inner(&self, max: u64) -> Result<u64, QueueError> {
        let mut conn = self.conn.clone();
        let k = &self.keys;
        REDRIVE
            .key(&k.attempts)
            .key(&k.dead)
            .key(&k.dead_reason)
            .key(&k.lanes[0])
            .key(&k.lanes[1])
            .key(&k.lanes[2])
            .key(&k.jobs)
            .arg(max)
            .arg(&k.notify)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err(e))
    }

    /// Job ids currently held by any worker (for the reconciler's "no job in flight" test).
    pub async fn live_job_ids(&self) -> Result<std::collections::HashSet<String>, QueueError> {
        let mut conn = self.conn.clone();
        let fields: Vec<String> = conn.hkeys(&self.keys.jobs).await.map_err(|e| self.err(e))?;
        Ok(fields
            .into_iter()
            .filter_map(|f| f.split_once('|').map(|(_, id)| id.to_string()))
            .collect())
    }
}

/// What one fetch brought back.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Expired leases given back to their lanes by this call (a dead worker's jobs).
    pub reclaimed: u64,
    /// Reserved jobs, highest lane first.
    pub jobs: Vec<Delivery>,
}
