//! Audio made in the test (feature `testing`): deterministic signals written as 16-bit WAV,
//! and wrappers around the Debian encoders (`flac`, `lame`, `ffmpeg`) that turn them into
//! genuine FLACs, MP3s, MP3-transcoded FLACs and M4As.
//!
//! Why here: the crate's tests and `bench-acquisition` need the same signals and the same
//! transcode chain; nothing is downloaded and no payload is checked in. A missing tool is an
//! error saying which tool and how to install it (`.ci/run` installs them on CI).

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Interleaved 16-bit PCM.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Hz.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

impl Signal {
    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.channels.max(1)) / f64::from(self.sample_rate)
    }
}

/// Kinds of generated material for the detector's tests and benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Genre {
    /// White noise.
    WhiteNoise,
    /// Pink noise (-3 dB/octave) with a few tones.
    PinkTones,
    /// Sustained chords of harmonic-rich notes (partials up to Nyquist), changing every 2 s.
    DenseChords,
    /// Sparse percussion: short hat and snare noise bursts and kicks with silence between.
    SparsePercussion,
    /// Repeated logarithmic sine sweeps 20 Hz - 22 kHz.
    SineSweep,
    /// A music-like mix: kick, bass, chords, hats, shaker noise.
    MusicMix,
    /// Genuinely band-limited: pink noise and chords through a gentle 24 dB/oct low-pass at
    /// 2 kHz (a dark recording), no brick wall.
    DarkRecording,
    /// Genuinely band-limited: sub-bass sines only (below 200 Hz).
    SubBass,
}

impl Genre {
    /// Every genre with content up to the top of the spectrum.
    pub const BROADBAND: [Genre; 6] = [
        Genre::WhiteNoise,
        Genre::PinkTones,
        Genre::DenseChords,
        Genre::SparsePercussion,
        Genre::SineSweep,
        Genre::MusicMix,
    ];
    /// Genres without highs (a lossless file of these is genuine but cannot prove it).
    pub const BAND_LIMITED: [Genre; 2] = [Genre::DarkRecording, Genre::SubBass];

    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Genre::WhiteNoise => "white noise",
            Genre::PinkTones => "pink noise + tones",
            Genre::DenseChords => "dense chords",
            Genre::SparsePercussion => "sparse percussion",
            Genre::SineSweep => "sine sweeps",
            Genre::MusicMix => "music-like mix",
            Genre::DarkRecording => "dark recording (band-limited)",
            Genre::SubBass => "sub-bass only (band-limited)",
        }
    }
}

/// Deterministic pseudo-random numbers (no dependency; reproducible runs).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    /// Uniform in -1..1.
    fn bi(&mut self) -> f64 {
        self.next() * 2.0 - 1.0
    }
}

