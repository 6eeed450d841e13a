//! The one streaming file download the HTTP sources share (Bandcamp free downloads,
//! SoundCloud downloadable originals): the body goes to `<dest>.part` chunk by chunk, the
//! [`DownloadLimits`] are enforced while it arrives (no byte for `stall_timeout`, more than
//! `max_bytes`, longer than `overall_timeout`), progress is reported, and the file is renamed
//! to its final name only when complete. On any failure — including the caller dropping the
//! future — the partial file is removed, so the staging directory never holds half a track.
//!
//! Requests go through the source's fleet-wide rate limiter and circuit breaker from the
//! [`PlatformContext`] (the same ones its page requests use), but not through
//! [`crate::HttpClient`]: that client buffers whole bodies under an 8 MB cap and a
//! whole-request timeout, which is right for API answers and wrong for a 400 MB FLAC. No
//! response cache either: audio is never cached.

use crate::acquisition::{DownloadLimits, DownloadedFile, ProgressFn};
use crate::breaker::CircuitBreaker;
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{PlatformError, classify_status};
use crate::limiter::{Admission, Limiter};
use crate::platform::PlatformInfo;
use cratedigger_domain::ErrorClass;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Longest a download waits for the rate limiter before giving up (the next candidate is
/// tried instead of holding a download slot).
const MAX_ADMISSION_WAIT: Duration = Duration::from_secs(60);

/// A source's file downloader: its own streaming HTTP client plus the source's limiter and
/// breaker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Downloader {
    source: String,
    client: reqwest::Client,
    limiter: Limiter,
    breaker: CircuitBreaker,
}

/// How the final file is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalName {
    /// Exactly the `dest` the caller gave.
    AsGiven,
    /// `dest` with the extension the answer's `Content-Type` implies (see
    /// [`extension_for_content_type`]), or `dest` unchanged when it implies none: the
    /// source only learns the real format (FLAC, WAV, …) when the file arrives.
    FromContentType,
}

