//! The store's feeds, articles and operator questions, the same tests on each backend
//! (`support::backends`: SQLite on disk and a real PostgreSQL database).

use std::collections::BTreeSet;
use std::time::Duration;

use herald::store::{FeedStatus, NewArticle, PollSuccess, SearchScope, Store};

use crate::support::backends::{self, article};

const T0: i64 = 1_780_000_000;

#[tokio::test]
async fn feeds_are_added_once_paused_resumed_and_removed() {
    for b in backends::each().await {
        let s = &b.store;
        let (feed, new) = s.add_feed("https://a.example/feed", 900, T0).await.expect("add");
        assert!(new);
        let (again, new) = s.add_feed("https://a.example/feed", 60, T0 + 5).await.expect("add");
        assert!(!new, "one row per URL");
        assert_eq!((again.id, again.poll_interval_s), (feed.id, 900), "the first add stays");
        assert_eq!(feed.status(), FeedStatus::Ok);
        assert!(!feed.primed);
        assert_eq!(feed.next_poll_at, T0);
        let (other, _) = s.add_feed("https://b.example/feed", 900, T0).await.expect("add");
        assert_eq!(s.count_feeds().await.expect("count"), 2);
        let ids: Vec<i64> = s.list_feeds().await.expect("list").iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![feed.id, other.id]);
        let by_url = s.feed_by_url("https://b.example/feed").await.expect("by url");
        assert_eq!(by_url.map(|f| f.id), Some(other.id));
        assert!(s.feed_by_url("https://c.example/").await.expect("by url").is_none());

        assert!(s.pause_feed(feed.id).await.expect("pause"));
        let paused = s.feed_by_id(feed.id).await.expect("by id").expect("feed");
        assert_eq!(paused.status(), FeedStatus::Paused);
        assert_eq!(s.next_due_at().await.expect("due"), Some(T0), "the other feed only");
        assert!(s.resume_feed(feed.id, T0 + 100).await.expect("resume"));
        let resumed = s.feed_by_id(feed.id).await.expect("by id").expect("feed");
        assert_eq!((resumed.status(), resumed.next_poll_at), (FeedStatus::Ok, T0 + 100));
        s.set_poll_interval(feed.id, 3600).await.expect("interval");
        assert_eq!(s.feed_by_id(feed.id).await.expect("id").expect("f").poll_interval_s, 3600);
        assert_eq!(s.reschedule_all(T0 + 7).await.expect("reschedule"), 2);
        assert_eq!(s.next_due_at().await.expect("due"), Some(T0 + 7));

        s.insert_article(&article(feed.id, "x", T0)).await.expect("insert");
        assert!(s.remove_feed(feed.id).await.expect("remove"));
        assert!(!s.remove_feed(feed.id).await.expect("remove"), "already gone");
        assert!(!s.pause_feed(feed.id).await.expect("pause"), "nothing to pause");
        assert_eq!(s.count_articles().await.expect("count"), 0, "its articles went with it");
    }
}

