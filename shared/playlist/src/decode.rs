//! Bytes to text: byte-order marks, binary detection and the encoding policy described in
//! the crate documentation.

use crate::{PlaylistError, PlaylistFormat, detect_format};

/// How many leading bytes are examined for control characters. Enough to be sure, small
/// enough not to matter for a 10 MB file.
const SNIFF_BYTES: usize = 64 * 1024;

/// Signatures of files people pick by mistake instead of their playlist (the audio file
/// itself, a zipped export, a PDF tracklist, an image). Naming the kind makes the error
/// message actionable.
const MAGIC: &[(&[u8], &str)] = &[
    (b"fLaC", "a FLAC audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"RIFF", "a WAV/RIFF file"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xFF\xD8\xFF", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1F\x8B", "a gzip-compressed file"),
    (b"Rar!\x1A\x07", "a RAR archive"),
    (b"7z\xBC\xAF", "a 7-Zip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"bplist00", "a binary property list"),
    (b"\x7FELF", "a program"),
];

/// Decodes the playlist bytes, or says why they are not a text playlist.
pub(crate) fn decode(name: &str, bytes: &[u8]) -> Result<String, PlaylistError> {
    let binary = |detail: String| PlaylistError::Binary {
        name: name.to_string(),
        detail,
    };

    // UTF-16 first: its text legitimately contains NUL bytes.
    let utf16_le = bytes.starts_with(&[0xFF, 0xFE]);
    if utf16_le || bytes.starts_with(&[0xFE, 0xFF]) {
        let text = decode_utf16(name, &bytes[2..], utf16_le)?;
        if text.contains('\0') {
            return Err(binary("it contains NUL characters".to_string()));
        }
        return Ok(text);
    }

    if let Some(kind) = magic_kind(bytes) {
        return Err(binary(format!("it looks like {kind}")));
    }
    let sample = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if sample.contains(&0) || bytes.contains(&0) {
        return Err(binary(
            "it contains NUL bytes (binary data, or UTF-16 text without a byte-order mark)"
                .to_string(),
        ));
    }
    let controls = sample.iter().filter(|&&b| is_odd_control(b)).count();
    if controls >= 4 && controls * 20 > sample.len() {
        return Err(binary(format!(
            "{controls} of its first {} bytes are control characters",
            sample.len()
        )));
    }

    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text.to_string()),
        Err(_) if legacy_m3u(name, body) => Ok(body.iter().map(|&b| windows_1252(b)).collect()),
        Err(err) => {
            let offset = err.valid_up_to();
            let line_no = line_of(body, offset);
            Err(PlaylistError::NotUtf8 {
                name: name.to_string(),
                line_no: Some(line_no),
            })
        }
    }
}

/// An M3U that may legitimately be in the Windows code page: `.m3u` by name, or M3U by
/// content from a source without an extension (stdin), but never `.m3u8`, which is UTF-8
/// by definition.
fn legacy_m3u(name: &str, body: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".m3u8") {
        return false;
    }
    detect_format(name, &String::from_utf8_lossy(body)) == PlaylistFormat::M3u
}

fn decode_utf16(name: &str, body: &[u8], little_endian: bool) -> Result<String, PlaylistError> {
    let units = body.chunks(2).map(|c| match (c, little_endian) {
        ([a, b], true) => u16::from_le_bytes([*a, *b]),
        ([a, b], false) => u16::from_be_bytes([*a, *b]),
        // An odd trailing byte cannot be UTF-16; an unpaired surrogate makes it fail below.
        _ => 0xD800,
    });
    let mut out = String::with_capacity(body.len() / 2);
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(PlaylistError::BadUtf16 {
                    name: name.to_string(),
                    line_no: out.matches('\n').count() as u32 + 1,
                });
            }
        }
    }
    Ok(out)
}

