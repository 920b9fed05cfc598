//! `help [COMMAND]` (everyone); the text itself is generated from the families.

use super::super::lex::{Lexer, closest, echo};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Choices, Family, Form, Invocation, OptSpec};

const USAGE_HELP: &str = "help [COMMAND]";

pub const FAMILY: Family = Family {
    word: "help",
    group: None,
    forms: &[Form {
        name: "help",
        usage: USAGE_HELP,
        summary: "list commands, or explain one",
        description: "What herald can do",
        role: Role::Member,
        options: &[OptSpec::text("command", "Explain one command").choices(Choices::HelpTopics)],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let tokens = lexer.rest_tokens()?;
    let words: Vec<String> = tokens
        .iter()
        .map(|t| t.text.trim().trim_start_matches('/').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let (first, sub, extra) = match words.as_slice() {
        [] => return Ok(Command::Help { topic: None }),
        [first] => (first, None, None),
        [first, sub] => (first, Some(sub), None),
        [first, sub, extra, ..] => (first, Some(sub), Some(extra)),
    };
    let Some(family) = super::family(first) else {
        return Err(ParseError::UnknownCommand {
            word: echo(first),
            suggestion: super::suggest_command(first),
        });
    };
    let subwords = family.subwords();
    let group = if family.group.is_some() { family.word } else { "" };
    let unexpected_word = |w: &String| ParseError::Unexpected { token: echo(w), usage: USAGE_HELP };
    match (sub, extra) {
        (None, _) => Ok(Command::Help { topic: Some(first.clone()) }),
        (Some(sub), _) if group.is_empty() => Err(unexpected_word(sub)),
        (Some(sub), _) if !subwords.contains(&sub.as_str()) => Err(ParseError::UnknownSubcommand {
            command: group,
            word: echo(sub),
            suggestion: closest(sub, &subwords),
        }),
        (Some(_), Some(extra)) => Err(unexpected_word(extra)),
        (Some(sub), None) => Ok(Command::Help { topic: Some(format!("{group} {sub}")) }),
    }
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Help { topic: o.str("command").map(str::to_string) })
}

// ---------------------------------------------------------------- apply

use super::super::parse;
use crate::reply::Reply;

pub(crate) fn help(topic: Option<&str>) -> Reply {
    let text = match topic.and_then(parse::help_topic) {
        Some(t) => t,
        None => parse::help_text(),
    };
    Reply::info(text).with_title("herald commands")
}
