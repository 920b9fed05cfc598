//! The outbox: deliveries (one post per channel and article), digests and notices.
//! A channel is served by one sender at a time (a lease on the channel, so a crash only
//! delays it), its posts in the articles' publication order; every row carries the
//! idempotency key that makes a resend after a crash or a timeout harmless.

use sqlx::FromRow;

use sqlx::AssertSqlSafe;

use super::{Db, NewArticle, Store, StoreError, dollars, on_db, qualified};
use crate::clock::Timestamp;

/// An outbox row: an article post or a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxRow {
    Delivery(i64),
    Digest(i64),
}

/// What inserting an article did.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued {
    pub article_id: i64,
    pub deliveries: usize,
}

/// A channel claimed for sending, with what is needed to reach it.
#[derive(Debug, Clone, FromRow)]
pub struct ChannelJob {
    pub id: i64,
    pub community_id: i64,
    pub platform: String,
    pub external_id: String,
    /// The claim's lease: renewing and releasing name it, so a sender whose lease ran
    /// out (and was taken by another) cannot touch the new holder's.
    pub lease_until: Timestamp,
}

/// A claimed delivery with everything needed to post it.
#[derive(Debug, Clone, FromRow)]
pub struct DeliveryJob {
    pub id: i64,
    pub idem_key: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
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
    pub author: Option<String>,
    pub feed_site_url: Option<String>,
    /// The subscription's options (the defaults when it was removed since).
    pub template: Option<String>,
    pub style: String,
    pub mention: Option<String>,
    pub notify: bool,
    pub thread: bool,
    pub webhook: bool,
    /// The steps of a multi-step post done so far (the platform's own record).
    pub progress: Option<String>,
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
    pub created_at: Timestamp,
    pub platform: String,
    pub external_id: String,
    pub digest_tz: Option<String>,
}

/// An article that may go into a channel's digest, with the subscription's filters.
#[derive(Debug, Clone, FromRow)]
pub struct DigestSource {
    pub article_id: i64,
    pub title: Option<String>,
    pub author: Option<String>,
    pub url: Option<String>,
    pub summary: String,
    pub text: String,
    pub published_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    pub feed_title: Option<String>,
    pub feed_url: String,
    pub include_words: String,
    pub exclude_words: String,
    /// The article's categories (a JSON list).
    pub categories: String,
}

/// Whether a retried send counts against the row: a failure does; waiting out a rate
/// limit, herald stopping, or a platform not connected does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Failed,
    Uncounted,
}

/// `n` in base 36: keys stay short enough for Discord's 25-character nonce.
pub fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    // Only ASCII digits and letters were pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// Idempotency keys: `h`, the installation id (8 hex digits), a kind letter, base-36 ids.
/// A delivery's is at most 1 + 8 + 1 + 7 + 1 + 7 = 25 characters for ids below 36⁷
/// (78 billion), a digest part's 1 + 8 + 1 + 7 + 4.
pub fn delivery_key(installation: &str, article: i64, channel: i64) -> String {
    format!("h{installation}d{}c{}", base36(article as u64), base36(channel as u64))
}

/// A digest's key (by its row id); each part appends `p{n}`.
pub fn digest_key(installation: &str, digest: i64) -> String {
    format!("h{installation}g{}", base36(digest as u64))
}

pub fn notice_key(installation: &str, notice: i64) -> String {
    format!("h{installation}n{}", base36(notice as u64))
}

const DELIVERY_JOB_COLUMNS: &str = "d.id, d.idem_key, d.attempts, d.next_attempt_at, \
     d.created_at, d.channel_id, c.platform, c.external_id, a.id AS article_id, a.title, a.url, \
     a.summary, a.image_url, a.published_at, a.fetched_at, f.title AS feed_title, \
     f.url AS feed_url, a.author, f.site_url AS feed_site_url, s.template, \
     coalesce(s.style, 'embed') AS style, s.mention, coalesce(s.notify, FALSE) AS notify, \
     coalesce(s.thread, FALSE) AS thread, coalesce(s.webhook, FALSE) AS webhook, d.progress";

/// The tables a [`DeliveryJob`] is read from: the subscription's options come with it.
const DELIVERY_JOB_FROM: &str = "deliveries d JOIN channels c ON c.id = d.channel_id \
     JOIN articles a ON a.id = d.article_id JOIN feeds f ON f.id = a.feed_id \
     LEFT JOIN subscriptions s ON s.channel_id = d.channel_id AND s.feed_id = a.feed_id";

/// A channel's pending posts in the order they go out: oldest article first; for the
/// same date, the order they were stored in, which the poller makes publication order
/// (oldest first; undated items in the feed's order reversed, since feeds list newest
/// first).
const CHANNEL_ORDER: &str = "d.sort_at, d.article_id";

