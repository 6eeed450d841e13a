//! Job payloads exchanged through the queues. **API boundary**: these live in Redis across
//! releases, so a rolling upgrade may hand a job written by an older or newer binary to this
//! one. Fields are only added (optional, `#[serde(default)]`); anything else bumps
//! [`SCHEMA_VERSION`], and a worker that meets a version it does not know dead-letters the
//! job with that reason instead of failing on it.

use crate::acquisition::{SourceCandidate, TrackTags};
use crate::error::ErrorClass;
use crate::track::{PlatformTrack, WantedTrack};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the job payload schema written by this binary.
pub const SCHEMA_VERSION: u32 = 1;

/// The queues (one per job family). Names are part of the Redis layout.
pub mod queues {
    /// Research lead: turns a wanted track into a plan.
    pub const RESEARCH: &str = "research";
    /// Metadata scouts: query platforms.
    pub const METADATA: &str = "metadata";
    /// Consolidator: the single writer.
    pub const CONSOLIDATE: &str = "consolidate";
    /// Discovery scouts: ask every acquisition source where a copy can be had.
    pub const DISCOVERY: &str = "discovery";
    /// Acquisition scouts: fetch the approved candidate into staging.
    pub const DOWNLOAD: &str = "download";
    /// Quality assessors: decode, check for fake lossless, tag.
    pub const ANALYSIS: &str = "analysis";
    /// Every queue the fleet knows today, for depth reports and the dead-letter CLI.
    pub const ALL: [&str; 6] = [
        RESEARCH,
        METADATA,
        CONSOLIDATE,
        DISCOVERY,
        DOWNLOAD,
        ANALYSIS,
    ];
}

/// The versioned wrapper every job body travels in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Schema version of `body` ([`SCHEMA_VERSION`] when written by this binary).
    pub v: u32,
    /// Unique job id; the consolidator records it to make redelivery a no-op.
    pub job_id: Uuid,
    /// The job itself.
    pub body: T,
}

impl<T> Envelope<T> {
    /// Wraps a body with the current schema version and a fresh id.
    pub fn new(body: T) -> Self {
        Self {
            v: SCHEMA_VERSION,
            job_id: Uuid::now_v7(),
            body,
        }
    }

    /// Wraps a body with an id derived from `key`, so that a job re-created for the same
    /// step (a scout re-run after a crash) carries the same id and is recognised as a repeat.
    pub fn with_stable_id(key: &str, body: T) -> Self {
        Self {
            v: SCHEMA_VERSION,
            job_id: Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes()),
            body,
        }
    }
}

/// Asks the research lead to plan one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResearchJob {
    /// The sync the item belongs to.
    pub sync_id: Uuid,
    /// The item to plan.
    pub item_id: Uuid,
    /// What the user wants.
    pub wanted: WantedTrack,
}

/// One platform query of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlatformQuery {
    /// Exact lookup by ISRC.
    Isrc {
        /// Platform id.
        platform: String,
        /// ISRC, normalised.
        isrc: String,
    },
    /// Search by artist and title.
    Search {
        /// Platform id.
        platform: String,
        /// Artist as wanted.
        artist: String,
        /// Title as wanted (mix included when known).
        title: String,
    },
}

impl PlatformQuery {
    /// The platform this query goes to.
    pub fn platform(&self) -> &str {
        match self {
            PlatformQuery::Isrc { platform, .. } | PlatformQuery::Search { platform, .. } => {
                platform
            }
        }
    }
}

/// Asks a metadata scout to run a plan's queries for one item, all platforms concurrently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataJob {
    /// The sync the item belongs to.
    pub sync_id: Uuid,
    /// The item being researched.
    pub item_id: Uuid,
    /// What the user wants (the scout returns candidates; the consolidator judges them).
    pub wanted: WantedTrack,
    /// The queries to run.
    pub queries: Vec<PlatformQuery>,
}

/// Why a platform gave nothing, kept on the item ("which sources were skipped and why").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformFailure {
    /// Platform id.
    pub platform: String,
    /// Error class (drives retry and the message).
    pub class: ErrorClass,
    /// Detail for logs and the job record.
    pub detail: String,
    /// Attempts made.
    pub attempts: u32,
}