#[tokio::test]
async fn polls_are_recorded_and_failures_disable_the_feed_at_the_limit() {
    for b in backends::each().await {
        let s = &b.store;
        let (feed, _) = s.add_feed("https://a.example/feed", 900, T0).await.expect("add");
        let learned = PollSuccess {
            title: Some("A feed".into()),
            site_url: Some("https://a.example/".into()),
            etag: Some("\"v1\"".into()),
            last_modified: None,
        };
        s.record_poll_success(feed.id, T0 + 1, T0 + 901, Some(&learned)).await.expect("ok");
        let f = s.feed_by_id(feed.id).await.expect("id").expect("feed");
        assert!(f.primed, "a 200 primes the feed");
        assert_eq!((f.title.as_deref(), f.etag.as_deref()), (Some("A feed"), Some("\"v1\"")));
        assert_eq!(
            (f.last_polled_at, f.last_success_at, f.next_poll_at),
            (Some(T0 + 1), Some(T0 + 1), T0 + 901)
        );

        for (n, want) in [(1, 1), (2, 2)] {
            let failures = s
                .record_poll_failure(feed.id, T0 + n, T0 + n + 60, "boom", "http", 3)
                .await
                .expect("failure");
            assert_eq!(failures, want);
        }
        let f = s.feed_by_id(feed.id).await.expect("id").expect("feed");
        assert_eq!(f.status(), FeedStatus::Failing { failures: 2 });
        assert_eq!(f.last_error_kind.as_deref(), Some("http"));
        // A 304 learns nothing: the title stays, the failures are over.
        s.record_poll_success(feed.id, T0 + 5, T0 + 905, None).await.expect("ok");
        let f = s.feed_by_id(feed.id).await.expect("id").expect("feed");
        assert_eq!((f.failures, f.title.as_deref(), f.last_error), (0, Some("A feed"), None));

        for _ in 0..3 {
            s.record_poll_failure(feed.id, T0 + 9, T0 + 99, "gone", "http", 3)
                .await
                .expect("failure");
        }
        let f = s.feed_by_id(feed.id).await.expect("id").expect("feed");
        assert_eq!(
            f.status(),
            FeedStatus::Disabled { reason: "disabled after 3 consecutive failures: gone".into() }
        );
        assert_eq!(s.next_due_at().await.expect("due"), None, "a disabled feed is not due");
    }
}

/// `claim_due_feeds` on one handle, and from several handles at once (each its own
/// pools, as separate processes have): every due feed is taken exactly once.
#[tokio::test]
async fn claims_lease_due_feeds_and_concurrent_claimers_never_share_one() {
    for b in backends::each().await {
        let s = &b.store;
        let community = b.community("g").await;
        let mut followed = Vec::new();
        for i in 0..40 {
            let (f, _) = s.add_feed(&format!("https://f{i}.example/"), 900, T0).await.expect("add");
            b.link(community, f.id).await;
            followed.push(f.id);
        }
        let (unfollowed, _) = s.add_feed("https://nobody.example/", 900, T0).await.expect("add");
        s.pause_feed(followed[0]).await.expect("pause");

        let first = s.claim_due_feeds(T0, 300, 10).await.expect("claim");
        assert_eq!(first.len(), 10);
        assert!(first.windows(2).all(|w| w[0].id < w[1].id), "in id order");
        assert!(first.iter().all(|f| f.next_poll_at == T0 + 300), "leased: {first:?}");
        assert!(!first.iter().any(|f| f.id == followed[0] || f.id == unfollowed.id));

        // Four more handles on the same database claim the rest side by side, in rounds
        // (a race that a round misses, another catches).
        let mut handles = Vec::new();
        for _ in 0..4 {
            handles.push(Store::open(&b.url).await.expect("second handle"));
        }
        let want: BTreeSet<i64> = followed[1..].iter().copied().collect();
        let mut taken: Vec<i64> = first.iter().map(|f| f.id).collect();
        for round in 0..6 {
            let now = T0 + round * 1000;
            if round > 0 {
                s.reschedule_all(now).await.expect("all due again");
                taken.clear();
            }
            let claims = handles.iter().cycle().take(16).map(|h| h.claim_due_feeds(now, 300, 3));
            for claim in futures_util::future::join_all(claims).await {
                taken.extend(claim.expect("claim").iter().map(|f| f.id));
            }
            let distinct: BTreeSet<i64> = taken.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                taken.len(),
                "round {round}: a feed claimed twice: {taken:?}"
            );
            assert_eq!(distinct, want, "round {round}: every due, followed, running feed once");
        }

        let last = T0 + 5000;
        assert!(s.claim_due_feeds(last + 299, 300, 100).await.expect("claim").is_empty());
        let again = s.claim_due_feeds(last + 300, 300, 100).await.expect("claim");
        assert_eq!(again.len(), 39, "a lease that ran out makes the feed due again");
        for h in handles {
            h.close().await;
        }
    }
}

