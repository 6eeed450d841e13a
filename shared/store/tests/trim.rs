//! Processed job ids are kept only as long as a redelivery could happen.

use cratedigger_store::testing::fresh_store;
use std::time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn old_processed_job_ids_are_trimmed_in_bounded_steps() {
    let (store, _db) = fresh_store().await;
    for age_days in [0i32, 10, 10, 10] {
        sqlx::query("INSERT INTO processed_jobs (job_id, queue, processed_at) VALUES ($1, 'consolidate', now() - make_interval(days => $2))")
            .bind(Uuid::now_v7())
            .bind(age_days)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(
        store.trim_processed_jobs(week, 2).await.unwrap(),
        2,
        "bounded by the limit"
    );
    assert_eq!(store.trim_processed_jobs(week, 100).await.unwrap(), 1);
    assert_eq!(store.trim_processed_jobs(week, 100).await.unwrap(), 0);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_jobs")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        left, 1,
        "recent ids stay: they still guard against redelivery"
    );
}
