//! Configuration of every binary, through the `config` crate: built-in defaults, then an
//! optional TOML file (`--config` or `CRATEDIGGER_CONFIG`), then `CRATEDIGGER__SECTION__KEY`
//! environment variables (e.g. `CRATEDIGGER__DATABASE__URL`,
//! `CRATEDIGGER__PLATFORMS__MUSICBRAINZ__BASE_URL`). Secrets (the API token, platform
//! tokens) are read from the environment only and never printed.

use cratedigger_fleet::QueueSettings;
use cratedigger_music::bpm::GenreRanges;
use cratedigger_music::key::KeyNotation;
use cratedigger_music::matching::{MatchWeights, Thresholds};
use cratedigger_music::merge::MergePolicy;
use cratedigger_platforms::PlatformsConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything a cratedigger process can be told.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// PostgreSQL, the source of truth.
    pub database: DatabaseSettings,
    /// Redis, work in flight.
    pub redis: RedisSettings,
    /// Queue tunables (prefix, lease).
    pub queue: QueueSettings,
    /// The scheduler's HTTP API.
    pub api: ApiSettings,
    /// Worker processes.
    pub workers: WorkerSettings,
    /// Metadata platforms (base URLs, credentials, timeouts).
    pub platforms: PlatformsConfig,
    /// How candidates are judged.
    pub matching: MatchingSettings,
    /// The reconciler that re-enqueues stuck items.
    pub reconciler: ReconcilerSettings,
    /// Discovery, ranking, approval, download, verification and filing.
    pub acquisition: AcquisitionSettings,
    /// Acquisition sources: slskd, Bandcamp, SoundCloud, yt-dlp, … (`CRATEDIGGER__SOURCES__*`).
    pub sources: cratedigger_platforms::sources_config::SourcesConfig,
    /// The lead agent behind `POST /v1/chat` (`CRATEDIGGER__LEAD__*`).
    pub lead: crate::lead_settings::LeadSettings,
}

/// PostgreSQL connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// Connection URL.
    pub url: String,
    /// Pool size per process.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "postgres://postgres@127.0.0.1:5432/cratedigger".into(),
            max_connections: 8,
        }
    }
}

/// Redis connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// Connection URL.
    pub url: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
        }
    }
}

/// The scheduler's HTTP API and how the CLI reaches it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiSettings {
    /// Address the scheduler listens on. Loopback by default; anything else requires a token.
    pub bind: String,
    /// Where the CLI sends its requests.
    pub url: String,
    /// Bearer token required when bound beyond loopback. Environment only
    /// (`CRATEDIGGER__API__TOKEN`); never serialised or logged.
    #[serde(skip_serializing)]
    pub token: Option<String>,
    /// How long a web page login lasts (seconds) before the session is refused and the
    /// person logs in again (`CRATEDIGGER__API__SESSION_TTL_SECS`, default 12 h).
    pub session_ttl_secs: u64,
    /// Mark the session cookie `Secure` (only sent over HTTPS): set it when a TLS proxy
    /// fronts the scheduler (`CRATEDIGGER__API__COOKIE_SECURE`).
    pub cookie_secure: bool,
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("bind", &self.bind)
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("cookie_secure", &self.cookie_secure)
            .finish()
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            url: "http://127.0.0.1:8080".into(),
            token: None,
            session_ttl_secs: 43_200,
            cookie_secure: false,
        }
    }
}

/// Worker process knobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    /// Jobs handled at once per worker process.
    pub concurrency: usize,
    /// Jobs reserved per fetch; 0 means "as many as `concurrency`". Larger batches drain
    /// short jobs faster (fewer round trips) but let one process hold more jobs at once.
    pub fetch_batch: usize,
    /// Where a worker binary serves `/metrics`, `/healthz`, `/readyz` (port 0 = any free port,
    /// printed at start).
    pub metrics_bind: String,
    /// Idle poll period in ms when no push notification arrives.
    pub idle_poll_ms: u64,
    /// After SIGTERM, seconds the jobs in hand may still run before the process exits
    /// anyway (keep it above the longest job and below Kubernetes'
    /// `terminationGracePeriodSeconds`; see docs/operations.md).
    pub shutdown_timeout_secs: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 16,
            fetch_batch: 0,
            metrics_bind: "127.0.0.1:0".into(),
            idle_poll_ms: 500,
            shutdown_timeout_secs: 30,
        }
    }
}

