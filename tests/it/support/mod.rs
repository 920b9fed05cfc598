//! Test support: a real HTTP feed server on 127.0.0.1 that can misbehave on demand, the
//! seed article as a web page, and a herald `App` on a temporary database with a manual
//! clock.

pub mod backends;
pub mod chat;
pub mod fake_discord;
pub mod postgres;
pub mod process;
pub mod synapse;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use herald::app::App;
use herald::clock::ManualClock;
use herald::config::Config;
use herald::localserver::{Handler, LocalServer, Request, Response};

pub type Route = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// A web site on loopback whose pages tests can change while herald polls it.
pub struct Site {
    server: LocalServer,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<Vec<Request>>>,
}

impl Site {
    pub async fn start() -> Site {
        Site::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Site {
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<Vec<Request>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        let handler: Handler = Arc::new(move |req: &Request| {
            h.lock().expect("hits lock").push(req.clone());
            let route = r.lock().expect("routes lock").get(req.path()).cloned();
            match route {
                Some(route) => route(req),
                None => Response::new(404, "text/plain", "not found"),
            }
        });
        let addr: SocketAddr = addr.parse().expect("test address");
        let server = LocalServer::start(addr, handler).await.expect("bind test server");
        Site { server, routes, hits }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn route(&self, path: &str, route: impl Fn(&Request) -> Response + Send + Sync + 'static) {
        self.routes.lock().expect("routes lock").insert(path.to_string(), Arc::new(route));
    }

    /// Serves `body` at `path` with an ETag, answering 304 to a matching If-None-Match.
    pub fn feed(&self, path: &str, content_type: &str, body: &str) {
        let etag = format!("\"{:x}\"", fxhash(body));
        let (body, ct) = (body.to_string(), content_type.to_string());
        self.route(path, move |req| {
            if req.header("if-none-match") == Some(etag.as_str()) {
                Response::status(304).header("ETag", &etag)
            } else {
                Response::new(200, &ct, body.clone()).header("ETag", &etag)
            }
        });
    }

    pub fn page(&self, path: &str, html: &str) {
        let html = html.to_string();
        self.route(path, move |_| Response::new(200, "text/html; charset=utf-8", html.clone()));
    }

    /// Every request so far.
    pub fn all_hits(&self) -> Vec<Request> {
        self.hits.lock().expect("hits lock").clone()
    }

    /// Requests for `path` so far.
    pub fn hits(&self, path: &str) -> Vec<Request> {
        self.hits.lock().expect("hits lock").iter().filter(|r| r.path() == path).cloned().collect()
    }
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// An RSS 2.0 document with `(guid, title, link, description)` items.
pub fn rss(title: &str, items: &[(&str, &str, &str, &str)]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>{title}</title><link>http://example.invalid/</link>"
    );
    for (guid, t, link, desc) in items {
        out.push_str(&format!(
            "<item><guid>{guid}</guid><title>{t}</title><link>{link}</link>\
             <pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate>\
             <description><![CDATA[{desc}]]></description></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

/// The seed article's text, as copied from its page (noise included).
pub fn seed_text() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/seed");
    let entry = std::fs::read_dir(dir)
        .expect("shared/data/seed is beside the project")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .expect("a seed article");
    std::fs::read_to_string(entry.path()).expect("readable seed")
}

/// The seed article as a realistic page: navigation, share bar, caption, related links
/// and a footer around the article body.
pub fn seed_page() -> String {
    let text = seed_text();
    let mut paragraphs: Vec<String> =
        text.split("\n\n").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    // The first two lines are the section and the headline.
    let section = paragraphs.remove(0);
    let headline = paragraphs.remove(0);
    let mut body = String::new();
    for p in &paragraphs {
        let tag = if p.len() < 40 && !p.ends_with('.') { "h2" } else { "p" };
        body.push_str(&format!("<{tag}>{}</{tag}>\n", html_escape(p)));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{h} | Analysis</title>\
         <meta property=\"og:image\" content=\"/images/dmz.jpg\">\
         <meta name=\"author\" content=\"Staff Writer\"></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> <a href=\"/about\">About</a></nav>\
         <main><article><div class=\"kicker\">{s}</div><h1>{h}</h1>\n{body}</article>\
         <aside class=\"related\"><h3>Related</h3><ul><li><a href=\"/x\">Other story one</a></li>\
         <li><a href=\"/y\">Other story two</a></li></ul></aside></main>\
         <footer>Copyright 2026. Subscribe to our newsletter.</footer></body></html>",
        h = html_escape(&headline),
        s = html_escape(&section),
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A herald on a fresh database in `dir`, fetching from loopback, on a manual clock.
pub async fn app(
    dir: &std::path::Path,
    clock: &ManualClock,
    tweak: impl FnOnce(&mut Config),
) -> App {
    app_on(dir, Arc::new(clock.clone()), tweak).await
}

/// [`app`] on any clock (the system's, for tests of real lateness).
pub async fn app_on(
    dir: &std::path::Path,
    clock: herald::clock::SharedClock,
    tweak: impl FnOnce(&mut Config),
) -> App {
    let data = dir.display().to_string();
    let mut config = Config::from_lookup(|name| match name {
        "HERALD_DATA_DIR" => Some(data.clone()),
        "HERALD_ALLOW_PRIVATE_NETWORKS" => Some("true".into()),
        "HERALD_REQUEST_TIMEOUT" => Some("3s".into()),
        "HERALD_CONNECT_TIMEOUT" => Some("2s".into()),
        _ => None,
    })
    .expect("test config");
    tweak(&mut config);
    App::open(config, clock).await.expect("open test app")
}

/// Adds `url` to the console's community without checking it; returns the feed id.
pub async fn add(app: &App, url: &str) -> i64 {
    let now = app.clock.now();
    let id = app.store.add_feed(url, 900, now).await.expect("add feed").0.id;
    let console = app.store.console_community(now).await.expect("community");
    app.store.link_feed(console, id, None, now).await.expect("link");
    id
}

/// Polls one feed now.
pub async fn poll_one(app: &App, id: i64) -> herald::ingest::FeedOutcome {
    let feed = app.store.feed_by_id(id).await.expect("read").expect("feed exists");
    app.poller.poll_feed(&feed).await.expect("store works")
}

/// A fixed starting instant: 2026-11-29T09:00:00Z.
pub const T0: i64 = 1_795_942_800;
