//! A forgiving XML tokenizer. It never fails: what is not a well-formed tag is text (an
//! unescaped `<` or `&` in a title), attributes may be single-, double- or unquoted or
//! have no value, and a construct left open at the end of the document ends there.
//! It only splits the text; entity references and element nesting are the caller's.
//! Every delimiter it looks for is ASCII, so each slice it makes is on a char boundary.

/// One piece of the document.
#[derive(Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// `<name attrs>` or `<name attrs/>`; `attrs` is the raw text between name and `>`.
    Start {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    End {
        name: &'a str,
    },
    /// Character data with its references still undecoded.
    Text(&'a str),
    CData(&'a str),
    Doctype(&'a str),
}

pub struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Tokenizer<'a> {
    pub fn new(src: &'a str) -> Self {
        Tokenizer { src, pos: 0 }
    }

    /// Byte offset of the next token: lets a caller keep raw source (inline XHTML).
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn src(&self) -> &'a str {
        self.src
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        loop {
            let rest = &src[self.pos..];
            if rest.is_empty() {
                return None;
            }
            if !rest.starts_with('<') {
                let end = rest.find('<').unwrap_or(rest.len());
                self.pos += end;
                return Some(Token::Text(&rest[..end]));
            }
            let after = &rest[1..];
            if let Some(body) = after.strip_prefix("!--") {
                let end = body.find("-->").map_or(body.len(), |e| e + 3);
                self.pos += 4 + end;
                continue;
            }
            if let Some(body) = after.strip_prefix("![CDATA[") {
                let (inner, used) = match body.find("]]>") {
                    Some(e) => (&body[..e], e + 3),
                    None => (body, body.len()),
                };
                self.pos += 9 + used;
                return Some(Token::CData(inner));
            }
            if let Some(body) = after.strip_prefix('?') {
                let end = body.find("?>").map_or(body.len(), |e| e + 2);
                self.pos += 2 + end;
                continue;
            }
            if after.starts_with('!') {
                let len = declaration_len(rest);
                if !rest[..len].ends_with('>') {
                    // A declaration that never closes is text ("&lt;!DOCTYPE ~" in HTML), all
                    // of the rest: rescanning from each later `<!` would be quadratic.
                    self.pos = src.len();
                    return Some(Token::Text(rest));
                }
                self.pos += len;
                return Some(Token::Doctype(&rest[..len]));
            }
            if let Some(body) = after.strip_prefix('/') {
                if body.as_bytes().first().copied().is_some_and(is_name_start) {
                    let gt = body.find('>').unwrap_or(body.len());
                    let name =
                        body[..gt].split(|c: char| c.is_ascii_whitespace()).next().unwrap_or("");
                    self.pos += 2 + (gt + 1).min(body.len());
                    return Some(Token::End { name });
                }
                self.pos += 1;
                return Some(Token::Text("<"));
            }
            if !after.as_bytes().first().copied().is_some_and(is_name_start) {
                // A `<` that opens nothing is text ("a < b").
                self.pos += 1;
                return Some(Token::Text("<"));
            }
            let start = self.pos + 1;
            let name_end = after
                .bytes()
                .position(|b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
                .map_or(src.len(), |p| start + p);
            let name = &src[start..name_end];
            let close = tag_end(bytes, name_end);
            let inner_end = close.min(src.len());
            let mut attrs = &src[name_end..inner_end];
            let empty = attrs.trim_end().ends_with('/');
            if empty {
                attrs = attrs.trim_end().trim_end_matches('/');
            }
            self.pos = (close + 1).min(src.len());
            return Some(Token::Start { name, attrs, empty });
        }
    }
}

/// Index of the `>` closing a start tag whose attributes begin at `from`: quotes that
/// open an attribute value protect a `>`; an unclosed quote falls back to the first `>`.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let first_gt = memchr(b'>', bytes, from).unwrap_or(bytes.len());
    let mut i = from;
    let mut after_eq = false;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return i,
            b'=' => after_eq = true,
            q @ (b'"' | b'\'') if after_eq => match memchr(q, bytes, i + 1) {
                Some(e) => {
                    i = e;
                    after_eq = false;
                }
                None => return first_gt,
            },
            b if b.is_ascii_whitespace() => {}
            b'<' if i > first_gt => return first_gt,
            _ => after_eq = false,
        }
        i += 1;
    }
    bytes.len()
}

