//! Shared harness of the end-to-end tests: real binaries started as processes against the
//! real Redis and Postgres on 127.0.0.1, and the fixture server standing in for the
//! platforms. Each test gets its own database and queue prefix, so tests run in parallel.

#![allow(dead_code)]

pub mod acq;

use cratedigger_e2e::fixture_server::{self, FixtureServer};
use cratedigger_store::testing::{TestDatabase, fresh_database};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Path of one of our binaries, built once per test process (a no-op when `just test`
/// already built them).
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        if std::env::var_os("CRATEDIGGER_E2E_NO_BUILD").is_none() {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "build",
                    "--quiet",
                    "--bins",
                    "-p",
                    "cratedigger",
                    "-p",
                    "cratedigger-workers",
                ])
                .current_dir(workspace_root())
                .status()
                .expect("cargo can be run to build the binaries under test");
            assert!(status.success(), "building the binaries under test failed");
        }
    });
    let path = target_dir().join("debug").join(name);
    assert!(
        path.exists(),
        "binary {} not found; run `cargo build --workspace --bins` first (`just test` does)",
        path.display()
    );
    path
}

/// A child process killed (SIGKILL) when dropped, with its output in a log file.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// SIGKILL now (no graceful stop), as a crashed pod would die.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait up to `limit` for a clean exit; returns the exit status success.
    pub fn terminate(&mut self, limit: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One isolated fleet: database, queue prefix, fixture server, API port, log folder.
pub struct Env {
    pub db: TestDatabase,
    pub db_url: String,
    pub prefix: String,
    pub fixtures: FixtureServer,
    pub api_port: u16,
    pub logs: PathBuf,
    pub extra_env: Vec<(String, String)>,
    pub procs: Vec<Proc>,
}

impl Env {
    /// A new environment (nothing started yet but the fixture server).
    pub async fn new(test: &str) -> Env {
        let (db_url, db) = fresh_database().await;
        let kit = cratedigger_e2e::kit::kit_dir();
        let fixtures = fixture_server::serve(kit, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("fixture server starts");
        let prefix = format!("e2e-{test}-{}", ulid::Ulid::new());
        let logs = std::env::temp_dir().join(&prefix);
        std::fs::create_dir_all(&logs).unwrap();
        Env {
            db,
            db_url,
            prefix,
            fixtures,
            api_port: free_port(),
            logs,
            extra_env: Vec::new(),
            procs: Vec::new(),
        }
    }

    /// Base URL of the scheduler API.
    pub fn api(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    fn env(&self) -> Vec<(String, String)> {
        let redis = std::env::var("CRATEDIGGER__REDIS__URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let mut v = vec![
            ("CRATEDIGGER__DATABASE__URL".into(), self.db_url.clone()),
            ("CRATEDIGGER__REDIS__URL".into(), redis),
            ("CRATEDIGGER__QUEUE__PREFIX".into(), self.prefix.clone()),
            (
                "CRATEDIGGER__API__BIND".into(),
                format!("127.0.0.1:{}", self.api_port),
            ),
            ("CRATEDIGGER__API__URL".into(), self.api()),
            (
                "CRATEDIGGER__PLATFORMS__MUSICBRAINZ__BASE_URL".into(),
                self.fixtures.base_url(),
            ),
            (
                "CRATEDIGGER__PLATFORMS__DEEZER__BASE_URL".into(),
                self.fixtures.base_url(),
            ),
            ("RUST_LOG".into(), "info".into()),
            // The fixture server is not MusicBrainz: these tests are about the fleet, so the
            // 1 request/s courtesy limit is lifted (tests/tests/ratelimit.rs sets its own).
            (
                "CRATEDIGGER__PLATFORMS__LIMITS__MUSICBRAINZ__REQUESTS".into(),
                "100".into(),
            ),
        ];
        v.extend(self.extra_env.iter().cloned());
        v
    }

    /// Starts `program args` with this environment; output goes to `<logs>/<name>.log`.
    pub fn start(&mut self, name: &str, program: &str, args: &[&str]) -> usize {
        let log = self.logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin(program))
            .args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.procs.push(Proc {
            name: name.into(),
            child,
            log,
        });
        self.procs.len() - 1
    }

    /// Every platform on (test credentials; the fixture server serves the recorded payloads),
    /// so research uses all five platforms (labels, BPM and keys from Beatport; Discogs tracklists).
    pub fn enable_all_platforms(&mut self) {
        let base = self.fixtures.base_url();
        for (k, v) in [
            ("CRATEDIGGER__PLATFORMS__DISCOGS__BASE_URL", base.clone()),
            (
                "CRATEDIGGER__PLATFORMS__DISCOGS__TOKEN",
                "test-discogs-token".into(),
            ),
            ("CRATEDIGGER__PLATFORMS__BEATPORT__BASE_URL", base.clone()),
            (
                "CRATEDIGGER__PLATFORMS__BEATPORT__TOKEN",
                "test-beatport-token".into(),
            ),
            ("CRATEDIGGER__PLATFORMS__SPOTIFY__BASE_URL", base.clone()),
            (
                "CRATEDIGGER__PLATFORMS__SPOTIFY__ACCOUNTS_URL",
                base.clone(),
            ),
            (
                "CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_ID",
                "test-client".into(),
            ),
            (
                "CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_SECRET",
                "test-secret".into(),
            ),
        ] {
            self.extra_env.push((k.into(), v));
        }
    }

    /// Starts the scheduler (`cratedigger serve`) and waits until it is ready.
    pub async fn start_scheduler(&mut self) {
        self.start("scheduler", "cratedigger", &["serve"]);
        let url = format!("{}/readyz", self.api());
        let start = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(&url).await
                && r.status().is_success()
            {
                return;
            }
            if start.elapsed() > Duration::from_secs(30) {
                panic!(
                    "scheduler not ready after 30 s; log:\n{}",
                    self.procs[0].log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs the CLI to completion with this environment.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin("cratedigger"))
            .args(args)
            .envs(self.env())
            .output()
            .expect("cratedigger CLI runs")
    }

    /// GET a JSON document from the API.
    pub async fn get(&self, path: &str) -> Value {
        let r = reqwest::get(format!("{}{path}", self.api()))
            .await
            .expect("API reachable");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// POST a playlist; returns the created sync document.
    pub async fn post_playlist(&self, text: &str, lane: &str) -> Value {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/v1/syncs?source=e2e.txt&lane={lane}",
                self.api()
            ))
            .body(text.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "create sync");
        r.json().await.unwrap()
    }

    /// Polls a sync until every item is final, or panics with the counts after `limit`.
    pub async fn wait_finished(&self, sync_id: &str, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let p = self.get(&format!("/v1/syncs/{sync_id}")).await;
            if p["finished"].as_bool() == Some(true) {
                return p;
            }
            if start.elapsed() > limit {
                let logs: String = self
                    .procs
                    .iter()
                    .map(|p| format!("--- {}\n{}\n", p.name, tail(&p.log_text(), 30)))
                    .collect();
                panic!("sync not finished after {limit:?}: {}\n{logs}", p["counts"]);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A direct connection to the test database, for assertions the API does not expose.
    pub async fn pg(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.db_url).await.unwrap()
    }
}

/// The last `n` lines of a log.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `Artist - Title` lines for every recording of the recorded MusicBrainz search and every
/// track of the recorded Deezer searches (read in place from the kit).
pub fn fixture_lines() -> Vec<String> {
    let kit = cratedigger_e2e::kit::kit_dir();
    let mut out = Vec::new();
    let mb: Value = serde_json::from_slice(
        &std::fs::read(kit.join(
            "fixtures/musicbrainz/recording_search_query-artist-fleetwood-mac_limit-100.json",
        ))
        .unwrap(),
    )
    .unwrap();
    for r in mb["recordings"].as_array().unwrap() {
        let artist: String = r["artist-credit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}{}",
                    c["name"].as_str().unwrap_or(""),
                    c["joinphrase"].as_str().unwrap_or("")
                )
            })
            .collect();
        out.push(format!(
            "{} - {}",
            artist.trim(),
            r["title"].as_str().unwrap()
        ));
    }
    for f in [
        "search_q-billy-jean_limit-2.json",
        "search_q-soliloquy.json",
        "search-track_artist-lou-doillon_track-joke.json",
    ] {
        let d: Value =
            serde_json::from_slice(&std::fs::read(kit.join("fixtures/deezer").join(f)).unwrap())
                .unwrap();
        for t in d["data"].as_array().unwrap() {
            out.push(format!(
                "{} - {}",
                t["artist"]["name"].as_str().unwrap(),
                t["title"].as_str().unwrap()
            ));
        }
    }
    out
}
