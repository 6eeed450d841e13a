//! The fleet-wide Soulseek etiquette: a search budget, one search (and one enqueue) at a
//! time, a quiet time after empty results, and the ban pause. One Soulseek account and one
//! IP serve the whole fleet, so every worker draws from one budget in Redis.
//!
//! Keys, under the queue prefix `P` (one hash tag, so they share a cluster slot):
//!
//! | key | meaning |
//! |---|---|
//! | `{P:soulseek}:log` | send times of the searches in the window: the sliding log of the fleet's limiter (`lua/confirm.lua`, reused) |
//! | `{P:soulseek}:lock:search` | the one search in flight (token of its holder; the TTL is its lease) |
//! | `{P:soulseek}:lock:enqueue` | the one enqueue request in flight (slskd >= 0.24 answers 429 to concurrent ones) |
//! | `{P:soulseek}:quiet` | present for the quiet time after a search that found nothing |
//! | `{P:soulseek}:paused` | present while the fleet's Soulseek work is paused (suspected ban); holds the reason, its TTL is the time left (`lua/hold.lua`'s park, reused) |
//! | `{P:soulseek}:errors` | errored searches in a row |
//!
//! Order of one search admission: paused? → quiet time? → take the search slot (`SET NX PX`)
//! → sliding log (logs the send, or tells how long until the oldest search leaves the
//! window, in which case the slot is given back). Holding the slot while the log is checked
//! makes the check-and-log effectively atomic across the fleet, and a refused search never
//! consumes budget. [`SearchBudget::acquire_search`] waits at most `max_wait` and otherwise
//! returns a rate-limit error carrying the wait, so the scout re-queues the item instead of
//! a worker sleeping for minutes.
//!
//! Without Redis (tools, unit tests) or while Redis fails, the same rules run in process
//! (on tokio's clock, so tests can pause time).

use crate::context::PlatformContext;
use crate::http::PlatformError;
use cratedigger_domain::ErrorClass;
use redis::Script;
use redis::aio::ConnectionManager;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The fleet limiter's sliding log, reused as the search budget's log.
static CONFIRM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/confirm.lua")));
/// The fleet limiter's park (never shortens a longer one), reused as the ban pause.
static HOLD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/hold.lua")));
/// Gives a slot back (holder only) and starts the quiet time after an empty search.
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/soulseek_release.lua")));

/// In-process budgets by key prefix, so every Soulseek client of one process (and
/// `soulseek_paused_until`) shares one state when there is no Redis.
static LOCAL: LazyLock<Mutex<HashMap<String, Arc<LocalBudget>>>> = LazyLock::new(Default::default);

/// How often a caller asks again while another holds the slot.
const BUSY_POLL: Duration = Duration::from_millis(250);

/// The etiquette's numbers (from [`super::SoulseekConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    /// Searches per window, fleet-wide.
    pub searches: u32,
    /// The window.
    pub window: Duration,
    /// Quiet time after a search that found nothing.
    pub empty_gap: Duration,
    /// How long a suspected ban pauses the fleet.
    pub ban_pause: Duration,
    /// Errored searches in a row counted as a ban.
    pub ban_after_errors: u32,
    /// Lease of the search slot (a crashed holder frees it after this).
    pub search_lease: Duration,
    /// Lease of the enqueue slot.
    pub enqueue_lease: Duration,
    /// Longest a caller waits before getting a rate-limit error with the wait.
    pub max_wait: Duration,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self::from_soulseek(&super::SoulseekConfig::default())
    }
}

impl BudgetConfig {
    /// The budget part of the Soulseek settings; nonsense values fall back to safe ones.
    pub fn from_soulseek(c: &super::SoulseekConfig) -> Self {
        let secs = |v: f64, default: f64| {
            Duration::from_secs_f64(if v.is_finite() && v >= 0.0 {
                v
            } else {
                default
            })
        };
        let window = secs(c.window_secs, 220.0);
        Self {
            searches: c.searches_per_window.max(1),
            window: if window.is_zero() {
                Duration::from_secs(220)
            } else {
                window
            },
            empty_gap: secs(c.empty_result_gap_secs, 5.0),
            ban_pause: Duration::from_secs(c.ban_pause_secs.max(1)),
            ban_after_errors: c.ban_after_errors.max(1),
            search_lease: Duration::from_secs(
                c.search_deadline_secs
                    .saturating_add(c.timeout_secs.saturating_mul(3))
                    .saturating_add(10),
            ),
            enqueue_lease: Duration::from_secs(c.timeout_secs.saturating_add(10)),
            max_wait: Duration::from_secs(c.max_wait_secs),
        }
    }
}

