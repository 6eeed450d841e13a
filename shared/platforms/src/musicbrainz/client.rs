//! MusicBrainz client and mapper.

use super::models::{IsrcLookup, Recording, RecordingSearch};
use crate::config::{HttpConfig, MusicBrainzConfig};
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, note_missing_key_fields};
use crate::mapping::{is_featuring, normalize_isrc, split_mix};
use crate::platform::{MetadataPlatform, PlatformFuture, PlatformInfo, RateLimit};
use cratedigger_domain::{ArtistCredit, ArtistRole, ErrorClass, PlatformTrack};
use std::time::Duration;

/// Platform id.
pub const ID: &str = "musicbrainz";

/// Hits asked for per search; the matcher downstream judges them.
const SEARCH_LIMIT: u32 = 25;

static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "MusicBrainz",
    supports_isrc: true,
    needs_credentials: false,
    default_rate_limit: RateLimit {
        requests: 1,
        per: Duration::from_secs(1),
    },
};

/// MusicBrainz ws/2 client.
#[derive(Debug, Clone)]
pub struct MusicBrainz {
    http: HttpClient,
    base: String,
}

impl MusicBrainz {
    /// Client from configuration, with the process's shared layer (limiter, breaker, caches).
    pub fn from_config(
        cfg: &MusicBrainzConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        let client = ctx.http_client(
            &INFO,
            http.client_options(&cfg.user_agent, cfg.timeout_secs),
        )?;
        Ok(Self::with_client(client, &cfg.base_url))
    }

    /// Client over a prepared HTTP client (tests inject a recording sleeper this way).
    pub fn with_client(http: HttpClient, base_url: &str) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// URL of a recording search for artist and title (Lucene, phrase-quoted).
    pub fn search_url(&self, artist: &str, title: &str) -> String {
        let query = format!(
            "artist:\"{}\" AND recording:\"{}\"",
            lucene_phrase(artist),
            lucene_phrase(title)
        );
        format!(
            "{}/ws/2/recording?query={}&fmt=json&limit={SEARCH_LIMIT}",
            self.base,
            urlencoding::encode(&query)
        )
    }

    /// URL of an ISRC lookup.
    pub fn isrc_url(&self, isrc: &str) -> String {
        format!(
            "{}/ws/2/isrc/{}?fmt=json&inc=artist-credits+releases+isrcs",
            self.base,
            urlencoding::encode(isrc)
        )
    }

    /// URL of a recording lookup.
    pub fn recording_url(&self, mbid: &str) -> String {
        format!(
            "{}/ws/2/recording/{}?fmt=json&inc=artist-credits+isrcs+releases+artist-rels",
            self.base,
            urlencoding::encode(mbid)
        )
    }

    /// Searches recordings by artist and title.
    pub async fn search_recordings(
        &self,
        artist: &str,
        title: &str,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let url = self.search_url(artist, title);
        let page: RecordingSearch = self.http.get_json_with_retry(&url).await?.body;
        Ok(noted(
            map_many(page.recordings.unwrap_or_default(), None),
            &url,
        ))
    }

