//! Ingest end to end: a real HTTP server on 127.0.0.1, a real SQLite file, herald's own
//! fetcher, parser, extractor and poller.

use std::time::Duration;

use crate::support::{Site, T0, add, app, poll_one, rss, seed_page};
use herald::clock::{Clock, ManualClock};
use herald::ingest::FeedOutcome;
use herald::localserver::{Body, Response};
use herald::store::SearchScope;

const MIN: i64 = 60;

#[tokio::test]
async fn first_poll_backfills_then_new_items_get_page_text_and_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    let old = [("a", "Old news one", "http://example.invalid/1", "<p>First.</p>")];
    site.feed("/feed.xml", "application/rss+xml", &rss("Eurasia", &old));
    let id = add(&app, &site.url("/feed.xml")).await;

    match poll_one(&app, id).await {
        FeedOutcome::Updated { new_articles, backfilled } => {
            assert!(new_articles.is_empty(), "a new feed's items are not announced");
            assert_eq!(backfilled, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(site.hits("/1").is_empty(), "backfilled items do not fetch pages");

    site.page("/korea", &seed_page());
    let link = site.url("/korea");
    let items = [
        ("b", "Welcome Moves towards Peace and Security in Korea", link.as_str(), "<p>Teaser.</p>"),
        ("a", "Old news one", "http://example.invalid/1", "<p>First.</p>"),
    ];
    site.feed("/feed.xml", "application/rss+xml", &rss("Eurasia", &items));
    clock.advance(20 * MIN);
    let new = match poll_one(&app, id).await {
        FeedOutcome::Updated { new_articles, .. } => new_articles,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(new.len(), 1, "only the new item is new");
    let a = app.store.article(new[0]).await.expect("read").expect("stored");
    assert_eq!(a.text_source, "page", "the page's text replaced the feed's teaser");
    assert!(a.text.contains("The Korean war never ended."), "{}", a.text);
    assert!(!a.text.contains("Other story one"), "related links are not article text");
    assert!(!a.summary.is_empty());
    assert!(a.summary.len() <= 700, "summary fits a chat message: {}", a.summary.len());
    assert_eq!(a.image_url.as_deref(), Some(site.url("/images/dmz.jpg").as_str()));
    assert_eq!(a.lang.as_deref(), Some("en"));

    let hits = app
        .store
        .search_articles("korea ceasefire", SearchScope::All, None, 10, 0)
        .await
        .expect("search");
    assert_eq!(hits.first().map(|h| h.id), Some(a.id));
    assert!(
        hits[0].snippet.to_lowercase().contains("ceasefire"),
        "snippet shows the match: {}",
        hits[0].snippet
    );

    let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
    assert_eq!(feed.title.as_deref(), Some("Eurasia"));
    assert!(feed.etag.is_some());
    let wait = feed.next_poll_at - clock.now();
    assert!((810..=990).contains(&wait), "next poll in 15m ±10%: {wait}s");
}

#[tokio::test]
async fn unchanged_feeds_cost_a_304() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    site.feed("/f", "application/rss+xml", &rss("F", &[("1", "One", "http://e.invalid/1", "x")]));
    let id = add(&app, &site.url("/f")).await;
    assert!(matches!(poll_one(&app, id).await, FeedOutcome::Updated { .. }));
    assert_eq!(poll_one(&app, id).await, FeedOutcome::NotModified);
    let hits = site.hits("/f");
    assert_eq!(hits.len(), 2);
    assert!(hits[1].header("if-none-match").is_some(), "second request is conditional");
    assert!(hits[1].header("user-agent").is_some_and(|ua| ua.starts_with("herald/")));
}

#[tokio::test]
async fn retry_after_and_max_age_set_the_next_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    site.route("/limited", |_| Response::status(429).header("Retry-After", "3600"));
    let id = add(&app, &site.url("/limited")).await;
    match poll_one(&app, id).await {
        FeedOutcome::Failed { kind, failures, disabled, error, .. } => {
            assert_eq!(kind, "http-status");
            assert_eq!(failures, 1);
            assert!(!disabled);
            assert!(error.contains("429"), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
    assert!(feed.next_poll_at >= T0 + 3600, "Retry-After honoured");

    let body = rss("F", &[("1", "One", "http://e.invalid/1", "x")]);
    site.route("/cached", move |_| {
        Response::new(200, "application/rss+xml", body.clone())
            .header("Cache-Control", "max-age=7200")
    });
    let id = add(&app, &site.url("/cached")).await;
    poll_one(&app, id).await;
    let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
    assert!(feed.next_poll_at - T0 >= 6480, "max-age stretches the interval");
}

#[tokio::test]
async fn failing_feeds_back_off_then_disable_and_can_resume() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    site.route("/broken", |_| Response::new(500, "text/plain", "oops"));
    let id = add(&app, &site.url("/broken")).await;
    let mut waits = Vec::new();
    for n in 1..=10 {
        let due = app.store.claim_due_feeds(i64::MAX / 2, 0, 10).await.expect("claim");
        assert!(due.iter().any(|f| f.id == id) || n > 1);
        let outcome = poll_one(&app, id).await;
        let FeedOutcome::Failed { failures, disabled, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(failures, n);
        assert_eq!(disabled, n == 10);
        let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
        waits.push(feed.next_poll_at - clock.now());
    }
    assert!(waits[3] > waits[0] * 4, "backoff grows: {waits:?}");
    let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
    let reason = feed.disabled_reason.clone().expect("disabled");
    assert!(reason.contains("10 consecutive failures") && reason.contains("500"), "{reason}");
    assert_eq!(feed.last_error_kind.as_deref(), Some("http-status"));
    assert!(app.store.claim_due_feeds(i64::MAX / 2, 0, 10).await.expect("claim").is_empty());

    site.feed("/broken", "application/rss+xml", &rss("Back", &[]));
    assert!(app.store.resume_feed(id, clock.now()).await.expect("resume"));
    let due = app.store.claim_due_feeds(clock.now(), 600, 10).await.expect("claim");
    assert_eq!(due.len(), 1);
    assert!(matches!(
        app.poller.poll_feed(&due[0]).await.expect("ok"),
        FeedOutcome::Updated { .. }
    ));
    let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
    assert_eq!((feed.failures, feed.disabled_reason), (0, None));
}

#[tokio::test]
async fn duplicate_guids_and_replays_store_each_item_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    let items = [
        ("same", "First copy", "http://e.invalid/1", "one"),
        ("same", "Second copy", "http://e.invalid/2", "two"),
        ("other", "Other", "http://e.invalid/3", "three"),
    ];
    // No ETag: every poll is a full 200, so dedup must come from item keys.
    let body = rss("Dups", &items);
    site.route("/dups", move |_| Response::new(200, "text/xml", body.clone()));
    let id = add(&app, &site.url("/dups")).await;
    for _ in 0..3 {
        poll_one(&app, id).await;
    }
    assert_eq!(app.store.count_articles().await.expect("count"), 2);
}

#[tokio::test]
async fn restart_stores_nothing_twice_and_marks_nothing_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let items = [("1", "One", "http://e.invalid/1", "x"), ("2", "Two", "http://e.invalid/2", "y")];
    let body = rss("R", &items);
    site.route("/r", move |_| Response::new(200, "application/rss+xml", body.clone()));
    let (articles, feed_id) = {
        let app = app(dir.path(), &clock, |_| {}).await;
        let id = add(&app, &site.url("/r")).await;
        let report = app.poller.poll_due(10).await.expect("poll");
        assert_eq!(report.polled, 1);
        let n = app.store.count_articles().await.expect("count");
        app.store.close().await;
        (n, id)
    };
    assert_eq!(articles, 2);

    clock.advance(3600);
    let app = app(dir.path(), &clock, |_| {}).await;
    let report = app.poller.poll_due(10).await.expect("poll");
    assert_eq!(report.polled, 1, "the feed was due again after the restart");
    assert!(report.new_articles.is_empty(), "nothing re-marked new: {report:?}");
    assert_eq!(app.store.count_articles().await.expect("count"), 2);
    let feed = app.store.feed_by_id(feed_id).await.expect("read").expect("exists");
    assert!(feed.primed);
}

#[tokio::test]
async fn adding_a_site_discovers_its_feed_and_refuses_non_feeds() {
    use herald::ingest::add::{AddFeedError, AddRequest, IntervalLimits, add_feed};
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    site.page("/", "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/rss\"></head><body>Home</body></html>");
    site.feed(
        "/rss",
        "application/rss+xml",
        &rss("Site", &[("1", "One", "http://e.invalid/1", "x")]),
    );
    site.page("/plain", "<html><body>No feeds here</body></html>");
    let limits = IntervalLimits { default: Duration::from_secs(900), min: Duration::from_secs(60) };
    let req = |input: &'static str| AddRequest { community: 1, input, interval: None, check: true };
    let home = site.url("/");
    let plain = site.url("/plain");
    let rss_url = site.url("/rss");

    let added =
        add_feed(&app.store, &app.fetcher, AddRequest { input: &home, ..req("") }, limits, T0)
            .await
            .expect("discovered");
    assert_eq!(added.feed.url, site.url("/rss"));
    assert_eq!(added.items, Some(1));
    assert!(added.discovered_from.is_some());

    let err =
        add_feed(&app.store, &app.fetcher, AddRequest { input: &plain, ..req("") }, limits, T0)
            .await
            .expect_err("not a feed");
    assert!(matches!(err, AddFeedError::Unusable { .. }), "{err}");
    let err = add_feed(&app.store, &app.fetcher, req("ftp://x/y"), limits, T0)
        .await
        .expect_err("bad scheme");
    assert!(matches!(err, AddFeedError::BadUrl(_)), "{err}");
    let too_often =
        AddRequest { input: &rss_url, interval: Some(Duration::from_secs(10)), ..req("") };
    let err =
        add_feed(&app.store, &app.fetcher, too_often, limits, T0).await.expect_err("too often");
    assert!(matches!(err, AddFeedError::IntervalTooShort { .. }), "{err}");
    assert_eq!(app.store.count_feeds().await.expect("count"), 1);
}

#[tokio::test]
async fn pages_in_legacy_charsets_are_read_in_their_own_encoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    site.feed("/feed.xml", "application/rss+xml", &rss("Alpen", &[]));
    let id = add(&app, &site.url("/feed.xml")).await;
    poll_one(&app, id).await;

    // A windows-1252 page that says so only in its <meta>, served without a charset.
    let paragraph = "Die Stadtverwaltung von Z\u{fc}rich hat am Montag neue Pl\u{e4}ne f\u{fc}r \
                     den \u{f6}ffentlichen Verkehr vorgestellt, die ab dem kommenden Jahr gelten.";
    let html = format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">\
         <title>Z\u{fc}rich plant</title></head><body><article><h1>Z\u{fc}rich plant</h1>\
         <p>{paragraph}</p><p>{paragraph} \u{201c}Wir sind bereit\u{201d}, sagte sie.</p>\
         <p>{paragraph}</p></article></body></html>"
    );
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(&html);
    assert!(!lossy);
    let bytes = bytes.into_owned();
    site.route("/zurich", move |_| Response::new(200, "text/html", bytes.clone()));
    let link = site.url("/zurich");
    site.feed(
        "/feed.xml",
        "application/rss+xml",
        &rss("Alpen", &[("z", "Zürich plant", link.as_str(), "<p>Kurz.</p>")]),
    );
    clock.advance(20 * MIN);
    let new = match poll_one(&app, id).await {
        FeedOutcome::Updated { new_articles, .. } => new_articles,
        other => panic!("unexpected {other:?}"),
    };
    let a = app.store.article(new[0]).await.expect("read").expect("stored");
    assert_eq!(a.text_source, "page");
    assert!(a.text.contains("Stadtverwaltung von Zürich"), "{}", a.text);
    assert!(a.text.contains("\u{201c}Wir sind bereit\u{201d}"), "{}", a.text);
    assert!(!a.text.contains('\u{fffd}') && !a.summary.contains('\u{fffd}'), "{}", a.text);
}

