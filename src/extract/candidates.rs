//! Candidate article texts other than Readability's: what the page says its
//! article is (JSON-LD `articleBody`, `itemprop=articleBody`), what its
//! semantic markup says (`<article>`, `<main>`), and what a text-density
//! baseline finds with no markup hints at all. Each is an independent guess;
//! [`super::choose`] compares them.

use dom_query::{Document, NodeRef};
use serde_json::Value;

use super::blocks::{Block, Blocks};

/// Where a candidate text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// dom_smoothie's Readability result.
    Readability,
    /// JSON-LD `articleBody`.
    JsonLd,
    /// The element marked `itemprop="articleBody"`.
    ItemProp,
    /// The `<article>` element holding the most prose.
    Article,
    /// `<main>` or `role="main"`.
    Main,
    /// The subtree where prose outweighs link lists the most.
    Density,
    /// The same over the page as served, before furniture pruning: used only
    /// when pruning left no prose at all (a class-name rule took the article).
    Unpruned,
}

/// The longest `articleBody` string in the page's JSON-LD, as plain text.
/// Read before pruning: the scripts holding it are removed with the rest.
pub fn json_ld_body(doc: &Document) -> Option<String> {
    let mut best: Option<String> = None;
    for node in doc.select(r#"script[type="application/ld+json"]"#).nodes() {
        let raw = node.text();
        // Some sites leave raw control characters in their JSON; serde rejects them.
        let raw: String =
            raw.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect();
        let Ok(v) = serde_json::from_str::<Value>(raw.trim()) else { continue };
        let mut stack = vec![&v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(body)) = m.get("articleBody")
                        && best.as_ref().is_none_or(|b| body.len() > b.len())
                    {
                        best = Some(body.clone());
                    }
                    stack.extend(m.values());
                }
                Value::Array(a) => stack.extend(a.iter()),
                _ => {}
            }
        }
    }
    let body = best?;
    // Publishers put HTML (and entities) in the string as often as plain text.
    let text = if body.contains('<') || body.contains('&') {
        let frag = Document::fragment(body.as_str());
        frag.formatted_text().to_string()
    } else {
        body
    };
    (!text.trim().is_empty()).then_some(text)
}

/// Prose characters of a block range: blocks that read like sentences, not
/// links or labels.
fn prose_chars(blocks: &[Block]) -> usize {
    blocks.iter().filter(|b| is_prose_block(b)).map(|b| b.chars).sum()
}

/// Enough text with little of it linked: the unit article bodies are made of.
pub fn is_prose_block(b: &Block) -> bool {
    b.chars >= 50 && b.link_chars * 3 <= b.chars
}

/// Per element, prose minus link lists: the density baseline's score.
fn block_weight(b: &Block) -> i64 {
    if is_prose_block(b) {
        b.chars as i64
    } else if b.is_link_list() {
        -(b.chars as i64)
    } else {
        0
    }
}

/// Among the elements matching `selector`, the one holding the most prose.
fn best_match(doc: &Document, blocks: &Blocks, selector: &str) -> Option<(usize, usize)> {
    doc.select(selector)
        .nodes()
        .iter()
        .filter_map(|n| blocks.range(n))
        .max_by_key(|&(s, e)| prose_chars(&blocks.list[s..e]))
}

/// The element whose blocks score highest (prose counts for, link lists
/// against): the classic text-density baseline, with no markup hints.
fn densest(blocks: &Blocks) -> Option<(usize, usize)> {
    let mut prefix = Vec::with_capacity(blocks.list.len() + 1);
    prefix.push(0i64);
    for b in &blocks.list {
        prefix.push(prefix.last().copied().unwrap_or(0) + block_weight(b));
    }
    blocks
        .ranges()
        .map(|(_, (s, e))| (prefix[e] - prefix[s], std::cmp::Reverse(e - s), (s, e)))
        .filter(|(score, _, _)| *score > 0)
        .max()
        .map(|(_, _, r)| r)
}

/// The density baseline over `blocks` (of the unpruned page).
pub fn density_text(blocks: &Blocks) -> Option<String> {
    densest(blocks).map(|r| blocks.text(r))
}

/// The DOM candidates of a (pruned) page, as raw text, one block a line.
pub fn dom_candidates(doc: &Document, body: &NodeRef) -> (Vec<(Kind, String)>, Blocks) {
    let blocks = Blocks::collect(body);
    let mut out = Vec::new();
    for (kind, sel) in [
        (Kind::ItemProp, "[itemprop=articleBody], [itemprop=articlebody]"),
        (Kind::Article, "article"),
        (Kind::Main, "main, [role=main]"),
    ] {
        if let Some(r) = best_match(doc, &blocks, sel) {
            out.push((kind, blocks.text(r)));
        }
    }
    if let Some(r) = densest(&blocks) {
        out.push((Kind::Density, blocks.text(r)));
    }
    (out, blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_article_body_is_found_and_unescaped() {
        let doc = Document::from(
            r#"<html><head><script type="application/ld+json">
            {"@context":"https://schema.org","@graph":[{"@type":"WebPage"},
             {"@type":"NewsArticle","articleBody":"First &amp; <p>second</p> part."}]}
            </script></head><body></body></html>"#,
        );
        let t = json_ld_body(&doc).expect("body");
        assert!(t.contains("First & ") && t.contains("second") && !t.contains("<p>"), "{t}");
        let none = Document::from("<html><body><p>x</p></body></html>");
        assert_eq!(json_ld_body(&none), None);
    }

    #[test]
    fn density_prefers_prose_over_menus() {
        let para = "A sentence of the story that goes on for a while, as stories do. ";
        let html = format!(
            r#"<html><body><div id="nav"><ul>{}</ul></div>
            <div id="story"><p>{para}{para}</p><p>{para}</p></div>
            <div id="more"><ul>{}</ul></div></body></html>"#,
            "<li><a href='/x'>Section link</a></li>".repeat(20),
            "<li><a href='/y'>Another headline of another story</a></li>".repeat(10),
        );
        let doc = Document::from(html.as_str());
        let body = doc.body().expect("body");
        let (cands, _) = dom_candidates(&doc, &body);
        let dens = cands.iter().find(|(k, _)| *k == Kind::Density).expect("density");
        assert!(dens.1.starts_with("A sentence") && !dens.1.contains("link"), "{}", dens.1);
    }
}
