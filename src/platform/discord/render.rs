//! A neutral [`Reply`] as Discord embeds, within Discord's limits.
//!
//! Feed text is untrusted: every piece of it is markdown-escaped so a title cannot forge
//! a link, a mention or formatting, and URLs are only used when they are http(s). The
//! layout is computed as plain [`Embed`] values first so limits can be checked (and
//! tested) before anything is handed to serenity.

use serenity::builder::{CreateEmbed, CreateEmbedAuthor, CreateEmbedFooter};
use serenity::model::Timestamp;

use crate::commands::cmd::is_command_reference;
use crate::commands::reference::{alternatives, reference};
use crate::commands::spec::OptKind;
use crate::domain::template::PostStyle;
use crate::reply::{Inline, Item, Reply, Tone, inline_runs};

/// Discord's limits (characters; Discord counts code points).
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FIELDS_MAX: usize = 25;
pub const FOOTER_MAX: usize = 2048;
pub const AUTHOR_MAX: usize = 256;
pub const EMBEDS_MAX: usize = 10;
pub const TOTAL_MAX: usize = 6000;
pub const URL_MAX: usize = 2048;

/// One embed as herald lays it out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embed {
    pub title: Option<String>,
    pub url: Option<String>,
    pub description: String,
    pub author: Option<String>,
    pub fields: Vec<(String, String)>,
    pub footer: Option<String>,
    pub timestamp: Option<i64>,
    pub thumbnail: Option<String>,
    pub colour: u32,
}

impl Embed {
    /// The characters Discord counts towards the 6000 total.
    pub fn size(&self) -> usize {
        chars(self.title.as_deref().unwrap_or_default())
            + chars(&self.description)
            + self.fields.iter().map(|(n, v)| chars(n) + chars(v)).sum::<usize>()
            + chars(self.footer.as_deref().unwrap_or_default())
            + chars(self.author.as_deref().unwrap_or_default())
    }

