//! Audio files for cratedigger: what a downloaded file really is, and the tags it carries.
//!
//! - [`verify`]: decode the whole file, record codec/container/duration/bitrate/sample rate/bit
//!   depth, reject corrupt and truncated files, check the duration against the wanted track.
//! - [`spectrum`]: the fake-lossless detector (spectral cutoff, verdict with a confidence).
//! - [`tags`]: write and read back DJ tags (title with mix, artists, label, catalog number,
//!   ISRC, BPM, key, genre, date, artwork) in FLAC, MP3, AIFF, WAV and M4A files.
//!
//! Invariant: nothing here touches the network, the database or the async runtime. Verification
//! is CPU-bound and blocking: callers put it on `spawn_blocking` or a rayon pool.

pub mod spectrum;
pub mod tags;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod verify;

pub use spectrum::{LosslessVerdict, SpectrumOptions, SpectrumReport};
pub use tags::{TagError, TagSet, read_tags, write_tags};
pub use verify::{
    AudioProps, DurationCheck, DurationVerdict, VerifyError, VerifyOptions, VerifyReport,
    verify_file,
};
