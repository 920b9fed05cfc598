//! Web page HTML → the article's own text and metadata.
//!
//! No single algorithm finds the article on every page, so several
//! independent candidates are built and one is chosen by measurable signals
//! ([`choose`]): dom_smoothie's Readability result, the page's structured data
//! (JSON-LD `articleBody`, `itemprop=articleBody`), its semantic containers
//! (`<article>`, `<main>`) and a text-density baseline over the whole body
//! ([`candidates`], built on [`blocks`]). The article's lead, which layouts
//! often print outside the container all of these find, is added to the
//! chosen text when the page prints its own description ([`lead`]). Around
//! them: a guard so hostile input cannot panic or blow the stack ([`guard`]),
//! pruning of page furniture and line-level removal of the noise that
//! survives ([`clean`]), and metadata Readability does not look for ([`meta`]).

mod blocks;
mod candidates;
mod clean;
mod guard;
mod lead;
mod meta;

use std::fmt;

pub use candidates::Kind;
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

/// One candidate article text, cleaned, with the signals the choice reads.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub kind: Kind,
    /// Cleaned text, paragraphs separated by `"\n\n"`.
    pub text: String,
    /// Non-whitespace characters.
    pub chars: usize,
    /// Non-whitespace characters in paragraphs long enough to be prose.
    pub prose: usize,
    /// Fingerprint of the text, to measure overlap between candidates; built
    /// on first use, since most pages are decided without it.
    grams: std::cell::OnceCell<std::collections::HashSet<u64>>,
}

impl Candidate {
    fn new(kind: Kind, raw: &str, title: Option<&str>) -> Option<Self> {
        let text = trim_tail(&clean_text(raw, title));
        let mut chars = 0;
        let mut prose = 0;
        for para in text.split("\n\n") {
            let n = para.chars().filter(|c| !c.is_whitespace()).count();
            chars += n;
            if n >= PROSE_PARAGRAPH_CHARS {
                prose += n;
            }
        }
        let grams = std::cell::OnceCell::new();
        (chars > 0).then_some(Self { kind, text, chars, prose, grams })
    }

    /// Whether `passage` is already part of this text (most of it, so that
    /// cleaning differences do not count).
    fn holds(&self, passage: &str) -> bool {
        let grams = fingerprint(passage);
        if grams.len() < 4 {
            let flat = |s: &str| s.split_whitespace().collect::<String>().to_lowercase();
            return flat(&self.text).contains(&flat(passage));
        }
        let mine = self.grams.get_or_init(|| fingerprint(&self.text));
        let common = grams.iter().filter(|g| mine.contains(g)).count();
        common * 2 >= grams.len()
    }

    /// Share of this candidate's fingerprint found in `other`'s: 1.0 when
    /// every passage of this text also appears there.
    fn contained_in(&self, other: &Candidate) -> f64 {
        let mine = self.grams.get_or_init(|| fingerprint(&self.text));
        let theirs = other.grams.get_or_init(|| fingerprint(&other.text));
        if mine.is_empty() {
            return 0.0;
        }
        let common = mine.iter().filter(|g| theirs.contains(g)).count();
        common as f64 / mine.len() as f64
    }
}

/// Drops the short lines after the last paragraph of prose. An article ends
/// on a sentence; what follows it in a container is section labels, tag
/// lists, share prompts and the headings of removed link lists.
fn trim_tail(text: &str) -> String {
    let paras: Vec<&str> = text.split("\n\n").collect();
    let long = |p: &&str| p.chars().filter(|c| !c.is_whitespace()).count() >= TAIL_LINE_CHARS;
    match paras.iter().rposition(long) {
        Some(last) => paras[..=last].join("\n\n"),
        None => text.to_string(),
    }
}

/// Lines shorter than this after the article's last long line are furniture.
const TAIL_LINE_CHARS: usize = 30;

/// Hashes of character windows (whitespace ignored, so line breaks and the
/// way each method spaces blocks do not matter; characters, not words, so
/// Chinese and Japanese work too). A quarter are kept, chosen by hash value,
/// so two texts keep the same windows of the passages they share.
fn fingerprint(text: &str) -> std::collections::HashSet<u64> {
    use std::hash::{Hash, Hasher};
    const WINDOW: usize = 12;
    let chars: Vec<char> =
        text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    let mut out = std::collections::HashSet::new();
    for w in chars.windows(WINDOW) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        w.hash(&mut h);
        let v = h.finish();
        if v.is_multiple_of(4) {
            out.insert(v);
        }
    }
    out
}

/// A paragraph this long is prose, not a label, a tag list or a date.
const PROSE_PARAGRAPH_CHARS: usize = 50;

/// Everything [`extract`] learns about a page before choosing its text.
#[doc(hidden)]
#[derive(Debug)]
pub struct Analysis {
    info: meta::PageInfo,
    pub candidates: Vec<Candidate>,
    /// The lead printed outside the article's container, when found
    /// ([`lead`]); added to the chosen text unless that already holds it.
    lead: Option<String>,
}

