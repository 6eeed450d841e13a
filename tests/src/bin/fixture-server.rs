//! `fixture-server [--addr 127.0.0.1:0] [--kit DIR]`: serves the reference kit's recorded
//! MusicBrainz and Deezer payloads for end-to-end tests and `just demo`. Prints exactly one
//! first line, `listening on http://127.0.0.1:PORT`, then serves until killed.

use cratedigger_e2e::fixture_server::serve;
use cratedigger_e2e::kit;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: fixture-server [--addr 127.0.0.1:0] [--kit DIR]\n\
    --addr  address to listen on (default 127.0.0.1:0: a free port)\n\
    --kit   reference kit directory (default: $CRATEDIGGER_KIT_DIR, else ../shared beside the workspace, else ../shared)";

struct Args {
    addr: SocketAddr,
    kit: Option<PathBuf>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut addr: SocketAddr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
    let mut kit = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--addr" => {
                let v = value("--addr")?;
                addr = v.parse().map_err(|e| {
                    format!("--addr '{v}' is not an address like 127.0.0.1:8080: {e}")
                })?;
            }
            "--kit" => kit = Some(PathBuf::from(value("--kit")?)),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Some(Args { addr, kit }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fixture-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let kit_dir = match args.kit {
        Some(dir) if kit::is_kit(&dir) => dir,
        Some(dir) => {
            eprintln!(
                "fixture-server: {} is not the reference kit (no fixtures/musicbrainz and fixtures/deezer in it)",
                dir.display()
            );
            return ExitCode::from(2);
        }
        None => match kit::find_kit() {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("fixture-server: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let server = match serve(kit_dir, args.addr).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fixture-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on {}", server.base_url())
        .and_then(|_| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(out);
    match server.into_handle().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixture-server: server task ended: {e}");
            ExitCode::FAILURE
        }
    }
}
