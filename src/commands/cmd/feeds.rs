//! `feeds add|remove|pause|resume|list|import|export`: the feeds a community follows
//! (admins).

use std::time::Duration;

use super::super::lex::{
    Arity, Lexer, Token, closest, echo, is_http_url, no_args, one_feed, parse_duration, split_args,
    strip_angle_brackets, strip_code_fence, unexpected,
};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Choices, FEED, Family, Form, Group, Invocation, OptSpec};

/// Lowest accepted feed poll interval (the operator may set a higher one).
pub const MIN_INTERVAL: Duration = crate::config::POLL_INTERVAL_FLOOR;
/// Highest accepted feed poll interval.
pub const MAX_INTERVAL: Duration = crate::config::POLL_INTERVAL_CEILING;
/// Largest OPML upload taken (an export of a few thousand feeds is well under this).
pub const OPML_FILE_MAX: u64 = 2 * 1024 * 1024;

const USAGE: &str = "feeds add|remove|pause|resume|list|import|export";
const USAGE_FEEDS_ADD: &str = "feeds add URL [INTERVAL]";
const USAGE_FEEDS_REMOVE: &str = "feeds remove FEED";
const USAGE_FEEDS_PAUSE: &str = "feeds pause FEED";
const USAGE_FEEDS_RESUME: &str = "feeds resume FEED";
const USAGE_FEEDS_LIST: &str = "feeds list";
const USAGE_FEEDS_IMPORT: &str = "feeds import SOURCE";
const USAGE_FEEDS_EXPORT: &str = "feeds export";

const FEED_REQUIRED: OptSpec = FEED.required();

pub const FAMILY: Family = Family {
    word: "feeds",
    group: Some(Group { description: "Manage the feeds this server follows", usage: USAGE }),
    forms: &[
        Form {
            name: "feeds add",
            usage: USAGE_FEEDS_ADD,
            summary: "start following a feed, fetched every INTERVAL (e.g. 30m, 1h; at least 1m)",
            description: "Start following a feed (a site's address works too)",
            role: Role::Admin,
            options: &[
                OptSpec::text("url", "The feed's or site's URL").required().max_len(2048),
                OptSpec::text("interval", "How often to fetch it")
                    .choices(Choices::Fixed(&["5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d"])),
            ],
        },
        Form {
            name: "feeds remove",
            usage: USAGE_FEEDS_REMOVE,
            summary: "stop following a feed",
            description: "Stop following a feed",
            role: Role::Admin,
            options: &[FEED_REQUIRED],
        },
        Form {
            name: "feeds pause",
            usage: USAGE_FEEDS_PAUSE,
            summary: "stop fetching a feed for now",
            description: "Stop posting a feed for now",
            role: Role::Admin,
            options: &[FEED_REQUIRED],
        },
        Form {
            name: "feeds resume",
            usage: USAGE_FEEDS_RESUME,
            summary: "fetch a paused feed again",
            description: "Post a paused feed again",
            role: Role::Admin,
            options: &[FEED_REQUIRED],
        },
        Form {
            name: "feeds list",
            usage: USAGE_FEEDS_LIST,
            summary: "list all feeds",
            description: "The feeds this server follows, with their status",
            role: Role::Admin,
            options: &[],
        },
        Form {
            name: "feeds import",
            usage: USAGE_FEEDS_IMPORT,
            summary: "add feeds from OPML: a file path, a URL, or pasted OPML",
            description: "Add feeds from OPML: upload the file, or give its URL or text",
            role: Role::Admin,
            options: &[
                OptSpec::file("file", "An OPML file (exported from another reader)"),
                OptSpec::text("source", "The OPML file's URL, or pasted OPML").max_len(6000),
            ],
        },
        Form {
            name: "feeds export",
            usage: USAGE_FEEDS_EXPORT,
            summary: "export all feeds as OPML",
            description: "This server's feeds as OPML",
            role: Role::Admin,
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
        "add" => parse_feeds_add(lexer.rest_tokens()?),
        "remove" => {
            Ok(Command::FeedsRemove { feed: one_feed(lexer.rest_tokens()?, USAGE_FEEDS_REMOVE)? })
        }
        "pause" => {
            Ok(Command::FeedsPause { feed: one_feed(lexer.rest_tokens()?, USAGE_FEEDS_PAUSE)? })
        }
        "resume" => {
            Ok(Command::FeedsResume { feed: one_feed(lexer.rest_tokens()?, USAGE_FEEDS_RESUME)? })
        }
        "list" => {
            no_args(lexer.rest_tokens()?, USAGE_FEEDS_LIST)?;
            Ok(Command::FeedsList)
        }
        "export" => {
            no_args(lexer.rest_tokens()?, USAGE_FEEDS_EXPORT)?;
            Ok(Command::FeedsExport)
        }
        "import" => parse_feeds_import(lexer.rest()),
        _ => Err(ParseError::UnknownSubcommand {
            command: "feeds",
            word: echo(&sub.text),
            suggestion: closest(&word, &FAMILY.subwords()),
        }),
    }
}

fn parse_feeds_add(tokens: Vec<Token>) -> Result<Command, ParseError> {
    let usage = USAGE_FEEDS_ADD;
    let args = split_args(tokens, &[("interval", Arity::One)], usage)?;
    let mut positional = args.positional.into_iter();
    let Some(url) = positional.next() else {
        return Err(ParseError::Missing { what: "URL", usage });
    };
    let url_text = strip_angle_brackets(url.text.trim());
    if !is_http_url(url_text) {
        return Err(ParseError::Invalid {
            problem: format!(
                "\"{}\" is not a feed URL (it must start with http:// or https://)",
                echo(&url.text)
            ),
            usage,
        });
    }
    let interval_text = match (positional.next(), args.options.one("interval")) {
        (Some(_), Some(_)) => {
            return Err(ParseError::Invalid { problem: "interval given twice".to_string(), usage });
        }
        (Some(t), None) | (None, Some(t)) => Some(t.text),
        (None, None) => None,
    };
    if let Some(extra) = positional.next() {
        return Err(unexpected(&extra, usage));
    }
    let interval = match interval_text {
        None => None,
        Some(text) => Some(parse_interval(&text, usage)?),
    };
    Ok(Command::FeedsAdd { url: url_text.to_string(), interval })
}

fn parse_interval(text: &str, usage: &'static str) -> Result<Duration, ParseError> {
    let invalid = |problem: String| ParseError::Invalid { problem, usage };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "interval \"{}\" needs a unit, e.g. {}m",
            echo(text),
            echo(text)
        )));
    }
    let Some(d) = parse_duration(text) else {
        return Err(invalid(format!(
            "bad interval \"{}\": use a number and unit, e.g. 90s, 30m, 1h, 1h30m",
            echo(text)
        )));
    };
    if d < MIN_INTERVAL {
        return Err(invalid(format!("interval \"{}\" is too short: at least 1m", echo(text))));
    }
    if d > MAX_INTERVAL {
        return Err(invalid(format!("interval \"{}\" is too long: at most 7d", echo(text))));
    }
    Ok(d)
}

