//! The consolidator: the one writer of items and tracks, and the one place where the item
//! state machine lives. Every job is applied in one Postgres transaction that also records
//! the job id, so a redelivered job changes nothing (at-least-once delivery, exactly-once
//! effect). Next jobs are enqueued only after the commit; if that enqueue is lost, the
//! scheduler's reconciler re-enqueues the item.

use crate::acquisition::{self, Next};
use crate::fleet::{Fleet, decode_job, enqueue};
use crate::settings::MatchingSettings;
use crate::settings::Settings;
use cratedigger_domain::jobs::{
    self, ConsolidateJob, Envelope, MetadataJob, PlatformQuery, PlatformReport,
};
use cratedigger_domain::{ErrorClass, ItemState, Lane, PlatformTrack, WantedTrack};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use cratedigger_music::dedup::{
    DuplicateReason, LibraryEntry, fuzzy_duplicate, same_catalog_track,
};
use cratedigger_music::ids::normalize_catalog;
use cratedigger_music::matching::{self, MatchScore, Verdict};
use cratedigger_music::merge::{MergePolicy, merge_records};
use cratedigger_music::normalize::{dedup_key, mix_key, normalize_text, parse_title};
use cratedigger_store::DuplicateReason as StoreReason;
use cratedigger_store::{
    DuplicateProbe, InsertOutcome, JobTx, NewTrack, NewTrackSource, SIMILARITY_THRESHOLD,
};
use cratedigger_store::{Store, StoreError};
use futures::future::BoxFuture;
use serde_json::json;
use sqlx::Row;
use sqlx::postgres::PgRow;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The `consolidator` role.
pub struct Consolidator {
    fleet: Fleet,
    store: Store,
}

impl Consolidator {
    /// A consolidator writing to `store`.
    pub fn new(fleet: Fleet, store: Store) -> Self {
        if fleet.settings.acquisition.enabled {
            // Series exist from the start (one per configured download source).
            for id in fleet.sources().ids() {
                metrics::counter!("cratedigger_files_filed_total", "source" => id).increment(0);
            }
        }
        Self { fleet, store }
    }
}

/// A store failure as a job error: retried when the database may recover.
pub fn store_error(e: StoreError) -> JobError {
    let class = if e.is_retryable() {
        ErrorClass::Network
    } else {
        ErrorClass::Internal
    };
    JobError::new(class, format!("database: {e}"))
}

/// The job id of the metadata step of an item (stable, so the reconciler and a redelivery
/// name the same job).
pub fn metadata_job_id_key(item_id: Uuid) -> String {
    format!("item:{item_id}:metadata")
}

/// Builds the metadata job of an item from its plan.
pub fn metadata_job(
    sync_id: Uuid,
    item_id: Uuid,
    wanted: WantedTrack,
    queries: Vec<PlatformQuery>,
) -> Envelope<MetadataJob> {
    Envelope::with_stable_id(
        &metadata_job_id_key(item_id),
        MetadataJob {
            sync_id,
            item_id,
            wanted,
            queries,
        },
    )
}

