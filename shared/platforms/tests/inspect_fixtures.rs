//! `inspect` on the real recorded payloads of every platform, read in place from
//! `../shared/fixtures`: the records it prints are what the scouts would have mapped.

mod support;

use cratedigger_domain::ArtistRole;
use cratedigger_platforms::inspect::{InspectError, Inspected, inspect};
use support::fixture;

fn run(platform: &str, kind: &str, file: &str) -> Inspected {
    inspect(platform, kind, &fixture(file))
        .unwrap_or_else(|e| panic!("inspect {platform} {kind} {file}: {e}"))
}

#[test]
fn spotify_kinds() {
    let t = run(
        "spotify",
        "track",
        "spotify/track_04zxGiXcmNQ0m9oDXtwo18.json",
    );
    assert_eq!(t.count, 1);
    let r = &t.records[0];
    assert_eq!(
        (r.title.as_str(), r.main_artist().as_str()),
        ("Busted and Blue", "Gorillaz")
    );
    assert_eq!(r.isrc.as_deref(), Some("GBAYE1700170"));
    assert_eq!(r.duration_ms, Some(277_053));

    let s = run(
        "spotify",
        "search",
        "spotify/search_type-track_q-test_limit-10.json",
    );
    assert_eq!(s.count, 10);
    assert_eq!(s.records[2].title, "Test & Recognise (Flume Re-work)");
    assert_eq!(s.records[2].artists[1].role, ArtistRole::Remixer);

    let p = run(
        "spotify",
        "playlist",
        "spotify/playlist_5LkNhFidYyyjRWwnkcMbQs_tracks.json",
    );
    assert_eq!((p.count, p.skipped.len()), (9, 1));
    assert_eq!(p.skipped[0].position, 1);
    assert_eq!(p.records.last().unwrap().title, "Hellcat");

    let p = run(
        "spotify",
        "playlist",
        "spotify/playlist_1Cp6VQCKf2VL4sP09jN9oX_items_2026.json",
    );
    assert_eq!(p.records[0].isrc.as_deref(), Some("GBCFB2300770"));

    let a = run(
        "spotify",
        "album-tracks",
        "spotify/album_32nryzA6XBCX9ZUspVc1yz_tracks_offset-50.json",
    );
    assert_eq!(a.count, 5);
    assert_eq!(a.records[0].title, "Honky Tonk Women - Mono Version");
    assert_eq!(a.records[0].main_artist(), "The Rolling Stones");
    assert_eq!(
        a.records[0].release_title, None,
        "album listings carry no album"
    );
}

#[test]
fn a_payload_of_another_kind_is_an_error_naming_the_field() {
    let e = inspect(
        "spotify",
        "track",
        &fixture("spotify/audio_features_11dFghVXANMlKmJXsNCbNl.json"),
    )
    .unwrap_err();
    assert!(
        matches!(&e, InspectError::Field { field, .. } if field == "type"),
        "{e}"
    );
    let e = inspect(
        "spotify",
        "search",
        &fixture("spotify/track_04zxGiXcmNQ0m9oDXtwo18.json"),
    )
    .unwrap_err();
    assert!(
        matches!(&e, InspectError::Field { field, .. } if field == "tracks.items"),
        "{e}"
    );
    let e = inspect(
        "deezer",
        "track",
        &fixture("deezer/error_track_not_found.json"),
    )
    .unwrap_err();
    assert!(matches!(e, InspectError::ErrorAnswer { .. }), "{e}");
    assert!(e.to_string().contains("no data"), "{e}");
}

