//! Bandcamp contract tests against the real recorded pages in `../shared/fixtures/bandcamp`
//! (read in place, never edited), served by a local site: the search results page, a track
//! page (name-your-price, CAD), an album page (fixed price, GBP), and kellnerd/harmony's
//! extracted `data-tralbum` objects.
//!
//! GAPS in the kit, said so where used: no page whose `freeDownloadPage` is set, no
//! free-download page (`#pagedata[data-blob]`), no `/statdownload/` answer, and no page of
//! the albums the recorded C418 search lists. The free-download steps are built from the
//! reverse-engineering in yt-dlp's Bandcamp extractor (`extractor/bandcamp.py`:
//! `freeDownloadPage` → `data-blob` → `digital_items[0].downloads[<format>].url` →
//! `/statdownload/` answering JavaScript around `{"retry_url": …}`) and
//! free-bandcamp-downloader; the recorded track object is used around them.

mod source_support;
mod support;

use cratedigger_domain::acquisition::{Availability, DownloadRef, SourceCandidate};
use cratedigger_domain::{ErrorClass, WantedTrack};
use cratedigger_platforms::bandcamp::page::{self, ResultKind, Tralbum, TralbumPage};
use cratedigger_platforms::bandcamp::{Bandcamp, BandcampConfig};
use cratedigger_platforms::config::HttpConfig;
use cratedigger_platforms::{AcquisitionSource, DownloadLimits, PlatformContext};
use serde_json::{Value, json};
use source_support::{Answer, Site, files_in, staging, wav};
use support::fixture;

const SEARCH: &str = "bandcamp/search-page_q-C418_page-1.html";
const TRACK: &str = "bandcamp/track-page_teaganbear_just-for-the-halibut.html";
const ALBUM: &str = "bandcamp/album-page_macbenson_coming-of-age.html";
const TRALBUM_TRACK: &str = "bandcamp/tralbum-data_track_svenfredrik_mr-florida-81.json";
const TRALBUM_ALBUM: &str = "bandcamp/tralbum-data_album_spinningrust_do-you-like-acid-ep.json";

fn text(rel: &str) -> String {
    String::from_utf8(fixture(rel)).unwrap()
}

fn wanted(artist: &str, title: &str) -> WantedTrack {
    WantedTrack {
        artist: artist.into(),
        title: title.into(),
        ..Default::default()
    }
}

fn source(base: &str) -> Bandcamp {
    Bandcamp::from_config(
        &BandcampConfig {
            base_url: base.into(),
            ..Default::default()
        },
        &HttpConfig::default(),
        &PlatformContext::default(),
    )
    .unwrap()
}

/// The kit's harmony file: `{"tralbum": <data-tralbum>, "band": …}`.
fn harmony_tralbum(rel: &str) -> Value {
    let v: Value = serde_json::from_slice(&fixture(rel)).unwrap();
    v["tralbum"].clone()
}

fn page_of(tralbum: Value) -> TralbumPage {
    TralbumPage {
        tralbum: serde_json::from_value::<Tralbum>(tralbum).unwrap(),
        ..Default::default()
    }
}

#[test]
fn the_search_page_lists_albums_and_artists_with_clean_addresses() {
    let results = page::parse_search(&text(SEARCH));
    assert_eq!(results.len(), 18, "every li.searchresult of the page");
    assert_eq!(
        results
            .iter()
            .filter(|r| r.kind == ResultKind::Album)
            .count(),
        16
    );
    let one = results.iter().find(|r| r.title == "one").unwrap();
    assert_eq!(one.kind, ResultKind::Album);
    assert_eq!(one.artist.as_deref(), Some("C418"));
    assert_eq!(
        one.url, "https://c418.bandcamp.com/album/one",
        "tracking query dropped"
    );
    assert_eq!(results[0].kind, ResultKind::Artist);
}