/// Why a caller has to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// The window already holds the fleet's searches.
    Budget,
    /// The quiet time after a search that found nothing.
    EmptyGap,
    /// Another worker's search (or enqueue) is in flight.
    Busy,
}

/// A slot held by this caller; give it back with [`SearchBudget::finish`] or
/// [`SearchBudget::release`] (the lease frees it anyway if the process dies).
#[derive(Debug)]
pub struct SearchPermit {
    token: String,
    slot: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Search,
    Enqueue,
}

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::Search => "search",
            Slot::Enqueue => "enqueue",
        }
    }
}

/// One admission attempt's answer.
#[derive(Debug)]
pub enum Gate {
    /// Go: the slot is held (and, for a search, the send is logged).
    Go(SearchPermit),
    /// Ask again after `retry_in`.
    Wait {
        /// When to ask again (for the budget: when the oldest search leaves the window).
        retry_in: Duration,
        /// Why.
        reason: WaitReason,
    },
    /// The fleet's Soulseek work is paused for `left` more.
    Paused {
        /// Time left.
        left: Duration,
        /// What paused it (stored beside the marker for operators).
        reason: String,
    },
}

/// How a search ended, for the budget and the ban detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOutcome {
    /// Responses arrived.
    Found,
    /// Nothing found: the quiet time starts.
    Empty,
    /// slskd reported the search errored (a ban sign when it repeats).
    Errored,
    /// The search was not sent or slskd refused it (429, network): the slot is given back.
    Aborted,
}

/// In-process state (no Redis, or Redis failing).
#[derive(Debug, Default)]
pub struct LocalBudget {
    state: Mutex<LocalState>,
}

#[derive(Debug, Default)]
struct LocalState {
    paused: Option<(Instant, String)>,
    quiet_until: Option<Instant>,
    log: VecDeque<Instant>,
    locks: HashMap<Slot, (String, Instant)>,
    errors: u32,
}

impl LocalBudget {
    fn try_take(&self, cfg: &BudgetConfig, slot: Slot, token: &str) -> Gate {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return Gate::Wait {
                retry_in: BUSY_POLL,
                reason: WaitReason::Busy,
            };
        };
        if let Some((until, why)) = &s.paused {
            if *until > now {
                return Gate::Paused {
                    left: *until - now,
                    reason: why.clone(),
                };
            }
            s.paused = None;
        }
        if slot == Slot::Search
            && let Some(q) = s.quiet_until.filter(|q| *q > now)
        {
            return Gate::Wait {
                retry_in: q - now,
                reason: WaitReason::EmptyGap,
            };
        }
        if let Some((_, expiry)) = s.locks.get(&slot)
            && *expiry > now
        {
            return Gate::Wait {
                retry_in: (*expiry - now).min(BUSY_POLL),
                reason: WaitReason::Busy,
            };
        }
        if slot == Slot::Search {
            while s.log.front().is_some_and(|t| now - *t >= cfg.window) {
                s.log.pop_front();
            }
            if s.log.len() >= cfg.searches as usize {
                let oldest = s.log.front().copied().unwrap_or(now);
                return Gate::Wait {
                    retry_in: (oldest + cfg.window - now).max(Duration::from_millis(1)),
                    reason: WaitReason::Budget,
                };
            }
            s.log.push_back(now);
        }
        let lease = match slot {
            Slot::Search => cfg.search_lease,
            Slot::Enqueue => cfg.enqueue_lease,
        };
        s.locks.insert(slot, (token.to_string(), now + lease));
        Gate::Go(SearchPermit {
            token: token.to_string(),
            slot,
        })
    }

    fn release(&self, permit: &SearchPermit, gap: Duration) {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if s.locks
            .get(&permit.slot)
            .is_some_and(|(t, _)| *t == permit.token)
        {
            s.locks.remove(&permit.slot);
        }
        if !gap.is_zero() {
            let until = now + gap;
            if s.quiet_until.is_none_or(|q| q < until) {
                s.quiet_until = Some(until);
            }
        }
    }

    fn pause(&self, wait: Duration, why: &str) -> Duration {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return wait;
        };
        if let Some((until, _)) = &s.paused
            && *until > now + wait
        {
            return *until - now;
        }
        s.paused = Some((now + wait, why.to_string()));
        wait
    }

    fn paused(&self) -> Option<(Duration, String)> {
        let now = Instant::now();
        let s = self.state.lock().ok()?;
        s.paused
            .as_ref()
            .filter(|(until, _)| *until > now)
            .map(|(until, why)| (*until - now, why.clone()))
    }

    fn note_error(&self) -> u32 {
        self.state
            .lock()
            .map(|mut s| {
                s.errors = s.errors.saturating_add(1);
                s.errors
            })
            .unwrap_or(1)
    }

    fn clear_errors(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.errors = 0;
        }
    }

    fn searches_in_window(&self, cfg: &BudgetConfig) -> usize {
        let now = Instant::now();
        self.state
            .lock()
            .map(|s| s.log.iter().filter(|t| now - **t < cfg.window).count())
            .unwrap_or(0)
    }
}

