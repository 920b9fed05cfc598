//! Delivery end to end: feeds polled from a real loopback server, subscriptions made
//! through the command core, the outbox dispatcher posting to a scripted chat platform
//! (which keeps what it accepted and drops a repeated idempotency key, as Discord's nonce
//! and Matrix's transaction id do), digests on a manual clock, and a dispatcher process
//! killed for real in the middle of a round.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use herald::clock::{ManualClock, SharedClock};
use herald::commands::parse::Role;
use herald::deliver::digest::DigestLimits;
use herald::deliver::outbox::{DeliveryPolicy, DispatchReport, Dispatcher};
use herald::platform::terminal::{ConsolePlatform, Output};
use herald::platform::{Platform, SendFuture};
use herald::reply::{Reply, Tone, Visibility};
use herald::store::NewArticle;

use crate::support::chat::{
    Answer, DeliveryRow, Message, PLATFORM, World, all_text, article_id_from_footer, digest_titles,
    key_in, on_each_backend, read_outbox, world, world_at,
};
use crate::support::{T0, app};

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

const KOREA_TITLE: &str = "Talks resume in Korea";
const KOREA_TEXT: &str = "<p>Negotiators from North and South Korea met in Panmunjom on \
    Tuesday for the first time in two years. Both sides agreed to reopen the liaison office \
    at the border. The next round of talks is planned for March.</p>";
const RAIL_TITLE: &str = "Oderbruch rail line reopens";
const RAIL_TEXT: &str = "<p>The Oderbruch line reopened on Monday after three years of \
    works. Trains now run every hour between Eberswalde and Frankfurt (Oder). Fares stay \
    unchanged until March.</p>";
const HARBOUR_TITLE: &str = "Harbour crane arrives";
const HARBOUR_TEXT: &str = "<p>A new crane arrived in the harbour on Friday. It can lift \
    containers twice as fast as the old one. Dock workers welcomed it with a brass band.</p>";
const LIBRARY_TITLE: &str = "Library puts old newspapers online";
const LIBRARY_TEXT: &str = "<p>The city library finished scanning its newspapers. More than \
    two million pages are now searchable online. Volunteers checked the text by hand.</p>";

/// A world with a feed "Eurasia" at /feed.xml, already primed by its first (backfill)
/// poll, and channels subscribed to it: `(channel, extra words after "subscribe FEED")`.
async fn feed_world(subs: &[(&str, &str)]) -> (World, i64) {
    let w = world().await;
    let mut admin = w.ctx("admin-room", Role::Admin).await;
    let backfill = [("old", HARBOUR_TITLE, "http://example.invalid/old", HARBOUR_TEXT)];
    w.publish("/feed.xml", "Eurasia", &backfill);
    let feed = w.add_feed(&mut admin, "/feed.xml").await;
    for (name, extra) in subs {
        let mut ctx = w.ctx(name, Role::Admin).await;
        w.ok(&mut ctx, &format!("subscribe {feed} {extra}")).await;
    }
    let report = w.poll_now().await;
    assert_eq!(report.polled, 1);
    assert!(report.new_articles.is_empty(), "the first poll is history");
    (w, feed)
}

/// Publishes `items` (guid, title, text) as new items above the backfilled one, polls,
/// and returns their article ids in the same order.
async fn new_items(w: &World, items: &[(&str, &str, &str)]) -> Vec<i64> {
    let links: Vec<String> = items.iter().map(|(g, _, _)| w.site.url(&format!("/a/{g}"))).collect();
    let mut feed: Vec<(&str, &str, &str, &str)> =
        items.iter().zip(&links).map(|((g, t, x), l)| (*g, *t, l.as_str(), *x)).collect();
    feed.push(("old", HARBOUR_TITLE, "http://example.invalid/old", HARBOUR_TEXT));
    w.publish("/feed.xml", "Eurasia", &feed);
    let report = w.poll_later().await;
    assert_eq!(report.new_articles.len(), items.len(), "{report:?}");
    let mut by_title = HashMap::new();
    for id in &report.new_articles {
        let a = w.app.store.article(*id).await.expect("read").expect("stored");
        assert!(!a.backfill);
        by_title.insert(a.title.clone().unwrap_or_default(), *id);
    }
    items.iter().map(|(_, t, _)| by_title[*t]).collect()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("valid time").timestamp()
}

// ---------------------------------------------------------------------------------------
// 1. Fan-out

