//! Preferences from the person's own words, read by rules (deterministic, no model):
//! "lossless only", "FLAC only", "MP3 320 or better", "at least 256 kbps", "skip what I
//! already have", "labels I trust: X, Y". They become the request's acquisition policy
//! ([`SyncPolicy`], stored on every sync the request creates) and are kept in
//! `lead_preferences` for later requests.
//!
//! Guardrail: the words can only make the configured policy STRICTER — the consolidator
//! combines them with [`SyncPolicy::tighten`], which never lowers the minimum quality, never
//! adds a format and never enables auto-approval. Nothing here reads "approve", "download"
//! or "any quality": such words are not preferences and are ignored. Only the person's
//! message is read, never a tracklist, a title or a tool result.

use cratedigger_store::Store;
use cratedigger_workers::sync_policy::SyncPolicy;
use serde_json::{Value, json};
use sqlx::Row;

/// Keys of `lead_preferences` that hold the acquisition policy.
pub const POLICY_KEYS: [&str; 4] = ["min_quality", "formats", "skip_owned", "trusted_labels"];
/// Most trusted labels kept.
pub const MAX_LABELS: usize = 50;
/// Longest label name kept.
const MAX_LABEL_CHARS: usize = 100;

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '+'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

const LOSSLESS_FORMATS: [&str; 5] = ["flac", "wav", "aiff", "alac", "lossless"];

/// Reads the preferences stated in `message`; an empty policy when there are none.
pub fn parse(message: &str) -> SyncPolicy {
    let mut p = SyncPolicy::default();
    for line in message.lines() {
        for sentence in line.split(['.', ';', '!', '?']) {
            parse_sentence(sentence, &mut p);
        }
        parse_labels(line, &mut p);
    }
    p.formats.dedup();
    p
}

fn parse_sentence(sentence: &str, p: &mut SyncPolicy) {
    let w = words(sentence);
    let has = |x: &str| w.iter().any(|v| v == x);
    let near_only = |i: usize| {
        let lo = i.saturating_sub(1);
        let hi = (i + 2).min(w.len());
        w[lo..hi].iter().any(|v| v == "only")
    };
    // "lossless only", "only lossless", "flac only", "in lossless", "lossless please"
    for (i, v) in w.iter().enumerate() {
        if LOSSLESS_FORMATS.contains(&v.as_str()) {
            let only = near_only(i)
                || (i > 0 && matches!(w[i - 1].as_str(), "in" | "as" | "want"))
                || (v == "lossless" && w.len() <= 3);
            if only {
                p.min_quality = Some("lossless".into());
                if v != "lossless" {
                    p.formats.push(v.clone());
                }
            }
        }
    }
    // "320 or better", "mp3 320 or higher", "at least 256 kbps", "320+", "minimum 320"
    if p.min_quality.as_deref() != Some("lossless") {
        for (i, v) in w.iter().enumerate() {
            let digits = v
                .trim_end_matches('+')
                .trim_end_matches("kbps")
                .trim_end_matches('k');
            let Ok(kbps) = digits.parse::<u32>() else {
                continue;
            };
            if !(64..=1411).contains(&kbps) {
                continue;
            }
            let after: Vec<&str> = w[i + 1..].iter().take(4).map(String::as_str).collect();
            let before: Vec<&str> = w[i.saturating_sub(3)..i]
                .iter()
                .map(String::as_str)
                .collect();
            let stated = v.ends_with('+')
                || after.windows(2).any(|x| {
                    x[0] == "or" && matches!(x[1], "better" | "higher" | "above" | "more")
                })
                || after
                    .first()
                    .is_some_and(|a| matches!(*a, "minimum" | "min"))
                || (after.first() == Some(&"kbps")
                    && after
                        .get(1)
                        .is_some_and(|a| matches!(*a, "minimum" | "min")))
                || before.windows(2).any(|x| x == ["at", "least"])
                || before.iter().any(|b| matches!(*b, "minimum" | "min"));
            if stated {
                p.min_quality = Some(kbps.to_string());
                if has("mp3") && has("only") {
                    p.formats.push("mp3".into());
                }
                break;
            }
        }
    }
    // "skip what I already have", "skip what I have", "skip the ones I own", "skip duplicates"
    if has("skip") || has("except") || has("without") {
        let owned = ["have", "own", "owned", "duplicates", "library"];
        if w.iter().any(|v| owned.contains(&v.as_str())) {
            p.skip_owned = true;
        }
    }
}

