//! `bench-ranking`: the ranking benchmark behind `just bench ranking` (issue 7: "ranking
//! throughput for 10,000 items x 50 candidates").
//!
//! **Generated set** (deterministic, splitmix64): `--items` (default 10,000) wanted tracks
//! ("First Last" or one-word artists, adjective/noun titles, 50 % original mix, the rest
//! Extended Mix, Radio Edit, Dub, Club Mix or "<artist> Remix", a canonical duration for 90 %)
//! with `--candidates` (default 50) candidates each, the way a real Soulseek search answers:
//! ~18 distinct files per item shared by several peers. Per item about: 45 % the right
//! version (file names in every common style: "01 Title (Mix).flac", "1-03 - Artist - Title",
//! lower case, no mix named, artist only in the folder), 15 % another mix or edit (minutes
//! shorter or longer), 15 % another title by the same artist, 5 % cover art / cue sheets;
//! formats FLAC 16/44.1 and 24/96, WAV, AIFF, MP3 320 / V0 / 192 / 128, AAC 256, Ogg, with
//! the bitrate or duration unknown for 15 %; peers with random slots, queues (0-400) and
//! speeds, 40 % of them with a recorded reputation (some with fakes). Around 20 % of the
//! candidates are not from Soulseek: Bandcamp free downloads, Beatport purchases and YouTube
//! streams. Items come in syncs of 20 whose "crate" peers share folders holding several of
//! the sync's tracks, so `group_folders` has work to do.
//!
//! **Measured** (one thread, release build; each figure the median of `--runs`, default 3):
//! 1. `rank` over all items, each from a fresh clone of its candidates (items/s,
//!    candidates/s);
//! 2. reference A, in the same run: clone the same candidates and sort them by one numeric
//!    key (bitrate), the cheapest possible "ranking";
//! 3. reference B, in the same run: `music::matching::score` alone, once per candidate (the
//!    title/artist/mix evidence with no file-name readings, quality or peer factors);
//! 4. `group_folders` over every sync.
//!
//! Also reported: how often the best accepted candidate is the right version (the generator
//! knows), and how often a right-version candidate exists but all were rejected.

use cratedigger_domain::acquisition::{
    Availability, DownloadRef, PeerInfo, RankedCandidate, SourceCandidate,
};
use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
use cratedigger_e2e::bench::{Rng, machine, now_utc};
use cratedigger_music::matching::{MatchWeights, Thresholds, score};
use cratedigger_music::ranking::{
    PeerReputation, RankingContext, RankingPolicy, factor, group_folders, rank,
};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-ranking [--items N] [--candidates N] [--runs N] [--markdown FILE]\n\
    --items N        wanted tracks (default 10000)\n\
    --candidates N   candidates per wanted track (default 50)\n\
    --runs N         timed runs; each figure is the median (default 3)\n\
    --markdown FILE  append the results as a dated section to FILE";

const SYNC_SIZE: usize = 20;

struct Args {
    items: usize,
    candidates: usize,
    runs: usize,
    markdown: Option<String>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        items: 10_000,
        candidates: 50,
        runs: 3,
        markdown: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse()
                .map_err(|_| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--items" => a.items = num("--items")?.max(1),
            "--candidates" => a.candidates = num("--candidates")?.max(1),
            "--runs" => a.runs = num("--runs")?.max(1),
            "--markdown" => a.markdown = Some(it.next().ok_or("--markdown needs a file")?),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(a))
}

// ------------------------------------------------------------------------------------------
// Deterministic generator