#[tokio::test]
async fn a_track_page_is_a_purchase_with_its_price_preview_and_album() {
    let site = Site::start(|uri| match uri.path() {
        "/track/just-for-the-halibut" => Answer::html(fixture(TRACK)),
        _ => Answer::status(404),
    })
    .await;
    let bc = source(&site.base());
    let c = bc
        .page_candidates(
            "https://teaganbear.bandcamp.com/track/just-for-the-halibut",
            &wanted("Teaganbear", "Just for the Halibut"),
        )
        .await
        .unwrap();
    assert_eq!(c.len(), 1, "{c:?}");
    let c = &c[0];
    assert_eq!(c.source, "bandcamp");
    assert_eq!(c.title, "Just for the Halibut");
    assert_eq!(c.artist.as_deref(), Some("Teaganbear"));
    assert_eq!(c.release.as_deref(), Some("Old Singles"));
    assert_eq!(c.availability, Availability::Purchase);
    assert!(c.download.is_none(), "not free: no download");
    assert_eq!(c.price.as_deref(), Some("1.00 CAD or more"));
    assert_eq!(c.duration_ms, Some(124_800));
    assert_eq!(
        c.url.as_deref(),
        Some("https://teaganbear.bandcamp.com/track/just-for-the-halibut")
    );
    assert!(
        c.preview_url.as_deref().is_some_and(
            |p| p.starts_with("https://t4.bcbits.com/stream/") && p.contains("mp3-128")
        ),
        "{:?}",
        c.preview_url
    );
    assert_eq!(site.requests(), vec!["/track/just-for-the-halibut"]);
}

#[tokio::test]
async fn an_album_page_offers_only_the_wanted_track_with_the_album_price() {
    let site = Site::start(|uri| match uri.path() {
        "/album/coming-of-age" => Answer::html(fixture(ALBUM)),
        _ => Answer::status(404),
    })
    .await;
    let bc = source(&site.base());
    let c = bc
        .page_candidates(
            "https://macbenson.bandcamp.com/album/coming-of-age",
            &wanted("mac benson", "Bedsheets"),
        )
        .await
        .unwrap();
    assert_eq!(c.len(), 1, "only the wanted track of 5: {c:?}");
    assert_eq!(c[0].title, "Bedsheets");
    assert_eq!(c[0].release.as_deref(), Some("Coming of Age"));
    assert_eq!(
        c[0].url.as_deref(),
        Some("https://macbenson.bandcamp.com/track/bedsheets-2"),
        "the track's own page, from title_link"
    );
    assert_eq!(
        c[0].price.as_deref(),
        Some("album 4.00 GBP; the track may be sold alone")
    );
    assert_eq!(c[0].duration_ms, Some(92_636));
    assert_eq!(c[0].availability, Availability::Purchase);
}

#[test]
fn harmony_tralbum_objects_map_name_your_price_and_isrc_items() {
    // a track: name your price from 1.00 (no currency on the extracted object)
    let p = page_of(harmony_tralbum(TRALBUM_TRACK));
    let c = page::candidates(
        &p,
        "https://svenfredrik.bandcamp.com/track/mr-florida-81",
        &wanted("Sven Fredrik", "Mr. Florida '81"),
        true,
    );
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].price.as_deref(), Some("1.00 or more"));
    assert_eq!(c[0].artist.as_deref(), Some("Sven Fredrik"));
    assert_eq!(c[0].duration_ms, Some(275_333));
    // an album: two of its five tracks carry the wanted words, each a separate candidate
    let p = page_of(harmony_tralbum(TRALBUM_ALBUM));
    let c = page::candidates(
        &p,
        "https://spinningrust.bandcamp.com/album/do-you-like-acid-ep",
        &wanted("Ragnar Atari", "Do You Like Acid"),
        true,
    );
    assert!(!c.is_empty());
    assert!(
        c.iter().all(|c| c.title.contains("Do You Like Acid")),
        "{c:?}"
    );
    assert_eq!(c[0].release.as_deref(), Some("Do You Like Acid EP"));
    assert_eq!(
        c[0].price.as_deref(),
        Some("album 4.00 or more; the track may be sold alone")
    );
}

