//! Adding a feed the way a person expects: a site's home page is fine (its feed is
//! discovered), and a URL that is not a feed is refused with the reason, before it is
//! stored.

use std::time::Duration;

use url::Url;

use super::fetch::{FetchKind, Fetched, Fetcher};
use super::parse::{FeedParseError, parse_feed_with};
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
    /// The feed as stored; `poll_interval_s` is how often it is fetched for everyone.
    pub feed: FeedRow,
    /// False when the community already had this feed.
    pub created: bool,
    /// The interval this community asked for (the feed may be fetched more often,
    /// because another community asked for less).
    pub asked_interval_s: i64,
    /// Items in the feed when it was checked (None when not checked).
    pub items: Option<usize>,
    /// Set when the given URL was a page and this feed was discovered on it.
    pub discovered_from: Option<String>,
}

/// What to add, and for whom.
#[derive(Debug, Clone, Copy)]
pub struct AddRequest<'a> {
    pub community: i64,
    /// A feed URL, or a site's page that advertises one.
    pub input: &'a str,
    /// The interval asked for; `None` keeps the community's setting (the default on a
    /// first add).
    pub interval: Option<Duration>,
    /// Fetch and parse it first (and discover the feed of a page); off for bulk imports.
    pub check: bool,
}

/// The intervals a request is held to.
#[derive(Debug, Clone, Copy)]
pub struct IntervalLimits {
    pub default: Duration,
    pub min: Duration,
}

/// Checks (unless `req.check` is false) and stores a feed in the community's list.
pub async fn add_feed(
    store: &Store,
    fetcher: &Fetcher,
    req: AddRequest<'_>,
    limits: IntervalLimits,
    now: Timestamp,
) -> Result<AddedFeed, AddFeedError> {
    if let Some(interval) = req.interval
        && interval < limits.min
    {
        return Err(AddFeedError::IntervalTooShort {
            given: interval.as_secs(),
            min: limits.min.as_secs(),
        });
    }
    let mut url = FeedUrl::parse(req.input).map_err(AddFeedError::BadUrl)?;
    let mut items = None;
    let mut discovered_from = None;
    if req.check && store.feed_by_url(url.as_str()).await?.is_none() {
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
    let asked = req.interval.map(|d| d.as_secs() as i64);
    let (feed, created) = store
        .add_and_link_feed(req.community, url.as_str(), asked, limits.default.as_secs() as i64, now)
        .await?;
    let asked_interval_s = store
        .community_feeds(req.community)
        .await?
        .into_iter()
        .find(|cf| cf.feed.id == feed.id)
        .and_then(|cf| cf.asked_interval_s)
        .unwrap_or(feed.poll_interval_s);
    Ok(AddedFeed { feed, created, asked_interval_s, items, discovered_from })
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
    // Parsing is CPU work bounded by the body cap: off the async workers.
    let (bytes, base, content_type) =
        (body.bytes.clone(), body.url.to_string(), body.content_type.clone());
    let parsed = tokio::task::spawn_blocking(move || {
        parse_feed_with(&bytes, Some(&base), content_type.as_deref())
    })
    .await
    .unwrap_or_else(|join| Err(FeedParseError::Invalid(format!("parser crashed: {join}"))));
    match parsed {
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