impl Store {
    /// This database's installation id (8 hex digits, drawn once by a migration: 0006 on
    /// SQLite, 0001 on PostgreSQL).
    pub async fn installation_id(&self) -> Result<String, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_scalar(sql(INSTALLATION)).fetch_one(ex).await?
        }))
    }

    /// Stores an article and, in the same transaction, one delivery per channel in
    /// `channels`; a crash can never keep one without the other. `None` when the feed
    /// already had the item (also when another process stored it at the same moment:
    /// the article's unique key makes the second insert wait for the first and then
    /// find it, so its deliveries are written once).
    pub async fn insert_article_with_deliveries(
        &self,
        a: &NewArticle,
        channels: &[i64],
        now: Timestamp,
    ) -> Result<Option<Enqueued>, StoreError> {
        let mut installation = None;
        let enqueued = match &self.db {
            Db::Sqlite(lite) => {
                let mut tx = lite.writer.begin().await?;
                let e =
                    insert_with_deliveries(&mut tx, &mut installation, a, channels, now).await?;
                tx.commit().await?;
                e
            }
            Db::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                let e =
                    pg_insert_with_deliveries(&mut tx, &mut installation, a, channels, now).await?;
                tx.commit().await?;
                e
            }
        };
        Ok(enqueued)
    }

    /// What one poll of a feed stores, in one transaction: its new articles, each with
    /// its delivery rows (so an article and its deliveries still commit together), and
    /// then, when `success` is given, the feed's poll record. One commit per poll instead
    /// of one per article: each commit also flushes a full-text index segment.
    /// Returns, per article in order, what [`Store::insert_article_with_deliveries`] would.
    pub async fn store_poll_articles(
        &self,
        batch: &[(NewArticle, Vec<i64>)],
        now: Timestamp,
        success: Option<super::feeds::PollRecord<'_>>,
    ) -> Result<Vec<Option<Enqueued>>, StoreError> {
        let mut installation = None;
        let mut out = Vec::with_capacity(batch.len());
        match &self.db {
            Db::Sqlite(lite) => {
                let mut tx = lite.writer.begin().await?;
                for (a, channels) in batch {
                    out.push(
                        insert_with_deliveries(&mut tx, &mut installation, a, channels, now)
                            .await?,
                    );
                }
                if let Some(record) = success {
                    record.query().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Db::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                for (a, channels) in batch {
                    out.push(
                        pg_insert_with_deliveries(&mut tx, &mut installation, a, channels, now)
                            .await?,
                    );
                }
                if let Some(record) = success {
                    record.pg_query().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(out)
    }

    /// Claims up to `limit` channels with something due (the first post in their order,
    /// or a digest) that no sender holds: each is held until `now + lease_s` or
    /// [`release_channel`](Self::release_channel). Channels whose first post waits the
    /// longest come first.
    ///
    /// This lease is what gives a channel one sender. On SQLite the single writer makes
    /// the claim atomic. On PostgreSQL other processes claim at the same moment: the due
    /// channels are locked `FOR UPDATE SKIP LOCKED` and leased in the same statement, so
    /// a concurrent claimer passes over channels being claimed and then finds them held.
    /// Only channels of `platforms` are claimed: those this process posts to now.
    pub async fn claim_due_channels(
        &self,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
        platforms: &[&str],
    ) -> Result<Vec<ChannelJob>, StoreError> {
        // Platform names are herald's own words; anything else never matches.
        let names: Vec<String> = platforms
            .iter()
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            .map(|p| format!("'{p}'"))
            .collect();
        let names = if names.is_empty() { "NULL".to_string() } else { names.join(", ") };
        let due = format!(
            "SELECT c.id FROM channels c
             JOIN (SELECT channel_id, min(next_attempt_at) AS due FROM (
                     SELECT d.channel_id, d.next_attempt_at FROM deliveries d
                     WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                       AND d.id = (SELECT h.id FROM deliveries h
                                   WHERE h.channel_id = d.channel_id AND h.state = 'pending'
                                   ORDER BY {head_order} LIMIT 1)
                     UNION ALL
                     SELECT g.channel_id, g.next_attempt_at FROM digests g
                     WHERE g.state = 'pending' AND g.next_attempt_at <= ?1) heads
                   GROUP BY channel_id) w ON w.channel_id = c.id
             WHERE c.paused_reason IS NULL AND c.platform IN ({names})
               AND (c.send_lease_until IS NULL OR c.send_lease_until <= ?1)
             ORDER BY w.due, c.id LIMIT ?3",
            head_order = CHANNEL_ORDER.replace("d.", "h."),
        );
        let mut jobs: Vec<ChannelJob> = match &self.db {
            Db::Sqlite(lite) => {
                let sql = format!(
                    "UPDATE channels SET send_lease_until = ?1 + ?2 WHERE id IN ({due})
                     RETURNING id, community_id, platform, external_id,
                         send_lease_until AS lease_until"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(&lite.writer)
                    .await?
            }
            Db::Postgres(pg) => {
                // `OF c`: the aggregate beside it cannot be locked, and need not be.
                let sql = format!(
                    "WITH due AS ({due} FOR UPDATE OF c SKIP LOCKED)
                     UPDATE channels SET send_lease_until = ?1 + ?2 FROM due
                     WHERE channels.id = due.id
                     RETURNING channels.id, channels.community_id, channels.platform,
                         channels.external_id, channels.send_lease_until AS lease_until"
                );
                sqlx::query_as(AssertSqlSafe(dollars(&sql)))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(pg)
                    .await?
            }
        };
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Extends a held channel's lease from `held` to `until` (a long run of posts).
    /// False when the lease is no longer `held`: it ran out and another sender took the
    /// channel, which is then that sender's alone.
    pub async fn renew_channel(
        &self,
        channel_id: i64,
        held: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let renewed = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "UPDATE channels SET send_lease_until = ? WHERE id = ? AND send_lease_until = ?",
            ))
            .bind(until)
            .bind(channel_id)
            .bind(held)
            .execute(ex)
            .await?
            .rows_affected()
        });
        Ok(renewed == 1)
    }

    /// Lets another sender (or the next round) take the channel, if its lease is still
    /// the one `held`.
    pub async fn release_channel(
        &self,
        channel_id: i64,
        held: Timestamp,
    ) -> Result<(), StoreError> {
        self.release_channels(&[(channel_id, held)]).await
    }

    /// Releases several held channels at once (a dispatcher shutting down): each
    /// `(channel, lease)` whose lease is still that one.
    pub async fn release_channels(&self, held: &[(i64, Timestamp)]) -> Result<(), StoreError> {
        if held.is_empty() {
            return Ok(());
        }
        let (ids, leases): (Vec<i64>, Vec<Timestamp>) = held.iter().copied().unzip();
        match &self.db {
            Db::Sqlite(lite) => {
                sqlx::query(
                    "UPDATE channels SET send_lease_until = NULL
                     WHERE (id, send_lease_until) IN
                         (SELECT i.value, l.value FROM json_each(?1) i
                          JOIN json_each(?2) l ON l.key = i.key)",
                )
                .bind(json_ids(&ids)?)
                .bind(json_ids(&leases)?)
                .execute(&lite.writer)
                .await?;
            }
            Db::Postgres(pg) => {
                sqlx::query(
                    "UPDATE channels SET send_lease_until = NULL
                     FROM unnest($1::BIGINT[], $2::BIGINT[]) AS h(id, lease)
                     WHERE channels.id = h.id AND channels.send_lease_until = h.lease",
                )
                .bind(&ids)
                .bind(&leases)
                .execute(pg)
                .await?;
            }
        }
        Ok(())
    }

    /// The next `limit` pending posts of a channel, in the order they must go out
    /// (whether due or not: the first one that is not due stops the channel).
    pub async fn channel_deliveries(
        &self,
        channel_id: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        let text = format!(
            "SELECT {DELIVERY_JOB_COLUMNS} FROM {DELIVERY_JOB_FROM}
             WHERE d.channel_id = ? AND d.state = 'pending'
             ORDER BY {CHANNEL_ORDER} LIMIT ?"
        );
        // On SQLite the writer reads what the sender itself just wrote.
        Ok(on_db!(self, writer, |ex, sql| {
            sqlx::query_as(sql(&text)).bind(channel_id).bind(limit).fetch_all(ex).await?
        }))
    }

    /// Claims due deliveries of unpaused channels row by row, in channel order, pushing
    /// each a lease ahead. The dispatcher claims whole channels
    /// ([`claim_due_channels`](Self::claim_due_channels)); this is for tools and tests
    /// that act as a sender which dies after sending. On PostgreSQL the rows are locked
    /// `FOR UPDATE SKIP LOCKED` in the claim, so concurrent claimers never share one.
    pub async fn claim_due_deliveries(
        &self,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        let due = format!(
            "SELECT d.id FROM deliveries d JOIN channels c ON c.id = d.channel_id
             WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 AND c.paused_reason IS NULL
             ORDER BY d.channel_id, {CHANNEL_ORDER} LIMIT ?3"
        );
        let order = format!("ORDER BY d.channel_id, {CHANNEL_ORDER}");
        Ok(match &self.db {
            Db::Sqlite(lite) => {
                let sql = format!(
                    "UPDATE deliveries SET next_attempt_at = ?1 + ?2 WHERE id IN ({due})
                     RETURNING id"
                );
                let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(&lite.writer)
                    .await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {DELIVERY_JOB_COLUMNS} FROM {DELIVERY_JOB_FROM}
                     WHERE d.id IN (SELECT value FROM json_each(?)) {order}"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(json_ids(&ids)?)
                    .fetch_all(&lite.writer)
                    .await?
            }
            Db::Postgres(pg) => {
                let sql = format!(
                    "WITH due AS ({due} FOR UPDATE OF d SKIP LOCKED)
                     UPDATE deliveries SET next_attempt_at = ?1 + ?2 FROM due
                     WHERE deliveries.id = due.id RETURNING deliveries.id"
                );
                let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(dollars(&sql)))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(pg)
                    .await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {DELIVERY_JOB_COLUMNS} FROM {DELIVERY_JOB_FROM}
                     WHERE d.id = ANY($1) {order}"
                );
                sqlx::query_as(AssertSqlSafe(sql)).bind(ids).fetch_all(pg).await?
            }
        })
    }

    /// Records the steps of a multi-step post done so far, before the next one.
    pub async fn record_delivery_progress(
        &self,
        id: i64,
        progress: &str,
    ) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE deliveries SET progress = ? WHERE id = ?"))
                .bind(progress)
                .bind(id)
                .execute(ex)
                .await?;
        });
        Ok(())
    }

    pub async fn mark_delivery_sent(
        &self,
        id: i64,
        now: Timestamp,
        message_id: Option<&str>,
    ) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "UPDATE deliveries SET state = 'sent', sent_at = ?, platform_message_id = ?,
                     attempts = attempts + 1, last_error = NULL WHERE id = ?",
            ))
            .bind(now)
            .bind(message_id)
            .bind(id)
            .execute(ex)
            .await?;
        });
        Ok(())
    }

    /// Schedules another attempt of an outbox row (deliveries and digests share their
    /// retry columns).
    pub async fn retry_outbox(
        &self,
        row: OutboxRow,
        next_at: Timestamp,
        error: &str,
        attempt: Attempt,
    ) -> Result<(), StoreError> {
        let (table, id) = match row {
            OutboxRow::Delivery(id) => ("deliveries", id),
            OutboxRow::Digest(id) => ("digests", id),
        };
        let text = format!(
            "UPDATE {table} SET next_attempt_at = ?, last_error = ?, attempts = attempts + ?
             WHERE id = ?"
        );
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(&text))
                .bind(next_at)
                .bind(error)
                .bind(i64::from(attempt == Attempt::Failed))
                .bind(id)
                .execute(ex)
                .await?;
        });
        Ok(())
    }

    /// Counts deliveries by state, for status displays and tests.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(
                "SELECT state, count(*) FROM deliveries GROUP BY state ORDER BY state",
            ))
            .fetch_all(ex)
            .await?
        }))
    }

    /// Channels whose digest is due.
    pub async fn digest_due_channels(
        &self,
        now: Timestamp,
    ) -> Result<Vec<super::ChannelRow>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(
                "SELECT id, community_id, platform, external_id, name, digest_spec, digest_tz,
                        digest_last_end, digest_next_at, paused_reason, created_at
                 FROM channels WHERE digest_next_at IS NOT NULL AND digest_next_at <= ?",
            ))
            .bind(now)
            .fetch_all(ex)
            .await?
        }))
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
        let taken = on_db!(self, writer, |ex, sql| {
            let mut tx = ex.begin().await?;
            // The window's start is read by a write, so the row is locked until the
            // commit: another process opening the same channel's digest waits here and
            // then reads the end this one wrote (on SQLite the one writer already
            // serialises them). So a window is opened once, and windows never overlap.
            let start: Option<Timestamp> = sqlx::query_scalar(sql(
                "UPDATE channels SET digest_last_end = digest_last_end WHERE id = ?
                 RETURNING coalesce(digest_last_end, created_at)",
            ))
            .bind(channel_id)
            .fetch_optional(&mut *tx)
            .await?;
            let taken = match start.filter(|s| *s < window_end) {
                None => {
                    if let Some(next) = next_at {
                        sqlx::query(sql("UPDATE channels SET digest_next_at = ? WHERE id = ?"))
                            .bind(next)
                            .bind(channel_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None
                }
                Some(start) => {
                    let installation: String =
                        sqlx::query_scalar(sql(INSTALLATION)).fetch_one(&mut *tx).await?;
                    // A placeholder key, unique per window, until the row's id is known.
                    let id: Option<i64> = sqlx::query_scalar(sql(
                        "INSERT INTO digests (channel_id, window_start, window_end, idem_key,
                             next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                         ON CONFLICT DO NOTHING RETURNING id",
                    ))
                    .bind(channel_id)
                    .bind(start)
                    .bind(window_end)
                    .bind(format!("new:{channel_id}:{window_end}"))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    // The key names the row, which exists only now; still before any send.
                    if let Some(id) = id {
                        sqlx::query(sql("UPDATE digests SET idem_key = ? WHERE id = ?"))
                            .bind(digest_key(&installation, id))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query(sql("UPDATE channels SET digest_last_end = ?,
                             digest_next_at = coalesce(?, digest_next_at)
                         WHERE id = ?"))
                    .bind(window_end)
                    .bind(next_at)
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await?;
                    Some((start, window_end))
                }
            };
            tx.commit().await?;
            taken
        });
        Ok(taken)
    }

    /// Claims due digests of one channel (held by the caller), oldest window first; each
    /// is leased until `now + lease_s`. On PostgreSQL the rows are also locked `FOR
    /// UPDATE SKIP LOCKED` while they are claimed, so even two senders that both believe
    /// they hold the channel never take the same digest at once.
    pub async fn claim_channel_digests(
        &self,
        channel_id: i64,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
    ) -> Result<Vec<DigestJob>, StoreError> {
        let due = "SELECT g.id FROM digests g
                   WHERE g.channel_id = ?4 AND g.state = 'pending' AND g.next_attempt_at <= ?1
                   ORDER BY g.window_end, g.id LIMIT ?3";
        let mut jobs: Vec<DigestJob> = match &self.db {
            Db::Sqlite(lite) => {
                let sql = format!(
                    "UPDATE digests SET next_attempt_at = ?1 + ?2 WHERE id IN ({due})
                     RETURNING id, idem_key, attempts, parts_sent, window_start, window_end,
                         channel_id, created_at,
                         (SELECT platform FROM channels WHERE id = channel_id) AS platform,
                         (SELECT external_id FROM channels WHERE id = channel_id) AS external_id,
                         (SELECT digest_tz FROM channels WHERE id = channel_id) AS digest_tz"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .bind(channel_id)
                    .fetch_all(&lite.writer)
                    .await?
            }
            Db::Postgres(pg) => {
                let sql = format!(
                    "WITH due AS ({due} FOR UPDATE SKIP LOCKED)
                     UPDATE digests SET next_attempt_at = ?1 + ?2 FROM due, channels c
                     WHERE digests.id = due.id AND c.id = digests.channel_id
                     RETURNING digests.id, digests.idem_key, digests.attempts,
                         digests.parts_sent, digests.window_start, digests.window_end,
                         digests.channel_id, digests.created_at, c.platform, c.external_id,
                         c.digest_tz"
                );
                sqlx::query_as(AssertSqlSafe(dollars(&sql)))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .bind(channel_id)
                    .fetch_all(pg)
                    .await?
            }
        };
        // RETURNING promises no order; the windows go out oldest first.
        jobs.sort_by_key(|j| (j.window_end, j.id));
        Ok(jobs)
    }

    /// Digest-mode articles of a channel first seen in `[start, end)`, after the
    /// subscription was made, newest first.
    pub async fn digest_sources(
        &self,
        channel_id: i64,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<DigestSource>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(
                "SELECT a.id AS article_id, a.title, a.author, a.categories, a.url, a.summary,
                        a.text, a.published_at, a.fetched_at, f.title AS feed_title,
                        f.url AS feed_url, s.include_words, s.exclude_words
                 FROM subscriptions s JOIN channels c ON c.id = s.channel_id
                 JOIN community_feeds cf ON cf.feed_id = s.feed_id
                      AND cf.community_id = c.community_id
                 JOIN articles a ON a.feed_id = s.feed_id
                 JOIN feeds f ON f.id = a.feed_id
                 WHERE s.channel_id = ? AND s.mode = 'digest' AND cf.paused = FALSE
                   AND a.backfill = FALSE AND a.fetched_at >= ? AND a.fetched_at < ?
                   AND a.fetched_at >= s.created_at
                 ORDER BY a.fetched_at DESC, a.id DESC LIMIT 500",
            ))
            .bind(channel_id)
            .bind(start)
            .bind(end)
            .fetch_all(ex)
            .await?
        }))
    }

    pub async fn mark_digest_parts(&self, id: i64, parts_sent: i64) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE digests SET parts_sent = ? WHERE id = ?"))
                .bind(parts_sent)
                .bind(id)
                .execute(ex)
                .await?;
        });
        Ok(())
    }

    /// Closes a digest as `sent` or `empty` (nothing to say: nothing is posted).
    pub async fn finish_digest(
        &self,
        id: i64,
        state: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "UPDATE digests SET state = ?, sent_at = ?, last_error = NULL WHERE id = ?",
            ))
            .bind(state)
            .bind(now)
            .bind(id)
            .execute(ex)
            .await?;
        });
        Ok(())
    }
}

