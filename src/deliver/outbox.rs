//! The dispatcher: claims due deliveries and digests from the store, sends them through
//! their platform with their idempotency key, and records the outcome.
//!
//! Exactly once: a row is claimed with a lease (a crash only delays it), its key was
//! written when it was enqueued, and the platform drops a second message with the same
//! key, so a resend after a crash shows nothing twice. Channels are sent to
//! concurrently; one slow or refusing channel never holds up the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::digest::{DigestArticle, compose_digest};
use super::post::article_post;
use crate::clock::{SharedClock, Timestamp};
use crate::domain::filter::WordFilter;
use crate::domain::schedule::Schedule;
use crate::platform::{Platform, SendError};
use crate::store::{DeliveryJob, DigestJob, OutboxRow, Store, StoreError};

/// How long a claimed row stays claimed if its sender dies.
const LEASE_S: i64 = 120;
/// Attempts (not counting rate limits) before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 12;
const BATCH: i64 = 200;
/// Channels sent to at once.
const CHANNELS_AT_ONCE: usize = 16;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub paused_channels: usize,
    pub digests_sent: usize,
    pub digests_empty: usize,
}

enum Outcome {
    Sent,
    Retry,
    Failed,
    Paused,
}

/// What a platform's refusal means for the row that was being sent, whatever its kind.
#[derive(Debug)]
struct Refusal {
    /// When to try again.
    at: Timestamp,
    reason: String,
    /// Whether it uses up one of the row's attempts (waiting out a rate limit does not).
    counts: bool,
    /// Out of attempts: the row is given up.
    failed: bool,
    /// The channel refuses for good (no access, deleted): pause it with the reason.
    pause: bool,
}

impl Refusal {
    fn of(err: SendError, attempts: i64, now: Timestamp) -> Refusal {
        match err {
            SendError::RateLimited { retry_after } => Refusal {
                at: now + retry_after.as_secs().max(1) as i64,
                reason: "rate limited".into(),
                counts: false,
                failed: false,
                pause: false,
            },
            SendError::Transient(reason) => {
                let attempts = attempts + 1;
                Refusal {
                    at: now + backoff_s(attempts),
                    reason,
                    counts: true,
                    failed: attempts >= MAX_ATTEMPTS,
                    pause: false,
                }
            }
            SendError::Permanent(reason) => {
                Refusal { at: now, reason, counts: true, failed: false, pause: true }
            }
        }
    }

    fn outcome(&self) -> Outcome {
        match self {
            Refusal { pause: true, .. } => Outcome::Paused,
            Refusal { failed: true, .. } => Outcome::Failed,
            _ => Outcome::Retry,
        }
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    clock: SharedClock,
    platforms: Arc<HashMap<&'static str, Arc<dyn Platform>>>,
}

impl Dispatcher {
    pub fn new(store: Store, clock: SharedClock, platforms: Vec<Arc<dyn Platform>>) -> Dispatcher {
        let platforms = platforms.into_iter().map(|p| (p.name(), p)).collect();
        Dispatcher { store, clock, platforms: Arc::new(platforms) }
    }

    /// One round: open due digests, then send what is due until nothing is.
    pub async fn run_once(&self) -> Result<DispatchReport, StoreError> {
        let mut report = DispatchReport::default();
        self.open_due_digests().await?;
        loop {
            let now = self.clock.now();
            let jobs = self.store.claim_due_deliveries(now, LEASE_S, BATCH).await?;
            if jobs.is_empty() {
                break;
            }
            self.send_deliveries(jobs, &mut report).await?;
        }
        loop {
            let now = self.clock.now();
            let jobs = self.store.claim_due_digests(now, LEASE_S, 20).await?;
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                self.send_digest(job, &mut report).await?;
            }
        }
        Ok(report)
    }

