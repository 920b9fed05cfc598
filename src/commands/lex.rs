//! The lexer and option splitter every text command shares, and the small helpers the
//! grammars of `cmd/` are built from.
//!
//! Syntax: whitespace-separated words; double quotes (also “curly” ones, as phone
//! keyboards type them) group words, with `\"` and `\\` escapes inside. Options are
//! `--name value` or `--name=value`; a quoted token is never an option, so `"--weird"` can
//! be a search word.

use std::time::Duration;

use super::parse::{FeedRef, ParseError};
pub(crate) use crate::domain::schedule::echo;

pub(crate) fn one_feed(tokens: Vec<Token>, usage: &'static str) -> Result<FeedRef, ParseError> {
    let mut tokens = tokens.into_iter();
    let Some(feed) = tokens.next() else {
        return Err(ParseError::Missing { what: "FEED", usage });
    };
    if let Some(extra) = tokens.next() {
        return Err(unexpected(&extra, usage));
    }
    feed_ref(&feed, usage)
}

pub(crate) fn feed_ref(token: &Token, usage: &'static str) -> Result<FeedRef, ParseError> {
    FeedRef::parse(&token.text).ok_or(ParseError::Missing { what: "FEED", usage })
}

pub(crate) fn no_args(tokens: Vec<Token>, usage: &'static str) -> Result<(), ParseError> {
    match tokens.first() {
        None => Ok(()),
        Some(extra) => Err(unexpected(extra, usage)),
    }
}

pub(crate) fn unexpected(token: &Token, usage: &'static str) -> ParseError {
    ParseError::Unexpected { token: echo(&token.text), usage }
}

/// Nearest candidate by edit distance (transpositions count once, as in
/// "serach"), or the only candidate that `word` is a prefix of.
pub(crate) fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let len = word.chars().count();
    if len == 0 || len > 32 {
        return None;
    }
    let limit = if len <= 4 { 1 } else { 2 };
    let by_distance = candidates
        .iter()
        .map(|c| (strsim::osa_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| *c);
    if by_distance.is_some() {
        return by_distance;
    }
    let mut prefixed = candidates.iter().filter(|c| len >= 3 && c.starts_with(word));
    match (prefixed.next(), prefixed.next()) {
        (Some(only), None) => Some(*only),
        _ => None,
    }
}

pub(crate) fn is_http_url(text: &str) -> bool {
    let Some(rest) = strip_prefix_ci(text, "https://").or_else(|| strip_prefix_ci(text, "http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !host.starts_with(':')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(crate) fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { text.get(prefix.len()..) } else { None }
}

pub(crate) fn strip_angle_brackets(text: &str) -> &str {
    text.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(text)
}

/// Chat users paste files inside ``` fences; the fence is not part of the OPML.
pub(crate) fn strip_code_fence(text: &str) -> &str {
    let Some(inner) = text.strip_prefix("```") else {
        return text;
    };
    let inner = inner.strip_suffix("```").unwrap_or(inner);
    // Drop a language tag such as ```xml on the opening line.
    match inner.split_once('\n') {
        Some((tag, body)) if !tag.trim().is_empty() && !tag.contains('<') => body.trim(),
        _ => inner.trim(),
    }
}

pub(crate) fn parse_id(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

pub(crate) fn parse_bounded(text: &str, min: u32, max: u32) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (min..=max).contains(n))
}

/// "90s", "30m", "1h30m", "7d", "2w" (case-insensitive); `None` on anything
/// else, including overflow.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    // A bare number is ambiguous in a command (seconds? minutes?): it needs a unit.
    if text.is_empty() || text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    crate::domain::units::parse_duration(text).ok()
}

/// A flag's value: `None` when absent; `--NAME` alone is on, `--NAME=off` (no, false)
/// is off.
pub(crate) fn flag(
    options: &Options,
    name: &str,
    usage: &'static str,
) -> Result<Option<bool>, ParseError> {
    let Some((_, values)) = options.0.iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    match values.first().map(|t| t.text.trim().to_lowercase()).as_deref() {
        None | Some("on" | "yes" | "true") => Ok(Some(true)),
        Some("off" | "no" | "false") => Ok(Some(false)),
        Some(other) => Err(ParseError::Invalid {
            problem: format!("--{name} is on or off, not \"{}\"", echo(other)),
            usage,
        }),
    }
}

