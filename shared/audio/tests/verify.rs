//! Verification on audio made in the test: a broadband signal written as WAV, encoded with the
//! Debian `flac`, `lame` and `ffmpeg` tools (installed by `.ci/run`; a missing tool fails the
//! test with the `apt-get install` line to run).

use cratedigger_audio::spectrum::LosslessVerdict;
use cratedigger_audio::testing::{self, Genre, Signal, ToolError};
use cratedigger_audio::verify::{DurationVerdict, VerifyError, VerifyOptions, verify_file};
use cratedigger_music::quality::AudioFormat;
use std::path::{Path, PathBuf};

/// Panics with the tool's install hint.
fn need<T>(r: Result<T, ToolError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// The generated files of one test, removed with it. Each test process (nextest runs one per
/// test) makes only what it asks for.
struct Set {
    dir: testing::Scratch,
    wav: PathBuf,
}

const SECONDS: f64 = 8.0;

impl Set {
    fn new() -> Set {
        let dir = testing::scratch_dir("verify");
        let wav = dir.join("broadband.wav");
        testing::write_wav(&wav, &testing::broadband(SECONDS, 7)).expect("write wav");
        Set { dir, wav }
    }
    fn flac(&self) -> PathBuf {
        let flac = self.dir.join("broadband.flac");
        if !flac.exists() {
            need(testing::flac_encode(&self.wav, &flac));
        }
        flac
    }
    fn transcode(&self, kbps: u32) -> PathBuf {
        need(testing::mp3_transcode_flac(
            &self.wav,
            kbps,
            &self.dir,
            "broadband",
        ))
    }
    fn mp3(&self) -> PathBuf {
        let mp3 = self.dir.join("broadband.128.mp3");
        if !mp3.exists() {
            need(testing::mp3_encode(&self.wav, 128, &mp3));
        }
        mp3
    }
}

fn verify(p: &Path) -> cratedigger_audio::VerifyReport {
    verify_file(p, &VerifyOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn genuine_flac_passes_with_its_facts() {
    let set = Set::new();
    let r = verify(&set.flac());
    assert_eq!(r.codec, "flac");
    assert_eq!(r.container, "flac");
    assert_eq!(r.format, Some(AudioFormat::Flac));
    assert!(r.lossless);
    assert_eq!(r.sample_rate_hz, 44_100);
    assert_eq!(r.bit_depth, Some(16));
    assert_eq!(r.channels, 2);
    assert!(r.duration_ms.abs_diff(8_000) <= 1, "{}", r.duration_ms);
    // 16/44.1 stereo PCM is 1411 kbps; FLAC of noisy material keeps most of it.
    assert!((500..1411).contains(&r.bitrate_kbps), "{}", r.bitrate_kbps);
    let s = &r.spectrum;
    assert_eq!(s.verdict, LosslessVerdict::Genuine, "{s:?}");
    assert!(s.confidence >= 0.8, "{s:?}");
    assert!(s.cutoff_hz.unwrap() >= 21_000, "{s:?}");
    assert!(s.windows >= 50, "{s:?}");
    assert_eq!(r.rejection(0.5), None);
    let props = r.props().expect("flac is an AudioFormat");
    assert_eq!(props.quality.format, AudioFormat::Flac);
    assert_eq!(props.quality.bit_depth, Some(16));
    assert_eq!(props.quality.sample_rate_hz, Some(44_100));
    assert_eq!(props.duration_ms, r.duration_ms);
}

#[test]
fn mp3_128_transcoded_to_flac_is_flagged_near_16_khz() {
    let set = Set::new();
    let r = verify(&set.transcode(128));
    assert_eq!(r.format, Some(AudioFormat::Flac));
    let s = &r.spectrum;
    assert_eq!(s.verdict, LosslessVerdict::LikelyTranscode, "{s:?}");
    let cutoff = s.cutoff_hz.unwrap();
    // LAME's 128 kbps low-pass is ~16.5-17 kHz.
    assert!((15_500..=17_500).contains(&cutoff), "{s:?}");
    assert!(s.confidence >= 0.8, "{s:?}");
    assert!(s.edge_db >= 30.0, "{s:?}");
    let why = r.rejection(0.5).expect("a likely transcode is rejected");
    assert!(why.contains("lossy file in a lossless container"), "{why}");
}

/// 320 kbps: LAME low-passes at ~20.2-20.4 kHz. The detector reports the cutoff but says
/// `unknown`: sample-rate converters and some mastering chains put a steep filter at the same
/// place in genuine files, so calling it a transcode would reject real lossless files.
#[test]
fn mp3_320_transcode_cutoff_is_reported_near_20_khz_as_unknown() {
    let set = Set::new();
    let r = verify(&set.transcode(320));
    let s = &r.spectrum;
    let cutoff = s.cutoff_hz.unwrap();
    assert!((19_800..=20_800).contains(&cutoff), "{s:?}");
    assert_eq!(s.verdict, LosslessVerdict::Unknown, "{s:?}");
    assert_eq!(s.confidence, 0.0);
    assert!(s.reason.contains("256-320 kbps"), "{s:?}");
    assert!(s.edge_db >= 30.0, "{s:?}");
    assert_eq!(r.rejection(0.5), None);
}

#[test]
fn the_mp3_itself_is_lossy_and_not_judged() {
    let set = Set::new();
    let r = verify(&set.mp3());
    assert_eq!(r.codec, "mp3");
    assert_eq!(r.format, Some(AudioFormat::Mp3));
    assert!(!r.lossless);
    assert_eq!(r.bit_depth, None);
    assert!((120..=136).contains(&r.bitrate_kbps), "{}", r.bitrate_kbps);
    // Gapless trimming: within a frame of the source.
    assert!(r.duration_ms.abs_diff(8_000) <= 30, "{}", r.duration_ms);
    assert_eq!(r.spectrum.verdict, LosslessVerdict::NotApplicable);
    assert!(r.spectrum.reason.contains("128 kbps"), "{:?}", r.spectrum);
    assert_eq!(
        r.props().unwrap().quality.bitrate_kbps,
        Some(r.bitrate_kbps)
    );
}

#[test]
fn a_320_kbps_mp3_made_from_a_128_kbps_one_is_called_out() {
    let set = Set::new();
    let dir = &set.dir;
    let wav = dir.join("from128.wav");
    need(testing::mp3_decode(&set.mp3(), &wav));
    let fake = dir.join("fake320.mp3");
    need(testing::mp3_encode(&wav, 320, &fake));
    let r = verify(&fake);
    assert!(r.bitrate_kbps >= 300, "{}", r.bitrate_kbps);
    assert_eq!(r.spectrum.verdict, LosslessVerdict::NotApplicable);
    assert!(
        r.spectrum
            .reason
            .contains("re-encoded from a lower bitrate"),
        "{:?}",
        r.spectrum
    );
    // A true 320 kbps encode is not.
    let real = dir.join("real320.mp3");
    need(testing::mp3_encode(&set.wav, 320, &real));
    let r = verify(&real);
    assert!(
        !r.spectrum.reason.contains("re-encoded"),
        "{:?}",
        r.spectrum
    );
}

#[test]
fn an_mp3_named_flac_is_a_fake() {
    let set = Set::new();
    let fake = set.dir.join("renamed-mp3.flac");
    std::fs::copy(set.mp3(), &fake).unwrap();
    let r = verify(&fake);
    assert_eq!(r.format, Some(AudioFormat::Mp3));
    assert_eq!(r.spectrum.verdict, LosslessVerdict::LikelyTranscode);
    assert!(
        r.spectrum.reason.contains("named .flac"),
        "{:?}",
        r.spectrum
    );
    assert!(r.rejection(0.9).is_some());
}

#[test]
fn a_wav_verifies() {
    let set = Set::new();
    let r = verify(&set.wav);
    assert_eq!(r.format, Some(AudioFormat::Wav));
    assert_eq!(r.container, "wave");
    assert!(r.codec.starts_with("pcm"), "{}", r.codec);
    assert_eq!(r.bit_depth, Some(16));
    assert_eq!(r.bitrate_kbps, 1411);
    assert_eq!(r.spectrum.verdict, LosslessVerdict::Genuine);
    assert_eq!(r.duration_ms, 8_000);
}

#[test]
fn an_aiff_verifies() {
    let set = Set::new();
    let p = set.dir.join("broadband.aiff");
    testing::write_aiff(&p, &testing::broadband(3.0, 9)).unwrap();
    let r = verify(&p);
    assert_eq!(r.format, Some(AudioFormat::Aiff));
    assert_eq!(r.duration_ms, 3_000);
    assert_eq!(
        r.spectrum.verdict,
        LosslessVerdict::Genuine,
        "{:?}",
        r.spectrum
    );
}

#[test]
fn m4a_aac_and_alac_verify() {
    let set = Set::new();
    let dir = &set.dir;
    let aac = dir.join("broadband.aac.m4a");
    need(testing::ffmpeg_encode(&set.wav, "aac", Some(192), &aac));
    let r = verify(&aac);
    assert_eq!(r.format, Some(AudioFormat::Aac));
    assert_eq!(r.container, "isomp4");
    assert!(!r.lossless);
    assert_eq!(r.spectrum.verdict, LosslessVerdict::NotApplicable);
    assert!((150..=230).contains(&r.bitrate_kbps), "{}", r.bitrate_kbps);
    let alac = dir.join("broadband.alac.m4a");
    need(testing::ffmpeg_encode(&set.wav, "alac", None, &alac));
    let r = verify(&alac);
    assert_eq!(r.format, Some(AudioFormat::Alac));
    assert!(r.lossless);
    assert_eq!(r.bit_depth, Some(16));
    assert_eq!(
        r.spectrum.verdict,
        LosslessVerdict::Genuine,
        "{:?}",
        r.spectrum
    );
}

#[test]
fn a_48_khz_flac_and_band_limited_material() {
    let set = Set::new();
    let dir = &set.dir;
    let wav = dir.join("sweep48.wav");
    testing::write_wav(&wav, &testing::generate(Genre::SineSweep, 6.0, 48_000, 1)).unwrap();
    let flac = dir.join("sweep48.flac");
    need(testing::flac_encode(&wav, &flac));
    let r = verify(&flac);
    assert_eq!(r.sample_rate_hz, 48_000);
    assert_eq!(
        r.spectrum.verdict,
        LosslessVerdict::Genuine,
        "{:?}",
        r.spectrum
    );
    assert!(r.spectrum.cutoff_hz.unwrap() >= 23_000, "{:?}", r.spectrum);

    // A bass line alone proves nothing: unknown, never likely_transcode.
    let bass = dir.join("bass.wav");
    testing::write_wav(&bass, &testing::generate(Genre::SubBass, 6.0, 44_100, 1)).unwrap();
    let r = verify(&bass);
    assert_eq!(
        r.spectrum.verdict,
        LosslessVerdict::Unknown,
        "{:?}",
        r.spectrum
    );
    assert!(r.spectrum.cutoff_hz.unwrap() < 2_000, "{:?}", r.spectrum);
}

#[test]
fn silence_is_unknown() {
    let set = Set::new();
    let p = set.dir.join("silence.wav");
    let s = Signal {
        sample_rate: 44_100,
        channels: 2,
        samples: vec![0; 44_100 * 2 * 2],
    };
    testing::write_wav(&p, &s).unwrap();
    let r = verify(&p);
    assert_eq!(r.spectrum.verdict, LosslessVerdict::Unknown);
    assert!(r.spectrum.reason.contains("silent"), "{:?}", r.spectrum);
}

#[test]
fn duration_check_against_the_wanted_track() {
    let set = Set::new();
    let opts = |ms| VerifyOptions {
        expected_duration_ms: Some(ms),
        ..Default::default()
    };
    let r = verify_file(&set.flac(), &opts(10_500)).unwrap();
    let d = r.duration_check.as_ref().unwrap();
    assert_eq!(d.verdict, DurationVerdict::Matches, "{d:?}");
    assert_eq!(d.difference_ms, -2_500);
    let r = verify_file(&set.flac(), &opts(6 * 60_000)).unwrap();
    assert_eq!(
        r.duration_check.as_ref().unwrap().verdict,
        DurationVerdict::TooShort
    );
    let why = r.rejection(0.5).unwrap();
    assert!(
        why.contains("lasts 0:08.000 but the wanted track lasts 6:00.000"),
        "{why}"
    );
    let r = verify_file(&set.flac(), &opts(1_000)).unwrap();
    assert_eq!(r.duration_check.unwrap().verdict, DurationVerdict::TooLong);
}

#[test]
fn truncated_flac_is_rejected_with_a_readable_error() {
    let set = Set::new();
    let bytes = std::fs::read(set.flac()).unwrap();
    let p = set.dir.join("truncated.flac");
    std::fs::write(&p, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let e = verify_file(&p, &VerifyOptions::default()).unwrap_err();
    assert!(matches!(e, VerifyError::Truncated { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("truncated.flac is truncated"), "{msg}");
    assert!(msg.contains("announces 0:08.000"), "{msg}");
    assert_eq!(e.path(), p.as_path());
}

#[test]
fn damaged_flac_is_rejected() {
    let set = Set::new();
    let mut bytes = std::fs::read(set.flac()).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 4000] {
        *b ^= 0x5a;
    }
    let p = set.dir.join("damaged.flac");
    std::fs::write(&p, &bytes).unwrap();
    let e = verify_file(&p, &VerifyOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::Corrupt { .. }
                | VerifyError::ChecksumMismatch { .. }
                | VerifyError::Truncated { .. }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("damaged.flac"), "{e}");
}

#[test]
fn garbage_is_rejected_and_never_panics() {
    let set = Set::new();
    let dir = &set.dir;
    let garbage = dir.join("garbage.flac");
    let mut x = 0x1234_5678u32;
    let mut rnd = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect()
    };
    std::fs::write(&garbage, rnd(50_000)).unwrap();
    let e = verify_file(&garbage, &VerifyOptions::default()).unwrap_err();
    assert!(matches!(e, VerifyError::NotAudio { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{} is not an audio file cratedigger can read (no FLAC, MP3, WAV, AIFF, MP4/M4A, Ogg or ADTS stream was recognised in it)",
            garbage.display()
        )
    );
    let empty = dir.join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let e = verify_file(&empty, &VerifyOptions::default()).unwrap_err();
    assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
    let e = verify_file(&dir.join("missing.flac"), &VerifyOptions::default()).unwrap_err();
    assert!(e.to_string().starts_with("cannot read"), "{e}");
    let e = verify_file(dir, &VerifyOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");

    // Real headers followed by garbage, and real files with garbage spliced in: every
    // outcome is a report or an error, never a panic or a hang.
    let flac = std::fs::read(set.flac()).unwrap();
    let mp3 = std::fs::read(set.mp3()).unwrap();
    let wav = std::fs::read(&set.wav).unwrap();
    let mut outcomes = (0, 0);
    for (i, real) in [&flac, &mp3, &wav].iter().enumerate() {
        for round in 0..12 {
            let cut = 4 + (round * 997) % 8_000;
            let mut bytes = real[..cut.min(real.len())].to_vec();
            bytes.extend(rnd(20_000 + round * 1_000));
            if round % 2 == 0 {
                bytes.extend_from_slice(&real[real.len() / 2..]);
            }
            let p = dir.join(format!("fuzz-{i}-{round}.{}", ["flac", "mp3", "wav"][i]));
            std::fs::write(&p, &bytes).unwrap();
            match verify_file(&p, &VerifyOptions::default()) {
                Ok(_) => outcomes.0 += 1,
                Err(e) => {
                    outcomes.1 += 1;
                    assert!(e.to_string().contains(&format!("fuzz-{i}-{round}")), "{e}");
                }
            }
        }
    }
    assert!(
        outcomes.1 > 0,
        "some fuzzed files must be rejected: {outcomes:?}"
    );
}

#[test]
fn limits_bound_the_work() {
    let set = Set::new();
    let opts = VerifyOptions {
        max_file_bytes: 1_000,
        ..Default::default()
    };
    let e = verify_file(&set.flac(), &opts).unwrap_err();
    assert!(matches!(e, VerifyError::TooLarge { .. }), "{e:?}");
    let opts = VerifyOptions {
        max_duration_secs: 2,
        ..Default::default()
    };
    let e = verify_file(&set.flac(), &opts).unwrap_err();
    assert!(
        e.to_string().contains("longer than the 2-second limit"),
        "{e}"
    );
    let mut opts = VerifyOptions::default();
    opts.spectrum.enabled = false;
    let r = verify_file(&set.flac(), &opts).unwrap();
    assert_eq!(r.spectrum.verdict, LosslessVerdict::Unknown);
    assert!(r.spectrum.reason.contains("disabled"));
}

#[test]
fn report_is_json_for_postgres_and_the_cli() {
    let set = Set::new();
    let r = verify(&set.transcode(128));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["format"], "flac");
    assert_eq!(v["spectrum"]["verdict"], "likely_transcode");
    assert!(v["spectrum"]["cutoff_hz"].as_u64().unwrap() > 15_000);
    let back: cratedigger_audio::VerifyReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
    // Options come from config with defaults for what is left out.
    let o: VerifyOptions = serde_json::from_str(r#"{"duration_tolerance_secs": 5.0}"#).unwrap();
    assert_eq!(o.duration_tolerance_secs, 5.0);
    assert_eq!(o.spectrum.fft_size, 4096);
}
