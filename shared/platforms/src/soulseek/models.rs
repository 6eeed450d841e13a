//! slskd's REST shapes (API v0), tolerant: every field a peer or slskd may leave out is
//! optional, unknown fields are ignored.
//!
//! Sources: the search responses follow the kit's one real recording
//! (`fixtures/slskd/searches_responses_demdike-stare-tryptych.json`, slskd key order, null
//! fields omitted). The other shapes are built from slskd's source (the kit has no
//! recording of them): `SearchRequest` and `Search` (Search/API/DTO, Search/Types),
//! `QueueDownloadRequest`, the enqueue answer `{enqueued, failed}` (slskd >= 0.24; older
//! versions answer 201 with no body), `Transfer` and `UserResponse`/`DirectoryResponse`
//! (Transfers/Types, Transfers/API/DTO) and `ServerState` (Core/API/DTO). slskd serialises
//! camelCase and flag enums as comma-separated names ("Completed, Succeeded").

use serde::{Deserialize, Serialize};

/// `POST /api/v0/searches` body (slskd `SearchRequest`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// The id we choose, so we can follow and delete the search.
    pub id: String,
    /// What to search for.
    pub search_text: String,
    /// slskd's search timeout (seconds after the last response).
    pub search_timeout: u32,
    /// Responses after which the search ends.
    pub response_limit: u32,
    /// Files after which the search ends.
    pub file_limit: u32,
    /// Let slskd drop responses it filters (its own rules).
    pub filter_responses: bool,
    /// A response must carry at least this many files.
    pub minimum_response_file_count: u32,
}

/// A search as slskd reports it (`GET /api/v0/searches/{id}`, and the `POST` answer).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchState {
    /// The search id.
    pub id: Option<String>,
    /// Flags, e.g. "InProgress", "Completed, TimedOut", "Completed, Errored".
    pub state: Option<String>,
    /// slskd's own "done" verdict (newer versions).
    pub is_complete: Option<bool>,
    /// Responses so far.
    pub response_count: Option<u64>,
    /// Files so far.
    pub file_count: Option<u64>,
    /// Locked files so far.
    pub locked_file_count: Option<u64>,
}

/// One peer's answer to a search (`GET /api/v0/searches/{id}/responses` items).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PeerResponse {
    /// Peer user name.
    pub username: Option<String>,
    /// Whether the peer has a free upload slot.
    pub has_free_upload_slot: Option<bool>,
    /// Length of the peer's upload queue.
    pub queue_length: Option<i64>,
    /// Announced upload speed (bytes/s).
    pub upload_speed: Option<i64>,
    /// Files the peer offers.
    pub files: Option<Vec<SharedFile>>,
    /// Files the peer shares only with some users (never downloadable by us).
    pub locked_files: Option<Vec<SharedFile>>,
    /// File count as slskd counted it.
    pub file_count: Option<u64>,
    /// Locked file count as slskd counted it.
    pub locked_file_count: Option<u64>,
}

/// One shared file in a peer's answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SharedFile {
    /// The peer's full path (backslashes, often starting with `@@share`).
    pub filename: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
    /// slskd's extension field (often empty: the file name is the better source).
    pub extension: Option<String>,
    /// Bitrate in kbit/s (lossy files).
    pub bit_rate: Option<i64>,
    /// Sample rate in Hz (lossless files).
    pub sample_rate: Option<i64>,
    /// Bit depth (lossless files).
    pub bit_depth: Option<i64>,
    /// Duration in seconds.
    pub length: Option<i64>,
    /// Whether the bitrate is variable.
    pub is_variable_bit_rate: Option<bool>,
    /// Locked files are shared only with some users.
    pub is_locked: Option<bool>,
}

/// One file of `POST /api/v0/transfers/downloads/{username}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueDownloadRequest {
    /// The peer's path, verbatim.
    pub filename: String,
    /// Size in bytes as announced.
    pub size: u64,
}

/// slskd >= 0.24's enqueue answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EnqueueResponse {
    /// Transfers slskd queued.
    pub enqueued: Vec<Transfer>,
    /// Transfers slskd refused (with `exception`).
    pub failed: Vec<Transfer>,
}

/// A transfer as slskd reports it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Transfer {
    /// Transfer id (a GUID).
    pub id: Option<String>,
    /// Peer user name.
    pub username: Option<String>,
    /// The peer's path.
    pub filename: Option<String>,
    /// Size in bytes (slskd updates it from the peer's answer).
    pub size: Option<i64>,
    /// Flags, e.g. "Queued, Remotely", "InProgress", "Completed, Succeeded".
    pub state: Option<String>,
    /// Bytes received so far.
    pub bytes_transferred: Option<i64>,
    /// Percent complete.
    pub percent_complete: Option<f64>,
    /// Why it failed, when it did ("File not shared.").
    pub exception: Option<String>,
    /// When it was requested (ISO 8601), to pick the latest of several attempts.
    pub requested_at: Option<String>,
    /// Place in the peer's queue.
    pub place_in_queue: Option<i64>,
}

/// `GET /api/v0/transfers/downloads/{username}`: the user's transfers grouped by folder.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserTransfers {
    /// Peer user name.
    pub username: Option<String>,
    /// Transfers by remote folder.
    pub directories: Vec<DirectoryTransfers>,
}

/// One remote folder's transfers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DirectoryTransfers {
    /// Remote folder.
    pub directory: Option<String>,
    /// Its transfers.
    pub files: Vec<Transfer>,
}

/// `GET /api/v0/server`: slskd's connection to the Soulseek server.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerState {
    /// Flags, e.g. "Connected, LoggedIn", "Disconnected".
    pub state: Option<String>,
    /// Connected to the server.
    pub is_connected: Option<bool>,
    /// Logged in.
    pub is_logged_in: Option<bool>,
    /// Between states (reconnecting).
    pub is_transitioning: Option<bool>,
    /// The account slskd uses.
    pub username: Option<String>,
}

impl ServerState {
    /// Logged in, from the boolean when present, else from the state flags.
    pub fn logged_in(&self) -> bool {
        self.is_logged_in.unwrap_or_else(|| {
            self.state
                .as_deref()
                .is_some_and(|s| has_flag(s, "LoggedIn"))
        })
    }
}

/// Whether a slskd flag string ("Completed, Succeeded") carries `flag`.
pub fn has_flag(state: &str, flag: &str) -> bool {
    state
        .split(',')
        .map(str::trim)
        .any(|f| f.eq_ignore_ascii_case(flag))
}