#[test]
fn deezer_kinds() {
    let t = run("deezer", "track", "deezer/track_2947516331.json");
    assert_eq!(t.records[0].title, "Die With A Smile");
    assert_eq!(t.records[0].bpm, None, "bpm 0 is unknown");

    let s = run(
        "deezer",
        "search",
        "deezer/search-track_artist-lou-doillon_track-joke.json",
    );
    assert_eq!(s.count, 1);
    assert_eq!(s.records[0].title, "The joke");

    let p = run("deezer", "playlist", "deezer/playlist_908622995.json");
    assert_eq!(p.count, 60);
    assert_eq!(p.records[0].main_artist(), "Else");
    let p = run("deezer", "playlist", "deezer/playlist_9200461_tracks.json");
    assert_eq!(p.count, 25);

    let a = run("deezer", "album", "deezer/album_302127.json");
    assert_eq!(a.count, 14);
    let first = &a.records[0];
    assert_eq!(first.title, "One More Time");
    assert_eq!(first.release_title.as_deref(), Some("Discovery"));
    assert_eq!(first.release_date.as_deref(), Some("2001-03-07"));
    assert_eq!(first.label.as_deref(), Some("Parlophone France"));
    assert_eq!(first.genre.as_deref(), Some("Dance"));
}

#[test]
fn musicbrainz_kinds() {
    let r = run(
        "musicbrainz",
        "recording",
        "musicbrainz/recording_lookup_ab80a174_inc-isrcs-artist-credits-releases.json",
    );
    let rec = &r.records[0];
    assert_eq!(rec.title, "Welcome to the World of the Plastic Beach");
    assert_eq!(rec.isrc.as_deref(), Some("GBAYE1000004"));
    assert_eq!(rec.duration_ms, Some(215_506));
    assert_eq!(rec.release_date.as_deref(), Some("2010-03-03"));

    let s = run(
        "musicbrainz",
        "recording-search",
        "musicbrainz/recording_search_query-artist-fleetwood-mac_limit-100.json",
    );
    assert_eq!(s.count, 100);
    assert_eq!(s.records[0].title, "Gangsta Love");

    let rel = run(
        "musicbrainz",
        "release",
        "musicbrainz/release_lookup_58558cec_heroes_inc-recordings-labels.json",
    );
    assert_eq!(rel.count, 10);
    assert_eq!(rel.records[0].title, "Beauty and the Beast");
    assert_eq!(rel.records[0].release_title.as_deref(), Some("“Heroes”"));
    assert_eq!(rel.records[0].release_date.as_deref(), Some("1977-10-14"));
    assert_eq!(rel.records[0].label.as_deref(), Some("Parlophone"));
}

#[test]
fn discogs_and_beatport_kinds() {
    let d = run("discogs", "release", "discogs/release_1503102.json");
    assert_eq!(d.count, 3);
    assert_eq!(d.records[0].title, "Never Gonna Give You Up");
    assert_eq!(d.records[0].mix.as_deref(), Some("Cake Mix"));
    assert_eq!(d.records[0].duration_ms, Some(348_000));
    let m = run("discogs", "master", "discogs/master_33687.json");
    assert_eq!(m.count, 2);

    let b = run(
        "beatport",
        "track",
        "beatport/v4_catalog_track_19431036.json",
    );
    let t = &b.records[0];
    assert_eq!(
        (t.title.as_str(), t.mix.as_deref()),
        ("Strobe", Some("Layton Giordani Extended Remix"))
    );
    assert_eq!((t.bpm, t.key.as_deref()), (Some(128.0), Some("Ab Minor")));
    let s = run(
        "beatport",
        "search",
        "beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json",
    );
    assert_eq!(
        s.records
            .iter()
            .map(|r| r.mix.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        vec![
            "Layton Giordani Extended Remix",
            "Victor Ruiz Remix",
            "Original Mix"
        ]
    );
    let v3 = run(
        "beatport",
        "v3",
        "beatport/v3_catalog_tracks_id-1217790.json",
    );
    assert_eq!(v3.count, 1);
    assert_eq!(v3.records[0].mix.as_deref(), Some("Above & Beyond Remix"));
    let v3 = run(
        "beatport",
        "v3",
        "beatport/v3_catalog_search_q-archipel.json",
    );
    assert_eq!(v3.count, 6, "labels, parts and releases are not tracks");
}
