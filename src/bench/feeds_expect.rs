//! feedparser's `Expect:` lines, evaluated on herald's reading where they can be.
//!
//! An Expect line is a Python expression over feedparser's result. Those that are `and`s of
//! comparisons of fields herald has (`feed['title']`, `feed['link']`, an entry's `title`,
//! `link`, `id`, `author`, its `published_parsed`/`updated_parsed`, `len(entries)`) with a
//! literal are "mappable"; `not bozo` clauses are ignored (herald has no bozo bit), and any
//! other clause makes the line unmappable. Titles are compared as text (markup stripped,
//! entities decoded, whitespace collapsed), as herald turns titles into text; so is an
//! entry's `description`/`summary`/`content` with herald's one body (content, else
//! summary), since feedparser's is sanitized HTML and herald sanitizes later, to text.

use std::path::Path;

use chrono::{Datelike, Timelike};

use super::feeds::{Outcome, normalize};
use crate::ingest::parse::ParsedFeed;

#[derive(Debug, Default)]
pub struct ExpectScore {
    pub total: usize,
    pub mapped: usize,
    pub held: usize,
    pub misses: Vec<String>,
}

impl ExpectScore {
    pub fn percent(&self) -> f64 {
        if self.mapped == 0 { 100.0 } else { 100.0 * self.held as f64 / self.mapped as f64 }
    }
}

/// A Python literal herald can compare with.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i64),
    Tuple(Vec<i64>),
}

/// The `Expect:` expression of a test file.
pub fn expect_of(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
    let comment = head.split("-->").next()?;
    let line = comment.lines().find_map(|l| l.trim().strip_prefix("Expect:"))?;
    Some(line.trim().to_string())
}

/// Splits on top-level ` and ` (outside string literals).
fn clauses(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if bytes[i..].starts_with(b" and ") => {
                out.push(expr[start..i].trim());
                start = i + 5;
                i += 4;
            }
            None => {}
        }
        i += 1;
    }
    out.push(expr[start..].trim());
    out
}

fn parse_lit(s: &str) -> Option<Lit> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let nums: Option<Vec<i64>> = inner
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().ok())
            .collect();
        return nums.map(Lit::Tuple);
    }
    if let Ok(n) = s.parse() {
        return Some(Lit::Int(n));
    }
    let s = s.strip_prefix('u').unwrap_or(s);
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = s.strip_prefix(q)?.strip_suffix(q)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let hex = |n: usize, chars: &mut std::str::Chars| -> Option<char> {
            let h: String = chars.take(n).collect();
            char::from_u32(u32::from_str_radix(&h, 16).ok()?)
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'x' => out.push(hex(2, &mut chars)?),
            'u' => out.push(hex(4, &mut chars)?),
            'U' => out.push(hex(8, &mut chars)?),
            other => out.push(other),
        }
    }
    Some(Lit::Str(out))
}

/// herald's value for a feedparser field path, or None if herald has no such field.
fn herald_value(path: &str, feed: Option<&ParsedFeed>) -> Option<Option<Lit>> {
    let text = |s: Option<&str>| s.map(|s| Lit::Str(s.to_string()));
    if path == "len(entries)" {
        return Some(Some(Lit::Int(feed.map_or(0, |f| f.entries.len()) as i64)));
    }
    match path {
        "feed['title']" => return Some(text(feed.and_then(|f| f.title.as_deref()))),
        "feed['link']" => return Some(text(feed.and_then(|f| f.site_url.as_deref()))),
        _ => {}
    }
    let rest = path.strip_prefix("entries[0]")?;
    let e = feed.and_then(|f| f.entries.first());
    let v = match rest {
        "['title']" => text(e.and_then(|e| e.title.as_deref())),
        "['link']" => text(e.and_then(|e| e.link.as_deref())),
        "['id']" => text(e.and_then(|e| e.id.as_deref())),
        "['author']" | "['author_detail']['name']" => text(e.and_then(|e| e.author.as_deref())),
        // herald keeps one body per entry (its content, else its summary), as HTML.
        "['description']" | "['summary']" | "['content'][0]['value']" => {
            text(e.and_then(|e| e.content_html.as_deref()))
        }
        "['published_parsed']" | "['updated_parsed']" => e.and_then(|e| e.published).map(|d| {
            Lit::Tuple(vec![
                i64::from(d.year()),
                i64::from(d.month()),
                i64::from(d.day()),
                i64::from(d.hour()),
                i64::from(d.minute()),
                i64::from(d.second()),
            ])
        }),
        _ => return None,
    };
    Some(v)
}

