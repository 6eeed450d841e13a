//! `bench-sync [--tracks N] [--scale X] [--latency-ms L] [--scouts S] [--markdown FILE]`:
//! the sync benchmark behind `just bench sync`.
//!
//! A 2,000-track sync through the real release binaries (`cratedigger serve`,
//! `research-lead`, S `metadata-scout` processes, `consolidator`) against the fixture
//! server (the kit's recorded payloads, each answer delayed by L ms to stand in for a real
//! platform's latency), real Redis and a fresh PostgreSQL database. Every platform's real
//! published limit is multiplied by X (MusicBrainz 1/s, Deezer 50 per 5 s), so the run is
//! bound by the limits yet takes about a minute.
//!
//! The playlist (built from the kit, read in place): every recorded track the fixture
//! server can answer (MusicBrainz's recorded Fleetwood Mac search, Deezer's recorded
//! searches), each spelled three ways (as recorded, lower case, upper case — three distinct
//! queries a platform must answer), 400 tracks no platform knows, and the rest repeats of
//! those lines, shuffled deterministically. Only MusicBrainz and Deezer are enabled (the
//! platforms that need no credentials).
//!
//! Printed: wall time (sync created to every item final); per platform the requests the
//! server received, the rate-limit lower bound (requests / allowed rate) and requests per
//! resolved track (resolved + duplicate items); the ratio wall / max lower bound (target
//! <= 1.15), the average requests per platform per resolved track (target <= 1.5), and the
//! sequential time: the same requests one at a time, at the injected latency (or the sum
//! of the latencies the scouts measured, `cratedigger_platform_request_duration_seconds_sum`,
//! if lower), with the speed-up (target >= 10x). The server's
//! count of requests in any one-second window is checked against each limit as well.

use cratedigger_e2e::bench::{Flags, append_markdown, now_utc, start_fleet};
use cratedigger_e2e::fixture_server::{self, Stats, max_in_window};
use cratedigger_e2e::kit;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-sync [--tracks N] [--scale X] [--latency-ms L] [--scouts S] [--markdown FILE]\n\
    --tracks N       playlist lines (default 2000)\n\
    --scale X        multiply every platform's real limit by X (default 20)\n\
    --latency-ms L   fixture server answer delay, standing in for a platform's latency (default 300)\n\
    --scouts S       metadata-scout processes (default 2)\n\
    --markdown FILE  append the results as a dated markdown section to FILE\n\
    Needs the release binaries (cargo build --release --bins), Redis ($CRATEDIGGER__REDIS__URL)\n\
    and PostgreSQL ($CRATEDIGGER_TEST_DATABASE_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres).";

/// Unknown tracks in the playlist (they fail with "No match").
const UNKNOWN: usize = 400;

// Targets (issue 4, "Benchmark").
const RATIO_TARGET: f64 = 1.15;
const REQUESTS_PER_TRACK_TARGET: f64 = 1.5;
const SPEEDUP_TARGET: f64 = 10.0;

struct Args {
    tracks: usize,
    scale: f64,
    latency_ms: u64,
    scouts: usize,
    markdown: Option<String>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        tracks: 2000,
        scale: 20.0,
        latency_ms: 300,
        scouts: 2,
        markdown: None,
    };
    let mut flags = Flags::from_env();
    while let Some((flag, inline)) = flags.next_flag() {
        match flag.as_str() {
            "--tracks" => a.tracks = flags.number(&flag, inline, 1, 1_000_000)?,
            "--scale" => a.scale = flags.number(&flag, inline, 0.001, 10_000.0)?,
            "--latency-ms" => a.latency_ms = flags.number(&flag, inline, 0, 60_000)?,
            "--scouts" => a.scouts = flags.number(&flag, inline, 1, 64)?,
            "--markdown" => a.markdown = Some(flags.value(&flag, inline)?),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(a))
}

/// A platform of the run: id, real limit (requests per window in seconds).
struct Platform {
    id: &'static str,
    requests: f64,
    per_secs: f64,
}

const PLATFORMS: [Platform; 2] = [
    Platform {
        id: "musicbrainz",
        requests: 1.0,
        per_secs: 1.0,
    },
    Platform {
        id: "deezer",
        requests: 50.0,
        per_secs: 5.0,
    },
];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

