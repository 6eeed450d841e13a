//! The fleet: job queues with strict priority lanes over Redis, the worker runtime on
//! apalis-core, the retry policy, and per-process telemetry (metrics, health, logs).
//!
//! Invariant: no script here does work proportional to the queue's length in one call, so
//! any backlog drains (see `docs/adr/0001-queue-backend.md`).

pub mod queue;
pub mod retry;
pub mod runtime;
pub mod telemetry;

pub use queue::{Delivery, Queue, QueueDepth, QueueError, QueueSettings};
pub use runtime::{JobError, JobHandler, WorkerOptions, run_worker};
