//! Golden tests: herald's `parse_feed` against feed-rs's own expected parses of its
//! fixture feeds (`../shared/data/feeds-dev/fixture`, see SOURCE.txt beside it).
//!
//! The golden files are feed-rs's `model::Feed` serialized with serde, so field names
//! are feed-rs's. Only what herald promises is compared: the feed title, the number of
//! entries (after herald's de-duplication by key), and per entry the title, the date
//! (`published`, else `updated`), the link, and the id / key.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use herald::ingest::{ParsedFeed, parse_feed};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/feeds-dev/fixture");

/// Generous: a debug build parses any of these fixtures in milliseconds.
const MAX_PARSE_TIME: Duration = Duration::from_secs(5);

/// herald's cap on entries per feed (`herald::ingest::parse::MAX_ENTRIES`).
const MAX_ENTRIES: usize = herald::ingest::parse::MAX_ENTRIES;

fn fixture_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::from(FIXTURES)];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read fixture dir {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if !path.to_string_lossy().ends_with(".serde.json") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 50, "expected the feed-rs fixtures in {FIXTURES}, found {}", out.len());
    out
}

/// `<stem>.serde.json` next to a feed file, if feed-rs has a golden parse for it.
fn golden_of(feed: &Path) -> Option<PathBuf> {
    let stem = feed.file_stem()?.to_str()?;
    let golden = feed.with_file_name(format!("{stem}.serde.json"));
    golden.exists().then_some(golden)
}

