//! Polls N feeds served on loopback by herald's own small HTTP server, spread over
//! several loopback addresses so per-host limits apply as they would across real hosts.
//! The feeds are `corpus`'s generated news (10 items, ~9 KB each). First the 200 path
//! (every feed new: fetch, parse, store its items), then the 304 path (every feed
//! answers Not Modified), then one new item per feed without a page, then one with an
//! article page (~20 KB) to fetch, extract and summarize. The server runs in the same
//! process, so the CPU figures include serving; `bench/reader_compare/` measures the
//! CLI alone, against `reader`.

use std::sync::Arc;
use std::time::Instant;

use super::corpus::{FeedSite, ITEMS_PER_FEED};
use crate::app::App;
use crate::clock;
use crate::config::Config;
use crate::store::Store;

const HOSTS: u8 = 16;

pub async fn run(feeds: usize, mut config: Config) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    config.database_url = format!("sqlite://{}/bench.db", dir.display());
    config.fetch.allow_private_networks = true;
    config.fetch.concurrency = 64;
    config.fetch.per_host_concurrency = 8;
    let store = Store::open(&config.database_url).await?;
    let app = App::with_store(config, store, clock::system())?;

    let site = Arc::new(FeedSite::start(HOSTS).await?);
    let now = app.clock.now();
    let console = app.store.console_community(now).await?;
    for i in 0..feeds {
        let url = site.feed_url(i);
        let (feed, _) = app.store.add_feed(&url, 900, now).await?;
        app.store.link_feed(console, feed.id, None, now).await?;
    }
    println!("bench poll: {feeds} feeds on {HOSTS} loopback hosts, {ITEMS_PER_FEED} items each");

    let paths = [
        ("first poll (history)", 0, false),
        ("304 (not modified)", 0, true),
        ("one new item, no page", 1, false),
        ("one new item + page", 2, false),
    ];
    for (label, generation, unchanged) in paths {
        site.set_generation(generation);
        app.store.reschedule_all(app.clock.now()).await?;
        let (user0, sys0) = super::cpu_times();
        let t0 = Instant::now();
        let report = app.poller.poll_due(256).await?;
        let wall = t0.elapsed();
        let (user1, sys1) = super::cpu_times();
        let per_poll =
            |d: std::time::Duration| d.as_secs_f64() * 1000.0 / report.polled.max(1) as f64;
        let (user, sys) =
            (per_poll(user1.saturating_sub(user0)), per_poll(sys1.saturating_sub(sys0)));
        println!(
            "  {label:<22} {:>6} polls in {:>6.2}s = {:>6.0} polls/s, CPU {:.3} ms/poll \
             (user {user:.3} + system {sys:.3}), {} new, {} not modified, {} failed",
            report.polled,
            wall.as_secs_f64(),
            report.polled as f64 / wall.as_secs_f64(),
            user + sys,
            report.new_articles.len(),
            report.not_modified,
            report.failed,
        );
        let expected_new = if generation == 0 || unchanged { 0 } else { feeds };
        if report.failed > 0
            || report.polled != feeds
            || unchanged != (report.not_modified == feeds)
            || report.new_articles.len() != expected_new
        {
            anyhow::bail!("bench run was not clean: {report:?}");
        }
    }
    metrics_overhead(&app).await?;
    println!("  stored articles: {}", app.store.count_articles().await?);
    println!("  peak RSS: {:.1} MB", super::peak_rss() as f64 / 1e6);
    app.store.close().await;
    drop(site);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The 304 path with and without the metrics hook, rounds interleaved so drift in the
/// machine's load hits both alike; the medians' CPU per poll is compared.
async fn metrics_overhead(app: &App) -> anyhow::Result<()> {
    const ROUNDS: usize = 6;
    let bare = crate::ingest::Poller::new(
        app.store.clone(),
        app.fetcher.clone(),
        app.config.poll.clone(),
        app.clock.clone(),
        Arc::new(crate::summarize::Extractive::default()),
    );
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS * 2 {
        // Pairs alternate which goes first (with, without; without, with; ...), so a
        // cost that falls on one position of a pair (a WAL checkpoint) hits both alike.
        let metered = (round % 2 == 0) == (round / 2 % 2 == 0);
        let (poller, into) = if metered { (&app.poller, &mut with) } else { (&bare, &mut without) };
        {
            app.store.reschedule_all(app.clock.now()).await?;
            let cpu0 = super::cpu_time();
            let report = poller.poll_due(1024).await?;
            let cpu = super::cpu_time().saturating_sub(cpu0);
            into.push(cpu.as_secs_f64() * 1000.0 / report.polled.max(1) as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (w, wo) = (median(&mut with), median(&mut without));
    println!(
        "  304 metrics overhead: CPU {w:.3} ms/poll with metrics, {wo:.3} without \
         (median of {ROUNDS} alternating rounds each): {:+.1} %",
        (w / wo - 1.0) * 100.0
    );
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("herald-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
