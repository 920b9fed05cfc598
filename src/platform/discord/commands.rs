//! The slash commands herald registers, and their options turned into the core's
//! [`Command`] (never re-parsed as text: Discord already split the options).

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{
    CommandDataOption, CommandDataOptionValue, CommandDataResolved, CommandOptionType,
};
use serenity::model::permissions::Permissions;

use crate::commands::parse::{
    Command, DEFAULT_LATEST, DeliveryMode, FeedRef, MAX_INTERVAL, MAX_LATEST, MAX_PAGE,
    MIN_INTERVAL, Since,
};
use crate::domain::schedule::Schedule;
use crate::domain::units::parse_duration;

/// Longest search query that still fits a paging button's 100-character custom id.
pub const QUERY_MAX: u16 = 80;

/// Largest OPML upload taken (an export of a few thousand feeds is well under this).
pub const OPML_FILE_MAX: u32 = 2 * 1024 * 1024;

fn opt(kind: CommandOptionType, name: &str, description: &str) -> CreateCommandOption {
    CreateCommandOption::new(kind, name, description)
}

fn feed_opt(required: bool) -> CreateCommandOption {
    opt(CommandOptionType::String, "feed", "The feed: its #id, URL or name")
        .required(required)
        .set_autocomplete(true)
        .max_length(2048)
}

fn sub(name: &str, description: &str) -> CreateCommandOption {
    opt(CommandOptionType::SubCommand, name, description)
}

