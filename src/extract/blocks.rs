//! The page as a sequence of text blocks, the unit every non-Readability
//! candidate is built from.
//!
//! One walk over the body splits the text at block-level elements (`p`, `div`,
//! `li`, headings, cells ...) and records, for each block, its characters and
//! how many of them sit inside links. Because a subtree's blocks are contiguous
//! in document order, every element maps to a range of blocks: the text of any
//! container is a slice, and sums over a subtree are a difference of prefix
//! sums. That makes scoring every element of the page linear in its size.

use std::collections::HashMap;

use dom_query::{NodeId, NodeRef};

/// Elements whose start and end break the text flow.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
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
    "hgroup",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements whose content is never reader text.
const SKIP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "embed",
    "select", "textarea", "button", "input", "canvas", "video", "audio",
];

#[derive(Debug, Clone)]
pub struct Block {
    /// Whitespace-normalised text.
    pub text: String,
    /// Non-whitespace characters.
    pub chars: usize,
    /// Non-whitespace characters inside `<a>`.
    pub link_chars: usize,
}

impl Block {
    /// Mostly link text: a menu entry, a teaser, a tag list.
    pub fn is_link_list(&self) -> bool {
        self.link_chars * 2 > self.chars
    }
}

/// The blocks of a page and, for each element that contains any, its range of them.
#[derive(Debug, Default)]
pub struct Blocks {
    pub list: Vec<Block>,
    ranges: HashMap<NodeId, (usize, usize)>,
}

enum Op<'a> {
    Open(NodeRef<'a>),
    Close { id: NodeId, block: bool, link: bool },
}

impl Blocks {
    /// Walks `root` (usually `<body>`) without recursion, so depth cannot
    /// overflow the stack.
    pub fn collect(root: &NodeRef) -> Self {
        let mut out = Blocks::default();
        let mut starts: HashMap<NodeId, usize> = HashMap::new();
        let mut cur = Block { text: String::new(), chars: 0, link_chars: 0 };
        let mut links = 0usize;
        let mut ops = vec![Op::Open(*root)];
        while let Some(op) = ops.pop() {
            match op {
                Op::Open(node) => {
                    if node.is_text() {
                        let t = node.text();
                        push_text(&mut cur, &t, links > 0);
                        continue;
                    }
                    if !node.is_element() {
                        continue;
                    }
                    let name = node.node_name().unwrap_or_default();
                    let name = name.as_ref();
                    if SKIP_TAGS.contains(&name) {
                        continue;
                    }
                    if name == "br" {
                        out.flush(&mut cur);
                        continue;
                    }
                    let block = BLOCK_TAGS.contains(&name);
                    if block {
                        out.flush(&mut cur);
                    }
                    let link = name == "a";
                    if link {
                        links += 1;
                    }
                    starts.insert(node.id, out.list.len());
                    ops.push(Op::Close { id: node.id, block, link });
                    let children: Vec<NodeRef> = node.children_it(true).collect();
                    ops.extend(children.into_iter().map(Op::Open));
                }
                Op::Close { id, block, link } => {
                    if block {
                        out.flush(&mut cur);
                    }
                    if link {
                        links = links.saturating_sub(1);
                    }
                    if let Some(start) = starts.remove(&id) {
                        // Inline elements close before the block they sit in is
                        // flushed; count that pending block as theirs.
                        let end = out.list.len() + usize::from(cur.chars > 0);
                        if end > start {
                            out.ranges.insert(id, (start, end));
                        }
                    }
                }
            }
        }
        out.flush(&mut cur);
        out
    }

    fn flush(&mut self, cur: &mut Block) {
        if cur.chars > 0 {
            let text = cur.text.trim().to_string();
            self.list.push(Block { text, chars: cur.chars, link_chars: cur.link_chars });
        }
        *cur = Block { text: String::new(), chars: 0, link_chars: 0 };
    }

    /// The blocks of `node` as `start..end`, `None` when it holds no text.
    pub fn range(&self, node: &NodeRef) -> Option<(usize, usize)> {
        self.ranges.get(&node.id).copied()
    }

    /// Every element with its block range.
    pub fn ranges(&self) -> impl Iterator<Item = (NodeId, (usize, usize))> + '_ {
        self.ranges.iter().map(|(k, v)| (*k, *v))
    }

    /// The text of blocks `start..end`, one block a line, link lists left out.
    pub fn text(&self, (start, end): (usize, usize)) -> String {
        let mut out = String::new();
        for b in &self.list[start.min(self.list.len())..end.min(self.list.len())] {
            if b.is_link_list() {
                continue;
            }
            out.push_str(&b.text);
            out.push('\n');
        }
        out
    }
}

fn push_text(cur: &mut Block, t: &str, in_link: bool) {
    let mut first = true;
    let starts_ws = t.starts_with(char::is_whitespace);
    for w in t.split_whitespace() {
        if (!first || starts_ws) && !cur.text.is_empty() && !cur.text.ends_with(' ') {
            cur.text.push(' ');
        }
        first = false;
        cur.text.push_str(w);
        let n = w.chars().count();
        cur.chars += n;
        if in_link {
            cur.link_chars += n;
        }
    }
    if t.ends_with(char::is_whitespace) && !cur.text.is_empty() && !cur.text.ends_with(' ') {
        cur.text.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::Document;

    #[test]
    fn blocks_split_at_block_elements_and_count_links() {
        let doc = Document::from(
            r#"<html><body><div id="main"><h2>Title <b>here</b></h2><p>One <a href="x">link</a> and text.</p>
            <p>Second<br>line</p></div><ul id="menu"><li><a href="/">Home</a></li><li><a href="/n">News</a></li></ul>
            <script>var x = 1;</script></body></html>"#,
        );
        let body = doc.body().expect("body");
        let b = Blocks::collect(&body);
        let texts: Vec<&str> = b.list.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(texts, ["Title here", "One link and text.", "Second", "line", "Home", "News"]);
        assert_eq!(b.list[1].link_chars, 4);
        assert!(b.list[4].is_link_list() && !b.list[1].is_link_list());
        let main = doc.select("#main").nodes()[0];
        assert_eq!(b.range(&main), Some((0, 4)));
        assert_eq!(
            b.text(b.range(&main).unwrap_or_default()),
            "Title here\nOne link and text.\nSecond\nline\n"
        );
        let menu = doc.select("#menu").nodes()[0];
        assert_eq!(b.text(b.range(&menu).unwrap_or_default()), "");
    }
}
