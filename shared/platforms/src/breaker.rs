//! Circuit breaker per platform: when a platform keeps failing (network errors, 5xx, 429),
//! stop sending it requests for a while so research goes on with the other platforms
//! instead of every job burning its retries on a dead service.
//!
//! Closed: calls go through and their outcomes fill a window of the last `window` calls.
//! When at least `min_calls` are in it and the failing share reaches `failure_rate`, the
//! breaker opens. Open: calls fail fast for `cool_down_secs`. Then half-open: one probe
//! goes through; success closes the breaker (fresh window), failure opens it again.
//!
//! The breaker's window is per process (counting every call in Redis would cost a round
//! trip per call), but opening it is shared: the process whose breaker opens writes an
//! "open" marker beside the platform's rate-limit keys for the cool-down
//! ([`crate::limiter::Limiter::share_open`]), and the rate limiter's booking script refuses
//! every process of the fleet while it lasts, so the other scouts stop at once instead of
//! each burning `min_calls` failures first. After the cool-down every process sends again;
//! the one that opened it sends its half-open probe.
//! Exported as `cratedigger_circuit_breaker_open{platform}` (1 open or half-open, 0 closed).

use cratedigger_domain::ErrorClass;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Breaker settings (`CRATEDIGGER__PLATFORMS__BREAKER__*`), the same for every platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakerConfig {
    /// Off: calls always go through.
    pub enabled: bool,
    /// Calls remembered (a sliding window of outcomes).
    pub window: u32,
    /// Calls needed in the window before the breaker may open.
    pub min_calls: u32,
    /// Failing share of the window that opens the breaker (0.5 = half).
    pub failure_rate: f64,
    /// Seconds the breaker stays open before one probe is let through.
    pub cool_down_secs: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: 20,
            min_calls: 10,
            failure_rate: 0.5,
            cool_down_secs: 30,
        }
    }
}

/// Whether an outcome of class `class` (or success, `None`) counts against the platform:
/// only classes that say the platform is unwell (network, 5xx, rate limit). A 404 or a
/// refused credential is the platform working as designed.
pub fn is_failure(class: Option<ErrorClass>) -> bool {
    matches!(
        class,
        Some(ErrorClass::Network | ErrorClass::Server | ErrorClass::RateLimit)
    )
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open { since: SystemTime, until: Instant },
    HalfOpen { since: SystemTime, probing: bool },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    window: VecDeque<bool>,
}

/// Why a call was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    /// When the breaker opened (wall clock, for people).
    pub since: SystemTime,
    /// Time until a probe may go (zero while a probe is in flight).
    pub retry_in: Duration,
}

/// One platform's breaker. Cheap to clone; clones share the state.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    platform: Arc<str>,
    cfg: Arc<BreakerConfig>,
    state: Arc<Mutex<State>>,
}

/// Leave to make one call; report its outcome with [`Permit::record`]. A probe permit
/// dropped without a record (the call was cancelled) lets the next caller probe.
#[derive(Debug)]
pub struct Permit {
    breaker: Option<CircuitBreaker>,
    probe: bool,
}

impl Permit {
    /// Records the call's outcome: `None` for success, else the error class. Returns the
    /// open state when this outcome opened the breaker, so the caller can tell the rest of
    /// the fleet ([`crate::limiter::Limiter::share_open`]).
    pub fn record(mut self, class: Option<ErrorClass>) -> Option<Open> {
        let b = self.breaker.take()?;
        b.record(self.probe, is_failure(class))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(b) = self.breaker.take()
            && self.probe
            && let Ok(mut s) = b.state.lock()
            && let Phase::HalfOpen { since, .. } = s.phase
        {
            s.phase = Phase::HalfOpen {
                since,
                probing: false,
            };
        }
    }
}

impl CircuitBreaker {
    /// A closed breaker for `platform`.
    pub fn new(platform: &str, cfg: BreakerConfig) -> Self {
        metrics::gauge!("cratedigger_circuit_breaker_open", "platform" => platform.to_string())
            .set(0.0);
        Self {
            platform: platform.into(),
            cfg: Arc::new(cfg),
            state: Arc::new(Mutex::new(State {
                phase: Phase::Closed,
                window: VecDeque::new(),
            })),
        }
    }

    /// Whether calls are currently refused or probing (not closed).
    pub fn is_open(&self) -> bool {
        self.state
            .lock()
            .map(|s| !matches!(s.phase, Phase::Closed))
            .unwrap_or(false)
    }

