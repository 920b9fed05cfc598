//! The store tests run on every backend: each test asks for [`each`] and runs its body on
//! a SQLite store in a temp dir and, unless `HERALD_SKIP_POSTGRES=1`, on a fresh database
//! of the binary's PostgreSQL cluster (`postgres.rs`), opened through `Store::open` with
//! a `postgres://` URL as `DATABASE_URL` would.

use herald::store::Store;
use sqlx::PgPool;

use super::postgres;

pub struct Backend {
    pub name: &'static str,
    pub store: Store,
    pub url: String,
    /// A second connection to the PostgreSQL database, for what the store cannot do
    /// there yet (communities, below).
    pg: Option<PgPool>,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh store on each backend, SQLite first. Iterating announces each on stderr, so
/// a failing test's output names the backend it failed on.
pub async fn each() -> Backends {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/herald.db", dir.path().display());
    let store = Store::open(&url).await.expect("open SQLite");
    let mut all = vec![Backend { name: "sqlite", store, url, pg: None, _dir: Some(dir) }];
    if let Some(cluster) = postgres::shared() {
        let url = cluster.fresh_database().await;
        let store = Store::open(&url).await.expect("open PostgreSQL through Store::open");
        let pg = PgPool::connect(&url).await.expect("connect");
        all.push(Backend { name: "postgres", store, url, pg: Some(pg), _dir: None });
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

// communities.rs is SQLite-only until it is converted (issue #17): on PostgreSQL these
// helpers write the same rows with the statements the store will use, so the search and
// claim tests can follow community links on both backends today.
impl Backend {
    /// The community's id, created on first sight.
    pub async fn community(&self, external_id: &str) -> i64 {
        match &self.pg {
            None => self
                .store
                .ensure_community("console", external_id, None, 0)
                .await
                .expect("community"),
            Some(pg) => sqlx::query_scalar(
                "INSERT INTO communities (platform, external_id, created_at)
                 VALUES ('console', $1, 0)
                 ON CONFLICT (platform, external_id) DO UPDATE SET name = communities.name
                 RETURNING id",
            )
            .bind(external_id)
            .fetch_one(pg)
            .await
            .expect("community"),
        }
    }

    /// Adds the feed to the community's list.
    pub async fn link(&self, community: i64, feed: i64) {
        match &self.pg {
            None => {
                self.store.link_feed(community, feed, None, 0).await.expect("link");
            }
            Some(pg) => {
                sqlx::query(
                    "INSERT INTO community_feeds (community_id, feed_id, added_at)
                     VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                )
                .bind(community)
                .bind(feed)
                .execute(pg)
                .await
                .expect("link");
            }
        }
    }

    /// Removes the feed from the community's list; the last follower deletes the feed.
    /// Returns whether it did.
    pub async fn unlink(&self, community: i64, feed: i64) -> bool {
        let Some(pg) = &self.pg else {
            return self.store.unlink_feed(community, feed).await.expect("unlink");
        };
        let orphan = sqlx::query(
            "DELETE FROM feeds WHERE id = $1 AND NOT EXISTS
                 (SELECT 1 FROM community_feeds WHERE feed_id = $1 AND community_id <> $2)",
        )
        .bind(feed)
        .bind(community)
        .execute(pg)
        .await
        .expect("unlink")
        .rows_affected()
            == 1;
        if !orphan {
            sqlx::query("DELETE FROM community_feeds WHERE community_id = $1 AND feed_id = $2")
                .bind(community)
                .bind(feed)
                .execute(pg)
                .await
                .expect("unlink");
        }
        orphan
    }
}
