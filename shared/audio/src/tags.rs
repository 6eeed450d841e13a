//! Writing the tags DJ software reads, with `lofty`.
//!
//! Why: a file is only useful in a DJ's library when Rekordbox, Serato, Traktor or Engine show
//! the right title, artist, BPM and key the moment it is imported. [`write_tags`] takes a small
//! [`TagSet`] (plain strings, so this crate does not depend on the worker) and writes it into
//! the file's native tag: Vorbis comments for FLAC, ID3v2 for MP3, WAV and AIFF, iTunes atoms
//! for M4A.
//!
//! Decisions:
//! - **The mix goes into the title**, as "Title (Mix)". Every DJ program shows the title
//!   column by default and sorts and searches it; none reliably imports a separate mix field
//!   from file tags (Rekordbox's "Mix Name" is not filled from ID3, Serato and Traktor have no
//!   such column), and stores such as Beatport deliver titles in exactly this form, so two
//!   mixes of a track stay distinguishable in every crate. A title that already names the mix
//!   is left alone. Use [`display_title`] to get the same string.
//! - **Artists** are written as one display string joined with ", " (DJ software shows the
//!   first value of a multi-value artist field only).
//! - **Label** is ID3 TPUB (shown as "Label" by Rekordbox and Serato), Vorbis `LABEL`, MP4
//!   `----:com.apple.iTunes:LABEL`; **BPM** is the integer field (ID3 TBPM via
//!   `ItemKey::IntegerBpm`, MP4 `tmpo`, Vorbis `BPM` via `ItemKey::Bpm`), rounded, because
//!   an integer is what every program reads; **key** is written verbatim in the notation the user configured (ID3 TKEY,
//!   Vorbis `INITIALKEY`).
//! - ID3v2 is written as **version 2.3**: Serato, older Rekordbox/CDJ firmware and Windows
//!   Explorer read 2.3 reliably, not all read 2.4; lofty converts frames and encodings.

use lofty::config::WriteOptions;
use lofty::file::{FileType, TaggedFile, TaggedFileExt};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::probe::Probe;
use lofty::tag::{ItemKey, Tag, TagExt, TagType};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Longest text written into one field (bytes); longer input is cut at a character boundary.
const MAX_FIELD_BYTES: usize = 1024;
/// Largest artwork embedded (bytes).
pub const MAX_ARTWORK_BYTES: usize = 8 * 1024 * 1024;

/// The tags to write. Plain data; `None`/empty fields are left out (and removed when the file
/// already had them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagSet {
    /// Song title without the mix ("Strobe").
    pub title: Option<String>,
    /// Mix / version ("Extended Mix"); appended to the title as "Title (Mix)".
    pub mix: Option<String>,
    /// Artists in credit order; joined with ", ".
    pub artists: Vec<String>,
    /// Release title.
    pub album: Option<String>,
    /// Record label.
    pub label: Option<String>,
    /// Catalog number ("ANJ123").
    pub catalog_number: Option<String>,
    /// ISRC ("GBAYE0601498").
    pub isrc: Option<String>,
    /// Beats per minute; written rounded to an integer.
    pub bpm: Option<f32>,
    /// Musical key, already in the configured notation ("8A", "Am", "1m").
    pub key: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Release date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Free comment.
    pub comment: Option<String>,
    /// Cover art, JPEG or PNG bytes (not serialised).
    #[serde(skip)]
    pub artwork: Option<Vec<u8>>,
}

/// Why tags could not be written or read; names the file.
#[derive(Debug, thiserror::Error)]
pub enum TagError {
    /// lofty could not read the file's structure.
    #[error("cannot read the tags of {}: {detail}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// lofty's reason.
        detail: String,
    },
    /// lofty could not write.
    #[error("cannot write tags to {}: {detail}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// lofty's reason.
        detail: String,
    },
    /// A value that cannot go into a tag.
    #[error("cannot tag {}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with the value.
        problem: String,
    },
}

/// "Title (Mix)", or the title alone when there is no mix or the title already names it.
pub fn display_title(title: &str, mix: Option<&str>) -> String {
    let title = title.trim();
    let Some(mix) = mix.map(str::trim).filter(|m| !m.is_empty()) else {
        return title.to_string();
    };
    let parsed = cratedigger_music::parse_title(title);
    let already = parsed.mix.as_deref().is_some_and(|m| {
        cratedigger_music::mix_key(Some(m)) == cratedigger_music::mix_key(Some(mix))
    }) || title
        .to_lowercase()
        .contains(&format!("({})", mix.to_lowercase()));
    if already || title.is_empty() {
        if title.is_empty() {
            return format!("({mix})");
        }
        return title.to_string();
    }
    format!("{title} ({mix})")
}

