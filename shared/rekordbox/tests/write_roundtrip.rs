//! Write sessions against libraries built from Rekordbox's real schema and seed rows
//! (`../shared/rekordbox`, read in place), encrypted with the test key, then read back through
//! a fresh connection.

mod common;

use common::{bytes, int, sample_tracks};
use cratedigger_music::{Key, KeyNotation};
use cratedigger_rekordbox::db::{self, OpenMode};
use cratedigger_rekordbox::testing::{MASTER_PLAYLISTS_TEMPLATE, fresh_library, test_cipher};
use cratedigger_rekordbox::write::folder_path;
use cratedigger_rekordbox::{
    FiledTrack, FixedProbe, Library, RekordboxError, RekordboxWriter, library::HOT_CUE_KINDS,
    master_playlists,
};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const SEED_USN: i64 = 249;

fn writer(cfg: &cratedigger_rekordbox::RekordboxConfig) -> RekordboxWriter {
    RekordboxWriter::open(cfg.clone())
        .expect("writer opens")
        .with_probe(Arc::new(FixedProbe::default()))
}

fn raw(cfg: &cratedigger_rekordbox::RekordboxConfig) -> Connection {
    db::open(
        cfg.db_path().unwrap(),
        &test_cipher(),
        OpenMode::ReadOnly,
        Duration::from_secs(1),
    )
    .unwrap()
}

fn names(v: &[cratedigger_rekordbox::library::Named]) -> HashMap<String, String> {
    v.iter().map(|n| (n.id.clone(), n.name.clone())).collect()
}