/// One platform's answer to one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformReport {
    /// The query this answers.
    pub query: PlatformQuery,
    /// Candidate records (possibly empty).
    #[serde(default)]
    pub candidates: Vec<PlatformTrack>,
    /// Set when the query failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<PlatformFailure>,
}

/// Asks a discovery scout to query every enabled acquisition source for one item, all in
/// parallel, and to report when all answered or the deadline passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryJob {
    /// The sync.
    pub sync_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// What to look for: the canonical track when research resolved one, else the wanted line.
    pub target: WantedTrack,
}

/// One source's answer for one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    /// Source id.
    pub source: String,
    /// What it offers (possibly nothing).
    #[serde(default)]
    pub candidates: Vec<SourceCandidate>,
    /// Set when the source failed or was skipped (breaker open, ban pause, deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<PlatformFailure>,
    /// How much the ranking trusts this source's files, 0..=1 (from the source's own
    /// description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<f32>,
}

/// Asks an acquisition scout to fetch one approved candidate into the staging directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadJob {
    /// The sync.
    pub sync_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// The candidate row being fetched.
    pub candidate_id: Uuid,
    /// The candidate as ranked (carries the download reference).
    pub candidate: SourceCandidate,
    /// What the file should be.
    pub target: WantedTrack,
}

/// Asks a quality assessor to verify a staged file and, when it passes, tag it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisJob {
    /// The sync.
    pub sync_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// The candidate the file came from.
    pub candidate_id: Uuid,
    /// The candidate as ranked (format it claimed, peer).
    pub candidate: SourceCandidate,
    /// The staged file (a path the acquisition scout chose, inside staging).
    pub staged_path: String,
    /// What the file should be (duration check).
    pub target: WantedTrack,
    /// The tags to write when the file passes.
    pub tags: TrackTags,
}

/// How a download ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DownloadOutcome {
    /// The file is in staging.
    Staged {
        /// Path inside staging.
        path: String,
        /// Size in bytes.
        bytes: u64,
    },
    /// The transfer failed; the consolidator moves on to the next candidate.
    Failed {
        /// Error class.
        class: ErrorClass,
        /// What happened, for the item's history and the peer's record.
        detail: String,
    },
}

/// Findings reported to the consolidator, the one writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsolidateJob {
    /// The research lead's plan for an item: move it to `researching` and dispatch the scouts.
    Planned {
        /// The sync.
        sync_id: Uuid,
        /// The item.
        item_id: Uuid,
        /// Wanted track (carried so the next job needs no read).
        wanted: WantedTrack,
        /// Planned queries.
        queries: Vec<PlatformQuery>,
        /// How the plan was made, for the item's history ("ISRC first", "search").
        rationale: String,
    },
    /// The metadata scout's reports, one per platform query.
    Researched {
        /// The sync.
        sync_id: Uuid,
        /// The item.
        item_id: Uuid,
        /// Wanted track.
        wanted: WantedTrack,
        /// One report per query.
        reports: Vec<PlatformReport>,
    },
    /// The discovery scout's reports, one per acquisition source.
    Discovered {
        /// The sync.
        sync_id: Uuid,
        /// The item.
        item_id: Uuid,
        /// What was looked for.
        target: WantedTrack,
        /// One report per source.
        reports: Vec<SourceReport>,
    },
    /// A person approved a ranked candidate (CLI, API or web page).
    Approved {
        /// The item.
        item_id: Uuid,
        /// Rank of the chosen candidate (1 = best).
        rank: u32,
        /// Who approved ("cli", "api", a user name).
        by: String,
    },
    /// A person rejected every candidate of the item.
    Rejected {
        /// The item.
        item_id: Uuid,
        /// Who rejected.
        by: String,
        /// Why, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The acquisition scout finished (or gave up on) a download.
    Downloaded {
        /// The sync.
        sync_id: Uuid,
        /// The item.
        item_id: Uuid,
        /// The candidate fetched.
        candidate_id: Uuid,
        /// How it ended.
        outcome: DownloadOutcome,
    },
    /// The quality assessor's verdict on a staged file.
    Verified {
        /// The sync.
        sync_id: Uuid,
        /// The item.
        item_id: Uuid,
        /// The candidate the file came from.
        candidate_id: Uuid,
        /// The staged file (tagged when accepted).
        staged_path: String,
        /// True when the file passed every check and was tagged.
        accepted: bool,
        /// Why it was rejected (a sentence), when it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The full verification report (codec, duration, cutoff, verdict, confidence).
        report: serde_json::Value,
    },
    /// A job for this item ran out of attempts or could not be read: fail it with a reason.
    GaveUp {
        /// The item.
        item_id: Uuid,
        /// Sentence for a person.
        reason: String,
    },
}

