//! The consolidator's half of acquisition: the state machine from `resolved` to `filed`.
//! Every function here runs inside the consolidator's job transaction ([`JobTx`]) and
//! returns the next job to enqueue after the commit; a guard on the item's state (and on
//! the candidate in hand) makes a stale or repeated finding change nothing.
//!
//! ```text
//! resolved ─► discovering ─► ranked ─┬─(auto-approve)──────────► downloading ─► verifying ─► filed
//!                                    └─► awaiting_approval ─(person)─┘   ▲   │          │
//!                                                                        └───┴── next candidate (failed / rejected file)
//! ```

use crate::consolidator::{record_skipped, store_error};
use crate::fleet::{Fleet, enqueue_next};
use crate::settings::Settings;
use cratedigger_domain::acquisition::{RankedCandidate, SourceCandidate, TrackTags};
use cratedigger_domain::jobs::{
    AnalysisJob, DiscoveryJob, DownloadJob, DownloadOutcome, Envelope, MetadataJob, SourceReport,
};
use cratedigger_domain::{ErrorClass, ItemState, Lane, WantedTrack};
use cratedigger_fleet::JobError;
use cratedigger_music::ranking::{self, PeerReputation, RankingContext};
use cratedigger_store::{CandidateRow, CandidateState, JobTx, NewLibraryFile, PeerOutcome};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Most candidates stored per item (the best ones; the rest are counted in the event).
const MAX_STORED_CANDIDATES: usize = 100;

/// The job the consolidator enqueues after committing.
#[derive(Debug)]
pub enum Next {
    /// Query the metadata platforms.
    Metadata(Box<Envelope<MetadataJob>>),
    /// Ask the acquisition sources.
    Discovery(Box<Envelope<DiscoveryJob>>),
    /// Fetch a candidate.
    Download(Box<Envelope<DownloadJob>>),
    /// Verify and tag a staged file.
    Analysis(Box<Envelope<AnalysisJob>>),
}

impl Next {
    /// Puts the job on its queue, in the item's lane.
    pub async fn enqueue(&self, fleet: &Fleet, lane: Lane) -> Result<(), JobError> {
        match self {
            Next::Metadata(e) => enqueue_next(&fleet.metadata, lane, e).await,
            Next::Discovery(e) => enqueue_next(&fleet.discovery, lane, e).await,
            Next::Download(e) => enqueue_next(&fleet.download, lane, e).await,
            Next::Analysis(e) => enqueue_next(&fleet.analysis, lane, e).await,
        }
    }
}

/// The discovery job of an item (stable id: the reconciler and a redelivery name the same job).
pub fn discovery_job(sync_id: Uuid, item_id: Uuid, target: WantedTrack) -> Envelope<DiscoveryJob> {
    Envelope::with_stable_id(
        &format!("item:{item_id}:discovery"),
        DiscoveryJob {
            sync_id,
            item_id,
            target,
        },
    )
}

/// The download job of one candidate of an item.
pub fn download_job(
    sync_id: Uuid,
    item_id: Uuid,
    candidate_id: Uuid,
    candidate: SourceCandidate,
    target: WantedTrack,
) -> Envelope<DownloadJob> {
    Envelope::with_stable_id(
        &format!("item:{item_id}:download:{candidate_id}"),
        DownloadJob {
            sync_id,
            item_id,
            candidate_id,
            candidate,
            target,
        },
    )
}

/// The analysis job of one staged file.
pub fn analysis_job(
    sync_id: Uuid,
    item_id: Uuid,
    candidate_id: Uuid,
    candidate: SourceCandidate,
    staged_path: String,
    target: WantedTrack,
    tags: TrackTags,
) -> Envelope<AnalysisJob> {
    Envelope::with_stable_id(
        &format!("item:{item_id}:analysis:{candidate_id}"),
        AnalysisJob {
            sync_id,
            item_id,
            candidate_id,
            candidate,
            staged_path,
            target,
            tags,
        },
    )
}

