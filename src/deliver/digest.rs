//! A period's articles → the digest messages that announce them.
//!
//! Pure (no clock, no I/O, no platform markup) so that delivery can retry a
//! failed send by composing again and get the same messages, and so that every
//! rule below is pinned by a unit test. Adapters render the returned
//! [`Reply`]s; the limits they pass keep each one inside what their platform
//! accepts in a single message.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::reply::{Item, Reply, Section, Tone};
use crate::summarize::{Lang, detect_lang, split_sentences};

/// One stored article as the digest needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestArticle {
    pub id: i64,
    pub feed_name: String,
    pub title: String,
    pub url: Option<String>,
    /// The stored summary: up to three sentences joined by spaces.
    pub summary: String,
    /// Unix seconds.
    pub published_at: i64,
}

/// How much one message may carry. Characters are counted as Unicode scalar
/// values over everything the digest writes: the header title and footer,
/// section headings, and each item's title, text, meta, URL and `also_in`
/// names. Adapter markup is *not* counted, so every platform constant leaves
/// headroom for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestLimits {
    pub max_chars: usize,
    pub max_items: usize,
}

impl DigestLimits {
    /// For a platform that does not say: small enough for any chat message herald
    /// posts to. Each adapter declares its own next to its renderer.
    pub const DEFAULT: DigestLimits = DigestLimits { max_chars: 4000, max_items: 10 };
}

/// Item text keeps whole sentences up to this length, so a digest stays a list
/// of headlines with a line of context rather than a wall of summaries.
const TEXT_CHARS: usize = 300;
/// Longest item title; feeds sometimes put a whole paragraph in `<title>`, and
/// 256 is the tightest title limit of the chat platforms herald posts to.
const TITLE_CHARS: usize = 256;
/// Room reserved in every part for the " (12/34)" title suffix, which is only
/// known once all parts are packed.
const SUFFIX_RESERVE: usize = " (999/999)".len();
/// Windows up to this long show times only ("08:15"): a daily window across
/// the autumn DST change is 25 hours, and every wall-clock time in it still
/// names one moment.
const DAY_WINDOW_SECS: i64 = 25 * 3600;
/// Windows up to a week (plus a DST hour) show weekday and time ("Mon 08:15");
/// longer ones need the date.
const WEEK_WINDOW_SECS: i64 = 7 * 24 * 3600 + 3600;

/// Near-duplicate thresholds, tuned on the tests below: titles that share most
/// of their content words are the same story on their own; titles that share
/// half of them need the summaries to agree too, because "Korea talks resume"
/// and "Korea talks stall" are neighbours, not copies; summaries that share
/// most word pairs are syndicated copies whatever their headlines say.
const TITLE_ALONE: f64 = 0.7;
const TITLE_WITH_SUMMARY: f64 = 0.5;
const SUMMARY_TERMS_SUPPORT: f64 = 0.3;
const SUMMARY_SHINGLES_ALONE: f64 = 0.6;
/// Fewer shared title words than this never decide alone: two-word headlines
/// ("Weather update") are too generic.
const MIN_SHARED_TITLE_TERMS: usize = 3;

