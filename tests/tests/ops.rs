//! Operations, end to end on the real binaries (real Redis and Postgres, the fixture server
//! for the platforms): a SIGTERM'd scout drains without losing or repeating a job; every
//! metric the alert rules and the Grafana dashboard use is exported by a live process; the
//! scheduler's queue-depth gauges equal Redis per lane; JSON logs carry the job's ids and
//! never a secret.

mod support;

use cratedigger_e2e::fixture_server::Fault;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use support::{Env, fixture_lines, workspace_root};

/// Labels and value of one exposition sample.
type Sample = (BTreeMap<String, String>, f64);

/// Parses Prometheus text exposition into samples by metric name (comments skipped).
fn parse_exposition(text: &str) -> BTreeMap<String, Vec<Sample>> {
    let mut out: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = match line.rsplit_once(' ') {
            Some(p) => p,
            None => continue,
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        // Label values we export never contain `",` or escaped quotes.
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once('=') {
                map.insert(k.to_string(), v.trim_matches('"').to_string());
            }
        }
        let v = value.parse::<f64>().unwrap_or(f64::NAN);
        out.entry(name.to_string()).or_default().push((map, v));
    }
    out
}

/// Value of `name{labels}` in an exposition, if exported.
fn sample(
    expo: &BTreeMap<String, Vec<Sample>>,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    expo.get(name)?
        .iter()
        .find(|(l, _)| {
            labels
                .iter()
                .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| *v)
}

/// Every `cratedigger_*` metric name the alert rules and the dashboards use, with the file
/// it came from (recording rules are named `cratedigger:…`, so they are not picked up).
fn metric_names_used() -> BTreeMap<String, String> {
    let root = workspace_root().join("deploy");
    let mut files = vec![root.join("prometheus").join("alerts.yml")];
    let dash_dir = root.join("grafana").join("dashboards");
    for entry in std::fs::read_dir(&dash_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dash_dir.display()))
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    let mut names = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(pos) = text[i..].find("cratedigger_") {
            let start = i + pos;
            let boundary = start == 0
                || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if boundary {
                let rel = file.strip_prefix(workspace_root()).unwrap_or(&file);
                names
                    .entry(text[start..end].to_string())
                    .or_insert_with(|| rel.display().to_string());
            }
            i = end.max(start + 1);
        }
    }
    names
}