/// What discovery looks for when research resolved a track: the canonical fields (the
/// wanted line fills what the track lacks).
pub fn target_from_tags(
    tags: &TrackTags,
    wanted: &WantedTrack,
    duration_ms: Option<u32>,
) -> WantedTrack {
    WantedTrack {
        artist: tags.artist.clone(),
        title: tags.title.clone(),
        mix: tags.mix.clone().or_else(|| wanted.mix.clone()),
        album: tags.album.clone().or_else(|| wanted.album.clone()),
        isrc: tags.isrc.clone().or_else(|| wanted.isrc.clone()),
        catalog: tags
            .catalog_number
            .clone()
            .or_else(|| wanted.catalog.clone()),
        label: tags.label.clone().or_else(|| wanted.label.clone()),
        duration_ms: duration_ms.or(wanted.duration_ms),
    }
}

/// Tags from the discovery target, for a file whose metadata research could not confirm.
pub fn tags_from_target(t: &WantedTrack) -> TrackTags {
    TrackTags {
        title: t.title.clone(),
        artist: t.artist.clone(),
        mix: t.mix.clone(),
        album: t.album.clone(),
        label: t.label.clone(),
        catalog_number: t.catalog.clone(),
        isrc: t.isrc.clone(),
        ..Default::default()
    }
}

/// Moves the item from `from` to `discovering`, stores the target and returns the job.
pub async fn start_discovery(
    tx: &mut JobTx,
    job_id: Uuid,
    sync_id: Uuid,
    item_id: Uuid,
    from: ItemState,
    target: WantedTrack,
    reason: Option<&str>,
) -> Result<Option<Next>, JobError> {
    let moved = tx
        .transition(
            item_id,
            &[from],
            ItemState::Discovering,
            reason,
            None,
            job_id,
        )
        .await
        .map_err(store_error)?;
    if !moved {
        return Ok(None);
    }
    tx.set_acquisition_target(item_id, &target)
        .await
        .map_err(store_error)?;
    Ok(Some(Next::Discovery(Box::new(discovery_job(
        sync_id, item_id, target,
    )))))
}

/// Display names of sources in sentences.
fn source_name(id: &str) -> &str {
    match id {
        "soulseek" => "Soulseek",
        "bandcamp" => "Bandcamp",
        "soundcloud" => "SoundCloud",
        "youtube" => "YouTube",
        "beatport" => "Beatport",
        "stores" => "the stores",
        other => other,
    }
}

