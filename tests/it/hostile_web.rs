//! The open web as a hostile feed owner serves it. Anyone who can add a feed (a Matrix
//! user is admin of a room they create) chooses what herald fetches; each case here is
//! served by a real server on loopback or fed through the code the poller runs, and
//! bounded in time, memory, or both. `herald bench hostile` reports the same inputs'
//! costs on a release build (README, "Limits").

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Site, T0, add, app, app_on, poll_one, rss, seed_page};
use herald::clock::{self, ManualClock};
use herald::ingest::FeedOutcome;
use herald::ingest::add::{AddRequest, IntervalLimits, add_feed};
use herald::localserver::{Body, Response};
use herald::store::{NewArticle, SearchScope};

const BIN: &str = env!("CARGO_BIN_EXE_herald");

/// Every hostile feed and page of `herald bench hostile`, each in a child process of its
/// own: its CPU time and its peak memory above the input it was given. The time bound is
/// loose because tests run unoptimised; the release figures are in the README.
#[test]
fn every_hostile_input_is_bounded_in_time_and_memory() {
    let out = Command::new(BIN)
        .args(["bench", "hostile", "--json", "--max-cpu", "20s", "--max-mb", "64"])
        .output()
        .expect("run herald bench hostile");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let cases: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("a JSON line per case")).collect();
    assert!(cases.len() >= 20, "{stdout}");
    for case in &cases {
        assert!(case["peak_mb"].as_f64().expect("peak") <= 64.0, "{case}");
        assert!(!case["outcome"].as_str().expect("outcome").contains("panic"), "{case}");
    }
}

async fn failure_kind(app: &herald::app::App, url: &str) -> (String, String) {
    let id = add(app, url).await;
    match poll_one(app, id).await {
        FeedOutcome::Failed { kind, error, .. } => (kind.to_string(), error),
        other => panic!("{url}: expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn hostile_servers_get_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |c| {
        c.fetch.request_timeout = Duration::from_secs(1);
        c.fetch.max_feed_bytes = 200_000;
    })
    .await;

    site.route("/slow", |_| Response {
        status: 200,
        headers: vec![("Content-Type".into(), "application/rss+xml".into())],
        body: Body::Slow { chunk: b"<rss>".to_vec(), every: Duration::from_millis(400), count: 20 },
    });
    let (kind, error) = failure_kind(&app, &site.url("/slow")).await;
    assert_eq!(kind, "timeout", "{error}");

    site.route("/endless", |_| Response {
        status: 200,
        headers: vec![("Content-Type".into(), "application/rss+xml".into())],
        body: Body::Endless { chunk: vec![b'x'; 16 * 1024] },
    });
    let (kind, error) = failure_kind(&app, &site.url("/endless")).await;
    assert_eq!(kind, "too-large", "{error}");

    // 50 MB of zeros gzip down to about 50 KB: the cap must count decoded bytes.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..50 {
        gz.write_all(&zeros).expect("compress");
    }
    let bomb = gz.finish().expect("compress");
    assert!(bomb.len() < 200_000);
    site.route("/bomb", move |_| {
        Response::new(200, "application/rss+xml", bomb.clone()).header("Content-Encoding", "gzip")
    });
    let (kind, error) = failure_kind(&app, &site.url("/bomb")).await;
    assert_eq!(kind, "too-large", "{error}");

    let loop_url = site.url("/loop");
    site.route("/loop", move |_| Response::status(302).header("Location", &loop_url));
    let (kind, error) = failure_kind(&app, &site.url("/loop")).await;
    assert_eq!(kind, "redirect", "{error}");
    assert_eq!(site.hits("/loop").len(), 6, "1 request + 5 redirects, then stop");

    site.route("/broken-xml", |_| {
        Response::new(
            200,
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><item><title>x</ti",
        )
    });
    let (kind, error) = failure_kind(&app, &site.url("/broken-xml")).await;
    assert_eq!(kind, "not-a-feed", "{error}");

    site.page("/html", "<!DOCTYPE html><html><body><p>Welcome to my site</p></body></html>");
    let (kind, error) = failure_kind(&app, &site.url("/html")).await;
    assert_eq!(kind, "not-a-feed");
    assert!(error.contains("HTML page"), "{error}");

    let (kind, _) = failure_kind(&app, &site.url("/missing")).await;
    assert_eq!(kind, "http-status");
}

