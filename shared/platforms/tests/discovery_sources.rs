//! DJ sets as sync sources (`cratedigger sync <1001tracklists url | mixcloud url>`) through
//! `Sources::fetch`, against the real recorded pages and answers in `../shared/fixtures`
//! (`1001tracklists/`, `mixcloud/`; read in place, never edited) served by a local site.
//!
//! GAP: the kit has no Mixcloud cloudcast lookup answer without `sections`; one cloudcast
//! object of the recorded user list (`user-cloudcasts_brooklynradio.json`, which like the
//! lookup of a show without a published tracklist carries no `sections`) stands in for it.

mod source_support;
mod support;

use cratedigger_domain::ErrorClass;
use cratedigger_platforms::mixcloud::MixcloudConfig;
use cratedigger_platforms::sources::{SourceError, Sources};
use cratedigger_platforms::tracklists::TracklistsConfig;
use cratedigger_platforms::{PlatformContext, PlatformsConfig};
use serde_json::Value;
use source_support::{Answer, Site};
use support::fixture;

const TRACKLIST: &str =
    "1001tracklists/tracklist_1gz59x6t_bicep-warehouse-project-rotterdam-2023-04-28.html";
const CHALLENGE: &str = "1001tracklists/challenge-page_2hjnqr0t_bicep-nts-radio-2022-06-16.html";
const CLOUDCAST: &str = "mixcloud/cloudcast_NTSRadio_knee-deep-26th-august-2014.json";
const USER_LIST: &str = "mixcloud/user-cloudcasts_brooklynradio.json";

const SET_URL: &str = "https://www.1001tracklists.com/tracklist/1gz59x6t/bicep-the-warehouse-project-rdm-rotterdam-netherlands-2023-04-28.html";
const BLOCKED_URL: &str =
    "https://www.1001tracklists.com/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html";

async fn site() -> Site {
    Site::start(|uri| match uri.path() {
        "/tracklist/1gz59x6t/bicep-the-warehouse-project-rdm-rotterdam-netherlands-2023-04-28.html" => {
            Answer::html(fixture(TRACKLIST))
        }
        // the interstitial comes with HTTP 200, as the site sends it
        "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html" => Answer::html(fixture(CHALLENGE)),
        "/NTSRadio/knee-deep-26th-august-2014/" => Answer::json(fixture(CLOUDCAST)),
        "/brooklynradio/no-tracklist/" => {
            let list: Value = serde_json::from_slice(&fixture(USER_LIST)).unwrap();
            Answer::json(list["data"][0].to_string().into_bytes())
        }
        _ => Answer::status(404),
    })
    .await
}