    /// Lets a call through (a normal one, or the half-open probe) or says why not.
    pub fn check(&self) -> Result<Permit, Open> {
        let normal = Permit {
            breaker: Some(self.clone()),
            probe: false,
        };
        if !self.cfg.enabled {
            return Ok(normal);
        }
        let Ok(mut s) = self.state.lock() else {
            return Ok(normal);
        };
        match s.phase {
            Phase::Closed => Ok(normal),
            Phase::Open { since, until } => {
                let now = Instant::now();
                if now < until {
                    return Err(Open {
                        since,
                        retry_in: until - now,
                    });
                }
                tracing::info!(platform = %self.platform, "circuit half-open: sending one probe");
                s.phase = Phase::HalfOpen {
                    since,
                    probing: true,
                };
                Ok(Permit {
                    breaker: Some(self.clone()),
                    probe: true,
                })
            }
            Phase::HalfOpen { since, probing } => {
                if probing {
                    return Err(Open {
                        since,
                        retry_in: Duration::ZERO,
                    });
                }
                s.phase = Phase::HalfOpen {
                    since,
                    probing: true,
                };
                Ok(Permit {
                    breaker: Some(self.clone()),
                    probe: true,
                })
            }
        }
    }

    fn gauge(&self, open: bool) {
        metrics::gauge!("cratedigger_circuit_breaker_open", "platform" => self.platform.to_string())
            .set(if open { 1.0 } else { 0.0 });
    }

    fn open(&self, s: &mut State, since: SystemTime) -> Open {
        let retry_in = Duration::from_secs(self.cfg.cool_down_secs);
        s.phase = Phase::Open {
            since,
            until: Instant::now() + retry_in,
        };
        self.gauge(true);
        Open { since, retry_in }
    }

    fn record(&self, probe: bool, failed: bool) -> Option<Open> {
        if !self.cfg.enabled {
            return None;
        }
        let Ok(mut s) = self.state.lock() else {
            return None;
        };
        if probe {
            if failed {
                let since = match s.phase {
                    Phase::HalfOpen { since, .. } | Phase::Open { since, .. } => since,
                    Phase::Closed => SystemTime::now(),
                };
                tracing::warn!(platform = %self.platform, cool_down_secs = self.cfg.cool_down_secs, "circuit probe failed: open again");
                return Some(self.open(&mut s, since));
            }
            tracing::info!(platform = %self.platform, "circuit closed: the probe succeeded");
            s.phase = Phase::Closed;
            s.window.clear();
            self.gauge(false);
            return None;
        }
        if !matches!(s.phase, Phase::Closed) {
            // a call let through before another one opened the breaker
            return None;
        }
        let cap = self.cfg.window.max(1) as usize;
        s.window.push_back(failed);
        while s.window.len() > cap {
            s.window.pop_front();
        }
        let calls = s.window.len();
        let failures = s.window.iter().filter(|f| **f).count();
        if calls >= self.cfg.min_calls.max(1) as usize
            && failures as f64 >= self.cfg.failure_rate * calls as f64
        {
            tracing::warn!(
                platform = %self.platform,
                failures,
                calls,
                cool_down_secs = self.cfg.cool_down_secs,
                "circuit open: the platform keeps failing; calls fail fast until a probe succeeds"
            );
            return Some(self.open(&mut s, SystemTime::now()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            cool_down_secs: 10,
            ..BreakerConfig::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_on_the_failure_rate_probes_and_closes() {
        let b = CircuitBreaker::new("mb", cfg());
        // 9 failures: below min_calls, still closed
        for _ in 0..9 {
            b.check().unwrap().record(Some(ErrorClass::Server));
        }
        assert!(!b.is_open());
        b.check().unwrap().record(Some(ErrorClass::Network));
        assert!(b.is_open());
        let open = b.check().unwrap_err();
        assert_eq!(open.retry_in, Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = b.check().expect("a probe after the cool-down");
        // while the probe is in flight others still fail fast
        assert_eq!(b.check().unwrap_err().retry_in, Duration::ZERO);
        probe.record(Some(ErrorClass::Server));
        assert!(b.check().is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        b.check().unwrap().record(None);
        assert!(!b.is_open());
        // a fresh window: one failure does not reopen it
        b.check().unwrap().record(Some(ErrorClass::Server));
        assert!(b.check().is_ok());
    }

    #[test]
    fn healthy_answers_and_final_errors_keep_it_closed() {
        let b = CircuitBreaker::new("mb", cfg());
        for i in 0..40 {
            let class = match i % 4 {
                0 => Some(ErrorClass::NotFound),
                1 => Some(ErrorClass::Auth),
                2 => Some(ErrorClass::Server),
                _ => None,
            };
            b.check().unwrap().record(class);
        }
        // 25 % server errors: below 50 %
        assert!(!b.is_open());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_probe_lets_the_next_caller_probe() {
        let b = CircuitBreaker::new("mb", cfg());
        for _ in 0..10 {
            b.check().unwrap().record(Some(ErrorClass::RateLimit));
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(b.check().unwrap());
        b.check().expect("next probe").record(None);
        assert!(!b.is_open());
    }

    #[test]
    fn disabled_breaker_never_refuses() {
        let b = CircuitBreaker::new(
            "mb",
            BreakerConfig {
                enabled: false,
                ..cfg()
            },
        );
        for _ in 0..30 {
            b.check().unwrap().record(Some(ErrorClass::Server));
        }
        assert!(b.check().is_ok());
    }
}
