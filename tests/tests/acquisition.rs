//! End to end through acquisition, on the real binaries (scheduler, research lead, metadata
//! scout, consolidator, discovery scout, acquisition scout, quality assessor) with real Redis
//! and Postgres: a sync goes from `pending` to `filed` through a person's approval.
//!
//! Soulseek is the fake slskd (`cratedigger_e2e::fake_slskd`): its search answer is the kit's
//! one real slskd recording (Demdike Stare - Triptych, read in place); the transfer endpoints
//! have no recording (kit gap) and follow slskd's source. The files the peers "send" are made
//! here: a broadband signal encoded to MP3 for the MP3 shares, and the same signal through a
//! 128 kbps MP3 and back into FLAC for the one FLAC share — a fake lossless file, which the
//! quality assessor must refuse before the item falls through to the next candidate.

mod support;

use cratedigger_e2e::fake_slskd::Faults;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::acq::{acquisition_env, recorded_files};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_goes_from_wanted_to_filed_through_approval_and_a_fake_flac_is_refused() {
    // Rekordbox: a test library built from the kit's real schema, encrypted with the test key.
    let (rb_dir, _) = cratedigger_rekordbox::testing::fresh_library(
        "e2e-acq",
        cratedigger_rekordbox::testing::test_cipher(),
    );
    let rb_db = rb_dir.join("master.db");
    let rb_db_s = rb_db.display().to_string();
    let acq = acquisition_env(
        "acq-approve",
        &[
            ("CRATEDIGGER__ACQUISITION__REKORDBOX", "true"),
            ("CRATEDIGGER__ACQUISITION__REKORDBOX_INTERVAL_SECS", "1"),
            ("CRATEDIGGER__REKORDBOX__DB_PATH", &rb_db_s),
            (
                "CRATEDIGGER__REKORDBOX__DB_KEY",
                cratedigger_rekordbox::testing::TEST_KEY,
            ),
        ],
    )
    .await;
    let env = &acq.env;
    let created = env
        .post_playlist("Demdike Stare - Quiet Sky", "interactive")
        .await;
    let sync_id = created["sync_id"].as_str().unwrap().to_string();
    let progress = env.wait_finished(&sync_id, Duration::from_secs(90)).await;
    assert_eq!(
        progress["counts"]["awaiting_approval"],
        1,
        "the item waits for a person: {progress}\n{}",
        acq.logs()
    );
    let items = env.get(&format!("/v1/syncs/{sync_id}/items")).await;
    let item_id = items[0]["id"].as_str().unwrap().to_string();
    // No metadata platform knows this record (the fixtures hold other music): the item was
    // searched for with the line as written, and its history says so.
    let review = env.get(&format!("/v1/items/{item_id}/candidates")).await;
    let top = review["top"].as_array().unwrap();
    assert!(!top.is_empty() && top.len() <= 5, "top 5: {review}");
    for c in top {
        assert!(
            c["candidate"]["title"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("quiet sky"),
            "only the wanted track is ranked: {c}"
        );
        let sum: f64 = c["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["points"].as_f64().unwrap())
            .sum();
        assert!(
            (sum - c["score"].as_f64().unwrap()).abs() < 0.5,
            "the breakdown explains the score: {c}"
        );
    }
    let all = review["all"].as_array().unwrap();
    let flac = all
        .iter()
        .find(|c| c["candidate"]["format"] == "flac" && c["rank"].is_number())
        .unwrap_or_else(|| panic!("the FLAC share is a ranked candidate: {review}"));
    assert_eq!(
        top[0]["candidate"]["format"], "flac",
        "lossless ranks first (required: unknown is not bad, FLAC 16/44.1 beats MP3 320): {}",
        top[0]
    );
    let flac_rank = flac["rank"].as_i64().unwrap().to_string();

    // A rank that does not exist is refused, naming the field; nothing changes.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/v1/items/{item_id}/approve", env.api()))
        .json(&serde_json::json!({ "rank": 999 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "rank", "{body}");

    // A person approves the FLAC with the CLI.
    let out = env.cli(&["approve", &item_id, &flac_rank]);
    assert!(
        out.status.success(),
        "approve: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let done = acq
        .wait_item(&item_id, &["filed", "failed"], Duration::from_secs(120))
        .await;
    assert_eq!(done["item"]["state"], "filed", "{done}\n{}", acq.logs());

    // The FLAC was a transcode: refused, counted against the peer, and the item fell through
    // to the next candidate (an MP3), which was verified, tagged and filed.
    let all = done["all"].as_array().unwrap();
    let flac = all.iter().find(|c| c["id"] == flac["id"]).unwrap();
    assert_eq!(flac["state"], "rejected_file", "{flac}");
    let why = flac["failure"].as_str().unwrap();
    assert!(why.contains("lossy file in a lossless container"), "{why}");
    let filed: Vec<&Value> = all.iter().filter(|c| c["state"] == "filed").collect();
    assert_eq!(filed.len(), 1, "exactly one candidate filed: {done}");
    assert_eq!(filed[0]["candidate"]["format"], "mp3");

    // Approving a filed item is a conflict that changes nothing.
    let r = http
        .post(format!("{}/v1/items/{item_id}/reject", env.api()))
        .json(&serde_json::json!({ "reason": "changed my mind" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);

    let pg = env.pg().await;
    let (path, format): (String, Option<String>) =
        sqlx::query_as("SELECT path, format FROM library_files WHERE item_id = $1::uuid")
            .bind(&item_id)
            .fetch_one(&pg)
            .await
            .unwrap();
    let path = PathBuf::from(path);
    assert!(
        path.starts_with(&acq.library),
        "{} is in the library",
        path.display()
    );
    assert!(path.exists(), "{} exists", path.display());
    assert_eq!(format.as_deref(), Some("mp3"));
    assert_eq!(
        path.file_name().unwrap().to_string_lossy(),
        "Demdike Stare - Quiet Sky.mp3",
        "named by the template from the tags, not by the peer's file name"
    );
    let tags = cratedigger_audio::read_tags(&path).unwrap();
    assert_eq!(tags.title.as_deref(), Some("Quiet Sky"));
    assert_eq!(tags.artists, ["Demdike Stare"]);

    let flac_peer: (i32, i32) = sqlx::query_as(
        "SELECT fakes, completed FROM peer_reputation WHERE source = 'soulseek' AND username = $1",
    )
    .bind(flac["candidate"]["peer"]["username"].as_str().unwrap())
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(
        flac_peer,
        (1, 0),
        "the peer that sent the fake has it on record"
    );
    let good_peer: i32 = sqlx::query_scalar(
        "SELECT completed FROM peer_reputation WHERE source = 'soulseek' AND username = $1",
    )
    .bind(filed[0]["candidate"]["peer"]["username"].as_str().unwrap())
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(good_peer, 1);
    let downloads: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_events WHERE item_id = $1::uuid AND to_state = 'downloading'",
    )
    .bind(&item_id)
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(downloads, 2, "approved FLAC, then the fall-through");
    assert!(
        files_under(&acq.staging).is_empty(),
        "nothing left in staging: {:?}",
        files_under(&acq.staging)
    );
    let stats = acq.slskd.fake().stats();
    assert!(stats.searches_posted >= 1, "{stats:?}");

    // The scheduler wrote the filed track into Rekordbox, in a playlist named after the sync.
    let start = Instant::now();
    loop {
        let written: Option<bool> = sqlx::query_scalar(
            "SELECT rekordbox_written_at IS NOT NULL FROM library_files WHERE item_id = $1::uuid",
        )
        .bind(&item_id)
        .fetch_optional(&pg)
        .await
        .unwrap();
        if written == Some(true) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not written into Rekordbox in 30 s\n{}",
            acq.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lib = cratedigger_rekordbox::Library::read(
        &rb_db,
        &cratedigger_rekordbox::testing::test_cipher(),
        Duration::from_secs(5),
    )
    .expect("the written library opens with its key");
    let track = lib
        .tracks
        .iter()
        .find(|t| Path::new(&t.path) == path)
        .unwrap_or_else(|| panic!("{} is in Rekordbox", path.display()));
    assert_eq!(track.title.as_deref(), Some("Quiet Sky"));
    let playlist = lib
        .playlists
        .iter()
        .find(|p| p.name == progress["name"].as_str().unwrap_or("e2e.txt"))
        .expect("a playlist named after the sync");
    assert!(
        lib.playlist_entries
            .iter()
            .any(|e| e.playlist_id == playlist.id && e.content_id == track.id),
        "the track is in the sync's playlist"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_approve_files_without_a_person_and_a_stalled_transfer_falls_through() {
    let acq = acquisition_env(
        "acq-auto",
        &[
            ("CRATEDIGGER__ACQUISITION__AUTO_APPROVE__ENABLED", "true"),
            // the line is on no metadata platform, so there is no canonical duration and the
            // score has no duration points: the policy is told not to need them
            (
                "CRATEDIGGER__ACQUISITION__AUTO_APPROVE__REQUIRE_DURATION",
                "false",
            ),
            ("CRATEDIGGER__ACQUISITION__AUTO_APPROVE__MIN_SCORE", "0"),
            ("CRATEDIGGER__ACQUISITION__AUTO_APPROVE__MIN_MARGIN", "0"),
            ("CRATEDIGGER__ACQUISITION__STALL_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    // The best share (the FLAC) stalls mid-transfer.
    let flac_remote = recorded_files()
        .into_iter()
        .map(|(_, f)| f)
        .find(|f| f.to_lowercase().ends_with("quiet sky.flac"))
        .expect("the recording has a FLAC share of Quiet Sky");
    acq.slskd.fake().set_faults(Faults {
        stall_filename: Some(flac_remote),
        ..Default::default()
    });
    let env = &acq.env;
    let created = env
        .post_playlist("Demdike Stare - Quiet Sky", "interactive")
        .await;
    let sync_id = created["sync_id"].as_str().unwrap().to_string();
    let items = env.get(&format!("/v1/syncs/{sync_id}/items")).await;
    let item_id = items[0]["id"].as_str().unwrap().to_string();
    let done = acq
        .wait_item(
            &item_id,
            &["filed", "failed", "awaiting_approval"],
            Duration::from_secs(150),
        )
        .await;
    assert_eq!(done["item"]["state"], "filed", "{done}\n{}", acq.logs());
    let all = done["all"].as_array().unwrap();
    let stalled = all
        .iter()
        .find(|c| c["candidate"]["format"] == "flac" && c["rank"].is_number())
        .unwrap();
    assert_eq!(stalled["state"], "failed", "{stalled}");
    assert!(
        stalled["failure"].as_str().unwrap().contains("stall"),
        "{stalled}"
    );
    let pg = env.pg().await;
    let stalls: i32 = sqlx::query_scalar(
        "SELECT stalls FROM peer_reputation WHERE source = 'soulseek' AND username = $1",
    )
    .bind(stalled["candidate"]["peer"]["username"].as_str().unwrap())
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(stalls, 1);
    let auto: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_events WHERE item_id = $1::uuid AND to_state = 'downloading'
           AND detail->>'why' LIKE 'auto-approved%'",
    )
    .bind(&item_id)
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(auto, 1, "the first download was the policy's choice");
    assert!(files_under(&acq.staging).is_empty());
    assert_eq!(files_under(&acq.library).len(), 1);
}
