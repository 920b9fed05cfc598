//! Evaluation metrics, kept in the library (not only in tests) so the bot's
//! `bench` command and the integration tests measure exactly the same thing.
//!
//! * [`shingle_counts`] / [`ShingleTotals`] reproduce the article-extraction
//!   benchmark's `evaluate.py` (scrapinghub/article-extraction-benchmark):
//!   4-gram shingles of `\w+` tokens, TP/FP/FN normalised per page, precision
//!   and recall averaged over pages, F1 the harmonic mean of the two averages.
//! * [`rouge_n`], [`rouge_l`] and [`rouge_lsum`] follow Google's `rouge-score`
//!   0.1.2 with `use_stemmer=True`: lowercase, tokens `[a-z0-9]+`, tokens longer
//!   than three characters Porter-stemmed (NLTK's extended Porter, as
//!   `rouge-score` uses), F-measure reported.

use std::collections::HashMap;

/// One page's shingle match, normalised so long pages do not outweigh short
/// ones (the benchmark's choice).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PageCounts {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

impl PageCounts {
    /// `None` when the prediction is empty, mirroring the benchmark which leaves
    /// such pages out of the precision average.
    pub fn precision(&self) -> Option<f64> {
        if self.tp + self.fp <= 0.0 {
            return None;
        }
        Some(if self.fp == 0.0 && self.fn_ == 0.0 { 1.0 } else { self.tp / (self.tp + self.fp) })
    }

    /// `None` when the truth is empty (left out of the recall average).
    pub fn recall(&self) -> Option<f64> {
        if self.tp + self.fn_ <= 0.0 {
            return None;
        }
        Some(if self.fp == 0.0 && self.fn_ == 0.0 { 1.0 } else { self.tp / (self.tp + self.fn_) })
    }
}

/// Python's `\w+` with `re.UNICODE`, close enough: letters, digits, `_`.
fn word_tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let w = c.is_alphanumeric() || c == '_';
        match (w, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&text[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

fn shingles(text: &str, n: usize) -> HashMap<Vec<&str>, u32> {
    let toks = word_tokens(text);
    let mut map = HashMap::new();
    if toks.is_empty() {
        return map;
    }
    // The benchmark emits one short shingle when a text has fewer than n tokens.
    let count = toks.len().saturating_sub(n) + 1;
    for i in 0..count.max(1) {
        let end = (i + n).min(toks.len());
        *map.entry(toks[i..end].to_vec()).or_insert(0) += 1;
    }
    map
}

/// The benchmark's per-page TP/FP/FN over 4-gram shingles, normalised to sum 1.
pub fn shingle_counts(truth: &str, pred: &str) -> PageCounts {
    let t = shingles(truth, 4);
    let p = shingles(pred, 4);
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (k, &tc) in &t {
        let pc = p.get(k).copied().unwrap_or(0);
        tp += f64::from(tc.min(pc));
        fn_ += f64::from(tc.saturating_sub(pc));
    }
    for (k, &pc) in &p {
        let tc = t.get(k).copied().unwrap_or(0);
        fp += f64::from(pc.saturating_sub(tc));
    }
    let s = tp + fp + fn_;
    if s > 0.0 {
        PageCounts { tp: tp / s, fp: fp / s, fn_: fn_ / s }
    } else {
        PageCounts::default()
    }
}

/// Corpus figures as the benchmark reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Averages precision and recall over pages, then takes the harmonic mean —
/// not the mean of per-page F1, which is a different (usually lower) number.
pub fn shingle_prf(pages: &[PageCounts]) -> Prf {
    let mean = |v: Vec<f64>| {
        if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
    };
    let precision = mean(pages.iter().filter_map(PageCounts::precision).collect());
    let recall = mean(pages.iter().filter_map(PageCounts::recall).collect());
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Prf { precision, recall, f1 }
}

/// Convenience: the per-page counts and the corpus figures in one call.
pub fn shingle_f1<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Vec<PageCounts>, Prf) {
    let pages: Vec<PageCounts> =
        pairs.into_iter().map(|(truth, pred)| shingle_counts(truth, pred)).collect();
    let prf = shingle_prf(&pages);
    (pages, prf)
}

// ---------------------------------------------------------------- snippets

/// One page under trafilatura's `count_item`: how many of its `with` snippets
/// the output holds (tp) or misses (fn), and how many `without` snippets it
/// holds (fp) or leaves out (tn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemCounts {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
    pub tn: u32,
}

