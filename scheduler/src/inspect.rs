//! `cratedigger inspect <platform> <kind> FILE`: reads a saved platform answer and prints
//! what the scouts' mappers make of it, as JSON. Runs locally (no scheduler, no network),
//! so a user can attach the file and the output to a bug report.

use crate::cli::CliError;
use cratedigger_platforms::inspect::{self, MAX_INSPECT_BYTES};
use std::io::Read;

/// The output of `inspect` for `platform`, `kind` and `file` (`-` = standard input):
/// pretty JSON of the mapped records, without raw payloads unless `raw`. The kind `kinds`
/// lists the platform's kinds instead.
pub fn run(platform: &str, kind: &str, file: Option<&str>, raw: bool) -> Result<String, CliError> {
    let platform = platform.to_ascii_lowercase();
    if kind == "kinds" {
        let kinds = inspect::kinds_of(&platform).map_err(|e| CliError(e.to_string()))?;
        let width = kinds.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        return Ok(kinds
            .iter()
            .map(|(k, what)| format!("{platform} {k:<width$}  {what}\n"))
            .collect());
    }
    let file = file.ok_or_else(|| {
        CliError(format!(
            "name the saved {platform} {kind} answer to inspect: cratedigger inspect {platform} {kind} FILE"
        ))
    })?;
    let bytes = read_bounded(file)?;
    let inspected =
        inspect::inspect(&platform, kind, &bytes).map_err(|e| CliError(format!("{file}: {e}")))?;
    let inspected = if raw {
        inspected
    } else {
        inspected.without_raw()
    };
    serde_json::to_string_pretty(&inspected)
        .map(|s| s + "\n")
        .map_err(|e| CliError(format!("cannot print the records: {e}")))
}

/// Reads at most one byte more than an answer may have, so a huge file is refused without
/// being read whole.
fn read_bounded(file: &str) -> Result<Vec<u8>, CliError> {
    let limit = MAX_INSPECT_BYTES as u64 + 1;
    let mut buf = Vec::new();
    let res = if file == "-" {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(file)
            .map_err(|e| CliError(format!("cannot open '{file}': {e}")))?
            .take(limit)
            .read_to_end(&mut buf)
    };
    res.map_err(|e| CliError(format!("cannot read '{file}': {e}")))?;
    Ok(buf)
}
