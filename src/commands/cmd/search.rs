//! `search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]` (everyone).

use super::super::lex::{Arity, Lexer, echo, feed_ref, parse_bounded, split_args};
use super::super::parse::{Command, ParseError, Role, Since};
use super::super::spec::{FEED, Family, Form, Invocation, OptSpec};

/// Upper bound for `search --page`, so an absurd page cannot become an absurd SQL OFFSET.
pub const MAX_PAGE: u32 = 1000;
/// Longest query a platform's search form takes: short enough that a paging button can
/// carry it back (Discord's custom ids hold 100 characters).
pub const QUERY_MAX: u16 = 80;

const USAGE: &str = "search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]";

pub const FAMILY: Family = Family {
    word: "search",
    group: None,
    forms: &[Form {
        name: "search",
        usage: USAGE,
        summary: "search articles",
        description: "Search the articles of this server's feeds",
        role: Role::Member,
        options: &[
            OptSpec::text("query", "Words; \"quoted phrases\" match exactly")
                .required()
                .max_len(QUERY_MAX),
            FEED,
            OptSpec::text("since", "7d, 24h, or a date (2026-11-01)").max_len(10),
            OptSpec::integer("page", "Result page").range(1, Some(MAX_PAGE as i64)),
        ],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let args = split_args(
        lexer.rest_tokens()?,
        &[("feed", Arity::One), ("since", Arity::One), ("page", Arity::One)],
        usage,
    )?;
    let query: Vec<String> = args
        .positional
        .iter()
        .filter(|t| !t.text.trim().is_empty())
        .map(|t| {
            if t.quoted && t.text.contains(char::is_whitespace) {
                format!("\"{}\"", t.text.trim().replace('"', ""))
            } else {
                t.text.clone()
            }
        })
        .collect();
    if query.is_empty() {
        return Err(ParseError::Missing { what: "QUERY", usage });
    }
    let feed = match args.options.one("feed") {
        Some(t) => Some(feed_ref(&t, usage)?),
        None => None,
    };
    let since = match args.options.one("since") {
        Some(t) => Some(Since::parse(&t.text).ok_or_else(|| ParseError::Invalid {
            problem: format!(
                "bad --since \"{}\": use a duration like 24h, 7d, 2w or a date like 2026-11-01",
                echo(&t.text)
            ),
            usage,
        })?),
        None => None,
    };
    let page = match args.options.one("page") {
        Some(t) => parse_bounded(&t.text, 1, MAX_PAGE).ok_or_else(|| ParseError::Invalid {
            problem: format!("bad --page \"{}\": use 1-{MAX_PAGE}", echo(&t.text)),
            usage,
        })?,
        None => 1,
    };
    Ok(Command::Search { query: query.join(" "), feed, since, page })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Search {
        query: o.required_str("query")?,
        feed: o.optional_feed(),
        since: match o.str("since") {
            None => None,
            Some(s) => Some(Since::parse(s).ok_or_else(|| {
                format!("since: \"{s}\" is not 7d, 24h or a date like 2026-11-01")
            })?),
        },
        page: o.int("page").map(|p| p.clamp(1, i64::from(MAX_PAGE)) as u32).unwrap_or(1),
    })
}
