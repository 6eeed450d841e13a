//! Response caches, so the same question never costs a platform request twice within its
//! TTL: L1 in process (moka), L2 in Redis (shared by the fleet), L3 in PostgreSQL
//! (`platform_cache`, survives Redis being flushed). A hit at a lower level fills the
//! levels above it. "Not found" answers (404, Deezer's "no data") are cached briefly
//! (negative TTL, L1 and L2 only), so a re-run does not ask again at once but learns soon
//! when the platform adds the record.
//!
//! The key is the platform id plus the normalised URL (scheme and host lower-cased, query
//! parameters sorted, credentials-like parameters and the fragment dropped); request
//! headers (tokens) are not part of it. Every lookup is counted as
//! `cratedigger_cache_requests_total{level,result}` (`result` = hit, miss or error).
//!
//! Identical questions asked at the same time go to the platform once: within a process
//! ([`ResponseCache::single_flight`]) the first caller asks and the others wait for it and
//! read its answer from L1; across the fleet ([`ResponseCache::claim_fleet`]) the asking
//! process holds a short marker in Redis and the others poll L2 for its answer. Both are
//! counted as `cratedigger_cache_coalesced_total{scope}` (`process`, `fleet`).
//!
//! L3 lives in the database of record. Scouts never write the domain tables; this table is
//! a disposable cache of platform answers (safe to truncate at any time).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// Longest normalised URL cached in Redis and PostgreSQL; longer ones stay in L1 only.
pub const MAX_SHARED_KEY_LEN: usize = 1000;

/// Query parameters never part of a cache key (they carry credentials, not the question).
const SECRET_PARAMS: [&str; 6] = [
    "token",
    "key",
    "secret",
    "access_token",
    "client_secret",
    "api_key",
];

/// Cache settings (`CRATEDIGGER__PLATFORMS__CACHE__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// Off: every call goes to the platform (benchmarks of the limiter, some tests).
    pub enabled: bool,
    /// L1 (in process) time to live, seconds.
    pub l1_ttl_secs: u64,
    /// L1 size bound in bytes of cached bodies.
    pub l1_max_bytes: u64,
    /// Use Redis (when the process has it).
    pub l2_enabled: bool,
    /// L2 (Redis) time to live, seconds.
    pub l2_ttl_secs: u64,
    /// Use PostgreSQL (when the process has it).
    pub l3_enabled: bool,
    /// L3 (PostgreSQL) time to live, seconds.
    pub l3_ttl_secs: u64,
    /// Time to live of "not found" answers (L1 and L2), seconds; 0 disables them.
    pub negative_ttl_secs: u64,
    /// Largest body stored in L2 and L3 (bigger ones stay in L1 only), bytes.
    pub max_entry_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            l1_ttl_secs: 10 * 60,
            l1_max_bytes: 64 * 1024 * 1024,
            l2_enabled: true,
            l2_ttl_secs: 24 * 3600,
            l3_enabled: true,
            l3_ttl_secs: 30 * 24 * 3600,
            negative_ttl_secs: 10 * 60,
            max_entry_bytes: 2 * 1024 * 1024,
        }
    }
}

/// A cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// The body of a successful answer, byte for byte.
    Body(Arc<[u8]>),
    /// The platform said it does not have it; the detail of that answer.
    NotFound(Arc<str>),
}

/// Where a hit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// In process.
    L1,
    /// Redis.
    L2,
    /// PostgreSQL.
    L3,
}

impl Level {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::L1 => "l1",
            Level::L2 => "l2",
            Level::L3 => "l3",
        }
    }
}

/// Hits, misses and errors per level in this process (the same numbers as the metric,
/// readable by tests and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// L1 hits / misses.
    pub l1: (u64, u64),
    /// L2 hits / misses.
    pub l2: (u64, u64),
    /// L3 hits / misses.
    pub l3: (u64, u64),
    /// Lookups or writes that failed (Redis or PostgreSQL unavailable).
    pub errors: u64,
    /// Callers that waited for an identical request in flight instead of sending their own.
    pub coalesced: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: [AtomicU64; 3],
    misses: [AtomicU64; 3],
    errors: AtomicU64,
    coalesced: AtomicU64,
}

/// How often a process waiting for another process's answer looks in L2.
const FLEET_POLL: Duration = Duration::from_millis(50);

static RELEASE_FLIGHT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
});

