//! Communities, their feeds, channels and subscriptions in the store, the same tests on
//! each backend (`support::backends`: SQLite on disk and a real PostgreSQL database),
//! and several handles (as separate processes have) creating the same rows at once.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use herald::store::{OptionsChange, Store, SubscriptionRow};

use crate::support::backends;

const T0: i64 = 1_780_000_000;
const WEEK: i64 = 7 * 86_400;

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|w| w.to_string()).collect()
}

#[tokio::test]
async fn communities_and_channels_exist_once_and_keep_their_names() {
    for b in backends::each().await {
        let s = &b.store;
        // Every new database has the console's community already.
        let console = s.console_community(T0).await.expect("console");
        assert_eq!(s.ensure_community("console", "local", None, T0).await.expect("again"), console);

        let g1 = s.ensure_community("chat", "g1", Some("Guild"), T0).await.expect("g1");
        assert_eq!(s.ensure_community("chat", "g1", None, T0 + 5).await.expect("again"), g1);
        let g2 = s.ensure_community("chat", "g2", None, T0).await.expect("g2");
        let elsewhere = s.ensure_community("other", "g1", None, T0).await.expect("other");
        assert_eq!(BTreeSet::from([console, g1, g2, elsewhere]).len(), 4, "one row per key");

        let ch = s.ensure_channel(g1, "chat", "c1", Some("general"), T0).await.expect("channel");
        assert_eq!(
            (ch.community_id, ch.platform.as_str(), ch.external_id.as_str(), ch.name.as_deref()),
            (g1, "chat", "c1", Some("general"))
        );
        assert_eq!((ch.paused_reason.as_deref(), ch.digest_spec.as_deref()), (None, None));
        let again = s.ensure_channel(g1, "chat", "c1", None, T0 + 5).await.expect("again");
        assert_eq!(again, ch, "no name given: the row as it was");
        let renamed = s.ensure_channel(g1, "chat", "c1", Some("news"), T0 + 6).await.expect("re");
        assert_eq!((renamed.id, renamed.name.as_deref()), (ch.id, Some("news")));
        assert_eq!(renamed.created_at, T0, "first sight stays the creation time");
        assert_eq!(s.channel(ch.id).await.expect("by id"), Some(renamed.clone()));
        assert_eq!(s.channel_by_external("chat", "c1").await.expect("ext"), Some(renamed));
        assert_eq!(s.channel_by_external("chat", "c9").await.expect("ext"), None);
        assert_eq!(s.channel_by_external("other", "c1").await.expect("ext"), None);
        assert_eq!(s.channel(ch.id + 1000).await.expect("by id"), None);

        s.set_channel_paused(ch.id, Some("forbidden")).await.expect("pause");
        let paused = s.channel(ch.id).await.expect("read").expect("channel");
        assert_eq!(paused.paused_reason.as_deref(), Some("forbidden"));
        s.set_channel_paused(ch.id, None).await.expect("resume");
        assert_eq!(s.channel(ch.id).await.expect("read").expect("ch").paused_reason, None);

        // The bot removed from g1: g1's channels on that platform pause, no others.
        let ch2 = s.ensure_channel(g1, "chat", "c2", None, T0).await.expect("channel");
        let ch3 = s.ensure_channel(g2, "chat", "c3", None, T0).await.expect("channel");
        let n = s.pause_community_channels("chat", "g1", "removed").await.expect("pause all");
        assert_eq!(n, 2);
        for (id, want) in [(ch.id, Some("removed")), (ch2.id, Some("removed")), (ch3.id, None)] {
            let c = s.channel(id).await.expect("read").expect("channel");
            assert_eq!(c.paused_reason.as_deref(), want, "channel {}", c.external_id);
        }
        assert_eq!(s.pause_community_channels("chat", "g9", "x").await.expect("none"), 0);

        s.set_digest_schedule(
            ch.id,
            Some(("daily 08:00", "Europe/Berlin")),
            Some(T0),
            Some(T0 + 9),
        )
        .await
        .expect("schedule");
        let c = s.channel(ch.id).await.expect("read").expect("channel");
        assert_eq!(
            (c.digest_spec.as_deref(), c.digest_tz.as_deref(), c.digest_last_end, c.digest_next_at),
            (Some("daily 08:00"), Some("Europe/Berlin"), Some(T0), Some(T0 + 9))
        );
        // A new schedule keeps the end of the last window taken: nothing is sent twice.
        s.set_digest_schedule(
            ch.id,
            Some(("weekly mon 09:00", "UTC")),
            Some(T0 + 5),
            Some(T0 + 99),
        )
        .await
        .expect("schedule");
        let c = s.channel(ch.id).await.expect("read").expect("channel");
        assert_eq!((c.digest_tz.as_deref(), c.digest_last_end), (Some("UTC"), Some(T0)));
        assert_eq!(c.digest_next_at, Some(T0 + 99));
        s.set_digest_schedule(ch.id, None, None, None).await.expect("off");
        let c = s.channel(ch.id).await.expect("read").expect("channel");
        assert_eq!((c.digest_spec, c.digest_tz, c.digest_next_at), (None, None, None));
    }
}

