//! Integration tests against the real Postgres on 127.0.0.1, each in its own database.

use cratedigger_domain::item::ALL_STATES;
use cratedigger_domain::{ItemState, Lane, WantedTrack};
use cratedigger_store::testing::{fresh_database, fresh_store};
use cratedigger_store::{
    DuplicateProbe, DuplicateReason, InsertOutcome, ItemFilter, NewItem, NewSync, NewTrack,
    NewTrackSource, SkippedLine, Store,
};
use std::time::Duration;
use uuid::Uuid;

fn wanted(artist: &str, title: &str) -> WantedTrack {
    WantedTrack {
        artist: artist.into(),
        title: title.into(),
        ..Default::default()
    }
}

fn new_sync(n: usize) -> NewSync {
    NewSync {
        name: "test playlist".into(),
        source: "test.m3u".into(),
        lane: Lane::Batch,
        items: (0..n)
            .map(|i| NewItem {
                line_no: (i + 2) as u32,
                input_line: format!("Artist {i} - Title {i}"),
                wanted: wanted(&format!("Artist {i}"), &format!("Title {i}")),
            })
            .collect(),
        skipped: vec![SkippedLine {
            line_no: 1,
            input: "???".into(),
            reason: "no ' - ' between artist and title".into(),
        }],
    }
}

fn track(key: &str, isrc: Option<&str>, artist: &str, title: &str) -> NewTrack {
    NewTrack {
        dedup_key: key.into(),
        isrc: isrc.map(Into::into),
        artist: artist.into(),
        title: title.into(),
        norm_artist: artist.to_lowercase(),
        norm_title: title.to_lowercase(),
        bpm: Some(124.0),
        key: Some("8A".into()),
        metadata: serde_json::json!({"bpm": {"value": 124, "source": "deezer"}}),
        sources: vec![NewTrackSource {
            platform: "deezer".into(),
            platform_id: format!("dz-{key}"),
            url: Some(format!("https://example.invalid/{key}")),
            raw: Some(serde_json::json!({"id": 1})),
        }],
        ..Default::default()
    }
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn migrations_apply_twice_and_concurrently() {
    let (url, _db) = fresh_database().await;
    let a = Store::connect(&url, 2).await.unwrap();
    let b = Store::connect(&url, 2).await.unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    a.migrate().await.unwrap();
    let ext = count(
        &a,
        "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'",
    )
    .await;
    assert_eq!(ext, 1);
    let tables = count(
        &a,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
         AND table_name IN ('syncs','items','tracks','track_sources','processed_jobs','item_events')",
    )
    .await;
    assert_eq!(tables, 6);

    // Rolling deploy: a newer release applied a migration this binary does not know; this
    // binary still starts.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99999999999999, 'from a newer release', true, '\\x00', 0)",
    )
    .execute(a.pool())
    .await
    .unwrap();
    a.migrate().await.unwrap();
}

