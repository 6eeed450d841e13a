//! The one HTTP layer every platform client goes through: timeouts, User-Agent, bounded
//! bodies, error classification and the product's retry policy per error class.
//!
//! Platform clients build full URLs themselves (each platform has its own quoting rules) and
//! hand them to [`HttpClient::get_json_with_retry`] (or [`HttpClient::get_json_with`] for
//! per-request headers), which returns the decoded body and the number of attempts it took,
//! or a classified [`PlatformError`].
//!
//! A client built with [`crate::PlatformContext::http_client`] also gets the shared layer,
//! in this order for each call: the response cache (L1 process, L2 Redis, L3 PostgreSQL;
//! a hit costs no request and reports 0 attempts), the circuit breaker (fails fast while the
//! platform keeps failing), the fleet-wide rate limiter (waits for the booked slot; a slot
//! further than `max_wait` away, or a parked platform, fails fast), the request, and the
//! retry policy. A `Retry-After` up to `max_wait` delays every caller of the fleet; a longer
//! one parks the platform fleet-wide until it has passed. Every request is measured:
//! `cratedigger_platform_requests_total{platform,outcome}` (outcome `ok` or the error class,
//! or `parked` / `circuit_open` / `throttled` for calls refused without a request) and
//! `cratedigger_platform_request_duration_seconds{platform}` (one sample per request sent).

use crate::breaker::CircuitBreaker;
use crate::cache::{Cached, FleetFlight, ResponseCache, normalize_url};

/// Longest another process waits for the fleet's answer to a question in flight (and the
/// lifetime of the asking process's marker): about one slow request with its retries.
const FLEET_HOLD: Duration = Duration::from_secs(20);
use crate::limiter::{Admission, Limiter};
use cratedigger_domain::{ErrorClass, PlatformTrack};
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Largest body read from a platform (8 MB): an untrusted answer must not exhaust memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Longest server-requested wait we are willing to sleep through inside one job; longer
/// waits are returned to the caller so it can park the platform instead of holding a worker.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);

/// A classified failure of one platform call, carrying what the retry policy, the
/// circuit breaker and a person reading the item's history need.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.sentence())]
pub struct PlatformError {
    /// Platform id ("musicbrainz", "deezer").
    pub platform: String,
    /// Error class; drives the retry policy.
    pub class: ErrorClass,
    /// What happened, for logs and the job record (never contains credentials).
    pub detail: String,
    /// Wait the platform asked for (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
    /// Attempts made before giving up (1 when the first failure was final).
    pub attempts: u32,
    /// Sentence for a person that replaces the class's generic one when the platform knows
    /// better, e.g. which setting to check after a 401; `detail` keeps the technical part.
    pub headline: Option<String>,
    /// The HTTP status the platform answered, when the error is one: a client that must
    /// tell a 401 (token expired: fetch a new one) from a 403 (refused) reads it here rather
    /// than from the wording of `detail`.
    pub status: Option<u16>,
}

impl PlatformError {
    /// A new error of `class` for `platform`, after one attempt.
    pub fn new(platform: impl Into<String>, class: ErrorClass, detail: impl Into<String>) -> Self {
        Self {
            platform: platform.into(),
            class,
            detail: detail.into(),
            retry_after: None,
            attempts: 1,
            headline: None,
            status: None,
        }
    }

    /// The same error, recording the HTTP status it came from.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The same error with a sentence for a person in place of the generic one.
    pub fn with_headline(mut self, headline: impl Into<String>) -> Self {
        self.headline = Some(headline.into());
        self
    }

    /// A platform that cannot start because a credential is missing: `detail` says which
    /// variable is empty, the headline (what a person reads) says the platform is disabled
    /// and why the platform needs it.
    pub fn missing_credential(
        platform: &str,
        display_name: &str,
        env: &str,
        what: &str,
        why: &str,
    ) -> Self {
        PlatformError::new(
            platform,
            ErrorClass::Auth,
            format!("no {what} configured ({env} is empty or not set)"),
        )
        .with_headline(format!(
            "{display_name} is disabled: {env} is not set ({why})"
        ))
    }

    /// Gives an authentication refusal the sentence a person can act on (`sentence`, e.g.
    /// "Discogs refused the token: check …"); the technical detail stays in `detail` and is
    /// logged once here — it never contains the credential, which travels in a header.
    /// Other classes pass through unchanged.
    pub fn explain_auth(self, sentence: &str) -> Self {
        if self.class != ErrorClass::Auth {
            return self;
        }
        tracing::warn!(platform = %self.platform, detail = %self.detail, "{sentence}");
        self.with_headline(sentence)
    }

    /// The same error with the wait the platform asked for.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// True when retrying cannot help (auth, not found, bad request, malformed, internal).
    pub fn is_final(&self) -> bool {
        RetryPolicy::default().class(self.class).max_attempts <= 1
    }

