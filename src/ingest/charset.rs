//! Bytes of a web page → text, in the page's own character encoding.
//!
//! Many news sites still serve windows-1252, ISO-8859-x, Shift_JIS or GBK. Reading those
//! as UTF-8 turns every accented letter into U+FFFD, which then reaches summaries and
//! posts. The order follows the HTML standard's sniffing, simplified: a byte order mark,
//! then the `Content-Type` charset, then a `<meta>` declaration near the top, then UTF-8
//! if the bytes are valid UTF-8, and windows-1252 (what browsers assume) otherwise.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How far into a page a `<meta charset>` is looked for (the standard says 1024 bytes;
/// some CMSes put long comments or scripts first).
const META_SCAN: usize = 4096;

/// Decodes an HTML page; malformed sequences become U+FFFD, never an error.
pub fn decode_html<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let encoding = Encoding::for_bom(bytes)
        .map(|(enc, _)| enc)
        .or_else(|| content_type.and_then(charset_param).and_then(label))
        .or_else(|| meta_charset(&bytes[..bytes.len().min(META_SCAN)]))
        .unwrap_or_else(|| if std::str::from_utf8(bytes).is_ok() { UTF_8 } else { WINDOWS_1252 });
    // `decode` strips a BOM, and treats a declared UTF-16 on an ASCII-looking page as
    // the standard does (the page could not have parsed its own meta tag otherwise).
    let (text, _, _) = encoding.decode(bytes);
    text
}

/// An encoding label as the standard maps it ("latin1" → windows-1252, "utf8" → UTF-8).
fn label(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.trim().trim_matches(['"', '\'']).as_bytes())
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim().eq_ignore_ascii_case("charset").then_some(value)
    })
}

/// `<meta charset="…">` or `<meta http-equiv="Content-Type" content="…; charset=…">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    // Labels are ASCII, so a lossy view of the head is enough to find them.
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(i) = rest.find("<meta") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if let Some(at) = tag.find("charset") {
            let value = tag[at + "charset".len()..].trim_start();
            if let Some(value) = value.strip_prefix('=') {
                let value = value.trim_start().trim_start_matches(['"', '\'']);
                let end = value
                    .find(|c: char| {
                        c == '"' || c == '\'' || c == ';' || c == '/' || c.is_whitespace()
                    })
                    .unwrap_or(value.len());
                // A page that says UTF-16 in ASCII is not UTF-16 (the standard's rule).
                return label(&value[..end]).map(|enc| {
                    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        UTF_8
                    } else {
                        enc
                    }
                });
            }
        }
        rest = &rest[tag_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_encoding_wins_and_utf8_is_the_fallback() {
        // "Café São Paulo" in windows-1252 / ISO-8859-1 bytes.
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><p>Caf\xe9 S\xe3o Paulo</p>";
        assert!(decode_html(latin1, None).contains("Café São Paulo"));
        let http_equiv = b"<meta http-equiv='Content-Type' content='text/html; charset=windows-1252'>\x93quoted\x94";
        assert!(decode_html(http_equiv, None).contains("\u{201c}quoted\u{201d}"));
        let header = b"<p>Caf\xe9</p>";
        assert!(decode_html(header, Some("text/html; Charset=\"latin1\"")).contains("Café"));
        // Shift_JIS for 日本 (Japan).
        let sjis = b"<meta charset=shift_jis><p>\x93\xfa\x96\x7b</p>";
        assert!(decode_html(sjis, None).contains("日本"));
        // No declaration: valid UTF-8 stays UTF-8; anything else is read as windows-1252.
        assert!(decode_html("<p>Zürich</p>".as_bytes(), None).contains("Zürich"));
        assert!(decode_html(b"<p>Z\xfcrich</p>", None).contains("Zürich"));
        // A BOM beats a wrong header.
        let bom = b"\xef\xbb\xbf<p>\xc3\xa9t\xc3\xa9</p>";
        assert!(decode_html(bom, Some("text/html; charset=iso-8859-1")).contains("été"));
        // Unknown labels fall through to the next clue.
        assert!(
            decode_html("<p>ok é</p>".as_bytes(), Some("text/html; charset=bogus")).contains("é")
        );
        // Meta saying UTF-16 on an ASCII page means UTF-8.
        assert!(decode_html("<meta charset=utf-16><p>é</p>".as_bytes(), None).contains("é"));
    }
}
