//! The article's lead (standfirst, dek): the sentence or two under the
//! headline that many layouts print in the page header, outside the
//! container that holds the body, so Readability and the container
//! candidates leave it out. Pages state the same sentences for search
//! engines and social cards as their `description`; a block of the page that
//! says what the description says is the lead as printed. Only text the page
//! shows is used: a description found nowhere in the body adds nothing.

use super::blocks::Blocks;

/// Descriptions shorter than this (normalised characters) are labels or
/// site slogans, too short to identify a block with confidence.
const MIN_DESCRIPTION_CHARS: usize = 40;

/// Lowercase words of letters and digits, one space apart: markup, quotes
/// and punctuation differ between a description and the printed text.
fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

/// A description cut with an ellipsis ends on a partial word; drop it.
fn norm_description(d: &str) -> String {
    let t = d.trim_end();
    let cut = t.ends_with("...") || t.ends_with('…');
    let mut n = norm(t);
    if cut && let Some(i) = n.rfind(' ') {
        n.truncate(i);
    }
    n
}

/// The blocks of the page that print one of `descriptions`, as text (one
/// block a line), or `None`. The first match in document order wins: the
/// lead sits under the headline, above any teaser that repeats it.
pub fn find(blocks: &Blocks, descriptions: &[String]) -> Option<String> {
    let descs: Vec<String> = descriptions
        .iter()
        .map(|d| norm_description(d))
        .filter(|d| d.chars().count() >= MIN_DESCRIPTION_CHARS)
        .collect();
    if descs.is_empty() {
        return None;
    }
    let list = &blocks.list;
    let normed: Vec<Option<String>> =
        list.iter().map(|b| (b.chars >= 20 && !b.is_link_list()).then(|| norm(&b.text))).collect();
    for (i, n) in normed.iter().enumerate() {
        let Some(n) = n else { continue };
        for d in &descs {
            // The block is the lead and the description all or the start of it;
            // a block far longer than the description is body text, not a lead.
            if n.contains(d.as_str()) {
                if n.len() <= (2 * d.len()).max(d.len() + 300) {
                    return Some(list[i].text.clone());
                }
                continue;
            }
            // The description is the lead, printed over several blocks
            // (split by `<br>` or emphasis) or with more after it.
            if !d.contains(n.as_str()) {
                continue;
            }
            let mut acc = n.clone();
            let mut end = i + 1;
            while let Some(Some(next)) = normed.get(end) {
                let joined = format!("{acc} {next}");
                // A block the description only begins (it was cut short, or
                // runs on into the body) is not taken: it is body text.
                if !d.contains(joined.as_str()) {
                    break;
                }
                acc = joined;
                end += 1;
            }
            if acc.len() * 2 >= d.len() {
                let text: Vec<&str> = list[i..end].iter().map(|b| b.text.as_str()).collect();
                return Some(text.join("\n"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::Document;

    fn lead_of(html: &str, desc: &str) -> Option<String> {
        let doc = Document::from(html);
        let body = doc.body().expect("body");
        find(&Blocks::collect(&body), &[desc.to_string()])
    }

    #[test]
    fn the_printed_lead_is_found_from_the_description() {
        let html = r#"<html><body><header><h1>Budget passes</h1>
            <h2>The council approved more money for schools &amp; parks, after a long night.</h2></header>
            <div class="body"><p>The vote came at midnight.</p></div></body></html>"#;
        let lead = lead_of(
            html,
            "The council approved more money for schools & parks, after a long night.",
        );
        assert_eq!(
            lead.as_deref(),
            Some("The council approved more money for schools & parks, after a long night.")
        );
        // Split over two blocks by a line break: still the lead.
        let html = r#"<html><body><p class="teaser">The council approved more money for schools<br>
            and parks after a long night of debate.</p><p>Body.</p></body></html>"#;
        let lead = lead_of(
            html,
            "The council approved more money for schools and parks after a long night of debate.",
        );
        assert_eq!(
            lead.as_deref(),
            Some(
                "The council approved more money for schools\nand parks after a long night of debate."
            )
        );
        // Cut short with an ellipsis: the partial last word is not required.
        let html = r#"<html><body><p>The council approved more money for schools and parks after a long night of debate.</p></body></html>"#;
        assert!(
            lead_of(html, "The council approved more money for schools and parks after a lo…")
                .is_some()
        );
    }

    #[test]
    fn no_lead_when_the_page_does_not_print_it() {
        let html = "<html><body><p>Something else entirely, printed on the page for readers.</p></body></html>";
        assert_eq!(lead_of(html, "A description written only for search engines and cards."), None);
        // Too short to identify a block.
        assert_eq!(lead_of(html, "Something else"), None);
        // A teaser link to the same story is a link, not the lead.
        let html = r#"<html><body><p><a href="/x">A description written only for search engines and cards.</a></p></body></html>"#;
        assert_eq!(lead_of(html, "A description written only for search engines and cards."), None);
    }
}
