//! OPML, the format feed readers exchange subscription lists in.

use quick_xml::Reader;
use quick_xml::events::Event;

/// One feed named in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub title: Option<String>,
}

/// Reads every `<outline xmlUrl="...">`, at any depth (folders are flattened).
pub fn parse_opml(bytes: &[u8]) -> Result<Vec<OpmlFeed>, String> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    let mut feeds = Vec::new();
    let mut saw_opml = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not valid OPML: {e} (at byte {})", reader.error_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                if name.as_ref().eq_ignore_ascii_case("opml") {
                    saw_opml = true;
                }
                if !name.as_ref().eq_ignore_ascii_case("outline") {
                    continue;
                }
                let mut url = None;
                let mut title = None;
                let mut text = None;
                for attr in e.attributes().flatten() {
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default();
                    if value.is_empty() {
                        continue;
                    }
                    match attr.key.local_name().as_ref().to_ascii_lowercase().as_str() {
                        "xmlurl" => url = Some(value),
                        "title" => title = Some(value),
                        "text" => text = Some(value),
                        _ => {}
                    }
                }
                if let Some(url) = url {
                    feeds.push(OpmlFeed { url, title: title.or(text) });
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_opml {
        return Err("not an OPML file (no <opml> element)".into());
    }
    Ok(feeds)
}

/// Writes an OPML 2.0 document listing `feeds`.
pub fn write_opml(title: &str, feeds: &[OpmlFeed]) -> String {
    let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str(&format!("  <head><title>{}</title></head>\n  <body>\n", esc(title)));
    for f in feeds {
        let name = esc(f.title.as_deref().unwrap_or(&f.url));
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{}\"/>\n",
            esc(&f.url)
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_nesting() {
        let feeds = vec![
            OpmlFeed {
                url: "https://a.example/feed?x=1&y=2".into(),
                title: Some("A & \"B\"".into()),
            },
            OpmlFeed { url: "https://c.example/rss".into(), title: None },
        ];
        let doc = write_opml("herald", &feeds);
        let back = parse_opml(doc.as_bytes()).expect("own output parses");
        assert_eq!(back[0], feeds[0]);
        assert_eq!(back[1].url, feeds[1].url);

        let nested = br#"<opml version="1.0"><body><outline text="News">
            <outline text="X" xmlUrl="https://x.example/feed"/></outline></body></opml>"#;
        assert_eq!(parse_opml(nested).expect("valid").len(), 1);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(parse_opml(b"<html><body>hi</body></html>").is_err());
        assert!(parse_opml(b"\x00\x01garbage").is_err());
    }
}
