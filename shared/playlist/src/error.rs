//! Why a whole file was refused. Each message names the file (or "standard input") and says
//! what to do about it, because it is shown as-is to the DJ by the CLI and the HTTP API.

use crate::shown_name;

/// A playlist that cannot be used at all. When `parse` returns one of these nothing is
/// stored for the file: a half-understood playlist is worse than a clear refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaylistError {
    /// The file has no bytes, or only whitespace (or only a byte-order mark).
    #[error(
        "{} is empty: there is nothing to sync. Put one 'Artist - Title' per line, or use an M3U or CSV playlist",
        shown_name(.name)
    )]
    Empty {
        /// File name as given, `-` for stdin.
        name: String,
    },

    /// Larger than [`crate::MAX_PLAYLIST_BYTES`]; checked before anything else is read.
    #[error(
        "{} is {bytes} bytes, more than the {limit}-byte (10 MB) limit for a playlist; split it into smaller playlists",
        shown_name(.name)
    )]
    TooLarge {
        /// File name as given, `-` for stdin.
        name: String,
        /// Size of the input.
        bytes: usize,
        /// The limit it exceeds.
        limit: usize,
    },

    /// Not text: an audio file, an archive, a PDF, or other binary data.
    #[error(
        "{} is not a text playlist: {detail}. Export the playlist as M3U, CSV or plain text",
        shown_name(.name)
    )]
    Binary {
        /// File name as given, `-` for stdin.
        name: String,
        /// What gave it away, e.g. "it looks like an MP3 audio file (ID3 tag)".
        detail: String,
    },

    /// Invalid UTF-8 in a format where guessing the encoding would be a gamble.
    #[error(
        "{} is not UTF-8 text{}; save it as UTF-8 and try again",
        shown_name(.name),
        match .line_no { Some(n) => format!(" (first invalid byte on line {n})"), None => String::new() }
    )]
    NotUtf8 {
        /// File name as given, `-` for stdin.
        name: String,
        /// Line holding the first invalid byte, when known.
        line_no: Option<u32>,
    },

    /// Starts with a UTF-16 byte-order mark but the rest is not valid UTF-16.
    #[error(
        "{} starts like UTF-16 text but is not valid UTF-16 (line {line_no}); save it as UTF-8 and try again",
        shown_name(.name)
    )]
    BadUtf16 {
        /// File name as given, `-` for stdin.
        name: String,
        /// Line holding the first invalid code unit.
        line_no: u32,
    },

    /// A CSV whose header does not name the columns we need.
    #[error("{}: the CSV header on line {line_no} {detail}", shown_name(.name))]
    BadCsvHeader {
        /// File name as given, `-` for stdin.
        name: String,
        /// Line of the header (the first non-blank line).
        line_no: u32,
        /// What is missing and what was found instead.
        detail: String,
    },

    /// Nothing in the file could be used. Refused so that no empty sync is stored.
    #[error(
        "no tracks in {}: {}",
        shown_name(.name),
        no_tracks_detail(*.skipped, .first_problem.as_deref())
    )]
    NoTracks {
        /// File name as given, `-` for stdin.
        name: String,
        /// How many lines were skipped (0: only blank lines, comments or a header).
        skipped: usize,
        /// The first skipped line and its reason, e.g. "line 3: expected 'Artist - Title'",
        /// so the user sees what is wrong without a separate report.
        first_problem: Option<String>,
    },
}

fn no_tracks_detail(skipped: usize, first: Option<&str>) -> String {
    match (skipped, first) {
        (0, _) => "it holds only blank lines, comments or a header".to_string(),
        (1, Some(first)) => format!("its only track line could not be read ({first})"),
        (n, Some(first)) => format!("none of its {n} track lines could be read (first: {first})"),
        (n, None) => format!("none of its {n} track lines could be read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_say_what_to_do() {
        let cases = [
            (
                PlaylistError::Empty { name: "-".into() },
                "standard input is empty: there is nothing to sync. Put one 'Artist - Title' per line, or use an M3U or CSV playlist",
            ),
            (
                PlaylistError::TooLarge {
                    name: "big.m3u".into(),
                    bytes: 20_000_000,
                    limit: 10_485_760,
                },
                "'big.m3u' is 20000000 bytes, more than the 10485760-byte (10 MB) limit for a playlist; split it into smaller playlists",
            ),
            (
                PlaylistError::Binary {
                    name: "a.m3u".into(),
                    detail: "it contains NUL bytes".into(),
                },
                "'a.m3u' is not a text playlist: it contains NUL bytes. Export the playlist as M3U, CSV or plain text",
            ),
            (
                PlaylistError::NotUtf8 {
                    name: "a.csv".into(),
                    line_no: None,
                },
                "'a.csv' is not UTF-8 text; save it as UTF-8 and try again",
            ),
            (
                PlaylistError::NotUtf8 {
                    name: "a.csv".into(),
                    line_no: Some(7),
                },
                "'a.csv' is not UTF-8 text (first invalid byte on line 7); save it as UTF-8 and try again",
            ),
            (
                PlaylistError::BadUtf16 {
                    name: "a.txt".into(),
                    line_no: 2,
                },
                "'a.txt' starts like UTF-16 text but is not valid UTF-16 (line 2); save it as UTF-8 and try again",
            ),
            (
                PlaylistError::BadCsvHeader {
                    name: "a.csv".into(),
                    line_no: 1,
                    detail: "has no 'title' column".into(),
                },
                "'a.csv': the CSV header on line 1 has no 'title' column",
            ),
            (
                PlaylistError::NoTracks {
                    name: "a.txt".into(),
                    skipped: 0,
                    first_problem: None,
                },
                "no tracks in 'a.txt': it holds only blank lines, comments or a header",
            ),
            (
                PlaylistError::NoTracks {
                    name: "a.txt".into(),
                    skipped: 1,
                    first_problem: Some("line 2: expected 'Artist - Title'".into()),
                },
                "no tracks in 'a.txt': its only track line could not be read (line 2: expected 'Artist - Title')",
            ),
            (
                PlaylistError::NoTracks {
                    name: "a.txt".into(),
                    skipped: 3,
                    first_problem: Some("line 2: x".into()),
                },
                "no tracks in 'a.txt': none of its 3 track lines could be read (first: line 2: x)",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }
}
