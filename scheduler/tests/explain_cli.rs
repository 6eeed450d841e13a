//! `cratedigger match`, `key` and `bpm` as a person runs them: the real binary, no scheduler
//! running, exit codes and output checked (text and `--json`).

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cratedigger"))
        .args(args)
        // Explain commands must not need the scheduler: point the API nowhere.
        .env("CRATEDIGGER__API__URL", "http://127.0.0.1:9")
        .env_remove("CRATEDIGGER_CONFIG")
        .output()
        .expect("the cratedigger binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn match_prints_breakdown_and_verdict() {
    let o = run(&[
        "match",
        "Bicep - Glue (Extended Mix)",
        "Bicep - Glue (Radio Edit)",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("verdict: review"), "{out}");
    assert!(out.contains("different mix"), "{out}");

    let o = run(&[
        "match",
        "Kölsch - Grey",
        "KOLSCH - Grey (Original Mix)",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["verdict"], "same");
    assert_eq!(v["dedup_keys"][0], v["dedup_keys"][1]);
    assert!(
        v["score"]["breakdown"]
            .as_array()
            .is_some_and(|b| b.len() >= 3)
    );
}

#[test]
fn key_in_every_notation_or_one() {
    let o = run(&["key", "A&#9837; Major"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in ["Ab major", "4B", "9d", "Ab Major", "Ab"] {
        assert!(out.contains(want), "{want} missing in {out}");
    }
    let o = run(&["key", "8A", "--to", "rekordbox"]);
    assert_eq!(stdout(&o), "Am\n");
    let o = run(&["key", "1m", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["notations"]["camelot"], "8A");
    assert_eq!(v["spotify"]["key"], 9);
}

#[test]
fn bpm_corrected_with_reason() {
    let o = run(&["bpm", "70", "--genre", "dubstep"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("bpm:         140 (Rekordbox stores 14000)"),
        "{out}"
    );
    assert!(out.contains("alternative: 70"), "{out}");
    let o = run(&[
        "bpm",
        "beatport=87",
        "deezer=174",
        "--genre",
        "Drum & Bass",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["bpm"], 174.0);
    assert_eq!(v["source"], "deezer");
    assert_eq!(v["alternative"], 87.0);
}

#[test]
fn bad_input_is_a_clear_error_and_a_failure_exit() {
    let cases: &[(&[&str], &str)] = &[
        (&["key", ""], "cannot read the key '': empty key"),
        (
            &["key", "Z major"],
            "cannot read the key 'Z major': unknown key 'Z major'",
        ),
        (&["key", "13A"], "cannot read the key '13A'"),
        (
            &["key", "8A", "--to", "lydian"],
            "unknown key notation 'lydian'",
        ),
        (
            &["bpm", "-5"],
            "cannot use the BPM '-5': implausible BPM -5",
        ),
        (&["bpm", "fast"], "cannot use the BPM 'fast'"),
        (&["bpm", "1e9"], "cannot use the BPM '1e9'"),
        (
            &["match", "", "Bicep - Glue"],
            "cannot read '' as \"Artist - Title\"",
        ),
        (
            &["match", "Glue", "Bicep - Glue"],
            "cannot read 'Glue' as \"Artist - Title\"",
        ),
    ];
    for (args, want) in cases {
        let o = run(args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert_eq!(
            o.status.code(),
            Some(1),
            "{args:?}: not a clean failure (panic?)"
        );
        let err = stderr(&o);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
