//! `bench-lead [--requests N] [--llm-latency-ms L] [--platform-latency-ms P] [--scouts S]
//! [--parallel K] [--markdown FILE]`: the lead agent benchmark behind `just bench lead`.
//!
//! N scripted chat requests (default 20) against the real release binaries
//! (`cratedigger serve` with the lead agent, `research-lead`, S `metadata-scout`
//! processes, `consolidator`), real Redis and a fresh PostgreSQL database per phase, the
//! fixture server for the platforms (the kit's recorded payloads, every answer delayed by
//! P ms) and the fake OpenAI-compatible endpoint (`cratedigger_e2e::fake_openai`) answering
//! every turn after L ms (the scripted LLM latency). Request i asks for 3, 4, 5 or 4 tracks
//! (cycling; tracks the fixture server can answer, read in place from the kit).
//!
//! Two phases, each in its own fresh environment (database, queue prefix, processes,
//! caches), run one after the other in the same invocation:
//!
//! - **parallel**: `PARALLEL_SCOUTS=K` (default 4). Per request the model asks in ONE turn
//!   for one `search_tracks` call per track (K run at once, each an ordinary sync the fleet
//!   researches concurrently), then answers in words (second turn).
//! - **sequential reference**: `PARALLEL_SCOUTS=1`, the same subtasks one after another:
//!   per track one chat whose model asks for one `search_tracks` call (L ms) and then
//!   answers at once (0 ms, so the reference pays one LLM turn per subtask, not the two a
//!   real agent pays between subtasks: it flatters the sequential side); the next subtask
//!   starts when the previous track is final.
//!
//! Requests are sent one after another in both phases. A request's wall time runs from
//! `POST /v1/chat` to the later of: the last item of its syncs final (`state_changed_at`
//! in Postgres) and the end of its last LLM turn (arrival at the fake endpoint + L). The
//! lead's own 1 s progress polling is not counted in either phase.
//!
//! Planning overhead: the time the LLM planner spent in our code (validating, running the
//! tools — storing syncs and enqueuing their jobs —, recording decisions, building the next
//! request), i.e. the planner loop's wall time minus the time waiting for the endpoint; the
//! planner measures it itself and stores it as `overhead_ms` in its last `plan` decision
//! (`lead_decisions`). Also shown: `POST /v1/chat` to the first LLM request (HTTP, the
//! conversation, history and preferences read from Postgres), measured by this program.

use cratedigger_e2e::bench::{Flags, append_markdown, now_utc, start_fleet};
use cratedigger_e2e::fake_openai::{FakeOpenAi, Scripted, final_message, tool_calls};
use cratedigger_e2e::fixture_server;
use cratedigger_e2e::kit;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: bench-lead [--requests N] [--llm-latency-ms L] [--platform-latency-ms P] [--scouts S] [--parallel K] [--markdown FILE]\n\
    --requests N             scripted chat requests (default 20), 3-5 tracks each\n\
    --llm-latency-ms L       the fake endpoint's answer delay per turn (default 150)\n\
    --platform-latency-ms P  the fixture server's answer delay (default 100)\n\
    --scouts S               metadata-scout processes (default 2)\n\
    --parallel K             CRATEDIGGER__LEAD__PARALLEL_SCOUTS of the parallel phase (default 4)\n\
    --markdown FILE          append the results as a dated markdown section to FILE\n\
    Needs the release binaries (cargo build --release --bins -p cratedigger -p cratedigger-workers),\n\
    Redis ($CRATEDIGGER__REDIS__URL) and PostgreSQL ($CRATEDIGGER_TEST_DATABASE_ADMIN_URL).";

/// Target of issue 9: parallel at least this many times faster than one after another.
const SPEEDUP_TARGET: f64 = 3.0;
/// Tracks per request, cycling.
const SIZES: [usize; 4] = [3, 4, 5, 4];

