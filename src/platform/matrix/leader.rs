//! One process at a time syncs with the homeserver and posts to Matrix: the holder of
//! the `matrix-sync` lease in the database. Several herald processes on one PostgreSQL
//! would otherwise each answer every command (each is its own device of the bot's
//! account, and each sees every room event). On SQLite, with one process, the lease is
//! taken at once and kept.
//!
//! The holder renews every third of the lease; a process that stops renewing (killed,
//! cut off from the database) loses it when it runs out and stops syncing, and another
//! takes over. Events the old leader may have missed are answered by the new one, once:
//! answered events are claimed in the database ([`Store::claim_event`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::SharedClock;
use crate::store::Store;

/// The lease's name in `leases`.
pub const LEASE: &str = "matrix-sync";

/// This process's side of the lease.
pub struct Leadership {
    /// Whether this process holds the lease now.
    pub leading: watch::Receiver<bool>,
    /// Unix milliseconds: events older than this were the previous leader's to answer.
    pub floor_ms: Arc<AtomicI64>,
    holder: String,
    store: Store,
    task: tokio::task::JoinHandle<()>,
}

pub use crate::platform::held::holder_id;

impl Leadership {
    /// Starts asking for (and then renewing) the lease.
    pub fn start(store: Store, clock: SharedClock, holder: String, ttl: Duration) -> Leadership {
        let (tx, leading) = watch::channel(false);
        let floor_ms = Arc::new(AtomicI64::new(0));
        let ttl_s = ttl.as_secs().max(1) as i64;
        let tick = ttl / 3;
        let (s, h, floor) = (store.clone(), holder.clone(), floor_ms.clone());
        let task = tokio::spawn(async move {
            // When this process last knew it held the lease.
            let mut held_at: Option<i64> = None;
            loop {
                let now = clock.now();
                match s.take_lease(LEASE, &h, now, ttl_s).await {
                    Ok(Some(lease)) => {
                        if held_at.is_none() {
                            // What came after the previous leader's last renewal may be
                            // unanswered; a lease's length before it is margin enough.
                            let from = lease.previous_renewal.unwrap_or(lease.since) - ttl_s;
                            floor.store(from.saturating_mul(1000), Ordering::Relaxed);
                            tracing::info!("this process now syncs and posts to Matrix");
                        }
                        held_at = Some(now);
                        tx.send_replace(true);
                    }
                    Ok(None) => {
                        if held_at.take().is_some() {
                            tracing::warn!("another process took the Matrix sync lease");
                        }
                        tx.send_replace(false);
                    }
                    Err(e) => {
                        tracing::warn!("renewing the Matrix sync lease failed: {e}");
                        // Still ours until it runs out; stop before another may take it.
                        if held_at.is_some_and(|at| now + tick.as_secs() as i64 >= at + ttl_s) {
                            held_at = None;
                            tx.send_replace(false);
                        }
                    }
                }
                tokio::time::sleep(tick).await;
            }
        });
        Leadership { leading, floor_ms, holder, store, task }
    }

    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Stops renewing and gives the lease up, so another process takes over at once.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        if let Err(e) = self.store.release_lease(LEASE, &self.holder).await {
            tracing::warn!("giving up the Matrix sync lease failed (it runs out by itself): {e}");
        }
    }
}
