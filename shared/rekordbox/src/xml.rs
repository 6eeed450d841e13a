//! Rekordbox XML (`DJ_PLAYLISTS`), the officially supported import path: the safe fallback
//! whenever writing master.db is refused (Rekordbox running, a newer schema). Layout and
//! attribute order follow Rekordbox's own exports (notes §5); `Location` is
//! `file://localhost/` plus the percent-encoded path. The parser reads Rekordbox's exports
//! too (lower-case escapes, unknown attributes ignored), so an export can be checked by
//! reading it back.
//!
//! No `TEMPO` (beat grid) is written: master.db does not hold the grid (it is in the ANLZ
//! files), and a made-up grid would misplace every beat; Rekordbox analyses the track.

use crate::error::{RekordboxError, Result};
use crate::library::{Library, hot_cue_slot};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use quick_xml::{Reader, Writer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Deepest playlist folder nesting accepted when parsing.
const MAX_DEPTH: usize = 64;

/// A whole XML document: the collection and the playlist tree under `ROOT`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XmlCollection {
    /// `COLLECTION/TRACK`.
    pub tracks: Vec<XmlTrack>,
    /// Children of the `ROOT` node.
    pub playlists: Vec<XmlNode>,
}

/// One `TRACK` of the collection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XmlTrack {
    /// `TrackID`, referenced by playlists.
    pub track_id: u64,
    /// `Name`.
    pub name: String,
    /// `Artist`.
    pub artist: String,
    /// `Album`.
    pub album: String,
    /// `Genre`.
    pub genre: String,
    /// `Kind` (informational; localised by Rekordbox, never parsed for meaning).
    pub kind: String,
    /// `Size` in bytes.
    pub size: Option<i64>,
    /// `TotalTime` in seconds.
    pub total_time: Option<i64>,
    /// `Year`.
    pub year: Option<i64>,
    /// `AverageBpm`.
    pub average_bpm: Option<f64>,
    /// `DateAdded` (`yyyy-mm-dd`).
    pub date_added: String,
    /// `BitRate` in kbps.
    pub bit_rate: Option<i64>,
    /// `SampleRate` in Hz.
    pub sample_rate: Option<i64>,
    /// `Comments`.
    pub comments: String,
    /// `PlayCount`.
    pub play_count: Option<i64>,
    /// `Rating`, 0/51/102/153/204/255.
    pub rating: Option<i64>,
    /// The file's path, decoded from `Location`.
    pub path: String,
    /// `Tonality`: the key as the library spells it.
    pub tonality: String,
    /// `Label`.
    pub label: String,
    /// `Colour` (`0xRRGGBB`), when the track has one.
    pub colour: Option<String>,
    /// `TEMPO` children (read from Rekordbox exports; never written by us).
    pub tempos: Vec<XmlTempo>,
    /// `POSITION_MARK` children: cues and loops.
    pub marks: Vec<PositionMark>,
}

/// A beat-grid anchor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XmlTempo {
    /// `Inizio`: seconds.
    pub start: f64,
    /// `Bpm`.
    pub bpm: f64,
    /// `Metro`, e.g. `4/4`.
    pub metro: String,
    /// `Battito`: beat in the bar.
    pub beat: i64,
}

/// A cue or loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PositionMark {
    /// `Name`.
    pub name: String,
    /// `Type`: 0 cue, 4 loop.
    pub mark_type: i64,
    /// `Start` in seconds.
    pub start: f64,
    /// `End` in seconds (loops).
    pub end: Option<f64>,
    /// `Num`: -1 memory cue, 0 = hot cue A ... 7 = H.
    pub num: i64,
    /// `Red`/`Green`/`Blue` of a hot cue.
    pub rgb: Option<[u8; 3]>,
}

/// A node of the playlist tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum XmlNode {
    /// `Type="0"`.
    Folder {
        /// Name.
        name: String,
        /// Children.
        children: Vec<XmlNode>,
    },
    /// `Type="1"`, `KeyType="0"` (entries are `TrackID`s).
    Playlist {
        /// Name.
        name: String,
        /// Track IDs in order.
        track_ids: Vec<u64>,
    },
}

