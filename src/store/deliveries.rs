//! The outbox: deliveries (one post per channel and article) and digests. Rows are
//! claimed with a lease, so a crash mid-send only delays them, and each carries the
//! idempotency key that makes a resend after a crash harmless.

use sqlx::FromRow;

use super::{NewArticle, Store, StoreError};
use crate::clock::Timestamp;

/// What inserting an article did.
/// An outbox row: an article post or a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxRow {
    Delivery(i64),
    Digest(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued {
    pub article_id: i64,
    pub deliveries: usize,
}

/// A claimed delivery with everything needed to post it.
#[derive(Debug, Clone, FromRow)]
pub struct DeliveryJob {
    pub id: i64,
    pub idem_key: String,
    pub attempts: i64,
    pub channel_id: i64,
    pub platform: String,
    pub external_id: String,
    pub article_id: i64,
    pub title: Option<String>,
    pub url: Option<String>,
    pub summary: String,
    pub image_url: Option<String>,
    pub published_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    pub feed_title: Option<String>,
    pub feed_url: String,
}

/// A claimed digest.
#[derive(Debug, Clone, FromRow)]
pub struct DigestJob {
    pub id: i64,
    pub idem_key: String,
    pub attempts: i64,
    pub parts_sent: i64,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub channel_id: i64,
    pub platform: String,
    pub external_id: String,
    pub digest_tz: Option<String>,
}

/// An article that may go into a channel's digest, with the subscription's filters.
#[derive(Debug, Clone, FromRow)]
pub struct DigestSource {
    pub article_id: i64,
    pub title: Option<String>,
    pub url: Option<String>,
    pub summary: String,
    pub text: String,
    pub published_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    pub feed_title: Option<String>,
    pub feed_url: String,
    pub include_words: String,
    pub exclude_words: String,
}

impl Store {
    /// Stores an article and, in the same transaction, one delivery per channel in
    /// `channels`; a crash can never keep one without the other. `None` when the feed
    /// already had the item.
    pub async fn insert_article_with_deliveries(
        &self,
        a: &NewArticle,
        channels: &[i64],
        now: Timestamp,
    ) -> Result<Option<Enqueued>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let id: Option<i64> =
            super::articles::insert_article_query(a).fetch_optional(&mut *tx).await?;
        let Some(article_id) = id else {
            return Ok(None);
        };
        // One statement for every channel: the ids travel as a JSON array. The key,
        // `hd{article}c{channel}`, is short enough for Discord's 25-character nonce.
        let json = serde_json::to_string(channels).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let deliveries = sqlx::query(
            "INSERT INTO deliveries (channel_id, article_id, idem_key, next_attempt_at, created_at)
             SELECT value, ?1, 'hd' || ?1 || 'c' || value, ?2, ?2 FROM json_each(?3) WHERE true
             ON CONFLICT DO NOTHING",
        )
        .bind(article_id)
        .bind(now)
        .bind(json)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
        tx.commit().await?;
        Ok(Some(Enqueued { article_id, deliveries }))
    }

    /// Claims due deliveries of unpaused channels, oldest first.
    pub async fn claim_due_deliveries(
        &self,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE deliveries SET next_attempt_at = ?1 + ?2
             WHERE id IN (SELECT d.id FROM deliveries d JOIN channels c ON c.id = d.channel_id
                          WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                            AND c.paused_reason IS NULL
                          ORDER BY d.next_attempt_at, d.id LIMIT ?3)
             RETURNING id",
        )
        .bind(now)
        .bind(lease_s)
        .bind(limit)
        .fetch_all(&self.writer)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let json = serde_json::to_string(&ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        Ok(sqlx::query_as(
            "SELECT d.id, d.idem_key, d.attempts, d.channel_id, c.platform, c.external_id,
                    a.id AS article_id, a.title, a.url, a.summary, a.image_url, a.published_at,
                    a.fetched_at, f.title AS feed_title, f.url AS feed_url
             FROM deliveries d JOIN channels c ON c.id = d.channel_id
             JOIN articles a ON a.id = d.article_id JOIN feeds f ON f.id = a.feed_id
             WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.id",
        )
        .bind(json)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mark_delivery_sent(
        &self,
        id: i64,
        now: Timestamp,
        message_id: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET state = 'sent', sent_at = ?, platform_message_id = ?,
                 attempts = attempts + 1, last_error = NULL WHERE id = ?",
        )
        .bind(now)
        .bind(message_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Schedules another attempt of an outbox row; with `failed` it is given up instead.
    /// Deliveries and digests share their retry columns.
    pub async fn retry_outbox(
        &self,
        row: OutboxRow,
        next_at: Timestamp,
        error: &str,
        count_attempt: bool,
        failed: bool,
    ) -> Result<(), StoreError> {
        let (table, id) = match row {
            OutboxRow::Delivery(id) => ("deliveries", id),
            OutboxRow::Digest(id) => ("digests", id),
        };
        let sql = format!(
            "UPDATE {table} SET next_attempt_at = ?, last_error = ?, attempts = attempts + ?,
                 state = CASE WHEN ? THEN 'failed' ELSE state END WHERE id = ?"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(next_at)
            .bind(error)
            .bind(i64::from(count_attempt))
            .bind(failed)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Counts deliveries by state, for status displays and tests.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT state, count(*) FROM deliveries GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Channels whose digest is due.
    pub async fn digest_due_channels(
        &self,
        now: Timestamp,
    ) -> Result<Vec<super::ChannelRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, community_id, platform, external_id, name, digest_spec, digest_tz,
                    digest_last_end, digest_next_at, paused_reason, created_at
             FROM channels WHERE digest_next_at IS NOT NULL AND digest_next_at <= ?",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes the channel's next digest window, `[last end, window_end)`, and moves its
    /// digest clock on, atomically: two callers can never take overlapping windows, so
    /// no article is in two digests. `next_at` None leaves the schedule's next time as
    /// it is. Returns the window taken, or None when there was nothing to take.
    pub async fn open_digest(
        &self,
        channel_id: i64,
        window_end: Timestamp,
        next_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<(Timestamp, Timestamp)>, StoreError> {
        // The writer pool has one connection, so this read-then-write is not raced.
        let mut tx = self.writer.begin().await?;
        let start: Option<Timestamp> = sqlx::query_scalar(
            "SELECT coalesce(digest_last_end, created_at) FROM channels WHERE id = ?",
        )
        .bind(channel_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(start) = start.filter(|s| *s < window_end) else {
            if let Some(next) = next_at {
                sqlx::query("UPDATE channels SET digest_next_at = ? WHERE id = ?")
                    .bind(next)
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO digests (channel_id, window_start, window_end, idem_key, next_attempt_at,
                 created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(channel_id)
        .bind(start)
        .bind(window_end)
        .bind(format!("hg{channel_id}w{window_end}"))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE channels SET digest_last_end = ?, digest_next_at = coalesce(?, digest_next_at)
             WHERE id = ?",
        )
        .bind(window_end)
        .bind(next_at)
        .bind(channel_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((start, window_end)))
    }

    pub async fn claim_due_digests(
        &self,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
    ) -> Result<Vec<DigestJob>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE digests SET next_attempt_at = ?1 + ?2
             WHERE id IN (SELECT g.id FROM digests g JOIN channels c ON c.id = g.channel_id
                          WHERE g.state = 'pending' AND g.next_attempt_at <= ?1
                            AND c.paused_reason IS NULL
                          ORDER BY g.next_attempt_at, g.id LIMIT ?3)
             RETURNING id, idem_key, attempts, parts_sent, window_start, window_end, channel_id,
                 (SELECT platform FROM channels WHERE id = channel_id) AS platform,
                 (SELECT external_id FROM channels WHERE id = channel_id) AS external_id,
                 (SELECT digest_tz FROM channels WHERE id = channel_id) AS digest_tz",
        )
        .bind(now)
        .bind(lease_s)
        .bind(limit)
        .fetch_all(&self.writer)
        .await?)
    }

    /// Digest-mode articles of a channel first seen in `[start, end)`, after the
    /// subscription was made, newest first.
    pub async fn digest_sources(
        &self,
        channel_id: i64,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<DigestSource>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT a.id AS article_id, a.title, a.url, a.summary, a.text, a.published_at,
                    a.fetched_at, f.title AS feed_title, f.url AS feed_url,
                    s.include_words, s.exclude_words
             FROM subscriptions s JOIN channels c ON c.id = s.channel_id
             JOIN community_feeds cf ON cf.feed_id = s.feed_id AND cf.community_id = c.community_id
             JOIN articles a ON a.feed_id = s.feed_id
             JOIN feeds f ON f.id = a.feed_id
             WHERE s.channel_id = ? AND s.mode = 'digest' AND cf.paused = 0 AND a.backfill = 0
               AND a.fetched_at >= ? AND a.fetched_at < ? AND a.fetched_at >= s.created_at
             ORDER BY a.fetched_at DESC, a.id DESC LIMIT 500",
        )
        .bind(channel_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mark_digest_parts(&self, id: i64, parts_sent: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE digests SET parts_sent = ? WHERE id = ?")
            .bind(parts_sent)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Closes a digest as `sent` or `empty` (nothing to say: nothing is posted).
    pub async fn finish_digest(
        &self,
        id: i64,
        state: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE digests SET state = ?, sent_at = ?, last_error = NULL WHERE id = ?")
            .bind(state)
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Records a console post; false when that key was already posted.
    pub async fn record_console_post(
        &self,
        key: &str,
        channel: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO console_posts (idem_key, channel, body, posted_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(channel)
        .bind(body)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every console post, oldest first: (key, channel, body).
    pub async fn console_posts(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT idem_key, channel, body FROM console_posts ORDER BY posted_at, rowid",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