impl Downloader {
    /// A downloader for the source described by `info`, sharing the limiter and breaker of
    /// `ctx` with the source's page requests. `user_agent` as the source's pages use it.
    pub fn new(
        ctx: &PlatformContext,
        info: &PlatformInfo,
        http: &HttpConfig,
        user_agent: &str,
    ) -> Result<Self, PlatformError> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(Duration::from_secs(http.connect_timeout_secs.max(1)))
            .build()
            .map_err(|e| {
                PlatformError::new(
                    info.id,
                    ErrorClass::Internal,
                    format!("could not build the download client: {e}"),
                )
            })?;
        Ok(Self {
            source: info.id.to_string(),
            client,
            limiter: ctx.limiter(info),
            breaker: ctx.breaker(info.id),
        })
    }

    /// Fetches `url` into `dest` within `limits`, reporting progress. `dest` must name a
    /// file in an existing directory; `<dest>.part` is used while downloading.
    pub async fn fetch(
        &self,
        url: &str,
        dest: &Path,
        naming: FinalName,
        limits: &DownloadLimits,
        progress: &ProgressFn,
    ) -> Result<DownloadedFile, PlatformError> {
        let part = part_path(dest).ok_or_else(|| {
            self.err(
                ErrorClass::Internal,
                format!(
                    "the download destination {} does not name a file",
                    dest.display()
                ),
            )
        })?;
        let mut guard = PartGuard::new(part.clone());
        let result = match tokio::time::timeout(
            limits.overall_timeout,
            self.fetch_inner(url, dest, &part, naming, limits, progress),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(self
                .err(
                    ErrorClass::Network,
                    format!(
                        "the download of {} did not finish within {} s",
                        redact(url),
                        limits.overall_timeout.as_secs()
                    ),
                )
                .with_headline(format!(
                    "{} download took longer than the overall limit of {} s; the partial file was removed",
                    self.source,
                    limits.overall_timeout.as_secs()
                ))),
        };
        let outcome = match &result {
            Ok(_) => {
                guard.disarm();
                "ok"
            }
            Err(e) => e.class.as_str(),
        };
        drop(guard);
        metrics::counter!("cratedigger_source_downloads_total", "source" => self.source.clone(), "outcome" => outcome)
            .increment(1);
        result
    }

    async fn fetch_inner(
        &self,
        url: &str,
        dest: &Path,
        part: &Path,
        naming: FinalName,
        limits: &DownloadLimits,
        progress: &ProgressFn,
    ) -> Result<DownloadedFile, PlatformError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            self.err(
                ErrorClass::BadRequest,
                format!("'{}' is not a download address: {e}", redact(url)),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(self.err(
                ErrorClass::BadRequest,
                format!(
                    "only http(s) downloads are fetched, not '{}'",
                    parsed.scheme()
                ),
            ));
        }
        let permit = match self.breaker.check() {
            Ok(p) => p,
            Err(open) => {
                return Err(self.err(
                    ErrorClass::Server,
                    format!(
                        "{} keeps failing (circuit open, next probe in {} s); download not attempted",
                        self.source,
                        open.retry_in.as_secs()
                    ),
                ));
            }
        };
        self.admit().await?;
        let sent = tokio::time::timeout(limits.stall_timeout, self.client.get(parsed).send()).await;
        let mut resp = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                permit.record(Some(ErrorClass::Network));
                return Err(self.err(
                    ErrorClass::Network,
                    format!("GET {} failed: {e}", redact(url)),
                ));
            }
            Err(_) => {
                permit.record(Some(ErrorClass::Network));
                return Err(self.stalled(url, 0, limits));
            }
        };
        let status = resp.status().as_u16();
        if let Some(class) = classify_status(status) {
            permit.record(Some(class));
            return Err(self.err(
                class,
                format!("HTTP {status} for the download {}", redact(url)),
            ));
        }
        if !resp.status().is_success() {
            permit.record(Some(ErrorClass::Malformed));
            return Err(self.err(
                ErrorClass::Malformed,
                format!("unexpected HTTP {status} for the download {}", redact(url)),
            ));
        }
        permit.record(None);
        let total = resp.content_length();
        if let Some(len) = total
            && len > limits.max_bytes
        {
            return Err(self.too_big(url, len, limits));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_string());
        let mut file = tokio::fs::File::create(part).await.map_err(|e| {
            self.err(
                ErrorClass::Internal,
                format!("cannot create {}: {e}", part.display()),
            )
        })?;
        let mut bytes: u64 = 0;
        progress(0, total);
        loop {
            let chunk = match tokio::time::timeout(limits.stall_timeout, resp.chunk()).await {
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    return Err(self.err(
                        ErrorClass::Network,
                        format!(
                            "the download of {} broke off after {bytes} bytes: {e}",
                            redact(url)
                        ),
                    ));
                }
                Err(_) => return Err(self.stalled(url, bytes, limits)),
            };
            bytes = bytes.saturating_add(chunk.len() as u64);
            if bytes > limits.max_bytes {
                return Err(self.too_big(url, bytes, limits));
            }
            file.write_all(&chunk).await.map_err(|e| {
                self.err(
                    ErrorClass::Internal,
                    format!("cannot write {}: {e}", part.display()),
                )
            })?;
            progress(bytes, total);
        }
        if let Some(len) = total
            && bytes != len
        {
            return Err(self.err(
                ErrorClass::Network,
                format!(
                    "the download of {} ended after {bytes} of {len} bytes",
                    redact(url)
                ),
            ));
        }
        file.flush().await.map_err(|e| {
            self.err(
                ErrorClass::Internal,
                format!("cannot write {}: {e}", part.display()),
            )
        })?;
        file.sync_all().await.map_err(|e| {
            self.err(
                ErrorClass::Internal,
                format!("cannot sync {}: {e}", part.display()),
            )
        })?;
        drop(file);
        let final_path = match naming {
            FinalName::AsGiven => dest.to_path_buf(),
            FinalName::FromContentType => match extension_for_content_type(content_type.as_deref())
            {
                Some(ext) => dest.with_extension(ext),
                None => dest.to_path_buf(),
            },
        };
        tokio::fs::rename(part, &final_path).await.map_err(|e| {
            self.err(
                ErrorClass::Internal,
                format!(
                    "cannot move {} to {}: {e}",
                    part.display(),
                    final_path.display()
                ),
            )
        })?;
        Ok(DownloadedFile {
            path: final_path,
            bytes,
        })
    }

    /// Waits for the source's rate limiter (bounded), like the HTTP layer does.
    async fn admit(&self) -> Result<(), PlatformError> {
        match self.limiter.acquire(MAX_ADMISSION_WAIT).await {
            Admission::Go(wait) => {
                let mut waited = wait;
                if !wait.is_zero() {
                    crate::limiter::sleep_measuring_lateness(wait).await;
                }
                loop {
                    let more = self.limiter.confirm().await;
                    if more.is_zero() {
                        return Ok(());
                    }
                    waited += more;
                    if waited > MAX_ADMISSION_WAIT {
                        return Err(self
                            .err(
                                ErrorClass::RateLimit,
                                format!(
                                    "waited {} s for the fleet's rate limit without a free slot",
                                    waited.as_secs()
                                ),
                            )
                            .with_retry_after(Some(more)));
                    }
                    crate::limiter::sleep_measuring_lateness(more).await;
                }
            }
            Admission::Refused(wait)
            | Admission::Parked(wait)
            | Admission::CircuitOpen(crate::breaker::Open { retry_in: wait, .. }) => Err(self
                .err(
                    ErrorClass::RateLimit,
                    format!(
                        "{} has no free request slot for {} s (rate limit or parked)",
                        self.source,
                        wait.as_secs()
                    ),
                )
                .with_retry_after(Some(wait))),
        }
    }

    fn err(&self, class: ErrorClass, detail: String) -> PlatformError {
        PlatformError::new(self.source.clone(), class, detail)
    }

    fn stalled(&self, url: &str, bytes: u64, limits: &DownloadLimits) -> PlatformError {
        self.err(
            ErrorClass::Network,
            format!(
                "the download of {} stalled: no byte for {} s after {bytes} bytes",
                redact(url),
                limits.stall_timeout.as_secs()
            ),
        )
        .with_headline(format!(
            "{} download stalled (no data for {} s after {bytes} bytes); the partial file was removed",
            self.source,
            limits.stall_timeout.as_secs()
        ))
    }

    fn too_big(&self, url: &str, bytes: u64, limits: &DownloadLimits) -> PlatformError {
        self.err(
            ErrorClass::BadRequest,
            format!(
                "the download of {} is larger than the limit of {} bytes ({bytes} bytes seen or announced)",
                redact(url),
                limits.max_bytes
            ),
        )
        .with_headline(format!(
            "{} file refused: larger than the download limit of {} bytes; the partial file was removed",
            self.source, limits.max_bytes
        ))
    }
}

