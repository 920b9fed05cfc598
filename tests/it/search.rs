//! Search ranking and scoping, the same tests on each backend: a real on-disk SQLite
//! store (writes through the writer pool, reads through the read-only pool, both with
//! `herald_rank` registered) and a real PostgreSQL database (tsvector and GIN).

use herald::store::{NewArticle, SearchScope, Store};

use crate::support::backends::{self, Backend};

const T0: i64 = 1_780_000_000;

struct Archive {
    store: Store,
    feed: i64,
    other_feed: i64,
    backend: Backend,
}

/// An archive with two feeds on each backend.
async fn archives() -> impl Iterator<Item = impl std::future::Future<Output = Archive>> {
    backends::each().await.map(|backend| async move {
        let store = backend.store.clone();
        let (feed, _) = store.add_feed("https://a.example/feed", 900, T0).await.expect("feed");
        let (other, _) = store.add_feed("https://b.example/feed", 900, T0).await.expect("feed");
        Archive { store, feed: feed.id, other_feed: other.id, backend }
    })
}

async fn put(store: &Store, feed: i64, key: &str, title: &str, text: &str, at: i64) -> i64 {
    let a = NewArticle {
        feed_id: feed,
        item_key: key.into(),
        url: Some(format!("https://a.example/{key}")),
        title: Some(title.into()),
        fetched_at: at,
        summary: text.split('.').next().unwrap_or_default().to_string(),
        text: text.into(),
        text_source: "feed",
        ..NewArticle::default()
    };
    store.insert_article(&a).await.expect("insert").expect("new article")
}

#[tokio::test]
async fn a_title_match_outranks_a_passing_mention() {
    for a in archives().await {
        let a = a.await;
        let s = &a.store;
        let mention = put(
            s,
            a.feed,
            "m",
            "Markets close higher",
            "Traders shrugged. Talk of a ceasefire in the north was brief.",
            T0 + 10,
        )
        .await;
        let titled = put(
            s,
            a.feed,
            "t",
            "Ceasefire holds for a third day",
            "Both sides kept to the line. Aid convoys moved.",
            T0,
        )
        .await;
        for i in 0..5 {
            put(s, a.feed, &format!("x{i}"), "Weather", "Rain again today.", T0 + i).await;
        }
        let hits = s
            .search_articles("ceasefire", SearchScope::Feeds(&[a.feed]), None, 10, 0)
            .await
            .expect("search");
        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![titled, mention], "the older title match ranks first");
        assert!(hits[0].rank > hits[1].rank, "scores are higher-is-better: {hits:?}");
        assert!(
            hits[0].snippet.starts_with("Both sides"),
            "a title-only match shows the text's opening, not the title again: {}",
            hits[0].snippet
        );
        assert!(
            hits[1].snippet.contains("ceasefire"),
            "snippet shows the match: {}",
            hits[1].snippet
        );
        let marked: Vec<&str> = hits[1].marks.iter().map(|m| &hits[1].snippet[m.clone()]).collect();
        assert_eq!(marked, ["ceasefire"], "the match is marked for emphasis: {:?}", hits[1]);
        assert!(!hits[1].snippet.contains(['\u{2}', '\u{3}']), "no bracket characters leak");
    }
}

#[tokio::test]
async fn repeating_the_rarer_term_counts_for_more() {
    for a in archives().await {
        let a = a.await;
        let s = &a.store;
        // "election" is in every article; "recount" in two of forty.
        for i in 0..38 {
            put(
                s,
                a.feed,
                &format!("f{i}"),
                "Daily",
                &format!("Election day number {i}. Queues were long."),
                T0 + i,
            )
            .await;
        }
        let rare_heavy = put(
            s,
            a.feed,
            "r",
            "Daily",
            "Recount recount recount. The election board met.",
            T0 + 100,
        )
        .await;
        let common_heavy = put(
            s,
            a.feed,
            "c",
            "Daily",
            "Election election election. A recount was mentioned.",
            T0 + 101,
        )
        .await;
        let hits = s
            .search_articles("election recount", SearchScope::Feeds(&[a.feed]), None, 10, 0)
            .await
            .expect("search");
        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        assert_eq!(
            ids,
            vec![rare_heavy, common_heavy],
            "both words must match; the rare one weighs more"
        );
    }
}

