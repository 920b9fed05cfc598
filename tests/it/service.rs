//! herald as a service, end to end with a real `herald run --no-console` process: a
//! SIGTERM in the middle of delivery (exit 0 within the grace period, nothing lost or
//! doubled after a restart), `/readyz` turning 503 while the database cannot be
//! written or the Discord gateway cannot be reached, and 200 after each, `/metrics` scraped and parsed as polls and deliveries happen,
//! and `herald backup` / `herald status` beside a running herald.

use std::collections::HashMap;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use crate::support::fake_discord::{self, Fail, FakeDiscord};
use crate::support::process::{herald, signal, spawn_run, wait_exit, wait_until};
use crate::support::{Site, rss};
use herald::clock;
use herald::store::{NewArticle, Store};
use sqlx::Connection;

const GUILD: u64 = 700_000_000_000_000_010;
const CHAN: u64 = 700_000_000_000_000_011;

/// Starts `herald run --no-console`, its log in `dir/<log>`.
fn start(dir: &Path, fake: &FakeDiscord, env: &[(&str, &str)], log: &str) -> Child {
    let mut cmd = herald(dir, fake);
    cmd.envs(env.iter().copied());
    spawn_run(cmd, &dir.join(log))
}

async fn open_store(dir: &Path) -> Store {
    Store::open(&format!("sqlite://{}/herald.db", dir.display())).await.expect("open store")
}

/// The guild as a community following a paused feed (nothing polls it), with the
/// channel subscribed; returns the store, the feed id and the channel's row id.
async fn discord_world(dir: &Path, feed_url: &str, pause: bool) -> (Store, i64, i64) {
    let store = open_store(dir).await;
    let now = clock::system().now();
    let community =
        store.ensure_community("discord", &GUILD.to_string(), None, now).await.expect("community");
    let (feed, _) = store.add_feed(feed_url, 900, now).await.expect("feed");
    store.link_feed(community, feed.id, None, now).await.expect("link");
    if pause {
        store.pause_feed(feed.id).await.expect("pause");
    }
    let ch = store
        .ensure_channel(community, "discord", &CHAN.to_string(), Some("news"), now)
        .await
        .expect("channel");
    store.subscribe(ch.id, feed.id, "instant", &[], &[], None, now).await.expect("subscribe");
    (store, feed.id, ch.id)
}

