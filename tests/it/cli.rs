//! End-to-end tests of the `herald` binary: each test runs it in its own temporary data
//! directory, with a clean herald environment (no `HERALD_*`, no `DATABASE_URL`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald::ingest::opml::parse_opml;
use herald::localserver::{Handler, LocalServer, Response};
use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_herald");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/feeds-dev/fixture");
const SEED_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/seed");

/// No herald command in these tests should come near this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished run of the binary left behind.
#[derive(Debug)]
struct Out {
    /// None when the process died from a signal (a crash, or killed on timeout).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Out {
    /// Non-empty stderr lines.
    fn err_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| !l.trim().is_empty()).collect()
    }

    fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        self.assert_no_panic()
    }

    fn assert_no_panic(&self) -> &Self {
        assert!(!self.stderr.contains("panicked"), "herald panicked: {self:#?}");
        assert!(self.code.is_some(), "herald died from a signal: {self:#?}");
        self
    }

    /// Failed with `code` (any non-zero code when None), one line on stderr, nothing on stdout.
    fn assert_one_line_failure(&self, code: Option<i32>) -> &Self {
        self.assert_no_panic();
        match code {
            Some(c) => assert_eq!(self.code, Some(c), "wrong exit code: {self:#?}"),
            None => assert_ne!(self.code, Some(0), "expected failure: {self:#?}"),
        }
        assert_eq!(self.err_lines().len(), 1, "expected exactly one stderr line: {self:#?}");
        assert!(self.stdout.trim().is_empty(), "expected nothing on stdout: {self:#?}");
        self
    }
}

/// A private data directory (also the working directory, so no stray `.env` is read).
struct Herald {
    dir: TempDir,
    env: Vec<(String, String)>,
}

impl Herald {
    fn new() -> Herald {
        Herald { dir: tempfile::tempdir().expect("temp dir"), env: Vec::new() }
    }

    fn with_env(mut self, key: &str, value: &str) -> Herald {
        self.env.push((key.into(), value.into()));
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write test file");
        p
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(self.dir.path());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HERALD_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env_remove("DATABASE_URL");
        cmd.env("HERALD_DATA_DIR", self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Out {
        run_with(self.command(args), None)
    }

    fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Out {
        run_with(self.command(args), Some(stdin))
    }

    /// Adds a feed without fetching it and returns its id.
    fn add_unchecked(&self, url: &str) -> i64 {
        let out = self.run(&["feeds", "add", url, "--no-check"]);
        out.assert_ok();
        assert!(out.stdout.contains("added"), "{out:#?}");
        feed_id(&out.stdout)
    }

    fn list(&self) -> String {
        let out = self.run(&["feeds", "list"]);
        out.assert_ok();
        out.stdout
    }
}

/// Runs `cmd` to completion (killing it after `TIMEOUT`), feeding `stdin` if given.
fn run_with(mut cmd: Command, stdin: Option<&[u8]>) -> Out {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn herald");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            // herald may stop reading early; a broken pipe is its business.
            let _ = pipe.write_all(&bytes);
        })
    });
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout pipe")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr pipe")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for herald") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "herald {:?} still running after {TIMEOUT:?}",
                cmd.get_args().collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    Out {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        took: started.elapsed(),
    }
}

/// The id in "added feed #12 …" (or "already there: feed #12 …").
fn feed_id(stdout: &str) -> i64 {
    let after = stdout.split_once("feed #").unwrap_or_else(|| panic!("no feed id in {stdout:?}")).1;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no feed id in {stdout:?}"))
}

/// The status column of feed `id` in `feeds list` output.
fn status_of(list: &str, id: i64) -> String {
    let line = list
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&format!("#{id}")))
        .unwrap_or_else(|| panic!("feed #{id} not listed:\n{list}"));
    line.split_whitespace().nth(1).expect("status column").to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------
// parse-feed

fn is_str_or_null(v: &Value) -> bool {
    v.is_string() || v.is_null()
}

