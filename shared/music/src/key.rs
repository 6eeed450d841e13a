//! Musical keys in every notation DJs meet, so a key read from Beatport, Spotify, Rekordbox or
//! a file tag becomes one value that can be written back in the notation the user chose.
//!
//! `../shared/keys/key_notations.csv` is the oracle for every spelling produced here.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest key text we try to parse; real ones are under 20 chars even with HTML entities.
const MAX_KEY_INPUT: usize = 64;

/// Why a key string could not be read. Names the input so it can be shown to a person and
/// the key left empty and flagged for review rather than guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty or whitespace only.
    #[error("empty key")]
    Empty,
    /// Longer than any key spelling.
    #[error("key text too long ({len} chars)")]
    TooLong {
        /// Length in chars.
        len: usize,
    },
    /// Not a key in any known notation (e.g. `Z major`, `13A`).
    #[error("unknown key '{input}'")]
    Unknown {
        /// The text as given.
        input: String,
    },
    /// Several spellings given (`G# minor/Ab minor`, `8A/Am`) that name different keys.
    #[error("conflicting key spellings in '{input}'")]
    Conflicting {
        /// The text as given.
        input: String,
    },
    /// A numeric notation (Spotify, Traktor) outside its range.
    #[error("key value out of range: {detail}")]
    OutOfRange {
        /// Which values were given.
        detail: String,
    },
}

/// The notations a key can be written in; the user picks one in config for tags and
/// Rekordbox, and the CLI prints all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyNotation {
    /// Music-theory names: `A minor`, `F# major`, `Db major`.
    Standard,
    /// Mixed In Key's Camelot wheel: `8A` = A minor, `8B` = C major.
    Camelot,
    /// Traktor's Open Key: `1m` = A minor, `1d` = C major.
    OpenKey,
    /// Beatport API v4 `key.name`: `Ab Minor`, `F# Major`.
    Beatport,
    /// rekordbox "Classic" spelling: `Abm`, `F#`, `Dbm`.
    Rekordbox,
}

impl KeyNotation {
    /// Every notation, in the order the CLI prints them.
    pub const ALL: [KeyNotation; 5] = [
        KeyNotation::Standard,
        KeyNotation::Camelot,
        KeyNotation::OpenKey,
        KeyNotation::Beatport,
        KeyNotation::Rekordbox,
    ];

    /// Stable snake_case name used in config, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyNotation::Standard => "standard",
            KeyNotation::Camelot => "camelot",
            KeyNotation::OpenKey => "open_key",
            KeyNotation::Beatport => "beatport",
            KeyNotation::Rekordbox => "rekordbox",
        }
    }
}

impl fmt::Display for KeyNotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a notation name that is not one of ours (config or `--to`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown key notation '{0}' (expected one of: standard, camelot, open_key, beatport, rekordbox)"
)]
pub struct UnknownNotation(pub String);

impl FromStr for KeyNotation {
    type Err = UnknownNotation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .collect();
        Ok(match n.as_str() {
            "standard" | "musical" => KeyNotation::Standard,
            "camelot" => KeyNotation::Camelot,
            "openkey" => KeyNotation::OpenKey,
            "beatport" => KeyNotation::Beatport,
            "rekordbox" => KeyNotation::Rekordbox,
            _ => return Err(UnknownNotation(s.to_string())),
        })
    }
}

/// One of the 24 major/minor keys. Fields are private so a `Key` is always valid
/// (pitch class 0-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "KeyRepr", into = "KeyRepr")]
pub struct Key {
    pitch_class: u8,
    minor: bool,
}

/// Serialised form of [`Key`], validated on the way in.
#[derive(Serialize, Deserialize)]
struct KeyRepr {
    pitch_class: u8,
    minor: bool,
}

impl TryFrom<KeyRepr> for Key {
    type Error = KeyError;
    fn try_from(r: KeyRepr) -> Result<Self, Self::Error> {
        Key::new(r.pitch_class, r.minor).ok_or(KeyError::OutOfRange {
            detail: format!("pitch_class {}", r.pitch_class),
        })
    }
}

impl From<Key> for KeyRepr {
    fn from(k: Key) -> Self {
        KeyRepr {
            pitch_class: k.pitch_class,
            minor: k.minor,
        }
    }
}

