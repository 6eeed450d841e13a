//! The acquisition scout: fetches one approved candidate into the staging directory and
//! reports how it went. It is the only role that writes files, and only under staging, at
//! a path it chooses itself (`<staging>/<item>/<candidate>.<ext>`): nothing a peer or a page
//! said is ever part of the path. A failed transfer is a finding, not a job error — the
//! consolidator moves the item on to its next candidate (degraded mode).

use crate::fleet::{Fleet, decode_job, enqueue_next};
use crate::settings::AcquisitionSettings;
use cratedigger_domain::ErrorClass;
use cratedigger_domain::acquisition::{DownloadRef, SourceCandidate};
use cratedigger_domain::jobs::{ConsolidateJob, DownloadJob, DownloadOutcome, Envelope};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use cratedigger_platforms::{DownloadLimits, SourceRegistry};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use uuid::Uuid;

/// The `acquisition-scout` role.
pub struct AcquisitionScout {
    fleet: Fleet,
    sources: Arc<SourceRegistry>,
    slots: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl AcquisitionScout {
    /// A scout over the enabled sources.
    pub fn new(fleet: Fleet, sources: SourceRegistry) -> Self {
        // Series exist from the start, so rate() and the dashboard see 0 rather than nothing.
        for id in sources.ids() {
            metrics::counter!("cratedigger_downloads_total", "source" => id, "outcome" => "ok")
                .increment(0);
            metrics::counter!("cratedigger_download_bytes_total", "source" => id).increment(0);
            let _ = metrics::histogram!("cratedigger_download_seconds", "source" => id);
        }
        Self {
            fleet,
            sources: Arc::new(sources),
            slots: Arc::default(),
        }
    }
}

/// Audio container extensions a staged file may get; anything else is stored as `.audio`
/// and identified by decoding.
const KNOWN_EXTENSIONS: [&str; 9] = [
    "flac", "mp3", "wav", "aiff", "aif", "m4a", "ogg", "opus", "wma",
];

/// The extension a staged file gets: from the candidate's announced format, else from the
/// last dot of the peer's file name, kept only when it is a known audio extension.
pub fn staged_extension(c: &SourceCandidate) -> &'static str {
    let from_name = match &c.download {
        Some(DownloadRef::Soulseek { filename, .. }) => filename.rsplit('.').next(),
        _ => None,
    };
    let pick = |s: &str| {
        let lower = s.trim().to_ascii_lowercase();
        KNOWN_EXTENSIONS.iter().copied().find(|e| *e == lower)
    };
    c.format
        .as_deref()
        .and_then(pick)
        .or_else(|| from_name.and_then(pick))
        .unwrap_or("audio")
}

/// Where a candidate's file goes in staging: built from ids only.
pub fn staged_path(
    staging: &Path,
    item_id: Uuid,
    candidate_id: Uuid,
    c: &SourceCandidate,
) -> PathBuf {
    staging
        .join(item_id.to_string())
        .join(format!("{candidate_id}.{}", staged_extension(c)))
}

fn limits(s: &AcquisitionSettings) -> DownloadLimits {
    DownloadLimits {
        stall_timeout: Duration::from_secs(s.stall_timeout_secs.max(1)),
        max_bytes: s.max_file_mb.saturating_mul(1024 * 1024),
        overall_timeout: Duration::from_secs(s.download_timeout_secs.max(1)),
    }
}

fn failed(class: ErrorClass, detail: impl Into<String>) -> DownloadOutcome {
    DownloadOutcome::Failed {
        class,
        detail: detail.into(),
    }
}

impl AcquisitionScout {
    fn slot(&self, source: &str) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(source.to_string())
            .or_insert_with(|| {
                Arc::new(Semaphore::new(
                    self.fleet.settings.acquisition.concurrency_for(source),
                ))
            })
            .clone()
    }
}

