//! Where a verified file goes in the library, and safe names for untrusted ones.
//!
//! Why: the library path is built from metadata and the staging name from a Soulseek peer's
//! file name, and **both are untrusted**: a peer can offer `..\..\evil\CON.flac`, a tag can
//! hold `/etc/passwd`, a control character or 5,000 bytes. Nothing from outside is ever used
//! as a path. [`library_path`] fills a configurable [`FilingTemplate`] (e.g.
//! `{artist}/{album}/{artist} - {title} ({mix}).{ext}`), runs every directory level and the
//! file name through [`sanitize_component`], and returns a path that is always strictly
//! inside the library root. [`staging_file_name`] derives a safe name for a download from a
//! peer's path.
//!
//! Rules of the sanitiser (one component = one directory or file name):
//! - path separators `/` `\` and `|` become `-`; the other characters Windows refuses
//!   (`: * ? " < >`) become `_` (`"` becomes `'`); a library is often shared with a Windows or
//!   macOS laptop running the DJ software;
//! - control characters and the invisible bidirectional overrides (used to disguise
//!   `gnp.exe` as `exe.png`) are removed; runs of whitespace become one space;
//! - leading dots are removed (no `..`, no hidden files), trailing dots and spaces too
//!   (Windows drops them silently, so two names would collide);
//! - Windows device names (`CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`, also
//!   with an extension, `CONIN$`, `CONOUT$`) get a `_` prefix;
//! - each component is at most [`FilingLimits::component_bytes`] bytes (cut at a character
//!   boundary, keeping a file's extension) and the whole relative path at most
//!   [`FilingLimits::relative_bytes`]; rekordbox refuses paths longer than 255 characters,
//!   so keep `root + relative_bytes` under that if the library is imported there.
//!
//! Missing fields are empty: a bracket pair left empty (`({mix})` without a mix) is dropped
//! with the space before it, a dangling ` - ` separator is trimmed, a directory level that
//! ends up empty is left out, and an empty file name becomes `untitled`.

use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// Length limits, in UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilingLimits {
    /// Longest directory or file name (Linux allows 255 bytes; 200 leaves room for suffixes).
    pub component_bytes: usize,
    /// Longest path below the library root.
    pub relative_bytes: usize,
}

impl Default for FilingLimits {
    fn default() -> Self {
        Self {
            component_bytes: 200,
            relative_bytes: 240,
        }
    }
}

/// Shortest a component is cut to when the whole path is too long.
const MIN_COMPONENT_BYTES: usize = 12;
/// Longest extension kept (`.flac`, `.aiff`, `.opus`).
const MAX_EXT_BYTES: usize = 8;
/// Longest input read from one field; longer input is cut first (bounds the work).
const MAX_INPUT_BYTES: usize = 4096;

/// Why a template or a path could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    /// The template names a field that does not exist.
    #[error(
        "the library path template '{template}' uses {{{name}}}, which is not a field (known: artist, album_artist, album, title, mix, label, catalog, year, genre, key, bpm, ext)"
    )]
    UnknownField {
        /// The template.
        template: String,
        /// The unknown name.
        name: String,
    },
    /// A `{` without `}` or the other way round.
    #[error("the library path template '{template}' has an unmatched brace")]
    Unbalanced {
        /// The template.
        template: String,
    },
    /// The template produces no file name.
    #[error("the library path template '{template}' has no file name part")]
    NoFileName {
        /// The template.
        template: String,
    },
    /// The limits cannot be met even with every component cut short.
    #[error(
        "a library path for '{name}' cannot fit in {limit} bytes; raise the limit or use a template with fewer levels"
    )]
    TooLong {
        /// The file name it was about.
        name: String,
        /// The limit.
        limit: usize,
    },
}

