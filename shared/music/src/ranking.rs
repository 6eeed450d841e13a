//! Ranking of acquisition candidates (the quality assessor's first half): every place a
//! copy of a wanted track can be had is filtered by **required** conditions and ordered by
//! **preferred** ones, with a breakdown a person can read ("format FLAC +30, duration 1 s
//! off +15, peer queue 50 −8").
//!
//! Why a separate step from [`crate::matching`]: matching decides whether a platform record
//! *is* the wanted recording; ranking decides which *file* to fetch, which adds audio
//! quality, the Soulseek peer's state, the source's trust and the peer's history. Title,
//! artist and mix agreement come from [`crate::matching::score`] (never a second matcher);
//! quality comes from [`crate::quality`].
//!
//! Decisions (documented so they can be argued with):
//! - **Unknown is not bad.** A property a source did not announce (the stock Soulseek client
//!   shares no bitrate; stores rarely give a duration) scores 0 points with detail
//!   "unknown", and every preferred factor is signed around a neutral point so that 0 sits
//!   between good and bad: a 320 kbps file scores above an unknown bitrate, a 128 kbps file
//!   below it. An unknown property also **passes** a required condition unless that
//!   condition is listed in [`RequiredConditions::unknown_fails`].
//! - **Mix.** The music crate reads "no mix" as the original version, so a candidate naming
//!   another mix than the wanted one is a known mismatch. When the wanted track names a mix
//!   ("Extended Mix") and the file names none, the mix is *unknown* (file names often drop
//!   it): the duration check is what tells an Extended from a Radio Edit then.
//! - **Duration.** Required within [`RequiredConditions::max_duration_diff_s`] (5 s by
//!   default: Soulseek announces whole seconds and encoders pad, while an Extended and a
//!   Radio Edit differ by minutes) of the canonical duration. Without a canonical duration
//!   the condition cannot be checked and is skipped for everyone.
//! - **Soulseek file names.** A peer's file name ("01 - Demdike Stare - Black Sun.mp3") is
//!   read without its extension and leading track number; when the source gave no artist,
//!   the readings "Artist - Title" (first and last " - " segment) are tried too and the one
//!   that agrees best with the wanted track is kept; an artist named by a folder of the
//!   peer's path ("Music\Demdike Stare\Triptych\…") counts as the file's artist.
//! - **Formats.** By default only formats DJ players (CDJ/XDJ, Rekordbox) play are allowed:
//!   FLAC, ALAC, WAV, AIFF, MP3, AAC. A file that is clearly not audio (`folder.jpg`,
//!   `.cue`, `.nfo`) is always rejected.
//! - **Buy and listen options** (`Availability::Purchase`/`Stream`, or a download without a
//!   reference) are ranked like the rest, carry an `availability` factor saying so and a
//!   configurable penalty, and are never chosen by [`AutoApprovePolicy`].
//! - **Peer reputation** is a Laplace-smoothed success rate where a fake weighs as ten
//!   failures (see [`PeerReputation::success_rate`]); no history is exactly neutral.

use crate::matching::{MatchScore, MatchWeights, Thresholds, score};
use crate::normalize::{mix_key, normalize_text, parse_artists, parse_title};
use crate::quality::{AudioFormat, AudioQuality, QualityTarget};
use cratedigger_domain::acquisition::{
    Availability, DownloadRef, RankedCandidate, ScoreFactor, SourceCandidate,
};
use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack, WantedTrack};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// Factor names used in [`ScoreFactor::factor`], public so the API, the CLI and
/// [`AutoApprovePolicy`] refer to them without repeating strings.
pub mod factor {
    /// Title agreement (music crate).
    pub const TITLE: &str = "title";
    /// Artist agreement (music crate).
    pub const ARTIST: &str = "artist";
    /// Mix agreement (music crate).
    pub const MIX: &str = "mix";
    /// Closeness to the canonical duration.
    pub const DURATION: &str = "duration";
    /// Lossless or lossy.
    pub const FORMAT: &str = "format";
    /// MP3-equivalent bitrate (lossless counts as the best).
    pub const BITRATE: &str = "bitrate";
    /// Sample rate and bit depth.
    pub const RESOLUTION: &str = "resolution";
    /// Soulseek peer has a free upload slot.
    pub const PEER_SLOT: &str = "peer_slot";
    /// Soulseek peer's upload queue length.
    pub const PEER_QUEUE: &str = "peer_queue";
    /// Soulseek peer's announced upload speed.
    pub const PEER_SPEED: &str = "peer_speed";
    /// The peer's history with us (completed, failures, stalls, fakes).
    pub const PEER_REPUTATION: &str = "peer_reputation";
    /// How much the source is trusted.
    pub const TRUST: &str = "trust";
    /// Whether the fleet can fetch it (download) or only show it (buy / listen).
    pub const AVAILABILITY: &str = "availability";
}

/// Longest Soulseek path we read for folder names; longer paths are cut (untrusted input).
const MAX_PATH_CHARS: usize = 1024;
/// Extensions that are certainly not audio; such files are always rejected.
const NON_AUDIO_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "txt", "nfo", "log", "cue", "m3u",
    "m3u8", "pls", "pdf", "sfv", "md5", "ffp", "accurip", "db", "ini", "url", "htm", "html", "lrc",
    "xml", "json", "zip", "rar", "7z", "par2", "torrent", "exe",
];
/// Weight of one fake in the reputation's denominator: a fake costs as much as ten failures.
pub const FAKE_WEIGHT: f64 = 10.0;

// ------------------------------------------------------------------------------------------
// Policy

/// A required condition that can be told to fail on an unknown property, named in config
/// (`unknown_fails = ["duration", "min_quality"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// [`RequiredConditions::min_quality`].
    MinQuality,
    /// [`RequiredConditions::formats`].
    Formats,
    /// [`RequiredConditions::max_duration_diff_s`].
    Duration,
    /// [`RequiredConditions::min_title_match`].
    Title,
    /// [`RequiredConditions::min_artist_match`].
    Artist,
    /// [`RequiredConditions::mix_must_match`].
    Mix,
    /// [`RequiredConditions::max_peer_queue`].
    PeerQueue,
}

impl Condition {
    /// Every condition, for messages.
    pub const ALL: [Condition; 7] = [
        Condition::MinQuality,
        Condition::Formats,
        Condition::Duration,
        Condition::Title,
        Condition::Artist,
        Condition::Mix,
        Condition::PeerQueue,
    ];

    /// Config name.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::MinQuality => "min_quality",
            Condition::Formats => "formats",
            Condition::Duration => "duration",
            Condition::Title => "title",
            Condition::Artist => "artist",
            Condition::Mix => "mix",
            Condition::PeerQueue => "peer_queue",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Condition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Condition::ALL
            .into_iter()
            .find(|c| c.as_str() == t)
            .ok_or_else(|| {
                format!(
                    "unknown ranking condition '{}' (expected one of: {})",
                    s.chars().take(64).collect::<String>(),
                    Condition::ALL.map(Condition::as_str).join(", ")
                )
            })
    }
}

/// Conditions a candidate must meet to be offered at all; a failure puts it at the end of
/// the ranking with `rejected` saying which condition and why. Missing fields take the
/// defaults (config: `CRATEDIGGER__ACQUISITION__RANKING__REQUIRED__*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequiredConditions {
    /// Lowest acceptable quality: `"lossless"`, `"mp3 320"`, `"256"`, `"any"` (or the tagged
    /// form). Default `mp3 192`: below that nothing is worth playing out.
    #[serde(
        deserialize_with = "de_quality_target",
        serialize_with = "ser_quality_target"
    )]
    pub min_quality: QualityTarget,
    /// Allowed formats (a list, or one comma-separated string from the environment); empty
    /// allows every format. Default: what DJ players read (flac, alac, wav, aiff, mp3, aac).
    #[serde(deserialize_with = "de_formats", serialize_with = "ser_formats")]
    pub formats: Vec<AudioFormat>,
    /// Largest difference from the canonical duration, in seconds; `None` turns it off.
    pub max_duration_diff_s: Option<f32>,
    /// Lowest title agreement (0..1, from the music crate); 0 turns it off.
    pub min_title_match: f32,
    /// Lowest artist agreement (0..1, from the music crate); 0 turns it off.
    pub min_artist_match: f32,
    /// Reject a candidate naming another mix than the wanted one.
    pub mix_must_match: bool,
    /// Longest acceptable Soulseek upload queue; `None` turns it off.
    pub max_peer_queue: Option<u32>,
    /// Conditions for which an unknown property fails instead of passing (a list or one
    /// comma-separated string). Default empty: unknown is not bad.
    #[serde(deserialize_with = "de_conditions")]
    pub unknown_fails: Vec<Condition>,
}

impl Default for RequiredConditions {
    fn default() -> Self {
        Self {
            min_quality: QualityTarget::MinKbps { kbps: 192 },
            formats: vec![
                AudioFormat::Flac,
                AudioFormat::Alac,
                AudioFormat::Wav,
                AudioFormat::Aiff,
                AudioFormat::Mp3,
                AudioFormat::Aac,
            ],
            max_duration_diff_s: Some(5.0),
            min_title_match: 0.8,
            min_artist_match: 0.6,
            mix_must_match: true,
            max_peer_queue: None,
            unknown_fails: Vec::new(),
        }
    }
}

impl RequiredConditions {
    fn unknown_fails(&self, c: Condition) -> bool {
        self.unknown_fails.contains(&c)
    }
}

/// Points each preferred condition can add (or, when known to be bad, take away), and the
/// neutral points of the graded ones. Missing fields take the defaults (config:
/// `CRATEDIGGER__ACQUISITION__RANKING__PREFERRED__*`). Negative or non-finite weights count 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PreferredConditions {
    /// Title agreement: +w at 1.0, 0 at 0.5, −w at 0.
    pub title: f32,
    /// Artist agreement, same scale.
    pub artist: f32,
    /// Same mix +w, other mix −w, unknown 0.
    pub mix: f32,
    /// Duration: +w within 1 s, 0 at `duration_neutral_s`, −w at twice that.
    pub duration: f32,
    /// Seconds off the canonical duration that score 0.
    pub duration_neutral_s: f32,
    /// A lossless format.
    pub lossless: f32,
    /// Bitrate: +w at 320 kbps MP3-equivalent (and for lossless), 0 at
    /// `bitrate_neutral_kbps`, −w as far below.
    pub bitrate: f32,
    /// MP3-equivalent bitrate that scores 0.
    pub bitrate_neutral_kbps: u32,
    /// Sample rate / bit depth: below 44.1 kHz or 16 bit −w; 24 bit +w/2; 88.2-96 kHz +w/2;
    /// above 96 kHz −w/2 (older CDJs stop at 96 kHz, and the files are huge).
    pub resolution: f32,
    /// Soulseek peer with a free upload slot +w, without −w.
    pub peer_slot: f32,
    /// Upload queue: +w empty, 0 at `peer_queue_neutral`, −w at twice that.
    pub peer_queue: f32,
    /// Queue length that scores 0.
    pub peer_queue_neutral: u32,
    /// Upload speed: +w at 10x `peer_speed_neutral_bps`, −w at a tenth (log scale).
    pub peer_speed: f32,
    /// Speed in bytes/s that scores 0.
    pub peer_speed_neutral_bps: u64,
    /// Peer reputation: +w for a perfect record, 0 without history, −w for a bad one.
    pub peer_reputation: f32,
    /// Source trust (0..1 from the context): +w at 1, 0 at 0.5, −w at 0.
    pub trust: f32,
    /// Points taken from candidates the fleet cannot fetch (buy / listen options), so a
    /// file wins at equal merit.
    pub not_downloadable: f32,
}

