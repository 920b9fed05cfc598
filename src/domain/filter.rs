//! Subscription filters: `--include` terms (any one must match) and `--exclude` terms
//! (none may match), each parsed once into a [`Term`]:
//!
//! - words or a phrase (`korea`, `north korea`): whole words, ignoring case and
//!   punctuation, in the title, summary or text;
//! - the same in one field: `title:korea`, `author:smith`, `category:sport` (any of the
//!   article's categories);
//! - a regular expression, `/pattern/` or `re:pattern`, also per field
//!   (`title:/^breaking/`); case is ignored unless the pattern says `(?-i)`.
//!
//! Regular expressions are bounded in size and time. The pattern is at most
//! [`MAX_PATTERN`] characters, and its compiled program and the lazy DFA's cache are
//! capped (`RegexBuilder::size_limit`, `dfa_size_limit`), so a counted or nested
//! repetition that would blow up is refused with an error rather than built. The regex
//! crate matches in time linear in the text (no backtracking), and a regular expression
//! only reads the first [`REGEX_HAYSTACK`] bytes of each field, so one match costs a
//! bounded time however hostile the pattern or the article.
//!
//! Stored filters are the terms as typed (JSON lists of strings): rows written before
//! terms existed hold plain words and mean what they meant (unless a word was written
//! like a term, `title:x` or `/x/`, which now is one). A stored term that no longer
//! parses (a limit tightened since) is matched as plain words, never dropped.

use std::cell::OnceCell;
use std::fmt;

use regex::{Regex, RegexBuilder};

/// The longest regular expression accepted, in characters.
pub const MAX_PATTERN: usize = 200;
/// The compiled program's bound (bytes): refuses `(a{1000}){1000}`, or a Unicode class
/// such as `\w` repeated a hundred times, and the like.
const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// The lazy DFA's cache (bytes); beyond it the regex crate falls back to its NFA
/// simulation, still linear in the text.
const REGEX_DFA_LIMIT: usize = 2 * 1024 * 1024;
const REGEX_NEST_LIMIT: u32 = 25;
/// How much of each field (bytes) a regular expression reads.
pub const REGEX_HAYSTACK: usize = 32 * 1024;
/// The most regular expressions one subscription's filter holds: the time per article
/// is bounded per expression, so their number is bounded too.
pub const MAX_REGEXES: usize = 10;

/// Where a term looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Title, summary and text.
    Any,
    Title,
    Author,
    Category,
}

#[derive(Debug, Clone)]
enum Pattern {
    /// Normalised words with a space at each end (see [`normalize`]).
    Words(String),
    Regex(Regex),
}

/// One filter term, as typed and as parsed.
#[derive(Debug, Clone)]
pub struct Term {
    field: Field,
    pattern: Pattern,
    source: String,
}

/// Why a term is not a filter. One line, naming the term.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("\"{term}\" has no words to look for")]
    Empty { term: String },
    #[error("the regular expression \"{term}\" is longer than {MAX_PATTERN} characters")]
    TooLong { term: String },
    #[error(
        "the regular expression \"{term}\" is too large once compiled (nested or counted repetition); simplify it"
    )]
    TooBig { term: String },
    #[error("bad regular expression \"{term}\": {problem}")]
    BadRegex { term: String, problem: String },
    #[error("at most {MAX_REGEXES} regular expressions per subscription")]
    TooManyRegexes,
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

/// A term for an error message: whole when short, else its start.
fn shown(term: &str) -> String {
    const MAX: usize = 60;
    // Backticks would pair with the code span of the usage line after the error.
    let mut out: String = term
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '`' { '\'' } else { c })
        .take(MAX)
        .collect();
    if term.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// The regular expression's text, if `s` is written as one (`/…/` or `re:…`).
fn regex_body(s: &str) -> Option<&str> {
    if s.len() >= 2 && s.starts_with('/') && s.ends_with('/') {
        return Some(&s[1..s.len() - 1]);
    }
    s.get(..3).filter(|p| p.eq_ignore_ascii_case("re:")).map(|_| &s[3..])
}