/// A field a template can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Artist,
    AlbumArtist,
    Album,
    Title,
    Mix,
    Label,
    Catalog,
    Year,
    Genre,
    Key,
    Bpm,
    Ext,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name.trim() {
            "artist" => Field::Artist,
            "album_artist" => Field::AlbumArtist,
            "album" => Field::Album,
            "title" => Field::Title,
            "mix" => Field::Mix,
            "label" => Field::Label,
            "catalog" => Field::Catalog,
            "year" => Field::Year,
            "genre" => Field::Genre,
            "key" => Field::Key,
            "bpm" => Field::Bpm,
            "ext" => Field::Ext,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// A parsed library path template: `/`-separated levels of literal text and `{field}`s.
/// Configured by the user (trusted), but its output is sanitised like any metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingTemplate {
    source: String,
    levels: Vec<Vec<Piece>>,
    limits: FilingLimits,
}

/// The template used when none is configured.
pub const DEFAULT_TEMPLATE: &str = "{artist}/{album}/{artist} - {title} ({mix}).{ext}";

impl Default for FilingTemplate {
    fn default() -> Self {
        // The default template is known to parse.
        Self::parse(DEFAULT_TEMPLATE).unwrap_or(FilingTemplate {
            source: String::new(),
            levels: vec![vec![Piece::Field(Field::Title)]],
            limits: FilingLimits::default(),
        })
    }
}

impl FilingTemplate {
    /// Parses a template such as `{artist}/{album}/{artist} - {title} ({mix}).{ext}`.
    pub fn parse(template: &str) -> Result<Self, FilingError> {
        let unbalanced = || FilingError::Unbalanced {
            template: template.to_string(),
        };
        let mut levels = Vec::new();
        for level in template.split(['/', '\\']) {
            let mut pieces = Vec::new();
            let mut rest = level;
            while !rest.is_empty() {
                match rest.find(['{', '}']) {
                    Some(i) if rest.as_bytes()[i] == b'}' => return Err(unbalanced()),
                    Some(i) => {
                        if i > 0 {
                            pieces.push(Piece::Text(rest[..i].to_string()));
                        }
                        let close = rest[i..].find('}').ok_or_else(unbalanced)? + i;
                        let name = &rest[i + 1..close];
                        if name.contains('{') {
                            return Err(unbalanced());
                        }
                        let field =
                            Field::parse(name).ok_or_else(|| FilingError::UnknownField {
                                template: template.to_string(),
                                name: name.chars().take(40).collect(),
                            })?;
                        pieces.push(Piece::Field(field));
                        rest = &rest[close + 1..];
                    }
                    None => {
                        pieces.push(Piece::Text(rest.to_string()));
                        rest = "";
                    }
                }
            }
            levels.push(pieces);
        }
        if levels.last().is_none_or(|l| l.is_empty()) {
            return Err(FilingError::NoFileName {
                template: template.to_string(),
            });
        }
        Ok(Self {
            source: template.to_string(),
            levels,
            limits: FilingLimits::default(),
        })
    }

    /// The same template with other limits (from config).
    pub fn with_limits(mut self, limits: FilingLimits) -> Self {
        self.limits = FilingLimits {
            component_bytes: limits.component_bytes.clamp(MIN_COMPONENT_BYTES * 2, 255),
            relative_bytes: limits.relative_bytes.max(MIN_COMPONENT_BYTES * 2),
        };
        self
    }

    /// The template text as configured.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// The metadata a path is built from; every field may be missing. `ext` is the verified
/// format's extension (`flac`), not the peer's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilingFields {
    /// Display artist ("deadmau5, Kaskade").
    pub artist: Option<String>,
    /// Release artist ("Various Artists").
    pub album_artist: Option<String>,
    /// Release title.
    pub album: Option<String>,
    /// Song title without the mix.
    pub title: Option<String>,
    /// Mix name ("Extended Mix").
    pub mix: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Catalog number.
    pub catalog: Option<String>,
    /// Year ("2009").
    pub year: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Key in the configured notation.
    pub key: Option<String>,
    /// BPM as text ("128").
    pub bpm: Option<String>,
    /// File extension without the dot.
    pub ext: String,
}

