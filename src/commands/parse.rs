//! The text command grammar shared by every chat platform.
//!
//! Console (`/search korea`) and Matrix (`!herald search korea`, prefix
//! stripped by the adapter) feed text to [`parse`]; Discord builds the same
//! [`Command`] from slash-command options. Handlers therefore only ever see
//! typed values, and every user-facing error is produced here, once.
//!
//! Syntax: whitespace-separated words; double quotes (also “curly” ones, as
//! phone keyboards type them) group words, with `\"` and `\\` escapes inside.
//! Options are `--name value` or `--name=value`; a quoted token is never an
//! option, so `"--weird"` can be a search word.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::schedule::{Schedule, ScheduleError};

/// Lowest accepted feed poll interval; faster polling is rude to publishers.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);
/// Highest accepted feed poll interval; beyond a week a feed is effectively dead.
pub const MAX_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);
/// `latest` without N.
pub const DEFAULT_LATEST: u32 = 5;
/// Upper bound for `latest N`, to keep one reply within chat message limits.
pub const MAX_LATEST: u32 = 20;
/// Upper bound for `search --page`, so an absurd page cannot become an
/// absurd SQL OFFSET.
pub const MAX_PAGE: u32 = 1000;
/// Upper bound for `--since 3650d`, which keeps the cutoff arithmetic in range.
const MAX_SINCE: Duration = Duration::from_secs(3650 * 24 * 3600);

/// A parsed command. Independent of any text form so that Discord's slash
/// commands can be mapped onto it directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    // Admins.
    FeedsAdd {
        url: String,
        interval: Option<Duration>,
    },
    FeedsRemove {
        feed: FeedRef,
    },
    FeedsList,
    FeedsPause {
        feed: FeedRef,
    },
    FeedsResume {
        feed: FeedRef,
    },
    /// `source` is a path, an http(s) URL, or inline OPML (starts with '<');
    /// the handler decides how to load it.
    FeedsImport {
        source: String,
    },
    FeedsExport,
    // Channel managers.
    Subscribe {
        feed: FeedRef,
        mode: DeliveryMode,
        include: Vec<String>,
        exclude: Vec<String>,
    },
    Unsubscribe {
        feed: FeedRef,
    },
    Subscriptions,
    /// Already validated, so a bad schedule is reported while parsing and
    /// the handler can store `schedule.spec()` and `schedule.tz_name()`.
    DigestSchedule {
        schedule: Schedule,
    },
    DigestNow,
    DigestPreview,
    // Everyone.
    /// `query` keeps quoted phrases quoted (`"north korea" trade`) so the
    /// search backend can treat them as phrases.
    Search {
        query: String,
        feed: Option<FeedRef>,
        since: Option<Since>,
        page: u32,
    },
    Article {
        id: i64,
    },
    Latest {
        feed: Option<FeedRef>,
        count: u32,
    },
    /// `topic` is a known command in canonical form ("search", "feeds add").
    Help {
        topic: Option<String>,
    },
}

/// How a user named a feed; resolved against the database by the handler.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeedRef {
    Id(i64),
    Url(String),
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeliveryMode {
    /// Default: a subscription with no mode posts articles as they arrive.
    #[default]
    Instant,
    Digest,
}

/// The lower bound of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Since {
    /// Relative to the time of the search ("7d", "24h").
    Ago(Duration),
    /// From the start of a calendar date ("2026-11-01"), in the channel's zone.
    Date(NaiveDate),
}

/// Ordered so that `user_role >= command.required_role()` is the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Member,
    ChannelManager,
    Admin,
}

/// Why input was not a command. Display is one short line meant for chat:
/// what was wrong and the usage of the command that was meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    UnterminatedQuote,
    UnknownCommand { word: String, suggestion: Option<&'static str> },
    UnknownSubcommand { command: &'static str, word: String, suggestion: Option<&'static str> },
    UnknownOption { option: String, suggestion: Option<&'static str>, usage: &'static str },
    Missing { what: &'static str, usage: &'static str },
    Unexpected { token: String, usage: &'static str },
    Invalid { problem: String, usage: &'static str },
    Schedule(ScheduleError),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(f, "empty command — try help"),
            ParseError::UnterminatedQuote => {
                write!(f, "unterminated quote — close it with \"")
            }
            ParseError::UnknownCommand { word, suggestion } => {
                write!(f, "unknown command \"{word}\"")?;
                if let Some(s) = suggestion {
                    write!(f, ": did you mean {s}?")?;
                }
                write!(f, " — try help")
            }
            ParseError::UnknownSubcommand { command, word, suggestion } => {
                write!(f, "unknown {command} subcommand \"{word}\"")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean {command} {s}?")?,
                    None => write!(f, ";")?,
                }
                write!(f, " usage: {}", usage(command))
            }
            ParseError::UnknownOption { option, suggestion, usage } => {
                write!(f, "unknown option \"{option}\"")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean --{s}?")?,
                    None => write!(f, ";")?,
                }
                write!(f, " usage: {usage}")
            }
            ParseError::Missing { what, usage } => write!(f, "missing {what}; usage: {usage}"),
            ParseError::Unexpected { token, usage } => {
                write!(f, "unexpected \"{token}\" (quote values with spaces); usage: {usage}")
            }
            ParseError::Invalid { problem, usage } => write!(f, "{problem}; usage: {usage}"),
            ParseError::Schedule(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParseError::Schedule(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ScheduleError> for ParseError {
    fn from(e: ScheduleError) -> Self {
        ParseError::Schedule(e)
    }
}

impl Command {
    pub fn required_role(&self) -> Role {
        match self {
            Command::FeedsAdd { .. }
            | Command::FeedsRemove { .. }
            | Command::FeedsList
            | Command::FeedsPause { .. }
            | Command::FeedsResume { .. }
            | Command::FeedsImport { .. }
            | Command::FeedsExport => Role::Admin,
            Command::Subscribe { .. }
            | Command::Unsubscribe { .. }
            | Command::Subscriptions
            | Command::DigestSchedule { .. }
            | Command::DigestNow
            | Command::DigestPreview => Role::ChannelManager,
            Command::Search { .. }
            | Command::Article { .. }
            | Command::Latest { .. }
            | Command::Help { .. } => Role::Member,
        }
    }

    /// The command words, e.g. "feeds add"; a key for [`usage`], logs and
    /// permission messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::FeedsAdd { .. } => "feeds add",
            Command::FeedsRemove { .. } => "feeds remove",
            Command::FeedsList => "feeds list",
            Command::FeedsPause { .. } => "feeds pause",
            Command::FeedsResume { .. } => "feeds resume",
            Command::FeedsImport { .. } => "feeds import",
            Command::FeedsExport => "feeds export",
            Command::Subscribe { .. } => "subscribe",
            Command::Unsubscribe { .. } => "unsubscribe",
            Command::Subscriptions => "subscriptions",
            Command::DigestSchedule { .. } => "digest schedule",
            Command::DigestNow => "digest now",
            Command::DigestPreview => "digest preview",
            Command::Search { .. } => "search",
            Command::Article { .. } => "article",
            Command::Latest { .. } => "latest",
            Command::Help { .. } => "help",
        }
    }
}

impl FeedRef {
    /// Classifies how a feed was named: an http(s) URL, an integer id
    /// (optionally written "#12"), or else a name. Discord's `<url>` embed
    /// suppression brackets are removed. `None` for blank input.
    pub fn parse(text: &str) -> Option<FeedRef> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let unbracketed = strip_angle_brackets(text);
        if is_http_url(unbracketed) {
            return Some(FeedRef::Url(unbracketed.to_string()));
        }
        if let Some(id) = parse_id(text) {
            return Some(FeedRef::Id(id));
        }
        Some(FeedRef::Name(text.to_string()))
    }
}