impl JobHandler for Consolidator {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let fleet = self.fleet.clone();
        let store = self.store.clone();
        Box::pin(async move {
            let env: Envelope<ConsolidateJob> = decode_job(&job)?;
            let job_id = env.job_id;
            let item_id = env.body.item_id();
            let Some(mut tx) = store
                .begin_job(job_id, jobs::queues::CONSOLIDATE, Some(item_id))
                .await
                .map_err(store_error)?
            else {
                tracing::debug!(%job_id, "job already applied; nothing to do");
                return Ok(());
            };
            let settings = fleet.settings.clone();
            let next = match env.body {
                ConsolidateJob::Planned {
                    sync_id,
                    item_id,
                    wanted,
                    queries,
                    rationale,
                } => apply_planned(
                    &mut tx, job_id, sync_id, item_id, wanted, queries, rationale,
                )
                .await?
                .map(|e| Next::Metadata(Box::new(e))),
                ConsolidateJob::Researched {
                    sync_id,
                    item_id,
                    wanted,
                    mut reports,
                } => {
                    apply_researched(
                        &mut tx,
                        &settings,
                        job_id,
                        sync_id,
                        item_id,
                        &wanted,
                        &mut reports,
                    )
                    .await?
                }
                ConsolidateJob::Discovered {
                    sync_id,
                    item_id,
                    target,
                    reports,
                } => {
                    acquisition::apply_discovered(
                        &mut tx, &settings, job_id, sync_id, item_id, &target, &reports,
                    )
                    .await?
                }
                ConsolidateJob::Approved { item_id, rank, by } => {
                    acquisition::apply_approved(&mut tx, job_id, item_id, rank, &by).await?
                }
                ConsolidateJob::Rejected {
                    item_id,
                    by,
                    reason,
                } => {
                    acquisition::apply_rejected(&mut tx, job_id, item_id, &by, reason.as_deref())
                        .await?;
                    None
                }
                ConsolidateJob::Downloaded {
                    item_id,
                    candidate_id,
                    outcome,
                    ..
                } => {
                    acquisition::apply_downloaded(&mut tx, job_id, item_id, candidate_id, &outcome)
                        .await?
                }
                ConsolidateJob::Verified {
                    item_id,
                    candidate_id,
                    staged_path,
                    accepted,
                    reason,
                    report,
                    ..
                } => {
                    acquisition::apply_verified(
                        &mut tx,
                        &settings,
                        job_id,
                        item_id,
                        candidate_id,
                        acquisition::Verdict {
                            staged_path: &staged_path,
                            accepted,
                            reason: reason.as_deref(),
                            report: &report,
                        },
                    )
                    .await?
                }
                ConsolidateJob::GaveUp { item_id, reason } => {
                    let state = tx.item_state(item_id).await.map_err(store_error)?;
                    if let Some(st) = state.filter(|s| !s.is_final()) {
                        tx.transition(
                            item_id,
                            &[st],
                            ItemState::Failed,
                            Some(&reason),
                            None,
                            job_id,
                        )
                        .await
                        .map_err(store_error)?;
                    }
                    None
                }
            };
            tx.commit().await.map_err(store_error)?;
            if let Some(next) = next {
                next.enqueue(&fleet, job.lane).await?;
            }
            Ok(())
        })
    }

    fn on_give_up(&self, job: Delivery, error: JobError) -> BoxFuture<'static, ()> {
        let store = self.store.clone();
        Box::pin(async move {
            // The consolidator cannot hand this to itself again; record the failure
            // directly so the item does not wait for the reconciler.
            if let Some(item_id) = item_id_of(&job.payload) {
                let reason = format!(
                    "cratedigger could not record the result after {} attempts ({}); the details are in the dead-letter list",
                    job.attempt, error.class
                );
                if let Err(e) = store.fail_item_direct(item_id, &reason).await {
                    tracing::error!(%item_id, error = %e, "could not mark the item failed");
                }
            }
        })
    }
}

async fn apply_planned(
    tx: &mut JobTx,
    job_id: Uuid,
    sync_id: Uuid,
    item_id: Uuid,
    wanted: WantedTrack,
    queries: Vec<PlatformQuery>,
    rationale: String,
) -> Result<Option<Envelope<MetadataJob>>, JobError> {
    let moved = tx
        .transition(
            item_id,
            &[ItemState::Pending],
            ItemState::Researching,
            None,
            Some(json!({ "plan": rationale, "queries": queries })),
            job_id,
        )
        .await
        .map_err(store_error)?;
    if !moved {
        return Ok(None);
    }
    tx.set_plan(
        item_id,
        json!({ "rationale": rationale, "queries": queries }),
    )
    .await
    .map_err(store_error)?;
    Ok(Some(metadata_job(sync_id, item_id, wanted, queries)))
}

/// Display names for platform ids in sentences.
fn platform_name(id: &str) -> String {
    match id {
        "musicbrainz" => "MusicBrainz".into(),
        "deezer" => "Deezer".into(),
        "discogs" => "Discogs".into(),
        "spotify" => "Spotify".into(),
        "beatport" => "Beatport".into(),
        other => other.to_string(),
    }
}

