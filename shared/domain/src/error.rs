//! Error classes: every failure the fleet meets is put in one of these, and each class has
//! one retry policy (see `cratedigger_fleet::retry`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why an operation failed, coarse enough to pick a retry policy and to explain to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The platform asked us to slow down (HTTP 429 or its own equivalent).
    RateLimit,
    /// Connection refused/reset, DNS, timeout: the platform may be fine a moment later.
    Network,
    /// The platform answered 5xx.
    Server,
    /// Credentials missing or refused: retrying cannot help.
    Auth,
    /// The platform does not know the thing we asked for.
    NotFound,
    /// We sent something the platform (or our own API) refuses as malformed.
    BadRequest,
    /// The answer could not be understood (API drift, truncated body).
    Malformed,
    /// A bug or an invariant broken on our side.
    Internal,
}

impl ErrorClass {
    /// Stable lowercase name used in metrics labels, logs and the job record.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::RateLimit => "rate_limit",
            ErrorClass::Network => "network",
            ErrorClass::Server => "server",
            ErrorClass::Auth => "auth",
            ErrorClass::NotFound => "not_found",
            ErrorClass::BadRequest => "bad_request",
            ErrorClass::Malformed => "malformed",
            ErrorClass::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often and how patiently one error class is retried. The product's policy lives here
/// once, used by the job runtime (`cratedigger_fleet::retry`) and the HTTP layer
/// (`cratedigger_platforms::http::RetryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryRule {
    /// Total attempts including the first (1 = fail fast).
    pub max_attempts: u32,
    /// Wait before the second attempt; multiplied by [`BACKOFF_FACTOR`] after each further one.
    pub base: Duration,
}

/// Growth of the backoff between attempts.
pub const BACKOFF_FACTOR: u32 = 2;
/// Upper bound of one backoff wait.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);

impl ErrorClass {
    /// The product's rule: rate limit 5 attempts from 30 s, network 3 from 2 s, server 3
    /// from 5 s; auth, not found, bad and malformed requests fail fast. Internal errors (a
    /// database hiccup the store could not classify) get 3 attempts from 1 s.
    pub fn retry_rule(self) -> RetryRule {
        let (max_attempts, base) = match self {
            ErrorClass::RateLimit => (5, 30),
            ErrorClass::Network => (3, 2),
            ErrorClass::Server => (3, 5),
            ErrorClass::Internal => (3, 1),
            ErrorClass::Auth
            | ErrorClass::NotFound
            | ErrorClass::BadRequest
            | ErrorClass::Malformed => (1, 0),
        };
        RetryRule {
            max_attempts,
            base: Duration::from_secs(base),
        }
    }
}
