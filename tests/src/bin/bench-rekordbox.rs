//! `bench-rekordbox`: the Rekordbox benchmark behind `just bench rekordbox`.
//!
//! 1. **Write.** A fresh library is built from Rekordbox's own schema and seed rows
//!    (`../shared/rekordbox`, read in place) and `--tracks` (default 10,000) filed tracks
//!    with `--cues` (default 8) cues each are written in one write session through
//!    `RekordboxWriter::write_session` — the whole production path: schema check, backup,
//!    planning (lookups reused or created: ~2,000 artists, ~3,000 albums, 200 labels,
//!    20 genres, 24 keys), one transaction, USN bookkeeping, `PRAGMA integrity_check`,
//!    `PRAGMA quick_check` after the commit. Done twice: SQLCipher-encrypted (as real
//!    libraries are) and plaintext (what the anchor can open).
//! 2. **Read back.** A fresh connection reads the whole library (`Library::read`: tracks,
//!    names, keys, playlists, every cue) and the counts are checked.
//! 3. **Anchor.** The same work through pyrekordbox 0.5 (`pip install pyrekordbox`), the
//!    reference open-source writer, on a fresh plaintext library built the same way:
//!    `add_artist`/`add_album`/`add_label`/`add_genre` once per name, `add_content`,
//!    8 `DjmdCue` rows, `add_to_playlist`, one `commit` (which does the USN bookkeeping); then
//!    a fresh `MasterDatabase` reads every track and its cues. Skipped, with the reason,
//!    when pyrekordbox is not importable.
//!
//! Figures are wall-clock seconds on this machine; the ratio is pyrekordbox / Rust for the
//! same plaintext work (target: Rust >= 10x faster). A missed target is reported as MISS,
//! not failed.

use cratedigger_music::{Key, KeyNotation};
use cratedigger_rekordbox::testing::fresh_library;
use cratedigger_rekordbox::testing::test_cipher;
use cratedigger_rekordbox::write::AudioFormat;
use cratedigger_rekordbox::{Cipher, CueSpec, FiledTrack, FixedProbe, Library, RekordboxWriter};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-rekordbox [--tracks N] [--cues N] [--markdown FILE] [--no-anchor]\n\
    --tracks N       tracks written in one session (default 10000)\n\
    --cues N         cues per track (default 8)\n\
    --markdown FILE  append the results as a dated section to FILE\n\
    --no-anchor      skip the pyrekordbox anchor";

const TARGET_RATIO: f64 = 10.0;

