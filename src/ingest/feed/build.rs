//! Tokens → feed model: RSS 0.90–2.0 (namespaced or not, with or without a version),
//! RSS 1.0/RDF, Atom 0.3 and 1.0, CDF, and a feed inside an XHTML page, with feedparser's
//! precedence rules (which title, which link). It works in one pass with bounded state:
//! an element stack capped in depth, entries handed to the sink as they close, and
//! entries past the sink's cap skipped without being built.

use url::Url;

use super::entities::{self, Declared};
use super::xml::{Token, Tokenizer, attributes};
use super::{Kind, RawEntry, RawFeed, Refusal, Sink, Text, date};

/// Elements nested deeper than this are text to herald (their tags are ignored).
const MAX_DEPTH: usize = 256;
/// How far up the stack an end tag is matched against open elements.
const MAX_END_SEARCH: usize = 64;
/// The most text one field keeps (a title, one item's content).
const MAX_FIELD: usize = 1 << 20;
/// Namespace declarations kept in scope at once.
const MAX_NAMESPACES: usize = 64;

/// Namespaces feedparser knows, mapped to the prefix it reads them under ("" = the
/// feed format's own elements). Unknown namespaces keep the prefix the document uses.
const KNOWN_NAMESPACES: &[(&str, &str)] = &[
    ("http://backend.userland.com/rss", ""),
    ("http://backend.userland.com/rss2", ""),
    ("http://blogs.law.harvard.edu/tech/rss", ""),
    ("http://purl.org/rss/1.0/", ""),
    ("http://my.netscape.com/rdf/simple/0.9/", ""),
    ("http://example.com/newformat#", ""),
    ("http://example.com/necho", ""),
    ("http://purl.org/echo/", ""),
    ("uri/of/echo/namespace#", ""),
    ("http://purl.org/pie/", ""),
    ("http://purl.org/atom/ns#", ""),
    ("http://www.w3.org/2005/atom", ""),
    ("http://purl.org/rss/1.0/modules/rss091#", ""),
    ("http://purl.org/dc/elements/1.1/", "dc"),
    ("http://purl.org/dc/terms/", "dcterms"),
    ("http://search.yahoo.com/mrss/", "media"),
    ("http://search.yahoo.com/mrss", "media"),
    ("http://purl.org/rss/1.0/modules/content/", "content"),
    ("http://www.w3.org/1999/xhtml", "xhtml"),
    ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdf"),
    ("http://www.itunes.com/dtds/podcast-1.0.dtd", "itunes"),
    ("http://example.com/dtds/podcast-1.0.dtd", "itunes"),
];

fn canonical_prefix(uri: &str) -> Option<&'static str> {
    let lower = uri.trim().to_ascii_lowercase();
    if lower.contains("backend.userland.com/rss") {
        return Some("");
    }
    KNOWN_NAMESPACES.iter().find(|(u, _)| *u == lower).map(|(_, p)| *p)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Other,
    Feed,
    Entry,
    /// An entry past the cap: everything inside is skipped.
    SkippedEntry,
    /// image, textinput, source: their titles and links are not the feed's or entry's.
    Aside,
    EntryImage,
    Capture,
    Author,
}

struct Open<'a> {
    name: &'a str,
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Title { media: bool },
    Link,
    Id { permalink: bool },
    Summary,
    Content,
    Published,
    Updated,
    AuthorName,
    AuthorText,
    Category,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    Html,
    Xhtml,
}

struct Capture {
    field: Field,
    /// Stack depth of the capturing element (its index + 1).
    depth: usize,
    mode: Mode,
    base64: bool,
    text: String,
    markup: String,
    children: bool,
}

/// The fields being collected for the feed or an entry, with feedparser's precedence.
#[derive(Default)]
struct Fields {
    /// Title and its rank: (depth below the context element, is media:title).
    title: Option<((usize, bool), Text)>,
    link: Option<String>,
    id: Option<(usize, String)>,
    published: Option<chrono::DateTime<chrono::Utc>>,
    updated: Option<chrono::DateTime<chrono::Utc>>,
    author: Option<String>,
    content: Option<Text>,
    summary: Option<Text>,
    thumbnail: Option<String>,
    media_image: Option<String>,
    enclosure_image: Option<String>,
    categories: Vec<String>,
}

struct AuthorState {
    depth: usize,
    text: String,
    name: Option<String>,
}

