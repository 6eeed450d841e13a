//! The item state machine's vocabulary and the priority lanes.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Where one wanted track stands. Only the consolidator moves an item between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Stored by the scheduler, research job enqueued.
    Pending,
    /// The research lead planned it; metadata scouts are querying platforms.
    Researching,
    /// A canonical track was found and stored.
    Resolved,
    /// Already in the library; linked to the existing track.
    Duplicate,
    /// Looking for download sources.
    Discovering,
    /// Sources ranked.
    Ranked,
    /// Waiting for the user to pick a source.
    AwaitingApproval,
    /// A source is being downloaded.
    Downloading,
    /// The downloaded file is being checked.
    Verifying,
    /// Done: verified, tagged and in the library.
    Filed,
    /// Gave up, with a reason a person can read.
    Failed,
}

/// Every state, in state-machine order (used for per-state counts that list zeros too).
pub const ALL_STATES: [ItemState; 11] = [
    ItemState::Pending,
    ItemState::Researching,
    ItemState::Resolved,
    ItemState::Duplicate,
    ItemState::Discovering,
    ItemState::Ranked,
    ItemState::AwaitingApproval,
    ItemState::Downloading,
    ItemState::Verifying,
    ItemState::Filed,
    ItemState::Failed,
];

impl ItemState {
    /// Stable lowercase name, as stored in Postgres and shown in the API and CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Researching => "researching",
            ItemState::Resolved => "resolved",
            ItemState::Duplicate => "duplicate",
            ItemState::Discovering => "discovering",
            ItemState::Ranked => "ranked",
            ItemState::AwaitingApproval => "awaiting_approval",
            ItemState::Downloading => "downloading",
            ItemState::Verifying => "verifying",
            ItemState::Filed => "filed",
            ItemState::Failed => "failed",
        }
    }

    /// States in which the fleet has nothing left to do for the item until a person acts or a
    /// later stage (discovery, issue 7) is enabled.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ItemState::Resolved | ItemState::Duplicate | ItemState::Filed | ItemState::Failed
        )
    }
}

impl ItemState {
    /// Final, or waiting for a person (`awaiting_approval`): the fleet has nothing to do for
    /// the item until someone acts, so a sync whose items are all settled is "finished" for
    /// `sync --wait` and the API.
    pub fn is_settled(self) -> bool {
        self.is_final() || self == ItemState::AwaitingApproval
    }
}

impl std::fmt::Display for ItemState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a state or lane name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} '{value}' (expected one of: {expected})")]
pub struct UnknownName {
    /// What kind of name was parsed ("state", "lane").
    pub what: &'static str,
    /// The text that did not parse.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

impl FromStr for ItemState {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_STATES
            .iter()
            .copied()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "state",
                value: s.to_string(),
                expected: ALL_STATES.map(|s| s.as_str()).join(", "),
            })
    }
}

/// Priority lane of a job. A worker always takes from the highest non-empty lane, so a
/// person's single-track request overtakes a 10,000-track library sync already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// A person is waiting for the answer.
    Interactive,
    /// A playlist sync.
    Batch,
    /// Periodic library maintenance.
    Background,
}

impl Lane {
    /// Lanes from highest to lowest priority.
    pub const ALL: [Lane; 3] = [Lane::Interactive, Lane::Batch, Lane::Background];

    /// Stable lowercase name used in Redis keys, metrics labels and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Interactive => "interactive",
            Lane::Batch => "batch",
            Lane::Background => "background",
        }
    }
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lane {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lane::ALL
            .iter()
            .copied()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "lane",
                value: s.to_string(),
                expected: "interactive, batch, background".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_round_trip() {
        for st in ALL_STATES {
            assert_eq!(st.as_str().parse::<ItemState>().unwrap(), st);
            assert_eq!(
                serde_json::to_string(&st).unwrap(),
                format!("\"{}\"", st.as_str())
            );
        }
        let err = "done".parse::<ItemState>().unwrap_err().to_string();
        assert!(err.contains("unknown state 'done'"), "{err}");
    }

    #[test]
    fn lanes_are_ordered_by_priority() {
        assert!(Lane::Interactive < Lane::Batch && Lane::Batch < Lane::Background);
        assert_eq!("batch".parse::<Lane>().unwrap(), Lane::Batch);
        assert!("urgent".parse::<Lane>().is_err());
    }
}
