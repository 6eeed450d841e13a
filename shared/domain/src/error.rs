//! Error classes: every failure the fleet meets is put in one of these, and each class has
//! one retry policy (see `cratedigger_fleet::retry`).

use serde::{Deserialize, Serialize};

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
