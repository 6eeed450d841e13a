//! Field-by-field merge of the platform records that describe one recording.
//!
//! Why: platforms disagree (Beatport says 128 BPM, another service 64; one label is spelled
//! two ways; a key arrives as `Abm` from one and `4A` from another). The consolidator must
//! store one value per field, chosen by a precedence the user can configure per field, and
//! keep **who said what**: every field records its source and the other readings, and every
//! disagreement is listed as a conflict, so a person can check the choice. A value that
//! cannot be read (an unknown key, an absurd BPM, a malformed ISRC) is never guessed: the
//! reading is dropped with a review flag naming the input, and the field stays empty when
//! no other source has a usable value.

use crate::bpm::{self, GenreRange, is_half_double, rekordbox_bpm, resolve_bpm};
use crate::ids::{normalize_catalog, validate_isrc};
use crate::key::{Key, KeyNotation};
use crate::normalize::{artist_key, mix_key, normalize_text, parse_title};
use cratedigger_domain::PlatformTrack;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Durations closer than this (ms) are the same length (platforms round differently).
const DURATION_AGREE_MS: u32 = 3_000;

/// How the merge chooses between sources; borrowed from the settings so a job allocates
/// nothing to build it.
#[derive(Debug, Clone, Copy)]
pub struct MergePolicy<'a> {
    /// Default platform order for every field (first wins).
    pub precedence: &'a [String],
    /// Per-field platform order (`"key" → ["beatport", ...]`); a field missing here, or
    /// with an empty list, uses `precedence`.
    pub field_precedence: &'a BTreeMap<String, Vec<String>>,
    /// Platform order for BPM (Beatport first for electronic music).
    pub bpm_precedence: &'a [String],
    /// Usual tempo range per genre, for half/double-time decisions.
    pub genre_ranges: &'a [GenreRange],
    /// The key notation written to tags and Rekordbox.
    pub key_notation: KeyNotation,
}

impl MergePolicy<'_> {
    /// The platform order used for `field`: its own list (BPM: `bpm_precedence`), then the
    /// default `precedence` for platforms the list does not name.
    pub fn order_for(&self, field: &str) -> Vec<String> {
        let own: &[String] = if field == "bpm" {
            self.bpm_precedence
        } else {
            self.field_precedence
                .get(field)
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        let mut order: Vec<String> = Vec::with_capacity(own.len() + self.precedence.len());
        for p in own.iter().chain(self.precedence.iter()) {
            if !order.iter().any(|o| o.eq_ignore_ascii_case(p)) {
                order.push(p.clone());
            }
        }
        order
    }
}

/// One source's value for a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Platform id.
    pub source: String,
    /// The value as that platform gave it (display form).
    pub value: String,
}

/// Where a stored field came from and what the other sources said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldOrigin {
    /// The value stored.
    pub value: String,
    /// The platform that gave it.
    pub source: String,
    /// Every other source's reading, agreeing or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<Reading>,
}

/// A field on which sources disagree, with how it was settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// Field name (`"bpm"`, `"label"`, ...).
    pub field: String,
    /// The reading stored.
    pub chosen: Reading,
    /// The readings that disagree with it.
    pub others: Vec<Reading>,
    /// How it was settled ("precedence: beatport before deezer", "half/double time ...").
    pub resolution: String,
}

/// A reading that could not be used, so a person can look at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewFlag {
    /// Field name.
    pub field: String,
    /// The platform that sent it.
    pub source: String,
    /// The input as received.
    pub input: String,
    /// Why it was refused (the typed error's sentence).
    pub problem: String,
    /// True when no other source filled the field, so it is stored empty.
    pub left_empty: bool,
}

/// The key chosen for the track, in every form the rest of the system needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyChoice {
    /// The parsed key.
    pub key: Key,
    /// Platform that gave it.
    pub source: String,
    /// Canonical spelling stored in the `key` column (standard notation, `A minor`).
    pub standard: String,
    /// The notation the user writes to tags and Rekordbox.
    pub notation: KeyNotation,
    /// The key in that notation (`8A`).
    pub display: String,
    /// Camelot code, for harmonic-mixing queries.
    pub camelot: String,
    /// Open Key code.
    pub open_key: String,
}

