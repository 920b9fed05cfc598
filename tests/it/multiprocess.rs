//! Several `herald run` processes on one PostgreSQL database (issue #17): three of them
//! share 200 feeds and 50 Discord channels; one is killed with SIGKILL while it polls,
//! another while it posts. Every article still reaches every subscribed channel exactly
//! once, no feed is fetched by two processes in one interval, and each digest goes out
//! once. The feeds are a real HTTP server on loopback, the database a real PostgreSQL,
//! Discord the protocol-faithful fake (its gateway split in three shards).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::fake_discord::FakeDiscord;
use crate::support::process::{herald, signal, spawn_run, wait_exit, wait_until};
use crate::support::{Site, postgres, rss};
use herald::clock;
use herald::localserver::Response;
use herald::store::Store;

const FEEDS: usize = 200;
const CHANNELS: usize = 50;
const ITEMS: usize = 2;
/// Each channel follows this many feeds (every feed is followed by one channel).
const PER_CHANNEL: usize = FEEDS / CHANNELS;
/// The first channels take their feeds as a digest.
const DIGEST_CHANNELS: usize = 5;
const GUILD: u64 = 710_000_000_000_000_000;
/// A feed answers this late, so polls are in flight when a poller is killed.
const FEED_DELAY: Duration = Duration::from_millis(400);
/// Discord answers a post this late (the message exists at once): a sender killed
/// meanwhile never records it, and its successor must not post it again.
const POST_ANSWER_DELAY: Duration = Duration::from_millis(300);
/// What the processes are told: short limits, so leases of dead processes run out soon
/// (a poll's lease: the fetch, the page budget, 30 s of slack and 15 s; a channel's:
/// twice the send timeout and 30 s).
const ENV: &[(&str, &str)] = &[
    ("HERALD_REQUEST_TIMEOUT", "3s"),
    ("HERALD_CONNECT_TIMEOUT", "2s"),
    ("HERALD_FEED_PAGE_BUDGET", "3s"),
    ("HERALD_SEND_TIMEOUT", "3s"),
    ("HERALD_SHUTDOWN_GRACE", "5s"),
];

fn channel_id(c: usize) -> u64 {
    GUILD + 1 + c as u64
}

/// Words for titles and texts that differ from item to item: the digest folds items
/// that read alike into one ("also in").
const WORDS: [&str; 20] = [
    "harbour",
    "election",
    "storm",
    "market",
    "vaccine",
    "bridge",
    "rocket",
    "festival",
    "drought",
    "court",
    "satellite",
    "orchestra",
    "glacier",
    "railway",
    "museum",
    "refinery",
    "vineyard",
    "stadium",
    "library",
    "volcano",
];

fn title(feed: usize, item: usize) -> String {
    let (a, b) = (WORDS[(feed * 2 + item) % 20], WORDS[(feed * 7 + item * 3 + 5) % 20]);
    format!("{a} and {b} {feed}-{item}")
}

fn text(feed: usize, item: usize) -> String {
    let (a, b) = (WORDS[(feed * 3 + item * 11) % 20], WORDS[(feed * 13 + item) % 20]);
    format!("The {a} report from district {feed} names the {b} as item {item}.")
}

/// Starts process `n` of three on `url`, running gateway shard `n` of 3.
fn start(n: usize, dir: &std::path::Path, url: &str, fake: &FakeDiscord) -> Child {
    let dir = dir.join(format!("p{n}"));
    std::fs::create_dir_all(&dir).expect("process dir");
    let mut cmd = herald(&dir, fake);
    cmd.envs(ENV.iter().copied())
        .env("DATABASE_URL", url)
        .env("HERALD_DISCORD_SHARDS", format!("{n}/3"))
        .env("RUST_LOG", "herald=info");
    spawn_run(cmd, &dir.join("herald.log"))
}