#[derive(Clone)]
struct Keys {
    log: String,
    search_lock: String,
    enqueue_lock: String,
    quiet: String,
    paused: String,
    errors: String,
    hold: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        let k = |s: &str| format!("{{{prefix}:soulseek}}:{s}");
        Self {
            log: k("log"),
            search_lock: k("lock:search"),
            enqueue_lock: k("lock:enqueue"),
            quiet: k("quiet"),
            paused: k("paused"),
            errors: k("errors"),
            hold: k("hold"),
        }
    }

    fn lock(&self, slot: Slot) -> &str {
        match slot {
            Slot::Search => &self.search_lock,
            Slot::Enqueue => &self.enqueue_lock,
        }
    }
}

/// Redis key of the fleet's Soulseek pause marker under `prefix` (operators can read or
/// delete it: `DEL` ends the pause early).
pub fn paused_key(prefix: &str) -> String {
    Keys::new(prefix).paused
}

/// Redis key of the fleet's Soulseek search log under `prefix` (a sorted set of send times).
pub fn log_key(prefix: &str) -> String {
    Keys::new(prefix).log
}

/// The fleet-wide Soulseek budget. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct SearchBudget {
    cfg: BudgetConfig,
    redis: Option<ConnectionManager>,
    keys: Keys,
    local: Arc<LocalBudget>,
    warned: Arc<AtomicBool>,
}

impl std::fmt::Debug for SearchBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchBudget")
            .field("cfg", &self.cfg)
            .field("fleet_wide", &self.redis.is_some())
            .finish()
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn new_token() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

