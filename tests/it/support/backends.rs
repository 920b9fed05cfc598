//! The store tests run on every backend: each test asks for [`each`] and runs its body on
//! a SQLite store in a temp dir and, unless `HERALD_SKIP_POSTGRES=1`, on a fresh database
//! of the binary's PostgreSQL cluster (`postgres.rs`), opened through `Store::open` with
//! a `postgres://` URL as `DATABASE_URL` would.

use herald::store::Store;

use super::postgres;

pub struct Backend {
    pub name: &'static str,
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh store on each backend, SQLite first. Iterating announces each on stderr, so
/// a failing test's output names the backend it failed on.
pub async fn each() -> Backends {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/herald.db", dir.path().display());
    let store = Store::open(&url).await.expect("open SQLite");
    let mut all = vec![Backend { name: "sqlite", store, url, _dir: Some(dir) }];
    if let Some(cluster) = postgres::shared() {
        let url = cluster.fresh_database().await;
        let store = Store::open(&url).await.expect("open PostgreSQL through Store::open");
        all.push(Backend { name: "postgres", store, url, _dir: None });
    }
    Backends(all.into_iter())
}

pub struct Backends(std::vec::IntoIter<Backend>);

impl Iterator for Backends {
    type Item = Backend;

    fn next(&mut self) -> Option<Backend> {
        let b = self.0.next()?;
        eprintln!("--- on {}", b.name);
        Some(b)
    }
}

/// Shorthands for the tests that need a community following a feed.
impl Backend {
    /// The community's id, created on first sight.
    pub async fn community(&self, external_id: &str) -> i64 {
        self.store.ensure_community("console", external_id, None, 0).await.expect("community")
    }

    /// Adds the feed to the community's list.
    pub async fn link(&self, community: i64, feed: i64) {
        self.store.link_feed(community, feed, None, 0).await.expect("link");
    }

    /// Removes the feed from the community's list; the last follower deletes the feed.
    /// Returns whether it did.
    pub async fn unlink(&self, community: i64, feed: i64) -> bool {
        self.store.unlink_feed(community, feed).await.expect("unlink")
    }
}
