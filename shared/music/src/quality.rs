//! Audio quality ordering and the upgrade decision.
//!
//! Why: a track already in the library is only a duplicate when the copy there is good
//! enough. A DJ who asks for lossless and owns a 128 kbps MP3 wants the better file, so the
//! item continues as an **upgrade** instead of ending `duplicate`. The library holds no files
//! yet (acquisition is a later issue), so the consolidator cannot call this today; the rule is
//! here, pure and tested, for the step that will know the existing file's format.
//!
//! Decisions (documented so they can be argued with):
//! - Lossless (FLAC, ALAC, WAV, AIFF) beats any lossy file; among lossless files a higher bit
//!   depth, then a higher sample rate, ranks higher (hi-res above CD quality).
//! - Lossy files rank by their **MP3-equivalent bitrate**: AAC x1.25, Vorbis x1.2, Opus x1.5,
//!   WMA x0.9 (the common rule of thumb that AAC 256 kbps is on a par with MP3 320 kbps).
//! - A lossy file whose bitrate is unknown meets no bitrate target: unknown is not good.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Longest quality text we read ("FLAC 24/96", "MP3 320 kbps CBR").
const MAX_QUALITY_INPUT: usize = 64;

/// Why a format or quality description could not be read; names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QualityError {
    /// Not a format we know (`.xyz`, `cassette`).
    #[error(
        "unknown audio format '{input}' (expected flac, alac, wav, aiff, mp3, aac, ogg, opus or wma)"
    )]
    UnknownFormat {
        /// The text as given.
        input: String,
    },
    /// A quality description without a format, or with numbers that make no sense.
    #[error("unreadable audio quality '{input}': {problem}")]
    Unreadable {
        /// The text as given (cut to 64 chars).
        input: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Container/codec families DJs meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioFormat {
    /// Free Lossless Audio Codec.
    Flac,
    /// Apple Lossless.
    Alac,
    /// PCM in RIFF/WAVE.
    Wav,
    /// PCM in AIFF.
    Aiff,
    /// MPEG-1 Layer III.
    Mp3,
    /// AAC (also `.m4a`, which usually holds AAC).
    Aac,
    /// Ogg Vorbis.
    Vorbis,
    /// Opus.
    Opus,
    /// Windows Media Audio.
    Wma,
}

impl AudioFormat {
    /// True for formats that keep every bit of the master.
    pub fn is_lossless(self) -> bool {
        matches!(
            self,
            AudioFormat::Flac | AudioFormat::Alac | AudioFormat::Wav | AudioFormat::Aiff
        )
    }

    /// Factor turning this codec's bitrate into an MP3-equivalent bitrate (see module doc).
    fn mp3_equivalence(self) -> f32 {
        match self {
            AudioFormat::Aac => 1.25,
            AudioFormat::Vorbis => 1.2,
            AudioFormat::Opus => 1.5,
            AudioFormat::Wma => 0.9,
            _ => 1.0,
        }
    }

    /// Stable lower-case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Flac => "flac",
            AudioFormat::Alac => "alac",
            AudioFormat::Wav => "wav",
            AudioFormat::Aiff => "aiff",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Aac => "aac",
            AudioFormat::Vorbis => "vorbis",
            AudioFormat::Opus => "opus",
            AudioFormat::Wma => "wma",
        }
    }

    fn from_token(t: &str) -> Option<AudioFormat> {
        let t = t.trim().trim_start_matches('.').to_ascii_lowercase();
        Some(match t.as_str() {
            "flac" => AudioFormat::Flac,
            "alac" => AudioFormat::Alac,
            "wav" | "wave" => AudioFormat::Wav,
            "aif" | "aiff" | "aifc" => AudioFormat::Aiff,
            "mp3" | "mpeg3" => AudioFormat::Mp3,
            "aac" | "m4a" | "mp4a" => AudioFormat::Aac,
            "ogg" | "oga" | "vorbis" => AudioFormat::Vorbis,
            "opus" => AudioFormat::Opus,
            "wma" => AudioFormat::Wma,
            _ => return None,
        })
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AudioFormat {
    type Err = QualityError;
    /// A format name or file extension (`FLAC`, `.m4a`, `aiff`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AudioFormat::from_token(s).ok_or_else(|| QualityError::UnknownFormat {
            input: s.chars().take(MAX_QUALITY_INPUT).collect(),
        })
    }
}

