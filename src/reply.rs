//! The neutral reply: what a command or a delivery has to say, with no platform markup.
//! Each adapter renders it (Discord embed, Matrix HTML + plain body, console text) and
//! escapes the text for its own format; nothing here is trusted markup.

use crate::domain::template::{PostStyle, Templated};

/// A run of herald's own text: plain words, a code span (between backticks: usually a
/// command to type), or a web link. Adapters render each their own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inline<'a> {
    Text(&'a str),
    Code(&'a str),
    Link(&'a str),
}

/// `text` cut into [`Inline`] runs. A backtick without a partner on its line is text; a
/// link is an `http(s)://` word, without trailing punctuation.
pub fn inline_runs(text: &str) -> Vec<Inline<'_>> {
    let mut runs = Vec::new();
    let mut rest = text;
    let mut at = 0;
    while let Some(open) = rest[at..].find('`').map(|i| at + i) {
        let after = &rest[open + 1..];
        match after.find(['`', '\n']).filter(|&c| after[c..].starts_with('`')) {
            Some(close) => {
                links(&rest[..open], &mut runs);
                if close > 0 {
                    runs.push(Inline::Code(&after[..close]));
                }
                rest = &after[close + 1..];
                at = 0;
            }
            // No partner on this line: the backtick is text.
            None => at = open + 1,
        }
    }
    links(rest, &mut runs);
    runs
}

/// Pushes `text` as text and link runs.
fn links<'a>(text: &'a str, runs: &mut Vec<Inline<'a>>) {
    let mut rest = text;
    let mut from = 0;
    loop {
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| {
                rest[from..].match_indices(scheme).map(|(i, _)| from + i).find(|&i| {
                    rest[..i].chars().next_back().is_none_or(|c| c.is_whitespace() || c == '(')
                })
            })
            .min();
        let Some(start) = start else { break };
        let tail = &rest[start..];
        let end =
            tail.find(|c: char| c.is_whitespace() || "<>\"'`".contains(c)).unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
        if url.len() <= "https://".len() {
            from = start + end;
            continue;
        }
        push_text(&rest[..start], runs);
        runs.push(Inline::Link(url));
        rest = &rest[start + url.len()..];
        from = 0;
    }
    push_text(rest, runs);
}

fn push_text<'a>(text: &'a str, runs: &mut Vec<Inline<'a>>) {
    if !text.is_empty() {
        runs.push(Inline::Text(text));
    }
}

/// Who should see a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone in the channel.
    Public,
    /// Only the person who asked, where the platform allows (Discord ephemeral).
    Private,
}

/// What a reply is, so adapters can style it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Error,
    /// One article posted to a channel.
    Article,
    /// A digest (or one part of it).
    Digest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// One entry of a list: a search hit, a digest article, a feed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    pub title: String,
    pub url: Option<String>,
    /// Plain text: a summary, a snippet or a status line.
    pub text: String,
    /// A short line under the title, e.g. "Eurasia Review · 2026-11-30 08:00 UTC · #42".
    pub meta: Option<String>,
    /// Other feeds that carried the same story (digests).
    pub also_in: Vec<String>,
    /// Byte ranges of `text` that matched a search, for adapters that can emphasize them.
    pub marks: Vec<std::ops::Range<usize>>,
}

impl Item {
    /// `text` cut into runs, each marked or not. Marks that are out of order, overlap,
    /// or do not fall on character boundaries are ignored rather than trusted.
    pub fn runs(&self) -> Vec<(&str, bool)> {
        let text = self.text.as_str();
        let mut runs = Vec::new();
        let mut at = 0;
        for m in &self.marks {
            // `get` is `None` past the end or inside a character.
            let Some(marked) = text.get(m.clone()).filter(|r| at <= m.start && !r.is_empty())
            else {
                continue;
            };
            if at < m.start {
                runs.push((&text[at..m.start], false));
            }
            runs.push((marked, true));
            at = m.end;
        }
        if at < text.len() {
            runs.push((&text[at..], false));
        }
        runs
    }
}

/// A heading for a group of items (a feed or a topic in a digest).
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: Option<String>,
    pub items: Vec<Item>,
}

