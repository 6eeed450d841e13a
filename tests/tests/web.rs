//! The web page end to end, in a real browser: Debian's headless Chromium driven by
//! playwright-core (`tests/web/run.mjs`) against the real binaries (scheduler `serve` and
//! every worker role, real Redis and Postgres, the fixture server and the fake slskd).
//!
//! - `loopback`: create a sync from pasted text and watch its progress live; a title with
//!   `<script>` is shown as text and nothing runs; the item waiting for approval is
//!   approved with the keyboard and advances; library, queue depths, the streamed chat
//!   answer (rule-based planner); retry of a failed item.
//! - `login`: bound to 0.0.0.0 with a token, a request without it is refused (401), the
//!   login form gives an HttpOnly SameSite=Strict session, a cookie request without the
//!   CSRF token is refused (403), logout ends it.
//!
//! Screenshots go to `target/web-screenshots/<page>.png`. Needs `/usr/bin/chromium`
//! (`apt-get install chromium`) and `npm ci` in `tests/web/`: missing, the test fails (in CI
//! and locally), unless `CRATEDIGGER_SKIP_BROWSER=1` is set outside CI.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::acq::acquisition_env;
use support::{Env, workspace_root};

/// Where the browser is, or why the test cannot run (None: skip, as asked).
fn browser() -> Option<PathBuf> {
    let chromium = std::env::var_os("CRATEDIGGER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let modules = workspace_root().join("tests/web/node_modules/playwright-core");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut missing = Vec::new();
    if !chromium.exists() {
        missing.push(format!(
            "{} (apt-get update && apt-get install -y chromium)",
            chromium.display()
        ));
    }
    if !node {
        missing.push("node (apt-get install -y nodejs npm)".to_string());
    }
    if !modules.exists() {
        missing.push("playwright-core (cd tests/web && npm ci)".to_string());
    }
    if missing.is_empty() {
        return Some(chromium);
    }
    let msg = format!(
        "the browser tests need: {}. Outside CI, CRATEDIGGER_SKIP_BROWSER=1 skips them.",
        missing.join("; ")
    );
    if std::env::var_os("CI").is_none()
        && std::env::var("CRATEDIGGER_SKIP_BROWSER").as_deref() == Ok("1")
    {
        eprintln!("skipped: {msg}");
        return None;
    }
    panic!("{msg}");
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("web-screenshots")
}

/// Runs one scenario of `tests/web/run.mjs`; panics with its output and the fleet's logs.
fn run_scenario(env: &Env, chromium: &PathBuf, scenario: &str, extra: &[(&str, &str)]) {
    let start = Instant::now();
    let out = Command::new("node")
        .arg(workspace_root().join("tests/web/run.mjs"))
        .arg(scenario)
        .current_dir(workspace_root().join("tests/web"))
        .env("CD_BASE", env.api())
        .env("CD_SHOTS", screenshots())
        .env("CD_CHROMIUM", chromium)
        .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    println!(
        "scenario {scenario}: {:.1} s in the browser",
        start.elapsed().as_secs_f64()
    );
    if !out.status.success() {
        let logs: String = env
            .procs
            .iter()
            .map(|p| format!("--- {}\n{}\n", p.name, support::tail(&p.log_text(), 30)))
            .collect();
        panic!("browser scenario {scenario} failed:\n{stdout}\n{stderr}\n{logs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_creates_a_sync_approves_with_the_keyboard_and_escapes_titles() {
    let Some(chromium) = browser() else { return };
    let acq = acquisition_env("web-loopback", &[]).await;
    let env = &acq.env;
    let api = env.api();

    // The page itself: embedded files, strict headers.
    let r = reqwest::get(format!("{api}/")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let js = reqwest::get(format!("{api}/assets/app.js")).await.unwrap();
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    // A cross-site page may not change anything, even on loopback without a token.
    let forged = reqwest::Client::new()
        .post(format!("{api}/v1/syncs?source=x.txt"))
        .header("origin", "http://evil.example")
        .body("A - B")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);

    run_scenario(env, &chromium, "loopback", &[]);

    // What the page did is what the API says: the approved item advanced past approval, and
    // its history names the web review; the markup title is stored as typed.
    let items: Value = env.get("/v1/items?limit=100").await;
    let items = items.as_array().unwrap();
    let quiet = items
        .iter()
        .find(|i| i["input_line"] == "Demdike Stare - Quiet Sky")
        .expect("the Quiet Sky item");
    let quiet_id = quiet["id"].as_str().unwrap();
    let done = acq
        .wait_item(quiet_id, &["filed", "failed"], Duration::from_secs(120))
        .await;
    assert_eq!(done["item"]["state"], "filed", "{done}\n{}", acq.logs());
    let pg = env.pg().await;
    let by_web: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_events WHERE item_id = $1::uuid AND to_state = 'downloading'",
    )
    .bind(quiet_id)
    .fetch_one(&pg)
    .await
    .unwrap();
    assert!(by_web >= 1, "approved from the page");
    assert!(
        items
            .iter()
            .any(|i| i["input_line"] == "The Hackers - <script>alert(1)</script>"),
        "the markup line is stored as typed"
    );
    // The library lists the filed file (the line is on no metadata platform: no track).
    let lib = env.get("/v1/library?q=quiet").await;
    assert!(
        lib["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["item_id"] == quiet_id && f["format"] == "mp3"),
        "{lib}"
    );
    // Retry: a failed item goes round again, anything else is a 409.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{api}/v1/items/{quiet_id}/retry"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409, "a filed item is not retried");
    let markup_id = items
        .iter()
        .find(|i| i["input_line"] == "The Hackers - <script>alert(1)</script>")
        .and_then(|i| i["id"].as_str())
        .unwrap()
        .to_string();
    let markup = acq
        .wait_item(
            &markup_id,
            &["failed", "awaiting_approval", "filed"],
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(
        markup["item"]["state"], "failed",
        "no copy of a made-up track: {markup}"
    );
    let r = http
        .post(format!("{api}/v1/items/{markup_id}/retry"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["state"], "discovering", "{body}");
    assert_eq!(body["enqueued"], true, "{body}");
    let again = acq
        .wait_item(&markup_id, &["failed"], Duration::from_secs(120))
        .await;
    let retried: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_events WHERE item_id = $1::uuid AND reason = 'retried by a person'",
    )
    .bind(&markup_id)
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(
        retried, 2,
        "one retry from the page's button, one from the API: {again}"
    );
    println!(
        "screenshots: {}",
        [
            "syncs",
            "review",
            "review-decided",
            "library",
            "queue",
            "chat"
        ]
        .iter()
        .map(|p| screenshots().join(format!("{p}.png")).display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_page_needs_a_login_and_csrf_tokens() {
    let Some(chromium) = browser() else { return };
    const TOKEN: &str = "web-e2e-token-0123456789";
    let mut env = Env::new("web-login").await;
    env.extra_env.extend([
        (
            "CRATEDIGGER__API__BIND".to_string(),
            format!("0.0.0.0:{}", env.api_port),
        ),
        ("CRATEDIGGER__API__TOKEN".to_string(), TOKEN.to_string()),
        (
            "CRATEDIGGER__API__SESSION_TTL_SECS".to_string(),
            "600".to_string(),
        ),
    ]);
    env.start_scheduler().await;
    let api = env.api();
    let http = reqwest::Client::new();
    // The CLI's way is unchanged: the bearer token works, nothing else does.
    let r = http
        .get(format!("{api}/v1/syncs"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http.get(format!("{api}/v1/syncs")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // The page loads without credentials (it holds no data).
    let r = http.get(format!("{api}/")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);

    run_scenario(&env, &chromium, "login", &[("CD_TOKEN", TOKEN)]);

    // An expired session is refused: log in over HTTP, expire it in the database.
    let r = http
        .post(format!("{api}/v1/session"))
        .json(&serde_json::json!({ "token": TOKEN }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let pair = cookie.split(';').next().unwrap().to_string();
    let syncs_with_cookie = || {
        http.get(format!("{api}/v1/syncs"))
            .header("cookie", &pair)
            .send()
    };
    let r = syncs_with_cookie().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "a live session reads");
    let pg = env.pg().await;
    sqlx::query("UPDATE web_sessions SET expires_at = now() - interval '1 second'")
        .execute(&pg)
        .await
        .unwrap();
    let r = syncs_with_cookie().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "an expired session is refused");
    // Only the hash of the id is stored.
    let id = pair.split_once('=').unwrap().1;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM web_sessions WHERE encode(id_hash, 'hex') = $1")
            .bind(id)
            .fetch_one(&pg)
            .await
            .unwrap();
    assert_eq!(stored, 0, "the raw session id is not in the table");
    println!(
        "screenshots: {}, {}",
        screenshots().join("login.png").display(),
        screenshots().join("syncs-logged-in.png").display()
    );
}
