//! The bundled demo playlist (`samples/demo-playlist.m3u`, used by `just demo`) must keep
//! demonstrating what its header promises; this test fails if an edit breaks that.

use cratedigger_playlist::{PlaylistFormat, parse};

#[test]
fn demo_playlist_parses_as_documented() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/demo-playlist.m3u"
    );
    let bytes = std::fs::read(path).expect("samples/demo-playlist.m3u is readable");
    let p = parse("demo-playlist.m3u", &bytes).expect("the demo playlist parses");
    assert_eq!(p.format, PlaylistFormat::M3u);

    let tracks: Vec<(u32, String, Option<u32>)> = p
        .entries
        .iter()
        .map(|e| (e.line_no, e.wanted.display(), e.wanted.duration_ms))
        .collect();
    let want: Vec<(u32, &str, Option<u32>)> = vec![
        (21, "Michael Jackson - Billie Jean", Some(293_000)),
        (23, "Lou Doillon - The Joke", Some(200_000)),
        (25, "Lou Doillon - Soliloquy", Some(239_000)),
        (27, "Dave Brubeck - Soliloquy", Some(199_000)),
        (29, "Erroll Garner - Caravan", Some(425_000)),
        (31, "Lou Doillon - Too Much", Some(209_000)),
        (33, "Fleetwood Mac - Go Your Own Way", Some(218_000)),
        (35, "Fleetwood Mac - Seven Wonders", Some(212_000)),
        (
            37,
            "Fleetwood Mac - Seven Wonders (extended version)",
            Some(398_000),
        ),
        // Path line only: read from the Windows file name, track number dropped.
        (39, "Fleetwood Mac - Little Lies", None),
        (40, "Fleetwood Mac - The Chain", Some(314_000)),
        // The duplicate of line 21.
        (42, "Michael Jackson - Billie Jean", Some(293_000)),
        // In no recorded payload.
        (44, "Joe Smooth - Promised Land", None),
    ];
    let want: Vec<(u32, String, Option<u32>)> = want
        .into_iter()
        .map(|(n, s, d)| (n, s.to_string(), d))
        .collect();
    assert_eq!(tracks, want);

    // The duplicate really is the same request.
    assert_eq!(p.entries[0].wanted, p.entries[11].wanted);
    assert_eq!(p.entries[0].input, p.entries[11].input);

    // The deliberately unreadable entry is reported with its #EXTINF line number.
    assert_eq!(p.skipped.len(), 1);
    let s = &p.skipped[0];
    assert_eq!(s.line_no, 46);
    assert_eq!(s.input, "#EXTINF:-1,Untitled\n/music/incoming/track07.mp3");
    assert_eq!(
        s.reason,
        "expected 'Artist - Title' in the #EXTINF text ('Untitled') or in the file name ('track07')"
    );
}