impl KeyChoice {
    /// Every derived spelling of `key` for `notation`.
    pub fn new(key: Key, source: &str, notation: KeyNotation) -> Self {
        KeyChoice {
            key,
            source: source.to_string(),
            standard: key.format(KeyNotation::Standard),
            notation,
            display: key.format(notation),
            camelot: key.camelot(),
            open_key: key.open_key(),
        }
    }
}

/// The BPM chosen for the track and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BpmChoice {
    /// BPM stored.
    pub value: f32,
    /// The same as Rekordbox stores it (BPM x 100).
    pub rekordbox: u32,
    /// Platform whose reading was used.
    pub source: String,
    /// Half/double-time alternative, when seen or derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative: Option<f32>,
    /// Explanation for people.
    pub note: String,
}

/// The merged record: one value per field plus the provenance of every field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MergedTrack {
    /// Main artist(s) as shown, from the accepted record.
    pub artist: String,
    /// Title without mix, from the accepted record.
    pub title: String,
    /// Mix, from the accepted record (`None` = original).
    pub mix: Option<String>,
    /// Canonical ISRC.
    pub isrc: Option<String>,
    /// Release title.
    pub album: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Catalog number as the chosen source wrote it.
    pub catalog_number: Option<String>,
    /// Release date as the chosen source wrote it.
    pub release_date: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Cover art URL.
    pub artwork_url: Option<String>,
    /// Duration in ms.
    pub duration_ms: Option<u32>,
    /// BPM decision.
    pub bpm: Option<BpmChoice>,
    /// Key decision.
    pub key: Option<KeyChoice>,
    /// Per field: value, source and the other readings.
    pub fields: BTreeMap<String, FieldOrigin>,
    /// Disagreements between sources.
    pub conflicts: Vec<Conflict>,
    /// Readings that could not be used.
    pub review: Vec<ReviewFlag>,
}

impl MergedTrack {
    /// True when a field was left empty because its only readings were unusable: a person
    /// should look at the track.
    pub fn needs_review(&self) -> bool {
        self.review.iter().any(|r| r.left_empty)
    }
}

/// How two readings of one field are compared.
#[derive(Clone, Copy)]
enum Compare {
    Text,
    Artist,
    Title,
    Mix,
    Catalog,
    Date,
    Duration,
    Never,
}

fn agree(cmp: Compare, a: &str, b: &str) -> bool {
    match cmp {
        Compare::Text => normalize_text(a) == normalize_text(b),
        Compare::Artist => artist_key(a) == artist_key(b),
        Compare::Title => {
            normalize_text(&parse_title(a).title) == normalize_text(&parse_title(b).title)
        }
        Compare::Mix => mix_key(Some(a)) == mix_key(Some(b)),
        Compare::Catalog => normalize_catalog(a) == normalize_catalog(b),
        Compare::Date => {
            let (a, b) = (a.trim(), b.trim());
            a.starts_with(b) || b.starts_with(a)
        }
        Compare::Duration => match (a.parse::<u32>(), b.parse::<u32>()) {
            (Ok(x), Ok(y)) => x.abs_diff(y) <= DURATION_AGREE_MS,
            _ => a == b,
        },
        Compare::Never => true,
    }
}

/// The group ordered for one field: by the field's platform order, unknown platforms after
/// in input order (the accepted record first).
fn ordered<'a>(group: &[&'a PlatformTrack], order: &[String]) -> Vec<&'a PlatformTrack> {
    let mut g: Vec<(usize, usize, &PlatformTrack)> = group
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let rank = order
                .iter()
                .position(|p| p.trim().eq_ignore_ascii_case(c.platform.trim()))
                .unwrap_or(order.len());
            (rank, i, *c)
        })
        .collect();
    g.sort_by_key(|(rank, i, _)| (*rank, *i));
    g.into_iter().map(|(_, _, c)| c).collect()
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

struct Merger<'p> {
    policy: MergePolicy<'p>,
    out: MergedTrack,
}

