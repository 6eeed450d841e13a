//! Queue behaviour against the real Redis on 127.0.0.1 (`CRATEDIGGER__REDIS__URL` overrides).
//! Every test uses its own key prefix, so tests run in parallel on one server.

use cratedigger_domain::{ErrorClass, Lane};
use cratedigger_fleet::Delivery;
use cratedigger_fleet::queue::{self, Queue, QueueSettings};
use cratedigger_fleet::runtime::{JobError, JobHandler, WorkerOptions, run_worker};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn redis_url() -> String {
    std::env::var("CRATEDIGGER__REDIS__URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn queue_with(name: &str, tweak: impl FnOnce(&mut QueueSettings)) -> Queue {
    let conn = queue::connect(&redis_url()).await.expect(
        "Redis must be reachable at CRATEDIGGER__REDIS__URL (default redis://127.0.0.1:6379)",
    );
    let mut settings = QueueSettings {
        prefix: format!("cdtest-{}", ulid::Ulid::new()),
        ..Default::default()
    };
    tweak(&mut settings);
    Queue::new(conn, name, settings)
}

fn jobs(prefix: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("{prefix}-{i}"),
                format!("{{\"n\":{i}}}").into_bytes(),
            )
        })
        .collect()
}

#[tokio::test]
async fn interactive_jobs_overtake_a_large_batch_backlog() {
    let q = queue_with("research", |_| {}).await;
    assert_eq!(
        q.push_batch(Lane::Batch, &jobs("batch", 10_000))
            .await
            .unwrap(),
        10_000
    );
    q.push_batch(Lane::Background, &jobs("bg", 10))
        .await
        .unwrap();
    q.push_batch(Lane::Interactive, &jobs("now", 3))
        .await
        .unwrap();

    let got = q.fetch("w1", 5).await.unwrap().jobs;
    let lanes: Vec<Lane> = got.iter().map(|d| d.lane).collect();
    assert_eq!(
        lanes,
        vec![
            Lane::Interactive,
            Lane::Interactive,
            Lane::Interactive,
            Lane::Batch,
            Lane::Batch
        ]
    );
    // FIFO within a lane.
    assert!(
        got[0].qid.ends_with("now-0") && got[2].qid.ends_with("now-2"),
        "{got:?}"
    );
    assert!(got[3].qid.ends_with("batch-0"));
    let depth = q.depth().await.unwrap();
    assert_eq!(depth.lanes["batch"], 9_998);
    assert_eq!(depth.lanes["background"], 10);
    assert_eq!(depth.inflight, 5);
}

#[tokio::test]
async fn pushing_a_live_job_id_twice_queues_it_once() {
    let q = queue_with("consolidate", |_| {}).await;
    assert!(q.push(Lane::Batch, "job-1", b"{}").await.unwrap());
    assert!(!q.push(Lane::Batch, "job-1", b"{}").await.unwrap());
    assert_eq!(q.depth().await.unwrap().lanes["batch"], 1);
}

#[tokio::test]
async fn acked_jobs_leave_nothing_behind() {
    let q = queue_with("metadata", |_| {}).await;
    q.push_batch(Lane::Batch, &jobs("j", 50)).await.unwrap();
    let got = q.fetch("w", 50).await.unwrap().jobs;
    assert_eq!(got.len(), 50);
    q.ack(&got.iter().map(|d| d.qid.clone()).collect::<Vec<_>>())
        .await
        .unwrap();
    let d = q.depth().await.unwrap();
    assert_eq!((d.inflight, d.delayed, d.dead), (0, 0, 0));
    assert_eq!(d.stats["done"], 50);
    assert!(
        q.live_job_ids().await.unwrap().is_empty(),
        "payloads must be trimmed on ack"
    );
}

#[tokio::test]
async fn expired_leases_are_reclaimed_to_the_front_with_the_attempt_counted() {
    let q = queue_with("metadata", |s| s.lease_ms = 300).await;
    q.push_batch(Lane::Batch, &jobs("j", 3)).await.unwrap();
    let first = q.fetch("dead-worker", 1).await.unwrap().jobs;
    assert_eq!(first[0].attempt, 1);
    // The worker "dies": no renewal, no ack.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let again = q.fetch("peer", 1).await.unwrap();
    assert_eq!(again.reclaimed, 1);
    assert_eq!(
        again.jobs[0].qid, first[0].qid,
        "reclaimed job goes to the front"
    );
    assert_eq!(again.jobs[0].attempt, 2);
}