#[tokio::test]
async fn search_sees_only_the_asking_communitys_feeds_and_pages_without_overlap() {
    for a in archives().await {
        let a = a.await;
        let s = &a.store;
        let mut mine = Vec::new();
        for i in 0..7 {
            mine.push(
                put(
                    s,
                    a.feed,
                    &format!("m{i}"),
                    &format!("Harbour report {i}"),
                    "The harbour reopened.",
                    T0 + i,
                )
                .await,
            );
        }
        let theirs =
            put(s, a.other_feed, "o", "Harbour news", "The harbour harbour harbour.", T0 + 50)
                .await;

        let page1 = s
            .search_articles("harbour", SearchScope::Feeds(&[a.feed]), None, 4, 0)
            .await
            .expect("search");
        let page2 = s
            .search_articles("harbour", SearchScope::Feeds(&[a.feed]), None, 4, 4)
            .await
            .expect("search");
        assert_eq!(page1.len(), 4);
        assert_eq!(page2.len(), 3);
        let mut seen: Vec<i64> = page1.iter().chain(&page2).map(|h| h.id).collect();
        assert!(!seen.contains(&theirs), "another community's feed leaked into results");
        seen.sort();
        assert_eq!(seen, mine, "every article once across pages");
        // Equal scores: newest first, so paging is stable.
        assert!(page1.windows(2).all(|w| w[0].rank > w[1].rank || w[0].id > w[1].id));

        let everywhere =
            s.search_articles("harbour", SearchScope::All, None, 20, 0).await.expect("search");
        assert_eq!(
            everywhere.first().map(|h| h.id),
            Some(theirs),
            "operator search spans all feeds"
        );
        assert!(
            s.search_articles("harbour", SearchScope::Feeds(&[]), None, 20, 0)
                .await
                .expect("search")
                .is_empty()
        );

        let recent = s
            .search_articles("harbour", SearchScope::Feeds(&[a.feed]), Some(T0 + 5), 20, 0)
            .await
            .expect("search");
        let ids: Vec<i64> = recent.iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![mine[6], mine[5]], "--since keeps articles first seen from then on");
    }
}

#[tokio::test]
async fn hostile_query_text_is_just_words() {
    for a in archives().await {
        let a = a.await;
        let s = &a.store;
        let id = put(
            s,
            a.feed,
            "q",
            "NEAR and OR",
            "The word NEAR( appears with \"quotes\" and a * star.",
            T0,
        )
        .await;
        for q in ["NEAR(", "\"", "* OR", "title:near", "a AND", "\"near and\"", "ünïcödé ✓", ")"]
        {
            let hits = s.search_articles(q, SearchScope::Feeds(&[a.feed]), None, 5, 0).await;
            assert!(hits.is_ok(), "{q:?} gave {hits:?}");
        }
        let hits = s
            .search_articles("near", SearchScope::Feeds(&[a.feed]), None, 5, 0)
            .await
            .expect("search");
        assert_eq!(hits.first().map(|h| h.id), Some(id));
    }
}

#[tokio::test]
async fn a_communitys_search_follows_its_feed_list_history_included() {
    for a in archives().await {
        let a = a.await;
        let s = &a.store;
        let b = &a.backend;
        let ours = b.community("ours").await;
        let theirs = b.community("theirs").await;
        let search = |community| async move {
            let hits = s
                .search_articles("volcano", SearchScope::Community(community), None, 20, 0)
                .await
                .expect("search");
            let mut ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
            ids.sort();
            ids
        };
        // History stored before anyone followed the feed (another community's backfill).
        let old = put(s, a.feed, "old", "Volcano erupts", "Ash fell on the town.", T0).await;
        b.link(theirs, a.other_feed).await;
        let other = put(s, a.other_feed, "o", "Volcano quiet", "No ash today.", T0 + 1).await;
        assert_eq!(search(ours).await, Vec::<i64>::new(), "nothing followed, nothing found");
        assert_eq!(search(theirs).await, vec![other]);

        b.link(ours, a.feed).await;
        assert_eq!(search(ours).await, vec![old], "linking makes the feed's history searchable");
        let new = put(s, a.feed, "new", "Volcano calm", "Ash cleared.", T0 + 3).await;
        assert_eq!(search(ours).await, vec![old, new], "new articles carry the community's tag");

        b.link(theirs, a.feed).await;
        assert_eq!(search(theirs).await, vec![old, other, new], "one article, two communities");
        assert_eq!(search(ours).await, vec![old, new]);

        assert!(!b.unlink(ours, a.feed).await, "theirs still follows it");
        assert_eq!(search(ours).await, Vec::<i64>::new(), "unlinking hides the feed at once");
        assert_eq!(search(theirs).await, vec![old, other, new]);

        assert!(b.unlink(theirs, a.feed).await, "last follower deletes it");
        assert_eq!(search(theirs).await, vec![other]);
        let everywhere =
            s.search_articles("volcano", SearchScope::All, None, 20, 0).await.expect("search");
        assert_eq!(
            everywhere.len(),
            1,
            "a deleted feed's articles leave the index: {everywhere:?}"
        );
    }
}