/// Rekordbox's hot-cue colour palette by `ColorTableIndex`, as RGB. [3rd-party, unverified:
/// the table published with mganss/CueGen (MIT), which agrees with Rekordbox exports such as
/// `Num="0" Red="48" Green="90" Blue="255"` for index 1.]
pub const HOT_CUE_PALETTE: [[u8; 3]; 63] = [
    [0x28, 0xe2, 0x14],
    [0x30, 0x5a, 0xff],
    [0x50, 0x73, 0xff],
    [0x50, 0x8c, 0xff],
    [0x50, 0xa0, 0xff],
    [0x50, 0xb4, 0xff],
    [0x50, 0xb0, 0xf2],
    [0x50, 0xae, 0xe8],
    [0x45, 0xac, 0xdb],
    [0x00, 0xe0, 0xff],
    [0x19, 0xda, 0xf0],
    [0x32, 0xd2, 0xe6],
    [0x21, 0xb4, 0xb9],
    [0x20, 0xaa, 0xa0],
    [0x1f, 0xa3, 0x92],
    [0x19, 0xa0, 0x8c],
    [0x14, 0xa5, 0x84],
    [0x14, 0xaa, 0x7d],
    [0x10, 0xb1, 0x76],
    [0x30, 0xd2, 0x6e],
    [0x37, 0xde, 0x5a],
    [0x3c, 0xeb, 0x50],
    [0x28, 0xe2, 0x14],
    [0x7d, 0xc1, 0x3d],
    [0x8c, 0xc8, 0x32],
    [0x9b, 0xd7, 0x23],
    [0xa5, 0xe1, 0x16],
    [0xa5, 0xdc, 0x0a],
    [0xaa, 0xd2, 0x08],
    [0xb4, 0xc8, 0x05],
    [0xb4, 0xbe, 0x04],
    [0xba, 0xb4, 0x04],
    [0xc3, 0xaf, 0x04],
    [0xe1, 0xaa, 0x00],
    [0xff, 0xa0, 0x00],
    [0xff, 0x96, 0x00],
    [0xff, 0x8c, 0x00],
    [0xff, 0x75, 0x00],
    [0xe0, 0x64, 0x1b],
    [0xe0, 0x46, 0x1e],
    [0xe0, 0x30, 0x1e],
    [0xe0, 0x28, 0x23],
    [0xe6, 0x28, 0x28],
    [0xff, 0x37, 0x6f],
    [0xff, 0x2d, 0x6f],
    [0xff, 0x12, 0x7b],
    [0xf5, 0x1e, 0x8c],
    [0xeb, 0x2d, 0xa0],
    [0xe6, 0x37, 0xb4],
    [0xde, 0x44, 0xcf],
    [0xde, 0x44, 0x8d],
    [0xe6, 0x30, 0xb4],
    [0xe6, 0x19, 0xdc],
    [0xe6, 0x00, 0xff],
    [0xdc, 0x00, 0xff],
    [0xcc, 0x00, 0xff],
    [0xb4, 0x32, 0xff],
    [0xb9, 0x3c, 0xff],
    [0xc5, 0x42, 0xff],
    [0xaa, 0x5a, 0xff],
    [0xaa, 0x72, 0xff],
    [0x82, 0x72, 0xff],
    [0x64, 0x73, 0xff],
];

/// Track colours `djmdColor.ID` 1-8 (Pink ... Purple) as the XML `Colour` values Rekordbox
/// uses (Rose, Red, Orange, Lemon, Green, Turquoise, Blue, Violet).
const TRACK_COLOURS: [&str; 8] = [
    "0xFF007F", "0xFF0000", "0xFFA500", "0xFFFF00", "0x00FF00", "0x25FDE9", "0x0000FF", "0x660099",
];