/// Fetches the candidate; every failure becomes a [`DownloadOutcome::Failed`] with a class.
async fn fetch(
    sources: &SourceRegistry,
    settings: &AcquisitionSettings,
    d: &DownloadJob,
    dest: &Path,
) -> DownloadOutcome {
    let c = &d.candidate;
    let Some(source) = sources.get(&c.source) else {
        return failed(
            ErrorClass::Auth,
            format!(
                "{} is not enabled in this acquisition scout's configuration",
                c.source
            ),
        );
    };
    if !c.is_downloadable() {
        return failed(
            ErrorClass::BadRequest,
            format!(
                "this {} candidate is a {} option, not a download",
                c.source,
                c.availability.as_str()
            ),
        );
    }
    if let Some(parent) = dest.parent()
        && let Err(e) = tokio::fs::create_dir_all(parent).await
    {
        return failed(
            ErrorClass::Internal,
            format!("cannot create the staging folder {}: {e}", parent.display()),
        );
    }
    let source_id = source.info().id;
    let seen = AtomicU64::new(0);
    let last_logged = AtomicU64::new(0);
    let progress = move |bytes: u64, total: Option<u64>| {
        let before = seen.swap(bytes, Ordering::Relaxed);
        if bytes > before {
            metrics::counter!("cratedigger_download_bytes_total", "source" => source_id)
                .increment(bytes - before);
        }
        if let Some(t) = total.filter(|t| *t > 0) {
            let quarter = bytes * 4 / t;
            if quarter > last_logged.swap(quarter, Ordering::Relaxed) {
                tracing::info!(
                    source = source_id,
                    bytes,
                    total = t,
                    "download {} %",
                    quarter * 25
                );
            }
        }
    };
    let started = std::time::Instant::now();
    let result = source.download(c, dest, &limits(settings), &progress).await;
    metrics::histogram!("cratedigger_download_seconds", "source" => source_id)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(file) => {
            metrics::counter!("cratedigger_downloads_total", "source" => source_id, "outcome" => "ok")
                .increment(1);
            DownloadOutcome::Staged {
                path: file.path.to_string_lossy().into_owned(),
                bytes: file.bytes,
            }
        }
        Err(e) => {
            metrics::counter!("cratedigger_downloads_total", "source" => source_id, "outcome" => e.class.as_str())
                .increment(1);
            // The source removes its partial file; make sure nothing is left under our name.
            let _ = tokio::fs::remove_file(dest).await;
            let mut part = dest.as_os_str().to_owned();
            part.push(".part");
            let _ = tokio::fs::remove_file(PathBuf::from(part)).await;
            tracing::warn!(source = source_id, class = %e.class, error = %e, "download failed");
            failed(e.class, e.to_string())
        }
    }
}

impl JobHandler for AcquisitionScout {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let fleet = self.fleet.clone();
        let sources = self.sources.clone();
        let env: Result<Envelope<DownloadJob>, JobError> = decode_job(&job);
        let slot = env
            .as_ref()
            .ok()
            .map(|e| self.slot(&e.body.candidate.source));
        Box::pin(async move {
            let d = env?.body;
            let settings = &fleet.settings.acquisition;
            if let Some(why) = crate::volumes::library_full(settings) {
                // Retried with the rate-limit backoff; the disk alert tells the operator.
                return Err(JobError::new(ErrorClass::RateLimit, why));
            }
            let _permit =
                match slot {
                    Some(s) => Some(s.acquire_owned().await.map_err(|_| {
                        JobError::new(ErrorClass::Internal, "download slots closed")
                    })?),
                    None => None,
                };
            let dest = staged_path(
                &settings.staging_dir,
                d.item_id,
                d.candidate_id,
                &d.candidate,
            );
            let outcome = fetch(&sources, settings, &d, &dest).await;
            let report = Envelope::with_stable_id(
                &format!("item:{}:downloaded:{}", d.item_id, d.candidate_id),
                ConsolidateJob::Downloaded {
                    sync_id: d.sync_id,
                    item_id: d.item_id,
                    candidate_id: d.candidate_id,
                    outcome,
                },
            );
            enqueue_next(&fleet.consolidate, job.lane, &report).await?;
            Ok(())
        })
    }

    fn on_give_up(&self, job: Delivery, error: JobError) -> BoxFuture<'static, ()> {
        crate::consolidator::report_give_up(self.fleet.clone(), job, error, "download")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cratedigger_domain::acquisition::Availability;

    fn soulseek(filename: &str, format: Option<&str>) -> SourceCandidate {
        SourceCandidate {
            source: "soulseek".into(),
            source_key: filename.into(),
            title: "x".into(),
            availability: Availability::Download,
            format: format.map(str::to_string),
            download: Some(DownloadRef::Soulseek {
                username: "peer".into(),
                filename: filename.into(),
                size: 1,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn staged_paths_are_built_from_ids_only() {
        let item = Uuid::nil();
        let cand = Uuid::from_u128(7);
        let staging = Path::new("/staging");
        let hostile = soulseek("@@x\\..\\..\\etc\\passwd", None);
        let p = staged_path(staging, item, cand, &hostile);
        assert_eq!(
            p,
            staging.join(item.to_string()).join(format!("{cand}.audio"))
        );
        let flac = soulseek("@@x\\Music\\A - B.FLAC", None);
        assert!(
            staged_path(staging, item, cand, &flac)
                .to_string_lossy()
                .ends_with(".flac")
        );
        let announced = soulseek("@@x\\Music\\A - B", Some("mp3"));
        assert!(
            staged_path(staging, item, cand, &announced)
                .to_string_lossy()
                .ends_with(".mp3")
        );
        let sneaky = soulseek("@@x\\a.flac/../../x", Some("../sh"));
        assert!(
            staged_path(staging, item, cand, &sneaky)
                .to_string_lossy()
                .ends_with(".audio")
        );
    }
}
