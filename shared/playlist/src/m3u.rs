//! M3U / M3U8, the format every DJ and media player exports.
//!
//! An `#EXTINF:<seconds>[ attrs],Artist - Title` line describes the path or URL line that
//! follows it. Without `#EXTINF` (or when its text has no artist) the track is read from
//! the file name, which is how most DJ libraries name files: `Artist - Title.ext`, often
//! with a track number in front. `#EXTART:`/`#EXTALB:` (extended M3U) supply the artist
//! and album when `#EXTINF` only carries a title. Every other `#` line is a comment.

use cratedigger_domain::WantedTrack;

use crate::fields::{
    clean, clean_opt, numbered_lines, seconds_to_ms, skipped, split_artist_title, too_long,
};
use crate::{Entry, SkippedLine};

/// An `#EXTINF` line waiting for its path line.
struct ExtInf {
    line_no: u32,
    line: String,
    duration_ms: Option<u32>,
    /// The text after the comma, e.g. "Bicep - Glue".
    display: String,
}

/// `#EXTART`/`#EXTALB` values waiting for the next track.
#[derive(Default)]
struct Extra {
    artist: Option<String>,
    album: Option<String>,
}

/// Reads an M3U playlist.
pub(crate) fn parse(text: &str) -> (Vec<Entry>, Vec<SkippedLine>) {
    // Entries and skipped lines in file order; split at the end.
    let mut out: Vec<Result<Entry, SkippedLine>> = Vec::new();
    let mut pending: Option<ExtInf> = None;
    let mut extra = Extra::default();
    let emit = |out: &mut Vec<_>, pending: Option<ExtInf>, path, extra| {
        out.push(track(pending, path, extra));
    };

    for (line_no, raw) in numbered_lines(text) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(reason) = too_long(line) {
            // The pending #EXTINF may still name a track on its own.
            if pending.is_some() {
                emit(&mut out, pending.take(), None, std::mem::take(&mut extra));
            }
            out.push(Err(skipped(line_no, line, reason)));
            continue;
        }
        if let Some(rest) = strip_tag(line, "#EXTINF:") {
            if pending.is_some() {
                emit(&mut out, pending.take(), None, std::mem::take(&mut extra));
            }
            pending = Some(extinf(line_no, line, rest));
        } else if let Some(rest) = strip_tag(line, "#EXTART:") {
            extra.artist = clean_opt(rest);
        } else if let Some(rest) = strip_tag(line, "#EXTALB:") {
            extra.album = clean_opt(rest);
        } else if line.starts_with('#') {
            // #EXTM3U, #PLAYLIST, #EXTGRP and plain comments.
        } else {
            emit(
                &mut out,
                pending.take(),
                Some((line_no, line)),
                std::mem::take(&mut extra),
            );
        }
    }
    if pending.is_some() {
        emit(&mut out, pending.take(), None, extra);
    }
    let mut entries = Vec::new();
    let mut skips = Vec::new();
    for item in out {
        match item {
            Ok(entry) => entries.push(entry),
            Err(skip) => skips.push(skip),
        }
    }
    (entries, skips)
}

/// Case-insensitive prefix strip for M3U tags.
fn strip_tag<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let head = line.get(..tag.len())?;
    head.eq_ignore_ascii_case(tag).then(|| &line[tag.len()..])
}