impl fmt::Display for FeedRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedRef::Id(id) => write!(f, "#{id}"),
            FeedRef::Url(url) => write!(f, "{url}"),
            FeedRef::Name(name) => write!(f, "{name}"),
        }
    }
}

impl fmt::Display for DeliveryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeliveryMode::Instant => "instant",
            DeliveryMode::Digest => "digest",
        })
    }
}

impl Since {
    /// Parses "7d", "24h", "2w", "1h30m" or an ISO date "2026-11-01".
    pub fn parse(text: &str) -> Option<Since> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(Since::Date(date));
        }
        parse_duration(text).filter(|d| !d.is_zero() && *d <= MAX_SINCE).map(Since::Ago)
    }

    /// The earliest publication time to include. Dates start at local
    /// midnight in `tz` (or the first instant of that day, if midnight falls
    /// in a DST gap).
    pub fn cutoff(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match self {
            Since::Ago(d) => TimeDelta::from_std(*d)
                .ok()
                .and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            Since::Date(date) => {
                let midnight = date.and_time(NaiveTime::MIN);
                (0..=24 * 60)
                    .filter_map(|m| midnight.checked_add_signed(TimeDelta::minutes(m)))
                    .find_map(|local| tz.from_local_datetime(&local).earliest())
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| midnight.and_utc())
            }
        }
    }
}

/// One entry per command form; the single source for usage lines, help and
/// role grouping, so they cannot drift apart.
struct Entry {
    name: &'static str,
    usage: &'static str,
    summary: &'static str,
    role: Role,
}

const USAGE_FEEDS: &str = "feeds add|remove|pause|resume|list|import|export";
const USAGE_DIGEST: &str = "digest schedule SPEC [TZ] | digest now | digest preview";
const USAGE_FEEDS_ADD: &str = "feeds add URL [INTERVAL]";
const USAGE_FEEDS_REMOVE: &str = "feeds remove FEED";
const USAGE_FEEDS_PAUSE: &str = "feeds pause FEED";
const USAGE_FEEDS_RESUME: &str = "feeds resume FEED";
const USAGE_FEEDS_LIST: &str = "feeds list";
const USAGE_FEEDS_IMPORT: &str = "feeds import SOURCE";
const USAGE_FEEDS_EXPORT: &str = "feeds export";
const USAGE_SUBSCRIBE: &str =
    "subscribe FEED [instant|digest] [--include WORD,WORD] [--exclude WORD,WORD]";
const USAGE_UNSUBSCRIBE: &str = "unsubscribe FEED";
const USAGE_SUBSCRIPTIONS: &str = "subscriptions";
const USAGE_DIGEST_SCHEDULE: &str =
    "digest schedule hourly|daily HH:MM|weekdays HH:MM|weekly DAY HH:MM|every Nh|every Nm [TZ]";
const USAGE_DIGEST_NOW: &str = "digest now";
const USAGE_DIGEST_PREVIEW: &str = "digest preview";
const USAGE_SEARCH: &str = "search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]";
const USAGE_ARTICLE: &str = "article ID";
const USAGE_LATEST: &str = "latest [FEED] [N]";
const USAGE_HELP: &str = "help [COMMAND]";

const ENTRIES: &[Entry] = &[
    Entry { name: "search", usage: USAGE_SEARCH, summary: "search articles", role: Role::Member },
    Entry {
        name: "article",
        usage: USAGE_ARTICLE,
        summary: "show one article",
        role: Role::Member,
    },
    Entry {
        name: "latest",
        usage: USAGE_LATEST,
        summary: "newest articles, from one feed or all (a lone number is N; write a feed id as #12)",
        role: Role::Member,
    },
    Entry {
        name: "help",
        usage: USAGE_HELP,
        summary: "list commands, or explain one",
        role: Role::Member,
    },
    Entry {
        name: "subscribe",
        usage: USAGE_SUBSCRIBE,
        summary: "post a feed here, as it arrives or in the digest, optionally filtered by words",
        role: Role::ChannelManager,
    },
    Entry {
        name: "unsubscribe",
        usage: USAGE_UNSUBSCRIBE,
        summary: "stop posting a feed here",
        role: Role::ChannelManager,
    },
    Entry {
        name: "subscriptions",
        usage: USAGE_SUBSCRIPTIONS,
        summary: "list this channel's feeds",
        role: Role::ChannelManager,
    },
    Entry {
        name: "digest schedule",
        usage: USAGE_DIGEST_SCHEDULE,
        summary: "set when this channel's digest is posted",
        role: Role::ChannelManager,
    },
    Entry {
        name: "digest now",
        usage: USAGE_DIGEST_NOW,
        summary: "post the digest now",
        role: Role::ChannelManager,
    },
    Entry {
        name: "digest preview",
        usage: USAGE_DIGEST_PREVIEW,
        summary: "show the next digest without posting it",
        role: Role::ChannelManager,
    },
    Entry {
        name: "feeds add",
        usage: USAGE_FEEDS_ADD,
        summary: "start following a feed, fetched every INTERVAL (e.g. 30m, 1h; at least 1m)",
        role: Role::Admin,
    },
    Entry {
        name: "feeds remove",
        usage: USAGE_FEEDS_REMOVE,
        summary: "stop following a feed",
        role: Role::Admin,
    },
    Entry {
        name: "feeds pause",
        usage: USAGE_FEEDS_PAUSE,
        summary: "stop fetching a feed for now",
        role: Role::Admin,
    },
    Entry {
        name: "feeds resume",
        usage: USAGE_FEEDS_RESUME,
        summary: "fetch a paused feed again",
        role: Role::Admin,
    },
    Entry {
        name: "feeds list",
        usage: USAGE_FEEDS_LIST,
        summary: "list all feeds",
        role: Role::Admin,
    },
    Entry {
        name: "feeds import",
        usage: USAGE_FEEDS_IMPORT,
        summary: "add feeds from OPML: a file path, a URL, or pasted OPML",
        role: Role::Admin,
    },
    Entry {
        name: "feeds export",
        usage: USAGE_FEEDS_EXPORT,
        summary: "export all feeds as OPML",
        role: Role::Admin,
    },
];

