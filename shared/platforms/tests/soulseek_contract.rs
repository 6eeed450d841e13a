//! Soulseek (slskd) contract tests against the fake slskd of the e2e crate
//! (`tests/src/fake_slskd.rs`), which serves the kit's one REAL recorded search answer
//! (`<kit>/fixtures/slskd/searches_responses_demdike-stare-tryptych.json`, read in place,
//! byte for byte) for every search.
//!
//! GAP: the kit records no other slskd answer (no `POST /searches`, no search state, no
//! transfer, no server state; see the kit's slskd SOURCES.md). Those shapes are built from
//! slskd's source and API docs (SearchesController, TransfersController, `Transfer` with
//! states like "Completed, Succeeded" / "Queued, Remotely" / "InProgress",
//! `bytesTransferred`, `ServerState`), as the fake's module doc says.
//!
//! Fleet behaviour (budget, one search at a time, the ban pause seen by a second process)
//! runs against the real Redis on 127.0.0.1:6379, each test under its own key prefix; it is
//! asserted by reading the Redis state and the fake's counters, never by timing.

mod support;

use cratedigger_domain::acquisition::{Availability, DownloadRef, SourceCandidate};
use cratedigger_domain::{ErrorClass, WantedTrack};
use cratedigger_e2e::fake_slskd::{FakeSlskd, FakeSlskdOptions, Faults, RunningFakeSlskd};
use cratedigger_platforms::soulseek::{
    self, AUTH_REFUSED, Soulseek, SoulseekConfig, log_key, map_responses, paused_key,
    soulseek_paused_until,
};
use cratedigger_platforms::{
    AcquisitionSource, DownloadLimits, HttpConfig, PlatformContext, PlatformsConfig,
};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "test-slskd-key";
const RECORDED: &str = "slskd/searches_responses_demdike-stare-tryptych.json";

fn kit() -> PathBuf {
    support::fixtures_dir()
        .parent()
        .expect("the fixtures folder has a parent")
        .to_path_buf()
}

fn unique(test: &str) -> String {
    format!("test-slskd-{test}-{}", ulid::Ulid::new())
}

fn temp_root(test: &str) -> PathBuf {
    let root = std::env::temp_dir().join(unique(test));
    std::fs::create_dir_all(&root).unwrap();
    root
}

async fn fake(root: &Path) -> RunningFakeSlskd {
    let opts = FakeSlskdOptions {
        api_key: Some(KEY.into()),
        search_ms: 40,
        chunk_ms: 15,
        chunks: 8,
        ..FakeSlskdOptions::in_dir(&root.join("slskd"), Some(kit()))
    };
    FakeSlskd::new(opts)
        .expect("the fake slskd starts (it needs the kit's slskd recording)")
        .start("127.0.0.1:0")
        .await
        .expect("the fake slskd listens")
}

fn config(srv: &RunningFakeSlskd) -> SoulseekConfig {
    SoulseekConfig {
        base_url: srv.base_url(),
        api_key: Some(KEY.into()),
        timeout_secs: 5,
        downloads_dir: srv.fake().downloads_dir(),
        incomplete_dir: Some(srv.fake().incomplete_dir()),
        poll_interval_ms: 10,
        search_deadline_secs: 10,
        max_wait_secs: 5,
        ..SoulseekConfig::default()
    }
}

/// A context of its own (in process, own key prefix): tests never share a budget.
fn local_ctx(test: &str) -> PlatformContext {
    PlatformContext::new(&PlatformsConfig::default(), None, None, &unique(test))
}

async fn redis() -> ConnectionManager {
    let url = std::env::var("CRATEDIGGER__REDIS__URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = redis::Client::open(url.as_str()).expect("redis url");
    ConnectionManager::new(client)
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} is needed for this test: {e}"))
}

/// A "process" of the fleet: its own context over the shared Redis and prefix.
fn process(conn: &ConnectionManager, prefix: &str) -> PlatformContext {
    PlatformContext::new(
        &PlatformsConfig::default(),
        Some(conn.clone()),
        None,
        prefix,
    )
}

async fn clean(conn: &ConnectionManager, prefix: &str) {
    let mut c = conn.clone();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}:*"))
        .query_async(&mut c)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = c.del(keys).await.unwrap();
    }
}

fn client(cfg: &SoulseekConfig, ctx: &PlatformContext) -> Soulseek {
    Soulseek::from_config(cfg, &HttpConfig::default(), ctx).expect("client builds")
}