impl ItemCounts {
    /// This page's own F1 (1.0 when there is nothing to find and nothing wrong found).
    pub fn f1(&self) -> f64 {
        let denom = 2 * self.tp + self.fp + self.fn_;
        if denom == 0 { 1.0 } else { f64::from(2 * self.tp) / f64::from(denom) }
    }
}

/// Whitespace runs become one space, ends trimmed: trafilatura's `norm`.
pub fn norm_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// trafilatura's `eval_common.count_item`: whitespace-normalised substring tests.
pub fn count_item<W: AsRef<str>, O: AsRef<str>>(
    with: &[W],
    without: &[O],
    output: &str,
) -> ItemCounts {
    let out = norm_ws(output);
    let found = |s: &str| {
        let n = norm_ws(s);
        !n.is_empty() && out.contains(&n)
    };
    let tp = with.iter().filter(|w| found(w.as_ref())).count() as u32;
    let fp = without.iter().filter(|w| found(w.as_ref())).count() as u32;
    ItemCounts { tp, fp, fn_: with.len() as u32 - tp, tn: without.len() as u32 - fp }
}

/// Precision, recall and F1 over the summed counts, as trafilatura reports them.
pub fn item_prf(pages: &[ItemCounts]) -> Prf {
    let (tp, fp, fn_) = pages.iter().fold((0u64, 0u64, 0u64), |(a, b, c), p| {
        (a + u64::from(p.tp), b + u64::from(p.fp), c + u64::from(p.fn_))
    });
    let ratio = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    Prf {
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
    }
}

/// One page's shingle F1 (0 when either side is empty).
pub fn page_f1(c: &PageCounts) -> f64 {
    match (c.precision(), c.recall()) {
        (Some(p), Some(r)) if p + r > 0.0 => 2.0 * p * r / (p + r),
        _ => 0.0,
    }
}

// ---------------------------------------------------------------- ROUGE

/// `rouge-score`'s tokenizer with stemming on.
pub fn rouge_tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    for t in &mut out {
        if t.len() > 3 {
            *t = porter_stem(t);
        }
    }
    out
}

fn f_measure(overlap: f64, pred_total: f64, ref_total: f64) -> f64 {
    let p = if pred_total > 0.0 { overlap / pred_total } else { 0.0 };
    let r = if ref_total > 0.0 { overlap / ref_total } else { 0.0 };
    if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 }
}

/// ROUGE-N F-measure (clipped n-gram overlap).
pub fn rouge_n(reference: &str, prediction: &str, n: usize) -> f64 {
    let n = n.max(1);
    let grams = |toks: &[String]| {
        let mut m: HashMap<Vec<String>, u32> = HashMap::new();
        if toks.len() >= n {
            for w in toks.windows(n) {
                *m.entry(w.to_vec()).or_insert(0) += 1;
            }
        }
        m
    };
    let r = grams(&rouge_tokens(reference));
    let p = grams(&rouge_tokens(prediction));
    let overlap: u32 = r.iter().map(|(k, &c)| c.min(p.get(k).copied().unwrap_or(0))).sum();
    let rt: u32 = r.values().sum();
    let pt: u32 = p.values().sum();
    f_measure(f64::from(overlap), f64::from(pt), f64::from(rt))
}

fn lcs_table(a: &[String], b: &[String]) -> Vec<Vec<u32>> {
    let mut t = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            t[i][j] = if a[i - 1] == b[j - 1] {
                t[i - 1][j - 1] + 1
            } else {
                t[i - 1][j].max(t[i][j - 1])
            };
        }
    }
    t
}

/// ROUGE-L over the whole text as one sequence (`rougeL` in `rouge-score`):
/// newlines carry no meaning here.
pub fn rouge_l(reference: &str, prediction: &str) -> f64 {
    let r = rouge_tokens(reference);
    let p = rouge_tokens(prediction);
    if r.is_empty() || p.is_empty() {
        return 0.0;
    }
    let lcs = lcs_table(&r, &p)[r.len()][p.len()];
    f_measure(f64::from(lcs), p.len() as f64, r.len() as f64)
}