/// Checks the documented shape and returns the entries.
fn check_parse_feed_json(stdout: &str) -> (Value, Vec<Value>) {
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON document on one line: {stdout}");
    let doc: Value = serde_json::from_str(stdout.trim()).expect("stdout is JSON");
    let obj = doc.as_object().expect("a JSON object");
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["title", "entries"]), "{doc}");
    assert!(is_str_or_null(&doc["title"]), "title: {doc}");
    let entries = doc["entries"].as_array().expect("entries is an array").clone();
    for e in &entries {
        let keys: BTreeSet<&str> =
            e.as_object().expect("entry object").keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "title", "link", "published"]), "{e}");
        for k in ["id", "title", "link", "published"] {
            assert!(is_str_or_null(&e[k]), "{k} must be a string or null: {e}");
        }
        if let Some(p) = e["published"].as_str() {
            chrono::DateTime::parse_from_rfc3339(p)
                .unwrap_or_else(|err| panic!("published {p:?}: {err}"));
        }
    }
    (doc, entries)
}

#[test]
fn parse_feed_prints_json_for_a_fixture() {
    let h = Herald::new();
    let file = format!("{FIXTURES}/rss2/rss_2.0_spec_1.xml");
    let out = h.run(&["parse-feed", &file]);
    out.assert_ok();
    let (doc, entries) = check_parse_feed_json(&out.stdout);
    assert_eq!(doc["title"], "Scripting News");
    assert_eq!(entries.len(), 2, "{doc}");
    assert_eq!(entries[0]["published"], "2002-09-29T19:59:01Z", "{doc}");
    assert!(entries.iter().all(|e| e["id"].is_string()), "the spec feed has guids: {doc}");

    // An Atom fixture and a JSON Feed fixture go through the same path.
    for f in ["atom/atom_spec_1.xml", "jsonfeed/jsonfeed_spec_1.json"] {
        let out = h.run(&["parse-feed", &format!("{FIXTURES}/{f}")]);
        out.assert_ok();
        let (doc, entries) = check_parse_feed_json(&out.stdout);
        assert!(doc["title"].is_string() && !entries.is_empty(), "{f}: {doc}");
    }
}

#[test]
fn parse_feed_reads_stdin() {
    let h = Herald::new();
    let feed = std::fs::read(format!("{FIXTURES}/rss2/rss_2.0_spec_1.xml")).expect("fixture");
    let out = h.run_stdin(&["parse-feed", "-"], &feed);
    out.assert_ok();
    let (doc, _) = check_parse_feed_json(&out.stdout);
    assert_eq!(doc["title"], "Scripting News");
}

