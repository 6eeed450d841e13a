//! The fleet-wide rate limiter: one budget per platform shared by every process of a fleet,
//! so four scouts together stay within MusicBrainz's 1 request/s instead of each using it.
//!
//! GCRA (generic cell rate algorithm) with reservation, in one Lua script (`lua/gcra.lua`):
//! a caller books the next free slot and learns how long to wait for it, so waiting callers
//! never poll Redis and the order is first come, first served across the fleet. Redis' own
//! clock is the only clock. Keys, per platform, under the queue prefix `P`:
//!
//! | key | meaning |
//! |---|---|
//! | `{P:ratelimit}:<platform>` | theoretical arrival time of the next request (µs); expires when idle |
//! | `{P:ratelimit}:<platform>:parked` | present while the platform is parked (a long `Retry-After`); its TTL is the time left |
//! | `{P:ratelimit}:<platform>:log` | send times of the last requests (a sliding log, `lua/confirm.lua`) |
//!
//! Two gates: GCRA books evenly spaced slots (fair, no polling), and right before sending,
//! [`Limiter::confirm`] checks a sliding log of actual send times, so a caller that wakes
//! up late on a busy machine cannot bunch up behind a punctual one beyond the limit.
//!
//! A booking further away than the caller's bound is refused and not recorded (the worker
//! does not hold a job that long; the job is retried later). Without Redis (the `inspect`
//! command, unit tests) or when Redis fails, the same algorithm runs in process.

use crate::platform::RateLimit;
use redis::Script;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::time::Instant;

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/gcra.lua")));
static HOLD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/hold.lua")));
static CONFIRM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/confirm.lua")));

/// A configured override of a platform's limit (`CRATEDIGGER__PLATFORMS__LIMITS__<ID>__*`);
/// what is not set comes from the platform's own published default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Requests allowed per window.
    pub requests: Option<u32>,
    /// Window length in seconds (fractions allowed).
    pub per_secs: Option<f64>,
    /// Requests that may go back to back after an idle spell. 1 (the default) keeps every
    /// sliding window of `per_secs` within `requests`; more lets short bursts exceed it.
    pub burst: Option<u32>,
}

/// The limit in force for one platform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per window.
    pub requests: u32,
    /// Window.
    pub per: Duration,
    /// Back-to-back allowance (1 = evenly spaced).
    pub burst: u32,
    /// Safety margin added to the spacing (0.05 = 5 %): the platform measures arrivals on
    /// its side, after network jitter, so spacing exactly at the limit would sometimes
    /// put one request too many into its window.
    pub margin: f64,
    /// Added to the sliding log's window: the delay a request may take between leaving the
    /// limiter and reaching the platform (see `HttpConfig::rate_jitter_ms`). The minimum:
    /// [`Limiter::confirm`] adds what this process's measured lateness calls for, up to
    /// `jitter_max`.
    pub jitter: Duration,
    /// Ceiling of the allowance when the process is late (see `HttpConfig::rate_jitter_max_ms`).
    pub jitter_max: Duration,
    /// How many times the measured lateness is added to the allowance (see
    /// `HttpConfig::rate_lateness_factor`).
    pub lateness_factor: f64,
}

impl Rate {
    /// The same limit with a send-delay allowance on the sliding log: at least `jitter`,
    /// at most `jitter_max` when this process wakes up late.
    pub fn with_jitter(mut self, jitter: Duration, jitter_max: Duration) -> Rate {
        self.jitter = jitter;
        self.jitter_max = jitter_max.max(jitter);
        self
    }

    /// The same limit with another lateness factor (negative or not finite: the default).
    pub fn with_lateness_factor(mut self, factor: f64) -> Rate {
        self.lateness_factor = if factor.is_finite() && factor >= 0.0 {
            factor
        } else {
            LATENESS_FACTOR
        };
        self
    }

    /// The allowance for a process whose waits currently wake up `lateness` late:
    /// `lateness_factor` times it on top of the minimum, capped at `jitter_max`. A request
    /// leaves the limiter through several wake-ups (the confirmation's reply, the HTTP
    /// client, the platform's side), each as late as the measured one on a busy CPU.
    pub fn allowance(&self, lateness: Duration) -> Duration {
        (self.jitter + lateness.mul_f64(self.lateness_factor)).min(self.jitter_max.max(self.jitter))
    }