impl SearchBudget {
    /// The budget of the process's context: in Redis (fleet-wide) when the context has
    /// Redis, else in process (shared by every client with the same key prefix).
    pub fn new(ctx: &PlatformContext, cfg: BudgetConfig) -> Self {
        Self {
            cfg,
            redis: ctx.redis().cloned(),
            keys: Keys::new(ctx.key_prefix()),
            local: local_state(ctx.key_prefix()),
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A budget for this process only, with a fresh state (unit tests, tools).
    pub fn in_process(cfg: BudgetConfig) -> Self {
        Self {
            cfg,
            redis: None,
            keys: Keys::new("local"),
            local: Arc::default(),
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The numbers in force.
    pub fn config(&self) -> &BudgetConfig {
        &self.cfg
    }

    /// Whether the budget is shared through Redis.
    pub fn is_fleet_wide(&self) -> bool {
        self.redis.is_some()
    }

    fn redis_failed(&self, e: &redis::RedisError) {
        metrics::counter!("cratedigger_ratelimit_fallback_total", "platform" => super::ID)
            .increment(1);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = %e,
                "the fleet-wide Soulseek budget in Redis failed; limiting this process alone until Redis answers again"
            );
        }
    }

    /// One attempt to take the search slot (paused? quiet time? slot free? budget left?).
    pub async fn try_search(&self) -> Gate {
        self.try_take(Slot::Search).await
    }

    /// One attempt to take the enqueue slot (paused? slot free?).
    pub async fn try_enqueue(&self) -> Gate {
        self.try_take(Slot::Enqueue).await
    }

    async fn try_take(&self, slot: Slot) -> Gate {
        let token = new_token();
        let Some(conn) = &self.redis else {
            return self.local.try_take(&self.cfg, slot, &token);
        };
        match self.try_take_redis(conn.clone(), slot, &token).await {
            Ok(gate) => {
                self.warned.store(false, Ordering::Relaxed);
                gate
            }
            Err(e) => {
                self.redis_failed(&e);
                self.local.try_take(&self.cfg, slot, &token)
            }
        }
    }

    async fn try_take_redis(
        &self,
        mut conn: ConnectionManager,
        slot: Slot,
        token: &str,
    ) -> Result<Gate, redis::RedisError> {
        let (paused_ms, reason, quiet_ms): (i64, Option<String>, i64) = redis::pipe()
            .cmd("PTTL")
            .arg(&self.keys.paused)
            .cmd("GET")
            .arg(&self.keys.paused)
            .cmd("PTTL")
            .arg(&self.keys.quiet)
            .query_async(&mut conn)
            .await?;
        if paused_ms > 0 {
            return Ok(Gate::Paused {
                left: Duration::from_millis(paused_ms as u64),
                reason: reason.unwrap_or_default(),
            });
        }
        if slot == Slot::Search && quiet_ms > 0 {
            return Ok(Gate::Wait {
                retry_in: Duration::from_millis(quiet_ms as u64),
                reason: WaitReason::EmptyGap,
            });
        }
        let lease = match slot {
            Slot::Search => self.cfg.search_lease,
            Slot::Enqueue => self.cfg.enqueue_lease,
        };
        let taken: Option<String> = redis::cmd("SET")
            .arg(self.keys.lock(slot))
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(ms(lease).max(1))
            .query_async(&mut conn)
            .await?;
        if taken.is_none() {
            let left: i64 = redis::cmd("PTTL")
                .arg(self.keys.lock(slot))
                .query_async(&mut conn)
                .await?;
            let left = Duration::from_millis(u64::try_from(left).unwrap_or(0));
            return Ok(Gate::Wait {
                retry_in: left.clamp(Duration::from_millis(1), BUSY_POLL),
                reason: WaitReason::Busy,
            });
        }
        let permit = SearchPermit {
            token: token.to_string(),
            slot,
        };
        if slot == Slot::Enqueue {
            return Ok(Gate::Go(permit));
        }
        // the slot is ours: nobody else checks or writes the log meanwhile
        let wait_us: i64 = CONFIRM
            .key(&self.keys.log)
            .arg(micros(self.cfg.window))
            .arg(self.cfg.searches)
            .arg(token)
            .invoke_async(&mut conn)
            .await?;
        if wait_us <= 0 {
            return Ok(Gate::Go(permit));
        }
        let _: i64 = RELEASE
            .key(&self.keys.search_lock)
            .key(&self.keys.quiet)
            .arg(token)
            .arg(0)
            .invoke_async(&mut conn)
            .await?;
        Ok(Gate::Wait {
            retry_in: Duration::from_micros(wait_us as u64),
            reason: WaitReason::Budget,
        })
    }

    /// Takes the search slot, waiting at most `max_wait` in all; otherwise a rate-limit
    /// error whose `retry_after` says when to try again (the pause's end when paused).
    pub async fn acquire_search(&self) -> Result<SearchPermit, PlatformError> {
        self.acquire(Slot::Search).await
    }

    /// Takes the enqueue slot (same rules, no budget).
    pub async fn acquire_enqueue(&self) -> Result<SearchPermit, PlatformError> {
        self.acquire(Slot::Enqueue).await
    }

    async fn acquire(&self, slot: Slot) -> Result<SearchPermit, PlatformError> {
        let mut waited = Duration::ZERO;
        loop {
            match self.try_take(slot).await {
                Gate::Go(p) => {
                    if !waited.is_zero() {
                        metrics::histogram!("cratedigger_soulseek_budget_wait_seconds", "slot" => slot.name())
                            .record(waited.as_secs_f64());
                    }
                    return Ok(p);
                }
                Gate::Paused { left, reason } => return Err(paused_error(left, &reason)),
                Gate::Wait { retry_in, reason } => {
                    if waited + retry_in > self.cfg.max_wait {
                        metrics::counter!("cratedigger_platform_requests_total", "platform" => super::ID, "outcome" => "throttled")
                            .increment(1);
                        return Err(self.budget_error(slot, reason, retry_in));
                    }
                    tokio::time::sleep(retry_in).await;
                    waited += retry_in;
                }
            }
        }
    }

    fn budget_error(&self, slot: Slot, reason: WaitReason, wait: Duration) -> PlatformError {
        let detail = match reason {
            WaitReason::Budget => format!(
                "the fleet's Soulseek budget of {} searches per {} s is used up for the next {} s (longer than a worker waits, {} s); try again later",
                self.cfg.searches,
                self.cfg.window.as_secs(),
                wait.as_secs().max(1),
                self.cfg.max_wait.as_secs()
            ),
            WaitReason::EmptyGap => format!(
                "Soulseek is in its quiet time after a search that found nothing ({} ms left)",
                wait.as_millis()
            ),
            WaitReason::Busy => format!(
                "another worker's Soulseek {} is still in flight after {} s (one at a time fleet-wide)",
                slot.name(),
                self.cfg.max_wait.as_secs()
            ),
        };
        PlatformError::new(super::ID, ErrorClass::RateLimit, detail).with_retry_after(Some(wait))
    }

    /// Gives the search slot back and records how the search ended: an empty result starts
    /// the quiet time; an errored one counts towards the ban detector (the caller decides).
    pub async fn finish(&self, permit: SearchPermit, outcome: SearchOutcome) {
        let gap = if outcome == SearchOutcome::Empty {
            self.cfg.empty_gap
        } else {
            Duration::ZERO
        };
        metrics::counter!("cratedigger_soulseek_searches_total", "outcome" => match outcome {
            SearchOutcome::Found => "found",
            SearchOutcome::Empty => "empty",
            SearchOutcome::Errored => "errored",
            SearchOutcome::Aborted => "aborted",
        })
        .increment(1);
        self.give_back(&permit, gap).await;
    }

    /// Gives a slot back without recording anything (the enqueue slot).
    pub async fn release(&self, permit: SearchPermit) {
        self.give_back(&permit, Duration::ZERO).await;
    }

    async fn give_back(&self, permit: &SearchPermit, gap: Duration) {
        self.local.release(permit, gap);
        let Some(conn) = &self.redis else {
            return;
        };
        let mut conn = conn.clone();
        let res: Result<i64, _> = RELEASE
            .key(self.keys.lock(permit.slot))
            .key(&self.keys.quiet)
            .arg(&permit.token)
            .arg(ms(gap))
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = res {
            self.redis_failed(&e);
        }
    }

    /// Pauses the fleet's Soulseek work for the configured ban pause (an existing longer
    /// pause is kept); returns the time left.
    pub async fn pause(&self, why: &str) -> Duration {
        let wait = self.cfg.ban_pause;
        let local = self.local.pause(wait, why);
        let Some(conn) = &self.redis else {
            return local;
        };
        let mut conn = conn.clone();
        let res: Result<i64, _> = HOLD
            .key(&self.keys.hold)
            .key(&self.keys.paused)
            .arg(ms(wait).max(1))
            .arg("1")
            .arg(why)
            .arg(0)
            .invoke_async(&mut conn)
            .await;
        match res {
            Ok(left_ms) => Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)),
            Err(e) => {
                self.redis_failed(&e);
                local
            }
        }
    }

