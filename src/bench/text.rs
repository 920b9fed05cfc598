//! `herald bench extract` and `herald bench summarize`: quality and speed on the dev
//! data sets, with the anchors (plain dom_smoothie, LEAD-3) measured in the same run.

use std::collections::HashMap;
use std::io::Write;
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

/// One annotated page of either extraction dev set.
pub struct Page {
    pub id: String,
    /// `None` when the set gives a file name rather than an address.
    pub url: Option<String>,
    pub html: String,
    pub truth: Truth,
}

pub enum Truth {
    /// extraction-dev: the article body, scored by 4-gram shingles.
    Body(String),
    /// extraction-dev-traf: snippets that must (`with`) and must not (`without`) appear.
    Snippets { with: Vec<String>, without: Vec<String> },
}

impl Truth {
    /// Characters of the expected text (for snippets: of the `with` snippets).
    pub fn chars(&self) -> usize {
        match self {
            Truth::Body(t) => t.chars().count(),
            Truth::Snippets { with, .. } => with.iter().map(|s| s.chars().count()).sum(),
        }
    }
}

/// A page's score under its set's metric, kept in the form the corpus figure sums.
#[derive(Clone, Copy)]
pub enum PageScore {
    Shingles(score::PageCounts),
    Items(score::ItemCounts),
}

impl PageScore {
    pub fn f1(&self) -> f64 {
        match self {
            PageScore::Shingles(c) => score::page_f1(c),
            PageScore::Items(c) => c.f1(),
        }
    }
}

pub fn score_page(truth: &Truth, output: &str) -> PageScore {
    match truth {
        Truth::Body(t) => PageScore::Shingles(score::shingle_counts(t, output)),
        Truth::Snippets { with, without } => {
            PageScore::Items(score::count_item(with, without, output))
        }
    }
}

/// The corpus figure of a set, each under its own metric.
pub fn corpus_prf(scores: &[PageScore]) -> score::Prf {
    let shingles: Vec<score::PageCounts> = scores
        .iter()
        .filter_map(|s| if let PageScore::Shingles(c) = s { Some(*c) } else { None })
        .collect();
    let items: Vec<score::ItemCounts> = scores
        .iter()
        .filter_map(|s| if let PageScore::Items(c) = s { Some(*c) } else { None })
        .collect();
    if items.is_empty() { score::shingle_prf(&shingles) } else { score::item_prf(&items) }
}

fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .with_context(|| format!("{}: not gzip'd UTF-8", path.display()))?;
        return Ok(out);
    }
    String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8", path.display()))
}

fn parse_jsonl(path: &Path) -> anyhow::Result<Vec<Value>> {
    read_text(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("{}", path.display())))
        .collect()
}

/// The two extraction dev sets under `data`: (name, pages).
pub fn load_extraction_sets(data: &Path) -> anyhow::Result<Vec<(&'static str, Vec<Page>)>> {
    let mut sets = Vec::new();
    for (name, pages_file) in
        [("extraction-dev", "pages.jsonl"), ("extraction-dev-traf", "pages.jsonl.gz")]
    {
        let dir = data.join(name);
        let truth_rows = parse_jsonl(&dir.join("truth.jsonl"))?;
        let mut truth: HashMap<String, Truth> = truth_rows
            .iter()
            .map(|t| {
                let truth = match t.get("text").and_then(Value::as_str) {
                    Some(text) => Truth::Body(text.to_string()),
                    None => Truth::Snippets {
                        with: str_list(t, "with"),
                        without: str_list(t, "without"),
                    },
                };
                (field(t, "id").to_string(), truth)
            })
            .collect();
        let mut pages = Vec::new();
        for p in parse_jsonl(&dir.join(pages_file))? {
            let id = field(&p, "id").to_string();
            let truth =
                truth.remove(&id).with_context(|| format!("{name}: page {id} has no truth row"))?;
            // trafilatura's set names files, not addresses ("hard::site.html").
            let url = Some(field(&p, "url"))
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .map(str::to_string);
            pages.push(Page { id, url, html: field(&p, "html").to_string(), truth });
        }
        sets.push((name, pages));
    }
    Ok(sets)
}