#[tokio::test]
async fn renewed_leases_are_not_reclaimed() {
    let q = queue_with("metadata", |s| s.lease_ms = 400).await;
    q.push(Lane::Batch, "slow", b"{}").await.unwrap();
    let held = q.fetch("alive", 1).await.unwrap().jobs;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(q.renew("alive", &[held[0].qid.clone()]).await.unwrap(), 1);
    }
    let peer = q.fetch("peer", 1).await.unwrap();
    assert_eq!(peer.reclaimed, 0);
    assert!(peer.jobs.is_empty());
}

#[tokio::test]
async fn released_jobs_return_without_spending_an_attempt() {
    let q = queue_with("research", |_| {}).await;
    q.push_batch(Lane::Batch, &jobs("j", 2)).await.unwrap();
    let got = q.fetch("stopping", 2).await.unwrap().jobs;
    assert_eq!(q.release(&[got[1].qid.clone()]).await.unwrap(), 1);
    let again = q.fetch("next", 1).await.unwrap().jobs;
    assert_eq!(again[0].qid, got[1].qid);
    assert_eq!(again[0].attempt, 1);
}

#[tokio::test]
async fn dead_letter_keeps_the_reason_and_redrive_requeues() {
    let q = queue_with("metadata", |_| {}).await;
    q.push(Lane::Interactive, "doomed", b"{\"x\":1}")
        .await
        .unwrap();
    let d = q.fetch("w", 1).await.unwrap().jobs.remove(0);
    let reason = queue::DeadReason {
        reason: "Deezer refused the request".into(),
        class: "bad_request".into(),
        attempts: 1,
        worker: "w".into(),
        at_ms: queue::now_ms(),
    };
    q.dead_letter(&d.qid, &reason).await.unwrap();
    let dead = q.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason["class"], "bad_request");
    assert_eq!(dead[0].payload, "{\"x\":1}");
    assert_eq!(q.redrive(10).await.unwrap(), 1);
    let back = q.fetch("w2", 1).await.unwrap().jobs;
    assert_eq!(back[0].qid, d.qid);
    assert_eq!(back[0].lane, Lane::Interactive);
    assert_eq!(back[0].attempt, 1, "re-drive gives a fresh attempt budget");
    assert_eq!(q.depth().await.unwrap().dead, 0);
}

#[tokio::test]
async fn dead_letter_list_is_bounded() {
    let q = queue_with("metadata", |s| s.max_dead = 5).await;
    q.push_batch(Lane::Batch, &jobs("j", 8)).await.unwrap();
    for d in q.fetch("w", 8).await.unwrap().jobs {
        let r = queue::DeadReason {
            reason: "x".into(),
            class: "internal".into(),
            attempts: 1,
            worker: "w".into(),
            at_ms: 0,
        };
        q.dead_letter(&d.qid, &r).await.unwrap();
    }
    assert_eq!(q.depth().await.unwrap().dead, 5);
    assert_eq!(
        q.live_job_ids().await.unwrap().len(),
        5,
        "dropped entries lose their payload"
    );
}

struct Counting {
    seen: Arc<AtomicUsize>,
    fail_with: Option<ErrorClass>,
    gave_up: Arc<AtomicUsize>,
}

impl JobHandler for Counting {
    fn handle(&self, _job: Delivery) -> BoxFuture<'static, Result<(), JobError>> {
        let seen = self.seen.clone();
        let fail = self.fail_with;
        Box::pin(async move {
            seen.fetch_add(1, Ordering::SeqCst);
            match fail {
                Some(c) => Err(JobError::new(c, "always fails")),
                None => Ok(()),
            }
        })
    }
    fn on_give_up(&self, _job: Delivery, _e: JobError) -> BoxFuture<'static, ()> {
        let g = self.gave_up.clone();
        Box::pin(async move {
            g.fetch_add(1, Ordering::SeqCst);
        })
    }
}

