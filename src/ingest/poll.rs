//! Polling: the schedule, conditional GET, backoff and auto-disable of failing feeds,
//! and the conversion of new items into stored articles.
//!
//! The poller keeps no state of its own between rounds: which feeds are due, their
//! validators and failure counts all live in the store, so a restart (or a second
//! process) picks up exactly where the last one stopped.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{FuturesOrdered, FuturesUnordered};
use tokio::sync::watch;
use tracing::{debug, info, warn};
use url::Url;

use super::fetch::{FetchError, FetchKind, Fetched, Fetcher, Validators};
use super::parse::{FeedParseError, ParsedEntry, parse_feed};
use super::text::html_to_text;
use crate::clock::{SharedClock, Timestamp};
use crate::config::PollConfig;
use crate::domain::filter::WordFilter;
use crate::extract;
use crate::store::{FeedRow, NewArticle, PollSuccess, Store, StoreError, SubscriptionRow};
use crate::summarize::Summarizer;

/// How long a claimed feed stays claimed if its poller dies mid-poll.
const CLAIM_LEASE_S: i64 = 600;
/// Below this many characters an extracted page is not trusted over the feed's text.
const MIN_PAGE_TEXT: usize = 200;
/// Sentences in a stored summary.
pub const SUMMARY_SENTENCES: usize = 3;
/// Pages fetched at once for one feed's new items.
const PAGES_PER_FEED: usize = 4;

/// What one poll of one feed did.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedOutcome {
    NotModified,
    Updated { new_articles: Vec<i64>, backfilled: usize },
    Failed { error: String, kind: &'static str, failures: i64, disabled: bool },
}

/// What a round of polling did.
#[derive(Debug, Clone, Default)]
pub struct PollReport {
    pub polled: usize,
    pub not_modified: usize,
    pub updated: usize,
    pub failed: usize,
    pub new_articles: Vec<i64>,
}

/// Polls feeds and stores their articles.
#[derive(Clone)]
pub struct Poller {
    store: Store,
    fetcher: Arc<Fetcher>,
    cfg: PollConfig,
    clock: SharedClock,
    summarizer: Arc<dyn Summarizer>,
}

/// A failure of the poll itself, as opposed to a failure of the feed.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Parse(#[from] FeedParseError),
}

impl PollError {
    fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => e.kind(),
            PollError::Parse(_) => "not-a-feed",
        }
    }
}

impl Poller {
    pub fn new(
        store: Store,
        fetcher: Arc<Fetcher>,
        cfg: PollConfig,
        clock: SharedClock,
        summarizer: Arc<dyn Summarizer>,
    ) -> Poller {
        Poller { store, fetcher, cfg, clock, summarizer }
    }

    /// Polls every feed that is due now, at most `batch` at a time, until none is due.
    pub async fn poll_due(&self, batch: usize) -> Result<PollReport, StoreError> {
        let mut report = PollReport::default();
        loop {
            let now = self.clock.now();
            let feeds = self.store.claim_due_feeds(now, CLAIM_LEASE_S, batch as i64).await?;
            if feeds.is_empty() {
                return Ok(report);
            }
            let concurrency = self.fetcher.config().concurrency.max(1);
            // Futures pushed by hand (not a mapping closure) keep this future `Send` for
            // any lifetime, so it can be spawned.
            let mut pending = feeds.into_iter();
            let mut outcomes = FuturesUnordered::new();
            loop {
                while outcomes.len() < concurrency {
                    let Some(feed) = pending.next() else { break };
                    outcomes.push(self.poll_owned(feed));
                }
                let Some(outcome) = outcomes.next().await else { break };
                report.polled += 1;
                match outcome? {
                    FeedOutcome::NotModified => report.not_modified += 1,
                    FeedOutcome::Updated { new_articles, .. } => {
                        report.updated += 1;
                        report.new_articles.extend(new_articles);
                    }
                    FeedOutcome::Failed { .. } => report.failed += 1,
                }
            }
        }
    }