#[tokio::test]
async fn articles_are_stored_once_and_read_newest_first() {
    for b in backends::each().await {
        let s = &b.store;
        let (feed, _) = s.add_feed("https://a.example/feed", 900, T0).await.expect("add");
        let (other, _) = s.add_feed("https://b.example/feed", 900, T0).await.expect("add");
        let first = s.insert_article(&article(feed.id, "a", T0)).await.expect("insert");
        assert!(first.is_some());
        assert_eq!(s.insert_article(&article(feed.id, "a", T0 + 1)).await.expect("again"), None);
        assert!(s.insert_article(&article(other.id, "a", T0)).await.expect("other").is_some());
        let mut dated = article(feed.id, "b", T0 + 10);
        dated.published_at = Some(T0 - 1000);
        dated.backfill = true;
        s.insert_article(&dated).await.expect("insert");
        let bulk: Vec<NewArticle> =
            ["a", "c", "d", "c"].iter().map(|k| article(feed.id, k, T0 + 20)).collect();
        assert_eq!(s.insert_articles_bulk(&bulk).await.expect("bulk"), 2, "c and d are new");
        assert_eq!(s.count_articles().await.expect("count"), 5);

        let keys: Vec<String> = ["a", "b", "zz", "it's"].iter().map(|k| k.to_string()).collect();
        let known = s.known_item_keys(feed.id, &keys).await.expect("known");
        assert_eq!(known, ["a", "b"].iter().map(|k| k.to_string()).collect());
        assert!(s.known_item_keys(feed.id, &[]).await.expect("known").is_empty());

        let order = item_keys(s, feed.id).await;
        assert_eq!(order, ["d", "c", "a", "b"], "newest first; a publication date counts");
        let latest = s.latest_articles(&[feed.id, other.id], 2).await.expect("latest");
        assert_eq!(latest.len(), 2);
        assert!(s.latest_articles(&[], 5).await.expect("latest").is_empty());

        let mut history = article(feed.id, "h", T0 + 30);
        history.summary = String::new();
        history.text = "The harbour reopened on Monday after the storm. Ferries resumed at \
                        noon. Traders said business would recover within the week."
            .into();
        let id = s.insert_article(&history).await.expect("insert").expect("new");
        let shown = s.article(id).await.expect("article").expect("found");
        assert!(!shown.summary.is_empty(), "a history item gets a summary when shown");
        assert!(!shown.backfill && shown.text_source == "feed");
        assert!(s.article(id + 1000).await.expect("article").is_none());
    }
}

/// A feed's stored item keys, newest first.
async fn item_keys(s: &Store, feed: i64) -> Vec<String> {
    let articles = s.articles_of_feed(feed, 10).await.expect("list");
    articles.into_iter().map(|a| a.item_key).collect()
}

#[tokio::test]
async fn retention_deletes_old_and_crowded_articles() {
    for b in backends::each().await {
        let s = &b.store;
        let (feed, _) = s.add_feed("https://a.example/feed", 900, T0).await.expect("add");
        let (other, _) = s.add_feed("https://b.example/feed", 900, T0).await.expect("add");
        for i in 0..6 {
            s.insert_article(&article(feed.id, &format!("a{i}"), T0 + i)).await.expect("insert");
        }
        s.insert_article(&article(other.id, "old", T0 - 10)).await.expect("insert");
        assert_eq!(s.prune_articles(Some(T0), None).await.expect("prune"), 1, "older than T0");
        assert_eq!(s.prune_articles(None, Some(4)).await.expect("prune"), 2, "beyond 4 a feed");
        let left = item_keys(s, feed.id).await;
        assert_eq!(left, ["a5", "a4", "a3", "a2"]);
        assert_eq!(s.prune_articles(Some(T0), Some(4)).await.expect("prune"), 0);
        s.check_search_index().await.expect("the search index matches the articles");
    }
}