/// Match scoring and metadata merge configuration. Every field has a default, so a config
/// file that names none of them (or only some) keeps working.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchingSettings {
    /// Evidence weights.
    pub weights: MatchWeights,
    /// Accept / review thresholds.
    pub thresholds: Thresholds,
    /// Platform precedence when merging fields (first wins); empty = registry order.
    pub precedence: Vec<String>,
    /// Per-field platform order (`[matching.field_precedence] key = ["beatport", ...]`),
    /// tried before `precedence`. Fields: isrc, album, label, catalog_number, release_date,
    /// genre, artwork_url, duration_ms, key (BPM has its own list).
    pub field_precedence: BTreeMap<String, Vec<String>>,
    /// Platform order for BPM: Beatport first, its tempos are set for DJs.
    pub bpm_precedence: Vec<String>,
    /// Usual BPM range per genre, for half/double-time decisions
    /// (`[[matching.genre_ranges]] genre = "house" min = 118 max = 130`); replaces the table.
    pub genre_ranges: GenreRanges,
    /// Key notation written to tags and Rekordbox: standard, camelot, open_key, beatport or
    /// rekordbox (`CRATEDIGGER__MATCHING__KEY_NOTATION=open_key`).
    pub key_notation: KeyNotation,
}

impl Default for MatchingSettings {
    /// Defaults chosen for DJs: Beatport first for BPM, key and genre (analysed for DJ use);
    /// Discogs and MusicBrainz first for release facts (curated); keys shown in Camelot, the
    /// notation harmonic mixing is done in (Mixed In Key, rekordbox "Alphanumeric").
    fn default() -> Self {
        let list = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut field_precedence = BTreeMap::new();
        field_precedence.insert("key".into(), list(&["beatport", "spotify", "deezer"]));
        field_precedence.insert("genre".into(), list(&["beatport", "discogs", "deezer"]));
        field_precedence.insert(
            "release_date".into(),
            list(&["musicbrainz", "discogs", "beatport"]),
        );
        field_precedence.insert(
            "label".into(),
            list(&["discogs", "beatport", "musicbrainz"]),
        );
        field_precedence.insert(
            "catalog_number".into(),
            list(&["discogs", "beatport", "musicbrainz"]),
        );
        field_precedence.insert(
            "duration_ms".into(),
            list(&["beatport", "spotify", "deezer", "musicbrainz"]),
        );
        Self {
            weights: MatchWeights::default(),
            thresholds: Thresholds::default(),
            precedence: Vec::new(),
            field_precedence,
            bpm_precedence: list(&["beatport", "spotify", "deezer", "musicbrainz", "discogs"]),
            genre_ranges: GenreRanges::default(),
            key_notation: KeyNotation::Camelot,
        }
    }
}

impl MatchingSettings {
    /// The merge policy for the consolidator; `precedence` is [`Settings::precedence`] (the
    /// configured order, or the registry order when none is configured).
    pub fn merge_policy<'a>(&'a self, precedence: &'a [String]) -> MergePolicy<'a> {
        MergePolicy {
            precedence,
            field_precedence: &self.field_precedence,
            bpm_precedence: &self.bpm_precedence,
            genre_ranges: self.genre_ranges.as_slice(),
            key_notation: self.key_notation,
        }
    }
}

/// Reconciler configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ReconcilerSettings {
    /// Seconds between sweeps.
    pub interval_secs: u64,
    /// An item unchanged this long with no job in flight is re-enqueued.
    pub stuck_after_secs: u64,
    /// Re-enqueues before the item is failed.
    pub max_requeues: i32,
}