    /// The platform's default, overridden by configuration, with `margin`.
    pub fn resolve(default: RateLimit, cfg: Option<&RateLimitConfig>, margin: f64) -> Rate {
        let requests = cfg
            .and_then(|c| c.requests)
            .unwrap_or(default.requests)
            .max(1);
        let per = cfg
            .and_then(|c| c.per_secs)
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(default.per);
        Rate {
            requests,
            per: if per.is_zero() {
                Duration::from_secs(1)
            } else {
                per
            },
            burst: cfg.and_then(|c| c.burst).unwrap_or(1).max(1),
            margin: if margin.is_finite() {
                margin.clamp(0.0, 1.0)
            } else {
                0.0
            },
            jitter: Duration::ZERO,
            jitter_max: Duration::ZERO,
            lateness_factor: LATENESS_FACTOR,
        }
    }

    /// Spacing between two requests (the GCRA emission interval), margin included.
    pub fn interval(&self) -> Duration {
        self.per
            .div_f64(f64::from(self.requests))
            .mul_f64(1.0 + self.margin)
    }

    /// How far ahead of its slot a request may go (burst tolerance).
    pub fn tolerance(&self) -> Duration {
        self.interval() * (self.burst - 1)
    }

    /// Sends the sliding log allows per window (the limit, or the burst if larger).
    pub fn log_limit(&self) -> u32 {
        self.requests.max(self.burst)
    }

    /// The sliding log's window: the limit's window plus the send-delay allowance. A send
    /// reaches the platform at most the allowance after the log records it, so no window
    /// of `per` on the platform's side can hold more than the log allows in `per` +
    /// allowance. The margin is not added again: it already spaces the GCRA slots, and
    /// counting it twice cost 5 % of the throughput (`just bench sync`, docs/benchmarks.md).
    pub fn log_window(&self) -> Duration {
        self.per + self.jitter
    }

    /// Requests per second this limit allows (margin excluded), for reports.
    pub fn per_second(&self) -> f64 {
        f64::from(self.requests) / self.per.as_secs_f64()
    }
}

/// How many times the measured lateness is added to the send-delay allowance by default.
/// 2 kept every 1 s window within the limit in `just bench sync`, quiet and with both CPUs
/// saturated by other processes, since the confirmation's round trip is measured too; 4
/// cost ~10 % of the throughput for nothing measurable; with a fixed 50 ms (no factor)
/// 22 of 20 went through (docs/benchmarks.md).
pub const LATENESS_FACTOR: f64 = 2.0;

/// Half-life of the lateness peak: a busy spell raises the allowance at once; it comes back
/// down within seconds of the machine calming. Sustained load keeps renewing the peak, so a
/// short half-life costs no safety there; a 10 s half-life made every passing spike cost
/// throughput for half a minute (`just bench sync`, docs/benchmarks.md).
const LATENESS_HALF_LIFE: Duration = Duration::from_secs(3);

/// How late this process's waits for a rate-limit slot wake up — a decaying peak. A send
/// can slip behind the time the sliding log records for it by about this much per wake-up,
/// so the allowance follows it instead of being a constant paid in throughput when the
/// machine is quiet (measured in `just bench sync`, docs/benchmarks.md).
#[derive(Debug)]
pub struct Lateness {
    peak: Mutex<(Duration, Instant)>,
}

impl Default for Lateness {
    fn default() -> Self {
        Self {
            peak: Mutex::new((Duration::ZERO, Instant::now())),
        }
    }
}

impl Lateness {
    /// Records one wake-up `late` after its deadline.
    pub fn observe(&self, late: Duration) {
        let now = Instant::now();
        let Ok(mut p) = self.peak.lock() else {
            return;
        };
        let decayed = decay(p.0, now.saturating_duration_since(p.1));
        *p = (decayed.max(late), now);
    }

