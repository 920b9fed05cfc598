//! The outbox in the store (`store/deliveries.rs`): fan-out, channel claims, sends and
//! retries, digests, backoff, expiry, notices and the console's posts, the same tests on
//! each backend (`support::backends`). Several `Store` handles on one database stand for
//! several herald processes: on PostgreSQL they claim side by side.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use herald::store::{
    Attempt, NewArticle, NoticeSubject, OutboxRow, PollRecord, PollSuccess, Store, delivery_key,
};

use crate::support::backends::{self, Backend, article};

/// The platform the tests' channels are on, as a dispatcher that posts there asks.
const CHAT: &[&str] = &["chat"];
const T0: i64 = 1_780_000_000;
const HOUR: i64 = 3600;

/// A community following one feed, and `n` channels in it.
async fn world(b: &Backend, n: usize) -> (i64, i64, Vec<i64>) {
    let community = b.community("g").await;
    let (feed, _) = b.store.add_feed("https://a.example/feed", 900, T0).await.expect("add");
    b.link(community, feed.id).await;
    let mut channels = Vec::new();
    for i in 0..n {
        channels.push(b.channel(community, &format!("room{i}"), T0 - HOUR).await);
    }
    (community, feed.id, channels)
}

/// Handles of their own on the same database, as other processes have.
async fn handles(b: &Backend, n: usize) -> Vec<Store> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Store::open(&b.url).await.expect("another handle"));
    }
    out
}

async fn ids_of(s: &Store, channel: i64) -> Vec<i64> {
    s.channel_deliveries(channel, 100).await.expect("queue").iter().map(|d| d.article_id).collect()
}

#[tokio::test]
async fn articles_fan_out_to_one_outbox_row_per_channel_in_publication_order() {
    for b in backends::each().await {
        let s = &b.store;
        let installation = s.installation_id().await.expect("installation");
        assert!(
            installation.len() == 8 && installation.chars().all(|c| c.is_ascii_hexdigit()),
            "{installation}"
        );
        let (_, feed, ch) = world(&b, 2).await;
        b.subscribe(ch[0], feed, "instant", T0).await;

        let mut a = article(feed, "a", T0 + 10);
        a.published_at = Some(T0 + 5);
        let first = s.insert_article_with_deliveries(&a, &ch, T0 + 10).await.expect("insert");
        let first = first.expect("a new article");
        assert_eq!(first.deliveries, 2);
        let again = s.insert_article_with_deliveries(&a, &ch, T0 + 11).await.expect("insert");
        assert_eq!(again, None, "the feed had the item: nothing is queued twice");

        // One poll: an item published before `a`, one without a date, one dated in the
        // future (sorted as just fetched) and `a` again; then the feed's record.
        let mut older = article(feed, "older", T0 + 20);
        older.published_at = Some(T0 + 1);
        let undated = article(feed, "undated", T0 + 20);
        let mut future = article(feed, "future", T0 + 21);
        future.published_at = Some(T0 + 99 * HOUR);
        let learned = PollSuccess {
            title: Some("A feed".into()),
            site_url: None,
            etag: Some("\"v2\"".into()),
            last_modified: None,
        };
        let record = PollRecord {
            feed_id: feed,
            now: T0 + 20,
            next_poll_at: T0 + 920,
            learned: Some(&learned),
        };
        let batch = vec![
            (older, vec![ch[0]]),
            (undated, ch.clone()),
            (future, vec![ch[1]]),
            (a.clone(), ch.clone()),
        ];
        let stored = s.store_poll_articles(&batch, T0 + 20, Some(record)).await.expect("poll");
        let fanned: Vec<Option<usize>> =
            stored.iter().map(|e| e.as_ref().map(|e| e.deliveries)).collect();
        assert_eq!(fanned, [Some(1), Some(2), Some(1), None]);
        let f = s.feed_by_id(feed).await.expect("feed").expect("exists");
        assert_eq!(
            (f.title.as_deref(), f.next_poll_at, f.primed),
            (Some("A feed"), T0 + 920, true)
        );
        assert_eq!(s.delivery_counts().await.expect("counts"), [("pending".to_string(), 6)]);

        let id = |e: &Option<herald::store::Enqueued>| e.as_ref().expect("new").article_id;
        let (older, undated, future) = (id(&stored[0]), id(&stored[1]), id(&stored[2]));
        assert_eq!(ids_of(s, ch[0]).await, [older, first.article_id, undated]);
        assert_eq!(ids_of(s, ch[1]).await, [first.article_id, undated, future]);

        let jobs = s.channel_deliveries(ch[0], 1).await.expect("queue");
        let job = &jobs[0];
        assert_eq!(job.idem_key, delivery_key(&installation, older, ch[0]));
        assert_eq!(
            (job.platform.as_str(), job.feed_url.as_str()),
            ("chat", "https://a.example/feed")
        );
        assert_eq!((job.attempts, job.next_attempt_at, job.created_at), (0, T0 + 20, T0 + 20));
        assert!(job.notify && job.style == "embed", "the subscription's options: {job:?}");
        let unsubscribed = &s.channel_deliveries(ch[1], 1).await.expect("queue")[0];
        assert!(!unsubscribed.notify && !unsubscribed.thread, "defaults without a subscription");
    }
}

