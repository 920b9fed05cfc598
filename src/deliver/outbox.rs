//! The dispatcher: sends what the outbox owes (posts, digests, notices) through each
//! channel's platform with the row's idempotency key, and records the outcome.
//!
//! - **Channels progress independently.** A sender claims a whole channel (a lease in
//!   the store) and posts its queue in order; at most `channels_at_once` channels are in
//!   flight, and [`Dispatcher::run`] refills a slot the moment one frees, so one channel
//!   that hangs or waits out a rate limit holds only its own slot.
//! - **Every platform call has a timeout.** A send that times out has an unknown outcome:
//!   it is retried with the same key, which the platform deduplicates.
//! - **Order.** A channel's posts go out in the articles' publication order; the first
//!   one that cannot go (refused, rate limited, backing off) stops the channel until it
//!   is due again, so nothing overtakes it.
//! - **Never given up silently.** Failures back off up to `max_backoff`, for as long as
//!   the post is younger than `max_age`; then it expires and the community's managers
//!   get a notice, as they do when a channel is paused or a feed disabled. While a
//!   platform fails, one post probes it every `probe_every`; its first success makes
//!   everything owed on that platform due at once.
//!
//! Exactly once: keys are written when rows are enqueued and include the installation
//! id, and the platform drops a second message with the same key, so a resend after a
//! crash or a timeout shows nothing twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::{info, warn};

use super::digest::{DigestArticle, compose_digest};
use super::notice::{ChannelWords, notice_post};
use super::port::DEFAULT_REGAIN_ACCESS;
use super::port::{Platform, Post, Progress, SendError, SendFuture, Sent};
use super::post::article_delivery;
use crate::clock::{SharedClock, Timestamp};
use crate::domain::filter::{Fields, Filter, Haystack};
use crate::domain::schedule::Schedule;
use crate::domain::units::format_duration;
use crate::reply::Reply;
use crate::service::metrics::Metrics;
use crate::store::{Attempt, ChannelJob, DigestJob, NoticeSubject, OutboxRow, Store, StoreError};

/// Slack in a claim's lease beyond the sends it covers: database writes, scheduling.
const LEASE_SLACK_S: i64 = 30;
/// Posts read from a channel's queue at a time.
const BATCH: i64 = 50;
/// How often the housekeeping (digest clocks, expiry, notices, probes) runs in `run`.
const HOUSEKEEPING: Duration = Duration::from_secs(1);

/// How the dispatcher treats slow and failing platforms.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPolicy {
    /// Longest wait for one platform call; after it, the outcome is unknown and the
    /// send is retried with the same key.
    pub send_timeout: Duration,
    /// A post not delivered this long after it was queued is given up (expired).
    pub max_age: Duration,
    /// Channels sent to at once.
    pub channels_at_once: usize,
    /// Backoff after failures doubles from 30 s up to this.
    pub max_backoff: Duration,
    /// While a platform fails, one waiting post tries it this often.
    pub probe_every: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            send_timeout: Duration::from_secs(30),
            max_age: Duration::from_secs(3 * 24 * 3600),
            channels_at_once: 32,
            max_backoff: Duration::from_secs(300),
            probe_every: Duration::from_secs(45),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub expired: usize,
    pub paused_channels: usize,
    pub digests_sent: usize,
    pub digests_empty: usize,
    pub notices_sent: usize,
}

impl DispatchReport {
    fn add(&mut self, o: &DispatchReport) {
        self.sent += o.sent;
        self.retried += o.retried;
        self.expired += o.expired;
        self.paused_channels += o.paused_channels;
        self.digests_sent += o.digests_sent;
        self.digests_empty += o.digests_empty;
        self.notices_sent += o.notices_sent;
    }
}

/// What a platform's refusal means for the row that was being sent, whatever its kind.
#[derive(Debug)]
struct Refusal {
    /// When to try again.
    at: Timestamp,
    reason: String,
    /// Whether it counts as a failure (waiting out a rate limit does not).
    counts: bool,
    /// The channel refuses for good (no access, deleted): pause it with the reason.
    pause: bool,
}