/// One channel of `genre` material, `n` samples at `rate`, roughly -1..1.
fn channel(genre: Genre, n: usize, rate: f64, rng: &mut Rng) -> Vec<f64> {
    let mut out = vec![0.0; n];
    let nyq = rate / 2.0;
    // Paul Kellet's economy pink filter.
    let mut pink_state = [0.0f64; 3];
    let mut pink = |rng: &mut Rng| {
        let w = rng.bi();
        pink_state[0] = 0.99765 * pink_state[0] + w * 0.0990460;
        pink_state[1] = 0.96300 * pink_state[1] + w * 0.2965164;
        pink_state[2] = 0.57000 * pink_state[2] + w * 1.0526913;
        (pink_state[0] + pink_state[1] + pink_state[2] + w * 0.1848) * 0.25
    };
    let chord_sets: [[f64; 4]; 4] = [
        [220.0, 277.18, 329.63, 440.0],
        [196.0, 246.94, 293.66, 392.0],
        [174.61, 220.0, 261.63, 349.23],
        [164.81, 207.65, 246.94, 329.63],
    ];
    let transpose = 0.8 + 0.4 * rng.next();
    let chord = |t: f64, phase_jitter: f64| -> f64 {
        let set = chord_sets[((t / 2.0) as usize) % chord_sets.len()];
        let mut s = 0.0;
        for (j, f0) in set.iter().enumerate() {
            let f0 = f0 * transpose;
            let mut h = 1.0;
            while h * f0 < nyq * 0.995 {
                s += (2.0 * PI * h * f0 * t + phase_jitter * (j as f64 + h)).sin() / h;
                h += 1.0;
            }
        }
        s / 8.0
    };
    match genre {
        Genre::WhiteNoise => {
            for x in &mut out {
                *x = rng.bi() * 0.5;
            }
        }
        Genre::PinkTones => {
            let tones = [110.0 * transpose, 1_000.0 * transpose, 5_000.0 * transpose];
            for (i, x) in out.iter_mut().enumerate() {
                let t = i as f64 / rate;
                let s: f64 = tones.iter().map(|f| (2.0 * PI * f * t).sin() * 0.1).sum();
                *x = pink(rng) * 0.8 + s;
            }
        }
        Genre::DenseChords => {
            let jitter = rng.next() * 6.0;
            for (i, x) in out.iter_mut().enumerate() {
                *x = chord(i as f64 / rate, jitter) * 0.8;
            }
        }
        Genre::SparsePercussion => {
            let mut next_hit = 0usize;
            let mut env_hat = 0.0f64;
            let mut env_kick = 0.0f64;
            let mut kick_phase = 0.0f64;
            let mut kick_t = 0.0f64;
            let mut prev = 0.0f64;
            for (i, x) in out.iter_mut().enumerate() {
                if i == next_hit {
                    if rng.next() < 0.5 {
                        env_kick = 1.0;
                        kick_t = 0.0;
                    } else {
                        env_hat = 0.6 + 0.4 * rng.next();
                    }
                    next_hit = i + ((0.2 + rng.next() * 0.4) * rate) as usize;
                }
                // Hat: high-passed noise (first difference), 40 ms decay.
                let w = rng.bi();
                let hat = (w - prev) * 0.5 * env_hat;
                prev = w;
                env_hat *= (-1.0 / (0.04 * rate)).exp();
                // Kick: falling sine, 120 ms decay.
                let f = 50.0 + 100.0 * (-kick_t * 30.0).exp();
                kick_phase += 2.0 * PI * f / rate;
                kick_t += 1.0 / rate;
                let kick = kick_phase.sin() * env_kick;
                env_kick *= (-1.0 / (0.12 * rate)).exp();
                *x = hat * 0.7 + kick * 0.6;
            }
        }
        Genre::SineSweep => {
            let period = 4.0 + rng.next() * 2.0;
            let (f0, f1) = (20.0f64, nyq * 0.998);
            let k = (f1 / f0).ln();
            let mut phase = 0.0;
            for (i, x) in out.iter_mut().enumerate() {
                let t = (i as f64 / rate) % period;
                let f = f0 * (k * t / period).exp();
                phase += 2.0 * PI * f / rate;
                *x = phase.sin() * 0.5;
            }
        }
        Genre::MusicMix => {
            let bpm = 120.0 + 10.0 * rng.next();
            let beat = 60.0 / bpm;
            let jitter = rng.next() * 6.0;
            let mut prev = 0.0f64;
            let mut hp = 0.0f64;
            for (i, x) in out.iter_mut().enumerate() {
                let t = i as f64 / rate;
                let tb = t % beat;
                let kick =
                    (2.0 * PI * (45.0 + 80.0 * (-tb * 25.0).exp()) * tb).sin() * (-tb * 8.0).exp();
                let th = (t + beat / 2.0) % beat;
                let w = rng.bi();
                hp = 0.5 * (hp + w - prev);
                prev = w;
                let hat = hp * (-th * 30.0).exp();
                let bass = (2.0 * PI * 55.0 * transpose * t).sin() * 0.3;
                let shaker = w * 0.03;
                *x = kick * 0.45 + bass + chord(t, jitter) * 0.25 + hat * 0.5 + shaker;
            }
        }
        Genre::DarkRecording => {
            let jitter = rng.next() * 6.0;
            let a = (-2.0 * PI * 2_000.0 / rate).exp();
            let mut y = [0.0f64; 4];
            for (i, x) in out.iter_mut().enumerate() {
                let mut v = pink(rng) * 0.6 + chord(i as f64 / rate, jitter) * 0.4;
                for s in &mut y {
                    *s = (1.0 - a) * v + a * *s;
                    v = *s;
                }
                *x = v * 2.0;
            }
        }
        Genre::SubBass => {
            // Phase-continuous notes with smooth envelopes: no clicks (a click is broadband).
            let f = [41.2 * transpose, 55.0 * transpose, 82.4 * transpose];
            let note = 1.5 * rate;
            let mut phase = 0.0f64;
            for (i, x) in out.iter_mut().enumerate() {
                let which = ((i as f64 / note) as usize) % 3;
                let pos = (i as f64 % note) / note;
                let env = (PI * pos).sin().powi(2);
                phase += 2.0 * PI * f[which] / rate;
                *x = (phase.sin() * 0.6 + (2.0 * phase).sin() * 0.1) * env;
            }
        }
    }
    out
}

