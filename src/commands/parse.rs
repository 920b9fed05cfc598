//! The typed commands every platform produces, who may run them, and the text grammar's
//! entry point.
//!
//! Console (`/search korea`) and Matrix (`!herald search korea`, prefix stripped by the
//! adapter) feed text to [`parse`]; platforms with structured commands (Discord's slash
//! commands) build the same [`Command`] from their options through
//! [`super::cmd::from_options`]. Handlers therefore only ever see typed values, and every
//! user-facing error is produced in the command's own file (`cmd/`), once.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::cmd::{self, FAMILIES};
use super::lex::{Lexer, echo, is_http_url, parse_duration, parse_id, strip_angle_brackets};
use crate::domain::schedule::{Schedule, ScheduleError};
use crate::domain::template::{PostStyle, Template};

pub use super::cmd::feeds::{MAX_INTERVAL, MIN_INTERVAL};
pub use super::cmd::latest::{DEFAULT_LATEST, MAX_LATEST};
pub use super::cmd::search::MAX_PAGE;
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
        options: SubscribeOptions,
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

/// What a `subscribe` says beyond the feed, mode and filters. `None` keeps what the
/// subscription has (a new one: the default); `Some(None)` goes back to the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscribeOptions {
    pub template: Option<Option<Template>>,
    pub style: Option<PostStyle>,
    /// The group to ping, as the user named it (the platform reads it).
    pub mention: Option<Option<String>>,
    pub notify: Option<bool>,
    pub thread: Option<bool>,
    pub webhook: Option<bool>,
    /// Show the feed's latest article as it would be posted; save nothing.
    pub preview: bool,
    /// Another channel of the community to subscribe (a platform's channel option).
    pub channel: Option<String>,
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
            ParseError::Empty => write!(f, "empty command — try `help`"),
            ParseError::UnterminatedQuote => {
                write!(f, "unterminated quote — close it with \"")
            }
            ParseError::UnknownCommand { word, suggestion } => {
                write!(f, "unknown command \"{word}\"")?;
                if let Some(s) = suggestion {
                    write!(f, ": did you mean `{s}`?")?;
                }
                write!(f, " — try `help`")
            }
            ParseError::UnknownSubcommand { command, word, suggestion } => {
                write!(f, "unknown {command} subcommand \"{word}\"")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean `{command} {s}`?")?,
                    None => write!(f, ";")?,
                }
                write!(f, " usage: `{}`", usage(command))
            }
            ParseError::UnknownOption { option, suggestion, usage } => {
                write!(f, "unknown option \"{option}\"")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean --{s}?")?,
                    None => write!(f, ";")?,
                }
                write!(f, " usage: `{usage}`")
            }
            ParseError::Missing { what, usage } => write!(f, "missing {what}; usage: `{usage}`"),
            ParseError::Unexpected { token, usage } => {
                write!(f, "unexpected \"{token}\" (quote values with spaces); usage: `{usage}`")
            }
            ParseError::Invalid { problem, usage } => write!(f, "{problem}; usage: `{usage}`"),
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
    /// The role its family declares for it (`cmd/<family>.rs`), the one source of roles.
    pub fn required_role(&self) -> Role {
        // Every variant's name is a declared form (checked by `cmd`'s tests); an
        // undeclared one would need the highest role rather than none.
        cmd::form_named(self.name()).map_or(Role::Admin, |f| f.role)
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

impl Command {
    /// The options a platform with structured commands would be given for this command
    /// (the option names its family declares in `cmd/`), defaults left out:
    /// `subscribe 1 digest` → feed "1", mode "digest". The inverse of the families'
    /// `from_options` (checked by the tests), so a hint in herald's text can be shown as
    /// that platform's command.
    pub fn options(&self) -> Vec<(&'static str, String)> {
        let feed = |f: &FeedRef| match f {
            FeedRef::Id(id) => id.to_string(),
            other => other.to_string(),
        };
        let mut out = Vec::new();
        match self {
            Command::FeedsAdd { url, interval } => {
                out.push(("url", url.clone()));
                if let Some(d) = interval {
                    out.push(("interval", crate::domain::units::format_duration(*d)));
                }
            }
            Command::FeedsRemove { feed: f }
            | Command::FeedsPause { feed: f }
            | Command::FeedsResume { feed: f }
            | Command::Unsubscribe { feed: f } => out.push(("feed", feed(f))),
            Command::FeedsImport { source } => out.push(("source", source.clone())),
            Command::Subscribe { feed: f, mode, include, exclude, .. } => {
                out.push(("feed", feed(f)));
                if *mode != DeliveryMode::default() {
                    out.push(("mode", mode.to_string()));
                }
                if !include.is_empty() {
                    out.push(("include", include.join(", ")));
                }
                if !exclude.is_empty() {
                    out.push(("exclude", exclude.join(", ")));
                }
            }
            Command::DigestSchedule { schedule } => {
                out.push(("when", schedule.spec()));
                if schedule.tz_name() != "UTC" {
                    out.push(("timezone", schedule.tz_name().to_string()));
                }
            }
            Command::Search { query, feed: f, since, page } => {
                out.push(("query", query.clone()));
                if let Some(f) = f {
                    out.push(("feed", feed(f)));
                }
                if let Some(since) = since {
                    out.push(("since", since.to_string()));
                }
                if *page != 1 {
                    out.push(("page", page.to_string()));
                }
            }
            Command::Article { id } => out.push(("id", id.to_string())),
            Command::Latest { feed: f, count } => {
                if let Some(f) = f {
                    out.push(("feed", feed(f)));
                }
                if *count != DEFAULT_LATEST {
                    out.push(("count", count.to_string()));
                }
            }
            Command::Help { topic: Some(topic) } => out.push(("command", topic.clone())),
            Command::FeedsList
            | Command::FeedsExport
            | Command::Subscriptions
            | Command::DigestNow
            | Command::DigestPreview
            | Command::Help { topic: None } => {}
        }
        out
    }
}

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Since::Ago(d) => f.write_str(&crate::domain::units::format_duration(*d)),
            Since::Date(date) => write!(f, "{}", date.format("%Y-%m-%d")),
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

/// The usage line for a command ("search", "feeds add", or a group such as
/// "feeds"); case, extra spaces and a leading '/' are ignored. Unknown
/// commands get a pointer to `help` rather than an error, because this is
/// only ever shown to a user.
pub fn usage(cmd_word: &str) -> &'static str {
    let name = normalize_topic(cmd_word);
    if let Some(group) = cmd::family(&name).and_then(|f| f.group.as_ref()) {
        return group.usage;
    }
    FAMILIES
        .iter()
        .flat_map(|f| f.forms)
        .find(|e| e.name == name)
        .map_or("type help to list the commands", |e| e.usage)
}