#[tokio::test]
async fn new_items_fan_out_to_matching_instant_subscriptions_only() {
    on_each_backend(|| async {
        let w = world().await;
        let mut all = w.ctx("all", Role::Admin).await;
        let mut korea = w.ctx("korea-only", Role::Admin).await;
        let mut digest = w.ctx("digest-room", Role::Admin).await;
        let mut late = w.ctx("late", Role::Admin).await;
        // History mentions Korea too: backfilled items are never posted, filter or not.
        let history = [
            (
                "o1",
                "Korea and Japan sign a fisheries accord",
                "http://example.invalid/o1",
                KOREA_TEXT,
            ),
            ("o2", HARBOUR_TITLE, "http://example.invalid/o2", HARBOUR_TEXT),
        ];
        w.publish("/feed.xml", "Eurasia", &history);
        let feed = w.add_feed(&mut all, "/feed.xml").await;
        w.ok(&mut all, &format!("subscribe {feed}")).await;
        w.ok(&mut korea, &format!("subscribe {feed} instant --include korea")).await;
        w.ok(&mut digest, &format!("subscribe {feed} digest")).await;

        let first = w.poll_now().await;
        assert_eq!(first.polled, 1);
        assert!(first.new_articles.is_empty(), "{first:?}");
        assert!(w.deliveries().await.is_empty(), "backfill posts nothing");
        let feed_row = w.app.store.feed_by_id(feed).await.expect("read").expect("feed");
        assert!(feed_row.primed);

        let (k_link, r_link) = (w.site.url("/a/k"), w.site.url("/a/r"));
        let mut items = vec![
            ("k", KOREA_TITLE, k_link.as_str(), KOREA_TEXT),
            ("r", RAIL_TITLE, r_link.as_str(), RAIL_TEXT),
        ];
        items.extend(history);
        w.publish("/feed.xml", "Eurasia", &items);
        let second = w.poll_later().await;
        assert_eq!(second.new_articles.len(), 2, "{second:?}");
        let mut ids = HashMap::new();
        for id in &second.new_articles {
            let a = w.app.store.article(*id).await.expect("read").expect("stored");
            ids.insert(a.title.clone().expect("title"), *id);
        }
        let (k, r) = (ids[KOREA_TITLE], ids[RAIL_TITLE]);
        let (c_all, c_korea) = (w.channel_id("all").await, w.channel_id("korea-only").await);
        let c_late = w.channel_id("late").await;
        let pairs = |rows: Vec<DeliveryRow>| -> HashSet<(i64, i64)> {
            rows.into_iter().map(|d| (d.channel_id, d.article_id)).collect()
        };
        let mut want = HashSet::from([(c_all, k), (c_korea, k), (c_all, r)]);
        let rows = w.deliveries().await;
        assert_eq!(rows.len(), 3, "{rows:#?}");
        assert_eq!(
            pairs(rows.clone()),
            want,
            "Korea: unfiltered + include korea; rail: unfiltered"
        );
        assert!(rows.iter().all(|d| d.state == "pending" && !d.idem_key.is_empty()));
        let keys: HashSet<&str> = rows.iter().map(|d| d.idem_key.as_str()).collect();
        assert_eq!(keys.len(), rows.len(), "one key per (channel, article)");

        // A channel subscribing after the Korea article was first seen does not get it; it
        // gets what is new from then on.
        w.clock.advance(MIN);
        w.ok(&mut late, &format!("subscribe {feed}")).await;
        let l_link = w.site.url("/a/l");
        let mut items = vec![("l", LIBRARY_TITLE, l_link.as_str(), LIBRARY_TEXT)];
        items.extend([
            ("k", KOREA_TITLE, k_link.as_str(), KOREA_TEXT),
            ("r", RAIL_TITLE, r_link.as_str(), RAIL_TEXT),
        ]);
        items.extend(history);
        w.publish("/feed.xml", "Eurasia", &items);
        let third = w.poll_later().await;
        assert_eq!(third.new_articles.len(), 1, "{third:?}");
        let l = third.new_articles[0];
        want.extend([(c_all, l), (c_late, l)]);
        assert_eq!(pairs(w.deliveries().await), want);

        // The poller's own rule, applied to the Korea article as it was first seen: the
        // late subscription is left out even though it is an unfiltered instant one.
        let subs = w.app.store.instant_subscriptions(feed).await.expect("subscriptions");
        assert_eq!(subs.len(), 3, "all, korea-only and late are instant");
        let a = w.app.store.article(k).await.expect("read").expect("stored");
        let as_seen = NewArticle {
            feed_id: feed,
            item_key: a.item_key.clone(),
            url: a.url.clone(),
            title: a.title.clone(),
            fetched_at: a.fetched_at,
            text: a.text.clone(),
            summary: a.summary.clone(),
            text_source: "feed",
            ..NewArticle::default()
        };
        let chosen: HashSet<i64> =
            herald::ingest::poll::fan_out(&herald::ingest::poll::subscribers(&subs), &as_seen)
                .into_iter()
                .collect();
        assert_eq!(chosen, HashSet::from([c_all, c_korea]));
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 2. Dispatcher

#[tokio::test]
async fn dispatcher_posts_each_delivery_once_with_title_url_and_summary() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("news", ""), ("world", "instant")]).await;
        let ids =
            new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT), ("r", RAIL_TITLE, RAIL_TEXT)]).await;
        assert!(w.chat.all_messages().is_empty(), "nothing is posted before the dispatcher runs");

        let report = w.dispatch().await;
        assert_eq!(report.sent, 4, "{report:?}");
        for channel in ["news", "world"] {
            let channel_id = w.channel_id(channel).await;
            let msgs = w.chat.messages(channel);
            assert_eq!(msgs.len(), 2, "{msgs:#?}");
            for (id, (guid, title)) in ids.iter().zip([("k", KOREA_TITLE), ("r", RAIL_TITLE)]) {
                let a = w.app.store.article(*id).await.expect("read").expect("stored");
                let m = msgs
                    .iter()
                    .find(|m| m.reply.title.as_deref() == Some(title))
                    .unwrap_or_else(|| panic!("{title} was not posted to {channel}: {msgs:#?}"));
                assert_eq!(m.reply.tone, Tone::Article);
                assert_eq!(m.reply.visibility, Visibility::Public);
                assert_eq!(
                    m.reply.url.as_deref(),
                    Some(w.site.url(&format!("/a/{guid}")).as_str())
                );
                assert!(!a.summary.is_empty());
                assert_eq!(m.reply.text, a.summary, "the post carries the stored summary");
                assert_eq!(article_id_from_footer(&m.reply), *id);
                assert!(m.reply.footer.as_deref().unwrap_or_default().contains("Eurasia"));
                assert_eq!(m.key, w.key(*id, channel_id).await);
            }
            assert!(
                msgs[0].reply.text.contains("Panmunjom")
                    || msgs[1].reply.text.contains("Panmunjom")
            );
        }
        assert_eq!(w.counts().await, [("sent".to_string(), 4)]);
        assert_eq!(w.chat.total_calls(), 4);

        assert_eq!(w.dispatch().await, DispatchReport::default(), "a second round sends nothing");
        w.clock.advance(DAY);
        assert_eq!(w.dispatch().await, DispatchReport::default());
        assert_eq!(w.chat.total_calls(), 4);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 3. 429

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_posts_once() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("news", "")]).await;
        w.chat.script("news", [Answer::RateLimited(90)]);
        let ids =
            new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT), ("r", RAIL_TITLE, RAIL_TEXT)]).await;
        let limited_at = w.now();

        let first = w.dispatch().await;
        assert_eq!(first.sent, 0, "{first:?}");
        let calls = w.chat.calls("news");
        assert_eq!(calls.len(), 1, "the post behind the limited one is not tried: {calls:?}");
        assert!(w.chat.messages("news").is_empty());

        w.clock.set(limited_at + 89);
        assert_eq!(w.dispatch().await.sent, 0);
        assert_eq!(w.chat.calls("news").len(), 1, "nothing is sent before Retry-After passes");

        w.clock.set(limited_at + 90);
        let report = w.dispatch().await;
        assert_eq!(report.sent, 2, "{report:?}");
        let msgs = w.chat.messages("news");
        assert_eq!(msgs.len(), 2);
        let channel = w.channel_id("news").await;
        let keys: HashSet<String> = msgs.iter().map(|m| m.key.clone()).collect();
        let mut want = HashSet::new();
        for a in &ids {
            want.insert(w.key(*a, channel).await);
        }
        assert_eq!(keys, want);
        let calls = w.chat.calls("news");
        assert_eq!(calls.len(), 3, "one refused call, then one per post: {calls:?}");
        assert_eq!(calls[0].at, limited_at);
        assert!(calls[1..].iter().all(|c| c.at == limited_at + 90));
        assert!(calls[1..].iter().any(|c| c.key == calls[0].key), "the retry reuses the key");
        let limited = w.deliveries().await.into_iter().find(|d| d.idem_key == calls[0].key);
        assert_eq!(limited.expect("row").attempts, 1, "a rate limit is not a failed attempt");
        assert_eq!(w.dispatch().await, DispatchReport::default());
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 4. 500s: backoff capped at minutes, never given up before the maximum age, then told