/// A feed's history is stored searchable but without a summary (nobody is sent it);
/// showing an item (`article`, `latest`) makes its summary then. News still gets its
/// summary when it is stored.
#[tokio::test]
async fn history_is_stored_without_a_summary_and_summarized_when_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    let story = "<p>The river council met on Tuesday to discuss the new bridge plans for the \
                 city centre. Residents asked the council to publish the full cost before any \
                 vote takes place. The mayor said the figures would be ready by March.</p>";
    let old = [
        ("a", "Bridge plans", "http://example.invalid/a", story),
        ("b", "Council vote", "http://example.invalid/b", story),
    ];
    site.feed("/feed.xml", "application/rss+xml", &rss("City", &old));
    let id = add(&app, &site.url("/feed.xml")).await;
    assert!(matches!(poll_one(&app, id).await, FeedOutcome::Updated { backfilled: 2, .. }));

    let raw = stored_summaries(&app, id).await;
    assert_eq!(raw.len(), 2);
    assert!(raw.iter().all(|(_, s)| s.is_empty()), "history is stored without a summary: {raw:?}");
    let hits =
        app.store.search_articles("bridge", SearchScope::All, None, 10, 0).await.expect("search");
    assert_eq!(hits.len(), 2, "history is searchable");

    let shown = app.store.article(raw[0].0).await.expect("read").expect("stored");
    assert!(shown.summary.starts_with("The river council met on Tuesday"), "{}", shown.summary);
    let latest = app.store.latest_articles(&[id], 10).await.expect("latest");
    assert_eq!(latest.len(), 2);
    assert!(latest.iter().all(|a| a.summary.contains("publish the full cost")), "{latest:?}");
    assert!(
        stored_summaries(&app, id).await.iter().all(|(_, s)| s.is_empty()),
        "showing is a read"
    );

    let news = [("c", "Bridge vote delayed", "http://example.invalid/c", story), old[0], old[1]];
    site.feed("/feed.xml", "application/rss+xml", &rss("City", &news));
    clock.advance(20 * MIN);
    let FeedOutcome::Updated { new_articles, .. } = poll_one(&app, id).await else {
        panic!("the news poll failed")
    };
    let raw = stored_summaries(&app, id).await;
    let (_, summary) = raw.iter().find(|(a, _)| *a == new_articles[0]).expect("news stored");
    assert!(summary.starts_with("The river council met"), "news is summarized when stored");
}

