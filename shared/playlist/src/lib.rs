//! Playlist files in, wanted tracks out.
//!
//! A DJ hands cratedigger whatever their software exported: an M3U/M3U8 playlist, a CSV
//! with a header, or a plain list of `Artist - Title` lines. This crate turns that file into
//! [`WantedTrack`]s without doing any I/O itself (the caller reads the file or stdin), so the
//! CLI, the scheduler's HTTP API and the tests all share one parser.
//!
//! Two kinds of problems are kept apart on purpose:
//!
//! * a **line** that cannot be read becomes a [`SkippedLine`] with its 1-based line number
//!   and a reason; the rest of the file still syncs;
//! * a **file** that cannot be a playlist at all (empty, binary, too large, wrong encoding,
//!   a CSV without `artist`/`title` columns, or nothing usable in it) is a
//!   [`PlaylistError`], so the caller stores nothing for it.
//!
//! # Encodings
//!
//! UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark are read as
//! such. Invalid UTF-8 is refused ([`PlaylistError::NotUtf8`]) except for M3U playlists that
//! are not `.m3u8`: the `.m3u` format predates UTF-8 and Winamp, Windows Media Player and
//! old iTunes wrote it in the Windows "ANSI" code page, which for the Western languages is
//! Windows-1252. Those files are decoded as Windows-1252, which turns `Beyonc\xE9` into
//! `Beyoncé` instead of refusing a playlist the user cannot easily re-export. `.m3u8` is
//! UTF-8 by definition, and a CSV or text file in a legacy encoding is ambiguous enough
//! that asking the user to save it as UTF-8 is the honest answer.

#![deny(missing_docs)]

mod csv_format;
mod decode;
mod error;
mod fields;
mod m3u;
mod text;

use std::fmt;

pub use cratedigger_domain::WantedTrack;
use serde::{Deserialize, Serialize};

pub use error::PlaylistError;

/// Largest playlist accepted, in bytes. A 10 MB text file is already ~100,000 tracks;
/// anything larger is far more likely a wrong file (an audio file, a database dump) than a
/// playlist, and refusing it early keeps one upload from flooding the queues.
pub const MAX_PLAYLIST_BYTES: usize = 10 * 1024 * 1024;

/// Longest line (in characters) that is read. Longer lines are skipped and reported: no
/// real playlist line is that long, and capping it bounds the work and the size of what is
/// stored per item.
pub const MAX_LINE_CHARS: usize = 2_000;

/// Longest artist or title kept (in characters); longer values are cut. Platform search
/// APIs reject or ignore longer queries, and it bounds what is stored per item.
pub const MAX_FIELD_CHARS: usize = 500;

/// How much of a skipped line is kept for the report (in characters): enough for a person
/// to recognise the line, without storing a 2,000-character line per skipped row.
pub const MAX_SKIPPED_INPUT_CHARS: usize = 200;

/// The playlist dialects cratedigger reads. Kept in the parse result so the report (and the
/// stored sync) can say how a file was understood, which explains surprising results such
/// as a `.txt` file that was read as CSV because its first line was a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaylistFormat {
    /// M3U / M3U8, with or without `#EXTM3U` and `#EXTINF` lines.
    M3u,
    /// Delimited text (comma, semicolon or tab) whose first line names the columns.
    Csv,
    /// One `Artist - Title` per line.
    Text,
}

impl PlaylistFormat {
    /// Stable lowercase name, identical to the serde form, so logs, the database and JSON
    /// output all spell a format the same way.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaylistFormat::M3u => "m3u",
            PlaylistFormat::Csv => "csv",
            PlaylistFormat::Text => "text",
        }
    }
}

