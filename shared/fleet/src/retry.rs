//! The product's retry policy, one rule per error class: how many attempts and how long to
//! wait between them. Used by the worker runtime for jobs and by the HTTP layer for calls.

use cratedigger_domain::ErrorClass;
use rand::Rng;
use std::time::Duration;

/// Upper bound for one backoff wait.
pub use cratedigger_domain::error::BACKOFF_CAP;

/// Decision after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Try again after this wait.
    RetryAfter(Duration),
    /// Out of attempts (or not retryable): give up.
    GiveUp,
}

/// Backoff before attempt `attempt + 1`: `base * 2^(attempt-1)`, capped at 60 s, with
/// "equal jitter" (half fixed, half random) so a burst of failures does not retry in step.
/// A server's `Retry-After` is a floor.
pub fn next(class: ErrorClass, attempt: u32, retry_after: Option<Duration>) -> Next {
    let p = class.retry_rule();
    if attempt >= p.max_attempts {
        return Next::GiveUp;
    }
    let exp = attempt.saturating_sub(1).min(16);
    let raw = p
        .base
        .saturating_mul(cratedigger_domain::error::BACKOFF_FACTOR.saturating_pow(exp))
        .min(BACKOFF_CAP);
    let half = raw / 2;
    let jitter = if half.is_zero() {
        Duration::ZERO
    } else {
        Duration::from_millis(rand::rng().random_range(0..=half.as_millis() as u64))
    };
    let wait = half + jitter;
    Next::RetryAfter(retry_after.map_or(wait, |ra| wait.max(ra)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_fast_classes_never_retry() {
        for c in [
            ErrorClass::Auth,
            ErrorClass::NotFound,
            ErrorClass::BadRequest,
            ErrorClass::Malformed,
        ] {
            assert_eq!(next(c, 1, None), Next::GiveUp, "{c}");
        }
    }

    #[test]
    fn attempts_are_bounded_per_class() {
        for (class, max) in [
            (ErrorClass::RateLimit, 5),
            (ErrorClass::Network, 3),
            (ErrorClass::Server, 3),
        ] {
            for a in 1..max {
                assert!(
                    matches!(next(class, a, None), Next::RetryAfter(_)),
                    "{class} attempt {a}"
                );
            }
            assert_eq!(next(class, max, None), Next::GiveUp, "{class}");
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        for _ in 0..200 {
            let Next::RetryAfter(w1) = next(ErrorClass::Server, 1, None) else {
                panic!()
            };
            let Next::RetryAfter(w2) = next(ErrorClass::Server, 2, None) else {
                panic!()
            };
            assert!(
                w1 >= Duration::from_millis(2500) && w1 <= Duration::from_secs(5),
                "{w1:?}"
            );
            assert!(
                w2 >= Duration::from_secs(5) && w2 <= Duration::from_secs(10),
                "{w2:?}"
            );
            let Next::RetryAfter(w4) = next(ErrorClass::RateLimit, 4, None) else {
                panic!()
            };
            assert!(w4 <= BACKOFF_CAP && w4 >= BACKOFF_CAP / 2, "{w4:?}");
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let Next::RetryAfter(w) = next(ErrorClass::Network, 1, Some(Duration::from_secs(42)))
        else {
            panic!()
        };
        assert_eq!(w, Duration::from_secs(42));
    }
}
