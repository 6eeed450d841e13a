//! `bench-music`: the music benchmark behind `just bench music`.
//!
//! 1. **Library.** A fresh database (`cd_test_<uuid>`, the real migrations and indexes) is
//!    filled with `--tracks` (default 1,000,000) generated tracks through `COPY`. Names are
//!    realistic, built from vocabularies: artists are "First Last" (120 x 120), invented
//!    one-word aliases from syllables (48^2 + 48^3), "DJ <alias>", "The <alias>s" and duos
//!    "A & B"; titles are adjective/noun patterns ("Falling Amber", "Echoes of the Tide",
//!    "Nocturne", "Amber Lights Part 2") from ~110 adjectives and ~190 nouns; 55 % original
//!    mix, the rest Extended Mix, Radio Edit, Dub, VIP, Club Mix, Instrumental or
//!    "<artist> Remix". 70 % carry an ISRC, 50 % a catalog number (releases of 1-5 tracks on
//!    ~400 labels). Every row's dedup key, normalised artist and title are computed by the
//!    music crate exactly as the consolidator computes them. Then `VACUUM ANALYZE`.
//! 2. **One wanted track.** `--singles` (default 2,000, after 300 unmeasured warm-up checks)
//!    wanted tracks, one at a time, each a platform record merged by the consolidator's
//!    `merge` and checked by its `check_library` (the real store queries `find_duplicate`
//!    and `similar_tracks`, the catalog look-up and in-process rescoring): 20 % already in the
//!    library with the same ISRC, 20 % respelled without ISRC (case, diacritics, bracket
//!    style), 20 % credited differently without ISRC ("DJ X" / "X", "A & B" / "A feat. B",
//!    "Falling" / "Fallin'": only the trigram search can find them), 20 % a new mix of a title
//!    the library has, 20 % new. Latency = the `check_library` call (p50 / p99 / max).
//! 3. **Batch.** `--batch` (default 10,000) wanted tracks of the same mix, checked by
//!    `--concurrency` (default 16, the workers' default) tasks, each check in its own job
//!    transaction (begin, check, rollback); wall time.
//! 4. **Accuracy.** A labelled set from the recorded payloads in `../shared/fixtures` plus
//!    generated hard negatives, scored by the matcher with the default settings; confusion
//!    table, precision of auto-accept and recall.
//!
//! The database is dropped at the end (`--keep` keeps it). Targets (issue 5): single check
//! p99 <= 5 ms, batch <= 30 s, precision >= 0.99, recall >= 0.95; a miss is reported, not
//! failed.

use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
use cratedigger_e2e::bench::{Rng, machine, now_utc};
use cratedigger_music::matching::{Verdict, score};
use cratedigger_music::normalize::{dedup_key, normalize_text, parse_title};
use cratedigger_music::{Key, KeyNotation};
use cratedigger_store::Store;
use cratedigger_store::testing::fresh_database;
use cratedigger_workers::consolidator::{check_library, merge};
use cratedigger_workers::settings::MatchingSettings;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const USAGE: &str = "usage: bench-music [--tracks N] [--singles N] [--batch N] [--concurrency N] \
    [--markdown FILE] [--accuracy-only] [--keep]\n\
    --tracks N       library size (default 1000000)\n\
    --singles N      one-at-a-time duplicate checks measured (default 2000)\n\
    --batch N        tracks in the batch check (default 10000)\n\
    --concurrency N  concurrent checks in the batch (default 16)\n\
    --markdown FILE  append the results as a dated section to FILE\n\
    --accuracy-only  only the labelled accuracy set (no database)\n\
    --keep           keep the generated database\n\
    Postgres admin URL: $CRATEDIGGER_TEST_DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres)";

const TARGET_P99_MS: f64 = 5.0;
const TARGET_BATCH_S: f64 = 30.0;
const TARGET_PRECISION: f64 = 0.99;
const TARGET_RECALL: f64 = 0.95;
const WARMUP: usize = 300;

struct Args {
    tracks: usize,
    singles: usize,
    batch: usize,
    concurrency: usize,
    markdown: Option<String>,
    accuracy_only: bool,
    keep: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        tracks: 1_000_000,
        singles: 2_000,
        batch: 10_000,
        concurrency: 16,
        markdown: None,
        accuracy_only: false,
        keep: false,
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
            "--tracks" => a.tracks = num("--tracks")?,
            "--singles" => a.singles = num("--singles")?,
            "--batch" => a.batch = num("--batch")?,
            "--concurrency" => a.concurrency = num("--concurrency")?.max(1),
            "--markdown" => a.markdown = Some(it.next().ok_or("--markdown needs a file")?),
            "--accuracy-only" => a.accuracy_only = true,
            "--keep" => a.keep = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(a))
}

// ------------------------------------------------------------------------------------------
// Deterministic generator

