//! Ingest end to end: a real HTTP server on 127.0.0.1, a real SQLite file, herald's own
//! fetcher, parser, extractor and poller.

mod support;

use std::time::Duration;

use herald::clock::{Clock, ManualClock};
use herald::ingest::FeedOutcome;
use herald::localserver::Response;
use herald::store::SearchScope;
use support::{Site, T0, add, app, poll_one, rss, seed_page};

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
