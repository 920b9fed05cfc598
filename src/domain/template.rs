//! A subscription's message template (`--template "**{title}**\n{summary}\n{link}"`) and
//! post style, parsed once: a `Template` only exists when every placeholder is known and
//! its own text fits a post. Rendering keeps the two kinds of text apart — the
//! template's own markup renders, feed text is marked as such so each platform escapes
//! it, and links stay clickable.

use std::fmt;

/// How an article is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostStyle {
    /// A rich card: linked title, summary, feed, date, image (the template, when set,
    /// is its text).
    #[default]
    Embed,
    /// One line: the title and the link (or the template).
    Compact,
    /// The bare link, so the platform shows its own preview.
    Link,
}

impl PostStyle {
    pub const WORDS: &'static [&'static str] = &["embed", "compact", "link"];

    pub fn parse(word: &str) -> Option<PostStyle> {
        match word.trim().to_lowercase().as_str() {
            "embed" => Some(PostStyle::Embed),
            "compact" => Some(PostStyle::Compact),
            "link" => Some(PostStyle::Link),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PostStyle::Embed => "embed",
            PostStyle::Compact => "compact",
            PostStyle::Link => "link",
        }
    }
}

impl fmt::Display for PostStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    Title,
    Summary,
    Link,
    Feed,
    Published,
    Author,
    Image,
}