impl fmt::Display for PlaylistFormat {
    /// Writes [`PlaylistFormat::as_str`], so `to_string()` round-trips with serde.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One track read from the playlist, with where it came from so the user's report can
/// point back at the line they wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// 1-based line number as an editor shows it. For M3U this is the `#EXTINF` line when
    /// there is one (that is where the artist and title are written); for CSV it is the
    /// line the row starts on.
    pub line_no: u32,
    /// The line(s) as written, trimmed: for M3U the `#EXTINF` line and its path line
    /// joined by a newline, for CSV the raw row. Shown back to the user next to the result.
    pub input: String,
    /// What the line asks for.
    pub wanted: WantedTrack,
}

/// A line that was not turned into a track, reported to the user instead of silently
/// dropped, so they can fix the line and sync it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    /// 1-based line number as an editor shows it.
    pub line_no: u32,
    /// The line as written, trimmed and cut to about 200 characters.
    pub input: String,
    /// Why it was skipped, in words a person understands.
    pub reason: String,
}

/// The result of reading one playlist: the tracks, and the lines that were skipped. A
/// `ParsedPlaylist` always has at least one entry; a file with none is a
/// [`PlaylistError::NoTracks`] so that nothing is stored for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedPlaylist {
    /// How the file was read.
    pub format: PlaylistFormat,
    /// The tracks, in file order. Duplicates are kept: deciding that two lines are the same
    /// track is the consolidator's job, and it reports it per item.
    pub entries: Vec<Entry>,
    /// Lines that could not be used, in file order.
    pub skipped: Vec<SkippedLine>,
}

