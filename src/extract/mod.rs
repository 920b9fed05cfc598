//! Web page HTML → the article's own text and metadata.
//!
//! `dom_smoothie` (a Readability port) finds the main content block; around it
//! we add what Readability leaves to the caller: a guard so hostile input
//! cannot panic or blow the stack ([`guard`]), pruning of page furniture that
//! sits *inside* article containers ([`clean`]), line-level removal of the
//! noise that survives (share bars, credits, "read more"), and metadata that
//! Readability does not look for ([`meta`]).

mod clean;
mod guard;
mod meta;

use std::fmt;

pub use clean::{clean_text, is_noise_line};

/// What a reader (and the summarizer) wants from a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    pub byline: Option<String>,
    /// As found in the page, ISO-8601 when the page gives it so.
    pub published: Option<String>,
    /// Absolute URL; `og:image` preferred because publishers pick it as the
    /// picture that represents the story.
    pub image: Option<String>,
    /// Primary language subtag, e.g. `"en"`.
    pub lang: Option<String>,
    /// Paragraphs separated by `"\n\n"`.
    pub text: String,
}

#[derive(Debug)]
pub enum ExtractError {
    /// Nothing that looks like an HTML document (empty, binary, ...).
    NotHtml,
    /// The page parsed but no article text was found.
    NoContent,
    /// The URL given is not absolute; relative links could not be resolved.
    BadUrl(String),
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHtml => f.write_str("input is not an HTML document"),
            Self::NoContent => f.write_str("no article text found in the page"),
            Self::BadUrl(u) => write!(f, "page URL is not absolute: {u}"),
        }
    }
}

impl std::error::Error for ExtractError {}

/// Extracts the article from `html`. `url` should be the page's final
/// (post-redirect) absolute URL: it resolves relative image links.
///
/// Never panics: input is sanitised first (see [`guard`]) and the whole
/// extraction runs under `catch_unwind` as a last line of defence, because a
/// feed bot must survive whatever the web serves.
pub fn extract(html: &str, url: Option<&str>) -> Result<Extracted, ExtractError> {
    let url = match url {
        Some(u) if meta::is_absolute_http(u) => Some(u),
        Some(u) if u.trim().is_empty() => None,
        Some(u) => return Err(ExtractError::BadUrl(u.to_string())),
        None => None,
    };
    let html = guard::sanitize(html).ok_or(ExtractError::NotHtml)?;
    std::panic::catch_unwind(|| extract_inner(&html, url)).unwrap_or(Err(ExtractError::NoContent))
}

fn extract_inner(html: &str, url: Option<&str>) -> Result<Extracted, ExtractError> {
    let doc = dom_query::Document::from(html);
    let mut info = meta::collect(&doc, url);
    clean::prune_dom(&doc);

    let cfg =
        dom_smoothie::Config { text_mode: dom_smoothie::TextMode::Formatted, ..Default::default() };
    let mut r = dom_smoothie::Readability::with_document(doc, url, Some(cfg))
        .map_err(|_| ExtractError::BadUrl(url.unwrap_or_default().to_string()))?;
    let article = r.parse().map_err(|_| ExtractError::NoContent)?;

    let text = clean_text(&article.text_content, info.title.as_deref());
    if text.trim().is_empty() {
        return Err(ExtractError::NoContent);
    }
    info.fill_from_readability(&article);
    let lang = info.lang.take().or_else(|| meta::detect_lang(&text));
    Ok(Extracted {
        title: info.title,
        byline: info.byline,
        published: info.published,
        image: info.image,
        lang,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> String {
        format!(
            r##"<!doctype html><html lang="en-US"><head><title>Site - Budget passes</title>
            <meta property="og:title" content="Budget passes">
            <meta property="og:image" content="/img/lead.jpg">
            <meta name="author" content="Jane Doe">
            <meta property="article:published_time" content="2024-03-01T08:00:00Z">
            </head><body><nav><a href="/">Home</a><a href="/news">News</a></nav>
            <article><h1>Budget passes</h1><div class="share-tools"><a href="#">Share</a></div>
            {body}
            <figure><img src="x.jpg"><figcaption>Councillors vote. Photo: John Smith/Reuters</figcaption></figure>
            <div class="related-links"><h3>Related</h3><ul><li><a href="/a">Another budget story from last year</a></li></ul></div>
            </article><footer>© 2024 Example News. All rights reserved.</footer></body></html>"##
        )
    }

    const BODY: &str = "<p>The city council approved the budget on Monday after a long debate that ran late into the evening and drew a large crowd.</p>\
        <p>The plan raises spending on schools by four percent and freezes fees for parks, libraries and public pools across the city.</p>\
        <p>Opponents said the increase was not paid for and warned of cuts later in the decade if tax revenue falls short of forecasts.</p>\
        <p>The mayor is expected to sign the budget into law later this week, aides said, before the fiscal year begins in July.</p>";

    #[test]
    fn extracts_text_and_metadata() {
        let e = extract(&page(BODY), Some("https://news.example/2024/03/budget")).expect("article");
        assert_eq!(e.title.as_deref(), Some("Budget passes"));
        assert_eq!(e.byline.as_deref(), Some("Jane Doe"));
        assert_eq!(e.published.as_deref(), Some("2024-03-01T08:00:00Z"));
        assert_eq!(e.image.as_deref(), Some("https://news.example/img/lead.jpg"));
        assert_eq!(e.lang.as_deref(), Some("en"));
        assert!(e.text.starts_with("The city council approved"), "{}", e.text);
        assert!(e.text.contains("\n\nThe plan raises"), "{}", e.text);
        for noise in ["Share", "Photo:", "Another budget story", "All rights reserved", "Home"] {
            assert!(!e.text.contains(noise), "{noise} in {}", e.text);
        }
    }

    #[test]
    fn language_detected_when_page_is_silent() {
        let html = page(BODY).replace(r#" lang="en-US""#, "");
        let e = extract(&html, None).expect("article");
        assert_eq!(e.lang.as_deref(), Some("en"));
    }

    #[test]
    fn garbage_never_panics() {
        let binary: String = (0..20_000u32).map(|i| char::from((i * 7919 % 256) as u8)).collect();
        let inputs = [
            String::new(),
            " ".to_string(),
            "<".to_string(),
            "<<<>>><!--".to_string(),
            "\0\0\0\u{1}\u{2}".repeat(1000),
            binary,
            "<html><body><p>unclosed <b><i><u>".repeat(500),
            format!("{}deep{}", "<div>".repeat(50_000), "</div>".repeat(50_000)),
            format!("{}deep", "<span><b>".repeat(50_000)),
            format!("<p title=\"{}\">x</p>", "a".repeat(1_000_000)),
            "<table><tr><td><table><tr><td>".repeat(2_000),
            "plain text without any markup at all".to_string(),
        ];
        for html in &inputs {
            let t = std::time::Instant::now();
            let _ = extract(html, Some("https://example.com/x"));
            assert!(t.elapsed().as_secs() < 5, "too slow on {:?}", &html[..html.len().min(40)]);
        }
        assert!(matches!(extract("", None), Err(ExtractError::NotHtml)));
        assert!(matches!(extract("<p>x</p>", Some("not a url")), Err(ExtractError::BadUrl(_))));
    }
}
