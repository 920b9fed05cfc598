//! `herald bench feeds`: herald's feed reader against feedparser's reading of its own test
//! feeds, and parsing speed.
//!
//! Agreement is computed on the files the reference marks well formed (`bozo == 0`) that
//! exist both in the data folder and in the reference (so a different reference, such as
//! the held-out half's, works as long as it has the same shape). The reference is written
//! by `scripts/feedparser_reference.py`; compared per file: the number of entries, the
//! feed title and the first entry's title (both with markup stripped, entities decoded and
//! whitespace collapsed) and the first entry's link. Files are read the way feedparser's
//! own test harness serves them: a path containing "http" comes over HTTP from
//! `http://127.0.0.1:8097/tests/<path>` with the headers its `Header:` lines name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;

use crate::ingest::feed::html;
use crate::ingest::parse::{ParsedFeed, parse_feed, parse_feed_with};

/// feedparser's reading of one file.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    pub bozo: u8,
    pub entries: usize,
    pub title: Option<String>,
    pub entry_title: Option<String>,
    pub entry_link: Option<String>,
}

/// How one file is handed to the parser, as feedparser's test harness serves it.
pub struct Served {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub base: Option<String>,
}

/// The `Header:` lines of a test file's leading comment.
pub fn test_headers(bytes: &[u8]) -> Vec<(String, String)> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let comment = head.split("-->").next().unwrap_or("");
    comment
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Header:"))
        .filter_map(|h| h.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

pub fn serve(rel: &str, bytes: Vec<u8>) -> Served {
    if !rel.contains("http") {
        return Served { bytes, content_type: None, base: None };
    }
    let headers = test_headers(&bytes);
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let url = format!("http://127.0.0.1:8097/tests/{rel}");
    // A Content-Location with a web scheme is the document's base (feedparser's rule).
    let base = get("content-location")
        .and_then(|loc| url::Url::parse(&url).ok()?.join(&loc).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(String::from)
        .unwrap_or(url);
    let content_type = get("content-type").unwrap_or_else(|| "application/xml".into());
    Served { bytes, content_type: Some(content_type), base: Some(base) }
}

/// Markup stripped, entities decoded, whitespace collapsed; empty is None.
pub fn normalize(s: Option<&str>) -> Option<String> {
    Some(html::to_text(s?)).filter(|t| !t.is_empty())
}

/// herald's title (already text) in the form that compares with feedparser's: as is
/// when that matches feedparser's normalized value, else normalized like it (herald's text
/// may legitimately hold a literal `<b>` that normalizing would strip).
fn text_as(ours: Option<&str>, theirs: Option<&str>) -> String {
    let collapsed =
        ours.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty());
    let want = normalize(theirs);
    if collapsed == want { format!("{collapsed:?}") } else { format!("{:?}", normalize(ours)) }
}

/// One file's outcome.
pub struct Outcome {
    pub rel: String,
    pub result: Result<Result<ParsedFeed, String>, ()>,
    pub took: Duration,
}

/// Every feed file under `data`, relative paths sorted.
pub fn files(data: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut dirs = vec![data.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "xml" || e == "json") {
                let rel =
                    path.strip_prefix(data).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// herald's reader, as the poller calls it.
pub fn herald_reader(s: &Served) -> Result<ParsedFeed, String> {
    parse_feed_with(&s.bytes, s.base.as_deref(), s.content_type.as_deref())
        .map_err(|e| e.to_string())
}

/// The parser herald had before (feed-rs), for the before/after comparison.
pub fn legacy_reader(s: &Served) -> Result<ParsedFeed, String> {
    super::feeds_legacy::parse_feed_legacy(&s.bytes, s.base.as_deref()).map_err(|e| e.to_string())
}

/// Parses every file with herald's reader, catching panics and timing each.
pub fn run_all(data: &Path) -> anyhow::Result<Vec<Outcome>> {
    run_all_with(data, herald_reader)
}

/// Parses every file with `reader`, catching panics and timing each.
pub fn run_all_with(
    data: &Path,
    reader: fn(&Served) -> Result<ParsedFeed, String>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for rel in files(data)? {
        let bytes = std::fs::read(data.join(&rel))?;
        let served = serve(&rel, bytes);
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| reader(&served)).map_err(|_| ());
        out.push(Outcome { rel, result, took: started.elapsed() });
    }
    Ok(out)
}

/// Agreement on one measure.
#[derive(Debug, Default, Clone, Copy)]
pub struct Share {
    pub agree: usize,
    pub total: usize,
}

impl Share {
    pub fn percent(&self) -> f64 {
        if self.total == 0 { 100.0 } else { 100.0 * self.agree as f64 / self.total as f64 }
    }
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.agree += usize::from(ok);
    }
}

#[derive(Debug, Default)]
pub struct Agreement {
    pub entries: Share,
    pub title: Share,
    pub entry_title: Share,
    pub entry_link: Share,
    /// The same four measures on only the files where feedparser has a value (at least
    /// one entry; a non-empty title or link): "both empty" does not count as agreeing.
    pub present: [Share; 4],
    /// One line per disagreement, for reading.
    pub misses: Vec<String>,
}

pub fn load_reference(path: &Path) -> anyhow::Result<BTreeMap<String, Reference>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn agreement(outcomes: &[Outcome], reference: &BTreeMap<String, Reference>) -> Agreement {
    let mut a = Agreement::default();
    for o in outcomes {
        let Some(r) = reference.get(&o.rel).filter(|r| r.bozo == 0) else { continue };
        let feed = match &o.result {
            Ok(Ok(f)) => Some(f),
            _ => None,
        };
        let first = feed.and_then(|f| f.entries.first());
        let mut check = |share: &mut Share, what: &str, ours: String, theirs: String| {
            let ok = ours == theirs;
            share.add(ok);
            let slot =
                ["entries", "title", "entry title", "entry link"].iter().position(|w| *w == what);
            if let Some(slot) = slot
                && theirs != "0"
                && theirs != "None"
            {
                a.present[slot].add(ok);
            }
            if !ok {
                a.misses.push(format!("{}: {what}: herald {ours}, feedparser {theirs}", o.rel));
            }
        };
        let count = feed.map_or(0, |f| f.entries.len());
        check(&mut a.entries, "entries", count.to_string(), r.entries.to_string());
        let t = |s: Option<String>| format!("{s:?}");
        check(
            &mut a.title,
            "title",
            text_as(feed.and_then(|f| f.title.as_deref()), r.title.as_deref()),
            t(normalize(r.title.as_deref())),
        );
        check(
            &mut a.entry_title,
            "entry title",
            text_as(first.and_then(|e| e.title.as_deref()), r.entry_title.as_deref()),
            t(normalize(r.entry_title.as_deref())),
        );
        let link =
            |s: Option<&str>| t(s.map(str::trim).filter(|s| !s.is_empty()).map(String::from));
        check(
            &mut a.entry_link,
            "entry link",
            link(first.and_then(|e| e.link.as_deref())),
            link(r.entry_link.as_deref()),
        );
    }
    a
}

/// A typical news feed of about 100 KB: 48 items with HTML descriptions, guids, dates,
/// authors and thumbnails.
pub fn typical_feed() -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:media=\"http://search.yahoo.com/mrss/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n\
         <title>Example News &amp; Analysis</title>\n<link>https://news.example.com/</link>\n\
         <atom:link href=\"https://news.example.com/feed\" rel=\"self\" type=\"application/rss+xml\"/>\n\
         <description>World news</description>\n<language>en</language>\n",
    );
    let para = "<p>The ministers met on Tuesday to discuss the &lt;draft&gt; agreement, which \
                would reshape trade across the region for the next decade. Officials said \
                talks were &quot;constructive&quot; but that several points remained open, \
                including tariffs on steel and the timetable for implementation.</p>";
    for i in 0..48 {
        s.push_str(&format!(
            "<item>\n<title>Story number {i}: talks resume in Brussels &#8212; day {i}</title>\n\
             <link>https://news.example.com/2026/12/story-{i}.html</link>\n\
             <guid isPermaLink=\"false\">urn:example:story:{i}</guid>\n\
             <pubDate>Tue, 01 Dec 2026 {:02}:{:02}:00 +0100</pubDate>\n<dc:creator>Reporter {i}</dc:creator>\n\
             <media:thumbnail url=\"https://img.example.com/{i}.jpg\" width=\"320\" height=\"180\"/>\n\
             <description><![CDATA[{}]]></description>\n</item>\n",
            i % 24,
            i % 60,
            para.repeat(6)
        ));
    }
    s.push_str("</channel>\n</rss>\n");
    s.into_bytes()
}

