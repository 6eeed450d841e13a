//! Configuration of every binary, through the `config` crate: built-in defaults, then an
//! optional TOML file (`--config` or `CRATEDIGGER_CONFIG`), then `CRATEDIGGER__SECTION__KEY`
//! environment variables (e.g. `CRATEDIGGER__DATABASE__URL`,
//! `CRATEDIGGER__PLATFORMS__MUSICBRAINZ__BASE_URL`). Secrets (the API token, platform
//! tokens) are read from the environment only and never printed.

use cratedigger_fleet::QueueSettings;
use cratedigger_music::matching::{MatchWeights, Thresholds};
use cratedigger_platforms::PlatformsConfig;
use serde::{Deserialize, Serialize};
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
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("bind", &self.bind)
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            url: "http://127.0.0.1:8080".into(),
            token: None,
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
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 16,
            fetch_batch: 0,
            metrics_bind: "127.0.0.1:0".into(),
            idle_poll_ms: 500,
        }
    }
}

/// Match scoring configuration (weights and verdict thresholds).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchingSettings {
    /// Evidence weights.
    pub weights: MatchWeights,
    /// Accept / review thresholds.
    pub thresholds: Thresholds,
    /// Platform precedence when merging fields (first wins).
    pub precedence: Vec<String>,
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
    fn token_is_never_printed() {
        let mut s = Settings::default();
        s.api.token = Some("s3cret".into());
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&s).unwrap().contains("s3cret"));
    }
}
