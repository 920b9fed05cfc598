//! HTML fragments (feed content, titles) → plain text, without a DOM: feed snippets are
//! small and often broken, and a forgiving scanner is both faster and safer here.

/// Strips tags, drops `<script>`/`<style>` bodies, decodes entities, and turns block
/// elements into paragraph breaks.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt + 1..];
        // `<` starts a tag only before a name, `/`, `!` or `?`; otherwise it is text.
        let opens_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || "/!?".contains(c));
        if !opens_tag {
            out.push('<');
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            // A lone '<' is text.
            out.push_str(&decode_entities(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = after[..gt].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        rest = &after[gt + 1..];
        if (name == "script" || name == "style") && !after.starts_with('/') {
            let close = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&close) {
                Some(i) => rest[i..].split_once('>').map(|(_, r)| r).unwrap_or(""),
                None => "",
            };
            continue;
        }
        match name.as_str() {
            "p" | "div" | "br" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote"
            | "tr" | "section" | "article" | "ul" | "ol" | "pre" | "figure" | "hr" => {
                out.push_str("\n\n")
            }
            _ => out.push(' '),
        }
    }
    out.push_str(&decode_entities(rest));
    normalize_paragraphs(&out)
}

/// Collapses runs of spaces inside paragraphs and keeps one blank line between them.
pub fn normalize_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Decodes the entities that appear in feeds: named basics and numeric references.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let end = tail.char_indices().take(12).find(|(_, c)| *c == ';').map(|(i, _)| i);
        let decoded = end.and_then(|end| {
            let ent = &tail[1..end];
            let ch = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                _ => ent.strip_prefix('#').and_then(|num| {
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            ch.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_markup_and_keeps_paragraphs() {
        let html = "<p>One &amp; <b>two</b></p><script>alert(1)</script><p>Three&#8217;s &#x41; &bogus; 1 < 2</p>";
        assert_eq!(html_to_text(html), "One & two\n\nThree’s A &bogus; 1 < 2");
    }

    #[test]
    fn survives_broken_input() {
        for s in ["<", "<<>>", "&", "&#99999999999;", "<p", "<script>never closed", "</"] {
            let _ = html_to_text(s);
        }
        assert_eq!(html_to_text("<script>never closed"), "");
    }
}
