//! `digest schedule|now|preview`: this channel's digest (channel managers).

use super::super::lex::{Lexer, closest, echo, no_args};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Family, Form, Group, Invocation, OptSpec};
use crate::domain::schedule::Schedule;

const USAGE: &str = "digest schedule SPEC [TZ] | digest now | digest preview";
const USAGE_DIGEST_SCHEDULE: &str =
    "digest schedule hourly|daily HH:MM|weekdays HH:MM|weekly DAY HH:MM|every Nh|every Nm [TZ]";
const USAGE_DIGEST_NOW: &str = "digest now";
const USAGE_DIGEST_PREVIEW: &str = "digest preview";

pub const FAMILY: Family = Family {
    word: "digest",
    group: Some(Group { description: "This channel's digest", usage: USAGE }),
    forms: &[
        Form {
            name: "digest schedule",
            usage: USAGE_DIGEST_SCHEDULE,
            summary: "set when this channel's digest is posted",
            description: "Set when the digest is posted",
            role: Role::ChannelManager,
            options: &[
                OptSpec::text(
                    "when",
                    "hourly, daily 08:00, weekdays 09:00, weekly mon 08:00, every 6h",
                )
                .required()
                .max_len(40),
                OptSpec::text("timezone", "An IANA time zone, e.g. Europe/Paris")
                    .autocomplete()
                    .max_len(64),
            ],
        },
        Form {
            name: "digest now",
            usage: USAGE_DIGEST_NOW,
            summary: "post the digest now",
            description: "Post the digest now",
            role: Role::ChannelManager,
            options: &[],
        },
        Form {
            name: "digest preview",
            usage: USAGE_DIGEST_PREVIEW,
            summary: "show the next digest without posting it",
            description: "Show the next digest without posting it",
            role: Role::ChannelManager,
            options: &[],
        },
    ],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let Some(sub) = lexer.next_token()? else {
        return Err(ParseError::Missing { what: "subcommand", usage: USAGE });
    };
    let word = sub.text.to_lowercase();
    match word.as_str() {
        "schedule" => {
            let mut tokens = lexer.rest_tokens()?;
            if tokens.is_empty() {
                return Err(ParseError::Missing { what: "schedule", usage: USAGE_DIGEST_SCHEDULE });
            }
            let tz = match tokens.last() {
                Some(last)
                    if tokens.len() > 1
                        && (last.text.contains('/') || last.text.eq_ignore_ascii_case("utc")) =>
                {
                    tokens.pop().map(|t| t.text)
                }
                _ => None,
            };
            let spec: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
            let schedule = Schedule::parse(&spec.join(" "), tz.as_deref())?;
            Ok(Command::DigestSchedule { schedule })
        }
        "now" => {
            no_args(lexer.rest_tokens()?, USAGE_DIGEST_NOW)?;
            Ok(Command::DigestNow)
        }
        "preview" => {
            no_args(lexer.rest_tokens()?, USAGE_DIGEST_PREVIEW)?;
            Ok(Command::DigestPreview)
        }
        _ => Err(ParseError::UnknownSubcommand {
            command: "digest",
            word: echo(&sub.text),
            suggestion: closest(&word, &FAMILY.subwords()),
        }),
    }
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(match o.sub {
        Some("schedule") => {
            let when = o.required_str("when")?;
            let schedule = Schedule::parse(&when, o.str("timezone")).map_err(|e| e.to_string())?;
            Command::DigestSchedule { schedule }
        }
        Some("now") => Command::DigestNow,
        Some("preview") => Command::DigestPreview,
        other => return Err(super::unknown("digest", other)),
    })
}