/// What is known about one audio file's quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AudioQuality {
    /// Codec family.
    pub format: AudioFormat,
    /// Average bitrate in kbps (lossy files); `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
    /// Sample rate in Hz; `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate_hz: Option<u32>,
    /// Bits per sample (lossless files); `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u8>,
}

impl AudioQuality {
    /// A lossy file of `format` at `kbps`.
    pub fn lossy(format: AudioFormat, kbps: u32) -> Self {
        Self {
            format,
            bitrate_kbps: Some(kbps),
            sample_rate_hz: None,
            bit_depth: None,
        }
    }

    /// A lossless file with the given bit depth and sample rate.
    pub fn lossless(format: AudioFormat, bit_depth: u8, sample_rate_hz: u32) -> Self {
        Self {
            format,
            bitrate_kbps: None,
            sample_rate_hz: Some(sample_rate_hz),
            bit_depth: Some(bit_depth),
        }
    }

    /// MP3-equivalent bitrate of a lossy file (`None` for lossless or unknown bitrate).
    pub fn mp3_equivalent_kbps(&self) -> Option<u32> {
        if self.format.is_lossless() {
            return None;
        }
        self.bitrate_kbps
            .map(|b| (b as f32 * self.format.mp3_equivalence()).round() as u32)
    }

    /// A number that orders qualities: every lossless file above every lossy one, then bit
    /// depth and sample rate (lossless) or MP3-equivalent bitrate (lossy). Unknown bitrate
    /// ranks lowest among lossy files.
    pub fn rank(&self) -> u64 {
        if self.format.is_lossless() {
            let depth = u64::from(self.bit_depth.unwrap_or(16).min(64));
            let rate = u64::from(self.sample_rate_hz.unwrap_or(44_100).min(1_000_000));
            1_000_000_000 + depth * 10_000_000 + rate
        } else {
            u64::from(self.mp3_equivalent_kbps().unwrap_or(0).min(100_000))
        }
    }

    /// Reads descriptions such as `MP3 128 kbps`, `320 kbps AAC`, `FLAC 24/96`,
    /// `flac 16bit 44.1kHz`, `wav`. A format is required; numbers are optional.
    pub fn parse(s: &str) -> Result<Self, QualityError> {
        let unreadable = |problem: &str| QualityError::Unreadable {
            input: s.chars().take(MAX_QUALITY_INPUT).collect(),
            problem: problem.to_string(),
        };
        if s.chars().count() > MAX_QUALITY_INPUT {
            return Err(unreadable("too long"));
        }
        let lower = s.to_ascii_lowercase();
        let mut format = None;
        let mut kbps = None;
        let mut depth = None;
        let mut rate = None;
        let tokens: Vec<&str> = lower
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .collect();
        let mut i = 0;
        while i < tokens.len() {
            let t = tokens[i];
            let next = tokens.get(i + 1).copied();
            if let Some(f) = AudioFormat::from_token(t) {
                format = Some(f);
            } else if let Some((d, r)) = t.split_once('/') {
                // "24/96" or "16/44.1": bit depth / sample rate in kHz.
                let d: u8 = d.parse().map_err(|_| unreadable("bad bit depth"))?;
                let r: f32 = r.parse().map_err(|_| unreadable("bad sample rate"))?;
                depth = Some(d);
                rate = Some(khz(r).ok_or_else(|| unreadable("bad sample rate"))?);
            } else if let Some(n) = t.strip_suffix("kbps").or(t.strip_suffix("k")) {
                kbps = Some(n.parse().map_err(|_| unreadable("bad bitrate"))?);
            } else if let Some(n) = t.strip_suffix("khz") {
                let r: f32 = n.parse().map_err(|_| unreadable("bad sample rate"))?;
                rate = Some(khz(r).ok_or_else(|| unreadable("bad sample rate"))?);
            } else if let Some(n) = t.strip_suffix("bit") {
                depth = Some(n.parse().map_err(|_| unreadable("bad bit depth"))?);
            } else if let Ok(n) = t.parse::<u32>() {
                match next {
                    Some("kbps" | "kb/s" | "k") => {
                        kbps = Some(n);
                        i += 1;
                    }
                    Some("bit") => {
                        depth = u8::try_from(n).ok();
                        i += 1;
                    }
                    Some("khz") => {
                        rate = khz(n as f32);
                        i += 1;
                    }
                    _ => kbps = Some(n),
                }
            } else if !matches!(t, "cbr" | "vbr" | "abr" | "lossless" | "-") {
                return Err(unreadable(&format!("unexpected '{t}'")));
            }
            i += 1;
        }
        let Some(format) = format else {
            return Err(unreadable("no format named"));
        };
        if kbps.is_some_and(|k| k == 0 || k > 10_000) {
            return Err(unreadable("bitrate out of range"));
        }
        if depth.is_some_and(|d| !(8..=32).contains(&d)) {
            return Err(unreadable("bit depth out of range"));
        }
        Ok(AudioQuality {
            format,
            bitrate_kbps: kbps,
            sample_rate_hz: rate,
            bit_depth: depth,
        })
    }
}