    fn sentence(&self) -> String {
        if let Some(headline) = &self.headline {
            return headline.clone();
        }
        let p = &self.platform;
        let head = match self.class {
            ErrorClass::RateLimit => format!("{p} is rate limiting us"),
            ErrorClass::Network => format!("{p} could not be reached"),
            ErrorClass::Server => format!("{p} had a server error"),
            ErrorClass::Auth => format!("{p} refused our credentials"),
            ErrorClass::NotFound => format!("{p} does not know what we asked for"),
            ErrorClass::BadRequest => format!("{p} refused our request as invalid"),
            ErrorClass::Malformed => format!("{p} sent an answer we could not read"),
            ErrorClass::Internal => format!("an internal error happened while calling {p}"),
        };
        let mut s = format!("{head}: {}", self.detail);
        if let Some(wait) = self.retry_after {
            s.push_str(&format!(" (it asked us to wait {} s)", wait.as_secs()));
        }
        if self.attempts > 1 {
            s.push_str(&format!(" after {} attempts", self.attempts));
        }
        s
    }
}

/// Error class of a non-success HTTP status; `None` for 1xx/2xx/3xx.
pub fn classify_status(status: u16) -> Option<ErrorClass> {
    match status {
        429 => Some(ErrorClass::RateLimit),
        401 | 403 => Some(ErrorClass::Auth),
        404 | 410 => Some(ErrorClass::NotFound),
        // A request timeout is the network's fault, not the request's shape.
        408 => Some(ErrorClass::Network),
        400..=499 => Some(ErrorClass::BadRequest),
        500..=599 => Some(ErrorClass::Server),
        _ => None,
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (IMF-fixdate; a date in the
/// past means "now"). `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let when = SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(u64::try_from(when.timestamp()).ok()?))?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Attempts and base delay for one error class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassRetry {
    /// Total attempts including the first; 1 means "no retry".
    pub max_attempts: u32,
    /// Backoff before the second attempt (before jitter).
    pub base: Duration,
}

impl ClassRetry {
    const NONE: ClassRetry = ClassRetry {
        max_attempts: 1,
        base: Duration::ZERO,
    };
}

/// The product's retry policy per error class: exponential backoff (factor 2, cap 60 s)
/// with full jitter; `Retry-After` is the minimum wait, and one longer than `max_wait` is
/// not slept at all (the error goes back to the caller, which parks the platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// HTTP 429 and platform quota errors: 5 attempts from 30 s.
    pub rate_limit: ClassRetry,
    /// Connect, timeout, reset: 3 attempts from 2 s.
    pub network: ClassRetry,
    /// HTTP 5xx: 3 attempts from 5 s.
    pub server: ClassRetry,
    /// Growth factor between consecutive waits.
    pub factor: u32,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// Longest `Retry-After` we sleep through; longer ones fail at once.
    pub max_wait: Duration,
    /// Full jitter (wait drawn uniformly from zero to the ceiling). Off only in tests that
    /// assert exact waits.
    pub jitter: bool,
}

impl From<cratedigger_domain::RetryRule> for ClassRetry {
    fn from(r: cratedigger_domain::RetryRule) -> Self {
        ClassRetry {
            max_attempts: r.max_attempts,
            base: r.base,
        }
    }
}

impl Default for RetryPolicy {
    /// The product's table from [`ErrorClass::retry_rule`], shared with the job runtime.
    fn default() -> Self {
        Self {
            rate_limit: ErrorClass::RateLimit.retry_rule().into(),
            network: ErrorClass::Network.retry_rule().into(),
            server: ErrorClass::Server.retry_rule().into(),
            factor: cratedigger_domain::error::BACKOFF_FACTOR,
            cap: cratedigger_domain::error::BACKOFF_CAP,
            max_wait: DEFAULT_MAX_WAIT,
            jitter: true,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStep {
    /// Sleep this long, then try again.
    Wait(Duration),
    /// Stop and return the error.
    GiveUp,
}

impl RetryPolicy {
    /// The product policy with another `max_wait`.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Attempts and base for `class`; classes that retrying cannot fix get one attempt.
    pub fn class(&self, class: ErrorClass) -> ClassRetry {
        match class {
            ErrorClass::RateLimit => self.rate_limit,
            ErrorClass::Network => self.network,
            ErrorClass::Server => self.server,
            ErrorClass::Auth
            | ErrorClass::NotFound
            | ErrorClass::BadRequest
            | ErrorClass::Malformed
            | ErrorClass::Internal => ClassRetry::NONE,
        }
    }

    /// Upper bound of the wait after failed attempt `attempt` (1-based), before jitter:
    /// `min(cap, base * factor^(attempt-1))`.
    pub fn ceiling(&self, class: ErrorClass, attempt: u32) -> Duration {
        let base = self.class(class).base;
        let mult = u64::from(self.factor.max(1)).saturating_pow(attempt.saturating_sub(1));
        let millis = u64::try_from(base.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_mul(mult);
        Duration::from_millis(millis).min(self.cap)
    }

    /// Decides what follows failed attempt `attempt` (1-based) that ended in `err`.
    pub fn next_step<R: rand::Rng + ?Sized>(
        &self,
        err: &PlatformError,
        attempt: u32,
        rng: &mut R,
    ) -> RetryStep {
        if attempt >= self.class(err.class).max_attempts {
            return RetryStep::GiveUp;
        }
        if let Some(asked) = err.retry_after
            && asked > self.max_wait
        {
            return RetryStep::GiveUp;
        }
        let ceiling = self.ceiling(err.class, attempt);
        let backoff = if self.jitter {
            let max = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
            Duration::from_millis(rng.random_range(0..=max))
        } else {
            ceiling
        };
        RetryStep::Wait(backoff.max(err.retry_after.unwrap_or(Duration::ZERO)))
    }
}

/// A body plus the attempts it took, so the scout can report effort per platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched<T> {
    /// The decoded answer.
    pub body: T,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

type SleepFn = dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

/// How the retry loop waits. Tokio's timer in production (so a paused test clock applies);
/// tests that talk to a real socket inject one that records the waits instead.
#[derive(Clone)]
pub struct Sleeper(Arc<SleepFn>);

impl Sleeper {
    /// Sleeps on tokio's timer.
    pub fn tokio() -> Self {
        Self(Arc::new(|d| Box::pin(tokio::time::sleep(d))))
    }

    /// Uses `f` to wait (e.g. record the duration and return at once).
    pub fn from_fn<F, Fut>(f: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self(Arc::new(move |d| Box::pin(f(d))))
    }

    /// Waits `d`.
    pub async fn sleep(&self, d: Duration) {
        (self.0)(d).await
    }
}

impl Default for Sleeper {
    fn default() -> Self {
        Self::tokio()
    }
}

impl fmt::Debug for Sleeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sleeper")
    }
}

/// Runs `op` (given the 1-based attempt number) until it succeeds or `policy` says stop;
/// the returned error carries the attempts made.
pub async fn run_with_retry<T, F, Fut>(
    policy: &RetryPolicy,
    sleeper: &Sleeper,
    mut op: F,
) -> Result<Fetched<T>, PlatformError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, PlatformError>>,
{
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match op(attempt).await {
            Ok(body) => {
                return Ok(Fetched {
                    body,
                    attempts: attempt,
                });
            }
            Err(mut err) => {
                err.attempts = attempt;
                let step = policy.next_step(&err, attempt, &mut rand::rng());
                match step {
                    RetryStep::Wait(wait) => {
                        tracing::debug!(
                            platform = %err.platform,
                            class = %err.class,
                            attempt,
                            wait_ms = wait.as_millis() as u64,
                            "platform call failed, retrying"
                        );
                        sleeper.sleep(wait).await;
                    }
                    RetryStep::GiveUp => return Err(err),
                }
            }
        }
    }
}

/// Recognises a platform's error object inside a 2xx body (Deezer answers errors with
/// HTTP 200); returns the class and a detail when the body is such an error.
pub type BodyCheck = fn(&[u8]) -> Option<(ErrorClass, String, Option<Duration>)>;

/// Settings of one platform's HTTP client.
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// User-Agent sent with every request (MusicBrainz requires a contact in it).
    pub user_agent: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// Retry policy.
    pub policy: RetryPolicy,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        Self {
            user_agent: crate::config::DEFAULT_USER_AGENT.to_string(),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            policy: RetryPolicy::default(),
        }
    }
}

