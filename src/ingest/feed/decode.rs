//! Feed bytes → text, choosing the encoding in feedparser's order (which follows RFC 3023):
//! a byte order mark or the byte pattern of `<?xm` in UTF-16/32, then the HTTP charset
//! (for `application/…xml`, falling back to the XML declaration; for `text/…`, falling back
//! to US-ASCII as the RFC says), then the XML declaration, then UTF-8, then windows-1252.
//! Each candidate is tried strictly; the first that decodes the whole document wins, so a
//! Latin-1 feed declared as UTF-8 is still read as Latin-1.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// An encoding herald can decode: encoding_rs's, plus the UTF-32s and US-ASCII, which the
/// web standard encoding_rs implements does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Std(&'static Encoding),
    Utf32Be,
    Utf32Le,
    Ascii,
}

/// Decodes feed bytes to text. `content_type` is the HTTP `Content-Type`, when known.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let (bom, body) = sniff_bom(bytes);
    let declared = xml_declared_encoding(body, bom);
    let http = content_type.map(parse_content_type);

    // RFC 3023 as feedparser applies it.
    let rfc3023 = match &http {
        Some((mime, charset)) if is_application_xml(mime) => {
            charset.or(declared).or(Some(Candidate::Std(UTF_8)))
        }
        Some((mime, charset)) if mime.starts_with("text/") => charset.or(Some(Candidate::Ascii)),
        _ => declared.or(bom),
    };
    let order =
        [rfc3023, declared, bom, Some(Candidate::Std(UTF_8)), Some(Candidate::Std(WINDOWS_1252))];
    let mut tried: Vec<Candidate> = Vec::with_capacity(order.len());
    for cand in order.into_iter().flatten() {
        if tried.contains(&cand) {
            continue;
        }
        tried.push(cand);
        if let Some(text) = decode_strict(body, cand) {
            return text;
        }
    }
    // windows-1252 maps every byte, so the loop returns; this is only a safe default.
    WINDOWS_1252.decode_without_bom_handling(body).0.into_owned()
}

/// A byte order mark (removed) or the byte pattern of a UTF-16/32 document's first `<`.
fn sniff_bom(bytes: &[u8]) -> (Option<Candidate>, &[u8]) {
    let head = |n: usize| bytes.get(..n).unwrap_or(&[]);
    match head(4) {
        [0x00, 0x00, 0xFE, 0xFF] => return (Some(Candidate::Utf32Be), &bytes[4..]),
        [0xFF, 0xFE, 0x00, 0x00] => return (Some(Candidate::Utf32Le), &bytes[4..]),
        [0x00, 0x00, 0x00, 0x3C] => return (Some(Candidate::Utf32Be), bytes),
        [0x3C, 0x00, 0x00, 0x00] => return (Some(Candidate::Utf32Le), bytes),
        [0x00, 0x3C, 0x00, 0x3F] => return (Some(Candidate::Std(UTF_16BE)), bytes),
        [0x3C, 0x00, 0x3F, 0x00] => return (Some(Candidate::Std(UTF_16LE)), bytes),
        _ => {}
    }
    match head(3) {
        [0xEF, 0xBB, 0xBF] => return (Some(Candidate::Std(UTF_8)), &bytes[3..]),
        [0xFE, 0xFF, _] => return (Some(Candidate::Std(UTF_16BE)), &bytes[2..]),
        [0xFF, 0xFE, _] => return (Some(Candidate::Std(UTF_16LE)), &bytes[2..]),
        _ => {}
    }
    match head(2) {
        [0xFE, 0xFF] => (Some(Candidate::Std(UTF_16BE)), &bytes[2..]),
        [0xFF, 0xFE] => (Some(Candidate::Std(UTF_16LE)), &bytes[2..]),
        _ => (None, bytes),
    }
}

