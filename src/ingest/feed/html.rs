//! HTML in a title → one line of text, read with the forgiving tokenizer, so a `>`
//! inside a quoted attribute or an unclosed comment does not leak markup into the text.

use super::entities;
use super::xml::{Token, Tokenizer};

/// Text of an HTML fragment: tags and comments dropped, `script`/`style` bodies dropped,
/// references decoded (HTML's full set), whitespace collapsed.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut skip_until: Option<&str> = None;
    for token in Tokenizer::new(html) {
        match token {
            Token::Start { name, .. } => {
                if skip_until.is_none()
                    && (name.eq_ignore_ascii_case("script") || name.eq_ignore_ascii_case("style"))
                {
                    skip_until = Some(name);
                }
                out.push(' ');
            }
            Token::End { name } => {
                if skip_until.is_some_and(|s| s.eq_ignore_ascii_case(name)) {
                    skip_until = None;
                }
                out.push(' ');
            }
            Token::Text(t) if skip_until.is_none() => out.push_str(&entities::decode(t, None)),
            Token::CData(t) if skip_until.is_none() => out.push_str(t),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_html() {
        assert_eq!(to_text("<img alt=\"cat<br />dog\" src=\"x\"> A &amp; B"), "A & B");
        assert_eq!(to_text("safe<!--"), "safe");
        assert_eq!(
            to_text("<p>History of the &lt;blink&gt; tag</p>"),
            "History of the <blink> tag"
        );
        assert_eq!(to_text("a<script>alert(1)</script>b &eacute;"), "a b é");
        assert_eq!(to_text("1 < 2 &bogus;"), "1 < 2 &bogus;");
    }
}
