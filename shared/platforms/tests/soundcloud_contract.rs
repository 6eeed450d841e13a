//! SoundCloud api-v2 contract tests against the real recorded answers in
//! `../shared/fixtures/soundcloud` (read in place, never edited), served by a local site:
//! the track search (one downloadable original among Go+ snippets and monetised tracks), the
//! three `/resolve` answers, and the client id handling.
//!
//! GAP in the kit: no `/tracks/{id}/download` answer. Its shape, `{"redirectUri": "<file
//! address>"}`, is from yt-dlp's SoundCloud extractor (`_extract_info_dict`: downloadable
//! and `has_downloads_left` → `tracks/{id}/download` → `redirectUri`); it is built in the
//! test around the recorded downloadable track.

mod source_support;
mod support;

use cratedigger_domain::acquisition::{Availability, DownloadRef};
use cratedigger_domain::{ErrorClass, WantedTrack};
use cratedigger_platforms::config::HttpConfig;
use cratedigger_platforms::soundcloud::{SoundCloud, SoundCloudConfig, map_track};
use cratedigger_platforms::{AcquisitionSource, DownloadLimits, PlatformContext};
use serde_json::{Value, json};
use source_support::{Answer, Site, files_in, staging, wav};
use support::fixture;

const SEARCH: &str = "soundcloud/api-v2_search-tracks_q-cirque-du-soleil_offset-0.json";
const RESOLVE_WB: &str = "soundcloud/api-v2_resolve_track_blakewhiten_hard-to-break.json";
const RESOLVE_GOPLUS: &str = "soundcloud/api-v2_resolve_track_martinsolveig_places_go-plus.json";
const CLIENT_ID: &str = "test-client-id-0123";

fn source(base: &str) -> SoundCloud {
    SoundCloud::from_config(
        &SoundCloudConfig {
            base_url: base.into(),
            client_id: Some(CLIENT_ID.into()),
            ..Default::default()
        },
        &HttpConfig::default(),
        &PlatformContext::default(),
    )
    .unwrap()
}

fn json_file(rel: &str) -> Value {
    serde_json::from_slice(&fixture(rel)).unwrap()
}