    /// Recordings carrying `isrc`. MusicBrainz answers 404 for an ISRC it does not know;
    /// that is "nothing found" (empty), not an error.
    pub async fn recordings_by_isrc(
        &self,
        isrc: &str,
    ) -> Result<Vec<PlatformTrack>, PlatformError> {
        let wanted = normalize_isrc(isrc).ok_or_else(|| {
            PlatformError::new(
                ID,
                ErrorClass::BadRequest,
                format!("'{isrc}' is not a valid ISRC"),
            )
        })?;
        let url = self.isrc_url(&wanted);
        match self.http.get_json_with_retry::<IsrcLookup>(&url).await {
            Ok(f) => Ok(noted(
                map_many(f.body.recordings.unwrap_or_default(), Some(&wanted)),
                &url,
            )),
            Err(e) if e.class == ErrorClass::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// One recording by MBID; `None` when MusicBrainz does not know it (404).
    pub async fn recording(&self, mbid: &str) -> Result<Option<PlatformTrack>, PlatformError> {
        let url = self.recording_url(mbid);
        match self
            .http
            .get_json_with_retry::<serde_json::Value>(&url)
            .await
        {
            Ok(f) => map_recording(f.body, None).map(|t| {
                note_missing_key_fields(&t, &url);
                Some(t)
            }),
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl MetadataPlatform for MusicBrainz {
    fn info(&self) -> &PlatformInfo {
        &INFO
    }

    fn lookup_isrc<'a>(&'a self, isrc: &'a str) -> PlatformFuture<'a, Vec<PlatformTrack>> {
        Box::pin(self.recordings_by_isrc(isrc))
    }

    fn search<'a>(
        &'a self,
        artist: &'a str,
        title: &'a str,
    ) -> PlatformFuture<'a, Vec<PlatformTrack>> {
        Box::pin(self.search_recordings(artist, title))
    }

    fn lookup_id<'a>(&'a self, id: &'a str) -> PlatformFuture<'a, Option<PlatformTrack>> {
        Box::pin(self.recording(id))
    }
}

/// Escapes `"` and `\` inside a Lucene phrase.
fn lucene_phrase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Counts key fields (title, artists, duration) missing from mapped recordings (API drift).
fn noted(tracks: Vec<PlatformTrack>, url: &str) -> Vec<PlatformTrack> {
    for t in &tracks {
        note_missing_key_fields(t, url);
    }
    tracks
}

/// Maps every recording of a page, skipping (and logging) ones that do not map.
fn map_many(raw: Vec<serde_json::Value>, isrc: Option<&str>) -> Vec<PlatformTrack> {
    raw.into_iter()
        .filter_map(|v| match map_recording(v, isrc) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a MusicBrainz recording that does not map");
                None
            }
        })
        .collect()
}

/// Maps one recording JSON object to a [`PlatformTrack`], keeping the object as `raw`.
/// A trailing bracketed part of the title becomes the mix; credits after a "feat." join
/// phrase are featured; remixer relationships become remixers; `preferred_isrc` (the one
/// looked up) wins over the recording's first ISRC when the recording carries it.
pub fn map_recording(
    raw: serde_json::Value,
    preferred_isrc: Option<&str>,
) -> Result<PlatformTrack, PlatformError> {
    let rec: Recording = serde::Deserialize::deserialize(&raw).map_err(|e| {
        PlatformError::new(
            ID,
            ErrorClass::Malformed,
            format!("recording object does not have the expected shape: {e}"),
        )
    })?;
    let (title, mix) = split_mix(rec.title.as_deref().unwrap_or_default());

    let mut artists = Vec::new();
    let mut featured = false;
    for credit in rec.artist_credit.unwrap_or_default() {
        let name = credit
            .name
            .or_else(|| credit.artist.and_then(|a| a.name))
            .unwrap_or_default();
        if !name.is_empty() {
            artists.push(ArtistCredit {
                name,
                role: if featured {
                    ArtistRole::Featured
                } else {
                    ArtistRole::Main
                },
            });
        }
        if credit.joinphrase.as_deref().is_some_and(is_featuring) {
            featured = true;
        }
    }
    for rel in rec.relations.unwrap_or_default() {
        if rel.kind.as_deref() == Some("remixer")
            && let Some(name) = rel.artist.and_then(|a| a.name)
            && !artists
                .iter()
                .any(|a| a.name == name && a.role == ArtistRole::Remixer)
        {
            artists.push(ArtistCredit {
                name,
                role: ArtistRole::Remixer,
            });
        }
    }

    let isrcs: Vec<String> = rec
        .isrcs
        .unwrap_or_default()
        .iter()
        .filter_map(|i| normalize_isrc(i))
        .collect();
    let isrc = match preferred_isrc {
        Some(p) if isrcs.iter().any(|i| i == p) => Some(p.to_string()),
        _ => isrcs.into_iter().next(),
    };

    let releases = rec.releases.unwrap_or_default();
    let first = releases.first();
    let label_info = first
        .and_then(|r| r.label_info.as_ref())
        .and_then(|l| l.first());

    Ok(PlatformTrack {
        platform: ID.into(),
        url: Some(format!("https://musicbrainz.org/recording/{}", rec.id)),
        platform_id: rec.id,
        title,
        mix,
        artists,
        label: label_info
            .and_then(|l| l.label.as_ref())
            .and_then(|l| l.name.clone()),
        catalog_number: label_info.and_then(|l| l.catalog_number.clone()),
        isrc,
        release_title: first.and_then(|r| r.title.clone()),
        release_date: rec
            .first_release_date
            .filter(|d| !d.is_empty())
            .or_else(|| first.and_then(|r| r.date.clone())),
        duration_ms: rec.length.and_then(|l| u32::try_from(l).ok()),
        raw: Some(raw),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb() -> MusicBrainz {
        MusicBrainz::from_config(
            &MusicBrainzConfig {
                base_url: "http://127.0.0.1:9/".into(),
                ..Default::default()
            },
            &HttpConfig::default(),
            &PlatformContext::default(),
        )
        .unwrap()
    }

    #[test]
    fn urls_follow_the_ws2_docs() {
        let mb = mb();
        assert_eq!(
            mb.search_url("Bicep", "Glue \"x\""),
            "http://127.0.0.1:9/ws/2/recording?query=artist%3A%22Bicep%22%20AND%20recording%3A%22Glue%20%5C%22x%5C%22%22&fmt=json&limit=25"
        );
        assert_eq!(
            mb.isrc_url("GBAYE1000004"),
            "http://127.0.0.1:9/ws/2/isrc/GBAYE1000004?fmt=json&inc=artist-credits+releases+isrcs"
        );
    }

    #[tokio::test]
    async fn invalid_isrc_is_a_bad_request_without_a_call() {
        let err = mb().recordings_by_isrc("nope").await.unwrap_err();
        assert_eq!(err.class, ErrorClass::BadRequest);
    }

    #[test]
    fn non_object_recording_is_malformed() {
        let err = map_recording(serde_json::json!([1, 2]), None).unwrap_err();
        assert_eq!(err.class, ErrorClass::Malformed);
        let ok = map_recording(serde_json::json!({"id": "x", "video": null}), None).unwrap();
        assert_eq!(ok.platform_id, "x");
        assert!(ok.artists.is_empty() && ok.title.is_empty());
    }
}
