//! The research lead (rule-based planner): one exact ISRC lookup beats five fuzzy searches,
//! so a known ISRC is looked up on every platform that supports it; otherwise every
//! enabled platform is searched by artist and title. The plan goes to the consolidator,
//! which records it and dispatches the scouts.

use crate::fleet::{Fleet, decode_job, enqueue_next};
use cratedigger_domain::jobs::{ConsolidateJob, Envelope, PlatformQuery, ResearchJob};
use cratedigger_domain::{ErrorClass, WantedTrack};
use cratedigger_fleet::{Delivery, JobError, JobHandler};
use cratedigger_platforms::Registry;
use futures::future::BoxFuture;

/// What the planner knows about one platform.
#[derive(Debug, Clone)]
pub struct PlatformCaps {
    /// Platform id.
    pub id: String,
    /// Whether it answers ISRC lookups.
    pub supports_isrc: bool,
}

/// Builds the plan for a wanted track. Pure, so it is tested without a fleet.
pub fn plan(wanted: &WantedTrack, platforms: &[PlatformCaps]) -> (Vec<PlatformQuery>, String) {
    let isrc = wanted
        .isrc
        .as_deref()
        .and_then(cratedigger_music::ids::normalize_isrc);
    let isrc_capable: Vec<&PlatformCaps> = platforms.iter().filter(|p| p.supports_isrc).collect();
    if let Some(isrc) = isrc.filter(|_| !isrc_capable.is_empty()) {
        let queries = isrc_capable
            .iter()
            .map(|p| PlatformQuery::Isrc {
                platform: p.id.clone(),
                isrc: isrc.clone(),
            })
            .collect();
        return (
            queries,
            format!("ISRC {isrc} known: exact lookup first (search only if it finds nothing)"),
        );
    }
    let title = match wanted.mix.as_deref() {
        Some(mix) if !mix.is_empty() => format!("{} ({mix})", wanted.title),
        _ => wanted.title.clone(),
    };
    let queries = platforms
        .iter()
        .map(|p| PlatformQuery::Search {
            platform: p.id.clone(),
            artist: wanted.artist.clone(),
            title: title.clone(),
        })
        .collect();
    let why = if wanted.isrc.is_some() {
        "ISRC given but not valid: searching by artist and title".to_string()
    } else {
        "no ISRC: searching by artist and title".to_string()
    };
    (queries, why)
}

/// The `research-lead` role.
pub struct ResearchLead {
    fleet: Fleet,
    platforms: Vec<PlatformCaps>,
}

impl ResearchLead {
    /// A planner over the enabled platforms.
    pub fn new(fleet: Fleet, registry: &Registry) -> Self {
        let platforms = registry
            .enabled()
            .iter()
            .map(|p| PlatformCaps {
                id: p.info().id.to_string(),
                supports_isrc: p.info().supports_isrc,
            })
            .collect();
        Self { fleet, platforms }
    }
}

impl JobHandler for ResearchLead {
    fn handle(&self, job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let fleet = self.fleet.clone();
        let platforms = self.platforms.clone();
        Box::pin(async move {
            let env: Envelope<ResearchJob> = decode_job(&job)?;
            let r = env.body;
            let (queries, rationale) = plan(&r.wanted, &platforms);
            if queries.is_empty() {
                return Err(JobError::new(
                    ErrorClass::Auth,
                    "no metadata platform is enabled; check the platforms configuration",
                ));
            }
            let planned = Envelope::with_stable_id(
                &format!("item:{}:planned", r.item_id),
                ConsolidateJob::Planned {
                    sync_id: r.sync_id,
                    item_id: r.item_id,
                    wanted: r.wanted,
                    queries,
                    rationale,
                },
            );
            enqueue_next(&fleet.consolidate, job.lane, &planned).await?;
            Ok(())
        })
    }

    fn on_give_up(&self, job: Delivery, error: JobError) -> BoxFuture<'static, ()> {
        crate::consolidator::report_give_up(self.fleet.clone(), job, error, "planning")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Vec<PlatformCaps> {
        vec![
            PlatformCaps {
                id: "musicbrainz".into(),
                supports_isrc: true,
            },
            PlatformCaps {
                id: "deezer".into(),
                supports_isrc: true,
            },
            PlatformCaps {
                id: "textonly".into(),
                supports_isrc: false,
            },
        ]
    }

    #[test]
    fn isrc_first_when_known() {
        let w = WantedTrack {
            artist: "Daft Punk".into(),
            title: "Harder".into(),
            isrc: Some("gb-duw-00-00059".into()),
            ..Default::default()
        };
        let (q, why) = plan(&w, &caps());
        assert_eq!(q.len(), 2);
        assert!(
            q.iter()
                .all(|q| matches!(q, PlatformQuery::Isrc { isrc, .. } if isrc == "GBDUW0000059"))
        );
        assert!(why.contains("ISRC GBDUW0000059"));
    }

    #[test]
    fn search_everywhere_without_isrc_and_keep_the_mix() {
        let w = WantedTrack {
            artist: "Bicep".into(),
            title: "Glue".into(),
            mix: Some("Extended Mix".into()),
            ..Default::default()
        };
        let (q, _) = plan(&w, &caps());
        assert_eq!(q.len(), 3);
        assert!(
            matches!(&q[0], PlatformQuery::Search { title, .. } if title == "Glue (Extended Mix)")
        );
    }

    #[test]
    fn invalid_isrc_falls_back_to_search() {
        let w = WantedTrack {
            artist: "A".into(),
            title: "T".into(),
            isrc: Some("nope".into()),
            ..Default::default()
        };
        let (q, why) = plan(&w, &caps());
        assert!(q.iter().all(|q| matches!(q, PlatformQuery::Search { .. })));
        assert!(why.contains("not valid"));
    }
}