/// `<dest>.part` beside `dest`; `None` when `dest` has no file name.
pub fn part_path(dest: &Path) -> Option<PathBuf> {
    let name = dest.file_name()?;
    let mut part = name.to_os_string();
    part.push(".part");
    Some(dest.with_file_name(part))
}

/// The file extension a download's `Content-Type` implies, from a fixed list (the header is
/// the server's word, so it picks from our names and never becomes part of a path itself).
pub fn extension_for_content_type(content_type: Option<&str>) -> Option<&'static str> {
    let mime = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    Some(match mime.as_str() {
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "wav",
        "audio/aiff" | "audio/x-aiff" => "aiff",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" | "audio/aac" => "m4a",
        "audio/ogg" | "audio/vorbis" => "ogg",
        "audio/opus" => "opus",
        _ => return None,
    })
}

/// A URL for messages: scheme, host and path only, so signed query strings and client ids
/// never reach a log line.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let query = if u.query().is_some() { "?…" } else { "" };
            format!(
                "{}://{}{}{query}",
                u.scheme(),
                u.host_str().unwrap_or_default(),
                u.path()
            )
        }
        Err(_) => url.chars().take(60).collect(),
    }
}

/// Removes the partial file when dropped, unless disarmed: a failed, timed-out or
/// cancelled download leaves nothing behind.
struct PartGuard {
    path: PathBuf,
    armed: bool,
}

impl PartGuard {
    fn new(path: PathBuf) -> Self {
        Self { path, armed: true }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for PartGuard {
    fn drop(&mut self) {
        if self.armed {
            match std::fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(
                    path = %self.path.display(),
                    error = %e,
                    "could not remove a partial download"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_files_sit_beside_the_destination() {
        assert_eq!(
            part_path(Path::new("/stage/abc.flac")),
            Some(PathBuf::from("/stage/abc.flac.part"))
        );
        assert_eq!(part_path(Path::new("/")), None);
    }

    #[test]
    fn content_types_map_to_known_extensions_only() {
        assert_eq!(extension_for_content_type(Some("audio/flac")), Some("flac"));
        assert_eq!(
            extension_for_content_type(Some("Audio/X-WAV; charset=binary")),
            Some("wav")
        );
        assert_eq!(extension_for_content_type(Some("audio/../../x")), None);
        assert_eq!(extension_for_content_type(Some("text/html")), None);
        assert_eq!(extension_for_content_type(None), None);
    }

    #[test]
    fn redacted_urls_keep_no_query() {
        assert_eq!(
            redact("https://api.example/tracks/1/download?client_id=SECRET"),
            "https://api.example/tracks/1/download?…"
        );
        assert!(!redact("https://x/y?sig=abc").contains("abc"));
    }
}