impl Placeholder {
    const ALL: [(&'static str, Placeholder); 7] = [
        ("title", Placeholder::Title),
        ("summary", Placeholder::Summary),
        ("link", Placeholder::Link),
        ("feed", Placeholder::Feed),
        ("published", Placeholder::Published),
        ("author", Placeholder::Author),
        ("image", Placeholder::Image),
    ];

    /// `{title}, {summary}, …` for messages.
    pub fn list() -> String {
        Placeholder::ALL.iter().map(|(n, _)| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
    }

    /// A URL, inserted as a link (never escaped, never cut) rather than as text.
    fn is_url(self) -> bool {
        matches!(self, Placeholder::Link | Placeholder::Image)
    }

    /// Which text gives way first when a post is too long: the summary, then the title.
    fn cut_order(self) -> u8 {
        match self {
            Placeholder::Summary => 0,
            Placeholder::Title => 1,
            Placeholder::Author => 2,
            Placeholder::Feed => 3,
            _ => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(Placeholder),
}

/// A parsed template. `{{` and `}}` write a literal brace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// Why a template was refused: one sentence naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

/// The longest template source kept (its own text is bounded separately by the post).
pub const MAX_SOURCE: usize = 4000;

impl Template {
    /// Parses `source`, whose own text (placeholders not counted) must fit in
    /// `max_chars`, the most a post of its style holds on the channel's platform.
    pub fn parse(source: &str, max_chars: usize) -> Result<Template, TemplateError> {
        if source.trim().is_empty() {
            return Err(TemplateError("the template is empty".into()));
        }
        if source.chars().count() > MAX_SOURCE {
            return Err(TemplateError(format!(
                "the template is {} characters; at most {MAX_SOURCE}",
                source.chars().count()
            )));
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &source[at + 1..];
                    let Some(end) =
                        rest.find(['}', '{', '\n']).filter(|&e| rest[e..].starts_with('}'))
                    else {
                        return Err(TemplateError(format!(
                            "an unclosed {{ in the template at \"{}\": placeholders are written \
                             {{title}}, and {{{{ writes a literal brace",
                            snippet(&source[at..])
                        )));
                    };
                    let name = rest[..end].trim();
                    let Some((_, p)) =
                        Placeholder::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
                    else {
                        return Err(TemplateError(format!(
                            "unknown placeholder {{{}}} in the template; the placeholders are {}",
                            snippet(name),
                            Placeholder::list()
                        )));
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field(*p));
                    // Skip to the closing brace (`end` is a byte offset in `rest`).
                    while chars.next_if(|(i, _)| *i <= at + 1 + end).is_some() {}
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let template = Template { source: source.to_string(), parts };
        template.check_fits(max_chars)?;
        Ok(template)
    }

    /// Whether the template's own text (placeholders not counted) fits `max_chars`.
    pub fn check_fits(&self, max_chars: usize) -> Result<(), TemplateError> {
        let own: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => s.chars().count(),
                Part::Field(_) => 0,
            })
            .sum();
        if own > max_chars {
            return Err(TemplateError(format!(
                "the template's own text is {own} characters, over the {max_chars} a post of \
                 this style holds here"
            )));
        }
        Ok(())
    }

    /// The text the template was parsed from (what is stored).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Fills the placeholders. The result's length, with each text piece measured by
    /// `cost` (its escaped length on the platform), is at most `max_chars`: feed text is
    /// cut with an ellipsis, summary first; a missing value renders empty.
    pub fn render(
        &self,
        fields: &Fields,
        max_chars: usize,
        cost: &dyn Fn(&Piece) -> usize,
    ) -> Vec<Piece> {
        let mut pieces: Vec<(Option<Placeholder>, Piece)> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Literal(s) => Some((None, Piece::Markup(s.clone()))),
                Part::Field(f) => {
                    let value = fields.get(*f).filter(|v| !v.is_empty())?;
                    let piece = if f.is_url() { Piece::Url(value) } else { Piece::Text(value) };
                    Some((Some(*f), piece))
                }
            })
            .collect();
        let total = |pieces: &[(Option<Placeholder>, Piece)]| -> usize {
            pieces.iter().map(|(_, p)| cost(p)).sum()
        };
        let mut over = total(&pieces).saturating_sub(max_chars);
        let mut order: Vec<usize> =
            (0..pieces.len()).filter(|&i| matches!(pieces[i].1, Piece::Text(_))).collect();
        order.sort_by_key(|&i| (pieces[i].0.map_or(9, Placeholder::cut_order), i));
        for i in order {
            if over == 0 {
                break;
            }
            let Piece::Text(text) = &pieces[i].1 else { continue };
            let have = cost(&pieces[i].1);
            let target = have.saturating_sub(over);
            // Measured in the platform's (escaped) length, cut in characters.
            let mut keep = text.chars().count().min(target);
            let cut = loop {
                let piece = Piece::Text(ellipsis(text, keep));
                if cost(&piece) <= target || keep == 0 {
                    break piece;
                }
                keep -= 1;
            };
            over = over.saturating_sub(have - cost(&cut).min(have));
            pieces[i].1 = cut;
        }
        // URLs are never cut: one that cannot fit goes.
        while total(&pieces) > max_chars {
            match pieces.iter().rposition(|(_, p)| matches!(p, Piece::Url(_))) {
                Some(i) => {
                    pieces.remove(i);
                }
                None => break,
            }
        }
        pieces.into_iter().map(|(_, p)| p).filter(|p| !p.is_empty()).collect()
    }
}

/// `text` cut to `keep` characters with an ellipsis (which counts).
fn ellipsis(text: &str, keep: usize) -> String {
    if text.chars().count() <= keep {
        return text.to_string();
    }
    if keep == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(keep - 1).collect();
    out.push('…');
    out
}

fn snippet(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(30).collect();
    s
}

/// One piece of a rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// The template's own text: its markup renders.
    Markup(String),
    /// Feed text: the platform escapes it.
    Text(String),
    /// A URL from the feed: inserted as a link, never escaped.
    Url(String),
}

impl Piece {
    pub fn as_str(&self) -> &str {
        match self {
            Piece::Markup(s) | Piece::Text(s) | Piece::Url(s) => s,
        }
    }

    fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

/// The pieces as plain text (no escaping): what a terminal shows.
pub fn plain(pieces: &[Piece]) -> String {
    pieces.iter().map(Piece::as_str).collect()
}

/// A template with the article it is to be filled with; the platform renders it within
/// its own limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templated {
    pub template: Template,
    pub fields: Fields,
}

/// An article's values for the placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub title: String,
    pub summary: String,
    pub link: Option<String>,
    pub feed: String,
    pub published: String,
    pub author: Option<String>,
    pub image: Option<String>,
}

