//! `herald bench fanout` and `herald bench search`: the outbox's enqueue cost for one
//! article followed by many channels, and search latency over a large archive. Both run
//! on a fresh SQLite file in a temporary folder, as production would, or on PostgreSQL
//! when given one (search copies the archive there with `herald db copy`'s code).

use std::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::ingest::poll::{fan_out, subscribers};
use crate::store::{NewArticle, SearchScope, Store};

fn temp_db(name: &str) -> std::io::Result<(std::path::PathBuf, String)> {
    let dir = std::env::temp_dir().join(format!("herald-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}/bench.db", dir.display());
    Ok((dir, url))
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// One new article of a feed that `channels` channels follow (one community each), on a
/// temporary SQLite file or on the given (empty) PostgreSQL database.
pub async fn fanout(channels: usize, postgres: Option<String>) -> anyhow::Result<()> {
    let (dir, url) = match postgres {
        Some(url) => (None, url),
        None => {
            let (dir, url) = temp_db("fanout")?;
            (Some(dir), url)
        }
    };
    let store = Store::open(&url).await?;
    let now = SystemClock.now();
    let (feed, _) = store.add_feed("https://news.example/feed.xml", 900, now).await?;
    let backend = store.backend();
    println!("bench fanout: preparing {channels} channels subscribed to one feed ({backend})…");
    for i in 0..channels {
        let community = store.ensure_community("bench", &format!("guild-{i}"), None, now).await?;
        store.link_feed(community, feed.id, None, now).await?;
        let ch = store.ensure_channel(community, "bench", &format!("chan-{i}"), None, now).await?;
        let include = if i % 10 == 0 { vec!["korea".to_string()] } else { Vec::new() };
        store.subscribe(ch.id, feed.id, "instant", &include, &[], None, now - 60).await?;
    }
    let mut times = Vec::new();
    let mut enqueued = 0;
    for round in 0..5 {
        let article = NewArticle {
            feed_id: feed.id,
            item_key: format!("item-{round}"),
            title: Some(format!("Story {round}: talks on Korea resume")),
            summary: "Negotiators met again on Monday. Both sides called the talks useful.".into(),
            text: "Negotiators met again on Monday after a long pause.".into(),
            fetched_at: SystemClock.now(),
            text_source: "feed",
            ..NewArticle::default()
        };
        let t = Instant::now();
        let subs = store.instant_subscriptions(feed.id).await?;
        let targets = fan_out(&subscribers(&subs), &article);
        let done =
            store.insert_article_with_deliveries(&article, &targets, article.fetched_at).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        enqueued = done.map(|d| d.deliveries).unwrap_or(0);
    }
    println!(
        "  one article → {enqueued} deliveries enqueued (subscriptions read, filters applied, \
         rows written in one transaction): median {:.1} ms, worst {:.1} ms over 5 articles",
        quantile(&mut times.clone(), 0.5),
        quantile(&mut times, 1.0)
    );
    store.close().await;
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// Deterministic pseudo-words with a Zipf-like spread, so some terms are common and
/// most are rare, as in real text.
struct Words {
    state: u64,
    vocab: Vec<String>,
}

impl Words {
    fn new(size: usize) -> Words {
        let syllables = ["ka", "lo", "mi", "ren", "sa", "to", "vel", "an", "dor", "is", "ku", "pe"];
        let mut vocab = Vec::with_capacity(size);
        for i in 0..size {
            let mut n = i;
            let mut w = String::new();
            loop {
                w.push_str(syllables[n % syllables.len()]);
                n /= syllables.len();
                if n == 0 {
                    break;
                }
            }
            vocab.push(w);
        }
        Words { state: 0x9e37_79b9_7f4a_7c15, vocab }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*: fast and reproducible.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn word(&mut self) -> &str {
        // Squaring a uniform number skews picks toward the start of the vocabulary.
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let i = ((u * u * u) * self.vocab.len() as f64) as usize;
        &self.vocab[i.min(self.vocab.len() - 1)]
    }

    fn sentence(&mut self, n: usize) -> String {
        let mut s = String::new();
        for k in 0..n {
            if k > 0 {
                s.push(' ');
            }
            let w = self.word().to_string();
            s.push_str(&w);
        }
        s.push('.');
        s
    }
}

/// Search latency over `articles` stored articles in 1,000 feeds, asked by a community
/// that follows 50 of them, for rare, common and two-word queries; with `postgres` (an
/// empty database, or one a previous run filled) the same archive is copied there and
/// measured again.
pub async fn search(
    articles: usize,
    keep: Option<std::path::PathBuf>,
    postgres: Option<String>,
) -> anyhow::Result<()> {
    let (dir, url) = match &keep {
        Some(path) => (path.clone(), format!("sqlite://{}/bench.db", path.display())),
        None => temp_db("search")?,
    };
    std::fs::create_dir_all(&dir)?;
    let store = Store::open(&url).await?;
    let now = SystemClock.now();
    if keep.is_some() && store.count_articles().await? as usize >= articles {
        println!("bench search: reusing the {articles}-article archive in {}", dir.display());
        let community = store.ensure_community("bench", "guild", None, now).await?;
        measure(&store, community).await?;
        return on_postgres(&store, community, postgres).await;
    }
    let community = store.ensure_community("bench", "guild", None, now).await?;
    let mut feed_ids = Vec::new();
    for i in 0..1000 {
        let (feed, _) = store.add_feed(&format!("https://site{i}.example/feed"), 900, now).await?;
        if i % 20 == 0 {
            store.link_feed(community, feed.id, None, now).await?;
        }
        feed_ids.push(feed.id);
    }
    println!("bench search: storing {articles} articles in 1,000 feeds…");
    let mut words = Words::new(30_000);
    let t = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..articles {
        let title = words.sentence(8);
        let summary = format!("{} {}", words.sentence(14), words.sentence(14));
        let text = format!("{} {} {}", summary, words.sentence(20), words.sentence(20));
        batch.push(NewArticle {
            feed_id: feed_ids[i % feed_ids.len()],
            item_key: format!("k{i}"),
            url: Some(format!("https://site.example/a/{i}")),
            title: Some(title),
            fetched_at: now - (articles - i) as i64,
            text,
            summary,
            text_source: "feed",
            ..NewArticle::default()
        });
        if batch.len() == 10_000 {
            store.insert_articles_bulk(&batch).await?;
            batch.clear();
        }
    }
    store.insert_articles_bulk(&batch).await?;
    println!("  stored in {:.0} s", t.elapsed().as_secs_f64());
    measure(&store, community).await?;
    on_postgres(&store, community, postgres).await?;
    store.close().await;
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// The SQLite archive copied to PostgreSQL (ids kept, so the community is the same)
/// and measured there.
async fn on_postgres(lite: &Store, community: i64, url: Option<String>) -> anyhow::Result<()> {
    let Some(url) = url else { return Ok(()) };
    anyhow::ensure!(crate::store::is_postgres_url(&url), "--postgres takes a postgres:// URL");
    let pg = Store::open(&url).await?;
    let stored = lite.count_articles().await?;
    if pg.count_articles().await? < stored {
        println!("bench search: copying the archive to PostgreSQL…");
        let t = Instant::now();
        let report = crate::store::copy_installation(lite, &pg).await?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "  copied {} articles in {s:.0} s ({:.0}/s); verified: {}",
            report.articles_copied,
            report.articles_copied as f64 / s.max(1e-9),
            report.verified()
        );
    } else {
        println!("bench search: reusing the PostgreSQL archive ({stored} articles)");
    }
    println!("bench search on PostgreSQL:");
    measure(&pg, community).await?;
    pg.close().await;
    Ok(())
}

async fn measure(store: &Store, community: i64) -> anyhow::Result<()> {
    let scope = SearchScope::Community(community);
    let vocab = Words::new(30_000).vocab;
    let queries: Vec<(&str, String)> = (0..60)
        .flat_map(|i| {
            [
                ("common word", vocab[i % 20].clone()),
                ("mid word", vocab[200 + i * 7].clone()),
                ("rare word", vocab[20_000 + i * 97].clone()),
                ("two words", format!("{} {}", vocab[i % 50], vocab[300 + i])),
            ]
        })
        .collect();
    let mut all = Vec::new();
    let mut by_kind: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    // Warm-up, so the figures are for a running bot rather than a cold disk: the index
    // read once into the file cache, then a few queries for SQLite's own page cache.
    let t = Instant::now();
    let bytes = store.warm_search_index().await?;
    println!(
        "  warm-up: read the {:.0} MB full-text index in {:.1} s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    for (_, q) in queries.iter().take(20) {
        store.search_articles(q, scope, None, 6, 0).await?;
    }
    for (kind, q) in &queries {
        let t = Instant::now();
        store.search_articles(q, scope, None, 6, 0).await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        all.push(ms);
        by_kind.entry(kind).or_default().push(ms);
    }
    for (kind, mut v) in by_kind {
        println!(
            "  {kind:<12} p50 {:>6.2} ms  p95 {:>6.2} ms",
            quantile(&mut v.clone(), 0.5),
            quantile(&mut v, 0.95)
        );
    }
    println!(
        "  all {} queries: p50 {:.2} ms, p95 {:.2} ms (community follows 50 of 1,000 feeds)",
        all.len(),
        quantile(&mut all.clone(), 0.5),
        quantile(&mut all, 0.95)
    );
    // What the community index costs on the write side: a second community following a
    // feed re-tags that feed's stored articles, and dropping it re-tags them back.
    // (Communities are not yet on PostgreSQL.)
    if store.backend() != "sqlite" {
        return Ok(());
    }
    let Some(&feed) = store.community_feed_ids(community).await?.first() else {
        return Ok(());
    };
    let stored = store.articles_of_feed(feed, i64::MAX).await?.len();
    let other = store.ensure_community("bench", "guild-2", None, SystemClock.now()).await?;
    let t = Instant::now();
    store.link_feed(other, feed, None, SystemClock.now()).await?;
    let link = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    store.unlink_feed(other, feed).await?;
    let unlink = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "  a second community follows a feed with {stored} stored articles: {link:.0} ms; \
         drops it: {unlink:.0} ms"
    );
    Ok(())
}