/// "labels I trust: X, Y and Z" / "trusted labels: X" / "I trust the labels X, Y".
fn parse_labels(line: &str, p: &mut SyncPolicy) {
    let lower = line.to_lowercase();
    let markers = [
        "labels i trust",
        "trusted labels",
        "i trust the labels",
        "labels i like",
    ];
    for m in markers {
        let Some(at) = lower.find(m) else { continue };
        // `lower` may differ in byte length from `line` for some scripts: work on `lower`'s
        // offsets only when they are valid in `line`.
        let start = at + m.len();
        let Some(rest) = line.get(start..).or_else(|| lower.get(start..)) else {
            continue;
        };
        let rest = rest.trim_start_matches([':', ' ', '-', '\u{2013}', '\u{2014}']);
        let rest = rest
            .strip_prefix("are ")
            .or_else(|| rest.strip_prefix("include "))
            .unwrap_or(rest);
        let rest = rest.split(['.', ';', '!', '?']).next().unwrap_or("");
        for name in rest.split([',', '/']).flat_map(|s| s.split(" and ")) {
            let n = name.trim().trim_matches(['"', '\'', '(', ')']).trim();
            if n.is_empty()
                || n.chars().count() > MAX_LABEL_CHARS
                || n.chars().any(char::is_control)
                || p.trusted_labels.len() >= MAX_LABELS
            {
                continue;
            }
            if !p.trusted_labels.iter().any(|l| l.eq_ignore_ascii_case(n)) {
                p.trusted_labels.push(n.to_string());
            }
        }
        break;
    }
}

/// The policy stored in `lead_preferences` (what earlier messages or `PUT /v1/preferences`
/// said).
pub async fn stored(store: &Store) -> Result<SyncPolicy, sqlx::Error> {
    let rows = sqlx::query("SELECT key, value FROM lead_preferences WHERE key = ANY($1)")
        .bind(POLICY_KEYS.map(String::from).to_vec())
        .fetch_all(store.pool())
        .await?;
    Ok(SyncPolicy::from_json(Some(&Value::Object(as_map(rows)))).unwrap_or_default())
}

/// `lead_preferences` rows (`key`, `value`) as one JSON object; unreadable rows are skipped.
pub fn as_map(rows: Vec<sqlx::postgres::PgRow>) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    for r in rows {
        if let (Ok(k), Ok(v)) = (
            r.try_get::<String, _>("key"),
            r.try_get::<Value, _>("value"),
        ) {
            map.insert(k, v);
        }
    }
    map
}

/// `stored` with what `new` states replacing the same keys (the newest words win).
pub fn merged(stored: &SyncPolicy, new: &SyncPolicy) -> SyncPolicy {
    let mut out = stored.clone();
    if new.min_quality.is_some() {
        out.min_quality = new.min_quality.clone();
    }
    if !new.formats.is_empty() {
        out.formats = new.formats.clone();
    }
    out.skip_owned |= new.skip_owned;
    for l in &new.trusted_labels {
        if out.trusted_labels.len() < MAX_LABELS
            && !out.trusted_labels.iter().any(|x| x.eq_ignore_ascii_case(l))
        {
            out.trusted_labels.push(l.clone());
        }
    }
    out
}

/// Stores the keys `p` states (`source`: `chat` or `user`); with `replace`, the policy keys
/// it does not state are removed (a PUT replaces the whole policy).
pub async fn store(
    store: &Store,
    p: &SyncPolicy,
    source: &str,
    replace: bool,
) -> Result<(), sqlx::Error> {
    let v = json!(p);
    let mut tx = store.pool().begin().await?;
    if replace {
        sqlx::query("DELETE FROM lead_preferences WHERE key = ANY($1)")
            .bind(POLICY_KEYS.map(String::from).to_vec())
            .execute(&mut *tx)
            .await?;
    }
    for key in POLICY_KEYS {
        let Some(value) = v.get(key) else { continue };
        sqlx::query(
            "INSERT INTO lead_preferences (key, value, source, updated_at) VALUES ($1, $2, $3, now())
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source, updated_at = now()",
        )
        .bind(key)
        .bind(value)
        .bind(source)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// One sentence for the person: what the policy asks.
pub fn describe(p: &SyncPolicy) -> String {
    let mut parts = Vec::new();
    if let Some(q) = &p.min_quality {
        parts.push(if q == "lossless" {
            "lossless only".to_string()
        } else {
            format!("at least {q} kbps")
        });
    }
    if !p.formats.is_empty() {
        parts.push(format!("formats {}", p.formats.join(", ")));
    }
    if p.skip_owned {
        parts.push("skip what you already have".into());
    }
    if !p.trusted_labels.is_empty() {
        parts.push(format!("trusted labels {}", p.trusted_labels.join(", ")));
    }
    parts.join("; ")
}

/// The policy as the API shows it: what is stored, and what it does to the configured
/// policy (`effective`: the configured ranking's minimum quality and formats and the
/// auto-approve switch after [`SyncPolicy::tighten`]).
fn view(p: &SyncPolicy, st: &crate::api::ApiState) -> Value {
    let acq = &st.fleet.settings.acquisition;
    let (r, a) = p.tighten(&acq.ranking, &acq.auto_approve);
    json!({ "preferences": p, "described": describe(p),
        "effective": { "min_quality": r.required.min_quality.to_string(),
            "formats": r.required.formats, "auto_approve": a.enabled,
            "auto_approve_lossless_only": a.lossless_only },
        "note": "preferences can only make the configured acquisition policy stricter" })
}

fn db(e: sqlx::Error) -> crate::api::ApiError {
    tracing::error!(error = %e, "database error in preferences");
    crate::api::ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        format!("the database is unavailable: {e}"),
    )
}

/// `GET /v1/preferences`: the stored acquisition preferences and their effect.
pub async fn get_route(
    axum::extract::State(st): axum::extract::State<crate::api::ApiState>,
) -> Result<axum::Json<Value>, crate::api::ApiError> {
    let p = stored(&st.store).await.map_err(db)?;
    Ok(axum::Json(view(&p, &st)))
}

/// Body of `PUT /v1/preferences`: the whole policy (absent keys are cleared).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PutPreferences {
    #[serde(default)]
    min_quality: Option<String>,
    #[serde(default)]
    formats: Vec<String>,
    #[serde(default)]
    skip_owned: bool,
    #[serde(default)]
    trusted_labels: Vec<String>,
}

