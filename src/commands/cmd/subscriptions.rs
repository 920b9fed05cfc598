//! `subscriptions`: this channel's feeds, filters and digest schedule (channel managers).

use super::super::lex::{Lexer, no_args};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Family, Form, Invocation};

const USAGE: &str = "subscriptions";

pub const FAMILY: Family = Family {
    word: "subscriptions",
    group: None,
    forms: &[Form {
        name: "subscriptions",
        usage: USAGE,
        summary: "list this channel's feeds",
        description: "This channel's feeds, filters and digest schedule",
        role: Role::ChannelManager,
        options: &[],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    no_args(lexer.rest_tokens()?, USAGE)?;
    Ok(Command::Subscriptions)
}

fn from_options(_: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Subscriptions)
}
