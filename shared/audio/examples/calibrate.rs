use cratedigger_audio::testing::*;
use cratedigger_audio::*;
fn main() {
    let dir = scratch_dir("calib");
    let secs: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(15.0);
    let all = [Genre::BROADBAND.as_slice(), Genre::BAND_LIMITED.as_slice()].concat();
    for g in all {
        for seed in 0..2u64 {
            let sig = generate(g, secs, 44_100, seed);
            let stem = format!("{:?}{seed}", g);
            let wav = dir.join(format!("{stem}.wav"));
            write_wav(&wav, &sig).unwrap();
            let flac = dir.join(format!("{stem}.flac"));
            flac_encode(&wav, &flac).unwrap();
            let mut files = vec![("genuine".to_string(), flac)];
            for k in [128, 160, 192, 256, 320] {
                files.push((format!("{k}"), mp3_transcode_flac(&wav, k, &dir, &stem).unwrap()));
            }
            for (label, f) in files {
                let t = std::time::Instant::now();
                let r = verify_file(&f, &VerifyOptions::default()).unwrap();
                let s = &r.spectrum;
                println!("{:<34} {:>8} cutoff {:>6?} {:<17} conf {:.2} edge {:>5.1} win {} {:?} | {}",
                    g.name(), label, s.cutoff_hz, s.verdict.as_str(), s.confidence, s.edge_db, s.windows, t.elapsed(), s.reason);
            }
        }
    }
}
