//! Polling: the schedule, conditional GET, backoff and auto-disable of failing feeds,
//! and the conversion of new items into stored articles.
//!
//! The poller keeps no state of its own between rounds: which feeds are due, their
//! validators and failure counts all live in the store, so a restart (or a second
//! process) picks up exactly where the last one stopped.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::stream::FuturesOrdered;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, info, warn};
use url::Url;

use super::fetch::{FetchError, FetchKind, Fetched, Fetcher, Validators};
use super::parse::{FeedParseError, ParsedEntry, parse_feed_with};
use super::text::html_to_text;
use super::unchanged::UnchangedRecords;
use crate::clock::{SharedClock, Timestamp};
use crate::config::PollConfig;
use crate::domain::filter::{Fields, Filter, Haystack};
use crate::extract;
use crate::store::{
    FeedRow, NewArticle, PollRecord, PollSuccess, Store, StoreError, SubscriptionRow, UnchangedPoll,
};
use crate::summarize::Summarizer;

/// A claimed feed's lease beyond its poll's limit: the poll's own record is written by then.
const CLAIM_SLACK_S: i64 = 15;
/// Below this many characters an extracted page is not trusted over the feed's text.
const MIN_PAGE_TEXT: usize = 200;
/// Sentences in a stored summary.
pub use crate::summarize::SUMMARY_SENTENCES;
/// Feeds up to this size are parsed on the poll's own thread.
const INLINE_PARSE_BYTES: usize = 256 * 1024;
/// Articles written per transaction when a poll stores many (a long history).
const WRITE_SLICE: usize = 500;
/// Pages fetched at once for one feed's new items.
const PAGES_PER_FEED: usize = 4;
/// How often a running poll loop looks for feeds that fell due while others are polled.
const CLAIM_TICK: Duration = Duration::from_secs(1);
/// The longest an idle poll loop sleeps before it looks for due feeds again.
const IDLE_LOOK_S: i64 = 5;
/// How often the running loop applies the retention policy.
const RETENTION_EVERY_S: i64 = 3600;

/// What one poll of one feed did.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedOutcome {
    NotModified,
    Updated {
        new_articles: Vec<i64>,
        backfilled: usize,
    },
    /// `new_articles`: what the poll had finished and stored before it was cut short.
    Failed {
        error: String,
        kind: &'static str,
        failures: i64,
        disabled: bool,
        new_articles: Vec<i64>,
    },
}

/// Articles a poll has built and not yet stored, each with the channels it goes to.
type Finished = Vec<(NewArticle, Vec<i64>)>;

/// What a round of polling did.
#[derive(Debug, Clone, Default)]
pub struct PollReport {
    pub polled: usize,
    pub not_modified: usize,
    pub updated: usize,
    pub failed: usize,
    pub new_articles: Vec<i64>,
}

impl PollReport {
    fn add(&mut self, outcome: FeedOutcome) {
        self.polled += 1;
        match outcome {
            FeedOutcome::NotModified => self.not_modified += 1,
            FeedOutcome::Updated { new_articles, .. } => {
                self.updated += 1;
                self.new_articles.extend(new_articles);
            }
            FeedOutcome::Failed { new_articles, .. } => {
                self.failed += 1;
                self.new_articles.extend(new_articles);
            }
        }
    }
}

/// How a running poll loop is steered.
struct Signals {
    shutdown: watch::Receiver<bool>,
    wake: Arc<Notify>,
    new_articles: Arc<Notify>,
}

/// Polls feeds and stores their articles.
#[derive(Clone)]
pub struct Poller {
    store: Store,
    fetcher: Arc<Fetcher>,
    cfg: PollConfig,
    clock: SharedClock,
    summarizer: Arc<dyn Summarizer>,
    metrics: Option<crate::service::metrics::Metrics>,
    /// The whole-poll limit, when not the one derived from the other limits.
    poll_limit: Option<Duration>,
    /// Extractions and summaries running at once, across all polls: one per core. They
    /// are CPU-bound, so more would not finish sooner; each holds a page's DOM or a
    /// text's terms, and each blocking thread its own allocator arena.
    cpu_work: Arc<Semaphore>,
    /// Records of unchanged (304) polls, written in batches.
    unchanged: Arc<UnchangedRecords>,
}