/// "MusicBrainz, Deezer" from the reports' platforms, in order, without repeats.
fn platforms_of(reports: &[PlatformReport]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in reports {
        let name = platform_name(r.query.platform());
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The sentence a person reads when nothing matched.
pub fn explain_no_match(
    wanted: &WantedTrack,
    reports: &[PlatformReport],
    best: Option<(&PlatformTrack, &MatchScore)>,
) -> String {
    let searched = platforms_of(reports).join(", ");
    let skipped: Vec<String> = reports
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .map(|f| format!("{} skipped: {}", platform_name(&f.platform), f.class))
        .collect();
    let mut reason = match best {
        Some((cand, score)) if score.verdict == Verdict::Review => format!(
            "Only an uncertain match for '{}' was found: '{} - {}{}' on {} ({:.0} % sure); it needs a person's review",
            wanted.display(),
            cand.main_artist(),
            cand.title,
            cand.mix
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            platform_name(&cand.platform),
            score.total * 100.0
        ),
        _ => format!("No match for '{}' on {searched}", wanted.display()),
    };
    if !skipped.is_empty() {
        reason.push_str(&format!(" ({})", skipped.join("; ")));
    }
    reason
}

/// The canonical record built from the accepted candidate and the candidates that agree
/// with it (`music::merge`): per-field platform precedence from config, BPM through the
/// half/double-time rules (also stored as Rekordbox does, BPM x 100), the key parsed from any
/// notation and stored canonically (`key` column, standard notation) and in the user's
/// notation. `metadata` keeps, per field, which source gave the value and what the others
/// said (`fields`, plus the short `sources` map), the `conflicts` between sources, and
/// `review` flags for readings that could not be used (`needs_review` when a field was left
/// empty because of them): an unreadable value is never stored as a guess.
pub fn merge(
    best: &PlatformTrack,
    agreeing: &[&PlatformTrack],
    policy: &MergePolicy<'_>,
) -> NewTrack {
    let m = merge_records(best, agreeing, policy);
    let mut sources: Vec<NewTrackSource> = vec![NewTrackSource::from(best)];
    for c in agreeing {
        if !sources
            .iter()
            .any(|s| s.platform == c.platform && s.platform_id == c.platform_id)
        {
            sources.push(NewTrackSource::from(*c));
        }
    }
    let short_sources: BTreeMap<&str, &str> = m
        .fields
        .iter()
        .map(|(field, origin)| (field.as_str(), origin.source.as_str()))
        .collect();
    let metadata = json!({
        "sources": short_sources,
        "fields": m.fields,
        "conflicts": m.conflicts,
        "review": m.review,
        "needs_review": m.needs_review(),
        "bpm": m.bpm,
        "key": m.key,
    });
    NewTrack {
        dedup_key: dedup_key(&m.artist, &m.title, m.mix.as_deref()),
        norm_artist: normalize_text(&m.artist),
        norm_title: normalize_text(&m.title),
        isrc: m.isrc,
        artist: m.artist,
        title: m.title,
        mix: m.mix,
        album: m.album,
        label: m.label,
        catalog_number: m.catalog_number,
        release_date: m.release_date,
        duration_ms: m.duration_ms,
        bpm: m.bpm.as_ref().map(|b| b.value),
        key: m.key.as_ref().map(|k| k.standard.clone()),
        genre: m.genre,
        artwork_url: m.artwork_url,
        metadata,
        sources,
    }
}

async fn apply_researched(
    tx: &mut JobTx,
    settings: &Settings,
    job_id: Uuid,
    sync_id: Uuid,
    item_id: Uuid,
    wanted: &WantedTrack,
    reports: &mut [PlatformReport],
) -> Result<Option<Next>, JobError> {
    if tx.item_state(item_id).await.map_err(store_error)? != Some(ItemState::Researching) {
        return Ok(None);
    }
    record_skipped(tx, item_id, reports.iter().map(|r| r.failure.as_ref())).await?;
    // Moved out, not cloned: the reports are read only for their queries and failures after this.
    let candidates: Vec<PlatformTrack> = reports
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.candidates))
        .collect();
    let reports: &[PlatformReport] = reports;
    let weights = settings.matching.weights;
    let thresholds = settings.matching.thresholds;
    let best = matching::best(wanted, &candidates, &weights, &thresholds);
    let fail = |reason: String| (ItemState::Failed, Some(reason));
    let (to, reason, track) = match &best {
        Some((cand, score)) if score.verdict == Verdict::Accept => {
            tx.set_match(item_id, json!({ "platform": cand.platform, "platform_id": cand.platform_id, "score": score }))
                .await
                .map_err(store_error)?;
            let best_mix = mix_key(
                cand.mix
                    .as_deref()
                    .or(parse_title(&cand.title).mix.as_deref()),
            );
            let agreeing: Vec<&PlatformTrack> = candidates
                .iter()
                .filter(|c| {
                    let s = matching::score(wanted, c, &weights, &thresholds);
                    s.verdict == Verdict::Accept
                        && mix_key(c.mix.as_deref().or(parse_title(&c.title).mix.as_deref()))
                            == best_mix
                })
                .collect();
            let precedence = settings.precedence();
            let track = merge(
                cand,
                &agreeing,
                &settings.matching.merge_policy(&precedence),
            );
            let (state, reason, id) = store_or_link(tx, track, &settings.matching).await?;
            (state, reason, Some(id))
        }
        Some((cand, score)) => {
            tx.set_match(item_id, json!({ "platform": cand.platform, "platform_id": cand.platform_id, "score": score }))
                .await
                .map_err(store_error)?;
            let (s, r) = fail(explain_no_match(wanted, reports, Some((cand, score))));
            (s, r, None)
        }
        None => {
            let (s, r) = fail(explain_no_match(wanted, reports, None));
            (s, r, None)
        }
    };
    if let Some(track_id) = track {
        tx.link_track(item_id, track_id)
            .await
            .map_err(store_error)?;
    }
    let acq = &settings.acquisition;
    if acq.enabled && to == ItemState::Failed && acq.discover_unmatched && !reports.is_empty() {
        // No metadata match: look for copies with the line as written (white labels,
        // bootlegs and edits are on no platform); the history keeps why.
        let why = format!(
            "{}; searching download sources with the line as written",
            reason.as_deref().unwrap_or("No metadata match")
        );
        return acquisition::start_discovery(
            tx,
            job_id,
            sync_id,
            item_id,
            ItemState::Researching,
            wanted.clone(),
            Some(&why),
        )
        .await;
    }
    tx.transition(
        item_id,
        &[ItemState::Researching],
        to,
        reason.as_deref(),
        None,
        job_id,
    )
    .await
    .map_err(store_error)?;
    if acq.enabled
        && to == ItemState::Resolved
        && let Some(track_id) = track
    {
        let tags = tx.track_tags(track_id).await.map_err(store_error)?;
        let duration = track_duration(tx, track_id).await?;
        let target = match tags {
            Some(t) => acquisition::target_from_tags(&t, wanted, duration),
            None => wanted.clone(),
        };
        return acquisition::start_discovery(
            tx,
            job_id,
            sync_id,
            item_id,
            ItemState::Resolved,
            target,
            None,
        )
        .await;
    }
    Ok(None)
}