#[tokio::test]
async fn a_communitys_feed_list_is_its_own_and_the_last_follower_deletes_the_feed() {
    for b in backends::each().await {
        let s = &b.store;
        let ours = s.ensure_community("chat", "ours", None, T0).await.expect("community");
        let theirs = s.ensure_community("chat", "theirs", None, T0).await.expect("community");
        let (f1, _) = s.add_feed("https://one.example/feed", 900, T0).await.expect("add");
        let (f2, _) = s.add_feed("https://two.example/feed", 900, T0).await.expect("add");
        assert!(s.link_feed(ours, f1.id, Some("alice"), T0).await.expect("link"));
        assert!(!s.link_feed(ours, f1.id, Some("bob"), T0 + 9).await.expect("link"), "once");
        assert!(s.link_feed(ours, f2.id, None, T0 + 1).await.expect("link"));
        assert!(s.link_feed(theirs, f1.id, None, T0 + 2).await.expect("link"));

        let listed = s.community_feeds(ours).await.expect("feeds");
        let seen: Vec<(i64, bool, Option<i64>)> =
            listed.iter().map(|cf| (cf.feed.id, cf.paused, cf.asked_interval_s)).collect();
        assert_eq!(seen, vec![(f1.id, false, None), (f2.id, false, None)], "in order added");
        assert_eq!(listed[0].feed.url, "https://one.example/feed");
        assert_eq!(s.count_community_feeds(ours).await.expect("count"), 2);
        assert_eq!(s.count_community_feeds(theirs).await.expect("count"), 1);
        let mut ids = s.community_feed_ids(ours).await.expect("ids");
        ids.sort();
        assert_eq!(ids, vec![f1.id, f2.id]);

        assert!(s.set_community_feed_paused(ours, f1.id, true).await.expect("pause"));
        assert!(!s.set_community_feed_paused(theirs, f2.id, true).await.expect("not theirs"));
        let paused: Vec<bool> =
            s.community_feeds(ours).await.expect("feeds").iter().map(|cf| cf.paused).collect();
        assert_eq!(paused, vec![true, false]);
        assert!(!s.community_feeds(theirs).await.expect("feeds")[0].paused, "ours only");
        assert!(s.set_community_feed_paused(ours, f1.id, false).await.expect("resume"));
        assert!(!s.community_feeds(ours).await.expect("feeds")[0].paused);

        let our_channel = s.ensure_channel(ours, "chat", "o", None, T0).await.expect("channel");
        let their_channel = s.ensure_channel(theirs, "chat", "t", None, T0).await.expect("ch");
        for ch in [our_channel.id, their_channel.id] {
            s.subscribe(ch, f1.id, "instant", &[], &[], None, T0).await.expect("subscribe");
        }
        s.insert_article(&herald::store::NewArticle {
            feed_id: f1.id,
            item_key: "a".into(),
            fetched_at: T0,
            text_source: "feed",
            ..Default::default()
        })
        .await
        .expect("article");

        assert!(!s.unlink_feed(ours, f1.id).await.expect("unlink"), "theirs still follows it");
        assert_eq!(s.subscription(our_channel.id, f1.id).await.expect("read"), None);
        assert!(s.subscription(their_channel.id, f1.id).await.expect("read").is_some());
        assert_eq!(s.community_feed_ids(ours).await.expect("ids"), vec![f2.id]);
        assert!(s.feed_by_id(f1.id).await.expect("read").is_some());
        assert_eq!(s.count_articles().await.expect("count"), 1);

        assert!(s.unlink_feed(theirs, f1.id).await.expect("unlink"), "the last follower");
        assert!(s.feed_by_id(f1.id).await.expect("read").is_none(), "no longer fetched");
        assert_eq!(s.count_articles().await.expect("count"), 0, "its articles went with it");
        assert_eq!(s.subscription(their_channel.id, f1.id).await.expect("read"), None);
        assert!(s.community_feed_ids(theirs).await.expect("ids").is_empty());
        assert!(!s.unlink_feed(theirs, f1.id).await.expect("unlink"), "nothing left to do");
        assert_eq!(s.count_feeds().await.expect("count"), 1);
    }
}

