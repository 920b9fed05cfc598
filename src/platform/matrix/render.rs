//! A [`Reply`] as a Matrix `m.notice`: a plain `body` and an `org.matrix.custom.html`
//! `formatted_body`.
//!
//! Nothing from a feed is trusted markup. Every piece of text is stripped of control
//! characters (the console's `clean`) and then HTML-escaped, so the only tags in the
//! HTML are the ones written here; links are emitted only for `http(s)` URLs; and
//! `@room` is defanged in both bodies, on top of the empty `m.mentions` the adapter
//! sends, so a feed cannot ping a room.

use serde_json::{Value, json};

use crate::commands::cmd::is_command_reference;
use crate::commands::reference::alternatives;
use crate::domain::template::{Piece, PostStyle, plain as plain_pieces};
use crate::platform::console::{self, clean, clean_line};
use crate::reply::{Inline, Item, Reply, Tone, Visibility, inline_runs};

/// The event content for `reply` (without relation or transaction id); `prefix` is what
/// starts a command in a room (`!herald`), for the commands herald's own text mentions.
/// An article in a style or template of its own (a post, or a preview of one) is shaped
/// by them.
pub fn content(reply: &Reply, prefix: &str) -> Value {
    let (body, html) = match shaped(reply) {
        // A post shows its shape alone; a preview (only for the asker) says what it is.
        Some((body, html)) => {
            match reply.footer.as_deref().filter(|_| reply.visibility == Visibility::Private) {
                Some(f) => (
                    format!("{body}\n\n{}", clean_line(f)),
                    format!("{html}<p><em>{}</em></p>", esc_line(f)),
                ),
                None => (body, html),
            }
        }
        None => render(reply, prefix),
    };
    json!({
        "msgtype": "m.notice",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": {},
    })
}

/// An article post's event content: `m.text` when the subscription notifies (clients
/// notify for it), else `m.notice`.
pub fn post_content(reply: &Reply, prefix: &str, notify: bool) -> Value {
    let mut content = content(reply, prefix);
    if notify {
        content["msgtype"] = json!("m.text");
    }
    content
}

/// The plain and HTML bodies of an article in a style or template of its own; `None`
/// for the card.
fn shaped(reply: &Reply) -> Option<(String, String)> {
    if reply.tone != Tone::Article {
        return None;
    }
    match (&reply.templated, reply.style) {
        (Some(t), _) => {
            Some(template_bodies(
                &t.template.render(&t.fields, POST_MAX, &|p: &Piece| p.as_str().chars().count()),
            ))
        }
        (None, PostStyle::Embed) => None,
        (None, PostStyle::Compact) => {
            let title = clean_line(reply.title.as_deref().unwrap_or("(untitled)"));
            let html = format!("<b>{}</b>", link(&esc_line(&title), reply.url.as_deref()));
            let url = reply.url.as_deref().filter(|_| href(reply.url.as_deref()).is_some());
            let plain = match url {
                Some(u) => format!("{title} {}", clean_line(u)),
                None => title,
            };
            Some((defang(&plain), html))
        }
        (None, PostStyle::Link) => href(reply.url.as_deref()).map(|h| {
            let url = clean_line(reply.url.as_deref().unwrap_or_default());
            (url, format!("<a href=\"{h}\">{h}</a>"))
        }),
    }
}

/// A rendered template's longest text in a post (Matrix events hold 64 KiB).
const POST_MAX: usize = 16_000;

/// A rendered template's plain and HTML bodies. The template's own `**bold**`, `*italic*`
/// and line breaks render; feed text is escaped, its `*` and `_` as entities so that no
/// emphasis can open or close inside it.
fn template_bodies(pieces: &[Piece]) -> (String, String) {
    let plain = defang(&clean(&plain_pieces(pieces)));
    let mut html = String::new();
    for p in pieces {
        match p {
            Piece::Markup(m) => html.push_str(&escape(&clean(m))),
            Piece::Text(t) => html.push_str(&inert(&esc(t))),
            Piece::Url(u) => match href(Some(u.as_str())) {
                Some(h) => html.push_str(&format!("<a href=\"{}\">{}</a>", inert(&h), inert(&h))),
                None => html.push_str(&inert(&esc(u))),
            },
        }
    }
    (plain, emphasis(&html).replace('\n', "<br>"))
}

fn inert(s: &str) -> String {
    s.replace('*', "&#42;").replace('_', "&#95;")
}

/// `**x**` as bold and `*x*` as italic, on one line each.
fn emphasis(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    for (i, line) in html.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let bold = pairs(line, "**", "b");
        out.push_str(&pairs(&bold, "*", "i"));
    }
    out
}