/// Every command herald offers. Admin commands default to Manage Server and channel
/// commands to Manage Channels; server owners may change that, so the core checks the
/// role again on every call.
pub fn definitions() -> Vec<CreateCommand> {
    let admin = Permissions::MANAGE_GUILD;
    let manager = Permissions::MANAGE_CHANNELS;
    let interval = {
        let mut o = opt(CommandOptionType::String, "interval", "How often to fetch it");
        for c in ["5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d"] {
            o = o.add_string_choice(c, c);
        }
        o
    };
    let help_topic = {
        let mut o = opt(CommandOptionType::String, "command", "Explain one command");
        for c in [
            "search",
            "article",
            "latest",
            "subscribe",
            "unsubscribe",
            "subscriptions",
            "digest schedule",
            "digest now",
            "digest preview",
            "feeds add",
            "feeds remove",
            "feeds pause",
            "feeds resume",
            "feeds list",
            "feeds import",
            "feeds export",
        ] {
            o = o.add_string_choice(c, c);
        }
        o
    };
    vec![
        CreateCommand::new("feeds")
            .description("Manage the feeds this server follows")
            .default_member_permissions(admin)
            .dm_permission(false)
            .add_option(
                sub("add", "Start following a feed (a site's address works too)")
                    .add_sub_option(
                        opt(CommandOptionType::String, "url", "The feed's or site's URL")
                            .required(true)
                            .max_length(2048),
                    )
                    .add_sub_option(interval),
            )
            .add_option(sub("remove", "Stop following a feed").add_sub_option(feed_opt(true)))
            .add_option(sub("pause", "Stop posting a feed for now").add_sub_option(feed_opt(true)))
            .add_option(sub("resume", "Post a paused feed again").add_sub_option(feed_opt(true)))
            .add_option(sub("list", "The feeds this server follows, with their status"))
            .add_option(
                sub("import", "Add feeds from OPML: upload the file, or give its URL or text")
                    .add_sub_option(opt(
                        CommandOptionType::Attachment,
                        "file",
                        "An OPML file (exported from another reader)",
                    ))
                    .add_sub_option(
                        opt(
                            CommandOptionType::String,
                            "source",
                            "The OPML file's URL, or pasted OPML",
                        )
                        .max_length(6000),
                    ),
            )
            .add_option(sub("export", "This server's feeds as OPML")),
        CreateCommand::new("subscribe")
            .description("Post a feed in this channel, as it arrives or in the digest")
            .default_member_permissions(manager)
            .dm_permission(false)
            .add_option(feed_opt(true))
            .add_option(
                opt(
                    CommandOptionType::String,
                    "mode",
                    "Post each article, or collect for the digest",
                )
                .add_string_choice("instant", "instant")
                .add_string_choice("digest", "digest"),
            )
            .add_option(
                opt(
                    CommandOptionType::String,
                    "include",
                    "Only articles mentioning these words (comma-separated)",
                )
                .max_length(500),
            )
            .add_option(
                opt(
                    CommandOptionType::String,
                    "exclude",
                    "Never articles mentioning these words (comma-separated)",
                )
                .max_length(500),
            ),
        CreateCommand::new("unsubscribe")
            .description("Stop posting a feed in this channel")
            .default_member_permissions(manager)
            .dm_permission(false)
            .add_option(feed_opt(true)),
        CreateCommand::new("subscriptions")
            .description("This channel's feeds, filters and digest schedule")
            .default_member_permissions(manager)
            .dm_permission(false),
        CreateCommand::new("digest")
            .description("This channel's digest")
            .default_member_permissions(manager)
            .dm_permission(false)
            .add_option(
                sub("schedule", "Set when the digest is posted")
                    .add_sub_option(
                        opt(
                            CommandOptionType::String,
                            "when",
                            "hourly, daily 08:00, weekdays 09:00, weekly mon 08:00, every 6h",
                        )
                        .required(true)
                        .max_length(40),
                    )
                    .add_sub_option(
                        opt(
                            CommandOptionType::String,
                            "timezone",
                            "An IANA time zone, e.g. Europe/Paris",
                        )
                        .set_autocomplete(true)
                        .max_length(64),
                    ),
            )
            .add_option(sub("now", "Post the digest now"))
            .add_option(sub("preview", "Show the next digest without posting it")),
        CreateCommand::new("search")
            .description("Search the articles of this server's feeds")
            .dm_permission(false)
            .add_option(
                opt(CommandOptionType::String, "query", "Words; \"quoted phrases\" match exactly")
                    .required(true)
                    .max_length(QUERY_MAX),
            )
            .add_option(feed_opt(false))
            .add_option(
                opt(CommandOptionType::String, "since", "7d, 24h, or a date (2026-11-01)")
                    .max_length(10),
            )
            .add_option(
                opt(CommandOptionType::Integer, "page", "Result page")
                    .min_int_value(1)
                    .max_int_value(u64::from(MAX_PAGE)),
            ),
        CreateCommand::new("article")
            .description("Show one article")
            .dm_permission(false)
            .add_option(
                opt(
                    CommandOptionType::Integer,
                    "id",
                    "The article's number (from search or latest)",
                )
                .required(true)
                .min_int_value(1),
            ),
        CreateCommand::new("latest")
            .description("The newest articles, from one feed or all")
            .dm_permission(false)
            .add_option(feed_opt(false))
            .add_option(
                opt(CommandOptionType::Integer, "count", "How many")
                    .min_int_value(1)
                    .max_int_value(u64::from(MAX_LATEST)),
            ),
        CreateCommand::new("help")
            .description("What herald can do")
            .dm_permission(false)
            .add_option(help_topic),
    ]
}