/// Folds for cross-validation: every fifth page, by position.
const FOLDS: usize = 5;

/// Extraction quality on both dev sets, each under its own metric, for herald and plain
/// dom_smoothie; the selection's cross-validated figure; ms per page; and every page with
/// a clear article (truth ≥ 500 chars) where herald scores F1 < 0.5.
pub fn extract_bench(data: &Path) -> anyhow::Result<()> {
    let sets = load_extraction_sets(data)?;
    let grid = extract::Choice::grid();
    let mut all_ms = Vec::new();
    // Per set: per page, the score of each grid point's choice.
    let mut per_grid: Vec<Vec<Vec<PageScore>>> = Vec::new();
    // For studying the choice page by page: one JSON line per page and candidate scores.
    let mut dump = match std::env::var_os("HERALD_BENCH_PAGES") {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(&p)?)),
        None => None,
    };
    for (name, pages) in &sets {
        let (mut ours, mut base) = (Vec::new(), Vec::new());
        let (mut ours_ms, mut base_ms) = (Vec::new(), Vec::new());
        let mut grid_scores = Vec::new();
        let mut failures = Vec::new();
        for page in pages {
            let url = page.url.as_deref();
            let t = Instant::now();
            let text = extract::extract(&page.html, url).map(|x| x.text).unwrap_or_default();
            ours_ms.push(millis(t));
            let s = score_page(&page.truth, &text);
            if s.f1() < 0.5 && page.truth.chars() >= 500 {
                failures.push(format!("{} ({:.2})", page.id, s.f1()));
            }
            ours.push(s);

            let t = Instant::now();
            let cfg = dom_smoothie::Config {
                text_mode: dom_smoothie::TextMode::Formatted,
                ..Default::default()
            };
            let plain = dom_smoothie::Readability::new(page.html.as_str(), url, Some(cfg))
                .and_then(|mut r| r.parse())
                .map(|a| a.text_content.to_string())
                .unwrap_or_default();
            base_ms.push(millis(t));
            base.push(score_page(&page.truth, &plain));

            // Each candidate is scored once; a grid point only picks among them.
            let row = match extract::analyse(&page.html, url) {
                Ok(a) => {
                    let cand: Vec<PageScore> = (0..a.candidates.len())
                        .map(|i| score_page(&page.truth, &a.text(i)))
                        .collect();
                    if let Some(d) = dump.as_mut() {
                        let cands: Vec<Value> = a
                            .candidates
                            .iter()
                            .zip(&cand)
                            .map(|(c, s)| {
                                serde_json::json!({"kind": format!("{:?}", c.kind), "f1": s.f1(),
                                    "chars": c.chars, "prose": c.prose})
                            })
                            .collect();
                        let chosen = a
                            .choose(&extract::Choice::default())
                            .map(|i| format!("{:?}", a.candidates[i].kind));
                        let line = serde_json::json!({"set": name, "id": page.id, "truth_chars": page.truth.chars(),
                            "herald": ours.last().map(PageScore::f1), "smoothie": base.last().map(PageScore::f1),
                            "chosen": chosen, "candidates": cands,
                            "texts": a.candidates.iter().enumerate().map(|(i, c)| (format!("{:?}", c.kind), a.text(i))).collect::<HashMap<_, _>>()});
                        writeln!(d, "{line}")?;
                    }
                    let empty = score_page(&page.truth, "");
                    grid.iter()
                        .map(|g| a.choose(g).and_then(|i| cand.get(i).copied()).unwrap_or(empty))
                        .collect()
                }
                Err(_) => vec![score_page(&page.truth, ""); grid.len()],
            };
            grid_scores.push(row);
        }
        println!("{name}: {} pages ({})", pages.len(), metric_name(&ours));
        for (label, scores, ms) in
            [("herald", &ours, &mut ours_ms), ("dom_smoothie", &base, &mut base_ms)]
        {
            let prf = corpus_prf(scores);
            println!(
                "  {label:<13} P {:.3}  R {:.3}  F1 {:.3}   median {:.2} ms  p95 {:.2} ms",
                prf.precision,
                prf.recall,
                prf.f1,
                quantile(ms, 0.5),
                quantile(ms, 0.95)
            );
        }
        println!(
            "  pages with a clear article (truth >= 500 chars) and herald F1 < 0.5: {}",
            if failures.is_empty() { "none".to_string() } else { failures.join(", ") }
        );
        all_ms.extend(ours_ms);
        per_grid.push(grid_scores);
    }
    print_folds(&sets, &per_grid, &grid);
    println!(
        "all {} pages: herald median {:.2} ms  p95 {:.2} ms",
        all_ms.len(),
        quantile(&mut all_ms.clone(), 0.5),
        quantile(&mut all_ms, 0.95)
    );
    Ok(())
}

