//! Small text helpers shared by the three formats, so that "Artist - Title" means the same
//! thing in a text file, an `#EXTINF` line and an M3U file name.

use crate::{MAX_FIELD_CHARS, MAX_LINE_CHARS, MAX_SKIPPED_INPUT_CHARS, SkippedLine};

/// Separators accepted between artist and title: hyphen, en dash and em dash, each with a
/// space on both sides (so "Jay-Z" and "Blink-182" stay whole).
const SEPARATORS: [&str; 3] = [" - ", " – ", " — "];

/// The reason given for a line without a separator.
pub(crate) const NO_SEPARATOR: &str =
    "expected 'Artist - Title' (no ' - ' between an artist and a title)";

/// Splits text into (1-based line number, line) pairs. Handles `\n`, `\r\n` and, for files
/// from classic Mac OS, a lone `\r`.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sep = if text.contains('\n') { '\n' } else { '\r' };
    text.split(sep).enumerate().map(|(i, line)| {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        (n, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// Trims, turns control characters into spaces, collapses runs of whitespace (including
/// no-break spaces) into one space and caps the length, so that search queries and stored
/// values do not depend on how the user's editor spaced things.
pub(crate) fn clean(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= MAX_FIELD_CHARS {
        return collapsed;
    }
    collapsed
        .chars()
        .take(MAX_FIELD_CHARS)
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// [`clean`], but `None` for a value that is empty after cleaning.
pub(crate) fn clean_opt(s: &str) -> Option<String> {
    Some(clean(s)).filter(|v| !v.is_empty())
}

/// Splits "Artist - Title" at the first separator. The whole rest is the title, mix in
/// brackets included: mix parsing belongs to the music crate. `Err` is the reason to show.
pub(crate) fn split_artist_title(s: &str) -> Result<(String, String), String> {
    let s = clean_separators(s);
    let Some((pos, sep)) = SEPARATORS
        .iter()
        .filter_map(|sep| s.find(sep).map(|p| (p, *sep)))
        .min_by_key(|(p, _)| *p)
    else {
        return Err(NO_SEPARATOR.to_string());
    };
    let artist = clean(&s[..pos]);
    let title = clean(&s[pos + sep.len()..]);
    match (artist.is_empty(), title.is_empty()) {
        (true, _) => Err(format!("the artist before '{}' is empty", sep.trim())),
        (_, true) => Err(format!("the title after '{}' is empty", sep.trim())),
        _ => Ok((artist, title)),
    }
}

/// Collapses whitespace (tabs, double spaces) without capping, so "Artist  -\tTitle" still
/// has a findable " - ".
fn clean_separators(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The reason a line is too long to read, if it is.
pub(crate) fn too_long(line: &str) -> Option<String> {
    // Cheap byte test first: a line of <= 2,000 bytes has <= 2,000 characters.
    if line.len() <= MAX_LINE_CHARS {
        return None;
    }
    let chars = line.chars().count();
    (chars > MAX_LINE_CHARS).then(|| {
        format!("the line is {chars} characters long; lines over {MAX_LINE_CHARS} characters are not read")
    })
}

/// A skipped line with its input cut down for the report.
pub(crate) fn skipped(line_no: u32, input: &str, reason: impl Into<String>) -> SkippedLine {
    let input = input.trim();
    let input = if input.chars().count() > MAX_SKIPPED_INPUT_CHARS {
        let mut cut: String = input.chars().take(MAX_SKIPPED_INPUT_CHARS).collect();
        cut.push('…');
        cut
    } else {
        input.to_string()
    };
    SkippedLine {
        line_no,
        input,
        reason: reason.into(),
    }
}

/// Seconds ("224", "224.5"), "m:ss" or "h:mm:ss" to milliseconds. `None` when unknown
/// (`-1`, `0`, empty) or unreadable: a duration is only a hint for matching, so a bad one
/// is dropped rather than costing the user the track.
pub(crate) fn duration_ms(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut seconds = 0f64;
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    for (i, part) in parts.iter().enumerate() {
        let v: f64 = part.trim().parse().ok()?;
        if !v.is_finite() || (i > 0 && !(0.0..60.0).contains(&v)) {
            return None;
        }
        seconds = seconds * 60.0 + v;
    }
    seconds_to_ms(seconds)
}

/// Seconds to milliseconds, `None` when not positive or beyond `u32`.
pub(crate) fn seconds_to_ms(seconds: f64) -> Option<u32> {
    let ms = (seconds * 1000.0).round();
    (ms > 0.0 && ms <= f64::from(u32::MAX)).then_some(ms as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_table() {
        type Case<'a> = (&'a str, Result<(&'a str, &'a str), &'a str>);
        let cases: &[Case] = &[
            ("Bicep - Glue", Ok(("Bicep", "Glue"))),
            ("  Bicep   -\tGlue  ", Ok(("Bicep", "Glue"))),
            ("Bicep – Glue", Ok(("Bicep", "Glue"))),
            ("Bicep — Glue", Ok(("Bicep", "Glue"))),
            (
                "Bicep - Glue (Extended Mix)",
                Ok(("Bicep", "Glue (Extended Mix)")),
            ),
            ("Jay-Z - 99 Problems", Ok(("Jay-Z", "99 Problems"))),
            (
                "Daft Punk - One More Time - Radio Edit",
                Ok(("Daft Punk", "One More Time - Radio Edit")),
            ),
            ("A – B - C", Ok(("A", "B - C"))),
            ("Bicep\u{a0}-\u{a0}Glue", Ok(("Bicep", "Glue"))),
            ("Jay-Z", Err(NO_SEPARATOR)),
            ("Bicep Glue", Err(NO_SEPARATOR)),
            ("Bicep -", Err(NO_SEPARATOR)),
            (" - Glue", Err(NO_SEPARATOR)),
            ("Bicep -  ", Err(NO_SEPARATOR)),
        ];
        for (input, want) in cases {
            let got = split_artist_title(input);
            let want = want
                .map(|(a, t)| (a.to_string(), t.to_string()))
                .map_err(str::to_string);
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn clean_collapses_and_caps() {
        assert_eq!(clean("  a \t b\u{1}c  "), "a b c");
        let long = "x".repeat(MAX_FIELD_CHARS + 50);
        assert_eq!(clean(&long).chars().count(), MAX_FIELD_CHARS);
        let wide = "é".repeat(MAX_FIELD_CHARS + 1);
        assert_eq!(clean(&wide).chars().count(), MAX_FIELD_CHARS);
        assert_eq!(clean_opt("   "), None);
    }

    #[test]
    fn duration_table() {
        let cases: &[(&str, Option<u32>)] = &[
            ("224", Some(224_000)),
            ("224.5", Some(224_500)),
            ("3:44", Some(224_000)),
            ("1:02:03", Some(3_723_000)),
            ("-1", None),
            ("0", None),
            ("", None),
            ("3:75", None),
            ("abc", None),
            ("1:2:3:4", None),
            ("99999999999", None),
        ];
        for (input, want) in cases {
            assert_eq!(duration_ms(input), *want, "{input:?}");
        }
    }

    #[test]
    fn lines_are_numbered_like_an_editor() {
        let got: Vec<_> = numbered_lines("a\r\nb\n\nc").collect();
        assert_eq!(got, vec![(1, "a"), (2, "b"), (3, ""), (4, "c")]);
        let mac: Vec<_> = numbered_lines("a\rb").collect();
        assert_eq!(mac, vec![(1, "a"), (2, "b")]);
    }

    #[test]
    fn skipped_input_is_cut_for_the_report() {
        let s = skipped(3, &"y".repeat(5000), "why");
        assert_eq!(s.input.chars().count(), MAX_SKIPPED_INPUT_CHARS + 1);
        assert!(s.input.ends_with('…'));
        assert!(too_long(&"y".repeat(MAX_LINE_CHARS)).is_none());
        assert!(too_long(&"é".repeat(MAX_LINE_CHARS)).is_none());
        assert!(
            too_long(&"y".repeat(MAX_LINE_CHARS + 1))
                .unwrap()
                .contains("2001 characters")
        );
    }
}
