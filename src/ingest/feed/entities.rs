//! Character references in feed text: XML's five, numeric ones, every HTML named entity
//! (feeds use `&nbsp;` and `&eacute;` without declaring them, and feedparser reads them),
//! and the entities a document's own DTD declares (one level, never recursively: a
//! "billion laughs" DTD expands to its literal text once, not exponentially).

use std::borrow::Cow;

use markup5ever::data::NAMED_ENTITIES;

/// The most text one document's declared entities may expand to, in total.
pub const MAX_DECLARED_EXPANSION: usize = 1 << 20;

/// Entities declared in the document's DTD (`<!ENTITY name "value">`), with a budget.
#[derive(Debug, Default)]
pub struct Declared {
    entries: Vec<(String, String)>,
    pub budget: usize,
}

impl Declared {
    /// Reads the internal subset of a `<!DOCTYPE …>`. Values are taken literally.
    pub fn from_doctype(doctype: &str) -> Self {
        let mut entries = Vec::new();
        let mut rest = doctype;
        while let Some(at) = rest.find("<!ENTITY") {
            rest = &rest[at + "<!ENTITY".len()..];
            let decl = rest.trim_start();
            if decl.starts_with('%') {
                continue; // parameter entities shape the DTD only
            }
            let name_end = decl.find(|c: char| c.is_whitespace()).unwrap_or(decl.len());
            let name = &decl[..name_end];
            let after = decl[name_end..].trim_start();
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue; // SYSTEM/PUBLIC: external entities are never fetched
            };
            let Some(end) = after[1..].find(quote) else { break };
            if entries.len() < 256 {
                entries.push((name.to_string(), after[1..1 + end].to_string()));
            }
        }
        Declared { entries, budget: MAX_DECLARED_EXPANSION }
    }

    fn get(&mut self, name: &str) -> Option<String> {
        let value = self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)?;
        if value.len() > self.budget {
            return None;
        }
        self.budget -= value.len();
        // The value may hold character references of its own; those are expanded,
        // other entity references are not (no recursion).
        Some(decode(value, None).into_owned())
    }
}

/// A named HTML entity's text (`eacute` → "é").
pub fn html_entity(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 32 {
        return None;
    }
    // HTML 4 (which feedparser follows) and HTML 5 differ on these two angle brackets.
    match name {
        "lang" => return Some("\u{2329}".into()),
        "rang" => return Some("\u{232A}".into()),
        _ => {}
    }
    let key = format!("{name};");
    let &(a, b) = NAMED_ENTITIES.get(key.as_str())?;
    let a = char::from_u32(a).filter(|_| a != 0)?;
    let mut s = String::from(a);
    if b != 0 {
        s.extend(char::from_u32(b));
    }
    Some(s)
}

/// Decodes references in XML text. An unknown or malformed reference stays as written.
pub fn decode<'a>(s: &'a str, mut declared: Option<&mut Declared>) -> Cow<'a, str> {
    replace_references(s, |name| reference(name, declared.as_deref_mut()))
}

fn reference(name: &str, declared: Option<&mut Declared>) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        // windows-1252's C1 range, as browsers and feedparser read it.
        let c = match code {
            0x80..=0x9F => {
                let byte = [code as u8];
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte).0.chars().next()
            }
            0 => None,
            _ => char::from_u32(code),
        }?;
        return Some(c.to_string());
    }
    match name {
        "amp" => return Some("&".into()),
        "lt" => return Some("<".into()),
        "gt" => return Some(">".into()),
        "quot" => return Some("\"".into()),
        "apos" => return Some("'".into()),
        _ => {}
    }
    if let Some(d) = declared
        && let Some(v) = d.get(name)
    {
        return Some(v);
    }
    html_entity(name)
}

/// Replaces named HTML entities other than the markup-significant five in an HTML
/// string, so a later HTML-to-text pass that knows only the common ones loses none.
pub fn expand_named(html: &str) -> Cow<'_, str> {
    replace_references(html, |name| {
        let keep = name.starts_with('#') || ["amp", "lt", "gt", "quot", "apos"].contains(&name);
        if keep { None } else { html_entity(name) }
    })
}

/// `s` with each `&name;` (name under 40 bytes) that `replace` knows replaced by its text;
/// the others stay as written.
fn replace_references<'a>(
    s: &'a str,
    mut replace: impl FnMut(&str) -> Option<String>,
) -> Cow<'a, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp + 1..];
        let end = tail.bytes().take(40).position(|b| b == b';');
        match end.and_then(|end| replace(&tail[..end]).map(|text| (text, end))) {
            Some((text, end)) => {
                out.push_str(&text);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Escapes text for inclusion in HTML.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_decode_and_unknown_ones_stay() {
        assert_eq!(decode("a &amp; b &eacute;&nbsp;&#233;&#xE9;&#150;", None), "a & b é\u{a0}éé–");
        assert_eq!(decode("AT&T &bogus; & &#xZZ;", None), "AT&T &bogus; & &#xZZ;");
        let mut d = Declared::from_doctype(
            "<!DOCTYPE rss [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\"><!ENTITY ext SYSTEM \"file:///etc/passwd\">]>",
        );
        assert_eq!(decode("&lol; &lol2; &ext;", Some(&mut d)), "lol &lol;&lol; &ext;");
        assert_eq!(expand_named("&lt;b&gt; &eacute; &amp;"), "&lt;b&gt; é &amp;");
    }
}