fn sources(base: &str) -> Sources {
    let cfg = PlatformsConfig {
        tracklists: TracklistsConfig {
            base_url: base.into(),
            ..Default::default()
        },
        mixcloud: MixcloudConfig {
            base_url: base.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    Sources::from_config(&cfg, &PlatformContext::local(&cfg))
}

#[tokio::test]
async fn a_1001tracklists_set_becomes_wanted_tracks_with_mixes_and_labels() {
    let site = site().await;
    let read = sources(&site.base()).fetch(SET_URL).await.unwrap();
    assert_eq!(read.source.format(), "1001tracklists-tracklist");
    assert_eq!(read.source.display_platform(), "1001Tracklists");
    assert_eq!(
        read.entries.len() + read.skipped.len(),
        22,
        "every row of the page"
    );
    assert_eq!(read.entries.len(), 16, "{:#?}", read.skipped);
    let first = &read.entries[0];
    assert_eq!(first.line_no, 1);
    assert_eq!(first.wanted.artist, "Bicep");
    assert_eq!(first.wanted.title, "Apricots");
    assert_eq!(
        first.wanted.mix, None,
        "the DJ's (Live Edit) is not a release version"
    );
    assert_eq!(first.wanted.label.as_deref(), Some("Ninja Tune"));
    assert_eq!(first.wanted.duration_ms, Some(246_000));
    assert_eq!(
        first.url.as_deref(),
        Some("https://www.1001tracklists.com/track/28992ct5/bicep-apricots/index.html")
    );
    assert_eq!(first.platform_id, "28992ct5");
    let remix = read
        .entries
        .iter()
        .find(|e| e.wanted.title == "Copy Copy")
        .unwrap();
    assert_eq!(remix.line_no, 3);
    assert_eq!(remix.wanted.artist, "Moderat");
    assert_eq!(
        remix.wanted.mix.as_deref(),
        Some("LOGIC1000 & Big Ever Remix")
    );
    assert_eq!(remix.wanted.label.as_deref(), Some("Monkeytown Records"));
    let feat = read
        .entries
        .iter()
        .find(|e| e.wanted.title == "Water")
        .unwrap();
    assert_eq!(
        feat.wanted.artist, "Bicep",
        "ft. artists are featured, not main"
    );
    let no_label = read
        .entries
        .iter()
        .find(|e| e.wanted.title == "Kept Aside")
        .unwrap();
    assert_eq!(no_label.wanted.label, None, "no label shown, none invented");
    // unidentified tracks are listed with the reason, at their positions
    let ids: Vec<u32> = read.skipped.iter().map(|s| s.line_no).collect();
    assert_eq!(ids, vec![8, 9, 13, 18, 19, 20]);
    assert!(
        read.skipped
            .iter()
            .all(|s| s.reason.contains("unidentified"))
    );
    assert_eq!(read.skipped[0].input, "ID - ID");
}

#[tokio::test]
async fn the_anti_bot_page_is_an_error_not_an_empty_tracklist() {
    let site = site().await;
    let e = sources(&site.base()).fetch(BLOCKED_URL).await.unwrap_err();
    let SourceError::PlatformFailed { error, .. } = &e else {
        panic!("expected a platform failure, got {e:?}");
    };
    assert_eq!(error.class, ErrorClass::RateLimit);
    assert!(
        e.to_string()
            .contains("1001tracklists blocked the request with an anti-bot challenge"),
        "{e}"
    );
    assert_eq!(
        site.requests(),
        vec!["/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"],
        "asked once: retrying a challenge page does not help"
    );
}

#[tokio::test]
async fn a_mixcloud_show_with_sections_becomes_its_tracklist() {
    let site = site().await;
    let read = sources(&site.base())
        .fetch("https://www.mixcloud.com/NTSRadio/knee-deep-26th-august-2014/")
        .await
        .unwrap();
    assert_eq!(read.source.format(), "mixcloud-tracklist");
    assert_eq!(read.entries.len(), 14);
    assert!(read.skipped.is_empty());
    let e = &read.entries[1];
    assert_eq!(
        (e.wanted.artist.as_str(), e.wanted.title.as_str()),
        ("Soft Machine", "Down The Road")
    );
    assert_eq!(e.line_no, 2);
    assert_eq!(
        e.url.as_deref(),
        Some("http://www.mixcloud.com/track/soft-machine/down-the-road/")
    );
    assert_eq!(
        site.requests(),
        vec!["/NTSRadio/knee-deep-26th-august-2014/"]
    );
}

#[tokio::test]
async fn a_mixcloud_show_without_a_published_tracklist_says_so() {
    let site = site().await;
    let e = sources(&site.base())
        .fetch("https://www.mixcloud.com/brooklynradio/no-tracklist/")
        .await
        .unwrap_err();
    assert!(matches!(e, SourceError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("has no tracklist"), "{e}");
}

#[tokio::test]
async fn switched_off_readers_refuse_with_the_variable() {
    let cfg = PlatformsConfig {
        tracklists: TracklistsConfig {
            enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let e = Sources::from_config(&cfg, &PlatformContext::local(&cfg))
        .fetch(SET_URL)
        .await
        .unwrap_err();
    assert!(matches!(e, SourceError::Unavailable { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("CRATEDIGGER__PLATFORMS__TRACKLISTS__ENABLED"),
        "{e}"
    );
}
