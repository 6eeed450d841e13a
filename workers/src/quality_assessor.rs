//! The quality assessor: decodes a staged file from start to end, checks its duration and
//! whether a "lossless" file is a lossy one in disguise (spectral cutoff), and tags the file
//! when it passes. Decoding and the spectrum are CPU work: they run on the blocking pool,
//! at most `analysis_concurrency` at once per process, never on the async workers.

use crate::fleet::{Fleet, decode_job, enqueue_next};
use cratedigger_audio::{TagSet, VerifyOptions, verify_file, write_tags};
use cratedigger_domain::ErrorClass;
use cratedigger_domain::acquisition::TrackTags;
use cratedigger_domain::jobs::{AnalysisJob, ConsolidateJob, Envelope};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use futures::future::BoxFuture;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The `quality-assessor` role.
pub struct QualityAssessor {
    fleet: Fleet,
    cpu: Arc<Semaphore>,
}

impl QualityAssessor {
    /// An assessor running at most `analysis_concurrency` analyses at once.
    pub fn new(fleet: Fleet) -> Self {
        let n = fleet.settings.acquisition.analysis_concurrency.max(1);
        for outcome in ["accepted", "rejected", "unreadable"] {
            metrics::counter!("cratedigger_files_verified_total", "outcome" => outcome)
                .increment(0);
        }
        let _ = metrics::histogram!("cratedigger_verify_seconds");
        Self {
            fleet,
            cpu: Arc::new(Semaphore::new(n)),
        }
    }
}

/// The tag set written into a filed file.
pub fn tag_set(t: &TrackTags) -> TagSet {
    let mut artists: Vec<String> = vec![t.artist.clone()];
    artists.extend(t.remixers.iter().cloned());
    artists.retain(|a| !a.trim().is_empty());
    TagSet {
        title: Some(t.title.clone()).filter(|s| !s.trim().is_empty()),
        mix: t.mix.clone(),
        artists,
        album: t.album.clone(),
        label: t.label.clone(),
        catalog_number: t.catalog_number.clone(),
        isrc: t.isrc.clone(),
        bpm: t.bpm,
        key: t.key.clone(),
        genre: t.genre.clone(),
        date: t.date.clone(),
        comment: Some("filed by cratedigger".into()),
        artwork: None,
    }
}

/// The verdict on one staged file: accepted (and tagged), or rejected with a sentence; the
/// report is what verification measured (or the error).
pub async fn assess(
    fleet: &Fleet,
    a: &AnalysisJob,
) -> Result<(bool, Option<String>, serde_json::Value), JobError> {
    let settings = &fleet.settings.acquisition;
    let path = PathBuf::from(&a.staged_path);
    if !crate::filing::inside(&path, &settings.staging_dir) {
        return Ok((
            false,
            Some(format!(
                "{} is not inside the staging folder",
                a.staged_path
            )),
            json!({ "error": "outside staging" }),
        ));
    }
    let opts = VerifyOptions {
        expected_duration_ms: a.target.duration_ms.map(u64::from),
        duration_tolerance_secs: settings.duration_tolerance_secs,
        max_file_bytes: settings.max_file_mb.saturating_mul(1024 * 1024),
        ..VerifyOptions::default()
    };
    let p = path.clone();
    let started = std::time::Instant::now();
    let verified = tokio::task::spawn_blocking(move || verify_file(&p, &opts))
        .await
        .map_err(|e| JobError::new(ErrorClass::Internal, format!("verification task: {e}")))?;
    metrics::histogram!("cratedigger_verify_seconds").record(started.elapsed().as_secs_f64());
    let report = match verified {
        Ok(r) => r,
        Err(e) => {
            metrics::counter!("cratedigger_files_verified_total", "outcome" => "unreadable")
                .increment(1);
            return Ok((
                false,
                Some(e.to_string()),
                json!({ "error": e.to_string() }),
            ));
        }
    };
    let mut report_json = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
    if let Some(why) = report.rejection(settings.fake_lossless_reject_confidence) {
        metrics::counter!("cratedigger_files_verified_total", "outcome" => "rejected").increment(1);
        return Ok((false, Some(why), report_json));
    }
    let tags = tag_set(&a.tags);
    let p = path.clone();
    let tagged = tokio::task::spawn_blocking(move || write_tags(&p, &tags))
        .await
        .map_err(|e| JobError::new(ErrorClass::Internal, format!("tagging task: {e}")))?;
    if let Err(e) = tagged {
        // The audio is good; a file we cannot tag is still worth filing. The report says so.
        tracing::warn!(file = %a.staged_path, error = %e, "tags could not be written");
        report_json["tag_error"] = json!(e.to_string());
    }
    metrics::counter!("cratedigger_files_verified_total", "outcome" => "accepted").increment(1);
    Ok((true, None, report_json))
}

impl JobHandler for QualityAssessor {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let fleet = self.fleet.clone();
        let cpu = self.cpu.clone();
        Box::pin(async move {
            let env: Envelope<AnalysisJob> = decode_job(&job)?;
            let a = env.body;
            let (accepted, reason, report) = {
                let _permit = cpu
                    .acquire_owned()
                    .await
                    .map_err(|_| JobError::new(ErrorClass::Internal, "analysis slots closed"))?;
                assess(&fleet, &a).await?
            };
            let verdict = Envelope::with_stable_id(
                &format!("item:{}:verified:{}", a.item_id, a.candidate_id),
                ConsolidateJob::Verified {
                    sync_id: a.sync_id,
                    item_id: a.item_id,
                    candidate_id: a.candidate_id,
                    staged_path: a.staged_path,
                    accepted,
                    reason,
                    report,
                },
            );
            enqueue_next(&fleet.consolidate, job.lane, &verdict).await?;
            Ok(())
        })
    }

    fn on_give_up(&self, job: Delivery, error: JobError) -> BoxFuture<'static, ()> {
        crate::consolidator::report_give_up(self.fleet.clone(), job, error, "file verification")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn only_files_under_staging_are_opened() {
        let staging = Path::new("/srv/staging");
        assert!(crate::filing::inside(
            Path::new("/srv/staging/a/b.flac"),
            staging
        ));
        assert!(!crate::filing::inside(
            Path::new("/srv/staging/../etc/passwd"),
            staging
        ));
        assert!(!crate::filing::inside(Path::new("/etc/passwd"), staging));
    }

    #[test]
    fn tags_carry_the_canonical_fields() {
        let t = TrackTags {
            title: "Glue".into(),
            artist: "Bicep".into(),
            mix: Some("Extended Mix".into()),
            bpm: Some(130.0),
            key: Some("8A".into()),
            ..Default::default()
        };
        let s = tag_set(&t);
        assert_eq!(s.artists, ["Bicep"]);
        assert_eq!(s.mix.as_deref(), Some("Extended Mix"));
        assert_eq!(s.key.as_deref(), Some("8A"));
        assert_eq!(s.bpm, Some(130.0));
    }
}
