//! The consolidator's merge and library duplicate check on the real Postgres (each test in
//! its own fresh database with the real migrations): ISRC, dedup key, catalog number +
//! track, trigram search with rescoring, and the merged fields made queryable.

use cratedigger_domain::{ArtistCredit, ArtistRole, ItemState, Lane, PlatformTrack, WantedTrack};
use cratedigger_store::testing::fresh_store;
use cratedigger_store::{ItemFilter, NewItem, NewSync, NewTrack, Store};
use cratedigger_workers::consolidator::{
    FUZZY_CANDIDATES_SQL, check_library, merge, store_or_link,
};
use cratedigger_workers::settings::MatchingSettings;
use uuid::Uuid;

fn rec(
    platform: &str,
    id: &str,
    artists: &[&str],
    title: &str,
    mix: Option<&str>,
) -> PlatformTrack {
    PlatformTrack {
        platform: platform.into(),
        platform_id: id.into(),
        title: title.into(),
        mix: mix.map(str::to_string),
        artists: artists
            .iter()
            .map(|a| ArtistCredit {
                name: (*a).into(),
                role: ArtistRole::Main,
            })
            .collect(),
        ..Default::default()
    }
}

fn merged(best: &PlatformTrack, others: &[&PlatformTrack]) -> NewTrack {
    let m = MatchingSettings::default();
    let precedence = vec!["musicbrainz".to_string(), "deezer".to_string()];
    merge(best, others, &m.merge_policy(&precedence))
}

/// One consolidation: its own job transaction, committed.
async fn consolidate(store: &Store, track: NewTrack) -> (ItemState, Option<String>, Uuid) {
    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .expect("begin job")
        .expect("a new job id");
    let out = store_or_link(&mut tx, track, &MatchingSettings::default())
        .await
        .unwrap_or_else(|e| panic!("store_or_link failed: {e:?}"));
    tx.commit().await.expect("commit");
    out
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .expect("count query")
}

