//! Fake-lossless detection by spectral cutoff.
//!
//! Why: a lossless file made from an MP3 or AAC keeps the lossy encoder's low-pass filter.
//! Encoders cut the highs to spend their bits where ears notice (LAME: 128 kbps about 16-17 kHz,
//! 192 kbps about 18.5-19 kHz, 320 kbps about 20-20.5 kHz), and what is left above the cut is
//! nothing but the new container's quantisation noise. A real recording or a master carries
//! noise, air and harmonics up to (almost) half the sample rate, or rolls off gently.
//!
//! How (see [`analyse`]): the decoder feeds mono samples (channels averaged) to a
//! [`SpectrumAnalyser`], which takes at most [`SpectrumOptions::max_windows`] Hann-windowed
//! FFT windows spread evenly over the whole file and averages their power spectra. The average
//! is grouped into ~86 Hz bands (in dB). The detector then looks for a **cliff**: the band edge
//! where the level just below (the last ~1 kHz) is far above the loudest band anywhere above
//! it. A cliff that deep (default 25 dB) between 15 kHz and 19.9 kHz is the lossy signature
//! (`likely_transcode`); a cliff at 20.8 kHz or higher, or content that reaches half the sample
//! rate, is `genuine`; a cliff between those (20-20.8 kHz: 256-320 kbps encodes, but also the
//! anti-alias filter of a sample-rate converter) is `unknown`, as is content that simply has no
//! highs (silence, a bass line, a dark recording rolling off gently) - absence of evidence is
//! not a verdict. The confidence grows with the depth of the cliff and its distance from the
//! ambiguous zone.
//!
//! Cost: windows are spread evenly with a stride that doubles whenever too many have been
//! kept, so the FFT work is bounded whatever the file length (a 4096-point real FFT is ~15 us;
//! the decode that feeds the analyser costs far more).

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the spectrum is analysed; every field has a default (`[audio.spectrum]` in config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectrumOptions {
    /// Turn the analysis off (the report then says `unknown`, "analysis disabled").
    pub enabled: bool,
    /// FFT length in samples (a power of two, 1024..=32768); 4096 gives ~10.8 Hz bins at 44.1 kHz.
    pub fft_size: usize,
    /// Most windows averaged per file; bounds the CPU work (min 8).
    pub max_windows: usize,
    /// A cliff must be at least this deep (dB) to count as an encoder's low-pass.
    pub min_edge_db: f32,
    /// Cliffs at or above this frequency (Hz) and below [`Self::transcode_below_hz`] mark a
    /// lossless file as `likely_transcode`; lower cliffs are `unknown` (band-limited material or
    /// a very low bitrate source).
    pub transcode_above_hz: f32,
    /// Upper end of the lossy zone (Hz). 256-320 kbps encodes cut near 19.5-20.5 kHz, where
    /// sample-rate converters also cut, so the zone between this and
    /// [`Self::genuine_above_hz`] is `unknown`.
    pub transcode_below_hz: f32,
    /// A cliff at or above this frequency (Hz), or content reaching it, is `genuine`
    /// (capped at 95 % of half the sample rate for low sample rates).
    pub genuine_above_hz: f32,
}

impl Default for SpectrumOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            fft_size: 4096,
            max_windows: 256,
            min_edge_db: 25.0,
            transcode_above_hz: 15_000.0,
            transcode_below_hz: 19_900.0,
            genuine_above_hz: 20_800.0,
        }
    }
}

impl SpectrumOptions {
    /// Clamps out-of-range values so a bad config cannot make the analysis unbounded or panic.
    pub fn sanitised(&self) -> SpectrumOptions {
        let mut o = self.clone();
        o.fft_size = o.fft_size.clamp(1024, 32_768).next_power_of_two();
        o.max_windows = o.max_windows.clamp(8, 4096);
        if !o.min_edge_db.is_finite() || o.min_edge_db < 6.0 {
            o.min_edge_db = 25.0;
        }
        for (v, d) in [
            (&mut o.transcode_above_hz, 15_000.0),
            (&mut o.transcode_below_hz, 19_900.0),
            (&mut o.genuine_above_hz, 20_800.0),
        ] {
            if !v.is_finite() || *v <= 0.0 {
                *v = d;
            }
        }
        o
    }
}

