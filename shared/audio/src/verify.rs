//! Whole-file verification: decode every packet, measure what the file really is, and judge a
//! lossless claim by its spectrum.
//!
//! Why: a downloaded file is untrusted. Its extension, its tags and the peer's description can
//! all lie, and a file that stops half way or has a broken frame only shows when it is played
//! at a gig. So the acquisition worker (and `cratedigger verify FILE`) decodes the **whole**
//! file with symphonia before filing it: a corrupt, truncated or unreadable file is an error
//! ([`VerifyError`], which names the file and what is wrong), anything decodable becomes a
//! [`VerifyReport`] with the facts (codec, container, duration, bitrate, sample rate, bit
//! depth, channels), the duration check and the spectral verdict ([`crate::spectrum`]).
//!
//! [`verify_file`] is **blocking CPU work** (about 0.05 s of CPU per minute of 16/44.1 FLAC
//! in a release build, 1.3x the reference `flac -t`, most of it decoding; `just bench
//! acquisition` measures it). Async callers run it on `tokio::task::spawn_blocking`
//! or a rayon pool, bounded by their own concurrency setting; it never touches the network.
//! Work is bounded: files larger than [`VerifyOptions::max_file_bytes`] or longer than
//! [`VerifyOptions::max_duration_secs`] are refused, decode errors stop the decode after
//! [`VerifyOptions::max_decode_errors`], the FFT work is capped by
//! [`SpectrumOptions::max_windows`], and a panic inside a decoder becomes an error.

use crate::spectrum::{LosslessVerdict, SpectrumAnalyser, SpectrumOptions, SpectrumReport};
use cratedigger_music::quality::{AudioFormat, AudioQuality};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Limits and the optional duration expectation for one verification; config section
/// `[audio]` (every field has a default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyOptions {
    /// The canonical duration of the wanted track (ms), when known; compared with the decoded
    /// duration within [`Self::duration_tolerance_secs`].
    pub expected_duration_ms: Option<u64>,
    /// Allowed difference from the expected duration, in seconds (default 3: encoders pad a
    /// little, but an Extended Mix differs from a Radio Edit by minutes).
    pub duration_tolerance_secs: f64,
    /// Larger files are refused without decoding (default 2 GiB).
    pub max_file_bytes: u64,
    /// Decoding stops with an error past this much audio (default 4 hours).
    pub max_duration_secs: u64,
    /// Packets that fail to decode before the file is rejected as corrupt (default 0: a
    /// download with a broken frame is worth replacing).
    pub max_decode_errors: u32,
    /// The fake-lossless analysis.
    pub spectrum: SpectrumOptions,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            expected_duration_ms: None,
            duration_tolerance_secs: 3.0,
            max_file_bytes: 2 * 1024 * 1024 * 1024,
            max_duration_secs: 4 * 3600,
            max_decode_errors: 0,
            spectrum: SpectrumOptions::default(),
        }
    }
}

/// Why a file failed verification. Every message names the file and says what is wrong; the
/// acquisition worker treats all of them as "reject this download, try the next candidate".
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Bigger than the configured limit; not decoded.
    #[error("{} is {bytes} bytes, over the {limit}-byte limit for one audio file; not decoded", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// No container format matched: not audio, or a format we do not read.
    #[error("{} is not an audio file cratedigger can read ({detail})", path.display())]
    NotAudio {
        /// The file.
        path: PathBuf,
        /// What the probe said.
        detail: String,
    },
    /// A container without an audio track with known parameters.
    #[error("{} has no audio track cratedigger can decode", path.display())]
    NoAudioTrack {
        /// The file.
        path: PathBuf,
    },
    /// The audio codec is not one cratedigger decodes.
    #[error("{} uses an audio codec cratedigger cannot decode ({detail})", path.display())]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// The decoder's reason.
        detail: String,
    },
    /// Malformed data part way through.
    #[error("{} is corrupt at {}: {detail}", path.display(), fmt_ms(*at_ms))]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Audio position (ms) where decoding failed.
        at_ms: u64,
        /// What was wrong.
        detail: String,
    },
    /// The file ends before the length its header announces.
    #[error("{} is truncated: its header announces {}, but the audio ends after {}", path.display(), fmt_ms(*expected_ms), fmt_ms(*decoded_ms))]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Length announced by the header.
        expected_ms: u64,
        /// Length that decoded.
        decoded_ms: u64,
    },
    /// The decoded audio does not match the checksum stored in the file (FLAC MD5).
    #[error("{} decodes to audio that does not match the checksum stored in the file: the data is damaged", path.display())]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
    },
    /// A container with no audio in it.
    #[error("{} contains no audio samples", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Longer than the configured limit; decoding stopped.
    #[error("{} is longer than the {limit_secs}-second limit for one audio file; decoding stopped", path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit_secs: u64,
    },
}

