//! The consolidator: the one writer of items and tracks, and the one place where the item
//! state machine lives. Every job is applied in one Postgres transaction that also records
//! the job id, so a redelivered job changes nothing (at-least-once delivery, exactly-once
//! effect). Next jobs are enqueued only after the commit; if that enqueue is lost, the
//! scheduler's reconciler re-enqueues the item.

use crate::fleet::{Fleet, decode_job, enqueue, enqueue_next};
use crate::settings::Settings;
use cratedigger_domain::jobs::{
    self, ConsolidateJob, Envelope, MetadataJob, PlatformQuery, PlatformReport,
};
use cratedigger_domain::{ErrorClass, ItemState, Lane, PlatformTrack, WantedTrack};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use cratedigger_music::matching::{self, MatchScore, Verdict};
use cratedigger_music::normalize::{dedup_key, mix_key, normalize_text, parse_title};
use cratedigger_store::{DuplicateProbe, InsertOutcome, JobTx, NewTrack, NewTrackSource};
use cratedigger_store::{Store, StoreError};
use futures::future::BoxFuture;
use serde_json::json;
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
        Self { fleet, store }
    }
}

fn store_error(e: StoreError) -> JobError {
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
            let next = match env.body {
                ConsolidateJob::Planned {
                    sync_id,
                    item_id,
                    wanted,
                    queries,
                    rationale,
                } => {
                    apply_planned(
                        &mut tx, job_id, sync_id, item_id, wanted, queries, rationale,
                    )
                    .await?
                }
                ConsolidateJob::Researched {
                    item_id,
                    wanted,
                    reports,
                    ..
                } => {
                    apply_researched(&mut tx, &fleet.settings, job_id, item_id, &wanted, &reports)
                        .await?;
                    None
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
                enqueue_next(&fleet.metadata, job.lane, &next).await?;
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
/// with it, field by field in platform precedence order, with which source said what.
pub fn merge(best: &PlatformTrack, agreeing: &[&PlatformTrack], precedence: &[String]) -> NewTrack {
    let mut group: Vec<&PlatformTrack> = vec![best];
    group.extend(agreeing.iter().copied().filter(|c| !std::ptr::eq(*c, best)));
    let rank = |p: &str| precedence.iter().position(|x| x == p).unwrap_or(usize::MAX);
    // The accepted candidate stays first for identity fields; others fill gaps by precedence.
    group[1..].sort_by_key(|c| rank(&c.platform));

    let parsed = parse_title(&best.title);
    let mix = best
        .mix
        .clone()
        .filter(|m| !m.trim().is_empty())
        .or(parsed.mix.clone());
    let artist = best.main_artist();
    let title = if parsed.title.is_empty() {
        best.title.clone()
    } else {
        parsed.title.clone()
    };
    let mut provenance = BTreeMap::new();
    let mut pick =
        |field: &'static str, get: &dyn Fn(&PlatformTrack) -> Option<String>| -> Option<String> {
            for c in &group {
                if let Some(v) = get(c).filter(|v| !v.trim().is_empty()) {
                    provenance.insert(field, c.platform.clone());
                    return Some(v);
                }
            }
            None
        };
    let isrc = pick("isrc", &|c| {
        c.isrc
            .as_deref()
            .and_then(cratedigger_music::ids::normalize_isrc)
    });
    let album = pick("album", &|c| c.release_title.clone());
    let label = pick("label", &|c| c.label.clone());
    let catalog_number = pick("catalog_number", &|c| c.catalog_number.clone());
    let release_date = pick("release_date", &|c| c.release_date.clone());
    let genre = pick("genre", &|c| c.genre.clone());
    let artwork_url = pick("artwork_url", &|c| c.artwork_url.clone());
    let key = pick("key", &|c| {
        c.key
            .as_deref()
            .map(|k| match cratedigger_music::key::Key::parse(k) {
                Ok(key) => key.format(cratedigger_music::key::KeyNotation::Standard),
                Err(_) => k.to_string(),
            })
    });
    let duration_ms =
        pick("duration_ms", &|c| c.duration_ms.map(|d| d.to_string())).and_then(|d| d.parse().ok());
    let bpm = pick("bpm", &|c| {
        c.bpm.filter(|b| *b > 0.0).map(|b| b.to_string())
    })
    .and_then(|b| b.parse().ok());
    provenance.insert("title", best.platform.clone());
    provenance.insert("artist", best.platform.clone());

    NewTrack {
        dedup_key: dedup_key(&artist, &title, mix.as_deref()),
        norm_artist: normalize_text(&artist),
        norm_title: normalize_text(&title),
        isrc,
        artist,
        title,
        mix,
        album,
        label,
        catalog_number,
        release_date,
        duration_ms,
        bpm,
        key,
        genre,
        artwork_url,
        metadata: json!({ "sources": provenance }),
        sources: group.iter().map(|c| NewTrackSource::from(*c)).collect(),
    }
}

async fn apply_researched(
    tx: &mut JobTx,
    settings: &Settings,
    job_id: Uuid,
    item_id: Uuid,
    wanted: &WantedTrack,
    reports: &[PlatformReport],
) -> Result<(), JobError> {
    if tx.item_state(item_id).await.map_err(store_error)? != Some(ItemState::Researching) {
        return Ok(());
    }
    let skipped: Vec<_> = reports
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .map(|f| json!({ "platform": f.platform, "class": f.class, "detail": f.detail }))
        .collect();
    if !skipped.is_empty() {
        tx.set_skipped_sources(item_id, json!(skipped))
            .await
            .map_err(store_error)?;
    }
    let candidates: Vec<PlatformTrack> = reports
        .iter()
        .flat_map(|r| r.candidates.iter().cloned())
        .collect();
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
            let track = merge(cand, &agreeing, &settings.precedence());
            let (state, reason, id) = store_or_link(tx, track).await?;
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
    Ok(())
}

/// Stores the track unless the library has it already: ISRC, then the normalised
/// artist/title/mix key, then trigram-similar tracks rescored here (same mix required).
async fn store_or_link(
    tx: &mut JobTx,
    track: NewTrack,
) -> Result<(ItemState, Option<String>, Uuid), JobError> {
    let probe = DuplicateProbe {
        isrc: track.isrc.clone(),
        dedup_key: track.dedup_key.clone(),
        norm_artist: track.norm_artist.clone(),
        norm_title: track.norm_title.clone(),
        catalog_number: track.catalog_number.clone(),
    };
    let already = |artist: &str, title: &str, mix: Option<&str>, why: String| {
        let mix = mix.map(|m| format!(" ({m})")).unwrap_or_default();
        format!("Already in your library as {artist} - {title}{mix} ({why})")
    };
    if let Some(hit) = tx.find_duplicate(&probe).await.map_err(store_error)? {
        let reason = already(
            &hit.artist,
            &hit.title,
            hit.mix.as_deref(),
            hit.reason.describe(),
        );
        return Ok((ItemState::Duplicate, Some(reason), hit.track_id));
    }
    let mine = mix_key(track.mix.as_deref());
    for similar in tx
        .similar_tracks(&track.norm_artist, &track.norm_title, 5)
        .await
        .map_err(store_error)?
    {
        let same_mix = mix_key(similar.mix.as_deref()) == mine;
        let title_alike = strsim_ratio(&normalize_text(&similar.title), &track.norm_title) >= 0.92;
        let artist_alike =
            strsim_ratio(&normalize_text(&similar.artist), &track.norm_artist) >= 0.85;
        if same_mix && title_alike && artist_alike {
            let why = format!(
                "similar artist and title, {:.0} % alike",
                similar.similarity * 100.0
            );
            let reason = already(&similar.artist, &similar.title, similar.mix.as_deref(), why);
            return Ok((ItemState::Duplicate, Some(reason), similar.track_id));
        }
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

fn strsim_ratio(a: &str, b: &str) -> f64 {
    cratedigger_music::matching::token_sort_ratio(a, b) as f64
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
        let t = merge(&mb, &[&mb, &dz], &["musicbrainz".into(), "deezer".into()]);
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
