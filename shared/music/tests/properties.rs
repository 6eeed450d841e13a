//! Property tests: the invariants the rest of cratedigger relies on, checked on generated
//! input rather than a handful of examples.

use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
use cratedigger_music::matching::{token_set_ratio, token_sort_ratio};
use cratedigger_music::{
    AudioFormat, AudioQuality, Key, KeyNotation, MatchWeights, Thresholds, dedup_key,
    normalize_isrc, normalize_text, parse_title, score,
};
use proptest::prelude::*;

/// Words that are not mix words, feat markers or artist separators, so a generated title or
/// artist means what the test thinks it means.
const WORDS: &[&str] = &[
    "glue",
    "strobe",
    "grey",
    "archipel",
    "tonight",
    "sun",
    "moon",
    "opus",
    "innerbloom",
    "atlas",
    "cola",
    "promesses",
    "nightcall",
    "lux",
    "aether",
    "rivers",
    "sable",
    "amber",
    "crush",
    "delta",
    "echoes",
    "fragments",
    "gravity",
    "halo",
    "island",
    "jupiter",
    "kodama",
    "lumen",
    "marea",
    "nova",
    "orbit",
    "prism",
    "quartz",
    "ritual",
    "solace",
    "tundra",
];

const MIXES: &[&str] = &[
    "Extended Mix",
    "Radio Edit",
    "Dub",
    "VIP",
    "Club Mix",
    "Instrumental",
    "Bicep Remix",
    "Joris Voorn Remix",
    "Live",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn phrase(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..=max).prop_map(|w| w.join(" "))
}

fn capitalise(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds Latin diacritics that transliterate back to the plain letter.
fn accent(s: &str, seed: u8) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if (i as u8).wrapping_add(seed) % 2 == 1 {
                return c;
            }
            match c {
                'a' => 'á',
                'e' => 'é',
                'i' => 'í',
                'o' => 'ö',
                'u' => 'ü',
                'c' => 'ç',
                'n' => 'ñ',
                other => other,
            }
        })
        .collect()
}

fn any_key() -> impl Strategy<Value = Key> {
    (0u8..12, any::<bool>()).prop_map(|(pc, minor)| Key::new(pc, minor).expect("pc < 12"))
}

fn wanted(artist: &str, title: &str) -> WantedTrack {
    WantedTrack {
        artist: artist.into(),
        title: title.into(),
        ..Default::default()
    }
}

