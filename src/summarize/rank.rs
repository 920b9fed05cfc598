//! Sentence scoring. News puts its point first, so position is the strongest
//! single signal (that is why LEAD-3 is hard to beat); centrality (how much of
//! the document's vocabulary a sentence shares) and overlap with the title
//! pull in later sentences that carry the story better than a scene-setting
//! lede.

use std::collections::{HashMap, HashSet};

/// Weights of the three signals; see [`crate::summarize::Extractive`].
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub position: f64,
    pub centrality: f64,
    pub title: f64,
    /// Sentences this far into the text score half the position weight.
    pub position_half_life: f64,
}

type Vector = HashMap<usize, f64>;

fn norm(v: &Vector) -> f64 {
    v.values().map(|x| x * x).sum::<f64>().sqrt()
}

/// Cosine of a sentence vector with the centroid, whose norm is computed once by the
/// caller: recomputing it per sentence made scoring quadratic in the sentence count.
fn cosine_with(a: &Vector, centroid: &Vector, centroid_norm: f64) -> f64 {
    let dot: f64 = a.iter().filter_map(|(k, x)| centroid.get(k).map(|y| x * y)).sum();
    let n = norm(a) * centroid_norm;
    if n > 0.0 { dot / n } else { 0.0 }
}

/// Scores every sentence; `terms[i]` are sentence i's stemmed content words,
/// `rank[i]` its position among summary-worthy sentences.
pub fn score(terms: &[Vec<String>], rank: &[usize], title: &[String], w: &Weights) -> Vec<f64> {
    let n = terms.len();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut df: Vec<f64> = Vec::new();
    let mut docs: Vec<Vec<usize>> = Vec::with_capacity(n);
    for t in terms {
        let mut doc = Vec::with_capacity(t.len());
        let mut seen = HashSet::new();
        for term in t {
            let next = ids.len();
            let id = *ids.entry(term.as_str()).or_insert(next);
            if id == df.len() {
                df.push(0.0);
            }
            if seen.insert(id) {
                df[id] += 1.0;
            }
            doc.push(id);
        }
        docs.push(doc);
    }
    let nf = n.max(1) as f64;
    let vecs: Vec<Vector> = docs
        .iter()
        .map(|d| {
            let mut v = Vector::new();
            for &id in d {
                *v.entry(id).or_insert(0.0) += 1.0;
            }
            for (id, x) in v.iter_mut() {
                *x = (1.0 + x.ln()) * (1.0 + (nf / df[*id]).ln());
            }
            v
        })
        .collect();
    let mut centroid = Vector::new();
    for v in &vecs {
        for (k, x) in v {
            *centroid.entry(*k).or_insert(0.0) += x;
        }
    }
    let centroid_norm = norm(&centroid);
    let title_ids: HashSet<usize> =
        title.iter().filter_map(|t| ids.get(t.as_str()).copied()).collect();
    (0..n)
        .map(|i| {
            let pos = w.position_half_life / (w.position_half_life + rank[i] as f64);
            let cent = cosine_with(&vecs[i], &centroid, centroid_norm);
            let tit = if title_ids.is_empty() {
                0.0
            } else {
                let hit = docs[i]
                    .iter()
                    .collect::<HashSet<_>>()
                    .iter()
                    .filter(|id| title_ids.contains(id))
                    .count();
                hit as f64 / title_ids.len() as f64
            };
            w.position * pos + w.centrality * cent + w.title * tit
        })
        .collect()
}

/// Share of the smaller term set found in the other: high when one sentence
/// restates another, whatever their lengths.
pub fn overlap(a: &[String], b: &[String]) -> f64 {
    let sa: HashSet<&str> = a.iter().map(String::as_str).collect();
    let sb: HashSet<&str> = b.iter().map(String::as_str).collect();
    let small = sa.len().min(sb.len());
    if small == 0 {
        return 0.0;
    }
    sa.intersection(&sb).count() as f64 / small as f64
}
