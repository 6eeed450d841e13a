//! Who may use the API, for the CLI and for the web page.
//!
//! - Bound to loopback without a token: everyone who can reach the port (as before), but a
//!   browser request that comes from another site (its `Origin` is not this server, or
//!   `Sec-Fetch-Site: cross-site`) may not change anything, and a `Host` that is not a
//!   loopback name is refused, so a web page elsewhere cannot drive the scheduler through the
//!   person's browser (cross-site request forgery, DNS rebinding).
//! - With a token (mandatory beyond loopback): `Authorization: Bearer <token>` (the CLI,
//!   scripts; unaffected by what follows), or a **session cookie** from the page's login
//!   form (`POST /v1/session` with the token). A session is a random 32-byte id, kept in
//!   Postgres only as its SHA-256 with an expiry (`CRATEDIGGER__API__SESSION_TTL_SECS`), sent
//!   as `HttpOnly; SameSite=Strict; Path=/` (+ `Secure` when configured). Every
//!   state-changing request authenticated by the cookie must carry `X-CSRF-Token` equal to
//!   the session's CSRF token (given by the login answer and `GET /v1/session`, readable only
//!   by same-origin script) and, when the browser sends one, a same-origin `Origin`.
//!
//! The decisions are pure functions ([`decide`]) so they are unit-tested without a server.

use crate::api::{ApiError, ApiState, constant_time_eq};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

/// Name of the session cookie.
pub const COOKIE: &str = "cd_session";
/// Header that must echo the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Longest token accepted in a login body (the configured one is far shorter).
const MAX_TOKEN_LEN: usize = 4096;

/// 32 random bytes from the operating system's CSPRNG (through `rand`'s thread RNG, which
/// is seeded from it), hex encoded: a session id or a CSRF token nobody can guess.
pub fn random_hex32() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `s` has the shape of an id made by [`random_hex32`]; anything else never reaches
/// the database.
pub fn is_session_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(id: &str, ttl_secs: u64, secure: bool) -> String {
    let mut c = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={ttl_secs}");
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The `Set-Cookie` value that removes the session cookie (logout).
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The session id from the request's cookies, when it has a well-formed one.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| is_session_id(v))
}

/// Methods that change something (everything but GET, HEAD, OPTIONS).
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request comes from this server's own pages: true when the browser sent no
/// `Origin` (the CLI, a same-origin GET) or one whose host and port are the request's
/// `Host`; false for `Origin: null` (sandboxed frames, some redirects) and any other site,
/// and when `Sec-Fetch-Site` says cross-site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if header_str(headers, "sec-fetch-site") == Some("cross-site") {
        return false;
    }
    let Some(origin) = header_str(headers, header::ORIGIN.as_str()) else {
        return true;
    };
    let Some(host) = header_str(headers, header::HOST.as_str()) else {
        return false;
    };
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match rest {
        Some(h) => h.eq_ignore_ascii_case(host),
        None => false,
    }
}

/// Whether the `Host` header names this machine (or is absent, as from some HTTP/1.0
/// clients): with no token configured only such requests are served, which defeats DNS
/// rebinding (a site whose name resolves to 127.0.0.1 still sends its own name).
pub fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = header_str(headers, header::HOST.as_str()) else {
        return true;
    };
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How a request is let in, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Served.
    Allow,
    /// 401: no (valid) credentials.
    Unauthorized(&'static str),
    /// 403: credentials fine, but the request looks forged or comes from elsewhere.
    Forbidden(&'static str),
}

/// What the middleware knows about one request when it decides.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// The configured token (`None`: loopback without a token).
    pub token: Option<&'a str>,
    /// The CSRF token of the request's session, when its cookie names a live one.
    pub session_csrf: Option<&'a str>,
}

/// The access rule of the whole API (see the module documentation). Pure, so it is tested
/// case by case.
pub fn decide(seen: Seen<'_>) -> Decision {
    let changing = is_state_changing(seen.method);
    let Some(token) = seen.token else {
        if !loopback_host(seen.headers) {
            return Decision::Forbidden(
                "this scheduler answers only to a loopback host name (127.0.0.1, localhost)",
            );
        }
        if changing && !same_origin(seen.headers) {
            return Decision::Forbidden("a request from another site may not change anything");
        }
        return Decision::Allow;
    };
    if let Some(auth) = header_str(seen.headers, header::AUTHORIZATION.as_str()) {
        let given = auth.strip_prefix("Bearer ").unwrap_or("");
        return if constant_time_eq(given.as_bytes(), token.as_bytes()) {
            Decision::Allow
        } else {
            Decision::Unauthorized("wrong API token (Authorization: Bearer ...)")
        };
    }
    let Some(csrf) = seen.session_csrf else {
        return Decision::Unauthorized(
            "missing or wrong API token (Authorization: Bearer ...), or no live session: log in again",
        );
    };
    if !changing {
        return Decision::Allow;
    }
    let sent = header_str(seen.headers, CSRF_HEADER).unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
        return Decision::Forbidden("missing or wrong X-CSRF-Token for this session");
    }
    if !same_origin(seen.headers) {
        return Decision::Forbidden("a request from another site may not change anything");
    }
    Decision::Allow
}