#[tokio::test]
async fn private_addresses_are_refused_directly_after_dns_and_on_redirect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    // The first site sits on an allow-listed loopback address; everything else is private.
    let allowed = Site::start_on("127.0.0.2:0").await;
    let private = Site::start().await;
    let app = app(dir.path(), &clock, |c| {
        c.fetch.allow_private_networks = false;
        c.fetch.private_allowlist = vec!["127.0.0.2".parse().expect("literal")];
    })
    .await;
    private.feed("/secret", "application/rss+xml", &rss("Internal", &[]));
    allowed.feed("/ok", "application/rss+xml", &rss("Fine", &[]));

    let (kind, error) = failure_kind(&app, &private.url("/secret")).await;
    assert_eq!(kind, "blocked", "{error}");

    let by_name = private.url("/secret").replace("127.0.0.1", "localhost");
    let (kind, error) = failure_kind(&app, &by_name).await;
    assert_eq!(kind, "blocked", "{error}");

    let target = private.url("/secret");
    allowed.route("/jump", move |_| Response::status(301).header("Location", &target));
    let (kind, error) = failure_kind(&app, &allowed.url("/jump")).await;
    assert_eq!(kind, "blocked", "{error}");
    assert!(private.hits("/secret").is_empty(), "no request reached the private server");

    let id = add(&app, &allowed.url("/ok")).await;
    assert!(matches!(poll_one(&app, id).await, FeedOutcome::Updated { .. }));
}

