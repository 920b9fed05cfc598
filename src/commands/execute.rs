//! Executing commands: permission once, then the family's `apply` methods (in
//! `cmd/<family>.rs`, beside its grammar) against the store, then a neutral [`Reply`].
//!
//! Every command runs inside a community (a server, a room, the console) and a channel;
//! it only ever sees and changes that community's feeds. What the families share lives
//! here: the `Core` itself, the caller's `Ctx`, feed resolution and date formatting.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::cmd::help::help;
use super::parse::{self, Command, FeedRef, Role};
use crate::clock::SharedClock;
use crate::deliver::port::Platforms;
use crate::domain::FeedUrl;
use crate::ingest::Fetcher;
use crate::reply::Reply;
use crate::store::{ChannelRow, CommunityFeed, Store, StoreError};

/// Who is asking, and where.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub community_id: i64,
    pub channel: ChannelRow,
    /// The platform's user id (for records and messages).
    pub user: String,
    /// The role the adapter mapped the user's platform permissions onto.
    pub role: Role,
    /// Operators (configured per platform, and the console) may do anything, anywhere.
    pub operator: bool,
    /// Whether `feeds import` may read a file on this machine (the console only).
    pub local_files: bool,
    /// Where the command acts: the community, or (the operator's command line only) the
    /// whole installation.
    pub scope: Scope,
}

/// Where a command acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Inside the context's community: every platform, and the console.
    #[default]
    Community,
    /// Over the whole installation: the operator's command line (`herald feeds …`), where
    /// `feeds list|remove|pause|resume|export` act on every feed, whoever follows it.
    Installation,
}

/// Limits an operator sets.
#[derive(Debug, Clone)]
pub struct CoreLimits {
    pub max_feeds_per_community: i64,
    pub default_interval: Duration,
    pub min_interval: Duration,
}

impl CoreLimits {
    /// The limits the configuration sets.
    pub fn from_config(config: &crate::config::Config) -> CoreLimits {
        CoreLimits::new(&config.poll, &config.community)
    }

    fn new(poll: &crate::config::PollConfig, community: &crate::config::CommunityConfig) -> Self {
        CoreLimits {
            max_feeds_per_community: community.max_feeds,
            default_interval: poll.default_interval,
            min_interval: poll.min_interval,
        }
    }
}

/// The configuration's defaults (one place: `config.rs`).
impl Default for CoreLimits {
    fn default() -> Self {
        CoreLimits::new(&Default::default(), &Default::default())
    }
}

/// Search results per page.
pub const PAGE_SIZE: i64 = 5;

/// The command core shared by every adapter.
#[derive(Clone)]
pub struct Core {
    pub(crate) store: Store,
    pub(crate) fetcher: Arc<Fetcher>,
    pub(crate) clock: SharedClock,
    pub(crate) limits: CoreLimits,
    /// Woken when something was queued for delivery, so posts go out at once.
    pub(crate) dispatch: Arc<Notify>,
    /// Woken when a feed was added, so its first poll happens at once.
    pub(crate) poll: Arc<Notify>,
    pub(crate) metrics: Option<crate::service::metrics::Metrics>,
    /// The outbound ports, asked for a channel's digest limits and community word.
    pub(crate) platforms: Platforms,
}

impl Core {
    pub fn new(
        store: Store,
        fetcher: Arc<Fetcher>,
        clock: SharedClock,
        limits: CoreLimits,
        dispatch: Arc<Notify>,
        poll: Arc<Notify>,
    ) -> Core {
        Core {
            store,
            fetcher,
            clock,
            limits,
            dispatch,
            poll,
            metrics: None,
            platforms: Platforms::default(),
        }
    }