/// Parses what follows `#EXTINF:`: a duration, optional `key="value"` attributes (whose
/// quoted values may contain commas), a comma, and the display text.
fn extinf(line_no: u32, line: &str, rest: &str) -> ExtInf {
    let mut in_quotes = false;
    let comma = rest.char_indices().find_map(|(i, c)| match c {
        '"' => {
            in_quotes = !in_quotes;
            None
        }
        ',' if !in_quotes => Some(i),
        _ => None,
    });
    let (head, display) = match comma {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let duration_ms = head
        .split_whitespace()
        .next()
        .and_then(|d| d.parse::<f64>().ok())
        .and_then(seconds_to_ms);
    ExtInf {
        line_no,
        line: line.to_string(),
        duration_ms,
        display: clean(display),
    }
}

/// Builds the track for an `#EXTINF` and/or a path line, or the skipped line saying why not.
fn track(
    info: Option<ExtInf>,
    path: Option<(u32, &str)>,
    extra: Extra,
) -> Result<Entry, SkippedLine> {
    let line_no = info
        .as_ref()
        .map(|i| i.line_no)
        .or(path.map(|(n, _)| n))
        .unwrap_or(1);
    let input = [info.as_ref().map(|i| i.line.as_str()), path.map(|(_, p)| p)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    let display = info.as_ref().map(|i| i.display.as_str()).unwrap_or("");
    let stem = path.map(|(_, p)| file_stem(p));

    let from_display = (!display.is_empty())
        .then(|| split_artist_title(display).ok())
        .flatten()
        .or_else(|| {
            // Extended M3U: title in #EXTINF, artist in #EXTART.
            let artist = extra.artist.clone()?;
            (!display.is_empty()).then(|| (artist, display.to_string()))
        });
    let found = from_display.or_else(|| stem.as_deref().and_then(artist_title_from_stem));

    let Some((artist, title)) = found else {
        let reason = match (display.is_empty(), stem.as_deref()) {
            (false, Some(stem)) => format!(
                "expected 'Artist - Title' in the #EXTINF text ('{display}') or in the file name ('{stem}')"
            ),
            (false, None) => format!(
                "expected 'Artist - Title' in the #EXTINF text ('{display}') and there is no path line after it to read a file name from"
            ),
            (true, Some(stem)) => {
                format!("expected 'Artist - Title' in the file name ('{stem}')")
            }
            (true, None) => {
                "the #EXTINF line has no 'Artist - Title' after its comma and no path line follows it"
                    .to_string()
            }
        };
        return Err(skipped(line_no, &input, reason));
    };
    Ok(Entry {
        line_no,
        input,
        wanted: WantedTrack {
            artist,
            title,
            album: extra.album,
            duration_ms: info.and_then(|i| i.duration_ms),
            ..Default::default()
        },
    })
}

/// The file name without folders or extension, percent-decoded for URLs:
/// `C:\Music\01 - Bicep - Glue.mp3` → `01 - Bicep - Glue`.
fn file_stem(path: &str) -> String {
    let is_url = path.contains("://");
    let mut p = path;
    if is_url {
        p = p.split(['?', '#']).next().unwrap_or(p);
    }
    let name = p
        .rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or(p)
        .to_string();
    let name = if is_url { percent_decode(&name) } else { name };
    let stem = match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.trim().is_empty()
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem.to_string()
        }
        _ => name,
    };
    clean(&stem)
}

/// "Artist - Title" from a file name stem, tolerating track-number prefixes
/// (`01 - `, `01. `, `01) `, `01_`, `01 `) and underscores instead of spaces.
fn artist_title_from_stem(stem: &str) -> Option<(String, String)> {
    let attempt = |s: &str| -> Option<(String, String)> {
        let s = strip_track_number(s);
        let (artist, title) = split_artist_title(s).ok()?;
        // "01 - Artist - Title": the first part was only a number.
        if is_track_number(&artist) {
            return split_artist_title(&title).ok();
        }
        Some((artist, title))
    };
    attempt(stem).or_else(|| {
        stem.contains('_')
            .then(|| attempt(&stem.replace('_', " ")))
            .flatten()
    })
}

