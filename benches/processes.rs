//! Throughput of several `herald run` processes on one PostgreSQL database beside one
//! process on SQLite (issue #17): polls per second and deliveries per second, end to
//! end, with real processes, a real feed server on loopback and the fake Discord of
//! `tests/it/support`. Run with `cargo bench --bench processes`; the figures go in the
//! README. `HERALD_BENCH_FEEDS` / `HERALD_BENCH_RUNS` change the size and the repeats;
//! `HERALD_BENCH_LATENCY_MS` makes every feed response and every Discord answer that
//! late, as on the internet (then one process's concurrent polls and channels bound
//! its rate, and more processes add more of them).
//!
//! Each round: `FEEDS` feeds of `ITEMS` new items each, followed by a guild whose
//! `CHANNELS` channels each take `FEEDS / CHANNELS` feeds. The processes start together;
//! polls/s is the feeds over the time from the first fetch to the last, deliveries/s the
//! posts over the time from the first post to the last. The feed server, the fake
//! Discord, PostgreSQL and the processes share the machine's cores.

#[allow(dead_code)] // the bench uses the feed server, fake Discord, PostgreSQL and processes
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald::clock;
use herald::localserver::Response;
use herald::store::Store;
use support::fake_discord::FakeDiscord;
use support::process::{herald, signal, wait_exit};
use support::{Site, rss};

const ITEMS: usize = 2;
const CHANNELS: usize = 100;
const GUILD: u64 = 720_000_000_000_000_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Figures {
    polls_per_s: f64,
    deliveries_per_s: f64,
    /// CPU seconds over the round: the herald processes, this harness (feed server and
    /// fake Discord), everything else (PostgreSQL), and how busy the machine was.
    herald_cpu: f64,
    harness_cpu: f64,
    other_cpu: f64,
    busy: f64,
}

/// (busy, total) CPU seconds of the whole machine so far, from /proc/stat.
fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    let total: f64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    // SAFETY: sysconf reads a constant of the running system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ((total - idle) / hz, total / hz)
}