/// A shared feed is fetched at the shortest interval any follower asked for; each
/// community keeps its own; the interval grows back when that follower leaves.
#[tokio::test]
async fn a_shared_feed_is_fetched_at_its_followers_shortest_interval() {
    for b in backends::each().await {
        let s = &b.store;
        let (a, c) = (b.community("a").await, b.community("c").await);
        let url = "https://shared.example/feed.xml";
        let asked = |community| async move {
            s.community_feeds(community).await.expect("feeds")[0].asked_interval_s
        };
        let (feed, linked) = s.add_and_link_feed(a, url, Some(WEEK), 900, T0).await.expect("a");
        assert!(linked);
        assert_eq!((feed.poll_interval_s, feed.next_poll_at), (WEEK, T0));
        s.record_poll_success(feed.id, T0 + 10, T0 + 10 + WEEK, None).await.expect("polled");

        let (shared, linked) =
            s.add_and_link_feed(c, url, Some(60), 900, T0 + 20).await.expect("c");
        assert!(linked && shared.id == feed.id, "one feed per URL");
        assert_eq!(shared.poll_interval_s, 60);
        assert_eq!(shared.next_poll_at, T0 + 10 + 60, "the next poll comes forward");

        let (again, linked) = s.add_and_link_feed(a, url, None, 900, T0 + 30).await.expect("a");
        assert!(!linked);
        assert_eq!((again.poll_interval_s, asked(a).await), (60, Some(WEEK)), "a kept its own");
        let (again, _) = s.add_and_link_feed(a, url, Some(3600), 900, T0 + 40).await.expect("a");
        assert_eq!((again.poll_interval_s, asked(a).await), (60, Some(3600)));

        assert!(!s.unlink_feed(c, feed.id).await.expect("unlink"));
        let after = s.feed_by_id(feed.id).await.expect("read").expect("feed");
        assert_eq!(after.poll_interval_s, 3600, "c was the one in a hurry");
        assert_eq!(after.next_poll_at, T0 + 70, "a longer interval never pushes a poll back");

        let (other, _) =
            s.add_and_link_feed(c, "https://b.example/", None, 900, T0).await.expect("add");
        assert_eq!((other.poll_interval_s, asked(c).await), (900, Some(900)), "the default");
    }
}