async fn wait_until(mut f: impl AsyncFnMut() -> bool, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The apalis-redis 1.0.0 "too many results to unpack" crash happened from 8,000 ready jobs:
/// 20,000 must drain completely through the real worker runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_ready_jobs_drain_completely() {
    let q = queue_with("metadata", |_| {}).await;
    q.push_batch(Lane::Batch, &jobs("j", 20_000)).await.unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(Counting {
        seen: seen.clone(),
        fail_with: None,
        gave_up: Default::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut opts = WorkerOptions::new("test");
    opts.concurrency = 64;
    opts.batch = 64;
    let (worker_result, drained) = tokio::join!(
        run_worker(redis_url(), q.clone(), handler, opts, stop_rx),
        async {
            let q2 = q.clone();
            let drained = wait_until(
                async || {
                    q2.depth()
                        .await
                        .map(|d| d.stats.get("done").copied() == Some(20_000))
                        .unwrap_or(false)
                },
                Duration::from_secs(120),
            )
            .await;
            stop_tx.send(true).unwrap();
            drained
        }
    );
    worker_result.unwrap();
    let d = q.depth().await.unwrap();
    assert!(drained, "not drained: {d:?}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        20_000,
        "each job handled exactly once here"
    );
    assert_eq!(
        d.lanes.values().sum::<u64>() + d.inflight + d.dead,
        0,
        "{d:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_jobs_get_bounded_attempts_then_dead_letter() {
    let q = queue_with("metadata", |_| {}).await;
    q.push(Lane::Batch, "flaky", b"{}").await.unwrap();
    q.push(Lane::Batch, "refused", b"{}").await.unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let gave_up = Arc::new(AtomicUsize::new(0));
    // Internal: 3 attempts, backoff from 1 s (0.5-1 s, then 1-2 s).
    let handler = Arc::new(Counting {
        seen: seen.clone(),
        fail_with: Some(ErrorClass::Internal),
        gave_up: gave_up.clone(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut opts = WorkerOptions::new("test");
    opts.idle_poll = Duration::from_millis(100);
    let (worker_result, done) = tokio::join!(
        run_worker(redis_url(), q.clone(), handler, opts, stop_rx),
        async {
            let q2 = q.clone();
            let done = wait_until(
                async || q2.depth().await.map(|d| d.dead == 2).unwrap_or(false),
                Duration::from_secs(15),
            )
            .await;
            stop_tx.send(true).unwrap();
            done
        }
    );
    worker_result.unwrap();
    assert!(done, "{:?}", q.depth().await.unwrap());
    assert_eq!(seen.load(Ordering::SeqCst), 6, "3 attempts each");
    assert_eq!(gave_up.load(Ordering::SeqCst), 2);
    let dead = q.dead_jobs(10).await.unwrap();
    assert_eq!(dead[0].reason["attempts"], 3);
    assert_eq!(dead[0].reason["class"], "internal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_classes_go_straight_to_the_dead_letter_list() {
    let q = queue_with("metadata", |_| {}).await;
    q.push(Lane::Batch, "auth", b"{}").await.unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(Counting {
        seen: seen.clone(),
        fail_with: Some(ErrorClass::Auth),
        gave_up: Default::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (worker_result, done) = tokio::join!(
        run_worker(
            redis_url(),
            q.clone(),
            handler,
            WorkerOptions::new("t"),
            stop_rx
        ),
        async {
            let q2 = q.clone();
            let done = wait_until(
                async || q2.depth().await.map(|d| d.dead == 1).unwrap_or(false),
                Duration::from_secs(10),
            )
            .await;
            stop_tx.send(true).unwrap();
            done
        }
    );
    worker_result.unwrap();
    assert!(done);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_wakes_on_push_without_waiting_for_its_poll() {
    let q = queue_with("research", |_| {}).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(Counting {
        seen: seen.clone(),
        fail_with: None,
        gave_up: Default::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut opts = WorkerOptions::new("t");
    opts.idle_poll = Duration::from_secs(30); // only a push notification can wake it in time
    let (worker_result, picked) = tokio::join!(
        run_worker(redis_url(), q.clone(), handler, opts, stop_rx),
        async {
            tokio::time::sleep(Duration::from_millis(500)).await; // let it go idle and subscribe
            q.push(Lane::Interactive, "now", b"{}").await.unwrap();
            let s2 = seen.clone();
            let picked = wait_until(
                async || s2.load(Ordering::SeqCst) == 1,
                Duration::from_secs(5),
            )
            .await;
            stop_tx.send(true).unwrap();
            picked
        }
    );
    worker_result.unwrap();
    assert!(
        picked,
        "an idle worker must notice a push within seconds, not at its next poll"
    );
}
