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

// ---------------------------------------------------------------- apply

use super::super::parse::{self, FeedRef};
use crate::commands::execute::{Core, Ctx, Scope};
use crate::domain::FeedUrl;
use crate::domain::units::format_duration;
use crate::ingest::add::{AddFeedError, AddRequest, IntervalLimits, add_feed};
use crate::ingest::fetch::{FetchKind, Fetched};
use crate::ingest::opml::{OpmlFeed, parse_opml, write_opml};
use crate::reply::{Item, Reply};
use crate::store::{FeedRow, FeedStatus, StoreError};

impl Core {
    pub(crate) async fn feeds_remove(
        &self,
        ctx: &Ctx,
        feed: &FeedRef,
    ) -> Result<Reply, StoreError> {
        if ctx.scope == Scope::Installation && ctx.operator {
            return self.installation_feed(feed, FeedAction::Remove).await;
        }
        Ok(match self.resolve(ctx, feed).await? {
            Err(reply) => reply,
            Ok(f) => {
                let deleted = self.store.unlink_feed(ctx.community_id, f.feed.id).await?;
                let note = if deleted {
                    " No one else follows it, so herald stopped fetching it."
                } else {
                    ""
                };
                Reply::success(format!(
                    "Removed feed #{} {} and this community's subscriptions to it.{note}",
                    f.feed.id,
                    f.feed.name()
                ))
            }
        })
    }

    pub(crate) async fn feeds_export(&self, ctx: &Ctx) -> Result<Reply, StoreError> {
        if ctx.scope == Scope::Installation && ctx.operator {
            return self.installation_export().await;
        }
        let feeds: Vec<OpmlFeed> = self
            .store
            .community_feeds(ctx.community_id)
            .await?
            .into_iter()
            .map(|f| OpmlFeed { url: f.feed.url, title: f.feed.title })
            .collect();
        Ok(Reply::info(write_opml("herald feeds", &feeds))
            .with_title(format!("{} feed(s) as OPML", feeds.len())))
    }

    pub(crate) async fn feeds_add(
        &self,
        ctx: &Ctx,
        url: &str,
        interval: Option<Duration>,
    ) -> Result<Reply, StoreError> {
        let count = self.store.count_community_feeds(ctx.community_id).await?;
        if !ctx.operator && count >= self.limits.max_feeds_per_community {
            return Ok(Reply::error(format!(
                "This community already follows {count} feeds, the limit. Remove one with `feeds remove FEED` first."
            )));
        }
        let now = self.clock.now();
        let req = AddRequest { community: ctx.community_id, input: url, interval, check: true };
        match add_feed(&self.store, &self.fetcher, req, self.interval_limits(), now).await {
            Ok(added) => {
                self.poll.notify_one();
                let via =
                    added.discovered_from.map(|p| format!(" (found on {p})")).unwrap_or_default();
                let items = added.items.map(|n| format!(", {n} items")).unwrap_or_default();
                let every = format_duration(Duration::from_secs(added.asked_interval_s as u64));
                let shared = if added.feed.poll_interval_s < added.asked_interval_s {
                    format!(
                        " Another community follows it too and asked for {}, so it is fetched that often.",
                        format_duration(Duration::from_secs(added.feed.poll_interval_s as u64))
                    )
                } else {
                    String::new()
                };
                if added.created {
                    Ok(Reply::success(format!(
                        "Added feed #{} {}{via}{items}, polled every {every}.{shared} Subscribe a channel with `subscribe {}`.",
                        added.feed.id, added.feed.url, added.feed.id
                    )))
                } else if interval.is_some() {
                    Ok(Reply::success(format!(
                        "This community already follows feed #{} {}; its interval here is now {every}.{shared}",
                        added.feed.id,
                        added.feed.name()
                    )))
                } else {
                    Ok(Reply::info(format!(
                        "This community already follows feed #{} {}, polled every {every}.{shared} Give an interval to change it: `feeds add URL 30m`.",
                        added.feed.id,
                        added.feed.name()
                    )))
                }
            }
            Err(AddFeedError::Store(e)) => Err(e),
            Err(e) => Ok(Reply::error(format!(
                "Cannot add that feed: {e}. Form: {}",
                parse::usage("feeds add")
            ))),
        }
    }

    pub(crate) fn interval_limits(&self) -> IntervalLimits {
        IntervalLimits { default: self.limits.default_interval, min: self.limits.min_interval }
    }