/// `file://localhost/` URI of a `FolderPath`: UTF-8 bytes outside the unreserved set are
/// percent-encoded (upper-case hex), `/` is kept, and so is the `:` of a drive letter.
/// `/Users/u/a b.mp3` → `file://localhost/Users/u/a%20b.mp3`; `C:/x.mp3` →
/// `file://localhost/C:/x.mp3`.
pub fn location_from_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let b = path.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    let body = path.strip_prefix('/').unwrap_or(&path);
    let mut out = String::with_capacity(body.len() + 20);
    out.push_str("file://localhost/");
    for (i, byte) in body.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (drive && i == 1 && byte == b':');
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The path of a `Location`: accepts `file://localhost/` and `file:///`, escapes in either
/// case, unescaped characters, and gives POSIX paths their leading `/` back. Malformed
/// escapes are kept as written.
pub fn path_from_location(location: &str) -> String {
    let lower = location.to_ascii_lowercase();
    let rest = if lower.starts_with("file://localhost/") {
        &location["file://localhost/".len()..]
    } else if lower.starts_with("file:///") {
        &location["file:///".len()..]
    } else {
        location
    };
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let decoded = String::from_utf8_lossy(&out).into_owned();
    let d = decoded.as_bytes();
    let drive = d.len() >= 2 && d[0].is_ascii_alphabetic() && d[1] == b':';
    if drive || decoded.starts_with('/') {
        decoded
    } else {
        format!("/{decoded}")
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn kind_text(file_type: Option<i64>) -> &'static str {
    match file_type {
        Some(1) => "MP3 File",
        Some(3) => "MP4 File",
        Some(4) => "M4A File",
        Some(5) => "FLAC File",
        Some(6) => "ALAC File",
        Some(11) => "WAV File",
        Some(12) => "AIFF File",
        _ => "",
    }
}

/// Builds the XML view of a library: every track with its cues, and the playlist tree
/// (folders and normal playlists; smart playlists and Rekordbox's special nodes are left out).
pub fn collection_from_library(lib: &Library) -> XmlCollection {
    let names = |v: &[crate::library::Named]| -> HashMap<String, String> {
        v.iter().map(|n| (n.id.clone(), n.name.clone())).collect()
    };
    let artists = names(&lib.artists);
    let labels = names(&lib.labels);
    let genres = names(&lib.genres);
    let albums: HashMap<_, _> = lib
        .albums
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let keys: HashMap<_, _> = lib
        .keys
        .iter()
        .map(|k| (k.id.clone(), k.scale_name.clone()))
        .collect();
    let mut cues: HashMap<&str, Vec<&crate::library::Cue>> = HashMap::new();
    for c in &lib.cues {
        cues.entry(c.content_id.as_str()).or_default().push(c);
    }
    // TrackIDs: the content ID when it is a number, otherwise the next free number.
    let mut next_free = lib
        .tracks
        .iter()
        .filter_map(|t| t.id.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let mut track_ids: HashMap<&str, u64> = HashMap::new();
    let get = |m: &HashMap<String, String>, id: &Option<String>| {
        id.as_ref()
            .and_then(|i| m.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut tracks = Vec::with_capacity(lib.tracks.len());
    for t in &lib.tracks {
        let track_id = match t.id.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                next_free += 1;
                next_free - 1
            }
        };
        track_ids.insert(t.id.as_str(), track_id);
        let mut marks: Vec<PositionMark> = cues
            .get(t.id.as_str())
            .map(|v| v.iter().map(|c| mark_from_cue(c)).collect())
            .unwrap_or_default();
        marks.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.num.cmp(&b.num)));
        tracks.push(XmlTrack {
            track_id,
            name: t.title.clone().unwrap_or_default(),
            artist: get(&artists, &t.artist_id),
            album: get(&albums, &t.album_id),
            genre: get(&genres, &t.genre_id),
            kind: kind_text(t.file_type).into(),
            size: t.file_size,
            total_time: t.length_secs,
            year: t.release_year,
            average_bpm: t.bpm_x100.map(|b| b as f64 / 100.0),
            date_added: t
                .stock_date
                .clone()
                .or_else(|| t.date_created.clone())
                .unwrap_or_default(),
            bit_rate: t.bitrate,
            sample_rate: t.sample_rate,
            comments: t.comment.clone().unwrap_or_default(),
            play_count: t.play_count,
            rating: t.rating.map(|r| if r <= 5 { r * 51 } else { r.min(255) }),
            path: t.path.clone(),
            tonality: get(&keys, &t.key_id),
            label: get(&labels, &t.label_id),
            colour: t
                .color_id
                .as_ref()
                .and_then(|c| c.parse::<usize>().ok())
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| TRACK_COLOURS.get(i))
                .map(|s| s.to_string()),
            tempos: Vec::new(),
            marks,
        });
    }
    let mut children: HashMap<&str, Vec<&crate::library::Playlist>> = HashMap::new();
    for p in &lib.playlists {
        children.entry(p.parent_id.as_str()).or_default().push(p);
    }
    for v in children.values_mut() {
        v.sort_by_key(|p| (p.seq.unwrap_or(i64::MAX), p.id.clone()));
    }
    let mut entries: HashMap<&str, Vec<&crate::library::PlaylistEntry>> = HashMap::new();
    for e in &lib.playlist_entries {
        entries.entry(e.playlist_id.as_str()).or_default().push(e);
    }
    for v in entries.values_mut() {
        v.sort_by_key(|e| (e.track_no.unwrap_or(i64::MAX), e.id.clone()));
    }
    fn build(
        parent: &str,
        children: &HashMap<&str, Vec<&crate::library::Playlist>>,
        entries: &HashMap<&str, Vec<&crate::library::PlaylistEntry>>,
        track_ids: &HashMap<&str, u64>,
        depth: usize,
    ) -> Vec<XmlNode> {
        let Some(list) = children.get(parent) else {
            return Vec::new();
        };
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        list.iter()
            .filter_map(|p| match p.attribute {
                1 => Some(XmlNode::Folder {
                    name: p.name.clone(),
                    children: build(&p.id, children, entries, track_ids, depth + 1),
                }),
                0 => Some(XmlNode::Playlist {
                    name: p.name.clone(),
                    track_ids: entries
                        .get(p.id.as_str())
                        .map(|v| {
                            v.iter()
                                .filter_map(|e| track_ids.get(e.content_id.as_str()).copied())
                                .collect()
                        })
                        .unwrap_or_default(),
                }),
                _ => None,
            })
            .collect()
    }
    XmlCollection {
        tracks,
        playlists: build("root", &children, &entries, &track_ids, 0),
    }
}

