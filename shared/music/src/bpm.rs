//! BPM sanity and half/double-time resolution.
//!
//! Why: platforms disagree by a factor of two (a dubstep track is 140 on Beatport and 70 on
//! another service; a house track may be detected at 64), and DJ software needs the one value
//! a DJ would beat-match at. We trust platforms in a configured precedence (Beatport first
//! for electronic music), and when sources disagree by a factor of two we pick the value in
//! the genre's usual range and keep the other as the alternative.

use crate::normalize::normalize_text;
use serde::{Deserialize, Serialize};

/// Slowest tempo we accept as a real BPM; below this a value is a detection error.
pub const MIN_BPM: f32 = 20.0;
/// Fastest tempo we accept as a real BPM ("absurd" above this).
pub const MAX_BPM: f32 = 400.0;
/// At most this many candidate values are considered (bounded work on hostile input).
const MAX_CANDIDATES: usize = 64;
/// Relative tolerance for "factor 2" and for "the same value".
const TOLERANCE: f32 = 0.02;

/// Why a BPM value is not usable; names the input so it can be shown and the field left
/// empty and flagged for review instead of stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BpmError {
    /// NaN, infinite, zero, negative, below [`MIN_BPM`] or above [`MAX_BPM`].
    #[error("implausible BPM {value} (expected {MIN_BPM}-{MAX_BPM})")]
    OutOfRange {
        /// The value given.
        value: f32,
    },
    /// Text that is not a number.
    #[error("unreadable BPM '{input}'")]
    Unreadable {
        /// The text as given.
        input: String,
    },
}

/// Checks that a BPM is plausible, so absurd values are rejected with a reason rather than
/// silently stored.
pub fn validate_bpm(bpm: f32) -> Result<f32, BpmError> {
    if bpm.is_finite() && (MIN_BPM..=MAX_BPM).contains(&bpm) {
        Ok(bpm)
    } else {
        Err(BpmError::OutOfRange { value: bpm })
    }
}

/// Reads a BPM typed by a person or found in a tag ("128", "128.00", "174 BPM", "127,5").
pub fn parse_bpm(s: &str) -> Result<f32, BpmError> {
    let unreadable = || BpmError::Unreadable {
        input: s.chars().take(64).collect(),
    };
    if s.len() > 64 {
        return Err(unreadable());
    }
    let t = s.trim();
    let t = t
        .strip_suffix("BPM")
        .or_else(|| t.strip_suffix("bpm"))
        .unwrap_or(t)
        .trim()
        .replace(',', ".");
    let v: f32 = t.parse().map_err(|_| unreadable())?;
    validate_bpm(v)
}

fn plausible(bpm: f32) -> bool {
    validate_bpm(bpm).is_ok()
}

/// Usual tempo range of one genre, from config; used to pick between half and double time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenreRange {
    /// Genre name as platforms write it; compared normalised ("Drum & Bass" = "drum and bass").
    pub genre: String,
    /// Lowest usual BPM.
    pub min: f32,
    /// Highest usual BPM.
    pub max: f32,
}

impl GenreRange {
    fn new(genre: &str, min: f32, max: f32) -> Self {
        Self {
            genre: genre.to_string(),
            min,
            max,
        }
    }

    fn usable(&self) -> bool {
        self.min.is_finite() && self.max.is_finite() && self.min > 0.0 && self.min <= self.max
    }

    /// True when `bpm` lies in this genre's usual range.
    pub fn contains(&self, bpm: f32) -> bool {
        self.usable() && bpm >= self.min && bpm <= self.max
    }
}

/// The genre table, deserialisable from config as a plain list, with a default covering the
/// genres DJs meet most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GenreRanges(pub Vec<GenreRange>);

