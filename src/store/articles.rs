//! The `articles` table and its FTS5 index.

use sqlx::FromRow;

use sqlx::AssertSqlSafe;

use super::{Db, Store, StoreError, rank};
use crate::clock::Timestamp;

/// An article to store, as ingest produced it.
#[derive(Debug, Clone, Default)]
pub struct NewArticle {
    pub feed_id: i64,
    pub item_key: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub published_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    pub text: String,
    pub summary: String,
    pub lang: Option<String>,
    pub image_url: Option<String>,
    /// `"page"` or `"feed"`: where `text` came from.
    pub text_source: &'static str,
    pub backfill: bool,
    /// The item's categories, for subscription filters (stored as a JSON list).
    pub categories: Vec<String>,
}

/// An article as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ArticleRow {
    pub id: i64,
    pub feed_id: i64,
    pub item_key: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub published_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    pub text: String,
    pub summary: String,
    pub lang: Option<String>,
    pub image_url: Option<String>,
    pub text_source: String,
    pub backfill: bool,
    /// The item's categories as stored: a JSON list.
    pub categories: String,
}

/// Whose articles a search looks at.
#[derive(Debug, Clone, Copy)]
pub enum SearchScope<'a> {
    /// Every stored article (operators, the CLI).
    All,
    /// The feeds this community follows.
    Community(i64),
    /// Only these feeds.
    Feeds(&'a [i64]),
}

/// One search result, best first.
#[derive(Debug, Clone, FromRow)]
pub struct SearchHit {
    pub id: i64,
    pub feed_id: i64,
    pub title: Option<String>,
    pub url: Option<String>,
    pub published_at: Option<Timestamp>,
    pub fetched_at: Timestamp,
    pub snippet: String,
    /// Byte ranges of `snippet` that matched the query.
    #[sqlx(skip)]
    pub marks: Vec<std::ops::Range<usize>>,
    /// The `herald_rank` score; higher is better.
    pub rank: f64,
}

/// Brackets FTS5's `snippet()` puts around matches: control characters, which
/// [`split_marks`] removes wherever they occur (a page containing them can at worst
/// emphasize some of its own words).
pub(super) const MARK_OPEN: char = '\u{2}';
pub(super) const MARK_CLOSE: char = '\u{3}';

/// A page of hits as both backends return it: snippets split from their marks, each
/// hit given its rank from `page` (id, rank), best first, ties newest first.
pub(super) fn finish_hits(mut hits: Vec<SearchHit>, page: &[(i64, f64)]) -> Vec<SearchHit> {
    for hit in &mut hits {
        (hit.snippet, hit.marks) = split_marks(&hit.snippet);
        hit.rank = page.iter().find(|(id, _)| *id == hit.id).map(|(_, r)| *r).unwrap_or(0.0);
    }
    hits.sort_by(|a, b| b.rank.total_cmp(&a.rank).then(b.id.cmp(&a.id)));
    hits
}

/// A snippet with bracketed matches → its plain text and the matches' byte ranges.
pub(super) fn split_marks(snippet: &str) -> (String, Vec<std::ops::Range<usize>>) {
    let mut text = String::with_capacity(snippet.len());
    let mut marks = Vec::new();
    let mut open: Option<usize> = None;
    for c in snippet.chars() {
        match c {
            MARK_OPEN => open = Some(text.len()),
            MARK_CLOSE => {
                if let Some(start) = open.take().filter(|&s| s < text.len()) {
                    marks.push(start..text.len());
                }
            }
            c => text.push(c),
        }
    }
    (text, marks)
}

/// Turns what a person typed into an FTS5 query that cannot be a syntax error: every
/// word becomes a quoted term (so `AND`, `-`, `:` or a stray quote are just words) and
/// "quoted phrases" stay phrases. No prefix matching: a short prefix expands to
/// thousands of terms and makes one query cost seconds; the index stems words instead.
pub(super) fn fts_phrases(input: &str) -> Vec<String> {
    let mut terms = all_phrases(input);
    // Each phrase is an argument of herald_rank, and a long paste is not a search.
    terms.truncate(MAX_SEARCH_TERMS);
    terms
}

/// Most words and phrases a search uses; the command core refuses longer queries.
pub const MAX_SEARCH_TERMS: usize = 32;

/// How many words and phrases `input` searches for.
pub fn search_term_count(input: &str) -> usize {
    all_phrases(input).len()
}