/// Cuts `s` to at most [`MAX_FIELD_BYTES`] at a character boundary and drops control
/// characters (which some DJ software shows as boxes or chokes on).
fn clean(s: &str) -> Option<String> {
    let t: String = s.chars().filter(|c| !c.is_control()).collect();
    let t = t.trim();
    if t.is_empty() {
        return None;
    }
    let mut end = t.len().min(MAX_FIELD_BYTES);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    Some(t[..end].to_string())
}

/// True for `YYYY`, `YYYY-MM`, `YYYY-MM-DD` with plausible numbers.
fn valid_date(d: &str) -> bool {
    let parts: Vec<&str> = d.split('-').collect();
    let num = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => num(y, 4),
        [y, m] => num(y, 4) && num(m, 2) && (1..=12).contains(&m.parse::<u8>().unwrap_or(0)),
        [y, m, day] => {
            num(y, 4)
                && num(m, 2)
                && num(day, 2)
                && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
                && (1..=31).contains(&day.parse::<u8>().unwrap_or(0))
        }
        _ => false,
    }
}

/// The tag type cratedigger writes for a file type: ID3v2 for MP3, WAV and AIFF (what DJ
/// software reads there), the native tag otherwise.
fn tag_type_for(file: &TaggedFile) -> TagType {
    match file.file_type() {
        FileType::Mpeg | FileType::Wav | FileType::Aiff => TagType::Id3v2,
        _ => file.primary_tag_type(),
    }
}

fn open(path: &Path) -> Result<TaggedFile, TagError> {
    let read = |detail: String| TagError::Read {
        path: path.to_path_buf(),
        detail,
    };
    Probe::open(path)
        .map_err(|e| read(e.to_string()))?
        .guess_file_type()
        .map_err(|e| read(e.to_string()))?
        .read()
        .map_err(|e| read(e.to_string()))
}

