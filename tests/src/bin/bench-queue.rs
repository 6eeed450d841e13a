//! `bench-queue [--runs N] [--markdown FILE]`: the queue benchmark behind `just bench queue`.
//!
//! In one run, through the fleet's own queue layer and worker runtime (release build):
//! 1. enqueue 50,000 no-op jobs (~200-byte JSON) one at a time (`Queue::push`) and in
//!    batches of 1,000 (`Queue::push_batch`), sequential calls;
//! 2. drain 50,000 ready jobs with one worker (`run_worker`, concurrency 100, fetch batch 500 by default,
//!    no-op handler), from worker start until `stats.done == 50,000`;
//! 3. interactive pickup latency: 200 interactive jobs pushed every ~20 ms while a worker
//!    (concurrency 16, batch jobs sleep ~1 ms) works through a backlog of 10,000 batch jobs;
//! 4. the ceiling: `redis-benchmark -t lpush,rpop -n 200000 -q` (50 clients, no pipelining).
//!
//! Steps 1-4 repeat `--runs` times (default 3); medians are compared with the targets of
//! issue 3 (drain >= 0.7x RPOP, batched enqueue >= 1.0x LPUSH, interactive p99 <= 50 ms).
//! A missed target is reported, not failed. Keys live under a unique `bench-<ulid>` prefix
//! and are deleted at the end.

use cratedigger_domain::Lane;
use cratedigger_fleet::queue::{self, Delivery, Queue, QueueSettings};
use cratedigger_fleet::runtime::{JobError, JobHandler, WorkerOptions, run_worker};
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

const USAGE: &str = "usage: bench-queue [--runs N] [--fetch-batch N] [--markdown FILE]\n\
    --runs N         repeat the benchmark N times and report medians (default 3)\n\
    --fetch-batch N  jobs the draining worker reserves per fetch (default 500; the\n\
                     fleet's CRATEDIGGER__WORKERS__FETCH_BATCH)\n\
    --markdown FILE  append the results as a dated markdown section to FILE\n\
    Redis: $CRATEDIGGER__REDIS__URL (default redis://127.0.0.1:6379)";

/// Jobs enqueued and drained per step.
const N: usize = 50_000;
/// Jobs per `push_batch` call.
const BATCH_PUSH: usize = 1_000;
/// Batch jobs kept waiting during the latency step.
const BACKLOG: usize = 10_000;
/// Interactive jobs timed in the latency step.
const INTERACTIVE: usize = 200;
/// Gap between interactive pushes.
const INTERACTIVE_GAP: Duration = Duration::from_millis(20);
/// Requests per redis-benchmark test.
const CEILING_REQUESTS: &str = "200000";

// Targets (issue 3, "Benchmarks").
const DRAIN_VS_RPOP: f64 = 0.7;
const BATCHED_VS_LPUSH: f64 = 1.0;
const P99_MS: f64 = 50.0;

struct Args {
    runs: usize,
    fetch_batch: usize,
    markdown: Option<String>,
}

/// Fetch batch of the drain step (set once from the arguments).
static FETCH_BATCH: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        runs: 3,
        fetch_batch: 500,
        markdown: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--runs" => {
                let v = value("--runs")?;
                args.runs = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--runs '{v}' is not a positive number"))?;
            }
            "--fetch-batch" => {
                let v = value("--fetch-batch")?;
                args.fetch_batch = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=5000).contains(n))
                    .ok_or_else(|| format!("--fetch-batch '{v}' must be 1 to 5000"))?;
            }
            "--markdown" => args.markdown = Some(value("--markdown")?),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(args))
}

