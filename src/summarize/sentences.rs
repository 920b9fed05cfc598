//! Sentence splitting without a model: a period ends a sentence only when
//! what follows looks like a new one and what precedes is not an
//! abbreviation, an initial or part of a number.

/// Lowercased tokens (without the final period) that end in a period but do
/// not end a sentence when followed by a capitalised word.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "rev", "gen", "col", "lt",
    "sgt", "capt", "cmdr", "adm", "gov", "sen", "rep", "pres", "supt", "insp", "det", "hon",
    "messrs", "mme", "mlle", "vs", "etc", "no", "nos", "vol", "fig", "figs", "approx", "inc",
    "ltd", "co", "corp", "bros", "dept", "univ", "assn", "est", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat",
    "sun", "ave", "blvd", "rd", "hwy", "al", "ca", "cf", "op", "cit", "ibid", "pp", "ed", "eds",
    "nr", "bzw", "usw", "ggf", "z", "vgl", "sr", "sra", "srta", "dra", "av",
];

/// Closing punctuation that may follow the terminator: `."`, `.)`, `!’`.
fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '’' | '”' | '»' | '“')
}

fn is_opener(c: char) -> bool {
    matches!(c, '"' | '\'' | '(' | '[' | '‘' | '“' | '«' | '¿' | '¡' | '`')
}

/// The word that ends at byte `end` (exclusive), without leading punctuation.
fn word_before(s: &str, end: usize) -> &str {
    let start = s[..end]
        .rfind(|c: char| c.is_whitespace() || is_opener(c))
        .map_or(0, |i| i + s[i..].chars().next().map_or(1, char::len_utf8));
    &s[start..end]
}

fn is_abbreviation(word: &str) -> bool {
    let w = word.trim_end_matches('.');
    if w.is_empty() {
        return false;
    }
    // Initials ("J.") and dotted forms ("U.S", "e.g", "a.m").
    if w.chars().count() == 1 && w.chars().all(char::is_alphabetic) {
        return true;
    }
    if w.contains('.')
        && w.split('.').all(|p| p.chars().count() <= 2 && p.chars().all(char::is_alphabetic))
    {
        return true;
    }
    ABBREVIATIONS.contains(&w.to_lowercase().as_str())
}

/// Splits one paragraph; line breaks are handled by the caller.
fn split_paragraph(p: &str, out: &mut Vec<String>) {
    let chars: Vec<(usize, char)> = p.char_indices().collect();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if !matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？') {
            i += 1;
            continue;
        }
        // Take the whole run of terminators and closers: `?!`, `..."`.
        let mut j = i + 1;
        while j < chars.len()
            && (matches!(chars[j].1, '.' | '!' | '?' | '…') || is_closer(chars[j].1))
        {
            j += 1;
        }
        let end = chars.get(j).map_or(p.len(), |x| x.0);
        let cjk = matches!(c, '。' | '！' | '？');
        let at_end = j >= chars.len();
        let space_after = chars.get(j).is_some_and(|x| x.1.is_whitespace());
        if !cjk && !at_end && !space_after {
            // "3.5", "U.S.-led", "example.com"
            i = j;
            continue;
        }
        let mut k = j;
        while k < chars.len() && chars[k].1.is_whitespace() {
            k += 1;
        }
        let next = chars.get(k).map(|x| x.1);
        let next_starts = next.is_none_or(|n| {
            n.is_uppercase() || n.is_numeric() || is_opener(n) || !n.is_alphabetic() || cjk
        });
        let run = &p[pos..end];
        let single_period = run.trim_end_matches(is_closer) == ".";
        let abbrev = single_period && is_abbreviation(word_before(p, pos));
        // An ellipsis before a lowercase word trails off mid-sentence.
        if next_starts && !abbrev {
            let s = p[start..end].trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            start = end;
        }
        i = j;
    }
    let rest = p[start..].trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
}

/// Sentences of `text` in order. Line breaks always end a sentence: extracted
/// text has one paragraph (or heading, or list item) per line, and headings
/// carry no final period.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if !line.is_empty() {
            split_paragraph(line, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_sentences(s)
    }

    #[test]
    fn abbreviations_titles_and_initials() {
        let s = split(
            "Mr. Smith met Dr. Jones in the U.S. on Monday. They talked. J. K. Rowling was not there.",
        );
        assert_eq!(
            s,
            vec![
                "Mr. Smith met Dr. Jones in the U.S. on Monday.",
                "They talked.",
                "J. K. Rowling was not there."
            ]
        );
    }

    #[test]
    fn decimals_urls_and_ellipses() {
        let s = split(
            "Growth was 3.5 percent, see example.com for more... or not. Then what? Nothing!",
        );
        assert_eq!(
            s,
            vec![
                "Growth was 3.5 percent, see example.com for more... or not.",
                "Then what?",
                "Nothing!"
            ]
        );
    }

    #[test]
    fn quotes_close_sentences() {
        let s = split("\"We will win.\" She left. He asked, 'Why?' Nobody knew.");
        assert_eq!(s, vec!["\"We will win.\"", "She left.", "He asked, 'Why?'", "Nobody knew."]);
        let s = split("“It’s over,” he said. “Really.” Then silence.");
        assert_eq!(s, vec!["“It’s over,” he said.", "“Really.”", "Then silence."]);
    }

    #[test]
    fn lines_are_boundaries_and_empty_is_empty() {
        assert!(split("").is_empty());
        assert!(split("  \n\n ").is_empty());
        assert_eq!(
            split("Heading\nBody text here. More."),
            vec!["Heading", "Body text here.", "More."]
        );
        assert_eq!(split("no terminator at all"), vec!["no terminator at all"]);
    }

    #[test]
    fn lowercase_continuation_is_not_a_split() {
        assert_eq!(
            split("the u.s. army said so. it was late."),
            vec!["the u.s. army said so. it was late."]
        );
        assert_eq!(
            split("Prices rose 2.5%. Sales fell."),
            vec!["Prices rose 2.5%.", "Sales fell."]
        );
    }

    #[test]
    fn cjk_terminators() {
        assert_eq!(split("今日は晴れ。明日は雨。"), vec!["今日は晴れ。", "明日は雨。"]);
    }
}