/// Reads a playlist.
///
/// `name` is the file name (or `-` for standard input). It picks the format by extension
/// (see [`detect_format`]) and names the file in error messages; the path is not opened.
///
/// The checks run cheapest-and-most-decisive first: size (before looking at any byte),
/// emptiness, binary content, encoding, and only then the lines. Every line problem is a
/// [`SkippedLine`]; the call fails only when the file as a whole cannot be used.
pub fn parse(name: &str, bytes: &[u8]) -> Result<ParsedPlaylist, PlaylistError> {
    if bytes.len() > MAX_PLAYLIST_BYTES {
        return Err(PlaylistError::TooLarge {
            name: name.to_string(),
            bytes: bytes.len(),
            limit: MAX_PLAYLIST_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(PlaylistError::Empty {
            name: name.to_string(),
        });
    }
    let text = decode::decode(name, bytes)?;
    if text.trim().is_empty() {
        return Err(PlaylistError::Empty {
            name: name.to_string(),
        });
    }
    let format = detect_format(name, &text);
    let (entries, skipped) = match format {
        PlaylistFormat::M3u => m3u::parse(&text),
        PlaylistFormat::Csv => csv_format::parse(name, &text)?,
        PlaylistFormat::Text => text::parse(&text),
    };
    if entries.is_empty() {
        return Err(PlaylistError::NoTracks {
            name: name.to_string(),
            skipped: skipped.len(),
            first_problem: skipped
                .first()
                .map(|s| format!("line {}: {}", s.line_no, s.reason)),
        });
    }
    Ok(ParsedPlaylist {
        format,
        entries,
        skipped,
    })
}

/// Decides how to read a playlist, so that callers (and `parse`) agree on one rule.
///
/// The extension wins when it is one we know: `.m3u`/`.m3u8` → M3U, `.csv`/`.tsv` → CSV.
/// Otherwise (`.txt`, no extension, `-` for stdin) the content decides: `#EXTM3U` on the
/// first line or any `#EXTINF` line → M3U; a first line that is a header naming both an
/// artist and a title column (separated by commas, semicolons or tabs) → CSV; anything else
/// → plain text.
pub fn detect_format(name: &str, text: &str) -> PlaylistFormat {
    match extension(name).as_deref() {
        Some("m3u" | "m3u8") => return PlaylistFormat::M3u,
        Some("csv" | "tsv") => return PlaylistFormat::Csv,
        _ => {}
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    if first.is_some_and(|l| l.to_ascii_uppercase().starts_with("#EXTM3U"))
        || text
            .lines()
            .any(|l| l.trim_start().to_ascii_uppercase().starts_with("#EXTINF"))
    {
        return PlaylistFormat::M3u;
    }
    if first.is_some_and(csv_format::looks_like_header) {
        return PlaylistFormat::Csv;
    }
    PlaylistFormat::Text
}

/// Lower-case extension of the last path component, if any.
fn extension(name: &str) -> Option<String> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = file.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// How the file is called in messages: "standard input" reads better than "-".
fn shown_name(name: &str) -> String {
    if name == "-" || name.is_empty() {
        "standard input".to_string()
    } else {
        format!("'{name}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_format_table() {
        let cases: &[(&str, &str, PlaylistFormat)] = &[
            ("set.m3u", "Bicep - Glue", PlaylistFormat::M3u),
            ("set.M3U8", "", PlaylistFormat::M3u),
            ("set.csv", "Bicep - Glue", PlaylistFormat::Csv),
            ("set.tsv", "artist\ttitle", PlaylistFormat::Csv),
            ("set.txt", "Bicep - Glue", PlaylistFormat::Text),
            ("-", "#EXTM3U\n/a.mp3", PlaylistFormat::M3u),
            ("-", "\u{feff}#EXTM3U\n", PlaylistFormat::M3u),
            ("-", "#EXTINF:1,A - B\n/a.mp3", PlaylistFormat::M3u),
            (
                "list",
                "\n  Artist , Title , Album\nA,B,C",
                PlaylistFormat::Csv,
            ),
            (
                "list.txt",
                "\u{feff}\"Title\";\"Artist\"",
                PlaylistFormat::Csv,
            ),
            ("-", "artist\ttitle\nA\tB", PlaylistFormat::Csv),
            ("-", "Track Name,Artist Name(s)", PlaylistFormat::Csv),
            ("-", "artist,album\nA,B", PlaylistFormat::Text),
            ("-", "Artist - Title", PlaylistFormat::Text),
            ("-", "# my list\nArtist - Title", PlaylistFormat::Text),
            ("dir.m3u/list", "A - B", PlaylistFormat::Text),
            (".csv", "A - B", PlaylistFormat::Text),
        ];
        for (name, text, want) in cases {
            assert_eq!(detect_format(name, text), *want, "{name:?} {text:?}");
        }
    }

    #[test]
    fn format_serde_and_display_agree() {
        for f in [
            PlaylistFormat::M3u,
            PlaylistFormat::Csv,
            PlaylistFormat::Text,
        ] {
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{f}\""));
            let back: PlaylistFormat = serde_json::from_str(&json).unwrap();
            assert_eq!(back, f);
        }
    }

    #[test]
    fn parsed_playlist_serializes_for_the_scheduler() {
        let p = parse("x.txt", b"Bicep - Glue\nnonsense\n").unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["format"], "text");
        assert_eq!(v["entries"][0]["line_no"], 1);
        assert_eq!(v["entries"][0]["wanted"]["artist"], "Bicep");
        assert_eq!(v["skipped"][0]["line_no"], 2);
        assert_eq!(v["skipped"][0]["input"], "nonsense");
        let back: ParsedPlaylist = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn whole_file_errors_table() {
        let big = vec![b'a'; MAX_PLAYLIST_BYTES + 1];
        let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
        mp3.extend_from_slice(&[0xFF; 20]);
        type Check = fn(&PlaylistError) -> bool;
        let cases: &[(&str, &[u8], Check, &str)] = &[
            (
                "a.m3u",
                b"",
                |e| matches!(e, PlaylistError::Empty { .. }),
                "'a.m3u' is empty",
            ),
            (
                "-",
                b" \r\n\t\n",
                |e| matches!(e, PlaylistError::Empty { .. }),
                "standard input is empty",
            ),
            (
                "a.txt",
                b"\xEF\xBB\xBF\n\n",
                |e| matches!(e, PlaylistError::Empty { .. }),
                "'a.txt' is empty",
            ),
            (
                "huge.txt",
                &big,
                |e| {
                    matches!(
                        e,
                        PlaylistError::TooLarge {
                            bytes,
                            limit: MAX_PLAYLIST_BYTES,
                            ..
                        } if *bytes == MAX_PLAYLIST_BYTES + 1
                    )
                },
                "'huge.txt' is 10485761 bytes",
            ),
            (
                "song.m3u",
                &mp3,
                |e| matches!(e, PlaylistError::Binary { .. }),
                "MP3 audio",
            ),
            (
                "a.txt",
                b"Bicep - Glue\nX\x00Y",
                |e| matches!(e, PlaylistError::Binary { .. }),
                "NUL",
            ),
            (
                "a.csv",
                b"artist,title\nBj\xF6rk,Joga\n",
                |e| {
                    matches!(
                        e,
                        PlaylistError::NotUtf8 {
                            line_no: Some(2),
                            ..
                        }
                    )
                },
                "'a.csv' is not UTF-8 text (first invalid byte on line 2)",
            ),
            (
                "a.m3u8",
                b"#EXTINF:1,Bj\xF6rk - Joga\n",
                |e| {
                    matches!(
                        e,
                        PlaylistError::NotUtf8 {
                            line_no: Some(1),
                            ..
                        }
                    )
                },
                "line 1",
            ),
            (
                "a.txt",
                b"# nothing but a comment\n\n",
                |e| matches!(e, PlaylistError::NoTracks { skipped: 0, .. }),
                "no tracks in 'a.txt'",
            ),
            (
                "a.txt",
                b"one\ntwo\n",
                |e| matches!(e, PlaylistError::NoTracks { skipped: 2, .. }),
                "line 1: expected 'Artist - Title'",
            ),
            (
                "a.csv",
                b"name,album\nGlue,Bicep\n",
                |e| matches!(e, PlaylistError::BadCsvHeader { .. }),
                "no 'artist' column and no 'title' column",
            ),
            (
                "a.csv",
                b"artist,title\n",
                |e| matches!(e, PlaylistError::NoTracks { skipped: 0, .. }),
                "no tracks in 'a.csv'",
            ),
        ];
        for (name, bytes, check, needle) in cases {
            let err = parse(name, bytes).expect_err(name);
            assert!(check(&err), "{name}: unexpected error {err:?}");
            let msg = err.to_string();
            assert!(msg.contains(needle), "{name}: {msg:?} lacks {needle:?}");
        }
    }

    #[test]
    fn too_large_is_checked_before_content() {
        // Binary and oversized: the size is what the user is told.
        let mut big = vec![0u8; MAX_PLAYLIST_BYTES + 10];
        big[..3].copy_from_slice(b"ID3");
        assert!(matches!(
            parse("x.mp3", &big),
            Err(PlaylistError::TooLarge { .. })
        ));
        // Exactly at the limit is accepted.
        let mut ok = b"Bicep - Glue\n".to_vec();
        ok.resize(MAX_PLAYLIST_BYTES, b' ');
        assert_eq!(parse("x.txt", &ok).unwrap().entries.len(), 1);
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let text = "artist,title\nRöyksopp,Eple\n";
        for le in [true, false] {
            let mut bytes = if le {
                vec![0xFF, 0xFE]
            } else {
                vec![0xFE, 0xFF]
            };
            for u in text.encode_utf16() {
                let b = if le { u.to_le_bytes() } else { u.to_be_bytes() };
                bytes.extend_from_slice(&b);
            }
            let p = parse("export.csv", &bytes).unwrap();
            assert_eq!(p.entries[0].wanted.artist, "Röyksopp");
            assert_eq!(p.entries[0].line_no, 2);
        }
    }

    #[test]
    fn legacy_m3u_is_read_as_windows_1252() {
        let p = parse(
            "old.m3u",
            b"#EXTINF:200,Beyonc\xE9 \x96 D\xE9j\xE0 Vu\r\nC:\\x.mp3\r\n",
        )
        .unwrap();
        assert_eq!(p.entries[0].wanted.artist, "Beyoncé");
        assert_eq!(p.entries[0].wanted.title, "Déjà Vu");
    }
}
