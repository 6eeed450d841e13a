//! Parsing Bandcamp pages: the search results page, track and album pages (`data-tralbum`,
//! the seller's currency), and the free-download page (`#pagedata[data-blob]`). Pure
//! functions over text, so they are tested on the kit's real pages without a server.

use crate::stores::{MAX_TEXT_CHARS, clean_text, loosely_matches};
use cratedigger_domain::WantedTrack;
use cratedigger_domain::acquisition::{Availability, DownloadRef, SourceCandidate};
use scraper::{Html, Selector};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A CSS selector written in this file (constant text, so parsing it cannot fail at run
/// time for an input's sake).
fn sel(css: &'static str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector '{css}' does not parse: {e}"))
}

static TRALBUM: LazyLock<Selector> = LazyLock::new(|| sel("[data-tralbum]"));
static BAND_CURRENCY: LazyLock<Selector> = LazyLock::new(|| sel("[data-band-currency]"));
static OG_URL: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[property="og:url"]"#));
static EMBED: LazyLock<Selector> = LazyLock::new(|| sel("[data-embed]"));
static RESULT: LazyLock<Selector> = LazyLock::new(|| sel("li.searchresult"));
static HEADING: LazyLock<Selector> = LazyLock::new(|| sel(".heading a"));
static SUBHEAD: LazyLock<Selector> = LazyLock::new(|| sel(".subhead"));
static ITEMURL: LazyLock<Selector> = LazyLock::new(|| sel(".itemurl a"));
static PAGEDATA: LazyLock<Selector> = LazyLock::new(|| sel("#pagedata[data-blob]"));

/// The `data-tralbum` object of a track or album page (only the fields we read; every one
/// optional, so a changed page degrades to "unknown" instead of failing).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Tralbum {
    /// The release itself: title, prices.
    pub current: Current,
    /// Artist as the page shows it.
    pub artist: Option<String>,
    /// "track" or "album".
    pub item_type: Option<String>,
    /// Bandcamp id of the track or album.
    pub id: Option<u64>,
    /// Set when the artist gives the item away without an e-mail address.
    #[serde(rename = "freeDownloadPage")]
    pub free_download_page: Option<String>,
    /// The tracks (one on a track page).
    pub trackinfo: Option<Vec<TrackInfo>>,
    /// Canonical page address.
    pub url: Option<String>,
    /// Whether the page has audio at all.
    #[serde(rename = "hasAudio")]
    pub has_audio: Option<bool>,
}

/// `tralbum.current`: the item's title and price settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Current {
    /// Title of the track or album.
    pub title: Option<String>,
    /// Truthy for a fixed price; null for name-your-price with `minimum_price`.
    pub is_set_price: Option<serde_json::Value>,
    /// The fixed price.
    pub set_price: Option<f64>,
    /// Minimum of a name-your-price item (0: free allowed).
    pub minimum_price: Option<f64>,
    /// Truthy when the free download is sent by e-mail.
    pub require_email: Option<serde_json::Value>,
    /// Artist override for this item.
    pub artist: Option<String>,
    /// ISRC of a track, when the artist entered one.
    pub isrc: Option<String>,
}

/// One `trackinfo[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TrackInfo {
    /// Track id.
    pub track_id: Option<u64>,
    /// Id (same as `track_id` on the pages seen).
    pub id: Option<u64>,
    /// Track title.
    pub title: Option<String>,
    /// Track artist when it differs from the album's.
    pub artist: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    /// Stream addresses by format (`mp3-128`), null when not streamable.
    pub file: Option<BTreeMap<String, Option<String>>>,
    /// Path of the track page (`/track/<slug>`).
    pub title_link: Option<String>,
    /// Position on the album.
    pub track_num: Option<u32>,
}

fn truthy(v: &Option<serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(serde_json::Value::String(s)) => !s.is_empty() && s != "0",
        _ => false,
    }
}

/// A parsed track or album page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TralbumPage {
    /// The `data-tralbum` object.
    pub tralbum: Tralbum,
    /// The seller's currency (`data-band-currency`), three letters.
    pub currency: Option<String>,
    /// The album a track page belongs to (`data-embed.album_title`).
    pub album_title: Option<String>,
    /// The page's canonical address (`og:url`).
    pub og_url: Option<String>,
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The page has no `data-tralbum` attribute (not a track or album page, or changed).
    #[error(
        "the page has no data-tralbum attribute (not a track or album page, or Bandcamp changed it)"
    )]
    NoTralbum,
    /// The attribute is not the JSON we expect.
    #[error("the page's data-tralbum is not the JSON we expect: {0}")]
    BadTralbum(String),
    /// The free-download page has no usable `data-blob`.
    #[error("the free-download page has no usable data-blob: {0}")]
    BadBlob(String),
}