struct Builder<'a, 's, 'k> {
    sink: &'s mut Sink<'k>,
    full: bool,
    declared: Declared,
    doctype_seen: bool,
    stack: Vec<Open<'a>>,
    overflow: usize,
    /// In-scope declarations: (depth, prefix, the canonical prefix if herald knows the URI).
    namespaces: Vec<(usize, &'a str, Option<&'static str>)>,
    base: Option<Url>,
    base_stack: Vec<(usize, Option<Url>)>,
    atom: bool,
    /// The feed sits inside an XHTML page and inherited its namespace.
    xhtml_wrapped: bool,
    saw_feed: bool,
    root_name: Option<&'a str>,
    feed_depth: Option<usize>,
    feed: Fields,
    entry_depth: Option<usize>,
    entry: Fields,
    aside_depth: Option<usize>,
    entry_image: Option<usize>,
    /// Depth of the entry past the cap being skipped.
    skipped_at: Option<usize>,
    capture: Option<Capture>,
    author: Option<AuthorState>,
}

/// Reads an XML (or XML-ish) feed document.
pub fn read(src: &str, base: Option<&str>, sink: &mut Sink<'_>) -> Result<RawFeed, Refusal> {
    let mut b = Builder {
        sink,
        full: false,
        declared: Declared::default(),
        doctype_seen: false,
        stack: Vec::new(),
        overflow: 0,
        namespaces: Vec::new(),
        base: base.and_then(|b| Url::parse(b).ok()),
        base_stack: Vec::new(),
        atom: false,
        xhtml_wrapped: false,
        saw_feed: false,
        root_name: None,
        feed_depth: None,
        feed: Fields::default(),
        entry_depth: None,
        entry: Fields::default(),
        aside_depth: None,
        entry_image: None,
        skipped_at: None,
        capture: None,
        author: None,
    };
    for token in Tokenizer::new(src) {
        match token {
            Token::Start { name, attrs, empty } => {
                b.start(name, attrs);
                if empty {
                    b.end(name);
                }
            }
            Token::End { name } => b.end(name),
            Token::Text(t) => b.text(t, false),
            Token::CData(t) => b.text(t, true),
            Token::Doctype(d) => {
                if !b.doctype_seen && d.get(2..9).is_some_and(|k| k.eq_ignore_ascii_case("doctype"))
                {
                    b.doctype_seen = true;
                    b.declared = Declared::from_doctype(d);
                }
            }
        }
    }
    let truncated =
        b.stack.iter().any(|o| matches!(o.role, Role::Feed | Role::Entry | Role::SkippedEntry));
    if !b.saw_feed {
        let html = b.root_name.is_some_and(|r| r.eq_ignore_ascii_case("html"))
            || src.get(..14).is_some_and(|h| h.eq_ignore_ascii_case("<!doctype html"));
        return Err(Refusal::NoFeed { html });
    }
    if truncated {
        return Err(Refusal::Truncated);
    }
    let feed = std::mem::take(&mut b.feed);
    Ok(RawFeed { title: feed.title.map(|(_, t)| t), link: feed.link })
}

