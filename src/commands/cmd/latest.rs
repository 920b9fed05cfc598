//! `latest [FEED] [N]`: the newest articles (everyone).

use super::super::lex::{Lexer, Token, echo, feed_ref, parse_bounded, unexpected};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{FEED, Family, Form, Invocation, OptSpec};

/// `latest` without N.
pub const DEFAULT_LATEST: u32 = 5;
/// Upper bound for `latest N`, to keep one reply within chat message limits.
pub const MAX_LATEST: u32 = 20;

const USAGE: &str = "latest [FEED] [N]";

pub const FAMILY: Family = Family {
    word: "latest",
    group: None,
    forms: &[Form {
        name: "latest",
        usage: USAGE,
        summary: "newest articles, from one feed or all (a lone number is N; write a feed id as #12)",
        description: "The newest articles, from one feed or all",
        role: Role::Member,
        options: &[FEED, OptSpec::integer("count", "How many").range(1, Some(MAX_LATEST as i64))],
    }],
    parse,
    from_options,
};

/// `latest 5` means five articles from all feeds; a feed with id 5 is
/// `latest #5`. Counts are asked for far more often than numeric feed ids.
fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let tokens = lexer.rest_tokens()?;
    let count_of = |t: &Token| {
        parse_bounded(&t.text, 1, MAX_LATEST).ok_or_else(|| ParseError::Invalid {
            problem: format!("N must be 1-{MAX_LATEST}, got \"{}\"", echo(&t.text)),
            usage,
        })
    };
    let is_number = |t: &Token| !t.quoted && t.text.bytes().all(|b| b.is_ascii_digit());
    match tokens.as_slice() {
        [] => Ok(Command::Latest { feed: None, count: DEFAULT_LATEST }),
        [only] if is_number(only) => Ok(Command::Latest { feed: None, count: count_of(only)? }),
        [feed] => Ok(Command::Latest { feed: Some(feed_ref(feed, usage)?), count: DEFAULT_LATEST }),
        [feed, count] => {
            Ok(Command::Latest { feed: Some(feed_ref(feed, usage)?), count: count_of(count)? })
        }
        [_, _, extra, ..] => Err(unexpected(extra, usage)),
    }
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Latest {
        feed: o.optional_feed(),
        count: o
            .int("count")
            .map(|c| c.clamp(1, i64::from(MAX_LATEST)) as u32)
            .unwrap_or(DEFAULT_LATEST),
    })
}