const TOP_WORDS: [&str; 9] = [
    "feeds",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "digest",
    "search",
    "article",
    "latest",
    "help",
];
const FEEDS_WORDS: [&str; 7] = ["add", "remove", "pause", "resume", "list", "import", "export"];
const DIGEST_WORDS: [&str; 3] = ["schedule", "now", "preview"];

/// The usage line for a command ("search", "feeds add", or a group such as
/// "feeds"); case, extra spaces and a leading '/' are ignored. Unknown
/// commands get a pointer to `help` rather than an error, because this is
/// only ever shown to a user.
pub fn usage(cmd_word: &str) -> &'static str {
    let name = normalize_topic(cmd_word);
    match name.as_str() {
        "feeds" => USAGE_FEEDS,
        "digest" => USAGE_DIGEST,
        _ => ENTRIES
            .iter()
            .find(|e| e.name == name)
            .map_or("type help to list the commands", |e| e.usage),
    }
}

/// Every command with a one-line description, grouped by who may use it.
pub fn help_text() -> String {
    let mut out = String::new();
    for (role, title) in [
        (Role::Member, "Everyone:"),
        (Role::ChannelManager, "Channel managers:"),
        (Role::Admin, "Admins:"),
    ] {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(title);
        out.push('\n');
        for e in ENTRIES.iter().filter(|e| e.role == role) {
            out.push_str("  ");
            out.push_str(e.usage);
            out.push_str(" — ");
            out.push_str(e.summary);
            out.push('\n');
        }
    }
    out
}

