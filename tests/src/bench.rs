//! What every `just bench …` binary needs besides its own measurement: command-line flags,
//! the release binaries it starts (killed when the run ends), and appending its dated
//! section to `docs/benchmarks.md` — written once here so the benchmarks read the same.

use std::path::PathBuf;
use std::process::Child;
use std::str::FromStr;

/// Command-line flags as `--name value` or `--name=value`.
pub struct Flags {
    args: std::vec::IntoIter<String>,
}

impl Flags {
    /// The process's arguments (program name skipped).
    pub fn from_env() -> Flags {
        Flags {
            args: std::env::args().skip(1).collect::<Vec<_>>().into_iter(),
        }
    }

    /// The next flag and its inline (`=`) value, if any.
    pub fn next_flag(&mut self) -> Option<(String, Option<String>)> {
        let arg = self.args.next()?;
        Some(match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg, None),
        })
    }

    /// The value of flag `name`: its inline value or the next argument.
    pub fn value(&mut self, name: &str, inline: Option<String>) -> Result<String, String> {
        inline
            .or_else(|| self.args.next())
            .ok_or_else(|| format!("{name} needs a value"))
    }

    /// The value of flag `name` as a number within `min..=max`, or a sentence naming the flag.
    pub fn number<T>(
        &mut self,
        name: &str,
        inline: Option<String>,
        min: T,
        max: T,
    ) -> Result<T, String>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let v = self.value(name, inline)?;
        v.parse::<T>()
            .ok()
            .filter(|n| *n >= min && *n <= max)
            .ok_or_else(|| format!("{name} '{v}' is not a number from {min} to {max}"))
    }
}

/// A child process killed when dropped, so a benchmark that fails half-way leaves no fleet
/// behind.
pub struct Proc {
    /// Name in logs and reports.
    pub name: String,
    /// The process.
    pub child: Child,
    /// Where its output goes.
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Path of release binary `name` (benchmarks measure release builds), or the command that
/// builds it.
pub fn release_bin(name: &str, recipe: &str) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::kit::workspace_root().join("target"));
    let p = target.join("release").join(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found: run `cargo build --release --bins -p cratedigger -p cratedigger-workers` first (`just bench {recipe}` does)",
            p.display()
        ))
    }
}

/// Appends `section` to the markdown file at `path`, preceded by `header` the first time
/// (when the file does not contain `header`'s first line yet).
pub fn append_markdown(path: &str, header: &str, section: &str) -> Result<(), String> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut md = String::new();
    let first_line = header.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !first_line.is_empty() && !existing.contains(first_line) {
        md.push_str(header);
    }
    md.push_str(section);
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, md.as_bytes()))
        .map_err(|e| format!("could not append to {path}: {e}"))
}

/// Today's date and time for a section heading.
pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The machine a figure was measured on, for the report: CPUs, model, load at the start
/// (a loaded machine makes every timing pessimistic).
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!("{cpus} CPUs ({model}), load average {load} at the start")
}

/// splitmix64: a deterministic generator, so every run of a benchmark generates the same
/// data set and two runs are comparable.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One of `xs`.
    pub fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// Starts the release fleet a sync benchmark measures — `cratedigger serve` (waited for on
/// `<api>/readyz`, 60 s at most), `research-lead`, `scouts` metadata scouts, `consolidator` —
/// with `env`, each writing to `<logs>/<name>.log`; the processes end when the list is dropped.
pub async fn start_fleet(
    recipe: &str,
    env: &[(String, String)],
    logs: &std::path::Path,
    api: &str,
    scouts: usize,
) -> Result<Vec<Proc>, String> {
    let mut procs: Vec<Proc> = Vec::new();
    let mut start = |name: &str, bin: &str, argv: &[&str]| -> Result<(), String> {
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        let child = std::process::Command::new(release_bin(bin, recipe)?)
            .args(argv)
            .envs(env.iter().cloned())
            .stdin(std::process::Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {bin}: {e}"))?;
        procs.push(Proc {
            name: name.into(),
            child,
            log,
        });
        Ok(())
    };
    start("scheduler", "cratedigger", &["serve"])?;
    let http = reqwest::Client::new();
    let ready = std::time::Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{api}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        if ready.elapsed() > std::time::Duration::from_secs(60) {
            return Err(format!(
                "the scheduler was not ready after 60 s; see {}",
                logs.display()
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    start("research-lead", "research-lead", &[])?;
    for i in 0..scouts {
        start(&format!("scout-{i}"), "metadata-scout", &[])?;
    }
    start("consolidator", "consolidator", &[])?;
    Ok(procs)
}
