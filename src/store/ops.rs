//! What an operator asks of the database: the facts behind `/metrics`, `/readyz` and
//! `herald status`, whether it can still be written, and a consistent copy of it.

use std::path::Path;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};

use super::{Db, Store, StoreError};
use crate::clock::Timestamp;

/// The store's side of herald's health, read in one go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsSnapshot {
    pub feeds_ok: i64,
    pub feeds_failing: i64,
    pub feeds_paused: i64,
    pub feeds_disabled: i64,
    pub articles: i64,
    pub archive_bytes: i64,
    pub owed_posts: i64,
    pub owed_digests: i64,
    pub owed_notices: i64,
    /// Age of the oldest pending post or digest; 0 when nothing is owed.
    pub oldest_owed_age_s: i64,
    pub last_poll_at: Option<Timestamp>,
    pub last_sent_at: Option<Timestamp>,
}

impl Store {
    /// Feeds by state, the archive, and what the outbox owes, as of `now`.
    pub async fn ops_snapshot(&self, now: Timestamp) -> Result<OpsSnapshot, StoreError> {
        // Counts by condition: SQLite sums booleans, PostgreSQL filters aggregates.
        let feeds = match &self.db {
            Db::Sqlite(_) => {
                "SELECT coalesce(sum(disabled_reason IS NULL AND failures = 0), 0),
                        coalesce(sum(disabled_reason IS NULL AND failures > 0), 0),
                        coalesce(sum(disabled_reason = 'paused'), 0),
                        coalesce(sum(disabled_reason IS NOT NULL AND disabled_reason <> 'paused'), 0),
                        max(last_polled_at)
                 FROM feeds"
            }
            Db::Postgres(_) => {
                "SELECT count(*) FILTER (WHERE disabled_reason IS NULL AND failures = 0),
                        count(*) FILTER (WHERE disabled_reason IS NULL AND failures > 0),
                        count(*) FILTER (WHERE disabled_reason = 'paused'),
                        count(*) FILTER (WHERE disabled_reason <> 'paused'),
                        max(last_polled_at)
                 FROM feeds"
            }
        };
        let outbox = "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'),
                             (SELECT min(created_at) FROM deliveries WHERE state = 'pending'),
                             (SELECT max(sent_at) FROM deliveries WHERE state = 'sent')";
        let digests = "SELECT (SELECT count(*) FROM digests WHERE state = 'pending'),
                              (SELECT min(created_at) FROM digests WHERE state = 'pending'),
                              (SELECT count(*) FROM notices WHERE state = 'pending')";
        type Feeds = (i64, i64, i64, i64, Option<i64>);
        type Outbox = (i64, Option<i64>, Option<i64>);
        type Digests = (i64, Option<i64>, i64);
        let (feeds, outbox, digests): (Feeds, Outbox, Digests) = match &self.db {
            Db::Sqlite(db) => (
                sqlx::query_as(feeds).fetch_one(&db.pool).await?,
                sqlx::query_as(outbox).fetch_one(&db.pool).await?,
                sqlx::query_as(digests).fetch_one(&db.pool).await?,
            ),
            Db::Postgres(pg) => (
                sqlx::query_as(feeds).fetch_one(pg).await?,
                sqlx::query_as(outbox).fetch_one(pg).await?,
                sqlx::query_as(digests).fetch_one(pg).await?,
            ),
        };
        let (feeds_ok, feeds_failing, feeds_paused, feeds_disabled, last_poll_at) = feeds;
        let (owed_posts, oldest_post, last_post) = outbox;
        let (owed_digests, oldest_digest, owed_notices) = digests;
        let (articles, archive_bytes) = self.archive_size().await?;
        let oldest = match (oldest_post, oldest_digest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(OpsSnapshot {
            feeds_ok,
            feeds_failing,
            feeds_paused,
            feeds_disabled,
            articles,
            archive_bytes,
            owed_posts,
            owed_digests,
            owed_notices,
            oldest_owed_age_s: oldest.map(|t| (now - t).max(0)).unwrap_or(0),
            last_poll_at,
            last_sent_at: last_post,
        })
    }

    /// Whether the database takes writes now: a connection of its own (so a probe
    /// never waits behind herald's writer, nor leaves it in a transaction) begins a
    /// write transaction, changes the schema and rolls it back, waiting at most `wait`
    /// for a lock.
    ///
    /// On PostgreSQL the probe is the same write, rolled back, on a pooled connection
    /// with `wait` as its lock and statement timeout: it fails on a read-only server
    /// (a standby, a full disk's `default_transaction_read_only`) or one that stalls.
    pub async fn probe_writable(&self, wait: Duration) -> Result<(), StoreError> {
        let db = match &self.db {
            Db::Sqlite(db) => db,
            Db::Postgres(pg) => {
                let mut tx = tokio::time::timeout(wait, pg.begin())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)??;
                let ms = wait.as_millis().max(1);
                let timeouts =
                    format!("SET LOCAL lock_timeout = {ms}; SET LOCAL statement_timeout = {ms}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(timeouts)).execute(&mut *tx).await?;
                sqlx::query("CREATE TABLE herald_write_probe(x int)").execute(&mut *tx).await?;
                tx.rollback().await?;
                return Ok(());
            }
        };
        let options = (*db.writer.connect_options()).clone().busy_timeout(wait);
        let mut conn = options.connect().await?;
        let result = async {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await?;
            let wrote = sqlx::query("CREATE TABLE herald_write_probe(x)").execute(&mut conn).await;
            sqlx::query("ROLLBACK").execute(&mut conn).await?;
            wrote.map(|_| ())
        }
        .await;
        let _ = conn.close().await;
        Ok(result?)
    }

    /// Writes a consistent copy of the whole database to `to` (which must not exist)
    /// while herald may be running: SQLite's `VACUUM INTO` reads one snapshot, so
    /// writes that land meanwhile are either all in the copy or not at all.
    ///
    /// PostgreSQL is backed up with its own tools (`pg_dump`), which herald does not
    /// replace.
    pub async fn backup_into(&self, to: &Path) -> Result<(), StoreError> {
        let Db::Sqlite(db) = &self.db else {
            return Err(StoreError::Unsupported(
                "herald backup copies SQLite databases; back up PostgreSQL with pg_dump",
            ));
        };
        let target = to.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO ?").bind(target).execute(&db.pool).await?;
        Ok(())
    }
}