/// What the spectrum says about a claim of losslessness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LosslessVerdict {
    /// Content reaches (almost) half the sample rate, or stops where only studio filters cut.
    Genuine,
    /// The lossless file carries a lossy encoder's low-pass: an MP3/AAC in disguise.
    LikelyTranscode,
    /// The evidence does not decide: silence, band-limited material, a cliff in the 256-320
    /// kbps zone, or analysis disabled.
    Unknown,
    /// The file is lossy: the cutoff is reported, but the verdict only judges lossless files.
    NotApplicable,
}

impl LosslessVerdict {
    /// Stable lower-case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            LosslessVerdict::Genuine => "genuine",
            LosslessVerdict::LikelyTranscode => "likely_transcode",
            LosslessVerdict::Unknown => "unknown",
            LosslessVerdict::NotApplicable => "not_applicable",
        }
    }
}

impl std::fmt::Display for LosslessVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The spectral half of a verification report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrumReport {
    /// Frequency (Hz) above which the file holds no meaningful content; half the sample rate
    /// when the content reaches the top. `None` when nothing was analysed (silence, disabled).
    pub cutoff_hz: Option<u32>,
    /// What the cutoff means for a lossless claim.
    pub verdict: LosslessVerdict,
    /// How strongly the evidence supports the verdict, 0..1 (0 for `unknown` and
    /// `not_applicable`). Not a yes/no: callers pick their own threshold.
    pub confidence: f32,
    /// Depth (dB) of the steepest cliff found (level of the last ~1 kHz below it minus the
    /// loudest band above it); small for content without a brick-wall low-pass.
    pub edge_db: f32,
    /// Number of FFT windows averaged.
    pub windows: u32,
    /// One sentence for a person explaining the verdict.
    pub reason: String,
}

impl SpectrumReport {
    /// A report saying nothing could be concluded, with the reason.
    pub fn unknown(reason: impl Into<String>) -> Self {
        Self {
            cutoff_hz: None,
            verdict: LosslessVerdict::Unknown,
            confidence: 0.0,
            edge_db: 0.0,
            windows: 0,
            reason: reason.into(),
        }
    }
}

/// Collects evenly spread FFT windows from a stream of mono samples of unknown length.
///
/// Windows are the consecutive, non-overlapping blocks of `fft_size` samples; block `b` is
/// analysed when `b % stride == 0`. When `2 * max_windows` spectra are kept, every other one is
/// dropped and the stride doubles, so the kept windows always cover the whole stream evenly and
/// memory and FFT work stay bounded.
pub struct SpectrumAnalyser {
    opts: SpectrumOptions,
    sample_rate: u32,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    window_power: f32,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Samples of the current block, when it is one to analyse.
    block: Vec<f32>,
    block_index: u64,
    filled: usize,
    stride: u64,
    /// (block index, power spectrum) of the kept windows.
    kept: Vec<(u64, Vec<f32>)>,
}

