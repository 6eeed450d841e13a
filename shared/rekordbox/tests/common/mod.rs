//! Helpers shared by the integration tests: generated filed tracks with cues, raw queries.
#![allow(dead_code)]

use cratedigger_rekordbox::{CueSpec, FiledTrack};
use rusqlite::Connection;
use std::path::Path;

/// `n` filed tracks under `dir` with 8 cues each (4 hot cues, one a loop; 4 memory cues,
/// one a loop, coloured), every field set. Files are created (tiny) so sizes and moves work.
pub fn sample_tracks(dir: &Path, n: usize, tag: &str) -> Vec<FiledTrack> {
    let music = dir.join("music");
    std::fs::create_dir_all(&music).unwrap();
    let keys = ["Am", "8A", "F# minor", "1d", "Eb Major", "Dbm", "12B", "G"];
    let formats = ["mp3", "flac", "wav", "aiff", "m4a"];
    (0..n)
        .map(|i| {
            let ext = formats[i % formats.len()];
            let path = music.join(format!("{tag} {i:05} – Tëst & Co ({ext}).{ext}"));
            std::fs::write(&path, vec![0u8; 100 + i]).unwrap();
            let lossless = matches!(ext, "flac" | "wav" | "aiff");
            FiledTrack {
                path,
                title: format!("{tag} Title {i}"),
                artist: Some(format!("Artist {}", i % 4)),
                album: Some(format!("Album {}", i % 3)),
                label: Some(format!("Label {}", i % 2)),
                genre: Some(if i % 2 == 0 {
                    "Techno".into()
                } else {
                    "House".into()
                }),
                bpm: Some(120.0 + i as f64 * 0.25),
                key: Some(keys[i % keys.len()].into()),
                duration_ms: Some(300_000 + i as u64 * 1_000),
                bitrate_kbps: if ext == "wav" || ext == "aiff" {
                    None
                } else {
                    Some(320)
                },
                sample_rate_hz: Some(44_100),
                bit_depth: if lossless { Some(24) } else { None },
                file_size: None,
                format: None,
                isrc: Some(format!("GBABC{:07}", i)),
                release_year: Some(2020 + (i % 5) as i32),
                comment: Some(format!("filed by cratedigger #{i}")),
                cues: cues_for(i),
                replaces: None,
            }
        })
        .collect()
}

/// 8 cues: hot cues A-D (D a loop), memory cues (one a loop), with colours and names.
pub fn cues_for(i: usize) -> Vec<CueSpec> {
    let base = 1_000 + i as u64 * 10;
    let mut v = Vec::new();
    for slot in 0u8..4 {
        v.push(CueSpec {
            hot_cue: Some(slot),
            start_ms: base + u64::from(slot) * 16_000,
            end_ms: (slot == 3).then_some(base + u64::from(slot) * 16_000 + 8_000),
            color: Some(slot * 5 + 1),
            comment: Some(format!("Hot {}", (b'A' + slot) as char)),
        });
    }
    for m in 0u8..4 {
        v.push(CueSpec {
            hot_cue: None,
            start_ms: base + 100_000 + u64::from(m) * 32_000,
            end_ms: (m == 2).then_some(base + 100_000 + u64::from(m) * 32_000 + 4_000),
            color: (m % 2 == 0).then_some(m + 1),
            comment: if m == 0 {
                None
            } else {
                Some(format!("Memory {m}"))
            },
        });
    }
    v
}

/// A single integer from a query.
pub fn int(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Bytes of a file.
pub fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}