const FIRST: &[&str] = &[
    "Adam", "Alice", "Amelie", "Anna", "Ben", "Boris", "Carl", "Chloe", "Dan", "David", "Elena",
    "Emma", "Eric", "Felix", "Fiona", "Frank", "Gina", "Greg", "Hannah", "Hugo", "Ida", "Ivan",
    "Jack", "Jade", "James", "Jana", "Joris", "Julia", "Kai", "Karen", "Kevin", "Lara", "Leon",
    "Lily", "Lucas", "Luna", "Marco", "Maria", "Mark", "Max", "Mia", "Nadia", "Nick", "Nina",
    "Noah", "Olga", "Oliver", "Omar", "Paul", "Petra", "Quinn", "Rafael", "Rosa", "Ryan", "Sara",
    "Sam", "Sofia", "Stefan", "Tara", "Theo", "Tim", "Uma", "Victor", "Vera", "Will", "Yara",
    "Yusuf", "Zoe", "Ahmed", "Bruno", "Celine", "Diego", "Eva", "Fabio", "Greta", "Hector", "Ines",
    "Jonas", "Kira", "Lorenzo", "Mila", "Nils", "Oscar", "Pia", "Rene", "Selma", "Tomas", "Ulla",
    "Valentin", "Wanda", "Xavier", "Yannick", "Zara", "Anja", "Bjorn", "Cleo", "Dario", "Elif",
    "Finn", "Gustav", "Hedda", "Igor", "Jules", "Kasper", "Liv", "Mats", "Noor", "Otto", "Paula",
    "Rik", "Saskia", "Timo", "Ugo", "Vince", "Wim", "Yves", "Zeno", "Amara", "Bastian", "Carmen",
];
const LAST: &[&str] = &[
    "Adler",
    "Baker",
    "Becker",
    "Berg",
    "Blanc",
    "Brandt",
    "Castro",
    "Clarke",
    "Costa",
    "Cruz",
    "Dahl",
    "Duval",
    "Eklund",
    "Evans",
    "Falk",
    "Fischer",
    "Fox",
    "Garcia",
    "Gray",
    "Hahn",
    "Hansen",
    "Hart",
    "Holm",
    "Hughes",
    "Ivanov",
    "Jansen",
    "Jensen",
    "Kane",
    "Keller",
    "Klein",
    "Koch",
    "Kraus",
    "Lang",
    "Larsen",
    "Lopez",
    "Lund",
    "Marino",
    "Martin",
    "Meyer",
    "Moreau",
    "Morris",
    "Nagel",
    "Navarro",
    "Nielsen",
    "Novak",
    "Olsen",
    "Ortega",
    "Park",
    "Perez",
    "Petit",
    "Quint",
    "Reyes",
    "Richter",
    "Rossi",
    "Roth",
    "Ruiz",
    "Sauer",
    "Schmidt",
    "Schulz",
    "Silva",
    "Stone",
    "Sousa",
    "Stark",
    "Tanaka",
    "Torres",
    "Vidal",
    "Vogel",
    "Wagner",
    "Walker",
    "Weber",
    "Wolf",
    "Young",
    "Zimmer",
    "Aalto",
    "Bauer",
    "Conti",
    "Dorn",
    "Engel",
    "Ferrari",
    "Gomes",
    "Haas",
    "Ibsen",
    "Jovanovic",
    "Kovacs",
    "Lindqvist",
    "Moretti",
    "Nowak",
    "Oliveira",
    "Pavlov",
    "Quist",
    "Romano",
    "Sandberg",
    "Takahashi",
    "Ulrich",
    "Varga",
    "Winter",
    "Yilmaz",
    "Zeller",
    "Arendt",
    "Brenner",
    "Carvalho",
    "Delacroix",
    "Eriksen",
    "Fontaine",
    "Gallo",
    "Hoffmann",
    "Iglesias",
    "Jung",
    "Kowalski",
    "Lehmann",
    "Mancini",
    "Nieminen",
    "Ott",
    "Pires",
    "Rinaldi",
    "Steiner",
    "Toivonen",
    "Urban",
    "Vos",
    "Wendt",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "dor", "vek", "sa", "tu", "zen", "bri", "ko", "la", "nov", "ar", "el",
    "ix", "mar", "tho", "qua", "ry", "sol", "ven", "da", "fi", "gor", "hal", "jin", "kel", "lux",
    "mo", "nyx", "or", "pel", "rax", "sy", "tor", "ul", "vi", "wen", "xa", "yo", "zul", "an",
    "bel", "cor", "dex", "fen", "gal",
];
const ADJ: &[&str] = &[
    "Amber",
    "Ancient",
    "Bitter",
    "Black",
    "Blue",
    "Broken",
    "Burning",
    "Cold",
    "Crimson",
    "Crystal",
    "Dark",
    "Deep",
    "Distant",
    "Electric",
    "Empty",
    "Endless",
    "Falling",
    "Fading",
    "Final",
    "First",
    "Floating",
    "Frozen",
    "Golden",
    "Green",
    "Hidden",
    "Hollow",
    "Infinite",
    "Last",
    "Liquid",
    "Lonely",
    "Lost",
    "Lucid",
    "Midnight",
    "Neon",
    "Northern",
    "Open",
    "Pale",
    "Perfect",
    "Purple",
    "Quiet",
    "Rising",
    "Running",
    "Sacred",
    "Secret",
    "Shining",
    "Silent",
    "Silver",
    "Slow",
    "Solar",
    "Southern",
    "Static",
    "Strange",
    "Sweet",
    "True",
    "Velvet",
    "Violet",
    "Waiting",
    "Wild",
    "Young",
    "Dancing",
    "Breathing",
    "Shifting",
    "Glowing",
    "Drifting",
    "Spinning",
    "Burning",
    "Sleeping",
    "Rolling",
    "Wandering",
    "Haunting",
    "Restless",
    "Brave",
    "Gentle",
    "Heavy",
    "Hungry",
    "Lucky",
    "Magic",
    "Modern",
    "Naked",
    "Outer",
    "Paper",
    "Red",
    "Rough",
    "Royal",
    "Salty",
    "Sharp",
    "Soft",
    "Stellar",
    "Tender",
    "Urban",
    "Vivid",
    "Warm",
    "White",
    "Wicked",
    "Yellow",
    "Zero",
    "Analog",
    "Binary",
    "Cosmic",
    "Dusty",
    "Eternal",
    "Feral",
    "Gilded",
    "Humid",
    "Iron",
    "Jaded",
    "Kinetic",
    "Lunar",
    "Mellow",
    "Nomadic",
];
const NOUN: &[&str] = &[
    "Aether",
    "Afterglow",
    "Angel",
    "Atlas",
    "Aurora",
    "Avenue",
    "Balance",
    "Bloom",
    "Bridge",
    "Canyon",
    "Cascade",
    "Circle",
    "City",
    "Cloud",
    "Comet",
    "Coast",
    "Crown",
    "Current",
    "Dawn",
    "Desert",
    "Dream",
    "Drift",
    "Dust",
    "Echo",
    "Echoes",
    "Eclipse",
    "Ember",
    "Engine",
    "Escape",
    "Fever",
    "Fire",
    "Flame",
    "Flight",
    "Forest",
    "Fragment",
    "Freedom",
    "Galaxy",
    "Garden",
    "Ghost",
    "Glass",
    "Gravity",
    "Harbor",
    "Heart",
    "Heat",
    "Highway",
    "Horizon",
    "Island",
    "Journey",
    "Jungle",
    "Kingdom",
    "Lake",
    "Light",
    "Lights",
    "Lotus",
    "Machine",
    "Memory",
    "Mirror",
    "Moon",
    "Morning",
    "Motion",
    "Mountain",
    "Night",
    "Nocturne",
    "Ocean",
    "Orbit",
    "Paradise",
    "Parade",
    "Phoenix",
    "Planet",
    "Prism",
    "Pulse",
    "Rain",
    "Reflection",
    "Rhythm",
    "River",
    "Road",
    "Rose",
    "Satellite",
    "Shadow",
    "Shadows",
    "Signal",
    "Silence",
    "Sky",
    "Smoke",
    "Snow",
    "Solstice",
    "Soul",
    "Spark",
    "Spirit",
    "Star",
    "Stars",
    "Storm",
    "Stranger",
    "Summer",
    "Sun",
    "Sunrise",
    "Sunset",
    "Temple",
    "Thunder",
    "Tide",
    "Time",
    "Tower",
    "Train",
    "Valley",
    "Velocity",
    "Voice",
    "Voyage",
    "Wave",
    "Waves",
    "Wind",
    "Winter",
    "World",
    "Youth",
    "Zenith",
    "Alchemy",
    "Anthem",
    "Arcade",
    "Ballad",
    "Beacon",
    "Border",
    "Cathedral",
    "Chamber",
    "Cipher",
    "Compass",
    "Corridor",
    "Delta",
    "Dynasty",
    "Empire",
    "Fable",
    "Frontier",
    "Gateway",
    "Glacier",
    "Harvest",
    "Hymn",
    "Jewel",
    "Labyrinth",
    "Lantern",
    "Legacy",
    "Lullaby",
    "Mantra",
    "Meadow",
    "Monolith",
    "Nebula",
    "Oasis",
    "Odyssey",
    "Pilgrim",
    "Quarry",
    "Reverie",
    "Ritual",
    "Sanctuary",
    "Serenade",
    "Sphinx",
    "Summit",
    "Tempest",
    "Threshold",
    "Totem",
    "Tundra",
    "Utopia",
    "Vertigo",
    "Vessel",
    "Vortex",
    "Whisper",
    "Wilderness",
    "Citadel",
    "Mosaic",
    "Orchid",
    "Pagoda",
    "Quasar",
    "Rapture",
    "Savanna",
    "Talisman",
    "Umbra",
    "Volcano",
    "Zephyr",
    "Boulevard",
    "Carousel",
    "Daydream",
    "Equinox",
    "Firefly",
    "Gondola",
    "Hurricane",
    "Kaleidoscope",
    "Lagoon",
    "Marathon",
];
const MIX_KINDS: &[&str] = &[
    "Extended Mix",
    "Radio Edit",
    "Dub",
    "VIP",
    "Club Mix",
    "Instrumental",
];
const GENRES: &[(&str, f32, f32)] = &[
    ("House", 118.0, 130.0),
    ("Tech House", 120.0, 130.0),
    ("Techno", 125.0, 145.0),
    ("Melodic House & Techno", 115.0, 128.0),
    ("Deep House", 115.0, 124.0),
    ("Drum & Bass", 165.0, 178.0),
    ("Dubstep", 138.0, 150.0),
    ("Trance", 128.0, 140.0),
    ("Hip-Hop", 80.0, 110.0),
    ("Disco", 110.0, 126.0),
];
const COUNTRIES: &[&str] = &["GB", "US", "DE", "NL", "FR", "SE", "AU", "CA", "BE", "IT"];

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn alias(r: &mut Rng) -> String {
    let n = 2 + r.below(2);
    let word: String = (0..n).map(|_| r.pick(SYLLABLES)).collect();
    capital(&word)
}