/// Sample rate in Hz from kHz (`44.1`) or Hz (`44100`), within 8 kHz-768 kHz.
fn khz(v: f32) -> Option<u32> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let hz = if v < 1000.0 { v * 1000.0 } else { v };
    (8_000.0..=768_000.0)
        .contains(&hz)
        .then_some(hz.round() as u32)
}

impl PartialOrd for AudioQuality {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AudioQuality {
    /// Orders by [`AudioQuality::rank`]; equal ranks fall back to the fields so the order is
    /// total and consistent with `Eq`.
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank()).then_with(|| {
            (
                self.format.as_str(),
                self.bitrate_kbps,
                self.sample_rate_hz,
                self.bit_depth,
            )
                .cmp(&(
                    other.format.as_str(),
                    other.bitrate_kbps,
                    other.sample_rate_hz,
                    other.bit_depth,
                ))
        })
    }
}

impl fmt::Display for AudioQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.format.as_str().to_ascii_uppercase();
        if self.format.is_lossless() {
            match (self.bit_depth, self.sample_rate_hz) {
                (Some(d), Some(r)) => write!(f, "{name} {d}-bit/{:.1} kHz", r as f32 / 1000.0),
                _ => write!(f, "{name}"),
            }
        } else {
            match self.bitrate_kbps {
                Some(k) => write!(f, "{name} {k} kbps"),
                None => write!(f, "{name} (bitrate unknown)"),
            }
        }
    }
}

/// The quality a user wants in their library; from config (`lossless`, `mp3 320`, `any`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum QualityTarget {
    /// Any lossless file.
    Lossless,
    /// A lossy file at least this MP3-equivalent bitrate, or any lossless file.
    MinKbps {
        /// MP3-equivalent kbps.
        kbps: u32,
    },
    /// Any file will do.
    Any,
}

impl QualityTarget {
    /// True when `q` is good enough.
    pub fn is_met_by(&self, q: &AudioQuality) -> bool {
        match self {
            QualityTarget::Any => true,
            QualityTarget::Lossless => q.format.is_lossless(),
            QualityTarget::MinKbps { kbps } => {
                q.format.is_lossless() || q.mp3_equivalent_kbps().is_some_and(|k| k >= *kbps)
            }
        }
    }
}

impl fmt::Display for QualityTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QualityTarget::Lossless => f.write_str("lossless"),
            QualityTarget::MinKbps { kbps } => write!(f, "at least {kbps} kbps (MP3-equivalent)"),
            QualityTarget::Any => f.write_str("any quality"),
        }
    }
}