/// Indices into `r` of one LCS with `c`, backtracked the way `rouge-score` does
/// so ties resolve identically.
fn lcs_indices(r: &[String], c: &[String]) -> Vec<usize> {
    let t = lcs_table(r, c);
    let (mut i, mut j) = (r.len(), c.len());
    let mut out = Vec::new();
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            out.push(i - 1);
            i -= 1;
            j -= 1;
        } else if t[i][j - 1] > t[i - 1][j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    out.reverse();
    out
}

/// Summary-level ROUGE-L (`rougeLsum`): sentences are the non-empty lines; each
/// reference sentence takes the union of its LCS with every predicted sentence,
/// with hits clipped by token counts.
pub fn rouge_lsum(reference: &str, prediction: &str) -> f64 {
    let sents = |s: &str| -> Vec<Vec<String>> {
        s.split('\n').filter(|l| !l.is_empty()).map(rouge_tokens).collect()
    };
    let rs = sents(reference);
    let ps = sents(prediction);
    let m: usize = rs.iter().map(Vec::len).sum();
    let n: usize = ps.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return 0.0;
    }
    let mut rc: HashMap<&str, u32> = HashMap::new();
    for t in rs.iter().flatten() {
        *rc.entry(t).or_insert(0) += 1;
    }
    let mut pc: HashMap<&str, u32> = HashMap::new();
    for t in ps.iter().flatten() {
        *pc.entry(t).or_insert(0) += 1;
    }
    let mut hits = 0u32;
    for r in &rs {
        let mut union: Vec<usize> = ps.iter().flat_map(|p| lcs_indices(r, p)).collect();
        union.sort_unstable();
        union.dedup();
        for i in union {
            let t = r[i].as_str();
            let (Some(a), Some(b)) = (rc.get(t).copied(), pc.get(t).copied()) else {
                continue;
            };
            if a > 0 && b > 0 {
                hits += 1;
                rc.insert(t, a - 1);
                pc.insert(t, b - 1);
            }
        }
    }
    f_measure(f64::from(hits), n as f64, m as f64)
}

/// ROUGE-1, ROUGE-2 and ROUGE-Lsum F-measures for one summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rouge {
    pub r1: f64,
    pub r2: f64,
    pub lsum: f64,
}

/// Scores a summary given as sentences against reference sentences, both
/// joined with `\n` as the benchmark's SOURCE.txt prescribes.
pub fn rouge_all<R: AsRef<str>, P: AsRef<str>>(reference: &[R], prediction: &[P]) -> Rouge {
    let r = reference.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join("\n");
    let p = prediction.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join("\n");
    Rouge { r1: rouge_n(&r, &p, 1), r2: rouge_n(&r, &p, 2), lsum: rouge_lsum(&r, &p) }
}

// ---------------------------------------------------------------- Porter

fn is_cons(w: &[u8], i: usize) -> bool {
    match w[i] {
        b'a' | b'e' | b'i' | b'o' | b'u' => false,
        b'y' => i == 0 || !is_cons(w, i - 1),
        _ => true,
    }
}

/// Porter's m: the number of VC sequences.
fn measure(w: &[u8]) -> usize {
    let mut m = 0;
    let mut prev_vowel = false;
    for i in 0..w.len() {
        let c = is_cons(w, i);
        if c && prev_vowel {
            m += 1;
        }
        prev_vowel = !c;
    }
    m
}

fn has_vowel(w: &[u8]) -> bool {
    (0..w.len()).any(|i| !is_cons(w, i))
}

fn ends_double_cons(w: &[u8]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_cons(w, n - 1)
}

/// `*o`, with NLTK's extension for two-letter stems.
fn ends_cvc(w: &[u8]) -> bool {
    let n = w.len();
    (n >= 3
        && is_cons(w, n - 3)
        && !is_cons(w, n - 2)
        && is_cons(w, n - 1)
        && !matches!(w[n - 1], b'w' | b'x' | b'y'))
        || (n == 2 && !is_cons(w, 0) && is_cons(w, 1))
}