    /// The decayed peak now.
    pub fn current(&self) -> Duration {
        let Ok(p) = self.peak.lock() else {
            return Duration::ZERO;
        };
        decay(p.0, Instant::now().saturating_duration_since(p.1))
    }
}

fn decay(peak: Duration, elapsed: Duration) -> Duration {
    let halvings = elapsed.as_secs_f64() / LATENESS_HALF_LIFE.as_secs_f64();
    peak.mul_f64(0.5f64.powf(halvings.min(64.0)))
}

/// The lateness of this process (one per process: CPU contention is the process's, not a
/// platform's).
pub fn lateness() -> &'static Lateness {
    static LATENESS: std::sync::OnceLock<Lateness> = std::sync::OnceLock::new();
    LATENESS.get_or_init(Lateness::default)
}

/// Sleeps `wait` (a booked slot, a full sliding window) and records how late the wake-up
/// came in [`lateness`].
pub async fn sleep_measuring_lateness(wait: Duration) {
    let deadline = Instant::now() + wait;
    tokio::time::sleep_until(deadline).await;
    lateness().observe(Instant::now().saturating_duration_since(deadline));
}

/// The limiter's answer to "may I send a request?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Yes, after waiting this long (the slot is booked).
    Go(Duration),
    /// No: the next slot is this far away, longer than the caller's bound (nothing booked).
    Refused(Duration),
    /// No: the platform is parked for this much longer (a long `Retry-After`).
    Parked(Duration),
    /// No: another process's circuit breaker opened on this platform (`since`), for this
    /// much longer.
    CircuitOpen(crate::breaker::Open),
}

/// GCRA state kept in process (no Redis, or Redis failing).
#[derive(Debug, Default)]
pub struct LocalGcra {
    state: Mutex<LocalState>,
}

#[derive(Debug, Default)]
struct LocalState {
    tat: Option<Instant>,
    parked_until: Option<Instant>,
    log: std::collections::VecDeque<Instant>,
}

impl LocalGcra {
    fn acquire(&self, rate: &Rate, max_wait: Duration) -> Admission {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return Admission::Go(Duration::ZERO);
        };
        if let Some(until) = s.parked_until {
            if until > now {
                return Admission::Parked(until - now);
            }
            s.parked_until = None;
        }
        let tat = s.tat.filter(|t| *t > now).unwrap_or(now);
        let allow_at = tat.checked_sub(rate.tolerance()).unwrap_or(now).max(now);
        let wait = allow_at - now;
        if wait > max_wait {
            return Admission::Refused(wait);
        }
        s.tat = Some(tat + rate.interval());
        Admission::Go(wait)
    }

    fn confirm(&self, rate: &Rate) -> Duration {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return Duration::ZERO;
        };
        let window = rate.log_window();
        while s.log.front().is_some_and(|t| now - *t >= window) {
            s.log.pop_front();
        }
        if s.log.len() < rate.log_limit() as usize {
            s.log.push_back(now);
            return Duration::ZERO;
        }
        let oldest = s.log.front().copied().unwrap_or(now);
        (oldest + window - now).max(Duration::from_micros(1))
    }

    fn hold(&self, rate: &Rate, wait: Duration, park: bool) {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if park {
            let until = now + wait;
            if s.parked_until.is_none_or(|u| u < until) {
                s.parked_until = Some(until);
            }
        } else {
            let until = now + wait + rate.tolerance();
            if s.tat.is_none_or(|t| t < until) {
                s.tat = Some(until);
            }
        }
    }
}

#[derive(Clone)]
enum Backend {
    /// Shared by the fleet through Redis; `local` answers when Redis fails.
    Redis {
        conn: ConnectionManager,
        tat_key: Arc<str>,
        parked_key: Arc<str>,
        open_key: Arc<str>,
        log_key: Arc<str>,
    },
    /// This process only.
    Local,
}

/// One platform's limiter. Cheap to clone; clones share the budget.
#[derive(Clone)]
pub struct Limiter {
    platform: Arc<str>,
    rate: Rate,
    backend: Backend,
    local: Arc<LocalGcra>,
    warned: Arc<AtomicBool>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("platform", &self.platform)
            .field("rate", &self.rate)
            .field("fleet_wide", &self.is_fleet_wide())
            .finish()
    }
}