impl FilingFields {
    fn get(&self, f: Field) -> &str {
        let v = match f {
            Field::Artist => &self.artist,
            Field::AlbumArtist => &self.album_artist,
            Field::Album => &self.album,
            Field::Title => &self.title,
            Field::Mix => &self.mix,
            Field::Label => &self.label,
            Field::Catalog => &self.catalog,
            Field::Year => &self.year,
            Field::Genre => &self.genre,
            Field::Key => &self.key,
            Field::Bpm => &self.bpm,
            Field::Ext => return &self.ext,
        };
        v.as_deref().unwrap_or("")
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Invisible characters that reorder or hide text (bidi controls, zero-width marks, BOM).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        | '\u{061C}' | '\u{180E}')
}

/// Cleans the text of one field value (before it meets template text): separators,
/// reserved and control characters out, whitespace collapsed. Does not trim dots, so
/// "Mr. X" keeps its dot inside a longer name.
fn clean_text(s: &str) -> String {
    let s = cut(s, 16 * MAX_INPUT_BYTES);
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfc() {
        let c = match c {
            '/' | '\\' | '|' => '-',
            ':' | '*' | '?' | '<' | '>' => '_',
            '"' => '\'',
            c if c.is_whitespace() => ' ',
            c if c.is_control() || is_invisible(c) => continue,
            c => c,
        };
        if c == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// True for names Windows reserves for devices, with or without an extension.
fn is_device_name(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or("").trim_end_matches([' ']);
    let upper = base.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" | "CLOCK$"
    ) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && rest.len() == 1
        && (rest[0].is_ascii_digit() || matches!(rest[0], '¹' | '²' | '³'))
}

/// One safe directory or file name from untrusted text, at most `max_bytes` bytes; `None`
/// when nothing usable is left (empty, only dots, only control characters).
pub fn sanitize_component(s: &str, max_bytes: usize) -> Option<String> {
    let text = clean_text(s);
    finish_component(&text, max_bytes.max(MIN_COMPONENT_BYTES))
}

/// Trims leading dots, spaces and dashes and trailing dots and spaces, caps the length,
/// guards device names. `text` is already clean.
fn finish_component(text: &str, max_bytes: usize) -> Option<String> {
    let trim = |t: &str| -> String {
        t.trim_start_matches(['.', ' ', '-'])
            .trim_end_matches(['.', ' '])
            .to_string()
    };
    let mut t = trim(cut(&trim(text), max_bytes));
    if t.is_empty() {
        return None;
    }
    if is_device_name(&t) {
        t.insert(0, '_');
        // A leading '_' cannot form a device name, so cutting again is safe.
        t = trim(cut(&t, max_bytes));
    }
    (!t.is_empty()).then_some(t)
}

/// A safe extension: ASCII letters and digits, lower case, at most 8; `None` otherwise.
pub fn safe_extension(ext: &str) -> Option<String> {
    let e = ext.trim().trim_start_matches('.').to_ascii_lowercase();
    (!e.is_empty() && e.len() <= MAX_EXT_BYTES && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(e)
}

/// A file name (stem + `.ext`) capped at `max` bytes by cutting the stem.
fn file_name(stem: &str, ext: Option<&str>, max: usize) -> Option<String> {
    let suffix = ext.map(|e| format!(".{e}")).unwrap_or_default();
    let stem_max = max.saturating_sub(suffix.len()).max(1);
    let stem = finish_component(stem, stem_max).unwrap_or_else(|| "untitled".to_string());
    let name = format!("{stem}{suffix}");
    // A stem like "CON" got its prefix above; "untitled" and prefixed names are safe.
    (name.len() <= max.max(suffix.len() + 1)).then_some(name)
}

/// Removes empty bracket pairs (and the space before them), repeated spaces and dangling
/// separators left by missing fields.
fn tidy(s: &str) -> String {
    let mut t = s.to_string();
    loop {
        let before = t.clone();
        for pair in ["()", "[]", "{}", "( )", "[ ]", "{ }"] {
            t = t.replace(&format!(" {pair}"), "").replace(pair, "");
        }
        while t.contains("  ") {
            t = t.replace("  ", " ");
        }
        // "Artist - ." when the title is missing before the extension.
        t = t.replace(" - .", ".").replace(" .", ".");
        t = t
            .trim_matches(|c: char| c == ' ' || c == '-' || c == '\u{2013}')
            .to_string();
        if t == before {
            return t;
        }
    }
}

/// The library path for a track: `root` joined with the filled-in, sanitised template.
/// Always strictly inside `root` (checked before returning).
pub fn library_path(
    root: &Path,
    template: &FilingTemplate,
    fields: &FilingFields,
) -> Result<PathBuf, FilingError> {
    let limits = template.limits;
    let ext = safe_extension(&fields.ext);
    let n = template.levels.len();
    let mut parts: Vec<String> = Vec::with_capacity(n);
    for (i, level) in template.levels.iter().enumerate() {
        let last = i + 1 == n;
        // Values and literal text are joined first, then cleaned as one string: a value can
        // never add a level because every separator inside it is replaced.
        let mut raw = String::new();
        for piece in level {
            match piece {
                Piece::Text(t) => raw.push_str(t),
                // The extension is added by `file_name`, from the verified format.
                Piece::Field(Field::Ext) if last => {}
                Piece::Field(f) => raw.push_str(cut(fields.get(*f), MAX_INPUT_BYTES)),
            }
        }
        let mut text = tidy(&clean_text(&raw));
        if last {
            // Drop a literal "." that preceded {ext} in the template.
            while text.ends_with('.') || text.ends_with(' ') {
                text.pop();
            }
            let name = file_name(&tidy(&text), ext.as_deref(), limits.component_bytes).ok_or_else(
                || FilingError::TooLong {
                    name: cut(&text, 80).to_string(),
                    limit: limits.component_bytes,
                },
            )?;
            parts.push(name);
        } else if let Some(c) = finish_component(&text, limits.component_bytes) {
            parts.push(c);
        }
    }
    fit(&mut parts, ext.as_deref(), limits)?;
    let mut path = root.to_path_buf();
    for p in &parts {
        path.push(p);
    }
    // Belt and braces: every added component is a plain name, and the result is below root.
    let rel = path.strip_prefix(root).map_err(|_| FilingError::TooLong {
        name: parts.join("/"),
        limit: limits.relative_bytes,
    })?;
    let plain = rel.components().count() == parts.len()
        && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain || parts.is_empty() {
        return Err(FilingError::TooLong {
            name: parts.join("/"),
            limit: limits.relative_bytes,
        });
    }
    Ok(path)
}

/// Shortens the longest components until the relative path fits the limit.
fn fit(parts: &mut [String], ext: Option<&str>, limits: FilingLimits) -> Result<(), FilingError> {
    let total = |p: &[String]| p.iter().map(String::len).sum::<usize>() + p.len().saturating_sub(1);
    let last = parts.len().saturating_sub(1);
    while total(parts) > limits.relative_bytes {
        let excess = total(parts) - limits.relative_bytes;
        let (i, len) = parts
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.len()))
            .max_by_key(|&(_, l)| l)
            .unwrap_or((0, 0));
        if len <= MIN_COMPONENT_BYTES + ext.map_or(0, |e| e.len() + 1) {
            return Err(FilingError::TooLong {
                name: parts
                    .last()
                    .map(|p| cut(p, 80).to_string())
                    .unwrap_or_default(),
                limit: limits.relative_bytes,
            });
        }
        let target = len.saturating_sub(excess).max(MIN_COMPONENT_BYTES);
        let shorter = if i == last {
            let suffix_len = ext.map_or(0, |e| e.len() + 1);
            let stem = &parts[i][..parts[i].len() - suffix_len];
            file_name(stem, ext, target)
        } else {
            finish_component(&parts[i], target)
        };
        match shorter {
            Some(s) if s.len() < len => parts[i] = s,
            _ => {
                return Err(FilingError::TooLong {
                    name: cut(&parts[i], 80).to_string(),
                    limit: limits.relative_bytes,
                });
            }
        }
    }
    Ok(())
}