fn magic_kind(bytes: &[u8]) -> Option<&'static str> {
    for (sig, kind) in MAGIC {
        if bytes.starts_with(sig) {
            return Some(kind);
        }
    }
    // ID3v2 tag: "ID3" then a major version byte (2..=4); checking the version keeps a text
    // line starting with "ID3" from being refused.
    if bytes.len() >= 4 && bytes.starts_with(b"ID3") && (2..=4).contains(&bytes[3]) {
        return Some("an MP3 audio file (ID3 tag)");
    }
    // MPEG audio frame sync without a tag.
    if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0 {
        return Some("an MP3/MPEG audio file");
    }
    // AIFF: "FORM", size, "AIFF"/"AIFC".
    if bytes.len() >= 12 && bytes.starts_with(b"FORM") && bytes[8..12].starts_with(b"AIF") {
        return Some("an AIFF audio file");
    }
    // ISO base media (MP4, M4A, MOV): size, then "ftyp".
    if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        return Some("an MP4/M4A media file");
    }
    None
}

/// C0 control characters that have no business in a playlist (tab, line feed, carriage
/// return and form feed are normal text).
fn is_odd_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) || b == 0x7F
}

fn line_of(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// Windows-1252 to Unicode. 0x80..=0x9F hold the typographic characters Windows puts there
/// (curly quotes, dashes, €); the five unassigned bytes map to the C1 controls as the
/// WHATWG encoding standard does; everything else equals Latin-1.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary_detail(bytes: &[u8]) -> Option<String> {
        match decode("x.m3u", bytes) {
            Err(PlaylistError::Binary { detail, .. }) => Some(detail),
            _ => None,
        }
    }

    #[test]
    fn binary_signatures_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"ID3\x03\x00\x00\x00\x00\x00", "MP3 audio file (ID3 tag)"),
            (b"\xFF\xFB\x90\x64\x00", "MP3/MPEG"),
            (b"fLaC\x00\x00\x00\x22", "FLAC"),
            (b"PK\x03\x04\x14\x00", "ZIP"),
            (b"%PDF-1.7\n", "PDF"),
            (b"\x00\x00\x00\x20ftypM4A ", "MP4/M4A"),
            (b"RIFF\x24\x00\x00\x00WAVE", "WAV"),
            (b"A - B\n\x00\x00", "NUL bytes"),
            (b"A\x01B\x02C\x03D\x04E\x05 - F\x06", "control characters"),
        ];
        for (bytes, needle) in cases {
            let detail = binary_detail(bytes).unwrap_or_else(|| panic!("{bytes:?} not binary"));
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
        }
    }

    #[test]
    fn text_that_resembles_a_signature_is_still_text() {
        for text in [
            "ID3 - Hello\n",
            "PK - Song\n",
            "Artist\x1b - Title\n",
            "A - B\x0c\n",
        ] {
            assert!(decode("x.txt", text.as_bytes()).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn utf8_bom_is_stripped_and_utf16_errors_report_the_line() {
        assert_eq!(decode("x.txt", b"\xEF\xBB\xBFA - B").unwrap(), "A - B");
        // "A\nB" then a lone high surrogate.
        let bytes = [0xFF, 0xFE, b'A', 0, b'\n', 0, b'B', 0, 0x00, 0xD8];
        assert_eq!(
            decode("x.txt", &bytes),
            Err(PlaylistError::BadUtf16 {
                name: "x.txt".into(),
                line_no: 2
            })
        );
    }

    #[test]
    fn windows_1252_only_for_plain_m3u() {
        let bytes = b"#EXTINF:1,Sigur R\xF3s - Hopp\xEDpolla\n";
        assert!(decode("a.m3u", bytes).unwrap().contains("Sigur Rós"));
        assert!(decode("-", bytes).unwrap().contains("Hoppípolla"));
        assert!(matches!(
            decode("a.m3u8", bytes),
            Err(PlaylistError::NotUtf8 { .. })
        ));
        assert!(matches!(
            decode("a.txt", b"Sigur R\xF3s - Hoppipolla"),
            Err(PlaylistError::NotUtf8 {
                line_no: Some(1),
                ..
            })
        ));
        assert_eq!(windows_1252(0x80), '€');
        assert_eq!(windows_1252(0x92), '’');
        assert_eq!(windows_1252(0xE9), 'é');
    }
}