fn person(r: &mut Rng) -> String {
    format!("{} {}", r.pick(FIRST), r.pick(LAST))
}

fn artist_credit(r: &mut Rng) -> String {
    let x = r.below(100);
    match x {
        0..40 => person(r),
        40..72 => alias(r),
        72..80 => format!("DJ {}", alias(r)),
        80..85 => format!("The {}s", alias(r)),
        _ => {
            let a = if r.chance(0.5) { person(r) } else { alias(r) };
            let b = if r.chance(0.5) { person(r) } else { alias(r) };
            format!("{a} & {b}")
        }
    }
}

fn title(r: &mut Rng) -> String {
    match r.below(100) {
        0..45 => format!("{} {}", r.pick(ADJ), r.pick(NOUN)),
        45..57 => r.pick(NOUN).to_string(),
        57..67 => format!("{} of the {}", r.pick(NOUN), r.pick(NOUN)),
        67..75 => format!("The {} {}", r.pick(ADJ), r.pick(NOUN)),
        75..83 => format!("{} {} {}", r.pick(ADJ), r.pick(ADJ), r.pick(NOUN)),
        83..90 => format!("{} in {}", r.pick(NOUN), r.pick(NOUN)),
        90..95 => format!("{} {} Part {}", r.pick(ADJ), r.pick(NOUN), 1 + r.below(3)),
        _ => format!("{} {}", r.pick(NOUN), r.pick(NOUN)),
    }
}

/// A generated library track (what a platform would have reported for it).
#[derive(Clone)]
struct Gen {
    artist: String,
    title: String,
    mix: Option<String>,
    isrc: Option<String>,
    catalog: Option<String>,
    label: String,
    genre: &'static str,
    bpm: f32,
    key: String,
    duration_ms: u32,
}

struct Generator {
    r: Rng,
    artists: Vec<String>,
    labels: Vec<(String, String)>,
    isrc_seq: u64,
    release: (usize, usize, u32), // (label index, tracks left on the release, release number)
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut r = Rng(seed);
        let artists: Vec<String> = (0..60_000).map(|_| artist_credit(&mut r)).collect();
        let labels = (0..400)
            .map(|i| {
                let name = format!(
                    "{} {}",
                    r.pick(ADJ),
                    r.pick(&["Records", "Recordings", "Music", "Audio", "Sounds"])
                );
                let prefix: String = name
                    .split(' ')
                    .filter_map(|w| w.chars().next())
                    .chain(format!("{i:03}").chars())
                    .collect();
                (name, prefix.to_uppercase())
            })
            .collect();
        Generator {
            r,
            artists,
            labels,
            isrc_seq: 0,
            release: (0, 0, 0),
        }
    }

    fn mix(&mut self) -> Option<String> {
        let x = self.r.below(100);
        match x {
            0..55 => None,
            55..88 => Some(self.r.pick(MIX_KINDS).to_string()),
            _ => {
                let who = self.artists[self.r.below(self.artists.len())].clone();
                Some(format!("{who} Remix"))
            }
        }
    }

    fn next_isrc(&mut self) -> String {
        self.isrc_seq += 1;
        let n = self.isrc_seq;
        let cc = COUNTRIES[(n % COUNTRIES.len() as u64) as usize];
        let reg = n / 100_000;
        let reg36: String = [reg / 1296 % 36, reg / 36 % 36, reg % 36]
            .iter()
            .map(|d| {
                std::char::from_digit(*d as u32, 36)
                    .unwrap_or('0')
                    .to_ascii_uppercase()
            })
            .collect();
        format!("{cc}{reg36}{:02}{:05}", 10 + n % 16, n % 100_000)
    }

    fn track(&mut self) -> Gen {
        let artist = self.artists[self.r.below(self.artists.len())].clone();
        let title = title(&mut self.r);
        let mix = self.mix();
        let isrc = self.r.chance(0.7).then(|| self.next_isrc());
        if self.release.1 == 0 {
            self.release = (
                self.r.below(self.labels.len()),
                1 + self.r.below(5),
                self.release.2 + 1,
            );
        }
        self.release.1 -= 1;
        let (label_name, prefix) = self.labels[self.release.0].clone();
        let catalog = self
            .r
            .chance(0.5)
            .then(|| format!("{prefix}{:04}", self.release.2 % 10_000));
        let (genre, lo, hi) = GENRES[self.r.below(GENRES.len())];
        let bpm = lo + (self.r.below(((hi - lo) * 10.0) as usize) as f32) / 10.0;
        let key = Key::new(self.r.below(12) as u8, self.r.chance(0.6))
            .map(|k| k.format(KeyNotation::Beatport))
            .unwrap_or_default();
        Gen {
            artist,
            title,
            mix,
            isrc,
            catalog,
            label: label_name,
            genre,
            bpm,
            key,
            duration_ms: 150_000 + self.r.below(330_000) as u32,
        }
    }
}

