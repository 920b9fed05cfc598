//! `herald bench hostile`: what each hostile input costs, worst case, on this machine.
//!
//! Every input is what a stranger's feed or page can serve within herald's body caps
//! (5 MB feeds, 10 MB pages), pushed through the same code the poller runs on it (feed:
//! parse, then each entry's text and summary as for a first poll; page: charset
//! decoding, extraction, summary). Each case runs in a child process of its own, so its
//! CPU time and peak memory are its alone: the input is built first, the peak is reset,
//! and what is reported is the peak above the resident memory at that moment.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::config::FetchConfig;
use crate::extract;
use crate::ingest::charset::decode_html;
use crate::ingest::parse_feed;
use crate::ingest::text::html_to_text;
use crate::summarize::{Extractive, Summarizer};

/// What a case feeds its input to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Feed,
    Page,
    Text,
}

struct Case {
    name: &'static str,
    kind: Kind,
    make: fn() -> Vec<u8>,
}

/// One case's cost.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Cost {
    pub case: String,
    pub bytes: usize,
    pub wall_ms: f64,
    pub cpu_ms: f64,
    /// Peak resident memory above the memory in use once the input was built.
    pub peak_mb: f64,
    /// What herald made of it ("3 entries", "error: ...").
    pub outcome: String,
}

fn feed_cap() -> usize {
    FetchConfig::default().max_feed_bytes as usize
}

fn page_cap() -> usize {
    FetchConfig::default().max_page_bytes as usize
}

/// `head`, then `unit(i)` for i = 0, 1, ... while it fits, then `tail`: `cap` bytes at most.
fn fill(head: &str, unit: impl Fn(usize) -> String, tail: &str, cap: usize) -> Vec<u8> {
    let mut out = String::with_capacity(cap);
    out.push_str(head);
    let mut i = 0;
    loop {
        let u = unit(i);
        if out.len() + u.len() + tail.len() > cap {
            break;
        }
        out.push_str(&u);
        i += 1;
    }
    out.push_str(tail);
    out.into_bytes()
}

