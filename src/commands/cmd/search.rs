//! `search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]` (everyone).

use super::super::lex::{Arity, Lexer, echo, feed_ref, parse_bounded, split_args};
use super::super::parse::{Command, ParseError, Role, Since};
use super::super::spec::{FEED, Family, Form, Invocation, OptSpec};

/// Upper bound for `search --page`, so an absurd page cannot become an absurd SQL OFFSET.
pub const MAX_PAGE: u32 = 1000;
/// Longest query a platform's search form takes: short enough that a paging button can
/// carry it back (Discord's custom ids hold 100 characters).
pub const QUERY_MAX: u16 = 80;

const USAGE: &str = "search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]";

pub const FAMILY: Family = Family {
    word: "search",
    group: None,
    forms: &[Form {
        name: "search",
        usage: USAGE,
        summary: "search articles",
        description: "Search the articles of this server's feeds",
        role: Role::Member,
        options: &[
            OptSpec::text("query", "Words; \"quoted phrases\" match exactly")
                .required()
                .max_len(QUERY_MAX),
            FEED,
            OptSpec::text("since", "7d, 24h, or a date (2026-11-01)").max_len(10),
            OptSpec::integer("page", "Result page").range(1, Some(MAX_PAGE as i64)),
        ],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let args = split_args(
        lexer.rest_tokens()?,
        &[("feed", Arity::One), ("since", Arity::One), ("page", Arity::One)],
        usage,
    )?;
    let query: Vec<String> = args
        .positional
        .iter()
        .filter(|t| !t.text.trim().is_empty())
        .map(|t| {
            if t.quoted && t.text.contains(char::is_whitespace) {
                format!("\"{}\"", t.text.trim().replace('"', ""))
            } else {
                t.text.clone()
            }
        })
        .collect();
    if query.is_empty() {
        return Err(ParseError::Missing { what: "QUERY", usage });
    }
    let feed = match args.options.one("feed") {
        Some(t) => Some(feed_ref(&t, usage)?),
        None => None,
    };
    let since = match args.options.one("since") {
        Some(t) => Some(Since::parse(&t.text).ok_or_else(|| ParseError::Invalid {
            problem: format!(
                "bad --since \"{}\": use a duration like 24h, 7d, 2w or a date like 2026-11-01",
                echo(&t.text)
            ),
            usage,
        })?),
        None => None,
    };
    let page = match args.options.one("page") {
        Some(t) => parse_bounded(&t.text, 1, MAX_PAGE).ok_or_else(|| ParseError::Invalid {
            problem: format!("bad --page \"{}\": use 1-{MAX_PAGE}", echo(&t.text)),
            usage,
        })?,
        None => 1,
    };
    Ok(Command::Search { query: query.join(" "), feed, since, page })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Search {
        query: o.required_str("query")?,
        feed: o.optional_feed(),
        since: match o.str("since") {
            None => None,
            Some(s) => Some(Since::parse(s).ok_or_else(|| {
                format!("since: \"{s}\" is not 7d, 24h or a date like 2026-11-01")
            })?),
        },
        page: o.int("page").map(|p| p.clamp(1, i64::from(MAX_PAGE)) as u32).unwrap_or(1),
    })
}

// ---------------------------------------------------------------- apply

use super::super::parse::{self, FeedRef};
use crate::commands::execute::{Core, Ctx, PAGE_SIZE, at, channel_tz, date};
use crate::reply::{Item, Page, Reply, Tone};
use crate::store::{SearchScope, StoreError};

impl Core {
    pub(crate) async fn search(
        &self,
        ctx: &Ctx,
        query: &str,
        feed: Option<FeedRef>,
        since: Option<parse::Since>,
        page: u32,
    ) -> Result<Reply, StoreError> {
        let terms = crate::store::search_term_count(query);
        if terms > crate::store::MAX_SEARCH_TERMS {
            return Ok(Reply::error(format!(
                "A search takes at most {} words or \"phrases\"; this one has {terms}. Keep the few that matter most.",
                crate::store::MAX_SEARCH_TERMS
            )));
        }
        let feed_id = match &feed {
            Some(r) => match self.resolve(ctx, r).await? {
                Ok(f) => Some([f.feed.id]),
                Err(reply) => return Ok(reply),
            },
            None => None,
        };
        let scope = match &feed_id {
            Some(one) => SearchScope::Feeds(one),
            None => SearchScope::Community(ctx.community_id),
        };
        let now = at(self.clock.now()).unwrap_or_default();
        // A date means midnight where the channel lives (its digest zone), as documented.
        let cutoff = since.map(|s| s.cutoff(now, channel_tz(&ctx.channel)).timestamp());
        let page = page.max(1);
        let offset = (page as i64 - 1) * PAGE_SIZE;
        let mut hits =
            self.store.search_articles(query, scope, cutoff, PAGE_SIZE + 1, offset).await?;
        let has_next = hits.len() as i64 > PAGE_SIZE;
        hits.truncate(PAGE_SIZE as usize);
        if hits.is_empty() {
            let text = if page > 1 {
                format!("No more results for \"{query}\".")
            } else {
                format!("No articles match \"{query}\".")
            };
            return Ok(Reply::public(Tone::Info, text));
        }
        let names = self.feed_names(ctx).await?;
        let items = hits
            .into_iter()
            .map(|h| Item {
                title: h.title.unwrap_or_else(|| "(untitled)".into()),
                url: h.url,
                // Same length, so the match ranges still hold.
                text: h.snippet.replace('\n', " "),
                meta: Some(format!(
                    "{} · {} · #{}",
                    names.name(h.feed_id),
                    date(h.published_at.unwrap_or(h.fetched_at)),
                    h.id
                )),
                also_in: Vec::new(),
                marks: h.marks,
            })
            .collect();
        let mut reply = Reply::public(Tone::Info, String::new())
            .with_title(format!("Search: {query}"))
            .with_section(None, items);
        reply.page = Some(Page {
            number: page,
            has_next,
            next_command: has_next.then(|| format!("search {query} --page {}", page + 1)),
        });
        Ok(reply)
    }
}