#[tokio::test]
async fn server_errors_back_off_up_to_a_cap_until_the_max_age_then_managers_are_told() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("broken", ""), ("fine", "")]).await;
        w.chat.script("broken", vec![Answer::ServerError; 10_000]);
        let k = new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT)]).await[0];
        let key = w.key(k, w.channel_id("broken").await).await;
        let enqueued_at = w.now();

        let first = w.dispatch().await;
        assert_eq!((first.sent, first.retried, first.expired), (1, 1, 0), "{first:?}");
        assert_eq!(w.chat.messages("fine").len(), 1, "the other channel got its post at once");

        let row =
            |rows: Vec<DeliveryRow>| rows.into_iter().find(|d| d.idem_key == key).expect("row");
        let mut waits = Vec::new();
        for attempt in 1..12 {
            let d = row(w.deliveries().await);
            assert_eq!((d.state.as_str(), d.attempts), ("pending", attempt));
            let failed_at = w.chat.calls("broken").last().expect("a call").at;
            waits.push(d.next_attempt_at - failed_at);
            w.clock.set(d.next_attempt_at - 1);
            w.dispatch().await;
            assert_eq!(w.chat.calls("broken").len() as i64, attempt, "retried before its backoff");
            w.clock.set(d.next_attempt_at);
            w.dispatch().await;
            assert_eq!(
                w.chat.calls("broken").len() as i64,
                attempt + 1,
                "not retried after backoff"
            );
        }
        assert!(waits[0] >= 10, "first retry is not immediate: {waits:?}");
        assert!(waits.windows(2).all(|p| p[1] >= p[0]), "backoff never shrinks: {waits:?}");
        assert!(waits[1] > waits[0] && waits[2] > waits[1], "backoff grows: {waits:?}");
        assert!(waits.iter().all(|s| *s <= 5 * MIN), "backoff is capped at minutes: {waits:?}");
        assert!(w.chat.calls("broken").iter().all(|c| c.key == key), "every retry reuses the key");

        // Still retried two days later: only the maximum age (3 days) ends it.
        w.clock.set(enqueued_at + 2 * DAY);
        w.dispatch().await;
        let calls = w.chat.calls("broken").len();
        w.clock.advance(10 * MIN);
        w.dispatch().await;
        assert!(w.chat.calls("broken").len() > calls, "retried as long as it is young enough");
        assert_eq!(row(w.deliveries().await).state, "pending");

        w.clock.set(enqueued_at + 3 * DAY);
        let report = w.dispatch().await;
        assert_eq!(report.expired, 1, "{report:?}");
        let d = row(w.deliveries().await);
        assert_eq!(d.state, "failed");
        let calls = w.chat.calls("broken").len();
        w.clock.advance(DAY);
        w.dispatch().await;
        assert_eq!(w.chat.calls("broken").len(), calls, "expired is final");

        // The managers learn it once, in a channel that takes posts ("broken" still fails).
        let notices: Vec<Message> =
            w.chat.all_messages().into_iter().filter(|m| m.reply.tone == Tone::Error).collect();
        assert_eq!(notices.len(), 1, "{notices:#?}");
        let text = all_text(&notices[0].reply);
        assert!(text.contains("broken") && text.contains("3d"), "{text}");
        assert!(text.contains("`subscriptions`"), "says what to run: {text}");
        let mut ctx = w.ctx("broken", Role::Admin).await;
        let subs = w.ok(&mut ctx, "subscriptions").await;
        assert!(all_text(&subs).contains("expired"), "subscriptions shows it: {subs:#?}");
        for _ in 0..3 {
            w.clock.advance(HOUR);
            w.dispatch().await;
        }
        let again =
            w.chat.all_messages().into_iter().filter(|m| m.reply.tone == Tone::Error).count();
        assert_eq!(again, 1, "told once, not a stream");

        // Neither channel is stuck: once "broken" works again, the next article reaches both.
        w.chat.lock().scripts.clear();
        let r = new_items(&w, &[("r", RAIL_TITLE, RAIL_TEXT)]).await[0];
        let report = w.dispatch().await;
        assert_eq!(report.sent, 2, "{report:?}");
        for channel in ["broken", "fine"] {
            let last =
                w.chat.messages(channel).into_iter().rfind(|m| m.reply.tone == Tone::Article);
            assert_eq!(article_id_from_footer(&last.expect("a post").reply), r);
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 5. 403

#[tokio::test]
async fn forbidden_pauses_the_channel_until_subscribe_resumes_it() {
    on_each_backend(|| async {
        let (w, feed) = feed_world(&[("locked", ""), ("open", "")]).await;
        w.chat.script("locked", [Answer::Forbidden("Missing Access")]);
        let k = new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT)]).await[0];
        let locked = w.channel_id("locked").await;

        let report = w.dispatch().await;
        assert_eq!((report.sent, report.paused_channels), (1, 1), "{report:?}");
        assert_eq!(w.chat.messages("open").len(), 1);
        let row = w.app.store.channel(locked).await.expect("read").expect("channel");
        assert_eq!(row.paused_reason.as_deref(), Some("Missing Access"));

        let mut ctx = w.ctx("locked", Role::Admin).await;
        let subs = w.ok(&mut ctx, "subscriptions").await;
        assert!(subs.text.contains("Missing Access"), "subscriptions shows why: {subs:#?}");
        assert!(subs.text.contains("paused"), "{}", subs.text);

        // Paused: never tried again, however long it waits; the other channel keeps going.
        w.clock.advance(HOUR);
        w.dispatch().await;
        assert_eq!(w.chat.calls("locked").len(), 1);
        new_items(&w, &[("r", RAIL_TITLE, RAIL_TEXT)]).await;
        let report = w.dispatch().await;
        assert_eq!(report.sent, 1, "{report:?}");
        let open = w.chat.messages("open");
        assert_eq!(open.iter().filter(|m| m.reply.tone == Tone::Article).count(), 2);
        assert_eq!(w.chat.calls("locked").len(), 1);
        // The pause was announced once, in the channel that still takes posts.
        let notices: Vec<&Message> = open.iter().filter(|m| m.reply.tone == Tone::Error).collect();
        assert_eq!(notices.len(), 1, "{notices:#?}");
        let text = all_text(&notices[0].reply);
        assert!(text.contains("#locked") && text.contains("Missing Access"), "{text}");
        assert!(text.contains("`subscribe FEED`"), "says what fixes it: {text}");

        // Access fixed: `subscribe` there resumes the channel, and the owed post goes out once.
        let reply = w.ok(&mut ctx, &format!("subscribe {feed}")).await;
        assert_eq!(ctx.channel.paused_reason, None, "{reply:#?}");
        let report = w.dispatch().await;
        assert!(report.sent >= 1, "{report:?}");
        let got: Vec<String> = w.chat.messages("locked").into_iter().map(|m| m.key).collect();
        let owed = w.key(k, locked).await;
        assert_eq!(got.iter().filter(|key| **key == owed).count(), 1, "{got:?}");
        let subs = w.ok(&mut ctx, "subscriptions").await;
        assert!(!subs.text.contains("Missing Access"), "{subs:#?}");
        assert_eq!(w.dispatch().await, DispatchReport::default());
    })
    .await;
}