fn platform_record(g: &Gen, platform: &str, id: &str) -> PlatformTrack {
    PlatformTrack {
        platform: platform.into(),
        platform_id: id.into(),
        title: g.title.clone(),
        mix: g.mix.clone(),
        artists: vec![ArtistCredit {
            name: g.artist.clone(),
            role: ArtistRole::Main,
        }],
        isrc: g.isrc.clone(),
        catalog_number: g.catalog.clone(),
        label: Some(g.label.clone()),
        duration_ms: Some(g.duration_ms),
        bpm: Some(g.bpm),
        key: Some(g.key.clone()),
        genre: Some(g.genre.to_string()),
        ..Default::default()
    }
}

// ------------------------------------------------------------------------------------------
// Loading

fn copy_field(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("\\N"),
        Some(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

struct Library {
    tracks: Vec<Gen>,
    ids: Vec<Uuid>,
    keys: HashSet<String>,
}

fn generate(n: usize) -> (Library, Generator) {
    let mut g = Generator::new(0x00C0_FFEE);
    let mut tracks = Vec::with_capacity(n);
    let mut keys = HashSet::with_capacity(n);
    while tracks.len() < n {
        let t = g.track();
        let key = dedup_key(&t.artist, &t.title, t.mix.as_deref());
        if keys.insert(key) {
            tracks.push(t);
        }
    }
    let ids = (0..n).map(|_| Uuid::now_v7()).collect();
    (Library { tracks, ids, keys }, g)
}

async fn load(url: &str, lib: &Library) -> Result<Duration, String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY tracks (id, dedup_key, isrc, artist, title, mix, label, catalog_number, \
             duration_ms, bpm, key, genre, norm_artist, norm_title, metadata) FROM STDIN",
        )
        .await
        .map_err(|e| format!("COPY: {e}"))?;
    let mut buf = String::with_capacity(4 << 20);
    for (t, id) in lib.tracks.iter().zip(&lib.ids) {
        let parsed_title = parse_title(&t.title).title;
        let key = Key::parse(&t.key)
            .map(|k| k.format(KeyNotation::Standard))
            .ok();
        let fields: [Option<String>; 15] = [
            Some(id.to_string()),
            Some(dedup_key(&t.artist, &t.title, t.mix.as_deref())),
            t.isrc.clone(),
            Some(t.artist.clone()),
            Some(parsed_title.clone()),
            t.mix.clone(),
            Some(t.label.clone()),
            t.catalog.clone(),
            Some(t.duration_ms.to_string()),
            Some(t.bpm.to_string()),
            key,
            Some(t.genre.to_string()),
            Some(normalize_text(&t.artist)),
            Some(normalize_text(&parsed_title)),
            Some("{}".into()),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            copy_field(&mut buf, f.as_deref());
        }
        buf.push('\n');
        if buf.len() > (4 << 20) - 4096 {
            copy.send(buf.as_bytes())
                .await
                .map_err(|e| format!("COPY send: {e}"))?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes())
            .await
            .map_err(|e| format!("COPY send: {e}"))?;
    }
    copy.finish()
        .await
        .map_err(|e| format!("COPY finish: {e}"))?;
    let loaded = started.elapsed();
    sqlx::query("VACUUM ANALYZE tracks")
        .execute(&mut conn)
        .await
        .map_err(|e| format!("VACUUM ANALYZE: {e}"))?;
    Ok(loaded)
}

// ------------------------------------------------------------------------------------------
// Wanted tracks

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Class {
    SameIsrc,
    Respelled,
    Recredited,
    NewMix,
    New,
}

impl Class {
    const ALL: [Class; 5] = [
        Class::SameIsrc,
        Class::Respelled,
        Class::Recredited,
        Class::NewMix,
        Class::New,
    ];
    fn name(self) -> &'static str {
        match self {
            Class::SameIsrc => "in library, same ISRC",
            Class::Respelled => "in library, respelled, no ISRC",
            Class::Recredited => "in library, credited differently, no ISRC (trigram path)",
            Class::NewMix => "new mix of a title in the library",
            Class::New => "new track",
        }
    }
}

struct Wanted {
    class: Class,
    record: PlatformTrack,
    expect: Option<Uuid>,
}

fn respell(r: &mut Rng, s: &str) -> String {
    match r.below(3) {
        0 => s.to_lowercase(),
        1 => s.to_uppercase(),
        _ => s
            .chars()
            .map(|c| match c {
                'a' => 'á',
                'e' => 'é',
                'o' => 'ö',
                'u' => 'ü',
                other => other,
            })
            .collect(),
    }
}

/// A credit or title spelled the way another platform might: only the trigram search can
/// connect it to the library's copy.
fn recredit(t: &Gen) -> Option<(String, String)> {
    if let Some(rest) = t.artist.strip_prefix("DJ ") {
        return Some((rest.to_string(), t.title.clone()));
    }
    if let Some(rest) = t.artist.strip_prefix("The ") {
        return Some((rest.to_string(), t.title.clone()));
    }
    if let Some((a, b)) = t.artist.split_once(" & ") {
        return Some((format!("{a} feat. {b}"), t.title.clone()));
    }
    let words: Vec<&str> = t.title.split(' ').collect();
    if let Some(i) = words.iter().position(|w| w.ends_with("ing") && w.len() > 5) {
        let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        w[i] = format!("{}in’", &words[i][..words[i].len() - 3]);
        return Some((t.artist.clone(), w.join(" ")));
    }
    None
}

fn wanted_set(lib: &Library, g: &mut Generator, n: usize, seed: u64) -> Vec<Wanted> {
    let mut r = Rng(seed);
    let mut out = Vec::with_capacity(n);
    let mut seen_new: HashSet<String> = HashSet::new();
    while out.len() < n {
        let class = Class::ALL[out.len() % Class::ALL.len()];
        let i = r.below(lib.tracks.len());
        let t = &lib.tracks[i];
        let id = format!("w{}", out.len());
        let w = match class {
            Class::SameIsrc => {
                if t.isrc.is_none() {
                    continue;
                }
                let mut rec = platform_record(t, "deezer", &id);
                rec.artists[0].name = t.artist.to_lowercase();
                if let Some(m) = rec.mix.take() {
                    rec.title = format!("{} ({m})", t.title);
                }
                Wanted {
                    class,
                    record: rec,
                    expect: Some(lib.ids[i]),
                }
            }
            Class::Respelled => {
                let mut rec = platform_record(t, "spotify", &id);
                rec.isrc = None;
                rec.catalog_number = None;
                rec.artists[0].name = respell(&mut r, &t.artist);
                let title = respell(&mut r, &t.title);
                rec.title = match rec.mix.take() {
                    Some(m) if r.chance(0.5) => format!("{title} - {m}"),
                    Some(m) => format!("{title} [{m}]"),
                    None => format!("{title} (Original Mix)"),
                };
                Wanted {
                    class,
                    record: rec,
                    expect: Some(lib.ids[i]),
                }
            }
            Class::Recredited => {
                let Some((artist, title)) = recredit(t) else {
                    continue;
                };
                let mut rec = platform_record(t, "musicbrainz", &id);
                rec.isrc = None;
                rec.catalog_number = None;
                rec.artists[0].name = artist;
                rec.title = title;
                Wanted {
                    class,
                    record: rec,
                    expect: Some(lib.ids[i]),
                }
            }
            Class::NewMix => {
                let mut nt = t.clone();
                nt.mix = Some(match &t.mix {
                    None => r.pick(MIX_KINDS).to_string(),
                    Some(m) if m == "Extended Mix" => "Radio Edit".into(),
                    Some(_) => "Extended Mix".into(),
                });
                nt.isrc = None;
                nt.catalog = None;
                let key = dedup_key(&nt.artist, &nt.title, nt.mix.as_deref());
                if lib.keys.contains(&key) || !seen_new.insert(key) {
                    continue;
                }
                Wanted {
                    class,
                    record: platform_record(&nt, "beatport", &id),
                    expect: None,
                }
            }
            Class::New => {
                let mut nt = g.track();
                nt.catalog = None;
                let key = dedup_key(&nt.artist, &nt.title, nt.mix.as_deref());
                if lib.keys.contains(&key) || !seen_new.insert(key) {
                    continue;
                }
                Wanted {
                    class,
                    record: platform_record(&nt, "beatport", &id),
                    expect: None,
                }
            }
        };
        out.push(w);
    }
    out
}