const FIRST: &[&str] = &[
    "Adam", "Alice", "Anna", "Ben", "Boris", "Carl", "Chloe", "Dan", "Elena", "Emma", "Felix",
    "Fiona", "Greg", "Hannah", "Hugo", "Ivan", "Jack", "Jana", "Julia", "Kai", "Lara", "Leon",
    "Lucas", "Luna", "Marco", "Maria", "Max", "Mia", "Nina", "Noah", "Olga", "Oscar", "Paul",
    "Rosa", "Sara", "Sofia", "Theo", "Uma", "Vera", "Yara", "Zoe",
];
const LAST: &[&str] = &[
    "Adler", "Baker", "Becker", "Costa", "Dahl", "Eklund", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Klein", "Larsen", "Moreau", "Novak", "Olsen", "Petrov", "Quist", "Rossi", "Schmidt",
    "Tanaka", "Ueda", "Vogel", "Weber", "Young", "Zeller",
];
const ALIAS: &[&str] = &[
    "Bicep",
    "Kolsch",
    "Anotr",
    "Mochakk",
    "Overmono",
    "Fjaak",
    "Ostgut",
    "Rampa",
    "Kerri",
    "Solomun",
    "Tinlicker",
    "Yotto",
    "Tale Of Us",
    "Mathame",
    "Adriatique",
    "Innellea",
    "Artbat",
    "Massano",
    "Kevin de Vries",
    "Joris Voorn",
];
const ADJ: &[&str] = &[
    "Amber", "Broken", "Cold", "Deep", "Electric", "Falling", "Golden", "Hidden", "Infinite",
    "Lost", "Midnight", "Neon", "Open", "Purple", "Quiet", "Rising", "Silent", "Slow", "Velvet",
    "Wild", "Young", "Burning", "Distant", "Endless", "Frozen", "Hollow", "Lunar", "Solar",
];
const NOUN: &[&str] = &[
    "Arcade", "Bloom", "Circles", "Dawn", "Echoes", "Fire", "Glue", "Harbour", "Island", "Journey",
    "Kingdom", "Lights", "Mirror", "Nights", "Ocean", "Pulse", "Rain", "Signal", "Tide", "Waves",
    "Horizon", "Machine", "Garden", "River", "Storm", "Voices", "Shadows", "Apricots",
];
const MIXES: &[&str] = &["Extended Mix", "Radio Edit", "Dub", "Club Mix"];
const USERS: usize = 400;

struct Item {
    wanted: WantedTrack,
    candidates: Vec<SourceCandidate>,
    /// Source keys of candidates that are the wanted version.
    right: HashSet<String>,
}

/// One distinct file on offer (before it is spread over peers).
struct FileSpec {
    name: String,
    folder_tail: String,
    artist_folder: bool,
    right: bool,
    format: Option<&'static str>,
    bitrate: Option<u32>,
    sample_rate: Option<u32>,
    bit_depth: Option<u8>,
    duration_ms: Option<u32>,
}

fn artist_name(r: &mut Rng) -> String {
    if r.chance(0.5) {
        format!("{} {}", r.pick(FIRST), r.pick(LAST))
    } else {
        r.pick(ALIAS).to_string()
    }
}

fn title_name(r: &mut Rng) -> String {
    match r.below(3) {
        0 => format!("{} {}", r.pick(ADJ), r.pick(NOUN)),
        1 => format!("{} of the {}", r.pick(NOUN), r.pick(NOUN)),
        _ => r.pick(NOUN).to_string(),
    }
}

fn quality(r: &mut Rng, f: &mut FileSpec) {
    let (fmt, br, sr, bd): (&str, Option<u32>, Option<u32>, Option<u8>) = match r.below(20) {
        0..=4 => ("flac", None, Some(44_100), Some(16)),
        5 => ("flac", None, Some(96_000), Some(24)),
        6 => ("wav", None, Some(44_100), Some(16)),
        7 => ("aiff", None, Some(44_100), Some(16)),
        8..=11 => ("mp3", Some(320), Some(44_100), None),
        12..=13 => ("mp3", Some(245 + r.below(20) as u32), Some(44_100), None),
        14 => ("mp3", Some(192), Some(44_100), None),
        15..=16 => ("mp3", Some(128), Some(44_100), None),
        17 => ("m4a", Some(256), Some(44_100), None),
        18 => ("ogg", Some(320), Some(44_100), None),
        _ => ("mp3", Some(320), None, None),
    };
    f.format = Some(fmt);
    // The stock Soulseek client shares no bitrate or length: 15 % unknown.
    let unknown = r.chance(0.15);
    f.bitrate = if unknown { None } else { br };
    f.sample_rate = if unknown { None } else { sr };
    f.bit_depth = if unknown { None } else { bd };
}

