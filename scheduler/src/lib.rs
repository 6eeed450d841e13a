//! The scheduler: the HTTP API that turns playlists into syncs (Postgres) and jobs (Redis),
//! the reconciler that re-enqueues items whose job was lost, and the CLI client.
//!
//! Invariant: the scheduler creates syncs and their `pending` items; from then on only the
//! consolidator changes an item.

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "256"]

pub mod api;
pub mod cli;
pub mod events;
pub mod explain;
pub mod inspect;
pub mod lead;
pub mod library;
pub mod memory;
pub mod openapi;
pub mod reconciler;
pub mod rekordbox_cmd;
pub mod rekordbox_sync;
pub mod review;
pub mod session;
pub mod throttle;
pub mod verify;
pub mod web;