#[test]
fn parse_feed_refuses_non_feeds_with_one_line() {
    let h = Herald::new();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            // xorshift: deterministic "random" bytes.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let spec = std::fs::read(format!("{FIXTURES}/rss2/rss_2.0_spec_1.xml")).expect("fixture");
    let truncated = spec[..spec.len() / 2].to_vec();
    let mut nested =
        b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>deep</title>".to_vec();
    nested.extend(b"<x>".repeat(200_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.xml", Vec::new()),
        ("blank.xml", b"  \n\t\n ".to_vec()),
        ("garbage.bin", b"\x00\x01\x02 this is not a feed \xff\xfe".to_vec()),
        ("random.bin", random),
        (
            "page.html",
            b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>A page</p></body></html>"
                .to_vec(),
        ),
        ("page-prolog.html", b"<?xml version=\"1.0\"?>\n<html><body>x</body></html>".to_vec()),
        ("truncated.xml", truncated),
        ("nested-unclosed.xml", nested),
        ("text.txt", b"just some words".to_vec()),
    ];
    for (name, bytes) in cases {
        let file = h.write(name, &bytes);
        let out = h.run(&["parse-feed", s(&file)]);
        out.assert_one_line_failure(Some(1));
        assert!(out.stderr.starts_with("herald: "), "{name}: {out:#?}");
        assert!(out.took < Duration::from_secs(10), "{name}: took {:?}", out.took);
    }

    let missing = h.path("no-such-file.xml");
    let out = h.run(&["parse-feed", s(&missing)]);
    out.assert_one_line_failure(Some(1));
    assert!(out.stderr.contains("no-such-file.xml"), "names the file: {out:#?}");
}

#[test]
fn parse_feed_survives_deep_nesting_in_a_complete_feed() {
    // 200,000 nested elements, properly closed: parsing may succeed or refuse, but must
    // neither crash (stack overflow) nor hang.
    let h = Herald::new();
    let mut doc = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>deep</title><item><title>t</title><description>".to_vec();
    doc.extend(b"<x>".repeat(200_000));
    doc.extend(b"</x>".repeat(200_000));
    doc.extend(b"</description></item></channel></rss>");
    let file = h.write("nested.xml", &doc);
    let out = h.run(&["parse-feed", s(&file)]);
    out.assert_no_panic();
    match out.code {
        Some(0) => {
            check_parse_feed_json(&out.stdout);
        }
        _ => {
            out.assert_one_line_failure(Some(1));
        }
    }
    assert!(out.took < Duration::from_secs(20), "took {:?}", out.took);
}

// ---------------------------------------------------------------------------------------
// feeds add / list / pause / resume / remove

#[test]
fn feeds_lifecycle() {
    let h = Herald::new();
    assert!(h.list().contains("no feeds yet"), "empty list says so");

    let url = "https://feeds.example.com/news.xml";
    let id = h.add_unchecked(url);
    let list = h.list();
    assert!(list.contains(url), "{list}");
    assert_eq!(status_of(&list, id), "ok");

    // Adding it again does not duplicate it.
    let again = h.run(&["feeds", "add", url, "--no-check"]);
    again.assert_ok();
    assert_eq!(feed_id(&again.stdout), id, "{again:#?}");
    let listed = h.list();
    let entries = listed.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(entries, 1, "one feed listed:\n{listed}");

    h.run(&["feeds", "pause", &id.to_string()]).assert_ok();
    assert_eq!(status_of(&h.list(), id), "paused");

    h.run(&["feeds", "resume", &id.to_string()]).assert_ok();
    assert_eq!(status_of(&h.list(), id), "ok");

    // Feeds can be named by URL too.
    h.run(&["feeds", "pause", url]).assert_ok();
    assert_eq!(status_of(&h.list(), id), "paused");

    let out = h.run(&["feeds", "remove", &id.to_string()]);
    out.assert_ok();
    assert!(out.stdout.contains("removed"), "{out:#?}");
    let list = h.list();
    assert!(!list.contains(url), "removed feed still listed:\n{list}");
}

#[test]
fn feeds_add_refuses_bad_urls_with_one_line() {
    let h = Herald::new();
    for bad in ["ftp://x", "not a url", "", "https://user:pw@example.com/feed"] {
        let out = h.run(&["feeds", "add", bad, "--no-check"]);
        out.assert_one_line_failure(None);
        assert!(out.stderr.contains("cannot add feed"), "{bad:?}: {out:#?}");
    }
    let out = h.run(&["feeds", "add", "ftp://x", "--no-check"]);
    assert!(out.stderr.contains("http"), "says which schemes work: {out:#?}");
    assert!(h.list().contains("no feeds yet"), "nothing was stored");
}

#[test]
fn feeds_remove_unknown_feed_fails() {
    let h = Herald::new();
    h.add_unchecked("https://feeds.example.com/one.xml");
    for cmd in ["remove", "pause", "resume"] {
        let out = h.run(&["feeds", cmd, "999"]);
        out.assert_one_line_failure(None);
        assert!(out.stderr.contains("no feed"), "{cmd}: {out:#?}");
        assert!(out.stderr.contains("999"), "{cmd}: {out:#?}");
    }
    assert!(h.list().contains("https://feeds.example.com/one.xml"), "other feeds untouched");
}

// ---------------------------------------------------------------------------------------
// OPML export / import

fn exported_urls(h: &Herald) -> BTreeSet<String> {
    let out = h.run(&["feeds", "export"]);
    out.assert_ok();
    parse_opml(out.stdout.as_bytes())
        .unwrap_or_else(|e| panic!("export is not OPML ({e}):\n{}", out.stdout))
        .into_iter()
        .map(|f| f.url)
        .collect()
}

#[test]
fn export_then_import_round_trips() {
    let a = Herald::new();
    let urls = [
        "https://a.example.com/feed.xml",
        "https://b.example.org/rss?x=1&y=2",
        "http://c.example.net/atom.xml",
    ];
    for u in urls {
        a.add_unchecked(u);
    }
    let out = a.run(&["feeds", "export"]);
    out.assert_ok();
    assert!(out.stdout.trim_start().starts_with("<?xml"), "{}", out.stdout);
    let exported = exported_urls(&a);
    assert_eq!(exported, urls.iter().map(|u| u.to_string()).collect(), "export lists every feed");

    let b = Herald::new();
    let file = b.write("feeds.opml", &out.stdout);
    let import = b.run(&["feeds", "import", s(&file)]);
    import.assert_ok();
    assert!(import.stdout.contains("3 added"), "{import:#?}");
    assert_eq!(exported_urls(&b), exported, "same URLs after import");

    // Importing again adds nothing new.
    let again = b.run(&["feeds", "import", s(&file)]);
    again.assert_ok();
    assert!(again.stdout.contains("0 added"), "{again:#?}");
    assert!(again.stdout.contains("3 already there"), "{again:#?}");
}

#[test]
fn import_of_a_non_opml_file_fails_clearly() {
    let h = Herald::new();
    let cases: [(&str, &[u8]); 3] = [
        ("page.html", b"<html><body><p>not a subscription list</p></body></html>"),
        ("garbage.bin", b"\x00\x01garbage\xff"),
        ("feed.xml", b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title></channel></rss>"),
    ];
    for (name, bytes) in cases {
        let file = h.write(name, bytes);
        let out = h.run(&["feeds", "import", s(&file)]);
        out.assert_one_line_failure(None);
        assert!(out.stderr.contains("OPML"), "{name}: {out:#?}");
    }
    let out = h.run(&["feeds", "import", s(&h.path("missing.opml"))]);
    out.assert_one_line_failure(None);
    assert!(out.stderr.contains("missing.opml"), "{out:#?}");
    assert!(h.list().contains("no feeds yet"));
}

// ---------------------------------------------------------------------------------------
// configuration

#[test]
fn bad_config_value_exits_2_naming_the_variable() {
    let h = Herald::new().with_env("HERALD_POLL_INTERVAL", "soon");
    let commands: [&[&str]; 6] = [
        &["feeds", "list"],
        &["feeds", "export"],
        &["feeds", "add", "https://example.com/feed.xml", "--no-check"],
        &["poll", "--once"],
        &["search", "anything"],
        &["article", "1"],
    ];
    for args in commands {
        let out = h.run(args);
        out.assert_one_line_failure(Some(2));
        assert!(out.stderr.contains("HERALD_POLL_INTERVAL"), "{args:?}: {out:#?}");
    }
    assert!(!h.path("herald.db").exists(), "no database is created on a config error");

    let h = Herald::new().with_env("HERALD_ALLOW_PRIVATE_NETWORKS", "maybe");
    let out = h.run(&["feeds", "list"]);
    out.assert_one_line_failure(Some(2));
    assert!(out.stderr.contains("HERALD_ALLOW_PRIVATE_NETWORKS"), "{out:#?}");
}

// ---------------------------------------------------------------------------------------
// extract / summarize

fn seed_text() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(SEED_DIR)
        .expect("seed dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    std::fs::read_to_string(files.first().expect("a seed article")).expect("read seed")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The seed article as a small HTML page, and a sentence from its body.
fn seed_page() -> (String, String) {
    let text = seed_text();
    let blocks: Vec<&str> = text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()).collect();
    let title = blocks
        .iter()
        .find(|b| (4..=20).contains(&b.split_whitespace().count()))
        .expect("a title line");
    let body: Vec<&str> =
        blocks.iter().copied().filter(|b| b.split_whitespace().count() >= 20).collect();
    assert!(body.len() >= 3, "seed article has paragraphs");
    let paragraphs: String =
        body.iter().map(|p| format!("<p>{}</p>\n", escape(&collapse(p)))).collect();
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><nav><a href=\"/\">Home</a> <a href=\"/about\">About</a></nav>\
         <article><h1>{t}</h1>\n{paragraphs}</article><footer>© Example</footer></body></html>",
        t = escape(title)
    );
    let first = collapse(body[0]);
    let sentence = first.split_once(". ").map_or(first.as_str(), |(s, _)| s).to_string();
    (html, sentence)
}

#[test]
fn extract_prints_the_article_text() {
    let h = Herald::new();
    let (html, sentence) = seed_page();
    let file = h.write("article.html", &html);
    let out = h.run(&["extract", s(&file)]);
    out.assert_ok();
    assert!(collapse(&out.stdout).contains(&sentence), "missing {sentence:?} in:\n{}", out.stdout);
    assert!(!out.stdout.contains("<p>"), "text, not markup: {}", out.stdout);
}

#[test]
fn extract_jsonl_skips_a_bad_line_and_keeps_going() {
    let h = Herald::new();
    let (html, sentence) = seed_page();
    let input = format!(
        "{}\nthis line is not JSON\n{}\n",
        serde_json::json!({"id": 1, "url": "https://example.com/a", "html": html}),
        serde_json::json!({"id": 3, "html": html}),
    );
    let out = h.run_stdin(&["extract", "--jsonl"], input.as_bytes());
    out.assert_no_panic();
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "one output per good line: {out:#?}");
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[1]["id"], 3);
    for l in &lines {
        let text = l["text"].as_str().unwrap_or_else(|| panic!("no text: {l}"));
        assert!(collapse(text).contains(&sentence), "missing {sentence:?} in {l}");
    }
    assert!(out.stderr.contains("line 2"), "the bad line is reported: {out:#?}");
}