/// User and system CPU seconds of this process (`RUSAGE_SELF`) or of its children that
/// were waited for (`RUSAGE_CHILDREN`).
fn cpu_of(who: i32) -> f64 {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid rusage.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `who` is one of the two constants.
    unsafe { libc::getrusage(who, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

async fn run() {
    let feeds = env_number("HERALD_BENCH_FEEDS", 1000);
    let runs = env_number("HERALD_BENCH_RUNS", 3);
    let latency = Duration::from_millis(env_number("HERALD_BENCH_LATENCY_MS", 0) as u64);
    let pg = support::postgres::shared();
    println!(
        "{feeds} feeds × {ITEMS} new items, {CHANNELS} channels, {} ms latency, median of {runs} runs",
        latency.as_millis()
    );
    println!(
        "| store | processes | polls/s | deliveries/s | CPU s: herald / harness / PostgreSQL and rest | machine busy |"
    );
    println!("|---|---|---|---|---|---|");
    let mut setups = vec![("sqlite", 1)];
    if pg.is_some() {
        setups.extend([("postgres", 1), ("postgres", 2), ("postgres", 3)]);
    }
    for (backend, processes) in setups {
        let mut polls = Vec::new();
        let mut deliveries = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..runs {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = match (backend, pg) {
                ("postgres", Some(pg)) => pg.fresh_database().await,
                _ => format!("sqlite://{}/herald.db", dir.path().display()),
            };
            let f = round(dir.path(), &url, feeds, processes, latency).await;
            polls.push(f.polls_per_s);
            deliveries.push(f.deliveries_per_s);
            cpu.push(f);
        }
        // The CPU split of the run with the median delivery rate.
        let mid = median(&mut deliveries);
        let f = cpu.iter().find(|f| f.deliveries_per_s == mid).expect("a run has the median");
        println!(
            "| {backend} | {processes} | {:.0} | {mid:.0} | {:.1} / {:.1} / {:.1} | {:.0} % |",
            median(&mut polls),
            f.herald_cpu,
            f.harness_cpu,
            f.other_cpu,
            f.busy * 100.0
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn round(
    dir: &std::path::Path,
    url: &str,
    feeds: usize,
    processes: usize,
    latency: Duration,
) -> Figures {
    let site = Site::start().await;
    let fetched: Arc<Mutex<Vec<Instant>>> = Arc::default();
    for f in 0..feeds {
        let items: Vec<(String, String)> =
            (0..ITEMS).map(|i| (format!("g{f}-{i}"), format!("Story {f}-{i}"))).collect();
        let items: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(g, t)| (g.as_str(), t.as_str(), "", "Something happened today, and more."))
            .collect();
        let body = rss(&format!("Feed {f}"), &items);
        let seen = fetched.clone();
        site.route(&format!("/f{f}.xml"), move |_| {
            seen.lock().expect("lock").push(Instant::now());
            let feed = Response::new(200, "application/rss+xml", body.clone());
            if latency.is_zero() { feed } else { feed.delayed(latency) }
        });
    }
    let channels: Vec<u64> = (0..CHANNELS).map(|c| GUILD + 1 + c as u64).collect();
    let fake = FakeDiscord::start(&[(GUILD, "Bench", &channels)]).await;
    if !latency.is_zero() {
        fake.set_answer_delay(Some(latency));
    }

    let store = Store::open(url).await.expect("open store");
    let now = clock::system().now();
    let community =
        store.ensure_community("discord", &GUILD.to_string(), None, now).await.expect("community");
    let mut ids = Vec::new();
    for f in 0..feeds {
        let (feed, _) =
            store.add_feed(&site.url(&format!("/f{f}.xml")), 3600, now).await.expect("feed");
        store.link_feed(community, feed.id, None, now).await.expect("link");
        ids.push(feed.id);
    }
    let per = feeds / CHANNELS;
    for (c, ch) in channels.iter().enumerate() {
        let row = store
            .ensure_channel(community, "discord", &ch.to_string(), None, now)
            .await
            .expect("channel");
        for &feed in &ids[c * per..(c + 1) * per] {
            store.subscribe(row.id, feed, "instant", &[], &[], None, now).await.expect("subscribe");
        }
    }
    store.close().await;
    mark_primed(url).await;

    let started = Instant::now();
    let (busy0, total0) = machine_cpu();
    let (me0, kids0) = (cpu_of(libc::RUSAGE_SELF), cpu_of(libc::RUSAGE_CHILDREN));
    let mut procs: Vec<Child> = (0..processes)
        .map(|n| {
            let pdir = dir.join(format!("p{n}"));
            std::fs::create_dir_all(&pdir).expect("dir");
            herald(&pdir, &fake)
                .env("DATABASE_URL", url)
                .env("HERALD_DISCORD_SHARDS", format!("{n}/{processes}"))
                // One host serves every feed here; real feeds spread over many.
                .env("HERALD_PER_HOST_CONCURRENCY", "64")
                .args(["run", "--no-console"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn herald")
        })
        .collect();
    let total_posts = per * CHANNELS * ITEMS;
    let (mut first_post, mut last_post) = (None, None);
    loop {
        let posted: usize = channels.iter().map(|c| fake.messages(*c).len()).sum();
        if posted > 0 && first_post.is_none() {
            first_post = Some(Instant::now());
        }
        if posted >= total_posts {
            last_post = Some(Instant::now());
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for p in &procs {
        signal(p, libc::SIGTERM);
    }
    for p in &mut procs {
        wait_exit(p, Duration::from_secs(30)).await;
    }
    let (busy1, total1) = machine_cpu();
    let herald_cpu = cpu_of(libc::RUSAGE_CHILDREN) - kids0;
    let harness_cpu = cpu_of(libc::RUSAGE_SELF) - me0;
    let fetched = fetched.lock().expect("lock").clone();
    let span = |a: Option<&Instant>, b: Option<&Instant>, n: usize| match (a, b) {
        (Some(a), Some(b)) if b > a => n as f64 / (*b - *a).as_secs_f64(),
        _ => 0.0,
    };
    Figures {
        polls_per_s: span(fetched.first(), fetched.last(), fetched.len()),
        deliveries_per_s: span(first_post.as_ref(), last_post.as_ref(), total_posts),
        herald_cpu,
        harness_cpu,
        other_cpu: (busy1 - busy0 - herald_cpu - harness_cpu).max(0.0),
        busy: (busy1 - busy0) / (total1 - total0).max(1e-9),
    }
}

/// As if every feed had been polled once before: their items are news, not history.
async fn mark_primed(url: &str) {
    if herald::store::is_postgres_url(url) {
        let pg = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query("UPDATE feeds SET primed = TRUE").execute(&pg).await.expect("primed");
        pg.close().await;
    } else {
        let lite = sqlx::SqlitePool::connect(url).await.expect("connect");
        sqlx::query("UPDATE feeds SET primed = 1").execute(&lite).await.expect("primed");
        lite.close().await;
    }
}
