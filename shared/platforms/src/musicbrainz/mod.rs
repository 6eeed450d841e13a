//! MusicBrainz (ws/2, JSON): recording search, ISRC lookup, recording lookup.
//! No credentials; a User-Agent with contact is required and the limit is 1 request/s.

mod client;
pub mod models;

pub use client::{MusicBrainz, map_recording};