/// Ranks the reports' candidates, stores them, and moves the item to `awaiting_approval`
/// (or straight to `downloading` when the auto-approve policy picks one, or `failed` when
/// nothing can be downloaded — with the buy options named).
pub async fn apply_discovered(
    tx: &mut JobTx,
    settings: &Settings,
    job_id: Uuid,
    sync_id: Uuid,
    item_id: Uuid,
    target: &WantedTrack,
    reports: &[SourceReport],
) -> Result<Option<Next>, JobError> {
    if tx.item_state(item_id).await.map_err(store_error)? != Some(ItemState::Discovering) {
        return Ok(None);
    }
    let skipped = record_skipped(tx, item_id, reports.iter().map(|r| r.failure.as_ref())).await?;
    let candidates: Vec<SourceCandidate> = reports
        .iter()
        .flat_map(|r| r.candidates.iter().cloned())
        .collect();
    let found = candidates.len();
    let ctx = ranking_context(tx, reports, &candidates).await?;
    // The sync's own policy (the lead's reading of the person's words) only tightens the
    // configured one (`sync_policy`).
    let sync_policy: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT policy FROM syncs WHERE id = $1")
            .bind(sync_id)
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| {
                store_error(cratedigger_store::StoreError::Database {
                    op: "apply_discovered: read the sync's policy",
                    source: e,
                })
            })?
            .flatten();
    let (ranking_policy, approve_policy) =
        crate::sync_policy::SyncPolicy::from_json(sync_policy.as_ref())
            .unwrap_or_default()
            .tighten(
                &settings.acquisition.ranking,
                &settings.acquisition.auto_approve,
            );
    let mut ranked = ranking::rank(target, candidates, &ctx, &ranking_policy);
    ranked.truncate(MAX_STORED_CANDIDATES);
    let mut next_rank = 0;
    let ranks: Vec<Option<i32>> = ranked
        .iter()
        .map(|r| {
            (r.rejected.is_none() && r.candidate.is_downloadable()).then(|| {
                next_rank += 1;
                next_rank
            })
        })
        .collect();
    let ids = tx
        .store_candidates(item_id, &ranked, &ranks)
        .await
        .map_err(store_error)?;
    let searched: Vec<&str> = reports.iter().map(|r| source_name(&r.source)).collect();
    let summary = json!({
        "found": found,
        "downloadable": next_rank,
        "searched": searched,
        "skipped": skipped,
    });
    tx.transition(
        item_id,
        &[ItemState::Discovering],
        ItemState::Ranked,
        None,
        Some(summary),
        job_id,
    )
    .await
    .map_err(store_error)?;
    if next_rank == 0 {
        let reason = explain_nothing_downloadable(target, &ranked, &searched, reports);
        tx.transition(
            item_id,
            &[ItemState::Ranked],
            ItemState::Failed,
            Some(&reason),
            None,
            job_id,
        )
        .await
        .map_err(store_error)?;
        return Ok(None);
    }
    if let Some(choice) = approve_policy.auto_approve(&ranked)
        && ranks.get(choice.index).copied().flatten().is_some()
    {
        let pos = choice.index;
        let rank = ranks[pos].unwrap_or_default();
        let reason = format!("auto-approved candidate #{rank}: {}", choice.reason);
        return begin_download(
            tx,
            job_id,
            sync_id,
            item_id,
            ItemState::Ranked,
            ids[pos],
            ranked[pos].candidate.clone(),
            target.clone(),
            &reason,
        )
        .await;
    }
    let top = (next_rank as usize).min(settings.acquisition.top_n.max(1));
    let reason = format!(
        "{top} of {next_rank} downloadable copies are ready for review: `cratedigger review` or `cratedigger approve {item_id} N`"
    );
    tx.transition(
        item_id,
        &[ItemState::Ranked],
        ItemState::AwaitingApproval,
        Some(&reason),
        None,
        job_id,
    )
    .await
    .map_err(store_error)?;
    Ok(None)
}

/// The sentence for an item no source can supply: what was searched, what was skipped,
/// and the best buy option when there is one.
fn explain_nothing_downloadable(
    target: &WantedTrack,
    ranked: &[RankedCandidate],
    searched: &[&str],
    reports: &[SourceReport],
) -> String {
    let mut reason = format!(
        "No downloadable copy of '{}' passed the checks on {}",
        target.display(),
        searched.join(", ")
    );
    let rejected = ranked.iter().filter(|r| r.rejected.is_some()).count();
    if rejected > 0 {
        reason.push_str(&format!(
            " ({rejected} found but filtered out by the required conditions)"
        ));
    }
    let skipped: Vec<String> = reports
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .map(|f| format!("{} skipped: {}", source_name(&f.platform), f.class))
        .collect();
    if !skipped.is_empty() {
        reason.push_str(&format!("; {}", skipped.join("; ")));
    }
    if let Some(buy) = ranked.iter().find(|r| {
        r.rejected.is_none() && !r.candidate.is_downloadable() && r.candidate.url.is_some()
    }) {
        reason.push_str(&format!(
            "; it can be bought on {}: {}",
            source_name(&buy.candidate.source),
            buy.candidate.url.as_deref().unwrap_or_default()
        ));
    }
    reason
}