#[tokio::test]
async fn search_maps_downloadable_originals_purchase_links_and_streams() {
    let site = Site::start(|uri| match uri.path() {
        "/search/tracks" => Answer::json(fixture(SEARCH)),
        _ => Answer::status(404),
    })
    .await;
    let sc = source(&site.base());
    let c = sc
        .find(&WantedTrack {
            artist: "Cirque du Soleil".into(),
            title: "Alegria".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(c.len(), 10, "every track of the recorded page");
    // the one track whose uploader allows downloads
    let dl: Vec<_> = c.iter().filter(|c| c.is_downloadable()).collect();
    assert_eq!(dl.len(), 1, "{c:?}");
    assert_eq!(
        dl[0].title,
        "Cirque Du Soleil: Alegria - Alegria Mega Mashup"
    );
    assert_eq!(dl[0].source_key, "soundcloud:tracks:301182326");
    assert_eq!(
        dl[0].download,
        Some(DownloadRef::Http {
            url: "https://api-v2.soundcloud.com/tracks/301182326/download".into()
        }),
        "no client id in the stored reference"
    );
    assert_eq!(dl[0].duration_ms, Some(310_076));
    // the BlastersBoyz remix carries the uploader's purchase link
    let buy = c.iter().find(|c| c.title.contains("BlastersBoyz")).unwrap();
    assert_eq!(buy.availability, Availability::Purchase);
    assert_eq!(
        buy.url.as_deref(),
        Some("https://hypeddit.com/cirquedusoleil/alegriablastersboyzremix")
    );
    // a Go+ snippet (policy SNIP, duration 30 s) is a stream with its full length
    let snip = c.iter().find(|c| c.title == "Mirko").unwrap();
    assert_eq!(snip.availability, Availability::Stream);
    assert_eq!(snip.duration_ms, Some(255_399));
    assert!(c.iter().all(|c| c.source == "soundcloud"));
    let req = site.requests();
    assert_eq!(
        req,
        vec![format!(
            "/search/tracks?q=Cirque%20du%20Soleil%20Alegria&client_id={CLIENT_ID}&limit=10&offset=0"
        )]
    );
}

#[test]
fn resolve_answers_map_publisher_metadata() {
    let wb = map_track(&json_file(RESOLVE_WB)).unwrap();
    assert_eq!(wb.artist.as_deref(), Some("Blake Whiten"));
    assert_eq!(wb.release.as_deref(), Some("Hard to Break"));
    assert_eq!(wb.availability, Availability::Stream);
    assert_eq!(
        wb.url.as_deref(),
        Some("https://soundcloud.com/blakewhiten/hard-to-break")
    );
    let gp = map_track(&json_file(RESOLVE_GOPLUS)).unwrap();
    assert_eq!(gp.artist.as_deref(), Some("Martin Solveig"));
    assert_eq!(
        gp.duration_ms,
        Some(202_789),
        "full_duration, not the 30 s snippet"
    );
}

#[tokio::test]
async fn resolve_goes_through_the_api_and_refuses_other_hosts() {
    let site = Site::start(|uri| match uri.path() {
        "/resolve" => Answer::json(fixture(RESOLVE_WB)),
        _ => Answer::status(404),
    })
    .await;
    let sc = source(&site.base());
    let c = sc
        .resolve("https://soundcloud.com/blakewhiten/hard-to-break")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.title, "Hard to Break");
    assert_eq!(
        site.requests(),
        vec![format!(
            "/resolve?url=https%3A%2F%2Fsoundcloud.com%2Fblakewhiten%2Fhard-to-break&client_id={CLIENT_ID}"
        )]
    );
    let e = sc.resolve("https://evil.example/x").await.unwrap_err();
    assert_eq!(e.class, ErrorClass::BadRequest);
}

#[tokio::test]
async fn a_downloadable_original_is_fetched_through_its_redirect() {
    let audio = wav(1.5);
    let served = audio.clone();
    let site = Site::start_at(move |base, uri| match uri.path() {
        // GAP: answer shape from yt-dlp's extractor (see the file comment)
        "/tracks/301182326/download" => Answer::json(
            json!({"redirectUri": format!("{base}/original/file?Policy=signed")})
                .to_string()
                .into_bytes(),
        ),
        "/original/file" => Answer::audio("audio/wav", served.clone()),
        _ => Answer::status(404),
    })
    .await;
    let search = json_file(SEARCH);
    let mut raw = search["collection"][0].clone();
    // hostile title: shown cleaned, never part of the path
    raw["title"] = json!("../../../tmp/evil\u{1b}[31m");
    let c = map_track(&raw).unwrap();
    assert!(!c.title.contains('\u{1b}'));
    let dir = staging("soundcloud");
    let dest = dir.join("item-7.bin");
    let sc = source(&site.base());
    let got = sc
        .download(&c, &dest, &DownloadLimits::default(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        got.path,
        dir.join("item-7.wav"),
        "extension from the file's Content-Type"
    );
    assert_eq!(std::fs::read(&got.path).unwrap(), audio);
    assert_eq!(files_in(&dir), vec!["item-7.wav"]);
    assert_eq!(
        site.requests(),
        vec![
            format!("/tracks/301182326/download?client_id={CLIENT_ID}"),
            "/original/file?Policy=signed".to_string()
        ]
    );
}

#[tokio::test]
async fn streams_are_never_downloaded_and_a_refused_download_says_why() {
    let site = Site::start(|_| Answer::status(404)).await;
    let sc = source(&site.base());
    let dir = staging("soundcloud-refused");
    let stream = map_track(&json_file(RESOLVE_WB)).unwrap();
    let e = sc
        .download(
            &stream,
            &dir.join("a.bin"),
            &DownloadLimits::default(),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::BadRequest);
    assert!(site.requests().is_empty(), "no request for a stream");
    let search = json_file(SEARCH);
    let c = map_track(&search["collection"][0]).unwrap();
    let e = sc
        .download(
            &c,
            &dir.join("b.bin"),
            &DownloadLimits::default(),
            &|_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::NotFound);
    assert!(
        e.to_string().contains("no longer offers track 301182326"),
        "{e}"
    );
    assert!(
        !e.to_string().contains(CLIENT_ID),
        "client id kept out: {e}"
    );
    assert!(files_in(&dir).is_empty());
}

#[tokio::test]
async fn a_refused_client_id_names_the_variable_without_showing_the_id() {
    let site = Site::start(|_| Answer::status(401)).await;
    let e = source(&site.base())
        .find(&WantedTrack {
            artist: "a".into(),
            title: "b".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth);
    let s = e.to_string();
    assert!(
        s.contains("CRATEDIGGER__SOURCES__SOUNDCLOUD__CLIENT_ID"),
        "{s}"
    );
    assert!(
        !s.contains(CLIENT_ID) && !e.detail.contains(CLIENT_ID),
        "{e:?}"
    );
}
