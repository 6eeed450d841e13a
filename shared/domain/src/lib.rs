//! Pure domain types shared by every cratedigger binary.
//!
//! Nothing here does I/O. The job payload types in [`jobs`] are an API boundary: they live
//! in Redis across releases, so they are versioned ([`jobs::SCHEMA_VERSION`]) and only ever
//! extended with optional fields.

pub mod acquisition;
pub mod error;
pub mod item;
pub mod jobs;
pub mod track;

pub use error::{ErrorClass, RetryRule};
pub use item::{ItemState, Lane};
pub use track::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