    /// Time left of the fleet's pause and its reason, if paused.
    pub async fn paused(&self) -> Option<(Duration, String)> {
        let Some(conn) = &self.redis else {
            return self.local.paused();
        };
        let mut conn = conn.clone();
        let res: Result<(i64, Option<String>), _> = redis::pipe()
            .cmd("PTTL")
            .arg(&self.keys.paused)
            .cmd("GET")
            .arg(&self.keys.paused)
            .query_async(&mut conn)
            .await;
        match res {
            Ok((left, why)) if left > 0 => {
                Some((Duration::from_millis(left as u64), why.unwrap_or_default()))
            }
            Ok(_) => None,
            Err(e) => {
                self.redis_failed(&e);
                self.local.paused()
            }
        }
    }

    /// Counts one more errored search in a row (fleet-wide); returns the count.
    pub async fn note_error(&self) -> u32 {
        let local = self.local.note_error();
        let Some(conn) = &self.redis else {
            return local;
        };
        let mut conn = conn.clone();
        let res: Result<(i64, i64), _> = redis::pipe()
            .cmd("INCR")
            .arg(&self.keys.errors)
            .cmd("PEXPIRE")
            .arg(&self.keys.errors)
            .arg(ms(self.cfg.window.max(Duration::from_secs(600))))
            .query_async(&mut conn)
            .await;
        match res {
            Ok((n, _)) => u32::try_from(n).unwrap_or(u32::MAX),
            Err(e) => {
                self.redis_failed(&e);
                local
            }
        }
    }