    async fn poll_owned(&self, feed: FeedRow) -> Result<FeedOutcome, StoreError> {
        self.poll_feed(&feed).await
    }

    async fn store_entry(
        &self,
        feed_id: i64,
        entry: ParsedEntry,
        backfill: bool,
        subscriptions: Arc<Vec<SubscriptionRow>>,
    ) -> Result<Option<crate::store::Enqueued>, StoreError> {
        let article = self.build_article(feed_id, &entry, backfill).await;
        let channels = fan_out(&subscriptions, &article);
        self.store.insert_article_with_deliveries(&article, &channels, self.clock.now()).await
    }

    /// Polls until `shutdown` turns true, sleeping until the next feed is due.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>, batch: usize) {
        while !*shutdown.borrow() {
            match self.poll_due(batch).await {
                Ok(r) if r.polled > 0 => info!(
                    polled = r.polled,
                    new = r.new_articles.len(),
                    not_modified = r.not_modified,
                    failed = r.failed,
                    "poll round done"
                ),
                Ok(_) => {}
                Err(e) => warn!("poll round failed: {e}"),
            }
            let now = self.clock.now();
            let wait = match self.store.next_due_at().await {
                Ok(Some(next)) => (next - now).clamp(1, 30),
                Ok(None) => 30,
                Err(e) => {
                    warn!("reading the schedule failed: {e}");
                    30
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Polls one feed now and records the outcome.
    pub async fn poll_feed(&self, feed: &FeedRow) -> Result<FeedOutcome, StoreError> {
        match self.fetch_and_store(feed).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(poll_error)) => self.record_failure(feed, &poll_error).await,
            Err(store_error) => Err(store_error),
        }
    }

    async fn fetch_and_store(
        &self,
        feed: &FeedRow,
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
                self.store.record_poll_success(feed.id, now, next, None).await?;
                debug!(feed = feed.id, "not modified");
                return Ok(Ok(FeedOutcome::NotModified));
            }
            Fetched::Body(body) => body,
        };
        let base = body.url.to_string();
        let bytes = body.bytes;
        let parsed = tokio::task::spawn_blocking(move || parse_feed(&bytes, Some(&base)))
            .await
            .unwrap_or_else(|join| Err(FeedParseError::Invalid(format!("parser crashed: {join}"))));
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.into())),
        };

        let keys: Vec<String> = parsed.entries.iter().map(|e| e.key.clone()).collect();
        let known = self.store.known_item_keys(feed.id, &keys).await?;
        let backfill = !feed.primed;
        let fresh: Vec<ParsedEntry> =
            parsed.entries.iter().filter(|e| !known.contains(&e.key)).cloned().collect();

        let subscriptions = if backfill || fresh.is_empty() {
            Vec::new()
        } else {
            self.store.instant_subscriptions(feed.id).await?
        };
        let subscriptions = Arc::new(subscriptions);
        let mut new_articles = Vec::new();
        let width = if backfill { 1 } else { PAGES_PER_FEED };
        let mut pending = fresh.into_iter();
        let mut stored = FuturesOrdered::new();
        let mut backfilled = 0;
        loop {
            while stored.len() < width {
                let Some(entry) = pending.next() else { break };
                stored.push_back(self.store_entry(feed.id, entry, backfill, subscriptions.clone()));
            }
            let Some(enqueued) = stored.next().await else { break };
            if let Some(e) = enqueued? {
                if backfill {
                    backfilled += 1;
                } else {
                    new_articles.push(e.article_id);
                }
            }
        }
        drop(stored);

        let learned = PollSuccess {
            title: parsed.title.clone(),
            site_url: parsed.site_url.clone(),
            etag: body.validators.etag,
            last_modified: body.validators.last_modified,
        };
        let now = self.clock.now();
        let next = self.next_poll_after_success(feed, body.max_age, now);
        self.store.record_poll_success(feed.id, now, next, Some(&learned)).await?;
        if !new_articles.is_empty() {
            info!(feed = feed.id, url = %feed.url, new = new_articles.len(), "new articles");
        }
        Ok(Ok(FeedOutcome::Updated { new_articles, backfilled }))
    }

    /// Builds the article for a new item. Items from a feed's first poll are stored from
    /// the feed's own content (no page fetch: they are history, not news).
    async fn build_article(&self, feed_id: i64, entry: &ParsedEntry, backfill: bool) -> NewArticle {
        let mut article = NewArticle {
            feed_id,
            item_key: entry.key.clone(),
            url: entry.link.clone(),
            title: entry.title.clone(),
            author: entry.author.clone(),
            published_at: entry.published.map(|t| t.timestamp()),
            fetched_at: self.clock.now(),
            text: entry.content_html.as_deref().map(html_to_text).unwrap_or_default(),
            image_url: entry.image.clone(),
            text_source: "feed",
            backfill,
            ..NewArticle::default()
        };
        if !backfill && let Some(link) = entry.link.as_deref().and_then(|l| Url::parse(l).ok()) {
            match self.fetch_page(&link).await {
                Ok(page) => {
                    if page.text.chars().count() >= MIN_PAGE_TEXT.min(article.text.len().max(1) * 2)
                        && page.text.len() * 2 >= article.text.len()
                    {
                        article.text = page.text;
                        article.text_source = "page";
                    }
                    if article.title.is_none() {
                        article.title = page.title;
                    }
                    article.author = article.author.or(page.byline);
                    article.image_url = article.image_url.or(page.image);
                    article.lang = page.lang;
                    if article.published_at.is_none() {
                        article.published_at = page
                            .published
                            .and_then(|p| chrono::DateTime::parse_from_rfc3339(&p).ok())
                            .map(|t| t.timestamp());
                    }
                }
                Err(e) => warn!(url = %link, "article page not used, keeping the feed's text: {e}"),
            }
        }
        let summarizer = self.summarizer.clone();
        let (title, text) = (article.title.clone(), article.text.clone());
        article.summary = tokio::task::spawn_blocking(move || {
            summarizer.summarize(title.as_deref(), &text, SUMMARY_SENTENCES).join(" ")
        })
        .await
        .unwrap_or_default();
        article
    }

    async fn fetch_page(&self, url: &Url) -> Result<extract::Extracted, String> {
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
        let final_url = body.url.to_string();
        tokio::task::spawn_blocking(move || {
            let html = super::charset::decode_html(&body.bytes, body.content_type.as_deref());
            extract::extract(&html, Some(&final_url)).map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|join| Err(format!("extractor crashed: {join}")))
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
            PollError::Parse(_) => None,
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
        Ok(FeedOutcome::Failed { error: message, kind: error.kind(), failures, disabled })
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

/// The channels whose instant subscriptions take this article: made before it was
/// seen, and passing their word filters.
pub fn fan_out(subscriptions: &[SubscriptionRow], article: &NewArticle) -> Vec<i64> {
    let parts = [
        article.title.as_deref().unwrap_or_default(),
        article.summary.as_str(),
        article.text.as_str(),
    ];
    subscriptions
        .iter()
        .filter(|s| s.created_at <= article.fetched_at)
        .filter(|s| {
            s.include_words == "[]" && s.exclude_words == "[]"
                || WordFilter::new(&s.include(), &s.exclude()).matches(&parts)
        })
        .map(|s| s.channel_id)
        .collect()
}

/// `secs` moved by up to ±`spread` of itself, so feeds added together drift apart.
fn jitter(secs: i64, spread: f64) -> i64 {
    let delta = (secs as f64 * spread * (fastrand::f64() * 2.0 - 1.0)) as i64;
    (secs + delta).max(1)
}
