//! The Discord bot's size and speed against the fake Discord of `tests/it/support`:
//! resident memory when connected and idle, and the time from an article stored (with
//! its delivery row) to its post reaching the fake, and delivery throughput to 1,000
//! channels with and without one channel whose sends hang. Run with
//! `cargo bench --bench discord`; the figures go in the README.
//!
//! Everything runs in one process (herald, the fake's REST server and gateway), so the
//! memory figure includes the fake, a slight overestimate of the bot alone.

#[allow(dead_code)] // the bench uses the Discord part of the integration tests' support
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald::clock::{Clock, ManualClock};
use herald::config::DiscordConfig;
use herald::platform::terminal::Output;
use herald::store::NewArticle;
use serde_json::json;
use support::fake_discord::{self, FakeDiscord, perms};

const GUILD: u64 = 800_000_000_000_000_001;
const CHAN: u64 = 800_000_000_000_000_002;
const POSTS: usize = 200;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful. Both
    // just run the measurement (it takes a few seconds).
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(support::T0);
    let fake = FakeDiscord::start(&[(GUILD, "Bench Guild", &[CHAN])]).await;
    let base = fake.api_base();
    let app = support::app(dir.path(), &clock, |c| {
        c.discord = Some(DiscordConfig {
            token: fake_discord::TOKEN.into(),
            dev_guild: None,
            api_base: Some(base),
            shards: Default::default(),
        });
    })
    .await;
    let out: Output = Arc::new(Mutex::new(Box::new(std::io::sink())));
    let running = herald::run::start(&app, out, true).await.expect("start");
    fake.wait_for("ready", |f| f.identifies() == 1 && !f.global_commands().is_empty()).await;

    // A feed and an instant subscription in the channel, through slash commands.
    let site = support::Site::start().await;
    site.feed(
        "/f.xml",
        "application/rss+xml",
        &support::rss("Bench Feed", &[("a", "A", "http://x.invalid/a", "A.")]),
    );
    let add = json!([{"name": "add", "type": 1, "options": [{"name": "url", "type": 3, "value": site.url("/f.xml")}]}]);
    let id = fake.interaction(2, GUILD, CHAN, 1, perms::MANAGE_GUILD, "feeds", add);
    fake.wait_answer(id).await;
    let feed = app
        .store
        .community_feeds(
            app.store
                .ensure_community("discord", &GUILD.to_string(), None, clock.now())
                .await
                .expect("community"),
        )
        .await
        .expect("feeds")[0]
        .feed
        .id;
    let sub = json!([{"name": "feed", "type": 3, "value": format!("#{feed}")}]);
    let id = fake.interaction(2, GUILD, CHAN, 1, perms::MANAGE_CHANNELS, "subscribe", sub);
    fake.wait_answer(id).await;
    let channel = app
        .store
        .channel_by_external("discord", &CHAN.to_string())
        .await
        .expect("read")
        .expect("channel")
        .id;

    // Idle and connected: let start-up allocations settle, then read resident memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_kb = rss_kb();

    let mut lat = Vec::with_capacity(POSTS);
    for i in 0..POSTS {
        let now = clock.now();
        let a = NewArticle {
            feed_id: feed,
            item_key: format!("bench-{i}"),
            url: Some(format!("https://news.example/{i}")),
            title: Some(format!("Bench story {i}")),
            author: None,
            published_at: Some(now),
            fetched_at: now,
            text: "Text.".into(),
            summary: "A summary of a few words, as the summarizer writes it. Two sentences.".into(),
            lang: Some("en".into()),
            image_url: Some("https://news.example/i.jpg".into()),
            text_source: "page",
            backfill: false,
            categories: Vec::new(),
        };
        let t0 = Instant::now();
        app.store.insert_article_with_deliveries(&a, &[channel], now).await.expect("insert");
        // What the poller does after storing new articles.
        running.dispatch_wake.notify_one();
        while fake.messages(CHAN).len() < i + 1 {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        lat.push(t0.elapsed());
    }
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    println!("discord bench ({POSTS} posts, in-process fake Discord on loopback)");
    println!(
        "  resident memory, connected and idle: {:.1} MB (target <= 60 MB)",
        idle_kb as f64 / 1024.0
    );
    println!(
        "  article stored -> post at the fake: median {:.1} ms, p95 {:.1} ms, max {:.1} ms (target <= 50 ms)",
        ms(p(0.5)),
        ms(p(0.95)),
        ms(lat[lat.len() - 1])
    );
    running.stop().await;
    drop(fake);

    // One run to warm up (page cache, allocator), then alternate and keep the medians.
    throughput(None).await;
    let (mut free, mut hung) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        free.push(throughput(None).await);
        hung.push(throughput(Some(Duration::from_secs(600))).await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (free, hung) = (median(&mut free), median(&mut hung));
    println!(
        "  throughput to {} channels x {PER_CHANNEL} posts (median of 3): {free:.0} posts/s; \
         with one more channel whose every send hangs: {hung:.0} posts/s ({:+.1} %)",
        CHANNELS - 1,
        (hung / free - 1.0) * 100.0
    );
}

const CHANNELS: u64 = 1000;
const PER_CHANNEL: usize = 3;

/// Posts per second to 999 channels (`PER_CHANNEL` articles each), with a 1,000th
/// channel whose sends hang for `hang` (or answer like the others). The dispatcher runs
/// its own loop, as in `herald run`.
async fn throughput(hang: Option<Duration>) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(support::T0);
    let fake = FakeDiscord::start(&[(GUILD, "Bench Guild", &[CHAN])]).await;
    let base = fake.api_base();
    let app = support::app(dir.path(), &clock, |c| {
        c.discord = Some(DiscordConfig {
            token: fake_discord::TOKEN.into(),
            dev_guild: None,
            api_base: Some(base),
            shards: Default::default(),
        });
    })
    .await;
    let out: Output = Arc::new(Mutex::new(Box::new(std::io::sink())));
    let running = herald::run::start(&app, out, false).await.expect("start");
    let now = clock.now();
    let community =
        app.store.ensure_community("discord", &GUILD.to_string(), None, now).await.expect("guild");
    let (feed, _) =
        app.store.add_feed("https://news.example/feed.xml", 900, now).await.expect("feed");
    let first = 810_000_000_000_000_000u64;
    let hung_channel = first;
    let mut channels = Vec::new();
    for i in 0..CHANNELS {
        let id = (first + i).to_string();
        let ch = app.store.ensure_channel(community, "discord", &id, None, now).await.expect("ch");
        channels.push(ch.id);
    }
    if let Some(h) = hang {
        fake.set_hung(hung_channel, Some(h));
    }
    for i in 0..PER_CHANNEL {
        let a = NewArticle {
            feed_id: feed.id,
            item_key: format!("t-{i}"),
            url: Some(format!("https://news.example/t{i}")),
            title: Some(format!("Throughput story {i}")),
            published_at: Some(now - 600 + i as i64),
            fetched_at: now,
            text: "Text.".into(),
            summary: "A summary of a few words, as the summarizer writes it.".into(),
            text_source: "page",
            ..NewArticle::default()
        };
        app.store.insert_article_with_deliveries(&a, &channels, now).await.expect("insert");
    }
    let d = running.dispatcher.clone();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let wake = Arc::new(tokio::sync::Notify::new());
    let t0 = Instant::now();
    let task = tokio::spawn(async move { d.run(rx, wake).await });
    let want = (CHANNELS as usize - 1) * PER_CHANNEL;
    while fake.messages_count_except(hung_channel) < want {
        assert!(t0.elapsed() < Duration::from_secs(300), "throughput bench stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = want as f64 / t0.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = task.await;
    running.stop().await;
    rate
}