/// Source trust (from the discovery reports) and the reputation of every peer offering a
/// candidate (from Postgres).
async fn ranking_context(
    tx: &mut JobTx,
    reports: &[SourceReport],
    candidates: &[SourceCandidate],
) -> Result<RankingContext, JobError> {
    let mut trust = HashMap::new();
    for r in reports {
        if let Some(t) = r.trust {
            trust.insert(r.source.clone(), t);
        }
    }
    let mut by_source: HashMap<&str, Vec<String>> = HashMap::new();
    for c in candidates {
        if let Some(p) = &c.peer {
            let names = by_source.entry(c.source.as_str()).or_default();
            if !names.contains(&p.username) {
                names.push(p.username.clone());
            }
        }
    }
    let mut peers = HashMap::new();
    for (source, names) in by_source {
        for (name, rec) in tx.peer_records(source, &names).await.map_err(store_error)? {
            peers.insert(
                name,
                PeerReputation {
                    completed: rec.completed.max(0) as u32,
                    failures: rec.failures.max(0) as u32,
                    stalls: rec.stalls.max(0) as u32,
                    fakes: rec.fakes.max(0) as u32,
                },
            );
        }
    }
    Ok(RankingContext {
        source_trust: trust,
        peers,
    })
}

/// Marks the candidate as being fetched, moves the item to `downloading` and returns the job.
#[allow(clippy::too_many_arguments)]
async fn begin_download(
    tx: &mut JobTx,
    job_id: Uuid,
    sync_id: Uuid,
    item_id: Uuid,
    from: ItemState,
    candidate_id: Uuid,
    candidate: SourceCandidate,
    target: WantedTrack,
    reason: &str,
) -> Result<Option<Next>, JobError> {
    let moved = tx
        .transition(
            item_id,
            &[from],
            ItemState::Downloading,
            None,
            Some(json!({ "candidate": candidate_id, "source": candidate.source, "why": reason })),
            job_id,
        )
        .await
        .map_err(store_error)?;
    if !moved {
        return Ok(None);
    }
    tx.set_candidate_state(candidate_id, CandidateState::Downloading, None)
        .await
        .map_err(store_error)?;
    tx.set_item_candidate(item_id, Some(candidate_id))
        .await
        .map_err(store_error)?;
    Ok(Some(Next::Download(Box::new(download_job(
        sync_id,
        item_id,
        candidate_id,
        candidate,
        target,
    )))))
}

/// A person chose candidate `rank` of an item waiting for approval.
pub async fn apply_approved(
    tx: &mut JobTx,
    job_id: Uuid,
    item_id: Uuid,
    rank: u32,
    by: &str,
) -> Result<Option<Next>, JobError> {
    let state = tx.item_state(item_id).await.map_err(store_error)?;
    if state != Some(ItemState::AwaitingApproval) {
        tracing::info!(%item_id, ?state, "approval ignored: the item is not waiting for one");
        return Ok(None);
    }
    let Ok(rank_i) = i32::try_from(rank) else {
        return Ok(None);
    };
    let Some(c) = tx
        .candidate_by_rank(item_id, rank_i)
        .await
        .map_err(store_error)?
    else {
        tracing::info!(%item_id, rank, "approval ignored: no candidate of that rank");
        return Ok(None);
    };
    if c.state != CandidateState::Offered {
        return Ok(None);
    }
    let Some((sync_id, target, _, _)) = tx.acquisition_state(item_id).await.map_err(store_error)?
    else {
        return Ok(None);
    };
    let target = target.unwrap_or_default();
    begin_download(
        tx,
        job_id,
        sync_id,
        item_id,
        ItemState::AwaitingApproval,
        c.id,
        c.candidate,
        target,
        &format!("approved candidate #{rank} ({by})"),
    )
    .await
}

