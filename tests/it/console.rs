//! `herald run` end to end: the terminal as a channel. Each test starts the real binary on
//! its own data directory with a loopback feed site, types commands on its stdin and reads
//! replies, posts and digests from its stdout.
//!
//! After a feed's first poll its next poll is at least a minute away, and nothing typed in
//! the console makes a healthy feed due again (`feeds resume` only revives a disabled
//! feed). To see a new item promptly the tests run the operator CLI `herald feeds resume 1`
//! beside the console: it makes the feed due now, and the console's poller takes it within
//! its 5 s round.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::process::herald_bare as herald;
use crate::support::{Site, rss, seed_page, seed_text};
use herald::localserver::Response;
use tempfile::TempDir;

/// How long any one expected output may take.
const WAIT: Duration = Duration::from_secs(20);
/// The test feed's title (the typo tests misspell it).
const FEED_TITLE: &str = "Eurasia";

// ---------------------------------------------------------------------------------------
// The driver.

/// A `herald run` child whose stdout is read line by line on a thread.
struct Console {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Everything read from stdout so far.
    out: String,
    /// Where the next `wait_for` starts looking.
    pos: usize,
    stderr: Arc<Mutex<String>>,
    /// Numbers for the `article N` markers that end each `cmd`.
    next_mark: u32,
    finished: bool,
}

impl Console {
    fn start(dir: &Path, role: Option<&str>) -> Console {
        Console::start_with(dir, role, &[])
    }