/// The `encoding` of the XML declaration (read through the BOM's encoding, if any).
fn xml_declared_encoding(body: &[u8], bom: Option<Candidate>) -> Option<Candidate> {
    let head = &body[..body.len().min(1024)];
    let text = match bom {
        Some(cand) => decode_lossy_head(head, cand),
        None => String::from_utf8_lossy(head).into_owned(),
    };
    let decl = text.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let value = decl[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &value[1..];
    let name = &value[..value.find(quote)?];
    let cand = label(name)?;
    // A BOM's UTF-16/32 is more precise than a declaration of plain "UTF-16".
    match (bom, cand) {
        (Some(b), Candidate::Std(e)) if e == UTF_16LE || e == UTF_16BE => Some(b),
        (Some(b), Candidate::Utf32Be | Candidate::Utf32Le) => Some(b),
        _ => Some(cand),
    }
}

fn decode_lossy_head(head: &[u8], cand: Candidate) -> String {
    match cand {
        Candidate::Std(e) => e.decode_without_bom_handling(head).0.into_owned(),
        Candidate::Utf32Be | Candidate::Utf32Le => {
            let even = &head[..head.len() / 4 * 4];
            decode_utf32(even, cand == Candidate::Utf32Be).unwrap_or_default()
        }
        Candidate::Ascii => String::from_utf8_lossy(head).into_owned(),
    }
}

/// An encoding label, as feedparser (Python's codecs) reads them where they differ from
/// the web standard: UTF-32 and US-ASCII exist, and GB2312 means GB18030.
fn label(name: &str) -> Option<Candidate> {
    let lower = name.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    match lower.as_str() {
        "utf-32" | "utf32" | "utf-32be" | "ucs-4" | "iso-10646-ucs-4" | "csucs4" => {
            Some(Candidate::Utf32Be)
        }
        "utf-32le" => Some(Candidate::Utf32Le),
        "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" => Some(Candidate::Ascii),
        "utf-16" | "utf16" | "ucs-2" | "iso-10646-ucs-2" | "csunicode" => {
            Some(Candidate::Std(UTF_16BE))
        }
        "gb2312" => Some(Candidate::Std(encoding_rs::GB18030)),
        _ => Encoding::for_label(lower.as_bytes()).map(Candidate::Std),
    }
}

fn is_application_xml(mime: &str) -> bool {
    matches!(
        mime,
        "application/xml" | "application/xml-dtd" | "application/xml-external-parsed-entity"
    ) || (mime.starts_with("application/") && mime.ends_with("+xml"))
}

/// `text/xml; charset="x"` → ("text/xml", the charset as an encoding if herald knows it).
fn parse_content_type(value: &str) -> (String, Option<Candidate>) {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| label(v.trim())).flatten()
    });
    (mime, charset)
}

/// The whole body in `cand`, or None if any byte sequence is invalid in it.
fn decode_strict(body: &[u8], cand: Candidate) -> Option<String> {
    match cand {
        Candidate::Std(e) if e == UTF_8 => match std::str::from_utf8(body) {
            Ok(text) => Some(text.to_owned()),
            // A UTF-8 feed with a stray windows-1252 byte is still UTF-8: reading it all as
            // windows-1252 would garble every other accented letter.
            Err(_) if mostly_utf8(body) => Some(String::from_utf8_lossy(body).into_owned()),
            Err(_) => None,
        },
        Candidate::Std(e) => {
            e.decode_without_bom_handling_and_without_replacement(body).map(|c| c.into_owned())
        }
        Candidate::Ascii => body.is_ascii().then(|| String::from_utf8_lossy(body).into_owned()),
        Candidate::Utf32Be => decode_utf32(body, true),
        Candidate::Utf32Le => decode_utf32(body, false),
    }
}

/// Whether invalid bytes are rare next to valid multi-byte UTF-8 sequences (Latin-1
/// text has almost none of the latter).
fn mostly_utf8(body: &[u8]) -> bool {
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in body.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| c.len_utf8() > 1).count();
        invalid += chunk.invalid().len();
    }
    multibyte > 0 && multibyte >= 4 * invalid
}

fn decode_utf32(body: &[u8], big_endian: bool) -> Option<String> {
    if !body.len().is_multiple_of(4) {
        return None;
    }
    let mut out = String::with_capacity(body.len() / 4);
    for c in body.chunks_exact(4) {
        let word = [c[0], c[1], c[2], c[3]];
        let n = if big_endian { u32::from_be_bytes(word) } else { u32::from_le_bytes(word) };
        out.push(char::from_u32(n)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, big: bool) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    }

    #[test]
    fn encodings_in_feedparser_order() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>é</rss>";
        // UTF-16 with and without BOM, both byte orders.
        assert_eq!(decode(&utf16(doc, true), None), doc);
        let mut bom = vec![0xFF, 0xFE];
        bom.extend(utf16(doc, false));
        assert_eq!(decode(&bom, None), doc);
        // UTF-32 by pattern.
        let be32: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        assert_eq!(decode(&be32, None), doc);
        // Latin-1 declared as UTF-8 is still read.
        let latin = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>caf\xe9</rss>";
        assert!(decode(latin, None).contains("café"));
        // UTF-8 with one stray windows-1252 byte stays UTF-8 (one U+FFFD, not mojibake).
        let mixed = "<rss>é è ê ë à ù \u{fffd}</rss>";
        let mut bytes = "<rss>é è ê ë à ù ".as_bytes().to_vec();
        bytes.extend(b"\x93</rss>");
        assert_eq!(decode(&bytes, None), mixed);
        // The HTTP charset overrides the declaration for application/xml and text/xml.
        let decl = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss>\xc3\xa9</rss>";
        assert!(decode(decl, Some("application/xml; charset=utf-8")).contains('é'));
        assert!(decode(decl, Some("text/xml; charset=\"utf-8\"")).contains('é'));
        assert!(decode(decl, None).contains("Ã©"));
        // text/xml without a charset is US-ASCII; non-ASCII falls back to the declaration.
        assert!(decode(decl, Some("text/xml")).contains("Ã©"));
        // Odd lengths and lone bytes never panic.
        for b in [&[0x00, 0x00, 0x00, 0x3C, 0x01][..], &[0xFE, 0xFF, 0x00], &[0xFF], &[]] {
            let _ = decode(b, Some("application/xml; charset=utf-32"));
        }
    }
}