/// Redis key of a platform's schedule under `prefix`; the hash tag keeps the schedule and
/// the parked marker in one cluster slot, so one script can touch both.
pub fn tat_key(prefix: &str, platform: &str) -> String {
    format!("{{{prefix}:ratelimit}}:{platform}")
}

/// Redis key present while some process's circuit breaker is open on the platform.
pub fn open_key(prefix: &str, platform: &str) -> String {
    format!("{{{prefix}:ratelimit}}:{platform}:open")
}

/// Redis key of a platform's parked marker under `prefix`.
pub fn parked_key(prefix: &str, platform: &str) -> String {
    format!("{{{prefix}:ratelimit}}:{platform}:parked")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Limiter {
    /// A limiter for this process only, over `state` (share one state per platform).
    pub fn local(platform: &str, rate: Rate, state: Arc<LocalGcra>) -> Self {
        Self {
            platform: platform.into(),
            rate,
            backend: Backend::Local,
            local: state,
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A fleet-wide limiter in Redis under `prefix`; `fallback` is used while Redis fails.
    pub fn redis(
        platform: &str,
        rate: Rate,
        conn: ConnectionManager,
        prefix: &str,
        fallback: Arc<LocalGcra>,
    ) -> Self {
        Self {
            platform: platform.into(),
            rate,
            backend: Backend::Redis {
                conn,
                tat_key: tat_key(prefix, platform).into(),
                parked_key: parked_key(prefix, platform).into(),
                open_key: open_key(prefix, platform).into(),
                log_key: format!("{{{prefix}:ratelimit}}:{platform}:log").into(),
            },
            local: fallback,
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The limit in force.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Whether the budget is shared through Redis.
    pub fn is_fleet_wide(&self) -> bool {
        matches!(self.backend, Backend::Redis { .. })
    }

    fn redis_failed(&self, e: &redis::RedisError) {
        metrics::counter!("cratedigger_ratelimit_fallback_total", "platform" => self.platform.to_string())
            .increment(1);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                platform = %self.platform,
                error = %e,
                "the fleet-wide rate limiter in Redis failed; limiting this process alone until Redis answers again"
            );
        }
    }

    /// Books the next slot unless it is further away than `max_wait` or the platform is
    /// parked. Does not sleep: the caller waits [`Admission::Go`]'s duration.
    pub async fn acquire(&self, max_wait: Duration) -> Admission {
        let Backend::Redis {
            conn,
            tat_key,
            parked_key,
            open_key,
            ..
        } = &self.backend
        else {
            return self.local.acquire(&self.rate, max_wait);
        };
        let mut conn = conn.clone();
        let res: Result<(i64, i64, i64), redis::RedisError> = GCRA
            .key(&**tat_key)
            .key(&**parked_key)
            .key(&**open_key)
            .arg(micros(self.rate.interval()))
            .arg(micros(self.rate.tolerance()))
            .arg(micros(max_wait))
            .invoke_async(&mut conn)
            .await;
        match res {
            Ok((verdict, wait_us, opened_ms)) => {
                self.warned.store(false, Ordering::Relaxed);
                let wait = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0));
                match verdict {
                    0 => Admission::Go(wait),
                    1 => Admission::Refused(wait),
                    3 => Admission::CircuitOpen(crate::breaker::Open {
                        since: std::time::UNIX_EPOCH
                            + Duration::from_millis(u64::try_from(opened_ms).unwrap_or(0)),
                        retry_in: wait,
                    }),
                    _ => Admission::Parked(wait),
                }
            }
            Err(e) => {
                self.redis_failed(&e);
                self.local.acquire(&self.rate, max_wait)
            }
        }
    }

    /// The last gate, right before sending: zero when the request may go now (its send
    /// time is logged), else how long to wait before asking again, because the window
    /// already holds the limit (a caller woke up late behind punctual ones).
    pub async fn confirm(&self) -> Duration {
        let mut rate = self.rate;
        rate.jitter = rate.allowance(lateness().current());
        metrics::gauge!("cratedigger_ratelimit_allowance_seconds", "platform" => self.platform.to_string())
            .set(rate.jitter.as_secs_f64());
        let Backend::Redis { conn, log_key, .. } = &self.backend else {
            return self.local.confirm(&rate);
        };
        let member = format!(
            "{:x}-{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
            rand::random::<u64>()
        );
        let mut conn = conn.clone();
        let asked = Instant::now();
        let res: Result<i64, redis::RedisError> = CONFIRM
            .key(&**log_key)
            .arg(micros(rate.log_window()))
            .arg(rate.log_limit())
            .arg(member)
            .invoke_async(&mut conn)
            .await;
        // The send was logged somewhere inside this round trip: a slow reply (a busy CPU
        // waking this task late) is delay between the log and the platform, like a late slot.
        lateness().observe(asked.elapsed());
        match res {
            Ok(wait_us) => Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            Err(e) => {
                self.redis_failed(&e);
                self.local.confirm(&rate)
            }
        }
    }

    /// This process's circuit breaker just opened on the platform: every process of the
    /// fleet is refused ([`Admission::CircuitOpen`]) until the cool-down is over. Without
    /// Redis there is nobody to tell (the local breaker already refuses).
    pub async fn share_open(&self, open: &crate::breaker::Open) {
        let Backend::Redis { conn, open_key, .. } = &self.backend else {
            return;
        };
        let since_ms = open
            .since
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let ttl_ms = u64::try_from(open.retry_in.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut conn = conn.clone();
        let res: Result<(), redis::RedisError> = redis::cmd("SET")
            .arg(&**open_key)
            .arg(since_ms.to_string())
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut conn)
            .await;
        if let Err(e) = res {
            self.redis_failed(&e);
        }
    }

    /// The platform asked us to wait `wait` (`Retry-After`). With `park`, every caller in
    /// the fleet fails fast until then; otherwise nobody is admitted before it is over.
    /// `why` is stored beside the parked marker for people reading Redis.
    pub async fn hold(&self, wait: Duration, park: bool, why: &str) {
        if wait.is_zero() {
            return;
        }
        // in process too, so this process honours it even if Redis is lost meanwhile
        self.local.hold(&self.rate, wait, park);
        let Backend::Redis {
            conn,
            tat_key,
            parked_key,
            ..
        } = &self.backend
        else {
            return;
        };
        let mut conn = conn.clone();
        let res: Result<i64, redis::RedisError> = HOLD
            .key(&**tat_key)
            .key(&**parked_key)
            .arg(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg(if park { "1" } else { "0" })
            .arg(why)
            .arg(micros(self.rate.tolerance()))
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = res {
            self.redis_failed(&e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(requests: u32, per_ms: u64, burst: u32) -> Rate {
        Rate {
            requests,
            per: Duration::from_millis(per_ms),
            burst,
            margin: 0.0,
            jitter: Duration::ZERO,
            jitter_max: Duration::ZERO,
            lateness_factor: LATENESS_FACTOR,
        }
    }

    #[test]
    fn the_allowance_grows_with_lateness_between_its_floor_and_ceiling() {
        let r =
            rate(20, 1000, 1).with_jitter(Duration::from_millis(50), Duration::from_millis(400));
        assert_eq!(r.allowance(Duration::ZERO), Duration::from_millis(50));
        assert_eq!(
            r.allowance(Duration::from_millis(10)),
            Duration::from_millis(70),
            "50 ms floor + 2 x 10 ms"
        );
        assert_eq!(
            r.with_lateness_factor(4.0)
                .allowance(Duration::from_millis(10)),
            Duration::from_millis(90)
        );
        assert_eq!(
            r.with_lateness_factor(f64::NAN).lateness_factor,
            LATENESS_FACTOR
        );
        assert_eq!(
            r.allowance(Duration::from_secs(5)),
            Duration::from_millis(400)
        );
        // A ceiling below the floor never lowers the floor.
        let r = rate(20, 1000, 1).with_jitter(Duration::from_millis(300), Duration::ZERO);
        assert_eq!(
            r.allowance(Duration::from_secs(1)),
            Duration::from_millis(300)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn lateness_keeps_the_peak_and_halves_it_every_half_life() {
        let l = Lateness::default();
        assert_eq!(l.current(), Duration::ZERO);
        l.observe(Duration::from_millis(80));
        l.observe(Duration::from_millis(20));
        assert_eq!(l.current(), Duration::from_millis(80));
        tokio::time::advance(LATENESS_HALF_LIFE).await;
        let halved = l.current().as_secs_f64();
        assert!((halved - 0.040).abs() < 1e-6, "{halved}");
        tokio::time::advance(LATENESS_HALF_LIFE * 6).await;
        assert!(l.current() < Duration::from_millis(1));
    }

    #[test]
    fn configuration_overrides_the_platform_default_field_by_field() {
        let mb = RateLimit {
            requests: 1,
            per: Duration::from_secs(1),
        };
        let r = Rate::resolve(mb, None, 0.05);
        assert_eq!((r.requests, r.per, r.burst), (1, Duration::from_secs(1), 1));
        assert_eq!(r.interval(), Duration::from_millis(1050));
        let cfg = RateLimitConfig {
            requests: Some(5),
            ..Default::default()
        };
        let r = Rate::resolve(mb, Some(&cfg), 0.0);
        assert_eq!(r.interval(), Duration::from_millis(200));
        assert_eq!(r.per_second(), 5.0);
        let bad = RateLimitConfig {
            requests: Some(0),
            per_secs: Some(-1.0),
            burst: Some(0),
        };
        let r = Rate::resolve(mb, Some(&bad), f64::NAN);
        assert_eq!((r.requests, r.per, r.burst), (1, Duration::from_secs(1), 1));
        assert_eq!(r.margin, 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn local_gcra_spaces_requests_and_refuses_far_bookings() {
        let l = Limiter::local("x", rate(2, 1000, 1), Arc::default());
        let b = Duration::from_secs(10);
        assert_eq!(l.acquire(b).await, Admission::Go(Duration::ZERO));
        assert_eq!(
            l.acquire(b).await,
            Admission::Go(Duration::from_millis(500))
        );
        assert_eq!(
            l.acquire(b).await,
            Admission::Go(Duration::from_millis(1000))
        );
        // the next slot is 1.5 s away: refused under a 1 s bound, and nothing is booked
        assert_eq!(
            l.acquire(Duration::from_secs(1)).await,
            Admission::Refused(Duration::from_millis(1500))
        );
        assert_eq!(
            l.acquire(b).await,
            Admission::Go(Duration::from_millis(1500))
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(l.acquire(b).await, Admission::Go(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn the_sliding_log_refuses_a_late_caller_that_would_bunch_up() {
        let l = Limiter::local("x", rate(2, 1000, 1), Arc::default());
        assert_eq!(l.confirm().await, Duration::ZERO);
        tokio::time::advance(Duration::from_millis(300)).await;
        assert_eq!(l.confirm().await, Duration::ZERO);
        // a third send within the same second must wait until the first leaves the window
        assert_eq!(l.confirm().await, Duration::from_millis(700));
        tokio::time::advance(Duration::from_millis(700)).await;
        assert_eq!(l.confirm().await, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn local_burst_allows_back_to_back_then_spacing() {
        let l = Limiter::local("x", rate(10, 1000, 3), Arc::default());
        let b = Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(l.acquire(b).await, Admission::Go(Duration::ZERO));
        }
        assert_eq!(
            l.acquire(b).await,
            Admission::Go(Duration::from_millis(100))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn local_hold_delays_everyone_and_park_fails_fast() {
        let l = Limiter::local("x", rate(10, 1000, 1), Arc::default());
        let b = Duration::from_secs(100);
        l.hold(Duration::from_secs(7), false, "").await;
        assert_eq!(l.acquire(b).await, Admission::Go(Duration::from_secs(7)));
        l.hold(Duration::from_secs(3600), true, "").await;
        assert_eq!(
            l.acquire(b).await,
            Admission::Parked(Duration::from_secs(3600))
        );
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(matches!(l.acquire(b).await, Admission::Go(_)));
    }
}
