//! An independent reader: pyrekordbox (PyPI, `pip install pyrekordbox`) opens the library we
//! wrote — a PLAINTEXT copy, since pyrekordbox only accepts Rekordbox's real key for
//! encrypted files — and must see every track, cue, playlist and the update counter as we
//! wrote them. Skipped with a printed reason when pyrekordbox is not importable, except in CI
//! (`CI` set), where `.ci/run` installs it and its absence is a failure.

mod common;

use common::sample_tracks;
use cratedigger_music::{Key, KeyNotation};
use cratedigger_rekordbox::testing::fresh_library;
use cratedigger_rekordbox::write::folder_path;
use cratedigger_rekordbox::{Cipher, FixedProbe, RekordboxWriter, library::HOT_CUE_KINDS};
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;

const READER: &str = r#"
import json, logging, sys
logging.disable(logging.CRITICAL)
from pyrekordbox import MasterDatabase
db = MasterDatabase(path=sys.argv[1], unlock=False)
out = {"usn": db.get_local_usn(), "tracks": [], "playlists": []}
name = lambda r: r.Name if r is not None else None
for c in db.get_content():
    out["tracks"].append({
        "id": c.ID, "uuid": c.UUID, "path": c.FolderPath, "file_name": c.FileNameL, "title": c.Title,
        "artist": name(c.Artist), "album": name(c.Album), "label": name(c.Label), "genre": name(c.Genre),
        "key": c.Key.ScaleName if c.Key is not None else None,
        "bpm": c.BPM, "length": c.Length, "file_type": c.FileType, "bitrate": c.BitRate,
        "sample_rate": c.SampleRate, "bit_depth": c.BitDepth, "size": c.FileSize,
        "isrc": c.ISRC, "year": c.ReleaseYear, "comment": c.Commnt, "usn": c.rb_local_usn,
        "cues": sorted(({"in": q.InMsec, "out": q.OutMsec, "kind": q.Kind, "color": q.Color,
                         "cti": q.ColorTableIndex, "comment": q.Comment, "content_uuid": q.ContentUUID}
                        for q in c.Cues), key=lambda q: q["in"]),
    })
for p in db.get_playlist():
    out["playlists"].append({"id": p.ID, "name": p.Name, "attribute": p.Attribute, "parent": p.ParentID,
                             "songs": [s.ContentID for s in sorted(p.Songs, key=lambda s: s.TrackNo)]})
db.close()
print(json.dumps(out))
"#;

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn pyrekordbox_available() -> Result<(), String> {
    match Command::new(python())
        .args(["-c", "import pyrekordbox"])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr)
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string()),
        Err(e) => Err(format!("cannot run {}: {e}", python())),
    }
}

#[test]
fn pyrekordbox_reads_what_we_wrote() {
    if let Err(why) = pyrekordbox_available() {
        if std::env::var_os("CI").is_some() {
            panic!("pyrekordbox must be installed in CI (.ci/run installs it): {why}");
        }
        println!(
            "SKIPPED pyrekordbox_reads_what_we_wrote: pyrekordbox is not importable ({why}); `pip install pyrekordbox` to run it"
        );
        return;
    }
    let (dir, cfg) = fresh_library("pyrb", Cipher::Plaintext);
    let tracks = sample_tracks(&dir, 10, "py");
    let report = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe::default()))
        .write_session(&tracks, "pyrekordbox check", false)
        .unwrap();
    let out = Command::new(python())
        .args(["-c", READER])
        .arg(cfg.db_path().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyrekordbox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));

    assert_eq!(doc["usn"].as_i64(), Some(report.usn_after));
    let seen = doc["tracks"].as_array().unwrap();
    assert_eq!(seen.len(), 10);
    for (f, w) in tracks.iter().zip(&report.tracks) {
        let fp = folder_path(&f.path).unwrap();
        let t = seen
            .iter()
            .find(|t| t["id"] == w.content_id.as_str())
            .expect("track seen by pyrekordbox");
        assert_eq!(t["path"], fp.as_str());
        assert_eq!(t["file_name"], fp.rsplit('/').next().unwrap());
        assert_eq!(t["title"], f.title.as_str());
        assert_eq!(t["artist"], f.artist.as_deref().unwrap());
        assert_eq!(t["album"], f.album.as_deref().unwrap());
        assert_eq!(t["label"], f.label.as_deref().unwrap());
        assert_eq!(t["genre"], f.genre.as_deref().unwrap());
        let key = Key::parse(f.key.as_deref().unwrap())
            .unwrap()
            .format(KeyNotation::Camelot);
        assert_eq!(t["key"], key.as_str());
        assert_eq!(
            t["bpm"].as_i64(),
            Some((f.bpm.unwrap() * 100.0).round() as i64)
        );
        assert_eq!(
            t["length"].as_i64(),
            Some((f.duration_ms.unwrap() as i64 + 500) / 1000)
        );
        assert_eq!(t["sample_rate"].as_i64(), Some(44_100));
        assert_eq!(
            t["size"].as_u64(),
            Some(std::fs::metadata(&f.path).unwrap().len())
        );
        assert_eq!(t["isrc"], f.isrc.as_deref().unwrap());
        assert_eq!(t["comment"], f.comment.as_deref().unwrap());
        assert!(t["usn"].as_i64().unwrap() > report.usn_before);
        let cues = t["cues"].as_array().unwrap();
        assert_eq!(cues.len(), 8);
        for spec in &f.cues {
            let c = cues
                .iter()
                .find(|c| c["in"].as_u64() == Some(spec.start_ms))
                .unwrap();
            assert_eq!(c["content_uuid"], t["uuid"]);
            assert_eq!(
                c["out"].as_i64(),
                Some(spec.end_ms.map(|e| e as i64).unwrap_or(-1))
            );
            let kind = spec.hot_cue.map(|s| HOT_CUE_KINDS[s as usize]).unwrap_or(0);
            assert_eq!(c["kind"].as_i64(), Some(kind));
        }
    }
    let pl = doc["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "pyrekordbox check")
        .expect("playlist seen by pyrekordbox");
    assert_eq!(pl["attribute"].as_i64(), Some(0));
    assert_eq!(pl["parent"], "root");
    let songs: Vec<&str> = pl["songs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = report
        .tracks
        .iter()
        .map(|t| t.content_id.as_str())
        .collect();
    assert_eq!(songs, expected);
    let _ = std::fs::remove_dir_all(dir);
}