/// Longest staging name.
const MAX_STAGING_BYTES: usize = 150;

/// A safe file name for a download, from a peer's path such as
/// `@@user\Music\..\..\evil\CON.flac`: only the last segment (split on `/` and `\`) is
/// kept, sanitised, with a safe extension; `download` when nothing usable is left. The
/// caller still puts it in a staging directory of its own (and should prefix a unique id).
pub fn staging_file_name(peer_name: &str) -> String {
    // Only the tail can matter: the last segment, and only its last bytes for the extension.
    let peer = cut(peer_name, 16 * MAX_INPUT_BYTES);
    let last = peer
        .rsplit(['/', '\\'])
        .find(|s| !s.trim().trim_matches('.').is_empty())
        .unwrap_or("");
    let (stem, ext) = match last.rsplit_once('.') {
        Some((stem, e)) if safe_extension(e).is_some() && !stem.trim_matches('.').is_empty() => {
            (stem, safe_extension(e))
        }
        _ => (last, None),
    };
    let stem = clean_text(cut(stem, MAX_INPUT_BYTES));
    let stem = if stem.trim_matches(['.', ' ', '-']).is_empty() {
        "download".to_string()
    } else {
        stem
    };
    file_name(&stem, ext.as_deref(), MAX_STAGING_BYTES).unwrap_or_else(|| "download".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(artist: &str, album: &str, title: &str, mix: &str) -> FilingFields {
        let o = |s: &str| (!s.is_empty()).then(|| s.to_string());
        FilingFields {
            artist: o(artist),
            album: o(album),
            title: o(title),
            mix: o(mix),
            ext: "flac".into(),
            ..Default::default()
        }
    }

    fn rel(p: &Path) -> String {
        p.strip_prefix("/lib")
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn path(f: &FilingFields) -> String {
        rel(&library_path(Path::new("/lib"), &FilingTemplate::default(), f).unwrap())
    }

    #[test]
    fn default_template_and_missing_fields() {
        assert_eq!(
            path(&fields("deadmau5", "For Lack", "Strobe", "Extended Mix")),
            "deadmau5/For Lack/deadmau5 - Strobe (Extended Mix).flac"
        );
        // No mix: the empty parentheses go, with their space.
        assert_eq!(
            path(&fields("deadmau5", "For Lack", "Strobe", "")),
            "deadmau5/For Lack/deadmau5 - Strobe.flac"
        );
        // No album: that level is left out.
        assert_eq!(
            path(&fields("deadmau5", "", "Strobe", "")),
            "deadmau5/deadmau5 - Strobe.flac"
        );
        // No artist: no dangling separator.
        assert_eq!(path(&fields("", "", "Strobe", "")), "Strobe.flac");
        // Nothing at all.
        assert_eq!(path(&fields("", "", "", "")), "untitled.flac");
        let t = FilingTemplate::parse("{label}/[{catalog}] {artist} - {title}.{ext}").unwrap();
        let mut f = fields("A", "", "T", "");
        f.label = Some("Anjuna".into());
        assert_eq!(
            rel(&library_path(Path::new("/lib"), &t, &f).unwrap()),
            "Anjuna/A - T.flac"
        );
        f.catalog = Some("ANJ123".into());
        assert_eq!(
            rel(&library_path(Path::new("/lib"), &t, &f).unwrap()),
            "Anjuna/[ANJ123] A - T.flac"
        );
    }

    #[test]
    fn template_errors_are_readable() {
        let e = FilingTemplate::parse("{artist}/{colour}.{ext}").unwrap_err();
        assert!(e.to_string().contains("{colour}"), "{e}");
        assert!(matches!(
            FilingTemplate::parse("{artist/x"),
            Err(FilingError::Unbalanced { .. })
        ));
        assert!(matches!(
            FilingTemplate::parse("a}b"),
            Err(FilingError::Unbalanced { .. })
        ));
        assert!(matches!(
            FilingTemplate::parse("{artist}/"),
            Err(FilingError::NoFileName { .. })
        ));
    }

    #[test]
    fn traversal_and_absolute_paths_stay_inside() {
        for evil in [
            "..",
            "../..",
            "../../etc",
            "/etc/passwd",
            "\\\\server\\share",
            "C:\\Windows",
            "~",
            ".",
            "...",
        ] {
            let p = library_path(
                Path::new("/lib"),
                &FilingTemplate::default(),
                &fields(evil, evil, evil, evil),
            )
            .unwrap();
            assert!(p.starts_with("/lib"), "{evil}: {p:?}");
            assert!(
                p.components()
                    .all(|c| !matches!(c, Component::ParentDir | Component::CurDir)),
                "{evil}: {p:?}"
            );
        }
        assert_eq!(
            path(&fields("../../etc", "", "passwd", "")),
            "etc/etc - passwd.flac"
        );
        // A template with traversal in its literal text is tamed the same way.
        let t = FilingTemplate::parse("../../{artist}/{title}.{ext}").unwrap();
        let p = library_path(Path::new("/lib"), &t, &fields("A", "", "T", "")).unwrap();
        assert_eq!(rel(&p), "A/T.flac");
    }

    #[test]
    fn separators_inside_names() {
        assert_eq!(
            path(&fields("AC/DC", "", "Back\\In|Black", "")),
            "AC-DC/AC-DC - Back-In-Black.flac"
        );
        assert_eq!(
            sanitize_component("What? \"Why\": <no> *", 200).as_deref(),
            Some("What_ 'Why'_ _no_ _")
        );
    }

    #[test]
    fn device_names() {
        for d in [
            "CON",
            "con",
            "Nul",
            "AUX",
            "PRN",
            "COM1",
            "com9",
            "LPT1",
            "LPT²",
            "CONIN$",
            "NUL.txt",
            "con .flac",
        ] {
            let c = sanitize_component(d, 200).unwrap();
            assert!(c.starts_with('_'), "{d} -> {c}");
            assert!(!is_device_name(&c), "{d} -> {c}");
        }
        for ok in ["CONSOLE", "COM10", "Nullify", "LPT", "icon"] {
            assert_eq!(sanitize_component(ok, 200).as_deref(), Some(ok));
        }
        assert_eq!(
            path(&fields("CON", "AUX", "NUL", "")),
            "_CON/_AUX/CON - NUL.flac"
        );
        assert_eq!(path(&fields("", "", "NUL", "")), "_NUL.flac");
    }

    #[test]
    fn control_characters_and_invisible_overrides() {
        assert_eq!(
            sanitize_component("a\u{0}b\u{1b}[31mc\r\nd\u{7f}", 200).as_deref(),
            Some("ab[31mc d")
        );
        assert_eq!(
            sanitize_component("track\u{202E}calf.exe", 200).as_deref(),
            Some("trackcalf.exe")
        );
        assert_eq!(sanitize_component("\u{0}\u{1}\t\n", 200), None);
    }

    #[test]
    fn trailing_dots_spaces_and_hidden_names() {
        assert_eq!(
            sanitize_component("Mr. X. . ", 200).as_deref(),
            Some("Mr. X")
        );
        assert_eq!(
            sanitize_component(".hidden", 200).as_deref(),
            Some("hidden")
        );
        assert_eq!(sanitize_component("...", 200), None);
        assert_eq!(
            path(&fields("Dots...", "Spaces   ", "T.", "")),
            "Dots/Spaces/Dots... - T.flac"
        );
    }

    #[test]
    fn overlong_names_are_cut_utf8_safe_and_keep_the_extension() {
        let long = "é".repeat(500);
        let c = sanitize_component(&long, 200).unwrap();
        assert!(c.len() <= 200 && c.chars().all(|x| x == 'é'), "{}", c.len());
        let p = library_path(
            Path::new("/lib"),
            &FilingTemplate::default(),
            &fields(
                &"A".repeat(300),
                &"東".repeat(300),
                &"T".repeat(1000),
                "Mix",
            ),
        )
        .unwrap();
        let r = rel(&p);
        assert!(r.len() <= 240, "{} {r}", r.len());
        assert!(r.ends_with(".flac"), "{r}");
        for comp in p.strip_prefix("/lib").unwrap().components() {
            assert!(comp.as_os_str().len() <= 200);
        }
        // Staging names too.
        let s = staging_file_name(&format!("@@u\\{}.flac", "x".repeat(5000)));
        assert!(s.len() <= 150 && s.ends_with(".flac"), "{s}");
        // Limits that cannot be met are an error, not a panic.
        let t = FilingTemplate::parse("{artist}/{album}/{genre}/{label}/{title}.{ext}")
            .unwrap()
            .with_limits(FilingLimits {
                component_bytes: 200,
                relative_bytes: 30,
            });
        let mut f = fields(&"a".repeat(50), &"b".repeat(50), &"c".repeat(50), "");
        f.genre = Some("g".repeat(50));
        f.label = Some("l".repeat(50));
        assert!(matches!(
            library_path(Path::new("/lib"), &t, &f),
            Err(FilingError::TooLong { .. })
        ));
    }

    #[test]
    fn staging_names_from_peer_paths() {
        let cases = [
            ("@@user\\Music\\..\\..\\evil\\CON.flac", "_CON.flac"),
            ("@@user\\Music\\Artist - Track.FLAC", "Artist - Track.flac"),
            ("/etc/passwd", "passwd"),
            ("..\\..\\", "download"),
            ("", "download"),
            ("@@u\\dir\\.hidden.mp3", "hidden.mp3"),
            ("@@u\\dir\\track.mp3.exe", "track.mp3.exe"),
            ("@@u\\dir\\name.with.dots.wav", "name.with.dots.wav"),
            ("@@u\\dir\\weird.ext!!", "weird.ext!!"),
            ("@@u\\dir\\a\u{0}b\r\n.aiff", "ab.aiff"),
            ("@@u\\dir\\nul.", "_nul"),
            ("C:\\Users\\x\\lpt1.mp3", "_lpt1.mp3"),
        ];
        for (peer, want) in cases {
            assert_eq!(staging_file_name(peer), want, "{peer:?}");
        }
        assert_eq!(safe_extension(".FLAC").as_deref(), Some("flac"));
        assert_eq!(safe_extension("fl/ac"), None);
        assert_eq!(safe_extension("toolongext"), None);
    }

    /// Every component of a produced path obeys the rules.
    fn assert_safe_component(c: &str) {
        assert!(!c.is_empty());
        assert!(c.len() <= 200, "{}", c.len());
        assert!(
            !c.contains(['/', '\\', '|', ':', '*', '?', '"', '<', '>']),
            "{c:?}"
        );
        assert!(
            !c.chars().any(|x| x.is_control() || is_invisible(x)),
            "{c:?}"
        );
        assert!(
            !c.ends_with(['.', ' ']) && !c.starts_with(['.', ' ']),
            "{c:?}"
        );
        assert!(c != "." && c != "..");
        assert!(!is_device_name(c), "{c:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_metadata_yields_a_safe_path_inside_the_root(
            artist in ".*", album in "\\PC*", title in "(\\.|/|\\\\|[a-zA-Z ]|\u{0}|CON|é|\u{202E}){0,40}",
            mix in ".{0,300}", ext in ".{0,10}",
        ) {
            let f = FilingFields { artist: Some(artist), album: Some(album), title: Some(title), mix: Some(mix), ext, ..Default::default() };
            let root = Path::new("/srv/library");
            match library_path(root, &FilingTemplate::default(), &f) {
                Ok(p) => {
                    prop_assert!(p.starts_with(root) && p != root);
                    let r = p.strip_prefix(root).unwrap();
                    prop_assert!(r.as_os_str().len() <= 240);
                    for c in r.components() {
                        prop_assert!(matches!(c, Component::Normal(_)), "{:?}", p);
                        assert_safe_component(c.as_os_str().to_str().unwrap());
                    }
                }
                Err(e) => prop_assert!(matches!(e, FilingError::TooLong { .. }), "{}", e),
            }
        }

        #[test]
        fn any_peer_name_yields_a_safe_staging_name(peer in ".*", peer2 in "(\\.\\.|\\\\|/|@@|CON|nul|\\.flac|[a-z]|\u{0}|\u{202E}| ){0,30}") {
            for p in [peer, peer2] {
                let s = staging_file_name(&p);
                assert_safe_component(&s);
                prop_assert!(s.len() <= 150);
                prop_assert_eq!(Path::new(&s).components().count(), 1);
            }
        }

        #[test]
        fn any_component_text_is_safe(s in ".*", max in 12usize..300) {
            if let Some(c) = sanitize_component(&s, max) {
                prop_assert!(c.len() <= max.max(12));
                assert_safe_component(&c);
            }
        }
    }
}