/// Whether herald's value matches the literal (titles and text as normalized text, dates
/// on their first six fields).
fn matches(path: &str, ours: &Option<Lit>, want: &Lit) -> bool {
    match (ours, want) {
        (a, Lit::Str(b)) if path.ends_with("['title']") || is_body(path) => {
            let a = match a {
                Some(Lit::Str(a)) => Some(a.as_str()),
                _ => None,
            };
            let collapsed = a
                .map(|a| a.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|s| !s.is_empty());
            collapsed == normalize(Some(b)) || normalize(a) == normalize(Some(b))
        }
        (Some(Lit::Str(a)), Lit::Str(b)) => a.trim() == b.trim(),
        (None, Lit::Str(b)) => b.is_empty(),
        (Some(Lit::Tuple(a)), Lit::Tuple(b)) => b.len() >= 6 && a[..] == b[..6],
        (Some(a), b) => a == b,
        (None, _) => false,
    }
}

fn is_body(path: &str) -> bool {
    path.ends_with("['description']")
        || path.ends_with("['summary']")
        || path.ends_with("['value']")
}

/// Evaluates the Expect lines of every file `outcomes` covers.
pub fn evaluate(data: &Path, outcomes: &[Outcome]) -> ExpectScore {
    let mut score = ExpectScore::default();
    for o in outcomes {
        let Ok(bytes) = std::fs::read(data.join(&o.rel)) else { continue };
        let Some(expr) = expect_of(&bytes) else { continue };
        score.total += 1;
        let feed = match &o.result {
            Ok(Ok(f)) => Some(f),
            _ => None,
        };
        let mut mapped = true;
        let mut held = true;
        let mut any = false;
        for clause in clauses(&expr) {
            if clause == "not bozo" {
                continue;
            }
            let Some((lhs, rhs)) = clause.split_once(" == ") else {
                mapped = false;
                break;
            };
            let (Some(ours), Some(want)) = (herald_value(lhs.trim(), feed), parse_lit(rhs)) else {
                mapped = false;
                break;
            };
            any = true;
            if !matches(lhs.trim(), &ours, &want) {
                held = false;
            }
        }
        if !(mapped && any) {
            continue;
        }
        score.mapped += 1;
        if held {
            score.held += 1;
        } else {
            score.misses.push(format!("{}: Expect {expr}", o.rel));
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_clauses() {
        assert_eq!(
            clauses("not bozo and feed['title'] == 'a and b'"),
            vec!["not bozo", "feed['title'] == 'a and b'"]
        );
        assert_eq!(parse_lit("u'caf\\xe9 \\u2019\\''"), Some(Lit::Str("café ’'".into())));
        assert_eq!(
            parse_lit("(2004, 1, 2, 3, 4, 5, 4, 2, 0)"),
            Some(Lit::Tuple(vec![2004, 1, 2, 3, 4, 5, 4, 2, 0]))
        );
        assert_eq!(parse_lit("3"), Some(Lit::Int(3)));
        assert!(!matches("feed['title']", &Some(Lit::Str("A".into())), &Lit::Str("B".into())));
        assert!(matches(
            "feed['title']",
            &Some(Lit::Str("A b".into())),
            &Lit::Str("<b>A</b>  b".into())
        ));
    }
}
