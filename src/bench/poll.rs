//! Polls N feeds served on loopback by herald's own small HTTP server, spread over
//! several loopback addresses so per-host limits apply as they would across real hosts.
//! First the 200 path (every feed new: fetch, parse, store its items), then the 304
//! path (every feed answers Not Modified). The server runs in the same process, so the
//! CPU figures include serving.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use crate::app::App;
use crate::clock;
use crate::config::Config;
use crate::localserver::{Handler, LocalServer, Response};
use crate::store::Store;

const HOSTS: u8 = 16;
const ITEMS_PER_FEED: usize = 10;

pub async fn run(feeds: usize, mut config: Config) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    config.database_url = format!("sqlite://{}/bench.db", dir.display());
    config.fetch.allow_private_networks = true;
    config.fetch.concurrency = 64;
    config.fetch.per_host_concurrency = 8;
    let store = Store::open(&config.database_url).await?;
    let app = App::with_store(config, store, clock::system())?;

    let handler: Handler = Arc::new(|req| {
        let etag = format!("\"{}\"", req.path().len());
        if req.header("if-none-match") == Some(etag.as_str()) {
            return Response::status(304).header("ETag", &etag);
        }
        Response::new(200, "application/rss+xml", sample_feed(req.path())).header("ETag", &etag)
    });
    let mut servers = Vec::new();
    for h in 1..=HOSTS {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, h));
        servers.push(LocalServer::start(SocketAddr::new(ip, 0), handler.clone()).await?);
    }
    let now = app.clock.now();
    let console = app.store.console_community(now).await?;
    for i in 0..feeds {
        let url = servers[i % servers.len()].url(&format!("/feed/{i}.xml"));
        let (feed, _) = app.store.add_feed(&url, 900, now).await?;
        app.store.link_feed(console, feed.id, None, now).await?;
    }
    println!("bench poll: {feeds} feeds on {HOSTS} loopback hosts, {ITEMS_PER_FEED} items each");

    for (label, expect_new) in [("200 (new content)", true), ("304 (not modified)", false)] {
        app.store.reschedule_all(app.clock.now()).await?;
        let cpu0 = super::cpu_time();
        let t0 = Instant::now();
        let report = app.poller.poll_due(1024).await?;
        let wall = t0.elapsed();
        let cpu = super::cpu_time().saturating_sub(cpu0);
        println!(
            "  {label:<20} {:>6} polls in {:>6.2}s = {:>7.0} polls/s, CPU {:.3} ms/poll, \
             {} not modified, {} failed",
            report.polled,
            wall.as_secs_f64(),
            report.polled as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / report.polled.max(1) as f64,
            report.not_modified,
            report.failed,
        );
        if report.failed > 0 || report.polled != feeds || (expect_new == (report.not_modified > 0))
        {
            anyhow::bail!("bench run was not clean: {report:?}");
        }
    }
    metrics_overhead(&app).await?;
    println!("  stored articles: {}", app.store.count_articles().await?);
    println!("  peak RSS: {:.1} MB", super::peak_rss() as f64 / 1e6);
    app.store.close().await;
    drop(servers);
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

fn sample_feed(path: &str) -> String {
    let mut items = String::new();
    for i in 0..ITEMS_PER_FEED {
        items.push_str(&format!(
            "<item><guid>{path}#{i}</guid><title>Story {i} of {path}</title>\
             <link>http://example.invalid{path}/{i}</link>\
             <pubDate>Mon, 30 Nov 2026 0{}:00:00 GMT</pubDate>\
             <description>&lt;p&gt;Paragraph one of story {i}. It says something.&lt;/p&gt;\
             &lt;p&gt;Paragraph two adds detail.&lt;/p&gt;</description></item>",
            i % 10
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Bench {path}</title>\
         <link>http://example.invalid/</link>{items}</channel></rss>"
    )
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("herald-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
