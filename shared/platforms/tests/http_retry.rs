//! The shared HTTP layer against misbehaving local servers: 429 with Retry-After, 500
//! bursts, dropped connections, timeouts, oversized and undecodable bodies. Waits are
//! recorded by an injected sleeper, so a test can also use real sockets that are slow on
//! purpose (timeouts); the last test runs the production sleeper on tokio's paused clock.

mod support;

use cratedigger_domain::ErrorClass;
use cratedigger_platforms::http::{HttpClientOptions, RetryPolicy};
use std::time::Duration;
use support::{Reply, Server, client, client_with, dropping_server, fixture, secs, silent_server};

const TRACK: &str = "deezer/track_3135556.json";

fn ok_track() -> Reply {
    Reply::json(fixture(TRACK))
}

#[tokio::test]
async fn rate_limit_honours_retry_after_then_succeeds() {
    let script = vec![
        Reply::status(429).retry_after("45"),
        Reply::status(429).retry_after("45"),
    ];
    let server = Server::start(script, |_| ok_track()).await;
    let (http, waits) = client("deezer", true);
    let got = http
        .get_json_with_retry::<serde_json::Value>(&format!("{}/track/3135556", server.base()))
        .await
        .unwrap();
    assert_eq!(got.attempts, 3);
    assert_eq!(got.body["isrc"], "GBDUW0000059");
    let w = secs(&waits);
    assert_eq!(w.len(), 2);
    // Retry-After is the floor, the 60 s cap the ceiling
    assert!(w.iter().all(|s| (45..=60).contains(s)), "{w:?}");
}

#[tokio::test]
async fn rate_limit_without_jitter_follows_the_product_schedule_and_gives_up_after_5() {
    let server = Server::start(vec![], |_| Reply::status(429).retry_after("1")).await;
    let (http, waits) = client("musicbrainz", false);
    let err = http
        .get_json_with_retry::<serde_json::Value>(&format!("{}/ws/2/recording", server.base()))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RateLimit);
    assert_eq!(err.attempts, 5);
    assert_eq!(err.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(server.requests().len(), 5);
    assert_eq!(secs(&waits), vec![30, 60, 60, 60]);
}

#[tokio::test]
async fn retry_after_longer_than_max_wait_returns_at_once() {
    let server = Server::start(vec![], |_| Reply::status(429).retry_after("3600")).await;
    let (http, waits) = client("spotify", true);
    let err = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RateLimit);
    assert_eq!(err.attempts, 1);
    assert_eq!(err.retry_after, Some(Duration::from_secs(3600)));
    assert!(secs(&waits).is_empty(), "a long wait is never slept");
    assert_eq!(server.requests().len(), 1);
    assert!(
        err.to_string().contains("it asked us to wait 3600 s"),
        "{err}"
    );

    // a larger max_wait (config http.max_wait_secs) lets the same wait be slept
    let server = Server::start(vec![Reply::status(429).retry_after("90")], |_| ok_track()).await;
    let (http, waits) = client_with(
        "spotify",
        HttpClientOptions {
            policy: RetryPolicy::default().with_max_wait(Duration::from_secs(120)),
            ..HttpClientOptions::default()
        },
    );
    let got = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap();
    assert_eq!(got.attempts, 2);
    assert_eq!(secs(&waits), vec![90]);
}

#[tokio::test]
async fn retry_after_as_http_date_is_understood() {
    let when = std::time::SystemTime::now() + Duration::from_secs(40);
    let secs_since_epoch = when
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let date = chrono::DateTime::from_timestamp(secs_since_epoch, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server = Server::start(vec![Reply::status(429).retry_after(&date)], |_| ok_track()).await;
    let (http, waits) = client("deezer", true);
    let got = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap();
    assert_eq!(got.attempts, 2);
    let w = secs(&waits);
    assert!((38..=40).contains(&w[0]), "{w:?}");
}

#[tokio::test]
async fn server_error_burst_is_retried_with_backoff() {
    let server = Server::start(vec![Reply::status(500), Reply::status(503)], |_| ok_track()).await;
    let (http, waits) = client("deezer", false);
    let got = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap();
    assert_eq!(got.attempts, 3);
    assert_eq!(secs(&waits), vec![5, 10]);

    let server = Server::start(vec![], |_| Reply::status(500)).await;
    let (http, waits) = client("deezer", true);
    let err = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Server);
    assert_eq!(err.attempts, 3);
    assert_eq!(server.requests().len(), 3);
    let w = waits.lock().unwrap().clone();
    assert!(
        w[0] <= Duration::from_secs(5) && w[1] <= Duration::from_secs(10),
        "{w:?}"
    );
}

