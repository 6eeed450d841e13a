//! Deezer contract tests against the real recorded payloads in `../shared/fixtures` (read in
//! place), served by a local axum server, including Deezer's quirks: the error object with
//! HTTP 200, `bpm: 0` meaning unknown, `\/` escapes, `title_version`, paging by `next`.

mod support;

use cratedigger_domain::{ArtistRole, ErrorClass};
use cratedigger_platforms::MetadataPlatform;
use cratedigger_platforms::deezer::Deezer;
use std::time::Duration;
use support::{Reply, Server, client, fixture};

const NO_DATA: &str = "deezer/error_track_not_found.json";

/// Serves the recorded payloads by path, like Deezer (unknown ids get the real error
/// object with HTTP 200).
async fn dz_server() -> Server {
    Server::start(vec![], |uri| {
        let file = match uri.path() {
            "/track/3135556" | "/track/isrc:GBDUW0000059" => "deezer/track_3135556.json",
            "/track/2947516331" | "/track/isrc:USUM72409273" => "deezer/track_2947516331.json",
            "/search/track" if uri.query().unwrap_or_default().contains("Doillon") => {
                "deezer/search-track_artist-lou-doillon_track-joke.json"
            }
            "/search/track" => "deezer/search_q-soliloquy.json",
            "/playlist/9200461/tracks" => "deezer/playlist_9200461_tracks.json",
            _ => NO_DATA,
        };
        Reply::json(fixture(file))
    })
    .await
}

fn dz(server: &Server) -> Deezer {
    Deezer::with_client(client("deezer", true).0, &server.base())
}

#[tokio::test]
async fn track_lookup_maps_the_recorded_track() {
    let server = dz_server().await;
    let t = dz(&server)
        .lookup_id("3135556")
        .await
        .unwrap()
        .expect("recorded track");
    assert_eq!(t.platform, "deezer");
    assert_eq!(t.platform_id, "3135556");
    assert_eq!(t.title, "Harder Better Faster Stronger");
    assert_eq!(t.mix, None, "empty title_version is no mix");
    assert_eq!(t.isrc.as_deref(), Some("GBDUW0000059"));
    assert_eq!(t.duration_ms, Some(224_000));
    assert_eq!(t.bpm, Some(123.0));
    assert_eq!(t.release_title.as_deref(), Some("Discovery"));
    assert_eq!(t.release_date.as_deref(), Some("2001-03-07"));
    assert_eq!(
        t.url.as_deref(),
        Some("https://www.deezer.com/track/3135556"),
        "\\/ unescaped"
    );
    assert_eq!(
        t.artwork_url.as_deref(),
        Some(
            "https://e-cdns-images.dzcdn.net/images/cover/2e018122cb56986277102d2041a592c8/1000x1000-000000-80-0-0.jpg"
        )
    );
    assert_eq!(t.artists.len(), 1);
    assert_eq!(
        (t.artists[0].name.as_str(), t.artists[0].role),
        ("Daft Punk", ArtistRole::Main)
    );
    assert_eq!(t.raw.as_ref().unwrap()["gain"], -12.4);
}

#[tokio::test]
async fn bpm_zero_is_unknown_and_contributors_are_credited() {
    let server = dz_server().await;
    let t = dz(&server).lookup_id("2947516331").await.unwrap().unwrap();
    assert_eq!(t.title, "Die With A Smile");
    assert_eq!(
        t.raw.as_ref().unwrap()["bpm"],
        0,
        "the recorded payload says 0"
    );
    assert_eq!(t.bpm, None, "bpm 0 means unknown");
    assert_eq!(t.main_artist(), "Lady Gaga, Bruno Mars");
    assert_eq!(t.isrc.as_deref(), Some("USUM72409273"));
    assert_eq!(t.duration_ms, Some(250_000));
    assert_eq!(t.release_date.as_deref(), Some("2024-08-16"));
}

#[tokio::test]
async fn isrc_lookup_hits_the_isrc_route() {
    let server = dz_server().await;
    let hits = dz(&server).lookup_isrc("gbduw0000059").await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].platform_id, "3135556");
    assert_eq!(server.requests(), vec!["/track/isrc:GBDUW0000059"]);
}