/// Reads a track or album page.
pub fn parse_tralbum_page(html: &str) -> Result<TralbumPage, PageError> {
    let doc = Html::parse_document(html);
    let raw = doc
        .select(&TRALBUM)
        .next()
        .and_then(|e| e.value().attr("data-tralbum"))
        .ok_or(PageError::NoTralbum)?;
    let tralbum: Tralbum =
        serde_json::from_str(raw).map_err(|e| PageError::BadTralbum(e.to_string()))?;
    let currency = doc
        .select(&BAND_CURRENCY)
        .next()
        .and_then(|e| e.value().attr("data-band-currency"))
        .map(str::trim)
        .filter(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()))
        .map(str::to_string);
    let album_title = doc
        .select(&EMBED)
        .next()
        .and_then(|e| e.value().attr("data-embed"))
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
        .and_then(|v| {
            v.get("album_title")?
                .as_str()
                .map(|s| clean_text(s, MAX_TEXT_CHARS))
        })
        .filter(|s| !s.is_empty());
    let og_url = doc
        .select(&OG_URL)
        .next()
        .and_then(|e| e.value().attr("content"))
        .map(|s| s.trim().to_string());
    Ok(TralbumPage {
        tralbum,
        currency,
        album_title,
        og_url,
    })
}

/// What a search result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// A track page.
    Track,
    /// An album page.
    Album,
    /// An artist or label (not fetched).
    Artist,
    /// Anything else (merch, fans).
    Other,
}

/// One entry of the search results page.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// Track, album, artist.
    pub kind: ResultKind,
    /// Heading (track or album title, artist name).
    pub title: String,
    /// "by X" of the subhead.
    pub artist: Option<String>,
    /// "from X" of a track's subhead.
    pub album: Option<String>,
    /// The item's address without the search tracking query.
    pub url: String,
}

/// Reads the search results page (`/search?q=…`): every `li.searchresult` with an address.
pub fn parse_search(html: &str) -> Vec<SearchResult> {
    let doc = Html::parse_document(html);
    let mut out = Vec::new();
    for li in doc.select(&RESULT) {
        let kind = li
            .value()
            .attr("data-search")
            .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
            .and_then(|v| v.get("type")?.as_str().map(str::to_string));
        let kind = match kind.as_deref() {
            Some("t") => ResultKind::Track,
            Some("a") => ResultKind::Album,
            Some("b") => ResultKind::Artist,
            _ => ResultKind::Other,
        };
        let text = |s: &Selector| {
            li.select(s)
                .next()
                .map(|e| clean_text(&e.text().collect::<String>(), MAX_TEXT_CHARS))
                .filter(|t| !t.is_empty())
        };
        let Some(title) = text(&HEADING) else {
            continue;
        };
        let url = li
            .select(&ITEMURL)
            .next()
            .and_then(|a| a.value().attr("href"))
            .or_else(|| {
                li.select(&HEADING)
                    .next()
                    .and_then(|a| a.value().attr("href"))
            })
            .and_then(strip_query);
        let Some(url) = url else { continue };
        let (album, artist) = match text(&SUBHEAD) {
            Some(sub) => split_subhead(&sub),
            None => (None, None),
        };
        out.push(SearchResult {
            kind,
            title,
            artist,
            album,
            url,
        });
    }
    out
}

/// "from Album by Artist" / "by Artist" → (album, artist).
fn split_subhead(sub: &str) -> (Option<String>, Option<String>) {
    let (head, artist) = match sub.rfind("by ") {
        Some(i) if i == 0 || sub[..i].ends_with(' ') => {
            (sub[..i].trim(), Some(sub[i + 3..].trim().to_string()))
        }
        _ => (sub.trim(), None),
    };
    let album = head
        .strip_prefix("from ")
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    (album, artist.filter(|a| !a.is_empty()))
}

