//! Plain text: one `Artist - Title` per line, the format people type or paste from a
//! tracklist site.

use cratedigger_domain::WantedTrack;

use crate::fields::{numbered_lines, skipped, split_artist_title, too_long};
use crate::{Entry, SkippedLine};

/// Reads every line; blank lines and `#` comments are ignored, the rest is a track or a
/// skipped line.
pub(crate) fn parse(text: &str) -> (Vec<Entry>, Vec<SkippedLine>) {
    let mut entries = Vec::new();
    let mut skips = Vec::new();
    for (line_no, raw) in numbered_lines(text) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(reason) = too_long(line) {
            skips.push(skipped(line_no, line, reason));
            continue;
        }
        match split_artist_title(line) {
            Ok((artist, title)) => entries.push(Entry {
                line_no,
                input: line.to_string(),
                wanted: WantedTrack {
                    artist,
                    title,
                    ..Default::default()
                },
            }),
            Err(reason) => skips.push(skipped(line_no, line, reason)),
        }
    }
    (entries, skips)
}

#[cfg(test)]
mod tests {
    use crate::{PlaylistFormat, parse};

    #[test]
    fn text_table() {
        // (input, expected entries as (line, artist, title), expected skipped line numbers)
        type Case<'a> = (&'a str, &'a [(u32, &'a str, &'a str)], &'a [u32]);
        let cases: &[Case] = &[
            ("Bicep - Glue", &[(1, "Bicep", "Glue")], &[]),
            (
                "# my set\n\nBicep - Glue\r\nFred again.. – Delilah (pull me out of this)\r\n",
                &[
                    (3, "Bicep", "Glue"),
                    (4, "Fred again..", "Delilah (pull me out of this)"),
                ],
                &[],
            ),
            (
                "\u{feff}Bicep — Glue (Extended Mix)\nno separator here\n  Jay-Z - 99 Problems  ",
                &[
                    (1, "Bicep", "Glue (Extended Mix)"),
                    (3, "Jay-Z", "99 Problems"),
                ],
                &[2],
            ),
            (
                "Bicep   -   Glue\n\t#indented comment\nDaft Punk - One More Time - Radio Edit",
                &[
                    (1, "Bicep", "Glue"),
                    (3, "Daft Punk", "One More Time - Radio Edit"),
                ],
                &[],
            ),
        ];
        for (input, want_entries, want_skipped) in cases {
            let p = parse("list.txt", input.as_bytes()).unwrap();
            assert_eq!(p.format, PlaylistFormat::Text);
            let got: Vec<_> = p
                .entries
                .iter()
                .map(|e| (e.line_no, e.wanted.artist.as_str(), e.wanted.title.as_str()))
                .collect();
            assert_eq!(&got, want_entries, "{input:?}");
            let skipped: Vec<_> = p.skipped.iter().map(|s| s.line_no).collect();
            assert_eq!(&skipped, want_skipped, "{input:?}");
        }
    }

    #[test]
    fn skipped_lines_say_why_and_keep_the_input() {
        let long = format!("A - {}", "x".repeat(2_100));
        let input = format!("Bicep - Glue\nGlue\n{long}\n");
        let p = parse("-", input.as_bytes()).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].input, "Bicep - Glue");
        assert_eq!(p.skipped[0].line_no, 2);
        assert_eq!(p.skipped[0].input, "Glue");
        assert!(p.skipped[0].reason.starts_with("expected 'Artist - Title'"));
        assert_eq!(p.skipped[1].line_no, 3);
        assert!(p.skipped[1].reason.contains("2104 characters"));
        assert!(p.skipped[1].input.chars().count() <= 201);
    }

    #[test]
    fn fields_are_capped() {
        let input = format!("{} - {}", "a".repeat(800), "t".repeat(800));
        let p = parse("-", input.as_bytes()).unwrap();
        assert_eq!(p.entries[0].wanted.artist.len(), 500);
        assert_eq!(p.entries[0].wanted.title.len(), 500);
    }
}
