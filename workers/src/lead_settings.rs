//! Settings of the lead agent (`CRATEDIGGER__LEAD__*`): the OpenAI-compatible endpoint its
//! LLM planner talks to and the budgets of one chat request. With no `base_url` the
//! rule-based planner handles every request, so the fleet works without any LLM.

use serde::{Deserialize, Serialize};

/// The lead agent: endpoint, model and per-request budgets.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LeadSettings {
    /// Base URL of an OpenAI-compatible API, ending in `/v1`
    /// (`CRATEDIGGER__LEAD__BASE_URL=http://127.0.0.1:11434/v1`). None: rule-based only.
    pub base_url: Option<String>,
    /// Model name sent with every request.
    pub model: String,
    /// Bearer key of the endpoint. Environment only (`CRATEDIGGER__LEAD__API_KEY`); never
    /// serialised or logged.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// How hard the model thinks before it answers: minimal, low, medium or high.
    pub reasoning_effort: String,
    /// Tool calls the model may make for one request; beyond it the lead stops planning
    /// and answers with what was done.
    pub max_tool_calls: u32,
    /// Tokens (prompt + completion, as the endpoint reports them) one request may use.
    pub max_tokens: u32,
    /// Wall time of one chat request, planning and following the scouts included.
    pub wall_time_secs: u64,
    /// One answer of the endpoint may take this long; slower, the rule-based planner takes
    /// over.
    pub request_timeout_secs: u64,
    /// Tool calls of one model turn run at once (the scouts of the fleet then run the
    /// created items concurrently); 3 to 5 is the intended range.
    pub parallel_scouts: usize,
}

impl std::fmt::Debug for LeadSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeadSettings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("reasoning_effort", &self.reasoning_effort)
            .field("max_tool_calls", &self.max_tool_calls)
            .field("max_tokens", &self.max_tokens)
            .field("wall_time_secs", &self.wall_time_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("parallel_scouts", &self.parallel_scouts)
            .finish()
    }
}

impl Default for LeadSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            model: "gpt-4o-mini".into(),
            api_key: None,
            reasoning_effort: "low".into(),
            max_tool_calls: 8,
            max_tokens: 20_000,
            wall_time_secs: 120,
            request_timeout_secs: 20,
            parallel_scouts: 4,
        }
    }
}

impl LeadSettings {
    /// Whether an LLM endpoint is configured at all.
    pub fn llm_configured(&self) -> bool {
        self.base_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
    }

    /// `parallel_scouts` kept within 1..=8 (a zero would stall every request).
    pub fn scouts(&self) -> usize {
        self.parallel_scouts.clamp(1, 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_never_printed_and_defaults_are_rule_based() {
        let mut s = LeadSettings::default();
        assert!(!s.llm_configured());
        s.api_key = Some("sk-s3cret".into());
        s.base_url = Some("http://127.0.0.1:1/v1".into());
        assert!(s.llm_configured());
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&s).unwrap().contains("s3cret"));
        s.parallel_scouts = 0;
        assert_eq!(s.scouts(), 1);
    }
}