/// Why a poll of a feed failed.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Parse(#[from] FeedParseError),
    /// The whole poll outran its time budget (a safety net: each step has its own).
    #[error("the poll took longer than {}s and was stopped", .0.as_secs())]
    OverBudget(Duration),
    /// A bug in herald met this feed. The feed records it; the process goes on.
    #[error("herald failed on this feed (internal error: {0}); it will retry")]
    Crashed(String),
}

impl PollError {
    fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => e.kind(),
            PollError::Parse(_) => "not-a-feed",
            PollError::OverBudget(_) => "timeout",
            PollError::Crashed(_) => "internal",
        }
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

impl Poller {
    pub fn new(
        store: Store,
        fetcher: Arc<Fetcher>,
        cfg: PollConfig,
        clock: SharedClock,
        summarizer: Arc<dyn Summarizer>,
    ) -> Poller {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Poller {
            store,
            fetcher,
            cfg,
            clock,
            summarizer,
            metrics: None,
            poll_limit: None,
            cpu_work: Arc::new(Semaphore::new(cores)),
            unchanged: Arc::new(UnchangedRecords::default()),
        }
    }

    /// Sets the whole-poll limit (by default the fetch's timeouts, the feed's time for
    /// pages and 30 s for storing): tests cut polls short with it.
    pub fn with_poll_limit(mut self, limit: Duration) -> Poller {
        self.poll_limit = Some(limit);
        self
    }