impl Term {
    pub fn parse(text: &str) -> Result<Term, FilterError> {
        let source = text.trim();
        let (field, rest) = match source.split_once(':') {
            Some((f, rest)) => match f.trim().to_ascii_lowercase().as_str() {
                "title" => (Field::Title, rest.trim()),
                "author" => (Field::Author, rest.trim()),
                "category" => (Field::Category, rest.trim()),
                _ => (Field::Any, source),
            },
            None => (Field::Any, source),
        };
        let pattern = match regex_body(rest) {
            Some(body) => Pattern::Regex(compile(body, source)?),
            None => {
                let words = normalize(rest);
                if words.trim().is_empty() {
                    return Err(FilterError::Empty { term: shown(source) });
                }
                Pattern::Words(words)
            }
        };
        Ok(Term { field, pattern, source: source.to_string() })
    }

    /// A term read back from the store: as [`Term::parse`], or plain words if it no
    /// longer parses; `None` only when it has no words at all.
    fn stored(text: &str) -> Option<Term> {
        Term::parse(text).ok().or_else(|| {
            let words = normalize(text);
            (!words.trim().is_empty()).then(|| Term {
                field: Field::Any,
                pattern: Pattern::Words(words),
                source: text.trim().to_string(),
            })
        })
    }

    pub fn field(&self) -> Field {
        self.field
    }

    pub fn is_regex(&self) -> bool {
        matches!(self.pattern, Pattern::Regex(_))
    }

    fn matches(&self, a: &Haystack<'_>) -> bool {
        match &self.pattern {
            Pattern::Words(w) => match self.field {
                Field::Any => a.all().contains(w.as_str()),
                Field::Title => a.title().contains(w.as_str()),
                Field::Author => a.author().contains(w.as_str()),
                Field::Category => a.categories().iter().any(|c| c.contains(w.as_str())),
            },
            Pattern::Regex(r) => {
                let f = &a.fields;
                let hit = |s: &str| r.is_match(bounded(s));
                match self.field {
                    Field::Any => [f.title, f.summary, f.text].into_iter().any(hit),
                    Field::Title => hit(f.title),
                    Field::Author => hit(f.author),
                    Field::Category => f.categories.iter().any(|c| hit(c)),
                }
            }
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        self.source == other.source
    }
}

fn compile(body: &str, source: &str) -> Result<Regex, FilterError> {
    if body.chars().count() > MAX_PATTERN {
        return Err(FilterError::TooLong { term: shown(source) });
    }
    if body.is_empty() {
        return Err(FilterError::Empty { term: shown(source) });
    }
    RegexBuilder::new(body)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => FilterError::TooBig { term: shown(source) },
            regex::Error::Syntax(message) => {
                FilterError::BadRegex { term: shown(source), problem: syntax_problem(&message) }
            }
            other => FilterError::BadRegex { term: shown(source), problem: other.to_string() },
        })
}

/// The one-line reason in the regex crate's multi-line syntax error (the line after
/// `error:`), e.g. "unclosed group".
fn syntax_problem(message: &str) -> String {
    message
        .lines()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .unwrap_or_else(|| message.lines().last().unwrap_or("not a regular expression"))
        .trim()
        .to_string()
}

/// The first [`REGEX_HAYSTACK`] bytes of `s`, cut at a character boundary.
fn bounded(s: &str) -> &str {
    &s[..s.floor_char_boundary(REGEX_HAYSTACK)]
}

