//! Text → the few sentences that carry it.

pub trait Summarizer: Send + Sync {
    fn summarize(&self, title: Option<&str>, text: &str, sentences: usize) -> Vec<String>;
}

#[derive(Debug, Default, Clone)]
pub struct Extractive;

impl Summarizer for Extractive {
    fn summarize(&self, _title: Option<&str>, text: &str, sentences: usize) -> Vec<String> {
        text.split(". ").take(sentences).map(|s| s.trim().to_string()).collect()
    }
}