    /// Counts polls (outcome, error category, time) and loop turns in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::service::metrics::Metrics) -> Poller {
        self.metrics = Some(metrics);
        self
    }

    /// Polls every feed that is due now, at most `slots` at a time, until none is due.
    pub async fn poll_due(&self, slots: usize) -> Result<PollReport, StoreError> {
        self.pipeline(slots, None).await
    }

    /// Polls until `shutdown` turns true: feeds are claimed as they fall due and as
    /// slots free up, so a slow feed holds one slot, never the others. `wake` asks for
    /// an early look (a feed was added); `new_articles` is told when a poll stored news.
    pub async fn run(
        &self,
        shutdown: watch::Receiver<bool>,
        slots: usize,
        wake: Arc<Notify>,
        new_articles: Arc<Notify>,
    ) {
        let signals = Signals { shutdown, wake, new_articles };
        if let Err(e) = self.pipeline(slots, Some(signals)).await {
            warn!("the poll loop stopped: {e}");
        }
    }

    /// The poll loop. Without `signals` it returns when nothing is due and nothing runs;
    /// with them it runs until shutdown, then lets polls in flight finish.
    async fn pipeline(
        &self,
        slots: usize,
        mut signals: Option<Signals>,
    ) -> Result<PollReport, StoreError> {
        let slots = slots.max(1);
        let claim_batch = (slots / 4).max(1);
        let mut look = true;
        let mut report = PollReport::default();
        // Each poll is a task of its own: a poll left unpolled while the loop awaits the
        // store (as futures in a local set would be) could hold the one writer connection
        // the loop is waiting for.
        let mut running: JoinSet<Result<FeedOutcome, StoreError>> = JoinSet::new();
        let mut stopping = false;
        let mut next_retention = self.clock.now();
        loop {
            if let Some(sig) = &signals {
                stopping |= *sig.shutdown.borrow();
                if let Some(m) = &self.metrics {
                    m.poller_tick();
                }
            }
            // Claims go in batches (a quarter of the slots, or whenever nothing runs, or
            // at the loop's regular look): a claim is a write, and one per finished poll
            // would double an idle round's writes.
            if !stopping
                && running.len() < slots
                && (look || running.is_empty() || slots - running.len() >= claim_batch)
            {
                look = false;
                let free = (slots - running.len()) as i64;
                // A claimed feed's poll starts at once and is over within its budget, so
                // a lease of that (and slack) runs out only for a poller that died.
                let lease_s = self.poll_budget().as_secs() as i64 + CLAIM_SLACK_S;
                match self.store.claim_due_feeds(self.clock.now(), lease_s, free).await {
                    Ok(feeds) => {
                        for feed in feeds {
                            let poller = self.clone();
                            running.spawn(async move { poller.poll_guarded(feed).await });
                        }
                    }
                    Err(e) if signals.is_some() => warn!("claiming due feeds failed: {e}"),
                    Err(e) => return Err(e),
                }
            }
            let Some(sig) = signals.as_mut() else {
                // Once: wait for the running polls; stop when none runs and none is due.
                match running.join_next().await {
                    Some(Ok(outcome)) => report.add(outcome?),
                    Some(Err(join)) => warn!("a poll task failed: {join}"),
                    None => return Ok(report),
                }
                continue;
            };
            if !stopping && self.clock.now() >= next_retention {
                next_retention = self.clock.now() + RETENTION_EVERY_S;
                match self.apply_retention().await {
                    Ok(0) => {}
                    Ok(n) => info!(deleted = n, "retention: old articles removed"),
                    Err(e) => warn!("retention failed: {e}"),
                }
            }
            if running.is_empty() {
                if stopping {
                    return Ok(report);
                }
                // Another process (the operator CLI, a second herald) may make a feed
                // due at any time: look again every few seconds, not only at the next
                // due time known here.
                let now = self.clock.now();
                let wait = match self.store.next_due_at().await {
                    Ok(Some(next)) => (next - now).clamp(1, IDLE_LOOK_S),
                    Ok(None) => IDLE_LOOK_S,
                    Err(e) => {
                        warn!("reading the schedule failed: {e}");
                        IDLE_LOOK_S
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
                    _ = sig.wake.notified() => {}
                    _ = sig.shutdown.changed() => stopping = true,
                }
                continue;
            }
            let free = running.len() < slots && !stopping;
            tokio::select! {
                Some(outcome) = running.join_next() => match outcome.map_err(|e| e.to_string()) {
                    Ok(Ok(o)) => {
                        let news = matches!(
                            &o,
                            FeedOutcome::Updated { new_articles, .. }
                            | FeedOutcome::Failed { new_articles, .. } if !new_articles.is_empty()
                        );
                        report.add(o);
                        if news {
                            sig.new_articles.notify_one();
                        }
                    }
                    Ok(Err(e)) => warn!("recording a poll failed: {e}"),
                    Err(e) => warn!("a poll task failed: {e}"),
                },
                _ = tokio::time::sleep(CLAIM_TICK), if free => look = true,
                _ = sig.wake.notified(), if free => look = true,
                _ = sig.shutdown.changed(), if !stopping => stopping = true,
            }
        }
    }

    /// Polls one claimed feed within its time budget; a panic in herald's own code is
    /// caught and recorded as the feed's error instead of ending the loop.
    async fn poll_guarded(&self, feed: FeedRow) -> Result<FeedOutcome, StoreError> {
        let Some(metrics) = &self.metrics else { return self.poll_bounded(feed).await };
        let started = std::time::Instant::now();
        let outcome = self.poll_bounded(feed).await;
        let (name, kind, new) = match &outcome {
            Ok(FeedOutcome::NotModified) => ("not_modified", "", 0),
            Ok(FeedOutcome::Updated { new_articles, .. }) => ("updated", "", new_articles.len()),
            Ok(FeedOutcome::Failed { kind, .. }) => ("failed", *kind, 0),
            Err(_) => ("failed", "store", 0),
        };
        metrics.poll(name, kind, started.elapsed(), new);
        outcome
    }

    /// Polls one claimed feed within the whole-poll limit. A poll cut short (the limit,
    /// or a panic) loses none of the articles it had finished: they are stored (with
    /// their deliveries, in order) before the failure is recorded, and the next poll,
    /// which gets the whole feed again, takes up the rest.
    async fn poll_bounded(&self, feed: FeedRow) -> Result<FeedOutcome, StoreError> {
        let budget = self.poll_budget();
        let mut finished = Finished::new();
        let attempt = AssertUnwindSafe(self.fetch_and_store(&feed, &mut finished)).catch_unwind();
        let result = tokio::time::timeout(budget, attempt).await;
        let error = match result {
            Ok(Ok(Ok(Ok(outcome)))) => return Ok(outcome),
            Ok(Ok(Ok(Err(poll_error)))) => poll_error,
            Ok(Ok(Err(store_error))) => return Err(store_error),
            Ok(Err(panic)) => PollError::Crashed(panic_message(panic.as_ref())),
            Err(_) => PollError::OverBudget(budget),
        };
        if matches!(error, PollError::Crashed(_)) {
            tracing::error!(feed = feed.id, url = %feed.url, "{error}");
        }
        let mut stored = Vec::new();
        if !finished.is_empty() {
            // Without the poll's record: the feed keeps its validators (and `primed`),
            // so the next poll reads the whole feed and skips what is stored here.
            let now = self.clock.now();
            let history = finished.first().is_some_and(|(a, _)| a.backfill);
            let enqueued = self.store.store_poll_articles(&finished, now, None).await?;
            stored = enqueued.into_iter().flatten().map(|e| e.article_id).collect();
            info!(
                feed = feed.id,
                url = %feed.url,
                stored = stored.len(),
                "the poll was cut short; the articles it had finished are stored"
            );
            if history {
                stored.clear();
            }
        }
        let mut outcome = self.record_failure(&feed, &error).await?;
        if let FeedOutcome::Failed { new_articles, .. } = &mut outcome {
            *new_articles = stored;
        }
        Ok(outcome)
    }

    /// The most one feed's poll may take: its fetch, its pages, and slack for storing.
    fn poll_budget(&self) -> Duration {
        if let Some(limit) = self.poll_limit {
            return limit;
        }
        let fetch = self.fetcher.config().request_timeout + self.fetcher.config().connect_timeout;
        fetch + self.cfg.page_budget + Duration::from_secs(30)
    }

    /// Polls one feed now and records the outcome.
    pub async fn poll_feed(&self, feed: &FeedRow) -> Result<FeedOutcome, StoreError> {
        self.poll_guarded(feed.clone()).await
    }

    /// Deletes articles past the retention age or beyond each feed's cap, keeping any
    /// that a delivery still owes. Returns how many went.
    pub async fn apply_retention(&self) -> Result<u64, StoreError> {
        let older_than = self.cfg.retention.map(|age| self.clock.now() - age.as_secs() as i64);
        self.store.prune_articles(older_than, self.cfg.max_articles_per_feed).await
    }

    /// Fetches, parses and builds the feed's new articles into `finished` (in the order
    /// they are to be stored), then stores them with the poll's record.
    async fn fetch_and_store(
        &self,
        feed: &FeedRow,
        finished: &mut Finished,
    ) -> Result<Result<FeedOutcome, PollError>, StoreError> {
        let url = match Url::parse(&feed.url) {
            Ok(u) => u,
            Err(e) => {
                return Ok(Err(FetchError::Other(format!("stored URL is invalid: {e}")).into()));
            }
        };
        let validators =
            Validators { etag: feed.etag.clone(), last_modified: feed.last_modified.clone() };
        let fetched = match self.fetcher.fetch(&url, FetchKind::Feed, Some(&validators)).await {
            Ok(f) => f,
            Err(e) => return Ok(Err(e.into())),
        };
        let now = self.clock.now();
        let body = match fetched {
            Fetched::NotModified { max_age } => {
                let next = self.next_poll_after_success(feed, max_age, now);
                let poll = UnchangedPoll { feed_id: feed.id, now, next_poll_at: next };
                self.unchanged.record(&self.store, poll).await?;
                debug!(feed = feed.id, "not modified");
                return Ok(Ok(FeedOutcome::NotModified));
            }
            Fetched::Body(body) => body,
        };
        let base = body.url.to_string();
        let bytes = body.bytes;
        let content_type = body.content_type.clone();
        // A typical feed (tens of KB) parses in well under a millisecond: parsing it here
        // costs less than handing it to a blocking thread and back. Larger ones (up to
        // the feed cap) go to a blocking thread so they never stall other polls. A panic
        // either way is this poll's error (`poll_bounded`).
        let parsed = if bytes.len() <= INLINE_PARSE_BYTES {
            parse_feed_with(&bytes, Some(&base), content_type.as_deref())
        } else {
            tokio::task::spawn_blocking(move || {
                parse_feed_with(&bytes, Some(&base), content_type.as_deref())
            })
            .await
            .unwrap_or_else(|join| Err(FeedParseError::Invalid(format!("parser crashed: {join}"))))
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.into())),
        };

        let keys: Vec<String> = parsed.entries.iter().map(|e| e.key.clone()).collect();
        let known = self.store.known_item_keys(feed.id, &keys).await?;
        let backfill = !feed.primed;
        let mut fresh: Vec<ParsedEntry> =
            parsed.entries.iter().filter(|e| !known.contains(&e.key)).cloned().collect();
        // News is taken oldest first, so that what waits for the next poll is the newest
        // and posts keep their order. Feeds list newest first: undated items keep that
        // order reversed.
        fresh.reverse();
        fresh.sort_by_key(|e| e.published.map(|t| t.timestamp()).unwrap_or(i64::MIN));
        let mut deferred = 0;
        if !backfill && fresh.len() > self.cfg.max_new_per_poll {
            deferred = fresh.len() - self.cfg.max_new_per_poll;
            fresh.truncate(self.cfg.max_new_per_poll);
            info!(
                feed = feed.id,
                url = %feed.url,
                deferred,
                "more new items than one poll takes; the rest wait for the next poll"
            );
        }
        let pages_until = Instant::now() + self.cfg.page_budget;

        let subscriptions = if backfill || fresh.is_empty() {
            Vec::new()
        } else {
            self.store.instant_subscriptions(feed.id).await?
        };
        // Filters are parsed once per poll, not once per article.
        let subscriptions = subscribers(&subscriptions);
        // Built in order (pages of news fetched a few at a time) into `finished`, written
        // at the end; what is finished when the poll is cut short is written by
        // `poll_bounded`.
        finished.reserve(fresh.len());
        if backfill {
            finished.extend(
                fresh.iter().map(|e| (history_article(feed.id, e, self.clock.now()), Vec::new())),
            );
        } else {
            let lang = Arc::new(OnceLock::new());
            let mut pending = fresh.into_iter();
            let mut building = FuturesOrdered::new();
            loop {
                while building.len() < PAGES_PER_FEED {
                    let Some(entry) = pending.next() else { break };
                    building.push_back(self.build_article(
                        feed.id,
                        entry,
                        pages_until,
                        lang.clone(),
                    ));
                }
                let Some(article) = building.next().await else { break };
                let channels = fan_out(&subscriptions, &article);
                finished.push((article, channels));
            }
        }
        // Items left for the next poll must come back: without validators that poll
        // gets the whole feed again (not a 304), and it comes as soon as allowed.
        let (etag, last_modified) = if deferred > 0 {
            (None, None)
        } else {
            (body.validators.etag, body.validators.last_modified)
        };
        let learned = PollSuccess {
            title: parsed.title.clone(),
            site_url: parsed.site_url.clone(),
            etag,
            last_modified,
        };
        let now = self.clock.now();
        let next = if deferred > 0 {
            now + self.cfg.min_interval.as_secs() as i64
        } else {
            self.next_poll_after_success(feed, body.max_age, now)
        };
        // One transaction per poll: the articles, their deliveries and the feed's record.
        // A very long history is written in slices so the one writer is not held for
        // long; the record (validators, `primed`) goes with the last slice, so a crash
        // between slices leaves a feed whose next poll stores the rest. A slice leaves
        // `finished` only once committed.
        let (mut new_articles, mut backfilled) = (Vec::new(), 0);
        loop {
            let n = finished.len().min(WRITE_SLICE);
            let last = n == finished.len();
            let record = last.then_some(PollRecord {
                feed_id: feed.id,
                now,
                next_poll_at: next,
                learned: Some(&learned),
            });
            let stored = self.store.store_poll_articles(&finished[..n], now, record).await?;
            finished.drain(..n);
            for e in stored.into_iter().flatten() {
                if backfill {
                    backfilled += 1;
                } else {
                    new_articles.push(e.article_id);
                }
            }
            if last {
                break;
            }
        }
        if !new_articles.is_empty() {
            info!(feed = feed.id, url = %feed.url, new = new_articles.len(), "new articles");
        }
        Ok(Ok(FeedOutcome::Updated { new_articles, backfilled }))
    }

    /// Builds the article for a new item: its page fetched and extracted within the
    /// feed's time for pages (a page that is late keeps the feed's text), then
    /// summarized on a blocking thread. `lang` is the language detected once for this
    /// poll's items whose page gives none.
    async fn build_article(
        &self,
        feed_id: i64,
        entry: ParsedEntry,
        pages_until: Instant,
        lang: Arc<OnceLock<Option<&'static str>>>,
    ) -> NewArticle {
        let mut article = article_from_entry(feed_id, &entry, false, self.clock.now());
        if let Some(link) = entry.link.as_deref().and_then(|l| Url::parse(l).ok()) {
            let page = tokio::time::timeout_at(pages_until, self.page_text(&link))
                .await
                .unwrap_or_else(|_| Err("the feed's time for pages ran out".into()));
            match page {
                Ok(page) => use_page(&mut article, page),
                Err(e) => warn!(url = %link, "article page not used, keeping the feed's text: {e}"),
            }
        }
        cap_sizes(&mut article);
        let summarizer = self.summarizer.clone();
        // The blocking thread gets a copy: the article keeps its text whatever becomes
        // of that thread.
        let (title, text, page_lang) =
            (article.title.clone(), article.text.clone(), article.lang.clone());
        // The semaphore is never closed; without a permit the summary waits for none.
        let permit = self.cpu_work.clone().acquire_owned().await.ok();
        let summary = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let known = page_lang.as_deref().filter(|l| crate::summarize::Lang::known(l));
            let lang = known.or_else(|| *lang.get_or_init(|| crate::summarize::detect_lang(&text)));
            // A panic in the summarizer costs the summary, not the article.
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                summarizer.summarize_lang(title.as_deref(), &text, SUMMARY_SENTENCES, lang)
            }))
            .map(|s| s.join(" "))
            .unwrap_or_default()
        })
        .await
        .unwrap_or_else(|join| {
            warn!("the summarizer's thread failed: {join}");
            String::new()
        });
        article.summary = summary;
        article
    }

    /// An article page fetched and extracted (on a blocking thread; a panic in the
    /// extractor loses the page, not the article).
    async fn page_text(&self, url: &Url) -> Result<extract::Extracted, String> {
        let page = self.fetch_page(url).await?;
        let final_url = page.url.to_string();
        // Waiting for a turn counts against the feed's time for pages, like the fetch.
        let permit = self.cpu_work.clone().acquire_owned().await.ok();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let html = super::charset::decode_html(&page.bytes, page.content_type.as_deref());
            extract::extract(&html, Some(&final_url)).map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|join| Err(format!("extractor crashed: {join}")))
    }

    /// An article page's body, if it is a web page.
    async fn fetch_page(&self, url: &Url) -> Result<super::fetch::Body, String> {
        let body = match self.fetcher.fetch(url, FetchKind::Page, None).await {
            Ok(Fetched::Body(b)) => b,
            Ok(Fetched::NotModified { .. }) => return Err("unexpected 304".into()),
            Err(e) => return Err(e.to_string()),
        };
        if let Some(ct) = &body.content_type {
            let ct = ct.to_ascii_lowercase();
            if !(ct.contains("html") || ct.contains("xml") || ct.starts_with("text/")) {
                return Err(format!("not a web page ({ct})"));
            }
        }
        Ok(body)
    }

    async fn record_failure(
        &self,
        feed: &FeedRow,
        error: &PollError,
    ) -> Result<FeedOutcome, StoreError> {
        let now = self.clock.now();
        let failures_after = feed.failures + 1;
        let retry_after = match error {
            PollError::Fetch(f) => f.retry_after(),
            _ => None,
        };
        let next = now + self.backoff_s(feed, failures_after, retry_after);
        let message = error.to_string();
        let failures = self
            .store
            .record_poll_failure(
                feed.id,
                now,
                next,
                &message,
                error.kind(),
                self.cfg.max_failures as i64,
            )
            .await?;
        let disabled = failures >= self.cfg.max_failures as i64;
        if disabled {
            warn!(feed = feed.id, url = %feed.url, "disabled after {failures} failures: {message}");
        } else {
            warn!(feed = feed.id, url = %feed.url, failures, "poll failed: {message}");
        }
        Ok(FeedOutcome::Failed {
            error: message,
            kind: error.kind(),
            failures,
            disabled,
            new_articles: Vec::new(),
        })
    }

    fn interval_s(&self, feed: &FeedRow) -> i64 {
        feed.poll_interval_s.max(self.cfg.min_interval.as_secs() as i64)
    }

    /// The feed's own interval, stretched to the server's `max-age` (capped), ±10%.
    fn next_poll_after_success(
        &self,
        feed: &FeedRow,
        max_age: Option<Duration>,
        now: Timestamp,
    ) -> Timestamp {
        let server =
            max_age.map(|d| d.min(self.cfg.max_server_delay).as_secs() as i64).unwrap_or(0);
        now + jitter(self.interval_s(feed).max(server), 0.1)
    }

    /// Exponential backoff from the smaller of the interval and 5 minutes, capped at 12
    /// hours, ±20%; a server's `Retry-After` (capped) wins when it asks for longer.
    fn backoff_s(&self, feed: &FeedRow, failures: i64, retry_after: Option<Duration>) -> i64 {
        let base = self.interval_s(feed).min(300);
        let exp = (failures - 1).clamp(0, 20) as u32;
        let backoff = jitter(base.saturating_mul(1 << exp).min(12 * 3600), 0.2);
        let asked =
            retry_after.map(|d| d.min(self.cfg.max_server_delay).as_secs() as i64).unwrap_or(0);
        backoff.max(asked).max(1)
    }
}