struct Args {
    requests: usize,
    llm_ms: u64,
    platform_ms: u64,
    scouts: usize,
    parallel: usize,
    markdown: Option<String>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        requests: 20,
        llm_ms: 150,
        platform_ms: 100,
        scouts: 2,
        parallel: 4,
        markdown: None,
    };
    let mut flags = Flags::from_env();
    while let Some((flag, inline)) = flags.next_flag() {
        match flag.as_str() {
            "--requests" => a.requests = flags.number(&flag, inline, 1, 100_000)?,
            "--llm-latency-ms" => a.llm_ms = flags.number(&flag, inline, 0, 100_000)?,
            "--platform-latency-ms" => a.platform_ms = flags.number(&flag, inline, 0, 100_000)?,
            "--scouts" => a.scouts = flags.number(&flag, inline, 1, 16)?,
            "--parallel" => a.parallel = flags.number(&flag, inline, 1, 8)?,
            "--markdown" => a.markdown = Some(flags.value(&flag, inline)?),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(a))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18081)
}

fn epoch_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `(artist, title)` of every recording in the kit's recorded MusicBrainz search and the
/// recorded Deezer searches (tracks the fixture server answers), distinct.
fn recorded_tracks(kit: &Path) -> Result<Vec<(String, String)>, String> {
    let read = |rel: &str| -> Result<Value, String> {
        let p = kit.join("fixtures").join(rel);
        let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut out = Vec::new();
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
            out.push((artist.trim().to_string(), t.to_string()));
        }
    }
    for f in [
        "deezer/search_q-billy-jean_limit-2.json",
        "deezer/search_q-soliloquy.json",
        "deezer/search-track_artist-lou-doillon_track-joke.json",
    ] {
        for t in read(f)?["data"].as_array().into_iter().flatten() {
            if let (Some(a), Some(t)) = (t["artist"]["name"].as_str(), t["title"].as_str()) {
                out.push((a.to_string(), t.to_string()));
            }
        }
    }
    let mut seen = HashSet::new();
    out.retain(|(a, t)| seen.insert(format!("{}|{}", a.to_lowercase(), t.to_lowercase())));
    if out.is_empty() {
        return Err("the kit holds no recorded track".into());
    }
    Ok(out)
}

/// The scripted requests: request i holds `SIZES[i % 4]` tracks, taken in order from the
/// recorded tracks (wrapping round when the kit has fewer).
fn scripted_requests(tracks: &[(String, String)], n: usize) -> Vec<Vec<(String, String)>> {
    let mut next = 0usize;
    (0..n)
        .map(|i| {
            (0..SIZES[i % SIZES.len()])
                .map(|_| {
                    let t = tracks[next % tracks.len()].clone();
                    next += 1;
                    t
                })
                .collect()
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Parallel,
    Sequential,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Parallel => "parallel",
            Mode::Sequential => "sequential",
        }
    }
}

/// One chat in flight: its events are collected in the background; sync ids as they come.
struct Chat {
    syncs: tokio::sync::mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<Result<Vec<(String, Value)>, String>>,
}

fn start_chat(http: &reqwest::Client, api: &str, message: String) -> Chat {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let req = http
        .post(format!("{api}/v1/chat"))
        .json(&json!({ "message": message }));
    let task = tokio::spawn(async move {
        let mut resp = req.send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("POST /v1/chat answered {}", resp.status()));
        }
        let mut buf = String::new();
        let mut events = Vec::new();
        loop {
            let chunk = match tokio::time::timeout(Duration::from_secs(180), resp.chunk()).await {
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => return Err("the chat stream stalled for 180 s".into()),
            };
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().into();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if name.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                if name == "sync"
                    && let Some(id) = v["sync_id"].as_str()
                {
                    let _ = tx.send(id.to_string());
                }
                let done = name == "done";
                events.push((name, v));
                if done {
                    return Ok(events);
                }
            }
        }
        Ok(events)
    });
    Chat { syncs: rx, task }
}

struct PhaseResult {
    mode: Mode,
    parallel_scouts: usize,
    /// Per request, seconds.
    walls: Vec<f64>,
    /// Per request, the planner's overhead (sum over the request's chats), ms.
    overhead_ms: Vec<f64>,
    /// Per chat, `POST /v1/chat` to the first LLM request, ms.
    first_call_ms: Vec<f64>,
    chats: usize,
    llm_turns: usize,
    syncs: i64,
    items: i64,
    jobs_processed: i64,
    states: BTreeMap<String, i64>,
    fallbacks: i64,
    tool_errors: usize,
}