fn file_spec(r: &mut Rng, w: &WantedTrack, canonical_ms: u32, kind: usize) -> FileSpec {
    let mut f = FileSpec {
        name: String::new(),
        folder_tail: String::new(),
        artist_folder: r.chance(0.7),
        right: false,
        format: None,
        bitrate: None,
        sample_rate: None,
        bit_depth: None,
        duration_ms: None,
    };
    quality(r, &mut f);
    let (title, mix, dur) = match kind {
        // The wanted version.
        0..=8 => {
            f.right = true;
            let jitter = r.below(3) as u32 * 1000;
            (
                w.title.clone(),
                w.mix.clone(),
                canonical_ms.saturating_sub(jitter),
            )
        }
        // Another mix or edit of the same title.
        9..=11 => {
            let other = loop {
                let m = r.pick(MIXES);
                if w.mix.as_deref() != Some(m) {
                    break Some(m.to_string());
                }
            };
            let d = if other.as_deref() == Some("Radio Edit") {
                canonical_ms.saturating_sub(150_000).max(150_000)
            } else {
                canonical_ms + 60_000 + r.below(120) as u32 * 1000
            };
            (w.title.clone(), other, d)
        }
        // Another title by the same artist.
        12..=14 => (title_name(r), None, 200_000 + r.below(300) as u32 * 1000),
        // Cover art, cue sheet.
        15 => {
            f.format = Some(if r.chance(0.7) { "jpg" } else { "cue" });
            f.bitrate = None;
            f.sample_rate = None;
            f.bit_depth = None;
            ("folder".to_string(), None, 0)
        }
        // More copies of the wanted version in other styles.
        _ => {
            f.right = true;
            (w.title.clone(), w.mix.clone(), canonical_ms)
        }
    };
    f.duration_ms = (dur > 0 && !r.chance(0.1)).then_some(dur);
    let ext = f.format.unwrap_or("mp3");
    let mix_part = |m: &Option<String>, r: &mut Rng| match m {
        Some(m) if r.chance(0.85) => format!(" ({m})"),
        _ => String::new(),
    };
    let mp = mix_part(&mix, r);
    let n = r.below(12) + 1;
    let base = match r.below(6) {
        0 => format!("{n:02} {title}{mp}"),
        1 => format!("{n:02} - {} - {title}{mp}", w.artist),
        2 => format!("1-{n:02} {title}{mp}"),
        3 => format!("{} - {title}{mp}", w.artist),
        4 => format!("{n:02}. {}", format!("{title}{mp}").to_lowercase()),
        _ => format!("{title}{mp}"),
    };
    f.name = if f.format == Some("jpg") || f.format == Some("cue") {
        format!("folder.{ext}")
    } else {
        format!("{base}.{ext}")
    };
    f.folder_tail = format!("{} {}", r.pick(ADJ), r.pick(NOUN));
    f
}

fn user(i: usize) -> String {
    format!("peer{i:03}")
}