impl VerifyError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            VerifyError::Io { path, .. }
            | VerifyError::TooLarge { path, .. }
            | VerifyError::NotAudio { path, .. }
            | VerifyError::NoAudioTrack { path }
            | VerifyError::UnsupportedCodec { path, .. }
            | VerifyError::Corrupt { path, .. }
            | VerifyError::Truncated { path, .. }
            | VerifyError::ChecksumMismatch { path }
            | VerifyError::Empty { path }
            | VerifyError::TooLong { path, .. } => path,
        }
    }
}

/// `m:ss.mmm` for messages.
fn fmt_ms(ms: u64) -> String {
    format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
}

/// The outcome of the duration check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationVerdict {
    /// Within the tolerance.
    Matches,
    /// Shorter than expected by more than the tolerance (an edit, or a cut-off download).
    TooShort,
    /// Longer than expected by more than the tolerance (an extended mix, or another track).
    TooLong,
}

/// The decoded duration compared with the wanted one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DurationCheck {
    /// What the wanted track should last (ms).
    pub expected_ms: u64,
    /// Decoded duration minus expected (ms).
    pub difference_ms: i64,
    /// Allowed difference (ms).
    pub tolerance_ms: u64,
    /// The verdict.
    pub verdict: DurationVerdict,
}

/// Everything verification learned about one file. Serialisable: stored in Postgres as JSON
/// and printed by `cratedigger verify --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The file as given.
    pub path: String,
    /// Container (symphonia's short name: `flac`, `wave`, `aiff`, `mp3`, `isomp4`, `ogg`, ...).
    pub container: String,
    /// Codec (symphonia's short name: `flac`, `mp3`, `aac`, `alac`, `pcm_s16le`, `vorbis`, ...).
    pub codec: String,
    /// The codec family in the music crate's terms; `None` for codecs outside it.
    pub format: Option<AudioFormat>,
    /// True when the codec keeps every bit (FLAC, ALAC, PCM).
    pub lossless: bool,
    /// Decoded duration in milliseconds (every packet decoded, encoder padding trimmed).
    pub duration_ms: u64,
    /// Average bitrate in kbps: audio payload bytes (packets, not tags or artwork) x 8 /
    /// duration. For lossless files too (a 16/44.1 FLAC is typically 700-1100 kbps).
    pub bitrate_kbps: u32,
    /// Sample rate in Hz.
    pub sample_rate_hz: u32,
    /// Bits per sample for PCM-like codecs (FLAC, ALAC, WAV, AIFF); `None` for lossy codecs.
    pub bit_depth: Option<u8>,
    /// Number of channels.
    pub channels: u16,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// Decode errors tolerated (at most [`VerifyOptions::max_decode_errors`]).
    pub decode_errors: u32,
    /// The duration check, when an expected duration was given.
    pub duration_check: Option<DurationCheck>,
    /// The spectral cutoff and the fake-lossless verdict.
    pub spectrum: SpectrumReport,
}

/// What ranking and the upgrade decision need to know about a verified file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AudioProps {
    /// Format, bitrate, sample rate and bit depth (the music crate's quality type).
    pub quality: AudioQuality,
    /// Decoded duration (ms).
    pub duration_ms: u64,
    /// Channels.
    pub channels: u16,
    /// The spectral verdict on a lossless claim.
    pub verdict: LosslessVerdict,
    /// Its confidence, 0..1.
    pub confidence: f32,
}

impl VerifyReport {
    /// The summary for ranking/upgrade code; `None` when the codec is outside
    /// [`AudioFormat`] (e.g. ADPCM), which such code cannot rank anyway.
    pub fn props(&self) -> Option<AudioProps> {
        let format = self.format?;
        Some(AudioProps {
            quality: AudioQuality {
                format,
                bitrate_kbps: Some(self.bitrate_kbps).filter(|b| *b > 0),
                sample_rate_hz: Some(self.sample_rate_hz).filter(|r| *r > 0),
                bit_depth: self.bit_depth,
            },
            duration_ms: self.duration_ms,
            channels: self.channels,
            verdict: self.spectrum.verdict,
            confidence: self.spectrum.confidence,
        })
    }