/// The address a worker binary serves `/metrics` on, read from its start-up log line
/// (text: `metrics=127.0.0.1:PORT`, JSON: `"metrics":"127.0.0.1:PORT"`).
async fn metrics_addr(env: &Env, proc_idx: usize) -> String {
    let start = Instant::now();
    loop {
        let log = strip_ansi(&env.procs[proc_idx].log_text());
        for line in log.lines().filter(|l| l.contains("serving /metrics")) {
            for marker in ["metrics=", "\"metrics\":\""] {
                if let Some(p) = line.find(marker) {
                    let addr: String = line[p + marker.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                        .collect();
                    if !addr.is_empty() {
                        return addr;
                    }
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} did not log its metrics address in 30 s:\n{log}",
            env.procs[proc_idx].name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Text logs are coloured when written to a file too; drop the escape sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn scrape(url: &str) -> String {
    let r = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.text().await.unwrap()
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    let url = std::env::var("CRATEDIGGER__REDIS__URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis on 127.0.0.1:6379")
}

fn final_count(progress: &Value) -> i64 {
    ["resolved", "duplicate", "failed"]
        .iter()
        .map(|s| progress["counts"][*s].as_i64().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scout_stopped_with_sigterm_finishes_its_jobs_hands_back_the_rest_and_exits_0() {
    let mut env = Env::new("sigterm").await;
    // Every platform answer takes 400 ms, so the scout holds jobs when it is told to stop.
    env.fixtures.set_latency(Duration::from_millis(400));
    env.extra_env
        .push(("CRATEDIGGER__WORKERS__CONCURRENCY".into(), "4".into()));
    env.start_scheduler().await;
    env.start("research-lead", "research-lead", &[]);
    env.start("consolidator", "consolidator", &[]);
    let scout_a = env.start("scout-a", "metadata-scout", &[]);

    let mut lines: Vec<String> = fixture_lines().into_iter().take(22).collect();
    lines.push("Nobody Recorded - Unknown Track".into());
    lines.push("Nobody Recorded Either - Unknown Track 2".into());
    let created = env.post_playlist(&lines.join("\n"), "batch").await;
    let total = created["items"].as_i64().unwrap();
    assert_eq!(total, lines.len() as i64);
    let sync_id = created["sync_id"].as_str().unwrap().to_string();

    let mut conn = redis_conn().await;
    let base = format!("{{{}:metadata}}", env.prefix);
    let inflight_key = format!("{base}:inflight");
    // Wait until scout A holds at least two jobs.
    let start = Instant::now();
    loop {
        let held: u64 = redis::cmd("ZCARD")
            .arg(&inflight_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if held >= 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "scout A never held two jobs; log:\n{}",
            env.procs[scout_a].log_text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A moment for the fetched jobs to start (each waits 400 ms per platform answer, and
    // MusicBrainz's fleet-wide limit allows one request a second), then the jobs in hand.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let in_hand: Vec<String> = redis::cmd("ZRANGE")
        .arg(&inflight_key)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        !in_hand.is_empty(),
        "scout A finished everything it held within 300 ms"
    );
    let before = env.get(&format!("/v1/syncs/{sync_id}")).await;
    assert!(
        final_count(&before) < total,
        "the sync finished before the scout could be stopped"
    );

    let stop = Instant::now();
    let exited_0 = env.procs[scout_a].terminate(Duration::from_secs(60));
    let drain = stop.elapsed();
    let log_a = env.procs[scout_a].log_text();
    assert!(
        exited_0,
        "scout A did not exit 0 within 60 s of SIGTERM; log:\n{log_a}"
    );
    assert!(log_a.contains("stop requested"), "{log_a}");
    assert!(log_a.contains("worker stopped"), "{log_a}");
    assert!(
        !log_a.contains("shutdown timeout elapsed"),
        "scout A gave up on running jobs: {log_a}"
    );

    // Nothing is left leased by the stopped scout: each job it held was finished (acked, gone
    // from the jobs hash) or handed back to its lane.
    let still_leased: u64 = redis::cmd("ZCARD")
        .arg(&inflight_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(still_leased, 0, "jobs still leased after a clean stop");
    let mut finished = 0;
    let mut handed_back = 0;
    for qid in &in_hand {
        let live: bool = redis::cmd("HEXISTS")
            .arg(format!("{base}:jobs"))
            .arg(qid)
            .query_async(&mut conn)
            .await
            .unwrap();
        if !live {
            finished += 1;
            continue;
        }
        let queued: Vec<String> = redis::cmd("LRANGE")
            .arg(format!("{base}:lane:batch"))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            queued.contains(qid),
            "job {qid} held at SIGTERM is neither finished nor back in its lane"
        );
        handed_back += 1;
    }
    assert!(
        finished >= 1,
        "none of the {} jobs in hand was finished after SIGTERM",
        in_hand.len()
    );

    // Another scout takes over; the sync completes with every item final exactly once.
    env.start("scout-b", "metadata-scout", &[]);
    let progress = env.wait_finished(&sync_id, Duration::from_secs(120)).await;
    assert_eq!(progress["total"].as_i64(), Some(total));
    assert_eq!(final_count(&progress), total, "{progress}");

    let pg = env.pg().await;
    let not_once: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT i.id, count(e.id) FROM items i
           LEFT JOIN item_events e ON e.item_id = i.id AND e.to_state IN ('resolved','duplicate','failed')
          GROUP BY i.id HAVING count(e.id) <> 1",
    )
    .fetch_all(&pg)
    .await
    .unwrap();
    assert!(
        not_once.is_empty(),
        "items not finished exactly once: {not_once:?}"
    );
    let researched_twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT item_id FROM item_events WHERE to_state = 'researching'
           GROUP BY item_id HAVING count(*) > 1) t",
    )
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(researched_twice, 0, "an item entered researching twice");

    // Every metadata job was acknowledged exactly once: pushed == done, none retried or dead.
    let stats: HashMap<String, u64> = redis::cmd("HGETALL")
        .arg(format!("{base}:stats"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stats.get("pushed"), Some(&(total as u64)), "{stats:?}");
    assert_eq!(stats.get("done"), stats.get("pushed"), "{stats:?}");
    assert_eq!(stats.get("dead").copied().unwrap_or(0), 0, "{stats:?}");
    let dlq = env.get("/v1/dlq").await;
    assert_eq!(dlq.as_array().map(Vec::len), Some(0), "dead letters: {dlq}");
    eprintln!(
        "SIGTERM drain: {} jobs in hand -> {finished} finished, {handed_back} handed back; exit 0 after {:.2} s",
        in_hand.len(),
        drain.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_alerts_and_dashboard_use_is_exported_by_a_live_process() {
    let used = metric_names_used();
    assert!(
        used.len() >= 10,
        "found only {} metric names in the rules and dashboards: {used:?}",
        used.len()
    );
    let mut env = Env::new("metrics").await;
    // Acquisition on, with Soulseek pointed at the fixture server's fake slskd, so the
    // acquisition roles register their per-source series.
    let acq = env.logs.join("acq");
    env.extra_env.extend([
        (
            "CRATEDIGGER__ACQUISITION__ENABLED".to_string(),
            "true".to_string(),
        ),
        (
            "CRATEDIGGER__ACQUISITION__LIBRARY_DIR".into(),
            acq.join("library").display().to_string(),
        ),
        (
            "CRATEDIGGER__ACQUISITION__STAGING_DIR".into(),
            acq.join("staging").display().to_string(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__BASE_URL".into(),
            format!("{}/slskd", env.fixtures.base_url()),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__API_KEY".into(),
            "metrics-test".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__DOWNLOADS_DIR".into(),
            acq.join("slskd").display().to_string(),
        ),
    ]);
    env.start_scheduler().await;
    let lead = env.start("research-lead", "research-lead", &[]);
    let scout = env.start("scout", "metadata-scout", &[]);
    let consolidator = env.start("consolidator", "consolidator", &[]);
    let discovery = env.start("discovery-scout", "discovery-scout", &[]);
    let acquisition = env.start("acquisition-scout", "acquisition-scout", &[]);
    let assessor = env.start("quality-assessor", "quality-assessor", &[]);
    // A Retry-After above the longest wait a worker sleeps through (60 s) parks that platform
    // (under this test's prefix) and fails its queries at once: platform errors are counted
    // while the other platforms keep the sync going.
    env.fixtures.inject(Fault {
        status: 429,
        count: 1,
        retry_after: Some(61),
    });
    let lines: Vec<String> = fixture_lines().into_iter().take(4).collect();
    let created = env.post_playlist(&lines.join("\n"), "interactive").await;
    env.wait_finished(
        created["sync_id"].as_str().unwrap(),
        Duration::from_secs(120),
    )
    .await;
    // Gauges refresh every 5 s; a little more and the sync's items are in cratedigger_items.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let mut exported: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut sources = vec![("scheduler".to_string(), format!("{}/metrics", env.api()))];
    for idx in [lead, scout, consolidator, discovery, acquisition, assessor] {
        let addr = metrics_addr(&env, idx).await;
        sources.push((
            env.procs[idx].name.clone(),
            format!("http://{addr}/metrics"),
        ));
    }
    for (who, url) in &sources {
        let text = scrape(url).await;
        // Sample names, plus family names from `# TYPE` (a histogram's own name has no sample).
        let families = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string);
        for name in parse_exposition(&text).into_keys().chain(families) {
            exported.entry(name).or_default().push(who.clone());
        }
    }
    let missing: Vec<String> = used
        .iter()
        .filter(|(name, _)| !exported.contains_key(*name))
        .map(|(name, file)| format!("{name} (used in {file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics used by alerts/dashboards but exported by no running binary: {missing:#?}\nexported: {:#?}",
        exported.keys()
    );
    eprintln!(
        "{} metric names used by rules and dashboards, all exported ({} names scraped from {} processes)",
        used.len(),
        exported.len(),
        sources.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_depth_gauges_equal_redis_per_lane_under_load() {
    let mut env = Env::new("depth").await;
    // No workers: what is enqueued stays put, so the gauge must converge to Redis exactly.
    env.start_scheduler().await;
    let mut conn = redis_conn().await;
    let lanes = ["interactive", "batch", "background"];
    let queues = ["research", "metadata", "consolidate"];
    let mut rounds = Vec::new();
    for (round, sizes) in [[3usize, 40, 7], [25, 300, 60]].into_iter().enumerate() {
        let posts = lanes.iter().zip(sizes).map(|(lane, n)| {
            let text: String = (0..n)
                .map(|i| format!("Round{round} {lane} Artist {i} - Title {i}\n"))
                .collect();
            let env = &env;
            async move { env.post_playlist(&text, lane).await }
        });
        futures::future::join_all(posts).await;

        let start = Instant::now();
        loop {
            let expo = parse_exposition(&scrape(&format!("{}/metrics", env.api())).await);
            let api: Value = env.get("/v1/queues").await;
            let mut mismatches = Vec::new();
            for queue in queues {
                let from_api = api
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|q| q["queue"] == queue)
                    .unwrap_or_else(|| panic!("/v1/queues has no {queue}: {api}"));
                for lane in lanes {
                    let key = format!("{{{}:{queue}}}:lane:{lane}", env.prefix);
                    let in_redis: u64 = redis::cmd("LLEN")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                    let gauge = sample(
                        &expo,
                        "cratedigger_queue_depth",
                        &[("queue", queue), ("lane", lane)],
                    );
                    let listed = from_api["lanes"][lane].as_u64();
                    if gauge != Some(in_redis as f64) || listed != Some(in_redis) {
                        mismatches.push(format!(
                            "{queue}/{lane}: redis {in_redis}, /v1/queues {listed:?}, gauge {gauge:?}"
                        ));
                    }
                }
                for (gauge_name, field) in [
                    ("cratedigger_queue_inflight", "inflight"),
                    ("cratedigger_queue_delayed", "delayed"),
                    ("cratedigger_dead_letter_size", "dead"),
                ] {
                    let gauge = sample(&expo, gauge_name, &[("queue", queue)]);
                    if gauge != from_api[field].as_f64() {
                        mismatches.push(format!(
                            "{queue} {field}: /v1/queues {}, gauge {gauge:?}",
                            from_api[field]
                        ));
                    }
                }
            }
            let expected_research: u64 = sizes.iter().map(|n| *n as u64).sum::<u64>()
                + rounds
                    .iter()
                    .map(|r: &[usize; 3]| r.iter().sum::<usize>() as u64)
                    .sum::<u64>();
            let research_total: f64 = lanes
                .iter()
                .filter_map(|l| {
                    sample(
                        &expo,
                        "cratedigger_queue_depth",
                        &[("queue", "research"), ("lane", l)],
                    )
                })
                .sum();
            if mismatches.is_empty() && research_total == expected_research as f64 {
                eprintln!(
                    "round {round}: gauges equal Redis per lane ({research_total} research jobs) after {:.1} s",
                    start.elapsed().as_secs_f64()
                );
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "round {round}: the scheduler's gauges did not match Redis within 20 s (export every 5 s): {mismatches:#?}, research total {research_total} of {expected_research}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        rounds.push(sizes);
    }
}

/// Log lines that are written while a job is handled: by a role's handler or a platform
/// client (not the registry, which logs at start-up), and the runtime's retry/give-up lines.
fn is_job_line(line: &Value) -> bool {
    let target = line["target"].as_str().unwrap_or("");
    let message = line["fields"]["message"].as_str().unwrap_or("");
    let handler = [
        "cratedigger_workers::metadata_scout",
        "cratedigger_workers::research_lead",
        "cratedigger_workers::consolidator",
    ]
    .iter()
    .any(|t| target.starts_with(t));
    let platform = target.starts_with("cratedigger_platforms")
        && !target.starts_with("cratedigger_platforms::registry");
    let runtime = target.starts_with("cratedigger_fleet::runtime")
        && (message.starts_with("job failed") || message.starts_with("job gave up"));
    handler || platform || runtime
}

/// A field of the `job` span around a JSON log line (`span` and `spans` as tracing-subscriber
/// writes them).
fn job_field<'a>(line: &'a Value, field: &str) -> Option<&'a str> {
    std::iter::once(&line["span"])
        .chain(line["spans"].as_array().into_iter().flatten())
        .filter(|s| s["name"] == "job")
        .find_map(|s| s[field].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_job_ids_on_every_job_line_and_never_a_secret() {
    let mut env = Env::new("logs").await;
    let api_token = format!("api-secret-{}", ulid::Ulid::new());
    let platform_token = format!("platform-secret-{}", ulid::Ulid::new());
    let fixtures = env.fixtures.base_url();
    env.extra_env.extend([
        ("CRATEDIGGER_LOG_FORMAT".to_string(), "json".to_string()),
        ("RUST_LOG".to_string(), "info".to_string()),
        ("CRATEDIGGER__API__TOKEN".to_string(), api_token.clone()),
        // A platform credential in every process' environment; the platform is pointed at the
        // fixture server so nothing leaves this machine whatever the registry does with it.
        (
            "CRATEDIGGER__PLATFORMS__DISCOGS__TOKEN".to_string(),
            platform_token.clone(),
        ),
        (
            "CRATEDIGGER__PLATFORMS__DISCOGS__BASE_URL".to_string(),
            fixtures,
        ),
    ]);
    env.start_scheduler().await;
    // Process names are the roles: each job line's `worker` must start with its role.
    env.start("research-lead", "research-lead", &[]);
    env.start("metadata-scout", "metadata-scout", &[]);
    env.start("consolidator", "consolidator", &[]);
    // One platform answer asks us to wait longer than a worker waits: the platform is parked
    // and the scout logs warnings inside its jobs (job lines at RUST_LOG=info).
    env.fixtures.inject(Fault {
        status: 429,
        count: 1,
        retry_after: Some(61),
    });
    let mut lines: Vec<String> = fixture_lines().into_iter().take(5).collect();
    lines.push("Nobody Recorded - Unknown Track".into());
    let playlist = env.logs.join("logs-playlist.txt");
    std::fs::write(&playlist, lines.join("\n")).unwrap();
    // The CLI sends the token (from the environment) and waits for the sync.
    let out = env.cli(&[
        "sync",
        playlist.to_str().unwrap(),
        "--json",
        "--timeout",
        "120",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "cratedigger sync failed: {stderr}\n{stdout}"
    );
    let doc: Value = serde_json::from_str(&stdout).expect("sync --json prints one JSON document");
    assert_eq!(
        doc["items"].as_array().map(Vec::len),
        Some(lines.len()),
        "{doc}"
    );

    // The API refuses a request without the token (so the token was really in force).
    let anonymous = reqwest::get(format!("{}/v1/queues", env.api()))
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    let mut job_lines = 0;
    let mut problems = Vec::new();
    for p in &env.procs {
        let log = p.log_text();
        for secret in [&api_token, &platform_token] {
            assert!(!log.contains(secret.as_str()), "{} logged a secret", p.name);
        }
        for raw in log.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(line) = serde_json::from_str::<Value>(raw) else {
                // The scheduler prints one plain line on stdout for people ("listening on").
                if raw.starts_with("cratedigger listening on") {
                    continue;
                }
                problems.push(format!("{}: not a JSON line: {raw}", p.name));
                continue;
            };
            if !is_job_line(&line) {
                continue;
            }
            job_lines += 1;
            let role = p.name.as_str();
            for field in ["job_id", "item_id", "sync_id"] {
                if job_field(&line, field).is_none_or(str::is_empty) {
                    problems.push(format!("{role}: job line without {field}: {raw}"));
                }
            }
            let worker = job_field(&line, "worker").unwrap_or("");
            if !worker.starts_with(role) {
                problems.push(format!(
                    "{role}: job line whose worker is '{worker}': {raw}"
                ));
            }
        }
    }
    for secret in [&api_token, &platform_token] {
        assert!(
            !stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()),
            "the CLI printed a secret"
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        job_lines >= 1,
        "no log line was written inside a job (the injected 429s should have produced warnings); logs in {}",
        env.logs.display()
    );
    eprintln!(
        "{job_lines} job log lines, each with job_id, item_id, sync_id and worker; no secret in any log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scout_whose_jobs_outlast_the_shutdown_timeout_exits_and_its_jobs_are_taken_over() {
    let mut env = Env::new("shutdown-timeout").await;
    // Platform answers take 8 s (below the clients' timeouts), the scout may drain for 1 s:
    // it must exit anyway, and its unfinished jobs come back when their 4 s leases expire.
    env.fixtures.set_latency(Duration::from_secs(8));
    env.extra_env.extend([
        (
            "CRATEDIGGER__WORKERS__CONCURRENCY".to_string(),
            "4".to_string(),
        ),
        (
            "CRATEDIGGER__WORKERS__SHUTDOWN_TIMEOUT_SECS".to_string(),
            "1".to_string(),
        ),
        (
            "CRATEDIGGER__QUEUE__LEASE_MS".to_string(),
            "4000".to_string(),
        ),
    ]);
    env.start_scheduler().await;
    env.start("research-lead", "research-lead", &[]);
    env.start("consolidator", "consolidator", &[]);
    let scout_a = env.start("scout-a", "metadata-scout", &[]);
    let lines: Vec<String> = fixture_lines().into_iter().take(6).collect();
    let created = env.post_playlist(&lines.join("\n"), "batch").await;
    let sync_id = created["sync_id"].as_str().unwrap().to_string();

    let mut conn = redis_conn().await;
    let inflight_key = format!("{{{}:metadata}}:inflight", env.prefix);
    let start = Instant::now();
    loop {
        let held: u64 = redis::cmd("ZCARD")
            .arg(&inflight_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if held >= 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "scout A never took a job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the platform calls start, then stop the scout in the middle of them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stop = Instant::now();
    let exited_0 = env.procs[scout_a].terminate(Duration::from_secs(10));
    let took = stop.elapsed();
    let log_a = env.procs[scout_a].log_text();
    assert!(
        exited_0,
        "scout A did not exit 0 within 10 s although its shutdown timeout is 1 s:\n{log_a}"
    );
    assert!(
        log_a.contains("shutdown timeout elapsed with jobs still running"),
        "{log_a}"
    );
    let stranded: u64 = redis::cmd("ZCARD")
        .arg(&inflight_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        stranded >= 1,
        "the unfinished jobs should still be leased until their lease expires"
    );

    env.fixtures.set_latency(Duration::ZERO);
    let scout_b = env.start("scout-b", "metadata-scout", &[]);
    let progress = env.wait_finished(&sync_id, Duration::from_secs(90)).await;
    assert_eq!(final_count(&progress), lines.len() as i64, "{progress}");
    let log_b = env.procs[scout_b].log_text();
    assert!(
        log_b.contains("reclaimed jobs whose lease expired"),
        "scout B should have taken over the stranded jobs:\n{log_b}"
    );
    let pg = env.pg().await;
    let not_once: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT i.id FROM items i
           LEFT JOIN item_events e ON e.item_id = i.id AND e.to_state IN ('resolved','duplicate','failed')
          GROUP BY i.id HAVING count(e.id) <> 1) t",
    )
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(not_once, 0, "items not finished exactly once");
    eprintln!(
        "shutdown timeout 1 s: exit 0 after {:.2} s with {stranded} job(s) still leased; taken over by scout B",
        took.as_secs_f64()
    );
}

/// Polls `url` until it answers `status` (and a body containing `needle`), or panics with
/// what it last saw after `limit`.
async fn wait_for_status(url: &str, status: u16, needle: &str, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        let last;
        match reqwest::get(url).await {
            Ok(r) => {
                let code = r.status().as_u16();
                let body = r.text().await.unwrap_or_default();
                if code == status && body.contains(needle) {
                    return body;
                }
                last = format!("{code} {body}");
            }
            Err(e) => last = format!("error {e}"),
        }
        assert!(
            start.elapsed() < limit,
            "GET {url} did not answer {status} with '{needle}' within {limit:?}; last: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_redis_and_postgres_and_healthz_does_not() {
    use cratedigger_e2e::tcp_proxy::TcpProxy;
    let mut env = Env::new("readyz").await;
    // The scheduler and a scout reach Redis and PostgreSQL only through links the test can cut.
    let pg = TcpProxy::start("127.0.0.1:5432".parse().unwrap())
        .await
        .unwrap();
    let redis_target: std::net::SocketAddr = std::env::var("CRATEDIGGER__REDIS__URL")
        .ok()
        .and_then(|u| {
            u.trim_start_matches("redis://")
                .trim_end_matches('/')
                .parse()
                .ok()
        })
        .unwrap_or_else(|| "127.0.0.1:6379".parse().unwrap());
    let redis = TcpProxy::start(redis_target).await.unwrap();
    let db_url = env
        .db_url
        .replace("127.0.0.1:5432", &pg.addr().to_string())
        .replace("localhost:5432", &pg.addr().to_string());
    assert_ne!(
        db_url, env.db_url,
        "test database URL has an unexpected host"
    );
    env.extra_env
        .push(("CRATEDIGGER__DATABASE__URL".into(), db_url));
    env.extra_env.push((
        "CRATEDIGGER__REDIS__URL".into(),
        format!("redis://{}", redis.addr()),
    ));
    env.start_scheduler().await;
    let scout = env.start("scout", "metadata-scout", &[]);
    let scout_ops = format!("http://{}", metrics_addr(&env, scout).await);
    let limit = Duration::from_secs(20);
    let readyz = [
        format!("{}/readyz", env.api()),
        format!("{scout_ops}/readyz"),
    ];
    let healthz = [
        format!("{}/healthz", env.api()),
        format!("{scout_ops}/healthz"),
    ];
    for url in &readyz {
        wait_for_status(url, 200, "ready", limit).await;
    }

    pg.set_open(false);
    for url in &readyz {
        let body = wait_for_status(url, 503, "postgres:", limit).await;
        assert!(
            !body.contains("redis:"),
            "{url}: Redis is still reachable, yet: {body}"
        );
    }
    for url in &healthz {
        wait_for_status(url, 200, "ok", limit).await;
    }
    pg.set_open(true);
    for url in &readyz {
        wait_for_status(url, 200, "ready", limit).await;
    }

    redis.set_open(false);
    for url in &readyz {
        let body = wait_for_status(url, 503, "redis:", limit).await;
        assert!(
            !body.contains("postgres:"),
            "{url}: PostgreSQL is still reachable, yet: {body}"
        );
    }
    for url in &healthz {
        wait_for_status(url, 200, "ok", limit).await;
    }
    redis.set_open(true);
    for url in &readyz {
        wait_for_status(url, 200, "ready", limit).await;
    }
    // The failure was logged with what is unreachable (the kubelet keeps no probe bodies).
    let log = strip_ansi(&env.procs[scout].log_text());
    assert!(
        log.contains("readiness check failed") && log.contains("postgres:"),
        "the scout did not log its failed readiness check:\n{}",
        support::tail(&log, 40)
    );
}
