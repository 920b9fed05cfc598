//! Leases on work that one process at a time may do (`leases`), and the chat events
//! already answered (`answered_events`). On SQLite one process is the norm and these
//! cost a row each; on PostgreSQL they are how several processes agree.

use super::{Store, StoreError, on_db};
use crate::clock::Timestamp;

/// A lease this process holds after [`Store::take_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHeld {
    /// When this holder took it; the same across renewals.
    pub since: Timestamp,
    /// When the holder before this one last renewed it, if it was taken from another
    /// holder: what that holder may have done runs up to about then.
    pub previous_renewal: Option<Timestamp>,
}

/// A lease as `herald status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeaseRow {
    pub name: String,
    pub holder: String,
    pub since: Timestamp,
    pub renewed_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How long answered events are remembered: longer than any homeserver replays.
const ANSWERED_KEPT_S: i64 = 7 * 24 * 3600;

impl Store {
    /// Takes or renews the lease `name` for `holder` until `now + ttl_s`. `None` while
    /// another holder's lease runs. One statement decides, so two processes asking at
    /// once cannot both get it: the upsert's condition is checked on the locked row.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl_s: i64,
    ) -> Result<Option<LeaseHeld>, StoreError> {
        let (before, since) = on_db!(self, writer, |ex, sql| {
            // Read apart from the upsert (a transaction that reads, then writes, fails at
            // once on a busy SQLite file): it only tells the new holder about the last one.
            let before: Option<(String, Timestamp)> =
                sqlx::query_as(sql("SELECT holder, renewed_at FROM leases WHERE name = ?"))
                    .bind(name)
                    .fetch_optional(ex)
                    .await?;
            let since: Option<Timestamp> = sqlx::query_scalar(sql(
                "INSERT INTO leases (name, holder, expires_at, renewed_at, since)
                 VALUES (?1, ?2, ?3 + ?4, ?3, ?3)
                 ON CONFLICT (name) DO UPDATE SET
                     holder = excluded.holder,
                     expires_at = excluded.expires_at,
                     renewed_at = excluded.renewed_at,
                     since = CASE WHEN leases.holder = excluded.holder
                                  THEN leases.since ELSE excluded.since END
                 WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at
                 RETURNING since",
            ))
            .bind(name)
            .bind(holder)
            .bind(now)
            .bind(ttl_s)
            .fetch_optional(ex)
            .await?;
            (before, since)
        });
        Ok(since.map(|since| LeaseHeld {
            since,
            previous_renewal: before.filter(|(h, _)| h != holder).map(|(_, at)| at),
        }))
    }

    /// The leases held at `now` (not run out), by name.
    pub async fn leases_held(&self, now: Timestamp) -> Result<Vec<LeaseRow>, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_as(sql("SELECT name, holder, since, renewed_at, expires_at FROM leases
                 WHERE expires_at > ? ORDER BY name"))
            .bind(now)
            .fetch_all(ex)
            .await?
        }))
    }

    /// How many channels a sender holds at `now` (posting to them, in some process).
    pub async fn channels_being_sent(&self, now: Timestamp) -> Result<i64, StoreError> {
        Ok(on_db!(self, pool, |ex, sql| {
            sqlx::query_scalar(sql("SELECT count(*) FROM channels WHERE send_lease_until > ?"))
                .bind(now)
                .fetch_one(ex)
                .await?
        }))
    }

    /// Gives the lease up at once (a clean stop), if `holder` has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        on_db!(self, writer, |ex, sql| {
            sqlx::query(sql("DELETE FROM leases WHERE name = ? AND holder = ?"))
                .bind(name)
                .bind(holder)
                .execute(ex)
                .await?;
        });
        Ok(())
    }

    /// Records that chat event `event_id` is being answered; false if some process
    /// (this one or another) already took it. Also forgets week-old records now and then.
    pub async fn claim_event(
        &self,
        platform: &str,
        event_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let fresh = on_db!(self, writer, |ex, sql| {
            sqlx::query(sql(
                "INSERT INTO answered_events (platform, event_id, answered_at) VALUES (?, ?, ?)
                 ON CONFLICT DO NOTHING",
            ))
            .bind(platform)
            .bind(event_id)
            .bind(now)
            .execute(ex)
            .await?
            .rows_affected()
        }) == 1;
        // One claim in a few hundred sweeps the old ones: cheap, and bounded.
        if fresh
            && event_id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into())) % 256
                == 0
        {
            on_db!(self, writer, |ex, sql| {
                sqlx::query(sql("DELETE FROM answered_events WHERE answered_at < ?"))
                    .bind(now - ANSWERED_KEPT_S)
                    .execute(ex)
                    .await?;
            });
        }
        Ok(fresh)
    }
}
