//! `cratedigger verify FILE [--json]`: the acquisition worker's checks on any file a DJ
//! already owns. Decodes the whole file, prints codec, duration, bitrate, sample rate, bit
//! depth, the spectral cutoff, the fake-lossless verdict and its confidence. Runs locally (no
//! settings, scheduler or network needed).
//!
//! Exit codes, for scripts (`for f in *.flac; do cratedigger verify "$f" || ...`):
//! 0 the file decodes and nothing is wrong with it; 1 it cannot be read (corrupt, truncated,
//! not audio: the sentence says which); 2 it decodes but is probably a lossy file in a
//! lossless container (confidence >= 0.5) or misses `--duration`.

use cratedigger_audio::verify::{DurationVerdict, VerifyOptions, VerifyReport, verify_file};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Transcode confidence from which `verify` exits with 2.
pub const SUSPICIOUS_CONFIDENCE: f32 = 0.5;

/// Why `--duration` could not be read.
#[derive(Debug, thiserror::Error)]
#[error("--duration '{0}' is not a duration: use seconds (372) or minutes:seconds (6:12)")]
pub struct DurationArgError(String);

/// Reads `372`, `372.5` or `6:12` (minutes:seconds) as milliseconds.
pub fn parse_duration(s: &str) -> Result<u64, DurationArgError> {
    let bad = || DurationArgError(s.chars().take(40).collect());
    let t = s.trim();
    let secs: f64 = match t.split_once(':') {
        Some((m, sec)) => {
            let m: u32 = m.parse().map_err(|_| bad())?;
            let sec: f64 = sec.parse().map_err(|_| bad())?;
            if !(0.0..60.0).contains(&sec) {
                return Err(bad());
            }
            f64::from(m) * 60.0 + sec
        }
        None => t.parse().map_err(|_| bad())?,
    };
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(bad());
    }
    Ok((secs * 1000.0).round() as u64)
}

/// Runs the checks off the async runtime (decoding is CPU work) and returns what to print on
/// standard output and the exit code. An unreadable file is `Err` with the sentence to
/// print, except with `json`, where the error is a JSON document too.
pub async fn run(
    file: PathBuf,
    json: bool,
    expected_duration_ms: Option<u64>,
) -> anyhow::Result<(String, ExitCode)> {
    let opts = VerifyOptions {
        expected_duration_ms,
        ..Default::default()
    };
    let path = file.clone();
    let result = tokio::task::spawn_blocking(move || verify_file(&path, &opts)).await?;
    match result {
        Ok(report) => {
            let code = if report.rejection(SUSPICIOUS_CONFIDENCE).is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
            let out = if json {
                serde_json::to_string_pretty(&report)? + "\n"
            } else {
                render(&report)
            };
            Ok((out, code))
        }
        Err(e) if json => {
            let doc = json!({ "path": file.display().to_string(), "error": e.to_string() });
            Ok((
                serde_json::to_string_pretty(&doc)? + "\n",
                ExitCode::FAILURE,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn fmt_ms(ms: u64) -> String {
    let (m, s) = (ms / 60_000, (ms % 60_000) as f64 / 1000.0);
    format!("{m}:{s:06.3}")
}

/// The report as aligned text for a person.
pub fn render(r: &VerifyReport) -> String {
    let mut out = format!("{}\n", r.path);
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<12} {v}\n"));
    let kind = if r.lossless { "lossless" } else { "lossy" };
    line(
        "codec",
        format!("{} in a {} container ({kind})", r.codec, r.container),
    );
    line("duration", fmt_ms(r.duration_ms));
    line("bitrate", format!("{} kbps (average)", r.bitrate_kbps));
    line(
        "sample rate",
        format!("{:.1} kHz", f64::from(r.sample_rate_hz) / 1000.0),
    );
    line(
        "bit depth",
        r.bit_depth
            .map(|b| format!("{b} bit"))
            .unwrap_or_else(|| "- (lossy)".into()),
    );
    line("channels", r.channels.to_string());
    let s = &r.spectrum;
    line(
        "cutoff",
        s.cutoff_hz
            .map(|c| format!("{:.1} kHz", f64::from(c) / 1000.0))
            .unwrap_or_else(|| "-".into()),
    );
    line(
        "verdict",
        format!("{} (confidence {:.2})", s.verdict, s.confidence),
    );
    line("why", s.reason.clone());
    if let Some(d) = &r.duration_check {
        let v = match d.verdict {
            DurationVerdict::Matches => "matches",
            DurationVerdict::TooShort => "too short",
            DurationVerdict::TooLong => "too long",
        };
        line(
            "expected",
            format!(
                "{} ({v}: {:+.1} s, tolerance {} s)",
                fmt_ms(d.expected_ms),
                d.difference_ms as f64 / 1000.0,
                d.tolerance_ms / 1000
            ),
        );
    }
    if let Some(why) = r.rejection(SUSPICIOUS_CONFIDENCE) {
        out.push_str(&format!("\nwould be rejected: {why}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cratedigger_audio::testing;

    #[test]
    fn durations_from_the_command_line() {
        assert_eq!(parse_duration("372").unwrap(), 372_000);
        assert_eq!(parse_duration("6:12").unwrap(), 372_000);
        assert_eq!(parse_duration("6:12.5").unwrap(), 372_500);
        for bad in ["", "6:61", "abc", "-3", "1e9", "NaN", "6:"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.to_string().contains("is not a duration"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn verify_prints_the_facts_and_exits_by_verdict() {
        let dir = testing::scratch_dir("cli-verify");
        let wav = dir.join("track.wav");
        testing::write_wav(&wav, &testing::broadband(3.0, 11)).unwrap();
        let (out, code) = run(wav.clone(), false, Some(3_000)).await.unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        for want in [
            "codec        pcm_s16le in a wave container (lossless)",
            "duration     0:03.000",
            "bitrate      1411 kbps (average)",
            "sample rate  44.1 kHz",
            "bit depth    16 bit",
            "channels     2",
            "cutoff       22.1 kHz",
            "verdict      genuine (confidence",
            "expected     0:03.000 (matches: +0.0 s, tolerance 3 s)",
        ] {
            assert!(out.contains(want), "missing {want:?} in:\n{out}");
        }
        let (out, code) = run(wav.clone(), true, Some(60_000)).await.unwrap();
        assert_eq!(code, ExitCode::from(2), "duration mismatch exits 2");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["spectrum"]["verdict"], "genuine");
        assert_eq!(v["duration_check"]["verdict"], "too_short");

        let bad = dir.join("broken.flac");
        std::fs::write(&bad, b"fLaC but then nothing useful").unwrap();
        let e = run(bad.clone(), false, None).await.unwrap_err();
        assert!(e.to_string().contains("broken.flac"), "{e}");
        let (out, code) = run(bad, true, None).await.unwrap();
        assert_eq!(code, ExitCode::FAILURE);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["error"].as_str().unwrap().contains("broken.flac"), "{v}");
    }
}