impl Default for PreferredConditions {
    fn default() -> Self {
        Self {
            title: 20.0,
            artist: 15.0,
            mix: 20.0,
            duration: 15.0,
            duration_neutral_s: 10.0,
            lossless: 30.0,
            bitrate: 20.0,
            bitrate_neutral_kbps: 192,
            resolution: 5.0,
            peer_slot: 8.0,
            peer_queue: 8.0,
            peer_queue_neutral: 25,
            peer_speed: 6.0,
            peer_speed_neutral_bps: 100_000,
            peer_reputation: 15.0,
            trust: 10.0,
            not_downloadable: 10.0,
        }
    }
}

/// How candidates are filtered and ordered; loaded by the lead from
/// `CRATEDIGGER__ACQUISITION__RANKING__*`. Defaults suit DJs: 192 kbps or better in a format
/// DJ players read, within 5 s of the canonical duration, the right mix.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RankingPolicy {
    /// Filters.
    pub required: RequiredConditions,
    /// Ordering.
    pub preferred: PreferredConditions,
}

/// What the fleet knows about one Soulseek peer from past transfers (kept in Postgres by
/// the lead), so a peer that stalls or serves fake FLACs sinks in the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerReputation {
    /// Transfers that completed and verified.
    pub completed: u32,
    /// Transfers that failed (refused, errored, corrupt file).
    pub failures: u32,
    /// Transfers that stalled past the timeout.
    pub stalls: u32,
    /// Files that verified as fakes (a transcode sold as lossless, a wrong track).
    pub fakes: u32,
}

impl PeerReputation {
    /// Laplace-smoothed success rate in (0, 1):
    /// `(completed + 1) / (completed + failures + stalls + 10·fakes + 2)`.
    ///
    /// Why: with no history it is exactly 0.5 (neutral: a new peer is unknown, not bad); a
    /// few transfers move it only a little, many move it a lot; a fake counts as ten failures
    /// because a fake FLAC that slips through costs the DJ far more than a stall.
    pub fn success_rate(&self) -> f64 {
        let good = f64::from(self.completed);
        let bad =
            f64::from(self.failures) + f64::from(self.stalls) + FAKE_WEIGHT * f64::from(self.fakes);
        (good + 1.0) / (good + bad + 2.0)
    }

    /// True when nothing is recorded for the peer.
    pub fn is_empty(&self) -> bool {
        self.completed == 0 && self.failures == 0 && self.stalls == 0 && self.fakes == 0
    }
}

/// What the ranking needs beyond the candidates, loaded by the lead: how much each source
/// is trusted and what each peer did before.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RankingContext {
    /// Trust 0..=1 by source id ("soulseek", "bandcamp"); a missing source is unknown.
    pub source_trust: HashMap<String, f32>,
    /// Reputation by Soulseek user name (exact, Soulseek names are case-sensitive).
    pub peers: HashMap<String, PeerReputation>,
}

// ------------------------------------------------------------------------------------------
// Serde helpers: config text for quality targets, formats and condition lists.

fn ser_quality_target<S: Serializer>(t: &QualityTarget, s: S) -> Result<S::Ok, S::Error> {
    match t {
        QualityTarget::Lossless => s.serialize_str("lossless"),
        QualityTarget::Any => s.serialize_str("any"),
        QualityTarget::MinKbps { kbps } => s.serialize_str(&kbps.to_string()),
    }
}

fn de_quality_target<'de, D: Deserializer<'de>>(d: D) -> Result<QualityTarget, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(u32),
        Text(String),
        Tagged(QualityTarget),
    }
    match Repr::deserialize(d)? {
        Repr::Number(n) => n.to_string().parse().map_err(serde::de::Error::custom),
        Repr::Text(t) => t.parse().map_err(serde::de::Error::custom),
        Repr::Tagged(t) => Ok(t),
    }
}

/// A list, or one comma-separated string (what a `CRATEDIGGER__…` variable gives).
#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrText {
    List(Vec<String>),
    Text(String),
}

impl ListOrText {
    fn items(self) -> Vec<String> {
        match self {
            ListOrText::List(v) => v,
            ListOrText::Text(t) => t.split(',').map(str::to_string).collect(),
        }
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .take(64)
        .collect()
    }
}

fn ser_formats<S: Serializer>(f: &[AudioFormat], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(f.iter().map(|f| f.as_str()))
}