fn redis_url() -> String {
    std::env::var("CRATEDIGGER__REDIS__URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Host and port of a `redis://[user[:pass]@]host[:port][/db]` URL, for redis-benchmark.
fn host_port(url: &str) -> (String, u16) {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    match hostport.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => (h.to_string(), p.parse().unwrap_or(6379)),
        _ if !hostport.is_empty() => (hostport.to_string(), 6379),
        _ => ("127.0.0.1".into(), 6379),
    }
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A ~200-byte JSON envelope shaped like a real job.
fn payload(run: usize, i: usize) -> Vec<u8> {
    let mut s = format!(
        "{{\"v\":1,\"kind\":\"noop\",\"job_id\":\"bench-r{run}-{i:06}\",\"sync_id\":\"01JBENCHSYNC0000000000000{run}\",\"item\":{{\"artist\":\"Bench Artist\",\"title\":\"Bench Title {i}\"}},\"pad\":\""
    );
    while s.len() < 198 {
        s.push('x');
    }
    s.push_str("\"}");
    s.into_bytes()
}

fn jobs(run: usize, tag: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| (format!("{tag}-{i}"), payload(run, i)))
        .collect()
}

fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `12345.6` -> `12,346`.
fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn ms(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2} ms")
    } else {
        "n/a".into()
    }
}

struct Bench {
    url: String,
    conn: ConnectionManager,
    prefix: String,
}

impl Bench {
    fn queue(&self, name: &str) -> Queue {
        Queue::new(
            self.conn.clone(),
            name,
            QueueSettings {
                prefix: self.prefix.clone(),
                ..Default::default()
            },
        )
    }