impl<'a> Builder<'a, '_, '_> {
    fn start(&mut self, raw: &'a str, attrs: &'a str) {
        if self.root_name.is_none() {
            self.root_name = Some(raw);
        }
        if self.stack.len() >= MAX_DEPTH {
            self.overflow += 1;
            return;
        }
        // Inside an entry past the cap only nesting is tracked.
        if self.skipping() {
            self.stack.push(Open { name: raw, role: Role::Other });
            return;
        }
        let depth = self.stack.len() + 1;
        if attrs.contains("xmlns") || attrs.contains("base") {
            self.scope(depth, attrs);
        }
        if let Some(cap) = &mut self.capture {
            // Markup inside a text construct: keep it as HTML.
            if !cap.children {
                // The markup is only kept once a construct turns out to hold some.
                cap.children = true;
                entities::escape_into(&mut cap.markup, &cap.text);
            }
            let local = raw.rsplit(':').next().unwrap_or(raw);
            let void = HTML_VOID.iter().any(|v| v.eq_ignore_ascii_case(local));
            if cap.markup.len() + raw.len() + attrs.len() + 3 < MAX_FIELD {
                cap.markup.push('<');
                cap.markup.push_str(local);
                cap.markup.push_str(attrs);
                cap.markup.push_str(if void { "/>" } else { ">" });
            }
            // An HTML void element never closes: nesting it would bury the end tags.
            if !void {
                self.stack.push(Open { name: raw, role: Role::Other });
            }
            return;
        }
        let mut name = self.canonical(raw);
        // A feed inside an XHTML page inherits the page's namespace: its elements are the
        // feed's own (except an item's xhtml:body, which is content either way).
        if let Some(rest) = name.strip_prefix("xhtml:") {
            let feed_root = ["rss", "channel", "feed", "item", "entry"].contains(&rest);
            if feed_root {
                self.xhtml_wrapped = true;
            }
            if feed_root || (self.xhtml_wrapped && rest != "body") {
                name = rest.to_string();
            }
        }

        let role = match name.as_str() {
            "rss" | "rdf:rdf" => {
                self.saw_feed = true;
                Role::Other
            }
            "channel" | "feed" if self.entry_depth.is_none() => {
                self.saw_feed = true;
                if name == "feed" {
                    self.atom = true;
                }
                if self.feed_depth.is_none() {
                    self.feed_depth = Some(depth);
                }
                self.cdf_attrs(attrs, false);
                Role::Feed
            }
            "item" | "entry" if self.entry_depth.is_none() => {
                self.saw_feed = true;
                if self.full {
                    self.skipped_at = Some(depth);
                    Role::SkippedEntry
                } else {
                    self.entry_depth = Some(depth);
                    // RSS 1.0's rdf:about is not taken as the id (feedparser does): items
                    // already stored under their link keep their key.
                    self.entry = Fields::default();
                    self.cdf_attrs(attrs, true);
                    Role::Entry
                }
            }
            // In an entry, feedparser still reads an image's title (ranked by depth) but
            // not its link; elsewhere an image, text input or source is not the feed's.
            "image" | "textinput" if self.entry_depth.is_some() && self.entry_image.is_none() => {
                self.entry_image = Some(depth);
                Role::EntryImage
            }
            "image" | "textinput" | "source" if self.aside_depth.is_none() => {
                self.aside_depth = Some(depth);
                Role::Aside
            }
            _ if self.aside_depth.is_some() => Role::Other,
            _ => self.field_start(&name, attrs, depth),
        };
        self.stack.push(Open { name: raw, role });
    }

    fn skipping(&self) -> bool {
        self.skipped_at.is_some()
    }

    /// CDF puts a channel's and an item's link and date in attributes.
    fn cdf_attrs(&mut self, attrs: &str, entry: bool) {
        if !(attrs.contains("href")
            || attrs.contains("HREF")
            || attrs.contains("lastmod")
            || attrs.contains("LASTMOD"))
        {
            return;
        }
        for (k, v) in attributes(attrs) {
            if k.eq_ignore_ascii_case("href") {
                let link = self.resolve(&decode_attr(v));
                let f = if entry { &mut self.entry } else { &mut self.feed };
                f.link = Some(link).filter(|l| !l.is_empty());
            } else if k.eq_ignore_ascii_case("lastmod") {
                let f = if entry { &mut self.entry } else { &mut self.feed };
                f.updated = f.updated.or(date::parse(v));
            }
        }
    }