fn all_phrases(input: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for (i, part) in input.split('"').enumerate() {
        let in_phrase = i % 2 == 1;
        let words: Vec<&str> =
            part.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            continue;
        }
        if in_phrase {
            terms.push(format!("\"{}\"", words.join(" ")));
        } else {
            terms.extend(words.iter().map(|w| format!("\"{w}\"")));
        }
    }
    terms
}

/// The INSERT every way of storing an article shares; `RETURNING id` yields no row when
/// the feed already had the item.
/// Binds a new article's fields in the order both insert statements name them.
macro_rules! bind_new_article {
    ($q:expr, $a:expr) => {
        $q.bind($a.feed_id)
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
            .bind($a.text_source)
            .bind($a.backfill)
            .bind(serde_json::to_string(&$a.categories).unwrap_or_else(|_| "[]".into()))
    };
}

pub(super) fn insert_article_query(
    a: &NewArticle,
) -> sqlx::query::QueryScalar<'_, sqlx::Sqlite, i64, sqlx::sqlite::SqliteArguments> {
    bind_new_article!(
        sqlx::query_scalar(
            "INSERT INTO articles (feed_id, item_key, url, title, author, published_at,
             fetched_at, text, summary, lang, image_url, text_source, backfill, categories,
             community_tags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
             coalesce((SELECT group_concat('c' || community_id, ' ') FROM community_feeds
                       WHERE feed_id = ?1), ''))
         ON CONFLICT(feed_id, item_key) DO NOTHING
         RETURNING id",
        ),
        a
    )
}

/// [`insert_article_query`] on PostgreSQL, where a trigger fills `community_ids`.
pub(super) fn pg_insert_article_query(
    a: &NewArticle,
) -> sqlx::query::QueryScalar<'_, sqlx::Postgres, i64, sqlx::postgres::PgArguments> {
    bind_new_article!(
        sqlx::query_scalar(
            "INSERT INTO articles (feed_id, item_key, url, title, author, published_at,
             fetched_at, text, summary, lang, image_url, text_source, backfill, categories)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT(feed_id, item_key) DO NOTHING
         RETURNING id",
        ),
        a
    )
}

/// How many of the newest matches a search ranks.
pub const SEARCH_CANDIDATES: i64 = 1000;

/// How many of a phrase's newest matches estimate its document frequency.
const IDF_SAMPLE: i64 = 1000;

/// Ranking weights of the title, summary and text columns.
pub(super) const RANK_WEIGHTS: [f64; rank::RANK_COLUMNS] = [8.0, 3.0, 1.0];

pub(super) const ARTICLE_COLUMNS: &str = "id, feed_id, item_key, url, title, author, published_at, \
     fetched_at, text, summary, lang, image_url, text_source, backfill, categories";

