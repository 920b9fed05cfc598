//! `unsubscribe FEED`: stop posting a feed in this channel (channel managers).

use super::super::lex::{Lexer, one_feed};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{FEED, Family, Form, Invocation};

const USAGE: &str = "unsubscribe FEED";

pub const FAMILY: Family = Family {
    word: "unsubscribe",
    group: None,
    forms: &[Form {
        name: "unsubscribe",
        usage: USAGE,
        summary: "stop posting a feed here",
        description: "Stop posting a feed in this channel",
        role: Role::ChannelManager,
        options: &[FEED.required()],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    Ok(Command::Unsubscribe { feed: one_feed(lexer.rest_tokens()?, USAGE)? })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Unsubscribe { feed: o.feed()? })
}