/// A person rejected every candidate: the item fails with who and why, nothing downloaded.
pub async fn apply_rejected(
    tx: &mut JobTx,
    job_id: Uuid,
    item_id: Uuid,
    by: &str,
    reason: Option<&str>,
) -> Result<(), JobError> {
    let sentence = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => format!("Rejected by {by}: {r}; nothing was downloaded"),
        None => format!("Rejected by {by}; nothing was downloaded"),
    };
    tx.transition(
        item_id,
        &[ItemState::AwaitingApproval],
        ItemState::Failed,
        Some(&sentence),
        None,
        job_id,
    )
    .await
    .map_err(store_error)?;
    Ok(())
}

/// The item's candidate in hand, when it is `candidate_id` and the item is in `state`.
async fn candidate_in_hand(
    tx: &mut JobTx,
    item_id: Uuid,
    candidate_id: Uuid,
    state: ItemState,
) -> Result<Option<(CandidateRow, Uuid, WantedTrack, Option<Uuid>)>, JobError> {
    if tx.item_state(item_id).await.map_err(store_error)? != Some(state) {
        return Ok(None);
    }
    let Some((sync_id, target, current, track_id)) =
        tx.acquisition_state(item_id).await.map_err(store_error)?
    else {
        return Ok(None);
    };
    if current != Some(candidate_id) {
        return Ok(None);
    }
    let Some(row) = tx.candidate(candidate_id).await.map_err(store_error)? else {
        return Ok(None);
    };
    Ok(Some((row, sync_id, target.unwrap_or_default(), track_id)))
}

/// After a failed download or a rejected file: the next candidate, or `failed` when none is
/// left (degraded mode).
async fn try_next(
    tx: &mut JobTx,
    job_id: Uuid,
    sync_id: Uuid,
    item_id: Uuid,
    from: ItemState,
    target: WantedTrack,
    what_failed: &str,
) -> Result<Option<Next>, JobError> {
    match tx.next_candidate(item_id).await.map_err(store_error)? {
        Some(c) => {
            let rank = c.rank.unwrap_or_default();
            begin_download(
                tx,
                job_id,
                sync_id,
                item_id,
                from,
                c.id,
                c.candidate,
                target,
                &format!("{what_failed}; trying candidate #{rank}"),
            )
            .await
        }
        None => {
            tx.set_item_candidate(item_id, None)
                .await
                .map_err(store_error)?;
            let reason = format!(
                "No good copy of '{}' could be fetched: {what_failed}, and no other candidate is left",
                target.display()
            );
            tx.transition(
                item_id,
                &[from],
                ItemState::Failed,
                Some(&reason),
                None,
                job_id,
            )
            .await
            .map_err(store_error)?;
            Ok(None)
        }
    }
}

fn peer_of(c: &SourceCandidate) -> Option<&str> {
    c.peer.as_ref().map(|p| p.username.as_str())
}