/// One poll of a feed is one write transaction, however many items it stores: the
/// articles, their index entries and the feed's record commit together. Counted in the
/// database's write-ahead log, where each commit ends with a commit frame.
#[tokio::test]
async fn one_poll_is_one_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    let items: Vec<(String, String)> =
        (0..12).map(|i| (format!("g{i}"), format!("Story number {i}"))).collect();
    let feed_of = |n: usize| {
        let it: Vec<(&str, &str, &str, &str)> = items[..n]
            .iter()
            .map(|(g, t)| (g.as_str(), t.as_str(), "", "<p>Some text of the story.</p>"))
            .collect();
        rss("Many", &it)
    };
    site.feed("/feed.xml", "application/rss+xml", &feed_of(9));
    let id = add(&app, &site.url("/feed.xml")).await;
    let wal = format!("{}-wal", app.config.database_url.trim_start_matches("sqlite://"));

    let before = wal_commits(&wal);
    assert!(matches!(poll_one(&app, id).await, FeedOutcome::Updated { backfilled: 9, .. }));
    assert_eq!(wal_commits(&wal) - before, 1, "a first poll of 9 items is one commit");

    site.feed("/feed.xml", "application/rss+xml", &feed_of(12));
    clock.advance(20 * MIN);
    let before = wal_commits(&wal);
    let FeedOutcome::Updated { new_articles, .. } = poll_one(&app, id).await else {
        panic!("the news poll failed")
    };
    assert_eq!(new_articles.len(), 3);
    assert_eq!(wal_commits(&wal) - before, 1, "a poll with 3 new items is one commit");
}