    pub fn to_builder(&self) -> CreateEmbed {
        let mut e = CreateEmbed::new().colour(self.colour);
        if let Some(t) = &self.title {
            e = e.title(t);
        }
        if let Some(u) = &self.url {
            e = e.url(u);
        }
        if !self.description.is_empty() {
            e = e.description(&self.description);
        }
        if let Some(a) = &self.author {
            e = e.author(CreateEmbedAuthor::new(a));
        }
        for (n, v) in &self.fields {
            e = e.field(n, v, false);
        }
        if let Some(f) = &self.footer {
            e = e.footer(CreateEmbedFooter::new(f));
        }
        if let Some(ts) = self.timestamp.and_then(|t| Timestamp::from_unix_timestamp(t).ok()) {
            e = e.timestamp(ts);
        }
        if let Some(t) = &self.thumbnail {
            e = e.thumbnail(t);
        }
        e
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A reply's text. herald's own words keep their markup: code spans stay code (a
/// command as its slash command), links stay clickable (in `<>`, so no preview card).
/// Anything else is escaped.
fn text(reply: &Reply) -> String {
    if !reply.text_is_own() {
        return escape(&reply.text);
    }
    inline_runs(&reply.text)
        .into_iter()
        .map(|run| match run {
            Inline::Text(t) => escape(t),
            Inline::Code(c) if is_command_reference(c) => slash(c),
            Inline::Code(c) => format!("`{c}`"),
            Inline::Link(url) => format!("<{url}>"),
        })
        .collect()
}

/// A command named in herald's text as the slash command a person types, its options
/// by name: `/subscribe feed:1`; a usage line as `/search query:<query> [feed:<feed>]`.
fn slash(code: &str) -> String {
    let one = |part: &str| {
        let Some(r) = reference(part) else { return format!("`{part}`") };
        let mut out = format!("/{}", r.words);
        for a in &r.args {
            let value = match &a.value {
                Some(v) => v.clone(),
                None if !a.choices.is_empty() => a.choices.join("|"),
                // What Discord's pickers show: a boolean, a role, a channel.
                None if a.kind == OptKind::Flag => "True".to_string(),
                None if a.kind == OptKind::Group => "@role".to_string(),
                None if a.kind == OptKind::Channel => "#channel".to_string(),
                None => format!("<{}>", a.name),
            };
            let option = format!("{}:{value}", a.name);
            out.push(' ');
            out.push_str(&if a.required { option } else { format!("[{option}]") });
        }
        format!("`{out}`")
    };
    alternatives(code).into_iter().map(one).collect::<Vec<_>>().join(" | ")
}

/// Escapes Discord markdown so the text shows as typed: no bold, links, spoilers, code,
/// quotes, headings, lists or mentions.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        // A channel mention (`<#id>`) stays a link: it pings nobody, and notices name the
        // channel they are about this way.
        if let Some(len) = channel_mention_len(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            line_start = false;
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '[' | ']' | '(' | ')' | '#' | '@'
            | ':' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if line_start => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        line_start = c == '\n' || (line_start && c == ' ');
    }
    out
}

/// The length of the `<#digits>` at the start of `s`, if there is one.
fn channel_mention_len(s: &str) -> Option<usize> {
    let digits = s.strip_prefix("<#")?;
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    (n > 0 && digits.as_bytes().get(n) == Some(&b'>')).then_some(n + 3)
}

/// Cuts `s` to at most `max` characters, marking the cut with an ellipsis. Never leaves
/// a dangling backslash (an escape cut in half would escape the ellipsis).
pub fn truncate(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    while out.ends_with('\\') {
        out.pop();
    }
    out.push('…');
    out
}

/// A URL Discord accepts in an embed, or nothing.
pub fn safe_url(url: Option<&str>) -> Option<String> {
    let u = url?.trim();
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= URL_MAX
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| u.to_string())
}

/// A URL inside a markdown link `[text](url)`: parentheses and spaces would end it.
fn link_target(url: &str) -> String {
    url.replace('(', "%28").replace(')', "%29").replace(' ', "%20")
}

/// A stable colour per feed, so a channel's posts are told apart at a glance.
pub fn feed_colour(feed: &str) -> u32 {
    const PALETTE: [u32; 8] =
        [0x5865F2, 0x57F287, 0xFEE75C, 0xEB459E, 0xED4245, 0x3BA55C, 0xFAA61A, 0x00B0F4];
    let h =
        feed.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    PALETTE[(h % PALETTE.len() as u64) as usize]
}

fn tone_colour(tone: Tone) -> u32 {
    match tone {
        Tone::Error => 0xED4245,
        Tone::Success => 0x57F287,
        Tone::Digest => 0xFEE75C,
        Tone::Info | Tone::Article => 0x5865F2,
    }
}

/// The embeds for `reply`, at most 10 and 6000 characters in all. An article in one of
/// the message styles (a preview of one) is its message's text in an embed.
pub fn embeds(reply: &Reply) -> Vec<Embed> {
    let out = match reply.tone {
        Tone::Article if reply.style != PostStyle::Embed => line(reply),
        Tone::Article => article(reply),
        _ => general(reply),
    };
    fit(out)
}

/// An article as its card, whatever its style.
pub fn card(reply: &Reply) -> Vec<Embed> {
    fit(article(reply))
}

fn line(reply: &Reply) -> Vec<Embed> {
    let (content, cards) = super::post::message(reply, None);
    if content.is_empty() {
        return cards;
    }
    vec![Embed {
        description: content,
        footer: reply.footer.as_deref().map(|f| truncate(f, FOOTER_MAX)),
        colour: tone_colour(Tone::Article),
        ..Embed::default()
    }]
}

/// An article (a post, or the `article` command): linked title, summary, the feed as
/// author, the published time as the embed's timestamp, the lead image as thumbnail.
fn article(reply: &Reply) -> Vec<Embed> {
    let field = |name: &str| reply.fields.iter().find(|f| f.name == name).map(|f| f.value.clone());
    // A post's footer is "Feed name · #42"; the `article` reply has a "feed" field.
    let (feed, footer) = match reply.footer.as_deref().and_then(|f| f.rsplit_once(" · #")) {
        Some((feed, id)) => (Some(feed.to_string()), Some(format!("#{id}"))),
        None => (field("feed"), reply.footer.clone()),
    };
    let colour = feed.as_deref().map(feed_colour).unwrap_or(tone_colour(Tone::Article));
    vec![Embed {
        title: reply.title.as_deref().map(|t| truncate(&escape(t), TITLE_MAX)),
        url: safe_url(reply.url.as_deref()),
        description: match &reply.templated {
            Some(t) => super::post::template_text(t, DESCRIPTION_MAX),
            None => truncate(&escape(&reply.text), DESCRIPTION_MAX),
        },
        author: feed.map(|f| truncate(&f, AUTHOR_MAX)),
        fields: Vec::new(),
        footer: footer.map(|f| truncate(&f, FOOTER_MAX)),
        timestamp: reply.published.map(|t| t.timestamp()),
        thumbnail: safe_url(reply.image_url.as_deref()),
        colour,
    }]
}

/// Anything else: a headed embed with the text and fields, then the sections' items
/// packed into descriptions (a new embed per section heading, or when one is full).
fn general(reply: &Reply) -> Vec<Embed> {
    let colour = tone_colour(reply.tone);
    let mut first = Embed {
        title: reply.title.as_deref().map(|t| truncate(&escape(t), TITLE_MAX)),
        url: safe_url(reply.url.as_deref()),
        description: truncate(&text(reply), DESCRIPTION_MAX),
        fields: reply
            .fields
            .iter()
            .take(FIELDS_MAX)
            .map(|f| {
                (
                    truncate(&escape(&f.name), FIELD_NAME_MAX),
                    truncate(&escape(&f.value), FIELD_VALUE_MAX),
                )
            })
            .collect(),
        footer: reply.footer.as_deref().map(|f| truncate(f, FOOTER_MAX)),
        colour,
        ..Embed::default()
    };
    if let Some(page) = &reply.page {
        let note = format!("Page {}", page.number);
        first.footer = Some(match first.footer.take() {
            Some(f) => format!("{f} · {note}"),
            None => note,
        });
    }
    let mut out = vec![first];
    for section in &reply.sections {
        if let Some(h) = &section.heading {
            out.push(Embed {
                title: Some(truncate(&escape(h), TITLE_MAX)),
                colour,
                ..Embed::default()
            });
        }
        for item in &section.items {
            let block = item_block(item);
            let last = out.last_mut().expect("out starts with one embed and only grows");
            let sep = if last.description.is_empty() { 0 } else { 2 };
            if chars(&last.description) + sep + chars(&block) <= DESCRIPTION_MAX {
                if sep > 0 {
                    last.description.push_str("\n\n");
                }
                last.description.push_str(&block);
            } else {
                out.push(Embed {
                    description: truncate(&block, DESCRIPTION_MAX),
                    colour,
                    ..Embed::default()
                });
            }
        }
    }
    out.retain(|e| e.size() > 0 || e.url.is_some());
    if out.is_empty() {
        out.push(Embed { description: "(nothing)".into(), colour, ..Embed::default() });
    }
    out
}

/// One list item: a bold (linked) title, the text, and a small line of metadata.
fn item_block(item: &Item) -> String {
    let title = truncate(&escape(&item.title), 250);
    let mut block = match safe_url(item.url.as_deref()) {
        Some(u) => format!("**[{title}]({})**", link_target(&u)),
        None => format!("**{title}**"),
    };
    if !item.text.trim().is_empty() {
        // Search matches in bold; each run is escaped on its own, so text cannot close
        // or open the emphasis.
        let text: String = item
            .runs()
            .into_iter()
            .map(|(run, marked)| {
                let run = escape(run);
                if marked && !run.trim().is_empty() { format!("**{run}**") } else { run }
            })
            .collect();
        block.push('\n');
        block.push_str(&truncate(&text, 1500));
    }
    let mut meta: Vec<String> = item.meta.iter().map(|m| escape(m)).collect();
    if !item.also_in.is_empty() {
        meta.push(format!("also in {}", escape(&item.also_in.join(", "))));
    }
    if !meta.is_empty() {
        block.push_str("\n-# ");
        block.push_str(&meta.join(" · "));
    }
    block
}

/// Enforces the per-message limits: at most 10 embeds and 6000 characters in all. What
/// does not fit is cut with a note, never sent over the limit (Discord would refuse the
/// whole message).
pub fn fit(mut embeds: Vec<Embed>) -> Vec<Embed> {
    const MORE: &str = "\n… (more than fits in one message)";
    let mut total = 0;
    let mut keep = 0;
    for e in &mut embeds {
        if keep == EMBEDS_MAX {
            break;
        }
        let size = e.size();
        if total + size <= TOTAL_MAX {
            total += size;
            keep += 1;
            continue;
        }
        // Shrink this one to what is left, then stop.
        let room = TOTAL_MAX - total;
        let others = size - chars(&e.description);
        if others + chars(MORE) + 20 <= room {
            let d = truncate(&e.description, room - others - chars(MORE));
            e.description = format!("{d}{MORE}");
            keep += 1;
        }
        break;
    }
    embeds.truncate(keep.max(1));
    embeds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Reply;

    #[test]
    fn herald_s_own_commands_and_links_render_and_feed_text_stays_escaped() {
        let own =
            Reply::info("Add one with `feeds add URL` or `x`; see https://x.org/a_b. *not bold*");
        let e = embeds(&own);
        let d = e[0].description.as_str();
        assert!(d.contains("`/feeds add url:<url>`") && d.contains("`x`"), "{d}");
        assert!(d.contains("<https://x.org/a_b>."), "a clickable link, not http\\:…: {d}");
        assert!(d.contains("\\*not bold\\*"), "{d}");
        let mut post = Reply::info("`subscribe 1` https://evil.example/x");
        post.tone = Tone::Article;
        let d = embeds(&post)[0].description.clone();
        assert!(d.contains("\\`subscribe 1\\`") && d.contains("https\\:"), "{d}");
    }

    #[test]
    fn commands_show_as_slash_commands_with_named_options() {
        let hint = Reply::info(
            "Subscribe with `subscribe 1`, then `digest schedule daily 08:00 Europe/Paris`.",
        );
        let d = embeds(&hint)[0].description.clone();
        assert!(d.contains("`/subscribe feed:1`"), "{d}");
        assert!(d.contains("`/digest schedule when:daily 08:00 timezone:Europe/Paris`"), "{d}");
        let help = crate::commands::cmd::help::help(None);
        let d = embeds(&help)[0].description.clone();
        assert!(
            d.contains("`/search query:<query> [feed:<feed>] [since:<since>] [page:<page>]`"),
            "{d}"
        );
        assert!(d.contains("[mode:instant|digest]"), "{d}");
        assert!(d.contains("[notify:True]") && d.contains("[mention:@role]"), "{d}");
        assert!(!d.contains("--"), "no terminal options on Discord: {d}");
        let usage = Reply::error(
            crate::commands::parse::parse("digest").expect_err("no subcommand").to_string(),
        );
        let d = embeds(&usage)[0].description.clone();
        assert!(
            d.contains("`/digest schedule when:<when> [timezone:<timezone>]` | `/digest now` | `/digest preview`"),
            "{d}"
        );
    }

    #[test]
    fn escapes_markdown_and_mentions() {
        let e = escape("**bold** [x](http://evil) @everyone <@1> `c` > q");
        assert_eq!(
            e,
            "\\*\\*bold\\*\\* \\[x\\]\\(http\\://evil\\) \\@everyone \\<\\@1\\> \\`c\\` \\> q"
        );
        assert_eq!(escape("- item\n# head"), "\\- item\n\\# head");
        assert_eq!(escape("in <#42>, not <#x> or <#>"), "in <#42>, not \\<\\#x\\> or \\<\\#\\>");
        assert_eq!(truncate("ab\\*cd", 4), "ab…");
    }

    #[test]
    fn search_matches_are_bold_and_their_text_still_escaped() {
        let item = Item {
            title: "t".into(),
            text: "the *ceasefire* held".into(),
            marks: vec![4..15, 3..5, 40..50],
            ..Item::default()
        };
        let block = item_block(&item);
        assert!(block.ends_with("the **\\*ceasefire\\*** held"), "{block}");
    }

    #[test]
    fn long_lists_fit_discord_limits() {
        let items: Vec<Item> = (0..200)
            .map(|i| Item {
                title: format!("Title {i}"),
                url: Some(format!("https://example.com/{i}")),
                text: "word ".repeat(100),
                meta: Some("Feed · 2026".into()),
                also_in: vec![],
                marks: vec![],
            })
            .collect();
        let reply = Reply::info("x").with_title("t".repeat(400)).with_section(None, items);
        let out = embeds(&reply);
        assert!(out.len() <= EMBEDS_MAX);
        assert!(out.iter().map(Embed::size).sum::<usize>() <= TOTAL_MAX);
        assert!(out.iter().all(|e| chars(&e.description) <= DESCRIPTION_MAX));
        assert!(out.iter().all(|e| e.title.as_deref().map(chars).unwrap_or(0) <= TITLE_MAX));
    }

    #[test]
    fn unsafe_urls_are_dropped() {
        assert_eq!(safe_url(Some("javascript:alert(1)")), None);
        assert_eq!(safe_url(Some("https://a.b/c d")), None);
        assert_eq!(safe_url(Some("https://a.b/c")).as_deref(), Some("https://a.b/c"));
    }
}
