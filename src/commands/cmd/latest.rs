//! `latest [FEED] [N]`: the newest articles (everyone).

use super::super::lex::{Lexer, Token, echo, feed_ref, parse_bounded, unexpected};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{FEED, Family, Form, Invocation, OptSpec};

/// `latest` without N.
pub const DEFAULT_LATEST: u32 = 5;
/// Upper bound for `latest N`, to keep one reply within chat message limits.
pub const MAX_LATEST: u32 = 20;

const USAGE: &str = "latest [FEED] [N]";

pub const FAMILY: Family = Family {
    word: "latest",
    group: None,
    forms: &[Form {
        name: "latest",
        usage: USAGE,
        summary: "newest articles, from one feed or all (a lone number is N; write a feed id as #12)",
        description: "The newest articles, from one feed or all",
        role: Role::Member,
        options: &[FEED, OptSpec::integer("count", "How many").range(1, Some(MAX_LATEST as i64))],
    }],
    parse,
    from_options,
};

/// `latest 5` means five articles from all feeds; a feed with id 5 is
/// `latest #5`. Counts are asked for far more often than numeric feed ids.
fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let tokens = lexer.rest_tokens()?;
    let count_of = |t: &Token| {
        parse_bounded(&t.text, 1, MAX_LATEST).ok_or_else(|| ParseError::Invalid {
            problem: format!("N must be 1-{MAX_LATEST}, got \"{}\"", echo(&t.text)),
            usage,
        })
    };
    let is_number = |t: &Token| !t.quoted && t.text.bytes().all(|b| b.is_ascii_digit());
    match tokens.as_slice() {
        [] => Ok(Command::Latest { feed: None, count: DEFAULT_LATEST }),
        [only] if is_number(only) => Ok(Command::Latest { feed: None, count: count_of(only)? }),
        [feed] => Ok(Command::Latest { feed: Some(feed_ref(feed, usage)?), count: DEFAULT_LATEST }),
        [feed, count] => {
            Ok(Command::Latest { feed: Some(feed_ref(feed, usage)?), count: count_of(count)? })
        }
        [_, _, extra, ..] => Err(unexpected(extra, usage)),
    }
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Latest {
        feed: o.optional_feed(),
        count: o
            .int("count")
            .map(|c| c.clamp(1, i64::from(MAX_LATEST)) as u32)
            .unwrap_or(DEFAULT_LATEST),
    })
}

// ---------------------------------------------------------------- apply

use super::super::parse::FeedRef;
use crate::commands::execute::{Core, Ctx, date};
use crate::reply::{Item, Reply, Tone};
use crate::store::StoreError;

impl Core {
    pub(crate) async fn latest(
        &self,
        ctx: &Ctx,
        feed: Option<FeedRef>,
        count: u32,
    ) -> Result<Reply, StoreError> {
        let feeds = match &feed {
            Some(r) => match self.resolve(ctx, r).await? {
                Ok(f) => vec![f.feed.id],
                Err(reply) => return Ok(reply),
            },
            None => self.store.community_feed_ids(ctx.community_id).await?,
        };
        let articles = self.store.latest_articles(&feeds, i64::from(count.max(1))).await?;
        if articles.is_empty() {
            return Ok(Reply::public(
                Tone::Info,
                "Nothing stored yet from the feeds this community follows.",
            ));
        }
        let names = self.feed_names(ctx).await?;
        let items = articles
            .into_iter()
            .map(|a| Item {
                meta: Some(format!(
                    "{} · {} · #{}",
                    names.name(a.feed_id),
                    date(a.published_at.unwrap_or(a.fetched_at)),
                    a.id
                )),
                title: a.title.unwrap_or_else(|| "(untitled)".into()),
                url: a.url,
                text: first_sentences(&a.summary, 2),
                also_in: Vec::new(),
                marks: Vec::new(),
            })
            .collect();
        Ok(Reply::public(Tone::Info, String::new())
            .with_title("Latest articles")
            .with_section(None, items))
    }
}

/// The first `n` sentences of a stored summary (its sentences end with ". ").
fn first_sentences(summary: &str, n: usize) -> String {
    let sentences = crate::summarize::split_sentences(summary);
    sentences.into_iter().take(n).collect::<Vec<_>>().join(" ")
}