fn metric_name(scores: &[PageScore]) -> &'static str {
    match scores.first() {
        Some(PageScore::Items(_)) => "snippet F1 over summed counts, trafilatura's count_item",
        _ => "4-gram shingle F1, as the benchmark scores it",
    }
}

/// The mean of both sets' F1 when page `i` of set `s` is scored with grid point `g`
/// and only pages for which `keep(s, i)` holds count.
fn objective(
    per_grid: &[Vec<Vec<PageScore>>],
    g: usize,
    keep: &dyn Fn(usize, usize) -> bool,
) -> f64 {
    let mut sum = 0.0;
    for (s, pages) in per_grid.iter().enumerate() {
        let scores: Vec<PageScore> =
            pages.iter().enumerate().filter(|(i, _)| keep(s, *i)).map(|(_, row)| row[g]).collect();
        sum += corpus_prf(&scores).f1;
    }
    sum / per_grid.len().max(1) as f64
}

fn best_grid_point(
    per_grid: &[Vec<Vec<PageScore>>],
    n: usize,
    keep: &dyn Fn(usize, usize) -> bool,
) -> usize {
    (0..n)
        .max_by(|&a, &b| {
            objective(per_grid, a, keep).total_cmp(&objective(per_grid, b, keep)).then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// The choice's tunable thresholds are picked on four fifths of the pages (of both
/// sets) and scored on the fifth left out; the held-out scores of the five folds are
/// pooled. Beside it: the default (shipped) thresholds on all pages, and tuning on one
/// set then testing on the other.
fn print_folds(
    sets: &[(&'static str, Vec<Page>)],
    per_grid: &[Vec<Vec<PageScore>>],
    grid: &[extract::Choice],
) {
    let n = grid.len();
    let shipped = grid.iter().position(|g| *g == extract::Choice::default()).unwrap_or(0);
    println!(
        "selection thresholds, {n} settings tried ({FOLDS}-fold cross-validation, folds by page position):"
    );
    for (s, (name, _)) in sets.iter().enumerate() {
        let mut held_out = Vec::new();
        for fold in 0..FOLDS {
            let g = best_grid_point(per_grid, n, &|_, i| i % FOLDS != fold);
            held_out.extend(
                per_grid[s]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % FOLDS == fold)
                    .map(|(_, r)| r[g]),
            );
        }
        let shipped_scores: Vec<PageScore> = per_grid[s].iter().map(|r| r[shipped]).collect();
        let best_all = best_grid_point(per_grid, n, &|_, _| true);
        let in_sample: Vec<PageScore> = per_grid[s].iter().map(|r| r[best_all]).collect();
        let other = best_grid_point(per_grid, n, &|t, _| t != s);
        let cross_set: Vec<PageScore> = per_grid[s].iter().map(|r| r[other]).collect();
        println!(
            "  {name:<20} shipped F1 {:.3}  tuned in-sample {:.3}  cross-fold {:.3}  tuned on the other set {:.3}",
            corpus_prf(&shipped_scores).f1,
            corpus_prf(&in_sample).f1,
            corpus_prf(&held_out).f1,
            corpus_prf(&cross_set).f1,
        );
    }
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
