//! Is this track already in the library? The pure half of the duplicate check.
//!
//! Why: cratedigger must never store one recording twice and never call two mixes the same
//! track. The store finds candidates (same ISRC, same dedup key, same catalog number,
//! trigram-similar artist and title); this module decides, with the same matcher that judges
//! platform candidates, so the rules are one set and can be tested without a database.
//!
//! Catalog numbers: one catalog number names a **release** (an EP, an album), not a track,
//! so it only identifies a track together with its position on the release (`A2`, `3`). Where
//! a position is unknown on either side (the platform records the consolidator has today
//! carry none) the catalog number must be backed by the same title and the same mix.

use crate::ids::{normalize_catalog, normalize_isrc};
use crate::matching::{MatchScore, MatchWeights, Thresholds, Verdict, score};
use crate::normalize::{artist_key, mix_key, normalize_text, parse_title};
use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
use serde::{Deserialize, Serialize};

/// What the duplicate check knows about a track: the new one, or one stored in the library.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LibraryEntry {
    /// Artist(s) as shown.
    pub artist: String,
    /// Title (with or without the mix in brackets).
    pub title: String,
    /// Mix, when given separately.
    pub mix: Option<String>,
    /// ISRC, any spelling.
    pub isrc: Option<String>,
    /// Label catalog number, any spelling.
    pub catalog_number: Option<String>,
    /// Position on the release (`A2`, `3`), when known.
    pub position: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Duration in ms.
    pub duration_ms: Option<u32>,
}

/// Why a stored track is the same recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same ISRC.
    SameIsrc,
    /// Same normalised artist, title and mix.
    SameKey,
    /// Same catalog number and the same track on that release.
    SameCatalogTrack {
        /// Normalised catalog number.
        catalog: String,
        /// How the track on the release was identified.
        by: String,
    },
    /// Close enough after rescoring with the matcher.
    Similar {
        /// Matcher total, 0..1.
        score: f32,
        /// Trigram similarity that found it, 0..1.
        trigram: f32,
    },
}

impl DuplicateReason {
    /// The words shown to the user in "Already in your library as … (<this>)".
    pub fn describe(&self) -> String {
        match self {
            DuplicateReason::SameIsrc => "same ISRC".into(),
            DuplicateReason::SameKey => "same artist, title and mix".into(),
            DuplicateReason::SameCatalogTrack { catalog, by } => {
                format!("same catalog number {catalog}, {by}")
            }
            DuplicateReason::Similar { score, .. } => format!(
                "same artist, title and mix after spelling differences, {:.0} % sure",
                score * 100.0
            ),
        }
    }
}

/// The matcher's view of an entry as the wanted side.
pub fn as_wanted(e: &LibraryEntry) -> WantedTrack {
    WantedTrack {
        artist: e.artist.clone(),
        title: e.title.clone(),
        mix: e.mix.clone(),
        isrc: e.isrc.clone(),
        catalog: e.catalog_number.clone(),
        label: e.label.clone(),
        duration_ms: e.duration_ms,
        album: None,
    }
}

/// The matcher's view of an entry as a candidate.
pub fn as_candidate(e: &LibraryEntry) -> PlatformTrack {
    PlatformTrack {
        platform: "library".into(),
        title: e.title.clone(),
        mix: e.mix.clone(),
        artists: vec![ArtistCredit {
            name: e.artist.clone(),
            role: ArtistRole::Main,
        }],
        isrc: e.isrc.clone(),
        catalog_number: e.catalog_number.clone(),
        label: e.label.clone(),
        duration_ms: e.duration_ms,
        ..Default::default()
    }
}

/// Scores a stored track against the new one with the platform matcher: same weights, same
/// caps (a different mix is never accepted, titles must be close, artists must agree).
pub fn rescore(
    new: &LibraryEntry,
    stored: &LibraryEntry,
    w: &MatchWeights,
    t: &Thresholds,
) -> MatchScore {
    score(&as_wanted(new), &as_candidate(stored), w, t)
}

