//! What an operator asks of the database: the facts behind `/metrics`, `/readyz` and
//! `herald status`, whether it can still be written, and a consistent copy of it.

use std::path::Path;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};

use super::{Store, StoreError};
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
        let (feeds_ok, feeds_failing, feeds_paused, feeds_disabled, last_poll_at): (
            i64,
            i64,
            i64,
            i64,
            Option<i64>,
        ) = sqlx::query_as(
            "SELECT coalesce(sum(disabled_reason IS NULL AND failures = 0), 0),
                    coalesce(sum(disabled_reason IS NULL AND failures > 0), 0),
                    coalesce(sum(disabled_reason = 'paused'), 0),
                    coalesce(sum(disabled_reason IS NOT NULL AND disabled_reason <> 'paused'), 0),
                    max(last_polled_at)
             FROM feeds",
        )
        .fetch_one(&self.pool)
        .await?;
        let (articles, archive_bytes) = self.archive_size().await?;
        let (owed_posts, oldest_post, last_post): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'),
                        (SELECT min(created_at) FROM deliveries WHERE state = 'pending'),
                        (SELECT max(sent_at) FROM deliveries WHERE state = 'sent')",
        )
        .fetch_one(&self.pool)
        .await?;
        let (owed_digests, oldest_digest, owed_notices): (i64, Option<i64>, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM digests WHERE state = 'pending'),
                    (SELECT min(created_at) FROM digests WHERE state = 'pending'),
                    (SELECT count(*) FROM notices WHERE state = 'pending')",
        )
        .fetch_one(&self.pool)
        .await?;
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
    pub async fn probe_writable(&self, wait: Duration) -> Result<(), StoreError> {
        let options = (*self.writer.connect_options()).clone().busy_timeout(wait);
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
    pub async fn backup_into(&self, to: &Path) -> Result<(), StoreError> {
        let target = to.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO ?").bind(target).execute(&self.pool).await?;
        Ok(())
    }
}