impl SpectrumAnalyser {
    /// A new analyser; `expected_samples` (if known) sets the initial stride so that few windows
    /// are computed and thrown away.
    pub fn new(opts: &SpectrumOptions, sample_rate: u32, expected_samples: Option<u64>) -> Self {
        let opts = opts.sanitised();
        let n = opts.fft_size;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        let window: Vec<f32> = (0..n)
            .map(|i| {
                let x = std::f32::consts::PI * 2.0 * i as f32 / n as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let window_power = window.iter().map(|w| w * w).sum::<f32>();
        let stride = expected_samples
            .map(|s| (s / n as u64) / opts.max_windows as u64)
            .unwrap_or(1)
            .max(1);
        Self {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            window_power,
            block: Vec::with_capacity(n),
            block_index: 0,
            filled: 0,
            stride,
            kept: Vec::new(),
            sample_rate: sample_rate.max(1),
            opts,
        }
    }

    /// Feeds mono samples (any length); cheap for samples of blocks that are skipped.
    pub fn push(&mut self, mut samples: &[f32]) {
        let n = self.opts.fft_size;
        while !samples.is_empty() {
            let take = (n - self.filled).min(samples.len());
            if self.block_index.is_multiple_of(self.stride) {
                self.block.extend_from_slice(&samples[..take]);
            }
            self.filled += take;
            samples = &samples[take..];
            if self.filled == n {
                if self.block_index.is_multiple_of(self.stride) {
                    self.analyse_block();
                }
                self.block.clear();
                self.filled = 0;
                self.block_index += 1;
            }
        }
    }

    fn analyse_block(&mut self) {
        for ((dst, s), w) in self.input.iter_mut().zip(&self.block).zip(&self.window) {
            *dst = if s.is_finite() { s * w } else { 0.0 };
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .is_err()
        {
            return; // lengths are ours; cannot happen
        }
        let norm = self.window_power;
        let power: Vec<f32> = self.output.iter().map(|c| c.norm_sqr() / norm).collect();
        self.kept.push((self.block_index, power));
        if self.kept.len() >= 2 * self.opts.max_windows {
            let next = self.stride * 2;
            self.kept.retain(|(b, _)| b.is_multiple_of(next));
            self.stride = next;
        }
    }

    /// Number of windows analysed so far.
    pub fn windows(&self) -> usize {
        self.kept.len()
    }

    /// The averaged spectrum and the verdict; `lossless` says whether the file claims to be
    /// lossless and `bit_depth` its sample size (for the quantisation floor).
    pub fn finish(self, lossless: bool, bit_depth: Option<u8>) -> SpectrumReport {
        let bins = self.opts.fft_size / 2 + 1;
        let mut mean = vec![0f64; bins];
        for (_, p) in &self.kept {
            for (m, v) in mean.iter_mut().zip(p) {
                *m += f64::from(*v);
            }
        }
        let count = self.kept.len();
        if count > 0 {
            for m in &mut mean {
                *m /= count as f64;
            }
        }
        let mut report = analyse(
            &mean,
            self.sample_rate,
            bit_depth,
            &self.opts,
            lossless,
            count,
        );
        report.windows = u32::try_from(count).unwrap_or(u32::MAX);
        report
    }
}

/// Width of a smoothing band in Hz (~8 bins at 44.1 kHz / 4096).
const BAND_HZ: f64 = 86.0;
/// Width of the "just below the cliff" region in Hz.
const BELOW_HZ: f64 = 1_000.0;
/// Transition allowed between the cliff and the region above it, in Hz.
const GAP_HZ: f64 = 260.0;
/// Mean power (dB) under which the audio counts as silent (a -80 dBFS sine is about -59 dB).
const SILENCE_DB: f64 = -95.0;
/// Lowest frequency where a cliff is looked for.
const SEARCH_FROM_HZ: f64 = 10_000.0;
/// Content must be this far (dB) above the floor to count as content.
const CONTENT_OVER_FLOOR_DB: f64 = 12.0;

/// The cutoff verdict for one averaged power spectrum (`power[k]` for bins 0..=N/2, each the
/// mean of |X_k|^2 / sum(w^2) over the windows). Pure so it can be tested on made-up spectra.
pub fn analyse(
    power: &[f64],
    sample_rate: u32,
    bit_depth: Option<u8>,
    opts: &SpectrumOptions,
    lossless: bool,
    windows: usize,
) -> SpectrumReport {
    let opts = opts.sanitised();
    if !opts.enabled {
        return SpectrumReport::unknown("spectral analysis is disabled in the configuration");
    }
    if power.len() < 64 || windows == 0 {
        return SpectrumReport::unknown(
            "the audio is too short for a spectral analysis (less than one FFT window)",
        );
    }
    let nyquist = f64::from(sample_rate) / 2.0;
    let bin_hz = nyquist / (power.len() - 1) as f64;
    let per_band = ((BAND_HZ / bin_hz).round() as usize).max(1);
    // Bands from 0 Hz; band i covers bins [i*per_band, (i+1)*per_band).
    let bands: Vec<f64> = power
        .chunks(per_band)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let band_hz = per_band as f64 * bin_hz;
    let db = |p: f64| 10.0 * (p.max(1e-30)).log10();
    let levels: Vec<f64> = bands.iter().map(|&p| db(p)).collect();
    let total = db(power.iter().sum::<f64>() / power.len() as f64);
    if total < SILENCE_DB {
        return SpectrumReport::unknown(format!(
            "the audio is (nearly) silent (mean level {total:.0} dB), so there is no spectrum to judge"
        ));
    }
    // The floor a file of this bit depth cannot go under: rounding noise q^2/12 with
    // q = 2^(1-bits), halved by the mono downmix of two channels. Otherwise the 5th percentile
    // of the band levels above 1 kHz (the quietest part of the spectrum).
    let first = ((1_000.0 / band_hz) as usize).min(levels.len() - 1);
    let floor = match bit_depth {
        Some(b) if (8..=32).contains(&b) => {
            let q = 2f64.powi(1 - i32::from(b));
            db(q * q / 12.0 / 2.0)
        }
        _ => {
            let mut v = levels[first..].to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 20]
        }
    };
    // Find the deepest cliff: level of the ~1 kHz below a band edge minus the loudest band
    // above it (after a small transition gap). The last band (touching Nyquist) is never a
    // cliff's lower side, and at least 3 bands must lie above.
    let below_n = ((BELOW_HZ / band_hz).round() as usize).max(2);
    let gap_n = ((GAP_HZ / band_hz).round() as usize).max(1);
    let top = levels.len() - 1; // last band, may be partial
    let mut suffix_max = vec![f64::NEG_INFINITY; levels.len() + 1];
    for i in (0..levels.len()).rev() {
        suffix_max[i] = suffix_max[i + 1].max(levels[i]);
    }
    // Cliffs are searched from 10 kHz up (lossy low-passes live there; a bass line stopping
    // at 200 Hz is not one) and the HIGHEST qualifying one wins, so a deep edge elsewhere
    // cannot hide the encoder's. Within ~1 kHz below the highest qualifying band, the
    // deepest drop marks the edge.
    let drop_at = |i: usize| {
        let below = db(bands[i + 1 - below_n..=i].iter().sum::<f64>() / below_n as f64);
        let above = suffix_max[i + 1 + gap_n];
        (below - above, above)
    };
    let lo = ((SEARCH_FROM_HZ / band_hz) as usize).max(below_n);
    let hi = top.saturating_sub(gap_n + 3);
    let min_edge = f64::from(opts.min_edge_db);
    let mut best: Option<(usize, f64, f64)> = None; // (band, drop, level above)
    let mut deepest = 0f64;
    for i in (lo..hi).rev() {
        let (drop, _) = drop_at(i);
        deepest = deepest.max(drop);
        if drop >= min_edge {
            for j in (i.saturating_sub(below_n).max(lo)..=i).rev() {
                let (d, above) = drop_at(j);
                if best.is_none_or(|(_, bd, _)| d > bd) {
                    best = Some((j, d, above));
                }
            }
            break;
        }
    }
    let edge_hz = |band: usize| ((band + 1) as f64 * band_hz).min(nyquist);
    // Reported cutoff: the highest band clearly above the floor (the level above the cliff
    // when there is one, else the bit-depth floor).
    let highest_over = |floor_db: f64| {
        levels
            .iter()
            .rposition(|&l| l > floor_db + CONTENT_OVER_FLOOR_DB)
            .map(edge_hz)
    };
    let genuine_above = opts.genuine_above_hz.min((0.95 * nyquist) as f32) as f64;
    let lossy_zone = f64::from(opts.transcode_above_hz)..f64::from(opts.transcode_below_hz);
    let edge_db = best.map(|(_, d, _)| d).unwrap_or(deepest);
    let cliff = best;
    let khz = |hz: f64| hz / 1000.0;

    let (cutoff, verdict, confidence, reason) = if let Some((band, drop, above)) = cliff {
        let cutoff = highest_over(above)
            .unwrap_or(edge_hz(band))
            .min(edge_hz(band + gap_n));
        let at = cutoff;
        if !lossless {
            (cutoff, LosslessVerdict::NotApplicable, 0.0, String::new())
        } else if lossy_zone.contains(&at) {
            // Depth: 0.5 at the threshold, 1.0 twenty dB deeper; position: full below 19 kHz,
            // down to 0.7 at the top of the zone.
            let depth = 0.5 + 0.5 * ((drop - f64::from(opts.min_edge_db)) / 20.0).clamp(0.0, 1.0);
            let pos = if at <= 19_000.0 {
                1.0
            } else {
                1.0 - 0.3 * ((at - 19_000.0) / (lossy_zone.end - 19_000.0).max(1.0)).clamp(0.0, 1.0)
            };
            (
                cutoff,
                LosslessVerdict::LikelyTranscode,
                (depth * pos).min(0.99),
                format!(
                    "content stops abruptly at {:.1} kHz ({drop:.0} dB cliff) with nothing above: the low-pass of a lossy encoder ({}), not a lossless master",
                    khz(at),
                    typical_bitrate(at)
                ),
            )
        } else if at >= genuine_above {
            (
                cutoff,
                LosslessVerdict::Genuine,
                0.8,
                format!(
                    "content reaches {:.1} kHz before a steep filter ({drop:.0} dB): a studio or converter anti-alias filter, above any lossy encoder's low-pass",
                    khz(at)
                ),
            )
        } else if at >= lossy_zone.end {
            (
                cutoff,
                LosslessVerdict::Unknown,
                0.0,
                format!(
                    "content stops abruptly at {:.1} kHz ({drop:.0} dB cliff): a 256-320 kbps lossy encode cuts there, and so do some sample-rate converters, so the spectrum cannot decide",
                    khz(at)
                ),
            )
        } else {
            (
                cutoff,
                LosslessVerdict::Unknown,
                0.0,
                format!(
                    "content stops abruptly at {:.1} kHz ({drop:.0} dB cliff), below the low-pass of MP3/AAC encodes at 128 kbps and up: band-limited material or a very low-bitrate source",
                    khz(at)
                ),
            )
        }
    } else {
        let cutoff = highest_over(floor).unwrap_or(0.0);
        if !lossless {
            (cutoff, LosslessVerdict::NotApplicable, 0.0, String::new())
        } else if cutoff >= genuine_above {
            let margin = levels[top.saturating_sub(gap_n + 3)..top]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max)
                - floor;
            let suspicion = (edge_db / f64::from(opts.min_edge_db)).clamp(0.0, 1.0);
            let conf = (0.5 + margin / 40.0).clamp(0.5, 0.99) * (1.0 - 0.4 * suspicion);
            (
                cutoff,
                LosslessVerdict::Genuine,
                conf,
                format!(
                    "content reaches {:.1} kHz without a brick-wall low-pass (steepest edge {edge_db:.0} dB)",
                    khz(cutoff)
                ),
            )
        } else {
            (
                cutoff,
                LosslessVerdict::Unknown,
                0.0,
                format!(
                    "content fades out near {:.1} kHz without a brick-wall low-pass: band-limited material, which says nothing about a lossy past",
                    khz(cutoff)
                ),
            )
        }
    };
    let mut reason = reason;
    if !lossless {
        reason = format!(
            "lossy file: content stops at {:.1} kHz ({}); the verdict judges lossless files only",
            khz(cutoff),
            typical_bitrate(cutoff)
        );
    } else if nyquist > 26_000.0 && cutoff <= 24_000.0 && verdict == LosslessVerdict::Genuine {
        reason.push_str(&format!(
            "; for a {:.0} kHz file, content ending there suggests an upsampled CD-quality source",
            khz(f64::from(sample_rate))
        ));
    }
    SpectrumReport {
        cutoff_hz: Some(cutoff.round() as u32),
        verdict,
        confidence: confidence as f32,
        edge_db: edge_db.max(0.0) as f32,
        windows: 0,
        reason,
    }
}

/// The lossy bitrate a cutoff is typical of (LAME 3.100 CBR low-passes as measured by
/// `bench-acquisition`: 128 kbps 16.7-17.1 kHz, 160 17.4-17.8, 192 18.8-19.1, 256 19.6-19.8,
/// 320 20.2-20.4).
fn typical_bitrate(hz: f64) -> &'static str {
    match hz {
        h if h < 15_000.0 => "typical of 96 kbps or less",
        h if h < 17_300.0 => "typical of 128 kbps MP3",
        h if h < 18_300.0 => "typical of 160 kbps MP3",
        h if h < 19_300.0 => "typical of 192 kbps MP3",
        h if h < 20_000.0 => "typical of 224-256 kbps MP3",
        h if h < 20_800.0 => "typical of 320 kbps MP3",
        _ => "above every MP3 low-pass",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up spectrum: `level_db` up to `cut_hz`, then a slope of `slope_db_per_khz`
    /// down to `floor_db`.
    fn spectrum(level_db: f64, cut_hz: f64, slope_db_per_khz: f64, floor_db: f64) -> Vec<f64> {
        let bins = 2049;
        let nyq = 22_050.0;
        (0..bins)
            .map(|k| {
                let f = k as f64 * nyq / (bins - 1) as f64;
                let l = if f <= cut_hz {
                    level_db
                } else {
                    (level_db - (f - cut_hz) / 1000.0 * slope_db_per_khz).max(floor_db)
                };
                10f64.powf(l / 10.0)
            })
            .collect()
    }

    fn run(p: &[f64], lossless: bool) -> SpectrumReport {
        analyse(
            p,
            44_100,
            Some(16),
            &SpectrumOptions::default(),
            lossless,
            100,
        )
    }

    #[test]
    fn brick_wall_at_16k_is_a_transcode() {
        let r = run(&spectrum(-50.0, 16_000.0, 400.0, -104.0), true);
        assert_eq!(r.verdict, LosslessVerdict::LikelyTranscode, "{r:?}");
        let c = r.cutoff_hz.unwrap();
        assert!((15_900..=16_400).contains(&c), "{r:?}");
        assert!(r.confidence > 0.9, "{r:?}");
        assert!(r.reason.contains("128 kbps"), "{r:?}");
    }

    #[test]
    fn flat_to_nyquist_is_genuine() {
        let r = run(&spectrum(-40.0, 22_050.0, 0.0, -104.0), true);
        assert_eq!(r.verdict, LosslessVerdict::Genuine, "{r:?}");
        assert!(r.cutoff_hz.unwrap() >= 21_900, "{r:?}");
        assert!(r.confidence > 0.9, "{r:?}");
    }

    #[test]
    fn gentle_rolloff_is_unknown_not_transcode() {
        // 6 dB per kHz from 4 kHz: reaches the floor far below Nyquist, but no cliff.
        let r = run(&spectrum(-40.0, 4_000.0, 6.0, -104.0), true);
        assert_eq!(r.verdict, LosslessVerdict::Unknown, "{r:?}");
        assert!(r.edge_db < 25.0, "{r:?}");
    }

    #[test]
    fn cliff_in_the_320_zone_is_unknown_and_above_is_genuine() {
        let r = run(&spectrum(-50.0, 20_400.0, 400.0, -104.0), true);
        assert_eq!(r.verdict, LosslessVerdict::Unknown, "{r:?}");
        assert!(r.reason.contains("256-320"), "{r:?}");
        let r = run(&spectrum(-50.0, 21_300.0, 400.0, -104.0), true);
        assert_eq!(r.verdict, LosslessVerdict::Genuine, "{r:?}");
    }

    #[test]
    fn low_cliff_is_unknown_and_lossy_is_not_applicable() {
        let r = run(&spectrum(-50.0, 8_000.0, 400.0, -104.0), true);
        assert_eq!(r.verdict, LosslessVerdict::Unknown, "{r:?}");
        let r = run(&spectrum(-50.0, 16_000.0, 400.0, -104.0), false);
        assert_eq!(r.verdict, LosslessVerdict::NotApplicable, "{r:?}");
        assert_eq!(r.confidence, 0.0);
        assert!(r.reason.starts_with("lossy file"), "{r:?}");
    }

    #[test]
    fn silence_and_garbage_numbers_do_not_panic() {
        let r = run(&vec![0.0; 2049], true);
        assert_eq!(r.verdict, LosslessVerdict::Unknown);
        assert!(r.reason.contains("silent"), "{r:?}");
        let r = run(&[1.0; 10], true);
        assert_eq!(r.verdict, LosslessVerdict::Unknown);
        let weird = vec![f64::NAN; 2049];
        let _ = run(&weird, true);
        let opts = SpectrumOptions {
            fft_size: 3,
            max_windows: 0,
            min_edge_db: f32::NAN,
            ..Default::default()
        };
        let mut a = SpectrumAnalyser::new(&opts, 0, Some(u64::MAX));
        a.push(&[f32::NAN, f32::INFINITY, 1.0]);
        let _ = a.finish(true, None);
    }

    #[test]
    fn analyser_windows_stay_bounded_and_spread() {
        let opts = SpectrumOptions {
            max_windows: 16,
            fft_size: 1024,
            ..Default::default()
        };
        let mut a = SpectrumAnalyser::new(&opts, 44_100, None);
        let mut x = 1u32;
        let chunk: Vec<f32> = (0..1000)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        for _ in 0..1000 {
            a.push(&chunk); // 1,000,000 samples = 976 blocks
        }
        assert!(a.windows() >= 16 && a.windows() < 32, "{}", a.windows());
        let last = a.kept.last().map(|(b, _)| *b).unwrap();
        assert!(
            last > 976 / 2,
            "windows cover the whole stream: last block {last}"
        );
        let r = a.finish(true, Some(16));
        assert_eq!(r.verdict, LosslessVerdict::Genuine, "{r:?}");
    }
}
