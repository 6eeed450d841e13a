//! The reconciler: Postgres is the source of truth and Redis only holds work in flight, so
//! an item whose state has not moved past its deadline and has no job in flight is
//! re-enqueued (after `FLUSHALL`, a lost enqueue, a crash between commit and enqueue).
//! After `max_requeues` tries the item is failed through the consolidator with a reason.

use cratedigger_domain::ItemState;
use cratedigger_domain::jobs::{ConsolidateJob, Envelope, PlatformQuery};
use cratedigger_store::{Store, StuckItem};
use cratedigger_workers::Fleet;
use cratedigger_workers::acquisition;
use cratedigger_workers::consolidator::metadata_job;
use cratedigger_workers::fleet::enqueue;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

fn stable(key: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

/// Jobs that, if live in Redis, mean the item is being worked on.
fn expected_jobs(item: &StuckItem) -> Vec<String> {
    let id = item.item_id;
    match item.state {
        ItemState::Pending => vec![
            stable(&format!("item:{id}:research")),
            stable(&format!("item:{id}:planned")),
        ],
        ItemState::Researching => vec![
            stable(&format!("item:{id}:metadata")),
            stable(&format!("item:{id}:researched")),
        ],
        ItemState::Discovering => vec![
            stable(&format!("item:{id}:discovery")),
            stable(&format!("item:{id}:discovered")),
        ],
        ItemState::Downloading => match item.candidate_id {
            Some(c) => vec![
                stable(&format!("item:{id}:download:{c}")),
                stable(&format!("item:{id}:downloaded:{c}")),
            ],
            None => Vec::new(),
        },
        ItemState::Verifying => match item.candidate_id {
            Some(c) => vec![
                stable(&format!("item:{id}:analysis:{c}")),
                stable(&format!("item:{id}:verified:{c}")),
            ],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// Items whose job was re-enqueued.
    pub requeued: usize,
    /// Items failed after too many re-enqueues.
    pub failed: usize,
    /// Stuck items that still had a job in flight (left alone).
    pub in_flight: usize,
}

/// One pass over stuck items.
pub async fn sweep(fleet: &Fleet, store: &Store) -> anyhow::Result<Sweep> {
    let cfg = &fleet.settings.reconciler;
    let stuck = store
        .stuck_items(
            Duration::from_secs(cfg.stuck_after_secs),
            &[
                ItemState::Pending,
                ItemState::Researching,
                ItemState::Discovering,
                ItemState::Downloading,
                ItemState::Verifying,
            ],
            1000,
        )
        .await?;
    let mut result = Sweep::default();
    if stuck.is_empty() {
        return Ok(result);
    }
    let mut live: HashSet<String> = HashSet::new();
    for q in fleet.all_queues() {
        live.extend(q.live_job_ids().await?);
    }
    for item in stuck {
        if expected_jobs(&item).iter().any(|j| live.contains(j)) {
            result.in_flight += 1;
            continue;
        }
        if item.attempts >= cfg.max_requeues {
            let env = Envelope::with_stable_id(
                &format!("item:{}:gave-up:reconciler", item.item_id),
                ConsolidateJob::GaveUp {
                    item_id: item.item_id,
                    reason: format!(
                        "Stopped after its work was lost {} times while {}; retry the sync later",
                        item.attempts, item.state
                    ),
                },
            );
            enqueue(&fleet.consolidate, item.lane, &env).await?;
            result.failed += 1;
            continue;
        }
        match item.state {
            ItemState::Pending => {
                let env = crate::api::research_job(item.sync_id, item.item_id, item.wanted.clone());
                enqueue(&fleet.research, item.lane, &env).await?;
            }
            ItemState::Researching => {
                let queries: Vec<PlatformQuery> = item
                    .plan
                    .as_ref()
                    .and_then(|p| p.get("queries"))
                    .and_then(|q| serde::Deserialize::deserialize(q).ok())
                    .unwrap_or_default();
                if queries.is_empty() {
                    // No usable plan stored: plan again from scratch.
                    let env =
                        crate::api::research_job(item.sync_id, item.item_id, item.wanted.clone());
                    enqueue(&fleet.research, item.lane, &env).await?;
                } else {
                    let env =
                        metadata_job(item.sync_id, item.item_id, item.wanted.clone(), queries);
                    enqueue(&fleet.metadata, item.lane, &env).await?;
                }
            }
            ItemState::Discovering | ItemState::Downloading | ItemState::Verifying => {
                if !requeue_acquisition(fleet, store, &item).await? {
                    continue;
                }
            }
            _ => continue,
        }
        store.touch_item(item.item_id).await?;
        result.requeued += 1;
    }
    if result.requeued + result.failed > 0 {
        tracing::warn!(
            requeued = result.requeued,
            failed = result.failed,
            "reconciler re-enqueued items whose job was lost"
        );
        metrics::counter!("cratedigger_reconciler_requeued_total")
            .increment(result.requeued as u64);
    }
    Ok(result)
}

/// Re-enqueues the lost job of an item in an acquisition state; false when the stored state
/// is not enough to rebuild it (left to the give-up path after the maximum re-enqueues).
async fn requeue_acquisition(
    fleet: &Fleet,
    store: &Store,
    item: &StuckItem,
) -> anyhow::Result<bool> {
    let target = item
        .acquisition_target
        .clone()
        .unwrap_or_else(|| item.wanted.clone());
    match item.state {
        ItemState::Discovering => {
            let env = acquisition::discovery_job(item.sync_id, item.item_id, target);
            enqueue(&fleet.discovery, item.lane, &env).await?;
        }
        ItemState::Downloading | ItemState::Verifying => {
            let Some(c) = item.candidate_id else {
                return Ok(false);
            };
            let Some(row) = store.candidate(c).await? else {
                return Ok(false);
            };
            match (item.state, row.staged_path) {
                (ItemState::Verifying, Some(staged)) => {
                    let tags = match item.track_id {
                        Some(t) => store.track_tags(t).await?,
                        None => None,
                    }
                    .unwrap_or_else(|| acquisition::tags_from_target(&target));
                    let env = acquisition::analysis_job(
                        item.sync_id,
                        item.item_id,
                        c,
                        row.candidate,
                        staged,
                        target,
                        tags,
                    );
                    enqueue(&fleet.analysis, item.lane, &env).await?;
                }
                (ItemState::Downloading, _) => {
                    let env = acquisition::download_job(
                        item.sync_id,
                        item.item_id,
                        c,
                        row.candidate,
                        target,
                    );
                    enqueue(&fleet.download, item.lane, &env).await?;
                }
                _ => return Ok(false),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Runs [`sweep`] every `interval_secs` until `stop`.
pub async fn run(fleet: Fleet, store: Store, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(
        fleet.settings.reconciler.interval_secs.max(1),
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            _ = stop.changed() => return,
        }
        if let Err(e) = sweep(&fleet, &store).await {
            tracing::warn!(error = %e, "reconciler sweep failed; will try again");
        }
        // Redelivery guards older than a week can go (no job lives that long in Redis).
        if let Err(e) = store
            .trim_processed_jobs(Duration::from_secs(7 * 24 * 3600), 10_000)
            .await
        {
            tracing::warn!(error = %e, "could not trim processed job ids; will try again");
        }
        // Expired platform answers (the L3 cache) go too, a bounded batch per sweep.
        match cratedigger_platforms::cache::purge_expired(store.pool(), 10_000).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "purged expired platform cache rows"),
            Err(e) => {
                tracing::warn!(error = %e, "could not purge the expired platform cache; will try again")
            }
        }
    }
}
