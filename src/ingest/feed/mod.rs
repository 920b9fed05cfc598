//! herald's own feed reader: bytes → a neutral model of a feed, recovering from the
//! damage real feeds carry, the way feedparser does (see ARCHITECTURE.md, "Feed parsing").
//! `parse.rs` turns this model into `ParsedFeed` (keys, text, links).

pub mod build;
pub mod date;
pub mod decode;
pub mod entities;
pub mod html;
pub mod json;
pub mod xml;

use chrono::{DateTime, Utc};

/// How a text construct's value is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Html,
}

/// A text construct: a plain string, or HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub value: String,
    pub kind: Kind,
}

/// One entry as read, before herald derives its key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEntry {
    pub id: Option<String>,
    pub title: Option<Text>,
    pub link: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub content: Option<Text>,
    pub summary: Option<Text>,
    pub image: Option<String>,
    /// RSS `<category>`, Atom `<category term>`, `dc:subject`, JSON Feed `tags`.
    pub categories: Vec<String>,
}

/// Most categories kept per entry, and their longest length (characters): enough for
/// any real feed, and a hostile one cannot grow an article without bound.
pub const MAX_CATEGORIES: usize = 32;
const MAX_CATEGORY_CHARS: usize = 200;

/// Adds one category as read: whitespace collapsed, cut to a sane length; blanks,
/// repeats (ignoring case) and any beyond [`MAX_CATEGORIES`] are dropped.
pub fn add_category(list: &mut Vec<String>, raw: &str) {
    let c: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let c: String = c.chars().take(MAX_CATEGORY_CHARS).collect();
    if c.is_empty()
        || list.len() >= MAX_CATEGORIES
        || list.iter().any(|x| x.to_lowercase() == c.to_lowercase())
    {
        return;
    }
    list.push(c);
}

/// The feed-level fields as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawFeed {
    pub title: Option<Text>,
    pub link: Option<String>,
}

/// Why a document is not a feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No feed element anywhere (an HTML page says so separately).
    NoFeed { html: bool },
    /// The feed's root element never closes: a cut-off download.
    Truncated,
    /// JSON that is not a JSON Feed, or not JSON.
    Json(String),
}

/// Receives entries as they are read; returns false once it wants no more, after which
/// the reader skips the remaining entries without building them.
pub type Sink<'s> = dyn FnMut(RawEntry) -> bool + 's;

/// Reads a feed document. `base` resolves relative links; `content_type` is the HTTP
/// `Content-Type` (its charset and media type choose the encoding).
pub fn read(
    bytes: &[u8],
    base: Option<&str>,
    content_type: Option<&str>,
    sink: &mut Sink<'_>,
) -> Result<RawFeed, Refusal> {
    let text = decode::decode(bytes, content_type);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.starts_with('{') {
        return json::read(trimmed, base, sink);
    }
    build::read(trimmed, base, sink)
}