    /// An element inside the feed or an entry: starts capturing its text when it is one
    /// herald reads.
    fn field_start(&mut self, name: &str, attrs: &'a str, depth: usize) -> Role {
        let in_entry = self.entry_depth.is_some();
        if !in_entry && self.feed_depth.is_none() {
            return Role::Other;
        }
        let field = match name {
            "title" | "dc:title" => Field::Title { media: false },
            "media:title" => Field::Title { media: true },
            "link" if self.entry_image.is_some() => return Role::Other,
            "link" => {
                let attrs: Vec<(&str, &str)> = attributes(attrs).collect();
                let get = |key: &str| {
                    attrs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| decode_attr(v))
                };
                match get("href").or_else(|| get("url")).or_else(|| get("uri")) {
                    Some(href) => {
                        let rel = get("rel").unwrap_or_else(|| "alternate".into());
                        let ty =
                            get("type").unwrap_or_else(|| "text/html".into()).to_ascii_lowercase();
                        let html = matches!(
                            ty.trim(),
                            "text/html" | "html" | "application/xhtml+xml" | "xhtml"
                        );
                        if rel.trim().eq_ignore_ascii_case("alternate") && html {
                            let link = self.resolve(&href);
                            self.fields().link = Some(link);
                        } else if rel.trim().eq_ignore_ascii_case("enclosure")
                            && ty.starts_with("image/")
                        {
                            let link = self.resolve(&href);
                            let f = self.fields();
                            f.enclosure_image = f.enclosure_image.take().or(Some(link));
                        }
                        return Role::Other;
                    }
                    None => Field::Link,
                }
            }
            "guid" | "id" => {
                let permalink = attributes(attrs)
                    .find(|(k, _)| k.eq_ignore_ascii_case("ispermalink"))
                    .is_none_or(|(_, v)| v == "true");
                Field::Id { permalink }
            }
            "description" | "summary" | "dc:description" | "abstract" if in_entry => Field::Summary,
            "content" | "content:encoded" | "xhtml:body" | "body" | "fullitem" if in_entry => {
                Field::Content
            }
            "pubdate" | "published" | "issued" | "dc:date" | "dcterms:issued"
            | "dcterms:created" | "created" => Field::Published,
            "updated" | "modified" | "lastbuilddate" | "dcterms:modified" => Field::Updated,
            // The feed's own author stands for entries that name none (Atom's rule).
            "author" | "itunes:author" | "dc:creator" | "dc:author"
                if self.author.is_none() && self.fields().author.is_none() =>
            {
                if name == "author" {
                    self.author = Some(AuthorState { depth, text: String::new(), name: None });
                    return Role::Author;
                }
                Field::AuthorText
            }
            "name" if self.author.is_some() => Field::AuthorName,
            "category" | "dc:subject" if in_entry => {
                // Atom names it in attributes; RSS and Dublin Core in the text.
                let term = attributes(attrs)
                    .find(|(k, _)| k.eq_ignore_ascii_case("label"))
                    .or_else(|| attributes(attrs).find(|(k, _)| k.eq_ignore_ascii_case("term")))
                    .map(|(_, v)| decode_attr(v));
                if let Some(term) = term.filter(|t| !t.trim().is_empty()) {
                    super::add_category(&mut self.entry.categories, &term);
                    return Role::Other;
                }
                Field::Category
            }
            "media:thumbnail" | "media:content" | "enclosure" | "itunes:image" if in_entry => {
                self.media(name, attrs);
                return Role::Other;
            }
            _ => return Role::Other,
        };
        let (mode, base64) = self.mode_of(name, attrs);
        self.capture = Some(Capture {
            field,
            depth,
            mode,
            base64,
            text: String::new(),
            markup: String::new(),
            children: false,
        });
        Role::Capture
    }

    fn media(&mut self, name: &str, attrs: &str) {
        let attrs: Vec<(&str, &str)> = attributes(attrs).collect();
        let get = |key: &str| {
            attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| decode_attr(v))
        };
        let url = get("url").or_else(|| get("href")).filter(|u| !u.trim().is_empty());
        let Some(url) = url else { return };
        let ty = get("type").unwrap_or_default().to_ascii_lowercase();
        let url = self.resolve(&url);
        let f = self.fields();
        match name {
            "media:thumbnail" | "itunes:image" => f.thumbnail = f.thumbnail.take().or(Some(url)),
            "media:content"
                if ty.starts_with("image/") || get("medium").is_some_and(|m| m == "image") =>
            {
                f.media_image = f.media_image.take().or(Some(url))
            }
            "enclosure" if ty.starts_with("image/") => {
                f.enclosure_image = f.enclosure_image.take().or(Some(url))
            }
            _ => {}
        }
    }

    /// How a text construct is to be read, from its `type` and `mode` and its element.
    fn mode_of(&self, name: &str, attrs: &str) -> (Mode, bool) {
        let mut ty = None;
        let mut mode = None;
        if attrs.contains('=') {
            for (k, v) in attributes(attrs) {
                if k.eq_ignore_ascii_case("type") {
                    ty = Some(v.trim().to_ascii_lowercase());
                } else if k.eq_ignore_ascii_case("mode") {
                    mode = Some(v.trim().to_ascii_lowercase());
                }
            }
        }
        let default = match name {
            "description" | "content:encoded" | "fullitem" => Mode::Html,
            "xhtml:body" | "body" => Mode::Xhtml,
            _ => Mode::Plain,
        };
        let by_type = ty.as_deref().map(|t| match t {
            "text" | "text/plain" => Mode::Plain,
            "html" | "text/html" => Mode::Html,
            "xhtml" | "application/xhtml+xml" => Mode::Xhtml,
            t if t.ends_with("xml") => Mode::Xhtml,
            t if t.starts_with("text/") => Mode::Plain,
            _ => default,
        });
        let mut m = by_type.unwrap_or(default);
        // feedparser: base64 when the mode says so, or the type is neither text nor XML.
        let base64 = mode.as_deref() == Some("base64")
            || ty.as_deref().is_some_and(|t| {
                t.contains('/')
                    && !t.starts_with("text/")
                    && !t.ends_with("xml")
                    && t != "application/xhtml+xml"
            });
        match mode.as_deref() {
            Some("escaped") if m == Mode::Xhtml || m == Mode::Plain && ty.is_none() => {
                m = Mode::Html
            }
            Some("xml") => m = Mode::Xhtml,
            _ => {}
        }
        (m, base64)
    }

    fn fields(&mut self) -> &mut Fields {
        if self.entry_depth.is_some() { &mut self.entry } else { &mut self.feed }
    }

    fn context_depth(&self) -> usize {
        self.entry_depth.or(self.feed_depth).unwrap_or(0)
    }

    fn text(&mut self, raw: &str, cdata: bool) {
        if self.skipping() {
            return;
        }
        if let Some(cap) = &mut self.capture {
            // Decoding never makes text longer than MAX_FIELD allows in one go except
            // through declared entities, whose expansion has its own budget.
            if cap.text.len() + raw.len() >= MAX_FIELD {
                return;
            }
            let decoded =
                if cdata { raw.into() } else { entities::decode(raw, Some(&mut self.declared)) };
            if cap.text.len() + decoded.len() < MAX_FIELD {
                cap.text.push_str(&decoded);
                if cap.children {
                    entities::escape_into(&mut cap.markup, &decoded);
                }
            }
            return;
        }
        if let Some(a) = &mut self.author
            && self.stack.len() == a.depth
            && a.text.len() + raw.len() < MAX_FIELD
        {
            let decoded =
                if cdata { raw.into() } else { entities::decode(raw, Some(&mut self.declared)) };
            a.text.push_str(&decoded);
        }
    }

    fn end(&mut self, raw: &str) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        let near = self
            .stack
            .iter()
            .rev()
            .take(MAX_END_SEARCH)
            .position(|o| o.name.eq_ignore_ascii_case(raw));
        // Unclosed markup (`<br>` in a description) can bury the element an end tag
        // closes deeper than the search goes: the open text construct, entry and feed
        // are checked wherever they are.
        let far = || {
            let depths =
                [self.capture.as_ref().map(|c| c.depth), self.entry_depth, self.feed_depth];
            depths.into_iter().flatten().find_map(|d| {
                let open = self.stack.get(d.checked_sub(1)?)?;
                open.name.eq_ignore_ascii_case(raw).then(|| self.stack.len() - d)
            })
        };
        let Some(from_top) = near.or_else(far) else { return };
        for _ in 0..=from_top {
            self.pop();
        }
    }

    fn pop(&mut self) {
        let depth = self.stack.len();
        let Some(open) = self.stack.pop() else { return };
        if let Some(cap) = &mut self.capture
            && depth > cap.depth
        {
            let local = open.name.rsplit(':').next().unwrap_or(open.name);
            if cap.markup.len() + local.len() + 3 < MAX_FIELD {
                cap.markup.push_str("</");
                cap.markup.push_str(local);
                cap.markup.push('>');
            }
        }
        match open.role {
            Role::Capture => self.finish_capture(),
            Role::Author => {
                if let Some(a) = self.author.take() {
                    let name = a.name.or_else(|| author_of(&a.text));
                    let f = self.fields();
                    f.author = f.author.take().or(name);
                }
            }
            Role::Entry => {
                self.entry_depth = None;
                let mut fields = std::mem::take(&mut self.entry);
                if fields.author.is_none() {
                    fields.author = self.feed.author.clone();
                }
                let entry = finish_entry(fields);
                if !(self.sink)(entry) {
                    self.full = true;
                }
            }
            Role::Feed => {
                if self.feed_depth == Some(depth) {
                    self.feed_depth = None;
                }
            }
            Role::Aside => self.aside_depth = None,
            Role::EntryImage => self.entry_image = None,
            Role::SkippedEntry => self.skipped_at = None,
            Role::Other => {}
        }
        while self.namespaces.last().is_some_and(|(d, _, _)| *d >= depth) {
            self.namespaces.pop();
        }
        if self.base_stack.last().is_some_and(|(d, _)| *d >= depth)
            && let Some((_, prev)) = self.base_stack.pop()
        {
            self.base = prev;
        }
    }

    fn finish_capture(&mut self) {
        let Some(cap) = self.capture.take() else { return };
        let rank_depth = cap.depth.saturating_sub(self.context_depth());
        let atom = self.atom;
        match cap.field {
            Field::Title { media } => {
                let t = capture_text(cap, atom);
                if t.value.is_empty() {
                    return;
                }
                let rank = (rank_depth, media);
                let f = self.fields();
                if f.title.as_ref().is_none_or(|(r, _)| rank < *r) {
                    f.title = Some((rank, t));
                }
            }
            Field::Link => {
                let href = cap.text.trim().to_string();
                if !href.is_empty() {
                    let link = self.resolve(&href);
                    self.fields().link = Some(link);
                }
            }
            Field::Id { permalink } => {
                let id = cap.text.trim().to_string();
                if id.is_empty() {
                    return;
                }
                // feedparser's rule: a permalink guid (or an Atom id) is the link until a
                // link says otherwise. herald takes it only when it is a web address.
                if permalink && self.fields().link.is_none() {
                    let link = self.resolve(&id);
                    let lower = link.to_ascii_lowercase();
                    let web = lower.starts_with("http://") || lower.starts_with("https://");
                    if web && Url::parse(&link).is_ok() {
                        self.fields().link = Some(link);
                    }
                }
                let f = self.fields();
                if f.id.as_ref().is_none_or(|(d, _)| rank_depth <= *d) {
                    f.id = Some((rank_depth, id));
                }
            }
            Field::Summary => {
                let t = capture_text(cap, atom);
                let f = self.fields();
                if f.summary.is_none() && !t.value.is_empty() {
                    f.summary = Some(t);
                }
            }
            Field::Content => {
                let t = capture_text(cap, atom);
                let f = self.fields();
                if f.content.is_none() && !t.value.is_empty() {
                    f.content = Some(t);
                }
            }
            Field::Published => {
                // A later value overwrites an earlier one, as in feedparser.
                let d = date::parse(&cap.text);
                let f = self.fields();
                f.published = d.or(f.published);
            }
            Field::Updated => {
                let d = date::parse(&cap.text);
                let f = self.fields();
                f.updated = d.or(f.updated);
            }
            Field::AuthorName => {
                let name = collapse(&cap.text);
                if let Some(a) = &mut self.author
                    && !name.is_empty()
                {
                    a.name = a.name.take().or(Some(name));
                }
            }
            Field::AuthorText => {
                let name = author_of(&cap.text);
                let f = self.fields();
                f.author = f.author.take().or(name);
            }
            Field::Category => super::add_category(&mut self.entry.categories, &cap.text),
        }
    }

    /// Records `xmlns` and `xml:base` attributes of an element at `depth`.
    fn scope(&mut self, depth: usize, attrs: &'a str) {
        for (k, v) in attributes(attrs) {
            if let Some(prefix) = k.strip_prefix("xmlns") {
                let prefix = prefix.strip_prefix(':').unwrap_or(prefix);
                if self.namespaces.len() >= MAX_NAMESPACES {
                    continue;
                }
                self.namespaces.push((depth, prefix, canonical_prefix(v)));
            } else if k.eq_ignore_ascii_case("xml:base") {
                let value = decode_attr(v);
                let new = match &self.base {
                    Some(b) => b.join(value.trim()).ok(),
                    None => Url::parse(value.trim()).ok(),
                };
                if new.is_some() {
                    let prev = std::mem::replace(&mut self.base, new);
                    self.base_stack.push((depth, prev));
                }
            }
        }
    }

    /// `dc:title` for an element named `x:title` whose `x` is bound to Dublin Core.
    fn canonical(&self, raw: &str) -> String {
        let (prefix, local) = match raw.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", raw),
        };
        // The innermost declaration of the prefix decides; unknown URIs and undeclared
        // prefixes keep the prefix as written.
        let canon = self
            .namespaces
            .iter()
            .rev()
            .find(|(_, p, _)| *p == prefix)
            .and_then(|(_, _, c)| *c)
            .unwrap_or(prefix);
        let mut out = String::with_capacity(canon.len() + local.len() + 1);
        if !canon.is_empty() {
            out.push_str(&canon.to_ascii_lowercase());
            out.push(':');
        }
        out.push_str(&local.to_ascii_lowercase());
        out
    }

    fn resolve(&self, href: &str) -> String {
        resolve(self.base.as_ref(), href)
    }
}