fn wanted() -> WantedTrack {
    WantedTrack {
        artist: "Demdike Stare".into(),
        title: "Forest of Evil (Dusk)".into(),
        ..Default::default()
    }
}

fn recorded() -> Vec<Value> {
    let v: Value = serde_json::from_slice(&support::fixture(RECORDED)).unwrap();
    v.as_array().cloned().expect("the recording is an array")
}

type Seen = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

/// A progress callback that records every report.
fn recorder() -> (impl Fn(u64, Option<u64>) + Send + Sync + 'static, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    (move |b, t| s.lock().unwrap().push((b, t)), seen)
}

fn candidate(username: &str, filename: &str, size: u64) -> SourceCandidate {
    SourceCandidate {
        source: "soulseek".into(),
        source_key: format!("{username}|{filename}"),
        title: "t".into(),
        availability: Availability::Download,
        download: Some(DownloadRef::Soulseek {
            username: username.into(),
            filename: filename.into(),
            size,
        }),
        ..Default::default()
    }
}

fn limits() -> DownloadLimits {
    DownloadLimits {
        stall_timeout: Duration::from_secs(5),
        max_bytes: DownloadLimits::default().max_bytes,
        overall_timeout: Duration::from_secs(30),
    }
}

/// Deterministic non-trivial bytes.
fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

// ---------- search and mapping ----------

