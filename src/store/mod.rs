//! Every SQL statement herald runs lives under this module, behind functions named for
//! what they do, so that another database can be added without touching callers.

mod articles;
mod communities;
mod copy;
mod copy_rows;
mod deliveries;
mod feeds;
mod leases;
mod ops;
mod rank;
mod search_pg;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, PgPool, SqlSafeStr, SqlitePool};

pub use articles::{
    ArticleRow, MAX_SEARCH_TERMS, NewArticle, SearchHit, SearchScope, search_term_count,
};
pub use communities::{ChannelRow, CommunityFeed, OptionsChange, SubscriptionRow};
pub use copy::{CopyReport, copy_installation};
pub use copy_rows::TableCopy;
pub use deliveries::{
    Attempt, ChannelJob, DeliveryJob, DigestJob, DigestSource, Enqueued, NoticeJob, NoticeSubject,
    OutboxRow, delivery_key, notice_key,
};
pub use feeds::{FeedRow, FeedStatus, PollRecord, PollSuccess, UnchangedPoll};
pub use leases::{LeaseHeld, LeaseRow};
pub use ops::OpsSnapshot;

/// Runs `$body` once per backend, with `$ex` bound to that backend's executor (on
/// SQLite the pool named by `$pool`: `pool` for reads, `writer` for writes) and `$sql`
/// to a function that turns SQL written with SQLite's placeholders (`?`, `?N`) into the
/// backend's dialect. The body is written once and compiled twice, so statements that
/// read the same in both dialects are not duplicated; where the dialects differ
/// (upserts, booleans in `RETURNING`, full-text search), write the two arms by hand.
///
/// ```ignore
/// let n = on_db!(self, writer, |ex, sql| {
///     // Each arm has its own result type: reduce it to a common one inside.
///     sqlx::query(sql("DELETE FROM feeds WHERE id = ?")).bind(id).execute(ex).await?.rows_affected()
/// });
/// ```
macro_rules! on_db {
    ($store:expr, $pool:ident, |$ex:ident, $sql:ident| $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite(lite) => {
                let $ex = &lite.$pool;
                #[allow(unused)]
                let $sql = |s: &str| ::sqlx::AssertSqlSafe(s.to_string());
                $body
            }
            $crate::store::Db::Postgres(pg) => {
                let $ex = pg;
                #[allow(unused)]
                let $sql = |s: &str| ::sqlx::AssertSqlSafe($crate::store::dollars(s));
                $body
            }
        }
    };
}
pub(crate) use on_db;

/// Handle to herald's database; cheap to clone. Callers never learn which database it
/// is: every method has one implementation per backend.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

/// The database behind a [`Store`]: SQLite (the default, one process) or PostgreSQL
/// (`DATABASE_URL=postgres://…`, several processes may share it).
#[derive(Debug, Clone)]
enum Db {
    Sqlite(Lite),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. All writes go through `writer`, a pool of one
/// connection, so writers queue in the pool instead of racing for the file lock (in
/// WAL mode a connection that read before writing can get SQLITE_BUSY at once, with no
/// busy wait). Reads use `pool` and never block behind writes.
#[derive(Debug, Clone)]
struct Lite {
    pool: SqlitePool,
    writer: SqlitePool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database directory {path}: {source}")]
    Dir { path: String, source: std::io::Error },
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("search index check: {0}")]
    SearchIndex(String),
}

/// Migrations are embedded in the binary so a copied `herald` needs no `migrations/` folder.
fn migrator() -> Migrator {
    // A slice, so each migration is one added line.
    embedded(&[
        (1, "feeds_articles", include_str!("../../migrations/0001_feeds_articles.sql")),
        (2, "communities_delivery", include_str!("../../migrations/0002_communities_delivery.sql")),
        (3, "search_by_feed", include_str!("../../migrations/0003_search_by_feed.sql")),
        (4, "search_by_community", include_str!("../../migrations/0004_search_by_community.sql")),
        (5, "community_intervals", include_str!("../../migrations/0005_community_intervals.sql")),
        (
            6,
            "delivery_order_notices",
            include_str!("../../migrations/0006_delivery_order_notices.sql"),
        ),
        (7, "subscription_options", include_str!("../../migrations/0007_subscription_options.sql")),
        (8, "article_categories", include_str!("../../migrations/0008_article_categories.sql")),
        (9, "leases", include_str!("../../migrations/0009_leases.sql")),
    ])
}

/// The schema on PostgreSQL (`migrations/postgres/`): the same tables as SQLite's after
/// its migrations, with tsvector search.
pub fn postgres_migrator() -> Migrator {
    embedded(&[
        (1, "schema", include_str!("../../migrations/postgres/0001_schema.sql")),
        (
            2,
            "subscription_options",
            include_str!("../../migrations/postgres/0002_subscription_options.sql"),
        ),
        (
            3,
            "article_categories",
            include_str!("../../migrations/postgres/0003_article_categories.sql"),
        ),
        (4, "leases", include_str!("../../migrations/postgres/0004_leases.sql")),
        (
            5,
            "console_post_order",
            include_str!("../../migrations/postgres/0005_console_post_order.sql"),
        ),
        (6, "search_keys", include_str!("../../migrations/postgres/0006_search_keys.sql")),
    ])
}

