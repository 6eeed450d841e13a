//! Table tests on real titles, keys, BPMs and catalog numbers from the recorded platform
//! payloads in `../shared/fixtures` (Beatport, Deezer, Spotify, Discogs), read in place.

use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack};
use cratedigger_music::dedup::{LibraryEntry, same_catalog_track};
use cratedigger_music::merge::{MergePolicy, merge_records};
use cratedigger_music::{
    GenreRanges, Key, KeyNotation, dedup_key, mix_key, normalize_catalog, normalize_text,
    parse_artists, parse_title, resolve_bpm,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn fixture(rel: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "fixture not found: looked for {} ({e}); the reference kit must sit beside the repository",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Finds the object with `id` in an array of records.
fn by_id<'a>(records: &'a [Value], id: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["id"].to_string().trim_matches('"') == id)
        .unwrap_or_else(|| panic!("no record with id {id} in the fixture"))
}

/// Beatport v4 track → the record a Beatport scout would report.
fn beatport_v4(t: &Value) -> PlatformTrack {
    PlatformTrack {
        platform: "beatport".into(),
        platform_id: t["id"].to_string(),
        title: s(&t["name"]),
        mix: t["mix_name"].as_str().map(str::to_string),
        artists: t["artists"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| ArtistCredit {
                name: s(&a["name"]),
                role: ArtistRole::Main,
            })
            .collect(),
        isrc: t["isrc"].as_str().map(str::to_string),
        catalog_number: t["catalog_number"].as_str().map(str::to_string),
        label: t["release"]["label"]["name"].as_str().map(str::to_string),
        duration_ms: t["length_ms"].as_u64().and_then(|v| u32::try_from(v).ok()),
        bpm: t["bpm"].as_f64().map(|b| b as f32),
        key: t["key"]["name"].as_str().map(str::to_string),
        genre: t["genre"]["name"].as_str().map(str::to_string),
        ..Default::default()
    }
}