fn count(rows: &[(String, i64)], state: &str) -> i64 {
    rows.iter().find(|(s, _)| s == state).map(|(_, n)| *n).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_delivery_exits_0_within_the_grace_and_a_restart_sends_the_rest_once() {
    const POSTS: usize = 8;
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, feed, channel) = discord_world(dir.path(), "http://127.0.0.1:9/f.xml", true).await;
    let now = clock::system().now();
    for n in 0..POSTS {
        let a = NewArticle {
            feed_id: feed,
            item_key: format!("k{n}"),
            url: Some(format!("https://news.example/{n}")),
            title: Some(format!("Story {n}")),
            published_at: Some(now - 600 + n as i64),
            fetched_at: now,
            text: "Body.".into(),
            summary: format!("About story {n}."),
            text_source: "feed",
            ..NewArticle::default()
        };
        store.insert_article_with_deliveries(&a, &[channel], now).await.expect("insert");
    }
    store.close().await;

    let fake = FakeDiscord::start(&[(GUILD, "News", &[CHAN])]).await;
    // Each post is answered 700 ms after Discord created it: a send is in flight most
    // of the time.
    fake.fail_next(CHAN, vec![Fail::SlowAnswer(Duration::from_millis(700)); POSTS]);
    let grace = Duration::from_secs(5);
    let mut child = start(dir.path(), &fake, &[("HERALD_SHUTDOWN_GRACE", "5s")], "first.log");
    wait_until("two posts", Duration::from_secs(30), async || fake.messages(CHAN).len() >= 2).await;
    signal(&child, libc::SIGTERM);
    let (status, took) = wait_exit(&mut child, grace + Duration::from_secs(5)).await;
    let log = std::fs::read_to_string(dir.path().join("first.log")).unwrap_or_default();
    assert!(status.success(), "exit {status:?} after SIGTERM; log:\n{log}");
    assert!(took < grace, "took {took:?}; log:\n{log}");
    let created = fake.messages(CHAN).len();
    assert!(created < POSTS, "all {created} posts went out before the signal");
    // The send in flight when the signal came finished and was recorded: every post
    // Discord created is marked sent, nothing more was attempted.
    assert_eq!(fake.post_attempts(CHAN), created, "a send was cut off; log:\n{log}");
    let store = open_store(dir.path()).await;
    let rows = store.delivery_counts().await.expect("counts");
    assert_eq!(count(&rows, "sent"), created as i64, "{rows:?}");
    assert_eq!(count(&rows, "pending"), (POSTS - created) as i64, "{rows:?}");
    store.close().await;

    let mut child = start(dir.path(), &fake, &[], "second.log");
    wait_until("every post", Duration::from_secs(30), async || fake.messages(CHAN).len() >= POSTS)
        .await;
    signal(&child, libc::SIGINT);
    let (status, _) = wait_exit(&mut child, Duration::from_secs(15)).await;
    assert!(status.success(), "exit {status:?} after SIGINT");
    let titles: Vec<String> =
        fake.messages(CHAN).iter().map(|m| fake_discord::embed_text(&m.body)).collect();
    for n in 0..POSTS {
        let seen = titles.iter().filter(|t| t.contains(&format!("Story {n}"))).count();
        assert_eq!(seen, 1, "Story {n} posted {seen} times: {titles:#?}");
    }
    assert_eq!(fake.post_attempts(CHAN), POSTS, "a post was sent twice");
    let store = open_store(dir.path()).await;
    assert_eq!(store.delivery_counts().await.expect("counts"), [("sent".to_string(), 8)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once_and_the_hung_post_stays_owed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, feed, channel) = discord_world(dir.path(), "http://127.0.0.1:9/f.xml", true).await;
    let now = clock::system().now();
    let a = NewArticle {
        feed_id: feed,
        item_key: "hung".into(),
        title: Some("Hung story".into()),
        fetched_at: now,
        text: "Body.".into(),
        summary: "About it.".into(),
        text_source: "feed",
        ..NewArticle::default()
    };
    store.insert_article_with_deliveries(&a, &[channel], now).await.expect("insert");
    store.close().await;
    let fake = FakeDiscord::start(&[(GUILD, "News", &[CHAN])]).await;
    fake.set_hung(CHAN, Some(Duration::from_secs(60)));
    let env = [("HERALD_SHUTDOWN_GRACE", "30s"), ("HERALD_SEND_TIMEOUT", "60s")];
    let mut child = start(dir.path(), &fake, &env, "run.log");
    wait_until("the hung send", Duration::from_secs(30), async || fake.post_attempts(CHAN) >= 1)
        .await;
    signal(&child, libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(child.try_wait().expect("status").is_none(), "exited before the grace ran out");
    signal(&child, libc::SIGTERM);
    let (status, took) = wait_exit(&mut child, Duration::from_secs(5)).await;
    assert!(!status.success(), "a second signal is not a clean stop: {status:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let store = open_store(dir.path()).await;
    assert_eq!(store.delivery_counts().await.expect("counts"), [("pending".to_string(), 1)]);
}

/// `GET path` on the operators' endpoint: status code and body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    match client.get(format!("http://{addr}{path}")).send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// The samples of an OpenMetrics text: `name{labels}` → value. Every line that is not
/// a comment must be a sample, or the exposition is broken.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    assert!(text.trim_end().ends_with("# EOF"), "no EOF marker");
    let mut samples = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
        samples.insert(key.to_string(), value);
    }
    samples
}

async fn scrape(addr: &str) -> HashMap<String, f64> {
    let (code, text) = get(addr, "/metrics").await;
    assert_eq!(code, 200, "{text}");
    parse_metrics(&text)
}

fn sample(m: &HashMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_and_metrics_follow_the_database_polls_and_deliveries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Site::start().await;
    let item = |n: u32| {
        (
            format!("Story {n}"),
            site.url(&format!("/s{n}")),
            format!("s{n}"),
            "Some text.".to_string(),
        )
    };
    let publish = |items: &[(String, String, String, String)]| {
        let items: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
            .collect();
        site.feed("/feed.xml", "application/rss+xml", &rss("Wire", &items));
    };
    publish(&[item(1)]);
    let (store, feed, _) = discord_world(dir.path(), &site.url("/feed.xml"), false).await;
    store.close().await;
    let fake = FakeDiscord::start(&[(GUILD, "News", &[CHAN])]).await;
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = start(dir.path(), &fake, &[("HERALD_HTTP_ADDR", &addr)], "run.log");

    wait_until("/healthz", Duration::from_secs(30), async || get(&addr, "/healthz").await.0 == 200)
        .await;
    wait_until("/readyz 200", Duration::from_secs(30), async || {
        get(&addr, "/readyz").await.0 == 200
    })
    .await;
    // The feed's first poll (history, not news).
    wait_until("the first poll", Duration::from_secs(30), async || {
        sample(&scrape(&addr).await, r#"herald_polls_total{outcome="updated",error=""}"#) >= 1.0
    })
    .await;
    let before = scrape(&addr).await;
    assert_eq!(
        sample(&before, r#"herald_deliveries_total{outcome="sent",platform="discord"}"#),
        0.0
    );
    assert_eq!(sample(&before, r#"herald_platform_connected{platform="discord"}"#), 1.0);
    assert_eq!(sample(&before, r#"herald_feeds{state="ok"}"#), 1.0);
    assert_eq!(sample(&before, "herald_articles"), 1.0);
    assert!(sample(&before, "herald_archive_bytes") > 0.0);
    assert!(before.contains_key(r#"herald_build_info{version="0.1.0"}"#), "{before:?}");

    // News: the CLI makes the feed due now; the running poller takes it and posts it.
    publish(&[item(1), item(2)]);
    let resumed = herald(dir.path(), &fake).args(["feeds", "resume", &feed.to_string()]).output();
    assert!(resumed.expect("run the CLI").status.success());
    wait_until("the post", Duration::from_secs(30), async || !fake.messages(CHAN).is_empty()).await;
    wait_until("counters to move", Duration::from_secs(10), async || {
        let m = scrape(&addr).await;
        sample(&m, r#"herald_deliveries_total{outcome="sent",platform="discord"}"#) >= 1.0
            && sample(&m, "herald_articles_new_total") >= 1.0
            && sample(&m, r#"herald_polls_total{outcome="updated",error=""}"#) >= 2.0
            && sample(&m, "herald_poll_duration_seconds_count") >= 2.0
            && sample(&m, r#"herald_outbox_depth{kind="post"}"#) == 0.0
    })
    .await;

    // Another connection takes the write lock and keeps it: herald cannot write.
    let url = format!("sqlite://{}/herald.db", dir.path().display());
    let mut blocker = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut blocker).await.expect("lock");
    let (code, body) = get(&addr, "/readyz").await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("database not writable"), "{body}");
    sqlx::query("ROLLBACK").execute(&mut blocker).await.expect("unlock");
    blocker.close().await.expect("close");
    let (code, body) = get(&addr, "/readyz").await;
    assert_eq!(code, 200, "{body}");

    // The gateway drops and stays unreachable: not ready, with the reason; then back.
    fake.set_gateway_refused(true);
    wait_until("/readyz 503 without the gateway", Duration::from_secs(60), async || {
        let (code, body) = get(&addr, "/readyz").await;
        code == 503 && body.to_ascii_lowercase().contains("discord")
    })
    .await;
    fake.set_gateway_refused(false);
    wait_until("/readyz 200 with the gateway back", Duration::from_secs(120), async || {
        get(&addr, "/readyz").await.0 == 200
    })
    .await;

    // A backup while herald runs, and status against the running instance.
    let copy = dir.path().join("copy.db");
    let out = herald(dir.path(), &fake).arg("backup").arg(&copy).output().expect("backup");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copied = Store::open(&format!("sqlite://{}", copy.display())).await.expect("open copy");
    assert_eq!(copied.archive_size().await.expect("size").0, 2);
    let again = herald(dir.path(), &fake).arg("backup").arg(&copy).output().expect("backup");
    assert!(!again.status.success(), "a backup must not overwrite a file");
    let out = herald(dir.path(), &fake)
        .env("HERALD_HTTP_ADDR", &addr)
        .arg("status")
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("process:   ready"), "{text}");
    assert!(text.contains("2 article(s)"), "{text}");
    assert!(text.contains("0 post(s)"), "{text}");
    // The running process holds Discord's one shard.
    assert!(text.contains("channel(s) being sent now; leases: discord-shard-0-of-1 by "), "{text}");

    signal(&child, libc::SIGTERM);
    let (status, _) = wait_exit(&mut child, Duration::from_secs(15)).await;
    assert!(status.success(), "{status:?}");
    // The process is gone: status says so and fails.
    let out = herald(dir.path(), &fake)
        .env("HERALD_HTTP_ADDR", &addr)
        .arg("status")
        .output()
        .expect("status");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not answering"));
}
