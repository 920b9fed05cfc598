//! Communities, their feeds, channels and subscriptions, on both backends.
//!
//! On PostgreSQL several processes write these tables at once. A row that must exist
//! once (a community, a channel, a link, a subscription) is created by an upsert against
//! its unique constraint, never by a read and then an insert. What depends on who follows
//! a feed (the last follower deletes it; it is fetched at its followers' shortest
//! interval) is decided while holding the feed's row lock, so adds and unlinks of one
//! feed take turns.

use sqlx::FromRow;

use super::{Db, FeedRow, Store, StoreError, on_db};
use crate::clock::Timestamp;

/// A place herald posts to: a Discord channel, a Matrix room, the console.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct ChannelRow {
    pub id: i64,
    pub community_id: i64,
    pub platform: String,
    pub external_id: String,
    pub name: Option<String>,
    pub digest_spec: Option<String>,
    pub digest_tz: Option<String>,
    pub digest_last_end: Option<Timestamp>,
    pub digest_next_at: Option<Timestamp>,
    pub paused_reason: Option<String>,
    pub created_at: Timestamp,
}

/// A feed as one community sees it.
#[derive(Debug, Clone, FromRow)]
pub struct CommunityFeed {
    #[sqlx(flatten)]
    pub feed: FeedRow,
    pub paused: bool,
    /// The interval this community asked for; the feed is fetched at the shortest any
    /// follower asked for (`feed.poll_interval_s`).
    pub asked_interval_s: Option<i64>,
}

#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct SubscriptionRow {
    pub id: i64,
    pub channel_id: i64,
    pub feed_id: i64,
    pub mode: String,
    pub include_words: String,
    pub exclude_words: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    /// The message template's source (checked when it was set); `None`: the default post.
    pub template: Option<String>,
    /// `embed`, `compact` or `link`.
    pub style: String,
    /// The platform's id of the group each post pings.
    pub mention: Option<String>,
    pub notify: bool,
    pub thread: bool,
    pub webhook: bool,
}

/// Options a subscribe changes; `None` keeps what the subscription has (a new one: the
/// default). `Some(None)` clears a template or mention.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionsChange {
    pub template: Option<Option<String>>,
    pub style: Option<String>,
    pub mention: Option<Option<String>>,
    pub notify: Option<bool>,
    pub thread: Option<bool>,
    pub webhook: Option<bool>,
}

impl SubscriptionRow {
    pub fn include(&self) -> Vec<String> {
        serde_json::from_str(&self.include_words).unwrap_or_default()
    }

    pub fn exclude(&self) -> Vec<String> {
        serde_json::from_str(&self.exclude_words).unwrap_or_default()
    }
}

const CHANNEL_COLUMNS: &str = "id, community_id, platform, external_id, name, digest_spec, \
     digest_tz, digest_last_end, digest_next_at, paused_reason, created_at";
const SUB_COLUMNS: &str = "id, channel_id, feed_id, mode, include_words, exclude_words, \
     created_by, created_at, template, style, mention, notify, thread, webhook";
const FEED_COLUMNS_F: &str = "f.id, f.url, f.title, f.site_url, f.etag, f.last_modified, \
     f.poll_interval_s, f.next_poll_at, f.last_polled_at, f.last_success_at, f.failures, \
     f.last_error, f.last_error_kind, f.disabled_reason, f.primed, f.created_at";

/// The console's community: the operator's own, and where CLI-added feeds live.
pub const CONSOLE: (&str, &str) = ("console", "local");

/// Sets a feed's fetch interval to the shortest its followers ask for (`?1`: the feed),
/// and brings its next poll forward when the interval got shorter. Run in the
/// transaction that changed the links, holding the feed's row lock.
const SHARED_INTERVAL: &str = "UPDATE feeds SET
         poll_interval_s = asked.interval_s,
         next_poll_at = CASE WHEN last_polled_at IS NULL THEN next_poll_at
                             WHEN last_polled_at + asked.interval_s < next_poll_at
                             THEN last_polled_at + asked.interval_s
                             ELSE next_poll_at END
     FROM (SELECT min(poll_interval_s) AS interval_s FROM community_feeds
           WHERE feed_id = ?1 AND poll_interval_s IS NOT NULL) AS asked
     WHERE feeds.id = ?1 AND asked.interval_s IS NOT NULL";