impl Merger<'_> {
    /// Records provenance and conflicts for a field whose readings are `readings` (already
    /// in precedence order, first = chosen) and returns the chosen value.
    fn settle(
        &mut self,
        field: &str,
        readings: Vec<Reading>,
        cmp: Compare,
        how: impl Fn(&Reading) -> String,
    ) -> Option<String> {
        let mut it = readings.into_iter();
        let chosen = it.next()?;
        let others: Vec<Reading> = it.collect();
        let disagreeing: Vec<Reading> = others
            .iter()
            .filter(|r| !agree(cmp, &chosen.value, &r.value))
            .cloned()
            .collect();
        if !disagreeing.is_empty() {
            let resolution = how(&chosen);
            self.out.conflicts.push(Conflict {
                field: field.to_string(),
                chosen: chosen.clone(),
                others: disagreeing,
                resolution,
            });
        }
        self.out.fields.insert(
            field.to_string(),
            FieldOrigin {
                value: chosen.value.clone(),
                source: chosen.source.clone(),
                others,
            },
        );
        Some(chosen.value)
    }

    /// A plain text field chosen by its platform order.
    fn text(
        &mut self,
        group: &[&PlatformTrack],
        field: &str,
        cmp: Compare,
        get: impl Fn(&PlatformTrack) -> Option<&str>,
    ) -> Option<String> {
        let order = self.policy.order_for(field);
        let readings: Vec<Reading> = ordered(group, &order)
            .into_iter()
            .filter_map(|c| {
                present(get(c)).map(|v| Reading {
                    source: c.platform.clone(),
                    value: v.to_string(),
                })
            })
            .collect();
        let order_text = order.join(" > ");
        self.settle(field, readings, cmp, |chosen| {
            format!(
                "{} first in the {field} precedence ({order_text})",
                chosen.source
            )
        })
    }

    fn flag(&mut self, field: &str, source: &str, input: &str, problem: String) {
        self.out.review.push(ReviewFlag {
            field: field.to_string(),
            source: source.to_string(),
            input: input.chars().take(200).collect(),
            problem,
            left_empty: false,
        });
    }

    /// Marks this field's flags as "left empty" when no value was stored.
    fn close_flags(&mut self, field: &str, empty: bool) {
        for f in self.out.review.iter_mut().filter(|f| f.field == field) {
            f.left_empty = empty;
        }
    }
}

