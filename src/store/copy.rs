//! `herald db copy`: an installation's feeds, the communities following them and the
//! articles, from one store into another (SQLite into PostgreSQL, or back), ids kept, so
//! a re-run adds only what is missing. Channels, subscriptions and the outbox follow
//! (`copy_rows.rs`), so the whole installation moves.

use sqlx::AssertSqlSafe;

use super::articles::{ARTICLE_COLUMNS, ArticleRow};
use super::feeds::FeedRow;
use super::{Db, Store, StoreError, dollars};

/// Articles read and written per transaction.
const BATCH: i64 = 1000;

/// What a copy did, and what each side holds after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub feeds_copied: u64,
    /// Communities, and links of a community to a feed.
    pub communities_copied: u64,
    pub links_copied: u64,
    pub articles_copied: u64,
    /// (source, target) row counts after the copy.
    pub feeds: (i64, i64),
    pub communities: (i64, i64),
    pub links: (i64, i64),
    pub articles: (i64, i64),
    /// Channels, subscriptions, the outbox and the console's posts, table by table.
    pub tables: Vec<super::copy_rows::TableCopy>,
}

impl CopyReport {
    /// Both sides hold the same number of feeds and of articles.
    pub fn verified(&self) -> bool {
        [self.feeds, self.communities, self.links, self.articles].iter().all(|(a, b)| a == b)
            && self.tables.iter().all(|t| t.source == t.target)
    }
}

/// Copies every feed, the communities and their links to feeds, every article in
/// id order, then channels, subscriptions and the outbox, from `from` into `to`. Rows
/// the target already has (same id, or the same URL / feed item / platform id) are left
/// as they are. Links go before articles, so each article is scoped to its communities
/// as it is written.
pub async fn copy_installation(from: &Store, to: &Store) -> Result<CopyReport, StoreError> {
    let feeds_copied = to.import_feeds(&from.list_feeds().await?).await?;
    let (communities, links) = from.community_links().await?;
    let (communities_copied, links_copied) =
        to.import_community_links(&communities, &links).await?;
    let mut articles_copied = 0;
    let mut after = 0;
    loop {
        let batch = from.articles_after(after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        articles_copied += to.import_articles(&batch).await?;
    }
    let tables = super::copy_rows::copy_tables(from, to).await?;
    to.after_import().await?;
    let source_links = from.count_community_links().await?;
    let target_links = to.count_community_links().await?;
    Ok(CopyReport {
        feeds_copied,
        communities_copied,
        links_copied,
        articles_copied,
        feeds: (from.count_feeds().await?, to.count_feeds().await?),
        communities: (source_links.0, target_links.0),
        links: (source_links.1, target_links.1),
        articles: (from.count_articles().await?, to.count_articles().await?),
        tables,
    })
}

const INSERT_FEED: &str = "INSERT INTO feeds (id, url, title, site_url, etag, last_modified,
         poll_interval_s, next_poll_at, last_polled_at, last_success_at, failures, last_error,
         last_error_kind, disabled_reason, primed, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

// On SQLite the community tags are the target's own (its feeds' followers), as the
// ordinary insert sets them; on PostgreSQL a trigger fills `community_ids`.
const INSERT_ARTICLE_SQLITE: &str = "INSERT INTO articles (id, feed_id, item_key, url, title,
         author, published_at, fetched_at, text, summary, lang, image_url, text_source, backfill,
         categories, community_tags)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
         coalesce((SELECT group_concat('c' || community_id, ' ') FROM community_feeds
                   WHERE feed_id = ?2), ''))
     ON CONFLICT DO NOTHING";

const INSERT_ARTICLE_PG: &str = "INSERT INTO articles (id, feed_id, item_key, url, title,
         author, published_at, fetched_at, text, summary, lang, image_url, text_source, backfill,
         categories)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT DO NOTHING";

macro_rules! bind_feed {
    ($q:expr, $f:expr) => {
        $q.bind($f.id)
            .bind(&$f.url)
            .bind(&$f.title)
            .bind(&$f.site_url)
            .bind(&$f.etag)
            .bind(&$f.last_modified)
            .bind($f.poll_interval_s)
            .bind($f.next_poll_at)
            .bind($f.last_polled_at)
            .bind($f.last_success_at)
            .bind($f.failures)
            .bind(&$f.last_error)
            .bind(&$f.last_error_kind)
            .bind(&$f.disabled_reason)
            .bind($f.primed)
            .bind($f.created_at)
    };
}

macro_rules! bind_article {
    ($q:expr, $a:expr) => {
        $q.bind($a.id)
            .bind($a.feed_id)
            .bind(&$a.item_key)
            .bind(&$a.url)
            .bind(&$a.title)
            .bind(&$a.author)
            .bind($a.published_at)
            .bind($a.fetched_at)
            .bind(&$a.text)
            .bind(&$a.summary)
            .bind(&$a.lang)
            .bind(&$a.image_url)
            .bind(&$a.text_source)
            .bind($a.backfill)
            .bind(&$a.categories)
    };
}

/// A community as stored: id, platform, external id, name, max feeds, created at.
type CommunityRow = (i64, String, String, Option<String>, Option<i64>, i64);
/// A community's link to a feed: community, feed, paused, added by, added at, interval.
type LinkRow = (i64, i64, bool, Option<String>, i64, Option<i64>);

const COMMUNITIES: &str =
    "SELECT id, platform, external_id, name, max_feeds, created_at FROM communities ORDER BY id";
const LINKS: &str = "SELECT community_id, feed_id, paused, added_by, added_at, poll_interval_s
     FROM community_feeds ORDER BY community_id, feed_id";