/// The address without query or fragment; `None` unless http(s).
fn strip_query(href: &str) -> Option<String> {
    let mut u = reqwest::Url::parse(href.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    u.set_query(None);
    u.set_fragment(None);
    Some(u.to_string())
}

/// The price as a person reads it, from `current`: "4.00 GBP", "1.00 CAD or more",
/// "name your price (free with an e-mail address)", or "free".
pub fn price_text(t: &Tralbum, currency: Option<&str>) -> Option<String> {
    let cur = currency.map(|c| format!(" {c}")).unwrap_or_default();
    if t.free_download_page.is_some() {
        return Some("free".into());
    }
    let c = &t.current;
    if truthy(&c.is_set_price) {
        return c
            .set_price
            .filter(|p| p.is_finite() && *p >= 0.0)
            .map(|p| format!("{p:.2}{cur}"));
    }
    match c.minimum_price.filter(|p| p.is_finite() && *p >= 0.0) {
        Some(min) if min <= 0.0 => Some(if truthy(&c.require_email) {
            "name your price (free with an e-mail address)".into()
        } else {
            "name your price".into()
        }),
        Some(min) => Some(format!("{min:.2}{cur} or more")),
        None => None,
    }
}

/// Candidates of one track or album page for `target`: a track page gives its track; an
/// album page gives its tracks whose title loosely matches the wanted title (each with the
/// track page as its address). `page_url` is where the page was found (its canonical
/// address when the page does not say). A track page with a free download and
/// `free_downloads` on gives a `Download` candidate.
pub fn candidates(
    page: &TralbumPage,
    page_url: &str,
    target: &WantedTrack,
    free_downloads: bool,
) -> Vec<SourceCandidate> {
    let t = &page.tralbum;
    let base = t
        .url
        .as_deref()
        .or(page.og_url.as_deref())
        .unwrap_or(page_url);
    let Some(origin) = origin(base) else {
        return Vec::new();
    };
    let is_album = t.item_type.as_deref() == Some("album");
    let artist = t
        .current
        .artist
        .as_deref()
        .or(t.artist.as_deref())
        .map(|a| clean_text(a, MAX_TEXT_CHARS))
        .filter(|a| !a.is_empty());
    let price = price_text(t, page.currency.as_deref());
    let release = if is_album {
        t.current
            .title
            .as_deref()
            .map(|s| clean_text(s, MAX_TEXT_CHARS))
    } else {
        page.album_title.clone()
    };
    let mut out = Vec::new();
    for ti in t.trackinfo.iter().flatten() {
        let Some(title) = ti
            .title
            .as_deref()
            .map(|s| clean_text(s, MAX_TEXT_CHARS))
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        if is_album && !loosely_matches(&title, &target.title) {
            continue;
        }
        let track_url = match ti.title_link.as_deref() {
            Some(link) if link.starts_with("/track/") && !link.contains("..") => {
                format!("{origin}{}", link.split(['?', '#']).next().unwrap_or(link))
            }
            _ if !is_album => base.split(['?', '#']).next().unwrap_or(base).to_string(),
            _ => continue,
        };
        let preview = ti
            .file
            .as_ref()
            .and_then(|f| f.get("mp3-128").cloned().flatten())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        let track_artist = ti
            .artist
            .as_deref()
            .map(|a| clean_text(a, MAX_TEXT_CHARS))
            .filter(|a| !a.is_empty())
            .or_else(|| artist.clone());
        let free = !is_album && free_downloads && t.free_download_page.is_some();
        let mut c = SourceCandidate {
            source: super::ID.into(),
            source_key: track_url.clone(),
            title,
            artist: track_artist,
            release: release.clone(),
            availability: Availability::Purchase,
            url: Some(track_url),
            preview_url: preview,
            price: if is_album {
                price
                    .as_ref()
                    .map(|p| format!("album {p}; the track may be sold alone"))
            } else {
                price.clone()
            },
            duration_ms: ti
                .duration
                .filter(|d| d.is_finite() && *d > 0.0 && *d < 86_400.0)
                .map(|d| (d * 1000.0).round() as u32),
            ..Default::default()
        };
        if free && let Some(page) = t.free_download_page.clone() {
            c.availability = Availability::Download;
            c.download = Some(DownloadRef::Http { url: page });
        }
        out.push(c);
    }
    out
}

/// `scheme://host[:port]` of an address.
fn origin(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// One format offered on a free-download page.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeFile {
    /// Bandcamp's format name ("flac", "mp3-320", …).
    pub format: String,
    /// The `/download/` address.
    pub url: String,
    /// "a" (album, a zip) or "t" (track).
    pub item_type: Option<String>,
}

/// Our preference among Bandcamp's download formats: lossless first.
pub const FORMAT_PREFERENCE: [&str; 8] = [
    "flac",
    "wav",
    "aiff-lossless",
    "alac",
    "mp3-320",
    "mp3-v0",
    "aac-hi",
    "vorbis",
];

/// The file extension we give a Bandcamp format (our names, never the page's).
pub fn extension_for_format(format: &str) -> Option<&'static str> {
    Some(match format {
        "flac" => "flac",
        "wav" => "wav",
        "aiff-lossless" => "aiff",
        "alac" | "aac-hi" => "m4a",
        "mp3-320" | "mp3-v0" => "mp3",
        "vorbis" => "ogg",
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct Blob {
    #[serde(default)]
    digital_items: Vec<serde_json::Value>,
    #[serde(default)]
    download_items: Vec<serde_json::Value>,
}

/// Reads a free-download page: the best offered format of its first item.
pub fn parse_free_download_page(html: &str) -> Result<FreeFile, PageError> {
    let doc = Html::parse_document(html);
    let raw = doc
        .select(&PAGEDATA)
        .next()
        .and_then(|e| e.value().attr("data-blob"))
        .ok_or_else(|| PageError::BadBlob("no #pagedata[data-blob]".into()))?;
    let blob: Blob = serde_json::from_str(raw).map_err(|e| PageError::BadBlob(e.to_string()))?;
    let item = blob
        .digital_items
        .first()
        .or(blob.download_items.first())
        .ok_or_else(|| PageError::BadBlob("no digital_items".into()))?;
    let downloads = item
        .get("downloads")
        .and_then(|d| d.as_object())
        .ok_or_else(|| PageError::BadBlob("the item lists no downloads".into()))?;
    let item_type = item
        .get("type")
        .and_then(|t| t.as_str())
        .map(|s| s.chars().take(8).collect());
    for format in FORMAT_PREFERENCE {
        if let Some(url) = downloads
            .get(format)
            .and_then(|f| f.get("url"))
            .and_then(|u| u.as_str())
        {
            return Ok(FreeFile {
                format: format.to_string(),
                url: url.to_string(),
                item_type,
            });
        }
    }
    Err(PageError::BadBlob(format!(
        "none of the offered formats is one we take ({})",
        FORMAT_PREFERENCE.join(", ")
    )))
}

/// The `retry_url` of a `/statdownload/` answer: a JSON object inside some JavaScript
/// (`…onStatResult({"result":"ok","retry_url":"…"})` or a bare object); the first object
/// that parses and has the key wins (at most 50 tries, so a hostile answer costs little).
pub fn parse_stat_answer(body: &str) -> Option<String> {
    body.char_indices()
        .filter(|(_, c)| *c == '{')
        .take(50)
        .find_map(|(i, _)| {
            let v = serde_json::Deserializer::from_str(&body[i..])
                .into_iter::<serde_json::Value>()
                .next()?
                .ok()?;
            v.get("retry_url")?.as_str().map(str::to_string)
        })
        .filter(|u| u.len() <= 4096)
        .and_then(|u| {
            if let Some(rest) = u.strip_prefix("//") {
                Some(format!("https://{rest}"))
            } else if u.starts_with("https://") || u.starts_with("http://") {
                Some(u)
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subheads_split_album_and_artist() {
        assert_eq!(
            split_subhead("from Minecraft - Volume Alpha by C418"),
            (Some("Minecraft - Volume Alpha".into()), Some("C418".into()))
        );
        assert_eq!(split_subhead("by C418"), (None, Some("C418".into())));
        assert_eq!(split_subhead("Lullaby"), (None, None));
    }

    #[test]
    fn prices_read_as_the_page_shows_them() {
        let mut t = Tralbum::default();
        t.current.minimum_price = Some(1.0);
        assert_eq!(
            price_text(&t, Some("CAD")).as_deref(),
            Some("1.00 CAD or more")
        );
        t.current.is_set_price = Some(serde_json::json!(1));
        t.current.set_price = Some(4.0);
        assert_eq!(price_text(&t, Some("GBP")).as_deref(), Some("4.00 GBP"));
        t.current.is_set_price = None;
        t.current.minimum_price = Some(0.0);
        t.current.require_email = Some(serde_json::json!(1));
        assert_eq!(
            price_text(&t, None).as_deref(),
            Some("name your price (free with an e-mail address)")
        );
        t.free_download_page = Some("https://bandcamp.com/download?id=1".into());
        assert_eq!(price_text(&t, None).as_deref(), Some("free"));
    }

    #[test]
    fn stat_answers_give_the_retry_url() {
        assert_eq!(
            parse_stat_answer(
                r#"if ( window.Downloader ) { Downloader.onStatResult({"result":"ok","retry_url":"https://p4.bcbits.com/download/track/x?fsig=1"}) }"#
            )
            .as_deref(),
            Some("https://p4.bcbits.com/download/track/x?fsig=1")
        );
        assert_eq!(
            parse_stat_answer(r#"{"retry_url":"//p4.bcbits.com/f"}"#).as_deref(),
            Some("https://p4.bcbits.com/f")
        );
        assert_eq!(parse_stat_answer("nothing"), None);
        assert_eq!(parse_stat_answer(r#"{"retry_url":"javascript:x"}"#), None);
    }
}
