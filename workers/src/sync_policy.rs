//! The acquisition policy of one sync (`syncs.policy`, set by the lead agent from the
//! person's own words: "lossless only", "MP3 320 or better", "skip what I already have",
//! "labels I trust: X") and how it meets the configured policy.
//!
//! Guardrail: a sync policy can only make the configured ranking and auto-approve policy
//! STRICTER — a higher minimum quality, fewer formats, auto-approval limited to lossless —
//! never looser, and it can never turn auto-approval on ([`SyncPolicy::tighten`] is the one
//! place that combines them, and is tested for exactly that). Untrusted JSON in the column
//! that does not parse is ignored (the configured policy applies).

use cratedigger_music::quality::{AudioFormat, QualityTarget};
use cratedigger_music::ranking::{AutoApprovePolicy, RankingPolicy};
use serde::{Deserialize, Serialize};

/// What a sync asks beyond the configured policy. Every field is optional; absent = the
/// configured value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncPolicy {
    /// Lowest quality wanted (`lossless`, `mp3 320`, `256`): tightens
    /// `required.min_quality` when stricter, never loosens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_quality: Option<String>,
    /// Formats wanted: intersected with the configured ones (never adds one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
    /// Skip tracks the library already has (the consolidator does so anyway: a duplicate is
    /// never acquired); kept so the answer and the planner can say it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_owned: bool,
    /// Labels the person trusts (context for the planner and the memory tools; the ranking
    /// does not know candidates' labels).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_labels: Vec<String>,
}

/// Order of strictness of a quality target: any < N kbps (by N) < lossless.
fn strictness(q: &QualityTarget) -> u32 {
    match q {
        QualityTarget::Any => 0,
        QualityTarget::MinKbps { kbps } => *kbps,
        QualityTarget::Lossless => u32::MAX,
    }
}

impl SyncPolicy {
    /// Reads the column's JSON; `None` (configured policy) when absent or not a policy.
    pub fn from_json(v: Option<&serde_json::Value>) -> Option<SyncPolicy> {
        let v = v?;
        if v.is_null() {
            return None;
        }
        serde::Deserialize::deserialize(v).ok()
    }

    /// Whether it asks for anything beyond the configured policy.
    pub fn is_empty(&self) -> bool {
        *self == SyncPolicy::default()
    }

    /// The configured policies made stricter by this sync's wishes. Never looser: the
    /// minimum quality is the stricter of the two, formats only shrink (an empty
    /// intersection, which would mean "every format", keeps the configured list), and
    /// auto-approval keeps its configured switch, becoming lossless-only when the sync
    /// wants lossless.
    pub fn tighten(
        &self,
        ranking: &RankingPolicy,
        approve: &AutoApprovePolicy,
    ) -> (RankingPolicy, AutoApprovePolicy) {
        let mut r = ranking.clone();
        let mut a = approve.clone();
        if let Some(q) = self
            .min_quality
            .as_deref()
            .and_then(|s| s.parse::<QualityTarget>().ok())
            && strictness(&q) > strictness(&r.required.min_quality)
        {
            r.required.min_quality = q;
        }
        if r.required.min_quality == QualityTarget::Lossless {
            a.lossless_only = true;
        }
        let wanted: Vec<AudioFormat> = self
            .formats
            .iter()
            .filter_map(|f| f.trim().parse::<AudioFormat>().ok())
            .collect();
        if !wanted.is_empty() {
            let configured: Vec<AudioFormat> = if r.required.formats.is_empty() {
                wanted.clone()
            } else {
                r.required.formats.clone()
            };
            let narrowed: Vec<AudioFormat> = configured
                .into_iter()
                .filter(|f| wanted.contains(f))
                .collect();
            if !narrowed.is_empty() {
                r.required.formats = narrowed;
            }
        }
        // Never loosened, whatever the JSON said.
        a.enabled = approve.enabled;
        a.min_score = a.min_score.max(approve.min_score);
        a.min_margin = a.min_margin.max(approve.min_margin);
        a.require_duration |= approve.require_duration;
        (r, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sync_policy_only_tightens() {
        let ranking = RankingPolicy::default();
        let approve = AutoApprovePolicy {
            lossless_only: false,
            ..Default::default()
        };
        // lossless: min quality up, auto-approve lossless-only, still disabled
        let p = SyncPolicy::from_json(Some(
            &json!({"min_quality": "lossless", "formats": ["flac", "mp3"]}),
        ))
        .unwrap();
        let (r, a) = p.tighten(&ranking, &approve);
        assert_eq!(r.required.min_quality, QualityTarget::Lossless);
        assert_eq!(
            r.required.formats,
            vec![AudioFormat::Flac, AudioFormat::Mp3]
        );
        assert!(a.lossless_only);
        assert!(!a.enabled, "a preference never turns auto-approval on");
        // a looser wish changes nothing
        let loose = SyncPolicy {
            min_quality: Some("any".into()),
            formats: vec!["wma".into()],
            ..Default::default()
        };
        let (r, a) = loose.tighten(&ranking, &approve);
        assert_eq!(r.required.min_quality, ranking.required.min_quality);
        assert_eq!(
            r.required.formats, ranking.required.formats,
            "wma is not configured"
        );
        assert_eq!(a, approve);
        let (r, _) = SyncPolicy {
            min_quality: Some("128".into()),
            ..Default::default()
        }
        .tighten(&ranking, &approve);
        assert_eq!(r.required.min_quality, QualityTarget::MinKbps { kbps: 192 });
        let (r, _) = SyncPolicy {
            min_quality: Some("mp3 320".into()),
            ..Default::default()
        }
        .tighten(&ranking, &approve);
        assert_eq!(r.required.min_quality, QualityTarget::MinKbps { kbps: 320 });
        // configured auto-approve on: stays on, never loosened by the JSON
        let on = AutoApprovePolicy {
            enabled: true,
            ..Default::default()
        };
        let (_, a) = SyncPolicy::default().tighten(&ranking, &on);
        assert_eq!(a, on);
        // garbage is ignored
        assert!(SyncPolicy::from_json(Some(&json!("approve everything"))).is_none());
        assert!(
            SyncPolicy::from_json(Some(&json!({"auto_approve": true})))
                .is_some_and(|p| p.is_empty())
        );
        assert!(SyncPolicy::from_json(None).is_none());
    }
}
