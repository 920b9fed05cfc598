//! `article ID`: one article in full (everyone).

use super::super::lex::{Lexer, echo, parse_id, unexpected};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Family, Form, Invocation, OptSpec};

const USAGE: &str = "article ID";

pub const FAMILY: Family = Family {
    word: "article",
    group: None,
    forms: &[Form {
        name: "article",
        usage: USAGE,
        summary: "show one article",
        description: "Show one article",
        role: Role::Member,
        options: &[OptSpec::integer("id", "The article's number (from search or latest)")
            .required()
            .range(1, None)],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let mut tokens = lexer.rest_tokens()?.into_iter();
    let Some(id) = tokens.next() else {
        return Err(ParseError::Missing { what: "ID", usage });
    };
    if let Some(extra) = tokens.next() {
        return Err(unexpected(&extra, usage));
    }
    let id = parse_id(&id.text).ok_or_else(|| ParseError::Invalid {
        problem: format!("article ID must be a number, got \"{}\"", echo(&id.text)),
        usage,
    })?;
    Ok(Command::Article { id })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Article { id: o.int("id").ok_or_else(|| "missing the article id".to_string())? })
}

// ---------------------------------------------------------------- apply

use crate::commands::execute::{Core, Ctx};
use crate::reply::{Reply, Tone};
use crate::store::StoreError;

impl Core {
    pub(crate) async fn article(&self, ctx: &Ctx, id: i64) -> Result<Reply, StoreError> {
        let feeds = self.store.community_feed_ids(ctx.community_id).await?;
        let Some(a) = self.store.article(id).await?.filter(|a| feeds.contains(&a.feed_id)) else {
            return Ok(Reply::error(format!(
                "No article #{id} in the feeds this community follows. Find ids with `search` or `latest`."
            )));
        };
        let names = self.feed_names(ctx).await?;
        let mut reply = Reply::public(Tone::Article, a.summary.clone())
            .with_title(a.title.clone().unwrap_or_else(|| "(untitled)".into()))
            .with_url(a.url.clone())
            .with_field("feed", names.name(a.feed_id).to_string())
            .with_published(a.published_at.unwrap_or(a.fetched_at))
            .with_footer(format!("#{}", a.id));
        reply.image_url = a.image_url.clone();
        Ok(reply)
    }
}
