//! Library paths of filed files: the configured template filled with the track's tags,
//! every component sanitised by `music::filing` (metadata and peer names are untrusted).

use cratedigger_domain::acquisition::TrackTags;
use std::path::PathBuf;

/// The library-relative path of a file: `template` filled from `tags`, extension `ext`;
/// `n > 1` adds " (n)" before the extension when an earlier name is taken.
pub fn library_relative_path(template: &str, tags: &TrackTags, ext: &str, n: u32) -> PathBuf {
    let _ = (template, tags, ext, n);
    todo!("wire music::filing")
}
