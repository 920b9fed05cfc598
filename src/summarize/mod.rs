//! Plain text → the few sentences that carry it.
//!
//! [`Summarizer`] is synchronous on purpose: the extractive default is a pure
//! function that runs in well under a millisecond, and callers that need I/O
//! can wrap an implementation in `spawn_blocking`.

mod rank;
mod sentences;
mod stem;

pub use rank::Weights;
pub use sentences::split_sentences;
pub use stem::{Lang, detect as detect_lang};

/// Anything that turns an article into a short list of sentences.
///
/// An LLM-backed summarizer (an OpenAI-compatible chat endpoint) will
/// implement this later, keeping [`Extractive`] as its fallback for when the
/// endpoint is down, slow or over budget; the trait stays sync so both can be
/// swapped without touching callers.
pub trait Summarizer: Send + Sync {
    /// At most `sentences` whole sentences, in document order.
    fn summarize(&self, title: Option<&str>, text: &str, sentences: usize) -> Vec<String>;

    /// Like [`Summarizer::summarize`] when the text's language (ISO 639-1) is already
    /// known, e.g. from the page's `lang` or detected once for a feed's items, so the
    /// summarizer need not detect it again. `None` means unknown.
    fn summarize_lang(
        &self,
        title: Option<&str>,
        text: &str,
        sentences: usize,
        lang: Option<&str>,
    ) -> Vec<String> {
        let _ = lang;
        self.summarize(title, text, sentences)
    }
}

/// Position-aware, title-aware, redundancy-checked extractive summarizer.
#[derive(Debug, Clone)]
pub struct Extractive {
    /// Total characters of the summary (sentences joined by one space) so it
    /// fits a chat message; whole sentences are dropped rather than cut.
    pub max_chars: usize,
    /// Sentences with fewer words are fragments (headings, labels).
    pub min_words: usize,
    /// Longer sentences are run-ons or lists that eat the budget.
    pub max_words: usize,
    /// A candidate sharing more than this share of terms with a chosen
    /// sentence says nothing new.
    pub max_overlap: f64,
    pub weights: Weights,
}

impl Default for Extractive {
    fn default() -> Self {
        Self {
            max_chars: 600,
            min_words: 6,
            max_words: 55,
            max_overlap: 0.6,
            weights: Weights {
                position: 1.0,
                centrality: 0.6,
                title: 0.4,
                position_half_life: 2.0,
            },
        }
    }
}

/// The summarizer reads at most this much of a text: news puts its point first, and a
/// hostile page must not buy unbounded work (scoring is linear, but not free).
const MAX_TEXT_BYTES: usize = 100_000;
/// ... and at most this many sentences of it.
const MAX_SENTENCES: usize = 2_000;

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// News agency tags that open a dateline: "LONDON (Reuters) -".
const AGENCIES: &[&str] = &[
    "cnn",
    "ap",
    "reuters",
    "afp",
    "upi",
    "dpa",
    "efe",
    "ansa",
    "pti",
    "ians",
    "bloomberg",
    "xinhua",
];

/// Drops a leading dateline ("WASHINGTON (CNN) --", "( cnn ) --") so the
/// sentence reads as prose in a chat message.
fn strip_dateline(s: &str) -> &str {
    let Some(open) = s.find('(') else { return s };
    let Some(close_rel) = s[open..].find(')') else {
        return s;
    };
    let close = open + close_rel;
    if open > 40 || s[..open].split_whitespace().count() > 4 {
        return s;
    }
    let inside = s[open + 1..close].trim().to_lowercase();
    let rest = s[close + 1..].trim_start();
    let dashed = rest.starts_with("--")
        || rest.starts_with('—')
        || rest.starts_with('–')
        || rest.starts_with("- ");
    if !(dashed || AGENCIES.contains(&inside.as_str())) {
        return s;
    }
    let rest = rest.trim_start_matches(['-', '—', '–', ':', ' ']);
    if rest.split_whitespace().count() < 3 { s } else { rest }
}

/// Sentences that are not prose: captions, credits, bylines, UI labels, or
/// lines without a verb-bearing length.
fn worth_summarizing(s: &str, cfg: &Extractive) -> bool {
    let words = s.split_whitespace().count();
    if words < cfg.min_words || words > cfg.max_words || s.chars().count() > cfg.max_chars {
        return false;
    }
    // Headings and labels have no closing punctuation; questions tease.
    let t = s.trim_end_matches(['"', '”', '’', '\'', ')', ' ']);
    if !t.ends_with(['.', '!', '。', '！']) {
        return false;
    }
    let low = s.to_lowercase();
    // PTB-tokenised datelines: "by . daily mail reporter ." / "published : 10:20 est".
    if low.starts_with("by ")
        || low.starts_with("published")
        || low.starts_with("updated")
        || low.starts_with("last updated")
    {
        return false;
    }
    if low.contains("click here") || low.contains("scroll down") {
        return false;
    }
    !crate::extract::is_noise_line(s, None)
}