/// The right to ask the platform on behalf of the fleet; give it back with
/// [`ResponseCache::release_fleet`] after the answer is cached.
#[derive(Debug)]
pub struct FleetClaim {
    key: String,
    token: String,
}

/// What a caller that missed every cache level does next.
#[derive(Debug)]
pub enum FleetFlight {
    /// Ask the platform (holding the fleet's claim when there is one).
    Ask(Option<FleetClaim>),
    /// Another process asked; its answer is here.
    Answered(Cached),
}

/// Requests in flight in this process, by L1 key: one async lock per question.
type InFlight = std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// Held by the one caller that asks the platform for a key; dropping it lets the callers
/// waiting on the same key read the answer from the cache (or ask themselves when there
/// was no answer to cache, after a transient failure).
pub struct Flight {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    lock: Arc<tokio::sync::Mutex<()>>,
    key: String,
    inflight: Arc<InFlight>,
    /// Whether another caller held the key first (the answer may now be in the cache).
    pub waited: bool,
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.guard.take();
        let Ok(mut map) = self.inflight.lock() else {
            return;
        };
        // The map and this flight hold the only references: nobody else waits on the key.
        if Arc::strong_count(&self.lock) == 2
            && map
                .get(&self.key)
                .is_some_and(|l| Arc::ptr_eq(l, &self.lock))
        {
            map.remove(&self.key);
        }
    }
}

#[derive(Clone)]
struct Entry {
    value: Cached,
    ttl: Duration,
}

struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The three cache levels of one process. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct ResponseCache {
    cfg: Arc<CacheConfig>,
    l1: moka::future::Cache<String, Entry>,
    redis: Option<ConnectionManager>,
    pool: Option<PgPool>,
    prefix: Arc<str>,
    counters: Arc<Counters>,
    warned_l3: Arc<AtomicBool>,
    inflight: Arc<InFlight>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("cfg", &self.cfg)
            .field("l2", &self.redis.is_some())
            .field("l3", &self.pool.is_some())
            .finish()
    }
}

/// Redis key of a cached answer under `prefix` (tests delete `<prefix>:cache:*`).
pub fn redis_key(prefix: &str, platform: &str, key: &str) -> String {
    format!("{prefix}:cache:{platform}:{key}")
}

/// The cache key of `url`: scheme and host lower-cased, default port dropped, query
/// parameters sorted, credentials-like parameters and the fragment removed. A string that
/// is not a URL is its own key.
pub fn normalize_url(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let mut pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let mut out = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or(""));
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(parsed.path());
    if !pairs.is_empty() {
        out.push('?');
        let q: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect();
        out.push_str(&q.join("&"));
    }
    out
}

fn encode(value: &Cached) -> Vec<u8> {
    match value {
        Cached::Body(b) => {
            let mut v = Vec::with_capacity(b.len() + 1);
            v.push(b'B');
            v.extend_from_slice(b);
            v
        }
        Cached::NotFound(d) => {
            let mut v = Vec::with_capacity(d.len() + 1);
            v.push(b'N');
            v.extend_from_slice(d.as_bytes());
            v
        }
    }
}

fn decode(raw: &[u8]) -> Option<Cached> {
    let (tag, rest) = raw.split_first()?;
    match tag {
        b'B' => Some(Cached::Body(rest.into())),
        b'N' => Some(Cached::NotFound(String::from_utf8_lossy(rest).into())),
        _ => None,
    }
}