/// Stores which platforms or sources gave nothing and why (degraded mode); returns how many.
pub async fn record_skipped<'a>(
    tx: &mut JobTx,
    item_id: Uuid,
    failures: impl IntoIterator<Item = Option<&'a jobs::PlatformFailure>>,
) -> Result<usize, JobError> {
    let skipped: Vec<_> = failures
        .into_iter()
        .flatten()
        .map(|f| json!({ "platform": f.platform, "class": f.class, "detail": f.detail }))
        .collect();
    if !skipped.is_empty() {
        tx.set_skipped_sources(item_id, json!(skipped))
            .await
            .map_err(store_error)?;
    }
    Ok(skipped.len())
}

/// The stored track's duration (the ranking's duration check compares with it).
async fn track_duration(tx: &mut JobTx, track_id: Uuid) -> Result<Option<u32>, JobError> {
    let d: Option<i32> = sqlx::query_scalar("SELECT duration_ms FROM tracks WHERE id = $1")
        .bind(track_id)
        .fetch_optional(tx.conn())
        .await
        .map_err(|e| JobError::new(ErrorClass::Network, format!("database: {e}")))?
        .flatten();
    Ok(d.and_then(|d| u32::try_from(d).ok()))
}

/// How many fuzzy candidates are rescored per check (most similar first).
const FUZZY_LIMIT: i64 = 20;

/// Close calls kept on a new track as `possible_duplicates`.
const MAX_POSSIBLE: usize = 5;