    /// `herald run` with extra environment variables.
    fn start_with(dir: &Path, role: Option<&str>, env: &[(&str, &str)]) -> Console {
        let mut cmd = herald(dir);
        cmd.envs(env.iter().copied()).arg("run");
        if let Some(role) = role {
            cmd.args(["--as", role]);
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn herald run");
        let stdout = child.stdout.take().expect("stdout pipe");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = BufReader::new(child.stderr.take().expect("stderr pipe"));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut line = Vec::new();
            while matches!(err_pipe.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                sink.lock().expect("stderr lock").push_str(&String::from_utf8_lossy(&line));
                line.clear();
            }
        });
        let mut console = Console {
            child,
            stdin: None,
            lines,
            out: String::new(),
            pos: 0,
            stderr,
            next_mark: 900_001,
            finished: false,
        };
        console.stdin = console.child.stdin.take();
        console.wait_for("herald is running");
        console.skip_line();
        console
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        if let Err(e) = stdin.write_all(format!("{line}\n").as_bytes()).and_then(|_| stdin.flush())
        {
            self.fail(&format!("writing {line:?} to herald failed: {e}"));
        }
    }

    /// Reads stdout until `until` holds or the deadline passes; false on timeout or when
    /// herald closed its stdout first.
    fn read_until(&mut self, deadline: Instant, until: impl Fn(&Console) -> bool) -> bool {
        loop {
            if until(self) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.lines.recv_timeout(left) {
                Ok(line) => self.out.push_str(&line),
                Err(RecvTimeoutError::Timeout) => return until(self),
                Err(RecvTimeoutError::Disconnected) => return until(self),
            }
        }
    }

    /// Waits until `needle` appears after the read position; returns the text from the
    /// read position through the needle, and moves the position past it.
    fn wait_for(&mut self, needle: &str) -> String {
        let found = self.read_until(Instant::now() + WAIT, |c| c.out[c.pos..].contains(needle));
        if !found {
            self.fail(&format!("no {needle:?} within {WAIT:?}"));
        }
        let end = self.pos + self.out[self.pos..].find(needle).expect("found") + needle.len();
        let text = self.out[self.pos..end].to_string();
        self.pos = end;
        text
    }

    /// Waits until the whole output holds `needle` at least `n` times (posts arrive
    /// whenever they are delivered, between replies).
    fn wait_count(&mut self, needle: &str, n: usize) {
        if !self.read_until(Instant::now() + WAIT, |c| c.out.matches(needle).count() >= n) {
            self.fail(&format!("{needle:?} not seen {n} time(s) within {WAIT:?}"));
        }
    }

    /// Waits for a block printed asynchronously (a post, a digest): the first line holding
    /// `head` through the first line after it holding `last`.
    fn wait_block(&mut self, head: &str, last: &str) -> String {
        let found = self.read_until(Instant::now() + WAIT, |c| {
            c.out.find(head).is_some_and(|at| c.out[at..].contains(last))
        });
        if !found {
            self.fail(&format!("no block from {head:?} to {last:?} within {WAIT:?}"));
        }
        let at = self.out.find(head).expect("found");
        let start = self.out[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = at + self.out[at..].find(last).expect("found");
        let end = end + self.out[end..].find('\n').unwrap_or(self.out.len() - end);
        self.out[start..end].to_string()
    }

    /// Runs one command and returns everything printed until its reply is complete (an
    /// `article N` marker for a missing article follows every command; its reply is not
    /// included). Posts delivered meanwhile are included too.
    fn cmd(&mut self, line: &str) -> String {
        let mark = self.next_mark;
        self.next_mark += 1;
        self.send(line);
        self.send(&format!("article {mark}"));
        let text = self.wait_for(&format!("No article #{mark} in"));
        self.skip_line();
        let cut = text.rfind("✗ No article #").unwrap_or(text.len());
        text[..cut].trim_start_matches('\n').trim_end().to_string()
    }

    /// Moves the read position past the end of the current line (lines arrive whole).
    fn skip_line(&mut self) {
        self.pos += self.out[self.pos..].find('\n').map_or(0, |i| i + 1);
    }

    /// Lets herald run for `d` (posts that should not come have had their chance).
    fn idle(&mut self, d: Duration) {
        self.read_until(Instant::now() + d, |_| false);
    }

    /// Types `/quit`, waits for herald to exit and returns all of its stdout.
    fn quit(&mut self) -> String {
        self.send("/quit");
        self.close()
    }

    /// Closes stdin (end of input), waits for a clean exit, returns all of stdout.
    fn close(&mut self) -> String {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.finished = true;
                    // Whatever was printed before exiting is in the pipe.
                    self.read_until(Instant::now() + Duration::from_secs(5), |_| false);
                    if !status.success() {
                        self.fail(&format!("herald exited with {status}"));
                    }
                    break;
                }
                Ok(None) if Instant::now() < deadline => {
                    self.read_until(Instant::now() + Duration::from_millis(100), |_| false);
                }
                Ok(None) => self.fail("herald did not exit after the end of its input"),
                Err(e) => self.fail(&format!("waiting for herald: {e}")),
            }
        }
        let stderr = self.stderr.lock().expect("stderr lock").clone();
        if std::env::var_os("CONSOLE_TEST_TRANSCRIPT").is_some() {
            eprintln!("--- transcript ---\n{}--- stderr ---\n{stderr}", self.out);
        }
        assert!(!stderr.contains("panicked"), "herald panicked:\n{stderr}");
        self.out.clone()
    }

    fn fail(&self, what: &str) -> ! {
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!(
            "{what}\n--- stdout so far ---\n{}\n--- unread part starts at byte {} ---\n--- stderr ---\n{stderr}",
            self.out, self.pos
        );
    }

    /// Waits until `feeds list` shows feed #`id` polled (operator consoles only).
    fn wait_polled(&mut self, id: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let list = self.cmd("feeds list");
            let polled = list
                .split("• #")
                .any(|item| item.starts_with(&format!("{id} ")) && item.contains("next poll in"));
            if polled {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("feed #{id} was not polled within {WAIT:?}"));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the operator CLI (`herald feeds resume 1`, ...) on the same data directory.
fn cli(dir: &Path, args: &[&str]) -> String {
    let out = herald(dir).args(args).stdin(Stdio::null()).output().expect("run herald CLI");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "herald {args:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Makes feed #`id` due now from outside the console, the only prompt way to poll again.
fn poll_now(dir: &Path, id: i64) {
    let out = cli(dir, &["feeds", "resume", &id.to_string()]);
    assert!(out.contains("polled now"), "{out}");
}

// ---------------------------------------------------------------------------------------
// The world: a data directory and a feed site kept alive by a runtime the test owns.

struct World {
    dir: TempDir,
    site: Site,
    rt: tokio::runtime::Runtime,
}

type Entry = (String, String, String, String);

impl World {
    fn new() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let site = rt.block_on(Site::start());
        World { dir: tempfile::tempdir().expect("temp dir"), site, rt }
    }

    /// A world whose herald runs on a fresh PostgreSQL database: its URL is in the data
    /// directory's `.env`, which every herald started there reads. None when skipped.
    fn on_postgres() -> Option<World> {
        let cluster = crate::support::postgres::shared()?;
        let w = World::new();
        let url = w.rt.block_on(cluster.fresh_database());
        std::fs::write(w.dir().join(".env"), format!("DATABASE_URL={url}\n")).expect(".env");
        let status = cli(w.dir(), &["status"]);
        assert!(status.contains("postgres://"), "herald is not on PostgreSQL:\n{status}");
        Some(w)
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn url(&self, path: &str) -> String {
        self.site.url(path)
    }

    fn feed_url(&self) -> String {
        self.url("/feed.xml")
    }

    /// Serves the RSS feed at /feed.xml with these entries.
    fn serve(&self, entries: &[Entry]) {
        let items: Vec<(&str, &str, &str, &str)> = entries
            .iter()
            .map(|(g, t, l, d)| (g.as_str(), t.as_str(), l.as_str(), d.as_str()))
            .collect();
        self.site.feed("/feed.xml", "application/rss+xml", &rss(FEED_TITLE, &items));
    }

    /// `n` history items, each mentioning Korea.
    fn history(&self, n: usize) -> Vec<Entry> {
        (1..=n)
            .map(|i| {
                (
                    format!("old-{i}"),
                    format!("Briefing number {i}"),
                    self.url(&format!("/old/{i}")),
                    format!("Diplomats discussed Korea and the armistice, part {i}."),
                )
            })
            .collect()
    }

    /// The seed article as a feed entry whose link serves the seed page.
    fn seed_entry(&self) -> Entry {
        self.site.page("/articles/korea", &seed_page());
        (
            "seed".into(),
            seed_title(),
            self.url("/articles/korea"),
            "A look at the peninsula.".into(),
        )
    }

    /// Starts a console, adds the feed (with `history` items) and waits for its first
    /// poll, which stores them as history.
    fn console_with_feed(&self, history: usize) -> Console {
        self.console_with_feed_env(history, &[])
    }

    fn console_with_feed_env(&self, history: usize, env: &[(&str, &str)]) -> Console {
        self.serve(&self.history(history));
        let mut c = Console::start_with(self.dir(), None, env);
        let added = c.cmd(&format!("/feeds add {}", self.feed_url()));
        assert!(added.contains(&format!("✓ Added feed #1 {}", self.feed_url())), "{added}");
        c.wait_polled(1);
        c
    }
}

fn seed_title() -> String {
    let text = seed_text();
    let mut paragraphs = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty());
    paragraphs.nth(1).expect("a headline").to_string()
}

/// The beginnings of the seed article's longer sentences: a summary holds at least one.
fn seed_sentence_starts() -> Vec<String> {
    seed_text()
        .split("\n\n")
        .flat_map(|p| p.split(". ").map(str::trim).map(str::to_string).collect::<Vec<_>>())
        .filter(|s| s.chars().count() >= 60)
        .map(|s| s.chars().take(45).collect())
        .collect()
}

/// The line a post of `title` starts with.
fn post_head(title: &str, url: &str) -> String {
    format!("{title} <{url}>")
}

/// Lines of `out` that start with `prefix`.
fn lines_starting(out: &str, prefix: &str) -> usize {
    out.lines().filter(|l| l.starts_with(prefix)).count()
}

fn write_opml(path: &Path, urls: &[String]) -> PathBuf {
    let outlines: String =
        urls.iter().map(|u| format!("<outline type=\"rss\" text=\"f\" xmlUrl=\"{u}\"/>")).collect();
    let opml = format!(
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><head><title>t</title></head>\
         <body>{outlines}</body></opml>"
    );
    std::fs::write(path, opml).expect("write OPML");
    path.to_path_buf()
}

// ---------------------------------------------------------------------------------------
// Feeds.

#[test]
fn feeds_add_list_pause_resume_export_remove() {
    let w = World::new();
    let mut c = w.console_with_feed(3);
    let feed = w.feed_url();

    let list = c.cmd("feeds list");
    assert!(list.starts_with("1 feed(s)"), "{list}");
    assert!(list.contains(&format!("• #1 {FEED_TITLE}\n")), "{list}");
    assert!(list.contains("  every 15m\n"), "{list}");
    assert!(list.contains("  ok; next poll in "), "{list}");
    assert!(list.contains(&format!("  {feed}")), "{list}");

    let again = c.cmd(&format!("feeds add {feed}"));
    assert!(
        again.starts_with(&format!(
            "This community already follows feed #1 {FEED_TITLE}, polled every 15m."
        )),
        "{again}"
    );
    let faster = c.cmd(&format!("feeds add {feed} 5m"));
    assert!(faster.contains("its interval here is now 5m"), "{faster}");
    let list = c.cmd("feeds list");
    assert!(list.contains("  every 5m\n"), "{list}");

    let paused = c.cmd("feeds pause 1");
    assert!(paused.starts_with(&format!("✓ Paused {FEED_TITLE} for this community")), "{paused}");
    assert!(paused.contains("`feeds resume 1`"), "{paused}");
    let list = c.cmd("/feeds list");
    assert!(list.contains("  paused here"), "{list}");
    assert!(!list.contains("next poll in"), "{list}");

    let resumed = c.cmd("feeds resume 1");
    assert_eq!(resumed, format!("✓ Resumed {FEED_TITLE}."));
    let list = c.cmd("feeds list");
    assert!(list.contains("  ok; next poll in "), "{list}");

    let export = c.cmd("feeds export");
    assert!(export.starts_with("1 feed(s) as OPML\n"), "{export}");
    assert!(export.contains("<opml"), "{export}");
    assert!(export.contains(&format!("xmlUrl=\"{feed}\"")), "{export}");
    assert!(export.contains("</opml>"), "{export}");

    let removed = c.cmd("feeds remove 1");
    assert!(removed.starts_with(&format!("✓ Removed feed #1 {FEED_TITLE}")), "{removed}");
    assert_eq!(c.cmd("feeds list"), "No feeds yet. An admin adds one with `feeds add URL`.");
    let export = c.cmd("feeds export");
    assert!(export.starts_with("0 feed(s) as OPML"), "{export}");
    assert!(!export.contains(&feed), "{export}");
    c.quit();
}

#[test]
fn feeds_add_refuses_bad_urls_with_the_right_form() {
    let w = World::new();
    w.site.page("/page", "<html><body><p>No feed is advertised here.</p></body></html>");
    let mut c = Console::start(w.dir(), None);

    let ftp = c.cmd("feeds add ftp://x");
    assert!(ftp.starts_with("✗ "), "{ftp}");
    assert!(ftp.contains("http:// or https://"), "{ftp}");
    assert!(ftp.contains("feeds add URL [INTERVAL]"), "{ftp}");

    let missing = c.cmd(&format!("feeds add {}", w.url("/nothing.xml")));
    assert!(missing.starts_with("✗ Cannot add that feed: "), "{missing}");
    assert!(missing.contains("404"), "{missing}");
    assert!(missing.ends_with("Form: feeds add URL [INTERVAL]"), "{missing}");

    let page = c.cmd(&format!("feeds add {}", w.url("/page")));
    assert!(page.contains("links to no working feed"), "{page}");

    let short = c.cmd(&format!("feeds add {} 10s", w.feed_url()));
    assert!(short.contains("at least 1m"), "{short}");

    assert_eq!(c.cmd("feeds list"), "No feeds yet. An admin adds one with `feeds add URL`.");
    c.quit();
}

#[test]
fn feeds_add_discovers_the_feed_a_home_page_advertises() {
    let w = World::new();
    w.serve(&w.history(2));
    w.site.page(
        "/",
        "<!DOCTYPE html><html><head><title>Eurasia home</title>\
         <link rel=\"stylesheet\" href=\"/style.css\">\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"RSS\" href=\"/feed.xml\">\
         </head><body><h1>Welcome</h1></body></html>",
    );
    let mut c = Console::start(w.dir(), None);
    let home = w.url("/");
    let added = c.cmd(&format!("feeds add {home}"));
    assert!(
        added.starts_with(&format!("✓ Added feed #1 {} (found on {home}), 2 items", w.feed_url())),
        "{added}"
    );
    c.wait_polled(1);
    let list = c.cmd("feeds list");
    assert!(list.contains(&format!("  {}", w.feed_url())), "{list}");
    c.quit();
}

#[test]
fn feeds_import_from_a_file_and_pasted_inline() {
    let w = World::new();
    for path in ["/a.xml", "/b.xml", "/c.xml"] {
        w.site.feed(path, "application/rss+xml", &rss(path, &[]));
    }
    let mut c = Console::start(w.dir(), None);

    let file = write_opml(&w.dir().join("feeds.opml"), &[w.url("/a.xml"), w.url("/b.xml")]);
    let imported = c.cmd(&format!("feeds import {}", file.display()));
    assert_eq!(
        imported, "✓ Imported 2 feed(s): 2 added, 0 already followed, 0 refused.",
        "{imported}"
    );

    let inline = format!(
        "feeds import <opml version=\"2.0\"><body><outline text=\"C\" xmlUrl=\"{}\"/>\
         <outline text=\"A\" xmlUrl=\"{}\"/><outline text=\"bad\" xmlUrl=\"ftp://nope\"/>\
         </body></opml>",
        w.url("/c.xml"),
        w.url("/a.xml")
    );
    let pasted = c.cmd(&inline);
    assert!(
        pasted.starts_with("✓ Imported 3 feed(s): 1 added, 1 already followed, 1 refused."),
        "{pasted}"
    );
    assert!(pasted.contains("── refused ──"), "{pasted}");
    assert!(pasted.contains("• ftp://nope: "), "{pasted}");

    let list = c.cmd("feeds list");
    assert!(list.starts_with("3 feed(s)"), "{list}");
    for path in ["/a.xml", "/b.xml", "/c.xml"] {
        assert!(list.contains(&format!("  {}", w.url(path))), "{path}: {list}");
    }

    let missing = c.cmd(&format!("feeds import {}", w.dir().join("nope.opml").display()));
    assert!(missing.starts_with("✗ Cannot read "), "{missing}");
    let junk = c.cmd("feeds import <html><body>hello</body></html>");
    assert!(junk.starts_with("✗ That is not an OPML file"), "{junk}");

    let export = c.cmd("feeds export");
    assert!(export.starts_with("3 feed(s) as OPML"), "{export}");
    c.quit();
}

/// Waits until `feeds list` shows `status` for the (only) feed.
fn wait_status(c: &mut Console, status: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let list = c.cmd("feeds list");
        if list.contains(status) {
            return list;
        }
        if Instant::now() > deadline {
            c.fail(&format!("feeds list never showed {status:?}"));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn feeds_resume_revives_a_disabled_feed_and_polls_it_at_once() {
    let w = World::new();
    let mut c = w.console_with_feed_env(1, &[("HERALD_MAX_FAILURES", "1")]);
    let sub = c.cmd("subscribe 1");
    assert!(sub.contains("Subscribed"), "{sub}");

    w.site.route("/feed.xml", |_| Response::new(500, "text/plain", "down for maintenance"));
    poll_now(w.dir(), 1);
    let list = wait_status(&mut c, "  disabled: ");
    assert!(list.contains("500"), "the status names the error: {list}");

    let mut entries = w.history(1);
    entries.push(w.seed_entry());
    w.serve(&entries);
    let resumed = c.cmd("feeds resume 1");
    assert_eq!(resumed, format!("✓ Resumed {FEED_TITLE}."));
    // Revived and due now: polled within a poller wake-up, and the new item is posted.
    let head = post_head(&seed_title(), &w.url("/articles/korea"));
    let post = c.wait_block(&head, &format!("{FEED_TITLE} · #"));
    assert!(post.starts_with(&head), "{post}");
    wait_status(&mut c, "  ok; next poll in ");
    c.quit();
}

#[test]
fn feeds_resume_in_the_console_undoes_an_operator_pause() {
    let w = World::new();
    let mut c = w.console_with_feed(1);
    let paused = cli(w.dir(), &["feeds", "pause", "1"]);
    assert!(paused.starts_with("paused feed #1"), "{paused}");
    let list = c.cmd("feeds list");
    assert!(list.contains("  paused by the operator"), "{list}");

    // The console is the operator: "Resumed" must mean the feed is fetched again.
    let resumed = c.cmd("feeds resume 1");
    assert_eq!(resumed, format!("✓ Resumed {FEED_TITLE}."));
    let list = c.cmd("feeds list");
    assert!(
        !list.contains("paused by the operator"),
        "`feeds resume 1` said Resumed, but the feed is still paused:\n{list}"
    );
    c.quit();
}

// ---------------------------------------------------------------------------------------
// Subscriptions and posts.

#[test]
fn subscribe_options_templates_and_previews() {
    let w = World::new();
    let mut c = w.console_with_feed(2);
    let bad = c.cmd("subscribe 1 --template \"{title} {nope}\"");
    assert!(bad.starts_with("✗ unknown placeholder {nope} in the template"), "{bad}");
    let preview = c.cmd("subscribe 1 --template \"NEWS: {title} ({feed})\" --preview");
    assert!(preview.contains("NEWS: "), "{preview}");
    assert!(preview.contains(&format!("({FEED_TITLE})")), "{preview}");
    assert!(preview.contains("preview: nothing was saved"), "{preview}");
    let none = c.cmd("subscriptions");
    assert!(none.contains("None yet."), "a preview saves nothing: {none}");

    let ok = c.cmd("subscribe 1 --style compact --template \"NEWS: {title}\" --notify");
    assert!(ok.starts_with("✓ Subscribed"), "{ok}");
    let subs = c.cmd("subscriptions");
    assert!(
        subs.contains("  instant; style compact; template \"NEWS: {title}\"; notifying\n"),
        "{subs}"
    );
    // Subscribing again keeps the options not given.
    c.cmd("subscribe 1 --thread");
    let subs = c.cmd("subscriptions");
    assert!(subs.contains("notifying; a thread per article"), "{subs}");
    let ping = c.cmd("subscribe 1 --mention @news");
    assert!(
        ping.starts_with("✗ --mention @news: posts here cannot ping a group. Nothing was changed."),
        "{ping}"
    );
    let link = c.cmd("subscribe 1 --style link");
    assert!(link.contains("takes no template"), "{link}");
    c.quit();
}

#[test]
fn subscribe_modes_filters_and_unsubscribe() {
    let w = World::new();
    let mut c = w.console_with_feed(2);

    let none = c.cmd("subscriptions");
    assert!(none.starts_with("0 subscription(s) in this channel"), "{none}");
    assert!(none.contains("None yet."), "{none}");

    let sub = c.cmd("/subscribe 1");
    assert!(
        sub.starts_with(&format!("✓ Subscribed this channel to {FEED_TITLE} (instant).")),
        "{sub}"
    );
    let subs = c.cmd("subscriptions");
    assert!(subs.starts_with("1 subscription(s) in this channel"), "{subs}");
    assert!(subs.contains(&format!("• #1 {FEED_TITLE}\n  instant\n  {}", w.feed_url())), "{subs}");

    let digest = c.cmd("subscribe 1 digest");
    assert!(
        digest.starts_with(&format!(
            "✓ Updated the subscription of this channel to {FEED_TITLE} (digest)."
        )),
        "{digest}"
    );
    assert!(digest.contains("no digest schedule yet"), "{digest}");
    let subs = c.cmd("subscriptions");
    assert!(subs.contains(&format!("• #1 {FEED_TITLE}\n  digest\n")), "{subs}");

    let filtered = c.cmd("subscribe 1 --include korea");
    assert!(filtered.contains("(instant)"), "{filtered}");
    assert!(filtered.contains("Only articles mentioning: korea."), "{filtered}");
    let subs = c.cmd("subscriptions");
    assert!(subs.contains("  instant; include korea\n"), "{subs}");

    let gone = c.cmd("unsubscribe 1");
    assert_eq!(gone, format!("✓ This channel no longer receives {FEED_TITLE}."));
    let twice = c.cmd("unsubscribe 1");
    assert!(twice.starts_with(&format!("✗ This channel is not subscribed to {FEED_TITLE}")));
    let subs = c.cmd("subscriptions");
    assert!(subs.starts_with("0 subscription(s) in this channel"), "{subs}");

    let unknown = c.cmd("subscribe 7");
    assert!(unknown.starts_with("✗ No feed \"#7\" in this community."), "{unknown}");
    c.quit();
}

#[test]
fn a_new_item_is_posted_once_with_its_summary_and_link() {
    new_item_posted_once(World::new());
}

/// The same with herald on PostgreSQL.
#[test]
fn a_new_item_is_posted_once_with_its_summary_and_link_on_postgres() {
    if let Some(w) = World::on_postgres() {
        new_item_posted_once(w);
    }
}

fn new_item_posted_once(w: World) {
    let mut c = w.console_with_feed(2);
    let sub = c.cmd("subscribe 1");
    assert!(sub.contains("Subscribed"), "{sub}");

    // History is not news: nothing posted so far.
    c.idle(Duration::from_secs(2));
    assert!(!c.out.contains(&format!("{FEED_TITLE} · #")), "history was posted:\n{}", c.out);

    let mut entries = w.history(2);
    entries.insert(0, w.seed_entry());
    w.serve(&entries);
    poll_now(w.dir(), 1);

    let title = seed_title();
    let head = post_head(&title, &w.url("/articles/korea"));
    let post = c.wait_block(&head, &format!("{FEED_TITLE} · #"));
    assert!(post.starts_with(&head), "{post}");
    assert!(
        seed_sentence_starts().iter().any(|s| post.contains(s.as_str())),
        "no sentence of the seed article in the post:\n{post}"
    );
    assert!(post.contains("published: 2026-11-30 08:00 UTC"), "{post}");
    assert!(!post.contains("Share:") && !post.contains("newsletter"), "noise in post:\n{post}");

    // Polled again (unchanged: 304; then changed: the same items again): no second post.
    poll_now(w.dir(), 1);
    c.idle(Duration::from_secs(7));
    entries[1].3 = "An edited description.".into();
    w.serve(&entries);
    poll_now(w.dir(), 1);
    c.idle(Duration::from_secs(7));
    let out = c.quit();
    assert_eq!(out.matches(&head).count(), 1, "{out}");
    assert_eq!(out.matches(&format!("{FEED_TITLE} · #")).count(), 1, "{out}");
    assert!(w.site.hits("/feed.xml").len() >= 4, "the feed was not polled again");
}

#[test]
fn include_filter_keeps_other_articles_out() {
    let w = World::new();
    let mut c = w.console_with_feed(1);
    let sub = c.cmd("subscribe 1 --include korea");
    assert!(sub.contains("Only articles mentioning: korea."), "{sub}");

    w.site.page(
        "/articles/budget",
        "<html><head><title>Budget passes</title></head><body><article><h1>Budget passes</h1>\
         <p>The city council passed its budget on Tuesday after a long debate about roads.</p>\
         <p>Spending on schools rises by four percent, and the parks get new benches.</p>\
         </article></body></html>",
    );
    let budget: Entry = (
        "budget".into(),
        "Budget passes".into(),
        w.url("/articles/budget"),
        "Roads and schools.".into(),
    );
    let mut entries = w.history(1);
    entries.push(budget);
    entries.push(w.seed_entry());
    w.serve(&entries);
    poll_now(w.dir(), 1);

    c.wait_count(&post_head(&seed_title(), &w.url("/articles/korea")), 1);
    // Both were stored; only the Korea article was posted.
    let latest = c.cmd("latest 3");
    assert!(latest.contains("• Budget passes"), "{latest}");
    c.idle(Duration::from_secs(3));
    let out = c.quit();
    assert_eq!(lines_starting(&out, "Budget passes <"), 0, "{out}");
}

/// A title: filter, a regular expression and a category: filter pick their articles (the
/// category read from the feed item and stored); a word only in a body
/// does not pass a title: filter; bad and hostile expressions are refused with the
/// reason, and nothing is subscribed.
#[test]
fn title_and_regex_filters_pick_their_articles() {
    let w = World::new();
    let mut c = w.console_with_feed(1);
    let bad = c.cmd("subscribe 1 --include \"/(korea/\"");
    assert!(
        bad.starts_with("✗ bad regular expression \"/(korea/\": unclosed group; usage:"),
        "{bad}"
    );
    let huge = c.cmd("subscribe 1 --include \"re:(a{1000}){1000}\"");
    assert!(huge.contains("too large once compiled"), "{huge}");
    let nested =
        c.cmd("subscribe 1 --exclude \"/((((((((((((((((((((((((((x))))))))))))))))))))))))))/\"");
    assert!(nested.starts_with("✗ bad regular expression"), "{nested}");
    assert!(c.cmd("subscriptions").contains("None yet"), "nothing subscribed by refused commands");

    let sub =
        c.cmd("subscribe 1 --include title:budget \"/harbou?r (re)?opens/\" category:politics");
    assert!(
        sub.contains(
            "Only articles mentioning: title:budget, /harbou?r (re)?opens/, category:politics."
        ),
        "{sub}"
    );
    let mut entries = w.history(1);
    for (key, title, body) in [
        ("budget", "Budget passes", "The council passed its budget after a long debate."),
        (
            "harbour",
            "Harbor reopens",
            "The harbor opens again after the storm, ahead of the budget.",
        ),
        (
            "ferry",
            "Ferry strike ends",
            "Crews accepted the budget offer and the ferries sail again.",
        ),
        ("vote", "Council elects a mayor", "The vote was close, and the count took all night."),
    ] {
        let path = format!("/articles/{key}");
        w.site.page(
            &path,
            &format!(
                "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>\
                 <p>{body} Officials said more details would follow later this week.</p>\
                 <p>Residents welcomed the news at a meeting on Tuesday evening.</p>\
                 </article></body></html>"
            ),
        );
        entries.push((key.into(), title.into(), w.url(&path), body.into()));
    }
    // The election item carries a category, as RSS writes it.
    let items: Vec<(&str, &str, &str, &str)> = entries
        .iter()
        .map(|(g, t, l, d)| (g.as_str(), t.as_str(), l.as_str(), d.as_str()))
        .collect();
    let xml = rss(FEED_TITLE, &items)
        .replace("<guid>vote</guid>", "<guid>vote</guid><category>Politics</category>");
    w.site.feed("/feed.xml", "application/rss+xml", &xml);
    poll_now(w.dir(), 1);

    c.wait_count(&post_head("Budget passes", &w.url("/articles/budget")), 1);
    c.wait_count(&post_head("Council elects a mayor", &w.url("/articles/vote")), 1);
    c.wait_count(&post_head("Harbor reopens", &w.url("/articles/harbour")), 1);
    let latest = c.cmd("latest 5");
    assert!(latest.contains("• Ferry strike ends"), "stored all the same: {latest}");
    c.idle(Duration::from_secs(3));
    let out = c.quit();
    assert_eq!(lines_starting(&out, "Ferry strike ends <"), 0, "budget only in its body: {out}");
}

// ---------------------------------------------------------------------------------------
// Digests.

#[test]
fn digest_schedule_errors_preview_and_now() {
    digest_schedule_preview_and_now(World::new());
}

/// The same with herald on PostgreSQL.
#[test]
fn digest_schedule_errors_preview_and_now_on_postgres() {
    if let Some(w) = World::on_postgres() {
        digest_schedule_preview_and_now(w);
    }
}

fn digest_schedule_preview_and_now(w: World) {
    let mut c = w.console_with_feed(2);

    let set = c.cmd("digest schedule daily 08:00 Europe/Paris");
    assert!(
        set.starts_with("✓ Digest schedule for this channel: daily 08:00 Europe/Paris."),
        "{set}"
    );
    assert!(set.contains("Next digest: "), "{set}");
    assert!(set.contains("08:00 CET") || set.contains("08:00 CEST"), "{set}");

    let hour = c.cmd("digest schedule daily 25:00");
    assert!(hour.starts_with("✗ "), "{hour}");
    assert!(hour.contains("hour must be 00-23") && hour.contains("daily HH:MM"), "{hour}");
    let tz = c.cmd("digest schedule daily 08:00 Europe/Pari");
    assert_eq!(tz, "✗ unknown timezone \"Europe/Pari\": did you mean Europe/Paris?");

    let subs = c.cmd("subscriptions");
    assert!(subs.contains("digest: daily 08:00 Europe/Paris; next "), "{subs}");

    let sub = c.cmd("subscribe 1 digest");
    assert!(sub.contains("(digest)") && !sub.contains("no digest schedule yet"), "{sub}");
    let empty = c.cmd("digest preview");
    assert!(empty.contains("The next digest is empty so far"), "{empty}");

    let mut entries = w.history(2);
    entries.insert(0, w.seed_entry());
    w.serve(&entries);
    poll_now(w.dir(), 1);
    let title = seed_title();
    // Digest-mode articles are not posted one by one; wait until it is stored.
    let deadline = Instant::now() + WAIT;
    while !c.cmd("latest 1").contains(&title) {
        if Instant::now() > deadline {
            c.fail("the new article was not stored");
        }
        std::thread::sleep(Duration::from_millis(300));
    }

    let preview = c.cmd("digest preview");
    assert!(preview.starts_with("Preview: Digest · "), "{preview}");
    assert!(preview.contains("(Europe/Paris)"), "{preview}");
    assert!(preview.contains(&format!("• {title}")), "{preview}");
    assert!(preview.contains("1 article from 1 feed"), "{preview}");
    assert_eq!(lines_starting(&c.out, "Digest · "), 0, "a preview is not a post:\n{}", c.out);

    let now = c.cmd("digest now");
    assert!(now.contains("Digest on its way"), "{now}");
    let digest = c.wait_block("\nDigest · ", "1 article from 1 feed");
    assert!(digest.contains(&format!("• {title}")), "{digest}");
    assert!(digest.contains(&format!("  {}", w.url("/articles/korea"))), "{digest}");
    assert!(digest.contains("1 article from 1 feed"), "{digest}");

    // Nothing new since: no second digest.
    std::thread::sleep(Duration::from_millis(1100));
    let again = c.cmd("digest now");
    assert!(again.starts_with("✓ Digest on its way") || again.contains("nothing new"), "{again}");
    c.idle(Duration::from_secs(3));
    let out = c.quit();
    assert_eq!(lines_starting(&out, "Digest · "), 1, "{out}");
    // Digest mode: no instant post of the article.
    assert_eq!(lines_starting(&out, &format!("{title} <")), 0, "{out}");
}

// ---------------------------------------------------------------------------------------
// Reading: search, article, latest, help.

#[test]
fn search_paging_article_latest_and_help() {
    let w = World::new();
    let mut c = w.console_with_feed(6);
    let mut entries = w.history(6);
    entries.insert(0, w.seed_entry());
    w.serve(&entries);
    poll_now(w.dir(), 1);
    let title = seed_title();
    let deadline = Instant::now() + WAIT;
    while !c.cmd("latest 1").contains(&title) {
        if Instant::now() > deadline {
            c.fail("the new article was not stored");
        }
        std::thread::sleep(Duration::from_millis(300));
    }

    // Seven articles mention Korea: five on page one, two on page two.
    let page1 = c.cmd("search korea");
    assert!(page1.starts_with("Search: korea"), "{page1}");
    assert_eq!(page1.matches("\n• ").count(), 5, "{page1}");
    assert!(page1.ends_with("(page 1 — more: search korea --page 2)"), "{page1}");
    let page2 = c.cmd("/search korea --page 2");
    assert_eq!(page2.matches("\n• ").count(), 2, "{page2}");
    assert!(page2.ends_with("(page 2, last)"), "{page2}");
    let page3 = c.cmd("search korea --page 3");
    assert_eq!(page3, "No more results for \"korea\".");

    // Words only the page's text has find the seed article, with a snippet.
    let found = c.cmd("search Sentosa");
    assert!(found.contains(&format!("• {title}")), "{found}");
    let item = &found[found.find(&format!("• {title}")).expect("hit")..];
    let id: i64 = item
        .lines()
        .nth(1)
        .and_then(|meta| meta.rsplit("· #").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| c.fail(&format!("no article id in {item}")));
    let snippet = item.lines().nth(2).unwrap_or_default();
    assert!(snippet.to_lowercase().contains("sentosa"), "no snippet: {item}");
    assert!(item.contains(&format!("  {}", w.url("/articles/korea"))), "{item}");
    assert_eq!(c.cmd("search zzyzx"), "No articles match \"zzyzx\".");

    let article = c.cmd(&format!("article {id}"));
    assert!(article.starts_with(&post_head(&title, &w.url("/articles/korea"))), "{article}");
    assert!(
        seed_sentence_starts().iter().any(|s| article.contains(s.as_str())),
        "no summary:\n{article}"
    );
    assert!(article.contains(&format!("feed: {FEED_TITLE}")), "{article}");
    assert!(article.contains("published: 2026-11-30 08:00 UTC"), "{article}");
    assert!(article.ends_with(&format!("#{id}")), "{article}");
    let missing = c.cmd("article 9999");
    assert!(missing.starts_with("✗ No article #9999 in the feeds this community follows."));

    let latest = c.cmd("latest");
    assert!(latest.starts_with("Latest articles"), "{latest}");
    assert_eq!(latest.matches("\n• ").count(), 5, "{latest}");
    let two = c.cmd("latest 2");
    assert_eq!(two.matches("\n• ").count(), 2, "{two}");
    assert!(two.contains(&format!("{FEED_TITLE} · ")), "{two}");

    let help = c.cmd("help");
    assert!(help.starts_with("herald commands"), "{help}");
    for part in [
        "Everyone:",
        "Channel managers:",
        "Admins:",
        "search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]",
        "subscribe FEED [instant|digest]",
        "digest schedule hourly|daily HH:MM",
        "feeds add URL [INTERVAL]",
        "feeds export",
    ] {
        assert!(help.contains(part), "{part}: {help}");
    }
    let search_help = c.cmd("/help search");
    assert_eq!(
        search_help,
        "herald commands\n`search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]` — search articles"
    );
    let feeds_help = c.cmd("help feeds");
    assert_eq!(feeds_help.lines().count(), 8, "{feeds_help}");
    c.quit();
}

// ---------------------------------------------------------------------------------------
// Roles and typos.

#[test]
fn roles_are_enforced_in_the_console() {
    let w = World::new();
    let mut c = w.console_with_feed(2);
    c.quit();
    let other = w.url("/other.xml");

    let mut m = Console::start(w.dir(), Some("member"));
    let add = m.cmd(&format!("feeds add {other}"));
    assert!(add.starts_with("✗ `feeds add` needs the admin role; you are a member."), "{add}");
    let sub = m.cmd("subscribe 1");
    assert!(
        sub.starts_with("✗ `subscribe` needs the channel manager role; you are a member."),
        "{sub}"
    );
    let list = m.cmd("feeds list");
    assert!(list.contains("needs the admin role"), "{list}");
    let digest = m.cmd("digest now");
    assert!(digest.contains("needs the channel manager role"), "{digest}");
    // Members may read.
    let search = m.cmd("search korea");
    assert!(search.starts_with("Search: korea"), "{search}");
    let help = m.cmd("help");
    assert!(help.starts_with("herald commands"), "{help}");
    m.quit();

    let mut g = Console::start(w.dir(), Some("manager"));
    let sub = g.cmd("subscribe 1");
    assert!(sub.starts_with(&format!("✓ Subscribed this channel to {FEED_TITLE}")), "{sub}");
    let add = g.cmd(&format!("feeds add {other}"));
    assert!(
        add.starts_with("✗ `feeds add` needs the admin role; you are a channel manager."),
        "{add}"
    );
    let import =
        g.cmd(&format!("feeds import <opml><body><outline xmlUrl=\"{other}\"/></body></opml>"));
    assert!(import.contains("needs the admin role"), "{import}");
    let by_url = g.cmd(&format!("subscribe {other}"));
    assert!(by_url.contains("an admin adds it with `feeds add"), "{by_url}");
    let schedule = g.cmd("digest schedule hourly");
    assert!(schedule.starts_with("✓ Digest schedule"), "{schedule}");
    g.quit();

    // Nothing a refused command asked for happened.
    let mut c = Console::start(w.dir(), None);
    let list = c.cmd("feeds list");
    assert!(list.starts_with("1 feed(s)"), "{list}");
    assert!(!list.contains(&other), "{list}");
    c.quit();

    let bad = herald(w.dir()).args(["run", "--as", "boss"]).stdin(Stdio::null()).output();
    let bad = bad.expect("run herald");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use member, manager or admin"));
}

#[test]
fn typos_get_suggestions() {
    let w = World::new();
    let mut c = w.console_with_feed(1);
    assert_eq!(
        c.cmd("serach x"),
        "✗ unknown command \"serach\": did you mean `search`? — try `help`"
    );
    let feeds = c.cmd("feeds ad x");
    assert!(feeds.starts_with("✗ unknown feeds subcommand \"ad\": did you mean `feeds add`?"));
    let sub = c.cmd("subscribe 1");
    assert!(sub.contains("Subscribed"), "{sub}");
    let near = c.cmd("unsubscribe Eurasa");
    assert!(near.starts_with("✗ No feed \"Eurasa\" in this community."), "{near}");
    assert!(near.contains(&format!("Did you mean #1 {FEED_TITLE}?")), "{near}");
    let option = c.cmd("subscribe 1 --inclde korea");
    assert!(option.contains("did you mean --include?"), "{option}");
    let digest = c.cmd("digest prevew");
    assert!(digest.contains("did you mean `digest preview`?"), "{digest}");
    // The name itself works.
    let by_name = c.cmd("unsubscribe eurasia");
    assert_eq!(by_name, format!("✓ This channel no longer receives {FEED_TITLE}."));
    c.quit();
}

// ---------------------------------------------------------------------------------------
// Restart and hostile content.

#[test]
fn a_restart_keeps_subscriptions_and_posts_nothing_twice() {
    restart_posts_nothing_twice(World::new());
}

/// The same with herald on PostgreSQL.
#[test]
fn a_restart_keeps_subscriptions_and_posts_nothing_twice_on_postgres() {
    if let Some(w) = World::on_postgres() {
        restart_posts_nothing_twice(w);
    }
}

fn restart_posts_nothing_twice(w: World) {
    let mut c = w.console_with_feed(2);
    let sub = c.cmd("subscribe 1 --include korea");
    assert!(sub.contains("Subscribed"), "{sub}");
    let mut entries = w.history(2);
    entries.insert(0, w.seed_entry());
    w.serve(&entries);
    poll_now(w.dir(), 1);
    let head = post_head(&seed_title(), &w.url("/articles/korea"));
    c.wait_count(&head, 1);
    let first = c.quit();

    let mut c = Console::start(w.dir(), None);
    let subs = c.cmd("subscriptions");
    assert!(subs.starts_with("1 subscription(s) in this channel"), "{subs}");
    assert!(subs.contains(&format!("• #1 {FEED_TITLE}\n  instant; include korea")), "{subs}");

    // A later article, about Korea too, is posted; the first one is not posted again.
    w.site.page(
        "/articles/talks",
        "<html><head><title>Talks resume</title></head><body><article><h1>Talks resume</h1>\
         <p>Negotiators from North and South Korea met again on Tuesday in Panmunjom.</p>\
         <p>Both sides said the talks would continue next month in Seoul.</p>\
         </article></body></html>",
    );
    entries.insert(
        0,
        ("talks".into(), "Talks resume".into(), w.url("/articles/talks"), "Korea talks.".into()),
    );
    w.serve(&entries);
    poll_now(w.dir(), 1);
    c.wait_count(&post_head("Talks resume", &w.url("/articles/talks")), 1);
    c.idle(Duration::from_secs(2));
    // End of input also stops herald cleanly.
    let second = c.close();
    let both = format!("{first}{second}");
    assert_eq!(both.matches(&head).count(), 1, "posted again after the restart:\n{both}");
    assert_eq!(both.matches(&format!("{FEED_TITLE} · #")).count(), 2, "{both}");
}

#[test]
fn hostile_titles_cannot_drive_the_terminal() {
    let w = World::new();
    // JSON Feed carries control characters that XML cannot.
    let feed = |items: &str| {
        format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"{FEED_TITLE}","items":[{items}]}}"#
        )
    };
    let old = format!(
        r#"{{"id":"old","title":"Old news","url":"{}","content_text":"Korea then."}}"#,
        w.url("/old/1")
    );
    w.site.feed("/feed.json", "application/feed+json", &feed(&old));
    let mut c = Console::start(w.dir(), None);
    let added = c.cmd(&format!("feeds add {}", w.url("/feed.json")));
    assert!(added.starts_with("✓ Added feed #1"), "{added}");
    c.wait_polled(1);
    let sub = c.cmd("subscribe 1");
    assert!(sub.contains("Subscribed"), "{sub}");

    w.site.page(
        "/articles/evil",
        "<html><head><title>Alert</title></head><body><article><h1>Alert</h1>\
         <p>Red \u{1b}[31malert\u{1b}[0m for the whole Korean peninsula was issued today.</p>\
         <p>The window title \u{1b}]0;pwned\u{7}stays as it was, and the screen is not cleared.</p>\
         </article></body></html>",
    );
    let evil = format!(
        r#"{{"id":"evil","title":"Alert\u001b[2J @everyone now\u001b]0;pwned\u0007","url":"{}","content_text":"x\u001b[2Jy"}}"#,
        w.url("/articles/evil")
    );
    w.site.feed("/feed.json", "application/feed+json", &feed(&format!("{evil},{old}")));
    poll_now(w.dir(), 1);
    c.wait_count(&format!("Alert @everyone now <{}>", w.url("/articles/evil")), 1);
    let latest = c.cmd("latest 1");
    assert!(latest.contains("• Alert @everyone now"), "{latest}");
    let search = c.cmd("search everyone");
    assert!(search.contains("• Alert @everyone now"), "{search}");
    let out = c.quit();
    assert!(!out.contains('\u{1b}'), "an escape reached the terminal:\n{out:?}");
    assert!(!out.contains('\u{7}'), "a BEL reached the terminal:\n{out:?}");
    assert!(!out.contains("pwned") || !out.contains("]0;"), "{out:?}");
}