#[tokio::test]
async fn a_channel_is_held_by_one_sender_until_released_or_its_lease_runs_out() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 5).await;
        // ch[0]: a post due. ch[1]: its first post backs off, a later one is due (order
        // holds it back). ch[2]: paused. ch[3]: nothing owed. ch[4]: only a digest, the
        // longest waiting.
        b.digest_schedule(ch[4], T0 - 2 * HOUR, T0 - 60).await;
        assert_eq!(
            s.open_digest(ch[4], T0 - HOUR, None, T0 - 60).await.expect("open"),
            Some((T0 - 2 * HOUR, T0 - HOUR))
        );
        let x = s
            .insert_article_with_deliveries(&article(feed, "x", T0), &ch[..3], T0 - 30)
            .await
            .expect("insert")
            .expect("new");
        s.insert_article_with_deliveries(&article(feed, "y", T0 + 1), &[ch[1]], T0 - 30)
            .await
            .expect("insert");
        let head = s.channel_deliveries(ch[1], 1).await.expect("queue")[0].id;
        assert_eq!(
            s.channel_deliveries(ch[1], 1).await.expect("queue")[0].article_id,
            x.article_id
        );
        s.retry_outbox(OutboxRow::Delivery(head), T0 + 500, "boom", Attempt::Failed)
            .await
            .expect("retry");
        b.pause_channel(ch[2], Some("no access")).await;

        let claim = |at: i64, limit: i64| async move {
            let jobs = s.claim_due_channels(at, 120, limit, CHAT).await.expect("claim");
            jobs.iter().map(|j| j.id).collect::<Vec<_>>()
        };
        let elsewhere = s.claim_due_channels(T0, 120, 10, &["matrix"]).await.expect("claim");
        assert!(elsewhere.is_empty(), "only channels of the platforms asked for");
        assert_eq!(claim(T0, 1).await, [ch[4]], "the longest waiting first");
        let jobs = s.claim_due_channels(T0, 120, 10, CHAT).await.expect("claim");
        assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [ch[0]]);
        assert_eq!((jobs[0].platform.as_str(), jobs[0].external_id.as_str()), ("chat", "room0"));
        assert_eq!(jobs[0].lease_until, T0 + 120, "the claim names its lease");
        assert!(claim(T0 + 119, 10).await.is_empty(), "both are held");
        assert_eq!(s.channels_being_sent(T0 + 119).await.expect("count"), 2, "status counts them");

        // Renewing and releasing name the lease held: a stale one changes nothing.
        assert!(!s.renew_channel(ch[0], T0 + 1, T0 + 300).await.expect("renew"), "not that lease");
        assert!(s.renew_channel(ch[0], T0 + 120, T0 + 300).await.expect("renew"));
        assert_eq!(claim(T0 + 200, 10).await, [ch[4]], "a lease ran out, the renewed one holds");
        s.release_channel(ch[0], T0 + 120).await.expect("a stale release");
        assert!(claim(T0 + 200, 10).await.is_empty(), "a stale release frees nothing");
        s.release_channel(ch[0], T0 + 300).await.expect("release");
        assert_eq!(claim(T0 + 200, 10).await, [ch[0]], "released");
        s.release_channels(&[(ch[0], T0 + 320), (ch[4], T0 + 320)]).await.expect("release");
        s.release_channels(&[]).await.expect("nothing to release");
        assert_eq!(claim(T0 + 200, 10).await, [ch[0], ch[4]]);
        assert_eq!(claim(T0 + 500, 10).await, [ch[0], ch[1], ch[4]], "ch[1]'s first post is due");
        b.pause_channel(ch[2], None).await;
        assert_eq!(claim(T0 + 500, 10).await, [ch[2]], "resumed");
    }
}