fn pairs(line: &str, mark: &str, tag: &str) -> String {
    let parts: Vec<&str> = line.split(mark).collect();
    if parts.len() < 3 {
        return line.to_string();
    }
    let mut out = String::new();
    let closed = (parts.len() - 1) / 2 * 2;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            if i <= closed {
                let slash = if i % 2 == 1 { "" } else { "/" };
                out.push_str(&format!("<{slash}{tag}>"));
            } else {
                out.push_str(mark);
            }
        }
        out.push_str(part);
    }
    out
}

/// The plain and HTML bodies of `reply`.
pub fn render(reply: &Reply, prefix: &str) -> (String, String) {
    let mut plain = reply.clone();
    if reply.text_is_own() {
        plain.text = inline_runs(&reply.text)
            .into_iter()
            .map(|run| match run {
                Inline::Code(c) if is_command_reference(c) => format!("`{}`", typed(prefix, c)),
                Inline::Code(c) => format!("`{c}`"),
                Inline::Text(t) | Inline::Link(t) => t.to_string(),
            })
            .collect();
    }
    if let Some(next) = plain.page.as_mut().and_then(|p| p.next_command.as_mut()) {
        *next = typed(prefix, next);
    }
    (defang(&console::render(&plain)), html(reply, prefix))
}

/// A command as it is typed in a room: each alternative of a group's usage behind the
/// prefix (`!herald digest now | !herald digest preview`).
fn typed(prefix: &str, code: &str) -> String {
    alternatives(code).into_iter().map(|c| format!("{prefix} {c}")).collect::<Vec<_>>().join(" | ")
}

/// herald's own text as HTML: code spans as `<code>` (a command with the room's prefix,
/// as it must be typed), links as links; feed text goes through [`paragraph`].
fn own_paragraph(text: &str, prefix: &str) -> String {
    let html: String = inline_runs(text.trim())
        .into_iter()
        .map(|run| match run {
            Inline::Text(t) => esc(t),
            Inline::Code(c) if is_command_reference(c) => {
                format!("<code>{}</code>", esc_line(&typed(prefix, c)))
            }
            Inline::Code(c) => format!("<code>{}</code>", esc_line(c)),
            Inline::Link(url) => match href(Some(url)) {
                Some(h) => format!("<a href=\"{h}\">{}</a>", esc_line(url)),
                None => esc(url),
            },
        })
        .collect();
    html.lines().map(str::trim_end).collect::<Vec<_>>().join("<br>")
}

/// `@room` would notify everyone in clients that still match the body; a word joiner
/// after the `@` keeps the text readable and inert.
fn defang(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        if rest.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("room")) {
            out.push('\u{2060}');
        }
    }
    out.push_str(rest);
    out
}

/// Text for HTML: cleaned, escaped, defanged.
fn esc(s: &str) -> String {
    escape(&defang(&clean(s)))
}

