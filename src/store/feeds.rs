//! The `feeds` table: one row per URL, its polling state and health.

use sqlx::FromRow;

use sqlx::AssertSqlSafe;

use super::{Db, Store, StoreError, dollars, on_db, qualified};
use crate::clock::Timestamp;

/// A feed as stored.
#[derive(Debug, Clone, FromRow)]
pub struct FeedRow {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub poll_interval_s: i64,
    pub next_poll_at: Timestamp,
    pub last_polled_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub failures: i64,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    pub disabled_reason: Option<String>,
    pub primed: bool,
    pub created_at: Timestamp,
}

/// What an admin sees in `feeds list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStatus {
    Ok,
    Failing { failures: i64 },
    Paused,
    Disabled { reason: String },
}

/// The value of `disabled_reason` that means "paused by an admin".
pub(crate) const PAUSED: &str = "paused";

impl FeedRow {
    pub fn status(&self) -> FeedStatus {
        match self.disabled_reason.as_deref() {
            Some(PAUSED) => FeedStatus::Paused,
            Some(reason) => FeedStatus::Disabled { reason: reason.to_string() },
            None if self.failures > 0 => FeedStatus::Failing { failures: self.failures },
            None => FeedStatus::Ok,
        }
    }

    /// The feed's title, or its URL while it has none.
    pub fn name(&self) -> &str {
        self.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&self.url)
    }
}

/// What a successful poll learned about the feed.
#[derive(Debug, Clone, Default)]
pub struct PollSuccess {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

const FEED_COLUMNS: &str = "id, url, title, site_url, etag, last_modified, poll_interval_s, \
     next_poll_at, last_polled_at, last_success_at, failures, last_error, last_error_kind, \
     disabled_reason, primed, created_at";

impl Store {
    /// Adds a feed, or returns the existing one for that URL. The flag says whether it is new.
    pub async fn add_feed(
        &self,
        url: &str,
        interval_s: i64,
        now: Timestamp,
    ) -> Result<(FeedRow, bool), StoreError> {
        let inserted = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("INSERT INTO feeds (url, poll_interval_s, next_poll_at, created_at)
                 VALUES (?, ?, ?, ?) ON CONFLICT(url) DO NOTHING"))
            .bind(url)
            .bind(interval_s)
            .bind(now)
            .bind(now)
            .execute(ex)
            .await?
            .rows_affected()
        }) == 1;
        let row = self.feed_by_url(url).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok((row, inserted))
    }

