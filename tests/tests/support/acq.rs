//! The acquisition environment shared by the end-to-end tests that need the whole fleet
//! with acquisition on (`acquisition.rs`, `web.rs`): a fake slskd serving the kit's one real
//! slskd recording, with the shares of "Demdike Stare - Quiet Sky" registered (MP3s genuine,
//! the FLAC a 128 kbps transcode made here), library and staging folders, and every worker
//! role started against the scheduler.

use super::{Env, tail};
use cratedigger_audio::testing::{
    Scratch, broadband, mp3_encode, mp3_transcode_flac, scratch_dir, write_wav,
};
use cratedigger_e2e::fake_slskd::{FakeSlskd, FakeSlskdOptions, RunningFakeSlskd};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const API_KEY: &str = "e2e-slskd-key";

/// The recorded search responses (the kit's), for the remote names of the shares.
pub fn recorded_files() -> Vec<(String, String)> {
    let kit = cratedigger_e2e::kit::kit_dir();
    let path = kit.join(cratedigger_e2e::fake_slskd::RECORDED_RESPONSES);
    let raw = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the slskd recording is needed at {}: {e}", path.display()));
    let v: Value = serde_json::from_slice(&raw).unwrap();
    let mut out = Vec::new();
    for r in v.as_array().unwrap() {
        let user = r["username"].as_str().unwrap().to_string();
        for f in r["files"].as_array().unwrap() {
            out.push((user.clone(), f["filename"].as_str().unwrap().to_string()));
        }
    }
    out
}

/// The environment every acquisition test shares: a fake slskd with the shares of "Quiet
/// Sky" registered (MP3s genuine, the FLAC a transcode), library and staging folders, and
/// the acquisition settings.
pub struct Acq {
    pub env: Env,
    pub slskd: RunningFakeSlskd,
    pub library: PathBuf,
    pub staging: PathBuf,
    /// The generated audio the fake peers send (removed when the test ends).
    _audio: Scratch,
}

pub async fn acquisition_env(test: &str, extra: &[(&str, &str)]) -> Acq {
    let mut env = Env::new(test).await;
    let root = env.logs.join("acq");
    let kit = cratedigger_e2e::kit::kit_dir();
    let mut opts = FakeSlskdOptions::in_dir(&root.join("slskd"), Some(kit));
    opts.api_key = Some(API_KEY.into());
    let slskd = FakeSlskd::new(opts)
        .expect("fake slskd starts")
        .start("127.0.0.1:0")
        .await
        .expect("fake slskd listens");

    // The audio the peers send, made here.
    let audio = scratch_dir(&format!("e2e-{test}-audio"));
    let wav = audio.join("quiet-sky.wav");
    write_wav(&wav, &broadband(8.0, 7)).unwrap();
    let mp3 = audio.join("quiet-sky.mp3");
    mp3_encode(&wav, 320, &mp3).expect("lame encodes (CI installs it: apt-get install lame)");
    let fake_flac = mp3_transcode_flac(&wav, 128, &audio, "quiet-sky")
        .expect("lame + flac make the transcode (CI installs them: apt-get install lame flac)");
    for (_, remote) in recorded_files() {
        let lower = remote.to_lowercase();
        if !lower.contains("quiet sky") {
            continue;
        }
        if lower.ends_with(".flac") {
            slskd.fake().register_file(&remote, &fake_flac);
        } else if lower.ends_with(".mp3") {
            slskd.fake().register_file(&remote, &mp3);
        }
    }

    let library = root.join("library");
    let staging = root.join("staging");
    let mut vars: Vec<(String, String)> = vec![
        ("CRATEDIGGER__ACQUISITION__ENABLED".into(), "true".into()),
        (
            "CRATEDIGGER__ACQUISITION__LIBRARY_DIR".into(),
            library.display().to_string(),
        ),
        (
            "CRATEDIGGER__ACQUISITION__STAGING_DIR".into(),
            staging.display().to_string(),
        ),
        (
            "CRATEDIGGER__ACQUISITION__DISCOVERY_DEADLINE_SECS".into(),
            "30".into(),
        ),
        // the test machine's disk may be fuller than a real library's limit
        (
            "CRATEDIGGER__ACQUISITION__DISK_LIMIT_PCT".into(),
            "100".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__BASE_URL".into(),
            slskd.base_url(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__API_KEY".into(),
            API_KEY.into(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__DOWNLOADS_DIR".into(),
            slskd.fake().downloads_dir().display().to_string(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__INCOMPLETE_DIR".into(),
            slskd.fake().incomplete_dir().display().to_string(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__POLL_INTERVAL_MS".into(),
            "100".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOULSEEK__EMPTY_RESULT_GAP_SECS".into(),
            "0".into(),
        ),
        // only Soulseek: the other sources would need the internet
        (
            "CRATEDIGGER__SOURCES__BANDCAMP__ENABLED".into(),
            "false".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__SOUNDCLOUD__ENABLED".into(),
            "false".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__YOUTUBE__ENABLED".into(),
            "false".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__STORES__ENABLED".into(),
            "false".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__MIXCLOUD__ENABLED".into(),
            "false".into(),
        ),
        (
            "CRATEDIGGER__SOURCES__TRACKLISTS__ENABLED".into(),
            "false".into(),
        ),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.extra_env.extend(vars);
    env.start_scheduler().await;
    for role in [
        "research-lead",
        "metadata-scout",
        "consolidator",
        "discovery-scout",
        "acquisition-scout",
        "quality-assessor",
    ] {
        env.start(role, role, &[]);
    }
    Acq {
        env,
        slskd,
        library,
        staging,
        _audio: audio,
    }
}

impl Acq {
    pub fn logs(&self) -> String {
        self.env
            .procs
            .iter()
            .map(|p| format!("--- {}\n{}\n", p.name, tail(&p.log_text(), 25)))
            .collect()
    }

    /// Polls the item until it is in one of `states`.
    pub async fn wait_item(&self, item_id: &str, states: &[&str], limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let v = self
                .env
                .get(&format!("/v1/items/{item_id}/candidates"))
                .await;
            let state = v["item"]["state"].as_str().unwrap_or("").to_string();
            if states.contains(&state.as_str()) {
                return v;
            }
            if start.elapsed() > limit {
                panic!(
                    "item {item_id} is {state} after {limit:?}, expected one of {states:?}: {}\n{}",
                    v["item"]["reason"],
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