/// The acquisition scout's report: on to verification, or on to the next candidate.
pub async fn apply_downloaded(
    tx: &mut JobTx,
    job_id: Uuid,
    item_id: Uuid,
    candidate_id: Uuid,
    outcome: &DownloadOutcome,
) -> Result<Option<Next>, JobError> {
    let Some((row, sync_id, target, track_id)) =
        candidate_in_hand(tx, item_id, candidate_id, ItemState::Downloading).await?
    else {
        return Ok(None);
    };
    match outcome {
        DownloadOutcome::Staged { path, bytes } => {
            tx.set_candidate_state(candidate_id, CandidateState::Downloaded, None)
                .await
                .map_err(store_error)?;
            tx.set_staged_path(candidate_id, path)
                .await
                .map_err(store_error)?;
            tx.transition(
                item_id,
                &[ItemState::Downloading],
                ItemState::Verifying,
                None,
                Some(json!({ "bytes": bytes })),
                job_id,
            )
            .await
            .map_err(store_error)?;
            let tags = match track_id {
                Some(t) => tx.track_tags(t).await.map_err(store_error)?,
                None => None,
            }
            .unwrap_or_else(|| tags_from_target(&target));
            Ok(Some(Next::Analysis(Box::new(analysis_job(
                sync_id,
                item_id,
                candidate_id,
                row.candidate,
                path.clone(),
                target,
                tags,
            )))))
        }
        DownloadOutcome::Failed { class, detail } => {
            let sentence = format!(
                "the download from {} failed ({class}: {})",
                source_name(&row.candidate.source),
                truncate(detail, 200)
            );
            tx.set_candidate_state(candidate_id, CandidateState::Failed, Some(&sentence))
                .await
                .map_err(store_error)?;
            if let Some(peer) = peer_of(&row.candidate) {
                let outcome = if detail.contains("stall") {
                    PeerOutcome::Stall
                } else {
                    PeerOutcome::Failure
                };
                tx.record_peer(&row.candidate.source, peer, outcome)
                    .await
                    .map_err(store_error)?;
            }
            try_next(
                tx,
                job_id,
                sync_id,
                item_id,
                ItemState::Downloading,
                target,
                &sentence,
            )
            .await
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// What the quality assessor decided, as the consolidator applies it.
#[derive(Debug, Clone)]
pub struct Verdict<'a> {
    /// The staged file.
    pub staged_path: &'a str,
    /// Passed every check and tagged.
    pub accepted: bool,
    /// Why it was rejected.
    pub reason: Option<&'a str>,
    /// The full report.
    pub report: &'a serde_json::Value,
}

/// The quality assessor's verdict: file the accepted file into the library, or send the
/// item to its next candidate (the peer's record remembers a fake).
pub async fn apply_verified(
    tx: &mut JobTx,
    settings: &Settings,
    job_id: Uuid,
    item_id: Uuid,
    candidate_id: Uuid,
    v: Verdict<'_>,
) -> Result<Option<Next>, JobError> {
    let Some((row, sync_id, target, track_id)) =
        candidate_in_hand(tx, item_id, candidate_id, ItemState::Verifying).await?
    else {
        return Ok(None);
    };
    let staged = Path::new(v.staged_path);
    if !v.accepted {
        let why = v.reason.unwrap_or("the file failed verification");
        let sentence = format!(
            "the file from {} was rejected: {why}",
            source_name(&row.candidate.source)
        );
        tx.set_candidate_state(candidate_id, CandidateState::RejectedFile, Some(&sentence))
            .await
            .map_err(store_error)?;
        if let Some(peer) = peer_of(&row.candidate) {
            tx.record_peer(&row.candidate.source, peer, PeerOutcome::Fake)
                .await
                .map_err(store_error)?;
        }
        remove_staged(staged, &settings.acquisition.staging_dir).await;
        return try_next(
            tx,
            job_id,
            sync_id,
            item_id,
            ItemState::Verifying,
            target,
            &sentence,
        )
        .await;
    }
    let tags = match track_id {
        Some(t) => tx.track_tags(t).await.map_err(store_error)?,
        None => None,
    }
    .unwrap_or_else(|| tags_from_target(&target));
    let ext = staged
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("audio")
        .to_ascii_lowercase();
    let dest = file_into_library(tx, settings, item_id, staged, &tags, &ext).await?;
    let report = v.report;
    let int = |k: &str| {
        report
            .get(k)
            .and_then(|x| x.as_i64())
            .and_then(|x| i32::try_from(x).ok())
    };
    let size = tokio::fs::metadata(&dest)
        .await
        .ok()
        .map(|m| m.len() as i64);
    let file = NewLibraryFile {
        item_id,
        track_id,
        candidate_id,
        path: dest.to_string_lossy().into_owned(),
        format: report
            .get("format")
            .or_else(|| report.get("codec"))
            .and_then(|x| x.as_str())
            .map(str::to_string),
        bitrate_kbps: int("bitrate_kbps"),
        sample_rate_hz: int("sample_rate_hz"),
        bit_depth: int("bit_depth"),
        duration_ms: int("duration_ms"),
        size_bytes: size,
        verify: report.clone(),
    };
    tx.insert_library_file(&file).await.map_err(store_error)?;
    tx.set_candidate_state(candidate_id, CandidateState::Filed, None)
        .await
        .map_err(store_error)?;
    if let Some(peer) = peer_of(&row.candidate) {
        tx.record_peer(&row.candidate.source, peer, PeerOutcome::Completed)
            .await
            .map_err(store_error)?;
    }
    tx.transition(
        item_id,
        &[ItemState::Verifying],
        ItemState::Filed,
        None,
        Some(json!({ "path": file.path, "source": row.candidate.source })),
        job_id,
    )
    .await
    .map_err(store_error)?;
    metrics::counter!("cratedigger_files_filed_total", "source" => row.candidate.source.clone())
        .increment(1);
    Ok(None)
}

/// Removes a staged file, but only one inside the staging folder.
async fn remove_staged(staged: &Path, staging: &Path) {
    if crate::filing::inside(staged, staging) {
        let _ = tokio::fs::remove_file(staged).await;
        if let Some(dir) = staged.parent() {
            let _ = tokio::fs::remove_dir(dir).await;
        }
    }
}

/// Moves a verified, tagged file from staging to its library path (from the configured
/// template, metadata sanitised by `music::filing`), picking "… (2)" when another item's file
/// has the name. A redelivered job whose file was already moved finds it there.
async fn file_into_library(
    tx: &mut JobTx,
    settings: &Settings,
    item_id: Uuid,
    staged: &Path,
    tags: &TrackTags,
    ext: &str,
) -> Result<PathBuf, JobError> {
    let acq = &settings.acquisition;
    if !crate::filing::inside(staged, &acq.staging_dir) {
        return Err(JobError::new(
            ErrorClass::BadRequest,
            format!(
                "staged file {} is not inside the staging folder",
                staged.display()
            ),
        ));
    }
    let io = |what: &str, p: &Path, e: std::io::Error| {
        JobError::new(ErrorClass::Internal, format!("{what} {}: {e}", p.display()))
    };
    for n in 1..=50u32 {
        let dest = crate::filing::library_file_path(&acq.library_dir, &acq.path_template, tags, ext, n)
            .map_err(|e| {
                JobError::new(
                    ErrorClass::BadRequest,
                    format!("the library path could not be built ({e}); check CRATEDIGGER__ACQUISITION__PATH_TEMPLATE"),
                )
            })?;
        let owner = tx
            .library_path_owner(&dest.to_string_lossy())
            .await
            .map_err(store_error)?;
        match owner {
            Some(o) if o == item_id => return Ok(dest),
            Some(_) => continue,
            None => {}
        }
        let staged_exists = tokio::fs::try_exists(staged).await.unwrap_or(false);
        if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
            if !staged_exists {
                // Moved by an earlier attempt of this job whose commit was lost.
                return Ok(dest);
            }
            continue;
        }
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| io("cannot create the library folder", parent, e))?;
        }
        if let Err(e) = tokio::fs::rename(staged, &dest).await {
            // Across filesystems: copy to a hidden partial name, then rename, so the library
            // never shows a half-copied file and a retry finds no partial under the real name.
            let mut part = dest.clone().into_os_string();
            part.push(".part");
            let part = PathBuf::from(part);
            if let Err(e2) = tokio::fs::copy(staged, &part).await {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(io(
                    &format!("cannot move ({e}) nor copy the file to"),
                    &dest,
                    e2,
                ));
            }
            tokio::fs::rename(&part, &dest)
                .await
                .map_err(|e3| io("cannot rename the copied file to", &dest, e3))?;
            let _ = tokio::fs::remove_file(staged).await;
        }
        if let Some(dir) = staged.parent() {
            let _ = tokio::fs::remove_dir(dir).await;
        }
        return Ok(dest);
    }
    Err(JobError::new(
        ErrorClass::Internal,
        "50 files with the same library name exist; check the path template",
    ))
}