    pub async fn feed_by_url(&self, url: &str) -> Result<Option<FeedRow>, StoreError> {
        let text = format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = ?");
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&text)).bind(url).fetch_optional(ex).await?
        }))
    }

    pub async fn feed_by_id(&self, id: i64) -> Result<Option<FeedRow>, StoreError> {
        let text = format!("SELECT {FEED_COLUMNS} FROM feeds WHERE id = ?");
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql(&text)).bind(id).fetch_optional(ex).await?
        }))
    }

    pub async fn list_feeds(&self) -> Result<Vec<FeedRow>, StoreError> {
        let text = format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY id");
        Ok(on_db!(self, pool, |ex, sql| sqlx::query_as(sql(&text)).fetch_all(ex).await?))
    }

    pub async fn count_feeds(&self) -> Result<i64, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_scalar(sql("SELECT count(*) FROM feeds")).fetch_one(ex).await?
        }))
    }

    /// Removes a feed and its articles. Returns whether it existed.
    pub async fn remove_feed(&self, id: i64) -> Result<bool, StoreError> {
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("DELETE FROM feeds WHERE id = ?"))
                .bind(id)
                .execute(ex)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Stops polling a feed until it is resumed.
    pub async fn pause_feed(&self, id: i64) -> Result<bool, StoreError> {
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE feeds SET disabled_reason = ? WHERE id = ?"))
                .bind(PAUSED)
                .bind(id)
                .execute(ex)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Resumes a paused or disabled feed: its failure count starts over and it is due now.
    pub async fn resume_feed(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let done = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "UPDATE feeds SET disabled_reason = NULL, failures = 0, next_poll_at = ?
                 WHERE id = ?",
            ))
            .bind(now)
            .bind(id)
            .execute(ex)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    pub async fn set_poll_interval(&self, id: i64, interval_s: i64) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("UPDATE feeds SET poll_interval_s = ? WHERE id = ?"))
                .bind(interval_s)
                .bind(id)
                .execute(ex)
                .await?;
        });
        Ok(())
    }

    /// Claims up to `limit` due feeds by pushing their next poll `lease_s` ahead, so a
    /// crash mid-poll only delays the feed and two pollers never take the same one.
    ///
    /// On SQLite the single writer makes the claim atomic. On PostgreSQL several
    /// processes claim at once: the due rows are locked `FOR UPDATE SKIP LOCKED`, so a
    /// concurrent claimer passes over rows being claimed instead of waiting for them and
    /// then finds them leased.
    pub async fn claim_due_feeds(
        &self,
        now: Timestamp,
        lease_s: i64,
        limit: i64,
    ) -> Result<Vec<FeedRow>, StoreError> {
        let mut rows: Vec<FeedRow> = match &self.db {
            Db::Sqlite(db) => {
                let sql = format!(
                    "UPDATE feeds SET next_poll_at = ?1 + ?2
                     WHERE id IN (SELECT id FROM feeds
                                  WHERE disabled_reason IS NULL AND next_poll_at <= ?1
                                    AND EXISTS (SELECT 1 FROM community_feeds cf
                                                WHERE cf.feed_id = feeds.id AND cf.paused = 0)
                                  ORDER BY next_poll_at LIMIT ?3)
                     RETURNING {FEED_COLUMNS}"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(&db.writer)
                    .await?
            }
            Db::Postgres(pg) => {
                let sql = format!(
                    "WITH due AS (
                         SELECT id FROM feeds
                         WHERE disabled_reason IS NULL AND next_poll_at <= $1
                           AND EXISTS (SELECT 1 FROM community_feeds cf
                                       WHERE cf.feed_id = feeds.id AND NOT cf.paused)
                         ORDER BY next_poll_at LIMIT $3
                         FOR UPDATE SKIP LOCKED)
                     UPDATE feeds SET next_poll_at = $1 + $2 FROM due WHERE feeds.id = due.id
                     RETURNING {}",
                    qualified("feeds", FEED_COLUMNS)
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_s)
                    .bind(limit)
                    .fetch_all(pg)
                    .await?
            }
        };
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// When the next feed is due, if any feed is active.
    pub async fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_scalar(sql(
                "SELECT min(next_poll_at) FROM feeds WHERE disabled_reason IS NULL",
            ))
            .fetch_one(ex)
            .await?
        }))
    }

    /// Records a poll that reached the feed (new content or 304).
    pub async fn record_poll_success(
        &self,
        id: i64,
        now: Timestamp,
        next_poll_at: Timestamp,
        learned: Option<&PollSuccess>,
    ) -> Result<(), StoreError> {
        let record = PollRecord { feed_id: id, now, next_poll_at, learned };
        match &self.db {
            Db::Sqlite(db) => {
                record.query().execute(&db.writer).await?;
            }
            Db::Postgres(pg) => {
                record.pg_query().execute(pg).await?;
            }
        }
        Ok(())
    }

    /// Records many polls that found their feeds unchanged (304), in one statement and
    /// one transaction: the poller groups them ([`crate::ingest::unchanged`]) so an idle
    /// round costs one commit per batch, not one per feed. Same effect per row as
    /// a poll record ([`PollRecord`]) without anything learned.
    pub async fn record_unchanged_polls(&self, polls: &[UnchangedPoll]) -> Result<(), StoreError> {
        if polls.is_empty() {
            return Ok(());
        }
        let db = match &self.db {
            Db::Sqlite(db) => db,
            Db::Postgres(pg) => {
                let column = |f: fn(&UnchangedPoll) -> i64| polls.iter().map(f).collect::<Vec<_>>();
                sqlx::query(
                    "UPDATE feeds SET last_polled_at = u.now, last_success_at = u.now,
                         next_poll_at = u.next, failures = 0, last_error = NULL,
                         last_error_kind = NULL
                     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, now, next)
                     WHERE feeds.id = u.id",
                )
                .bind(column(|p| p.feed_id))
                .bind(column(|p| p.now))
                .bind(column(|p| p.next_poll_at))
                .execute(pg)
                .await?;
                return Ok(());
            }
        };
        // Integers only, so the JSON is built by hand: [[id, now, next], ...].
        let mut rows = String::with_capacity(polls.len() * 32 + 2);
        rows.push('[');
        for (i, p) in polls.iter().enumerate() {
            if i > 0 {
                rows.push(',');
            }
            rows.push_str(&format!("[{},{},{}]", p.feed_id, p.now, p.next_poll_at));
        }
        rows.push(']');
        sqlx::query(
            "UPDATE feeds SET last_polled_at = json_extract(j.value, '$[1]'),
                 last_success_at = json_extract(j.value, '$[1]'),
                 next_poll_at = json_extract(j.value, '$[2]'),
                 failures = 0, last_error = NULL, last_error_kind = NULL
             FROM json_each(?) AS j WHERE feeds.id = json_extract(j.value, '$[0]')",
        )
        .bind(rows)
        .execute(&db.writer)
        .await?;
        Ok(())
    }

    /// Records a failed poll. Returns the new count of consecutive failures; at
    /// `disable_after` the feed is disabled with the error as its reason.
    pub async fn record_poll_failure(
        &self,
        id: i64,
        now: Timestamp,
        next_poll_at: Timestamp,
        error: &str,
        kind: &str,
        disable_after: i64,
    ) -> Result<i64, StoreError> {
        // The same statement in both dialects but for the placeholders; `failures` on the
        // right-hand side is the count before this failure in both.
        let sql = "UPDATE feeds SET last_polled_at = ?1, next_poll_at = ?2,
             failures = failures + 1, last_error = ?3, last_error_kind = ?4,
             disabled_reason = CASE WHEN failures + 1 >= ?5 AND disabled_reason IS NULL
                 THEN 'disabled after ' || (failures + 1) || ' consecutive failures: ' || ?3
                 ELSE disabled_reason END
             WHERE id = ?6 RETURNING failures";
        let failures: i64 = match &self.db {
            Db::Sqlite(db) => {
                sqlx::query_scalar(sql)
                    .bind(now)
                    .bind(next_poll_at)
                    .bind(error)
                    .bind(kind)
                    .bind(disable_after)
                    .bind(id)
                    .fetch_one(&db.writer)
                    .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_scalar(AssertSqlSafe(dollars(sql)))
                    .bind(now)
                    .bind(next_poll_at)
                    .bind(error)
                    .bind(kind)
                    .bind(disable_after)
                    .bind(id)
                    .fetch_one(pg)
                    .await?
            }
        };
        Ok(failures)
    }
}