/// A notice to post: what it is about is read when it is sent (it may be obsolete).
#[derive(Debug, Clone, FromRow)]
pub struct NoticeJob {
    pub id: i64,
    pub community_id: i64,
    pub event: String,
    pub subject_id: i64,
    pub episode: i64,
    /// Where it was first tried (kept so a retry after an unknown outcome is deduped).
    pub channel_id: Option<i64>,
    /// Channels that refused it for good, JSON.
    pub refused_by: String,
    pub attempts: i64,
    pub created_at: Timestamp,
}

/// What a notice is about, as the store holds it now.
#[derive(Debug, Clone)]
pub enum NoticeSubject {
    /// The state it announced is over (the channel was resumed, the feed revived).
    Obsolete,
    ChannelPaused {
        channel: super::ChannelRow,
        reason: String,
    },
    FeedDisabled {
        feed_id: i64,
        name: String,
        reason: String,
    },
    PostsExpired {
        channel: super::ChannelRow,
        expired: i64,
        last_error: Option<String>,
    },
}

pub const NOTICE_CHANNEL_PAUSED: &str = "channel-paused";
pub const NOTICE_FEED_DISABLED: &str = "feed-disabled";
pub const NOTICE_POSTS_EXPIRED: &str = "posts-expired";

/// Recovery after outages, the maximum age, and notices.
impl Store {
    /// Makes every post of `platform` that is waiting out a failure's backoff due now:
    /// the platform answered again, so what it owes should flow at once.
    pub async fn release_backoff(&self, platform: &str, now: Timestamp) -> Result<u64, StoreError> {
        let n = on_db!(self, writer, |ex, sql| {
            let mut tx = ex.begin().await?;
            let mut n = 0;
            for table in ["deliveries", "digests"] {
                let text = format!(
                    "UPDATE {table} SET next_attempt_at = ?2
                     WHERE state = 'pending' AND next_attempt_at > ?2 AND attempts > 0
                       AND channel_id IN (SELECT id FROM channels
                                          WHERE platform = ?1 AND paused_reason IS NULL)"
                );
                n += sqlx::query(sql(&text))
                    .bind(platform)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            n
        });
        Ok(n)
    }

    /// Makes the backing-off post of `platform` that is due soonest due now, to learn
    /// whether the platform is back, unless it is due before `unless_due_by` anyway.
    /// False when none was made due.
    pub async fn probe_platform(
        &self,
        platform: &str,
        now: Timestamp,
        unless_due_by: Timestamp,
    ) -> Result<bool, StoreError> {
        let id: Option<i64> = on_db!(self, writer, |ex, sql| {
            sqlx::query_scalar(sql("UPDATE deliveries SET next_attempt_at = ?2
                 WHERE id = (SELECT d.id FROM deliveries d JOIN channels c ON c.id = d.channel_id
                             WHERE c.platform = ?1 AND c.paused_reason IS NULL
                               AND d.state = 'pending' AND d.next_attempt_at > ?2
                               AND d.attempts > 0
                             ORDER BY d.next_attempt_at LIMIT 1)
                   AND next_attempt_at > ?3
                 RETURNING id"))
            .bind(platform)
            .bind(now)
            .bind(unless_due_by)
            .fetch_optional(ex)
            .await?
        });
        Ok(id.is_some())
    }

    /// Gives up posts and digests enqueued at or before `cutoff` (the maximum age) and,
    /// for each channel that lost some, queues one notice per episode (since the
    /// channel's last successful post). Returns how many rows were given up.
    ///
    /// Processes expiring at the same moment cannot both give up a row: the second
    /// waits for the first's row locks and then finds the row no longer pending; the
    /// notice's unique episode makes it one notice either way.
    pub async fn expire_undelivered(
        &self,
        cutoff: Timestamp,
        age: &str,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let expire = |table: &str| {
            format!(
                "UPDATE {table} SET state = 'failed',
                     last_error = 'expired: not delivered within ' || ?2 || '; last error: '
                                  || coalesce(last_error, 'none')
                 WHERE state = 'pending' AND created_at <= ?1 RETURNING channel_id"
            )
        };
        // A paused channel's managers were told of the pause; nobody needs both.
        let notice = |channels: &str| {
            format!(
                "INSERT INTO notices (community_id, event, subject_id, episode, next_attempt_at,
                     created_at)
                 SELECT c.community_id, ?3, c.id,
                        coalesce((SELECT max(sent_at) FROM deliveries d
                                  WHERE d.channel_id = c.id AND d.state = 'sent'), 0), ?2, ?2
                 FROM channels c
                 WHERE c.id IN ({channels}) AND c.paused_reason IS NULL
                 ON CONFLICT DO NOTHING"
            )
        };
        let mut channels: Vec<i64> = Vec::new();
        let expired = match &self.db {
            Db::Sqlite(lite) => {
                let mut tx = lite.writer.begin().await?;
                for table in ["deliveries", "digests"] {
                    channels.extend(
                        sqlx::query_scalar::<_, i64>(AssertSqlSafe(expire(table)))
                            .bind(cutoff)
                            .bind(age)
                            .fetch_all(&mut *tx)
                            .await?,
                    );
                }
                let expired = channels.len();
                if expired > 0 {
                    channels.sort_unstable();
                    channels.dedup();
                    sqlx::query(AssertSqlSafe(notice("SELECT value FROM json_each(?1)")))
                        .bind(json_ids(&channels)?)
                        .bind(now)
                        .bind(NOTICE_POSTS_EXPIRED)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                expired
            }
            Db::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                for table in ["deliveries", "digests"] {
                    channels.extend(
                        sqlx::query_scalar::<_, i64>(AssertSqlSafe(dollars(&expire(table))))
                            .bind(cutoff)
                            .bind(age)
                            .fetch_all(&mut *tx)
                            .await?,
                    );
                }
                let expired = channels.len();
                if expired > 0 {
                    channels.sort_unstable();
                    channels.dedup();
                    sqlx::query(AssertSqlSafe(dollars(&notice("SELECT unnest(?1::bigint[])"))))
                        .bind(&channels)
                        .bind(now)
                        .bind(NOTICE_POSTS_EXPIRED)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                expired
            }
        };
        Ok(expired)
    }

    /// Queues a notice for every change of state not announced yet: channels that went
    /// from posting to paused (and had something to post), feeds disabled after failing
    /// (for each community that follows them). Returns how many were queued. A notice is
    /// unique per (community, event, subject, episode), so processes sweeping at the
    /// same moment queue it once.
    pub async fn queue_state_notices(&self, now: Timestamp) -> Result<u64, StoreError> {
        Ok(on_db!(self, writer, |ex, sql| {
            let mut tx = ex.begin().await?;
            let paused = sqlx::query(sql(
                "INSERT INTO notices (community_id, event, subject_id, episode, next_attempt_at,
                     created_at)
                 SELECT c.community_id, ?2, c.id, c.pause_count, ?1, ?1 FROM channels c
                 WHERE c.paused_reason IS NOT NULL AND c.pause_count > 0
                   AND (c.digest_spec IS NOT NULL
                        OR EXISTS (SELECT 1 FROM subscriptions s WHERE s.channel_id = c.id))
                 ON CONFLICT DO NOTHING",
            ))
            .bind(now)
            .bind(NOTICE_CHANNEL_PAUSED)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let disabled = sqlx::query(sql(FEED_DISABLED_NOTICES))
                .bind(now)
                .bind(NOTICE_FEED_DISABLED)
                .bind(super::feeds::PAUSED)
                .bind(None::<i64>)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            paused + disabled
        }))
    }

    /// Queues the "feed disabled" notice of one feed for every community following it
    /// (none if the feed is not disabled, or it was already queued for this episode).
    /// The dispatcher also finds disabled feeds on its own each round; the poller may
    /// call this right when it disables one so the notice does not wait for that.
    pub async fn notify_feed_disabled(
        &self,
        feed_id: i64,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(FEED_DISABLED_NOTICES))
                .bind(now)
                .bind(NOTICE_FEED_DISABLED)
                .bind(super::feeds::PAUSED)
                .bind(Some(feed_id))
                .execute(ex)
                .await?
                .rows_affected()
        }))
    }

    /// Claims due notices, each a lease ahead (on PostgreSQL locked `FOR UPDATE SKIP
    /// LOCKED` in the claim, so processes never take the same one).
    pub async fn claim_due_notices(
        &self,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
    ) -> Result<Vec<NoticeJob>, StoreError> {
        let due = "SELECT id FROM notices WHERE state = 'pending' AND next_attempt_at <= ?1
                   ORDER BY next_attempt_at, id LIMIT ?3";
        let columns = "id, community_id, event, subject_id, episode, channel_id, refused_by, \
                       attempts, created_at";
        let mut jobs: Vec<NoticeJob> = match &self.db {
            Db::Sqlite(lite) => {
                let sql = format!(
                    "UPDATE notices SET next_attempt_at = ?1 + ?2 WHERE id IN ({due})
                     RETURNING {columns}"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(&lite.writer)
                    .await?
            }
            Db::Postgres(pg) => {
                let sql = format!(
                    "WITH due AS ({due} FOR UPDATE SKIP LOCKED)
                     UPDATE notices SET next_attempt_at = ?1 + ?2 FROM due
                     WHERE notices.id = due.id RETURNING {}",
                    qualified("notices", columns)
                );
                sqlx::query_as(AssertSqlSafe(dollars(&sql)))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(pg)
                    .await?
            }
        };
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// What `job` is about, now.
    pub async fn notice_subject(&self, job: &NoticeJob) -> Result<NoticeSubject, StoreError> {
        match job.event.as_str() {
            NOTICE_CHANNEL_PAUSED => {
                let Some(channel) = self.channel(job.subject_id).await? else {
                    return Ok(NoticeSubject::Obsolete);
                };
                let count: Option<i64> = on_db!(self, pool, |ex, sql| {
                    sqlx::query_scalar(sql("SELECT pause_count FROM channels WHERE id = ?"))
                        .bind(job.subject_id)
                        .fetch_optional(ex)
                        .await?
                });
                match &channel.paused_reason {
                    Some(reason) if count == Some(job.episode) => {
                        let reason = reason.clone();
                        Ok(NoticeSubject::ChannelPaused { channel, reason })
                    }
                    _ => Ok(NoticeSubject::Obsolete),
                }
            }
            NOTICE_FEED_DISABLED => {
                type Row = (i64, Option<String>, String, Option<String>);
                let row: Option<Row> = on_db!(self, pool, |ex, sql| {
                    sqlx::query_as(sql(
                        "SELECT f.id, f.title, f.url, f.disabled_reason FROM feeds f
                         JOIN community_feeds cf ON cf.feed_id = f.id AND cf.community_id = ?
                         WHERE f.id = ? AND coalesce(f.last_polled_at, 0) = ?",
                    ))
                    .bind(job.community_id)
                    .bind(job.subject_id)
                    .bind(job.episode)
                    .fetch_optional(ex)
                    .await?
                });
                match row {
                    Some((feed_id, title, url, Some(reason))) if reason != super::feeds::PAUSED => {
                        let name = title.filter(|t| !t.trim().is_empty()).unwrap_or(url);
                        Ok(NoticeSubject::FeedDisabled { feed_id, name, reason })
                    }
                    _ => Ok(NoticeSubject::Obsolete),
                }
            }
            NOTICE_POSTS_EXPIRED => {
                let Some(channel) = self.channel(job.subject_id).await? else {
                    return Ok(NoticeSubject::Obsolete);
                };
                let (expired, last_error) = self.channel_expired(job.subject_id).await?;
                if expired == 0 {
                    return Ok(NoticeSubject::Obsolete);
                }
                Ok(NoticeSubject::PostsExpired { channel, expired, last_error })
            }
            _ => Ok(NoticeSubject::Obsolete),
        }
    }

    /// Posts given up in a channel, and the last one's error.
    pub async fn channel_expired(
        &self,
        channel_id: i64,
    ) -> Result<(i64, Option<String>), StoreError> {
        let (count, last): (i64, Option<String>) = on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(
                "SELECT (SELECT count(*) FROM deliveries WHERE channel_id = ?1 AND state = 'failed')
                      + (SELECT count(*) FROM digests WHERE channel_id = ?1 AND state = 'failed'),
                        (SELECT last_error FROM deliveries
                         WHERE channel_id = ?1 AND state = 'failed' ORDER BY id DESC LIMIT 1)",
            ))
            .bind(channel_id)
            .fetch_one(ex)
            .await?
        });
        Ok((count, last))
    }

    /// Where a community's notice can be posted: `preferred` if it still takes posts,
    /// else the unpaused channel that last received a post, never one in `refused`.
    pub async fn notice_target(
        &self,
        community_id: i64,
        preferred: Option<i64>,
        refused: &[i64],
    ) -> Result<Option<ChannelJob>, StoreError> {
        let target = |refused: &str| {
            format!(
                // Not a claim: no lease (a notice is claimed as a row of its own).
                "SELECT c.id, c.community_id, c.platform, c.external_id,
                     CAST(0 AS BIGINT) AS lease_until FROM channels c
                 WHERE c.community_id = ?1 AND c.paused_reason IS NULL
                   AND c.id NOT IN ({refused})
                 ORDER BY c.id = ?3 DESC,
                     (SELECT max(sent_at) FROM deliveries d
                      WHERE d.channel_id = c.id AND d.state = 'sent') DESC NULLS LAST,
                     c.id
                 LIMIT 1"
            )
        };
        let preferred = preferred.unwrap_or(-1);
        Ok(match &self.db {
            Db::Sqlite(lite) => {
                sqlx::query_as(AssertSqlSafe(target("SELECT value FROM json_each(?2)")))
                    .bind(community_id)
                    .bind(json_ids(refused)?)
                    .bind(preferred)
                    .fetch_optional(&lite.pool)
                    .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_as(AssertSqlSafe(dollars(&target("SELECT unnest(?2::bigint[])"))))
                    .bind(community_id)
                    .bind(refused)
                    .bind(preferred)
                    .fetch_optional(pg)
                    .await?
            }
        })
    }

    /// Closes a notice: `sent` (in `channel_id`), `obsolete` or `failed`.
    pub async fn finish_notice(
        &self,
        id: i64,
        state: &str,
        channel_id: Option<i64>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE notices SET state = ?, channel_id = coalesce(?, channel_id),
                     last_error = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?"))
            .bind(state)
            .bind(channel_id)
            .bind(error)
            .bind(now)
            .bind(id)
            .execute(ex)
            .await?;
        });
        Ok(())
    }

    /// Schedules a notice's next attempt, in `channel_id` (None: pick one then).
    pub async fn retry_notice(
        &self,
        id: i64,
        at: Timestamp,
        error: &str,
        channel_id: Option<i64>,
        refused: &[i64],
    ) -> Result<(), StoreError> {
        let refused = json_ids(refused)?;
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "UPDATE notices SET next_attempt_at = ?, last_error = ?, channel_id = ?,
                     refused_by = ?, attempts = attempts + 1 WHERE id = ?",
            ))
            .bind(at)
            .bind(error)
            .bind(channel_id)
            .bind(&refused)
            .bind(id)
            .execute(ex)
            .await?;
        });
        Ok(())
    }

    /// Every notice's (community, event, subject, state, channel), for tests and status.
    pub async fn notices(
        &self,
    ) -> Result<Vec<(i64, String, i64, String, Option<i64>)>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(
                "SELECT community_id, event, subject_id, state, channel_id FROM notices
                 ORDER BY id",
            ))
            .fetch_all(ex)
            .await?
        }))
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
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("INSERT INTO console_posts (idem_key, channel, body, posted_at)
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"))
            .bind(key)
            .bind(channel)
            .bind(body)
            .bind(now)
            .execute(ex)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Every console post, oldest first: (key, channel, body).
    pub async fn console_posts(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        // Posts of the same second in the order they were recorded: SQLite's rowid,
        // PostgreSQL's `seq` (migrations/postgres/0005).
        Ok(match &self.db {
            Db::Sqlite(lite) => {
                sqlx::query_as(
                    "SELECT idem_key, channel, body FROM console_posts ORDER BY posted_at, rowid",
                )
                .fetch_all(&lite.pool)
                .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_as(
                    "SELECT idem_key, channel, body FROM console_posts ORDER BY posted_at, seq",
                )
                .fetch_all(pg)
                .await?
            }
        })
    }
}