impl FromStr for QualityTarget {
    type Err = QualityError;
    /// `lossless` (or a lossless format name), `any`, `320`, `320 kbps`, `mp3 320`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        if t == "any" || t == "*" {
            return Ok(QualityTarget::Any);
        }
        if t == "lossless" || AudioFormat::from_token(&t).is_some_and(AudioFormat::is_lossless) {
            return Ok(QualityTarget::Lossless);
        }
        // The bitrate is the number among the words ("mp3 320", "320 kbps", "320k").
        let number = t
            .split_whitespace()
            .filter(|w| AudioFormat::from_token(w).is_none() && *w != "kbps")
            .map(|w| w.trim_end_matches("kbps").trim_end_matches('k'))
            .find(|w| !w.is_empty());
        match number.map(str::parse::<u32>) {
            Some(Ok(kbps)) if (32..=10_000).contains(&kbps) => Ok(QualityTarget::MinKbps { kbps }),
            _ => Err(QualityError::Unreadable {
                input: s.chars().take(MAX_QUALITY_INPUT).collect(),
                problem: "expected 'lossless', 'any' or a bitrate such as '320'".into(),
            }),
        }
    }
}

/// What to do with a wanted track that the library already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum UpgradeDecision {
    /// The copy in the library is good enough: the item is a duplicate.
    KeepExisting {
        /// Sentence for a person.
        reason: String,
    },
    /// The copy in the library is worse than wanted: look for a better file.
    Upgrade {
        /// Sentence for a person.
        reason: String,
    },
    /// The library knows the track but has no file for it: acquire one.
    NoFile {
        /// Sentence for a person.
        reason: String,
    },
}

