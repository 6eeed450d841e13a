//! `cratedigger inspect <platform> <kind> FILE`: maps a saved platform answer with the
//! same mappers the scouts and sync sources use, so a user can attach the file to a bug
//! report and anyone can see what cratedigger makes of it. A payload that cannot be mapped
//! is an error naming the field (`tracks.items[3].duration_ms`), never empty data.

use crate::http::PlatformError;
use crate::spotify::PlaylistEntryOutcome;
use crate::{beatport, deezer, discogs, musicbrainz, spotify};
use cratedigger_domain::PlatformTrack;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Largest file inspected (32 MB): saved answers are far smaller; anything bigger is not one.
pub const MAX_INSPECT_BYTES: usize = 32 * 1024 * 1024;

/// Kinds per platform: what each saved answer is (the request it answered).
pub const KINDS: &[(&str, &[(&str, &str)])] = &[
    (
        "musicbrainz",
        &[
            ("recording", "GET /ws/2/recording/{mbid}?fmt=json"),
            ("recording-search", "GET /ws/2/recording?query=…&fmt=json"),
            (
                "release",
                "GET /ws/2/release/{mbid}?inc=recordings…&fmt=json",
            ),
        ],
    ),
    (
        "deezer",
        &[
            ("track", "GET /track/{id} or /track/isrc:{isrc}"),
            ("search", "GET /search/track?q=… or /search?q=…"),
            ("playlist", "GET /playlist/{id} or /playlist/{id}/tracks"),
            ("album", "GET /album/{id}"),
        ],
    ),
    (
        "spotify",
        &[
            ("track", "GET /v1/tracks/{id}"),
            ("search", "GET /v1/search?type=track&q=…"),
            (
                "playlist",
                "GET /v1/playlists/{id}/items (or the legacy /tracks)",
            ),
            ("album-tracks", "GET /v1/albums/{id}/tracks"),
        ],
    ),
    (
        "discogs",
        &[
            ("release", "GET /releases/{id}"),
            ("master", "GET /masters/{id}"),
        ],
    ),
    (
        "beatport",
        &[
            ("track", "GET /v4/catalog/tracks/{id}/"),
            ("search", "GET /v4/catalog/search/?type=tracks&q=…"),
            ("chart", "GET /v4/catalog/charts/{id}/tracks/"),
            (
                "v3",
                "a retired API v3 answer (/catalog/3/tracks or /catalog/3/search)",
            ),
        ],
    ),
];

/// What a saved answer maps to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspected {
    /// Platform id.
    pub platform: String,
    /// Kind of answer.
    pub kind: String,
    /// Records mapped.
    pub count: usize,
    /// The mapped records, in the answer's order.
    pub records: Vec<PlatformTrack>,
    /// Entries that are not tracks (local files, episodes, removed tracks), with reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<InspectSkip>,
}

impl Inspected {
    /// The same without each record's raw payload (the CLI's default: short output).
    pub fn without_raw(mut self) -> Self {
        for r in &mut self.records {
            r.raw = None;
        }
        self
    }
}

/// An entry of the answer that is not a track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectSkip {
    /// Position in the answer's list (from 1).
    pub position: usize,
    /// What the entry showed.
    pub input: String,
    /// Why it is not a record.
    pub reason: String,
}

/// Why a file could not be inspected; each message says what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InspectError {
    /// No such platform.
    #[error("unknown platform '{platform}'; known: {known}")]
    UnknownPlatform {
        /// As given.
        platform: String,
        /// The known ones.
        known: String,
    },
    /// The platform has no such kind.
    #[error("{platform} has no kind '{kind}'; its kinds: {known}")]
    UnknownKind {
        /// Platform id.
        platform: String,
        /// As given.
        kind: String,
        /// Its kinds with the request each answers.
        known: String,
    },
    /// The file is bigger than any saved answer.
    #[error("the file is {size} bytes, more than the {MAX_INSPECT_BYTES} a saved answer can be")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// The file is not JSON.
    #[error("the file is not JSON: {detail}")]
    NotJson {
        /// serde_json's sentence, with line and column.
        detail: String,
    },
    /// The file is the platform's error answer, not data.
    #[error("the file is a {platform} error answer, not a {kind}: {detail}")]
    ErrorAnswer {
        /// Platform id.
        platform: String,
        /// Kind asked for.
        kind: String,
        /// The error it holds.
        detail: String,
    },
    /// A field the mapper relies on is missing or of the wrong type.
    #[error("cannot map this {platform} {kind}: field `{field}`: {detail}")]
    Field {
        /// Platform id.
        platform: String,
        /// Kind asked for.
        kind: String,
        /// Path of the field (`tracks.items[3].duration_ms`, `.` for the whole document).
        field: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// The kinds of `platform`, or the error listing the platforms.
pub fn kinds_of(platform: &str) -> Result<&'static [(&'static str, &'static str)], InspectError> {
    KINDS
        .iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, k)| *k)
        .ok_or_else(|| InspectError::UnknownPlatform {
            platform: platform.to_string(),
            known: KINDS.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", "),
        })
}

