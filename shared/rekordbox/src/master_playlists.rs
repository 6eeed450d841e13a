//! `masterPlaylists6.xml`: Rekordbox's index of playlists next to master.db. Every playlist
//! has a `NODE` (hex `Id`, `ParentId`, `Attribute`, `Timestamp` = `updated_at` in ms); a
//! playlist missing from it, or a stale timestamp, makes Rekordbox and the database disagree
//! (notes §1.5). We rewrite only what we touch and copy every other event through as it was.
//!
//! Kit gap: `../shared/rekordbox` holds no masterPlaylists6.xml; the shape here follows the
//! notes (§1.5) and pyrekordbox's `masterPlaylists6_template.xml` layout.

use crate::error::{RekordboxError, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

/// A playlist node to add or refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistNode {
    /// `djmdPlaylist.ID` (decimal).
    pub id: String,
    /// Parent ID (decimal) or `root`.
    pub parent_id: String,
    /// 0 playlist, 1 folder, 4 smart playlist.
    pub attribute: i64,
    /// `updated_at` in milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// The node `Id`: the decimal playlist ID in upper-case hex (`2602250856` → `9B1B3268`).
pub fn node_id(id: &str) -> Result<String> {
    let n: u64 = id
        .trim()
        .parse()
        .map_err(|_| RekordboxError::Xml(format!("playlist ID '{id}' is not a decimal number")))?;
    Ok(format!("{n:X}"))
}

fn parent_node_id(parent: &str) -> Result<String> {
    if parent == "root" || parent.is_empty() {
        Ok("0".into())
    } else {
        node_id(parent)
    }
}

/// Returns `xml` with each of `nodes` present: an existing `NODE` with the same `Id` gets
/// the new `Timestamp`, a missing one is appended to `PLAYLISTS`. Fails (so the write session
/// is refused) when the document has no `PLAYLISTS` element or is not well-formed XML.
pub fn upsert_nodes(xml: &str, nodes: &[PlaylistNode]) -> Result<String> {
    let mut wanted: Vec<(String, &PlaylistNode, bool)> = nodes
        .iter()
        .map(|n| Ok((node_id(&n.id)?, n, false)))
        .collect::<Result<_>>()?;
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    let mut saw_playlists = false;
    let mut depth_in_playlists: Option<usize> = None;
    let mut depth = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| RekordboxError::Xml(format!("masterPlaylists6.xml: {e}")))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) => {
                depth += 1;
                if e.name().as_ref() == "PLAYLISTS" {
                    saw_playlists = true;
                    depth_in_playlists = Some(depth);
                }
                let out = refresh_node(e, &mut wanted)?;
                write(&mut writer, Event::Start(out))?;
            }
            Event::Empty(ref e) => {
                if e.name().as_ref() == "PLAYLISTS" {
                    // `<PLAYLISTS/>`: open it, add ours, close it.
                    saw_playlists = true;
                    write(&mut writer, Event::Start(e.to_owned()))?;
                    append_missing(&mut writer, &mut wanted)?;
                    write(&mut writer, Event::End(e.to_end().into_owned()))?;
                    continue;
                }
                let out = refresh_node(e, &mut wanted)?;
                write(&mut writer, Event::Empty(out))?;
            }
            Event::End(ref e) => {
                if e.name().as_ref() == "PLAYLISTS" && depth_in_playlists == Some(depth) {
                    append_missing(&mut writer, &mut wanted)?;
                    depth_in_playlists = None;
                }
                depth = depth.saturating_sub(1);
                write(&mut writer, Event::End(e.to_owned()))?;
            }
            other => write(&mut writer, other)?,
        }
    }
    if !saw_playlists {
        return Err(RekordboxError::Xml(
            "masterPlaylists6.xml has no PLAYLISTS element".into(),
        ));
    }
    String::from_utf8(writer.into_inner())
        .map_err(|e| RekordboxError::Xml(format!("masterPlaylists6.xml: {e}")))
}

fn write(w: &mut Writer<Vec<u8>>, ev: Event<'_>) -> Result<()> {
    w.write_event(ev)
        .map_err(|e| RekordboxError::Xml(format!("writing masterPlaylists6.xml: {e}")))
}