    /// Why this decodable file should still not be filed, as a sentence; `None` when it is
    /// fine. Two reasons: the duration check failed, or the file claims to be lossless and the
    /// spectrum says `likely_transcode` with at least `min_transcode_confidence`.
    pub fn rejection(&self, min_transcode_confidence: f32) -> Option<String> {
        if let Some(d) = &self.duration_check
            && d.verdict != DurationVerdict::Matches
        {
            return Some(format!(
                "{} lasts {} but the wanted track lasts {} (more than {} s apart)",
                self.path,
                fmt_ms(self.duration_ms),
                fmt_ms(d.expected_ms),
                d.tolerance_ms / 1000
            ));
        }
        if self.spectrum.verdict == LosslessVerdict::LikelyTranscode
            && self.spectrum.confidence >= min_transcode_confidence
        {
            return Some(format!(
                "{} is probably a lossy file in a lossless container (confidence {:.2}): {}",
                self.path, self.spectrum.confidence, self.spectrum.reason
            ));
        }
        None
    }
}

/// Decodes the whole file at `path` and reports what it is. **Blocking**: run it on
/// `spawn_blocking` or a rayon pool (see the module doc). Never panics on bad input.
pub fn verify_file(path: &Path, opts: &VerifyOptions) -> Result<VerifyReport, VerifyError> {
    let io = |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    let bytes = meta.len();
    if bytes > opts.max_file_bytes {
        return Err(VerifyError::TooLarge {
            path: path.to_path_buf(),
            bytes,
            limit: opts.max_file_bytes,
        });
    }
    if bytes == 0 {
        return Err(VerifyError::NotAudio {
            path: path.to_path_buf(),
            detail: "the file is empty (0 bytes)".into(),
        });
    }
    // A decoder bug must not take the worker down: a panic on hostile data is a rejection.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode(path, file, bytes, opts)
    }));
    match result {
        Ok(r) => r,
        Err(_) => Err(VerifyError::Corrupt {
            path: path.to_path_buf(),
            at_ms: 0,
            detail: "the decoder failed on malformed data".into(),
        }),
    }
}

/// Cheap check that `path` holds audio symphonia recognises (container probe and an audio
/// track, no decode); the reason otherwise.
pub(crate) fn probe_audio(path: &Path) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(e) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(e);
    }
    let probed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map(|f| f.default_track(TrackType::Audio).is_some())
    }));
    match probed {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err("no audio track".into()),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) => Err("the probe failed on malformed data".into()),
    }
}