/// A platform's HTTP client: reqwest plus the platform's id, limits and retry policy.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    platform: String,
    client: reqwest::Client,
    policy: RetryPolicy,
    sleeper: Sleeper,
    max_body_bytes: usize,
    body_check: Option<BodyCheck>,
    headers: reqwest::header::HeaderMap,
    layer: Option<Arc<Layer>>,
}

/// The shared layer of a client built from a [`crate::PlatformContext`].
#[derive(Debug)]
struct Layer {
    display_name: String,
    limiter: Limiter,
    breaker: CircuitBreaker,
    cache: ResponseCache,
}

/// Per-request options: extra headers (a bearer token that changes) and whether the answer
/// may come from / go to the cache.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    headers: Vec<(String, String, bool)>,
    cache: bool,
}

impl Default for RequestOptions {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            cache: true,
        }
    }
}

impl RequestOptions {
    /// Cached, no extra header.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header; `sensitive` ones (credentials) are redacted in debug output. The
    /// cache key never includes headers.
    pub fn header(mut self, name: &str, value: impl Into<String>, sensitive: bool) -> Self {
        self.headers
            .push((name.to_string(), value.into(), sensitive));
        self
    }

    /// Adds `Authorization: Bearer <token>` (sensitive).
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"), true)
    }

    /// Neither read nor write the cache (playlists that change, token endpoints).
    pub fn uncached(mut self) -> Self {
        self.cache = false;
        self
    }
}

impl HttpClient {
    /// Builds the client for `platform`.
    pub fn new(
        platform: impl Into<String>,
        opts: HttpClientOptions,
    ) -> Result<Self, PlatformError> {
        let platform = platform.into();
        let client = reqwest::Client::builder()
            .user_agent(opts.user_agent)
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .build()
            .map_err(|e| {
                PlatformError::new(
                    platform.clone(),
                    ErrorClass::Internal,
                    format!("could not build the HTTP client: {}", error_chain(&e)),
                )
            })?;
        Ok(Self {
            platform,
            client,
            policy: opts.policy,
            sleeper: Sleeper::tokio(),
            max_body_bytes: opts.max_body_bytes,
            body_check: None,
            headers: reqwest::header::HeaderMap::new(),
            layer: None,
        })
    }