#[tokio::test]
async fn sends_retries_and_progress_are_recorded_on_the_row() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 1).await;
        for (i, key) in ["a", "b"].iter().enumerate() {
            s.insert_article_with_deliveries(&article(feed, key, T0 + i as i64), &ch, T0)
                .await
                .expect("insert");
        }
        let job = s.channel_deliveries(ch[0], 10).await.expect("queue")[0].clone();
        s.record_delivery_progress(job.id, "thread:42").await.expect("progress");
        s.retry_outbox(OutboxRow::Delivery(job.id), T0 + 60, "rate limited", Attempt::Uncounted)
            .await
            .expect("retry");
        let read = s.channel_deliveries(ch[0], 1).await.expect("queue")[0].clone();
        assert_eq!(
            (read.progress.as_deref(), read.attempts, read.next_attempt_at),
            (Some("thread:42"), 0, T0 + 60)
        );
        s.retry_outbox(OutboxRow::Delivery(job.id), T0 + 90, "timeout", Attempt::Failed)
            .await
            .expect("retry");
        assert_eq!(s.channel_deliveries(ch[0], 1).await.expect("queue")[0].attempts, 1);
        s.mark_delivery_sent(job.id, T0 + 95, Some("m1")).await.expect("sent");
        let left = s.channel_deliveries(ch[0], 10).await.expect("queue");
        assert_eq!(left.len(), 1);
        assert_ne!(left[0].id, job.id);
        assert_eq!(
            s.delivery_counts().await.expect("counts"),
            [("pending".to_string(), 1), ("sent".to_string(), 1)]
        );
        // A sender that dies after sending: its rows are leased, then due again.
        let claimed = s.claim_due_deliveries(T0 + 100, 120, 10).await.expect("claim");
        assert_eq!(claimed.iter().map(|d| d.id).collect::<Vec<_>>(), [left[0].id]);
        assert!(s.claim_due_deliveries(T0 + 219, 120, 10).await.expect("claim").is_empty());
        assert_eq!(s.claim_due_deliveries(T0 + 220, 120, 10).await.expect("claim").len(), 1);
    }
}

/// Five handles (processes) claim channels side by side, in rounds: no channel is ever
/// held by two of them, and every due channel is taken.
#[tokio::test]
async fn concurrent_channel_claims_never_share_a_channel() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 30).await;
        s.insert_article_with_deliveries(&article(feed, "a", T0), &ch, T0).await.expect("insert");
        let hs = handles(&b, 4).await;
        let want: BTreeSet<i64> = ch.iter().copied().collect();
        for round in 0..6 {
            let now = T0 + round;
            let claims = hs
                .iter()
                .chain([s])
                .cycle()
                .take(16)
                .map(|h| h.claim_due_channels(now, 120, 3, CHAT));
            let mut taken = Vec::new();
            let mut held = Vec::new();
            for claim in join_all(claims).await {
                let claim = claim.expect("claim");
                taken.extend(claim.iter().map(|c| c.id));
                held.extend(claim.iter().map(|c| (c.id, c.lease_until)));
            }
            let distinct: BTreeSet<i64> = taken.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                taken.len(),
                "round {round}: a channel held twice: {taken:?}"
            );
            assert_eq!(distinct, want, "round {round}: every due channel once");
            assert!(s.claim_due_channels(now, 120, 100, CHAT).await.expect("claim").is_empty());
            s.release_channels(&held).await.expect("release");
        }
        for h in hs {
            h.close().await;
        }
    }
}

