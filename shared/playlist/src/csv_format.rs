//! CSV (comma, semicolon or tab separated) with a header row, as exported by spreadsheets,
//! Rekordbox/Serato/Traktor tools and Spotify exporters.
//!
//! Columns are recognised by name, case-insensitively and ignoring spaces and punctuation,
//! so "Artist", " artist ", "Artist Name(s)" and "Track Name" all work. Only `artist` and
//! `title` are required; album, ISRC, catalog number, label, mix and duration are used when
//! present because each one makes the research cheaper or more exact.

use cratedigger_domain::WantedTrack;

use crate::fields::{clean, clean_opt, duration_ms, skipped, too_long};
use crate::{Entry, PlaylistError, SkippedLine};

/// The columns we understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Artist,
    Title,
    Album,
    Isrc,
    Catalog,
    Label,
    Mix,
    /// Seconds or m:ss.
    Duration,
    /// Milliseconds (Spotify exports).
    DurationMs,
}

/// Header name → column. Names are compared after [`key`] (lowercase, letters and digits
/// only), so "Catalog Number", "catalog_number" and "Cat. No." need one entry each at most.
fn column(name: &str) -> Option<Column> {
    Some(match key(name).as_str() {
        "artist" | "artists" | "artistname" | "artistnames" => Column::Artist,
        "title" | "track" | "trackname" | "tracktitle" | "song" | "songtitle" | "songname" => {
            Column::Title
        }
        "album" | "albumname" | "albumtitle" | "release" | "releasetitle" => Column::Album,
        "isrc" => Column::Isrc,
        "catalog" | "catalognumber" | "catalogno" | "catalogue" | "cataloguenumber" | "catno"
        | "catnumber" => Column::Catalog,
        "label" | "recordlabel" | "labelname" => Column::Label,
        "mix" | "mixname" | "version" => Column::Mix,
        "duration" | "length" | "time" | "durations" | "durationsec" | "durationseconds" => {
            Column::Duration
        }
        "durationms" | "lengthms" | "durationmilliseconds" => Column::DurationMs,
        _ => return None,
    })
}

fn key(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Column positions found in a header.
#[derive(Debug, Default)]
struct Layout {
    artist: Option<usize>,
    title: Option<usize>,
    album: Option<usize>,
    isrc: Option<usize>,
    catalog: Option<usize>,
    label: Option<usize>,
    mix: Option<usize>,
    duration: Option<usize>,
    duration_ms: Option<usize>,
}

impl Layout {
    fn from_header<'a>(fields: impl IntoIterator<Item = &'a str>) -> Layout {
        let mut l = Layout::default();
        for (i, f) in fields.into_iter().enumerate() {
            let slot = match column(f) {
                Some(Column::Artist) => &mut l.artist,
                Some(Column::Title) => &mut l.title,
                Some(Column::Album) => &mut l.album,
                Some(Column::Isrc) => &mut l.isrc,
                Some(Column::Catalog) => &mut l.catalog,
                Some(Column::Label) => &mut l.label,
                Some(Column::Mix) => &mut l.mix,
                Some(Column::Duration) => &mut l.duration,
                Some(Column::DurationMs) => &mut l.duration_ms,
                None => continue,
            };
            // The first column of a kind wins ("Artist", then "Artist" again for remixer).
            slot.get_or_insert(i);
        }
        l
    }

    fn usable(&self) -> bool {
        self.artist.is_some() && self.title.is_some()
    }
}

