//! `cratedigger match`, `cratedigger key` and `cratedigger bpm`: the music rules explained
//! to a person, locally (no scheduler needed), with the same settings the workers use.
//!
//! Why: a DJ who disagrees with a decision ("why is my Extended Mix not a duplicate of the
//! Radio Edit?", "why 140 and not 70?") can ask the tool and see the evidence, and a
//! developer tuning weights or genre ranges can try them without running a sync.

use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
use cratedigger_music::bpm::{BpmError, find_range, parse_bpm, rekordbox_bpm, resolve_bpm};
use cratedigger_music::key::{Key, KeyError, KeyNotation, UnknownNotation};
use cratedigger_music::matching::{MatchScore, Thresholds, Verdict, score};
use cratedigger_music::normalize::dedup_key;
use cratedigger_workers::settings::MatchingSettings;
use serde::Serialize;
use serde_json::{Value, json};

/// Why an explain command could not answer; every message names the input.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// Not one "Artist - Title" line.
    #[error("cannot read '{input}' as \"Artist - Title\": {reason}")]
    Track {
        /// The argument as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not a key in any notation.
    #[error("cannot read the key '{input}': {error}")]
    Key {
        /// The argument as given.
        input: String,
        /// The parser's reason (in the message, not repeated as a source).
        error: KeyError,
    },
    /// `--to` names no notation we know.
    #[error(transparent)]
    Notation(#[from] UnknownNotation),
    /// Not a usable BPM.
    #[error("cannot use the BPM '{input}': {error}")]
    Bpm {
        /// The argument as given.
        input: String,
        /// The parser's reason (in the message, not repeated as a source).
        error: BpmError,
    },
}

/// Reads one "Artist - Title (Mix)" argument with the playlist parser (the same rules as
/// a line of a synced text playlist).
fn read_track(input: &str) -> Result<WantedTrack, ExplainError> {
    let err = |reason: String| ExplainError::Track {
        input: input.to_string(),
        reason,
    };
    if input.trim().is_empty() {
        return Err(err("it is empty".into()));
    }
    let parsed = cratedigger_playlist::parse("argument.txt", input.as_bytes()).map_err(|e| {
        err(match e {
            cratedigger_playlist::PlaylistError::NoTracks {
                first_problem: Some(p),
                ..
            } => p.split_once(": ").map(|(_, r)| r.to_string()).unwrap_or(p),
            other => other.to_string(),
        })
    })?;
    match parsed.entries.as_slice() {
        [one] => Ok(one.wanted.clone()),
        _ => Err(err("give exactly one track".into())),
    }
}

fn as_candidate(w: &WantedTrack) -> PlatformTrack {
    PlatformTrack {
        platform: "input".into(),
        platform_id: "b".into(),
        title: w.title.clone(),
        mix: w.mix.clone(),
        artists: vec![ArtistCredit {
            name: w.artist.clone(),
            role: ArtistRole::Main,
        }],
        isrc: w.isrc.clone(),
        catalog_number: w.catalog.clone(),
        label: w.label.clone(),
        duration_ms: w.duration_ms,
        ..Default::default()
    }
}

/// The word a person reads for a verdict.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "same",
        Verdict::Review => "review",
        Verdict::Reject => "different",
    }
}

/// Result of `cratedigger match`.
#[derive(Debug, Clone, Serialize)]
pub struct MatchExplanation {
    /// First argument, read as the wanted track.
    pub wanted: WantedTrack,
    /// Second argument, read as the candidate.
    pub candidate: WantedTrack,
    /// same / review / different.
    pub verdict: &'static str,
    /// The matcher's full result (total, verdict, breakdown).
    pub score: MatchScore,
    /// Auto-accept and review thresholds in force.
    pub thresholds: Thresholds,
    /// Both dedup keys: equal keys are one record in the library.
    pub dedup_keys: [String; 2],
}