/// Root spellings per notation, indexed by pitch class (see the oracle CSV).
const STANDARD_MAJOR: [&str; 12] = [
    "C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];
const STANDARD_MINOR: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B",
];
const BEATPORT_MINOR: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];
const REKORDBOX_ROOTS: [&str; 12] = [
    "C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

impl Key {
    /// Builds a key from a pitch class (0 = C … 11 = B) and mode; `None` when out of range.
    pub fn new(pitch_class: u8, minor: bool) -> Option<Key> {
        (pitch_class < 12).then_some(Key { pitch_class, minor })
    }

    /// All 24 keys, for exhaustive checks and listings.
    pub fn all() -> impl Iterator<Item = Key> {
        (0u8..24).map(|i| Key {
            pitch_class: i % 12,
            minor: i >= 12,
        })
    }

    /// Pitch class of the root: 0 = C, 1 = C#/Db, … 11 = B.
    pub fn pitch_class(self) -> u8 {
        self.pitch_class
    }

    /// True for minor keys.
    pub fn is_minor(self) -> bool {
        self.minor
    }

    /// Spotify audio-features `key` / `mode` (pitch class, 1 = major, 0 = minor); `None`
    /// for `-1` (no key detected) or anything out of range.
    pub fn from_spotify(pitch: i32, mode: i32) -> Option<Key> {
        let pc = u8::try_from(pitch).ok()?;
        match mode {
            0 => Key::new(pc, true),
            1 => Key::new(pc, false),
            _ => None,
        }
    }

    /// Spotify's (`key`, `mode`) pair for this key.
    pub fn spotify(self) -> (i32, i32) {
        (i32::from(self.pitch_class), if self.minor { 0 } else { 1 })
    }

    /// Traktor collection.nml `MUSICAL_KEY VALUE`: pitch class, +12 when minor.
    pub fn from_traktor(value: i32) -> Option<Key> {
        let v = u8::try_from(value).ok()?;
        (v < 24).then_some(Key {
            pitch_class: v % 12,
            minor: v >= 12,
        })
    }

    /// Traktor collection.nml `MUSICAL_KEY VALUE` for this key.
    pub fn traktor(self) -> u8 {
        self.pitch_class + if self.minor { 12 } else { 0 }
    }

    /// Steps of a fifth from the wheel's origin (A minor / C major), 0..12.
    fn fifths(self) -> u8 {
        let origin = if self.minor { 9 } else { 0 };
        ((self.pitch_class + 12 - origin) * 7) % 12
    }

    fn from_fifths(fifths: u8, minor: bool) -> Key {
        let origin = if minor { 9 } else { 0 };
        Key {
            pitch_class: (fifths % 12 * 7 + origin) % 12,
            minor,
        }
    }

    /// Camelot number 1-12.
    fn camelot_number(self) -> u8 {
        (self.fifths() + 7) % 12 + 1
    }

    /// Camelot code (`8A`), the notation harmonic-mixing DJs read most.
    pub fn camelot(self) -> String {
        format!(
            "{}{}",
            self.camelot_number(),
            if self.minor { 'A' } else { 'B' }
        )
    }

    /// Open Key code (`1m`), Traktor's notation.
    pub fn open_key(self) -> String {
        format!(
            "{}{}",
            self.fifths() + 1,
            if self.minor { 'm' } else { 'd' }
        )
    }

    /// The key written in `notation`, exactly as the oracle spells it.
    pub fn format(self, notation: KeyNotation) -> String {
        let pc = usize::from(self.pitch_class % 12);
        match notation {
            KeyNotation::Standard => {
                let (roots, mode) = if self.minor {
                    (&STANDARD_MINOR, "minor")
                } else {
                    (&STANDARD_MAJOR, "major")
                };
                format!("{} {mode}", roots[pc])
            }
            KeyNotation::Camelot => self.camelot(),
            KeyNotation::OpenKey => self.open_key(),
            KeyNotation::Beatport => {
                if self.minor {
                    format!("{} Minor", BEATPORT_MINOR[pc])
                } else {
                    format!("{} Major", STANDARD_MAJOR[pc])
                }
            }
            KeyNotation::Rekordbox => {
                format!(
                    "{}{}",
                    REKORDBOX_ROOTS[pc],
                    if self.minor { "m" } else { "" }
                )
            }
        }
    }

    /// Parses any notation: standard (`A minor`, `Am`, `A min`, `Amin`, `F#`, `Gb maj`,
    /// `A♭ major`, `Bbm`, `B flat minor`), Camelot (`8A`, `08A`), Open Key (`1m`, `1d`),
    /// Beatport (`A Minor`, including HTML entities such as `A&#9837; Major`, `&flat;`,
    /// `&sharp;`) and Rekordbox (`Am`, `F#m`, `Db`). Several spellings separated by `/`
    /// (`G# minor/Ab minor`, `8A/Am`) must agree. A lone upper-case `M` means major (the
    /// music-theory convention), a lower-case `m` minor.
    pub fn parse(s: &str) -> Result<Key, KeyError> {
        let len = s.chars().count();
        if len > MAX_KEY_INPUT {
            return Err(KeyError::TooLong { len });
        }
        let decoded = decode_entities(s);
        let t = decoded.trim();
        if t.is_empty() {
            return Err(KeyError::Empty);
        }
        let unknown = || KeyError::Unknown {
            input: s.to_string(),
        };
        let parts: Vec<&str> = t
            .split('/')
            .flat_map(|p| p.split(" - "))
            .map(str::trim)
            .collect();
        let mut found: Option<Key> = None;
        for part in parts {
            let k = parse_single(part).ok_or_else(unknown)?;
            match found {
                Some(prev) if prev != k => {
                    return Err(KeyError::Conflicting {
                        input: s.to_string(),
                    });
                }
                _ => found = Some(k),
            }
        }
        found.ok_or_else(unknown)
    }
}

impl fmt::Display for Key {
    /// Standard notation, the form people read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(KeyNotation::Standard))
    }
}