fn de_formats<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<AudioFormat>, D::Error> {
    let mut out: Vec<AudioFormat> = Vec::new();
    for s in ListOrText::deserialize(d)?.items() {
        let f: AudioFormat = s.parse().map_err(serde::de::Error::custom)?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

fn de_conditions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Condition>, D::Error> {
    let mut out: Vec<Condition> = Vec::new();
    for s in ListOrText::deserialize(d)?.items() {
        let c: Condition = s.parse().map_err(serde::de::Error::custom)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// Reading what a candidate announces

/// What a candidate's format announcement (or file extension) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatGuess {
    /// An audio format we know.
    Audio(AudioFormat),
    /// Certainly not audio (cover art, cue sheet, log): the extension.
    NotAudio(String),
    /// Not announced, or not recognised.
    Unknown,
}

/// The last path component of a peer path (Soulseek uses `\`, some peers `/`).
fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Lower-case extension of a file name when it looks like one (1-5 ASCII alphanumerics).
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.trim().is_empty()
        || ext.is_empty()
        || ext.len() > 5
        || !ext.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

fn guess_from_token(t: &str) -> FormatGuess {
    let t = t.trim().trim_start_matches('.').to_ascii_lowercase();
    if t.is_empty() {
        return FormatGuess::Unknown;
    }
    if let Ok(f) = t.parse::<AudioFormat>() {
        return FormatGuess::Audio(f);
    }
    if NON_AUDIO_EXTENSIONS.contains(&t.as_str()) {
        return FormatGuess::NotAudio(t);
    }
    FormatGuess::Unknown
}

/// The candidate's format: the announced one, else the extension of its Soulseek file name
/// or of its title. An `m4a` announced with a bit depth and no bitrate is read as ALAC
/// (slskd reports a bit depth only for lossless files).
pub fn candidate_format(c: &SourceCandidate) -> FormatGuess {
    let mut guess = c
        .format
        .as_deref()
        .map(guess_from_token)
        .unwrap_or(FormatGuess::Unknown);
    if guess == FormatGuess::Unknown {
        let from_path = match &c.download {
            Some(DownloadRef::Soulseek { filename, .. }) => extension(file_name(filename)),
            _ => None,
        };
        if let Some(e) = from_path.or_else(|| extension(&c.title)) {
            guess = guess_from_token(&e);
        }
    }
    if guess == FormatGuess::Audio(AudioFormat::Aac)
        && c.bit_depth.is_some()
        && c.bitrate_kbps.is_none()
    {
        guess = FormatGuess::Audio(AudioFormat::Alac);
    }
    guess
}

/// The candidate's announced quality, when its format is a known audio format.
pub fn candidate_quality(c: &SourceCandidate) -> Option<AudioQuality> {
    match candidate_format(c) {
        FormatGuess::Audio(format) => Some(AudioQuality {
            format,
            bitrate_kbps: c.bitrate_kbps.filter(|b| *b > 0),
            sample_rate_hz: c.sample_rate_hz.filter(|r| *r > 0),
            bit_depth: c.bit_depth.filter(|d| *d > 0),
        }),
        _ => None,
    }
}

fn peer_name(c: &SourceCandidate) -> Option<&str> {
    match &c.download {
        Some(DownloadRef::Soulseek { username, .. }) => Some(username.as_str()),
        _ => c.peer.as_ref().map(|p| p.username.as_str()),
    }
}

fn is_peer_source(c: &SourceCandidate) -> bool {
    c.peer.is_some()
        || matches!(c.download, Some(DownloadRef::Soulseek { .. }))
        || c.source == "soulseek"
}

/// Strips a leading track number ("01 ", "1-01 ", "07. ", "101 - ", "A1 ", "03_") unless the
/// wanted title itself starts with that number ("99 Luftballons", "808 State").
fn strip_track_number<'a>(s: &'a str, wanted_norm_title: &str) -> &'a str {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut i = 0;
    if b.len() > 1 && matches!(b[0], b'A'..=b'D' | b'a'..=b'd') && b[1].is_ascii_digit() {
        i = 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() && i - digits_start < 3 {
        i += 1;
    }
    if i == digits_start {
        return s;
    }
    // Disc-track forms "1-01", "2.03".
    if i + 1 < b.len() && matches!(b[i], b'-' | b'.') && b[i + 1].is_ascii_digit() {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() && j - i <= 3 {
            j += 1;
        }
        if j < b.len() && matches!(b[j], b' ' | b'.' | b'_' | b'-') {
            i = j;
        }
    }
    let number = &t[..i];
    let rest = &t[i..];
    if !rest.starts_with([' ', '.', '_', '-', ')']) {
        return s; // "808State", "1989"
    }
    let rest = rest.trim_start_matches([' ', '.', '_', '-', ')']);
    if rest.is_empty() {
        return s;
    }
    let lead = number.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let lead_norm = normalize_text(lead);
    if !lead_norm.is_empty()
        && (wanted_norm_title == lead_norm
            || wanted_norm_title.starts_with(&format!("{lead_norm} ")))
    {
        return s;
    }
    rest
}

/// A title without its audio (or non-audio) extension.
fn strip_extension(s: &str) -> &str {
    match extension(s) {
        Some(e) if guess_from_token(&e) != FormatGuess::Unknown => {
            s.get(..s.len() - e.len() - 1).unwrap_or(s)
        }
        _ => s,
    }
}

/// Folder part of a Soulseek path (everything before the last separator), bounded.
fn folder_part(path: &str) -> &str {
    let cut = path.rfind(['\\', '/']).unwrap_or(0);
    let folders = &path[..cut];
    // Keep the last MAX_PATH_CHARS characters: the artist folder is near the file.
    match folders.char_indices().rev().nth(MAX_PATH_CHARS) {
        Some((i, _)) => &folders[i..],
        None => folders,
    }
}

// ------------------------------------------------------------------------------------------
// Matching (via the music crate)

#[derive(Debug, Clone)]
enum MixOutcome {
    Same(String),
    Different(String),
    Unknown(String),
}

#[derive(Debug, Clone)]
struct MatchPart {
    title: Option<(f32, String)>,
    artist: Option<(f32, String)>,
    mix: MixOutcome,
}

/// What rank() computes once per call about the wanted track.
struct Wanted<'a> {
    /// The wanted track as the matcher sees it (no duration).
    track: WantedTrack,
    /// Canonical duration, for the duration factor and condition.
    canonical_ms: Option<u32>,
    norm_title: String,
    mix_key: String,
    main_artists: Vec<String>,
    weights: &'a MatchWeights,
    thresholds: &'a Thresholds,
}

fn evidence(s: &MatchScore, field: &str) -> Option<(f32, String)> {
    s.breakdown
        .iter()
        .find(|e| e.field == field)
        .map(|e| (e.score, e.note.clone()))
}

/// Words that mean "the original version" in a title, which `parse_title` folds into "no mix".
fn names_original(norm_title: &str) -> bool {
    let padded = format!(" {norm_title} ");
    [" original ", " album version ", " main mix "]
        .iter()
        .any(|w| padded.contains(w))
}

fn match_reading(w: &Wanted, artist: Option<&str>, title: &str) -> (MatchScore, MatchPart) {
    let cand = PlatformTrack {
        platform: "source".into(),
        title: title.to_string(),
        artists: artist
            .map(|a| {
                vec![ArtistCredit {
                    name: a.to_string(),
                    role: ArtistRole::Main,
                }]
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    let s = score(&w.track, &cand, w.weights, w.thresholds);
    let mix = match evidence(&s, "mix") {
        Some((v, note)) if v >= 0.5 => MixOutcome::Same(note),
        Some((_, note)) => {
            let cand_key = mix_key(parse_title(title).mix.as_deref());
            if cand_key.is_empty()
                && !w.mix_key.is_empty()
                && !names_original(&normalize_text(title))
            {
                MixOutcome::Unknown(format!(
                    "unknown: the file names no mix (wanted '{}')",
                    w.mix_key
                ))
            } else {
                MixOutcome::Different(note)
            }
        }
        None => MixOutcome::Unknown("unknown".into()),
    };
    let part = MatchPart {
        title: evidence(&s, "title"),
        artist: evidence(&s, "artist"),
        mix,
    };
    (s, part)
}

/// Scores the candidate's title (and artist) against the wanted track, trying the readings
/// described in the module doc and keeping the one that agrees best on title + artist.
fn match_candidate(w: &Wanted, title: &str, artist: Option<&str>, path_artist: bool) -> MatchPart {
    let base = strip_track_number(strip_extension(title.trim()), &w.norm_title).trim();
    let mut readings: Vec<(Option<String>, String, &'static str)> = Vec::with_capacity(3);
    let path_artist_name = path_artist.then(|| w.track.artist.clone());
    readings.push((
        artist.map(str::to_string).or(path_artist_name.clone()),
        base.to_string(),
        if artist.is_none() && path_artist {
            " (artist from the peer's folder names)"
        } else {
            ""
        },
    ));
    if artist.is_none() {
        let segments: Vec<&str> = base.split(" - ").map(str::trim).collect();
        if segments.len() >= 2 && !segments[0].is_empty() {
            let rest = base
                .split_once(" - ")
                .map(|(_, r)| r.trim())
                .unwrap_or_default();
            let rest = strip_track_number(rest, &w.norm_title);
            if !rest.is_empty() {
                readings.push((
                    Some(segments[0].to_string()),
                    rest.to_string(),
                    " (read as 'Artist - Title')",
                ));
            }
            if segments.len() >= 3 {
                let last = strip_track_number(segments[segments.len() - 1], &w.norm_title);
                if !last.is_empty() {
                    readings.push((
                        Some(segments[0].to_string()),
                        last.to_string(),
                        " (read as 'Artist - … - Title')",
                    ));
                }
            }
        }
    }
    let mut best: Option<(f32, MatchPart)> = None;
    for (a, t, note) in &readings {
        let (_, mut part) = match_reading(w, a.as_deref(), t);
        let agreement =
            part.title.as_ref().map_or(0.5, |x| x.0) + part.artist.as_ref().map_or(0.5, |x| x.0);
        if !note.is_empty()
            && let Some((_, n)) = part.artist.as_mut()
        {
            n.push_str(note);
        }
        if best.as_ref().is_none_or(|(b, _)| agreement > *b) {
            best = Some((agreement, part));
        }
    }
    best.map(|(_, p)| p).unwrap_or(MatchPart {
        title: None,
        artist: None,
        mix: MixOutcome::Unknown("unknown".into()),
    })
}

/// True when every main artist of the wanted track appears, as whole words, among the
/// folder names of the peer's path or the release name.
fn artist_in_folders(w: &Wanted, c: &SourceCandidate) -> bool {
    if w.main_artists.is_empty() {
        return false;
    }
    let mut hay = String::from(" ");
    if let Some(DownloadRef::Soulseek { filename, .. }) = &c.download {
        hay.push_str(&normalize_text(folder_part(filename)));
        hay.push(' ');
    }
    if let Some(r) = &c.release {
        hay.push_str(&normalize_text(r));
        hay.push(' ');
    }
    hay.len() > 2
        && w.main_artists
            .iter()
            .all(|a| !a.is_empty() && hay.contains(&format!(" {a} ")))
}

// ------------------------------------------------------------------------------------------
// Scoring

fn clean_weight(w: f32) -> f32 {
    if w.is_finite() && w > 0.0 { w } else { 0.0 }
}

/// Points rounded to hundredths so the breakdown reads cleanly and sums exactly as shown.
fn pts(w: f32, f: f32) -> f32 {
    let v = clean_weight(w) * f.clamp(-1.0, 1.0);
    let r = (v * 100.0).round() / 100.0;
    if r == 0.0 { 0.0 } else { r } // no "-0"
}

fn mmss(ms: u32) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

struct Scored {
    factors: Vec<ScoreFactor>,
    rejected: Vec<String>,
}

impl Scored {
    fn add(&mut self, factor: &str, points: f32, detail: impl Into<String>) {
        self.factors.push(ScoreFactor {
            factor: factor.to_string(),
            points,
            detail: detail.into(),
        });
    }
}

fn check_unknown(
    req: &RequiredConditions,
    cond: Condition,
    what: &str,
    rejected: &mut Vec<String>,
) {
    if req.unknown_fails(cond) {
        rejected.push(format!(
            "{what} unknown (policy: unknown fails '{}')",
            cond.as_str()
        ));
    }
}

/// Whether `q` meets `target`: `None` when it cannot be told (format unknown, or a lossy
/// file without a bitrate against a bitrate target).
fn meets_quality(target: &QualityTarget, q: Option<&AudioQuality>) -> Option<bool> {
    match (target, q) {
        (QualityTarget::Any, _) => Some(true),
        (_, None) => None,
        (t, Some(q)) if q.format.is_lossless() || q.bitrate_kbps.is_some() => Some(t.is_met_by(q)),
        // Lossy with an unknown bitrate is known not to be lossless.
        (QualityTarget::Lossless, Some(_)) => Some(false),
        (QualityTarget::MinKbps { .. }, Some(_)) => None,
    }
}

fn score_candidate(
    w: &Wanted,
    c: &SourceCandidate,
    m: &MatchPart,
    ctx: &RankingContext,
    policy: &RankingPolicy,
) -> Scored {
    let req = &policy.required;
    let p = &policy.preferred;
    let mut out = Scored {
        factors: Vec::with_capacity(13),
        rejected: Vec::new(),
    };

    // --- Title, artist, mix (music crate evidence).
    match &m.title {
        Some((s, note)) => {
            out.add(
                factor::TITLE,
                pts(p.title, 2.0 * s - 1.0),
                format!("{s:.2}: {note}"),
            );
            let min = req.min_title_match;
            if min.is_finite() && min > 0.0 && *s < min {
                out.rejected
                    .push(format!("title agreement {s:.2} below {min:.2} ({note})"));
            }
        }
        None => {
            out.add(factor::TITLE, 0.0, "unknown");
            check_unknown(req, Condition::Title, "title", &mut out.rejected);
        }
    }
    match &m.artist {
        Some((s, note)) => {
            out.add(
                factor::ARTIST,
                pts(p.artist, 2.0 * s - 1.0),
                format!("{s:.2}: {note}"),
            );
            let min = req.min_artist_match;
            if min.is_finite() && min > 0.0 && *s < min {
                out.rejected
                    .push(format!("artist agreement {s:.2} below {min:.2} ({note})"));
            }
        }
        None => {
            out.add(factor::ARTIST, 0.0, "unknown");
            check_unknown(req, Condition::Artist, "artist", &mut out.rejected);
        }
    }
    match &m.mix {
        MixOutcome::Same(note) => out.add(factor::MIX, pts(p.mix, 1.0), note.clone()),
        MixOutcome::Different(note) => {
            out.add(factor::MIX, pts(p.mix, -1.0), note.clone());
            if req.mix_must_match {
                out.rejected.push(note.clone());
            }
        }
        MixOutcome::Unknown(note) => {
            out.add(factor::MIX, 0.0, note.clone());
            if req.mix_must_match {
                check_unknown(req, Condition::Mix, "mix", &mut out.rejected);
            }
        }
    }

    // --- Duration against the canonical one.
    let canonical = w.canonical_ms;
    let announced = c.duration_ms.filter(|d| *d > 0);
    match (canonical, announced) {
        (Some(a), Some(b)) => {
            let d = a.abs_diff(b) as f32 / 1000.0;
            let neutral = if p.duration_neutral_s.is_finite() {
                p.duration_neutral_s.max(1.5)
            } else {
                10.0
            };
            let f = if d <= 1.0 {
                1.0
            } else {
                1.0 - (d - 1.0) / (neutral - 1.0)
            };
            out.add(
                factor::DURATION,
                pts(p.duration, f),
                format!("{} vs canonical {} ({d:.0} s off)", mmss(b), mmss(a)),
            );
            if let Some(max) = req
                .max_duration_diff_s
                .filter(|m| m.is_finite() && *m >= 0.0)
                && d > max
            {
                out.rejected.push(format!(
                    "duration {} is {d:.0} s off the canonical {} (limit {max} s)",
                    mmss(b),
                    mmss(a)
                ));
            }
        }
        (None, _) => out.add(factor::DURATION, 0.0, "unknown: no canonical duration"),
        (Some(_), None) => {
            out.add(factor::DURATION, 0.0, "unknown");
            if req.max_duration_diff_s.is_some() {
                check_unknown(req, Condition::Duration, "duration", &mut out.rejected);
            }
        }
    }

    // --- Format, bitrate, resolution.
    let format = candidate_format(c);
    let quality = candidate_quality(c);
    match &format {
        FormatGuess::Audio(f) if f.is_lossless() => out.add(
            factor::FORMAT,
            pts(p.lossless, 1.0),
            format!("{} (lossless)", f.as_str().to_ascii_uppercase()),
        ),
        FormatGuess::Audio(f) => out.add(
            factor::FORMAT,
            0.0,
            format!("{} (lossy)", f.as_str().to_ascii_uppercase()),
        ),
        FormatGuess::NotAudio(e) => {
            out.add(factor::FORMAT, 0.0, format!("not audio (.{e})"));
            out.rejected.push(format!("not an audio file (.{e})"));
        }
        FormatGuess::Unknown => out.add(factor::FORMAT, 0.0, "unknown"),
    }
    match &format {
        FormatGuess::Audio(f) if !req.formats.is_empty() && !req.formats.contains(f) => {
            out.rejected.push(format!(
                "format {} not allowed (allowed: {})",
                f.as_str(),
                req.formats
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        FormatGuess::Unknown if !req.formats.is_empty() => {
            check_unknown(req, Condition::Formats, "format", &mut out.rejected)
        }
        _ => {}
    }
    match &quality {
        Some(q) if q.format.is_lossless() => {
            out.add(factor::BITRATE, pts(p.bitrate, 1.0), "lossless");
        }
        Some(q) => match q.mp3_equivalent_kbps() {
            Some(eq) => {
                let neutral = p.bitrate_neutral_kbps.min(319) as f32;
                let f = (eq as f32 - neutral) / (320.0 - neutral);
                let detail = if q.format == AudioFormat::Mp3 {
                    format!("{eq} kbps")
                } else {
                    format!(
                        "{} kbps {} (≈ {eq} kbps MP3)",
                        q.bitrate_kbps.unwrap_or(0),
                        q.format.as_str().to_ascii_uppercase()
                    )
                };
                out.add(factor::BITRATE, pts(p.bitrate, f), detail);
            }
            None => out.add(factor::BITRATE, 0.0, "unknown"),
        },
        None => out.add(factor::BITRATE, 0.0, "unknown"),
    }
    // Required minimum quality: unknown format, or lossy with unknown bitrate, is unknown.
    if !matches!(format, FormatGuess::NotAudio(_)) {
        match meets_quality(&req.min_quality, quality.as_ref()) {
            Some(true) => {}
            Some(false) => out.rejected.push(format!(
                "quality {} below the required {}",
                quality.map_or_else(String::new, |q| q.to_string()),
                req.min_quality
            )),
            None => check_unknown(req, Condition::MinQuality, "quality", &mut out.rejected),
        }
    }
    {
        let lossless = quality.as_ref().is_some_and(|q| q.format.is_lossless());
        let sr = quality.as_ref().and_then(|q| q.sample_rate_hz);
        let bd = quality
            .as_ref()
            .and_then(|q| q.bit_depth)
            .filter(|_| lossless);
        let mut f = 0.0f32;
        let mut parts: Vec<String> = Vec::new();
        if let Some(d) = bd {
            f += match d {
                0..=15 => -1.0,
                16 => 0.0,
                17..=24 => 0.5,
                _ => 0.0,
            };
            parts.push(format!("{d}-bit"));
        }
        if let Some(r) = sr {
            f += match r {
                0..=44_099 => -1.0,
                44_100..=48_000 => 0.0,
                48_001..=96_000 if lossless => 0.5,
                48_001..=96_000 => 0.0,
                _ => -0.5,
            };
            parts.push(format!("{:.1} kHz", r as f32 / 1000.0));
        }
        if parts.is_empty() {
            out.add(factor::RESOLUTION, 0.0, "unknown");
        } else {
            out.add(factor::RESOLUTION, pts(p.resolution, f), parts.join(" / "));
        }
    }

    // --- Soulseek peer: slot, queue, speed, reputation.
    if is_peer_source(c) {
        let peer = c.peer.as_ref();
        match peer.and_then(|p| p.has_free_slot) {
            Some(true) => out.add(factor::PEER_SLOT, pts(p.peer_slot, 1.0), "free upload slot"),
            Some(false) => out.add(factor::PEER_SLOT, pts(p.peer_slot, -1.0), "no free slot"),
            None => out.add(factor::PEER_SLOT, 0.0, "unknown"),
        }
        match peer.and_then(|p| p.queue_length) {
            Some(q) => {
                let neutral = p.peer_queue_neutral.max(1) as f32;
                out.add(
                    factor::PEER_QUEUE,
                    pts(p.peer_queue, 1.0 - q as f32 / neutral),
                    format!("queue {q}"),
                );
                if let Some(max) = req.max_peer_queue
                    && q > max
                {
                    out.rejected
                        .push(format!("peer queue {q} longer than the limit {max}"));
                }
            }
            None => {
                out.add(factor::PEER_QUEUE, 0.0, "unknown");
                if req.max_peer_queue.is_some() {
                    check_unknown(req, Condition::PeerQueue, "peer queue", &mut out.rejected);
                }
            }
        }
        // Soulseek reports 0 when the server never measured an upload: unknown, not slow.
        match peer.and_then(|p| p.upload_speed_bps).filter(|b| *b > 0) {
            Some(b) => {
                let neutral = p.peer_speed_neutral_bps.max(1) as f64;
                let f = (b as f64 / neutral).log10() as f32;
                let detail = if b >= 1_000_000 {
                    format!("{:.1} MB/s", b as f64 / 1e6)
                } else {
                    format!("{:.0} kB/s", b as f64 / 1e3)
                };
                out.add(factor::PEER_SPEED, pts(p.peer_speed, f), detail);
            }
            None => out.add(factor::PEER_SPEED, 0.0, "unknown"),
        }
        match peer_name(c).and_then(|u| ctx.peers.get(u)) {
            Some(r) if !r.is_empty() => {
                let rate = r.success_rate();
                out.add(
                    factor::PEER_REPUTATION,
                    pts(p.peer_reputation, (2.0 * rate - 1.0) as f32),
                    format!(
                        "{} completed, {} failed, {} stalled, {} fake → {rate:.2}",
                        r.completed, r.failures, r.stalls, r.fakes
                    ),
                );
            }
            _ => out.add(factor::PEER_REPUTATION, 0.0, "unknown: no history"),
        }
    }

    // --- Source trust.
    match ctx
        .source_trust
        .get(&c.source)
        .copied()
        .filter(|t| t.is_finite())
    {
        Some(t) => {
            let t = t.clamp(0.0, 1.0);
            out.add(
                factor::TRUST,
                pts(p.trust, 2.0 * t - 1.0),
                format!("{} trusted {t:.2}", c.source),
            );
        }
        None => out.add(factor::TRUST, 0.0, format!("unknown for '{}'", c.source)),
    }

    // --- Availability: buy / listen options are shown, never downloaded.
    if c.is_downloadable() {
        out.add(factor::AVAILABILITY, 0.0, "downloadable");
    } else {
        let detail = match c.availability {
            Availability::Purchase => "purchase only: shown as a buy option, never downloaded",
            Availability::Stream => "stream only: shown as a listen option, never downloaded",
            Availability::Download => "no download reference: cannot be fetched",
        };
        out.add(factor::AVAILABILITY, pts(p.not_downloadable, -1.0), detail);
    }
    out
}

/// Ranks every candidate for one wanted track: best first, rejected ones at the end with
/// `rejected` naming each failed required condition. Pure and deterministic: equal scores
/// are ordered downloadable first, then by source id, source key and input position.
///
/// `target` is the canonical track when research resolved one (its duration drives the
/// duration check), else the wanted line.
pub fn rank(
    target: &WantedTrack,
    candidates: Vec<SourceCandidate>,
    ctx: &RankingContext,
    policy: &RankingPolicy,
) -> Vec<RankedCandidate> {
    let weights = MatchWeights::default();
    let thresholds = Thresholds::default();
    let wanted_title = parse_title(&target.title);
    let w = Wanted {
        // The duration is judged here (a tolerance, not matching's 3-30 s ramp), so the
        // matcher does not see it.
        track: WantedTrack {
            duration_ms: None,
            ..target.clone()
        },
        canonical_ms: target.duration_ms.filter(|d| *d > 0),
        norm_title: normalize_text(&wanted_title.title),
        mix_key: mix_key(
            target
                .mix
                .as_deref()
                .filter(|m| !m.trim().is_empty())
                .or(wanted_title.mix.as_deref()),
        ),
        main_artists: parse_artists(&target.artist).main,
        weights: &weights,
        thresholds: &thresholds,
    };

    // Many peers share the same file name: match each distinct (title, artist, folder hint)
    // once per call.
    let mut cache: HashMap<(String, Option<String>, bool), MatchPart> = HashMap::new();
    let mut rows: Vec<(usize, RankedCandidate)> = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.into_iter().enumerate() {
        let title = if c.title.trim().is_empty() {
            match &c.download {
                Some(DownloadRef::Soulseek { filename, .. }) => file_name(filename).to_string(),
                _ => String::new(),
            }
        } else {
            c.title.clone()
        };
        let artist = c
            .artist
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        let path_artist = artist.is_none() && artist_in_folders(&w, &c);
        let key = (title, artist, path_artist);
        let part = match cache.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = match_candidate(&w, &key.0, key.1.as_deref(), key.2);
                cache.insert(key, p.clone());
                p
            }
        };
        let scored = score_candidate(&w, &c, &part, ctx, policy);
        let total: f32 = scored.factors.iter().map(|f| f.points).sum();
        rows.push((
            i,
            RankedCandidate {
                candidate: c,
                score: if total.is_finite() { total } else { 0.0 },
                factors: scored.factors,
                rejected: (!scored.rejected.is_empty()).then(|| scored.rejected.join("; ")),
            },
        ));
    }
    rows.sort_by(|(ia, a), (ib, b)| {
        a.rejected
            .is_some()
            .cmp(&b.rejected.is_some())
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| {
                b.candidate
                    .is_downloadable()
                    .cmp(&a.candidate.is_downloadable())
            })
            .then_with(|| a.candidate.source.cmp(&b.candidate.source))
            .then_with(|| a.candidate.source_key.cmp(&b.candidate.source_key))
            .then_with(|| ia.cmp(ib))
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

// ------------------------------------------------------------------------------------------
// Auto-approval

/// When the fleet may approve a candidate without asking (config:
/// `CRATEDIGGER__ACQUISITION__AUTO_APPROVE__*`). Off by default: a person approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoApprovePolicy {
    /// Master switch.
    pub enabled: bool,
    /// Approve only lossless files.
    pub lossless_only: bool,
    /// Lowest score of the approved candidate.
    pub min_score: f32,
    /// Points the candidate must lead the best *other version* by (see
    /// [`AutoApprovePolicy::decide`]); guards against two plausible versions scoring alike.
    pub min_margin: f32,
    /// Approve only when the candidate's duration was checked against the canonical one and
    /// found close (the safeguard against Radio Edit for Extended Mix).
    pub require_duration: bool,
}

impl Default for AutoApprovePolicy {
    fn default() -> Self {
        Self {
            enabled: false,
            lossless_only: true,
            min_score: 100.0,
            min_margin: 10.0,
            require_duration: true,
        }
    }
}

/// The candidate to approve and why, for the item's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoApproval {
    /// Index into the ranked slice.
    pub index: usize,
    /// Sentence for a person.
    pub reason: String,
}

/// Points of one factor (0 when absent).
fn factor_points(r: &RankedCandidate, name: &str) -> f32 {
    r.factors
        .iter()
        .find(|f| f.factor == name)
        .map_or(0.0, |f| f.points)
}

/// Two candidates are the same version when they agree (within a point) on title, artist,
/// mix and duration: the same file on two peers is not a competing choice.
fn same_version(a: &RankedCandidate, b: &RankedCandidate) -> bool {
    [factor::TITLE, factor::ARTIST, factor::MIX, factor::DURATION]
        .iter()
        .all(|f| (factor_points(a, f) - factor_points(b, f)).abs() <= 1.0)
}

impl AutoApprovePolicy {
    /// Approves the first (best-ranked) candidate that is downloadable and not rejected, if
    /// it passes every rule; otherwise says why a person must decide. The margin is measured
    /// to the best non-rejected candidate of another version (same title, artist, mix and
    /// duration points within 1 = same version); with no other version the margin holds.
    pub fn decide(&self, ranked: &[RankedCandidate]) -> Result<AutoApproval, String> {
        if !self.enabled {
            return Err("auto-approve is off".into());
        }
        let Some((index, best)) = ranked
            .iter()
            .enumerate()
            .find(|(_, r)| r.rejected.is_none() && r.candidate.is_downloadable())
        else {
            return Err("no downloadable candidate passed the required conditions".into());
        };
        let quality = candidate_quality(&best.candidate);
        if self.lossless_only && !quality.is_some_and(|q| q.format.is_lossless()) {
            return Err(format!(
                "best candidate is not known to be lossless ({})",
                quality.map_or("format unknown".to_string(), |q| q.to_string())
            ));
        }
        if !best.score.is_finite() || !self.min_score.is_finite() || best.score < self.min_score {
            return Err(format!(
                "best score {:.1} below the auto-approve minimum {:.1}",
                best.score, self.min_score
            ));
        }
        if self.require_duration && factor_points(best, factor::DURATION) <= 0.0 {
            return Err("duration not confirmed close to the canonical one".into());
        }
        let runner_up = ranked
            .iter()
            .enumerate()
            .filter(|(i, r)| *i != index && r.rejected.is_none() && !same_version(best, r))
            .map(|(_, r)| r.score)
            .fold(None, |acc: Option<f32>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        let margin_text = match runner_up {
            Some(s) => {
                let margin = best.score - s;
                if margin.partial_cmp(&self.min_margin) == Some(Ordering::Less)
                    || margin.is_nan()
                    || self.min_margin.is_nan()
                {
                    return Err(format!(
                        "best leads another version by {margin:.1} points, below the margin {:.1}",
                        self.min_margin
                    ));
                }
                format!("{margin:.1} points ahead of the next other version")
            }
            None => "no other version offered".to_string(),
        };
        let what = quality.map_or("file".to_string(), |q| q.to_string());
        let from = match peer_name(&best.candidate) {
            Some(u) => format!("{} peer '{u}'", best.candidate.source),
            None => best.candidate.source.clone(),
        };
        Ok(AutoApproval {
            index,
            reason: format!(
                "auto-approved {what} from {from}: score {:.1} >= {:.1}, {margin_text}",
                best.score, self.min_score
            ),
        })
    }

    /// [`AutoApprovePolicy::decide`] without the reason for declining.
    pub fn auto_approve(&self, ranked: &[RankedCandidate]) -> Option<AutoApproval> {
        self.decide(ranked).ok()
    }
}

// ------------------------------------------------------------------------------------------
// Folder offers

/// One file of a [`FolderOffer`]: which wanted item it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderFile<K> {
    /// The wanted item.
    pub item: K,
    /// Index of the candidate in that item's ranked list.
    pub index: usize,
    /// The peer's path, verbatim (slskd needs it as sent; never used as a local path).
    pub filename: String,
    /// Size in bytes as announced.
    pub size: u64,
    /// The candidate's score for that item.
    pub score: f32,
}

/// A Soulseek peer folder that holds good candidates for two or more wanted items of one
/// sync, offered as one choice: one peer, one release, consistent quality and tags, one
/// queue (the "album folder" decision of the issue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderOffer<K> {
    /// Peer user name.
    pub username: String,
    /// The folder as the peer wrote it (disc folders such as `CD 1` are folded into the
    /// release folder above them). Untrusted: display only.
    pub folder: String,
    /// One file per covered item, in item order.
    pub files: Vec<FolderFile<K>>,
    /// Mean score of the files.
    pub score: f32,
    /// Sum of the files' sizes.
    pub total_bytes: u64,
}

/// "CD 1", "Disc 2", "cd2", "3": a disc subfolder of a release.
fn is_disc_folder(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    let rest = ["disc", "disk", "cd"]
        .iter()
        .find_map(|p| n.strip_prefix(p))
        .unwrap_or(&n)
        .trim_start_matches([' ', '_', '-', '.']);
    (1..=2).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_digit())
}

/// The release folder of a peer path: the parent folder, or the one above a disc folder.
pub fn release_folder(path: &str) -> &str {
    let cut = path.rfind(['\\', '/']).unwrap_or(0);
    let parent = &path[..cut];
    match parent.rfind(['\\', '/']) {
        Some(i) if is_disc_folder(&parent[i + 1..]) => &parent[..i],
        _ => parent,
    }
}

/// One good candidate in a peer folder: (score, item position, candidate index).
type FolderEntry = (f32, usize, usize);

/// Groups the ranked candidates of one sync's items by Soulseek peer folder, and offers each
/// folder that holds a non-rejected, downloadable candidate for two or more distinct items.
/// Each item takes its best candidate in the folder, and one file covers one item (assigned
/// greedily by score). Offers are sorted by items covered, then mean score, then peer and
/// folder. `K` is the item's key (the lead's item id).
pub fn group_folders<K: Clone + Ord>(items: &[(K, Vec<RankedCandidate>)]) -> Vec<FolderOffer<K>> {
    let mut folders: BTreeMap<(&str, &str), Vec<FolderEntry>> = BTreeMap::new();
    let mut first_pos: BTreeMap<&K, usize> = BTreeMap::new();
    for (pos, (key, ranked)) in items.iter().enumerate() {
        // The same key twice is the same item: its first position stands for it.
        let pos = *first_pos.entry(key).or_insert(pos);
        for (ci, r) in ranked.iter().enumerate() {
            if r.rejected.is_some() || !r.candidate.is_downloadable() || !r.score.is_finite() {
                continue;
            }
            if let Some(DownloadRef::Soulseek {
                username, filename, ..
            }) = &r.candidate.download
            {
                let folder = release_folder(filename);
                if username.is_empty() || folder.is_empty() {
                    continue;
                }
                folders
                    .entry((username.as_str(), folder))
                    .or_default()
                    .push((r.score, pos, ci));
            }
        }
    }
    let mut offers: Vec<FolderOffer<K>> = Vec::new();
    for ((username, folder), mut entries) in folders {
        entries.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut used_items: Vec<usize> = Vec::new();
        let mut used_files: Vec<&str> = Vec::new();
        let mut chosen: Vec<(usize, usize, f32)> = Vec::new();
        for (s, pos, ci) in entries {
            let Some(DownloadRef::Soulseek { filename, .. }) = &items[pos].1[ci].candidate.download
            else {
                continue;
            };
            if used_items.contains(&pos) || used_files.contains(&filename.as_str()) {
                continue;
            }
            used_items.push(pos);
            used_files.push(filename);
            chosen.push((pos, ci, s));
        }
        if chosen.len() < 2 {
            continue;
        }
        chosen.sort_by_key(|(pos, _, _)| *pos);
        let files: Vec<FolderFile<K>> = chosen
            .iter()
            .filter_map(
                |(pos, ci, s)| match &items[*pos].1[*ci].candidate.download {
                    Some(DownloadRef::Soulseek { filename, size, .. }) => Some(FolderFile {
                        item: items[*pos].0.clone(),
                        index: *ci,
                        filename: filename.clone(),
                        size: *size,
                        score: *s,
                    }),
                    _ => None,
                },
            )
            .collect();
        let score = files.iter().map(|f| f.score).sum::<f32>() / files.len() as f32;
        let total_bytes = files.iter().map(|f| f.size).fold(0u64, u64::saturating_add);
        offers.push(FolderOffer {
            username: username.to_string(),
            folder: folder.to_string(),
            files,
            score,
            total_bytes,
        });
    }
    offers.sort_by(|a, b| {
        b.files
            .len()
            .cmp(&a.files.len())
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.username.cmp(&b.username))
            .then_with(|| a.folder.cmp(&b.folder))
    });
    offers
}

#[cfg(test)]
mod tests {
    use super::*;
    use cratedigger_domain::acquisition::PeerInfo;
    use proptest::prelude::*;

    fn wanted(artist: &str, title: &str, mix: Option<&str>, secs: Option<u32>) -> WantedTrack {
        WantedTrack {
            artist: artist.into(),
            title: title.into(),
            mix: mix.map(str::to_string),
            duration_ms: secs.map(|s| s * 1000),
            ..Default::default()
        }
    }

    /// A Soulseek candidate the way the slskd mapper builds one: file name as title, the
    /// peer's path in the download reference.
    fn slsk(user: &str, path: &str) -> SourceCandidate {
        SourceCandidate {
            source: "soulseek".into(),
            source_key: format!("{user}\\{path}"),
            title: file_name(path).into(),
            availability: Availability::Download,
            download: Some(DownloadRef::Soulseek {
                username: user.into(),
                filename: path.into(),
                size: 10_000_000,
            }),
            peer: Some(PeerInfo {
                username: user.into(),
                has_free_slot: Some(true),
                queue_length: Some(0),
                upload_speed_bps: Some(500_000),
            }),
            ..Default::default()
        }
    }

    fn with(mut c: SourceCandidate, f: impl FnOnce(&mut SourceCandidate)) -> SourceCandidate {
        f(&mut c);
        c
    }

    fn keys(r: &[RankedCandidate]) -> Vec<&str> {
        r.iter().map(|r| r.candidate.source_key.as_str()).collect()
    }

    fn find<'a>(r: &'a [RankedCandidate], key: &str) -> &'a RankedCandidate {
        r.iter()
            .find(|r| r.candidate.source_key == key)
            .unwrap_or_else(|| panic!("{key} not ranked"))
    }

    fn points(r: &RankedCandidate, f: &str) -> f32 {
        factor_points(r, f)
    }

    fn any_quality() -> RankingPolicy {
        let mut p = RankingPolicy::default();
        p.required.min_quality = QualityTarget::Any;
        p
    }

    fn assert_sums(r: &[RankedCandidate]) {
        for c in r {
            let sum: f32 = c.factors.iter().map(|f| f.points).sum();
            assert_eq!(sum, c.score, "{:#?}", c.factors);
        }
    }

    #[test]
    fn flac_beats_mp3_320_beats_mp3_128() {
        let w = wanted("Bicep", "Glue", None, Some(269));
        let path = |ext: &str| format!("@@x\\Music\\Bicep\\Bicep\\05 Glue.{ext}");
        let cands = vec![
            with(slsk("a", &path("mp3")), |c| {
                c.source_key = "mp3-128".into();
                c.bitrate_kbps = Some(128);
                c.duration_ms = Some(269_000);
            }),
            with(slsk("b", &path("flac")), |c| {
                c.source_key = "flac".into();
                c.bit_depth = Some(16);
                c.sample_rate_hz = Some(44_100);
                c.duration_ms = Some(269_000);
            }),
            with(slsk("c", &path("mp3")), |c| {
                c.source_key = "mp3-320".into();
                c.bitrate_kbps = Some(320);
                c.duration_ms = Some(269_000);
            }),
        ];
        let r = rank(
            &w,
            cands.clone(),
            &RankingContext::default(),
            &any_quality(),
        );
        assert_eq!(keys(&r), ["flac", "mp3-320", "mp3-128"], "{r:#?}");
        assert!(r.iter().all(|c| c.rejected.is_none()));
        assert!(r[0].score > r[1].score && r[1].score > r[2].score);
        assert_sums(&r);
        let flac = &r[0];
        assert!(
            flac.factors
                .iter()
                .any(|f| f.factor == "format" && f.detail == "FLAC (lossless)")
        );
        assert_eq!(points(flac, factor::TITLE), 20.0, "{:#?}", flac.factors);
        assert_eq!(
            points(flac, factor::ARTIST),
            15.0,
            "artist from the folder names"
        );
        // With the default policy (192 kbps or better) the 128 is rejected and says why.
        let r = rank(
            &w,
            cands,
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        assert_eq!(keys(&r), ["flac", "mp3-320", "mp3-128"]);
        let why = r[2].rejected.as_deref().expect("128 kbps rejected");
        assert!(why.contains("MP3 128 kbps below"), "{why}");
    }

    #[test]
    fn right_mix_in_256_beats_wrong_mix_in_320() {
        let w = wanted("Bicep", "Glue", Some("Extended Mix"), None);
        let wrong = with(slsk("a", "@@a\\Bicep - Glue (Radio Edit).mp3"), |c| {
            c.bitrate_kbps = Some(320);
        });
        let right = with(slsk("b", "@@b\\Bicep - Glue (Extended Mix).mp3"), |c| {
            c.bitrate_kbps = Some(256);
        });
        let mut lax = any_quality();
        lax.required.mix_must_match = false;
        let r = rank(
            &w,
            vec![wrong.clone(), right.clone()],
            &RankingContext::default(),
            &lax,
        );
        assert_eq!(
            keys(&r),
            [right.source_key.as_str(), wrong.source_key.as_str()]
        );
        assert!(r[1].rejected.is_none());
        assert!(points(&r[1], factor::MIX) < 0.0);
        assert!(points(&r[0], factor::MIX) > 0.0);
        // With the default policy the wrong mix is rejected outright.
        let r = rank(
            &w,
            vec![wrong, right],
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        let why = r[1].rejected.as_deref().expect("wrong mix rejected");
        assert!(why.contains("different mix"), "{why}");
        assert!(why.contains("radio edit"), "{why}");
        assert_sums(&r);
    }

    #[test]
    fn radio_edit_rejected_for_extended_mix_by_duration_and_mix() {
        let w = wanted("Bicep", "Glue", Some("Extended Mix"), Some(6 * 60 + 45));
        let cands = vec![
            with(slsk("a", "@@a\\Bicep\\Glue (Radio Edit).flac"), |c| {
                c.duration_ms = Some(210_000);
            }),
            // Names no mix: the mix is unknown, the duration tells.
            with(slsk("b", "@@b\\Bicep\\Glue.flac"), |c| {
                c.duration_ms = Some(210_000);
            }),
            with(slsk("c", "@@c\\Bicep\\Glue (Extended Mix).mp3"), |c| {
                c.duration_ms = Some(404_000);
                c.bitrate_kbps = Some(320);
            }),
            // Names no mix, right length: kept, mix unknown (0 points).
            with(slsk("d", "@@d\\Bicep\\Glue.mp3"), |c| {
                c.duration_ms = Some(405_000);
                c.bitrate_kbps = Some(320);
            }),
        ];
        let r = rank(
            &w,
            cands,
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        let radio = find(&r, "a\\@@a\\Bicep\\Glue (Radio Edit).flac");
        let why = radio.rejected.as_deref().expect("radio edit rejected");
        assert!(
            why.contains("duration 3:30 is 195 s off the canonical 6:45"),
            "{why}"
        );
        assert!(why.contains("different mix"), "{why}");
        let nomix = find(&r, "b\\@@b\\Bicep\\Glue.flac");
        let why = nomix.rejected.as_deref().expect("short file rejected");
        assert!(why.contains("duration") && !why.contains("mix"), "{why}");
        assert_eq!(points(nomix, factor::MIX), 0.0);
        assert_eq!(
            r[0].candidate.source_key,
            "c\\@@c\\Bicep\\Glue (Extended Mix).mp3"
        );
        assert_eq!(r[1].candidate.source_key, "d\\@@d\\Bicep\\Glue.mp3");
        assert!(r[1].rejected.is_none());
        assert!(
            r[1].factors
                .iter()
                .any(|f| f.factor == "mix" && f.detail.starts_with("unknown"))
        );
        assert!(
            r[2].rejected.is_some() && r[3].rejected.is_some(),
            "rejected last"
        );
    }

    #[test]
    fn free_slot_and_empty_queue_beat_queue_of_50() {
        let w = wanted("Bicep", "Glue", None, None);
        let path = "@@x\\Bicep - Glue.flac";
        let busy = with(slsk("busy", path), |c| {
            c.peer = Some(PeerInfo {
                username: "busy".into(),
                has_free_slot: Some(false),
                queue_length: Some(50),
                upload_speed_bps: Some(500_000),
            });
        });
        let free = slsk("free", path);
        let r = rank(
            &w,
            vec![busy, free],
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        assert_eq!(r[0].candidate.source_key, format!("free\\{path}"));
        assert!(points(&r[1], factor::PEER_QUEUE) < 0.0);
        assert!(points(&r[1], factor::PEER_SLOT) < 0.0);
        assert!(
            r[1].rejected.is_none(),
            "a queue is a preference by default"
        );
        let mut strict = RankingPolicy::default();
        strict.required.max_peer_queue = Some(20);
        let path = "@@x\\Bicep - Glue.flac";
        let r = rank(
            &w,
            vec![with(slsk("busy", path), |c| {
                c.peer.as_mut().unwrap().queue_length = Some(50)
            })],
            &RankingContext::default(),
            &strict,
        );
        assert!(r[0].rejected.as_deref().unwrap().contains("queue 50"));
    }

    #[test]
    fn a_fake_on_record_drops_the_peer() {
        let w = wanted("Bicep", "Glue", None, None);
        let path = "@@x\\Bicep - Glue.flac";
        let mut ctx = RankingContext::default();
        ctx.peers.insert(
            "clean".into(),
            PeerReputation {
                completed: 20,
                ..Default::default()
            },
        );
        ctx.peers.insert(
            "faker".into(),
            PeerReputation {
                completed: 20,
                fakes: 1,
                ..Default::default()
            },
        );
        ctx.peers.insert(
            "new-faker".into(),
            PeerReputation {
                fakes: 1,
                ..Default::default()
            },
        );
        let cands = ["faker", "new", "new-faker", "clean"]
            .map(|u| slsk(u, path))
            .to_vec();
        let r = rank(&w, cands, &ctx, &RankingPolicy::default());
        let users: Vec<&str> = r
            .iter()
            .map(|r| r.candidate.peer.as_ref().unwrap().username.as_str())
            .collect();
        assert_eq!(users, ["clean", "faker", "new", "new-faker"]);
        assert_eq!(
            points(&r[2], factor::PEER_REPUTATION),
            0.0,
            "no history is neutral"
        );
        assert!(points(&r[3], factor::PEER_REPUTATION) < -10.0);
        // The documented formula.
        assert_eq!(PeerReputation::default().success_rate(), 0.5);
        let f = PeerReputation {
            completed: 20,
            fakes: 1,
            ..Default::default()
        };
        assert!((f.success_rate() - 21.0 / 32.0).abs() < 1e-12);
        let s = PeerReputation {
            completed: 3,
            failures: 1,
            stalls: 1,
            fakes: 0,
        };
        assert!((s.success_rate() - 4.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn unknown_is_zero_passes_by_default_and_fails_when_told() {
        let w = wanted("Bicep", "Glue", Some("Extended Mix"), Some(405));
        // A store listing that says nothing about the audio.
        let bare = SourceCandidate {
            source: "newstore".into(),
            source_key: "https://newstore/glue".into(),
            title: "Glue".into(),
            availability: Availability::Download,
            download: Some(DownloadRef::Http {
                url: "https://newstore/glue.bin".into(),
            }),
            ..Default::default()
        };
        let r = rank(
            &w,
            vec![bare.clone()],
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        assert!(r[0].rejected.is_none(), "{:?}", r[0].rejected);
        for f in &r[0].factors {
            if f.detail.starts_with("unknown") {
                assert_eq!(f.points, 0.0, "{f:?}");
            }
        }
        let unknowns: Vec<&str> = r[0]
            .factors
            .iter()
            .filter(|f| f.detail.starts_with("unknown"))
            .map(|f| f.factor.as_str())
            .collect();
        for f in [
            "artist",
            "mix",
            "duration",
            "format",
            "bitrate",
            "resolution",
            "trust",
        ] {
            assert!(
                unknowns.contains(&f),
                "{f} should be unknown: {:#?}",
                r[0].factors
            );
        }
        assert!(!r[0].factors.iter().any(|f| f.factor.starts_with("peer")));

        let mut strict = RankingPolicy::default();
        strict.required.unknown_fails = vec![Condition::Duration, Condition::MinQuality];
        let r = rank(&w, vec![bare], &RankingContext::default(), &strict);
        let why = r[0].rejected.as_deref().expect("unknown fails now");
        assert!(why.contains("duration unknown"), "{why}");
        assert!(why.contains("quality unknown"), "{why}");
        assert!(!why.contains("mix"), "{why}");
    }

    #[test]
    fn buy_and_listen_options_are_ranked_flagged_and_never_auto_approved() {
        let w = wanted("Bicep", "Glue", None, Some(269));
        let shop = SourceCandidate {
            source: "beatport".into(),
            source_key: "https://beatport/glue".into(),
            title: "Glue".into(),
            artist: Some("Bicep".into()),
            availability: Availability::Purchase,
            url: Some("https://beatport/glue".into()),
            format: Some("flac".into()),
            duration_ms: Some(269_000),
            ..Default::default()
        };
        let mut ctx = RankingContext::default();
        ctx.source_trust.insert("beatport".into(), 1.0);
        let r = rank(&w, vec![shop], &ctx, &RankingPolicy::default());
        assert!(r[0].rejected.is_none());
        let a = r[0]
            .factors
            .iter()
            .find(|f| f.factor == "availability")
            .unwrap();
        assert!(a.detail.starts_with("purchase only"), "{a:?}");
        assert!(a.points < 0.0);
        assert_eq!(points(&r[0], factor::TRUST), 10.0);
        let auto = AutoApprovePolicy {
            enabled: true,
            min_score: 0.0,
            ..Default::default()
        };
        let e = auto.decide(&r).unwrap_err();
        assert!(e.contains("no downloadable"), "{e}");
    }

    #[test]
    fn non_audio_files_are_rejected_and_formats_filtered() {
        let w = wanted("Demdike Stare", "Triptych", None, None);
        let jpg = slsk("a", "@@a\\Demdike Stare\\Triptych\\folder.jpg");
        let opus = slsk("b", "@@b\\Demdike Stare\\Triptych.opus");
        let r = rank(
            &w,
            vec![jpg, opus],
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        let jpg = find(&r, "a\\@@a\\Demdike Stare\\Triptych\\folder.jpg");
        assert!(
            jpg.rejected
                .as_deref()
                .unwrap()
                .contains("not an audio file (.jpg)")
        );
        let opus = find(&r, "b\\@@b\\Demdike Stare\\Triptych.opus");
        assert!(
            opus.rejected
                .as_deref()
                .unwrap()
                .contains("format opus not allowed")
        );
    }

    #[test]
    fn file_name_readings() {
        assert_eq!(
            strip_track_number("1-03 Quiet Sky", "quiet sky"),
            "Quiet Sky"
        );
        assert_eq!(
            strip_track_number("01 - Black Sun", "black sun"),
            "Black Sun"
        );
        assert_eq!(strip_track_number("101 - Forest", "forest"), "Forest");
        assert_eq!(
            strip_track_number("07. Black Sun", "black sun"),
            "Black Sun"
        );
        assert_eq!(strip_track_number("2.01 caged", "caged"), "caged");
        assert_eq!(strip_track_number("A1 Glue", "glue"), "Glue");
        assert_eq!(strip_track_number("03_glue", "glue"), "glue");
        assert_eq!(
            strip_track_number("99 Luftballons", "99 luftballons"),
            "99 Luftballons"
        );
        assert_eq!(strip_track_number("1989", "1989"), "1989");
        assert_eq!(strip_track_number("808State", "x"), "808State");
        assert_eq!(strip_track_number("", "x"), "");
        assert_eq!(strip_extension("Glue.flac"), "Glue");
        assert_eq!(strip_extension("Mr. Fingers"), "Mr. Fingers");
        assert_eq!(
            release_folder("@@a\\M\\DS\\triptych\\cd 2\\01 x.flac"),
            "@@a\\M\\DS\\triptych"
        );
        assert_eq!(
            release_folder("@@a\\M\\DS\\Triptych\\3\\01 x.mp3"),
            "@@a\\M\\DS\\Triptych"
        );
        assert_eq!(
            release_folder("@@a\\M\\DS\\Triptych\\01 - Forest Of Evil\\1-01 x.mp3"),
            "@@a\\M\\DS\\Triptych\\01 - Forest Of Evil"
        );
        assert_eq!(release_folder("x.mp3"), "");

        let w = wanted("Demdike Stare", "Black Sun", None, None);
        let r = rank(
            &w,
            vec![
                slsk(
                    "a",
                    "music\\DS - [2011] Triptych\\3\\01 - Demdike Stare - Black Sun.mp3",
                ),
                slsk(
                    "b",
                    "@@c\\complete\\Demdike Stare - Triptych (Disc 3) - 01 - Black Sun.mp3",
                ),
                slsk(
                    "c",
                    "@@d\\Music\\Demdike Stare\\Triptych\\3-01 Black Sun.mp3",
                ),
                slsk("d", "@@e\\Music\\Other\\Triptych\\3-01 Black Sun.mp3"),
            ],
            &RankingContext::default(),
            &RankingPolicy::default(),
        );
        for c in &r[..3] {
            assert!(c.rejected.is_none(), "{c:#?}");
            assert_eq!(points(c, factor::TITLE), 20.0, "{:#?}", c.factors);
            assert_eq!(points(c, factor::ARTIST), 15.0, "{:#?}", c.factors);
        }
        let other = find(&r, "d\\@@e\\Music\\Other\\Triptych\\3-01 Black Sun.mp3");
        assert!(other.rejected.is_none(), "artist unknown is not bad");
        assert!(
            other
                .factors
                .iter()
                .any(|f| f.factor == "artist" && f.detail == "unknown")
        );
    }

    #[test]
    fn order_is_deterministic_on_ties() {
        let w = wanted("Bicep", "Glue", None, None);
        let cands: Vec<SourceCandidate> = ["z", "m", "a", "q"]
            .iter()
            .map(|u| slsk(u, "@@x\\Bicep - Glue.flac"))
            .collect();
        let mut rev = cands.clone();
        rev.reverse();
        let ctx = RankingContext::default();
        let p = RankingPolicy::default();
        let a = rank(&w, cands, &ctx, &p);
        let b = rank(&w, rev, &ctx, &p);
        assert_eq!(keys(&a), keys(&b));
        assert_eq!(a[0].candidate.source_key, "a\\@@x\\Bicep - Glue.flac");
    }

    #[test]
    fn policy_from_config_text() {
        let p: RankingPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, RankingPolicy::default());
        let p: RankingPolicy = serde_json::from_str(
            r#"{"required": {"min_quality": "lossless", "formats": "flac, AIFF ,wav",
                "unknown_fails": "duration,min_quality", "max_duration_diff_s": 3},
                "preferred": {"lossless": 50}}"#,
        )
        .unwrap();
        assert_eq!(p.required.min_quality, QualityTarget::Lossless);
        assert_eq!(
            p.required.formats,
            [AudioFormat::Flac, AudioFormat::Aiff, AudioFormat::Wav]
        );
        assert_eq!(
            p.required.unknown_fails,
            [Condition::Duration, Condition::MinQuality]
        );
        assert_eq!(p.required.max_duration_diff_s, Some(3.0));
        assert_eq!(p.preferred.lossless, 50.0);
        assert_eq!(p.preferred.title, PreferredConditions::default().title);
        // The environment gives numbers as numbers (`try_parsing`), files give lists.
        let p: RequiredConditions =
            serde_json::from_str(r#"{"min_quality": 320, "formats": ["mp3", "m4a"]}"#).unwrap();
        assert_eq!(p.min_quality, QualityTarget::MinKbps { kbps: 320 });
        assert_eq!(p.formats, [AudioFormat::Mp3, AudioFormat::Aac]);
        let p: RequiredConditions =
            serde_json::from_str(r#"{"min_quality": {"kind": "min_kbps", "kbps": 256}}"#).unwrap();
        assert_eq!(p.min_quality, QualityTarget::MinKbps { kbps: 256 });
        // Round trip through the config text form.
        let d = RankingPolicy::default();
        let back: RankingPolicy =
            serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        // Errors name the bad value.
        let e = serde_json::from_str::<RequiredConditions>(r#"{"formats": "flac,cassette"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cassette"), "{e}");
        let e = serde_json::from_str::<RequiredConditions>(r#"{"unknown_fails": "speed"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'speed'") && e.contains("peer_queue"), "{e}");
        let a: AutoApprovePolicy = serde_json::from_str(r#"{"enabled": true}"#).unwrap();
        assert!(a.enabled && a.lossless_only);
        assert!(!AutoApprovePolicy::default().enabled, "off by default");
    }

    #[test]
    fn auto_approve_rules() {
        let w = wanted("Bicep", "Glue", Some("Extended Mix"), Some(405));
        let flac = |user: &str| {
            with(slsk(user, "@@x\\Bicep\\Glue (Extended Mix).flac"), |c| {
                c.duration_ms = Some(405_000);
                c.bit_depth = Some(16);
                c.sample_rate_hz = Some(44_100);
            })
        };
        let mut ctx = RankingContext::default();
        ctx.source_trust.insert("soulseek".into(), 0.6);
        let p = RankingPolicy::default();
        let on = AutoApprovePolicy {
            enabled: true,
            ..Default::default()
        };
        // The same file on two peers is no competition.
        let r = rank(&w, vec![flac("a"), flac("b")], &ctx, &p);
        let ok = on.decide(&r).expect("approved");
        assert_eq!(ok.index, 0);
        assert!(ok.reason.contains("FLAC 16-bit/44.1 kHz"), "{}", ok.reason);
        assert!(
            ok.reason.contains("no other version offered"),
            "{}",
            ok.reason
        );
        assert_eq!(on.auto_approve(&r), Some(ok));
        assert_eq!(AutoApprovePolicy::default().auto_approve(&r), None, "off");
        // Another plausible version close behind: ask a person.
        let close = with(slsk("c", "@@x\\Bicep\\Glue.flac"), |c| {
            c.duration_ms = Some(405_000);
            c.bit_depth = Some(16);
            c.sample_rate_hz = Some(44_100);
        });
        let r = rank(&w, vec![flac("a"), close], &ctx, &p);
        assert!(r[1].rejected.is_none());
        let margin = r[0].score - r[1].score;
        let strict = AutoApprovePolicy {
            min_margin: margin + 1.0,
            ..on.clone()
        };
        assert!(strict.decide(&r).unwrap_err().contains("below the margin"));
        let loose = AutoApprovePolicy {
            min_margin: margin - 1.0,
            ..on.clone()
        };
        assert!(loose.decide(&r).unwrap().reason.contains("points ahead"));
        // Lossy is declined when lossless only; a low score is declined.
        let mp3 = with(slsk("d", "@@x\\Bicep\\Glue (Extended Mix).mp3"), |c| {
            c.duration_ms = Some(405_000);
            c.bitrate_kbps = Some(320);
        });
        let r = rank(&w, vec![mp3.clone()], &ctx, &p);
        assert!(
            on.decide(&r)
                .unwrap_err()
                .contains("not known to be lossless")
        );
        let lossy_ok = AutoApprovePolicy {
            lossless_only: false,
            min_score: 1000.0,
            ..on.clone()
        };
        assert!(
            lossy_ok
                .decide(&r)
                .unwrap_err()
                .contains("below the auto-approve minimum")
        );
        // No canonical duration: not confirmed.
        let r = rank(
            &wanted("Bicep", "Glue", Some("Extended Mix"), None),
            vec![flac("a")],
            &ctx,
            &p,
        );
        assert!(
            on.decide(&r)
                .unwrap_err()
                .contains("duration not confirmed")
        );
        // Nothing acceptable.
        assert!(on.decide(&[]).is_err());
    }

    // --------------------------------------------------------------------------------------
    // The real slskd search payload: whole album folders.

    fn fixture_candidates() -> Vec<SourceCandidate> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/slskd/searches_responses_demdike-stare-tryptych.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("slskd fixture not found at {path}: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
        let mut out = Vec::new();
        // Minimal mapping for this test only (the real mapper lives in the platforms crate).
        for resp in json.as_array().expect("array of responses") {
            let user = resp["username"].as_str().unwrap_or_default();
            let u32_of = |v: &serde_json::Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
            let peer = PeerInfo {
                username: user.into(),
                has_free_slot: resp["hasFreeUploadSlot"].as_bool(),
                queue_length: u32_of(&resp["queueLength"]),
                upload_speed_bps: resp["uploadSpeed"].as_u64(),
            };
            for f in resp["files"].as_array().into_iter().flatten() {
                let filename = f["filename"].as_str().unwrap_or_default().to_string();
                let size = f["size"].as_u64().unwrap_or(0);
                let ext = extension(file_name(&filename));
                out.push(SourceCandidate {
                    source: "soulseek".into(),
                    source_key: format!("{user}\\{filename}"),
                    title: file_name(&filename).into(),
                    release: Some(file_name(release_folder(&filename)).to_string()),
                    availability: Availability::Download,
                    download: Some(DownloadRef::Soulseek {
                        username: user.into(),
                        filename: filename.clone(),
                        size,
                    }),
                    format: ext,
                    bitrate_kbps: u32_of(&f["bitRate"]),
                    sample_rate_hz: u32_of(&f["sampleRate"]),
                    bit_depth: f["bitDepth"].as_u64().and_then(|n| u8::try_from(n).ok()),
                    duration_ms: u32_of(&f["length"]).map(|s| s.saturating_mul(1000)),
                    size_bytes: Some(size),
                    peer: Some(peer.clone()),
                    ..Default::default()
                });
            }
        }
        out
    }

    #[test]
    fn slskd_fixture_ranks_and_groups_album_folders() {
        let cands = fixture_candidates();
        assert!(cands.len() > 300, "{}", cands.len());
        let items: Vec<(u32, WantedTrack)> = vec![
            (
                1,
                wanted("Demdike Stare", "Forest Of Evil (Dusk)", None, Some(869)),
            ),
            (2, wanted("Demdike Stare", "Quiet Sky", None, Some(217))),
            (3, wanted("Demdike Stare", "Black Sun", None, Some(148))),
            (
                4,
                wanted("Demdike Stare", "Caged In Stammheim", None, Some(318)),
            ),
        ];
        let ctx = RankingContext::default();
        let p = RankingPolicy::default();
        let ranked: Vec<(u32, Vec<RankedCandidate>)> = items
            .iter()
            .map(|(k, w)| (*k, rank(w, cands.clone(), &ctx, &p)))
            .collect();
        for (k, r) in &ranked {
            assert_eq!(r.len(), cands.len());
            assert_sums(r);
            let best = &r[0];
            assert!(best.rejected.is_none());
            assert_eq!(
                best.candidate.peer.as_ref().unwrap().username,
                "WorldNoize",
                "item {k}: the only FLAC copy wins: {best:#?}"
            );
            let ok = r.iter().filter(|c| c.rejected.is_none()).count();
            assert!(ok >= 8, "item {k}: {ok} accepted");
            // Another track of the album, cover art and the half-length files announced by
            // one peer (slskd misread those VBR headers) are all rejected.
            for c in r.iter().filter(|c| c.rejected.is_none()) {
                let user = &c.candidate.peer.as_ref().unwrap().username;
                assert_ne!(user, "legendsarentfree", "{c:#?}");
                assert!(!c.candidate.title.ends_with(".jpg"));
            }
        }
        // "Dawn" is close to "Dusk" by name but minutes apart: the duration rejects it.
        let dusk = &ranked[0].1;
        let dawn = find(
            dusk,
            "lapin\\@@vfgkr\\Music\\Demdike Stare\\Triptych\\1-02 Forest of Evil (Dawn).mp3",
        );
        assert!(
            dawn.rejected.as_deref().unwrap().contains("duration"),
            "{dawn:#?}"
        );

        let offers = group_folders(&ranked);
        assert!(!offers.is_empty());
        for o in &offers {
            assert!(o.files.len() >= 2, "{o:#?}");
            let mut items: Vec<u32> = o.files.iter().map(|f| f.item).collect();
            items.dedup();
            assert_eq!(items.len(), o.files.len(), "one file per item: {o:#?}");
            for f in &o.files {
                assert!(f.filename.starts_with(&o.folder), "{o:#?}");
                let (_, r) = ranked.iter().find(|(k, _)| *k == f.item).unwrap();
                assert!(r[f.index].rejected.is_none());
                assert_eq!(r[f.index].score, f.score);
            }
            assert_ne!(o.username, "legendsarentfree");
        }
        // The FLAC album (three disc folders folded into one release) covers all four items
        // and comes first.
        assert_eq!(offers[0].username, "WorldNoize");
        assert_eq!(
            offers[0].folder,
            "@@murzz\\Main Collection\\Flac\\A-D\\Demdike Stare\\triptych"
        );
        assert_eq!(
            offers[0].files.iter().map(|f| f.item).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert_eq!(
            offers[0].total_bytes,
            76_575_888 + 16_216_916 + 10_834_557 + 28_257_742
        );
        // A peer whose disc folders have their own names offers each disc folder on its own:
        // disc 1 holds two wanted tracks, the others one each (no offer).
        let skittle: Vec<&FolderOffer<u32>> = offers
            .iter()
            .filter(|o| o.username == "skittleguy")
            .collect();
        assert_eq!(skittle.len(), 1, "{skittle:#?}");
        assert!(skittle[0].folder.ends_with("\\01 - Forest Of Evil"));
        assert_eq!(
            skittle[0].files.iter().map(|f| f.item).collect::<Vec<_>>(),
            [1, 2]
        );
        // Whole-album MP3 folders cover all four too; a peer with one wanted track offers none.
        assert!(
            offers
                .iter()
                .any(|o| o.username == "lapin" && o.files.len() == 4)
        );
        assert!(
            !offers.iter().any(|o| o.username == "weirdo1982"),
            "only Quiet Sky there"
        );
        // Deterministic.
        assert_eq!(group_folders(&ranked), offers);
        // One item alone never makes an offer.
        assert!(group_folders(&ranked[..1]).is_empty());
    }

    // --------------------------------------------------------------------------------------
    // Properties

    fn arb_candidate() -> impl Strategy<Value = SourceCandidate> {
        let titles = prop::sample::select(vec![
            "Glue",
            "Glue (Extended Mix)",
            "Glue (Radio Edit)",
            "01 - Bicep - Glue",
            "Apricots",
            "",
            "folder",
            "Glue (Original Mix)",
        ]);
        let exts = prop::sample::select(vec![
            ".flac", ".mp3", ".m4a", ".opus", ".jpg", "", ".wav", ".xyz",
        ]);
        (
            (titles, exts, any::<u16>(), prop::option::of(any::<u8>())),
            (
                prop::option::of(8u32..2000),
                prop::option::of(prop::sample::select(vec![
                    8_000u32, 22_050, 44_100, 96_000, 192_000,
                ])),
                prop::option::of(prop::sample::select(vec![8u8, 16, 24, 32])),
                prop::option::of(0u32..1_000_000),
            ),
            (
                prop::option::of(any::<bool>()),
                prop::option::of(0u32..10_000),
                prop::option::of(0u64..100_000_000),
                0u8..4,
                prop::option::of(prop::sample::select(vec!["Bicep", "Hammer", ""])),
            ),
        )
            .prop_map(
                |((t, ext, id, user), (br, sr, bd, dur), (slot, q, speed, kind, artist))| {
                    let name = format!("{t}{ext}");
                    let user = format!("u{}", user.unwrap_or(0) % 8);
                    let mut c = SourceCandidate {
                        source: ["soulseek", "bandcamp", "beatport", "youtube"][kind as usize]
                            .into(),
                        source_key: format!("k{id}-{name}"),
                        title: name.clone(),
                        artist: artist.map(str::to_string),
                        bitrate_kbps: br,
                        sample_rate_hz: sr,
                        bit_depth: bd,
                        duration_ms: dur,
                        ..Default::default()
                    };
                    match kind {
                        0 => {
                            c.availability = Availability::Download;
                            c.download = Some(DownloadRef::Soulseek {
                                username: user.clone(),
                                filename: format!("@@p\\Music\\Bicep\\{name}"),
                                size: 1,
                            });
                            c.peer = Some(PeerInfo {
                                username: user,
                                has_free_slot: slot,
                                queue_length: q,
                                upload_speed_bps: speed,
                            });
                        }
                        1 => {
                            c.availability = Availability::Download;
                            c.download = Some(DownloadRef::Http {
                                url: "https://x/y".into(),
                            });
                        }
                        2 => c.availability = Availability::Purchase,
                        _ => c.availability = Availability::Stream,
                    }
                    c
                },
            )
    }

    fn arb_policy() -> impl Strategy<Value = RankingPolicy> {
        (
            prop::sample::select(vec![
                QualityTarget::Any,
                QualityTarget::Lossless,
                QualityTarget::MinKbps { kbps: 320 },
                QualityTarget::MinKbps { kbps: 192 },
            ]),
            prop::option::of(0.0f32..30.0),
            any::<bool>(),
            prop::collection::vec(prop::sample::select(Condition::ALL.to_vec()), 0..4),
            prop::option::of(0u32..100),
        )
            .prop_map(|(q, dur, mix, unknown, queue)| {
                let mut p = RankingPolicy::default();
                p.required.min_quality = q;
                p.required.max_duration_diff_s = dur;
                p.required.mix_must_match = mix;
                p.required.unknown_fails = unknown;
                p.required.max_peer_queue = queue;
                p
            })
    }

    fn arb_context() -> impl Strategy<Value = RankingContext> {
        (
            prop::collection::vec((0u8..4, prop::num::f32::ANY), 0..4),
            prop::collection::vec((0u8..8, any::<[u16; 4]>()), 0..8),
        )
            .prop_map(|(trust, peers)| {
                let mut ctx = RankingContext::default();
                for (k, t) in trust {
                    ctx.source_trust.insert(
                        ["soulseek", "bandcamp", "beatport", "youtube"][k as usize].into(),
                        t,
                    );
                }
                for (u, [a, b, c, d]) in peers {
                    ctx.peers.insert(
                        format!("u{u}"),
                        PeerReputation {
                            completed: a.into(),
                            failures: b.into(),
                            stalls: c.into(),
                            fakes: d.into(),
                        },
                    );
                }
                ctx
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn ranking_invariants(
            cands in prop::collection::vec(arb_candidate(), 0..24),
            policy in arb_policy(),
            ctx in arb_context(),
            secs in prop::option::of(60u32..900),
            mix in prop::option::of(prop::sample::select(vec!["Extended Mix", "Radio Edit"])),
        ) {
            let w = wanted("Bicep", "Glue", mix, secs);
            let r = rank(&w, cands.clone(), &ctx, &policy);
            prop_assert_eq!(r.len(), cands.len());
            // Deterministic, whatever the input order.
            let mut rev = cands.clone();
            rev.reverse();
            let r2 = rank(&w, rev, &ctx, &policy);
            prop_assert_eq!(&r, &r2);
            let first_rejected = r.iter().position(|c| c.rejected.is_some()).unwrap_or(r.len());
            for (i, c) in r.iter().enumerate() {
                prop_assert!(c.score.is_finite());
                let sum: f32 = c.factors.iter().map(|f| f.points).sum();
                prop_assert_eq!(sum, c.score);
                for f in &c.factors {
                    prop_assert!(f.points.is_finite());
                    if f.detail.starts_with("unknown") {
                        prop_assert_eq!(f.points, 0.0, "{:?}", f);
                    }
                }
                // Rejected ones at the end, each part sorted by score.
                prop_assert_eq!(c.rejected.is_some(), i >= first_rejected);
                if i + 1 < r.len() && (i + 1 != first_rejected) {
                    prop_assert!(c.score >= r[i + 1].score);
                }
                // Independently checked required conditions always land in rejected.
                let q = candidate_quality(&c.candidate);
                if let (Some(max), Some(a), Some(b)) = (policy.required.max_duration_diff_s, secs, c.candidate.duration_ms)
                    && (a * 1000).abs_diff(b) as f32 / 1000.0 > max
                {
                    prop_assert!(c.rejected.as_deref().unwrap_or("").contains("duration"));
                }
                if let Some(q) = q {
                    if !policy.required.formats.contains(&q.format) {
                        prop_assert!(c.rejected.as_deref().unwrap_or("").contains("not allowed"));
                    }
                    if (q.format.is_lossless() || q.bitrate_kbps.is_some()) && !policy.required.min_quality.is_met_by(&q) {
                        prop_assert!(c.rejected.as_deref().unwrap_or("").contains("below the required"));
                    }
                }
                if matches!(candidate_format(&c.candidate), FormatGuess::NotAudio(_)) {
                    prop_assert!(c.rejected.is_some());
                }
                if c.rejected.is_none() {
                    prop_assert!(!policy.required.unknown_fails.contains(&Condition::MinQuality)
                        || policy.required.min_quality == QualityTarget::Any
                        || q.is_some_and(|q| q.format.is_lossless() || q.bitrate_kbps.is_some()));
                }
            }
            // Auto-approve only ever picks a downloadable, accepted candidate.
            let auto = AutoApprovePolicy { enabled: true, lossless_only: false, min_score: -1e9, min_margin: -1e9, require_duration: false };
            if let Some(a) = auto.auto_approve(&r) {
                prop_assert!(r[a.index].rejected.is_none());
                prop_assert!(r[a.index].candidate.is_downloadable());
            }
            let offers = group_folders(&[(1u8, r.clone()), (2u8, r2.clone())]);
            for o in offers {
                prop_assert!(o.files.len() >= 2);
                prop_assert!(o.score.is_finite());
            }
        }

        #[test]
        fn untrusted_names_never_panic(name in "\\PC{0,80}", path in "[\\\\/a-z0-9 .@-]{0,60}") {
            let c = SourceCandidate {
                source: "soulseek".into(),
                source_key: name.clone(),
                title: name.clone(),
                availability: Availability::Download,
                download: Some(DownloadRef::Soulseek { username: "u".into(), filename: format!("{path}\\{name}"), size: 0 }),
                ..Default::default()
            };
            let r = rank(&wanted("A", &name, None, Some(100)), vec![c], &RankingContext::default(), &RankingPolicy::default());
            prop_assert!(r[0].score.is_finite());
            let _ = release_folder(&path);
            let _ = strip_track_number(&name, "x");
        }
    }
}
