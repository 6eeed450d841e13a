//! `POST /v1/syncs {"url": ...}`: the real API router over real PostgreSQL (a fresh
//! database) and Redis (a unique queue prefix), reading a Spotify playlist from a local
//! server that serves the real recorded payloads of `../shared/fixtures/spotify` (read in
//! place). GAP: the kit has no Spotify token answer; `{"access_token","token_type",
//! "expires_in"}` is built from Spotify's client-credentials guide, and the 404 body from
//! the Web API error object docs.

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use cratedigger::api::{self, ApiState};
use cratedigger_store::testing::fresh_store;
use cratedigger_workers::{Fleet, Settings};
use serde_json::{Value, json};
use std::path::PathBuf;

fn fixture(rel: &str) -> Vec<u8> {
    let dir = std::env::var_os("CRATEDIGGER_KIT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("fixtures");
    let path = dir.join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reference kit payload {} not found ({e}); set CRATEDIGGER_KIT_DIR to the kit",
            path.display()
        )
    })
}

/// Spotify's Accounts service and Web API, answering from the recorded payloads.
async fn spotify() -> String {
    let app = Router::new().fallback(|uri: Uri| async move {
        let (status, body) = match uri.path() {
            "/api/token" => (
                200,
                br#"{"access_token":"tok","token_type":"Bearer","expires_in":3600}"#.to_vec(),
            ),
            "/v1/playlists/5LkNhFidYyyjRWwnkcMbQs/items" => (
                200,
                fixture("spotify/playlist_5LkNhFidYyyjRWwnkcMbQs_tracks.json"),
            ),
            _ => (
                404,
                br#"{"error":{"status":404,"message":"Resource not found"}}"#.to_vec(),
            ),
        };
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = StatusCode::from_u16(status).unwrap();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        r
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct Env {
    api: String,
    _db: cratedigger_store::testing::TestDatabase,
}

async fn env(with_credentials: bool) -> Env {
    let base = spotify().await;
    let (store, db) = fresh_store().await;
    let mut settings = Settings::default();
    settings.database.url = db.url().to_string();
    settings.queue.prefix = format!("test-syncurl-{}", uuid::Uuid::new_v4().simple());
    settings.platforms.spotify.base_url = base.clone();
    settings.platforms.spotify.accounts_url = base;
    if with_credentials {
        settings.platforms.spotify.client_id = Some("id".into());
        settings.platforms.spotify.client_secret = Some("secret".into());
    }
    let fleet = Fleet::connect(settings)
        .await
        .expect("Redis on 127.0.0.1:6379");
    let app = api::router(ApiState {
        fleet,
        store,
        token: None,
        throttle: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Env {
        api: format!("http://{addr}"),
        _db: db,
    }
}

async fn post(env: &Env, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/syncs", env.api))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(env: &Env, path: &str) -> Value {
    reqwest::get(format!("{}{path}", env.api))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_spotify_playlist_url_becomes_a_sync_with_the_url_as_source() {
    let env = env(true).await;
    let url = "https://open.spotify.com/playlist/5LkNhFidYyyjRWwnkcMbQs?si=x";
    let (status, created) = post(&env, json!({ "url": url, "lane": "interactive" })).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["format"], "spotify-playlist");
    assert_eq!(created["items"], 9);
    assert_eq!(created["enqueued"], 9);
    let skipped = created["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["line_no"], 1);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no longer available"),
        "{created}"
    );

    let id = created["sync_id"].as_str().unwrap();
    let progress = get(&env, &format!("/v1/syncs/{id}")).await;
    assert_eq!(progress["source"], url);
    assert_eq!(progress["name"], url, "the name defaults to the address");
    assert_eq!(progress["lane"], "interactive");
    let items = get(&env, &format!("/v1/syncs/{id}/items")).await;
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 9);
    let first = items
        .iter()
        .find(|i| i["line_no"] == 2)
        .expect("position 2 is the first track");
    assert_eq!(first["input_line"], "Sub Urban - Cradles");
    assert_eq!(first["state"], "pending");
}

#[tokio::test]
async fn bad_url_requests_name_the_field_and_store_nothing() {
    let env = env(true).await;
    let cases = [
        (
            json!({"url": "https://open.spotify.com/playlist/x", "playlist": "A - B"}),
            400,
            "url",
            "not both",
        ),
        (
            json!({"url": "https://deezer.page.link/AbC"}),
            400,
            "url",
            "short link",
        ),
        (
            json!({"url": "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"}),
            400,
            "url",
            "only playlists",
        ),
        (
            json!({"url": "https://open.spotify.com/playlist/0000000000000000000000"}),
            404,
            "url",
            "has no playlist '0000000000000000000000', or it is private",
        ),
        (
            json!({"url": "spotify:playlist:5LkNhFidYyyjRWwnkcMbQs", "source": "x.m3u"}),
            400,
            "source",
            "with `url`",
        ),
        (json!({"name": "nothing"}), 400, "playlist", "`url`"),
    ];
    for (body, status, field, says) in cases {
        let (s, b) = post(&env, body.clone()).await;
        assert_eq!(
            (s, b["field"].as_str()),
            (status, Some(field)),
            "{body} → {b}"
        );
        assert!(b["error"].as_str().unwrap().contains(says), "{body} → {b}");
    }
    assert_eq!(get(&env, "/v1/syncs").await.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn without_spotify_credentials_the_url_is_refused_with_the_variables() {
    let env = env(false).await;
    let (s, b) = post(
        &env,
        json!({"url": "https://open.spotify.com/playlist/5LkNhFidYyyjRWwnkcMbQs"}),
    )
    .await;
    assert_eq!((s, b["field"].as_str()), (503, Some("url")), "{b}");
    assert!(
        b["error"]
            .as_str()
            .unwrap()
            .contains("CRATEDIGGER__PLATFORMS__SPOTIFY__CLIENT_ID"),
        "{b}"
    );
}

/// `cratedigger sync <url>`: the real binary sends the address to the API instead of
/// reading a file of that name, and reports the skipped entries.
#[tokio::test]
async fn the_cli_sends_an_address_instead_of_reading_a_file() {
    let env = env(true).await;
    let api = env.api.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cratedigger"))
            .args([
                "--api",
                &api,
                "sync",
                "spotify:playlist:5LkNhFidYyyjRWwnkcMbQs",
                "--name",
                "road trip",
            ])
            .env_remove("CRATEDIGGER_CONFIG")
            .output()
            .expect("the cratedigger binary runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "9 tracks queued from spotify:playlist:5LkNhFidYyyjRWwnkcMbQs (spotify-playlist)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped line 1: (untitled entry)"),
        "{stdout}"
    );
    let syncs = get(&env, "/v1/syncs").await;
    assert_eq!(syncs[0]["name"], "road trip");
    assert_eq!(
        syncs[0]["source"],
        "spotify:playlist:5LkNhFidYyyjRWwnkcMbQs"
    );
}