fn generate(items: usize, per_item: usize) -> (Vec<Item>, RankingContext) {
    let mut r = Rng(0x5EED_0007);
    let mut ctx = RankingContext::default();
    ctx.source_trust.insert("soulseek".into(), 0.5);
    ctx.source_trust.insert("bandcamp".into(), 0.9);
    ctx.source_trust.insert("beatport".into(), 1.0);
    ctx.source_trust.insert("youtube".into(), 0.3);
    for u in 0..USERS {
        if r.chance(0.4) {
            ctx.peers.insert(
                user(u),
                PeerReputation {
                    completed: r.below(60) as u32,
                    failures: r.below(6) as u32,
                    stalls: r.below(6) as u32,
                    fakes: if r.chance(0.15) {
                        1 + r.below(2) as u32
                    } else {
                        0
                    },
                },
            );
        }
    }
    let peers: Vec<PeerInfo> = (0..USERS)
        .map(|u| PeerInfo {
            username: user(u),
            has_free_slot: if r.chance(0.1) {
                None
            } else {
                Some(r.chance(0.7))
            },
            queue_length: if r.chance(0.1) {
                None
            } else if r.chance(0.6) {
                Some(0)
            } else {
                Some(r.below(400) as u32)
            },
            upload_speed_bps: Some(if r.chance(0.1) {
                0
            } else {
                20_000 + r.below(3_000_000) as u64
            }),
        })
        .collect();

    let mut out = Vec::with_capacity(items);
    let mut serial = 0usize;
    for i in 0..items {
        let sync = i / SYNC_SIZE;
        let artist = artist_name(&mut r);
        let title = title_name(&mut r);
        let mix = if r.chance(0.5) {
            None
        } else {
            Some(r.pick(MIXES).to_string())
        };
        let canonical_ms = 180_000 + r.below(360) as u32 * 1000;
        let wanted = WantedTrack {
            artist: artist.clone(),
            title: title.clone(),
            mix,
            duration_ms: r.chance(0.9).then_some(canonical_ms),
            ..Default::default()
        };
        let distinct = (per_item * 18 / 50).max(1);
        let files: Vec<FileSpec> = (0..distinct)
            .map(|_| {
                let kind = r.below(20);
                file_spec(&mut r, &wanted, canonical_ms, kind)
            })
            .collect();
        let mut cands = Vec::with_capacity(per_item);
        let mut right = HashSet::new();
        for _ in 0..per_item {
            serial += 1;
            let key = format!("c{serial:08}");
            let roll = r.below(100);
            let c = if roll < 80 {
                // Soulseek: a distinct file, shared by one of the peers. The sync's three
                // "crate" peers keep the sync's tracks in one folder.
                let f = &files[r.below(files.len())];
                let crate_peer = r.chance(0.15);
                let u = if crate_peer {
                    (sync * 7 + r.below(3)) % USERS
                } else {
                    r.below(USERS)
                };
                let folder = if crate_peer {
                    format!("@@c{u}\\Music\\Crates\\Sync {sync}")
                } else if f.artist_folder {
                    format!("@@p{u}\\Music\\{artist}\\{}", f.folder_tail)
                } else {
                    format!("@@p{u}\\complete\\{}", f.folder_tail)
                };
                let filename = format!("{folder}\\{}", f.name);
                if f.right {
                    right.insert(key.clone());
                }
                SourceCandidate {
                    source: "soulseek".into(),
                    source_key: key,
                    title: f.name.clone(),
                    availability: Availability::Download,
                    download: Some(DownloadRef::Soulseek {
                        username: user(u),
                        filename,
                        size: 5_000_000 + r.below(80_000_000) as u64,
                    }),
                    format: f.format.map(str::to_string),
                    bitrate_kbps: f.bitrate,
                    sample_rate_hz: f.sample_rate,
                    bit_depth: f.bit_depth,
                    duration_ms: f.duration_ms,
                    peer: Some(peers[u].clone()),
                    ..Default::default()
                }
            } else {
                let right_one = r.chance(0.6);
                let t = if right_one {
                    match &wanted.mix {
                        Some(m) => format!("{title} ({m})"),
                        None => title.clone(),
                    }
                } else {
                    format!("{title} ({})", r.pick(MIXES))
                };
                let d = if right_one {
                    canonical_ms
                } else {
                    canonical_ms + 90_000
                };
                let (source, availability, format, download) = match roll {
                    80..=84 => (
                        "bandcamp",
                        Availability::Download,
                        Some("flac"),
                        Some(DownloadRef::Http {
                            url: format!("https://x.bandcamp.com/{key}.flac"),
                        }),
                    ),
                    85..=94 => ("beatport", Availability::Purchase, Some("wav"), None),
                    _ => ("youtube", Availability::Stream, None, None),
                };
                if right_one && download.is_some() {
                    right.insert(key.clone());
                }
                SourceCandidate {
                    source: source.into(),
                    url: Some(format!("https://{source}.example/{key}")),
                    source_key: key,
                    title: t,
                    artist: Some(artist.clone()),
                    availability,
                    download,
                    format: format.map(str::to_string),
                    duration_ms: r.chance(0.7).then_some(d),
                    price: (availability == Availability::Purchase).then(|| "€1.99".into()),
                    ..Default::default()
                }
            };
            cands.push(c);
        }
        out.push(Item {
            wanted,
            candidates: cands,
            right,
        });
    }
    (out, ctx)
}

// ------------------------------------------------------------------------------------------
// Measurements

