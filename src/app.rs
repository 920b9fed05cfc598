//! Wiring: config → store, fetcher, poller. Every entry point (CLI, bench, tests) builds
//! herald through here, so they all run the same parts.

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::ingest::{Fetcher, Poller};
use crate::service::metrics::Metrics;
use crate::store::Store;
use crate::summarize::{Extractive, Summarizer};

/// The parts of a running herald.
#[derive(Clone)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub fetcher: Arc<Fetcher>,
    pub poller: Poller,
    pub clock: SharedClock,
    /// Counters and histograms the loops move; served on `/metrics`.
    pub metrics: Metrics,
}

impl App {
    /// Opens the database named by the config (applying migrations) and builds the parts.
    pub async fn open(config: Config, clock: SharedClock) -> anyhow::Result<App> {
        let store = Store::open(&config.database_url).await?;
        App::with_store(config, store, clock)
    }

    pub fn with_store(config: Config, store: Store, clock: SharedClock) -> anyhow::Result<App> {
        let fetcher = Arc::new(Fetcher::new(config.fetch.clone())?);
        let summarizer: Arc<dyn Summarizer> = Arc::new(Extractive::default());
        let poller = Poller::new(
            store.clone(),
            fetcher.clone(),
            config.poll.clone(),
            clock.clone(),
            summarizer,
        );
        let metrics = Metrics::new();
        let poller = poller.with_metrics(metrics.clone());
        Ok(App { config, store, fetcher, poller, clock, metrics })
    }
}