/// Maps the saved answer `bytes` of `platform` and `kind`.
pub fn inspect(platform: &str, kind: &str, bytes: &[u8]) -> Result<Inspected, InspectError> {
    let kinds = kinds_of(platform)?;
    if !kinds.iter().any(|(k, _)| *k == kind) {
        return Err(InspectError::UnknownKind {
            platform: platform.to_string(),
            kind: kind.to_string(),
            known: kinds
                .iter()
                .map(|(k, what)| format!("{k} ({what})"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if bytes.len() > MAX_INSPECT_BYTES {
        return Err(InspectError::TooLarge { size: bytes.len() });
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| InspectError::NotJson {
        detail: e.to_string(),
    })?;
    let m = Mapper { platform, kind };
    m.refuse_error_answer(bytes, &doc)?;
    let (records, skipped) = match (platform, kind) {
        ("musicbrainz", "recording") => (vec![m.mb_recording(doc, ".")?], vec![]),
        ("musicbrainz", "recording-search") => {
            let mut out = Vec::new();
            for (i, v) in m.list(&doc, "recordings")?.iter().enumerate() {
                out.push(m.mb_recording(v.clone(), &format!("recordings[{i}]"))?);
            }
            (out, vec![])
        }
        ("musicbrainz", "release") => (m.mb_release(&doc)?, vec![]),
        ("deezer", "track") => (vec![m.deezer_track(doc, ".")?], vec![]),
        ("deezer", "search") => (m.deezer_list(&doc, "data")?, vec![]),
        ("deezer", "playlist") => {
            let at = if doc.get("data").is_some() {
                "data"
            } else {
                "tracks.data"
            };
            (m.deezer_list(&doc, at)?, vec![])
        }
        ("deezer", "album") => (m.deezer_album(&doc)?, vec![]),
        ("spotify", "track") => (vec![m.platform(spotify::map_track(doc), ".")?], vec![]),
        ("spotify", "search") => (m.spotify_list(&doc, "tracks.items")?, vec![]),
        ("spotify", "album-tracks") => (m.spotify_list(&doc, "items")?, vec![]),
        ("spotify", "playlist") => m.spotify_playlist(doc)?,
        ("discogs", "release" | "master") => {
            m.shape::<discogs::models::Release>(&doc, ".")?;
            (m.platform(discogs::map_release(doc), ".")?, vec![])
        }
        ("beatport", "track") => (vec![m.beatport_track(doc, ".")?], vec![]),
        ("beatport", "search") => {
            let at = if doc.get("tracks").is_some() {
                "tracks"
            } else {
                "results"
            };
            (m.beatport_list(&doc, at)?, vec![])
        }
        ("beatport", "chart") => (m.beatport_list(&doc, "results")?, vec![]),
        ("beatport", "v3") => {
            m.list(&doc, "results")?;
            (m.platform(beatport::map_v3_page(doc), ".")?, vec![])
        }
        _ => unreachable!("every listed kind has a mapper"),
    };
    Ok(Inspected {
        platform: platform.to_string(),
        kind: kind.to_string(),
        count: records.len(),
        records,
        skipped,
    })
}

struct Mapper<'a> {
    platform: &'a str,
    kind: &'a str,
}

impl Mapper<'_> {
    fn field(&self, field: &str, detail: impl Into<String>) -> InspectError {
        InspectError::Field {
            platform: self.platform.to_string(),
            kind: self.kind.to_string(),
            field: field.to_string(),
            detail: detail.into(),
        }
    }

    /// Deserialises `v` into the platform's model with path tracking, so a wrong type
    /// names its field (`at` is where `v` sits in the document).
    fn shape<T: DeserializeOwned>(&self, v: &Value, at: &str) -> Result<T, InspectError> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let inner = e.path().to_string();
            let detail = e.into_inner().to_string();
            // serde names a missing field in the message, not the path
            let missing = detail
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
                .map(str::to_string);
            let mut path = join(at, &inner);
            if let Some(m) = missing {
                path = join(&path, &m);
            }
            self.field(&path, detail)
        })
    }

    /// The array at `path` (dots between keys), or the error naming it.
    fn list<'v>(&self, doc: &'v Value, path: &str) -> Result<&'v Vec<Value>, InspectError> {
        let mut v = doc;
        for key in path.split('.') {
            v = v.get(key).ok_or_else(|| {
                self.field(
                    path,
                    format!(
                        "missing: this is not a {} {} answer",
                        self.platform, self.kind
                    ),
                )
            })?;
        }
        v.as_array()
            .ok_or_else(|| self.field(path, format!("expected a list, found {}", type_name(v))))
    }

    /// A mapper's error becomes a field error at `at`, or at the field the mapper's
    /// sentence names ("field `type` …", "has no `id`").
    fn platform<T>(&self, r: Result<T, PlatformError>, at: &str) -> Result<T, InspectError> {
        r.map_err(|e| {
            let named = ["field `", "no `"].iter().find_map(|marker| {
                let rest = &e.detail[e.detail.find(marker)? + marker.len()..];
                rest.split('`').next().filter(|f| !f.is_empty())
            });
            let field = named.map_or_else(|| at.to_string(), |f| join(at, f));
            self.field(&field, e.detail)
        })
    }

    /// Deezer and Spotify send errors as documents; say so instead of "missing field".
    fn refuse_error_answer(&self, bytes: &[u8], doc: &Value) -> Result<(), InspectError> {
        let detail = match self.platform {
            "deezer" => deezer::error_in_body(bytes).map(|(_, d, _)| d),
            "spotify" => doc
                .get("error")
                .filter(|e| e.is_object())
                .map(|e| e.to_string()),
            "musicbrainz" | "beatport" | "discogs" => doc
                .get("error")
                .or_else(|| doc.get("detail"))
                .or_else(|| doc.get("message"))
                .filter(|_| doc.as_object().is_some_and(|o| o.len() <= 2))
                .map(|e| e.to_string()),
            _ => None,
        };
        match detail {
            Some(detail) => Err(InspectError::ErrorAnswer {
                platform: self.platform.to_string(),
                kind: self.kind.to_string(),
                detail,
            }),
            None => Ok(()),
        }
    }

    fn mb_recording(&self, v: Value, at: &str) -> Result<PlatformTrack, InspectError> {
        self.shape::<musicbrainz::models::Recording>(&v, at)?;
        self.platform(musicbrainz::map_recording(v, None), at)
    }

    /// Each medium's tracks' recordings, with the release's title, date, label and
    /// catalog number (a release lookup's recordings do not list their releases).
    fn mb_release(&self, doc: &Value) -> Result<Vec<PlatformTrack>, InspectError> {
        let release = self.shape::<musicbrainz::models::Release>(doc, ".")?;
        let label = release.label_info.as_ref().and_then(|l| l.first());
        let mut out = Vec::new();
        for (i, medium) in self.list(doc, "media")?.iter().enumerate() {
            let tracks = medium
                .get("tracks")
                .and_then(|t| t.as_array())
                .ok_or_else(|| self.field(&format!("media[{i}].tracks"), "missing"))?;
            for (j, track) in tracks.iter().enumerate() {
                let at = format!("media[{i}].tracks[{j}].recording");
                let rec = track
                    .get("recording")
                    .cloned()
                    .ok_or_else(|| self.field(&at, "missing (ask with inc=recordings)"))?;
                let mut t = self.mb_recording(rec, &at)?;
                t.release_title = release.title.clone().or(t.release_title);
                t.release_date = t.release_date.or_else(|| release.date.clone());
                if t.label.is_none() {
                    t.label = label
                        .and_then(|l| l.label.as_ref())
                        .and_then(|l| l.name.clone());
                }
                if t.catalog_number.is_none() {
                    t.catalog_number = label.and_then(|l| l.catalog_number.clone());
                }
                out.push(t);
            }
        }
        Ok(out)
    }

    fn deezer_track(&self, v: Value, at: &str) -> Result<PlatformTrack, InspectError> {
        self.shape::<deezer::models::Track>(&v, at)?;
        self.platform(deezer::map_track(v), at)
    }

    fn deezer_list(&self, doc: &Value, at: &str) -> Result<Vec<PlatformTrack>, InspectError> {
        self.list(doc, at)?
            .iter()
            .enumerate()
            .map(|(i, v)| self.deezer_track(v.clone(), &format!("{at}[{i}]")))
            .collect()
    }

    /// The album's tracks, with the album's title, date, label, genre and cover (album
    /// track lists do not repeat them).
    fn deezer_album(&self, doc: &Value) -> Result<Vec<PlatformTrack>, InspectError> {
        let s = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let genre = doc
            .pointer("/genres/data/0/name")
            .and_then(|g| g.as_str())
            .map(str::to_string);
        let mut out = self.deezer_list(doc, "tracks.data")?;
        for t in &mut out {
            t.release_title = t.release_title.take().or_else(|| s("title"));
            t.release_date = t.release_date.take().or_else(|| s("release_date"));
            t.label = t.label.take().or_else(|| s("label"));
            t.genre = t.genre.take().or_else(|| genre.clone());
            t.artwork_url = t
                .artwork_url
                .take()
                .or_else(|| s("cover_xl"))
                .or_else(|| s("cover_big"));
        }
        Ok(out)
    }

    fn spotify_list(&self, doc: &Value, at: &str) -> Result<Vec<PlatformTrack>, InspectError> {
        self.list(doc, at)?
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_null())
            .map(|(i, v)| {
                let at = format!("{at}[{i}]");
                self.shape::<spotify::models::Track>(v, &at)?;
                self.platform(spotify::map_track(v.clone()), &at)
            })
            .collect()
    }

    fn spotify_playlist(
        &self,
        doc: Value,
    ) -> Result<(Vec<PlatformTrack>, Vec<InspectSkip>), InspectError> {
        self.list(&doc, "items")?;
        let page = self.platform(spotify::map_playlist_page(doc), ".")?;
        let mut records = Vec::new();
        let mut skipped = Vec::new();
        for (i, e) in page.entries.into_iter().enumerate() {
            match e {
                PlaylistEntryOutcome::Track(t) => records.push(*t),
                PlaylistEntryOutcome::Skipped { label, reason } => skipped.push(InspectSkip {
                    position: i + 1,
                    input: label,
                    reason,
                }),
            }
        }
        Ok((records, skipped))
    }

    fn beatport_track(&self, v: Value, at: &str) -> Result<PlatformTrack, InspectError> {
        self.shape::<beatport::models::Track>(&v, at)?;
        self.platform(beatport::map_track(v), at)
    }

    fn beatport_list(&self, doc: &Value, at: &str) -> Result<Vec<PlatformTrack>, InspectError> {
        self.list(doc, at)?
            .iter()
            .enumerate()
            .map(|(i, v)| self.beatport_track(v.clone(), &format!("{at}[{i}]")))
            .collect()
    }
}