/// `Artist - Title` of every track the fixture server can answer, from the kit.
fn recorded_lines(kit: &Path) -> Result<Vec<String>, String> {
    let read = |rel: &str| -> Result<Value, String> {
        let p = kit.join("fixtures").join(rel);
        let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut out: Vec<String> = Vec::new();
    let mb = read("musicbrainz/recording_search_query-artist-fleetwood-mac_limit-100.json")?;
    for r in mb["recordings"].as_array().into_iter().flatten() {
        let artist: String = r["artist-credit"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{}{}",
                    c["name"].as_str().unwrap_or(""),
                    c["joinphrase"].as_str().unwrap_or("")
                )
            })
            .collect();
        if let Some(t) = r["title"].as_str() {
            out.push(format!("{} - {t}", artist.trim()));
        }
    }
    for f in [
        "deezer/search_q-billy-jean_limit-2.json",
        "deezer/search_q-soliloquy.json",
        "deezer/search-track_artist-lou-doillon_track-joke.json",
    ] {
        for t in read(f)?["data"].as_array().into_iter().flatten() {
            if let (Some(a), Some(t)) = (t["artist"]["name"].as_str(), t["title"].as_str()) {
                out.push(format!("{a} - {t}"));
            }
        }
    }
    let mut seen = HashSet::new();
    out.retain(|l| seen.insert(l.clone()));
    Ok(out)
}

/// The benchmark playlist (see the module doc).
fn playlist(kit: &Path, tracks: usize) -> Result<(Vec<String>, usize), String> {
    let base = recorded_lines(kit)?;
    let mut distinct: Vec<String> = Vec::new();
    for l in &base {
        distinct.push(l.clone());
        distinct.push(l.to_lowercase());
        distinct.push(l.to_uppercase());
    }
    let mut seen = HashSet::new();
    distinct.retain(|l| seen.insert(l.clone()));
    let resolvable = distinct.clone();
    for i in 0..UNKNOWN {
        distinct.push(format!("Nobody Recorded {i} - Unknown Track {i}"));
    }
    distinct.truncate(tracks);
    let mut lines = distinct.clone();
    let mut i = 0usize;
    while lines.len() < tracks {
        lines.push(resolvable[i % resolvable.len()].clone());
        i += 1;
    }
    // deterministic shuffle (LCG), so repeats are spread over the run
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for k in (1..lines.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (state >> 33) as usize % (k + 1);
        lines.swap(k, j);
    }
    Ok((lines, distinct.len()))
}

/// Sum of a Prometheus sample family's values whose labels contain all of `labels`.
fn metric_sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| labels.iter().all(|w| l.contains(w)))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

fn metrics_addr(log: &str) -> Option<String> {
    log.lines().find_map(|line| {
        let v: Value = serde_json::from_str(line).ok()?;
        v["fields"]["metrics"].as_str().map(str::to_string)
    })
}

struct PlatformResult {
    id: &'static str,
    rate: f64,
    requests: u64,
    lower_bound_s: f64,
    per_resolved: f64,
    worst_window: usize,
    allowed_per_s: f64,
    latency_sum_s: f64,
    /// First to last request the server saw from this platform's clients.
    span_s: f64,
}

struct Report {
    args_line: String,
    wall_s: f64,
    items: usize,
    distinct: usize,
    states: BTreeMap<String, i64>,
    platforms: Vec<PlatformResult>,
    cache: BTreeMap<String, f64>,
    latency_ms: u64,
    /// CPU seconds (user + system) each process spent during the run: where the wall time
    /// went when the platforms are not the bound.
    cpu: Vec<(String, f64)>,
    /// Seconds after the sync was created at which the pipeline reached each milestone
    /// (from the items' history in PostgreSQL): where the time between the last platform
    /// request and the last final item went.
    timeline: Vec<(String, f64)>,
}

/// Milestones of the run from the items' history: every item planned, and the share of
/// items final over time.
async fn timeline(db_url: &str, sync_id: &str) -> Vec<(String, f64)> {
    let Ok(pool) = sqlx::PgPool::connect(db_url).await else {
        return Vec::new();
    };
    let secs = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, f64>(sql)
                .bind(sync_id)
                .fetch_all(&pool)
                .await
                .unwrap_or_default()
        }
    };
    let planned = secs(
        "SELECT EXTRACT(EPOCH FROM e.at - s.created_at)::float8 FROM item_events e
         JOIN items i ON i.id = e.item_id JOIN syncs s ON s.id = i.sync_id
         WHERE s.id = $1::uuid AND e.to_state = 'researching' ORDER BY 1",
    )
    .await;
    let finals = secs(
        "SELECT EXTRACT(EPOCH FROM i.state_changed_at - s.created_at)::float8 FROM items i
         JOIN syncs s ON s.id = i.sync_id
         WHERE s.id = $1::uuid AND i.state IN ('resolved', 'duplicate', 'failed') ORDER BY 1",
    )
    .await;
    let at = |v: &[f64], q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    let mut out = Vec::new();
    if !planned.is_empty() {
        out.push(("every item planned".to_string(), at(&planned, 1.0)));
    }
    if !finals.is_empty() {
        for q in [0.5, 0.9, 0.99, 1.0] {
            out.push((format!("{:.0} % final", q * 100.0), at(&finals, q)));
        }
    }
    out
}