/// Comma-separated terms, trimmed, blanks dropped. A regular expression keeps its
/// commas (`/a{1,3}/`): a `/…/` term ends at a `/` followed by a comma or the end, and
/// a `re:` term runs to the end of the text.
pub fn split_terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.trim_start();
        let after_field = match start.split_once(':') {
            Some((f, r))
                if ["title", "author", "category"]
                    .contains(&f.trim().to_ascii_lowercase().as_str()) =>
            {
                r.trim_start()
            }
            _ => start,
        };
        let offset = start.len() - after_field.len();
        let end = if after_field.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:")) {
            start.len()
        } else if let Some(body) = after_field.strip_prefix('/') {
            // The closing slash: followed by optional spaces and a comma, or the end.
            let close = body.match_indices('/').map(|(i, _)| i).find(|&i| {
                let tail = body[i + 1..].trim_start();
                tail.is_empty() || tail.starts_with(',')
            });
            match close {
                Some(i) => offset + 1 + i + 1,
                None => start.find(',').unwrap_or(start.len()),
            }
        } else {
            start.find(',').unwrap_or(start.len())
        };
        let term = start[..end].trim();
        if !term.is_empty() {
            out.push(term.to_string());
        }
        rest = start[end..].trim_start().strip_prefix(',').unwrap_or(&start[end..]);
        if rest.len() == start.len() {
            break;
        }
    }
    out
}

/// A subscription's filter, parsed once and matched against many articles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    include: Vec<Term>,
    exclude: Vec<Term>,
}

impl Filter {
    /// Terms as a person typed them; the first bad one is the error.
    pub fn parse(include: &[String], exclude: &[String]) -> Result<Filter, FilterError> {
        let terms = |ts: &[String]| ts.iter().map(|t| Term::parse(t)).collect::<Result<_, _>>();
        let filter = Filter { include: terms(include)?, exclude: terms(exclude)? };
        let regexes = filter.include.iter().chain(&filter.exclude).filter(|t| t.is_regex()).count();
        if regexes > MAX_REGEXES {
            return Err(FilterError::TooManyRegexes);
        }
        Ok(filter)
    }

    /// Terms read back from the store (see [`Term::stored`]): never fails.
    pub fn from_stored(include: &[String], exclude: &[String]) -> Filter {
        let terms = |ts: &[String]| ts.iter().filter_map(|t| Term::stored(t)).collect();
        Filter { include: terms(include), exclude: terms(exclude) }
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether the article passes: some include term matches (or there is none) and
    /// no exclude term does.
    pub fn matches(&self, article: &Haystack<'_>) -> bool {
        (self.include.is_empty() || self.include.iter().any(|t| t.matches(article)))
            && !self.exclude.iter().any(|t| t.matches(article))
    }
}

/// The parts of an article a filter reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    pub title: &'a str,
    pub author: &'a str,
    pub categories: &'a [String],
    pub summary: &'a str,
    pub text: &'a str,
}

/// An article for filters, its normalised texts made once however many filters read it.
pub struct Haystack<'a> {
    fields: Fields<'a>,
    all: OnceCell<String>,
    title: OnceCell<String>,
    author: OnceCell<String>,
    categories: OnceCell<Vec<String>>,
}

