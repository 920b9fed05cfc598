//! Readiness: is this herald doing its job? The database takes writes, each configured
//! platform is connected, and the poll and delivery loops keep turning.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::metrics::Metrics;
use crate::clock::SharedClock;
use crate::store::Store;

/// The delivery loop turns about once a second; this much silence means it is stuck.
const DISPATCHER_SILENCE_S: i64 = 30;
/// The poll loop turns at least every 5 s when idle and every second while polls run,
/// but may wait for the store; this much silence means it is stuck.
const POLLER_SILENCE_S: i64 = 120;
/// How long the write probe waits for the database's write lock.
const WRITE_WAIT: Duration = Duration::from_secs(2);

/// Asks a platform adapter whether its connection is up.
pub type ConnectedProbe = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// Everything readiness looks at.
#[derive(Clone)]
pub struct Health {
    pub store: Store,
    pub metrics: Metrics,
    pub clock: SharedClock,
    /// Each configured platform (Discord, Matrix) and how to ask it.
    pub platforms: Vec<(&'static str, ConnectedProbe)>,
}

/// A Matrix client's liveness: the time of its latest sync response.
pub fn last_sync_probe(last_sync: Arc<AtomicI64>, clock: SharedClock) -> ConnectedProbe {
    Arc::new(move || {
        let (last, now) = (last_sync.load(Ordering::Relaxed), clock.now());
        // Syncs long-poll for 30 s: a minute and a half without one is a lost connection.
        Box::pin(async move { last > 0 && now - last <= 90 })
    })
}

impl Health {
    /// What is wrong, one reason a line; empty when herald is ready.
    pub async fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(e) = self.store.probe_writable(WRITE_WAIT).await {
            problems.push(format!("database not writable: {e}"));
        }
        for (name, probe) in &self.platforms {
            let up = probe().await;
            self.metrics.set_platform(name, up);
            if !up {
                problems.push(format!("{name} not connected"));
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let (poller, dispatcher) = self.metrics.ticks();
        for (name, tick, limit) in
            [("poll", poller, POLLER_SILENCE_S), ("delivery", dispatcher, DISPATCHER_SILENCE_S)]
        {
            if tick == 0 {
                problems.push(format!("{name} loop not started"));
            } else if now - tick > limit {
                problems.push(format!("{name} loop not turning (last turn {}s ago)", now - tick));
            }
        }
        problems
    }

    /// The metrics text, with the store's gauges and platform states read now.
    pub async fn metrics_text(&self) -> String {
        match self.store.ops_snapshot(self.clock.now()).await {
            Ok(snapshot) => self.metrics.set_store(&snapshot),
            Err(e) => tracing::warn!("reading the store for /metrics failed: {e}"),
        }
        for (name, probe) in &self.platforms {
            self.metrics.set_platform(name, probe().await);
        }
        self.metrics.render()
    }
}