#[tokio::test]
async fn every_duplicate_rule_on_real_postgres() {
    let (store, _db) = fresh_store().await;

    // The original: Beatport's record (ISRC, catalog number).
    let mut bp = rec(
        "beatport",
        "19431036",
        &["deadmau5"],
        "Strobe",
        Some("Layton Giordani Extended Remix"),
    );
    bp.isrc = Some("GBTDG1302861".into());
    bp.catalog_number = Some("MAU50610BP1".into());
    let (state, reason, original) = consolidate(&store, merged(&bp, &[])).await;
    assert_eq!((state, reason), (ItemState::Resolved, None));

    // 1. Same ISRC, other spelling and platform: duplicate, and its platform id is kept.
    let mut dz = rec(
        "deezer",
        "dz-1",
        &["Deadmau5"],
        "Strobe (Layton Giordani Extended Remix)",
        None,
    );
    dz.isrc = Some("gb-tdg-13-02861".into());
    let (state, reason, id) = consolidate(&store, merged(&dz, &[])).await;
    assert_eq!((state, id), (ItemState::Duplicate, original));
    assert_eq!(
        reason.as_deref(),
        Some(
            "Already in your library as deadmau5 - Strobe (Layton Giordani Extended Remix) (same ISRC)"
        )
    );
    assert_eq!(
        count(
            &store,
            &format!("SELECT count(*) FROM track_sources WHERE track_id = '{original}'")
        )
        .await,
        2
    );

    // 2. No ISRC, same artist/title/mix after normalisation: the dedup key.
    let sp = rec(
        "spotify",
        "sp-1",
        &["DEADMAU5"],
        "Strobe - Layton Giordani Extended Remix",
        None,
    );
    let (state, reason, id) = consolidate(&store, merged(&sp, &[])).await;
    assert_eq!((state, id), (ItemState::Duplicate, original));
    assert!(reason.unwrap().ends_with("(same artist, title and mix)"));

    // 3. The remixer credited as a second artist changes the key; the catalog number and
    //    the same title and mix on that release identify the track.
    let mut dg = rec(
        "discogs",
        "dg-1",
        &["deadmau5", "Layton Giordani"],
        "Strobe (Layton Giordani Extended Remix)",
        None,
    );
    dg.catalog_number = Some("mau5-0610-bp1".into());
    let t = merged(&dg, &[]);
    assert_ne!(t.dedup_key, merged(&bp, &[]).dedup_key);
    let (state, reason, id) = consolidate(&store, t).await;
    assert_eq!((state, id), (ItemState::Duplicate, original));
    assert!(
        reason
            .as_deref()
            .unwrap()
            .ends_with("(same catalog number MAU50610BP1, same title and mix on that release)"),
        "{reason:?}"
    );

    // 4. Same release, other mix: the catalog number alone is not a track. The trigram search
    //    finds the original, rescoring refuses it (different mix) and keeps it as a possible
    //    duplicate for a person.
    let mut other_mix = rec(
        "beatport",
        "19797533",
        &["deadmau5"],
        "Strobe",
        Some("Victor Ruiz Remix"),
    );
    other_mix.catalog_number = Some("MAU50610BP1".into());
    let (state, reason, ruiz) = consolidate(&store, merged(&other_mix, &[])).await;
    assert_eq!((state, reason), (ItemState::Resolved, None));
    assert_ne!(ruiz, original);
    let possible: serde_json::Value =
        sqlx::query_scalar("SELECT metadata -> 'possible_duplicates' FROM tracks WHERE id = $1")
            .bind(ruiz)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(possible[0]["track_id"], original.to_string(), "{possible}");

    // 5. Fuzzy: a spelling the key does not fold ("Jumpin’" / "Jumping").
    let mb = rec(
        "musicbrainz",
        "mb-1",
        &["Fleetwood Mac"],
        "Jumpin’ at Shadows",
        None,
    );
    let (_, _, jumpin) = consolidate(&store, merged(&mb, &[])).await;
    let dz2 = rec(
        "deezer",
        "dz-2",
        &["Fleetwood Mac"],
        "Jumping At Shadows",
        None,
    );
    let (state, reason, id) = consolidate(&store, merged(&dz2, &[])).await;
    assert_eq!((state, id), (ItemState::Duplicate, jumpin));
    let reason = reason.unwrap();
    assert!(
        reason.starts_with("Already in your library as Fleetwood Mac - Jumpin’ at Shadows (same artist, title and mix after spelling differences"),
        "{reason}"
    );

    // 6. ... but never across mixes or artists.
    for (artists, title) in [
        (&["Fleetwood Mac"][..], "Jumping at Shadows (live)"),
        (&["Peter Green"][..], "Jumping at Shadows"),
    ] {
        let r = rec("deezer", title, artists, title, None);
        let (state, _, id) = consolidate(&store, merged(&r, &[])).await;
        assert_eq!(state, ItemState::Resolved, "{artists:?} - {title}");
        assert_ne!(id, jumpin);
    }
    assert_eq!(count(&store, "SELECT count(*) FROM tracks").await, 5);

    // The check itself only reads.
    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    let check = check_library(&mut tx, &merged(&dz2, &[]), &MatchingSettings::default())
        .await
        .unwrap();
    assert_eq!(check.existing.map(|e| e.track_id), Some(jumpin));

    // The fuzzy step reads the title/artist key indexes (the reason it is fast at
    // 1,000,000 tracks, see docs/benchmarks.md), not the whole trigram index.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(tx.conn())
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {FUZZY_CANDIDATES_SQL}"))
        .bind("jumping at shadows")
        .bind("fleetwood mac")
        .bind("fleetwood mac jumping at shadows")
        .bind(0.6f32)
        .bind(20i64)
        .fetch_all(tx.conn())
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("tracks_title_key_idx") && plan.contains("tracks_artist_key_idx"),
        "{plan}"
    );
    assert!(!plan.contains("tracks_norm_trgm_idx"), "{plan}");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn merged_fields_are_stored_and_shown_with_the_item() {
    let (store, _db) = fresh_store().await;
    let mut bp = rec(
        "beatport",
        "bp",
        &["deadmau5"],
        "Strobe",
        Some("Layton Giordani Extended Remix"),
    );
    bp.bpm = Some(128.0);
    bp.key = Some("Ab Minor".into());
    bp.genre = Some("Melodic House & Techno".into());
    bp.label = Some("mau5trap".into());
    let mut dz = rec(
        "deezer",
        "dz",
        &["deadmau5"],
        "Strobe (Layton Giordani Extended Remix)",
        None,
    );
    dz.bpm = Some(64.0);
    dz.key = Some("Z major".into());
    dz.label = Some("Mau5trap Recordings".into());
    let t = merged(&dz, &[&bp]);
    assert_eq!(
        t.key.as_deref(),
        Some("G# minor"),
        "canonical key in the key column"
    );
    assert_eq!(t.bpm, Some(128.0));
    let (_, _, id) = consolidate(&store, t).await;

    let row: (
        Option<i32>,
        Option<f32>,
        Option<String>,
        Option<String>,
        serde_json::Value,
        bool,
    ) = sqlx::query_as(
        "SELECT rekordbox_bpm, bpm_alternative, key, key_camelot, conflicts, needs_review
             FROM tracks WHERE id = $1",
    )
    .bind(id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(row.0, Some(12800), "BPM x 100, as Rekordbox stores it");
    assert_eq!(row.1, Some(64.0));
    assert_eq!(row.2.as_deref(), Some("G# minor"));
    assert_eq!(row.3.as_deref(), Some("1A"));
    let fields: Vec<&str> = row
        .4
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"bpm") && fields.contains(&"label"),
        "{}",
        row.4
    );
    assert!(
        !row.5,
        "Beatport's key filled the field: nothing left empty"
    );
    let metadata: serde_json::Value =
        sqlx::query_scalar("SELECT metadata FROM tracks WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        metadata["key"]["display"], "1A",
        "the user's notation (default Camelot)"
    );
    assert_eq!(metadata["fields"]["bpm"]["source"], "beatport");
    // Label: Beatport before Deezer in the default label precedence; Deezer's spelling kept.
    assert_eq!(metadata["fields"]["label"]["source"], "beatport");
    assert_eq!(
        metadata["fields"]["label"]["others"][0]["value"],
        "Mau5trap Recordings"
    );
    assert_eq!(metadata["review"][0]["input"], "Z major");
    assert_eq!(metadata["sources"]["key"], "beatport");

    // A track whose only key is unreadable: stored without a key, flagged for review.
    let mut lone = rec("deezer", "dz-lone", &["Bicep"], "Glue", None);
    lone.key = Some("13A".into());
    lone.bpm = Some(-5.0);
    let (_, _, lone_id) = consolidate(&store, merged(&lone, &[])).await;
    let (key, bpm, review): (Option<String>, Option<f32>, bool) =
        sqlx::query_as("SELECT key, bpm, needs_review FROM tracks WHERE id = $1")
            .bind(lone_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((key, bpm, review), (None, None, true));

    // Both show on their items.
    let created = store
        .create_sync(NewSync {
            name: "t".into(),
            source: "t.txt".into(),
            lane: Lane::Batch,
            items: [("deadmau5", "Strobe"), ("Bicep", "Glue")]
                .iter()
                .enumerate()
                .map(|(i, (a, t))| NewItem {
                    line_no: i as u32 + 1,
                    input_line: format!("{a} - {t}"),
                    wanted: WantedTrack {
                        artist: (*a).into(),
                        title: (*t).into(),
                        ..Default::default()
                    },
                })
                .collect(),
            skipped: vec![],
        })
        .await
        .unwrap();
    let mut tx = store
        .begin_job(Uuid::now_v7(), "consolidate", None)
        .await
        .unwrap()
        .unwrap();
    tx.link_track(created.items[0].0, id).await.unwrap();
    tx.link_track(created.items[1].0, lone_id).await.unwrap();
    tx.commit().await.unwrap();
    let items = store
        .list_items(ItemFilter {
            sync_id: Some(created.sync_id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let strobe = items[0].track.as_ref().expect("linked track");
    assert!(strobe.conflicts.iter().any(|c| c["field"] == "bpm"));
    assert!(!strobe.needs_review);
    let glue = items[1].track.as_ref().expect("linked track");
    assert!(glue.needs_review);
    assert!(glue.conflicts.is_empty());
}