#[tokio::test]
async fn the_operator_sees_feeds_by_state_and_a_writable_database() {
    for b in backends::each().await {
        let s = &b.store;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                s.add_feed(&format!("https://f{i}.example/"), 900, T0).await.expect("add").0.id,
            );
        }
        s.record_poll_failure(ids[1], T0 + 3, T0 + 60, "boom", "http", 5).await.expect("fail");
        s.pause_feed(ids[2]).await.expect("pause");
        s.record_poll_failure(ids[3], T0 + 4, T0 + 60, "gone", "http", 1).await.expect("fail");
        s.insert_article(&article(ids[0], "a", T0)).await.expect("insert");
        let snap = s.ops_snapshot(T0 + 10).await.expect("snapshot");
        assert_eq!(
            (snap.feeds_ok, snap.feeds_failing, snap.feeds_paused, snap.feeds_disabled),
            (2, 1, 1, 1)
        );
        assert_eq!((snap.articles, snap.last_poll_at), (1, Some(T0 + 4)));
        assert!(snap.archive_bytes > 0);
        assert_eq!((snap.owed_posts, snap.owed_digests, snap.oldest_owed_age_s), (0, 0, 0));
        s.probe_writable(Duration::from_secs(2)).await.expect("writable");
        assert!(s.warm_search_index().await.expect("warm") >= 0);
    }
}

/// What herald does not do on PostgreSQL says so, and leaves the database alone.
#[tokio::test]
async fn backups_on_postgres_refuse_clearly() {
    for b in backends::each().await.filter(|b| b.name == "postgres") {
        let s = &b.store;
        assert_eq!(s.backend(), "postgres");
        let e = s.backup_into(std::path::Path::new("/tmp/x.db")).await.expect_err("no backup");
        assert!(e.to_string().contains("pg_dump"), "{e}");
        assert_eq!(s.count_feeds().await.expect("count"), 0);
    }
}

