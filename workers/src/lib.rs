//! The worker roles of the fleet and what every cratedigger binary shares at start-up.
//!
//! Each role is a [`cratedigger_fleet::JobHandler`] over one queue:
//! - [`research_lead`]: turns a wanted track into a plan (ISRC first, else search);
//! - [`metadata_scout`]: runs a plan's platform queries concurrently and reports;
//! - [`consolidator`]: the one writer — merges, deduplicates, advances the item state
//!   (its acquisition half, from `resolved` to `filed`, is [`acquisition`]);
//! - [`discovery_scout`]: asks every acquisition source where a copy can be had;
//! - [`acquisition_scout`]: downloads the approved candidate into staging;
//! - [`quality_assessor`]: decodes, checks for fake lossless, tags.
//!
//! Invariant: scouts never touch Postgres; only the consolidator writes items, tracks,
//! candidates and library files. Only the acquisition scout writes files, and only into
//! staging; only the consolidator moves a verified file into the library.

pub mod acquisition;
pub mod acquisition_scout;
pub mod consolidator;
pub mod discovery_scout;
pub mod filing;
pub mod fleet;
pub mod lead_settings;
pub mod metadata_scout;
pub mod quality_assessor;
pub mod research_lead;
pub mod settings;
pub mod sync_policy;
pub mod volumes;

pub use fleet::{Fleet, Role};
pub use settings::Settings;