/// An instant subscription ready to be matched: its filter parsed once.
pub struct Subscriber {
    channel_id: i64,
    created_at: Timestamp,
    /// `None` when it has no filter (most subscriptions: nothing to read per article).
    filter: Option<Filter>,
}

/// The subscriptions of a feed, each with its filter parsed.
pub fn subscribers(rows: &[SubscriptionRow]) -> Vec<Subscriber> {
    rows.iter()
        .map(|s| Subscriber {
            channel_id: s.channel_id,
            created_at: s.created_at,
            filter: (s.include_words != "[]" || s.exclude_words != "[]")
                .then(|| Filter::from_stored(&s.include(), &s.exclude()))
                .filter(|f| !f.is_empty()),
        })
        .collect()
}

/// The channels whose instant subscriptions take this article: made before it was
/// seen, and passing their filters.
pub fn fan_out(subscribers: &[Subscriber], article: &NewArticle) -> Vec<i64> {
    let haystack = Haystack::new(Fields {
        title: article.title.as_deref().unwrap_or_default(),
        author: article.author.as_deref().unwrap_or_default(),
        categories: &article.categories,
        summary: &article.summary,
        text: &article.text,
    });
    subscribers
        .iter()
        .filter(|s| s.created_at <= article.fetched_at)
        .filter(|s| s.filter.as_ref().is_none_or(|f| f.matches(&haystack)))
        .map(|s| s.channel_id)
        .collect()
}