    /// A search worked: the errored-in-a-row count starts again.
    pub async fn clear_errors(&self) {
        self.local.clear_errors();
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let res: Result<i64, _> = redis::cmd("DEL")
                .arg(&self.keys.errors)
                .query_async(&mut conn)
                .await;
            if let Err(e) = res {
                self.redis_failed(&e);
            }
        }
    }

    /// Searches sent in the current window, fleet-wide (for metrics and tests).
    pub async fn searches_in_window(&self) -> usize {
        let Some(conn) = &self.redis else {
            return self.local.searches_in_window(&self.cfg);
        };
        let mut conn = conn.clone();
        let res: Result<Vec<(String, f64)>, _> = redis::cmd("ZRANGE")
            .arg(&self.keys.log)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await;
        let time: Result<(u64, u64), _> = redis::cmd("TIME").query_async(&mut conn).await;
        match (res, time) {
            (Ok(entries), Ok((s, us))) => {
                let now = s as f64 * 1e6 + us as f64;
                let window = micros(self.cfg.window) as f64;
                entries.iter().filter(|(_, t)| now - *t < window).count()
            }
            (Err(e), _) | (_, Err(e)) => {
                self.redis_failed(&e);
                self.local.searches_in_window(&self.cfg)
            }
        }
    }
}

fn local_state(prefix: &str) -> Arc<LocalBudget> {
    LOCAL
        .lock()
        .map(|mut m| m.entry(prefix.to_string()).or_default().clone())
        .unwrap_or_default()
}

/// The sentence a person reads while Soulseek is paused.
pub fn pause_sentence(until: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "Soulseek paused for the whole fleet until {} UTC: the server stopped answering searches (likely a temporary ban for searching too fast)",
        until.format("%H:%M")
    )
}

/// When a pause of `left` from now ends, on the wall clock.
pub fn until_from_now(left: Duration) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
        + chrono::Duration::from_std(left).unwrap_or_else(|_| chrono::Duration::zero())
}