#[tokio::test]
async fn find_searches_then_fetches_only_matching_pages() {
    let site = Site::start(|uri| match uri.path() {
        "/search" => Answer::html(fixture(SEARCH)),
        // GAP: the kit has no page of C418's albums; a 404 is skipped like a removed page
        _ => Answer::status(404),
    })
    .await;
    let bc = source(&site.base());
    let found = bc
        .find(&WantedTrack {
            artist: "C418".into(),
            title: "Sweden".into(),
            album: Some("Minecraft - Volume Alpha".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(found.is_empty());
    let req = site.requests();
    assert_eq!(req[0], "/search?q=C418%20Sweden&page=1", "{req:?}");
    assert_eq!(
        req[1..],
        ["/album/minecraft-volume-alpha"],
        "only the album named by the wanted track, fetched by its path: {req:?}"
    );
}

#[tokio::test]
async fn a_free_track_downloads_its_best_format_through_statdownload() {
    let audio = wav(1.0);
    let served = audio.clone();
    let site = Site::start_at(move |base, uri| {
        match uri.path() {
            // GAP: free-download page shape from yt-dlp's extractor (see the file comment)
            "/download" => {
                let blob = json!({"digital_items": [{"type": "t", "item_id": 625725860,
                    "downloads": {
                        "mp3-320": {"url": format!("{base}/download/track?enc=mp3-320&id=625725860&sig=a"), "size_mb": "9MB"},
                        "flac": {"url": format!("{base}/download/track?enc=flac&id=625725860&sig=b"), "size_mb": "30MB"}
                    }}]});
                let attr = blob.to_string().replace('&', "&amp;").replace('"', "&quot;");
                Answer::html(format!("<html><body><div id=\"pagedata\" data-blob=\"{attr}\"></div></body></html>").into_bytes())
            }
            // GAP: statdownload answer shape from yt-dlp's extractor
            "/statdownload/track" => Answer::html(
                format!("if ( window.Downloader ) {{ Downloader.onStatResult({{\"result\":\"ok\",\"retry_url\":\"{base}/files/track.flac?token=fresh\"}}) }}")
                    .into_bytes(),
            ),
            "/files/track.flac" => Answer::audio("audio/flac", served.clone()),
            _ => Answer::status(404),
        }
    })
    .await;
    let bc = source(&site.base());
    // the recorded track object, with the free-download address Bandcamp sets for free
    // items (GAP: no recorded page has one) and a hostile title
    let mut t = harmony_tralbum(TRALBUM_TRACK);
    t["freeDownloadPage"] =
        json!("https://bandcamp.com/download?id=625725860&ts=1&sig=s&type=track");
    t["trackinfo"][0]["title"] = json!("../../etc/x\u{7}\n");
    let c = page::candidates(
        &page_of(t),
        "https://svenfredrik.bandcamp.com/track/mr-florida-81",
        &wanted("Sven Fredrik", "Mr. Florida '81"),
        true,
    );
    let c = &c[0];
    assert_eq!(c.availability, Availability::Download);
    assert_eq!(c.price.as_deref(), Some("free"));
    assert_eq!(
        c.title, "../../etc/x",
        "shown cleaned, never used as a path"
    );
    let dir = staging("bandcamp-free");
    let dest = dir.join("item-42.bin");
    let got = bc
        .download(c, &dest, &DownloadLimits::default(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        got.path,
        dir.join("item-42.flac"),
        "FLAC preferred over MP3 320"
    );
    assert_eq!(std::fs::read(&got.path).unwrap(), audio);
    assert_eq!(files_in(&dir), vec!["item-42.flac"]);
    let req = site.requests();
    assert_eq!(req[0], "/download?id=625725860&ts=1&sig=s&type=track");
    assert!(
        req[1].starts_with("/statdownload/track?enc=flac&id=625725860&sig=b&.rand=")
            && req[1].ends_with("&.vrs=1"),
        "{req:?}"
    );
    assert_eq!(req[2], "/files/track.flac?token=fresh");
}

#[tokio::test]
async fn album_zips_and_non_free_candidates_are_not_downloaded() {
    let site = Site::start(|uri| match uri.path() {
        "/download" => {
            let blob = json!({"digital_items": [{"type": "a", "downloads": {"flac": {"url": "http://x/download/album?enc=flac"}}}]});
            let attr = blob.to_string().replace('"', "&quot;");
            Answer::html(format!("<div id=\"pagedata\" data-blob=\"{attr}\"></div>").into_bytes())
        }
        _ => Answer::status(404),
    })
    .await;
    let bc = source(&site.base());
    let dir = staging("bandcamp-refused");
    let zip = SourceCandidate {
        source: "bandcamp".into(),
        source_key: "https://x.bandcamp.com/album/y".into(),
        title: "Y".into(),
        availability: Availability::Download,
        download: Some(DownloadRef::Http {
            url: "https://bandcamp.com/download?id=1".into(),
        }),
        ..Default::default()
    };
    let e = bc
        .download(
            &zip,
            &dir.join("a.flac"),
            &DownloadLimits::default(),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::BadRequest);
    assert!(e.to_string().contains("zip"), "{e}");
    let buy = SourceCandidate {
        availability: Availability::Purchase,
        download: None,
        ..zip
    };
    let e = bc
        .download(
            &buy,
            &dir.join("b.flac"),
            &DownloadLimits::default(),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::BadRequest);
    assert!(files_in(&dir).is_empty());
}

#[tokio::test]
async fn a_page_that_is_not_a_tralbum_is_malformed_not_empty() {
    let site = Site::start(|_| Answer::html(fixture(SEARCH))).await;
    let e = source(&site.base())
        .page_candidates("https://x.bandcamp.com/track/y", &wanted("a", "b"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Malformed);
    assert!(e.to_string().contains("data-tralbum"), "{e}");
}