    pub(crate) async fn feeds_list(&self, ctx: &Ctx, now: i64) -> Result<Reply, StoreError> {
        if ctx.scope == Scope::Installation && ctx.operator {
            return self.installation_list(now).await;
        }
        let feeds = self.store.community_feeds(ctx.community_id).await?;
        if feeds.is_empty() {
            return Ok(Reply::info("No feeds yet. An admin adds one with `feeds add URL`."));
        }
        let items = feeds
            .iter()
            .map(|cf| {
                let f = &cf.feed;
                let status =
                    if cf.paused { "paused here".to_string() } else { status_line(f, now) };
                Item {
                    title: format!("#{} {}", f.id, f.name()),
                    url: Some(f.url.clone()),
                    text: status,
                    meta: Some(interval_note(cf)),
                    also_in: Vec::new(),
                    marks: Vec::new(),
                }
            })
            .collect();
        let (articles, bytes) = self.store.archive_size().await?;
        Ok(Reply::info(String::new())
            .with_title(format!("{} feed(s)", feeds.len()))
            .with_section(None, items)
            .with_footer(format!(
                "Archive (all communities): {articles} article(s), {:.1} MB",
                bytes as f64 / 1e6
            )))
    }

    pub(crate) async fn feed_pause(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
        if ctx.scope == Scope::Installation && ctx.operator {
            return self.installation_feed(feed, FeedAction::Pause).await;
        }
        let f = match self.resolve(ctx, feed).await? {
            Ok(f) => f,
            Err(reply) => return Ok(reply),
        };
        self.store.set_community_feed_paused(ctx.community_id, f.feed.id, true).await?;
        Ok(Reply::success(format!(
            "Paused {} for this community: nothing from it is posted until `feeds resume {}`.",
            f.feed.name(),
            f.feed.id
        )))
    }

    pub(crate) async fn feed_resume(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
        if ctx.scope == Scope::Installation && ctx.operator {
            return self.installation_feed(feed, FeedAction::Resume).await;
        }
        let f = match self.resolve(ctx, feed).await? {
            Ok(f) => f,
            Err(reply) => return Ok(reply),
        };
        self.store.set_community_feed_paused(ctx.community_id, f.feed.id, false).await?;
        // The operator may also lift a global pause or revive a disabled feed.
        if f.feed.disabled_reason.is_some() && ctx.operator {
            self.store.resume_feed(f.feed.id, self.clock.now()).await?;
        }
        self.poll.notify_one();
        Ok(Reply::success(format!("Resumed {}.", f.feed.name())))
    }

    pub(crate) async fn feeds_import(&self, ctx: &Ctx, source: &str) -> Result<Reply, StoreError> {
        let source = source.trim();
        let bytes = if source.starts_with('<') {
            source.as_bytes().to_vec()
        } else if source.starts_with("http://") || source.starts_with("https://") {
            let url = match FeedUrl::parse(source) {
                Ok(u) => u.as_url().clone(),
                Err(e) => return Ok(Reply::error(e)),
            };
            match self.fetcher.fetch(&url, FetchKind::Feed, None).await {
                Ok(Fetched::Body(b)) => b.bytes,
                Ok(Fetched::NotModified { .. }) => Vec::new(),
                Err(e) => return Ok(Reply::error(format!("Cannot fetch the OPML file: {e}"))),
            }
        } else if ctx.local_files {
            match std::fs::read(source) {
                Ok(b) => b,
                Err(e) => return Ok(Reply::error(format!("Cannot read {source}: {e}"))),
            }
        } else {
            return Ok(Reply::error(format!(
                "Give the OPML file's URL or paste it. Form: {}",
                parse::usage("feeds import")
            )));
        };
        let entries = match parse_opml(&bytes) {
            Ok(e) => e,
            Err(e) => return Ok(Reply::error(format!("That is not an OPML file: {e}"))),
        };
        let now = self.clock.now();
        let (mut added, mut known, mut refused) = (0, 0, Vec::new());
        for entry in &entries {
            if !ctx.operator
                && self.store.count_community_feeds(ctx.community_id).await?
                    >= self.limits.max_feeds_per_community
            {
                refused.push(format!("{}: the community's feed limit is reached", entry.url));
                continue;
            }
            let req = AddRequest {
                community: ctx.community_id,
                input: &entry.url,
                interval: None,
                check: false,
            };
            match add_feed(&self.store, &self.fetcher, req, self.interval_limits(), now).await {
                Ok(a) if a.created => added += 1,
                Ok(_) => known += 1,
                Err(AddFeedError::Store(e)) => return Err(e),
                Err(e) => refused.push(format!("{}: {e}", entry.url)),
            }
        }
        self.poll.notify_one();
        let mut reply = Reply::success(format!(
            "Imported {} feed(s): {added} added, {known} already followed, {} refused.",
            entries.len(),
            refused.len()
        ));
        if !refused.is_empty() {
            let items = refused.into_iter().map(|r| Item { title: r, ..Item::default() }).collect();
            reply = reply.with_section(Some("refused".into()), items);
        }
        Ok(reply)
    }
}

/// "every 30m", and how often the feed is really fetched when another community asked
/// for less.
fn interval_note(cf: &crate::store::CommunityFeed) -> String {
    let every = |s: i64| format_duration(Duration::from_secs(s.max(0) as u64));
    let fetched = cf.feed.poll_interval_s;
    match cf.asked_interval_s {
        Some(asked) if asked > fetched => {
            format!(
                "every {} (fetched every {}, asked by another community)",
                every(asked),
                every(fetched)
            )
        }
        Some(asked) => format!("every {}", every(asked)),
        None => format!("every {}", every(fetched)),
    }
}

