//! Leases an adapter holds in the database while it runs, so that processes sharing a
//! database never do the same platform work twice: Discord's gateway shards (each shard
//! in one process; two sessions of one shard would answer every command twice).

use std::path::Path;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::store::Store;

/// Who holds a lease: the host and data directory, so a restarted process (same
/// directory) takes its own leases back at once, and processes with their own
/// directories never pass for each other.
pub fn holder_id(data_dir: &Path) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    format!("{host}:{}", dir.display())
}

/// Leases taken together and renewed every third of their length until released.
pub struct HeldLeases {
    names: Vec<String>,
    holder: String,
    store: Store,
    task: tokio::task::JoinHandle<()>,
}

impl HeldLeases {
    /// Takes every lease in `names` for `holder`, or none: when one is another's, the
    /// ones taken are given back and the error names who holds it.
    pub async fn take(
        store: &Store,
        clock: SharedClock,
        holder: &str,
        names: Vec<String>,
        ttl: Duration,
    ) -> anyhow::Result<HeldLeases> {
        let ttl_s = ttl.as_secs().max(1) as i64;
        let mut taken = Vec::new();
        for name in &names {
            if store.take_lease(name, holder, clock.now(), ttl_s).await?.is_some() {
                taken.push(name.clone());
                continue;
            }
            for t in &taken {
                store.release_lease(t, holder).await?;
            }
            let other = store
                .leases_held(clock.now())
                .await?
                .into_iter()
                .find(|l| &l.name == name)
                .map_or_else(|| "another process".to_string(), |l| l.holder);
            anyhow::bail!("{name} is held by {other} (free again {ttl_s} s after it stops)");
        }
        let (s, h, n) = (store.clone(), holder.to_string(), names.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 3).await;
                for name in &n {
                    match s.take_lease(name, &h, clock.now(), ttl_s).await {
                        Ok(Some(_)) => {}
                        Ok(None) => tracing::error!(
                            "{name} was taken by another process while this one held it \
                             (this process stalled past its lease)"
                        ),
                        Err(e) => tracing::warn!("renewing {name} failed: {e}"),
                    }
                }
            }
        });
        Ok(HeldLeases { names, holder: holder.to_string(), store: store.clone(), task })
    }

    /// Stops renewing and gives the leases back, so a successor takes them at once.
    pub async fn release(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
        for name in &self.names {
            if let Err(e) = self.store.release_lease(name, &self.holder).await {
                tracing::warn!("giving up {name} failed (it runs out by itself): {e}");
            }
        }
    }
}

impl Drop for HeldLeases {
    /// Dropped without a release (a start that failed later): stop renewing, so the
    /// leases run out.
    fn drop(&mut self) {
        self.task.abort();
    }
}
