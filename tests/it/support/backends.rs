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

// Channels and subscriptions for the outbox tests (`store_deliveries.rs`), the same way:
// the store's own methods on SQLite, the same rows by SQL on PostgreSQL until
// communities.rs runs there.
impl Backend {
    /// The channel's id, created on first sight (platform `chat`).
    pub async fn channel(&self, community: i64, external_id: &str, created_at: i64) -> i64 {
        match &self.pg {
            None => {
                self.store
                    .ensure_channel(community, "chat", external_id, None, created_at)
                    .await
                    .expect("channel")
                    .id
            }
            Some(pg) => sqlx::query_scalar(
                "INSERT INTO channels (community_id, platform, external_id, created_at)
                 VALUES ($1, 'chat', $2, $3)
                 ON CONFLICT (platform, external_id) DO UPDATE SET name = channels.name
                 RETURNING id",
            )
            .bind(community)
            .bind(external_id)
            .bind(created_at)
            .fetch_one(pg)
            .await
            .expect("channel"),
        }
    }

    /// Subscribes the channel to the feed in `mode` (`instant` or `digest`), with
    /// notifications on (an option that must reach the delivery job).
    pub async fn subscribe(&self, channel: i64, feed: i64, mode: &str, at: i64) {
        match &self.pg {
            None => {
                let notify =
                    herald::store::OptionsChange { notify: Some(true), ..Default::default() };
                self.store
                    .subscribe_with(channel, feed, mode, &[], &[], &notify, None, at)
                    .await
                    .expect("subscribe");
            }
            Some(pg) => {
                sqlx::query(
                    "INSERT INTO subscriptions (channel_id, feed_id, mode, created_at, notify)
                     VALUES ($1, $2, $3, $4, true)",
                )
                .bind(channel)
                .bind(feed)
                .bind(mode)
                .bind(at)
                .execute(pg)
                .await
                .expect("subscribe");
            }
        }
    }

    /// Pauses (Some) or resumes (None) a channel.
    pub async fn pause_channel(&self, channel: i64, reason: Option<&str>) {
        match &self.pg {
            None => self.store.set_channel_paused(channel, reason).await.expect("pause"),
            Some(pg) => {
                sqlx::query("UPDATE channels SET paused_reason = $1 WHERE id = $2")
                    .bind(reason)
                    .bind(channel)
                    .execute(pg)
                    .await
                    .expect("pause");
            }
        }
    }

    /// Gives the channel a digest schedule whose last window ended at `last_end` and
    /// whose next one is due at `next_at`.
    pub async fn digest_schedule(&self, channel: i64, last_end: i64, next_at: i64) {
        match &self.pg {
            None => self
                .store
                .set_digest_schedule(
                    channel,
                    Some(("daily 09:00", "UTC")),
                    Some(last_end),
                    Some(next_at),
                )
                .await
                .expect("schedule"),
            Some(pg) => {
                sqlx::query(
                    "UPDATE channels SET digest_spec = 'daily 09:00', digest_tz = 'UTC',
                         digest_last_end = $1, digest_next_at = $2 WHERE id = $3",
                )
                .bind(last_end)
                .bind(next_at)
                .bind(channel)
                .execute(pg)
                .await
                .expect("schedule");
            }
        }
    }
}