#[tokio::test]
async fn subscriptions_keep_their_options_until_a_subscribe_changes_them() {
    for b in backends::each().await {
        let s = &b.store;
        let g = b.community("g").await;
        let ch = s.ensure_channel(g, "chat", "c1", None, T0).await.expect("channel");
        let (feed, _) =
            s.add_and_link_feed(g, "https://a.example/", None, 900, T0).await.expect("a");
        let (other, _) =
            s.add_and_link_feed(g, "https://b.example/", None, 900, T0).await.expect("add");

        let (sub, new) = s
            .subscribe(ch.id, feed.id, "instant", &words(&["rust"]), &[], Some("alice"), T0)
            .await
            .expect("subscribe");
        assert!(new);
        assert_eq!((sub.channel_id, sub.feed_id, sub.mode.as_str()), (ch.id, feed.id, "instant"));
        assert_eq!((sub.include(), sub.exclude()), (words(&["rust"]), vec![]));
        assert_eq!((sub.created_by.as_deref(), sub.created_at), (Some("alice"), T0));
        assert_eq!((sub.style.as_str(), &sub.template, &sub.mention), ("embed", &None, &None));
        assert_eq!((sub.notify, sub.thread, sub.webhook), (false, false, false), "defaults");

        let every = OptionsChange {
            template: Some(Some("**{title}** {url}".into())),
            style: Some("compact".into()),
            mention: Some(Some("1234".into())),
            notify: Some(true),
            thread: Some(true),
            webhook: Some(true),
        };
        let (set, new) = s
            .subscribe_with(ch.id, feed.id, "instant", &[], &words(&["ads"]), &every, None, T0 + 5)
            .await
            .expect("subscribe");
        assert!(!new, "the same subscription, changed");
        let want = SubscriptionRow {
            include_words: "[]".into(),
            exclude_words: "[\"ads\"]".into(),
            template: Some("**{title}** {url}".into()),
            style: "compact".into(),
            mention: Some("1234".into()),
            notify: true,
            thread: true,
            webhook: true,
            ..sub.clone()
        };
        assert_eq!(set, want, "created_by and created_at are the first subscribe's");

        // A subscribe without options changes the mode and filters, and keeps the options.
        let (digest, new) = s
            .subscribe(ch.id, feed.id, "digest", &[], &[], Some("bob"), T0 + 6)
            .await
            .expect("sub");
        assert!(!new);
        let want = SubscriptionRow { mode: "digest".into(), exclude_words: "[]".into(), ..want };
        assert_eq!(digest, want);
        let clear = OptionsChange {
            template: Some(None),
            mention: Some(None),
            notify: Some(false),
            ..OptionsChange::default()
        };
        let (cleared, _) = s
            .subscribe_with(ch.id, feed.id, "instant", &[], &[], &clear, None, T0 + 7)
            .await
            .expect("subscribe");
        let want = SubscriptionRow {
            mode: "instant".into(),
            template: None,
            mention: None,
            notify: false,
            ..want
        };
        assert_eq!(cleared, want, "cleared what was asked; style, thread and webhook stay");
        assert_eq!(s.subscription(ch.id, feed.id).await.expect("read"), Some(cleared.clone()));
        assert_eq!(s.subscription(ch.id, other.id).await.expect("read"), None);

        let (second, _) =
            s.subscribe(ch.id, other.id, "digest", &[], &[], None, T0).await.expect("subscribe");
        let listed = s.channel_subscriptions(ch.id).await.expect("list");
        let pairs: Vec<(i64, i64)> = listed.iter().map(|(s, f)| (s.id, f.id)).collect();
        assert_eq!(pairs, vec![(cleared.id, feed.id), (second.id, other.id)]);

        // Who receives the feed's new articles at once.
        let elsewhere = s.ensure_channel(g, "chat", "c2", None, T0).await.expect("channel");
        s.subscribe(elsewhere.id, feed.id, "digest", &[], &[], None, T0).await.expect("sub");
        let instant = |feed: i64| async move {
            let subs = s.instant_subscriptions(feed).await.expect("instant");
            subs.iter().map(|s| s.id).collect::<Vec<_>>()
        };
        assert_eq!(instant(feed.id).await, vec![cleared.id], "digest subscriptions wait");
        assert!(instant(other.id).await.is_empty());
        s.set_channel_paused(ch.id, Some("forbidden")).await.expect("pause");
        assert!(instant(feed.id).await.is_empty(), "a paused channel receives nothing");
        s.set_channel_paused(ch.id, None).await.expect("resume");
        s.set_community_feed_paused(g, feed.id, true).await.expect("pause");
        assert!(instant(feed.id).await.is_empty(), "nor from a feed its community paused");
        s.set_community_feed_paused(g, feed.id, false).await.expect("resume");
        assert_eq!(instant(feed.id).await, vec![cleared.id]);

        assert!(s.unsubscribe(ch.id, feed.id).await.expect("unsubscribe"));
        assert!(!s.unsubscribe(ch.id, feed.id).await.expect("unsubscribe"), "already gone");
        assert_eq!(s.subscription(ch.id, feed.id).await.expect("read"), None);
        let (back, new) =
            s.subscribe(ch.id, feed.id, "instant", &[], &[], None, T0 + 9).await.expect("sub");
        assert!(new && back.style == "embed", "a new subscription starts from the defaults");
    }
}