/// An idle round (every feed answers 304) writes its polls' records in batches, not
/// one commit per feed, and claims its feeds in batches too; each feed's record is still
/// exact.
#[tokio::test]
async fn an_idle_round_writes_in_batches() {
    const FEEDS: usize = 40;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    // Every feed is on one test host: let all of them be fetched at once, so their 304s
    // arrive together as they would from many hosts (two per host would pace the records
    // two by two).
    let app = app(dir.path(), &clock, |c| c.fetch.per_host_concurrency = FEEDS).await;
    let mut ids = Vec::new();
    for i in 0..FEEDS {
        let path = format!("/f{i}");
        let item = format!("item {i}");
        site.feed(&path, "application/rss+xml", &rss("F", &[("1", &item, "", "<p>x</p>")]));
        ids.push(add(&app, &site.url(&path)).await);
    }
    let first = app.poller.poll_due(256).await.expect("first round");
    assert_eq!(first.updated, FEEDS);
    clock.advance(20 * MIN);
    let wal = format!("{}-wal", app.config.database_url.trim_start_matches("sqlite://"));
    let before = wal_commits(&wal);
    let idle = app.poller.poll_due(256).await.expect("idle round");
    assert_eq!((idle.polled, idle.not_modified), (FEEDS, FEEDS));
    let commits = wal_commits(&wal) - before;
    // One by one it would be 41 (a claim and 40 records); batches are timing-dependent, so
    // the bound leaves room.
    assert!(commits <= FEEDS / 2, "{commits} commits for {FEEDS} unchanged feeds");
    for id in ids {
        let feed = app.store.feed_by_id(id).await.expect("read").expect("exists");
        assert_eq!(feed.last_polled_at, Some(clock.now()), "feed {id} recorded");
        assert_eq!(feed.last_success_at, Some(clock.now()));
        let wait = feed.next_poll_at - clock.now();
        assert!((810..=990).contains(&wait), "feed {id}: next poll in 15m ±10%: {wait}s");
    }
}

