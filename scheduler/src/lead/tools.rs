//! The lead agent's tools: OUR operations, described to the model by JSON schemas and
//! validated against them before anything happens (unknown tools and fields refused,
//! strings bounded, enums checked). No tool approves, downloads, writes the library, takes
//! SQL or a file path: the model can only create ordinary syncs and read.

use cratedigger_domain::{Lane, WantedTrack};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// Longest artist, title or mix accepted from the model.
pub const MAX_FIELD_CHARS: usize = 300;
/// Longest address accepted.
pub const MAX_URL_CHARS: usize = 2000;
/// Most tracks one `search_tracks` call may ask for.
pub const MAX_TRACKS: usize = 200;
/// Largest raw arguments document accepted (bytes), before it is parsed.
pub const MAX_ARGS_BYTES: usize = 64 * 1024;

/// Names of every tool, in the order the model sees them.
pub const TOOL_NAMES: [&str; 9] = [
    "search_tracks",
    "read_tracklist",
    "check_library",
    "explain_item",
    "list_candidates",
    "lookup_isrc",
    "find_sources",
    "label_catalog",
    "artist_catalog",
];

/// One track the model wants looked up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackArg {
    /// Artist as written.
    pub artist: String,
    /// Title as written.
    pub title: String,
    /// Mix/version ("Extended Mix"), when the user asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchTracksArgs {
    tracks: Vec<TrackArg>,
    #[serde(default)]
    lane: Option<Lane>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlArgs {
    url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckLibraryArgs {
    artist: String,
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemArgs {
    item_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IsrcArgs {
    isrc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelArgs {
    label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtistArgs {
    artist: String,
}

/// A tool call whose arguments passed validation: only these can be executed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tool", rename_all = "snake_case")]
pub enum Tool {
    /// Create one ordinary sync with these tracks (the fleet's scouts research them
    /// concurrently).
    SearchTracks {
        /// Tracks to look up.
        tracks: Vec<TrackArg>,
        /// Priority lane (interactive by default: a person is waiting).
        lane: Lane,
    },
    /// Read a playlist/chart address and create a sync of its tracks.
    ReadTracklist {
        /// The address.
        url: String,
    },
    /// Is this track already in the library? (read-only)
    CheckLibrary {
        /// Artist.
        artist: String,
        /// Title.
        title: String,
    },
    /// State, reason, plan and match of an item (read-only).
    ExplainItem {
        /// The item.
        item_id: Uuid,
    },
    /// Ranked acquisition candidates of an item (read-only).
    ListCandidates {
        /// The item.
        item_id: Uuid,
    },
    /// What the metadata platforms that look up by ISRC say about one (read-only).
    LookupIsrc {
        /// Canonical ISRC: 12 upper-case characters, no hyphens.
        isrc: String,
    },
    /// Where a copy of an item's track can be had: every candidate discovery found
    /// (downloads, buy and listen links) and the platforms' pages of the track (read-only).
    FindSources {
        /// The item.
        item_id: Uuid,
    },
    /// The releases and tracks the fleet knows for a label, and which the person lacks
    /// (read-only memory).
    LabelCatalog {
        /// The label's name.
        label: String,
    },
    /// The same for an artist (read-only memory).
    ArtistCatalog {
        /// The artist's name.
        artist: String,
    },
}

impl Tool {
    /// The tool's name.
    pub fn name(&self) -> &'static str {
        match self {
            Tool::SearchTracks { .. } => "search_tracks",
            Tool::ReadTracklist { .. } => "read_tracklist",
            Tool::CheckLibrary { .. } => "check_library",
            Tool::ExplainItem { .. } => "explain_item",
            Tool::ListCandidates { .. } => "list_candidates",
            Tool::LookupIsrc { .. } => "lookup_isrc",
            Tool::FindSources { .. } => "find_sources",
            Tool::LabelCatalog { .. } => "label_catalog",
            Tool::ArtistCatalog { .. } => "artist_catalog",
        }
    }

    /// Whether the tool creates a sync (the only effect any tool has).
    pub fn creates_sync(&self) -> bool {
        matches!(self, Tool::SearchTracks { .. } | Tool::ReadTracklist { .. })
    }

    /// The wanted track of a [`TrackArg`].
    pub fn wanted(t: &TrackArg) -> WantedTrack {
        WantedTrack {
            artist: t.artist.clone(),
            title: t.title.clone(),
            mix: t.mix.clone(),
            ..Default::default()
        }
    }
}

/// What the agent receives when a tool fails or is refused: enough to choose an
/// alternative. The person gets [`ErrorRecord::message`], one readable sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// `invalid_arguments`, `unknown_tool`, `budget_exhausted`, `unsupported_url`,
    /// `not_found`, `refused`, `platform_not_configured`, `platform_failed`, `unavailable`.
    pub class: String,
    /// The tool that failed.
    pub tool: String,
    /// The platform involved, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The offending argument, when validation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How many times this request has tried this tool.
    pub attempt: u32,
    /// Other ways to get the same result.
    pub alternatives: Vec<String>,
    /// What the agent should do now.
    pub next_action: String,
    /// One sentence for the person.
    pub message: String,
}

impl ErrorRecord {
    /// A refusal of the arguments (nothing was done); boxed, as every refusal travels in a
    /// `Result`.
    pub fn invalid(tool: &str, field: Option<String>, message: String) -> Box<Self> {
        Box::new(Self {
            class: "invalid_arguments".into(),
            tool: tool.into(),
            platform: None,
            field,
            attempt: 1,
            alternatives: Vec::new(),
            next_action: "fix the arguments to match the tool's schema and call it again".into(),
            message,
        })
    }
}

fn schema_track() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["artist", "title"],
        "properties": {
            "artist": { "type": "string", "minLength": 1, "maxLength": MAX_FIELD_CHARS },
            "title": { "type": "string", "minLength": 1, "maxLength": MAX_FIELD_CHARS },
            "mix": { "type": "string", "maxLength": MAX_FIELD_CHARS, "description": "Version, e.g. 'Extended Mix'." } } })
}