fn mark_from_cue(c: &crate::library::Cue) -> PositionMark {
    let slot = hot_cue_slot(c.kind);
    PositionMark {
        name: c.comment.clone().unwrap_or_default(),
        mark_type: if c.is_loop() { 4 } else { 0 },
        start: c.in_msec as f64 / 1000.0,
        end: c.out_msec.map(|o| o as f64 / 1000.0),
        num: slot.map(i64::from).unwrap_or(-1),
        rgb: slot.and_then(|_| {
            c.color_table_index
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| HOT_CUE_PALETTE.get(i).copied())
        }),
    }
}

fn xml_err(e: impl std::fmt::Display) -> RekordboxError {
    RekordboxError::Xml(e.to_string())
}

/// Writes a collection as Rekordbox XML (UTF-8, declaration, `DJ_PLAYLISTS Version="1.0.0"`).
pub fn write_xml(c: &XmlCollection, product_version: &str) -> Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let ev = |w: &mut Writer<Vec<u8>>, e: Event<'_>| w.write_event(e).map_err(xml_err);
    ev(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
    )?;
    let mut root = BytesStart::new("DJ_PLAYLISTS");
    root.push_attribute(("Version", "1.0.0"));
    ev(&mut w, Event::Start(root))?;
    let mut product = BytesStart::new("PRODUCT");
    product.push_attribute(("Name", "cratedigger"));
    product.push_attribute(("Version", product_version));
    product.push_attribute(("Company", "cratedigger"));
    ev(&mut w, Event::Empty(product))?;
    let mut coll = BytesStart::new("COLLECTION");
    coll.push_attribute(("Entries", c.tracks.len().to_string().as_str()));
    ev(&mut w, Event::Start(coll))?;
    for t in &c.tracks {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "0".into());
        let mut el = BytesStart::new("TRACK");
        let attrs: Vec<(&str, String)> = vec![
            ("TrackID", t.track_id.to_string()),
            ("Name", t.name.clone()),
            ("Artist", t.artist.clone()),
            ("Composer", String::new()),
            ("Album", t.album.clone()),
            ("Grouping", String::new()),
            ("Genre", t.genre.clone()),
            ("Kind", t.kind.clone()),
            ("Size", opt(t.size)),
            ("TotalTime", opt(t.total_time)),
            ("DiscNumber", "0".into()),
            ("TrackNumber", "0".into()),
            ("Year", opt(t.year)),
            ("AverageBpm", format!("{:.2}", t.average_bpm.unwrap_or(0.0))),
            ("DateAdded", t.date_added.clone()),
            ("BitRate", opt(t.bit_rate)),
            ("SampleRate", opt(t.sample_rate)),
            ("Comments", t.comments.clone()),
            ("PlayCount", opt(t.play_count)),
            ("Rating", opt(t.rating)),
            ("Location", location_from_path(&t.path)),
            ("Remixer", String::new()),
            ("Tonality", t.tonality.clone()),
            ("Label", t.label.clone()),
            ("Mix", String::new()),
        ];
        for (k, v) in &attrs {
            el.push_attribute((*k, v.as_str()));
        }
        if let Some(colour) = &t.colour {
            el.push_attribute(("Colour", colour.as_str()));
        }
        if t.tempos.is_empty() && t.marks.is_empty() {
            ev(&mut w, Event::Empty(el))?;
            continue;
        }
        ev(&mut w, Event::Start(el))?;
        for tempo in &t.tempos {
            let mut te = BytesStart::new("TEMPO");
            te.push_attribute(("Inizio", format!("{:.3}", tempo.start).as_str()));
            te.push_attribute(("Bpm", format!("{:.2}", tempo.bpm).as_str()));
            te.push_attribute(("Metro", tempo.metro.as_str()));
            te.push_attribute(("Battito", tempo.beat.to_string().as_str()));
            ev(&mut w, Event::Empty(te))?;
        }
        for m in &t.marks {
            let mut pm = BytesStart::new("POSITION_MARK");
            pm.push_attribute(("Name", m.name.as_str()));
            pm.push_attribute(("Type", m.mark_type.to_string().as_str()));
            pm.push_attribute(("Start", format!("{:.3}", m.start).as_str()));
            if let Some(end) = m.end {
                pm.push_attribute(("End", format!("{end:.3}").as_str()));
            }
            pm.push_attribute(("Num", m.num.to_string().as_str()));
            if let Some([r, g, b]) = m.rgb {
                pm.push_attribute(("Red", r.to_string().as_str()));
                pm.push_attribute(("Green", g.to_string().as_str()));
                pm.push_attribute(("Blue", b.to_string().as_str()));
            }
            ev(&mut w, Event::Empty(pm))?;
        }
        ev(&mut w, Event::End(BytesEnd::new("TRACK")))?;
    }
    ev(&mut w, Event::End(BytesEnd::new("COLLECTION")))?;
    ev(&mut w, Event::Start(BytesStart::new("PLAYLISTS")))?;
    let mut rootnode = BytesStart::new("NODE");
    rootnode.push_attribute(("Type", "0"));
    rootnode.push_attribute(("Name", "ROOT"));
    rootnode.push_attribute(("Count", c.playlists.len().to_string().as_str()));
    ev(&mut w, Event::Start(rootnode))?;
    fn node(w: &mut Writer<Vec<u8>>, n: &XmlNode) -> Result<()> {
        match n {
            XmlNode::Folder { name, children } => {
                let mut el = BytesStart::new("NODE");
                el.push_attribute(("Type", "0"));
                el.push_attribute(("Name", name.as_str()));
                el.push_attribute(("Count", children.len().to_string().as_str()));
                w.write_event(Event::Start(el)).map_err(xml_err)?;
                for c in children {
                    node(w, c)?;
                }
                w.write_event(Event::End(BytesEnd::new("NODE")))
                    .map_err(xml_err)?;
            }
            XmlNode::Playlist { name, track_ids } => {
                let mut el = BytesStart::new("NODE");
                el.push_attribute(("Name", name.as_str()));
                el.push_attribute(("Type", "1"));
                el.push_attribute(("KeyType", "0"));
                el.push_attribute(("Entries", track_ids.len().to_string().as_str()));
                if track_ids.is_empty() {
                    w.write_event(Event::Empty(el)).map_err(xml_err)?;
                    return Ok(());
                }
                w.write_event(Event::Start(el)).map_err(xml_err)?;
                for id in track_ids {
                    let mut t = BytesStart::new("TRACK");
                    t.push_attribute(("Key", id.to_string().as_str()));
                    w.write_event(Event::Empty(t)).map_err(xml_err)?;
                }
                w.write_event(Event::End(BytesEnd::new("NODE")))
                    .map_err(xml_err)?;
            }
        }
        Ok(())
    }
    for n in &c.playlists {
        node(&mut w, n)?;
    }
    ev(&mut w, Event::End(BytesEnd::new("NODE")))?;
    ev(&mut w, Event::End(BytesEnd::new("PLAYLISTS")))?;
    ev(&mut w, Event::End(BytesEnd::new("DJ_PLAYLISTS")))?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(xml_err)
}