const RSS_HEAD: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>";
const RSS_TAIL: &str = "</channel></rss>";
const PAGE_HEAD: &str = "<!DOCTYPE html><html><head><title>Hostile</title></head><body>";
const PAGE_TAIL: &str =
    "<p>The council approved the budget on Monday after a long debate.</p></body></html>";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "feed: RSS of empty <item/>",
            kind: Kind::Feed,
            make: || fill(RSS_HEAD, |_| "<item/>".into(), RSS_TAIL, feed_cap()),
        },
        Case {
            name: "feed: RSS of 100k small items",
            kind: Kind::Feed,
            make: || {
                fill(
                    RSS_HEAD,
                    |i| format!("<item><title>Item {i}</title><guid>g{i}</guid></item>"),
                    RSS_TAIL,
                    feed_cap(),
                )
            },
        },
        Case {
            name: "feed: Atom of empty <entry/>",
            kind: Kind::Feed,
            make: || {
                fill(
                    "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>",
                    |_| "<entry/>".into(),
                    "</feed>",
                    feed_cap(),
                )
            },
        },
        Case {
            name: "feed: JSON Feed of {} items",
            kind: Kind::Feed,
            make: || {
                fill(
                    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{}",
                    |_| ",{}".into(),
                    "]}",
                    feed_cap(),
                )
            },
        },
        Case {
            name: "feed: JSON nested 1M deep",
            kind: Kind::Feed,
            make: || {
                let depth = feed_cap() / 2 - 200;
                let mut s = String::from(
                    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{\"x\":",
                );
                s.push_str(&"[".repeat(depth / 2));
                s.push_str(&"]".repeat(depth / 2));
                s.push_str("}]}");
                s.into_bytes()
            },
        },
        Case {
            name: "feed: XML nested 1M deep",
            kind: Kind::Feed,
            make: || {
                let n = (feed_cap() - 200) / 7;
                let mut s = String::from(RSS_HEAD);
                s.push_str("<item><title>x</title><description>");
                s.push_str(&"<a>".repeat(n / 2));
                s.push_str(&"</a>".repeat(n / 2 - 1));
                s.push_str("</description></item>");
                s.push_str(RSS_TAIL);
                s.into_bytes()
            },
        },
        Case {
            name: "feed: billion laughs",
            kind: Kind::Feed,
            make: || {
                let mut s =
                    String::from("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY l0 \"lol\">");
                for i in 1..10 {
                    let refs = format!("&l{};", i - 1).repeat(10);
                    s.push_str(&format!("<!ENTITY l{i} \"{refs}\">"));
                }
                s.push_str("]><rss version=\"2.0\"><channel><title>&l9;</title>");
                s.push_str("<item><title>&l9;</title><description>&l9;</description></item>");
                s.push_str(RSS_TAIL);
                s.into_bytes()
            },
        },
        Case {
            name: "feed: one 5 MB description",
            kind: Kind::Feed,
            make: || {
                fill(
                    &format!("{RSS_HEAD}<item><title>Long</title><description><![CDATA["),
                    |i| format!("<p>Sentence number {i} of an endless item says little.</p>"),
                    &format!("]]></description></item>{RSS_TAIL}"),
                    feed_cap(),
                )
            },
        },
        Case {
            name: "feed: 1,000 items of 5 KB text",
            kind: Kind::Feed,
            make: || {
                let body =
                    "The committee met again on Tuesday and argued over the plan. ".repeat(80);
                fill(
                    RSS_HEAD,
                    move |i| {
                        format!(
                            "<item><title>Item {i}</title><guid>g{i}</guid><description>{body}</description></item>"
                        )
                    },
                    RSS_TAIL,
                    feed_cap(),
                )
            },
        },
        Case {
            name: "feed: UTF-16 with BOM",
            kind: Kind::Feed,
            make: || {
                let xml = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>t</title>\
                     <item><title>One</title><link>http://example.com/1</link></item></channel></rss>";
                let mut out = vec![0xFF, 0xFE];
                for unit in xml.encode_utf16() {
                    out.extend_from_slice(&unit.to_le_bytes());
                }
                out
            },
        },
        Case {
            name: "page: 1M <div/> (HTML5 nests them)",
            kind: Kind::Page,
            make: || fill(PAGE_HEAD, |_| "<div/>".into(), PAGE_TAIL, page_cap()),
        },
        Case {
            name: "page: <div></x> stray end tags",
            kind: Kind::Page,
            make: || fill(PAGE_HEAD, |_| "<div></x>".into(), PAGE_TAIL, page_cap()),
        },
        Case {
            name: "page: 2M nested <div>",
            kind: Kind::Page,
            make: || fill(PAGE_HEAD, |_| "<div>".into(), PAGE_TAIL, page_cap()),
        },
        Case {
            name: "page: one <p> with 500k attributes",
            kind: Kind::Page,
            make: || {
                let mut s = String::from(PAGE_HEAD);
                s.push_str("<p");
                for i in 0..500_000 {
                    s.push_str(&format!(" a{i}=x"));
                }
                s.push_str(">hello</p>");
                s.push_str(PAGE_TAIL);
                s.into_bytes()
            },
        },
        Case {
            name: "page: 1M elements",
            kind: Kind::Page,
            make: || fill(PAGE_HEAD, |_| "<p>x</p>".into(), PAGE_TAIL, page_cap()),
        },
        Case {
            name: "page: 150k sentence paragraphs",
            kind: Kind::Page,
            make: || {
                fill(
                    PAGE_HEAD,
                    |i| format!("<p>Councillors met for the {i}th time and voted on the plan.</p>"),
                    PAGE_TAIL,
                    page_cap(),
                )
            },
        },
        Case {
            name: "page: nested tables",
            kind: Kind::Page,
            make: || fill(PAGE_HEAD, |_| "<table><tr><td>".into(), PAGE_TAIL, page_cap()),
        },
        Case {
            name: "page: misnested formatting",
            kind: Kind::Page,
            make: || {
                fill(PAGE_HEAD, |_| "<a href=#><b><div>x</a></b>".into(), PAGE_TAIL, page_cap())
            },
        },
        Case {
            name: "page: one 10 MB paragraph",
            kind: Kind::Page,
            make: || {
                fill(
                    &format!("{PAGE_HEAD}<article><p>"),
                    |i| format!("This is sentence {i} of a paragraph that never ends. "),
                    &format!("</p></article>{PAGE_TAIL}"),
                    page_cap(),
                )
            },
        },
        Case {
            name: "page: 10 MB attribute value",
            kind: Kind::Page,
            make: || {
                let mut s = String::from(PAGE_HEAD);
                s.push_str("<p title=\"");
                s.push_str(&"a".repeat(page_cap() - 500));
                s.push_str("\">x</p>");
                s.push_str(PAGE_TAIL);
                s.into_bytes()
            },
        },
        Case {
            name: "page: script flood",
            kind: Kind::Page,
            make: || {
                fill(
                    &format!("{PAGE_HEAD}<script>"),
                    |_| "a<b;".into(),
                    &format!("</script>{PAGE_TAIL}"),
                    page_cap(),
                )
            },
        },
        Case {
            name: "page: binary junk",
            kind: Kind::Page,
            make: || {
                let mut x: u32 = 0x9E37_79B9;
                (0..page_cap())
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect()
            },
        },
        Case {
            name: "text: 30,000 sentences to summarize",
            kind: Kind::Text,
            make: || {
                (0..30_000)
                    .map(|i| format!("Sentence {i} tells of the vote and the budget plan again. "))
                    .collect::<String>()
                    .into_bytes()
            },
        },
    ]
}