/// The real recorded error object (HTTP 200, code 800 "no data") is "nothing found".
#[tokio::test]
async fn error_object_with_http_200_is_not_found_and_not_retried() {
    let server = dz_server().await;
    let d = dz(&server);
    assert_eq!(d.lookup_id("-1").await.unwrap(), None);
    assert!(d.lookup_isrc("XXXXX0000000").await.unwrap().is_empty());
    assert_eq!(server.requests().len(), 2, "not found is never retried");

    let (http, _) = client("deezer", true);
    let http = http.with_body_check(cratedigger_platforms::deezer::error_in_body);
    let err = http
        .get_json_once::<serde_json::Value>(&format!("{}/track/-1", server.base()))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound);
    assert!(
        err.detail.contains("DataException: no data"),
        "{}",
        err.detail
    );
}

#[tokio::test]
async fn advanced_search_maps_the_recorded_page() {
    let server = dz_server().await;
    let hits = dz(&server).search("Lou Doillon", "Joke").await.unwrap();
    assert_eq!(
        server.requests(),
        vec!["/search/track?q=artist%3A%22Lou%20Doillon%22%20track%3A%22Joke%22&limit=25"]
    );
    assert_eq!(hits.len(), 1);
    let t = &hits[0];
    assert_eq!(t.platform_id, "623719262");
    assert_eq!(t.title, "The joke");
    assert_eq!(t.main_artist(), "Lou Doillon");
    assert_eq!(t.release_title.as_deref(), Some("Soliloquy"));
    assert_eq!(t.duration_ms, Some(200_000));
    assert_eq!(t.bpm, None, "search answers carry no bpm");
    assert_eq!(t.isrc, None, "search answers carry no isrc");
}

#[tokio::test]
async fn title_version_becomes_the_mix() {
    let server = dz_server().await;
    let hits = dz(&server).search("Someone", "Soliloquy").await.unwrap();
    assert_eq!(hits.len(), 25);
    let remastered = hits
        .iter()
        .find(|h| h.raw.as_ref().unwrap()["title"] == "Soliloquy (Remastered)")
        .expect("recorded remastered track");
    assert_eq!(remastered.title, "Soliloquy");
    assert_eq!(remastered.mix.as_deref(), Some("Remastered"));
}

/// GAP: the kit has no empty Deezer search; `{"data":[],"total":0}` is built from Deezer's docs.
#[tokio::test]
async fn empty_search_is_empty() {
    let server = Server::start(vec![], |_| {
        Reply::json(br#"{"data":[],"total":0}"#.to_vec())
    })
    .await;
    assert!(
        dz(&server)
            .search("Bicep", "Glue")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Paging: follows `next` (rebased onto our base URL); the kit records only the first page,
/// which the server repeats, and the client stops when a page adds nothing new.
#[tokio::test]
async fn playlist_tracks_follow_next_onto_the_configured_base() {
    let server = dz_server().await;
    let tracks = dz(&server).playlist_tracks("9200461").await.unwrap();
    assert_eq!(tracks.len(), 25);
    assert_eq!(tracks[0].title, "Otherwise");
    assert_eq!(tracks[0].main_artist(), "Morcheeba");
    assert_eq!(
        server.requests(),
        vec![
            "/playlist/9200461/tracks",
            "/playlist/9200461/tracks?index=25"
        ]
    );
}

/// GAP: no recorded quota error; `{"error":{"type":"Exception","message":"Quota limit
/// exceeded","code":4}}` is built from Deezer's docs (error code 4). It is a rate limit,
/// retried after at least the 5 s window.
#[tokio::test]
async fn quota_error_is_a_rate_limit_and_retried() {
    let quota =
        br#"{"error":{"type":"Exception","message":"Quota limit exceeded","code":4}}"#.to_vec();
    let server = Server::start(vec![Reply::json(quota)], |_| {
        Reply::json(fixture("deezer/track_3135556.json"))
    })
    .await;
    let (http, waits) = client("deezer", true);
    let d = Deezer::with_client(http, &server.base());
    let t = d.lookup_id("3135556").await.unwrap().unwrap();
    assert_eq!(t.isrc.as_deref(), Some("GBDUW0000059"));
    assert_eq!(server.requests().len(), 2);
    let w = waits.lock().unwrap().clone();
    assert_eq!(w.len(), 1);
    assert!(
        w[0] >= Duration::from_secs(5) && w[0] <= Duration::from_secs(30),
        "{w:?}"
    );
}