#[tokio::test]
async fn the_recorded_responses_map_to_audio_candidates_with_peer_info() {
    let root = temp_root("map");
    let srv = fake(&root).await;
    let s = client(&config(&srv), &local_ctx("map"));
    let found = s.find(&wanted()).await.expect("search works");

    // independent count from the recording: unlocked files whose name ends in an audio type
    let mut expected = 0;
    let mut per_format = std::collections::BTreeMap::<String, usize>::new();
    for r in recorded() {
        for f in r["files"].as_array().unwrap() {
            let name = f["filename"].as_str().unwrap().to_ascii_lowercase();
            let ext = name.rsplit('.').next().unwrap().to_string();
            if matches!(ext.as_str(), "mp3" | "flac") && f["isLocked"] != Value::Bool(true) {
                expected += 1;
                *per_format.entry(ext).or_default() += 1;
            }
        }
    }
    assert_eq!(found.len(), expected);
    assert_eq!(per_format.get("mp3"), Some(&335), "the recording's MP3s");
    assert_eq!(per_format.get("flac"), Some(&23), "the recording's FLACs");
    let flacs = found
        .iter()
        .filter(|c| c.format.as_deref() == Some("flac"))
        .count();
    assert_eq!(flacs, 23);
    assert!(
        found
            .iter()
            .all(|c| c.is_downloadable() && c.source == "soulseek"),
        "every candidate is a Soulseek download"
    );
    assert!(
        !found
            .iter()
            .any(|c| c.title.to_ascii_lowercase().ends_with("jpg")),
        "cover art is not a candidate"
    );

    // a FLAC: lossless properties, no bitrate, duration, folder as release, stem as title
    let flac = found
        .iter()
        .find(|c| {
            c.peer.as_ref().unwrap().username == "WorldNoize"
                && c.title == "1-01 Forest of Evil (Dusk)"
        })
        .expect("WorldNoize's first FLAC");
    assert_eq!(flac.format.as_deref(), Some("flac"));
    assert_eq!(flac.sample_rate_hz, Some(44_100));
    assert_eq!(flac.bit_depth, Some(16));
    assert_eq!(flac.bitrate_kbps, None);
    assert_eq!(flac.duration_ms, Some(869_000));
    assert_eq!(flac.size_bytes, Some(76_575_888));
    assert_eq!(flac.release.as_deref(), Some("cd 1"));
    match &flac.download {
        Some(DownloadRef::Soulseek { filename, size, .. }) => {
            assert!(filename.ends_with("\\cd 1\\1-01 Forest of Evil (Dusk).flac"));
            assert_eq!(*size, 76_575_888);
        }
        other => panic!("unexpected download ref {other:?}"),
    }

    // an MP3 of a busy peer: bitrate and the peer's queue, slot and speed
    let busy = found
        .iter()
        .find(|c| c.peer.as_ref().unwrap().username == "lapin")
        .expect("lapin's files");
    let peer = busy.peer.as_ref().unwrap();
    assert_eq!(peer.has_free_slot, Some(false));
    assert_eq!(peer.queue_length, Some(14));
    assert_eq!(peer.upload_speed_bps, Some(94_968));
    assert!(busy.bitrate_kbps.is_some_and(|b| b > 0));
    assert_eq!(busy.format.as_deref(), Some("mp3"));

    // one search, deleted afterwards
    let stats = srv.fake().stats();
    assert_eq!(stats.searches_posted, 1);
    assert_eq!(stats.searches_deleted, 1);
    assert_eq!(stats.unauthorized, 0);
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn locked_files_are_left_out() {
    // The recording has no locked file (lockedFiles empty everywhere); simulate one IN THIS
    // TEST's copy (the file itself is never edited): lock the first audio file of the first
    // peer and add a lockedFiles entry.
    let mut raw = recorded();
    let all = map_responses(raw.clone(), usize::MAX, "test");
    let files = raw[0]["files"].as_array_mut().unwrap();
    let i = files
        .iter()
        .position(|f| f["filename"].as_str().unwrap().ends_with(".mp3"))
        .unwrap();
    files[i]["isLocked"] = Value::Bool(true);
    let locked_name = files[i]["filename"].as_str().unwrap().to_string();
    let locked = files[i].clone();
    raw[0]["lockedFiles"] = Value::Array(vec![locked]);
    let mapped = map_responses(raw, usize::MAX, "test");
    assert_eq!(mapped.len(), all.len() - 1);
    assert!(!mapped.iter().any(|c| matches!(&c.download,
        Some(DownloadRef::Soulseek { filename, .. }) if *filename == locked_name)));
    // and the bound holds
    assert_eq!(map_responses(recorded(), 7, "test").len(), 7);
}

#[tokio::test]
async fn a_429_on_search_is_a_rate_limit_and_frees_the_slot() {
    let root = temp_root("429");
    let srv = fake(&root).await;
    srv.fake().set_faults(Faults {
        search_429: 1,
        ..Default::default()
    });
    let s = client(&config(&srv), &local_ctx("429"));
    let e = s.find(&wanted()).await.expect_err("429");
    assert_eq!(e.class, ErrorClass::RateLimit);
    assert_eq!(e.retry_after, Some(Duration::from_secs(5)));
    assert!(e.detail.contains("HTTP 429"), "{}", e.detail);
    // the slot was given back: the next search goes at once
    assert!(!s.find(&wanted()).await.unwrap().is_empty());
    let stats = srv.fake().stats();
    assert_eq!((stats.searches_refused, stats.searches_posted), (1, 1));
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn a_refused_key_names_the_variable_to_check() {
    let root = temp_root("auth");
    let srv = fake(&root).await;
    let cfg = SoulseekConfig {
        api_key: Some("wrong".into()),
        ..config(&srv)
    };
    let s = client(&cfg, &local_ctx("auth"));
    let e = s.find(&wanted()).await.expect_err("401");
    assert_eq!(e.class, ErrorClass::Auth);
    assert_eq!(e.to_string(), AUTH_REFUSED);
    assert!(
        !e.detail.contains("wrong"),
        "the key never appears: {}",
        e.detail
    );
    assert_eq!(srv.fake().stats().unauthorized, 1);
    std::fs::remove_dir_all(&root).ok();
}

// ---------- fleet etiquette (Redis) ----------

#[tokio::test]
async fn a_ban_pauses_the_whole_fleet_and_a_second_process_sees_it() {
    let conn = redis().await;
    let prefix = unique("ban");
    let root = temp_root("ban");
    let srv = fake(&root).await;
    srv.fake().set_faults(Faults {
        ban: true,
        ..Default::default()
    });
    let (ctx_a, ctx_b) = (process(&conn, &prefix), process(&conn, &prefix));
    let (a, b) = (client(&config(&srv), &ctx_a), client(&config(&srv), &ctx_b));
    assert!(soulseek_paused_until(&ctx_b).await.is_none());

    let e = a.find(&wanted()).await.expect_err("banned");
    assert_eq!(e.class, ErrorClass::RateLimit);
    let text = e.to_string();
    assert!(
        text.starts_with("Soulseek paused for the whole fleet until ")
            && text.ends_with(
                " UTC: the server stopped answering searches (likely a temporary ban for searching too fast)"
            ),
        "{text}"
    );
    let wait = e.retry_after.expect("the pause's length");
    assert!(wait > Duration::from_secs(1790) && wait <= Duration::from_secs(1800));
    let stats = srv.fake().stats();
    assert_eq!((stats.searches_conflict, stats.server_reads), (1, 1));

    // the marker is in Redis, with its TTL and the reason
    let mut c = conn.clone();
    let ttl: i64 = c.pttl(paused_key(&prefix)).await.unwrap();
    assert!(ttl > 1_790_000, "pause TTL {ttl} ms");
    let why: String = c.get(paused_key(&prefix)).await.unwrap();
    assert!(why.contains("Disconnected"), "{why}");

    // the other process: refused before any request to slskd, searches and downloads alike
    let until = soulseek_paused_until(&ctx_b)
        .await
        .expect("paused fleet-wide");
    let left = until - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(29) && left <= chrono::Duration::minutes(30));
    let e = b.find(&wanted()).await.expect_err("paused");
    assert_eq!(e.class, ErrorClass::RateLimit);
    assert!(
        e.to_string()
            .starts_with("Soulseek paused for the whole fleet")
    );
    let (progress, _) = recorder();
    let e = b
        .download(
            &candidate("peer", "@@x\\a\\b.flac", 3),
            &root.join("dest.flac"),
            &limits(),
            &progress,
        )
        .await
        .expect_err("paused");
    assert_eq!(e.class, ErrorClass::RateLimit);
    let after = srv.fake().stats();
    assert_eq!(after.searches_conflict, 1, "b never reached slskd");
    assert_eq!(after.enqueued, 0);
    clean(&conn, &prefix).await;
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn errored_searches_in_a_row_pause_even_while_logged_in() {
    let root = temp_root("errored");
    let srv = fake(&root).await;
    srv.fake().set_faults(Faults {
        search_errored: true,
        ..Default::default()
    });
    let cfg = SoulseekConfig {
        ban_after_errors: 2,
        ..config(&srv)
    };
    let ctx = local_ctx("errored");
    let s = client(&cfg, &ctx);
    let first = s.find(&wanted()).await.expect_err("errored");
    assert_eq!(first.class, ErrorClass::Server);
    assert!(
        first.detail.contains("Completed, Errored"),
        "{}",
        first.detail
    );
    assert!(
        soulseek_paused_until(&ctx).await.is_none(),
        "one error is not a ban"
    );
    let second = s.find(&wanted()).await.expect_err("paused now");
    assert_eq!(second.class, ErrorClass::RateLimit);
    assert!(soulseek_paused_until(&ctx).await.is_some());
    assert_eq!(srv.fake().stats().searches_posted, 2);
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn the_35th_search_in_the_window_is_refused_with_the_wait() {
    let conn = redis().await;
    let prefix = unique("budget");
    let root = temp_root("budget");
    let srv = fake(&root).await;
    srv.fake()
        .configure(cratedigger_e2e::fake_slskd::ConfigUpdate {
            search_ms: Some(1),
            ..Default::default()
        });
    let ctx = process(&conn, &prefix);
    let s = client(&config(&srv), &ctx);
    for i in 0..34 {
        s.find(&wanted())
            .await
            .unwrap_or_else(|e| panic!("search {i} within the budget: {e}"));
    }
    let mut c = conn.clone();
    let logged: usize = c.zcard(log_key(&prefix)).await.unwrap();
    assert_eq!(logged, 34, "34 sends in the fleet's log");
    assert_eq!(s.budget().searches_in_window().await, 34);

    // another process of the fleet asks for the 35th
    let other = client(&config(&srv), &process(&conn, &prefix));
    let e = other.find(&wanted()).await.expect_err("over budget");
    assert_eq!(e.class, ErrorClass::RateLimit);
    let wait = e.retry_after.expect("when to try again");
    assert!(
        wait > Duration::from_secs(150) && wait <= Duration::from_secs(220),
        "{wait:?}"
    );
    assert!(e.detail.contains("34 searches per 220 s"), "{}", e.detail);
    assert_eq!(
        srv.fake().stats().searches_posted,
        34,
        "the 35th never left"
    );
    let still: usize = c.zcard(log_key(&prefix)).await.unwrap();
    assert_eq!(still, 34, "a refused search consumes no budget");
    clean(&conn, &prefix).await;
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn an_empty_result_holds_the_fleet_s_next_search() {
    let conn = redis().await;
    let prefix = unique("empty");
    let root = temp_root("empty");
    let srv = fake(&root).await;
    srv.fake().set_faults(Faults {
        empty: true,
        ..Default::default()
    });
    let cfg = SoulseekConfig {
        max_wait_secs: 1,
        ..config(&srv)
    };
    let s = client(&cfg, &process(&conn, &prefix));
    assert!(s.find(&wanted()).await.unwrap().is_empty());
    let mut c = conn.clone();
    let quiet: i64 = c
        .pttl(format!("{{{prefix}:soulseek}}:quiet"))
        .await
        .unwrap();
    assert!(quiet > 4_000 && quiet <= 5_000, "quiet time {quiet} ms");
    let other = client(&cfg, &process(&conn, &prefix));
    let e = other.find(&wanted()).await.expect_err("quiet time");
    assert_eq!(e.class, ErrorClass::RateLimit);
    assert!(e.detail.contains("quiet time"), "{}", e.detail);
    assert!(e.retry_after.is_some_and(|w| w <= Duration::from_secs(5)));
    assert_eq!(srv.fake().stats().searches_posted, 1);
    clean(&conn, &prefix).await;
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn searches_go_one_at_a_time_across_the_fleet() {
    let conn = redis().await;
    let prefix = unique("one");
    let root = temp_root("one");
    let srv = fake(&root).await;
    srv.fake()
        .configure(cratedigger_e2e::fake_slskd::ConfigUpdate {
            search_ms: Some(60),
            ..Default::default()
        });
    let a = client(&config(&srv), &process(&conn, &prefix));
    let b = client(&config(&srv), &process(&conn, &prefix));
    let t = wanted();
    let runs = (0..6).map(|i| {
        let c = if i % 2 == 0 { &a } else { &b };
        c.find(&t)
    });
    for r in futures::future::join_all(runs).await {
        assert!(!r.expect("every search gets its turn").is_empty());
    }
    let stats = srv.fake().stats();
    assert_eq!(stats.searches_posted, 6);
    assert_eq!(
        stats.max_concurrent_searches, 1,
        "never two searches at once"
    );
    assert_eq!(stats.searches_refused, 0, "slskd never had to answer 429");
    clean(&conn, &prefix).await;
    std::fs::remove_dir_all(&root).ok();
}

// ---------- downloads ----------

#[tokio::test]
async fn a_completed_transfer_is_moved_to_dest_with_the_right_bytes() {
    let root = temp_root("done");
    let srv = fake(&root).await;
    let s = client(&config(&srv), &local_ctx("done"));
    let found = s.find(&wanted()).await.unwrap();
    let pick = found
        .iter()
        .find(|c| c.format.as_deref() == Some("flac"))
        .unwrap()
        .clone();
    let Some(DownloadRef::Soulseek { filename, .. }) = &pick.download else {
        panic!("a Soulseek candidate")
    };
    let bytes = content(100_000, 7);
    let local = root.join("peer-copy.flac");
    std::fs::write(&local, &bytes).unwrap();
    srv.fake().register_file(filename, &local);

    let dest = root.join("staging").join("item-1.flac");
    let (progress, seen) = recorder();
    let got = s
        .download(&pick, &dest, &limits(), &progress)
        .await
        .expect("download works");
    assert_eq!(got.path, dest);
    assert_eq!(got.bytes, bytes.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress only grows"
    );
    assert_eq!(
        seen.last().copied(),
        Some((bytes.len() as u64, Some(bytes.len() as u64)))
    );
    assert!(seen.len() >= 3, "progress reported along the way: {seen:?}");
    // moved, not copied: slskd's downloads directory no longer holds it
    let saved = soulseek::local_path_in(&srv.fake().downloads_dir(), filename);
    assert!(!saved.exists(), "{} still there", saved.display());
    let stats = srv.fake().stats();
    assert_eq!((stats.completed, stats.removed, stats.cancelled), (1, 1, 0));
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn a_stalled_transfer_is_cancelled_and_its_partial_file_removed() {
    let root = temp_root("stall");
    let srv = fake(&root).await;
    let remote = "@@abcde\\Music\\Demdike Stare\\Triptych\\1-01 Forest Of Evil (Dusk).flac";
    let local = root.join("peer.flac");
    std::fs::write(&local, content(80_000, 3)).unwrap();
    srv.fake().register_file(remote, &local);
    srv.fake().set_faults(Faults {
        stall_filename: Some(remote.into()),
        ..Default::default()
    });
    let s = client(&config(&srv), &local_ctx("stall"));
    let dest = root.join("staging").join("stalled.flac");
    let lim = DownloadLimits {
        stall_timeout: Duration::from_millis(400),
        ..limits()
    };
    let (progress, seen) = recorder();
    let e = s
        .download(&candidate("peer", remote, 80_000), &dest, &lim, &progress)
        .await
        .expect_err("stalled");
    assert_eq!(e.class, ErrorClass::Network);
    assert!(e.detail.starts_with("stalled"), "{}", e.detail);
    let partial_seen = seen.lock().unwrap().last().map(|p| p.0).unwrap_or(0);
    assert!(
        partial_seen > 0 && partial_seen < 80_000,
        "it stalled halfway: {partial_seen}"
    );
    let stats = srv.fake().stats();
    assert_eq!(stats.cancelled, 1, "the transfer was cancelled in slskd");
    let partial = soulseek::local_path_in(&srv.fake().incomplete_dir(), remote);
    assert!(
        !partial.exists(),
        "partial file {} removed",
        partial.display()
    );
    assert!(!dest.exists());
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn a_refused_or_unshared_file_is_not_found() {
    let root = temp_root("reject");
    let srv = fake(&root).await;
    let remote = "@@abcde\\Music\\A\\x.flac";
    let local = root.join("x.flac");
    std::fs::write(&local, content(1000, 1)).unwrap();
    srv.fake().register_file(remote, &local);
    srv.fake().set_faults(Faults {
        reject_filename: Some(remote.into()),
        ..Default::default()
    });
    let s = client(&config(&srv), &local_ctx("reject"));
    let (progress, _) = recorder();
    let e = s
        .download(
            &candidate("peer", remote, 1000),
            &root.join("d.flac"),
            &limits(),
            &progress,
        )
        .await
        .expect_err("refused");
    assert_eq!(e.class, ErrorClass::NotFound);
    assert!(e.detail.contains("File not shared."), "{}", e.detail);
    // a file nobody registered is "not shared" too
    let e = s
        .download(
            &candidate("peer", "@@abcde\\Music\\A\\nothing.flac", 10),
            &root.join("d2.flac"),
            &limits(),
            &progress,
        )
        .await
        .expect_err("not shared");
    assert_eq!(e.class, ErrorClass::NotFound);
    assert!(!root.join("d.flac").exists() && !root.join("d2.flac").exists());
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn oversized_files_are_refused_before_anything_is_queued() {
    let root = temp_root("big");
    let srv = fake(&root).await;
    let s = client(&config(&srv), &local_ctx("big"));
    let (progress, _) = recorder();
    let lim = DownloadLimits {
        max_bytes: 1000,
        ..limits()
    };
    let e = s
        .download(
            &candidate("peer", "@@x\\a\\b.flac", 5000),
            &root.join("d.flac"),
            &lim,
            &progress,
        )
        .await
        .expect_err("too big");
    assert_eq!(e.class, ErrorClass::BadRequest);
    assert_eq!(srv.fake().stats().enqueued, 0);
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn hostile_peer_paths_never_leave_the_downloads_directory() {
    let root = temp_root("hostile");
    let srv = fake(&root).await;
    let downloads = srv.fake().downloads_dir();
    // what a naive join of `..\..\etc\passwd` onto `<downloads>/<parent>` would reach
    let sentinel_dir = downloads.join("..").join("..").join("etc");
    std::fs::create_dir_all(&sentinel_dir).unwrap();
    let sentinel = sentinel_dir.join("passwd");
    std::fs::write(&sentinel, b"sentinel").unwrap();

    let s = client(&config(&srv), &local_ctx("hostile"));
    let hostile = [
        "..\\..\\etc\\passwd",
        "@@share\\..\\..",
        "/etc/passwd",
        "C:\\Windows\\System32\\CON\\NUL.flac",
        "@@share\\. \\...",
    ];
    for (i, remote) in hostile.iter().enumerate() {
        let bytes = content(5000 + i, i as u8);
        let local = root.join(format!("src-{i}"));
        std::fs::write(&local, &bytes).unwrap();
        srv.fake().register_file(remote, &local);
        let landing = soulseek::local_path_in(&downloads, remote);
        assert!(
            landing.starts_with(&downloads),
            "{remote:?} -> {}",
            landing.display()
        );
        let dest = root.join("staging").join(format!("item-{i}.bin"));
        let (progress, _) = recorder();
        let got = s
            .download(
                &candidate("peer", remote, bytes.len() as u64),
                &dest,
                &limits(),
                &progress,
            )
            .await
            .unwrap_or_else(|e| panic!("{remote:?}: {e}"));
        assert_eq!(std::fs::read(&got.path).unwrap(), bytes, "{remote:?}");
    }
    assert_eq!(
        std::fs::read(&sentinel).unwrap(),
        b"sentinel",
        "nothing outside the downloads directory was touched"
    );
    std::fs::remove_dir_all(&root).ok();
}