/// Replaces `suffix` (known to be present) by `rep`.
fn swap(w: &[u8], suffix: &str, rep: &str) -> Vec<u8> {
    let mut v = w[..w.len() - suffix.len()].to_vec();
    v.extend_from_slice(rep.as_bytes());
    v
}

/// First rule whose suffix matches decides, as in NLTK: if its condition
/// fails the word is left alone.
fn apply_rules(w: Vec<u8>, rules: &[(&str, &str)], min_m: usize) -> Vec<u8> {
    for (suf, rep) in rules {
        if w.ends_with(suf.as_bytes()) {
            let stem = &w[..w.len() - suf.len()];
            return if measure(stem) > min_m { swap(&w, suf, rep) } else { w };
        }
    }
    w
}

fn step1a(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"ies") && w.len() == 4 {
        return swap(&w, "ies", "ie");
    }
    for (s, r) in [("sses", "ss"), ("ies", "i"), ("ss", "ss"), ("s", "")] {
        if w.ends_with(s.as_bytes()) {
            return swap(&w, s, r);
        }
    }
    w
}

fn step1b(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"ied") {
        return if w.len() == 4 { swap(&w, "ied", "ie") } else { swap(&w, "ied", "i") };
    }
    if w.ends_with(b"eed") {
        let stem = &w[..w.len() - 3];
        return if measure(stem) > 0 { swap(&w, "eed", "ee") } else { w };
    }
    let mut stem = None;
    for s in ["ed", "ing"] {
        if w.ends_with(s.as_bytes()) {
            let st = &w[..w.len() - s.len()];
            if has_vowel(st) {
                stem = Some(st.to_vec());
            }
            break;
        }
    }
    let Some(st) = stem else { return w };
    for (s, r) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if st.ends_with(s.as_bytes()) {
            return swap(&st, s, r);
        }
    }
    if ends_double_cons(&st) && !matches!(st[st.len() - 1], b'l' | b's' | b'z') {
        return st[..st.len() - 1].to_vec();
    }
    if measure(&st) == 1 && ends_cvc(&st) {
        let mut v = st;
        v.push(b'e');
        return v;
    }
    st
}

fn step1c(mut w: Vec<u8>) -> Vec<u8> {
    let n = w.len();
    if n > 2 && w[n - 1] == b'y' && is_cons(&w, n - 2) {
        w[n - 1] = b'i';
    }
    w
}

fn step2(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"alli") && measure(&w[..w.len() - 4]) > 0 {
        return step2(swap(&w, "alli", "al"));
    }
    if w.ends_with(b"logi") {
        // NLTK checks the measure of the word minus "ogi"... i.e. keeps the "l".
        return if measure(&w[..w.len() - 3]) > 0 { swap(&w, "logi", "log") } else { w };
    }
    const RULES: &[(&str, &str)] = &[
        ("ational", "ate"),
        ("tional", "tion"),
        ("enci", "ence"),
        ("anci", "ance"),
        ("izer", "ize"),
        ("bli", "ble"),
        ("alli", "al"),
        ("entli", "ent"),
        ("eli", "e"),
        ("ousli", "ous"),
        ("ization", "ize"),
        ("ation", "ate"),
        ("ator", "ate"),
        ("alism", "al"),
        ("iveness", "ive"),
        ("fulness", "ful"),
        ("ousness", "ous"),
        ("aliti", "al"),
        ("iviti", "ive"),
        ("biliti", "ble"),
        ("fulli", "ful"),
        ("lessli", "less"),
    ];
    apply_rules(w, RULES, 0)
}

fn step3(w: Vec<u8>) -> Vec<u8> {
    const RULES: &[(&str, &str)] = &[
        ("icate", "ic"),
        ("ative", ""),
        ("alize", "al"),
        ("iciti", "ic"),
        ("ical", "ic"),
        ("ful", ""),
        ("ness", ""),
    ];
    apply_rules(w, RULES, 0)
}

fn step4(w: Vec<u8>) -> Vec<u8> {
    const SUFFIXES: &[&str] = &[
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
        "ou", "ism", "ate", "iti", "ous", "ive", "ize",
    ];
    for suf in SUFFIXES {
        if w.ends_with(suf.as_bytes()) {
            let stem = &w[..w.len() - suf.len()];
            let ok =
                measure(stem) > 1 && (*suf != "ion" || matches!(stem.last(), Some(b's' | b't')));
            return if ok { stem.to_vec() } else { w };
        }
    }
    w
}

