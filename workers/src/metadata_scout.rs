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
            let reports = research(&registry, &m.wanted, m.queries).await;
            if let Some(err) = all_failed_transiently(&reports) {
                return Err(err);
            }
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