#[tokio::test]
async fn create_sync_and_progress_list_every_state() {
    let (store, _db) = fresh_store().await;
    let created = store.create_sync(new_sync(3)).await.unwrap();
    assert_eq!(created.items.len(), 3);
    assert_eq!(created.items[1].1, wanted("Artist 1", "Title 1"));

    let p = store.sync_progress(created.sync_id).await.unwrap().unwrap();
    assert_eq!(p.total, 3);
    assert_eq!(p.lane, Lane::Batch);
    assert_eq!(p.counts.len(), ALL_STATES.len());
    assert_eq!(p.counts["pending"], 3);
    assert_eq!(p.counts["failed"], 0);
    assert!(!p.finished);
    assert_eq!(p.skipped_lines[0]["line_no"], 1);
    assert_eq!(
        p.skipped_lines[0]["reason"],
        "no ' - ' between artist and title"
    );
    assert!(store.sync_progress(Uuid::now_v7()).await.unwrap().is_none());

    let events = count(
        &store,
        "SELECT count(*) FROM item_events WHERE to_state = 'pending'",
    )
    .await;
    assert_eq!(events, 3);

    let items = store
        .list_items(ItemFilter {
            sync_id: Some(created.sync_id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(items[0].line_no, 2);
    assert_eq!(items[0].input_line, "Artist 0 - Title 0");
    assert!(items[0].track.is_none());
    let json = serde_json::to_value(&items[0]).unwrap();
    assert_eq!(json["state"], "pending");
    assert!(json.get("match").is_some());

    let syncs = store.list_syncs(10).await.unwrap();
    assert_eq!(syncs.len(), 1);
    assert_eq!(syncs[0].skipped, 1);
    assert_eq!(syncs[0].counts["pending"], 3);
    let fleet = store.state_counts().await.unwrap();
    assert_eq!(fleet.len(), ALL_STATES.len());
    assert_eq!(fleet["pending"], 3);

    // Finish every item: the sync is finished.
    for (id, _) in &created.items {
        let mut tx = store
            .begin_job(Uuid::now_v7(), "consolidate", Some(*id))
            .await
            .unwrap()
            .unwrap();
        let job = tx.job_id();
        assert!(
            tx.transition(
                *id,
                &[ItemState::Pending],
                ItemState::Failed,
                Some("nothing found"),
                None,
                job
            )
            .await
            .unwrap()
        );
        tx.commit().await.unwrap();
    }
    let p = store.sync_progress(created.sync_id).await.unwrap().unwrap();
    assert!(p.finished);
    assert_eq!(p.counts["failed"], 3);
    let failed = store
        .list_items(ItemFilter {
            state: Some(ItemState::Failed),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0].reason.as_deref(), Some("nothing found"));
}

#[tokio::test]
async fn empty_sync_is_finished() {
    let (store, _db) = fresh_store().await;
    let created = store.create_sync(new_sync(0)).await.unwrap();
    let p = store.sync_progress(created.sync_id).await.unwrap().unwrap();
    assert_eq!(p.total, 0);
    assert!(p.finished);
}

#[tokio::test]
async fn redelivered_job_changes_nothing() {
    let (store, _db) = fresh_store().await;
    let created = store.create_sync(new_sync(1)).await.unwrap();
    let item = created.items[0].0;
    let job = Uuid::now_v7();

    let mut tx = store
        .begin_job(job, "consolidate", Some(item))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.item_state(item).await.unwrap(), Some(ItemState::Pending));
    assert!(
        tx.transition(
            item,
            &[ItemState::Pending],
            ItemState::Researching,
            None,
            None,
            job
        )
        .await
        .unwrap()
    );
    tx.set_plan(item, serde_json::json!({"queries": 2}))
        .await
        .unwrap();
    assert_eq!(tx.bump_attempts(item).await.unwrap(), 1);
    tx.commit().await.unwrap();

    // Redelivery: nothing to do.
    assert!(
        store
            .begin_job(job, "consolidate", Some(item))
            .await
            .unwrap()
            .is_none()
    );
    let events = count(&store, "SELECT count(*) FROM item_events").await;
    assert_eq!(events, 2);

    // A rolled-back job is not recorded: the redelivery applies it.
    let job2 = Uuid::now_v7();
    let mut tx = store
        .begin_job(job2, "consolidate", Some(item))
        .await
        .unwrap()
        .unwrap();
    tx.bump_attempts(item).await.unwrap();
    drop(tx);
    let tx = store
        .begin_job(job2, "consolidate", Some(item))
        .await
        .unwrap();
    assert!(tx.is_some());
    tx.unwrap().rollback().await.unwrap();

    let items = store
        .list_items(ItemFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(items[0].attempts, 1);
    assert_eq!(items[0].state, ItemState::Researching);
    assert_eq!(items[0].plan, Some(serde_json::json!({"queries": 2})));
}

#[tokio::test]
async fn concurrent_begin_job_of_same_id_applies_once() {
    let (store, _db) = fresh_store().await;
    let job = Uuid::now_v7();
    let tx = store
        .begin_job(job, "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    let store2 = store.clone();
    let other = tokio::spawn(async move { store2.begin_job(job, "consolidate", None).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !other.is_finished(),
        "second begin_job must wait for the first"
    );
    tx.commit().await.unwrap();
    assert!(other.await.unwrap().unwrap().is_none());
}

#[tokio::test]
async fn transition_guard_and_events() {
    let (store, _db) = fresh_store().await;
    let created = store.create_sync(new_sync(1)).await.unwrap();
    let item = created.items[0].0;
    let job = Uuid::now_v7();
    let mut tx = store
        .begin_job(job, "consolidate", Some(item))
        .await
        .unwrap()
        .unwrap();
    // Not in `from`: nothing written.
    assert!(
        !tx.transition(
            item,
            &[ItemState::Researching],
            ItemState::Resolved,
            None,
            None,
            job
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.transition(item, &[], ItemState::Resolved, None, None, job)
            .await
            .unwrap()
    );
    assert!(
        !tx.transition(
            Uuid::now_v7(),
            &[ItemState::Pending],
            ItemState::Resolved,
            None,
            None,
            job
        )
        .await
        .unwrap()
    );
    assert_eq!(tx.item_state(item).await.unwrap(), Some(ItemState::Pending));
    assert_eq!(tx.item_state(Uuid::now_v7()).await.unwrap(), None);
    assert!(
        tx.transition(
            item,
            &[ItemState::Pending, ItemState::Researching],
            ItemState::Researching,
            Some("ISRC first"),
            Some(serde_json::json!({"queries": 1})),
            job
        )
        .await
        .unwrap()
    );
    assert!(matches!(
        tx.set_match(Uuid::now_v7(), serde_json::json!({})).await,
        Err(cratedigger_store::StoreError::ItemNotFound(_))
    ));
    tx.commit().await.unwrap();

    let row: (
        Option<String>,
        String,
        Option<String>,
        Option<Uuid>,
        serde_json::Value,
    ) = sqlx::query_as(
        "SELECT from_state, to_state, reason, job_id, detail FROM item_events
             WHERE to_state = 'researching'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            Some("pending".into()),
            "researching".into(),
            Some("ISRC first".into()),
            Some(job),
            serde_json::json!({"queries": 1})
        )
    );
    let events = count(&store, "SELECT count(*) FROM item_events").await;
    assert_eq!(events, 2);
}

#[tokio::test]
async fn duplicates_by_isrc_key_and_similarity() {
    let (store, _db) = fresh_store().await;
    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    let glue = tx
        .insert_track(track("bicep|glue|", Some("gbcfb1700135"), "Bicep", "Glue"))
        .await
        .unwrap();
    let InsertOutcome::Inserted(glue_id) = glue else {
        panic!("expected insert, got {glue:?}")
    };
    let opal = tx
        .insert_track(track("bicep|opal|four tet remix", None, "Bicep", "Opal"))
        .await
        .unwrap()
        .track_id();
    tx.commit().await.unwrap();

    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    // ISRC (spelled differently) wins even with another key.
    let hit = tx
        .find_duplicate(&DuplicateProbe {
            isrc: Some("GB-CFB-17-00135".into()),
            dedup_key: "something|else|".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hit.track_id, glue_id);
    assert_eq!(hit.reason, DuplicateReason::SameIsrc);
    assert_eq!(hit.title, "Glue");
    // Same key, no ISRC.
    let hit = tx
        .find_duplicate(&DuplicateProbe {
            dedup_key: "bicep|opal|four tet remix".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((hit.track_id, hit.reason), (opal, DuplicateReason::SameKey));
    // Nothing exact.
    assert!(
        tx.find_duplicate(&DuplicateProbe {
            isrc: Some("USXXX0000001".into()),
            dedup_key: "bicep|glue|extended".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_none()
    );
    // Trigram: a spelling variant finds Glue, most similar first; an unrelated name nothing.
    let similar = tx.similar_tracks("bicep", "glue.", 10).await.unwrap();
    assert_eq!(similar[0].track_id, glue_id, "{similar:?}");
    assert!(similar[0].similarity >= 0.6 && similar[0].similarity <= 1.0);
    assert_eq!(similar[0].dedup_key, "bicep|glue|");
    assert!(
        tx.similar_tracks("aphex twin", "xtal", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let loose = tx
        .similar_tracks_with_threshold("bicep", "", 10, 0.1)
        .await
        .unwrap();
    assert_eq!(loose.len(), 2);

    // The trigram query can use the GIN index.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(tx.conn())
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM tracks WHERE (norm_artist || ' ' || norm_title) % 'bicep glue'",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    assert!(plan.join("\n").contains("tracks_norm_trgm_idx"), "{plan:?}");

    // Inserting an existing key or ISRC reports the stored track, and the transaction is
    // still usable afterwards.
    let again = tx
        .insert_track(track("bicep|glue|", None, "Bicep", "Glue"))
        .await
        .unwrap();
    assert_eq!(
        again,
        InsertOutcome::Existing {
            track_id: glue_id,
            reason: DuplicateReason::SameKey
        }
    );
    let again = tx
        .insert_track(track(
            "bicep|glue|radio",
            Some("GBCFB1700135"),
            "Bicep",
            "Glue",
        ))
        .await
        .unwrap();
    assert_eq!(
        again,
        InsertOutcome::Existing {
            track_id: glue_id,
            reason: DuplicateReason::SameIsrc
        }
    );
    tx.commit().await.unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM tracks").await, 2);
}

#[tokio::test]
async fn concurrent_insert_of_same_track_stores_one() {
    let (store, _db) = fresh_store().await;
    let mut a = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    let mut b = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    let first = a
        .insert_track(track("bicep|glue|", None, "Bicep", "Glue"))
        .await
        .unwrap();
    let InsertOutcome::Inserted(id) = first else {
        panic!("{first:?}")
    };
    // b's insert waits for a's transaction; once a commits, b sees the stored track.
    let second = tokio::spawn(async move {
        let outcome = b
            .insert_track(track("bicep|glue|", None, "Bicep", "Glue (dup)"))
            .await
            .unwrap();
        b.commit().await.unwrap();
        outcome
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !second.is_finished(),
        "second insert must wait for the first transaction"
    );
    a.commit().await.unwrap();
    assert_eq!(
        second.await.unwrap(),
        InsertOutcome::Existing {
            track_id: id,
            reason: DuplicateReason::SameKey
        }
    );
    assert_eq!(count(&store, "SELECT count(*) FROM tracks").await, 1);
    assert_eq!(count(&store, "SELECT count(*) FROM track_sources").await, 1);
}

#[tokio::test]
async fn linked_track_shows_with_item() {
    let (store, _db) = fresh_store().await;
    let created = store.create_sync(new_sync(1)).await.unwrap();
    let item = created.items[0].0;
    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", Some(item))
        .await
        .unwrap()
        .unwrap();
    let mut t = track("bicep|glue|", Some("GBCFB1700135"), "Bicep", "Glue");
    t.sources.push(NewTrackSource {
        platform: "musicbrainz".into(),
        platform_id: "mb-1".into(),
        url: None,
        raw: None,
    });
    let id = tx.insert_track(t).await.unwrap().track_id();
    tx.link_track(item, id).await.unwrap();
    tx.set_match(item, serde_json::json!({"score": 0.97}))
        .await
        .unwrap();
    tx.set_skipped_sources(item, serde_json::json!([{"platform": "beatport"}]))
        .await
        .unwrap();
    assert!(matches!(
        tx.link_track(item, Uuid::now_v7()).await,
        Err(cratedigger_store::StoreError::MissingReference { .. })
    ));
    drop(tx);
    // The failed link aborted the transaction: redo the work in a fresh one.
    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", Some(item))
        .await
        .unwrap()
        .unwrap();
    let mut t = track("bicep|glue|", Some("GBCFB1700135"), "Bicep", "Glue");
    t.sources.push(NewTrackSource {
        platform: "musicbrainz".into(),
        platform_id: "mb-1".into(),
        url: None,
        raw: None,
    });
    let id = tx.insert_track(t).await.unwrap().track_id();
    tx.link_track(item, id).await.unwrap();
    tx.set_match(item, serde_json::json!({"score": 0.97}))
        .await
        .unwrap();
    let job = tx.job_id();
    tx.transition(
        item,
        &[ItemState::Pending],
        ItemState::Resolved,
        None,
        None,
        job,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let items = store
        .list_items(ItemFilter {
            sync_id: Some(created.sync_id),
            state: Some(ItemState::Resolved),
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap();
    let track = items[0].track.as_ref().unwrap();
    assert_eq!(track.id, id);
    assert_eq!(track.isrc.as_deref(), Some("GBCFB1700135"));
    assert_eq!(track.bpm, Some(124.0));
    assert_eq!(track.key.as_deref(), Some("8A"));
    assert_eq!(
        track
            .sources
            .iter()
            .map(|s| s.platform.as_str())
            .collect::<Vec<_>>(),
        vec!["deezer", "musicbrainz"]
    );
    assert_eq!(items[0].r#match, Some(serde_json::json!({"score": 0.97})));
}

#[tokio::test]
async fn stuck_items_touch_and_fail() {
    let (store, _db) = fresh_store().await;
    let created = store.create_sync(new_sync(3)).await.unwrap();
    let ids: Vec<Uuid> = created.items.iter().map(|(id, _)| *id).collect();
    // Age two items; finish the third.
    sqlx::query(
        "UPDATE items SET state_changed_at = now() - interval '10 minutes' WHERE id = ANY($1)",
    )
    .bind(&ids[..2])
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE items SET state = 'resolved', state_changed_at = now() - interval '10 minutes' WHERE id = $1")
        .bind(ids[2])
        .execute(store.pool())
        .await
        .unwrap();

    let stuck = store
        .stuck_items(Duration::from_secs(60), &[], 100)
        .await
        .unwrap();
    assert_eq!(stuck.len(), 2);
    assert!(
        stuck
            .iter()
            .all(|s| s.state == ItemState::Pending && s.lane == Lane::Batch)
    );
    assert!(stuck[0].wanted.artist.starts_with("Artist "));
    // Only the asked states; final states never.
    assert!(
        store
            .stuck_items(
                Duration::from_secs(60),
                &[ItemState::Researching, ItemState::Resolved],
                100
            )
            .await
            .unwrap()
            .is_empty()
    );
    // Not old enough.
    assert!(
        store
            .stuck_items(Duration::from_secs(3600), &[ItemState::Pending], 100)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(store.touch_item(ids[0]).await.unwrap(), Some(1));
    assert_eq!(
        store.touch_item(ids[2]).await.unwrap(),
        None,
        "final item untouched"
    );
    let stuck = store
        .stuck_items(Duration::from_secs(60), &[ItemState::Pending], 100)
        .await
        .unwrap();
    assert_eq!(
        stuck.iter().map(|s| s.item_id).collect::<Vec<_>>(),
        vec![ids[1]]
    );

    assert!(
        store
            .fail_item_direct(ids[1], "lost its job 3 times")
            .await
            .unwrap()
    );
    assert!(!store.fail_item_direct(ids[1], "again").await.unwrap());
    assert!(!store.fail_item_direct(ids[2], "final").await.unwrap());
    let reason: Option<String> = sqlx::query_scalar("SELECT reason FROM items WHERE id = $1")
        .bind(ids[1])
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("lost its job 3 times"));
    let reenqueued = count(
        &store,
        "SELECT count(*) FROM item_events WHERE detail->>'kind' = 'reenqueued'",
    )
    .await;
    assert_eq!(reenqueued, 1);
}

#[tokio::test]
async fn ten_thousand_items_in_one_sync() {
    let (store, _db) = fresh_store().await;
    let started = std::time::Instant::now();
    let created = store.create_sync(new_sync(10_000)).await.unwrap();
    eprintln!("create_sync of 10,000 items took {:?}", started.elapsed());
    assert_eq!(created.items.len(), 10_000);
    let p = store.sync_progress(created.sync_id).await.unwrap().unwrap();
    assert_eq!(p.total, 10_000);
    assert_eq!(p.counts["pending"], 10_000);
    assert_eq!(
        count(&store, "SELECT count(*) FROM item_events").await,
        10_000
    );
    let last = store
        .list_items(ItemFilter {
            sync_id: Some(created.sync_id),
            limit: 1,
            offset: 9_999,
            state: None,
        })
        .await
        .unwrap();
    assert_eq!(last[0].position, 10_000);
    assert_eq!(last[0].id, created.items[9_999].0);
}
