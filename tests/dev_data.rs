//! Regression floors on the shared dev data. The floors sit slightly under
//! the figures recorded in NOTES.md so a real regression fails while noise
//! from harmless refactors does not.

use std::collections::HashMap;

use herald::summarize::{Extractive, Summarizer};
use herald::{extract, score};
use serde_json::Value;

const EXTRACTION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/extraction-dev");
const SUMMARIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/summaries-dev");

fn read_jsonl(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn extraction_f1_floor() {
    let pages = read_jsonl(&format!("{EXTRACTION}/pages.jsonl"));
    let truth = read_jsonl(&format!("{EXTRACTION}/truth.jsonl"));
    let truth: HashMap<&str, &str> =
        truth.iter().map(|t| (field(t, "id"), field(t, "text"))).collect();
    assert_eq!(pages.len(), truth.len());
    let outputs: Vec<(String, String)> = pages
        .iter()
        .map(|p| {
            let text = extract::extract(field(p, "html"), Some(field(p, "url")))
                .map(|e| e.text)
                .unwrap_or_default();
            (truth.get(field(p, "id")).copied().unwrap_or("").to_string(), text)
        })
        .collect();
    let (_, prf) = score::shingle_f1(outputs.iter().map(|(t, p)| (t.as_str(), p.as_str())));
    eprintln!("extraction P={:.4} R={:.4} F1={:.4}", prf.precision, prf.recall, prf.f1);
    assert!(prf.f1 >= 0.970, "F1 {:.4} under floor", prf.f1);
    assert!(prf.precision >= 0.965, "precision {:.4} under floor", prf.precision);
    assert!(prf.recall >= 0.975, "recall {:.4} under floor", prf.recall);
}

#[test]
fn summaries_beat_lead3_and_fit_chat() {
    let docs = read_jsonl(&format!("{SUMMARIES}/docs.jsonl"));
    let refs = read_jsonl(&format!("{SUMMARIES}/refs.jsonl"));
    let refs: HashMap<&str, Vec<&str>> = refs
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
    let herald = Extractive::default();
    let (mut h, mut l) = (score::Rouge::default(), score::Rouge::default());
    for d in &docs {
        let text = field(d, "text");
        let reference = refs.get(field(d, "id")).cloned().unwrap_or_default();
        let summary = herald.summarize(d.get("title").and_then(Value::as_str), text, 3);
        assert!(!summary.is_empty() && summary.len() <= 3);
        assert!(summary.join(" ").chars().count() <= 600, "{summary:?}");
        for s in &summary {
            assert!(text.contains(s.as_str()), "not a whole source sentence: {s}");
        }
        let lead3: Vec<&str> = text.lines().take(3).collect();
        for (acc, x) in [
            (&mut h, score::rouge_all(&reference, &summary)),
            (&mut l, score::rouge_all(&reference, &lead3)),
        ] {
            acc.r1 += x.r1;
            acc.r2 += x.r2;
            acc.lsum += x.lsum;
        }
    }
    let n = docs.len() as f64;
    let (r1, r2, rl) = (100.0 * h.r1 / n, 100.0 * h.r2 / n, 100.0 * h.lsum / n);
    let lead_r1 = 100.0 * l.r1 / n;
    eprintln!("herald R1={r1:.2} R2={r2:.2} RLsum={rl:.2}; LEAD-3 R1={lead_r1:.2}");
    assert!(r1 > lead_r1, "herald R1 {r1:.2} does not beat LEAD-3 {lead_r1:.2}");
    assert!(r1 >= 41.8, "ROUGE-1 {r1:.2} under floor");
    assert!(r2 >= 17.8, "ROUGE-2 {r2:.2} under floor");
    assert!(rl >= 37.8, "ROUGE-Lsum {rl:.2} under floor");
}