/// Merges `best` (the accepted record, which gives artist, title and mix) with the records
/// that agree with it. Other fields follow the policy's per-field platform order; BPM goes
/// through [`resolve_bpm`] (precedence, half/double time, genre range) and is also given as
/// Rekordbox stores it; the key is parsed from any notation and given canonically and in the
/// user's notation.
pub fn merge_records(
    best: &PlatformTrack,
    agreeing: &[&PlatformTrack],
    policy: &MergePolicy<'_>,
) -> MergedTrack {
    let mut group: Vec<&PlatformTrack> = vec![best];
    for c in agreeing {
        let same_record = std::ptr::eq(*c, best)
            || group
                .iter()
                .any(|g| g.platform == c.platform && g.platform_id == c.platform_id);
        if !same_record {
            group.push(c);
        }
    }
    let mut m = Merger {
        policy: *policy,
        out: MergedTrack::default(),
    };

    // Identity: the accepted record, with what the others said.
    let parsed = parse_title(&best.title);
    let mix = present(best.mix.as_deref())
        .map(str::to_string)
        .or(parsed.mix.clone());
    let title = if parsed.title.is_empty() {
        best.title.trim().to_string()
    } else {
        parsed.title.clone()
    };
    let artist = best.main_artist();
    let others_of = |get: &dyn Fn(&PlatformTrack) -> String| -> Vec<Reading> {
        group[1..]
            .iter()
            .map(|c| Reading {
                source: c.platform.clone(),
                value: get(c),
            })
            .filter(|r| !r.value.trim().is_empty())
            .collect()
    };
    let title_of = |c: &PlatformTrack| {
        let p = parse_title(&c.title);
        if p.title.is_empty() {
            c.title.clone()
        } else {
            p.title
        }
    };
    let mix_of = |c: &PlatformTrack| {
        present(c.mix.as_deref())
            .map(str::to_string)
            .or(parse_title(&c.title).mix)
            .unwrap_or_default()
    };
    let identity = [
        (
            "artist",
            artist.clone(),
            others_of(&|c| c.main_artist()),
            Compare::Artist,
        ),
        ("title", title.clone(), others_of(&title_of), Compare::Title),
        (
            "mix",
            mix.clone().unwrap_or_default(),
            // Every other record says something about the mix, "" meaning the original.
            group[1..]
                .iter()
                .map(|c| Reading {
                    source: c.platform.clone(),
                    value: mix_of(c),
                })
                .collect(),
            Compare::Mix,
        ),
    ];
    for (field, value, others, cmp) in identity {
        let mut readings = vec![Reading {
            source: best.platform.clone(),
            value,
        }];
        readings.extend(others);
        m.settle(field, readings, cmp, |chosen| {
            format!("taken from the accepted match on {}", chosen.source)
        });
    }
    m.out.artist = artist;
    m.out.title = title;
    m.out.mix = mix;

    // ISRC: only valid ones count; a malformed one is flagged, never stored.
    let isrc_order = m.policy.order_for("isrc");
    let mut isrcs: Vec<Reading> = Vec::new();
    for c in ordered(&group, &isrc_order) {
        if let Some(raw) = present(c.isrc.as_deref()) {
            match validate_isrc(raw) {
                Ok(v) => isrcs.push(Reading {
                    source: c.platform.clone(),
                    value: v,
                }),
                Err(e) => m.flag("isrc", &c.platform, raw, e.to_string()),
            }
        }
    }
    let order_text = isrc_order.join(" > ");
    m.out.isrc = m.settle("isrc", isrcs, Compare::Text, |chosen| {
        format!(
            "{} first in the isrc precedence ({order_text}); a recording can have several ISRCs",
            chosen.source
        )
    });
    let empty = m.out.isrc.is_none();
    m.close_flags("isrc", empty);

    m.out.album = m.text(&group, "album", Compare::Text, |c| {
        c.release_title.as_deref()
    });
    m.out.label = m.text(&group, "label", Compare::Text, |c| c.label.as_deref());
    m.out.catalog_number = m.text(&group, "catalog_number", Compare::Catalog, |c| {
        c.catalog_number.as_deref()
    });
    m.out.release_date = m.text(&group, "release_date", Compare::Date, |c| {
        c.release_date.as_deref()
    });
    m.out.genre = m.text(&group, "genre", Compare::Text, |c| c.genre.as_deref());
    m.out.artwork_url = m.text(&group, "artwork_url", Compare::Never, |c| {
        c.artwork_url.as_deref()
    });

    // Duration: numbers, compared with a tolerance.
    let dur_order = m.policy.order_for("duration_ms");
    let durations: Vec<Reading> = ordered(&group, &dur_order)
        .into_iter()
        .filter_map(|c| {
            c.duration_ms.filter(|d| *d > 0).map(|d| Reading {
                source: c.platform.clone(),
                value: d.to_string(),
            })
        })
        .collect();
    let order_text = dur_order.join(" > ");
    m.out.duration_ms = m
        .settle("duration_ms", durations, Compare::Duration, |chosen| {
            format!(
                "{} first in the duration precedence ({order_text}); readings differ by more than {} s",
                chosen.source,
                DURATION_AGREE_MS / 1000
            )
        })
        .and_then(|d| d.parse().ok());

    merge_bpm(&mut m, &group);
    merge_key(&mut m, &group);
    m.out
}

