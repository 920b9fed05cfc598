//! Executing commands: permission once, then the store, then a neutral [`Reply`].
//!
//! Every command runs inside a community (a server, a room, the console) and a channel; it only ever sees and changes that community's feeds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::parse::{self, Command, DeliveryMode, FeedRef, Role};
use crate::clock::SharedClock;
use crate::deliver::digest::compose_digest;
use crate::deliver::outbox::digest_articles;
use crate::deliver::port::Platforms;
use crate::domain::FeedUrl;
use crate::domain::schedule::Schedule;
use crate::domain::units::format_duration;
use crate::ingest::Fetcher;
use crate::ingest::add::{AddFeedError, AddRequest, IntervalLimits, add_feed};
use crate::ingest::fetch::{FetchKind, Fetched};
use crate::ingest::opml::{OpmlFeed, parse_opml, write_opml};
use crate::reply::{Item, Page, Reply, Tone};
use crate::store::{
    ChannelRow, CommunityFeed, FeedRow, FeedStatus, SearchScope, Store, StoreError,
};

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
    store: Store,
    fetcher: Arc<Fetcher>,
    clock: SharedClock,
    limits: CoreLimits,
    /// Woken when something was queued for delivery, so posts go out at once.
    dispatch: Arc<Notify>,
    /// Woken when a feed was added, so its first poll happens at once.
    poll: Arc<Notify>,
    metrics: Option<crate::service::metrics::Metrics>,
    /// The outbound ports, asked for a channel's digest limits and community word.
    platforms: Platforms,
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
            Command::Subscribe { feed, mode, include, exclude } => {
                self.subscribe(ctx, &feed, mode, &include, &exclude).await?
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

    async fn feeds_remove(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
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

    async fn feeds_export(&self, ctx: &Ctx) -> Result<Reply, StoreError> {
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

    async fn unsubscribe(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
        Ok(match self.resolve(ctx, feed).await? {
            Err(reply) => reply,
            Ok(f) => {
                if self.store.unsubscribe(ctx.channel.id, f.feed.id).await? {
                    Reply::success(format!("This channel no longer receives {}.", f.feed.name()))
                } else {
                    Reply::error(format!(
                        "This channel is not subscribed to {}. See `subscriptions`.",
                        f.feed.name()
                    ))
                }
            }
        })
    }

    async fn digest_schedule(
        &self,
        ctx: &Ctx,
        schedule: &Schedule,
        now: i64,
    ) -> Result<Reply, StoreError> {
        let next = at(now).map(|t| schedule.next_after(t).timestamp());
        self.store
            .set_digest_schedule(
                ctx.channel.id,
                Some((&schedule.spec(), schedule.tz_name())),
                Some(now),
                next,
            )
            .await?;
        self.store.set_channel_paused(ctx.channel.id, None).await?;
        let when = next.map(|n| local_time(n, schedule.tz_name())).unwrap_or_default();
        Ok(Reply::success(format!(
            "Digest schedule for this channel: {schedule}. Next digest: {when}. \
             Articles from `digest`-mode subscriptions go into it."
        )))
    }

    async fn digest_now(&self, ctx: &Ctx, now: i64) -> Result<Reply, StoreError> {
        // Windows are half-open, [start, end): up to and including this second.
        // The store takes the start itself, so two requests never overlap.
        Ok(match self.store.open_digest(ctx.channel.id, now + 1, None, now).await? {
            None => Reply::info("Nothing new since the last digest."),
            Some(_) => {
                self.dispatch.notify_one();
                Reply::success("Digest on its way (nothing is posted if there is nothing new).")
            }
        })
    }

    async fn digest_preview(&self, ctx: &Ctx, now: i64) -> Result<Reply, StoreError> {
        let channel =
            self.store.channel(ctx.channel.id).await?.unwrap_or_else(|| ctx.channel.clone());
        let start = channel.digest_last_end.unwrap_or(channel.created_at);
        let sources = self.store.digest_sources(ctx.channel.id, start, now + 1).await?;
        let tz = channel_tz(&channel);
        let parts = compose_digest(
            start,
            now + 1,
            tz,
            digest_articles(sources),
            &self.platforms.digest_limits(&channel.platform),
        );
        Ok(match parts.into_iter().next() {
            None => Reply::info(
                "The next digest is empty so far: no digest-mode articles since the last one.",
            ),
            Some(mut first) => {
                first.visibility = crate::reply::Visibility::Private;
                first.title = first.title.map(|t| format!("Preview: {t}"));
                first
            }
        })
    }

    async fn feeds_add(
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

    fn interval_limits(&self) -> IntervalLimits {
        IntervalLimits { default: self.limits.default_interval, min: self.limits.min_interval }
    }

    async fn feeds_list(&self, ctx: &Ctx, now: i64) -> Result<Reply, StoreError> {
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

    async fn feed_pause(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
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

    async fn feed_resume(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
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

    async fn feeds_import(&self, ctx: &Ctx, source: &str) -> Result<Reply, StoreError> {
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

    async fn subscribe(
        &self,
        ctx: &Ctx,
        feed: &FeedRef,
        mode: DeliveryMode,
        include: &[String],
        exclude: &[String],
    ) -> Result<Reply, StoreError> {
        let f = match self.resolve(ctx, feed).await? {
            Ok(f) => f.feed,
            Err(reply) => {
                // An admin may subscribe to a URL the community does not follow yet.
                let FeedRef::Url(url) = feed else { return Ok(reply) };
                if !(ctx.operator || ctx.role >= Role::Admin) {
                    return Ok(Reply::error(format!(
                        "This community does not follow {url} yet; an admin adds it with `feeds add {url}`."
                    )));
                }
                let added = self.feeds_add(ctx, url, None).await?;
                if added.tone == Tone::Error {
                    return Ok(added);
                }
                match self.resolve(ctx, feed).await? {
                    Ok(f) => f.feed,
                    Err(reply) => return Ok(reply),
                }
            }
        };
        let mode_word = match mode {
            DeliveryMode::Instant => "instant",
            DeliveryMode::Digest => "digest",
        };
        let now = self.clock.now();
        let (_, created) = self
            .store
            .subscribe(ctx.channel.id, f.id, mode_word, include, exclude, Some(&ctx.user), now)
            .await?;
        self.store.set_channel_paused(ctx.channel.id, None).await?;
        let mut text = format!(
            "{} this channel to {} ({mode_word}).",
            if created { "Subscribed" } else { "Updated the subscription of" },
            f.name()
        );
        if !include.is_empty() {
            text.push_str(&format!(" Only articles mentioning: {}.", include.join(", ")));
        }
        if !exclude.is_empty() {
            text.push_str(&format!(" Never articles mentioning: {}.", exclude.join(", ")));
        }
        if mode == DeliveryMode::Digest && ctx.channel.digest_spec.is_none() {
            text.push_str(" This channel has no digest schedule yet: set one with `digest schedule daily 08:00 Europe/Paris`.");
        }
        text.push_str(" New articles from now on will be posted.");
        Ok(Reply::success(text))
    }

    async fn subscriptions(&self, ctx: &Ctx) -> Result<Reply, StoreError> {
        let subs = self.store.channel_subscriptions(ctx.channel.id).await?;
        let channel =
            self.store.channel(ctx.channel.id).await?.unwrap_or_else(|| ctx.channel.clone());
        let mut reply = Reply::info(String::new())
            .with_title(format!("{} subscription(s) in this channel", subs.len()));
        if let Some(reason) = &channel.paused_reason {
            reply.text = format!(
                "Posting here is paused: {reason}. Fix the bot's access, then run `subscribe FEED` (or `digest schedule`) here to resume."
            );
        }
        let (expired, last_error) = self.store.channel_expired(ctx.channel.id).await?;
        if expired > 0 {
            reply = reply.with_field(
                "given up",
                format!(
                    "{expired} post(s) could not be delivered in time and expired (last error: {})",
                    last_error.as_deref().unwrap_or("none")
                ),
            );
        }
        if let (Some(spec), tz) =
            (&channel.digest_spec, channel.digest_tz.as_deref().unwrap_or("UTC"))
        {
            let next = channel.digest_next_at.map(|n| local_time(n, tz)).unwrap_or_default();
            reply = reply.with_field("digest", format!("{spec} {tz}; next {next}"));
        }
        let items = subs
            .iter()
            .map(|(s, f)| {
                let mut filters = Vec::new();
                let (inc, exc) = (s.include(), s.exclude());
                if !inc.is_empty() {
                    filters.push(format!("include {}", inc.join(", ")));
                }
                if !exc.is_empty() {
                    filters.push(format!("exclude {}", exc.join(", ")));
                }
                Item {
                    title: format!("#{} {}", f.id, f.name()),
                    url: Some(f.url.clone()),
                    text: if filters.is_empty() {
                        s.mode.clone()
                    } else {
                        format!("{}; {}", s.mode, filters.join("; "))
                    },
                    meta: None,
                    also_in: Vec::new(),
                    marks: Vec::new(),
                }
            })
            .collect::<Vec<_>>();
        if items.is_empty() && reply.text.is_empty() {
            reply.text =
                "None yet. A channel manager subscribes with `subscribe FEED [instant|digest]`."
                    .into();
        }
        Ok(reply.with_section(None, items))
    }

    async fn search(
        &self,
        ctx: &Ctx,
        query: &str,
        feed: Option<FeedRef>,
        since: Option<parse::Since>,
        page: u32,
    ) -> Result<Reply, StoreError> {
        let terms = crate::store::search_term_count(query);
        if terms > crate::store::MAX_SEARCH_TERMS {
            return Ok(Reply::error(format!(
                "A search takes at most {} words or \"phrases\"; this one has {terms}. Keep the few that matter most.",
                crate::store::MAX_SEARCH_TERMS
            )));
        }
        let feed_id = match &feed {
            Some(r) => match self.resolve(ctx, r).await? {
                Ok(f) => Some([f.feed.id]),
                Err(reply) => return Ok(reply),
            },
            None => None,
        };
        let scope = match &feed_id {
            Some(one) => SearchScope::Feeds(one),
            None => SearchScope::Community(ctx.community_id),
        };
        let now = at(self.clock.now()).unwrap_or_default();
        // A date means midnight where the channel lives (its digest zone), as documented.
        let cutoff = since.map(|s| s.cutoff(now, channel_tz(&ctx.channel)).timestamp());
        let page = page.max(1);
        let offset = (page as i64 - 1) * PAGE_SIZE;
        let mut hits =
            self.store.search_articles(query, scope, cutoff, PAGE_SIZE + 1, offset).await?;
        let has_next = hits.len() as i64 > PAGE_SIZE;
        hits.truncate(PAGE_SIZE as usize);
        if hits.is_empty() {
            let text = if page > 1 {
                format!("No more results for \"{query}\".")
            } else {
                format!("No articles match \"{query}\".")
            };
            return Ok(Reply::public(Tone::Info, text));
        }
        let names = self.feed_names(ctx).await?;
        let items = hits
            .into_iter()
            .map(|h| Item {
                title: h.title.unwrap_or_else(|| "(untitled)".into()),
                url: h.url,
                // Same length, so the match ranges still hold.
                text: h.snippet.replace('\n', " "),
                meta: Some(format!(
                    "{} · {} · #{}",
                    names.name(h.feed_id),
                    date(h.published_at.unwrap_or(h.fetched_at)),
                    h.id
                )),
                also_in: Vec::new(),
                marks: h.marks,
            })
            .collect();
        let mut reply = Reply::public(Tone::Info, String::new())
            .with_title(format!("Search: {query}"))
            .with_section(None, items);
        reply.page = Some(Page {
            number: page,
            has_next,
            next_command: has_next.then(|| format!("search {query} --page {}", page + 1)),
        });
        Ok(reply)
    }

    async fn article(&self, ctx: &Ctx, id: i64) -> Result<Reply, StoreError> {
        let feeds = self.store.community_feed_ids(ctx.community_id).await?;
        let Some(a) = self.store.article(id).await?.filter(|a| feeds.contains(&a.feed_id)) else {
            return Ok(Reply::error(format!(
                "No article #{id} in the feeds this community follows. Find ids with `search` or `latest`."
            )));
        };
        let names = self.feed_names(ctx).await?;
        let mut reply = Reply::public(Tone::Article, a.summary.clone())
            .with_title(a.title.clone().unwrap_or_else(|| "(untitled)".into()))
            .with_url(a.url.clone())
            .with_field("feed", names.name(a.feed_id).to_string())
            .with_published(a.published_at.unwrap_or(a.fetched_at))
            .with_footer(format!("#{}", a.id));
        reply.image_url = a.image_url.clone();
        Ok(reply)
    }

    async fn latest(
        &self,
        ctx: &Ctx,
        feed: Option<FeedRef>,
        count: u32,
    ) -> Result<Reply, StoreError> {
        let feeds = match &feed {
            Some(r) => match self.resolve(ctx, r).await? {
                Ok(f) => vec![f.feed.id],
                Err(reply) => return Ok(reply),
            },
            None => self.store.community_feed_ids(ctx.community_id).await?,
        };
        let articles = self.store.latest_articles(&feeds, i64::from(count.max(1))).await?;
        if articles.is_empty() {
            return Ok(Reply::public(
                Tone::Info,
                "Nothing stored yet from the feeds this community follows.",
            ));
        }
        let names = self.feed_names(ctx).await?;
        let items = articles
            .into_iter()
            .map(|a| Item {
                meta: Some(format!(
                    "{} · {} · #{}",
                    names.name(a.feed_id),
                    date(a.published_at.unwrap_or(a.fetched_at)),
                    a.id
                )),
                title: a.title.unwrap_or_else(|| "(untitled)".into()),
                url: a.url,
                text: first_sentences(&a.summary, 2),
                also_in: Vec::new(),
                marks: Vec::new(),
            })
            .collect();
        Ok(Reply::public(Tone::Info, String::new())
            .with_title("Latest articles")
            .with_section(None, items))
    }

    /// Finds a feed among the community's, or a reply that says what went wrong, with a
    /// suggestion on a near miss.
    async fn resolve(
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

    async fn feed_names(&self, ctx: &Ctx) -> Result<FeedNames, StoreError> {
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

fn help(topic: Option<&str>) -> Reply {
    let text = match topic.and_then(parse::help_topic) {
        Some(t) => t,
        None => parse::help_text(),
    };
    Reply::info(text).with_title("herald commands")
}

struct FeedNames(Vec<(i64, String)>);

impl FeedNames {
    fn name(&self, id: i64) -> &str {
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

/// The channel's time zone: its digest schedule's, else UTC.
fn channel_tz(channel: &ChannelRow) -> chrono_tz::Tz {
    channel.digest_tz.as_deref().and_then(|t| t.parse().ok()).unwrap_or(chrono_tz::UTC)
}

fn at(ts: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts, 0)
}

fn date(ts: i64) -> String {
    at(ts).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

fn local_time(ts: i64, tz: &str) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    at(ts).map(|t| t.with_timezone(&tz).format("%a %d %b %H:%M %Z").to_string()).unwrap_or_default()
}

/// The first `n` sentences of a stored summary (its sentences end with ". ").
fn first_sentences(summary: &str, n: usize) -> String {
    let sentences = crate::summarize::split_sentences(summary);
    sentences.into_iter().take(n).collect::<Vec<_>>().join(" ")
}
