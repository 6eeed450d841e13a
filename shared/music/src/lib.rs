//! Music intelligence for cratedigger, kept pure (no I/O) so every worker and the
//! consolidator judge tracks the same way and the rules can be tested exhaustively.
//!
//! - [`normalize`]: text folding, artist splitting, mix parsing and the dedup key that the
//!   Postgres UNIQUE index relies on.
//! - [`ids`]: ISRC validation and catalog-number normalisation.
//! - [`matching`]: weighted, explainable evidence scoring of a candidate against a wanted track.
//! - [`key`]: musical key parsing and conversion between every notation DJs meet.
//! - [`bpm`]: BPM sanity checks, half/double-time resolution and Rekordbox storage form.
//! - [`merge`]: per-field merge of platform records with provenance, conflicts and review
//!   flags (what the consolidator stores).
//! - [`dedup`]: the decision half of the library duplicate check (ISRC, catalog + track,
//!   rescoring of fuzzy candidates).
//! - [`filing`]: library paths from a template and safe names for untrusted peer files.
//! - [`quality`]: audio quality ordering and the duplicate-or-upgrade decision.
//! - [`ranking`]: acquisition candidates filtered, ranked with a breakdown, auto-approved
//!   and grouped into peer folders.

pub mod bpm;
pub mod dedup;
pub mod filing;
pub mod ids;
pub mod key;
pub mod matching;
pub mod merge;
pub mod normalize;
pub mod quality;
pub mod ranking;

pub use bpm::{
    BpmDecision, BpmError, GenreRange, GenreRanges, is_half_double, parse_bpm, rekordbox_bpm,
    resolve_bpm, validate_bpm,
};
pub use dedup::{DuplicateReason, LibraryEntry};
pub use ids::{IdError, normalize_catalog, normalize_isrc, validate_isrc};
pub use key::{Key, KeyError, KeyNotation};
pub use matching::{Evidence, MatchScore, MatchWeights, Thresholds, Verdict, best, score};
pub use merge::{MergePolicy, MergedTrack, merge_records};
pub use normalize::{
    ParsedArtists, ParsedTitle, dedup_key, mix_key, normalize_text, parse_artists, parse_title,
    split_artists,
};
pub use quality::{AudioFormat, AudioQuality, QualityTarget, UpgradeDecision, upgrade_decision};

#[cfg(test)]
mod robustness {
    //! Untrusted input must never panic: a deterministic pseudo-random sweep over nasty
    //! characters through every public entry point, with the invariants that must hold.

    use super::*;

    const ALPHABET: &[&str] = &[
        "a", "B", " ", "(", ")", "[", "]", "{", "}", "-", " - ", "–", "—", "&", "&#9837;",
        "&sharp;", "feat.", " ft ", " x ", " vs. ", ",", "'s", "’", "é", "ß", "東", "न्", "\u{301}",
        "İ", "Remix", "Mix", "Original", "Extended", "#", "b", "m", "8A", "1d", "|", "\u{0}", "😀",
        "0", "9", ".", "/", "\t",
    ];

    fn lcg(state: &mut u64) -> usize {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 33) as usize
    }

    #[test]
    fn no_panics_and_invariants_on_random_input() {
        let mut st = 42u64;
        let (w, t) = (MatchWeights::default(), Thresholds::default());
        for _ in 0..3000 {
            let len = lcg(&mut st) % 24;
            let s: String = (0..len)
                .map(|_| ALPHABET[lcg(&mut st) % ALPHABET.len()])
                .collect();
            let n = normalize_text(&s);
            assert_eq!(normalize_text(&n), n, "idempotent on {s:?}");
            let p = parse_title(&s);
            assert!(
                p.mix
                    .as_deref()
                    .is_none_or(|m| !mix_key(Some(m)).is_empty())
            );
            let _ = parse_artists(&s);
            let k = dedup_key(&s, &s, Some(&s));
            assert_eq!(k.matches('|').count(), 2, "{s:?} -> {k:?}");
            if let Ok(key) = Key::parse(&s) {
                for nt in KeyNotation::ALL {
                    assert_eq!(Key::parse(&key.format(nt)), Ok(key));
                }
            }
            let _ = normalize_isrc(&s);
            let _ = normalize_catalog(&s);
            let wt = cratedigger_domain::WantedTrack {
                artist: s.clone(),
                title: s.clone(),
                ..Default::default()
            };
            let c = cratedigger_domain::PlatformTrack {
                title: s.chars().rev().collect(),
                ..Default::default()
            };
            let sc = score(&wt, &c, &w, &t);
            assert!((0.0..=1.0).contains(&sc.total), "{s:?}: {sc:?}");
        }
        // Long input stays bounded and fast.
        let huge = "Glue (Remix) feat. A & B, ".repeat(50_000);
        let _ = dedup_key(&huge, &huge, None);
        let _ = Key::parse(&huge);
        assert_eq!(resolve_bpm(&[("x", f32::NAN)], &[], Some(&huge), &[]), None);
    }
}