/// Row-by-row claims (`claim_due_deliveries`) from several handles at once.
#[tokio::test]
async fn concurrent_delivery_claims_never_share_a_row() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 10).await;
        for i in 0..4 {
            let a = article(feed, &format!("a{i}"), T0 + i);
            s.insert_article_with_deliveries(&a, &ch, T0).await.expect("insert");
        }
        let hs = handles(&b, 4).await;
        for round in 0..3 {
            // Each round starts when the previous round's leases ran out.
            let now = T0 + round * 1000;
            let claims = hs.iter().cycle().take(12).map(|h| h.claim_due_deliveries(now, 120, 5));
            let mut taken = Vec::new();
            for claim in join_all(claims).await {
                taken.extend(claim.expect("claim").iter().map(|d| d.id));
            }
            let distinct: BTreeSet<i64> = taken.iter().copied().collect();
            assert_eq!(distinct.len(), taken.len(), "round {round}: a row claimed twice");
            assert_eq!(distinct.len(), 40, "round {round}: every due row");
        }
        for h in hs {
            h.close().await;
        }
    }
}

/// Two processes that store the same poll at the same moment (which the feed claims
/// prevent, but a lease can run out mid-poll): each article and each of its deliveries
/// exists once, so nothing is posted twice. PostgreSQL only: SQLite is one process's
/// database (two writers on one file get SQLITE_BUSY for a transaction that read a
/// snapshot another one changed), and one process storing an item twice is
/// `articles_fan_out_to_one_outbox_row_per_channel_in_publication_order`.
#[tokio::test]
async fn the_same_article_fanned_out_by_two_processes_is_queued_once_per_channel() {
    for b in backends::each().await.filter(|b| b.name == "postgres") {
        let (_, feed, ch) = world(&b, 8).await;
        let hs = handles(&b, 2).await;
        for i in 0..10 {
            let a = article(feed, &format!("a{i}"), T0 + i);
            let (one, two) = futures_util::join!(
                hs[0].insert_article_with_deliveries(&a, &ch, T0),
                hs[1].insert_article_with_deliveries(&a, &ch, T0)
            );
            let won: Vec<usize> = [one, two]
                .into_iter()
                .filter_map(|e| e.expect("insert"))
                .map(|e| e.deliveries)
                .collect();
            assert_eq!(won, [8], "article {i}: one handle stores it with its deliveries");
        }
        for round in 0..5 {
            let batch: Vec<(NewArticle, Vec<i64>)> = (0..4)
                .map(|i| (article(feed, &format!("p{round}-{i}"), T0 + 100 + i), ch.clone()))
                .collect();
            let (one, two) = futures_util::join!(
                hs[0].store_poll_articles(&batch, T0, None),
                hs[1].store_poll_articles(&batch, T0, None)
            );
            let (one, two) = (one.expect("poll"), two.expect("poll"));
            for i in 0..4 {
                assert!(
                    one[i].is_some() != two[i].is_some(),
                    "round {round}, article {i}: stored by exactly one: {one:?} {two:?}"
                );
            }
        }
        let s = &b.store;
        assert_eq!(s.delivery_counts().await.expect("counts"), [("pending".to_string(), 30 * 8)]);
        for c in &ch {
            let queue = ids_of(s, *c).await;
            let distinct: BTreeSet<i64> = queue.iter().copied().collect();
            assert_eq!((queue.len(), distinct.len()), (30, 30), "channel {c}: one row per article");
        }
        for h in hs {
            h.close().await;
        }
    }
}

/// Every process sees the same digest due at the same moment: the window is opened once,
/// claimed by one of them, and the next window starts where it ended.
#[tokio::test]
async fn a_digest_window_due_in_several_processes_is_opened_and_claimed_once() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 1).await;
        let c = ch[0];
        b.subscribe(c, feed, "digest", T0).await;
        b.digest_schedule(c, T0, T0 + HOUR).await;
        let installation = s.installation_id().await.expect("installation");
        let hs = handles(&b, 5).await;
        // Rounds, since a race shows only sometimes: each window due in every process.
        for round in 0..6 {
            let (start, end) = (T0 + round * HOUR, T0 + (round + 1) * HOUR);
            let due = hs[0].digest_due_channels(end).await.expect("due");
            assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [c]);
            assert!(s.digest_due_channels(end - 1).await.expect("due").is_empty());

            let everyone = || hs.iter().chain([s]).cycle().take(8);
            let opens = everyone().map(|h| h.open_digest(c, end, Some(end + HOUR), end));
            let opened: Vec<_> =
                join_all(opens).await.into_iter().filter_map(|o| o.expect("open")).collect();
            assert_eq!(opened, [(start, end)], "round {round}: one window, opened once");
            assert!(s.digest_due_channels(end).await.expect("due").is_empty(), "clock moved on");

            let claims = everyone().map(|h| h.claim_channel_digests(c, end, 120, 5));
            let jobs: Vec<_> =
                join_all(claims).await.into_iter().flat_map(|j| j.expect("claim")).collect();
            assert_eq!(jobs.len(), 1, "round {round}: claimed by one: {jobs:?}");
            let job = &jobs[0];
            assert_eq!((job.window_start, job.window_end, job.parts_sent), (start, end, 0));
            assert_eq!((job.platform.as_str(), job.digest_tz.as_deref()), ("chat", Some("UTC")));
            assert!(job.idem_key.starts_with(&format!("h{installation}g")), "{}", job.idem_key);
            s.finish_digest(job.id, "sent", end).await.expect("sent");
        }

        // `digest now` at the same end finds nothing to take; a later one adjoins.
        let last = T0 + 6 * HOUR;
        assert_eq!(s.open_digest(c, last, None, last).await.expect("open"), None);
        let next = s.open_digest(c, last + 60, None, last + 60).await.expect("open");
        assert_eq!(next, Some((last, last + 60)));
        for h in hs {
            h.close().await;
        }
    }
}