/// Fuzzy candidates by blocking: same title part or same artist part of the dedup key
/// (`title_key` / `artist_key`, covering indexes of the music migration, read index-only),
/// then pg_trgm similarity of "artist title" above the store's threshold; only the few rows
/// above it are read from the table. The store's `similar_tracks` searches the whole trigram
/// index instead, which costs ~60 ms per probe at 1,000,000 tracks.
pub const FUZZY_CANDIDATES_SQL: &str = "
    SELECT t.id, t.artist, t.title, t.mix, t.isrc, t.catalog_number, t.duration_ms, c.sim
    FROM (
        SELECT id, similarity(norm_artist || ' ' || norm_title, $3) AS sim
        FROM tracks WHERE title_key = $1
        UNION
        SELECT id, similarity(norm_artist || ' ' || norm_title, $3) AS sim
        FROM tracks WHERE artist_key = $2
    ) c
    JOIN tracks t ON t.id = c.id
    WHERE c.sim >= $4
    ORDER BY c.sim DESC, t.id
    LIMIT $5";

/// The library's own copy of a recording the new track duplicates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LibraryMatch {
    /// The stored track.
    pub track_id: Uuid,
    /// Its artist, title and mix, for the sentence shown to the user.
    pub artist: String,
    /// Title.
    pub title: String,
    /// Mix.
    pub mix: Option<String>,
    /// Why it is the same recording.
    pub reason: DuplicateReason,
}

/// A stored track that is close but not sure enough to call a duplicate (a person may want
/// to look): kept on the new track's metadata as `possible_duplicates`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PossibleDuplicate {
    /// The stored track.
    pub track_id: Uuid,
    /// "Artist - Title (Mix)".
    pub display: String,
    /// Matcher total, 0..1.
    pub score: f32,
    /// Trigram similarity that found it, 0..1.
    pub trigram: f32,
}

/// The outcome of [`check_library`].
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LibraryCheck {
    /// The stored copy, when the track is already in the library.
    pub existing: Option<LibraryMatch>,
    /// Close stored tracks that were not sure enough.
    pub possible: Vec<PossibleDuplicate>,
}

/// The catalog key as the migration's `catalog_key()` SQL function computes it; equal to
/// `music::ids::normalize_catalog` for real catalog numbers.
const CATALOG_CANDIDATES_SQL: &str = "
    SELECT id, artist, title, mix, isrc, catalog_number, duration_ms FROM tracks
    WHERE catalog_key(catalog_number) = $1
    ORDER BY id
    LIMIT 50";

fn entry_of(track: &NewTrack) -> LibraryEntry {
    LibraryEntry {
        artist: track.artist.clone(),
        title: track.title.clone(),
        mix: track.mix.clone(),
        isrc: track.isrc.clone(),
        catalog_number: track.catalog_number.clone(),
        position: None,
        label: track.label.clone(),
        duration_ms: track.duration_ms,
    }
}

fn stored_entry(r: &PgRow) -> Result<(Uuid, LibraryEntry), StoreError> {
    let col = |e: sqlx::Error| StoreError::Undecodable {
        what: "track",
        detail: e.to_string(),
    };
    let duration: Option<i32> = r.try_get("duration_ms").map_err(col)?;
    Ok((
        r.try_get("id").map_err(col)?,
        LibraryEntry {
            artist: r.try_get("artist").map_err(col)?,
            title: r.try_get("title").map_err(col)?,
            mix: r.try_get("mix").map_err(col)?,
            isrc: r.try_get("isrc").map_err(col)?,
            catalog_number: r.try_get("catalog_number").map_err(col)?,
            duration_ms: duration.and_then(|d| u32::try_from(d).ok()),
            ..Default::default()
        },
    ))
}

