//! Small mapping helpers shared by the platform mappers.

/// Splits a trailing bracketed part off a title: `"This Room (Four Tet remix)"` gives
/// `("This Room", Some("Four Tet remix"))`. DJs match on the mix name separately.
pub fn split_mix(title: &str) -> (String, Option<String>) {
    let t = title.trim();
    let close = match t.chars().last() {
        Some(')') => '(',
        Some(']') => '[',
        _ => return (t.to_string(), None),
    };
    // find the matching opener, allowing nested brackets inside the mix name
    let closer = if close == '(' { ')' } else { ']' };
    let mut depth = 0usize;
    for (i, c) in t.char_indices().rev() {
        if c == closer {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                let head = t[..i].trim_end();
                let mix = t[i + 1..t.len() - 1].trim();
                if head.is_empty() || mix.is_empty() {
                    return (t.to_string(), None);
                }
                return (head.to_string(), Some(mix.to_string()));
            }
        }
    }
    (t.to_string(), None)
}

/// Strips one pair of surrounding brackets: Deezer writes `title_version` as "(Radio Edit)".
pub fn strip_brackets(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .or_else(|| s.strip_prefix('[').and_then(|x| x.strip_suffix(']')))
        .unwrap_or(s)
        .trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

/// Normalises an ISRC (upper case, no hyphens or spaces); `None` unless it is 12
/// alphanumerics, so a platform's typo never becomes a false exact match.
pub fn normalize_isrc(raw: &str) -> Option<String> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 12 && s.chars().all(|c| c.is_ascii_alphanumeric())).then_some(s)
}

/// Whether a credit join phrase introduces featured artists ("feat.", "ft.", "featuring").
pub fn is_featuring(joinphrase: &str) -> bool {
    joinphrase
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| matches!(w, "feat" | "ft" | "featuring"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_brackets_become_the_mix() {
        assert_eq!(
            split_mix("This Room (Four Tet & Manitoba remix)"),
            ("This Room".into(), Some("Four Tet & Manitoba remix".into()))
        );
        assert_eq!(split_mix("Glue"), ("Glue".into(), None));
        assert_eq!(
            split_mix("Song [Extended Mix]"),
            ("Song".into(), Some("Extended Mix".into()))
        );
        assert_eq!(split_mix("(Untitled)"), ("(Untitled)".into(), None));
        assert_eq!(
            split_mix("A (b (c) d)"),
            ("A".into(), Some("b (c) d".into()))
        );
        assert_eq!(split_mix("broken)"), ("broken)".into(), None));
    }

    #[test]
    fn isrcs_are_normalised_or_refused() {
        assert_eq!(
            normalize_isrc("gb-duw-00-00059").as_deref(),
            Some("GBDUW0000059")
        );
        assert_eq!(normalize_isrc("GBDUW000005"), None);
        assert_eq!(normalize_isrc("GBDUW00000!9"), None);
    }

    #[test]
    fn featuring_phrases() {
        assert!(is_featuring(" feat. "));
        assert!(is_featuring(" Ft "));
        assert!(is_featuring(" featuring "));
        assert!(!is_featuring(" & "));
        assert!(!is_featuring(" left "));
        assert_eq!(
            strip_brackets("(Radio Edit)").as_deref(),
            Some("Radio Edit")
        );
        assert_eq!(strip_brackets(""), None);
    }
}