impl Report {
    /// The CPU and timeline lines, shared by the terminal and markdown outputs.
    fn where_the_time_went(&self) -> String {
        let list = |v: &[(String, f64)], unit: &str| {
            v.iter()
                .map(|(k, x)| format!("{k} {x:.1}{unit}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = String::new();
        if !self.timeline.is_empty() {
            let _ = writeln!(
                s,
                "Timeline (s after the sync was created): {}.",
                list(&self.timeline, " s")
            );
        }
        if !self.cpu.is_empty() {
            let _ = writeln!(
                s,
                "CPU seconds during the run (user + system): {}.",
                list(&self.cpu, "")
            );
        }
        s
    }
}

/// CPU seconds (user + system, children reaped included) of process `pid`, from
/// `/proc/<pid>/stat`; 0 when it is gone.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at ") ".
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // state=0, utime=11, stime=12, cutime=13, cstime=14 (proc(5), counted from "state").
    let ticks: f64 = [11, 12, 13, 14]
        .iter()
        .filter_map(|i| f.get(*i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ticks / hz
}

/// CPU seconds of every process whose command name is `comm` (PostgreSQL's backends,
/// Redis), summed.
fn cpu_seconds_of(comm: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .map(cpu_seconds)
        .sum()
}

impl Report {
    fn lower_bound(&self) -> f64 {
        self.platforms
            .iter()
            .map(|p| p.lower_bound_s)
            .fold(0.0, f64::max)
    }
    fn resolved(&self) -> i64 {
        self.states.get("resolved").copied().unwrap_or(0)
            + self.states.get("duplicate").copied().unwrap_or(0)
    }
    fn ratio(&self) -> f64 {
        self.wall_s / self.lower_bound().max(1e-9)
    }
    fn per_track(&self) -> f64 {
        let n = self.platforms.len().max(1) as f64;
        self.platforms.iter().map(|p| p.per_resolved).sum::<f64>() / n
    }
    /// Sum of the request latencies the scouts measured (inflated on a busy machine).
    fn measured_sequential_s(&self) -> f64 {
        self.platforms.iter().map(|p| p.latency_sum_s).sum()
    }
    /// The conservative sequential time: every request at the server's injected latency,
    /// or the measured sum if that is lower.
    fn sequential_s(&self) -> f64 {
        let requests: u64 = self.platforms.iter().map(|p| p.requests).sum();
        (requests as f64 * self.latency_ms as f64 / 1000.0).min(self.measured_sequential_s())
    }
    fn speedup(&self) -> f64 {
        self.sequential_s() / self.wall_s.max(1e-9)
    }

    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.args_line);
        let _ = writeln!(
            s,
            "{} items ({} distinct lines), {} resolved tracks (resolved + duplicate): {:?}",
            self.items,
            self.distinct,
            self.resolved(),
            self.states
        );
        let _ = writeln!(s, "wall time                     {:8.1} s", self.wall_s);
        for p in &self.platforms {
            let _ = writeln!(
                s,
                "  {:<12} {:>5} requests, allowed {:>6.1}/s -> lower bound {:6.1} s, sent over {:.1} s; {:.2} requests per resolved track; max {} in any 1 s window (allowed {:.0}); latency sum {:.1} s",
                p.id,
                p.requests,
                p.rate,
                p.lower_bound_s,
                p.span_s,
                p.per_resolved,
                p.worst_window,
                p.allowed_per_s,
                p.latency_sum_s
            );
        }
        let verdict = |ok: bool| if ok { "ok" } else { "MISS" };
        let _ = writeln!(
            s,
            "rate-limit lower bound        {:8.1} s\nwall / lower bound            {:8.2}   (target <= {RATIO_TARGET}) {}",
            self.lower_bound(),
            self.ratio(),
            verdict(self.ratio() <= RATIO_TARGET)
        );
        let _ = writeln!(
            s,
            "requests per platform per resolved track {:.2} (target <= {REQUESTS_PER_TRACK_TARGET}) {}",
            self.per_track(),
            verdict(self.per_track() <= REQUESTS_PER_TRACK_TARGET)
        );
        let _ = writeln!(
            s,
            "sequential: requests x {} ms injected latency {:.1} s (measured latency sum {:.1} s); speed-up {:.1}x (target >= {SPEEDUP_TARGET}x) {}",
            self.latency_ms,
            self.sequential_s(),
            self.measured_sequential_s(),
            self.speedup(),
            verdict(self.speedup() >= SPEEDUP_TARGET)
        );
        let _ = writeln!(s, "cache lookups (all scouts): {:?}", self.cache);
        s.push_str(&self.where_the_time_went());
        s
    }

    fn markdown(&self, date: &str) -> String {
        let mut s = String::new();
        let verdict = |ok: bool| if ok { "ok" } else { "**MISS**" };
        let _ = writeln!(s, "\n## bench sync — {date}\n");
        let _ = writeln!(s, "`{}`\n", self.args_line);
        let _ = writeln!(
            s,
            "{} items ({} distinct lines); final states: {}.\n",
            self.items,
            self.distinct,
            self.states
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            s,
            "| platform | requests | allowed rate | lower bound | first to last request | requests / resolved track | max in any 1 s | latency sum |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for p in &self.platforms {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1}/s | {:.1} s | {:.1} s | {:.2} | {} (allowed {:.0}) | {:.1} s |",
                p.id,
                p.requests,
                p.rate,
                p.lower_bound_s,
                p.span_s,
                p.per_resolved,
                p.worst_window,
                p.allowed_per_s,
                p.latency_sum_s
            );
        }
        let _ = writeln!(s, "\n| figure | value | target |\n|---|---:|---|");
        let _ = writeln!(s, "| wall time | {:.1} s | |", self.wall_s);
        let _ = writeln!(
            s,
            "| rate-limit lower bound (max over platforms) | {:.1} s | |",
            self.lower_bound()
        );
        let _ = writeln!(
            s,
            "| wall / lower bound | {:.2} | <= {RATIO_TARGET} {} |",
            self.ratio(),
            verdict(self.ratio() <= RATIO_TARGET)
        );
        let _ = writeln!(
            s,
            "| requests per platform per resolved track (average) | {:.2} | <= {REQUESTS_PER_TRACK_TARGET} {} |",
            self.per_track(),
            verdict(self.per_track() <= REQUESTS_PER_TRACK_TARGET)
        );
        let _ = writeln!(
            s,
            "| sequential time (requests x {} ms; measured latency sum {:.1} s) | {:.1} s | |",
            self.latency_ms,
            self.measured_sequential_s(),
            self.sequential_s()
        );
        let _ = writeln!(
            s,
            "| speed-up over sequential | {:.1}x | >= {SPEEDUP_TARGET}x {} |",
            self.speedup(),
            verdict(self.speedup() >= SPEEDUP_TARGET)
        );
        let _ = writeln!(
            s,
            "\nCache lookups (all scouts): {}.",
            self.cache
                .iter()
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = write!(s, "\n{}", self.where_the_time_went());
        s
    }
}

const MARKDOWN_HEADER: &str = "\n## What `just bench sync` measures\n\n\
Source: `tests/src/bin/bench-sync.rs` (module doc has the details); run with `just bench sync`.\n\
A 2,000-track sync through the real release binaries (`cratedigger serve`, `research-lead`,\n\
two `metadata-scout` processes, `consolidator`), real Redis and PostgreSQL, against the fixture\n\
server serving the kit's recorded payloads with every answer delayed by 300 ms (a stand-in for a\n\
real platform's latency). Each platform's real published limit is multiplied by 20\n\
(MusicBrainz 1/s -> 20/s, Deezer 50 per 5 s -> 1,000 per 5 s) so the run is bound by the limits\n\
and takes about a minute. Only MusicBrainz and Deezer are enabled (no credentials\n\
needed). The playlist: every recorded track the server can answer in three spellings (distinct\n\
queries), 400 tracks no platform knows, and repeats of the known lines, shuffled.\n\n\
- **wall time**: sync created until every item is final.\n\
- **rate-limit lower bound**: per platform, requests the server received / allowed rate; the\n\
  run cannot be faster than the largest of these. Target: wall / lower bound <= 1.15.\n\
- **requests per platform per resolved track**: requests / (resolved + duplicate items),\n\
  averaged over the platforms. Target <= 1.5 (repeats come from the caches).\n\
- **sequential time**: the same requests one at a time: requests x the injected latency,\n\
  or the sum of the latencies the scouts measured\n\
  (`cratedigger_platform_request_duration_seconds_sum`) if lower (on a busy machine the\n\
  measured sum is inflated). Rate-limit waits are not counted, so it flatters sequential.\n\
  Target: speed-up >= 10x.\n\
- **max in any 1 s window**: the server's own count of arrivals in every sliding one-second\n\
  window, against the limit (the limiter adds a 5 % spacing margin, which the ratio pays).\n\n\
A missed target is reported as MISS; the benchmark does not fail on it.\n";

async fn run(args: &Args) -> Result<Report, String> {
    let kit_dir = kit::find_kit().map_err(|e| e.to_string())?;
    let (lines, distinct) = playlist(&kit_dir, args.tracks)?;
    let (db_url, _db) = cratedigger_store::testing::fresh_database().await;
    let server = fixture_server::serve(kit_dir.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .map_err(|e| e.to_string())?;
    server.set_latency(Duration::from_millis(args.latency_ms));
    let prefix = format!("bench-sync-{}", ulid::Ulid::new());
    let logs = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let api_port = free_port();
    let api = format!("http://127.0.0.1:{api_port}");
    let redis_url = std::env::var("CRATEDIGGER__REDIS__URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());

    let mut env: Vec<(String, String)> = vec![
        ("CRATEDIGGER__DATABASE__URL".into(), db_url.clone()),
        ("CRATEDIGGER__REDIS__URL".into(), redis_url.clone()),
        ("CRATEDIGGER__QUEUE__PREFIX".into(), prefix.clone()),
        (
            "CRATEDIGGER__API__BIND".into(),
            format!("127.0.0.1:{api_port}"),
        ),
        ("CRATEDIGGER__API__URL".into(), api.clone()),
        ("CRATEDIGGER__WORKERS__CONCURRENCY".into(), "32".into()),
        ("CRATEDIGGER_LOG_FORMAT".into(), "json".into()),
        (
            "RUST_LOG".into(),
            "warn,cratedigger_fleet::telemetry=info,cratedigger_workers=info".into(),
        ),
    ];
    for p in &PLATFORMS {
        let up = p.id.to_uppercase();
        env.push((
            format!("CRATEDIGGER__PLATFORMS__{up}__BASE_URL"),
            server.base_url(),
        ));
        env.push((
            format!("CRATEDIGGER__PLATFORMS__LIMITS__{up}__REQUESTS"),
            format!("{}", (p.requests * args.scale).round()),
        ));
        env.push((
            format!("CRATEDIGGER__PLATFORMS__LIMITS__{up}__PER_SECS"),
            format!("{}", p.per_secs),
        ));
    }
    for off in ["DISCOGS", "SPOTIFY", "BEATPORT"] {
        env.push((
            format!("CRATEDIGGER__PLATFORMS__{off}__ENABLED"),
            "false".into(),
        ));
        env.push((
            format!("CRATEDIGGER__PLATFORMS__{off}__BASE_URL"),
            server.base_url(),
        ));
    }

    let procs = start_fleet("sync", &env, &logs, &api, args.scouts).await?;
    let http = reqwest::Client::new();
    // let every worker connect before the clock starts
    tokio::time::sleep(Duration::from_secs(2)).await;

    let services_before = [
        ("postgres", cpu_seconds_of("postgres")),
        ("redis-server", cpu_seconds_of("redis-server")),
    ];
    let started = Instant::now();
    let started_unix_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let created: Value = http
        .post(format!("{api}/v1/syncs?source=bench.txt&lane=batch"))
        .body(lines.join("\n"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let sync_id = created["sync_id"]
        .as_str()
        .ok_or_else(|| format!("the sync was not created: {created}"))?
        .to_string();
    let progress = loop {
        let p: Value = http
            .get(format!("{api}/v1/syncs/{sync_id}"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if p["finished"].as_bool() == Some(true) {
            break p;
        }
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!(
                "the sync did not finish in 15 minutes: {}",
                p["counts"]
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wall_s = started.elapsed().as_secs_f64();

    let states: BTreeMap<String, i64> = progress["counts"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                .filter(|(_, v)| *v > 0)
                .collect()
        })
        .unwrap_or_default();
    let resolved = (states.get("resolved").copied().unwrap_or(0)
        + states.get("duplicate").copied().unwrap_or(0))
    .max(1) as f64;

    // what each scout measured
    let mut latency: BTreeMap<&str, f64> = BTreeMap::new();
    let mut cache: BTreeMap<String, f64> = BTreeMap::new();
    for p in procs.iter().filter(|p| p.name.starts_with("scout-")) {
        let log = std::fs::read_to_string(&p.log).unwrap_or_default();
        let Some(addr) = metrics_addr(&log) else {
            return Err(format!(
                "{} logged no metrics address ({})",
                p.name,
                p.log.display()
            ));
        };
        let text = http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        for pl in &PLATFORMS {
            *latency.entry(pl.id).or_default() += metric_sum(
                &text,
                "cratedigger_platform_request_duration_seconds_sum",
                &[&format!("platform=\"{}\"", pl.id)],
            );
        }
        for level in ["l1", "l2", "l3"] {
            for result in ["hit", "miss"] {
                *cache.entry(format!("{level} {result}")).or_default() += metric_sum(
                    &text,
                    "cratedigger_cache_requests_total",
                    &[
                        &format!("level=\"{level}\""),
                        &format!("result=\"{result}\""),
                    ],
                );
            }
        }
        for scope in ["process", "fleet"] {
            *cache
                .entry(format!("coalesced in flight ({scope})"))
                .or_default() += metric_sum(
                &text,
                "cratedigger_cache_coalesced_total",
                &[&format!("scope=\"{scope}\"")],
            );
        }
    }

    let stats: Stats = server.stats();
    // every arrival, for a closer look at the pacing
    let _ = std::fs::write(
        logs.join("arrivals.json"),
        serde_json::to_vec(&stats.arrivals_us).unwrap_or_default(),
    );
    eprintln!("logs and arrival times: {}", logs.display());
    let platforms = PLATFORMS
        .iter()
        .map(|p| {
            let rate = p.requests * args.scale / p.per_secs;
            let requests = stats.platform_total(p.id);
            let arrivals = stats.platform_arrivals(p.id);
            PlatformResult {
                id: p.id,
                rate,
                requests,
                lower_bound_s: requests as f64 / rate,
                per_resolved: requests as f64 / resolved,
                worst_window: max_in_window(&arrivals, 1_000_000),
                allowed_per_s: rate,
                latency_sum_s: latency.get(p.id).copied().unwrap_or(0.0),
                span_s: match (arrivals.first(), arrivals.last()) {
                    (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                    _ => 0.0,
                },
            }
        })
        .collect();

    let mut cpu: Vec<(String, f64)> = procs
        .iter()
        .map(|p| (p.name.clone(), cpu_seconds(p.child.id())))
        .collect();
    for (comm, before) in services_before {
        cpu.push((format!("{comm} (all)"), cpu_seconds_of(comm) - before));
    }
    drop(procs);
    let mut timeline = timeline(&db_url, &sync_id).await;
    for p in &PLATFORMS {
        if let Some(last) = stats.platform_arrivals(p.id).last() {
            timeline.push((
                format!("last {} request", p.id),
                last.saturating_sub(started_unix_us) as f64 / 1e6,
            ));
        }
    }
    // this run's Redis keys (queues, limiter, L2 cache)
    if let Ok(client) = redis::Client::open(redis_url.as_str())
        && let Ok(mut conn) = client.get_multiplexed_async_connection().await
    {
        for pattern in [format!("{prefix}:*"), format!("{{{prefix}:*")] {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            for chunk in keys.chunks(500) {
                let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await;
            }
        }
    }
    Ok(Report {
        args_line: format!(
            "bench-sync --tracks {} --scale {} --latency-ms {} --scouts {} (release)",
            args.tracks, args.scale, args.latency_ms, args.scouts
        ),
        wall_s,
        items: lines.len(),
        distinct,
        states,
        platforms,
        cache,
        latency_ms: args.latency_ms,
        cpu,
        timeline,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench-sync: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let report = match run(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-sync: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.text());
    if let Some(path) = &args.markdown {
        if let Err(e) = append_markdown(path, MARKDOWN_HEADER, &report.markdown(&now_utc())) {
            eprintln!("bench-sync: {e}");
            return ExitCode::FAILURE;
        }
        println!("appended to {path}");
    }
    ExitCode::SUCCESS
}