fn cand(artist: &str, title: &str) -> PlatformTrack {
    PlatformTrack {
        platform: "p".into(),
        title: title.into(),
        artists: vec![ArtistCredit {
            name: artist.into(),
            role: ArtistRole::Main,
        }],
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every key written in any notation parses back to itself, and a chain of conversions
    /// through two notations loses nothing.
    #[test]
    fn key_round_trips_through_every_notation(k in any_key(), i in 0usize..5, j in 0usize..5) {
        for n in KeyNotation::ALL {
            prop_assert_eq!(Key::parse(&k.format(n)), Ok(k), "{:?} in {}", k, n);
        }
        let (a, b) = (KeyNotation::ALL[i], KeyNotation::ALL[j]);
        let via_a = Key::parse(&k.format(a)).expect("parses");
        let via_b = Key::parse(&via_a.format(b)).expect("parses");
        prop_assert_eq!(via_b, k);
        let (p, m) = k.spotify();
        prop_assert_eq!(Key::from_spotify(p, m), Some(k));
        prop_assert_eq!(Key::from_traktor(i32::from(k.traktor())), Some(k));
    }

    /// Parsing arbitrary text never panics; whatever parses round-trips.
    #[test]
    fn key_parse_is_total(s in "\\PC{0,24}") {
        if let Ok(k) = Key::parse(&s) {
            for n in KeyNotation::ALL {
                prop_assert_eq!(Key::parse(&k.format(n)), Ok(k));
            }
        }
    }

    /// Normalisation is idempotent on any text, including scripts we do not transliterate.
    #[test]
    fn normalize_is_idempotent(s in "\\PC{0,64}") {
        let once = normalize_text(&s);
        // (a regression: "𑓐\u{1e026}'\u{ec8}" reordered its marks on a second pass)
        let marks = normalize_text("\u{114d0}\u{1e026}'\u{ec8}");
        prop_assert_eq!(normalize_text(&marks), marks);
        prop_assert_eq!(normalize_text(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
    }

    /// The dedup key does not change with case, Latin diacritics, bracket style, where the
    /// mix is written, or an explicit "Original Mix".
    #[test]
    fn dedup_key_stable_under_spelling(
        artist in phrase(2),
        title in phrase(3),
        mix in prop::option::of(prop::sample::select(MIXES)),
        seed in any::<u8>(),
    ) {
        let a = capitalise(&artist);
        let t = capitalise(&title);
        let base = dedup_key(&a, &t, mix);
        let variants: Vec<(String, String, Option<String>)> = match mix {
            Some(m) => vec![
                (a.to_uppercase(), format!("{t} ({m})"), None),
                (a.to_lowercase(), format!("{t} [{m}]"), None),
                (accent(&a, seed), format!("{} - {m}", accent(&t, seed)), None),
                (a.clone(), t.to_lowercase(), Some(m.to_uppercase())),
                (a.clone(), format!("{t} {{{m}}}"), None),
            ],
            None => vec![
                (a.to_uppercase(), format!("{t} (Original Mix)"), None),
                (a.to_lowercase(), format!("{t} [Original Mix]"), None),
                (accent(&a, seed), format!("{} - Original Mix", accent(&t, seed)), None),
                (a.clone(), t.to_uppercase(), Some("Original".to_string())),
                (format!("  {a} "), format!(" {t}  "), None),
            ],
        };
        for (va, vt, vm) in variants {
            prop_assert_eq!(dedup_key(&va, &vt, vm.as_deref()), base.clone(), "{} - {} {:?}", va, vt, vm);
        }
        // ... and a different mix is a different key.
        if let Some(m) = mix {
            prop_assert_ne!(dedup_key(&a, &t, None), base.clone(), "{}", m);
        }
    }

    /// Title parsing finds nothing more in a title it already parsed.
    #[test]
    fn parse_title_is_stable(title in phrase(3), mix in prop::option::of(prop::sample::select(MIXES))) {
        let t = capitalise(&title);
        let full = match mix {
            Some(m) => format!("{t} ({m})"),
            None => t.clone(),
        };
        let p = parse_title(&full);
        prop_assert_eq!(&p.title, &t);
        prop_assert_eq!(p.mix.as_deref(), mix);
        let again = parse_title(&p.title);
        prop_assert_eq!(again.title, p.title);
        prop_assert_eq!(again.mix, None);
    }

    /// Comparing A with B scores the same as B with A when only names are known: the
    /// similarity measures are symmetric, so the verdict cannot depend on which side is the
    /// playlist and which the platform.
    #[test]
    fn scoring_is_symmetric(
        a1 in phrase(2), a2 in phrase(2),
        t1 in phrase(3), t2 in phrase(3),
        m1 in prop::option::of(prop::sample::select(MIXES)),
        m2 in prop::option::of(prop::sample::select(MIXES)),
    ) {
        let (w, th) = (MatchWeights::default(), Thresholds::default());
        let title = |t: &str, m: Option<&str>| match m {
            Some(m) => format!("{t} ({m})"),
            None => t.to_string(),
        };
        let x = score(&wanted(&a1, &title(&t1, m1)), &cand(&a2, &title(&t2, m2)), &w, &th);
        let y = score(&wanted(&a2, &title(&t2, m2)), &cand(&a1, &title(&t1, m1)), &w, &th);
        prop_assert!((x.total - y.total).abs() < 1e-5, "{:?} vs {:?}", x, y);
        prop_assert_eq!(x.verdict, y.verdict);
        prop_assert!((token_set_ratio(&t1, &t2) - token_set_ratio(&t2, &t1)).abs() < 1e-6);
        prop_assert!((token_sort_ratio(&t1, &t2) - token_sort_ratio(&t2, &t1)).abs() < 1e-6);
        // A track always matches itself.
        let s = score(&wanted(&a1, &title(&t1, m1)), &cand(&a1, &title(&t1, m1)), &w, &th);
        prop_assert!((s.total - 1.0).abs() < 1e-6);
    }

    /// Hyphens and spaces anywhere in a valid ISRC do not change it.
    #[test]
    fn isrc_separators_are_ignored(
        cc in "[A-Z]{2}", reg in "[A-Z0-9]{3}", year in "[0-9]{2}", num in "[0-9]{5}",
        cuts in prop::collection::vec(0usize..12, 0..4),
    ) {
        let canon = format!("{cc}{reg}{year}{num}");
        let mut spaced = String::new();
        for (i, c) in canon.chars().enumerate() {
            if cuts.contains(&i) && i > 0 {
                spaced.push('-');
            }
            spaced.push(c);
        }
        prop_assert_eq!(normalize_isrc(&spaced), Some(canon.clone()));
        prop_assert_eq!(normalize_isrc(&spaced.to_lowercase()), Some(canon));
    }

    /// Quality ordering is a total order consistent with equality.
    #[test]
    fn quality_order_is_total(a in 0usize..9, b in 0usize..9, ka in 32u32..400, kb in 32u32..400) {
        let fmts = [
            AudioFormat::Flac, AudioFormat::Alac, AudioFormat::Wav, AudioFormat::Aiff,
            AudioFormat::Mp3, AudioFormat::Aac, AudioFormat::Vorbis, AudioFormat::Opus,
            AudioFormat::Wma,
        ];
        let q = |f: AudioFormat, k: u32| if f.is_lossless() {
            AudioQuality::lossless(f, 16, 44_100)
        } else {
            AudioQuality::lossy(f, k)
        };
        let (x, y) = (q(fmts[a], ka), q(fmts[b], kb));
        prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        prop_assert_eq!(x.cmp(&y) == std::cmp::Ordering::Equal, x == y);
        if x.format.is_lossless() && !y.format.is_lossless() {
            prop_assert!(x > y);
        }
    }
}
