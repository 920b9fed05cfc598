//! Noise removal in two passes.
//!
//! Readability picks the right container but keeps what publishers put inside
//! it: figures and credits, share bars, "related" boxes, newsletter prompts,
//! timestamps. The DOM pass ([`prune_dom`]) removes elements whose *markup*
//! says what they are (tag, class, id, role); the text pass ([`clean_text`])
//! removes lines whose *wording* does, for sites whose markup is anonymous.
//! Every rule is generic (no site names), and the DOM rules refuse to delete
//! anything long enough to be the article itself.

use dom_query::{Document, NodeRef};

/// Tags that hold furniture, never body text.
const NOISE_TAGS: &[&str] = &[
    "figure",
    "figcaption",
    "picture",
    "video",
    "audio",
    "iframe",
    "form",
    "button",
    "select",
    "textarea",
    "nav",
    "aside",
    "footer",
    "dialog",
    "noscript",
    "template",
    "svg",
    "canvas",
    "time",
];

/// ARIA roles of page furniture.
const NOISE_ROLES: &[&str] =
    &["navigation", "complementary", "dialog", "alertdialog", "banner", "contentinfo"];

/// Class/id words that mark furniture. Matched against the words of the
/// attribute (split on `-`, `_`, spaces and camelCase) so that "share-bar"
/// matches but "shareholder" does not.
const NOISE_WORDS: &[&str] = &[
    "share",
    "sharing",
    "social",
    "sharebar",
    "newsletter",
    "subscribe",
    "subscription",
    "signup",
    "related",
    "recommended",
    "recommendations",
    "promo",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "bio",
    "biography",
    "caption",
    "captions",
    "credit",
    "credits",
    "byline",
    "dateline",
    "timestamp",
    "breadcrumb",
    "breadcrumbs",
    "outbrain",
    "taboola",
    "sponsored",
    "advert",
    "advertisement",
    "ad",
    "ads",
    "popup",
    "modal",
    "overlay",
    "toolbar",
    "tags",
    "comments",
    "comment",
    "disqus",
    "paywall",
    "more",
    "trending",
    "popular",
    "readmore",
    "jump",
    "gallery",
    "slideshow",
    "carousel",
    "lightbox",
    "author",
    "meta",
    "print",
    "correction",
    "widget",
];

/// Elements matched only by class/id words are spared above this many
/// characters: a class like "post-more-content" can name the article itself.
const CONTAINER_GUARD_CHARS: usize = 1200;

fn attr_words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).flat_map(split_camel)
}