/// OPML pasted inline is full of quotes and spaces, so it is taken verbatim
/// from the raw text instead of being tokenized.
fn parse_feeds_import(rest: &str) -> Result<Command, ParseError> {
    let usage = USAGE_FEEDS_IMPORT;
    let rest = strip_code_fence(rest.trim());
    if rest.is_empty() {
        return Err(ParseError::Missing { what: "SOURCE", usage });
    }
    if rest.starts_with('<') && !is_http_url(strip_angle_brackets(rest)) {
        return Ok(Command::FeedsImport { source: rest.to_string() });
    }
    let mut tokens = Lexer::new(rest).rest_tokens()?.into_iter();
    let Some(source) = tokens.next() else {
        return Err(ParseError::Missing { what: "SOURCE", usage });
    };
    if let Some(extra) = tokens.next() {
        return Err(unexpected(&extra, usage));
    }
    Ok(Command::FeedsImport { source: strip_angle_brackets(&source.text).to_string() })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(match o.sub {
        Some("add") => {
            let url = o.required_str("url")?;
            let interval = match o.str("interval") {
                None => None,
                Some(v) => {
                    let d = crate::domain::units::parse_duration(v)
                        .map_err(|e| format!("interval: {e}"))?;
                    if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&d) {
                        return Err("interval: between 1m and 7d".into());
                    }
                    Some(d)
                }
            };
            Command::FeedsAdd { url, interval }
        }
        Some("remove") => Command::FeedsRemove { feed: o.feed()? },
        Some("pause") => Command::FeedsPause { feed: o.feed()? },
        Some("resume") => Command::FeedsResume { feed: o.feed()? },
        Some("list") => Command::FeedsList,
        Some("import") => Command::FeedsImport { source: import_source(o)? },
        Some("export") => Command::FeedsExport,
        other => return Err(super::unknown("feeds", other)),
    })
}

/// Where `feeds import` reads its OPML: an uploaded file (fetched through the same
/// guarded fetcher as feeds), else the `source` text or URL.
fn import_source(o: &Invocation<'_>) -> Result<String, String> {
    let Some(file) = o.file("file") else {
        return o
            .required_str("source")
            .map_err(|_| "upload the OPML file, or give its URL or text in `source`".into());
    };
    let Some(file) = file else {
        return Err("the uploaded file did not arrive; upload it again".into());
    };
    if file.size > OPML_FILE_MAX {
        return Err(format!(
            "{} is {} KB; OPML files up to {} KB are taken",
            file.filename,
            file.size / 1024,
            OPML_FILE_MAX / 1024
        ));
    }
    let name = file.filename.to_ascii_lowercase();
    let typed = file.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    let looks_like_opml = [".opml", ".xml", ".txt"].iter().any(|ext| name.ends_with(ext))
        || typed.contains("xml")
        || typed.contains("opml");
    if !looks_like_opml {
        return Err(format!("{} is not an OPML file (.opml or .xml)", file.filename));
    }
    Ok(file.url.clone())
}