fn esc_line(s: &str) -> String {
    escape(&defang(&clean_line(s)))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An `href` value, only for absolute http(s) URLs (no `javascript:`, no `mxc:`).
fn href(url: Option<&str>) -> Option<String> {
    let url = clean_line(url?.trim());
    let parsed = url::Url::parse(&url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| escape(parsed.as_str()))
}

/// Multi-line text as HTML lines.
fn paragraph(s: &str) -> String {
    esc(s.trim()).lines().map(str::trim_end).collect::<Vec<_>>().join("<br>")
}

fn link(text: &str, url: Option<&str>) -> String {
    match href(url) {
        Some(h) => format!("<a href=\"{h}\">{text}</a>"),
        None => text.to_string(),
    }
}

fn html(reply: &Reply, prefix: &str) -> String {
    let mut out = String::new();
    let mark = match reply.tone {
        Tone::Error => "✗ ",
        Tone::Success => "✓ ",
        _ => "",
    };
    let title = reply.title.as_deref().map(esc_line).filter(|t| !t.is_empty());
    let text = if reply.text_is_own() {
        own_paragraph(&reply.text, prefix)
    } else {
        paragraph(&reply.text)
    };
    match title {
        Some(t) => {
            out.push_str(&format!(
                "<p><strong>{mark}{}</strong></p>",
                link(&t, reply.url.as_deref())
            ));
            if !text.is_empty() {
                out.push_str(&format!("<p>{text}</p>"));
            }
        }
        None => {
            if !text.is_empty() || !mark.is_empty() {
                out.push_str(&format!("<p>{mark}{text}</p>"));
            }
            if let Some(h) = href(reply.url.as_deref()) {
                out.push_str(&format!("<p><a href=\"{h}\">{h}</a></p>"));
            }
        }
    }
    if let Some(h) = href(reply.image_url.as_deref()) {
        out.push_str(&format!("<p><a href=\"{h}\">🖼 lead image</a></p>"));
    }
    if !reply.fields.is_empty() {
        let fields: Vec<String> = reply
            .fields
            .iter()
            .map(|f| format!("<b>{}</b>: {}", esc_line(&f.name), paragraph(&f.value)))
            .collect();
        out.push_str(&format!("<p>{}</p>", fields.join("<br>")));
    }
    for section in reply.sections.iter().filter(|s| s.heading.is_some() || !s.items.is_empty()) {
        if let Some(h) = section.heading.as_deref().map(esc_line).filter(|h| !h.is_empty()) {
            out.push_str(&format!("<h4>{h}</h4>"));
        }
        if !section.items.is_empty() {
            out.push_str("<ul>");
            for item in &section.items {
                out.push_str(&item_html(item));
            }
            out.push_str("</ul>");
        }
    }
    if let Some(f) = reply.footer.as_deref().map(esc_line).filter(|f| !f.is_empty()) {
        out.push_str(&format!("<p><em>{f}</em></p>"));
    }
    if let Some(page) = &reply.page {
        let next = page
            .next_command
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| esc_line(&typed(prefix, c)));
        let hint = match (page.has_next, next) {
            (true, Some(cmd)) => format!("page {} — more: <code>{cmd}</code>", page.number),
            (true, None) => format!("page {} — more available", page.number),
            (false, _) if page.number > 1 => format!("page {}, last", page.number),
            (false, _) => String::new(),
        };
        if !hint.is_empty() {
            out.push_str(&format!("<p><em>{hint}</em></p>"));
        }
    }
    out
}

