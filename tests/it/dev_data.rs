//! Regression floors on the shared dev data. The floors sit slightly under
//! the figures recorded in the README so a real regression fails while noise
//! from harmless refactors does not. Extraction is scored by the same code as
//! `herald bench extract` (each set with its own metric).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use herald::bench::text::{self, PageScore};
use herald::summarize::{Extractive, Summarizer};
use herald::{extract, score};
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
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

/// herald's score on every page of both extraction dev sets, computed once for all tests.
struct SetResult {
    name: &'static str,
    scores: Vec<PageScore>,
    /// (page id, truth chars) per page, in the order of `scores`.
    pages: Vec<(String, usize)>,
}

fn extraction_results() -> &'static [SetResult] {
    static RESULTS: OnceLock<Vec<SetResult>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let sets = text::load_extraction_sets(Path::new(DATA)).expect("extraction dev sets");
        sets.into_iter()
            .map(|(name, pages)| {
                let scores = pages
                    .iter()
                    .map(|p| {
                        let out = extract::extract(&p.html, p.url.as_deref())
                            .map(|e| e.text)
                            .unwrap_or_default();
                        text::score_page(&p.truth, &out)
                    })
                    .collect();
                let pages = pages.iter().map(|p| (p.id.clone(), p.truth.chars())).collect();
                SetResult { name, scores, pages }
            })
            .collect()
    })
}

#[test]
fn extraction_f1_floors() {
    let results = extraction_results();
    assert_eq!(results.len(), 2);
    for set in results {
        let prf = text::corpus_prf(&set.scores);
        eprintln!(
            "{}: {} pages P={:.4} R={:.4} F1={:.4}",
            set.name,
            set.scores.len(),
            prf.precision,
            prf.recall,
            prf.f1
        );
        // (F1, precision, recall) floors, a little under the figures in the README.
        let (f1, p, r) = match set.name {
            "extraction-dev" => (0.973, 0.966, 0.979),
            _ => (0.933, 0.918, 0.948),
        };
        assert!(prf.f1 >= f1, "{}: F1 {:.4} under floor {f1}", set.name, prf.f1);
        assert!(prf.precision >= p, "{}: precision {:.4} under floor {p}", set.name, prf.precision);
        assert!(prf.recall >= r, "{}: recall {:.4} under floor {r}", set.name, prf.recall);
    }
}

/// A page with a clear article (≥ 500 characters of expected text) must never come
/// out as something else: a tag line, the comments, a menu.
#[test]
fn no_extraction_catastrophes() {
    let mut bad = Vec::new();
    for set in extraction_results() {
        for (score, (id, chars)) in set.scores.iter().zip(&set.pages) {
            if *chars >= 500 && score.f1() < 0.5 {
                bad.push(format!(
                    "{} {id}: F1 {:.2} ({chars} chars expected)",
                    set.name,
                    score.f1()
                ));
            }
        }
    }
    assert!(bad.is_empty(), "pages where extraction failed:\n{}", bad.join("\n"));
}

/// Pages of the trafilatura set where Readability's text misses the article (its
/// snippet F1 is 0) and the safety net must take a longer candidate instead.
#[test]
fn safety_net_rescues_pages_readability_misses() {
    let sets = text::load_extraction_sets(Path::new(DATA)).expect("extraction dev sets");
    let traf = &sets.iter().find(|(n, _)| *n == "extraction-dev-traf").expect("traf set").1;
    for id in ["0118", "0442", "0634"] {
        let page = traf.iter().find(|p| p.id == id).expect("page");
        let a = extract::analyse(&page.html, page.url.as_deref()).expect("candidates");
        let readability = a
            .candidates
            .iter()
            .find(|c| c.kind == extract::Kind::Readability)
            .map(|c| text::score_page(&page.truth, &c.text).f1())
            .unwrap_or(0.0);
        let chosen = a.choose(&extract::Choice::default()).expect("a choice");
        let chosen_f1 = text::score_page(&page.truth, &a.text(chosen)).f1();
        assert!(
            chosen_f1 >= 0.6 && chosen_f1 > readability,
            "page {id}: chose {:?} (F1 {chosen_f1:.2}), Readability alone {readability:.2}",
            a.candidates[chosen].kind
        );
    }
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