struct Args {
    tracks: usize,
    cues: usize,
    markdown: Option<String>,
    anchor: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        tracks: 10_000,
        cues: 8,
        markdown: None,
        anchor: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .ok_or(format!("{name} needs a number"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--tracks" => a.tracks = num("--tracks")?.max(1),
            "--cues" => a.cues = num("--cues")?.min(64),
            "--markdown" => a.markdown = Some(it.next().ok_or("--markdown needs a file")?),
            "--no-anchor" => a.anchor = false,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Some(a))
}

/// Deterministic generated tracks: the files exist (empty; pyrekordbox stats them).
fn generate(dir: &Path, n: usize, cues: usize) -> Vec<FiledTrack> {
    let music = dir.join("music");
    std::fs::create_dir_all(&music).expect("music dir");
    let formats = [
        ("mp3", AudioFormat::Mp3),
        ("flac", AudioFormat::Flac),
        ("wav", AudioFormat::Wav),
        ("aiff", AudioFormat::Aiff),
        ("m4a", AudioFormat::M4a),
    ];
    let keys: Vec<Key> = Key::all().collect();
    let genres = [
        "Techno",
        "House",
        "Deep House",
        "Tech House",
        "Minimal",
        "Trance",
        "Drum & Bass",
        "Dubstep",
        "Breaks",
        "Electro",
        "Disco",
        "Nu Disco",
        "Garage",
        "Ambient",
        "Downtempo",
        "Hard Techno",
        "Progressive House",
        "Afro House",
        "Melodic Techno",
        "Jungle",
    ];
    (0..n)
        .map(|i| {
            let (ext, format) = formats[i % formats.len()];
            let path = music.join(format!(
                "Artist {} - Track {i:06} (Extended Mix).{ext}",
                i % 2000
            ));
            std::fs::write(&path, b"").expect("track file");
            let lossless = matches!(
                format,
                AudioFormat::Flac | AudioFormat::Wav | AudioFormat::Aiff
            );
            let base = 500 + (i as u64 % 997) * 7;
            let cue_specs = (0..cues)
                .map(|c| {
                    let hot = c % 2 == 0 && c / 2 < 8;
                    CueSpec {
                        hot_cue: hot.then_some((c / 2) as u8),
                        start_ms: base + c as u64 * 15_000,
                        end_ms: (c % 4 == 3).then_some(base + c as u64 * 15_000 + 7_500),
                        color: Some((c % 8) as u8),
                        comment: Some(format!("cue {c}")),
                    }
                })
                .collect();
            FiledTrack {
                path,
                title: format!("Track {i:06} (Extended Mix)"),
                artist: Some(format!("Artist {}", i % 2000)),
                album: Some(format!("Album {}", i % 3000)),
                label: Some(format!("Label {}", i % 200)),
                genre: Some(genres[i % genres.len()].into()),
                bpm: Some(118.0 + (i % 60) as f64 * 0.5),
                key: Some(keys[i % keys.len()].format(KeyNotation::Standard)),
                duration_ms: Some(240_000 + (i as u64 % 300) * 1_000),
                bitrate_kbps: (!matches!(format, AudioFormat::Wav | AudioFormat::Aiff))
                    .then_some(320),
                sample_rate_hz: Some(44_100),
                bit_depth: lossless.then_some(24),
                file_size: Some(10_000_000 + i as u64),
                format: Some(format),
                isrc: Some(format!("GBXYZ{:07}", i)),
                release_year: Some(2000 + (i % 25) as i32),
                comment: Some("bench".into()),
                cues: cue_specs,
                replaces: None,
            }
        })
        .collect()
}

struct RustRun {
    write: Duration,
    read: Duration,
    changes: usize,
    db_bytes: u64,
}

fn run_rust(
    tracks: &[FiledTrack],
    cipher: Cipher,
    tag: &str,
    cues: usize,
) -> Result<RustRun, String> {
    let (dir, cfg) = fresh_library(tag, cipher.clone());
    let writer = RekordboxWriter::open(cfg.clone())
        .map_err(|e| e.to_string())?
        .with_probe(Arc::new(FixedProbe::default()));
    let t = Instant::now();
    let report = writer
        .write_session(tracks, "bench sync", false)
        .map_err(|e| e.to_string())?;
    let write = t.elapsed();
    let t = Instant::now();
    let lib = Library::read(
        cfg.db_path().map_err(|e| e.to_string())?,
        &cipher,
        Duration::from_secs(5),
    )
    .map_err(|e| e.to_string())?;
    let read = t.elapsed();
    if lib.tracks.len() != tracks.len() || lib.cues.len() != tracks.len() * cues {
        return Err(format!(
            "read back {} tracks and {} cues, expected {} and {}",
            lib.tracks.len(),
            lib.cues.len(),
            tracks.len(),
            tracks.len() * cues
        ));
    }
    let db_bytes = std::fs::metadata(cfg.db_path().map_err(|e| e.to_string())?)
        .map(|m| m.len())
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(dir);
    Ok(RustRun {
        write,
        read,
        changes: report.changes.len(),
        db_bytes,
    })
}

const ANCHOR: &str = r#"
import json, logging, sys, time, uuid
logging.disable(logging.CRITICAL)
from pyrekordbox import MasterDatabase
from pyrekordbox.masterdb import models
db_path, tracks_path = sys.argv[1], sys.argv[2]
tracks = json.load(open(tracks_path))
t0 = time.perf_counter()
db = MasterDatabase(path=db_path, unlock=False)
artists, albums, labels, genres, keys = {}, {}, {}, {}, {}
def key_row(name):
    k = models.DjmdKey.create(ID=str(db.generate_unused_id(models.DjmdKey)), ScaleName=name,
                              Seq=len(keys) + 1, UUID=str(uuid.uuid4()))
    db.add(k)
    return k
pl = db.create_playlist("bench sync")
for t in tracks:
    artist = artists.get(t["artist"]) or artists.setdefault(t["artist"], db.add_artist(t["artist"]))
    album = albums.get(t["album"]) or albums.setdefault(t["album"], db.add_album(t["album"], artist=artist))
    label = labels.get(t["label"]) or labels.setdefault(t["label"], db.add_label(t["label"]))
    genre = genres.get(t["genre"]) or genres.setdefault(t["genre"], db.add_genre(t["genre"]))
    key = keys.get(t["key"]) or keys.setdefault(t["key"], key_row(t["key"]))
    c = db.add_content(t["path"], Title=t["title"], ArtistID=artist.ID, AlbumID=album.ID,
                       LabelID=label.ID, GenreID=genre.ID, KeyID=key.ID, BPM=t["bpm"],
                       Length=t["length"], BitRate=t["bitrate"], SampleRate=t["sample_rate"],
                       BitDepth=t["bit_depth"], ISRC=t["isrc"], ReleaseYear=t["year"], Commnt=t["comment"])
    for q in t["cues"]:
        db.add(models.DjmdCue.create(
            ID=str(db.generate_unused_id(models.DjmdCue)), ContentID=c.ID, InMsec=q["in"],
            InFrame=q["in"] * 150 // 1000, InMpegFrame=0, InMpegAbs=0, OutMsec=q["out"],
            OutFrame=q["out"] * 150 // 1000 if q["out"] > 0 else 0, OutMpegFrame=0, OutMpegAbs=0,
            Kind=q["kind"], Color=q["color"], ColorTableIndex=q["cti"], ActiveLoop=0,
            Comment=q["comment"], BeatLoopSize=0, CueMicrosec=0, ContentUUID=c.UUID,
            UUID=str(uuid.uuid4())))
    db.add_to_playlist(pl, c)
db.commit()
db.close()
write_s = time.perf_counter() - t0
t1 = time.perf_counter()
db = MasterDatabase(path=db_path, unlock=False)
n_tracks = n_cues = 0
for c in db.get_content():
    n_tracks += 1
    _ = (c.Title, c.FolderPath, c.BPM, c.Artist and c.Artist.Name, c.Album and c.Album.Name,
         c.Label and c.Label.Name, c.Genre and c.Genre.Name, c.Key and c.Key.ScaleName)
    for q in c.Cues:
        n_cues += 1
        _ = (q.InMsec, q.OutMsec, q.Kind, q.Color, q.ColorTableIndex, q.Comment)
n_pl = len(db.get_playlist().all())
db.close()
read_s = time.perf_counter() - t1
import pyrekordbox
print(json.dumps({"write": write_s, "read": read_s, "tracks": n_tracks, "cues": n_cues,
                  "playlists": n_pl, "version": pyrekordbox.__version__}))
"#;

fn anchor_input(tracks: &[FiledTrack]) -> Value {
    let list: Vec<Value> = tracks
        .iter()
        .map(|t| {
            let key = t
                .key
                .as_deref()
                .and_then(|k| Key::parse(k).ok())
                .map(|k| k.format(KeyNotation::Camelot));
            let pcm_rate = t.sample_rate_hz.zip(t.bit_depth).map(|(s, b)| s as i64 * b as i64 * 2 / 1000);
            json!({
                "path": t.path,
                "title": t.title,
                "artist": t.artist, "album": t.album, "label": t.label, "genre": t.genre,
                "key": key,
                "bpm": t.bpm.map(|b| (b * 100.0).round() as i64),
                "length": t.duration_ms.map(|d| (d + 500) / 1000),
                "bitrate": t.bitrate_kbps.map(i64::from).or(pcm_rate),
                "sample_rate": t.sample_rate_hz,
                "bit_depth": t.bit_depth,
                "isrc": t.isrc, "year": t.release_year, "comment": t.comment,
                "cues": t.cues.iter().map(|c| json!({
                    "kind": c.hot_cue.map(|s| cratedigger_rekordbox::library::HOT_CUE_KINDS[s as usize]).unwrap_or(0),
                    "in": c.start_ms,
                    "out": c.end_ms.map(|e| e as i64).unwrap_or(-1),
                    "color": if c.hot_cue.is_some() { -1 } else { c.color.map(i64::from).unwrap_or(-1) },
                    "cti": if c.hot_cue.is_some() { c.color.map(i64::from).unwrap_or(0) } else { 0 },
                    "comment": c.comment.clone().unwrap_or_default(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(list)
}

struct Anchor {
    write: f64,
    read: f64,
    version: String,
}

fn run_anchor(tracks: &[FiledTrack], cues: usize) -> Result<Anchor, String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import pyrekordbox"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Err(format!(
                "pyrekordbox is not importable ({}); `pip install pyrekordbox`",
                String::from_utf8_lossy(&o.stderr)
                    .trim()
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
        }
        Err(e) => return Err(format!("cannot run {python}: {e}")),
    }
    let (dir, cfg) = fresh_library("bench-anchor", Cipher::Plaintext);
    let input = dir.join("tracks.json");
    std::fs::write(
        &input,
        serde_json::to_vec(&anchor_input(tracks)).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let db_path: PathBuf = cfg.db_path().map_err(|e| e.to_string())?.to_path_buf();
    let out = Command::new(&python)
        .args(["-c", ANCHOR])
        .arg(&db_path)
        .arg(&input)
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!(
            "pyrekordbox run failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let (t, c) = (
        v["tracks"].as_u64().unwrap_or(0),
        v["cues"].as_u64().unwrap_or(0),
    );
    if t as usize != tracks.len() || c as usize != tracks.len() * cues {
        return Err(format!("pyrekordbox read back {t} tracks and {c} cues"));
    }
    Ok(Anchor {
        write: v["write"].as_f64().unwrap_or(0.0),
        read: v["read"].as_f64().unwrap_or(0.0),
        version: v["version"].as_str().unwrap_or("?").to_string(),
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench-rekordbox: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let work = std::env::temp_dir().join(format!("cd-bench-rekordbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "generating {} tracks with {} cues each ...",
        args.tracks, args.cues
    );
    let tracks = generate(&work, args.tracks, args.cues);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());

    println!("rust, encrypted (SQLCipher 4) ...");
    let enc = match run_rust(&tracks, test_cipher(), "bench-enc", args.cues) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-rekordbox: encrypted run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "  write {:.2} s ({} changes), read back {:.2} s, file {:.1} MB",
        enc.write.as_secs_f64(),
        enc.changes,
        enc.read.as_secs_f64(),
        enc.db_bytes as f64 / 1e6
    );
    println!("rust, plaintext ...");
    let plain = match run_rust(&tracks, Cipher::Plaintext, "bench-plain", args.cues) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-rekordbox: plaintext run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "  write {:.2} s, read back {:.2} s",
        plain.write.as_secs_f64(),
        plain.read.as_secs_f64()
    );
    let anchor = if args.anchor {
        println!("pyrekordbox (anchor), plaintext ... (this takes a while)");
        let a = run_anchor(&tracks, args.cues);
        match &a {
            Ok(a) => println!("  write {:.2} s, read back {:.2} s", a.write, a.read),
            Err(e) => println!("  skipped: {e}"),
        }
        a
    } else {
        Err("--no-anchor".into())
    };
    let _ = std::fs::remove_dir_all(&work);

    let verdict = |ratio: f64| {
        if ratio >= TARGET_RATIO {
            "ok"
        } else {
            "**MISS**"
        }
    };
    let mut md = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(md, "\n## bench rekordbox — {now}\n");
    let _ = writeln!(
        md,
        "`bench-rekordbox --tracks {} --cues {} (release)`; load average at start {load} (2 cores).\n",
        args.tracks, args.cues
    );
    let _ = writeln!(
        md,
        "| run | write session | read back | per track (write) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let per = |d: f64| format!("{:.3} ms", d * 1000.0 / args.tracks as f64);
    let _ = writeln!(
        md,
        "| cratedigger, SQLCipher-encrypted ({} changes, {:.1} MB) | {:.2} s | {:.2} s | {} |",
        enc.changes,
        enc.db_bytes as f64 / 1e6,
        enc.write.as_secs_f64(),
        enc.read.as_secs_f64(),
        per(enc.write.as_secs_f64())
    );
    let _ = writeln!(
        md,
        "| cratedigger, plaintext | {:.2} s | {:.2} s | {} |",
        plain.write.as_secs_f64(),
        plain.read.as_secs_f64(),
        per(plain.write.as_secs_f64())
    );
    match &anchor {
        Ok(a) => {
            let _ = writeln!(
                md,
                "| pyrekordbox {} (anchor), plaintext | {:.2} s | {:.2} s | {} |\n",
                a.version,
                a.write,
                a.read,
                per(a.write)
            );
            let wr = a.write / plain.write.as_secs_f64();
            let rr = a.read / plain.read.as_secs_f64();
            let _ = writeln!(md, "| figure | value | target |");
            let _ = writeln!(md, "|---|---:|---|");
            let _ = writeln!(
                md,
                "| write: pyrekordbox / cratedigger | {wr:.1}x | >= {TARGET_RATIO}x {} |",
                verdict(wr)
            );
            let _ = writeln!(
                md,
                "| read back: pyrekordbox / cratedigger | {rr:.1}x | >= {TARGET_RATIO}x {} |",
                verdict(rr)
            );
        }
        Err(e) => {
            let _ = writeln!(md, "\nAnchor not run: {e}.");
        }
    }
    let _ = writeln!(
        md,
        "\nThe cratedigger write session includes the backup copy, the schema check, planning, \
         `PRAGMA integrity_check` inside the transaction and `quick_check` after it; the \
         anchor's does not (pyrekordbox has neither)."
    );
    print!("{md}");
    if let Some(path) = &args.markdown {
        let written = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, md.as_bytes()));
        if let Err(e) = written {
            eprintln!("bench-rekordbox: cannot append to {path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("appended to {path}");
    }
    ExitCode::SUCCESS
}