/// Composes the digest for `[window_start, window_end)` (Unix seconds), shown
/// in `tz`. Returns no message for no articles: an empty period posts nothing.
///
/// Copies of one story from several feeds become one item (the newest copy,
/// with the other feeds in `also_in`). Items are grouped into one section per
/// feed, sections ordered by their newest item, and packed into as many
/// messages as `limits` require, never splitting an item and never dropping
/// one (an item too big for a message on its own is shortened).
pub fn compose_digest(
    window_start: i64,
    window_end: i64,
    tz: Tz,
    articles: Vec<DigestArticle>,
    limits: &DigestLimits,
) -> Vec<Reply> {
    if articles.is_empty() {
        return Vec::new();
    }
    let feed_count = articles.iter().map(|a| a.feed_name.as_str()).collect::<HashSet<_>>().len();

    let mut articles = articles;
    // Newest first; id breaks ties so output does not depend on input order.
    articles.sort_by(|a, b| b.published_at.cmp(&a.published_at).then(b.id.cmp(&a.id)));
    let stories = dedupe(&articles);

    let when = TimeStyle::for_window(window_end - window_start);
    let mut sections: Vec<Section> = Vec::new();
    let mut section_of: HashMap<&str, usize> = HashMap::new();
    for story in &stories {
        let a = &articles[story.keep];
        let item = Item {
            title: item_title(&a.title),
            url: a.url.clone().filter(|u| !u.trim().is_empty()),
            text: lead_text(&a.summary),
            meta: Some(format!("{} · #{}", when.format(a.published_at, tz), a.id)),
            also_in: story.also_in.clone(),
            marks: Vec::new(),
        };
        // Stories arrive newest first, so first-seen order is newest-first
        // order for both sections and the items inside them.
        let idx = *section_of.entry(a.feed_name.as_str()).or_insert_with(|| {
            sections.push(Section { heading: Some(a.feed_name.clone()), items: Vec::new() });
            sections.len() - 1
        });
        sections[idx].items.push(item);
    }

    let header = header_title(window_start, window_end, tz);
    let footer = format!(
        "{} from {}",
        plural(stories.len(), "article", "articles"),
        plural(feed_count, "feed", "feeds")
    );
    let fixed = chars(&header) + SUFFIX_RESERVE + chars(&footer);
    let parts = pack(sections, limits.max_chars.saturating_sub(fixed), limits.max_items.max(1));

    let total = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, sections)| {
            let title =
                if i == 0 { header.clone() } else { format!("{header} ({}/{total})", i + 1) };
            let mut reply = Reply::public(Tone::Digest, "").with_title(title).with_footer(&footer);
            reply.sections = sections;
            reply
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

// ---------------------------------------------------------------------------
// Near-duplicates

/// One item of the digest: the copy shown and the other feeds that carried it.
struct Story {
    keep: usize,
    also_in: Vec<String>,
}

/// What two copies of a story are compared on.
struct Fingerprint {
    title: HashSet<String>,
    summary_terms: HashSet<String>,
    /// Consecutive content-word pairs: order-sensitive, so two summaries that
    /// merely share vocabulary score low while a copied one scores high.
    summary_shingles: HashSet<(String, String)>,
}

impl Fingerprint {
    fn new(a: &DigestArticle, langs: &mut HashMap<&'static str, Lang>) -> Fingerprint {
        // Stop words and stems depend on the language; a failed guess falls
        // back to English, whose stemmer leaves other scripts alone.
        let code = detect_lang(&format!("{}. {}", a.title, a.summary)).unwrap_or("en");
        let lang = langs.entry(code).or_insert_with(|| Lang::new(Some(code)));
        let title = lang.terms(&a.title).into_iter().collect();
        let terms = lang.terms(&a.summary);
        let summary_shingles = terms.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect();
        Fingerprint { title, summary_terms: terms.into_iter().collect(), summary_shingles }
    }

    fn same_story(&self, other: &Fingerprint) -> bool {
        let (title, shared) = jaccard(&self.title, &other.title);
        if title >= TITLE_ALONE && shared >= MIN_SHARED_TITLE_TERMS {
            return true;
        }
        if jaccard(&self.summary_shingles, &other.summary_shingles).0 >= SUMMARY_SHINGLES_ALONE {
            return true;
        }
        title >= TITLE_WITH_SUMMARY
            && shared >= 2
            && jaccard(&self.summary_terms, &other.summary_terms).0 >= SUMMARY_TERMS_SUPPORT
    }
}

/// Jaccard index and intersection size; 0 for two empty sets, which carry no
/// evidence of anything.
fn jaccard<T: Eq + std::hash::Hash>(a: &HashSet<T>, b: &HashSet<T>) -> (f64, usize) {
    let shared = a.intersection(b).count();
    let union = a.len() + b.len() - shared;
    if union == 0 { (0.0, 0) } else { (shared as f64 / union as f64, shared) }
}

/// Groups copies of a story. `articles` must be sorted newest first: each
/// article joins the first story one of whose copies it matches, so the
/// newest copy is the one kept (it carries the latest version of the
/// story). A story takes at most one copy per feed, because one feed
/// publishing two similar items (follow-ups, live updates) means two items,
/// and the rule also stops chains of weak matches from swallowing a topic.
fn dedupe(articles: &[DigestArticle]) -> Vec<Story> {
    let mut langs = HashMap::new();
    let prints: Vec<Fingerprint> =
        articles.iter().map(|a| Fingerprint::new(a, &mut langs)).collect();
    let feeds_apart = |a: &[usize], b: &[usize]| {
        a.iter().all(|&i| b.iter().all(|&j| articles[i].feed_name != articles[j].feed_name))
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, print) in prints.iter().enumerate() {
        let matched: Vec<usize> = (0..groups.len())
            .filter(|&g| {
                feeds_apart(&groups[g], &[i])
                    && groups[g].iter().any(|&j| print.same_story(&prints[j]))
            })
            .collect();
        let Some((&home, others)) = matched.split_first() else {
            groups.push(vec![i]);
            continue;
        };
        groups[home].push(i);
        // An article can bridge two stories formed earlier (a syndicated copy
        // with a new headline, and a report sharing the original headline).
        // Later groups merge into the earlier one, last first so the indices
        // still to visit stay valid.
        for &other in others.iter().rev() {
            if feeds_apart(&groups[home], &groups[other]) {
                let moved = groups.remove(other);
                groups[home].extend(moved);
            }
        }
        // Indices follow the newest-first order, so the first is the newest.
        groups[home].sort_unstable();
    }
    groups
        .into_iter()
        .map(|g| Story {
            keep: g[0],
            also_in: g[1..].iter().map(|&j| articles[j].feed_name.clone()).collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Item text

fn item_title(title: &str) -> String {
    let t = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() { "(untitled)".to_string() } else { clip(&t, TITLE_CHARS) }
}

/// The first one or two whole sentences of a summary, within [`TEXT_CHARS`].
fn lead_text(summary: &str) -> String {
    let sentences = split_sentences(summary);
    let Some(first) = sentences.first() else { return String::new() };
    let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
    if chars(&first) > TEXT_CHARS {
        return clip(&first, TEXT_CHARS);
    }
    match sentences.get(1) {
        Some(second) => {
            let second = second.split_whitespace().collect::<Vec<_>>().join(" ");
            if chars(&first) + 1 + chars(&second) <= TEXT_CHARS {
                format!("{first} {second}")
            } else {
                first
            }
        }
        None => first,
    }
}

/// Shortens `s` to at most `max` characters, at a word boundary when there is
/// one in the second half, marking the cut with "…".
fn clip(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let head: String = s.chars().take(max - 1).collect();
    let cut = match head.rfind(char::is_whitespace) {
        Some(i) if chars(&head[..i]) >= (max - 1) / 2 => &head[..i],
        _ => head.as_str(),
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    format!("{cut}…")
}

// ---------------------------------------------------------------------------
// Times

#[derive(Debug, Clone, Copy)]
enum TimeStyle {
    Time,
    WeekdayTime,
    DateTime,
}

impl TimeStyle {
    fn for_window(secs: i64) -> TimeStyle {
        if secs <= DAY_WINDOW_SECS {
            TimeStyle::Time
        } else if secs <= WEEK_WINDOW_SECS {
            TimeStyle::WeekdayTime
        } else {
            TimeStyle::DateTime
        }
    }

    fn format(self, unix: i64, tz: Tz) -> String {
        let t = local(unix, tz);
        match self {
            TimeStyle::Time => t.format("%H:%M").to_string(),
            TimeStyle::WeekdayTime => t.format("%a %H:%M").to_string(),
            TimeStyle::DateTime => t.format("%-d %b %H:%M").to_string(),
        }
    }
}

/// Out-of-range timestamps (corrupt rows) show as the epoch rather than
/// failing the whole digest.
fn local(unix: i64, tz: Tz) -> DateTime<Tz> {
    DateTime::<Utc>::from_timestamp(unix, 0).unwrap_or_default().with_timezone(&tz)
}

/// "Digest · Mon 30 Nov 2026, 08:00–09:00 (Europe/Berlin)" for windows within
/// a day, "Digest · 23–30 Nov 2026 (Europe/Berlin)" for longer ones. The end
/// is exclusive, so a window ending at midnight ends on the day before.
fn header_title(start: i64, end: i64, tz: Tz) -> String {
    let s = local(start, tz);
    let e = local(end, tz);
    let last = local(if end > start { end - 1 } else { end }, tz);
    let range = if end - start <= DAY_WINDOW_SECS {
        if s.date_naive() == last.date_naive() {
            format!("{}, {}–{}", s.format("%a %-d %b %Y"), s.format("%H:%M"), e.format("%H:%M"))
        } else if s.year() == last.year() {
            format!("{} – {}", s.format("%a %-d %b, %H:%M"), e.format("%a %-d %b %Y, %H:%M"))
        } else {
            format!("{} – {}", s.format("%a %-d %b %Y, %H:%M"), e.format("%a %-d %b %Y, %H:%M"))
        }
    } else if s.year() != last.year() {
        format!("{} – {}", s.format("%-d %b %Y"), last.format("%-d %b %Y"))
    } else if s.month() != last.month() {
        format!("{} – {}", s.format("%-d %b"), last.format("%-d %b %Y"))
    } else {
        format!("{}–{}", s.format("%-d"), last.format("%-d %b %Y"))
    };
    format!("Digest · {range} ({})", tz.name())
}

// ---------------------------------------------------------------------------
// Splitting

/// Characters an item adds to a message (see [`DigestLimits`]).
fn item_chars(item: &Item) -> usize {
    chars(&item.title)
        + chars(&item.text)
        + item.meta.as_deref().map_or(0, chars)
        + item.url.as_deref().map_or(0, chars)
        + item.also_in.iter().map(|f| chars(f)).sum::<usize>()
}

fn heading_chars(section: &Section) -> usize {
    section.heading.as_deref().map_or(0, chars)
}

/// Packs sections into parts of at most `budget` characters and `max_items`
/// items, cutting only between items. A section cut in two repeats its
/// heading in the next part, so every part says which feed it is reading.
fn pack(sections: Vec<Section>, budget: usize, max_items: usize) -> Vec<Vec<Section>> {
    let mut parts: Vec<Vec<Section>> = Vec::new();
    let mut cur: Vec<Section> = Vec::new();
    let mut used = 0usize;
    let mut count = 0usize;
    let mut open: Option<usize> = None;
    for (idx, section) in sections.into_iter().enumerate() {
        let heading = heading_chars(&section);
        for mut item in section.items {
            let mut cost = item_chars(&item) + if open == Some(idx) { 0 } else { heading };
            if count > 0 && (count >= max_items || used + cost > budget) {
                parts.push(std::mem::take(&mut cur));
                used = 0;
                count = 0;
                open = None;
                cost = item_chars(&item) + heading;
            }
            if count == 0 && cost > budget {
                shrink_item(&mut item, budget.saturating_sub(heading));
                cost = item_chars(&item) + heading;
            }
            if open != Some(idx) {
                cur.push(Section { heading: section.heading.clone(), items: Vec::new() });
                open = Some(idx);
            }
            // `open` was just set to the section pushed last, so there is one.
            cur.last_mut().expect("section pushed above").items.push(item);
            used += cost;
            count += 1;
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
}

/// Makes an item that cannot fit any message fit `room`: the text goes first
/// (the title and link still lead the reader to the article), then the title.
/// A URL longer than the room is dropped, since a cut link is worse than none.
fn shrink_item(item: &mut Item, room: usize) {
    let fixed = |it: &Item| {
        it.meta.as_deref().map_or(0, chars)
            + it.url.as_deref().map_or(0, chars)
            + it.also_in.iter().map(|f| chars(f)).sum::<usize>()
    };
    if fixed(item) + 2 > room {
        item.url = None;
    }
    if fixed(item) + 2 > room {
        item.also_in.clear();
    }
    if fixed(item) + 2 > room {
        item.meta = None;
    }
    let left = room.saturating_sub(fixed(item));
    let title_room = chars(&item.title).min(left);
    item.title = clip(&item.title, title_room.max(1));
    item.text = clip(&item.text, left.saturating_sub(chars(&item.title)));
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn unix(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp()
    }

    fn art(id: i64, feed: &str, title: &str, summary: &str, at: i64) -> DigestArticle {
        DigestArticle {
            id,
            feed_name: feed.into(),
            title: title.into(),
            url: Some(format!("https://example.org/{id}")),
            summary: summary.into(),
            published_at: at,
        }
    }

    /// 30 Nov 2026, 07:00–08:00 UTC = 08:00–09:00 in Berlin (CET).
    fn hour() -> (i64, i64) {
        (unix(2026, 11, 30, 7, 0), unix(2026, 11, 30, 8, 0))
    }

    fn items(replies: &[Reply]) -> Vec<&Item> {
        replies.iter().flat_map(|r| &r.sections).flat_map(|s| &s.items).collect()
    }

    const RAIL: &str = "The Oderbruch line reopened on Monday after three years of works. \
        Trains now run every hour between Eberswalde and Frankfurt (Oder). \
        Fares stay unchanged until March.";
    const CHESS: &str = "A 14-year-old from Tartu won the Baltic open on Sunday. \
        She beat two grandmasters on her way to the title. The next edition is in Riga.";
    const LIBRARY: &str = "The city library finished scanning its 19th-century newspapers. \
        More than two million pages are now searchable online. Volunteers checked the text.";

    #[test]
    fn empty_period_sends_nothing() {
        let (s, e) = hour();
        assert!(compose_digest(s, e, BERLIN, Vec::new(), &DigestLimits::DEFAULT).is_empty());
    }

    #[test]
    fn groups_by_feed_newest_first() {
        let (s, e) = hour();
        let out = compose_digest(
            s,
            e,
            BERLIN,
            vec![
                art(1, "Local", "Oderbruch rail line reopens", RAIL, s + 60),
                art(2, "Sport", "Teenager wins Baltic open", CHESS, s + 600),
                art(3, "Local", "Library puts old newspapers online", LIBRARY, s + 1200),
            ],
            &DigestLimits::DEFAULT,
        );
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.tone, Tone::Digest);
        assert_eq!(r.visibility, crate::reply::Visibility::Public);
        assert_eq!(
            r.title.as_deref(),
            Some("Digest · Mon 30 Nov 2026, 08:00–09:00 (Europe/Berlin)")
        );
        assert_eq!(r.footer.as_deref(), Some("3 articles from 2 feeds"));
        let heads: Vec<_> = r.sections.iter().map(|s| s.heading.as_deref().unwrap()).collect();
        assert_eq!(heads, ["Local", "Sport"], "Local has the newest article");
        let local: Vec<_> = r.sections[0].items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(local, ["Library puts old newspapers online", "Oderbruch rail line reopens"]);
        let lib = &r.sections[0].items[0];
        assert_eq!(lib.meta.as_deref(), Some("08:20 · #3"));
        assert_eq!(lib.url.as_deref(), Some("https://example.org/3"));
        assert_eq!(
            lib.text,
            "The city library finished scanning its 19th-century newspapers. \
             More than two million pages are now searchable online."
        );
    }

    #[test]
    fn same_story_from_several_feeds_appears_once() {
        let (s, e) = hour();
        let wire = "Negotiators from North and South Korea met in Panmunjom on Tuesday \
            for the first time in two years. Both sides agreed to reopen a liaison office.";
        let out = compose_digest(
            s,
            e,
            BERLIN,
            vec![
                art(1, "Wire", "North and South Korea resume talks in Panmunjom", wire, s + 60),
                // Syndicated copy with a rewritten headline: the summary decides.
                art(2, "Daily", "Talks are back on the peninsula", wire, s + 120),
                // Own report, same headline words in another order.
                art(
                    3,
                    "World",
                    "Talks resume between North Korea and South Korea at Panmunjom",
                    "Delegations met at the border village after a two-year pause. \
                     Observers called the meeting cordial.",
                    s + 900,
                ),
                art(4, "Sport", "Teenager wins Baltic open", CHESS, s + 300),
            ],
            &DigestLimits::DEFAULT,
        );
        let all = items(&out);
        assert_eq!(all.len(), 2, "{all:#?}");
        let korea = all.iter().find(|i| i.title.contains("Korea")).unwrap();
        // The newest copy is kept.
        assert_eq!(korea.title, "Talks resume between North Korea and South Korea at Panmunjom");
        assert_eq!(korea.also_in, ["Daily", "Wire"]);
        assert_eq!(out[0].sections[0].heading.as_deref(), Some("World"));
        assert_eq!(out[0].footer.as_deref(), Some("2 articles from 4 feeds"));
    }

    #[test]
    fn topical_neighbours_stay_apart() {
        let (s, e) = hour();
        let pairs = [
            (
                ("Korea talks resume", "Negotiators from both Koreas met in Panmunjom on Tuesday."),
                ("Korea floods kill 12", "Heavy rain flooded villages in the south of Korea."),
            ),
            (
                (
                    "Korea talks resume in Panmunjom",
                    "Negotiators from both Koreas met in Panmunjom on Tuesday after two years. \
                     They agreed to reopen the liaison office.",
                ),
                (
                    "Korea talks stall over sanctions",
                    "Talks between the Koreas stalled on Friday over sanctions relief. \
                     The northern delegation left early.",
                ),
            ),
            (
                ("Rail line reopens in Brandenburg", RAIL),
                (
                    "Rail strike halts trains in Brandenburg",
                    "Drivers walked out on Monday over pay. No regional trains ran until noon.",
                ),
            ),
        ];
        for ((t1, s1), (t2, s2)) in pairs {
            let out = compose_digest(
                s,
                e,
                BERLIN,
                vec![art(1, "A", t1, s1, s + 60), art(2, "B", t2, s2, s + 120)],
                &DigestLimits::DEFAULT,
            );
            let all = items(&out);
            assert_eq!(all.len(), 2, "{t1} / {t2} merged");
            assert!(all.iter().all(|i| i.also_in.is_empty()));
        }
    }

    #[test]
    fn one_feed_never_merges_with_itself() {
        let (s, e) = hour();
        let out = compose_digest(
            s,
            e,
            BERLIN,
            vec![
                art(1, "Live", "Storm live: trains cancelled across the north", RAIL, s + 60),
                art(2, "Live", "Storm live: trains cancelled across the north", RAIL, s + 120),
            ],
            &DigestLimits::DEFAULT,
        );
        assert_eq!(items(&out).len(), 2);
    }

    #[test]
    fn splits_within_limits_without_losing_items() {
        let (s, e) = hour();
        const TOPICS: [&str; 23] = [
            "bridge",
            "harbour",
            "orchestra",
            "vaccine",
            "tram",
            "glacier",
            "election",
            "bakery",
            "museum",
            "drought",
            "festival",
            "satellite",
            "forest",
            "hospital",
            "marathon",
            "airport",
            "vineyard",
            "lighthouse",
            "stadium",
            "river",
            "school",
            "zoo",
            "reactor",
        ];
        // Words rotated so no two titles or summaries share more than chance.
        let t = |i: i64, k: i64| TOPICS[((i + k) % 23) as usize];
        let articles: Vec<_> = (0..23)
            .map(|i| {
                art(
                    i,
                    ["Alpha", "Beta", "Gamma"][i as usize % 3],
                    &format!("{} {} {}", t(i, 0), t(i, 7), t(i, 13)),
                    &format!(
                        "The {} meets the {} near the {} today, {} {} {} {} {}. \
                         Then {} {} {} {} {} {} after {} hours.",
                        t(i, 0),
                        t(i, 1),
                        t(i, 3),
                        t(i, 5),
                        t(i, 8),
                        t(i, 11),
                        t(i, 16),
                        t(i, 19),
                        t(i, 2),
                        t(i, 4),
                        t(i, 9),
                        t(i, 12),
                        t(i, 17),
                        t(i, 21),
                        i,
                    ),
                    s + i * 60,
                )
            })
            .collect();
        let limits = DigestLimits { max_chars: 1000, max_items: 5 };
        let out = compose_digest(s, e, BERLIN, articles, &limits);
        assert!(out.len() > 1);
        let mut seen: Vec<i64> = Vec::new();
        for (n, r) in out.iter().enumerate() {
            let title = r.title.as_deref().unwrap();
            let body: usize = r
                .sections
                .iter()
                .map(|s| heading_chars(s) + s.items.iter().map(item_chars).sum::<usize>())
                .sum();
            let total = chars(title) + chars(r.footer.as_deref().unwrap()) + body;
            assert!(total <= limits.max_chars, "part {n} has {total} chars");
            assert!(items(std::slice::from_ref(r)).len() <= limits.max_items);
            if n == 0 {
                assert!(!title.ends_with(')') || title.ends_with("(Europe/Berlin)"));
            } else {
                assert!(title.ends_with(&format!(" ({}/{})", n + 1, out.len())), "{title}");
            }
            for s in &r.sections {
                assert!(s.heading.is_some(), "continued sections repeat their heading");
                for i in &s.items {
                    let id = i.meta.as_deref().unwrap().rsplit('#').next().unwrap();
                    seen.push(id.parse().unwrap());
                }
            }
        }
        seen.sort();
        assert_eq!(seen, (0..23).collect::<Vec<_>>());
    }

    #[test]
    fn oversized_item_is_shortened_not_dropped() {
        let (s, e) = hour();
        let huge_title = "Headline ".repeat(100);
        let out = compose_digest(
            s,
            e,
            BERLIN,
            vec![
                art(1, "A", &huge_title, RAIL, s + 60),
                art(2, "A", "Small story", CHESS, s + 120),
            ],
            &DigestLimits { max_chars: 200, max_items: 10 },
        );
        let all = items(&out);
        assert_eq!(all.len(), 2);
        for r in &out {
            let body: usize = r
                .sections
                .iter()
                .map(|s| heading_chars(s) + s.items.iter().map(item_chars).sum::<usize>())
                .sum();
            let total =
                chars(r.title.as_deref().unwrap()) + chars(r.footer.as_deref().unwrap()) + body;
            assert!(total <= 200, "{total}");
        }
        let big = all.iter().find(|i| i.title.starts_with("Headline")).unwrap();
        assert!(big.title.ends_with('…'));
    }

    #[test]
    fn local_times_follow_dst() {
        // Berlin leaves summer time on Sun 25 Oct 2026 at 03:00 CEST (01:00 UTC).
        let start = unix(2026, 10, 24, 6, 0); // Sat 08:00 CEST
        let end = unix(2026, 10, 25, 7, 0); // Sun 08:00 CET: a 25-hour day
        let out = compose_digest(
            start,
            end,
            BERLIN,
            vec![
                art(1, "A", "Before the change", CHESS, unix(2026, 10, 24, 10, 0)),
                art(2, "A", "Inside the repeated hour", RAIL, unix(2026, 10, 25, 0, 30)),
                art(3, "A", "After the change", LIBRARY, unix(2026, 10, 25, 6, 30)),
            ],
            &DigestLimits::CONSOLE,
        );
        assert_eq!(
            out[0].title.as_deref(),
            Some("Digest · Sat 24 Oct, 08:00 – Sun 25 Oct 2026, 08:00 (Europe/Berlin)")
        );
        let metas: Vec<_> = items(&out).iter().map(|i| i.meta.clone().unwrap()).collect();
        assert_eq!(metas, ["07:30 · #3", "02:30 · #2", "12:00 · #1"]);
    }

    #[test]
    fn longer_windows_show_dates_and_weekdays() {
        let start = unix(2026, 11, 23, 7, 0); // Mon 08:00 CET
        let end = unix(2026, 11, 30, 7, 0);
        let out = compose_digest(
            start,
            end,
            BERLIN,
            vec![art(1, "A", "Chess", CHESS, unix(2026, 11, 25, 16, 5))],
            &DigestLimits::CONSOLE,
        );
        assert_eq!(out[0].title.as_deref(), Some("Digest · 23–30 Nov 2026 (Europe/Berlin)"));
        assert_eq!(items(&out)[0].meta.as_deref(), Some("Wed 17:05 · #1"));
        assert_eq!(out[0].footer.as_deref(), Some("1 article from 1 feed"));

        assert_eq!(
            header_title(unix(2026, 11, 28, 0, 0), unix(2026, 12, 5, 0, 0), chrono_tz::UTC),
            "Digest · 28 Nov – 4 Dec 2026 (UTC)"
        );
        assert_eq!(
            header_title(unix(2026, 12, 28, 0, 0), unix(2027, 1, 11, 0, 0), chrono_tz::UTC),
            "Digest · 28 Dec 2026 – 10 Jan 2027 (UTC)"
        );
        assert_eq!(
            TimeStyle::for_window(14 * 86400).format(unix(2026, 12, 30, 9, 5), chrono_tz::UTC),
            "30 Dec 09:05"
        );
    }

    #[test]
    fn summary_trimmed_to_whole_sentences() {
        assert_eq!(
            lead_text(RAIL),
            "The Oderbruch line reopened on Monday after three years of works. \
             Trains now run every hour between Eberswalde and Frankfurt (Oder)."
        );
        // A second sentence that would pass the cap is left out.
        let long_second = format!("Short first. Then {}.", "word ".repeat(70).trim());
        assert_eq!(lead_text(&long_second), "Short first.");
        // One sentence over the cap is cut at a word boundary.
        let run_on = format!("It {} ends here. Next.", "goes on and on ".repeat(40));
        let t = lead_text(&run_on);
        assert!(chars(&t) <= TEXT_CHARS, "{}", chars(&t));
        assert!(t.ends_with("on…") || t.ends_with("and…") || t.ends_with("goes…"), "{t}");
        assert!(!t.contains("ends here"));
        assert_eq!(lead_text("   "), "");
    }

    #[test]
    fn clip_prefers_word_boundaries() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("alpha beta gamma", 12), "alpha beta…");
        assert_eq!(clip("abcdefghijklmnop", 6), "abcde…");
        assert_eq!(clip("anything", 0), "");
    }
}
