//! Search on PostgreSQL, with the contract of SQLite's FTS5 search (`articles.rs`):
//! every word of the query is just a word and "quoted phrases" stay phrases, all must
//! match; only the newest [`SEARCH_CANDIDATES`] matches are ranked; title counts more
//! than summary, summary more than text, and a rarer word more than a common one; equal
//! scores put the newer article first, so pages never overlap; the snippet comes from
//! the article's text with the matches marked.
//!
//! The index is one GIN index of the search keys (`herald_search_keys`,
//! `migrations/postgres/0006_search_keys.sql`): the `search` tsvector (title weight A,
//! summary B, text C) plus keys for each community following the article's feed, for
//! its id bucket, and for the two together. A search asks GIN for the words and the
//! community's newest buckets' keys at once, widening the window until it has its
//! candidates: a common word then costs the community's few newest buckets, not its
//! million matches.

use sqlx::{AssertSqlSafe, PgPool};

use super::articles::{
    MARK_CLOSE, MARK_OPEN, RANK_WEIGHTS, SEARCH_CANDIDATES, SearchHit, SearchScope, finish_hits,
    fts_phrases,
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
    let (first, last): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT min(id), max(id) FROM articles").fetch_one(pg).await?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(Vec::new());
    };
    let min_id: i64 = match since {
        Some(t) => sqlx::query_scalar("SELECT min(id) FROM articles WHERE fetched_at >= $1")
            .bind(t)
            .fetch_one(pg)
            .await
            .map(|id: Option<i64>| id.unwrap_or(i64::MAX))?,
        None => first,
    };
    if min_id > last {
        return Ok(Vec::new());
    }
    let idfs = term_idfs(pg, &terms, first, last).await?;
    let every = join(&terms, " & ");
    // Bucket keys are the community's own where there is one: their postings are only
    // its articles, so GIN walks a window of the community, not of the archive.
    let (bucket_prefix, everywhere) = match scope {
        SearchScope::Community(id) => (format!(" c{id}b"), format!("({every}) & ' c{id}'")),
        _ => (" b".to_string(), every.clone()),
    };
    let feeds: &[i64] = match scope {
        SearchScope::Feeds(ids) => ids,
        _ => &[],
    };
    // The newest matches, window of id buckets by window, each older than the last and
    // the first holding the newest bucket's worth of ids: GIN walks only the windows'
    // keys, so a common word costs the few buckets holding its newest matches. Each
    // window's matches are scored as they are found, reading each tsvector once.
    //
    // BM25's shape from PostgreSQL's parts: each term is scored on its own and scaled by
    // its IDF (ranking the whole query would know no IDF). `ts_rank_cd` of one term is
    // its column-weighted frequency (a phrase's: of its occurrences), and normalization
    // 32 (r / (r + 1)) saturates it as BM25 does with k1 = 1. Unlike SQLite's BM25 there
    // is no length normalization (b = 0): `ts_rank`'s log-length one let a short text
    // mentioning a word once beat a text about it.
    //
    // The score is one sum written out per term: a subquery over the terms per row cost
    // more than ranking (12 of 27 ms for 817 rows). With several terms `|| ''` reads
    // each tsvector from TOAST once, not once per term; `OFFSET 0` keeps that after the
    // limit.
    //
    // Custom plans (`persistent(false)`): the keys' statistics tell the planner how few
    // rows a window holds, which a generic plan cannot know.
    let feed_sql = if feeds.is_empty() { "" } else { "AND feed_id = ANY($8)" };
    let score_sql = (1..=terms.len())
        .map(|n| format!("($6::float8[])[{n}] * ts_rank_cd($4::real[], c.doc, ($5::text[])[{n}]::tsquery, 32)"))
        .collect::<Vec<_>>()
        .join(" + ");
    let doc_sql = if terms.len() > 1 { "search || ''::tsvector" } else { "search" };
    let sql = format!(
        "SELECT id, ({score_sql})::float8 AS score
         FROM (SELECT id, {doc_sql} AS doc
               FROM (SELECT id, search FROM articles
                     WHERE herald_search_keys(search, community_ids, id) @@ $1::tsquery
                       AND id >= $2 AND id < $7 {feed_sql}
                     ORDER BY id DESC LIMIT $3) m
               OFFSET 0) c"
    );
    let mut scored: Vec<(i64, f64)> = Vec::new();
    let low = min_id >> BUCKET_BITS;
    let mut newest = last >> BUCKET_BITS;
    let mut oldest = Some(((last - BUCKET_IDS + 1).max(0) >> BUCKET_BITS).max(low));
    loop {
        // `oldest == None`: every older match, without bucket keys.
        let (window, below) = match oldest {
            Some(oldest) => {
                let keys = bucket_keys(&bucket_prefix, oldest, newest);
                (format!("({every}) & ({keys})"), i64::MAX)
            }
            None => (everywhere.clone(), (newest + 1) << BUCKET_BITS),
        };
        let found: Vec<(i64, f64)> = sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(&window)
            .bind(min_id)
            .bind(SEARCH_CANDIDATES - scored.len() as i64)
            .bind(rank_weights())
            .bind(&terms)
            .bind(&idfs)
            .bind(below)
            .bind(feeds)
            .persistent(false)
            .fetch_all(pg)
            .await?;
        scored.extend(found);
        let Some(reached) = oldest else { break };
        if scored.len() as i64 >= SEARCH_CANDIDATES || reached <= low {
            break;
        }
        // The next window from the density so far, with a quarter to spare (each
        // window's matches are all read from the heap, so a window far too wide costs
        // as much as one too narrow); four times wider when nothing matched yet. Bucket
        // keys cost GIN a walk of the window's postings (8 buckets: about 10 ms), so
        // when the older matches are expected to be few (at most twice those wanted)
        // the last query asks for the words alone and reads them all.
        let width = newest - reached + 1;
        let below = reached << BUCKET_BITS;
        newest = reached - 1;
        let span = if scored.is_empty() {
            Some(width * 4).filter(|&s| s <= MAX_WINDOW_BUCKETS)
        } else {
            let density = scored.len() as f64 / (last - below + 1) as f64;
            let wanted = (SEARCH_CANDIDATES - scored.len() as i64) as f64;
            let left = density * (below - min_id) as f64;
            let ids = wanted / density * 1.25;
            (left > 2.0 * wanted)
                .then(|| ((ids / BUCKET_IDS as f64).ceil() as i64).clamp(1, MAX_WINDOW_BUCKETS))
        };
        oldest = span.map(|span| (newest - span + 1).max(low));
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    let page: Vec<(i64, f64)> =
        scored.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).collect();
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
    // Snippets from the text only (as on SQLite), marking any of the words: a text
    // holding one of two words still shows it. An ellipsis stands where the fragment
    // cuts the text, as FTS5's snippet puts one.
    let hits: Vec<SearchHit> = sqlx::query_as(AssertSqlSafe(format!(
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
    Ok(finish_hits(hits, &page))
}

/// The bits of an article id below its bucket key, as `herald_search_keys` computes it
/// (`migrations/postgres/0006_search_keys.sql`).
const BUCKET_BITS: u32 = 14;
const BUCKET_IDS: i64 = 1 << BUCKET_BITS;

/// The widest window of bucket keys one search query asks GIN for.
const MAX_WINDOW_BUCKETS: i64 = 8;

/// The keys of buckets `oldest..=newest` (` b<n>`, or a community's ` c<id>b<n>`) as
/// a tsquery: any of them.
fn bucket_keys(prefix: &str, oldest: i64, newest: i64) -> String {
    (oldest..=newest).rev().map(|b| format!("'{prefix}{b}'")).collect::<Vec<_>>().join(" | ")
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

/// Newest articles whose matches estimate a rare term's document frequency.
const IDF_WINDOW: i64 = 10_000;

/// The IDF of each term. A term whose words are all among the column's most common
/// elements (the planner's statistics, kept by ANALYZE) has its rarest word's share of
/// the archive: counting a common word's matches costs GIN a walk of long posting lists
/// (40 ms a term at a million articles), the statistics nothing. Any other term is
/// counted among the newest articles: the id buckets holding the newest
/// [`IDF_WINDOW`] ids (up to one bucket more; the archive's, exactly, when it is
/// smaller), a walk of the term's own short posting list. SQLite samples a term's
/// newest 1,000 matches instead (`articles.rs`).
async fn term_idfs(
    pg: &PgPool,
    terms: &[String],
    first: i64,
    last: i64,
) -> Result<Vec<f64>, StoreError> {
    if terms.len() < 2 {
        return Ok(vec![1.0; terms.len()]);
    }
    let span = (last - first + 1) as f64;
    let words: Vec<Vec<String>> = terms.iter().map(|t| lexemes(t)).collect();
    let all: Vec<&String> = words.iter().flatten().collect();
    let common: std::collections::HashMap<String, f64> = sqlx::query_as(
        "SELECT e, f::float8 FROM pg_stats s,
                unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(e, f)
         WHERE s.schemaname = current_schema() AND s.tablename = 'articles'
           AND s.attname = 'search' AND e = ANY($1)",
    )
    .bind(&all)
    .fetch_all(pg)
    .await?
    .into_iter()
    .collect();
    let mut dfs: Vec<Option<f64>> = words
        .iter()
        .map(|w| {
            let shares: Option<Vec<f64>> = w.iter().map(|l| common.get(l).copied()).collect();
            let rarest = shares?.into_iter().reduce(f64::min)?;
            Some(rarest * span)
        })
        .collect();
    let rare: Vec<usize> = (0..terms.len()).filter(|&i| dfs[i].is_none()).collect();
    if !rare.is_empty() {
        let oldest = (last - IDF_WINDOW + 1).max(first) >> BUCKET_BITS;
        let window = (last - (oldest << BUCKET_BITS).max(first) + 1) as f64;
        let buckets = bucket_keys(" b", oldest, last >> BUCKET_BITS);
        let counted: Vec<String> =
            rare.iter().map(|&i| format!("({}) & ({buckets})", terms[i])).collect();
        let found: Vec<i64> = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM articles
                     WHERE herald_search_keys(search, community_ids, id) @@ t.q::tsquery)
             FROM unnest($1::text[]) WITH ORDINALITY AS t(q, n) ORDER BY t.n",
        )
        .bind(&counted)
        .fetch_all(pg)
        .await?;
        for (&i, n) in rare.iter().zip(found) {
            dfs[i] = Some(n as f64 * span / window);
        }
    }
    Ok(dfs.into_iter().map(|df| rank::idf(df.unwrap_or(0.0), span)).collect())
}

/// The words of a term in tsquery text form (`'north' <-> 'korea'`): each quoted
/// lexeme, with `''` standing for a quote inside one.
fn lexemes(term: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = term.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut word = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    break;
                }
            }
            word.push(c);
        }
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{bucket_keys, lexemes};

    #[test]
    fn a_terms_lexemes_are_its_quoted_words() {
        assert_eq!(lexemes("'north' <-> 'korea'"), ["north", "korea"]);
        assert_eq!(lexemes("'o''brien'"), ["o'brien"]);
        assert_eq!(lexemes("'a' <2> 'b''' <-> 'c'"), ["a", "b'", "c"]);
        assert!(lexemes("").is_empty());
    }

    #[test]
    fn bucket_keys_name_every_bucket_newest_first() {
        assert_eq!(bucket_keys(" b", 3, 5), "' b5' | ' b4' | ' b3'");
        assert_eq!(bucket_keys(" c7b", 0, 0), "' c7b0'");
    }
}