/// `(name, description, JSON schema of the arguments)` of every tool.
pub fn schemas() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "search_tracks",
            "Look up tracks on every metadata platform: creates ONE sync whose items the fleet's scouts research in parallel. Use for tracks the user named.",
            json!({ "type": "object", "additionalProperties": false, "required": ["tracks"],
                "properties": {
                    "tracks": { "type": "array", "minItems": 1, "maxItems": MAX_TRACKS, "items": schema_track() },
                    "lane": { "type": "string", "enum": ["interactive", "batch", "background"] } } }),
        ),
        (
            "read_tracklist",
            "Read a Spotify or Deezer playlist or a Beatport chart address and look up every track of it (one sync).",
            json!({ "type": "object", "additionalProperties": false, "required": ["url"],
                "properties": { "url": { "type": "string", "minLength": 1, "maxLength": MAX_URL_CHARS } } }),
        ),
        (
            "check_library",
            "Is a track already in the user's library? Read-only.",
            json!({ "type": "object", "additionalProperties": false, "required": ["artist", "title"],
                "properties": {
                    "artist": { "type": "string", "minLength": 1, "maxLength": MAX_FIELD_CHARS },
                    "title": { "type": "string", "minLength": 1, "maxLength": MAX_FIELD_CHARS } } }),
        ),
        (
            "explain_item",
            "State, reason, plan and matched track of an item (an item id from a sync). Read-only.",
            json!({ "type": "object", "additionalProperties": false, "required": ["item_id"],
                "properties": { "item_id": { "type": "string", "format": "uuid" } } }),
        ),
        (
            "list_candidates",
            "Ranked download candidates of an item, when acquisition is enabled. Read-only.",
            json!({ "type": "object", "additionalProperties": false, "required": ["item_id"],
                "properties": { "item_id": { "type": "string", "format": "uuid" } } }),
        ),
        (
            "lookup_isrc",
            "What the metadata platforms say about an ISRC (artist, title, mix, label, release). Read-only; use search_tracks with the result to look the track up.",
            json!({ "type": "object", "additionalProperties": false, "required": ["isrc"],
                "properties": { "isrc": { "type": "string", "minLength": 12, "maxLength": 20,
                    "description": "e.g. GBDUW0000059 or GB-DUW-00-00059" } } }),
        ),
        (
            "find_sources",
            "Where a copy of an item's track can be had: downloads, buy and listen links found by discovery, and the platforms' pages of the track. Read-only.",
            json!({ "type": "object", "additionalProperties": false, "required": ["item_id"],
                "properties": { "item_id": { "type": "string", "format": "uuid" } } }),
        ),
        (
            "label_catalog",
            "Releases and tracks cratedigger knows for a record label, which the user has and which not (what else did this label release that I don't have). Read-only.",
            json!({ "type": "object", "additionalProperties": false, "required": ["label"],
                "properties": { "label": { "type": "string", "minLength": 1, "maxLength": MAX_FIELD_CHARS } } }),
        ),
        (
            "artist_catalog",
            "Releases, labels and tracks cratedigger knows for an artist, which the user has and which not. Read-only.",
            json!({ "type": "object", "additionalProperties": false, "required": ["artist"],
                "properties": { "artist": { "type": "string", "minLength": 1, "maxLength": MAX_FIELD_CHARS } } }),
        ),
    ]
}