/// Several handles on one database (each its own pools, as separate processes have)
/// creating the same community, channel, feed link and subscription at the same moment:
/// one row each, no error, and exactly one caller is told it created the row.
#[tokio::test]
async fn handles_creating_the_same_rows_at_once_make_one_each() {
    for b in backends::each().await {
        let mut handles = Vec::new();
        for _ in 0..5 {
            handles.push(Store::open(&b.url).await.expect("another handle"));
        }
        let calls = || handles.iter().cycle().take(20);

        let ids = join_all(calls().map(|h| h.ensure_community("chat", "g", Some("G"), T0))).await;
        let ids: BTreeSet<i64> = ids.into_iter().map(|r| r.expect("community")).collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let g = *ids.first().expect("one id");

        let rows = join_all(calls().map(|h| h.ensure_channel(g, "chat", "c", None, T0))).await;
        let ids: BTreeSet<i64> = rows.into_iter().map(|r| r.expect("channel").id).collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let ch = *ids.first().expect("one id");

        // Every handle adds the same URL for its own community and for the shared one.
        let mut communities = vec![g; 5];
        for (i, h) in handles.iter().enumerate() {
            let c = h.ensure_community("chat", &format!("own{i}"), None, T0).await;
            communities.push(c.expect("community"));
        }
        let url = "https://same.example/feed";
        let adds = handles.iter().cycle().zip(&communities).map(|(h, &c)| {
            let asked = 60 * (c + 1);
            async move { (c, h.add_and_link_feed(c, url, Some(asked), 900, T0).await) }
        });
        let mut feed_ids = BTreeSet::new();
        let mut new_links = BTreeSet::new();
        for (c, added) in join_all(adds).await {
            let (feed, linked) = added.expect("add");
            feed_ids.insert(feed.id);
            if linked {
                assert!(new_links.insert(c), "community {c} was told twice it added the feed");
            }
        }
        assert_eq!(feed_ids.len(), 1, "{feed_ids:?}");
        let feed = *feed_ids.first().expect("one id");
        assert_eq!(new_links, communities.iter().copied().collect(), "each community once");
        let shortest = communities.iter().map(|c| 60 * (c + 1)).min().expect("some");
        let stored = b.store.feed_by_id(feed).await.expect("read").expect("feed");
        assert_eq!(stored.poll_interval_s, shortest, "every follower's interval counted");

        let subs = calls().map(|h| h.subscribe(ch, feed, "instant", &[], &[], None, T0));
        let mut ids = BTreeSet::new();
        let mut created = 0;
        for sub in join_all(subs).await {
            let (row, new) = sub.expect("subscribe");
            ids.insert(row.id);
            created += usize::from(new);
        }
        assert_eq!((ids.len(), created), (1, 1), "one subscription, created once: {ids:?}");

        // One community drops a feed while another adds it: whichever goes first, the
        // adder ends up following a feed that exists (never a link deleted with a feed
        // it thought had no follower left).
        let (x, y) = (communities[5], communities[6]);
        for round in 0..15 {
            let url = format!("https://race{round}.example/feed");
            let (first, _) = handles[0].add_and_link_feed(x, &url, None, 900, T0).await.expect("a");
            let (dropped, added) = tokio::join!(
                handles[1].unlink_feed(x, first.id),
                handles[2].add_and_link_feed(y, &url, None, 900, T0),
            );
            dropped.expect("unlink");
            let (feed, linked) = added.expect("add");
            assert!(linked, "round {round}");
            let followed = b.store.community_feed_ids(y).await.expect("ids");
            assert!(followed.contains(&feed.id), "round {round}: {followed:?} lacks {}", feed.id);
            let stored = b.store.feed_by_url(&url).await.expect("read");
            assert_eq!(stored.map(|f| f.id), Some(feed.id), "round {round}");
        }
        for h in handles {
            h.close().await;
        }
    }
}