fn status_line(f: &FeedRow, now: i64) -> String {
    match f.status() {
        FeedStatus::Ok if f.last_polled_at.is_none() => "waiting for its first poll".into(),
        FeedStatus::Ok => {
            let next = (f.next_poll_at - now).max(0) as u64;
            format!("ok; next poll in {}", format_duration(Duration::from_secs(next)))
        }
        FeedStatus::Failing { failures } => format!(
            "failing ({failures} in a row): {}",
            f.last_error.as_deref().unwrap_or("unknown error")
        ),
        FeedStatus::Paused => "paused by the operator".into(),
        FeedStatus::Disabled { reason } => format!("disabled: {reason}"),
    }
}

// ------------------------------------------------- the operator's command line

/// What `herald feeds remove|pause|resume FEED` does to a feed of the installation.
#[derive(Debug, Clone, Copy)]
enum FeedAction {
    Remove,
    Pause,
    Resume,
}

/// The installation scope (`Scope::Installation`): the operator's command line acts on
/// every feed, whoever follows it, and answers in its own terse lines.
impl Core {
    async fn installation_list(&self, now: i64) -> Result<Reply, StoreError> {
        let feeds = self.store.list_feeds().await?;
        let mut lines = Vec::new();
        if feeds.is_empty() {
            lines.push("no feeds yet: add one with `herald feeds add URL`".to_string());
        }
        for f in &feeds {
            installation_feed_lines(f, now, &mut lines);
        }
        let (articles, bytes) = self.store.archive_size().await?;
        lines.push(format!("archive: {articles} article(s), {:.1} MB", bytes as f64 / 1e6));
        Ok(Reply::info(lines.join("\n")))
    }

    async fn installation_feed(
        &self,
        feed: &FeedRef,
        action: FeedAction,
    ) -> Result<Reply, StoreError> {
        let found = match feed {
            FeedRef::Id(id) => self.store.feed_by_id(*id).await?,
            FeedRef::Url(url) => match FeedUrl::parse(url) {
                Ok(url) => self.store.feed_by_url(url.as_str()).await?,
                Err(_) => None,
            },
            FeedRef::Name(_) => None,
        };
        let Some(f) = found else {
            return Ok(Reply::error(format!(
                "no feed \"{feed}\": give its id or URL (see `herald feeds list`)"
            )));
        };
        let text = match action {
            FeedAction::Remove => {
                self.store.remove_feed(f.id).await?;
                format!("removed feed #{} {}", f.id, f.url)
            }
            FeedAction::Pause => {
                self.store.pause_feed(f.id).await?;
                format!("paused feed #{} {}", f.id, f.url)
            }
            FeedAction::Resume => {
                self.store.resume_feed(f.id, self.clock.now()).await?;
                self.poll.notify_one();
                format!("resumed feed #{} {}: it will be polled now", f.id, f.url)
            }
        };
        Ok(Reply::success(text))
    }

    async fn installation_export(&self) -> Result<Reply, StoreError> {
        let feeds: Vec<OpmlFeed> = self
            .store
            .list_feeds()
            .await?
            .into_iter()
            .map(|f| OpmlFeed { url: f.url, title: f.title })
            .collect();
        Ok(Reply::info(write_opml("herald feeds", &feeds).trim_end().to_string()))
    }
}

/// One feed of `herald feeds list`: id, status and name; URL; schedule; trouble.
fn installation_feed_lines(f: &FeedRow, now: i64, lines: &mut Vec<String>) {
    let status = match f.status() {
        FeedStatus::Ok => "ok".to_string(),
        FeedStatus::Failing { failures } => format!("failing ({failures})"),
        FeedStatus::Paused => "paused".to_string(),
        FeedStatus::Disabled { .. } => "disabled".to_string(),
    };
    lines.push(format!("#{:<5} {:<12} {}", f.id, status, f.name()));
    lines.push(format!("       {}", f.url));
    let every = format_duration(Duration::from_secs(f.poll_interval_s as u64));
    let last =
        f.last_polled_at.map(crate::commands::execute::date).unwrap_or_else(|| "never".into());
    let next = if f.disabled_reason.is_some() {
        "-".to_string()
    } else if f.next_poll_at <= now {
        "due now".to_string()
    } else {
        format!("in {}", format_duration(Duration::from_secs((f.next_poll_at - now) as u64)))
    };
    lines.push(format!("       every {every}, last poll {last}, next {next}"));
    if let Some(reason) = &f.disabled_reason
        && reason != "paused"
    {
        lines.push(format!(
            "       disabled: {reason} (resume with `herald feeds resume {}`)",
            f.id
        ));
    } else if let (Some(err), Some(kind)) = (&f.last_error, &f.last_error_kind) {
        lines.push(format!("       last error [{kind}]: {err}"));
    }
}