/// Is `track` already in the library? In order: the same ISRC, the same normalised
/// artist/title/mix key (both `find_duplicate`), the same catalog number **and** the same
/// track on that release (a catalog number alone names a release; with no track position in
/// the platform records yet, title and mix must agree), then fuzzy candidates: tracks with
/// the same normalised title or the same main artists whose "artist title" is pg_trgm-similar,
/// rescored in process with the platform matcher, which never accepts a different mix. A
/// recording whose artist **and** title are both spelled differently is not found by the
/// fuzzy step (measured trade-off, see `FUZZY_CANDIDATES_SQL`). Reads only; the caller
/// decides what to write.
///
/// Upgrade: when the stored copy is worse than wanted (`music::quality::upgrade_decision`)
/// the item should continue as an upgrade. The library holds no files until acquisition
/// (a later issue), so there is no quality to compare yet and every hit is a duplicate.
pub async fn check_library(
    tx: &mut JobTx,
    track: &NewTrack,
    matching: &MatchingSettings,
) -> Result<LibraryCheck, StoreError> {
    let probe = DuplicateProbe {
        isrc: track.isrc.clone(),
        dedup_key: track.dedup_key.clone(),
        norm_artist: track.norm_artist.clone(),
        norm_title: track.norm_title.clone(),
        catalog_number: track.catalog_number.clone(),
    };
    if let Some(hit) = tx.find_duplicate(&probe).await? {
        let reason = match hit.reason {
            StoreReason::SameIsrc => DuplicateReason::SameIsrc,
            _ => DuplicateReason::SameKey,
        };
        return Ok(LibraryCheck {
            existing: Some(LibraryMatch {
                track_id: hit.track_id,
                artist: hit.artist,
                title: hit.title,
                mix: hit.mix,
                reason,
            }),
            possible: Vec::new(),
        });
    }
    let new = entry_of(track);
    let catalog = normalize_catalog(track.catalog_number.as_deref().unwrap_or(""));
    if !catalog.is_empty() {
        let rows = sqlx::query(CATALOG_CANDIDATES_SQL)
            .bind(&catalog)
            .fetch_all(tx.conn())
            .await
            .map_err(|e| StoreError::Database {
                op: "check_library: by catalog number",
                source: e,
            })?;
        for r in &rows {
            let (id, stored) = stored_entry(r)?;
            if let Some(by) = same_catalog_track(&new, &stored) {
                return Ok(LibraryCheck {
                    existing: Some(LibraryMatch {
                        track_id: id,
                        artist: stored.artist,
                        title: stored.title,
                        mix: stored.mix,
                        reason: DuplicateReason::SameCatalogTrack {
                            catalog: catalog.clone(),
                            by,
                        },
                    }),
                    possible: Vec::new(),
                });
            }
        }
    }
    // Fuzzy: stored tracks with the same normalised title (another spelling of the artist:
    // "DJ X" / "X", "A & B" / "A feat. B") or the same main artists (another spelling of the
    // title: "Falling" / "Fallin'"), close by pg_trgm similarity, rescored by the matcher.
    let (w, t) = (&matching.weights, &matching.thresholds);
    let mut parts = track.dedup_key.splitn(3, '|');
    let (artist_part, title_part) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let needle = format!("{} {}", track.norm_artist, track.norm_title);
    let rows = sqlx::query(FUZZY_CANDIDATES_SQL)
        .bind(title_part)
        .bind(artist_part)
        .bind(&needle)
        .bind(SIMILARITY_THRESHOLD)
        .bind(FUZZY_LIMIT)
        .fetch_all(tx.conn())
        .await
        .map_err(|e| StoreError::Database {
            op: "check_library: fuzzy candidates",
            source: e,
        })?;
    let mut possible = Vec::new();
    for r in &rows {
        let (id, stored) = stored_entry(r)?;
        let trigram: f32 = r.try_get("sim").map_err(|e| StoreError::Undecodable {
            what: "track similarity",
            detail: e.to_string(),
        })?;
        let (score, hit) = fuzzy_duplicate(&new, &stored, trigram, w, t);
        if let Some(reason) = hit {
            return Ok(LibraryCheck {
                existing: Some(LibraryMatch {
                    track_id: id,
                    artist: stored.artist,
                    title: stored.title,
                    mix: stored.mix,
                    reason,
                }),
                possible,
            });
        }
        if score.verdict == Verdict::Review && possible.len() < MAX_POSSIBLE {
            possible.push(PossibleDuplicate {
                track_id: id,
                display: display_of(&stored.artist, &stored.title, stored.mix.as_deref()),
                score: score.total,
                trigram,
            });
        }
    }
    Ok(LibraryCheck {
        existing: None,
        possible,
    })
}

