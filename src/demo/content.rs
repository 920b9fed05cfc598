//! The sample site `herald demo` serves: two feeds and the article pages they
//! link to, compiled into the binary so the demo needs no network and no files
//! next to the executable.
//!
//! The pages carry the furniture real news sites wrap around a story (cookie
//! banner, navigation, share bar, photo credits, related links, newsletter
//! box, footer), so the demo shows extraction doing its job rather than
//! reading pre-cleaned text. The two feeds carry the same Korea story from
//! different publications, so a digest of both shows "also in".
//!
//! Feeds contain `{{BASE}}` where the server's origin goes; it is only known
//! once the server has bound its port, so callers pass each body through
//! [`render`] when serving it.

/// One file of the sample site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoFile {
    /// URL path, starting with "/".
    pub path: &'static str,
    pub content_type: &'static str,
    /// May contain `{{BASE}}`; serve [`render`]`(body, base)`.
    pub body: &'static str,
}

const PLACEHOLDER: &str = "{{BASE}}";
const HTML: &str = "text/html; charset=utf-8";

/// Every file of the sample site. Feeds first: `/world.xml` (RSS 2.0) and
/// `/local.xml` (Atom).
pub fn files() -> Vec<DemoFile> {
    vec![
        DemoFile {
            path: "/world.xml",
            content_type: "application/rss+xml; charset=utf-8",
            body: include_str!("../../assets/demo/world.xml"),
        },
        DemoFile {
            path: "/local.xml",
            content_type: "application/atom+xml; charset=utf-8",
            body: include_str!("../../assets/demo/local.xml"),
        },
        DemoFile {
            path: "/articles/korea.html",
            content_type: HTML,
            body: include_str!("../../assets/demo/korea.html"),
        },
        DemoFile {
            path: "/articles/chess.html",
            content_type: HTML,
            body: include_str!("../../assets/demo/chess.html"),
        },
        DemoFile {
            path: "/articles/library.html",
            content_type: HTML,
            body: include_str!("../../assets/demo/library.html"),
        },
        DemoFile {
            path: "/articles/korea-border.html",
            content_type: HTML,
            body: include_str!("../../assets/demo/korea-border.html"),
        },
        DemoFile {
            path: "/articles/rail.html",
            content_type: HTML,
            body: include_str!("../../assets/demo/rail.html"),
        },
    ]
}

