//! The metadata scout: runs every query of an item's plan concurrently (one per platform),
//! and reports all answers to the consolidator in one job. A platform that fails is
//! reported as skipped with its reason (degraded mode); the job itself is retried only
//! when every platform failed for a reason that may pass.

use crate::fleet::{Fleet, decode_job, enqueue_next, retry_if_all_failed_transiently};
use cratedigger_domain::jobs::{
    ConsolidateJob, Envelope, MetadataJob, PlatformFailure, PlatformQuery, PlatformReport,
};
use cratedigger_domain::{ErrorClass, WantedTrack};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use cratedigger_music::matching::{self, Verdict};
use cratedigger_platforms::Registry;
use futures::future::BoxFuture;
use std::sync::Arc;

/// The `metadata-scout` role.
pub struct MetadataScout {
    fleet: Fleet,
    registry: Arc<Registry>,
}

impl MetadataScout {
    /// A scout over the enabled platforms.
    pub fn new(fleet: Fleet, registry: Registry) -> Self {
        Self {
            fleet,
            registry: Arc::new(registry),
        }
    }
}

/// Runs one query against its platform.
async fn run_query(registry: &Registry, query: PlatformQuery) -> PlatformReport {
    let Some(platform) = registry.get(query.platform()) else {
        return PlatformReport {
            failure: Some(PlatformFailure {
                platform: query.platform().to_string(),
                class: ErrorClass::Auth,
                detail: format!(
                    "{} is not enabled in this worker's configuration",
                    query.platform()
                ),
                attempts: 0,
            }),
            query,
            candidates: Vec::new(),
        };
    };
    // request counts and durations are measured in the HTTP layer (one place)
    let result = match &query {
        PlatformQuery::Isrc { isrc, .. } => platform.lookup_isrc(isrc).await,
        PlatformQuery::Search { artist, title, .. } => platform.search(artist, title).await,
    };
    let id = platform.info().id;
    match result {
        Ok(candidates) => PlatformReport {
            query,
            candidates,
            failure: None,
        },
        Err(e) if e.class == ErrorClass::NotFound => PlatformReport {
            query,
            candidates: Vec::new(),
            failure: None,
        },
        Err(e) => {
            metrics::counter!("cratedigger_platform_errors_total", "platform" => id, "class" => e.class.as_str())
                .increment(1);
            tracing::warn!(platform = id, class = %e.class, error = %e, "platform query failed");
            PlatformReport {
                failure: Some(PlatformFailure {
                    platform: id.to_string(),
                    class: e.class,
                    detail: e.to_string(),
                    attempts: e.attempts,
                }),
                query,
                candidates: Vec::new(),
            }
        }
    }
}

/// Runs the plan; when ISRC lookups found nothing anywhere, searches by artist and title.
pub async fn research(
    registry: &Registry,
    wanted: &WantedTrack,
    queries: Vec<PlatformQuery>,
) -> Vec<PlatformReport> {
    let mut reports =
        futures::future::join_all(queries.iter().cloned().map(|q| run_query(registry, q))).await;
    let only_isrc = queries
        .iter()
        .all(|q| matches!(q, PlatformQuery::Isrc { .. }));
    let found = reports.iter().any(|r| !r.candidates.is_empty());
    if only_isrc && !found {
        let fallback: Vec<PlatformQuery> = queries
            .iter()
            .map(|q| PlatformQuery::Search {
                platform: q.platform().to_string(),
                artist: wanted.artist.clone(),
                title: wanted.title.clone(),
            })
            .collect();
        reports.extend(
            futures::future::join_all(fallback.into_iter().map(|q| run_query(registry, q))).await,
        );
    }
    reports
}

/// Drops the raw platform payload of every candidate the matcher would not accept for
/// `wanted`. The consolidator keeps raw payloads only as provenance of the accepted candidate
/// and the ones that agree with it (all `Accept`); the rest travelled through Redis and were
/// decoded for nothing — with ~50 candidates per item that decoding was most of the
/// consolidator's CPU in `just bench sync`. `Review` candidates keep theirs, a margin for a
/// consolidator configured with looser thresholds than this scout.
pub fn drop_unused_raw(
    reports: &mut [PlatformReport],
    wanted: &WantedTrack,
    matching: &crate::settings::MatchingSettings,
) {
    for c in reports.iter_mut().flat_map(|r| r.candidates.iter_mut()) {
        if c.raw.is_some()
            && matching::score(wanted, c, &matching.weights, &matching.thresholds).verdict
                == Verdict::Reject
        {
            c.raw = None;
        }
    }
}