impl Default for GenreRanges {
    /// Default ranges. Decisions: dubstep and trap are stored full-time (135-150 / 130-160),
    /// as Beatport and rekordbox write them, so a half-time reading of 70 becomes 140; drum
    /// & bass likewise (85 → 170). More specific names ("deep house", "melodic house and
    /// techno") win over shorter ones they contain.
    fn default() -> Self {
        GenreRanges(vec![
            GenreRange::new("house", 118.0, 130.0),
            GenreRange::new("deep house", 115.0, 125.0),
            GenreRange::new("tech house", 120.0, 130.0),
            GenreRange::new("progressive house", 120.0, 130.0),
            GenreRange::new("afro house", 115.0, 126.0),
            GenreRange::new("electro house", 125.0, 132.0),
            GenreRange::new("melodic house and techno", 115.0, 130.0),
            GenreRange::new("techno", 125.0, 150.0),
            GenreRange::new("hard techno", 140.0, 160.0),
            GenreRange::new("minimal", 120.0, 130.0),
            GenreRange::new("trance", 128.0, 145.0),
            GenreRange::new("psytrance", 138.0, 150.0),
            GenreRange::new("drum and bass", 160.0, 180.0),
            GenreRange::new("dnb", 160.0, 180.0),
            GenreRange::new("jungle", 155.0, 180.0),
            GenreRange::new("dubstep", 135.0, 150.0),
            GenreRange::new("trap", 130.0, 160.0),
            GenreRange::new("hip hop", 80.0, 115.0),
            GenreRange::new("rap", 80.0, 115.0),
            GenreRange::new("r and b", 60.0, 110.0),
            GenreRange::new("disco", 110.0, 130.0),
            GenreRange::new("nu disco", 110.0, 126.0),
            GenreRange::new("uk garage", 128.0, 140.0),
            GenreRange::new("breaks", 125.0, 140.0),
            GenreRange::new("electro", 120.0, 135.0),
            GenreRange::new("hardstyle", 145.0, 160.0),
            GenreRange::new("hardcore", 160.0, 200.0),
            GenreRange::new("amapiano", 108.0, 118.0),
            GenreRange::new("reggaeton", 85.0, 105.0),
            GenreRange::new("downtempo", 80.0, 110.0),
            GenreRange::new("footwork", 155.0, 165.0),
        ])
    }
}

impl GenreRanges {
    /// The ranges as a slice, the form [`resolve_bpm`] takes.
    pub fn as_slice(&self) -> &[GenreRange] {
        &self.0
    }
}

/// The range for a genre: exact (normalised) name first, else the longest table name found
/// as whole words inside it ("Melodic Deep House" → "deep house"), ties to the earlier row.
pub fn find_range<'a>(genre: &str, ranges: &'a [GenreRange]) -> Option<&'a GenreRange> {
    let g = normalize_text(genre);
    if g.is_empty() {
        return None;
    }
    let padded = format!(" {g} ");
    let mut best: Option<(&GenreRange, usize)> = None;
    for r in ranges.iter().filter(|r| r.usable()) {
        let n = normalize_text(&r.genre);
        if n.is_empty() {
            continue;
        }
        if n == g {
            return Some(r);
        }
        if padded.contains(&format!(" {n} ")) && best.is_none_or(|(_, len)| n.len() > len) {
            best = Some((r, n.len()));
        }
    }
    best.map(|(r, _)| r)
}

/// True when one value is twice the other within 2 %: the classic half/double-time
/// disagreement between BPM detectors. False for any implausible value.
pub fn is_half_double(a: f32, b: f32) -> bool {
    if !plausible(a) || !plausible(b) {
        return false;
    }
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (hi - 2.0 * lo).abs() <= TOLERANCE * 2.0 * lo
}

fn same_tempo(a: f32, b: f32) -> bool {
    (a - b).abs() <= TOLERANCE * a.min(b)
}

/// The chosen BPM and why, kept on the track so a person can see where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BpmDecision {
    /// The BPM to store.
    pub bpm: f32,
    /// The source that gave it (a platform id).
    pub source: String,
    /// The half/double-time alternative, when one was seen or derived.
    pub alternative: Option<f32>,
    /// Explanation for people.
    pub note: String,
}