/// Splits one line with the csv crate, so quoted names with commas count correctly.
fn split(line: &str, delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    match reader.read_record(&mut rec) {
        Ok(true) => rec.iter().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Picks the delimiter: the first of comma, semicolon, tab that yields both an artist and
/// a title column; failing that the one that splits the header into the most fields.
fn delimiter(header: &str) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    CANDIDATES
        .into_iter()
        .find(|&d| Layout::from_header(split(header, d).iter().map(String::as_str)).usable())
        .unwrap_or_else(|| {
            CANDIDATES
                .into_iter()
                .max_by_key(|&d| (split(header, d).len(), d == b','))
                .unwrap_or(b',')
        })
}

/// Whether a first line is a CSV header naming artist and title, for format detection of
/// files without a `.csv` extension. Needs at least two fields, so a text line that is just
/// the word "title" is not taken for a header.
pub(crate) fn looks_like_header(line: &str) -> bool {
    let line = line.trim_start_matches('\u{feff}');
    [b',', b';', b'\t'].into_iter().any(|d| {
        let fields = split(line, d);
        fields.len() >= 2 && Layout::from_header(fields.iter().map(String::as_str)).usable()
    })
}

/// Reads a CSV playlist. `Err` only for a header that does not name artist and title.
pub(crate) fn parse(
    name: &str,
    text: &str,
) -> Result<(Vec<Entry>, Vec<SkippedLine>), PlaylistError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(header_line) = text.lines().find(|l| !l.trim().is_empty()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let delim = delimiter(header_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());

    let mut entries = Vec::new();
    let mut skips = Vec::new();
    let mut header: Option<(Vec<String>, Layout)> = None;
    let mut rec = csv::StringRecord::new();
    // The csv crate's own line counter does not count CRLF and blank lines the way an
    // editor does, so line numbers are counted here from the byte offsets it reports.
    let mut lines = LineCounter::new(text);
    loop {
        let start = reader.position().clone();
        let more = match reader.read_record(&mut rec) {
            Ok(more) => more,
            Err(err) => {
                let begin = skip_breaks(text, start.byte());
                let line_no = lines.line_at(begin);
                let end = (reader.position().byte() as usize).max(begin);
                let raw = text.get(begin..end).unwrap_or("");
                skips.push(skipped(
                    line_no,
                    raw,
                    format!("this CSV row could not be read: {err}"),
                ));
                if reader.position().byte() == start.byte() {
                    break;
                }
                continue;
            }
        };
        if !more {
            break;
        }
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        // The reported start is before the line break(s) the reader skipped to reach the
        // record (the `\n` of a CRLF, blank lines), so step over them.
        let begin = skip_breaks(text, rec.position().map_or(start.byte(), |p| p.byte()));
        let line_no = lines.line_at(begin);
        let end = (reader.position().byte() as usize).max(begin);
        let raw = text.get(begin..end).unwrap_or_default().trim();

        let Some((names, layout)) = &header else {
            let names: Vec<String> = rec.iter().map(clean).collect();
            let layout = Layout::from_header(names.iter().map(String::as_str));
            if !layout.usable() {
                return Err(PlaylistError::BadCsvHeader {
                    name: name.to_string(),
                    line_no,
                    detail: header_problem(&layout, &names),
                });
            }
            header = Some((names, layout));
            continue;
        };

        if let Some(reason) = raw.lines().find_map(too_long) {
            skips.push(skipped(line_no, raw, reason));
            continue;
        }
        match row(&rec, names, layout) {
            Ok(wanted) => entries.push(Entry {
                line_no,
                input: raw.to_string(),
                wanted,
            }),
            Err(reason) => skips.push(skipped(line_no, raw, reason)),
        }
    }
    Ok((entries, skips))
}

/// The offset of the first byte after the line breaks at `offset`.
fn skip_breaks(text: &str, offset: u64) -> usize {
    let offset = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    offset
        + text.as_bytes()[offset..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count()
}

/// 1-based line numbers for increasing byte offsets, counting `\n` (or a lone `\r` in
/// files that use only that), like [`crate::fields::numbered_lines`].
struct LineCounter<'a> {
    bytes: &'a [u8],
    newline: u8,
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        let newline = if text.contains('\n') { b'\n' } else { b'\r' };
        LineCounter {
            bytes: text.as_bytes(),
            newline,
            offset: 0,
            line: 1,
        }
    }

    /// Line of `offset`; offsets must not decrease between calls.
    fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.bytes.len());
        if offset > self.offset {
            let n = self.bytes[self.offset..offset]
                .iter()
                .filter(|&&b| b == self.newline)
                .count();
            self.line = self
                .line
                .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
            self.offset = offset;
        }
        self.line
    }
}

