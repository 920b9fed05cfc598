//! Input hygiene before any parsing. html5ever copes with anything, but
//! Readability's scoring walks ancestors and descendants, so pathological
//! nesting turns into quadratic time or deep recursion; huge tags and element
//! counts turn into memory; binary junk wastes time and produces garbage
//! "text". All are cheaper to stop here, in one linear pass.
//!
//! The pass is a tokenizer, not a parser: it only has to *bound* what the
//! parser will build, so where it cannot know the tree exactly (implied end
//! tags, misnested formatting) it errs towards counting too deep, which at
//! worst drops a tag (never text) on a page that is pathological anyway.

use std::collections::HashMap;

/// Larger pages are cut: no article needs more, and parse time and memory are linear
/// (the DOM and the extraction candidates hold the text several times over). Scripts
/// and styles do not count: their content is dropped first.
const MAX_BYTES: usize = 3 * 1024 * 1024;
/// Real pages rarely nest beyond ~60 elements; Readability time grows
/// super-linearly with depth (400 levels: ~40 ms, 1000: many seconds); deeper tags are dropped.
const MAX_DEPTH: usize = 160;
/// Elements a page may have; later tags are dropped (their text stays). Heavy real
/// pages have 10–20k; each element costs the DOM a few hundred bytes.
const MAX_ELEMENTS: usize = 60_000;
/// Attributes kept per tag; real markup needs a handful (HTML5 itself ignores
/// duplicates, but a parser still reads them all).
const MAX_ATTRIBUTES: usize = 64;
/// Longest tag name kept; longer ones are junk.
const MAX_NAME: usize = 64;

/// Elements that never take an end tag, so they do not deepen the tree. The
/// self-closing slash (`<div/>`) means nothing to HTML5 outside SVG and MathML:
/// such a `div` is open until closed, so it is *not* on this list.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];

/// Elements whose content is raw text up to their own end tag: a `<` inside a
/// script is not a tag.
const RAW_TEXT: &[&str] =
    &["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"];

/// Elements that a start tag of the same name closes when one is the current
/// node (`<li>a<li>b` are siblings, not nested).
const SELF_SIBLING: &[&str] =
    &["p", "li", "dt", "dd", "option", "tr", "td", "th", "rb", "rt", "rp"];

