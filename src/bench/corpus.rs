//! Generated feeds and article pages for the poll benchmarks: deterministic prose-like
//! text (so full-text indexing and summaries do real work), ~9 KB per 10-item feed and
//! ~20 KB per article page, as sites serve them.
//!
//! A feed's content is a function of its number and a *generation* the benchmark sets:
//! generation 0 is the feed's 10 items; from generation 1 each generation adds one item,
//! odd ones without a link (nothing to fetch), even ones linking to an article page.
//! The ETag names the generation, so an unchanged feed answers 304.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::localserver::{Handler, LocalServer, Response};

/// Items in a feed at generation 0.
pub const ITEMS_PER_FEED: usize = 10;

const WORDS: &[&str] = &[
    "the",
    "council",
    "said",
    "on",
    "tuesday",
    "that",
    "new",
    "plans",
    "for",
    "city",
    "river",
    "bridge",
    "would",
    "cost",
    "more",
    "than",
    "expected",
    "and",
    "residents",
    "were",
    "asked",
    "to",
    "comment",
    "before",
    "vote",
    "in",
    "march",
    "officials",
    "report",
    "shows",
    "energy",
    "prices",
    "fell",
    "sharply",
    "after",
    "winter",
    "storm",
    "across",
    "northern",
    "regions",
    "while",
    "farmers",
    "warned",
    "of",
    "lower",
    "harvest",
    "this",
    "year",
    "researchers",
    "found",
    "evidence",
    "ancient",
    "settlement",
    "near",
    "coast",
    "where",
    "team",
    "has",
    "been",
    "digging",
    "since",
    "spring",
    "school",
    "board",
    "approved",
    "budget",
    "teachers",
    "union",
    "welcomed",
    "decision",
    "but",
    "parents",
    "want",
    "smaller",
    "classes",
    "market",
    "opened",
    "higher",
    "as",
    "investors",
    "weighed",
    "central",
    "bank",
    "signals",
    "about",
    "interest",
    "rates",
    "football",
    "club",
    "signed",
    "young",
    "striker",
    "from",
    "rival",
    "league",
    "fans",
    "celebrated",
    "outside",
    "stadium",
    "hospital",
    "staff",
    "described",
    "busy",
    "weekend",
    "with",
    "flu",
    "cases",
    "rising",
    "among",
    "older",
    "patients",
    "minister",
    "promised",
    "review",
    "of",
    "railway",
    "timetable",
    "delays",
    "commuters",
    "faced",
    "months",
    "engineers",
    "tested",
    "software",
    "update",
    "satellite",
    "launch",
    "window",
    "opens",
    "next",
    "week",
    "museum",
    "will",
    "show",
    "paintings",
    "collection",
    "donated",
    "by",
    "local",
    "family",
    "festival",
    "drew",
    "thousands",
    "visitors",
    "despite",
    "rain",
    "police",
    "closed",
    "road",
    "accident",
    "involving",
    "two",
    "trucks",
    "nobody",
    "was",
    "hurt",
    "company",
    "announced",
    "jobs",
    "factory",
    "expansion",
    "north",
    "quarter",
    "profits",
    "rose",
    "water",
    "supply",
    "restored",
    "homes",
    "repairs",
    "pipe",
    "burst",
    "library",
    "extends",
    "opening",
    "hours",
    "students",
    "exams",
    "court",
    "ruled",
    "case",
    "appeal",
    "could",
    "reach",
    "supreme",
    "judges",
    "scientists",
    "measured",
    "temperature",
    "ocean",
    "record",
    "levels",
    "summer",
    "heat",
    "wave",
    "government",
    "published",
    "figures",
    "showing",
    "unemployment",
    "dropped",
    "lowest",
    "level",
    "decade",
    "analysts",
    "say",
    "growth",
    "remains",
    "fragile",
    "airport",
    "expects",
    "passengers",
    "holiday",
    "season",
    "airline",
    "added",
    "routes",
    "europe",
    "asia",
    "mayor",
    "visited",
    "neighbourhood",
    "flooded",
    "streets",
    "promised",
    "help",
    "shop",
    "owners",
    "insurance",
    "claims",
];

/// Deterministic words for one (feed, item, part).
struct Prose(fastrand::Rng);