    /// Deletes every key of this run (`{bench-<ulid>:*}`); returns how many.
    async fn cleanup(&self) -> redis::RedisResult<u64> {
        let mut conn = self.conn.clone();
        let pattern = format!("{{{}:*", self.prefix);
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
                deleted += n;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

/// Step 1a: `push`, one job per call.
async fn enqueue_single(b: &Bench, run: usize) -> anyhow::Result<f64> {
    let q = b.queue(&format!("enqueue-single-{run}"));
    let jobs = jobs(run, "s", N);
    let start = Instant::now();
    for (id, p) in &jobs {
        q.push(Lane::Batch, id, p).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        q.depth().await?.lanes["batch"] == N as u64,
        "single enqueue lost jobs"
    );
    Ok(N as f64 / secs)
}

/// Step 1b: `push_batch`, 1,000 jobs per call. Leaves the queue full for the drain step.
async fn enqueue_batched(q: &Queue, run: usize) -> anyhow::Result<f64> {
    let jobs = jobs(run, "b", N);
    let start = Instant::now();
    for chunk in jobs.chunks(BATCH_PUSH) {
        q.push_batch(Lane::Batch, chunk).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        q.depth().await?.lanes["batch"] == N as u64,
        "batched enqueue lost jobs"
    );
    Ok(N as f64 / secs)
}

struct Noop;

impl JobHandler for Noop {
    fn handle(&self, _job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Step 2: one worker drains the `N` ready jobs; clock from worker start to `done == N`.
async fn drain(b: &Bench, q: &Queue) -> anyhow::Result<Drain> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut opts = WorkerOptions::new("bench-drain");
    opts.concurrency = 100;
    opts.batch = *FETCH_BATCH.get().unwrap_or(&500);
    let monitor_q = q.clone();
    let mut conn = b.conn.clone();
    let redis_cpu0 = redis_cpu_secs(&mut conn).await;
    let own_cpu0 = own_cpu_secs();
    let start = Instant::now();
    let monitor = async move {
        let deadline = start + Duration::from_secs(300);
        let result = loop {
            match monitor_q.depth().await {
                Ok(d) if d.stats.get("done").copied().unwrap_or(0) >= N as u64 => {
                    break Ok(start.elapsed());
                }
                Ok(_) if Instant::now() > deadline => {
                    break Err(anyhow::anyhow!("drain did not finish within 300 s"));
                }
                Ok(_) => {}
                Err(e) => break Err(e.into()),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let _ = stop_tx.send(true);
        result
    };
    let (worker, elapsed) = tokio::join!(
        run_worker(b.url.clone(), q.clone(), Arc::new(Noop), opts, stop_rx),
        monitor
    );
    worker?;
    let elapsed = elapsed?.as_secs_f64();
    // CPU over the worker's whole life (its stop takes a few ms more than `elapsed`).
    let redis_cpu = redis_cpu_secs(&mut conn).await - redis_cpu0;
    let own_cpu = own_cpu_secs() - own_cpu0;
    Ok(Drain {
        rate: N as f64 / elapsed,
        redis_core: redis_cpu / elapsed,
        bench_core: own_cpu / elapsed,
    })
}

/// Result of the drain step, with where the CPU went.
struct Drain {
    rate: f64,
    /// Redis CPU time / wall time (1.0 = one core busy).
    redis_core: f64,
    /// This process' CPU time / wall time.
    bench_core: f64,
}

/// Redis' `used_cpu_user + used_cpu_sys` in seconds (NaN if unknown).
async fn redis_cpu_secs(conn: &mut ConnectionManager) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    field("used_cpu_user:") + field("used_cpu_sys:")
}

/// This process' user + system CPU time in seconds, from `/proc/self/stat` (NaN if unknown;
/// assumes the usual 100 clock ticks per second).
fn own_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            // Fields 14 and 15 of stat(5); `after` starts at field 3.
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// What the latency step's handler records.
struct Timed {
    latencies_ms: Mutex<Vec<f64>>,
    seen: tokio::sync::Notify,
}

/// Sleeps ~1 ms for batch jobs; records pickup latency of interactive ones.
struct TimedHandler(Arc<Timed>);

impl JobHandler for TimedHandler {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let me = self.0.clone();
        Box::pin(async move {
            match job.lane {
                Lane::Interactive => {
                    let picked = now_ns();
                    let pushed = serde_json::from_slice::<serde_json::Value>(&job.payload)
                        .ok()
                        .and_then(|v| v["pushed_ns"].as_str().and_then(|s| s.parse::<u128>().ok()));
                    if let Some(pushed) = pushed
                        && let Ok(mut l) = me.latencies_ms.lock()
                    {
                        l.push(picked.saturating_sub(pushed) as f64 / 1e6);
                    }
                    me.seen.notify_one();
                }
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
            Ok(())
        })
    }
}

struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    /// Fewest batch jobs seen waiting right before an interactive push.
    min_backlog: u64,
}

/// Step 3: interactive pickup latency behind a batch backlog of `BACKLOG` jobs.
///
/// A backlog of 10,000 jobs at ~1 ms with 16 at once drains in about a second, while the
/// 200 interactive pushes take ~4 s; so before each push the batch lane is topped back up
/// to 10,000 (as a large sync still being queued would), and every interactive job is
/// measured with 10,000 batch jobs waiting.
async fn interactive_latency(b: &Bench, run: usize) -> anyhow::Result<Latency> {
    let q = b.queue(&format!("latency-{run}"));
    let mut next_batch = 0usize;
    let mut batch_jobs = |n: usize| {
        let out: Vec<(String, Vec<u8>)> = (next_batch..next_batch + n)
            .map(|i| (format!("lb-{i}"), payload(run, i)))
            .collect();
        next_batch += n;
        out
    };
    q.push_batch(Lane::Batch, &batch_jobs(BACKLOG)).await?;

    let timed = Arc::new(Timed {
        latencies_ms: Mutex::new(Vec::with_capacity(INTERACTIVE)),
        seen: tokio::sync::Notify::new(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let opts = WorkerOptions::new("bench-latency"); // concurrency 16, batch 16
    anyhow::ensure!(opts.concurrency == 16, "expected concurrency 16");
    let producer_q = q.clone();
    let producer_timed = timed.clone();
    let producer = async move {
        let result: anyhow::Result<u64> = async {
            let mut min_backlog = u64::MAX;
            let mut tick = tokio::time::interval(INTERACTIVE_GAP);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for i in 0..INTERACTIVE {
                tick.tick().await;
                let waiting = producer_q.depth().await?.lanes["batch"];
                if (waiting as usize) < BACKLOG {
                    producer_q
                        .push_batch(Lane::Batch, &batch_jobs(BACKLOG - waiting as usize))
                        .await?;
                }
                let waiting = producer_q.depth().await?.lanes["batch"];
                min_backlog = min_backlog.min(waiting);
                let body = format!(
                    "{{\"v\":1,\"kind\":\"noop\",\"pushed_ns\":\"{}\",\"n\":{i}}}",
                    now_ns()
                );
                producer_q
                    .push(Lane::Interactive, &format!("i-{i}"), body.as_bytes())
                    .await?;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while producer_timed
                .latencies_ms
                .lock()
                .map(|l| l.len())
                .unwrap_or(0)
                < INTERACTIVE
            {
                if Instant::now() > deadline {
                    anyhow::bail!("interactive jobs were not all picked up within 30 s");
                }
                let _ =
                    tokio::time::timeout(Duration::from_millis(50), producer_timed.seen.notified())
                        .await;
            }
            Ok(min_backlog)
        }
        .await;
        let _ = stop_tx.send(true);
        result
    };
    let (worker, min_backlog) = tokio::join!(
        run_worker(
            b.url.clone(),
            q.clone(),
            Arc::new(TimedHandler(timed.clone())),
            opts,
            stop_rx
        ),
        producer
    );
    worker?;
    let min_backlog = min_backlog?;
    let mut l = timed
        .latencies_ms
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    l.sort_by(|a, b| a.total_cmp(b));
    Ok(Latency {
        p50: percentile(&l, 50.0),
        p99: percentile(&l, 99.0),
        max: l.last().copied().unwrap_or(f64::NAN),
        min_backlog,
    })
}

struct Ceiling {
    lpush: f64,
    rpop: f64,
}

/// Step 4: redis-benchmark LPUSH / RPOP (50 clients, no pipelining). `Err` says why not.
async fn ceiling(url: &str) -> Result<Ceiling, String> {
    let (host, port) = host_port(url);
    let out = tokio::process::Command::new("redis-benchmark")
        .args(["-h", &host, "-p", &port.to_string()])
        .args(["-t", "lpush,rpop", "-n", CEILING_REQUESTS, "-q"])
        .output()
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "redis-benchmark is not installed (apt-get install redis-tools)".to_string()
            } else {
                format!("redis-benchmark could not start: {e}")
            }
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "redis-benchmark failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    // `-q` prints progress with carriage returns, then e.g.
    // "LPUSH: 87374.02 requests per second, p50=0.287 msec".
    let rate = |name: &str| {
        text.split(['\r', '\n'])
            .filter_map(|line| line.trim().strip_prefix(&format!("{name}: ")))
            .filter_map(|rest| rest.split_once(" requests per second"))
            .filter_map(|(n, _)| n.trim().parse::<f64>().ok())
            .next_back()
    };
    match (rate("LPUSH"), rate("RPOP")) {
        (Some(lpush), Some(rpop)) => Ok(Ceiling { lpush, rpop }),
        _ => Err(format!(
            "could not read LPUSH/RPOP rates from redis-benchmark output: {:?}",
            text.trim()
        )),
    }
}

struct Run {
    single: f64,
    batched: f64,
    drain: Drain,
    latency: Latency,
    ceiling: Result<Ceiling, String>,
}

async fn one_run(b: &Bench, run: usize) -> anyhow::Result<Run> {
    let single = enqueue_single(b, run).await?;
    eprintln!("  run {run}: enqueue single  {} jobs/s", thousands(single));
    let drain_q = b.queue(&format!("drain-{run}"));
    let batched = enqueue_batched(&drain_q, run).await?;
    eprintln!("  run {run}: enqueue batched {} jobs/s", thousands(batched));
    let drained = drain(b, &drain_q).await?;
    eprintln!(
        "  run {run}: drain           {} jobs/s (Redis {:.0}% of a core, bench process {:.0}%)",
        thousands(drained.rate),
        drained.redis_core * 100.0,
        drained.bench_core * 100.0
    );
    let latency = interactive_latency(b, run).await?;
    eprintln!(
        "  run {run}: interactive pickup p50 {} p99 {} max {} (>= {} batch jobs waiting)",
        ms(latency.p50),
        ms(latency.p99),
        ms(latency.max),
        thousands(latency.min_backlog as f64)
    );
    let ceiling = ceiling(&b.url).await;
    match &ceiling {
        Ok(c) => eprintln!(
            "  run {run}: redis-benchmark LPUSH {} /s, RPOP {} /s",
            thousands(c.lpush),
            thousands(c.rpop)
        ),
        Err(e) => eprintln!("  run {run}: ceiling skipped: {e}"),
    }
    // Keep Redis memory flat between runs.
    b.cleanup().await?;
    Ok(Run {
        single,
        batched,
        drain: drained,
        latency,
        ceiling,
    })
}

struct Machine {
    nproc: usize,
    cpu: String,
    redis: String,
    date: String,
}

async fn machine(b: &Bench) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let mut conn = b.conn.clone();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    let redis = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    Machine {
        nproc: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu,
        redis,
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// The results as markdown: a machine line, the table, and notes.
fn report(runs: &[Run], m: &Machine, ceiling_note: Option<&str>) -> String {
    let col = |f: &dyn Fn(&Run) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let list = |xs: &[f64], fmt: &dyn Fn(f64) -> String| {
        xs.iter().map(|x| fmt(*x)).collect::<Vec<_>>().join(" / ")
    };
    let rate = |x: f64| thousands(x);
    let lat = |x: f64| format!("{x:.2}");
    let single = col(&|r| r.single);
    let batched = col(&|r| r.batched);
    let drain = col(&|r| r.drain.rate);
    let redis_core = median(&col(&|r| r.drain.redis_core));
    let bench_core = median(&col(&|r| r.drain.bench_core));
    let p50 = col(&|r| r.latency.p50);
    let p99 = col(&|r| r.latency.p99);
    let max = col(&|r| r.latency.max);
    let lpush: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.ceiling.as_ref().ok().map(|c| c.lpush))
        .collect();
    let rpop: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.ceiling.as_ref().ok().map(|c| c.rpop))
        .collect();
    let have_ceiling = !lpush.is_empty() && !rpop.is_empty();
    let (lpush_m, rpop_m) = (median(&lpush), median(&rpop));
    let ratio = |x: f64, c: f64| {
        if have_ceiling {
            format!("{:.2}x", x / c)
        } else {
            "n/a".into()
        }
    };
    let ceiling_cell = |name: &str, c: f64| {
        if have_ceiling {
            format!("{name} {} /s", thousands(c))
        } else {
            format!("{name}: n/a")
        }
    };
    let ratio_verdict = |x: f64, c: f64, target: f64| {
        if have_ceiling {
            verdict(x / c >= target).to_string()
        } else {
            "n/a (no ceiling)".into()
        }
    };

    let mut rows: Vec<[String; 7]> = vec![[
        "figure".into(),
        "median".into(),
        format!("runs ({})", runs.len()),
        "ceiling (median)".into(),
        "ratio".into(),
        "target".into(),
        "result".into(),
    ]];
    let (s, bt, d) = (median(&single), median(&batched), median(&drain));
    rows.push([
        "enqueue, `push` one at a time (jobs/s)".into(),
        rate(s),
        list(&single, &rate),
        ceiling_cell("LPUSH", lpush_m),
        ratio(s, lpush_m),
        "-".into(),
        "-".into(),
    ]);
    rows.push([
        "enqueue, `push_batch` 1,000/call (jobs/s)".into(),
        rate(bt),
        list(&batched, &rate),
        ceiling_cell("LPUSH", lpush_m),
        ratio(bt, lpush_m),
        format!(">= {BATCHED_VS_LPUSH:.1}x LPUSH"),
        ratio_verdict(bt, lpush_m, BATCHED_VS_LPUSH),
    ]);
    rows.push([
        format!(
            "drain, 1 worker, conc 100, fetch batch {} (jobs/s)",
            FETCH_BATCH.get().unwrap_or(&500)
        ),
        rate(d),
        list(&drain, &rate),
        ceiling_cell("RPOP", rpop_m),
        ratio(d, rpop_m),
        format!(">= {DRAIN_VS_RPOP:.1}x RPOP"),
        ratio_verdict(d, rpop_m, DRAIN_VS_RPOP),
    ]);
    let (p50m, p99m, maxm) = (median(&p50), median(&p99), median(&max));
    rows.push([
        "interactive pickup p50 (ms)".into(),
        lat(p50m),
        list(&p50, &lat),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    rows.push([
        "interactive pickup p99 (ms)".into(),
        lat(p99m),
        list(&p99, &lat),
        "-".into(),
        "-".into(),
        format!("<= {P99_MS:.0} ms"),
        verdict(p99m <= P99_MS).into(),
    ]);
    rows.push([
        "interactive pickup max (ms)".into(),
        lat(maxm),
        list(&max, &lat),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    if have_ceiling {
        rows.push([
            "redis-benchmark LPUSH (req/s)".into(),
            rate(lpush_m),
            list(&lpush, &rate),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
        rows.push([
            "redis-benchmark RPOP (req/s)".into(),
            rate(rpop_m),
            list(&rpop, &rate),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
    }

    let mut widths = [0usize; 7];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Machine: {} CPUs ({}), Redis {}, {}. Release build, one worker process, median of {} run(s).\n",
        m.nproc,
        m.cpu,
        m.redis,
        m.date,
        runs.len()
    );
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "|-{}-|", rule.join("-|-"));
        }
    }
    let backlog = runs
        .iter()
        .map(|r| r.latency.min_backlog)
        .min()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\nJobs: {} no-op jobs of {} bytes of JSON. Interactive pickup: {INTERACTIVE} jobs pushed every {} ms to a worker with concurrency 16, batch 16, while batch jobs that sleep ~1 ms were waiting (never fewer than {} waiting at a push). Pickup latency is the time from the push to the start of the handler. Ceiling: `redis-benchmark -t lpush,rpop -n {CEILING_REQUESTS} -q` (50 clients, no pipelining), run once per run.",
        thousands(N as f64),
        payload(1, 0).len(),
        INTERACTIVE_GAP.as_millis(),
        thousands(backlog as f64),
    );
    let _ = writeln!(
        out,
        "\nDuring the drain (median): Redis used {:.0}% of a core, the bench process (worker) {:.0}% of a core, on {} CPUs.",
        redis_core * 100.0,
        bench_core * 100.0,
        m.nproc
    );
    if let Some(note) = ceiling_note {
        let _ = writeln!(out, "\nCeiling skipped: {note}; no ratios.");
    }
    out
}

async fn run_all(b: &Bench, args: &Args) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::with_capacity(args.runs);
    for run in 1..=args.runs {
        eprintln!("run {run}/{}", args.runs);
        runs.push(one_run(b, run).await?);
    }
    Ok(runs)
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
            eprintln!("bench-queue: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let _ = FETCH_BATCH.set(args.fetch_batch);
    let url = redis_url();
    let conn = match queue::connect(&url).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "bench-queue: Redis is not reachable at {url} ({e}); start it (`just setup`) or set CRATEDIGGER__REDIS__URL"
            );
            return ExitCode::FAILURE;
        }
    };
    let b = Bench {
        url,
        conn,
        prefix: format!("bench-{}", ulid::Ulid::new()),
    };
    if cfg!(debug_assertions) {
        eprintln!("bench-queue: warning: debug build; figures are meaningful in release only");
    }
    eprintln!(
        "bench-queue: {} run(s), key prefix {} on {}",
        args.runs, b.prefix, b.url
    );

    let outcome = tokio::select! {
        r = run_all(&b, &args) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match b.cleanup().await {
        Ok(n) => eprintln!(
            "bench-queue: deleted {n} leftover key(s) under {}",
            b.prefix
        ),
        Err(e) => eprintln!(
            "bench-queue: could not delete the keys under {{{}:*}}: {e}",
            b.prefix
        ),
    }
    let runs = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-queue: {e:#}");
            return ExitCode::FAILURE;
        }
    };

    let m = machine(&b).await;
    let ceiling_note = runs
        .iter()
        .find_map(|r| r.ceiling.as_ref().err())
        .map(|s| s.as_str());
    let text = report(&runs, &m, ceiling_note);
    println!("\n{text}");
    if let Some(path) = &args.markdown {
        let section = format!("\n## Queue benchmark, {}\n\n{text}", m.date);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, section.as_bytes()));
        match written {
            Ok(()) => eprintln!("bench-queue: appended the results to {path}"),
            Err(e) => {
                eprintln!("bench-queue: could not append to {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