/// `a` then `b` as one path ("." is the document itself).
fn join(a: &str, b: &str) -> String {
    match (a, b) {
        (".", b) | ("", b) => b.to_string(),
        (a, ".") | (a, "") => a.to_string(),
        (a, b) if b.starts_with('[') => format!("{a}{b}"),
        (a, b) => format!("{a}.{b}"),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(platform: &str, kind: &str, doc: Value) -> InspectError {
        inspect(platform, kind, doc.to_string().as_bytes()).unwrap_err()
    }

    #[test]
    fn unknown_platforms_and_kinds_list_the_known_ones() {
        let e = inspect("tidal", "track", b"{}").unwrap_err().to_string();
        assert!(
            e.contains("musicbrainz, deezer, spotify, discogs, beatport"),
            "{e}"
        );
        let e = inspect("spotify", "album", b"{}").unwrap_err().to_string();
        assert!(
            e.contains("album-tracks (GET /v1/albums/{id}/tracks)"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_and_missing_fields_name_the_field() {
        let e = err(
            "deezer",
            "search",
            json!({"data": [{"id": 1, "title": "ok"}, {"id": 2, "duration": "long"}]}),
        );
        assert!(
            matches!(&e, InspectError::Field { field, .. } if field == "data[1].duration"),
            "{e}"
        );
        let e = err("deezer", "track", json!({"title": "no id"}));
        assert!(
            matches!(&e, InspectError::Field { field, .. } if field == "id"),
            "{e}"
        );
        let e = err("spotify", "search", json!({"albums": {"items": []}}));
        assert!(e.to_string().contains("field `tracks.items`"), "{e}");
        let e = err("musicbrainz", "recording-search", json!({"recordings": {}}));
        assert!(
            e.to_string().contains("expected a list, found an object"),
            "{e}"
        );
        let e = err(
            "spotify",
            "search",
            json!({"tracks": {"items": [{"id": "a", "artists": [{"name": 5}]}]}}),
        );
        assert!(
            matches!(&e, InspectError::Field { field, .. } if field == "tracks.items[0].artists[0].name"),
            "{e}"
        );
    }

    #[test]
    fn error_answers_and_non_json_are_said_so() {
        let e = err(
            "deezer",
            "track",
            json!({"error": {"type": "DataException", "message": "no data", "code": 800}}),
        );
        assert!(matches!(e, InspectError::ErrorAnswer { .. }), "{e}");
        let e = err(
            "spotify",
            "track",
            json!({"error": {"status": 404, "message": "Resource not found"}}),
        );
        assert!(e.to_string().contains("Resource not found"), "{e}");
        let e = inspect("spotify", "track", b"<html>").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
    }
}
