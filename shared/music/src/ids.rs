//! Identifier hygiene: ISRCs and label catalog numbers arrive in many spellings
//! (`GB-AJE-99-00150`, `gbaje9900150`, `ANJ-CDCO-011D`), and an exact lookup or a UNIQUE
//! index only works once they are reduced to one canonical form.

/// Longest raw identifier we look at; anything longer is garbage, not an id.
const MAX_ID_INPUT: usize = 64;

/// Why a string is not an ISRC. Carries the input so the message can be shown to a person
/// and stored with the item flagged for review.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Nothing but spaces and hyphens.
    #[error("empty ISRC")]
    Empty,
    /// Longer than any plausible spelling of an ISRC.
    #[error("ISRC input too long ({len} chars)")]
    TooLong {
        /// Length of the input in chars.
        len: usize,
    },
    /// Wrong length or wrong character classes after removing separators.
    #[error(
        "malformed ISRC '{input}': expected CC-XXX-YY-NNNNN (2 letters, 3 alphanumerics, 7 digits)"
    )]
    Malformed {
        /// The text as given.
        input: String,
    },
}

/// Validates an ISRC and returns its canonical form (12 chars, upper case, no separators), or
/// a typed error naming the input, so a bad ISRC is flagged instead of stored as fact.
///
/// Accepts hyphens, spaces and an optional `ISRC` / `ISRC:` prefix.
pub fn validate_isrc(s: &str) -> Result<String, IdError> {
    let len = s.chars().count();
    if len > MAX_ID_INPUT {
        return Err(IdError::TooLong { len });
    }
    let trimmed = s.trim();
    let body = strip_prefix_ci(trimmed, "isrc")
        .map(|r| r.trim_start_matches([':', ' ']))
        .unwrap_or(trimmed);
    let compact: String = body
        .chars()
        .filter(|c| !is_separator(*c))
        .flat_map(char::to_uppercase)
        .collect();
    if compact.is_empty() {
        return Err(IdError::Empty);
    }
    let chars: Vec<char> = compact.chars().collect();
    let ok = chars.len() == 12
        && chars[..2].iter().all(|c| c.is_ascii_uppercase())
        && chars[2..5].iter().all(|c| c.is_ascii_alphanumeric())
        && chars[5..].iter().all(|c| c.is_ascii_digit());
    if ok {
        Ok(compact)
    } else {
        Err(IdError::Malformed {
            input: s.to_string(),
        })
    }
}

/// Canonical ISRC or `None`: the convenient form for optional platform fields where an
/// invalid value simply means "unknown".
pub fn normalize_isrc(s: &str) -> Option<String> {
    validate_isrc(s).ok()
}

/// Canonical catalog number so `ANJCDCO011D`, `anj-cdco-011d` and `ANJ CDCO 011D` compare
/// equal: upper case, without spaces, hyphens, dots and underscores. Input is capped at 64
/// chars because no label uses longer numbers.
pub fn normalize_catalog(s: &str) -> String {
    s.chars()
        .take(MAX_ID_INPUT)
        .filter(|c| !is_separator(*c) && *c != '.' && *c != '_')
        .flat_map(char::to_uppercase)
        .collect()
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isrc_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("GBAJE9900150", Some("GBAJE9900150")),
            ("gbaje9900150", Some("GBAJE9900150")),
            ("GB-AJE-99-00150", Some("GBAJE9900150")),
            (" GB AJE 99 00150 ", Some("GBAJE9900150")),
            ("ISRC: GB-AJE-99-00150", Some("GBAJE9900150")),
            ("USRE11300165", Some("USRE11300165")),
            ("DECH61000740", Some("DECH61000740")),
            ("GBTDG1302861", Some("GBTDG1302861")),
            ("GB2LD2210007", Some("GB2LD2210007")),
            ("", None),
            ("---", None),
            ("GBAJE990015", None),   // 11 chars
            ("GBAJE99001500", None), // 13 chars
            ("1BAJE9900150", None),  // country must be letters
            ("GBAJE99A0150", None),  // designation must be digits
            ("GBA_E9900150", None),
            ("GBÄJE9900150", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_isrc(input).as_deref(), *want, "input {input:?}");
        }
    }

    #[test]
    fn isrc_errors_name_the_input() {
        let err = validate_isrc("GB-XX").unwrap_err();
        assert!(err.to_string().contains("'GB-XX'"), "{err}");
        assert_eq!(validate_isrc("  - "), Err(IdError::Empty));
        assert!(matches!(
            validate_isrc(&"A".repeat(1000)),
            Err(IdError::TooLong { len: 1000 })
        ));
    }

    #[test]
    fn catalog_table() {
        let cases = [
            ("ANJCDCO011D", "ANJCDCO011D"),
            ("ANJ-CDCO-011D", "ANJCDCO011D"),
            ("anj cdco 011d", "ANJCDCO011D"),
            ("anj.cdco_011d", "ANJCDCO011D"),
            ("OW032", "OW032"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_catalog(input), want, "input {input:?}");
        }
        assert_eq!(normalize_catalog(&"x".repeat(10_000)).len(), 64);
    }
}
