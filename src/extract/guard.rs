//! Input hygiene before any parsing. html5ever copes with anything, but
//! Readability's scoring walks ancestors and descendants, so pathological
//! nesting turns into quadratic time or deep recursion; binary junk wastes
//! time and produces garbage "text". Both are cheaper to stop here.

/// Larger pages are cut: no article needs more, and parse time is linear.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Real pages rarely nest beyond ~60 elements; Readability time grows
/// super-linearly with depth (400 levels: ~40 ms, 1000: many seconds); deeper tags are dropped.
const MAX_DEPTH: usize = 160;

/// Elements that never take an end tag, so they do not deepen the tree.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "!doctype",
];

/// Returns a parse-safe copy of `html`, or `None` when it is not text at all.
pub fn sanitize(html: &str) -> Option<String> {
    if html.trim().is_empty() {
        return None;
    }
    let mut end = html.len().min(MAX_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let html = &html[..end];
    if looks_binary(html) {
        return None;
    }
    Some(flatten_deep(html))
}

/// Binary data decoded lossily is full of control characters and U+FFFD.
fn looks_binary(s: &str) -> bool {
    let sample: Vec<char> = s.chars().take(8192).collect();
    let bad = sample
        .iter()
        .filter(|&&c| {
            c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        })
        .count();
    bad * 10 > sample.len()
}

fn tag_name(rest: &str) -> &str {
    let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
    &rest[..end]
}

/// Drops start tags (and the matching number of end tags) beyond
/// [`MAX_DEPTH`], and NULs, which html5ever replaces anyway. An approximate
/// tag scanner is enough: it only has to bound depth, not to parse.
fn flatten_deep(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut depth = 0usize;
    let mut dropped = 0usize;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let gt = rest.find('>').map_or(rest.len(), |g| g + 1);
        let tag = &rest[..gt];
        let body = &tag[1..];
        if body.starts_with('/') {
            if dropped > 0 {
                dropped -= 1;
            } else {
                depth = depth.saturating_sub(1);
                out.push_str(tag);
            }
        } else if body.starts_with('!') || body.starts_with('?') {
            out.push_str(tag);
        } else {
            let name = tag_name(body).to_ascii_lowercase();
            let is_void = name.is_empty() || VOID.contains(&name.as_str()) || tag.ends_with("/>");
            if is_void {
                out.push_str(tag);
            } else if depth >= MAX_DEPTH {
                dropped += 1;
            } else {
                depth += 1;
                out.push_str(tag);
            }
        }
        rest = &rest[gt..];
    }
    out.push_str(rest);
    out.retain(|c| c != '\0');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_binary() {
        assert!(sanitize("").is_none());
        assert!(sanitize("   \n").is_none());
        let junk: String = (0u8..=255).cycle().take(5000).map(char::from).collect();
        let junk = junk.replace(|c: char| c.is_ascii_graphic(), "\u{1}");
        assert!(sanitize(&junk).is_none());
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("{}x{}", "<div>".repeat(10_000), "</div>".repeat(10_000));
        let out = sanitize(&deep).expect("text");
        assert_eq!(out.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains('x'));
    }

    #[test]
    fn keeps_normal_pages_intact() {
        let page = "<!DOCTYPE html><html><head><meta charset=utf-8></head><body><p>Hi <br> there</p></body></html>";
        assert_eq!(sanitize(page).as_deref(), Some(page));
    }
}
