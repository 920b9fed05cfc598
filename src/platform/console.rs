//! Terminal rendering of a [`Reply`]: plain text, no markup.
//!
//! Everything in a reply may come from a feed, and a terminal obeys escape
//! sequences: a title carrying `ESC ]` could retitle the window, rewrite the
//! clipboard or hide lines with cursor moves. So every piece of text passes
//! through [`clean`] (or [`clean_line`] where a line break would break the
//! layout) before it is printed.

use crate::reply::{Item, Reply, Tone};

/// Renders a reply as lines of plain text, ending without a newline.
pub fn render(reply: &Reply) -> String {
    let mut out: Vec<String> = Vec::new();
    let mark = match reply.tone {
        Tone::Error => "✗ ",
        Tone::Success => "✓ ",
        _ => "",
    };
    let url = reply.url.as_deref().map(clean_line).filter(|u| !u.is_empty());
    let title = reply.title.as_deref().map(clean_line).filter(|t| !t.is_empty());
    // A subscription's template, filled: the terminal shows its text as written.
    let text = match &reply.templated {
        Some(t) => clean(&crate::domain::template::plain(&t.template.render(
            &t.fields,
            usize::MAX,
            &|p: &crate::domain::template::Piece| p.as_str().len(),
        ))),
        None => clean(&reply.text),
    };
    let text = text.trim();

    match (title, text.is_empty()) {
        (Some(t), _) => {
            out.push(match &url {
                Some(u) => format!("{mark}{t} <{u}>"),
                None => format!("{mark}{t}"),
            });
            if !text.is_empty() {
                out.push(text.to_string());
            }
        }
        // Without a title the mark goes in front of the text, where the eye
        // starts reading.
        (None, false) => {
            out.push(format!("{mark}{text}"));
            if let Some(u) = &url {
                out.push(format!("<{u}>"));
            }
        }
        (None, true) => {
            let head = match &url {
                Some(u) => format!("{mark}<{u}>"),
                None => mark.trim_end().to_string(),
            };
            if !head.is_empty() {
                out.push(head);
            }
        }
    }

    for f in &reply.fields {
        out.push(format!("{}: {}", clean_line(&f.name), clean(&f.value).trim()));
    }

    for section in reply.sections.iter().filter(|s| s.heading.is_some() || !s.items.is_empty()) {
        out.push(String::new());
        if let Some(h) = section.heading.as_deref().map(clean_line).filter(|h| !h.is_empty()) {
            out.push(format!("── {h} ──"));
        }
        for item in &section.items {
            render_item(item, &mut out);
        }
    }

    if let Some(footer) = reply.footer.as_deref().map(clean_line).filter(|f| !f.is_empty()) {
        out.push(String::new());
        out.push(footer);
    }

    if let Some(page) = &reply.page {
        let next = page.next_command.as_deref().map(clean_line).filter(|c| !c.is_empty());
        let hint = match (page.has_next, next) {
            (true, Some(cmd)) => format!("(page {} — more: {cmd})", page.number),
            (true, None) => format!("(page {} — more available)", page.number),
            (false, _) if page.number > 1 => format!("(page {}, last)", page.number),
            (false, _) => String::new(),
        };
        if !hint.is_empty() {
            out.push(hint);
        }
    }

    out.join("\n")
}

fn render_item(item: &Item, out: &mut Vec<String>) {
    let title = clean_line(&item.title);
    out.push(format!("• {}", if title.is_empty() { "(untitled)" } else { &title }));
    if let Some(meta) = item.meta.as_deref().map(clean_line).filter(|m| !m.is_empty()) {
        out.push(format!("  {meta}"));
    }
    let text = clean(&item.text);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push(format!("  {line}"));
    }
    if let Some(url) = item.url.as_deref().map(clean_line).filter(|u| !u.is_empty()) {
        out.push(format!("  {url}"));
    }
    let also: Vec<String> =
        item.also_in.iter().map(|f| clean_line(f)).filter(|f| !f.is_empty()).collect();
    if !also.is_empty() {
        out.push(format!("  also in: {}", also.join(", ")));
    }
}

/// `s` with everything a terminal could act on removed: ANSI escape sequences
/// (CSI, OSC, DCS and other strings, two-byte escapes), C0 controls except
/// `\n` (tabs become spaces, so words stay apart), DEL, C1 controls, and
/// bidirectional overrides (which can make text read differently from what it
/// is). Runs of whitespace are otherwise kept.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) || c == '\n' {
                            if c == '\n' {
                                out.push('\n');
                            }
                            break;
                        }
                    }
                }
                // Strings (OSC, DCS, SOS, PM, APC) end at BEL or ESC \. An
                // unterminated one is cut at the end of the line rather than
                // eating the rest of the text.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        match c {
                            '\u{7}' => break,
                            '\u{1b}' => {
                                if chars.peek() == Some(&'\\') {
                                    chars.next();
                                }
                                break;
                            }
                            '\n' => {
                                out.push('\n');
                                break;
                            }
                            _ => {}
                        }
                    }
                }
                // Two-byte escapes (ESC c resets the terminal, ESC 7 saves the
                // cursor...): drop both; keep a line break that follows.
                Some('\n') => out.push('\n'),
                _ => {}
            },
            c if c.is_control() => {}
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