fn display_of(artist: &str, title: &str, mix: Option<&str>) -> String {
    match mix.filter(|m| !m.trim().is_empty()) {
        Some(m) => format!("{artist} - {title} ({m})"),
        None => format!("{artist} - {title}"),
    }
}

/// Stores the track unless the library has it already ([`check_library`]). A duplicate
/// links the item to the stored track with the reason for the user ("Already in your
/// library as … (same ISRC)") and adds the new platform ids to that track; close calls that
/// are not sure enough are kept on the new track as `possible_duplicates`.
pub async fn store_or_link(
    tx: &mut JobTx,
    mut track: NewTrack,
    matching: &MatchingSettings,
) -> Result<(ItemState, Option<String>, Uuid), JobError> {
    let check = check_library(tx, &track, matching)
        .await
        .map_err(store_error)?;
    if let Some(hit) = check.existing {
        tx.add_track_sources(hit.track_id, &track.sources)
            .await
            .map_err(store_error)?;
        let reason = format!(
            "Already in your library as {} ({})",
            display_of(&hit.artist, &hit.title, hit.mix.as_deref()),
            hit.reason.describe()
        );
        return Ok((ItemState::Duplicate, Some(reason), hit.track_id));
    }
    if !check.possible.is_empty()
        && let Some(obj) = track.metadata.as_object_mut()
    {
        obj.insert("possible_duplicates".into(), json!(check.possible));
    }
    match tx.insert_track(track).await.map_err(store_error)? {
        InsertOutcome::Inserted(id) => Ok((ItemState::Resolved, None, id)),
        InsertOutcome::Existing { track_id, reason } => Ok((
            ItemState::Duplicate,
            Some(format!("Already in your library ({})", reason.describe())),
            track_id,
        )),
    }
}

/// Reads `body.item_id` from any job payload, for give-up reports.
pub fn item_id_of(payload: &[u8]) -> Option<Uuid> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    v.get("body")?.get("item_id")?.as_str()?.parse().ok()
}