fn embedded(migrations: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(name),
                    MigrationType::Simple,
                    AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The writer connection's page cache (`cache_size`, negative: KiB).
const WRITER_CACHE: &str = "-4000";

/// Connections each process opens to PostgreSQL: the poller's page work, the
/// dispatcher and searches run side by side, and the server is shared by processes.
const PG_CONNECTIONS: u32 = 8;

/// Whether `url` names a PostgreSQL database (else it is SQLite's).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH`, created if needed, or
    /// `postgres://…`) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if is_postgres_url(url) {
            return Store::open_postgres(url).await;
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 16 MB of page cache per connection (the default is 2 MB): search over a
            // large archive touches many index pages.
            .pragma("cache_size", "-16000");
        let file = options.get_filename();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
            && !is_memory(file)
        {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Dir { path: dir.display().to_string(), source })?;
        }
        let writer = SqlitePoolOptions::new()
            .after_connect(|conn, _| Box::pin(rank::register(conn)))
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            // The writer appends (articles, index segments, merges): 4 MB of cache is
            // enough for that, and 16 MB was most of a poll's peak memory.
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE))
            .await?;
        migrator().run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .after_connect(|conn, _| Box::pin(rank::register(conn)))
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store { db: Db::Sqlite(Lite { pool, writer }) })
    }

    /// PostgreSQL has no single-writer rule: one pool serves reads and writes, and
    /// concurrent writers (other processes too) are kept apart by row locks. The
    /// migrator holds an advisory lock, so processes starting together migrate once.
    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(PG_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(60))
            .connect(url)
            .await?;
        postgres_migrator().run(&pool).await?;
        Ok(Store { db: Db::Postgres(pool) })
    }

    /// A private in-memory database, for tests and benchmarks.
    pub async fn open_in_memory() -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to :memory: would be its own empty database.
        let pool = SqlitePoolOptions::new()
            .after_connect(|conn, _| Box::pin(rank::register(conn)))
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        migrator().run(&pool).await?;
        Ok(Store { db: Db::Sqlite(Lite { writer: pool.clone(), pool }) })
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(lite) => {
                lite.pool.close().await;
                lite.writer.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }

    /// Which database this is, for operators' messages: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Runs a write whose parameters are all integers, written with SQLite's
    /// placeholders; returns the rows it changed.
    async fn write_ints(&self, sql: &str, args: &[i64]) -> Result<u64, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(db) => {
                let mut q = sqlx::query(AssertSqlSafe(sql.to_string()));
                for &a in args {
                    q = q.bind(a);
                }
                q.execute(&db.writer).await?.rows_affected()
            }
            Db::Postgres(pg) => {
                let mut q = sqlx::query(AssertSqlSafe(dollars(sql)));
                for &a in args {
                    q = q.bind(a);
                }
                q.execute(pg).await?.rows_affected()
            }
        })
    }

    /// Reads one integer column, as [`Store::write_ints`] writes.
    async fn read_ints(&self, sql: &str, args: &[i64]) -> Result<Vec<i64>, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(db) => {
                let mut q = sqlx::query_scalar(AssertSqlSafe(sql.to_string()));
                for &a in args {
                    q = q.bind(a);
                }
                q.fetch_all(&db.pool).await?
            }
            Db::Postgres(pg) => {
                let mut q = sqlx::query_scalar(AssertSqlSafe(dollars(sql)));
                for &a in args {
                    q = q.bind(a);
                }
                q.fetch_all(pg).await?
            }
        })
    }
}

/// SQLite's placeholders (`?` and `?N`) as PostgreSQL's (`$N`), for statements that are
/// otherwise the same in both dialects. herald's SQL has no `?` inside string literals.
fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.next_if(char::is_ascii_digit) {
            digits.push(d);
        }
        if digits.is_empty() {
            digits = next.to_string();
            next += 1;
        }
        out.push('$');
        out.push_str(&digits);
    }
    out
}

/// `"a, b"` as `"t.a, t.b"`: a column list where a join makes bare names ambiguous.
fn qualified(table: &str, columns: &str) -> String {
    columns.split(',').map(|c| format!("{table}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

fn is_memory(path: &Path) -> bool {
    path.as_os_str() == ":memory:"
}

#[cfg(test)]
mod tests {
    use super::{dollars, qualified};

    #[test]
    fn placeholders_become_postgres_ones() {
        assert_eq!(dollars("a = ?1 AND b = ?2 OR c = ?1"), "a = $1 AND b = $2 OR c = $1");
        assert_eq!(dollars("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
        assert_eq!(dollars("?12"), "$12");
        assert_eq!(qualified("f", "id, url"), "f.id, f.url");
    }
}