fn is_track_number(s: &str) -> bool {
    (1..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
}

/// Drops "01. ", "01) ", "01_" and "01 " (the last only with a leading zero, so that
/// "808 State - Pacific State" and "10 Years - Wasteland" keep their artist).
fn strip_track_number(s: &str) -> &str {
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if !(1..=3).contains(&digits) {
        return s;
    }
    let rest = &s[digits..];
    for sep in [". ", ") ", "_"] {
        if let Some(r) = rest.strip_prefix(sep) {
            return r;
        }
    }
    if s.starts_with('0')
        && digits >= 2
        && let Some(r) = rest.strip_prefix(' ')
        && !r.starts_with("- ")
    {
        return r;
    }
    s
}

/// `%20`-style escapes in URLs; left as is when the result would not be UTF-8.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PlaylistFormat, parse as parse_playlist};

    #[test]
    fn file_name_table() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            (
                "/music/Bicep - Glue (Original Mix).flac",
                Some(("Bicep", "Glue (Original Mix)")),
            ),
            ("01 - Bicep - Glue.mp3", Some(("Bicep", "Glue"))),
            (
                "D:\\DJ\\House\\03. Bicep - Glue.wav",
                Some(("Bicep", "Glue")),
            ),
            ("C:\\Music\\02) Bicep - Glue.aiff", Some(("Bicep", "Glue"))),
            ("07 Bicep - Glue.m4a", Some(("Bicep", "Glue"))),
            (
                "/m/808 State - Pacific State.mp3",
                Some(("808 State", "Pacific State")),
            ),
            (
                "/m/10 Years - Wasteland.mp3",
                Some(("10 Years", "Wasteland")),
            ),
            ("Bicep_-_Glue.mp3", Some(("Bicep", "Glue"))),
            ("05_Bicep - Glue.mp3", Some(("Bicep", "Glue"))),
            (
                "file:///Users/dj/Music/Fred%20again..%20-%20Delilah.mp3",
                Some(("Fred again..", "Delilah")),
            ),
            (
                "https://cdn.example/x/Mr.%20Oizo%20-%20Flat%20Beat.mp3?sig=a%2Fb#t=1",
                Some(("Mr. Oizo", "Flat Beat")),
            ),
            ("Mr. Oizo - Flat Beat", Some(("Mr. Oizo", "Flat Beat"))),
            ("/music/track07.mp3", None),
            ("http://radio.example/stream/", None),
        ];
        for (path, want) in cases {
            let got = artist_title_from_stem(&file_stem(path));
            let want = want.map(|(a, t)| (a.to_string(), t.to_string()));
            assert_eq!(got, want, "{path:?}");
        }
    }

    /// (line_no, artist, title, duration_ms, album)
    type Want<'a> = (u32, &'a str, &'a str, Option<u32>, Option<&'a str>);

    #[test]
    fn m3u_table() {
        let cases: &[(&str, &[Want], &[u32])] = &[
            (
                "#EXTM3U\n#EXTINF:224,Daft Punk - Harder Better Faster Stronger\n/music/hbfs.mp3\n",
                &[(
                    2,
                    "Daft Punk",
                    "Harder Better Faster Stronger",
                    Some(224_000),
                    None,
                )],
                &[],
            ),
            // No #EXTM3U header, CRLF, -1 duration, comments and #EXTGRP between the lines.
            (
                "#EXTINF:-1,Bicep - Glue\r\n#EXTGRP:House\r\n# comment\r\nC:\\Music\\glue.mp3\r\n",
                &[(1, "Bicep", "Glue", None, None)],
                &[],
            ),
            // Attributes with a quoted comma; decimal seconds.
            (
                "#EXTM3U\n#EXTINF:301.4 tvg-name=\"a, b\" group-title=\"x\",Daft Punk - Digital Love\nhttp://x/1\n",
                &[(2, "Daft Punk", "Digital Love", Some(301_400), None)],
                &[],
            ),
            // Path lines without #EXTINF.
            (
                "/music/Bicep - Glue (Original Mix).flac\n/music/01 - Daft Punk - Aerodynamic.mp3\n",
                &[
                    (1, "Bicep", "Glue (Original Mix)", None, None),
                    (2, "Daft Punk", "Aerodynamic", None, None),
                ],
                &[],
            ),
            // #EXTINF with only a title: artist from the file name.
            (
                "#EXTINF:200,Glue\n/music/Bicep - Glue.mp3\n",
                &[(1, "Bicep", "Glue", Some(200_000), None)],
                &[],
            ),
            // Extended M3U artist/album tags.
            (
                "#EXTM3U\n#EXTINF:200,Glue\n#EXTART:Bicep\n#EXTALB:Bicep\n/m/x.mp3\n/m/A - B.mp3\n",
                &[
                    (2, "Bicep", "Glue", Some(200_000), Some("Bicep")),
                    (6, "A", "B", None, None),
                ],
                &[],
            ),
            // #EXTINF without a path (end of file, or followed by another #EXTINF).
            (
                "#EXTINF:1,A - B\n#EXTINF:2,C - D\n/m/x.mp3\n#EXTINF:3,E - F",
                &[
                    (1, "A", "B", Some(1_000), None),
                    (2, "C", "D", Some(2_000), None),
                    (4, "E", "F", Some(3_000), None),
                ],
                &[],
            ),
            // Unparseable: #EXTINF without artist and a file name without separator.
            (
                "#EXTM3U\n#EXTINF:-1,Untitled\n/music/track07.mp3\n#EXTINF:5,A - B\n/m/a.mp3\n#EXTINF:-1,\nhttp://radio.example/stream\n",
                &[(4, "A", "B", Some(5_000), None)],
                &[2, 6],
            ),
        ];
        for (input, want_entries, want_skipped) in cases {
            let p = parse_playlist("set.m3u8", input.as_bytes()).unwrap();
            assert_eq!(p.format, PlaylistFormat::M3u);
            let got: Vec<Want> = p
                .entries
                .iter()
                .map(|e| {
                    (
                        e.line_no,
                        e.wanted.artist.as_str(),
                        e.wanted.title.as_str(),
                        e.wanted.duration_ms,
                        e.wanted.album.as_deref(),
                    )
                })
                .collect();
            assert_eq!(&got, want_entries, "{input:?}");
            let skipped: Vec<u32> = p.skipped.iter().map(|s| s.line_no).collect();
            assert_eq!(&skipped, want_skipped, "{input:?}");
        }
    }

    #[test]
    fn entry_input_and_skip_reasons_point_at_the_lines() {
        let input = "#EXTM3U\n#EXTINF:224,Daft Punk - Digital Love\n  /music/dl.mp3  \n#EXTINF:-1,Untitled\n/music/track07.mp3\n#EXTINF:-1,Untitled 2\n";
        let p = parse_playlist("set.m3u", input.as_bytes()).unwrap();
        assert_eq!(
            p.entries[0].input,
            "#EXTINF:224,Daft Punk - Digital Love\n/music/dl.mp3"
        );
        assert_eq!(p.skipped[0].line_no, 4);
        assert_eq!(
            p.skipped[0].input,
            "#EXTINF:-1,Untitled\n/music/track07.mp3"
        );
        assert_eq!(
            p.skipped[0].reason,
            "expected 'Artist - Title' in the #EXTINF text ('Untitled') or in the file name ('track07')"
        );
        assert_eq!(p.skipped[1].line_no, 6);
        assert!(p.skipped[1].reason.contains("no path line"));
    }

    #[test]
    fn an_overlong_path_line_is_skipped_but_its_extinf_still_counts() {
        let input = format!("#EXTINF:1,A - B\n/{}.mp3\nC - D.mp3\n", "x".repeat(2_500));
        let p = parse_playlist("x.m3u", input.as_bytes()).unwrap();
        let got: Vec<_> = p
            .entries
            .iter()
            .map(|e| (e.line_no, e.wanted.title.as_str()))
            .collect();
        assert_eq!(got, vec![(1, "B"), (3, "D")]);
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].line_no, 2);
        assert!(p.skipped[0].reason.contains("characters long"));
    }
}