/// Runs one case in this process and measures it.
fn measure(case: &Case) -> Cost {
    let input = (case.make)();
    super::reset_peak_rss();
    let base = super::rss();
    let cpu0 = super::cpu_time();
    let t0 = Instant::now();
    let outcome = match case.kind {
        Kind::Feed => run_feed(&input),
        Kind::Page => run_page(&input),
        Kind::Text => run_text(&input),
    };
    let wall = t0.elapsed();
    let cpu = super::cpu_time().saturating_sub(cpu0);
    let peak = super::peak_rss().saturating_sub(base);
    Cost {
        case: case.name.to_string(),
        bytes: input.len(),
        wall_ms: ms(wall),
        cpu_ms: ms(cpu),
        peak_mb: peak as f64 / 1e6,
        outcome,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run_feed(bytes: &[u8]) -> String {
    match parse_feed(bytes, Some("https://hostile.example/feed")) {
        Ok(feed) => {
            let summarizer = Extractive::default();
            for e in &feed.entries {
                let text = e.content_html.as_deref().map(html_to_text).unwrap_or_default();
                let _ = summarizer.summarize(e.title.as_deref(), &text, 3);
            }
            format!("{} entries", feed.entries.len())
        }
        Err(e) => format!("error: {e}"),
    }
}

fn run_page(bytes: &[u8]) -> String {
    let html = decode_html(bytes, Some("text/html"));
    match extract::extract(&html, Some("https://hostile.example/page")) {
        Ok(page) => {
            let _ = Extractive::default().summarize(page.title.as_deref(), &page.text, 3);
            format!("{} bytes of text", page.text.len())
        }
        Err(e) => format!("error: {e}"),
    }
}

fn run_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let summary = Extractive::default().summarize(None, &text, 3);
    format!("{} sentences", summary.len())
}

/// Limits a case may not pass.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_cpu: Duration,
    pub max_mb: f64,
}

