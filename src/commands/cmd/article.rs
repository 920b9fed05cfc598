//! `article ID`: one article in full (everyone).

use super::super::lex::{Lexer, echo, parse_id, unexpected};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Family, Form, Invocation, OptSpec};

const USAGE: &str = "article ID";

pub const FAMILY: Family = Family {
    word: "article",
    group: None,
    forms: &[Form {
        name: "article",
        usage: USAGE,
        summary: "show one article",
        description: "Show one article",
        role: Role::Member,
        options: &[OptSpec::integer("id", "The article's number (from search or latest)")
            .required()
            .range(1, None)],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let mut tokens = lexer.rest_tokens()?.into_iter();
    let Some(id) = tokens.next() else {
        return Err(ParseError::Missing { what: "ID", usage });
    };
    if let Some(extra) = tokens.next() {
        return Err(unexpected(&extra, usage));
    }
    let id = parse_id(&id.text).ok_or_else(|| ParseError::Invalid {
        problem: format!("article ID must be a number, got \"{}\"", echo(&id.text)),
        usage,
    })?;
    Ok(Command::Article { id })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Article { id: o.int("id").ok_or_else(|| "missing the article id".to_string())? })
}