/// Start tags that close an open `<p>` that is the current node.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Returns a parse-safe copy of `html`, or `None` when it is not text at all.
pub fn sanitize(html: &str) -> Option<String> {
    if html.trim().is_empty() || looks_binary(html) {
        return None;
    }
    Some(Scanner::default().run(html))
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

/// Distinct tag names the scanner tells apart; names past this share one id (a page
/// inventing a million names gains nothing but coarser matching of its end tags).
const MAX_NAMES: usize = 1024;

/// One pass over the page, writing what the parser may see.
#[derive(Default)]
struct Scanner {
    out: String,
    /// Open elements as name ids, innermost last. Only the first [`MAX_DEPTH`] were
    /// written; deeper ones are remembered so their end tags are dropped too. Ids, not
    /// strings: a hostile page opens millions.
    stack: Vec<u32>,
    /// How many of each name id are on `stack`: finding an end tag's element is then
    /// O(1) instead of a walk down a stack that a hostile page can make 100k deep.
    open: Vec<u32>,
    ids: HashMap<String, u32>,
    names: Vec<String>,
    elements: usize,
    /// Inside `<svg>` or `<math>`, where `/>` does close an element.
    foreign: usize,
}

impl Scanner {
    fn run(mut self, html: &str) -> String {
        self.out.reserve(html.len().min(MAX_BYTES));
        let bytes = html.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.out.len() < MAX_BYTES {
            let Some(lt) = memchr(b'<', &bytes[i..]) else {
                self.text(&html[i..]);
                break;
            };
            self.text(&html[i..i + lt]);
            i += lt;
            i = self.markup(html, i);
        }
        // Cutting at MAX_BYTES may have split a character: back up to a boundary.
        let mut end = self.out.len().min(MAX_BYTES);
        while !self.out.is_char_boundary(end) {
            end -= 1;
        }
        self.out.truncate(end);
        self.out
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        if self.names.len() >= MAX_NAMES {
            return MAX_NAMES as u32 - 1;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        self.open.push(0);
        id
    }

    fn text(&mut self, s: &str) {
        // NULs are replaced by html5ever anyway; dropping them here keeps the
        // output valid for every later string search.
        let room = MAX_BYTES.saturating_sub(self.out.len());
        let s = &s[..floor_boundary(s, room)];
        if s.contains('\0') {
            self.out.extend(s.chars().filter(|&c| c != '\0'));
        } else {
            self.out.push_str(s);
        }
    }

    /// Handles the markup starting at `html[i] == '<'`; returns where scanning resumes.
    fn markup(&mut self, html: &str, i: usize) -> usize {
        let rest = &html[i..];
        if let Some(after) = rest.strip_prefix("<!--") {
            // Comments carry nothing an article needs.
            return after.find("-->").map_or(html.len(), |e| i + 4 + e + 3);
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            let end = rest.find('>').map_or(html.len(), |e| i + e + 1);
            self.out.push_str(&html[i..end]);
            return end;
        }
        if let Some(after) = rest.strip_prefix("</") {
            let name = tag_name(after);
            let end = rest.find('>').map_or(html.len(), |e| i + e + 1);
            // `</ ...>` and `</>` are ignored or comments to HTML5.
            if !name.is_empty() && name.len() <= MAX_NAME {
                self.end_tag(&name.to_ascii_lowercase());
            }
            return end;
        }
        let name = tag_name(&rest[1..]);
        if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
            // A lone `<` is text to HTML5 ("a < b").
            self.text("<");
            return i + 1;
        }
        let name = name.to_ascii_lowercase();
        let (tag, end, self_closing) = start_tag(html, i, name.len());
        let raw_end =
            if RAW_TEXT.contains(&name.as_str()) { raw_text_end(html, end, &name) } else { end };
        if name.len() > MAX_NAME {
            return raw_end;
        }
        let id = self.id(&name);
        self.start_tag(&name, id, &tag, self_closing);
        // Script and style bodies are code, not text; only structured data (JSON-LD,
        // which may carry the article's body) is kept. Megabytes of inline script would
        // otherwise take the room the article needs.
        let code = (name == "script" && !is_structured_data(&tag)) || name == "style";
        if raw_end > end
            && !code
            && self.stack.last() == Some(&id)
            && self.kept(self.stack.len() - 1)
        {
            // The raw text goes through untouched (and unscanned) unless the element
            // itself was dropped; its end tag is then read as any other.
            let room = MAX_BYTES.saturating_sub(self.out.len());
            let body = &html[end..raw_end];
            self.out.push_str(&body[..floor_boundary(body, room)]);
        }
        raw_end
    }

    fn kept(&self, index: usize) -> bool {
        index < MAX_DEPTH
    }

    fn start_tag(&mut self, name: &str, id: u32, tag: &str, self_closing: bool) {
        if self.elements >= MAX_ELEMENTS {
            return;
        }
        if let Some(&top) = self.stack.last() {
            let top_name = self.names.get(top as usize).map(String::as_str).unwrap_or_default();
            if (top == id && SELF_SIBLING.contains(&name))
                || (top_name == "p" && CLOSES_P.contains(&name))
            {
                self.pop_writing_end_tag();
            }
        }
        let void = VOID.contains(&name) || (self_closing && self.foreign > 0);
        if void {
            self.elements += 1;
            self.out.push_str(tag);
            return;
        }
        if self.kept(self.stack.len()) {
            self.elements += 1;
            self.out.push_str(tag);
        }
        if name == "svg" || name == "math" {
            self.foreign += 1;
        }
        self.stack.push(id);
        self.open[id as usize] += 1;
    }

    /// Closes the innermost open element named `name`, writing an end tag for it and
    /// for every element inside it. The parser thus always sees well-nested markup:
    /// misnested formatting (`<a><b><div>x</a></b>`) would otherwise run HTML5's
    /// adoption agency, which rebuilds elements and, repeated, nests the tree deeper
    /// with each round (quadratic time in Readability). The text is the same.
    fn end_tag(&mut self, name: &str) {
        let Some(&id) = self.ids.get(name) else { return };
        if self.open[id as usize] == 0 {
            // No such element is open: the parser would ignore the tag, and letting
            // it through is how `<div></x>` used to lower the counted depth.
            return;
        }
        while let Some(top) = self.pop_writing_end_tag() {
            if top == id {
                return;
            }
        }
    }

    fn pop_writing_end_tag(&mut self) -> Option<u32> {
        let index = self.stack.len().checked_sub(1)?;
        let top = self.stack.pop()?;
        self.open[top as usize] -= 1;
        let name = self.names.get(top as usize).map(String::as_str).unwrap_or_default();
        if name == "svg" || name == "math" {
            self.foreign = self.foreign.saturating_sub(1);
        }
        if self.kept(index) {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        Some(top)
    }
}

/// `<script type="application/ld+json">` (any case, any quoting).
fn is_structured_data(tag: &str) -> bool {
    tag.to_ascii_lowercase().contains("ld+json")
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// The largest index ≤ `max` that is a char boundary of `s`.
fn floor_boundary(s: &str, max: usize) -> usize {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn tag_name(rest: &str) -> &str {
    let end =
        rest.find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
    &rest[..end]
}

/// Reads the start tag at `html[i..]` whose name is `name_len` bytes long, keeping
/// at most [`MAX_ATTRIBUTES`] attributes. Quoted values may hold `>`. Returns the tag
/// as written out, where the input resumes, and whether it ended in `/>`.
fn start_tag(html: &str, i: usize, name_len: usize) -> (String, usize, bool) {
    let b = html.as_bytes();
    let mut j = i + 1 + name_len;
    let mut attrs = 0usize;
    let mut kept_end = j; // end of the last attribute kept
    loop {
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
            j += 1;
        }
        if j >= b.len() || b[j] == b'>' {
            break;
        }
        // Attribute name.
        while j < b.len() && !(b[j].is_ascii_whitespace() || matches!(b[j], b'=' | b'>' | b'/')) {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if k < b.len() && b[k] == b'=' {
            k += 1;
            while k < b.len() && b[k].is_ascii_whitespace() {
                k += 1;
            }
            match b.get(k) {
                Some(&q @ (b'"' | b'\'')) => {
                    k = memchr(q, &b[k + 1..]).map_or(b.len(), |e| k + 1 + e + 1);
                }
                _ => {
                    while k < b.len() && !(b[k].is_ascii_whitespace() || b[k] == b'>') {
                        k += 1;
                    }
                }
            }
            j = k;
        }
        attrs += 1;
        if attrs <= MAX_ATTRIBUTES {
            kept_end = j;
        }
    }
    let self_closing = j > 0 && j <= b.len() && b[j - 1] == b'/';
    let resume = if j < b.len() { j + 1 } else { b.len() };
    let mut tag = String::with_capacity(kept_end - i + 2);
    tag.push_str(&html[i..kept_end]);
    if self_closing {
        tag.push('/');
    }
    tag.push('>');
    (tag, resume, self_closing)
}

/// Where the raw text of a `name` element that starts at `from` ends: where its end tag
/// `</name ...>` starts (the scanner then reads that tag as any other), or the end of
/// input.
fn raw_text_end(html: &str, from: usize, name: &str) -> usize {
    let hay = &html.as_bytes()[from..];
    let mut k = 0;
    while let Some(p) = memchr(b'<', &hay[k..]) {
        let at = k + p;
        let rest = &hay[at..];
        if rest.len() >= 2 + name.len()
            && rest[1] == b'/'
            && rest[2..2 + name.len()].eq_ignore_ascii_case(name.as_bytes())
            && rest
                .get(2 + name.len())
                .is_none_or(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
        {
            // Leave the end tag to the caller's stack handling by stopping before it;
            // the scanner then sees `</name>` as an ordinary end tag.
            return from + at;
        }
        k = at + 1;
    }
    html.len()
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
    fn self_closing_divs_and_stray_end_tags_still_count_as_depth() {
        // HTML5 nests `<div/>`; and `</x>` closes nothing, so neither may lower the depth.
        for page in [
            format!("{}x", "<div/>".repeat(10_000)),
            format!("{}x", "<div></x>".repeat(10_000)),
            format!("{}x", "<div><br></br>".repeat(10_000)),
        ] {
            let out = sanitize(&page).expect("text");
            assert!(out.matches("<div").count() <= MAX_DEPTH, "{}", &out[..200]);
            assert!(out.contains('x'));
        }
    }

    #[test]
    fn caps_attributes_and_elements() {
        let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"v\"")).collect();
        let out = sanitize(&format!("<p{attrs}>hello</p>")).expect("text");
        assert!(out.len() < 2_000, "{}", out.len());
        assert!(out.contains("hello</p>"));
        let many = "<p>x</p>".repeat(200_000);
        let out = sanitize(&many).expect("text");
        assert_eq!(out.matches("<p>").count(), MAX_ELEMENTS);
        assert_eq!(out.matches('x').count(), 200_000, "text is never dropped");
    }

    #[test]
    fn raw_text_and_quoted_attributes_are_not_tags() {
        let page = r#"<div title="a > b"><textarea>if (a<b && c>d) { x = "<div>"; }</textarea><p>Hi</p></div>"#;
        assert_eq!(sanitize(page).as_deref(), Some(page));
        // A script holding a thousand "<div>" strings adds no depth, and its code goes.
        let page = format!("<script>{}</script><p>text</p>", "'<div>'".repeat(1000));
        assert_eq!(sanitize(&page).as_deref(), Some("<script></script><p>text</p>"));
        // Structured data stays: it may carry the article's body.
        let page = r#"<script type="application/ld+json">{"articleBody":"<p>x</p>"}</script>"#;
        assert_eq!(sanitize(page).as_deref(), Some(page));
    }

    #[test]
    fn misnested_formatting_is_written_well_nested() {
        let out = sanitize("<a href=#><b><div>x</a></b>y").expect("text");
        assert_eq!(out, "<a href=#><b><div>x</div></b></a>y");
    }

    #[test]
    fn siblings_that_close_each_other_do_not_deepen() {
        let page = format!("<ul>{}</ul>", "<li>item".repeat(1_000));
        let out = sanitize(&page).expect("text");
        assert_eq!(out.matches("<li>").count(), 1_000);
        let page = "<p>one<p>two<div>three</div>".repeat(500);
        let out = sanitize(&page).expect("text");
        assert_eq!(out.matches("<p>").count(), 1_000);
    }

    #[test]
    fn keeps_normal_pages_intact() {
        let page = "<!DOCTYPE html><html><head><meta charset=utf-8></head><body><p>Hi <br> there</p><svg><path d='M0'/><path/></svg></body></html>";
        // (End tags are written by the scanner: lower case, no attributes.)
        assert_eq!(sanitize(page).as_deref(), Some(page));
    }

    #[test]
    fn cuts_at_the_byte_cap_on_a_char_boundary() {
        let page = format!("<p>{}</p>", "é".repeat(MAX_BYTES));
        let out = sanitize(&page).expect("text");
        assert!(out.len() <= MAX_BYTES);
    }
}