impl Store {
    /// Makes every active feed due at `at` (an operator's "poll everything now").
    pub async fn reschedule_all(&self, at: Timestamp) -> Result<u64, StoreError> {
        let done: u64 = match &self.db {
            Db::Sqlite(db) => {
                sqlx::query("UPDATE feeds SET next_poll_at = ? WHERE disabled_reason IS NULL")
                    .bind(at)
                    .execute(&db.writer)
                    .await?
                    .rows_affected()
            }
            Db::Postgres(pg) => {
                sqlx::query("UPDATE feeds SET next_poll_at = $1 WHERE disabled_reason IS NULL")
                    .bind(at)
                    .execute(pg)
                    .await?
                    .rows_affected()
            }
        };
        Ok(done)
    }
}

/// A poll that found its feed unchanged: when, and when it is due again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnchangedPoll {
    pub feed_id: i64,
    pub now: Timestamp,
    pub next_poll_at: Timestamp,
}

/// A successful poll's record on its feed row, written by [`Store::store_poll_articles`]
/// in the poll's one transaction.
#[derive(Debug, Clone, Copy)]
pub struct PollRecord<'a> {
    pub feed_id: i64,
    pub now: Timestamp,
    pub next_poll_at: Timestamp,
    /// What a 200 taught (a 304 teaches nothing and leaves `primed` alone).
    pub learned: Option<&'a PollSuccess>,
}

impl<'a> PollRecord<'a> {
    pub(super) fn query(
        self,
    ) -> sqlx::query::Query<'a, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        match self.learned {
            None => sqlx::query(
                "UPDATE feeds SET last_polled_at = ?, last_success_at = ?, next_poll_at = ?,
                 failures = 0, last_error = NULL, last_error_kind = NULL WHERE id = ?",
            )
            .bind(self.now)
            .bind(self.now)
            .bind(self.next_poll_at)
            .bind(self.feed_id),
            Some(s) => sqlx::query(
                "UPDATE feeds SET last_polled_at = ?, last_success_at = ?, next_poll_at = ?,
                 failures = 0, last_error = NULL, last_error_kind = NULL, primed = 1,
                 title = coalesce(?, title), site_url = coalesce(?, site_url),
                 etag = ?, last_modified = ? WHERE id = ?",
            )
            .bind(self.now)
            .bind(self.now)
            .bind(self.next_poll_at)
            .bind(&s.title)
            .bind(&s.site_url)
            .bind(&s.etag)
            .bind(&s.last_modified)
            .bind(self.feed_id),
        }
    }

    /// [`PollRecord::query`] in PostgreSQL's dialect.
    pub(super) fn pg_query(
        self,
    ) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
        match self.learned {
            None => sqlx::query(
                "UPDATE feeds SET last_polled_at = $1, last_success_at = $1, next_poll_at = $2,
                 failures = 0, last_error = NULL, last_error_kind = NULL WHERE id = $3",
            )
            .bind(self.now)
            .bind(self.next_poll_at)
            .bind(self.feed_id),
            Some(s) => sqlx::query(
                "UPDATE feeds SET last_polled_at = $1, last_success_at = $1, next_poll_at = $2,
                 failures = 0, last_error = NULL, last_error_kind = NULL, primed = true,
                 title = coalesce($3, title), site_url = coalesce($4, site_url),
                 etag = $5, last_modified = $6 WHERE id = $7",
            )
            .bind(self.now)
            .bind(self.next_poll_at)
            .bind(&s.title)
            .bind(&s.site_url)
            .bind(&s.etag)
            .bind(&s.last_modified)
            .bind(self.feed_id),
        }
    }
}