/// 30 new items whose pages trickle one byte a second, and a healthy feed due three
/// seconds later: the healthy feed's poll starts on time, the hostile one stops at its
/// page budget, stores what it took with the feed's own text, and leaves the rest for its
/// next poll, which comes soon and without validators.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_feed_does_not_delay_a_healthy_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Site::start().await;
    let app = app_on(dir.path(), clock::system(), |c| {
        c.fetch.request_timeout = Duration::from_secs(60);
        c.poll.page_budget = Duration::from_secs(8);
        c.poll.max_new_per_poll = 25;
    })
    .await;
    let old = ("old", "Old", "http://e.invalid/old", "before");
    site.feed("/hostile.xml", "application/rss+xml", &rss("Hostile", &[old]));
    site.feed("/healthy.xml", "application/rss+xml", &rss("Healthy", &[old]));
    let hostile = add(&app, &site.url("/hostile.xml")).await;
    // Another host name, as a healthy feed would have: herald limits fetches per host.
    let healthy = add(&app, &site.url("/healthy.xml").replace("127.0.0.1", "localhost")).await;
    app.poller.poll_due(8).await.expect("first polls");

    let slow: Vec<(String, String, String)> = (0..30)
        .map(|i| (format!("h{i}"), format!("Hostile {i}"), site.url(&format!("/trickle/{i}"))))
        .collect();
    let mut items: Vec<(&str, &str, &str, &str)> =
        slow.iter().map(|(g, t, l)| (g.as_str(), t.as_str(), l.as_str(), "teaser")).collect();
    items.push(old);
    site.feed("/hostile.xml", "application/rss+xml", &rss("Hostile", &items));
    for i in 0..30 {
        site.route(&format!("/trickle/{i}"), |_| Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: Body::Slow { chunk: b"<".to_vec(), every: Duration::from_secs(1), count: 600 },
        });
    }
    let fresh_link = site.url("/fresh");
    site.page("/fresh", &seed_page());
    // The healthy feed's site notes when each request for it arrives: that is when its
    // poll started, whatever the CPU then spends on its page.
    let asked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let body = rss("Healthy", &[("new", "Fresh news", &fresh_link, "teaser"), old]);
    let asked_at = asked.clone();
    site.route("/healthy.xml", move |_| {
        asked_at.lock().expect("lock").push(chrono::Utc::now().timestamp());
        Response::new(200, "application/rss+xml", body.clone())
    });

    let now = app.clock.now();
    app.store.resume_feed(hostile, now).await.expect("due now");
    let healthy_due = now + 3;
    app.store.resume_feed(healthy, healthy_due).await.expect("due soon");
    let (stop, rx) = tokio::sync::watch::channel(false);
    let poller = app.poller.clone();
    let running = tokio::spawn(async move {
        poller.run(rx, 8, Default::default(), Default::default()).await;
    });

    let started = Instant::now();
    loop {
        let n = app.store.articles_of_feed(healthy, 10).await.expect("read").len();
        if n == 2 {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let h = app.store.feed_by_id(healthy).await.expect("read");
            let x = app.store.feed_by_id(hostile).await.expect("read");
            panic!("the healthy feed was never polled: {h:?} {x:?} now {}", app.clock.now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let polled_at = asked.lock().expect("lock").first().copied().expect("the feed was asked for");
    assert!(polled_at <= healthy_due + 5, "healthy feed late by {}s", polled_at - healthy_due);

    // The hostile poll ends at its page budget (8 s) with 25 items stored from the feed's
    // own text; 5 wait for a poll that comes within the minimum interval and is not
    // conditional (so it cannot be answered 304 and lose them).
    let ended = loop {
        let feed = app.store.feed_by_id(hostile).await.expect("read").expect("feed");
        if feed.last_polled_at.is_some_and(|t| t >= now) {
            break feed;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "the hostile poll never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(started.elapsed() < Duration::from_secs(25), "{:?}", started.elapsed());
    let stored = app.store.articles_of_feed(hostile, 100).await.expect("read");
    assert_eq!(stored.len(), 1 + 25);
    assert!(stored.iter().filter(|a| !a.backfill).all(|a| a.text_source == "feed"));
    let titles: Vec<&str> = stored.iter().filter_map(|a| a.title.as_deref()).collect();
    assert!(titles.contains(&"Hostile 29"), "oldest first: the last of the document came first");
    assert!(!titles.contains(&"Hostile 0"), "the newest wait for the next poll");
    assert_eq!((ended.etag, ended.last_modified), (None, None));
    assert!(ended.next_poll_at <= app.clock.now() + 61, "next poll soon");
    assert_eq!((ended.failures, ended.last_error), (0, None));

    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(30), running).await.expect("poller stops").ok();
}

/// A feed that mints a hundred new GUIDs on every poll adds at most the per-poll cap each
/// time; what it holds back is not lost, it comes with the next polls.
#[tokio::test]
async fn a_flood_of_new_items_is_taken_a_poll_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let app = app(dir.path(), &clock, |c| c.poll.max_new_per_poll = 25).await;
    site.feed("/f.xml", "application/rss+xml", &rss("F", &[("a", "A", "http://e.invalid/a", "x")]));
    let id = add(&app, &site.url("/f.xml")).await;
    poll_one(&app, id).await;
    let guids: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
    let items: Vec<(&str, &str, &str, &str)> =
        guids.iter().map(|g| (g.as_str(), g.as_str(), "http://e.invalid/page", "text")).collect();
    site.feed("/f.xml", "application/rss+xml", &rss("F", &items));
    for round in 1..=4 {
        clock.advance(3600);
        match poll_one(&app, id).await {
            FeedOutcome::Updated { new_articles, .. } => assert_eq!(new_articles.len(), 25),
            other => panic!("round {round}: {other:?}"),
        }
    }
    clock.advance(3600);
    assert!(matches!(poll_one(&app, id).await, FeedOutcome::NotModified));
    assert_eq!(app.store.articles_of_feed(id, 1000).await.expect("read").len(), 101);
}

/// Retention, with the clock moved by hand: articles past the age or beyond a feed's cap
/// leave the database and search; a post still owed keeps its article; the full-text
/// index stays consistent.
#[tokio::test]
async fn retention_removes_old_articles_but_never_an_owed_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let app = app(dir.path(), &clock, |c| {
        c.poll.retention = Some(Duration::from_secs(30 * 86_400));
        c.poll.max_articles_per_feed = Some(10);
    })
    .await;
    let store = &app.store;
    let feed = add(&app, "https://old.example/feed").await;
    let console = store.console_community(T0).await.expect("community");
    let channel = store.ensure_channel(console, "console", "main", None, T0).await.expect("ch");
    let article = |key: &str, word: &str, at: i64| NewArticle {
        feed_id: feed,
        item_key: key.into(),
        title: Some(format!("{word} report")),
        text: format!("The {word} story in full."),
        fetched_at: at,
        text_source: "feed",
        ..NewArticle::default()
    };
    store.insert_article(&article("old", "zeppelin", T0)).await.expect("insert");
    let owed = store
        .insert_article_with_deliveries(&article("owed", "walrus", T0), &[channel.id], T0)
        .await
        .expect("insert")
        .expect("new");
    for i in 0..15 {
        let a = article(&format!("new{i}"), &format!("kiwi{i}"), T0 + 40 * 86_400 + i);
        store.insert_article(&a).await.expect("insert");
    }
    assert_eq!(
        store
            .search_articles("zeppelin", SearchScope::All, None, 10, 0)
            .await
            .expect("search")
            .len(),
        1
    );

    clock.set(T0 + 41 * 86_400);
    let deleted = app.poller.apply_retention().await.expect("retention");
    assert_eq!(deleted, 1 + 5, "the old one and the 5 beyond the newest 10");
    assert!(
        store
            .search_articles("zeppelin", SearchScope::All, None, 10, 0)
            .await
            .expect("search")
            .is_empty()
    );
    assert!(
        store
            .search_articles("kiwi0", SearchScope::All, None, 10, 0)
            .await
            .expect("search")
            .is_empty()
    );
    assert_eq!(
        store.search_articles("kiwi14", SearchScope::All, None, 10, 0).await.expect("search").len(),
        1
    );
    assert!(store.article(owed.article_id).await.expect("read").is_some(), "still owed");
    assert_eq!(store.count_articles().await.expect("count"), 10 + 1);
    store.check_search_index().await.expect("FTS integrity");
}

/// A shared feed is fetched at the shortest interval any follower asked for; each
/// community keeps and sees its own; the interval grows back when that follower leaves.
/// On each store backend.
#[tokio::test]
async fn a_community_cannot_slow_a_shared_feed_for_the_others() {
    for b in crate::support::backends::each().await {
        a_community_cannot_slow_a_shared_feed_on(&b.url).await;
    }
}

async fn a_community_cannot_slow_a_shared_feed_on(database_url: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let app = app(dir.path(), &clock, |c| c.database_url = database_url.to_string()).await;
    let limits = IntervalLimits { default: Duration::from_secs(900), min: Duration::from_secs(60) };
    let a = app.store.console_community(T0).await.expect("a");
    let b = app.store.ensure_community("matrix", "!room", None, T0).await.expect("b");
    let url = "https://shared.example/feed.xml";
    let weekly = Some(Duration::from_secs(7 * 86_400));
    let req = |community, interval| AddRequest { community, input: url, interval, check: false };
    let first = add_feed(&app.store, &app.fetcher, req(a, weekly), limits, T0).await.expect("a");
    assert_eq!(first.feed.poll_interval_s, 7 * 86_400);
    let minute = Some(Duration::from_secs(60));
    let second = add_feed(&app.store, &app.fetcher, req(b, minute), limits, T0).await.expect("b");
    assert_eq!((second.feed.poll_interval_s, second.asked_interval_s), (60, 60));
    let again = add_feed(&app.store, &app.fetcher, req(a, None), limits, T0).await.expect("again");
    assert!(!again.created);
    assert_eq!((again.feed.poll_interval_s, again.asked_interval_s), (60, 7 * 86_400));
    app.store.unlink_feed(b, first.feed.id).await.expect("unlink");
    let feed = app.store.feed_by_id(first.feed.id).await.expect("read").expect("feed");
    assert_eq!(feed.poll_interval_s, 7 * 86_400);
}

/// The environment's proxy variables are not herald's: a proxy resolves names itself,
/// past the guard. With `HERALD_PROXY`, local names are refused before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_cannot_carry_requests_into_the_private_network() {
    let proxy = Site::start().await;
    let secret = Site::start().await;
    secret.feed("/feed", "application/rss+xml", &rss("Internal", &[]));
    let target = secret.url("/feed").replace("127.0.0.1", "localhost");
    let dir = tempfile::tempdir().expect("tempdir");

    let run = |env: Vec<(&'static str, String)>| {
        let (dir, target) = (dir.path().to_path_buf(), target.clone());
        std::thread::spawn(move || {
            let mut cmd = herald_cmd(&dir);
            cmd.envs(env).args(["feeds", "add", &target]);
            cmd.output().expect("run herald")
        })
        .join()
        .expect("thread")
    };
    let p = proxy.url("/");
    let env_proxies: Vec<(&'static str, String)> =
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"]
            .into_iter()
            .map(|k| (k, p.clone()))
            .collect();
    let out = run(env_proxies);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(!stderr.contains("127.0.0.1"), "the private address is not echoed: {stderr}");

    let out = run(vec![("HERALD_PROXY", p.clone())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("local name"), "{stderr}");
    assert!(proxy.all_hits().is_empty(), "nothing went through a proxy");
    assert!(secret.all_hits().is_empty(), "nothing reached the private server");

    // An operator who allows private networks gets the proxy they named.
    let out = run(vec![("HERALD_PROXY", p), ("HERALD_ALLOW_PRIVATE_NETWORKS", "true".into())]);
    assert!(!proxy.all_hits().is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn herald_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if k.starts_with("HERALD_") || k.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("DATABASE_URL").env_remove("RUST_LOG").env("HERALD_DATA_DIR", dir);
    cmd
}

/// Titles, snippets and errors come from strangers: what the operator CLI prints has no
/// escape sequence left in it (`ESC ] 52` writes the clipboard).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_cli_prints_no_terminal_escapes_from_feeds() {
    let site = Site::start().await;
    let evil = "Evil \u{1b}]52;c;cm0gLXJmIH4=\u{7}title \u{1b}[2J\u{9b}31m zebra";
    site.feed(
        "/evil.xml",
        "application/rss+xml",
        &rss(evil, &[("1", evil, "http://e.invalid/1", &format!("zebra {evil}"))]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let url = site.url("/evil.xml");
    let outputs = {
        let dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let run = |args: &[&str]| {
                let mut cmd = herald_cmd(&dir);
                cmd.env("HERALD_ALLOW_PRIVATE_NETWORKS", "true").args(args);
                cmd.output().expect("run herald")
            };
            vec![
                run(&["poll", "--once", &url]),
                run(&["feeds", "list"]),
                run(&["search", "zebra"]),
                run(&["article", "1"]),
            ]
        })
        .join()
        .expect("thread")
    };
    for out in outputs {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(!text.contains(['\u{1b}', '\u{7}', '\u{9b}']), "{text:?}");
    }
}

/// `herald parse-feed big.xml | head -c 1`: the reader leaves early; herald ends quietly.
#[test]
fn a_closed_pipe_ends_the_cli_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let items: Vec<(String, String)> =
        (0..1000).map(|i| (format!("g{i}"), format!("A long enough title number {i}"))).collect();
    let items: Vec<(&str, &str, &str, &str)> =
        items.iter().map(|(g, t)| (g.as_str(), t.as_str(), "http://e.invalid/x", "d")).collect();
    let file = dir.path().join("big.xml");
    std::fs::write(&file, rss("Big", &items)).expect("write");
    let mut child = herald_cmd(dir.path())
        .args(["parse-feed", &file.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A pasted essay is not a search: past 32 words the command says so (it used to fail
/// inside SQLite with "too many arguments"), and the store itself never errs.
#[tokio::test]
async fn a_search_of_a_thousand_words_gets_a_clear_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let words: String = (0..1500).map(|i| format!("word{i} ")).collect();
    let clock = ManualClock::new(T0);
    let app = app(dir.path(), &clock, |_| {}).await;
    app.store.search_articles(&words, SearchScope::All, None, 10, 0).await.expect("no SQL error");
    drop(app);
    let dir = dir.path().to_path_buf();
    let out = std::thread::spawn(move || {
        let mut child = herald_cmd(&dir)
            .arg("run")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn herald run");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "/search {words}").expect("type");
        writeln!(stdin, "/quit").expect("type");
        drop(stdin);
        child.wait_with_output().expect("wait")
    })
    .join()
    .expect("thread");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("at most 32 words"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fetcher keeps a semaphore per host only while that host is being fetched.
#[tokio::test]
async fn per_host_limits_are_forgotten_when_idle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    site.feed("/f.xml", "application/rss+xml", &rss("F", &[]));
    let app = app(dir.path(), &clock, |_| {}).await;
    for host in ["127.0.0.1", "localhost"] {
        let url = site.url("/f.xml").replace("127.0.0.1", host);
        let url = url::Url::parse(&url).expect("url");
        app.fetcher.fetch(&url, herald::ingest::FetchKind::Feed, None).await.expect("fetch");
    }
    assert_eq!(app.fetcher.tracked_hosts(), 0);
}
