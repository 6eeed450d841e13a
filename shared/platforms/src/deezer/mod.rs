//! Deezer public API: track search, ISRC lookup, track lookup, playlist tracks.
//! No credentials; 50 requests per 5 s; errors come as an `error` object with HTTP 200.

mod client;
pub mod models;

pub use client::{Deezer, error_class, error_in_body, map_track};