impl Default for ReconcilerSettings {
    fn default() -> Self {
        Self {
            interval_secs: 15,
            stuck_after_secs: 60,
            max_requeues: 5,
        }
    }
}

/// Acquisition (`CRATEDIGGER__ACQUISITION__*`): off by default, because it needs at least
/// one source configured (the user's slskd, a SoundCloud client id, …) and a library folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AcquisitionSettings {
    /// On: resolved items go on to discovery, approval, download and filing. Off: `resolved`
    /// is where an item ends (metadata only).
    pub enabled: bool,
    /// When research finds no metadata match, still look for copies using the line as the
    /// user wrote it (white labels, bootlegs and edits are often on no metadata platform).
    /// The item's history says that the metadata could not be confirmed.
    pub discover_unmatched: bool,
    /// Where verified, tagged files are filed.
    pub library_dir: std::path::PathBuf,
    /// Where downloads land before verification (same filesystem as the library makes
    /// filing a rename).
    pub staging_dir: std::path::PathBuf,
    /// Library path of a filed file, relative to `library_dir` (see `music::filing`).
    pub path_template: String,
    /// How long discovery waits for all sources before ranking what it has.
    pub discovery_deadline_secs: u64,
    /// Candidates shown for approval.
    pub top_n: usize,
    /// No byte for this long: the transfer is stalled, the next candidate is tried.
    pub stall_timeout_secs: u64,
    /// Longest one transfer may take, queued time at the peer included.
    pub download_timeout_secs: u64,
    /// Largest file accepted, in MiB.
    pub max_file_mb: u64,
    /// Downloads at once per source in one acquisition scout (`…__DOWNLOAD_CONCURRENCY__SOULSEEK=2`);
    /// a source not listed gets 2.
    pub download_concurrency: BTreeMap<String, usize>,
    /// No new download starts while the library's filesystem is fuller than this (percent).
    pub disk_limit_pct: f64,
    /// Files decoded and analysed at once per quality assessor (CPU work, off the async
    /// runtime).
    pub analysis_concurrency: usize,
    /// A file whose decoded duration differs from the track's by more than this is rejected
    /// (seconds; Extended vs Radio Edit differ by minutes).
    pub duration_tolerance_secs: f64,
    /// A file claiming to be lossless is rejected as a transcode when the detector's
    /// confidence is at least this.
    pub fake_lossless_reject_confidence: f32,
    /// Required and preferred conditions of the ranking (`…__RANKING__REQUIRED__*`).
    pub ranking: cratedigger_music::ranking::RankingPolicy,
    /// When the fleet may approve a candidate without a person (off by default).
    pub auto_approve: cratedigger_music::ranking::AutoApprovePolicy,
    /// Write filed tracks into Rekordbox's master.db (a playlist per sync), from the
    /// scheduler, with the `[rekordbox]` settings (`CRATEDIGGER__REKORDBOX__*`). Off by
    /// default: writing into a DJ's library is opted into, never assumed.
    pub rekordbox: bool,
    /// How often the scheduler writes newly filed tracks into Rekordbox.
    pub rekordbox_interval_secs: u64,
}

impl Default for AcquisitionSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            discover_unmatched: true,
            library_dir: "library".into(),
            staging_dir: "staging".into(),
            path_template: cratedigger_music::filing::DEFAULT_TEMPLATE.into(),
            discovery_deadline_secs: 60,
            top_n: 5,
            stall_timeout_secs: 60,
            download_timeout_secs: 1800,
            max_file_mb: 1024,
            download_concurrency: BTreeMap::new(),
            disk_limit_pct: 80.0,
            analysis_concurrency: 2,
            duration_tolerance_secs: 5.0,
            fake_lossless_reject_confidence: 0.7,
            ranking: Default::default(),
            auto_approve: Default::default(),
            rekordbox: false,
            rekordbox_interval_secs: 30,
        }
    }
}

impl AcquisitionSettings {
    /// Downloads at once for `source`.
    pub fn concurrency_for(&self, source: &str) -> usize {
        self.download_concurrency
            .get(source)
            .copied()
            .unwrap_or(2)
            .max(1)
    }
}

