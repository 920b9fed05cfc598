//! herald's PostgreSQL schema (`migrations/postgres/`) on a real cluster: the same
//! tables and columns as SQLite's after its migrations, weighted full-text search scoped
//! to a community by trigger-kept ids, and the pause-episode counter.

use std::collections::{BTreeMap, BTreeSet};

use herald::clock::ManualClock;
use sqlx::{PgPool, Row};

use crate::support::{T0, app, postgres};

/// Columns that differ by design: for search, SQLite's FTS5 tokens (`feed_tag`,
/// `community_tags`), PostgreSQL's tsvector and community id array; the console posts'
/// order, which SQLite keeps in the rowid and PostgreSQL in `seq`.
const SEARCH_ONLY: &[(&str, &str)] = &[
    ("articles", "feed_tag"),
    ("articles", "community_tags"),
    ("articles", "search"),
    ("articles", "community_ids"),
    ("console_posts", "seq"),
];

async fn migrated() -> Option<PgPool> {
    let pg = postgres::shared()?;
    let url = pg.fresh_database().await;
    let pool = PgPool::connect(&url).await.expect("connect");
    herald::store::postgres_migrator().run(&pool).await.expect("PostgreSQL migrations apply");
    Some(pool)
}

type Schema = BTreeMap<String, BTreeSet<String>>;

fn without_search_columns(mut schema: Schema) -> Schema {
    for (table, column) in SEARCH_ONLY {
        if let Some(cols) = schema.get_mut(*table) {
            cols.remove(*column);
        }
    }
    schema
}

#[tokio::test]
async fn the_postgres_schema_has_sqlites_tables_and_columns() {
    let Some(pool) = migrated().await else { return };
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .expect("read PostgreSQL's columns");
    let mut pg = Schema::new();
    for r in rows {
        pg.entry(r.get("t")).or_default().insert(r.get("c"));
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let _app = app(dir.path(), &clock, |_| {}).await;
    let url = format!("sqlite://{}?mode=ro", dir.path().join("herald.db").display());
    let lite = sqlx::SqlitePool::connect(&url).await.expect("open SQLite");
    let rows = sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_xinfo(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'articles_fts%'
           AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite%'",
    )
    .fetch_all(&lite)
    .await
    .expect("read SQLite's columns");
    let mut sqlite = Schema::new();
    for r in rows {
        sqlite.entry(r.get("t")).or_default().insert(r.get("c"));
    }
    assert!(sqlite.len() >= 10, "SQLite's tables were read: {sqlite:?}");
    assert_eq!(without_search_columns(pg), without_search_columns(sqlite));
}

#[tokio::test]
async fn search_weighs_titles_and_follows_community_links() {
    let Some(pool) = migrated().await else { return };
    let id = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.expect(sql) }
    };
    let feed = id("INSERT INTO feeds (url, poll_interval_s, next_poll_at, created_at)
                   VALUES ('https://example.org/feed', 900, 0, 0) RETURNING id")
    .await;
    let community = id("INSERT INTO communities (platform, external_id, created_at)
                        VALUES ('chat', 'g1', 0) RETURNING id")
    .await;
    let link = "INSERT INTO community_feeds (community_id, feed_id, added_at) VALUES ($1, $2, 0)";
    sqlx::query(link).bind(community).bind(feed).execute(&pool).await.expect("link");
    let add = "INSERT INTO articles (feed_id, item_key, title, summary, text, fetched_at)
               VALUES ($1, $2, $3, '', $4, 0) RETURNING id";
    let mut ids = Vec::new();
    for (key, title, text) in [
        ("a", "Rail strike ends", "Trains run again on Monday."),
        ("b", "Weather", "A strike of lightning hit the harbour crane; talks continue."),
    ] {
        let row = sqlx::query(add).bind(feed).bind(key).bind(title).bind(text);
        ids.push(row.fetch_one(&pool).await.expect("article").get::<i64, _>(0));
    }
    let search = "SELECT id FROM articles, websearch_to_tsquery('english', $1) q
                  WHERE search @@ q AND community_ids @> ARRAY[$2]::bigint[]
                  ORDER BY ts_rank(search, q) DESC, id";
    let found = |query: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(search)
                .bind(query)
                .bind(community)
                .fetch_all(&pool)
                .await
                .expect("search")
        }
    };
    assert_eq!(found("strikes").await, ids, "stemmed; a title match ranks first");
    assert_eq!(found("\"strike ends\"").await, vec![ids[0]], "phrases");
    assert_eq!(found("strike -lightning").await, vec![ids[0]], "exclusions");

    // Unlinking hides the feed's articles from the community at once; linking shows them.
    sqlx::query("DELETE FROM community_feeds WHERE community_id = $1 AND feed_id = $2")
        .bind(community)
        .bind(feed)
        .execute(&pool)
        .await
        .expect("unlink");
    assert!(found("strike").await.is_empty());
    sqlx::query(link).bind(community).bind(feed).execute(&pool).await.expect("link again");
    assert_eq!(found("strike").await.len(), 2);
}

#[tokio::test]
async fn each_pause_of_a_channel_counts_once() {
    let Some(pool) = migrated().await else { return };
    let community: i64 = sqlx::query_scalar(
        "INSERT INTO communities (platform, external_id, created_at) VALUES ('chat', 'g', 0)
         RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .expect("community");
    let channel: i64 = sqlx::query_scalar(
        "INSERT INTO channels (community_id, platform, external_id, created_at)
         VALUES ($1, 'chat', 'c', 0) RETURNING id",
    )
    .bind(community)
    .fetch_one(&pool)
    .await
    .expect("channel");
    let count = || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT pause_count FROM channels WHERE id = $1")
                .bind(channel)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    let set = "UPDATE channels SET paused_reason = $1 WHERE id = $2";
    for (reason, want) in [(Some("forbidden"), 1), (Some("gone"), 1), (None, 1), (Some("x"), 2)] {
        sqlx::query(set).bind(reason).bind(channel).execute(&pool).await.expect("update");
        assert_eq!(count().await, want, "after paused_reason = {reason:?}");
    }
}
