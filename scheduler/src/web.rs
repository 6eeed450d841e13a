//! The web page (`/`): the files built from `web/src` into `web/dist` (committed), embedded
//! in the binary at compile time so `cratedigger serve` and `cratedigger up` serve it with no
//! other server or files to install. Every response of the scheduler gets
//! `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and `Referrer-Policy`; the page
//! gets a strict `Content-Security-Policy` (scripts and styles only from this server, no
//! inline script, no framing), so a title or peer name that slipped through as markup could
//! still not run.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The page's HTML shell (loads `/assets/app.css` and `/assets/app.js`).
pub const INDEX_HTML: &[u8] = include_bytes!("../../web/dist/index.html");
/// The bundled application (Preact + htm, built by esbuild).
pub const APP_JS: &[u8] = include_bytes!("../../web/dist/app.js");
/// The page's styles.
pub const APP_CSS: &[u8] = include_bytes!("../../web/dist/app.css");

/// The page's Content-Security-Policy: only this server's scripts and styles; audio previews
/// may come from a source's HTTPS address (Bandcamp, SoundCloud previews), nothing else from
/// elsewhere; no plugins, no `<base>`, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     media-src 'self' https:; connect-src 'self'; font-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'; object-src 'none'";

/// Whether `path` is one of the page's files (served without credentials, so the login
/// form can load; they hold no data).
pub fn is_asset_path(path: &str) -> bool {
    asset(path).is_some()
}

/// The file for a path: (bytes, content type).
fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    match path {
        "/" | "/index.html" => Some((INDEX_HTML, "text/html; charset=utf-8")),
        "/assets/app.js" => Some((APP_JS, "text/javascript; charset=utf-8")),
        "/assets/app.css" => Some((APP_CSS, "text/css; charset=utf-8")),
        _ => None,
    }
}

/// A weak validator of one embedded file (FNV-1a of its bytes): the browser revalidates
/// (`no-cache`) and gets a 304 until a new binary serves other bytes.
fn etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// Serves the embedded page files (GET and HEAD only; the router sends nothing else here).
pub async fn serve_asset(req: Request) -> Response {
    let Some((bytes, ctype)) = asset(req.uri().path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = etag(bytes);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, v);
    }
    if ctype.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, bytes).into_response()
}

/// Adds the headers every answer of the scheduler carries (API JSON included: a JSON body
/// must never be sniffed into HTML, and nothing here is meant to be framed).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_embedded_and_loads_only_its_own_files() {
        let html = std::str::from_utf8(INDEX_HTML).unwrap();
        assert!(html.contains("/assets/app.js"), "{html}");
        assert!(html.contains("/assets/app.css"), "{html}");
        // no inline script: the CSP would block it
        assert!(!html.contains("<script>"), "{html}");
        assert!(!APP_JS.is_empty() && !APP_CSS.is_empty());
        assert!(is_asset_path("/") && is_asset_path("/assets/app.js"));
        assert!(!is_asset_path("/assets/../Cargo.toml") && !is_asset_path("/v1/syncs"));
        assert!(CSP.contains("script-src 'self'") && !CSP.contains("unsafe-inline"));
    }

    #[test]
    fn etags_differ_per_content() {
        assert_ne!(etag(b"a"), etag(b"b"));
        assert_eq!(etag(APP_JS), etag(APP_JS));
    }

    /// The committed `web/dist` is what `web/build.sh` makes from `web/src` (when node and
    /// the page's node modules are present; in CI they are, so there it must run).
    #[test]
    fn committed_dist_matches_a_fresh_build() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        let have_tools = root.join("node_modules/.bin/esbuild").exists()
            && std::process::Command::new("node")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
        if !have_tools {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must check web/dist: install node and run `npm ci` in web/ (.ci/run does)"
            );
            eprintln!("skipped: node or web/node_modules missing (cd web && npm ci)");
            return;
        }
        let out = std::env::temp_dir().join(format!("cratedigger-web-dist-{}", std::process::id()));
        let status = std::process::Command::new("sh")
            .arg(root.join("build.sh"))
            .arg(&out)
            .current_dir(&root)
            .status()
            .expect("web/build.sh runs");
        assert!(status.success(), "web/build.sh failed");
        for f in ["index.html", "app.js", "app.css"] {
            let fresh = std::fs::read(out.join(f)).unwrap();
            let kept = std::fs::read(root.join("dist").join(f)).unwrap();
            assert!(
                fresh == kept,
                "web/dist/{f} differs from a fresh build of web/src: run `sh web/build.sh` and commit web/dist"
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}