/// Decides between duplicate and upgrade for a track already in the library, so "wanted
/// lossless, existing 128 kbps MP3" continues as an upgrade while "wanted 320, existing FLAC"
/// stays a duplicate.
pub fn upgrade_decision(
    existing: Option<&AudioQuality>,
    target: &QualityTarget,
) -> UpgradeDecision {
    let Some(q) = existing else {
        return UpgradeDecision::NoFile {
            reason: format!("the library has no file for this track yet; wanted {target}"),
        };
    };
    if target.is_met_by(q) {
        UpgradeDecision::KeepExisting {
            reason: format!("the library copy ({q}) meets the wanted quality ({target})"),
        }
    } else if !q.format.is_lossless() && q.bitrate_kbps.is_none() {
        UpgradeDecision::Upgrade {
            reason: format!(
                "the library copy ({q}) cannot be shown to meet the wanted quality ({target})"
            ),
        }
    } else {
        UpgradeDecision::Upgrade {
            reason: format!("the library copy ({q}) is below the wanted quality ({target})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AudioFormat::*;

    #[test]
    fn ordering_ladder() {
        // From best to worst, as a DJ would rank them.
        let ladder = [
            AudioQuality::lossless(Flac, 24, 192_000),
            AudioQuality::lossless(Flac, 24, 96_000),
            AudioQuality::lossless(Wav, 16, 44_100),
            AudioQuality::lossy(Opus, 256), // 384 eq
            AudioQuality::lossy(Mp3, 320),  // 320
            AudioQuality::lossy(Aac, 256),  // 320 eq, tie broken by fields
            AudioQuality::lossy(Mp3, 256),  // 256
            AudioQuality::lossy(Mp3, 192),  // 192
            AudioQuality::lossy(Aac, 128),  // 160
            AudioQuality::lossy(Mp3, 128),  // 128
            AudioQuality {
                format: Mp3,
                bitrate_kbps: None,
                sample_rate_hz: None,
                bit_depth: None,
            },
        ];
        for w in ladder.windows(2) {
            assert!(w[0].rank() >= w[1].rank(), "{} vs {}", w[0], w[1]);
            assert!(w[0] >= w[1], "{} vs {}", w[0], w[1]);
        }
        assert_eq!(
            AudioQuality::lossy(Mp3, 320).rank(),
            AudioQuality::lossy(Aac, 256).rank()
        );
        let mut sorted = ladder.to_vec();
        sorted.sort();
        sorted.reverse();
        assert_eq!(sorted[0], ladder[0]);
        assert_eq!(sorted.last(), ladder.last());
    }

    #[test]
    fn upgrade_table() {
        let mp3_128 = AudioQuality::lossy(Mp3, 128);
        let mp3_320 = AudioQuality::lossy(Mp3, 320);
        let aac_256 = AudioQuality::lossy(Aac, 256);
        let flac = AudioQuality::lossless(Flac, 16, 44_100);
        let unknown = AudioQuality {
            format: Mp3,
            bitrate_kbps: None,
            sample_rate_hz: None,
            bit_depth: None,
        };
        let lossless = QualityTarget::Lossless;
        let k320 = QualityTarget::MinKbps { kbps: 320 };
        let is_upgrade = |d: &UpgradeDecision| matches!(d, UpgradeDecision::Upgrade { .. });
        let cases = [
            (Some(&mp3_128), lossless, true),
            (Some(&mp3_320), lossless, true),
            (Some(&flac), lossless, false),
            (Some(&mp3_128), k320, true),
            (Some(&mp3_320), k320, false),
            (Some(&aac_256), k320, false),
            (Some(&flac), k320, false),
            (Some(&unknown), k320, true),
            (Some(&mp3_128), QualityTarget::Any, false),
        ];
        for (existing, target, want) in cases {
            let d = upgrade_decision(existing, &target);
            assert_eq!(is_upgrade(&d), want, "{existing:?} for {target}: {d:?}");
        }
        let d = upgrade_decision(Some(&mp3_128), &lossless);
        assert_eq!(
            d,
            UpgradeDecision::Upgrade {
                reason: "the library copy (MP3 128 kbps) is below the wanted quality (lossless)"
                    .into()
            }
        );
        assert!(matches!(
            upgrade_decision(None, &lossless),
            UpgradeDecision::NoFile { .. }
        ));
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, AudioQuality)] = &[
            ("MP3 128 kbps", AudioQuality::lossy(Mp3, 128)),
            ("mp3 320", AudioQuality::lossy(Mp3, 320)),
            ("320 kbps AAC", AudioQuality::lossy(Aac, 320)),
            ("320kbps mp3 CBR", AudioQuality::lossy(Mp3, 320)),
            ("m4a 256k", AudioQuality::lossy(Aac, 256)),
            ("FLAC 24/96", AudioQuality::lossless(Flac, 24, 96_000)),
            ("flac 16/44.1", AudioQuality::lossless(Flac, 16, 44_100)),
            (
                "FLAC 16bit 44.1kHz",
                AudioQuality::lossless(Flac, 16, 44_100),
            ),
            ("wav 24 bit 48 khz", AudioQuality::lossless(Wav, 24, 48_000)),
        ];
        for (input, want) in cases {
            assert_eq!(AudioQuality::parse(input).as_ref(), Ok(want), "{input}");
        }
        assert_eq!(AudioQuality::parse("flac").unwrap().format, Flac);
        for bad in [
            "",
            "128 kbps",
            "cassette 90",
            "mp3 0",
            "flac 7/44.1",
            "mp3 fast",
        ] {
            let e = AudioQuality::parse(bad).unwrap_err();
            assert!(e.to_string().contains(&format!("'{bad}'")), "{bad}: {e}");
        }
        assert!(AudioQuality::parse(&"x".repeat(1000)).is_err());
        assert_eq!(".FLAC".parse::<AudioFormat>(), Ok(Flac));
        assert!("xyz".parse::<AudioFormat>().is_err());
    }

    #[test]
    fn target_from_config_text() {
        assert_eq!("lossless".parse(), Ok(QualityTarget::Lossless));
        assert_eq!("FLAC".parse(), Ok(QualityTarget::Lossless));
        assert_eq!("any".parse(), Ok(QualityTarget::Any));
        assert_eq!("mp3 320".parse(), Ok(QualityTarget::MinKbps { kbps: 320 }));
        assert_eq!("256 kbps".parse(), Ok(QualityTarget::MinKbps { kbps: 256 }));
        assert!("best".parse::<QualityTarget>().is_err());
        assert!("1".parse::<QualityTarget>().is_err());
    }
}