/// The choice's thresholds. Few on purpose: each one is a way to fit the dev
/// pages rather than the web, and `herald bench extract` cross-validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Readability's text is implausibly short when its prose is under this
    /// share of the most prose any candidate found.
    pub short: f64,
    /// ... and when the prose it misses is at least this many characters (a
    /// few paragraphs): on pages with little prose the ratio is noise.
    pub gap: usize,
    /// Two candidates agree when each holds at least this share of the other.
    pub agree: f64,
}

impl Default for Choice {
    fn default() -> Self {
        Self { short: 0.7, gap: 300, agree: 0.8 }
    }
}

impl Choice {
    /// Settings `herald bench extract` tries when cross-validating.
    pub fn grid() -> Vec<Choice> {
        let mut out = Vec::new();
        for short in [0.5, 0.6, 0.7, 0.8] {
            for gap in [0, 300, 1000] {
                for agree in [0.7, 0.8, 0.9] {
                    out.push(Choice { short, gap, agree });
                }
            }
        }
        out
    }
}

impl Analysis {
    /// Index of the chosen candidate.
    pub fn choose(&self, c: &Choice) -> Option<usize> {
        choose(&self.candidates, c)
    }

    /// Candidate `i`'s text as [`extract`] returns it: with the lead in
    /// front when the candidate does not hold it already.
    pub fn text(&self, i: usize) -> String {
        let Some(c) = self.candidates.get(i) else { return String::new() };
        match &self.lead {
            Some(lead) if !c.holds(lead) => format!("{lead}\n\n{}", c.text),
            _ => c.text.clone(),
        }
    }
}

/// Readability first: it is the most precise single method on pages it
/// understands. The safety net: when its text is implausibly short next to
/// what the other candidates found, and no markup-based candidate (the
/// page's own statement of what its article is) agrees with it, the tightest
/// of the candidates that are not short is taken instead.
fn choose(cands: &[Candidate], c: &Choice) -> Option<usize> {
    let unpruned = cands.iter().position(|x| x.kind == Kind::Unpruned);
    let pruned_prose = cands.iter().filter(|x| x.kind != Kind::Unpruned).map(|x| x.prose).max();
    // Pruning is rule-based; when it left no prose worth the name, the page
    // as served is the better guess.
    if let Some(u) = unpruned
        && pruned_prose.unwrap_or(0) < c.gap
        && cands[u].prose >= c.gap
    {
        return Some(u);
    }
    let cands_pruned = |x: &&Candidate| x.kind != Kind::Unpruned;
    let Some(max_prose) = cands.iter().filter(cands_pruned).map(|x| x.prose).max() else {
        return unpruned;
    };
    let long_enough = |x: &Candidate| x.prose as f64 >= c.short * max_prose as f64;
    if let Some(r) = cands.iter().position(|x| x.kind == Kind::Readability) {
        let rd = &cands[r];
        if long_enough(rd) || rd.prose + c.gap > max_prose {
            return Some(r);
        }
        let confirmed = cands.iter().any(|m| {
            matches!(m.kind, Kind::ItemProp | Kind::JsonLd | Kind::Article)
                && m.contained_in(rd) >= c.agree
                && rd.contained_in(m) >= c.agree
        });
        if confirmed {
            return Some(r);
        }
    }
    cands
        .iter()
        .enumerate()
        .filter(|(_, x)| x.kind != Kind::Unpruned && long_enough(x))
        .min_by_key(|(_, x)| x.chars)
        .map(|(i, _)| i)
        .or(unpruned)
}