/// `seconds` of stereo 16-bit material of `genre` at `rate`, peak-normalised to -3 dBFS with
/// TPDF dither, different for every `seed`.
pub fn generate(genre: Genre, seconds: f64, rate: u32, seed: u64) -> Signal {
    let n = (seconds * f64::from(rate)) as usize;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66);
    let left = channel(genre, n, f64::from(rate), &mut rng);
    let right = channel(genre, n, f64::from(rate), &mut rng);
    let peak = left
        .iter()
        .chain(&right)
        .fold(1e-9f64, |m, v| m.max(v.abs()));
    let gain = 0.7 / peak * 32_767.0;
    let mut samples = Vec::with_capacity(2 * n);
    for (l, r) in left.iter().zip(&right) {
        for v in [l, r] {
            let dither = rng.next() - rng.next();
            samples.push((v * gain + dither).round().clamp(-32_768.0, 32_767.0) as i16);
        }
    }
    Signal {
        sample_rate: rate,
        channels: 2,
        samples,
    }
}

/// The broadband test signal of the crate's tests: pink noise with tones mixed with sparse
/// percussion (cheap to generate, so debug-build tests stay fast).
pub fn broadband(seconds: f64, seed: u64) -> Signal {
    let a = generate(Genre::PinkTones, seconds, 44_100, seed);
    let b = generate(Genre::SparsePercussion, seconds, 44_100, seed + 1);
    let samples = a
        .samples
        .iter()
        .zip(&b.samples)
        .map(|(x, y)| ((i32::from(*x) + i32::from(*y)) / 2) as i16)
        .collect();
    Signal { samples, ..a }
}

/// Writes a canonical 44-byte-header PCM WAV.
pub fn write_wav(path: &Path, s: &Signal) -> std::io::Result<()> {
    let data_len = (s.samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&s.channels.to_le_bytes());
    b.extend_from_slice(&s.sample_rate.to_le_bytes());
    let block = u32::from(s.channels) * 2;
    b.extend_from_slice(&(s.sample_rate * block).to_le_bytes());
    b.extend_from_slice(&(block as u16).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for v in &s.samples {
        b.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, b)
}

/// Writes an AIFF (big-endian PCM, 80-bit float sample rate).
pub fn write_aiff(path: &Path, s: &Signal) -> std::io::Result<()> {
    let frames = (s.samples.len() / usize::from(s.channels.max(1))) as u32;
    let data_len = (s.samples.len() * 2) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"FORM");
    b.extend_from_slice(&(4 + 26 + 16 + data_len).to_be_bytes());
    b.extend_from_slice(b"AIFFCOMM");
    b.extend_from_slice(&18u32.to_be_bytes());
    b.extend_from_slice(&s.channels.to_be_bytes());
    b.extend_from_slice(&frames.to_be_bytes());
    b.extend_from_slice(&16u16.to_be_bytes());
    // 80-bit extended: sample rate is an integer < 2^32.
    let rate = s.sample_rate.max(1);
    let exp = 31 - rate.leading_zeros();
    b.extend_from_slice(&((16_383 + exp) as u16).to_be_bytes());
    b.extend_from_slice(&((u64::from(rate)) << (63 - exp)).to_be_bytes());
    b.extend_from_slice(b"SSND");
    b.extend_from_slice(&(8 + data_len).to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    for v in &s.samples {
        b.extend_from_slice(&v.to_be_bytes());
    }
    std::fs::write(path, b)
}

/// An external tool failed or is missing; says which and how to install it.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Not on the PATH.
    #[error(
        "this needs the `{tool}` command, which is not installed: run `apt-get install -y {package}` (.ci/run installs it on CI)"
    )]
    Missing {
        /// The command.
        tool: &'static str,
        /// The Debian package.
        package: &'static str,
    },
    /// It ran and failed.
    #[error("`{command}` failed: {detail}")]
    Failed {
        /// The command line.
        command: String,
        /// Exit status and stderr.
        detail: String,
    },
}