/// Help for one topic as returned in [`Command::Help`]: usage and summary of
/// the command, or of every subcommand for "feeds" / "digest".
pub fn help_topic(topic: &str) -> Option<String> {
    let name = normalize_topic(topic);
    let group = format!("{name} ");
    let lines: Vec<String> = ENTRIES
        .iter()
        .filter(|e| e.name == name || e.name.starts_with(&group))
        .map(|e| format!("{} — {}", e.usage, e.summary))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn normalize_topic(topic: &str) -> String {
    let topic = topic.trim();
    let topic = topic.strip_prefix('/').unwrap_or(topic);
    topic.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Parses one command line (without any platform prefix such as `!herald`).
pub fn parse(input: &str) -> Result<Command, ParseError> {
    let input = input.trim();
    let input = input.strip_prefix('/').unwrap_or(input);
    let mut lexer = Lexer::new(input);
    let Some(first) = lexer.next_token()? else {
        return Err(ParseError::Empty);
    };
    let word = first.text.to_lowercase();
    match word.as_str() {
        "feeds" => parse_feeds(&mut lexer),
        "subscribe" => parse_subscribe(lexer.rest_tokens()?),
        "unsubscribe" => {
            let feed = one_feed(lexer.rest_tokens()?, USAGE_UNSUBSCRIBE)?;
            Ok(Command::Unsubscribe { feed })
        }
        "subscriptions" => {
            no_args(lexer.rest_tokens()?, USAGE_SUBSCRIPTIONS)?;
            Ok(Command::Subscriptions)
        }
        "digest" => parse_digest(&mut lexer),
        "search" => parse_search(lexer.rest_tokens()?),
        "article" => parse_article(lexer.rest_tokens()?),
        "latest" => parse_latest(lexer.rest_tokens()?),
        "help" => parse_help(lexer.rest_tokens()?),
        _ => Err(ParseError::UnknownCommand {
            word: echo(&first.text),
            suggestion: suggest_command(&word),
        }),
    }
}

fn parse_feeds(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let Some(sub) = lexer.next_token()? else {
        return Err(ParseError::Missing { what: "subcommand", usage: USAGE_FEEDS });
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
            suggestion: closest(&word, &FEEDS_WORDS),
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

fn parse_subscribe(tokens: Vec<Token>) -> Result<Command, ParseError> {
    let usage = USAGE_SUBSCRIBE;
    let args = split_args(tokens, &[("include", Arity::Many), ("exclude", Arity::Many)], usage)?;
    let mut positional = args.positional.into_iter();
    let Some(feed) = positional.next() else {
        return Err(ParseError::Missing { what: "FEED", usage });
    };
    let feed = feed_ref(&feed, usage)?;
    let mode = match positional.next() {
        None => DeliveryMode::default(),
        Some(t) => match t.text.to_lowercase().as_str() {
            "instant" => DeliveryMode::Instant,
            "digest" => DeliveryMode::Digest,
            _ => {
                return Err(ParseError::Invalid {
                    problem: format!("unknown mode \"{}\": use instant or digest", echo(&t.text)),
                    usage,
                });
            }
        },
    };
    if let Some(extra) = positional.next() {
        return Err(unexpected(&extra, usage));
    }
    let include = words(&args.options, "include", usage)?;
    let exclude = words(&args.options, "exclude", usage)?;
    if let Some(both) =
        include.iter().find(|w| exclude.iter().any(|x| x.to_lowercase() == w.to_lowercase()))
    {
        return Err(ParseError::Invalid {
            problem: format!("\"{}\" is in both --include and --exclude", echo(both)),
            usage,
        });
    }
    Ok(Command::Subscribe { feed, mode, include, exclude })
}

/// Filter words from every `--NAME` occurrence: unquoted tokens split on
/// commas, quoted tokens kept whole; duplicates (ignoring case) dropped.
fn words(options: &Options, name: &str, usage: &'static str) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for (_, values) in options.0.iter().filter(|(n, _)| *n == name) {
        let mut found = false;
        for token in values {
            let pieces: Vec<&str> = if token.quoted {
                vec![token.text.trim()]
            } else {
                token.text.split(',').map(str::trim).collect()
            };
            for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
                found = true;
                if !out.iter().any(|w| w.to_lowercase() == piece.to_lowercase()) {
                    out.push(piece.to_string());
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

fn parse_digest(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let Some(sub) = lexer.next_token()? else {
        return Err(ParseError::Missing { what: "subcommand", usage: USAGE_DIGEST });
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
            suggestion: closest(&word, &DIGEST_WORDS),
        }),
    }
}

fn parse_search(tokens: Vec<Token>) -> Result<Command, ParseError> {
    let usage = USAGE_SEARCH;
    let args = split_args(
        tokens,
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

fn parse_article(tokens: Vec<Token>) -> Result<Command, ParseError> {
    let usage = USAGE_ARTICLE;
    let mut tokens = tokens.into_iter();
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

/// `latest 5` means five articles from all feeds; a feed with id 5 is
/// `latest #5`. Counts are asked for far more often than numeric feed ids.
fn parse_latest(tokens: Vec<Token>) -> Result<Command, ParseError> {
    let usage = USAGE_LATEST;
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

fn parse_help(tokens: Vec<Token>) -> Result<Command, ParseError> {
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
    let (group, subwords): (&'static str, &[&'static str]) = match first.as_str() {
        "feeds" => ("feeds", &FEEDS_WORDS),
        "digest" => ("digest", &DIGEST_WORDS),
        w if TOP_WORDS.contains(&w) => ("", &[]),
        _ => {
            return Err(ParseError::UnknownCommand {
                word: echo(first),
                suggestion: suggest_command(first),
            });
        }
    };
    let unexpected_word = |w: &String| ParseError::Unexpected { token: echo(w), usage: USAGE_HELP };
    match (sub, extra) {
        (None, _) => Ok(Command::Help { topic: Some(first.clone()) }),
        (Some(sub), _) if group.is_empty() => Err(unexpected_word(sub)),
        (Some(sub), _) if !subwords.contains(&sub.as_str()) => Err(ParseError::UnknownSubcommand {
            command: group,
            word: echo(sub),
            suggestion: closest(sub, subwords),
        }),
        (Some(_), Some(extra)) => Err(unexpected_word(extra)),
        (Some(sub), None) => Ok(Command::Help { topic: Some(format!("{group} {sub}")) }),
    }
}

fn one_feed(tokens: Vec<Token>, usage: &'static str) -> Result<FeedRef, ParseError> {
    let mut tokens = tokens.into_iter();
    let Some(feed) = tokens.next() else {
        return Err(ParseError::Missing { what: "FEED", usage });
    };
    if let Some(extra) = tokens.next() {
        return Err(unexpected(&extra, usage));
    }
    feed_ref(&feed, usage)
}

fn feed_ref(token: &Token, usage: &'static str) -> Result<FeedRef, ParseError> {
    FeedRef::parse(&token.text).ok_or(ParseError::Missing { what: "FEED", usage })
}

fn no_args(tokens: Vec<Token>, usage: &'static str) -> Result<(), ParseError> {
    match tokens.first() {
        None => Ok(()),
        Some(extra) => Err(unexpected(extra, usage)),
    }
}

fn unexpected(token: &Token, usage: &'static str) -> ParseError {
    ParseError::Unexpected { token: echo(&token.text), usage }
}

/// Suggests a command for a mistyped first word. Subcommand words typed on
/// their own ("remove") suggest the full form ("feeds remove").
fn suggest_command(word: &str) -> Option<&'static str> {
    if let Some(top) = closest(word, &TOP_WORDS) {
        return Some(top);
    }
    ENTRIES
        .iter()
        .filter(|e| e.name.contains(' '))
        .find(|e| e.name.rsplit(' ').next() == Some(word))
        .map(|e| e.name)
}

/// Nearest candidate by edit distance (transpositions count once, as in
/// "serach"), or the only candidate that `word` is a prefix of.
fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
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

fn is_http_url(text: &str) -> bool {
    let Some(rest) = strip_prefix_ci(text, "https://").or_else(|| strip_prefix_ci(text, "http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !host.starts_with(':')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { text.get(prefix.len()..) } else { None }
}

fn strip_angle_brackets(text: &str) -> &str {
    text.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(text)
}

/// Chat users paste files inside ``` fences; the fence is not part of the OPML.
fn strip_code_fence(text: &str) -> &str {
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

fn parse_id(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

fn parse_bounded(text: &str, min: u32, max: u32) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (min..=max).contains(n))
}

/// "90s", "30m", "1h30m", "7d", "2w" (case-insensitive); `None` on anything
/// else, including overflow.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    // A bare number is ambiguous in a command (seconds? minutes?): it needs a unit.
    if text.is_empty() || text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    crate::domain::units::parse_duration(text).ok()
}

use crate::domain::schedule::echo;

// ---------------------------------------------------------------- lexing

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    /// Any part was quoted: never an option, never split on commas.
    quoted: bool,
}

/// Yields tokens on demand so `feeds import` can take the raw remainder.
struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}')
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Self {
        Lexer { input, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or_default()
    }

    fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
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

    fn rest_tokens(&mut self) -> Result<Vec<Token>, ParseError> {
        let mut out = Vec::new();
        while let Some(t) = self.next_token()? {
            out.push(t);
        }
        Ok(out)
    }
}

// --------------------------------------------------------------- options

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arity {
    /// Exactly one value; may appear once.
    One,
    /// Values until the next option; may repeat.
    Many,
}

struct Options(Vec<(&'static str, Vec<Token>)>);

impl Options {
    fn one(&self, name: &str) -> Option<Token> {
        self.0.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.first().cloned())
    }
}

struct Args {
    positional: Vec<Token>,
    options: Options,
}

fn option_name(token: &Token) -> Option<&str> {
    if token.quoted {
        return None;
    }
    token.text.strip_prefix("--").filter(|n| !n.is_empty())
}

fn split_args(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Command {
        parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn err(input: &str) -> String {
        match parse(input) {
            Ok(c) => panic!("{input:?} parsed as {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn name(n: &str) -> FeedRef {
        FeedRef::Name(n.to_string())
    }

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn feeds_add() {
        assert_eq!(
            ok("feeds add https://example.com/rss"),
            Command::FeedsAdd { url: "https://example.com/rss".to_string(), interval: None }
        );
        let with = |interval: u64| Command::FeedsAdd {
            url: "http://example.com/feed.xml".to_string(),
            interval: Some(Duration::from_secs(interval)),
        };
        assert_eq!(ok("/feeds add http://example.com/feed.xml 30m"), with(1800));
        assert_eq!(ok("FEEDS ADD http://example.com/feed.xml 1h"), with(3600));
        assert_eq!(ok("feeds add http://example.com/feed.xml 90s"), with(90));
        assert_eq!(ok("feeds add http://example.com/feed.xml 1h30m"), with(5400));
        assert_eq!(ok("feeds add http://example.com/feed.xml --interval 30m"), with(1800));
        assert_eq!(ok("feeds add --interval=2h http://example.com/feed.xml"), with(7200));
        assert_eq!(ok("feeds add <http://example.com/feed.xml> 1m"), with(60));
        assert_eq!(ok("feeds add http://example.com/feed.xml 7d"), with(7 * 86_400));
    }

    #[test]
    fn feeds_add_errors() {
        let usage = "usage: feeds add URL [INTERVAL]";
        assert_eq!(err("feeds add"), format!("missing URL; {usage}"));
        assert_eq!(
            err("feeds add example.com/rss"),
            format!(
                "\"example.com/rss\" is not a feed URL (it must start with http:// or https://); {usage}"
            )
        );
        assert_eq!(
            err("feeds add https:// 30m"),
            format!(
                "\"https://\" is not a feed URL (it must start with http:// or https://); {usage}"
            )
        );
        assert_eq!(
            err("feeds add https://x.org/rss 30s"),
            format!("interval \"30s\" is too short: at least 1m; {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss 8d"),
            format!("interval \"8d\" is too long: at most 7d; {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss 30"),
            format!("interval \"30\" needs a unit, e.g. 30m; {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss soon"),
            format!(
                "bad interval \"soon\": use a number and unit, e.g. 90s, 30m, 1h, 1h30m; {usage}"
            )
        );
        assert_eq!(
            err("feeds add https://x.org/rss 30m --interval 1h"),
            format!("interval given twice; {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss 30m extra"),
            format!("unexpected \"extra\" (quote values with spaces); {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss --interval"),
            format!("--interval needs a value; {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss --intervl 1h"),
            format!("unknown option \"--intervl\": did you mean --interval? {usage}")
        );
        assert_eq!(
            err("feeds add https://x.org/rss 99999999999999999999999m"),
            format!(
                "bad interval \"99999999999999999999999m\": use a number and unit, e.g. 90s, 30m, 1h, 1h30m; {usage}"
            )
        );
    }

    #[test]
    fn feeds_by_ref() {
        assert_eq!(ok("feeds remove 12"), Command::FeedsRemove { feed: FeedRef::Id(12) });
        assert_eq!(ok("feeds remove #12"), Command::FeedsRemove { feed: FeedRef::Id(12) });
        assert_eq!(
            ok("feeds pause https://example.com/rss"),
            Command::FeedsPause { feed: FeedRef::Url("https://example.com/rss".to_string()) }
        );
        assert_eq!(
            ok("feeds resume \"Korea Herald\""),
            Command::FeedsResume { feed: name("Korea Herald") }
        );
        assert_eq!(ok("feeds pause yonhap"), Command::FeedsPause { feed: name("yonhap") });
        assert_eq!(
            err("feeds remove Korea Herald"),
            "unexpected \"Herald\" (quote values with spaces); usage: feeds remove FEED"
        );
        assert_eq!(err("feeds pause"), "missing FEED; usage: feeds pause FEED");
        assert_eq!(err("feeds resume \"\""), "missing FEED; usage: feeds resume FEED");
    }

    #[test]
    fn feed_ref_classification() {
        assert_eq!(FeedRef::parse("42"), Some(FeedRef::Id(42)));
        assert_eq!(FeedRef::parse(" #42 "), Some(FeedRef::Id(42)));
        assert_eq!(FeedRef::parse("0"), Some(name("0")));
        assert_eq!(FeedRef::parse("99999999999999999999"), Some(name("99999999999999999999")));
        assert_eq!(
            FeedRef::parse("HTTPS://Example.com"),
            Some(FeedRef::Url("HTTPS://Example.com".to_string()))
        );
        assert_eq!(
            FeedRef::parse("<https://example.com/a>"),
            Some(FeedRef::Url("https://example.com/a".to_string()))
        );
        assert_eq!(FeedRef::parse("ftp://example.com"), Some(name("ftp://example.com")));
        assert_eq!(FeedRef::parse("http://"), Some(name("http://")));
        assert_eq!(FeedRef::parse("  "), None);
        assert_eq!(FeedRef::Id(3).to_string(), "#3");
        assert_eq!(FeedRef::parse(&FeedRef::Id(3).to_string()), Some(FeedRef::Id(3)));
    }

    #[test]
    fn feeds_list_export_import() {
        assert_eq!(ok("feeds list"), Command::FeedsList);
        assert_eq!(ok("Feeds List"), Command::FeedsList);
        assert_eq!(ok("feeds export"), Command::FeedsExport);
        assert_eq!(
            err("feeds list all"),
            "unexpected \"all\" (quote values with spaces); usage: feeds list"
        );
        assert_eq!(
            ok("feeds import /srv/feeds.opml"),
            Command::FeedsImport { source: "/srv/feeds.opml".to_string() }
        );
        assert_eq!(
            ok("feeds import \"/home/me/My Feeds.opml\""),
            Command::FeedsImport { source: "/home/me/My Feeds.opml".to_string() }
        );
        assert_eq!(
            ok("feeds import <https://example.com/list.opml>"),
            Command::FeedsImport { source: "https://example.com/list.opml".to_string() }
        );
        let opml = r#"<opml version="2.0"><body><outline text="A" xmlUrl="https://a.example/rss"/></body></opml>"#;
        assert_eq!(
            ok(&format!("feeds import {opml}")),
            Command::FeedsImport { source: opml.to_string() }
        );
        // Pasted in a fenced code block, with an unbalanced quote inside.
        let odd = "<opml><outline text=\"it's \"odd\"/></opml>";
        assert_eq!(
            ok(&format!("feeds import ```xml\n{odd}\n```")),
            Command::FeedsImport { source: odd.to_string() }
        );
        assert_eq!(err("feeds import"), "missing SOURCE; usage: feeds import SOURCE");
        assert_eq!(
            err("feeds import a.opml b.opml"),
            "unexpected \"b.opml\" (quote values with spaces); usage: feeds import SOURCE"
        );
    }

    #[test]
    fn feeds_subcommand_errors() {
        assert_eq!(
            err("feeds"),
            "missing subcommand; usage: feeds add|remove|pause|resume|list|import|export"
        );
        assert_eq!(
            err("feeds ad https://x.org"),
            "unknown feeds subcommand \"ad\": did you mean feeds add? usage: feeds add|remove|pause|resume|list|import|export"
        );
        assert_eq!(
            err("feeds delete 3"),
            "unknown feeds subcommand \"delete\"; usage: feeds add|remove|pause|resume|list|import|export"
        );
    }

    #[test]
    fn subscribe_forms() {
        assert_eq!(
            ok("subscribe yonhap"),
            Command::Subscribe {
                feed: name("yonhap"),
                mode: DeliveryMode::Instant,
                include: vec![],
                exclude: vec![]
            }
        );
        assert_eq!(
            ok("subscribe 3 DIGEST"),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Digest,
                include: vec![],
                exclude: vec![]
            }
        );
        assert_eq!(
            ok("subscribe 3 instant --include \"north korea\" trade --exclude sports,weather"),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: strings(&["north korea", "trade"]),
                exclude: strings(&["sports", "weather"])
            }
        );
        assert_eq!(
            ok("subscribe 3 --include a,b --include c --include=d, --exclude \"x,y\""),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: strings(&["a", "b", "c", "d"]),
                exclude: strings(&["x,y"])
            }
        );
        assert_eq!(
            ok("subscribe 3 --include Trade trade TRADE"),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: strings(&["Trade"]),
                exclude: vec![]
            }
        );
        // A quoted "--word" is a word, not an option.
        assert_eq!(
            ok("subscribe 3 --exclude \"--sponsored\""),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: vec![],
                exclude: strings(&["--sponsored"])
            }
        );
    }

    #[test]
    fn subscribe_errors() {
        let usage =
            "usage: subscribe FEED [instant|digest] [--include WORD,WORD] [--exclude WORD,WORD]";
        assert_eq!(err("subscribe"), format!("missing FEED; {usage}"));
        assert_eq!(
            err("subscribe 3 weekly"),
            format!("unknown mode \"weekly\": use instant or digest; {usage}")
        );
        assert_eq!(
            err("subscribe 3 digest now"),
            format!("unexpected \"now\" (quote values with spaces); {usage}")
        );
        assert_eq!(
            err("subscribe 3 --include"),
            format!("--include needs at least one word; {usage}")
        );
        assert_eq!(
            err("subscribe 3 --include , --exclude x"),
            format!("--include needs at least one word; {usage}")
        );
        assert_eq!(
            err("subscribe 3 --include trade --exclude Trade"),
            format!("\"trade\" is in both --include and --exclude; {usage}")
        );
        assert_eq!(
            err("subscribe 3 --inclde x"),
            format!("unknown option \"--inclde\": did you mean --include? {usage}")
        );
        assert_eq!(err("subscribe 3 --mode digest"), format!("unknown option \"--mode\"; {usage}"));
    }

    #[test]
    fn unsubscribe_and_subscriptions() {
        assert_eq!(ok("unsubscribe #7"), Command::Unsubscribe { feed: FeedRef::Id(7) });
        assert_eq!(err("unsubscribe"), "missing FEED; usage: unsubscribe FEED");
        assert_eq!(ok("subscriptions"), Command::Subscriptions);
        assert_eq!(
            err("subscriptions all"),
            "unexpected \"all\" (quote values with spaces); usage: subscriptions"
        );
    }

    #[test]
    fn digest_schedule() {
        let schedule = |spec: &str, tz: Option<&str>| Command::DigestSchedule {
            schedule: Schedule::parse(spec, tz).expect("valid test schedule"),
        };
        assert_eq!(ok("digest schedule daily 08:00"), schedule("daily 08:00", None));
        assert_eq!(
            ok("digest schedule weekly Mon 8:00 Europe/Berlin"),
            schedule("weekly mon 08:00", Some("Europe/Berlin"))
        );
        assert_eq!(ok("Digest Schedule hourly utc"), schedule("hourly", Some("UTC")));
        assert_eq!(ok("digest schedule every 6h"), schedule("every 6h", None));
        let Command::DigestSchedule { schedule } = ok("digest schedule weekdays 07:30 asia/tokyo")
        else {
            panic!("not a digest schedule");
        };
        assert_eq!(schedule.spec(), "weekdays 07:30");
        assert_eq!(schedule.tz_name(), "Asia/Tokyo");
    }

    #[test]
    fn digest_errors() {
        assert_eq!(
            err("digest schedule daily 25:00"),
            "\"daily 25:00\": hour must be 00-23; form: daily HH:MM"
        );
        assert_eq!(
            err("digest schedule daily 08:00 Europe/Pari"),
            "unknown timezone \"Europe/Pari\": did you mean Europe/Paris?"
        );
        assert!(matches!(
            parse("digest schedule dialy 08:00"),
            Err(ParseError::Schedule(ScheduleError::UnknownForm { suggestion: Some("daily"), .. }))
        ));
        assert_eq!(
            err("digest schedule"),
            "missing schedule; usage: digest schedule hourly|daily HH:MM|weekdays HH:MM|weekly DAY HH:MM|every Nh|every Nm [TZ]"
        );
        assert_eq!(
            err("digest"),
            "missing subcommand; usage: digest schedule SPEC [TZ] | digest now | digest preview"
        );
        assert_eq!(
            err("digest prevew"),
            "unknown digest subcommand \"prevew\": did you mean digest preview? usage: digest schedule SPEC [TZ] | digest now | digest preview"
        );
        assert_eq!(
            err("digest now please"),
            "unexpected \"please\" (quote values with spaces); usage: digest now"
        );
        assert_eq!(ok("digest now"), Command::DigestNow);
        assert_eq!(ok("DIGEST PREVIEW"), Command::DigestPreview);
    }

    #[test]
    fn search_forms() {
        assert_eq!(
            ok("search korea"),
            Command::Search { query: "korea".to_string(), feed: None, since: None, page: 1 }
        );
        assert_eq!(
            ok("/search \"north korea\" trade --feed yonhap --since 7d --page 2"),
            Command::Search {
                query: "\"north korea\" trade".to_string(),
                feed: Some(name("yonhap")),
                since: Some(Since::Ago(Duration::from_secs(7 * 86_400))),
                page: 2
            }
        );
        assert_eq!(
            ok("search --since=2026-11-01 chips --feed #4 export controls"),
            Command::Search {
                query: "chips export controls".to_string(),
                feed: Some(FeedRef::Id(4)),
                since: Some(Since::Date(NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date"))),
                page: 1
            }
        );
        assert_eq!(
            ok("search “north korea” --since 24h"),
            Command::Search {
                query: "\"north korea\"".to_string(),
                feed: None,
                since: Some(Since::Ago(Duration::from_secs(86_400))),
                page: 1
            }
        );
        assert_eq!(
            ok("search 서울 --page 1000"),
            Command::Search { query: "서울".to_string(), feed: None, since: None, page: 1000 }
        );
    }

    #[test]
    fn search_errors() {
        let usage = "usage: search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]";
        assert_eq!(err("search"), format!("missing QUERY; {usage}"));
        assert_eq!(err("search --since 7d"), format!("missing QUERY; {usage}"));
        assert_eq!(err("search \"\""), format!("missing QUERY; {usage}"));
        assert_eq!(
            err("search x --since yesterday"),
            format!(
                "bad --since \"yesterday\": use a duration like 24h, 7d, 2w or a date like 2026-11-01; {usage}"
            )
        );
        assert_eq!(
            err("search x --since 2026-13-01"),
            format!(
                "bad --since \"2026-13-01\": use a duration like 24h, 7d, 2w or a date like 2026-11-01; {usage}"
            )
        );
        assert_eq!(
            err("search x --since 0d"),
            format!(
                "bad --since \"0d\": use a duration like 24h, 7d, 2w or a date like 2026-11-01; {usage}"
            )
        );
        assert_eq!(err("search x --page 0"), format!("bad --page \"0\": use 1-1000; {usage}"));
        assert_eq!(err("search x --page -1"), format!("bad --page \"-1\": use 1-1000; {usage}"));
        assert_eq!(err("search x --page two"), format!("bad --page \"two\": use 1-1000; {usage}"));
        assert_eq!(err("search x --page 1 --page 2"), format!("--page given twice; {usage}"));
        assert_eq!(err("search x --feed"), format!("--feed needs a value; {usage}"));
        assert_eq!(
            err("search x --sinse 7d"),
            format!("unknown option \"--sinse\": did you mean --since? {usage}")
        );
    }

    #[test]
    fn since_cutoff() {
        let now = Utc.with_ymd_and_hms(2026, 11, 8, 12, 0, 0).single().expect("valid instant");
        let week = Since::parse("1w").expect("valid since");
        assert_eq!(week, Since::Ago(Duration::from_secs(7 * 86_400)));
        assert_eq!(week.cutoff(now, Tz::UTC), now - TimeDelta::days(7));
        let date = Since::parse("2026-11-01").expect("valid since");
        assert_eq!(
            date.cutoff(now, chrono_tz::America::New_York),
            Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0).single().expect("valid instant")
        );
        // Midnight does not exist on this day in Havana (DST starts at 00:00).
        let gap = Since::parse("2026-03-08").expect("valid since");
        assert_eq!(
            gap.cutoff(now, chrono_tz::America::Havana),
            Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).single().expect("valid instant")
        );
        assert_eq!(Since::parse("3651d"), None);
        assert_eq!(
            Since::parse("3650d").expect("valid since").cutoff(DateTime::<Utc>::MIN_UTC, Tz::UTC),
            DateTime::<Utc>::MIN_UTC
        );
    }

    #[test]
    fn article() {
        assert_eq!(ok("article 42"), Command::Article { id: 42 });
        assert_eq!(ok("ARTICLE #42"), Command::Article { id: 42 });
        assert_eq!(err("article"), "missing ID; usage: article ID");
        assert_eq!(
            err("article abc"),
            "article ID must be a number, got \"abc\"; usage: article ID"
        );
        assert_eq!(err("article 0"), "article ID must be a number, got \"0\"; usage: article ID");
        assert_eq!(
            err("article 99999999999999999999"),
            "article ID must be a number, got \"99999999999999999999\"; usage: article ID"
        );
        assert_eq!(
            err("article 1 2"),
            "unexpected \"2\" (quote values with spaces); usage: article ID"
        );
    }

    #[test]
    fn latest() {
        assert_eq!(ok("latest"), Command::Latest { feed: None, count: 5 });
        assert_eq!(ok("latest 10"), Command::Latest { feed: None, count: 10 });
        assert_eq!(ok("latest #10"), Command::Latest { feed: Some(FeedRef::Id(10)), count: 5 });
        assert_eq!(ok("latest yonhap"), Command::Latest { feed: Some(name("yonhap")), count: 5 });
        assert_eq!(ok("latest 4 3"), Command::Latest { feed: Some(FeedRef::Id(4)), count: 3 });
        assert_eq!(ok("latest \"12\""), Command::Latest { feed: Some(FeedRef::Id(12)), count: 5 });
        assert_eq!(err("latest 0"), "N must be 1-20, got \"0\"; usage: latest [FEED] [N]");
        assert_eq!(err("latest 21"), "N must be 1-20, got \"21\"; usage: latest [FEED] [N]");
        assert_eq!(
            err("latest yonhap many"),
            "N must be 1-20, got \"many\"; usage: latest [FEED] [N]"
        );
        assert_eq!(
            err("latest a 1 b"),
            "unexpected \"b\" (quote values with spaces); usage: latest [FEED] [N]"
        );
    }

    #[test]
    fn help() {
        assert_eq!(ok("help"), Command::Help { topic: None });
        assert_eq!(ok("/HELP"), Command::Help { topic: None });
        assert_eq!(ok("help Search"), Command::Help { topic: Some("search".to_string()) });
        assert_eq!(ok("help /feeds add"), Command::Help { topic: Some("feeds add".to_string()) });
        assert_eq!(ok("help digest"), Command::Help { topic: Some("digest".to_string()) });
        assert_eq!(
            err("help serach"),
            "unknown command \"serach\": did you mean search? — try help"
        );
        assert_eq!(
            err("help feeds ad"),
            "unknown feeds subcommand \"ad\": did you mean feeds add? usage: feeds add|remove|pause|resume|list|import|export"
        );
        assert_eq!(
            err("help search now"),
            "unexpected \"now\" (quote values with spaces); usage: help [COMMAND]"
        );
        assert_eq!(
            err("help feeds add now"),
            "unexpected \"now\" (quote values with spaces); usage: help [COMMAND]"
        );
    }

    #[test]
    fn unknown_commands_suggest() {
        assert_eq!(
            err("serach korea"),
            "unknown command \"serach\": did you mean search? — try help"
        );
        assert_eq!(
            err("/Subscibe 3"),
            "unknown command \"Subscibe\": did you mean subscribe? — try help"
        );
        assert_eq!(err("feed list"), "unknown command \"feed\": did you mean feeds? — try help");
        assert_eq!(err("lat"), "unknown command \"lat\": did you mean latest? — try help");
        assert_eq!(
            err("remove 3"),
            "unknown command \"remove\": did you mean feeds remove? — try help"
        );
        assert_eq!(
            err("preview"),
            "unknown command \"preview\": did you mean digest preview? — try help"
        );
        assert_eq!(err("xyzzy"), "unknown command \"xyzzy\" — try help");
        assert_eq!(err(""), "empty command — try help");
        assert_eq!(err("   /  "), "empty command — try help");
        assert_eq!(err("search \"north korea"), "unterminated quote — close it with \"");
    }

    #[test]
    fn quoting_and_escapes() {
        assert_eq!(
            ok(r#"search "say \"hi\"" x"#),
            Command::Search { query: "\"say hi\" x".to_string(), feed: None, since: None, page: 1 }
        );
        assert_eq!(
            ok(r#"feeds pause "back\\slash""#),
            Command::FeedsPause { feed: name("back\\slash") }
        );
        assert_eq!(ok("feeds pause ab\"c d\"e"), Command::FeedsPause { feed: name("abc de") });
        assert_eq!(ok("feeds\tpause\n  x  "), Command::FeedsPause { feed: name("x") });
    }

    #[test]
    fn roles() {
        let cases = [
            ("feeds add https://x.org/rss", Role::Admin),
            ("feeds remove 1", Role::Admin),
            ("feeds list", Role::Admin),
            ("feeds pause 1", Role::Admin),
            ("feeds resume 1", Role::Admin),
            ("feeds import a.opml", Role::Admin),
            ("feeds export", Role::Admin),
            ("subscribe 1", Role::ChannelManager),
            ("unsubscribe 1", Role::ChannelManager),
            ("subscriptions", Role::ChannelManager),
            ("digest schedule hourly", Role::ChannelManager),
            ("digest now", Role::ChannelManager),
            ("digest preview", Role::ChannelManager),
            ("search x", Role::Member),
            ("article 1", Role::Member),
            ("latest", Role::Member),
            ("help", Role::Member),
        ];
        for (input, role) in cases {
            let command = ok(input);
            assert_eq!(command.required_role(), role, "{input}");
            // Every command's name is a known usage key and prefixes its input.
            assert!(input.starts_with(command.name()), "{input}");
            assert_ne!(usage(command.name()), usage("no such command"));
            assert!(help_topic(command.name()).is_some());
        }
        assert!(Role::Admin > Role::ChannelManager && Role::ChannelManager > Role::Member);
    }

    #[test]
    fn usage_and_help_text() {
        assert_eq!(usage("search"), USAGE_SEARCH);
        assert_eq!(usage(" /Feeds   Add "), USAGE_FEEDS_ADD);
        assert_eq!(usage("feeds"), USAGE_FEEDS);
        assert_eq!(usage("digest"), USAGE_DIGEST);
        assert_eq!(usage("nope"), "type help to list the commands");
        let help = help_text();
        let everyone = help.find("Everyone:").expect("section");
        let managers = help.find("Channel managers:").expect("section");
        let admins = help.find("Admins:").expect("section");
        assert!(everyone < managers && managers < admins);
        for e in ENTRIES {
            assert!(help.contains(e.usage), "{}", e.name);
        }
        assert!(help[admins..].contains("feeds export"));
        assert!(!help[..managers].contains("subscribe"));
        let feeds = help_topic("feeds").expect("group topic");
        assert_eq!(feeds.lines().count(), 7);
        assert_eq!(help_topic("nope"), None);
    }

    #[test]
    fn errors_stay_short_on_huge_input() {
        let long = "a".repeat(100_000);
        for input in [
            long.clone(),
            format!("feeds pause {long} {long}"),
            format!("feeds add {long}"),
            format!("article {long}"),
            format!("digest schedule daily 08:00 {long}/x"),
        ] {
            let message = err(&input);
            assert!(message.chars().count() < 300, "{message}");
        }
    }

    /// Deterministic pseudo-random inputs from pieces that stress the lexer
    /// and every branch; the only requirement is that nothing panics.
    #[test]
    fn never_panics_on_odd_input() {
        const PIECES: &[&str] = &[
            "feeds",
            "add",
            "remove",
            "import",
            "export",
            "subscribe",
            "digest",
            "schedule",
            "search",
            "article",
            "latest",
            "help",
            "daily",
            "weekly",
            "every",
            "6h",
            "25:00",
            "Europe/Pari",
            "UTC",
            "--include",
            "--exclude",
            "--feed",
            "--since",
            "--page",
            "--interval",
            "--",
            "--=",
            "=",
            "\"",
            "“",
            "”",
            "\\",
            "\\\"",
            ",",
            ",,",
            "#",
            "#-1",
            "-1",
            "0",
            "9999999999999999999999",
            "http://",
            "https://x.org",
            "<",
            ">",
            "```",
            "```xml\n",
            "/",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "é",
            "🦀",
            "서울",
            "\u{0}",
            "\u{200B}",
            "\u{FEFF}",
            "\u{202E}",
            "1h30m",
            "30s",
            "7d",
            "2026-02-30",
            "instant",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            // xorshift64: enough variety, no dependency.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let mut input = String::new();
            for _ in 0..len {
                input.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
                if next() % 3 == 0 {
                    input.push(' ');
                }
            }
            if let Err(e) = parse(&input) {
                assert!(!e.to_string().is_empty());
            }
        }
        for input in [
            "\"",
            "\"\"",
            "“",
            "\\",
            "/",
            "//",
            "/\"",
            "search \"",
            "search \\",
            "search \"\\",
            "feeds import \"",
            "feeds import <",
            "feeds import ```",
            "feeds import ``````",
            "subscribe \"\" --include \"\"",
            "latest \"\" \"\"",
            "help \"\"",
            "\u{0}",
            &"\"".repeat(10_001),
            &"--x ".repeat(10_000),
            &"search ".repeat(10_000),
        ] {
            let _ = parse(input);
        }
    }
}