fn attrs(e: &BytesStart<'_>) -> Result<HashMap<String, String>> {
    let mut m = HashMap::new();
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        let v = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(xml_err)?
            .into_owned();
        m.insert(a.key.as_ref().to_string(), v);
    }
    Ok(m)
}

fn num<T: std::str::FromStr>(m: &HashMap<String, String>, k: &str) -> Option<T> {
    m.get(k).and_then(|v| v.trim().parse().ok())
}

/// Reads Rekordbox XML (ours or Rekordbox's). Unknown elements and attributes are skipped;
/// a malformed document or a `TRACK` without `Location` is an error naming it.
pub fn parse_xml(text: &str) -> Result<XmlCollection> {
    enum Frame {
        Folder(String, Vec<XmlNode>),
        Playlist(String, Vec<u64>),
    }
    let mut reader = Reader::from_str(text);
    let mut out = XmlCollection::default();
    let mut in_collection = false;
    let mut current: Option<XmlTrack> = None;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root_seen = false;
    let mut saw_root_element = false;
    loop {
        let ev = reader.read_event().map_err(|e| {
            RekordboxError::Xml(format!("at byte {}: {e}", reader.buffer_position()))
        })?;
        let (e, empty) = match &ev {
            Event::Eof => break,
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(end) => {
                match end.name().as_ref() {
                    "COLLECTION" => in_collection = false,
                    "TRACK" if in_collection => {
                        if let Some(t) = current.take() {
                            out.tracks.push(t);
                        }
                    }
                    "NODE" => close_node(&mut stack, &mut out, &mut root_seen)?,
                    _ => {}
                }
                (None, false)
            }
            _ => (None, false),
        };
        let Some(e) = e else { continue };
        match e.name().as_ref() {
            "DJ_PLAYLISTS" => saw_root_element = true,
            "COLLECTION" => in_collection = !empty,
            "TRACK" if in_collection => {
                let m = attrs(&e)?;
                let location = m.get("Location").ok_or_else(|| {
                    RekordboxError::Xml(format!(
                        "TRACK {} has no Location",
                        m.get("TrackID").map(String::as_str).unwrap_or("?")
                    ))
                })?;
                let t = XmlTrack {
                    track_id: num(&m, "TrackID").unwrap_or(0),
                    name: m.get("Name").cloned().unwrap_or_default(),
                    artist: m.get("Artist").cloned().unwrap_or_default(),
                    album: m.get("Album").cloned().unwrap_or_default(),
                    genre: m.get("Genre").cloned().unwrap_or_default(),
                    kind: m.get("Kind").cloned().unwrap_or_default(),
                    size: num(&m, "Size"),
                    total_time: num(&m, "TotalTime"),
                    year: num(&m, "Year"),
                    average_bpm: num(&m, "AverageBpm"),
                    date_added: m.get("DateAdded").cloned().unwrap_or_default(),
                    bit_rate: num(&m, "BitRate"),
                    sample_rate: num(&m, "SampleRate"),
                    comments: m.get("Comments").cloned().unwrap_or_default(),
                    play_count: num(&m, "PlayCount"),
                    rating: num(&m, "Rating"),
                    path: path_from_location(location),
                    tonality: m.get("Tonality").cloned().unwrap_or_default(),
                    label: m.get("Label").cloned().unwrap_or_default(),
                    colour: m.get("Colour").cloned().filter(|c| !c.is_empty()),
                    tempos: Vec::new(),
                    marks: Vec::new(),
                };
                if empty {
                    out.tracks.push(t);
                } else {
                    current = Some(t);
                }
            }
            "TEMPO" => {
                if let Some(t) = current.as_mut() {
                    let m = attrs(&e)?;
                    t.tempos.push(XmlTempo {
                        start: num(&m, "Inizio").unwrap_or(0.0),
                        bpm: num(&m, "Bpm").unwrap_or(0.0),
                        metro: m.get("Metro").cloned().unwrap_or_default(),
                        beat: num(&m, "Battito").unwrap_or(0),
                    });
                }
            }
            "POSITION_MARK" => {
                if let Some(t) = current.as_mut() {
                    let m = attrs(&e)?;
                    let rgb = match (
                        num::<u8>(&m, "Red"),
                        num::<u8>(&m, "Green"),
                        num::<u8>(&m, "Blue"),
                    ) {
                        (Some(r), Some(g), Some(b)) => Some([r, g, b]),
                        _ => None,
                    };
                    t.marks.push(PositionMark {
                        name: m.get("Name").cloned().unwrap_or_default(),
                        mark_type: num(&m, "Type").unwrap_or(0),
                        start: num(&m, "Start").unwrap_or(0.0),
                        end: num(&m, "End"),
                        num: num(&m, "Num").unwrap_or(-1),
                        rgb,
                    });
                }
            }
            "NODE" => {
                if stack.len() > MAX_DEPTH {
                    return Err(RekordboxError::Xml(format!(
                        "playlist folders nested deeper than {MAX_DEPTH}"
                    )));
                }
                let m = attrs(&e)?;
                let name = m.get("Name").cloned().unwrap_or_default();
                let frame = if m.get("Type").map(String::as_str) == Some("1") {
                    Frame::Playlist(name, Vec::new())
                } else {
                    Frame::Folder(name, Vec::new())
                };
                stack.push(frame);
                if empty {
                    close_node(&mut stack, &mut out, &mut root_seen)?;
                }
            }
            "TRACK" => {
                // A playlist entry.
                if let Some(Frame::Playlist(_, ids)) = stack.last_mut() {
                    let m = attrs(&e)?;
                    if let Some(k) = num::<u64>(&m, "Key") {
                        ids.push(k);
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_root_element {
        return Err(RekordboxError::Xml("no DJ_PLAYLISTS element".into()));
    }
    return Ok(out);

    fn close_node(
        stack: &mut Vec<Frame>,
        out: &mut XmlCollection,
        root_seen: &mut bool,
    ) -> Result<()> {
        let Some(frame) = stack.pop() else {
            return Err(RekordboxError::Xml("unbalanced NODE".into()));
        };
        let node = match frame {
            Frame::Folder(name, children) => XmlNode::Folder { name, children },
            Frame::Playlist(name, track_ids) => XmlNode::Playlist { name, track_ids },
        };
        match stack.last_mut() {
            Some(Frame::Folder(_, children)) => children.push(node),
            Some(Frame::Playlist(..)) => {
                return Err(RekordboxError::Xml("a NODE inside a playlist".into()));
            }
            None => {
                // The ROOT folder itself.
                if let XmlNode::Folder { children, .. } = node {
                    out.playlists = children;
                    *root_seen = true;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_encode_like_rekordbox() {
        assert_eq!(
            location_from_path("/Users/u/Music/a b&é.mp3"),
            "file://localhost/Users/u/Music/a%20b%26%C3%A9.mp3"
        );
        assert_eq!(
            location_from_path("C:/Music/Demo Tracks/x (1).mp3"),
            "file://localhost/C:/Music/Demo%20Tracks/x%20%281%29.mp3"
        );
        for p in ["/Users/u/a b&é.mp3", "C:/Music/x (1)'.mp3", "/a/100%.wav"] {
            assert_eq!(path_from_location(&location_from_path(p)), p);
        }
        // Rekordbox exports: lower-case escapes, unescaped characters.
        assert_eq!(
            path_from_location("file://localhost/C:/Music/caf%c3%a9 x.mp3"),
            "C:/Music/café x.mp3"
        );
        assert_eq!(path_from_location("file://localhost/a/%zz"), "/a/%zz");
    }

    #[test]
    fn parses_a_rekordbox_export() {
        // Shape of Rekordbox 6.6.2's own export (pyrekordbox .testdata, quoted in the notes §5).
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.6.2" Company="AlphaTheta"/>
  <COLLECTION Entries="2">
    <TRACK TrackID="253529738" Name="Demo Track 1" Artist="Loopmasters" Kind="Mp3-Datei " Size="6899624"
           TotalTime="172" AverageBpm="128.00" DateAdded="2022-04-09" BitRate="320" SampleRate="44100"
           Location="file://localhost/C:/Music/PioneerDJ/Demo%20Tracks/Demo%20Track%201.mp3" Tonality="Fm" Label="Loopmasters">
      <TEMPO Inizio="0.025" Bpm="128.00" Metro="4/4" Battito="1"/>
      <POSITION_MARK Name="" Type="0" Start="0.025" Num="0" Red="48" Green="90" Blue="255"/>
      <POSITION_MARK Name="AutoGrid" Type="0" Start="1.000" Num="-1"/>
    </TRACK>
    <TRACK TrackID="7" Name="HORN" Location="file://localhost/C:/x/HORN.wav"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="1">
      <NODE Name="Trial playlist" Type="1" KeyType="0" Entries="1"><TRACK Key="7"/></NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>"#;
        let c = parse_xml(doc).unwrap();
        assert_eq!(c.tracks.len(), 2);
        let t = &c.tracks[0];
        assert_eq!(t.path, "C:/Music/PioneerDJ/Demo Tracks/Demo Track 1.mp3");
        assert_eq!(t.average_bpm, Some(128.0));
        assert_eq!(t.tempos.len(), 1);
        assert_eq!(t.marks[0].rgb, Some([48, 90, 255]));
        assert_eq!(t.marks[1].num, -1);
        assert_eq!(
            c.playlists,
            vec![XmlNode::Playlist {
                name: "Trial playlist".into(),
                track_ids: vec![7]
            }]
        );
        assert!(parse_xml("<html/>").is_err());
        assert!(
            parse_xml("<DJ_PLAYLISTS><COLLECTION><TRACK Name=\"x\"/></COLLECTION></DJ_PLAYLISTS>")
                .is_err()
        );
    }

    #[test]
    fn palette_index_one_is_the_exported_blue() {
        assert_eq!(HOT_CUE_PALETTE[1], [48, 90, 255]);
    }
}