impl ResponseCache {
    /// Caches over the given levels; L2 and L3 are skipped when their connection is `None`
    /// or they are disabled in `cfg`.
    pub fn new(
        cfg: CacheConfig,
        redis: Option<ConnectionManager>,
        pool: Option<PgPool>,
        prefix: &str,
    ) -> Self {
        let l1 = moka::future::Cache::builder()
            .max_capacity(cfg.l1_max_bytes.max(1))
            .weigher(|k: &String, e: &Entry| {
                let len = match &e.value {
                    Cached::Body(b) => b.len(),
                    Cached::NotFound(d) => d.len(),
                };
                u32::try_from(k.len() + len).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        Self {
            redis: redis.filter(|_| cfg.l2_enabled),
            pool: pool.filter(|_| cfg.l3_enabled),
            cfg: Arc::new(cfg),
            l1,
            prefix: prefix.into(),
            counters: Arc::default(),
            warned_l3: Arc::new(AtomicBool::new(false)),
            inflight: Arc::default(),
        }
    }

    /// Whether caching is on at all.
    pub fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// Settings in force.
    pub fn config(&self) -> &CacheConfig {
        &self.cfg
    }

    /// Counts so far in this process.
    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        let pair = |i: usize| {
            (
                c.hits[i].load(Ordering::Relaxed),
                c.misses[i].load(Ordering::Relaxed),
            )
        };
        CacheStats {
            l1: pair(0),
            l2: pair(1),
            l3: pair(2),
            errors: c.errors.load(Ordering::Relaxed),
            coalesced: c.coalesced.load(Ordering::Relaxed),
        }
    }

    /// After every level missed: claims the question for this process in Redis (a marker
    /// that lives at most `hold`), or, when another process holds it, waits for that
    /// process's answer to appear in L2 (polling every 50 ms, at most `hold`). Without
    /// Redis, for keys too long to share, on any Redis error, or when the other process
    /// gave up without an answer (a transient failure is not cached), the caller asks
    /// itself: waiting here never loses a request, it only saves duplicates.
    pub async fn claim_fleet(&self, platform: &str, key: &str, hold: Duration) -> FleetFlight {
        let Some(conn) = &self.redis else {
            return FleetFlight::Ask(None);
        };
        if !self.cfg.enabled || key.len() > MAX_SHARED_KEY_LEN {
            return FleetFlight::Ask(None);
        }
        let flight_key = format!("{}:cache-flight:{platform}:{key}", self.prefix);
        let token = format!("{:016x}", rand::random::<u64>());
        let hold_ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = conn.clone();
        let deadline = tokio::time::Instant::now() + hold;
        let mut counted = false;
        loop {
            let claimed: Result<Option<String>, redis::RedisError> = redis::cmd("SET")
                .arg(&flight_key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(hold_ms)
                .query_async(&mut conn)
                .await;
            match claimed {
                Ok(Some(_)) => {
                    return FleetFlight::Ask(Some(FleetClaim {
                        key: flight_key,
                        token,
                    }));
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "fleet single flight unavailable");
                    return FleetFlight::Ask(None);
                }
            }
            // another process is asking: wait for its answer in L2
            if !counted {
                counted = true;
                self.counters.coalesced.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("cratedigger_cache_coalesced_total", "scope" => "fleet")
                    .increment(1);
            }
            loop {
                if tokio::time::Instant::now() >= deadline {
                    return FleetFlight::Ask(None);
                }
                tokio::time::sleep(FLEET_POLL).await;
                let raw: Result<Option<Vec<u8>>, _> =
                    conn.get(redis_key(&self.prefix, platform, key)).await;
                match raw {
                    Ok(Some(raw)) => {
                        if let Some(value) = decode(&raw) {
                            self.count(Level::L2, "hit");
                            self.fill_l1(Self::l1_key(platform, key), &value).await;
                            return FleetFlight::Answered(value);
                        }
                    }
                    Ok(None) => {}
                    Err(_) => return FleetFlight::Ask(None),
                }
                let held: Result<bool, _> = conn.exists(&flight_key).await;
                match held {
                    // the other process is done without a cacheable answer: try to claim
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(_) => return FleetFlight::Ask(None),
                }
            }
        }
    }

    /// Gives the claim back (only if it is still this caller's), after the answer went to
    /// the cache, so the processes waiting for it find it.
    pub async fn release_fleet(&self, claim: FleetClaim) {
        let Some(conn) = &self.redis else { return };
        let mut conn = conn.clone();
        let res: Result<i64, _> = RELEASE_FLIGHT
            .key(&claim.key)
            .arg(&claim.token)
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = res {
            tracing::debug!(error = %e, "could not release the fleet single flight; it expires");
        }
    }

    /// Waits until no other caller of this process is asking the platform the same
    /// question, then returns the right to ask. A caller that had to wait
    /// ([`Flight::waited`]) should look in the cache again first: a burst of identical
    /// lookups (the same track on several playlist lines) costs one request, not one each.
    pub async fn single_flight(&self, platform: &str, key: &str) -> Flight {
        let key = Self::l1_key(platform, key);
        let lock = {
            let mut map = match self.inflight.lock() {
                Ok(m) => m,
                Err(poisoned) => poisoned.into_inner(),
            };
            map.entry(key.clone()).or_default().clone()
        };
        let (guard, waited) = match lock.clone().try_lock_owned() {
            Ok(g) => (g, false),
            Err(_) => {
                self.counters.coalesced.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("cratedigger_cache_coalesced_total", "scope" => "process")
                    .increment(1);
                (lock.clone().lock_owned().await, true)
            }
        };
        Flight {
            guard: Some(guard),
            lock,
            key,
            inflight: self.inflight.clone(),
            waited,
        }
    }

    fn count(&self, level: Level, result: &'static str) {
        let i = level as usize;
        match result {
            "hit" => self.counters.hits[i].fetch_add(1, Ordering::Relaxed),
            "miss" => self.counters.misses[i].fetch_add(1, Ordering::Relaxed),
            _ => self.counters.errors.fetch_add(1, Ordering::Relaxed),
        };
        metrics::counter!("cratedigger_cache_requests_total", "level" => level.as_str(), "result" => result)
            .increment(1);
    }

    fn l1_key(platform: &str, key: &str) -> String {
        format!("{platform}|{key}")
    }

    fn ttl(&self, value: &Cached, level_ttl_secs: u64) -> Duration {
        let secs = match value {
            Cached::Body(_) => level_ttl_secs,
            Cached::NotFound(_) => level_ttl_secs.min(self.cfg.negative_ttl_secs),
        };
        Duration::from_secs(secs)
    }

    fn storable(&self, value: &Cached) -> bool {
        match value {
            Cached::Body(b) => b.len() <= self.cfg.max_entry_bytes,
            Cached::NotFound(_) => self.cfg.negative_ttl_secs > 0,
        }
    }

    /// The cached answer for `key` (from [`normalize_url`]) of `platform`, and its level.
    pub async fn get(&self, platform: &str, key: &str) -> Option<(Level, Cached)> {
        if !self.cfg.enabled {
            return None;
        }
        let l1_key = Self::l1_key(platform, key);
        if let Some(e) = self.l1.get(&l1_key).await {
            self.count(Level::L1, "hit");
            return Some((Level::L1, e.value));
        }
        self.count(Level::L1, "miss");
        let shared = key.len() <= MAX_SHARED_KEY_LEN;
        if shared && let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let res: Result<Option<Vec<u8>>, _> =
                conn.get(redis_key(&self.prefix, platform, key)).await;
            match res {
                Ok(Some(raw)) => {
                    if let Some(value) = decode(&raw) {
                        self.count(Level::L2, "hit");
                        self.fill_l1(l1_key, &value).await;
                        return Some((Level::L2, value));
                    }
                    self.count(Level::L2, "miss");
                }
                Ok(None) => self.count(Level::L2, "miss"),
                Err(e) => {
                    tracing::debug!(error = %e, "L2 cache lookup failed");
                    self.count(Level::L2, "error");
                }
            }
        }
        if shared && let Some(pool) = &self.pool {
            let res: Result<Option<(Vec<u8>,)>, sqlx::Error> = sqlx::query_as(
                "SELECT body FROM platform_cache \
                 WHERE platform = $1 AND cache_key = $2 AND expires_at > now()",
            )
            .bind(platform)
            .bind(key)
            .fetch_optional(pool)
            .await;
            match res {
                Ok(Some((body,))) => {
                    self.count(Level::L3, "hit");
                    let value = Cached::Body(body.into());
                    self.fill_l1(l1_key, &value).await;
                    self.put_l2(platform, key, &value).await;
                    return Some((Level::L3, value));
                }
                Ok(None) => self.count(Level::L3, "miss"),
                Err(e) => {
                    if !self.warned_l3.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "the PostgreSQL platform cache (L3) is unavailable; going on without it");
                    }
                    self.count(Level::L3, "error");
                }
            }
        }
        None
    }

    async fn fill_l1(&self, l1_key: String, value: &Cached) {
        let ttl = self.ttl(value, self.cfg.l1_ttl_secs);
        if !ttl.is_zero() {
            self.l1
                .insert(
                    l1_key,
                    Entry {
                        value: value.clone(),
                        ttl,
                    },
                )
                .await;
        }
    }

    async fn put_l2(&self, platform: &str, key: &str, value: &Cached) {
        let Some(conn) = &self.redis else { return };
        let ttl = self.ttl(value, self.cfg.l2_ttl_secs);
        if ttl.is_zero() || !self.storable(value) || key.len() > MAX_SHARED_KEY_LEN {
            return;
        }
        let mut conn = conn.clone();
        let res: Result<(), _> = conn
            .pset_ex(
                redis_key(&self.prefix, platform, key),
                encode(value),
                u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            )
            .await;
        if let Err(e) = res {
            tracing::debug!(error = %e, "L2 cache write failed");
            self.count(Level::L2, "error");
        }
    }

    /// Stores an answer at every level (a "not found" only in L1 and L2, for the negative
    /// TTL; bodies over `max_entry_bytes` only in L1).
    pub async fn put(&self, platform: &str, key: &str, value: Cached) {
        if !self.cfg.enabled {
            return;
        }
        if matches!(value, Cached::NotFound(_)) && self.cfg.negative_ttl_secs == 0 {
            return;
        }
        self.fill_l1(Self::l1_key(platform, key), &value).await;
        self.put_l2(platform, key, &value).await;
        let (Some(pool), Cached::Body(body)) = (&self.pool, &value) else {
            return;
        };
        if body.len() > self.cfg.max_entry_bytes || key.len() > MAX_SHARED_KEY_LEN {
            return;
        }
        let ttl_secs = i64::try_from(self.cfg.l3_ttl_secs).unwrap_or(i64::MAX / 2);
        if ttl_secs == 0 {
            return;
        }
        let res = sqlx::query(
            "INSERT INTO platform_cache (platform, cache_key, body, fetched_at, expires_at) \
             VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4)) \
             ON CONFLICT (platform, cache_key) DO UPDATE \
             SET body = EXCLUDED.body, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at",
        )
        .bind(platform)
        .bind(key)
        .bind(&body[..])
        .bind(ttl_secs as f64)
        .execute(pool)
        .await;
        if let Err(e) = res {
            if !self.warned_l3.swap(true, Ordering::Relaxed) {
                tracing::warn!(error = %e, "the PostgreSQL platform cache (L3) is unavailable; going on without it");
            }
            self.count(Level::L3, "error");
        }
    }
}