impl Store {
    /// Which of `keys` this feed already has.
    pub async fn known_item_keys(
        &self,
        feed_id: i64,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        if keys.is_empty() {
            return Ok(Default::default());
        }
        // One round trip however many keys: the list travels as one array.
        let rows: Vec<String> = match &self.db {
            Db::Sqlite(db) => {
                let json =
                    serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                sqlx::query_scalar(
                    "SELECT item_key FROM articles
                     WHERE feed_id = ? AND item_key IN (SELECT value FROM json_each(?))",
                )
                .bind(feed_id)
                .bind(json)
                .fetch_all(&db.pool)
                .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT item_key FROM articles WHERE feed_id = $1 AND item_key = ANY($2)",
                )
                .bind(feed_id)
                .bind(keys)
                .fetch_all(pg)
                .await?
            }
        };
        Ok(rows.into_iter().collect())
    }

    /// Stores an article unless the feed already has its key. Returns the new id, or
    /// `None` when it was already there (so a replayed poll stores nothing twice).
    pub async fn insert_article(&self, a: &NewArticle) -> Result<Option<i64>, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(db) => insert_article_query(a).fetch_optional(&db.writer).await?,
            Db::Postgres(pg) => pg_insert_article_query(a).fetch_optional(pg).await?,
        })
    }

    /// One article to show: a history item stored without a summary gets one made now.
    pub async fn article(&self, id: i64) -> Result<Option<ArticleRow>, StoreError> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?");
        let row: Option<ArticleRow> = match &self.db {
            Db::Sqlite(db) => {
                sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?
            }
            Db::Postgres(pg) => {
                sqlx::query_as(AssertSqlSafe(super::dollars(&sql)))
                    .bind(id)
                    .fetch_optional(pg)
                    .await?
            }
        };
        Ok(summarized(row.into_iter().collect()).await.pop())
    }

    /// The feed's articles, newest first.
    pub async fn articles_of_feed(
        &self,
        feed_id: i64,
        limit: i64,
    ) -> Result<Vec<ArticleRow>, StoreError> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM articles WHERE feed_id = ?
             ORDER BY coalesce(published_at, fetched_at) DESC, id DESC LIMIT ?"
        );
        Ok(match &self.db {
            Db::Sqlite(db) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(feed_id)
                    .bind(limit)
                    .fetch_all(&db.pool)
                    .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_as(AssertSqlSafe(super::dollars(&sql)))
                    .bind(feed_id)
                    .bind(limit)
                    .fetch_all(pg)
                    .await?
            }
        })
    }

    pub async fn count_articles(&self) -> Result<i64, StoreError> {
        let sql = "SELECT count(*) FROM articles";
        Ok(match &self.db {
            Db::Sqlite(db) => sqlx::query_scalar(sql).fetch_one(&db.pool).await?,
            Db::Postgres(pg) => sqlx::query_scalar(sql).fetch_one(pg).await?,
        })
    }

    /// Full-text search, best match first (title counts most, then summary, then text),
    /// within `scope`; `since` keeps articles first seen from that instant on.
    ///
    /// Ranking looks at the newest [`SEARCH_CANDIDATES`] matches only: a common word can
    /// match hundreds of thousands of articles, and scoring them all costs seconds,
    /// while news readers want recent stories first anyway. Scopes are tokens in the
    /// index (`c<community id>`, `feed<id>`), so FTS5 itself intersects them with the
    /// query.
    /// Scores come from `herald_rank` (BM25 with IDFs estimated by [`term_idfs`]),
    /// because FTS5's own `bm25` reads every match of every term to count them.
    /// PostgreSQL keeps the same contract with its own index (`search_pg.rs`).
    pub async fn search_articles(
        &self,
        query: &str,
        scope: SearchScope<'_>,
        since: Option<Timestamp>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SearchHit>, StoreError> {
        match &self.db {
            Db::Sqlite(db) => self.search_sqlite(db, query, scope, since, limit, offset).await,
            Db::Postgres(pg) => {
                super::search_pg::search(pg, query, scope, since, limit, offset).await
            }
        }
    }

    async fn search_sqlite(
        &self,
        db: &super::Lite,
        query: &str,
        scope: SearchScope<'_>,
        since: Option<Timestamp>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let phrases = fts_phrases(query);
        if phrases.is_empty() {
            return Ok(Vec::new());
        }
        let text_match = format!("{{title summary text}} : ({})", phrases.join(" "));
        let full_match = match scope {
            SearchScope::All => text_match.clone(),
            SearchScope::Community(id) => format!("{text_match} AND {{community_tags}} : c{id}"),
            SearchScope::Feeds([]) => return Ok(Vec::new()),
            SearchScope::Feeds(ids) => {
                let tags: Vec<String> = ids.iter().map(|id| format!("feed{id}")).collect();
                format!("{text_match} AND {{feed_tag}} : ({})", tags.join(" OR "))
            }
        };
        let min_id: i64 = match since {
            Some(t) => sqlx::query_scalar("SELECT min(id) FROM articles WHERE fetched_at >= ?")
                .bind(t)
                .fetch_one(&db.pool)
                .await
                .map(|id: Option<i64>| id.unwrap_or(i64::MAX))?,
            None => 0,
        };
        let idfs = term_idfs(db, &phrases).await?;
        let rank_args: Vec<f64> = RANK_WEIGHTS.iter().chain(&idfs).copied().collect();
        // Only the page leaves SQLite: handing all candidates to Rust to sort costs more
        // than ranking them.
        let sql = format!(
            "SELECT id, score FROM (
                 SELECT rowid AS id, herald_rank(articles_fts, {}) AS score FROM articles_fts
                 WHERE articles_fts MATCH ? AND rowid >= ? ORDER BY rowid DESC LIMIT ?)
             ORDER BY score DESC, id DESC LIMIT ? OFFSET ?",
            vec!["?"; rank_args.len()].join(", ")
        );
        let mut ranked = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for x in rank_args {
            ranked = ranked.bind(x);
        }
        let page: Vec<(i64, f64)> = ranked
            .bind(&full_match)
            .bind(min_id)
            .bind(SEARCH_CANDIDATES)
            .bind(limit.max(0))
            .bind(offset.max(0))
            .fetch_all(&db.pool)
            .await?;
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
        let json = serde_json::to_string(&ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        // The snippet always comes from the article's text (column 2): a match in the
        // title would otherwise repeat the title, which the result already shows; a text
        // without the words gives its opening lines.
        let hits: Vec<SearchHit> = sqlx::query_as(
            "SELECT a.id, a.feed_id, a.title, a.url, a.published_at, a.fetched_at,
                    snippet(articles_fts, 2, char(2), char(3), '…', 16) AS snippet,
                    0.0 AS rank
             FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
             WHERE articles_fts MATCH ? AND articles_fts.rowid IN (SELECT value FROM json_each(?))",
        )
        .bind(&text_match)
        .bind(json)
        .fetch_all(&db.pool)
        .await?;
        Ok(finish_hits(hits, &page))
    }

    /// Reads the whole full-text index once and returns its size in bytes, so the OS
    /// file cache holds it as it would in a bot that has been answering searches for a
    /// while (benchmarks measure that state, not a cold disk).
    /// On PostgreSQL the search column is read whole (the GIN index is only sized).
    pub async fn warm_search_index(&self) -> Result<i64, StoreError> {
        let bytes: Option<i64> = match &self.db {
            Db::Sqlite(db) => {
                sqlx::query_scalar("SELECT sum(length(block)) FROM articles_fts_data")
                    .fetch_one(&db.pool)
                    .await?
            }
            Db::Postgres(pg) => {
                // `length` reads each tsvector whole (from TOAST), as ranking does;
                // `pg_column_size` alone would read only the pointers to them.
                sqlx::query_scalar(
                    "SELECT sum(pg_column_size(search))::bigint
                            + pg_relation_size('articles_search_keys')
                     FROM articles WHERE length(search) >= 0",
                )
                .fetch_one(pg)
                .await?
            }
        };
        Ok(bytes.unwrap_or(0))
    }
}

