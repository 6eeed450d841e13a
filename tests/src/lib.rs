//! End-to-end support for cratedigger: the fixture server that stands in for the real
//! platforms (serving only real recorded payloads read in place from the reference kit),
//! and [`kit`] to find that kit.

pub mod bench;
pub mod fake_openai;
pub mod fake_slskd;
pub mod fixture_server;
pub mod tcp_proxy;

/// Finding the reference kit (`../shared` beside the repository), which tests read in
/// place and never copy into the repository.
pub mod kit {
    use std::path::{Path, PathBuf};

    /// Environment variable that overrides where the kit is.
    pub const ENV: &str = "CRATEDIGGER_KIT_DIR";

    /// The kit was not found; lists every place looked at, so the fix is obvious.
    #[derive(Debug, thiserror::Error)]
    #[error(
        "the cratedigger reference kit (a directory with fixtures/musicbrainz and fixtures/deezer) was not found; looked in: {}. Set {ENV} to its path.",
        .looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    pub struct KitNotFound {
        /// Candidates tried, in order.
        pub looked: Vec<PathBuf>,
    }

    /// Whether `dir` looks like the kit.
    pub fn is_kit(dir: &Path) -> bool {
        dir.join("fixtures").join("musicbrainz").is_dir()
            && dir.join("fixtures").join("deezer").is_dir()
    }

    /// The workspace root this crate was compiled in.
    pub fn workspace_root() -> PathBuf {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        manifest.parent().unwrap_or(manifest).to_path_buf()
    }

    /// Candidate kit locations, in order: `$CRATEDIGGER_KIT_DIR` (only it, when set), else
    /// `../shared` beside the workspace root known at compile time, else `../shared`
    /// relative to the current directory.
    pub fn candidates() -> Vec<PathBuf> {
        if let Some(dir) = std::env::var_os(ENV).filter(|v| !v.is_empty()) {
            return vec![PathBuf::from(dir)];
        }
        let mut out = vec![workspace_root().join("..").join("shared")];
        if let Ok(cwd) = std::env::current_dir() {
            out.push(cwd.join("..").join("shared"));
        }
        out
    }

    /// Finds the kit, or says everywhere it looked.
    pub fn find_kit() -> Result<PathBuf, KitNotFound> {
        let looked = candidates();
        looked
            .iter()
            .find(|p| is_kit(p))
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .ok_or(KitNotFound { looked })
    }

    /// The kit directory for tests; panics with the places it looked when missing, so a
    /// test that needs the kit fails with a message saying where it looked.
    pub fn kit_dir() -> PathBuf {
        match find_kit() {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }
}