fn item_html(item: &Item) -> String {
    let title = esc_line(&item.title);
    let title = if title.is_empty() { "(untitled)".to_string() } else { title };
    let mut out = format!("<li><strong>{}</strong>", link(&title, item.url.as_deref()));
    if let Some(meta) = item.meta.as_deref().map(esc_line).filter(|m| !m.is_empty()) {
        out.push_str(&format!("<br><em>{meta}</em>"));
    }
    // Search matches in bold; each run is escaped on its own. A match right after an
    // `@` gets the word joiner `defang` would have put there.
    let mut text = String::new();
    for (run, marked) in item.runs() {
        let run = esc(run);
        if marked && !run.trim().is_empty() {
            let joiner = if text.ends_with('@') { "\u{2060}" } else { "" };
            text.push_str(&format!("{joiner}<b>{run}</b>"));
        } else {
            text.push_str(&run);
        }
    }
    let text = text.trim().lines().map(str::trim_end).collect::<Vec<_>>().join("<br>");
    if !text.is_empty() {
        out.push_str(&format!("<br>{text}"));
    }
    let also: Vec<String> =
        item.also_in.iter().map(|f| esc_line(f)).filter(|f| !f.is_empty()).collect();
    if !also.is_empty() {
        out.push_str(&format!("<br><em>also in: {}</em>", also.join(", ")));
    }
    out.push_str("</li>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::template::{Fields, Template, Templated};

    #[test]
    fn templates_render_their_markup_and_keep_feed_text_inert() {
        let mut r = Reply::public(Tone::Article, "summary");
        r.templated = Some(Templated {
            template: Template::parse("**{title}** *via* {feed}\n{link}", 100).expect("valid"),
            fields: Fields {
                title: "A **b** <i>c</i> @room".into(),
                feed: "F_e_ed".into(),
                link: Some("https://x.example/a_b".into()),
                ..Fields::default()
            },
        });
        let c = post_content(&r, "!herald", true);
        assert_eq!(c["msgtype"], "m.text");
        assert_eq!(
            c["formatted_body"],
            "<b>A &#42;&#42;b&#42;&#42; &lt;i&gt;c&lt;/i&gt; @\u{2060}room</b> <i>via</i> \
             F&#95;e&#95;ed<br><a href=\"https://x.example/a&#95;b\">https://x.example/a&#95;b</a>"
        );
        assert_eq!(
            c["body"],
            "**A **b** <i>c</i> @\u{2060}room** *via* F_e_ed\nhttps://x.example/a_b"
        );
        // A preview says it saved nothing; a post does not carry the footer.
        r.footer = Some("F · preview: nothing was saved".into());
        assert!(
            !post_content(&r, "!herald", false)["body"].as_str().unwrap_or("").contains("preview")
        );
        r.visibility = Visibility::Private;
        let preview = content(&r, "!herald");
        assert_eq!(preview["msgtype"], "m.notice");
        assert!(preview["body"].as_str().is_some_and(|b| b.ends_with("nothing was saved")));
    }

    fn hostile() -> Reply {
        let mut r =
            Reply::public(Tone::Article, "Hi @room <script>alert(1)</script>\x1b]0;x\x07 & bye")
                .with_title("<img src=x onerror=alert(1)> \"Big\" news")
                .with_url(Some("https://example.org/a?b=1&c=\"2\"".into()))
                .with_footer("Feed <b>bold</b>")
                .with_section(
                    Some("<h1>Sec</h1>".into()),
                    vec![Item {
                        title: "<a href=javascript:x>t</a>".into(),
                        url: Some("javascript:alert(1)".into()),
                        text: "line1\nline2 @ROOM".into(),
                        meta: Some("m<".into()),
                        also_in: vec!["<i>x</i>".into()],
                        marks: vec![],
                    }],
                );
        r.image_url = Some("https://img.example.org/p.jpg".into());
        r
    }

    #[test]
    fn feed_text_cannot_inject_markup_or_mentions() {
        let (body, html) = render(&hostile(), "!herald");
        for bad in
            ["<script", "<img", "<h1>", "<i>x", "<b>bold", "href=\"javascript", "\x1b", "\x07"]
        {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(!body.contains('\x1b'));
        for b in [&body, &html] {
            assert!(!b.to_ascii_lowercase().contains("@room"), "{b}");
        }
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<a href=\"https://example.org/a?b=1&amp;c=%222%22\">"), "{html}");
        assert!(html.contains("<a href=\"https://img.example.org/p.jpg\">"), "{html}");
        assert!(html.contains("line1<br>line2"), "{html}");
        let c = content(&hostile(), "!herald");
        assert_eq!(c["msgtype"], "m.notice");
        assert_eq!(c["format"], "org.matrix.custom.html");
        assert_eq!(c["m.mentions"], json!({}));
    }

    #[test]
    fn herald_s_own_commands_and_links_render_and_feed_text_stays_escaped() {
        let own = Reply::info(
            "Subscribe with `subscribe 1`; a <b> in `code`. Docs: https://x.org/a?b=1&c=2.",
        );
        let (body, html) = render(&own, "!herald");
        assert!(html.contains("<code>!herald subscribe 1</code>"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("a &lt;b&gt; in"), "{html}");
        assert!(
            html.contains(
                "<a href=\"https://x.org/a?b=1&amp;c=2\">https://x.org/a?b=1&amp;c=2</a>."
            ),
            "{html}"
        );
        assert!(body.contains("`!herald subscribe 1`"), "{body}");
        let help = crate::commands::cmd::help::help(Some("digest"));
        let (body, html) = render(&help, "!rss");
        assert!(body.contains("`!rss digest now`"), "{body}");
        assert!(html.contains("<code>!rss digest now</code>"), "{html}");
        let usage = Reply::error(
            crate::commands::parse::parse("digest").expect_err("no subcommand").to_string(),
        );
        let (body, _) = render(&usage, "!herald");
        assert!(
            body.contains(
                "`!herald digest schedule SPEC [TZ] | !herald digest now | !herald digest preview`"
            ),
            "{body}"
        );
        let mut page = Reply::info("results");
        page.page = Some(crate::reply::Page {
            number: 1,
            has_next: true,
            next_command: Some("search korea --page 2".into()),
        });
        let (body, html) = render(&page, "!herald");
        assert!(body.contains("more: !herald search korea --page 2"), "{body}");
        assert!(html.contains("<code>!herald search korea --page 2</code>"), "{html}");
        // An article's text is the feed's: its backticks and URLs stay as typed.
        let mut post = Reply::info("`subscribe 1` https://evil.example/x");
        post.tone = Tone::Article;
        let (_, html) = render(&post, "!herald");
        assert!(!html.contains("<code>") && !html.contains("evil.example/x\">"), "{html}");
    }

    #[test]
    fn search_matches_are_bold_and_escaped() {
        let item = Item {
            title: "t".into(),
            text: "say @room <now>".into(),
            marks: vec![5..9, 10..15],
            ..Item::default()
        };
        let html = item_html(&item);
        assert!(html.contains("say @\u{2060}<b>room</b> <b>&lt;now&gt;</b>"), "{html}");
    }

    #[test]
    fn defang_keeps_other_text() {
        assert_eq!(defang("mail a@b.c"), "mail a@b.c");
        assert_eq!(defang("@room!"), "@\u{2060}room!");
        assert_eq!(defang("@"), "@");
    }
}