/// Filter words from every `--NAME` occurrence: unquoted tokens split on
/// commas, quoted tokens kept whole; duplicates (ignoring case) dropped.
pub(crate) fn words(
    options: &Options,
    name: &str,
    usage: &'static str,
) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for (_, values) in options.0.iter().filter(|(n, _)| *n == name) {
        let mut found = false;
        for token in values {
            let pieces: Vec<String> = if token.quoted {
                vec![token.text.trim().to_string()]
            } else {
                crate::domain::filter::split_terms(&token.text)
            };
            for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
                found = true;
                if !out.iter().any(|w| w.to_lowercase() == piece.to_lowercase()) {
                    out.push(piece);
                }
            }
        }
        if !found {
            return Err(ParseError::Invalid {
                problem: format!("--{name} needs at least one word"),
                usage,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- lexing

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) text: String,
    /// Any part was quoted: never an option, never split on commas.
    pub(crate) quoted: bool,
}

/// Yields tokens on demand so `feeds import` can take the raw remainder.
pub struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

pub(crate) fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}')
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(input: &'a str) -> Self {
        Lexer { input, pos: 0 }
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let mut text = String::new();
        let mut quoted = false;
        let mut in_quote = false;
        let mut chars = trimmed.char_indices().peekable();
        let mut end = trimmed.len();
        while let Some((i, c)) = chars.next() {
            if in_quote {
                if is_quote(c) {
                    in_quote = false;
                } else if c == '\\'
                    && let Some(&(_, next)) = chars.peek()
                    && (is_quote(next) || next == '\\')
                {
                    text.push(next);
                    chars.next();
                } else {
                    text.push(c);
                }
            } else if c.is_whitespace() {
                end = i;
                break;
            } else if is_quote(c) {
                in_quote = true;
                quoted = true;
            } else {
                text.push(c);
            }
        }
        if in_quote {
            return Err(ParseError::UnterminatedQuote);
        }
        self.pos += end;
        Ok(Some(Token { text, quoted }))
    }

    pub(crate) fn rest_tokens(&mut self) -> Result<Vec<Token>, ParseError> {
        let mut out = Vec::new();
        while let Some(t) = self.next_token()? {
            out.push(t);
        }
        Ok(out)
    }
}

// --------------------------------------------------------------- options

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arity {
    /// Exactly one value; may appear once.
    One,
    /// Values until the next option; may repeat.
    Many,
    /// No value (`--notify`), or one written inline (`--notify=off`); may appear once.
    Flag,
}

pub(crate) struct Options(pub(crate) Vec<(&'static str, Vec<Token>)>);

impl Options {
    pub(crate) fn one(&self, name: &str) -> Option<Token> {
        self.0.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.first().cloned())
    }
}

pub(crate) struct Args {
    pub(crate) positional: Vec<Token>,
    pub(crate) options: Options,
}

pub(crate) fn option_name(token: &Token) -> Option<&str> {
    if token.quoted {
        return None;
    }
    token.text.strip_prefix("--").filter(|n| !n.is_empty())
}

pub(crate) fn split_args(
    tokens: Vec<Token>,
    known: &[(&'static str, Arity)],
    usage: &'static str,
) -> Result<Args, ParseError> {
    let mut positional = Vec::new();
    let mut options: Vec<(&'static str, Vec<Token>)> = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let Some(raw) = option_name(&token) else {
            positional.push(token);
            continue;
        };
        let (name, inline) = match raw.split_once('=') {
            Some((n, v)) => (n.to_lowercase(), Some(v.to_string())),
            None => (raw.to_lowercase(), None),
        };
        let Some(&(name, arity)) = known.iter().find(|(n, _)| *n == name) else {
            return Err(ParseError::UnknownOption {
                option: echo(&format!("--{name}")),
                suggestion: closest(&name, &known.iter().map(|(n, _)| *n).collect::<Vec<_>>()),
                usage,
            });
        };
        let mut values = Vec::new();
        if let Some(v) = inline {
            values.push(Token { text: v, quoted: false });
        }
        match arity {
            Arity::One => {
                if options.iter().any(|(n, _)| *n == name) {
                    return Err(ParseError::Invalid {
                        problem: format!("--{name} given twice"),
                        usage,
                    });
                }
                if values.is_empty() {
                    match tokens.next_if(|t| option_name(t).is_none()) {
                        Some(v) => values.push(v),
                        None => {
                            return Err(ParseError::Invalid {
                                problem: format!("--{name} needs a value"),
                                usage,
                            });
                        }
                    }
                }
            }
            Arity::Flag => {
                if options.iter().any(|(n, _)| *n == name) {
                    return Err(ParseError::Invalid {
                        problem: format!("--{name} given twice"),
                        usage,
                    });
                }
            }
            Arity::Many => {
                while let Some(v) = tokens.next_if(|t| option_name(t).is_none()) {
                    values.push(v);
                }
                if values.is_empty() {
                    return Err(ParseError::Invalid {
                        problem: format!("--{name} needs at least one word"),
                        usage,
                    });
                }
            }
        }
        options.push((name, values));
    }
    Ok(Args { positional, options: Options(options) })
}
