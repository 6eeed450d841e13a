//! The PostgreSQL repository of the fleet. Postgres is the source of truth (Redis only holds
//! work in flight), so everything that must survive a restart or a `FLUSHALL` goes through
//! here: syncs and their items, the item state machine's history, canonical tracks with their
//! per-platform sources, and the job ids the consolidator already applied.
//!
//! Who calls what:
//! - the scheduler creates syncs and reads progress ([`Store::create_sync`],
//!   [`Store::sync_progress`], [`Store::list_items`], ...);
//! - the consolidator, the single writer, applies each job in one [`JobTx`] opened by
//!   [`Store::begin_job`], which records the job id in the same transaction so a redelivered
//!   job changes nothing;
//! - the reconciler finds items stuck past a deadline ([`Store::stuck_items`]) and
//!   re-enqueues or fails them ([`Store::touch_item`], [`Store::fail_item_direct`]).
//!
//! All queries are runtime-checked (`sqlx::query`), so building needs no database.

#![warn(missing_docs)]

mod acquisition;
mod error;
mod job;
mod reconcile;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;

pub use acquisition::{
    CandidateRow, CandidateState, LibraryFileView, NewLibraryFile, PeerOutcome, PeerRecord,
};
pub use error::{Result, StoreError};
pub use job::{
    DuplicateHit, DuplicateProbe, DuplicateReason, InsertOutcome, JobTx, NewTrack, NewTrackSource,
    SIMILARITY_THRESHOLD, SimilarTrack,
};
pub use reconcile::StuckItem;
pub use sync::{
    CreatedSync, ItemFilter, ItemView, NewItem, NewSync, SkippedLine, SourceView, SyncProgress,
    SyncSummary, TrackView,
};

use cratedigger_domain::{ItemState, Lane};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

/// Handle on the database, cheap to clone (it is a connection pool): every task of a process
/// shares one.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Opens a pool of at most `max_connections` and checks one connection works, so a wrong
    /// URL or a stopped Postgres is reported at start rather than at the first job.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Store { pool })
    }

    /// Wraps a pool the caller already has (tests, or a binary that shares its pool).
    pub fn from_pool(pool: PgPool) -> Store {
        Store { pool }
    }

    /// Applies the embedded migrations that are not applied yet. Safe to call from several
    /// processes starting at once: sqlx holds a Postgres advisory lock while migrating, and
    /// the others then find nothing left to do. Migrations unknown to this binary (applied by
    /// a newer release during a rolling deploy) are tolerated, not an error: with
    /// expand/contract migrations the old binary still works on the newer schema.
    pub async fn migrate(&self) -> Result<()> {
        // The migrations in `migrations/` at the top of the repository, embedded at build
        // time so a binary carries the schema it needs.
        let mut migrator = sqlx::migrate!("../../migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The underlying pool, for health checks (`SELECT 1`) and the odd query that has no
    /// method here yet.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Reads a state name stored in Postgres. A name this binary does not know (a newer release
/// added a state) is reported, not guessed.
pub(crate) fn parse_state(s: &str) -> Result<ItemState> {
    s.parse().map_err(
        |e: cratedigger_domain::item::UnknownName| StoreError::Undecodable {
            what: "item state",
            detail: e.to_string(),
        },
    )
}

/// Reads a lane name stored in Postgres.
pub(crate) fn parse_lane(s: &str) -> Result<Lane> {
    s.parse().map_err(
        |e: cratedigger_domain::item::UnknownName| StoreError::Undecodable {
            what: "sync lane",
            detail: e.to_string(),
        },
    )
}

/// Reads a JSON column into a typed value, naming the column when it does not fit.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    v: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(v).map_err(|e| StoreError::Undecodable {
        what,
        detail: e.to_string(),
    })
}

/// Converts a count or number from the domain (`u32`) to a Postgres `integer`.
pub(crate) fn to_i32(what: &str, v: u32) -> Result<i32> {
    i32::try_from(v).map_err(|_| StoreError::InvalidInput(format!("{what} {v} is too large")))
}