/// Scores `b` against `a` with the configured weights and thresholds.
pub fn explain_match(
    a: &str,
    b: &str,
    matching: &MatchingSettings,
) -> Result<MatchExplanation, ExplainError> {
    let wanted = read_track(a)?;
    let other = read_track(b)?;
    let s = score(
        &wanted,
        &as_candidate(&other),
        &matching.weights,
        &matching.thresholds,
    );
    Ok(MatchExplanation {
        dedup_keys: [
            dedup_key(&wanted.artist, &wanted.title, wanted.mix.as_deref()),
            dedup_key(&other.artist, &other.title, other.mix.as_deref()),
        ],
        verdict: verdict_word(s.verdict),
        thresholds: matching.thresholds,
        wanted,
        candidate: other,
        score: s,
    })
}

/// The breakdown as a table for a terminal.
pub fn render_match(e: &MatchExplanation) -> String {
    let mut out = format!(
        "wanted:    {}\ncandidate: {}\n\n{:<9} {:>5} {:>6}  note\n",
        e.wanted.display(),
        e.candidate.display(),
        "evidence",
        "score",
        "weight"
    );
    for ev in e.score.breakdown.iter().filter(|ev| ev.field != "cap") {
        out.push_str(&format!(
            "{:<9} {:>5.2} {:>6.2}  {}\n",
            ev.field, ev.score, ev.weight, ev.note
        ));
    }
    for ev in e.score.breakdown.iter().filter(|ev| ev.field == "cap") {
        out.push_str(&format!("rule: {}\n", ev.note));
    }
    let meaning = match e.score.verdict {
        Verdict::Accept => "the same recording; accepted without asking",
        Verdict::Review => "maybe the same; a person decides",
        Verdict::Reject => "different recordings",
    };
    out.push_str(&format!(
        "\ntotal {:.2} (accept at >= {:.2}, review at >= {:.2})\nverdict: {} ({meaning})\n",
        e.score.total, e.thresholds.accept, e.thresholds.review, e.verdict
    ));
    let same_key = e.dedup_keys[0] == e.dedup_keys[1];
    out.push_str(&format!(
        "library keys: {} {} {}\n",
        e.dedup_keys[0],
        if same_key { "=" } else { "≠" },
        e.dedup_keys[1]
    ));
    out
}

/// Result of `cratedigger key`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyExplanation {
    /// The argument as given.
    pub input: String,
    /// Pitch class (0 = C) and mode.
    pub key: Key,
    /// Every notation, or only the one asked for.
    pub notations: Vec<(KeyNotation, String)>,
    /// Spotify's (key, mode) pair.
    pub spotify: (i32, i32),
    /// The notation written to tags and Rekordbox (config `matching.key_notation`).
    pub configured: KeyNotation,
}

/// Parses `value` in any notation and writes it in every notation (or in `to`).
pub fn explain_key(
    value: &str,
    to: Option<&str>,
    matching: &MatchingSettings,
) -> Result<KeyExplanation, ExplainError> {
    let key = Key::parse(value).map_err(|error| ExplainError::Key {
        input: value.to_string(),
        error,
    })?;
    let notations = match to {
        Some(n) => {
            let n: KeyNotation = n.parse()?;
            vec![(n, key.format(n))]
        }
        None => KeyNotation::ALL
            .iter()
            .map(|n| (*n, key.format(*n)))
            .collect(),
    };
    Ok(KeyExplanation {
        input: value.to_string(),
        key,
        notations,
        spotify: key.spotify(),
        configured: matching.key_notation,
    })
}

/// The key as text (one line when a single notation was asked for).
pub fn render_key(e: &KeyExplanation, only: bool) -> String {
    if only {
        return e
            .notations
            .first()
            .map(|(_, v)| format!("{v}\n"))
            .unwrap_or_default();
    }
    let mut out = format!("{:<10} {}\n", "input", e.input);
    for (n, v) in &e.notations {
        let mark = if *n == e.configured {
            "  (written to tags and Rekordbox)"
        } else {
            ""
        };
        out.push_str(&format!("{:<10} {v}{mark}\n", n.as_str()));
    }
    out.push_str(&format!(
        "{:<10} key {}, mode {}\n",
        "spotify", e.spotify.0, e.spotify.1
    ));
    out
}

