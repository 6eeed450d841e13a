//! "Is Rekordbox running?" Writing while Rekordbox or its background agent runs risks
//! `database is locked`, Rekordbox's in-memory state overwriting the change, and cloud sync
//! disagreeing with the file (notes §1.4). The check is a trait so tests can say "running".

use std::path::Path;

/// Lists running processes that must not be running while we write.
pub trait ProcessProbe: Send + Sync {
    /// Names of the offending processes found (empty = safe to write).
    fn rekordbox_processes(&self) -> Vec<String>;
}

/// True for `rekordbox` and `rekordboxAgent`, any case, with or without `.exe` or a path.
pub fn is_rekordbox_process(name: &str) -> bool {
    let base = name
        .trim()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let base = base.strip_suffix(".exe").unwrap_or(&base);
    base == "rekordbox" || base == "rekordboxagent"
}

/// The real probe: `/proc` on Linux (Rekordbox under Wine shows up as `rekordbox.exe`),
/// `ps` on macOS, `tasklist` on Windows.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemProbe;

impl ProcessProbe for SystemProbe {
    fn rekordbox_processes(&self) -> Vec<String> {
        let mut found: Vec<String> = process_names()
            .into_iter()
            .filter(|n| is_rekordbox_process(n))
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

/// Reports fixed names: for tests ("Rekordbox is running") and for callers that checked
/// elsewhere.
#[derive(Debug, Clone, Default)]
pub struct FixedProbe(pub Vec<String>);

impl ProcessProbe for FixedProbe {
    fn rekordbox_processes(&self) -> Vec<String> {
        self.0.clone()
    }
}

#[cfg(target_os = "linux")]
fn process_names() -> Vec<String> {
    scan_proc(Path::new("/proc"))
}

#[cfg(target_os = "macos")]
fn process_names() -> Vec<String> {
    command_lines("ps", &["-axo", "comm="])
}

#[cfg(windows)]
fn process_names() -> Vec<String> {
    command_lines("tasklist", &["/fo", "csv", "/nh"])
        .into_iter()
        .filter_map(|l| l.split(',').next().map(|s| s.trim_matches('"').to_string()))
        .collect()
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn process_names() -> Vec<String> {
    Vec::new()
}

#[cfg(any(target_os = "macos", windows))]
fn command_lines(cmd: &str, args: &[&str]) -> Vec<String> {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Names of the processes under a `/proc`-style folder: `comm` (at most 15 characters:
/// `rekordboxAgent` fits) and the first word of `cmdline` (catches `.exe` under Wine).
/// Processes that vanish while we look are skipped.
pub fn scan_proc(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str() else {
            continue;
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let dir = entry.path();
        if let Ok(comm) = std::fs::read_to_string(dir.join("comm")) {
            names.push(comm.trim().to_string());
        }
        if let Ok(cmdline) = std::fs::read(dir.join("cmdline"))
            && let Some(first) = cmdline.split(|b| *b == 0).next()
            && !first.is_empty()
        {
            names.push(String::from_utf8_lossy(first).into_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_case_and_extension_insensitively() {
        for n in [
            "rekordbox",
            "rekordboxAgent",
            "REKORDBOX.EXE",
            "rekordboxAgent.exe",
            "/Applications/rekordbox 7/rekordbox.app/Contents/MacOS/rekordbox",
            "C:\\Program Files\\rekordbox\\rekordbox 7.0.1\\rekordbox.exe",
        ] {
            assert!(is_rekordbox_process(n), "{n}");
        }
        for n in ["rekordbox-helper", "cratedigger", "", "rekord", "box"] {
            assert!(!is_rekordbox_process(n), "{n}");
        }
    }

    #[test]
    fn proc_scan_reads_comm_and_cmdline() {
        let root = std::env::temp_dir().join(format!("cd-rb-proc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("12")).unwrap();
        std::fs::create_dir_all(root.join("34")).unwrap();
        std::fs::create_dir_all(root.join("self")).unwrap();
        std::fs::write(root.join("12/comm"), "rekordboxAgent\n").unwrap();
        std::fs::write(root.join("34/comm"), "wine-preloader\n").unwrap();
        std::fs::write(root.join("34/cmdline"), b"C:\\rb\\rekordbox.exe\0--flag\0").unwrap();
        std::fs::write(root.join("self/comm"), "rekordbox\n").unwrap();
        let names = scan_proc(&root);
        let hits: Vec<_> = names.iter().filter(|n| is_rekordbox_process(n)).collect();
        assert_eq!(hits.len(), 2, "{names:?}");
        let _ = std::fs::remove_dir_all(&root);
        // The live system: this test process is not Rekordbox.
        assert!(
            SystemProbe
                .rekordbox_processes()
                .iter()
                .all(|n| is_rekordbox_process(n))
        );
    }
}