fn parse<T: serde::de::DeserializeOwned>(tool: &str, raw: &str) -> Result<T, Box<ErrorRecord>> {
    let de = &mut serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            inner.split('`').nth(1).map(str::to_string)
        } else {
            Some(path)
        };
        ErrorRecord::invalid(
            tool,
            field,
            format!("the arguments of {tool} are invalid: {inner}"),
        )
    })
}

fn bounded(tool: &str, field: &str, value: &str, max: usize) -> Result<String, Box<ErrorRecord>> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ErrorRecord::invalid(
            tool,
            Some(field.into()),
            format!("{tool}: `{field}` is empty"),
        ));
    }
    let n = v.chars().count();
    if n > max {
        return Err(ErrorRecord::invalid(
            tool,
            Some(field.into()),
            format!("{tool}: `{field}` is {n} characters long; at most {max} are accepted"),
        ));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(ErrorRecord::invalid(
            tool,
            Some(field.into()),
            format!("{tool}: `{field}` contains control characters"),
        ));
    }
    Ok(v.to_string())
}

fn item_id(tool: &str, raw: &str) -> Result<Uuid, Box<ErrorRecord>> {
    let a: ItemArgs = parse(tool, raw)?;
    a.item_id.trim().parse().map_err(|_| {
        ErrorRecord::invalid(
            tool,
            Some("item_id".into()),
            format!("{tool}: `item_id` is not an item id (a UUID)"),
        )
    })
}

