//! The batch forms of `herald extract` and `herald summarize`: JSON lines in, JSON lines
//! out, one per input and in order. A bad line gets an error object for its id (or a
//! stderr line when it has none) and the batch goes on.

use std::io::{BufRead, Write};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::extract;
use crate::summarize::{Extractive, Summarizer};

#[derive(Deserialize)]
struct PageLine {
    id: Value,
    #[serde(default)]
    url: Option<String>,
    html: String,
}

#[derive(Deserialize)]
struct TextLine {
    id: Value,
    text: String,
    #[serde(default)]
    title: Option<String>,
}

/// Runs extraction over JSON lines. Returns how many lines failed.
pub fn extract_jsonl(
    input: impl BufRead,
    mut out: impl Write,
    mut err: impl Write,
) -> std::io::Result<usize> {
    batch(input, &mut out, &mut err, |line: PageLine| {
        let id = line.id.clone();
        match extract::extract(&line.html, line.url.as_deref()) {
            Ok(x) => json!({"id": id, "title": x.title, "text": x.text}),
            Err(e) => json!({"id": id, "title": null, "text": "", "error": e.to_string()}),
        }
    })
}

/// Runs summarization over JSON lines. Returns how many lines failed.
pub fn summarize_jsonl(
    input: impl BufRead,
    mut out: impl Write,
    mut err: impl Write,
    sentences: usize,
) -> std::io::Result<usize> {
    let summarizer = Extractive::default();
    batch(input, &mut out, &mut err, |line: TextLine| {
        let summary = summarizer.summarize(line.title.as_deref(), &line.text, sentences);
        json!({"id": line.id, "summary": summary})
    })
}

fn batch<T: for<'de> Deserialize<'de>>(
    input: impl BufRead,
    out: &mut impl Write,
    err: &mut impl Write,
    mut each: impl FnMut(T) -> Value,
) -> std::io::Result<usize> {
    let mut failed = 0;
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<T>(&text) {
            Ok(item) => each(item),
            Err(e) => {
                failed += 1;
                // Echo the id when the line has one, so the caller can match the error.
                match serde_json::from_str::<Value>(&text).ok().and_then(|v| v.get("id").cloned()) {
                    Some(id) => json!({"id": id, "error": format!("line {}: {e}", n + 1)}),
                    None => {
                        writeln!(err, "herald: line {}: skipped: {e}", n + 1)?;
                        continue;
                    }
                }
            }
        };
        serde_json::to_writer(&mut *out, &reply)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(failed)
}
