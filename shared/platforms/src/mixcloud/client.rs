//! The Mixcloud reader: one cloudcast lookup, its `sections` as playlist entries.

use super::MixcloudConfig;
use crate::config::HttpConfig;
use crate::context::PlatformContext;
use crate::http::{HttpClient, PlatformError, RequestOptions};
use crate::mapping::split_mix;
use crate::platform::{PlatformInfo, RateLimit};
use crate::sources::MAX_SOURCE_TRACKS;
use crate::spotify::PlaylistEntryOutcome;
use crate::stores::{MAX_TEXT_CHARS, clean_text};
use cratedigger_domain::{ArtistCredit, ArtistRole, ErrorClass, PlatformTrack};
use std::time::Duration;

/// Platform id.
pub const ID: &str = "mixcloud";

/// Mixcloud's API docs allow bursts but ask clients to back off on 403/429; 30 a minute is
/// far below what a sync needs (one request per show).
static INFO: PlatformInfo = PlatformInfo {
    id: ID,
    display_name: "Mixcloud",
    supports_isrc: false,
    needs_credentials: false,
    default_rate_limit: RateLimit {
        requests: 30,
        per: Duration::from_secs(60),
    },
};

/// The Mixcloud reader. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Mixcloud {
    http: HttpClient,
    base: String,
}

impl Mixcloud {
    /// The reader from configuration, over the process's shared layer.
    pub fn from_config(
        cfg: &MixcloudConfig,
        http: &HttpConfig,
        ctx: &PlatformContext,
    ) -> Result<Self, PlatformError> {
        Ok(Self {
            http: ctx.http_client(
                &INFO,
                http.client_options(&http.user_agent, cfg.timeout_secs),
            )?,
            base: cfg.base_url.trim_end_matches('/').to_string(),
        })
    }

    /// The tracklist of the show `<user>/<slug>` (both validated by the caller), live (never
    /// from the caches). A show without `sections` is a `NotFound` error whose detail says
    /// the tracklist is not published.
    pub async fn show_tracklist(
        &self,
        user: &str,
        slug: &str,
    ) -> Result<Vec<PlaylistEntryOutcome>, PlatformError> {
        let url = format!(
            "{}/{}/{}/",
            self.base,
            urlencoding::encode(user),
            urlencoding::encode(slug)
        );
        let v: serde_json::Value = self
            .http
            .get_json_with(&url, &RequestOptions::new().uncached())
            .await?
            .body;
        tracklist_entries(&v).ok_or_else(|| {
            PlatformError::new(
                ID,
                ErrorClass::NotFound,
                "Mixcloud's answer for this show has no tracklist (no `sections`): the uploader did not publish one, or Mixcloud does not show it through its API",
            )
        })
    }
}

/// The entries of a cloudcast object's `sections`, in `position` order (at most
/// [`MAX_SOURCE_TRACKS`]); `None` when the object has no `sections` list at all. A section
/// that is not a track (a chapter) or lacks an artist or title is a skip with its reason.
pub fn tracklist_entries(cloudcast: &serde_json::Value) -> Option<Vec<PlaylistEntryOutcome>> {
    let sections = cloudcast.get("sections")?.as_array()?;
    let mut indexed: Vec<(i64, usize, &serde_json::Value)> = sections
        .iter()
        .take(MAX_SOURCE_TRACKS)
        .enumerate()
        .map(|(i, s)| {
            let pos = s
                .get("position")
                .and_then(|p| p.as_i64())
                .unwrap_or(i as i64);
            (pos, i, s)
        })
        .collect();
    indexed.sort_by_key(|(pos, i, _)| (*pos, *i));
    Some(
        indexed
            .into_iter()
            .map(|(_, _, s)| section_entry(s))
            .collect(),
    )
}

fn section_entry(s: &serde_json::Value) -> PlaylistEntryOutcome {
    let text = |p: &str| {
        s.pointer(p)
            .and_then(|v| v.as_str())
            .map(|t| clean_text(t, MAX_TEXT_CHARS))
            .filter(|t| !t.is_empty())
    };
    let artist = text("/track/artist/name");
    let name = text("/track/name");
    let label = match (&artist, &name) {
        (Some(a), Some(n)) => format!("{a} - {n}"),
        (None, Some(n)) => n.clone(),
        (Some(a), None) => a.clone(),
        (None, None) => text("/chapter").unwrap_or_else(|| "(untitled section)".into()),
    };
    let kind = s.get("section_type").and_then(|k| k.as_str());
    if kind.is_some_and(|k| k != "track") {
        return PlaylistEntryOutcome::Skipped {
            label,
            reason: format!(
                "a {} section of the show, not a track",
                clean_text(kind.unwrap_or_default(), 20)
            ),
        };
    }
    let (Some(artist), Some(name)) = (artist, name) else {
        return PlaylistEntryOutcome::Skipped {
            label,
            reason: "Mixcloud gives this section no artist or no title".into(),
        };
    };
    let (title, mix) = split_mix(&name);
    let key = s
        .pointer("/track/key")
        .and_then(|k| k.as_str())
        .map(|k| clean_text(k, 200))
        .unwrap_or_default();
    let url = s
        .pointer("/track/url")
        .and_then(|u| u.as_str())
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(|u| clean_text(u, 500));
    PlaylistEntryOutcome::Track(Box::new(PlatformTrack {
        platform: ID.into(),
        platform_id: key,
        title,
        mix,
        artists: vec![ArtistCredit {
            name: artist,
            role: ArtistRole::Main,
        }],
        url,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloudcast_without_sections_is_not_an_empty_tracklist() {
        assert!(tracklist_entries(&serde_json::json!({"name": "show"})).is_none());
        assert_eq!(
            tracklist_entries(&serde_json::json!({"sections": []})).map(|v| v.len()),
            Some(0)
        );
    }

    #[test]
    fn sections_follow_their_positions_and_chapters_are_skipped() {
        // GAP: the kit's one cloudcast has track sections only; the chapter section's shape
        // (`section_type: chapter`, `chapter`) is from Mixcloud's API docs.
        let v = serde_json::json!({"sections": [
            {"position": 1, "section_type": "track",
             "track": {"name": "Glue (Extended Mix)", "artist": {"name": "Bicep"}, "key": "/track/bicep/glue/"}},
            {"position": 0, "section_type": "chapter", "chapter": "Intro"},
        ]});
        let e = tracklist_entries(&v).unwrap();
        assert!(matches!(&e[0], PlaylistEntryOutcome::Skipped { label, .. } if label == "Intro"));
        let PlaylistEntryOutcome::Track(t) = &e[1] else {
            panic!("{e:?}")
        };
        assert_eq!(
            (t.title.as_str(), t.mix.as_deref()),
            ("Glue", Some("Extended Mix"))
        );
    }
}