fn step5(mut w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"e") {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            w.pop();
        }
    }
    if w.ends_with(b"ll") && measure(&w[..w.len() - 1]) > 1 {
        w.pop();
    }
    w
}

/// NLTK's Porter stemmer in its default `NLTK_EXTENSIONS` mode, which is what
/// `rouge-score` calls; ASCII lowercase input only (other input is returned
/// unchanged, as it cannot come out of [`rouge_tokens`]).
pub fn porter_stem(word: &str) -> String {
    if !word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return word.to_string();
    }
    let irregular = match word {
        "skies" => Some("sky"),
        "sky" => Some("sky"),
        "dying" => Some("die"),
        "lying" => Some("lie"),
        "tying" => Some("tie"),
        "news" => Some("news"),
        "innings" | "inning" => Some("inning"),
        "outings" | "outing" => Some("outing"),
        "cannings" | "canning" => Some("canning"),
        "howe" => Some("howe"),
        "proceed" => Some("proceed"),
        "exceed" => Some("exceed"),
        "succeed" => Some("succeed"),
        _ => None,
    };
    if let Some(s) = irregular {
        return s.to_string();
    }
    if word.len() <= 2 {
        return word.to_string();
    }
    let w = word.as_bytes().to_vec();
    let w = step5(step4(step3(step2(step1c(step1b(step1a(w)))))));
    // Only ASCII bytes were ever pushed, so this cannot fail; fall back anyway.
    String::from_utf8(w).unwrap_or_else(|_| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porter_known_stems() {
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("generalization", "gener"),
            ("running", "run"),
            ("controlling", "control"),
            ("adjustment", "adjust"),
            ("earthquake", "earthquak"),
            ("survivors", "survivor"),
        ] {
            assert_eq!(porter_stem(w), s, "{w}");
        }
    }

    #[test]
    fn shingle_perfect_and_disjoint() {
        let t = "one two three four five six";
        let c = shingle_counts(t, t);
        assert_eq!(c.precision(), Some(1.0));
        let c = shingle_counts(t, "alpha beta gamma delta");
        assert_eq!(c.precision(), Some(0.0));
        assert_eq!(c.recall(), Some(0.0));
        let c = shingle_counts(t, "");
        assert_eq!(c.precision(), None);
    }

    #[test]
    fn shingle_prf_averages_per_page() {
        let (_, prf) = shingle_f1([("a b c d e", "a b c d e"), ("a b c d e", "x y z w v")]);
        assert!((prf.precision - 0.5).abs() < 1e-9);
        assert!((prf.recall - 0.5).abs() < 1e-9);
    }

    #[test]
    fn count_item_matches_trafilatura() {
        let out = "First   paragraph here.\n\nSecond one, with\na break.";
        let c = count_item(
            &["First paragraph here.", "Second one, with a break.", "Missing text"],
            &["Share this", "paragraph here. Second"],
            out,
        );
        assert_eq!(c, ItemCounts { tp: 2, fp: 1, fn_: 1, tn: 1 });
        let prf = item_prf(&[c, ItemCounts { tp: 2, fp: 0, fn_: 0, tn: 2 }]);
        assert!((prf.precision - 0.8).abs() < 1e-9 && (prf.recall - 0.8).abs() < 1e-9);
        assert!((c.f1() - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn rouge_identity_and_partial() {
        assert!((rouge_n("The cat sat.", "the cat sat", 1) - 1.0).abs() < 1e-9);
        let r = rouge_n("the cat sat on the mat", "the cat lay on a mat", 1);
        assert!(r > 0.6 && r < 0.7, "{r}");
        assert_eq!(rouge_n("a b", "c d", 2), 0.0);
        let l = rouge_l("the cat sat on the mat", "the cat on mat");
        assert!((l - 0.8).abs() < 1e-9, "{l}");
        let ls = rouge_lsum("the cat sat\non the mat", "the cat sat\non the mat");
        assert!((ls - 1.0).abs() < 1e-9);
    }
}