#[test]
fn beatport_v4_titles_mixes_and_remixers() {
    let search = fixture("beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json");
    let tracks = search["tracks"].as_array().expect("tracks");
    // (id, title, mix key, remixers)
    let table: &[(&str, &str, &str, &[&str])] = &[
        (
            "19431036",
            "Strobe",
            "layton giordani extended remix",
            &["Layton Giordani"],
        ),
        ("19797533", "Strobe", "victor ruiz remix", &["Victor Ruiz"]),
        ("7066037", "Strobe", "", &[]), // "Original Mix" = no mix
    ];
    let mut keys = Vec::new();
    for (id, title, mix, remixers) in table {
        let t = by_id(tracks, id);
        let full = format!("{} ({})", s(&t["name"]), s(&t["mix_name"]));
        let p = parse_title(&full);
        assert_eq!(p.title, *title, "{full}");
        assert_eq!(mix_key(p.mix.as_deref()), *mix, "{full}");
        assert_eq!(p.remixers, *remixers, "{full}");
        // The platform's remixer list agrees with what the parser reads from the mix.
        let listed: Vec<String> = t["remixers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| s(&r["name"]))
            .collect();
        assert_eq!(listed, *remixers, "{full}");
        let artist = s(&t["artists"][0]["name"]);
        let key = dedup_key(&artist, &full, None);
        assert_eq!(
            key,
            dedup_key(&artist, &s(&t["name"]), t["mix_name"].as_str()),
            "mix in brackets or separate: one key"
        );
        keys.push(key);
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3, "three mixes of Strobe are three records");
}

#[test]
fn beatport_v3_titles_and_keys() {
    let archipel = fixture("beatport/v3_catalog_search_q-archipel.json");
    let tonight = fixture("beatport/v3_catalog_tracks_id-1217790.json");
    let mut records: Vec<Value> = archipel["results"].as_array().expect("results").clone();
    records.extend(
        tonight["results"]
            .as_array()
            .expect("results")
            .iter()
            .cloned(),
    );
    let mut checked = 0;
    for r in records.iter().filter(|r| r["type"] == "track") {
        // v3 gives the full title and the parts: the parser must agree with the parts.
        let full = s(&r["title"]);
        let p = parse_title(&full);
        assert_eq!(
            normalize_text(&p.title),
            normalize_text(&s(&r["name"])),
            "{full}"
        );
        assert_eq!(
            mix_key(p.mix.as_deref()),
            mix_key(r["mixName"].as_str()),
            "{full}"
        );
        let remixers: Vec<String> = r["artists"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["type"] == "remixer")
            .map(|a| normalize_text(&s(&a["name"])))
            .collect();
        // Where the remixer is named in the mix ("Nils Nilson's Lost Archipel Remix") the
        // parser must find exactly the platform's remixer. A mix that does not name them
        // ("Lost Archipel Remix", same remixer) cannot be read from text: the parser then
        // reads the words before "Remix", which is why platform roles win when given.
        let mix_text = normalize_text(r["mixName"].as_str().unwrap_or_default());
        let parsed: Vec<String> = p.remixers.iter().map(|x| normalize_text(x)).collect();
        if !remixers.is_empty() && remixers.iter().all(|n| mix_text.contains(n.as_str())) {
            assert_eq!(parsed, remixers, "{full}");
        }
        if let Some(short) = r["key"]["shortName"].as_str() {
            assert!(Key::parse(short).is_ok(), "{short}");
        }
        checked += 1;
    }
    assert!(
        checked >= 6,
        "expected the fixture's tracks, checked {checked}"
    );
    // The original and the remix of Archipel are different records; the original's
    // "(Original Mix)" is no mix at all.
    let track = |id: &str| by_id(&records, id).clone();
    let original = track("1435377");
    let remix = track("4167691");
    let artist = "Oliver Schories";
    assert_eq!(
        dedup_key(artist, &s(&original["title"]), None),
        dedup_key(artist, "Archipel", None)
    );
    assert_ne!(
        dedup_key(artist, &s(&original["title"]), None),
        dedup_key(artist, &s(&remix["title"]), None)
    );
}

#[test]
fn deezer_title_version_agrees_with_the_parser() {
    let mut checked_versions = 0;
    let mut checked = 0;
    for rel in [
        "deezer/playlist_908622995.json",
        "deezer/playlist_9200461_tracks.json",
        "deezer/search_q-soliloquy.json",
        "deezer/search_q-billy-jean_limit-2.json",
        "deezer/track_3135556.json",
        "deezer/track_2947516331.json",
        "deezer/album_302127.json",
    ] {
        let json = fixture(rel);
        let list: Vec<Value> = if let Some(d) = json["data"].as_array() {
            d.clone()
        } else if let Some(d) = json["tracks"]["data"].as_array() {
            d.clone()
        } else {
            vec![json.clone()]
        };
        for t in list {
            let title = s(&t["title"]);
            let p = parse_title(&title);
            let version = s(&t["title_version"]);
            let version = version.trim().trim_start_matches('(').trim_end_matches(')');
            // Deezer's own split: title_short + title_version.
            // (title_short keeps a "(feat. X)" credit, which the parser moves to `featured`.)
            if let Some(short) = t["title_short"].as_str() {
                assert_eq!(
                    normalize_text(&p.title),
                    normalize_text(&parse_title(short).title),
                    "{rel}: {title}"
                );
            }
            assert_eq!(
                mix_key(p.mix.as_deref()),
                mix_key(Some(version)),
                "{rel}: {title} (version {version:?})"
            );
            if !version.is_empty() {
                checked_versions += 1;
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "checked {checked}");
    assert!(
        checked_versions >= 5,
        "checked {checked_versions} versioned titles"
    );
    // Named examples: a remaster is the same recording, a single version is not the album one.
    assert_eq!(
        dedup_key("Erroll Garner", "Soliloquy (Remastered)", None),
        dedup_key("Erroll Garner", "Soliloquy", None)
    );
    assert_eq!(
        mix_key(
            parse_title("Somebody's Love (Single Version)")
                .mix
                .as_deref()
        ),
        "radio edit"
    );
    assert_eq!(
        parse_title("My Way (Acoustic Live Lounge)").mix.as_deref(),
        Some("Acoustic Live Lounge")
    );
}

#[test]
fn spotify_titles() {
    let search = fixture("spotify/search_type-track_q-test_limit-10.json");
    let album = fixture("spotify/album_32nryzA6XBCX9ZUspVc1yz_tracks_offset-50.json");
    let mut records: Vec<Value> = search["tracks"]["items"].as_array().expect("items").clone();
    records.extend(album["items"].as_array().expect("items").iter().cloned());
    // (id, title, mix, featured)
    let table: &[(&str, &str, Option<&str>, &[&str])] = &[
        (
            "2QTDuJIGKUjR7E2Q6KupIh",
            "Test Drive",
            None, // " - From How To Train Your Dragon ..." is a packaging note
            &[],
        ),
        (
            "3FijoNKGof7pCn7oddecOQ",
            "Test & Recognise",
            Some("Flume Re-work"),
            &[],
        ),
        (
            "7ycWLEP1GsNjVvcjawXz3z",
            "Praise The Lord (Da Shine)",
            None,
            &["Skepta"],
        ),
        ("3u9RHP8IpKPZh7bKHw83Ci", "TEST DRIVE", None, &[]),
        (
            "4kZb8F049e7e12yfjiReM2",
            "Honky Tonk Women",
            Some("Mono Version"),
            &[],
        ),
        (
            "0sQk0J0h6pKSGilNhzTMPp",
            "Born To Be Wild",
            Some("Single Version"),
            &[],
        ),
        ("7qr3YdKMUGaTfCNXnH09Zn", "Every Breath You Take", None, &[]),
    ];
    for (id, title, mix, featured) in table {
        let name = s(&by_id(&records, id)["name"]);
        let p = parse_title(&name);
        assert_eq!(p.title, *title, "{name}");
        assert_eq!(p.mix.as_deref(), *mix, "{name}");
        assert_eq!(p.featured, *featured, "{name}");
    }
    // A re-work credits its remixer; the remixer is also listed as an artist by Spotify.
    let rework = parse_title("Test & Recognise (Flume Re-work)");
    assert_eq!(rework.remixers, ["Flume"]);
    assert_eq!(
        mix_key(rework.mix.as_deref()),
        mix_key(Some("Flume Rework"))
    );
    // "TEST DRIVE" (Joji) and "test drive" (Ariana Grande): one normalised title, two artists.
    assert_ne!(
        dedup_key("Joji", "TEST DRIVE", None),
        dedup_key("Ariana Grande", "test drive", None)
    );
}

#[test]
fn discogs_titles_artists_and_catalogs() {
    let rick = fixture("discogs/release_1503102.json");
    let tracks = rick["tracklist"].as_array().expect("tracklist");
    let mixes: Vec<String> = tracks
        .iter()
        .map(|t| mix_key(parse_title(&s(&t["title"])).mix.as_deref()))
        .collect();
    assert_eq!(mixes, ["cake mix", "instrumental", ""]);
    let keys: std::collections::HashSet<String> = tracks
        .iter()
        .map(|t| dedup_key("Rick Astley", &s(&t["title"]), None))
        .collect();
    assert_eq!(keys.len(), 3, "three sides, three records");
    let catnos: Vec<String> = rick["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| normalize_catalog(&s(&l["catno"])))
        .collect();
    assert_eq!(catnos, ["TDS407"]);
    let ost = fixture("discogs/release_16004480.json");
    let catnos: Vec<String> = ost["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| normalize_catalog(&s(&l["catno"])))
        .collect();
    assert_eq!(catnos, ["7599272562", "9272562"]);

    let master = fixture("discogs/master_33687.json");
    let titles: Vec<(String, Option<String>)> = master["tracklist"]
        .as_array()
        .expect("tracklist")
        .iter()
        .map(|t| {
            let p = parse_title(&s(&t["title"]));
            (p.title, p.mix)
        })
        .collect();
    assert_eq!(
        titles,
        [
            (
                "O Fortuna".to_string(),
                Some("Apocalypse Chorus Mix".to_string())
            ),
            (
                "An Other Thing".to_string(),
                Some("Metropoll Sky UnderMix".to_string())
            ),
        ]
    );

    // Discogs search titles are "Artist - Title" with Discogs' own artist conventions.
    let search = fixture("discogs/database_search_q-prodigy_type-release_page-1.json");
    let results = search["results"].as_array().expect("results");
    let artists_of = |title: &str| -> Vec<String> {
        let artist = title.split(" - ").next().unwrap_or_default();
        parse_artists(artist).main
    };
    let titles: Vec<String> = results.iter().map(|r| s(&r["title"])).collect();
    let find = |needle: &str| {
        titles
            .iter()
            .find(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("no title containing {needle}"))
            .clone()
    };
    assert_eq!(artists_of(&find("Everybody In The Place")), ["the prodigy"]);
    assert_eq!(
        artists_of(&find("ZXX & Jon Kennedy")),
        ["zxx", "jon kennedy"]
    );
    assert_eq!(artists_of(&find("Michael Cross")), ["michael cross"]);
    let white_limo = find("White Limo");
    let song = white_limo.split(" - ").nth(1).unwrap_or_default();
    let p = parse_title(song);
    assert_eq!(p.remixers, ["The Prodigy"]);
    assert_eq!(p.title, "White Limo");
}

#[test]
fn catalog_and_position_from_beatport_v4() {
    // Beatport v4 gives catalog_number and the position on the release ("number").
    let track = fixture("beatport/v4_catalog_track_19431036.json");
    let entry = |title: &str, position: Option<String>| LibraryEntry {
        artist: s(&track["artists"][0]["name"]),
        title: title.to_string(),
        catalog_number: track["catalog_number"].as_str().map(str::to_string),
        position,
        ..Default::default()
    };
    let pos = track["number"].as_u64().map(|n| n.to_string());
    let full = format!("{} ({})", s(&track["name"]), s(&track["mix_name"]));
    let a = entry(&full, pos.clone());
    // The same track, catalog number spelled with hyphens, position known on both sides.
    let mut b = entry("Strobe", pos);
    b.catalog_number = Some("mau5-0610-bp1".into());
    assert_eq!(
        same_catalog_track(&a, &b).as_deref(),
        Some("same position 1")
    );
    // Position unknown on one side: title and mix decide.
    let c = entry(&full, None);
    assert!(same_catalog_track(&a, &c).is_some());
    let d = entry("Strobe (Victor Ruiz Remix)", None);
    assert_eq!(same_catalog_track(&a, &d), None);
}

#[test]
fn bpm_from_fixtures() {
    let ranges = GenreRanges::default();
    let prec = ["beatport", "spotify", "deezer"];
    // Beatport v4: every BPM is already in its genre's range and is kept as given.
    let search = fixture("beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json");
    for t in search["tracks"].as_array().expect("tracks") {
        let bpm = t["bpm"].as_f64().expect("bpm") as f32;
        let genre = s(&t["genre"]["name"]);
        let d = resolve_bpm(&[("beatport", bpm)], &prec, Some(&genre), ranges.as_slice())
            .expect("a decision");
        assert_eq!((d.bpm, d.alternative), (bpm, None), "{genre}: {}", d.note);
    }
    // Deezer: 123 for a Dance track (no range known: kept), 0 means unknown.
    let hbfs = fixture("deezer/track_3135556.json");
    let bpm = hbfs["bpm"].as_f64().expect("bpm") as f32;
    let d = resolve_bpm(&[("deezer", bpm)], &prec, Some("Dance"), ranges.as_slice()).unwrap();
    assert_eq!(d.bpm, 123.0);
    let smile = fixture("deezer/track_2947516331.json");
    let zero = smile["bpm"].as_f64().expect("bpm") as f32;
    assert_eq!(zero, 0.0);
    assert_eq!(
        resolve_bpm(&[("deezer", zero)], &prec, None, ranges.as_slice()),
        None
    );
    // Spotify audio-features tempos are plausible readings and resolve as given.
    let feats = fixture("spotify/audio_features_several_docs-example.json");
    for f in feats["audio_features"].as_array().expect("audio_features") {
        let tempo = f["tempo"].as_f64().expect("tempo") as f32;
        let d = resolve_bpm(&[("spotify", tempo)], &prec, None, ranges.as_slice()).unwrap();
        assert_eq!(d.bpm, tempo);
        assert_eq!(
            cratedigger_music::rekordbox_bpm(tempo),
            (tempo * 100.0).round() as u32
        );
    }
}

#[test]
fn merge_of_two_beatport_records_of_one_recording() {
    let search = fixture("beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json");
    let track = fixture("beatport/v4_catalog_track_19431036.json");
    let from_search = beatport_v4(by_id(
        search["tracks"].as_array().expect("tracks"),
        "19431036",
    ));
    let mut from_lookup = beatport_v4(&track);
    // Two records of the same recording (same ISRC): give the second another id so the
    // merge counts it as a second reading.
    from_lookup.platform_id = "lookup".into();
    let precedence = vec!["beatport".to_string()];
    let fields = BTreeMap::new();
    let ranges = GenreRanges::default();
    let policy = MergePolicy {
        precedence: &precedence,
        field_precedence: &fields,
        bpm_precedence: &precedence,
        genre_ranges: ranges.as_slice(),
        key_notation: KeyNotation::Camelot,
    };
    let m = merge_records(&from_search, &[&from_lookup], &policy);
    assert!(m.conflicts.is_empty(), "{:#?}", m.conflicts);
    assert!(m.review.is_empty());
    assert_eq!(m.isrc.as_deref(), Some("GBTDG1302861"));
    let key = m.key.expect("key");
    let code = format!(
        "{}{}",
        track["key"]["camelot_number"],
        s(&track["key"]["camelot_letter"])
    );
    assert_eq!(key.display, code, "stored in the user's notation (Camelot)");
    assert_eq!(key.standard, "G# minor");
    let bpm = m.bpm.expect("bpm");
    assert_eq!(bpm.rekordbox, 12800);
    assert_eq!(m.fields["bpm"].others.len(), 1);
}