/// One BM25 inverse document frequency per phrase, estimated from the phrase's newest
/// [`IDF_SAMPLE`] matches: a phrase with fewer matches is counted exactly; otherwise
/// its density among the newest articles stands for the archive's (recent usage is
/// what news search cares about). A one-phrase query needs none: a constant IDF does
/// not change the order.
async fn term_idfs(db: &super::Lite, phrases: &[String]) -> Result<Vec<f64>, StoreError> {
    if phrases.len() < 2 {
        return Ok(vec![1.0; phrases.len()]);
    }
    let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
        // Two subqueries: SQLite answers a lone min() or max() from the index
        // edge, but scans the table for `min(id), max(id)` together.
        "SELECT (SELECT min(id) FROM articles), (SELECT max(id) FROM articles)",
    )
    .fetch_one(&db.pool)
    .await?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(vec![1.0; phrases.len()]);
    };
    let mut idfs = Vec::with_capacity(phrases.len());
    for phrase in phrases {
        let (found, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), min(rowid) FROM (SELECT rowid FROM articles_fts
             WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?)",
        )
        .bind(format!("{{title summary text}} : {phrase}"))
        .bind(IDF_SAMPLE)
        .fetch_one(&db.pool)
        .await?;
        idfs.push(estimated_idf(found, oldest, (first, last)));
    }
    Ok(idfs)
}

/// A phrase's IDF from its newest matches: `found` of them (at most [`IDF_SAMPLE`]),
/// the oldest at id `oldest`, in an archive of ids `first..=last`.
fn estimated_idf(found: i64, oldest: Option<i64>, (first, last): (i64, i64)) -> f64 {
    let span = (last - first + 1) as f64;
    let df = match oldest {
        Some(oldest) if found >= IDF_SAMPLE => {
            found as f64 * span / (last - oldest + 1).max(1) as f64
        }
        _ => found as f64,
    };
    rank::idf(df, span)
}

