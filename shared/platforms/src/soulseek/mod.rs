//! Soulseek through the user's slskd daemon (REST API `/api/v0`, header `X-API-Key`).
//!
//! - **find**: one slskd search (`POST /api/v0/searches` with an id we choose), its state
//!   polled (`GET /api/v0/searches/{id}`) until complete or our deadline, its responses read
//!   (`GET /api/v0/searches/{id}/responses`) and mapped to candidates, then the search is
//!   deleted so slskd's list stays clean.
//! - **download**: enqueue (`POST /api/v0/transfers/downloads/{username}`), follow the
//!   transfer with progress, stall and overall timeouts (cancel = `DELETE`), then move the
//!   file slskd saved under its downloads directory (shared with the fleet as a volume) to
//!   the caller's `dest`.
//!
//! **Etiquette** ([`budget`]): the Soulseek server bans clients that search too fast for about
//! 30 minutes, and one account / IP means one budget for the whole fleet. Every search goes
//! through a fleet-wide budget in Redis: 34 searches per 220 s (sldl's empirical limit), at
//! least 5 s after a search that found nothing, and one search at a time (slskd >= 0.24
//! answers 429 to concurrent requests). A suspected server ban pauses every worker's
//! Soulseek work for 30 minutes and says so in one sentence ([`soulseek_paused_until`]).
//!
//! Without an API key (`CRATEDIGGER__SOURCES__SOULSEEK__API_KEY`) the source is left out of
//! the registry with one clear line.

pub mod budget;
mod client;
pub mod models;

pub use budget::{
    BudgetConfig, Gate, SearchBudget, SearchOutcome, SearchPermit, WaitReason, log_key,
    pause_sentence, paused_key,
};
pub use client::{
    AUTH_REFUSED, ID, Soulseek, SoulseekStatus, TransferState, local_path_in, map_responses,
    safe_component, search_text, soulseek_paused_until,
};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Environment variable holding slskd's API key (the `config` crate maps it onto
/// `sources.soulseek.api_key`).
pub const API_KEY_ENV: &str = "CRATEDIGGER__SOURCES__SOULSEEK__API_KEY";

/// Soulseek (slskd) settings. The API key is a secret: environment only, never serialised,
/// redacted in `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoulseekConfig {
    /// Off removes the source from the registry (it is also left out without an API key).
    pub enabled: bool,
    /// slskd's scheme, host and port, without `/api/v0` (tests point it at a fake).
    pub base_url: String,
    /// slskd API key, sent as `X-API-Key`. Environment only.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// Whole-request timeout of one call to slskd, in seconds.
    pub timeout_secs: u64,
    /// slskd's downloads directory as the fleet sees it (a volume shared with slskd): slskd
    /// saves a finished file as `<downloads_dir>/<remote parent folder>/<file name>`.
    pub downloads_dir: PathBuf,
    /// slskd's incomplete directory as the fleet sees it, if shared: the partial file of a
    /// cancelled transfer is removed from there. `None` leaves partial files to slskd.
    pub incomplete_dir: Option<PathBuf>,
    /// slskd's own search timeout (seconds after the last response; slskd's default 15).
    pub search_timeout_secs: u32,
    /// Longest we follow one search before reading what arrived, in seconds.
    pub search_deadline_secs: u64,
    /// Peer responses after which slskd ends the search.
    pub response_limit: u32,
    /// Files after which slskd ends the search.
    pub file_limit: u32,
    /// Most candidates kept from one search (responses are untrusted and can be huge).
    pub max_candidates: usize,
    /// How often a search's or a transfer's state is read, in milliseconds.
    pub poll_interval_ms: u64,
    /// Searches allowed per window, fleet-wide (sldl's empirical 34).
    pub searches_per_window: u32,
    /// The window, in seconds (sldl's empirical 220).
    pub window_secs: f64,
    /// Quiet time after a search that found nothing, in seconds (Soularr's 5 s: rapid
    /// empty searches get clients banned).
    pub empty_result_gap_secs: f64,
    /// How long a suspected server ban pauses the fleet's Soulseek work, in seconds.
    pub ban_pause_secs: u64,
    /// Errored searches in a row that count as a ban even while slskd says it is logged in.
    pub ban_after_errors: u32,
    /// Longest a caller waits for the budget or for the search slot before it gets a
    /// rate-limit error with the wait (the scout re-queues; no worker sleeps for minutes).
    pub max_wait_secs: u64,
}

impl Default for SoulseekConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "http://127.0.0.1:5030".into(),
            api_key: None,
            timeout_secs: 15,
            downloads_dir: PathBuf::from("/app/downloads"),
            incomplete_dir: None,
            search_timeout_secs: 15,
            search_deadline_secs: 60,
            response_limit: 100,
            file_limit: 10_000,
            max_candidates: 1_000,
            poll_interval_ms: 1_000,
            searches_per_window: 34,
            window_secs: 220.0,
            empty_result_gap_secs: 5.0,
            ban_pause_secs: 30 * 60,
            ban_after_errors: 3,
            max_wait_secs: 30,
        }
    }
}

impl SoulseekConfig {
    /// The configured API key, if it is not blank.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// The budget part of the settings.
    pub fn budget(&self) -> BudgetConfig {
        BudgetConfig::from_soulseek(self)
    }
}

impl std::fmt::Debug for SoulseekConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoulseekConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("downloads_dir", &self.downloads_dir)
            .field("incomplete_dir", &self.incomplete_dir)
            .field("search_timeout_secs", &self.search_timeout_secs)
            .field("search_deadline_secs", &self.search_deadline_secs)
            .field("response_limit", &self.response_limit)
            .field("file_limit", &self.file_limit)
            .field("max_candidates", &self.max_candidates)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("searches_per_window", &self.searches_per_window)
            .field("window_secs", &self.window_secs)
            .field("empty_result_gap_secs", &self.empty_result_gap_secs)
            .field("ban_pause_secs", &self.ban_pause_secs)
            .field("ban_after_errors", &self.ban_after_errors)
            .field("max_wait_secs", &self.max_wait_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_never_printed_or_serialised() {
        let c = SoulseekConfig {
            api_key: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&c).unwrap().contains("s3cret"));
        assert_eq!(c.api_key(), Some("s3cret"));
        let blank = SoulseekConfig {
            api_key: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(blank.api_key(), None);
    }

    #[test]
    fn defaults_follow_the_soulseek_etiquette() {
        let c = SoulseekConfig::default();
        assert_eq!(c.searches_per_window, 34);
        assert_eq!(c.window_secs, 220.0);
        assert_eq!(c.empty_result_gap_secs, 5.0);
        assert_eq!(c.ban_pause_secs, 1800);
        let partial: SoulseekConfig =
            serde_json::from_str(r#"{"base_url":"http://127.0.0.1:9","searches_per_window":10}"#)
                .unwrap();
        assert_eq!(partial.searches_per_window, 10);
        assert_eq!(partial.window_secs, 220.0);
    }
}
