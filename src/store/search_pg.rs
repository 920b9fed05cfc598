//! Search on PostgreSQL, with the contract of SQLite's FTS5 search (`articles.rs`):
//! every word of the query is just a word and "quoted phrases" stay phrases, all must
//! match; only the newest [`SEARCH_CANDIDATES`] matches are ranked; title counts more
//! than summary, summary more than text, and a rarer word more than a common one; equal
//! scores put the newer article first, so pages never overlap; the snippet comes from
//! the article's text with the matches marked.
//!
//! The index is the `search` tsvector (title weight A, summary B, text C; GIN), and a
//! community's scope the trigger-kept `community_ids` array (GIN), as
//! `migrations/postgres/0001_schema.sql` builds them.

use sqlx::{AssertSqlSafe, PgPool};

use super::articles::{
    MARK_CLOSE, MARK_OPEN, RANK_WEIGHTS, SEARCH_CANDIDATES, SearchHit, SearchScope, fts_phrases,
    split_marks,
};
use super::{StoreError, rank};
use crate::clock::Timestamp;

/// The text search configuration of the `search` column (stemming and stop words).
const CONFIG: &str = "english";

/// `ts_headline` options: one fragment of at most 16 words (FTS5's snippet length), the
/// text's opening when the text has none of the words.
fn headline_options() -> String {
    format!("StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=16, MinWords=12, MaxFragments=1")
}

/// `ts_rank_cd`'s weights, ordered D, C, B, A: the text (C), summary (B) and title (A)
/// weights of SQLite's ranking, scaled so the title's is 1.
fn rank_weights() -> Vec<f32> {
    let [title, summary, text] = RANK_WEIGHTS;
    vec![0.0, (text / title) as f32, (summary / title) as f32, 1.0]
}

pub(super) async fn search(
    pg: &PgPool,
    query: &str,
    scope: SearchScope<'_>,
    since: Option<Timestamp>,
    limit: i64,
    offset: i64,
) -> Result<Vec<SearchHit>, StoreError> {
    if let SearchScope::Feeds([]) = scope {
        return Ok(Vec::new());
    }
    let terms = tsqueries(pg, &fts_phrases(query)).await?;
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let every = join(&terms, " & ");
    let min_id: i64 = match since {
        Some(t) => sqlx::query_scalar("SELECT min(id) FROM articles WHERE fetched_at >= $1")
            .bind(t)
            .fetch_one(pg)
            .await
            .map(|id: Option<i64>| id.unwrap_or(i64::MAX))?,
        None => 0,
    };
    let idfs = term_idfs(pg, &terms).await?;
    let scope_sql = match scope {
        SearchScope::All => "",
        SearchScope::Community(_) => "AND community_ids @> ARRAY[$9::bigint]",
        SearchScope::Feeds(_) => "AND feed_id = ANY($9)",
    };
    // BM25's shape from PostgreSQL's parts: each term is scored on its own and scaled by
    // its IDF (ranking the whole query would know no IDF). `ts_rank_cd` of one term is
    // its column-weighted frequency (a phrase's: of its occurrences), and normalization
    // 32 (r / (r + 1)) saturates it as BM25 does with k1 = 1. Unlike SQLite's BM25 there
    // is no length normalization (b = 0): `ts_rank`'s log-length one let a short text
    // mentioning a word once beat a text about it.
    //
    // The scope is written first: when the planner walks the primary key backwards (a
    // common word), it tests quals of equal cost in written order, and the scope needs
    // no tsvector read from TOAST. Custom plans (`persistent(false)`): a generic plan
    // cannot tell a rare word (use the GIN index) from a common one (walk the ids); at
    // a million articles the generic plan made common words 5x slower.
    let sql = format!(
        "WITH cand AS (
             SELECT id, search FROM articles
             WHERE id >= $2 {scope_sql} AND search @@ $1::tsquery
             ORDER BY id DESC LIMIT $3)
         SELECT id, (SELECT coalesce(sum(t.idf * ts_rank_cd($4::real[], cand.search, t.q::tsquery, 32)), 0)
                     FROM unnest($5::text[], $6::float8[]) AS t(q, idf))::float8 AS score
         FROM cand ORDER BY score DESC, id DESC LIMIT $7 OFFSET $8"
    );
    let ranked = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&every)
        .bind(min_id)
        .bind(SEARCH_CANDIDATES)
        .bind(rank_weights())
        .bind(&terms)
        .bind(&idfs)
        .bind(limit.max(0))
        .bind(offset.max(0))
        .persistent(false);
    let ranked = match scope {
        SearchScope::All => ranked,
        SearchScope::Community(id) => ranked.bind(id),
        SearchScope::Feeds(ids) => ranked.bind(ids),
    };
    let page: Vec<(i64, f64)> = ranked.fetch_all(pg).await?;
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
    // Snippets from the text only (as on SQLite), marking any of the words: a text
    // holding one of two words still shows it. An ellipsis stands where the fragment
    // cuts the text, as FTS5's snippet puts one.
    let mut hits: Vec<SearchHit> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, feed_id, title, url, published_at, fetched_at, 0.0::float8 AS rank,
                CASE WHEN starts_with(ltrim(text), ltrim(plain)) THEN '' ELSE '…' END
                || h ||
                CASE WHEN right(rtrim(text), length(rtrim(plain))) = rtrim(plain)
                     THEN '' ELSE '…' END AS snippet
         FROM (SELECT a.*, h, replace(replace(h, chr(2), ''), chr(3), '') AS plain
               FROM articles a,
                    ts_headline('{CONFIG}', a.text, $1::tsquery, $2) AS h
               WHERE a.id = ANY($3)) x"
    )))
    .bind(join(&terms, " | "))
    .bind(headline_options())
    .bind(&ids)
    .fetch_all(pg)
    .await?;
    for hit in &mut hits {
        (hit.snippet, hit.marks) = split_marks(&hit.snippet);
        hit.rank = page.iter().find(|(id, _)| *id == hit.id).map(|(_, r)| *r).unwrap_or(0.0);
    }
    hits.sort_by(|a, b| b.rank.total_cmp(&a.rank).then(b.id.cmp(&a.id)));
    Ok(hits)
}