/// Retry the job only when every platform failed for a reason that may pass.
fn all_failed_transiently(reports: &[PlatformReport]) -> Option<JobError> {
    retry_if_all_failed_transiently(reports.iter().map(|r| r.failure.as_ref()), "platform")
}

impl JobHandler for MetadataScout {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let fleet = self.fleet.clone();
        let registry = self.registry.clone();
        Box::pin(async move {
            let env: Envelope<MetadataJob> = decode_job(&job)?;
            let m = env.body;
            let mut reports = research(&registry, &m.wanted, m.queries).await;
            if let Some(err) = all_failed_transiently(&reports) {
                return Err(err);
            }
            drop_unused_raw(&mut reports, &m.wanted, &fleet.settings.matching);
            let report = Envelope::with_stable_id(
                &format!("item:{}:researched", m.item_id),
                ConsolidateJob::Researched {
                    sync_id: m.sync_id,
                    item_id: m.item_id,
                    wanted: m.wanted,
                    reports,
                },
            );
            enqueue_next(&fleet.consolidate, job.lane, &report).await?;
            Ok(())
        })
    }

    fn on_give_up(&self, job: Delivery, error: JobError) -> BoxFuture<'static, ()> {
        crate::consolidator::report_give_up(self.fleet.clone(), job, error, "metadata research")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(class: ErrorClass) -> PlatformReport {
        PlatformReport {
            query: PlatformQuery::Search {
                platform: "deezer".into(),
                artist: "a".into(),
                title: "t".into(),
            },
            candidates: vec![],
            failure: Some(PlatformFailure {
                platform: "deezer".into(),
                class,
                detail: format!("{class} trouble"),
                attempts: 1,
            }),
        }
    }

    fn track(title: &str, artist: &str) -> cratedigger_domain::PlatformTrack {
        cratedigger_domain::PlatformTrack {
            platform: "deezer".into(),
            platform_id: title.into(),
            title: title.into(),
            artists: vec![cratedigger_domain::ArtistCredit {
                name: artist.into(),
                role: cratedigger_domain::ArtistRole::Main,
            }],
            raw: Some(serde_json::json!({ "title": title })),
            ..Default::default()
        }
    }

    #[test]
    fn raw_payloads_travel_only_with_candidates_the_matcher_could_accept() {
        let wanted = WantedTrack {
            artist: "Fleetwood Mac".into(),
            title: "Seven Wonders".into(),
            ..Default::default()
        };
        let mut reports = vec![PlatformReport {
            failure: None,
            candidates: vec![
                track("Seven Wonders", "Fleetwood Mac"),
                track("Little Lies", "Fleetwood Mac"),
                // Same title, another artist: uncertain (Review), so it keeps its payload.
                track("Seven Wonders", "Someone Else Entirely"),
                track("Albatross", "Someone Else Entirely"),
            ],
            ..failed(ErrorClass::Server)
        }];
        drop_unused_raw(
            &mut reports,
            &wanted,
            &crate::settings::MatchingSettings::default(),
        );
        let kept: Vec<bool> = reports[0]
            .candidates
            .iter()
            .map(|c| c.raw.is_some())
            .collect();
        assert_eq!(kept, [true, false, true, false]);
        let settings = crate::settings::MatchingSettings::default();
        let verdict = |i: usize| {
            matching::score(
                &wanted,
                &reports[0].candidates[i],
                &settings.weights,
                &settings.thresholds,
            )
            .verdict
        };
        assert_eq!(verdict(0), Verdict::Accept);
        assert_eq!(verdict(2), Verdict::Review);
        // Everything else about the candidates travels unchanged.
        assert_eq!(reports[0].candidates[1].title, "Little Lies");
    }

    #[test]
    fn retries_only_when_every_platform_failed_transiently() {
        assert_eq!(
            all_failed_transiently(&[failed(ErrorClass::Server), failed(ErrorClass::RateLimit)])
                .unwrap()
                .class,
            ErrorClass::RateLimit
        );
        assert!(
            all_failed_transiently(&[failed(ErrorClass::Server), failed(ErrorClass::Auth)])
                .is_none()
        );
        let ok = PlatformReport {
            failure: None,
            ..failed(ErrorClass::Server)
        };
        assert!(all_failed_transiently(&[failed(ErrorClass::Server), ok]).is_none());
    }
}