impl ConsolidateJob {
    /// The item the findings are about.
    pub fn item_id(&self) -> Uuid {
        match self {
            ConsolidateJob::Planned { item_id, .. }
            | ConsolidateJob::Researched { item_id, .. }
            | ConsolidateJob::Discovered { item_id, .. }
            | ConsolidateJob::Approved { item_id, .. }
            | ConsolidateJob::Rejected { item_id, .. }
            | ConsolidateJob::Downloaded { item_id, .. }
            | ConsolidateJob::Verified { item_id, .. }
            | ConsolidateJob::GaveUp { item_id, .. } => *item_id,
        }
    }
}

/// What a worker can tell about a raw job it cannot handle.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// Written by a binary with a schema this one does not know (rolling upgrade).
    #[error("job schema version {found} is not supported by this worker (it knows up to {known})")]
    UnknownVersion {
        /// Version found in the payload.
        found: u32,
        /// Highest version this binary knows.
        known: u32,
    },
    /// Not JSON of the expected shape.
    #[error("job payload is not valid: {0}")]
    Invalid(String),
}

/// Reads a job payload, checking the schema version before the body so a newer job is
/// reported as such rather than as garbage.
pub fn decode<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<Envelope<T>, DecodeError> {
    #[derive(Deserialize)]
    struct VersionOnly {
        v: u32,
    }
    let version: VersionOnly =
        serde_json::from_slice(raw).map_err(|e| DecodeError::Invalid(e.to_string()))?;
    if version.v == 0 || version.v > SCHEMA_VERSION {
        return Err(DecodeError::UnknownVersion {
            found: version.v,
            known: SCHEMA_VERSION,
        });
    }
    serde_json::from_slice(raw).map_err(|e| DecodeError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn research() -> ResearchJob {
        ResearchJob {
            sync_id: Uuid::nil(),
            item_id: Uuid::nil(),
            wanted: WantedTrack {
                artist: "Bicep".into(),
                title: "Glue".into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn envelope_round_trips() {
        let env = Envelope::new(research());
        let raw = serde_json::to_vec(&env).unwrap();
        let back: Envelope<ResearchJob> = decode(&raw).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn newer_schema_is_reported_not_parsed() {
        let raw = br#"{"v":99,"job_id":"00000000-0000-0000-0000-000000000000","body":{"x":1}}"#;
        let err = decode::<ResearchJob>(raw).unwrap_err();
        assert_eq!(
            err,
            DecodeError::UnknownVersion {
                found: 99,
                known: SCHEMA_VERSION
            }
        );
        assert!(err.to_string().contains("version 99"));
    }

    #[test]
    fn garbage_is_invalid() {
        assert!(matches!(
            decode::<ResearchJob>(b"\xff\x00"),
            Err(DecodeError::Invalid(_))
        ));
        let missing = br#"{"v":1,"job_id":"00000000-0000-0000-0000-000000000000","body":{}}"#;
        let err = decode::<ResearchJob>(missing).unwrap_err().to_string();
        assert!(err.contains("missing field"), "{err}");
    }

    #[test]
    fn stable_ids_repeat() {
        let a = Envelope::with_stable_id("item:1:researched", 1u8);
        let b = Envelope::with_stable_id("item:1:researched", 1u8);
        assert_eq!(a.job_id, b.job_id);
        assert_ne!(
            a.job_id,
            Envelope::with_stable_id("item:2:researched", 1u8).job_id
        );
    }

    #[test]
    fn unknown_fields_are_tolerated_for_rolling_upgrades() {
        let raw = br#"{"v":1,"job_id":"00000000-0000-0000-0000-000000000000","future":true,
            "body":{"sync_id":"00000000-0000-0000-0000-000000000000","item_id":"00000000-0000-0000-0000-000000000000",
            "wanted":{"artist":"A","title":"T","new_field":3}}}"#;
        assert!(decode::<ResearchJob>(raw).is_ok());
    }
}