/// Paths served to anyone: the probes, the page itself (its login form must load) and the
/// session endpoint (which checks what it needs itself).
fn open_path(method: &Method, path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
        || (*method == Method::GET && crate::web::is_asset_path(path))
        || (path == "/v1/session" && matches!(*method, Method::GET | Method::POST))
}

/// The CSRF token of the live session `id`, if there is one (expired sessions are not).
pub async fn lookup(st: &ApiState, id: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT csrf FROM web_sessions
         WHERE id_hash = sha256(decode($1, 'hex')) AND expires_at > now()",
    )
    .bind(id)
    .fetch_optional(st.store.pool())
    .await?;
    Ok(row.and_then(|r| r.try_get("csrf").ok()))
}

/// The TCP peer of a request (set by `into_make_service_with_connect_info`; absent in
/// in-process tests).
type Peer = Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>;

fn peer_ip(peer: &Peer) -> Option<std::net::IpAddr> {
    peer.as_ref().map(|p| p.0.0.ip())
}

/// 429 for an address that guessed too many wrong tokens (throttle.rs).
fn too_many_wrong_tokens(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many wrong tokens from this address; try again in {secs} s"),
    )
    .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// Middleware applying [`decide`] to every request (the session is looked up only when a
/// token is configured, no bearer header was sent and the cookie is well-formed). A bearer
/// token from an address that guessed too often is not even checked (throttle.rs).
pub async fn require_auth(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let token = st.token.as_deref();
    if token.is_some() && open_path(req.method(), path) {
        return next.run(req).await;
    }
    let bearer = token.is_some() && req.headers().contains_key(header::AUTHORIZATION);
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if bearer && let Err(wait) = st.throttle.check(ip) {
        return too_many_wrong_tokens(wait);
    }
    let mut csrf = None;
    if token.is_some()
        && !req.headers().contains_key(header::AUTHORIZATION)
        && let Some(id) = session_id(req.headers())
    {
        match lookup(&st, &id).await {
            Ok(c) => csrf = c,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; sessions cannot be checked",
                )
                .into_response();
            }
        }
    }
    let decision = decide(Seen {
        method: req.method(),
        headers: req.headers(),
        token,
        session_csrf: csrf.as_deref(),
    });
    match decision {
        Decision::Allow => next.run(req).await,
        Decision::Unauthorized(m) => {
            if bearer {
                st.throttle.fail(ip);
            }
            ApiError::new(StatusCode::UNAUTHORIZED, m).into_response()
        }
        Decision::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m).into_response(),
    }
}

fn db(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "database error in sessions");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the database is unavailable: {e}"),
    )
}

/// `GET /v1/session`: whether the page must log in, and the CSRF token of the caller's
/// session (only same-origin script can read it).
pub async fn get_session(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    if st.token.is_none() {
        return Ok(Json(
            json!({ "auth_required": false, "logged_in": true, "via": "loopback" }),
        ));
    }
    let Some(id) = session_id(&headers) else {
        return Ok(Json(json!({ "auth_required": true, "logged_in": false })));
    };
    let row = sqlx::query(
        "SELECT csrf, expires_at FROM web_sessions
         WHERE id_hash = sha256(decode($1, 'hex')) AND expires_at > now()",
    )
    .bind(&id)
    .fetch_optional(st.store.pool())
    .await
    .map_err(db)?;
    Ok(Json(match row {
        Some(r) => {
            let csrf: String = r.try_get("csrf").map_err(db)?;
            let expires: DateTime<Utc> = r.try_get("expires_at").map_err(db)?;
            json!({ "auth_required": true, "logged_in": true, "via": "session",
                    "csrf": csrf, "expires_at": expires })
        }
        None => json!({ "auth_required": true, "logged_in": false }),
    }))
}

/// Body of `POST /v1/session`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The API token (`CRATEDIGGER__API__TOKEN`).
    pub token: String,
}

