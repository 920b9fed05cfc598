//! Feed bytes → herald's own view of a feed. The format work (encodings, a forgiving XML
//! reader, RSS 0.9x/1.0/2.0, Atom 0.3/1.0, CDF, JSON Feed) is herald's own reader in
//! `feed/`, modelled on feedparser's recoveries; this module decides item identity, turns
//! markup in titles into text, and caps the entries while they are read.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::feed::{self, Kind, RawEntry, Refusal, Text, entities};

/// A parsed feed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub entries: Vec<ParsedEntry>,
}

/// One item, with a key that stays the same across polls and restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEntry {
    /// guid/id if the feed gives one, else the link, else a hash of title and content.
    pub key: String,
    /// The feed's own id for the item, if it has one.
    pub id: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
    /// The item's content (or its summary when there is no content), as HTML.
    pub content_html: Option<String>,
    pub image: Option<String>,
    /// The item's categories (tags), for subscription filters.
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FeedParseError {
    #[error("not a feed: the document is empty")]
    Empty,
    #[error("not a feed: got an HTML page (is this the site's address rather than its feed's?)")]
    Html,
    #[error("not a feed: {0}")]
    Invalid(String),
}

/// Most items a poll considers; beyond this a feed is an archive, not a feed. The reader
/// stops building entries once it has read this many.
pub const MAX_ENTRIES: usize = 1000;

/// Parses feed bytes. `base` (the feed's URL) resolves relative links.
pub fn parse_feed(bytes: &[u8], base: Option<&str>) -> Result<ParsedFeed, FeedParseError> {
    parse_feed_with(bytes, base, None)
}

/// Parses feed bytes served with an HTTP `Content-Type` (whose charset, and whether it is
/// an `application/…xml` or a `text/…` type, choose the encoding as RFC 3023 says).
pub fn parse_feed_with(
    bytes: &[u8],
    base: Option<&str>,
    content_type: Option<&str>,
) -> Result<ParsedFeed, FeedParseError> {
    let head = sniff(bytes);
    if head.is_empty() {
        return Err(FeedParseError::Empty);
    }
    let base_url = base.and_then(|b| url::Url::parse(b).ok());
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    // The cap counts entries read, duplicates included: a feed of a million copies of
    // one item costs a thousand.
    let mut read = 0;
    let mut sink = |raw: RawEntry| {
        read += 1;
        let e = entry(raw);
        if seen.insert(e.key.clone()) {
            entries.push(e);
        }
        read < MAX_ENTRIES
    };
    let feed =
        match feed::read(bytes, base_url.as_ref().map(url::Url::as_str), content_type, &mut sink) {
            Ok(feed) => feed,
            Err(Refusal::NoFeed { html }) if html || looks_like_html(&head) => {
                return Err(FeedParseError::Html);
            }
            Err(Refusal::NoFeed { .. }) => {
                return Err(FeedParseError::Invalid(
                    "no RSS, Atom or JSON Feed element found".into(),
                ));
            }
            Err(Refusal::Truncated) => {
                return Err(FeedParseError::Invalid(
                    "the document ends inside the feed (cut off?)".into(),
                ));
            }
            Err(Refusal::Json(e)) => return Err(FeedParseError::Invalid(e)),
        };
    Ok(ParsedFeed {
        title: feed.title.as_ref().map(text_of).filter(|t| !t.is_empty()),
        site_url: feed.link.filter(|l| !l.is_empty()),
        entries,
    })
}

fn entry(e: RawEntry) -> ParsedEntry {
    let title = e.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let content_html = e.content.or(e.summary).map(into_html).filter(|b| !b.trim().is_empty());
    let link = e.link.filter(|l| !l.trim().is_empty());
    let id = e.id.map(|i| i.trim().to_string()).filter(|s| !s.is_empty());
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
    ParsedEntry {
        key,
        id,
        title,
        link,
        published: e.published.or(e.updated),
        author: e.author.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
        content_html,
        image: e.image.filter(|i| !i.trim().is_empty()),
        categories: e.categories,
    }
}

