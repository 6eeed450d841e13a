//! End-to-end: the real binaries (scheduler, research lead, two metadata scouts,
//! consolidator) as processes, real Redis and Postgres, recorded platform payloads.

mod support;

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use support::{Env, fixture_lines};

/// dedup_key, isrc, norm_artist, norm_title, mix
type TrackRow = (String, Option<String>, String, String, Option<String>);

/// 200 lines: every recorded track once, then repeats (duplicates), plus tracks no platform
/// knows (they must fail with a reason).
fn playlist_200() -> String {
    let base = fixture_lines();
    let mut lines: Vec<String> = Vec::new();
    for i in 0..10 {
        lines.push(format!("Nobody Recorded {i} - Unknown Track {i}"));
    }
    let mut i = 0;
    while lines.len() < 200 {
        lines.push(base[i % base.len()].clone());
        i += 1;
    }
    lines.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_line_playlist_survives_a_killed_scout() {
    let mut env = Env::new("kill").await;
    // Platforms answer in 40 ms, so the scouts have jobs in hand when one is killed.
    env.fixtures.set_latency(Duration::from_millis(40));
    env.extra_env
        .push(("CRATEDIGGER__WORKERS__CONCURRENCY".into(), "4".into()));
    env.start_scheduler().await;
    env.start("research-lead", "research-lead", &[]);
    let victim = env.start("scout-a", "metadata-scout", &[]);
    env.start("scout-b", "metadata-scout", &[]);
    env.start("consolidator", "consolidator", &[]);

    let created = env.post_playlist(&playlist_200(), "batch").await;
    assert_eq!(created["items"], 200);
    let sync_id = created["sync_id"].as_str().unwrap().to_string();

    // Kill scout A (SIGKILL, no goodbye) once the sync is under way.
    let start = Instant::now();
    loop {
        let p = env.get(&format!("/v1/syncs/{sync_id}")).await;
        let final_now: i64 = ["resolved", "duplicate", "failed"]
            .iter()
            .map(|s| p["counts"][*s].as_i64().unwrap_or(0))
            .sum();
        if final_now >= 20 {
            assert!(
                final_now < 200,
                "the sync finished before the scout could be killed"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "sync did not start: {}",
            p["counts"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env.procs[victim].kill9();

    let progress = env.wait_finished(&sync_id, Duration::from_secs(120)).await;
    assert_eq!(progress["total"], 200);

    let items: Vec<Value> = env
        .get(&format!("/v1/syncs/{sync_id}/items?limit=1000"))
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 200);
    for it in &items {
        let state = it["state"].as_str().unwrap();
        assert!(
            ["resolved", "duplicate", "failed"].contains(&state),
            "item in {state}"
        );
        if state != "resolved" {
            assert!(
                !it["reason"].as_str().unwrap_or("").is_empty(),
                "{state} item without a reason: {it}"
            );
        }
        if state != "failed" {
            assert!(
                it["track"].is_object(),
                "{state} item without its track: {it}"
            );
        }
    }
    let states: HashMap<&str, usize> = items.iter().fold(HashMap::new(), |mut m, it| {
        *m.entry(it["state"].as_str().unwrap()).or_default() += 1;
        m
    });
    assert!(
        states.get("resolved").copied().unwrap_or(0) >= 50,
        "{states:?}"
    );
    assert!(
        states.get("duplicate").copied().unwrap_or(0) >= 50,
        "repeats must be duplicates: {states:?}"
    );
    let unknown_failed = items
        .iter()
        .filter(|it| {
            it["input_line"]
                .as_str()
                .unwrap()
                .starts_with("Nobody Recorded")
        })
        .all(|it| {
            it["state"] == "failed" && it["reason"].as_str().unwrap().starts_with("No match for")
        });
    assert!(
        unknown_failed,
        "tracks no platform knows must fail with 'No match for …'"
    );

    let pg = env.pg().await;
    // Every item reached a final state exactly once.
    let twice: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT item_id, count(*) FROM item_events WHERE to_state IN ('resolved','duplicate','failed')
         GROUP BY item_id HAVING count(*) <> 1",
    )
    .fetch_all(&pg)
    .await
    .unwrap();
    assert!(twice.is_empty(), "items finished more than once: {twice:?}");
    let finals: i64 = sqlx::query_scalar("SELECT count(DISTINCT item_id) FROM item_events WHERE to_state IN ('resolved','duplicate','failed')")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(finals, 200);
    // No track stored twice: by key, by ISRC, and by what a person would call the same.
    let tracks: Vec<TrackRow> =
        sqlx::query_as("SELECT dedup_key, isrc, norm_artist, norm_title, mix FROM tracks")
            .fetch_all(&pg)
            .await
            .unwrap();
    let resolved = states.get("resolved").copied().unwrap_or(0);
    assert_eq!(tracks.len(), resolved, "one track per resolved item");
    let keys: HashSet<&String> = tracks.iter().map(|t| &t.0).collect();
    assert_eq!(keys.len(), tracks.len());
    let isrcs: Vec<&String> = tracks.iter().filter_map(|t| t.1.as_ref()).collect();
    assert_eq!(isrcs.iter().collect::<HashSet<_>>().len(), isrcs.len());
    let people: HashSet<(String, String, String)> = tracks
        .iter()
        .map(|t| {
            (
                t.2.clone(),
                t.3.clone(),
                t.4.clone().unwrap_or_default().to_lowercase(),
            )
        })
        .collect();
    assert_eq!(
        people.len(),
        tracks.len(),
        "two tracks with the same artist, title and mix"
    );
    // The dead-letter list is empty.
    let dlq = env.get("/v1/dlq").await;
    assert_eq!(dlq.as_array().unwrap().len(), 0, "dead letters: {dlq}");

    let reclaimed = env
        .procs
        .iter()
        .filter(|p| p.name == "scout-b")
        .map(|p| p.log_text())
        .collect::<String>();
    eprintln!(
        "states {states:?}; scout B reclaimed after the kill: {}",
        reclaimed.contains("reclaimed jobs whose lease expired")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_sync_overtakes_ten_thousand_queued_batch_items() {
    let mut env = Env::new("prio").await;
    env.extra_env
        .push(("CRATEDIGGER__WORKERS__CONCURRENCY".into(), "2".into()));
    env.start_scheduler().await;
    let batch: String = (0..10_000)
        .map(|i| format!("Batch Artist {i} - Batch Title {i}\n"))
        .collect();
    let b = env.post_playlist(&batch, "batch").await;
    assert_eq!(b["enqueued"], 10_000);
    let i = env
        .post_playlist(
            "Fleetwood Mac - Little Lies\nFleetwood Mac - The Chain\n",
            "interactive",
        )
        .await;
    let interactive = i["sync_id"].as_str().unwrap().to_string();
    let batch_id = b["sync_id"].as_str().unwrap().to_string();

    env.start("research-lead", "research-lead", &[]);
    env.start("scout", "metadata-scout", &[]);
    env.start("consolidator", "consolidator", &[]);
    env.wait_finished(&interactive, Duration::from_secs(60))
        .await;
    let p = env.get(&format!("/v1/syncs/{batch_id}")).await;
    let pending = p["counts"]["pending"].as_i64().unwrap();
    assert!(
        pending > 5_000,
        "the interactive sync finished only after {} batch items were planned",
        10_000 - pending
    );
    let items = env.get(&format!("/v1/syncs/{interactive}/items")).await;
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .all(|it| it["state"] == "resolved"),
        "{items}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_whose_jobs_were_lost_are_reenqueued_by_the_reconciler() {
    let mut env = Env::new("flush").await;
    env.extra_env
        .push(("CRATEDIGGER__RECONCILER__INTERVAL_SECS".into(), "1".into()));
    env.extra_env.push((
        "CRATEDIGGER__RECONCILER__STUCK_AFTER_SECS".into(),
        "2".into(),
    ));
    env.start_scheduler().await;
    let created = env
        .post_playlist(
            "Fleetwood Mac - Little Lies\nMichael Jackson - Billie Jean\nNobody - Nothing\n",
            "batch",
        )
        .await;
    let sync_id = created["sync_id"].as_str().unwrap().to_string();
    // Lose every queued job of this fleet, as FLUSHALL would (only our prefix: other tests share Redis).
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{}:*", env.prefix))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        !keys.is_empty(),
        "the sync's jobs were queued under the test prefix"
    );
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();

    env.start("research-lead", "research-lead", &[]);
    env.start("scout", "metadata-scout", &[]);
    env.start("consolidator", "consolidator", &[]);
    let p = env.wait_finished(&sync_id, Duration::from_secs(60)).await;
    assert_eq!(p["counts"]["resolved"], 2, "{p}");
    assert_eq!(p["counts"]["failed"], 1, "{p}");
    let pg = env.pg().await;
    let requeued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_events WHERE reason LIKE 're-enqueued by the reconciler%'",
    )
    .fetch_one(&pg)
    .await
    .unwrap();
    assert!(requeued >= 3, "the reconciler re-enqueued {requeued} items");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_from_a_newer_release_is_dead_lettered_and_its_item_fails_readably() {
    let mut env = Env::new("schema").await;
    env.start_scheduler().await;
    let created = env
        .post_playlist("Fleetwood Mac - Little Lies\n", "batch")
        .await;
    let sync_id = created["sync_id"].as_str().unwrap().to_string();
    let items = env.get(&format!("/v1/syncs/{sync_id}/items")).await;
    let item_id = items[0]["id"].as_str().unwrap().to_string();
    // Replace the queued research job by one written with a schema this binary does not know.
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let jobs_key = format!("{{{}:research}}:jobs", env.prefix);
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(&jobs_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(fields.len(), 1);
    let newer = serde_json::json!({"v": 2, "job_id": uuid::Uuid::nil(), "body": {"item_id": item_id, "shiny": true}});
    let _: () = redis::cmd("HSET")
        .arg(&jobs_key)
        .arg(&fields[0])
        .arg(newer.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();

    env.start("research-lead", "research-lead", &[]);
    env.start("consolidator", "consolidator", &[]);
    let p = env.wait_finished(&sync_id, Duration::from_secs(30)).await;
    assert_eq!(p["counts"]["failed"], 1);
    let item = &env.get(&format!("/v1/syncs/{sync_id}/items")).await[0];
    let reason = item["reason"].as_str().unwrap();
    assert!(
        reason.contains("schema version 2 is not supported"),
        "{reason}"
    );
    let dlq = env.get("/v1/dlq?queue=research").await;
    assert_eq!(dlq[0]["reason"]["class"], "malformed");
    assert!(
        dlq[0]["reason"]["reason"]
            .as_str()
            .unwrap()
            .contains("version 2"),
        "{dlq}"
    );
}