#[tokio::test]
async fn digests_collect_their_window_and_go_out_part_by_part() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 2).await;
        let (c, instant) = (ch[0], ch[1]);
        b.subscribe(c, feed, "digest", T0).await;
        b.subscribe(instant, feed, "instant", T0).await;
        let mut history = article(feed, "history", T0 + 10);
        history.backfill = true;
        for a in [
            article(feed, "before", T0 - 10),
            history,
            article(feed, "early", T0 + 20),
            article(feed, "late", T0 + 30),
            article(feed, "after", T0 + HOUR),
        ] {
            s.insert_article(&a).await.expect("insert");
        }
        let keys = |sources: Vec<herald::store::DigestSource>| {
            sources.iter().map(|d| d.title.clone().unwrap_or_default()).collect::<Vec<_>>()
        };
        let sources = s.digest_sources(c, T0 - HOUR, T0 + HOUR).await.expect("sources");
        assert_eq!(keys(sources), ["Story late", "Story early"], "newest first, news only");
        assert!(s.digest_sources(instant, T0, T0 + HOUR).await.expect("sources").is_empty());

        b.digest_schedule(c, T0, T0 + HOUR).await;
        s.open_digest(c, T0 + HOUR, Some(T0 + 2 * HOUR), T0 + HOUR).await.expect("open");
        s.open_digest(c, T0 + 2 * HOUR, Some(T0 + 3 * HOUR), T0 + 2 * HOUR).await.expect("open");
        let jobs = s.claim_channel_digests(c, T0 + 2 * HOUR, 120, 5).await.expect("claim");
        let windows: Vec<i64> = jobs.iter().map(|j| j.window_end).collect();
        assert_eq!(windows, [T0 + HOUR, T0 + 2 * HOUR], "oldest window first");
        let first = jobs[0].id;
        s.mark_digest_parts(first, 1).await.expect("parts");
        s.retry_outbox(OutboxRow::Digest(first), T0 + 2 * HOUR, "timeout", Attempt::Failed)
            .await
            .expect("retry");
        let again = s.claim_channel_digests(c, T0 + 2 * HOUR, 120, 5).await.expect("claim");
        assert_eq!(again.len(), 1, "the second is leased");
        assert_eq!((again[0].id, again[0].parts_sent, again[0].attempts), (first, 1, 1));
        s.finish_digest(first, "sent", T0 + 2 * HOUR).await.expect("finish");
        s.finish_digest(jobs[1].id, "empty", T0 + 2 * HOUR).await.expect("finish");
        assert!(s.claim_channel_digests(c, T0 + 3 * HOUR, 120, 5).await.expect("claim").is_empty());
        let due = s.claim_due_channels(T0 + 3 * HOUR, 120, 5, CHAT).await.expect("claim");
        assert!(due.is_empty());
    }
}