/// A poll cut short by the whole-poll limit keeps what it had finished: the items built
/// before the one that held it up are stored, in order, and the next poll stores the
/// rest after them.
#[tokio::test]
async fn a_poll_over_its_limit_keeps_the_articles_it_finished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |_| {}).await;
    let poller = herald::ingest::Poller::new(
        app.store.clone(),
        app.fetcher.clone(),
        app.config.poll.clone(),
        app.clock.clone(),
        std::sync::Arc::new(herald::summarize::Extractive::default()),
    )
    .with_poll_limit(Duration::from_secs(3));
    let old = ("old", "Old", "http://example.invalid/old", "<p>Before.</p>");
    site.feed("/feed.xml", "application/rss+xml", &rss("Slow", &[old]));
    let id = add(&app, &site.url("/feed.xml")).await;
    let feed = || async { app.store.feed_by_id(id).await.expect("read").expect("feed") };
    assert!(matches!(poller.poll_feed(&feed().await).await, Ok(FeedOutcome::Updated { .. })));

    site.page("/p1", &seed_page());
    site.page("/p2", &seed_page());
    site.page("/p4", &seed_page());
    site.route("/p3", |_| Response {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: Body::Slow { chunk: b"<".to_vec(), every: Duration::from_secs(1), count: 600 },
    });
    let links: Vec<String> = (1..=4).map(|i| site.url(&format!("/p{i}"))).collect();
    // Newest first, as feeds list them: taken p1, p2, p3, p4.
    let items = [
        ("n4", "Fourth", links[3].as_str(), "<p>Four.</p>"),
        ("n3", "Third", links[2].as_str(), "<p>Three.</p>"),
        ("n2", "Second", links[1].as_str(), "<p>Two.</p>"),
        ("n1", "First", links[0].as_str(), "<p>One.</p>"),
        old,
    ];
    site.feed("/feed.xml", "application/rss+xml", &rss("Slow", &items));
    clock.advance(20 * MIN);
    let started = std::time::Instant::now();
    let outcome = poller.poll_feed(&feed().await).await.expect("store works");
    assert!(started.elapsed() < Duration::from_secs(10), "the limit stopped the poll");
    let FeedOutcome::Failed { kind, new_articles: first, .. } = outcome else {
        panic!("the poll was not cut short: {outcome:?}")
    };
    assert_eq!(kind, "timeout");
    // At least the two items before the slow page are kept. How far the slow page got
    // before the limit depends on the machine's load (it may be cut and keep the feed's
    // text first), so the kept part is checked as a prefix, in order.
    assert!(first.len() >= 2, "the items finished before the slow page are kept: {first:?}");
    let titles = |ids: Vec<i64>| async {
        let mut out = Vec::new();
        for a in ids {
            let a = app.store.article(a).await.expect("read").expect("stored");
            out.push(a.title.unwrap_or_default());
        }
        out
    };
    let all = ["First", "Second", "Third", "Fourth"];
    assert_eq!(titles(first.clone()).await, all[..first.len()], "kept in order");
    assert_eq!(feed().await.failures, 1, "the cut is recorded as the feed's failure");

    site.page("/p3", &seed_page());
    clock.advance(20 * MIN);
    let next = poller.poll_feed(&feed().await).await.expect("store works");
    let rest = match next {
        FeedOutcome::Updated { new_articles, .. } => new_articles,
        FeedOutcome::Failed { .. } => panic!("the next poll failed: {next:?}"),
        _ => Vec::new(),
    };
    assert_eq!(titles(rest.clone()).await, all[first.len()..], "the rest, nothing twice");
    assert!(rest.iter().all(|r| first.iter().all(|f| r > f)), "posts keep their order");
    assert_eq!(feed().await.failures, 0);
}

/// `(id, summary)` of a feed's articles as stored, oldest id first.
async fn stored_summaries(app: &herald::app::App, feed: i64) -> Vec<(i64, String)> {
    let pool = sqlx::SqlitePool::connect(&app.config.database_url).await.expect("open");
    let rows = sqlx::query_as("SELECT id, summary FROM articles WHERE feed_id = ? ORDER BY id")
        .bind(feed)
        .fetch_all(&pool)
        .await
        .expect("read");
    pool.close().await;
    rows
}

/// Commit frames in a SQLite write-ahead log (frames of its current generation only).
fn wal_commits(path: &str) -> usize {
    let Ok(wal) = std::fs::read(path) else { return 0 };
    if wal.len() < 32 {
        return 0;
    }
    let be = |at: usize| u32::from_be_bytes([wal[at], wal[at + 1], wal[at + 2], wal[at + 3]]);
    let frame = 24 + be(8) as usize;
    let salt = &wal[16..24];
    wal[32..]
        .chunks_exact(frame)
        .filter(|f| &f[8..16] == salt)
        .filter(|f| u32::from_be_bytes([f[4], f[5], f[6], f[7]]) != 0)
        .count()
}