/// How many times a subscribe starts over when an unsubscribe deletes the row between
/// its insert and its update; only repeated races in one call end in an error.
const SUBSCRIBE_TURNS: usize = 3;

impl Store {
    pub async fn console_community(&self, now: Timestamp) -> Result<i64, StoreError> {
        self.ensure_community(CONSOLE.0, CONSOLE.1, Some("console"), now).await
    }

    /// The community's id, creating it on first sight.
    pub async fn ensure_community(
        &self,
        platform: &str,
        external_id: &str,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        Ok(on_db!(self, writer, |ex, sql| {
            sqlx::query_scalar(sql(
                "INSERT INTO communities (platform, external_id, name, created_at)
                 VALUES (?, ?, ?, ?)
                 ON CONFLICT(platform, external_id)
                 DO UPDATE SET name = coalesce(excluded.name, communities.name)
                 RETURNING id",
            ))
            .bind(platform)
            .bind(external_id)
            .bind(name)
            .bind(now)
            .fetch_one(ex)
            .await?
        }))
    }

    /// The channel, creating it on first sight.
    pub async fn ensure_channel(
        &self,
        community_id: i64,
        platform: &str,
        external_id: &str,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<ChannelRow, StoreError> {
        let statement = format!(
            "INSERT INTO channels (community_id, platform, external_id, name, created_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(platform, external_id)
             DO UPDATE SET name = coalesce(excluded.name, channels.name)
             RETURNING {CHANNEL_COLUMNS}"
        );
        Ok(on_db!(self, writer, |ex, sql| {
            sqlx::query_as(sql(&statement))
                .bind(community_id)
                .bind(platform)
                .bind(external_id)
                .bind(name)
                .bind(now)
                .fetch_one(ex)
                .await?
        }))
    }

    pub async fn channel(&self, id: i64) -> Result<Option<ChannelRow>, StoreError> {
        let statement = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?");
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&statement)).bind(id).fetch_optional(ex).await?
        }))
    }

    pub async fn channel_by_external(
        &self,
        platform: &str,
        external_id: &str,
    ) -> Result<Option<ChannelRow>, StoreError> {
        let statement = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE platform = ? AND external_id = ?"
        );
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&statement))
                .bind(platform)
                .bind(external_id)
                .fetch_optional(ex)
                .await?
        }))
    }

    /// Pauses (Some) or resumes (None) everything posted to a channel.
    pub async fn set_channel_paused(
        &self,
        channel_id: i64,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE channels SET paused_reason = ? WHERE id = ?"))
                .bind(reason)
                .bind(channel_id)
                .execute(ex)
                .await?;
        });
        Ok(())
    }

    /// Pauses every channel of a community on one platform (the bot was removed).
    pub async fn pause_community_channels(
        &self,
        platform: &str,
        community_external_id: &str,
        reason: &str,
    ) -> Result<u64, StoreError> {
        Ok(on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE channels SET paused_reason = ? WHERE community_id IN
                 (SELECT id FROM communities WHERE platform = ? AND external_id = ?)"))
            .bind(reason)
            .bind(platform)
            .bind(community_external_id)
            .execute(ex)
            .await?
            .rows_affected()
        }))
    }

    /// Adds a feed to a community's list. Returns whether it was new there.
    pub async fn link_feed(
        &self,
        community_id: i64,
        feed_id: i64,
        by: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        // The link's foreign key share-locks the feed's row, so an unlink deciding
        // whether it removes the last follower waits for this link (or this link for
        // the feed's deletion, and then fails).
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "INSERT INTO community_feeds (community_id, feed_id, added_by, added_at)
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            ))
            .bind(community_id)
            .bind(feed_id)
            .bind(by)
            .bind(now)
            .execute(ex)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Adds a feed (unless its URL is stored) and links it to a community, in one
    /// transaction, so a crash cannot leave a feed that no community follows. With
    /// `interval_s` the community's own interval is set (a repeat add changes it), and
    /// the feed is fetched at the shortest interval any follower asked for. Returns the
    /// feed as it is now and whether the link is new.
    pub async fn add_and_link_feed(
        &self,
        community_id: i64,
        url: &str,
        interval_s: Option<i64>,
        default_interval_s: i64,
        now: Timestamp,
    ) -> Result<(FeedRow, bool), StoreError> {
        let (feed_id, linked) = on_db!(self, writer, |ex, sql| {
            let mut tx = ex.begin().await?;
            // An upsert that touches the stored row, rather than "insert or ignore, then
            // read": it returns the id either way and holds the feed's row lock to the
            // end, so a concurrent unlink cannot delete the feed under the new link and
            // concurrent adds compute the shared interval one after the other.
            let feed_id: i64 = sqlx::query_scalar(sql(
                "INSERT INTO feeds (url, poll_interval_s, next_poll_at, created_at)
                 VALUES (?, ?, ?, ?)
                 ON CONFLICT(url) DO UPDATE SET url = excluded.url RETURNING id",
            ))
            .bind(url)
            .bind(interval_s.unwrap_or(default_interval_s))
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let linked = sqlx::query(sql(
                "INSERT INTO community_feeds (community_id, feed_id, added_at, poll_interval_s)
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            ))
            .bind(community_id)
            .bind(feed_id)
            .bind(now)
            .bind(interval_s.unwrap_or(default_interval_s))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !linked && let Some(asked) = interval_s {
                sqlx::query(sql("UPDATE community_feeds SET poll_interval_s = ?
                     WHERE community_id = ? AND feed_id = ?"))
                .bind(asked)
                .bind(community_id)
                .bind(feed_id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(sql(SHARED_INTERVAL)).bind(feed_id).execute(&mut *tx).await?;
            tx.commit().await?;
            (feed_id, linked)
        });
        let feed = self.feed_by_id(feed_id).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok((feed, linked))
    }

    /// Removes a feed from a community (and that community's subscriptions to it). When
    /// no community follows the feed any more it is deleted, so it is no longer fetched.
    /// Returns whether the feed itself was deleted.
    pub async fn unlink_feed(&self, community_id: i64, feed_id: i64) -> Result<bool, StoreError> {
        // Whether this is the last follower is read under the feed's row lock: a link
        // being added by another process commits first (and is seen) or waits for this
        // transaction. SQLite's one writer runs the transaction alone already.
        let lock = match self.db {
            Db::Sqlite(_) => None,
            Db::Postgres(_) => Some("SELECT id FROM feeds WHERE id = ? FOR UPDATE"),
        };
        Ok(on_db!(self, writer, |ex, sql| {
            let mut tx = ex.begin().await?;
            if let Some(lock) = lock {
                sqlx::query(sql(lock)).bind(feed_id).execute(&mut *tx).await?;
            }
            sqlx::query(sql("DELETE FROM subscriptions WHERE feed_id = ?
                 AND channel_id IN (SELECT id FROM channels WHERE community_id = ?)"))
            .bind(feed_id)
            .bind(community_id)
            .execute(&mut *tx)
            .await?;
            // The last community to drop a feed deletes it (its articles go with it);
            // otherwise only the link goes, and a trigger re-tags the feed's articles.
            let orphan = sqlx::query(sql("DELETE FROM feeds WHERE id = ?1 AND NOT EXISTS
                 (SELECT 1 FROM community_feeds WHERE feed_id = ?1 AND community_id != ?2)"))
            .bind(feed_id)
            .bind(community_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !orphan {
                sqlx::query(sql(
                    "DELETE FROM community_feeds WHERE community_id = ? AND feed_id = ?",
                ))
                .bind(community_id)
                .bind(feed_id)
                .execute(&mut *tx)
                .await?;
                // The one who asked for the shortest interval may have gone.
                sqlx::query(sql(SHARED_INTERVAL)).bind(feed_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            orphan
        }))
    }

    pub async fn set_community_feed_paused(
        &self,
        community_id: i64,
        feed_id: i64,
        paused: bool,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "UPDATE community_feeds SET paused = ? WHERE community_id = ? AND feed_id = ?",
            ))
            .bind(paused)
            .bind(community_id)
            .bind(feed_id)
            .execute(ex)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// The community's feeds, in the order they were added.
    pub async fn community_feeds(
        &self,
        community_id: i64,
    ) -> Result<Vec<CommunityFeed>, StoreError> {
        let statement = format!(
            "SELECT {FEED_COLUMNS_F}, cf.paused, cf.poll_interval_s AS asked_interval_s
             FROM community_feeds cf
             JOIN feeds f ON f.id = cf.feed_id WHERE cf.community_id = ? ORDER BY cf.added_at, f.id"
        );
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&statement)).bind(community_id).fetch_all(ex).await?
        }))
    }

    pub async fn count_community_feeds(&self, community_id: i64) -> Result<i64, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_scalar(sql("SELECT count(*) FROM community_feeds WHERE community_id = ?"))
                .bind(community_id)
                .fetch_one(ex)
                .await?
        }))
    }

    /// Creates or updates a channel's subscription to a feed. The flag says whether it is new.
    #[allow(clippy::too_many_arguments)]
    pub async fn subscribe(
        &self,
        channel_id: i64,
        feed_id: i64,
        mode: &str,
        include: &[String],
        exclude: &[String],
        by: Option<&str>,
        now: Timestamp,
    ) -> Result<(SubscriptionRow, bool), StoreError> {
        let keep = OptionsChange::default();
        self.subscribe_with(channel_id, feed_id, mode, include, exclude, &keep, by, now).await
    }

    /// [`subscribe`](Self::subscribe) that also changes the delivery options, in one
    /// transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn subscribe_with(
        &self,
        channel_id: i64,
        feed_id: i64,
        mode: &str,
        include: &[String],
        exclude: &[String],
        options: &OptionsChange,
        by: Option<&str>,
        now: Timestamp,
    ) -> Result<(SubscriptionRow, bool), StoreError> {
        let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let (include, exclude) = (json(include), json(exclude));
        // Each option: (whether it is set, its new value); unset ones keep theirs.
        let o = options;
        let set_options = format!(
            "UPDATE subscriptions SET
                 template = CASE WHEN ?1 THEN ?2 ELSE template END,
                 style = coalesce(?3, style),
                 mention = CASE WHEN ?4 THEN ?5 ELSE mention END,
                 notify = coalesce(?6, notify),
                 thread = coalesce(?7, thread),
                 webhook = coalesce(?8, webhook)
             WHERE id = ?9 RETURNING {SUB_COLUMNS}"
        );
        Ok(on_db!(self, writer, |ex, sql| {
            let mut tx = ex.begin().await?;
            // Insert, else update: the insert alone says whether the row is new, also
            // when another process subscribes the same channel at the same moment (its
            // insert waits for ours, then finds the row and updates it).
            let mut found = None;
            for _ in 0..SUBSCRIBE_TURNS {
                let inserted: Option<i64> = sqlx::query_scalar(sql(
                    "INSERT INTO subscriptions (channel_id, feed_id, mode, include_words,
                         exclude_words, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT(channel_id, feed_id) DO NOTHING RETURNING id",
                ))
                .bind(channel_id)
                .bind(feed_id)
                .bind(mode)
                .bind(&include)
                .bind(&exclude)
                .bind(by)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = inserted {
                    found = Some((id, true));
                    break;
                }
                let updated: Option<i64> = sqlx::query_scalar(sql(
                    "UPDATE subscriptions SET mode = ?, include_words = ?, exclude_words = ?
                     WHERE channel_id = ? AND feed_id = ? RETURNING id",
                ))
                .bind(mode)
                .bind(&include)
                .bind(&exclude)
                .bind(channel_id)
                .bind(feed_id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = updated {
                    found = Some((id, false));
                    break;
                }
                // Unsubscribed between the two statements: insert again.
            }
            let (id, new) = found.ok_or(sqlx::Error::RowNotFound)?;
            let row = sqlx::query_as(sql(&set_options))
                .bind(o.template.is_some())
                .bind(o.template.clone().flatten())
                .bind(o.style.clone())
                .bind(o.mention.is_some())
                .bind(o.mention.clone().flatten())
                .bind(o.notify)
                .bind(o.thread)
                .bind(o.webhook)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            (row, new)
        }))
    }

    /// A channel's subscription to a feed, if it has one.
    pub async fn subscription(
        &self,
        channel_id: i64,
        feed_id: i64,
    ) -> Result<Option<SubscriptionRow>, StoreError> {
        let statement =
            format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE channel_id = ? AND feed_id = ?");
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&statement))
                .bind(channel_id)
                .bind(feed_id)
                .fetch_optional(ex)
                .await?
        }))
    }

    pub async fn unsubscribe(&self, channel_id: i64, feed_id: i64) -> Result<bool, StoreError> {
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("DELETE FROM subscriptions WHERE channel_id = ? AND feed_id = ?"))
                .bind(channel_id)
                .bind(feed_id)
                .execute(ex)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// A channel's subscriptions with their feeds.
    pub async fn channel_subscriptions(
        &self,
        channel_id: i64,
    ) -> Result<Vec<(SubscriptionRow, FeedRow)>, StoreError> {
        let statement =
            format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE channel_id = ? ORDER BY id");
        let subs: Vec<SubscriptionRow> = on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&statement)).bind(channel_id).fetch_all(ex).await?
        });
        let mut out = Vec::with_capacity(subs.len());
        for s in subs {
            if let Some(f) = self.feed_by_id(s.feed_id).await? {
                out.push((s, f));
            }
        }
        Ok(out)
    }

    /// Instant subscriptions that may receive a feed's new articles: the channel is not
    /// paused and the feed is not paused in the channel's community.
    pub async fn instant_subscriptions(
        &self,
        feed_id: i64,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(
                "SELECT s.id, s.channel_id, s.feed_id, s.mode, s.include_words, s.exclude_words,
                    s.created_by, s.created_at, s.template, s.style, s.mention, s.notify,
                    s.thread, s.webhook
                 FROM subscriptions s JOIN channels c ON c.id = s.channel_id
                 JOIN community_feeds cf
                   ON cf.feed_id = s.feed_id AND cf.community_id = c.community_id
                 WHERE s.feed_id = ? AND s.mode = 'instant' AND c.paused_reason IS NULL
                   AND cf.paused = FALSE",
            ))
            .bind(feed_id)
            .fetch_all(ex)
            .await?
        }))
    }

    pub async fn set_digest_schedule(
        &self,
        channel_id: i64,
        spec: Option<(&str, &str)>,
        last_end: Option<Timestamp>,
        next_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE channels SET digest_spec = ?, digest_tz = ?,
                     digest_last_end = coalesce(digest_last_end, ?), digest_next_at = ?
                 WHERE id = ?"))
            .bind(spec.map(|s| s.0))
            .bind(spec.map(|s| s.1))
            .bind(last_end)
            .bind(next_at)
            .bind(channel_id)
            .execute(ex)
            .await?;
        });
        Ok(())
    }

    /// Ids of the feeds a community follows (search and reading are scoped to them).
    pub async fn community_feed_ids(&self, community_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_scalar(sql("SELECT feed_id FROM community_feeds WHERE community_id = ?"))
                .bind(community_id)
                .fetch_all(ex)
                .await?
        }))
    }
}