/// `POST /v1/session {"token": "..."}`: a session cookie for the page, and its CSRF token.
pub async fn login(
    State(st): State<ApiState>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(expected) = st.token.as_deref() else {
        return Ok(
            Json(json!({ "auth_required": false, "logged_in": true, "via": "loopback" }))
                .into_response(),
        );
    };
    if !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a login from another site is refused",
        ));
    }
    let ip = peer_ip(&peer);
    if let Err(wait) = st.throttle.check(ip) {
        tracing::warn!(peer = ?ip, "web login refused: too many wrong tokens from this address");
        return Ok(too_many_wrong_tokens(wait));
    }
    let req: LoginBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_field("token", format!("invalid request body: {e}")))?;
    if req.token.len() > MAX_TOKEN_LEN
        || !constant_time_eq(req.token.as_bytes(), expected.as_bytes())
    {
        st.throttle.fail(ip);
        tracing::warn!(peer = ?ip, "web login refused: wrong token");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong token"));
    }
    let settings = &st.fleet.settings.api;
    let ttl = settings.session_ttl_secs.clamp(60, 30 * 24 * 3600);
    // Expired sessions go at each login (bounded), so the table never grows without limit.
    sqlx::query(
        "DELETE FROM web_sessions WHERE id_hash IN (
             SELECT id_hash FROM web_sessions WHERE expires_at <= now() LIMIT 1000)",
    )
    .execute(st.store.pool())
    .await
    .map_err(db)?;
    let id = random_hex32();
    let csrf = random_hex32();
    let expires: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO web_sessions (id_hash, csrf, expires_at)
         VALUES (sha256(decode($1, 'hex')), $2, now() + make_interval(secs => $3))
         RETURNING expires_at",
    )
    .bind(&id)
    .bind(&csrf)
    .bind(ttl as f64)
    .fetch_one(st.store.pool())
    .await
    .map_err(db)?;
    let cookie = session_cookie(&id, ttl, settings.cookie_secure);
    let mut resp = (
        StatusCode::CREATED,
        Json(
            json!({ "auth_required": true, "logged_in": true, "via": "session",
                     "csrf": csrf, "expires_at": expires }),
        ),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `DELETE /v1/session`: ends the caller's session (behind the access rule, so a cookie
/// session needs its CSRF token here too).
pub async fn logout(State(st): State<ApiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(id) = session_id(&headers) {
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = sha256(decode($1, 'hex'))")
            .bind(&id)
            .execute(st.store.pool())
            .await
            .map_err(db)?;
    }
    let mut resp = Json(json!({ "logged_in": false })).into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(st.fleet.settings.api.cookie_secure)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    const TOKEN: &str = "0123456789abcdef";
    const CSRF: &str = "c5rf-of-this-session";

    fn seen<'a>(
        method: &'a Method,
        headers: &'a HeaderMap,
        token: Option<&'a str>,
        session_csrf: Option<&'a str>,
    ) -> Decision {
        decide(Seen {
            method,
            headers,
            token,
            session_csrf,
        })
    }

    #[test]
    fn ids_are_random_and_well_formed() {
        let a = random_hex32();
        let b = random_hex32();
        assert!(is_session_id(&a) && is_session_id(&b));
        assert_ne!(a, b);
        assert!(!is_session_id("abc"));
        assert!(!is_session_id(&format!("{}zz", &a[..62])));
        assert!(!is_session_id(&format!("{a}00")));
    }

    #[test]
    fn cookie_attributes() {
        let c = session_cookie("ab", 43_200, false);
        assert_eq!(
            c,
            "cd_session=ab; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
        );
        assert!(session_cookie("ab", 1, true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn session_id_is_read_from_cookies_and_validated() {
        let id = random_hex32();
        let headers = h(&[("cookie", &format!("theme=dark; {COOKIE}={id}; x=1"))]);
        assert_eq!(session_id(&headers), Some(id.clone()));
        // a second Cookie header line is read too
        let headers = h(&[("cookie", "a=b"), ("cookie", &format!("{COOKIE}={id}"))]);
        assert_eq!(session_id(&headers), Some(id));
        // a malformed value never reaches the database
        let headers = h(&[("cookie", &format!("{COOKIE}=' OR 1=1 --"))]);
        assert_eq!(session_id(&headers), None);
        assert_eq!(session_id(&h(&[])), None);
    }

    #[test]
    fn origin_checks() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&h(&[host])), "no Origin: the CLI");
        assert!(same_origin(&h(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&h(&[
            host,
            ("origin", "https://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&h(&[host, ("origin", "http://evil.example")])));
        assert!(!same_origin(&h(&[
            host,
            ("origin", "http://127.0.0.1:8081")
        ])));
        assert!(!same_origin(&h(&[host, ("origin", "null")])));
        assert!(!same_origin(&h(&[("origin", "http://127.0.0.1:8080")])));
        assert!(!same_origin(&h(&[host, ("sec-fetch-site", "cross-site")])));
        assert!(same_origin(&h(&[host, ("sec-fetch-site", "same-origin")])));
    }

    #[test]
    fn loopback_host_names() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:1",
            "LOCALHOST",
            "[::1]:8080",
            "127.3.4.5",
        ] {
            assert!(loopback_host(&h(&[("host", ok)])), "{ok}");
        }
        for bad in ["evil.example:8080", "10.0.0.1:8080", "[2001:db8::1]:80"] {
            assert!(!loopback_host(&h(&[("host", bad)])), "{bad}");
        }
    }

    #[test]
    fn loopback_without_token_refuses_cross_site_writes_and_rebinding() {
        let get = Method::GET;
        let post = Method::POST;
        let host = ("host", "127.0.0.1:8080");
        assert_eq!(seen(&post, &h(&[host]), None, None), Decision::Allow);
        assert_eq!(seen(&get, &h(&[host]), None, None), Decision::Allow);
        let evil = h(&[host, ("origin", "http://evil.example")]);
        assert!(matches!(
            seen(&post, &evil, None, None),
            Decision::Forbidden(_)
        ));
        // reading is not forgery (and a cross-site page cannot read the answer anyway)
        assert_eq!(seen(&get, &evil, None, None), Decision::Allow);
        let rebound = h(&[("host", "evil.example:8080")]);
        assert!(matches!(
            seen(&get, &rebound, None, None),
            Decision::Forbidden(_)
        ));
    }

    #[test]
    fn bearer_requests_are_unaffected_by_csrf() {
        let post = Method::POST;
        let ok = h(&[
            ("authorization", &format!("Bearer {TOKEN}")),
            ("host", "cd.example"),
        ]);
        assert_eq!(seen(&post, &ok, Some(TOKEN), None), Decision::Allow);
        let wrong = h(&[("authorization", "Bearer 0123456789abcdeX")]);
        assert!(matches!(
            seen(&post, &wrong, Some(TOKEN), Some(CSRF)),
            Decision::Unauthorized(_)
        ));
        let none = h(&[]);
        assert!(matches!(
            seen(&Method::GET, &none, Some(TOKEN), None),
            Decision::Unauthorized(_)
        ));
    }

    #[test]
    fn cookie_sessions_need_the_csrf_token_and_same_origin_to_change_things() {
        let get = Method::GET;
        let post = Method::POST;
        let delete = Method::DELETE;
        let host = ("host", "cd.example:8080");
        // reading with a live session
        assert_eq!(
            seen(&get, &h(&[host]), Some(TOKEN), Some(CSRF)),
            Decision::Allow
        );
        // an expired or unknown session is no session
        assert!(matches!(
            seen(&get, &h(&[host]), Some(TOKEN), None),
            Decision::Unauthorized(_)
        ));
        // changing without the CSRF token, or with a wrong one
        assert!(matches!(
            seen(&post, &h(&[host]), Some(TOKEN), Some(CSRF)),
            Decision::Forbidden(_)
        ));
        assert!(matches!(
            seen(
                &delete,
                &h(&[host, (CSRF_HEADER, "c5rf-of-another-session")]),
                Some(TOKEN),
                Some(CSRF)
            ),
            Decision::Forbidden(_)
        ));
        // right token, from another site
        assert!(matches!(
            seen(
                &post,
                &h(&[
                    host,
                    (CSRF_HEADER, CSRF),
                    ("origin", "https://evil.example")
                ]),
                Some(TOKEN),
                Some(CSRF)
            ),
            Decision::Forbidden(_)
        ));
        // right token, same origin (or no Origin sent)
        assert_eq!(
            seen(
                &post,
                &h(&[
                    host,
                    (CSRF_HEADER, CSRF),
                    ("origin", "http://cd.example:8080")
                ]),
                Some(TOKEN),
                Some(CSRF)
            ),
            Decision::Allow
        );
        assert_eq!(
            seen(
                &post,
                &h(&[host, (CSRF_HEADER, CSRF)]),
                Some(TOKEN),
                Some(CSRF)
            ),
            Decision::Allow
        );
    }

    #[test]
    fn open_paths() {
        assert!(open_path(&Method::GET, "/"));
        assert!(open_path(&Method::GET, "/assets/app.js"));
        assert!(open_path(&Method::POST, "/v1/session"));
        assert!(!open_path(&Method::DELETE, "/v1/session"));
        assert!(!open_path(&Method::GET, "/v1/syncs"));
        assert!(!open_path(&Method::POST, "/"));
    }
}