pub fn resolve(base: Option<&Url>, href: &str) -> String {
    let href = href.trim();
    match base {
        Some(b) if Url::parse(href).is_err() => {
            b.join(href).map(String::from).unwrap_or_else(|_| href.to_string())
        }
        _ => href.to_string(),
    }
}

fn decode_attr(v: &str) -> String {
    entities::decode(v, None).into_owned()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An author's name from "jo@example.com (Jo Smith)", "Jo Smith <jo@example.com>" or
/// just a name: the email address and its brackets are dropped.
fn author_of(text: &str) -> Option<String> {
    let t = collapse(text);
    let Some(email) = t.split_whitespace().find(|w| w.contains('@')) else {
        return Some(t).filter(|t| !t.is_empty());
    };
    let rest = t.replacen(email, "", 1);
    let name = rest.replace("()", "").replace("<>", "");
    let name = name.trim_matches(|c: char| c.is_whitespace() || "()<>".contains(c));
    let name = collapse(name);
    Some(if name.is_empty() { t } else { name })
}

/// A finished text construct's value: its markup when it held elements or is XHTML, else
/// its text (base64-decoded when so marked), as HTML or plain text.
fn capture_text(cap: Capture, atom: bool) -> Text {
    let mut value = cap.text;
    if cap.base64
        && let Some(decoded) = base64_decode(value.trim())
    {
        value = decoded;
    }
    if cap.children {
        return Text { value: cap.markup.trim().to_string(), kind: Kind::Html };
    }
    if cap.mode == Mode::Xhtml {
        let mut html = String::with_capacity(value.len());
        entities::escape_into(&mut html, value.trim());
        return Text { value: html, kind: Kind::Html };
    }
    let trimmed = value.trim();
    let value = if trimmed.len() == value.len() { value } else { trimmed.to_string() };
    match cap.mode {
        Mode::Html => Text { value, kind: Kind::Html },
        _ if (!atom || cap.base64) && looks_like_html(&value) => Text { value, kind: Kind::Html },
        _ => Text { value, kind: Kind::Plain },
    }
}

fn finish_entry(f: Fields) -> RawEntry {
    RawEntry {
        id: f.id.map(|(_, id)| id),
        title: f.title.map(|(_, t)| t),
        link: f.link,
        published: f.published,
        updated: f.updated,
        author: f.author,
        content: f.content,
        summary: f.summary,
        image: f.thumbnail.or(f.media_image).or(f.enclosure_image),
        categories: f.categories,
    }
}

/// feedparser's test for "plain" RSS text that is really HTML: a closing tag or an entity
/// reference, and only tags HTML knows.
fn looks_like_html(s: &str) -> bool {
    let has_close = s.contains("</");
    let has_entity = s.contains('&') && s.contains(';');
    if !(has_close || has_entity) {
        return false;
    }
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        let tag = rest[lt + 1..].trim_start_matches('/');
        let name: String = tag.chars().take_while(char::is_ascii_alphanumeric).collect();
        if !name.is_empty() && !HTML_ELEMENTS.contains(&name.to_ascii_lowercase().as_str()) {
            return false;
        }
        rest = &rest[lt + 1..];
    }
    true
}

const HTML_VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

const HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "big",
    "blockquote",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "command",
    "datagrid",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "event-source",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "m",
    "map",
    "menu",
    "meter",
    "multicol",
    "nav",
    "nextid",
    "noscript",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "pre",
    "progress",
    "q",
    "s",
    "samp",
    "section",
    "select",
    "small",
    "sound",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
];

/// Standard base64 (Atom 0.3's `mode="base64"`), whitespace ignored; None unless the
/// result is UTF-8.
fn base64_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok()
}