/// A text construct as one line of plain text.
pub fn text_of(t: &Text) -> String {
    match t.kind {
        Kind::Html => feed::html::to_text(&t.value),
        Kind::Plain => t.value.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A text construct as HTML.
fn into_html(t: Text) -> String {
    match t.kind {
        Kind::Html => t.value,
        Kind::Plain => {
            let mut out = String::with_capacity(t.value.len());
            entities::escape_into(&mut out, &t.value);
            out
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fall_back_from_guid_to_link_to_hash() {
        let xml = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
            <item><guid>g1</guid><title>A</title><link>http://x/a</link></item>
            <item><title>B</title><link>/b</link></item>
            <item><title>C</title><description>c body</description></item>
            <item><guid>g1</guid><title>A again</title></item>
            </channel></rss>"#;
        let f = parse_feed(xml, Some("http://x/feed")).expect("valid feed");
        let keys: Vec<&str> = f.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys.len(), 3, "duplicate guid dropped: {keys:?}");
        assert_eq!(keys[0], "g1");
        assert_eq!(keys[1], "http://x/b");
        assert!(keys[2].starts_with("sha256:"));
        let again = parse_feed(xml, Some("http://x/feed")).expect("valid feed");
        assert_eq!(again.entries[2].key, f.entries[2].key, "hash keys are stable");
    }

    #[test]
    fn categories_are_read_from_rss_atom_and_json_feed() {
        let rss = br#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
            <title>T</title><category>Feed-level, not an item's</category>
            <item><guid>a</guid><category>World</category><category domain="x"> Sport
              news </category><category>world</category><dc:subject>Trade</dc:subject>
              <category></category></item></channel></rss>"#;
        let f = parse_feed(rss, None).expect("valid feed");
        assert_eq!(f.entries[0].categories, vec!["World", "Sport news", "Trade"]);
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
            <entry><id>e</id><category term="tech" label="Technology"/><category term="ai"/>
            </entry></feed>"#;
        let f = parse_feed(atom, None).expect("valid feed");
        assert_eq!(f.entries[0].categories, vec!["Technology", "ai"]);
        let json = br#"{"version": "https://jsonfeed.org/version/1.1", "title": "J",
            "items": [{"id": "1", "tags": ["Rust", 7, null, "rust", "  Web  dev ", {"a": 1}]},
                      {"id": "2", "tags": "not a list"}]}"#;
        let f = parse_feed(json, None).expect("valid feed");
        assert_eq!(f.entries[0].categories, vec!["Rust", "7", "Web dev"]);
        assert!(f.entries[1].categories.is_empty());
        let many: String =
            (0..100).map(|i| format!("<category>c{i}</category>")).collect::<Vec<_>>().concat();
        let xml = format!("<rss><channel><item><guid>x</guid>{many}</item></channel></rss>");
        let f = parse_feed(xml.as_bytes(), None).expect("valid feed");
        assert_eq!(f.entries[0].categories.len(), crate::ingest::feed::MAX_CATEGORIES);
    }

    #[test]
    fn html_and_garbage_are_clear_errors() {
        assert!(matches!(
            parse_feed(b"<!DOCTYPE html><html></html>", None),
            Err(FeedParseError::Html)
        ));
        assert!(matches!(parse_feed(b"   ", None), Err(FeedParseError::Empty)));
        let commented = b"<!-- generated --><!DOCTYPE html><html></html>";
        assert!(matches!(parse_feed(commented, None), Err(FeedParseError::Html)));
        assert!(matches!(
            parse_feed(b"<head><title>x</title></head>", None),
            Err(FeedParseError::Html)
        ));
        assert!(matches!(
            parse_feed(b"<rss><channel><item>", None),
            Err(FeedParseError::Invalid(_))
        ));
        assert!(parse_feed(&[0xff, 0xfe, 0x00, 0x3c], None).is_err());
    }

    #[test]
    fn titles_lose_markup() {
        let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A &amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; feed</title>
            <entry><id>e1</id><title type="html">&lt;em&gt;Hi&lt;/em&gt; there</title></entry></feed>"#;
        let f = parse_feed(xml, None).expect("valid feed");
        // The title's text is itself "<b>bold</b>" once the escaping is undone: it stays text.
        assert_eq!(f.title.as_deref(), Some("A <b>bold</b> feed"));
        assert_eq!(f.entries[0].title.as_deref(), Some("Hi there"));
    }

    fn one(xml: &str) -> ParsedFeed {
        parse_feed(xml.as_bytes(), Some("http://example.com/feed/")).expect("a feed")
    }

    #[test]
    fn legacy_and_variant_formats_map_onto_one_model() {
        let atom03 =
            one(r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>A03</title>
            <entry><title mode="escaped" type="text/html">&lt;b&gt;E&lt;/b&gt;</title>
            <link rel="alternate" type="text/html" href="/e1"/><id>tag:x,2003:1</id>
            <content type="text/html" mode="base64">PHA+SGk8L3A+</content></entry></feed>"#);
        assert_eq!(atom03.title.as_deref(), Some("A03"));
        let e = &atom03.entries[0];
        assert_eq!(
            (e.title.as_deref(), e.link.as_deref()),
            (Some("E"), Some("http://example.com/e1"))
        );
        assert_eq!(e.content_html.as_deref(), Some("<p>Hi</p>"));

        let rss10 = one(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
            xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>R1</title></channel>
            <item rdf:about="http://x/1"><dc:title>T1</dc:title><link>http://x/1</link><dc:date>2004-01-01T00:00:00Z</dc:date></item></rdf:RDF>"#,
        );
        assert_eq!(rss10.title.as_deref(), Some("R1"));
        assert_eq!(rss10.entries[0].title.as_deref(), Some("T1"));
        assert!(rss10.entries[0].published.is_some());

        // No version, a namespace on every element, a media:title fallback, a permalink guid.
        let ns = one(
            r#"<rss xmlns="http://backend.userland.com/rss2" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>N</title>
            <item><media:title>fallback</media:title><guid>http://x/g</guid></item>
            <item><media:title>no</media:title><title>real</title></item></channel></rss>"#,
        );
        assert_eq!(ns.title.as_deref(), Some("N"));
        assert_eq!(ns.entries[0].title.as_deref(), Some("fallback"));
        assert_eq!(ns.entries[0].link.as_deref(), Some("http://x/g"));
        assert_eq!(ns.entries[1].title.as_deref(), Some("real"));

        // CDF keeps links in attributes.
        let cdf = one(
            r#"<CHANNEL HREF="http://x/"><TITLE>C</TITLE><ITEM HREF="http://x/i"><TITLE>I</TITLE></ITEM></CHANNEL>"#,
        );
        assert_eq!(cdf.entries[0].link.as_deref(), Some("http://x/i"));
    }

    #[test]
    fn broken_xml_is_recovered() {
        // Undeclared HTML entities, a bare & and <, single-quoted and unquoted attributes.
        let f = one("<rss version='2.0'><channel><title>Caf&eacute;&nbsp;AT&T 1 < 2</title>
            <item><title>x</title><link>http://x/?a=1&b=2</link><enclosure url=http://x/i.jpg type=image/jpeg /></item></channel></rss>");
        assert_eq!(f.title.as_deref(), Some("Café AT&T 1 < 2"));
        assert_eq!(f.entries[0].link.as_deref(), Some("http://x/?a=1&b=2"));
        assert_eq!(f.entries[0].image.as_deref(), Some("http://x/i.jpg"));
        // A feed inside an XHTML page.
        let wrapped = one(
            r#"<html xmlns="http://www.w3.org/1999/xhtml"><body><rss version="2.0"><channel><title>W</title></channel></rss></body></html>"#,
        );
        assert_eq!(wrapped.title.as_deref(), Some("W"));
        // Unclosed <br> in an item's description does not swallow the next item.
        let br = one(
            "<rss><channel><item><title>1</title><description>a<br>b<br></description></item><item><title>2</title></item></channel></rss>",
        );
        assert_eq!(br.entries.len(), 2);
    }

    #[test]
    fn xml_base_resolves_relative_links() {
        let f = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://a.example/dir/"><title>B</title>
            <entry xml:base="sub/"><link href="page"/><id>1</id></entry><entry><link href="/root"/><id>2</id></entry></feed>"#,
        );
        assert_eq!(f.entries[0].link.as_deref(), Some("http://a.example/dir/sub/page"));
        assert_eq!(f.entries[1].link.as_deref(), Some("http://a.example/root"));
    }

    #[test]
    fn the_entry_cap_applies_while_reading() {
        let mut xml = String::from("<rss><channel><title>big</title>");
        for i in 0..(MAX_ENTRIES + 500) {
            xml.push_str(&format!("<item><guid>{i}</guid></item>"));
        }
        xml.push_str("</channel></rss>");
        let f = one(&xml);
        assert_eq!(f.entries.len(), MAX_ENTRIES);
        assert_eq!(f.entries.last().and_then(|e| e.id.as_deref()), Some("999"));
        let json = format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{}]}}"#,
            (0..MAX_ENTRIES + 5)
                .map(|i| format!(r#"{{"id":{i},"url":"/p/{i}","title":{{"x":1}}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        let j = one(&json);
        assert_eq!((j.title.as_deref(), j.entries.len()), (Some("J"), MAX_ENTRIES));
        assert_eq!(j.entries[0].link.as_deref(), Some("http://example.com/p/0"));
        assert_eq!(j.entries[0].title, None, "an object is not a title");
    }

    #[test]
    fn authors_are_names_and_the_feed_author_stands_in() {
        let f = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><author><name>Feed Team</name></author>
            <entry><id>1</id></entry><entry><id>2</id><author><name>Jo</name><email>jo@x</email></author></entry></feed>"#,
        );
        assert_eq!(f.entries[0].author.as_deref(), Some("Feed Team"));
        assert_eq!(f.entries[1].author.as_deref(), Some("Jo"));
        let r = one("<rss><channel><item><guid>1</guid><author>jo@example.com (Jo Smith)</author></item>
            <item><guid>2</guid><author>Ed Itor &lt;ed@example.com&gt;</author></item></channel></rss>");
        assert_eq!(r.entries[0].author.as_deref(), Some("Jo Smith"));
        assert_eq!(r.entries[1].author.as_deref(), Some("Ed Itor"));
        let j = one(
            r#"{"version":"https://jsonfeed.org/version/1.1","authors":[{"name":"J Team"}],"items":[{"id":"1"},{"id":"2","author":{"name":"Al"}}]}"#,
        );
        assert_eq!(j.entries[0].author.as_deref(), Some("J Team"));
        assert_eq!(j.entries[1].author.as_deref(), Some("Al"));
    }
}