    /// Runs rounds until `shutdown`; `wake` cuts the wait short when new rows arrive.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>, wake: Arc<Notify>) {
        while !*shutdown.borrow() {
            match self.run_once().await {
                Ok(r) if r != DispatchReport::default() => info!(?r, "dispatch round"),
                Ok(_) => {}
                Err(e) => warn!("dispatch round failed: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn send_deliveries(
        &self,
        jobs: Vec<DeliveryJob>,
        report: &mut DispatchReport,
    ) -> Result<(), StoreError> {
        let mut by_channel: Vec<Vec<DeliveryJob>> = Vec::new();
        let mut index: HashMap<i64, usize> = HashMap::new();
        for job in jobs {
            let slot = *index.entry(job.channel_id).or_insert_with(|| {
                by_channel.push(Vec::new());
                by_channel.len() - 1
            });
            by_channel[slot].push(job);
        }
        let mut pending = by_channel.into_iter();
        let mut rounds = FuturesUnordered::new();
        loop {
            while rounds.len() < CHANNELS_AT_ONCE {
                let Some(jobs) = pending.next() else { break };
                rounds.push(self.send_channel(jobs));
            }
            let Some(outcomes) = rounds.next().await else { break };
            for outcome in outcomes? {
                match outcome {
                    Outcome::Sent => report.sent += 1,
                    Outcome::Retry => report.retried += 1,
                    Outcome::Failed => report.failed += 1,
                    Outcome::Paused => report.paused_channels += 1,
                }
            }
        }
        Ok(())
    }

    /// Sends one channel's posts in order; stops at the first refusal so the rest keep
    /// their order and wait.
    async fn send_channel(&self, jobs: Vec<DeliveryJob>) -> Result<Vec<Outcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut blocked: Option<Timestamp> = None;
        for job in jobs {
            // Posts behind a refused one keep their order: they wait (or, for a paused
            // channel, are due again the moment it resumes).
            if let Some(at) = blocked {
                self.store
                    .retry_outbox(
                        OutboxRow::Delivery(job.id),
                        at,
                        "waiting behind an earlier post",
                        false,
                        false,
                    )
                    .await?;
                outcomes.push(Outcome::Retry);
                continue;
            }
            let Some(platform) = self.platforms.get(job.platform.as_str()) else {
                // No adapter for this platform in this process: leave it for one that has.
                let at = self.clock.now() + 60;
                self.store
                    .retry_outbox(
                        OutboxRow::Delivery(job.id),
                        at,
                        "platform not connected",
                        false,
                        false,
                    )
                    .await?;
                outcomes.push(Outcome::Retry);
                continue;
            };
            let post = article_post(&job);
            let result = platform.send(&job.external_id, &post, &job.idem_key).await;
            let now = self.clock.now();
            match result {
                Ok(sent) => {
                    self.store.mark_delivery_sent(job.id, now, sent.message_id.as_deref()).await?;
                    outcomes.push(Outcome::Sent);
                }
                Err(err) => {
                    let refusal = Refusal::of(err, job.attempts, now);
                    self.record(OutboxRow::Delivery(job.id), job.channel_id, &refusal).await?;
                    blocked = Some(refusal.at);
                    outcomes.push(refusal.outcome());
                }
            }
        }
        Ok(outcomes)
    }

    /// Writes down a refused send: when the row is due again and why, and for a
    /// permanent refusal, the channel's pause (the row stays pending: if the channel is
    /// resumed it is still owed).
    async fn record(&self, row: OutboxRow, channel_id: i64, r: &Refusal) -> Result<(), StoreError> {
        self.store.retry_outbox(row, r.at, &r.reason, r.counts, r.failed).await?;
        if r.pause {
            warn!(channel = channel_id, "channel paused: {}", r.reason);
            self.store.set_channel_paused(channel_id, Some(&r.reason)).await?;
        } else if r.counts {
            warn!(channel = channel_id, failed = r.failed, "post failed: {}", r.reason);
        }
        Ok(())
    }

    /// Opens a digest row for every channel whose schedule fired.
    async fn open_due_digests(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        for ch in self.store.digest_due_channels(now).await? {
            let Some(spec) = ch.digest_spec.as_deref() else { continue };
            let Ok(schedule) = Schedule::parse(spec, ch.digest_tz.as_deref()) else {
                warn!(channel = ch.id, "stored digest schedule {spec:?} no longer parses");
                self.store.set_digest_schedule(ch.id, None, None, None).await?;
                continue;
            };
            let Some(now_utc) = chrono::DateTime::from_timestamp(now, 0) else { continue };
            let end = schedule.previous_at_or_before(now_utc).timestamp();
            let next = schedule.next_after(now_utc).timestamp();
            self.store.open_digest(ch.id, end, Some(next), now).await?;
        }
        Ok(())
    }

    async fn send_digest(
        &self,
        job: DigestJob,
        report: &mut DispatchReport,
    ) -> Result<(), StoreError> {
        let Some(platform) = self.platforms.get(job.platform.as_str()).cloned() else {
            let at = self.clock.now() + 60;
            return self
                .store
                .retry_outbox(OutboxRow::Digest(job.id), at, "platform not connected", false, false)
                .await;
        };
        let parts = self.compose(&job, platform.as_ref()).await?;
        if parts.is_empty() {
            report.digests_empty += 1;
            return self.store.finish_digest(job.id, "empty", self.clock.now()).await;
        }
        for (n, part) in parts.iter().enumerate().skip(job.parts_sent as usize) {
            let key = format!("{}p{n}", job.idem_key);
            let now = self.clock.now();
            match platform.send(&job.external_id, part, &key).await {
                Ok(_) => self.store.mark_digest_parts(job.id, n as i64 + 1).await?,
                Err(err) => {
                    let refusal = Refusal::of(err, job.attempts, now);
                    return self.record(OutboxRow::Digest(job.id), job.channel_id, &refusal).await;
                }
            }
        }
        report.digests_sent += 1;
        self.store.finish_digest(job.id, "sent", self.clock.now()).await
    }

    /// The digest's messages, composed from what the store holds for its window. The
    /// same window always composes to the same parts, so a resumed digest continues
    /// where it stopped.
    pub async fn compose(
        &self,
        job: &DigestJob,
        platform: &dyn Platform,
    ) -> Result<Vec<crate::reply::Reply>, StoreError> {
        let sources =
            self.store.digest_sources(job.channel_id, job.window_start, job.window_end).await?;
        let tz = job.digest_tz.as_deref().and_then(|t| t.parse().ok()).unwrap_or(chrono_tz::UTC);
        Ok(compose_digest(
            job.window_start,
            job.window_end,
            tz,
            digest_articles(sources),
            &platform.digest_limits(),
        ))
    }
}

/// Applies each subscription's filters and shapes the rows for the composer.
pub fn digest_articles(sources: Vec<crate::store::DigestSource>) -> Vec<DigestArticle> {
    sources
        .into_iter()
        .filter(|s| {
            let filter = WordFilter::new(
                &serde_json::from_str::<Vec<String>>(&s.include_words).unwrap_or_default(),
                &serde_json::from_str::<Vec<String>>(&s.exclude_words).unwrap_or_default(),
            );
            filter.matches(&[s.title.as_deref().unwrap_or_default(), &s.summary, &s.text])
        })
        .map(|s| DigestArticle {
            id: s.article_id,
            feed_name: s.feed_title.filter(|t| !t.trim().is_empty()).unwrap_or(s.feed_url),
            title: s.title.unwrap_or_else(|| "(untitled)".into()),
            url: s.url,
            summary: s.summary,
            published_at: s.published_at.unwrap_or(s.fetched_at),
        })
        .collect()
}

/// 30 s doubling per attempt, capped at an hour.
fn backoff_s(attempts: i64) -> i64 {
    (30i64 << (attempts - 1).clamp(0, 7)).min(3600)
}