/// Same ISRC (after normalisation), when both have a valid one.
pub fn same_isrc(a: &LibraryEntry, b: &LibraryEntry) -> bool {
    match (
        a.isrc.as_deref().and_then(normalize_isrc),
        b.isrc.as_deref().and_then(normalize_isrc),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn position_key(p: Option<&str>) -> Option<String> {
    let k: String = p?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_uppercase())
        .collect();
    // "03" and "3" are one position.
    let k = match k.trim_start_matches('0') {
        "" if !k.is_empty() => "0".to_string(),
        t => t.to_string(),
    };
    (!k.is_empty()).then_some(k)
}

/// The catalog number + track rule: equal catalog numbers (normalised, non-empty), then the
/// same position when both know it, else the same normalised title, the same mix and
/// agreeing artists. Returns how the track was identified, or `None`.
pub fn same_catalog_track(new: &LibraryEntry, stored: &LibraryEntry) -> Option<String> {
    let (a, b) = (
        normalize_catalog(new.catalog_number.as_deref().unwrap_or("")),
        normalize_catalog(stored.catalog_number.as_deref().unwrap_or("")),
    );
    if a.is_empty() || a != b {
        return None;
    }
    if let (Some(p), Some(q)) = (
        position_key(new.position.as_deref()),
        position_key(stored.position.as_deref()),
    ) {
        return (p == q).then(|| format!("same position {p}"));
    }
    let (pa, pb) = (parse_title(&new.title), parse_title(&stored.title));
    let mix_a = mix_key(new.mix.as_deref().or(pa.mix.as_deref()));
    let mix_b = mix_key(stored.mix.as_deref().or(pb.mix.as_deref()));
    let same = normalize_text(&pa.title) == normalize_text(&pb.title)
        && !pa.title.trim().is_empty()
        && mix_a == mix_b
        && artists_overlap(&new.artist, &stored.artist);
    same.then(|| "same title and mix on that release".to_string())
}

/// True when the two credits share a main artist (or either names none): one release can
/// hold the same title by two artists (a split EP).
fn artists_overlap(a: &str, b: &str) -> bool {
    let (ka, kb) = (artist_key(a), artist_key(b));
    if ka.is_empty() || kb.is_empty() {
        return true;
    }
    let sa: Vec<&str> = ka.split(',').collect();
    kb.split(',').any(|n| sa.contains(&n))
}

/// The verdict on one stored track found by the fuzzy search: `Some(reason)` when it is the
/// same recording (matcher verdict Accept, which requires the same mix).
pub fn fuzzy_duplicate(
    new: &LibraryEntry,
    stored: &LibraryEntry,
    trigram: f32,
    w: &MatchWeights,
    t: &Thresholds,
) -> (MatchScore, Option<DuplicateReason>) {
    let s = rescore(new, stored, w, t);
    let reason = (s.verdict == Verdict::Accept).then_some(DuplicateReason::Similar {
        score: s.total,
        trigram,
    });
    (s, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(artist: &str, title: &str) -> LibraryEntry {
        LibraryEntry {
            artist: artist.into(),
            title: title.into(),
            ..Default::default()
        }
    }

    #[test]
    fn catalog_alone_is_a_release_not_a_track() {
        let mut a = e("Above & Beyond", "Sun & Moon");
        a.catalog_number = Some("ANJ-CDCO-011D".into());
        let mut b = e("Above & Beyond", "Sun & Moon (Original Mix)");
        b.catalog_number = Some("ANJCDCO011D".into());
        assert_eq!(
            same_catalog_track(&a, &b).as_deref(),
            Some("same title and mix on that release")
        );
        // Same release, other track.
        let mut c = e("Above & Beyond", "Alone Tonight");
        c.catalog_number = Some("ANJCDCO011D".into());
        assert_eq!(same_catalog_track(&a, &c), None);
        // Same release and title, other mix.
        let mut d = e("Above & Beyond", "Sun & Moon (Club Mix)");
        d.catalog_number = Some("ANJCDCO011D".into());
        assert_eq!(same_catalog_track(&a, &d), None);
        // Positions decide when both are known: "A2" = "a-2"; "3" = "03".
        a.position = Some("A2".into());
        c.position = Some("a-2".into());
        assert_eq!(
            same_catalog_track(&a, &c).as_deref(),
            Some("same position A2")
        );
        c.position = Some("B1".into());
        assert_eq!(same_catalog_track(&a, &c), None);
        a.position = Some("03".into());
        c.position = Some("3".into());
        assert!(same_catalog_track(&a, &c).is_some());
        // No catalog number, no rule.
        let (x, y) = (e("A", "T"), e("A", "T"));
        assert_eq!(same_catalog_track(&x, &y), None);
        // A split EP: same catalog number and title, different artist.
        let mut f = e("Bicep", "Glue");
        f.catalog_number = Some("FR001".into());
        let mut g = e("Hammer", "Glue");
        g.catalog_number = Some("FR-001".into());
        assert_eq!(same_catalog_track(&f, &g), None);
    }

    #[test]
    fn fuzzy_requires_the_same_mix_and_close_names() {
        let (w, t) = (MatchWeights::default(), Thresholds::default());
        let new = e("Kölsch", "Grey (Original Mix)");
        let cases = [
            (e("Kolsch", "Grey"), true),
            (e("KOLSCH", "grey"), true),
            (e("Kölsch", "Grey (Extended Mix)"), false),
            (e("Kölsch", "Grey (Radio Edit)"), false),
            (e("Kölsch", "Gray Matter"), false),
            (e("Kollektiv Turmstrasse", "Grey"), false),
        ];
        for (stored, want) in cases {
            let (s, r) = fuzzy_duplicate(&new, &stored, 0.7, &w, &t);
            assert_eq!(r.is_some(), want, "{stored:?}: {s:#?}");
        }
        let (_, r) = fuzzy_duplicate(&new, &e("Kolsch", "Grey"), 0.7, &w, &t);
        assert!(r.unwrap().describe().contains("% sure"));
    }

    #[test]
    fn isrc_equality_ignores_spelling_and_invalid_ids() {
        let mut a = e("A", "T");
        let mut b = e("A", "T");
        a.isrc = Some("GB-AJE-99-00150".into());
        b.isrc = Some("gbaje9900150".into());
        assert!(same_isrc(&a, &b));
        b.isrc = Some("bogus".into());
        assert!(!same_isrc(&a, &b));
        a.isrc = Some("bogus".into());
        assert!(!same_isrc(&a, &b), "two invalid ISRCs are not evidence");
    }

    #[test]
    fn reasons_read_well() {
        assert_eq!(DuplicateReason::SameIsrc.describe(), "same ISRC");
        assert_eq!(
            DuplicateReason::SameCatalogTrack {
                catalog: "OW032".into(),
                by: "same position 2".into()
            }
            .describe(),
            "same catalog number OW032, same position 2"
        );
    }
}