/// The rate-limit error every Soulseek call gets while the fleet is paused.
pub fn paused_error(left: Duration, reason: &str) -> PlatformError {
    let until = until_from_now(left);
    PlatformError::new(
        super::ID,
        ErrorClass::RateLimit,
        format!(
            "Soulseek is paused fleet-wide until {} ({})",
            until.format("%Y-%m-%d %H:%M:%S UTC"),
            if reason.is_empty() {
                "suspected ban"
            } else {
                reason
            }
        ),
    )
    .with_retry_after(Some(left))
    .with_headline(pause_sentence(until))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(searches: u32, window_s: u64) -> BudgetConfig {
        BudgetConfig {
            searches,
            window: Duration::from_secs(window_s),
            empty_gap: Duration::from_secs(5),
            ban_pause: Duration::from_secs(1800),
            ban_after_errors: 3,
            search_lease: Duration::from_secs(90),
            enqueue_lease: Duration::from_secs(25),
            max_wait: Duration::from_secs(30),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_35th_search_in_the_window_is_refused_with_the_wait() {
        let b = SearchBudget::in_process(cfg(34, 220));
        for i in 0..34 {
            let p = b
                .acquire_search()
                .await
                .unwrap_or_else(|e| panic!("search {i}: {e}"));
            b.finish(p, SearchOutcome::Found).await;
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(b.searches_in_window().await, 34);
        let started = Instant::now();
        let e = b.acquire_search().await.expect_err("35th refused");
        assert_eq!(e.class, ErrorClass::RateLimit);
        // the first search left 34 s ago: it leaves the window 186 s from now
        assert_eq!(e.retry_after, Some(Duration::from_secs(186)));
        assert!(e.to_string().contains("34 searches per 220 s"), "{e}");
        assert_eq!(Instant::now(), started, "refused at once, no worker sleep");
        tokio::time::advance(Duration::from_secs(186)).await;
        let p = b
            .acquire_search()
            .await
            .expect("a slot after the oldest left");
        b.finish(p, SearchOutcome::Found).await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_result_starts_the_quiet_time() {
        let b = SearchBudget::in_process(cfg(34, 220));
        let p = b.acquire_search().await.unwrap();
        b.finish(p, SearchOutcome::Empty).await;
        match b.try_search().await {
            Gate::Wait { retry_in, reason } => {
                assert_eq!(reason, WaitReason::EmptyGap);
                assert_eq!(retry_in, Duration::from_secs(5));
            }
            other => panic!("expected the quiet time, got {other:?}"),
        }
        // acquire waits through the 5 s (under max_wait) on the paused clock
        let t0 = Instant::now();
        let p = b.acquire_search().await.unwrap();
        assert_eq!(Instant::now() - t0, Duration::from_secs(5));
        b.finish(p, SearchOutcome::Found).await;
        assert!(matches!(b.try_search().await, Gate::Go(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn one_search_at_a_time_and_the_lease_frees_a_dead_holder() {
        let b = SearchBudget::in_process(cfg(34, 220));
        let held = b.acquire_search().await.unwrap();
        assert!(matches!(
            b.try_search().await,
            Gate::Wait {
                reason: WaitReason::Busy,
                ..
            }
        ));
        // the enqueue slot is separate
        let e = b.acquire_enqueue().await.unwrap();
        b.release(e).await;
        // a holder that never gives back: waiters give up after max_wait …
        let err = b.acquire_search().await.expect_err("busy beyond max_wait");
        assert!(err.detail.contains("one at a time"), "{}", err.detail);
        // … and the lease frees the slot
        tokio::time::advance(Duration::from_secs(90)).await;
        assert!(matches!(b.try_search().await, Gate::Go(_)));
        drop(held);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_refuses_everything_until_it_ends_and_is_never_shortened() {
        let b = SearchBudget::in_process(cfg(34, 220));
        assert_eq!(b.pause("test").await, Duration::from_secs(1800));
        let e = b.acquire_search().await.expect_err("paused");
        assert_eq!(e.class, ErrorClass::RateLimit);
        assert!(
            e.to_string()
                .starts_with("Soulseek paused for the whole fleet until "),
            "{e}"
        );
        assert!(e.to_string().ends_with(
            "UTC: the server stopped answering searches (likely a temporary ban for searching too fast)"
        ));
        assert!(b.acquire_enqueue().await.is_err());
        tokio::time::advance(Duration::from_secs(600)).await;
        assert_eq!(b.paused().await.unwrap().0, Duration::from_secs(1200));
        tokio::time::advance(Duration::from_secs(1200)).await;
        assert!(b.paused().await.is_none());
        assert!(b.acquire_search().await.is_ok());
    }

    #[test]
    fn nonsense_settings_fall_back_to_safe_ones() {
        let c = BudgetConfig::from_soulseek(&super::super::SoulseekConfig {
            searches_per_window: 0,
            window_secs: f64::NAN,
            empty_result_gap_secs: -3.0,
            ..Default::default()
        });
        assert_eq!(c.searches, 1);
        assert_eq!(c.window, Duration::from_secs(220));
        assert_eq!(c.empty_gap, Duration::from_secs(5));
    }
}