#[tokio::test]
async fn resume_delivers_every_owed_post_at_once() {
    on_each_backend(|| async {
        let (w, feed) = feed_world(&[("locked", "")]).await;
        w.chat.script("locked", [Answer::Forbidden("Missing Access")]);
        let ids =
            new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT), ("r", RAIL_TITLE, RAIL_TEXT)]).await;
        let report = w.dispatch().await;
        assert_eq!(report.paused_channels, 1, "{report:?}");

        let mut ctx = w.ctx("locked", Role::Admin).await;
        w.ok(&mut ctx, &format!("subscribe {feed}")).await;
        let report = w.dispatch().await;
        let locked = w.channel_id("locked").await;
        let got: HashSet<String> = w.chat.messages("locked").into_iter().map(|m| m.key).collect();
        let mut want = HashSet::new();
        for a in &ids {
            want.insert(w.key(*a, locked).await);
        }
        assert_eq!(got, want, "both owed posts go out right after the resume: {report:?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 6. Crash between the platform accepting and herald recording it

#[tokio::test]
async fn a_send_whose_answer_was_lost_is_retried_with_the_same_key_and_shown_once() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("news", "")]).await;
        w.chat.script("news", [Answer::AcceptThenLose]);
        let k = new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT)]).await[0];
        let key = w.key(k, w.channel_id("news").await).await;

        let report = w.dispatch().await;
        assert_eq!((report.sent, report.retried), (0, 1), "{report:?}");
        assert_eq!(w.chat.messages("news").len(), 1, "the platform has the message");
        assert_eq!(w.counts().await, [("pending".to_string(), 1)]);

        w.clock.advance(HOUR);
        let report = w.dispatch().await;
        assert_eq!(report.sent, 1, "{report:?}");
        let calls = w.chat.calls("news");
        assert_eq!(calls.len(), 2);
        assert!(calls.iter().all(|c| c.key == key), "{calls:?}");
        let msgs = w.chat.messages("news");
        assert_eq!(msgs.len(), 1, "shown once: {msgs:#?}");
        assert_eq!(w.counts().await, [("sent".to_string(), 1)]);
        assert_eq!(w.dispatch().await, DispatchReport::default());
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 7. Scheduled digests

#[tokio::test]
async fn digest_goes_out_at_its_local_time_once_and_not_for_an_empty_period() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("daily", "digest")]).await;
        let mut ctx = w.ctx("daily", Role::Admin).await;
        let reply = w.ok(&mut ctx, "digest schedule daily 08:00 Europe/Berlin").await;
        // T0 is Sun 29 Nov 2026 09:00 UTC (10:00 in Berlin): next is Monday 08:00 CET.
        let fire = utc(2026, 11, 30, 7, 0);
        assert_eq!(ctx.channel.digest_next_at, Some(fire), "{reply:#?}");
        assert!(reply.text.contains("Mon 30 Nov 08:00"), "{}", reply.text);

        new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT)]).await;
        assert_eq!(
            w.dispatch().await,
            DispatchReport::default(),
            "digest mode posts no instant post"
        );
        assert!(w.deliveries().await.is_empty());

        w.clock.set(fire - 1);
        assert_eq!(w.dispatch().await, DispatchReport::default(), "07:59:59 in Berlin");
        assert_eq!(w.chat.total_calls(), 0);

        w.clock.set(fire);
        let report = w.dispatch().await;
        assert_eq!(report.digests_sent, 1, "{report:?}");
        let msgs = w.chat.messages("daily");
        assert_eq!(msgs.len(), 1);
        let digest = &msgs[0].reply;
        assert_eq!(digest.tone, Tone::Digest);
        assert_eq!(digest_titles(digest), [KOREA_TITLE]);
        assert!(
            digest.title.as_deref().unwrap_or_default().contains("(Europe/Berlin)"),
            "{digest:#?}"
        );
        assert!(all_text(digest).contains(&w.site.url("/a/k")));

        assert_eq!(w.dispatch().await, DispatchReport::default(), "a digest is sent once");
        assert_eq!(w.chat.total_calls(), 1);

        w.clock.set(fire + DAY);
        let report = w.dispatch().await;
        assert_eq!((report.digests_sent, report.digests_empty), (0, 1), "{report:?}");
        assert_eq!(w.chat.total_calls(), 1, "an empty period posts nothing");
        let ch = w.app.store.channel(ctx.channel.id).await.expect("read").expect("channel");
        assert_eq!(ch.digest_next_at, Some(fire + 2 * DAY));
    })
    .await;
}