/// CPU time this thread has run so far (Linux `/proc/thread-self/schedstat`, first field in
/// ns): unlike wall time it does not grow when other processes take the CPU.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall and CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let c0 = thread_cpu();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed();
    let cpu = match (c0, thread_cpu()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    (out, wall, cpu)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run_rank(items: &[Item], ctx: &RankingContext, p: &RankingPolicy) -> Vec<Vec<RankedCandidate>> {
    items
        .iter()
        .map(|it| rank(&it.wanted, it.candidates.clone(), ctx, p))
        .collect()
}

fn run_sort(items: &[Item]) -> usize {
    let mut n = 0;
    for it in items {
        let mut v = it.candidates.clone();
        v.sort_by_key(|c| std::cmp::Reverse(c.bitrate_kbps.unwrap_or(0)));
        n += black_box(v).len();
    }
    n
}

fn run_matching(items: &[Item]) -> f32 {
    let (w, t) = (MatchWeights::default(), Thresholds::default());
    let mut acc = 0.0f32;
    for it in items {
        for c in &it.candidates {
            let pt = PlatformTrack {
                platform: c.source.clone(),
                title: c.title.clone(),
                artists: c
                    .artist
                    .iter()
                    .map(|a| ArtistCredit {
                        name: a.clone(),
                        role: ArtistRole::Main,
                    })
                    .collect(),
                duration_ms: c.duration_ms,
                ..Default::default()
            };
            acc += black_box(score(&it.wanted, &pt, &w, &t)).total;
        }
    }
    acc
}

fn secs_fmt(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn run(args: &Args) -> Result<String, String> {
    let when = now_utc();
    let mach = machine();
    let t0 = Instant::now();
    let (items, ctx) = generate(args.items, args.candidates);
    let gen_time = t0.elapsed();
    let policy = RankingPolicy::default();
    let total_cands: usize = items.iter().map(|i| i.candidates.len()).sum();
    eprintln!(
        "generated {} items x {} candidates in {:.2} s; warming up",
        items.len(),
        args.candidates,
        gen_time.as_secs_f64()
    );

    // Warm-up (allocator, caches), unmeasured.
    let warm = items.len().min(500);
    black_box(run_rank(&items[..warm], &ctx, &policy));
    black_box(run_sort(&items[..warm]));
    black_box(run_matching(&items[..warm]));

    // group_folders input: one (item key, ranked list) per item, built once from the first
    // ranking so that its timing holds no cloning.
    let first = run_rank(&items, &ctx, &policy);
    let syncs: Vec<Vec<(usize, Vec<RankedCandidate>)>> = first
        .chunks(SYNC_SIZE)
        .enumerate()
        .map(|(s, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, r)| (s * SYNC_SIZE + i, r.clone()))
                .collect()
        })
        .collect();
    drop(first);

    // name -> (wall times, cpu times)
    let mut times: [(Vec<Duration>, Vec<Duration>); 4] = Default::default();
    let mut ranked: Vec<Vec<RankedCandidate>> = Vec::new();
    let mut offers_n = 0usize;
    for run in 0..args.runs {
        eprintln!("run {}/{}", run + 1, args.runs);
        let mut record = |i: usize, wall: Duration, cpu: Option<Duration>| {
            times[i].0.push(wall);
            times[i].1.push(cpu.unwrap_or(wall));
        };
        let (_, w, c) = timed(|| black_box(run_sort(&items)));
        record(1, w, c);
        let (r, w, c) = timed(|| black_box(run_rank(&items, &ctx, &policy)));
        ranked = r;
        record(0, w, c);
        let (_, w, c) = timed(|| black_box(run_matching(&items)));
        record(2, w, c);
        let (n, w, c) = timed(|| {
            syncs
                .iter()
                .map(|s| black_box(group_folders(s)).len())
                .sum::<usize>()
        });
        offers_n = n;
        record(3, w, c);
    }
    let cpu_known = thread_cpu().is_some();
    let [rank_t, sort_t, match_t, group_t] = times.map(|(w, c)| (median(w), median(c)));

    // What came out.
    let mut accepted = 0usize;
    let mut top_right = 0usize;
    let mut top_wrong = 0usize;
    let mut top_wrong_no_duration = 0usize;
    let mut none_accepted_with_right = 0usize;
    let mut none_accepted = 0usize;
    for (it, r) in items.iter().zip(&ranked) {
        accepted += r.iter().filter(|c| c.rejected.is_none()).count();
        match r
            .iter()
            .find(|c| c.rejected.is_none() && c.candidate.is_downloadable())
        {
            Some(best) if it.right.contains(&best.candidate.source_key) => top_right += 1,
            Some(best) => {
                top_wrong += 1;
                let duration_unknown = best
                    .factors
                    .iter()
                    .any(|f| f.factor == factor::DURATION && f.detail.starts_with("unknown"));
                if duration_unknown {
                    top_wrong_no_duration += 1;
                }
                if std::env::var_os("BENCH_RANKING_DEBUG").is_some() {
                    eprintln!("wanted {:?}\nbest {best:#?}", it.wanted);
                }
            }
            None => {
                none_accepted += 1;
                if !it.right.is_empty() {
                    none_accepted_with_right += 1;
                }
            }
        }
    }
    let mut covered = 0usize;
    for s in &syncs {
        covered += group_folders(s)
            .iter()
            .map(|o| o.files.len())
            .sum::<usize>();
    }

    let n = items.len() as f64;
    let c = total_cands as f64;
    // Ratios and rates use CPU time when the platform gives it (robust on a loaded machine).
    let rank_cpu = rank_t.1.as_secs_f64().max(1e-9);
    let mut md = String::new();
    writeln!(md, "\n## Ranking benchmark, {when}\n").ok();
    writeln!(
        md,
        "Re-run with `just bench ranking` (runs `cargo run --release -p cratedigger-e2e --bin bench-ranking -- \
         --markdown docs/benchmarks.md`); `--items`, `--candidates`, `--runs` change the sizes. Source: \
         `tests/src/bin/bench-ranking.rs` (its header says how the set is generated). Machine: {mach}. \
         Release build, one thread; each time is the median of {} runs after a {warm}-item warm-up. \
         {}\n",
        args.runs,
        if cpu_known {
            "Rates and ratios use the thread's CPU time (`/proc/thread-self/schedstat`), which other \
             processes on the machine do not inflate; wall time is shown beside it."
        } else {
            "No per-thread CPU clock on this platform: rates use wall time."
        }
    )
    .ok();
    writeln!(
        md,
        "Set: {} wanted tracks x {} candidates = {total_cands} candidates (generated in {:.2} s), \
         `RankingPolicy::default()`.\n",
        items.len(),
        args.candidates,
        gen_time.as_secs_f64()
    )
    .ok();
    writeln!(
        md,
        "| figure | CPU time | wall time | items/s | candidates/s | `rank` / this |\n|---|---:|---:|---:|---:|---:|"
    )
    .ok();
    let row = |md: &mut String, name: &str, (wall, cpu): (Duration, Duration), ratio: bool| {
        let s = cpu.as_secs_f64().max(1e-9);
        writeln!(
            md,
            "| {name} | {} | {} | {:.0} | {:.0} | {} |",
            secs_fmt(cpu),
            secs_fmt(wall),
            n / s,
            c / s,
            if ratio {
                format!("{:.1}x", rank_cpu / s)
            } else {
                "-".into()
            }
        )
        .ok();
    };
    row(
        &mut md,
        "`rank` (clone the candidates, rank)",
        rank_t,
        false,
    );
    row(
        &mut md,
        "reference A: clone the candidates, sort by bitrate",
        sort_t,
        true,
    );
    row(
        &mut md,
        "reference B: `matching::score` alone, once per candidate",
        match_t,
        true,
    );
    row(
        &mut md,
        &format!(
            "`group_folders` over {} syncs of {SYNC_SIZE}",
            items.len().div_ceil(SYNC_SIZE)
        ),
        group_t,
        false,
    );
    writeln!(
        md,
        "\nPer item: {:.0} µs CPU for {} candidates. Accepted {accepted} of {total_cands} candidates ({:.0} %). \
         The best accepted downloadable candidate was the wanted version for {top_right} items and another \
         version for {top_wrong} ({top_wrong_no_duration} of those had no duration to compare — no canonical duration, \
         or none announced — and a file name without its mix, so nothing could tell the edit apart; \
         auto-approve requires a confirmed duration and refuses them). {none_accepted} \
         items had nothing accepted ({none_accepted_with_right} of them with a right-version file that a required \
         condition rejected). Folder offers: {offers_n}, covering {covered} item files.",
        rank_cpu * 1e6 / n,
        args.candidates,
        accepted as f64 * 100.0 / c
    )
    .ok();
    Ok(md)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench-ranking: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args) {
        Ok(md) => {
            println!("{md}");
            if let Some(path) = &args.markdown {
                use std::io::Write;
                let written = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .and_then(|mut f| f.write_all(md.as_bytes()));
                if let Err(e) = written {
                    eprintln!("bench-ranking: cannot append to {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-ranking: {e}");
            ExitCode::FAILURE
        }
    }
}
