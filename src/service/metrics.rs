//! The numbers an operator scrapes from `/metrics`: counters and histograms that the
//! poller, the dispatcher and the command core move as they work (one cheap call per
//! outcome), and gauges read from the store at scrape time (feeds by state, archive,
//! outbox), so they are true whoever wrote the rows.
//!
//! The exposition is `prometheus-client`'s (OpenMetrics text, which Prometheus reads);
//! nothing here formats metric lines by hand.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::deliver::port::SendError;
use crate::store::OpsSnapshot;

type Labels1 = [(&'static str, &'static str); 1];
type Labels2 = [(&'static str, &'static str); 2];

/// Handle to herald's metrics; cheap to clone, shared by every loop of one process.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Mutex<Registry>,
    polls: Family<Labels2, Counter>,
    fetch_seconds: Histogram,
    articles_new: Counter,
    deliveries: Family<Labels2, Counter>,
    rate_limit_waits: Family<Labels1, Counter>,
    rate_limit_wait_seconds: Family<Labels1, Counter<f64>>,
    commands: Family<Labels2, Counter>,
    command_seconds: Family<Labels1, Histogram>,
    search_seconds: Histogram,
    feeds: Family<Labels1, Gauge>,
    articles: Gauge,
    archive_bytes: Gauge,
    outbox_depth: Family<Labels1, Gauge>,
    oldest_owed_seconds: Gauge,
    platform_connected: Family<Labels1, Gauge>,
    /// Unix seconds of each loop's latest turn (0: never), for `/readyz`.
    poller_tick: AtomicI64,
    dispatcher_tick: AtomicI64,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 40 s: a loopback 304 to a page that ran out its budget.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("herald");
        let inner = Inner {
            registry: Mutex::new(Registry::default()),
            polls: Family::default(),
            fetch_seconds: latency_histogram(),
            articles_new: Counter::default(),
            deliveries: Family::default(),
            rate_limit_waits: Family::default(),
            rate_limit_wait_seconds: Family::default(),
            commands: Family::default(),
            command_seconds: Family::new_with_constructor(latency_histogram),
            search_seconds: latency_histogram(),
            feeds: Family::default(),
            articles: Gauge::default(),
            archive_bytes: Gauge::default(),
            outbox_depth: Family::default(),
            oldest_owed_seconds: Gauge::default(),
            platform_connected: Family::default(),
            poller_tick: AtomicI64::new(0),
            dispatcher_tick: AtomicI64::new(0),
        };
        r.register(
            "polls",
            "Feed polls by outcome (updated, not_modified, failed) and error category",
            inner.polls.clone(),
        );
        r.register(
            "poll_duration_seconds",
            "Time to fetch and store one feed (a 304 is one request)",
            inner.fetch_seconds.clone(),
        );
        r.register("articles_new", "New articles stored by polls", inner.articles_new.clone());
        r.register(
            "deliveries",
            "Platform sends (posts, digest parts, notices) by outcome and platform",
            inner.deliveries.clone(),
        );
        r.register(
            "rate_limit_waits",
            "Sends a platform answered with a rate limit, by platform",
            inner.rate_limit_waits.clone(),
        );
        r.register(
            "rate_limit_wait_seconds",
            "Seconds platforms asked herald to wait, by platform",
            inner.rate_limit_wait_seconds.clone(),
        );
        r.register("commands", "Commands by name and outcome", inner.commands.clone());
        r.register(
            "command_duration_seconds",
            "Time to answer a command, by name",
            inner.command_seconds.clone(),
        );
        r.register(
            "search_duration_seconds",
            "Time to answer a search command",
            inner.search_seconds.clone(),
        );
        r.register("feeds", "Feeds by state (ok, failing, paused, disabled)", inner.feeds.clone());
        r.register("articles", "Articles in the archive", inner.articles.clone());
        r.register("archive_bytes", "Size of the database file", inner.archive_bytes.clone());
        r.register(
            "outbox_depth",
            "Owed sends by kind (post, digest, notice)",
            inner.outbox_depth.clone(),
        );
        r.register(
            "outbox_oldest_owed_seconds",
            "Age of the oldest owed post or digest (0 when nothing is owed)",
            inner.oldest_owed_seconds.clone(),
        );
        r.register(
            "platform_connected",
            "1 while a configured platform's connection is up",
            inner.platform_connected.clone(),
        );
        r.register(
            "build",
            "The running build",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        *inner.registry.lock().unwrap_or_else(|p| p.into_inner()) = r;
        Metrics { inner: Arc::new(inner) }
    }

    /// One feed poll finished: its outcome, its error category (failed polls), how
    /// long it took and how many new articles it stored.
    pub fn poll(&self, outcome: &'static str, error: &'static str, took: Duration, new: usize) {
        self.inner.polls.get_or_create(&[("outcome", outcome), ("error", error)]).inc();
        self.inner.fetch_seconds.observe(took.as_secs_f64());
        if new > 0 {
            self.inner.articles_new.inc_by(new as u64);
        }
    }

    /// One platform call finished.
    pub fn send(&self, platform: &'static str, result: &Result<(), &SendError>) {
        let outcome = match result {
            Ok(()) => "sent",
            Err(SendError::RateLimited { retry_after }) => {
                let l = [("platform", platform)];
                self.inner.rate_limit_waits.get_or_create(&l).inc();
                self.inner
                    .rate_limit_wait_seconds
                    .get_or_create(&l)
                    .inc_by(retry_after.as_secs_f64());
                "rate_limited"
            }
            Err(SendError::Transient(_)) => "failed",
            Err(SendError::Permanent(_)) => "refused",
        };
        self.inner.deliveries.get_or_create(&[("outcome", outcome), ("platform", platform)]).inc();
    }

    /// One command answered.
    pub fn command(&self, name: &'static str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.inner.commands.get_or_create(&[("command", name), ("outcome", outcome)]).inc();
        self.inner.command_seconds.get_or_create(&[("command", name)]).observe(took.as_secs_f64());
        if name == "search" {
            self.inner.search_seconds.observe(took.as_secs_f64());
        }
    }

    /// The poll loop turned (it does at least every few seconds while running).
    pub fn poller_tick(&self) {
        self.inner.poller_tick.store(unix_now(), Ordering::Relaxed);
    }

    /// The delivery loop turned (about once a second while running).
    pub fn dispatcher_tick(&self) {
        self.inner.dispatcher_tick.store(unix_now(), Ordering::Relaxed);
    }

    /// Unix seconds of the poll and delivery loops' latest turns (0: never).
    pub fn ticks(&self) -> (i64, i64) {
        (
            self.inner.poller_tick.load(Ordering::Relaxed),
            self.inner.dispatcher_tick.load(Ordering::Relaxed),
        )
    }

    pub fn set_platform(&self, platform: &'static str, connected: bool) {
        self.inner
            .platform_connected
            .get_or_create(&[("platform", platform)])
            .set(connected as i64);
    }

    /// Sets the gauges that describe the store.
    pub fn set_store(&self, s: &OpsSnapshot) {
        let i = &self.inner;
        for (state, n) in [
            ("ok", s.feeds_ok),
            ("failing", s.feeds_failing),
            ("paused", s.feeds_paused),
            ("disabled", s.feeds_disabled),
        ] {
            i.feeds.get_or_create(&[("state", state)]).set(n);
        }
        i.articles.set(s.articles);
        i.archive_bytes.set(s.archive_bytes);
        for (kind, n) in
            [("post", s.owed_posts), ("digest", s.owed_digests), ("notice", s.owed_notices)]
        {
            i.outbox_depth.get_or_create(&[("kind", kind)]).set(n);
        }
        i.oldest_owed_seconds.set(s.oldest_owed_age_s);
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.inner.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