/// Every command with a one-line description, grouped by who may use it.
pub fn help_text() -> String {
    let forms = cmd::forms_in_help_order();
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
        for e in forms.iter().filter(|e| e.role == role) {
            out.push_str("  `");
            out.push_str(e.usage);
            out.push_str("` — ");
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
    let lines: Vec<String> = cmd::forms_in_help_order()
        .into_iter()
        .filter(|e| e.name == name || e.name.starts_with(&group))
        .map(|e| format!("`{}` — {}", e.usage, e.summary))
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
    match cmd::family(&word) {
        Some(family) => (family.parse)(&mut lexer),
        None => Err(ParseError::UnknownCommand {
            word: echo(&first.text),
            suggestion: cmd::suggest_command(&word),
        }),
    }
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
        let usage = "usage: `feeds add URL [INTERVAL]`";
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
            "unexpected \"Herald\" (quote values with spaces); usage: `feeds remove FEED`"
        );
        assert_eq!(err("feeds pause"), "missing FEED; usage: `feeds pause FEED`");
        assert_eq!(err("feeds resume \"\""), "missing FEED; usage: `feeds resume FEED`");
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
            "unexpected \"all\" (quote values with spaces); usage: `feeds list`"
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
        assert_eq!(err("feeds import"), "missing SOURCE; usage: `feeds import SOURCE`");
        assert_eq!(
            err("feeds import a.opml b.opml"),
            "unexpected \"b.opml\" (quote values with spaces); usage: `feeds import SOURCE`"
        );
    }

    #[test]
    fn feeds_subcommand_errors() {
        assert_eq!(
            err("feeds"),
            "missing subcommand; usage: `feeds add|remove|pause|resume|list|import|export`"
        );
        assert_eq!(
            err("feeds ad https://x.org"),
            "unknown feeds subcommand \"ad\": did you mean `feeds add`? usage: `feeds add|remove|pause|resume|list|import|export`"
        );
        assert_eq!(
            err("feeds delete 3"),
            "unknown feeds subcommand \"delete\"; usage: `feeds add|remove|pause|resume|list|import|export`"
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
                exclude: vec![],
                options: SubscribeOptions::default(),
            }
        );
        assert_eq!(
            ok("subscribe 3 DIGEST"),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Digest,
                include: vec![],
                exclude: vec![],
                options: SubscribeOptions::default(),
            }
        );
        assert_eq!(
            ok("subscribe 3 instant --include \"north korea\" trade --exclude sports,weather"),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: strings(&["north korea", "trade"]),
                exclude: strings(&["sports", "weather"]),
                options: SubscribeOptions::default(),
            }
        );
        assert_eq!(
            ok("subscribe 3 --include a,b --include c --include=d, --exclude \"x,y\""),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: strings(&["a", "b", "c", "d"]),
                exclude: strings(&["x,y"]),
                options: SubscribeOptions::default(),
            }
        );
        assert_eq!(
            ok("subscribe 3 --include Trade trade TRADE"),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: strings(&["Trade"]),
                exclude: vec![],
                options: SubscribeOptions::default(),
            }
        );
        // A quoted "--word" is a word, not an option.
        assert_eq!(
            ok("subscribe 3 --exclude \"--sponsored\""),
            Command::Subscribe {
                feed: FeedRef::Id(3),
                mode: DeliveryMode::Instant,
                include: vec![],
                exclude: strings(&["--sponsored"]),
                options: SubscribeOptions::default(),
            }
        );
    }

    #[test]
    fn subscribe_options() {
        let Command::Subscribe { options, .. } =
            ok("subscribe 3 --style Compact --template \"**{title}**\\n{link}\" --mention <@&42> \
             --notify --thread=off --webhook=yes --preview")
        else {
            panic!("a subscribe");
        };
        let template = options.template.clone().flatten().expect("a template");
        assert_eq!(template.source(), "**{title}**\n{link}");
        assert_eq!(options.style, Some(PostStyle::Compact));
        assert_eq!(options.mention, Some(Some("<@&42>".into())));
        assert_eq!(
            (options.notify, options.thread, options.webhook, options.preview),
            (Some(true), Some(false), Some(true), true)
        );
        let Command::Subscribe { options, .. } =
            ok("subscribe 3 --template default --mention none")
        else {
            panic!("a subscribe");
        };
        assert_eq!((options.template, options.mention), (Some(None), Some(None)));
        assert_eq!(ok("subscribe 3"), ok("subscribe 3 instant"));
        let e = err("subscribe 3 --template \"{title} {nope}\"");
        assert!(e.starts_with("unknown placeholder {nope} in the template"), "{e}");
        let e = err("subscribe 3 --style fancy");
        assert!(e.starts_with("unknown style \"fancy\": use embed, compact, link"), "{e}");
        let e = err("subscribe 3 --notify=maybe");
        assert!(e.starts_with("--notify is on or off, not \"maybe\""), "{e}");
        let e = err("subscribe 3 --notify --notify");
        assert!(e.starts_with("--notify given twice"), "{e}");
    }

    #[test]
    fn subscribe_errors() {
        let usage = "usage: `subscribe FEED [instant|digest] [--include WORD,WORD] \
                     [--exclude WORD,WORD] [--style embed|compact|link] [--template TEXT] \
                     [--mention ROLE] [--notify] [--thread] [--webhook] [--preview]`";
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
        assert_eq!(err("unsubscribe"), "missing FEED; usage: `unsubscribe FEED`");
        assert_eq!(ok("subscriptions"), Command::Subscriptions);
        assert_eq!(
            err("subscriptions all"),
            "unexpected \"all\" (quote values with spaces); usage: `subscriptions`"
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
            "missing schedule; usage: `digest schedule hourly|daily HH:MM|weekdays HH:MM|weekly DAY HH:MM|every Nh|every Nm [TZ]`"
        );
        assert_eq!(
            err("digest"),
            "missing subcommand; usage: `digest schedule SPEC [TZ] | digest now | digest preview`"
        );
        assert_eq!(
            err("digest prevew"),
            "unknown digest subcommand \"prevew\": did you mean `digest preview`? usage: `digest schedule SPEC [TZ] | digest now | digest preview`"
        );
        assert_eq!(
            err("digest now please"),
            "unexpected \"please\" (quote values with spaces); usage: `digest now`"
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
        let usage = "usage: `search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]`";
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
        assert_eq!(
            err("search x --page `"),
            format!("bad --page \"'\": use 1-1000; {usage}"),
            "a typed backtick cannot open a code span"
        );
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
        assert_eq!(err("article"), "missing ID; usage: `article ID`");
        assert_eq!(
            err("article abc"),
            "article ID must be a number, got \"abc\"; usage: `article ID`"
        );
        assert_eq!(err("article 0"), "article ID must be a number, got \"0\"; usage: `article ID`");
        assert_eq!(
            err("article 99999999999999999999"),
            "article ID must be a number, got \"99999999999999999999\"; usage: `article ID`"
        );
        assert_eq!(
            err("article 1 2"),
            "unexpected \"2\" (quote values with spaces); usage: `article ID`"
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
        assert_eq!(err("latest 0"), "N must be 1-20, got \"0\"; usage: `latest [FEED] [N]`");
        assert_eq!(err("latest 21"), "N must be 1-20, got \"21\"; usage: `latest [FEED] [N]`");
        assert_eq!(
            err("latest yonhap many"),
            "N must be 1-20, got \"many\"; usage: `latest [FEED] [N]`"
        );
        assert_eq!(
            err("latest a 1 b"),
            "unexpected \"b\" (quote values with spaces); usage: `latest [FEED] [N]`"
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
            "unknown command \"serach\": did you mean `search`? — try `help`"
        );
        assert_eq!(
            err("help feeds ad"),
            "unknown feeds subcommand \"ad\": did you mean `feeds add`? usage: `feeds add|remove|pause|resume|list|import|export`"
        );
        assert_eq!(
            err("help search now"),
            "unexpected \"now\" (quote values with spaces); usage: `help [COMMAND]`"
        );
        assert_eq!(
            err("help feeds add now"),
            "unexpected \"now\" (quote values with spaces); usage: `help [COMMAND]`"
        );
    }

    #[test]
    fn unknown_commands_suggest() {
        assert_eq!(
            err("serach korea"),
            "unknown command \"serach\": did you mean `search`? — try `help`"
        );
        assert_eq!(
            err("/Subscibe 3"),
            "unknown command \"Subscibe\": did you mean `subscribe`? — try `help`"
        );
        assert_eq!(
            err("feed list"),
            "unknown command \"feed\": did you mean `feeds`? — try `help`"
        );
        assert_eq!(err("lat"), "unknown command \"lat\": did you mean `latest`? — try `help`");
        assert_eq!(
            err("remove 3"),
            "unknown command \"remove\": did you mean `feeds remove`? — try `help`"
        );
        assert_eq!(
            err("preview"),
            "unknown command \"preview\": did you mean `digest preview`? — try `help`"
        );
        assert_eq!(err("xyzzy"), "unknown command \"xyzzy\" — try `help`");
        assert_eq!(err(""), "empty command — try `help`");
        assert_eq!(err("   /  "), "empty command — try `help`");
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
        assert_eq!(
            usage("search"),
            "search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]"
        );
        assert_eq!(usage(" /Feeds   Add "), "feeds add URL [INTERVAL]");
        assert_eq!(usage("feeds"), "feeds add|remove|pause|resume|list|import|export");
        assert_eq!(usage("digest"), "digest schedule SPEC [TZ] | digest now | digest preview");
        assert_eq!(usage("nope"), "type help to list the commands");
        let help = help_text();
        let everyone = help.find("Everyone:").expect("section");
        let managers = help.find("Channel managers:").expect("section");
        let admins = help.find("Admins:").expect("section");
        assert!(everyone < managers && managers < admins);
        for e in cmd::forms_in_help_order() {
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
