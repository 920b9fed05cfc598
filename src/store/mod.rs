//! Every SQL statement herald runs lives under this module, behind functions named for
//! what they do, so that another database can be added without touching callers.

mod articles;
mod communities;
mod deliveries;
mod feeds;
mod ops;
mod rank;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlitePool};

pub use articles::{
    ArticleRow, MAX_SEARCH_TERMS, NewArticle, SearchHit, SearchScope, search_term_count,
};
pub use communities::{ChannelRow, CommunityFeed, OptionsChange, SubscriptionRow};
pub use deliveries::{
    Attempt, ChannelJob, DeliveryJob, DigestJob, DigestSource, Enqueued, NoticeJob, NoticeSubject,
    OutboxRow, delivery_key, notice_key,
};
pub use feeds::{FeedRow, FeedStatus, PollRecord, PollSuccess, UnchangedPoll};
pub use ops::OpsSnapshot;

/// Handle to herald's database; cheap to clone.
///
/// SQLite allows one writer at a time. All writes go through `writer`, a pool of one
/// connection, so writers queue in the pool instead of racing for the file lock (in
/// WAL mode a connection that read before writing can get SQLITE_BUSY at once, with no
/// busy wait). Reads use `pool` and never block behind writes.
#[derive(Debug, Clone)]
pub struct Store {
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
    ])
}

/// The schema on PostgreSQL (`migrations/postgres/`): the same tables as SQLite's after
/// its migrations, with tsvector search. The PostgreSQL store (issue #17) is being built
/// on it; today the tests check it against SQLite's schema on a real cluster.
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

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
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
        Ok(Store { pool, writer })
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
        Ok(Store { writer: pool.clone(), pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

fn is_memory(path: &Path) -> bool {
    path.as_os_str() == ":memory:"
}
