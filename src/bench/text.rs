//! `herald bench extract` and `herald bench summarize`: quality and speed on the dev
//! data sets, with the anchors (plain dom_smoothie, LEAD-3) measured in the same run.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde_json::Value;

use crate::extract;
use crate::score;
use crate::summarize::{Extractive, Summarizer};

fn read_jsonl(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("{}", path.display())))
        .collect()
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The `q` quantile (0..=1) of `values`, in place.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}

fn millis(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Extraction F1 (the benchmark's 4-gram shingle metric) and ms per page.
pub fn extract_bench(data: &Path) -> anyhow::Result<()> {
    let pages = read_jsonl(&data.join("extraction-dev/pages.jsonl"))?;
    let truth_rows = read_jsonl(&data.join("extraction-dev/truth.jsonl"))?;
    let truth: HashMap<&str, &str> =
        truth_rows.iter().map(|t| (field(t, "id"), field(t, "text"))).collect();
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    let (mut ours_ms, mut base_ms) = (Vec::new(), Vec::new());
    for page in &pages {
        let (html, url) = (field(page, "html"), Some(field(page, "url")));
        let expected = truth.get(field(page, "id")).copied().unwrap_or("");

        let t = Instant::now();
        let text = extract::extract(html, url).map(|x| x.text).unwrap_or_default();
        ours_ms.push(millis(t));
        ours.push(score::shingle_counts(expected, &text));

        let t = Instant::now();
        let cfg = dom_smoothie::Config {
            text_mode: dom_smoothie::TextMode::Formatted,
            ..Default::default()
        };
        let plain = dom_smoothie::Readability::new(html, url, Some(cfg))
            .and_then(|mut r| r.parse())
            .map(|a| a.text_content.to_string())
            .unwrap_or_default();
        base_ms.push(millis(t));
        base.push(score::shingle_counts(expected, &plain));
    }
    println!(
        "extraction on {} pages (F1 of 4-gram shingles, as the benchmark scores it)",
        pages.len()
    );
    for (name, counts, ms) in
        [("herald", &ours, &mut ours_ms), ("dom_smoothie", &base, &mut base_ms)]
    {
        let prf = score::shingle_prf(counts);
        println!(
            "  {name:<13} P {:.3}  R {:.3}  F1 {:.3}   median {:.2} ms  p95 {:.2} ms",
            prf.precision,
            prf.recall,
            prf.f1,
            quantile(ms, 0.5),
            quantile(ms, 0.95)
        );
    }
    Ok(())
}

/// ROUGE-1/2/Lsum of herald's summaries and of LEAD-3, and ms per article.
pub fn summarize_bench(data: &Path, sentences: usize) -> anyhow::Result<()> {
    let docs = read_jsonl(&data.join("summaries-dev/docs.jsonl"))?;
    let ref_rows = read_jsonl(&data.join("summaries-dev/refs.jsonl"))?;
    let refs: HashMap<&str, Vec<&str>> = ref_rows
        .iter()
        .map(|r| {
            let sents = r
                .get("summary")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (field(r, "id"), sents)
        })
        .collect();
    let summarizer = Extractive::default();
    let (mut ours, mut lead) = (score::Rouge::default(), score::Rouge::default());
    let mut ms = Vec::new();
    let mut longest = 0;
    for doc in &docs {
        let text = field(doc, "text");
        let title = doc.get("title").and_then(Value::as_str);
        let reference = refs.get(field(doc, "id")).cloned().unwrap_or_default();
        let t = Instant::now();
        let summary = summarizer.summarize(title, text, sentences);
        ms.push(millis(t));
        longest = longest.max(summary.join(" ").chars().count());
        // LEAD-3 as the data set defines it: its first three lines (one sentence a line).
        let lead3: Vec<&str> = text.lines().take(3).collect();
        for (acc, r) in [
            (&mut ours, score::rouge_all(&reference, &summary)),
            (&mut lead, score::rouge_all(&reference, &lead3)),
        ] {
            acc.r1 += r.r1;
            acc.r2 += r.r2;
            acc.lsum += r.lsum;
        }
    }
    let n = docs.len().max(1) as f64;
    println!(
        "summaries of {} articles (ROUGE F1 x100, stemmed; L = summary-level Lsum)",
        docs.len()
    );
    println!(
        "  herald  R1 {:.2}  R2 {:.2}  RL {:.2}   median {:.3} ms  p95 {:.3} ms  longest {longest} chars",
        100.0 * ours.r1 / n,
        100.0 * ours.r2 / n,
        100.0 * ours.lsum / n,
        quantile(&mut ms.clone(), 0.5),
        quantile(&mut ms, 0.95),
    );
    println!(
        "  LEAD-3  R1 {:.2}  R2 {:.2}  RL {:.2}",
        100.0 * lead.r1 / n,
        100.0 * lead.r2 / n,
        100.0 * lead.lsum / n
    );
    Ok(())
}