#[tokio::test]
async fn auth_not_found_and_bad_request_fail_fast() {
    for (status, class) in [
        (401, ErrorClass::Auth),
        (403, ErrorClass::Auth),
        (404, ErrorClass::NotFound),
        (400, ErrorClass::BadRequest),
    ] {
        let server = Server::start(vec![], move |_| Reply::status(status)).await;
        let (http, waits) = client("discogs", true);
        let err = http
            .get_json_with_retry::<serde_json::Value>(&server.base())
            .await
            .unwrap_err();
        assert_eq!(err.class, class, "HTTP {status}");
        assert_eq!(err.attempts, 1);
        assert_eq!(server.requests().len(), 1);
        assert!(secs(&waits).is_empty());
    }
}

#[tokio::test]
async fn dropped_connections_are_network_errors_and_retried() {
    let (addr, seen) = dropping_server(2, fixture(TRACK)).await;
    let (http, waits) = client("deezer", false);
    let got = http
        .get_json_with_retry::<serde_json::Value>(&format!("http://{addr}/track/3135556"))
        .await
        .unwrap();
    assert_eq!(got.attempts, 3);
    assert_eq!(got.body["id"], 3_135_556);
    assert_eq!(*seen.lock().unwrap(), 3);
    assert_eq!(secs(&waits), vec![2, 4]);

    let (addr, _) = dropping_server(usize::MAX, Vec::new()).await;
    let (http, _) = client("deezer", true);
    let err = http
        .get_json_with_retry::<serde_json::Value>(&format!("http://{addr}/"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Network);
    assert_eq!(err.attempts, 3);
}

#[tokio::test]
async fn refused_connection_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (http, waits) = client("musicbrainz", true);
    let err = http
        .get_json_with_retry::<serde_json::Value>(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Network);
    assert_eq!(err.attempts, 3);
    assert_eq!(waits.lock().unwrap().len(), 2);
    assert!(
        err.to_string()
            .starts_with("musicbrainz could not be reached"),
        "{err}"
    );
}

#[tokio::test]
async fn timeouts_are_network_errors() {
    let addr = silent_server().await;
    let (http, _) = client_with(
        "deezer",
        HttpClientOptions {
            timeout: Duration::from_millis(200),
            ..HttpClientOptions::default()
        },
    );
    let err = http
        .get_json_with_retry::<serde_json::Value>(&format!("http://{addr}/"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Network);
    assert_eq!(err.attempts, 3);
    assert!(err.detail.contains("timed out"), "{}", err.detail);
}

#[tokio::test]
async fn oversized_and_undecodable_bodies_are_malformed_without_panic() {
    let server = Server::start(vec![], |_| ok_track()).await;
    let (http, _) = client_with(
        "deezer",
        HttpClientOptions {
            max_body_bytes: 1024,
            ..HttpClientOptions::default()
        },
    );
    let err = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Malformed);
    assert_eq!(err.attempts, 1);
    assert!(
        err.detail.contains("larger than 1024 bytes"),
        "{}",
        err.detail
    );

    let server = Server::start(vec![], |_| Reply::json(vec![0xff, 0x00, b'{'])).await;
    let (http, _) = client("deezer", true);
    let err = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Malformed);

    // valid JSON of the wrong shape
    let server = Server::start(vec![], |_| Reply::json(b"[1,2,3]".to_vec())).await;
    let err = http
        .get_json_with_retry::<std::collections::HashMap<String, u32>>(&server.base())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Malformed);
}

/// On tokio's paused clock with a real local server and the production sleeper: the
/// 500-burst schedule (5 s then 10 s, jitter off) passes in virtual time, not real time.
/// Reliable because server and client share the current-thread runtime and loopback
/// delivers writes at once, so the clock only auto-advances when both wait on the timer.
#[tokio::test(start_paused = true)]
async fn paused_clock_with_a_real_server() {
    let server = Server::start(vec![Reply::status(500), Reply::status(500)], |_| ok_track()).await;
    let http = cratedigger_platforms::HttpClient::new(
        "deezer",
        HttpClientOptions {
            policy: RetryPolicy {
                jitter: false,
                ..RetryPolicy::default()
            },
            ..HttpClientOptions::default()
        },
    )
    .unwrap();
    let real = std::time::Instant::now();
    let virt = tokio::time::Instant::now();
    let got = http
        .get_json_with_retry::<serde_json::Value>(&server.base())
        .await
        .unwrap();
    assert_eq!(got.attempts, 3);
    assert!(
        virt.elapsed() >= Duration::from_secs(15),
        "{:?}",
        virt.elapsed()
    );
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "{:?}",
        real.elapsed()
    );
}