fn decode(
    path: &Path,
    file: File,
    bytes: u64,
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let p = || path.to_path_buf();
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if let Some(e) = &ext {
        hint.with_extension(e);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| VerifyError::NotAudio {
            path: p(),
            detail: match e {
                SymphoniaError::Unsupported(_) => {
                    "no FLAC, MP3, WAV, AIFF, MP4/M4A, Ogg or ADTS stream was recognised in it"
                        .to_string()
                }
                other => describe(&other),
            },
        })?;
    let container = format.format_info().short_name.to_string();
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| VerifyError::NoAudioTrack { path: p() })?;
    let track_id = track.id;
    let announced_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|c| c.audio())
        .cloned()
        .ok_or_else(|| VerifyError::NoAudioTrack { path: p() })?;
    let mut dec_opts = AudioDecoderOptions::default();
    dec_opts.verify = true;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &dec_opts)
        .map_err(|e| VerifyError::UnsupportedCodec {
            path: p(),
            detail: describe(&e),
        })?;
    let codec = decoder.codec_info().short_name.to_string();
    let (format_kind, lossless) = classify(params.codec, &container);
    // The decoder's parameters are completed from the codec's own headers (ALAC keeps its
    // bit depth there, not in the container).
    let bit_depth = if lossless {
        params
            .bits_per_sample
            .or(decoder.codec_params().bits_per_sample)
            .and_then(|b| u8::try_from(b).ok())
            .or_else(|| alac_bit_depth(params.codec, params.extra_data.as_deref()))
            .filter(|b| (1..=64).contains(b))
    } else {
        None
    };

    let mut sample_rate = params
        .sample_rate
        .or(decoder.codec_params().sample_rate)
        .unwrap_or(0);
    let mut channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    let mut analyser: Option<SpectrumAnalyser> = None;
    let mut frames: u64 = 0;
    let mut payload: u64 = 0;
    let mut errors: u32 = 0;
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut mono: Vec<f32> = Vec::new();
    let at_ms = |frames: u64, rate: u32| frames.saturating_mul(1000) / u64::from(rate.max(1));
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                // The demuxer ran out of bytes inside a packet: the download stopped early.
                return Err(VerifyError::Truncated {
                    path: p(),
                    expected_ms: announced_frames
                        .map(|f| at_ms(f, sample_rate))
                        .unwrap_or(0)
                        .max(at_ms(frames, sample_rate)),
                    decoded_ms: at_ms(frames, sample_rate),
                });
            }
            Err(SymphoniaError::ResetRequired) => {
                return Err(VerifyError::UnsupportedCodec {
                    path: p(),
                    detail: "the stream changes its track layout part way (chained streams)".into(),
                });
            }
            Err(e) => {
                return Err(VerifyError::Corrupt {
                    path: p(),
                    at_ms: at_ms(frames, sample_rate),
                    detail: describe(&e),
                });
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        payload += packet.data.len() as u64;
        match decoder.decode(&packet) {
            Ok(buf) => {
                let n = buf.frames();
                if n == 0 {
                    continue;
                }
                if sample_rate == 0 {
                    sample_rate = buf.spec().rate();
                }
                if channels == 0 {
                    channels = buf.spec().channels().count();
                }
                frames += n as u64;
                if frames
                    > opts
                        .max_duration_secs
                        .saturating_mul(u64::from(sample_rate.max(1)))
                {
                    return Err(VerifyError::TooLong {
                        path: p(),
                        limit_secs: opts.max_duration_secs,
                    });
                }
                if opts.spectrum.enabled && sample_rate > 0 {
                    buf.copy_to_vecs_planar::<f32>(&mut planes);
                    downmix(&planes, n, &mut mono);
                    analyser
                        .get_or_insert_with(|| {
                            SpectrumAnalyser::new(&opts.spectrum, sample_rate, announced_frames)
                        })
                        .push(&mono);
                }
            }
            Err(e @ (SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_))) => {
                errors += 1;
                if errors > opts.max_decode_errors {
                    return Err(VerifyError::Corrupt {
                        path: p(),
                        at_ms: at_ms(frames, sample_rate),
                        detail: describe(&e),
                    });
                }
            }
            Err(e) => {
                return Err(VerifyError::Corrupt {
                    path: p(),
                    at_ms: at_ms(frames, sample_rate),
                    detail: describe(&e),
                });
            }
        }
    }
    if frames == 0 || sample_rate == 0 {
        return Err(VerifyError::Empty { path: p() });
    }
    if let Some(expected) = announced_frames {
        // Allow a little slack for encoders' rounding of the announced length.
        let slack = (expected / 200).max(u64::from(sample_rate) / 10);
        if frames + slack < expected {
            return Err(VerifyError::Truncated {
                path: p(),
                expected_ms: at_ms(expected, sample_rate),
                decoded_ms: at_ms(frames, sample_rate),
            });
        }
    }
    if decoder.finalize().verify_ok == Some(false) {
        return Err(VerifyError::ChecksumMismatch { path: p() });
    }

    let duration_ms = at_ms(frames, sample_rate);
    let bitrate_kbps = u32::try_from(
        payload
            .saturating_mul(8)
            .saturating_mul(u64::from(sample_rate))
            / frames.max(1)
            / 1000,
    )
    .unwrap_or(u32::MAX);
    let mut spectrum = match analyser {
        Some(a) => a.finish(lossless, bit_depth),
        None if !opts.spectrum.enabled => {
            SpectrumReport::unknown("spectral analysis is disabled in the configuration")
        }
        None => SpectrumReport::unknown("the audio is too short for a spectral analysis"),
    };
    // A high-bitrate lossy file with a low-bitrate low-pass was re-encoded ("fake 320").
    if !lossless && bitrate_kbps >= 256 && spectrum.cutoff_hz.is_some_and(|c| c < 17_500) {
        spectrum.reason.push_str(&format!(
            "; at {bitrate_kbps} kbps an encoder keeps more than that, so this file was probably re-encoded from a lower bitrate"
        ));
    }
    // A lossy stream behind a lossless file name is a fake lossless file by definition.
    let claimed = ext.as_deref().and_then(|e| e.parse::<AudioFormat>().ok());
    if let Some(claim) = claimed.filter(|c| c.is_lossless())
        && !lossless
    {
        spectrum.verdict = LosslessVerdict::LikelyTranscode;
        spectrum.confidence = 0.99;
        spectrum.reason = format!(
            "the file is named .{} (lossless) but holds {codec} audio, which is lossy; {}",
            claim.as_str(),
            spectrum.reason
        );
    }
    let duration_check = opts.expected_duration_ms.map(|expected| {
        let tolerance_ms = (opts.duration_tolerance_secs.max(0.0) * 1000.0) as u64;
        let difference_ms = duration_ms as i64 - expected.min(i64::MAX as u64) as i64;
        let verdict = if difference_ms.unsigned_abs() <= tolerance_ms {
            DurationVerdict::Matches
        } else if difference_ms < 0 {
            DurationVerdict::TooShort
        } else {
            DurationVerdict::TooLong
        };
        DurationCheck {
            expected_ms: expected,
            difference_ms,
            tolerance_ms,
            verdict,
        }
    });
    Ok(VerifyReport {
        path: path.display().to_string(),
        container,
        codec,
        format: format_kind,
        lossless,
        duration_ms,
        bitrate_kbps,
        sample_rate_hz: sample_rate,
        bit_depth,
        channels: u16::try_from(channels).unwrap_or(u16::MAX),
        file_bytes: bytes,
        decode_errors: errors,
        duration_check,
        spectrum,
    })
}