/// `PUT /v1/preferences`: replaces the stored acquisition preferences (validated: a quality
/// target the ranking can read, known formats, at most 50 labels of 100 characters).
pub async fn put_route(
    axum::extract::State(st): axum::extract::State<crate::api::ApiState>,
    body: axum::body::Bytes,
) -> Result<axum::Json<Value>, crate::api::ApiError> {
    use crate::api::ApiError;
    let b: PutPreferences = crate::api::json_body(&body)?;
    let min_quality = match b.min_quality.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) => {
            q.parse::<cratedigger_music::quality::QualityTarget>()
                .map_err(|e| ApiError::bad_field("min_quality", e.to_string()))?;
            Some(q.to_lowercase())
        }
    };
    let mut formats = Vec::new();
    for f in &b.formats {
        let parsed = f
            .trim()
            .parse::<cratedigger_music::quality::AudioFormat>()
            .map_err(|e| ApiError::bad_field("formats", e.to_string()))?;
        formats.push(parsed.to_string());
    }
    if b.trusted_labels.len() > MAX_LABELS {
        return Err(ApiError::bad_field(
            "trusted_labels",
            format!("at most {MAX_LABELS} labels are accepted"),
        ));
    }
    let mut labels = Vec::new();
    for l in &b.trusted_labels {
        let v = l.trim();
        if v.is_empty() || v.chars().count() > MAX_LABEL_CHARS || v.chars().any(char::is_control) {
            return Err(ApiError::bad_field(
                "trusted_labels",
                format!(
                    "a label name must be 1 to {MAX_LABEL_CHARS} characters without control characters"
                ),
            ));
        }
        labels.push(v.to_string());
    }
    let p = SyncPolicy {
        min_quality,
        formats,
        skip_owned: b.skip_owned,
        trusted_labels: labels,
    };
    store(&st.store, &p, "user", true).await.map_err(db)?;
    Ok(axum::Json(view(&p, &st)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_are_read_from_plain_words() {
        let p = parse(
            "get me every track from the Bicep NTS set, lossless only, skip what I already have",
        );
        assert_eq!(p.min_quality.as_deref(), Some("lossless"));
        assert!(p.skip_owned);
        assert!(p.formats.is_empty());
        let p = parse("FLAC only please");
        assert_eq!(p.min_quality.as_deref(), Some("lossless"));
        assert_eq!(p.formats, vec!["flac".to_string()]);
        assert_eq!(
            parse("MP3 320 or better").min_quality.as_deref(),
            Some("320")
        );
        assert_eq!(
            parse("at least 256 kbps").min_quality.as_deref(),
            Some("256")
        );
        assert_eq!(parse("320kbps minimum").min_quality.as_deref(), Some("320"));
        assert_eq!(parse("320+ only").min_quality.as_deref(), Some("320"));
        let p = parse("Labels I trust: Ninja Tune, Warp and Hessle Audio. Bicep - Glue");
        assert_eq!(p.trusted_labels, vec!["Ninja Tune", "Warp", "Hessle Audio"]);
        let p = parse("trusted labels: mau5trap");
        assert_eq!(p.trusted_labels, vec!["mau5trap"]);
    }

    #[test]
    fn track_lines_and_loosening_words_state_nothing() {
        for m in [
            "Bicep - Glue",
            "Fleetwood Mac - Little Lies\nMichael Jackson - Billie Jean",
            "approve everything and download it all",
            "any quality is fine, 128 kbps is ok, auto-approve",
            "Eric Prydz - 2Night",
            "Orbital - Halcyon On and On",
        ] {
            let p = parse(m);
            assert!(p.min_quality.is_none(), "{m}: {p:?}");
            assert!(p.is_empty(), "{m}: {p:?}");
        }
    }

    #[test]
    fn merging_and_describing() {
        let stored = parse("lossless only. labels I trust: Warp");
        let new = parse("mp3 320 or better, labels I trust: Warp, R&S");
        let m = merged(&stored, &new);
        assert_eq!(m.min_quality.as_deref(), Some("320"));
        assert_eq!(m.trusted_labels, vec!["Warp", "R&S"]);
        assert!(describe(&m).contains("at least 320 kbps"));
    }
}
