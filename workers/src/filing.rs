//! Library paths of filed files: the configured template filled with the track's tags, every
//! component sanitised by `music::filing` (metadata and peer names are untrusted).

use cratedigger_domain::acquisition::TrackTags;
use cratedigger_music::filing::{FilingError, FilingFields, FilingTemplate, library_path};
use std::path::{Path, PathBuf};

/// True when `path` is inside `root` with no `..` component (relative paths are taken from
/// the working directory). The assessor and the consolidator only open or move files that
/// pass this for the staging folder: a job names a path, and a path is not trusted.
pub fn inside(path: &Path, root: &Path) -> bool {
    let abs = |p: &Path| -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        }
    };
    let p = abs(path);
    !p.components().any(|c| c == std::path::Component::ParentDir) && p.starts_with(abs(root))
}

/// The fields a path template can use, from the tags the file got.
pub fn fields(tags: &TrackTags, ext: &str) -> FilingFields {
    let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
    FilingFields {
        artist: Some(tags.artist.clone()).filter(|a| !a.trim().is_empty()),
        album_artist: None,
        album: nonempty(&tags.album),
        title: Some(tags.title.clone()).filter(|t| !t.trim().is_empty()),
        mix: nonempty(&tags.mix),
        label: nonempty(&tags.label),
        catalog: nonempty(&tags.catalog_number),
        year: tags
            .date
            .as_deref()
            .map(|d| d.chars().take(4).collect::<String>())
            .filter(|y| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit())),
        genre: nonempty(&tags.genre),
        key: nonempty(&tags.key),
        bpm: tags
            .bpm
            .filter(|b| b.is_finite() && *b > 0.0)
            .map(|b| format!("{}", b.round() as i64)),
        ext: ext.to_string(),
    }
}

/// Where a file goes in the library: `template` under `root`, filled from `tags`. For
/// `n > 1` (the name is taken by another item's file) " (n)" goes before the extension. The
/// result is always inside `root`.
pub fn library_file_path(
    root: &Path,
    template: &str,
    tags: &TrackTags,
    ext: &str,
    n: u32,
) -> Result<PathBuf, FilingError> {
    let template = FilingTemplate::parse(template)?;
    let path = library_path(root, &template, &fields(tags, ext))?;
    if n <= 1 {
        return Ok(path);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(e) => format!("{stem} ({n}).{}", e.to_string_lossy()),
        None => format!("{stem} ({n})"),
    };
    Ok(path.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> TrackTags {
        TrackTags {
            artist: "Demdike Stare".into(),
            title: "Quiet Sky".into(),
            date: Some("2011-03-01".into()),
            bpm: Some(127.6),
            ..Default::default()
        }
    }

    #[test]
    fn paths_follow_the_template_and_stay_inside_the_library() {
        let root = Path::new("/lib");
        let p = library_file_path(
            root,
            "{artist}/{artist} - {title} ({mix}).{ext}",
            &tags(),
            "mp3",
            1,
        )
        .unwrap();
        assert_eq!(
            p,
            Path::new("/lib/Demdike Stare/Demdike Stare - Quiet Sky.mp3")
        );
        let p2 = library_file_path(
            root,
            "{artist}/{artist} - {title} ({mix}).{ext}",
            &tags(),
            "mp3",
            2,
        )
        .unwrap();
        assert_eq!(
            p2,
            Path::new("/lib/Demdike Stare/Demdike Stare - Quiet Sky (2).mp3")
        );
        let mut evil = tags();
        evil.artist = "../../etc".into();
        evil.title = "passwd\u{0}".into();
        let p = library_file_path(root, "{artist}/{title}.{ext}", &evil, "flac", 1).unwrap();
        assert!(p.starts_with(root), "{}", p.display());
        assert!(!p.components().any(|c| c == std::path::Component::ParentDir));
        let f = fields(&tags(), "flac");
        assert_eq!(f.year.as_deref(), Some("2011"));
        assert_eq!(f.bpm.as_deref(), Some("128"));
        assert!(library_file_path(root, "{nope}.{ext}", &tags(), "mp3", 1).is_err());
    }
}
