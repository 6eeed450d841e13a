//! The scheduler's API and CLI against bad input and unauthorised callers, through the real
//! `cratedigger` binary.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::Env;

async fn post(env: &Env, path: &str, body: reqwest::Body, json_body: bool) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", env.api()))
        .body(body);
    if json_body {
        req = req.header("content-type", "application/json");
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get_status(env: &Env, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{}{path}", env.api())).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_field_named_and_nothing_is_stored() {
    let mut env = Env::new("api").await;
    env.start_scheduler().await;

    let (s, b) = post(
        &env,
        "/v1/syncs?source=empty.m3u",
        reqwest::Body::from(""),
        false,
    )
    .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("playlist")), "{b}");
    assert!(b["error"].as_str().unwrap().contains("empty"), "{b}");

    let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    mp3.extend(std::iter::repeat_n(0u8, 4096));
    let (s, b) = post(
        &env,
        "/v1/syncs?source=song.mp3",
        reqwest::Body::from(mp3),
        false,
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].as_str().unwrap().contains("MP3"), "{b}");

    let big = "Artist - Title\n".repeat(800_000);
    let (s, b) = post(
        &env,
        "/v1/syncs?source=big.txt",
        reqwest::Body::from(big),
        false,
    )
    .await;
    assert_eq!(s, 413, "{b}");

    let (s, b) = post(
        &env,
        "/v1/syncs",
        json!({"playlist": "A - B", "colour": "red"})
            .to_string()
            .into(),
        true,
    )
    .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("colour")), "{b}");
    let (s, b) = post(
        &env,
        "/v1/syncs",
        json!({"playlist": "A - B", "lane": "urgent"})
            .to_string()
            .into(),
        true,
    )
    .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("lane")), "{b}");
    let (s, b) = post(
        &env,
        "/v1/syncs",
        json!({"name": "x"}).to_string().into(),
        true,
    )
    .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("playlist")), "{b}");
    let (s, b) = post(
        &env,
        "/v1/syncs?lane=soon",
        reqwest::Body::from("A - B"),
        false,
    )
    .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("lane")), "{b}");
    let (s, b) = get_status(&env, "/v1/items?state=done").await;
    assert_eq!((s, b["field"].as_str()), (400, Some("state")), "{b}");
    let (s, b) = get_status(&env, "/v1/items?colour=red").await;
    assert_eq!((s, b["field"].as_str()), (400, Some("colour")), "{b}");
    let (s, _) = get_status(&env, "/v1/syncs/not-an-id").await;
    assert_eq!(s, 400);
    let (s, _) = get_status(&env, "/v1/syncs/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(s, 404);

    // Nothing above was stored.
    let (_, syncs) = get_status(&env, "/v1/syncs").await;
    assert_eq!(syncs.as_array().unwrap().len(), 0, "{syncs}");

    // Unparseable lines are reported with their numbers and the rest is stored.
    let (s, b) = post(
        &env,
        "/v1/syncs?source=list.txt",
        reqwest::Body::from("Bicep - Glue\njust some words\n\nBicep - Apricots\n"),
        false,
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["items"], 2);
    assert_eq!(b["skipped"][0]["line_no"], 2);
    assert!(
        b["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Artist - Title"),
        "{b}"
    );

    // The CLI says what is wrong and stores nothing for an empty file.
    let empty = env.logs.join("empty.m3u");
    std::fs::write(&empty, "").unwrap();
    let out = env.cli(&["sync", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty"), "{err}");
    let (_, syncs) = get_status(&env, "/v1/syncs").await;
    assert_eq!(syncs.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_api_requires_the_token() {
    let mut env = Env::new("auth").await;
    let port = env.api_port;
    env.extra_env
        .push(("CRATEDIGGER__API__BIND".into(), format!("0.0.0.0:{port}")));
    // Without a token it refuses to start.
    let idx = env.start("no-token", "cratedigger", &["serve"]);
    let status = env.procs[idx].child.wait().unwrap();
    assert!(!status.success());
    assert!(
        env.procs[idx]
            .log_text()
            .contains("CRATEDIGGER__API__TOKEN"),
        "{}",
        env.procs[idx].log_text()
    );

    let token = "0123456789abcdef-test-token";
    env.extra_env
        .push(("CRATEDIGGER__API__TOKEN".into(), token.into()));
    env.start_scheduler().await; // /readyz needs no token
    let (s, _) = get_status(&env, "/v1/syncs").await;
    assert_eq!(s, 401);
    let http = reqwest::Client::new();
    let syncs_with = |bearer: String| {
        http.get(format!("{}/v1/syncs", env.api()))
            .bearer_auth(bearer)
            .send()
    };
    let r = syncs_with("wrong-token-wrong-token".into()).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = syncs_with(token.into()).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // The CLI takes the token from the same variable.
    let out = env.cli(&["status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Guessing is throttled per address: 5 wrong tokens within 5 minutes (one above), then
    // 429 with Retry-After, and the next attempts are not even checked — the right token
    // included, on the API and on the login form alike.
    for guess in 2..=5 {
        let r = syncs_with(format!("guess-{guess}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "guess {guess}");
    }
    let r = syncs_with(token.into()).await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body.to_string().contains("too many wrong tokens"), "{body}");
    let r = http
        .post(format!("{}/v1/session", env.api()))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        429,
        "the login form shares the address's budget"
    );
    // probes are not token attempts
    let (s, _) = get_status(&env, "/healthz").await;
    assert_eq!(s, 200);

    let log = env.procs.iter().map(|p| p.log_text()).collect::<String>();
    assert!(!log.contains(token), "the token must never be logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_the_whole_fleet_in_one_process_and_sync_json_reports_every_item() {
    let mut env = Env::new("up").await;
    env.start("up", "cratedigger", &["up"]);
    let start = std::time::Instant::now();
    while !reqwest::get(format!("{}/readyz", env.api()))
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "up did not become ready: {}",
            env.procs[0].log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sample = support::workspace_root().join("samples/demo-playlist.m3u");
    let out = env.cli(&[
        "sync",
        sample.to_str().unwrap(),
        "--json",
        "--timeout",
        "60",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("--json prints one JSON document");
    assert!(doc["sync_id"].is_string());
    let items = doc["items"].as_array().unwrap();
    assert_eq!(doc["total"].as_u64().unwrap() as usize, items.len());
    assert_eq!(
        doc["skipped_lines"].as_array().unwrap().len(),
        1,
        "{}",
        doc["skipped_lines"]
    );
    let find = |needle: &str| {
        items
            .iter()
            .find(|i| i["input_line"].as_str().unwrap().contains(needle))
            .unwrap()
            .clone()
    };
    let chain = find("The Chain");
    assert_eq!(chain["state"], "resolved");
    assert!(
        chain["track"]["sources"][0]["platform"].is_string(),
        "{chain}"
    );
    let billie: Vec<&Value> = items
        .iter()
        .filter(|i| i["input_line"].as_str().unwrap().contains("Billie Jean"))
        .collect();
    let states: Vec<&str> = billie
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"resolved") && states.contains(&"duplicate"),
        "{states:?}"
    );
    let ext = find("Seven Wonders (extended version)");
    let plain = items
        .iter()
        .find(|i| {
            i["input_line"]
                .as_str()
                .unwrap()
                .ends_with("Seven Wonders.mp3")
        })
        .unwrap();
    assert_eq!(
        (ext["state"].as_str(), plain["state"].as_str()),
        (Some("resolved"), Some("resolved")),
        "an extended mix is not a duplicate"
    );
    let smooth = find("Promised Land");
    assert_eq!(smooth["state"], "failed");
    assert!(
        smooth["reason"]
            .as_str()
            .unwrap()
            .contains("No match for 'Joe Smooth - Promised Land'"),
        "{smooth}"
    );
    // A clean stop: SIGTERM ends the process with success.
    assert!(
        env.procs[0].terminate(Duration::from_secs(20)),
        "up did not stop cleanly on SIGTERM"
    );
}