/// Writes `tags` into the file at `path` (FLAC, MP3, WAV, AIFF, M4A; other formats lofty
/// supports get their native tag). Fields left empty are removed. Blocking file I/O.
pub fn write_tags(path: &Path, tags: &TagSet) -> Result<(), TagError> {
    let invalid = |problem: String| TagError::Invalid {
        path: path.to_path_buf(),
        problem,
    };
    // lofty tags almost anything with an audio file's extension; refuse what symphonia does
    // not recognise as audio (cheap: a probe, no decode).
    if let Err(detail) = crate::verify::probe_audio(path) {
        return Err(invalid(format!(
            "it is not an audio file ({detail}); verify files before tagging them"
        )));
    }
    let file = open(path)?;
    let tag_type = tag_type_for(&file);
    let mut tag = file
        .tag(tag_type)
        .cloned()
        .unwrap_or_else(|| Tag::new(tag_type));

    let title = tags
        .title
        .as_deref()
        .map(|t| display_title(t, tags.mix.as_deref()));
    let artists: Vec<String> = tags.artists.iter().filter_map(|a| clean(a)).collect();
    let artist = (!artists.is_empty()).then(|| artists.join(", "));
    let bpm = match tags.bpm {
        Some(b) if b.is_finite() && (1.0..=999.0).contains(&b) => Some(b.round().to_string()),
        Some(b) => return Err(invalid(format!("BPM {b} is not between 1 and 999"))),
        None => None,
    };
    if let Some(d) = tags
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        && !valid_date(d)
    {
        return Err(invalid(format!(
            "date '{}' is not YYYY, YYYY-MM or YYYY-MM-DD",
            d.chars().take(40).collect::<String>()
        )));
    }
    let fields: [(ItemKey, Option<String>); 12] = [
        (ItemKey::TrackTitle, title),
        (ItemKey::TrackArtist, artist),
        (ItemKey::AlbumTitle, tags.album.clone()),
        (ItemKey::Label, tags.label.clone()),
        (ItemKey::CatalogNumber, tags.catalog_number.clone()),
        (ItemKey::Isrc, tags.isrc.clone()),
        (ItemKey::IntegerBpm, bpm.clone()),
        // Vorbis comments and MP4 freeform carry BPM only as `Bpm`; ID3 ignores it.
        (ItemKey::Bpm, bpm),
        (ItemKey::InitialKey, tags.key.clone()),
        (ItemKey::Genre, tags.genre.clone()),
        (ItemKey::RecordingDate, tags.date.clone()),
        (ItemKey::Comment, tags.comment.clone()),
    ];
    if tag_type == TagType::Id3v2 {
        // TPUB is read back as Publisher; the label replaces it.
        tag.remove_key(ItemKey::Publisher);
    }
    for (key, value) in fields {
        tag.remove_key(key);
        if let Some(v) = value.as_deref().and_then(clean) {
            tag.insert_text(key, v);
        }
    }
    if let Some(art) = &tags.artwork {
        if art.len() > MAX_ARTWORK_BYTES {
            return Err(invalid(format!(
                "the artwork is {} bytes, over the {MAX_ARTWORK_BYTES}-byte limit",
                art.len()
            )));
        }
        let mut picture = Picture::from_reader(&mut art.as_slice())
            .map_err(|e| invalid(format!("the artwork is not a JPEG or PNG image ({e})")))?;
        if !matches!(picture.mime_type(), Some(MimeType::Jpeg | MimeType::Png)) {
            return Err(invalid(
                "the artwork is not a JPEG or PNG image (what DJ software shows)".into(),
            ));
        }
        picture.set_pic_type(PictureType::CoverFront);
        tag.remove_picture_type(PictureType::CoverFront);
        tag.push_picture(picture);
    }
    let mut opts = WriteOptions::default();
    opts.use_id3v23(true);
    tag.save_to_path(path, opts).map_err(|e| TagError::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Reads back the tag cratedigger writes for this file type (ID3v2 for MP3/WAV/AIFF, else the
/// file's main tag). The title comes back as stored ("Title (Mix)"), `mix` is `None`, artists
/// as one display string; for tests and for reading files a DJ already owns.
pub fn read_tags(path: &Path) -> Result<TagSet, TagError> {
    let file = open(path)?;
    let Some(tag) = file
        .tag(tag_type_for(&file))
        .or_else(|| file.primary_tag())
        .or_else(|| file.first_tag())
    else {
        return Ok(TagSet::default());
    };
    let get = |k: ItemKey| tag.get_string(k).map(str::to_string);
    Ok(TagSet {
        title: get(ItemKey::TrackTitle),
        mix: None,
        artists: get(ItemKey::TrackArtist).into_iter().collect(),
        album: get(ItemKey::AlbumTitle),
        label: get(ItemKey::Label).or_else(|| get(ItemKey::Publisher)),
        catalog_number: get(ItemKey::CatalogNumber),
        isrc: get(ItemKey::Isrc),
        bpm: get(ItemKey::IntegerBpm)
            .or_else(|| get(ItemKey::Bpm))
            .and_then(|b| b.trim().parse().ok()),
        key: get(ItemKey::InitialKey),
        genre: get(ItemKey::Genre),
        date: get(ItemKey::RecordingDate).or_else(|| get(ItemKey::Year)),
        comment: get(ItemKey::Comment),
        artwork: tag
            .get_picture_type(PictureType::CoverFront)
            .or_else(|| tag.pictures().first())
            .map(|p| p.data().to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_with_mix() {
        assert_eq!(
            display_title("Strobe", Some("Extended Mix")),
            "Strobe (Extended Mix)"
        );
        assert_eq!(display_title("Strobe", None), "Strobe");
        assert_eq!(display_title("Strobe", Some("  ")), "Strobe");
        assert_eq!(
            display_title("Strobe (Extended Mix)", Some("extended mix")),
            "Strobe (Extended Mix)"
        );
        assert_eq!(
            display_title("Strobe (Original Mix)", Some("Original Mix")),
            "Strobe (Original Mix)"
        );
        assert_eq!(
            display_title("Strobe (Extended Mix)", Some("Radio Edit")),
            "Strobe (Extended Mix) (Radio Edit)"
        );
    }

    #[test]
    fn dates_and_cleaning() {
        for ok in ["2024", "2024-05", "2024-05-31"] {
            assert!(valid_date(ok), "{ok}");
        }
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-5-1",
            "2024-05-32",
            "May 2024",
            "2024-05-01-01",
        ] {
            assert!(!valid_date(bad), "{bad}");
        }
        assert_eq!(clean(" a\u{0}b\n "), Some("ab".into()));
        assert_eq!(clean("\t"), None);
        let long = "é".repeat(2000);
        let c = clean(&long).unwrap();
        assert!(c.len() <= MAX_FIELD_BYTES && c.chars().all(|ch| ch == 'é'));
    }
}