fn fmt_bpm(b: f32) -> String {
    let s = format!("{b:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn merge_bpm(m: &mut Merger<'_>, group: &[&PlatformTrack]) {
    let mut usable: Vec<(String, f32)> = Vec::new();
    for c in group {
        match c.bpm {
            // Deezer and others write 0 for "unknown": not a reading.
            None => {}
            Some(0.0) => {}
            Some(b) => match bpm::validate_bpm(b) {
                Ok(v) => usable.push((c.platform.clone(), v)),
                Err(e) => m.flag("bpm", &c.platform, &b.to_string(), e.to_string()),
            },
        }
    }
    let order_owned = m.policy.order_for("bpm");
    let order: Vec<&str> = order_owned.iter().map(String::as_str).collect();
    let cands: Vec<(&str, f32)> = usable.iter().map(|(s, b)| (s.as_str(), *b)).collect();
    let genre = m.out.genre.clone();
    let decision = resolve_bpm(&cands, &order, genre.as_deref(), m.policy.genre_ranges);
    m.close_flags("bpm", decision.is_none());
    let Some(d) = decision else {
        return;
    };
    // Provenance: the chosen reading first, then every other one.
    let chosen = Reading {
        source: d.source.clone(),
        value: fmt_bpm(d.bpm),
    };
    let mut others: Vec<Reading> = Vec::new();
    let mut disagreeing: Vec<Reading> = Vec::new();
    let mut skipped_chosen = false;
    for (s, b) in &usable {
        let r = Reading {
            source: s.clone(),
            value: fmt_bpm(*b),
        };
        if !skipped_chosen && *s == d.source && (*b - d.bpm).abs() < 0.005 {
            skipped_chosen = true;
            continue;
        }
        // A reading the decision itself halved or doubled is not a disagreement.
        if *s != d.source && (*b - d.bpm).abs() > 0.02 * b.min(d.bpm) {
            disagreeing.push(r.clone());
        }
        others.push(r);
    }
    if !disagreeing.is_empty() {
        let half_double = disagreeing.iter().all(|r| {
            r.value
                .parse::<f32>()
                .is_ok_and(|b| is_half_double(b, d.bpm))
        });
        m.out.conflicts.push(Conflict {
            field: "bpm".into(),
            chosen: chosen.clone(),
            others: disagreeing,
            resolution: if half_double {
                format!("half/double time: {}", d.note)
            } else {
                d.note.clone()
            },
        });
    }
    m.out.fields.insert(
        "bpm".into(),
        FieldOrigin {
            value: chosen.value,
            source: chosen.source,
            others,
        },
    );
    m.out.bpm = Some(BpmChoice {
        value: d.bpm,
        rekordbox: rekordbox_bpm(d.bpm),
        source: d.source,
        alternative: d.alternative,
        note: d.note,
    });
}

fn merge_key(m: &mut Merger<'_>, group: &[&PlatformTrack]) {
    let order = m.policy.order_for("key");
    let mut parsed: Vec<(Reading, Key)> = Vec::new();
    for c in ordered(group, &order) {
        let Some(raw) = present(c.key.as_deref()) else {
            continue;
        };
        match Key::parse(raw) {
            Ok(k) => parsed.push((
                Reading {
                    source: c.platform.clone(),
                    value: raw.to_string(),
                },
                k,
            )),
            Err(e) => m.flag("key", &c.platform, raw, e.to_string()),
        }
    }
    m.close_flags("key", parsed.is_empty());
    let Some((chosen, key)) = parsed.first().cloned() else {
        return;
    };
    let disagreeing: Vec<Reading> = parsed
        .iter()
        .skip(1)
        .filter(|(_, k)| *k != key)
        .map(|(r, k)| Reading {
            source: r.source.clone(),
            value: format!("{} ({})", r.value, k.format(KeyNotation::Standard)),
        })
        .collect();
    if !disagreeing.is_empty() {
        m.out.conflicts.push(Conflict {
            field: "key".into(),
            chosen: Reading {
                source: chosen.source.clone(),
                value: format!("{} ({})", chosen.value, key.format(KeyNotation::Standard)),
            },
            others: disagreeing,
            resolution: format!(
                "{} first in the key precedence ({})",
                chosen.source,
                order.join(" > ")
            ),
        });
    }
    let choice = KeyChoice::new(key, &chosen.source, m.policy.key_notation);
    m.out.fields.insert(
        "key".into(),
        FieldOrigin {
            value: choice.standard.clone(),
            source: chosen.source.clone(),
            others: parsed.iter().skip(1).map(|(r, _)| r.clone()).collect(),
        },
    );
    m.out.key = Some(choice);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpm::GenreRanges;
    use cratedigger_domain::{ArtistCredit, ArtistRole};

    fn rec(platform: &str, title: &str) -> PlatformTrack {
        PlatformTrack {
            platform: platform.into(),
            platform_id: format!("{platform}-1"),
            title: title.into(),
            artists: vec![ArtistCredit {
                name: "deadmau5".into(),
                role: ArtistRole::Main,
            }],
            ..Default::default()
        }
    }

    struct Owned {
        precedence: Vec<String>,
        fields: BTreeMap<String, Vec<String>>,
        bpm: Vec<String>,
        ranges: GenreRanges,
    }

    impl Owned {
        fn new() -> Self {
            let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            let mut fields = BTreeMap::new();
            fields.insert("key".to_string(), v(&["beatport", "spotify"]));
            fields.insert("label".to_string(), v(&["discogs"]));
            Owned {
                precedence: v(&["musicbrainz", "deezer", "beatport"]),
                fields,
                bpm: v(&["beatport", "spotify", "deezer"]),
                ranges: GenreRanges::default(),
            }
        }
        fn policy(&self, notation: KeyNotation) -> MergePolicy<'_> {
            MergePolicy {
                precedence: &self.precedence,
                field_precedence: &self.fields,
                bpm_precedence: &self.bpm,
                genre_ranges: self.ranges.as_slice(),
                key_notation: notation,
            }
        }
    }

    #[test]
    fn per_field_precedence_with_provenance_and_conflicts() {
        let o = Owned::new();
        let mut mb = rec("musicbrainz", "Strobe (Layton Giordani Extended Remix)");
        mb.label = Some("mau5trap Recordings".into());
        mb.release_date = Some("2023".into());
        mb.key = Some("G# minor".into());
        let mut bp = rec("beatport", "Strobe");
        bp.mix = Some("Layton Giordani Extended Remix".into());
        bp.label = Some("mau5trap".into());
        bp.release_date = Some("2023-05-26".into());
        bp.key = Some("Ab Minor".into());
        bp.bpm = Some(128.0);
        bp.genre = Some("Melodic House & Techno".into());
        let mut dz = rec("deezer", "Strobe (Layton Giordani Extended Remix)");
        dz.bpm = Some(64.0);
        dz.key = Some("4A".into());
        let t = merge_records(&mb, &[&bp, &dz], &o.policy(KeyNotation::Camelot));
        assert_eq!(t.title, "Strobe");
        assert_eq!(t.mix.as_deref(), Some("Layton Giordani Extended Remix"));
        // Label: no discogs reading → the default precedence decides (MusicBrainz first).
        assert_eq!(t.label.as_deref(), Some("mau5trap Recordings"));
        assert_eq!(t.fields["label"].source, "musicbrainz");
        assert_eq!(t.fields["label"].others[0].value, "mau5trap");
        assert!(t.conflicts.iter().any(|c| c.field == "label"));
        // Dates "2023" and "2023-05-26" agree (one is a prefix).
        assert!(!t.conflicts.iter().any(|c| c.field == "release_date"));
        // BPM: Beatport first; Deezer's 64 is half time, kept as alternative.
        let bpm = t.bpm.as_ref().unwrap();
        assert_eq!((bpm.value, bpm.rekordbox), (128.0, 12800));
        assert_eq!(bpm.source, "beatport");
        assert_eq!(bpm.alternative, Some(64.0));
        let c = t.conflicts.iter().find(|c| c.field == "bpm").unwrap();
        assert!(c.resolution.starts_with("half/double time"), "{c:?}");
        // Key: per-field precedence puts Beatport first; all three spellings agree.
        let key = t.key.as_ref().unwrap();
        assert_eq!(key.source, "beatport");
        assert_eq!(key.standard, "G# minor");
        assert_eq!(key.display, "1A");
        assert_eq!(key.camelot, "1A");
        // MusicBrainz's "G# minor" agrees; Deezer's 4A (F minor) is a conflict.
        assert_eq!(t.fields["key"].others.len(), 2);
        let c = t.conflicts.iter().find(|c| c.field == "key").unwrap();
        assert_eq!(c.others.len(), 1);
        assert_eq!(c.others[0].value, "4A (F minor)");
        assert!(t.review.is_empty());
        assert!(!t.needs_review());
        // Identity fields record what the others said, without conflict.
        assert_eq!(t.fields["title"].others.len(), 2);
        assert!(
            !t.conflicts
                .iter()
                .any(|c| c.field == "title" || c.field == "mix")
        );
    }

    #[test]
    fn key_conflict_and_user_notation() {
        let o = Owned::new();
        let mut bp = rec("beatport", "Strobe");
        bp.key = Some("Ab Minor".into());
        let mut sp = rec("spotify", "Strobe");
        sp.key = Some("8A".into());
        let t = merge_records(&sp, &[&bp], &o.policy(KeyNotation::OpenKey));
        let key = t.key.unwrap();
        assert_eq!(
            (key.source.as_str(), key.display.as_str()),
            ("beatport", "6m")
        );
        let c = t.conflicts.iter().find(|c| c.field == "key").unwrap();
        assert_eq!(c.others[0].source, "spotify");
        assert!(c.others[0].value.contains("A minor"), "{c:?}");
    }

    #[test]
    fn unusable_readings_are_flagged_never_stored() {
        let o = Owned::new();
        let mut a = rec("beatport", "Strobe");
        a.key = Some("Z major".into());
        a.bpm = Some(-128.0);
        a.isrc = Some("GB-XX".into());
        let mut b = rec("deezer", "Strobe");
        b.bpm = Some(0.0); // Deezer's "unknown": silently ignored
        b.key = Some("13A".into());
        let t = merge_records(&a, &[&b], &o.policy(KeyNotation::Camelot));
        assert_eq!(t.key, None);
        assert_eq!(t.bpm, None);
        assert_eq!(t.isrc, None);
        assert!(t.needs_review());
        let flags: Vec<(&str, &str, &str)> = t
            .review
            .iter()
            .map(|f| (f.field.as_str(), f.source.as_str(), f.input.as_str()))
            .collect();
        assert!(flags.contains(&("key", "beatport", "Z major")), "{flags:?}");
        assert!(flags.contains(&("key", "deezer", "13A")), "{flags:?}");
        assert!(flags.contains(&("bpm", "beatport", "-128")), "{flags:?}");
        assert!(flags.contains(&("isrc", "beatport", "GB-XX")), "{flags:?}");
        assert!(t.review.iter().all(|f| f.left_empty));
        let key_flag = t.review.iter().find(|f| f.input == "Z major").unwrap();
        assert_eq!(key_flag.problem, "unknown key 'Z major'");
        assert!(!t.fields.contains_key("key"));

        // A usable reading elsewhere fills the field; the bad one stays flagged, not empty.
        let mut c = rec("spotify", "Strobe");
        c.key = Some("Abm".into());
        c.bpm = Some(128.0);
        let t = merge_records(&a, &[&b, &c], &o.policy(KeyNotation::Camelot));
        assert_eq!(t.key.as_ref().map(|k| k.camelot.as_str()), Some("1A"));
        assert_eq!(t.bpm.as_ref().map(|b| b.value), Some(128.0));
        assert!(t.review.iter().any(|f| f.field == "key" && !f.left_empty));
        assert!(t.review.iter().any(|f| f.field == "bpm" && !f.left_empty));
        // The ISRC had no usable reading at all: still empty, still a reason to look.
        assert!(t.review.iter().any(|f| f.field == "isrc" && f.left_empty));
        assert!(t.needs_review());
    }

    #[test]
    fn genre_range_doubles_a_lone_half_time_reading() {
        let o = Owned::new();
        let mut a = rec("spotify", "Scary Monsters");
        a.bpm = Some(70.0);
        a.genre = Some("Dubstep".into());
        let t = merge_records(&a, &[], &o.policy(KeyNotation::Standard));
        let b = t.bpm.unwrap();
        assert_eq!(
            (b.value, b.rekordbox, b.alternative),
            (140.0, 14000, Some(70.0))
        );
        assert!(b.note.contains("doubled"), "{}", b.note);
    }

    #[test]
    fn duplicate_records_of_one_platform_are_counted_once() {
        let o = Owned::new();
        let a = rec("beatport", "Strobe");
        let t = merge_records(&a, &[&a, &a.clone()], &o.policy(KeyNotation::Standard));
        assert!(t.fields["title"].others.is_empty());
    }

    #[test]
    fn json_shape() {
        let o = Owned::new();
        let mut a = rec("beatport", "Strobe");
        a.key = Some("Abm".into());
        let t = merge_records(&a, &[], &o.policy(KeyNotation::Camelot));
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["key"]["display"], "1A");
        assert_eq!(v["key"]["notation"], "camelot");
        assert_eq!(v["fields"]["title"]["source"], "beatport");
        assert!(v["fields"]["title"].get("others").is_none());
    }
}