/// The command core's feed list and subscriptions (the commands that need nothing but
/// this part of the store) on each backend, as an adapter runs them.
#[tokio::test]
async fn a_communitys_feed_commands_run_on_each_backend() {
    use std::sync::Arc;

    use herald::commands::parse::Role;
    use herald::commands::{Core, CoreLimits, Ctx, Scope};
    use herald::reply::{Reply, Tone};

    let site = crate::support::Site::start().await;
    site.feed("/x.xml", "application/rss+xml", &crate::support::rss("Xenon Times", &[]));
    let url = site.url("/x.xml");
    for b in backends::each().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = herald::clock::ManualClock::new(T0);
        let app = crate::support::app(dir.path(), &clock, |c| c.database_url = b.url.clone()).await;
        assert_eq!(app.store.backend(), b.name);
        let core = Core::new(
            app.store.clone(),
            app.fetcher.clone(),
            app.clock.clone(),
            CoreLimits::default(),
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(tokio::sync::Notify::new()),
        );
        let community = app.store.ensure_community("chat", "g", Some("G"), T0).await;
        let community = community.expect("community");
        let channel = app.store.ensure_channel(community, "chat", "c", None, T0).await;
        let ctx = Ctx {
            community_id: community,
            channel: channel.expect("channel"),
            user: "admin".into(),
            role: Role::Admin,
            operator: false,
            local_files: false,
            scope: Scope::Community,
        };
        let ok = |text: String| {
            let (core, ctx) = (&core, &ctx);
            async move {
                let reply: Reply = core.handle_text(ctx, &text).await;
                assert_ne!(reply.tone, Tone::Error, "`{text}` on {}: {reply:#?}", b.name);
                format!("{reply:?}")
            }
        };

        ok(format!("feeds add {url}")).await;
        let listed = app.store.community_feeds(community).await.expect("feeds");
        assert_eq!(listed.len(), 1);
        let feed = listed[0].feed.id;
        let list = ok("feeds list".into()).await;
        assert!(list.contains(&url), "the list shows the feed: {list}");
        assert!(
            ok(format!("subscribe {feed} instant --include volcano")).await.contains("Subscribed")
        );
        let sub = app.store.subscription(ctx.channel.id, feed).await.expect("read").expect("sub");
        assert_eq!(sub.include(), words(&["volcano"]));
        ok(format!("feeds pause {feed}")).await;
        assert!(app.store.community_feeds(community).await.expect("feeds")[0].paused);
        assert!(app.store.instant_subscriptions(feed).await.expect("subs").is_empty());
        ok(format!("feeds resume {feed}")).await;
        assert_eq!(app.store.instant_subscriptions(feed).await.expect("subs").len(), 1);
        ok(format!("unsubscribe {feed}")).await;
        assert!(app.store.subscription(ctx.channel.id, feed).await.expect("read").is_none());
        assert!(ok(format!("feeds remove {feed}")).await.contains("stopped fetching"));
        assert!(app.store.feed_by_id(feed).await.expect("read").is_none(), "no one follows it");
        app.store.close().await;
    }
}