/// `herald db copy` as an operator runs it: SQLite into PostgreSQL, twice (the second
/// run copies nothing and still verifies), then the copy searched and written to.
#[tokio::test]
async fn db_copy_moves_the_installation_once_and_verifies_the_counts() {
    let Some(cluster) = crate::support::postgres::shared() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let from = format!("sqlite://{}/herald.db", dir.path().display());
    let source = Store::open(&from).await.expect("open SQLite");
    let mut feeds = Vec::new();
    for i in 0..3 {
        feeds.push(source.add_feed(&format!("https://f{i}.example/"), 900, T0).await.expect("add"));
    }
    source.pause_feed(feeds[2].0.id).await.expect("pause");
    let community = source.ensure_community("chat", "g", Some("G"), T0).await.expect("community");
    source.link_feed(community, feeds[1].0.id, None, T0).await.expect("link");
    let articles: Vec<NewArticle> =
        (0..2500).map(|i| article(feeds[i % 3].0.id, &format!("k{i}"), T0 + i as i64)).collect();
    source.insert_articles_bulk(&articles).await.expect("articles");
    let mut volcano = article(feeds[1].0.id, "v", T0 + 9999);
    volcano.title = Some("Volcano erupts".into());
    let volcano_id = source.insert_article(&volcano).await.expect("insert").expect("new");
    // A channel with a subscription and its options, a post owed, one sent, a digest
    // window, a console post: the rest of an installation.
    let ch = source.ensure_channel(community, "chat", "c1", Some("news"), T0).await.expect("ch");
    let options = herald::store::OptionsChange {
        style: Some("compact".into()),
        notify: Some(true),
        thread: Some(true),
        ..Default::default()
    };
    let keep = ["volcano".to_string()];
    source
        .subscribe_with(ch.id, feeds[1].0.id, "instant", &keep, &[], &options, Some("ann"), T0)
        .await
        .expect("subscribe");
    for key in ["owed", "sent"] {
        let a = article(feeds[1].0.id, key, T0 + 20_000);
        source.insert_article_with_deliveries(&a, &[ch.id], T0).await.expect("enqueue");
    }
    let jobs = source.claim_due_deliveries(T0, 60, 10).await.expect("claim");
    let sent = jobs.iter().find(|j| j.title.as_deref() == Some("Story sent")).expect("sent one");
    source.mark_delivery_sent(sent.id, T0, Some("m1")).await.expect("sent");
    source.record_console_post("k1", "console", "a post", T0).await.expect("console post");
    let installation = source.installation_id().await.expect("installation");
    source.close().await;
    let to = cluster.fresh_database().await;

    let copy = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["db", "copy", "--from", &from, "--to", &to])
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .output()
            .expect("run herald");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), text, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, out, err) = copy();
    assert_eq!(code, Some(0), "{out}{err}");
    // The console's community is in every new database already.
    assert!(out.contains("copied 3 feeds, 1 communities, 1 links and 2503 articles"), "{out}");
    assert!(
        out.contains("feeds 3 / 3, communities 2 / 2, links 1 / 1, articles 2503 / 2503"),
        "{out}"
    );
    for line in [
        "channels: copied 1, source / target 1 / 1",
        "subscriptions: copied 1,",
        "deliveries: copied 2, source / target 2 / 2",
        "console_posts: copied 1,",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    let (code, out, err) = copy();
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("copied 0 feeds, 0 communities, 0 links and 0 articles"), "{out}");
    assert!(out.contains("deliveries: copied 0, source / target 2 / 2"), "{out}");

    let target = Store::open(&to).await.expect("open the copy");
    let copied = target.feed_by_id(feeds[2].0.id).await.expect("feed").expect("same id");
    assert_eq!((copied.url.as_str(), copied.status()), ("https://f2.example/", FeedStatus::Paused));
    for scope in [SearchScope::All, SearchScope::Community(community)] {
        let hits =
            target.search_articles("volcano", scope, None, 5, 0).await.expect("search the copy");
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![volcano_id], "{scope:?}");
    }
    // The channel and its subscription, options and all; the outbox as it was, under
    // the same installation id (part of every idempotency key).
    let copied_ch = target.channel_by_external("chat", "c1").await.expect("read").expect("ch");
    assert_eq!((copied_ch.id, copied_ch.name.as_deref()), (ch.id, Some("news")));
    let sub = target.subscription(ch.id, feeds[1].0.id).await.expect("read").expect("sub");
    assert_eq!(
        (sub.style.as_str(), sub.notify, sub.thread, sub.webhook),
        ("compact", true, true, false)
    );
    assert_eq!(sub.include(), keep);
    let pg = sqlx::PgPool::connect(&to).await.expect("connect");
    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM deliveries GROUP BY state ORDER BY state")
            .fetch_all(&pg)
            .await
            .expect("outbox");
    assert_eq!(states, [("pending".to_string(), 1), ("sent".to_string(), 1)]);
    let id: String =
        sqlx::query_scalar("SELECT id FROM installation").fetch_one(&pg).await.expect("id");
    assert_eq!(id, installation, "the installation keeps its id");
    pg.close().await;
    let other = SearchScope::Community(community + 1);
    assert!(target.search_articles("volcano", other, None, 5, 0).await.expect("search").is_empty());
    target.check_search_index().await.expect("articles scoped to their communities");
    // The copied community is the one the platform's id names, with its feed list.
    assert_eq!(target.ensure_community("chat", "g", None, T0).await.expect("same"), community);
    let listed = target.community_feeds(community).await.expect("its feeds");
    assert_eq!(listed.iter().map(|cf| cf.feed.id).collect::<Vec<_>>(), vec![feeds[1].0.id]);
    let newer = target.ensure_community("chat", "new", None, T0).await.expect("new community");
    assert!(newer > community, "new community ids start after the copied ones");
    let (fresh, new) = target.add_feed("https://new.example/", 900, T0).await.expect("add");
    assert!(new && fresh.id > feeds[2].0.id, "new ids start after the copied ones");
    let id = target.insert_article(&article(fresh.id, "n", T0)).await.expect("insert");
    assert!(id.is_some_and(|id| id > volcano_id));

    // The target now holds a feed the source has not: the counts say so.
    let (code, out, err) = copy();
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("the counts differ"), "{err}");
}