/// The key as JSON.
pub fn key_json(e: &KeyExplanation) -> Value {
    let notations: serde_json::Map<String, Value> = e
        .notations
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), json!(v)))
        .collect();
    json!({
        "input": e.input,
        "pitch_class": e.key.pitch_class(),
        "minor": e.key.is_minor(),
        "notations": notations,
        "spotify": { "key": e.spotify.0, "mode": e.spotify.1 },
        "configured_notation": e.configured,
    })
}

/// Result of `cratedigger bpm`.
#[derive(Debug, Clone, Serialize)]
pub struct BpmExplanation {
    /// The readings as given (`source`, BPM).
    pub readings: Vec<(String, f32)>,
    /// The genre asked about.
    pub genre: Option<String>,
    /// The genre range used, when one is known (`[min, max]`).
    pub range: Option<(String, f32, f32)>,
    /// BPM to store.
    pub bpm: f32,
    /// As Rekordbox stores it.
    pub rekordbox: u32,
    /// Which reading it came from.
    pub source: String,
    /// The half/double-time alternative.
    pub alternative: Option<f32>,
    /// Why.
    pub why: String,
}

/// Resolves one or more readings (`128`, `beatport=70`) the way the consolidator does:
/// configured BPM precedence, half/double time, the genre's usual range.
pub fn explain_bpm(
    values: &[String],
    genre: Option<&str>,
    matching: &MatchingSettings,
) -> Result<BpmExplanation, ExplainError> {
    let mut readings: Vec<(String, f32)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let (source, number) = match v.split_once('=') {
            Some((s, n)) if !s.trim().is_empty() => (s.trim().to_string(), n),
            _ => (
                if values.len() == 1 {
                    "input".to_string()
                } else {
                    format!("reading {}", i + 1)
                },
                v.as_str(),
            ),
        };
        let bpm = parse_bpm(number).map_err(|error| ExplainError::Bpm {
            input: v.clone(),
            error,
        })?;
        readings.push((source, bpm));
    }
    if readings.is_empty() {
        return Err(ExplainError::Bpm {
            input: String::new(),
            error: BpmError::Unreadable {
                input: String::new(),
            },
        });
    }
    let ranges = matching.genre_ranges.as_slice();
    let prec: Vec<&str> = matching.bpm_precedence.iter().map(String::as_str).collect();
    let cands: Vec<(&str, f32)> = readings.iter().map(|(s, b)| (s.as_str(), *b)).collect();
    let d = resolve_bpm(&cands, &prec, genre, ranges).ok_or_else(|| ExplainError::Bpm {
        input: values.join(" "),
        error: BpmError::Unreadable {
            input: values.join(" "),
        },
    })?;
    let range = genre
        .and_then(|g| find_range(g, ranges))
        .map(|r| (r.genre.clone(), r.min, r.max));
    let mut why = d.note.clone();
    if let (Some(g), None) = (genre, &range) {
        why.push_str(&format!(
            "; no BPM range is configured for genre '{g}' (see matching.genre_ranges)"
        ));
    }
    Ok(BpmExplanation {
        readings,
        genre: genre.map(str::to_string),
        range,
        rekordbox: rekordbox_bpm(d.bpm),
        bpm: d.bpm,
        source: d.source,
        alternative: d.alternative,
        why,
    })
}

/// The BPM decision as text.
pub fn render_bpm(e: &BpmExplanation) -> String {
    let mut out = format!(
        "bpm:         {} (Rekordbox stores {})\n",
        fmt_bpm(e.bpm),
        e.rekordbox
    );
    out.push_str(&format!("from:        {}\n", e.source));
    if let Some(a) = e.alternative {
        out.push_str(&format!("alternative: {} (half/double time)\n", fmt_bpm(a)));
    }
    if let Some((g, min, max)) = &e.range {
        out.push_str(&format!(
            "genre range: {g} {}-{}\n",
            fmt_bpm(*min),
            fmt_bpm(*max)
        ));
    }
    out.push_str(&format!("why:         {}\n", e.why));
    out
}

