//! Tags written with lofty read back the same, in every container a DJ meets, and tagging
//! leaves the audio decodable. Audio is made in the test (see `tests/verify.rs`).

use cratedigger_audio::tags::{TagError, TagSet, display_title, read_tags, write_tags};
use cratedigger_audio::testing::{self, ToolError};
use cratedigger_audio::verify::{VerifyOptions, verify_file};
use std::path::{Path, PathBuf};

fn need<T>(r: Result<T, ToolError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A real 1x1 PNG (67 bytes).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

fn full_set() -> TagSet {
    TagSet {
        title: Some("Strobe".into()),
        mix: Some("Extended Mix".into()),
        artists: vec!["deadmau5".into(), "Kaskade".into()],
        album: Some("For Lack of a Better Name".into()),
        label: Some("mau5trap".into()),
        catalog_number: Some("MAU5001".into()),
        isrc: Some("USUS11000356".into()),
        bpm: Some(127.8),
        key: Some("8A".into()),
        genre: Some("Progressive House".into()),
        date: Some("2009-09-22".into()),
        comment: Some("filed by cratedigger — ünïcödé ok".into()),
        artwork: Some(PNG.to_vec()),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let wav = dir.join("t.wav");
    testing::write_wav(&wav, &testing::broadband(2.0, 3)).unwrap();
    let flac = dir.join("t.flac");
    need(testing::flac_encode(&wav, &flac));
    let mp3 = dir.join("t.mp3");
    need(testing::mp3_encode(&wav, 192, &mp3));
    let aiff = dir.join("t.aiff");
    testing::write_aiff(&aiff, &testing::broadband(2.0, 4)).unwrap();
    let m4a = dir.join("t.m4a");
    need(testing::ffmpeg_encode(&wav, "aac", Some(128), &m4a));
    vec![flac, mp3, wav, aiff, m4a]
}

fn check_round_trip(p: &Path) {
    let want = full_set();
    write_tags(p, &want).unwrap_or_else(|e| panic!("{e}"));
    let got = read_tags(p).unwrap_or_else(|e| panic!("{e}"));
    let name = p.display();
    assert_eq!(
        got.title.as_deref(),
        Some("Strobe (Extended Mix)"),
        "{name}"
    );
    assert_eq!(got.artists, vec!["deadmau5, Kaskade".to_string()], "{name}");
    assert_eq!(got.album, want.album, "{name}");
    assert_eq!(got.label, want.label, "{name}");
    assert_eq!(got.catalog_number, want.catalog_number, "{name}");
    assert_eq!(got.isrc, want.isrc, "{name}");
    assert_eq!(got.bpm, Some(128.0), "{name}: BPM is written rounded");
    assert_eq!(got.key, want.key, "{name}");
    assert_eq!(got.genre, want.genre, "{name}");
    assert!(
        got.date.as_deref().is_some_and(|d| d.starts_with("2009")),
        "{name}: {:?}",
        got.date
    );
    assert_eq!(got.comment, want.comment, "{name}");
    assert_eq!(got.artwork.as_deref(), Some(PNG), "{name}");
    // Tagging must not damage the audio.
    let r = verify_file(p, &VerifyOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.duration_ms >= 1_900, "{name}: {}", r.duration_ms);

    // Re-tagging replaces, it does not duplicate; empty fields are removed.
    let less = TagSet {
        title: Some("Strobe".into()),
        bpm: Some(128.0),
        ..Default::default()
    };
    write_tags(p, &less).unwrap();
    let got = read_tags(p).unwrap();
    assert_eq!(got.title.as_deref(), Some("Strobe"), "{name}");
    assert_eq!(got.label, None, "{name}");
    assert_eq!(got.key, None, "{name}");
    assert_eq!(got.bpm, Some(128.0), "{name}");
}

#[test]
fn tags_round_trip_in_flac_mp3_wav_aiff_and_m4a() {
    let dir = testing::scratch_dir("tags");
    for p in files(&dir) {
        check_round_trip(&p);
    }
}

#[test]
fn bad_values_are_refused_with_the_file_named() {
    let dir = testing::scratch_dir("tags-bad");
    let wav = dir.join("bad.wav");
    testing::write_wav(&wav, &testing::broadband(1.0, 5)).unwrap();
    let cases = [
        TagSet {
            bpm: Some(f32::NAN),
            ..Default::default()
        },
        TagSet {
            bpm: Some(5_000.0),
            ..Default::default()
        },
        TagSet {
            date: Some("next tuesday".into()),
            ..Default::default()
        },
        TagSet {
            artwork: Some(b"GIF89a not an image we embed".to_vec()),
            ..Default::default()
        },
    ];
    for t in cases {
        let e = write_tags(&wav, &t).unwrap_err();
        assert!(matches!(e, TagError::Invalid { .. }), "{e:?}");
        assert!(e.to_string().contains("bad.wav"), "{e}");
    }
    let garbage = dir.join("garbage.mp3");
    std::fs::write(&garbage, b"not audio at all, just words").unwrap();
    let e = write_tags(&garbage, &full_set()).unwrap_err();
    assert!(e.to_string().contains("garbage.mp3"), "{e}");
}

#[test]
fn control_characters_never_reach_the_file() {
    let dir = testing::scratch_dir("tags-ctl");
    let wav = dir.join("c.wav");
    testing::write_wav(&wav, &testing::broadband(1.0, 6)).unwrap();
    let t = TagSet {
        title: Some("Bad\u{0}Title\r\n".into()),
        mix: Some("Dub\u{7}".into()),
        ..Default::default()
    };
    write_tags(&wav, &t).unwrap();
    assert_eq!(
        read_tags(&wav).unwrap().title.as_deref(),
        Some("BadTitle (Dub)")
    );
    assert_eq!(display_title("Strobe", Some("Dub")), "Strobe (Dub)");
}