const INSERT_COMMUNITY: &str = "INSERT INTO communities
         (id, platform, external_id, name, max_feeds, created_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
const INSERT_LINK: &str = "INSERT INTO community_feeds
         (community_id, feed_id, paused, added_by, added_at, poll_interval_s)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

impl Store {
    /// Every community and every link of a community to a feed.
    async fn community_links(&self) -> Result<(Vec<CommunityRow>, Vec<LinkRow>), StoreError> {
        Ok(match &self.db {
            Db::Sqlite(db) => (
                sqlx::query_as(COMMUNITIES).fetch_all(&db.pool).await?,
                sqlx::query_as(LINKS).fetch_all(&db.pool).await?,
            ),
            Db::Postgres(pg) => (
                sqlx::query_as(COMMUNITIES).fetch_all(pg).await?,
                sqlx::query_as(LINKS).fetch_all(pg).await?,
            ),
        })
    }

    /// Writes communities and links with their ids, in one transaction. A community
    /// whose id or platform id is already there is skipped, and so are its links when the
    /// target's row with that id is another community's (the copy then does not verify).
    async fn import_community_links(
        &self,
        communities: &[CommunityRow],
        links: &[LinkRow],
    ) -> Result<(u64, u64), StoreError> {
        let (mut c, mut l) = (0, 0);
        macro_rules! import {
            ($tx:expr, $community:expr, $link:expr) => {
                for (id, platform, external, name, max_feeds, at) in communities {
                    c += sqlx::query(AssertSqlSafe($community.clone()))
                        .bind(id)
                        .bind(platform)
                        .bind(external)
                        .bind(name)
                        .bind(max_feeds)
                        .bind(at)
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected();
                }
                for (community, feed, paused, by, at, interval) in links {
                    l += sqlx::query(AssertSqlSafe($link.clone()))
                        .bind(community)
                        .bind(feed)
                        .bind(paused)
                        .bind(by)
                        .bind(at)
                        .bind(interval)
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected();
                }
            };
        }
        match &self.db {
            Db::Sqlite(db) => {
                let mut tx = db.writer.begin().await?;
                import!(tx, INSERT_COMMUNITY.to_string(), INSERT_LINK.to_string());
                tx.commit().await?;
            }
            Db::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                import!(tx, dollars(INSERT_COMMUNITY), dollars(INSERT_LINK));
                tx.commit().await?;
            }
        }
        Ok((c, l))
    }

    /// The number of communities and of links, for verifying a copy.
    async fn count_community_links(&self) -> Result<(i64, i64), StoreError> {
        let sql =
            "SELECT (SELECT count(*) FROM communities), (SELECT count(*) FROM community_feeds)";
        Ok(match &self.db {
            Db::Sqlite(db) => sqlx::query_as(sql).fetch_one(&db.pool).await?,
            Db::Postgres(pg) => sqlx::query_as(sql).fetch_one(pg).await?,
        })
    }

    /// Up to `limit` articles with ids above `after`, in id order, as stored (a history
    /// item keeps its empty summary).
    pub async fn articles_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ArticleRow>, StoreError> {
        let sql =
            format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id > ? ORDER BY id LIMIT ?");
        Ok(match &self.db {
            Db::Sqlite(db) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&db.pool)
                    .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_as(AssertSqlSafe(dollars(&sql)))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(pg)
                    .await?
            }
        })
    }

    /// Writes feed rows with their ids, in one transaction; a row whose id or URL is
    /// already stored is skipped. Returns how many were written.
    pub async fn import_feeds(&self, feeds: &[FeedRow]) -> Result<u64, StoreError> {
        let mut written = 0;
        match &self.db {
            Db::Sqlite(db) => {
                let mut tx = db.writer.begin().await?;
                for f in feeds {
                    let q = bind_feed!(sqlx::query(INSERT_FEED), f);
                    written += q.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
            }
            Db::Postgres(pg) => {
                let sql = dollars(INSERT_FEED);
                let mut tx = pg.begin().await?;
                for f in feeds {
                    let q = bind_feed!(sqlx::query(AssertSqlSafe(sql.clone())), f);
                    written += q.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
            }
        }
        Ok(written)
    }

    /// Writes article rows with their ids, in one transaction; a row whose id or feed
    /// item is already stored is skipped. Returns how many were written.
    pub async fn import_articles(&self, articles: &[ArticleRow]) -> Result<u64, StoreError> {
        let mut written = 0;
        match &self.db {
            Db::Sqlite(db) => {
                let mut tx = db.writer.begin().await?;
                for a in articles {
                    let q = bind_article!(sqlx::query(INSERT_ARTICLE_SQLITE), a);
                    written += q.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
            }
            Db::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                for a in articles {
                    let q = bind_article!(sqlx::query(INSERT_ARTICLE_PG), a);
                    written += q.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
            }
        }
        Ok(written)
    }

    /// After rows were written with explicit ids: PostgreSQL's identity sequences move
    /// past them, so the next ordinary insert does not collide, and the articles are
    /// vacuumed. SQLite needs nothing.
    async fn after_import(&self) -> Result<(), StoreError> {
        if let Db::Postgres(pg) = &self.db {
            for table in ["feeds", "communities", "articles"] {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                   coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(AssertSqlSafe(sql)).execute(pg).await?;
            }
            // Bulk-written rows wait in the GIN index's pending list, which every search
            // scans until a vacuum merges it; the vacuum also marks pages all-visible and
            // the statistics are the planner's.
            sqlx::query("VACUUM (ANALYZE) articles").execute(pg).await?;
        }
        Ok(())
    }
}
