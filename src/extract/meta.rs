//! Page metadata. Publishers state title, author, date and picture for social
//! cards (`og:*`, `twitter:*`, `article:*`) and search engines (JSON-LD,
//! microdata) far more reliably than the visible page does, so those come
//! first and Readability's own guesses are only a fallback.

use dom_query::Document;

/// Metadata found before the DOM is pruned (pruning removes bylines).
#[derive(Debug, Default)]
pub struct PageInfo {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub image: Option<String>,
    pub lang: Option<String>,
    /// The page's own summaries of its article (`description`,
    /// `og:description`, ...), distinct, in priority order.
    pub descriptions: Vec<String>,
}

impl PageInfo {
    /// Readability also parses JSON-LD; use it where our selectors found nothing.
    pub fn fill_from_readability(&mut self, a: &dom_smoothie::Article) {
        if self.title.is_none() {
            self.title = non_empty(&a.title);
        }
        if self.byline.is_none() {
            self.byline = a.byline.as_deref().and_then(clean_byline);
        }
        if self.published.is_none() {
            self.published = a.published_time.as_deref().and_then(non_empty);
        }
        if self.image.is_none() {
            self.image = a.image.clone().and_then(|i| non_empty(&i));
        }
        if self.lang.is_none() {
            self.lang = a.lang.as_deref().and_then(normalize_lang);
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    let t = collapse_ws(s);
    (!t.is_empty()).then_some(t)
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// All `<meta>` key → content pairs, collected in one pass: compiling and
/// running a selector per key cost more than the rest of this module.
struct Metas(Vec<(String, String)>);

impl Metas {
    fn new(doc: &Document) -> Self {
        let mut v = Vec::new();
        for node in doc.select("meta[content]").nodes() {
            let Some(content) = node.attr("content").and_then(|c| non_empty(&c)) else {
                continue;
            };
            for attr in ["property", "name", "itemprop", "http-equiv"] {
                if let Some(k) = node.attr(attr) {
                    v.push((k.trim().to_ascii_lowercase(), content.clone()));
                }
            }
        }
        Self(v)
    }

    /// First content for the first key (in priority order) that is present.
    fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.0.iter().find(|(key, _)| key == k).map(|(_, c)| c.clone()))
    }
}

fn first_text(doc: &Document, selectors: &[&str]) -> Option<String> {
    for sel in selectors {
        for node in doc.select(sel).nodes() {
            if let Some(t) = non_empty(&node.text()) {
                return Some(t);
            }
        }
    }
    None
}

/// Bylines arrive as "By Jane Doe | Staff writer" or a bare profile URL.
fn clean_byline(s: &str) -> Option<String> {
    let s = collapse_ws(s);
    if s.starts_with("http://") || s.starts_with("https://") {
        return None;
    }
    let lower = s.to_lowercase();
    let s = if lower.starts_with("by ") { &s[3..] } else { &s[..] };
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '|' || c == ',' || c == '-');
    (!s.is_empty() && s.chars().count() <= 120).then(|| s.to_string())
}

pub fn collect(doc: &Document, url: Option<&str>) -> PageInfo {
    let metas = Metas::new(doc);
    let title =
        metas.get(&["og:title", "twitter:title"]).or_else(|| first_text(doc, &["h1", "title"]));
    let byline = metas
        .get(&["author", "article:author", "dc.creator", "parsely-author", "sailthru.author"])
        .and_then(|a| clean_byline(&a))
        .or_else(|| {
            first_text(
                doc,
                &[
                    "[rel=author]",
                    "[itemprop=author] [itemprop=name]",
                    "[itemprop=author]",
                    ".byline",
                    ".author-name",
                ],
            )
            .and_then(|a| clean_byline(&a))
        });
    let published = metas
        .get(&[
            "article:published_time",
            "datepublished",
            "date",
            "pubdate",
            "publish-date",
            "publishdate",
            "dc.date",
            "dc.date.issued",
            "sailthru.date",
            "parsely-pub-date",
            "og:published_time",
        ])
        .or_else(|| {
            doc.select("time[datetime]")
                .nodes()
                .iter()
                .find_map(|n| n.attr("datetime").and_then(|d| non_empty(&d)))
        });
    let image = metas
        .get(&[
            "og:image",
            "og:image:url",
            "og:image:secure_url",
            "twitter:image",
            "twitter:image:src",
        ])
        .or_else(|| {
            doc.select("link[rel=image_src]")
                .nodes()
                .iter()
                .find_map(|n| n.attr("href").and_then(|h| non_empty(&h)))
        })
        .and_then(|i| resolve_url(url, &i));
    let lang = doc
        .select("html[lang]")
        .nodes()
        .iter()
        .find_map(|n| n.attr("lang").and_then(|l| normalize_lang(&l)))
        .or_else(|| {
            metas
                .get(&["content-language", "language", "og:locale"])
                .and_then(|l| normalize_lang(&l))
        });
    let mut descriptions: Vec<String> = Vec::new();
    for key in ["og:description", "description", "twitter:description", "dc.description"] {
        if let Some(d) = metas.get(&[key])
            && !descriptions.contains(&d)
        {
            descriptions.push(d);
        }
    }
    PageInfo { title, byline, published, image, lang, descriptions }
}