// ------------------------------------------------------------------------------------------
// Measuring

struct Outcome {
    class: Class,
    micros: u64,
    correct: bool,
    /// For a wrong answer: what was asked and what was found (or missed).
    wrong: Option<String>,
}

async fn check_one(
    store: &Store,
    w: &Wanted,
    matching: &MatchingSettings,
) -> Result<Outcome, String> {
    let precedence = vec!["beatport".to_string(), "deezer".to_string()];
    let track = merge(&w.record, &[], &matching.merge_policy(&precedence));
    let mut tx = store
        .begin_job(Uuid::now_v7(), "bench", None)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("job id already recorded")?;
    let t0 = Instant::now();
    let check = check_library(&mut tx, &track, matching)
        .await
        .map_err(|e| e.to_string())?;
    let micros = t0.elapsed().as_micros() as u64;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let found = check.existing.as_ref().map(|e| e.track_id);
    let correct = found == w.expect;
    let wrong = (!correct).then(|| {
        let asked = format!(
            "{} - {}{}",
            track.artist,
            track.title,
            track
                .mix
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
        match &check.existing {
            Some(e) => format!(
                "{}: '{asked}' taken for '{} - {}{}' ({})",
                w.class.name(),
                e.artist,
                e.title,
                e.mix
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default(),
                e.reason.describe()
            ),
            None => format!("{}: '{asked}' not found in the library", w.class.name()),
        }
    });
    Ok(Outcome {
        class: w.class,
        micros,
        correct,
        wrong,
    })
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

// ------------------------------------------------------------------------------------------
// Accuracy on the labelled set

fn fixture(rel: &str) -> Result<Value, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(rel);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("fixture not found: looked for {} ({e})", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn credit(names: &[String]) -> Vec<ArtistCredit> {
    names
        .iter()
        .map(|n| ArtistCredit {
            name: n.clone(),
            role: ArtistRole::Main,
        })
        .collect()
}

/// Fixture records as the scouts would report them. A light mapping for the benchmark only
/// (the platform clients own the real one): title, mix, main artists, ISRC, duration.
fn fixture_records() -> Result<Vec<PlatformTrack>, String> {
    let mut out = Vec::new();
    let mut push = |platform: &str,
                    id: String,
                    artists: Vec<String>,
                    title: String,
                    mix: Option<String>,
                    isrc: Option<String>,
                    ms: Option<u64>| {
        if title.trim().is_empty() || artists.iter().all(|a| a.trim().is_empty()) {
            return;
        }
        out.push(PlatformTrack {
            platform: platform.into(),
            platform_id: id,
            title,
            mix: mix.filter(|m| !m.trim().is_empty()),
            artists: credit(&artists),
            isrc,
            duration_ms: ms.and_then(|v| u32::try_from(v).ok()),
            ..Default::default()
        });
    };
    let bp4 = fixture("beatport/v4_catalog_search_q-strobe_type-tracks_per-page-3.json")?;
    let mut bp4_tracks: Vec<Value> = bp4["tracks"].as_array().cloned().unwrap_or_default();
    bp4_tracks.push(fixture("beatport/v4_catalog_track_19431036.json")?);
    for (i, t) in bp4_tracks.iter().enumerate() {
        let artists = t["artists"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| s(&a["name"]))
            .collect();
        push(
            "beatport",
            format!("v4-{i}-{}", t["id"]),
            artists,
            s(&t["name"]),
            t["mix_name"].as_str().map(str::to_string),
            t["isrc"].as_str().map(str::to_string),
            t["length_ms"].as_u64(),
        );
    }
    for rel in [
        "beatport/v3_catalog_search_q-archipel.json",
        "beatport/v3_catalog_tracks_id-1217790.json",
    ] {
        for r in fixture(rel)?["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == "track")
        {
            let artists = r["artists"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["type"] == "artist")
                .map(|a| s(&a["name"]))
                .collect();
            push(
                "beatport",
                format!("v3-{}", r["id"]),
                artists,
                s(&r["name"]),
                r["mixName"].as_str().map(str::to_string),
                r["isrc"].as_str().map(str::to_string),
                r["lengthMs"].as_u64(),
            );
        }
    }
    for rel in [
        "deezer/playlist_908622995.json",
        "deezer/playlist_9200461_tracks.json",
        "deezer/search_q-soliloquy.json",
        "deezer/search_q-billy-jean_limit-2.json",
        "deezer/search-track_artist-lou-doillon_track-joke.json",
        "deezer/track_3135556.json",
        "deezer/track_2947516331.json",
        "deezer/album_302127.json",
    ] {
        let j = fixture(rel)?;
        let album_artist = j["artist"]["name"].as_str().map(str::to_string);
        let list: Vec<Value> = j["data"]
            .as_array()
            .or(j["tracks"]["data"].as_array())
            .cloned()
            .unwrap_or_else(|| vec![j.clone()]);
        for t in list {
            let artist = t["artist"]["name"]
                .as_str()
                .map(str::to_string)
                .or(album_artist.clone())
                .unwrap_or_default();
            push(
                "deezer",
                format!("dz-{}", t["id"]),
                vec![artist],
                s(&t["title"]),
                None,
                t["isrc"].as_str().map(str::to_string),
                t["duration"].as_u64().map(|d| d * 1000),
            );
        }
    }
    let mut sp: Vec<Value> = Vec::new();
    for rel in [
        "spotify/search_type-track_q-test_limit-10.json",
        "spotify/search_type-track_q-never-gonna-give-you-up_2026.json",
    ] {
        sp.extend(
            fixture(rel)?["tracks"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    for rel in [
        "spotify/playlist_5LkNhFidYyyjRWwnkcMbQs_tracks.json",
        "spotify/playlist_1Cp6VQCKf2VL4sP09jN9oX_items_2026.json",
        "spotify/album_32nryzA6XBCX9ZUspVc1yz_tracks_offset-50.json",
    ] {
        for it in fixture(rel)?["items"].as_array().into_iter().flatten() {
            let t = if it["track"].is_object() {
                it["track"].clone()
            } else if it["item"].is_object() {
                it["item"].clone()
            } else {
                it.clone()
            };
            sp.push(t);
        }
    }
    for rel in [
        "spotify/track_04zxGiXcmNQ0m9oDXtwo18.json",
        "spotify/track_1zHlj4dQ8ZAtrayhuDDmkY.json",
    ] {
        sp.push(fixture(rel)?);
    }
    for (i, t) in sp.iter().enumerate() {
        let artists = t["artists"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| s(&a["name"]))
            .collect();
        push(
            "spotify",
            format!("sp-{i}-{}", s(&t["id"])),
            artists,
            s(&t["name"]),
            None,
            t["external_ids"]["isrc"].as_str().map(str::to_string),
            t["duration_ms"].as_u64(),
        );
    }
    for rel in [
        "discogs/release_1503102.json",
        "discogs/release_16004480.json",
        "discogs/release_8604223.json",
        "discogs/master_33687.json",
    ] {
        let j = fixture(rel)?;
        let release_artists: Vec<String> = j["artists"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| s(&a["name"]))
            .collect();
        for t in j["tracklist"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["type_"] == "track")
        {
            let own: Vec<String> = t["artists"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| s(&a["name"]))
                .collect();
            let artists = if own.is_empty() {
                release_artists.clone()
            } else {
                own
            };
            let ms = s(&t["duration"]).split_once(':').and_then(|(m, s)| {
                Some(m.parse::<u64>().ok()? * 60_000 + s.parse::<u64>().ok()? * 1000)
            });
            push(
                "discogs",
                format!("dg-{}-{}", j["id"], s(&t["position"])),
                artists,
                s(&t["title"]),
                None,
                None,
                ms,
            );
        }
    }
    let mb = fixture("musicbrainz/recording_search_query-artist-fleetwood-mac_limit-100.json")?;
    for r in mb["recordings"].as_array().into_iter().flatten() {
        let artists = r["artist-credit"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| s(&a["name"]))
            .collect();
        // MusicBrainz keeps "live" in the disambiguation, not the title.
        let mix = r["disambiguation"]
            .as_str()
            .filter(|d| d.starts_with("live"))
            .map(|_| "live".to_string());
        let isrc = r["isrcs"].as_array().and_then(|i| i.first()).map(s);
        push(
            "musicbrainz",
            format!("mb-{}", s(&r["id"])),
            artists,
            s(&r["title"]),
            mix,
            isrc,
            r["length"].as_u64(),
        );
    }
    Ok(out)
}

struct Pair {
    wanted: WantedTrack,
    cand: PlatformTrack,
    same: bool,
    why: &'static str,
}

fn main_artist(p: &PlatformTrack) -> String {
    p.artists
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn wanted_from(p: &PlatformTrack) -> WantedTrack {
    WantedTrack {
        artist: main_artist(p),
        title: match &p.mix {
            Some(m) => format!("{} ({m})", p.title),
            None => p.title.clone(),
        },
        ..Default::default()
    }
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ö' | 'ô' | 'ø' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            '’' => '\'',
            other => other,
        })
        .collect()
}

/// The labelled set: how people write the fixture tracks in playlists (same), the same
/// recording in two payloads (same), and hard negatives (different).
fn labelled_set() -> Result<(Vec<Pair>, usize), String> {
    let recs = fixture_records()?;
    let mut pairs: Vec<Pair> = Vec::new();
    let mut r = Rng(7);
    // 1. Playlist spellings of every record (same).
    for p in &recs {
        let base = wanted_from(p);
        let parsed = parse_title(&p.title);
        let mut spell = Vec::new();
        spell.push(base.clone());
        spell.push(WantedTrack {
            artist: ascii_fold(&base.artist).to_lowercase(),
            title: ascii_fold(&base.title).to_lowercase(),
            ..Default::default()
        });
        let mix = p.mix.clone().or(parsed.mix.clone());
        spell.push(WantedTrack {
            artist: base.artist.to_uppercase(),
            title: match &mix {
                Some(m) => format!("{} - {m}", parsed.title),
                None => format!("{} (Original Mix)", parsed.title),
            },
            ..Default::default()
        });
        if p.artists.len() > 1 {
            let mut names: Vec<&str> = p.artists.iter().map(|a| a.name.as_str()).collect();
            names.reverse();
            spell.push(WantedTrack {
                artist: names.join(" & "),
                title: base.title.clone(),
                ..Default::default()
            });
            spell.push(WantedTrack {
                artist: p.artists[0].name.clone(),
                title: format!(
                    "{} (feat. {})",
                    base.title,
                    names[..names.len() - 1].join(", ")
                ),
                ..Default::default()
            });
        }
        // Apostrophes dropped, "&" written "and" (file names, hand-typed lists).
        spell.push(WantedTrack {
            artist: base.artist.replace('&', "and"),
            title: base.title.replace(['\'', '’'], "").replace(" & ", " and "),
            ..Default::default()
        });
        // A leading "The" dropped from the artist.
        if let Some(rest) = base.artist.strip_prefix("The ") {
            spell.push(WantedTrack {
                artist: rest.to_string(),
                title: base.title.clone(),
                ..Default::default()
            });
        }
        // The mix written without brackets ("Title Extended Mix"), as some file names do.
        if let Some(m) = &mix {
            spell.push(WantedTrack {
                artist: base.artist.clone(),
                title: format!("{} {m}", parsed.title),
                ..Default::default()
            });
        }
        // ID3v1 tags cut titles at 30 characters.
        if base.title.chars().count() > 30 {
            spell.push(WantedTrack {
                artist: base.artist.clone(),
                title: base.title.chars().take(30).collect(),
                ..Default::default()
            });
        }
        let mut with_ids = base.clone();
        with_ids.isrc = p.isrc.clone();
        with_ids.duration_ms = p.duration_ms.map(|d| d + 1000 + r.below(1000) as u32);
        spell.push(with_ids);
        for w in spell {
            pairs.push(Pair {
                wanted: w,
                cand: p.clone(),
                same: true,
                why: "playlist spelling",
            });
        }
    }
    // 2. One recording in two payloads: same ISRC, same platform id, or named below.
    for (i, a) in recs.iter().enumerate() {
        for b in recs.iter().skip(i + 1) {
            let same_isrc = a.isrc.is_some() && a.isrc == b.isrc;
            let same_id = a.platform == b.platform
                && a.platform_id.rsplit('-').next() == b.platform_id.rsplit('-').next()
                && a.platform != "discogs";
            if same_isrc || same_id {
                let mut w = wanted_from(a);
                w.duration_ms = a.duration_ms;
                pairs.push(Pair {
                    wanted: w.clone(),
                    cand: b.clone(),
                    same: true,
                    why: "same recording, two payloads",
                });
                w.isrc = a.isrc.clone();
                pairs.push(Pair {
                    wanted: w,
                    cand: b.clone(),
                    same: true,
                    why: "same recording, two payloads (ISRC)",
                });
            }
        }
    }
    // 3. Different recordings among the fixtures: same base title, another mix or artist.
    let base = |p: &PlatformTrack| normalize_text(&parse_title(&p.title).title);
    let mixk = |p: &PlatformTrack| {
        cratedigger_music::mix_key(p.mix.as_deref().or(parse_title(&p.title).mix.as_deref()))
    };
    let artk = |p: &PlatformTrack| cratedigger_music::normalize::artist_key(&main_artist(p));
    for (i, a) in recs.iter().enumerate() {
        for b in recs.iter().skip(i + 1) {
            if base(a) != base(b) || (a.isrc.is_some() && a.isrc == b.isrc) {
                continue;
            }
            let why = if artk(a) != artk(b)
                && !artk(a)
                    .split(',')
                    .any(|x| artk(b).split(',').any(|y| x == y))
            {
                "same title, other artist (fixtures)"
            } else if mixk(a) != mixk(b) {
                "same title, other mix (fixtures)"
            } else {
                continue; // same artist, title and mix: can't tell from the payloads
            };
            pairs.push(Pair {
                wanted: wanted_from(a),
                cand: b.clone(),
                same: false,
                why,
            });
        }
    }
    // 4. Generated hard negatives for every record.
    let others: Vec<String> = recs.iter().map(main_artist).collect();
    for p in &recs {
        let parsed = parse_title(&p.title);
        let mk = mixk(p);
        let artist = main_artist(p);
        let mut negs: Vec<(WantedTrack, &'static str)> = Vec::new();
        let mut used = 0;
        for m in [
            "Extended Mix",
            "Radio Edit",
            "Dub",
            "VIP",
            "Instrumental",
            "Live",
            "Joris Voorn Remix",
        ] {
            if cratedigger_music::mix_key(Some(m)) == mk || used >= 3 {
                continue;
            }
            if r.chance(0.6) {
                used += 1;
                negs.push((
                    WantedTrack {
                        artist: artist.clone(),
                        title: format!("{} ({m})", parsed.title),
                        ..Default::default()
                    },
                    "other mix (generated)",
                ));
            }
        }
        // The platform offers a mix (not the original); the playlist wants the original.
        if !mk.is_empty() {
            negs.push((
                WantedTrack {
                    artist: artist.clone(),
                    title: parsed.title.clone(),
                    ..Default::default()
                },
                "original wanted, mix offered (generated)",
            ));
        }
        negs.push((
            WantedTrack {
                artist: artist.clone(),
                title: format!("{} Part 2", parsed.title),
                ..Default::default()
            },
            "sequel / other part (generated)",
        ));
        negs.push((
            WantedTrack {
                artist: artist.clone(),
                title: format!("{} (Reprise)", parsed.title),
                ..Default::default()
            },
            "reprise (generated)",
        ));
        let other = &others[r.below(others.len())];
        if cratedigger_music::normalize::artist_key(other) != artk(p) {
            negs.push((
                WantedTrack {
                    artist: other.clone(),
                    title: wanted_from(p).title,
                    ..Default::default()
                },
                "same title, other artist (generated)",
            ));
        }
        for (w, why) in negs {
            pairs.push(Pair {
                wanted: w,
                cand: p.clone(),
                same: false,
                why,
            });
        }
    }
    Ok((pairs, recs.len()))
}

#[derive(Default)]
struct Confusion {
    // [truth same?][accept, review, reject]
    cells: [[usize; 3]; 2],
    false_accepts: Vec<String>,
    missed: Vec<String>,
}

fn evaluate(pairs: &[Pair]) -> Confusion {
    let m = MatchingSettings::default();
    let mut c = Confusion::default();
    for p in pairs {
        let sc = score(&p.wanted, &p.cand, &m.weights, &m.thresholds);
        let col = match sc.verdict {
            Verdict::Accept => 0,
            Verdict::Review => 1,
            Verdict::Reject => 2,
        };
        c.cells[usize::from(!p.same)][col] += 1;
        let line = format!(
            "{} | wanted '{}' vs {} '{} - {}{}' ({:.2})",
            p.why,
            p.wanted.display(),
            p.cand.platform,
            main_artist(&p.cand),
            p.cand.title,
            p.cand
                .mix
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            sc.total
        );
        if !p.same && col == 0 {
            c.false_accepts.push(line);
        } else if p.same && col != 0 {
            c.missed.push(line);
        }
    }
    c
}

impl Confusion {
    fn precision(&self) -> f64 {
        let tp = self.cells[0][0] as f64;
        let fp = self.cells[1][0] as f64;
        if tp + fp == 0.0 {
            f64::NAN
        } else {
            tp / (tp + fp)
        }
    }
    fn recall(&self) -> f64 {
        let same: usize = self.cells[0].iter().sum();
        if same == 0 {
            f64::NAN
        } else {
            self.cells[0][0] as f64 / same as f64
        }
    }
}

// ------------------------------------------------------------------------------------------

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

async fn run(args: &Args) -> Result<String, String> {
    let mut md = String::new();
    let when = now_utc();
    writeln!(md, "\n## Music benchmark, {when}\n").ok();
    writeln!(
        md,
        "Re-run with `just bench music` (runs `cargo run --release -p cratedigger-e2e --bin bench-music -- \
         --markdown docs/benchmarks.md`); `--tracks`, `--singles`, `--batch`, `--concurrency` change the sizes, \
         `--accuracy-only` skips the database. Source: `tests/src/bin/bench-music.rs` (its header says how the \
         library and the wanted tracks are generated). Machine: {}, PostgreSQL on the same machine. Release build.\n",
        machine()
    )
    .ok();

    if !args.accuracy_only {
        let t0 = Instant::now();
        let (lib, mut g) = generate(args.tracks);
        let gen_time = t0.elapsed();
        eprintln!(
            "generated {} tracks in {:.1} s",
            lib.tracks.len(),
            gen_time.as_secs_f64()
        );
        let (url, db) = fresh_database().await;
        let store = Store::connect(&url, (args.concurrency + 2) as u32)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        store.migrate().await.map_err(|e| format!("migrate: {e}"))?;
        let t1 = Instant::now();
        let copy_time = load(&url, &lib).await?;
        let load_time = t1.elapsed();
        eprintln!(
            "loaded with COPY in {:.1} s (+ VACUUM ANALYZE: {:.1} s total)",
            copy_time.as_secs_f64(),
            load_time.as_secs_f64()
        );
        let size: String =
            sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('tracks'))")
                .fetch_one(store.pool())
                .await
                .map_err(|e| e.to_string())?;
        let matching = MatchingSettings::default();

        let warm = wanted_set(&lib, &mut g, WARMUP, 11);
        for w in &warm {
            check_one(&store, w, &matching).await?;
        }
        let singles = wanted_set(&lib, &mut g, args.singles, 13);
        let mut outcomes = Vec::with_capacity(singles.len());
        for w in &singles {
            outcomes.push(check_one(&store, w, &matching).await?);
        }
        let batch = Arc::new(wanted_set(&lib, &mut g, args.batch, 17));
        let matching = Arc::new(matching);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let t2 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (store, batch, next, matching) =
                (store.clone(), batch.clone(), next.clone(), matching.clone());
            tasks.push(tokio::spawn(async move {
                let mut res = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(w) = batch.get(i) else { break };
                    res.push(check_one(&store, w, &matching).await?);
                }
                Ok::<_, String>(res)
            }));
        }
        let mut batch_out = Vec::new();
        for t in tasks {
            batch_out.extend(t.await.map_err(|e| e.to_string())??);
        }
        let batch_time = t2.elapsed();

        let mut all: Vec<u64> = outcomes.iter().map(|o| o.micros).collect();
        all.sort_unstable();
        let p50 = percentile(&all, 0.50);
        let p99 = percentile(&all, 0.99);
        writeln!(
            md,
            "Library: {} generated tracks ({} with ISRC, {} with a catalog number), table + indexes {size}; \
             generated in {:.1} s, `COPY` {:.1} s, with `VACUUM ANALYZE` {:.1} s.\n",
            lib.tracks.len(),
            lib.tracks.iter().filter(|t| t.isrc.is_some()).count(),
            lib.tracks.iter().filter(|t| t.catalog.is_some()).count(),
            gen_time.as_secs_f64(),
            copy_time.as_secs_f64(),
            load_time.as_secs_f64()
        )
        .ok();
        writeln!(
            md,
            "| figure | value | target | result |\n|---|---|---|---|"
        )
        .ok();
        writeln!(
            md,
            "| one wanted track, `check_library` p50 | {p50:.2} ms | - | - |"
        )
        .ok();
        writeln!(
            md,
            "| one wanted track, `check_library` p99 | {p99:.2} ms | <= {TARGET_P99_MS} ms | {} |",
            pass(p99 <= TARGET_P99_MS)
        )
        .ok();
        writeln!(
            md,
            "| one wanted track, max | {:.2} ms | - | - |",
            percentile(&all, 1.0)
        )
        .ok();
        writeln!(
            md,
            "| batch of {} (concurrency {}, begin + check + rollback each) | {:.2} s ({:.0} tracks/s) | <= {TARGET_BATCH_S} s | {} |",
            batch.len(),
            args.concurrency,
            batch_time.as_secs_f64(),
            batch.len() as f64 / batch_time.as_secs_f64(),
            pass(batch_time.as_secs_f64() <= TARGET_BATCH_S)
        )
        .ok();
        writeln!(md, "\nPer kind of wanted track ({} measured one at a time after {WARMUP} warm-up checks; \"right\" = found the library copy, or found nothing for a new track; the batch's answers are counted too):\n", singles.len()).ok();
        writeln!(md, "| wanted track | n | p50 ms | p99 ms | right (singles) | right (batch) |\n|---|---|---|---|---|---|").ok();
        for c in Class::ALL {
            let mut v: Vec<u64> = outcomes
                .iter()
                .filter(|o| o.class == c)
                .map(|o| o.micros)
                .collect();
            v.sort_unstable();
            let right = outcomes
                .iter()
                .filter(|o| o.class == c && o.correct)
                .count();
            let bn = batch_out.iter().filter(|o| o.class == c).count();
            let bright = batch_out
                .iter()
                .filter(|o| o.class == c && o.correct)
                .count();
            writeln!(
                md,
                "| {} | {} | {:.2} | {:.2} | {right}/{} | {bright}/{bn} |",
                c.name(),
                v.len(),
                percentile(&v, 0.5),
                percentile(&v, 0.99),
                v.len(),
            )
            .ok();
        }
        let wrong: Vec<&String> = outcomes
            .iter()
            .chain(batch_out.iter())
            .filter_map(|o| o.wrong.as_ref())
            .collect();
        if !wrong.is_empty() {
            writeln!(
                md,
                "\nWrong answers ({}, singles and batch):\n",
                wrong.len()
            )
            .ok();
            for l in wrong.iter().take(10) {
                writeln!(md, "- {l}").ok();
            }
        }
        if args.keep {
            eprintln!("keeping database {} ({url})", db.name());
            std::mem::forget(db);
        } else {
            store.pool().close().await;
            drop(db);
        }
    }

    let (pairs, nrec) = labelled_set()?;
    let c = evaluate(&pairs);
    let (p, rc) = (c.precision(), c.recall());
    let same_n: usize = c.cells[0].iter().sum();
    let diff_n: usize = c.cells[1].iter().sum();
    let mut kinds: HashMap<&str, (usize, usize)> = HashMap::new();
    for pr in &pairs {
        let e = kinds.entry(pr.why).or_default();
        if pr.same { e.0 += 1 } else { e.1 += 1 }
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    writeln!(
        md,
        "\nMatching accuracy: {} labelled pairs ({same_n} same, {diff_n} different) built from {nrec} records of the \
         recorded Beatport, Deezer, Spotify, Discogs and MusicBrainz payloads in `../shared/fixtures`, scored by \
         `music::matching::score` with the default weights and thresholds. Kinds: {}.\n",
        pairs.len(),
        kinds.iter().map(|(k, (s, d))| format!("{k} {}", if *s > 0 { *s } else { *d })).collect::<Vec<_>>().join("; ")
    )
    .ok();
    writeln!(
        md,
        "| truth \\ verdict | accept | review | reject | total |\n|---|---|---|---|---|"
    )
    .ok();
    for (i, name) in ["same recording", "different"].iter().enumerate() {
        let row = c.cells[i];
        writeln!(
            md,
            "| {name} | {} | {} | {} | {} |",
            row[0],
            row[1],
            row[2],
            row.iter().sum::<usize>()
        )
        .ok();
    }
    writeln!(
        md,
        "\n| figure | value | target | result |\n|---|---|---|---|"
    )
    .ok();
    writeln!(
        md,
        "| precision of auto-accept | {p:.4} | >= {TARGET_PRECISION} | {} |",
        pass(p >= TARGET_PRECISION)
    )
    .ok();
    writeln!(
        md,
        "| recall (same recordings auto-accepted) | {rc:.4} | >= {TARGET_RECALL} | {} |",
        pass(rc >= TARGET_RECALL)
    )
    .ok();
    if !c.false_accepts.is_empty() {
        writeln!(md, "\nFalse accepts ({}):\n", c.false_accepts.len()).ok();
        for l in c.false_accepts.iter().take(15) {
            writeln!(md, "- {l}").ok();
        }
    }
    if !c.missed.is_empty() {
        writeln!(
            md,
            "\nSame recordings not auto-accepted ({}, first 15):\n",
            c.missed.len()
        )
        .ok();
        for l in c.missed.iter().take(15) {
            writeln!(md, "- {l}").ok();
        }
    }
    Ok(md)
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
            eprintln!("bench-music: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args).await {
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
                    eprintln!("bench-music: cannot append to {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-music: {e}");
            ExitCode::FAILURE
        }
    }
}