#[tokio::test]
async fn daily_digest_follows_berlin_across_the_end_of_summer_time() {
    on_each_backend(|| async {
        // Fri 23 Oct 2026, 14:00 CEST. Berlin goes back to CET on Sun 25 Oct at 01:00 UTC.
        let start = utc(2026, 10, 23, 12, 0);
        let w = world_at(start).await;
        let url = w.site.url("/dst.xml");
        let (row, _) = w.app.store.add_feed(&url, 900, start).await.expect("feed");
        w.app.store.link_feed(w.community, row.id, None, start).await.expect("link");
        let mut ctx = w.ctx("daily", Role::Admin).await;
        w.ok(&mut ctx, &format!("subscribe {} digest", row.id)).await;
        w.ok(&mut ctx, "digest schedule daily 08:00 Europe/Berlin").await;

        let fires = [
            ("Saturday", utc(2026, 10, 24, 6, 0)), // 08:00 CEST
            ("Sunday", utc(2026, 10, 25, 7, 0)),   // 08:00 CET, the first day after the change
            ("Monday", utc(2026, 10, 26, 7, 0)),   // 08:00 CET
        ];
        for (n, (day, fire)) in fires.into_iter().enumerate() {
            w.clock.set(fire - 3 * HOUR);
            let title = format!("{day} story");
            let article = NewArticle {
                feed_id: row.id,
                item_key: format!("dst-{n}"),
                url: Some(format!("https://example.org/{day}")),
                title: Some(title.clone()),
                fetched_at: w.now(),
                text: format!("What happened on {day}. It was a quiet day."),
                summary: format!("What happened on {day}."),
                text_source: "feed",
                ..NewArticle::default()
            };
            let stored = w.app.store.insert_article_with_deliveries(&article, &[], w.now()).await;
            assert!(stored.expect("insert").is_some());

            for early in [fire - HOUR, fire - 1] {
                w.clock.set(early);
                w.dispatch().await;
                assert_eq!(w.chat.messages("daily").len(), n, "{day}: fired early at {early}");
            }
            w.clock.set(fire);
            let report = w.dispatch().await;
            assert_eq!(report.digests_sent, 1, "{day}: {report:?}");
            let msgs = w.chat.messages("daily");
            assert_eq!(msgs.len(), n + 1);
            assert_eq!(digest_titles(&msgs[n].reply), [title], "{day}");
            assert_eq!(msgs[n].reply.tone, Tone::Digest);
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 8. digest now / digest preview

#[tokio::test]
async fn digest_preview_shows_without_sending_and_digest_now_sends_once() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("reading", "digest")]).await;
        new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT)]).await;
        let mut ctx = w.ctx("reading", Role::Admin).await;

        let preview = w.ok(&mut ctx, "digest preview").await;
        assert_eq!(preview.visibility, Visibility::Private);
        assert_eq!(preview.tone, Tone::Digest);
        assert!(
            preview.title.as_deref().unwrap_or_default().starts_with("Preview:"),
            "{preview:#?}"
        );
        assert_eq!(digest_titles(&preview), [KOREA_TITLE]);
        assert_eq!(w.dispatch().await, DispatchReport::default(), "a preview sends nothing");
        assert_eq!(w.chat.total_calls(), 0);

        w.ok(&mut ctx, "digest now").await;
        w.ok(&mut ctx, "digest now").await;
        let report = w.dispatch().await;
        assert_eq!(report.digests_sent, 1, "{report:?}");
        let msgs = w.chat.messages("reading");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].reply.tone, Tone::Digest);
        assert_eq!(digest_titles(&msgs[0].reply), [KOREA_TITLE]);

        w.clock.advance(1);
        w.ok(&mut ctx, "digest now").await;
        w.dispatch().await;
        assert_eq!(w.chat.total_calls(), 1, "the article is not sent again");
        let preview = w.ok(&mut ctx, "digest preview").await;
        assert!(digest_titles(&preview).is_empty(), "{preview:#?}");
        assert!(preview.text.contains("empty"), "{}", preview.text);
    })
    .await;
}

#[tokio::test]
async fn digest_now_twice_from_contexts_read_at_the_same_time_sends_once() {
    on_each_backend(|| async {
        let (w, _) = feed_world(&[("reading", "digest")]).await;
        new_items(&w, &[("k", KOREA_TITLE, KOREA_TEXT)]).await;
        // Two people ask at nearly the same moment; each adapter read the channel first.
        let first = w.ctx("reading", Role::Admin).await;
        let second = w.ctx("reading", Role::ChannelManager).await;
        let reply = w.core.handle_text(&first, "digest now").await;
        assert_eq!(reply.tone, Tone::Success, "{reply:#?}");
        w.clock.advance(1);
        let reply = w.core.handle_text(&second, "digest now").await;
        assert_ne!(reply.tone, Tone::Error, "{reply:#?}");
        w.dispatch().await;
        let titles: Vec<Vec<String>> =
            w.chat.messages("reading").iter().map(|m| digest_titles(&m.reply)).collect();
        assert_eq!(titles, [[KOREA_TITLE]], "the article is in one digest only");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 9. A dispatcher process killed mid-round

const KILL_ENV: &str = "HERALD_KILL_CHILD_DB";
/// The child's DATABASE_URL when the test runs on PostgreSQL.
const KILL_URL_ENV: &str = "HERALD_KILL_CHILD_URL";
const KILL_CHANNELS: usize = 300;

/// Wraps the console platform so that each send takes a while, and the kill lands
/// between the console recording a post and the dispatcher marking it sent.
struct SlowPlatform(ConsolePlatform);

impl Platform for SlowPlatform {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn send<'a>(&'a self, external_id: &'a str, reply: &'a Reply, key: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let sent = self.0.send(external_id, reply, key).await;
            tokio::time::sleep(Duration::from_millis(40)).await;
            sent
        })
    }

    fn digest_limits(&self) -> DigestLimits {
        self.0.digest_limits()
    }
}

