//! Subscription filters: `--include` words (any one must appear) and `--exclude` words
//! (none may appear), matched as whole words or phrases, ignoring case and punctuation.

/// A subscription's filter, normalised once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordFilter {
    include: Vec<String>,
    exclude: Vec<String>,
}

/// Lowercase words joined by single spaces, with a space at each end so that
/// `contains(" korea ")` finds whole words only.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        out.extend(word.chars().flat_map(char::to_lowercase));
        out.push(' ');
    }
    out
}

impl WordFilter {
    pub fn new(include: &[String], exclude: &[String]) -> WordFilter {
        let prepare = |words: &[String]| -> Vec<String> {
            words.iter().map(|w| normalize(w)).filter(|w| w.trim() != "").collect()
        };
        WordFilter { include: prepare(include), exclude: prepare(exclude) }
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether an article with these texts (title, summary, body...) passes.
    pub fn matches(&self, parts: &[&str]) -> bool {
        if self.is_empty() {
            return true;
        }
        let hay = normalize(&parts.join(" \n "));
        let included =
            self.include.is_empty() || self.include.iter().any(|w| hay.contains(w.as_str()));
        included && !self.exclude.iter().any(|w| hay.contains(w.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(inc: &[&str], exc: &[&str]) -> WordFilter {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        WordFilter::new(&v(inc), &v(exc))
    }

    #[test]
    fn whole_words_and_phrases() {
        assert!(f(&[], &[]).matches(&["anything"]));
        assert!(f(&["korea"], &[]).matches(&["Peace in KOREA, at last"]));
        assert!(!f(&["korea"], &[]).matches(&["Koreatown opens"]));
        assert!(f(&["north korea"], &[]).matches(&["Talks with North  Korea resume"]));
        assert!(!f(&["north korea"], &[]).matches(&["north of South Korea"]));
        assert!(!f(&[], &["sport"]).matches(&["title", "a sport story"]));
        assert!(!f(&["korea"], &["sport"]).matches(&["Korea sport"]));
        assert!(f(&["trade", "korea"], &["sport"]).matches(&["trade deal"]));
    }
}