/// The statement that reads the installation id.
const INSTALLATION: &str = "SELECT id FROM installation WHERE only_row = 1";

/// Queues the "feed disabled" notices (?1 now, ?2 the event, ?3 the paused marker, ?4
/// one feed or NULL for all). A disabled feed is not polled again until revived, so its
/// last poll marks the episode: a revived feed that fails again is announced again.
const FEED_DISABLED_NOTICES: &str = "INSERT INTO notices (community_id, event, subject_id,
         episode, next_attempt_at, created_at)
     SELECT cf.community_id, ?2, f.id, coalesce(f.last_polled_at, 0), ?1, ?1
     FROM feeds f JOIN community_feeds cf ON cf.feed_id = f.id
     WHERE f.disabled_reason IS NOT NULL AND f.disabled_reason != ?3
       AND (?4 IS NULL OR f.id = ?4)
     ON CONFLICT DO NOTHING";

/// Ids as a JSON array, for SQLite's `json_each`.
fn json_ids(ids: &[i64]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
}

/// The keys of `channels`' deliveries of an article, and the article's place in their
/// order: a date in the future (a feed's clock, a typo) sorts as "just fetched".
fn delivery_rows(
    installation: &str,
    a: &NewArticle,
    article_id: i64,
    channels: &[i64],
) -> (Vec<String>, Timestamp) {
    let keys = channels.iter().map(|&c| delivery_key(installation, article_id, c)).collect();
    (keys, a.published_at.map_or(a.fetched_at, |p| p.min(a.fetched_at)))
}

