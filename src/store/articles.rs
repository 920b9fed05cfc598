//! The `articles` table and its FTS5 index.

use sqlx::FromRow;

use super::{Store, StoreError};
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
    pub rank: f64,
}

/// Turns what a person typed into an FTS5 query that cannot be a syntax error: every
/// word becomes a quoted term (so `AND`, `-`, `:` or a stray quote are just words) and
/// "quoted phrases" stay phrases. No prefix matching: a short prefix expands to
/// thousands of terms and makes one query cost seconds; the index stems words instead.
pub fn fts_query(input: &str) -> Option<String> {
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
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The INSERT every way of storing an article shares; `RETURNING id` yields no row when
/// the feed already had the item.
pub(super) fn insert_article_query(
    a: &NewArticle,
) -> sqlx::query::QueryScalar<'_, sqlx::Sqlite, i64, sqlx::sqlite::SqliteArguments> {
    sqlx::query_scalar(
        "INSERT INTO articles (feed_id, item_key, url, title, author, published_at,
             fetched_at, text, summary, lang, image_url, text_source, backfill)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(feed_id, item_key) DO NOTHING
         RETURNING id",
    )
    .bind(a.feed_id)
    .bind(&a.item_key)
    .bind(&a.url)
    .bind(&a.title)
    .bind(&a.author)
    .bind(a.published_at)
    .bind(a.fetched_at)
    .bind(&a.text)
    .bind(&a.summary)
    .bind(&a.lang)
    .bind(&a.image_url)
    .bind(a.text_source)
    .bind(a.backfill)
}

/// How many of the newest matches a search ranks.
pub const SEARCH_CANDIDATES: i64 = 1000;

const ARTICLE_COLUMNS: &str = "id, feed_id, item_key, url, title, author, published_at, \
     fetched_at, text, summary, lang, image_url, text_source, backfill";

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
        // One round trip however many keys: the list travels as a JSON array.
        let json = serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT item_key FROM articles
             WHERE feed_id = ? AND item_key IN (SELECT value FROM json_each(?))",
        )
        .bind(feed_id)
        .bind(json)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Stores an article unless the feed already has its key. Returns the new id, or
    /// `None` when it was already there (so a replayed poll stores nothing twice).
    pub async fn insert_article(&self, a: &NewArticle) -> Result<Option<i64>, StoreError> {
        let id: Option<i64> = insert_article_query(a).fetch_optional(&self.writer).await?;
        Ok(id)
    }

    pub async fn article(&self, id: i64) -> Result<Option<ArticleRow>, StoreError> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?)
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
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(feed_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn count_articles(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM articles").fetch_one(&self.pool).await?)
    }

    /// Full-text search, best match first (title counts most, then summary, then text).
    /// `feeds` limits the search to those feeds (a community's); `since` to articles
    /// first seen after that instant.
    ///
    /// Ranking looks at the newest [`SEARCH_CANDIDATES`] matches only: a common word can
    /// match hundreds of thousands of articles, and scoring them all costs seconds,
    /// while news readers want recent stories first anyway. The community's feeds are
    /// tokens in the index (`feed<id>`), so FTS5 itself intersects them with the query.
    pub async fn search_articles(
        &self,
        query: &str,
        feeds: Option<&[i64]>,
        since: Option<Timestamp>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let Some(terms) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let text_match = format!("{{title summary text}} : ({terms})");
        let full_match = match feeds {
            Some([]) => return Ok(Vec::new()),
            Some(ids) => {
                let tags: Vec<String> = ids.iter().map(|id| format!("feed{id}")).collect();
                format!("{text_match} AND {{feed_tag}} : ({})", tags.join(" OR "))
            }
            None => text_match.clone(),
        };
        let min_id: i64 = match since {
            Some(t) => sqlx::query_scalar("SELECT min(id) FROM articles WHERE fetched_at >= ?")
                .bind(t)
                .fetch_one(&self.pool)
                .await
                .map(|id: Option<i64>| id.unwrap_or(i64::MAX))?,
            None => 0,
        };
        let mut ranked: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, bm25(articles_fts, 8.0, 3.0, 1.0, 0.0) FROM articles_fts
             WHERE articles_fts MATCH ? AND rowid >= ? ORDER BY rowid DESC LIMIT ?",
        )
        .bind(&full_match)
        .bind(min_id)
        .bind(SEARCH_CANDIDATES)
        .fetch_all(&self.pool)
        .await?;
        // bm25 is lower for better matches; ties go to the newer article.
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let page: Vec<(i64, f64)> =
            ranked.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).collect();
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
        let json = serde_json::to_string(&ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut hits: Vec<SearchHit> = sqlx::query_as(
            "SELECT a.id, a.feed_id, a.title, a.url, a.published_at, a.fetched_at,
                    snippet(articles_fts, -1, '', '', '…', 16) AS snippet, 0.0 AS rank
             FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
             WHERE articles_fts MATCH ? AND articles_fts.rowid IN (SELECT value FROM json_each(?))",
        )
        .bind(&text_match)
        .bind(json)
        .fetch_all(&self.pool)
        .await?;
        for hit in &mut hits {
            hit.rank = page.iter().find(|(id, _)| *id == hit.id).map(|(_, r)| *r).unwrap_or(0.0);
        }
        hits.sort_by(|a, b| a.rank.total_cmp(&b.rank).then(b.id.cmp(&a.id)));
        Ok(hits)
    }

    /// The newest articles of these feeds (backfill included: it is history people may
    /// want to read).
    pub async fn latest_articles(
        &self,
        feeds: &[i64],
        limit: i64,
    ) -> Result<Vec<ArticleRow>, StoreError> {
        let json = serde_json::to_string(feeds).unwrap_or_else(|_| "[]".into());
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM articles
             WHERE feed_id IN (SELECT value FROM json_each(?))
             ORDER BY coalesce(published_at, fetched_at) DESC, id DESC LIMIT ?"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(json)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

impl Store {
    /// Stores many articles in one transaction (imports, benchmarks). Items a feed already
    /// has are skipped. Returns how many were stored.
    pub async fn insert_articles_bulk(&self, articles: &[NewArticle]) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await?;
        let mut stored = 0;
        for a in articles {
            stored += insert_article_query(a).fetch_optional(&mut *tx).await?.map_or(0, |_| 1);
        }
        tx.commit().await?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn fts_query_cannot_be_a_syntax_error() {
        assert_eq!(fts_query("korea peace").as_deref(), Some("\"korea\" \"peace\""));
        assert_eq!(
            fts_query("\"north korea\" talks").as_deref(),
            Some("\"north korea\" \"talks\"")
        );
        assert_eq!(
            fts_query("AND OR NOT -x:y").as_deref(),
            Some("\"AND\" \"OR\" \"NOT\" \"x\" \"y\"")
        );
        assert_eq!(fts_query("  ** \" "), None);
        assert_eq!(fts_query("\"unterminated").as_deref(), Some("\"unterminated\""));
    }
}
