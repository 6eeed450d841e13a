//! `cratedigger rekordbox ...` as a DJ runs it: the real binary on a library built from
//! Rekordbox's schema (`../shared/rekordbox`, read in place) and encrypted with a test key,
//! Postgres in a fresh database (import, and the writer lock).

use cratedigger_store::testing::fresh_database;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEY: &str = "cli-test-key-not-rekordbox";

fn kit() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/rekordbox");
    assert!(
        dir.join("master_db_schema.sql").is_file(),
        "the Rekordbox reference kit is missing: looked in {}",
        dir.display()
    );
    dir
}

fn run(env: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cratedigger"));
    c.arg("rekordbox")
        .args(args)
        .env("CRATEDIGGER__API__URL", "http://127.0.0.1:9")
        .env_remove("CRATEDIGGER_CONFIG")
        .env_remove("CRATEDIGGER__REKORDBOX__DB_KEY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the cratedigger binary runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn rekordbox_commands_end_to_end() {
    let (url, _guard) = fresh_database().await;
    let dir = std::env::temp_dir().join(format!("cd-rb-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("music")).unwrap();
    let db = dir.join("master.db");
    let env = vec![
        ("CRATEDIGGER__REKORDBOX__DB_PATH", db.display().to_string()),
        ("CRATEDIGGER__REKORDBOX__DB_KEY", KEY.to_string()),
        ("CRATEDIGGER__DATABASE__URL", url.clone()),
    ];
    let kit = kit();
    let o = run(
        &env,
        &[
            "create-test-db",
            db.to_str().unwrap(),
            "--schema",
            kit.join("master_db_schema.sql").to_str().unwrap(),
            "--seed",
            kit.join("master_db_seed_reference_rows.sql")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));

    // Two filed tracks as the consolidator would hand them over (JSON).
    let a = dir.join("music/Bicep - Glue.flac");
    let b = dir.join("music/Floating Points - Birth4000.mp3");
    std::fs::write(&a, b"flac").unwrap();
    std::fs::write(&b, b"mp3").unwrap();
    let tracks = serde_json::json!([
        {"path": a, "title": "Glue", "artist": "Bicep", "bpm": 130.0, "key": "F minor",
         "duration_ms": 269000, "sample_rate_hz": 44100, "bit_depth": 16,
         "cues": [{"hot_cue": 0, "start_ms": 1200, "color": 1, "comment": "drop"},
                  {"start_ms": 64000, "end_ms": 72000}]},
        {"path": b, "title": "Birth4000", "artist": "Floating Points", "bpm": 124.0, "key": "8A",
         "bitrate_kbps": 320, "cues": [{"hot_cue": 1, "start_ms": 500}]}
    ]);
    let tracks_file = dir.join("tracks.json");
    std::fs::write(&tracks_file, tracks.to_string()).unwrap();
    let tf = tracks_file.to_str().unwrap();

    let o = run(
        &env,
        &[
            "write",
            "--tracks",
            tf,
            "--playlist",
            "cli sync",
            "--dry-run",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("would write 2 tracks"), "{text}");
    assert!(
        text.contains("planned changes:") && text.contains("hot cue A at 1.200 s"),
        "{text}"
    );
    assert!(text.contains("dry run: nothing was written"), "{text}");
    assert!(!dir.join("cratedigger-backups").exists());

    let o = run(&env, &["write", "--tracks", tf, "--playlist", "cli sync"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("wrote 2 tracks") && text.contains("(new)"),
        "{text}"
    );
    assert!(text.contains("backup before writing:"), "{text}");

    let o = run(&env, &["import", "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["counts"]["tracks"], 2);
    assert_eq!(v["counts"]["cues"], 3);
    assert_eq!(v["counts"]["hot_cues"], 2);
    assert_eq!(v["counts"]["playlists"], 1);
    let o = run(&env, &["import"]);
    assert!(
        out(&o).contains("tracks 2,") && out(&o).contains("cues 3 (hot 2, memory 1, loops 1)"),
        "{}",
        out(&o)
    );

    let xml = dir.join("library.xml");
    let o = run(&env, &["export-xml", "--out", xml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains("<COLLECTION Entries=\"2\">"), "{text}");
    assert!(
        text.contains("Tonality=\"4A\""),
        "F minor in Camelot: {text}"
    );
    assert!(
        text.contains("Floating%20Points%20-%20Birth4000.mp3"),
        "{text}"
    );

    let o = run(&env, &["backup"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("verified"), "{}", out(&o));
    let o = run(&env, &["restore"]);
    assert!(
        out(&o).contains("(newest first)") && out(&o).contains("manual"),
        "{}",
        out(&o)
    );
    let o = run(&env, &["restore", "--json"]);
    let list: Value = serde_json::from_str(&out(&o)).unwrap();
    let newest = list[0]["dir"].as_str().unwrap().to_string();
    let o = run(&env, &["restore", &newest]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("restored master.db"), "{}", out(&o));

    // Bad input: a wrong key is a sentence, the key is not echoed, the exit code says failure.
    let mut wrong = env.clone();
    wrong[1].1 = "the-wrong-key-123".into();
    let o = run(&wrong, &["export-xml"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("key is wrong") && err(&o).contains("nothing was changed"),
        "{}",
        err(&o)
    );
    assert!(!err(&o).contains("the-wrong-key-123") && !out(&o).contains("the-wrong-key-123"));
    // A track list that is not one: the field is named.
    std::fs::write(&tracks_file, r#"[{"path": "/m/a.mp3", "bpm": "fast"}]"#).unwrap();
    let o = run(
        &env,
        &["write", "--tracks", tf, "--playlist", "x", "--dry-run"],
    );
    assert!(!o.status.success());
    assert!(err(&o).contains("[0].bpm"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(dir);
}