impl FromStr for Key {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Key::parse(s)
    }
}

/// Replaces the HTML entities Beatport v3 payloads use for accidentals, and the Unicode
/// glyphs, with ASCII `#` / `b`.
fn decode_entities(s: &str) -> String {
    let mut out = s.to_string();
    for (from, to) in [
        ("&#9837;", "b"),
        ("&#x266d;", "b"),
        ("&#x266D;", "b"),
        ("&flat;", "b"),
        ("&#9839;", "#"),
        ("&#x266f;", "#"),
        ("&#x266F;", "#"),
        ("&sharp;", "#"),
        ("&#35;", "#"),
        ("&#9838;", ""),
        ("&natural;", ""),
        ("&nbsp;", " "),
        ("&amp;", "&"),
        ("\u{266D}", "b"),
        ("\u{266F}", "#"),
        ("\u{266E}", ""),
        ("\u{FF03}", "#"),
    ] {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

fn parse_single(t: &str) -> Option<Key> {
    let compact: String = t
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.'))
        .collect();
    let first = compact.chars().next()?;
    if first.is_ascii_digit() {
        parse_wheel(&compact)
    } else {
        parse_standard(&compact)
    }
}

/// Camelot (`8A`, `08B`) and Open Key (`1m`, `12d`).
fn parse_wheel(c: &str) -> Option<Key> {
    let digits_end = c.find(|ch: char| !ch.is_ascii_digit())?;
    let (num, suffix) = c.split_at(digits_end);
    if num.len() > 3 {
        return None;
    }
    let n: u8 = num.parse().ok()?;
    if !(1..=12).contains(&n) {
        return None;
    }
    match suffix.to_ascii_lowercase().as_str() {
        "a" => Some(Key::from_fifths((n + 4) % 12, true)),
        "b" => Some(Key::from_fifths((n + 4) % 12, false)),
        "m" => Some(Key::from_fifths(n - 1, true)),
        "d" => Some(Key::from_fifths(n - 1, false)),
        _ => None,
    }
}

/// Letter names with optional accidental and mode.
fn parse_standard(c: &str) -> Option<Key> {
    let mut chars = c.chars();
    let root: i32 = match chars.next()?.to_ascii_uppercase() {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest = chars.as_str();
    let lower = rest.to_ascii_lowercase();
    let (acc, consumed) = if lower.starts_with("sharp") {
        (1, 5)
    } else if lower.starts_with("flat") {
        (-1, 4)
    } else if rest.starts_with('#') {
        (1, 1)
    } else if rest.starts_with('b') {
        (-1, 1)
    } else {
        (0, 0)
    };
    let mode = rest.get(consumed..)?;
    let minor = match mode {
        "" | "M" => false,
        "m" => true,
        _ => match mode.to_ascii_lowercase().as_str() {
            "min" | "minor" | "mi" | "mn" | "moll" => true,
            "maj" | "major" | "ma" | "dur" => false,
            _ => return None,
        },
    };
    let pc = u8::try_from((root + acc).rem_euclid(12)).ok()?;
    Key::new(pc, minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn parse_table() {
        let am = Key::new(9, true).unwrap();
        let c = Key::new(0, false).unwrap();
        let fsharp = Key::new(6, false).unwrap();
        let gflat_maj = fsharp;
        let aflat_maj = Key::new(8, false).unwrap();
        let bbm = Key::new(10, true).unwrap();
        let dsharp_maj = Key::new(3, false).unwrap();
        let cases: &[(&str, Key)] = &[
            ("A minor", am),
            ("Am", am),
            ("A min", am),
            ("Amin", am),
            ("a minor", am),
            ("A Minor", am),
            ("A-minor", am),
            ("8A", am),
            ("08A", am),
            ("8a", am),
            ("1m", am),
            ("01M", am),
            ("C", c),
            ("C major", c),
            ("CM", c),
            ("Cmaj", c),
            ("8B", c),
            ("1d", c),
            ("F#", fsharp),
            ("F♯", fsharp),
            ("F sharp major", fsharp),
            ("Gb maj", gflat_maj),
            ("G♭ major", gflat_maj),
            ("A♭ major", aflat_maj),
            ("A&#9837; Major", aflat_maj),
            ("A&flat; Major", aflat_maj),
            ("Ab", aflat_maj),
            ("G#", aflat_maj),
            ("G&sharp;maj", aflat_maj),
            ("Bbm", bbm),
            ("B flat minor", bbm),
            ("A#m", bbm),
            ("D&#9839;maj", dsharp_maj), // Beatport v3 shortName (fixture tracks_id-1217790)
            ("Fmaj", Key::new(5, false).unwrap()),
            ("Fmin", Key::new(5, true).unwrap()),
            ("Cb", Key::new(11, false).unwrap()),
            ("E#m", Key::new(5, true).unwrap()),
            ("bm", Key::new(11, true).unwrap()),
            ("B", Key::new(11, false).unwrap()),
            ("G# minor/Ab minor", Key::new(8, true).unwrap()),
            ("8A/Am", am),
            ("8A - Am", am),
            ("  Am  ", am),
        ];
        for (input, want) in cases {
            assert_eq!(Key::parse(input), Ok(*want), "input {input:?}");
        }
    }

    #[test]
    fn bad_keys_are_typed_errors_naming_the_input() {
        assert_eq!(Key::parse(""), Err(KeyError::Empty));
        assert_eq!(Key::parse("   "), Err(KeyError::Empty));
        for bad in [
            "Z major",
            "13A",
            "0A",
            "8C",
            "H",
            "Am7",
            "A minor-ish",
            "1000A",
            "#",
            "m",
            "8",
            "A##",
            "Abb",
        ] {
            match Key::parse(bad) {
                Err(KeyError::Unknown { input }) => assert_eq!(input, bad),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let e = Key::parse("Z major").unwrap_err();
        assert_eq!(e.to_string(), "unknown key 'Z major'");
        assert!(matches!(
            Key::parse("8A/9A"),
            Err(KeyError::Conflicting { .. })
        ));
        assert!(matches!(
            Key::parse(&"A".repeat(200)),
            Err(KeyError::TooLong { len: 200 })
        ));
    }

    #[test]
    fn spotify_and_traktor() {
        assert_eq!(Key::from_spotify(9, 0), Key::new(9, true));
        assert_eq!(Key::from_spotify(0, 1), Key::new(0, false));
        for (p, m) in [(-1, 1), (-1, 0), (12, 0), (0, 2), (0, -1), (i32::MAX, 1)] {
            assert_eq!(Key::from_spotify(p, m), None, "({p}, {m})");
        }
        for k in Key::all() {
            let (p, m) = k.spotify();
            assert_eq!(Key::from_spotify(p, m), Some(k));
            assert_eq!(Key::from_traktor(i32::from(k.traktor())), Some(k));
        }
        assert_eq!(Key::from_traktor(21), Key::new(9, true)); // A minor
        assert_eq!(Key::from_traktor(24), None);
        assert_eq!(Key::from_traktor(-1), None);
    }

    #[test]
    fn every_key_round_trips_through_every_notation() {
        assert_eq!(Key::all().count(), 24);
        for k in Key::all() {
            for n in KeyNotation::ALL {
                let text = k.format(n);
                assert_eq!(Key::parse(&text), Ok(k), "{k:?} as {n}: {text}");
            }
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(serde_json::from_str::<Key>(&json).unwrap(), k);
        }
        assert!(serde_json::from_str::<Key>(r#"{"pitch_class":12,"minor":false}"#).is_err());
    }

    #[test]
    fn notation_names() {
        for n in KeyNotation::ALL {
            assert_eq!(n.as_str().parse::<KeyNotation>(), Ok(n));
            assert_eq!(serde_json::to_string(&n).unwrap(), format!("\"{n}\""));
        }
        assert_eq!("Open Key".parse::<KeyNotation>(), Ok(KeyNotation::OpenKey));
        assert_eq!("openkey".parse::<KeyNotation>(), Ok(KeyNotation::OpenKey));
        assert!("lydian".parse::<KeyNotation>().is_err());
    }

    fn oracle_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/keys/key_notations.csv")
    }

    /// Reads `key_notations.csv` in place and checks every row and every column.
    #[test]
    fn oracle_csv() {
        let path = oracle_path();
        let mut rdr = csv::Reader::from_path(&path).unwrap_or_else(|e| {
            panic!("key oracle not found: looked for {} ({e})", path.display())
        });
        let headers = rdr.headers().expect("header row").clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("oracle has no column {name}: {headers:?}"))
        };
        let (c_pc, c_mode, c_std, c_cam, c_ok, c_sk, c_sm, c_bp, c_rb) = (
            col("pitch_class"),
            col("mode"),
            col("standard"),
            col("camelot"),
            col("open_key"),
            col("spotify_key"),
            col("spotify_mode"),
            col("beatport"),
            col("rekordbox"),
        );
        let mut seen = std::collections::HashSet::new();
        for (i, row) in rdr.records().enumerate() {
            let row = row.expect("csv row");
            let get = |c: usize| row.get(c).expect("column present").to_string();
            let pc: u8 = get(c_pc).parse().expect("pitch_class");
            let minor = match get(c_mode).as_str() {
                "minor" => true,
                "major" => false,
                m => panic!("row {i}: mode {m}"),
            };
            let want = Key::new(pc, minor).expect("valid key in oracle");
            assert!(seen.insert(want), "row {i} repeats {want:?}");
            let ctx = format!("row {i} ({})", get(c_std));

            // standard: whole cell, each enharmonic alternative; canonical = first one.
            let std = get(c_std);
            assert_eq!(Key::parse(&std), Ok(want), "{ctx}: standard cell");
            for alt in std.split('/') {
                assert_eq!(Key::parse(alt), Ok(want), "{ctx}: standard alt {alt}");
            }
            assert_eq!(
                want.format(KeyNotation::Standard),
                std.split('/').next().unwrap_or_default(),
                "{ctx}"
            );
            // Canonical one-to-one columns.
            for (c, n) in [
                (c_cam, KeyNotation::Camelot),
                (c_ok, KeyNotation::OpenKey),
                (c_bp, KeyNotation::Beatport),
                (c_rb, KeyNotation::Rekordbox),
            ] {
                let text = get(c);
                assert_eq!(Key::parse(&text), Ok(want), "{ctx}: parse {n} {text}");
                assert_eq!(want.format(n), text, "{ctx}: format {n}");
            }
            assert_eq!(want.camelot(), get(c_cam), "{ctx}");
            assert_eq!(want.open_key(), get(c_ok), "{ctx}");
            assert_eq!(Key::parse(&format!("0{}", get(c_cam))), Ok(want), "{ctx}");
            // Spotify pair.
            let sk: i32 = get(c_sk).parse().expect("spotify_key");
            let sm: i32 = get(c_sm).parse().expect("spotify_mode");
            assert_eq!(Key::from_spotify(sk, sm), Some(want), "{ctx}: spotify");
            assert_eq!(want.spotify(), (sk, sm), "{ctx}: spotify");
            // Beatport variants: glyphs, HTML entities, short forms, case.
            let bp = get(c_bp);
            let variants = [
                bp.replace('#', "\u{266F}").replace("b ", "\u{266D} "),
                bp.replace('#', "&#9839;").replace("b ", "&#9837; "),
                bp.replace('#', "&sharp;").replace("b ", "&flat; "),
                bp.replace(" Minor", "min").replace(" Major", "maj"),
                bp.to_lowercase(),
                bp.replace(" Minor", " min").replace(" Major", " maj"),
            ];
            for v in variants {
                assert_eq!(Key::parse(&v), Ok(want), "{ctx}: beatport variant {v}");
            }
        }
        assert_eq!(seen.len(), 24, "oracle must list all 24 keys");
    }

    fn fixture(rel: &str) -> serde_json::Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures")
            .join(rel);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("fixture not found: looked for {} ({e})", path.display()));
        serde_json::from_str(&text).expect("fixture is JSON")
    }

    /// Beatport v4 gives name + Camelot code for each key: both must agree with our tables.
    #[test]
    fn beatport_v4_fixture_keys() {
        let search = fixture("beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json");
        let track = fixture("beatport/v4_catalog_track_19431036.json");
        let mut keys: Vec<&serde_json::Value> = search["tracks"]
            .as_array()
            .expect("tracks")
            .iter()
            .map(|t| &t["key"])
            .collect();
        keys.push(&track["key"]);
        assert_eq!(keys.len(), 4);
        for k in keys {
            let name = k["name"].as_str().expect("key.name");
            let code = format!(
                "{}{}",
                k["camelot_number"].as_u64().expect("camelot_number"),
                k["camelot_letter"].as_str().expect("camelot_letter")
            );
            let key = Key::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(key.camelot(), code, "{name}");
            assert_eq!(Key::parse(&code), Ok(key));
            assert_eq!(key.format(KeyNotation::Beatport), name);
        }
    }

    /// Beatport v3 gives an HTML-entity shortName plus a structured letter/sharp/flat/chord.
    #[test]
    fn beatport_v3_fixture_keys() {
        let mut seen = 0;
        for rel in [
            "beatport/v3_catalog_search_q-archipel.json",
            "beatport/v3_catalog_tracks_id-1217790.json",
        ] {
            let json = fixture(rel);
            let results = json["results"].as_array().expect("results array");
            for r in results {
                let k = &r["key"];
                let Some(short) = k["shortName"].as_str() else {
                    continue;
                };
                let st = &k["standard"];
                let letter = st["letter"].as_str().expect("letter");
                let acc = if st["sharp"] == true {
                    "#"
                } else if st["flat"] == true {
                    "b"
                } else {
                    ""
                };
                let chord = st["chord"].as_str().expect("chord");
                let structured = Key::parse(&format!("{letter}{acc} {chord}")).expect("structured");
                assert_eq!(Key::parse(short), Ok(structured), "{rel}: {short}");
                seen += 1;
            }
        }
        assert!(seen >= 7, "expected the fixture keys, saw {seen}");
        assert_eq!(
            Key::parse("D&#9839;maj").map(|k| k.camelot()),
            Ok("5B".into())
        );
    }

    /// Spotify audio-features fixtures: key/mode pairs and -1 handling.
    #[test]
    fn spotify_fixture_keys() {
        let one = fixture("spotify/audio_features_11dFghVXANMlKmJXsNCbNl.json");
        let k = Key::from_spotify(
            one["key"].as_i64().expect("key") as i32,
            one["mode"].as_i64().expect("mode") as i32,
        )
        .expect("valid");
        assert_eq!(k.format(KeyNotation::Standard), "D major");
        let several = fixture("spotify/audio_features_several_docs-example.json");
        let feats = several["audio_features"]
            .as_array()
            .expect("audio_features");
        let names: Vec<String> = feats
            .iter()
            .filter_map(|f| {
                Key::from_spotify(f["key"].as_i64()? as i32, f["mode"].as_i64()? as i32)
            })
            .map(|k| k.camelot())
            .collect();
        assert_eq!(names, ["9B", "3B", "12B"]);
    }
}