/// Three processes starting at once on a new PostgreSQL database: the migrator's
/// advisory lock lets one migrate and the others find it done.
#[tokio::test]
async fn stores_opening_together_on_a_new_postgres_database_migrate_once() {
    let Some(cluster) = crate::support::postgres::shared() else { return };
    let url = cluster.fresh_database().await;
    let opened = futures_util::future::join_all((0..3).map(|_| Store::open(&url))).await;
    for store in opened {
        let store = store.expect("every store opens");
        assert_eq!(store.count_feeds().await.expect("migrated"), 0);
        store.close().await;
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_runs_out_and_events_are_answered_once() {
    for b in backends::each().await {
        let s = &b.store;
        let a = s.take_lease("sync", "a", T0, 30).await.expect("take");
        assert_eq!(a, Some(herald::store::LeaseHeld { since: T0, previous_renewal: None }));
        assert_eq!(s.take_lease("sync", "b", T0 + 1, 30).await.expect("ask"), None, "held");
        let renewed = s.take_lease("sync", "a", T0 + 10, 30).await.expect("renew");
        assert_eq!(renewed.map(|l| l.since), Some(T0), "a renewal keeps when it was taken");
        assert_eq!(s.take_lease("sync", "b", T0 + 39, 30).await.expect("ask"), None);
        // a stops renewing (a crash): at expiry b takes over, told when a last renewed.
        let b_lease = s.take_lease("sync", "b", T0 + 40, 30).await.expect("take over");
        assert_eq!(
            b_lease,
            Some(herald::store::LeaseHeld { since: T0 + 40, previous_renewal: Some(T0 + 10) })
        );
        assert_eq!(s.take_lease("sync", "a", T0 + 41, 30).await.expect("ask"), None);
        assert!(s.take_lease("other", "a", T0 + 41, 30).await.expect("take").is_some());
        let held = s.leases_held(T0 + 41).await.expect("leases");
        let names: Vec<(&str, &str)> =
            held.iter().map(|l| (l.name.as_str(), l.holder.as_str())).collect();
        assert_eq!(names, [("other", "a"), ("sync", "b")], "what status shows");
        assert!(s.leases_held(T0 + 100).await.expect("leases").is_empty(), "run out");
        s.release_lease("sync", "a").await.expect("not a's to release");
        assert_eq!(s.take_lease("sync", "a", T0 + 42, 30).await.expect("ask"), None);
        s.release_lease("sync", "b").await.expect("release");
        assert!(s.take_lease("sync", "a", T0 + 42, 30).await.expect("take").is_some());

        // Eight handles ask for a free lease at once: one gets it.
        let mut handles = Vec::new();
        for _ in 0..4 {
            handles.push(Store::open(&b.url).await.expect("handle"));
        }
        for round in 0..5 {
            let name = format!("race{round}");
            let asks = handles.iter().cycle().take(8).enumerate().map(|(i, h)| {
                let (name, who) = (name.clone(), format!("p{i}"));
                async move { h.take_lease(&name, &who, T0, 30).await }
            });
            let won = futures_util::future::join_all(asks)
                .await
                .into_iter()
                .filter(|r| r.as_ref().expect("ask").is_some())
                .count();
            assert_eq!(won, 1, "round {round}: one holder");
        }

        assert!(s.claim_event("matrix", "$e1", T0).await.expect("claim"));
        assert!(!s.claim_event("matrix", "$e1", T0 + 5).await.expect("claim"), "answered once");
        assert!(!handles[0].claim_event("matrix", "$e1", T0 + 5).await.expect("claim"));
        assert!(s.claim_event("discord", "$e1", T0).await.expect("claim"), "per platform");
        for h in handles {
            h.close().await;
        }
    }
}