#[tokio::test]
async fn backoff_probes_recovery_and_expiry_with_one_notice_per_channel() {
    for b in backends::each().await {
        let s = &b.store;
        let (community, feed, ch) = world(&b, 3).await;
        let x = s
            .insert_article_with_deliveries(&article(feed, "x", T0), &ch, T0)
            .await
            .expect("insert")
            .expect("new");
        s.insert_article_with_deliveries(&article(feed, "y", T0 + 1), &[ch[0]], T0)
            .await
            .expect("insert");
        let row = |c: usize| {
            let channel = ch[c];
            async move { s.channel_deliveries(channel, 1).await.expect("queue")[0].clone() }
        };
        let (x0, x1) = (row(0).await, row(1).await);
        assert_eq!((x0.article_id, x1.article_id), (x.article_id, x.article_id));
        s.retry_outbox(OutboxRow::Delivery(x0.id), T0 + 300, "down", Attempt::Failed)
            .await
            .expect("retry");
        s.retry_outbox(OutboxRow::Delivery(x1.id), T0 + 200, "down", Attempt::Failed)
            .await
            .expect("retry");

        assert!(
            !s.probe_platform("chat", T0 + 10, T0 + 250).await.expect("probe"),
            "due soon anyway"
        );
        assert!(s.probe_platform("chat", T0 + 10, T0 + 20).await.expect("probe"));
        assert_eq!(row(1).await.next_attempt_at, T0 + 10, "the soonest one probes");
        assert_eq!(row(0).await.next_attempt_at, T0 + 300);
        assert_eq!(s.release_backoff("other", T0 + 20).await.expect("release"), 0);
        assert_eq!(s.release_backoff("chat", T0 + 20).await.expect("release"), 1);
        assert_eq!(row(0).await.next_attempt_at, T0 + 20, "everything owed is due");

        b.pause_channel(ch[2], Some("no access")).await;
        let expired = s.expire_undelivered(T0, "3 days", T0 + 100).await.expect("expire");
        assert_eq!(expired, 4);
        assert_eq!(s.delivery_counts().await.expect("counts"), [("failed".to_string(), 4)]);
        let (count, last) = s.channel_expired(ch[0]).await.expect("expired");
        assert_eq!(count, 2);
        let last = last.expect("an error");
        assert!(last.starts_with("expired: not delivered within 3 days; last error:"), "{last}");
        let notices = s.notices().await.expect("notices");
        let expected: Vec<_> = ch[..2]
            .iter()
            .map(|&c| (community, "posts-expired".to_string(), c, "pending".to_string(), None))
            .collect();
        assert_eq!(notices, expected, "one per unpaused channel");
        assert_eq!(s.expire_undelivered(T0, "3 days", T0 + 200).await.expect("expire"), 0);
        assert_eq!(s.notices().await.expect("notices").len(), 2);
    }
}