/// Counts printed posts (the console prints a post and flushes once).
struct CountingSink(Arc<AtomicUsize>);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The child half of `a_dispatcher_killed_mid_round_leaves_nothing_lost_or_doubled`: a
/// no-op unless that test started this binary with the database's directory.
#[tokio::test]
async fn kill_child() {
    let Some(dir) = std::env::var_os(KILL_ENV) else { return };
    let clock = ManualClock::new(T0);
    let app = app(Path::new(&dir), &clock, |config| {
        if let Ok(url) = std::env::var(KILL_URL_ENV) {
            config.database_url = url;
        }
    })
    .await;
    let out: Output = Arc::new(Mutex::new(Box::new(std::io::sink())));
    let console = ConsolePlatform::new(app.store.clone(), app.clock.clone(), out);
    let platforms: Vec<Arc<dyn Platform>> = vec![Arc::new(SlowPlatform(console))];
    let dispatcher = Dispatcher::new(app.store.clone(), app.clock.clone(), platforms);
    let started = Instant::now();
    // Bounded, in case the parent died without killing this process.
    while started.elapsed() < Duration::from_secs(60) {
        dispatcher.run_once().await.expect("dispatch round");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_killed_mid_round_leaves_nothing_lost_or_doubled() {
    killed_mid_round(None).await;
}

/// The same on PostgreSQL: the killed process's connections die with it, its channel
/// leases stay until they run out, and then another process sends the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_killed_mid_round_on_postgres_leaves_nothing_lost_or_doubled() {
    let Some(cluster) = crate::support::postgres::shared() else { return };
    killed_mid_round(Some(cluster.fresh_database().await)).await;
}

async fn killed_mid_round(database: Option<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let url = database.clone();
    let app = app(dir.path(), &clock, |config| {
        if let Some(url) = url {
            config.database_url = url;
        }
    })
    .await;
    let store = &app.store;
    let community = store.console_community(T0).await.expect("community");
    let (feed, _) = store.add_feed("http://127.0.0.1:9/kill.xml", 900, T0).await.expect("feed");
    store.link_feed(community, feed.id, None, T0).await.expect("link");
    let mut channels = Vec::new();
    for n in 0..KILL_CHANNELS {
        let ch = store
            .ensure_channel(community, "console", &format!("room-{n:03}"), None, T0)
            .await
            .expect("channel");
        store.subscribe(ch.id, feed.id, "instant", &[], &[], None, T0).await.expect("subscribe");
        channels.push(ch);
    }
    let article = NewArticle {
        feed_id: feed.id,
        item_key: "only".into(),
        url: Some("https://example.org/only".into()),
        title: Some("The only article".into()),
        fetched_at: T0,
        text: "One article for three hundred rooms.".into(),
        summary: "One article for three hundred rooms.".into(),
        text_source: "feed",
        ..NewArticle::default()
    };
    let ids: Vec<i64> = channels.iter().map(|c| c.id).collect();
    let enqueued = store.insert_article_with_deliveries(&article, &ids, T0).await.expect("insert");
    let enqueued = enqueued.expect("new article");
    assert_eq!(enqueued.deliveries, KILL_CHANNELS);

    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"));
    child
        .args(["delivery::kill_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(KILL_ENV, dir.path());
    if let Some(url) = &database {
        child.env(KILL_URL_ENV, url);
    }
    let mut child = child
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the child");
    // Real time here: the child runs on its own, and we wait for it to be mid-way.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let posted = store.console_posts().await.expect("read posts").len();
        if posted >= 40 {
            break;
        }
        if let Some(status) = child.try_wait().expect("child status") {
            panic!("the child exited ({status}) after {posted} posts, before it was killed");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child posted only {posted} in 60 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");

    let posted_by_child = store.console_posts().await.expect("read posts").len();
    assert!(posted_by_child < KILL_CHANNELS, "the child finished before the kill");
    let rows = read_outbox(&app.config.database_url, dir.path()).await;
    let marked = rows.iter().filter(|d| d.state == "sent").count();
    assert!(marked <= posted_by_child, "marked {marked}, posted {posted_by_child}");
    eprintln!(
        "killed with {posted_by_child} of {KILL_CHANNELS} posted, {marked} marked sent \
         ({} posted but not recorded)",
        posted_by_child - marked
    );

    // The child's claims hold for their lease (120 s); after it, this process finishes.
    let printed = Arc::new(AtomicUsize::new(0));
    let out: Output = Arc::new(Mutex::new(Box::new(CountingSink(printed.clone()))));
    let shared: SharedClock = Arc::new(clock.clone());
    let platforms: Vec<Arc<dyn Platform>> =
        vec![Arc::new(ConsolePlatform::new(store.clone(), shared.clone(), out))];
    let dispatcher = Dispatcher::new(store.clone(), shared, platforms);
    clock.set(T0 + 121);
    for _ in 0..5 {
        if dispatcher.run_once().await.expect("dispatch") == DispatchReport::default() {
            break;
        }
    }
    assert_eq!(store.delivery_counts().await.expect("counts"), [("sent".to_string(), 300)]);
    let posts = store.console_posts().await.expect("read posts");
    assert_eq!(posts.len(), KILL_CHANNELS, "every room got the post once");
    let want: HashSet<(String, String)> = channels
        .iter()
        .map(|c| (key_in(&rows, enqueued.article_id, c.id), c.external_id.clone()))
        .collect();
    let got: HashSet<(String, String)> =
        posts.iter().map(|(k, ch, _)| (k.clone(), ch.clone())).collect();
    assert_eq!(got, want);
    assert!(posts.iter().all(|(_, _, body)| body.contains("The only article")));
    assert_eq!(
        printed.load(Ordering::SeqCst),
        KILL_CHANNELS - posted_by_child,
        "this process printed exactly the posts the child had not"
    );
}

/// Every send two dispatchers make, with how many sends were in flight per channel.
#[derive(Default)]
struct Sends {
    /// (channel, key) in the order the sends began.
    log: Vec<(String, String)>,
    in_flight: HashMap<String, usize>,
    /// The most sends to one channel at once: a channel has one sender, so 1.
    most_at_once: usize,
}

/// A platform that records sends and takes a few milliseconds for each, so that two
/// senders of one channel would overlap.
struct Recorder(Arc<Mutex<Sends>>);

impl Platform for Recorder {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn send<'a>(&'a self, external_id: &'a str, _reply: &'a Reply, key: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            {
                let mut s = self.0.lock().expect("sends");
                s.log.push((external_id.to_string(), key.to_string()));
                let n = s.in_flight.entry(external_id.to_string()).or_default();
                *n += 1;
                let n = *n;
                s.most_at_once = s.most_at_once.max(n);
            }
            tokio::time::sleep(Duration::from_millis(3)).await;
            *self.0.lock().expect("sends").in_flight.entry(external_id.to_string()).or_default() -=
                1;
            Ok(herald::platform::Sent { message_id: None })
        })
    }

    fn digest_limits(&self) -> DigestLimits {
        DigestLimits::DISCORD
    }
}

/// Two dispatchers on one PostgreSQL database (each with its own connections, as two
/// processes have) send the same outbox at the same time: each post goes out once, each
/// channel's in order, and no channel is ever sent to by both at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dispatchers_on_one_postgres_database_send_each_post_once_in_order() {
    let Some(cluster) = crate::support::postgres::shared() else { return };
    let url = cluster.fresh_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let database = url.clone();
    let app = app(dir.path(), &clock, |config| config.database_url = database).await;
    let store = &app.store;
    let community = store.ensure_community(PLATFORM, "guild", None, T0).await.expect("guild");
    let (feed, _) = store.add_feed("http://127.0.0.1:9/two.xml", 900, T0).await.expect("feed");
    store.link_feed(community, feed.id, None, T0).await.expect("link");
    let mut channels = Vec::new();
    for n in 0..20 {
        let room = format!("room-{n:02}");
        let ch = store.ensure_channel(community, PLATFORM, &room, None, T0).await.expect("channel");
        channels.push(ch.id);
    }
    for i in 0..10 {
        let a = NewArticle {
            feed_id: feed.id,
            item_key: format!("item-{i}"),
            title: Some(format!("Story {i}")),
            fetched_at: T0 + i,
            summary: format!("Story {i}."),
            text_source: "feed",
            ..NewArticle::default()
        };
        store.insert_article_with_deliveries(&a, &channels, T0).await.expect("insert");
    }
    let sends: Arc<Mutex<Sends>> = Arc::default();
    let shared: SharedClock = Arc::new(clock.clone());
    let mut dispatchers = Vec::new();
    for _ in 0..2 {
        let handle = herald::store::Store::open(&url).await.expect("a process's own handle");
        let platforms: Vec<Arc<dyn Platform>> = vec![Arc::new(Recorder(sends.clone()))];
        // A few channels at a time, so both keep claiming while the other sends.
        let policy = DeliveryPolicy { channels_at_once: 3, ..DeliveryPolicy::default() };
        dispatchers.push(Dispatcher::new(handle, shared.clone(), platforms).with_policy(policy));
    }
    let mut rounds = 0;
    while store.delivery_counts().await.expect("counts") != [("sent".to_string(), 200)] {
        rounds += 1;
        assert!(rounds <= 20, "{:?}", store.delivery_counts().await);
        let (a, b) = futures_util::join!(dispatchers[0].run_once(), dispatchers[1].run_once());
        let (a, b) = (a.expect("dispatch"), b.expect("dispatch"));
        eprintln!("round {rounds}: {} and {} sent", a.sent, b.sent);
    }
    let rows = read_outbox(&url, dir.path()).await;
    let sends = sends.lock().expect("sends");
    assert_eq!(sends.most_at_once, 1, "two senders in one channel at once");
    let keys: HashSet<&(String, String)> = sends.log.iter().collect();
    assert_eq!((sends.log.len(), keys.len()), (200, 200), "every post sent once");
    for (n, channel) in channels.iter().enumerate() {
        let room = format!("room-{n:02}");
        let sent: Vec<&String> =
            sends.log.iter().filter(|(c, _)| *c == room).map(|(_, k)| k).collect();
        let mut queue: Vec<&DeliveryRow> =
            rows.iter().filter(|d| d.channel_id == *channel).collect();
        queue.sort_by_key(|d| d.article_id);
        let order: Vec<&String> = queue.iter().map(|d| &d.idem_key).collect();
        assert_eq!(sent, order, "{room}: its posts in publication order");
    }
}