impl Prose {
    fn new(feed: usize, item: usize, part: u64) -> Prose {
        Prose(fastrand::Rng::with_seed(
            (feed as u64) << 32 ^ (item as u64) << 8 ^ part ^ 0x9e37_79b9_7f4a_7c15,
        ))
    }

    fn words(&mut self, out: &mut String, n: usize) {
        for i in 0..n {
            let w = WORDS[self.0.usize(..WORDS.len())];
            if i > 0 {
                out.push(' ');
            }
            if i == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_uppercase());
                    out.push_str(c.as_str());
                }
            } else {
                out.push_str(w);
            }
        }
    }

    fn sentence(&mut self, out: &mut String) {
        let n = self.0.usize(9..22);
        self.words(out, n);
        out.push('.');
    }

    /// About `bytes` of sentences.
    fn paragraph(&mut self, out: &mut String, bytes: usize) {
        let start = out.len();
        while out.len() - start < bytes {
            if out.len() > start {
                out.push(' ');
            }
            self.sentence(out);
        }
    }
}

fn title(feed: usize, item: usize) -> String {
    let mut t = String::new();
    Prose::new(feed, item, 1).words(&mut t, 7);
    t
}

/// The items of `feed` at generation `generation`, newest first.
fn items(generation: usize) -> impl Iterator<Item = usize> {
    (0..ITEMS_PER_FEED + generation).rev()
}

/// The RSS 2.0 document of `feed` at `generation`; `base` is the server's URL (pages
/// are linked there).
pub fn feed_xml(feed: usize, generation: usize, base: &str) -> String {
    let mut x = String::with_capacity(10_000);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Bench feed {feed}</title><link>{base}/site/{feed}/</link>\
         <description>Generated news for the poll benchmark</description><language>en</language>"
    );
    for item in items(generation) {
        let new = item >= ITEMS_PER_FEED;
        // Odd new items have no page; even ones (and the history items) link one.
        let page = !new || (item - ITEMS_PER_FEED) % 2 == 1;
        let _ = write!(x, "\n<item><title>{}</title>", title(feed, item));
        if page {
            let _ = write!(x, "<link>{base}/page/{feed}/{item}</link>");
        }
        let _ = write!(
            x,
            "<guid isPermaLink=\"false\">bench-{feed}-{item}</guid>\
             <pubDate>{}</pubDate><description>",
            pub_date(item)
        );
        let mut prose = Prose::new(feed, item, 2);
        for (i, size) in [300, 250].into_iter().enumerate() {
            let mut p = String::new();
            prose.paragraph(&mut p, size);
            if i > 0 {
                x.push(' ');
            }
            let _ = write!(x, "&lt;p&gt;{p}&lt;/p&gt;");
        }
        x.push_str("</description></item>");
    }
    x.push_str("\n</channel></rss>\n");
    x
}

/// Item `item` was published `item` hours after a fixed instant (newer items later).
fn pub_date(item: usize) -> String {
    let t =
        chrono::DateTime::from_timestamp(1_790_000_000 + item as i64 * 3600, 0).unwrap_or_default();
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An article page of about 20 KB: navigation, the story (~10 KB of text), a
/// related-links box and a footer, as a news site serves it.
pub fn page_html(feed: usize, item: usize) -> String {
    let mut h = String::with_capacity(22_000);
    let t = title(feed, item);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} | Bench \
         {feed}</title><meta property=\"og:title\" content=\"{t}\">\
         <link rel=\"stylesheet\" href=\"/s.css\"><script>window.cfg={{a:1,b:[1,2,3]}};</script>\
         </head><body><header><nav><ul>"
    );
    for s in ["Home", "World", "Business", "Sport", "Culture", "Science", "Opinion"] {
        let _ = write!(h, "<li><a href=\"/{}\">{s}</a></li>", s.to_lowercase());
    }
    let _ =
        write!(h, "</ul></nav></header><main><article><h1>{t}</h1><p class=\"byline\">By Staff");
    h.push_str(" Reporter</p>");
    let mut prose = Prose::new(feed, item, 3);
    for _ in 0..14 {
        h.push_str("<p>");
        prose.paragraph(&mut h, 700);
        h.push_str("</p>");
    }
    h.push_str("</article><aside><h2>Related</h2><ul>");
    for k in 0..25 {
        let mut l = String::new();
        Prose::new(feed, k, 4).words(&mut l, 6);
        let _ = write!(h, "<li><a href=\"/page/{feed}/{k}\">{l}</a></li>");
    }
    h.push_str("</ul></aside></main><footer><p>Copyright Bench News. All rights reserved.</p>");
    while h.len() < 20_000 {
        h.push_str("<div class=\"ad\"><a href=\"/ad\">Advertisement</a></div>");
    }
    h.push_str("</footer></body></html>");
    h
}

