//! Tidy checks on the source tree itself (in the spirit of rust-analyzer's tidy tests).
//!
//! Platform knowledge lives in `src/platform/` (and the configuration that reads each
//! platform's settings, `src/config.rs`): no other code may name a chat platform or use
//! a platform crate. Comments may mention them; code, identifiers and strings may not.

use std::path::{Path, PathBuf};

/// Chat platforms and their crates, as they would appear in code (matched
/// case-insensitively, so `DISCORD`, `Discord` and `discord` all count).
const PLATFORM_WORDS: &[&str] = &[
    "discord",
    "serenity",
    "matrix",
    "ruma",
    "slack",
    "telegram",
    "teloxide",
    "mattermost",
    "irc",
    "xmpp",
];

/// Paths (relative to the crate root, `/`-separated) allowed to know platforms.
const ALLOWED: &[&str] = &["src/platform/", "src/config.rs"];

/// A platform word in a file where it names something else: web-page furniture
/// ("Follow us on Telegram") is recognised by the social networks it names.
const ALLOWED_WORDS: &[(&str, &str)] = &[("src/extract/clean.rs", "telegram")];

#[test]
fn platform_names_stay_in_platform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 50, "the walk found the sources: {}", files.len());
    let mut found = Vec::new();
    for file in files {
        let rel =
            file.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
        if ALLOWED.iter().any(|a| rel.starts_with(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        found.extend(
            platform_words(&text)
                .into_iter()
                .filter(|(_, word)| {
                    !ALLOWED_WORDS.iter().any(|(f, w)| rel == *f && word.eq_ignore_ascii_case(w))
                })
                .map(|(line, word)| format!("{rel}:{line}: {word}")),
        );
    }
    assert!(
        found.is_empty(),
        "platform knowledge outside src/platform/ and src/config.rs (move it behind the \
         ports in deliver/port.rs or platform/mod.rs):\n{}",
        found.join("\n")
    );
}

/// The core layers depend on ports, never on the adapters: the dispatcher owns the
/// outbound port (`deliver/port.rs`) and `platform/` implements it, so nothing below
/// may reach into `platform/` (that was the deliver ↔ platform cycle).
#[test]
fn core_layers_do_not_use_the_adapters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["deliver", "commands", "store", "ingest", "extract", "summarize", "domain"] {
        rust_files(&root.join("src").join(dir), &mut files);
    }
    files.push(root.join("src/reply.rs"));
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let mut depth = 0;
        for (n, line) in text.lines().enumerate() {
            if strip_comments(line, &mut depth).contains("crate::platform") {
                found.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "core code uses platform/:\n{}", found.join("\n"));
}

/// The check finds a platform name in code and strings, and not in comments.
#[test]
fn the_check_can_fail() {
    let code = "// Discord is named here, fine\n/// and in docs: Matrix\nlet place = match p {\n    \"matrix\" => \"room\",\n    _ => x, // serenity\n};\nuse serenity::all::Http;\nlet limits = DigestLimits::DISCORD;\nlet url = \"http://x/a//b\";\nlet spirit = 1; let slackness = 2;\n";
    let hits: Vec<(usize, String)> = platform_words(code);
    assert_eq!(
        hits,
        vec![(4, "matrix".to_string()), (7, "serenity".to_string()), (8, "DISCORD".to_string())]
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every word of code (identifiers, and words inside string literals) that names a
/// platform, with its 1-based line. Comments are skipped; a word counts when it is a
/// platform word or starts with one followed by `_` (`matrix_sdk`), so `slackness` or
/// `irctc` do not.
fn platform_words(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block_comment = 0usize;
    for (n, line) in text.lines().enumerate() {
        let code = strip_comments(line, &mut in_block_comment);
        for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            let lower = word.to_lowercase();
            let hit = PLATFORM_WORDS.iter().any(|p| {
                lower == *p
                    || lower.strip_prefix(p).is_some_and(|rest| rest.starts_with('_'))
                    || lower.strip_suffix(p).is_some_and(|rest| rest.ends_with('_'))
            });
            if hit {
                out.push((n + 1, word.to_string()));
            }
        }
    }
    out
}

/// The line without `//` comments and `/* */` blocks (tracked across lines); `//`
/// inside a string literal is kept.
fn strip_comments(line: &str, depth: &mut usize) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if *depth > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                *depth -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                *depth += 1;
            }
            continue;
        }
        if in_string {
            if c == '\\' {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            if c == '"' {
                in_string = false;
            }
            out.push(c);
            continue;
        }
        match c {
            // A char literal holding a quote does not open a string.
            '\'' if chars.peek() == Some(&'"') => {
                out.push(c);
                out.push(chars.next().unwrap_or('"'));
            }
            '"' => {
                in_string = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => break,
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                *depth += 1;
            }
            _ => out.push(c),
        }
    }
    out
}