/// Mean time of one parse of `bytes` by each of two parsers, measured in alternating
/// blocks for about `budget` each, so a machine whose load changes treats both alike.
pub fn time_pair(
    bytes: &[u8],
    budget: Duration,
    a: impl Fn(&[u8]) -> bool,
    b: impl Fn(&[u8]) -> bool,
) -> (Duration, Duration, usize) {
    let (_, _) = (a(bytes), b(bytes));
    let (mut ta, mut tb, mut rounds) = (Duration::ZERO, Duration::ZERO, 0u32);
    while ta + tb < budget * 2 || rounds < 5 {
        for _ in 0..20 {
            let started = Instant::now();
            let _ = a(bytes);
            ta += started.elapsed();
            let started = Instant::now();
            let _ = b(bytes);
            tb += started.elapsed();
        }
        rounds += 20;
    }
    (ta / rounds, tb / rounds, rounds as usize)
}

/// `herald bench feeds [--data DIR] [--reference FILE]`.
pub fn run(data: &Path, reference: &Path) -> anyhow::Result<()> {
    let reference = load_reference(reference)?;
    // The previous parser panics on some files; its panic messages are not news here.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let before = run_all_with(data, legacy_reader);
    std::panic::set_hook(hook);
    let before = before?;
    let after = run_all(data)?;
    let mut rows = Vec::new();
    for outcomes in [&before, &after] {
        let panics = outcomes.iter().filter(|o| o.result.is_err()).count();
        let a = agreement(outcomes, &reference);
        let e = super::feeds_expect::evaluate(data, outcomes);
        rows.push((panics, a, e));
    }
    let slowest = after.iter().max_by_key(|o| o.took);
    println!("{} files; herald's slowest: {:?}", after.len(), slowest.map(|s| (&s.rel, s.took)));
    println!(
        "agreement with feedparser on the {} files feedparser reads without error (bozo = 0):",
        rows[1].1.entries.total
    );
    println!("| measure | before (feed-rs) | herald's reader |\n|---|---|---|");
    let cell = |s: &Share| format!("{:.1} % ({}/{})", s.percent(), s.agree, s.total);
    let (b, a) = (&rows[0], &rows[1]);
    println!("| number of entries | {} | {} |", cell(&b.1.entries), cell(&a.1.entries));
    println!("| feed title | {} | {} |", cell(&b.1.title), cell(&a.1.title));
    println!("| first entry's title | {} | {} |", cell(&b.1.entry_title), cell(&a.1.entry_title));
    println!("| first entry's link | {} | {} |", cell(&b.1.entry_link), cell(&a.1.entry_link));
    let names = ["number of entries", "feed title", "first entry's title", "first entry's link"];
    for (i, name) in names.iter().enumerate() {
        println!(
            "| {name}, only where feedparser has one | {} | {} |",
            cell(&b.1.present[i]),
            cell(&a.1.present[i])
        );
    }
    println!(
        "| `Expect:` lines that hold ({} mappable of {}) | {:.1} % ({}) | {:.1} % ({}) |",
        a.2.mapped,
        a.2.total,
        b.2.percent(),
        b.2.held,
        a.2.percent(),
        a.2.held
    );
    println!("| panics (of {} files) | {} | {} |", after.len(), b.0, a.0);
    if std::env::var_os("HERALD_BENCH_VERBOSE").is_some() {
        for m in a.1.misses.iter().chain(a.2.misses.iter()) {
            println!("  miss: {m}");
        }
    }

    println!(
        "hostile 5 MB inputs (time of one parse on this machine; memory: tests/it/feedparser.rs):"
    );
    for (name, bytes) in hostile_inputs() {
        let started = Instant::now();
        let result = parse_feed(&bytes, None);
        let took = started.elapsed();
        let what = match result {
            Ok(f) => format!("{} entries", f.entries.len()),
            Err(e) => format!("refused ({e})"),
        };
        println!("  {name}: {:.0} ms, {what}", took.as_secs_f64() * 1e3);
    }

    let typical = typical_feed();
    let budget = Duration::from_secs(2);
    let base = Some("https://news.example.com/feed");
    let (ours, theirs, n) = time_pair(
        &typical,
        budget,
        |b| parse_feed(b, base).is_ok(),
        |b| super::feeds_legacy::parse_feed_legacy(b, base).is_ok(),
    );
    println!(
        "typical {} KB RSS feed: herald's reader {:.3} ms per parse; before (feed-rs) {:.3} ms ({n} rounds each, interleaved)",
        typical.len() / 1024,
        ours.as_secs_f64() * 1e3,
        theirs.as_secs_f64() * 1e3
    );
    Ok(())
}