/// The generated feeds served on `hosts` loopback addresses (127.0.0.1 …), with a
/// generation that `GET /control?gen=K` on any of them sets.
pub struct FeedSite {
    servers: Vec<LocalServer>,
    generation: Arc<AtomicUsize>,
}

impl FeedSite {
    pub async fn start(hosts: u8) -> std::io::Result<FeedSite> {
        let generation = Arc::new(AtomicUsize::new(0));
        let mut servers = Vec::new();
        for h in 1..=hosts.max(1) {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, h));
            let gen_ = generation.clone();
            // The handler needs its own base URL; the port is known only after binding,
            // so it reads the Host header the client sent instead.
            let handler: Handler = Arc::new(move |req| serve(req, &gen_));
            servers.push(LocalServer::start(SocketAddr::new(ip, 0), handler).await?);
        }
        Ok(FeedSite { servers, generation })
    }

    /// The URL of feed `i` (feeds are spread over the hosts).
    pub fn feed_url(&self, i: usize) -> String {
        self.servers[i % self.servers.len()].url(&format!("/feed/{i}.xml"))
    }

    pub fn set_generation(&self, generation: usize) {
        self.generation.store(generation, Ordering::SeqCst);
    }
}

fn serve(req: &crate::localserver::Request, generation: &AtomicUsize) -> Response {
    let path = req.path();
    let number = |s: &str| s.parse::<usize>().ok();
    if path == "/control" {
        let asked = req.target.split_once("gen=").and_then(|(_, g)| number(g));
        return match asked {
            Some(g) => {
                generation.store(g, Ordering::SeqCst);
                Response::new(200, "text/plain", format!("generation {g}\n"))
            }
            None => Response::new(400, "text/plain", "use /control?gen=K\n"),
        };
    }
    let base = format!("http://{}", req.header("host").unwrap_or("127.0.0.1"));
    if let Some(feed) = path.strip_prefix("/feed/").and_then(|r| r.strip_suffix(".xml")) {
        let Some(feed) = number(feed) else { return Response::status(404) };
        let g = generation.load(Ordering::SeqCst);
        let etag = format!("\"g{g}\"");
        if req.header("if-none-match") == Some(etag.as_str()) {
            return Response::status(304).header("ETag", &etag);
        }
        return Response::new(200, "application/rss+xml", feed_xml(feed, g, &base))
            .header("ETag", &etag);
    }
    if let Some((feed, item)) = path.strip_prefix("/page/").and_then(|r| r.split_once('/'))
        && let (Some(feed), Some(item)) = (number(feed), number(item))
    {
        return Response::new(200, "text/html; charset=utf-8", page_html(feed, item));
    }
    Response::status(404)
}

/// `herald bench serve-feeds`: serves `feeds` generated feeds until stdin closes,
/// after writing their OPML to `opml`, for the side-by-side benchmark
/// (`bench/reader_compare/`).
pub async fn serve_feeds(feeds: usize, hosts: u8, opml: &std::path::Path) -> anyhow::Result<()> {
    let site = FeedSite::start(hosts).await?;
    let mut doc = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\"><head>\
         <title>bench</title></head><body>\n",
    );
    for i in 0..feeds {
        let _ =
            writeln!(doc, "<outline type=\"rss\" text=\"f{i}\" xmlUrl=\"{}\"/>", site.feed_url(i));
    }
    doc.push_str("</body></opml>\n");
    std::fs::write(opml, doc)?;
    println!("serving {feeds} feeds; control: {}", site.servers[0].url("/control?gen=K"));
    // Until the driver closes our stdin (or goes away).
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    drop(site);
    Ok(())
}
