//! The Rekordbox XML export of a written library parses back to the same collection.

mod common;

use common::sample_tracks;
use cratedigger_rekordbox::testing::{fresh_library, test_cipher};
use cratedigger_rekordbox::write::folder_path;
use cratedigger_rekordbox::xml::{
    HOT_CUE_PALETTE, XmlNode, collection_from_library, location_from_path, parse_xml, write_xml,
};
use cratedigger_rekordbox::{FixedProbe, Library, RekordboxWriter};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn export_parses_back_to_the_same_collection() {
    let (dir, cfg) = fresh_library("xml", test_cipher());
    let w = RekordboxWriter::open(cfg.clone())
        .unwrap()
        .with_probe(Arc::new(FixedProbe::default()));
    let tracks = sample_tracks(&dir, 6, "xml");
    w.write_session(&tracks, "Sync & <Friends>", false).unwrap();
    w.write_session(&tracks[..2], "second", false).unwrap();
    let lib = Library::read(
        cfg.db_path().unwrap(),
        &test_cipher(),
        Duration::from_secs(1),
    )
    .unwrap();
    let collection = collection_from_library(&lib);
    let text = write_xml(&collection, "0.1.0").unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(text.contains("<DJ_PLAYLISTS Version=\"1.0.0\">"));
    assert!(text.contains("<COLLECTION Entries=\"6\">"));
    assert!(
        text.contains("Name=\"Sync &amp; &lt;Friends&gt;\""),
        "attributes are escaped"
    );
    let back = parse_xml(&text).unwrap();
    assert_eq!(back, collection);

    // Spot checks against what was written.
    let f = &tracks[0];
    let fp = folder_path(&f.path).unwrap();
    assert!(text.contains(&format!("Location=\"{}\"", location_from_path(&fp))));
    assert!(
        location_from_path(&fp).starts_with("file://localhost/")
            && !location_from_path(&fp).starts_with("file://localhost//")
    );
    assert!(
        location_from_path(&fp).contains("%E2%80%93%20T%C3%ABst%20%26%20Co"),
        "{}",
        location_from_path(&fp)
    );
    let t = back.tracks.iter().find(|t| t.path == fp).unwrap();
    assert_eq!(t.name, f.title);
    assert_eq!(t.artist, f.artist.clone().unwrap());
    assert_eq!(t.average_bpm, Some(120.0));
    assert_eq!(t.tonality, "8A");
    assert_eq!(t.marks.len(), 8);
    let hot_a = t.marks.iter().find(|m| m.num == 0).unwrap();
    assert_eq!(
        hot_a.rgb,
        Some(HOT_CUE_PALETTE[1]),
        "hot cue A was written with colour index 1"
    );
    let hot_d = t.marks.iter().find(|m| m.num == 3).unwrap();
    assert_eq!(hot_d.mark_type, 4);
    assert!(hot_d.end.unwrap() > hot_d.start);
    assert_eq!(t.marks.iter().filter(|m| m.num == -1).count(), 4);
    assert!(
        t.marks
            .iter()
            .filter(|m| m.num == -1)
            .all(|m| m.rgb.is_none())
    );
    assert!(t.tempos.is_empty(), "no invented beat grid");
    match &back.playlists[..] {
        [
            XmlNode::Playlist { name, track_ids },
            XmlNode::Playlist {
                name: n2,
                track_ids: t2,
            },
        ] => {
            assert_eq!(name, "Sync & <Friends>");
            assert_eq!(track_ids.len(), 6);
            assert_eq!(n2, "second");
            assert_eq!(t2.len(), 2);
            assert_eq!(t2[0], track_ids[0]);
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}