fn split_camel(w: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in w.chars() {
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_noise_attr(node: &NodeRef) -> bool {
    for name in ["class", "id"] {
        let Some(v) = node.attr(name) else { continue };
        // Cheap substring pre-check; most class lists match nothing.
        let low = v.to_ascii_lowercase();
        if !NOISE_WORDS.iter().any(|w| low.contains(w)) {
            continue;
        }
        if attr_words(&v).any(|w| NOISE_WORDS.contains(&w.as_str())) {
            return true;
        }
    }
    false
}

fn text_len(node: &NodeRef) -> usize {
    node.text().chars().filter(|c| !c.is_whitespace()).count()
}

/// Why an element looks like furniture, strongest evidence first.
enum Noise {
    None,
    /// Tag, role, hidden or author markup: furniture by construction.
    Markup,
    /// Class or id words: only a hint, so long elements are spared.
    Named,
}

fn classify(node: &NodeRef) -> Noise {
    let name = node.node_name();
    let name = name.as_deref().unwrap_or("");
    if NOISE_TAGS.contains(&name)
        || node.has_attr("hidden")
        || node.attr("aria-hidden").is_some_and(|v| v.as_ref() == "true")
        || node.attr("role").is_some_and(|r| NOISE_ROLES.contains(&r.as_ref()))
        || node.attr("rel").is_some_and(|r| r.as_ref() == "author")
        || node.attr("itemprop").is_some_and(|r| r.as_ref() == "author")
    {
        return Noise::Markup;
    }
    if matches!(name, "body" | "html" | "main" | "article") {
        return Noise::None;
    }
    if is_noise_attr(node) {
        return Noise::Named;
    }
    Noise::None
}

/// Removes furniture from the whole document before Readability scores it, so
/// it can neither be chosen nor dragged in with the article. One pre-order
/// walk; descendants of removed elements are skipped.
pub fn prune_dom(doc: &Document) {
    let Some(body) = doc.body() else { return };
    let body_len = text_len(&body);
    let guard = CONTAINER_GUARD_CHARS.max(body_len / 4);

    let mut dead = std::collections::HashSet::new();
    let mut doomed: Vec<NodeRef> = Vec::new();
    for node in body.descendants_it() {
        if !node.is_element() {
            continue;
        }
        if node.parent().is_some_and(|p| dead.contains(&p.id)) {
            dead.insert(node.id);
            continue;
        }
        let remove = match classify(&node) {
            Noise::None => false,
            // <aside>/<footer> are sometimes (mis)used as the article wrapper.
            Noise::Markup => text_len(&node) < guard,
            // Embedded posts (tweets, Instagram) sit in "social" wrappers but
            // are quoted material the article is about.
            Noise::Named => {
                text_len(&node) < CONTAINER_GUARD_CHARS && node.find(&["blockquote"]).is_empty()
            }
        };
        if remove {
            dead.insert(node.id);
            doomed.push(node);
        }
    }
    for node in &doomed {
        node.remove_from_parent();
    }
    // Paragraphs and list items that are nothing but a link are "more
    // stories" teasers; real paragraphs carry text of their own.
    for node in doc.select("p, li, h2, h3, h4, h5, h6").nodes() {
        let text = node.text();
        let total = text.chars().filter(|c| !c.is_whitespace()).count();
        // Short link-only items are usually product or glossary links
        // inside the prose; teaser headlines are longer.
        if total == 0 || total >= 300 || text.split_whitespace().count() < 4 {
            continue;
        }
        let links = node.find(&["a"]);
        let linked: usize = links.iter().map(text_len).sum();
        let paragraph = node.node_name().is_some_and(|n| n.as_ref() == "p");
        // In a paragraph, a label ("Read also:", "LE PUEDE INTERESAR:") or
        // the separators between several links are all the text there is.
        let teaser = linked * 10 >= total * 9
            || (paragraph && links.len() >= 2 && linked * 4 >= total * 3)
            || (paragraph && linked * 2 >= total && starts_with_label(&text));
        if teaser {
            node.remove_from_parent();
        }
    }
    // Hover cards: a person's or topic's box of headline links printed
    // inside a sentence, hidden until the mouse is over the name.
    // Innermost first, so the name the card hangs on stays in the sentence.
    for inner in doc.select("p span, p div").nodes().iter().rev() {
        let links = inner.find(&["a"]);
        if links.len() < 3 {
            continue;
        }
        let total = text_len(inner);
        let linked: usize = links.iter().map(text_len).sum();
        if total > 0 && linked * 10 >= total * 9 {
            inner.remove_from_parent();
        }
    }
}

/// "Lea también: ...", "MORE: ...": a few words and a colon before the rest.
fn starts_with_label(text: &str) -> bool {
    let t = text.trim_start();
    let Some(colon) = t.find(':') else { return false };
    let label = &t[..colon];
    let words = label.split_whitespace().count();
    (1..=4).contains(&words)
        && label.chars().all(|c| c.is_alphabetic() || c.is_whitespace() || c == '\'' || c == '’')
}

/// Exact lines (lowercased, trimmed of punctuation) that are UI, not prose.
const UI_LINES: &[&str] = &[
    "share",
    "share this",
    "share this article",
    "share this story",
    "share on facebook",
    "share on twitter",
    "tweet",
    "email",
    "print",
    "caption",
    "close",
    "advertisement",
    "advert",
    "ad",
    "continue reading",
    "continue reading below",
    "read more",
    "read full article",
    "see more",
    "show more",
    "load more",
    "related",
    "related articles",
    "related stories",
    "related content",
    "more on this story",
    "more from",
    "you may also like",
    "you might also like",
    "recommended",
    "recommended for you",
    "don t miss",
    "dont miss",
    "most popular",
    "trending",
    "trending now",
    "sign up",
    "subscribe",
    "log in",
    "comments",
    "view comments",
    "listen to this article",
    "skip to content",
    "back to top",
    "enlarge",
    "enlarge this image",
    "toggle caption",
    "hide caption",
    "image",
    "photo",
    "video",
    "follow us",
    "loading",
    "watch",
    "getty images",
    "ap",
    "reuters",
    "the associated press",
    "associated press",
    "afp",
    "dpa",
    "efe",
    "ansa",
    // The same page furniture in the other languages news sites most often use (German,
    // French, Spanish, Portuguese, Italian, Dutch). Whole lines only, so a sentence that
    // merely contains one of these words is kept.
    "teilen",
    "artikel teilen",
    "drucken",
    "werbung",
    "anzeige",
    "weiterlesen",
    "mehr lesen",
    "mehr zum thema",
    "kommentare",
    "partager",
    "partager cet article",
    "imprimer",
    "publicité",
    "lire la suite",
    "lire aussi",
    "à lire aussi",
    "articles liés",
    "commentaires",
    "compartir",
    "compartir en facebook",
    "compartir en twitter",
    "imprimir",
    "publicidad",
    "leer más",
    "ver más",
    "lee también",
    "noticias relacionadas",
    "comentarios",
    "compartilhar",
    "leia mais",
    "leia também",
    "publicidade",
    "condividi",
    "stampa",
    "pubblicità",
    "leggi anche",
    "leggi di più",
    "delen",
    "lees meer",
    "lees ook",
    "advertentie",
];

/// Prefixes of lines that are credits, prompts or timestamps.
const NOISE_PREFIXES: &[&str] = &[
    "share:",
    "photo:",
    "photos:",
    "image:",
    "picture:",
    "pictured:",
    "credit:",
    "credits:",
    "photograph:",
    "illustration:",
    "video:",
    "read more",
    "see more:",
    "see also:",
    "related:",
    "more:",
    "also read",
    "read also",
    "click here",
    "sign up",
    "subscribe to",
    "follow us",
    "updated:",
    "updated ",
    "published:",
    "published ",
    "posted:",
    "posted ",
    "last updated",
    "first published",
    "this article was",
    "copyright",
    "all rights reserved",
    "citation:",
    "get the latest",
    "get our",
    "join our",
    "download the",
    "listen to",
    "watch:",
    "watch the",
    "image copyright",
    "image caption",
    "media caption",
    "(photo",
    "(image",
    "image source",
    // Other languages, as above.
    "foto:",
    "fotos:",
    "abbildung:",
    "bildquelle:",
    "crédits photo",
    "imagen:",
    "immagine:",
    "afbeelding:",
    "bild:",
    "quelle:",
    "lesen sie auch",
    "aktualisiert am",
    "veröffentlicht am",
    "crédit:",
    "crédits:",
    "crédit photo",
    "lire aussi",
    "à lire aussi",
    "mis à jour le",
    "publié le",
    "crédito:",
    "lee también",
    "leer también",
    "actualizado:",
    "publicado:",
    "leia também",
    "leggi anche",
    "lees ook",
    // "Read also" labels in front of a link to another story.
    "lea también",
    "vea también",
    "ver también",
    "mira también",
    "le puede interesar",
    "te puede interesar",
    "también te puede interesar",
    "lire également",
    "voir aussi",
    "à voir aussi",
    "veja também",
    "confira também",
    "leia mais:",
    "potrebbe interessarti",
    "zie ook",
    "mehr zum thema:",
    "mehr dazu:",
    "auch interessant:",
];

/// Phrases that mark a closing block (related links, newsletter, author bio);
/// once seen in the last part of a text, everything after is dropped.
const TAIL_MARKERS: &[&str] = &[
    "you may also like",
    "you might also like",
    "related articles",
    "related stories",
    "more stories",
    "recommended for you",
    "more from",
    "read next",
    "what to read next",
    "most read",
    "trending now",
    "sign up for",
    "subscribe to our newsletter",
    "about the author",
    "das könnte sie auch interessieren",
    "meistgelesen",
    "les plus lus",
    "lo más leído",
    "mais lidas",
    "più letti",
    // The same boxes in the other languages above.
    "weitere artikel",
    "ähnliche beiträge",
    "ähnliche artikel",
    "verwandte artikel",
    "das könnte dich auch interessieren",
    "articles similaires",
    "sur le même sujet",
    "artículos relacionados",
    "notícias relacionadas",
    "artigos relacionados",
    "articoli correlati",
    "gerelateerde artikelen",
    // Reading lists, sources and contact boxes after the story.
    "further reading",
    "more on this topic",
    "zum weiterlesen",
    "mehr zum thema",
    "quellen",
    "quellenangaben",
    "kontakt",
    "pressekontakt",
    "pour aller plus loin",
    "para saber más",
    // Comment sections: a heading ("12 Comments", "Kommentare") or the form.
    "comments",
    "leave a reply",
    "leave a comment",
    "post a comment",
    "kommentare",
    "kommentar schreiben",
    "schreibe einen kommentar",
    "commentaires",
    "laisser un commentaire",
    "comentarios",
    "deja un comentario",
    "commenti",
    "lascia un commento",
    "reacties",
    "comentários",
];

/// A tail marker line: the whole line is the marker, or it starts with one
/// and is short; a count in front ("12 Comments") does not matter.
fn is_tail_marker(n: &str, words: usize) -> bool {
    let n = n.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
    words <= 8
        && TAIL_MARKERS
            .iter()
            .any(|m| n.strip_prefix(m).is_some_and(|rest| rest.is_empty() || rest.starts_with(' ')))
}

fn norm_line(l: &str) -> String {
    l.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn word_count(l: &str) -> usize {
    l.split_whitespace().count()
}

/// Headline-style kickers and teasers shout; body text does not.
fn is_shouting(l: &str) -> bool {
    let letters: Vec<char> = l.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() < 4 {
        return false;
    }
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    upper * 10 >= letters.len() * 9 && word_count(l) < 20
}

fn has_digit(l: &str) -> bool {
    l.chars().any(|c| c.is_ascii_digit())
}

/// Photo credits: "(Photo by X/Getty Images)", "...Credit: EPA", "Image: AP".
fn is_credit(l: &str) -> bool {
    let low = l.to_lowercase();
    let credit_word = [
        "getty images",
        "/ap",
        "ap photo",
        "reuters",
        "afp",
        "shutterstock",
        "epa",
        "credit:",
        "photo by",
        "image:",
        "photograph:",
        "(photo",
        "(image",
        "handout",
    ]
    .iter()
    .any(|k| low.contains(k));
    let wrapped = (l.starts_with('(') && l.ends_with(')'))
        || low.contains("credit:")
        || low.contains("(image:")
        || low.contains("(photo:");
    if credit_word && (wrapped || word_count(l) <= 12) {
        return true;
    }
    // Captions end with the agency credit and have no closing period:
    // "... visit to North Korea KIM WON-JIN/AFP/Getty Images".
    let unterminated = !l.trim_end().ends_with(['.', '!', '?', '"', '”', '’']);
    const AGENCY_TAILS: &[&str] = &[
        "getty images",
        "/afp",
        "/ap",
        "/reuters",
        "/epa",
        "shutterstock",
        "ap photo",
        "(reuters)",
        "(ap)",
        "(afp)",
    ];
    unterminated && word_count(l) <= 60 && AGENCY_TAILS.iter().any(|t| low.trim_end().ends_with(t))
}

/// "Follow us on Twitter ...", "Únete a nuestro canal de Telegram": a call to
/// the reader (the line's first word) about a social network, app or newsletter.
fn is_follow_prompt(n: &str) -> bool {
    const CALLS: &[&str] = &[
        "follow",
        "join",
        "subscribe",
        "download",
        "like",
        "síguenos",
        "siguenos",
        "únete",
        "unete",
        "suscríbete",
        "descarga",
        "folgen",
        "folge",
        "abonnieren",
        "abonniere",
        "suivez",
        "rejoignez",
        "abonnez",
        "segui",
        "seguici",
        "iscriviti",
        "volg",
        "siga",
        "inscreva",
    ];
    const CHANNELS: &[&str] = &[
        "twitter",
        "facebook",
        "instagram",
        "telegram",
        "whatsapp",
        "youtube",
        "tiktok",
        "linkedin",
        "newsletter",
        "app",
        "apps",
    ];
    let mut words = n.split(' ');
    let Some(first) = words.next() else { return false };
    CALLS.contains(&first) && n.split(' ').count() <= 40 && words.any(|w| CHANNELS.contains(&w))
}

/// Bylines and datelines standing alone: "By Jane Doe", "Nov. 20, 2019 5:27 am".
fn is_byline_or_date(l: &str) -> bool {
    let wc = word_count(l);
    let low = l.to_lowercase();
    if low.starts_with("by ") && wc <= 12 && !l.ends_with('.') {
        return true;
    }
    if wc <= 10 && has_digit(l) {
        const MONTHS: &[&str] =
            &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
        let words: Vec<String> = norm_line(l).split(' ').map(str::to_string).collect();
        let month = words.iter().any(|w| MONTHS.iter().any(|m| w.starts_with(m) && w.len() <= 9));
        let clock = low.contains(" am")
            || low.contains(" pm")
            || low.contains("a.m.")
            || low.contains("p.m.")
            || l.contains(':');
        let ago = low.ends_with(" ago");
        let iso = l.len() >= 10
            && l.as_bytes().get(4) == Some(&b'-')
            && l.as_bytes().get(7) == Some(&b'-');
        if (month && (clock || wc <= 5)) || ago || iso {
            return true;
        }
    }
    false
}

/// True for lines a reader never wants in a body or a summary: UI labels,
/// credits, captions, bylines, bare datelines, copyright, shouted teasers.
pub fn is_noise_line(l: &str, title: Option<&str>) -> bool {
    is_furniture_line(l, title) || is_shouting(l)
}

/// [`is_noise_line`] less the shouting test, which in a body depends on
/// what follows the line (see [`clean_text`]).
fn is_furniture_line(l: &str, title: Option<&str>) -> bool {
    let n = norm_line(l);
    if n.is_empty() {
        return true;
    }
    if is_follow_prompt(&n) {
        return true;
    }
    if UI_LINES.contains(&n.as_str()) {
        return true;
    }
    let low = l.trim().to_lowercase();
    let wc = word_count(l);
    if wc <= 25 && NOISE_PREFIXES.iter().any(|p| low.starts_with(p)) {
        return true;
    }
    if let Some(t) = title
        && norm_line(t) == n
    {
        return true;
    }
    if (low.contains('©') || low.contains("all rights reserved")) && wc <= 40 {
        return true;
    }
    // "Image 1 of 8", "1 / 12"
    if wc <= 5 && (low.starts_with("image ") || low.starts_with("photo ")) && has_digit(l) {
        return true;
    }
    is_credit(l) || is_byline_or_date(l)
}

/// Normalises whitespace to one paragraph per line, `"\n\n"` between
/// paragraphs, and drops the lines a reader never wants.
pub fn clean_text(raw: &str, title: Option<&str>) -> String {
    let lines: Vec<String> = raw
        .split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    let total: usize = lines.iter().map(|l| l.len()).sum();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut seen_chars = 0usize;
    for l in &lines {
        seen_chars += l.len();
        let n = norm_line(l);
        let in_tail = seen_chars * 2 > total;
        if in_tail && is_tail_marker(&n, word_count(l)) {
            break;
        }
        // Section labels and kickers printed above the headline belong to
        // the page, not the story: drop them once the headline shows up.
        if title.is_some_and(|t| norm_line(t) == n) {
            if kept.len() <= 3 && kept.iter().all(|k| word_count(k) <= 6) {
                kept.clear();
            }
            continue;
        }
        if is_furniture_line(l, title) {
            continue;
        }
        // A block repeated back to back (caption echoed for a lightbox) adds
        // nothing; repeats further apart can be real (recipes, refrains).
        if kept.last().is_some_and(|k| k == l) {
            continue;
        }
        kept.push(l);
    }
    drop_unheaded_shouting(&mut kept);
    kept.join("\n\n")
}

/// Prose after a line in capitals that makes it a subheading ("WHO IS THE
/// FRONT-RUNNER?", "GIRLS SOCCER"); without it the line is a promo, a
/// brand or the heading of a box that was removed. (Kickers above the
/// headline go with the headline, in [`clean_text`].)
const HEADED_PROSE_CHARS: usize = 100;

fn drop_unheaded_shouting(lines: &mut Vec<&str>) {
    let mut prose_after = 0usize;
    let mut keep = vec![true; lines.len()];
    for (i, l) in lines.iter().enumerate().rev() {
        if is_shouting(l) {
            keep[i] = prose_after >= HEADED_PROSE_CHARS;
            continue;
        }
        let n = l.chars().filter(|c| !c.is_whitespace()).count();
        if n >= 50 {
            prose_after += n;
        }
    }
    let mut k = keep.into_iter();
    lines.retain(|_| k.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../shared/data/seed/000_09268671e900c80b.txt");

    #[test]
    fn seed_article_loses_its_furniture() {
        let out = clean_text(SEED, Some("Welcome Moves towards Peace and Security in Korea"));
        assert!(!out.contains("Share:"), "{out}");
        assert!(!out.contains("Handout photo"), "{out}");
        assert!(!out.contains("KIM WON-JIN"), "{out}");
        assert!(!out.contains("Welcome Moves towards Peace"), "title is metadata, not body");
        assert!(out.starts_with("The Korean war never ended."), "{out}");
        assert!(out.contains("a comprehensive peace treaty at last."));
        assert!(out.contains("\n\nNew Approach\n\n"), "subheadings stay");
    }

    #[test]
    fn furniture_in_other_languages_goes_and_sentences_stay() {
        for l in [
            "Teilen",
            "Foto: Michael Kappeler/dpa",
            "Lesen Sie auch: Die Bahn streicht Verbindungen",
            "À lire aussi",
            "Crédit photo : AFP",
            "Leer más",
            "Publicidad",
            "Leia também",
            "Leggi anche: il governo cade",
            "Lees ook",
            "Abbildung: Vergleich auf dem Gletscher",
            "Crédits photos : Bestimage",
            "Follow The Gleaner on Twitter and Instagram @JamaicaGleaner.",
            "Únete a nuestro canal de Telegram",
        ] {
            assert!(is_noise_line(l, None), "{l:?} should go");
        }
        for l in [
            "Die Regierung will die Steuern senken, teilen die Minister mit.",
            "Les syndicats appellent à partager les efforts de manière équitable.",
            "El ministro dijo que hay que compartir la carga entre las regiones.",
            "Users can download the app for iOS and Android from Monday, the company said.",
            "Follow-up visits by the inspectors found the same faults at the plant.",
        ] {
            assert!(!is_noise_line(l, None), "{l:?} is body text");
        }
        let article = "Erster Absatz mit genug Worten, um ein Artikel zu sein, und noch mehr.\n\
                       Zweiter Absatz, der die Geschichte weitererzählt und erklärt.\n\
                       Dritter Absatz mit dem Schluss der Geschichte und einem Zitat.\n\
                       Das könnte Sie auch interessieren\n\
                       Ganz andere Geschichte über etwas anderes";
        let out = clean_text(article, None);
        assert!(out.contains("Dritter Absatz") && !out.contains("Ganz andere"), "{out}");
    }

    #[test]
    fn ui_and_dateline_lines_go() {
        for l in [
            "Share",
            "• Share:",
            "Photo: Hau Dinh, AP",
            "Image 1 of 8",
            "Updated 5:27 am CST, Wednesday, November 20, 2019",
            "By Justine Coleman - 11/18/19 11:04 PM EST",
            "Continue Reading Below",
            "READ MORE ON FOX BUSINESS BY CLICKING HERE",
            "Protesters do not want Hong Kong to lose its autonomy (Image: getty )",
            "(Handout photo by Dong-A Ilbo via Getty Images/Getty Images)",
            "Published 1 day ago",
            "© 2019 Example Media. All rights reserved.",
        ] {
            assert!(is_noise_line(l, None), "{l}");
        }
        for l in [
            "The Korean war never ended.",
            "New Approach",
            "By the end of the year, the company had hired 300 people and opened two plants.",
            "On May 3, the minister resigned after weeks of pressure from his own party.",
            "Reuters reported that the deal had collapsed after talks in Geneva broke down late on Friday.",
        ] {
            assert!(!is_noise_line(l, None), "{l}");
        }
    }

    #[test]
    fn related_tail_is_cut() {
        let body = "A long paragraph of real article text that goes on. ".repeat(20);
        let raw = format!("{body}\nYou may also like...\nSome other story\nAnother story");
        let out = clean_text(&raw, None);
        assert!(!out.contains("Some other story"));
        // A comment section, its heading counted; a French "Comment ..." heading is not one.
        let raw = format!(
            "{body}\nComment le plan a été voté\n{body}\n12 Kommentare\nDanke für den Artikel!"
        );
        let out = clean_text(&raw, None);
        assert!(out.contains("Comment le plan") && !out.contains("Danke für den Artikel"), "{out}");
        let raw = format!(
            "{body}\nQuellenangaben:\nMüller, A. (2020): Ein Buch über das Thema, Seite 12 bis 40."
        );
        assert!(!clean_text(&raw, None).contains("Müller"));
    }

    #[test]
    fn dom_pruning_keeps_body() {
        let html = r#"<html><body><article><div class="share-bar"><a href="x">Share</a></div>
            <p>Real text one that matters a lot to the reader of this page.</p>
            <figure><img src="a.jpg"><figcaption>A caption (Photo: AP)</figcaption></figure>
            <div class="newsletter-signup">Sign up for our newsletter</div>
            <p class="shareholder-note">Shareholders met on Tuesday.</p>
            <ul><li><a href="/other">Other story headline you missed</a></li></ul>
            </article></body></html>"#;
        let doc = Document::from(html);
        prune_dom(&doc);
        let t = doc.select("body").text().to_string();
        assert!(t.contains("Real text one"));
        assert!(t.contains("Shareholders met"));
        assert!(!t.contains("A caption"));
        assert!(!t.contains("newsletter"));
        assert!(!t.contains("Other story headline you missed"));
        assert!(!t.contains("Share\n") && !t.contains(">Share<"));
    }

    #[test]
    fn inline_teasers_and_hover_cards_go_and_the_sentence_stays() {
        let html = r#"<html><body><article>
            <p>The minister spoke to <span class="card"><a href="/p/jane">Jane Doe</a><span class="box"><a href="/1">First other headline about her</a> <a href="/2">Second other headline</a> <a href="/p/jane">MORE</a></span></span> on Monday about the plan.</p>
            <p>LE PUEDE INTERESAR: <a href="/x">La ficha de un caso que no es este artículo</a></p>
            <p><a href="/a">China furious at Macron for Hong Kong protest jibe</a> [INSIGHT]| <a href="/b">Lakers vs Nets: NBA make final decision on game</a> [VIDEO]</p>
            <p>Officials said <a href="/report">the report</a> would be published next week.</p>
            </article></body></html>"#;
        let doc = Document::from(html);
        prune_dom(&doc);
        let t = doc.select("body").text().to_string();
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(t.contains("The minister spoke to Jane Doe on Monday about the plan."), "{t}");
        assert!(t.contains("Officials said the report would be published next week."), "{t}");
        for gone in ["First other headline", "LE PUEDE", "China furious", "NBA make"] {
            assert!(!t.contains(gone), "{gone} in {t}");
        }
    }

    #[test]
    fn capitals_stay_as_subheadings_and_go_as_kickers() {
        let para = "A paragraph of the story that runs on for long enough to be prose, and more.";
        let raw = format!(
            "{para}\nWHO IS THE FRONT-RUNNER?\n{para} One.\n{para} Two.\nSUBSCRIBE FOR EXCLUSIVE OFFERS"
        );
        let out = clean_text(&raw, None);
        assert!(out.contains("WHO IS THE FRONT-RUNNER?"), "{out}");
        assert!(!out.contains("SUBSCRIBE FOR EXCLUSIVE"), "{out}");
        // Summaries never quote a line in capitals.
        assert!(is_noise_line("WHO IS THE FRONT-RUNNER?", None));
    }
}
