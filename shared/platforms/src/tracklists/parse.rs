//! Reading a 1001tracklists tracklist page (pure functions, tested on the kit's pages).

use crate::mapping::split_mix;
use crate::sources::MAX_SOURCE_TRACKS;
use crate::spotify::PlaylistEntryOutcome;
use crate::stores::{MAX_TEXT_CHARS, clean_text};
use cratedigger_domain::{ArtistCredit, ArtistRole, PlatformTrack};
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;

fn sel(css: &'static str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector '{css}' does not parse: {e}"))
}

static ROW: LazyLock<Selector> = LazyLock::new(|| sel("div.tlpItem"));
static NAME: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[itemprop="name"]"#));
static BY_ARTIST: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[itemprop="byArtist"]"#));
static PUBLISHER: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[itemprop="publisher"]"#));
static DURATION: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[itemprop="duration"]"#));
static GENRE: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[itemprop="genre"]"#));
static URL: LazyLock<Selector> = LazyLock::new(|| sel(r#"meta[itemprop="url"]"#));
static VALUE: LazyLock<Selector> = LazyLock::new(|| sel(".trackValue"));
static CAPTCHA: LazyLock<Selector> = LazyLock::new(|| sel(r#"input[name="captcha"]"#));
static H1: LazyLock<Selector> = LazyLock::new(|| sel("h1"));

/// What a page turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    /// A tracklist: one outcome per row, in order.
    Tracklist(Vec<PlaylistEntryOutcome>),
    /// The anti-bot interstitial served instead of the tracklist.
    Challenge,
}

/// Reads a tracklist page. No rows plus the interstitial's marks (a `captcha` form field,
/// "you will be forwar(d)ed to the wanted page") is [`Page::Challenge`]; no rows without
/// them is an empty tracklist.
pub fn parse_page(html: &str, site: &str) -> Page {
    let doc = Html::parse_document(html);
    let rows: Vec<ElementRef> = doc.select(&ROW).take(MAX_SOURCE_TRACKS).collect();
    if rows.is_empty() && is_challenge(&doc) {
        return Page::Challenge;
    }
    Page::Tracklist(rows.into_iter().map(|r| row_entry(r, site)).collect())
}

fn is_challenge(doc: &Html) -> bool {
    if doc.select(&CAPTCHA).next().is_some() {
        return true;
    }
    doc.select(&H1).any(|h| {
        let t = h.text().collect::<String>().to_ascii_lowercase();
        t.contains("you will be forwared") || t.contains("you will be forwarded")
    })
}

fn meta(row: ElementRef, s: &Selector) -> Option<String> {
    row.select(s)
        .next()
        .and_then(|m| m.value().attr("content"))
        .map(|c| clean_text(c, MAX_TEXT_CHARS))
        .filter(|c| !c.is_empty())
}

/// ISO 8601 `PT#H#M#S` → milliseconds.
fn iso_duration_ms(s: &str) -> Option<u32> {
    let rest = s.trim().strip_prefix("PT")?;
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            if num.len() > 6 {
                return None;
            }
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += match c {
            'H' => n * 3600,
            'M' => n * 60,
            'S' => n,
            _ => return None,
        };
    }
    (num.is_empty() && total > 0 && total < 86_400).then(|| (total * 1000) as u32)
}

/// "A ft. B" → A main, B featured.
fn credits(artist: &str) -> Vec<ArtistCredit> {
    for sep in [" ft. ", " feat. ", " featuring ", " Ft. ", " Feat. "] {
        if let Some((main, feat)) = artist.split_once(sep) {
            return vec![
                ArtistCredit {
                    name: main.trim().to_string(),
                    role: ArtistRole::Main,
                },
                ArtistCredit {
                    name: feat.trim().to_string(),
                    role: ArtistRole::Featured,
                },
            ];
        }
    }
    vec![ArtistCredit {
        name: artist.trim().to_string(),
        role: ArtistRole::Main,
    }]
}

fn is_id(s: &str) -> bool {
    s.trim() == "ID" || s.trim() == "?"
}

fn row_entry(row: ElementRef, site: &str) -> PlaylistEntryOutcome {
    let shown = row
        .select(&VALUE)
        .next()
        .map(|v| clean_text(&v.text().collect::<String>(), MAX_TEXT_CHARS))
        .filter(|v| !v.is_empty());
    let name = meta(row, &NAME);
    let label_text = name
        .clone()
        .or(shown.clone())
        .unwrap_or_else(|| "(empty row)".into());
    let Some(name) = name.or(shown) else {
        return PlaylistEntryOutcome::Skipped {
            label: label_text,
            reason: "the row shows no track".into(),
        };
    };
    let by = meta(row, &BY_ARTIST);
    let (artist, title) = match &by {
        Some(a) if name.starts_with(&format!("{a} - ")) => {
            (a.clone(), name[a.len() + 3..].trim().to_string())
        }
        _ => match name.split_once(" - ") {
            Some((a, t)) => (
                by.clone().unwrap_or_else(|| a.trim().to_string()),
                t.trim().to_string(),
            ),
            None => (by.clone().unwrap_or_default(), name.clone()),
        },
    };
    let (title, mix) = split_mix(&title);
    if artist.is_empty() || title.is_empty() || is_id(&artist) || is_id(&title) {
        return PlaylistEntryOutcome::Skipped {
            label: label_text,
            reason: "an unidentified track (\"ID\") in the tracklist: nothing to look for".into(),
        };
    }
    let url = meta(row, &URL)
        .filter(|u| u.starts_with('/') && !u.starts_with("//"))
        .map(|u| format!("{}{u}", site.trim_end_matches('/')));
    PlaylistEntryOutcome::Track(Box::new(PlatformTrack {
        platform: super::ID.into(),
        platform_id: row
            .value()
            .attr("data-trackid")
            .map(|id| clean_text(id, 32))
            .unwrap_or_default(),
        title,
        mix,
        artists: credits(&artist),
        label: meta(row, &PUBLISHER),
        duration_ms: meta(row, &DURATION).and_then(|d| iso_duration_ms(&d)),
        genre: meta(row, &GENRE),
        url,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration_ms("PT4M6S"), Some(246_000));
        assert_eq!(iso_duration_ms("PT1H0M1S"), Some(3_601_000));
        assert_eq!(iso_duration_ms("PT"), None);
        assert_eq!(iso_duration_ms("P1D"), None);
        assert_eq!(iso_duration_ms("PT99999999999S"), None);
    }

    #[test]
    fn featured_artists_are_split_off() {
        let c = credits("Bicep ft. Clara La San");
        assert_eq!(c[0].name, "Bicep");
        assert_eq!(c[1].role, ArtistRole::Featured);
    }

    #[test]
    fn a_row_less_page_without_challenge_marks_is_an_empty_tracklist() {
        assert_eq!(
            parse_page("<html><body><h1>Tracklist</h1></body></html>", "https://x"),
            Page::Tracklist(vec![])
        );
    }
}
