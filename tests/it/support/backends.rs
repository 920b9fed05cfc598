//! The store tests run on every backend: each test asks for [`each`] and runs its body on
//! a SQLite store in a temp dir and, unless `HERALD_SKIP_POSTGRES=1`, on a fresh database
//! of the binary's PostgreSQL cluster (`postgres.rs`), opened through `Store::open` with
//! a `postgres://` URL as `DATABASE_URL` would.

use herald::store::{NewArticle, Store};

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

/// Channels and subscriptions for the outbox tests (`store_deliveries.rs`).
impl Backend {
    /// The channel's id, created on first sight (platform `chat`).
    pub async fn channel(&self, community: i64, external_id: &str, created_at: i64) -> i64 {
        let channel = self.store.ensure_channel(community, "chat", external_id, None, created_at);
        channel.await.expect("channel").id
    }

    /// Subscribes the channel to the feed in `mode` (`instant` or `digest`), with
    /// notifications on (an option that must reach the delivery job).
    pub async fn subscribe(&self, channel: i64, feed: i64, mode: &str, at: i64) {
        let notify = herald::store::OptionsChange { notify: Some(true), ..Default::default() };
        self.store
            .subscribe_with(channel, feed, mode, &[], &[], &notify, None, at)
            .await
            .expect("subscribe");
    }

    /// Pauses (Some) or resumes (None) a channel.
    pub async fn pause_channel(&self, channel: i64, reason: Option<&str>) {
        self.store.set_channel_paused(channel, reason).await.expect("pause");
    }

    /// Gives the channel a digest schedule whose last window ended at `last_end` and
    /// whose next one is due at `next_at`.
    pub async fn digest_schedule(&self, channel: i64, last_end: i64, next_at: i64) {
        let spec = Some(("daily 09:00", "UTC"));
        self.store
            .set_digest_schedule(channel, spec, Some(last_end), Some(next_at))
            .await
            .expect("schedule");
    }
}

/// An article of `feed` with item key `key`, fetched at `at`: title "Story KEY" and a
/// few sentences of text.
pub fn article(feed: i64, key: &str, at: i64) -> NewArticle {
    NewArticle {
        feed_id: feed,
        item_key: key.into(),
        url: Some(format!("https://a.example/{key}")),
        title: Some(format!("Story {key}")),
        fetched_at: at,
        text: format!("The story {key} in full. It goes on for a while. Then it ends."),
        summary: format!("The story {key}."),
        text_source: "feed",
        ..NewArticle::default()
    }
}
