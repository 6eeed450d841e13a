//! The `cratedigger` command line: a thin client of the scheduler's HTTP API, plus `up`
//! (the whole fleet in one process) and `serve` (the scheduler alone).

use clap::{Parser, Subcommand};
use cratedigger_domain::item::ALL_STATES;
use cratedigger_playlist::MAX_PLAYLIST_BYTES;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// cratedigger: find, verify and file music for DJs.
#[derive(Debug, Parser)]
#[command(name = "cratedigger", version, about)]
pub struct Cli {
    /// Configuration file (TOML); `CRATEDIGGER__SECTION__KEY` variables override it.
    #[arg(long, global = true, env = "CRATEDIGGER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Scheduler API address for client commands (default from `api.url`).
    #[arg(long, global = true)]
    pub api: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sync a playlist file (M3U/M3U8, CSV with artist,title header, or `Artist - Title`
    /// lines; `-` reads standard input), or a playlist or chart address: a Spotify or
    /// Deezer playlist or a Beatport chart, every page of it (the scheduler reads it).
    Sync {
        /// Playlist file, `-`, or an https:// (or spotify:playlist:) address.
        file: String,
        /// Name of the sync (default: the file name or the address).
        #[arg(long)]
        name: Option<String>,
        /// Priority lane: interactive, batch (default) or background.
        #[arg(long, default_value = "batch")]
        lane: String,
        /// Wait until every item reaches a final state, with a live progress bar.
        #[arg(long)]
        wait: bool,
        /// Print one JSON document (implies waiting for the result).
        #[arg(long)]
        json: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
    },
    /// Items per state and queue depths across the fleet.
    Status {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// List items, optionally of one state or sync.
    Items {
        /// State filter (pending, researching, resolved, duplicate, failed, ...).
        #[arg(long)]
        state: Option<String>,
        /// Sync id filter.
        #[arg(long)]
        sync: Option<String>,
        /// Maximum items.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Dead-letter list: inspect and re-drive jobs that ran out of attempts.
    Dlq {
        /// list or redrive.
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Map a saved platform answer (a JSON file) with the same code the scouts use and
    /// print the records as JSON; a payload that cannot be mapped is an error naming the
    /// field. Runs locally. `cratedigger inspect spotify kinds` lists a platform's kinds.
    Inspect {
        /// musicbrainz, deezer, spotify, discogs or beatport.
        platform: String,
        /// What the file answers (track, search, playlist, release, ...; `kinds` lists them).
        kind: String,
        /// The saved answer (`-` reads standard input); not needed for `kinds`.
        file: Option<String>,
        /// Keep each record's raw platform payload in the output.
        #[arg(long)]
        raw: bool,
    },
    /// Decode a whole audio file and check it as acquisition does: codec, duration, bitrate,
    /// sample rate, bit depth, spectral cutoff and the fake-lossless verdict with its
    /// confidence. Runs locally. Exit 0 = fine, 1 = unreadable (corrupt, truncated, not
    /// audio), 2 = probably a lossy file in a lossless container, or not the --duration.
    Verify {
        /// The audio file (FLAC, MP3, WAV, AIFF, M4A, Ogg).
        file: PathBuf,
        /// JSON output (the report acquisition stores).
        #[arg(long)]
        json: bool,
        /// The length the track should have: seconds (372) or minutes:seconds (6:12).
        #[arg(long)]
        duration: Option<String>,
    },
    /// Go through the items waiting for approval: each with its top candidates and the
    /// reasons; answer a number to approve that candidate, `r` to reject, `s` to skip.
    Review {
        /// Only items of this sync.
        #[arg(long)]
        sync: Option<String>,
        /// Print the waiting items and their candidates as JSON instead of asking.
        #[arg(long)]
        json: bool,
    },
    /// Approve candidate N (default 1, the best) of an item waiting for approval: it is
    /// downloaded, verified, tagged and filed.
    Approve {
        /// Item id.
        item: String,
        /// Rank of the candidate, as `review` / `candidates` show it.
        #[arg(default_value_t = 1)]
        rank: u32,
    },
    /// Reject every candidate of an item waiting for approval: it fails, nothing is downloaded.
    Reject {
        /// Item id.
        item: String,
        /// Why (kept in the item's history).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Every candidate of an item: rank, score breakdown, buy/listen options, what was tried.
    Candidates {
        /// Item id.
        item: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Rekordbox library on this machine: import it into Postgres (read-only), write filed
    /// tracks into master.db, export Rekordbox XML, back up and restore. See docs/rekordbox.md.
    Rekordbox {
        /// import, write, export-xml, backup or restore.
        #[command(subcommand)]
        action: crate::rekordbox_cmd::RekordboxAction,
    },
    /// Tell the lead agent what you want in plain words ("Bicep - Glue", a playlist
    /// address); prints what it plans, the syncs it starts, their progress and its answer.
    Chat {
        /// The message.
        message: String,
        /// Continue this conversation (its id is printed at the end of every answer).
        #[arg(long)]
        conversation: Option<String>,
        /// One JSON object per event instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the scheduler and every worker role in this one process (laptop mode).
    Up,
    /// Run the scheduler alone (HTTP API, reconciler, metrics).
    Serve,
    /// Are two tracks the same recording? Prints the score breakdown and the verdict
    /// (same / review / different). Runs locally, with the configured weights.
    Match {
        /// The wanted track, "Artist - Title (Mix)".
        a: String,
        /// The candidate, "Artist - Title (Mix)".
        b: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// A musical key read in any notation (Am, A minor, 8A, 1m, A&#9837; Major, Abm) and
    /// written in every notation, or only the one asked for. Runs locally.
    Key {
        /// The key.
        value: String,
        /// Only this notation: standard, camelot, open_key, beatport or rekordbox.
        #[arg(long)]
        to: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The BPM cratedigger would store and why (half/double time, genre range). VALUE is a
    /// BPM or SOURCE=BPM; give several to see how sources are weighed. Runs locally.
    Bpm {
        /// One or more readings: `128`, `beatport=70 spotify=140`.
        #[arg(required = true, allow_negative_numbers = true)]
        values: Vec<String>,
        /// Genre, for its usual BPM range (house, techno, drum & bass, dubstep, ...).
        #[arg(long)]
        genre: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `dlq` actions.
#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// Show dead-lettered jobs with their reasons.
    List {
        /// Only this queue.
        #[arg(long)]
        queue: Option<String>,
        /// Maximum per queue.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Put dead-lettered jobs back in their lanes with a fresh attempt budget.
    Redrive {
        /// Only this queue.
        #[arg(long)]
        queue: Option<String>,
        /// At most this many per queue.
        #[arg(long, default_value_t = 1000)]
        max: u64,
    },
}

/// A client error with the sentence to print.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

/// HTTP client of the scheduler API.
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("reqwest client builds"),
            token,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, CliError> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(|e| {
            CliError(format!(
                "cannot reach the cratedigger scheduler at {} ({e}). Start it with `cratedigger up` or set --api / CRATEDIGGER__API__URL",
                self.base
            ))
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let msg = body
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no details");
            Err(CliError(format!(
                "the scheduler refused the request ({status}): {msg}"
            )))
        }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// POST raw playlist bytes.
    pub async fn post_playlist(
        &self,
        bytes: Vec<u8>,
        source: &str,
        name: &str,
        lane: &str,
    ) -> Result<Value, CliError> {
        let req = self
            .http
            .post(format!("{}/v1/syncs", self.base))
            .query(&[("source", source), ("name", name), ("lane", lane)])
            .header("content-type", "application/octet-stream")
            .body(bytes);
        self.send(req).await
    }

    /// POST a playlist or chart address: the scheduler reads every page of it, which can
    /// take minutes for a 10,000-track playlist under the platform's rate limit.
    pub async fn post_url(
        &self,
        url: &str,
        name: Option<&str>,
        lane: &str,
    ) -> Result<Value, CliError> {
        let mut body = serde_json::json!({ "url": url, "lane": lane });
        if let Some(n) = name {
            body["name"] = Value::from(n);
        }
        let req = self
            .http
            .post(format!("{}/v1/syncs", self.base))
            .timeout(Duration::from_secs(900))
            .json(&body);
        self.send(req).await
    }

    /// POST JSON.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }
}

/// Reads a playlist from a file or standard input, refusing more than the limit before
/// reading it all.
pub fn read_playlist(file: &str) -> Result<(Vec<u8>, String), CliError> {
    let mut buf = Vec::new();
    let limit = MAX_PLAYLIST_BYTES as u64 + 1;
    if file == "-" {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut buf)
            .map_err(|e| CliError(format!("cannot read standard input: {e}")))?;
        return check_size(buf, "standard input").map(|b| (b, "-".into()));
    }
    let f = std::fs::File::open(file)
        .map_err(|e| CliError(format!("cannot open playlist '{file}': {e}")))?;
    f.take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| CliError(format!("cannot read playlist '{file}': {e}")))?;
    let source = std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    check_size(buf, file).map(|b| (b, source))
}

fn check_size(buf: Vec<u8>, what: &str) -> Result<Vec<u8>, CliError> {
    if buf.len() > MAX_PLAYLIST_BYTES {
        return Err(CliError(format!(
            "{what} is larger than {} MB; split it into smaller playlists. Nothing was stored",
            MAX_PLAYLIST_BYTES / (1024 * 1024)
        )));
    }
    Ok(buf)
}

fn counts_line(counts: &Value) -> String {
    ALL_STATES
        .iter()
        .filter_map(|s| {
            let n = counts.get(s.as_str()).and_then(|v| v.as_i64()).unwrap_or(0);
            (n > 0).then(|| format!("{} {n}", s.as_str()))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Polls a sync until it is finished, drawing a progress bar unless `quiet`.
pub async fn wait_for_sync(
    client: &Client,
    sync_id: &str,
    timeout: Duration,
    quiet: bool,
) -> Result<Value, CliError> {
    let started = Instant::now();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} done  {msg}",
        )
        .expect("valid template"),
    );
    loop {
        let p = client.get(&format!("/v1/syncs/{sync_id}")).await?;
        let total = p.get("total").and_then(|v| v.as_u64()).unwrap_or(0);
        let counts = p.get("counts").cloned().unwrap_or(Value::Null);
        let done: u64 = ALL_STATES
            .iter()
            .filter(|s| s.is_final())
            .map(|s| counts.get(s.as_str()).and_then(|v| v.as_u64()).unwrap_or(0))
            .sum();
        bar.set_length(total);
        bar.set_position(done);
        bar.set_message(counts_line(&counts));
        if p.get("finished").and_then(|v| v.as_bool()).unwrap_or(false) {
            bar.finish();
            return Ok(p);
        }
        if started.elapsed() > timeout {
            bar.abandon();
            return Err(CliError(format!(
                "sync {sync_id} is still running after {} s ({}); follow it with `cratedigger items --sync {sync_id}`",
                timeout.as_secs(),
                counts_line(&counts)
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// All items of a sync, page by page.
pub async fn sync_items(client: &Client, sync_id: &str) -> Result<Vec<Value>, CliError> {
    let mut out = Vec::new();
    loop {
        let page = client
            .get(&format!(
                "/v1/syncs/{sync_id}/items?limit=1000&offset={}",
                out.len()
            ))
            .await?;
        let page = page.as_array().cloned().unwrap_or_default();
        let n = page.len();
        out.extend(page);
        if n < 1000 {
            return Ok(out);
        }
    }
}

/// One line per item for people: state, input, and what happened.
pub fn describe_item(item: &Value) -> String {
    let state = item.get("state").and_then(|v| v.as_str()).unwrap_or("?");
    let input = item
        .get("input_line")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let line = item.get("line_no").and_then(|v| v.as_u64()).unwrap_or(0);
    let detail = match item.get("track").filter(|t| !t.is_null()) {
        Some(t) if state == "resolved" => {
            let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let mut d = format!("{} - {}", s("artist"), s("title"));
            if !s("mix").is_empty() {
                d.push_str(&format!(" ({})", s("mix")));
            }
            if !s("isrc").is_empty() {
                d.push_str(&format!(" · ISRC {}", s("isrc")));
            }
            if let Some(b) = t.get("bpm").and_then(|v| v.as_f64()) {
                d.push_str(&format!(" · {b:.0} BPM"));
            }
            if !s("key").is_empty() {
                d.push_str(&format!(" · {}", s("key")));
            }
            let sources: Vec<String> = t
                .get("sources")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| {
                            s.get("platform").and_then(|p| p.as_str()).map(String::from)
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !sources.is_empty() {
                d.push_str(&format!(" · from {}", sources.join(", ")));
            }
            d
        }
        _ => item
            .get("reason")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string(),
    };
    format!("{state:<11} line {line:>4}  {input}\n{:<17}→ {detail}", "")
}