/// `body` with `{{BASE}}` replaced by `base` (an origin such as
/// "http://127.0.0.1:8080"; a trailing slash is dropped because the
/// placeholder is always followed by a path). The base is escaped for
/// XML/HTML so that it cannot break the markup it is inserted into.
pub fn render(body: &str, base: &str) -> String {
    let base = base.trim_end_matches('/');
    let mut escaped = String::with_capacity(base.len());
    for c in base.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    body.replace(PLACEHOLDER, &escaped)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{Datelike, TimeZone, Utc};

    use super::*;
    use crate::deliver::digest::{DigestArticle, DigestLimits, compose_digest};

    const BASE: &str = "http://127.0.0.1:8080";

    fn file(path: &str) -> DemoFile {
        files().into_iter().find(|f| f.path == path).unwrap()
    }

    #[test]
    fn paths_are_unique_and_absolute() {
        let all = files();
        let paths: HashSet<_> = all.iter().map(|f| f.path).collect();
        assert_eq!(paths.len(), all.len());
        assert!(all.iter().all(|f| f.path.starts_with('/') && !f.body.is_empty()));
        // Pages link to one another relatively; only feeds need the base.
        for f in all.iter().filter(|f| f.content_type == HTML) {
            assert!(!f.body.contains(PLACEHOLDER), "{}", f.path);
        }
    }

    #[test]
    fn render_fills_the_base() {
        let out = render("<link>{{BASE}}/a</link>{{BASE}}", "http://h:1/");
        assert_eq!(out, "<link>http://h:1/a</link>http://h:1");
        assert_eq!(
            render("{{BASE}}", "http://h/?a=1&b=\"2\""),
            "http://h/?a=1&amp;b=&quot;2&quot;"
        );
    }

    #[test]
    fn feeds_parse_and_link_to_served_pages() {
        let served: HashSet<&str> =
            files().iter().filter(|f| f.content_type == HTML).map(|f| f.path).collect();
        let mut linked = HashSet::new();
        for (path, expected) in [("/world.xml", 3), ("/local.xml", 2)] {
            let body = render(file(path).body, BASE);
            assert!(!body.contains(PLACEHOLDER));
            let feed_url = format!("{BASE}{path}");
            let feed = crate::ingest::parse_feed(body.as_bytes(), Some(&feed_url))
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(feed.title.is_some(), "{path}");
            assert_eq!(feed.entries.len(), expected, "{path}");
            for e in &feed.entries {
                let link = e.link.as_deref().unwrap();
                let page = link.strip_prefix(BASE).unwrap_or_else(|| panic!("{link}"));
                assert!(served.contains(page), "{link} is not served");
                assert_eq!(e.id.as_deref(), Some(link), "{path}: id is the page URL");
                let published = e.published.unwrap();
                assert_eq!((published.year(), published.month()), (2026, 11), "{link}");
                assert!(e.title.as_deref().is_some_and(|t| !t.is_empty()));
                assert!(e.content_html.as_deref().is_some_and(|t| t.len() > 40), "{link} teaser");
                linked.insert(page.to_string());
            }
        }
        assert_eq!(linked.len(), served.len(), "every page is in a feed");
    }

    #[test]
    fn pages_extract_to_their_story_without_furniture() {
        // (page, title, first words of the body, last words of the body)
        let pages = [
            (
                "/articles/korea.html",
                "Welcome Moves towards Peace and Security in Korea",
                "The Korean war never ended.",
                "a comprehensive peace treaty at last.",
            ),
            (
                "/articles/korea-border.html",
                "Moves Towards Peace and Security in Korea Welcomed in Border Towns",
                "In the farming villages along the southern edge",
                "“Let the families meet while they still can.”",
            ),
            (
                "/articles/rail.html",
                "Vell Valley Line Reopens to Passengers After 41 Years",
                "Passenger trains returned to the Vell Valley line",
                "is due to open next summer.",
            ),
            (
                "/articles/library.html",
                "Harbourside Library Puts 160 Years of Newspapers Online",
                "Every issue of the Harbourside Chronicle",
                "checked once a year.",
            ),
            (
                "/articles/chess.html",
                "Sixteen-Year-Old Wins Northern Lights Chess Open in Tiebreak",
                "A sixteen-year-old from the fishing town of Skarvik",
                "watch the final round on screens outside.",
            ),
        ];
        const NOISE: &[&str] = &[
            "Share:",
            "Subscribe to our newsletter",
            "Sign up",
            "cookies",
            "Related stories",
            "Most read",
            "All rights reserved",
            "Photo:",
            "Getty Images",
            "Handout",
            "Advertisement",
            "Log in",
            "Comments",
            "Tags:",
            "Skip to content",
            "Published",
            "By ",
            "fictional",
        ];
        for (path, title, first, last) in pages {
            let url = format!("{BASE}{path}");
            let x = crate::extract::extract(file(path).body, Some(&url))
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(x.title.as_deref(), Some(title), "{path}");
            assert!(x.text.starts_with(first), "{path}: {}", &x.text[..80]);
            assert!(x.text.ends_with(last), "{path}: ...{}", tail(&x.text));
            for n in NOISE {
                assert!(!x.text.contains(n), "{path}: {n:?} left in\n{}", x.text);
            }
            let words = x.text.split_whitespace().count();
            assert!((250..=1000).contains(&words), "{path}: {words} words");
            assert_eq!(x.lang.as_deref(), Some("en"), "{path}");
        }
    }

    fn tail(s: &str) -> &str {
        let start = s.char_indices().rev().nth(80).map_or(0, |(i, _)| i);
        &s[start..]
    }

    #[test]
    fn a_digest_of_both_feeds_shows_the_korea_story_once() {
        let mut articles = Vec::new();
        for (n, path) in ["/world.xml", "/local.xml"].into_iter().enumerate() {
            let body = render(file(path).body, BASE);
            let feed = crate::ingest::parse_feed(body.as_bytes(), None).unwrap();
            for e in feed.entries {
                articles.push(DigestArticle {
                    id: articles.len() as i64 + 1,
                    feed_name: feed.title.clone().unwrap(),
                    title: e.title.unwrap(),
                    url: e.link,
                    // Teasers stand in for the stored summaries; the titles
                    // alone must be enough to pair the two reports.
                    summary: if n == 0 { String::new() } else { "Different text.".into() },
                    published_at: e.published.unwrap().timestamp(),
                });
            }
        }
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap().timestamp();
        let out = compose_digest(
            start,
            start + 2 * 86400,
            chrono_tz::UTC,
            articles,
            &DigestLimits::CONSOLE,
        );
        let items: Vec<_> = out.iter().flat_map(|r| &r.sections).flat_map(|s| &s.items).collect();
        assert_eq!(items.len(), 4);
        let korea: Vec<_> = items.iter().filter(|i| i.title.contains("Korea")).collect();
        assert_eq!(korea.len(), 1);
        // The Gazette's report is newer, so it is the copy shown.
        assert_eq!(korea[0].also_in, ["Meridian World"]);
        assert_eq!(out[0].footer.as_deref(), Some("4 articles from 2 feeds"));
    }
}