fn logs(dir: &std::path::Path) -> String {
    (0..3)
        .map(|n| {
            let text =
                std::fs::read_to_string(dir.join(format!("p{n}/herald.log"))).unwrap_or_default();
            // The warnings and errors, and the last lines (pages missing are expected).
            let notable: Vec<&str> = text
                .lines()
                .filter(|l| {
                    (l.contains("WARN") || l.contains("ERROR")) && !l.contains("page not used")
                })
                .take(30)
                .collect();
            let last: Vec<&str> = text.lines().rev().take(8).collect();
            format!("--- p{n}\n{}\n...\n{}", notable.join("\n"), last.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The feeds, followed by the guild, each channel subscribed to its share (the first
/// ones as a digest due a little after the polls). Feeds count as seen before, so their
/// items are new articles, not history.
async fn prepare(store: &Store, url: &str, site: &Site, digest_at: i64) -> i64 {
    let now = clock::system().now();
    let community =
        store.ensure_community("discord", &GUILD.to_string(), None, now).await.expect("community");
    let mut feeds = Vec::new();
    for f in 0..FEEDS {
        let (feed, _) =
            store.add_feed(&site.url(&format!("/f{f}.xml")), 3600, now).await.expect("feed");
        store.link_feed(community, feed.id, None, now).await.expect("link");
        feeds.push(feed.id);
    }
    // As if each feed had been polled once before (its items are news, not history).
    let pg = sqlx::PgPool::connect(url).await.expect("connect");
    sqlx::query("UPDATE feeds SET primed = TRUE").execute(&pg).await.expect("primed");
    pg.close().await;
    for c in 0..CHANNELS {
        let ch = store
            .ensure_channel(community, "discord", &channel_id(c).to_string(), None, now)
            .await
            .expect("channel");
        let mode = if c < DIGEST_CHANNELS { "digest" } else { "instant" };
        for &feed in &feeds[c * PER_CHANNEL..(c + 1) * PER_CHANNEL] {
            store.subscribe(ch.id, feed, mode, &[], &[], None, now).await.expect("subscribe");
        }
        if c < DIGEST_CHANNELS {
            // A daily digest at digest_at's minute (UTC): its window covers the test.
            let spec =
                format!("daily {:02}:{:02}", digest_at % 86_400 / 3600, digest_at % 3600 / 60);
            store
                .set_digest_schedule(ch.id, Some((&spec, "UTC")), Some(now - 60), Some(digest_at))
                .await
                .expect("digest");
        }
    }
    community
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_post_every_article_once_though_one_dies_polling_and_one_posting() {
    let Some(pg) = postgres::shared() else { return };
    let url = pg.fresh_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Site::start().await;
    // When each feed was fetched: a second fetch must wait for the first's lease.
    let fetched: Arc<Mutex<BTreeMap<usize, Vec<Instant>>>> = Arc::default();
    for f in 0..FEEDS {
        let items: Vec<(String, String, String, String)> = (0..ITEMS)
            .map(|i| {
                let link = site.url(&format!("/a/{f}/{i}"));
                (format!("g{f}-{i}"), title(f, i), link, text(f, i))
            })
            .collect();
        let items: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
            .collect();
        let body = rss(&format!("Feed {f}"), &items);
        let seen = fetched.clone();
        site.route(&format!("/f{f}.xml"), move |_| {
            seen.lock().expect("lock").entry(f).or_default().push(Instant::now());
            Response::new(200, "application/rss+xml", body.clone()).delayed(FEED_DELAY)
        });
    }
    let channels: Vec<u64> = (0..CHANNELS).map(channel_id).collect();
    let fake = FakeDiscord::start(&[(GUILD, "Wire", &channels)]).await;
    fake.set_answer_delay(Some(POST_ANSWER_DELAY));

    let store = Store::open(&url).await.expect("open PostgreSQL");
    let started = clock::system().now();
    // On a minute, after the killed poller's feeds were polled again.
    let digest_at = (started + 75 + 59) / 60 * 60;
    prepare(&store, &url, &site, digest_at).await;

    let mut procs: Vec<Child> = (0..3).map(|n| start(n, dir.path(), &url, &fake)).collect();
    // Process 0 dies while polls are in flight: some feeds fetched, most not yet.
    let hits = |f: &Arc<Mutex<BTreeMap<usize, Vec<Instant>>>>| {
        f.lock().expect("lock").values().map(Vec::len).sum::<usize>()
    };
    wait_until("the first polls", Duration::from_secs(60), async || hits(&fetched) >= FEEDS / 5)
        .await;
    signal(&procs[0], libc::SIGKILL);
    let mut kills = vec![Instant::now()];
    wait_exit(&mut procs[0], Duration::from_secs(10)).await;
    // Process 1 dies while posting: a third of the posts made.
    let instant_posts = (CHANNELS - DIGEST_CHANNELS) * PER_CHANNEL * ITEMS;
    let posted =
        |fake: &FakeDiscord| channels.iter().map(|c| fake.messages(*c).len()).sum::<usize>();
    wait_until("a third of the posts", Duration::from_secs(60), async || {
        posted(&fake) >= instant_posts / 3
    })
    .await;
    signal(&procs[1], libc::SIGKILL);
    kills.push(Instant::now());
    wait_exit(&mut procs[1], Duration::from_secs(10)).await;

    // The survivor finishes: leases of the dead run out, their work is taken over.
    let deadline = Duration::from_secs(180);
    let complete = async || {
        let instant_done = channels[DIGEST_CHANNELS..]
            .iter()
            .all(|c| fake.messages(*c).len() >= PER_CHANNEL * ITEMS);
        let digests_done =
            channels[..DIGEST_CHANNELS].iter().all(|c| !fake.messages(*c).is_empty());
        instant_done && digests_done
    };
    let waited = Instant::now();
    while !complete().await {
        if waited.elapsed() > deadline {
            let counts: Vec<usize> = channels.iter().map(|c| fake.messages(*c).len()).collect();
            panic!(
                "not every post arrived within {deadline:?}: posts per channel {counts:?}; logs:\n{}",
                logs(dir.path())
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Anything posted twice would have arrived by now too.
    tokio::time::sleep(Duration::from_secs(3)).await;

    for (c, ch) in channels.iter().enumerate() {
        let feeds = c * PER_CHANNEL..(c + 1) * PER_CHANNEL;
        let want: BTreeSet<String> =
            feeds.flat_map(|f| (0..ITEMS).map(move |i| title(f, i))).collect();
        let messages = fake.messages(*ch);
        let body = |m: &crate::support::fake_discord::Posted| m.body.to_string();
        if c < DIGEST_CHANNELS {
            assert_eq!(messages.len(), 1, "channel {c}: one digest: {:#?}", messages.len());
            for t in &want {
                assert_eq!(
                    body(&messages[0]).matches(t.as_str()).count(),
                    1,
                    "{t} in the digest once"
                );
            }
        } else {
            let mut got: Vec<String> = messages
                .iter()
                .map(|m| {
                    want.iter()
                        .find(|t| body(m).contains(t.as_str()))
                        .cloned()
                        .unwrap_or_else(|| body(m))
                })
                .collect();
            got.sort();
            let expected: Vec<String> = want.iter().cloned().collect();
            assert_eq!(
                got,
                expected,
                "channel {c}: every article once; logs:\n{}",
                logs(dir.path())
            );
        }
    }
    // No feed fetched by two processes in one interval: a feed is fetched again only
    // when its poller was killed, after that poller's lease ran out. A poll here takes a
    // few seconds and a lease is 53 s (fetch 3 + 2, pages 3, slack 30 and 15): a re-poll
    // comes well over 30 s after the kill.
    let fetched = fetched.lock().expect("lock").clone();
    assert_eq!(fetched.len(), FEEDS, "every feed polled");
    let mut repolled = 0;
    for (f, at) in &fetched {
        assert!(at.len() <= 2, "feed {f} fetched {} times", at.len());
        if let [first, second] = at[..] {
            repolled += 1;
            let kill = kills.iter().find(|k| **k > first && **k < second);
            let after = kill.map(|k| second - *k);
            assert!(
                after.is_some_and(|a| a >= Duration::from_secs(30)),
                "feed {f} fetched again {after:?} after a kill (first {first:?}, then {second:?}, kills {kills:?})"
            );
        }
    }
    assert!(repolled >= 1, "the poller was killed mid-poll (some claim had to run out)");
    assert_eq!(fake.shard_takeovers(), 0, "each gateway shard ran in one process");

    signal(&procs[2], libc::SIGTERM);
    let (status, _) = wait_exit(&mut procs[2], Duration::from_secs(20)).await;
    assert!(status.success(), "the survivor stops cleanly: {status:?}");
    eprintln!(
        "killed mid-poll: {repolled} feeds polled again after the lease; killed mid-post: {} posts answered by nonce",
        fake.nonce_repeats()
    );
    store.close().await;
}