/// An article from the feed's own item: its text is the item's content.
fn article_from_entry(
    feed_id: i64,
    entry: &ParsedEntry,
    backfill: bool,
    now: Timestamp,
) -> NewArticle {
    NewArticle {
        feed_id,
        item_key: entry.key.clone(),
        url: entry.link.clone(),
        title: entry.title.clone(),
        author: entry.author.clone(),
        published_at: entry.published.map(|t| t.timestamp()),
        fetched_at: now,
        text: entry.content_html.as_deref().map(html_to_text).unwrap_or_default(),
        image_url: entry.image.clone(),
        text_source: "feed",
        backfill,
        categories: entry.categories.clone(),
        ..NewArticle::default()
    }
}

/// A history item (a feed's first poll): stored from the feed's own content, no page
/// fetch (history, not news), and no summary: nobody is sent it, and summarizing every
/// history item was most of a first poll's CPU. `article` and `latest` make one when
/// they show it ([`crate::summarize::on_demand`]).
fn history_article(feed_id: i64, entry: &ParsedEntry, now: Timestamp) -> NewArticle {
    let mut article = article_from_entry(feed_id, entry, true, now);
    cap_sizes(&mut article);
    article
}

/// What an extracted page adds to an article: its text when it is the better one,
/// and what the feed did not say.
fn use_page(article: &mut NewArticle, page: extract::Extracted) {
    if page.text.chars().count() >= MIN_PAGE_TEXT.min(article.text.len().max(1) * 2)
        && page.text.len() * 2 >= article.text.len()
    {
        article.text = page.text;
        article.text_source = "page";
    }
    if article.title.is_none() {
        article.title = page.title;
    }
    article.author = article.author.take().or(page.byline);
    article.image_url = article.image_url.take().or(page.image);
    article.lang = page.lang;
    if article.published_at.is_none() {
        article.published_at = page
            .published
            .and_then(|p| chrono::DateTime::parse_from_rfc3339(&p).ok())
            .map(|t| t.timestamp());
    }
}

/// Most bytes stored of an article's text (a long feature is ~100 KB); the rest of a
/// page that goes on for megabytes is not an article.
pub const MAX_TEXT_BYTES: usize = 200_000;
/// Most bytes stored of a title, an author, a URL.
const MAX_FIELD_BYTES: usize = 2_000;

/// Cuts what a hostile feed or page could make arbitrarily large.
fn cap_sizes(a: &mut NewArticle) {
    // A URL cut short is a wrong URL: better none.
    for link in [&mut a.url, &mut a.image_url] {
        if link.as_ref().is_some_and(|u| u.len() > MAX_FIELD_BYTES) {
            *link = None;
        }
    }
    truncate_at_boundary(&mut a.text, MAX_TEXT_BYTES);
    for field in [&mut a.title, &mut a.author, &mut a.lang] {
        if let Some(f) = field.as_mut() {
            truncate_at_boundary(f, MAX_FIELD_BYTES);
        }
    }
}

fn truncate_at_boundary(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// `secs` moved by up to ±`spread` of itself, so feeds added together drift apart.
fn jitter(secs: i64, spread: f64) -> i64 {
    let delta = (secs as f64 * spread * (fastrand::f64() * 2.0 - 1.0)) as i64;
    (secs + delta).max(1)
}