/// On PostgreSQL the next article ids start at `id` (a jump into a later id bucket of
/// the search keys, as years of articles make); SQLite's ids stay contiguous.
async fn skip_ids_to(b: &Backend, id: i64) {
    if b.name == "postgres" {
        let pg = sqlx::PgPool::connect(&b.url).await.expect("connect");
        sqlx::query("SELECT setval(pg_get_serial_sequence('articles', 'id'), $1, false)")
            .bind(id)
            .execute(&pg)
            .await
            .expect("setval");
        pg.close().await;
    }
}

#[tokio::test]
async fn only_the_newest_thousand_matches_are_ranked_however_far_apart_their_ids() {
    for a in archives().await {
        let a = a.await;
        let s = &a.store;
        let b = &a.backend;
        let ours = b.community("ours").await;
        b.link(ours, a.feed).await;
        // The best match by far, but older than a thousand others.
        let titled =
            put(s, a.feed, "old", "Zeppelin airship", "A zeppelin airship flew.", T0).await;
        let mention = |i: usize| NewArticle {
            feed_id: a.feed,
            item_key: format!("m{i}"),
            url: Some(format!("https://a.example/m{i}")),
            title: Some(format!("Sky report {i}")),
            fetched_at: T0 + 10 + i as i64,
            summary: "Something flew.".into(),
            text: "Something flew. It was a zeppelin.".into(),
            text_source: "feed",
            ..NewArticle::default()
        };
        skip_ids_to(b, 20_000).await;
        let older: Vec<NewArticle> = (0..600).map(mention).collect();
        assert_eq!(s.insert_articles_bulk(&older).await.expect("bulk"), 600);
        skip_ids_to(b, 100_000).await;
        let newer: Vec<NewArticle> = (600..1000).map(mention).collect();
        assert_eq!(s.insert_articles_bulk(&newer).await.expect("bulk"), 400);
        let newest = put(s, a.feed, "new", "Landing news", "An airship landed.", T0 + 5000).await;

        let scope = SearchScope::Community(ours);
        let search = |q: &'static str, offset| async move {
            s.search_articles(q, scope, None, 10, offset).await.expect("search")
        };
        let first = search("zeppelin", 0).await;
        assert_eq!(first.len(), 10);
        assert!(first.iter().all(|h| h.id != titled), "the 1,001st newest match was ranked");
        assert!(first.windows(2).all(|w| w[0].id > w[1].id), "equal scores: newest first");
        assert_eq!(search("zeppelin", 995).await.len(), 5, "a thousand ranked, no more");
        assert!(search("zeppelin", 1000).await.is_empty());

        // A word found in the oldest and the newest ids only: every window is walked.
        let ids: Vec<i64> = search("airship", 0).await.iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![titled, newest], "title match first, both found");
        let since = s.search_articles("airship", scope, Some(T0 + 1), 10, 0).await.expect("search");
        assert_eq!(since.iter().map(|h| h.id).collect::<Vec<_>>(), vec![newest]);
        let two = s.search_articles("zeppelin airship", scope, None, 10, 0).await.expect("search");
        assert_eq!(two.first().map(|h| h.id), Some(titled), "both words, among 1,000 newer");
    }
}
