//! Guessing the API token is throttled per client address: after [`MAX_FAILURES`] wrong
//! tokens (login form or `Authorization: Bearer`) within [`WINDOW`], that address's token
//! attempts are answered `429 Too Many Requests` with `Retry-After`, without being checked,
//! until the oldest failure leaves the window. A long random token cannot be guessed anyway;
//! this protects the short one a person chose. Requests carrying a live session cookie are
//! not token attempts and are never throttled, so an attacker on the same address (or behind
//! the same proxy) cannot log out people who are already in.
//!
//! The address is the TCP peer (`ConnectInfo`); behind a reverse proxy every client shares
//! the proxy's address, which still bounds the guessing rate of the whole internet.
//! In process only: the scheduler runs as exactly one replica (docs/operations.md).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Wrong tokens allowed per address within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The sliding window the failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Addresses remembered at most; beyond it the quietest are forgotten (bounded memory
/// under a spray from many addresses).
const MAX_ADDRESSES: usize = 10_000;

/// Failed token attempts per client address (see the module documentation).
#[derive(Debug, Default)]
pub struct TokenThrottle {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl TokenThrottle {
    /// `Err(wait)` while `addr` has used up its wrong tokens: the attempt must not be
    /// checked, and may come back after `wait`.
    pub fn check(&self, addr: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.lock();
        let Some(times) = map.get_mut(&key(addr)) else {
            return Ok(());
        };
        prune(times, now);
        if times.len() < MAX_FAILURES {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err((oldest + WINDOW)
            .saturating_duration_since(now)
            .max(Duration::from_secs(1)))
    }

    /// Records a wrong token from `addr`.
    pub fn fail(&self, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&key(addr)) {
            map.retain(|_, t| {
                prune(t, now);
                !t.is_empty()
            });
            if map.len() >= MAX_ADDRESSES {
                // still full of live entries: forget the one whose last failure is oldest
                if let Some(quietest) = map
                    .iter()
                    .min_by_key(|(_, t)| t.back().copied())
                    .map(|(a, _)| *a)
                {
                    map.remove(&quietest);
                }
            }
        }
        let times = map.entry(key(addr)).or_default();
        prune(times, now);
        times.push_back(now);
        while times.len() > MAX_FAILURES {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        match self.failures.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Requests without a peer address (in-process tests) share one bucket.
fn key(addr: Option<IpAddr>) -> IpAddr {
    addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[tokio::test(start_paused = true)]
    async fn five_wrong_tokens_lock_the_address_until_the_oldest_leaves_the_window() {
        let t = TokenThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            t.fail(ip(1));
            assert_eq!(t.check(ip(1)), Ok(()));
        }
        tokio::time::advance(Duration::from_secs(60)).await;
        t.fail(ip(1));
        let wait = t.check(ip(1)).unwrap_err();
        assert_eq!(
            wait,
            WINDOW - Duration::from_secs(60),
            "until the first failure expires"
        );
        assert_eq!(t.check(ip(2)), Ok(()), "another address is not affected");
        assert_eq!(t.check(None), Ok(()));
        tokio::time::advance(wait).await;
        // the four failures at 0 s left the window; the one at 60 s still counts
        for _ in 0..MAX_FAILURES - 1 {
            assert_eq!(t.check(ip(1)), Ok(()));
            t.fail(ip(1));
        }
        assert_eq!(t.check(ip(1)), Err(Duration::from_secs(60)));
    }

    #[tokio::test(start_paused = true)]
    async fn memory_stays_bounded_under_a_spray_of_addresses() {
        let t = TokenThrottle::default();
        for i in 0..(MAX_ADDRESSES as u32 + 50) {
            t.fail(Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))));
        }
        assert!(t.lock().len() <= MAX_ADDRESSES);
        // expired entries are dropped first when room is needed
        tokio::time::advance(WINDOW).await;
        t.fail(ip(9));
        assert_eq!(t.lock().len(), 1);
    }
}
