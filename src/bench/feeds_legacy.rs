//! The feed parser herald had before its own reader (feed-rs plus herald's mapping, as of
//! commit 1c85f88), kept only so `herald bench feeds` can measure before and after in the
//! same run. Nothing else calls it.

use std::collections::HashSet;

use feed_rs::model::{Entry, Link, Text};
use sha2::{Digest, Sha256};

use crate::ingest::parse::{FeedParseError, MAX_ENTRIES, ParsedEntry, ParsedFeed};
use crate::ingest::text::html_to_text;

/// Parses feed bytes. `base` (the feed's URL) resolves relative links.
pub fn parse_feed_legacy(bytes: &[u8], base: Option<&str>) -> Result<ParsedFeed, FeedParseError> {
    let head = sniff(bytes);
    if head.is_empty() {
        return Err(FeedParseError::Empty);
    }
    if looks_like_html(&head) {
        return Err(FeedParseError::Html);
    }
    // An empty id from the generator marks "the feed gave none": herald derives its own
    // key below, where the item's content is at hand.
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        .id_generator(|_links: &[Link], _title: &Option<Text>, _uri: Option<&str>| String::new())
        .build();
    let feed = parser.parse(bytes).map_err(|e| FeedParseError::Invalid(e.to_string()))?;

    let base_url = base.and_then(|b| url::Url::parse(b).ok());
    let title = feed.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let site_url = pick_link(&feed.links).map(|l| absolutize(&l.href, base_url.as_ref()));
    let mut seen = HashSet::new();
    let entries = feed
        .entries
        .iter()
        .map(|e| entry(e, base_url.as_ref()))
        .filter(|e| seen.insert(e.key.clone()))
        .take(MAX_ENTRIES)
        .collect();
    Ok(ParsedFeed { title, site_url, entries })
}

fn entry(e: &Entry, base: Option<&url::Url>) -> ParsedEntry {
    let title = e.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let link = pick_link(&e.links).map(|l| absolutize(&l.href, base));
    let content_html = e
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .filter(|b| !b.trim().is_empty())
        .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
        .filter(|b| !b.trim().is_empty());
    let id = Some(e.id.trim().to_string()).filter(|s| !s.is_empty());
    let key = match (&id, &link) {
        (Some(id), _) => id.clone(),
        (None, Some(link)) => link.clone(),
        (None, None) => {
            let mut h = Sha256::new();
            h.update(title.as_deref().unwrap_or_default().as_bytes());
            h.update([0]);
            h.update(content_html.as_deref().unwrap_or_default().as_bytes());
            let digest = h.finalize();
            let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        }
    };
    let image = e
        .media
        .iter()
        .flat_map(|m| m.thumbnails.iter().map(|t| t.image.uri.clone()))
        .next()
        .or_else(|| {
            e.media.iter().flat_map(|m| m.content.iter()).find_map(|c| {
                let is_image = c.content_type.as_ref().is_some_and(|t| t.ty() == "image");
                is_image.then(|| c.url.as_ref().map(|u| u.to_string())).flatten()
            })
        });
    ParsedEntry {
        key,
        id,
        title,
        link,
        published: e.published.or(e.updated),
        author: e
            .authors
            .first()
            .and_then(|a| a.name.as_deref())
            .map(|n| n.trim().to_string())
            .filter(|a| !a.is_empty()),
        content_html,
        image,
        categories: e
            .categories
            .iter()
            .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
            .collect(),
    }
}

/// The page a feed or item points at: an `alternate` link, else the first link.
fn pick_link(links: &[Link]) -> Option<&Link> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate") && !l.href.trim().is_empty())
        .or_else(|| links.iter().find(|l| !l.href.trim().is_empty()))
}

fn absolutize(href: &str, base: Option<&url::Url>) -> String {
    let href = href.trim();
    match base {
        Some(b) if url::Url::parse(href).is_err() => {
            b.join(href).map(|u| u.to_string()).unwrap_or_else(|_| href.to_string())
        }
        _ => href.to_string(),
    }
}

fn text_of(t: &Text) -> String {
    let raw =
        if t.content_type.subty() == "html" || t.content.contains('<') || t.content.contains('&') {
            html_to_text(&t.content)
        } else {
            t.content.clone()
        };
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first bytes after a BOM and whitespace, lowercased, for sniffing.
fn sniff(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = (start + 512).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..end]).to_ascii_lowercase()
}

fn looks_like_html(head: &str) -> bool {
    let mut rest = head.trim_start();
    // Skip the prolog, comments and processing instructions that may precede the root.
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>").map(|(_, r)| r).unwrap_or("").trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->").map(|(_, r)| r).unwrap_or("").trim_start();
        } else {
            break;
        }
    }
    ["<!doctype html", "<html", "<head", "<body", "<meta", "<title", "<div", "<script"]
        .iter()
        .any(|tag| rest.starts_with(tag))
}