/// `herald bench hostile`: runs every case (or the one named) in a child process each
/// and prints the table; with `json` one JSON line per case. Fails when a case passes
/// `limits`.
pub fn hostile_bench(only: Option<&str>, json: bool, limits: Limits) -> anyhow::Result<()> {
    if let Some(name) = only {
        // The child: one case, one JSON line.
        let case = cases()
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| anyhow::anyhow!("no hostile case named {name:?}"))?;
        let cost = measure(&case);
        println!("{}", serde_json::to_string(&cost)?);
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mut over = Vec::new();
    let mut out = std::io::stdout().lock();
    if !json {
        writeln!(out, "{:<40} {:>9} {:>9} {:>9}  outcome", "case", "wall ms", "CPU ms", "peak MB")?;
    }
    for case in cases() {
        let child = Command::new(&exe).args(["bench", "hostile", "--case", case.name]).output()?;
        let line = String::from_utf8_lossy(&child.stdout);
        let cost: Cost = match serde_json::from_str(line.trim()) {
            Ok(c) => c,
            Err(_) => {
                let err = String::from_utf8_lossy(&child.stderr);
                over.push(format!(
                    "{}: the child failed ({}): {}",
                    case.name,
                    child.status,
                    err.trim()
                ));
                continue;
            }
        };
        if json {
            writeln!(out, "{}", serde_json::to_string(&cost)?)?;
        } else {
            writeln!(
                out,
                "{:<40} {:>9.0} {:>9.0} {:>9.1}  {}",
                cost.case, cost.wall_ms, cost.cpu_ms, cost.peak_mb, cost.outcome
            )?;
        }
        if cost.cpu_ms > ms(limits.max_cpu) || cost.peak_mb > limits.max_mb {
            over.push(format!(
                "{}: {:.0} ms CPU, {:.1} MB (limits {:.0} ms, {:.0} MB)",
                cost.case,
                cost.cpu_ms,
                cost.peak_mb,
                ms(limits.max_cpu),
                limits.max_mb
            ));
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("over the limits:\n  {}", over.join("\n  "))
    }
}

/// `herald bench hostile --lateness`: `healthy` feeds and one hostile feed on a
/// one-minute interval, polled by the real poll loop for `run_for`. The hostile feed
/// mints 1,000 new items a poll whose pages trickle a byte a second; every healthy feed
/// has one new item a minute with a quick page. Lateness is when a feed's request
/// reaches the server minus when it was due (its `next_poll_at`, sampled from the
/// database four times a second).
pub async fn lateness_bench(healthy: usize, run_for: Duration) -> anyhow::Result<()> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use crate::app::App;
    use crate::config::Config;
    use crate::localserver::{Body, LocalServer, Request, Response};

    let dir = tempfile_dir()?;
    let data = dir.display().to_string();
    let config = Config::from_lookup(|name| match name {
        "HERALD_DATA_DIR" => Some(data.clone()),
        "HERALD_ALLOW_PRIVATE_NETWORKS" => Some("true".into()),
        _ => None,
    })?;
    let app = App::open(config, crate::clock::system()).await?;

    let due: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let late: Arc<Mutex<Vec<i64>>> = Arc::default();
    let minted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (due_h, late_h, minted_h) = (due.clone(), late.clone(), minted.clone());
    let handler: crate::localserver::Handler = Arc::new(move |req: &Request| {
        let path = req.path().to_string();
        let now = chrono::Utc::now().timestamp();
        if path.starts_with("/h")
            && path.ends_with(".xml")
            && let Some(&d) = due_h.lock().unwrap_or_else(|p| p.into_inner()).get(&path)
        {
            late_h.lock().unwrap_or_else(|p| p.into_inner()).push((now - d).max(0));
        }
        if path == "/x.xml" {
            let base = minted_h.fetch_add(1000, std::sync::atomic::Ordering::Relaxed);
            let items: String = (base..base + 1000)
                .map(|i| format!("<item><guid>x{i}</guid><title>Flood {i}</title><link>/slow/{i}</link></item>"))
                .collect();
            return Response::new(
                200,
                "application/rss+xml",
                format!("{RSS_HEAD}{items}{RSS_TAIL}"),
            );
        }
        if path.starts_with("/slow/") {
            return Response {
                status: 200,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: Body::Slow {
                    chunk: b"<".to_vec(),
                    every: Duration::from_secs(1),
                    count: 600,
                },
            };
        }
        if let Some(feed) = path.strip_prefix("/h").and_then(|p| p.strip_suffix(".xml")) {
            let minute = now / 60;
            let item = format!(
                "<item><guid>{feed}-{minute}</guid><title>News {minute}</title><link>/page/{feed}/{minute}</link></item>"
            );
            return Response::new(
                200,
                "application/rss+xml",
                format!("{RSS_HEAD}{item}{RSS_TAIL}"),
            );
        }
        Response::new(200, "text/html", format!("{PAGE_HEAD}{PAGE_TAIL}"))
    });
    let server = LocalServer::start("127.0.0.1:0".parse()?, handler).await?;
    let now = app.clock.now();
    let console = app.store.console_community(now).await?;
    // The hostile feed and the healthy ones on different host names, as they would be.
    let hostile = server.url("/x.xml").replace("127.0.0.1", "localhost");
    app.store.add_and_link_feed(console, &hostile, Some(60), 60, now).await?;
    for i in 0..healthy {
        app.store
            .add_and_link_feed(console, &server.url(&format!("/h{i}.xml")), Some(60), 60, now)
            .await?;
    }
    app.poller.poll_due(64).await?;
    late.lock().unwrap_or_else(|p| p.into_inner()).clear();

    let (stop, rx) = tokio::sync::watch::channel(false);
    let poller = app.poller.clone();
    let slots = app.config.fetch.concurrency;
    let polling =
        tokio::spawn(
            async move { poller.run(rx, slots, Default::default(), Default::default()).await },
        );
    let started = Instant::now();
    while started.elapsed() < run_for {
        let now = app.clock.now();
        let rows = app.store.list_feeds().await?;
        {
            let mut map = due.lock().unwrap_or_else(|p| p.into_inner());
            for f in rows {
                // A claimed feed's next_poll_at is a lease far ahead: keep the real due time.
                if f.next_poll_at <= now + 90 {
                    let path =
                        f.url.rsplit_once('/').map(|(_, p)| format!("/{p}")).unwrap_or_default();
                    map.insert(path, f.next_poll_at);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(120), polling).await;
    let mut late = late.lock().unwrap_or_else(|p| p.into_inner()).clone();
    late.sort_unstable();
    let pct =
        |p: f64| late.get(((late.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
    println!(
        "{healthy} healthy feeds + 1 hostile (1,000 trickling items a poll), 1-minute interval, {} s:",
        run_for.as_secs()
    );
    println!(
        "  healthy polls: {}; lateness p50 {} s, p99 {} s, max {} s; articles stored in all: {}",
        late.len(),
        pct(0.5),
        pct(0.99),
        late.last().copied().unwrap_or(0),
        app.store.count_articles().await?
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("herald-lateness-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