    /// Counts commands (by name and outcome) and their latency in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::service::metrics::Metrics) -> Core {
        self.metrics = Some(metrics);
        self
    }

    /// Asks these platforms (as they register) for limits and words.
    pub fn with_platforms(mut self, platforms: Platforms) -> Core {
        self.platforms = platforms;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Parses `text`, checks permission and executes. Never fails: every problem is a
    /// reply that says what was wrong and the right form.
    pub async fn handle_text(&self, ctx: &Ctx, text: &str) -> Reply {
        match parse::parse(text) {
            Ok(cmd) => self.execute(ctx, cmd).await,
            Err(e) => Reply::error(e.to_string()),
        }
    }

    pub async fn execute(&self, ctx: &Ctx, cmd: Command) -> Reply {
        let Some(metrics) = &self.metrics else { return self.execute_unmeasured(ctx, cmd).await };
        let (name, started) = (cmd.name(), std::time::Instant::now());
        let reply = self.execute_unmeasured(ctx, cmd).await;
        metrics.command(name, reply.tone != crate::reply::Tone::Error, started.elapsed());
        reply
    }

    async fn execute_unmeasured(&self, ctx: &Ctx, cmd: Command) -> Reply {
        let needed = cmd.required_role();
        if !ctx.operator && ctx.role < needed {
            let place = self.platforms.community_noun(&ctx.channel.platform);
            let article = if needed == Role::Admin { "an" } else { "a" };
            return Reply::error(format!(
                "`{}` needs the {} role; you are {} {}. Ask {article} {} of this {place}.",
                cmd.name(),
                role_name(needed),
                if ctx.role == Role::Admin { "an" } else { "a" },
                role_name(ctx.role),
                role_name(needed),
            ));
        }
        match self.run(ctx, cmd).await {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!("command failed: {e}");
                Reply::error(
                    "Something went wrong on herald's side; nothing was changed. Try again shortly.",
                )
            }
        }
    }

    async fn run(&self, ctx: &Ctx, cmd: Command) -> Result<Reply, StoreError> {
        let now = self.clock.now();
        Ok(match cmd {
            Command::FeedsAdd { url, interval } => self.feeds_add(ctx, &url, interval).await?,
            Command::FeedsRemove { feed } => self.feeds_remove(ctx, &feed).await?,
            Command::FeedsList => self.feeds_list(ctx, now).await?,
            Command::FeedsPause { feed } => self.feed_pause(ctx, &feed).await?,
            Command::FeedsResume { feed } => self.feed_resume(ctx, &feed).await?,
            Command::FeedsImport { source } => self.feeds_import(ctx, &source).await?,
            Command::FeedsExport => self.feeds_export(ctx).await?,
            Command::Subscribe { feed, mode, include, exclude, options } => {
                self.subscribe(ctx, &feed, mode, &include, &exclude, &options).await?
            }
            Command::Unsubscribe { feed } => self.unsubscribe(ctx, &feed).await?,
            Command::Subscriptions => self.subscriptions(ctx).await?,
            Command::DigestSchedule { schedule } => {
                self.digest_schedule(ctx, &schedule, now).await?
            }
            Command::DigestNow => self.digest_now(ctx, now).await?,
            Command::DigestPreview => self.digest_preview(ctx, now).await?,
            Command::Search { query, feed, since, page } => {
                self.search(ctx, &query, feed, since, page).await?
            }
            Command::Article { id } => self.article(ctx, id).await?,
            Command::Latest { feed, count } => self.latest(ctx, feed, count).await?,
            Command::Help { topic } => help(topic.as_deref()),
        })
    }

    /// Finds a feed among the community's, or a reply that says what went wrong, with a
    /// suggestion on a near miss.
    pub(crate) async fn resolve(
        &self,
        ctx: &Ctx,
        feed: &FeedRef,
    ) -> Result<Result<CommunityFeed, Reply>, StoreError> {
        let feeds = self.store.community_feeds(ctx.community_id).await?;
        let found = match feed {
            FeedRef::Id(id) => feeds.iter().find(|f| f.feed.id == *id),
            FeedRef::Url(url) => {
                let wanted =
                    FeedUrl::parse(url).map(|u| u.to_string()).unwrap_or_else(|_| url.clone());
                feeds.iter().find(|f| {
                    f.feed.url == wanted
                        || f.feed.url.trim_end_matches('/') == wanted.trim_end_matches('/')
                })
            }
            FeedRef::Name(name) => {
                let lower = name.to_lowercase();
                feeds.iter().find(|f| f.feed.name().to_lowercase() == lower).or_else(|| {
                    let mut partial =
                        feeds.iter().filter(|f| f.feed.name().to_lowercase().contains(&lower));
                    match (partial.next(), partial.next()) {
                        (Some(one), None) => Some(one),
                        _ => None,
                    }
                })
            }
        };
        if let Some(f) = found {
            return Ok(Ok(f.clone()));
        }
        let typed = match feed {
            FeedRef::Id(id) => format!("#{id}"),
            FeedRef::Url(u) => u.clone(),
            FeedRef::Name(n) => n.clone(),
        };
        let suggestion = feeds
            .iter()
            .map(|f| {
                (
                    strsim::normalized_levenshtein(
                        &typed.to_lowercase(),
                        &f.feed.name().to_lowercase(),
                    ),
                    f,
                )
            })
            .filter(|(score, _)| *score >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, f)| format!(" Did you mean #{} {}?", f.feed.id, f.feed.name()))
            .unwrap_or_default();
        Ok(Err(Reply::error(format!(
            "No feed \"{typed}\" in this community.{suggestion} See `feeds list` for ids and names."
        ))))
    }

    pub(crate) async fn feed_names(&self, ctx: &Ctx) -> Result<FeedNames, StoreError> {
        Ok(FeedNames(
            self.store
                .community_feeds(ctx.community_id)
                .await?
                .into_iter()
                .map(|f| (f.feed.id, f.feed.name().to_string()))
                .collect(),
        ))
    }
}

pub(crate) struct FeedNames(Vec<(i64, String)>);

impl FeedNames {
    pub(crate) fn name(&self, id: i64) -> &str {
        self.0.iter().find(|(i, _)| *i == id).map(|(_, n)| n.as_str()).unwrap_or("?")
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Member => "member",
        Role::ChannelManager => "channel manager",
        Role::Admin => "admin",
    }
}

/// The channel's time zone: its digest schedule's, else UTC.
pub(crate) fn channel_tz(channel: &ChannelRow) -> chrono_tz::Tz {
    channel.digest_tz.as_deref().and_then(|t| t.parse().ok()).unwrap_or(chrono_tz::UTC)
}

pub(crate) fn at(ts: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts, 0)
}

pub(crate) fn date(ts: i64) -> String {
    at(ts).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

pub(crate) fn local_time(ts: i64, tz: &str) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    at(ts).map(|t| t.with_timezone(&tz).format("%a %d %b %H:%M %Z").to_string()).unwrap_or_default()
}