/// Says what the header lacks and what it has, so the user can rename a column.
fn header_problem(layout: &Layout, names: &[String]) -> String {
    let missing = match (layout.artist.is_none(), layout.title.is_none()) {
        (true, true) => "has no 'artist' column and no 'title' column",
        (true, false) => "has no 'artist' column",
        _ => "has no 'title' column",
    };
    let found: Vec<String> = names
        .iter()
        .take(12)
        .map(|n| {
            let n: String = n.chars().take(40).collect();
            format!("'{n}'")
        })
        .collect();
    let more = if names.len() > 12 { ", …" } else { "" };
    format!(
        "{missing} (found {}{more}); the first line must name at least the 'artist' and 'title' columns, e.g. 'artist,title,album'",
        found.join(", ")
    )
}

/// One data row to a wanted track, or the reason it cannot be one.
fn row(rec: &csv::StringRecord, names: &[String], l: &Layout) -> Result<WantedTrack, String> {
    let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
    let artist = clean(get(l.artist));
    let title = clean(get(l.title));
    if artist.is_empty() || title.is_empty() {
        let col = |i: Option<usize>| i.and_then(|i| names.get(i)).cloned().unwrap_or_default();
        let empty = match (artist.is_empty(), title.is_empty()) {
            (true, true) => format!(
                "the '{}' and '{}' columns are empty",
                col(l.artist),
                col(l.title)
            ),
            (true, false) => format!("the '{}' column is empty", col(l.artist)),
            _ => format!("the '{}' column is empty", col(l.title)),
        };
        let needed = l.artist.max(l.title).unwrap_or(0) + 1;
        if rec.len() < needed {
            return Err(format!(
                "{empty}: this row has {} field(s) but the header has {} (is a delimiter missing, or a quote not closed?)",
                rec.len(),
                names.len()
            ));
        }
        return Err(empty);
    }
    let duration = clean_opt(get(l.duration))
        .and_then(|d| duration_ms(&d))
        .or_else(|| {
            get(l.duration_ms)
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|ms| crate::fields::seconds_to_ms(ms / 1000.0))
        });
    Ok(WantedTrack {
        artist,
        title,
        mix: clean_opt(get(l.mix)),
        album: clean_opt(get(l.album)),
        // Kept as written (cleaned): the research lead normalises it with the music crate's
        // ISRC rules and, when it is invalid, says so to the user instead of silently
        // searching by name.
        isrc: clean_opt(get(l.isrc)),
        catalog: clean_opt(get(l.catalog)),
        label: clean_opt(get(l.label)),
        duration_ms: duration,
    })
}

#[cfg(test)]
mod tests {
    use crate::{PlaylistError, PlaylistFormat, parse};
    use cratedigger_domain::WantedTrack;

    fn wanted(artist: &str, title: &str) -> WantedTrack {
        WantedTrack {
            artist: artist.into(),
            title: title.into(),
            ..Default::default()
        }
    }