impl PhaseResult {
    fn wall(&self) -> f64 {
        self.walls.iter().sum()
    }
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s[i.min(s.len() - 1)]
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Waits until the chat created `want_syncs` syncs, the fake endpoint saw `want_arrivals`
/// requests in all, and every item of those syncs is final; returns the request's end
/// (epoch seconds of the last item's final state, and the Instant the last LLM turn ended).
async fn wait_request(
    pg: &sqlx::PgPool,
    chat: &mut Chat,
    fake: &FakeOpenAi,
    want_syncs: usize,
    want_arrivals: usize,
    last_turn_latency: Duration,
) -> Result<(f64, Instant), String> {
    let limit = Instant::now() + Duration::from_secs(180);
    let mut syncs: Vec<uuid::Uuid> = Vec::new();
    loop {
        while let Ok(id) = chat.syncs.try_recv() {
            syncs.push(id.parse().map_err(|_| format!("bad sync id {id}"))?);
        }
        let arrivals = fake.arrivals();
        if syncs.len() >= want_syncs && arrivals.len() >= want_arrivals {
            let row: (i64, i64, Option<f64>) = sqlx::query_as(
                "SELECT count(*), count(*) FILTER (WHERE state IN ('resolved','duplicate','failed','filed')),
                        extract(epoch FROM max(state_changed_at))::float8
                 FROM items WHERE sync_id = ANY($1)",
            )
            .bind(&syncs)
            .fetch_one(pg)
            .await
            .map_err(|e| e.to_string())?;
            if row.0 > 0 && row.0 == row.1 {
                let llm_end = arrivals[want_arrivals - 1] + last_turn_latency;
                return Ok((row.2.unwrap_or(0.0), llm_end));
            }
        }
        if Instant::now() > limit {
            return Err(format!(
                "a request did not finish in 180 s ({} of {want_syncs} syncs, {} of {want_arrivals} LLM requests)",
                syncs.len(),
                fake.arrivals().len()
            ));
        }
        if chat.task.is_finished() && syncs.len() < want_syncs {
            return Err("the chat ended before creating its syncs".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn run_phase(
    args: &Args,
    kit_dir: &Path,
    requests: &[Vec<(String, String)>],
    mode: Mode,
) -> Result<PhaseResult, String> {
    let parallel_scouts = match mode {
        Mode::Parallel => args.parallel,
        Mode::Sequential => 1,
    };
    let (db_url, _db) = cratedigger_store::testing::fresh_database().await;
    let server = fixture_server::serve(kit_dir.to_path_buf(), "127.0.0.1:0".parse().unwrap())
        .await
        .map_err(|e| e.to_string())?;
    server.set_latency(Duration::from_millis(args.platform_ms));
    let fake = FakeOpenAi::start(Vec::new())
        .await
        .map_err(|e| e.to_string())?;
    let prefix = format!("bench-lead-{}-{}", mode.name(), ulid::Ulid::new());
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
        ("CRATEDIGGER__LEAD__BASE_URL".into(), fake.base_url()),
        ("CRATEDIGGER__LEAD__MODEL".into(), "bench-model".into()),
        (
            "CRATEDIGGER__LEAD__PARALLEL_SCOUTS".into(),
            parallel_scouts.to_string(),
        ),
        ("CRATEDIGGER__LEAD__MAX_TOOL_CALLS".into(), "8".into()),
        ("CRATEDIGGER__LEAD__WALL_TIME_SECS".into(), "120".into()),
        ("RUST_LOG".into(), "warn".into()),
    ];
    // The platforms' courtesy limits are lifted (x100): this benchmark is about the lead
    // and the fleet's concurrency, `just bench sync` is about the limits.
    for (up, requests, per) in [("MUSICBRAINZ", 100, 1), ("DEEZER", 5000, 5)] {
        env.push((
            format!("CRATEDIGGER__PLATFORMS__{up}__BASE_URL"),
            server.base_url(),
        ));
        env.push((
            format!("CRATEDIGGER__PLATFORMS__LIMITS__{up}__REQUESTS"),
            requests.to_string(),
        ));
        env.push((
            format!("CRATEDIGGER__PLATFORMS__LIMITS__{up}__PER_SECS"),
            per.to_string(),
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
    let procs = start_fleet("lead", &env, &logs, &api, args.scouts).await?;
    let http = reqwest::Client::new();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pg = sqlx::PgPool::connect(&db_url)
        .await
        .map_err(|e| e.to_string())?;

    let llm = Duration::from_millis(args.llm_ms);
    let search = |tracks: &[(String, String)]| {
        (
            "search_tracks",
            json!({ "tracks": tracks.iter().map(|(a, t)| json!({"artist": a, "title": t})).collect::<Vec<_>>() }),
        )
    };
    let mut walls = Vec::new();
    let mut first_call_ms = Vec::new();
    let mut chats: Vec<Chat> = Vec::new();
    let mut chat_of_request: Vec<usize> = Vec::new();
    for (ri, req) in requests.iter().enumerate() {
        let t0 = Instant::now();
        let t0_epoch = epoch_s();
        let mut end_db = 0.0f64;
        let mut end_llm = t0;
        // (message, script, syncs expected, LLM requests expected, latency of the last turn)
        let subtasks: Vec<(String, Vec<Scripted>, usize, usize, Duration)> = match mode {
            Mode::Parallel => {
                let calls: Vec<(&str, Value)> = req
                    .iter()
                    .map(|t| search(std::slice::from_ref(t)))
                    .collect();
                let message = req
                    .iter()
                    .map(|(a, t)| format!("{a} - {t}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                vec![(
                    message,
                    vec![
                        Scripted::Slow(llm, tool_calls(&calls)),
                        Scripted::Slow(llm, final_message("Looked them up.")),
                    ],
                    req.len(),
                    2,
                    llm,
                )]
            }
            Mode::Sequential => req
                .iter()
                .map(|t| {
                    (
                        format!("{} - {}", t.0, t.1),
                        vec![
                            Scripted::Slow(llm, tool_calls(&[search(std::slice::from_ref(t))])),
                            Scripted::Reply(final_message("Looked it up.")),
                        ],
                        1,
                        2,
                        Duration::ZERO,
                    )
                })
                .collect(),
        };
        for (message, script, want_syncs, turns, last_latency) in subtasks {
            let before = fake.arrivals().len();
            fake.push(script);
            let sent = Instant::now();
            let mut chat = start_chat(&http, &api, message);
            let (db_end, llm_end) = wait_request(
                &pg,
                &mut chat,
                &fake,
                want_syncs,
                before + turns,
                last_latency,
            )
            .await
            .map_err(|e| format!("request {ri}: {e}; logs in {}", logs.display()))?;
            if let Some(first) = fake.arrivals().get(before) {
                first_call_ms.push(first.duration_since(sent).as_secs_f64() * 1000.0);
            }
            end_db = end_db.max(db_end);
            end_llm = end_llm.max(llm_end);
            chats.push(chat);
            chat_of_request.push(ri);
        }
        let wall = (end_db - t0_epoch).max(end_llm.duration_since(t0).as_secs_f64());
        walls.push(wall);
    }
    // Every chat ends with an answer and `done`.
    let mut tool_errors = 0usize;
    let n_chats = chats.len();
    for chat in chats {
        let events = chat
            .task
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("a chat failed: {e}"))?;
        if !events.iter().any(|(n, _)| n == "done") || !events.iter().any(|(n, _)| n == "answer") {
            return Err(format!("a chat ended without answer/done: {events:?}"));
        }
        tool_errors += events
            .iter()
            .filter(|(n, v)| n == "tool" && !v["error"].is_null())
            .count();
    }
    // The planner's own overhead, one `plan` decision per chat ("the model answered"), in
    // conversation order (chats were sent one after another).
    let overhead_rows: Vec<(f64,)> = sqlx::query_as(
        "SELECT COALESCE((d.result->>'overhead_ms')::float8, 0)
         FROM lead_decisions d JOIN lead_conversations c ON c.id = d.conversation_id
         WHERE d.kind = 'plan' AND d.result->>'why' = 'the model answered'
         ORDER BY c.created_at, d.id",
    )
    .fetch_all(&pg)
    .await
    .map_err(|e| e.to_string())?;
    if overhead_rows.len() != n_chats {
        return Err(format!(
            "{} chats but {} final plan decisions",
            n_chats,
            overhead_rows.len()
        ));
    }
    let mut overhead_ms = vec![0.0; requests.len()];
    for ((ms,), ri) in overhead_rows.iter().zip(&chat_of_request) {
        overhead_ms[*ri] += ms;
    }
    let scalar = |sql: &'static str| {
        let pg = pg.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pg)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let syncs = scalar("SELECT count(*) FROM syncs").await?;
    let items = scalar("SELECT count(*) FROM items").await?;
    let jobs_processed = scalar("SELECT count(*) FROM processed_jobs").await?;
    let fallbacks = scalar("SELECT count(*) FROM lead_decisions WHERE kind = 'fallback'").await?;
    let states: BTreeMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT state, count(*) FROM items GROUP BY state")
            .fetch_all(&pg)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
    let llm_turns = fake.arrivals().len();
    drop(procs);
    pg.close().await;
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
    server.shutdown();
    eprintln!("{} phase logs: {}", mode.name(), logs.display());
    Ok(PhaseResult {
        mode,
        parallel_scouts,
        walls,
        overhead_ms,
        first_call_ms,
        chats: n_chats,
        llm_turns,
        syncs,
        items,
        jobs_processed,
        states,
        fallbacks,
        tool_errors,
    })
}

struct Report {
    args_line: String,
    requests: usize,
    tracks: usize,
    llm_ms: u64,
    par: PhaseResult,
    seq: PhaseResult,
}

impl Report {
    fn speedup(&self) -> f64 {
        self.seq.wall() / self.par.wall().max(1e-9)
    }

    fn rows(&self) -> Vec<(String, String, String)> {
        let mut rows = Vec::new();
        for p in [&self.par, &self.seq] {
            let label = format!("{} (PARALLEL_SCOUTS={})", p.mode.name(), p.parallel_scouts);
            rows.push((
                format!("{label}: wall time, {} requests", self.requests),
                format!("{:.2} s", p.wall()),
                String::new(),
            ));
            rows.push((
                format!("{label}: wall per request p50 / p95"),
                format!(
                    "{:.0} / {:.0} ms",
                    pct(&p.walls, 0.5) * 1000.0,
                    pct(&p.walls, 0.95) * 1000.0
                ),
                String::new(),
            ));
            rows.push((
                format!("{label}: planning overhead per request (excl. LLM latency) mean / p50 / p95 / max"),
                format!(
                    "{:.1} / {:.1} / {:.1} / {:.1} ms",
                    mean(&p.overhead_ms),
                    pct(&p.overhead_ms, 0.5),
                    pct(&p.overhead_ms, 0.95),
                    pct(&p.overhead_ms, 1.0)
                ),
                String::new(),
            ));
            rows.push((
                format!("{label}: POST /v1/chat to first LLM request p50 / p95"),
                format!(
                    "{:.1} / {:.1} ms",
                    pct(&p.first_call_ms, 0.5),
                    pct(&p.first_call_ms, 0.95)
                ),
                String::new(),
            ));
            rows.push((
                format!("{label}: chats / LLM turns / syncs / items (research jobs) / jobs the consolidator applied"),
                format!(
                    "{} / {} / {} / {} / {}",
                    p.chats, p.llm_turns, p.syncs, p.items, p.jobs_processed
                ),
                String::new(),
            ));
            rows.push((
                format!("{label}: final states; fallbacks; tool errors"),
                format!(
                    "{}; {}; {}",
                    p.states
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    p.fallbacks,
                    p.tool_errors
                ),
                String::new(),
            ));
        }
        let ok = self.speedup() >= SPEEDUP_TARGET;
        rows.push((
            "speed-up: sequential wall / parallel wall".into(),
            format!("{:.2}x", self.speedup()),
            format!(
                ">= {SPEEDUP_TARGET}x {}",
                if ok { "ok" } else { "**MISS**" }
            ),
        ));
        rows
    }

    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.args_line);
        let _ = writeln!(
            s,
            "{} requests, {} tracks, scripted LLM latency {} ms per turn",
            self.requests, self.tracks, self.llm_ms
        );
        for (k, v, t) in self.rows() {
            let _ = writeln!(s, "{k:<100} {v} {t}");
        }
        s
    }

    fn markdown(&self, date: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\n## bench lead — {date}\n");
        let _ = writeln!(s, "`{}`\n", self.args_line);
        let _ = writeln!(
            s,
            "{} requests, {} tracks (3-5 per request), scripted LLM latency {} ms per turn.\n",
            self.requests, self.tracks, self.llm_ms
        );
        let _ = writeln!(s, "| figure | value | target |\n|---|---:|---|");
        for (k, v, t) in self.rows() {
            let _ = writeln!(s, "| {k} | {v} | {t} |");
        }
        s
    }
}

const MARKDOWN_HEADER: &str = "\n## What `just bench lead` measures\n\n\
Source: `tests/src/bin/bench-lead.rs` (module doc has the details); run with `just bench lead`.\n\
20 scripted chat requests (3, 4, 5, 4, ... tracks the fixture server can answer) through the\n\
real release binaries (`cratedigger serve` with the lead agent, `research-lead`, two\n\
`metadata-scout`s, `consolidator`), real Redis and PostgreSQL, the fixture server for the\n\
platforms (answers delayed by 100 ms, limits lifted x100) and the fake OpenAI-compatible\n\
endpoint answering every turn after 150 ms. Two phases in the same run, each in a fresh\n\
database, queue prefix and set of processes (no cache carried over):\n\n\
- **parallel** (`PARALLEL_SCOUTS=4`): per request the model asks in one turn for one\n\
  `search_tracks` per track (4 run at once; each an ordinary sync the scouts research\n\
  concurrently), then answers (second turn).\n\
- **sequential reference** (`PARALLEL_SCOUTS=1`): the same subtasks one after another, one\n\
  chat per track (one 150 ms tool turn, a 0 ms closing turn), the next when the previous\n\
  track is final. One LLM turn per subtask instead of the two an agent pays between\n\
  subtasks: it flatters the sequential side.\n\n\
- **wall time**: per request, `POST /v1/chat` to the later of the last item final\n\
  (`state_changed_at`) and the end of the last LLM turn; summed over the requests, which\n\
  are sent one after another. The lead's own 1 s progress polling is not counted.\n\
- **planning overhead**: time in our code in the LLM planner's loop (validation, tools that\n\
  store syncs and enqueue jobs, decisions, building the next request), measured by the\n\
  planner itself (loop wall time minus time waiting for the endpoint) and stored as\n\
  `overhead_ms` in its final `plan` decision; per request (summed over its chats).\n\
- **jobs**: syncs and items created (one research job each), and the jobs the consolidator\n\
  applied (`processed_jobs`: planned, researched, ...).\n\n\
A missed target is reported as MISS; the benchmark does not fail on it.\n";

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench-lead: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = async {
        let kit_dir = kit::find_kit().map_err(|e| e.to_string())?;
        let tracks = recorded_tracks(&kit_dir)?;
        let requests = scripted_requests(&tracks, args.requests);
        let par = run_phase(&args, &kit_dir, &requests, Mode::Parallel).await?;
        let seq = run_phase(&args, &kit_dir, &requests, Mode::Sequential).await?;
        Ok::<_, String>(Report {
            args_line: format!(
                "bench-lead --requests {} --llm-latency-ms {} --platform-latency-ms {} --scouts {} --parallel {} (release)",
                args.requests, args.llm_ms, args.platform_ms, args.scouts, args.parallel
            ),
            requests: requests.len(),
            tracks: requests.iter().map(Vec::len).sum(),
            llm_ms: args.llm_ms,
            par,
            seq,
        })
    }
    .await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-lead: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.text());
    if let Some(path) = &args.markdown {
        if let Err(e) = append_markdown(path, MARKDOWN_HEADER, &report.markdown(&now_utc())) {
            eprintln!("bench-lead: {e}");
            return ExitCode::FAILURE;
        }
        println!("appended to {path}");
    }
    ExitCode::SUCCESS
}