fn rel(path: &Path) -> String {
    path.strip_prefix(FIXTURES).unwrap_or(path).display().to_string()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes `<...>` tags (a lone `<` stays).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        match rest[lt..].find('>') {
            Some(gt) => {
                out.push(' ');
                rest = &rest[lt + gt + 1..];
            }
            None => {
                out.push_str(&rest[lt..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the basic named entities and numeric references.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let decoded = tail.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &tail[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Letters and digits only, lowercased: the loose comparison for titles with markup.
fn letters(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether a golden `Text` may hold markup that herald deliberately turns into text.
fn is_htmlish(text: &Value) -> bool {
    let content = text["content"].as_str().unwrap_or_default();
    text["content_type"].as_str().is_some_and(|t| t.contains("html"))
        || content.contains('<')
        || content.contains('&')
}

/// Compares herald's title with a golden feed-rs `Text` (or null). None when they agree.
fn title_mismatch(herald: Option<&str>, golden: &Value) -> Option<String> {
    let expected = golden["content"].as_str().map(collapse).filter(|t| !t.is_empty());
    let got = herald.map(collapse);
    if got == expected {
        return None;
    }
    if let (Some(got), Some(raw)) = (&got, golden["content"].as_str())
        && is_htmlish(golden)
    {
        // herald renders markup as text; compare the words only, decoding entities before
        // or after stripping tags (an escaped `&lt;b&gt;` is markup once decoded).
        let got = letters(got);
        let candidates = [letters(&decode(&strip_tags(raw))), letters(&strip_tags(&decode(raw)))];
        if candidates.contains(&got) {
            return None;
        }
    }
    Some(format!("herald {got:?}, feed-rs {expected:?}"))
}

fn golden_instant(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("golden date {s:?} is not RFC 3339: {e}"))
            .with_timezone(&Utc)
    })
}

/// feed-rs made the id up: an md5 hex digest (from links and title; printed without
/// leading zeros, so it can be shorter than 32 digits) or a UUID.
fn is_generated_id(id: &str) -> bool {
    let hex32 = (24..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit());
    let uuid = id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() }
        });
    hex32 || uuid
}

/// The link herald picks among a golden entry's links: the first `alternate` (or
/// rel-less) link, else the first link. With no base URL herald only trims it.
fn golden_pick_link(links: &[Value]) -> Option<String> {
    let href =
        |l: &Value| l["href"].as_str().map(str::trim).filter(|h| !h.is_empty()).map(String::from);
    links
        .iter()
        .filter(|l| l["rel"].as_str().is_none_or(|r| r == "alternate"))
        .find_map(href)
        .or_else(|| links.iter().find_map(href))
}

/// The golden entries herald should keep, in order: herald drops later items whose key
/// (id, else link, else a content hash) repeats an earlier one, and keeps at most
/// `MAX_ENTRIES`.
fn expected_entries(golden: &Value) -> Vec<&Value> {
    let entries = golden["entries"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut seen = HashSet::new();
    entries
        .iter()
        .take(MAX_ENTRIES)
        .filter(|e| {
            let id = e["id"].as_str().unwrap_or_default().trim();
            let links = e["links"].as_array().map(Vec::as_slice).unwrap_or_default();
            let key = if !id.is_empty() && !is_generated_id(id) {
                Some(id.to_string())
            } else {
                golden_pick_link(links)
            };
            // Without id or link the key is a hash of title and content: unique enough.
            key.is_none_or(|k| seen.insert(k))
        })
        .collect()
}

fn compare(file: &str, feed: &ParsedFeed, golden: &Value, problems: &mut Vec<String>) {
    let mut fail = |what: String| problems.push(format!("{file}: {what}"));

    if let Some(m) = title_mismatch(feed.title.as_deref(), &golden["title"]) {
        fail(format!("feed title: {m}"));
    }

    let expected = expected_entries(golden);
    if feed.entries.len() != expected.len() {
        fail(format!(
            "{} entries, expected {} (feed-rs has {} before de-duplication)",
            feed.entries.len(),
            expected.len(),
            golden["entries"].as_array().map_or(0, Vec::len)
        ));
    }

    let mut keys = HashSet::new();
    for (i, entry) in feed.entries.iter().enumerate() {
        if entry.key.trim().is_empty() {
            fail(format!("entry {i}: empty key"));
        }
        if !keys.insert(entry.key.as_str()) {
            fail(format!("entry {i}: key {:?} is not unique", entry.key));
        }
    }

    for (i, (got, want)) in feed.entries.iter().zip(&expected).enumerate() {
        let mut fail = |what: String| problems.push(format!("{file}: entry {i}: {what}"));

        if let Some(m) = title_mismatch(got.title.as_deref(), &want["title"]) {
            fail(format!("title: {m}"));
        }

        let want_date =
            golden_instant(&want["published"]).or_else(|| golden_instant(&want["updated"]));
        // herald reads more date forms than feed-rs (feedparser's): a date where feed-rs
        // has none is fine; two dates must agree.
        if got.published != want_date && want_date.is_some() {
            fail(format!("published: herald {:?}, feed-rs {want_date:?}", got.published));
        }

        let hrefs: Vec<&str> = want["links"]
            .as_array()
            .map(|ls| ls.iter().filter_map(|l| l["href"].as_str()).map(str::trim).collect())
            .unwrap_or_default();
        // Links compare as URLs (feed-rs normalizes them: a lowercased host, a `/` path).
        let same_url = |a: &str, b: &str| {
            a == b || matches!((url::Url::parse(a), url::Url::parse(b)), (Ok(x), Ok(y)) if x == y)
        };
        let want_id = want["id"].as_str().unwrap_or_default().trim();
        match (&got.link, hrefs.is_empty()) {
            (None, false) => fail(format!("link: herald none, feed-rs {hrefs:?}")),
            (Some(link), false) if !hrefs.iter().any(|h| same_url(h, link)) => {
                fail(format!("link: herald {link:?} is not among feed-rs {hrefs:?}"))
            }
            // feedparser's rule: a permalink guid (an Atom id) is the link when there is
            // no other; feed-rs leaves the link empty.
            (Some(link), true) if !same_url(link, want_id) => {
                fail(format!("link: herald {link:?}, feed-rs has none and the id is {want_id:?}"))
            }
            _ => {}
        }

        match &got.id {
            Some(id) if id != want_id => fail(format!("id: herald {id:?}, feed-rs {want_id:?}")),
            Some(_) => {
                if got.key != want_id {
                    fail(format!("key {:?} is not the id {want_id:?}", got.key));
                }
            }
            None if !is_generated_id(want_id) => {
                fail(format!("id: herald none, feed-rs has the real id {want_id:?}"))
            }
            None => {
                // feed-rs generated the id: herald's key falls back to the link or a hash.
                let fallback_ok = match &got.link {
                    Some(link) => &got.key == link,
                    None => got.key.starts_with("sha256:"),
                };
                if !fallback_ok {
                    fail(format!(
                        "key {:?} is neither the link {:?} nor a hash",
                        got.key, got.link
                    ));
                }
            }
        }
    }
}

#[test]
fn fixtures_match_feed_rs_golden_parses() {
    let mut problems = Vec::new();
    let mut compared = 0;
    for path in fixture_files() {
        let Some(golden_path) = golden_of(&path) else { continue };
        let file = rel(&path);
        let golden: Value =
            serde_json::from_slice(&std::fs::read(&golden_path).expect("read golden"))
                .unwrap_or_else(|e| panic!("{}: bad golden JSON: {e}", golden_path.display()));
        let bytes = std::fs::read(&path).expect("read fixture");
        match parse_feed(&bytes, None) {
            Ok(feed) => compare(&file, &feed, &golden, &mut problems),
            Err(e) => problems.push(format!("{file}: herald cannot parse it (feed-rs can): {e}")),
        }
        compared += 1;
    }
    assert!(compared >= 50, "only {compared} fixtures have golden parses");
    assert!(
        problems.is_empty(),
        "{} mismatch(es) over {compared} golden fixtures:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn every_fixture_parses_or_errs_quickly_without_panicking() {
    let mut problems = Vec::new();
    for path in fixture_files() {
        let file = rel(&path);
        let bytes = std::fs::read(&path).expect("read fixture");
        let started = Instant::now();
        let result =
            std::panic::catch_unwind(|| parse_feed(&bytes, Some("https://example.com/feed")));
        let took = started.elapsed();
        match result {
            Err(_) => problems.push(format!("{file}: parse_feed panicked")),
            Ok(Ok(feed)) if feed.entries.len() > MAX_ENTRIES => {
                problems.push(format!("{file}: {} entries, above the cap", feed.entries.len()))
            }
            Ok(_) => {}
        }
        if took > MAX_PARSE_TIME {
            problems.push(format!("{file}: took {took:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn comparison_helpers_catch_differences() {
    // The golden comparison must be able to fail: check its building blocks.
    let plain = serde_json::json!({"content_type": "text/plain", "content": "A  title"});
    assert!(title_mismatch(Some("A title"), &plain).is_none());
    assert!(title_mismatch(Some("Another title"), &plain).is_some());
    assert!(title_mismatch(None, &plain).is_some());
    let html = serde_json::json!({"content_type": "text/html", "content": "<em>Hi</em> &amp; bye"});
    assert!(title_mismatch(Some("Hi & bye"), &html).is_none());
    assert!(title_mismatch(Some("Hi"), &html).is_some());
    assert!(title_mismatch(None, &Value::Null).is_none());
    assert!(is_generated_id("75ffea6b731bb4534f3138fd6b726791"));
    assert!(is_generated_id("5b3104d7a7fc52768e9ddb03c21be8b"));
    assert!(is_generated_id("1e2d694e-c86b-4ade-b9b9-349bcf61a373"));
    assert!(!is_generated_id("tag:example.org,2003:3.2397"));
    let dup = serde_json::json!({"entries": [
        {"id": "a", "links": []}, {"id": "a", "links": []},
        {"id": "75ffea6b731bb4534f3138fd6b726791", "links": [{"href": "http://x/1", "rel": null}]},
        {"id": "85ffea6b731bb4534f3138fd6b726791", "links": [{"href": "http://x/1", "rel": null}]},
        {"id": "95ffea6b731bb4534f3138fd6b726791", "links": []},
        {"id": "a5ffea6b731bb4534f3138fd6b726791", "links": []},
    ]});
    assert_eq!(expected_entries(&dup).len(), 4);
}