#[test]
fn summarize_prints_at_most_n_sentences() {
    let h = Herald::new();
    let text = seed_text();
    let file = h.write("article.txt", &text);
    for n in ["1", "2"] {
        let out = h.run(&["summarize", "--sentences", n, s(&file)]);
        out.assert_ok();
        let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        let n: usize = n.parse().expect("number");
        assert!((1..=n).contains(&lines.len()), "expected 1..={n} lines, got {lines:#?}");
        let source = collapse(&text);
        for l in lines {
            assert!(
                source.contains(&collapse(l).trim_end_matches('.').to_string()),
                "{l:?} is not from the text"
            );
        }
    }
}

#[test]
fn summarize_jsonl_reports_a_line_without_text_and_continues() {
    let h = Herald::new();
    let text = seed_text();
    let input = format!(
        "{}\n{}\n{}\n",
        serde_json::json!({"id": "a", "text": text, "title": "Korea"}),
        serde_json::json!({"id": "b", "title": "no text here"}),
        serde_json::json!({"id": "c", "text": "One sentence here. Another one there. A third."}),
    );
    let out = h.run_stdin(&["summarize", "--jsonl", "--sentences", "2"], input.as_bytes());
    out.assert_no_panic();
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{out:#?}");
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[1]["id"], "b");
    assert_eq!(lines[2]["id"], "c");
    for i in [0, 2] {
        let summary =
            lines[i]["summary"].as_array().unwrap_or_else(|| panic!("summary array: {}", lines[i]));
        assert!((1..=2).contains(&summary.len()), "{}", lines[i]);
        assert!(lines[i].get("error").is_none(), "{}", lines[i]);
    }
    let err = lines[1]["error"].as_str().unwrap_or_else(|| panic!("error for b: {}", lines[1]));
    assert!(err.contains("text"), "names the missing field: {err}");
}