/// "en-US", "en_GB", "EN" → "en"; junk → `None`.
pub fn normalize_lang(raw: &str) -> Option<String> {
    let primary = raw.trim().split(['-', '_', ',', ';', ' ']).next()?.to_ascii_lowercase();
    let ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    ok.then_some(primary)
}

/// Language of the text when the page does not say; `None` when the guess is
/// unreliable (short or mixed text), since a wrong language is worse than none.
pub fn detect_lang(text: &str) -> Option<String> {
    let sample: String = text.chars().take(2000).collect();
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() {
        return None;
    }
    Some(iso639_1(info.lang()).to_string())
}

/// whatlang speaks ISO 639-3; pages and the summarizer speak 639-1 where one exists.
fn iso639_1(l: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match l {
        Eng => "en",
        Fra => "fr",
        Deu => "de",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Nld => "nl",
        Rus => "ru",
        Swe => "sv",
        Dan => "da",
        Nob => "no",
        Fin => "fi",
        Pol => "pl",
        Ces => "cs",
        Tur => "tr",
        Hun => "hu",
        Ron => "ro",
        Ukr => "uk",
        Ell => "el",
        Ara => "ar",
        Heb => "he",
        Jpn => "ja",
        Cmn => "zh",
        Kor => "ko",
        Hin => "hi",
        Ind => "id",
        Vie => "vi",
        Tha => "th",
        other => other.code(),
    }
}

pub fn is_absolute_http(u: &str) -> bool {
    let l = u.trim_start().to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://")) && l.len() > "https://".len()
}

/// Resolves `href` against the page URL; enough of RFC 3986 for image links
/// (absolute, protocol-relative, root-relative, path-relative).
pub fn resolve_url(base: Option<&str>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with("data:") {
        return None;
    }
    if is_absolute_http(href) {
        return Some(href.to_string());
    }
    let base = base?;
    let scheme_end = base.find("://")?;
    let scheme = &base[..scheme_end];
    if let Some(rest) = href.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    let after = &base[scheme_end + 3..];
    let host_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let origin = &base[..scheme_end + 3 + host_end];
    if href.starts_with('/') {
        return Some(format!("{origin}{href}"));
    }
    let path = &after[host_end..];
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    Some(format!("{origin}{dir}{href}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_images() {
        let b = Some("https://ex.com/news/a/story.html?x=1");
        assert_eq!(resolve_url(b, "/i/p.jpg").as_deref(), Some("https://ex.com/i/p.jpg"));
        assert_eq!(resolve_url(b, "p.jpg").as_deref(), Some("https://ex.com/news/a/p.jpg"));
        assert_eq!(
            resolve_url(b, "//cdn.ex.com/p.jpg").as_deref(),
            Some("https://cdn.ex.com/p.jpg")
        );
        assert_eq!(resolve_url(None, "p.jpg"), None);
        assert_eq!(
            resolve_url(Some("https://ex.com"), "p.jpg").as_deref(),
            Some("https://ex.com/p.jpg")
        );
    }

    #[test]
    fn meta_prefers_social_cards() {
        let doc = Document::from(
            r#"<html lang="en-GB"><head><title>Site | Story</title>
            <meta property="og:title" content="Story">
            <meta property="og:image" content="/img/lead.jpg">
            <meta name="author" content="By Jane Doe">
            <meta property="article:published_time" content="2024-05-01T10:00:00Z">
            </head><body><h1>Other</h1></body></html>"#,
        );
        let m = collect(&doc, Some("https://news.example/2024/story"));
        assert_eq!(m.title.as_deref(), Some("Story"));
        assert_eq!(m.image.as_deref(), Some("https://news.example/img/lead.jpg"));
        assert_eq!(m.byline.as_deref(), Some("Jane Doe"));
        assert_eq!(m.published.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(m.lang.as_deref(), Some("en"));
    }

    #[test]
    fn lang_normalisation() {
        assert_eq!(normalize_lang("en-US").as_deref(), Some("en"));
        assert_eq!(normalize_lang("pt_BR").as_deref(), Some("pt"));
        assert_eq!(normalize_lang("").as_deref(), None);
        assert_eq!(normalize_lang("12").as_deref(), None);
    }
}
