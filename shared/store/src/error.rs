//! What can go wrong talking to Postgres, said in terms of what the store was doing.

use uuid::Uuid;

/// Result type of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A store failure. Each variant names what failed so a log line or a CLI message is useful
/// without the SQL; [`StoreError::is_retryable`] tells a worker whether trying the same job
/// again can help.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The pool could not open a first connection (wrong URL, Postgres down, auth refused).
    /// The URL is not repeated: it may carry a password.
    #[error("could not connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),

    /// The embedded migrations could not be applied (a shipped migration edited, a failed
    /// migration left the schema dirty, or a statement failed).
    #[error("applying the database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// A unique constraint refused a row: the thing exists already. `constraint` is the
    /// constraint or index name from the schema (e.g. `tracks_dedup_key_unique`).
    #[error("{what} already exists (unique constraint {constraint})")]
    AlreadyExists {
        /// What the store was writing ("track", "sync", ...).
        what: &'static str,
        /// Name of the unique constraint or index that refused it.
        constraint: String,
    },

    /// A foreign key refused a row: it points at something that does not exist (an item of
    /// an unknown sync, a link to a track id that was never stored).
    #[error("{what} refers to a row that does not exist (foreign key {constraint})")]
    MissingReference {
        /// What the store was writing.
        what: &'static str,
        /// Name of the foreign key constraint.
        constraint: String,
    },

    /// The item the caller named is not in the database.
    #[error("item {0} does not exist")]
    ItemNotFound(Uuid),

    /// A stored value cannot be read by this binary: a state or lane name it does not know
    /// (written by a newer release during a rolling upgrade) or JSON of the wrong shape.
    #[error("stored {what} could not be read: {detail}")]
    Undecodable {
        /// Which value ("item state", "sync lane", "wanted track").
        what: &'static str,
        /// Why it could not be read.
        detail: String,
    },

    /// The caller passed something the store cannot store (a number out of range).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// Any other database failure, with the operation that was running.
    #[error("{op} failed: {source}")]
    Database {
        /// The store operation, e.g. "create_sync: insert items".
        op: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// Whether running the same operation again may succeed: a lost connection, a pool
    /// timeout, a serialization failure or a deadlock. Constraint violations and decoding
    /// problems are not retryable; the job should be failed with the message instead.
    pub fn is_retryable(&self) -> bool {
        let source = match self {
            StoreError::Connect(e) | StoreError::Database { source: e, .. } => e,
            _ => return false,
        };
        match source {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => matches!(
                db.code().as_deref(),
                // serialization_failure, deadlock_detected, admin_shutdown, crash_shutdown,
                // cannot_connect_now, too_many_connections
                Some("40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300")
            ),
            _ => false,
        }
    }
}

/// Builds the `map_err` closure used after every query: unique and foreign key violations
/// become their own variants (callers act on them), everything else keeps the operation name.
pub(crate) fn db(op: &'static str, what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        if let sqlx::Error::Database(db) = &e {
            let constraint = db.constraint().unwrap_or("unknown").to_string();
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::AlreadyExists { what, constraint };
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return StoreError::MissingReference { what, constraint };
                }
                _ => {}
            }
        }
        StoreError::Database { op, source: e }
    }
}