impl Store {
    /// The newest articles of these feeds (backfill included: it is history people may
    /// want to read).
    pub async fn latest_articles(
        &self,
        feeds: &[i64],
        limit: i64,
    ) -> Result<Vec<ArticleRow>, StoreError> {
        let rows = match &self.db {
            Db::Sqlite(db) => {
                let json = serde_json::to_string(feeds).unwrap_or_else(|_| "[]".into());
                let sql = format!(
                    "SELECT {ARTICLE_COLUMNS} FROM articles
                     WHERE feed_id IN (SELECT value FROM json_each(?))
                     ORDER BY coalesce(published_at, fetched_at) DESC, id DESC LIMIT ?"
                );
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(json)
                    .bind(limit)
                    .fetch_all(&db.pool)
                    .await?
            }
            Db::Postgres(pg) => {
                let sql = format!(
                    "SELECT {ARTICLE_COLUMNS} FROM articles WHERE feed_id = ANY($1)
                     ORDER BY coalesce(published_at, fetched_at) DESC, id DESC LIMIT $2"
                );
                sqlx::query_as(AssertSqlSafe(sql)).bind(feeds).bind(limit).fetch_all(pg).await?
            }
        };
        Ok(summarized(rows).await)
    }
}

/// `rows` with a summary made for each that was stored without one (a feed's history
/// items), on a blocking thread. It is not written back: showing stays a read, and a
/// history item is rarely shown twice.
async fn summarized(mut rows: Vec<ArticleRow>) -> Vec<ArticleRow> {
    let missing = |a: &ArticleRow| a.summary.is_empty() && !a.text.trim().is_empty();
    if !rows.iter().any(missing) {
        return rows;
    }
    let summaries = {
        let todo: Vec<(Option<String>, String, Option<String>)> = rows
            .iter()
            .filter(|a| missing(a))
            .map(|a| (a.title.clone(), a.text.clone(), a.lang.clone()))
            .collect();
        tokio::task::spawn_blocking(move || {
            todo.iter()
                .map(|(title, text, lang)| {
                    // A summarizer bug leaves the summary empty; the article still shows.
                    std::panic::catch_unwind(|| {
                        crate::summarize::on_demand(title.as_deref(), text, lang.as_deref())
                    })
                    .unwrap_or_default()
                })
                .collect::<Vec<String>>()
        })
        .await
        .unwrap_or_default()
    };
    let mut summaries = summaries.into_iter();
    for a in rows.iter_mut().filter(|a| missing(a)) {
        match summaries.next() {
            Some(s) => a.summary = s,
            None => break,
        }
    }
    rows
}

/// Articles deleted per transaction by retention, so the single writer is never held
/// for long (each delete also updates the full-text index).
const PRUNE_BATCH: i64 = 1000;

/// An article that nothing still owes may go: no pending post of it, and no digest
/// that is pending or not yet taken whose window and feed cover it.
const NOTHING_OWED: &str = "
    NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.article_id = a.id AND d.state = 'pending')
    AND NOT EXISTS (SELECT 1 FROM subscriptions s JOIN channels c ON c.id = s.channel_id
                    WHERE s.feed_id = a.feed_id AND s.mode = 'digest'
                      AND c.digest_spec IS NOT NULL AND c.paused_reason IS NULL
                      AND coalesce(c.digest_last_end, c.created_at) <= a.fetched_at)
    AND NOT EXISTS (SELECT 1 FROM digests g JOIN subscriptions s ON s.channel_id = g.channel_id
                    WHERE g.state = 'pending' AND s.feed_id = a.feed_id
                      AND a.fetched_at >= g.window_start AND a.fetched_at < g.window_end)";

