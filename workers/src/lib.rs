//! The worker roles of the fleet and what every cratedigger binary shares at start-up.
//!
//! Each role is a [`cratedigger_fleet::JobHandler`] over one queue:
//! - [`research_lead`]: turns a wanted track into a plan (ISRC first, else search);
//! - [`metadata_scout`]: runs a plan's platform queries concurrently and reports;
//! - [`consolidator`]: the one writer — merges, deduplicates, advances the item state.
//!
//! Invariant: scouts never touch Postgres; only the consolidator writes items and tracks.

pub mod consolidator;
pub mod fleet;
pub mod metadata_scout;
pub mod research_lead;
pub mod settings;

pub use fleet::{Fleet, Role};
pub use settings::Settings;