#[tokio::test]
async fn state_changes_are_announced_once_where_the_community_last_saw_posts() {
    for b in backends::each().await {
        let s = &b.store;
        let (community, feed, ch) = world(&b, 3).await;
        b.subscribe(ch[0], feed, "instant", T0).await;
        s.insert_article_with_deliveries(&article(feed, "x", T0), &ch[1..2], T0)
            .await
            .expect("insert");
        let sent = s.channel_deliveries(ch[1], 1).await.expect("queue")[0].id;
        s.mark_delivery_sent(sent, T0 + 5, None).await.expect("sent");

        b.pause_channel(ch[0], Some("no access")).await;
        b.pause_channel(ch[2], Some("no access")).await; // nothing to post there: no notice
        assert_eq!(s.queue_state_notices(T0 + 10).await.expect("queue"), 1);
        assert_eq!(s.queue_state_notices(T0 + 11).await.expect("queue"), 0, "once per episode");
        assert_eq!(s.notify_feed_disabled(feed, T0 + 12).await.expect("notify"), 0, "running");
        s.record_poll_failure(feed, T0 + 12, T0 + 99, "gone", "http", 1).await.expect("fail");
        assert_eq!(s.notify_feed_disabled(feed, T0 + 12).await.expect("notify"), 1);
        assert_eq!(s.queue_state_notices(T0 + 13).await.expect("queue"), 0, "already queued");

        let jobs = s.claim_due_notices(T0 + 20, 120, 10).await.expect("claim");
        assert_eq!(jobs.len(), 2, "{jobs:?}");
        assert!(s.claim_due_notices(T0 + 139, 120, 10).await.expect("claim").is_empty(), "leased");

        let by_event = |e: &str| jobs.iter().find(|j| j.event == e).expect("queued").clone();
        let disabled = by_event("feed-disabled");
        match s.notice_subject(&disabled).await.expect("subject") {
            NoticeSubject::FeedDisabled { feed_id, name, reason } => {
                assert_eq!((feed_id, name.as_str()), (feed, "https://a.example/feed"));
                assert!(reason.contains("gone"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let paused = by_event("channel-paused");
        assert_eq!(paused.subject_id, ch[0]);
        match s.notice_subject(&paused).await {
            Ok(NoticeSubject::ChannelPaused { channel, reason }) => {
                assert_eq!((channel.id, reason.as_str()), (ch[0], "no access"));
            }
            other => panic!("{other:?}"),
        }

        // Where to say it: the preferred channel, else the one that last got a post.
        let target = |preferred: Option<i64>, refused: Vec<i64>| async move {
            s.notice_target(community, preferred, &refused).await.expect("target").map(|c| c.id)
        };
        assert_eq!(target(None, vec![]).await, Some(ch[1]), "it last received a post");
        assert_eq!(target(Some(ch[1]), vec![]).await, Some(ch[1]));
        b.pause_channel(ch[2], None).await;
        assert_eq!(target(Some(ch[2]), vec![]).await, Some(ch[2]), "preferred");
        assert_eq!(target(None, vec![ch[1]]).await, Some(ch[2]), "not where it was refused");
        assert_eq!(target(None, vec![ch[1], ch[2]]).await, None, "paused or refused");

        s.finish_notice(disabled.id, "obsolete", None, None, T0 + 30).await.expect("finish");
        s.retry_notice(paused.id, T0 + 500, "refused", None, &[ch[1]]).await.expect("retry");
        assert!(s.claim_due_notices(T0 + 499, 120, 10).await.expect("claim").is_empty());
        let retried = s.claim_due_notices(T0 + 500, 120, 10).await.expect("claim");
        assert_eq!(retried.iter().map(|j| j.id).collect::<Vec<_>>(), [paused.id]);
        assert_eq!(retried[0].refused_by, format!("[{}]", ch[1]));
        assert_eq!(retried[0].attempts, 1);
        s.finish_notice(paused.id, "sent", Some(ch[2]), None, T0 + 501).await.expect("finish");
        let states: Vec<_> =
            s.notices().await.expect("notices").into_iter().map(|n| (n.3, n.4)).collect();
        assert_eq!(states, [("sent".to_string(), Some(ch[2])), ("obsolete".to_string(), None)]);
    }
}

/// Notices claimed by several processes at once: each is posted by one of them.
#[tokio::test]
async fn concurrent_notice_claims_never_share_a_notice() {
    for b in backends::each().await {
        let s = &b.store;
        let (_, feed, ch) = world(&b, 20).await;
        for &c in &ch {
            b.subscribe(c, feed, "instant", T0).await;
            b.pause_channel(c, Some("no access")).await;
        }
        assert_eq!(s.queue_state_notices(T0).await.expect("queue"), 20);
        let hs = handles(&b, 4).await;
        for round in 0..4 {
            let now = T0 + round * 1000;
            let claims = hs.iter().cycle().take(12).map(|h| h.claim_due_notices(now, 120, 3));
            let mut taken = Vec::new();
            for claim in join_all(claims).await {
                taken.extend(claim.expect("claim").iter().map(|n| n.id));
            }
            let distinct: BTreeSet<i64> = taken.iter().copied().collect();
            assert_eq!(distinct.len(), taken.len(), "round {round}: a notice claimed twice");
            assert_eq!(distinct.len(), 20, "round {round}: every due notice");
        }
        for h in hs {
            h.close().await;
        }
    }
}

#[tokio::test]
async fn console_posts_are_recorded_once_in_the_order_they_were_made() {
    for b in backends::each().await {
        let s = &b.store;
        for key in ["k3", "k1", "k2"] {
            assert!(
                s.record_console_post(key, "local", &format!("post {key}"), T0)
                    .await
                    .expect("record")
            );
        }
        assert!(!s.record_console_post("k1", "local", "again", T0 + 1).await.expect("record"));
        let keys: Vec<String> =
            s.console_posts().await.expect("posts").into_iter().map(|p| p.0).collect();
        assert_eq!(keys, ["k3", "k1", "k2"]);
    }
}