/// Validates a call the model made: its name must be one of [`TOOL_NAMES`] and its
/// arguments (a JSON document, as the API sends them) must match the schema. Nothing is
/// executed here.
pub fn validate(name: &str, raw_args: &str) -> Result<Tool, Box<ErrorRecord>> {
    if raw_args.len() > MAX_ARGS_BYTES {
        return Err(ErrorRecord::invalid(
            name,
            None,
            format!(
                "the arguments of {name} are {} bytes; at most {MAX_ARGS_BYTES} are accepted",
                raw_args.len()
            ),
        ));
    }
    let raw = if raw_args.trim().is_empty() {
        "{}"
    } else {
        raw_args
    };
    match name {
        "search_tracks" => {
            let a: SearchTracksArgs = parse(name, raw)?;
            if a.tracks.is_empty() || a.tracks.len() > MAX_TRACKS {
                return Err(ErrorRecord::invalid(
                    name,
                    Some("tracks".into()),
                    format!(
                        "search_tracks: `tracks` must hold 1 to {MAX_TRACKS} tracks, got {}",
                        a.tracks.len()
                    ),
                ));
            }
            let mut tracks = Vec::with_capacity(a.tracks.len());
            for (i, t) in a.tracks.iter().enumerate() {
                let mix = match t.mix.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(m) => Some(bounded(
                        name,
                        &format!("tracks[{i}].mix"),
                        m,
                        MAX_FIELD_CHARS,
                    )?),
                };
                tracks.push(TrackArg {
                    artist: bounded(
                        name,
                        &format!("tracks[{i}].artist"),
                        &t.artist,
                        MAX_FIELD_CHARS,
                    )?,
                    title: bounded(
                        name,
                        &format!("tracks[{i}].title"),
                        &t.title,
                        MAX_FIELD_CHARS,
                    )?,
                    mix,
                });
            }
            Ok(Tool::SearchTracks {
                tracks,
                lane: a.lane.unwrap_or(Lane::Interactive),
            })
        }
        "read_tracklist" => {
            let a: UrlArgs = parse(name, raw)?;
            let url = bounded(name, "url", &a.url, MAX_URL_CHARS)?;
            if !cratedigger_platforms::sources::is_url(&url) {
                return Err(ErrorRecord::invalid(
                    name,
                    Some("url".into()),
                    "read_tracklist: `url` is not an address (https://… or spotify:playlist:…)"
                        .into(),
                ));
            }
            Ok(Tool::ReadTracklist { url })
        }
        "check_library" => {
            let a: CheckLibraryArgs = parse(name, raw)?;
            Ok(Tool::CheckLibrary {
                artist: bounded(name, "artist", &a.artist, MAX_FIELD_CHARS)?,
                title: bounded(name, "title", &a.title, MAX_FIELD_CHARS)?,
            })
        }
        "explain_item" => Ok(Tool::ExplainItem {
            item_id: item_id(name, raw)?,
        }),
        "list_candidates" => Ok(Tool::ListCandidates {
            item_id: item_id(name, raw)?,
        }),
        "lookup_isrc" => {
            let a: IsrcArgs = parse(name, raw)?;
            let v = bounded(name, "isrc", &a.isrc, 20)?;
            let isrc = cratedigger_music::ids::normalize_isrc(&v).ok_or_else(|| {
                ErrorRecord::invalid(
                    name,
                    Some("isrc".into()),
                    "lookup_isrc: `isrc` is not an ISRC (2 letters, 3 letters or digits, 7 digits, e.g. GBDUW0000059)".into(),
                )
            })?;
            Ok(Tool::LookupIsrc { isrc })
        }
        "find_sources" => Ok(Tool::FindSources {
            item_id: item_id(name, raw)?,
        }),
        "label_catalog" => {
            let a: LabelArgs = parse(name, raw)?;
            Ok(Tool::LabelCatalog {
                label: bounded(name, "label", &a.label, MAX_FIELD_CHARS)?,
            })
        }
        "artist_catalog" => {
            let a: ArtistArgs = parse(name, raw)?;
            Ok(Tool::ArtistCatalog {
                artist: bounded(name, "artist", &a.artist, MAX_FIELD_CHARS)?,
            })
        }
        other => {
            let shown: String = other.chars().take(64).collect();
            Err(Box::new(ErrorRecord {
                class: "unknown_tool".into(),
                tool: shown.clone(),
                platform: None,
                field: None,
                attempt: 1,
                alternatives: TOOL_NAMES.iter().map(|s| s.to_string()).collect(),
                next_action: "use one of the listed tools; approving, downloading and changing the library are not tools and cannot be done from chat".into(),
                message: format!("there is no tool named '{shown}'"),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_calls_pass_with_defaults() {
        let t = validate(
            "search_tracks",
            r#"{"tracks":[{"artist":" Bicep ","title":"Glue","mix":""}]}"#,
        )
        .unwrap();
        assert_eq!(
            t,
            Tool::SearchTracks {
                tracks: vec![TrackArg {
                    artist: "Bicep".into(),
                    title: "Glue".into(),
                    mix: None
                }],
                lane: Lane::Interactive
            }
        );
        let t = validate(
            "read_tracklist",
            r#"{"url":"https://www.deezer.com/en/playlist/1"}"#,
        )
        .unwrap();
        assert!(t.creates_sync());
        let id = Uuid::new_v4();
        assert_eq!(
            validate("explain_item", &format!(r#"{{"item_id":"{id}"}}"#)).unwrap(),
            Tool::ExplainItem { item_id: id }
        );
    }

    #[test]
    fn unknown_fields_tools_and_oversized_strings_are_refused_with_the_field() {
        let e = validate(
            "search_tracks",
            r#"{"tracks":[{"artist":"A","title":"B"}],"approve":true}"#,
        )
        .unwrap_err();
        assert_eq!(e.class, "invalid_arguments");
        assert_eq!(e.field.as_deref(), Some("approve"), "{e:?}");
        let long = "x".repeat(MAX_FIELD_CHARS + 1);
        let e = validate(
            "search_tracks",
            &json!({"tracks":[{"artist":"A","title": long}]}).to_string(),
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tracks[0].title"), "{e:?}");
        assert!(e.message.contains("301 characters"), "{}", e.message);
        let e = validate("search_tracks", r#"{"tracks":[],"lane":"interactive"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tracks"));
        let e = validate(
            "search_tracks",
            r#"{"tracks":[{"artist":"A","title":"B"}],"lane":"urgent"}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("lane"), "{e:?}");
        let e = validate("approve_item", r#"{"item_id":"x"}"#).unwrap_err();
        assert_eq!(e.class, "unknown_tool");
        assert!(e.alternatives.contains(&"search_tracks".to_string()));
        let e = validate("explain_item", r#"{"item_id":"../../etc"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("item_id"));
        let e = validate("read_tracklist", r#"{"url":"/etc/passwd"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("url"));
        let e = validate("check_library", "not json").unwrap_err();
        assert_eq!(e.class, "invalid_arguments");
        let e = validate("check_library", &"{".repeat(MAX_ARGS_BYTES + 1)).unwrap_err();
        assert!(e.message.contains("bytes"));
    }

    #[test]
    fn new_tools_validate_isrcs_names_and_ids() {
        assert_eq!(
            validate("lookup_isrc", r#"{"isrc":" gb-duw-00-00059 "}"#).unwrap(),
            Tool::LookupIsrc {
                isrc: "GBDUW0000059".into()
            }
        );
        for bad in [
            "GBDUW000005",
            "12DUW0000059",
            "GBDUW00000590",
            "'; DROP TABLE",
        ] {
            let e = validate("lookup_isrc", &json!({ "isrc": bad }).to_string()).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("isrc"), "{bad}");
        }
        assert_eq!(
            validate("label_catalog", r#"{"label":" mau5trap "}"#).unwrap(),
            Tool::LabelCatalog {
                label: "mau5trap".into()
            }
        );
        let e = validate("label_catalog", r#"{"label":"x","download":true}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("download"));
        assert!(validate("artist_catalog", r#"{"artist":""}"#).is_err());
        assert!(validate("find_sources", r#"{"item_id":"nope"}"#).is_err());
        for t in [
            "lookup_isrc",
            "find_sources",
            "label_catalog",
            "artist_catalog",
        ] {
            assert!(TOOL_NAMES.contains(&t));
        }
        assert!(
            !validate("lookup_isrc", r#"{"isrc":"GBDUW0000059"}"#)
                .unwrap()
                .creates_sync()
        );
    }

    #[test]
    fn every_schema_forbids_extra_properties_and_names_are_listed() {
        let s = schemas();
        assert_eq!(s.len(), TOOL_NAMES.len());
        for ((name, _, schema), listed) in s.iter().zip(TOOL_NAMES) {
            assert_eq!(*name, listed);
            assert_eq!(schema["additionalProperties"], json!(false), "{name}");
        }
    }
}