impl Extractive {
    /// Like [`Summarizer::summarize`] with a known language (ISO 639-1), e.g.
    /// from [`crate::extract::Extracted::lang`]; `None` detects it.
    pub fn summarize_lang(
        &self,
        title: Option<&str>,
        text: &str,
        n: usize,
        lang: Option<&str>,
    ) -> Vec<String> {
        if n == 0 {
            return Vec::new();
        }
        let text = bounded(text, MAX_TEXT_BYTES);
        let lang = lang.or_else(|| stem::detect(text));
        let lang = Lang::new(lang);
        let mut all = split_sentences(text);
        all.truncate(MAX_SENTENCES);
        let cands: Vec<&str> =
            all.iter().map(|s| strip_dateline(s)).filter(|s| worth_summarizing(s, self)).collect();
        if cands.is_empty() {
            return self.short_text_fallback(&all, n);
        }
        let terms: Vec<Vec<String>> = cands.iter().map(|s| lang.terms(s)).collect();
        let ranks: Vec<usize> = (0..cands.len()).collect();
        let title_terms = title.map(|t| lang.terms(t)).unwrap_or_default();
        let scores = rank::score(&terms, &ranks, &title_terms, &self.weights);

        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut chosen: Vec<usize> = Vec::new();
        let mut used = 0usize;
        for i in order {
            if chosen.len() == n {
                break;
            }
            let len = cands[i].chars().count() + usize::from(!chosen.is_empty());
            if used + len > self.max_chars {
                continue;
            }
            if chosen.iter().any(|&c| rank::overlap(&terms[c], &terms[i]) > self.max_overlap) {
                continue;
            }
            used += len;
            chosen.push(i);
        }
        chosen.sort_unstable();
        chosen.into_iter().map(|i| cands[i].to_string()).collect()
    }
}

impl Extractive {
    /// Short texts (a feed's one-line teaser, a few brief sentences) have no sentence
    /// that passes the quality filter; their first non-noise sentences are still
    /// better than an empty summary.
    fn short_text_fallback(&self, all: &[String], n: usize) -> Vec<String> {
        let mut used = 0usize;
        let mut out = Vec::new();
        for s in all.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if out.len() == n {
                break;
            }
            let len = s.chars().count() + usize::from(!out.is_empty());
            if crate::extract::is_noise_line(s, None) || used + len > self.max_chars {
                continue;
            }
            used += len;
            out.push(s.to_string());
        }
        out
    }
}

impl Summarizer for Extractive {
    fn summarize(&self, title: Option<&str>, text: &str, sentences: usize) -> Vec<String> {
        Extractive::summarize_lang(self, title, text, sentences, None)
    }

    fn summarize_lang(
        &self,
        title: Option<&str>,
        text: &str,
        sentences: usize,
        lang: Option<&str>,
    ) -> Vec<String> {
        Extractive::summarize_lang(self, title, text, sentences, lang)
    }
}

/// Sentences in a stored (or shown) summary.
pub const SUMMARY_SENTENCES: usize = 3;

/// The summary of a stored article that has none (a feed's history items are stored
/// without one: nobody is sent them, and summarizing every one was most of a first
/// poll's CPU), made when the article is shown. `lang` is the article's page
/// language, if it had one.
pub fn on_demand(title: Option<&str>, text: &str, lang: Option<&str>) -> String {
    let lang = lang.filter(|l| Lang::known(l));
    Extractive::default().summarize_lang(title, text, SUMMARY_SENTENCES, lang).join(" ")
}

/// The baseline every summarizer must beat: the first `n` sentences.
pub fn lead(text: &str, n: usize) -> Vec<String> {
    split_sentences(text).into_iter().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../shared/data/seed/000_09268671e900c80b.txt");

    #[test]
    fn summary_fits_a_chat_message_in_document_order() {
        let s = Extractive::default();
        let out = s.summarize(Some("Welcome Moves towards Peace and Security in Korea"), SEED, 3);
        assert!(!out.is_empty() && out.len() <= 3, "{out:?}");
        let total: usize = out.iter().map(|x| x.chars().count()).sum::<usize>() + out.len() - 1;
        assert!(total <= 600, "{total}");
        let positions: Vec<usize> =
            out.iter().map(|x| SEED.find(x.as_str()).expect("verbatim sentence")).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        for x in &out {
            assert!(!x.contains("Share") && !x.contains("Getty"), "{x}");
            assert!(x.ends_with(['.', '!', '”', '"', '’']), "whole sentence: {x}");
        }
    }

    #[test]
    fn long_sentences_are_dropped_not_cut() {
        let long = format!("{} end.", "word ".repeat(200));
        let text = format!(
            "{long}\nShort but real sentence number one here.\nAnother real sentence comes right after it."
        );
        let out = Extractive::default().summarize(None, &text, 3);
        assert_eq!(
            out,
            vec![
                "Short but real sentence number one here.",
                "Another real sentence comes right after it."
            ]
        );
    }

    #[test]
    fn redundant_sentences_are_skipped() {
        let text = "The council approved the new budget on Monday evening.\nOn Monday evening the council approved the new budget.\nSchools will get more money for teachers next year.";
        let out = Extractive::default().summarize(None, text, 2);
        assert_eq!(out.len(), 2);
        assert!(out[1].starts_with("Schools"), "{out:?}");
    }

    #[test]
    fn datelines_and_bylines_are_not_summary_material() {
        assert_eq!(
            strip_dateline("WASHINGTON (CNN) -- The Senate voted on Tuesday."),
            "The Senate voted on Tuesday."
        );
        assert_eq!(
            strip_dateline("( cnn ) two cnn heroes are among the survivors ."),
            "two cnn heroes are among the survivors ."
        );
        assert_eq!(
            strip_dateline("Apple (AAPL) shares rose on Tuesday."),
            "Apple (AAPL) shares rose on Tuesday."
        );
        let cfg = Extractive::default();
        assert!(!worth_summarizing("By Jane Doe, Staff Writer", &cfg));
        assert!(!worth_summarizing("Photo: John Smith/Getty Images for the event", &cfg));
        assert!(worth_summarizing("The ministry said the talks would resume next week.", &cfg));
    }

    #[test]
    fn empty_and_zero() {
        let s = Extractive::default();
        assert!(s.summarize(None, "", 3).is_empty());
        assert!(s.summarize(None, "Some text here that is long enough to count.", 0).is_empty());
    }
}