/// Why the settings could not be loaded; names the file or variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration is invalid: {0}")]
pub struct SettingsError(#[from] config::ConfigError);

impl Settings {
    /// Loads defaults, then `file` (if given; `CRATEDIGGER_CONFIG` otherwise), then the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        let mut builder = config::Config::builder();
        let env_file = std::env::var("CRATEDIGGER_CONFIG").ok();
        if let Some(path) = file.map(|p| p.to_path_buf()).or(env_file.map(Into::into)) {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("CRATEDIGGER")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let settings: Settings = builder.build()?.try_deserialize()?;
        Ok(settings)
    }

    /// Platform precedence for merging, defaulting to the registry order.
    pub fn precedence(&self) -> Vec<String> {
        if self.matching.precedence.is_empty() {
            vec!["musicbrainz".into(), "deezer".into()]
        } else {
            self.matching.precedence.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_local() {
        let s = Settings::default();
        assert!(s.api.bind.starts_with("127.0.0.1"));
        assert!(s.database.url.contains("127.0.0.1"));
        assert_eq!(s.queue.lease_ms, 10_000);
    }

    #[test]
    fn file_then_environment_override() {
        let dir = std::env::temp_dir().join(format!("cd-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "[database]\nurl = \"postgres://file/db\"\n[workers]\nconcurrency = 3\n",
        )
        .unwrap();
        let s = Settings::load(Some(&file)).unwrap();
        assert_eq!(s.database.url, "postgres://file/db");
        assert_eq!(s.workers.concurrency, 3);
        let err = Settings::load(Some(&dir.join("missing.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.toml"), "{err}");
    }

    #[test]
    fn matching_defaults_and_overrides() {
        let m = MatchingSettings::default();
        assert_eq!(m.key_notation, KeyNotation::Camelot);
        assert_eq!(m.bpm_precedence[0], "beatport");
        assert!(
            m.genre_ranges
                .as_slice()
                .iter()
                .any(|r| r.genre == "dubstep")
        );
        let dir = std::env::temp_dir().join(format!("cd-matching-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // An old config naming only thresholds keeps every new default.
        let old = dir.join("old.toml");
        std::fs::write(&old, "[matching.thresholds]\naccept = 0.9\n").unwrap();
        let s = Settings::load(Some(&old)).unwrap();
        assert_eq!(s.matching.thresholds.accept, 0.9);
        assert_eq!(s.matching.key_notation, KeyNotation::Camelot);
        assert_eq!(s.matching.field_precedence["key"][0], "beatport");
        // A new config sets them.
        let new = dir.join("new.toml");
        std::fs::write(
            &new,
            "[matching]\nkey_notation = \"open_key\"\nbpm_precedence = [\"spotify\"]\n\
             [matching.field_precedence]\nlabel = [\"deezer\"]\n\
             [[matching.genre_ranges]]\ngenre = \"baile funk\"\nmin = 125\nmax = 135\n",
        )
        .unwrap();
        let s = Settings::load(Some(&new)).unwrap();
        assert_eq!(s.matching.key_notation, KeyNotation::OpenKey);
        assert_eq!(s.matching.bpm_precedence, ["spotify"]);
        assert_eq!(s.matching.field_precedence["label"], ["deezer"]);
        assert_eq!(s.matching.genre_ranges.as_slice().len(), 1);
        let p = s.precedence();
        let policy = s.matching.merge_policy(&p);
        assert_eq!(policy.order_for("label")[0], "deezer");
        assert_eq!(policy.order_for("bpm")[0], "spotify");
        // A notation we do not know is refused with its name.
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[matching]\nkey_notation = \"lydian\"\n").unwrap();
        let err = Settings::load(Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("lydian"), "{err}");
    }

    #[test]
    fn token_is_never_printed() {
        let mut s = Settings::default();
        s.api.token = Some("s3cret".into());
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&s).unwrap().contains("s3cret"));
    }
}