/// A `NODE` whose `Id` we want gets the new `Timestamp`; anything else is copied.
fn refresh_node(
    e: &BytesStart<'_>,
    wanted: &mut [(String, &PlaylistNode, bool)],
) -> Result<BytesStart<'static>> {
    if e.name().as_ref() != "NODE" {
        return Ok(e.to_owned());
    }
    let mut id = None;
    for a in e.attributes().flatten() {
        if a.key.as_ref() == "Id" {
            id = Some(a.value.to_string());
        }
    }
    let Some(id) = id else {
        return Ok(e.to_owned());
    };
    let Some(entry) = wanted
        .iter_mut()
        .find(|(hex, _, _)| hex.eq_ignore_ascii_case(&id))
    else {
        return Ok(e.to_owned());
    };
    entry.2 = true;
    let mut out = BytesStart::new("NODE");
    for a in e.attributes().flatten() {
        if a.key.as_ref() == "Timestamp" {
            out.push_attribute(("Timestamp", entry.1.timestamp_ms.to_string().as_str()));
        } else {
            // Copied raw (still escaped), so nothing is escaped twice.
            out.push_attribute(a);
        }
    }
    Ok(out)
}

fn append_missing(
    w: &mut Writer<Vec<u8>>,
    wanted: &mut [(String, &PlaylistNode, bool)],
) -> Result<()> {
    for (hex, node, done) in wanted.iter_mut() {
        if *done {
            continue;
        }
        let mut el = BytesStart::new("NODE");
        el.push_attribute(("Id", hex.as_str()));
        el.push_attribute(("ParentId", parent_node_id(&node.parent_id)?.as_str()));
        el.push_attribute(("Attribute", node.attribute.to_string().as_str()));
        el.push_attribute(("Timestamp", node.timestamp_ms.to_string().as_str()));
        el.push_attribute(("Lib_Type", "0"));
        el.push_attribute(("CheckType", "0"));
        write(w, Event::Empty(el))?;
        *done = true;
    }
    Ok(())
}

/// The `NODE`s of a document as (`Id`, `Timestamp`), for checks and tests.
pub fn node_timestamps(xml: &str) -> Result<Vec<(String, String)>> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader
            .read_event()
            .map_err(|e| RekordboxError::Xml(format!("masterPlaylists6.xml: {e}")))?
        {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "NODE" => {
                let mut id = String::new();
                let mut ts = String::new();
                for a in e.attributes().flatten() {
                    match a.key.as_ref() {
                        "Id" => id = a.value.to_string(),
                        "Timestamp" => ts = a.value.to_string(),
                        _ => {}
                    }
                }
                out.push((id, ts));
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shape from the notes §1.5 (the kit has no masterPlaylists6.xml).
    const DOC: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MASTER_PLAYLIST Version=\"3.0.0\" AutomaticSync=\"0\">\n  <PRODUCT Name=\"rekordbox\" Version=\"6.6.2\" Company=\"Pioneer DJ\"/>\n  <PLAYLISTS>\n    <NODE Id=\"186A0\" ParentId=\"0\" Attribute=\"-128\" Timestamp=\"1649540314311\" Lib_Type=\"0\" CheckType=\"0\"/>\n    <NODE Id=\"9B1B3268\" ParentId=\"0\" Attribute=\"0\" Timestamp=\"0\" Lib_Type=\"0\" CheckType=\"0\"/>\n  </PLAYLISTS>\n</MASTER_PLAYLIST>\n";

    #[test]
    fn ids_are_upper_hex() {
        assert_eq!(node_id("2602250856").unwrap(), "9B1B3268");
        assert_eq!(node_id("100000").unwrap(), "186A0");
        assert!(node_id("abc").is_err());
    }

    #[test]
    fn existing_nodes_are_refreshed_and_new_ones_appended() {
        let out = upsert_nodes(
            DOC,
            &[
                PlaylistNode {
                    id: "2602250856".into(),
                    parent_id: "root".into(),
                    attribute: 0,
                    timestamp_ms: 1_700_000_000_123,
                },
                PlaylistNode {
                    id: "12345".into(),
                    parent_id: "root".into(),
                    attribute: 0,
                    timestamp_ms: 42,
                },
            ],
        )
        .unwrap();
        let nodes = node_timestamps(&out).unwrap();
        assert_eq!(
            nodes,
            vec![
                ("186A0".to_string(), "1649540314311".to_string()),
                ("9B1B3268".to_string(), "1700000000123".to_string()),
                ("3039".to_string(), "42".to_string()),
            ]
        );
        assert!(out.contains("<PRODUCT Name=\"rekordbox\""));
        assert!(out.contains(
            "ParentId=\"0\" Attribute=\"0\" Timestamp=\"42\" Lib_Type=\"0\" CheckType=\"0\""
        ));
    }

    #[test]
    fn a_document_without_playlists_is_refused() {
        assert!(upsert_nodes("<MASTER_PLAYLIST/>", &[]).is_err());
        assert!(upsert_nodes("not xml <", &[]).is_err());
    }
}