// ---------------------------------------------------------------------------------------
// 10. Communities see only their own feeds

#[tokio::test]
async fn communities_only_see_their_own_feeds() {
    on_each_backend(|| async {
        let w = world().await;
        let other = w.app.store.ensure_community(PLATFORM, "guild-2", Some("Other"), T0).await;
        let other = other.expect("second community");
        let mut a = w.ctx("a-room", Role::Admin).await;
        let mut b = w.ctx_in(other, "b-room", Role::Admin).await;
        let x_items = [(
            "x1",
            "Glacier retreats a record distance",
            "http://example.invalid/x1",
            "<p>The glacier lost a record length this summer.</p>",
        )];
        let y_items = [(
            "y1",
            "Orchestra opens its season",
            "http://example.invalid/y1",
            "<p>The orchestra opened its season with Mahler.</p>",
        )];
        w.publish("/x.xml", "Xenon Times", &x_items);
        w.publish("/y.xml", "Yonder Post", &y_items);
        let x = w.add_feed(&mut a, "/x.xml").await;
        let y = w.add_feed(&mut b, "/y.xml").await;
        assert_eq!(w.poll_now().await.polled, 2);
        let x_article = w.app.store.articles_of_feed(x, 10).await.expect("read")[0].id;

        let found = w.ok(&mut a, "search glacier").await;
        assert_eq!(digest_titles(&found), ["Glacier retreats a record distance"]);
        let found = w.ok(&mut b, "search glacier").await;
        assert!(digest_titles(&found).is_empty(), "{found:#?}");
        assert!(!all_text(&found).contains("Glacier"), "{found:#?}");
        let latest = w.ok(&mut b, "latest").await;
        assert_eq!(digest_titles(&latest), ["Orchestra opens its season"]);
        let read = w.cmd(&mut b, &format!("article {x_article}")).await;
        assert_eq!(read.tone, Tone::Error, "{read:#?}");
        assert!(!all_text(&read).contains("Glacier"), "{read:#?}");
        let read = w.ok(&mut a, &format!("article {x_article}")).await;
        assert_eq!(read.title.as_deref(), Some("Glacier retreats a record distance"));
        let err = w.cmd(&mut b, &format!("subscribe {x}")).await;
        assert_eq!(err.tone, Tone::Error, "B cannot subscribe to A's feed by id: {err:#?}");

        // B follows X too; A leaving it keeps it fetched, the last one leaving deletes it.
        w.ok(&mut b, &format!("feeds add {}", w.site.url("/x.xml"))).await;
        let reply = w.ok(&mut a, &format!("feeds remove {x}")).await;
        assert!(!reply.text.contains("stopped fetching"), "{reply:#?}");
        assert!(w.app.store.feed_by_id(x).await.expect("read").is_some(), "B still follows it");
        let hits = w.site.hits("/x.xml").len();
        w.poll_later().await;
        assert!(w.site.hits("/x.xml").len() > hits, "still fetched for B");
        let found = w.ok(&mut a, "search glacier").await;
        assert!(digest_titles(&found).is_empty(), "A left X: {found:#?}");
        let found = w.ok(&mut b, "search glacier").await;
        assert_eq!(digest_titles(&found), ["Glacier retreats a record distance"]);

        let reply = w.ok(&mut b, &format!("feeds remove {x}")).await;
        assert!(reply.text.contains("stopped fetching"), "{reply:#?}");
        assert!(w.app.store.feed_by_id(x).await.expect("read").is_none());
        let hits = w.site.hits("/x.xml").len();
        w.poll_later().await;
        assert_eq!(w.site.hits("/x.xml").len(), hits, "no longer fetched");
        assert!(w.app.store.feed_by_id(y).await.expect("read").is_some());
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 11. Roles and typos

#[tokio::test]
async fn roles_are_enforced_and_typos_get_suggestions() {
    on_each_backend(|| async {
        let w = world().await;
        let mut admin = w.ctx("general", Role::Admin).await;
        let items = [("e1", HARBOUR_TITLE, "http://example.invalid/e1", HARBOUR_TEXT)];
        w.publish("/feed.xml", "Eurasia", &items);
        w.publish("/other.xml", "Other", &items);
        let feed = w.add_feed(&mut admin, "/feed.xml").await;
        w.poll_now().await;
        let other_url = w.site.url("/other.xml");

        let mut member = w.ctx("general", Role::Member).await;
        let reply = w.cmd(&mut member, &format!("feeds add {other_url}")).await;
        assert_eq!(reply.tone, Tone::Error);
        assert!(reply.text.contains("admin role"), "{}", reply.text);
        let reply = w.cmd(&mut member, &format!("subscribe {feed}")).await;
        assert_eq!(reply.tone, Tone::Error);
        assert!(reply.text.contains("channel manager role"), "{}", reply.text);
        let reply = w.ok(&mut member, "search crane").await;
        assert_eq!(digest_titles(&reply), [HARBOUR_TITLE], "members may search");

        let mut manager = w.ctx("general", Role::ChannelManager).await;
        let reply = w.cmd(&mut manager, &format!("feeds add {other_url}")).await;
        assert_eq!(reply.tone, Tone::Error);
        assert!(reply.text.contains("admin role"), "{}", reply.text);
        let reply = w.cmd(&mut manager, &format!("subscribe {other_url}")).await;
        assert_eq!(
            reply.tone,
            Tone::Error,
            "a manager cannot add a feed by subscribing: {reply:#?}"
        );
        w.ok(&mut manager, &format!("subscribe {feed}")).await;
        let feeds = w.app.store.community_feeds(w.community).await.expect("feeds");
        assert_eq!(feeds.len(), 1, "nothing was added by refused commands");
        let subs = w.app.store.channel_subscriptions(manager.channel.id).await.expect("subs");
        assert_eq!(subs.len(), 1);

        let reply = w.cmd(&mut member, "serach x").await;
        assert_eq!(reply.tone, Tone::Error);
        assert!(reply.text.contains("did you mean `search`"), "{}", reply.text);
        let reply = w.cmd(&mut manager, "unsubscribe Eurasa").await;
        assert_eq!(reply.tone, Tone::Error);
        assert!(reply.text.contains(&format!("Did you mean #{feed} Eurasia")), "{}", reply.text);
        assert_eq!(
            w.app.store.channel_subscriptions(manager.channel.id).await.expect("subs").len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn search_since_a_date_starts_at_midnight_in_the_channels_zone() {
    on_each_backend(|| async {
        let w = world().await;
        let mut admin = w.ctx("tokyo", Role::Admin).await;
        w.publish("/lantern.xml", "Lanterns", &[]);
        let feed = w.add_feed(&mut admin, "/lantern.xml").await;
        // T0 is 2026-11-29 09:00 UTC. Midnight of the 29th is 2026-11-28 15:00 UTC in Tokyo.
        let utc = |h: u32| Utc.with_ymd_and_hms(2026, 11, 28, h, 0, 0).unwrap().timestamp();
        for (key, title, at) in [
            ("before", "Lantern festival eve", utc(14)),
            ("after", "Lantern festival opens", utc(16)),
        ] {
            let a = NewArticle {
                feed_id: feed,
                item_key: key.into(),
                url: Some(format!("https://example.org/{key}")),
                title: Some(title.into()),
                fetched_at: at,
                text: "Paper lanterns line the river.".into(),
                summary: "Paper lanterns line the river.".into(),
                text_source: "feed",
                ..NewArticle::default()
            };
            w.app.store.insert_article(&a).await.expect("insert").expect("new article");
        }
        w.ok(&mut admin, "digest schedule daily 08:00 Asia/Tokyo").await;
        let reply = w.ok(&mut admin, "search lantern --since 2026-11-29").await;
        assert_eq!(
            digest_titles(&reply),
            ["Lantern festival opens"],
            "the 29th began at 15:00 UTC on the 28th in Tokyo: {reply:#?}"
        );
        // A channel without a zone counts dates in UTC: the 29th had not begun for either.
        let mut plain = w.ctx("plain", Role::Member).await;
        let reply = w.ok(&mut plain, "search lantern --since 2026-11-29").await;
        assert!(digest_titles(&reply).is_empty(), "{reply:#?}");
        let reply = w.ok(&mut plain, "search lantern --since 2026-11-28").await;
        assert_eq!(digest_titles(&reply).len(), 2, "{reply:#?}");
    })
    .await;
}