/// Tells the consolidator that a job for an item was given up, so the item ends `failed`
/// with a sentence a person can read (the details stay in the dead-letter list).
pub fn report_give_up(
    fleet: Fleet,
    job: Delivery,
    error: JobError,
    stage: &'static str,
) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let Some(item_id) = item_id_of(&job.payload) else {
            tracing::error!(
                qid = job.qid,
                "gave up on a job without an item id; see the dead-letter list"
            );
            return;
        };
        let reason = match error.class {
            ErrorClass::Malformed | ErrorClass::BadRequest => format!(
                "cratedigger could not read this item's {stage} job: {}",
                error.message
            ),
            ErrorClass::Auth => format!("{stage} is not possible: {}", error.message),
            _ => format!(
                "Gave up on {stage} after {} attempts: {}",
                job.attempt, error.message
            ),
        };
        let env = Envelope::with_stable_id(
            &format!("item:{item_id}:gave-up:{stage}"),
            ConsolidateJob::GaveUp { item_id, reason },
        );
        let lane = if job.lane == Lane::Background {
            Lane::Background
        } else {
            job.lane
        };
        if let Err(e) = enqueue(&fleet.consolidate, lane, &env).await {
            tracing::error!(%item_id, error = %e, "could not report the give-up; the reconciler will retry the item");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cratedigger_domain::{ArtistCredit, ArtistRole};

    fn cand(platform: &str, title: &str, isrc: Option<&str>) -> PlatformTrack {
        PlatformTrack {
            platform: platform.into(),
            platform_id: format!("{platform}-1"),
            title: title.into(),
            artists: vec![ArtistCredit {
                name: "Fleetwood Mac".into(),
                role: ArtistRole::Main,
            }],
            isrc: isrc.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn merge_takes_identity_from_the_accepted_candidate_and_fills_gaps_by_precedence() {
        let mut mb = cand("musicbrainz", "Seven Wonders (extended version)", None);
        mb.release_date = Some("1987".into());
        let mut dz = cand(
            "deezer",
            "Seven Wonders (Extended Version)",
            Some("usre18700001"),
        );
        dz.bpm = Some(0.0);
        dz.label = Some("Warner".into());
        let matching = crate::settings::MatchingSettings::default();
        let precedence = vec!["musicbrainz".to_string(), "deezer".to_string()];
        let t = merge(&mb, &[&mb, &dz], &matching.merge_policy(&precedence));
        assert_eq!(t.title, "Seven Wonders");
        assert_eq!(t.mix.as_deref(), Some("extended version"));
        assert_eq!(t.isrc.as_deref(), Some("USRE18700001"));
        assert_eq!(t.label.as_deref(), Some("Warner"));
        assert_eq!(t.bpm, None, "bpm 0 means unknown");
        assert_eq!(t.metadata["sources"]["label"], "deezer");
        assert_eq!(t.metadata["sources"]["release_date"], "musicbrainz");
        assert_eq!(t.sources.len(), 2);
        assert_ne!(
            t.dedup_key,
            dedup_key("Fleetwood Mac", "Seven Wonders", None)
        );
        // Every field keeps its source and what the others said.
        assert_eq!(t.metadata["fields"]["title"]["source"], "musicbrainz");
        assert_eq!(
            t.metadata["fields"]["title"]["others"][0]["value"],
            "Seven Wonders"
        );
        assert_eq!(t.metadata["needs_review"], false);
    }

    #[test]
    fn merge_uses_field_and_bpm_precedence_and_the_users_key_notation() {
        let matching = crate::settings::MatchingSettings {
            key_notation: cratedigger_music::key::KeyNotation::OpenKey,
            ..Default::default()
        };
        let precedence = vec!["musicbrainz".to_string(), "deezer".to_string()];
        let mut mb = cand("musicbrainz", "Tusk", None);
        mb.key = Some("Am".into());
        mb.bpm = Some(150.0);
        let mut bp = cand("beatport", "Tusk", None);
        bp.key = Some("C major".into());
        bp.bpm = Some(75.0);
        bp.genre = Some("Hip-Hop".into());
        let t = merge(&mb, &[&bp], &matching.merge_policy(&precedence));
        // Key: Beatport first in the default key precedence, written in Open Key.
        assert_eq!(t.key.as_deref(), Some("C major"));
        assert_eq!(t.metadata["key"]["display"], "1d");
        assert_eq!(t.metadata["key"]["source"], "beatport");
        // BPM: Beatport first, 75 is in the hip-hop range, 150 kept as the alternative.
        assert_eq!(t.bpm, Some(75.0));
        assert_eq!(t.metadata["bpm"]["rekordbox"], 7500);
        assert_eq!(t.metadata["bpm"]["alternative"], 150.0);
        let conflicts = t.metadata["conflicts"].as_array().unwrap();
        let fields: Vec<&str> = conflicts
            .iter()
            .filter_map(|c| c["field"].as_str())
            .collect();
        assert_eq!(fields, ["bpm", "key"]);
        assert_eq!(t.sources.len(), 2);
    }

    #[test]
    fn no_match_sentence_names_the_track_platforms_and_skips() {
        let w = WantedTrack {
            artist: "Nobody".into(),
            title: "Nothing".into(),
            ..Default::default()
        };
        let reports = vec![
            PlatformReport {
                query: PlatformQuery::Search {
                    platform: "musicbrainz".into(),
                    artist: "a".into(),
                    title: "t".into(),
                },
                candidates: vec![],
                failure: None,
            },
            PlatformReport {
                query: PlatformQuery::Search {
                    platform: "deezer".into(),
                    artist: "a".into(),
                    title: "t".into(),
                },
                candidates: vec![],
                failure: Some(cratedigger_domain::jobs::PlatformFailure {
                    platform: "deezer".into(),
                    class: ErrorClass::Server,
                    detail: "500".into(),
                    attempts: 3,
                }),
            },
        ];
        let s = explain_no_match(&w, &reports, None);
        assert_eq!(
            s,
            "No match for 'Nobody - Nothing' on MusicBrainz, Deezer (Deezer skipped: server)"
        );
    }

    #[test]
    fn item_id_is_read_from_any_envelope() {
        let id = Uuid::now_v7();
        let raw =
            serde_json::to_vec(&json!({"v":1,"job_id":Uuid::nil(),"body":{"item_id":id}})).unwrap();
        assert_eq!(item_id_of(&raw), Some(id));
        assert_eq!(item_id_of(b"garbage"), None);
    }
}