// ---------------------------------------------------------------------------------------
// poll and search against a local feed server

const FEED_WORD: &str = "Zanzibarian";

fn feed_server(rt: &tokio::runtime::Runtime) -> LocalServer {
    let handler: Handler = Arc::new(|req| {
        let host = req.header("host").unwrap_or("127.0.0.1").to_string();
        match req.path() {
            "/feed.xml" => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
                     <title>Local News</title><link>http://{host}/</link>\
                     <item><guid>local-1</guid><title>The {FEED_WORD} lighthouse reopens</title>\
                     <link>http://{host}/a1</link><pubDate>Tue, 02 Jul 2024 10:00:00 GMT</pubDate>\
                     <description>Keepers return to the old tower after repairs.</description></item>\
                     <item><guid>local-2</guid><title>Harbour ferry timetable changes</title>\
                     <link>http://{host}/a2</link><pubDate>Wed, 03 Jul 2024 10:00:00 GMT</pubDate>\
                     <description>Ferries leave earlier on weekdays from next month.</description></item>\
                     </channel></rss>"
                );
                Response::new(200, "application/rss+xml", body)
            }
            "/a1" | "/a2" => {
                let body = format!(
                    "<html><head><title>Article</title></head><body><article><h1>Article</h1>\
                     <p>{}</p></article></body></html>",
                    "The harbour town keeps its old ways and its boats in good repair. ".repeat(12)
                );
                Response::new(200, "text/html; charset=utf-8", body)
            }
            _ => Response::status(404),
        }
    });
    rt.block_on(LocalServer::start("127.0.0.1:0".parse().expect("addr"), handler))
        .expect("start feed server")
}