    #[test]
    fn csv_table() {
        let full = WantedTrack {
            artist: "Bicep".into(),
            title: "Glue".into(),
            mix: Some("Original Mix".into()),
            album: Some("Bicep".into()),
            isrc: Some("gb-cfb-17-00586".into()),
            catalog: Some("NINJA 123".into()),
            label: Some("Ninja Tune".into()),
            duration_ms: Some(269_000),
        };
        /// (file name, input, entries as (line, track), skipped line numbers)
        type Case<'a> = (&'a str, &'a str, Vec<(u32, WantedTrack)>, Vec<u32>);
        let cases: &[Case] = &[
            (
                "a.csv",
                "artist,title\nBicep,Glue\n",
                vec![(2, wanted("Bicep", "Glue"))],
                vec![],
            ),
            // BOM, odd spacing/case in the header, every optional column, CRLF.
            (
                "a.csv",
                "\u{feff} Artist ,TITLE,Album,ISRC,Catalog Number,Label,Mix,Duration\r\nBicep,Glue,Bicep,gb-cfb-17-00586,  NINJA   123 ,Ninja Tune,Original Mix,4:29\r\n",
                vec![(2, full.clone())],
                vec![],
            ),
            // Semicolons (European Excel), quoted fields with the delimiter and quotes inside.
            (
                "a.csv",
                "title;artist;catno\n\"Glue; pt. 1\";\"Bicep\";\n\"Say \"\"Yes\"\"\";Bicep;X1\n",
                vec![
                    (2, wanted("Bicep", "Glue; pt. 1")),
                    (
                        3,
                        WantedTrack {
                            catalog: Some("X1".into()),
                            ..wanted("Bicep", "Say \"Yes\"")
                        },
                    ),
                ],
                vec![],
            ),
            // Tabs, blank lines, a row missing a title, a short row, seconds duration.
            (
                "a.tsv",
                "artist\ttitle\tduration\n\nBicep\tGlue\t269\nBicep\t\t100\nBicep\n",
                vec![(
                    3,
                    WantedTrack {
                        duration_ms: Some(269_000),
                        ..wanted("Bicep", "Glue")
                    },
                )],
                vec![4, 5],
            ),
            // Header sniffed from content; quoted field spanning two lines; catno alias;
            // ISRC kept as written; Spotify-style names and millisecond duration.
            (
                "-",
                "Track Name,Artist Name(s),Duration (ms),ISRC\n\"Glue\nEdit\",Bicep,269000,nope\nAerodynamic,Daft Punk,212000,\n",
                vec![
                    (
                        2,
                        WantedTrack {
                            duration_ms: Some(269_000),
                            isrc: Some("nope".into()),
                            ..wanted("Bicep", "Glue Edit")
                        },
                    ),
                    (
                        4,
                        WantedTrack {
                            duration_ms: Some(212_000),
                            ..wanted("Daft Punk", "Aerodynamic")
                        },
                    ),
                ],
                vec![],
            ),
        ];
        for (name, input, want_entries, want_skipped) in cases {
            let p = parse(name, input.as_bytes()).unwrap();
            assert_eq!(p.format, PlaylistFormat::Csv, "{input:?}");
            let got: Vec<(u32, WantedTrack)> = p
                .entries
                .iter()
                .map(|e| (e.line_no, e.wanted.clone()))
                .collect();
            assert_eq!(&got, want_entries, "{input:?}");
            let skipped: Vec<u32> = p.skipped.iter().map(|s| s.line_no).collect();
            assert_eq!(&skipped, want_skipped, "{input:?} {:?}", p.skipped);
        }
    }

    #[test]
    fn skipped_rows_name_the_empty_column() {
        let p = parse(
            "set.csv",
            b"Artist,Title,Album\nBicep,Glue,\n,Atlas,Isles\nBicep\n",
        )
        .unwrap();
        assert_eq!(p.entries[0].input, "Bicep,Glue,");
        assert_eq!(p.skipped[0].line_no, 3);
        assert_eq!(p.skipped[0].input, ",Atlas,Isles");
        assert_eq!(p.skipped[0].reason, "the 'Artist' column is empty");
        assert_eq!(p.skipped[1].line_no, 4);
        assert!(
            p.skipped[1].reason.starts_with(
                "the 'Title' column is empty: this row has 1 field(s) but the header has 3"
            ),
            "{}",
            p.skipped[1].reason
        );
    }

    #[test]
    fn bad_header_says_what_is_missing_and_what_was_found() {
        let cases: &[(&str, &str)] = &[
            (
                "name,album\nGlue,Bicep\n",
                "'a.csv': the CSV header on line 1 has no 'artist' column and no 'title' column (found 'name', 'album'); the first line must name at least the 'artist' and 'title' columns, e.g. 'artist,title,album'",
            ),
            (
                "\n\nArtist;Name;BPM\n",
                "'a.csv': the CSV header on line 3 has no 'title' column (found 'Artist', 'Name', 'BPM')",
            ),
            (
                "Bicep,Glue\nDaft Punk,Aerodynamic\n",
                "has no 'artist' column and no 'title' column (found 'Bicep', 'Glue')",
            ),
            (
                "track,album\n",
                "has no 'artist' column (found 'track', 'album')",
            ),
        ];
        for (input, needle) in cases {
            let err = parse("a.csv", input.as_bytes()).unwrap_err();
            assert!(matches!(err, PlaylistError::BadCsvHeader { .. }));
            let msg = err.to_string();
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
    }

    #[test]
    fn overlong_rows_are_skipped() {
        let input = format!("artist,title\nBicep,Glue\nBicep,{}\n", "x".repeat(2_100));
        let p = parse("a.csv", input.as_bytes()).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.skipped[0].line_no, 3);
        assert!(p.skipped[0].reason.contains("characters long"));
    }
}