impl<'a> Haystack<'a> {
    pub fn new(fields: Fields<'a>) -> Haystack<'a> {
        Haystack {
            fields,
            all: OnceCell::new(),
            title: OnceCell::new(),
            author: OnceCell::new(),
            categories: OnceCell::new(),
        }
    }

    fn all(&self) -> &str {
        self.all.get_or_init(|| {
            let f = &self.fields;
            normalize(&[f.title, f.summary, f.text].join(" \n "))
        })
    }

    fn title(&self) -> &str {
        self.title.get_or_init(|| normalize(self.fields.title))
    }

    fn author(&self) -> &str {
        self.author.get_or_init(|| normalize(self.fields.author))
    }

    fn categories(&self) -> &[String] {
        self.categories
            .get_or_init(|| self.fields.categories.iter().map(|c| normalize(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    fn f(inc: &[&str], exc: &[&str]) -> Filter {
        Filter::parse(&v(inc), &v(exc)).unwrap_or_else(|e| panic!("{inc:?} {exc:?}: {e}"))
    }

    /// An article with only a body.
    fn body(s: &str) -> Fields<'_> {
        Fields { text: s, ..Fields::default() }
    }

    fn passes(filter: &Filter, fields: Fields<'_>) -> bool {
        filter.matches(&Haystack::new(fields))
    }

    #[test]
    fn whole_words_and_phrases() {
        assert!(passes(&f(&[], &[]), body("anything")));
        assert!(passes(&f(&["korea"], &[]), body("Peace in KOREA, at last")));
        assert!(!passes(&f(&["korea"], &[]), body("Koreatown opens")));
        assert!(passes(&f(&["north korea"], &[]), body("Talks with North  Korea resume")));
        assert!(!passes(&f(&["north korea"], &[]), body("north of South Korea")));
        let sport = Fields { title: "title", summary: "a sport story", ..Fields::default() };
        assert!(!passes(&f(&[], &["sport"]), sport));
        assert!(!passes(&f(&["korea"], &["sport"]), body("Korea sport")));
        assert!(passes(&f(&["trade", "korea"], &["sport"]), body("trade deal")));
    }

    #[test]
    fn fields_look_only_at_their_field() {
        let cats = v(&["World news", "Sport"]);
        let a = Fields {
            title: "Korea talks resume",
            author: "Jane Smith",
            categories: &cats,
            summary: "The minister said trade matters.",
            text: "Long text about sport and trade.",
        };
        assert!(passes(&f(&["title:korea"], &[]), a));
        assert!(!passes(&f(&["title:trade"], &[]), a), "trade is only in the body");
        assert!(passes(&f(&["Author:smith"], &[]), a));
        assert!(!passes(&f(&["author:korea"], &[]), a));
        assert!(passes(&f(&["category:sport"], &[]), a));
        assert!(passes(&f(&["category:world news"], &[]), a));
        assert!(!passes(&f(&["category:trade"], &[]), a));
        assert!(!passes(&f(&["trade"], &["category:sport"]), a));
        assert!(passes(&f(&["trade"], &["title:sport"]), a));
        // An unknown prefix is just words.
        assert!(passes(&f(&["minister:said"], &[]), a));
    }

    #[test]
    fn regular_expressions() {
        let a = Fields {
            title: "BREAKING: Quake hits coast",
            text: "Magnitude 6.1 recorded at 04:12.",
            ..Fields::default()
        };
        assert!(passes(&f(&["/^breaking/"], &[]), a), "case ignored");
        assert!(!passes(&f(&["/(?-i)^breaking/"], &[]), a), "unless the pattern says so");
        assert!(passes(&f(&["re:magnitude [5-9]\\.\\d"], &[]), a));
        assert!(passes(&f(&["title:/quake|flood/"], &[]), a));
        assert!(!passes(&f(&["title:re:magnitude"], &[]), a), "magnitude is in the body");
        assert!(!passes(&f(&[], &["/\\d{2}:\\d{2}/"]), a));
        assert_eq!(Term::parse("TITLE:/x/").map(|t| t.field()), Ok(Field::Title));
        assert!(Term::parse("re:x").is_ok_and(|t| t.is_regex()));
        assert!(Term::parse("/x").is_ok_and(|t| !t.is_regex()), "one slash is a word");
    }

    #[test]
    fn bad_terms_are_named_with_what_is_wrong() {
        let err = |t: &str| Term::parse(t).map(|_| ()).expect_err("a bad term").to_string();
        assert_eq!(err("/(korea/"), "bad regular expression \"/(korea/\": unclosed group");
        assert_eq!(
            err("title:re:a{2,1}"),
            "bad regular expression \"title:re:a{2,1}\": invalid repetition count range, the start must be <= the end"
        );
        assert_eq!(err("//"), "\"//\" has no words to look for");
        assert_eq!(err("title:!!"), "\"title:!!\" has no words to look for");
        let long = format!("/{}/", "a".repeat(MAX_PATTERN + 1));
        assert!(err(&long).contains("longer than 200 characters"), "{}", err(&long));
        assert!(err(&long).chars().count() < 150, "the term is shortened: {}", err(&long));
        assert_eq!(
            err("/(a{1000}){1000}/"),
            "the regular expression \"/(a{1000}){1000}/\" is too large once compiled (nested or counted repetition); simplify it"
        );
        assert!(err(&format!("/{}a{}/", "(".repeat(30), ")".repeat(30))).contains("nest"));
        assert_eq!(err("/a`(/"), "bad regular expression \"/a'(/\": unclosed group");
        let many: Vec<String> = (0..=MAX_REGEXES).map(|i| format!("/x{i}/")).collect();
        assert_eq!(Filter::parse(&many, &[]), Err(FilterError::TooManyRegexes));
    }

    /// Patterns that make backtracking engines take exponential time, and ones that
    /// make a DFA's states blow up, against the largest text a regex reads: each
    /// finishes in bounded time.
    #[test]
    fn hostile_patterns_take_bounded_time() {
        let big = "a".repeat(200_000) + "!";
        let words = "word ".repeat(40_000);
        // Pseudo-random bits: a DFA for "a 1 twenty bits before the end" needs 2^20
        // states, so the lazy DFA's cache thrashes and the NFA simulation runs.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let bits: String = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if state & 1 == 1 { '1' } else { '0' }
            })
            .collect();
        let alternation =
            format!("/{}/", (0..40).map(|i| format!("w{i}x")).collect::<Vec<_>>().join("|"));
        let cats = Vec::new();
        let mut slowest = Duration::ZERO;
        for (pattern, hay) in [
            ("/(a+)+$/", big.as_str()),
            ("/(a|aa)*b/", big.as_str()),
            ("/(\\w+\\s?)*x$/", words.as_str()),
            ("/[01]*1[01]{20}$/", bits.as_str()),
            ("/1[01]{20}2/", bits.as_str()),
            ("/(?:[01]{1,9}1){1,9}2/", bits.as_str()),
            ("/(\\w+\\s?){1,8}zz/", words.as_str()),
            ("/(?-u:\\w{1,20}\\s){1,5}zz/", words.as_str()),
            ("/(\\w{1,20}\\s){1,5}zz/", words.as_str()),
            ("/\\w{1,60}x\\w{1,60}y/", words.as_str()),
            ("/.*.*.*.*.*.*=.*/", big.as_str()),
            (alternation.as_str(), words.as_str()),
        ] {
            let filter = match Filter::parse(&v(&[pattern]), &[]) {
                Ok(filter) => filter,
                // Refused before it could cost anything: as good as fast.
                Err(FilterError::TooBig { .. }) => continue,
                Err(e) => panic!("{pattern}: {e}"),
            };
            let a = Fields { title: hay, author: hay, categories: &cats, summary: hay, text: hay };
            let t = Instant::now();
            let _ = passes(&filter, a);
            slowest = slowest.max(t.elapsed());
            assert!(t.elapsed() < Duration::from_secs(2), "{pattern}: {:?}", t.elapsed());
        }
        eprintln!("slowest hostile regular expression over five 32 KB fields: {slowest:?}");
    }

    #[test]
    fn stored_terms_keep_their_meaning() {
        // Rows from before terms: plain words.
        let old = Filter::from_stored(&v(&["korea", "!!!"]), &v(&["sport"]));
        assert!(passes(&old, body("korea")));
        assert!(!passes(&old, body("korea sport")));
        // A term that no longer parses is matched as words, not dropped.
        let stale = Filter::from_stored(&v(&["re:(korea"]), &[]);
        assert!(passes(&stale, body("re: korea")));
        assert!(!passes(&stale, body("japan")));
    }

    #[test]
    fn terms_split_on_commas_but_regexes_keep_theirs() {
        assert_eq!(split_terms(" a, b ,,c "), v(&["a", "b", "c"]));
        assert_eq!(split_terms("/a{1,3}/, korea"), v(&["/a{1,3}/", "korea"]));
        assert_eq!(split_terms("title: /x,y/ ,b"), v(&["title: /x,y/", "b"]));
        assert_eq!(split_terms("korea, re:a{1,2},b"), v(&["korea", "re:a{1,2},b"]));
        assert_eq!(split_terms("/unclosed, b"), v(&["/unclosed", "b"]));
        assert_eq!(split_terms(""), Vec::<String>::new());
    }
}