fn run(tool: &'static str, package: &'static str, args: &[&str]) -> Result<(), ToolError> {
    let out = Command::new(tool).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ToolError::Missing { tool, package }
        } else {
            ToolError::Failed {
                command: format!("{tool} {}", args.join(" ")),
                detail: e.to_string(),
            }
        }
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ToolError::Failed {
            command: format!("{tool} {}", args.join(" ")),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// Encodes a WAV to FLAC with the reference encoder (`flac`).
pub fn flac_encode(wav: &Path, out: &Path) -> Result<(), ToolError> {
    run(
        "flac",
        "flac",
        &["--silent", "--force", "-5", "-o", s(out), s(wav)],
    )
}

/// Encodes a WAV to constant-bitrate MP3 with LAME.
pub fn mp3_encode(wav: &Path, kbps: u32, out: &Path) -> Result<(), ToolError> {
    let b = kbps.to_string();
    run(
        "lame",
        "lame",
        &["--silent", "--cbr", "-b", &b, "-q", "2", s(wav), s(out)],
    )
}

/// Decodes an MP3 to a 16-bit WAV with LAME.
pub fn mp3_decode(mp3: &Path, out: &Path) -> Result<(), ToolError> {
    run("lame", "lame", &["--silent", "--decode", s(mp3), s(out)])
}

/// The fake-lossless chain: WAV -> MP3 at `kbps` -> WAV -> FLAC, in `dir`; returns the FLAC.
pub fn mp3_transcode_flac(
    wav: &Path,
    kbps: u32,
    dir: &Path,
    stem: &str,
) -> Result<PathBuf, ToolError> {
    let mp3 = dir.join(format!("{stem}.{kbps}.mp3"));
    let back = dir.join(format!("{stem}.{kbps}.decoded.wav"));
    let flac = dir.join(format!("{stem}.{kbps}k-transcode.flac"));
    mp3_encode(wav, kbps, &mp3)?;
    mp3_decode(&mp3, &back)?;
    flac_encode(&back, &flac)?;
    let _ = std::fs::remove_file(&back);
    Ok(flac)
}

/// Encodes a WAV with ffmpeg (`codec` e.g. `aac` with a bitrate, or `alac`).
pub fn ffmpeg_encode(
    wav: &Path,
    codec: &str,
    kbps: Option<u32>,
    out: &Path,
) -> Result<(), ToolError> {
    let b = kbps.map(|k| format!("{k}k"));
    let mut args = vec![
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        s(wav),
        "-c:a",
        codec,
    ];
    if let Some(b) = &b {
        args.extend(["-b:a", b.as_str()]);
    }
    args.push(s(out));
    run("ffmpeg", "ffmpeg", &args)
}

/// A fresh empty directory under the system temp dir, removed when dropped (generated
/// audio is tens of megabytes; test processes must not leave it behind).
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the directory on disk (e.g. `bench-acquisition --keep`) and returns its path.
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A new [`Scratch`] directory named after `name`, unique per process and call.
pub fn scratch_dir(name: &str) -> Scratch {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "cratedigger-audio-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::create_dir_all(&path);
    Scratch { path, keep: false }
}