fn memchr(needle: u8, bytes: &[u8], from: usize) -> Option<usize> {
    bytes.get(from..)?.iter().position(|&b| b == needle).map(|p| p + from)
}

/// Length of a `<!…>` declaration, its `[…]` internal subset included.
fn declaration_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(2) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') if depth > 0 => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return i + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// Attributes read from one tag at most: the rest are ignored (a tag with 500,000
/// attributes costs no more than one with this many).
pub const MAX_ATTRIBUTES: usize = 64;

/// Attributes of a start tag, leniently: `a="x"`, `a='x'`, `a=x`, and a bare `a`.
pub fn attributes(raw: &str) -> Attributes<'_> {
    Attributes { rest: raw, left: MAX_ATTRIBUTES }
}

pub struct Attributes<'a> {
    rest: &'a str,
    left: usize,
}

impl<'a> Iterator for Attributes<'a> {
    /// (name, raw value with references undecoded)
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() || self.left == 0 {
                return None;
            }
            let name_end = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
                .unwrap_or(rest.len());
            if name_end == 0 {
                // A stray `=` or quote: skip a character (ASCII, so a boundary).
                let skip = rest.chars().next().map_or(1, char::len_utf8);
                self.rest = &rest[skip..];
                continue;
            }
            let name = &rest[..name_end];
            let after = rest[name_end..].trim_start_matches(|c: char| c.is_ascii_whitespace());
            self.left -= 1;
            let Some(value) = after.strip_prefix('=') else {
                self.rest = after;
                return Some((name, ""));
            };
            let value = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let (v, rest) = match value.chars().next() {
                Some(q @ ('"' | '\'')) => match value[1..].find(q) {
                    Some(e) => (&value[1..1 + e], &value[2 + e..]),
                    None => (&value[1..], ""),
                },
                _ => {
                    let e = value.find(|c: char| c.is_ascii_whitespace()).unwrap_or(value.len());
                    (&value[..e], &value[e..])
                }
            };
            self.rest = rest;
            return Some((name, v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgiving_tokens() {
        let toks: Vec<Token> =
            Tokenizer::new("<?xml?><!DOCTYPE x [<!ENTITY a \">\">]><a b='1>2' c=d e><![CDATA[<x>]]>1 < 2 & 3</a><br/></ b").collect();
        assert_eq!(
            toks,
            vec![
                Token::Doctype("<!DOCTYPE x [<!ENTITY a \">\">]>"),
                Token::Start { name: "a", attrs: " b='1>2' c=d e", empty: false },
                Token::CData("<x>"),
                Token::Text("1 "),
                Token::Text("<"),
                Token::Text(" 2 & 3"),
                Token::End { name: "a" },
                Token::Start { name: "br", attrs: "", empty: true },
                Token::Text("<"),
                Token::Text("/ b"),
            ]
        );
        let attrs: Vec<_> = attributes(" b='1>2' c=d e f = \"g\"").collect();
        assert_eq!(attrs, vec![("b", "1>2"), ("c", "d"), ("e", ""), ("f", "g")]);
        assert_eq!(Tokenizer::new("<!DOCTYPE ~").next(), Some(Token::Text("<!DOCTYPE ~")));
        for s in ["<", "<a", "<a b='", "<!--", "<![CDATA[", "<!DOCTYPE [", "</", "<?", "é<é"] {
            let _ = Tokenizer::new(s).count();
        }
    }
}