/// Each word or phrase as its own tsquery (text form), by `websearch_to_tsquery` of the
/// phrase in quotes: the person's words never become operators, and a phrase keeps its
/// word order. Stop words alone give no term and are dropped, as they match nothing.
async fn tsqueries(pg: &PgPool, phrases: &[String]) -> Result<Vec<String>, StoreError> {
    if phrases.is_empty() {
        return Ok(Vec::new());
    }
    let terms: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT websearch_to_tsquery('{CONFIG}', p)::text
         FROM unnest($1::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n"
    )))
    .bind(phrases)
    .fetch_all(pg)
    .await?;
    Ok(terms.into_iter().filter(|t| !t.trim().is_empty()).collect())
}

fn join(terms: &[String], op: &str) -> String {
    terms.iter().map(|t| format!("({t})")).collect::<Vec<_>>().join(op)
}

/// Newest articles whose matches estimate a term's document frequency.
const IDF_WINDOW: i64 = 10_000;

/// The IDF of each term from its density among the newest [`IDF_WINDOW`] articles
/// (the archive's, exactly, when it is smaller), all terms in one round trip. SQLite
/// samples a term's newest 1,000 matches instead (`articles.rs`); here that
/// `ORDER BY id DESC LIMIT` would read every match of a common word from the GIN index
/// and sort them, while a count in an id range is a bitmap AND that skips heap pages
/// the visibility map marks all-visible.
async fn term_idfs(pg: &PgPool, terms: &[String]) -> Result<Vec<f64>, StoreError> {
    if terms.len() < 2 {
        return Ok(vec![1.0; terms.len()]);
    }
    let (first, last): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT min(id), max(id) FROM articles").fetch_one(pg).await?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(vec![1.0; terms.len()]);
    };
    let span = (last - first + 1) as f64;
    let from = (last - IDF_WINDOW + 1).max(first);
    let window = (last - from + 1) as f64;
    let found: Vec<i64> = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM articles WHERE search @@ t.q::tsquery AND id >= $2)
         FROM unnest($1::text[]) WITH ORDINALITY AS t(q, n) ORDER BY t.n",
    )
    .bind(terms)
    .bind(from)
    .fetch_all(pg)
    .await?;
    Ok(found.into_iter().map(|n| rank::idf(n as f64 * span / window, span)).collect())
}
