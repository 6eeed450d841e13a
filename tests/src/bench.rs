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