impl Refusal {
    fn of(err: SendError, attempts: i64, now: Timestamp, policy: &DeliveryPolicy) -> Refusal {
        match err {
            SendError::RateLimited { retry_after } => Refusal {
                // Whole seconds: never earlier than the platform asked.
                at: now + retry_after.as_millis().div_ceil(1000).max(1) as i64,
                reason: "rate limited".into(),
                counts: false,
                pause: false,
            },
            SendError::Transient(reason) => Refusal {
                at: now + backoff_s(attempts + 1, policy.max_backoff.as_secs() as i64),
                reason,
                counts: true,
                pause: false,
            },
            SendError::Permanent(reason) => Refusal { at: now, reason, counts: true, pause: true },
        }
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    clock: SharedClock,
    platforms: Arc<HashMap<&'static str, Arc<dyn Platform>>>,
    policy: DeliveryPolicy,
    /// What the latest sends said about each platform.
    health: Arc<Mutex<HashMap<&'static str, Health>>>,
    metrics: Option<Metrics>,
    /// How long sends in flight may take to finish once `run` is told to stop.
    grace: Duration,
    /// Set when `run` is stopping: senders finish the send in hand and take no more.
    draining: Arc<AtomicBool>,
    /// The channels this dispatcher's senders hold, with their current leases: a
    /// sender renews and releases only its own lease, and a stop releases what the
    /// senders cut short still held.
    leases: Arc<Mutex<HashMap<i64, Timestamp>>>,
}

impl Dispatcher {
    /// How long a claimed channel (or digest, or notice) stays claimed if its sender
    /// dies. A sender renews it with half left before each send, and a send takes at
    /// most the send timeout: twice that, and slack, never runs out under a live sender.
    fn lease_s(&self) -> i64 {
        2 * self.policy.send_timeout.as_secs().max(1) as i64 + LEASE_SLACK_S
    }

    pub fn new(store: Store, clock: SharedClock, platforms: Vec<Arc<dyn Platform>>) -> Dispatcher {
        let platforms = platforms.into_iter().map(|p| (p.name(), p)).collect();
        Dispatcher {
            store,
            clock,
            platforms: Arc::new(platforms),
            policy: DeliveryPolicy::default(),
            health: Arc::default(),
            metrics: None,
            grace: Duration::from_secs(10),
            draining: Arc::default(),
            leases: Arc::default(),
        }
    }

    /// The platforms this process posts to now: channels of others are left to the
    /// process that serves them (a Matrix sync leader elsewhere).
    fn ready_platforms(&self) -> Vec<&'static str> {
        self.platforms.values().filter(|p| p.ready()).map(|p| p.name()).collect()
    }