/// Picks one BPM from several sources.
///
/// Order: sources in `precedence` order (case-insensitive; unknown sources after, in input
/// order). Implausible values (0, negative, NaN, < 20, > 400) are ignored. If another source
/// is half/double the first, the value inside the genre's range wins and the other is kept
/// as `alternative`; with a single reading outside the range whose double or half is inside
/// it, that double/half is used (e.g. dubstep 70 → 140) and the reading kept as alternative.
pub fn resolve_bpm(
    candidates: &[(&str, f32)],
    precedence: &[&str],
    genre: Option<&str>,
    ranges: &[GenreRange],
) -> Option<BpmDecision> {
    let mut ordered: Vec<(usize, &str, f32)> = candidates
        .iter()
        .take(MAX_CANDIDATES)
        .filter(|(_, b)| plausible(*b))
        .map(|(s, b)| {
            let rank = precedence
                .iter()
                .position(|p| p.trim().eq_ignore_ascii_case(s.trim()))
                .unwrap_or(precedence.len());
            (rank, *s, *b)
        })
        .collect();
    ordered.sort_by_key(|(rank, _, _)| *rank);
    let (_, psrc, pbpm) = *ordered.first()?;
    let range = genre.and_then(|g| find_range(g, ranges));
    let others = ordered.get(1..).unwrap_or(&[]);

    let mut notes: Vec<String> = vec![format!("{psrc} {pbpm} first by precedence")];
    let agreeing: Vec<&str> = others
        .iter()
        .filter(|(_, _, b)| same_tempo(pbpm, *b))
        .map(|(_, s, _)| *s)
        .collect();
    if !agreeing.is_empty() {
        notes.push(format!("agreed by {}", agreeing.join(", ")));
    }
    let differing: Vec<String> = others
        .iter()
        .filter(|(_, _, b)| !same_tempo(pbpm, *b) && !is_half_double(pbpm, *b))
        .map(|(_, s, b)| format!("{s} {b}"))
        .collect();
    if !differing.is_empty() {
        notes.push(format!("other readings ignored: {}", differing.join(", ")));
    }
    let half_double = others.iter().find(|(_, _, b)| is_half_double(pbpm, *b));

    let mut decision = BpmDecision {
        bpm: pbpm,
        source: psrc.to_string(),
        alternative: None,
        note: String::new(),
    };
    match (half_double, range) {
        (Some(&(_, asrc, abpm)), Some(r)) => {
            decision.alternative = Some(abpm);
            if r.contains(pbpm) {
                notes.push(format!(
                    "{asrc} says {abpm} (half/double); {pbpm} is in the {} range {}-{}",
                    r.genre, r.min, r.max
                ));
            } else if r.contains(abpm) {
                decision.bpm = abpm;
                decision.source = asrc.to_string();
                decision.alternative = Some(pbpm);
                notes.push(format!(
                    "{asrc} {abpm} chosen over {pbpm}: in the {} range {}-{}",
                    r.genre, r.min, r.max
                ));
            } else {
                notes.push(format!(
                    "{asrc} says {abpm} (half/double); neither is in the {} range {}-{}, kept precedence",
                    r.genre, r.min, r.max
                ));
            }
        }
        (Some(&(_, asrc, abpm)), None) => {
            decision.alternative = Some(abpm);
            notes.push(format!(
                "{asrc} says {abpm} (half/double); no genre range known, kept precedence"
            ));
        }
        (None, Some(r)) if !r.contains(pbpm) => {
            let fixed = [pbpm * 2.0, pbpm / 2.0]
                .into_iter()
                .find(|v| r.contains(*v) && plausible(*v));
            if let Some(v) = fixed {
                decision.bpm = v;
                decision.alternative = Some(pbpm);
                notes.push(format!(
                    "{} to {v} to fit the {} range {}-{}",
                    if v > pbpm { "doubled" } else { "halved" },
                    r.genre,
                    r.min,
                    r.max
                ));
            } else {
                notes.push(format!(
                    "outside the {} range {}-{}, but so are its half and double",
                    r.genre, r.min, r.max
                ));
            }
        }
        _ => {}
    }
    decision.note = notes.join("; ");
    Some(decision)
}