/// Inserts one article and its delivery rows inside `tx`; `installation` caches the
/// installation id for the transaction's later articles.
async fn insert_with_deliveries(
    tx: &mut sqlx::SqliteConnection,
    installation: &mut Option<String>,
    a: &NewArticle,
    channels: &[i64],
    now: Timestamp,
) -> Result<Option<Enqueued>, StoreError> {
    let id: Option<i64> = super::articles::insert_article_query(a).fetch_optional(&mut *tx).await?;
    let Some(article_id) = id else {
        return Ok(None);
    };
    if channels.is_empty() {
        return Ok(Some(Enqueued { article_id, deliveries: 0 }));
    }
    let installation = match installation {
        Some(id) => id,
        None => installation.insert(sqlx::query_scalar(INSTALLATION).fetch_one(&mut *tx).await?),
    };
    let (keys, sort_at) = delivery_rows(installation, a, article_id, channels);
    // One statement for every channel: (channel, key) pairs travel as a JSON array.
    let rows: Vec<(i64, &String)> = channels.iter().copied().zip(&keys).collect();
    let json = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let deliveries = sqlx::query(
        "INSERT INTO deliveries (channel_id, article_id, idem_key, next_attempt_at, created_at,
             sort_at)
         SELECT value ->> 0, ?1, value ->> 1, ?2, ?2, ?4 FROM json_each(?3) WHERE true
         ON CONFLICT DO NOTHING",
    )
    .bind(article_id)
    .bind(now)
    .bind(json)
    .bind(sort_at)
    .execute(&mut *tx)
    .await?
    .rows_affected() as usize;
    Ok(Some(Enqueued { article_id, deliveries }))
}