#[test]
fn add_poll_and_search_a_local_feed() {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let server = feed_server(&rt);
    let h = Herald::new().with_env("HERALD_ALLOW_PRIVATE_NETWORKS", "true");
    let url = server.url("/feed.xml");

    let add = h.run(&["feeds", "add", &url]);
    add.assert_ok();
    assert!(add.stdout.contains("added feed #"), "{add:#?}");
    assert!(add.stdout.contains("2 item(s)"), "{add:#?}");

    let poll = h.run(&["poll", "--once"]);
    poll.assert_ok();
    assert!(poll.stdout.contains("polled 1 feed(s)"), "{poll:#?}");
    assert!(poll.stdout.contains("0 failed"), "{poll:#?}");

    let list = h.list();
    assert!(list.contains("Local News"), "the feed's title was learned: {list}");

    let found = h.run(&["search", &FEED_WORD.to_lowercase()]);
    found.assert_ok();
    assert!(found.stdout.contains(&format!("The {FEED_WORD} lighthouse reopens")), "{found:#?}");
    assert!(!found.stdout.contains("Harbour ferry"), "only the matching item: {found:#?}");

    let other = h.run(&["search", "ferry"]);
    other.assert_ok();
    assert!(other.stdout.contains("Harbour ferry timetable changes"), "{other:#?}");

    for hostile in ["\"AND OR (", "AND", "NEAR(", "title:x*", "-", "\""] {
        let out = h.run(&["search", hostile]);
        out.assert_ok();
        assert!(!out.stderr.to_lowercase().contains("error"), "{hostile:?}: {out:#?}");
        assert!(!out.stdout.contains(FEED_WORD), "{hostile:?} matched nothing relevant: {out:#?}");
    }

    let none = h.run(&["search", "qwertyuiopasdf"]);
    none.assert_ok();
    assert!(none.stdout.contains("no articles match"), "{none:#?}");
    drop(server);
}

#[test]
fn feeds_add_with_check_refuses_what_is_not_a_feed() {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let server = feed_server(&rt);
    let h = Herald::new().with_env("HERALD_ALLOW_PRIVATE_NETWORKS", "true");
    for path in ["/missing.xml", "/a1"] {
        let out = h.run(&["feeds", "add", &server.url(path)]);
        out.assert_no_panic();
        assert_ne!(out.code, Some(0), "{path}: {out:#?}");
        assert!(out.stderr.contains("cannot add feed"), "{path}: {out:#?}");
    }
    assert!(h.list().contains("no feeds yet"), "nothing was stored");

    // Without the opt-in, loopback addresses are refused.
    let strict = Herald::new();
    let out = strict.run(&["feeds", "add", &server.url("/feed.xml")]);
    out.assert_no_panic();
    assert_ne!(out.code, Some(0), "loopback must be refused by default: {out:#?}");
}