/// A slash command's options as a core [`Command`], or a message saying what was wrong.
/// `resolved` holds what ids in the options point at (uploaded files).
pub fn to_command(
    name: &str,
    options: &[CommandDataOption],
    resolved: &CommandDataResolved,
) -> Result<Command, String> {
    // Subcommands carry their own options; top-level commands use the options directly.
    let (subname, opts): (Option<&str>, &[CommandDataOption]) = match options.first() {
        Some(CommandDataOption { name, value: CommandDataOptionValue::SubCommand(o), .. }) => {
            (Some(name.as_str()), o.as_slice())
        }
        _ => (None, options),
    };
    let o = Opts(opts);
    Ok(match (name, subname) {
        ("feeds", Some("add")) => {
            let url = o.required_str("url")?;
            let interval = match o.str("interval") {
                None => None,
                Some(v) => {
                    let d = parse_duration(v).map_err(|e| format!("interval: {e}"))?;
                    if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&d) {
                        return Err("interval: between 1m and 7d".into());
                    }
                    Some(d)
                }
            };
            Command::FeedsAdd { url, interval }
        }
        ("feeds", Some("remove")) => Command::FeedsRemove { feed: o.feed()? },
        ("feeds", Some("pause")) => Command::FeedsPause { feed: o.feed()? },
        ("feeds", Some("resume")) => Command::FeedsResume { feed: o.feed()? },
        ("feeds", Some("list")) => Command::FeedsList,
        ("feeds", Some("import")) => Command::FeedsImport { source: import_source(&o, resolved)? },
        ("feeds", Some("export")) => Command::FeedsExport,
        ("subscribe", None) => Command::Subscribe {
            feed: o.feed()?,
            mode: match o.str("mode") {
                Some("digest") => DeliveryMode::Digest,
                _ => DeliveryMode::Instant,
            },
            include: words(o.str("include")),
            exclude: words(o.str("exclude")),
        },
        ("unsubscribe", None) => Command::Unsubscribe { feed: o.feed()? },
        ("subscriptions", None) => Command::Subscriptions,
        ("digest", Some("schedule")) => {
            let when = o.required_str("when")?;
            let schedule = Schedule::parse(&when, o.str("timezone")).map_err(|e| e.to_string())?;
            Command::DigestSchedule { schedule }
        }
        ("digest", Some("now")) => Command::DigestNow,
        ("digest", Some("preview")) => Command::DigestPreview,
        ("search", None) => Command::Search {
            query: o.required_str("query")?,
            feed: o.optional_feed(),
            since: match o.str("since") {
                None => None,
                Some(s) => Some(Since::parse(s).ok_or_else(|| {
                    format!("since: \"{s}\" is not 7d, 24h or a date like 2026-11-01")
                })?),
            },
            page: o.int("page").map(|p| p.clamp(1, i64::from(MAX_PAGE)) as u32).unwrap_or(1),
        },
        ("article", None) => Command::Article {
            id: o.int("id").ok_or_else(|| "missing the article id".to_string())?,
        },
        ("latest", None) => Command::Latest {
            feed: o.optional_feed(),
            count: o
                .int("count")
                .map(|c| c.clamp(1, i64::from(MAX_LATEST)) as u32)
                .unwrap_or(DEFAULT_LATEST),
        },
        ("help", None) => Command::Help { topic: o.str("command").map(str::to_string) },
        (n, s) => {
            return Err(format!(
                "herald does not know /{n}{}; its commands may have been updated — try /help",
                s.map(|s| format!(" {s}")).unwrap_or_default()
            ));
        }
    })
}

/// Comma-separated words, trimmed, blanks dropped.
fn words(v: Option<&str>) -> Vec<String> {
    v.map(|v| v.split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

struct Opts<'a>(&'a [CommandDataOption]);

impl Opts<'_> {
    fn str(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|o| o.name == name).and_then(|o| match &o.value {
            CommandDataOptionValue::String(s) => Some(s.as_str()),
            CommandDataOptionValue::Autocomplete { value, .. } => Some(value.as_str()),
            _ => None,
        })
    }

    fn required_str(&self, name: &str) -> Result<String, String> {
        match self.str(name).map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_string()),
            _ => Err(format!("missing {name}")),
        }
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.0.iter().find(|o| o.name == name).and_then(|o| match o.value {
            CommandDataOptionValue::Integer(i) => Some(i),
            _ => None,
        })
    }

    fn feed(&self) -> Result<FeedRef, String> {
        self.optional_feed().ok_or_else(|| "missing the feed (its #id, URL or name)".to_string())
    }

    fn optional_feed(&self) -> Option<FeedRef> {
        self.str("feed").and_then(FeedRef::parse)
    }
}