    fn held_leases(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Timestamp>> {
        // A poisoned lock only means a sender panicked mid-update of the map.
        self.leases.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts sends in `metrics` and lets sends in flight at shutdown take up to `grace`.
    pub fn with_service(mut self, metrics: Metrics, grace: Duration) -> Dispatcher {
        self.metrics = Some(metrics);
        self.grace = grace;
        self
    }

    fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn with_policy(mut self, policy: DeliveryPolicy) -> Dispatcher {
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    /// One round: housekeeping, then every due channel (at most `channels_at_once` at a
    /// time) until none is due, then notices. Used by tests and one-shot commands;
    /// [`run`](Self::run) never waits for a slow channel.
    pub async fn run_once(&self) -> Result<DispatchReport, StoreError> {
        let mut report = self.housekeeping().await?;
        // Senders are tasks of their own: a future that holds the store's writer must
        // keep running while this loop awaits the store.
        let mut workers = JoinSet::new();
        let mut failure = None;
        loop {
            let free = self.policy.channels_at_once.max(1) - workers.len();
            if free > 0 && failure.is_none() {
                let now = self.clock.now();
                let ready = self.ready_platforms();
                match self.store.claim_due_channels(now, self.lease_s(), free as i64, &ready).await
                {
                    Ok(channels) => {
                        for ch in channels {
                            let d = self.clone();
                            workers.spawn(async move { d.serve_channel(ch).await });
                        }
                    }
                    Err(e) => failure = Some(e),
                }
            }
            let Some(done) = workers.join_next().await else { break };
            match done {
                Ok(Ok(r)) => report.add(&r),
                Ok(Err(e)) => failure = Some(e),
                Err(e) => warn!("a channel's sender ended abnormally: {e}"),
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        self.send_notices(&mut report).await?;
        Ok(report)
    }

    /// Sends until `shutdown`: a freed slot is refilled at once, new rows are picked up
    /// on `wake` or within a second, and a hung channel holds only its own slot.
    ///
    /// On shutdown no channel is claimed any more and each sender stops after the send
    /// in hand; sends still unanswered after the grace period are cancelled (their
    /// outcome is unknown, so the same keys go out again after a restart).
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>, wake: Arc<Notify>) {
        // This loop's senders share a flag of their own: a `run_once` on another clone
        // (the console's last round after /quit) is not drained by it.
        let mut me = self.clone();
        me.draining = Arc::default();
        me.leases = Arc::default();
        let this = &me;
        let mut workers = JoinSet::new();
        let mut next_housekeeping = tokio::time::Instant::now();
        let mut totals = DispatchReport::default();
        while !*shutdown.borrow() {
            if let Some(m) = &this.metrics {
                m.dispatcher_tick();
            }
            if tokio::time::Instant::now() >= next_housekeeping {
                next_housekeeping = tokio::time::Instant::now() + HOUSEKEEPING;
                let mut r = DispatchReport::default();
                let done = async {
                    r.add(&this.housekeeping().await?);
                    this.send_notices(&mut r).await
                };
                if let Err(e) = done.await {
                    warn!("delivery housekeeping failed: {e}");
                }
                totals.add(&r);
                if totals != DispatchReport::default() {
                    info!(?totals, "delivery");
                    totals = DispatchReport::default();
                }
            }
            let free = this.policy.channels_at_once.max(1).saturating_sub(workers.len());
            if free > 0 {
                let (now, ready) = (this.clock.now(), this.ready_platforms());
                match this.store.claim_due_channels(now, this.lease_s(), free as i64, &ready).await
                {
                    Ok(channels) => {
                        for ch in channels {
                            let (id, d) = (ch.id, this.clone());
                            workers.spawn(async move { (id, d.serve_channel(ch).await) });
                        }
                    }
                    Err(e) => warn!("claiming channels to send to failed: {e}"),
                }
            }
            tokio::select! {
                Some(done) = workers.join_next(), if !workers.is_empty() => {
                    match done {
                        Ok((_, Ok(r))) => totals.add(&r),
                        Ok((id, Err(e))) => warn!(channel = id, "sending failed: {e}"),
                        Err(e) => warn!("a channel's sender ended abnormally: {e}"),
                    }
                }
                _ = tokio::time::sleep_until(next_housekeeping) => {}
                _ = wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
        // Senders finish the send in hand (within the grace period) and take no more.
        this.draining.store(true, Ordering::Relaxed);
        let grace = tokio::time::sleep(this.grace);
        tokio::pin!(grace);
        while !workers.is_empty() {
            tokio::select! {
                Some(_) = workers.join_next() => {}
                _ = &mut grace => {
                    warn!(
                        senders = workers.len(),
                        "sends still unanswered after the shutdown grace period are cancelled; \
                         they stay owed and go out with the same keys after a restart"
                    );
                    break;
                }
            }
        }
        // What is left is cancelled; its channels are handed back now rather than after
        // the lease.
        workers.shutdown().await;
        let held: Vec<(i64, Timestamp)> = this.held_leases().drain().collect();
        if let Err(e) = this.store.release_channels(&held).await {
            warn!("releasing channels at shutdown failed: {e}");
        }
    }

    /// Opens due digest windows, gives up what is too old, queues notices for changes
    /// of state and probes platforms that were failing.
    async fn housekeeping(&self) -> Result<DispatchReport, StoreError> {
        let mut report = DispatchReport::default();
        self.open_due_digests().await?;
        let now = self.clock.now();
        let age = format_duration(self.policy.max_age);
        let cutoff = now - self.policy.max_age.as_secs() as i64;
        report.expired = self.store.expire_undelivered(cutoff, &age, now).await?;
        if report.expired > 0 {
            warn!(expired = report.expired, "posts not delivered within {age} were given up");
        }
        self.store.queue_state_notices(now).await?;
        let probe_every = self.policy.probe_every.as_secs() as i64;
        let due: Vec<&'static str> = lock(&self.health)
            .iter()
            .filter(|(_, h)| h.failed_at.is_some_and(|t| now - t >= probe_every))
            .map(|(p, _)| *p)
            .collect();
        for platform in due {
            // A post due within a third of the interval tries the platform soon enough.
            let soon = now + probe_every / 3;
            let waiting = self.store.probe_platform(platform, now, soon).await?;
            let mut health = lock(&self.health);
            let h = health.entry(platform).or_default();
            h.failed_at = waiting.then_some(now);
        }
        Ok(report)
    }

    /// One platform call, bounded by the send timeout.
    async fn send(
        &self,
        platform: &dyn Platform,
        external_id: &str,
        reply: &Reply,
        key: &str,
    ) -> Result<Sent, SendError> {
        self.bounded(platform.name(), platform.send(external_id, reply, key)).await
    }

    /// One article post (perhaps several platform calls), bounded by the send timeout.
    async fn deliver(
        &self,
        platform: &dyn Platform,
        external_id: &str,
        post: &Post,
        key: &str,
        progress: &dyn Progress,
    ) -> Result<Sent, SendError> {
        self.bounded(platform.name(), platform.deliver(external_id, post, key, progress)).await
    }

    async fn bounded(&self, name: &'static str, call: SendFuture<'_>) -> Result<Sent, SendError> {
        let result = match tokio::time::timeout(self.policy.send_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Transient(format!(
                "{name} did not answer within {}; the post may have arrived, so it is retried \
                 with the same key",
                format_duration(self.policy.send_timeout)
            ))),
        };
        if let Some(m) = &self.metrics {
            m.send(name, &result.as_ref().map(|_| ()));
        }
        result
    }

    /// Notes a send's outcome for the platform: the first success after failures makes
    /// everything owed there due now.
    async fn platform_outcome(
        &self,
        platform: &'static str,
        ok: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let recovered = {
            let mut health = lock(&self.health);
            let h = health.entry(platform).or_default();
            if ok {
                // Back after nothing but failures for a while: it was down, not just one
                // channel refusing while the others got their posts.
                let probe_every = self.policy.probe_every.as_secs() as i64;
                let was_down = h.failing_since.is_some_and(|t| now - t >= probe_every);
                *h = Health::default();
                was_down
            } else {
                // Every failed try counts as a probe: probes only fill the silence.
                h.failed_at = Some(now);
                h.failing_since.get_or_insert(now);
                false
            }
        };
        if recovered {
            let n = self.store.release_backoff(platform, now).await?;
            info!(platform, "{platform} answers again; {n} waiting post(s) are due now");
        }
        Ok(())
    }

    /// Posts a held channel's queue in order, then its due digests, then lets it go.
    async fn serve_channel(&self, ch: ChannelJob) -> Result<DispatchReport, StoreError> {
        self.held_leases().insert(ch.id, ch.lease_until);
        let result = self.serve_channel_held(&ch).await;
        // Still ours unless a renewal found it taken (then the map lost it too).
        let held = self.held_leases().remove(&ch.id);
        let released = match held {
            Some(lease) => self.store.release_channel(ch.id, lease).await,
            None => Ok(()),
        };
        let report = result?;
        released?;
        Ok(report)
    }

    /// Renews the channel's lease when half of it is gone. False when it was lost (the
    /// sender stalled past it and another took the channel): this sender must stop.
    async fn keep_lease(
        &self,
        ch: &ChannelJob,
        lease_until: &mut Timestamp,
    ) -> Result<bool, StoreError> {
        let (now, lease_s) = (self.clock.now(), self.lease_s());
        if now + lease_s / 2 <= *lease_until {
            return Ok(true);
        }
        if self.store.renew_channel(ch.id, *lease_until, now + lease_s).await? {
            *lease_until = now + lease_s;
            self.held_leases().insert(ch.id, *lease_until);
            return Ok(true);
        }
        warn!(channel = ch.id, "lost the channel's lease to another sender; leaving it");
        self.held_leases().remove(&ch.id);
        Ok(false)
    }

    async fn serve_channel_held(&self, ch: &ChannelJob) -> Result<DispatchReport, StoreError> {
        let mut report = DispatchReport::default();
        let ready = self.platforms.get(ch.platform.as_str()).filter(|p| p.ready());
        let Some(platform) = ready.cloned() else {
            // No adapter for this platform in this process, or one that another process
            // serves now: leave it for the process that does.
            let at = self.clock.now() + 60;
            if let Some(head) = self.store.channel_deliveries(ch.id, 1).await?.first() {
                self.store
                    .retry_outbox(
                        OutboxRow::Delivery(head.id),
                        at,
                        "platform not connected",
                        Attempt::Uncounted,
                    )
                    .await?;
            }
            for d in self.store.claim_channel_digests(ch.id, self.clock.now(), 60, 100).await? {
                self.store
                    .retry_outbox(
                        OutboxRow::Digest(d.id),
                        at,
                        "platform not connected",
                        Attempt::Uncounted,
                    )
                    .await?;
            }
            return Ok(report);
        };
        let mut lease_until = ch.lease_until;
        'queue: loop {
            let jobs = self.store.channel_deliveries(ch.id, BATCH).await?;
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                let now = self.clock.now();
                if job.next_attempt_at > now {
                    // The first post that is not due holds the rest back: order is kept.
                    break 'queue;
                }
                if !self.keep_lease(ch, &mut lease_until).await? {
                    return Ok(report);
                }
                if self.draining() {
                    // Shutting down: what is left stays owed.
                    break 'queue;
                }
                let post = article_delivery(&job);
                let progress = StoreProgress {
                    store: &self.store,
                    delivery: job.id,
                    done: job.progress.clone(),
                };
                let result = self
                    .deliver(platform.as_ref(), &ch.external_id, &post, &job.idem_key, &progress)
                    .await;
                let now = self.clock.now();
                self.platform_outcome(platform.name(), !is_trouble(&result), now).await?;
                match result {
                    Ok(sent) => {
                        self.store
                            .mark_delivery_sent(job.id, now, sent.message_id.as_deref())
                            .await?;
                        report.sent += 1;
                    }
                    Err(err) => {
                        let refusal = Refusal::of(err, job.attempts, now, &self.policy);
                        self.record(OutboxRow::Delivery(job.id), ch.id, &refusal).await?;
                        if refusal.pause {
                            report.paused_channels += 1;
                        } else {
                            report.retried += 1;
                        }
                        // The digests of a refusing channel wait too.
                        return Ok(report);
                    }
                }
            }
        }
        while !self.draining() {
            let now = self.clock.now();
            let digests = self.store.claim_channel_digests(ch.id, now, self.lease_s(), 5).await?;
            if digests.is_empty() {
                break;
            }
            for job in digests {
                if !self.keep_lease(ch, &mut lease_until).await? {
                    return Ok(report);
                }
                if !self.send_digest(job, platform.as_ref(), &mut report).await? {
                    return Ok(report);
                }
            }
        }
        Ok(report)
    }

    /// Writes down a refused send: when the row is due again and why, and for a
    /// permanent refusal, the channel's pause (the row stays pending: if the channel is
    /// resumed it is still owed, within the maximum age).
    async fn record(&self, row: OutboxRow, channel_id: i64, r: &Refusal) -> Result<(), StoreError> {
        let attempt = if r.counts { Attempt::Failed } else { Attempt::Uncounted };
        self.store.retry_outbox(row, r.at, &r.reason, attempt).await?;
        if r.pause {
            warn!(channel = channel_id, "channel paused: {}", r.reason);
            self.store.set_channel_paused(channel_id, Some(&r.reason)).await?;
        } else if r.counts {
            // One line a minute per reason: an outage fails every channel the same way.
            crate::warn_throttled!(
                format!("post failed: {}", r.reason),
                channel = channel_id,
                "post failed, retrying: {}",
                r.reason
            );
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

    /// Sends a digest's remaining parts in order. False when the platform refused one
    /// (the channel stops for now).
    async fn send_digest(
        &self,
        job: DigestJob,
        platform: &dyn Platform,
        report: &mut DispatchReport,
    ) -> Result<bool, StoreError> {
        let parts = self.compose(&job, platform).await?;
        if parts.is_empty() {
            report.digests_empty += 1;
            self.store.finish_digest(job.id, "empty", self.clock.now()).await?;
            return Ok(true);
        }
        for (n, part) in parts.iter().enumerate().skip(job.parts_sent as usize) {
            if self.draining() {
                // The parts sent are recorded; the rest go out after a restart.
                let now = self.clock.now();
                let row = OutboxRow::Digest(job.id);
                self.store.retry_outbox(row, now, "herald stopped", Attempt::Uncounted).await?;
                return Ok(false);
            }
            let key = format!("{}p{n}", job.idem_key);
            let result = self.send(platform, &job.external_id, part, &key).await;
            let now = self.clock.now();
            self.platform_outcome(platform.name(), !is_trouble(&result), now).await?;
            match result {
                Ok(_) => self.store.mark_digest_parts(job.id, n as i64 + 1).await?,
                Err(err) => {
                    let refusal = Refusal::of(err, job.attempts, now, &self.policy);
                    self.record(OutboxRow::Digest(job.id), job.channel_id, &refusal).await?;
                    if refusal.pause {
                        report.paused_channels += 1;
                    } else {
                        report.retried += 1;
                    }
                    return Ok(false);
                }
            }
        }
        report.digests_sent += 1;
        self.store.finish_digest(job.id, "sent", self.clock.now()).await?;
        Ok(true)
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

    /// Posts due notices, each in a channel of its community that takes posts: the one
    /// it was first tried in, else the one that last received a post. A channel that
    /// refuses it for good is not tried again for it.
    async fn send_notices(&self, report: &mut DispatchReport) -> Result<(), StoreError> {
        let installation = self.store.installation_id().await?;
        loop {
            let now = self.clock.now();
            let jobs = self.store.claim_due_notices(now, self.lease_s(), 20).await?;
            if jobs.is_empty() {
                return Ok(());
            }
            for job in jobs {
                let subject = self.store.notice_subject(&job).await?;
                if matches!(subject, NoticeSubject::Obsolete) {
                    self.store.finish_notice(job.id, "obsolete", None, None, now).await?;
                    continue;
                }
                let mut refused: Vec<i64> =
                    serde_json::from_str(&job.refused_by).unwrap_or_default();
                let target =
                    self.store.notice_target(job.community_id, job.channel_id, &refused).await?;
                let platform = target
                    .as_ref()
                    .and_then(|t| self.platforms.get(t.platform.as_str()))
                    .filter(|p| p.ready());
                let (Some(target), Some(platform)) = (target.clone(), platform.cloned()) else {
                    // Nowhere to say it now; a channel may take posts again later.
                    let why = if target.is_some() {
                        "the community's channel is on a platform not connected"
                    } else {
                        "no channel of this community takes posts"
                    };
                    self.store.retry_notice(job.id, now + 600, why, None, &refused).await?;
                    continue;
                };
                let mention = |ch: &crate::store::ChannelRow| match self
                    .platforms
                    .get(ch.platform.as_str())
                {
                    Some(p) => p.channel_mention(&ch.external_id, ch.name.as_deref()),
                    None => ch.name.clone().unwrap_or_else(|| ch.external_id.clone()),
                };
                let regain_access = |ch: &crate::store::ChannelRow| match self
                    .platforms
                    .get(ch.platform.as_str())
                {
                    Some(p) => p.regain_access().to_string(),
                    None => DEFAULT_REGAIN_ACCESS.to_string(),
                };
                let words = ChannelWords { mention: &mention, regain_access: &regain_access };
                let post = notice_post(&subject, &words, &self.policy);
                let key = crate::store::notice_key(&installation, job.id);
                let result = self.send(platform.as_ref(), &target.external_id, &post, &key).await;
                let now = self.clock.now();
                match result {
                    Ok(_) => {
                        self.store
                            .finish_notice(job.id, "sent", Some(target.id), None, now)
                            .await?;
                        report.notices_sent += 1;
                    }
                    Err(SendError::Permanent(reason)) => {
                        refused.push(target.id);
                        self.store.retry_notice(job.id, now, &reason, None, &refused).await?;
                    }
                    Err(err) => {
                        let r = Refusal::of(err, job.attempts, now, &self.policy);
                        self.store
                            .retry_notice(job.id, r.at, &r.reason, Some(target.id), &refused)
                            .await?;
                    }
                }
            }
        }
    }
}

/// A platform's recent answers.
#[derive(Debug, Default, Clone, Copy)]
struct Health {
    /// The latest failed try (an error or no answer) since the last success; None when
    /// the latest try succeeded.
    failed_at: Option<Timestamp>,
    /// The first failed try since the last success.
    failing_since: Option<Timestamp>,
}

/// Whether a send's result says the platform may be down.
fn is_trouble(result: &Result<Sent, SendError>) -> bool {
    matches!(result, Err(SendError::Transient(_)))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds valid data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Applies each subscription's filters and shapes the rows for the composer.
pub fn digest_articles(sources: Vec<crate::store::DigestSource>) -> Vec<DigestArticle> {
    let words = |json: &str| serde_json::from_str::<Vec<String>>(json).unwrap_or_default();
    // One row per article and subscription: each subscription's filter is parsed once.
    let mut filters: std::collections::HashMap<(String, String), Filter> = Default::default();
    sources
        .into_iter()
        .filter(|s| {
            let filter =
                filters.entry((s.include_words.clone(), s.exclude_words.clone())).or_insert_with(
                    || Filter::from_stored(&words(&s.include_words), &words(&s.exclude_words)),
                );
            filter.is_empty()
                || filter.matches(&Haystack::new(Fields {
                    title: s.title.as_deref().unwrap_or_default(),
                    author: s.author.as_deref().unwrap_or_default(),
                    categories: &words(&s.categories),
                    summary: &s.summary,
                    text: &s.text,
                }))
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

/// 30 s doubling per failed attempt, capped at `max_s`.
pub fn backoff_s(attempts: i64, max_s: i64) -> i64 {
    (30i64 << (attempts - 1).clamp(0, 20)).min(max_s.max(1))
}

/// A delivery's steps, kept in its outbox row.
struct StoreProgress<'a> {
    store: &'a Store,
    delivery: i64,
    done: Option<String>,
}

impl Progress for StoreProgress<'_> {
    fn done(&self) -> Option<String> {
        self.done.clone()
    }

    fn record<'a>(
        &'a self,
        step: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SendError>> + Send + 'a>>
    {
        Box::pin(async move {
            self.store
                .record_delivery_progress(self.delivery, &step)
                .await
                .map_err(|e| SendError::Transient(format!("recording a post's progress: {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_s(1, 300), 30);
        assert_eq!(backoff_s(2, 300), 60);
        assert_eq!(backoff_s(4, 300), 240);
        assert_eq!(backoff_s(5, 300), 300);
        assert_eq!(backoff_s(500, 300), 300);
    }

    #[test]
    fn a_rate_limit_waits_at_least_as_long_as_asked() {
        let policy = DeliveryPolicy::default();
        let r = Refusal::of(
            SendError::RateLimited { retry_after: Duration::from_millis(1500) },
            0,
            100,
            &policy,
        );
        assert_eq!((r.at, r.counts, r.pause), (102, false, false));
    }
}
