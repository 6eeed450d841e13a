//! `cratedigger inspect` as a person runs it: the real binary on the real recorded payloads
//! of `../shared/fixtures` (read in place), no scheduler running.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kit_file(rel: &str) -> String {
    let dir = std::env::var_os("CRATEDIGGER_KIT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("fixtures");
    let path = dir.join(rel);
    assert!(
        path.is_file(),
        "reference kit payload not found at {}; set CRATEDIGGER_KIT_DIR to the kit",
        path.display()
    );
    path.display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cratedigger"))
        .args(args)
        .env("CRATEDIGGER__API__URL", "http://127.0.0.1:9")
        .env_remove("CRATEDIGGER_CONFIG")
        .output()
        .expect("the cratedigger binary runs")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("inspect prints JSON")
}

#[test]
fn inspect_prints_the_mapped_records_without_raw_by_default() {
    let file = kit_file("spotify/playlist_5LkNhFidYyyjRWwnkcMbQs_tracks.json");
    let v = json(&run(&["inspect", "spotify", "playlist", &file]));
    assert_eq!(v["count"], 9);
    assert_eq!(v["records"][0]["title"], "Cradles");
    assert_eq!(v["records"][0]["isrc"], "GB2LD1800949");
    assert!(v["records"][0].get("raw").is_none());
    assert_eq!(v["skipped"][0]["position"], 1);

    let v = json(&run(&[
        "inspect",
        "deezer",
        "track",
        "--raw",
        &kit_file("deezer/track_3135556.json"),
    ]));
    assert_eq!(v["records"][0]["bpm"], 123.0);
    assert_eq!(
        v["records"][0]["raw"]["gain"], -12.4,
        "--raw keeps the payload"
    );

    let v = json(&run(&[
        "inspect",
        "beatport",
        "track",
        &kit_file("beatport/v4_catalog_track_19431036.json"),
    ]));
    assert_eq!(v["records"][0]["key"], "Ab Minor");
}

#[test]
fn an_unmappable_payload_fails_naming_the_field_and_the_file() {
    let file = kit_file("spotify/audio_features_11dFghVXANMlKmJXsNCbNl.json");
    let o = run(&["inspect", "spotify", "track", &file]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("field `type`"), "{err}");
    assert!(
        err.contains("audio_features_11dFghVXANMlKmJXsNCbNl.json"),
        "{err}"
    );

    let o = run(&["inspect", "spotify", "release", &file]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("its kinds: track"), "{err}");

    let o = run(&["inspect", "deezer", "kinds"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("deezer album"), "{out}");
}
