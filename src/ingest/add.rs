//! Adding a feed the way a person expects: a site's home page is fine (its feed is
//! discovered), and a URL that is not a feed is refused with the reason, before it is
//! stored.

use std::time::Duration;

use url::Url;

use super::fetch::{FetchKind, Fetched, Fetcher};
use super::parse::{FeedParseError, parse_feed};
use crate::clock::Timestamp;
use crate::domain::FeedUrl;
use crate::store::{FeedRow, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AddFeedError {
    #[error("{0}")]
    BadUrl(String),
    #[error("{url}: {reason}")]
    Unusable { url: String, reason: String },
    #[error("poll interval {given}s is below the minimum of {min}s")]
    IntervalTooShort { given: u64, min: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of adding a feed.
#[derive(Debug, Clone)]
pub struct AddedFeed {
    pub feed: FeedRow,
    /// False when the community already had this feed.
    pub created: bool,
    /// Items in the feed when it was checked (None when not checked).
    pub items: Option<usize>,
    /// Set when the given URL was a page and this feed was discovered on it.
    pub discovered_from: Option<String>,
}

/// Checks (unless `check` is false) and stores a feed, in `community`'s list.
#[allow(clippy::too_many_arguments)]
pub async fn add_feed(
    store: &Store,
    fetcher: &Fetcher,
    community: i64,
    input: &str,
    interval: Duration,
    min_interval: Duration,
    now: Timestamp,
    check: bool,
) -> Result<AddedFeed, AddFeedError> {
    if interval < min_interval {
        return Err(AddFeedError::IntervalTooShort {
            given: interval.as_secs(),
            min: min_interval.as_secs(),
        });
    }
    let mut url = FeedUrl::parse(input).map_err(AddFeedError::BadUrl)?;
    let mut items = None;
    let mut discovered_from = None;
    if check {
        if let Some(existing) = store.feed_by_url(url.as_str()).await? {
            let created = store.link_feed(community, existing.id, None, now).await?;
            return Ok(AddedFeed { feed: existing, created, items: None, discovered_from });
        }
        match probe(fetcher, url.as_url()).await {
            Ok(n) => items = Some(n),
            Err(Probe::Html(html, base)) => {
                let candidates = discover_feed_links(&html, &base);
                let mut found = None;
                for candidate in candidates.iter().take(3) {
                    if let Ok(u) = FeedUrl::parse(candidate)
                        && let Ok(n) = probe(fetcher, u.as_url()).await
                    {
                        found = Some((u, n));
                        break;
                    }
                }
                let Some((feed_url, n)) = found else {
                    return Err(AddFeedError::Unusable {
                        url: url.to_string(),
                        reason: "this is a web page and it links to no working feed".into(),
                    });
                };
                discovered_from = Some(url.to_string());
                url = feed_url;
                items = Some(n);
            }
            Err(Probe::Failed(reason)) => {
                return Err(AddFeedError::Unusable { url: url.to_string(), reason });
            }
        }
    }
    let (feed, _) = store.add_feed(url.as_str(), interval.as_secs() as i64, now).await?;
    let created = store.link_feed(community, feed.id, None, now).await?;
    Ok(AddedFeed { feed, created, items, discovered_from })
}

enum Probe {
    Html(String, Url),
    Failed(String),
}

async fn probe(fetcher: &Fetcher, url: &Url) -> Result<usize, Probe> {
    let body = match fetcher.fetch(url, FetchKind::Feed, None).await {
        Ok(Fetched::Body(b)) => b,
        Ok(Fetched::NotModified { .. }) => return Err(Probe::Failed("unexpected 304".into())),
        Err(e) => return Err(Probe::Failed(e.to_string())),
    };
    let served_as_html =
        body.content_type.as_deref().is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    match parse_feed(&body.bytes, Some(body.url.as_str())) {
        Ok(feed) => Ok(feed.entries.len()),
        // A page the sniffer missed still says what it is in its Content-Type.
        Err(e) if matches!(e, FeedParseError::Html) || served_as_html => {
            let html = super::charset::decode_html(&body.bytes, body.content_type.as_deref());
            Err(Probe::Html(html.into_owned(), body.url))
        }
        Err(e) => Err(Probe::Failed(e.to_string())),
    }
}

/// Feed URLs a page advertises with `<link rel="alternate" type="application/rss+xml">`
/// (or Atom, or JSON Feed), absolute, in page order.
pub fn discover_feed_links(html: &str, base: &Url) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<link") {
        let start = from + i;
        let Some(len) = lower[start..].find('>') else { break };
        let tag = &html[start..start + len];
        from = start + len;
        let attr = |name: &str| attribute(tag, name);
        let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
        let ty = attr("type").unwrap_or_default().to_ascii_lowercase();
        let is_feed = ty.contains("rss") || ty.contains("atom") || ty.contains("feed+json");
        if rel.split_whitespace().any(|r| r == "alternate")
            && is_feed
            && let Some(href) = attr("href")
            && let Ok(u) = base.join(href.trim())
        {
            found.push(u.to_string());
        }
    }
    found
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        return match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next(),
            _ => value.split(|c: char| c.is_whitespace() || c == '/').next(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_advertised_feeds() {
        let base = Url::parse("https://news.example/section/").expect("literal");
        let html = r#"<html><head><link rel="stylesheet" href="a.css">
            <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
            <LINK REL='alternate' TYPE='application/atom+xml' HREF='atom.xml'/>
            <link rel="alternate" hreflang="fr" href="/fr/"></head></html>"#;
        assert_eq!(
            discover_feed_links(html, &base),
            vec!["https://news.example/feed.xml", "https://news.example/section/atom.xml"]
        );
    }
}