    /// Adds the shared layer (limiter, breaker, cache); [`crate::PlatformContext::http_client`]
    /// calls this. Without it the client only retries (tests, tools).
    pub fn with_layer(
        mut self,
        display_name: &str,
        limiter: Limiter,
        breaker: CircuitBreaker,
        cache: ResponseCache,
    ) -> Self {
        self.layer = Some(Arc::new(Layer {
            display_name: display_name.to_string(),
            limiter,
            breaker,
            cache,
        }));
        self
    }

    /// The limiter in force, if the client has the shared layer.
    pub fn limiter(&self) -> Option<&Limiter> {
        self.layer.as_ref().map(|l| &l.limiter)
    }

    /// Adds a header sent with every request. Credentials are marked `sensitive`, so the
    /// client's `Debug` prints them redacted; an invalid value (e.g. a newline) is refused.
    pub fn with_header(
        mut self,
        name: &'static str,
        value: &str,
        sensitive: bool,
    ) -> Result<Self, PlatformError> {
        let mut v = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
            PlatformError::new(
                self.platform.clone(),
                ErrorClass::BadRequest,
                format!("the configured value of the {name} header is not a valid header value"),
            )
        })?;
        v.set_sensitive(sensitive);
        let n = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            PlatformError::new(
                self.platform.clone(),
                ErrorClass::Internal,
                format!("'{name}' is not a valid header name"),
            )
        })?;
        self.headers.insert(n, v);
        Ok(self)
    }

    /// Replaces how retries wait (tests).
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Installs the platform's detector of error objects sent with HTTP 200.
    pub fn with_body_check(mut self, check: BodyCheck) -> Self {
        self.body_check = Some(check);
        self
    }

    /// Platform id used in errors.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The retry policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// One GET of `url`: the body of a 2xx answer, or a classified error. No retry, no
    /// limiter, no cache (the bare request).
    pub async fn get_once(&self, url: &str) -> Result<Vec<u8>, PlatformError> {
        self.send_once(&Method::Get, url, &RequestOptions::default())
            .await
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        opts: &RequestOptions,
    ) -> Result<Vec<u8>, PlatformError> {
        let m = method.as_str();
        let mut req = match method {
            Method::Get => self.client.get(url),
            Method::PostForm(form) => self
                .client
                .post(url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.clone()),
        };
        req = req
            .header(reqwest::header::ACCEPT, "application/json")
            .headers(self.headers.clone());
        for (name, value, sensitive) in &opts.headers {
            let n = reqwest::header::HeaderName::from_bytes(name.as_bytes());
            let v = reqwest::header::HeaderValue::from_str(value);
            let (Ok(n), Ok(mut v)) = (n, v) else {
                return Err(PlatformError::new(
                    self.platform.clone(),
                    ErrorClass::BadRequest,
                    format!("the {name} header of {m} {url} is not a valid header"),
                ));
            };
            v.set_sensitive(*sensitive);
            req = req.header(n, v);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(&e, m, url))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        if let Some(len) = resp.content_length()
            && len > self.max_body_bytes as u64
        {
            return Err(self.too_big(url));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e, m, url))?
        {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(self.too_big(url));
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(class) = classify_status(status.as_u16()) {
            let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(PlatformError::new(
                self.platform.clone(),
                class,
                format!("HTTP {status} for {m} {url}: {}", snippet.trim()),
            )
            .with_status(status.as_u16())
            .with_retry_after(retry_after));
        }
        if !status.is_success() {
            return Err(PlatformError::new(
                self.platform.clone(),
                ErrorClass::Malformed,
                format!("unexpected HTTP {status} for {m} {url}"),
            )
            .with_status(status.as_u16()));
        }
        if let Some(check) = self.body_check
            && let Some((class, detail, wait)) = check(&body)
        {
            return Err(PlatformError::new(
                self.platform.clone(),
                class,
                format!("{detail} ({m} {url})"),
            )
            .with_retry_after(wait));
        }
        Ok(body)
    }

    /// One GET decoded as JSON into `T`. No retry.
    pub async fn get_json_once<T: DeserializeOwned>(&self, url: &str) -> Result<T, PlatformError> {
        let body = self.get_once(url).await?;
        serde_json::from_slice(&body).map_err(|e| {
            PlatformError::new(
                self.platform.clone(),
                ErrorClass::Malformed,
                format!("GET {url} returned JSON we could not decode: {e}"),
            )
        })
    }

    /// GET decoded as JSON through the whole layer (cache, breaker, limiter, retries);
    /// returns the body and the attempts used (0 when the cache answered).
    pub async fn get_json_with_retry<T: DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Fetched<T>, PlatformError> {
        self.get_json_with(url, &RequestOptions::default()).await
    }

    /// [`Self::get_json_with_retry`] with per-request headers and cache choice.
    pub async fn get_json_with<T: DeserializeOwned>(
        &self,
        url: &str,
        opts: &RequestOptions,
    ) -> Result<Fetched<T>, PlatformError> {
        let fetched = self.fetch(&Method::Get, url, opts).await?;
        let body = self.decode(&fetched.body, "GET", url)?;
        Ok(Fetched {
            body,
            attempts: fetched.attempts,
        })
    }

    /// The raw body of a GET through the whole layer (for answers that are not JSON).
    pub async fn get_bytes_with(
        &self,
        url: &str,
        opts: &RequestOptions,
    ) -> Result<Fetched<Arc<[u8]>>, PlatformError> {
        self.fetch(&Method::Get, url, opts).await
    }

    /// POST of a form (`application/x-www-form-urlencoded`) decoded as JSON, through the
    /// breaker, limiter and retries but never cached: token endpoints (client credentials).
    pub async fn post_form_json<T: DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
        opts: &RequestOptions,
    ) -> Result<Fetched<T>, PlatformError> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let opts = opts.clone().uncached();
        let fetched = self.fetch(&Method::PostForm(body), url, &opts).await?;
        let body = self.decode(&fetched.body, "POST", url)?;
        Ok(Fetched {
            body,
            attempts: fetched.attempts,
        })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        body: &[u8],
        method: &str,
        url: &str,
    ) -> Result<T, PlatformError> {
        serde_json::from_slice(body).map_err(|e| {
            PlatformError::new(
                self.platform.clone(),
                ErrorClass::Malformed,
                format!("{method} {url} returned JSON we could not decode: {e}"),
            )
        })
    }

    /// Cache lookup, then the live call, then the cache write.
    async fn fetch(
        &self,
        method: &Method,
        url: &str,
        opts: &RequestOptions,
    ) -> Result<Fetched<Arc<[u8]>>, PlatformError> {
        let cache = self
            .layer
            .as_ref()
            .map(|l| &l.cache)
            .filter(|c| c.enabled() && opts.cache && matches!(method, Method::Get));
        let key = cache.map(|_| normalize_url(url));
        if let (Some(cache), Some(key)) = (cache, &key)
            && let Some((level, hit)) = cache.get(&self.platform, key).await
        {
            tracing::trace!(platform = %self.platform, level = level.as_str(), url, "cache hit");
            return Self::from_cache(&self.platform, hit);
        }
        let flight = match (cache, &key) {
            (Some(cache), Some(key)) => Some(cache.single_flight(&self.platform, key).await),
            _ => None,
        };
        if flight.as_ref().is_some_and(|f| f.waited)
            && let (Some(cache), Some(key)) = (cache, &key)
            && let Some((_, hit)) = cache.get(&self.platform, key).await
        {
            return Self::from_cache(&self.platform, hit);
        }
        // The same question may be in flight in another process of the fleet.
        let claim = match (cache, &key) {
            (Some(cache), Some(key)) => {
                match cache.claim_fleet(&self.platform, key, FLEET_HOLD).await {
                    FleetFlight::Answered(hit) => return Self::from_cache(&self.platform, hit),
                    FleetFlight::Ask(claim) => claim,
                }
            }
            _ => None,
        };
        let result = self.fetch_live(method, url, opts).await;
        if let (Some(cache), Some(key)) = (cache, key) {
            match &result {
                Ok(f) => {
                    // only what decodes as JSON is worth keeping (and safe to replay)
                    if serde_json::from_slice::<serde::de::IgnoredAny>(&f.body).is_ok() {
                        cache
                            .put(&self.platform, &key, Cached::Body(f.body.clone()))
                            .await;
                    }
                }
                Err(e) if e.class == ErrorClass::NotFound => {
                    cache
                        .put(
                            &self.platform,
                            &key,
                            Cached::NotFound(e.detail.clone().into()),
                        )
                        .await;
                }
                Err(_) => {}
            }
            if let Some(claim) = claim {
                cache.release_fleet(claim).await;
            }
        }
        result
    }

    /// A cached answer as the live call would have returned it (no attempts made).
    fn from_cache(platform: &str, hit: Cached) -> Result<Fetched<Arc<[u8]>>, PlatformError> {
        match hit {
            Cached::Body(body) => Ok(Fetched { body, attempts: 0 }),
            Cached::NotFound(detail) => {
                let mut e = PlatformError::new(
                    platform.to_string(),
                    ErrorClass::NotFound,
                    format!("{detail} (cached answer)"),
                );
                e.attempts = 0;
                Err(e)
            }
        }
    }

    /// The call itself: breaker, limiter, request, retry policy; `Retry-After` handling.
    async fn fetch_live(
        &self,
        method: &Method,
        url: &str,
        opts: &RequestOptions,
    ) -> Result<Fetched<Arc<[u8]>>, PlatformError> {
        let platform = self.platform.clone();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = match &self.layer {
                Some(layer) => match layer.breaker.check() {
                    Ok(p) => Some(p),
                    Err(open) => {
                        self.count_outcome("circuit_open");
                        return Err(self.circuit_open_error(layer, open, attempt - 1));
                    }
                },
                None => None,
            };
            if let Some(layer) = &self.layer {
                match layer.limiter.acquire(self.policy.max_wait).await {
                    Admission::Go(wait) => {
                        let mut waited = wait;
                        if !wait.is_zero() {
                            crate::limiter::sleep_measuring_lateness(wait).await;
                        }
                        // the last gate: a late wake-up must not bunch up behind others
                        loop {
                            let more = layer.limiter.confirm().await;
                            if more.is_zero() {
                                break;
                            }
                            waited += more;
                            if waited > self.policy.max_wait {
                                self.count_outcome("throttled");
                                let mut e = PlatformError::new(
                                    platform.clone(),
                                    ErrorClass::RateLimit,
                                    format!(
                                        "waited {} s for the fleet's rate limit without a free slot",
                                        waited.as_secs()
                                    ),
                                )
                                .with_retry_after(Some(more));
                                e.attempts = attempt - 1;
                                return Err(e);
                            }
                            crate::limiter::sleep_measuring_lateness(more).await;
                        }
                        metrics::histogram!("cratedigger_ratelimit_wait_seconds", "platform" => platform.clone())
                            .record(waited.as_secs_f64());
                    }
                    Admission::Refused(wait) => {
                        self.count_outcome("throttled");
                        let rate = layer.limiter.rate();
                        let mut e = PlatformError::new(
                            platform.clone(),
                            ErrorClass::RateLimit,
                            format!(
                                "the fleet's budget of {} requests per {:.1} s is booked for the next {} s, longer than a worker waits ({} s)",
                                rate.requests,
                                rate.per.as_secs_f64(),
                                wait.as_secs(),
                                self.policy.max_wait.as_secs()
                            ),
                        )
                        .with_retry_after(Some(wait));
                        e.attempts = attempt - 1;
                        return Err(e);
                    }
                    Admission::Parked(left) => {
                        self.count_outcome("parked");
                        return Err(self.parked_error(layer, left, None, attempt - 1));
                    }
                    Admission::CircuitOpen(open) => {
                        self.count_outcome("circuit_open");
                        return Err(self.circuit_open_error(layer, open, attempt - 1));
                    }
                }
            }
            let started = std::time::Instant::now();
            let res = self.send_once(method, url, opts).await;
            metrics::histogram!("cratedigger_platform_request_duration_seconds", "platform" => platform.clone())
                .record(started.elapsed().as_secs_f64());
            let class = res.as_ref().err().map(|e| e.class);
            self.count_outcome(class.map_or("ok", |c| c.as_str()));
            if let (Some(p), Some(layer)) = (permit, &self.layer)
                && let Some(open) = p.record(class)
            {
                layer.limiter.share_open(&open).await;
            }
            let mut err = match res {
                Ok(body) => {
                    return Ok(Fetched {
                        body: body.into(),
                        attempts: attempt,
                    });
                }
                Err(e) => e,
            };
            err.attempts = attempt;
            if let (Some(layer), ErrorClass::RateLimit, Some(asked)) =
                (&self.layer, err.class, err.retry_after)
            {
                if asked > self.policy.max_wait {
                    let why = format!("{} asked for {} s on {url}", platform, asked.as_secs());
                    layer.limiter.hold(asked, true, &why).await;
                    tracing::warn!(
                        platform = %platform,
                        retry_after_secs = asked.as_secs(),
                        "the platform asked us to wait longer than a worker waits: parked fleet-wide"
                    );
                    return Err(self.parked_error(layer, asked, Some(asked), attempt));
                }
                layer.limiter.hold(asked, false, "").await;
            }
            if self.layer.as_ref().is_some_and(|l| l.breaker.is_open()) {
                // this failure opened the breaker (or a probe failed): no point waiting
                return Err(err);
            }
            let step = self.policy.next_step(&err, attempt, &mut rand::rng());
            match step {
                RetryStep::Wait(wait) => {
                    tracing::debug!(
                        platform = %platform,
                        class = %err.class,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "platform call failed, retrying"
                    );
                    self.sleeper.sleep(wait).await;
                }
                RetryStep::GiveUp => return Err(err),
            }
        }
    }

    fn count_outcome(&self, outcome: &'static str) {
        metrics::counter!("cratedigger_platform_requests_total", "platform" => self.platform.clone(), "outcome" => outcome)
            .increment(1);
    }

    fn parked_error(
        &self,
        layer: &Layer,
        left: Duration,
        asked: Option<Duration>,
        attempts: u32,
    ) -> PlatformError {
        let until = chrono::Utc::now()
            + chrono::Duration::from_std(left).unwrap_or(chrono::Duration::zero());
        let asked = asked
            .map(|a| format!(" (it asked us to wait {} s)", a.as_secs()))
            .unwrap_or_default();
        let mut e = PlatformError::new(
            self.platform.clone(),
            ErrorClass::RateLimit,
            format!(
                "{} is parked until {}{asked}",
                self.platform,
                until.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        )
        .with_retry_after(Some(left))
        .with_headline(format!(
            "{} is parked until {}{asked}; continuing with the other platforms",
            layer.display_name,
            until.format("%Y-%m-%d %H:%M:%S UTC")
        ));
        e.attempts = attempts;
        e
    }

    fn circuit_open_error(
        &self,
        layer: &Layer,
        open: crate::breaker::Open,
        attempts: u32,
    ) -> PlatformError {
        let since: chrono::DateTime<chrono::Utc> = open.since.into();
        let since = since.format("%H:%M:%S UTC");
        let mut e = PlatformError::new(
            self.platform.clone(),
            ErrorClass::Server,
            format!(
                "circuit open since {since}, next probe in {} s",
                open.retry_in.as_secs()
            ),
        )
        .with_headline(format!(
            "{} is failing (circuit open since {since}); continuing with the other platforms",
            layer.display_name
        ));
        e.attempts = attempts;
        e
    }

    fn too_big(&self, url: &str) -> PlatformError {
        PlatformError::new(
            self.platform.clone(),
            ErrorClass::Malformed,
            format!(
                "GET {url} returned a body larger than {} bytes",
                self.max_body_bytes
            ),
        )
    }

    fn transport_error(&self, e: &reqwest::Error, method: &str, url: &str) -> PlatformError {
        let class = if e.is_builder() {
            ErrorClass::BadRequest
        } else if e.is_decode() {
            ErrorClass::Malformed
        } else {
            // connect, timeout, reset, body cut short
            ErrorClass::Network
        };
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "failed"
        };
        PlatformError::new(
            self.platform.clone(),
            class,
            format!("{method} {url} {what}: {}", error_chain(e)),
        )
    }
}

