//! How full the library and staging filesystems are: the acquisition scout refuses new
//! downloads above the configured limit, and the scheduler exports the figures for the
//! disk alert (the download role scales to zero, so it cannot be the one exporting them).

use crate::settings::AcquisitionSettings;
use std::path::Path;

/// Size and free space of the filesystem holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeUsage {
    /// Filesystem size in bytes.
    pub size_bytes: u64,
    /// Bytes available to an unprivileged writer.
    pub free_bytes: u64,
}

impl VolumeUsage {
    /// Used share in percent (what `df` shows).
    pub fn used_pct(&self) -> f64 {
        if self.size_bytes == 0 {
            return 0.0;
        }
        100.0 * (self.size_bytes.saturating_sub(self.free_bytes)) as f64 / self.size_bytes as f64
    }
}

/// Usage of the filesystem holding `path` (its nearest existing ancestor, so a library
/// folder not created yet still reports the disk it will be on). `None` when it cannot be read.
pub fn usage(path: &Path) -> Option<VolumeUsage> {
    let mut p = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    loop {
        if p.exists() {
            break;
        }
        if !p.pop() {
            return None;
        }
    }
    let st = rustix::fs::statvfs(&p).ok()?;
    let frsize = st.f_frsize.max(1);
    Some(VolumeUsage {
        size_bytes: st.f_blocks.saturating_mul(frsize),
        free_bytes: st.f_bavail.saturating_mul(frsize),
    })
}

/// Sets `cratedigger_volume_size_bytes` / `cratedigger_volume_free_bytes` for the library
/// and staging volumes.
pub fn export(settings: &AcquisitionSettings) {
    for (name, path) in [
        ("library", &settings.library_dir),
        ("staging", &settings.staging_dir),
    ] {
        if let Some(u) = usage(path) {
            metrics::gauge!("cratedigger_volume_size_bytes", "volume" => name)
                .set(u.size_bytes as f64);
            metrics::gauge!("cratedigger_volume_free_bytes", "volume" => name)
                .set(u.free_bytes as f64);
        }
    }
}

/// `Some(sentence)` when the library or the staging volume is fuller than the limit: no new
/// download may start.
pub fn library_full(settings: &AcquisitionSettings) -> Option<String> {
    for (name, path) in [
        ("library", &settings.library_dir),
        ("staging", &settings.staging_dir),
    ] {
        let Some(u) = usage(path) else { continue };
        let used = u.used_pct();
        if used > settings.disk_limit_pct {
            return Some(format!(
                "the {name} disk is {used:.0} % full (limit {:.0} %, CRATEDIGGER__ACQUISITION__DISK_LIMIT_PCT); downloads wait until space is freed",
                settings.disk_limit_pct
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_filesystem_of_a_missing_folder_from_its_parent() {
        let here = usage(Path::new(".")).expect("current folder is on a filesystem");
        assert!(here.size_bytes > 0 && here.free_bytes <= here.size_bytes);
        let missing = usage(Path::new("./no/such/folder/yet")).expect("falls back to an ancestor");
        assert_eq!(missing.size_bytes, here.size_bytes);
        let pct = here.used_pct();
        assert!((0.0..=100.0).contains(&pct), "{pct}");
    }

    #[test]
    fn a_limit_below_current_use_refuses_downloads() {
        let mut s = AcquisitionSettings {
            library_dir: ".".into(),
            ..Default::default()
        };
        s.disk_limit_pct = -1.0;
        let why = library_full(&s).expect("any use is above -1 %");
        assert!(why.contains("DISK_LIMIT_PCT"), "{why}");
        s.disk_limit_pct = 100.0;
        assert!(library_full(&s).is_none());
    }
}