impl Store {
    /// Deletes articles found before `older_than`, and each feed's articles beyond its
    /// newest `per_feed`, except those still owed to a channel. The full-text index
    /// follows through its delete trigger. Returns how many were deleted.
    pub async fn prune_articles(
        &self,
        older_than: Option<Timestamp>,
        per_feed: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        if let Some(cutoff) = older_than {
            let sql = format!(
                "DELETE FROM articles WHERE id IN (
                     SELECT a.id FROM articles a WHERE a.fetched_at < ? AND {NOTHING_OWED}
                     LIMIT ?)"
            );
            loop {
                let n = self.write_ints(&sql, &[cutoff, PRUNE_BATCH]).await?;
                deleted += n;
                if n < PRUNE_BATCH as u64 {
                    break;
                }
            }
        }
        if let Some(keep) = per_feed {
            let crowded = self
                .read_ints(
                    "SELECT feed_id FROM articles GROUP BY feed_id HAVING count(*) > ?",
                    &[keep],
                )
                .await?;
            let sql = format!(
                "DELETE FROM articles WHERE id IN (
                     SELECT a.id FROM articles a
                     WHERE a.feed_id = ?1
                       AND a.id < (SELECT id FROM articles WHERE feed_id = ?1
                                   ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1)
                       AND {NOTHING_OWED}
                     LIMIT ?3)"
            );
            for feed in crowded {
                loop {
                    let n = self.write_ints(&sql, &[feed, keep, PRUNE_BATCH]).await?;
                    deleted += n;
                    if n < PRUNE_BATCH as u64 {
                        break;
                    }
                }
            }
        }
        Ok(deleted)
    }

    /// How many articles are stored and how large the database is, in bytes (SQLite's
    /// file; PostgreSQL's database on the server).
    pub async fn archive_size(&self) -> Result<(i64, i64), StoreError> {
        let articles = self.count_articles().await?;
        let bytes: i64 = match &self.db {
            Db::Sqlite(db) => {
                let pages: i64 =
                    sqlx::query_scalar("PRAGMA page_count").fetch_one(&db.pool).await?;
                let page_size: i64 =
                    sqlx::query_scalar("PRAGMA page_size").fetch_one(&db.pool).await?;
                pages * page_size
            }
            Db::Postgres(pg) => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(pg)
                    .await?
            }
        };
        Ok((articles, bytes))
    }

    /// Checks the search index against the articles: FTS5's integrity check on SQLite;
    /// on PostgreSQL (where the tsvector is a generated column and cannot drift) that
    /// every article's community ids are its feed's followers, as the triggers keep them.
    pub async fn check_search_index(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(db) => {
                sqlx::query(
                    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)",
                )
                .execute(&db.writer)
                .await?;
            }
            Db::Postgres(pg) => {
                let stale: Option<i64> = sqlx::query_scalar(
                    "SELECT a.id FROM articles a
                     WHERE a.community_ids IS DISTINCT FROM coalesce(
                         (SELECT array_agg(cf.community_id ORDER BY cf.community_id)
                          FROM community_feeds cf WHERE cf.feed_id = a.feed_id), '{}')
                     LIMIT 1",
                )
                .fetch_optional(pg)
                .await?;
                if let Some(id) = stale {
                    return Err(StoreError::SearchIndex(format!(
                        "article {id} is not scoped to its feed's communities"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Stores many articles in one transaction (imports, benchmarks). Items a feed already
    /// has are skipped. Returns how many were stored.
    pub async fn insert_articles_bulk(&self, articles: &[NewArticle]) -> Result<u64, StoreError> {
        let mut stored = 0;
        match &self.db {
            Db::Sqlite(db) => {
                let mut tx = db.writer.begin().await?;
                for a in articles {
                    stored +=
                        insert_article_query(a).fetch_optional(&mut *tx).await?.map_or(0, |_| 1);
                }
                tx.commit().await?;
            }
            Db::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                for a in articles {
                    stored +=
                        pg_insert_article_query(a).fetch_optional(&mut *tx).await?.map_or(0, |_| 1);
                }
                tx.commit().await?;
            }
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::{fts_phrases, split_marks};

    #[test]
    fn snippet_marks_become_ranges_and_stray_brackets_vanish() {
        let (text, marks) = split_marks("…the \u{2}ceasefire\u{3} held in \u{2}Kőrea\u{3}…");
        assert_eq!(text, "…the ceasefire held in Kőrea…");
        let marked: Vec<&str> = marks.iter().map(|m| &text[m.clone()]).collect();
        assert_eq!(marked, ["ceasefire", "Kőrea"]);
        let (text, marks) = split_marks("a \u{3}b\u{2}\u{3} c \u{2}d");
        assert_eq!((text.as_str(), marks.len()), ("a b c d", 0));
    }

    #[test]
    fn fts_phrases_cannot_be_a_syntax_error() {
        let q = |s: &str| fts_phrases(s).join(" ");
        assert_eq!(q("korea peace"), "\"korea\" \"peace\"");
        assert_eq!(q("\"north korea\" talks"), "\"north korea\" \"talks\"");
        assert_eq!(q("AND OR NOT -x:y"), "\"AND\" \"OR\" \"NOT\" \"x\" \"y\"");
        assert!(fts_phrases("  ** \" ").is_empty());
        assert_eq!(q("\"unterminated"), "\"unterminated\"");
    }
}