/// HTTP methods the layer sends.
#[derive(Debug, Clone)]
enum Method {
    Get,
    /// POST with an urlencoded form body.
    PostForm(String),
}

impl Method {
    fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::PostForm(_) => "POST",
        }
    }
}

/// API drift: a field a mapper relies on is absent from a platform's answer. Counted as
/// `cratedigger_platform_field_missing_total{platform,field}` and logged once per platform
/// and field per process, with the request URL, so a changed API shows up in the metrics
/// instead of as silently empty data.
pub fn note_missing_field(platform: &str, field: &'static str, url: &str) {
    static SEEN: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashSet<(String, &'static str)>>,
    > = std::sync::LazyLock::new(Default::default);
    metrics::counter!("cratedigger_platform_field_missing_total", "platform" => platform.to_string(), "field" => field)
        .increment(1);
    let first = SEEN
        .lock()
        .map(|mut s| s.insert((platform.to_string(), field)))
        .unwrap_or(false);
    if first {
        tracing::warn!(
            platform,
            field,
            url,
            "a field the mapper relies on is missing from the platform's answer (API drift?); counted in cratedigger_platform_field_missing_total, logged once"
        );
    }
}

/// [`note_missing_field`] for the fields every mapper relies on: title, artists, duration.
/// Returns how many were missing.
pub fn note_missing_key_fields(track: &PlatformTrack, url: &str) -> usize {
    let mut missing = 0;
    for (absent, field) in [
        (track.title.trim().is_empty(), "title"),
        (track.artists.is_empty(), "artists"),
        (track.duration_ms.is_none(), "duration"),
    ] {
        if absent {
            note_missing_field(&track.platform, field, url);
            missing += 1;
        }
    }
    missing
}

/// An error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let msg = inner.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_product_says() {
        assert_eq!(classify_status(200), None);
        assert_eq!(classify_status(304), None);
        assert_eq!(classify_status(429), Some(ErrorClass::RateLimit));
        assert_eq!(classify_status(500), Some(ErrorClass::Server));
        assert_eq!(classify_status(503), Some(ErrorClass::Server));
        assert_eq!(classify_status(401), Some(ErrorClass::Auth));
        assert_eq!(classify_status(403), Some(ErrorClass::Auth));
        assert_eq!(classify_status(404), Some(ErrorClass::NotFound));
        assert_eq!(classify_status(400), Some(ErrorClass::BadRequest));
        assert_eq!(classify_status(422), Some(ErrorClass::BadRequest));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let p = RetryPolicy::default();
        let secs = |c, a| p.ceiling(c, a).as_secs();
        assert_eq!(
            [1, 2, 3, 4].map(|a| secs(ErrorClass::RateLimit, a)),
            [30, 60, 60, 60]
        );
        assert_eq!([1, 2].map(|a| secs(ErrorClass::Network, a)), [2, 4]);
        assert_eq!([1, 2].map(|a| secs(ErrorClass::Server, a)), [5, 10]);
        assert_eq!(p.class(ErrorClass::RateLimit).max_attempts, 5);
        assert_eq!(p.class(ErrorClass::Network).max_attempts, 3);
        assert_eq!(p.class(ErrorClass::Server).max_attempts, 3);
        for c in [
            ErrorClass::Auth,
            ErrorClass::NotFound,
            ErrorClass::BadRequest,
            ErrorClass::Malformed,
        ] {
            assert_eq!(p.class(c).max_attempts, 1, "{c} must not be retried");
        }
    }

    #[test]
    fn jitter_stays_under_the_ceiling_and_retry_after_is_a_floor() {
        let p = RetryPolicy::default();
        let mut rng = rand::rng();
        let err = PlatformError::new("x", ErrorClass::Server, "boom");
        for _ in 0..200 {
            match p.next_step(&err, 2, &mut rng) {
                RetryStep::Wait(w) => assert!(w <= Duration::from_secs(10), "{w:?}"),
                RetryStep::GiveUp => panic!("attempt 2 of 3 must retry"),
            }
        }
        assert_eq!(p.next_step(&err, 3, &mut rng), RetryStep::GiveUp);
        let limited = PlatformError::new("x", ErrorClass::RateLimit, "slow down")
            .with_retry_after(Some(Duration::from_secs(45)));
        for _ in 0..200 {
            match p.next_step(&limited, 1, &mut rng) {
                // ceiling 30 s < Retry-After 45 s: the floor wins every time
                RetryStep::Wait(w) => assert_eq!(w, Duration::from_secs(45)),
                RetryStep::GiveUp => panic!("must retry"),
            }
        }
    }

    #[test]
    fn a_retry_after_longer_than_max_wait_is_not_slept() {
        let p = RetryPolicy::default();
        let err = PlatformError::new("spotify", ErrorClass::RateLimit, "HTTP 429")
            .with_retry_after(Some(Duration::from_secs(61)));
        assert_eq!(p.next_step(&err, 1, &mut rand::rng()), RetryStep::GiveUp);
        let p = p.with_max_wait(Duration::from_secs(3600));
        assert!(matches!(
            p.next_step(&err, 1, &mut rand::rng()),
            RetryStep::Wait(w) if w >= Duration::from_secs(61)
        ));
    }

    #[test]
    fn final_classes_give_up_at_once() {
        let p = RetryPolicy::default();
        for c in [
            ErrorClass::Auth,
            ErrorClass::NotFound,
            ErrorClass::BadRequest,
            ErrorClass::Malformed,
        ] {
            let err = PlatformError::new("x", c, "no");
            assert!(err.is_final());
            assert_eq!(p.next_step(&err, 1, &mut rand::rng()), RetryStep::GiveUp);
        }
    }

    #[test]
    fn missing_key_fields_are_noted_per_field() {
        let mut t = PlatformTrack {
            platform: "deezer".into(),
            platform_id: "1".into(),
            ..Default::default()
        };
        assert_eq!(note_missing_key_fields(&t, "http://x/track/1"), 3);
        t.title = "One More Time".into();
        t.duration_ms = Some(320_000);
        assert_eq!(note_missing_key_fields(&t, "http://x/track/1"), 1);
        t.artists.push(cratedigger_domain::ArtistCredit {
            name: "Daft Punk".into(),
            role: cratedigger_domain::ArtistRole::Main,
        });
        assert_eq!(note_missing_key_fields(&t, "http://x/track/1"), 0);
    }

    #[test]
    fn errors_read_as_sentences() {
        let mut e = PlatformError::new("deezer", ErrorClass::RateLimit, "HTTP 429 for GET /x")
            .with_retry_after(Some(Duration::from_secs(30)));
        e.attempts = 5;
        assert_eq!(
            e.to_string(),
            "deezer is rate limiting us: HTTP 429 for GET /x (it asked us to wait 30 s) after 5 attempts"
        );
    }

    /// The whole product schedule on a paused clock: 4 waits for 5 rate-limit attempts,
    /// each between its Retry-After floor and the capped ceiling.
    #[tokio::test(start_paused = true)]
    async fn paused_clock_sees_the_rate_limit_schedule() {
        let policy = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        let start = tokio::time::Instant::now();
        let mut stamps = Vec::new();
        let res: Result<Fetched<()>, _> = run_with_retry(&policy, &Sleeper::tokio(), |_| {
            stamps.push(start.elapsed().as_secs());
            async {
                Err(PlatformError::new("mb", ErrorClass::RateLimit, "429")
                    .with_retry_after(Some(Duration::from_secs(1))))
            }
        })
        .await;
        let err = res.unwrap_err();
        assert_eq!(err.attempts, 5);
        assert_eq!(err.class, ErrorClass::RateLimit);
        // waits 30, 60, 60, 60 (cap) without jitter
        assert_eq!(stamps, vec![0, 30, 90, 150, 210]);
    }

    #[tokio::test(start_paused = true)]
    async fn paused_clock_network_then_success() {
        let policy = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        let start = tokio::time::Instant::now();
        let res = run_with_retry(&policy, &Sleeper::tokio(), |attempt| async move {
            if attempt < 3 {
                Err(PlatformError::new("mb", ErrorClass::Network, "reset"))
            } else {
                Ok(attempt)
            }
        })
        .await
        .unwrap();
        assert_eq!(
            res,
            Fetched {
                body: 3,
                attempts: 3
            }
        );
        assert_eq!(start.elapsed(), Duration::from_secs(2 + 4));
    }
}