/// Averages the channels into `out` (mono), `frames` samples.
fn downmix(planes: &[Vec<f32>], frames: usize, out: &mut Vec<f32>) {
    out.clear();
    out.resize(frames, 0.0);
    let scale = 1.0 / planes.len().max(1) as f32;
    for plane in planes {
        for (o, s) in out.iter_mut().zip(plane) {
            *o += s * scale;
        }
    }
}

/// The music crate's format for a codec (PCM is named after its container) and whether the
/// codec is lossless.
fn classify(
    codec: symphonia::core::codecs::audio::AudioCodecId,
    container: &str,
) -> (Option<AudioFormat>, bool) {
    use codec_ids::*;
    match codec {
        CODEC_ID_FLAC => (Some(AudioFormat::Flac), true),
        CODEC_ID_ALAC => (Some(AudioFormat::Alac), true),
        CODEC_ID_MP3 => (Some(AudioFormat::Mp3), false),
        CODEC_ID_AAC => (Some(AudioFormat::Aac), false),
        CODEC_ID_VORBIS => (Some(AudioFormat::Vorbis), false),
        CODEC_ID_OPUS => (Some(AudioFormat::Opus), false),
        CODEC_ID_WMA => (Some(AudioFormat::Wma), false),
        CODEC_ID_MP1 | CODEC_ID_MP2 => (None, false),
        c if is_pcm(c) => {
            let format = match container {
                "wave" | "wav" => Some(AudioFormat::Wav),
                "aiff" => Some(AudioFormat::Aiff),
                _ => None,
            };
            (format, true)
        }
        _ => (None, false),
    }
}

/// Integer and float PCM (not A-law/mu-law, which are lossy companding).
fn is_pcm(codec: symphonia::core::codecs::audio::AudioCodecId) -> bool {
    use codec_ids::*;
    let lo = CODEC_ID_PCM_S32LE;
    let hi = CODEC_ID_PCM_F64BE_PLANAR;
    codec >= lo && codec <= hi
}

/// The bit depth in an ALAC "magic cookie" (ALACSpecificConfig: frame length u32, version
/// u8, bit depth u8, ...), optionally behind `frma` and `alac` atom headers.
fn alac_bit_depth(
    codec: symphonia::core::codecs::audio::AudioCodecId,
    extra: Option<&[u8]>,
) -> Option<u8> {
    if codec != codec_ids::CODEC_ID_ALAC {
        return None;
    }
    let mut buf = extra?;
    for atom in [b"frma", b"alac"] {
        if buf.get(4..8) == Some(atom.as_slice()) {
            buf = buf.get(12..)?;
        }
    }
    buf.get(5).copied().filter(|b| (8..=32).contains(b))
}

/// A readable sentence for a symphonia error.
fn describe(e: &SymphoniaError) -> String {
    match e {
        SymphoniaError::IoError(io) => format!("read error: {io}"),
        SymphoniaError::DecodeError(m) => format!("malformed data ({m})"),
        SymphoniaError::Unsupported(m) => format!("unsupported: {m}"),
        SymphoniaError::LimitError(m) => format!("a safety limit was reached ({m})"),
        other => other.to_string(),
    }
}