/// Where `feeds import` reads its OPML: an uploaded file (fetched from Discord's CDN
/// through the same guarded fetcher as feeds), else the `source` text or URL.
fn import_source(o: &Opts, resolved: &CommandDataResolved) -> Result<String, String> {
    let file = o.0.iter().find(|x| x.name == "file").and_then(|x| match x.value {
        CommandDataOptionValue::Attachment(id) => Some(id),
        _ => None,
    });
    let Some(id) = file else {
        return o
            .required_str("source")
            .map_err(|_| "upload the OPML file, or give its URL or text in `source`".into());
    };
    let Some(file) = resolved.attachments.get(&id) else {
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

/// A search's paging button id: `s|PAGE|SINCE|FEED|QUERY` (the query last, since it may
/// hold any character). `None` when it would not fit Discord's 100 characters.
pub fn page_button_id(
    page: u32,
    query: &str,
    feed: Option<&FeedRef>,
    since: Option<&str>,
) -> Option<String> {
    let feed = feed.map(|f| f.to_string()).unwrap_or_default();
    if feed.contains('|') {
        return None;
    }
    let id = format!("s|{page}|{}|{feed}|{query}", since.unwrap_or_default());
    (id.chars().count() <= 100).then_some(id)
}

/// The search a paging button asks for.
pub fn parse_page_button(id: &str) -> Option<Command> {
    let mut parts = id.splitn(5, '|');
    if parts.next()? != "s" {
        return None;
    }
    let page: u32 = parts.next()?.parse().ok()?;
    let since = parts.next()?;
    let feed = parts.next()?;
    let query = parts.next()?.to_string();
    Some(Command::Search {
        query,
        feed: FeedRef::parse(feed),
        since: if since.is_empty() { None } else { Some(Since::parse(since)?) },
        page: page.clamp(1, MAX_PAGE),
    })
}

/// What a `since` option was, written back for a button id.
pub fn since_text(since: &Since) -> String {
    match since {
        Since::Ago(d) => format!("{}s", d.as_secs()),
        Since::Date(date) => date.format("%Y-%m-%d").to_string(),
    }
}

/// Matches for a time-zone option: names containing what was typed, shortest first.
pub fn timezone_choices(typed: &str) -> Vec<String> {
    let typed = typed.trim().to_lowercase().replace(' ', "_");
    let mut out: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|n| n.to_lowercase().contains(&typed))
        .collect();
    out.sort_by_key(|n| (!n.to_lowercase().starts_with(&typed), n.len(), *n));
    out.into_iter().take(25).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn page_buttons_round_trip() {
        let id = page_button_id(2, "north | korea", Some(&FeedRef::Id(3)), Some("604800s"))
            .expect("fits");
        match parse_page_button(&id) {
            Some(Command::Search { query, feed, since, page }) => {
                assert_eq!(
                    (query.as_str(), feed, page),
                    ("north | korea", Some(FeedRef::Id(3)), 2)
                );
                assert_eq!(since, Some(Since::Ago(Duration::from_secs(604800))));
            }
            other => panic!("{other:?}"),
        }
        assert!(page_button_id(1, &"x".repeat(120), None, None).is_none());
    }

    #[test]
    fn timezones_autocomplete() {
        let c = timezone_choices("paris");
        assert_eq!(c.first().map(String::as_str), Some("Europe/Paris"));
        assert!(timezone_choices("").len() <= 25);
    }

    #[test]
    fn definitions_respect_discord_limits() {
        let json = serde_json::to_value(definitions()).expect("serializable");
        let cmds = json.as_array().expect("array");
        assert!(cmds.len() <= 100);
        fn check(v: &serde_json::Value) {
            if let Some(d) = v.get("description").and_then(|d| d.as_str()) {
                assert!(!d.is_empty() && d.chars().count() <= 100, "{d}");
            }
            if let Some(n) = v.get("name").and_then(|d| d.as_str()) {
                assert!(n.len() <= 32 && n == n.to_lowercase(), "{n}");
            }
            if let Some(opts) = v.get("options").and_then(|o| o.as_array()) {
                assert!(opts.len() <= 25);
                opts.iter().for_each(check);
            }
        }
        cmds.iter().for_each(check);
    }
}