/// Deletes expired L3 rows, at most `limit` (bounded work per call), so the table does not
/// grow with every answer ever cached; the scheduler's reconciler calls it on each sweep.
/// Returns how many went.
pub async fn purge_expired(pool: &PgPool, limit: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM platform_cache WHERE ctid IN \
         (SELECT ctid FROM platform_cache WHERE expires_at <= now() LIMIT $1)",
    )
    .bind(limit)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// A PostgreSQL pool for L3 that connects on first use, so building the platform layer
/// never blocks or fails on the database; an unreachable database makes L3 miss.
pub fn lazy_pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_to_one_key() {
        assert_eq!(
            normalize_url("HTTPS://MusicBrainz.org:443/ws/2/recording?query=a%20b&fmt=json#x"),
            normalize_url("https://musicbrainz.org/ws/2/recording?fmt=json&query=a+b")
        );
        assert_eq!(
            normalize_url("https://api.discogs.com/database/search?q=x&token=SECRET"),
            "https://api.discogs.com/database/search?q=x"
        );
        assert_eq!(
            normalize_url("http://127.0.0.1:9/track/1"),
            "http://127.0.0.1:9/track/1"
        );
        assert_eq!(normalize_url("not a url"), "not a url");
    }

    #[test]
    fn entries_round_trip_through_their_encoding() {
        let b = Cached::Body(Arc::from(&b"{\"a\":1}"[..]));
        assert_eq!(decode(&encode(&b)), Some(b));
        let n = Cached::NotFound("HTTP 404".into());
        assert_eq!(decode(&encode(&n)), Some(n));
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"Xjunk"), None);
    }

    #[tokio::test]
    async fn l1_serves_a_repeat_and_negative_entries_expire_sooner() {
        let c = ResponseCache::new(CacheConfig::default(), None, None, "t");
        assert!(c.get("mb", "k").await.is_none());
        c.put("mb", "k", Cached::Body(Arc::from(&b"1"[..]))).await;
        assert_eq!(
            c.get("mb", "k").await,
            Some((Level::L1, Cached::Body(Arc::from(&b"1"[..]))))
        );
        assert_eq!(c.stats().l1, (1, 1));
        assert_eq!(
            c.ttl(&Cached::NotFound("x".into()), 3600),
            Duration::from_secs(600)
        );
        let off = ResponseCache::new(
            CacheConfig {
                enabled: false,
                ..CacheConfig::default()
            },
            None,
            None,
            "t",
        );
        off.put("mb", "k", Cached::Body(Arc::from(&b"1"[..]))).await;
        assert!(off.get("mb", "k").await.is_none());
    }
}
