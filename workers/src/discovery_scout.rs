//! The discovery scout: asks every enabled acquisition source where a copy of an item's
//! track can be had — all sources at once — and waits for all of them (up to a deadline)
//! before reporting, so the ranking sees every option, not just the fastest source's.
//! A source that fails or runs past the deadline is reported with its reason (degraded
//! mode); the job is retried only when every source failed for a reason that may pass.

use crate::fleet::{Fleet, decode_job, enqueue_next, retry_if_all_failed_transiently};
use cratedigger_domain::jobs::{
    ConsolidateJob, DiscoveryJob, Envelope, PlatformFailure, SourceReport,
};
use cratedigger_domain::{ErrorClass, WantedTrack};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use cratedigger_platforms::{AcquisitionSource, SourceRegistry};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// The `discovery-scout` role.
pub struct DiscoveryScout {
    fleet: Fleet,
    sources: Arc<SourceRegistry>,
}

impl DiscoveryScout {
    /// A scout over the enabled sources.
    pub fn new(fleet: Fleet, sources: SourceRegistry) -> Self {
        // Series exist from the start, so rate() and the dashboard see 0 rather than nothing.
        for id in sources.ids() {
            metrics::counter!("cratedigger_source_candidates_total", "source" => id).increment(0);
            metrics::counter!("cratedigger_source_errors_total", "source" => id, "class" => "network")
                .increment(0);
            let _ = metrics::histogram!("cratedigger_source_find_seconds", "source" => id);
        }
        Self {
            fleet,
            sources: Arc::new(sources),
        }
    }
}

/// Asks one source, within `deadline`.
async fn ask(
    source: Arc<dyn AcquisitionSource>,
    target: &WantedTrack,
    deadline: Duration,
) -> SourceReport {
    let id = source.info().id;
    let trust = Some(source.info().trust);
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(deadline, source.find(target)).await;
    metrics::histogram!("cratedigger_source_find_seconds", "source" => id)
        .record(started.elapsed().as_secs_f64());
    let failure = |class: ErrorClass, detail: String, attempts: u32| SourceReport {
        source: id.to_string(),
        candidates: Vec::new(),
        failure: Some(PlatformFailure {
            platform: id.to_string(),
            class,
            detail,
            attempts,
        }),
        trust,
    };
    match result {
        Ok(Ok(candidates)) => {
            metrics::counter!("cratedigger_source_candidates_total", "source" => id)
                .increment(candidates.len() as u64);
            SourceReport {
                source: id.to_string(),
                candidates,
                failure: None,
                trust,
            }
        }
        Ok(Err(e)) if e.class == ErrorClass::NotFound => SourceReport {
            source: id.to_string(),
            candidates: Vec::new(),
            failure: None,
            trust,
        },
        Ok(Err(e)) => {
            metrics::counter!("cratedigger_source_errors_total", "source" => id, "class" => e.class.as_str())
                .increment(1);
            tracing::warn!(source = id, class = %e.class, error = %e, "acquisition source failed");
            failure(e.class, e.to_string(), e.attempts)
        }
        Err(_) => {
            metrics::counter!("cratedigger_source_errors_total", "source" => id, "class" => "network")
                .increment(1);
            failure(
                ErrorClass::Network,
                format!("{id} gave no answer within {} s", deadline.as_secs()),
                1,
            )
        }
    }
}

/// Every enabled source, concurrently, each within the deadline.
pub async fn discover(
    sources: &SourceRegistry,
    target: &WantedTrack,
    deadline: Duration,
) -> Vec<SourceReport> {
    futures::future::join_all(
        sources
            .enabled()
            .into_iter()
            .map(|s| ask(s, target, deadline)),
    )
    .await
}

/// Retry the job only when every source failed for a reason that may pass.
fn all_failed_transiently(reports: &[SourceReport]) -> Option<JobError> {
    retry_if_all_failed_transiently(reports.iter().map(|r| r.failure.as_ref()), "source")
}

impl JobHandler for DiscoveryScout {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let fleet = self.fleet.clone();
        let sources = self.sources.clone();
        Box::pin(async move {
            let env: Envelope<DiscoveryJob> = decode_job(&job)?;
            let d = env.body;
            if sources.enabled().is_empty() {
                return Err(JobError::new(
                    ErrorClass::Auth,
                    "no acquisition source is enabled in this worker's configuration (see CRATEDIGGER__SOURCES__*)",
                ));
            }
            let deadline =
                Duration::from_secs(fleet.settings.acquisition.discovery_deadline_secs.max(1));
            let reports = discover(&sources, &d.target, deadline).await;
            if let Some(err) = all_failed_transiently(&reports) {
                return Err(err);
            }
            let report = Envelope::with_stable_id(
                &format!("item:{}:discovered", d.item_id),
                ConsolidateJob::Discovered {
                    sync_id: d.sync_id,
                    item_id: d.item_id,
                    target: d.target,
                    reports,
                },
            );
            enqueue_next(&fleet.consolidate, job.lane, &report).await?;
            Ok(())
        })
    }

    fn on_give_up(&self, job: Delivery, error: JobError) -> BoxFuture<'static, ()> {
        crate::consolidator::report_give_up(self.fleet.clone(), job, error, "source discovery")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(class: ErrorClass) -> SourceReport {
        SourceReport {
            source: "soulseek".into(),
            candidates: vec![],
            failure: Some(PlatformFailure {
                platform: "soulseek".into(),
                class,
                detail: format!("{class} trouble"),
                attempts: 1,
            }),
            trust: None,
        }
    }

    #[test]
    fn retries_only_when_every_source_failed_transiently() {
        assert_eq!(
            all_failed_transiently(&[failed(ErrorClass::Network), failed(ErrorClass::RateLimit)])
                .unwrap()
                .class,
            ErrorClass::RateLimit
        );
        assert!(
            all_failed_transiently(&[failed(ErrorClass::Network), failed(ErrorClass::Auth)])
                .is_none()
        );
        let ok = SourceReport {
            failure: None,
            ..failed(ErrorClass::Server)
        };
        assert!(all_failed_transiently(&[failed(ErrorClass::Server), ok]).is_none());
        assert!(all_failed_transiently(&[]).is_none());
    }
}