/// Extracts the article from `html`. `url` should be the page's final
/// (post-redirect) absolute URL: it resolves relative image links.
///
/// Never panics: input is sanitised first (see [`guard`]) and the whole
/// extraction runs under `catch_unwind` as a last line of defence, because a
/// feed bot must survive whatever the web serves.
pub fn extract(html: &str, url: Option<&str>) -> Result<Extracted, ExtractError> {
    let a = analyse(html, url)?;
    let i = a.choose(&Choice::default()).ok_or(ExtractError::NoContent)?;
    let text = a.text(i);
    let Analysis { mut info, .. } = a;
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

/// Builds every candidate of a page (what [`extract`] chooses from).
#[doc(hidden)]
pub fn analyse(html: &str, url: Option<&str>) -> Result<Analysis, ExtractError> {
    let url = match url {
        Some(u) if meta::is_absolute_http(u) => Some(u),
        Some(u) if u.trim().is_empty() => None,
        Some(u) => return Err(ExtractError::BadUrl(u.to_string())),
        None => None,
    };
    let html = guard::sanitize(html).ok_or(ExtractError::NotHtml)?;
    std::panic::catch_unwind(|| analyse_inner(&html, url)).unwrap_or(Err(ExtractError::NoContent))
}

fn analyse_inner(html: &str, url: Option<&str>) -> Result<Analysis, ExtractError> {
    let doc = dom_query::Document::from(html);
    let mut info = meta::collect(&doc, url);
    let json_ld = candidates::json_ld_body(&doc);
    let raw_blocks = doc.body().map(|b| blocks::Blocks::collect(&b));
    let unpruned = raw_blocks.as_ref().and_then(candidates::density_text);
    let lead = raw_blocks.as_ref().and_then(|b| lead::find(b, &info.descriptions));
    drop(raw_blocks);
    clean::prune_dom(&doc);
    let title = info.title.clone();
    let title = title.as_deref();

    let mut cands = Vec::new();
    if let Some(body) = doc.body() {
        let (dom, _) = candidates::dom_candidates(&doc, &body);
        cands.extend(dom.iter().filter_map(|(k, raw)| Candidate::new(*k, raw, title)));
    }
    if let Some(t) = json_ld {
        cands.extend(Candidate::new(Kind::JsonLd, &t, title));
    }

    let cfg =
        dom_smoothie::Config { text_mode: dom_smoothie::TextMode::Formatted, ..Default::default() };
    let mut r = dom_smoothie::Readability::with_document(doc, url, Some(cfg))
        .map_err(|_| ExtractError::BadUrl(url.unwrap_or_default().to_string()))?;
    if let Ok(article) = r.parse() {
        info.fill_from_readability(&article);
        let title = info.title.clone();
        cands.extend(Candidate::new(Kind::Readability, &article.text_content, title.as_deref()));
    }
    if let Some(t) = unpruned {
        cands.extend(Candidate::new(Kind::Unpruned, &t, info.title.as_deref()));
    }
    if cands.is_empty() {
        return Err(ExtractError::NoContent);
    }
    let lead = lead.map(|l| clean_text(&l, info.title.as_deref())).filter(|l| !l.is_empty());
    Ok(Analysis { info, candidates: cands, lead })
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

    fn cand(kind: Kind, text: &str) -> Candidate {
        Candidate::new(kind, text, None).expect("non-empty")
    }

    fn para(topic: &str, n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "Paragraph {i} about {topic} tells the reader something new and keeps on going."
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn safety_net_takes_the_longer_candidate_when_readability_is_short() {
        let story = para("the story", 30);
        let tagline = "Filed under china, illnesses, plague";
        let cands = [cand(Kind::Readability, tagline), cand(Kind::Density, &story)];
        assert_eq!(choose(&cands, &Choice::default()), Some(1));
        // With little prose anywhere, the ratio is noise: Readability stays.
        let short = para("a short note", 2);
        let cands = [cand(Kind::Readability, tagline), cand(Kind::Density, &short)];
        assert_eq!(choose(&cands, &Choice::default()), Some(0));
    }

    #[test]
    fn readability_stays_when_markup_agrees_or_it_is_long_enough() {
        let story = para("the story", 20);
        let comments = format!("{story}\n{}", para("what commenters think", 40));
        // Density also swept up the comments; the page's own articleBody agrees with Readability.
        let cands = [
            cand(Kind::Density, &comments),
            cand(Kind::ItemProp, &story),
            cand(Kind::Readability, &story),
        ];
        assert_eq!(choose(&cands, &Choice::default()), Some(2));
        // Without that confirmation, the tightest long candidate wins.
        let cands = [cand(Kind::Density, &comments), cand(Kind::Readability, &story)];
        assert_eq!(choose(&cands, &Choice::default()), Some(0));
        // Long enough next to the others: Readability, however the others look.
        let cands = [cand(Kind::Main, &story), cand(Kind::Readability, &para("the story", 18))];
        assert_eq!(choose(&cands, &Choice::default()), Some(1));
        assert_eq!(choose(&[], &Choice::default()), None);
    }

    #[test]
    fn article_in_a_furniture_named_box_survives_pruning() {
        // Blogger wraps every post in `<div class="widget Blog">`; "widget" marks
        // furniture to the pruning rules, which take a short post with it.
        let paras: String = (0..8)
            .map(|i| {
                format!("<p>Paragraph {i} of the post explains one more thing in some detail.</p>")
            })
            .collect();
        let html = format!(
            r#"<html><body><div class="widget Navbar"><a href="/">Home</a></div>
            <div class="widget Blog"><div class="post-body">{paras}</div></div></body></html>"#
        );
        let a = analyse(&html, None).expect("candidates");
        let pruned = a.candidates.iter().filter(|c| c.kind != Kind::Unpruned);
        assert_eq!(pruned.map(|c| c.prose).max().unwrap_or(0), 0, "the rules did prune the post");
        let e = extract(&html, None).expect("article");
        assert!(
            e.text.starts_with("Paragraph 0 of the post") && e.text.contains("Paragraph 7"),
            "{}",
            e.text
        );
        assert!(!e.text.contains("Home"), "{}", e.text);
    }

    #[test]
    fn tail_after_the_last_prose_line_goes() {
        let t = trim_tail(
            "A long first paragraph with plenty of words in it.\n\nWeitere Artikel\n\nTags: x",
        );
        assert_eq!(t, "A long first paragraph with plenty of words in it.");
        assert_eq!(trim_tail("short\n\nlines"), "short\n\nlines");
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