const FIVE_MB: usize = 5 * 1024 * 1024;

/// `head`, then `unit(i)` for i = 0, 1, … while the whole stays within `size`, then `tail`.
fn fill(head: &str, unit: impl Fn(usize) -> String, tail: &str, size: usize) -> Vec<u8> {
    let mut s = String::with_capacity(size);
    s.push_str(head);
    for i in 0.. {
        let u = unit(i);
        if s.len() + u.len() + tail.len() > size {
            break;
        }
        s.push_str(&u);
    }
    s.push_str(tail);
    s.into_bytes()
}

/// The worst feeds a stranger can serve within the 5 MB body cap: each must parse or be
/// refused within the CPU and memory bounds (tests/it/feedparser.rs, README "Limits").
pub fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let rss = "<rss version=\"2.0\"><channel><title>t</title>";
    let end = "</channel></rss>";
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY lol \"lol\">");
    laughs.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">");
    for i in 2..10 {
        laughs.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", i - 1).repeat(10)));
    }
    laughs.push_str("]>");
    laughs.push_str(rss);
    let half = FIVE_MB / 2;
    let deep_closed = {
        let n = half / 3;
        let mut v = format!("{rss}<item><title>").into_bytes();
        v.extend(b"<b>".repeat(n));
        v.extend(b"</b>".repeat(n));
        v.extend(format!("</title></item>{end}").as_bytes());
        v
    };
    vec![
        (
            "JSON Feed of {} items",
            fill(
                "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{}",
                |_| ",{}".into(),
                "]}",
                FIVE_MB,
            ),
        ),
        (
            "JSON Feed of distinct items",
            fill(
                "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{}",
                |i| format!(",{{\"id\":\"{i}\",\"title\":\"t\"}}"),
                "]}",
                FIVE_MB,
            ),
        ),
        ("RSS <item/> x N", fill(rss, |_| "<item/>".into(), end, FIVE_MB)),
        (
            "RSS distinct items",
            fill(rss, |i| format!("<item><guid>{i}</guid><title>a</title></item>"), end, FIVE_MB),
        ),
        (
            "Atom <entry/> x N",
            fill(
                "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>",
                |_| "<entry/>".into(),
                "</feed>",
                FIVE_MB,
            ),
        ),
        (
            "XML nested 1.7M deep, unclosed",
            fill(
                &format!("{rss}<item><description>"),
                |_| "<x>".into(),
                &format!("</description></item>{end}"),
                FIVE_MB,
            ),
        ),
        ("XML nested deep, closed", deep_closed),
        (
            "JSON nested 5M deep",
            fill(
                "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[{\"x\":",
                |_| "[".into(),
                "",
                FIVE_MB,
            ),
        ),
        (
            "billion laughs",
            fill(&laughs, |_| "<item><title>&lol9;</title></item>".into(), end, FIVE_MB),
        ),
        (
            "one tag, 600k attributes",
            fill(
                &format!("{rss}<item><link "),
                |_| "a=\"b\" ".into(),
                &format!("/></item>{end}"),
                FIVE_MB,
            ),
        ),
        (
            "5 MB of & in a title",
            fill(
                &format!("{rss}<item><title>"),
                |_| "&".into(),
                &format!("</title></item>{end}"),
                FIVE_MB,
            ),
        ),
        (
            "5 MB of unclosed <br> in a description",
            fill(
                &format!("{rss}<item><description>"),
                |_| "<br>".into(),
                &format!("</description></item>{end}"),
                FIVE_MB,
            ),
        ),
        ("5 MB of `<!`", fill(&format!("{rss}<item><title>"), |_| "<!".into(), "", FIVE_MB)),
        ("5 MB of unclosed `<a `", fill(rss, |_| "<a ".into(), "", FIVE_MB)),
        ("5 MB of `</`", fill(rss, |_| "</".into(), "", FIVE_MB)),
        ("64 namespaces, then 600k elements", {
            let decls: String =
                (0..64).map(|i| format!(" xmlns:n{i}=\"http://n{i}.example/\"")).collect();
            let head = format!("<rss{decls}><channel><title>t</title>");
            fill(&head, |_| "<n0:x/>".into(), end, FIVE_MB)
        }),
    ]
}

/// Where the data and reference are: `HERALD_FEEDPARSER_DATA` and
/// `HERALD_FEEDPARSER_REFERENCE` when set (another half of the tests, another reference of
/// the same shape), else the dev half and the committed reference.
pub fn default_paths() -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = std::env::var_os("HERALD_FEEDPARSER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data/feeds-feedparser-dev"));
    let reference = std::env::var_os("HERALD_FEEDPARSER_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/data/feedparser-dev-reference.json"));
    (data, reference)
}