/// Paging state for long lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// 1-based.
    pub number: u32,
    pub has_next: bool,
    /// The command that shows the next page (for platforms without buttons).
    pub next_command: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub visibility: Visibility,
    pub tone: Tone,
    pub title: Option<String>,
    pub url: Option<String>,
    /// Plain text body.
    pub text: String,
    pub fields: Vec<Field>,
    pub sections: Vec<Section>,
    pub image_url: Option<String>,
    /// Small print: the feed name of a post, the period of a digest.
    pub footer: Option<String>,
    pub page: Option<Page>,
    /// When what the reply shows was published (an article), for platforms that show
    /// times in each reader's own zone; also written as the "published" field.
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    /// An article post's shape (a card, one line, the bare link).
    pub style: PostStyle,
    /// An article post written by its subscription's template: adapters render it in
    /// place of `text` (its markup renders, its feed text is escaped).
    pub templated: Option<Templated>,
}

impl Reply {
    fn new(visibility: Visibility, tone: Tone, text: impl Into<String>) -> Reply {
        Reply {
            visibility,
            tone,
            title: None,
            url: None,
            text: text.into(),
            fields: Vec::new(),
            sections: Vec::new(),
            image_url: None,
            footer: None,
            page: None,
            published: None,
            style: PostStyle::Embed,
            templated: None,
        }
    }

    /// Whether `text` is herald's own words (confirmations, help, refusals), whose code
    /// spans and links adapters render as such. Article and digest text comes from feeds
    /// and is shown exactly as typed.
    pub fn text_is_own(&self) -> bool {
        matches!(self.tone, Tone::Info | Tone::Success | Tone::Error)
    }

    /// A short private answer (settings changed, confirmations).
    pub fn info(text: impl Into<String>) -> Reply {
        Reply::new(Visibility::Private, Tone::Info, text)
    }

    pub fn success(text: impl Into<String>) -> Reply {
        Reply::new(Visibility::Private, Tone::Success, text)
    }

    /// What was wrong and the right form; only the asker sees it where possible.
    pub fn error(text: impl Into<String>) -> Reply {
        Reply::new(Visibility::Private, Tone::Error, text)
    }

    /// A public answer (search results, an article, a list).
    pub fn public(tone: Tone, text: impl Into<String>) -> Reply {
        Reply::new(Visibility::Public, tone, text)
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Reply {
        self.title = Some(title.into());
        self
    }

    pub fn with_url(mut self, url: Option<String>) -> Reply {
        self.url = url;
        self
    }

    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        self.fields.push(Field { name: name.into(), value: value.into() });
        self
    }

    pub fn with_section(mut self, heading: Option<String>, items: Vec<Item>) -> Reply {
        self.sections.push(Section { heading, items });
        self
    }

    /// The publication time, typed, and as the "published" field ("2026-11-30 08:00 UTC").
    pub fn with_published(mut self, unix: i64) -> Reply {
        if let Some(t) = chrono::DateTime::from_timestamp(unix, 0) {
            self.published = Some(t);
            self = self.with_field("published", t.format("%Y-%m-%d %H:%M UTC").to_string());
        }
        self
    }

    pub fn with_footer(mut self, footer: impl Into<String>) -> Reply {
        self.footer = Some(footer.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{Inline, Item, inline_runs};

    #[test]
    fn own_text_splits_into_code_spans_and_links() {
        use Inline::{Code, Link, Text};
        assert_eq!(
            inline_runs("Add one with `feeds add URL`. See https://x.org/a_b."),
            vec![
                Text("Add one with "),
                Code("feeds add URL"),
                Text(". See "),
                Link("https://x.org/a_b"),
                Text(".")
            ]
        );
        assert_eq!(inline_runs("a ` b"), vec![Text("a ` b")]);
        assert_eq!(inline_runs("x `a\nb` y"), vec![Text("x `a\nb` y")]);
        assert_eq!(inline_runs("``"), Vec::<Inline<'_>>::new());
        assert_eq!(
            inline_runs("(https://a.example/x)"),
            vec![Text("("), Link("https://a.example/x"), Text(")")]
        );
        assert_eq!(inline_runs("nohttps://a.b https://"), vec![Text("nohttps://a.b https://")]);
        assert_eq!(inline_runs("`a` and `b`"), vec![Code("a"), Text(" and "), Code("b")]);
    }

    #[test]
    fn runs_follow_marks_and_skip_bad_ones() {
        let item =
            Item { text: "a bé c".into(), marks: vec![2..5, 3..4, 4..9, 6..7], ..Item::default() };
        assert_eq!(item.runs(), vec![("a ", false), ("bé", true), (" ", false), ("c", true)]);
        let item = Item { text: "héllo".into(), marks: vec![2..3, 9..12], ..Item::default() };
        assert_eq!(
            item.runs(),
            vec![("héllo", false)],
            "marks inside a character or past the end are ignored"
        );
    }
}