/// [`insert_with_deliveries`] on PostgreSQL: (channel, key) pairs travel as two arrays.
async fn pg_insert_with_deliveries(
    tx: &mut sqlx::PgConnection,
    installation: &mut Option<String>,
    a: &NewArticle,
    channels: &[i64],
    now: Timestamp,
) -> Result<Option<Enqueued>, StoreError> {
    let id: Option<i64> =
        super::articles::pg_insert_article_query(a).fetch_optional(&mut *tx).await?;
    let Some(article_id) = id else {
        return Ok(None);
    };
    if channels.is_empty() {
        return Ok(Some(Enqueued { article_id, deliveries: 0 }));
    }
    let installation = match installation {
        Some(id) => id,
        None => installation.insert(sqlx::query_scalar(INSTALLATION).fetch_one(&mut *tx).await?),
    };
    let (keys, sort_at) = delivery_rows(installation, a, article_id, channels);
    let deliveries = sqlx::query(
        "INSERT INTO deliveries (channel_id, article_id, idem_key, next_attempt_at, created_at,
             sort_at)
         SELECT u.channel_id, $1, u.idem_key, $2, $2, $5
         FROM unnest($3::bigint[], $4::text[]) AS u(channel_id, idem_key)
         ON CONFLICT DO NOTHING",
    )
    .bind(article_id)
    .bind(now)
    .bind(channels)
    .bind(&keys)
    .bind(sort_at)
    .execute(&mut *tx)
    .await?
    .rows_affected() as usize;
    Ok(Some(Enqueued { article_id, deliveries }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fit_a_25_character_nonce_and_differ_per_installation() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        let big = 36i64.pow(7) - 1;
        let d = delivery_key("0123abcd", big, big);
        assert!(d.len() <= 25, "{d}");
        let g = format!("{}p999", digest_key("0123abcd", big));
        assert!(g.len() <= 25, "{g}");
        assert!(notice_key("0123abcd", big).len() <= 25);
        assert_ne!(delivery_key("0123abcd", 1, 2), delivery_key("0123abce", 1, 2));
        assert_ne!(delivery_key("0123abcd", 12, 3), delivery_key("0123abcd", 1, 23));
    }
}
