//! What every platform client shares in one process: the Redis connection for the
//! fleet-wide limiter and the L2 cache, the PostgreSQL pool for the L3 cache, the L1 cache,
//! one circuit breaker and one in-process limiter state per platform, and the layer's
//! settings. A platform gets all of it by building its HTTP client with
//! [`PlatformContext::http_client`]; nothing else is needed for a new platform.

use crate::breaker::{BreakerConfig, CircuitBreaker};
use crate::cache::{CacheStats, ResponseCache};
use crate::config::PlatformsConfig;
use crate::http::{HttpClient, HttpClientOptions, PlatformError};
use crate::limiter::{Limiter, LocalGcra, Rate, RateLimitConfig};
use crate::platform::PlatformInfo;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Shared state of the platform layer in one process. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct PlatformContext {
    redis: Option<ConnectionManager>,
    store_pool: Option<PgPool>,
    key_prefix: Arc<str>,
    limits: Arc<BTreeMap<String, RateLimitConfig>>,
    margin: f64,
    jitter: std::time::Duration,
    jitter_max: std::time::Duration,
    lateness_factor: f64,
    breaker_cfg: Arc<BreakerConfig>,
    cache: ResponseCache,
    breakers: Arc<Mutex<HashMap<String, CircuitBreaker>>>,
    local_limits: Arc<Mutex<HashMap<String, Arc<LocalGcra>>>>,
}

impl std::fmt::Debug for PlatformContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformContext")
            .field("redis", &self.redis.is_some())
            .field("store_pool", &self.store_pool.is_some())
            .field("key_prefix", &self.key_prefix)
            .field("limits", &self.limits)
            .field("cache", &self.cache)
            .finish()
    }
}

impl Default for PlatformContext {
    /// In process only, default settings.
    fn default() -> Self {
        Self::local(&PlatformsConfig::default())
    }
}

impl PlatformContext {
    /// Everything in this process: in-process limiter (per process, not per fleet), L1
    /// cache only. For `cratedigger inspect`, tools and unit tests.
    pub fn local(cfg: &PlatformsConfig) -> Self {
        Self::new(cfg, None, None, "cratedigger")
    }

    /// The full layer: with `redis`, limits are fleet-wide and L2 is on; with
    /// `store_pool`, L3 is on. Redis keys live under `key_prefix` (the queue prefix, so one
    /// fleet shares one budget and tests stay apart).
    pub fn new(
        cfg: &PlatformsConfig,
        redis: Option<ConnectionManager>,
        store_pool: Option<PgPool>,
        key_prefix: &str,
    ) -> Self {
        let cache = ResponseCache::new(
            cfg.cache.clone(),
            redis.clone(),
            store_pool.clone(),
            key_prefix,
        );
        Self {
            redis,
            store_pool,
            key_prefix: key_prefix.into(),
            limits: Arc::new(cfg.limits.clone()),
            margin: cfg.http.rate_margin_pct / 100.0,
            jitter: std::time::Duration::from_millis(cfg.http.rate_jitter_ms),
            jitter_max: std::time::Duration::from_millis(cfg.http.rate_jitter_max_ms),
            lateness_factor: cfg.http.rate_lateness_factor,
            breaker_cfg: Arc::new(cfg.breaker.clone()),
            cache,
            breakers: Arc::default(),
            local_limits: Arc::default(),
        }
    }

    /// The Redis connection, when the limits are fleet-wide.
    pub fn redis(&self) -> Option<&ConnectionManager> {
        self.redis.as_ref()
    }

    /// The PostgreSQL pool of the L3 cache, if any.
    pub fn store_pool(&self) -> Option<&PgPool> {
        self.store_pool.as_ref()
    }

    /// Prefix of this layer's Redis keys.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The response cache shared by every client of this context.
    pub fn cache(&self) -> &ResponseCache {
        &self.cache
    }

    /// Cache hits and misses per level so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The limit in force for a platform: its published default, overridden by
    /// `CRATEDIGGER__PLATFORMS__LIMITS__<ID>__REQUESTS` / `__PER_SECS` / `__BURST`.
    pub fn rate_for(&self, info: &PlatformInfo) -> Rate {
        Rate::resolve(
            info.default_rate_limit,
            self.limits.get(info.id),
            self.margin,
        )
        .with_jitter(self.jitter, self.jitter_max)
        .with_lateness_factor(self.lateness_factor)
    }

    /// The platform's limiter: fleet-wide in Redis when the context has Redis.
    pub fn limiter(&self, info: &PlatformInfo) -> Limiter {
        let rate = self.rate_for(info);
        let local = self
            .local_limits
            .lock()
            .map(|mut m| m.entry(info.id.to_string()).or_default().clone())
            .unwrap_or_default();
        match &self.redis {
            Some(conn) => Limiter::redis(info.id, rate, conn.clone(), &self.key_prefix, local),
            None => Limiter::local(info.id, rate, local),
        }
    }

    /// The platform's circuit breaker (one per platform per process).
    pub fn breaker(&self, id: &str) -> CircuitBreaker {
        let make = || CircuitBreaker::new(id, (*self.breaker_cfg).clone());
        self.breakers
            .lock()
            .map(|mut m| m.entry(id.to_string()).or_insert_with(make).clone())
            .unwrap_or_else(|_| make())
    }

    /// The HTTP client of a platform with the whole layer: fleet-wide limiter with
    /// `Retry-After` parking, circuit breaker, L1/L2/L3 cache, metrics. `info` gives the
    /// id, the name people read and the default limit (a client may pass an adjusted copy,
    /// e.g. Discogs' lower limit without a token).
    pub fn http_client(
        &self,
        info: &PlatformInfo,
        opts: HttpClientOptions,
    ) -> Result<HttpClient, PlatformError> {
        Ok(HttpClient::new(info.id, opts)?.with_layer(
            info.display_name,
            self.limiter(info),
            self.breaker(info.id),
            self.cache.clone(),
        ))
    }
}