/// BPM as Rekordbox stores it (BPM x 100, rounded), so written values round-trip exactly;
/// 0 (Rekordbox's "unknown") for implausible input.
pub fn rekordbox_bpm(bpm: f32) -> u32 {
    if plausible(bpm) {
        (bpm * 100.0).round() as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<GenreRange> {
        GenreRanges::default().0
    }

    #[test]
    fn half_double_table() {
        let cases = [
            (70.0, 140.0, true),
            (140.0, 70.0, true),
            (87.0, 174.0, true),
            (64.0, 128.0, true),
            (64.0, 130.0, true),  // 1.56 % off
            (64.0, 131.0, false), // 2.3 % off
            (128.0, 128.0, false),
            (120.0, 180.0, false),
            (0.0, 0.0, false),
            (f32::NAN, 140.0, false),
            (-70.0, -140.0, false),
            (250.0, 500.0, false),
        ];
        for (a, b, want) in cases {
            assert_eq!(is_half_double(a, b), want, "{a} / {b}");
        }
    }

    #[test]
    fn validate_and_parse() {
        for ok in [20.0, 128.0, 174.0, 400.0] {
            assert_eq!(validate_bpm(ok), Ok(ok));
        }
        for bad in [0.0, -128.0, f32::NAN, f32::INFINITY, 19.9, 400.1, 1e9] {
            assert!(validate_bpm(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_bpm("128"), Ok(128.0));
        assert_eq!(parse_bpm(" 174 BPM "), Ok(174.0));
        assert_eq!(parse_bpm("127,5"), Ok(127.5));
        let e = parse_bpm("fast").unwrap_err();
        assert_eq!(e.to_string(), "unreadable BPM 'fast'");
        assert!(matches!(parse_bpm("-5"), Err(BpmError::OutOfRange { .. })));
        assert!(parse_bpm(&"9".repeat(10_000)).is_err());
    }

    #[test]
    fn genre_lookup() {
        let t = table();
        let cases = [
            ("House", Some("house")),
            ("Deep House", Some("deep house")),
            ("Melodic House & Techno", Some("melodic house and techno")),
            ("Drum & Bass", Some("drum and bass")),
            ("Drum and Bass", Some("drum and bass")),
            ("Hip-Hop", Some("hip hop")),
            ("Dubstep", Some("dubstep")),
            ("Melodic Deep House", Some("deep house")),
            ("Polka", None),
            ("", None),
        ];
        for (g, want) in cases {
            assert_eq!(find_range(g, &t).map(|r| r.genre.as_str()), want, "{g}");
        }
    }

    #[test]
    fn resolve_table() {
        let t = table();
        let prec = ["beatport", "traxsource", "spotify", "deezer"];
        // (candidates, genre, bpm, source, alternative)
        type Case<'a> = (
            &'a [(&'a str, f32)],
            Option<&'a str>,
            f32,
            &'a str,
            Option<f32>,
        );
        let cases: &[Case] = &[
            (
                &[("deezer", 126.0), ("beatport", 124.0)],
                None,
                124.0,
                "beatport",
                None,
            ),
            (
                &[("Beatport", 124.0)],
                Some("House"),
                124.0,
                "Beatport",
                None,
            ),
            // Half/double between sources: the genre decides.
            (
                &[("beatport", 70.0), ("spotify", 140.0)],
                Some("Dubstep"),
                140.0,
                "spotify",
                Some(70.0),
            ),
            (
                &[("beatport", 140.0), ("spotify", 70.0)],
                Some("Dubstep"),
                140.0,
                "beatport",
                Some(70.0),
            ),
            (
                &[("beatport", 87.0), ("deezer", 174.0)],
                Some("Drum & Bass"),
                174.0,
                "deezer",
                Some(87.0),
            ),
            (
                &[("beatport", 90.0), ("deezer", 180.0)],
                Some("Hip-Hop"),
                90.0,
                "beatport",
                Some(180.0),
            ),
            (
                &[("beatport", 64.0), ("deezer", 128.0)],
                None,
                64.0,
                "beatport",
                Some(128.0),
            ),
            // Single reading outside the range: doubled / halved.
            (
                &[("spotify", 70.0)],
                Some("Dubstep"),
                140.0,
                "spotify",
                Some(70.0),
            ),
            (
                &[("spotify", 64.0)],
                Some("Tech House"),
                128.0,
                "spotify",
                Some(64.0),
            ),
            (
                &[("spotify", 180.0)],
                Some("Hip-Hop"),
                90.0,
                "spotify",
                Some(180.0),
            ),
            (
                &[("spotify", 100.0)],
                Some("Techno"),
                100.0,
                "spotify",
                None,
            ),
            // Bad values ignored.
            (
                &[("beatport", 0.0), ("deezer", 128.0)],
                None,
                128.0,
                "deezer",
                None,
            ),
            (
                &[
                    ("beatport", f32::NAN),
                    ("x", -1.0),
                    ("y", 999.0),
                    ("deezer", 122.0),
                ],
                None,
                122.0,
                "deezer",
                None,
            ),
            // Unknown sources after known ones, in input order.
            (
                &[("zzz", 120.0), ("yyy", 121.0), ("deezer", 122.0)],
                None,
                122.0,
                "deezer",
                None,
            ),
            (&[("zzz", 120.0), ("yyy", 121.0)], None, 120.0, "zzz", None),
        ];
        for (cands, genre, bpm, source, alt) in cases {
            let d = resolve_bpm(cands, &prec, *genre, &t).expect("a decision");
            assert_eq!(d.bpm, *bpm, "{cands:?} {genre:?}: {d:?}");
            assert_eq!(d.source, *source, "{cands:?} {genre:?}: {d:?}");
            assert_eq!(d.alternative, *alt, "{cands:?} {genre:?}: {d:?}");
            assert!(!d.note.is_empty());
        }
        assert_eq!(resolve_bpm(&[], &prec, None, &t), None);
        assert_eq!(
            resolve_bpm(&[("a", 0.0), ("b", f32::NAN)], &prec, None, &t),
            None
        );
        let d = resolve_bpm(
            &[("beatport", 124.0), ("deezer", 124.5), ("spotify", 131.0)],
            &prec,
            None,
            &t,
        )
        .unwrap();
        assert!(d.note.contains("agreed by deezer"), "{}", d.note);
        assert!(d.note.contains("spotify 131"), "{}", d.note);
    }

    #[test]
    fn ranges_from_config() {
        let r: GenreRanges =
            serde_json::from_str(r#"[{"genre":"Baile Funk","min":125,"max":135}]"#).unwrap();
        let d = resolve_bpm(&[("x", 65.0)], &[], Some("baile funk"), r.as_slice()).unwrap();
        assert_eq!(d.bpm, 130.0);
        // A broken range from config is ignored, never trusted.
        let broken = vec![GenreRange::new("house", 130.0, 118.0)];
        let d = resolve_bpm(&[("x", 64.0)], &[], Some("house"), &broken).unwrap();
        assert_eq!(d.bpm, 64.0);
    }

    #[test]
    fn rekordbox_storage() {
        let cases = [
            (128.0, 12800),
            (127.999, 12800),
            (174.5, 17450),
            (99.994, 9999),
            (0.0, 0),
            (-1.0, 0),
            (f32::NAN, 0),
            (1e12, 0),
        ];
        for (bpm, want) in cases {
            assert_eq!(rekordbox_bpm(bpm), want, "{bpm}");
        }
    }
}