impl Fields {
    fn get(&self, p: Placeholder) -> Option<String> {
        match p {
            Placeholder::Title => Some(self.title.clone()),
            Placeholder::Summary => Some(self.summary.clone()),
            Placeholder::Link => self.link.clone(),
            Placeholder::Feed => Some(self.feed.clone()),
            Placeholder::Published => Some(self.published.clone()),
            Placeholder::Author => self.author.clone(),
            Placeholder::Image => self.image.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(p: &Piece) -> usize {
        p.as_str().chars().count()
    }

    fn fields() -> Fields {
        Fields {
            title: "Rates *rise*".into(),
            summary: "The bank raised rates.".into(),
            link: Some("https://news.example/a_b".into()),
            feed: "Example News".into(),
            published: "2026-11-30 08:00 UTC".into(),
            author: None,
            image: None,
        }
    }

    #[test]
    fn renders_placeholders_keeping_markup_and_feed_text_apart() {
        let t = Template::parse("**{title}** by {author}\n{summary} {LINK} {{raw}}", 2000)
            .expect("valid");
        let out = t.render(&fields(), 2000, &chars);
        assert_eq!(
            out,
            vec![
                Piece::Markup("**".into()),
                Piece::Text("Rates *rise*".into()),
                Piece::Markup("** by ".into()),
                Piece::Markup("\n".into()),
                Piece::Text("The bank raised rates.".into()),
                Piece::Markup(" ".into()),
                Piece::Url("https://news.example/a_b".into()),
                Piece::Markup(" {raw}".into()),
            ]
        );
        assert_eq!(
            plain(&out),
            "**Rates *rise*** by \nThe bank raised rates. https://news.example/a_b {raw}"
        );
        assert_eq!(t.source(), "**{title}** by {author}\n{summary} {LINK} {{raw}}");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_named() {
        let e = Template::parse("{titel} {link}", 2000).expect_err("unknown");
        assert!(e.to_string().contains("unknown placeholder {titel}"), "{e}");
        assert!(e.to_string().contains("{summary}"), "{e}");
        let e = Template::parse("see {link", 2000).expect_err("unclosed");
        assert!(e.to_string().contains("unclosed {"), "{e}");
        assert!(Template::parse("  ", 2000).is_err());
    }

    #[test]
    fn own_text_over_the_limit_is_refused_and_feed_text_is_cut_to_fit() {
        let long = "x".repeat(2001);
        let e = Template::parse(&long, 2000).expect_err("too long");
        assert!(e.to_string().contains("2001 characters, over the 2000"), "{e}");
        assert!(Template::parse(&format!("{{summary}}{}", "x".repeat(1990)), 2000).is_ok());

        let t = Template::parse("{title}: {summary} {link}", 60).expect("valid");
        let mut f = fields();
        f.summary = "word ".repeat(100);
        let out = t.render(&f, 60, &chars);
        let len: usize = out.iter().map(chars).sum();
        assert!(len <= 60, "{len}: {out:?}");
        assert!(out.contains(&Piece::Url("https://news.example/a_b".into())), "link kept");
        assert!(out.contains(&Piece::Text("Rates *rise*".into())), "title kept whole");
        assert!(plain(&out).contains('…'));

        // Escaping lengthens text: the budget counts the escaped form.
        let escaped = |p: &Piece| match p {
            Piece::Text(s) => s.chars().count() * 2,
            other => other.as_str().chars().count(),
        };
        let out = t.render(&f, 60, &escaped);
        assert!(out.iter().map(escaped).sum::<usize>() <= 60, "{out:?}");
    }

    #[test]
    fn missing_values_render_empty() {
        let t = Template::parse("{image}{author}|{title}", 100).expect("valid");
        assert_eq!(plain(&t.render(&fields(), 100, &chars)), "|Rates *rise*");
    }

    #[test]
    fn styles_parse() {
        assert_eq!(PostStyle::parse("Compact"), Some(PostStyle::Compact));
        assert_eq!(PostStyle::parse("thread"), None);
        assert_eq!(PostStyle::default().to_string(), "embed");
    }
}