fn fmt_bpm(b: f32) -> String {
    let s = format!("{b:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> MatchingSettings {
        MatchingSettings::default()
    }

    #[test]
    fn match_verdicts() {
        let cases = [
            (
                "Bicep - Glue (Extended Mix)",
                "bicep - glue [extended]",
                "same",
            ),
            (
                "Bicep - Glue (Extended Mix)",
                "Bicep - Glue (Radio Edit)",
                "review",
            ),
            ("Bicep - Glue", "Bicep - Apricots", "different"),
            ("Kölsch - Grey", "Kolsch - Grey (Original Mix)", "same"),
        ];
        for (a, b, want) in cases {
            let e = explain_match(a, b, &m()).unwrap();
            assert_eq!(e.verdict, want, "{a} / {b}: {:#?}", e.score);
            let text = render_match(&e);
            assert!(text.contains(&format!("verdict: {want}")), "{text}");
            let j = serde_json::to_value(&e).unwrap();
            assert_eq!(j["verdict"], want);
            assert!(
                j["score"]["breakdown"]
                    .as_array()
                    .is_some_and(|b| !b.is_empty())
            );
        }
        let e = explain_match(
            "Bicep - Glue (Extended Mix)",
            "Bicep - Glue (Radio Edit)",
            &m(),
        )
        .unwrap();
        let text = render_match(&e);
        assert!(text.contains("different mix"), "{text}");
        assert!(text.contains("≠"), "{text}");
    }

    #[test]
    fn bad_track_arguments_name_the_input() {
        for bad in ["", "   ", "Glue", "Bicep - Glue\nFour Tet - Baby"] {
            let err = explain_match(bad, "Bicep - Glue", &m()).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("cannot read '{bad}'")),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn keys() {
        let e = explain_key("Abm", None, &m()).unwrap();
        let text = render_key(&e, false);
        assert!(
            text.contains("camelot    1A  (written to tags and Rekordbox)"),
            "{text}"
        );
        assert!(text.contains("open_key   6m"), "{text}");
        assert!(text.contains("key 8, mode 0"), "{text}");
        let j = key_json(&e);
        assert_eq!(j["notations"]["standard"], "G# minor");
        assert_eq!(j["notations"]["rekordbox"], "Abm");
        let one = explain_key("8A", Some("standard"), &m()).unwrap();
        assert_eq!(render_key(&one, true), "A minor\n");
        for bad in ["", "Z major", "13A"] {
            let err = explain_key(bad, None, &m()).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("cannot read the key '{bad}'")),
                "{err}"
            );
        }
        let err = explain_key("8A", Some("lydian"), &m())
            .unwrap_err()
            .to_string();
        assert!(err.contains("'lydian'"), "{err}");
    }

    #[test]
    fn bpms() {
        let e = explain_bpm(&["70".into()], Some("Dubstep"), &m()).unwrap();
        assert_eq!(
            (e.bpm, e.rekordbox, e.alternative),
            (140.0, 14000, Some(70.0))
        );
        let text = render_bpm(&e);
        assert!(text.contains("genre range: dubstep 135-150"), "{text}");
        assert!(text.contains("doubled"), "{text}");
        let e = explain_bpm(
            &["spotify=140".into(), "beatport=70".into()],
            Some("hip-hop"),
            &m(),
        )
        .unwrap();
        assert_eq!((e.bpm, e.source.as_str()), (70.0, "beatport"));
        let e = explain_bpm(&["128".into()], Some("polka"), &m()).unwrap();
        assert!(
            e.why
                .contains("no BPM range is configured for genre 'polka'"),
            "{}",
            e.why
        );
        for bad in ["-5", "0", "fast", "999", "NaN", "beatport=-1"] {
            let err = explain_bpm(&[bad.to_string()], None, &m())
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("cannot use the BPM '{bad}'")),
                "{err}"
            );
        }
    }
}