/// [`clean`] for text that must stay on one line (titles, headings, URLs):
/// line breaks become spaces and runs of spaces collapse.
pub fn clean_line(s: &str) -> String {
    clean(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Page, Visibility};

    fn digest() -> Reply {
        let mut r = Reply::public(Tone::Digest, "")
            .with_title("Digest · Mon 30 Nov 2026, 08:00–09:00 (Europe/Berlin)")
            .with_footer("2 articles from 3 feeds");
        r.sections.push(crate::reply::Section {
            heading: Some("World".into()),
            items: vec![
                Item {
                    title: "Talks resume in Panmunjom".into(),
                    url: Some("https://example.org/1".into()),
                    text: "Negotiators met on Tuesday. Both sides agreed to talk again.".into(),
                    meta: Some("08:15 · #1".into()),
                    also_in: vec!["Wire".into(), "Daily".into()],
                    marks: vec![],
                },
                Item { title: "No link".into(), ..Default::default() },
            ],
        });
        r
    }

    #[test]
    fn digest_layout() {
        assert_eq!(
            render(&digest()),
            "Digest · Mon 30 Nov 2026, 08:00–09:00 (Europe/Berlin)\n\
             \n\
             ── World ──\n\
             • Talks resume in Panmunjom\n  \
             08:15 · #1\n  \
             Negotiators met on Tuesday. Both sides agreed to talk again.\n  \
             https://example.org/1\n  \
             also in: Wire, Daily\n\
             • No link\n\
             \n\
             2 articles from 3 feeds"
        );
    }

    #[test]
    fn marks_titles_fields_and_paging() {
        assert_eq!(render(&Reply::error("no such feed")), "✗ no such feed");
        assert_eq!(render(&Reply::success("subscribed")), "✓ subscribed");
        assert_eq!(render(&Reply::info("ok")), "ok");

        let mut r = Reply::public(Tone::Article, "First paragraph.\n\nSecond.")
            .with_title("Budget passes")
            .with_url(Some("https://example.org/a".into()))
            .with_field("feed", "Example News")
            .with_field("published", "2026-11-30 08:00");
        r.page = Some(Page { number: 2, has_next: true, next_command: Some("!more 3".into()) });
        assert_eq!(r.visibility, Visibility::Public);
        assert_eq!(
            render(&r),
            "Budget passes <https://example.org/a>\n\
             First paragraph.\n\nSecond.\n\
             feed: Example News\n\
             published: 2026-11-30 08:00\n\
             (page 2 — more: !more 3)"
        );

        let mut e = Reply::error("bad schedule").with_title("Schedule");
        e.page = Some(Page { number: 3, has_next: false, next_command: None });
        assert_eq!(render(&e), "✗ Schedule\nbad schedule\n(page 3, last)");
        let mut first = Reply::info("x");
        first.page = Some(Page { number: 1, has_next: false, next_command: None });
        assert_eq!(render(&first), "x");
    }

    #[test]
    fn url_without_title_goes_on_its_own_line() {
        let r = Reply::public(Tone::Article, "Body").with_url(Some("https://e.org/".into()));
        assert_eq!(render(&r), "Body\n<https://e.org/>");
    }

    #[test]
    fn feeds_cannot_drive_the_terminal() {
        let evil = "Red\u{1b}[31mAlert\u{1b}[0m \u{1b}]0;pwned\u{7}title \
                    \u{1b}]52;c;ZXZpbA==\u{1b}\\clip\r\n\
                    \u{1b}cReset \u{9b}31mC1 \u{7}bell\u{8}\u{7f} tab\there \u{202e}gnp.exe";
        let c = clean(evil);
        assert_eq!(c, "RedAlert title clip\nReset 31mC1 bell tab here gnp.exe");
        assert!(!c.chars().any(|ch| ch.is_control() && ch != '\n'));
        // An unterminated OSC ends at the line, not at the end of the text.
        assert_eq!(clean("a\u{1b}]0;junk\nb"), "a\nb");
        assert_eq!(clean("x\u{1b}[2J"), "x");
        assert_eq!(clean_line("Two\nlines\r\n here"), "Two lines here");

        let mut r = digest();
        r.title = Some("T\u{1b}[2Jitle\nsecond".into());
        r.sections[0].items[0].url = Some("https://e.org/\u{1b}]8;;https://evil\u{7}x".into());
        r.sections[0].items[0].also_in = vec!["W\u{1b}[1mire".into()];
        let out = render(&r);
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(out.starts_with("Title second\n"), "{out}");
        assert!(out.contains("  https://e.org/x\n"), "{out}");
        assert!(out.contains("also in: Wire"), "{out}");
    }
}