#[test]
fn written_tracks_read_back_field_by_field() {
    let (dir, cfg) = fresh_library("roundtrip", test_cipher());
    std::fs::write(
        cfg.master_playlists_xml().unwrap(),
        MASTER_PLAYLISTS_TEMPLATE,
    )
    .unwrap();
    let tracks = sample_tracks(&dir, 12, "rt");
    let report = writer(&cfg)
        .write_session(&tracks, "cratedigger sync 1", false)
        .unwrap();
    assert!(!report.dry_run);
    assert!(report.playlist_created);
    assert_eq!(report.tracks.len(), 12);
    assert!(
        report
            .tracks
            .iter()
            .all(|t| t.outcome == "added" && t.cues_created == 8)
    );
    assert_eq!(report.master_playlists_xml, "updated");
    let backup = report.backup_dir.clone().expect("a backup was made");
    assert!(backup.join("master.db").is_file() && backup.join("masterPlaylists6.xml").is_file());

    // A fresh connection sees everything.
    let lib = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    let artists = names(&lib.artists);
    let labels = names(&lib.labels);
    let genres = names(&lib.genres);
    let albums: HashMap<_, _> = lib
        .albums
        .iter()
        .map(|a| (a.id.clone(), a.clone()))
        .collect();
    let keys: HashMap<_, _> = lib
        .keys
        .iter()
        .map(|k| (k.id.clone(), k.scale_name.clone()))
        .collect();
    assert_eq!(lib.tracks.len(), 12);
    assert_eq!(lib.artists.len(), 4, "artists are reused by name");
    assert_eq!(lib.albums.len(), 3);
    assert_eq!(lib.labels.len(), 2);
    assert_eq!(lib.genres.len(), 2);
    for (i, f) in tracks.iter().enumerate() {
        let fp = folder_path(&f.path).unwrap();
        let t = lib
            .track_by_path(&fp)
            .unwrap_or_else(|| panic!("track {i} missing"));
        assert_eq!(t.id, report.tracks[i].content_id);
        assert_eq!(t.file_name.as_deref(), fp.rsplit('/').next());
        assert_eq!(t.title.as_deref(), Some(f.title.as_str()));
        assert_eq!(
            artists[t.artist_id.as_ref().unwrap()],
            f.artist.clone().unwrap()
        );
        let album = &albums[t.album_id.as_ref().unwrap()];
        assert_eq!(album.name, f.album.clone().unwrap());
        assert!(album.album_artist_id.is_some());
        assert_eq!(
            labels[t.label_id.as_ref().unwrap()],
            f.label.clone().unwrap()
        );
        assert_eq!(
            genres[t.genre_id.as_ref().unwrap()],
            f.genre.clone().unwrap()
        );
        assert_eq!(t.bpm_x100, Some((f.bpm.unwrap() * 100.0).round() as i64));
        let want_key = Key::parse(f.key.as_deref().unwrap())
            .unwrap()
            .format(KeyNotation::Camelot);
        assert_eq!(keys[t.key_id.as_ref().unwrap()], want_key);
        assert_eq!(
            t.length_secs,
            Some((f.duration_ms.unwrap() as i64 + 500) / 1000)
        );
        let ext = fp.rsplit('.').next().unwrap();
        let (code, bitrate) = match ext {
            "mp3" => (1, 320),
            "m4a" => (4, 320),
            "flac" => (5, 320),
            "wav" => (11, 44_100 * 24 * 2 / 1000),
            "aiff" => (12, 44_100 * 24 * 2 / 1000),
            other => panic!("{other}"),
        };
        assert_eq!(t.file_type, Some(code), "{fp}");
        assert_eq!(t.bitrate, Some(bitrate), "{fp}");
        assert_eq!(t.sample_rate, Some(44_100));
        assert_eq!(t.bit_depth, f.bit_depth.map(i64::from));
        assert_eq!(
            t.file_size,
            Some(std::fs::metadata(&f.path).unwrap().len() as i64)
        );
        assert_eq!(t.isrc, f.isrc);
        assert_eq!(t.release_year, f.release_year.map(i64::from));
        assert_eq!(t.comment, f.comment);
        assert_eq!(t.rating, Some(0));
        assert_eq!(t.play_count, Some(0));
        assert_eq!(t.color_id, None);
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        assert_eq!(t.stock_date.as_deref(), Some(today.as_str()));
        // Cues: every one, with kind, loop end, colour, name and the track's UUID.
        let cues = lib.cues_of(&t.id);
        assert_eq!(cues.len(), 8);
        for spec in &f.cues {
            let c = cues
                .iter()
                .find(|c| c.in_msec == spec.start_ms as i64)
                .unwrap_or_else(|| panic!("cue at {} missing", spec.start_ms));
            assert_eq!(c.content_uuid, t.uuid);
            assert_eq!(c.out_msec, spec.end_ms.map(|e| e as i64));
            assert_eq!(
                c.comment.clone().unwrap_or_default(),
                spec.comment.clone().unwrap_or_default()
            );
            match spec.hot_cue {
                Some(slot) => {
                    assert_eq!(c.kind, HOT_CUE_KINDS[slot as usize]);
                    assert_eq!(c.hot_cue_slot(), Some(slot));
                    assert_eq!(c.color_table_index, spec.color.map(i64::from));
                }
                None => {
                    assert_eq!(c.kind, 0);
                    assert_eq!(c.color, Some(spec.color.map(i64::from).unwrap_or(-1)));
                }
            }
        }
    }
    // The playlist, in order.
    let pl = lib
        .playlists
        .iter()
        .find(|p| p.name == "cratedigger sync 1")
        .expect("playlist");
    assert_eq!((pl.attribute, pl.parent_id.as_str()), (0, "root"));
    let mut entries: Vec<_> = lib
        .playlist_entries
        .iter()
        .filter(|e| e.playlist_id == pl.id)
        .collect();
    entries.sort_by_key(|e| e.track_no);
    let order: Vec<&str> = entries.iter().map(|e| e.content_id.as_str()).collect();
    let expected: Vec<&str> = report
        .tracks
        .iter()
        .map(|t| t.content_id.as_str())
        .collect();
    assert_eq!(order, expected);
    assert_eq!(
        entries
            .iter()
            .map(|e| e.track_no.unwrap())
            .collect::<Vec<_>>(),
        (1..=12).collect::<Vec<i64>>()
    );

    // Columns Rekordbox needs that the Library view does not carry.
    let conn = raw(&cfg);
    let device_id: String = conn
        .query_row("SELECT ID FROM djmdDevice", [], |r| r.get(0))
        .unwrap();
    let bad = int(
        &conn,
        &format!(
            "SELECT count(*) FROM djmdContent WHERE DeviceID IS NOT '{device_id}' \
             OR MasterDBID IS NOT '3546525630' OR MasterSongID IS NOT ID OR HotCueAutoLoad IS NOT 'on' \
             OR ContentLink IS NOT 14 OR usn IS NOT NULL OR rb_file_id IS NULL OR UUID IS NULL \
             OR created_at NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9] +00:00' \
             OR created_at IS NOT updated_at"
        ),
    );
    assert_eq!(bad, 0, "content rows miss Rekordbox's defaults");
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM djmdCue WHERE InFrame != InMsec * 150 / 1000"
        ),
        0
    );
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM djmdCue c LEFT JOIN djmdContent t ON t.ID = c.ContentID WHERE t.ID IS NULL OR t.UUID IS NOT c.ContentUUID"
        ),
        0,
        "dangling cues"
    );
    assert!(
        db::integrity_problems(&conn, cfg.db_path().unwrap(), false)
            .unwrap()
            .is_empty()
    );

    // masterPlaylists6.xml gained the playlist's node with its updated_at in ms.
    let xml = std::fs::read_to_string(cfg.master_playlists_xml().unwrap()).unwrap();
    let nodes = master_playlists::node_timestamps(&xml).unwrap();
    let hex = master_playlists::node_id(&pl.id).unwrap();
    let (_, ts) = nodes
        .iter()
        .find(|(id, _)| *id == hex)
        .expect("playlist node");
    let updated: String = conn
        .query_row(
            "SELECT updated_at FROM djmdPlaylist WHERE ID = ?1",
            [&pl.id],
            |r| r.get(0),
        )
        .unwrap();
    let ms = chrono::DateTime::parse_from_str(&updated, "%Y-%m-%d %H:%M:%S%.3f %:z")
        .unwrap()
        .timestamp_millis();
    assert_eq!(ts, &ms.to_string());
    assert_eq!(nodes.len(), 2, "the existing node is kept");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn update_counter_and_local_usns_advance_in_order() {
    let (dir, cfg) = fresh_library("usn", test_cipher());
    let tracks = sample_tracks(&dir, 5, "usn");
    let report = writer(&cfg)
        .write_session(&tracks, "usn test", false)
        .unwrap();
    assert_eq!(report.usn_before, SEED_USN);
    // One per change, consecutive, in plan order.
    let usns: Vec<i64> = report.changes.iter().map(|c| c.usn).collect();
    assert_eq!(
        usns,
        ((SEED_USN + 1)..=(SEED_USN + usns.len() as i64)).collect::<Vec<_>>()
    );
    assert_eq!(report.usn_after, SEED_USN + usns.len() as i64);
    // 5 tracks x (1 content + 8 cues + 1 entry) + playlist + 4 artists + 3 albums + 2 labels +
    // 2 genres + 4 keys (Am and 8A are the same key).
    assert_eq!(usns.len(), 5 * 10 + 1 + 4 + 3 + 2 + 2 + 4);
    let conn = raw(&cfg);
    assert_eq!(
        int(
            &conn,
            "SELECT int_1 FROM agentRegistry WHERE registry_id = 'localUpdateCount'"
        ),
        report.usn_after
    );
    // Every row the session wrote carries exactly the USN planned for it; the cloud USN is empty.
    let mut seen = HashSet::new();
    for table in [
        "djmdContent",
        "djmdCue",
        "djmdArtist",
        "djmdAlbum",
        "djmdLabel",
        "djmdGenre",
        "djmdKey",
        "djmdPlaylist",
        "djmdSongPlaylist",
    ] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT ID, rb_local_usn, usn FROM {table} WHERE rb_local_usn > {SEED_USN}"
            ))
            .unwrap();
        let rows: Vec<(String, i64, Option<i64>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (id, usn, cloud) in rows {
            assert_eq!(cloud, None, "{table} {id}: cloud usn must stay empty");
            let planned = report
                .changes
                .iter()
                .find(|c| c.table == table && c.id == id)
                .unwrap_or_else(|| panic!("{table} {id} was not planned"));
            assert_eq!(planned.usn, usn, "{table} {id}");
            assert!(seen.insert(usn), "usn {usn} given twice");
        }
    }
    assert_eq!(seen.len(), usns.len());
    // The seed rows were not touched.
    assert_eq!(int(&conn, "SELECT max(rb_local_usn) FROM djmdColor"), 10);

    // A second session continues from the counter.
    let more = sample_tracks(&dir, 2, "usn2");
    let second = writer(&cfg)
        .write_session(&more, "usn test", false)
        .unwrap();
    assert_eq!(second.usn_before, report.usn_after);
    assert!(!second.playlist_created);
    assert_eq!(second.changes[0].table, "djmdPlaylist");
    assert_eq!(second.changes[0].action, "updated");
    let conn = raw(&cfg);
    assert_eq!(
        int(&conn, "SELECT max(TrackNo) FROM djmdSongPlaylist"),
        7,
        "appended after the first five"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rerunning_a_session_adds_nothing() {
    let (dir, cfg) = fresh_library("rerun", test_cipher());
    let tracks = sample_tracks(&dir, 4, "rerun");
    let w = writer(&cfg);
    w.write_session(&tracks, "again", false).unwrap();
    let before = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    let second = w.write_session(&tracks, "again", false).unwrap();
    assert!(second.tracks.iter().all(|t| t.outcome == "already-present"));
    assert_eq!(
        second.changes.len(),
        1,
        "only the playlist's timestamp: {:?}",
        second.changes
    );
    let after = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(after.tracks, before.tracks);
    assert_eq!(after.cues, before.cues);
    assert_eq!(after.playlist_entries, before.playlist_entries);
    // The same tracks in another playlist: they join it, nothing else.
    let third = w.write_session(&tracks, "another", false).unwrap();
    assert_eq!(
        third
            .changes
            .iter()
            .filter(|c| c.table == "djmdSongPlaylist")
            .count(),
        4
    );
    assert_eq!(
        third
            .changes
            .iter()
            .filter(|c| c.table == "djmdContent")
            .count(),
        0
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn upgrade_takes_over_every_cue_and_the_curation() {
    let (dir, cfg) = fresh_library("upgrade", test_cipher());
    let w = writer(&cfg);
    let old = sample_tracks(&dir, 1, "old").remove(0);
    let old_fp = folder_path(&old.path).unwrap();
    let first = w
        .write_session(std::slice::from_ref(&old), "sync 1", false)
        .unwrap();
    w.write_session(std::slice::from_ref(&old), "favourites", false)
        .unwrap();
    let old_id = first.tracks[0].content_id.clone();
    // The DJ curated the old copy in Rekordbox: rating, plays, colour, comment, a cue-list
    // copy, auto-gain.
    {
        let conn = db::open(
            cfg.db_path().unwrap(),
            &test_cipher(),
            OpenMode::ReadWrite,
            Duration::from_secs(1),
        )
        .unwrap();
        conn.execute(
            "UPDATE djmdContent SET Rating = 4, DJPlayCount = 17, ColorID = '3', Commnt = 'peak time' WHERE ID = ?1",
            [&old_id],
        )
        .unwrap();
        let uuid: String = conn
            .query_row(
                "SELECT UUID FROM djmdContent WHERE ID = ?1",
                [&old_id],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            "INSERT INTO contentCue (ID, ContentID, Cues, rb_cue_count, UUID, created_at, updated_at) \
             VALUES ('cc1', ?1, ?2, 8, 'u-cc1', '2024-01-01 00:00:00.000 +00:00', '2024-01-01 00:00:00.000 +00:00')",
            rusqlite::params![old_id, format!(r#"[{{"ContentID":"{old_id}","ContentUUID":"{uuid}","InMsec":1000}}]"#)],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO djmdMixerParam (ID, ContentID, GainHigh, GainLow, PeakHigh, PeakLow, created_at, updated_at) \
             VALUES ('mp1', ?1, 1, 2, 3, 4, '2024-01-01 00:00:00.000 +00:00', '2024-01-01 00:00:00.000 +00:00')",
            [&old_id],
        )
        .unwrap();
    }
    let before = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    let old_cues: Vec<_> = before.cues_of(&old_id).into_iter().cloned().collect();
    assert_eq!(old_cues.len(), 8);

    // The better copy: a FLAC with fresh metadata and one cue of its own in a free slot and
    // one clashing with hot cue A.
    let new_path = dir.join("music/old 00000 upgraded.flac");
    std::fs::write(&new_path, vec![1u8; 4096]).unwrap();
    let mut better = FiledTrack {
        path: new_path.clone(),
        replaces: Some(old.path.clone()),
        comment: Some("fresh comment".into()),
        bit_depth: Some(24),
        bitrate_kbps: None,
        cues: vec![
            cratedigger_rekordbox::CueSpec {
                hot_cue: Some(0),
                start_ms: 5,
                ..Default::default()
            },
            cratedigger_rekordbox::CueSpec {
                hot_cue: Some(5),
                start_ms: 9_999,
                comment: Some("F".into()),
                ..Default::default()
            },
        ],
        ..old.clone()
    };
    better.format = None;
    let report = w.write_session(&[better], "sync 2", false).unwrap();
    let t = &report.tracks[0];
    let r = t.replaced.as_ref().expect("an upgrade");
    assert_eq!(r.old_content_id, old_id);
    assert_eq!(r.cues_taken_over, 8);
    assert_eq!(r.playlist_entries_taken_over, 2);
    assert_eq!(t.cues_created, 1, "hot cue A stays the old one, F is added");
    let moved = r.old_file_moved_to.clone().expect("old file moved aside");
    assert!(
        moved.is_file() && !old.path.exists(),
        "kept aside, not deleted"
    );
    assert!(moved.starts_with(cfg.replaced_dir().unwrap()));

    let after = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    assert!(
        after.track_by_path(&old_fp).is_none(),
        "the old row is gone"
    );
    let new = after
        .track_by_path(&folder_path(&new_path).unwrap())
        .unwrap();
    assert_eq!(new.id, t.content_id);
    assert_eq!(new.file_type, Some(5));
    assert_eq!((new.rating, new.play_count), (Some(4), Some(17)));
    assert_eq!(new.color_id.as_deref(), Some("3"));
    assert_eq!(
        new.comment.as_deref(),
        Some("peak time"),
        "the DJ's comment wins"
    );
    let new_cues = after.cues_of(&new.id);
    assert_eq!(new_cues.len(), 9);
    for oc in &old_cues {
        let nc = new_cues
            .iter()
            .find(|c| c.id == oc.id)
            .expect("same cue row, moved");
        assert_eq!(nc.content_uuid, new.uuid);
        assert_eq!(
            (
                nc.in_msec,
                nc.out_msec,
                nc.kind,
                nc.color,
                nc.color_table_index,
                &nc.comment
            ),
            (
                oc.in_msec,
                oc.out_msec,
                oc.kind,
                oc.color,
                oc.color_table_index,
                &oc.comment
            )
        );
    }
    // Both playlists now hold the new track, at the old one's positions.
    for name in ["sync 1", "favourites"] {
        let pl = after.playlists.iter().find(|p| p.name == name).unwrap();
        let e: Vec<_> = after
            .playlist_entries
            .iter()
            .filter(|e| e.playlist_id == pl.id)
            .collect();
        assert_eq!(e.len(), 1, "{name}");
        assert_eq!(e[0].content_id, new.id);
    }
    let sync2 = after.playlists.iter().find(|p| p.name == "sync 2").unwrap();
    assert_eq!(
        after
            .playlist_entries
            .iter()
            .filter(|e| e.playlist_id == sync2.id)
            .count(),
        1
    );
    let conn = raw(&cfg);
    assert_eq!(
        int(
            &conn,
            &format!("SELECT count(*) FROM djmdMixerParam WHERE ContentID = '{old_id}'")
        ),
        0
    );
    let cc: (String, String) = conn
        .query_row(
            "SELECT ContentID, Cues FROM contentCue WHERE ID = 'cc1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(cc.0, new.id);
    assert!(
        cc.1.contains(&new.id) && !cc.1.contains(&format!("\"{old_id}\"")),
        "{}",
        cc.1
    );
    for table in ["djmdCue", "djmdSongPlaylist", "contentCue"] {
        assert_eq!(
            int(
                &conn,
                &format!(
                    "SELECT count(*) FROM {table} x LEFT JOIN djmdContent c ON c.ID = x.ContentID WHERE c.ID IS NULL"
                )
            ),
            0,
            "dangling {table}"
        );
    }
    assert_eq!(
        int(
            &conn,
            "SELECT int_1 FROM agentRegistry WHERE registry_id = 'localUpdateCount'"
        ),
        report.usn_after
    );
    assert!(
        db::integrity_problems(&conn, cfg.db_path().unwrap(), false)
            .unwrap()
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn same_path_upgrade_updates_the_row_and_keeps_its_cues() {
    let (dir, cfg) = fresh_library("inplace", test_cipher());
    let w = writer(&cfg);
    let t = sample_tracks(&dir, 1, "inplace").remove(0);
    let first = w
        .write_session(std::slice::from_ref(&t), "s", false)
        .unwrap();
    let id = first.tracks[0].content_id.clone();
    let upgraded = FiledTrack {
        replaces: Some(t.path.clone()),
        bitrate_kbps: Some(1411),
        file_size: Some(99_999),
        cues: Vec::new(),
        ..t.clone()
    };
    let r = w.write_session(&[upgraded], "s", false).unwrap();
    assert_eq!(r.tracks[0].outcome, "updated-in-place");
    let lib = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    let row = lib.tracks.iter().find(|x| x.id == id).unwrap();
    assert_eq!((row.bitrate, row.file_size), (Some(1411), Some(99_999)));
    assert_eq!(lib.cues_of(&id).len(), 8);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dry_run_lists_every_change_and_writes_nothing() {
    let (dir, cfg) = fresh_library("dry", test_cipher());
    let db_path = cfg.db_path().unwrap().to_path_buf();
    let original = bytes(&db_path);
    let tracks = sample_tracks(&dir, 3, "dry");
    // A dry run needs no closed Rekordbox: it only reads.
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe(vec!["rekordbox".into()])));
    let report = w.write_session(&tracks, "dry", true).unwrap();
    assert!(report.dry_run && report.backup_dir.is_none());
    // 3 x (track + 8 cues + entry) + playlist + 3 artists + 3 albums + 2 labels + 2 genres +
    // 2 keys (Am and 8A are one key).
    assert_eq!(report.changes.len(), 3 * 10 + 1 + 3 + 3 + 2 + 2 + 2);
    let text: Vec<String> = report.changes.iter().map(|c| c.to_string()).collect();
    assert!(
        text.iter()
            .any(|l| l.contains("djmdContent") && l.contains("dry Title 0")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|l| l.contains("hot cue D loop")),
        "{text:?}"
    );
    assert_eq!(bytes(&db_path), original, "master.db untouched");
    assert!(
        !cfg.backup_dir().unwrap().exists(),
        "no backup for a dry run"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failure_mid_write_leaves_the_database_byte_identical_to_the_backup() {
    let (dir, cfg) = fresh_library("inject", test_cipher());
    std::fs::write(
        cfg.master_playlists_xml().unwrap(),
        MASTER_PLAYLISTS_TEMPLATE,
    )
    .unwrap();
    let db_path = cfg.db_path().unwrap().to_path_buf();
    let tracks = sample_tracks(&dir, 6, "inject");
    let total = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .write_session(&tracks, "x", true)
        .unwrap()
        .changes
        .len() as u64;
    for fail_at in [0, 1, total / 2, total] {
        let original = bytes(&db_path);
        let err = RekordboxWriter::open(cfg.clone())
            .unwrap()
            .with_probe(Arc::new(FixedProbe::default()))
            .fail_after_changes(fail_at)
            .write_session(&tracks, "x", false)
            .unwrap_err();
        assert!(
            matches!(err, RekordboxError::InjectedFailure { changes } if changes == fail_at),
            "{err}"
        );
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        let newest = cratedigger_rekordbox::backup::list_backups(&cfg.backup_dir().unwrap())
            .unwrap()
            .remove(0);
        assert_eq!(
            bytes(&db_path),
            bytes(&newest.dir.join("master.db")),
            "fail at {fail_at}: differs from the backup"
        );
        assert_eq!(bytes(&db_path), original, "fail at {fail_at}");
        assert_eq!(
            std::fs::read_to_string(cfg.master_playlists_xml().unwrap()).unwrap(),
            MASTER_PLAYLISTS_TEMPLATE
        );
        assert!(
            !dir.join("master.db-journal").exists()
                && !dir.join("masterPlaylists6.xml.cratedigger-new").exists()
        );
    }
    // And the library is still writable afterwards.
    let ok = writer(&cfg).write_session(&tracks, "x", false).unwrap();
    assert_eq!(ok.tracks.len(), 6);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn backups_are_rotated() {
    let (dir, mut cfg) = fresh_library("rotate", test_cipher());
    cfg.backup_keep = 2;
    for i in 0..4 {
        let t = sample_tracks(&dir, 1, &format!("rot{i}"));
        writer(&cfg).write_session(&t, "rot", false).unwrap();
    }
    let backups = cratedigger_rekordbox::backup::list_backups(&cfg.backup_dir().unwrap()).unwrap();
    assert_eq!(backups.len(), 2);
    assert!(backups[0].dir.file_name() > backups[1].dir.file_name());
    assert!(backups.iter().all(|b| b.manifest.reason == "write-session"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn extra_columns_of_a_newer_rekordbox_are_left_alone() {
    let (dir, cfg) = fresh_library("extra", test_cipher());
    {
        let conn = db::open(
            cfg.db_path().unwrap(),
            &test_cipher(),
            OpenMode::ReadWrite,
            Duration::from_secs(1),
        )
        .unwrap();
        conn.execute_batch(
            "ALTER TABLE djmdContent ADD COLUMN FutureColumn TEXT DEFAULT 'kept'; \
             CREATE TABLE djmdFutureTable (ID VARCHAR(255) PRIMARY KEY);",
        )
        .unwrap();
    }
    let tracks = sample_tracks(&dir, 2, "extra");
    writer(&cfg).write_session(&tracks, "extra", false).unwrap();
    let conn = raw(&cfg);
    assert_eq!(
        int(
            &conn,
            "SELECT count(*) FROM djmdContent WHERE FutureColumn = 'kept'"
        ),
        2
    );
    let _ = std::fs::remove_dir_all(dir);
}
